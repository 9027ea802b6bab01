"""The static dashboard: one plotly figure that stays interactive on a web page without a kernel.

:func:`static_dashboard` draws the analyses of
:func:`~abteach.dashboard.cumulative_effects` for every experiment, with plotly's own
controls (a dropdown for the experiment, a slider for the day), which work in exported HTML.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from abteach._records import format_number
from abteach._validate import check_alpha, check_open_unit, check_scalar
from abteach.dashboard.aggregates import ALL_SEGMENTS, _check_aggregates
from abteach.dashboard.analysis import _binary_metrics, _effects
from abteach.srm import DEFAULT_THRESHOLD
from abteach.viz import COLORS, SERIES_COLORS, TEMPLATE

_DIGITS = 5  # significant digits stored in the figure (keeps the JSON small)
# The course's color convention (abteach.viz): treatment blue, alarms red, references grey.
_COLORS = {"line": COLORS["treatment"], "band": "rgba(31, 119, 180, 0.2)",
           "alarm": COLORS["fail"], "marker": COLORS["boundary"], "segment": SERIES_COLORS[1],
           "reference": COLORS["reference"]}


def _r(values) -> list:
    """Round to ``_DIGITS`` significant digits for the figure; non-finite values become None."""
    array = np.asarray(values, dtype=float)
    finite = np.isfinite(array)
    safe = np.where(finite & (array != 0), np.abs(array), 1.0)
    scale = 10.0 ** (_DIGITS - 1 - np.floor(np.log10(safe)))
    rounded = np.round(array * scale) / scale
    return [float(v) if ok else None for v, ok in zip(rounded, finite)]


def _pct(value: float) -> str:
    return f"{100 * value:+.2f}%" if np.isfinite(value) else ("+inf" if value > 0 else "-inf")


def _lift_text(rows: pd.DataFrame) -> list:
    return [
        f"{seg}: lift {_pct(r.lift)} [{_pct(r.lift_ci_low)}, {_pct(r.lift_ci_high)}], "
        f"p = {r.pvalue:.3g}<br>n = {r.n_control:,} / {r.n_treatment:,}"
        for seg, r in zip(rows["segment"], rows.itertuples())
    ]


def _day_state(effects: pd.DataFrame, experiment: str, metrics, segments, day: int) -> list:
    """Data of the slider-driven traces of one experiment as of ``day``, in trace order:
    the SRM marker, the split by segment, then per metric the marker and the forest."""
    rows = effects[(effects["experiment"] == experiment) & (effects["day"] == day)]
    # An experiment without data on that day (shorter than another) gets empty points.
    rows = rows.set_index(["metric", "segment"]).reindex(
        pd.MultiIndex.from_product([metrics, segments], names=["metric", "segment"]))
    first = rows.loc[metrics[0]].reindex(segments)
    share = first["n_treatment"] / (first["n_control"] + first["n_treatment"])
    states = [
        {"x": [day], "y": _r([first.loc[ALL_SEGMENTS, "srm_pvalue"]])},
        {"x": _r(share), "y": segments, "hovertext": [
            f"{seg}: treatment share {s:.4f}, SRM p = {p:.2g}"
            for seg, s, p in zip(segments, share, first["srm_pvalue"])
        ]},
    ]
    for metric in metrics:
        forest = rows.loc[metric].reindex(segments).reset_index()
        whole = forest.iloc[0]
        states.append({
            "x": [day], "y": _r([100 * whole.lift]),
            "error_y.array": _r([100 * (whole.lift_ci_high - whole.lift)]),
            "error_y.arrayminus": _r([100 * (whole.lift - whole.lift_ci_low)]),
            "hovertext": _lift_text(forest.iloc[:1]),
        })
        states.append({
            "x": _r(100 * forest["lift"]), "y": segments,
            "error_x.array": _r(100 * (forest["lift_ci_high"] - forest["lift"])),
            "error_x.arrayminus": _r(100 * (forest["lift"] - forest["lift_ci_low"])),
            "hovertext": _lift_text(forest),
        })
    return states


def _meta(experiment: str, panel: str, driven: bool = False) -> dict:
    """What a trace of the static dashboard shows (the dropdown and the tests read it)."""
    return {"experiment": experiment, "panel": panel, "day_driven": driven}


def static_dashboard(
    aggregates,
    *,
    alpha: float = 0.05,
    expected_ratios=None,
    threshold: float = DEFAULT_THRESHOLD,
    title: str = "Experiment dashboard",
) -> go.Figure:
    """One plotly figure that works as a dashboard on a static web page (no kernel).

    The left column shows, over the days, the cumulative SRM p-value (log scale, with the
    alarm threshold) and for each metric the cumulative relative lift (treatment / control -
    1, in %) with its 1 - alpha confidence band, as :func:`~abteach.dashboard.cumulative_effects` computes
    them. The right column shows the same analysis as of one day, by segment: the treatment
    share of the units (SRM) and each metric's lift with its interval (a forest plot).

    Two controls, both plotly's own (they work in the exported HTML): a dropdown
    (``layout.updatemenus[0]``) whose buttons set the ``visible`` mask to the traces of one
    experiment, and a slider (``layout.sliders[0]``) with one step per day whose ``restyle``
    moves the day markers and redraws the right column as of that day. Every trace carries
    ``meta = {"experiment": ..., "panel": ..., "day_driven": bool}``; the SRM threshold
    traces have ``experiment`` None and stay visible. Numbers are stored to 5 significant
    digits, which keeps the figure small (about 100 KB for the demo).

    Parameters
    ----------
    aggregates : pandas.DataFrame
        The table of :func:`~abteach.dashboard.daily_aggregates`.
    alpha : float
        Intervals have confidence 1 - alpha.
    expected_ratios : sequence of two floats, optional
        Designed shares for the SRM check (default 50/50).
    threshold : float
        SRM alarm threshold drawn on the SRM panel, in (0, 1) (default 0.0005).
    title : str
        Figure title; the selected experiment's name is appended.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    frame = _check_aggregates(aggregates)
    alpha = check_alpha(alpha)
    threshold = check_scalar("threshold", check_open_unit("threshold", threshold))
    if not isinstance(title, str):
        raise TypeError(f"title must be a str, got {title!r}")
    effects = _effects(frame, _binary_metrics(frame), alpha, expected_ratios)
    experiments = sorted(effects["experiment"].unique())
    metrics = sorted(effects["metric"].unique())
    segments = [ALL_SEGMENTS, *sorted(set(effects["segment"]) - {ALL_SEGMENTS})]
    level = format_number(100 * (1 - alpha), 4)
    rows = 1 + len(metrics)
    fig = make_subplots(
        rows=rows, cols=2, column_widths=[0.62, 0.38], horizontal_spacing=0.12,
        vertical_spacing=0.22 / rows,
        subplot_titles=[
            text for metric in ("SRM check", *metrics) for text in (
                f"{metric}: cumulative p-value (alarm below {threshold:g})"
                if metric == "SRM check" else
                f"{metric}: cumulative lift, {level}% CI",
                "treatment share by segment" if metric == "SRM check" else
                f"{metric}: lift (%) by segment",
            )
        ],
    )
    last_days = effects.groupby("experiment")["day"].agg(["min", "max"])
    days = list(range(int(last_days["min"].min()), int(last_days["max"].max()) + 1))
    day_driven = []  # (experiment, trace index) of traces the slider restyles, in state order
    for experiment in experiments:
        mine = effects[effects["experiment"] == experiment]
        meta = partial(_meta, experiment)
        whole = mine[mine["segment"] == ALL_SEGMENTS]
        srm = whole[whole["metric"] == metrics[0]]
        fig.add_trace(go.Scatter(
            x=srm["day"].tolist(), y=_r(srm["srm_pvalue"]), mode="lines+markers",
            line={"color": _COLORS["line"]}, name="SRM p-value", showlegend=False,
            meta=meta("srm"), hovertemplate="day %{x}: SRM p = %{y:.2g}<extra></extra>",
        ), row=1, col=1)
        fig.add_trace(go.Scatter(
            x=[], y=[], mode="markers", marker={"color": _COLORS["marker"], "size": 11},
            showlegend=False, meta=meta("srm", True), hoverinfo="y",
        ), row=1, col=1)
        fig.add_trace(go.Scatter(
            x=[], y=[], mode="markers", marker={"color": _COLORS["segment"], "size": 10},
            showlegend=False, meta=meta("split", True), hoverinfo="text",
        ), row=1, col=2)
        for i, metric in enumerate(metrics, start=2):
            series = whole[whole["metric"] == metric]
            day_list = series["day"].tolist()
            fig.add_trace(go.Scatter(
                x=day_list + day_list[::-1],
                y=_r(100 * np.concatenate([series["lift_ci_high"], series["lift_ci_low"][::-1]])),
                fill="toself", fillcolor=_COLORS["band"], line={"width": 0},
                hoverinfo="skip", showlegend=False, meta=meta(metric),
            ), row=i, col=1)
            fig.add_trace(go.Scatter(
                x=day_list, y=_r(100 * series["lift"]), mode="lines",
                line={"color": _COLORS["line"]}, showlegend=False, meta=meta(metric),
                hovertemplate="day %{x}: lift %{y:.2f}%<extra></extra>",
            ), row=i, col=1)
            fig.add_trace(go.Scatter(
                x=[], y=[], mode="markers", marker={"color": _COLORS["marker"], "size": 9},
                error_y={"type": "data", "color": _COLORS["marker"]}, showlegend=False,
                meta=meta(metric, True), hoverinfo="text",
            ), row=i, col=1)
            fig.add_trace(go.Scatter(
                x=[], y=[], mode="markers", marker={"color": _COLORS["segment"], "size": 9},
                error_x={"type": "data", "color": _COLORS["segment"]}, showlegend=False,
                meta=meta(metric, True), hoverinfo="text",
            ), row=i, col=2)
        day_driven += [
            (experiment, index) for index, trace in enumerate(fig.data)
            if trace.meta["experiment"] == experiment and trace.meta["day_driven"]
        ]
    fig.add_trace(go.Scatter(
        x=[days[0], days[-1]], y=[threshold, threshold], mode="lines",
        line={"color": _COLORS["alarm"], "dash": "dash"}, name=f"SRM threshold {threshold:g}",
        showlegend=False, meta={"experiment": None, "panel": "srm", "day_driven": False},
        hovertemplate=f"SRM alarm below p = {threshold:g}<extra></extra>",
    ), row=1, col=1)

    # The slider: each step restyles every day-driven trace (of every experiment, so that it
    # commutes with the dropdown, which only touches "visible").
    indices = [index for _, index in day_driven]
    keys = ("x", "y", "hovertext", "error_x.array", "error_x.arrayminus", "error_y.array",
            "error_y.arrayminus")
    steps = []
    for day in days:
        states = [
            state for experiment in experiments
            for state in _day_state(effects, experiment, metrics, segments, day)
        ]
        update = {key: [state.get(key) for state in states] for key in keys}
        update = {key: values for key, values in update.items() if any(v is not None for v in values)}
        steps.append({"method": "restyle", "label": str(day), "args": [update, indices]})
    final = steps[-1]["args"][0]
    for position, index in enumerate(indices):
        fig.data[index].update({key: values[position] for key, values in final.items()
                                if values[position] is not None})

    buttons = []
    for experiment in experiments:
        mask = [trace.meta["experiment"] in (experiment, None) for trace in fig.data]
        buttons.append({
            "method": "update", "label": experiment,
            "args": [{"visible": mask}, {"title.text": f"{title}: {experiment}"}],
        })
    for trace, visible in zip(fig.data, buttons[0]["args"][0]["visible"]):
        trace.visible = visible
    fig.update_layout(
        title={"text": f"{title}: {experiments[0]}", "y": 0.99},
        height=260 * rows + 140, margin={"t": 140, "b": 90},
        updatemenus=[{
            "buttons": buttons, "direction": "down", "active": 0, "showactive": True,
            "x": 0.0, "xanchor": "left", "y": 1.0 + 90 / (260 * rows), "yanchor": "bottom",
        }],
        sliders=[{
            "steps": steps, "active": len(steps) - 1, "pad": {"t": 40},
            "currentvalue": {"prefix": "analysis as of day "},
        }],
        hovermode="closest", template=TEMPLATE,
    )
    fig.update_yaxes(type="log", title_text="p-value", row=1, col=1)
    fig.add_vline(x=0.5, line={"color": _COLORS["reference"], "dash": "dot"}, row=1, col=2)
    for i in range(2, rows + 1):
        fig.update_yaxes(title_text="lift (%)", row=i, col=1)
        fig.add_hline(y=0, line={"color": _COLORS["reference"], "dash": "dot"}, row=i, col=1)
        fig.add_vline(x=0, line={"color": _COLORS["reference"], "dash": "dot"}, row=i, col=2)
    fig.update_xaxes(title_text="day", row=rows, col=1)
    fig.update_xaxes(title_text="lift (%)", row=rows, col=2)
    fig.update_yaxes(autorange="reversed", col=2)
    return fig
