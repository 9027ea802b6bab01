r"""Novelty checks on user-day data: effects by days since first exposure, with the users as
clusters, and arrival cohorts compared over a fixed per-user window.

The effects of :func:`daily_effects` come from per-day sufficient statistics, and
:func:`trend_test` treats them as independent. Computed by age (days since first exposure)
from a log where users come back, they are not: a user active at ages 0, 1 and 3 enters
three points. And comparing arrival cohorts on "everything a user did until the end of the
experiment" compares unequal follow-up times: the first cohort is followed for the whole
experiment, the last one for a day, so a trend across cohorts appears even when the effect
never changes (censoring mixed with age). The two functions here start from user-day rows
(one row per user and observed day, zeros included) and avoid both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from abteach._records import Record, brief as _f, format_number
from abteach._validate import (
    as_float_array,
    check_alpha,
    check_choice,
    check_count,
    check_int,
    check_work,
    first_bad,
)
from abteach.novelty._series import _interval, _pvalue

__all__ = ["ExposureEffects", "SCALES_EXPOSURE", "exposure_effects", "window_effects"]

#: The scales of an effect, the difference of means or the relative lift (log ratio of means).
SCALES_EXPOSURE = ("absolute", "relative")
_MIN_PER_ARM = 2  # users per arm and point below which a variance cannot be estimated


@dataclass(frozen=True, repr=False, eq=False)
class ExposureEffects(Record):
    """Result of :func:`exposure_effects` and :func:`window_effects`.

    One point per value of ``x`` (days since first exposure, or arrival cohort): ``effect``
    is treatment minus control (``scale="absolute"``) or the lift mean_t / mean_c - 1
    (``scale="relative"``, whose ``se`` is the standard error of the log ratio and whose
    interval is exp(log ratio -/+ z se) - 1). ``slope`` is the weighted least-squares slope
    of the effects (the log ratios on the relative scale) on ``x``, per unit of ``x``, with
    a standard error that counts every user once (``slope_se``) and the one that would
    treat the points as independent (``naive_slope_se``).
    """

    by: str
    x: np.ndarray
    effect: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    mean_control: np.ndarray
    mean_treatment: np.ndarray
    n_control: np.ndarray
    n_treatment: np.ndarray
    slope: float
    slope_se: float
    naive_slope_se: float
    slope_ci_low: float
    slope_ci_high: float
    statistic: float
    pvalue: float
    n_users: int
    scale: str
    alpha: float

    @property
    def day(self) -> np.ndarray:
        """``x`` under the name :func:`~abteach.effect_over_time` reads."""
        return self.x

    def to_frame(self) -> pd.DataFrame:
        """One row per point: x, effect, se, interval, means and users per arm."""
        names = ("x", "effect", "se", "ci_low", "ci_high", "mean_control", "mean_treatment",
                 "n_control", "n_treatment")
        return pd.DataFrame({name: getattr(self, name) for name in names})

    def explain(self) -> str:
        """The formulas and the trend test, in words."""
        level = f"{format_number(100 * (1 - self.alpha), 4)}%"
        point = "log(mean_t / mean_c)" if self.scale == "relative" else "mean_t - mean_c"
        what = ("days since first exposure" if self.by == "age"
                else "arrival cohort, fixed per-user window")
        return "\n".join([
            f"Effects by {what}: {self.x.size} points, {self.n_users} users ({self.scale} scale)",
            f"  point effect = {point}; variance from the users' influence terms "
            "(each user a cluster)",
            f"  slope = sum c_k effect_k, c_k the weighted least-squares weights on x: "
            f"{_f(self.slope)} per unit of x",
            f"  SE (users as clusters) = {_f(self.slope_se)}; SE if the points were "
            f"independent = {_f(self.naive_slope_se)}",
            f"  z = {_f(self.statistic)}, two-sided p = {format_number(self.pvalue, 4)}; "
            f"{level} CI of the slope [{_f(self.slope_ci_low)}, {_f(self.slope_ci_high)}]",
        ])


def _array(name: str, value) -> np.ndarray:
    """np.asarray, with a ragged or unconvertible value refused under the argument's name."""
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{name} must be a one-dimensional array, got {value!r}") from exc


def _labels(name: str, value) -> np.ndarray:
    array = _array(name, value)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty one-dimensional array, got shape "
                         f"{array.shape}")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ValueError(f"{name} must not hold NaN or inf, got "
                         f"{first_bad(array, ~np.isfinite(array))}")
    return array


def _treated(value, size: int) -> np.ndarray:
    array = _array("treated", value)
    if array.shape != (size,) or array.dtype != bool:
        raise TypeError(f"treated must be a boolean array with one value per row ({size}), got "
                        f"{value!r}")
    return array


def _per_unit(name: str, values: np.ndarray, inverse: np.ndarray, n_units: int) -> np.ndarray:
    """The one value each unit has in ``values`` (refused when a unit has two)."""
    first = np.zeros(n_units, dtype=values.dtype)
    first[inverse] = values
    differ = first[inverse] != values
    if differ.any():
        raise ValueError(f"{name} must be constant within each unit, got "
                         f"{first_bad(values, differ)}")
    return first


def _rows(unit, treated, age, outcome):
    """Checked user-day rows: unit index, number of units, arm per unit, age, outcome."""
    outcome = as_float_array("outcome", outcome)
    if outcome.ndim != 1:
        raise ValueError(f"outcome must be one-dimensional, got shape {outcome.shape}")
    age = check_count("age", age)
    labels = _labels("unit", unit)
    for name, array in (("unit", labels), ("age", age)):
        if array.shape != outcome.shape:
            raise ValueError(f"{name} must have one value per row of outcome ({outcome.size}), "
                             f"got shape {array.shape}")
    treated = _treated(treated, outcome.size)
    try:
        _, inverse = np.unique(labels, return_inverse=True)
    except TypeError as exc:  # labels of types that cannot be ordered (None next to strings)
        raise TypeError(f"unit must hold labels of one comparable type, got {unit!r}") from exc
    n_units = int(inverse.max()) + 1
    check_work("users * (largest age + 1)", n_units * (float(age.max()) + 1))
    key = inverse * (int(age.max()) + 1) + age
    order = np.argsort(key, kind="stable")
    twice = np.zeros(key.size, dtype=bool)
    twice[order[1:][np.diff(key[order]) == 0]] = True
    if twice.any():
        raise ValueError(f"age must be unique within each unit (one row per user and day), got "
                         f"{first_bad(age, twice)} twice for unit {labels[np.argmax(twice)]!r}")
    return inverse, n_units, _per_unit("treated", treated, inverse, n_units), age, outcome


def _arm_terms(values, seen, arm, scale: str):
    """Mean per point and each user's influence term g (users x points) within one arm."""
    n = seen[arm].sum(axis=0)
    mean = values[..., arm, :].sum(axis=-2) / n
    g = seen[arm] * (values[..., arm, :] - mean[..., None, :]) / n
    if scale == "relative":
        g = g / mean[..., None, :]
    return mean, n, g


def _slope(x, effect, var, g):
    """WLS slope of effect on x (weights 1 / var) and its variances: clustered, independent."""
    w = 1.0 / var
    xc = x - (w * x).sum(axis=-1, keepdims=True) / w.sum(axis=-1, keepdims=True)
    c = w * xc / (w * xc * xc).sum(axis=-1, keepdims=True)
    score = (g * c[..., None, :]).sum(axis=-1)  # one term per user
    return (c * effect).sum(axis=-1), (score * score).sum(axis=-1), (c * c * var).sum(axis=-1)


def _effects(values, seen, treated, x, scale: str):
    """Point effects, their variances and the slope (with leading batch axes on values)."""
    mean_c, n_c, g_c = _arm_terms(values, seen, ~treated, scale)
    mean_t, n_t, g_t = _arm_terms(values, seen, treated, scale)
    if scale == "relative":
        effect = np.log(mean_t) - np.log(mean_c)
    else:
        effect = mean_t - mean_c
    var = (g_c * g_c).sum(axis=-2) + (g_t * g_t).sum(axis=-2)
    slope, slope_var, naive_var = _slope(x, effect, var, np.concatenate([g_c, g_t], axis=-2))
    return effect, var, slope, slope_var, naive_var, (mean_c, mean_t, n_c, n_t)


def _check_points(x, values, seen, treated, scale: str, by: str) -> None:
    """Refuse points with too few users per arm, or a zero mean on the relative scale."""
    for arm, name in ((~treated, "control"), (treated, "treatment")):
        n = seen[arm].sum(axis=0)
        if (n < _MIN_PER_ARM).any():
            k = int(np.argmax(n < _MIN_PER_ARM))
            raise ValueError(f"{by} {int(x[k])} has {int(n[k])} {name} user(s); at least "
                             f"{_MIN_PER_ARM} per arm and point are needed (drop the rows of "
                             f"sparse points)")
        if scale == "relative" and (values[arm].sum(axis=0) <= 0).any():
            k = int(np.argmax(values[arm].sum(axis=0) <= 0))
            raise ValueError(f"scale='relative' needs a positive mean outcome in each arm, got "
                             f"a {name} mean <= 0 at {by} {int(x[k])}")
    if x.size < 2:
        raise ValueError(f"a trend needs at least 2 values of {by}, got {x.size}")


def _record(by, x, values, seen, treated, scale, alpha) -> ExposureEffects:
    _check_points(x, values, seen, treated, scale, by)
    effect, var, slope, slope_var, naive_var, (mean_c, mean_t, n_c, n_t) = _effects(
        values, seen, treated, x, scale)
    se = np.sqrt(var)
    low, high = _interval(effect, se, "two-sided", alpha)
    if scale == "relative":
        effect, low, high = np.expm1(effect), np.expm1(low), np.expm1(high)
    slope_se = float(np.sqrt(slope_var))
    slope_low, slope_high = _interval(np.float64(slope), slope_se, "two-sided", alpha)
    statistic = float(slope / slope_se) if slope_se > 0 else 0.0
    return ExposureEffects(
        by=by, x=x, effect=effect, se=se, ci_low=low, ci_high=high, mean_control=mean_c,
        mean_treatment=mean_t, n_control=n_c, n_treatment=n_t, slope=float(slope),
        slope_se=slope_se, naive_slope_se=float(np.sqrt(naive_var)),
        slope_ci_low=float(slope_low), slope_ci_high=float(slope_high), statistic=statistic,
        pvalue=float(_pvalue(statistic, "two-sided")), n_users=int(seen.any(axis=1).sum()),
        scale=scale, alpha=alpha,
    )


def exposure_effects(unit, treated, age, outcome, *, scale: str = "absolute",
                     alpha: float = 0.05) -> ExposureEffects:
    r"""Effect by days since first exposure from user-day rows, each user one cluster.

    Rows are user-days: one per user and day the user was observed since their first
    exposure (age 0 is the exposure day), days without activity included with outcome 0,
    days after the end of the experiment absent. For each age :math:`k` and arm the mean is
    :math:`\bar y_{k} = \sum_{i} y_{ik} / n_k` over the users observed at age :math:`k`, and
    each user's influence term is :math:`g_{ik} = (y_{ik} - \bar y_k) / n_k` (divided by
    :math:`\bar y_k` on the relative scale, the delta method for :math:`\log \bar y_k`).
    The effect of age :math:`k` is :math:`\hat\Delta_k = \bar y^t_k - \bar y^c_k` (or
    :math:`\log(\bar y^t_k / \bar y^c_k)`) with variance :math:`v_k = \sum_i g_{ik}^2`
    summed over both arms. The trend is the weighted least-squares slope

    .. math:: \hat\beta = \sum_k c_k \hat\Delta_k, \qquad
              c_k = \frac{w_k (k - \bar k_w)}{\sum_j w_j (j - \bar k_w)^2}, \quad w_k = 1 / v_k,

    whose variance counts each user once, across all the ages they contribute to:

    .. math:: \widehat{\mathrm{Var}}(\hat\beta) = \sum_i \Big(\sum_k c_k g_{ik}\Big)^2 .

    This is the cluster-robust (CR0) variance of the user-level regression of the outcome on
    age-by-arm indicators with standard errors clustered by user (Liang & Zeger 1986;
    Cameron & Miller 2015), reduced to the slope; ``naive_slope_se``, :math:`\sqrt{\sum_k
    c_k^2 v_k}`, is what a test that treats the ages as independent would use. The test is
    :math:`z = \hat\beta / \mathrm{SE}`, normal, two-sided: a large-sample test in the
    number of users. A negative slope of a positive effect is a fading (novelty) effect.

    Use ``scale="relative"`` when the baseline itself changes with age (purchases per day
    fall as users age in both arms): an unchanged relative lift is then a shrinking
    difference.

    Parameters
    ----------
    unit : array-like
        User id of each row (any labels).
    treated : array of bool
        Arm of each row (True = treatment), constant within a user.
    age : array of int
        Days since the user's first exposure (>= 0), unique within a user.
    outcome : array of float
        The user's metric on that day (0 on a day without activity).
    scale : {"absolute", "relative"}
        Difference of means, or lift (log ratio of means).
    alpha : float
        Two-sided level of the intervals.

    Returns
    -------
    ExposureEffects
        ``by = "age"``; ``x`` the ages, one point each.

    References
    ----------
    Liang, K.-Y. & Zeger, S. L. (1986), Longitudinal data analysis using generalized linear
    models, *Biometrika* 73(1), 13-22.
    Cameron, A. C. & Miller, D. L. (2015), A practitioner's guide to cluster-robust inference,
    *Journal of Human Resources* 50(2), 317-372.

    Examples
    --------
    >>> res = exposure_effects(["a", "a", "b", "b", "c", "c", "d", "d"],
    ...                        [False, False, False, False, True, True, True, True],
    ...                        [0, 1, 0, 1, 0, 1, 0, 1], [1, 0, 2, 1, 2, 2, 3, 1])
    >>> [round(float(e), 2) for e in res.effect], round(res.slope, 2)
    ([1.0, 1.0], 0.0)
    """
    scale = check_choice("scale", scale, SCALES_EXPOSURE)
    alpha = check_alpha(alpha)
    inverse, n_units, arm, age, outcome = _rows(unit, treated, age, outcome)
    ages = np.unique(age)
    column = np.searchsorted(ages, age)
    values = np.zeros((n_units, ages.size))
    seen = np.zeros((n_units, ages.size), dtype=bool)
    values[inverse, column] = outcome
    seen[inverse, column] = True
    return _record("age", ages, values, seen, arm, scale, alpha)


def window_effects(unit, treated, age, outcome, cohort, *, window: int,
                   scale: str = "absolute", alpha: float = 0.05) -> ExposureEffects:
    r"""Effect by arrival cohort over a fixed per-user window, and its trend across cohorts.

    Each user's outcome is the sum of their user-day outcomes at ages 0 to ``window - 1``
    (e.g. purchases in the first 7 days after first exposure); users with no row at age
    ``window - 1`` were not observed for the whole window and are left out, so every
    cohort is measured over the same span of each user's life in the experiment. Cohorts
    (``cohort``: the day of first exposure) are disjoint sets of users, so their effects are
    independent; the slope across cohorts is the weighted least-squares slope of
    :func:`exposure_effects` with one point per cohort,

    .. math:: \hat\beta = \sum_d c_d \hat\Delta_d, \qquad
              \widehat{\mathrm{Var}}(\hat\beta) = \sum_d c_d^2 v_d ,

    (``slope_se`` and ``naive_slope_se`` agree). A trend here says that later cohorts
    respond differently over the same window (a change of the population or of the
    treatment over calendar time); the decay within users is :func:`exposure_effects`'.

    Parameters
    ----------
    unit, treated, age, outcome : array-like
        User-day rows as in :func:`exposure_effects`.
    cohort : array of int
        Calendar day of the user's first exposure (constant within a user).
    window : int
        Days of each user's window (>= 1).
    scale, alpha
        As in :func:`exposure_effects`.

    Returns
    -------
    ExposureEffects
        ``by = "cohort"``; ``x`` the cohorts observed for the whole window.

    References
    ----------
    Kohavi, R., Tang, D. & Xu, Y. (2020), *Trustworthy Online Controlled Experiments*,
    Cambridge University Press, ch. 23 (cohort analysis of long-term effects).

    Examples
    --------
    >>> units = list("aabbccddefgh")
    >>> arm = [u in "cdgh" for u in units]
    >>> res = window_effects(units, arm, [0, 1] * 4 + [0] * 4,
    ...                      [1, 5, 0, 5, 1, 0, 1, 0, 0, 0, 1, 0],
    ...                      [1] * 8 + [2] * 4, window=1)
    >>> res.x.tolist(), [round(float(e), 2) for e in res.effect]
    ([1, 2], [0.5, 0.5])
    """
    window = check_int("window", window, minimum=1)
    scale = check_choice("scale", scale, SCALES_EXPOSURE)
    alpha = check_alpha(alpha)
    inverse, n_units, arm, age, outcome = _rows(unit, treated, age, outcome)
    day = check_count("cohort", cohort)
    if day.shape != outcome.shape:
        raise ValueError(f"cohort must have one value per row of outcome ({outcome.size}), got "
                         f"shape {day.shape}")
    first = _per_unit("cohort", day, inverse, n_units)
    complete = np.zeros(n_units, dtype=bool)
    complete[inverse[age == window - 1]] = True
    total = np.bincount(inverse, weights=np.where(age < window, outcome, 0.0),
                        minlength=n_units)
    if not complete.any():
        raise ValueError(f"no user is observed for the whole window of {window} days (no row "
                         f"with age {window - 1}); use a shorter window")
    cohorts = np.unique(first[complete])
    column = np.searchsorted(cohorts, first)
    values = np.zeros((n_units, cohorts.size))
    seen = np.zeros((n_units, cohorts.size), dtype=bool)
    users = np.flatnonzero(complete)
    values[users, column[users]] = total[users]
    seen[users, column[users]] = True
    return _record("cohort", cohorts, values, seen, arm, scale, alpha)
