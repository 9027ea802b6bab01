r"""Novelty and primacy: treatment effects that change as users get used to a change.

A new feature often moves a metric at first because it is new (novelty: the effect fades) or
hurts it at first because users must unlearn the old one (primacy: the effect grows). The
average effect of a one- or two-week experiment then answers the wrong question: it mixes the
first days of every user with the few later days of the earliest users. This module models
the effect on a user's t-th day since first exposure as

.. math:: \Delta(t) = a + b\,e^{-t/\tau},

with :math:`a` the long-run effect, :math:`a + b` the effect on the first day, :math:`\tau`
the time constant of the adaptation (in days), :math:`b > 0` novelty, :math:`b < 0` primacy
and :math:`b = 0` a stable effect.

==================================  ========================================================
function                            question
==================================  ========================================================
:func:`simulate_daily_effects`      seeded experiment with known truth: users arrive daily,
                                    return, and see an effect that depends on their age
:func:`daily_effects`               effect, SE and CI of each day (or each day since first
                                    exposure) from per-arm sufficient statistics
:func:`trend_test`                  does the effect change over time? (weighted LS slope)
:func:`fit_decay`                   where does it settle? (a + b exp(-t/tau), long-run a)
:func:`trend_test_power`            how often does the trend test detect a given decay?
==================================  ========================================================

Calendar day or day since first exposure?
-----------------------------------------
On calendar day d the treated users are a mix: new ones on their first day, and returning
ones exposed 1, 2, ..., d days earlier. With steady traffic, new users keep arriving with a
fresh novelty effect, so the calendar-day effect changes slowly, never shows the curve's
shape and still differs from the long-run effect at the end of the experiment (above it for
novelty, below it for primacy). Grouping the same data by
days since each user's first exposure (the user's "age" in the experiment) isolates the
decay: every point compares treated and control users of the same age. Report that curve,
and the long-run estimate :math:`\hat a` with its interval, not the average of the first
week. The curve beyond the last observed age is a model's extrapolation; the only direct
measurement of a long-term effect is a longer experiment or a long-term holdout (a small
share of users kept on control for months, Kohavi, Tang & Xu 2020, ch. 23; Hohnhold,
O'Brien & Tang 2015).

Which independence the analyses assume
--------------------------------------
:func:`trend_test` and :func:`fit_decay` treat the points as independent, each with a known
standard error. In :func:`simulate_daily_effects` that holds exactly for every series: each
(calendar day, age) cell is drawn independently, as users there have no persistent traits.
Real users differ persistently (heavy users stay heavy), and a user active on several days
contributes to several calendar days and to several ages: points that share users are
positively correlated, and a trend test that ignores it rejects too often. In a per-user
simulation with persistent user effects (``tests/test_novelty.py``: 21 days, users returning
on 60% of days, user effects 5 times the day-to-day noise, no true trend), the known-scale
test rejected about 13% of the time by exposure day and 18% by calendar day at alpha = 5%,
and ``scale="estimated"`` about twice as often.

Users active on ONE calendar day, grouped by days since their first exposure, belong to
different arrival cohorts, which are disjoint sets of users: those estimates are
independent whatever users are like, and, all measured on the same day, they carry no
calendar effect either. :meth:`SimulatedDailyEffects.on_calendar_day` gives that series (in
the same simulation its test kept its 5% level); it uses one day of data, so it has less
power. The analysis that uses every day validly needs user-level data: regress the user-day
outcome on treatment x age with standard errors clustered by user (or bootstrap users). A
subtler caveat: if the treatment changes who comes back, users of a given age are no longer
comparable between arms (survivorship); check the users per age and arm (an SRM check per
age).

References
----------
Kohavi, R., Tang, D. & Xu, Y. (2020), *Trustworthy Online Controlled Experiments*,
Cambridge University Press, ch. 3 (primacy and novelty effects) and ch. 23 (measuring
long-term treatment effects).
Hohnhold, H., O'Brien, D. & Tang, D. (2015), Focusing on the long-term: it's good for users
and business, *KDD '15*, 1849-1858.
Sadeghi, S., Gupta, S., Gramatovici, S., Lu, J., Ai, H. & Zhang, R. (2021), Novelty and
primacy: a long-term estimator for online experiments, arXiv:2102.12893.
Bates, D. M. & Watts, D. G. (1988), *Nonlinear Regression Analysis and Its Applications*,
Wiley, ch. 2 and 6 (Wald and profile-likelihood intervals).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from abteach._records import Record, brief as _f, format_number
from abteach._validate import (
    as_float_array,
    as_generator,
    broadcast,
    check_alpha,
    check_alternative,
    check_choice,
    check_closed_unit,
    check_count,
    check_int,
    check_nonnegative,
    check_positive,
    check_scalar,
    scalar_or_array,
)

__all__ = [
    "METRICS",
    "PROFILES",
    "SCALES",
    "DailyEffects",
    "DecayFit",
    "SimulatedDailyEffects",
    "TrendTest",
    "TrendTestPower",
    "daily_effects",
    "fit_decay",
    "simulate_daily_effects",
    "trend_test",
    "trend_test_power",
]

PROFILES = ("novelty", "primacy", "stable")
METRICS = ("binary", "continuous")
#: How the standard errors are treated. With "known" they are the true ones (z-test); with
#: "estimated" they are right up to a common factor estimated from the residuals (t-test), as
#: in an ordinary WLS regression.
SCALES = ("known", "estimated")
_BY = ("exposure_day", "calendar_day", "last_day")

_EPS = np.finfo(float).eps
_GRID = 200  # log-spaced values of tau in the profile search
_ITERATIONS = 60  # golden-section and bisection steps (bracket shrinks below 1e-9)
_AT_BOUND = 1e-6  # |log(tau / bound)| below this: the estimate sits on the bound
_GOLDEN = (np.sqrt(5.0) - 1) / 2


def _first(bad: np.ndarray) -> str:
    """' (at index i)' for the first True element of an array, '' for a scalar."""
    if np.ndim(bad) == 0:
        return ""
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    return f" (at index {index[0] if len(index) == 1 else index})"


def _interval(estimate, se, alternative: str, alpha: float, df=None):
    """estimate -/+ q se with q the normal (df None) or t quantile; the open side infinite."""
    tail = alpha / 2 if alternative == "two-sided" else alpha
    q = stats.norm.isf(tail) if df is None else stats.t.isf(tail, df)
    low = estimate - q * se if alternative != "smaller" else np.full_like(estimate, -np.inf)
    high = estimate + q * se if alternative != "larger" else np.full_like(estimate, np.inf)
    return low, high


def _pvalue(statistic, alternative: str, df=None):
    sf = stats.norm.sf if df is None else (lambda x: stats.t.sf(x, df))
    if alternative == "two-sided":
        return 2 * sf(np.abs(statistic))
    return sf(statistic) if alternative == "larger" else sf(-statistic)


# --------------------------------------------------------------------------------------------
# Effects per day
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class DailyEffects(Record):
    """Result of :func:`daily_effects`: one effect (treatment minus control) per time point.

    ``day`` has one value per point; the other arrays have the points on their last axis
    (leading axes: experiments). ``se`` is the unpooled standard error of the effect and
    ``ci_low`` / ``ci_high`` the Wald interval ``effect -/+ z se``.
    """

    day: np.ndarray
    effect: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    mean_control: np.ndarray
    mean_treatment: np.ndarray
    n_control: np.ndarray
    n_treatment: np.ndarray
    metric: str
    alpha: float

    def to_frame(self) -> pd.DataFrame:
        """One row per day: day, effect, se, ci_low, ci_high, means and sizes per arm."""
        if self.effect.ndim != 1:
            raise ValueError(
                f"to_frame() needs the effects of one experiment, got shape {self.effect.shape}; "
                "select one first, e.g. from simulate_daily_effects(..., n_experiments=None)"
            )
        names = ("day", "effect", "se", "ci_low", "ci_high", "mean_control", "mean_treatment",
                 "n_control", "n_treatment")
        return pd.DataFrame({name: getattr(self, name) for name in names})

    def trend_test(self, **options) -> TrendTest:
        """:func:`trend_test` of these effects on ``day`` (options as there)."""
        return trend_test(self.day, self.effect, self.se, **options)

    def fit_decay(self, **options) -> DecayFit:
        """:func:`fit_decay` of these effects on ``day`` (options as there)."""
        return fit_decay(self.day, self.effect, self.se, **options)

    def explain(self) -> str:
        """The formulas, and the first and last points of one experiment."""
        level = f"{format_number(100 * (1 - self.alpha), 4)}%"
        if self.metric == "binary":
            var = "p (1 - p) / n per arm (unpooled, as the Wald interval of the z-test)"
        else:
            var = "s^2 / n per arm, s^2 the sample variance (Welch's standard error)"
        lines = [
            f"Effect per day ({self.metric} metric), treatment minus control, "
            f"{self.day.size} days",
            "  effect = mean_treatment - mean_control; SE^2 = sum over arms of " + var,
            f"  {level} CI = effect -/+ z * SE (normal quantile)",
        ]
        if self.effect.ndim == 1:
            for i in sorted({0, self.day.size - 1}):
                lines.append(
                    f"  day {_f(self.day[i])}: effect {_f(self.effect[i])} (SE {_f(self.se[i])}, "
                    f"n {int(self.n_control[i])} vs {int(self.n_treatment[i])}), CI "
                    f"[{_f(self.ci_low[i])}, {_f(self.ci_high[i])}]"
                )
        else:
            lines.append(f"  {int(np.prod(self.effect.shape[:-1]))} experiments")
        return "\n".join(lines)


def _day_axis(day) -> np.ndarray:
    array = as_float_array("day", day)
    if array.ndim != 1:
        raise ValueError(f"day must be a one-dimensional array, got shape {array.shape}")
    return array


def _check_last_axis(name: str, array: np.ndarray, size: int, axis_name: str) -> None:
    if array.ndim == 0 or array.shape[-1] != size:
        got = "a single number" if array.ndim == 0 else f"{array.shape[-1]} values"
        raise ValueError(
            f"{name} must have one value per element of {axis_name} ({size}) along its last "
            f"axis, got {got}"
        )


def _binary_moments(n, x, arm: str):
    bad = x > n
    if bad.any():
        raise ValueError(
            f"sum_{arm} must be <= n_{arm} for a binary metric (conversions out of users), got "
            f"{x[bad].flat[0]} > {n[bad].flat[0]}{_first(bad)}"
        )
    p = x / n
    return p, p * (1 - p) / n


def _continuous_moments(n, s, ss, arm: str):
    with np.errstate(over="ignore", invalid="ignore"):
        mean = s / n
        within = ss - s * mean
    if not (np.isfinite(mean).all() and np.isfinite(within).all()):
        raise ValueError(
            f"sum_{arm} and sum_sq_{arm} are too large for floating point: the variance "
            "overflows"
        )
    # a sum of squares cannot be below sum^2 / n; allow the rounding of the two sums
    bad = within < -1e-9 * ss
    if bad.any():
        raise ValueError(
            f"sum_sq_{arm} must be >= sum_{arm}**2 / n_{arm} (a sum of squares of n values "
            f"cannot be smaller), got {ss[bad].flat[0]!r}{_first(bad)}"
        )
    var_unit = np.maximum(within, 0.0) / (n - 1)
    return mean, var_unit / n


def daily_effects(
    day,
    n_control,
    sum_control,
    n_treatment,
    sum_treatment,
    *,
    sum_sq_control=None,
    sum_sq_treatment=None,
    alpha: float = 0.05,
) -> DailyEffects:
    r"""Treatment effect, standard error and confidence interval of every day.

    "Day" is any time axis: calendar day, or days since each user's first exposure (give
    the sums of each age). For each day the effect is
    :math:`\hat\Delta = \bar y_t - \bar y_c` with :math:`\bar y = \text{sum} / n`, and

    * binary metric (``sum`` = conversions, no sums of squares):
      :math:`SE^2 = \hat p_c(1-\hat p_c)/n_c + \hat p_t(1-\hat p_t)/n_t`, the unpooled
      standard error of :func:`abteach.inference.ztest_proportions`' Wald interval;
    * continuous metric (give ``sum_sq_control`` and ``sum_sq_treatment``, the sums of
      squared values): :math:`SE^2 = s_c^2/n_c + s_t^2/n_t` with
      :math:`s^2 = (\text{sum\_sq} - \text{sum}^2/n)/(n - 1)`, Welch's standard error.

    The interval is :math:`\hat\Delta \pm z_{1-\alpha/2} SE` with the normal quantile for
    both metrics: daily samples of online experiments are large, and the per-day standard
    errors are then treated as known by :func:`trend_test` and :func:`fit_decay`.

    Parameters
    ----------
    day : array of float, shape (T,)
        The time of each point (days).
    n_control, sum_control, n_treatment, sum_treatment : array, shape (..., T)
        Users (or user-days) and the sum of the metric per arm and day. Leading axes are
        separate experiments; the arrays broadcast together.
    sum_sq_control, sum_sq_treatment : array, optional
        Sums of squared values per arm and day: give both for a continuous metric (then
        n >= 2 per arm), neither for a binary one (then the sums are whole counts <= n).
    alpha : float
        The intervals have confidence 1 - alpha.

    Returns
    -------
    DailyEffects
        ``day``, ``effect``, ``se``, ``ci_low``, ``ci_high``, the means and sizes per arm,
        with :meth:`~DailyEffects.to_frame`, :meth:`~DailyEffects.trend_test` and
        :meth:`~DailyEffects.fit_decay`.

    Notes
    -----
    A day on which no unit varies in either arm (no conversion at all, say) has SE = 0 and
    a point interval; :func:`trend_test` and :func:`fit_decay` refuse such a day (its weight
    would be infinite), so drop it or pool days. Sums of squares lose precision when the
    mean is large against the standard deviation (the variance is their difference);
    centre the metric first if that happens.

    Examples
    --------
    >>> res = daily_effects([0, 1], [1000, 1000], [100, 100], [1000, 1000], [130, 110])
    >>> print(res.effect.round(3), res.se.round(4))
    [0.03 0.01] [0.0143 0.0137]
    """
    alpha = check_alpha(alpha)
    days = _day_axis(day)
    if (sum_sq_control is None) != (sum_sq_treatment is None):
        missing = "sum_sq_control" if sum_sq_control is None else "sum_sq_treatment"
        raise ValueError(
            f"give both sums of squares (continuous metric) or neither (binary metric); "
            f"{missing} is missing"
        )
    binary = sum_sq_control is None
    minimum = 1 if binary else 2
    arrays = {
        "n_control": check_count("n_control", n_control, minimum=minimum),
        "sum_control": (check_count if binary else as_float_array)("sum_control", sum_control),
        "n_treatment": check_count("n_treatment", n_treatment, minimum=minimum),
        "sum_treatment": (check_count if binary else as_float_array)(
            "sum_treatment", sum_treatment
        ),
    }
    if not binary:
        arrays["sum_sq_control"] = check_nonnegative("sum_sq_control", sum_sq_control)
        arrays["sum_sq_treatment"] = check_nonnegative(
            "sum_sq_treatment", sum_sq_treatment
        )
    for name, array in arrays.items():
        _check_last_axis(name, array, days.size, "day")
    values = dict(zip(arrays, broadcast(**arrays)))
    n_c, n_t = values["n_control"], values["n_treatment"]
    if binary:
        m_c, v_c = _binary_moments(n_c, values["sum_control"], "control")
        m_t, v_t = _binary_moments(n_t, values["sum_treatment"], "treatment")
    else:
        m_c, v_c = _continuous_moments(n_c, values["sum_control"], values["sum_sq_control"],
                                       "control")
        m_t, v_t = _continuous_moments(n_t, values["sum_treatment"],
                                       values["sum_sq_treatment"], "treatment")
    with np.errstate(over="ignore", invalid="ignore"):
        effect = m_t - m_c
        se = np.sqrt(v_c + v_t)
    if not (np.isfinite(effect).all() and np.isfinite(se).all()):
        raise ValueError("the sums are too large for floating point: the effect overflows")
    low, high = _interval(effect, se, "two-sided", alpha)
    return DailyEffects(
        day=days, effect=effect, se=se, ci_low=low, ci_high=high, mean_control=m_c,
        mean_treatment=m_t, n_control=np.array(n_c), n_treatment=np.array(n_t),
        metric="binary" if binary else "continuous", alpha=alpha,
    )


# --------------------------------------------------------------------------------------------
# Time series of effects: shared checks and weights
# --------------------------------------------------------------------------------------------


def _series(time, effect, se, *, minimum: int, what: str, nonnegative_time: bool = False):
    """Validated (t, z, w, s_min): the effects in units of their smallest standard error,
    z = effect / s_min, shape (..., T), and the weights w = (s_min / se)^2 in (0, 1]. In
    these units every residual sum is a chi-square, and tiny or huge standard errors cannot
    overflow the sums."""
    t = as_float_array("time", time)
    if t.ndim != 1:
        raise ValueError(f"time must be a one-dimensional array, got shape {t.shape}")
    if nonnegative_time and (t < 0).any():
        raise ValueError(f"time must be >= 0 (days since first exposure), got "
                         f"{t[t < 0][0]!r}{_first(t < 0)}")
    distinct = np.unique(t).size
    if distinct < minimum:
        raise ValueError(
            f"time must hold at least {minimum} distinct values {what}, got {distinct} "
            f"({t.size} points)"
        )
    y = as_float_array("effect", effect)
    s = check_positive("se", se)
    _check_last_axis("effect", y, t.size, "time")
    y, s = broadcast(effect=y, se=s)
    s_min = s.min(axis=-1)
    with np.errstate(all="ignore"):
        z = y / s_min[..., None]
    if not np.isfinite(z).all():
        raise _too_large()
    return t, z, (s_min[..., None] / s) ** 2, s_min


def _too_large() -> ValueError:
    return ValueError("effect, se and time are too large for floating point: the weighted "
                      "sums overflow")


# --------------------------------------------------------------------------------------------
# Trend test
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class TrendTest(Record):
    """Result of :func:`trend_test`. ``slope`` is the change of the effect per unit of time;
    ``df`` is inf for ``scale="known"`` (normal reference) and n - 2 for ``"estimated"``."""

    statistic: float | np.ndarray
    pvalue: float | np.ndarray
    slope: float | np.ndarray
    se: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    intercept: float | np.ndarray
    chi_square: float | np.ndarray
    df: float
    n_points: int
    scale: str
    alternative: str
    alpha: float

    def explain(self) -> str:
        """Plain-text derivation with the numbers plugged in (a summary for many series)."""
        known = self.scale == "known"
        reference = "N(0, 1)" if known else f"Student t with {int(self.df)} df"
        head = (
            f"Trend test: weighted least squares of the effect on time (weights 1/se^2), "
            f"{self.n_points} points, {self.alternative}, alpha = {format_number(self.alpha, 4)}"
            f"; H0: slope = 0"
        )
        if np.ndim(self.statistic) != 0:
            rate = float(np.mean(np.asarray(self.pvalue) < self.alpha))
            return "\n".join([
                f"{np.size(self.statistic)} series. " + head,
                f"  p-value < alpha in {format_number(100 * rate, 4)}% of them; mean slope "
                f"{_f(float(np.mean(self.slope)))}",
            ])
        se_line = (
            "  SE    = 1 / sqrt(sum w (t - t_w)^2) (standard errors taken as known)"
            if known else
            "  SE    = sqrt(s2 / sum w (t - t_w)^2), s2 = chi-square / (n - 2) = "
            f"{_f(self.chi_square / self.df)} (standard errors right up to a common factor)"
        )
        verdict = ("  p-value < alpha: the effect changes over time" if self.pvalue < self.alpha
                   else "  p-value >= alpha: no trend detected (which does not prove there is "
                        "none)")
        return "\n".join([
            head,
            "  slope = sum w (t - t_w)(y - y_w) / sum w (t - t_w)^2 = "
            f"{_f(self.slope)} per day (t_w, y_w: weighted means)",
            se_line + f" = {_f(self.se)}",
            f"  {'z' if known else 't'}     = slope / SE = {_f(self.statistic)}, p-value = "
            f"{_f(self.pvalue)} ({reference})",
            f"  {format_number(100 * (1 - self.alpha), 4)}% CI for the slope: "
            f"[{_f(self.ci_low)}, {_f(self.ci_high)}]",
            f"  residual chi-square = sum w (y - fitted)^2 = {_f(self.chi_square)} on "
            f"{self.n_points - 2} df " + _residual_reading(self.chi_square, self.n_points - 2),
            verdict,
        ])


def _residual_reading(chi_square: float, df: int) -> str:
    """Read the residual chi-square of a straight-line fit against its degrees of freedom."""
    if stats.chi2.sf(chi_square, df) < 0.05:
        return ("(far above its df: the points curve away from a line, as a decay does, "
                "or scatter more than their SEs say)")
    return "(in line with its df: a straight line fits within the SEs)"


def trend_test(
    time,
    effect,
    se,
    *,
    scale: str = "known",
    alternative: str = "two-sided",
    alpha: float = 0.05,
) -> TrendTest:
    r"""Test for a linear time trend in the treatment effect (weighted least squares).

    The per-point effects :math:`y_i` with standard errors :math:`s_i` at times
    :math:`t_i` are regressed on time with weights :math:`w_i = 1/s_i^2`:

    .. math:: \hat\beta = \frac{\sum w_i (t_i - \bar t_w)(y_i - \bar y_w)}
                              {\sum w_i (t_i - \bar t_w)^2}, \qquad
              SE(\hat\beta)^2 = \frac{\sigma^2}{\sum w_i (t_i - \bar t_w)^2},

    :math:`\bar t_w, \bar y_w` the weighted means. With ``scale="known"`` (default)
    :math:`\sigma^2 = 1`: the standard errors are the true ones, and
    :math:`z = \hat\beta / SE` is referred to N(0, 1) (a fixed-effect meta-regression on
    time; statsmodels ``WLS(...).fit(cov_type="fixed scale")``). With
    ``scale="estimated"``, :math:`\sigma^2 = \chi^2 / (n-2)` with the residual
    :math:`\chi^2 = \sum w_i (y_i - \hat y_i)^2`, and the statistic is referred to Student
    t with n - 2 df (statsmodels ``WLS(...).fit()``): valid when the standard errors are
    right only up to a common factor, e.g. when the daily effect also varies with the day
    of the week. A residual chi-square far above n - 2 is the sign to use it.

    Novelty (a fading positive effect) shows as a negative slope (``alternative="smaller"``
    for a one-sided test), primacy as a positive one. The test detects any monotone drift,
    not only an exponential one; :func:`fit_decay` estimates where the effect settles.

    Independence: the test assumes the points are independent (module docstring). That
    holds in :func:`simulate_daily_effects` for every series. In real data, points that
    share returning users are correlated and the test rejects too often; the cohorts active
    on one calendar day (:meth:`SimulatedDailyEffects.on_calendar_day`) are independent, and
    with all days the valid analysis is user-level with standard errors clustered by user.

    Parameters
    ----------
    time : array of float, shape (T,)
        Time of each point (days); at least 3 points at 2 or more distinct times.
    effect, se : array, shape (..., T)
        Effect (treatment minus control) and its standard error (> 0) at each time, e.g.
        ``DailyEffects.effect`` and ``DailyEffects.se``; leading axes are separate
        series, tested independently. ``se`` broadcasts against ``effect`` (one number: a
        common standard error).
    scale : {"known", "estimated"}
    alternative : {"two-sided", "larger", "smaller"}
        "smaller": H1 slope < 0 (the effect falls over time).
    alpha : float
        Level of the test; the slope's interval has confidence 1 - alpha.

    Returns
    -------
    TrendTest
        ``statistic``, ``pvalue``, ``slope``, ``se``, ``ci_low``, ``ci_high``,
        ``intercept`` (the fitted effect at time 0), ``chi_square`` (residual), ``df``,
        ``n_points`` and :meth:`~TrendTest.explain`.

    References
    ----------
    Draper, N. R. & Smith, H. (1998), *Applied Regression Analysis*, 3rd ed., Wiley,
    section 9.2 (weighted least squares).
    Lipsey, M. W. & Wilson, D. B. (2001), *Practical Meta-Analysis*, Sage, ch. 7
    (fixed-effect meta-regression with known variances).

    Examples
    --------
    >>> res = trend_test([0, 1, 2, 3], [0.05, 0.04, 0.02, 0.02], [0.01, 0.01, 0.01, 0.01])
    >>> print(f"{res.slope:.4f} {res.se:.5f} {res.statistic:.3f}")
    -0.0110 0.00447 -2.460
    """
    scale = check_choice("scale", scale, SCALES)
    alternative = check_alternative(alternative)
    alpha = check_alpha(alpha)
    t, z, w, s_min = _series(time, effect, se, minimum=2, what="for a trend")
    if t.size < 3:
        raise ValueError(f"a trend needs at least 3 time points, got {t.size}")
    with np.errstate(all="ignore"):
        total = w.sum(axis=-1)
        t_mean = (w * t).sum(axis=-1) / total
        t_c = t - t_mean[..., None]
        z_mean = (w * z).sum(axis=-1) / total
        z_c = z - z_mean[..., None]
        stt = (w * t_c**2).sum(axis=-1)
        slope_z = (w * t_c * z_c).sum(axis=-1) / stt
        chi_square = (w * (z_c - slope_z[..., None] * t_c) ** 2).sum(axis=-1)
        # R's "essentially perfect fit": residuals at the rounding level of the effects
        flat = chi_square <= (10 * _EPS) ** 2 * (w * z**2).sum(axis=-1)
        slope = slope_z * s_min
        intercept = (z_mean - slope_z * t_mean) * s_min
        se_known = s_min / np.sqrt(stt)
    if not (stt > 0).all():
        raise ValueError(
            "the points that carry weight all sit at one time: se differs so much between "
            "points that the slope is not estimable" + _first(~(stt > 0))
        )
    if not all(np.isfinite(v).all() for v in (slope, chi_square, se_known, intercept)):
        raise _too_large()
    df = float(t.size - 2)
    if scale == "known":
        se_slope, ref_df, df_out = se_known, None, np.inf
    else:
        if flat.any():
            raise ValueError(
                "the effects lie exactly on a straight line: the residual scale is 0 and the "
                "t statistic with scale='estimated' is undefined" + _first(flat)
            )
        se_slope, ref_df, df_out = se_known * np.sqrt(chi_square / df), df, df
    with np.errstate(all="ignore"):
        statistic = slope / se_slope
        low, high = _interval(slope, se_slope, alternative, alpha, ref_df)
    if np.isnan(statistic).any() or np.isnan(low).any() or np.isnan(high).any():
        raise _too_large()
    return TrendTest(
        statistic=scalar_or_array(statistic),
        pvalue=scalar_or_array(_pvalue(statistic, alternative, ref_df)),
        slope=scalar_or_array(slope),
        se=scalar_or_array(se_slope),
        ci_low=scalar_or_array(low),
        ci_high=scalar_or_array(high),
        intercept=scalar_or_array(intercept),
        chi_square=scalar_or_array(chi_square),
        df=df_out,
        n_points=t.size,
        scale=scale,
        alternative=alternative,
        alpha=alpha,
    )


# --------------------------------------------------------------------------------------------
# Fit of a + b exp(-t / tau)
# --------------------------------------------------------------------------------------------


def _line(sw, sx, sxx, sxy, syy):
    """Weighted fit of centred y on (1, x) from weighted sums: (slope b, residual sum)."""
    vxx = sxx - sx * sx / sw
    ok = vxx > 64 * _EPS * sxx
    safe = np.where(ok, vxx, 1.0)
    b = np.where(ok, sxy / safe, 0.0)
    rss = np.where(ok, syy - sxy * sxy / safe, syy)
    return b, np.maximum(rss, 0.0)


def _profile_grid(t, w, y_c, syy, log_tau):
    """Chi-square of the best (a, b) for each tau of the grid, shape (..., G)."""
    x = np.exp(-t / np.exp(log_tau)[:, None])  # (G, T)
    sw = w.sum(axis=-1)[..., None]
    return _line(sw, w @ x.T, w @ (x * x).T, (w * y_c) @ x.T, syy[..., None])[1]


def _profile_at(t, w, y_c, syy, log_tau):
    """(b, chi-square, x) at one tau per series (log_tau has the leading shape)."""
    x = np.exp(-t / np.exp(log_tau)[..., None])
    b, rss = _line(w.sum(axis=-1), (w * x).sum(axis=-1), (w * x * x).sum(axis=-1),
                   (w * x * y_c).sum(axis=-1), syy)
    return b, rss, x


def _golden(profile, low, high):
    """Vectorised golden-section search for the minimum of ``profile`` on [low, high]."""
    c, d = high - _GOLDEN * (high - low), low + _GOLDEN * (high - low)
    fc, fd = profile(c), profile(d)
    for _ in range(_ITERATIONS):
        left = fc < fd  # the minimum lies in [low, d]
        high, low = np.where(left, d, high), np.where(left, low, c)
        new = np.where(left, high - _GOLDEN * (high - low), low + _GOLDEN * (high - low))
        f_new = profile(new)
        c, d, fc, fd = (np.where(left, new, d), np.where(left, c, new),
                        np.where(left, f_new, fd), np.where(left, fc, f_new))
    return np.where(fc < fd, c, d)


def _crossing(excess, inside, outside):
    """Vectorised bisection for excess(x) = 0 between a point inside (<= 0) and one outside."""
    for _ in range(_ITERATIONS):
        middle = (inside + outside) / 2
        is_in = excess(middle) <= 0
        inside, outside = np.where(is_in, middle, inside), np.where(is_in, outside, middle)
    return (inside + outside) / 2


def _tau_interval(profile, profile_grid, grid, log_tau, chi_min, quantile):
    """Profile-likelihood interval for tau: the connected set around the estimate where the
    profile chi-square is within ``quantile`` of its minimum, ends found by bisection between
    the estimate and the nearest grid point outside; 0 or inf where no grid point is outside."""
    outside = profile_grid - chi_min[..., None] > quantile
    below = outside & (grid < log_tau[..., None])
    above = outside & (grid > log_tau[..., None])
    last_below = np.where(below.any(axis=-1), _GRID - 1 - np.argmax(below[..., ::-1], axis=-1),
                          -1)
    first_above = np.where(above.any(axis=-1), np.argmax(above, axis=-1), _GRID)

    def excess(v):
        return profile(v) - chi_min - quantile

    low = np.exp(_crossing(excess, log_tau, grid[np.maximum(last_below, 0)]))
    high = np.exp(_crossing(excess, log_tau, grid[np.minimum(first_above, _GRID - 1)]))
    return np.where(last_below < 0, 0.0, low), np.where(first_above >= _GRID, np.inf, high)


@dataclass(frozen=True, repr=False, eq=False)
class DecayFit(Record):
    """Result of :func:`fit_decay`: effect(t) = a + b exp(-t / tau).

    ``long_run_effect`` (a) has the Wald interval ``ci_low``, ``ci_high``; ``tau`` has the
    profile-likelihood interval ``tau_ci_low``, ``tau_ci_high`` (0 or inf where the data do
    not bound it within ``tau_bounds``). Where ``identified`` is False the standard errors
    are inf and the interval for a is the whole line; ``message`` says why.
    """

    long_run_effect: float | np.ndarray
    long_run_se: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    amplitude: float | np.ndarray
    amplitude_se: float | np.ndarray
    tau: float | np.ndarray
    tau_se: float | np.ndarray
    tau_ci_low: float | np.ndarray
    tau_ci_high: float | np.ndarray
    chi_square: float | np.ndarray
    df: int
    fit_pvalue: float | np.ndarray
    identified: bool | np.ndarray
    message: str
    tau_bounds: tuple[float, float]
    alpha: float

    def predict(self, time) -> np.ndarray:
        """Fitted effect a + b exp(-t / tau) at ``time`` (shape leading axes + time's)."""
        t = as_float_array("time", time)
        a, b, tau = (np.asarray(v, dtype=float) for v in (self.long_run_effect, self.amplitude,
                                                          self.tau))
        shape = (...,) + (None,) * t.ndim
        return a[shape] + b[shape] * np.exp(-t / tau[shape])

    def explain(self) -> str:
        """Estimates, intervals, the goodness of fit and what to conclude."""
        level = f"{format_number(100 * (1 - self.alpha), 4)}%"
        head = (
            "Decay fit: effect(t) = a + b exp(-t / tau), weighted least squares (weights "
            f"1/se^2), tau searched in [{_f(self.tau_bounds[0])}, {_f(self.tau_bounds[1])}]"
        )
        if np.ndim(self.long_run_effect) != 0:
            return "\n".join([f"{np.size(self.long_run_effect)} series. " + head,
                              "  " + self.message])
        if not self.identified:
            return "\n".join([
                head,
                f"  best fit: a = {_f(self.long_run_effect)}, b = {_f(self.amplitude)}, tau = "
                f"{_f(self.tau)} (residual chi-square {_f(self.chi_square)} on {self.df} df)",
                "  NOT IDENTIFIED: " + self.message,
            ])
        return "\n".join([
            head,
            f"  long-run effect a = {_f(self.long_run_effect)} (SE {_f(self.long_run_se)}), "
            f"{level} Wald CI [{_f(self.ci_low)}, {_f(self.ci_high)}]",
            f"  amplitude b = {_f(self.amplitude)} (SE {_f(self.amplitude_se)}): the effect on "
            f"day 0 is a + b = {_f(self.long_run_effect + self.amplitude)} "
            f"({'novelty, fading' if self.amplitude > 0 else 'primacy, growing'})",
            f"  tau = {_f(self.tau)} days (SE {_f(self.tau_se)}), {level} profile-likelihood "
            f"CI [{_f(self.tau_ci_low)}, {_f(self.tau_ci_high)}]",
            f"  goodness of fit: chi-square = {_f(self.chi_square)} on {self.df} df, p = "
            f"{_f(self.fit_pvalue)} (a small p-value: the curve does not describe the points)",
            "  " + self.message,
        ])


def _tau_bounds(tau_bounds, t: np.ndarray) -> tuple[float, float]:
    if tau_bounds is None:
        gaps = np.diff(np.unique(t))
        return 0.1 * float(gaps.min()), 10.0 * float(t.max() - t.min())
    if isinstance(tau_bounds, (str, bytes)) or np.ndim(tau_bounds) != 1 or len(tau_bounds) != 2:
        raise TypeError(f"tau_bounds must be a pair (low, high), got {tau_bounds!r}")
    low, high = (float(v) for v in check_positive("tau_bounds", tau_bounds))
    if low >= high:
        raise ValueError(f"tau_bounds must satisfy low < high, got {tau_bounds!r}")
    return low, high


def _information(t, w, b, tau, x):
    """Information J^T W J of (a, b, tau), shape (..., 3, 3), J the curve's derivatives."""
    jac = np.stack([np.ones_like(x), x, b[..., None] * x * t / tau[..., None] ** 2], axis=-1)
    return np.einsum("...ti,...t,...tj->...ij", jac, w, jac)


def _covariance(info):
    """Inverse of the information where it is well conditioned; (ok, covariance)."""
    scale = np.sqrt(np.diagonal(info, axis1=-2, axis2=-1))
    ok = (scale > 0).all(axis=-1) & np.isfinite(info).all(axis=(-2, -1))
    scale = np.where(ok[..., None], scale, 1.0)
    info = np.where(ok[..., None, None], info, np.eye(3))
    corr = info / (scale[..., :, None] * scale[..., None, :])
    singular = np.linalg.svd(corr, compute_uv=False)
    ok &= singular[..., -1] > 1e-12 * singular[..., 0]
    corr = np.where(ok[..., None, None], corr, np.eye(3))
    cov = np.linalg.inv(corr) / (scale[..., :, None] * scale[..., None, :])
    return ok, cov


def _fit_message(at_low, at_high, flat, open_high, bounds) -> str:
    low, high = (_f(v) for v in bounds)
    reasons = {
        "at_low": f"tau is at its lower bound {low}: the effect settles within the first "
                  "step or does not change at all; no decay the model can resolve (check "
                  "trend_test, or widen tau_bounds)",
        "at_high": f"tau is at its upper bound {high}: the effect is still changing at the end "
                   "of the data, so where it settles is not estimable; run longer or keep a "
                   "long-term holdout",
        "flat": "the data do not narrow tau down at all (its interval spans the whole search "
                "range): b is indistinguishable from 0, no decay detected (check trend_test)",
        "open": "identified, but the data do not bound tau from above: a decay slower than "
                f"tau = {high} fits as well, and the long-run effect leans on the model's "
                "extrapolation; run longer before trusting it",
        "ok": "identified: tau is inside its bounds and its interval is bounded",
    }
    kind = np.select([at_low, at_high, flat, open_high],
                     ["at_low", "at_high", "flat", "open"], "ok")
    if kind.ndim == 0:
        return reasons[str(kind)]
    counts = {k: int((kind == k).sum()) for k in reasons}
    identified = counts["ok"] + counts["open"]
    return (f"{identified} of {kind.size} fits identified ({counts['open']} with tau "
            f"unbounded above); not identified: {counts['at_low']} with tau at the lower "
            f"bound, {counts['at_high']} at the upper bound, {counts['flat']} with a flat "
            "profile (no decay)")


def fit_decay(time, effect, se, *, tau_bounds=None, alpha: float = 0.05) -> DecayFit:
    r"""Fit effect(t) = a + b exp(-t / tau) by weighted least squares; estimate the long run.

    Minimises :math:`\chi^2(a, b, \tau) = \sum_i (y_i - a - b e^{-t_i/\tau})^2 / s_i^2`,
    the weighted nonlinear least squares of ``scipy.optimize.curve_fit(..., sigma=se,
    absolute_sigma=True)``, by profiling: for fixed :math:`\tau` the model is linear in
    (a, b), solved in closed form, leaving the one-dimensional profile
    :math:`\chi^2_p(\tau)`. It is evaluated on 200 log-spaced values in ``tau_bounds`` and
    refined by golden-section search around the best one, for every series at once. The
    search always terminates; what can fail is *identification*, reported in
    ``identified`` and ``message`` rather than as an exception:

    * tau at a bound: at the lower bound, the effect changed only on the first day (or not
      at all); at the upper bound, it is still changing at the end of the data;
    * a flat profile: tau's interval spans the whole search range, i.e. b is
      indistinguishable from 0 and the data say nothing about a decay rate.

    Intervals, with the standard errors treated as known (absolute sigma):

    * a, b, tau: Wald, :math:`\hat\theta \pm z\,SE`, from the inverse of the information
      :math:`J^\top W J` (:math:`J` the derivatives of the curve, :math:`W = diag(1/s_i^2)`),
      as ``curve_fit``'s covariance; ``ci_low``, ``ci_high`` are those of the long-run
      effect a;
    * tau: profile likelihood, the values with
      :math:`\chi^2_p(\tau) - \chi^2_{min} \le \chi^2_{1, 1-\alpha}` (Bates & Watts, 1988,
      section 6.1): asymmetric, as tau's uncertainty is. Reported as 0 or inf where the
      interval reaches a bound.

    ``chi_square`` on n - 3 df checks the fit: the calendar-day curve, a mixture of ages, is
    not of this form, and a small ``fit_pvalue`` says so.

    Parameters
    ----------
    time : array of float, shape (T,)
        Days since first exposure, >= 0, at least 4 distinct values.
    effect, se : array, shape (..., T)
        Effects and standard errors (> 0), e.g. from
        :meth:`SimulatedDailyEffects.by_exposure_day`; leading axes are separate series.
    tau_bounds : (float, float), optional
        Search range for tau, 0 < low < high. Default: a tenth of the smallest gap between
        times, and ten times the time span.
    alpha : float
        The intervals have confidence 1 - alpha.

    Returns
    -------
    DecayFit
        ``long_run_effect``, ``long_run_se``, ``ci_low``, ``ci_high``, ``amplitude``,
        ``amplitude_se``, ``tau``, ``tau_se``, ``tau_ci_low``, ``tau_ci_high``,
        ``chi_square``, ``df``, ``fit_pvalue``, ``identified``, ``message``, with
        :meth:`~DecayFit.predict` and :meth:`~DecayFit.explain`.

    Notes
    -----
    Guidance: report the by-age curve with its intervals and the long-run estimate a with
    its interval, never only the average of the first week. An interval for a is an
    extrapolation through the model: it is honest only if tau is well inside the observed
    span (the data show the curve flatten); otherwise run the experiment longer, or keep a
    long-term holdout.
    """
    alpha = check_alpha(alpha)
    t, z, w, s_min = _series(time, effect, se, minimum=4, what="for a 3-parameter curve",
                             nonnegative_time=True)
    bounds = _tau_bounds(tau_bounds, t)
    log_low, log_high = np.log(bounds[0]), np.log(bounds[1])
    grid = np.linspace(log_low, log_high, _GRID)
    with np.errstate(all="ignore"):
        # z = effect / s_min, so residual sums are chi-squares and a, b come in units of s_min
        total = w.sum(axis=-1)
        z_mean = (w * z).sum(axis=-1) / total
        z_c = z - z_mean[..., None]
        szz = (w * z_c**2).sum(axis=-1)

        def profile(v):
            return _profile_at(t, w, z_c, szz, v)[1]

        profile_grid = _profile_grid(t, w, z_c, szz, grid)
        best = profile_grid.argmin(axis=-1)
        log_tau = _golden(profile, grid[np.maximum(best - 1, 0)],
                          grid[np.minimum(best + 1, _GRID - 1)])
        b, chi_square, x = _profile_at(t, w, z_c, szz, log_tau)
        a = z_mean - b * (w * x).sum(axis=-1) / total
        tau = np.exp(log_tau)
        regular, cov = _covariance(_information(t, w, b, tau, x))
        tau_low, tau_high = _tau_interval(profile, profile_grid, grid, log_tau, chi_square,
                                          stats.chi2.isf(alpha, 1))
        at_low = log_tau - log_low < _AT_BOUND
        at_high = log_high - log_tau < _AT_BOUND
        flat = ~regular | ((tau_low == 0) & np.isinf(tau_high))
        identified = ~(at_low | at_high | flat)
        se_a, se_b, se_tau = (
            np.where(identified, np.sqrt(np.maximum(cov[..., i, i], 0.0)) * unit, np.inf)
            for i, unit in enumerate((s_min, s_min, 1.0))
        )
        a, b = a * s_min, b * s_min
        low, high = _interval(a, se_a, "two-sided", alpha)
        low, high = np.where(identified, low, -np.inf), np.where(identified, high, np.inf)
    if not all(np.isfinite(v).all() for v in (a, b, chi_square, szz)) or any(
        np.isnan(v).any() for v in (se_a, se_b, se_tau, low, high)
    ):
        raise _too_large()
    df = t.size - 3
    return DecayFit(
        long_run_effect=scalar_or_array(a),
        long_run_se=scalar_or_array(se_a),
        ci_low=scalar_or_array(low),
        ci_high=scalar_or_array(high),
        amplitude=scalar_or_array(b),
        amplitude_se=scalar_or_array(se_b),
        tau=scalar_or_array(tau),
        tau_se=scalar_or_array(se_tau),
        tau_ci_low=scalar_or_array(tau_low),
        tau_ci_high=scalar_or_array(tau_high),
        chi_square=scalar_or_array(chi_square),
        df=df,
        fit_pvalue=scalar_or_array(stats.chi2.sf(chi_square, df)),
        identified=bool(identified) if identified.ndim == 0 else identified,
        message=_fit_message(at_low, at_high, flat, identified & np.isinf(tau_high), bounds),
        tau_bounds=bounds,
        alpha=alpha,
    )


# --------------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class SimulatedDailyEffects(Record):
    """Sufficient statistics of simulated experiments, per arm, calendar day and age.

    The cell arrays have shape ``leading + (n_days, n_days)``: entry ``[..., d, k]`` holds
    the users active on calendar day d who were first exposed k days earlier (0 where
    k > d). ``sum_sq_*`` are None for a binary metric (a 0/1 value is its own square).
    ``true_effect_by_exposure_day[k]`` is a + b exp(-k / tau);
    ``true_effect_by_calendar_day[d]`` is the average of the age effects weighted by the
    expected number of users of each age active on day d: the value a calendar-day estimate
    targets.
    """

    n_control: np.ndarray
    sum_control: np.ndarray
    sum_sq_control: np.ndarray | None
    n_treatment: np.ndarray
    sum_treatment: np.ndarray
    sum_sq_treatment: np.ndarray | None
    true_effect_by_exposure_day: np.ndarray
    true_effect_by_calendar_day: np.ndarray
    new_users: np.ndarray
    metric: str
    profile: str
    long_run_effect: float
    amplitude: float
    tau: float | None
    baseline: float
    sd: float | None
    return_rate: float

    @property
    def n_days(self) -> int:
        """Length of the experiment in days."""
        return self.new_users.size

    def _effects(self, select, hint: str) -> DailyEffects:
        """daily_effects of the cells reduced by ``select`` (cell array -> (..., T) sums)."""
        def cells(name):
            array = getattr(self, name)
            return None if array is None else select(array)

        n_c, n_t = cells("n_control"), cells("n_treatment")
        minimum = 1 if self.metric == "binary" else 2
        empty = (n_c < minimum) | (n_t < minimum)
        if empty.any():
            day = int(np.argwhere(empty)[0][-1])
            raise ValueError(
                f"day {day} has fewer than {minimum} users in an arm (in at least one "
                f"experiment): {hint.format(day=day)}, or simulate more users"
            )
        return daily_effects(
            np.arange(n_c.shape[-1]), n_c, cells("sum_control"), n_t, cells("sum_treatment"),
            sum_sq_control=cells("sum_sq_control"), sum_sq_treatment=cells("sum_sq_treatment"),
        )

    def by_exposure_day(self, *, max_day: int | None = None) -> DailyEffects:
        """Effects by days since first exposure 0, 1, ..., ``max_day`` (default: all), all
        calendar days pooled.

        Every point compares users of the same age in the experiment: this series shows the
        decay a + b exp(-t / tau) itself. Late ages hold only the earliest cohorts, so
        their standard errors grow. Points share returning users (module docstring).
        """
        days = self.n_days if max_day is None else check_int("max_day", max_day,
                                                              minimum=0) + 1
        if days > self.n_days:
            raise ValueError(f"max_day must be < n_days = {self.n_days}, got {max_day!r}")
        return self._effects(lambda a: a.sum(axis=-2)[..., :days],
                             "pass max_day < {day} (few users return that late)")

    def by_calendar_day(self) -> DailyEffects:
        """Effects by calendar day: each day mixes new users with returning ones of every
        age, so the decay is smeared and lags (it tracks true_effect_by_calendar_day)."""
        return self._effects(lambda a: a.sum(axis=-1), "no users that day")

    def on_calendar_day(self, day: int | None = None) -> DailyEffects:
        """Effects by days since first exposure among the users active on one calendar day
        (default: the last), ages 0, 1, ..., ``day``.

        Each age is a different arrival cohort, so the points share no users: they are
        independent even when users differ persistently, and being measured on the same
        day, no calendar effect enters the comparison. This is the series on which the
        independence assumption of :func:`trend_test` and :func:`fit_decay` holds in real
        data; it uses one day of data, so it is noisier than :meth:`by_exposure_day`.
        """
        last = self.n_days - 1
        day = last if day is None else check_int("day", day, minimum=0)
        if day > last:
            raise ValueError(f"day must be < n_days = {self.n_days}, got {day!r}")
        return self._effects(lambda a: a[..., day, : day + 1],
                             "few users of that age return on day " + str(day))

    def to_frame(self) -> pd.DataFrame:
        """One row per calendar day, age and arm with users, for one experiment."""
        if self.n_control.ndim != 2:
            raise ValueError(
                "to_frame() needs one experiment: simulate with n_experiments=None, got "
                f"cells of shape {self.n_control.shape}"
            )
        day, age = np.nonzero(np.tri(self.n_days, dtype=bool))
        frames = []
        for arm in ("control", "treatment"):
            columns = {
                "calendar_day": day, "exposure_day": age, "arm": arm,
                "n": getattr(self, f"n_{arm}")[day, age],
                "sum": getattr(self, f"sum_{arm}")[day, age],
            }
            if self.sum_sq_control is not None:
                columns["sum_sq"] = getattr(self, f"sum_sq_{arm}")[day, age]
            frames.append(pd.DataFrame(columns))
        return pd.concat(frames, ignore_index=True)

    def explain(self) -> str:
        """The simulated truth in words and numbers."""
        curve = ("b = 0 (stable)" if self.tau is None else
                 f"b = {'+' if self.profile == 'novelty' else '-'}{_f(self.amplitude)}, tau = "
                 f"{_f(self.tau)} days ({self.profile})")
        shape = self.n_control.shape[:-2]
        return "\n".join([
            f"Simulated {self.metric} metric over {self.n_days} days"
            + (f", {shape[0]} experiments" if shape else ""),
            f"  {int(self.new_users.sum())} users arrive ({_f(self.new_users.mean())} per day), "
            f"half to each arm; each returns on any later day with probability "
            f"{_f(self.return_rate)}",
            f"  effect on a user's k-th day since first exposure: a + b exp(-k / tau), a = "
            f"{_f(self.long_run_effect)}, {curve}",
            f"  day 0: {_f(self.true_effect_by_exposure_day[0])}; day {self.n_days - 1}: "
            f"{_f(self.true_effect_by_exposure_day[-1])} by age, "
            f"{_f(self.true_effect_by_calendar_day[-1])} on the last calendar day (new users "
            "keep arriving at age 0)",
        ])


def _effect_curve(profile, long_run_effect, amplitude, tau, n_days):
    """(a + b exp(-k / tau) for k = 0..n_days-1, tau) after checking the profile's arguments."""
    if profile == "stable":
        if amplitude != 0:
            raise ValueError(f"amplitude must be 0 for profile 'stable', got {amplitude!r}")
        if tau is not None:
            raise ValueError(f"tau must be None for profile 'stable' (no decay), got {tau!r}")
        return np.full(n_days, long_run_effect), None
    if amplitude <= 0:
        raise ValueError(
            f"amplitude must be > 0 for profile {profile!r} (use profile='stable' for no "
            f"decay), got {amplitude!r}"
        )
    if tau is None:
        raise ValueError(f"tau must be given (> 0, in days) for profile {profile!r}, got None")
    tau = check_scalar("tau", check_positive("tau", tau))
    sign = 1.0 if profile == "novelty" else -1.0
    return long_run_effect + sign * amplitude * np.exp(-np.arange(n_days) / tau), tau


def simulate_daily_effects(
    *,
    profile: str,
    long_run_effect: float,
    amplitude: float = 0.0,
    tau: float | None = None,
    baseline: float,
    sd: float | None = None,
    n_days: int,
    new_users_per_day,
    return_rate: float,
    metric: str = "binary",
    n_experiments: int | None = None,
    rng,
) -> SimulatedDailyEffects:
    r"""Simulate experiments whose effect fades (novelty), grows (primacy) or stays put.

    Users arrive over ``n_days`` days (``new_users_per_day``), each assigned to control or
    treatment with probability 1/2 and first exposed on arrival. On every later day a
    user comes back with probability ``return_rate``, independently. On each day it is
    active, a user k days past first exposure produces the metric with mean ``baseline``
    in control and ``baseline`` + :math:`\Delta(k)` in treatment,

    .. math:: \Delta(k) = a + b\,e^{-k/\tau}, \qquad
              b = +\text{amplitude (novelty)},\; -\text{amplitude (primacy)},\; 0
              \text{ (stable)},

    :math:`a` = ``long_run_effect``: Bernoulli for ``metric="binary"`` (``baseline`` is
    the control rate) or normal with standard deviation ``sd`` for ``"continuous"``.

    Everything is drawn cell by cell, vectorised, with exact distributions: the arm sizes
    of each arrival cohort are binomial, the users of cohort c active on day c + k >= c + 1
    are Binomial(cohort size, return_rate), the conversions of a cell are binomial, and for
    a continuous metric the cell's sum is normal and its within-cell sum of squares
    :math:`sd^2 \chi^2_{n-1}`. User-days are independent (no persistent user traits), so
    every cell, and hence every point of either series, is independent of the others.
    The treatment does not change who returns, so users of a given age are comparable
    between arms.

    Parameters
    ----------
    profile : {"novelty", "primacy", "stable"}
    long_run_effect : float
        a, the effect once users have adapted (treatment minus control).
    amplitude : float
        :math:`|b|` > 0 for novelty and primacy; 0 (the default) for stable.
    tau : float, optional
        Time constant in days (> 0) for novelty and primacy; None for stable.
    baseline : float
        Control conversion rate (binary) or control mean (continuous).
    sd : float, optional
        Standard deviation of one user-day's value (continuous metric only).
    n_days : int
        Length of the experiment (>= 2).
    new_users_per_day : int or array of int, shape (n_days,)
        Users arriving each day (>= 0; at least 2 on the first day).
    return_rate : float
        Probability, in [0, 1], that an exposed user is active on a given later day.
    metric : {"binary", "continuous"}
    n_experiments : int, optional
        None: one experiment. An integer: that many independent experiments along a
        leading axis (for power and coverage studies).
    rng : numpy.random.Generator or int
        Source of randomness.

    Returns
    -------
    SimulatedDailyEffects
        Cells per arm, calendar day and age; the true curves; with the series
        :meth:`~SimulatedDailyEffects.by_exposure_day`,
        :meth:`~SimulatedDailyEffects.by_calendar_day` and
        :meth:`~SimulatedDailyEffects.on_calendar_day`, and
        :meth:`~SimulatedDailyEffects.to_frame`.

    Examples
    --------
    >>> sim = simulate_daily_effects(profile="novelty", long_run_effect=0.005, amplitude=0.02,
    ...                              tau=3, baseline=0.10, n_days=14, new_users_per_day=5000,
    ...                              return_rate=0.4, rng=1)
    >>> print(sim.true_effect_by_exposure_day[[0, 13]].round(4))
    [0.025  0.0053]
    """
    profile = check_choice("profile", profile, PROFILES)
    metric = check_choice("metric", metric, METRICS)
    a = check_scalar("long_run_effect", as_float_array("long_run_effect", long_run_effect))
    amplitude = check_scalar("amplitude", as_float_array("amplitude", amplitude))
    if amplitude < 0:
        raise ValueError(f"amplitude must be >= 0 (the profile sets the sign of b), got "
                         f"{amplitude!r}")
    days = check_int("n_days", n_days, minimum=2)
    curve, tau = _effect_curve(profile, a, amplitude, tau, days)
    baseline = check_scalar("baseline", as_float_array("baseline", baseline))
    if metric == "binary":
        if sd is not None:
            raise ValueError(f"sd is only used for metric='continuous', got sd={sd!r}")
        baseline = check_scalar("baseline", check_closed_unit("baseline", baseline))
        bad = (baseline + curve < 0) | (baseline + curve > 1)
        if bad.any():
            raise ValueError(
                f"baseline + effect must be a rate in [0, 1] on every day, got "
                f"{baseline + curve[bad][0]!r} on day {int(np.argmax(bad))}"
            )
    elif sd is None:
        raise ValueError("sd must be given (> 0) for metric='continuous', got None")
    else:
        sd = check_scalar("sd", check_positive("sd", sd))
    new = check_count("new_users_per_day", new_users_per_day)
    new = np.broadcast_to(new, (days,)).copy() if new.ndim == 0 else new
    if new.shape != (days,):
        raise ValueError(f"new_users_per_day must be one number or n_days = {days} numbers, "
                         f"got shape {new.shape}")
    if new[0] < 2:
        raise ValueError(f"new_users_per_day must be >= 2 on the first day, got {new[0]}")
    r = check_scalar("return_rate", check_closed_unit("return_rate", return_rate))
    if r == 0 and (new == 0).any():
        raise ValueError(
            "new_users_per_day must be > 0 on every day when return_rate is 0 (nobody would "
            f"be active on day {int(np.argmax(new == 0))}), got {new[new == 0][0]}"
        )
    lead = () if n_experiments is None else (check_int("n_experiments", n_experiments,
                                                       minimum=1),)
    generator = as_generator(rng)

    day, age = np.meshgrid(np.arange(days), np.arange(days), indexing="ij")
    valid = age <= day
    cohort = np.where(valid, day - age, 0)
    control_size = generator.binomial(new, 0.5, size=lead + (days,))
    sizes = (control_size, new - control_size)
    means = (np.full(days, baseline), baseline + curve)
    cells = {}
    for arm, size, mean in zip(("control", "treatment"), sizes, means):
        cohort_size = np.where(valid, size[..., cohort], 0)
        n = np.where(age == 0, cohort_size, generator.binomial(cohort_size, r))
        if metric == "binary":
            total, squares = generator.binomial(n, mean), None
        else:
            total = generator.normal(n * mean, np.sqrt(n) * sd)
            within = sd**2 * generator.gamma(np.maximum(n - 1, 0) / 2, 2.0)
            squares = within + np.where(n > 0, total**2 / np.maximum(n, 1), 0.0)
        cells[arm] = (n.astype(np.int64), total, squares)

    weight = np.where(valid, new[cohort] * np.where(age == 0, 1.0, r), 0.0)
    calendar = (weight * curve).sum(axis=1) / weight.sum(axis=1)
    return SimulatedDailyEffects(
        n_control=cells["control"][0], sum_control=cells["control"][1],
        sum_sq_control=cells["control"][2], n_treatment=cells["treatment"][0],
        sum_treatment=cells["treatment"][1], sum_sq_treatment=cells["treatment"][2],
        true_effect_by_exposure_day=curve, true_effect_by_calendar_day=calendar,
        new_users=new, metric=metric, profile=profile, long_run_effect=a,
        amplitude=amplitude, tau=tau, baseline=baseline, sd=sd, return_rate=r,
    )


# --------------------------------------------------------------------------------------------
# Power of the trend test, by simulation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class TrendTestPower(Record):
    """Result of :func:`trend_test_power`: the share of simulated experiments in which the
    trend test rejected, with its Monte Carlo standard error and Wilson interval."""

    power: float
    mc_se: float
    ci_low: float
    ci_high: float
    rejections: int
    n_simulations: int
    by: str
    scale: str
    alternative: str
    alpha: float

    def explain(self) -> str:
        """The estimate and how precise the simulation is."""
        return "\n".join([
            f"Power of the trend test ({self.by.replace('_', ' ')} series, scale "
            f"{self.scale!r}, {self.alternative}, alpha = {format_number(self.alpha, 4)}) "
            f"by simulation",
            f"  rejected in {self.rejections} of {self.n_simulations} simulated experiments: "
            f"power = {_f(self.power)}",
            f"  Monte Carlo SE = sqrt(p (1 - p) / n) = {_f(self.mc_se)}; 95% Wilson interval "
            f"[{_f(self.ci_low)}, {_f(self.ci_high)}]",
            "  under profile 'stable' this is the type I error rate and should be near alpha",
        ])


def trend_test_power(
    simulation: SimulatedDailyEffects,
    *,
    by: str = "exposure_day",
    max_day: int | None = None,
    scale: str = "known",
    alternative: str = "two-sided",
    alpha: float = 0.05,
) -> TrendTestPower:
    r"""Power of :func:`trend_test` against the decay of a simulation: its rejection rate.

    Recipe: simulate many experiments with the design and the effect curve to detect,
    ``simulate_daily_effects(..., n_experiments=2000, rng=seed)``, then call this function:
    it computes the effects of every experiment ``by`` the chosen series, runs the trend
    test on each and returns the share with p-value < alpha. Under ``profile="stable"`` the
    same call measures the type I error.

    The Monte Carlo standard error is :math:`\sqrt{\hat p(1-\hat p)/R}` for R experiments;
    the interval is Wilson's score interval at 95%, which stays inside [0, 1].

    Parameters
    ----------
    simulation : SimulatedDailyEffects
        From :func:`simulate_daily_effects` with ``n_experiments`` given.
    by : {"exposure_day", "calendar_day", "last_day"}
        The series the test runs on: :meth:`~SimulatedDailyEffects.by_exposure_day` (the
        most powerful for a decay), :meth:`~SimulatedDailyEffects.by_calendar_day`, or
        :meth:`~SimulatedDailyEffects.on_calendar_day` of the last day (the series whose
        points are independent in real data too).
    max_day : int, optional
        Last day since exposure used (``by="exposure_day"`` only).
    scale, alternative, alpha
        As in :func:`trend_test`.

    Returns
    -------
    TrendTestPower
        ``power``, ``mc_se``, ``ci_low``, ``ci_high``, ``rejections``, ``n_simulations``.
    """
    if not isinstance(simulation, SimulatedDailyEffects):
        raise TypeError(f"simulation must come from simulate_daily_effects, got "
                        f"{type(simulation).__name__}")
    if simulation.n_control.ndim != 3:
        raise ValueError("simulation must hold many experiments: call simulate_daily_effects "
                         "with n_experiments=...")
    by = check_choice("by", by, _BY)
    if by == "exposure_day":
        effects = simulation.by_exposure_day(max_day=max_day)
    elif max_day is not None:
        raise ValueError(f"max_day is only used with by='exposure_day', got {max_day!r}")
    elif by == "calendar_day":
        effects = simulation.by_calendar_day()
    else:
        effects = simulation.on_calendar_day()
    test = effects.trend_test(scale=scale, alternative=alternative, alpha=alpha)
    reject = np.asarray(test.pvalue) < test.alpha
    runs, count = reject.size, int(reject.sum())
    p = count / runs
    z = stats.norm.isf(0.025)
    centre = (p + z**2 / (2 * runs)) / (1 + z**2 / runs)
    half = z * np.sqrt(p * (1 - p) / runs + z**2 / (4 * runs**2)) / (1 + z**2 / runs)
    return TrendTestPower(
        power=p, mc_se=float(np.sqrt(p * (1 - p) / runs)), ci_low=float(max(centre - half, 0.0)),
        ci_high=float(min(centre + half, 1.0)), rejections=count, n_simulations=runs, by=by,
        scale=test.scale, alternative=test.alternative, alpha=test.alpha,
    )
