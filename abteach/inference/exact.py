r"""Section 15.4: exact tests for rare conversions (Fisher's conditional, Barnard's
unconditional).

With a handful of conversions per arm the z-test's normal approximation is poor. Both tests
here compute the p-value from the exact distribution of 2x2 tables under the null hypothesis
p_c = p_t: Fisher's conditions on the total number of conversions (hypergeometric), Barnard's
does not and takes the largest p-value over the unknown common rate (the nuisance parameter).
Treatment minus control; "larger" means the treatment's rate is higher.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from abteach._records import Record, brief as _f
from abteach._validate import broadcast, check_alternative, check_count, check_work, scalar_or_array
from abteach.inference._core import _check_at_most

__all__ = ["EXACT_METHODS", "ExactTest", "barnard_exact_test", "fisher_exact_test"]

EXACT_METHODS = ("fisher", "barnard")
# Points of the grid over the common rate pi before Barnard's maximum is refined.
_GRID = 257
# Relative tolerance of "at least as extreme" (tables whose statistics tie up to rounding).
_TIE = 1e-7


@dataclass(frozen=True, repr=False, eq=False)
class ExactTest(Record):
    """Result of :func:`fisher_exact_test` or :func:`barnard_exact_test`.

    ``statistic`` is the odds ratio (Fisher) or the pooled z statistic (Barnard);
    ``nuisance`` is the common rate at which Barnard's p-value is largest (None for Fisher).
    """

    statistic: float | np.ndarray
    pvalue: float | np.ndarray
    effect: float | np.ndarray
    nuisance: float | np.ndarray | None
    method: str
    alternative: str

    def explain(self) -> str:
        """Plain-text description of the test with the numbers plugged in."""
        if np.ndim(self.pvalue) != 0:
            share = float(np.mean(np.asarray(self.pvalue) < 0.05))
            return (f"{np.size(self.pvalue)} tables. {self.method} exact test, "
                    f"{self.alternative}; share p < 0.05: {_f(share)}")
        if self.method == "fisher":
            how = ("  p-value = hypergeometric probability (total conversions fixed) of the "
                   "tables at least as extreme")
            stat = f"  odds ratio = {_f(self.statistic)}"
        else:
            how = (f"  p-value = max over the common rate pi of P(tables with |z| at least as "
                   f"large); largest at pi = {_f(self.nuisance)}")
            stat = f"  pooled z = {_f(self.statistic)}"
        return "\n".join([f"{self.method.capitalize()} exact test, {self.alternative}", stat,
                          f"  difference of rates = {_f(self.effect)}", how,
                          f"  p = {_f(self.pvalue)}"])


def _tables(x_control, n_control, x_treatment, n_treatment):
    """Checked, broadcast counts (int arrays)."""
    x_c = check_count("x_control", x_control)
    n_c = check_count("n_control", n_control, minimum=1)
    x_t = check_count("x_treatment", x_treatment)
    n_t = check_count("n_treatment", n_treatment, minimum=1)
    arrays = broadcast(x_control=x_c, n_control=n_c, x_treatment=x_t, n_treatment=n_t)
    _check_at_most("x_control", arrays[0], "n_control", arrays[1])
    _check_at_most("x_treatment", arrays[2], "n_treatment", arrays[3])
    return [a.astype(np.int64) for a in arrays]


def _per_table(function, tables):
    """Apply ``function(x_c, n_c, x_t, n_t) -> (pvalue, nuisance)`` once per distinct table."""
    rows = np.stack([t.ravel() for t in tables], axis=1)
    unique, inverse = np.unique(rows, axis=0, return_inverse=True)
    values = np.array([function(*map(int, row)) for row in unique], dtype=float)
    shape = tables[0].shape
    return values[inverse.ravel(), 0].reshape(shape), values[inverse.ravel(), 1].reshape(shape)


def _log_comb(n, k):
    return special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)


def _fisher(x_c, n_c, x_t, n_t, alternative):
    """Fisher's p-value of one table: X_t ~ Hypergeometric(N, m, n_t) given m conversions."""
    total, m = n_c + n_t, x_c + x_t
    support = np.arange(max(0, n_t - (total - m)), min(n_t, m) + 1)
    pmf = np.exp(_log_comb(n_t, support) + _log_comb(n_c, m - support) - _log_comb(total, m))
    if alternative == "larger":
        kept = support >= x_t
    elif alternative == "smaller":
        kept = support <= x_t
    else:
        kept = pmf <= pmf[support == x_t][0] * (1 + _TIE)
    return min(1.0, pmf[kept].sum()), np.nan


def _pooled_z(x_c, n_c, x_t, n_t):
    """The pooled z statistic of every table (x_c, x_t) of the sample space; 0 where the two
    rates are equal (including no conversions at all)."""
    p_c, p_t = x_c / n_c, x_t / n_t
    p = (x_c + x_t) / (n_c + n_t)
    variance = p * (1 - p) * (1 / n_c + 1 / n_t)
    z = (p_t - p_c) / np.sqrt(np.where(variance > 0, variance, 1.0))
    return np.where(p_t == p_c, 0.0, z)


def _barnard(x_c, n_c, x_t, n_t, alternative):
    """Barnard's p-value of one table: max over pi of P_pi(tables at least as extreme)."""
    grid_c, grid_t = np.arange(n_c + 1)[:, None], np.arange(n_t + 1)[None, :]
    z = _pooled_z(grid_c, n_c, grid_t, n_t)
    observed = z[x_c, x_t]
    tie = _TIE * max(abs(observed), 1e-300)
    if alternative == "larger":
        extreme = z >= observed - tie
    elif alternative == "smaller":
        extreme = z <= observed + tie
    else:
        extreme = np.abs(z) >= abs(observed) - tie
    totals, log_weight = _weights_by_total(
        (grid_c + grid_t + np.zeros_like(z, dtype=np.int64))[extreme],
        (_log_comb(n_c, grid_c) + _log_comb(n_t, grid_t))[extreme],
    )

    def pvalue(pi):
        pi = np.atleast_1d(pi)[:, None]
        log_p = log_weight + special.xlogy(totals, pi) + special.xlog1py(n_c + n_t - totals, -pi)
        return np.exp(special.logsumexp(log_p, axis=-1))

    grid = np.linspace(0.0, 1.0, _GRID)
    values = pvalue(grid)
    best = int(np.argmax(values))
    low, high = grid[max(best - 1, 0)], grid[min(best + 1, _GRID - 1)]
    refined = optimize.minimize_scalar(lambda pi: -pvalue(pi)[0], bounds=(low, high),
                                       method="bounded", options={"xatol": 1e-10})
    if -refined.fun > values[best]:
        return min(1.0, -refined.fun), float(refined.x)
    return min(1.0, float(values[best])), float(grid[best])


def _weights_by_total(totals, log_comb):
    """P_pi depends on a table only through its total s = k_c + k_t: the log of the summed
    binomial coefficients per s (each s scaled by its own largest term, so none underflows)."""
    order = np.argsort(totals, kind="stable")
    totals, log_comb = totals[order], log_comb[order]
    starts = np.flatnonzero(np.r_[True, np.diff(totals) > 0])
    top = np.maximum.reduceat(log_comb, starts)
    sizes = np.diff(np.r_[starts, totals.size])
    summed = np.add.reduceat(np.exp(log_comb - np.repeat(top, sizes)), starts)
    return totals[starts], top + np.log(summed)


def _effect(x_c, n_c, x_t, n_t):
    return x_t / n_t - x_c / n_c


def fisher_exact_test(x_control, n_control, x_treatment, n_treatment, *,
                      alternative: str = "two-sided") -> ExactTest:
    r"""Fisher's exact test of two conversion rates (conditional on the total conversions).

    Given :math:`m = x_c + x_t` conversions among :math:`N = n_c + n_t` units, under
    :math:`H_0: p_c = p_t` the treatment's count is hypergeometric,

    .. math:: P(X_t = k \mid m) = \binom{n_t}{k}\binom{n_c}{m - k} \Big/ \binom{N}{m}.

    One-sided p-values sum the upper (``"larger"``) or lower tail; the two-sided p-value
    sums the probabilities of every k no more probable than the observed one (relative
    tolerance 1e-7), the convention of R's ``fisher.test`` and ``scipy.stats.fisher_exact``.

    Parameters
    ----------
    x_control, n_control, x_treatment, n_treatment : int or array of int
        Conversions and units per arm (arrays broadcast; each distinct table is computed
        once).
    alternative : {"two-sided", "larger", "smaller"}

    Returns
    -------
    ExactTest
        ``statistic`` (the sample odds ratio x_t (n_c - x_c) / (x_c (n_t - x_t))), ``pvalue``,
        ``effect`` (difference of rates).

    References
    ----------
    Fisher, R. A. (1935), *The Design of Experiments*, Oliver & Boyd, section 2 (the lady
    tasting tea). Agresti, A. (2013), *Categorical Data Analysis*, 3rd ed., Wiley, section 3.5.

    Examples
    --------
    >>> round(fisher_exact_test(1, 4, 3, 4, alternative="larger").pvalue, 4)
    0.2429
    """
    alternative = check_alternative(alternative)
    tables = _tables(x_control, n_control, x_treatment, n_treatment)
    check_work("conversions (the support of the hypergeometric)",
               float(np.max(tables[0] + tables[2])) + 1)
    pvalue, _ = _per_table(lambda *row: _fisher(*row, alternative), tables)
    x_c, n_c, x_t, n_t = (t.astype(float) for t in tables)
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = x_t * (n_c - x_c) / (x_c * (n_t - x_t))
    return ExactTest(
        statistic=scalar_or_array(odds),
        pvalue=scalar_or_array(pvalue),
        effect=scalar_or_array(_effect(x_c, n_c, x_t, n_t)),
        nuisance=None,
        method="fisher",
        alternative=alternative,
    )


def barnard_exact_test(x_control, n_control, x_treatment, n_treatment, *,
                       alternative: str = "two-sided") -> ExactTest:
    r"""Barnard's unconditional exact test of two conversion rates.

    Every table :math:`(k_c, k_t)` of the sample space gets the pooled z statistic
    :math:`z = (k_t/n_t - k_c/n_c) / \sqrt{\bar p(1-\bar p)(1/n_c + 1/n_t)}`,
    :math:`\bar p = (k_c + k_t)/N` (0 where the rates are equal). For a common rate
    :math:`\pi`,

    .. math::

        P_\pi = \sum_{(k_c, k_t):\ z \text{ as extreme as observed}}
        \binom{n_c}{k_c}\binom{n_t}{k_t}\pi^{k_c + k_t}(1 - \pi)^{N - k_c - k_t},

    and the p-value is :math:`\max_{\pi \in [0, 1]} P_\pi` (a grid of 257 points, then a
    bounded search around the best one). "As extreme": z at least the observed ("larger"),
    at most ("smaller"), or :math:`|z| \ge |z_{\text{obs}}|` (two-sided). This is
    ``scipy.stats.barnard_exact(..., pooled=True)``. It is never less powerful than Fisher's
    test in these examples and keeps its size at most alpha for every common rate.

    Parameters
    ----------
    x_control, n_control, x_treatment, n_treatment : int or array of int
        Conversions and units per arm; (n_c + 1)(n_t + 1) at most 2**25 tables.
    alternative : {"two-sided", "larger", "smaller"}

    Returns
    -------
    ExactTest
        ``statistic`` (pooled z), ``pvalue``, ``effect``, ``nuisance`` (the maximizing rate).

    References
    ----------
    Barnard, G. A. (1945), A new test for 2x2 tables, *Nature* 156, 177.
    Mehta, C. R. & Senchaudhuri, P. (2003), Conditional versus unconditional exact tests for
    comparing two binomials, Cytel Software Corporation.

    Examples
    --------
    >>> round(barnard_exact_test(7, 15, 12, 15, alternative="larger").pvalue, 4)
    0.0341
    """
    alternative = check_alternative(alternative)
    tables = _tables(x_control, n_control, x_treatment, n_treatment)
    largest = float(np.max((tables[1] + 1.0) * (tables[3] + 1.0)))
    check_work("(n_control + 1) * (n_treatment + 1) tables", largest * 8)
    pvalue, nuisance = _per_table(lambda *row: _barnard(*row, alternative), tables)
    x_c, n_c, x_t, n_t = tables
    return ExactTest(
        statistic=scalar_or_array(_pooled_z(x_c, n_c, x_t, n_t)),
        pvalue=scalar_or_array(pvalue),
        effect=scalar_or_array(_effect(x_c, n_c, x_t, n_t)),
        nuisance=scalar_or_array(nuisance),
        method="barnard",
        alternative=alternative,
    )
