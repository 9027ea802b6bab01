r"""Experiment dashboards: per-day sufficient statistics, cumulative analyses, two dashboards.

A team running an experiment looks at it every day: is the split healthy (the sample ratio
mismatch check first), and what do the key metrics say so far, overall and per segment? A
dashboard answers both from a small table of **sufficient statistics**: for each experiment,
metric, segment, variant and day, the number of units :math:`n`, the sum :math:`S` of the
metric and the sum of squares :math:`Q`. Sums add up, so the cumulative statistics as of
day :math:`d` are running sums, and everything a test needs follows from them:

.. math:: \bar y = S / n, \qquad s^2 = \frac{Q - S^2 / n}{n - 1}.

A 0/1 metric (conversion) has :math:`Q = S` and is tested with the two-proportion z-test
(:func:`abteach.inference.ztest_proportions`, x = S successes of n); any other metric with Welch's
t-test from the means and standard deviations (:func:`abteach.inference.welch_ttest_from_stats`).
The arm sizes go through :func:`abteach.srm.srm_test`.

==========================  ==================================================================
function                    what it gives
==========================  ==================================================================
:func:`daily_aggregates`    the tidy table (experiment, metric, segment, variant, day, n, sum,
                            sum_sq) from a per-unit table, e.g. ``EventStore.metrics("users")``
:func:`demo_users`,         a seeded demo: three experiments, three metrics, three platforms,
:func:`demo_aggregates`     14 days (one ships, one shows nothing, one has an SRM)
:func:`analyse`             the cumulative test of one experiment, metric and segment as of a
                            day, with its SRM check (a :class:`DashboardAnalysis`)
:func:`cumulative_effects`  the same for every selection and every day, vectorised
:func:`static_dashboard`    one plotly figure with a dropdown (experiment) and a slider (day)
                            that stays interactive on a static web page
:func:`live_dashboard`      ipywidgets controls that recompute :func:`analyse` (needs a kernel)
==========================  ==================================================================

Days are numbered from 1 (the first day of the experiment). A unit belongs to the day of its
first exposure, and its metric values are those measured at the end of the data: the
cumulative analysis "as of day d" covers the units that entered by day d. Segment ``"all"``
is the sum over the segments.

References
----------
Kohavi, R., Tang, D. & Xu, Y. (2020), *Trustworthy Online Controlled Experiments*,
Cambridge University Press, ch. 6-7 (metrics, the overall evaluation criterion and
guardrails), ch. 21 (sample ratio mismatch and other trust checks).
Fabijan, A., Dmitriev, P., Holmström Olsson, H. & Bosch, J. (2018), Effective online
controlled experiment analysis at large scale, *SEAA 2018* (the scorecard and its analysis).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from abteach._records import Record, format_number
from abteach._validate import as_generator, check_alpha, check_choice, check_int
from abteach.inference import (
    MeansTTest,
    ProportionsZTest,
    welch_ttest_from_stats,
    ztest_proportions,
)
from abteach.srm import DEFAULT_THRESHOLD, SRMTest, srm_test
from abteach.viz import COLORS, SERIES_COLORS, TEMPLATE

__all__ = [
    "AGGREGATE_COLUMNS",
    "ALL_SEGMENTS",
    "DashboardAnalysis",
    "LiveDashboard",
    "analyse",
    "cumulative_effects",
    "daily_aggregates",
    "demo_aggregates",
    "demo_users",
    "live_dashboard",
    "static_dashboard",
]

#: Columns of the tidy table of :func:`daily_aggregates`, in order.
AGGREGATE_COLUMNS = ("experiment", "metric", "segment", "variant", "day", "n", "sum", "sum_sq")
#: The segment that stands for every unit (the sum over the segments).
ALL_SEGMENTS = "all"
VARIANTS = ("control", "treatment")
TESTS = ("auto", "proportions", "welch")
_KEYS = ["experiment", "metric", "segment"]

# --------------------------------------------------------------------------------------------
# The tidy table
# --------------------------------------------------------------------------------------------


def _check_frame(name: str, value, columns) -> pd.DataFrame:
    """A DataFrame holding ``columns``; the error lists the columns it does have."""
    if not isinstance(value, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(value).__name__}")
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
        Numeric metric columns to aggregate (finite values).
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
    >>> users = pd.DataFrame({"experiment": "e", "variant": ["control", "treatment"] * 2,
    ...                       "day": [1, 1, 2, 2], "clicks": [1.0, 2.0, 3.0, 4.0]})
    >>> daily_aggregates(users, metrics=["clicks"])[["variant", "day", "n", "sum", "sum_sq"]]
         variant  day  n  sum  sum_sq
    0    control    1  1  1.0     1.0
    1    control    2  1  3.0     9.0
    2  treatment    1  1  2.0     4.0
    3  treatment    2  1  4.0    16.0
    """
    if isinstance(metrics, str) or not all(isinstance(m, str) for m in metrics):
        raise TypeError(f"metrics must be a sequence of column names, got {metrics!r}")
    metrics = list(dict.fromkeys(metrics))
    if not metrics:
        raise ValueError("metrics must name at least one column, got an empty sequence")
    if segment is not None and not isinstance(segment, str):
        raise TypeError(f"segment must be a column name or None, got {segment!r}")
    if not isinstance(day, str):
        raise TypeError(f"day must be a column name, got {day!r}")
    needed = ["experiment", "variant", day, *metrics] + ([segment] if segment else [])
    users = _check_frame("users", users, needed)
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

    frame = pd.DataFrame({
        "experiment": users["experiment"].astype(str).to_numpy(),
        "segment": users[segment].astype(str).to_numpy() if segment else ALL_SEGMENTS,
        "variant": users["variant"].astype(str).to_numpy(),
        "day": _day_numbers(users, day),
    })
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

#: Experiments of the demo: name, base conversion, relative conversion lift, relative lift of
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
# Cumulative analyses
# --------------------------------------------------------------------------------------------


def _check_aggregates(aggregates) -> pd.DataFrame:
    frame = _check_frame("aggregates", aggregates, AGGREGATE_COLUMNS)
    _check_values("aggregates['variant']", frame["variant"], VARIANTS)
    return frame


def _binary_metrics(frame: pd.DataFrame) -> set:
    """Metrics whose every unit is 0 or 1: sum == sum_sq on every row (exact for counts)."""
    flags = (frame["sum"] == frame["sum_sq"]).groupby(frame["metric"]).all()
    return set(flags.index[flags.to_numpy()])


def _cumulative_arms(frame: pd.DataFrame) -> pd.DataFrame:
    """Running sums by day, segment "all" added, the two variants side by side.

    Rows (experiment, metric, segment, day); columns (statistic, variant). Days before both
    arms hold two units are dropped: no test is defined there.
    """
    everything = frame.groupby(["experiment", "metric", "variant", "day"], as_index=False)[
        ["n", "sum", "sum_sq"]
    ].sum()
    segments = frame if (frame["segment"] == ALL_SEGMENTS).all() else pd.concat(
        [frame, everything.assign(segment=ALL_SEGMENTS)], ignore_index=True
    )
    wide = segments.pivot_table(
        index=[*_KEYS, "day"], columns="variant", values=["n", "sum", "sum_sq"],
        aggfunc="sum", fill_value=0, observed=True,
    ).sort_index()
    cumulative = wide.groupby(level=_KEYS, observed=True).cumsum()
    enough = (cumulative["n"][list(VARIANTS)] >= 2).all(axis=1)
    return cumulative[enough]


def _arm_moments(n, s, ss):
    """Mean and standard deviation (n - 1 divisor) from n, sum and sum of squares."""
    mean = s / n
    variance = np.maximum(ss - s * mean, 0.0) / (n - 1)
    return mean, np.sqrt(variance)


def _test(n_c, s_c, ss_c, n_t, s_t, ss_t, proportions: bool, alpha: float):
    """The abteach test of one metric from the arms' sums (scalars or arrays)."""
    if proportions:
        return ztest_proportions(s_c, n_c, s_t, n_t, alpha=alpha)
    m_c, sd_c = _arm_moments(n_c, s_c, ss_c)
    m_t, sd_t = _arm_moments(n_t, s_t, ss_t)
    return welch_ttest_from_stats(m_c, sd_c, n_c, m_t, sd_t, n_t, alpha=alpha)


def _uses_proportions(test: str, metric: str, binary: set) -> bool:
    if test == "proportions" and metric not in binary:
        raise ValueError(
            f"test='proportions' needs a 0/1 metric, and {metric!r} is not one "
            "(sum != sum_sq on some row)"
        )
    return test == "proportions" or (test == "auto" and metric in binary)


@dataclass(frozen=True, repr=False, eq=False)
class DashboardAnalysis(Record):
    """Result of :func:`analyse`: the cumulative test of one selection as of ``day``.

    ``result`` is the full :class:`~abteach.inference.ProportionsZTest` or
    :class:`~abteach.inference.MeansTTest` and ``srm`` the :class:`~abteach.srm.SRMTest` of the arm sizes;
    the other fields copy their main numbers (treatment minus control; lifts are relative).
    """

    experiment: str
    metric: str
    segment: str
    day: int
    test: str
    n_control: int
    n_treatment: int
    mean_control: float
    mean_treatment: float
    effect: float
    ci_low: float
    ci_high: float
    pvalue: float
    lift: float
    lift_ci_low: float
    lift_ci_high: float
    srm_pvalue: float
    srm_mismatch: bool
    result: ProportionsZTest | MeansTTest = field(repr=False)
    srm: SRMTest = field(repr=False)

    def summary(self) -> str:
        """One line: the selection, the lift with its interval, the p-value, the SRM check."""
        level = format_number(100 * (1 - self.result.alpha), 4)
        srm = "SRM!" if self.srm_mismatch else "split ok"
        return (
            f"{self.experiment} / {self.metric} / {self.segment}, day {self.day}: lift "
            f"{100 * self.lift:+.2f}% ({level}% CI {100 * self.lift_ci_low:+.2f}% to "
            f"{100 * self.lift_ci_high:+.2f}%), p = {self.pvalue:.4f}; "
            f"SRM p = {self.srm_pvalue:.2g} ({srm})"
        )

    def explain(self) -> str:
        """The selection, the test's derivation and the SRM check's, numbers plugged in."""
        return "\n".join([
            (f"Cumulative analysis of {self.experiment!r}, metric {self.metric!r}, segment "
             f"{self.segment!r}, days 1 to {self.day} ({self.n_control} control and "
             f"{self.n_treatment} treatment units)"),
            "Means and SDs from the running sums: mean = S / n, sd^2 = (Q - S^2 / n) / (n - 1)",
            self.result.explain(),
            self.srm.explain(),
        ])


def _selection(frame: pd.DataFrame, experiment, metric, segment) -> pd.DataFrame:
    """Rows of one experiment and metric (all segments when ``segment`` is "all")."""
    check_choice("experiment", experiment, sorted(frame["experiment"].unique()))
    rows = frame[frame["experiment"] == experiment]
    check_choice("metric", metric, sorted(rows["metric"].unique()))
    rows = rows[rows["metric"] == metric]
    segments = sorted(set(rows["segment"]) - {ALL_SEGMENTS})
    check_choice("segment", segment, [ALL_SEGMENTS, *segments])
    return rows if segment == ALL_SEGMENTS else rows[rows["segment"] == segment]


def analyse(
    aggregates,
    *,
    experiment: str,
    metric: str,
    segment: str = ALL_SEGMENTS,
    day=None,
    alpha: float = 0.05,
    expected_ratios=None,
    test: str = "auto",
) -> DashboardAnalysis:
    r"""The cumulative effect of one experiment and metric (and segment) as of a day, with SRM.

    Sums the rows of the selection over days 1 to ``day`` (and over segments for
    ``"all"``), turns them into per-arm means and standard deviations
    (:math:`\bar y = S/n`, :math:`s^2 = (Q - S^2/n)/(n-1)`) and runs the test: the
    two-proportion z-test for a 0/1 metric (:func:`abteach.inference.ztest_proportions` on S
    successes of n), Welch's t-test otherwise (:func:`abteach.inference.welch_ttest_from_stats`).
    The arm sizes are checked with :func:`abteach.srm.srm_test`.

    Parameters
    ----------
    aggregates : pandas.DataFrame
        The table of :func:`daily_aggregates`.
    experiment, metric : str
        The selection; an unknown name raises a ValueError listing the valid ones.
    segment : str
        A segment, or ``"all"`` (default) for every unit.
    day : int, optional
        Last day included (1 to the experiment's last day); default the last day.
    alpha : float
        Two-sided significance level; the intervals have confidence 1 - alpha.
    expected_ratios : sequence of two floats, optional
        Designed shares of control and treatment for the SRM check (default 50/50).
    test : {"auto", "proportions", "welch"}
        "auto" uses the z-test for 0/1 metrics (``sum == sum_sq`` on every row) and Welch's
        test otherwise.

    Returns
    -------
    DashboardAnalysis
    """
    frame = _check_aggregates(aggregates)
    alpha = check_alpha(alpha)
    test = check_choice("test", test, TESTS)
    rows = _selection(frame, experiment, metric, segment)
    last = int(rows["day"].max())
    if day is None:
        day = last
    day = check_int("day", day)
    if not 1 <= day <= last:
        raise ValueError(f"day must be between 1 and {last} for {experiment!r}, got {day!r}")
    proportions = _uses_proportions(test, metric, _binary_metrics(frame))
    arms = rows[rows["day"] <= day].groupby("variant")[["n", "sum", "sum_sq"]].sum()
    arms = arms.reindex(list(VARIANTS), fill_value=0)
    (n_c, s_c, ss_c), (n_t, s_t, ss_t) = arms.to_numpy(float)
    if min(n_c, n_t) < 2:
        raise ValueError(
            f"day {day} of {experiment!r}, segment {segment!r} has fewer than 2 units in an "
            f"arm ({int(n_c)} control, {int(n_t)} treatment): no test is defined; pick a "
            "later day"
        )
    result = _test(n_c, s_c, ss_c, n_t, s_t, ss_t, proportions, alpha)
    srm = srm_test([int(n_c), int(n_t)], expected_ratios)
    means = (result.p_control, result.p_treatment) if proportions else (
        result.mean_control, result.mean_treatment
    )
    return DashboardAnalysis(
        experiment=experiment, metric=metric, segment=segment, day=day,
        test="two-proportion z-test" if proportions else "Welch t-test",
        n_control=int(n_c), n_treatment=int(n_t),
        mean_control=float(means[0]), mean_treatment=float(means[1]),
        effect=result.effect, ci_low=result.ci_low, ci_high=result.ci_high,
        pvalue=result.pvalue, lift=result.lift,
        lift_ci_low=result.lift_ci_low, lift_ci_high=result.lift_ci_high,
        srm_pvalue=srm.pvalue, srm_mismatch=srm.mismatch, result=result, srm=srm,
    )


def cumulative_effects(aggregates, *, alpha: float = 0.05, expected_ratios=None) -> pd.DataFrame:
    """:func:`analyse` for every experiment, metric, segment (``"all"`` included) and day.

    The tests run once per metric kind on whole arrays (the same abteach functions as
    :func:`analyse`, with ``test="auto"``). Days before both arms of a selection hold two
    units are left out.

    Returns
    -------
    pandas.DataFrame
        One row per (experiment, metric, segment, day), with ``n_control``, ``n_treatment``,
        ``mean_control``, ``mean_treatment``, ``effect``, ``ci_low``, ``ci_high``,
        ``pvalue``, ``lift``, ``lift_ci_low``, ``lift_ci_high``, ``srm_pvalue`` and
        ``srm_mismatch``.
    """
    frame = _check_aggregates(aggregates)
    return _effects(frame, _binary_metrics(frame), check_alpha(alpha), expected_ratios)


def _effects(frame: pd.DataFrame, binary: set, alpha: float, expected_ratios) -> pd.DataFrame:
    """The core of :func:`cumulative_effects`; metrics in ``binary`` get the z-test."""
    arms = _cumulative_arms(frame)
    n = arms["n"][list(VARIANTS)].to_numpy(float)
    s = arms["sum"][list(VARIANTS)].to_numpy(float)
    ss = arms["sum_sq"][list(VARIANTS)].to_numpy(float)
    is_binary = arms.index.get_level_values("metric").isin(binary)
    out = pd.DataFrame(index=arms.index)
    out["n_control"], out["n_treatment"] = n[:, 0].astype(np.int64), n[:, 1].astype(np.int64)
    for proportions in (True, False):
        rows = is_binary == proportions
        if not rows.any():
            continue
        result = _test(n[rows, 0], s[rows, 0], ss[rows, 0], n[rows, 1], s[rows, 1], ss[rows, 1],
                       proportions, alpha)
        means = (result.p_control, result.p_treatment) if proportions else (
            result.mean_control, result.mean_treatment
        )
        columns = {
            "mean_control": means[0], "mean_treatment": means[1],
            **{name: getattr(result, name) for name in (
                "effect", "ci_low", "ci_high", "pvalue", "lift", "lift_ci_low", "lift_ci_high"
            )},
        }
        for name, values in columns.items():
            out.loc[rows, name] = np.atleast_1d(values)
    srm = srm_test(n.astype(np.int64), expected_ratios)
    out["srm_pvalue"] = np.atleast_1d(srm.pvalue)
    out["srm_mismatch"] = np.atleast_1d(srm.mismatch)
    return out.reset_index()


# --------------------------------------------------------------------------------------------
# The static dashboard: one plotly figure, interactive without a kernel
# --------------------------------------------------------------------------------------------

_DIGITS = 5  # significant digits stored in the figure (keeps the JSON small)
# The course's colour convention (abteach.viz): treatment blue, alarms red, references grey.
_COLORS = {"line": COLORS["treatment"], "band": "rgba(31, 119, 180, 0.2)",
           "alarm": COLORS["fail"], "marker": COLORS["boundary"], "segment": SERIES_COLORS[1],
           "reference": COLORS["reference"]}


def _r(values) -> list:
    """Round to ``_DIGITS`` significant digits for the figure; non-finite values become None."""
    array = np.asarray(values, dtype=float)
    finite = np.isfinite(array)
    safe = np.where(finite & (array != 0), np.abs(array), 1.0)
    scale = 10.0 ** (_DIGITS - 1 - np.floor(np.log10(safe)))
    rounded = np.round(array * scale) / scale
    return [float(v) if ok else None for v, ok in zip(rounded, finite)]


def _pct(value: float) -> str:
    return f"{100 * value:+.2f}%" if np.isfinite(value) else ("+inf" if value > 0 else "-inf")


def _lift_text(rows: pd.DataFrame) -> list:
    return [
        f"{seg}: lift {_pct(r.lift)} [{_pct(r.lift_ci_low)}, {_pct(r.lift_ci_high)}], "
        f"p = {r.pvalue:.3g}<br>n = {r.n_control:,} / {r.n_treatment:,}"
        for seg, r in zip(rows["segment"], rows.itertuples())
    ]


def _day_state(effects: pd.DataFrame, experiment: str, metrics, segments, day: int) -> list:
    """Data of the slider-driven traces of one experiment as of ``day``, in trace order:
    the SRM marker, the split by segment, then per metric the marker and the forest."""
    rows = effects[(effects["experiment"] == experiment) & (effects["day"] == day)]
    # An experiment without data on that day (shorter than another) gets empty points.
    rows = rows.set_index(["metric", "segment"]).reindex(
        pd.MultiIndex.from_product([metrics, segments], names=["metric", "segment"]))
    first = rows.loc[metrics[0]].reindex(segments)
    share = first["n_treatment"] / (first["n_control"] + first["n_treatment"])
    states = [
        {"x": [day], "y": _r([first.loc[ALL_SEGMENTS, "srm_pvalue"]])},
        {"x": _r(share), "y": segments, "hovertext": [
            f"{seg}: treatment share {s:.4f}, SRM p = {p:.2g}"
            for seg, s, p in zip(segments, share, first["srm_pvalue"])
        ]},
    ]
    for metric in metrics:
        forest = rows.loc[metric].reindex(segments).reset_index()
        whole = forest.iloc[0]
        states.append({
            "x": [day], "y": _r([100 * whole.lift]),
            "error_y.array": _r([100 * (whole.lift_ci_high - whole.lift)]),
            "error_y.arrayminus": _r([100 * (whole.lift - whole.lift_ci_low)]),
            "hovertext": _lift_text(forest.iloc[:1]),
        })
        states.append({
            "x": _r(100 * forest["lift"]), "y": segments,
            "error_x.array": _r(100 * (forest["lift_ci_high"] - forest["lift"])),
            "error_x.arrayminus": _r(100 * (forest["lift"] - forest["lift_ci_low"])),
            "hovertext": _lift_text(forest),
        })
    return states


def _meta(experiment: str, panel: str, driven: bool = False) -> dict:
    """What a trace of the static dashboard shows (the dropdown and the tests read it)."""
    return {"experiment": experiment, "panel": panel, "day_driven": driven}


def static_dashboard(
    aggregates,
    *,
    alpha: float = 0.05,
    expected_ratios=None,
    threshold: float = DEFAULT_THRESHOLD,
    title: str = "Experiment dashboard",
) -> go.Figure:
    """One plotly figure that works as a dashboard on a static web page (no kernel).

    The left column shows, over the days, the cumulative SRM p-value (log scale, with the
    alarm threshold) and for each metric the cumulative relative lift (treatment / control -
    1, in %) with its 1 - alpha confidence band, as :func:`cumulative_effects` computes
    them. The right column shows the same analysis as of one day, by segment: the treatment
    share of the units (SRM) and each metric's lift with its interval (a forest plot).

    Two controls, both plotly's own (they work in the exported HTML): a dropdown
    (``layout.updatemenus[0]``) whose buttons set the ``visible`` mask to the traces of one
    experiment, and a slider (``layout.sliders[0]``) with one step per day whose ``restyle``
    moves the day markers and redraws the right column as of that day. Every trace carries
    ``meta = {"experiment": ..., "panel": ..., "day_driven": bool}``; the SRM threshold
    traces have ``experiment`` None and stay visible. Numbers are stored to 5 significant
    digits, which keeps the figure small (about 100 KB for the demo).

    Parameters
    ----------
    aggregates : pandas.DataFrame
        The table of :func:`daily_aggregates`.
    alpha : float
        Intervals have confidence 1 - alpha.
    expected_ratios : sequence of two floats, optional
        Designed shares for the SRM check (default 50/50).
    threshold : float
        SRM alarm threshold drawn on the SRM panel (default 0.0005).
    title : str
        Figure title; the selected experiment's name is appended.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    effects = cumulative_effects(aggregates, alpha=alpha, expected_ratios=expected_ratios)
    if not isinstance(title, str):
        raise TypeError(f"title must be a str, got {title!r}")
    experiments = sorted(effects["experiment"].unique())
    metrics = sorted(effects["metric"].unique())
    segments = [ALL_SEGMENTS, *sorted(set(effects["segment"]) - {ALL_SEGMENTS})]
    level = format_number(100 * (1 - alpha), 4)
    rows = 1 + len(metrics)
    fig = make_subplots(
        rows=rows, cols=2, column_widths=[0.62, 0.38], horizontal_spacing=0.12,
        vertical_spacing=0.22 / rows,
        subplot_titles=[
            text for metric in ("SRM check", *metrics) for text in (
                f"{metric}: cumulative p-value (alarm below {threshold:g})"
                if metric == "SRM check" else
                f"{metric}: cumulative lift, {level}% CI",
                "treatment share by segment" if metric == "SRM check" else
                f"{metric}: lift (%) by segment",
            )
        ],
    )
    last_days = effects.groupby("experiment")["day"].agg(["min", "max"])
    days = list(range(int(last_days["min"].min()), int(last_days["max"].max()) + 1))
    day_driven = []  # (experiment, trace index) of traces the slider restyles, in state order
    for experiment in experiments:
        mine = effects[effects["experiment"] == experiment]
        meta = partial(_meta, experiment)
        whole = mine[mine["segment"] == ALL_SEGMENTS]
        srm = whole[whole["metric"] == metrics[0]]
        fig.add_trace(go.Scatter(
            x=srm["day"].tolist(), y=_r(srm["srm_pvalue"]), mode="lines+markers",
            line={"color": _COLORS["line"]}, name="SRM p-value", showlegend=False,
            meta=meta("srm"), hovertemplate="day %{x}: SRM p = %{y:.2g}<extra></extra>",
        ), row=1, col=1)
        fig.add_trace(go.Scatter(
            x=[], y=[], mode="markers", marker={"color": _COLORS["marker"], "size": 11},
            showlegend=False, meta=meta("srm", True), hoverinfo="y",
        ), row=1, col=1)
        fig.add_trace(go.Scatter(
            x=[], y=[], mode="markers", marker={"color": _COLORS["segment"], "size": 10},
            showlegend=False, meta=meta("split", True), hoverinfo="text",
        ), row=1, col=2)
        for i, metric in enumerate(metrics, start=2):
            series = whole[whole["metric"] == metric]
            day_list = series["day"].tolist()
            fig.add_trace(go.Scatter(
                x=day_list + day_list[::-1],
                y=_r(100 * np.concatenate([series["lift_ci_high"], series["lift_ci_low"][::-1]])),
                fill="toself", fillcolor=_COLORS["band"], line={"width": 0},
                hoverinfo="skip", showlegend=False, meta=meta(metric),
            ), row=i, col=1)
            fig.add_trace(go.Scatter(
                x=day_list, y=_r(100 * series["lift"]), mode="lines",
                line={"color": _COLORS["line"]}, showlegend=False, meta=meta(metric),
                hovertemplate="day %{x}: lift %{y:.2f}%<extra></extra>",
            ), row=i, col=1)
            fig.add_trace(go.Scatter(
                x=[], y=[], mode="markers", marker={"color": _COLORS["marker"], "size": 9},
                error_y={"type": "data", "color": _COLORS["marker"]}, showlegend=False,
                meta=meta(metric, True), hoverinfo="text",
            ), row=i, col=1)
            fig.add_trace(go.Scatter(
                x=[], y=[], mode="markers", marker={"color": _COLORS["segment"], "size": 9},
                error_x={"type": "data", "color": _COLORS["segment"]}, showlegend=False,
                meta=meta(metric, True), hoverinfo="text",
            ), row=i, col=2)
        day_driven += [
            (experiment, index) for index, trace in enumerate(fig.data)
            if trace.meta["experiment"] == experiment and trace.meta["day_driven"]
        ]
    fig.add_trace(go.Scatter(
        x=[days[0], days[-1]], y=[threshold, threshold], mode="lines",
        line={"color": _COLORS["alarm"], "dash": "dash"}, name=f"SRM threshold {threshold:g}",
        showlegend=False, meta={"experiment": None, "panel": "srm", "day_driven": False},
        hovertemplate=f"SRM alarm below p = {threshold:g}<extra></extra>",
    ), row=1, col=1)

    # The slider: each step restyles every day-driven trace (of every experiment, so that it
    # commutes with the dropdown, which only touches "visible").
    indices = [index for _, index in day_driven]
    keys = ("x", "y", "hovertext", "error_x.array", "error_x.arrayminus", "error_y.array",
            "error_y.arrayminus")
    steps = []
    for day in days:
        states = [
            state for experiment in experiments
            for state in _day_state(effects, experiment, metrics, segments, day)
        ]
        update = {key: [state.get(key) for state in states] for key in keys}
        update = {key: values for key, values in update.items() if any(v is not None for v in values)}
        steps.append({"method": "restyle", "label": str(day), "args": [update, indices]})
    final = steps[-1]["args"][0]
    for position, index in enumerate(indices):
        fig.data[index].update({key: values[position] for key, values in final.items()
                                if values[position] is not None})

    buttons = []
    for experiment in experiments:
        mask = [trace.meta["experiment"] in (experiment, None) for trace in fig.data]
        buttons.append({
            "method": "update", "label": experiment,
            "args": [{"visible": mask}, {"title.text": f"{title}: {experiment}"}],
        })
    for trace, visible in zip(fig.data, buttons[0]["args"][0]["visible"]):
        trace.visible = visible
    fig.update_layout(
        title={"text": f"{title}: {experiments[0]}", "y": 0.99},
        height=260 * rows + 140, margin={"t": 140, "b": 90},
        updatemenus=[{
            "buttons": buttons, "direction": "down", "active": 0, "showactive": True,
            "x": 0.0, "xanchor": "left", "y": 1.0 + 90 / (260 * rows), "yanchor": "bottom",
        }],
        sliders=[{
            "steps": steps, "active": len(steps) - 1, "pad": {"t": 40},
            "currentvalue": {"prefix": "analysis as of day "},
        }],
        hovermode="closest", template=TEMPLATE,
    )
    fig.update_yaxes(type="log", title_text="p-value", row=1, col=1)
    fig.add_vline(x=0.5, line={"color": _COLORS["reference"], "dash": "dot"}, row=1, col=2)
    for i in range(2, rows + 1):
        fig.update_yaxes(title_text="lift (%)", row=i, col=1)
        fig.add_hline(y=0, line={"color": _COLORS["reference"], "dash": "dot"}, row=i, col=1)
        fig.add_vline(x=0, line={"color": _COLORS["reference"], "dash": "dot"}, row=i, col=2)
    fig.update_xaxes(title_text="day", row=rows, col=1)
    fig.update_xaxes(title_text="lift (%)", row=rows, col=2)
    fig.update_yaxes(autorange="reversed", col=2)
    return fig


# --------------------------------------------------------------------------------------------
# The live dashboard: ipywidgets, recomputed by the kernel
# --------------------------------------------------------------------------------------------


def _live_figure(aggregates: pd.DataFrame, analysis: DashboardAnalysis, alpha, ratios) -> go.Figure:
    """Cumulative lift over days 1..day of the selection, with the band and the day's result."""
    rows = _selection(aggregates, analysis.experiment, analysis.metric, analysis.segment)
    rows = rows[rows["day"] <= analysis.day].assign(segment=ALL_SEGMENTS)  # one series
    selected = rows.groupby(list(AGGREGATE_COLUMNS[:5]), as_index=False)[
        ["n", "sum", "sum_sq"]].sum()
    binary = {analysis.metric} if isinstance(analysis.result, ProportionsZTest) else set()
    series = _effects(selected, binary, alpha, ratios)
    day_list = series["day"].tolist()
    fig = go.Figure([
        go.Scatter(
            x=day_list + day_list[::-1],
            y=100 * np.concatenate([series["lift_ci_high"], series["lift_ci_low"][::-1]]),
            fill="toself", fillcolor=_COLORS["band"], line={"width": 0}, hoverinfo="skip",
            name=f"{format_number(100 * (1 - alpha), 4)}% CI",
        ),
        go.Scatter(x=day_list, y=100 * series["lift"], mode="lines+markers",
                   line={"color": _COLORS["line"]}, name="cumulative lift"),
    ])
    fig.add_hline(y=0, line={"color": _COLORS["reference"], "dash": "dot"})
    fig.update_layout(
        title=analysis.summary().replace("; ", "<br>"), xaxis_title="day",
        yaxis_title=f"lift of {analysis.metric} (%)", height=420, margin={"t": 90},
        template=TEMPLATE,
    )
    return fig


class LiveDashboard(widgets.VBox):
    """The widget of :func:`live_dashboard`.

    Attributes ``experiment``, ``metric``, ``segment`` (``ipywidgets.Dropdown``), ``day``
    (``ipywidgets.IntSlider``) and ``output`` (``ipywidgets.Output``); ``result`` is the
    current :class:`DashboardAnalysis` and ``figure`` the current plotly figure, both
    recomputed whenever a control changes (set ``.value`` on a control to drive it from code).
    """

    def __init__(self, aggregates, *, alpha: float = 0.05, expected_ratios=None):
        self._aggregates = _check_aggregates(aggregates)
        self._alpha = check_alpha(alpha)
        self._ratios = expected_ratios
        experiments = sorted(self._aggregates["experiment"].unique())
        self._updating = True
        self.experiment = widgets.Dropdown(options=experiments, description="experiment")
        self.metric = widgets.Dropdown(options=["-"], description="metric")
        self.segment = widgets.Dropdown(options=["-"], description="segment")
        self.day = widgets.IntSlider(min=1, max=2, value=2, description="day",
                                     continuous_update=False)
        self.summary = widgets.HTML()
        self.output = widgets.Output()
        self.result: DashboardAnalysis | None = None
        self.figure: go.Figure | None = None
        self._sync_choices()
        self._updating = False
        self.refresh()
        for control in (self.experiment, self.metric, self.segment, self.day):
            control.observe(self._changed, names="value")
        super().__init__([
            widgets.HBox([self.experiment, self.metric]),
            widgets.HBox([self.segment, self.day]),
            self.summary,
            self.output,
        ])

    def _sync_choices(self) -> None:
        """Metric, segment and day choices of the selected experiment (keeping what fits)."""
        rows = self._aggregates[self._aggregates["experiment"] == self.experiment.value]
        metrics = sorted(rows["metric"].unique())
        segments = [ALL_SEGMENTS, *sorted(set(rows["segment"]) - {ALL_SEGMENTS})]
        keep_metric, keep_segment = self.metric.value, self.segment.value
        self.metric.options = metrics
        self.metric.value = keep_metric if keep_metric in metrics else metrics[0]
        self.segment.options = segments
        self.segment.value = keep_segment if keep_segment in segments else ALL_SEGMENTS
        last = int(rows["day"].max())
        at_end = self.day.value == self.day.max
        self.day.max = last
        self.day.value = last if at_end else min(self.day.value, last)

    def _changed(self, change) -> None:
        if self._updating:
            return
        self._updating = True
        try:
            if change["owner"] is self.experiment:
                self._sync_choices()
        finally:
            self._updating = False
        self.refresh()

    def refresh(self) -> None:
        """Recompute the analysis and redraw the figure for the current controls."""
        self.result = analyse(
            self._aggregates, experiment=self.experiment.value, metric=self.metric.value,
            segment=self.segment.value, day=self.day.value, alpha=self._alpha,
            expected_ratios=self._ratios,
        )
        self.figure = _live_figure(self._aggregates, self.result, self._alpha, self._ratios)
        self.summary.value = f"<pre>{self.result.summary()}</pre>"
        # The figure goes into the Output widget's state as the mime bundle of plotly's current
        # renderer, not through display messages (plotly's _ipython_display_ publishes to the
        # running cell): nothing leaks into the cell that changed a control.
        bundle = self.figure._repr_mimebundle_()
        self.output.outputs = ({"output_type": "display_data", "data": bundle, "metadata": {}},)

    def _repr_mimebundle_(self, **kwargs):
        """The widget view, plus an HTML note for pages rendered without a kernel."""
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/html"] = (
            "<p><em>Live dashboard: its controls need a running Python kernel. Launch this "
            "page in Binder or Colab (rocket icon at the top) and run the cell.</em></p>"
        )
        return bundle


def live_dashboard(aggregates, *, alpha: float = 0.05, expected_ratios=None) -> LiveDashboard:
    """A live dashboard: dropdowns (experiment, metric, segment) and a day slider.

    Every change recomputes :func:`analyse` for the selection as of the day and redraws the
    cumulative lift in an ``ipywidgets.Output``. Standard ipywidgets 8 only (no
    ``FigureWidget``), so it runs in JupyterLab, Binder and Colab; on a static web page the
    controls do nothing (use :func:`static_dashboard` there).

    Parameters
    ----------
    aggregates : pandas.DataFrame
        The table of :func:`daily_aggregates`.
    alpha, expected_ratios
        As in :func:`analyse`.

    Returns
    -------
    LiveDashboard
        An ``ipywidgets.VBox``; ``.result`` and ``.figure`` hold the current analysis.
    """
    return LiveDashboard(aggregates, alpha=alpha, expected_ratios=expected_ratios)
