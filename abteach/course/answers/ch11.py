"""Answer key of chapter 11, Dashboards and decisions (``solutions/11_dashboards.ipynb``).

Every expected value is computed with abteach when first needed, on the chapter's demo data
(``abt.demo_aggregates(rng=2026)``); typical wrong answers are recomputed the same way so that
each gets its own hint.
"""

from __future__ import annotations

from functools import cache

import numpy as np

import abteach as abt
from abteach.course.check import Boolean, Choice, Exercise, Number

SEED = 2026
# 11.1: checkout_redesign, conversion, all users who arrived in days 1 to 7.
DAY = 7
# 11.3: the segment whose cumulative SRM check is asked for.
SEGMENT = "ios"
# 11.5: daily looks over the 14 days of the experiment.
LOOKS = 14
# 11.6: users a year and average order value.
USERS_PER_YEAR, ORDER_VALUE = 2_000_000, 60.0


@cache
def aggregates():
    return abt.demo_aggregates(rng=SEED)


def _analyze(**selection) -> abt.DashboardAnalysis:
    return abt.analyze(aggregates(), experiment="checkout_redesign", **selection)


def _day_only_pvalue() -> float:
    """The typical mistake of 11.1: the users of day 7 alone instead of days 1 to 7."""
    rows = aggregates()[aggregates()["day"] == DAY].assign(day=1)
    return abt.analyze(rows, experiment="checkout_redesign", metric="conversion", day=1).pvalue


def _revenue_sums(variant: str) -> tuple[float, float, float]:
    rows = aggregates()[(aggregates()["experiment"] == "checkout_redesign")
                        & (aggregates()["metric"] == "revenue_per_user")
                        & (aggregates()["variant"] == variant)]
    return rows["n"].sum(), rows["sum"].sum(), rows["sum_sq"].sum()


def _srm_counts(segment: str) -> np.ndarray:
    rows = aggregates()[(aggregates()["experiment"] == "search_ranking")
                        & (aggregates()["metric"] == "conversion")]
    if segment != "all":
        rows = rows[rows["segment"] == segment]
    return rows.pivot_table(index="day", columns="variant", values="n", aggfunc="sum").to_numpy()


def _first_daily_alarm() -> int:
    alarm = abt.srm_monitor(_srm_counts(SEGMENT)).daily_alarm
    return int(np.argmax(alarm)) + 1


def _impact() -> abt.ExpectedImpact:
    return abt.expected_impact(_analyze(metric="conversion").result, units=USERS_PER_YEAR,
                               value=ORDER_VALUE)


EXERCISES = (
    Exercise(
        "11.1",
        "day7_pvalue",
        Number(
            lambda: _analyze(metric="conversion", day=DAY).pvalue,
            rtol=1e-4,
            hint="Call abt.analyze(aggregates, experiment='checkout_redesign', "
            "metric='conversion', day=7) and take .pvalue: it sums the rows of days 1 to 7 "
            "over every segment.",
            mistakes=[
                (lambda: _analyze(metric="conversion").pvalue, "That is the p-value after all "
                 "14 days (day=None means the last day); the dashboard as of day 7 is asked."),
                (_day_only_pvalue, "That uses the users of day 7 alone. The dashboard is "
                 "cumulative: as of day 7 it holds every user who arrived in days 1 to 7."),
                (lambda: _analyze(metric="conversion", day=DAY, test="welch").pvalue, "That is "
                 "Welch's t-test on the 0/1 values; for a conversion rate the dashboard uses the "
                 "two-proportion z-test (test='auto')."),
            ],
        ),
    ),
    Exercise(
        "11.2",
        "revenue_sd",
        Number(
            lambda: _analyze(metric="revenue_per_user").result.sd_control,
            rtol=1e-4,
            hint="Sum n, sum and sum_sq of the control rows over all days and segments, then "
            "sd = sqrt((Q - S**2 / n) / (n - 1)).",
            mistakes=[
                (lambda: np.sqrt(_revenue_sums("control")[2] / _revenue_sums("control")[0]),
                 "That is sqrt(Q / n), the root mean square: subtract the squared mean, "
                 "(Q - S**2 / n) / (n - 1), before taking the square root."),
                (lambda: _analyze(metric="revenue_per_user").result.sd_control ** 2,
                 "That is the variance; the standard deviation is its square root."),
                (lambda: _analyze(metric="revenue_per_user").result.sd_treatment,
                 "That is the treatment arm; the question asks for control."),
            ],
        ),
    ),
    Exercise(
        "11.3",
        "ios_first_alarm_day",
        Number(
            lambda: abt.srm_monitor(_srm_counts(SEGMENT)).first_alarm_day,
            hint="Build the 14 x 2 array of daily iOS users (control, treatment) of "
            "search_ranking from the n column of one metric, pass it to abt.srm_monitor and "
            "read .first_alarm_day.",
            mistakes=[
                (lambda: abt.srm_monitor(_srm_counts("all")).first_alarm_day, "That is the "
                 "first alarm of all segments together; the question asks about iOS users only, "
                 "where the bug is (and where it shows earlier)."),
                (_first_daily_alarm, "Day 4 is the first day whose OWN counts (or a p-value "
                 "below 0.05) give an alarm. The dashboard's check is cumulative, at the strict "
                 "threshold 0.0005: read .first_alarm_day."),
                (lambda: abt.srm_monitor(_srm_counts(SEGMENT)).first_alarm_day - 1, "That is a "
                 "0-based index; days are numbered from 1."),
            ],
        ),
    ),
    Exercise(
        "11.4",
        "search_verdict",
        Choice(
            "c",
            options=("a", "b", "c", "d"),
            hints={
                "a": "Two significant metrics mean nothing while the arms hold different kinds "
                "of users: the SRM check comes first, and here it fails.",
                "b": "More data does not remove a bias: the missing users stay missing, and the "
                "SRM only gets more significant.",
                "d": "'Do not ship' is a decision about the change; with an SRM the data cannot "
                "tell whether the change is good or bad. Find the cause first.",
            },
        ),
    ),
    Exercise(
        "11.5",
        "peeking_keeps_alpha",
        Boolean(
            lambda: abt.peeking_false_positive_rate(LOOKS) <= 0.05,
            hint="Each day is another chance for the cumulative p-value to dip below 0.05: "
            "abt.peeking_false_positive_rate(14) is about 22%, not 5% (chapter 10).",
        ),
    ),
    Exercise(
        "11.6",
        "impact_low",
        Number(
            lambda: _impact().total_ci_low,
            rtol=1e-4,
            hint="abt.expected_impact(result, units=2_000_000, value=60.0) with the conversion "
            "result of checkout_redesign after 14 days; take .total_ci_low.",
            mistakes=[
                (lambda: _impact().total, "That is the estimate; the question asks for the lower "
                 "end of its 95% interval (.total_ci_low)."),
                (lambda: _impact().total_ci_low / ORDER_VALUE, "That counts extra orders; "
                 "multiply by the order value (value=60.0) to get revenue."),
                (lambda: _analyze(metric="conversion").lift_ci_low * USERS_PER_YEAR
                 * ORDER_VALUE, "You scaled the relative lift; the impact scales the absolute "
                 "effect per user (conversion points), which is what expected_impact uses."),
            ],
        ),
    ),
)
