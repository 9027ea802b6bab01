"""Private pieces shared by the two-arm tests of :mod:`abteach.inference`.

Argument checks for raw samples and counts, the numerical core (p-values, Wald intervals, the
lift and its two delta-method intervals) and the building blocks of the ``explain()`` texts.
Nothing here is public: the chapters read the test modules, which call these helpers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import stats

from abteach._records import brief as _f, format_number
from abteach._validate import as_float_array, scalar_or_array

# A standard error at or below this many machine epsilons times the larger |estimate| means
# the data do not vary (the rule of R's t.test, "data are essentially constant").
_FLAT = 10 * np.finfo(float).eps


# --------------------------------------------------------------------------------------------
# Shared checks
# --------------------------------------------------------------------------------------------


def _counts_or_array(array: np.ndarray):
    """Return a Python int for a 0-d count array and an independent copy otherwise."""
    return int(array) if array.ndim == 0 else np.array(array)


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
            f"{spread_names} give a standard error of 0 next to the size of the estimates "
            f"({names}){_where(_first_index(flat))}: the data do not vary, so the test "
            "statistic is undefined (R's t.test stops with 'data are essentially constant')"
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
    if tail == 0.5:  # the median, exactly 0 (scipy < 1.16's t.isf returns about 1e-17 there)
        return 0.0
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
