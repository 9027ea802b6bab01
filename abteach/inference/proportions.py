r"""Section 5.2: conversion rates. The z-test of two proportions and the chi-square test of k.

=====================================  =========================================================
function                               question
=====================================  =========================================================
:func:`ztest_proportions`              do two conversion rates differ? (z-test, Wald intervals
                                       for the effect and the lift)
:func:`chisq_proportions`              do k conversion rates differ? (Pearson chi-square)
=====================================  =========================================================

Counts broadcast together: one test per element, so a chapter can analyze 10,000 simulated
experiments in one call. Treatment minus control, always.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from abteach._records import Record, brief as _f, format_number
from abteach._validate import (
    broadcast,
    check_alpha,
    check_alternative,
    check_bool,
    check_count,
    scalar_or_array,
)
from abteach.inference._core import (
    _batch_summary,
    _check_at_most,
    _counts_or_array,
    _interval,
    _level,
    _lift,
    _lift_lines,
    _log_lift_interval,
    _pformula,
    _pvalue,
    _symmetric_lift_interval,
    _verdict,
)

__all__ = ["ProportionsChiSquare", "ProportionsZTest", "chisq_proportions", "ztest_proportions"]


def _standard_errors(x_c, n_c, x_t, n_t, pooled: bool):
    """Return (SE used by the test statistic, unpooled SE used by the interval)."""
    p_c, p_t = x_c / n_c, x_t / n_t
    se_unpooled = np.sqrt(p_c * (1 - p_c) / n_c + p_t * (1 - p_t) / n_t)
    if not pooled:
        return se_unpooled, se_unpooled
    p = (x_c + x_t) / (n_c + n_t)
    return np.sqrt(p * (1 - p) * (1 / n_c + 1 / n_t)), se_unpooled


def _z_and_pvalue(effect, se, alternative: str):
    """z = effect / SE and its p-value, with the limits of the degenerate SE = 0 case.

    SE = 0 happens when no unit varies: z is 0 with p-value 1 for a zero effect, and +inf or
    -inf (the limit) for a nonzero one (unpooled SE only; see Notes of ztest_proportions).
    """
    degenerate = se == 0
    limit = np.where(effect == 0, 0.0, np.copysign(np.inf, effect))
    statistic = np.where(degenerate, limit, effect / np.where(degenerate, 1.0, se))
    pvalue = np.where(degenerate & (effect == 0), 1.0, _pvalue(statistic, alternative))
    return statistic, pvalue


def _proportion_lift_interval(p_c, var_c, p_t, var_t, alternative: str, alpha: float):
    """Log-scale lift interval; where an arm has no conversion it is the whole range (-1, inf)."""
    defined, low, high = _log_lift_interval(p_c, var_c, p_t, var_t, alternative, alpha)
    return np.where(defined, low, -1.0), np.where(defined, high, np.inf)


def _lift_note(p_control: float, p_treatment: float) -> list[str]:
    """explain() lines for a lift without a finite estimate (no control conversion)."""
    if p_control > 0:
        return []
    if p_treatment == 0:
        return ["  note: no unit converted in either arm; the lift 0/0 - 1 is reported as 0 "
                "and its intervals are the whole range"]
    return ["  note: no control unit converted, so the lift p_t / 0 - 1 has no finite "
            "estimate (reported as +inf) and its intervals are the whole range; report the "
            "effect (a difference of rates) instead"]


@dataclass(frozen=True, repr=False, eq=False)
class ProportionsZTest(Record):
    """Result of :func:`ztest_proportions`.

    Every numeric field is a float (or int for counts) when the counts were scalars and a
    numpy array of the broadcast shape when they were arrays. ``se`` is the unpooled standard
    error of the effect, the one behind ``ci_low``/``ci_high`` (the statistic uses the pooled
    one when ``pooled`` is True); ``lift_ci_*`` is the log-scale lift interval and
    ``lift_ci_*_symmetric`` the delta method on the ratio itself, as in :class:`MeansTTest`.
    """

    statistic: float | np.ndarray
    pvalue: float | np.ndarray
    effect: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    se: float | np.ndarray
    p_control: float | np.ndarray
    p_treatment: float | np.ndarray
    lift: float | np.ndarray
    lift_ci_low: float | np.ndarray
    lift_ci_high: float | np.ndarray
    lift_ci_low_symmetric: float | np.ndarray
    lift_ci_high_symmetric: float | np.ndarray
    x_control: int | np.ndarray
    n_control: int | np.ndarray
    x_treatment: int | np.ndarray
    n_treatment: int | np.ndarray
    alternative: str
    alpha: float
    pooled: bool

    def explain(self) -> str:
        """Plain-text derivation with the numbers plugged in (a summary for array results)."""
        kind = "pooled" if self.pooled else "unpooled"
        level = _level(self.alpha)
        pformula = _pformula(self.alternative, "Phi", "z")
        head = (
            f"Two-proportion z-test ({kind} SE), {self.alternative}, alpha = "
            f"{format_number(self.alpha, 4)}; H0: p_treatment = p_control"
        )
        if np.ndim(self.statistic) != 0:
            return _batch_summary(
                head, f"z = (p_treatment - p_control) / SE, p-value = {pformula}",
                self.pvalue, self.alpha, self.effect,
            )

        x_c, n_c, x_t, n_t = self.x_control, self.n_control, self.x_treatment, self.n_treatment
        se_test, _ = _standard_errors(x_c, n_c, x_t, n_t, self.pooled)
        var_c = self.p_control * (1 - self.p_control) / n_c
        var_t = self.p_treatment * (1 - self.p_treatment) / n_t
        if self.pooled:
            pool = (x_c + x_t) / (n_c + n_t)
            se_lines = [
                f"  pooled rate = ({x_c} + {x_t}) / ({n_c} + {n_t}) = {_f(pool)}",
                f"  SE under H0 = sqrt({_f(pool)} * (1 - {_f(pool)}) * (1/{n_c} + 1/{n_t}))"
                f" = {_f(se_test)}",
            ]
        else:
            se_lines = [
                "  SE = sqrt(p_c (1 - p_c) / n_c + p_t (1 - p_t) / n_t)"
                f" = {_f(se_test)}",
            ]
        if se_test == 0:
            z_line = (
                "  SE = 0 (each arm all-or-nothing; see Notes of ztest_proportions): "
                f"z = {_f(self.statistic)}"
            )
            if self.effect == 0:
                pformula = "1 when no unit varies"
        else:
            z_line = f"  z           = {_f(self.effect)} / {_f(se_test)} = {_f(self.statistic)}"
        return "\n".join([
            head,
            f"  p_control   = {x_c} / {n_c} = {_f(self.p_control)}",
            f"  p_treatment = {x_t} / {n_t} = {_f(self.p_treatment)}",
            f"  effect      = p_treatment - p_control = {_f(self.effect)}",
            *se_lines,
            z_line,
            f"  p-value     = {pformula} = {_f(self.pvalue)}",
            f"  {level} CI for the effect (Wald, unpooled SE {_f(self.se)}): "
            f"[{_f(self.ci_low)}, {_f(self.ci_high)}]",
            *_lift_lines(self, "p_c", "p_t", var_c, var_t),
            *_lift_note(self.p_control, self.p_treatment),
            _verdict(self.pvalue, self.alpha),
        ])


def ztest_proportions(
    x_control,
    n_control,
    x_treatment,
    n_treatment,
    *,
    alternative: str = "two-sided",
    pooled: bool = True,
    alpha: float = 0.05,
) -> ProportionsZTest:
    r"""Two-sample z-test for a difference in conversion rates, with Wald intervals.

    With :math:`\hat p_c = x_c / n_c` and :math:`\hat p_t = x_t / n_t`, the effect is
    :math:`\hat\Delta = \hat p_t - \hat p_c` and the statistic is
    :math:`z = \hat\Delta / SE`, where the pooled standard error (``pooled=True``) is

    .. math:: SE_0 = \sqrt{\bar p (1 - \bar p) (1/n_c + 1/n_t)}, \qquad
              \bar p = (x_c + x_t) / (n_c + n_t),

    and the unpooled one (``pooled=False``) is
    :math:`SE = \sqrt{\hat p_c (1 - \hat p_c)/n_c + \hat p_t (1 - \hat p_t)/n_t}`.
    With ``pooled=True`` this is Pearson's chi-square test of the 2x2 table: ``z**2``
    equals the X-squared of R's ``prop.test(correct = FALSE)`` (and of
    :func:`chisq_proportions` with two groups).

    The confidence interval for the effect is always the Wald interval with the unpooled
    SE, :math:`\hat\Delta \pm z_{1-\alpha/2} SE` for ``"two-sided"``. For a one-sided
    alternative it is the matching one-sided bound at confidence 1 - alpha:
    ``"larger"`` gives :math:`[\hat\Delta - z_{1-\alpha} SE, 1]` and ``"smaller"``
    gives :math:`[-1, \hat\Delta + z_{1-\alpha} SE]`. Bounds are clipped to [-1, 1], the
    range of a difference of proportions, as R's ``prop.test`` does.

    The relative lift :math:`\hat p_t / \hat p_c - 1` gets its interval from the delta
    method applied to the log of the ratio (Katz et al., 1978):
    :math:`\log(\hat p_t / \hat p_c) \pm z\,SE_{\log}` with
    :math:`SE_{\log}^2 = (1 - \hat p_t)/(n_t \hat p_t) + (1 - \hat p_c)/(n_c \hat p_c)`,
    mapped back by :math:`\exp(\cdot) - 1` and sided like the effect's (the open side is
    -1 or +inf). On the log scale the estimate is nearly symmetric, so one-sided bounds
    keep their level: with p = 0.1 and 2,000 units per arm the exact coverage of the 95%
    one-sided bounds is 95.0% on the log scale, but 96.3% and 93.7% for the delta method
    applied to the ratio itself.
    The latter, :math:`\text{lift} \pm z \sqrt{v_t/\hat p_c^2 + \hat p_t^2 v_c/\hat p_c^4}` with
    :math:`v = \hat p (1 - \hat p)/n` (Kohavi, Tang & Xu, 2020, ch. 18), is reported too, as
    ``lift_ci_low_symmetric``/``lift_ci_high_symmetric``, for comparison.

    Parameters
    ----------
    x_control, n_control, x_treatment, n_treatment : int or array of int
        Conversions and units per arm. Arrays broadcast together, one test per element.
    alternative : {"two-sided", "larger", "smaller"}
        "larger" means H1: p_treatment > p_control.
    pooled : bool
        Pooled (default, the classical test) or unpooled SE for the statistic.
    alpha : float
        Significance level; the interval has confidence 1 - alpha.

    Returns
    -------
    ProportionsZTest
        ``statistic``, ``pvalue``, ``effect``, ``ci_low``, ``ci_high``, ``se`` (the
        unpooled SE of the interval), ``p_control``, ``p_treatment``, ``lift``,
        ``lift_ci_low``, ``lift_ci_high``, ``lift_ci_low_symmetric``,
        ``lift_ci_high_symmetric``, the counts, ``alternative``, ``alpha``, ``pooled`` and
        :meth:`~ProportionsZTest.explain`.

    Notes
    -----
    Degenerate data never give NaN:

    * When the SE of the statistic is 0 because every unit converted, or none did, in
      both arms, the effect is 0 and the result is ``statistic = 0`` and ``pvalue = 1``
      for every alternative. Under H0 with a common rate of 0 (or 1) the difference is 0
      with certainty, so a difference at least as extreme as the observed 0, in either
      direction, has probability 1. The Wald interval collapses to the point 0.
    * With ``pooled=False`` only, 0/n in one arm against m/m in the other also has SE = 0
      with a nonzero effect: the statistic is then +inf or -inf (its limit) and the
      interval a single point. This over-confidence is a known weakness of the unpooled
      Wald test for tiny samples and the reason ``pooled=True`` is the default.
    * When no control unit converted the lift :math:`\hat p_t / 0 - 1` has no finite
      estimate. It is reported as its limit, ``lift = +inf``, when some treatment unit
      converted, and as 0 when no unit converted in either arm (0/0: no evidence of any
      change); never NaN, so arrays of many experiments can be filtered with
      ``np.isfinite(res.lift)``. Its intervals say "no information": the log-scale one is
      (-1, +inf) whenever either arm has no conversion, the symmetric one (-inf, +inf)
      when the control has none. :meth:`~ProportionsZTest.explain` adds a note; report
      the effect (the difference of rates), which stays finite, instead.

    References
    ----------
    Agresti, A. (2013), *Categorical Data Analysis*, 3rd ed., sections 3.1 and 3.2.
    Katz, D., Baptista, J., Azen, S. P. & Pike, M. C. (1978), Obtaining confidence
    intervals for the risk ratio in cohort studies, *Biometrics* 34, 469-474.
    Kohavi, Tang & Xu (2020), *Trustworthy Online Controlled Experiments*, ch. 18
    (variance of relative differences by the delta method).

    Examples
    --------
    MineThatData: Mens E-Mail (267 of 21,307 bought) against No E-Mail (122 of 21,306).

    >>> res = ztest_proportions(122, 21306, 267, 21307)
    >>> print(f"{res.effect:.5f} {res.statistic:.3f} {res.lift:.3f}")
    0.00681 7.385 1.188
    """
    alternative = check_alternative(alternative)
    pooled = check_bool("pooled", pooled)
    alpha = check_alpha(alpha)
    x_c = check_count("x_control", x_control)
    n_c = check_count("n_control", n_control, minimum=1)
    x_t = check_count("x_treatment", x_treatment)
    n_t = check_count("n_treatment", n_treatment, minimum=1)
    x_c, n_c, x_t, n_t = broadcast(
        x_control=x_c, n_control=n_c, x_treatment=x_t, n_treatment=n_t
    )
    _check_at_most("x_control", x_c, "n_control", n_c)
    _check_at_most("x_treatment", x_t, "n_treatment", n_t)

    p_c, p_t = x_c / n_c, x_t / n_t
    var_c, var_t = p_c * (1 - p_c) / n_c, p_t * (1 - p_t) / n_t
    effect = p_t - p_c
    se_test, se = _standard_errors(x_c, n_c, x_t, n_t, pooled)  # SE of z, SE of the CI
    statistic, pvalue = _z_and_pvalue(effect, se_test, alternative)
    ci_low, ci_high = np.clip(_interval(effect, se, alternative, alpha), -1, 1)
    lift = _lift(p_c, p_t)
    lift_low, lift_high = _proportion_lift_interval(p_c, var_c, p_t, var_t, alternative, alpha)
    sym_low, sym_high = _symmetric_lift_interval(p_c, var_c, p_t, var_t, alternative, alpha)
    return ProportionsZTest(
        statistic=scalar_or_array(statistic),
        pvalue=scalar_or_array(pvalue),
        effect=scalar_or_array(effect),
        ci_low=scalar_or_array(ci_low),
        ci_high=scalar_or_array(ci_high),
        se=scalar_or_array(se),
        p_control=scalar_or_array(p_c),
        p_treatment=scalar_or_array(p_t),
        lift=scalar_or_array(lift),
        lift_ci_low=scalar_or_array(lift_low),
        lift_ci_high=scalar_or_array(lift_high),
        lift_ci_low_symmetric=scalar_or_array(sym_low),
        lift_ci_high_symmetric=scalar_or_array(sym_high),
        x_control=_counts_or_array(x_c),
        n_control=_counts_or_array(n_c),
        x_treatment=_counts_or_array(x_t),
        n_treatment=_counts_or_array(n_t),
        alternative=alternative,
        alpha=alpha,
        pooled=pooled,
    )


# --------------------------------------------------------------------------------------------
# k proportions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class ProportionsChiSquare(Record):
    """Result of :func:`chisq_proportions`.

    ``statistic``, ``pvalue`` and ``pooled_proportion`` have the shape of the leading axes
    (a float for one table); the per-group fields keep the groups on the last axis.
    """

    statistic: float | np.ndarray
    pvalue: float | np.ndarray
    df: int
    proportions: np.ndarray
    pooled_proportion: float | np.ndarray
    expected_successes: np.ndarray
    successes: np.ndarray
    trials: np.ndarray
    alpha: float

    def explain(self) -> str:
        """Plain-text derivation with the numbers plugged in (a summary for many tables)."""
        head = (
            f"Pearson chi-square test of {self.successes.shape[-1]} proportions, df = "
            f"{self.df}, alpha = {format_number(self.alpha, 4)}; H0: every group converts "
            "at the same rate"
        )
        formula = (
            "X^2 = sum_i (x_i - n_i p)^2 / (n_i p (1 - p)), p the pooled rate; "
            f"p-value = 1 - F_chi2(X^2; {self.df})"
        )
        if np.ndim(self.statistic) != 0:
            spread = np.ptp(self.proportions, axis=-1)
            return _batch_summary(head, formula, self.pvalue, self.alpha, spread).replace(
                "mean effect", "mean range of the proportions"
            )
        p = self.pooled_proportion
        lines = [
            head,
            f"  pooled rate p = {int(self.successes.sum())} / {int(self.trials.sum())} = {_f(p)}",
        ]
        spread = p * (1 - p)
        for i, (x, n, e) in enumerate(zip(self.successes, self.trials, self.expected_successes)):
            term = (x - e) ** 2 / (n * spread) if spread > 0 else 0.0
            lines.append(
                f"  group {i + 1}: {int(x)} / {int(n)} = {_f(x / n)}, expected {_f(e)}, "
                f"(x - e)^2 / (n p (1 - p)) = {_f(term)}"
            )
        lines += [
            f"  X^2 = {_f(self.statistic)}, df = {self.df}",
            f"  p-value = 1 - F_chi2({_f(self.statistic)}; {self.df}) = {_f(self.pvalue)}",
            _verdict(self.pvalue, self.alpha),
        ]
        return "\n".join(lines)


def chisq_proportions(successes, trials, *, alpha: float = 0.05) -> ProportionsChiSquare:
    r"""Pearson chi-square test that k groups share one conversion rate.

    With successes :math:`x_i` of :math:`n_i` trials and the pooled rate
    :math:`\bar p = \sum x_i / \sum n_i`, the statistic of the k x 2 table is

    .. math:: X^2 = \sum_{i=1}^k \frac{(x_i - n_i \bar p)^2}{n_i \bar p (1 - \bar p)},

    referred to a chi-square distribution with k - 1 degrees of freedom. This is R's
    ``prop.test(successes, trials)`` for k > 2 groups (R applies no continuity correction
    then), and for two groups it is the square of the pooled :func:`ztest_proportions`
    statistic. It lives here, beside the z-test, because it tests the same hypothesis on the
    same kind of data (conversions of several arms); the sample-ratio check of
    :mod:`abteach.srm` is a different, one-way, goodness-of-fit test on the arm sizes.

    Parameters
    ----------
    successes, trials : array of int, shape (..., k)
        Conversions and units of each group, groups along the last axis (k >= 2). Leading
        axes are separate tables (experiments, metrics).
    alpha : float
        Level used by ``explain()``'s verdict.

    Returns
    -------
    ProportionsChiSquare
        ``statistic``, ``pvalue``, ``df``, ``proportions``, ``pooled_proportion``,
        ``expected_successes``, the counts and :meth:`~ProportionsChiSquare.explain`.

    Notes
    -----
    When no unit converted (or every unit did) in every group, no group varies: the result
    is ``statistic = 0`` and ``pvalue = 1``, as for :func:`ztest_proportions`. The
    chi-square approximation wants expected counts of about 5 or more in every cell.

    References
    ----------
    Agresti, A. (2013), *Categorical Data Analysis*, 3rd ed., section 3.2.
    R Core Team, ``?prop.test`` (package stats).

    Examples
    --------
    R's ``?prop.test`` example: smokers among patients of four groups.

    >>> res = chisq_proportions([83, 90, 129, 70], [86, 93, 136, 82])
    >>> print(f"{res.statistic:.1f} {res.df} {res.pvalue:.6f}")
    12.6 3 0.005585
    """
    alpha = check_alpha(alpha)
    x, n = broadcast(
        successes=check_count("successes", successes),
        trials=check_count("trials", trials, minimum=1),
    )
    if x.ndim == 0 or x.shape[-1] < 2:
        raise ValueError(
            "successes and trials must hold at least two groups along their last axis, got "
            f"shape {x.shape}"
        )
    _check_at_most("successes", x, "trials", n)
    pooled = x.sum(axis=-1) / n.sum(axis=-1)
    expected = n * pooled[..., None]
    spread = pooled * (1 - pooled)
    degenerate = spread == 0
    statistic = np.sum((x - expected) ** 2 / n, axis=-1) / np.where(degenerate, 1.0, spread)
    statistic = np.where(degenerate, 0.0, statistic)
    df = x.shape[-1] - 1
    pvalue = np.where(degenerate, 1.0, stats.chi2.sf(statistic, df))
    return ProportionsChiSquare(
        statistic=scalar_or_array(statistic),
        pvalue=scalar_or_array(pvalue),
        df=df,
        proportions=x / n,
        pooled_proportion=scalar_or_array(pooled),
        expected_successes=expected,
        successes=np.array(x),
        trials=np.array(n),
        alpha=alpha,
    )
