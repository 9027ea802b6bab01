r"""Effects per day: effect, standard error and interval of each day from per-arm sufficient
statistics."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from abteach._records import Record, brief as _f, format_number
from abteach._validate import (
    as_float_array,
    broadcast,
    check_alpha,
    check_count,
    check_nonnegative,
    check_work,
    first_bad,
)
from abteach.novelty._series import _check_last_axis, _first, _interval
from abteach.novelty.decay import DecayFit, fit_decay
from abteach.novelty.trend import TrendTest, trend_test

__all__ = ["DailyEffects", "clustered_daily_effects", "daily_effects"]


@dataclass(frozen=True, repr=False, eq=False)
class DailyEffects(Record):
    """Result of :func:`daily_effects`: one effect (treatment minus control) per time point.

    ``day`` has one value per point; the other arrays have the points on their last axis
    (leading axes: experiments). ``se`` is the unpooled standard error of the effect and
    ``ci_low`` / ``ci_high`` the Wald interval ``effect -/+ z se``. ``cov`` (from
    :func:`clustered_daily_effects`, else None) is the covariance matrix of the effects,
    clustered by user, shape (..., T, T); :meth:`fit_decay` then uses it.
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
    cov: np.ndarray | None = None

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
        """:func:`trend_test` of these effects on ``day`` (options as there), with
        ``cov=self.cov`` (sandwich standard error of the slope) unless ``cov`` is given."""
        options.setdefault("cov", self.cov)
        return trend_test(self.day, self.effect, self.se, **options)

    def fit_decay(self, **options) -> DecayFit:
        """:func:`fit_decay` of these effects on ``day`` (options as there), with
        ``cov=self.cov`` (sandwich standard errors) unless ``cov`` is given."""
        options.setdefault("cov", self.cov)
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
        if self.cov is not None:
            lines.append("  cov: covariance of the effects clustered by user (the days share "
                         "users); trend_test and fit_decay use it for sandwich standard errors")
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
    center the metric first if that happens.

    Examples
    --------
    >>> res = daily_effects([0, 1], [1000, 1000], [100, 100], [1000, 1000], [130, 110])
    >>> print(res.effect.round(3), res.se.round(4))
    [0.03 0.01] [0.0143 0.0137]
    """
    alpha = check_alpha(alpha)
    days = _day_axis(day)
    if (sum_sq_control is None) != (sum_sq_treatment is None):
        given, missing = (
            ("sum_sq_treatment", "sum_sq_control") if sum_sq_control is None
            else ("sum_sq_control", "sum_sq_treatment")
        )
        raise ValueError(
            f"give both sums of squares (continuous metric) or neither (binary metric); "
            f"{given} is given but {missing} is missing"
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


def _user_table(values) -> tuple[np.ndarray, np.ndarray]:
    """(values with 0 where inactive, active mask) from a users x ages table with NaN gaps."""
    try:
        array = np.asarray(values)
    except (ValueError, TypeError):  # ragged nested sequences
        array = None
    numeric = array is not None and array.dtype != bool and (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating))
    if not numeric:
        as_float_array("values", values)  # raises the TypeError that names values
    active = ~np.isnan(array.astype(float))
    filled = as_float_array("values", np.where(active, array, 0.0))
    if filled.ndim < 2:
        raise ValueError(f"values must have shape (..., users, ages), got shape {filled.shape}")
    return filled, active


def _treated_mask(treated, shape: tuple) -> np.ndarray:
    """``treated`` (one 0/1 or bool per user) broadcast to ``shape`` (..., users)."""
    try:
        raw = np.asarray(treated)
    except (ValueError, TypeError):  # ragged: as_float_array names it
        raw = treated
    array = as_float_array("treated", raw.astype(float) if getattr(raw, "dtype", None) == bool
                           else raw)
    bad = (array != 0) & (array != 1)
    if bad.any():
        raise ValueError(f"treated must be 0/1 or True/False per user, got "
                         f"{first_bad(array, bad)}")
    try:
        return np.broadcast_to(array == 1, shape)
    except ValueError:
        raise ValueError(f"treated must have one value per user (row of values), shape "
                         f"{shape}, got shape {array.shape}") from None


def clustered_daily_effects(values, treated, *, alpha: float = 0.05) -> DailyEffects:
    r"""Effects by days since first exposure from user-level data, with their covariance
    clustered by user.

    ``values[..., i, k]`` is user i's metric on its k-th day since first exposure (NaN where
    the user was not active). Per arm and age k, with :math:`A_k` the active users,
    :math:`n_k = |A_k|` and :math:`\bar y_k` their mean, the effect and standard error are
    those of :func:`daily_effects` for a continuous metric (Welch). The points share users,
    so they are correlated; their covariance, clustered by user, sums over the users of each
    arm (Liang & Zeger, 1986):

    .. math:: \widehat{Cov}(\hat\Delta_j, \hat\Delta_k) = \sum_{\text{arm}}
              \sum_{i \in A_j \cap A_k}
              \frac{(y_{ij} - \bar y_j)(y_{ik} - \bar y_k)}{\sqrt{n_j (n_j - 1)\,n_k (n_k - 1)}},

    with :math:`n - 1` in the denominators so that the diagonal is exactly the squared
    Welch standard error (the cluster-robust estimator of Cameron & Miller, 2015, with a
    small-sample factor n / (n - 1) per age and arm). Users in different arms, and different users, are
    independent: that is all the estimator assumes, whatever the users' persistent traits.

    Parameters
    ----------
    values : array, shape (..., users, ages)
        The metric of each user on each day since first exposure; NaN where the user was not
        active (``df.pivot(index="user", columns="age", values="value")`` gives this table).
        Leading axes are separate experiments. At least 2 active users per arm and age.
    treated : array of bool or 0/1, shape (..., users)
        The arm of each user (True / 1: treatment).
    alpha : float
        The intervals have confidence 1 - alpha.

    Returns
    -------
    DailyEffects
        As :func:`daily_effects` (``day`` = 0, 1, ..., ages - 1, metric "continuous"), with
        ``cov`` set: :meth:`~DailyEffects.fit_decay` then reports sandwich standard errors.

    References
    ----------
    Liang, K.-Y. & Zeger, S. L. (1986), Longitudinal data analysis using generalized linear
    models, *Biometrika* 73, 13-22.
    Cameron, A. C. & Miller, D. L. (2015), A practitioner's guide to cluster-robust
    inference, *Journal of Human Resources* 50, 317-372.

    Examples
    --------
    Three users per arm; user 0 of each arm is active on both days:

    >>> nan = float("nan")
    >>> values = [[1.0, 2.0], [3.0, nan], [2.0, 4.0], [5.0, 6.0], [7.0, nan], [6.0, 9.0]]
    >>> res = clustered_daily_effects(values, [0, 0, 0, 1, 1, 1])
    >>> print(res.effect, f"{res.cov[0, 0]:.4f} {res.cov[1, 1]:.4f} {res.cov[0, 1]:.4f}")
    [4.  4.5] 0.6667 3.2500 0.7217
    """
    alpha = check_alpha(alpha)
    y, active = _user_table(values)
    is_treated = _treated_mask(treated, y.shape[:-1])
    ages = y.shape[-1]
    check_work("5 copies of values (users * ages * experiments)", 5 * y.size)
    sums = {}
    for arm, member in (("control", ~is_treated), ("treatment", is_treated)):
        in_arm = active & member[..., None]
        n = in_arm.sum(axis=-2)
        few = n < 2
        if few.any():
            raise ValueError(
                f"values and treated must give at least 2 active users per arm and age, got "
                f"{int(n[few].flat[0])} in {arm} at age {int(np.argwhere(few)[0][-1])}; "
                "drop the late ages (values[..., :k]) where few users are that old"
            )
        with np.errstate(over="ignore", invalid="ignore"):
            total = np.where(in_arm, y, 0.0).sum(axis=-2)
            r = np.where(in_arm, y - (total / n)[..., None, :], 0.0)
            sums[arm] = (n, total, (r**2).sum(axis=-2) + total**2 / n)
            scaled = r / np.sqrt(n * (n - 1.0))[..., None, :]
            cov_arm = np.swapaxes(scaled, -1, -2) @ scaled
        if not all(np.isfinite(v).all() for v in sums[arm][1:] + (cov_arm,)):
            raise ValueError("values are too large for floating point: their sums of squares "
                             "overflow")
        cov = cov_arm if arm == "control" else cov + cov_arm
    effects = daily_effects(np.arange(ages), sums["control"][0], sums["control"][1],
                            sums["treatment"][0], sums["treatment"][1],
                            sum_sq_control=sums["control"][2],
                            sum_sq_treatment=sums["treatment"][2], alpha=alpha)
    return replace(effects, cov=cov)
