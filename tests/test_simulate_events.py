"""Tests of the event-stream simulator of abteach.simulate and of its logging bugs.

Three kinds of checks: the log has the promised structure; its true values (the EventTruth
formulas) match large simulations within binomial/normal bands of 4.5 standard errors; and
the analysis in SQL (abteach.events) recovers the truth when there is no bug (95% intervals
cover it at the nominal rate) but not when a bug is injected.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from abteach.events import EVENT_COLUMNS, EVENT_TYPES, EventStore
from abteach.inference import ztest_proportions
from abteach.simulate import (
    LAST_SESSION_START_SECONDS,
    DelayedEvents,
    EventTruth,
    SimulatedEvents,
    add_bots,
    delay_events,
    duplicate_events,
    lose_events,
    mislabel_local_time,
    simulate_events,
)

Z = 4.5  # tolerance of every statistical check, in standard errors
BASE = {"days": 7, "p_purchase": 0.3, "lift": 0.2, "revenue_mean": 40.0}


def simulate(n_users=3000, **changes) -> SimulatedEvents:
    return simulate_events(n_users, **{**BASE, "rng": 1, **changes})


@pytest.fixture(scope="module")
def small():
    return simulate()


@pytest.fixture(scope="module")
def large():
    """200,000 users: enough for tight checks of the truth formulas."""
    return simulate(200_000, revenue_lift=0.1, p_click=0.15, sessions_per_user=2.5,
                    page_views_per_session=2.0, rng=2)


def per_user(events: pd.DataFrame) -> pd.DataFrame:
    """Counts per unit, straight from the simulated frame."""
    kind = events["event_type"].astype(str)
    return (events.assign(view=kind.eq("page_view"), click=kind.eq("click"),
                          purchase=kind.eq("purchase"),
                          variant=events["variant"].astype(str))
            .groupby("unit_id")
            .agg(variant=("variant", "first"), views=("view", "sum"), clicks=("click", "sum"),
                 purchases=("purchase", "sum"), revenue=("revenue", "sum")))


def z_binomial(successes, trials, p) -> float:
    return float((successes - trials * p) / np.sqrt(trials * p * (1 - p)))


# -- structure of the log -------------------------------------------------------------------

def test_returns_events_and_truth(small):
    events, truth = small
    assert isinstance(small, SimulatedEvents) and isinstance(truth, EventTruth)
    assert list(events.columns) == list(EVENT_COLUMNS)
    assert str(events["timestamp"].dtype) == "datetime64[us, UTC]"
    assert events["revenue"].dtype == np.float64
    assert events["event_id"].is_unique
    assert events["timestamp"].is_monotonic_increasing
    assert set(events["event_type"].astype(str)) == set(EVENT_TYPES)
    assert (events["experiment"] == "checkout").all()


def test_every_user_is_exposed_once_at_their_first_event(small):
    events, truth = small
    exposures = events[events["event_type"] == "exposure"]
    assert exposures["unit_id"].is_unique and len(exposures) == 3000
    first = events.groupby("unit_id")["timestamp"].min()
    exposed = exposures.set_index("unit_id")["timestamp"]
    assert (first.loc[exposed.index] == exposed).all()
    assert (events.groupby("unit_id")["variant"].nunique() == 1).all()
    arms = exposures["variant"].value_counts()
    assert (arms["control"], arms["treatment"]) == (truth.n_control, truth.n_treatment)


def test_events_stay_inside_the_experiment(small):
    events, _ = small
    start = pd.Timestamp("2024-03-04", tz="UTC")
    assert events["timestamp"].min() >= start
    assert events["timestamp"].max() < start + pd.Timedelta(days=BASE["days"])
    exposures = events.loc[events["event_type"] == "exposure", "timestamp"]
    assert exposures.max() < start + pd.Timedelta(days=BASE["days"]) - pd.Timedelta(
        seconds=LAST_SESSION_START_SECONDS)


def test_only_users_who_clicked_buy_once_after_a_click(small):
    events, _ = small
    purchase = events["event_type"] == "purchase"
    assert events.loc[purchase, "revenue"].gt(0).all()
    assert events.loc[~purchase, "revenue"].isna().all()
    assert events.loc[purchase, "unit_id"].is_unique
    first_click = events[events["event_type"] == "click"].groupby("unit_id")["timestamp"].min()
    bought = events[purchase].set_index("unit_id")["timestamp"]
    assert bought.index.isin(first_click.index).all()
    assert (bought > first_click.loc[bought.index]).all()


def test_seeds_reproduce_and_ids_never_collide():
    a = simulate(500, rng=3).events
    pd.testing.assert_frame_equal(a, simulate(500, rng=3).events)
    b = simulate(500, rng=4).events
    assert not set(a["event_id"]) & set(b["event_id"])
    generator = np.random.default_rng(5)
    c, d = simulate(500, rng=generator).events, simulate(500, rng=generator).events
    assert not set(c["event_id"]) & set(d["event_id"])


def test_start_with_a_time_zone_is_converted_to_utc():
    events, _ = simulate(300, start="2024-03-04T00:00:00+01:00", days=1)
    assert events["timestamp"].min() >= pd.Timestamp("2024-03-03 23:00", tz="UTC")
    assert events["timestamp"].max() < pd.Timestamp("2024-03-04 23:00", tz="UTC")


def test_truth_is_consistent():
    _, truth = simulate(10, p_purchase=0.25, lift=-0.2, revenue_mean=8.0, revenue_lift=0.5)
    assert truth.triggered_conversion_treatment == pytest.approx(0.2)
    assert truth.triggered_revenue_per_user_treatment == pytest.approx(0.2 * 12.0)
    # dilution: every effect on all users is the triggered effect times P(trigger)
    diluted = truth.p_trigger * truth.triggered_conversion_effect
    assert truth.conversion_effect == pytest.approx(diluted)
    assert truth.revenue_effect == pytest.approx(truth.p_trigger * truth.triggered_revenue_effect)
    assert "dilution" in truth.explain() and "p_trigger=" in repr(truth)
    _, null = simulate(10, lift=0.0)
    assert null.conversion_effect == 0 and null.revenue_effect == 0


def test_p_trigger_formula_by_hand():
    """One visit of exactly one page view: P(trigger) is the click probability itself."""
    _, truth = simulate(10, sessions_per_user=1.0, page_views_per_session=1.0, p_click=0.37)
    assert truth.p_trigger == pytest.approx(0.37)
    assert truth.page_views_per_user == 1.0
    # one visit, 1 + Poisson(2) page views: P(no click) = E[(1 - c)^(1 + X)]
    _, truth = simulate(10, sessions_per_user=1.0, page_views_per_session=3.0, p_click=0.2)
    no_click = sum(stats.poisson.pmf(k, 2.0) * 0.8 ** (1 + k) for k in range(60))
    assert truth.p_trigger == pytest.approx(1 - no_click, rel=1e-12)


# -- the truth matches large simulations ---------------------------------------------------------

def test_assignment_share(large):
    _, truth = large
    assert abs(z_binomial(truth.n_treatment, 200_000, 0.5)) < Z


def test_trigger_page_views_and_click_through_rate_match_the_truth(large):
    events, truth = large
    users = per_user(events)
    assert abs(z_binomial((users["clicks"] > 0).sum(), len(users), truth.p_trigger)) < Z
    # page views per user: S = 1 + Poisson(ls) visits of 1 + Poisson(lp) views each
    ls, lp = 1.5, 1.0
    variance = (1 + ls) * lp + ls * (1 + lp) ** 2
    z_views = (users["views"].mean() - truth.page_views_per_user) / np.sqrt(variance / len(users))
    assert abs(z_views) < Z
    # given the page views, the clicks are binomial
    clicks, views = users["clicks"].sum(), users["views"].sum()
    assert abs(z_binomial(clicks, views, truth.click_through_rate)) < Z


@pytest.mark.parametrize("arm", ["control", "treatment"])
def test_conversion_and_revenue_per_arm_match_the_truth(large, arm):
    events, truth = large
    users = per_user(events)
    mine = users[users["variant"] == arm]
    n = len(mine)
    converted = (mine["purchases"] > 0).sum()
    assert abs(z_binomial(converted, n, getattr(truth, f"conversion_{arm}"))) < Z
    triggered = mine[mine["clicks"] > 0]
    assert abs(z_binomial((triggered["purchases"] > 0).sum(), len(triggered),
                          getattr(truth, f"triggered_conversion_{arm}"))) < Z
    revenue = mine["revenue"]
    z_revenue = (revenue.mean() - getattr(truth, f"revenue_per_user_{arm}")) / (
        revenue.std(ddof=1) / np.sqrt(n))
    assert abs(z_revenue) < Z


def test_order_values_are_lognormal_with_the_given_means(large):
    events, _ = large
    purchases = events[events["event_type"] == "purchase"]
    sigma = 1.0
    for arm, mean in [("control", 40.0), ("treatment", 44.0)]:
        values = purchases.loc[purchases["variant"] == arm, "revenue"].to_numpy()
        sd = mean * np.sqrt(np.exp(sigma**2) - 1)
        assert abs((values.mean() - mean) / (sd / np.sqrt(values.size))) < Z
        mu = np.log(mean) - sigma**2 / 2
        assert stats.kstest(np.log(values), stats.norm(mu, sigma).cdf).pvalue > 1e-4


def test_arrivals_are_uniform_over_the_experiment(large):
    events, _ = large
    exposures = events.loc[events["event_type"] == "exposure", "timestamp"]
    seconds = (exposures - pd.Timestamp("2024-03-04", tz="UTC")).dt.total_seconds()
    window = BASE["days"] * 86_400 - LAST_SESSION_START_SECONDS
    assert stats.kstest(seconds / window, "uniform").pvalue > 1e-4


# -- the analysis recovers the truth (coverage) -----------------------------------------------

COVERAGE = {**BASE, "revenue_lift": 0.1, "sessions_per_user": 1.0,
            "page_views_per_session": 1.0, "p_click": 0.5}


def replicate_coverage(replicates: int, users_each: int, rng: int) -> dict[str, float]:
    """Coverage of the 95% intervals of three effects over independent replicates.

    Users are independent, so one simulation of ``replicates * users_each`` users split
    into replicates by unit number is the same as ``replicates`` independent experiments;
    each replicate is analyzed by the SQL of abteach.events, all at once.
    """
    events, truth = simulate_events(replicates * users_each, **COVERAGE, rng=rng)
    replicate = events["unit_id"].str.slice(1).astype(int) % replicates
    events["experiment"] = pd.Categorical("run" + replicate.astype(str))
    with EventStore() as store:
        store.ingest(events)
        arms = store.metrics("arms")
        triggered = store.metrics("triggered")

    def arm(table, name):
        return table[table["variant"] == name].reset_index(drop=True)

    c, t = arm(arms, "control"), arm(arms, "treatment")
    conversion = ztest_proportions(c["converters"].to_numpy(), c["users"].to_numpy(),
                                   t["converters"].to_numpy(), t["users"].to_numpy(),
                                   pooled=False)
    difference = t["revenue_per_user"] - c["revenue_per_user"]
    se = np.sqrt(t["revenue_variance"] / t["users"] + c["revenue_variance"] / c["users"])
    tc, tt = arm(triggered, "control"), arm(triggered, "treatment")
    triggered_conversion = ztest_proportions(
        tc["triggered_converters"].to_numpy(), tc["triggered_users"].to_numpy(),
        tt["triggered_converters"].to_numpy(), tt["triggered_users"].to_numpy(), pooled=False)

    def covers(low, high, true):
        return float(np.mean((low <= true) & (true <= high)))

    z = stats.norm.isf(0.025)
    return {
        "conversion": covers(conversion.ci_low, conversion.ci_high, truth.conversion_effect),
        "revenue": covers(difference - z * se, difference + z * se, truth.revenue_effect),
        "triggered conversion": covers(triggered_conversion.ci_low, triggered_conversion.ci_high,
                                       truth.triggered_conversion_effect),
    }


def assert_nominal(coverage: dict[str, float], replicates: int) -> None:
    band = Z * np.sqrt(0.95 * 0.05 / replicates)
    for metric, rate in coverage.items():
        assert abs(rate - 0.95) < band, (metric, rate, band)


def test_intervals_cover_the_truth_at_the_nominal_rate():
    """400 replicated experiments of 400 users: coverage 0.95 +- 0.049."""
    assert_nominal(replicate_coverage(400, 400, rng=21), 400)


@pytest.mark.slow
def test_intervals_cover_the_truth_at_the_nominal_rate_long():
    """2,000 replicated experiments of 300 users: coverage 0.95 +- 0.022."""
    assert_nominal(replicate_coverage(2000, 300, rng=22), 2000)


# -- the bugs --------------------------------------------------------------------------------

def test_lose_events_drops_only_the_chosen_arm_and_types(small):
    events, _ = small
    kept = lose_events(events, fraction=0.3, variant="treatment", event_types=["page_view"], rng=1)
    scope = (events["variant"] == "treatment") & (events["event_type"] == "page_view")
    assert set(kept["event_id"]) <= set(events["event_id"])
    assert set(events.loc[~scope, "event_id"]) <= set(kept["event_id"])
    lost = len(events) - len(kept)
    assert abs(z_binomial(lost, int(scope.sum()), 0.3)) < Z
    assert len(lose_events(events, fraction=0.0, rng=1)) == len(events)
    everything = lose_events(events, fraction=1.0, variant=None, event_types="purchase", rng=1)
    assert not (everything["event_type"] == "purchase").any()


def test_duplicate_events_with_and_without_the_same_id(small):
    events, _ = small
    retried = duplicate_events(events, fraction=0.1, rng=2)
    copies = len(retried) - len(events)
    assert abs(z_binomial(copies, len(events), 0.1)) < Z
    assert retried["event_id"].duplicated().sum() == copies
    assert retried["timestamp"].is_monotonic_increasing
    assert retried.dtypes.equals(events.dtypes)
    doubled = duplicate_events(events, fraction=0.1, same_id=False, rng=2)
    assert doubled["event_id"].is_unique
    assert doubled["event_id"].str.endswith("-copy").sum() == copies


def test_add_bots(small):
    events, _ = small
    with_bots = add_bots(events, n_bots=5, events_per_bot=400, rng=3)
    bots = with_bots[with_bots["unit_id"].str.startswith("bot")]
    assert len(with_bots) == len(events) + 5 * 401
    assert bots.groupby("unit_id").size().eq(401).all()
    assert (bots["event_type"] == "exposure").sum() == 5
    assert not (bots["event_type"] == "purchase").any()
    assert with_bots["event_id"].is_unique and with_bots.dtypes.equals(events.dtypes)
    first = bots.groupby("unit_id")["timestamp"].min()
    exposed = bots[bots["event_type"] == "exposure"].set_index("unit_id")["timestamp"]
    assert (first == exposed.loc[first.index]).all()
    assert bots["timestamp"].between(events["timestamp"].min(), events["timestamp"].max()).all()


def test_mislabel_local_time_shifts_whole_units_by_the_offset(small):
    events, _ = small
    shifted = mislabel_local_time(events, fraction=0.25, utc_offset_hours=-5, rng=4,
                                  variant="treatment")
    merged = events.merge(shifted, on="event_id", suffixes=("", "_new"))
    assert len(merged) == len(events)
    moved = merged["timestamp_new"] != merged["timestamp"]
    assert ((merged.loc[moved, "timestamp"] - merged.loc[moved, "timestamp_new"])
            == pd.Timedelta(hours=5)).all()
    assert not (merged.loc[moved, "event_type"] == "exposure").any()
    assert (merged.loc[moved, "variant"] == "treatment").all()
    client = merged["event_type"] != "exposure"
    per_unit = merged[client & (merged["variant"] == "treatment")].groupby("unit_id")["timestamp"]
    moved_units = moved[client & (merged["variant"] == "treatment")].groupby(
        merged["unit_id"]).agg(["all", "any"])
    assert (moved_units["all"] == moved_units["any"]).all()  # all of a unit's events or none
    assert abs(z_binomial(moved_units["all"].sum(), per_unit.ngroups, 0.25)) < Z
    assert shifted["timestamp"].is_monotonic_increasing


def test_delay_events_splits_and_late_events_complete_the_log(small):
    events, _ = small
    on_time, late = delay_events(events, fraction=0.3, mean_delay_hours=12, variant="treatment",
                                 rng=5)
    assert sorted(pd.concat([on_time, late])["event_id"]) == sorted(events["event_id"])
    assert (late["variant"] == "treatment").all() and len(late) > 0
    assert len(delay_events(events, fraction=0.0, mean_delay_hours=1, rng=5).late) == 0
    early = delay_events(events, fraction=0.0, mean_delay_hours=1, rng=5, as_of="2024-03-06")
    assert isinstance(early, DelayedEvents)
    assert (early.on_time["timestamp"] <= pd.Timestamp("2024-03-06", tz="UTC")).all()
    assert (early.late["timestamp"] > pd.Timestamp("2024-03-06", tz="UTC")).all()
    with EventStore() as complete, EventStore() as incremental:
        complete.ingest(events)
        incremental.ingest(on_time)
        partial = incremental.metrics("arms")
        assert incremental.ingest(late).ingested == len(late)
        pd.testing.assert_frame_equal(incremental.metrics("users"), complete.metrics("users"))
    full = complete_arms(events)
    assert partial.loc[1, "revenue_per_user"] < full.loc[1, "revenue_per_user"]


def complete_arms(events):
    with EventStore() as store:
        store.ingest(events)
        return store.metrics("arms")


# -- a bug breaks the recovery of the truth ----------------------------------------------------

@pytest.fixture(scope="module")
def clean():
    return simulate(10_000, rng=30)


def conversion_z(events, truth) -> float:
    """(estimated - true conversion effect) / SE, from the SQL analysis."""
    arms = complete_arms(events).set_index("variant")
    result = ztest_proportions(arms.loc["control", "converters"], arms.loc["control", "users"],
                               arms.loc["treatment", "converters"], arms.loc["treatment", "users"],
                               pooled=False)
    se = (result.ci_high - result.ci_low) / (2 * stats.norm.isf(0.025))
    return (result.effect - truth.conversion_effect) / se


def test_without_bugs_the_estimate_is_near_the_truth(clean):
    assert abs(conversion_z(*clean)) < Z


def test_losing_purchases_in_treatment_biases_the_effect(clean):
    events, truth = clean
    lossy = lose_events(events, fraction=0.3, variant="treatment", event_types="purchase", rng=1)
    assert conversion_z(lossy, truth) < -Z


def test_local_time_stamps_in_one_arm_bias_the_effect(clean):
    events, truth = clean
    buggy = mislabel_local_time(events, fraction=0.5, utc_offset_hours=-5, variant="treatment",
                                rng=2)
    assert conversion_z(buggy, truth) < -Z


def test_losing_exposures_shows_as_a_sample_ratio_mismatch(clean):
    events, truth = clean
    lossy = lose_events(events, fraction=0.1, variant="treatment", event_types="exposure", rng=3)
    users = complete_arms(lossy).set_index("variant")["users"]
    assert users.sum() < truth.n_control + truth.n_treatment
    assert stats.binomtest(int(users["treatment"]), int(users.sum()), 0.5).pvalue < 1e-6


def test_bots_distort_the_ratio_metric(clean):
    events, truth = clean
    arms = complete_arms(add_bots(events, n_bots=10, events_per_bot=5_000, rng=4))
    # bots click half their events: the click-through rate of the arms moves far from 0.2
    assert (arms["click_through_rate"] - truth.click_through_rate).abs().max() > 0.05


# -- bad input ----------------------------------------------------------------------------------

VALID = {"n_users": 50, **BASE, "rng": 1}


@pytest.mark.parametrize(
    ("changes", "error", "fragment"),
    [
        ({"n_users": 0}, ValueError, "n_users must be >= 1, got 0"),
        ({"n_users": 10.0}, TypeError, "n_users must be an integer"),
        ({"days": 0}, ValueError, "days must be >= 1"),
        ({"days": 1.5}, TypeError, "days must be an integer"),
        ({"days": 3651}, ValueError, "days must be <= 3650"),
        ({"n_users": 10**8}, ValueError, "n_users, sessions_per_user and page_views_per_session"),
        ({"sessions_per_user": 1e12}, ValueError, "more than MAX_EVENTS"),
        ({"p_purchase": 1.0}, ValueError, "p_purchase must be in (0, 1), got 1.0"),
        ({"p_purchase": 0}, ValueError, "p_purchase must be in (0, 1)"),
        ({"p_purchase": [0.1, 0.2]}, ValueError, "p_purchase must be a single number"),
        ({"lift": -1.0}, ValueError, "lift must be > -1"),
        ({"lift": 3.0}, ValueError, "lift must keep the treatment purchase probability"),
        ({"lift": "big"}, TypeError, "lift must be a number"),
        ({"revenue_mean": 0.0}, ValueError, "revenue_mean must be > 0"),
        ({"revenue_lift": -2}, ValueError, "revenue_lift must be > -1"),
        ({"revenue_sigma": -0.1}, ValueError, "revenue_sigma must be >= 0"),
        ({"revenue_sigma": 6}, ValueError, "revenue_sigma must be <= 5"),
        ({"revenue_mean": 1e300}, ValueError, "revenue_mean must be <= 1e+09"),
        ({"revenue_lift": 1e300}, ValueError, "revenue_lift must keep revenue_mean"),
        ({"sessions_per_user": 0.5}, ValueError, "sessions_per_user must be >= 1"),
        ({"page_views_per_session": np.nan}, ValueError, "page_views_per_session must be finite"),
        ({"p_click": 1.5}, ValueError, "p_click must be in (0, 1)"),
        ({"treatment_share": 0.0}, ValueError, "treatment_share must be in (0, 1)"),
        ({"experiment": ""}, ValueError, "experiment must not be empty"),
        ({"experiment": 3}, TypeError, "experiment must be a str"),
        ({"start": "someday"}, ValueError, "start must be a date or time"),
        ({"start": 20240304}, TypeError, "start must be a date"),
        ({"rng": None}, TypeError, "rng must be a numpy.random.Generator"),
    ],
)
def test_bad_input_names_the_argument(changes, error, fragment):
    with pytest.raises(error) as info:
        simulate_events(**{**VALID, **changes})
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("call", "error", "fragment"),
    [
        (lambda e: lose_events(e, fraction=0.1, variant="test", rng=1), ValueError,
         "variant must be one of 'control', 'treatment', got 'test'"),
        (lambda e: lose_events(e, fraction=0.1, event_types=["click", "tap"], rng=1), ValueError,
         "event_types must be one of"),
        (lambda e: lose_events(e, fraction=0.1, event_types=[], rng=1), ValueError,
         "event_types must not be empty"),
        (lambda e: lose_events(e, fraction=0.1, event_types=5, rng=1), TypeError,
         "event_types must be event type names"),
        (lambda e: lose_events(e, fraction=1.5, rng=1), ValueError, "fraction must be in [0, 1]"),
        (lambda e: lose_events(e.drop(columns="variant"), fraction=0.1, rng=1), ValueError,
         "events must have the columns"),
        (lambda e: lose_events(e.iloc[:0], fraction=0.1, rng=1), ValueError,
         "events must not be empty"),
        (lambda e: lose_events(e.values, fraction=0.1, rng=1), TypeError,
         "events must be a pandas DataFrame"),
        (lambda e: lose_events(e.assign(timestamp=e["timestamp"].dt.tz_localize(None)),
                               fraction=0.1, rng=1), ValueError, "time-zone-aware"),
        (lambda e: duplicate_events(e, fraction=0.1, same_id="yes", rng=1), TypeError,
         "same_id must be True or False"),
        (lambda e: add_bots(e, n_bots=0, events_per_bot=10, rng=1), ValueError,
         "n_bots must be >= 1"),
        (lambda e: add_bots(e, n_bots=1, events_per_bot=-1, rng=1), ValueError,
         "events_per_bot must be >= 1"),
        (lambda e: add_bots(e, n_bots=1, events_per_bot=5, experiment="other", rng=1),
         ValueError, "experiment must be one of"),
        (lambda e: mislabel_local_time(e, fraction=0.1, utc_offset_hours=15, rng=1), ValueError,
         "utc_offset_hours must be in [-14, 14]"),
        (lambda e: mislabel_local_time(e, fraction=0.1, utc_offset_hours=-5,
                                       event_types="scroll", rng=1), ValueError,
         "event_types must be one of"),
        (lambda e: delay_events(e, fraction=0.1, mean_delay_hours=0, rng=1), ValueError,
         "mean_delay_hours must be > 0"),
        (lambda e: delay_events(e, fraction=0.1, mean_delay_hours=1e300, rng=1), ValueError,
         "mean_delay_hours must be <= 87600"),
        (lambda e: add_bots(e, n_bots=10**5, events_per_bot=10**4, rng=1), ValueError,
         "more than MAX_BOT_EVENTS"),
        (lambda e: add_bots(e, n_bots=1, events_per_bot=38_015_908, rng=1), ValueError,
         "more than MAX_BOT_EVENTS"),
        (lambda e: delay_events(e, fraction=0.1, mean_delay_hours=1, as_of="soon", rng=1),
         ValueError, "as_of must be a date or time"),
    ],
)
def test_bad_input_to_the_bugs_names_the_argument(small, call, error, fragment):
    with pytest.raises(error) as info:
        call(small.events)
    assert fragment in str(info.value)


def test_bots_need_an_experiment_when_there_are_several(small):
    events, _ = small
    other = events.assign(experiment=pd.Categorical(["other"] * len(events)))
    both = pd.concat([events, other], ignore_index=True)
    with pytest.raises(ValueError, match="choose one with experiment="):
        add_bots(both, n_bots=1, events_per_bot=5, rng=1)
    assert add_bots(both, n_bots=1, events_per_bot=5, experiment="other", rng=1)[
        "unit_id"].eq("bot0").sum() == 6


def test_arguments_are_keyword_only():
    with pytest.raises(TypeError):
        simulate_events(50, 7, 0.3, 0.2, 40.0, rng=1)


junk = st.one_of(st.none(), st.booleans(), st.text(max_size=3), st.floats(allow_nan=True),
                 st.integers(-5, 2000), st.integers(-10**12, 10**12),
                 st.lists(st.floats(0, 1), max_size=2))


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(["n_users", "days", "p_purchase", "lift", "revenue_mean",
                             "revenue_lift", "revenue_sigma", "sessions_per_user",
                             "page_views_per_session", "p_click", "treatment_share",
                             "experiment", "start", "rng"]),
       value=junk)
def test_fuzz_bad_input_only_raises_named_errors(name, value):
    try:
        events, truth = simulate_events(**{**VALID, name: value})
    except (ValueError, TypeError) as exc:
        assert name in str(exc), str(exc)
    else:
        numbers = [getattr(truth, field) for field in truth.__dataclass_fields__]
        assert np.all(np.isfinite(numbers))
        assert events["timestamp"].notna().all() and len(events) >= truth.n_control


@settings(max_examples=40, deadline=None)
@given(fraction=st.one_of(st.floats(-1, 2), st.none(), st.text(max_size=2)),
       variant=st.one_of(st.none(), st.sampled_from(["control", "treatment", "x", ""])),
       offset=st.one_of(st.floats(-20, 20), st.integers(-20, 20), st.floats(allow_nan=True)))
def test_fuzz_bugs_only_raise_named_errors(small, fraction, variant, offset):
    events = small.events.iloc[:300]
    calls = {
        "lose_events": lambda: lose_events(events, fraction=fraction, variant=variant, rng=1),
        "mislabel_local_time": lambda: mislabel_local_time(
            events, fraction=fraction, utc_offset_hours=offset, variant=variant, rng=1),
        "delay_events": lambda: delay_events(events, fraction=fraction, mean_delay_hours=offset,
                                             variant=variant, rng=1),
    }
    for call in calls.values():
        try:
            out = call()
        except (ValueError, TypeError) as exc:
            assert any(name in str(exc) for name in
                       ["fraction", "variant", "utc_offset_hours", "mean_delay_hours"]), str(exc)
        else:
            frames = out if isinstance(out, tuple) else (out,)
            assert sum(len(f) for f in frames) <= len(events)
            assert all(f["timestamp"].notna().all() for f in frames)


# -- hostile tables and times -------------------------------------------------------------------


@pytest.mark.parametrize("call", [
    lambda e: add_bots(e, n_bots=2, events_per_bot=3, rng=1),
    lambda e: duplicate_events(e, fraction=0.5, rng=1),
    lambda e: lose_events(e, fraction=0.5, rng=1),
    lambda e: mislabel_local_time(e, fraction=0.5, utc_offset_hours=-5, rng=1),
    lambda e: delay_events(e, fraction=0.5, mean_delay_hours=5, rng=1),
], ids=["add_bots", "duplicate_events", "lose_events", "mislabel_local_time", "delay_events"])
def test_log_breakers_refuse_duplicated_columns_and_keep_extra_ones(call):
    events = simulate(200).events
    with pytest.raises(ValueError, match="events has the column 'unit_id' more than once"):
        call(pd.concat([events, events[["unit_id"]]], axis=1))
    out = call(events.assign(platform="ios"))
    frames = out if isinstance(out, pd.DataFrame) else pd.concat(list(out))
    original = frames["event_id"].isin(events["event_id"])
    assert (frames.loc[original, "platform"] == "ios").all()


def test_bots_added_to_a_log_with_an_extra_column_have_it_missing():
    events = simulate(200).events.assign(platform="ios")
    out = add_bots(events, n_bots=3, events_per_bot=4, rng=2)
    bots = out["unit_id"].astype(str).str.startswith("bot")
    assert bots.sum() == 3 * 5
    assert out.loc[bots, "platform"].isna().all() and (out.loc[~bots, "platform"] == "ios").all()
    assert out["variant"].dtype == events["variant"].dtype


@pytest.mark.parametrize("start", ["0001-01-01", "1969-12-31", "2099-12-31", "2260-01-01"])
def test_simulated_experiments_stay_within_the_plausible_times_of_the_store(start):
    with pytest.raises(ValueError, match="start must leave the 7 days of the experiment"):
        simulate(10, start=start)
