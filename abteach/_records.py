"""A readable ``__repr__`` for the frozen dataclasses that hold results.

Every result record of abteach subclasses :class:`Record` and is declared with
``@dataclass(frozen=True, repr=False, eq=False)``: ``repr=False`` because otherwise the
dataclass decorator writes its own ``__repr__`` over this one, ``eq=False`` because ``==``
on numpy array fields is ambiguous. The repr lists the fields one per line, numbers
formatted, big arrays summarised::

    ProportionsZTest(
        statistic=7.38511,
        pvalue=1.523e-13,
        ...
    )
"""

from __future__ import annotations

import dataclasses
import numbers

import numpy as np

#: Significant digits of a float in a repr (p-values get ``PVALUE_DIGITS``).
DIGITS = 6
PVALUE_DIGITS = 4
#: Arrays with more elements than this are summarised by shape and range.
MAX_LISTED = 6


def format_number(value, digits: int = DIGITS) -> str:
    """Format an int as is and a float to ``digits`` significant digits.

    ``g`` formatting switches to scientific notation below 1e-4, so small p-values
    read as ``1.163e-07`` rather than ``0.000000116``; numbers with at least ``digits``
    whole digits are printed whole (``15990``, not ``1.599e+04``).
    """
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    number = float(value)
    if 1.0 <= abs(number) < 1e15 and len(str(int(abs(number)))) >= digits:
        return f"{number:.0f}"  # 15990 rather than 1.599e+04: whole digits are never cut
    return format(number, f".{digits}g")


def brief(value) -> str:
    """A number in an ``explain()`` text: 4 significant digits (whole digits kept)."""
    return format_number(value, 4)


def format_value(name: str, value) -> str:
    """Format one field: numbers, numpy arrays (listed when short), anything else by repr."""
    digits = PVALUE_DIGITS if "pvalue" in name else DIGITS
    if isinstance(value, np.ndarray):
        if value.size > MAX_LISTED or value.ndim != 1:
            text = f"array(shape={value.shape}, dtype={value.dtype}"
            if value.size and np.issubdtype(value.dtype, np.number):
                text += (
                    f", min={format_number(value.min().item(), digits)}"
                    f", max={format_number(value.max().item(), digits)}"
                )
            return text + ")"
        return "[" + ", ".join(format_number(v.item(), digits) for v in value) + "]"
    if isinstance(value, numbers.Number):
        return format_number(value, digits)
    return repr(value)


class Record:
    """Base class giving a frozen result dataclass a readable, multi-line ``__repr__``."""

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}("]
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            if field.repr:
                text = format_value(field.name, getattr(self, field.name))
                lines.append(f"    {field.name}={text},")
        lines.append(")")
        return "\n".join(lines)
