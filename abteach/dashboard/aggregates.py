r"""The table a dashboard reads: per-day sufficient statistics, a seeded demo, and its check.

For each experiment, metric, segment, variant and day the table of :func:`daily_aggregates`
holds the number of units :math:`n`, the sum :math:`S` of the metric and the sum of squares
:math:`Q`: sums add up, so the cumulative statistics as of day :math:`d` are running sums.
:func:`demo_users` and :func:`demo_aggregates` draw a seeded demo of three experiments.
Every dashboard function checks its table once, with the same rules (``_check_aggregates``).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from abteach._validate import as_generator, check_int

#: Columns of the tidy table of :func:`daily_aggregates`, in order.
AGGREGATE_COLUMNS = ("experiment", "metric", "segment", "variant", "day", "n", "sum", "sum_sq")
#: The segment that stands for every unit (the sum over the segments).
ALL_SEGMENTS = "all"
VARIANTS = ("control", "treatment")
#: Label columns of the table (text), and its count and sums.
LABEL_COLUMNS = ("experiment", "metric", "segment", "variant")
#: Longest experiment a table may describe, in days (ten years). Beyond it the day grids and
#: the dashboard's slider would grow without bound.
MAX_DAYS = 3650
#: Largest unit count of one row. More than there are people, and small enough that running
#: sums over ``MAX_DAYS`` days stay exact in 64-bit integers.
MAX_UNITS = 10**12
#: Largest sum or sum of squares of one row, so that running sums stay finite.
MAX_SUM = 1e250
#: Largest size of a metric value in :func:`daily_aggregates`. Squares summed over
#: ``MAX_UNITS`` units stay below ``MAX_SUM``.
MAX_METRIC_VALUE = 1e100

# --------------------------------------------------------------------------------------------
# The tidy table
# --------------------------------------------------------------------------------------------


def _check_frame(name: str, value, columns) -> pd.DataFrame:
    """A DataFrame holding ``columns`` once each; the error lists the columns it does have."""
    if not isinstance(value, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(value).__name__}")
    duplicated = value.columns[value.columns.duplicated()]
    if len(duplicated):
        raise ValueError(f"{name} has the column {duplicated[0]!r} more than once")
    missing = [c for c in columns if c not in value.columns]
    if missing:
        raise ValueError(
            f"{name} lacks the column(s) {', '.join(map(repr, missing))}; it has "
            f"{', '.join(map(repr, map(str, value.columns)))}"
        )
    if value.empty:
        raise ValueError(f"{name} must not be empty")
    return value


def _check_values(name: str, values: pd.Series, allowed) -> None:
    """Every entry of a label column is one of ``allowed``."""
    bad = ~values.isin(allowed)
    if bad.any():
        options = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name} must be one of {options}, got {values[bad].iloc[0]!r}")


def _day_numbers(users: pd.DataFrame, day: str) -> np.ndarray:
    """Day numbers from 1: integers as given, timestamps counted from each experiment's first."""
    column = users[day]
    if pd.api.types.is_datetime64_any_dtype(column):
        if column.isna().any():
            raise ValueError(f"users[{day!r}] must not contain missing timestamps")
        dates = column.dt.floor("D")
        first = dates.groupby(users["experiment"], observed=True).transform("min")
        return ((dates - first).dt.days + 1).to_numpy(np.int64)
    values = column.to_numpy()
    if not (np.issubdtype(values.dtype, np.integer) and not np.issubdtype(values.dtype, bool)):
        raise TypeError(
            f"users[{day!r}] must hold integer day numbers or timestamps, got dtype {column.dtype}"
        )
    if (values < 1).any():
        raise ValueError(f"users[{day!r}] must be >= 1, got {int(values[values < 1][0])!r}")
    return values.astype(np.int64)


def _check_last_day(users: pd.DataFrame, day: str, days: np.ndarray) -> None:
    """At most :data:`MAX_DAYS` days: the table has a row for every day up to the last."""
    if days.max() > MAX_DAYS:
        raise ValueError(
            f"users[{day!r}] must stay within {MAX_DAYS:,} days of the first, got day "
            f"{int(days.max()):,} ({users[day].iloc[int(days.argmax())]!r})"
        )


def daily_aggregates(users, *, metrics, segment=None, day: str = "day") -> pd.DataFrame:
    r"""Per-day sufficient statistics of per-unit metrics: the table a dashboard reads.

    For every experiment, metric, segment, variant and day :math:`d`, the units whose first
    exposure fell on day :math:`d` give :math:`n`, :math:`S = \sum y` and
    :math:`Q = \sum y^2`. Every day from 1 to the experiment's last day appears for every
    metric, segment and variant (with zeros where nobody arrived), so that running sums are
    the cumulative statistics.

    Parameters
    ----------
    users : pandas.DataFrame
        One row per unit, with columns ``experiment``, ``variant`` ("control" or
        "treatment"), the day column and the metric columns, e.g.
        ``EventStore.metrics("users")`` with ``day="exposed_at"``, or :func:`demo_users`.
    metrics : sequence of str
        Numeric metric columns to aggregate (finite values, at most ``MAX_METRIC_VALUE``
        in size).
    segment : str, optional
        Column holding each unit's segment (platform, country, ...). Default: no segments,
        every unit in segment ``"all"``.
    day : str
        Column of the day of first exposure: integer day numbers (>= 1) or timestamps (then
        day 1 is the experiment's first calendar day).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`AGGREGATE_COLUMNS`, sorted by experiment, metric, segment, variant,
        day; ``n`` is an integer, ``sum`` and ``sum_sq`` floats.

    Examples
    --------
    >>> import pandas as pd
    >>> users = pd.DataFrame({"experiment": "e", "variant": ["control", "treatment"] * 2,
    ...                       "day": [1, 1, 2, 2], "clicks": [1.0, 2.0, 3.0, 4.0]})
    >>> daily_aggregates(users, metrics=["clicks"])[["variant", "day", "n", "sum", "sum_sq"]]
         variant  day  n  sum  sum_sq
    0    control    1  1  1.0     1.0
    1    control    2  1  3.0     9.0
    2  treatment    1  1  2.0     4.0
    3  treatment    2  1  4.0    16.0
    """
    names = None
    if not isinstance(metrics, str) and isinstance(metrics, Iterable):
        try:
            names = list(metrics)
        except TypeError:  # a 0-d numpy array is Iterable but cannot be iterated
            names = None
    if names is None or not all(isinstance(m, str) for m in names):
        raise TypeError(f"metrics must be a sequence of column names, got {metrics!r}")
    metrics = list(dict.fromkeys(names))
    if not metrics:
        raise ValueError("metrics must name at least one column, got an empty sequence")
    if segment is not None and not isinstance(segment, str):
        raise TypeError(f"segment must be a column name or None, got {segment!r}")
    if not isinstance(day, str):
        raise TypeError(f"day must be a column name, got {day!r}")
    users = _check_frame("users", users, ["experiment", "variant"])
    for argument, columns in (("day", [day]), ("segment", [segment] if segment else []),
                              ("metrics", metrics)):
        missing = [c for c in columns if c not in users.columns]
        if missing:
            raise ValueError(
                f"{argument} name{'s' if argument != 'metrics' else ''} column(s) "
                f"{', '.join(map(repr, missing))} that users lacks; it has "
                f"{', '.join(map(repr, map(str, users.columns)))}"
            )
    for label in ["experiment", "variant"] + ([segment] if segment else []):
        missing = users[label].isna().to_numpy()
        if missing.any():
            raise ValueError(f"users[{label!r}] must not contain missing values, got "
                             f"{users[label].iloc[int(missing.argmax())]!r} "
                             f"(row {users.index[int(missing.argmax())]!r})")
    _check_values("users['variant']", users["variant"].astype(str), VARIANTS)
    for metric in metrics:
        values = users[metric]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            raise TypeError(f"metric column {metric!r} must be numeric, got dtype {values.dtype}")
        finite = np.isfinite(values.to_numpy(float))
        if not finite.all():
            raise ValueError(
                f"metric column {metric!r} must be finite, got {float(values[~finite].iloc[0])!r}"
            )
        huge = np.abs(values.to_numpy(float)) > MAX_METRIC_VALUE
        if huge.any():
            raise ValueError(
                f"metric column {metric!r} must hold values of at most {MAX_METRIC_VALUE:g} in "
                f"size (their squares are summed), got {float(values[huge].iloc[0])!r}"
            )

    frame = pd.DataFrame({
        "experiment": users["experiment"].astype(str).to_numpy(),
        "segment": users[segment].astype(str).to_numpy() if segment else ALL_SEGMENTS,
        "variant": users["variant"].astype(str).to_numpy(),
        "day": _day_numbers(users, day),
    })
    _check_last_day(users, day, frame["day"].to_numpy())
    if segment and (frame["segment"] == ALL_SEGMENTS).any():
        raise ValueError(f"users[{segment!r}] must not use the reserved segment name 'all'")
    values = users[metrics].to_numpy(float)
    sums = pd.DataFrame(values, columns=metrics).assign(**{c: frame[c] for c in frame})
    squares = pd.DataFrame(values**2, columns=metrics).assign(**{c: frame[c] for c in frame})
    group = ["experiment", "segment", "variant", "day"]
    stacked = pd.concat(
        {
            "sum": sums.groupby(group).sum().stack(),
            "sum_sq": squares.groupby(group).sum().stack(),
        },
        axis=1,
    )
    stacked["n"] = frame.groupby(group).size().reindex(stacked.index.droplevel(-1)).to_numpy()
    stacked.index = stacked.index.set_names("metric", level=-1)

    # The full grid: every day 1..last of each experiment, for every metric, segment, variant.
    last_day = frame.groupby("experiment")["day"].max()
    segments = sorted(frame["segment"].unique())
    grid = pd.MultiIndex.from_frame(pd.DataFrame([
        (experiment, segment_name, variant, d, metric)
        for experiment, days in last_day.items()
        for segment_name in segments
        for variant in VARIANTS
        for d in range(1, days + 1)
        for metric in metrics
    ], columns=[*group, "metric"]))
    full = stacked.reindex(grid, fill_value=0).reset_index()
    full["n"] = full["n"].astype(np.int64)
    full[["sum", "sum_sq"]] = full[["sum", "sum_sq"]].astype(float)
    return (
        full[list(AGGREGATE_COLUMNS)]
        .sort_values(list(AGGREGATE_COLUMNS[:5]))
        .reset_index(drop=True)
    )


# --------------------------------------------------------------------------------------------
# A seeded demo
# --------------------------------------------------------------------------------------------

#: Experiments of the demo. Name, base conversion, relative conversion lift, relative lift of
#: sessions, and the share of one-session iOS treatment users lost by a logging bug.
DEMO_EXPERIMENTS = (
    ("checkout_redesign", 0.05, 0.12, 0.00, 0.0),
    ("recommendations_v2", 0.05, 0.00, 0.00, 0.0),
    ("search_ranking", 0.05, 0.00, 0.00, 0.9),
)
DEMO_SEGMENTS = ("desktop", "android", "ios")
DEMO_SEGMENT_SHARES = (0.5, 0.3, 0.2)
DEMO_METRICS = ("conversion", "revenue_per_user", "sessions_per_user")
DEMO_USERS_PER_DAY = 4000
DEMO_ORDER_MEAN = 60.0
DEMO_BUG_FROM_DAY = 4


def demo_users(*, rng, days: int = 14) -> pd.DataFrame:
    r"""Per-user data of three seeded 50/50 experiments, for the dashboard demo.

    Each experiment gets Poisson(``DEMO_USERS_PER_DAY``) new users a day, on desktop,
    android and ios (shares 0.5, 0.3, 0.2). A user makes :math:`1 + \mathrm{Poisson}(1.5)`
    sessions, converts with probability :math:`p (1 + \ell)` in treatment (:math:`p` = 0.05
    in control) and, if converting, spends a log-normal amount with mean 60 (log-scale sd 1).
    The experiments (``DEMO_EXPERIMENTS``):

    * ``checkout_redesign``: conversion +12% relative, revenue per user with it;
    * ``recommendations_v2``: no effect at all;
    * ``search_ranking``: no effect, but from day 4 on a bug loses 90% of the iOS treatment
      users with a single session before their exposure is logged: a sample ratio mismatch,
      and (since those users convert less) a spurious gain on the surviving treatment users.

    Parameters
    ----------
    rng : numpy.random.Generator or int
        Source of randomness; an integer is a seed.
    days : int
        Length of the experiments, 7 to 28 days.

    Returns
    -------
    pandas.DataFrame
        One row per logged user: ``experiment``, ``segment``, ``variant``, ``day`` and the
        metrics ``conversion`` (0/1), ``revenue_per_user`` and ``sessions_per_user``.
    """
    generator = as_generator(rng)
    days = check_int("days", days, minimum=7)
    if days > 28:
        raise ValueError(f"days must be <= 28, got {days!r}")
    names, base, lift, session_lift, loss = (np.array(c) for c in zip(*DEMO_EXPERIMENTS))
    arrivals = generator.poisson(DEMO_USERS_PER_DAY, size=(len(names), days))
    experiment = np.repeat(np.repeat(np.arange(len(names)), days), arrivals.ravel())
    day = np.repeat(np.tile(np.arange(1, days + 1), len(names)), arrivals.ravel())
    size = experiment.size
    segment = generator.choice(len(DEMO_SEGMENTS), size=size, p=DEMO_SEGMENT_SHARES)
    treated = generator.random(size) < 0.5
    sessions = 1 + generator.poisson(1.5 * (1 + session_lift[experiment] * treated))
    # Users with more sessions convert more often: p scales with sessions / 2.5 (mean 1).
    p = base[experiment] * (1 + lift[experiment] * treated) * sessions / 2.5
    converted = generator.random(size) < np.minimum(p, 1.0)
    order = generator.lognormal(np.log(DEMO_ORDER_MEAN) - 0.5, 1.0, size=size)
    lost = (
        treated & (segment == DEMO_SEGMENTS.index("ios")) & (sessions == 1)
        & (day >= DEMO_BUG_FROM_DAY) & (generator.random(size) < loss[experiment])
    )
    keep = ~lost
    return pd.DataFrame({
        "experiment": names[experiment][keep],
        "segment": np.array(DEMO_SEGMENTS)[segment][keep],
        "variant": np.where(treated, "treatment", "control")[keep],
        "day": day[keep],
        "conversion": converted[keep].astype(float),
        "revenue_per_user": np.where(converted, np.round(order, 2), 0.0)[keep],
        "sessions_per_user": sessions[keep].astype(float),
    })


def demo_aggregates(*, rng, days: int = 14) -> pd.DataFrame:
    """The tidy per-day table of :func:`demo_users`: ``daily_aggregates`` of its metrics by
    segment (see :func:`demo_users` for the three experiments)."""
    return daily_aggregates(
        demo_users(rng=rng, days=days), metrics=DEMO_METRICS, segment="segment"
    )


# --------------------------------------------------------------------------------------------
# The check every dashboard function runs on its table
# --------------------------------------------------------------------------------------------


def _first_bad_value(name: str, column: pd.Series, bad: np.ndarray, what: str) -> ValueError:
    """The error for the first flagged entry of ``aggregates[name]``, quoting it and its row."""
    position = int(np.flatnonzero(bad)[0])
    value = column.iloc[position]
    value = value.item() if isinstance(value, np.generic) else value
    return ValueError(
        f"aggregates[{name!r}] must hold {what}, got {value!r} (row {column.index[position]!r})"
    )


def _numbers(name: str, column: pd.Series, *, what: str, whole: bool, low: float,
             high: float) -> np.ndarray:
    """A numeric column as float64: numbers in [low, high], whole when ``whole``."""
    if pd.api.types.is_bool_dtype(column):
        raise _first_bad_value(name, column, np.ones(len(column), bool), what)
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values) | (values < low) | (values > high)
        if whole:
            bad |= values != np.round(values)
    # a bool or text entry in an object column converts to a number: refuse it as well
    if column.dtype == object:
        bad |= column.map(lambda v: isinstance(v, (bool, np.bool_, str, bytes))).to_numpy(bool)
    if bad.any():
        raise _first_bad_value(name, column, bad, what)
    return values


_UNDERFLOW = np.sqrt(np.finfo(float).tiny)  # about 1.5e-154


def _check_sums(frame: pd.DataFrame, checked: pd.DataFrame) -> None:
    r"""Sums that some values can have: :math:`S^2 \le n Q` (Cauchy-Schwarz), so no unit
    means no sums, and a sum cannot be larger than the sum of squares allows."""
    n, s, q = (checked[name].to_numpy(float) for name in ("n", "sum", "sum_sq"))
    # values below 1e-154 in size have squares that underflow to 0: allow for them
    bad = np.abs(s) > np.sqrt(n * q) * (1 + 1e-9) + n * _UNDERFLOW
    bad |= (n == 0) & (q != 0)
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"aggregates row {frame.index[position]!r} has n = {n[position]:g}, sum = "
            f"{s[position]!r}, sum_sq = {q[position]!r}: no values have these sums "
            "(sum^2 <= n * sum_sq for any n values)"
        )


def _check_aggregates(aggregates) -> pd.DataFrame:
    """The table of :func:`daily_aggregates`, checked once for every dashboard function.

    Returns a clean copy: the columns of :data:`AGGREGATE_COLUMNS` only, labels as text,
    ``day`` and ``n`` as int64, ``sum`` and ``sum_sq`` as float64. A malformed table raises
    a ValueError (a TypeError if it is not a DataFrame) that names the column and quotes the
    first bad value: a missing or duplicated column, a missing or non-text label, a variant
    other than control and treatment, an experiment without one of the arms, a day that is
    not a whole number from 1 to :data:`MAX_DAYS`, a count that is not a whole number from 0
    to :data:`MAX_UNITS`, a sum that is not finite (or above :data:`MAX_SUM`), a negative sum
    of squares, sums that no values can have, or the reserved segment ``"all"`` beside
    other segments.
    """
    frame = _check_frame("aggregates", aggregates, AGGREGATE_COLUMNS)
    table = {}
    for name in LABEL_COLUMNS:
        column = frame[name]
        text = column.map(lambda v: isinstance(v, str) and v != "").to_numpy(bool)
        if not text.all():
            raise _first_bad_value(name, column, ~text, "non-empty text")
        table[name] = column.astype(str).to_numpy()
    _check_values("aggregates['variant']", pd.Series(table["variant"]), VARIANTS)
    table["day"] = _numbers("day", frame["day"], whole=True, low=1, high=MAX_DAYS,
                            what=f"whole numbers from 1 to {MAX_DAYS:,}")
    table["n"] = _numbers("n", frame["n"], whole=True, low=0, high=MAX_UNITS,
                          what=f"whole numbers from 0 to {MAX_UNITS:,}")
    table["sum"] = _numbers("sum", frame["sum"], whole=False, low=-MAX_SUM, high=MAX_SUM,
                            what=f"finite numbers of at most {MAX_SUM:g} in size")
    table["sum_sq"] = _numbers("sum_sq", frame["sum_sq"], whole=False, low=0, high=MAX_SUM,
                               what=f"finite numbers from 0 to {MAX_SUM:g}")
    checked = pd.DataFrame(table, index=frame.index)[list(AGGREGATE_COLUMNS)].astype(
        {"day": np.int64, "n": np.int64})
    _check_sums(frame, checked)
    arms = checked.groupby("experiment")["variant"].agg(lambda v: set(v))
    for experiment, present in arms.items():
        if present != set(VARIANTS):
            missing = min(set(VARIANTS) - present)
            raise ValueError(
                f"aggregates has no {missing!r} rows for experiment {experiment!r}: "
                "a dashboard compares both arms"
            )
    segments = set(checked["segment"])
    if ALL_SEGMENTS in segments and len(segments) > 1:
        raise ValueError(
            f"aggregates['segment'] uses the reserved name {ALL_SEGMENTS!r} beside other "
            f"segments ({', '.join(map(repr, sorted(segments - {ALL_SEGMENTS})))}): 'all' is "
            "the sum over the segments, computed by the dashboard"
        )
    return checked.reset_index(drop=True)
