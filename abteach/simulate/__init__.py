"""Seeded simulators of experiments, for learning what tests promise by watching them fail.

Every draw goes through an ``rng`` argument (a ``numpy.random.Generator`` or an integer
seed), and whole batches of experiments are drawn at once.

Two kinds of simulation: :func:`simulate_conversions` draws the counts of many two-arm
experiments (``abteach.simulate.conversions``); :func:`simulate_events` draws the event
log of one experiment, with known true effects (``abteach.simulate.streams``), and
:func:`lose_events`, :func:`duplicate_events`, :func:`add_bots`,
:func:`mislabel_local_time` and :func:`delay_events` break such a log the way real
logging pipelines do (``abteach.simulate.logbugs``; Kohavi, Tang & Xu 2020, ch. 21).
"""

from __future__ import annotations

from abteach.simulate.conversions import SimulatedConversions, simulate_conversions
from abteach.simulate.logbugs import (
    DelayedEvents,
    add_bots,
    delay_events,
    duplicate_events,
    lose_events,
    mislabel_local_time,
)
from abteach.simulate.streams import (
    LAST_SESSION_START_SECONDS,
    MAX_DAYS,
    MAX_EVENTS,
    MAX_LOG_SD,
    MAX_ORDER_MEAN,
    SECONDS_BETWEEN_PAGE_VIEWS,
    SECONDS_TO_CLICK,
    SECONDS_TO_PURCHASE,
    EventTruth,
    SimulatedEvents,
    simulate_events,
)

__all__ = [
    "LAST_SESSION_START_SECONDS",
    "MAX_DAYS",
    "MAX_EVENTS",
    "MAX_LOG_SD",
    "MAX_ORDER_MEAN",
    "SECONDS_BETWEEN_PAGE_VIEWS",
    "SECONDS_TO_CLICK",
    "SECONDS_TO_PURCHASE",
    "DelayedEvents",
    "EventTruth",
    "SimulatedConversions",
    "SimulatedEvents",
    "add_bots",
    "delay_events",
    "duplicate_events",
    "lose_events",
    "mislabel_local_time",
    "simulate_conversions",
    "simulate_events",
]

