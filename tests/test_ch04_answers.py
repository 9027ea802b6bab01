"""Chapter 4 (logging and metrics): the exercise data in the solutions notebook are the key's,
and the stories the exercises tell hold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import abteach as abt
from abteach.course.answers import ch04
from abteach.course.answers.ch04 import EXERCISES
from conftest import ROOT, read

SOLUTIONS = ROOT / "solutions" / "04_logging.ipynb"


def _resolve(value):
    return value() if callable(value) else value


def _setup_namespace(exercise_id: str) -> dict:
    """Run the code of the solutions notebook that precedes the solution block of an
    exercise (the data the learner is given) and return its variables."""
    cells = [c.source for c in read(SOLUTIONS).cells
             if c.cell_type == "code" and f'check("{exercise_id}"' in c.source]
    assert len(cells) == 1
    given = cells[0].split("# BEGIN SOLUTION", 1)[0]
    namespace = {"abt": abt, "np": np}
    exec(given, namespace)  # noqa: S102 - our own notebook's set-up code
    return namespace


def test_solution_notebook_builds_the_keys_daily_load():
    """04.1: the store and today's file the learner gets are the key's."""
    given = _setup_namespace("04.1")
    pd.testing.assert_frame_equal(given["today"], ch04._today())
    stored = given["store"].query("SELECT event_id FROM events ORDER BY event_id")["event_id"]
    expected = ch04._small_stream()["event_id"].iloc[: ch04.PUBLIC_INPUTS["04.1"]["loaded"]].sort_values()
    assert stored.tolist() == expected.tolist()


def test_solution_notebook_builds_the_keys_shop_experiment():
    """04.2 and 04.3: the learner's shop store holds the key's stream."""
    given = _setup_namespace("04.2")
    pd.testing.assert_frame_equal(given["shop"], ch04._shop().events)
    arms = given["shop_store"].metrics("arms")
    pd.testing.assert_frame_equal(arms, ch04._shop_metrics("arms"))


def test_duplicates_are_the_overlap_plus_the_retried_copies():
    """04.1 by counting, independently of the store: rows already loaded, plus rows whose
    event_id appeared earlier in the file."""
    today = ch04._today()
    loaded = set(ch04._small_stream()["event_id"].iloc[: ch04.PUBLIC_INPUTS["04.1"]["loaded"]])
    repeated = today["event_id"].duplicated()
    already = today["event_id"].isin(loaded)
    assert int((repeated | already).sum()) == ch04._todays_ingest().duplicates
    assert ch04._todays_ingest().quarantined == 0


def test_treatment_conversion_by_pandas():
    """04.2 recomputed with pandas from the events: users with a purchase at or after their
    first exposure, among exposed treatment users."""
    events = ch04._shop().events
    first = events[events["event_type"] == "exposure"].groupby("unit_id")["timestamp"].min()
    exposed = events[events["timestamp"] >= events["unit_id"].map(first)]
    treated = exposed[exposed["variant"] == "treatment"]
    buyers = treated.loc[treated["event_type"] == "purchase", "unit_id"].nunique()
    assert buyers / treated["unit_id"].nunique() == pytest.approx(
        _resolve(next(ex for ex in EXERCISES if ex.id == "04.2").answer.expected), rel=1e-12)


def test_diluted_effect_is_the_product_of_the_triggered_numbers():
    """04.3: the key's SQL value equals trigger rate x triggered effect computed by hand."""
    assert ch04._diluted_effect() == pytest.approx(
        ch04._pooled_trigger_rate() * ch04._triggered_effect(), rel=1e-12)


def test_the_story_of_04_3_holds():
    """The solution explains the gap between the diluted and the overall effect by a chance
    difference in trigger rates that is below 2 standard errors."""
    triggered = ch04._shop_metrics("triggered").set_index("variant")
    n_c, n_t = triggered.loc["control", "users"], triggered.loc["treatment", "users"]
    x_c = triggered.loc["control", "triggered_users"]
    x_t = triggered.loc["treatment", "triggered_users"]
    test = abt.ztest_proportions(x_c, n_c, x_t, n_t)
    assert test.effect < 0 and 1.5 < abs(test.statistic) < 2.0
    overall = float(ch04._shop_metrics("dilution")["conversion_effect"].item())
    assert overall < ch04._diluted_effect()
