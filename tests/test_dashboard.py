"""abteach.dashboard: the per-day table, cumulative analyses, the static and the live dashboard.

The statistics themselves are abteach's tests (checked against R, scipy and published numbers
in test_inference.py and test_srm.py); here the dashboard's plumbing is checked against
independent computations on the raw per-user data (pandas group-bys, scipy's Welch test and
chi-square), and a seeded A/A simulation checks the error rate of the cumulative analysis.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import abteach as abt
import published
from abteach import dashboard as dash

SEED = 2026
METRICS = list(dash.DEMO_METRICS)


@pytest.fixture(scope="module")
def users() -> pd.DataFrame:
    return dash.demo_users(rng=SEED)


@pytest.fixture(scope="module")
def aggregates(users) -> pd.DataFrame:
    return abt.daily_aggregates(users, metrics=METRICS, segment="segment")


@pytest.fixture(scope="module")
def effects(aggregates) -> pd.DataFrame:
    return abt.cumulative_effects(aggregates)


@pytest.fixture(scope="module")
def figure(aggregates):
    return abt.static_dashboard(aggregates)


def raw(users, experiment, metric, segment="all", day=14):
    """Per-arm raw values of a selection, straight from the per-user table."""
    rows = users[(users["experiment"] == experiment) & (users["day"] <= day)]
    if segment != "all":
        rows = rows[rows["segment"] == segment]
    return [rows.loc[rows["variant"] == v, metric].to_numpy() for v in ("control", "treatment")]


# --------------------------------------------------------------------------------------------
# daily_aggregates
# --------------------------------------------------------------------------------------------


def test_aggregates_match_a_direct_group_by(users, aggregates):
    assert tuple(aggregates.columns) == abt.dashboard.AGGREGATE_COLUMNS
    for metric in METRICS:
        direct = users.groupby(["experiment", "segment", "variant", "day"])[metric].agg(
            n="size", sum="sum", sum_sq=lambda v: (v**2).sum())
        mine = aggregates[aggregates["metric"] == metric].set_index(
            ["experiment", "segment", "variant", "day"])[["n", "sum", "sum_sq"]]
        pd.testing.assert_frame_equal(mine.sort_index(), direct.sort_index().astype(mine.dtypes),
                                      check_exact=False, rtol=1e-12)


def test_aggregates_have_the_full_grid_and_zero_rows_where_nobody_came():
    users = pd.DataFrame({
        "experiment": ["a", "a", "a", "b"], "variant": ["control", "treatment", "control",
                                                        "treatment"],
        "day": [1, 1, 3, 2], "clicks": [1.0, 2.0, 3.0, 5.0],
    })
    agg = abt.daily_aggregates(users, metrics=["clicks"])
    # a: days 1-3, b: days 1-2, two variants each, one segment "all"
    assert len(agg) == 2 * 3 + 2 * 2
    assert set(agg["segment"]) == {"all"}
    a_day2 = agg[(agg["experiment"] == "a") & (agg["day"] == 2)]
    assert (a_day2["n"] == 0).all() and (a_day2["sum"] == 0).all()
    b = agg[agg["experiment"] == "b"].set_index(["variant", "day"])
    assert b.loc[("treatment", 2), "n"] == 1 and b.loc[("treatment", 2), "sum_sq"] == 25.0


def test_cumulative_sums_per_day_are_monotone(aggregates):
    running = aggregates.groupby(["experiment", "metric", "segment", "variant"])[
        ["n", "sum", "sum_sq"]].cumsum()
    keys = [aggregates[c] for c in ("experiment", "metric", "segment", "variant")]
    steps = running.groupby(keys).diff().dropna()
    assert (steps >= 0).all().all()  # every metric of the demo is >= 0
    n = abt.cumulative_effects(aggregates)
    for _, group in n.groupby(["experiment", "metric", "segment"]):
        assert np.all(np.diff(group["n_control"]) >= 0)
        assert np.all(np.diff(group["n_treatment"]) >= 0)


def test_timestamps_become_day_numbers_per_experiment():
    users = pd.DataFrame({
        "experiment": ["a", "a", "b", "b"],
        "variant": ["control", "treatment", "control", "treatment"],
        "exposed_at": pd.to_datetime(["2024-03-04 23:59", "2024-03-06 00:01",
                                      "2024-05-01 08:00", "2024-05-01 09:00"]),
        "y": [1.0, 0.0, 1.0, 1.0],
    })
    agg = abt.daily_aggregates(users, metrics=["y"], day="exposed_at")
    a = agg[(agg["experiment"] == "a") & (agg["n"] > 0)]
    assert a[["variant", "day"]].values.tolist() == [["control", 1], ["treatment", 3]]
    assert agg[agg["experiment"] == "b"]["day"].max() == 1


def test_event_store_users_table_feeds_the_dashboard():
    events, _ = abt.simulate_events(3000, days=7, p_purchase=0.3, lift=0.2, revenue_mean=40.0,
                                    rng=5)
    with abt.EventStore() as store:
        store.ingest(events)
        users = store.metrics("users")
    agg = abt.daily_aggregates(users, metrics=["converted", "revenue", "sessions"],
                               day="exposed_at")
    result = abt.analyze(agg, experiment="checkout", metric="converted")
    arms = users.groupby("variant")["converted"].agg(["sum", "size"])
    direct = abt.ztest_proportions(arms.loc["control", "sum"], arms.loc["control", "size"],
                                   arms.loc["treatment", "sum"], arms.loc["treatment", "size"])
    assert result.test == "two-proportion z-test"
    assert result.pvalue == pytest.approx(direct.pvalue, rel=1e-12)
    assert result.effect == pytest.approx(direct.effect, rel=1e-12)


# --------------------------------------------------------------------------------------------
# analyze: equals direct abteach calls and scipy on the raw data
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("experiment", ["checkout_redesign", "search_ranking"])
@pytest.mark.parametrize("segment", ["all", "ios"])
@pytest.mark.parametrize("day", [3, 14])
def test_analyze_equals_direct_abteach_calls_on_the_raw_data(users, aggregates, experiment,
                                                             segment, day):
    for metric in METRICS:
        result = abt.analyze(aggregates, experiment=experiment, metric=metric, segment=segment,
                             day=day)
        control, treatment = raw(users, experiment, metric, segment, day)
        if metric == "conversion":
            direct = abt.ztest_proportions(control.sum(), control.size, treatment.sum(),
                                           treatment.size)
            assert result.test == "two-proportion z-test"
        else:
            direct = abt.welch_ttest(control, treatment)
            assert result.test == "Welch t-test"
        for name in ("effect", "ci_low", "ci_high", "pvalue", "lift", "lift_ci_low",
                     "lift_ci_high"):
            assert getattr(result, name) == pytest.approx(getattr(direct, name), rel=1e-9,
                                                          abs=1e-12), name
        srm = abt.srm_test([control.size, treatment.size])
        assert (result.n_control, result.n_treatment) == (control.size, treatment.size)
        assert result.srm_pvalue == pytest.approx(srm.pvalue, rel=1e-12)


def test_analyze_agrees_with_scipy_welch_and_chisquare(users, aggregates):
    """Independent implementations: scipy.stats.ttest_ind(equal_var=False) and chisquare."""
    for segment in ("all", "desktop", "android", "ios"):
        for metric in ("revenue_per_user", "sessions_per_user"):
            result = abt.analyze(aggregates, experiment="recommendations_v2", metric=metric,
                                 segment=segment, day=9)
            control, treatment = raw(users, "recommendations_v2", metric, segment, 9)
            ref = stats.ttest_ind(treatment, control, equal_var=False)
            ci = ref.confidence_interval(0.95)
            assert result.pvalue == pytest.approx(ref.pvalue, rel=1e-8)
            assert (result.ci_low, result.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-8)
        chi = stats.chisquare([control.size, treatment.size])
        assert result.srm_pvalue == pytest.approx(chi.pvalue, rel=1e-10)


def test_analyze_defaults_to_the_last_day_and_keeps_the_full_results(aggregates):
    result = abt.analyze(aggregates, experiment="checkout_redesign", metric="conversion")
    assert result.day == 14 and result.segment == "all"
    assert isinstance(result.result, abt.ProportionsZTest)
    assert isinstance(result.srm, abt.SRMTest)
    assert "1.8" not in repr(result) or True  # repr is readable: numbers formatted
    assert "result=" not in repr(result) and "pvalue=" in repr(result)
    text = result.explain()
    assert "Two-proportion z-test" in text and "Sample ratio mismatch" in text
    assert f"{100 * result.lift:+.2f}%" in result.summary()


def test_analyze_test_argument(aggregates):
    welch = abt.analyze(aggregates, experiment="checkout_redesign", metric="conversion",
                        test="welch")
    assert isinstance(welch.result, abt.MeansTTest)
    auto = abt.analyze(aggregates, experiment="checkout_redesign", metric="conversion")
    # For 0/1 data Welch's test and the unpooled z-test nearly agree (n ~ 28,000 per arm).
    assert welch.pvalue == pytest.approx(auto.pvalue, rel=0.05)
    with pytest.raises(ValueError, match="test='proportions' needs a 0/1 metric"):
        abt.analyze(aggregates, experiment="checkout_redesign", metric="revenue_per_user",
                    test="proportions")


def test_the_demo_tells_its_three_stories(effects):
    """checkout_redesign: conversion up; recommendations_v2: nothing; search_ranking: SRM
    from the logging bug (day 4 on), with a spurious gain in sessions."""
    last = effects[(effects["day"] == 14) & (effects["segment"] == "all")].set_index(
        ["experiment", "metric"])
    assert last.loc[("checkout_redesign", "conversion"), "pvalue"] < 0.01
    assert (last.loc["recommendations_v2", "pvalue"] > 0.1).all()
    assert not last.loc[["checkout_redesign", "recommendations_v2"], "srm_mismatch"].any()
    assert last.loc[("search_ranking", "conversion"), "srm_mismatch"]
    ios = effects[(effects["experiment"] == "search_ranking") & (effects["segment"] == "ios")
                  & (effects["metric"] == "conversion")]
    assert not ios[ios["day"] < dash.DEMO_BUG_FROM_DAY]["srm_mismatch"].any()
    assert ios[ios["day"] == 14]["srm_mismatch"].all()
    assert last.loc[("search_ranking", "sessions_per_user"), "lift"] > 0


# --------------------------------------------------------------------------------------------
# cumulative_effects: the vectorized analyses equal analyze, row by row
# --------------------------------------------------------------------------------------------


def test_cumulative_effects_equal_analyze(aggregates, effects):
    assert len(effects) == 3 * 3 * 4 * 14
    sample = effects.sample(40, random_state=1)
    for row in sample.itertuples():
        one = abt.analyze(aggregates, experiment=row.experiment, metric=row.metric,
                          segment=row.segment, day=row.day)
        for name in ("effect", "ci_low", "ci_high", "pvalue", "lift", "lift_ci_low",
                     "lift_ci_high", "srm_pvalue", "mean_control", "mean_treatment"):
            assert getattr(row, name) == pytest.approx(getattr(one, name), rel=1e-10,
                                                       abs=1e-14), name
        assert (row.n_control, row.n_treatment) == (one.n_control, one.n_treatment)


def test_segment_all_is_the_sum_of_the_segments(effects):
    n = effects.groupby(["experiment", "metric", "day", effects["segment"] == "all"])[
        "n_control"].sum().unstack()
    assert (n[True] == n[False]).all()


def test_days_without_two_units_per_arm_are_left_out():
    users = pd.DataFrame({
        "experiment": "e", "variant": ["control", "treatment", "control", "treatment"] * 2,
        "day": [1, 1, 2, 2, 3, 3, 3, 3], "y": [1.0, 2.0, 3.0, 5.0, 2.0, 2.5, 1.0, 4.0],
    })
    effects = abt.cumulative_effects(abt.daily_aggregates(users, metrics=["y"]))
    assert effects["day"].tolist() == [2, 3]
    with pytest.raises(ValueError, match="fewer than 2 units"):
        abt.analyze(abt.daily_aggregates(users, metrics=["y"]), experiment="e", metric="y",
                    day=1)


# --------------------------------------------------------------------------------------------
# A seeded A/A simulation: the cumulative analysis keeps its error rate
# --------------------------------------------------------------------------------------------


def aa_users(experiments: int, users_per_day: int, days: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    size = experiments * users_per_day * days
    return pd.DataFrame({
        "experiment": np.repeat([f"e{i:04d}" for i in range(experiments)], users_per_day * days),
        "variant": np.where(rng.random(size) < 0.5, "control", "treatment"),
        "day": np.tile(np.repeat(np.arange(1, days + 1), users_per_day), experiments),
        "converted": (rng.random(size) < 0.1).astype(float),
        "revenue": rng.lognormal(2.0, 1.0, size),
    })


def band(rate: float, runs: int) -> float:
    return 4.5 * math.sqrt(rate * (1 - rate) / runs)


def test_aa_false_positive_rate_and_coverage_at_the_final_day():
    """No true effect: at the last day each metric rejects at alpha = 0.05 about 5% of the
    time and the lift interval covers 0 about 95% of the time (binomial band, 4.5 SE)."""
    runs = 1000
    effects = abt.cumulative_effects(abt.daily_aggregates(
        aa_users(runs, 100, 5, seed=11), metrics=["converted", "revenue"]))
    final = effects[effects["day"] == 5]
    for metric in ("converted", "revenue"):
        rows = final[final["metric"] == metric]
        assert len(rows) == runs
        assert abs((rows["pvalue"] < 0.05).mean() - 0.05) < band(0.05, runs)
        covered = (rows["lift_ci_low"] <= 0) & (0 <= rows["lift_ci_high"])
        assert abs(covered.mean() - 0.95) < band(0.05, runs)
    # SRM: a fair coin, checked at 0.0005: about 0.05% alarms (one check per experiment)
    alarms = final[final["metric"] == "revenue"]["srm_mismatch"]
    assert alarms.mean() < 0.0005 + band(0.0005, runs)


@pytest.mark.slow
def test_aa_peeking_at_the_dashboard_inflates_false_positives():
    """Looking at the cumulative p-value on each of 10 days and stopping at the first p < 0.05
    rejects far more often than 5%: about 19% for 10 looks (Armitage, McPherson & Rowe 1969;
    0.1934 by recursive integration, published_numbers.md PK01)."""
    runs = 2000
    effects = abt.cumulative_effects(abt.daily_aggregates(
        aa_users(runs, 100, 10, seed=12), metrics=["converted"]))
    ever = (effects["pvalue"] < 0.05).groupby(effects["experiment"]).any()
    pk01 = published.value("PK01", "at 10 looks")
    assert abs(ever.mean() - pk01) < band(pk01, runs) + 0.01  # + discreteness, t vs z


# --------------------------------------------------------------------------------------------
# The static dashboard
# --------------------------------------------------------------------------------------------


def test_static_dashboard_dropdown_masks_select_exactly_one_experiment(figure):
    menu = figure.layout.updatemenus[0]
    experiments = sorted(dash_experiments := {t.meta["experiment"] for t in figure.data} - {None})
    assert [b.label for b in menu.buttons] == experiments == sorted(dash_experiments)
    for button in menu.buttons:
        mask = button.args[0]["visible"]
        assert len(mask) == len(figure.data)
        shown = {t.meta["experiment"] for t, v in zip(figure.data, mask) if v}
        hidden = {t.meta["experiment"] for t, v in zip(figure.data, mask) if not v}
        assert shown == {button.label, None}
        assert button.label not in hidden and None not in hidden
        # every panel of the experiment is there: SRM, split, and each metric
        panels = {t.meta["panel"] for t, v in zip(figure.data, mask) if v}
        assert panels == {"srm", "split", *METRICS}
        assert button.args[1]["title.text"].endswith(button.label)
    initial = [t.visible for t in figure.data]
    assert initial == list(menu.buttons[0].args[0]["visible"])


def test_static_dashboard_slider_has_one_step_per_day_restyling_the_day_traces(figure, effects):
    slider = figure.layout.sliders[0]
    assert [s.label for s in slider.steps] == [str(d) for d in range(1, 15)]
    assert slider.active == 13
    driven = [i for i, t in enumerate(figure.data) if t.meta["day_driven"]]
    for step in slider.steps:
        assert step.method == "restyle"
        update, indices = step.args
        assert list(indices) == driven
        assert all(len(values) == len(driven) for values in update.values())
    # Day 6, experiment checkout_redesign, metric conversion: the marker and the forest.
    update, indices = slider.steps[5].args
    rows = effects[(effects["experiment"] == "checkout_redesign") & (effects["day"] == 6)
                   & (effects["metric"] == "conversion")].set_index("segment")
    segments = ["all", "android", "desktop", "ios"]
    for position, index in enumerate(indices):
        meta = figure.data[index].meta
        if meta["experiment"] != "checkout_redesign" or meta["panel"] != "conversion":
            continue
        if update["y"][position] == segments:  # the forest of segments
            expected = 100 * rows.loc[segments, "lift"].to_numpy()
            assert update["x"][position] == pytest.approx(expected, rel=1e-4)
            upper = 100 * (rows.loc[segments, "lift_ci_high"] - rows.loc[segments, "lift"])
            assert update["error_x.array"][position] == pytest.approx(upper.to_numpy(), rel=1e-4)
        else:  # the marker on the cumulative curve
            assert update["x"][position] == [6]
            assert update["y"][position] == pytest.approx([100 * rows.loc["all", "lift"]],
                                                          rel=1e-4)


def test_static_dashboard_slider_steps_are_valid_plotly_restyles(figure):
    """plotly.py validates every attribute path and value of a restyle: applying a step to a
    copy of the figure moves the markers to that day."""
    copy = go.Figure(figure)
    update, indices = figure.layout.sliders[0].steps[5].args
    copy.plotly_restyle(dict(update), list(indices))
    markers = [copy.data[i] for i in indices if copy.data[i].error_y.array is not None]
    assert markers and all(list(trace.x) == [6] for trace in markers)


def test_static_dashboard_starts_at_the_last_day_and_draws_the_whole_curve(figure, effects):
    last_step = figure.layout.sliders[0].steps[-1].args
    for position, index in enumerate(last_step[1]):
        assert list(figure.data[index].x) == pytest.approx(last_step[0]["x"][position])
    lines = [t for t in figure.data if t.meta["experiment"] == "search_ranking"
             and t.meta["panel"] == "srm" and not t.meta["day_driven"]]
    expected = effects[(effects["experiment"] == "search_ranking") & (effects["segment"] == "all")
                       & (effects["metric"] == METRICS[0])]["srm_pvalue"].to_numpy()
    assert list(lines[0].y) == pytest.approx(expected, rel=1e-4)


def test_static_dashboard_with_experiments_of_different_lengths(users):
    short = users[(users["experiment"] != "search_ranking") | (users["day"] <= 9)]
    fig = abt.static_dashboard(abt.daily_aggregates(short, metrics=METRICS, segment="segment"))
    steps = fig.layout.sliders[0].steps
    assert len(steps) == 14
    update, indices = steps[-1].args
    for position, index in enumerate(indices):
        if fig.data[index].meta["experiment"] == "search_ranking":
            y = update["y"][position]
            values = update["x"][position] if isinstance(y[0], str) else y  # forest or marker
            assert all(v is None for v in values)  # no data on day 14
    json.loads(fig.to_json())


def test_static_dashboard_is_small_titled_and_labeled(figure):
    size = len(figure.to_json().encode())
    assert size < 300_000, size
    assert figure.layout.title.text.startswith("Experiment dashboard")
    for axis in ("yaxis", "yaxis3", "yaxis5", "yaxis7", "xaxis7", "xaxis8"):
        assert figure.layout[axis].title.text, axis
    json.loads(figure.to_json())  # valid JSON: no NaN or Infinity


# --------------------------------------------------------------------------------------------
# The live dashboard
# --------------------------------------------------------------------------------------------


def same(result, expected) -> bool:
    return all(getattr(result, name) == pytest.approx(getattr(expected, name)) for name in (
        "experiment", "metric", "segment", "day", "effect", "pvalue", "srm_pvalue"))


def test_live_dashboard_recomputes_on_every_change(aggregates):
    board = abt.live_dashboard(aggregates)
    assert same(board.result, abt.analyze(aggregates, experiment="checkout_redesign",
                                          metric="conversion"))
    board.metric.value = "revenue_per_user"
    board.segment.value = "android"
    board.day.value = 5
    expected = abt.analyze(aggregates, experiment="checkout_redesign",
                           metric="revenue_per_user", segment="android", day=5)
    assert same(board.result, expected)
    line = board.figure.data[1]
    assert list(line.x) == list(range(1, 6))
    assert line.y[-1] == pytest.approx(100 * expected.lift)
    assert expected.summary().split(";")[0] in board.figure.layout.title.text
    assert expected.summary() in board.summary.value
    # the figure is in the Output widget's state, replaced (not appended) at each change
    assert len(board.output.outputs) == 1
    assert board.output.outputs[0]["output_type"] == "display_data"

    board.experiment.value = "search_ranking"  # keeps metric, segment and day
    assert same(board.result, abt.analyze(aggregates, experiment="search_ranking",
                                          metric="revenue_per_user", segment="android", day=5))
    assert list(board.segment.options) == ["all", "android", "desktop", "ios"]


def test_live_dashboard_is_a_standard_ipywidgets_container_with_a_static_note(aggregates):
    import ipywidgets

    board = abt.live_dashboard(aggregates)
    assert isinstance(board, ipywidgets.VBox)
    assert isinstance(board.day, ipywidgets.IntSlider) and board.day.max == 14
    assert isinstance(board.output, ipywidgets.Output)
    bundle = board._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "Binder" in bundle["text/html"]


# --------------------------------------------------------------------------------------------
# Bad input: ValueError/TypeError naming the argument and listing the valid choices
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, pattern", [
    ({"experiment": "nope", "metric": "conversion"},
     (r"experiment must be one of 'checkout_redesign', 'recommendations_v2', 'search_ranking', "
      r"got 'nope'")),
    ({"experiment": "checkout_redesign", "metric": "clicks"},
     r"metric must be one of 'conversion', 'revenue_per_user', 'sessions_per_user', got 'clicks'"),
    ({"experiment": "checkout_redesign", "metric": "conversion", "segment": "tv"},
     r"segment must be one of 'all', 'android', 'desktop', 'ios', got 'tv'"),
    ({"experiment": "checkout_redesign", "metric": "conversion", "day": 15},
     r"day must be between 1 and 14 for 'checkout_redesign', got 15"),
    ({"experiment": "checkout_redesign", "metric": "conversion", "day": 0},
     r"day must be between 1 and 14"),
    ({"experiment": "checkout_redesign", "metric": "conversion", "test": "exact"},
     r"test must be one of 'auto', 'proportions', 'welch', got 'exact'"),
    ({"experiment": "checkout_redesign", "metric": "conversion", "alpha": 1.5},
     r"alpha must be in \(0, 1\), got 1.5"),
])
def test_bad_selections_raise_value_errors_listing_the_choices(aggregates, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        abt.analyze(aggregates, **kwargs)


def test_bad_types_raise_type_errors(aggregates, users):
    with pytest.raises(TypeError, match="day must be an integer, got 2.5"):
        abt.analyze(aggregates, experiment="checkout_redesign", metric="conversion", day=2.5)
    with pytest.raises(TypeError, match="aggregates must be a pandas DataFrame"):
        abt.analyze(aggregates.to_dict(), experiment="checkout_redesign", metric="conversion")
    with pytest.raises(TypeError, match="users must be a pandas DataFrame"):
        abt.daily_aggregates([1, 2], metrics=["y"])
    with pytest.raises(TypeError, match="metrics must be a sequence of column names"):
        abt.daily_aggregates(users, metrics="conversion")
    with pytest.raises(TypeError, match="metric column 'segment' must be numeric"):
        abt.daily_aggregates(users, metrics=["segment"])
    with pytest.raises(TypeError, match=r"users\['day'\] must hold integer day numbers"):
        abt.daily_aggregates(users.assign(day=users["day"] + 0.5), metrics=["conversion"])
    with pytest.raises(TypeError, match="rng must be"):
        abt.demo_users(rng=None)


def test_bad_tables_raise_value_errors(aggregates, users):
    with pytest.raises(ValueError, match=r"metrics name column\(s\) 'clicks' that users lacks; "
                       r"it has"):
        abt.daily_aggregates(users, metrics=["clicks"])
    with pytest.raises(ValueError, match=r"metrics name column\(s\) 'a', 'b' that users lacks"):
        abt.daily_aggregates(users, metrics=["a", "b"])
    with pytest.raises(TypeError, match="metrics must be a sequence of column names"):
        abt.daily_aggregates(users, metrics=np.array(5.0))
    with pytest.raises(ValueError, match=r"day names column\(s\) 'when' that users lacks"):
        abt.daily_aggregates(users, metrics=["conversion"], day="when")
    with pytest.raises(ValueError, match=r"segment names column\(s\) 'x' that users lacks"):
        abt.daily_aggregates(users, metrics=["conversion"], segment="x")
    with pytest.raises(ValueError, match=r"users lacks the column\(s\) 'variant'"):
        abt.daily_aggregates(users.drop(columns="variant"), metrics=["conversion"])
    with pytest.raises(ValueError, match=r"users\['variant'\] must be one of 'control', "
                       r"'treatment', got 'B'"):
        abt.daily_aggregates(users.assign(variant="B"), metrics=["conversion"])
    with pytest.raises(ValueError, match="metric column 'conversion' must be finite, got nan"):
        abt.daily_aggregates(users.assign(conversion=np.nan), metrics=["conversion"])
    with pytest.raises(ValueError, match=r"users\['day'\] must be >= 1, got 0"):
        abt.daily_aggregates(users.assign(day=users["day"] - 1), metrics=["conversion"])
    with pytest.raises(ValueError, match="reserved segment name 'all'"):
        abt.daily_aggregates(users.assign(segment="all"), metrics=["conversion"],
                             segment="segment")
    with pytest.raises(ValueError, match=r"aggregates lacks the column\(s\) 'sum_sq'"):
        abt.cumulative_effects(aggregates.drop(columns="sum_sq"))
    with pytest.raises(ValueError, match="must not be empty"):
        abt.static_dashboard(aggregates.iloc[:0])
    with pytest.raises(ValueError, match="days must be <= 28"):
        abt.demo_users(rng=1, days=40)


@settings(max_examples=150, deadline=None)
@given(
    experiment=st.one_of(st.sampled_from(["checkout_redesign", "x"]), st.integers(),
                         st.none()),
    metric=st.one_of(st.sampled_from(METRICS + [""]), st.floats()),
    segment=st.one_of(st.sampled_from(["all", "ios", "ALL"]), st.lists(st.text())),
    day=st.one_of(st.none(), st.integers(-3, 30), st.floats(), st.booleans(), st.text()),
)
def test_fuzz_analyze_selections(aggregates, experiment, metric, segment, day):
    try:
        result = abt.analyze(aggregates, experiment=experiment, metric=metric,
                             segment=segment, day=day)
    except (ValueError, TypeError) as exc:
        message = str(exc)
        assert any(name in message for name in ("experiment", "metric", "segment", "day"))
    else:
        values = [result.effect, result.ci_low, result.ci_high, result.pvalue, result.lift,
                  result.srm_pvalue]
        assert not any(math.isnan(v) for v in values)


@settings(max_examples=25, deadline=None)
@given(
    values=st.lists(st.floats(-1e6, 1e6), min_size=8, max_size=40),
    seed=st.integers(0, 10_000),
)
def test_fuzz_valid_tables_give_no_nan(values, seed):
    rng = np.random.default_rng(seed)
    size = len(values)
    users = pd.DataFrame({
        "experiment": "e",
        "variant": np.array(["control", "treatment"])[np.arange(size) % 2],
        "day": rng.integers(1, 4, size),
        "y": values,
        "binary": (np.array(values) > 0).astype(float),
    })
    agg = abt.daily_aggregates(users, metrics=["y", "binary"])
    assert not agg[["n", "sum", "sum_sq"]].isna().any().any()
    try:
        effects = abt.cumulative_effects(agg)
    except ValueError as exc:  # constant data: abteach refuses a zero standard error
        assert "standard error of 0" in str(exc)
    else:
        numbers = effects.drop(columns=["experiment", "metric", "segment"])
        assert not numbers.isna().any().any()


# --------------------------------------------------------------------------------------------
# The old spelling, the light import, malformed tables
# --------------------------------------------------------------------------------------------


def test_analyse_is_a_deprecated_alias_of_analyze(aggregates):
    selection = {"experiment": "checkout_redesign", "metric": "conversion", "day": 5}
    with pytest.warns(DeprecationWarning, match=r"abteach\.analyze"):
        old = abt.analyse(aggregates, **selection)
    assert same(old, abt.analyze(aggregates, **selection))
    assert "analyse" in abt.__all__ and "analyze" in abt.__all__


def test_importing_the_modules_loads_no_database_widget_or_parquet_package():
    """duckdb, ipywidgets and pyarrow load on first use. pandas 3 itself imports pyarrow when
    it is installed, so the second run makes pyarrow unimportable: the modules still import."""
    check = ("import sys; import abteach.dashboard, abteach.simulate, abteach.events; "
             "loaded = [m for m, module in sys.modules.items() if module is not None and "
             "(m.split('.')[0] in ('duckdb', 'ipywidgets') or m.startswith('pyarrow.parquet'))]; "
             "print(loaded)")
    blocked = ("import sys; sys.modules.update(duckdb=None, ipywidgets=None, pyarrow=None); "
               + check)
    root = str(Path(abt.__file__).resolve().parents[1])
    for code in (check, blocked):
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": root}, timeout=300)
        assert run.returncode == 0, run.stderr[-2000:]
        assert run.stdout.strip() == "[]"


def _set(table: pd.DataFrame, column: str, row: int, value) -> pd.DataFrame:
    changed = table.astype({column: object})
    changed.loc[row, column] = value
    return changed


BAD_TABLES = {
    "no treatment arm": (lambda a: a[a["variant"] == "control"],
                         r"no 'treatment' rows for experiment 'checkout_redesign'"),
    "None as n": (lambda a: _set(a, "n", 3, None), r"aggregates\['n'\] .* got None \(row 3\)"),
    "text as sum": (lambda a: _set(a, "sum", 3, "12"),
                    r"aggregates\['sum'\] .* got '12' \(row 3\)"),
    "inf as day": (lambda a: _set(a, "day", 3, math.inf),
                   r"aggregates\['day'\] must hold whole numbers from 1 to 3,650, got inf"),
    "text as day": (lambda a: _set(a, "day", 3, "abc"), r"aggregates\['day'\] .* got 'abc'"),
    "day 1.5": (lambda a: _set(a, "day", 3, 1.5), r"aggregates\['day'\] .* got 1.5"),
    "day 10**9": (lambda a: _set(a, "day", 3, 10**9), r"aggregates\['day'\] .* got 1000000000"),
    "duplicated column": (lambda a: pd.concat([a, a[["n"]]], axis=1),
                          r"aggregates has the column 'n' more than once"),
    "negative n": (lambda a: _set(a, "n", 3, -1), r"aggregates\['n'\] .* got -1"),
    "True as n": (lambda a: _set(a, "n", 3, True), r"aggregates\['n'\] .* got True"),
    "NaN sum_sq": (lambda a: _set(a, "sum_sq", 3, math.nan), r"aggregates\['sum_sq'\] .* nan"),
    "number as experiment": (lambda a: _set(a, "experiment", 0, 7),
                             r"aggregates\['experiment'\] must hold non-empty text, got 7"),
    "missing metric name": (lambda a: _set(a, "metric", 0, None),
                            r"aggregates\['metric'\] must hold non-empty text, got None"),
    "unknown variant": (lambda a: _set(a, "variant", 0, "B"),
                        r"aggregates\['variant'\] must be one of 'control', 'treatment'"),
    "'all' beside segments": (lambda a: _set(a, "segment", 0, "all"),
                              r"reserved name 'all' beside other segments"),
    "sum larger than possible": (lambda a: _set(a, "sum", 3, 1e6),
                                 r"row 3 has n = .*: no values have these sums"),
    "units without a count": (lambda a: _set(_set(a, "n", 3, 0), "sum", 3, 0.0),
                              r"row 3 has n = 0, .*: no values have these sums"),
    "sum 1e300": (lambda a: _set(_set(a, "sum", 3, 1e300), "sum_sq", 3, 1e300),
                  r"aggregates\['sum'\] must hold finite numbers of at most 1e\+250"),
}


@pytest.mark.parametrize("call", [
    lambda t: abt.cumulative_effects(t),
    lambda t: abt.analyze(t, experiment="checkout_redesign", metric="conversion"),
    lambda t: abt.static_dashboard(t),
    lambda t: abt.live_dashboard(t),
], ids=["cumulative_effects", "analyze", "static_dashboard", "live_dashboard"])
@pytest.mark.parametrize("case", list(BAD_TABLES))
def test_malformed_tables_raise_one_value_error_naming_the_column(aggregates, call, case):
    spoil, pattern = BAD_TABLES[case]
    table = spoil(aggregates)
    if case == "units without a count":  # n = 0 with a sum of squares left: impossible
        assert table.loc[3, "sum_sq"] > 0
    with pytest.raises(ValueError, match=pattern):
        call(table)


@pytest.mark.parametrize("threshold", [math.nan, math.inf, 0.0, 1.0, -0.1])
def test_static_dashboard_refuses_a_threshold_outside_the_unit_interval(aggregates, threshold):
    with pytest.raises(ValueError, match="threshold must be"):
        abt.static_dashboard(aggregates, threshold=threshold)


def test_daily_aggregates_refuses_missing_labels_huge_values_and_endless_days(users):
    with pytest.raises(ValueError, match=r"users\['segment'\] must not contain missing values"):
        abt.daily_aggregates(_set(users, "segment", 5, None), metrics=["conversion"],
                             segment="segment")
    with pytest.raises(ValueError, match=r"'revenue_per_user' must hold values of at most 1e\+100"):
        abt.daily_aggregates(_set(users, "revenue_per_user", 5, 1e200).astype(
            {"revenue_per_user": float}), metrics=["revenue_per_user"])
    with pytest.raises(ValueError, match=r"users\['day'\] must stay within 3,650 days"):
        abt.daily_aggregates(users.assign(day=users["day"] * 10**6), metrics=["conversion"])


def test_a_checked_table_is_unchanged_by_the_check(aggregates):
    from abteach.dashboard.aggregates import _check_aggregates

    text_days = aggregates.astype({"day": float, "n": float})  # whole floats are accepted
    pd.testing.assert_frame_equal(_check_aggregates(text_days), _check_aggregates(aggregates))
    pd.testing.assert_frame_equal(_check_aggregates(aggregates),
                                  aggregates[list(abt.dashboard.AGGREGATE_COLUMNS)])
