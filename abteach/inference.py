"""Analysing a finished experiment: tests and confidence intervals.

Tests on sufficient statistics (counts, or means with standard deviations) come first; the
versions on raw per-user arrays compute those statistics and call them. Every function accepts
numpy arrays so that a chapter can analyse 10,000 simulated experiments (or 10 metrics x 4
variants) in one call: for arguments that are sufficient statistics the arrays broadcast
together, and for raw data the observations lie along the LAST axis (leading axes are
experiments). Treatment minus control, always.

=====================================  =========================================================
function                               question
=====================================  =========================================================
:func:`ztest_proportions`              do two conversion rates differ? (z-test)
:func:`chisq_proportions`              do k conversion rates differ? (Pearson chi-square)
:func:`welch_ttest_from_stats`,        do two means differ? (Welch, or Student with
:func:`welch_ttest`                    ``equal_var=True``)
:func:`ratio_metric_test`              do two ratio metrics (clicks per page view) differ?
                                       (delta method, the user as the unit)
:func:`bootstrap_ci`                   interval for any two-sample statistic (percentile, BCa)
:func:`min_sample_size_for_normality`  is n large enough for the normal approximation?
                                       (Kohavi's 355 s^2 rule)
=====================================  =========================================================

Relative effects. Every two-arm test reports the lift ``treatment / control - 1``. Its
``lift_ci_low`` / ``lift_ci_high`` interval is the delta method applied to the LOG of the ratio,
``log(t / c) -/+ z sqrt(Var(t)/t^2 + Var(c)/c^2)``, exponentiated: it is asymmetric, stays
above -100%, and keeps the level of one-sided bounds. The mean and ratio tests also report the
symmetric interval ``lift -/+ z SE`` with ``SE^2 = Var(t)/c^2 + t^2 Var(c)/c^4`` (the delta
method applied to the ratio itself, Kohavi, Tang & Xu (2020) ch. 18) as
``lift_ci_low_symmetric`` / ``lift_ci_high_symmetric``; both use the normal quantile z.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import special, stats

from abteach._records import Record, brief as _f, format_number
from abteach._validate import (
    as_float_array,
    as_generator,
    broadcast,
    check_alpha,
    check_alternative,
    check_choice,
    check_count,
    check_int,
    check_nonnegative,
    scalar_or_array,
)

__all__ = [
    "BOOTSTRAP_METHODS",
    "RATIO_METHODS",
    "BootstrapCI",
    "MeansTTest",
    "ProportionsChiSquare",
    "ProportionsZTest",
    "RatioMetricTest",
    "bootstrap_ci",
    "chisq_proportions",
    "lift_interval",
    "NORMALITY_FACTOR",
    "min_sample_size_for_normality",
    "ratio_metric_test",
    "welch_ttest",
    "welch_ttest_from_stats",
    "ztest_proportions",
]

BOOTSTRAP_METHODS = ("bca", "percentile")
RATIO_METHODS = ("delta", "naive")

#: Kohavi, Tang & Xu (2020) ch. 17 — the mean of n units is close enough to normal when
#: n > 355 s^2, s the skewness of one unit's value.
NORMALITY_FACTOR = 355

# A standard error at or below this many machine epsilons times the larger |estimate| means
# the data do not vary (the rule of R's t.test, "data are essentially constant").
_FLAT = 10 * np.finfo(float).eps
# Elements per block of bootstrap resamples or jackknife rows (32 MB of float64).
_BLOCK = 2**22


# --------------------------------------------------------------------------------------------
# Shared checks
# --------------------------------------------------------------------------------------------


def _counts_or_array(array: np.ndarray):
    """Return a Python int for a 0-d count array and an independent copy otherwise."""
    return int(array) if array.ndim == 0 else np.array(array)


def _check_flag(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _first_index(bad: np.ndarray) -> tuple[int, ...]:
    """Index of the first True element of ``bad`` (() for a 0-d array)."""
    return tuple(int(i) for i in np.argwhere(bad)[0]) if np.ndim(bad) else ()


def _where(index: tuple[int, ...]) -> str:
    """' (at index i)' for an element of an array, '' for a scalar."""
    return "" if not index else f" (at index {index[0] if len(index) == 1 else index})"


def _check_at_most(x_name: str, x: np.ndarray, n_name: str, n: np.ndarray) -> None:
    """Refuse counts of successes larger than the number of trials, naming both arguments."""
    bad = x > n
    if bad.any():
        index = _first_index(bad)
        raise ValueError(
            f"{x_name} must be <= {n_name}, got {x_name} = {x[index].item()} > "
            f"{n_name} = {n[index].item()}{_where(index)}"
        )


def _check_spread(est_c, var_c, est_t, var_t, names: str, spread_names: str) -> None:
    """Refuse an effect or variance that overflows, and a standard error of (numerically) 0.

    ``var_c`` and ``var_t`` are the variances of the two estimates. A standard error at or
    below 10 machine epsilons times the larger |estimate| is R's "data are essentially
    constant": the statistic would be 0/0 or rounding noise divided by rounding noise.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        se = np.sqrt(var_c + var_t)
        effect = est_t - est_c
    overflow = ~(np.isfinite(se) & np.isfinite(effect))
    if overflow.any():
        raise ValueError(
            f"{names} are too large for floating point: the effect or its variance "
            f"overflows{_where(_first_index(overflow))}"
        )
    flat = se <= _FLAT * np.maximum(np.abs(est_c), np.abs(est_t))
    if flat.any():
        raise ValueError(
            f"{spread_names} give a standard error of 0{_where(_first_index(flat))}: the data "
            "do not vary, so the test statistic is undefined (R's t.test stops with 'data "
            "are essentially constant')"
        )


def _experiments(c_name: str, c: np.ndarray, t_name: str, t: np.ndarray) -> tuple[int, ...]:
    """Broadcast shape of the leading axes (experiments) of two raw samples."""
    try:
        return np.broadcast_shapes(c.shape[:-1], t.shape[:-1])
    except ValueError:
        raise ValueError(
            f"{c_name} and {t_name} must have leading axes (experiments) that broadcast, got "
            f"shapes {c.shape} and {t.shape}"
        ) from None


def _sample(name: str, value) -> np.ndarray:
    """Raw observations: a float array with at least 2 values along its last axis."""
    array = as_float_array(name, value)
    if array.ndim == 0:
        raise ValueError(
            f"{name} must be an array of observations (one per unit), got the single "
            f"number {array.item()!r}"
        )
    if array.shape[-1] < 2:
        raise ValueError(
            f"{name} must hold at least 2 observations along its last axis, got shape "
            f"{array.shape}"
        )
    return array


# --------------------------------------------------------------------------------------------
# Shared numerical core: p-values, intervals and lifts for two independent estimates
# --------------------------------------------------------------------------------------------


def _critical_value(alternative: str, alpha: float, df=None):
    """Normal (df None) or Student-t quantile for a two-sided (alpha/2 per side) or one-sided
    (alpha) bound."""
    tail = alpha / 2 if alternative == "two-sided" else alpha
    return stats.norm.isf(tail) if df is None else stats.t.isf(tail, df)


def _interval(estimate, se, alternative: str, alpha: float, df=None):
    """Wald interval estimate -/+ q * se; the side an alternative leaves open is infinite."""
    half = _critical_value(alternative, alpha, df) * se
    low = np.full_like(estimate, -np.inf) if alternative == "smaller" else estimate - half
    high = np.full_like(estimate, np.inf) if alternative == "larger" else estimate + half
    return low, high


def _tail(x, df):
    """P(X > x) for X standard normal (df None) or Student t with ``df`` degrees of freedom."""
    return stats.norm.sf(x) if df is None else stats.t.sf(x, df)


def _pvalue(statistic, alternative: str, df=None):
    if alternative == "two-sided":
        return 2 * _tail(np.abs(statistic), df)
    if alternative == "larger":
        return _tail(statistic, df)
    return _tail(-statistic, df)


def _lift(est_c, est_t):
    """treatment / control - 1; with control 0 it is +inf or -inf (the sign of treatment),
    or 0 when both are 0."""
    with np.errstate(over="ignore"):
        lift = est_t / np.where(est_c != 0, est_c, 1.0) - 1
    return np.where(est_c != 0, lift, np.where(est_t == 0, 0.0, np.copysign(np.inf, est_t)))


def _log_lift_interval(est_c, var_c, est_t, var_t, alternative: str, alpha: float):
    """Delta method on log(t / c), mapped back to the lift scale by exp(.) - 1.

    Returns ``(defined, low, high)``; the interval is defined where both estimates are
    positive (and everything is finite); elsewhere ``low`` and ``high`` are placeholders.
    """
    with np.errstate(all="ignore"):
        defined = (est_c > 0) & (est_t > 0)
        safe_c, safe_t = np.where(defined, est_c, 1.0), np.where(defined, est_t, 1.0)
        log_ratio = np.log(safe_t / safe_c)
        se_log = np.sqrt(var_t / safe_t**2 + var_c / safe_c**2)
        log_low, log_high = _interval(log_ratio, se_log, alternative, alpha)
        low, high = np.expm1(log_low), np.expm1(log_high)
    return defined & np.isfinite(log_ratio) & np.isfinite(se_log), low, high


def _symmetric_lift_interval(est_c, var_c, est_t, var_t, alternative: str, alpha: float):
    """lift -/+ z SE with SE^2 = (Var(t) + (t/c)^2 Var(c)) / c^2; the whole line where the
    control estimate is 0 (or the numbers overflow)."""
    with np.errstate(all="ignore"):
        ratio = est_t / est_c
        se = np.sqrt(var_t + ratio**2 * var_c) / np.abs(est_c)
        low, high = _interval(ratio - 1, se, alternative, alpha)
    ok = (est_c != 0) & np.isfinite(ratio) & np.isfinite(se)
    return np.where(ok, low, -np.inf), np.where(ok, high, np.inf)


class _Comparison(NamedTuple):
    """Fields shared by the results of comparing two independent estimates."""

    statistic: np.ndarray
    pvalue: np.ndarray
    effect: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    se: np.ndarray
    lift: np.ndarray
    lift_ci_low: np.ndarray
    lift_ci_high: np.ndarray
    lift_ci_low_symmetric: np.ndarray
    lift_ci_high_symmetric: np.ndarray

    def fields(self) -> dict:
        return {name: scalar_or_array(value) for name, value in self._asdict().items()}


def _compare(est_c, var_c, est_t, var_t, alternative: str, alpha: float, df=None) -> _Comparison:
    """Test and intervals for est_t - est_c, where ``var_*`` are the estimates' variances.

    The statistic (est_t - est_c) / sqrt(var_c + var_t) is referred to N(0, 1) (df None) or
    to Student t with ``df``; callers have refused a zero standard error (_check_spread).
    """
    effect = est_t - est_c
    se = np.sqrt(var_c + var_t)
    statistic = effect / se
    ci_low, ci_high = _interval(effect, se, alternative, alpha, df)
    defined, log_low, log_high = _log_lift_interval(est_c, var_c, est_t, var_t, alternative, alpha)
    sym_low, sym_high = _symmetric_lift_interval(est_c, var_c, est_t, var_t, alternative, alpha)
    return _Comparison(
        statistic=statistic,
        pvalue=_pvalue(statistic, alternative, df),
        effect=effect,
        ci_low=ci_low,
        ci_high=ci_high,
        se=se,
        lift=_lift(est_c, est_t),
        lift_ci_low=np.where(defined, log_low, -np.inf),
        lift_ci_high=np.where(defined, log_high, np.inf),
        lift_ci_low_symmetric=sym_low,
        lift_ci_high_symmetric=sym_high,
    )


# --------------------------------------------------------------------------------------------
# Shared pieces of explain()
# --------------------------------------------------------------------------------------------




def _level(alpha: float) -> str:
    return f"{format_number(100 * (1 - alpha), 4)}%"


def _pformula(alternative: str, cdf: str, statistic: str) -> str:
    return {
        "two-sided": f"2 * (1 - {cdf}(|{statistic}|))",
        "larger": f"1 - {cdf}({statistic})",
        "smaller": f"{cdf}({statistic})",
    }[alternative]


def _verdict(pvalue: float, alpha: float) -> str:
    if pvalue < alpha:
        return "  p-value < alpha: reject H0"
    return "  p-value >= alpha: do not reject H0"


def _batch_summary(head: str, formula: str, pvalue, alpha: float, effect) -> str:
    """explain() of a result holding many experiments."""
    significant = np.asarray(pvalue) < alpha
    count, total = int(significant.sum()), significant.size
    return "\n".join([
        f"{total} experiments. " + head,
        f"  {formula}",
        f"  p-value < alpha in {count} of {total} experiments "
        f"({format_number(100 * count / total, 4)}%)",
        f"  mean effect = {_f(float(np.mean(effect)))}",
    ])


def _lift_lines(result, control: str, treatment: str, var_c: float, var_t: float) -> list[str]:
    """The two lift intervals of a mean or ratio comparison, with the numbers plugged in."""
    level = _level(result.alpha)
    return [
        f"  lift        = {treatment} / {control} - 1 = {_f(result.lift)}",
        f"    log scale (default): exp(log({treatment}/{control}) -/+ z * "
        f"sqrt(Var_t/{treatment}^2 + Var_c/{control}^2)) - 1, {level} CI "
        f"[{_f(result.lift_ci_low)}, {_f(result.lift_ci_high)}]",
        f"    symmetric: lift -/+ z * sqrt(Var_t + ({treatment}/{control})^2 Var_c) / "
        f"|{control}|, {level} CI [{_f(result.lift_ci_low_symmetric)}, "
        f"{_f(result.lift_ci_high_symmetric)}]",
        f"    (Var_c = {_f(var_c)}, Var_t = {_f(var_t)}: variances of the two estimates.)",
        "    The symmetric interval can reach below -100% and its one-sided bounds lose their "
        "level when the control estimate is noisy;",
        "    the log-scale interval is multiplicative, stays above -100% and is the one to "
        "report for a positive metric.",
    ]


# --------------------------------------------------------------------------------------------
# Two proportions
# --------------------------------------------------------------------------------------------


def _standard_errors(x_c, n_c, x_t, n_t, pooled: bool):
    """Return (SE used by the test statistic, unpooled SE used by the interval)."""
    p_c, p_t = x_c / n_c, x_t / n_t
    se_unpooled = np.sqrt(p_c * (1 - p_c) / n_c + p_t * (1 - p_t) / n_t)
    if not pooled:
        return se_unpooled, se_unpooled
    p = (x_c + x_t) / (n_c + n_t)
    return np.sqrt(p * (1 - p) * (1 / n_c + 1 / n_t)), se_unpooled


@dataclass(frozen=True, repr=False, eq=False)
class ProportionsZTest(Record):
    """Result of :func:`ztest_proportions`.

    Every numeric field is a float (or int for counts) when the counts were scalars and a
    numpy array of the broadcast shape when they were arrays.
    """

    statistic: float | np.ndarray
    pvalue: float | np.ndarray
    effect: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    p_control: float | np.ndarray
    p_treatment: float | np.ndarray
    lift: float | np.ndarray
    lift_ci_low: float | np.ndarray
    lift_ci_high: float | np.ndarray
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
        se_test, se_ci = _standard_errors(x_c, n_c, x_t, n_t, self.pooled)
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
            f"  {level} CI for the effect (Wald, unpooled SE {_f(se_ci)}): "
            f"[{_f(self.ci_low)}, {_f(self.ci_high)}]",
            f"  lift        = p_treatment / p_control - 1 = {_f(self.lift)}, "
            f"{level} CI (delta method, log scale) "
            f"[{_f(self.lift_ci_low)}, {_f(self.lift_ci_high)}]",
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
        ``statistic``, ``pvalue``, ``effect``, ``ci_low``, ``ci_high``, ``p_control``,
        ``p_treatment``, ``lift``, ``lift_ci_low``, ``lift_ci_high``, the counts,
        ``alternative``, ``alpha``, ``pooled`` and :meth:`~ProportionsZTest.explain`.

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
    * When no control unit converted the lift has no finite estimate: ``lift`` is +inf
      if some treatment unit converted and 0 if none did. When either arm has no
      conversion the log-scale interval is undefined, and the lift interval is the whole
      range (-1, +inf).

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
    pooled = _check_flag("pooled", pooled)
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
    effect = p_t - p_c
    se_test, se_ci = _standard_errors(x_c, n_c, x_t, n_t, pooled)
    degenerate = se_test == 0
    limit = np.where(effect == 0, 0.0, np.copysign(np.inf, effect))
    statistic = np.where(degenerate, limit, effect / np.where(degenerate, 1.0, se_test))
    pvalue = np.where(degenerate & (effect == 0), 1.0, _pvalue(statistic, alternative))
    ci_low, ci_high = np.clip(_interval(effect, se_ci, alternative, alpha), -1, 1)

    both, log_low, log_high = _log_lift_interval(
        p_c, p_c * (1 - p_c) / n_c, p_t, p_t * (1 - p_t) / n_t, alternative, alpha
    )
    return ProportionsZTest(
        statistic=scalar_or_array(statistic),
        pvalue=scalar_or_array(pvalue),
        effect=scalar_or_array(effect),
        ci_low=scalar_or_array(ci_low),
        ci_high=scalar_or_array(ci_high),
        p_control=scalar_or_array(p_c),
        p_treatment=scalar_or_array(p_t),
        lift=scalar_or_array(_lift(p_c, p_t)),
        lift_ci_low=scalar_or_array(np.where(both, log_low, -1.0)),
        lift_ci_high=scalar_or_array(np.where(both, log_high, np.inf)),
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


# --------------------------------------------------------------------------------------------
# Two means: Welch's and Student's t-tests
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class MeansTTest(Record):
    """Result of :func:`welch_ttest_from_stats` and :func:`welch_ttest`.

    Every numeric field is a float (an int for the sample sizes) for one comparison and a
    numpy array of the broadcast shape for many. ``se`` is the standard error of the effect;
    ``lift_ci_*`` is the log-scale interval, ``lift_ci_*_symmetric`` the interval of the delta
    method on the ratio itself (module docstring).
    """

    statistic: float | np.ndarray
    pvalue: float | np.ndarray
    df: float | np.ndarray
    effect: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    se: float | np.ndarray
    lift: float | np.ndarray
    lift_ci_low: float | np.ndarray
    lift_ci_high: float | np.ndarray
    lift_ci_low_symmetric: float | np.ndarray
    lift_ci_high_symmetric: float | np.ndarray
    mean_control: float | np.ndarray
    sd_control: float | np.ndarray
    n_control: int | np.ndarray
    mean_treatment: float | np.ndarray
    sd_treatment: float | np.ndarray
    n_treatment: int | np.ndarray
    alternative: str
    alpha: float
    equal_var: bool

    def explain(self) -> str:
        """Plain-text derivation with the numbers plugged in (a summary for array results)."""
        name = "Student's t-test (pooled variance)" if self.equal_var else (
            "Welch's t-test (unequal variances)"
        )
        head = (
            f"{name}, {self.alternative}, alpha = {format_number(self.alpha, 4)}; "
            "H0: mean_treatment = mean_control"
        )
        pformula = _pformula(self.alternative, "T_df", "t")
        if np.ndim(self.statistic) != 0:
            return _batch_summary(
                head, f"t = (mean_treatment - mean_control) / SE, p-value = {pformula}",
                self.pvalue, self.alpha, self.effect,
            )
        m_c, s_c, n_c = self.mean_control, self.sd_control, self.n_control
        m_t, s_t, n_t = self.mean_treatment, self.sd_treatment, self.n_treatment
        if self.equal_var:
            pooled = ((n_c - 1) * s_c**2 + (n_t - 1) * s_t**2) / (n_c + n_t - 2)
            var_c, var_t = pooled / n_c, pooled / n_t
            se_lines = [
                f"  pooled sd^2 = ({n_c - 1} * {_f(s_c)}^2 + {n_t - 1} * {_f(s_t)}^2) / "
                f"{n_c + n_t - 2} = {_f(pooled)}",
                f"  SE          = sqrt(sd^2 (1/{n_c} + 1/{n_t})) = {_f(self.se)}",
                f"  df          = n_c + n_t - 2 = {n_c + n_t - 2}",
            ]
        else:
            var_c, var_t = s_c**2 / n_c, s_t**2 / n_t
            se_lines = [
                f"  SE          = sqrt(sd_c^2/n_c + sd_t^2/n_t) = sqrt({_f(s_c)}^2/{n_c} + "
                f"{_f(s_t)}^2/{n_t}) = {_f(self.se)}",
                "  df          = (v_c + v_t)^2 / (v_c^2/(n_c - 1) + v_t^2/(n_t - 1)), "
                f"v = sd^2/n (Welch-Satterthwaite) = {_f(self.df)}",
            ]
        level = _level(self.alpha)
        return "\n".join([
            head,
            f"  mean_control   = {_f(m_c)} (sd {_f(s_c)}, n {n_c})",
            f"  mean_treatment = {_f(m_t)} (sd {_f(s_t)}, n {n_t})",
            f"  effect      = mean_treatment - mean_control = {_f(self.effect)}",
            *se_lines,
            f"  t           = {_f(self.effect)} / {_f(self.se)} = {_f(self.statistic)}",
            f"  p-value     = {pformula} = {_f(self.pvalue)}  (T_df: Student t cdf, "
            f"df = {_f(self.df)})",
            f"  {level} CI for the effect: effect -/+ t quantile * SE = "
            f"[{_f(self.ci_low)}, {_f(self.ci_high)}]",
            *_lift_lines(self, "mean_c", "mean_t", var_c, var_t),
            _verdict(self.pvalue, self.alpha),
        ])


def _mean_variances(s_c, n_c, s_t, n_t, equal_var: bool):
    """Variances of the two means: pooled sd^2 / n (Student) or sd^2 / n per arm (Welch)."""
    with np.errstate(over="ignore", invalid="ignore"):
        if equal_var:
            pooled = ((n_c - 1) * s_c**2 + (n_t - 1) * s_t**2) / (n_c + n_t - 2)
            return pooled / n_c, pooled / n_t
        return s_c**2 / n_c, s_t**2 / n_t


def _means_test(m_c, s_c, n_c, m_t, s_t, n_t, alternative, alpha, equal_var, names):
    """Shared core of the t-tests; ``names`` = (all arguments, the spread arguments)."""
    n_c, n_t = n_c.astype(float), n_t.astype(float)
    var_c, var_t = _mean_variances(s_c, n_c, s_t, n_t, equal_var)
    _check_spread(m_c, var_c, m_t, var_t, *names)
    if equal_var:
        df = n_c + n_t - 2
    else:
        # Welch-Satterthwaite, written with weights so that tiny variances cannot underflow.
        w_c = var_c / (var_c + var_t)
        df = 1 / (w_c**2 / (n_c - 1) + (1 - w_c) ** 2 / (n_t - 1))
    comparison = _compare(m_c, var_c, m_t, var_t, alternative, alpha, df)
    return MeansTTest(
        **comparison.fields(),
        df=scalar_or_array(df),
        mean_control=scalar_or_array(m_c),
        sd_control=scalar_or_array(s_c),
        n_control=_counts_or_array(n_c.astype(np.int64)),
        mean_treatment=scalar_or_array(m_t),
        sd_treatment=scalar_or_array(s_t),
        n_treatment=_counts_or_array(n_t.astype(np.int64)),
        alternative=alternative,
        alpha=alpha,
        equal_var=equal_var,
    )


def welch_ttest_from_stats(
    mean_control,
    sd_control,
    n_control,
    mean_treatment,
    sd_treatment,
    n_treatment,
    *,
    alternative: str = "two-sided",
    alpha: float = 0.05,
    equal_var: bool = False,
) -> MeansTTest:
    r"""Welch's (or Student's) two-sample t-test and intervals from means and standard deviations.

    With means :math:`\bar y`, standard deviations :math:`s` (the n - 1 version) and sizes
    :math:`n` of each arm, the effect is :math:`\hat\Delta = \bar y_t - \bar y_c` and
    :math:`t = \hat\Delta / SE`. Welch (``equal_var=False``, the default):

    .. math:: SE^2 = v_c + v_t, \quad v = s^2 / n, \qquad
              df = \frac{(v_c + v_t)^2}{v_c^2/(n_c - 1) + v_t^2/(n_t - 1)}
              \quad\text{(Welch-Satterthwaite)}.

    Student (``equal_var=True``): :math:`s_p^2 = ((n_c-1)s_c^2 + (n_t-1)s_t^2)/(n_c+n_t-2)`,
    :math:`SE^2 = s_p^2 (1/n_c + 1/n_t)`, df = n_c + n_t - 2. Welch is the right default:
    Student's test has the wrong type I error when the variances AND the sizes differ,
    while Welch loses almost nothing when they are equal (Delacre, Lakens & Leys, 2017).

    The p-value refers t to Student's t with df; the interval is
    :math:`\hat\Delta \pm t_{1-\alpha/2, df} SE` (one-sided: the matching bound, the open
    side infinite), as R's ``t.test``. The lift ``mean_t / mean_c - 1`` has two intervals,
    both from the delta method with the normal quantile z and the variances
    :math:`v_c, v_t` of the two means (module docstring):

    * ``lift_ci_low, lift_ci_high``: log scale,
      :math:`\exp(\log(\bar y_t/\bar y_c) \pm z \sqrt{v_t/\bar y_t^2 + v_c/\bar y_c^2}) - 1`.
      Asymmetric, above -100%; defined when both means are positive, else (-inf, inf).
    * ``lift_ci_low_symmetric, lift_ci_high_symmetric``: the delta method on the ratio
      itself (Kohavi, Tang & Xu, 2020, ch. 18),
      :math:`\text{lift} \pm z \sqrt{v_t/\bar y_c^2 + \bar y_t^2 v_c/\bar y_c^4}`.
      Symmetric; it can cross -100%, and with a noisy control mean its one-sided bounds
      miss more often on one side than the other. (-inf, inf) when the control mean is 0.

    Parameters
    ----------
    mean_control, sd_control, n_control, mean_treatment, sd_treatment, n_treatment
        Per-arm mean, standard deviation (>= 0, with the n - 1 divisor) and size (whole,
        >= 2). Arrays broadcast together: one test per element.
    alternative : {"two-sided", "larger", "smaller"}
        "larger" means H1: mean_treatment > mean_control.
    alpha : float
        Significance level; intervals have confidence 1 - alpha.
    equal_var : bool
        False (default): Welch. True: Student's pooled-variance test.

    Returns
    -------
    MeansTTest
        ``statistic``, ``pvalue``, ``df``, ``effect``, ``ci_low``, ``ci_high``, ``se``,
        ``lift`` and its intervals, the inputs and :meth:`~MeansTTest.explain`.

    Raises
    ------
    ValueError
        When the standard error is 0 (both standard deviations 0, or below 10 machine
        epsilons of the means: R's "data are essentially constant"), naming
        ``sd_control`` and ``sd_treatment``: the t statistic is undefined, and abteach
        refuses it rather than return NaN.

    References
    ----------
    Welch, B. L. (1947), The generalization of "Student's" problem when several different
    population variances are involved, *Biometrika* 34, 28-35.
    Delacre, M., Lakens, D. & Leys, C. (2017), Why psychologists should by default use
    Welch's t-test instead of Student's t-test, *International Review of Social
    Psychology* 30, 92-101.
    Kohavi, Tang & Xu (2020), *Trustworthy Online Controlled Experiments*, ch. 18.

    Examples
    --------
    MineThatData spend per customer, Mens E-Mail against No E-Mail (Yasui (2020) ch. 1
    runs Student's test on these data):

    >>> res = welch_ttest_from_stats(13908.33 / 21306, 11.5882, 21306,
    ...                              30311.69 / 21307, 17.754205, 21307, equal_var=True)
    >>> print(f"{res.statistic:.6f} {res.pvalue:.4e}")
    5.300090 1.1632e-07
    """
    alternative = check_alternative(alternative)
    alpha = check_alpha(alpha)
    equal_var = _check_flag("equal_var", equal_var)
    arrays = broadcast(
        mean_control=as_float_array("mean_control", mean_control),
        sd_control=check_nonnegative("sd_control", sd_control),
        n_control=check_count("n_control", n_control, minimum=2),
        mean_treatment=as_float_array("mean_treatment", mean_treatment),
        sd_treatment=check_nonnegative("sd_treatment", sd_treatment),
        n_treatment=check_count("n_treatment", n_treatment, minimum=2),
    )
    names = (
        "mean_control, sd_control, mean_treatment and sd_treatment",
        "sd_control and sd_treatment",
    )
    return _means_test(*arrays, alternative, alpha, equal_var, names)


def _moments(name: str, sample: np.ndarray):
    """Mean and standard deviation (n - 1 divisor) along the last axis, refusing overflow."""
    with np.errstate(over="ignore", invalid="ignore"):
        mean = sample.mean(axis=-1)
        sd = sample.std(axis=-1, ddof=1)
    bad = ~(np.isfinite(mean) & np.isfinite(sd))
    if bad.any():
        raise ValueError(
            f"{name} holds values too large for floating point: their mean or variance "
            f"overflows{_where(_first_index(bad))}"
        )
    return mean, sd


def welch_ttest(
    control,
    treatment,
    *,
    alternative: str = "two-sided",
    alpha: float = 0.05,
    equal_var: bool = False,
) -> MeansTTest:
    """Welch's (or Student's) two-sample t-test on raw per-unit values.

    Computes each arm's mean, standard deviation (n - 1 divisor) and size along the last
    axis and calls :func:`welch_ttest_from_stats`, which states the formulas.

    Parameters
    ----------
    control, treatment : array of float
        One value per unit (revenue per user, ...), at least 2 per arm, along the last axis;
        leading axes, if any, are separate experiments and broadcast together.
    alternative, alpha, equal_var
        As in :func:`welch_ttest_from_stats`.

    Returns
    -------
    MeansTTest

    Examples
    --------
    R's ``t.test(extra ~ group, data = sleep)`` reports group 1 minus group 2, so group 1
    plays the treatment:

    >>> g1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
    >>> g2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
    >>> res = welch_ttest(g2, g1)
    >>> print(f"{res.statistic:.4f} {res.df:.3f} {res.pvalue:.5f}")
    -1.8608 17.776 0.07939
    """
    alternative = check_alternative(alternative)
    alpha = check_alpha(alpha)
    equal_var = _check_flag("equal_var", equal_var)
    c, t = _sample("control", control), _sample("treatment", treatment)
    lead = _experiments("control", c, "treatment", t)
    m_c, s_c = _moments("control", c)
    m_t, s_t = _moments("treatment", t)
    arrays = [
        np.broadcast_to(value, lead)
        for value in (m_c, s_c, np.array(c.shape[-1]), m_t, s_t, np.array(t.shape[-1]))
    ]
    names = ("control and treatment", "control and treatment")
    return _means_test(*arrays, alternative, alpha, equal_var, names)


# --------------------------------------------------------------------------------------------
# Ratio metrics: the delta method
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class RatioMetricTest(Record):
    """Result of :func:`ratio_metric_test`.

    ``ratio_*`` are the metric per arm (sum of numerators / sum of denominators), ``se_*``
    their standard errors under the chosen ``method``, ``se`` that of the effect.
    """

    statistic: float | np.ndarray
    pvalue: float | np.ndarray
    effect: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    se: float | np.ndarray
    lift: float | np.ndarray
    lift_ci_low: float | np.ndarray
    lift_ci_high: float | np.ndarray
    lift_ci_low_symmetric: float | np.ndarray
    lift_ci_high_symmetric: float | np.ndarray
    ratio_control: float | np.ndarray
    se_control: float | np.ndarray
    n_control: int
    ratio_treatment: float | np.ndarray
    se_treatment: float | np.ndarray
    n_treatment: int
    method: str
    alternative: str
    alpha: float

    def explain(self) -> str:
        """Plain-text derivation with the numbers plugged in (a summary for array results)."""
        head = (
            f"Ratio metric z-test ({self.method} variance), {self.alternative}, alpha = "
            f"{format_number(self.alpha, 4)}; H0: ratio_treatment = ratio_control"
        )
        pformula = _pformula(self.alternative, "Phi", "z")
        if np.ndim(self.statistic) != 0:
            return _batch_summary(
                head, f"z = (ratio_treatment - ratio_control) / SE, p-value = {pformula}",
                self.pvalue, self.alpha, self.effect,
            )
        if self.method == "delta":
            variance = [
                "  Var(ratio)  = Var_u(num - ratio * den) / (n * mean(den)^2)  [delta method: "
                "the user, the unit that was randomised, is the independent observation]",
            ]
        else:
            variance = [
                "  Var(ratio)  = ratio (1 - ratio) / sum(den)  [naive: every event treated as "
                "an independent 0/1 trial; WRONG when users contribute several correlated "
                "events, it understates the variance]",
            ]
        level = _level(self.alpha)
        return "\n".join([
            head,
            f"  ratio_control   = sum(num) / sum(den) = {_f(self.ratio_control)} "
            f"({self.n_control} users), SE {_f(self.se_control)}",
            f"  ratio_treatment = sum(num) / sum(den) = {_f(self.ratio_treatment)} "
            f"({self.n_treatment} users), SE {_f(self.se_treatment)}",
            *variance,
            f"  effect      = ratio_treatment - ratio_control = {_f(self.effect)}",
            f"  SE          = sqrt(SE_c^2 + SE_t^2) = {_f(self.se)}",
            f"  z           = {_f(self.effect)} / {_f(self.se)} = {_f(self.statistic)}",
            f"  p-value     = {pformula} = {_f(self.pvalue)}",
            f"  {level} CI for the effect: [{_f(self.ci_low)}, {_f(self.ci_high)}]",
            *_lift_lines(self, "ratio_c", "ratio_t", self.se_control**2, self.se_treatment**2),
            _verdict(self.pvalue, self.alpha),
        ])


def _ratio_arm(num_name: str, num, den_name: str, den, method: str):
    """Validate one arm's per-user arrays; return (ratio, variance of the ratio, users)."""
    y, x = _sample(num_name, num), _sample(den_name, den)
    x = check_nonnegative(den_name, x)
    if y.shape != x.shape:
        raise ValueError(
            f"{num_name} and {den_name} must have the same shape (one numerator and one "
            f"denominator per user), got {y.shape} and {x.shape}"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        total_y, total_x = y.sum(axis=-1), x.sum(axis=-1)
    bad = ~(np.isfinite(total_y) & np.isfinite(total_x))
    if bad.any():
        raise ValueError(
            f"{num_name} and {den_name} hold values too large for floating point: their sums "
            f"overflow{_where(_first_index(bad))}"
        )
    empty = total_x == 0
    if empty.any():
        raise ValueError(
            f"{den_name} must have a positive sum (the metric is undefined without events), "
            f"got a sum of 0{_where(_first_index(empty))}"
        )
    ratio = total_y / total_x
    n = y.shape[-1]
    if method == "naive":
        outside = (y < 0) | (y > x)
        if outside.any():
            index = _first_index(outside)
            raise ValueError(
                f"method='naive' counts 0/1 events: {num_name} must lie between 0 and "
                f"{den_name}, got {y[index].item()!r} with {den_name} = {x[index].item()!r}"
                f"{_where(index)}"
            )
        return ratio, ratio * (1 - ratio) / total_x, n
    with np.errstate(over="ignore", invalid="ignore"):
        mean_x = total_x / n
        residual = y - ratio[..., None] * x
        variance = residual.var(axis=-1, ddof=1) / (n * mean_x**2)
    return ratio, variance, n


def ratio_metric_test(
    num_control,
    den_control,
    num_treatment,
    den_treatment,
    *,
    method: str = "delta",
    alternative: str = "two-sided",
    alpha: float = 0.05,
) -> RatioMetricTest:
    r"""Test of a ratio metric (clicks per page view, revenue per order) by the delta method.

    A ratio metric divides two sums over users, :math:`R = \sum_u Y_u / \sum_u X_u =
    \bar Y / \bar X` (``num`` = Y, ``den`` = X per user). Users are randomised, so users
    are the independent units; the events they produce (page views) are not: one user's
    views share that user's propensity to click. The delta method (a first-order Taylor
    expansion of :math:`\bar Y / \bar X` around the means) gives

    .. math:: \mathrm{Var}(\hat R) \approx \frac{1}{n \mu_X^2}\left(\sigma_Y^2
              - 2 R\, \sigma_{XY} + R^2 \sigma_X^2\right)
              = \frac{\mathrm{Var}(Y - R X)}{n \bar X^2},

    estimated with the sample (co)variances (n - 1 divisor) over the n users of the arm
    (Deng, Knoblich & Lu, 2018, section 3). The test refers
    :math:`z = (\hat R_t - \hat R_c) / \sqrt{\mathrm{Var}(\hat R_c) + \mathrm{Var}(\hat R_t)}`
    to N(0, 1) and reports Wald intervals and the two lift intervals of the module docstring.
    With one event per user (``den`` all 1) it is the z-version of Welch's test on ``num``.

    ``method="naive"`` is the common mistake, kept for teaching: it treats every event as an
    independent 0/1 trial, :math:`\mathrm{Var}(\hat R) = \hat R (1 - \hat R) / \sum X`
    (so ``num`` must lie between 0 and ``den``). When users differ in their click
    propensity, this understates the variance, the intervals under-cover and A/A tests
    "find" effects; the chapter's recipe is to run both methods on simulated A/A data with
    clustered users and count how often each 95% interval covers 0.

    Parameters
    ----------
    num_control, den_control, num_treatment, den_treatment : array of float
        Per-user numerator and denominator (>= 0), users along the last axis, at least 2
        users per arm; within an arm both arrays have the same shape. Leading axes are
        separate experiments and broadcast between the arms.
    method : {"delta", "naive"}
        Variance of each arm's ratio.
    alternative : {"two-sided", "larger", "smaller"}
        "larger" means H1: ratio_treatment > ratio_control.
    alpha : float
        Significance level; intervals have confidence 1 - alpha.

    Returns
    -------
    RatioMetricTest
        ``statistic``, ``pvalue``, ``effect``, ``ci_low``, ``ci_high``, ``se``, ``lift`` and
        its intervals, ``ratio_control``, ``ratio_treatment``, their standard errors and
        :meth:`~RatioMetricTest.explain`.

    Raises
    ------
    ValueError
        When a denominator sums to 0, or the standard error is 0 (every user of both arms
        has the same ratio, e.g. no click at all), naming the arguments.

    References
    ----------
    Deng, A., Knoblich, U. & Lu, J. (2018), Applying the delta method in metric analytics:
    a practical guide with novel ideas, *KDD 2018*, 233-242.
    Kohavi, Tang & Xu (2020), *Trustworthy Online Controlled Experiments*, ch. 18.
    """
    method = check_choice("method", method, RATIO_METHODS)
    alternative = check_alternative(alternative)
    alpha = check_alpha(alpha)
    r_c, v_c, n_c = _ratio_arm("num_control", num_control, "den_control", den_control, method)
    r_t, v_t, n_t = _ratio_arm(
        "num_treatment", num_treatment, "den_treatment", den_treatment, method
    )
    lead = _experiments("num_control", np.asarray(num_control), "num_treatment",
                        np.asarray(num_treatment))
    r_c, v_c, r_t, v_t = (np.broadcast_to(value, lead) for value in (r_c, v_c, r_t, v_t))
    names = "num_control, den_control, num_treatment and den_treatment"
    _check_spread(r_c, v_c, r_t, v_t, names, names)
    comparison = _compare(r_c, v_c, r_t, v_t, alternative, alpha)
    return RatioMetricTest(
        **comparison.fields(),
        ratio_control=scalar_or_array(r_c),
        se_control=scalar_or_array(np.sqrt(v_c)),
        n_control=n_c,
        ratio_treatment=scalar_or_array(r_t),
        se_treatment=scalar_or_array(np.sqrt(v_t)),
        n_treatment=n_t,
        method=method,
        alternative=alternative,
        alpha=alpha,
    )


def lift_interval(result, *, alternative: str = "two-sided", alpha: float = 0.05):
    r"""The interval of the relative lift of a test result, at another level or alternative.

    The tests report ``lift_ci_low``/``lift_ci_high`` at their own ``alpha`` and
    ``alternative``; a guardrail (non-inferiority) check needs a one-sided bound at its own
    level. This recomputes the same delta-method interval on the log scale from the result's
    arm estimates :math:`\hat	heta` and their variances :math:`V`:

    .. math:: \log(\hat	heta_t / \hat	heta_c) \mp q\,
              \sqrt{V_t / \hat	heta_t^2 + V_c / \hat	heta_c^2}, \quad
              	ext{lift bounds} = \exp(\cdot) - 1,

    with :math:`V = p(1-p)/n` (:class:`ProportionsZTest`), :math:`s^2/n` or the pooled
    :math:`s^2/n` (:class:`MeansTTest`, as the test used), :math:`SE^2`
    (:class:`RatioMetricTest`). With ``alternative="larger"`` the interval is
    ``(low, inf)``, with ``"smaller"`` ``(-inf, high)``. Where the lift has no log-scale
    interval (an arm's estimate not positive) the interval is the whole line.
    Reference: Kohavi, Tang & Xu (2020) ch. 18 (confidence intervals for percent change).

    Returns ``(low, high)``, floats or arrays like the result's fields.
    """
    alternative = check_alternative(alternative)
    alpha = check_alpha(alpha)
    if isinstance(result, ProportionsZTest):
        n_c, n_t = np.asarray(result.n_control, float), np.asarray(result.n_treatment, float)
        est_c, est_t = np.asarray(result.p_control, float), np.asarray(result.p_treatment, float)
        var_c, var_t = est_c * (1 - est_c) / n_c, est_t * (1 - est_t) / n_t
    elif isinstance(result, MeansTTest):
        est_c, est_t = np.asarray(result.mean_control, float), np.asarray(result.mean_treatment, float)
        var_c, var_t = _mean_variances(
            np.asarray(result.sd_control, float), np.asarray(result.n_control, float),
            np.asarray(result.sd_treatment, float), np.asarray(result.n_treatment, float),
            result.equal_var,
        )
    elif isinstance(result, RatioMetricTest):
        est_c, est_t = np.asarray(result.ratio_control, float), np.asarray(result.ratio_treatment, float)
        var_c = np.asarray(result.se_control, float) ** 2
        var_t = np.asarray(result.se_treatment, float) ** 2
    else:
        raise TypeError(
            "result must be a ProportionsZTest, MeansTTest or RatioMetricTest, got "
            f"{type(result).__name__}"
        )
    defined, low, high = _log_lift_interval(est_c, var_c, est_t, var_t, alternative, alpha)
    return scalar_or_array(np.where(defined, low, -np.inf)), scalar_or_array(np.where(defined, high, np.inf))


# --------------------------------------------------------------------------------------------
# Bootstrap intervals
# --------------------------------------------------------------------------------------------


def _difference_in_means(control: np.ndarray, treatment: np.ndarray) -> np.ndarray:
    return treatment.mean(axis=-1) - control.mean(axis=-1)


def _apply(statistic: Callable, control, treatment, shape: tuple[int, ...]) -> np.ndarray:
    """Evaluate the user's statistic; refuse results of the wrong shape or not finite."""
    value = statistic(control, treatment)
    try:
        value = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"statistic must return numbers, got {value!r}") from None
    if value.shape != shape:
        # A statistic that ignores one sample returns size-1 axes, which broadcast; a scalar
        # from a statistic that forgot axis=-1 does not pass.
        try:
            if value.ndim != len(shape):
                raise ValueError
            value = np.broadcast_to(value, shape)
        except ValueError:
            raise ValueError(
                "statistic must reduce the last axis of both samples (like np.mean(x, axis=-1)) "
                f"and broadcast the others: expected shape {shape}, got {value.shape}"
            ) from None
    bad = ~np.isfinite(value)
    if bad.any():
        raise ValueError(
            f"statistic returned a non-finite value, {value[_first_index(bad)].item()!r}, "
            "on the data or on a resample of them"
        )
    return value


def _resample(sample: np.ndarray, lead: tuple[int, ...], size: int, generator) -> np.ndarray:
    """``size`` resamples with replacement of the last axis, independently per experiment."""
    n = sample.shape[-1]
    kind = np.int32 if n < 2**31 else np.int64  # int32 draws are four times faster
    index = generator.integers(0, n, size=lead + (size, n), dtype=kind)
    return np.take_along_axis(np.broadcast_to(sample, lead + (n,))[..., None, :], index, axis=-1)


def _replicates(statistic, control, treatment, lead, n_resamples: int, generator) -> np.ndarray:
    """Bootstrap replicates, shape lead + (n_resamples,), drawn in blocks of ~_BLOCK values."""
    per_resample = int(np.prod(lead)) * (control.shape[-1] + treatment.shape[-1])
    block = max(1, _BLOCK // per_resample)
    out = np.empty(lead + (n_resamples,))
    for start in range(0, n_resamples, block):
        size = min(block, n_resamples - start)
        c = _resample(control, lead, size, generator)
        t = _resample(treatment, lead, size, generator)
        out[..., start:start + size] = _apply(statistic, c, t, lead + (size,))
    return out


def _jackknife(statistic, control, treatment, lead) -> list[np.ndarray]:
    """Leave-one-out values of the statistic: one array per sample, shape lead + (n_j,).

    The default difference in means has the closed form mean_(i) = (sum - x_i) / (n - 1);
    any other statistic is evaluated on blocks of leave-one-out rows (cost O(n^2)).
    """
    if statistic is _difference_in_means:
        loo_c = (control.sum(axis=-1, keepdims=True) - control) / (control.shape[-1] - 1)
        loo_t = (treatment.sum(axis=-1, keepdims=True) - treatment) / (treatment.shape[-1] - 1)
        mean_c = control.mean(axis=-1, keepdims=True)
        mean_t = treatment.mean(axis=-1, keepdims=True)
        return [np.broadcast_to(mean_t - loo_c, lead + (control.shape[-1],)),
                np.broadcast_to(loo_t - mean_c, lead + (treatment.shape[-1],))]
    values = []
    for which, sample in enumerate((control, treatment)):
        other = (treatment, control)[which][..., None, :]
        n = sample.shape[-1]
        block = max(1, _BLOCK // (int(np.prod(lead)) * n))
        parts = []
        for start in range(0, n, block):
            rows = np.arange(start, min(n, start + block))
            keep = np.arange(n - 1)[None, :]
            keep = keep + (keep >= rows[:, None])  # every index but the left-out row
            left_out = sample[..., keep]
            pair = (left_out, other) if which == 0 else (other, left_out)
            parts.append(_apply(statistic, *pair, lead + (len(rows),)))
        values.append(np.concatenate(parts, axis=-1))
    return values


def _quantiles(sorted_replicates: np.ndarray, probability: np.ndarray) -> np.ndarray:
    """Per-element quantiles of sorted replicates, linear interpolation (numpy's default,
    Hyndman & Fan type 7)."""
    last = sorted_replicates.shape[-1] - 1
    position = np.clip(probability, 0, 1) * last
    lower = np.floor(position).astype(np.int64)
    upper = np.minimum(lower + 1, last)
    low_value = np.take_along_axis(sorted_replicates, lower[..., None], axis=-1)[..., 0]
    high_value = np.take_along_axis(sorted_replicates, upper[..., None], axis=-1)[..., 0]
    return low_value + (position - lower) * (high_value - low_value)


def _bca_levels(replicates, estimate, jackknife, tail_alpha: float):
    """Adjusted quantile levels of the BCa interval and its (z0, a) (Efron & Tibshirani ch. 14).

    z0 = Phi^-1(share of replicates below the estimate, ties counted half);
    a = sum_j sum_i U_ji^3 / n_j^3 / (6 (sum_j sum_i U_ji^2 / n_j^2)^(3/2)) with
    U_ji = (n_j - 1)(mean_i theta_(ji) - theta_(ji)), the jackknife over each sample in turn.
    """
    count = replicates.shape[-1]
    below = np.count_nonzero(replicates < estimate[..., None], axis=-1)
    at_or_below = np.count_nonzero(replicates <= estimate[..., None], axis=-1)
    z0 = special.ndtri((below + at_or_below) / (2 * count))
    bad = ~np.isfinite(z0)
    if bad.any():
        raise ValueError(
            "method='bca' needs replicates on both sides of the estimate, but every "
            f"replicate lies on one side{_where(_first_index(bad))}; use "
            "method='percentile' or more n_resamples"
        )
    num, den = 0.0, 0.0
    for values in jackknife:
        n = values.shape[-1]
        u = (n - 1) * (values.mean(axis=-1, keepdims=True) - values)
        num = num + np.sum(u**3, axis=-1) / n**3
        den = den + np.sum(u**2, axis=-1) / n**2
    acceleration = np.where(den > 0, num / np.where(den > 0, den, 1.0) ** 1.5 / 6, 0.0)
    z_alpha = special.ndtri(tail_alpha)
    levels = []
    with np.errstate(divide="ignore"):
        for z in (z_alpha, -z_alpha):
            shifted = z0 + z
            levels.append(special.ndtr(z0 + shifted / (1 - acceleration * shifted)))
    return levels[0], levels[1], z0, acceleration


def _bootstrap_interval(replicates, estimate, jackknife, method: str, alternative: str,
                        alpha: float):
    """(low, high, z0, a) from replicates; the jackknife is used by BCa only."""
    tail_alpha = alpha / 2 if alternative == "two-sided" else alpha
    if method == "bca":
        level_low, level_high, z0, acceleration = _bca_levels(
            replicates, estimate, jackknife, tail_alpha
        )
    else:
        level_low = np.full(estimate.shape, tail_alpha)
        level_high = np.full(estimate.shape, 1 - tail_alpha)
        z0 = acceleration = None
    ordered = np.sort(replicates, axis=-1)
    low, high = _quantiles(ordered, level_low), _quantiles(ordered, level_high)
    if alternative == "smaller":
        low = np.full_like(low, -np.inf)
    elif alternative == "larger":
        high = np.full_like(high, np.inf)
    return low, high, z0, acceleration


@dataclass(frozen=True, repr=False, eq=False)
class BootstrapCI(Record):
    """Result of :func:`bootstrap_ci`.

    ``replicates`` holds the bootstrap distribution (shape leading axes + (n_resamples,)),
    for a histogram; ``bias_correction`` (z0) and ``acceleration`` (a) are None for the
    percentile method.
    """

    effect: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    standard_error: float | np.ndarray
    bias_correction: float | np.ndarray | None
    acceleration: float | np.ndarray | None
    replicates: np.ndarray
    n_control: int
    n_treatment: int
    n_resamples: int
    method: str
    alternative: str
    alpha: float

    def explain(self) -> str:
        """Plain-text description of the resampling with the numbers plugged in."""
        name = {"bca": "BCa (bias-corrected and accelerated)", "percentile": "percentile"}
        head = (
            f"Bootstrap {name[self.method]} interval, {self.alternative}, alpha = "
            f"{format_number(self.alpha, 4)}, {self.n_resamples} resamples"
        )
        level = _level(self.alpha)
        if np.ndim(self.effect) != 0:
            return "\n".join([
                f"{np.size(self.effect)} experiments. " + head,
                f"  mean estimate = {_f(float(np.mean(self.effect)))}, mean {level} "
                f"interval width = {_f(float(np.mean(self.ci_high - self.ci_low)))}",
            ])
        tail = self.alpha / 2 if self.alternative == "two-sided" else self.alpha
        lines = [
            head,
            f"  estimate = statistic(control, treatment) = {_f(self.effect)} "
            f"(n_control {self.n_control}, n_treatment {self.n_treatment})",
            f"  each resample draws {self.n_control} control and {self.n_treatment} treatment "
            "values with replacement and recomputes the statistic",
            f"  bootstrap SE = sd of the {self.n_resamples} replicates = "
            f"{_f(self.standard_error)}",
        ]
        if self.method == "bca":
            z = float(special.ndtri(tail))
            levels = [
                float(special.ndtr(self.bias_correction + (self.bias_correction + s)
                                   / (1 - self.acceleration * (self.bias_correction + s))))
                for s in (z, -z)
            ]
            lines += [
                "  bias correction z0 = Phi^-1(share of replicates below the estimate) = "
                f"{_f(self.bias_correction)}",
                f"  acceleration a (jackknife skewness of the statistic) = "
                f"{_f(self.acceleration)}",
                f"  quantile levels Phi(z0 + (z0 + z)/(1 - a (z0 + z))) for z = "
                f"{_f(z)}, {_f(-z)}: {_f(levels[0])}, {_f(levels[1])} (instead of "
                f"{_f(tail)}, {_f(1 - tail)})",
            ]
        else:
            lines.append(
                f"  percentile interval: the {_f(tail)} and {_f(1 - tail)} quantiles of the "
                "replicates"
            )
        lines.append(f"  {level} CI = [{_f(self.ci_low)}, {_f(self.ci_high)}]")
        return "\n".join(lines)


def bootstrap_ci(
    control,
    treatment,
    *,
    statistic: Callable | None = None,
    method: str = "bca",
    n_resamples: int = 9999,
    alternative: str = "two-sided",
    alpha: float = 0.05,
    rng,
) -> BootstrapCI:
    r"""Bootstrap confidence interval for a statistic of two independent samples.

    Each of ``n_resamples`` resamples draws n_c control and n_t treatment values with
    replacement from the observed ones (separately: the arms are independent) and recomputes
    the statistic, by default the difference in means (treatment minus control). The
    replicates :math:`\hat\theta^*_b` approximate the sampling distribution of
    :math:`\hat\theta`.

    * ``method="percentile"``: the :math:`\alpha/2` and :math:`1-\alpha/2` quantiles of the
      replicates (Efron & Tibshirani, 1993, ch. 13).
    * ``method="bca"`` (default): the quantiles at the adjusted levels
      :math:`\Phi(z_0 + (z_0 + z_q)/(1 - a (z_0 + z_q)))`, with the bias correction
      :math:`z_0 = \Phi^{-1}(\#\{\hat\theta^*_b < \hat\theta\} / B)` (ties counted half) and
      the acceleration :math:`a` from the jackknife of each sample in turn (Efron &
      Tibshirani, 1993, ch. 14). BCa is second-order accurate: it corrects the percentile
      interval for a biased and skewed statistic, at the cost of the jackknife.

    Quantiles use linear interpolation (numpy's default). The method, bias correction and
    acceleration follow ``scipy.stats.bootstrap``; this implementation adds experiments on
    leading axes with independent resamples per experiment, the ``rng`` discipline of the
    course and the explain() text.

    Parameters
    ----------
    control, treatment : array of float
        Observations along the last axis (at least 2 per arm); leading axes are separate
        experiments and broadcast together.
    statistic : callable, optional
        ``statistic(control, treatment)`` reducing the LAST axis of both arrays and
        broadcasting the others, e.g. ``lambda c, t: np.median(t, axis=-1) -
        np.median(c, axis=-1)``. Default: ``mean(treatment) - mean(control)``.
    method : {"bca", "percentile"}
    n_resamples : int
        Number of resamples B (>= 1; 9999 by default, as scipy).
    alternative : {"two-sided", "larger", "smaller"}
        "larger" gives the one-sided lower bound [low, inf) at confidence 1 - alpha.
    alpha : float
        The interval has confidence 1 - alpha.
    rng : numpy.random.Generator or int
        Source of randomness (a seed is turned into a Generator).

    Returns
    -------
    BootstrapCI
        ``effect`` (the statistic on the data), ``ci_low``, ``ci_high``, ``standard_error``
        (sd of the replicates), ``bias_correction``, ``acceleration``, ``replicates`` and
        :meth:`~BootstrapCI.explain`.

    Notes
    -----
    Cost: B (n_c + n_t) draws, in blocks of about 4 million values; BCa with a custom
    statistic also evaluates it on n_c + n_t leave-one-out samples (O(n^2) values; the
    default statistic uses a closed form). A bootstrap distribution that is a single point
    (no variation in the data) is refused with a ValueError, as the t-tests refuse a zero
    standard error.

    References
    ----------
    Efron, B. & Tibshirani, R. J. (1993), *An Introduction to the Bootstrap*, Chapman &
    Hall, chapters 13 and 14.
    """
    method = check_choice("method", method, BOOTSTRAP_METHODS)
    alternative = check_alternative(alternative)
    alpha = check_alpha(alpha)
    n_resamples = check_int("n_resamples", n_resamples, minimum=1)
    generator = as_generator(rng)
    if statistic is None:
        statistic = _difference_in_means
    elif not callable(statistic):
        raise TypeError(f"statistic must be a function of (control, treatment), got {statistic!r}")
    c, t = _sample("control", control), _sample("treatment", treatment)
    lead = _experiments("control", c, "treatment", t)
    estimate = _apply(statistic, c, t, lead)
    replicates = _replicates(statistic, c, t, lead, n_resamples, generator)
    flat = np.ptp(replicates, axis=-1) == 0
    if flat.any():
        raise ValueError(
            "the bootstrap distribution of the statistic is a single point"
            f"{_where(_first_index(flat))}: control and treatment do not vary enough for "
            "a bootstrap interval"
        )
    jackknife = _jackknife(statistic, c, t, lead) if method == "bca" else []
    low, high, z0, acceleration = _bootstrap_interval(
        replicates, estimate, jackknife, method, alternative, alpha
    )
    return BootstrapCI(
        effect=scalar_or_array(estimate),
        ci_low=scalar_or_array(low),
        ci_high=scalar_or_array(high),
        standard_error=scalar_or_array(replicates.std(axis=-1, ddof=1)),
        bias_correction=None if z0 is None else scalar_or_array(z0),
        acceleration=None if acceleration is None else scalar_or_array(acceleration),
        replicates=replicates,
        n_control=c.shape[-1],
        n_treatment=t.shape[-1],
        n_resamples=n_resamples,
        method=method,
        alternative=alternative,
        alpha=alpha,
    )


# --------------------------------------------------------------------------------------------
# When is the normal approximation good enough?
# --------------------------------------------------------------------------------------------


def min_sample_size_for_normality(skewness):
    r"""Units per arm above which the mean of a skewed metric is close enough to normal.

    Kohavi, Tang & Xu (2020, ch. 17) recommend :math:`n > 355\, s^2` per variant, where
    :math:`s = E[(X - \mu)^3] / \sigma^3` is the skewness of one unit's value (e.g.
    ``scipy.stats.skew(revenue_per_user)``); it comes from Kohavi, Deng, Longbotham & Xu
    (2014, rule 7). The skewness of a mean of n units is :math:`s/\sqrt n`, so the rule
    keeps it below :math:`1/\sqrt{355} \approx 0.053`. By the Edgeworth expansion of the t
    statistic (Hall, 1992, section 2.6), the one-sided miss rate of a nominal 2.5% bound is
    then off by about :math:`(s/\sqrt n)(2 z^2 + 1)\varphi(z)/6 \le 0.0045` (z = 1.96), and
    the two-sided 95% interval covers at 95% up to terms of order 1/n.

    Revenue is very skewed: a lognormal with log-sd 1 has s = 6.2 and needs 13,580 users,
    one with log-sd 1.5 has s = 33 and needs 400,000. Two arms of equal size with the same
    distribution cancel the skewness in the difference of their means, so the rule matters
    most for unequal splits (a 10% ramp) and one-sided decisions. Capping outliers or
    transforming the metric reduces s.

    Parameters
    ----------
    skewness : float or array of float
        Skewness of the per-unit metric (its sign does not matter).

    Returns
    -------
    float or numpy.ndarray
        :math:`355\, s^2`, unrounded (round up); inf for absurdly large skewness.

    References
    ----------
    Kohavi, R., Tang, D. & Xu, Y. (2020), *Trustworthy Online Controlled Experiments*, ch. 17.
    Kohavi, R., Deng, A., Longbotham, R. & Xu, Y. (2014), Seven rules of thumb for web site
    experimenters, *KDD 2014*.
    Boos, D. D. & Hughes-Oliver, J. M. (2000), How large does n have to be for Z and t
    intervals?, *The American Statistician* 54, 121-128.
    Hall, P. (1992), *The Bootstrap and Edgeworth Expansion*, Springer.

    Examples
    --------
    >>> min_sample_size_for_normality(2.0)
    1420.0
    """
    s = as_float_array("skewness", skewness)
    with np.errstate(over="ignore"):
        return scalar_or_array(NORMALITY_FACTOR * s**2)
