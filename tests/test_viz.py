"""Tests of abteach.viz: each figure carries exactly the numbers of the record it draws.

The expected values are taken from the records (or recomputed independently, e.g. the
fixed-sample interval with scipy), never from the figure itself.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import abteach as abt
from abteach import viz

DAYS = np.arange(1, 8)


def traces(fig: go.Figure, name: str) -> list:
    return [trace for trace in fig.data if trace.name == name]


def only(fig: go.Figure, name: str):
    found = traces(fig, name)
    assert len(found) == 1, [trace.name for trace in fig.data]
    return found[0]


def assert_well_formed(fig: go.Figure) -> None:
    """Title, axis titles, the course template, and a JSON round trip without NaN."""
    assert isinstance(fig, go.Figure)
    assert fig.layout.title.text
    assert fig.layout.xaxis.title.text or fig.layout.xaxis2.title.text
    assert fig.layout.template.layout.paper_bgcolor == "white"  # plotly_white
    text = fig.to_json()
    assert "NaN" not in text
    assert json.loads(text)["layout"]["title"]["text"] == fig.layout.title.text


def band_bounds(trace) -> tuple[np.ndarray, np.ndarray]:
    """The (low, high) arrays of a band trace drawn upper bound first, lower bound back."""
    y = np.asarray(trace.y, dtype=float)
    n = y.size // 2
    return y[n:][::-1], y[:n]


def guardrail(name="latency", lift=0.01, ci_low=-0.01, ci_high=0.03, tolerated_degradation=0.02,
              bad_direction="increase", status="inconclusive"):
    return SimpleNamespace(name=name, lift=lift, ci_low=ci_low, ci_high=ci_high,
                           tolerated_degradation=tolerated_degradation,
                           bad_direction=bad_direction, status=status)


# --- metric_over_time ------------------------------------------------------------------------


def test_metric_over_time_draws_the_values_and_the_band():
    value = np.array([0.02, 0.011, 0.011, 0.013, 0.012, 0.015, 0.016])
    low, high = value - np.linspace(0.03, 0.01, 7), value + np.linspace(0.03, 0.01, 7)
    fig = viz.metric_over_time(DAYS, value, low, high, title="Cumulative effect",
                               yaxis_title="effect", reference={"true effect": 0.015})
    band = only(fig, "treatment - control: 95% CI")
    np.testing.assert_array_equal(band_bounds(band)[0], low)
    np.testing.assert_array_equal(band_bounds(band)[1], high)
    np.testing.assert_array_equal(band.x, np.r_[DAYS, DAYS[::-1]])
    line = only(fig, "treatment - control")
    np.testing.assert_array_equal(line.y, value)
    np.testing.assert_array_equal(line.customdata, np.column_stack([low, high]))
    assert [shape.y0 for shape in fig.layout.shapes] == [0.015]
    assert fig.layout.title.text == "Cumulative effect"
    assert fig.layout.yaxis.title.text == "effect"
    assert fig.layout.xaxis.title.text == "day"
    assert_well_formed(fig)


def test_metric_over_time_without_interval_and_with_several_series():
    fig = viz.metric_over_time(DAYS, DAYS * 0.1, reference=0)
    assert [trace.name for trace in fig.data] == ["treatment - control"]
    assert fig.layout.annotations[0].text == "no effect"
    series = {"conversion": DAYS * 0.1, "revenue": DAYS * 0.2}
    fig = viz.metric_over_time(DAYS, series, {k: v - 1 for k, v in series.items()},
                               {k: v + 1 for k, v in series.items()})
    assert [trace.name for trace in fig.data] == [
        "conversion: 95% CI", "conversion", "revenue: 95% CI", "revenue"]
    np.testing.assert_array_equal(band_bounds(fig.data[2])[0], series["revenue"] - 1)
    assert fig.data[1].line.color != fig.data[3].line.color
    assert fig.data[1].line.color == viz.COLORS["treatment"]
    assert_well_formed(fig)


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(day=DAYS, value=DAYS[:-1]), ValueError, "value must have one value per day (7), got 6"),
    (dict(day=np.ones((2, 3)), value=np.ones(3)), ValueError, "day must be 1-D"),
    (dict(day=DAYS, value=[np.nan] * 7), ValueError, "value must be finite"),
    (dict(day=DAYS, value="abc"), TypeError, "value must be a number"),
    (dict(day=DAYS, value=DAYS, ci_low=DAYS - 1), ValueError, "ci_low and ci_high"),
    (dict(day=DAYS, value=DAYS, ci_low=DAYS + 0.5, ci_high=DAYS + 1), ValueError,
     "ci_low must be <= value, got 1.5 > 1.0 (at index 0)"),
    (dict(day=DAYS, value=DAYS, ci_low=DAYS - 1, ci_high=DAYS - 0.5), ValueError,
     "value must be <= ci_high"),
    (dict(day=DAYS, value={"a": DAYS}, ci_low=DAYS, ci_high=DAYS), TypeError,
     "ci_low must be a dict"),
    (dict(day=DAYS, value={"a": DAYS}, ci_low={"b": DAYS}, ci_high={"b": DAYS}), ValueError,
     "ci_low must have the keys of value"),
    (dict(day=DAYS, value=DAYS, ci_low={"a": DAYS}, ci_high={"a": DAYS}), TypeError,
     "ci_low must be an array"),
    (dict(day=DAYS, value={}), ValueError, "value must not be an empty dict"),
    (dict(day=DAYS, value={"a": DAYS[:3]}), ValueError, "value['a'] must have one value per day"),
    (dict(day=DAYS, value=DAYS, title=3), TypeError, "title must be a string"),
    (dict(day=DAYS, value=DAYS, reference="zero"), TypeError, "reference must be a number"),
    (dict(day=DAYS, value=DAYS, reference=[0, 1]), ValueError, "reference must be a single number"),
])
def test_metric_over_time_refuses_bad_input(kwargs, error, words):
    with pytest.raises(error) as info:
        viz.metric_over_time(**kwargs)
    assert words in str(info.value)


# --- effect_over_time ------------------------------------------------------------------------


def daily_record(alpha=0.05):
    n = np.array([1000, 1200, 900, 1100, 1000])
    return abt.daily_effects(np.arange(5), n, [100, 130, 95, 100, 120], n,
                             [120, 125, 110, 115, 118], alpha=alpha)


def test_effect_over_time_draws_the_record():
    daily = daily_record(alpha=0.1)
    fig = viz.effect_over_time(daily, title="Effect by day")
    band = only(fig, "treatment - control: 90% CI")
    np.testing.assert_array_equal(band_bounds(band)[0], daily.ci_low)
    np.testing.assert_array_equal(band_bounds(band)[1], daily.ci_high)
    line = only(fig, "treatment - control")
    np.testing.assert_array_equal(line.x, daily.day)
    np.testing.assert_array_equal(line.y, daily.effect)
    assert [shape.y0 for shape in fig.layout.shapes] == [0.0]
    assert_well_formed(fig)


def test_effect_over_time_several_series_with_their_own_days():
    short = abt.daily_effects([0, 1], [500, 500], [50, 60], [500, 500], [55, 52])
    fig = viz.effect_over_time({"calendar day": daily_record(), "by age": short}, reference=None)
    np.testing.assert_array_equal(only(fig, "by age").x, [0, 1])
    np.testing.assert_array_equal(only(fig, "calendar day").x, np.arange(5))
    assert not fig.layout.shapes
    assert_well_formed(fig)


def test_effect_over_time_refuses_bad_records():
    several = abt.daily_effects(np.arange(2), [[100, 100], [100, 100]], [[10, 12], [11, 9]],
                                [[100, 100], [100, 100]], [[12, 10], [13, 8]])
    with pytest.raises(ValueError, match=r"daily must hold one experiment"):
        viz.effect_over_time(several)
    with pytest.raises(TypeError, match=r"daily must have a field 'ci_low'"):
        viz.effect_over_time(SimpleNamespace(day=[1], effect=[0.1], ci_high=[0.2], alpha=0.05))
    with pytest.raises(TypeError, match=r"daily\['x'\] must have a field 'day'"):
        viz.effect_over_time({"x": 3})
    bad = SimpleNamespace(day=[1, 2], effect=[0.1, 0.2], ci_low=[0.0, 0.3], ci_high=[0.2, 0.4],
                          alpha=0.05)
    with pytest.raises(ValueError, match=r"daily.ci_low must be <= daily.effect"):
        viz.effect_over_time(bad)
    with pytest.raises(ValueError, match=r"daily must not be an empty dict"):
        viz.effect_over_time({})


# --- forest_plot -----------------------------------------------------------------------------


def metric_tests() -> dict:
    """Three two-proportion z-tests: one significantly positive, one null, one negative."""
    return {
        "conversion": abt.ztest_proportions(1000, 10_000, 1100, 10_000),
        "add to cart": abt.ztest_proportions(2000, 10_000, 2010, 10_000),
        "bounce": abt.ztest_proportions(3000, 10_000, 2850, 10_000),
    }


@pytest.mark.parametrize("relative", [False, True])
def test_forest_plot_rows_order_error_bars_and_colours(relative):
    results = metric_tests()
    effect, low, high = ("lift", "lift_ci_low", "lift_ci_high") if relative else (
        "effect", "ci_low", "ci_high")
    fig = viz.forest_plot(results, relative=relative, scale=100)
    assert list(fig.layout.yaxis.categoryarray) == list(results)
    assert fig.layout.yaxis.autorange == "reversed"  # first result on top
    drawn = {}
    for trace in fig.data:
        for i, label in enumerate(trace.y):
            drawn[label] = (trace.name, trace.x[i], trace.error_x.arrayminus[i],
                            trace.error_x.array[i])
    for label, record in results.items():
        e, lo, hi = (getattr(record, f) for f in (effect, low, high))
        name, x, minus, plus = drawn[label]
        assert x == pytest.approx(100 * e, rel=1e-12)
        assert x - minus == pytest.approx(100 * lo, rel=1e-12)
        assert x + plus == pytest.approx(100 * hi, rel=1e-12)
        assert name == ("CI excludes 0" if lo > 0 or hi < 0 else "CI covers 0")
    assert {trace.name for trace in fig.data} == {"CI excludes 0", "CI covers 0"}
    assert only(fig, "CI excludes 0").marker.color == viz.COLORS["pass"]
    assert fig.layout.xaxis.title.text.startswith("relative" if relative else "treatment")
    assert_well_formed(fig)


def test_forest_plot_from_a_dataframe_with_references():
    frame = pd.DataFrame({"effect": [0.5, -0.2], "ci_low": [0.1, -0.6], "ci_high": [0.9, 0.2]},
                         index=[1, 2])
    fig = viz.forest_plot(frame, reference={"no effect": 0, "worth shipping": 0.5}, scale=2,
                          title="Two experiments", xaxis_title="points")
    assert list(fig.layout.yaxis.categoryarray) == ["1", "2"]
    assert fig.layout.yaxis.type == "category"
    np.testing.assert_array_equal(only(fig, "CI excludes 0").x, [1.0])
    np.testing.assert_array_equal(only(fig, "CI covers 0").error_x.array, [0.8])
    assert [shape.x0 for shape in fig.layout.shapes] == [0, 1.0]
    assert_well_formed(fig)


@pytest.mark.parametrize("results, kwargs, error, words", [
    ({}, {}, ValueError, "results must not be empty"),
    ([1, 2], {}, TypeError, "results must be a dict"),
    ({"a": SimpleNamespace(effect=0.1, ci_low=0.0)}, {}, TypeError,
     "results['a'] must have a field 'ci_high'"),
    ({"a": SimpleNamespace(effect=0.1, ci_low=0.2, ci_high=0.3)}, {}, ValueError,
     "results ci_low must be <= results effect, got 0.2 > 0.1 (at 'a')"),
    ({"a": SimpleNamespace(effect=[0.1, 0.2], ci_low=0.0, ci_high=0.3)}, {}, ValueError,
     "results['a'].effect must be a single number"),
    ({"a": SimpleNamespace(effect=0.1, ci_low=0.0, ci_high=0.3)}, {"relative": True}, TypeError,
     "results['a'] must have a field 'lift'"),
    ({"a": SimpleNamespace(effect=0.1, ci_low=0.0, ci_high=0.3)}, {"relative": 1}, TypeError,
     "relative must be True or False"),
    ({"a": SimpleNamespace(effect=0.1, ci_low=0.0, ci_high=0.3)}, {"scale": 0}, ValueError,
     "scale must be > 0"),
    (pd.DataFrame({"effect": [0.1]}), {}, ValueError, "results must have the columns"),
    (pd.DataFrame({"effect": [0.1, 0.1], "ci_low": [0, 0], "ci_high": [1, 1]}, index=["a", "a"]),
     {}, ValueError, "results must have distinct labels"),
    (pd.DataFrame({"effect": [np.nan], "ci_low": [0], "ci_high": [1]}), {}, ValueError,
     "results['effect'] must be finite"),
])
def test_forest_plot_refuses_bad_input(results, kwargs, error, words):
    with pytest.raises(error) as info:
        viz.forest_plot(results, **kwargs)
    assert words in str(info.value)


# --- srm_panel -------------------------------------------------------------------------------


def test_srm_panel_draws_shares_pvalues_and_the_threshold():
    rng = np.random.default_rng(6)
    monitor = abt.srm_monitor(rng.multinomial(40_000, [1 / 1.99, 0.99 / 1.99], size=14))
    assert monitor.cumulative_alarm.any() and not monitor.cumulative_alarm.all()
    fig = viz.srm_panel(monitor)
    counts = np.cumsum(monitor.daily_counts, axis=0)
    for arm, column in (("control", 0), ("treatment", 1)):
        share = only(fig, arm)
        np.testing.assert_allclose(share.y, counts[:, column] / counts.sum(axis=1), rtol=1e-12)
        np.testing.assert_array_equal(share.customdata, counts[:, column])
        assert share.yaxis == "y"
        expected = only(fig, f"{arm}: expected 0.5")
        np.testing.assert_array_equal(expected.y, [0.5, 0.5])
    assert only(fig, "control").line.color == viz.COLORS["control"]
    assert only(fig, "treatment").line.color == viz.COLORS["treatment"]
    pvalue = only(fig, "cumulative p-value")
    np.testing.assert_array_equal(pvalue.y, monitor.cumulative_pvalue)
    np.testing.assert_array_equal(pvalue.x, np.arange(1, 15))
    assert pvalue.yaxis == "y2"
    alarm_colours = np.asarray(pvalue.marker.color) == viz.COLORS["fail"]
    np.testing.assert_array_equal(alarm_colours, monitor.cumulative_pvalue < monitor.threshold)
    threshold = only(fig, "threshold 0.0005")
    np.testing.assert_array_equal(threshold.y, [monitor.threshold] * 2)
    np.testing.assert_array_equal(threshold.x, [1, 14])
    assert fig.layout.yaxis2.type == "log"
    assert fig.layout.xaxis2.title.text == "day"
    assert_well_formed(fig)


def test_srm_panel_three_arms_and_names():
    monitor = abt.srm_monitor([[0, 0, 0], [100, 100, 200], [90, 110, 200]], [0.25, 0.25, 0.5],
                              threshold=0.01)
    fig = viz.srm_panel(monitor, arms=["A", "B", "C"])
    np.testing.assert_allclose(only(fig, "C").y, [np.nan, 0.5, 0.5])  # no users yet on day 1
    np.testing.assert_array_equal(only(fig, "C: expected 0.5").y, [0.5, 0.5])
    np.testing.assert_array_equal(only(fig, "threshold 0.01").y, [0.01, 0.01])
    assert len({only(fig, arm).line.color for arm in "ABC"}) == 3
    assert viz.srm_panel(monitor).data[0].name == "arm 1"


def test_srm_panel_refuses_bad_input():
    several = abt.srm_monitor(np.full((2, 3, 2), 100))
    with pytest.raises(ValueError, match="monitor must hold one experiment"):
        viz.srm_panel(several)
    with pytest.raises(TypeError, match="monitor must have a field 'cumulative_counts'"):
        viz.srm_panel(abt.srm_test([100, 100]))
    monitor = abt.srm_monitor(np.full((3, 2), 100))
    with pytest.raises(ValueError, match="arms must be a sequence of 2 names"):
        viz.srm_panel(monitor, arms=["A"])
    with pytest.raises(TypeError, match="arms must be a string"):
        viz.srm_panel(monitor, arms=["A", 2])


# --- sequential_monitor ----------------------------------------------------------------------


def test_sequential_monitor_two_sided_stopped_early_at_the_planned_looks():
    design = abt.boundaries(5, method="obf")
    analysis = abt.sequential_analysis([1.2, 3.4], design.information_fractions[:2], design)
    assert analysis.stop_look == 2
    fig = viz.sequential_monitor(analysis)
    planned = traces(fig, "boundary (planned looks)")
    assert len(planned) == 2
    np.testing.assert_array_equal(planned[0].y, design.critical_values)
    np.testing.assert_array_equal(planned[1].y, -design.critical_values)
    np.testing.assert_array_equal(planned[0].x, design.information_fractions)  # all 5 looks
    assert not traces(fig, "boundary at the observed looks")  # observed looks are the plan
    z = only(fig, "observed Z")
    np.testing.assert_array_equal(z.y, [1.2, 3.4])
    np.testing.assert_array_equal(z.customdata[:, 1], analysis.critical_values)
    stop = only(fig, "stop at look 2: reject H0")
    assert (stop.x[0], stop.y[0]) == (design.information_fractions[1], 3.4)
    assert stop.marker.color == viz.COLORS["pass"]
    assert_well_formed(fig)


def test_sequential_monitor_spending_design_at_observed_fractions():
    design = abt.boundaries(5, method="ld-obf")
    analysis = abt.sequential_analysis([2.7, 2.9], [0.218, 0.404], design)
    assert analysis.stop_look == 0
    fig = viz.sequential_monitor(analysis, title="Checkout test")
    used = traces(fig, "boundary at the observed looks")
    np.testing.assert_array_equal(used[0].y, analysis.critical_values)
    np.testing.assert_array_equal(used[0].x, [0.218, 0.404])
    np.testing.assert_array_equal(used[1].y, -analysis.critical_values)
    np.testing.assert_array_equal(traces(fig, "boundary (planned looks)")[0].y,
                                  design.critical_values)
    assert not [trace for trace in fig.data if trace.name.startswith("stop")]
    assert fig.layout.title.text == "Checkout test"
    assert_well_formed(fig)


@pytest.mark.parametrize("alternative, sign", [("larger", 1), ("smaller", -1)])
def test_sequential_monitor_one_sided(alternative, sign):
    design = abt.boundaries(4, method="pocock", alternative=alternative)
    analysis = abt.sequential_analysis(sign * np.array([0.5, 1.0, 2.6]), [0.25, 0.5, 0.75], design)
    assert analysis.stop_look == 3
    fig = viz.sequential_monitor(analysis)
    planned = only(fig, "boundary (planned looks)")
    np.testing.assert_array_equal(planned.y, sign * design.critical_values)
    assert only(fig, "stop at look 3: reject H0").y[0] == sign * 2.6


def test_sequential_monitor_refuses_bad_records():
    with pytest.raises(TypeError, match="analysis must have a field 'design'"):
        viz.sequential_monitor(SimpleNamespace(z_values=[1.0], information_fractions=[0.5],
                                               critical_values=[2.0], stop_look=0))
    design = SimpleNamespace(critical_values=[2.0, 2.0], information_fractions=[0.5, 1.0],
                             alternative="both")
    record = SimpleNamespace(z_values=[1.0], information_fractions=[0.5], critical_values=[2.0],
                             stop_look=0, design=design)
    with pytest.raises(ValueError, match="analysis.design.alternative must be"):
        viz.sequential_monitor(record)
    design.alternative = "larger"
    record.stop_look = 2
    with pytest.raises(ValueError, match=r"stop_look must be an integer in \[0, 1\], got 2"):
        viz.sequential_monitor(record)
    record.information_fractions = [0.5, 1.0]
    with pytest.raises(ValueError, match=r"fractions must have one value per look \(1\)"):
        viz.sequential_monitor(record)


# --- confidence_sequence ---------------------------------------------------------------------


def checkout_stream():
    rng = np.random.default_rng(3)
    n = 1_000 * np.arange(1, 29)
    x_c = np.cumsum(rng.binomial(1_000, 0.10, 28))
    x_t = np.cumsum(rng.binomial(1_000, 0.11, 28))
    estimate = x_t / n - x_c / n
    variance = (x_t / n) * (1 - x_t / n) / n + (x_c / n) * (1 - x_c / n) / n
    return estimate, variance, abt.msprt(estimate, variance, tau2=0.01**2)


def test_confidence_sequence_draws_the_sequence_and_the_fixed_interval():
    estimate, variance, stream = checkout_stream()
    assert stream.stop_look > 0
    days = np.arange(1, 29)
    fig = viz.confidence_sequence(stream, x=days, xaxis_title="day")
    sequence = only(fig, "95% confidence sequence (valid at every look)")
    np.testing.assert_array_equal(band_bounds(sequence)[0], stream.ci_low)
    np.testing.assert_array_equal(band_bounds(sequence)[1], stream.ci_high)
    fixed = only(fig, "fixed-sample 95% CI (valid at one planned look)")
    half = stats.norm.ppf(0.975) * np.sqrt(variance)
    np.testing.assert_allclose(band_bounds(fixed)[0], estimate - half, rtol=1e-12)
    np.testing.assert_allclose(band_bounds(fixed)[1], estimate + half, rtol=1e-12)
    line = only(fig, "estimate")
    np.testing.assert_array_equal(line.y, estimate)
    np.testing.assert_array_equal(line.customdata[:, 2], stream.pvalue)
    stop = only(fig, "always-valid p <= 0.05: may stop")
    assert stop.x[0] == days[stream.stop_look - 1]
    assert fig.layout.shapes[0].y0 == stream.null
    assert fig.layout.xaxis.title.text == "day"
    assert_well_formed(fig)


def test_confidence_sequence_options_and_errors():
    _, _, stream = checkout_stream()
    fig = viz.confidence_sequence(stream, fixed=False)
    assert [trace.name for trace in fig.data][:2] == [
        "95% confidence sequence (valid at every look)", "estimate"]
    np.testing.assert_array_equal(fig.data[1].x, np.arange(1, 29))
    quiet = abt.msprt([0.0, 0.0], [1.0, 0.5], tau2=1.0, alpha=0.1)
    assert [trace.name for trace in viz.confidence_sequence(quiet).data] == [
        "fixed-sample 90% CI (valid at one planned look)",
        "90% confidence sequence (valid at every look)", "estimate"]
    with pytest.raises(ValueError, match="x must have one value per look"):
        viz.confidence_sequence(stream, x=[1, 2])
    with pytest.raises(TypeError, match="fixed must be True or False"):
        viz.confidence_sequence(stream, fixed="yes")
    with pytest.raises(ValueError, match="result must hold one experiment"):
        viz.confidence_sequence(abt.msprt(np.zeros((3, 4)), 1.0, tau2=1.0))
    broken = abt.msprt([0.0, 0.1], [1.0, 0.5], tau2=1.0)
    object.__setattr__(broken, "ci_low", np.array([np.nan, 0.0]))
    with pytest.raises(ValueError, match=r"result.ci_low must hold 2 numbers \(no NaN\)"):
        viz.confidence_sequence(broken)
    with pytest.raises(TypeError, match="result must have a field 'estimates'"):
        viz.confidence_sequence(abt.srm_test([10, 10]))


# --- guardrail_status ------------------------------------------------------------------------


def test_guardrail_status_bars_colours_and_tolerances():
    checks = [
        guardrail("latency", 0.01, -0.01, 0.03, 0.02, "increase", "inconclusive"),
        guardrail("revenue", 0.01, 0.002, 0.018, 0.02, "decrease", "pass"),
        guardrail("errors", 0.05, 0.03, 0.07, 0.02, "increase", "fail"),
    ]
    fig = viz.guardrail_status(checks)
    assert list(fig.layout.yaxis.categoryarray) == ["latency", "revenue", "errors"]
    for check in checks:
        trace = only(fig, check.status)
        assert trace.marker.color == viz.COLORS[check.status]
        i = list(trace.y).index(check.name)
        assert trace.x[i] == check.lift
        assert trace.x[i] - trace.error_x.arrayminus[i] == pytest.approx(check.ci_low, abs=1e-15)
        assert trace.x[i] + trace.error_x.array[i] == pytest.approx(check.ci_high, abs=1e-15)
    tolerance = only(fig, "tolerated degradation")
    np.testing.assert_array_equal(tolerance.x, [0.02, -0.02, 0.02])
    np.testing.assert_array_equal(tolerance.y, ["latency", "revenue", "errors"])
    assert fig.layout.xaxis.tickformat == ".1%"
    assert_well_formed(fig)


def test_guardrail_status_infinite_bound_reaches_the_axis_edge():
    checks = [guardrail("revenue", 0.01, -0.005, np.inf, 0.02, "decrease", "pass"),
              guardrail("latency", -0.01, -np.inf, 0.004, 0.03, "increase", "pass")]
    fig = viz.guardrail_status(checks)
    low, high = fig.layout.xaxis.range
    assert low < -0.02 and high > 0.03  # every finite number and tolerance stays in view
    trace = only(fig, "pass")
    assert trace.x[0] + trace.error_x.array[0] == pytest.approx(high)
    assert trace.x[1] - trace.error_x.arrayminus[1] == pytest.approx(low)
    assert np.isinf(trace.customdata[0, 1]) and np.isinf(trace.customdata[1, 0])
    assert_well_formed(fig)


def test_guardrail_status_draws_guardrail_check_records():
    decision = pytest.importorskip("abteach.decision")
    checks = [
        decision.guardrail_check("conversion", abt.ztest_proportions(10_000, 100_000, 10_050,
                                                                     100_000),
                                 tolerated_degradation=0.03, bad_direction="decrease"),
        decision.guardrail_check("errors", abt.ztest_proportions(1_000, 100_000, 1_300, 100_000),
                                 tolerated_degradation=0.05, bad_direction="increase"),
        decision.guardrail_check("refunds", abt.ztest_proportions(50, 10_000, 52, 10_000),
                                 tolerated_degradation=0.05, bad_direction="increase"),
    ]
    assert [check.status for check in checks] == ["pass", "fail", "inconclusive"]
    fig = viz.guardrail_status(checks)
    for check in checks:
        trace = only(fig, check.status)
        assert list(trace.y) == [check.name]
        np.testing.assert_array_equal(trace.customdata[0, :2], [check.ci_low, check.ci_high])
    np.testing.assert_array_equal(only(fig, "tolerated degradation").x, [-0.03, 0.05, 0.05])
    batch = decision.guardrail_check(
        "conversion", abt.ztest_proportions([100, 90], [1000] * 2, [101, 80], [1000] * 2),
        tolerated_degradation=0.05, bad_direction="decrease")
    with pytest.raises(ValueError, match=r"checks\[0\].status must be one of"):
        viz.guardrail_status([batch])


@pytest.mark.parametrize("checks, error, words", [
    ([], ValueError, "checks must not be empty"),
    ("latency", TypeError, "checks must be a sequence"),
    ([guardrail(status="green")], ValueError, "checks[0].status must be one of"),
    ([guardrail(bad_direction="up")], ValueError, "checks[0].bad_direction must be one of"),
    ([guardrail(tolerated_degradation=0)], ValueError,
     "checks[0].tolerated_degradation must be > 0"),
    ([guardrail(), guardrail("errors", lift=0.05)], ValueError,
     "checks lift must be <= checks ci_high, got 0.05 > 0.03 (at 'errors')"),
    ([guardrail(), guardrail()], ValueError, "checks must have distinct names"),
    ([SimpleNamespace(name="x", lift=0.0)], TypeError, "checks[0] must have a field"),
    ([guardrail(name=3)], TypeError, "checks[0].name must be a string"),
    ([guardrail(lift=np.nan)], ValueError, "checks[0].lift must be finite"),
])
def test_guardrail_status_refuses_bad_input(checks, error, words):
    with pytest.raises(error) as info:
        viz.guardrail_status(checks)
    assert words in str(info.value)


def test_builders_are_exported_and_never_show(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("viz must not call fig.show()")

    monkeypatch.setattr(go.Figure, "show", refuse)
    for name in ("metric_over_time", "effect_over_time", "forest_plot", "srm_panel",
                 "sequential_monitor", "confidence_sequence", "guardrail_status"):
        assert getattr(abt, name) is getattr(viz, name)
    viz.metric_over_time(DAYS, DAYS)
    viz.forest_plot(metric_tests())
    viz.srm_panel(abt.srm_monitor(np.full((3, 2), 100)))


# --- fuzz ------------------------------------------------------------------------------------

finite = st.floats(-1e6, 1e6, allow_nan=False)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(finite, st.floats(0, 1e3), st.floats(0, 1e3)), min_size=1, max_size=30))
def test_fuzz_metric_over_time_valid_input(rows):
    value, below, above = (np.array(column) for column in zip(*rows, strict=True))
    day = np.arange(value.size)
    fig = viz.metric_over_time(day, value, value - below, value + above)
    np.testing.assert_array_equal(fig.data[1].y, value)
    assert not np.isnan(np.asarray(fig.data[0].y, dtype=float)).any()
    assert "NaN" not in fig.to_json()


junk = st.one_of(
    st.none(), st.booleans(), st.text(max_size=3), st.floats(), st.integers(),
    st.lists(st.floats(), max_size=5), st.lists(st.integers(-5, 5), max_size=5),
    st.dictionaries(st.text(max_size=2), st.lists(st.floats(), max_size=3), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(day=junk, value=junk, ci_low=junk, ci_high=junk)
def test_fuzz_metric_over_time_only_clear_errors(day, value, ci_low, ci_high):
    try:
        fig = viz.metric_over_time(day, value, ci_low, ci_high)
    except (ValueError, TypeError) as exc:
        assert any(name in str(exc) for name in ("day", "value", "ci_low", "ci_high", "name"))
    else:
        assert "NaN" not in fig.to_json()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(finite, st.floats(0, 1e3), st.floats(0, 1e3)), min_size=1, max_size=12),
       st.floats(0.01, 100))
def test_fuzz_forest_plot_frames(rows, scale):
    effect, below, above = (np.array(column) for column in zip(*rows, strict=True))
    frame = pd.DataFrame({"effect": effect, "ci_low": effect - below, "ci_high": effect + above},
                         index=[f"m{i}" for i in range(effect.size)])
    fig = viz.forest_plot(frame, scale=scale)
    drawn = np.concatenate([trace.x for trace in fig.data])
    np.testing.assert_allclose(np.sort(drawn), np.sort(scale * effect), rtol=1e-12)
    assert sum(len(trace.y) for trace in fig.data) == effect.size


@settings(max_examples=200, deadline=None)
@given(lift=junk, ci_low=junk, ci_high=junk, tolerated=junk,
       direction=st.sampled_from(["increase", "decrease", "up", None]),
       status=st.sampled_from(["pass", "fail", "inconclusive", "ok", 1]))
def test_fuzz_guardrail_status_only_clear_errors(lift, ci_low, ci_high, tolerated, direction,
                                                 status):
    check = guardrail(lift=lift, ci_low=ci_low, ci_high=ci_high, tolerated_degradation=tolerated,
                      bad_direction=direction, status=status)
    try:
        fig = viz.guardrail_status([check])
    except (ValueError, TypeError) as exc:
        assert "checks" in str(exc)
    else:
        assert "NaN" not in fig.to_json()
