r"""Section 5.3: two means. Welch's (and Student's) t-test, from raw values or from sums.

=====================================  =========================================================
function                               what it takes
=====================================  =========================================================
:func:`welch_ttest_from_stats`         means, standard deviations and sizes of the two arms
:func:`welch_ttest_from_sums`          n, sum and sum of squares of each arm (a dashboard's
                                       sufficient statistics)
:func:`welch_ttest`                    raw per-unit values
:func:`moments_from_sums`              mean and standard deviation from n, sum and sum of
                                       squares
=====================================  =========================================================

The tests on sufficient statistics broadcast their arguments (one test per element); for raw
values the units lie along the LAST axis and leading axes are separate experiments.
Treatment minus control, always.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from abteach._records import Record, brief as _f, format_number
from abteach._validate import (
    as_float_array,
    broadcast,
    check_alpha,
    check_alternative,
    check_bool,
    check_count,
    check_nonnegative,
    first_bad,
    scalar_or_array,
)
from abteach.inference._core import (
    _Comparison,
    _batch_summary,
    _check_spread,
    _compare,
    _counts_or_array,
    _experiments,
    _first_index,
    _level,
    _lift_lines,
    _pformula,
    _sample,
    _verdict,
    _where,
)

__all__ = [
    "MeansTTest",
    "Moments",
    "moments_from_sums",
    "welch_ttest",
    "welch_ttest_from_stats",
    "welch_ttest_from_sums",
]

#: Q - S^2/n below 0 by more than this share of Q cannot come from real values (rounding of
#: the two sums stays far below it); between this and 0 it is rounding and becomes 0.
_ROUNDING = 1e-9


@dataclass(frozen=True, repr=False, eq=False)
class MeansTTest(Record):
    """Result of :func:`welch_ttest_from_stats`, :func:`welch_ttest_from_sums` and
    :func:`welch_ttest`.

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


def _degrees_of_freedom(var_c, n_c, var_t, n_t, equal_var: bool):
    """n_c + n_t - 2 (Student) or Welch-Satterthwaite, written with weights so that tiny
    variances cannot underflow."""
    if equal_var:
        return n_c + n_t - 2
    w_c = var_c / (var_c + var_t)
    return 1 / (w_c**2 / (n_c - 1) + (1 - w_c) ** 2 / (n_t - 1))


def _binary_scale(*arrays, axis=None):
    """A power of 2 (per element, or per row along ``axis``) bringing the largest |value| into
    [1, 2); 1 where every value is 0. Dividing by it is exact in floating point."""
    if axis is None:
        largest = np.max(np.abs(np.broadcast_arrays(*arrays)), axis=0)
    else:
        largest = np.abs(arrays[0]).max(axis=axis, keepdims=True)
    _, exponent = np.frexp(largest)
    return np.ldexp(1.0, exponent - 1)


def _rescaled(comparison: _Comparison, scale, names: str) -> _Comparison:
    """Effect, interval and SE of a comparison computed in units of ``scale``, back in the
    data's unit; refuses what overflows there."""
    fields = ("effect", "ci_low", "ci_high", "se")
    with np.errstate(over="ignore"):
        back = {name: getattr(comparison, name) * scale for name in fields}
    overflow = np.zeros(np.shape(scale), dtype=bool)
    for name in fields:
        overflow |= np.isfinite(getattr(comparison, name)) & ~np.isfinite(back[name])
    if overflow.any():
        raise ValueError(
            f"{names} are too large for floating point: the effect or its interval "
            f"overflows{_where(_first_index(overflow))}"
        )
    return comparison._replace(**back)


def _means_test(m_c, s_c, n_c, m_t, s_t, n_t, alternative, alpha, equal_var, names):
    """Shared core of the t-tests; ``names`` = (all arguments, the spread arguments).

    The formulas run on means and sds divided by a power of 2 (exact, :func:`_binary_scale`),
    so that sd^2 / n neither overflows nor underflows for huge or tiny but finite data; the
    statistic, p-value, df and lifts do not depend on the unit, and :func:`_rescaled` puts
    the effect, its interval and SE back in the data's unit.
    """
    n_c, n_t = n_c.astype(float), n_t.astype(float)
    scale = _binary_scale(m_c, s_c, m_t, s_t)
    var_c, var_t = _mean_variances(s_c / scale, n_c, s_t / scale, n_t, equal_var)
    _check_spread(m_c / scale, var_c, m_t / scale, var_t, *names)
    df = _degrees_of_freedom(var_c, n_c, var_t, n_t, equal_var)
    comparison = _compare(m_c / scale, var_c, m_t / scale, var_t, alternative, alpha, df)
    comparison = _rescaled(comparison, scale, names[0])
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
    equal_var = check_bool("equal_var", equal_var)
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


class Moments(NamedTuple):
    """Mean, standard deviation and variance (n - 1 divisor): :func:`moments_from_sums`."""

    mean: float | np.ndarray
    sd: float | np.ndarray
    variance: float | np.ndarray


def _within_sum_of_squares(total, total_sq, mean, names: tuple[str, str, str]):
    """Q - S * mean, the sum of squared deviations: never negative.

    Between -1e-9 Q and 0 the difference is rounding (catastrophic cancellation of two
    nearly equal numbers) and becomes 0; below that (or when S * mean overflows, which a
    finite Q of real values rules out) the sums cannot come from real values.
    """
    n_name, s_name, ss_name = names
    with np.errstate(over="ignore"):
        within = total_sq - total * mean
    impossible = within < -_ROUNDING * total_sq
    if impossible.any():
        raise ValueError(
            f"{ss_name} must be >= {s_name}**2 / {n_name} (a sum of squares of n values "
            f"cannot be smaller), got {ss_name} = {first_bad(total_sq, impossible)}"
        )
    return np.maximum(within, 0.0)


def _moments_from_sums(n, total, total_sq, names: tuple[str, str, str]):
    """(mean, variance) from checked, broadcast arrays; ``names`` are the three arguments."""
    mean = total / n
    variance = _within_sum_of_squares(total, total_sq, mean, names) / (n - 1)
    return mean, variance


def moments_from_sums(n, total, total_sq) -> Moments:
    r"""Mean and standard deviation of n values from their sum and their sum of squares.

    With :math:`S = \sum_i y_i` and :math:`Q = \sum_i y_i^2` (the sufficient statistics a
    dashboard or an event store keeps per arm and day, because sums add up across days):

    .. math:: \bar y = S / n, \qquad
              s^2 = \frac{Q - S \bar y}{n - 1} = \frac{Q - S^2 / n}{n - 1}, \qquad
              s = \sqrt{s^2},

    the sample variance with the n - 1 divisor (Kohavi, Tang & Xu, 2020, ch. 18 compute
    every variance of a scorecard this way).

    Catastrophic cancellation: Q and :math:`S \bar y` are both close to :math:`n \bar y^2`,
    so their difference keeps only about :math:`16 - \log_{10}(\bar y^2 / s^2)` of the 16
    significant digits of a float (Chan, Golub & LeVeque, 1983), and its rounding error, a
    few machine epsilons times Q, can have either sign. The variance is never negative: a
    difference between :math:`-10^{-9} Q` and 0 is rounding and becomes exactly 0; a more
    negative one cannot come from real values and raises a ValueError naming ``total_sq``.
    A positive difference of that size is rounding noise as well, which the sums cannot
    tell from a real spread (five copies of 1.1e11 can give an sd of about 1e3, 1e-8 of the
    mean). When the mean is many standard deviations from 0 (timestamps, prices around
    1e6 with cents of spread), subtract a rough guess of the mean from every value before
    summing.

    Parameters
    ----------
    n : int or array of int
        Number of values (>= 2: the n - 1 divisor needs two).
    total : float or array of float
        Their sum S.
    total_sq : float or array of float
        The sum of their squares Q (>= 0). Arrays broadcast together.

    Returns
    -------
    Moments
        ``mean``, ``sd`` and ``variance`` (floats, or arrays of the broadcast shape).

    References
    ----------
    Chan, T. F., Golub, G. H. & LeVeque, R. J. (1983), Algorithms for computing the sample
    variance: analysis and recommendations, *The American Statistician* 37, 242-247.
    Kohavi, Tang & Xu (2020), *Trustworthy Online Controlled Experiments*, ch. 18.

    Examples
    --------
    The values 1, 2, 3, 4: n = 4, S = 10, Q = 30.

    >>> m = moments_from_sums(4, 10.0, 30.0)
    >>> print(f"mean {m.mean:.2f}, variance {m.variance:.4f}, sd {m.sd:.4f}")
    mean 2.50, variance 1.6667, sd 1.2910
    """
    n, total, total_sq = broadcast(
        n=check_count("n", n, minimum=2),
        total=as_float_array("total", total),
        total_sq=check_nonnegative("total_sq", total_sq),
    )
    mean, variance = _moments_from_sums(n, total, total_sq, ("n", "total", "total_sq"))
    return Moments(
        mean=scalar_or_array(mean),
        sd=scalar_or_array(np.sqrt(variance)),
        variance=scalar_or_array(variance),
    )


def welch_ttest_from_sums(
    n_control,
    sum_control,
    sum_sq_control,
    n_treatment,
    sum_treatment,
    sum_sq_treatment,
    *,
    alternative: str = "two-sided",
    alpha: float = 0.05,
    equal_var: bool = False,
) -> MeansTTest:
    r"""Welch's (or Student's) t-test from each arm's n, sum and sum of squares.

    Each arm's mean and standard deviation come from :func:`moments_from_sums`,
    :math:`\bar y = S/n` and :math:`s^2 = (Q - S^2/n)/(n - 1)`; the test is then
    :func:`welch_ttest_from_stats`, which states its formulas. This is how a dashboard
    tests a metric from daily aggregates without the per-user values.

    Parameters
    ----------
    n_control, sum_control, sum_sq_control, n_treatment, sum_treatment, sum_sq_treatment
        Per-arm size (whole, >= 2), sum of the values and sum of their squares (>= 0).
        Arrays broadcast together: one test per element.
    alternative, alpha, equal_var
        As in :func:`welch_ttest_from_stats`.

    Returns
    -------
    MeansTTest

    Examples
    --------
    R's ``sleep`` data (``t.test(extra ~ group)``, group 1 as the treatment) from sums:
    group 1 has n = 10, S = 7.5, Q = 34.43; group 2 has S = 23.3, Q = 90.37.

    >>> res = welch_ttest_from_sums(10, 23.3, 90.37, 10, 7.5, 34.43)
    >>> print(f"{res.statistic:.4f} {res.df:.3f} {res.pvalue:.5f}")
    -1.8608 17.776 0.07939
    """
    alternative = check_alternative(alternative)
    alpha = check_alpha(alpha)
    equal_var = check_bool("equal_var", equal_var)
    n_c, s_c, ss_c, n_t, s_t, ss_t = broadcast(
        n_control=check_count("n_control", n_control, minimum=2),
        sum_control=as_float_array("sum_control", sum_control),
        sum_sq_control=check_nonnegative("sum_sq_control", sum_sq_control),
        n_treatment=check_count("n_treatment", n_treatment, minimum=2),
        sum_treatment=as_float_array("sum_treatment", sum_treatment),
        sum_sq_treatment=check_nonnegative("sum_sq_treatment", sum_sq_treatment),
    )
    m_c, v_c = _moments_from_sums(n_c, s_c, ss_c, ("n_control", "sum_control", "sum_sq_control"))
    m_t, v_t = _moments_from_sums(
        n_t, s_t, ss_t, ("n_treatment", "sum_treatment", "sum_sq_treatment")
    )
    names = (
        "sum_control, sum_sq_control, sum_treatment and sum_sq_treatment",
        "sum_sq_control and sum_sq_treatment",
    )
    return _means_test(m_c, np.sqrt(v_c), n_c, m_t, np.sqrt(v_t), n_t, alternative, alpha,
                       equal_var, names)


def _moments(name: str, sample: np.ndarray):
    """Mean and standard deviation (n - 1 divisor) along the last axis, computed on the values
    divided by a power of 2 (exact) so that their squares cannot overflow or underflow."""
    scale = _binary_scale(sample, axis=-1)
    scaled = sample / scale
    with np.errstate(over="ignore"):
        mean = scaled.mean(axis=-1) * scale[..., 0]
        sd = scaled.std(axis=-1, ddof=1) * scale[..., 0]
    bad = ~(np.isfinite(mean) & np.isfinite(sd))
    if bad.any():
        raise ValueError(
            f"{name} holds values too large for floating point: their standard deviation "
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
    equal_var = check_bool("equal_var", equal_var)
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
