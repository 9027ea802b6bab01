r"""The event log of one experiment whose true effects are known (chapter 4).

:func:`simulate_events` draws every user's visits, page views, clicks and purchases with
whole-array numpy operations, and returns the log (the columns of
:data:`abteach.events.EVENT_SCHEMA`) with an :class:`EventTruth` holding the population
values an analysis should recover.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from abteach._records import Record, format_number
from abteach._validate import (
    as_float_array,
    as_generator,
    check_int,
    check_open_unit,
    check_scalar,
)
from abteach.events import (
    EARLIEST_TIMESTAMP,
    EVENT_COLUMNS,
    EVENT_TYPES,
    LATEST_TIMESTAMP,
    VARIANTS,
)

#: Mean seconds between two page views of a session, from a page view to its click, and
#: from a click to a purchase. Sessions are a few minutes long, far below the 30-minute gap
#: that separates sessions in :data:`abteach.events.USER_METRICS_SQL`.
SECONDS_BETWEEN_PAGE_VIEWS = 60.0
SECONDS_TO_CLICK = 10.0
SECONDS_TO_PURCHASE = 120.0
#: No session starts in the last hour, so that sessions end inside the experiment's days.
LAST_SESSION_START_SECONDS = 3600.0
#: Limits of :func:`simulate_events`. Beyond them the log would not fit in memory, the
#: timestamps or the order values would overflow, or the mean order value would be carried
#: by draws too rare to appear (log-normal with a log-scale sd above 5).
MAX_EVENTS = 10_000_000  # a log of 10 million events takes about 1 GiB as a DataFrame
MAX_DAYS = 3650
MAX_ORDER_MEAN = 1e9
MAX_LOG_SD = 5.0
_DAY = 86_400.0
_MICROSECONDS = 1_000_000


@dataclass(frozen=True, repr=False, eq=False)
class EventTruth(Record):
    """The true (population) values behind :func:`simulate_events`, per user and per arm.

    "Triggered" users are those who click at least once: only they reach the page the
    treatment changes, so only their purchases are affected.

    Attributes
    ----------
    p_trigger : float
        Probability that a user clicks at least once (the same in both arms).
    conversion_control, conversion_treatment : float
        Probability that a user buys: ``p_trigger * p_purchase`` (times ``1 + lift`` in
        treatment).
    revenue_per_user_control, revenue_per_user_treatment : float
        Expected revenue per user: conversion times the mean order value.
    triggered_conversion_control, triggered_conversion_treatment : float
        The same two quantities among triggered users: ``p_purchase`` and
        ``p_purchase * (1 + lift)``.
    triggered_revenue_per_user_control, triggered_revenue_per_user_treatment : float
        Expected revenue per triggered user.
    page_views_per_user : float
        ``sessions_per_user * page_views_per_session``.
    click_through_rate : float
        Clicks per page view, ``p_click``, in both arms (the ratio metric).
    n_control, n_treatment : int
        Users drawn into each arm in this simulation (each is exposed once).
    conversion_effect, revenue_effect, triggered_conversion_effect, triggered_revenue_effect
        Treatment minus control (properties).
    """

    p_trigger: float
    conversion_control: float
    conversion_treatment: float
    revenue_per_user_control: float
    revenue_per_user_treatment: float
    triggered_conversion_control: float
    triggered_conversion_treatment: float
    triggered_revenue_per_user_control: float
    triggered_revenue_per_user_treatment: float
    page_views_per_user: float
    click_through_rate: float
    n_control: int
    n_treatment: int

    @property
    def conversion_effect(self) -> float:
        """True effect on the share of users who buy, treatment minus control."""
        return self.conversion_treatment - self.conversion_control

    @property
    def revenue_effect(self) -> float:
        """True effect on revenue per user, treatment minus control."""
        return self.revenue_per_user_treatment - self.revenue_per_user_control

    @property
    def triggered_conversion_effect(self) -> float:
        """True effect on conversion among triggered users."""
        return self.triggered_conversion_treatment - self.triggered_conversion_control

    @property
    def triggered_revenue_effect(self) -> float:
        """True effect on revenue per triggered user."""
        return self.triggered_revenue_per_user_treatment - self.triggered_revenue_per_user_control

    def explain(self) -> str:
        """The effects, and how dilution maps the triggered effect to all users."""

        def f(value) -> str:
            return format_number(value, 4)

        return "\n".join([
            f"Users: {self.n_control} control, {self.n_treatment} treatment; "
            f"P(trigger) = {f(self.p_trigger)} in both arms",
            f"  conversion: control {f(self.conversion_control)}, treatment "
            f"{f(self.conversion_treatment)}, effect {f(self.conversion_effect)}",
            f"  revenue per user: control {f(self.revenue_per_user_control)}, treatment "
            f"{f(self.revenue_per_user_treatment)}, effect {f(self.revenue_effect)}",
            f"  triggered users: conversion effect {f(self.triggered_conversion_effect)}, "
            f"revenue effect {f(self.triggered_revenue_effect)}",
            "  dilution: effect on all users = P(trigger) * effect on triggered users, e.g. "
            f"{f(self.p_trigger)} * {f(self.triggered_conversion_effect)} = "
            f"{f(self.conversion_effect)}",
        ])


class SimulatedEvents(NamedTuple):
    """An event log (a DataFrame with the columns of the event schema) and its truth."""

    events: pd.DataFrame
    truth: EventTruth


def _check_number(name: str, value, *, above=None, at_least=None, at_most=None) -> float:
    """A single finite number with optional bounds, named in the error."""
    number = check_scalar(name, as_float_array(name, value))
    if above is not None and number <= above:
        raise ValueError(f"{name} must be > {above:g}, got {value!r}")
    if at_least is not None and number < at_least:
        raise ValueError(f"{name} must be >= {at_least:g}, got {value!r}")
    if at_most is not None and number > at_most:
        raise ValueError(f"{name} must be <= {at_most:g}, got {value!r}")
    return number


def _check_timestamp(name: str, value) -> pd.Timestamp:
    """A point in time; without a time zone it is taken as UTC."""
    if not isinstance(value, (str, datetime.date, np.datetime64)):
        raise TypeError(f"{name} must be a date, a datetime or an ISO 8601 string, got {value!r}")
    try:
        stamp = pd.Timestamp(value)
    except ValueError:
        raise ValueError(f"{name} must be a date or time, got {value!r}") from None
    if pd.isna(stamp):
        raise ValueError(f"{name} must be a date or time, got {value!r}")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


#: "00", "01", ..., "99" as bytes. Numbers are written two digits per division.
_DIGIT_PAIRS = np.frombuffer("".join(f"{i:02d}" for i in range(100)).encode(), np.uint8)


def _numbered_strings(prefix: str, numbers: np.ndarray, width: int) -> pd.Series:
    """Strings ``prefix`` + ``numbers`` zero-padded to ``width`` digits, without a Python loop.

    The text is written into one byte buffer, two digits per pass, and handed to Arrow.
    """
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    size = head.size + width
    text = np.empty((numbers.size, size), dtype=np.uint8)
    text[:, : head.size] = head
    pairs = _DIGIT_PAIRS.reshape(100, 2)
    rest = numbers.astype(np.uint64)
    end = size
    while end - head.size >= 2:  # one pass per two digits, not per string
        rest, last_two = np.divmod(rest, 100)
        text[:, end - 2 : end] = pairs[last_two]
        end -= 2
    if end > head.size:
        text[:, end - 1] = rest % 10 + ord("0")
    import pyarrow as pa  # on first use: ``import abteach.simulate`` does not load it

    offsets = np.arange(0, (numbers.size + 1) * size, size, dtype=np.int64)
    array = pa.LargeStringArray.from_buffers(
        numbers.size, pa.py_buffer(offsets), pa.py_buffer(text)
    )
    return array.to_pandas()


def _event_frame(generator, *, experiment, unit_prefix, unit, variant, event_type, revenue,
                 time_us):
    """Assemble an event log, sorted by time, with fresh event ids.

    ``unit`` numbers the units (their ids are ``unit_prefix`` + the zero-padded number);
    ``variant`` and ``event_type`` are integer codes into ``VARIANTS`` and ``EVENT_TYPES``;
    ``time_us`` holds microseconds since the Unix epoch. The event id is the experiment,
    a random token for this batch (so that two simulations never share ids) and a number.
    """
    order = np.argsort(time_us)
    token = f"{int(generator.integers(2**32)):08x}"
    n = order.size
    columns = {
        "event_id": _numbered_strings(f"{experiment}-{token}-", np.arange(n), len(str(n - 1))),
        "unit_id": _numbered_strings(unit_prefix, unit[order], len(str(unit.max()))),
        "experiment": pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), [experiment]),
        "variant": pd.Categorical.from_codes(variant[order], VARIANTS),
        "event_type": pd.Categorical.from_codes(event_type[order], EVENT_TYPES),
        "revenue": revenue[order],
        "timestamp": pd.Series(time_us[order].astype("datetime64[us]")).dt.tz_localize("UTC"),
    }
    return pd.DataFrame(columns)[list(EVENT_COLUMNS)]


def _within_group_position(sizes: np.ndarray) -> np.ndarray:
    """0, 1, ..., size - 1 for each group of consecutive items, all groups concatenated."""
    starts = np.cumsum(sizes) - sizes
    return np.arange(sizes.sum()) - np.repeat(starts, sizes)


def simulate_events(
    n_users,
    *,
    days,
    p_purchase,
    lift,
    revenue_mean,
    revenue_lift=0.0,
    revenue_sigma=1.0,
    sessions_per_user=2.0,
    page_views_per_session=3.0,
    p_click=0.2,
    treatment_share=0.5,
    experiment="checkout",
    start="2024-03-04",
    rng,
) -> SimulatedEvents:
    r"""Simulate the event log of an e-commerce experiment whose true effects are known.

    Each user is assigned to treatment with probability ``treatment_share`` (a seeded
    draw; hash-based assignment is the subject of :mod:`abteach.assignment`), arrives at a
    uniform time during the first ``days`` (minus one hour) and is exposed at that first
    visit. The user makes :math:`S = 1 + \mathrm{Poisson}(\lambda_s)` visits,
    :math:`\lambda_s` = ``sessions_per_user - 1``, the returns at uniform times between
    arrival and the end; each visit has :math:`1 + \mathrm{Poisson}(\lambda_p)` page views,
    :math:`\lambda_p` = ``page_views_per_session - 1``, a minute apart on average; each
    page view is clicked with probability :math:`c` = ``p_click``.

    The treatment changes the page behind a click, so it only acts on *triggered* users,
    those who click at least once. With :math:`g = (1 - c) e^{-\lambda_p c}`, the
    probability of a visit without a click,

    .. math:: P(\text{trigger}) = 1 - g\, e^{-\lambda_s (1 - g)}

    in both arms. A triggered user buys once with probability :math:`p` = ``p_purchase``
    in control and :math:`p (1 + \ell)`, :math:`\ell` = ``lift``, in treatment, a few
    minutes after one of their clicks; the order value is log-normal with mean
    ``revenue_mean`` in control and ``revenue_mean * (1 + revenue_lift)`` in treatment,
    and log-scale standard deviation ``revenue_sigma``. Users who never click never buy.
    Hence, per user, conversion is :math:`P(\text{trigger})\,p_{arm}` and revenue
    :math:`P(\text{trigger})\,p_{arm}\,\mu_{arm}`: the effect on all users is the
    effect on triggered users diluted by :math:`P(\text{trigger})`.

    Parameters
    ----------
    n_users : int
        Users in the experiment (>= 1); the expected number of events may not exceed
        ``MAX_EVENTS``.
    days : int
        Length of the experiment in days (1 to ``MAX_DAYS``).
    p_purchase : float
        Probability, in (0, 1), that a triggered control user buys.
    lift : float
        Relative change of that probability in treatment; ``p_purchase * (1 + lift)``
        must be in (0, 1).
    revenue_mean : float
        Mean order value in control (> 0, at most ``MAX_ORDER_MEAN``).
    revenue_lift : float
        Relative change of the mean order value in treatment (> -1).
    revenue_sigma : float
        Standard deviation of the log order value, in [0, ``MAX_LOG_SD``]; 1 gives a long
        right tail.
    sessions_per_user, page_views_per_session : float
        Mean visits per user and page views per visit (each >= 1). The SQL of
        :mod:`abteach.events` counts sessions by 30-minute gaps, so two visits less than
        30 minutes apart count as one session there.
    p_click : float
        Probability, in (0, 1), that a page view is clicked.
    treatment_share : float
        Probability, in (0, 1), that a user is in treatment.
    experiment : str
        Name written in the ``experiment`` column.
    start : str, datetime or date
        Start of the experiment (UTC when no time zone is given); the experiment must lie
        within the plausible times of :mod:`abteach.events` (1970 to 2099).
    rng : numpy.random.Generator or int
        Source of randomness; an integer is used as a seed.

    Returns
    -------
    SimulatedEvents
        ``events``: a DataFrame with the columns of :data:`abteach.events.EVENT_SCHEMA`,
        sorted by time (categorical ``experiment``, ``variant`` and ``event_type``, UTC
        timestamps, NaN revenue outside purchases); ``truth``: an :class:`EventTruth`.
        Everything is drawn with whole-array numpy operations: about 8 events per user,
        and 10 million events (1.2 million users) take a few seconds.

    References
    ----------
    Kohavi, Tang & Xu (2020), *Trustworthy Online Controlled Experiments*, ch. 20
    (triggering and dilution). Deng & Hu (2015), Diluted treatment effect estimation for
    trigger analysis in online controlled experiments, *WSDM*.

    Examples
    --------
    >>> events, truth = simulate_events(1000, days=7, p_purchase=0.2, lift=0.1,
    ...                                 revenue_mean=50.0, rng=1)
    >>> list(events.columns)
    ['event_id', 'unit_id', 'experiment', 'variant', 'event_type', 'revenue', 'timestamp']
    >>> round(truth.p_trigger, 4)
    0.6627
    """
    n = check_int("n_users", n_users, minimum=1)
    n_days = check_int("days", days, minimum=1)
    if n_days > MAX_DAYS:
        raise ValueError(f"days must be <= {MAX_DAYS}, got {days!r}")
    p_c = check_scalar("p_purchase", check_open_unit("p_purchase", p_purchase))
    relative = _check_number("lift", lift, above=-1.0)
    p_t = p_c * (1 + relative)
    if p_t >= 1:
        raise ValueError(
            "lift must keep the treatment purchase probability p_purchase * (1 + lift) "
            f"below 1, got lift = {lift!r} (p_purchase * (1 + lift) = {p_t:.6g})"
        )
    mean_c = _check_number("revenue_mean", revenue_mean, above=0.0, at_most=MAX_ORDER_MEAN)
    mean_t = mean_c * (1 + _check_number("revenue_lift", revenue_lift, above=-1.0))
    if mean_t > MAX_ORDER_MEAN:
        raise ValueError(
            f"revenue_lift must keep revenue_mean * (1 + revenue_lift) <= {MAX_ORDER_MEAN:g}, "
            f"got revenue_lift = {revenue_lift!r}"
        )
    sigma = _check_number("revenue_sigma", revenue_sigma, at_least=0.0, at_most=MAX_LOG_SD)
    extra_sessions = _check_number("sessions_per_user", sessions_per_user, at_least=1.0) - 1
    extra_views = _check_number("page_views_per_session", page_views_per_session, at_least=1.0) - 1
    click = check_scalar("p_click", check_open_unit("p_click", p_click))
    expected = n * (1 + (1 + extra_sessions) * (1 + extra_views) * (1 + click))
    if expected > MAX_EVENTS:
        raise ValueError(
            "n_users, sessions_per_user and page_views_per_session ask for about "
            f"{expected:.3g} events, more than MAX_EVENTS = {MAX_EVENTS:,}"
        )
    share = check_scalar("treatment_share", check_open_unit("treatment_share", treatment_share))
    name = _check_experiment(experiment)
    origin = _check_timestamp("start", start)
    if not pd.Timestamp(EARLIEST_TIMESTAMP, tz="UTC") <= origin <= (
            pd.Timestamp(LATEST_TIMESTAMP, tz="UTC") - pd.Timedelta(days=n_days)):
        raise ValueError(
            f"start must leave the {n_days} days of the experiment between {EARLIEST_TIMESTAMP} "
            f"and {LATEST_TIMESTAMP} UTC (the plausible times of abteach.events), got {start!r}"
        )
    generator = as_generator(rng)

    # users: arm, arrival (= exposure), number of visits
    treated = generator.random(n) < share
    end = n_days * _DAY
    last_start = end - LAST_SESSION_START_SECONDS
    arrival = generator.random(n) * last_start
    visits = 1 + generator.poisson(extra_sessions, n)
    # visits: the first at arrival, returns uniform between arrival and the last start
    session_user = np.repeat(np.arange(n), visits)
    returning = _within_group_position(visits) > 0
    session_start = arrival[session_user] + returning * generator.random(session_user.size) * (
        last_start - arrival[session_user]
    )
    # page views, a minute apart on average within a visit
    views = 1 + generator.poisson(extra_views, session_user.size)
    view_session = np.repeat(np.arange(session_user.size), views)
    gaps = generator.exponential(SECONDS_BETWEEN_PAGE_VIEWS, view_session.size)
    elapsed = np.cumsum(gaps)
    first_view = np.cumsum(views) - views
    elapsed -= np.repeat(elapsed[first_view] - gaps[first_view], views)
    view_time = session_start[view_session] + elapsed
    view_user = session_user[view_session]
    # clicks (the trigger), then at most one purchase per triggered user
    clicked = generator.random(view_time.size) < click
    click_user = view_user[clicked]
    click_time = view_time[clicked] + generator.exponential(SECONDS_TO_CLICK, click_user.size)
    clicks = np.bincount(click_user, minlength=n)
    buys = (clicks > 0) & (generator.random(n) < np.where(treated, p_t, p_c))
    buyers = np.flatnonzero(buys)
    chosen = (np.cumsum(clicks) - clicks)[buyers] + (
        generator.random(buyers.size) * clicks[buyers]
    ).astype(np.int64)
    buy_time = click_time[chosen] + generator.exponential(SECONDS_TO_PURCHASE, buyers.size)
    mean = np.where(treated[buyers], mean_t, mean_c)
    order_value = generator.lognormal(np.log(mean) - sigma**2 / 2, sigma)

    user = np.concatenate([np.arange(n), view_user, click_user, buyers])
    kind = np.repeat(np.arange(4, dtype=np.int8), [n, view_user.size, click_user.size, buyers.size])
    seconds = np.minimum(np.concatenate([arrival, view_time, click_time, buy_time]), end - 1e-6)
    revenue = np.full(user.size, np.nan)
    revenue[user.size - buyers.size:] = order_value
    events = _event_frame(
        generator,
        experiment=name,
        unit_prefix="u",
        unit=user,
        variant=treated[user].astype(np.int8),
        event_type=kind,
        revenue=revenue,
        time_us=origin.value // 1000 + np.round(seconds * _MICROSECONDS).astype(np.int64),
    )

    no_click_visit = (1 - click) * np.exp(-extra_views * click)
    p_trigger = 1 - no_click_visit * np.exp(-extra_sessions * (1 - no_click_visit))
    n_treatment = int(treated.sum())
    truth = EventTruth(
        p_trigger=float(p_trigger),
        conversion_control=float(p_trigger * p_c),
        conversion_treatment=float(p_trigger * p_t),
        revenue_per_user_control=float(p_trigger * p_c * mean_c),
        revenue_per_user_treatment=float(p_trigger * p_t * mean_t),
        triggered_conversion_control=p_c,
        triggered_conversion_treatment=p_t,
        triggered_revenue_per_user_control=p_c * mean_c,
        triggered_revenue_per_user_treatment=p_t * mean_t,
        page_views_per_user=(1 + extra_sessions) * (1 + extra_views),
        click_through_rate=click,
        n_control=n - n_treatment,
        n_treatment=n_treatment,
    )
    return SimulatedEvents(events, truth)


def _check_experiment(experiment) -> str:
    if not isinstance(experiment, str):
        raise TypeError(f"experiment must be a str, got {experiment!r}")
    if not experiment:
        raise ValueError("experiment must not be empty, got ''")
    return experiment
