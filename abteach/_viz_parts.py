"""Private parts of :mod:`abteach.viz`: the house style (one plotly template for every figure
of the course), argument checks and drawing helpers shared by the figure builders."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from abteach._records import format_number
from abteach._validate import as_float_array, check_scalar

#: The house template: ``plotly_white`` with margins that leave the plot area to the data,
#: titles that make room for themselves (several lines when the book wraps them on a narrow
#: screen), and axes that grow their margin for long tick labels instead of overprinting.
HOUSE = go.layout.Template(pio.templates["plotly_white"])
HOUSE.layout.update(
    autosize=True,
    margin=dict(l=20, r=20, t=70, b=20, autoexpand=True),
    title=dict(y=0.98, yanchor="top", yref="container",
               automargin=True, font=dict(size=17)),
    xaxis=dict(automargin=True, title=dict(standoff=8)),
    yaxis=dict(automargin=True, title=dict(standoff=8)),
)
pio.templates["abteach"] = HOUSE
TEMPLATE = "abteach"
#: The colour convention of every figure of the course.
COLORS = {
    "control": "#7f7f7f",
    "treatment": "#1f77b4",
    "pass": "#2ca02c",
    "fail": "#d62728",
    "inconclusive": "#f0a30a",
    "reference": "#7f7f7f",
    "boundary": "#444444",
}
#: Colours of further series (several effects, arms beyond two), after the treatment blue;
#: grey, green, red and amber are kept for their meanings above.
SERIES_COLORS = ("#1f77b4", "#9467bd", "#8c564b", "#17becf", "#bcbd22", "#e377c2")
STATUSES = ("pass", "fail", "inconclusive")
BAD_DIRECTIONS = ("increase", "decrease")
_NUMBER = ":.4g"


# --- checks ----------------------------------------------------------------------------------


def _text(name: str, value) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {value!r}")
    return value


def _vector(name: str, value, size: int | None = None, what: str = "day") -> np.ndarray:
    """A finite 1-D float array, of length ``size`` when given."""
    array = as_float_array(name, value)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    if size is not None and array.size != size:
        raise ValueError(f"{name} must have one value per {what} ({size}), got {array.size}")
    return array


def _ordered(pairs, labels=None) -> None:
    """Check ``a <= b`` element-wise for each ``((a_name, a), (b_name, b))``."""
    for (a_name, a), (b_name, b) in pairs:
        bad = a > b
        if bad.any():
            i = int(np.argmax(bad))
            where = f"at index {i}" if labels is None else f"at {labels[i]!r}"
            raise ValueError(
                f"{a_name} must be <= {b_name}, got {float(a[i])!r} > {float(b[i])!r} ({where})"
            )


def _field(record, attribute: str, name: str):
    """``record.attribute``, or a TypeError naming the argument and the missing field."""
    try:
        return getattr(record, attribute)
    except AttributeError:
        raise TypeError(
            f"{name} must have a field {attribute!r} ({type(record).__name__} has none)"
        ) from None


def _one_stream(name: str, array: np.ndarray) -> None:
    if np.ndim(array) != 1:
        raise ValueError(
            f"{name} must hold one experiment (1-D arrays), got shape {np.shape(array)}; "
            "select one experiment first"
        )


def _stop_marker(x, y, name: str, **hover) -> go.Scatter:
    """The star that marks the look where a monitored experiment may stop."""
    return go.Scatter(
        x=[x], y=[y], mode="markers", name=name,
        marker=dict(symbol="star", size=18, color=COLORS["pass"], line=dict(color="black", width=1)),
        **hover,
    )


def _stop_look(name: str, value, looks: int) -> int:
    """A 1-based look number in [0, looks], 0 meaning "not stopped"."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or not (
            0 <= value <= looks):
        raise ValueError(f"{name} must be an integer in [0, {looks}], got {value!r}")
    return int(value)


def _bounds(name: str, value, size: int) -> np.ndarray:
    """Interval bounds of a record: ``size`` numbers, infinite allowed, never NaN."""
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        array = np.full(1, np.nan)
    if array.shape != (size,) or np.isnan(array).any():
        raise ValueError(f"{name} must hold {size} numbers (no NaN), got {value!r}")
    return array


def _level(alpha) -> str:
    return f"{format_number(100 * (1 - float(alpha)), 4)}%"


def _references(reference) -> dict[str, float]:
    """``None``, one number (labelled "no effect" at 0) or a dict {label: number}."""
    if reference is None:
        return {}
    if isinstance(reference, Mapping):
        items = list(reference.items())
    else:
        value = check_scalar("reference", as_float_array("reference", reference))
        items = [("no effect" if value == 0 else "reference", value)]
    lines = {}
    for label, value in items:
        _text("reference labels", label)
        lines[label] = check_scalar(f"reference[{label!r}]",
                                    as_float_array(f"reference[{label!r}]", value))
    return lines


# --- drawing ---------------------------------------------------------------------------------


def _rgba(color: str, opacity: float) -> str:
    red, green, blue = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {opacity})"


def _layout(fig: go.Figure, title, xaxis_title, yaxis_title) -> go.Figure:
    fig.update_layout(
        title=_text("title", title), template=TEMPLATE, hovermode="closest", showlegend=True,
        legend=dict(orientation="h", yanchor="top", y=-0.2),
    )
    fig.update_xaxes(title_text=_text("xaxis_title", xaxis_title))
    fig.update_yaxes(title_text=_text("yaxis_title", yaxis_title))
    return fig


def _draw_references(fig: go.Figure, reference, axis: str) -> None:
    """Dashed reference lines with their labels. Labels of vertical lines alternate between the
    top and the bottom of the plot, so two nearby lines do not print over each other."""
    line = dict(color=COLORS["reference"], dash="dash", width=1)
    for index, (label, value) in enumerate(_references(reference).items()):
        if axis == "y":
            fig.add_hline(value, line=line, annotation_text=label,
                          annotation_font_color=COLORS["reference"])
        else:
            fig.add_vline(value, line=line, annotation_text=label,
                          annotation_font_color=COLORS["reference"],
                          annotation_position=("top right", "bottom right")[index % 2])


def _band(x, low, high, *, name: str, color: str, opacity: float = 0.2, group: str) -> go.Scatter:
    """A shaded interval: the upper bound left to right, then the lower bound back."""
    return go.Scatter(
        x=np.r_[x, x[::-1]], y=np.r_[high, low[::-1]], fill="toself",
        fillcolor=_rgba(color, opacity), line=dict(width=0), hoverinfo="skip", name=name,
        legendgroup=group,
    )


def _series(fig, x, y, low, high, *, name: str, color: str, ci_label: str, x_label: str,
            band_name: str | None = None, extra=()) -> None:
    """One estimate over time, with its interval as a band when ``low``/``high`` are given.

    The band's legend name is ``band_name`` (default "name: ci_label"); ``extra`` adds hover
    lines: (label, values, d3 format) triples.
    """
    hover = [f"{name}", f"{x_label} %{{x}}", f"estimate %{{y{_NUMBER}}}"]
    columns = []
    if low is not None:
        fig.add_trace(_band(x, low, high, name=band_name or f"{name}: {ci_label}", color=color,
                            group=name))
        hover.append(f"{ci_label} [%{{customdata[0]{_NUMBER}}}, %{{customdata[1]{_NUMBER}}}]")
        columns += [low, high]
    for label, values, number in extra:
        hover.append(f"{label} %{{customdata[{len(columns)}]{number}}}")
        columns.append(values)
    fig.add_trace(go.Scatter(
        x=x, y=y, mode="lines+markers", name=name, legendgroup=name,
        line=dict(color=color), marker=dict(color=color, size=6),
        customdata=np.column_stack(columns) if columns else None,
        hovertemplate="<br>".join(hover) + "<extra></extra>",
    ))


def _interval_rows(fig, labels, x, low, high, groups, *, hover_format: str, extra=(),
                   keep=()) -> None:
    """Horizontal intervals, one row per label (first on top), one trace per group.

    ``groups = (row_keys, legend)``: the group of each row and ``{key: (legend name,
    colour)}``. ``extra`` adds hover lines: (label, values per row, d3 format) triples.
    Infinite bounds are drawn to the edge of an axis that keeps every finite value and
    the numbers in ``keep`` in view.
    """
    row_keys, legend = groups
    shown_low, shown_high = low, high
    if not (np.isfinite(low).all() and np.isfinite(high).all()):
        finite = np.concatenate([x, low[np.isfinite(low)], high[np.isfinite(high)],
                                 np.asarray(keep, dtype=float)])
        span = max(float(np.ptp(finite)), 1e-6)
        edges = [float(finite.min()) - 0.15 * span, float(finite.max()) + 0.15 * span]
        shown_low, shown_high = np.maximum(low, edges[0]), np.minimum(high, edges[1])
        fig.update_xaxes(range=edges)
    for key, (name, color) in legend.items():
        rows = np.flatnonzero(np.asarray(row_keys) == key)
        if rows.size == 0:
            continue
        hover = [f"%{{y}}: %{{x{hover_format}}}",
                 f"CI [%{{customdata[0]{hover_format}}}, %{{customdata[1]{hover_format}}}]"]
        hover += [f"{label} %{{customdata[{2 + i}]{number}}}"
                  for i, (label, _, number) in enumerate(extra)]
        fig.add_trace(go.Scatter(
            x=x[rows], y=[labels[i] for i in rows], mode="markers", name=name,
            marker=dict(color=color, size=10),
            error_x=dict(type="data", symmetric=False, color=color, thickness=2,
                         array=shown_high[rows] - x[rows], arrayminus=x[rows] - shown_low[rows]),
            customdata=np.column_stack([low[rows], high[rows],
                                        *[values[rows] for _, values, _ in extra]]),
            hovertemplate="<br>".join(hover) + "<extra>" + name + "</extra>",
        ))
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=list(labels),
                     autorange="reversed")




def _per_series(name: str, given, keys: list):
    if given is None:
        return dict.fromkeys(keys)
    if not isinstance(given, Mapping):
        raise TypeError(
            f"{name} must be a dict with the keys of value when value is a dict, got "
            f"{type(given).__name__}"
        )
    if list(given) != keys:
        raise ValueError(f"{name} must have the keys of value {keys}, got {list(given)}")
    return given
