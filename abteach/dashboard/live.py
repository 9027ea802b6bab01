"""The live dashboard: ipywidgets controls whose changes the running kernel recomputes.

ipywidgets is imported on first use: ``LiveDashboard`` (an ``ipywidgets.VBox``) is
built the first time it or :func:`live_dashboard` is asked for, so importing
:mod:`abteach.dashboard` does not load the widget stack.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from abteach._records import format_number
from abteach._validate import check_alpha
from abteach.dashboard.aggregates import (
    AGGREGATE_COLUMNS,
    ALL_SEGMENTS,
    _check_aggregates,
)
from abteach.dashboard.analysis import DashboardAnalysis, _effects, _selection, analyze
from abteach.dashboard.static import _COLORS
from abteach.inference import ProportionsZTest
from abteach.viz import TEMPLATE


def _ipywidgets():
    """The ipywidgets module, imported on first use."""
    import ipywidgets

    return ipywidgets


def _live_figure(aggregates: pd.DataFrame, analysis: DashboardAnalysis, alpha, ratios) -> go.Figure:
    """Cumulative lift over days 1..day of the selection, with the band and the day's result."""
    rows = _selection(aggregates, analysis.experiment, analysis.metric, analysis.segment)
    rows = rows[rows["day"] <= analysis.day].assign(segment=ALL_SEGMENTS)  # one series
    selected = rows.groupby(list(AGGREGATE_COLUMNS[:5]), as_index=False)[
        ["n", "sum", "sum_sq"]].sum()
    binary = {analysis.metric} if isinstance(analysis.result, ProportionsZTest) else set()
    series = _effects(selected, binary, alpha, ratios)
    day_list = series["day"].tolist()
    fig = go.Figure([
        go.Scatter(
            x=day_list + day_list[::-1],
            y=100 * np.concatenate([series["lift_ci_high"], series["lift_ci_low"][::-1]]),
            fill="toself", fillcolor=_COLORS["band"], line={"width": 0}, hoverinfo="skip",
            name=f"{format_number(100 * (1 - alpha), 4)}% CI",
        ),
        go.Scatter(x=day_list, y=100 * series["lift"], mode="lines+markers",
                   line={"color": _COLORS["line"]}, name="cumulative lift"),
    ])
    fig.add_hline(y=0, line={"color": _COLORS["reference"], "dash": "dot"})
    fig.update_layout(
        title=analysis.summary().replace("; ", "<br>"), xaxis_title="day",
        yaxis_title=f"lift of {analysis.metric} (%)", height=420, margin={"t": 90},
        template=TEMPLATE,
    )
    return fig


class _LiveDashboard:
    """The widget of :func:`live_dashboard`.

    Attributes ``experiment``, ``metric``, ``segment`` (``ipywidgets.Dropdown``), ``day``
    (``ipywidgets.IntSlider``) and ``output`` (``ipywidgets.Output``); ``result`` is the
    current :class:`DashboardAnalysis` and ``figure`` the current plotly figure, both
    recomputed whenever a control changes (set ``.value`` on a control to drive it from code).
    """

    def __init__(self, aggregates, *, alpha: float = 0.05, expected_ratios=None):
        widgets = _ipywidgets()
        self._aggregates = _check_aggregates(aggregates)
        self._alpha = check_alpha(alpha)
        self._ratios = expected_ratios
        experiments = sorted(self._aggregates["experiment"].unique())
        self._updating = True
        self.experiment = widgets.Dropdown(options=experiments, description="experiment")
        self.metric = widgets.Dropdown(options=["-"], description="metric")
        self.segment = widgets.Dropdown(options=["-"], description="segment")
        self.day = widgets.IntSlider(min=1, max=2, value=2, description="day",
                                     continuous_update=False)
        self.summary = widgets.HTML()
        self.output = widgets.Output()
        self.result: DashboardAnalysis | None = None
        self.figure: go.Figure | None = None
        self._sync_choices()
        self._updating = False
        self.refresh()
        for control in (self.experiment, self.metric, self.segment, self.day):
            control.observe(self._changed, names="value")
        super().__init__([
            widgets.HBox([self.experiment, self.metric]),
            widgets.HBox([self.segment, self.day]),
            self.summary,
            self.output,
        ])

    def _sync_choices(self) -> None:
        """Metric, segment and day choices of the selected experiment (keeping what fits)."""
        rows = self._aggregates[self._aggregates["experiment"] == self.experiment.value]
        metrics = sorted(rows["metric"].unique())
        segments = [ALL_SEGMENTS, *sorted(set(rows["segment"]) - {ALL_SEGMENTS})]
        keep_metric, keep_segment = self.metric.value, self.segment.value
        self.metric.options = metrics
        self.metric.value = keep_metric if keep_metric in metrics else metrics[0]
        self.segment.options = segments
        self.segment.value = keep_segment if keep_segment in segments else ALL_SEGMENTS
        last = int(rows["day"].max())
        at_end = self.day.value == self.day.max
        self.day.max = last
        self.day.value = last if at_end else min(self.day.value, last)

    def _changed(self, change) -> None:
        if self._updating:
            return
        self._updating = True
        try:
            if change["owner"] is self.experiment:
                self._sync_choices()
        finally:
            self._updating = False
        self.refresh()

    def refresh(self) -> None:
        """Recompute the analysis and redraw the figure for the current controls."""
        self.result = analyze(
            self._aggregates, experiment=self.experiment.value, metric=self.metric.value,
            segment=self.segment.value, day=self.day.value, alpha=self._alpha,
            expected_ratios=self._ratios,
        )
        self.figure = _live_figure(self._aggregates, self.result, self._alpha, self._ratios)
        self.summary.value = f"<pre>{self.result.summary()}</pre>"
        # The figure goes into the Output widget's state as the mime bundle of plotly's current
        # renderer, not through display messages (plotly's _ipython_display_ publishes to the
        # running cell): nothing leaks into the cell that changed a control.
        bundle = self.figure._repr_mimebundle_()
        self.output.outputs = ({"output_type": "display_data", "data": bundle, "metadata": {}},)

    def _repr_mimebundle_(self, **kwargs):
        """The widget view, plus an HTML note for pages rendered without a kernel."""
        widget_bundle = getattr(super(), "_repr_mimebundle_", None)
        if widget_bundle is not None:  # ipywidgets 8
            bundle = widget_bundle(**kwargs)
        else:  # ipywidgets 7 (Colab's) displays through _ipython_display_; same view data
            bundle = {
                "text/plain": repr(self),
                "application/vnd.jupyter.widget-view+json": {
                    "version_major": 2, "version_minor": 0, "model_id": self.model_id,
                },
            }
        bundle["text/html"] = (
            "<p><em>Live dashboard: its controls need a running Python kernel. Launch this "
            "page in Binder or Colab (rocket icon at the top) and run the cell.</em></p>"
        )
        return bundle


def live_dashboard(aggregates, *, alpha: float = 0.05, expected_ratios=None) -> _LiveDashboard:
    """A live dashboard: dropdowns (experiment, metric, segment) and a day slider.

    Every change recomputes :func:`analyze` for the selection as of the day and redraws the
    cumulative lift in an ``ipywidgets.Output``. Standard ipywidgets 8 only (no
    ``FigureWidget``), so it runs in JupyterLab, Binder and Colab; on a static web page the
    controls do nothing (use :func:`~abteach.dashboard.static_dashboard` there).

    Parameters
    ----------
    aggregates : pandas.DataFrame
        The table of :func:`~abteach.dashboard.daily_aggregates`.
    alpha, expected_ratios
        As in :func:`analyze`.

    Returns
    -------
    LiveDashboard
        An ``ipywidgets.VBox``; ``.result`` and ``.figure`` hold the current analysis.
    """
    return _live_dashboard_class()(aggregates, alpha=alpha, expected_ratios=expected_ratios)


@functools.cache
def _live_dashboard_class() -> type:
    """``LiveDashboard``: the methods of ``_LiveDashboard`` on an ``ipywidgets.VBox``."""
    return type("LiveDashboard", (_LiveDashboard, _ipywidgets().VBox), {
        "__module__": "abteach.dashboard", "__qualname__": "LiveDashboard",
        "__doc__": _LiveDashboard.__doc__,
    })


def __getattr__(name: str):
    if name == "LiveDashboard":  # built (and ipywidgets imported) on first use
        return _live_dashboard_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
