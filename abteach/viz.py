"""The figures a team watches while an experiment runs, built from abteach's result records.

Every builder returns a :class:`plotly.graph_objects.Figure` with a title and axis titles and
never shows it (call ``fig.show()``). One style throughout: the house template ``"abteach"``
(``plotly_white`` with margins that shrink and titles that make room for themselves);
control grey, treatment (and the effect) blue, significant or passing green, failing red,
inconclusive amber; hover text with formatted numbers. Each figure draws exactly the numbers
of the record it is given, so what a learner sees is what the analysis computed.

References
----------
Kohavi, Tang & Xu (2020), *Trustworthy Online Controlled Experiments*, ch. 16 (scorecards and
guardrails) and ch. 21 (sample ratio mismatch); Jennison & Turnbull (2000), *Group Sequential
Methods*, ch. 1 (monitoring charts); Johari, Koomen, Pekelis & Walsh (2022) (always-valid
confidence sequences).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from scipy.special import ndtri

from abteach._records import format_number
from abteach._validate import as_float_array, check_positive, check_scalar
# The house style (TEMPLATE, HOUSE, COLORS, SERIES_COLORS) is imported from here by the dashboard.
from abteach._viz_parts import (
    BAD_DIRECTIONS, COLORS, HOUSE, SERIES_COLORS, STATUSES, TEMPLATE, _NUMBER,
    _band, _bounds, _draw_references, _field, _interval_rows, _layout, _level, _one_stream,
    _ordered, _per_series, _references, _series, _stop_look, _stop_marker, _text, _vector,
)

# --- metric and effect over time ------------------------------------------------------------


def metric_over_time(
    day,
    value,
    ci_low=None,
    ci_high=None,
    *,
    name: str = "treatment - control",
    reference=None,
    title: str = "Metric over time",
    yaxis_title: str = "treatment - control",
    xaxis_title: str = "day",
    ci_label: str = "95% CI",
) -> go.Figure:
    """A metric (or an effect) day by day, each series with its confidence interval as a band.

    Draws ``value`` against ``day`` and, when ``ci_low`` and ``ci_high`` are given, the band
    between them: the chart of a daily scorecard (Kohavi, Tang & Xu 2020, ch. 16). Reading
    it every day and stopping when the band leaves zero is peeking (chapter 10).

    Parameters
    ----------
    day : array of float, shape (n,)
    value : array of float, shape (n,), or dict {series name: array}
        The metric, e.g. a cumulative effect treatment minus control.
    ci_low, ci_high : like ``value``, optional (both or neither)
        Interval bounds, ``ci_low <= value <= ci_high``; dicts with the keys of ``value`` when
        ``value`` is a dict.
    name : str
        Legend name of a single series.
    reference : float or dict {label: float}, optional
        Horizontal dashed lines, e.g. ``0`` ("no effect") or ``{"true effect": 0.01}``.
    title, yaxis_title, xaxis_title, ci_label : str

    Returns
    -------
    plotly.graph_objects.Figure
        Per series a band trace (``y`` = ``ci_high`` then ``ci_low`` reversed) and a line
        trace (``y`` = ``value``).
    """
    x = _vector("day", day)
    if (ci_low is None) != (ci_high is None):
        raise ValueError("ci_low and ci_high must be given together, got only one of them")
    if isinstance(value, Mapping):
        keys = list(value)
        if not keys:
            raise ValueError("value must not be an empty dict, got {}")
        values, lows, highs = value, _per_series("ci_low", ci_low, keys), _per_series(
            "ci_high", ci_high, keys)
        label = lambda arg, key: f"{arg}[{key!r}]"  # noqa: E731
    else:
        for arg, given in (("ci_low", ci_low), ("ci_high", ci_high)):
            if isinstance(given, Mapping):
                raise TypeError(f"{arg} must be an array when value is one array, got a dict")
        keys = [_text("name", name)]
        values, lows, highs = {name: value}, {name: ci_low}, {name: ci_high}
        label = lambda arg, key: arg  # noqa: E731
    ci_label = _text("ci_label", ci_label)
    fig = go.Figure()
    for i, key in enumerate(keys):
        _text("series names (keys of value)", key)
        y = _vector(label("value", key), values[key], x.size)
        low = high = None
        if lows[key] is not None:
            low = _vector(label("ci_low", key), lows[key], x.size)
            high = _vector(label("ci_high", key), highs[key], x.size)
            _ordered([((label("ci_low", key), low), (label("value", key), y)),
                      ((label("value", key), y), (label("ci_high", key), high))])
        _series(fig, x, y, low, high, name=key, color=SERIES_COLORS[i % len(SERIES_COLORS)],
                ci_label=ci_label, x_label=xaxis_title)
    _draw_references(fig, reference, "y")
    return _layout(fig, title, xaxis_title, yaxis_title)


def effect_over_time(
    daily,
    *,
    name: str = "treatment - control",
    reference=0.0,
    title: str = "Effect by day",
    yaxis_title: str = "treatment - control",
    xaxis_title: str = "day",
) -> go.Figure:
    """The effect of each day with its confidence interval, from a :class:`~abteach.novelty.DailyEffects`.

    Plots ``daily.effect`` against ``daily.day`` with the band ``[daily.ci_low,
    daily.ci_high]`` (the Wald interval at level ``1 - daily.alpha``); a rising or falling
    pattern is what novelty and primacy effects look like (chapter 9).

    Parameters
    ----------
    daily : DailyEffects, or dict {series name: DailyEffects}
        One experiment each (1-D arrays); several series may have different days, e.g. the
        same data by calendar day and by days since first exposure.
    name : str
        Legend name of a single series.
    reference : float or dict {label: float}, optional
        Horizontal dashed lines; by default 0 ("no effect").
    title, yaxis_title, xaxis_title : str

    Returns
    -------
    plotly.graph_objects.Figure
    """
    if isinstance(daily, Mapping):
        if not daily:
            raise ValueError("daily must not be an empty dict, got {}")
        records = daily
        argument = lambda key: f"daily[{key!r}]"  # noqa: E731
    else:
        records = {_text("name", name): daily}
        argument = lambda key: "daily"  # noqa: E731
    fig = go.Figure()
    for i, (key, record) in enumerate(records.items()):
        _text("series names (keys of daily)", key)
        arg = argument(key)
        fields = {f: _field(record, f, arg)
                  for f in ("day", "effect", "ci_low", "ci_high", "alpha")}
        _one_stream(arg, fields["effect"])
        x = _vector(f"{arg}.day", fields["day"])
        y, low, high = (_vector(f"{arg}.{f}", fields[f], x.size)
                        for f in ("effect", "ci_low", "ci_high"))
        _ordered([((f"{arg}.ci_low", low), (f"{arg}.effect", y)),
                  ((f"{arg}.effect", y), (f"{arg}.ci_high", high))])
        _series(fig, x, y, low, high, name=key, color=SERIES_COLORS[i % len(SERIES_COLORS)],
                ci_label=f"{_level(fields['alpha'])} CI", x_label=xaxis_title)
    _draw_references(fig, reference, "y")
    return _layout(fig, title, xaxis_title, yaxis_title)


# --- forest plot -----------------------------------------------------------------------------


def forest_plot(
    results,
    *,
    relative: bool = False,
    reference=0.0,
    scale: float = 1.0,
    title: str | None = None,
    xaxis_title: str | None = None,
    yaxis_title: str = "",
) -> go.Figure:
    """Effects of many metrics (or experiments) with their confidence intervals, one row each.

    Each row is an estimate with its interval; rows whose interval excludes 0 are green
    ("significant"), the others blue. The first result is drawn on top.

    Parameters
    ----------
    results : dict {label: record} or pandas.DataFrame
        Records with ``effect``, ``ci_low``, ``ci_high`` (single numbers), or with ``lift``,
        ``lift_ci_low``, ``lift_ci_high`` when ``relative`` (e.g. ``ProportionsZTest``,
        ``MeansTTest``); or a DataFrame with those columns, indexed by label.
    relative : bool
        Draw the relative change (lift) instead of the absolute difference.
    reference : float or dict {label: float}, optional
        Vertical dashed lines, in the units of the results (scaled as they are).
    scale : float > 0
        Multiplies every value drawn, e.g. 100 for percentage points.
    title, xaxis_title, yaxis_title : str

    Returns
    -------
    plotly.graph_objects.Figure
        One marker trace per colour; ``error_x`` holds ``ci_high - effect`` and
        ``effect - ci_low``; the y axis lists the labels in order.
    """
    if not isinstance(relative, (bool, np.bool_)):
        raise TypeError(f"relative must be True or False, got {relative!r}")
    scale = check_scalar("scale", as_float_array("scale", scale))
    if scale <= 0:
        raise ValueError(f"scale must be > 0, got {scale!r}")
    fields = ("lift", "lift_ci_low", "lift_ci_high") if relative else (
        "effect", "ci_low", "ci_high")
    if isinstance(results, pd.DataFrame):
        missing = [f for f in fields if f not in results.columns]
        if missing:
            raise ValueError(f"results must have the columns {list(fields)}, missing {missing}")
        labels = [str(label) for label in results.index]
        columns = [_vector(f"results[{f!r}]", results[f].to_numpy(), what="row")
                   for f in fields]
    elif isinstance(results, Mapping):
        labels = [str(label) for label in results]
        columns = [np.array([
            check_scalar(f"results[{label!r}].{f}",
                         as_float_array(f"results[{label!r}].{f}",
                                        _field(record, f, f"results[{label!r}]")))
            for label, record in results.items()]) for f in fields]
    else:
        raise TypeError(
            f"results must be a dict {{label: record}} or a DataFrame, got {type(results).__name__}"
        )
    if not labels:
        raise ValueError("results must not be empty")
    if len(set(labels)) != len(labels):
        raise ValueError(f"results must have distinct labels, got {labels}")
    effect, low, high = columns
    _ordered([((f"results {fields[1]}", low), (f"results {fields[0]}", effect)),
              ((f"results {fields[0]}", effect), (f"results {fields[2]}", high))], labels)
    significant = np.where((low > 0) | (high < 0), "significant", "not significant")
    legend = {"significant": ("CI excludes 0", COLORS["pass"]),
              "not significant": ("CI covers 0", COLORS["treatment"])}
    fig = go.Figure()
    _interval_rows(fig, labels, scale * effect, scale * low, scale * high,
                   (significant, legend), hover_format=_NUMBER)
    if isinstance(reference, Mapping):
        reference = {label: scale * value for label, value in _references(reference).items()}
    elif reference is not None:
        reference = scale * check_scalar("reference", as_float_array("reference", reference))
    _draw_references(fig, reference, "x")
    if title is None:
        title = "Relative changes with confidence intervals" if relative else \
            "Effects with confidence intervals"
    if xaxis_title is None:
        xaxis_title = "relative change (treatment / control - 1)" if relative else \
            "treatment - control"
    return _layout(fig, title, xaxis_title, yaxis_title)


# --- sample ratio mismatch ------------------------------------------------------------------


def srm_panel(
    monitor,
    *,
    arms: Sequence[str] | None = None,
    title: str = "Sample ratio mismatch monitoring",
    xaxis_title: str = "day",
) -> go.Figure:
    """Daily SRM monitoring from an :class:`~abteach.srm.SRMMonitor`: shares on top, p-value below.

    Top: the cumulative share of users in each arm, ``cumulative_counts / total``, against
    the design's ``expected_shares`` (dashed). Bottom: the cumulative SRM p-value on a log
    axis with the alarm ``threshold`` (red dashed); days with an alarm are marked red
    (Kohavi, Tang & Xu 2020, ch. 21).

    Parameters
    ----------
    monitor : SRMMonitor
        One experiment (``cumulative_pvalue`` 1-D).
    arms : sequence of str, optional
        Names of the arms; default "control", "treatment" for two arms, else "arm 1", ...
    title, xaxis_title : str

    Returns
    -------
    plotly.graph_objects.Figure
        Rows: shares (one trace per arm and one per expected share), then the p-value trace
        and a ``threshold`` trace.
    """
    fields = {f: _field(monitor, f, "monitor") for f in (
        "cumulative_counts", "cumulative_pvalue", "cumulative_alarm", "expected_shares",
        "threshold")}
    pvalue = np.asarray(fields["cumulative_pvalue"], dtype=float)
    _one_stream("monitor", pvalue)
    counts = np.asarray(fields["cumulative_counts"], dtype=float)
    shares_expected = np.asarray(fields["expected_shares"], dtype=float)
    k = shares_expected.size
    if counts.shape != (pvalue.size, k):
        raise ValueError(
            f"monitor.cumulative_counts must have shape (days, arms) = ({pvalue.size}, {k}), "
            f"got {counts.shape}"
        )
    if arms is None:
        arms = ["control", "treatment"] if k == 2 else [f"arm {i + 1}" for i in range(k)]
    elif isinstance(arms, str) or not isinstance(arms, Sequence) or len(arms) != k:
        raise ValueError(f"arms must be a sequence of {k} names, got {arms!r}")
    arms = [_text("arms", arm) for arm in arms]
    threshold = float(fields["threshold"])
    alarm = np.asarray(fields["cumulative_alarm"], dtype=bool)
    days = np.arange(1, pvalue.size + 1)
    total = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, total, out=np.full(counts.shape, np.nan), where=total > 0)
    palette = [COLORS["control"], *SERIES_COLORS]
    colors = [palette[i % len(palette)] for i in range(k)]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=("cumulative share of users by arm",
                                        "cumulative SRM p-value"))
    for arm, share, expected, color, column in zip(arms, shares.T, shares_expected, colors,
                                                    counts.T, strict=True):
        fig.add_trace(go.Scatter(
            x=days, y=share, mode="lines+markers", name=arm, legendgroup=arm,
            line=dict(color=color), customdata=column,
            hovertemplate=(f"{arm}<br>{xaxis_title} %{{x}}<br>share %{{y:.4f}}"
                           "<br>users %{customdata:,.0f}<extra></extra>"),
        ), row=1, col=1)
        fig.add_trace(go.Scatter(
            x=days[[0, -1]], y=[expected, expected], mode="lines", legendgroup=arm,
            name=f"{arm}: expected {format_number(expected, 4)}",
            line=dict(color=color, dash="dash", width=1), hoverinfo="skip",
        ), row=1, col=1)
    fig.add_trace(go.Scatter(
        x=days, y=pvalue, mode="lines+markers", name="cumulative p-value",
        line=dict(color=COLORS["treatment"]),
        marker=dict(color=np.where(alarm, COLORS["fail"], COLORS["treatment"]), size=7),
        hovertemplate=f"{xaxis_title} %{{x}}<br>p-value %{{y:.3g}}<extra></extra>",
    ), row=2, col=1)
    fig.add_trace(go.Scatter(
        x=days[[0, -1]], y=[threshold, threshold], mode="lines",
        name=f"threshold {format_number(threshold)}",
        line=dict(color=COLORS["fail"], dash="dash"), hoverinfo="skip",
    ), row=2, col=1)
    _layout(fig, title, "", "")
    fig.update_xaxes(title_text=_text("xaxis_title", xaxis_title), row=2, col=1)
    fig.update_yaxes(title_text="share", row=1, col=1)
    fig.update_yaxes(title_text="p-value (log scale)", type="log", exponentformat="power",
                     row=2, col=1)
    fig.update_layout(height=600)
    return fig


# --- sequential monitoring ------------------------------------------------------------------


def sequential_monitor(
    analysis,
    *,
    title: str = "Group-sequential monitoring",
    xaxis_title: str = "information fraction t",
    yaxis_title: str = "z-statistic",
) -> go.Figure:
    """The observed z-statistics of a :class:`~abteach.sequential.SequentialAnalysis` against the boundaries.

    Draws the design's boundaries at all planned looks (dashed: ``design.critical_values``
    at ``design.information_fractions``; +b and -b for a two-sided design, +b for
    "larger", -b for "smaller"), the boundaries actually used at the observed looks when
    they differ (a spending function recomputes them at the observed fractions; Lan & DeMets
    1983), the observed z path, and the look where the analysis stopped. Planned looks not
    yet reached, or never needed after an early stop, are still drawn.

    Parameters
    ----------
    analysis : SequentialAnalysis
    title, xaxis_title, yaxis_title : str

    Returns
    -------
    plotly.graph_objects.Figure
    """
    fields = {f: _field(analysis, f, "analysis") for f in (
        "z_values", "information_fractions", "critical_values", "stop_look", "design")}
    design = fields["design"]
    planned = {f: _field(design, f, "analysis.design") for f in (
        "critical_values", "information_fractions", "alternative")}
    z = _vector("analysis.z_values", fields["z_values"])
    t = _vector("analysis.information_fractions", fields["information_fractions"], z.size, "look")
    used = _vector("analysis.critical_values", fields["critical_values"], z.size, "look")
    bounds = _vector("analysis.design.critical_values", planned["critical_values"])
    t_planned = _vector("analysis.design.information_fractions",
                        planned["information_fractions"], bounds.size, "look")
    signs = {"two-sided": (1, -1), "larger": (1,), "smaller": (-1,)}.get(planned["alternative"])
    if signs is None:
        raise ValueError(f"analysis.design.alternative must be 'two-sided', 'larger' or "
                         f"'smaller', got {planned['alternative']!r}")
    replanned = not (z.size <= bounds.size and np.allclose(t, t_planned[:z.size], atol=1e-9)
                     and np.allclose(used, bounds[:z.size]))
    fig = go.Figure()
    for i, sign in enumerate(signs):
        fig.add_trace(go.Scatter(
            x=t_planned, y=sign * bounds, mode="lines+markers", name="boundary (planned looks)",
            legendgroup="planned", showlegend=i == 0,
            line=dict(color=COLORS["reference"], dash="dash"),
            marker=dict(symbol="circle-open", size=8),
            hovertemplate="planned look at t = %{x:.3f}<br>boundary %{y:.4f}<extra></extra>",
        ))
        if replanned:
            fig.add_trace(go.Scatter(
                x=t, y=sign * used, mode="lines+markers", name="boundary at the observed looks",
                legendgroup="used", showlegend=i == 0, line=dict(color=COLORS["boundary"]),
                hovertemplate="t = %{x:.3f}<br>boundary %{y:.4f}<extra></extra>",
            ))
    looks = np.arange(1, z.size + 1)
    fig.add_trace(go.Scatter(
        x=t, y=z, mode="lines+markers", name="observed Z", line=dict(color=COLORS["treatment"]),
        marker=dict(size=9), customdata=np.column_stack([looks, used]),
        hovertemplate=("look %{customdata[0]}<br>t = %{x:.3f}<br>Z = %{y:.4f}"
                       "<br>boundary %{customdata[1]:.4f}<extra></extra>"),
    ))
    stop = _stop_look("analysis.stop_look", fields["stop_look"], z.size)
    if stop:
        fig.add_trace(_stop_marker(
            t[stop - 1], z[stop - 1], f"stop at look {stop}: reject H0",
            hovertemplate="stop at look " + str(stop) + "<br>Z = %{y:.4f}<extra></extra>",
        ))
    _draw_references(fig, 0.0, "y")
    fig.update_xaxes(range=[0, 1.02 * max(1.0, float(t.max()), float(t_planned.max()))])
    return _layout(fig, title, xaxis_title, yaxis_title)


def confidence_sequence(
    result,
    *,
    x=None,
    fixed: bool = True,
    title: str = "Always-valid confidence sequence",
    xaxis_title: str = "look",
    yaxis_title: str = "treatment - control",
) -> go.Figure:
    r"""The confidence sequence of a :class:`~abteach.sequential.MixtureSPRT`, beside the fixed-sample interval.

    Draws the estimate at each look, the running confidence sequence ``[ci_low, ci_high]``
    (valid at every look at once; Johari et al. 2022) and, when ``fixed``, the fixed-sample
    interval :math:`\hat\theta_n \pm z_{1-\alpha/2} \sqrt{V_n}` from the record's
    ``estimates`` and ``variances`` (valid at one planned look only). The first look whose
    always-valid p-value is at most alpha is marked. A confidence sequence is a running
    intersection, so an estimate may lie outside it.

    Parameters
    ----------
    result : MixtureSPRT
        One stream (1-D arrays).
    x : array of float, optional
        Position of each look (e.g. days); default 1, 2, ...
    fixed : bool
        Also draw the fixed-sample interval.
    title, xaxis_title, yaxis_title : str

    Returns
    -------
    plotly.graph_objects.Figure
        Traces: fixed-sample band (if ``fixed``), confidence-sequence band (``y`` =
        ``ci_high`` then ``ci_low`` reversed), estimate, stop marker (if any).
    """
    if not isinstance(fixed, (bool, np.bool_)):
        raise TypeError(f"fixed must be True or False, got {fixed!r}")
    fields = {f: _field(result, f, "result") for f in (
        "estimates", "variances", "ci_low", "ci_high", "pvalue", "stop_look", "alpha", "null")}
    _one_stream("result", fields["estimates"])
    estimate = _vector("result.estimates", fields["estimates"])
    n = estimate.size
    variance = np.broadcast_to(check_positive("result.variances", fields["variances"]), (n,))
    low, high, pvalue = (_bounds(f"result.{f}", fields[f], n) for f in ("ci_low", "ci_high",
                                                                          "pvalue"))
    looks = np.arange(1.0, n + 1) if x is None else _vector("x", x, n, "look")
    alpha, level = float(fields["alpha"]), _level(fields["alpha"])
    fig = go.Figure()
    if fixed:
        half = float(ndtri(1 - alpha / 2)) * np.sqrt(variance)
        fig.add_trace(_band(looks, estimate - half, estimate + half, color=COLORS["control"],
                            name=f"fixed-sample {level} CI (valid at one planned look)",
                            opacity=0.3, group="fixed"))
    _series(fig, looks, estimate, low, high, name="estimate", color=COLORS["treatment"],
            ci_label="confidence sequence", x_label=xaxis_title,
            band_name=f"{level} confidence sequence (valid at every look)",
            extra=[("always-valid p", pvalue, ":.3g")])
    stop = _stop_look("result.stop_look", fields["stop_look"], n)
    if stop:
        fig.add_trace(_stop_marker(
            looks[stop - 1], estimate[stop - 1],
            f"always-valid p <= {format_number(alpha, 4)}: may stop", hoverinfo="skip",
        ))
    _draw_references(fig, {"H0": float(fields["null"])}, "y")
    return _layout(fig, title, xaxis_title, yaxis_title)


# --- guardrails -----------------------------------------------------------------------------


def guardrail_status(
    checks,
    *,
    title: str = "Guardrail metrics",
    xaxis_title: str = "relative change, treatment vs control",
) -> go.Figure:
    """Guardrail checks: the relative change of each guardrail with its interval, by status.

    One row per check: the ``lift`` with the interval ``[ci_low, ci_high]`` (fractions;
    an infinite bound of a one-sided interval is drawn to the edge of the axis), coloured
    by ``status`` (pass green, fail red, inconclusive amber), and a red tick at the
    tolerated degradation: ``+tolerated_degradation`` when an increase is bad (e.g. latency),
    ``-tolerated_degradation`` when a decrease is (Kohavi, Tang & Xu 2020, ch. 16 and 21).

    Parameters
    ----------
    checks : sequence of records
        Each with ``name``, ``lift``, ``ci_low``, ``ci_high``, ``tolerated_degradation``
        (> 0), ``bad_direction`` ("increase" or "decrease") and ``status`` ("pass", "fail"
        or "inconclusive"), e.g. :class:`abteach.decision.GuardrailCheck`.
    title, xaxis_title : str

    Returns
    -------
    plotly.graph_objects.Figure
        One marker trace per status present, then the "tolerated degradation" trace.
    """
    if isinstance(checks, (str, Mapping)) or not isinstance(checks, Sequence):
        raise TypeError(
            f"checks must be a sequence of guardrail checks, got {type(checks).__name__}")
    if not checks:
        raise ValueError("checks must not be empty")
    names, statuses, directions, numbers = [], [], [], []
    for i, check in enumerate(checks):
        arg = f"checks[{i}]"
        names.append(_text(f"{arg}.name", _field(check, "name", arg)))
        status, direction = _field(check, "status", arg), _field(check, "bad_direction", arg)
        if not isinstance(status, str) or status not in STATUSES:
            raise ValueError(f"{arg}.status must be one of {STATUSES}, got {status!r}")
        if not isinstance(direction, str) or direction not in BAD_DIRECTIONS:
            raise ValueError(f"{arg}.bad_direction must be one of {BAD_DIRECTIONS}, got "
                             f"{direction!r}")
        statuses.append(status)
        directions.append(direction)
        lift = check_scalar(f"{arg}.lift",
                            as_float_array(f"{arg}.lift", _field(check, "lift", arg)))
        bounds = []
        for bound in ("ci_low", "ci_high"):
            value = _field(check, bound, arg)
            if isinstance(value, (int, float, np.floating, np.integer)) and np.isinf(value):
                bounds.append(float(value))
            else:
                bounds.append(check_scalar(f"{arg}.{bound}",
                                           as_float_array(f"{arg}.{bound}", value)))
        tolerance = check_scalar(f"{arg}.tolerated_degradation", as_float_array(
            f"{arg}.tolerated_degradation", _field(check, "tolerated_degradation", arg)))
        if tolerance <= 0:
            raise ValueError(f"{arg}.tolerated_degradation must be > 0, got {tolerance!r}")
        numbers.append((lift, *bounds, tolerance))
    if len(set(names)) != len(names):
        raise ValueError(f"checks must have distinct names, got {names}")
    lift, low, high, tolerance = np.array(numbers).T
    _ordered([(("checks ci_low", low), ("checks lift", lift)),
              (("checks lift", lift), ("checks ci_high", high))], names)
    limit = np.where(np.array(directions) == "increase", tolerance, -tolerance)
    legend = {status: (status, COLORS[status]) for status in STATUSES}
    fig = go.Figure()
    _interval_rows(fig, names, lift, low, high, (statuses, legend), hover_format=":.2%",
                   extra=[("tolerated", limit, ":+.2%")], keep=np.r_[limit, 0.0])
    fig.add_trace(go.Scatter(
        x=limit, y=names, mode="markers", name="tolerated degradation",
        marker=dict(symbol="line-ns-open", size=22, color=COLORS["fail"], line_width=3),
        customdata=np.array(directions),
        hovertemplate="%{y}: tolerated %{x:+.2%} (bad: %{customdata})<extra></extra>",
    ))
    _draw_references(fig, 0.0, "x")
    fig.update_xaxes(tickformat=".1%")
    return _layout(fig, title, xaxis_title, "")
