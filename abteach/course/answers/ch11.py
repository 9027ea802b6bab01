"""Answer key of chapter 11, Dashboards and decisions (``solutions/11_dashboards.ipynb``).

Every expected value is computed with abteach when first needed, on the chapter's demo data
(``abt.demo_aggregates(rng=2026)``); typical wrong answers are recomputed the same way so that
each gets its own hint. Class editions (:func:`draw_inputs`, see :mod:`abteach.course.editions`)
keep the demo data (exercise 11.4 describes its search_ranking results) and vary the questions
asked of it: the day of 11.1, the arm and segment of 11.2, the alarm threshold of 11.3 and the
traffic and order value of 11.6. 11.4 is multiple choice and cannot vary (``fixed``); 11.5 is a
True/False question whose answer is False in every edition (no numbers to vary).
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

import abteach as abt
from abteach.course.check import Boolean, Choice, Exercise, Number
from abteach.course.editions import Substitution

SEED = 2026
# 11.3: the segment whose cumulative SRM check is asked for.
SEGMENT = "ios"
# 11.5: daily looks over the 14 days of the experiment.
LOOKS = 14
SEGMENTS = ("desktop", "android", "ios")

# The inputs of the public edition (class editions draw their own, see draw_inputs).
PUBLIC_INPUTS = {
    # 11.1: checkout_redesign, conversion, all users who arrived in days 1 to `day`.
    "11.1": {"day": 7},
    # 11.2: the arm and the segment ("all": every segment) of the revenue standard deviation.
    "11.2": {"arm": "control", "segment": "all"},
    # 11.3: the p-value threshold of the SRM alarm (the dashboard's default).
    "11.3": {"threshold": 0.0005},
    # 11.6: users a year and average order value.
    "11.6": {"users": 2_000_000, "order_value": 60.0},
}


def draw_inputs(group: str, rng) -> dict:
    """A class edition's inputs of ``group`` (see :mod:`abteach.course.editions`)."""
    if group == "11.1":
        return {"day": int(rng.choice([4, 5, 6, 8, 9, 10, 11, 12, 13]))}
    if group == "11.2":
        pairs = [(arm, segment) for arm in ("control", "treatment") for segment in ("all", *SEGMENTS)]
        arm, segment = pairs[int(rng.integers(1, len(pairs)))]  # never the public (control, all)
        return {"arm": arm, "segment": segment}
    if group == "11.3":  # thresholds whose first iOS alarm is not the public day 7
        return {"threshold": float(rng.choice([0.01, 0.005, 0.001, 1e-6, 1e-8]))}
    if group == "11.6":
        while True:  # the interval scales with users * order value: never the public product
            users = int(rng.choice([500_000, 1_000_000, 1_500_000, 3_000_000, 5_000_000]))
            value = float(rng.choice([25.0, 40.0, 50.0, 75.0, 80.0, 120.0]))
            if users * value != 2_000_000 * 60.0:
                return {"users": users, "order_value": value}
    raise ValueError(f"group must be one of {sorted(PUBLIC_INPUTS)}, got {group!r}")


def _threshold_text(threshold: float) -> str:
    """0.0005 as the notebook writes it, 1e-06 as 1e-6."""
    return f"{threshold:g}" if threshold >= 1e-4 else f"1e-{round(-math.log10(threshold))}"


def _arm_text(i) -> str:
    s = i["11.2"]
    where = "all\nsegments." if s["segment"] == "all" else f"the\n`{s['segment']}` segment only."
    return f"in the **{s['arm']}** arm of `checkout_redesign`, over all 14 days and {where}"


def _alarm_text(i) -> str:
    threshold = i["11.3"]["threshold"]
    if threshold == PUBLIC_INPUTS["11.3"]["threshold"]:
        return "first\nfire?"
    return (f"first\nfire if the alarm threshold is $p < {_threshold_text(threshold)}$ "
            f"(`threshold={_threshold_text(threshold)}`)?\n")


def _impact_text(i) -> str:
    s = i["11.6"]
    return f"**{s['users']:,}** users a year and an average order of **{s['order_value']:g}**"


SUBSTITUTIONS = (
    Substitution("day 7", lambda i: f"day {i['11.1']['day']}", count=2),
    Substitution("day7", lambda i: f"day{i['11.1']['day']}", count=4),
    Substitution(_arm_text(PUBLIC_INPUTS), _arm_text),
    Substitution(_alarm_text(PUBLIC_INPUTS), _alarm_text),
    Substitution(_impact_text(PUBLIC_INPUTS), _impact_text),
)


@cache
def aggregates():
    return abt.demo_aggregates(rng=SEED)


def _analyze(**selection) -> abt.DashboardAnalysis:
    return abt.analyze(aggregates(), experiment="checkout_redesign", **selection)


def _day_only_pvalue(day: int) -> float:
    """The typical mistake of 11.1: the users of ``day`` alone instead of days 1 to ``day``."""
    rows = aggregates()[aggregates()["day"] == day].assign(day=1)
    return abt.analyze(rows, experiment="checkout_redesign", metric="conversion", day=1).pvalue


def _revenue_sd(arm: str, segment: str) -> float:
    result = _analyze(metric="revenue_per_user", segment=segment).result
    return result.sd_control if arm == "control" else result.sd_treatment


def _revenue_sums(variant: str, segment: str) -> tuple[float, float, float]:
    rows = aggregates()[(aggregates()["experiment"] == "checkout_redesign")
                        & (aggregates()["metric"] == "revenue_per_user")
                        & (aggregates()["variant"] == variant)]
    if segment != "all":
        rows = rows[rows["segment"] == segment]
    return rows["n"].sum(), rows["sum"].sum(), rows["sum_sq"].sum()


def _srm_counts(segment: str) -> np.ndarray:
    rows = aggregates()[(aggregates()["experiment"] == "search_ranking")
                        & (aggregates()["metric"] == "conversion")]
    if segment != "all":
        rows = rows[rows["segment"] == segment]
    return rows.pivot_table(index="day", columns="variant", values="n", aggfunc="sum").to_numpy()


def _monitor(segment: str, threshold: float) -> abt.SRMMonitor:
    return abt.srm_monitor(_srm_counts(segment), threshold=threshold)


def _first_daily_alarm(threshold: float) -> int:
    alarm = _monitor(SEGMENT, threshold).daily_alarm
    return int(np.argmax(alarm)) + 1


def _impact(users: int, order_value: float) -> abt.ExpectedImpact:
    return abt.expected_impact(_analyze(metric="conversion").result, units=users, value=order_value)


def exercises(inputs: dict) -> tuple[Exercise, ...]:
    """The answer key for ``inputs`` (``PUBLIC_INPUTS`` or a class edition's)."""
    DAY = inputs["11.1"]["day"]
    ARM, SEG = inputs["11.2"]["arm"], inputs["11.2"]["segment"]
    OTHER_ARM = "treatment" if ARM == "control" else "control"
    WHERE = "all days and segments" if SEG == "all" else f"all days of the {SEG} segment"
    THRESHOLD = inputs["11.3"]["threshold"]
    USERS_PER_YEAR, ORDER_VALUE = inputs["11.6"]["users"], inputs["11.6"]["order_value"]
    return (
        Exercise(
            "11.1",
            "day7_pvalue",
            Number(
                lambda: _analyze(metric="conversion", day=DAY).pvalue,
                rtol=1e-4,
                hint="Call abt.analyze(aggregates, experiment='checkout_redesign', "
                f"metric='conversion', day={DAY}) and take .pvalue: it sums the rows of days 1 to {DAY} "
                "over every segment.",
                mistakes=[
                    (lambda: _analyze(metric="conversion").pvalue, "That is the p-value after all "
                     f"14 days (day=None means the last day); the dashboard as of day {DAY} is asked."),
                    (lambda: _day_only_pvalue(DAY), f"That uses the users of day {DAY} alone. The dashboard "
                     f"is cumulative: as of day {DAY} it holds every user who arrived in days 1 to {DAY}."),
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
                lambda: _revenue_sd(ARM, SEG),
                rtol=1e-4,
                hint=f"Sum n, sum and sum_sq of the {ARM} rows over {WHERE}, then "
                "sd = sqrt((Q - S**2 / n) / (n - 1)).",
                mistakes=[
                    (lambda: np.sqrt(_revenue_sums(ARM, SEG)[2] / _revenue_sums(ARM, SEG)[0]),
                     "That is sqrt(Q / n), the root mean square: subtract the squared mean, "
                     "(Q - S**2 / n) / (n - 1), before taking the square root."),
                    (lambda: _revenue_sd(ARM, SEG) ** 2,
                     "That is the variance; the standard deviation is its square root."),
                    (lambda: _revenue_sd(OTHER_ARM, SEG),
                     f"That is the {OTHER_ARM} arm; the question asks for {ARM}."),
                ],
            ),
        ),
        Exercise(
            "11.3",
            "ios_first_alarm_day",
            Number(
                lambda: _monitor(SEGMENT, THRESHOLD).first_alarm_day,
                hint="Build the 14 x 2 array of daily iOS users (control, treatment) of "
                "search_ranking from the n column of one metric, pass it to abt.srm_monitor and "
                "read .first_alarm_day" + ("." if THRESHOLD == abt.srm.DEFAULT_THRESHOLD
                                          else f" (threshold={_threshold_text(THRESHOLD)})."),
                mistakes=[
                    (lambda: _monitor("all", THRESHOLD).first_alarm_day, "That is the "
                     "first alarm of all segments together; the question asks about iOS users only, "
                     "where the bug is (and where it shows earlier)."),
                    (lambda: _first_daily_alarm(THRESHOLD), f"Day {_first_daily_alarm(THRESHOLD)} is the first day "
                     "whose OWN counts give an alarm. The dashboard's check is cumulative, at the "
                     f"threshold {_threshold_text(THRESHOLD)}: read .first_alarm_day."),
                    (lambda: _monitor(SEGMENT, THRESHOLD).first_alarm_day - 1, "That is a "
                     "0-based index; days are numbered from 1."),
                ],
            ),
        ),
        Exercise(
            "11.4",
            "search_verdict",
            fixed=True,
            answer=Choice(
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
                lambda: _impact(USERS_PER_YEAR, ORDER_VALUE).total_ci_low,
                rtol=1e-4,
                hint=f"abt.expected_impact(result, units={USERS_PER_YEAR:_}, value={ORDER_VALUE}) with the "
                "conversion result of checkout_redesign after 14 days; take .total_ci_low.",
                mistakes=[
                    (lambda: _impact(USERS_PER_YEAR, ORDER_VALUE).total, "That is the estimate; the question "
                     "asks for the lower end of its 95% interval (.total_ci_low)."),
                    (lambda: _impact(USERS_PER_YEAR, ORDER_VALUE).total_ci_low / ORDER_VALUE, "That counts "
                     f"extra orders; multiply by the order value (value={ORDER_VALUE}) to get revenue."),
                    (lambda: _analyze(metric="conversion").lift_ci_low * USERS_PER_YEAR
                     * ORDER_VALUE, "You scaled the relative lift; the impact scales the absolute "
                     "effect per user (conversion points), which is what expected_impact uses."),
                ],
            ),
        ),
    )


EXERCISES = exercises(PUBLIC_INPUTS)
