r"""Section 15.3: permutation (randomization) inference for any two-sample statistic.

Under the sharp null hypothesis "the treatment changed nobody's value", the labels are the
only random thing: every split of the pooled values into n_c control and n_t treatment values
was as likely as the one the randomization produced. The p-value is the share of splits whose
statistic is at least as extreme as the observed one, exactly (all splits) or estimated from
random splits.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from abteach._records import Record, brief as _f
from abteach._validate import (
    as_generator,
    check_alternative,
    check_int,
    check_work,
    scalar_or_array,
)
from abteach.inference._core import _experiments, _sample
from abteach.inference._resampling import _BLOCK, _apply, _difference_in_means

__all__ = ["PermutationTest", "permutation_test"]

#: The most random splits :func:`permutation_test` draws.
MAX_PERMUTATIONS = 10_000_000
# Splits times values above which the splits are drawn at random rather than enumerated.
_EXACT_WORK = 2**24


@dataclass(frozen=True, repr=False, eq=False)
class PermutationTest(Record):
    """Result of :func:`permutation_test`; ``null_distribution`` holds the statistic of every
    split used (shape leading axes + (number of splits,))."""

    statistic: float | np.ndarray
    pvalue: float | np.ndarray
    null_distribution: np.ndarray
    n_splits: int
    exact: bool
    alternative: str

    def explain(self) -> str:
        """Plain-text description of the test with the numbers plugged in."""
        kind = "all" if self.exact else "random"
        plus = "" if self.exact else " (+1 in numerator and denominator)"
        head = f"Permutation test, {self.alternative}, {self.n_splits} {kind} splits{plus}"
        if np.ndim(self.statistic) != 0:
            share = float(np.mean(np.asarray(self.pvalue) < 0.05))
            return f"{np.size(self.statistic)} experiments. {head}; share p < 0.05: {_f(share)}"
        return "\n".join([
            head,
            f"  observed statistic = {_f(self.statistic)}",
            f"  p-value = share of splits at least as extreme = {_f(self.pvalue)}",
        ])


def _all_splits(n: int, n_control: int, count: int) -> np.ndarray:
    """Every split of n pooled indices: rows are control indices then treatment indices."""
    chosen = np.fromiter(
        itertools.chain.from_iterable(itertools.combinations(range(n), n_control)),
        dtype=np.int64, count=count * n_control,
    ).reshape(count, n_control)
    rest = np.ones((count, n), dtype=bool)
    rest[np.arange(count)[:, None], chosen] = False
    return np.concatenate([chosen, np.nonzero(rest)[1].reshape(count, n - n_control)], axis=1)


def _null_distribution(statistic, pooled, n_control, lead, splits, n_random, generator):
    """The statistic on each split (given, or ``n_random`` random ones), in blocks."""
    n = pooled.shape[-1]
    count = n_random if splits is None else len(splits)
    block = max(1, _BLOCK // (int(np.prod(lead)) * n))
    out = np.empty(lead + (count,))
    for start in range(0, count, block):
        size = min(block, count - start)
        if splits is None:
            index = generator.permuted(np.broadcast_to(np.arange(n), lead + (size, n)), axis=-1)
        else:
            index = np.broadcast_to(splits[start:start + size], lead + (size, n))
        data = np.take_along_axis(np.broadcast_to(pooled, lead + (n,))[..., None, :], index, -1)
        out[..., start:start + size] = _apply(
            statistic, data[..., :n_control], data[..., n_control:], lead + (size,))
    return out


def _pvalue(null, observed, alternative: str, exact: bool):
    """scipy.stats.permutation_test's p-value: counts with a relative tolerance of 100 eps;
    Monte Carlo adds 1 to both counts; two-sided is twice the smaller one-sided p, at most 1."""
    gamma = np.abs(observed * 100 * np.finfo(float).eps)[..., None]
    adjust = 0 if exact else 1
    total = null.shape[-1] + adjust
    greater = (np.count_nonzero(null >= observed[..., None] - gamma, axis=-1) + adjust) / total
    less = (np.count_nonzero(null <= observed[..., None] + gamma, axis=-1) + adjust) / total
    if alternative == "larger":
        return greater
    if alternative == "smaller":
        return less
    return np.minimum(1.0, 2 * np.minimum(greater, less))


def permutation_test(
    control,
    treatment,
    *,
    statistic: Callable | None = None,
    n_resamples: int = 9999,
    alternative: str = "two-sided",
    rng=None,
) -> PermutationTest:
    r"""Permutation (randomization) test of two independent samples.

    Pool the :math:`N = n_c + n_t` values; for each split of them into n_c "control" and n_t
    "treatment" values compute the statistic :math:`T^*` (default: difference in means,
    treatment minus control). With :math:`T` the observed statistic,

    .. math::

        p_{\text{larger}} = \frac{\#\{T^* \ge T\} + a}{B + a}, \qquad
        p_{\text{two-sided}} = \min(1,\ 2 \min(p_{\text{larger}}, p_{\text{smaller}})),

    over all :math:`B = \binom{N}{n_c}` splits (exact, a = 0) when there are at most
    ``n_resamples`` of them (and B N is at most 2**24), otherwise over ``n_resamples``
    random splits (Monte Carlo,
    a = 1, which keeps the test valid: P(p <= alpha) <= alpha under the null). This is the
    convention of ``scipy.stats.permutation_test``; here experiments on leading axes are
    tested at once.

    The test is exact for the sharp null "treatment changed no unit's value"; with the
    difference in means it is also approximately valid for "equal means" when the arms have
    similar spreads and sizes (Romano 1990).

    Parameters
    ----------
    control, treatment : array of float
        Observations along the last axis (at least 2 per arm); leading axes are separate
        experiments and broadcast together.
    statistic : callable, optional
        ``statistic(control, treatment)`` reducing the last axis, as for
        :func:`bootstrap_ci`.
    n_resamples : int
        Random splits when the exact enumeration would need more (1 to 10,000,000).
    alternative : {"two-sided", "larger", "smaller"}
    rng : numpy.random.Generator or int, optional
        Needed only for the Monte Carlo version.

    Returns
    -------
    PermutationTest
        ``statistic``, ``pvalue``, ``null_distribution``, ``n_splits``, ``exact``.

    References
    ----------
    Fisher, R. A. (1935), *The Design of Experiments*, Oliver & Boyd, section 21.
    Phipson, B. & Smyth, G. K. (2010), Permutation p-values should never be zero,
    *Statistical Applications in Genetics and Molecular Biology* 9(1), article 39.
    Romano, J. P. (1990), On the behavior of randomization tests without a group invariance
    assumption, *JASA* 85, 686-692.

    Examples
    --------
    >>> permutation_test([1.0, 2.0, 3.0], [4.0, 5.0, 6.0], alternative="larger").pvalue
    0.05
    """
    alternative = check_alternative(alternative)
    n_resamples = check_int("n_resamples", n_resamples, minimum=1, maximum=MAX_PERMUTATIONS)
    if statistic is None:
        statistic = _difference_in_means
    elif not callable(statistic):
        raise TypeError(f"statistic must be a function of (control, treatment), got {statistic!r}")
    c, t = _sample("control", control), _sample("treatment", treatment)
    lead = _experiments("control", c, "treatment", t)
    n_control, n = c.shape[-1], c.shape[-1] + t.shape[-1]
    splits = math.comb(n, n_control)
    exact = splits <= n_resamples and splits * n <= _EXACT_WORK
    count = splits if exact else n_resamples
    check_work("splits * (n_control + n_treatment)" + (" * experiments" if lead else ""),
               float(count) * float(np.prod(lead)) * n)
    if not exact and rng is None:
        raise ValueError(
            f"rng is needed: {n_control} + {n - n_control} values have {splits} splits, too "
            f"many to enumerate with n_resamples = {n_resamples}, so random splits are drawn"
        )
    pooled = np.concatenate([np.broadcast_to(c, lead + c.shape[-1:]),
                             np.broadcast_to(t, lead + t.shape[-1:])], axis=-1)
    observed = _apply(statistic, c, t, lead)
    table = _all_splits(n, n_control, count) if exact else None
    generator = None if exact else as_generator(rng)
    null = _null_distribution(statistic, pooled, n_control, lead, table, n_resamples, generator)
    return PermutationTest(
        statistic=scalar_or_array(observed),
        pvalue=scalar_or_array(_pvalue(null, observed, alternative, exact)),
        null_distribution=null,
        n_splits=count,
        exact=exact,
        alternative=alternative,
    )
