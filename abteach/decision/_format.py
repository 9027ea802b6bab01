"""Formatting shared by the decision records, their reasons and the report (private).

Relative changes as signed percentages, absolute effects in percentage points for
proportions, p-values to 2 significant digits, totals with thousands separators.
"""

from __future__ import annotations

import math

import numpy as np

from abteach._records import brief as _f
from abteach._records import format_number

def _percent(value: float) -> str:
    """A relative change as a signed percentage: +1.95%, -0.3%, +inf%."""
    if not math.isfinite(value):
        return "+inf%" if value > 0 else "-inf%"
    return f"{100 * value:+.3g}%"


def _share(value: float) -> str:
    """A tolerance as an unsigned percentage: 2%, 0.5%."""
    return f"{100 * value:.3g}%"


def _level_text(alpha: float) -> str:
    return f"{format_number(100 * (1 - alpha), 4)}%"


def _is_proportion(result) -> bool:
    """Proportion results (they carry p_control) are reported in percentage points."""
    return hasattr(result, "p_control")


def _number(value: float, result, *, signed: bool = False) -> str:
    """An absolute effect without its unit: percentage points (2 decimals) for a proportion,
    4 significant digits otherwise."""
    if not math.isfinite(value):
        return "+inf" if value > 0 else "-inf"
    text = f"{100 * value:.2f}" if _is_proportion(result) else _f(value)
    return f"+{text}" if signed and value >= 0 else text


def _unit(result) -> str:
    return " points" if _is_proportion(result) else ""


def _amount(value: float, result, *, signed: bool = False) -> str:
    """An absolute effect with its unit: "0.52 points" for a proportion."""
    return _number(value, result, signed=signed) + _unit(result)


def _interval(low: float, high: float, result) -> str:
    """An interval of absolute effects: "0.21 to 0.83 points"."""
    return f"{_number(low, result)} to {_number(high, result)}{_unit(result)}"


def _pvalue_text(pvalue: float) -> str:
    return f"{pvalue:.2g}"


def _sentence(text: str) -> str:
    """Capitalize the first letter of a sentence that starts with a metric name."""
    return text[:1].upper() + text[1:]


def _single(name: str, array: np.ndarray) -> float:
    """A checked 0-d array as a float; an array where one number is expected is refused."""
    if np.ndim(array) != 0:
        raise ValueError(f"{name} must be a single number, got an array of shape "
                         f"{np.shape(array)}")
    return float(array)


def _require_single(name: str, value) -> None:
    if np.ndim(value) != 0:
        raise ValueError(f"{name} must hold one experiment, got arrays of shape {np.shape(value)}")


def _units(units: float) -> str:
    return f"{units:,.0f}" if float(units).is_integer() else _f(units)


def _big(value: float) -> str:
    """Totals: thousands separators for large numbers, 4 significant digits otherwise."""
    if math.isfinite(value) and abs(value) >= 1000:
        return f"{value:,.0f}"
    return _f(value)



def _check_label(name: str, value, *, expected: str = "a non-empty string") -> str:
    """A text shown in sentences, tables and reports: a non-empty string writable as UTF-8."""
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"{name} must be {expected}, got {value!r}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{name} must be encodable as UTF-8, got {value!r}") from None
    return value
