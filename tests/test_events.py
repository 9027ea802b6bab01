"""Tests of abteach.events: the event schema, EventStore ingestion and the metric SQL.

The metric queries are checked against an independent pandas implementation of the same
definitions (written here from the docstrings, not from the SQL), on simulated logs with
the pitfalls of the chapter mixed in and on hand-made edge cases.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import abteach
from abteach.events import (
    EVENT_COLUMNS,
    EVENT_SCHEMA,
    EVENT_TYPES,
    METRIC_SQL,
    QUARANTINE_REASONS,
    SESSION_GAP_MINUTES,
    TRIGGER_EVENT,
    VARIANTS,
    EventStore,
    IngestResult,
)
from abteach.simulate import (
    add_bots,
    duplicate_events,
    lose_events,
    mislabel_local_time,
    simulate_events,
)

KEYS = ["experiment", "variant", "unit_id"]
START = pd.Timestamp("2024-03-04", tz="UTC")


def event(event_id, unit_id, event_type, minutes, *, revenue=None, variant="control",
          experiment="edge"):
    """One event row, ``minutes`` after START."""
    return {"event_id": event_id, "unit_id": unit_id, "experiment": experiment,
            "variant": variant, "event_type": event_type, "revenue": revenue,
            "timestamp": START + pd.Timedelta(minutes=minutes)}


def frame(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(EVENT_COLUMNS))


# -- an independent pandas implementation of the metric definitions ----------------------

def plain(events: pd.DataFrame) -> pd.DataFrame:
    """Events as plain pandas: text columns, naive UTC timestamps, unique event ids."""
    out = events[list(EVENT_COLUMNS)].copy()
    for column in ["event_id", "unit_id", "experiment", "variant", "event_type"]:
        out[column] = out[column].astype(str)
    out["timestamp"] = out["timestamp"].dt.tz_convert("UTC").dt.tz_localize(None)
    out["revenue"] = out["revenue"].astype(float)
    return out


def pandas_exposed(events: pd.DataFrame) -> pd.DataFrame:
    """Events of exposed units from their first exposure on (same unit = same key)."""
    first = (events[events["event_type"] == "exposure"].groupby(KEYS)["timestamp"].min()
             .rename("exposed_at").reset_index())
    merged = events.merge(first, on=KEYS)
    return merged[merged["timestamp"] >= merged["exposed_at"]]


def pandas_users(events: pd.DataFrame) -> pd.DataFrame:
    exposed = pandas_exposed(events).sort_values(KEYS + ["timestamp"], kind="stable")
    previous = exposed.groupby(KEYS)["timestamp"].shift()
    gap = pd.Timedelta(minutes=SESSION_GAP_MINUTES)
    kind = exposed["event_type"]
    exposed = exposed.assign(
        new_session=(previous.isna() | (exposed["timestamp"] - previous > gap)).astype(int),
        is_view=(kind == "page_view").astype(int),
        is_click=(kind == "click").astype(int),
        is_purchase=(kind == "purchase").astype(int),
        purchase_time=exposed["timestamp"].where(kind == "purchase"),
        is_trigger=(kind == TRIGGER_EVENT).astype(int),
    )
    users = exposed.groupby(KEYS).agg(
        exposed_at=("exposed_at", "min"),
        sessions=("new_session", "sum"),
        page_views=("is_view", "sum"),
        clicks=("is_click", "sum"),
        purchases=("is_purchase", "sum"),
        revenue=("revenue", "sum"),
        converted=("is_purchase", "max"),
        converted_at=("purchase_time", "min"),
        triggered=("is_trigger", "max"),
    )
    return users.reset_index().sort_values(KEYS, ignore_index=True)


def pandas_arms(users: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (experiment, variant), arm in users.groupby(["experiment", "variant"]):
        rows.append({
            "experiment": experiment, "variant": variant, "users": len(arm),
            "converters": int(arm["converted"].sum()),
            "conversion_rate": arm["converted"].mean(),
            "revenue_per_user": arm["revenue"].mean(),
            "revenue_variance": arm["revenue"].var(ddof=1),
            "sessions_per_user": arm["sessions"].mean(),
            "page_views_per_user": arm["page_views"].mean(),
            "page_views_variance": arm["page_views"].var(ddof=1),
            "clicks_per_user": arm["clicks"].mean(),
            "clicks_variance": arm["clicks"].var(ddof=1),
            "clicks_page_views_covariance": np.cov(arm["clicks"], arm["page_views"])[0, 1]
            if len(arm) > 1 else np.nan,
            "click_through_rate": arm["clicks"].sum() / arm["page_views"].sum()
            if arm["page_views"].sum() else np.nan,
        })
    return pd.DataFrame(rows)


def pandas_daily(events: pd.DataFrame, users: pd.DataFrame) -> pd.DataFrame:
    """Cumulative users, converters and revenue per arm at the end of each UTC day."""
    exposed = pandas_exposed(events)
    purchases = exposed[exposed["event_type"] == "purchase"]
    rows = []
    for (experiment, variant), arm in users.groupby(["experiment", "variant"]):
        bought = purchases[(purchases["experiment"] == experiment)
                           & (purchases["variant"] == variant)]
        days = sorted(set(arm["exposed_at"].dt.normalize())
                      | set(arm["converted_at"].dropna().dt.normalize())
                      | set(bought["timestamp"].dt.normalize()))
        for day in days:
            end = day + pd.Timedelta(days=1)
            n = int((arm["exposed_at"] < end).sum())
            converters = int((arm["converted_at"] < end).sum())
            revenue = bought.loc[bought["timestamp"] < end, "revenue"].sum()
            rows.append({
                "experiment": experiment, "variant": variant, "event_date": day,
                "new_users": int(((arm["exposed_at"] >= day) & (arm["exposed_at"] < end)).sum()),
                "users": n, "converters": converters, "conversion_rate": converters / n,
                "revenue": revenue, "revenue_per_user": revenue / n,
            })
    return pd.DataFrame(rows)


def pandas_triggered(users: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (experiment, variant), arm in users.groupby(["experiment", "variant"]):
        hit = arm[arm["triggered"] == 1]
        rows.append({
            "experiment": experiment, "variant": variant, "users": len(arm),
            "triggered_users": len(hit), "trigger_rate": len(hit) / len(arm),
            "triggered_converters": int(hit["converted"].sum()),
            "triggered_conversion_rate": hit["converted"].mean(),
            "triggered_revenue_per_user": hit["revenue"].mean(),
            "triggered_revenue_variance": hit["revenue"].var(ddof=1),
        })
    return pd.DataFrame(rows)


def pandas_dilution(users: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for experiment, runs in users.groupby("experiment"):
        treated = runs["variant"] == "treatment"
        hit = runs["triggered"] == 1

        def effect(metric, among):
            return (runs.loc[among & treated, metric].mean()
                    - runs.loc[among & ~treated, metric].mean())

        everyone = pd.Series(True, index=runs.index)
        rate = hit.mean()
        rows.append({
            "experiment": experiment, "trigger_rate": rate,
            "triggered_conversion_effect": effect("converted", hit),
            "diluted_conversion_effect": effect("converted", hit) * rate,
            "conversion_effect": effect("converted", everyone),
            "triggered_revenue_effect": effect("revenue", hit),
            "diluted_revenue_effect": effect("revenue", hit) * rate,
            "revenue_effect": effect("revenue", everyone),
        })
    return pd.DataFrame(rows)


def assert_same(sql: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same columns, same rows; integers exactly, floats to 1e-9 relative."""
    assert list(sql.columns) == list(expected.columns)
    assert len(sql) == len(expected)
    for column in expected.columns:
        got, want = sql[column], expected[column]
        if pd.api.types.is_datetime64_any_dtype(want):
            np.testing.assert_array_equal(pd.to_datetime(got).to_numpy("datetime64[us]"),
                                          want.to_numpy("datetime64[us]"), err_msg=column)
        elif pd.api.types.is_numeric_dtype(want):
            np.testing.assert_allclose(got.to_numpy(float), want.to_numpy(float),
                                       rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=column)
        else:
            assert got.astype(str).tolist() == want.astype(str).tolist(), column


# -- data with every pitfall -------------------------------------------------------------

EDGE_ROWS = [
    # u1: events before its exposure (excluded), a gap of exactly 30 minutes (same session),
    # a gap just over 30 minutes (new session), a purchase on the next day
    event("a1", "u1", "page_view", -5),
    event("a2", "u1", "exposure", 0),
    event("a3", "u1", "page_view", 0),
    event("a4", "u1", "click", 30),
    event("a5", "u1", "page_view", 60.001),
    event("a6", "u1", "purchase", 24 * 60 + 1, revenue=20.0),
    # u2: two exposures (the first counts), two purchases
    event("b1", "u2", "exposure", 10, variant="treatment"),
    event("b2", "u2", "exposure", 12, variant="treatment"),
    event("b3", "u2", "click", 13, variant="treatment"),
    event("b4", "u2", "purchase", 14, revenue=5.0, variant="treatment"),
    event("b5", "u2", "purchase", 15, revenue=0.0, variant="treatment"),
    # u3: never exposed (not in the analysis)
    event("c1", "u3", "page_view", 3),
    event("c2", "u3", "purchase", 4, revenue=9.0),
    # u4: exposed in both arms (one unit per arm in the analysis)
    event("d1", "u4", "exposure", 20),
    event("d2", "u4", "exposure", 21, variant="treatment"),
    event("d3", "u4", "page_view", 22, variant="treatment"),
    # u5: exposed only, no other event
    event("e1", "u5", "exposure", 2 * 24 * 60),
]


@pytest.fixture(scope="module")
def messy_events() -> pd.DataFrame:
    """Two simulated experiments with bugs mixed in, plus the hand-made edge cases."""
    first, _ = simulate_events(600, days=4, p_purchase=0.3, lift=0.2, revenue_mean=40.0,
                               rng=11)
    second, _ = simulate_events(400, days=3, p_purchase=0.2, lift=-0.1, revenue_mean=10.0,
                                experiment="search", sessions_per_user=3.0, rng=12)
    first = mislabel_local_time(first, fraction=0.2, utc_offset_hours=-5, rng=1)
    first = lose_events(first, fraction=0.2, variant="treatment", event_types="exposure", rng=2)
    first = duplicate_events(first, fraction=0.05, same_id=False, rng=3)
    first = add_bots(first, n_bots=3, events_per_bot=200, rng=4)
    parts = [plain(first), plain(second), plain(frame(EDGE_ROWS))]
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def store(messy_events):
    with EventStore() as opened:
        result = opened.ingest(messy_events)
        assert result.quarantined == 0 and result.duplicates == 0
        yield opened


@pytest.fixture(scope="module")
def expected_users(messy_events) -> pd.DataFrame:
    return pandas_users(messy_events)


# -- metrics: SQL against pandas ----------------------------------------------------------

def test_user_metrics_match_pandas(store, expected_users):
    assert_same(store.metrics("users"), expected_users)


def test_arm_summary_matches_pandas(store, expected_users):
    assert_same(store.metrics("arms"), pandas_arms(expected_users))


def test_daily_cumulative_metrics_match_pandas(store, messy_events, expected_users):
    assert_same(store.metrics("daily"), pandas_daily(messy_events, expected_users))


def test_triggered_summary_matches_pandas(store, expected_users):
    assert_same(store.metrics("triggered"), pandas_triggered(expected_users))


def test_dilution_matches_pandas(store, expected_users):
    assert_same(store.metrics("dilution"), pandas_dilution(expected_users))


def test_exposed_events_are_the_events_from_first_exposure_on(store, messy_events):
    expected = pandas_exposed(messy_events).sort_values(KEYS + ["timestamp"], kind="stable")
    got = store.metrics("exposed_events")
    assert len(got) == len(expected)
    np.testing.assert_array_equal(got["timestamp"].to_numpy("datetime64[us]"),
                                  expected["timestamp"].to_numpy("datetime64[us]"))
    assert (got["timestamp"] >= got["exposed_at"]).all()


def test_edge_cases_by_hand(store):
    """The hand-made units, checked against values worked out by hand."""
    users = store.metrics("users", experiment="edge").set_index(["unit_id", "variant"])
    u1 = users.loc[("u1", "control")]
    # the page view 5 minutes before exposure does not count; 0 -> 30 min is one session,
    # 30 -> 60.001 min starts a second one, the next-day purchase a third
    assert (u1.sessions, u1.page_views, u1.clicks, u1.purchases) == (3, 2, 1, 1)
    assert u1.revenue == 20.0 and u1.converted == 1 and u1.triggered == 1
    u2 = users.loc[("u2", "treatment")]
    assert u2.exposed_at == pd.Timestamp("2024-03-04 00:10")
    assert (u2.purchases, u2.revenue, u2.converted) == (2, 5.0, 1)
    assert "u3" not in users.index.get_level_values("unit_id")
    assert ("u4", "control") in users.index and ("u4", "treatment") in users.index
    u5 = users.loc[("u5", "control")]
    assert (u5.sessions, u5.page_views, u5.revenue, u5.converted, u5.triggered) == (1, 0, 0, 0, 0)
    assert pd.isna(u5.converted_at)
    daily = store.metrics("daily", experiment="edge")
    control = daily[daily["variant"] == "control"].set_index("event_date")
    # day 1: u1 and u4 exposed, nobody converted; day 2: u1 buys; day 3: u5 arrives
    assert control["users"].tolist() == [2, 2, 3]
    assert control["converters"].tolist() == [0, 1, 1]
    assert control["revenue"].tolist() == [0.0, 20.0, 20.0]


def test_final_day_of_the_daily_metrics_equals_the_arm_summary(store):
    daily = store.metrics("daily")
    last = daily.groupby(["experiment", "variant"]).tail(1).reset_index(drop=True)
    arms = store.metrics("arms")
    np.testing.assert_array_equal(last["users"], arms["users"])
    np.testing.assert_array_equal(last["converters"], arms["converters"])
    np.testing.assert_allclose(last["revenue_per_user"], arms["revenue_per_user"], rtol=1e-12)


def test_filtering_by_experiment_keeps_only_its_rows(store):
    everything = store.metrics("arms")
    search = store.metrics("arms", experiment="search")
    assert set(search["experiment"]) == {"search"} and len(search) == 2
    assert_same(search, everything[everything["experiment"] == "search"].reset_index(drop=True))


# -- the SQL is portable ------------------------------------------------------------------

PORTABLE_FUNCTIONS = {"COUNT", "SUM", "AVG", "MIN", "MAX", "VAR_SAMP", "COVAR_SAMP", "LAG",
                      "CAST", "COALESCE", "NULLIF"}
NOT_FUNCTIONS = {"AS", "OVER", "IN", "EXISTS"}


@pytest.mark.parametrize("name", sorted(METRIC_SQL))
def test_metric_sql_uses_only_portable_functions(name):
    """Every function call is in a list that Spark SQL and BigQuery share with DuckDB."""
    sql = METRIC_SQL[name]
    without_comments = re.sub(r"--[^\n]*", "", sql)
    called = {word.upper() for word in re.findall(r"\b([A-Za-z_]+)\s*\(", without_comments)}
    ctes = {word.upper() for word in re.findall(r"\b(\w+) AS \(", without_comments)}
    assert called - ctes - NOT_FUNCTIONS <= PORTABLE_FUNCTIONS, called
    for construct in ["::", "->>", "QUALIFY", "EPOCH", "LIST", "TRY_CAST", "DOUBLE", "EXCLUDE",
                      "GROUP BY ALL", "ILIKE", '"']:
        assert construct not in without_comments.upper(), construct


def test_sql_strings_are_complete_queries_on_the_events_table():
    for sql in METRIC_SQL.values():
        assert sql.startswith("WITH\n") and "FROM events" in sql and "quarantine" not in sql


# -- ingestion ------------------------------------------------------------------------------

def test_ingest_is_idempotent_and_counts_add_up():
    events, _ = simulate_events(300, days=3, p_purchase=0.3, lift=0.1, revenue_mean=20.0,
                                rng=5)
    with EventStore() as store:
        first = store.ingest(events)
        assert (first.rows, first.ingested, first.duplicates, first.quarantined) == (
            len(events), len(events), 0, 0)
        again = store.ingest(events)
        assert (again.ingested, again.duplicates, again.quarantined) == (0, len(events), 0)
        half = store.ingest(events.iloc[: len(events) // 2])
        assert half.ingested == 0
        assert store.query("SELECT COUNT(*) AS n FROM events")["n"].item() == len(events)


def test_duplicates_within_a_batch_keep_the_earliest_copy():
    rows = [event("x", "u1", "exposure", 5), event("x", "u1", "exposure", 1),
            event("x", "u1", "exposure", 3), event("y", "u1", "page_view", 6)]
    with EventStore() as store:
        result = store.ingest(frame(rows))
        assert (result.ingested, result.duplicates) == (2, 2)
        kept = store.query("SELECT timestamp FROM events WHERE event_id = 'x'")
        assert kept["timestamp"].item() == pd.Timestamp("2024-03-04 00:01")


def test_retried_copies_are_removed_but_double_fired_ones_are_not():
    events, _ = simulate_events(300, days=3, p_purchase=0.3, lift=0.1, revenue_mean=20.0,
                                rng=6)
    retried = duplicate_events(events, fraction=0.1, rng=1)
    doubled = duplicate_events(events, fraction=0.1, same_id=False, rng=1)
    with EventStore() as store:
        result = store.ingest(retried)
        assert result.ingested == len(events)
        assert result.duplicates == len(retried) - len(events) > 0
    with EventStore() as store:
        assert store.ingest(doubled).ingested == len(doubled)


def one_bad_row_per_reason() -> tuple[pd.DataFrame, list[str]]:
    good = event("ok", "u1", "purchase", 1, revenue=3.0)
    broken = {
        "missing event_id": {"event_id": None},
        "blank event_id": {"event_id": " \t"},
        "JSON object or array as event_id": {"event_id": '{"id": 7}'},
        "missing unit_id": {"unit_id": ""},
        "blank unit_id": {"unit_id": "\u00a0\n"},
        "JSON object or array as unit_id": {"unit_id": ' ["u1", "u2"]'},
        "missing experiment": {"experiment": None},
        "blank experiment": {"experiment": "   "},
        "JSON object or array as experiment": {"experiment": "[]"},
        "missing variant": {"variant": None},
        "unknown variant": {"variant": "Treatment"},
        "missing event_type": {"event_type": None},
        "unknown event_type": {"event_type": "purchased"},
        "missing timestamp": {"timestamp": None},
        "unparsable timestamp": {"timestamp": "next tuesday"},
        "timestamp outside 1970-2099": {"timestamp": "0001-01-01 10:00:00"},
        "unparsable revenue": {"revenue": "12,50"},
        "purchase without revenue": {"revenue": None},
        "revenue on a non-purchase event": {"event_type": "click"},
        "non-finite revenue": {"revenue": "inf"},
        "negative revenue": {"revenue": -1.0},
    }
    rows = [{**good, "event_id": f"bad{i}", **change} for i, change in enumerate(broken.values())]
    rows.append(good)
    table = pd.DataFrame(rows, columns=list(EVENT_COLUMNS)).astype(object)
    return table, list(broken)


def test_each_malformed_event_is_quarantined_with_its_reason():
    data, reasons = one_bad_row_per_reason()
    assert set(reasons) == set(QUARANTINE_REASONS) - {"invalid JSON", "not a JSON object"}
    with EventStore() as store:
        result = store.ingest(data)
        assert (result.rows, result.ingested, result.quarantined, result.duplicates) == (
            len(data), 1, len(reasons), 0)
        stored = store.query("SELECT * FROM quarantine")
        assert sorted(stored["reason"]) == sorted(reasons)
        by_reason = stored.set_index("reason")
        assert by_reason.loc["unparsable timestamp", "timestamp_text"] == "next tuesday"
        assert by_reason.loc["unknown variant", "variant_text"] == "Treatment"
        again = store.ingest(data)  # the same malformed rows are not quarantined twice
        assert (again.ingested, again.quarantined, again.duplicates) == (0, 0, len(data))
        assert len(store.query("SELECT * FROM quarantine")) == len(reasons)


def test_the_first_failing_check_is_the_reason():
    row = event("z", None, "teleport", 1, revenue=-5.0, variant="blue")
    with EventStore() as store:
        store.ingest(frame([row]).astype(object))
        assert store.query("SELECT reason FROM quarantine")["reason"].item() == "missing unit_id"


def test_missing_columns_quarantine_instead_of_crashing():
    rows = frame([event("a", "u1", "exposure", 1), event("b", "u1", "purchase", 2, revenue=1.0)])
    with EventStore() as store:
        result = store.ingest(rows.drop(columns=["revenue", "experiment"]))
        assert (result.ingested, result.quarantined) == (0, 2)
        assert set(store.query("SELECT reason FROM quarantine")["reason"]) == {"missing experiment"}
        result = store.ingest(rows.drop(columns=["revenue"]).assign(extra=1))
        assert (result.ingested, result.quarantined) == (1, 1)
        reasons = set(store.query("SELECT reason FROM quarantine")["reason"])
        assert "purchase without revenue" in reasons


def test_input_without_any_schema_column_is_quarantined(tmp_path):
    unrelated = pd.DataFrame({"user": ["a", "b"], "clicks": [1, 2]})
    unrelated.to_parquet(tmp_path / "unrelated.parquet")
    for data in [unrelated, tmp_path / "unrelated.parquet"]:
        with EventStore() as store:
            result = store.ingest(data)
            assert (result.rows, result.quarantined, result.duplicates) == (2, 1, 1)
            assert store.query("SELECT reason FROM quarantine")["reason"].tolist() == [
                "missing event_id"]


def test_odd_column_types_become_text():
    rows = frame([event("a", "u1", "exposure", 0), event("b", "u1", "page_view", 1)])
    rows["event_id"] = pd.Series(["a", 2], dtype=object)  # mixed types: Arrow refuses them
    rows["unit_id"] = pd.Categorical([1, 1])  # non-text categories
    rows["extra"] = [complex(1, 2), None]  # ignored
    with EventStore() as store:
        assert store.ingest(rows).ingested == 2
        stored = store.query("SELECT event_id, unit_id FROM events ORDER BY event_id")
        assert stored.to_numpy().tolist() == [["2", "1"], ["a", "1"]]
    with EventStore() as store, pytest.raises(ValueError, match="duplicated columns"):
        store.ingest(pd.concat([rows, rows[["unit_id"]]], axis=1))


def test_timestamps_with_offsets_are_converted_to_utc():
    rows = [event(f"t{i}", "u1", "page_view", 0) for i in range(4)]
    table = frame(rows).astype(object)
    table["timestamp"] = ["2024-03-04T10:00:00-05:00", "2024-03-04 15:00:00",
                          "2024-03-04T15:00:00Z",
                          pd.Timestamp("2024-03-04 16:00", tz="Europe/Paris")]
    with EventStore() as store:
        assert store.ingest(table).ingested == 4
        stamps = store.query("SELECT timestamp FROM events")["timestamp"]
        assert set(stamps) == {pd.Timestamp("2024-03-04 15:00")}
    zoned = frame(rows)
    zoned["timestamp"] = zoned["timestamp"].dt.tz_convert("America/New_York")
    with EventStore() as store:
        store.ingest(zoned)
        assert set(store.query("SELECT timestamp FROM events")["timestamp"]) == {
            pd.Timestamp("2024-03-04")}


def to_json_lines(events: pd.DataFrame, path) -> None:
    events.to_json(path, orient="records", lines=True, date_format="iso", date_unit="us")


def test_json_lines_and_parquet_give_the_same_store_as_the_frame(tmp_path):
    events, _ = simulate_events(400, days=3, p_purchase=0.3, lift=0.1, revenue_mean=20.0,
                                rng=7)
    to_json_lines(events, tmp_path / "events.jsonl")
    events.to_parquet(tmp_path / "events.parquet")
    results = {}
    for source in [events, tmp_path / "events.jsonl", str(tmp_path / "events.parquet")]:
        with EventStore() as store:
            result = store.ingest(source)
            assert (result.ingested, result.quarantined) == (len(events), 0)
            results[str(type(source))] = (store.metrics("users"), store.metrics("daily"))
    (users, daily), *others = results.values()
    for other_users, other_daily in others:
        assert_same(other_users, users)
        assert_same(other_daily, daily)


def test_json_lines_problems_are_quarantined(tmp_path):
    good = {"event_id": "g", "unit_id": "u1", "experiment": "x", "variant": "control",
            "event_type": "purchase", "revenue": 2.5, "timestamp": "2024-03-04T10:00:00Z"}
    lines = [json.dumps(good),
             "{not json",
             "[1, 2, 3]",
             "",  # blank lines are not events
             json.dumps({**good, "event_id": "n", "revenue": None}),
             json.dumps({key: value for key, value in good.items() if key != "variant"}
                        | {"event_id": "v"}),
             json.dumps({**good, "event_id": "r", "revenue": "lots"}),
             json.dumps({**good, "event_id": 7, "unit_id": 12}) + "\r",
             "   "]
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join(lines))
    with EventStore() as store:
        result = store.ingest(path)
        assert (result.rows, result.ingested, result.quarantined) == (7, 2, 5)
        reasons = store.query("SELECT reason, raw FROM quarantine ORDER BY reason")
        assert reasons["reason"].tolist() == [
            "invalid JSON", "missing variant", "not a JSON object", "purchase without revenue",
            "unparsable revenue"]
        assert reasons.set_index("reason").loc["invalid JSON", "raw"] == "{not json"
        assert set(store.query("SELECT event_id FROM events")["event_id"]) == {"g", "7"}
        assert store.ingest(path).ingested == 0


def test_file_backed_store_persists(tmp_path):
    events, _ = simulate_events(200, days=2, p_purchase=0.3, lift=0.1, revenue_mean=20.0,
                                rng=8)
    data, _ = one_bad_row_per_reason()
    path = tmp_path / "store.duckdb"
    with EventStore(path) as store:
        store.ingest(events)
        store.ingest(data)
        users = store.metrics("users")
    with EventStore(str(path)) as reopened:
        assert "events=" in repr(reopened) and str(path) in repr(reopened)
        assert_same(reopened.metrics("users"), users)
        again = reopened.ingest(events)
        assert again.ingested == 0 and again.duplicates == len(events)
        counts = reopened.query("SELECT (SELECT COUNT(*) FROM events) AS e, "
                                "(SELECT COUNT(*) FROM quarantine) AS q")
        assert (counts["e"].item(), counts["q"].item()) == (len(events) + 1, len(data) - 1)


def test_memory_limit_is_applied():
    with EventStore(memory_limit="256MB") as store:
        limit = store.query("SELECT current_setting('memory_limit') AS m")["m"].item()
        assert limit == "244.1 MiB"  # 256e6 bytes, printed by DuckDB in MiB


def test_store_repr_and_schema():
    with EventStore() as store:
        assert repr(store) == "EventStore(memory, events=0, quarantined=0)"
        described = store.query("DESCRIBE events")
        assert described["column_name"].tolist() == list(EVENT_COLUMNS)
        assert described["column_type"].tolist() == [field.sql_type for field in EVENT_SCHEMA]
    assert repr(store) == "EventStore(memory, closed)"
    assert EVENT_TYPES == ("exposure", "page_view", "click", "purchase")
    assert VARIANTS == ("control", "treatment")


def test_ingest_result_repr_lists_the_counts():
    text = repr(IngestResult(rows=3, ingested=1, duplicates=1, quarantined=1))
    assert text.splitlines() == ["IngestResult(", "    rows=3,", "    ingested=1,",
                                 "    duplicates=1,", "    quarantined=1,", ")"]


# -- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("call", "error", "fragment"),
    [
        (lambda s: s.ingest(5), TypeError, "data must be a pandas DataFrame"),
        (lambda s: s.ingest([{"event_id": "a"}]), TypeError, "data must be"),
        (lambda s: s.ingest("events.csv"), ValueError, "data must be a JSON lines file"),
        (lambda s: s.ingest("no/such/file.parquet"), FileNotFoundError, "data: no such file"),
        (lambda s: s.metrics("conversion"), ValueError, "name must be one of"),
        (lambda s: s.metrics("users", experiment="nope"), ValueError, "experiment must be one of"),
        (lambda s: s.query(5), TypeError, "sql must be a str"),
    ],
)
def test_bad_arguments_name_the_argument(call, error, fragment):
    with EventStore() as store, pytest.raises(error) as info:
        call(store)
    assert fragment in str(info.value)


def test_unreadable_files_raise_value_errors(tmp_path):
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with EventStore() as store:
        for path in [broken, binary]:
            with pytest.raises(ValueError, match="data: could not read"):
                store.ingest(path)
        assert repr(store) == "EventStore(memory, events=0, quarantined=0)"


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"path": 3}, TypeError, "path must be None, a str or a pathlib.Path"),
        ({"memory_limit": 10**9}, TypeError, "memory_limit must be None or a str"),
        ({"memory_limit": "lots"}, ValueError, "memory_limit must be a size"),
    ],
)
def test_bad_store_arguments(kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        EventStore(**kwargs)


def test_a_closed_store_says_so():
    store = EventStore()
    store.close()
    store.close()  # closing twice is harmless
    with pytest.raises(ValueError, match="the EventStore is closed"):
        store.ingest(frame([event("a", "u", "exposure", 0)]))


# -- fuzz: malformed input never crashes ingestion -------------------------------------------

field_values = {
    "event_id": st.one_of(st.none(), st.sampled_from(["", "a", "b", "c"]), st.integers(0, 3)),
    "unit_id": st.one_of(st.none(), st.sampled_from(["", "u1", "u2"])),
    "experiment": st.one_of(st.none(), st.sampled_from(["", "x", "y"])),
    "variant": st.one_of(st.none(), st.sampled_from(list(VARIANTS) + ["", "CONTROL", "b"])),
    "event_type": st.one_of(st.none(), st.sampled_from(list(EVENT_TYPES) + ["", "view"])),
    "revenue": st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True),
                         st.sampled_from(["1.5", "x", "-0", "nan"])),
    "timestamp": st.one_of(st.none(), st.sampled_from(
        ["2024-03-04 10:00:00", "2024-03-04T10:00:00+02:00", "yesterday", "2024-13-01",
         "1709546400"]),
        st.datetimes(min_value=pd.Timestamp("2000-01-01").to_pydatetime(),
                     max_value=pd.Timestamp("2030-01-01").to_pydatetime())),
}
fuzz_rows = st.lists(st.fixed_dictionaries(field_values), min_size=1, max_size=12)


def check_store_invariants(store: EventStore, result: IngestResult) -> None:
    assert result.rows == result.ingested + result.duplicates + result.quarantined
    assert min(result.ingested, result.duplicates, result.quarantined) >= 0
    reasons = set(store.query("SELECT reason FROM quarantine")["reason"])
    assert reasons <= set(QUARANTINE_REASONS)
    stored = store.query("SELECT * FROM events")
    assert stored["event_id"].is_unique
    assert stored["variant"].isin(VARIANTS).all() and stored["event_type"].isin(EVENT_TYPES).all()
    purchases = stored["event_type"] == "purchase"
    assert (stored.loc[purchases, "revenue"] >= 0).all()
    assert stored.loc[~purchases, "revenue"].isna().all()
    assert stored["timestamp"].notna().all()


@settings(max_examples=60, deadline=None)
@given(rows=fuzz_rows)
def test_fuzz_malformed_frames_are_quarantined_never_crash(rows):
    with EventStore() as store:
        table = pd.DataFrame(rows, columns=list(EVENT_COLUMNS)).astype(object)
        first = store.ingest(table)
        check_store_invariants(store, first)
        second = store.ingest(table)
        assert second.ingested == 0 and second.quarantined == 0
        check_store_invariants(store, second)


@settings(max_examples=40, deadline=None)
@given(lines=st.lists(st.one_of(
    st.text(max_size=20),
    st.fixed_dictionaries(field_values).map(lambda row: json.dumps(row, default=str)),
), min_size=1, max_size=8))
def test_fuzz_json_lines_never_crash(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("fuzz") / "events.jsonl"
    path.write_text("\n".join(line.replace("\n", " ") for line in lines), encoding="utf-8")
    with EventStore() as store:
        check_store_invariants(store, store.ingest(path))


def test_store_never_draws_a_progress_bar():
    """A slow query must not add a progress widget to a notebook's output (nbval would see it)."""
    with EventStore() as store:
        setting = store.query("SELECT current_setting('enable_progress_bar') AS on_").iloc[0, 0]
    assert setting in (False, "false")


# -- quarantine: blank and JSON ids, implausible times -----------------------------------------

@pytest.mark.parametrize(("changes", "reason"), [
    ({"event_id": "\t \n"}, "blank event_id"),
    ({"unit_id": "\u2003"}, "blank unit_id"),  # an em space
    ({"experiment": " "}, "blank experiment"),
    ({"event_id": '{"id": 1}'}, "JSON object or array as event_id"),
    ({"unit_id": "[1, 2]"}, "JSON object or array as unit_id"),
    ({"experiment": '  {"name": "x"}'}, "JSON object or array as experiment"),
    ({"timestamp": "0001-01-01 00:00:00"}, "timestamp outside 1970-2099"),
    ({"timestamp": "1969-12-31 23:59:59"}, "timestamp outside 1970-2099"),
    ({"timestamp": "2100-01-01 00:00:00"}, "timestamp outside 1970-2099"),
    ({"timestamp": "10000-01-01 00:00:00"}, "timestamp outside 1970-2099"),
])
def test_implausible_ids_and_times_are_quarantined_with_their_reason(changes, reason):
    row = {**event("e1", "u1", "click", 0), **changes}
    with EventStore() as store:
        result = store.ingest(frame([row]).astype(object))
        assert (result.ingested, result.quarantined) == (0, 1)
        assert store.query("SELECT reason FROM quarantine")["reason"].item() == reason
    assert reason in QUARANTINE_REASONS


@pytest.mark.parametrize("changes", [
    {"event_id": "[not json"}, {"unit_id": "{u1}"}, {"unit_id": " u1 "}, {"event_id": "42"},
    {"timestamp": "1970-01-01 00:00:00"}, {"timestamp": "2099-12-31 23:59:59"},
])
def test_odd_but_plausible_ids_and_times_are_stored(changes):
    row = {**event("e1", "u1", "click", 0), **changes}
    with EventStore() as store:
        assert store.ingest(frame([row]).astype(object)).ingested == 1


def test_json_objects_and_arrays_as_ids_in_json_lines_are_quarantined(tmp_path):
    good = {"event_id": "a", "unit_id": "u1", "experiment": "x", "variant": "control",
            "event_type": "click", "timestamp": "2024-03-04T10:00:00"}
    lines = [good, {**good, "event_id": "b", "unit_id": {"id": 1}},
             {**good, "event_id": ["c"]}, {**good, "event_id": "d", "unit_id": "  "}]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines))
    with EventStore() as store:
        result = store.ingest(path)
        assert (result.ingested, result.quarantined) == (1, 3)
        assert sorted(store.query("SELECT reason FROM quarantine")["reason"]) == [
            "JSON object or array as event_id", "JSON object or array as unit_id",
            "blank unit_id"]


# -- the store's settings, paths and failures ---------------------------------------------------

def test_the_store_runs_with_few_threads_and_a_default_memory_cap():
    with EventStore() as store:
        settings_now = store.query(
            "SELECT current_setting('threads') AS t, current_setting('async_threads') AS a, "
            "current_setting('memory_limit') AS m").iloc[0]
    assert (int(settings_now["t"]), int(settings_now["a"])) == (1, 0)
    assert settings_now["m"] == "488.2 MiB"  # 512e6 bytes, printed by DuckDB in MiB
    with EventStore(threads=2, memory_limit=None) as store:
        assert store.query("SELECT current_setting('threads') AS t")["t"].item() in (2, "2")


@pytest.mark.parametrize("memory_limit", ["lots", "-1GB", "0", "0GB", "10MB", "80%", "1e3MB",
                                          "", "1 GB extra", "9" * 30 + "TB"])
def test_unusable_memory_limits_are_refused_at_construction(memory_limit):
    with pytest.raises(ValueError, match=r"memory_limit must be"):
        EventStore(memory_limit=memory_limit)


@pytest.mark.parametrize("memory_limit", [0, 1.5, b"1GB", ["1GB"]])
def test_memory_limits_that_are_not_text_are_refused(memory_limit):
    with pytest.raises(TypeError, match=r"memory_limit must be None or a str"):
        EventStore(memory_limit=memory_limit)


@pytest.mark.parametrize("memory_limit", ["64MB", "1.5GB", "2 GiB", "300mb"])
def test_sizes_in_any_unit_are_accepted(memory_limit):
    with EventStore(memory_limit=memory_limit) as store:
        assert store.ingest(frame([event("a", "u", "exposure", 0)])).ingested == 1


@pytest.mark.parametrize(("threads", "error"), [(0, ValueError), (65, ValueError),
                                                (1.5, TypeError), (True, TypeError)])
def test_bad_thread_counts_are_refused(threads, error):
    with pytest.raises(error, match="threads must be"):
        EventStore(threads=threads)


def test_bad_paths_raise_errors_that_quote_the_path(tmp_path):
    not_a_database = tmp_path / "notes.duckdb"
    not_a_database.write_text("hello")
    cases = [
        (tmp_path, IsADirectoryError, "is a folder"),
        (tmp_path / "missing" / "store.duckdb", FileNotFoundError, "does not exist"),
        (not_a_database, ValueError, "is not a DuckDB database file"),
        (str(tmp_path / "a\x00b.duckdb"), ValueError, "path must name a file"),
        ("  ", ValueError, "path must name a file"),
    ]
    for path, error, fragment in cases:
        with pytest.raises(error, match=fragment) as info:
            EventStore(path)
        assert repr(str(path)) in str(info.value)
    assert not (tmp_path / "a").exists()  # DuckDB would cut the name at the NUL


def test_a_path_where_no_file_can_be_created_raises_an_os_error():
    with pytest.raises(OSError, match=r"path '/proc/abteach-store.duckdb'"):
        EventStore("/proc/abteach-store.duckdb")


class _CommitFails:
    """A connection whose COMMIT fails the way DuckDB's does on a full disk: the failed
    commit has already ended the transaction, so a ROLLBACK after it fails too."""

    def __init__(self, connection):
        self._connection = connection

    def execute(self, sql, *args):
        if sql == "COMMIT":
            self._connection.execute("ROLLBACK")
            raise duckdb.TransactionException(
                'Failed to commit: Could not write file "store.duckdb": No space left on device')
        return self._connection.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._connection, name)


def test_a_failed_commit_raises_its_real_cause_and_stores_nothing():
    with EventStore() as store:
        store.ingest(frame([event("a", "u", "exposure", 0)]))
        real = store._con
        store._con = _CommitFails(real)
        with pytest.raises(OSError, match="No space left on device") as info:
            store.ingest(frame([event("b", "u", "click", 1)]))
        assert "cannot rollback" not in str(info.value)
        assert isinstance(info.value.__cause__, duckdb.TransactionException)
        store._con = real
        assert repr(store) == "EventStore(memory, events=1, quarantined=0)"
        assert store.ingest(frame([event("b", "u", "click", 1)])).ingested == 1


FULL_DISK = r"""
import resource, signal, sys
import pandas as pd
from abteach.events import EventStore
from abteach.simulate import simulate_events

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write beyond the limit fails with EFBIG
events, _ = simulate_events(20_000, days=3, p_purchase=0.2, lift=0.1, revenue_mean=50.0, rng=1)
store = EventStore(sys.argv[1])
store.ingest(events.iloc[:10])
resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, resource.RLIM_INFINITY))
try:
    store.ingest(events)
except OSError as exc:
    print("OSError:", exc)
print(repr(store))
"""


def test_a_full_disk_during_ingestion_raises_its_real_cause(tmp_path):
    """A file-size limit (RLIMIT_FSIZE) stands in for a full disk."""
    if not hasattr(resource, "RLIMIT_FSIZE"):
        pytest.fail("this test needs resource.RLIMIT_FSIZE (a POSIX system)")
    run = subprocess.run([sys.executable, "-c", FULL_DISK, str(tmp_path / "store.duckdb")],
                         capture_output=True, text=True, timeout=600, env=_child_env())
    assert run.returncode == 0, run.stderr[-3000:]
    assert "OSError: ingest could not write to the store" in run.stdout
    assert "File too large" in run.stdout and "cannot rollback" not in run.stdout
    assert run.stdout.strip().endswith("events=10, quarantined=0)")  # nothing of the batch


def _child_env() -> dict:
    """The environment of a child Python that imports this abteach."""
    root = str(Path(abteach.__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        [root, *filter(None, [os.environ.get("PYTHONPATH")])])}


CHAPTER_4_WORKLOAD = r"""
import tempfile
from pathlib import Path
import numpy as np
import abteach as abt

rng = np.random.default_rng(2026)
events, truth = abt.simulate_events(30_000, days=14, p_purchase=0.2, lift=0.1,
                                    revenue_mean=50.0, rng=rng)
store = abt.EventStore()
day = (events["timestamp"] - events["timestamp"].min().floor("D")).dt.days
with tempfile.TemporaryDirectory() as folder:
    parquet, lines = Path(folder) / "day1.parquet", Path(folder) / "day2.jsonl"
    events[day == 0].to_parquet(parquet, index=False)
    events[day == 1].to_json(lines, orient="records", lines=True, date_format="iso",
                             date_unit="us")
    store.ingest(parquet)
    store.ingest(lines)
store.ingest(events)
store.ingest(events)
tables = {name: store.metrics(name) for name in abt.METRIC_SQL}
others = []  # the chapter keeps several stores open at once
for broken in [abt.lose_events(events, fraction=0.1, rng=rng),
               abt.duplicate_events(events, fraction=0.2, same_id=False, rng=rng),
               abt.add_bots(events, n_bots=10, events_per_bot=5_000, rng=rng)]:
    other = abt.EventStore()
    other.ingest(broken)
    other.metrics("users")
    others.append(other)
print(int(tables["arms"]["users"].sum()))
"""


def test_a_chapter_4_workload_runs_under_a_2_gib_address_space_cap():
    """Binder gives 2 GB; DuckDB's defaults reserved about 0.7 GB of address space per open
    store (a thread per core and eight I/O threads, each with a stack and a malloc arena),
    and chapter 4 failed under ``prlimit --as=2147483648``. The child runs chapter 4's
    store work under that cap. BLAS and Arrow thread pools are pinned, as on a small machine
    (they grow with the number of cores, not with the store), and Arrow uses the system
    allocator (its mimalloc pool reserves 1 GiB of address space on first use)."""
    if not hasattr(resource, "RLIMIT_AS"):
        pytest.fail("this test needs resource.RLIMIT_AS (an address-space limit, as prlimit --as)")
    cap = 2 * 1024**3

    def limit_address_space():
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    env = {**_child_env(), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "ARROW_DEFAULT_MEMORY_POOL": "system"}
    run = subprocess.run([sys.executable, "-c", CHAPTER_4_WORKLOAD], capture_output=True,
                         text=True, timeout=900, env=env, preexec_fn=limit_address_space)
    assert run.returncode == 0, run.stderr[-3000:]
    assert int(run.stdout.split()[-1]) > 29_000  # every simulated user is in the arms


def test_a_store_ingests_after_its_repr_was_shown():
    """DuckDB refuses new work while a result is half read: the store reads results whole."""
    with EventStore() as store:
        repr(store)
        assert store.ingest(frame([event("a", "u", "exposure", 0)])).ingested == 1
        repr(store)
        assert store.ingest(frame([event("b", "u", "click", 1)])).ingested == 1
