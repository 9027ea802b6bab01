"""Result records: a readable ``__repr__``, ``to_dict()``, ``to_frame()`` and an HTML table.

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
import html
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
    """Base class of the frozen result dataclasses.

    It gives every record a readable multi-line ``__repr__``, an HTML table in notebooks
    (``_repr_html_``), :meth:`to_dict` and :meth:`to_frame`.
    """

    def to_dict(self) -> dict:
        """The shown fields as a plain ``dict`` (numpy scalars become Python numbers)."""
        out = {}
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            if field.repr:
                value = getattr(self, field.name)
                out[field.name] = value.item() if isinstance(value, np.generic) else value
        return out

    def to_frame(self):
        """The record as a pandas DataFrame.

        Scalar fields give one row. When fields are 1-d arrays of one length (a result computed
        for many experiments, looks or segments at once), there is one row per element and the
        scalar fields repeat on every row. Fields that are neither (tables, nested records,
        arrays of another length) are left out: read them from the attribute.
        """
        import pandas as pd

        values = self.to_dict()
        lengths = {
            len(v) for v in values.values() if isinstance(v, np.ndarray) and v.ndim == 1
        }
        length = max(lengths) if lengths else None
        columns = {}
        for name, value in values.items():
            if isinstance(value, np.ndarray):
                if value.ndim == 1 and len(value) == length:
                    columns[name] = value
            elif isinstance(value, (numbers.Number, str, bool, np.bool_)) or value is None:
                columns[name] = [value] * (length or 1)
        return pd.DataFrame(columns)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(name)}</th>"
            f"<td style='text-align:right'>{html.escape(format_value(name, value))}</td></tr>"
            for name, value in self.to_dict().items()
        )
        return (
            f"<table><caption style='text-align:left'><b>{html.escape(type(self).__name__)}</b>"
            f"</caption><tbody>{rows}</tbody></table>"
        )

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}("]
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            if field.repr:
                text = format_value(field.name, getattr(self, field.name))
                lines.append(f"    {field.name}={text},")
        lines.append(")")
        return "\n".join(lines)
