"""Shared pieces of the effect-series analyses of :mod:`abteach.novelty` (private): checks of
a time axis and its effects, the weights of weighted least squares, normal and t intervals."""

from __future__ import annotations


import numpy as np
from scipy import stats

from abteach._validate import as_float_array, broadcast, check_positive, first_bad

_EPS = np.finfo(float).eps
#: Below this, (effect / se)**2 is no longer a full-precision floating-point number.
_SMALLEST_RATIO = float(np.sqrt(np.finfo(float).tiny / _EPS))


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


def _check_last_axis(name: str, array: np.ndarray, size: int, axis_name: str) -> None:
    if array.ndim == 0 or array.shape[-1] != size:
        got = "a single number" if array.ndim == 0 else f"{array.shape[-1]} values"
        raise ValueError(
            f"{name} must have one value per element of {axis_name} ({size}) along its last "
            f"axis, got {got}"
        )


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


def _check_cov(cov, shape: tuple) -> np.ndarray:
    """``cov`` as a symmetric positive semi-definite array broadcast to ``shape`` (..., T, T)."""
    c = as_float_array("cov", cov)
    size = shape[-1]
    if c.ndim < 2 or c.shape[-2:] != (size, size):
        raise ValueError(f"cov must have shape (..., {size}, {size}), one row and column per "
                         f"point of time, got shape {c.shape}")
    try:
        c = np.broadcast_to(c, shape)
    except ValueError:
        raise ValueError(f"cov must broadcast against effect's leading axes {shape[:-2]}, got "
                         f"shape {c.shape}") from None
    diagonal = np.diagonal(c, axis1=-2, axis2=-1)
    scale = np.sqrt(np.abs(diagonal[..., :, None] * diagonal[..., None, :]))
    if not (diagonal > 0).all():
        raise ValueError("cov must have a positive diagonal (variances), got "
                         f"{first_bad(diagonal, ~(diagonal > 0))}")
    asymmetric = np.abs(c - np.swapaxes(c, -1, -2)) > 1e-9 * scale
    if asymmetric.any():
        raise ValueError(f"cov must be symmetric, got {first_bad(c, asymmetric)} against "
                         "its transpose")
    with np.errstate(all="ignore"):
        corr = c / scale
    if not np.isfinite(corr).all() or (np.linalg.eigvalsh(corr)[..., 0] < -1e-9 * size).any():
        raise ValueError("cov must be a covariance matrix (positive semi-definite), got one "
                         "with a negative eigenvalue")
    return c


def _too_large() -> ValueError:
    return ValueError("effect, se and time are too large for floating point: the weighted "
                      "sums overflow")


def _exp_decay(time, tau):
    """exp(-time / tau) for time >= 0: 0 where time / tau overflows (a tau of 1e-320 days)."""
    with np.errstate(over="ignore"):
        return np.exp(-time / tau)
