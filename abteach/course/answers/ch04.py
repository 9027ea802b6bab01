"""Answer key of chapter 4, Logging and metrics (``solutions/04_logging.ipynb``).

Every expected value is computed with abteach when first needed: the seeded event streams are
simulated, ingested into an :class:`abteach.EventStore` and queried with the metric SQL, and the
typical wrong answers are recomputed the same way so that each gets its own hint.
"""

from __future__ import annotations

from functools import cache

import pandas as pd

import abteach as abt
from abteach.course.check import Choice, Exercise, Number

# 04.1: yesterday's load and today's file (with retried copies) of a small seeded stream.
SMALL_STREAM = {"n_users": 2_000, "days": 7, "p_purchase": 0.2, "lift": 0.1, "revenue_mean": 50.0}
SMALL_SEED = 41
LOADED_ROWS = 6_000  # rows 0 to 5,999 were ingested yesterday
TODAY_ROWS = (4_000, 10_000)  # rows 4,000 to 9,999 are in today's file
RETRY_FRACTION, RETRY_SEED = 0.05, 42

# 04.2 and 04.3: a shop experiment with a 20% lift among users who click.
SHOP_STREAM = {"n_users": 5_000, "days": 7, "p_purchase": 0.3, "lift": 0.2,
               "revenue_mean": 40.0, "p_click": 0.15}
SHOP_SEED = 404


# --- 04.1 ------------------------------------------------------------------------------------


@cache
def _small_stream() -> pd.DataFrame:
    return abt.simulate_events(**SMALL_STREAM, rng=SMALL_SEED).events


@cache
def _today() -> pd.DataFrame:
    start, stop = TODAY_ROWS
    return abt.duplicate_events(_small_stream().iloc[start:stop], fraction=RETRY_FRACTION,
                                rng=RETRY_SEED)


@cache
def _todays_ingest() -> abt.IngestResult:
    with abt.EventStore() as store:
        store.ingest(_small_stream().iloc[:LOADED_ROWS])
        return store.ingest(_today())


def _overlap() -> int:
    """Rows of today's file that yesterday's load already stored."""
    return LOADED_ROWS - TODAY_ROWS[0]


def _retried_copies() -> int:
    start, stop = TODAY_ROWS
    return len(_today()) - (stop - start)


# --- 04.2 and 04.3 ---------------------------------------------------------------------------


@cache
def _shop():
    return abt.simulate_events(**SHOP_STREAM, rng=SHOP_SEED)


@cache
def _shop_metrics(name: str) -> pd.DataFrame:
    with abt.EventStore() as store:
        store.ingest(_shop().events)
        return store.metrics(name)


def _arm(name: str, variant: str) -> pd.Series:
    return _shop_metrics(name).set_index("variant").loc[variant]


def _triggered_effect() -> float:
    return float(_arm("triggered", "treatment")["triggered_conversion_rate"]
                 - _arm("triggered", "control")["triggered_conversion_rate"])


def _pooled_trigger_rate() -> float:
    triggered = _shop_metrics("triggered")
    return float(triggered["triggered_users"].sum() / triggered["users"].sum())


def _diluted_effect() -> float:
    return float(_shop_metrics("dilution")["diluted_conversion_effect"].item())


EXERCISES = (
    Exercise(
        "04.1",
        "n_duplicates",
        Number(
            lambda: _todays_ingest().duplicates,
            rtol=0.0,
            atol=0.5,
            hint="Ingest today's file into the store that holds yesterday's load and read "
            "the .duplicates of the IngestResult: events already stored AND retried copies "
            "within the file both count.",
            mistakes=[
                (_overlap, "That counts only the 2,000 events that yesterday's load already "
                 "stored. The retried copies inside today's file (same event_id as an event "
                 "earlier in the file) are duplicates too."),
                (_retried_copies, "That counts only the retried copies inside today's file. "
                 "Rows 4,000 to 5,999 were already stored yesterday, so they are duplicates "
                 "too."),
                (lambda: _todays_ingest().ingested, "That is the number of events the store "
                 "took (.ingested); the question asks for .duplicates."),
                (lambda: len(_today()), "Every row of the file counted as a duplicate: did you "
                 "ingest today's file twice? Re-run the whole cell (it rebuilds the store) and "
                 "ingest once."),
            ],
        ),
    ),
    Exercise(
        "04.2",
        "treatment_conversion",
        Number(
            lambda: float(_arm("arms", "treatment")["conversion_rate"]),
            rtol=1e-9,
            hint="Run shop_store.metrics('arms') and read the conversion_rate of the "
            "treatment row: the share of exposed treatment users with at least one purchase.",
            mistakes=[
                (lambda: float(_arm("arms", "control")["conversion_rate"]), "That is the "
                 "control arm's conversion rate; take the treatment row."),
                (lambda: _shop().truth.conversion_treatment, "That is the true (population) "
                 "conversion of the simulation, EventTruth.conversion_treatment; the question "
                 "asks for the rate measured on the log with the SQL."),
                (lambda: float(_arm("triggered", "treatment")["triggered_conversion_rate"]),
                 "That is the conversion of TRIGGERED treatment users only (those who "
                 "clicked); the question asks for all exposed treatment users."),
                (lambda: 100 * float(_arm("arms", "treatment")["conversion_rate"]), "That is a "
                 "percentage; give the rate as a proportion between 0 and 1."),
                (lambda: float(_arm("arms", "treatment")["converters"]), "That is the number "
                 "of converters; divide by the number of users (or read conversion_rate)."),
            ],
        ),
    ),
    Exercise(
        "04.3",
        "diluted_effect",
        Number(
            _diluted_effect,
            rtol=1e-9,
            hint="Triggered effect = treatment minus control triggered_conversion_rate; "
            "trigger rate = triggered users of both arms / all exposed users of both arms; "
            "the diluted effect is their product (metrics('dilution') computes it too).",
            mistakes=[
                (_triggered_effect, "That is the effect among triggered users, before "
                 "dilution; multiply it by the trigger rate."),
                (lambda: _triggered_effect() / _pooled_trigger_rate(), "Dilution makes the "
                 "effect SMALLER: multiply the triggered effect by the trigger rate, do not "
                 "divide."),
                (lambda: float(_shop_metrics("dilution")["conversion_effect"].item()), "That "
                 "is the effect measured directly on all exposed users. It is close, but the "
                 "question asks for the prediction from the triggered analysis: trigger rate x "
                 "triggered effect."),
                (lambda: _triggered_effect() * float(_arm("triggered", "treatment")["trigger_rate"]),
                 "You used the treatment arm's trigger rate; use the rate over all exposed "
                 "users of both arms."),
                (lambda: _triggered_effect() * float(_arm("triggered", "control")["trigger_rate"]),
                 "You used the control arm's trigger rate; use the rate over all exposed users "
                 "of both arms."),
                (lambda: _shop().truth.conversion_effect, "That is the true effect of the "
                 "simulation (EventTruth.conversion_effect); compute the estimate from the log."),
            ],
        ),
    ),
    Exercise(
        "04.4",
        "bot_biased_metric",
        Choice(
            "c",
            options=("a", "b", "c", "d"),
            hints={
                "a": "A bot is one unit among tens of thousands; as a non-buyer it moves the "
                "conversion rate by a few hundredths of a percent.",
                "b": "Bots add zero revenue and one unit each: revenue per user moves by about "
                "the share of bots among the units, a few hundredths of a percent.",
                "d": "Bots are randomized like users, so they split between the arms in the "
                "designed ratio; a handful of extra units does not create a mismatch.",
            },
        ),
    ),
    Exercise(
        "04.5",
        "why_per_user",
        Choice(
            "b",
            options=("a", "b", "c", "d"),
            hints={
                "a": "SQL computes variances over any rows (VAR_SAMP); the question is which "
                "rows are independent observations.",
                "c": "Aggregating does not remove duplicates (a copy with a new id still adds "
                "a page view to its user); deduplication on event_id does.",
                "d": "Aggregation changes no metric's value (a ratio of sums is the same sum "
                "over users); it changes which observations the variance is computed over.",
            },
        ),
    ),
    Exercise(
        "04.6",
        "before_exposure",
        Choice(
            "b",
            options=("a", "b", "c", "d"),
            hints={
                "a": "Events before the first exposure cannot be caused by the treatment: "
                "counting them only adds noise, and bias if exposure is logged at different "
                "moments in the two arms.",
                "c": "The user was randomized and exposed, so the user belongs to the analysis "
                "population; dropping users for what they did before would be a separate, "
                "pre-registered filter, and the first-exposure rule is not one.",
                "d": "The arm comes from the assignment, never from the timing of events: the "
                "user and all the user's counted events stay in the assigned arm.",
            },
        ),
    ),
)
