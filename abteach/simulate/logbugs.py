"""Logging bugs of chapter 4's pitfalls: break a simulated event log the way real pipelines do.

Each function takes an event log (the columns of :data:`abteach.events.EVENT_SCHEMA`, e.g.
from :func:`~abteach.simulate.simulate_events`) and returns a broken copy: events lost in one
arm, sent twice, bots, client clocks in local time, late arrivals (Kohavi, Tang & Xu 2020,
*Trustworthy Online Controlled Experiments*, ch. 21).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from abteach._validate import (
    as_float_array,
    as_generator,
    check_choice,
    check_closed_unit,
    check_int,
    check_scalar,
)
from abteach.events import EVENT_COLUMNS, EVENT_TYPES, VARIANTS
from abteach.simulate.streams import (
    _MICROSECONDS,
    MAX_DAYS,
    _check_number,
    _check_timestamp,
    _event_frame,
)

#: Most events :func:`add_bots` writes (each bot's events are rows of a DataFrame: 10 million
#: rows take about 1 GiB).
MAX_BOT_EVENTS = 10_000_000


class DelayedEvents(NamedTuple):
    """Events that had arrived by the cut-off, and the late ones that had not."""

    on_time: pd.DataFrame
    late: pd.DataFrame


def _check_events(events) -> pd.DataFrame:
    if not isinstance(events, pd.DataFrame):
        raise TypeError(f"events must be a pandas DataFrame, got {type(events).__name__}")
    duplicated = events.columns[events.columns.duplicated()]
    if len(duplicated):
        raise ValueError(f"events has the column {duplicated[0]!r} more than once")
    missing = [column for column in EVENT_COLUMNS if column not in events.columns]
    if missing:
        raise ValueError(f"events must have the columns of EVENT_SCHEMA; missing {missing}")
    if events.empty:
        raise ValueError("events must not be empty")
    if not isinstance(events["timestamp"].dtype, pd.DatetimeTZDtype):
        raise ValueError(
            "events['timestamp'] must hold time-zone-aware datetimes (UTC), got dtype "
            f"{events['timestamp'].dtype}"
        )
    return events


def _with_events(frame: pd.DataFrame, added: pd.DataFrame) -> pd.DataFrame:
    """``frame`` and the ``added`` events, sorted by time, keeping ``frame``'s column types.

    Columns of ``frame`` outside the schema are missing (NaN) in the added rows.
    """
    types = {name: frame[name].dtype for name in EVENT_COLUMNS}
    both = pd.concat([frame, added.astype(types)], ignore_index=True)
    return both.sort_values("timestamp", kind="stable", ignore_index=True)


def _check_variant(variant) -> str | None:
    return None if variant is None else check_choice("variant", variant, VARIANTS)


def _check_event_types(event_types) -> tuple[str, ...]:
    """One event type or a non-empty sequence of them."""
    values = (event_types,) if isinstance(event_types, str) else event_types
    try:
        values = tuple(values)
    except TypeError:
        raise TypeError(f"event_types must be event type names, got {event_types!r}") from None
    if not values:
        raise ValueError("event_types must not be empty")
    for value in values:
        check_choice("event_types", value, EVENT_TYPES)
    return values


def _check_fraction(fraction) -> float:
    return check_scalar("fraction", check_closed_unit("fraction", fraction))


def _in_scope(events: pd.DataFrame, variant, event_types) -> np.ndarray:
    """Rows in ``variant`` (all arms if None) whose type is one of ``event_types``."""
    rows = events["event_type"].isin(event_types).to_numpy()
    if variant is not None:
        rows = rows & (events["variant"] == variant).to_numpy()
    return rows


def lose_events(events, *, fraction, rng, variant="treatment", event_types=EVENT_TYPES):
    """Drop a random ``fraction`` of one arm's events, as a lossy logger does.

    A beacon that fires on page unload, or a new client that batches its events, loses
    some of them in one arm only. Losing exposures shows as a sample ratio mismatch;
    losing purchases biases the effect.

    Parameters
    ----------
    events : pandas.DataFrame
        An event log with the columns of :data:`abteach.events.EVENT_SCHEMA`.
    fraction : float
        Probability, in [0, 1], that an event in scope is lost.
    rng : numpy.random.Generator or int
        Source of randomness.
    variant : {"control", "treatment"} or None
        The arm that loses events (None: both).
    event_types : str or sequence of str
        The event types that can be lost (all by default).

    Returns
    -------
    pandas.DataFrame
        The events that were logged.
    """
    frame = _check_events(events)
    share = _check_fraction(fraction)
    scope = _in_scope(frame, _check_variant(variant), _check_event_types(event_types))
    lost = scope & (as_generator(rng).random(len(frame)) < share)
    return frame[~lost].reset_index(drop=True)


def duplicate_events(events, *, fraction, rng, same_id=True):
    """Send a random ``fraction`` of events twice.

    With ``same_id=True`` the copy keeps its ``event_id`` (a client retrying an upload):
    deduplication on ``event_id`` removes it. With ``same_id=False`` the copy gets a new
    id (a tag that fires twice), which no deduplication can tell from a real event.

    Returns
    -------
    pandas.DataFrame
        The events and their copies, sorted by time (a copy right after its original).
    """
    frame = _check_events(events)
    share = _check_fraction(fraction)
    if not isinstance(same_id, (bool, np.bool_)):
        raise TypeError(f"same_id must be True or False, got {same_id!r}")
    copies = frame[as_generator(rng).random(len(frame)) < share].copy()
    if not same_id:
        copies["event_id"] = copies["event_id"].astype("str") + "-copy"
    return _with_events(frame, copies)


def add_bots(events, *, n_bots, events_per_bot, rng, experiment=None):
    """Add bots: units with a huge number of page views and clicks and no purchase.

    Each bot is randomized like a user (each arm with probability 1/2), is exposed at a
    uniform time within the log's time range, then emits ``events_per_bot`` events, each
    a page view or a click with probability 1/2, at uniform times until the end of the
    log. Bot unit ids are ``"bot0"``, ``"bot1"``, ... so that a chapter can check which
    ones a filter caught.

    Parameters
    ----------
    events : pandas.DataFrame
        An event log with the columns of :data:`abteach.events.EVENT_SCHEMA`.
    n_bots, events_per_bot : int
        Number of bots (>= 1) and events of each bot after its exposure (>= 1).
    rng : numpy.random.Generator or int
        Source of randomness.
    experiment : str, optional
        Experiment the bots join; needed only when ``events`` holds several.

    Returns
    -------
    pandas.DataFrame
        The events with the bots' events, sorted by time.
    """
    frame = _check_events(events)
    bots = check_int("n_bots", n_bots, minimum=1)
    per_bot = check_int("events_per_bot", events_per_bot, minimum=1)
    if bots * (per_bot + 1) > MAX_BOT_EVENTS:
        raise ValueError(f"n_bots and events_per_bot ask for {bots * (per_bot + 1):,} events, "
                         f"more than MAX_BOT_EVENTS = {MAX_BOT_EVENTS:,}")
    names = list(pd.unique(frame["experiment"].astype("str")))
    if experiment is None:
        if len(names) != 1:
            raise ValueError(f"events holds the experiments {names}; choose one with experiment=")
        experiment = names[0]
    check_choice("experiment", experiment, names)
    generator = as_generator(rng)
    first = frame["timestamp"].min().value // 1000
    last = frame["timestamp"].max().value // 1000
    arm = (generator.random(bots) < 0.5).astype(np.int8)
    exposed = first + np.floor(generator.random(bots) * (last - first)).astype(np.int64)
    bot = np.repeat(np.arange(bots), per_bot)
    later = exposed[bot] + np.floor(generator.random(bot.size) * (last - exposed[bot]))
    kind = np.where(generator.random(bot.size) < 0.5, 1, 2).astype(np.int8)  # page_view, click
    unit = np.concatenate([np.arange(bots), bot])
    added = _event_frame(
        generator,
        experiment=experiment,
        unit_prefix="bot",
        unit=unit,
        variant=arm[unit],
        event_type=np.concatenate([np.zeros(bots, dtype=np.int8), kind]),
        revenue=np.full(unit.size, np.nan),
        time_us=np.concatenate([exposed, later.astype(np.int64)]),
    )
    return _with_events(frame, added)


def mislabel_local_time(
    events, *, fraction, utc_offset_hours, rng, variant=None,
    event_types=("page_view", "click", "purchase"),
):
    """Shift the client-side events of some users by their UTC offset, as a time-zone bug.

    The server logs exposures in UTC, but a client (an app version, a platform) writes
    its local wall-clock time and labels it UTC. Local time is UTC + offset, so for a
    ``fraction`` of the units (in one arm, or both when ``variant`` is None) the events of
    ``event_types`` move by ``utc_offset_hours`` hours. With a negative offset (the
    Americas) they land before the unit's exposure and drop out of the analysis; with
    either sign daily metrics move to the wrong day.

    Parameters
    ----------
    events : pandas.DataFrame
        An event log with the columns of :data:`abteach.events.EVENT_SCHEMA`.
    fraction : float
        Share of units, in [0, 1], whose clients have the bug.
    utc_offset_hours : float
        The clients' UTC offset, in [-14, 14] (e.g. -5 for New York in winter).
    rng : numpy.random.Generator or int
        Source of randomness.
    variant : {"control", "treatment"} or None
        Arm whose clients have the bug (None: both).
    event_types : str or sequence of str
        Event types logged by the client.

    Returns
    -------
    pandas.DataFrame
        The events with the mislabeled timestamps, sorted by time.
    """
    frame = _check_events(events)
    share = _check_fraction(fraction)
    offset = check_scalar("utc_offset_hours", as_float_array("utc_offset_hours", utc_offset_hours))
    if abs(offset) > 14:
        raise ValueError(f"utc_offset_hours must be in [-14, 14], got {utc_offset_hours!r}")
    scope = _in_scope(frame, _check_variant(variant), _check_event_types(event_types))
    codes, units = pd.factorize(frame["unit_id"])
    buggy = scope & (as_generator(rng).random(units.size) < share)[codes]
    shifted = frame.copy()
    shift = pd.Timedelta(round(offset * 3600 * _MICROSECONDS), unit="us")
    shifted.loc[buggy, "timestamp"] = frame.loc[buggy, "timestamp"] + shift
    return shifted.sort_values("timestamp", kind="stable", ignore_index=True)


def delay_events(events, *, fraction, mean_delay_hours, rng, variant=None, as_of=None):
    """Split events into those that had arrived by ``as_of`` and those that arrive late.

    A ``fraction`` of the events (of one arm, or both when ``variant`` is None) reach
    the pipeline after an exponential delay with mean ``mean_delay_hours`` (an app used
    offline, a client that uploads in batches); the others arrive at once. An analysis
    run at ``as_of`` sees only ``on_time``; ingesting ``late`` afterwards completes the
    log (late events are new events, not duplicates).

    Parameters
    ----------
    events : pandas.DataFrame
        An event log with the columns of :data:`abteach.events.EVENT_SCHEMA`.
    fraction : float
        Probability, in [0, 1], that an event in scope is delayed.
    mean_delay_hours : float
        Mean delay of a delayed event (> 0, at most ``MAX_DAYS * 24``).
    rng : numpy.random.Generator or int
        Source of randomness.
    variant : {"control", "treatment"} or None
        Arm whose events can be delayed (None: both).
    as_of : str or datetime, optional
        When the analysis runs (UTC if no time zone); the last event's time by default.
        Events after ``as_of`` have not arrived either and are in ``late``.

    Returns
    -------
    DelayedEvents
        ``(on_time, late)``, two DataFrames that together hold every event.
    """
    frame = _check_events(events)
    share = _check_fraction(fraction)
    mean_hours = _check_number("mean_delay_hours", mean_delay_hours, above=0.0,
                               at_most=MAX_DAYS * 24)
    scope = _in_scope(frame, _check_variant(variant), EVENT_TYPES)
    cutoff = frame["timestamp"].max() if as_of is None else _check_timestamp("as_of", as_of)
    generator = as_generator(rng)
    delayed = scope & (generator.random(len(frame)) < share)
    hours = np.where(delayed, generator.exponential(mean_hours, len(frame)), 0.0)
    arrival = frame["timestamp"] + pd.to_timedelta(hours, unit="h")
    late = (arrival > cutoff).to_numpy()
    return DelayedEvents(frame[~late].reset_index(drop=True), frame[late].reset_index(drop=True))
