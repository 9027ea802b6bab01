"""Answer key of chapter 6, Sample ratio mismatch (``solutions/06_srm.ipynb``).

Every expected value is computed with abteach when first needed; typical wrong answers are
recomputed the same way so that each gets its own hint.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy import stats

import abteach as abt
from abteach.course.check import Boolean, Choice, Exercise, Number

# 06.1: a 50/50 experiment.
COUNTS_50_50 = (50_421, 49_512)
# 06.2: 90% of users in control, 10% in treatment (control first).
COUNTS_90_10, RATIOS_90_10 = (90_401, 9_599), (0.9, 0.1)
# 06.3: users and conversions of a 50/50 experiment (control first).
USERS_TRUST, CONVERSIONS_TRUST = (50_000, 48_800), (5_000, 5_124)
# 06.4: 500 healthy experiments, cumulative check every day for 30 days at 0.001.
EXPERIMENTS_PER_YEAR, ALARM_DAYS, ALARM_THRESHOLD = 500, 30, 0.001
ALARM_UNITS_PER_DAY, ALARM_SIMULATIONS, ALARM_SEED = 5_000, 4_000, 6
# 06.6: daily users (control, treatment) of a 50/50 experiment over 14 days.
DAILY_COUNTS = (
    (2944, 3056), (3024, 2976), (3010, 2990), (2998, 3002), (3061, 2939), (3052, 2826),
    (2964, 2918), (3080, 2797), (2998, 2872), (2960, 2904), (3028, 2841), (3052, 2839),
    (2992, 2874), (3001, 2878),
)


def _two_proportion_pvalue(counts) -> float:
    """The typical mistake: each arm's share of the N users compared with a two-sample
    proportion test, as if the two shares came from two independent samples of N."""
    total = sum(counts)
    return abt.ztest_proportions(counts[0], total, counts[1], total).pvalue


@cache
def _false_alarms() -> abt.SRMFalseAlarms:
    return abt.srm_false_alarm_rate(
        ALARM_UNITS_PER_DAY, ALARM_DAYS, threshold=ALARM_THRESHOLD,
        n_experiments=ALARM_SIMULATIONS, rng=ALARM_SEED,
    )


def _first_daily_alarm(threshold: float = abt.srm.DEFAULT_THRESHOLD) -> int:
    monitor = abt.srm_monitor(DAILY_COUNTS, threshold=threshold)
    return int(np.argmax(monitor.daily_alarm)) + 1


EXERCISES = (
    Exercise(
        "06.1",
        "srm_pvalue",
        Number(
            lambda: abt.srm_test(COUNTS_50_50).pvalue,
            rtol=1e-3,
            hint="Call abt.srm_test([50_421, 49_512]) (the default design is equal shares) and "
            "take .pvalue.",
            mistakes=[
                (lambda: _two_proportion_pvalue(COUNTS_50_50), "That is a two-sample proportion "
                 "test of the arms' shares. The two shares are one sample (they add up to 1), "
                 "so that test uses the wrong standard error; the SRM check compares the counts "
                 "with their designed shares: abt.srm_test(counts)."),
                (lambda: abt.srm_test(COUNTS_50_50, method="exact").pvalue, "That is the exact "
                 "binomial test, which is fine in practice; the question asks for Pearson's "
                 "chi-square test, abteach's default method."),
                (lambda: abt.srm_test(COUNTS_50_50).statistic, "That is the chi-square statistic "
                 "X^2; the p-value is in .pvalue."),
                (lambda: stats.chi2.sf(abt.srm_test(COUNTS_50_50).statistic, 2), "You used 2 "
                 "degrees of freedom; a goodness-of-fit test of k arms has k - 1, here 1."),
            ],
        ),
    ),
    Exercise(
        "06.2",
        "srm_pvalue_90_10",
        Number(
            lambda: abt.srm_test(COUNTS_90_10, RATIOS_90_10).pvalue,
            rtol=1e-3,
            hint="Pass the designed shares in the order of the counts: "
            "abt.srm_test([90_401, 9_599], [0.9, 0.1]).",
            mistakes=[
                (0.0, "A p-value of 0 means the counts were compared with the wrong split: 50/50 "
                 "(the default when expected_ratios is omitted), the shares in the wrong order "
                 "([0.1, 0.9] with control first), or the arms' shares against each other with "
                 "a two-proportion test. Pass expected_ratios=[0.9, 0.1]."),
                (lambda: abt.srm_test(COUNTS_90_10, RATIOS_90_10, method="exact").pvalue,
                 "That is the exact binomial test, fine in practice; the question asks for "
                 "Pearson's chi-square test, abteach's default method."),
                (lambda: abt.srm_test(COUNTS_90_10, RATIOS_90_10).statistic, "That is the "
                 "chi-square statistic X^2; the p-value is in .pvalue."),
            ],
        ),
    ),
    Exercise(
        "06.3",
        "trust_effect",
        Boolean(
            lambda: not abt.srm_test(USERS_TRUST).mismatch,
            hint="Check the split before the effect: abt.srm_test([50_000, 48_800]) gives a "
            "p-value far below 0.0005. With a sample ratio mismatch the arms are no longer "
            "comparable, and the significant effect may be produced by the very users who went "
            "missing.",
        ),
    ),
    Exercise(
        "06.4",
        "stopped_experiments",
        Number(
            lambda: EXPERIMENTS_PER_YEAR * _false_alarms().any_cumulative,
            rtol=1e-6,
            hint="Run exactly the seeded call of the question and multiply the share of "
            "experiments with at least one cumulative alarm (.any_cumulative) by 500.",
            mistakes=[
                (lambda: _false_alarms().any_cumulative, "That is the share of experiments; the "
                 "question asks how many of the 500 experiments (multiply by 500)."),
                (lambda: EXPERIMENTS_PER_YEAR * _false_alarms().any_daily, "That counts alarms "
                 "of the checks on each day's own counts (.any_daily); the dashboard checks the "
                 "cumulative counts (.any_cumulative)."),
                (lambda: EXPERIMENTS_PER_YEAR * _false_alarms().final_only, "That counts alarms "
                 "of a single check on the last day (.final_only); the dashboard checks every "
                 "day (.any_cumulative)."),
                (EXPERIMENTS_PER_YEAR * ALARM_DAYS * ALARM_THRESHOLD, "500 x 30 x 0.001 = 15 "
                 "treats the 30 checks as separate chances of an alarm and counts every alarm; "
                 "cumulative checks overlap (each day's counts include the previous days'), so "
                 "far fewer experiments ever raise one. Use the simulation."),
            ],
        ),
    ),
    Exercise(
        "06.5",
        "likely_cause",
        Choice(
            "b",
            options=("a", "b", "c", "d"),
            hints={
                "a": "The hash of a user id knows nothing about the browser: a biased hash would "
                "unbalance every browser in the same way, not one browser only.",
                "c": "A p-value of 1e-9 is not chance, even after allowing for the dozen browsers "
                "that were checked (12 x 1e-9 is still tiny).",
                "d": "Variants started at different times would unbalance every browser, and "
                "only in the first days; here the imbalance is in one browser, every day.",
            },
        ),
    ),
    Exercise(
        "06.6",
        "first_alarm_day",
        Number(
            lambda: abt.srm_monitor(DAILY_COUNTS).first_alarm_day,
            hint="Pass the 14 x 2 array of daily counts to abt.srm_monitor and read "
            ".first_alarm_day (1-based, the first day whose cumulative p-value is below 0.0005).",
            mistakes=[
                (lambda: _first_daily_alarm(), "That is the first day whose OWN counts fire the "
                 "check (.daily_alarm); the dashboard tests the cumulative counts "
                 "(.cumulative_alarm, .first_alarm_day)."),
                (lambda: abt.srm_monitor(DAILY_COUNTS).first_alarm_day - 1, "That is a 0-based "
                 "index; days are numbered from 1 (.first_alarm_day is already 1-based)."),
                (lambda: _first_daily_alarm(0.05), "That is the first day whose own counts have "
                 "p < 0.05; the rule is a cumulative check at threshold 0.0005."),
            ],
        ),
    ),
    Exercise(
        "06.7",
        "next_step",
        Choice(
            "d",
            options=("a", "b", "c", "d"),
            hints={
                "a": "Dropping control users at random makes the counts equal but not the arms "
                "comparable: the treatment still lacks a particular kind of user, and the bias "
                "stays.",
                "b": "Reweighting the arms to the designed sizes changes nothing inside each arm: "
                "the users who went missing from the treatment are still missing, and the bias "
                "stays.",
                "c": "A large effect does not protect against the bias; the users who went "
                "missing may be the very reason the effect looks large.",
            },
        ),
    ),
)
