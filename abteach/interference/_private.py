"""Private numerics of :mod:`abteach.interference`: the Wald test shared by its records."""

from __future__ import annotations

import numpy as np

from abteach._validate import scalar_or_array
from abteach.inference._core import _first_index, _interval, _pvalue, _where


def wald(estimate, se, alternative: str, alpha: float, df=None) -> dict:
    """statistic, p-value and interval of ``estimate`` with standard error ``se`` (N(0, 1) or
    Student t with ``df``), as the fields of a record."""
    estimate, se = np.asarray(estimate, dtype=float), np.asarray(se, dtype=float)
    statistic = estimate / se
    low, high = _interval(estimate, se, alternative, alpha, df)
    return {
        "statistic": scalar_or_array(statistic),
        "pvalue": scalar_or_array(_pvalue(statistic, alternative, df)),
        "ci_low": scalar_or_array(low),
        "ci_high": scalar_or_array(high),
        "se": scalar_or_array(se),
    }


def refuse_flat(se, names: str) -> None:
    """Refuse a standard error that is 0 or not finite (the data do not vary, or overflow)."""
    bad = ~np.isfinite(se) | (np.asarray(se) <= 0)
    if bad.any():
        raise ValueError(
            f"{names} give a standard error of 0 (or one too large for floating point)"
            f"{_where(_first_index(bad))}: the data do not vary enough for a test"
        )


def last_axis(name: str, array: np.ndarray, minimum: int) -> np.ndarray:
    """Refuse a scalar or fewer than ``minimum`` values along the last axis."""
    if array.ndim == 0 or array.shape[-1] < minimum:
        raise ValueError(
            f"{name} must hold at least {minimum} values along its last axis, got shape "
            f"{array.shape}"
        )
    return array
