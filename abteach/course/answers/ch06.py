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
from abteach.course.editions import Substitution

# The inputs of the public edition (class editions draw their own, see draw_inputs).
PUBLIC_INPUTS = {
    # 06.1: a 50/50 experiment (control first).
    "06.1": {"counts": (50_421, 49_512)},
    # 06.2: the 90/10 design of RATIOS_90_10 (control first).
    "06.2": {"counts": (90_401, 9_599)},
    # 06.4: healthy experiments a year, checked cumulatively every day at a threshold.
    "06.4": {"per_year": 500, "units_per_day": 5_000, "days": 30, "threshold": 0.001, "seed": 6},
    # 06.6: daily users (control, treatment) of a 50/50 experiment over 14 days.
    "06.6": {"daily": (
        (2944, 3056), (3024, 2976), (3010, 2990), (2998, 3002), (3061, 2939), (3052, 2826),
        (2964, 2918), (3080, 2797), (2998, 2872), (2960, 2904), (3028, 2841), (3052, 2839),
        (2992, 2874), (3001, 2878),
    )},
}
RATIOS_90_10 = (0.9, 0.1)
# 06.3: users and conversions of a 50/50 experiment with a mismatch (control first). The same
# in every edition (not marked fixed: that is for multiple choice): the options of 06.7, whose
# text every edition keeps, quote these counts, and the answer (do not trust the effect) is
# False in any case.
USERS_TRUST, CONVERSIONS_TRUST = (50_000, 48_800), (5_000, 5_124)
ALARM_SIMULATIONS = 4_000
# of 06.6: an edition's table never alarms first on the public edition's day
PUBLIC_FIRST_ALARM_DAY = abt.srm_monitor(PUBLIC_INPUTS["06.6"]["daily"]).first_alarm_day


def _split(rng, total: int, treatment_share: float) -> tuple[int, int]:
    treatment = int(rng.binomial(total, treatment_share))
    return total - treatment, treatment


def _draw_daily(rng) -> tuple:
    """14 days of a 50/50 experiment whose treatment starts losing 3% to 6% of its users on a
    day between 3 and 8; drawn again until the cumulative check fires on a day other than the
    public edition's (and fires at all)."""
    while True:
        onset, loss = int(rng.integers(3, 9)), float(rng.uniform(0.03, 0.06))
        shares = [0.5 if day < onset else 0.5 * (1 - loss) / (1 - 0.5 * loss) for day in range(1, 15)]
        daily = tuple(_split(rng, int(rng.integers(5_700, 6_101)), share) for share in shares)
        day = abt.srm_monitor(daily).first_alarm_day
        if day is not None and day != PUBLIC_FIRST_ALARM_DAY:
            return daily


def draw_inputs(group: str, rng) -> dict:
    """A class edition's inputs of ``group`` (see :mod:`abteach.course.editions`)."""
    if group == "06.1":
        total = 1_000 * int(rng.integers(80, 121))
        return {"counts": _split(rng, total, float(rng.uniform(0.494, 0.4975)))}
    if group == "06.2":
        total = 1_000 * int(rng.integers(80, 121))
        # the treatment loses 1% to 4% of its users: a p-value well above 0, often a mismatch
        share = RATIOS_90_10[1] * (1 - float(rng.uniform(0.01, 0.04)))
        return {"counts": _split(rng, total, share)}
    if group == "06.4":
        # 20,000 / per_year is never a whole number: the count (per_year x k / 4,000) never
        # equals the public 5
        return {"per_year": int(rng.choice([300, 600, 700, 900, 1_200, 1_500])),
                "units_per_day": int(rng.choice([2_000, 5_000, 10_000])),
                "days": int(rng.choice([14, 21, 28, 42])),
                "threshold": float(rng.choice([0.0005, 0.001, 0.002])),
                "seed": int(rng.integers(7, 1000))}
    if group == "06.6":
        return {"daily": _draw_daily(rng)}
    raise ValueError(f"group must be one of {sorted(PUBLIC_INPUTS)}, got {group!r}")


def _two_proportion_pvalue(counts) -> float:
    """The typical mistake: each arm's share of the N users compared with a two-sample
    proportion test, as if the two shares came from two independent samples of N."""
    total = sum(counts)
    return abt.ztest_proportions(counts[0], total, counts[1], total).pvalue


@cache
def _false_alarms(units_per_day: int = 5_000, days: int = 30, threshold: float = 0.001,
                  seed: int = 6) -> abt.SRMFalseAlarms:
    return abt.srm_false_alarm_rate(units_per_day, days, threshold=threshold,
                                    n_experiments=ALARM_SIMULATIONS, rng=seed)


def _first_daily_alarm(daily=PUBLIC_INPUTS["06.6"]["daily"],
                       threshold: float = abt.srm.DEFAULT_THRESHOLD) -> int:
    monitor = abt.srm_monitor(daily, threshold=threshold)
    return int(np.argmax(monitor.daily_alarm)) + 1


# --- the text of the exercise notebook -------------------------------------------------------


def _counts_61(i) -> str:
    control, treatment = i["06.1"]["counts"]
    return f"ends with **{control:,}** users in control and **{treatment:,}**"


def _counts_62(i) -> str:
    control, treatment = i["06.2"]["counts"]
    return f"counts are **{control:,}** in control and **{treatment:,}** in treatment"


def _alarm_text(i) -> str:
    g = i["06.4"]
    return (f"runs **{g['per_year']:,}** experiments a year, none of them with a real mismatch. Each "
            f"gets about\n{g['units_per_day']:,} users a day, and its dashboard checks the "
            f"**cumulative** split every day for **{g['days']}** days at\nthreshold "
            f"**{g['threshold']:g}**.")


def _alarm_call(i) -> str:
    g = i["06.4"]
    return (f"abt.srm_false_alarm_rate({g['units_per_day']:_}, {g['days']}, "
            f"threshold={g['threshold']:g}, n_experiments=4_000, rng={g['seed']})")


def _daily_code(i) -> str:
    rows = [f"[{c}, {t}]" for c, t in i["06.6"]["daily"]]
    return "\n".join("    " + ", ".join(rows[k:k + 6]) + "," for k in range(0, len(rows), 6))


SUBSTITUTIONS = (
    Substitution(_counts_61(PUBLIC_INPUTS), _counts_61),
    Substitution(_counts_62(PUBLIC_INPUTS), _counts_62),
    Substitution(_alarm_text(PUBLIC_INPUTS), _alarm_text),
    Substitution(_alarm_call(PUBLIC_INPUTS), _alarm_call),
    Substitution("How many of the 500 experiments",
                 lambda i: f"How many of the {i['06.4']['per_year']:,} experiments"),
    Substitution(_daily_code(PUBLIC_INPUTS), _daily_code),
)


def exercises(inputs: dict) -> tuple[Exercise, ...]:
    """The answer key for ``inputs`` (``PUBLIC_INPUTS`` or a class edition's)."""
    COUNTS_50_50 = inputs["06.1"]["counts"]
    COUNTS_90_10 = inputs["06.2"]["counts"]
    alarm = inputs["06.4"]
    EXPERIMENTS_PER_YEAR, ALARM_DAYS = alarm["per_year"], alarm["days"]
    ALARM_THRESHOLD = alarm["threshold"]
    DAILY_COUNTS = inputs["06.6"]["daily"]

    def _alarms() -> abt.SRMFalseAlarms:
        return _false_alarms(alarm["units_per_day"], ALARM_DAYS, ALARM_THRESHOLD, alarm["seed"])

    return (
        Exercise(
            "06.1",
            "srm_pvalue",
            Number(
                lambda: abt.srm_test(COUNTS_50_50).pvalue,
                rtol=1e-3,
                hint=f"Call abt.srm_test([{COUNTS_50_50[0]:_}, {COUNTS_50_50[1]:_}]) (the default "
                "design is equal shares) and take .pvalue.",
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
                f"abt.srm_test([{COUNTS_90_10[0]:_}, {COUNTS_90_10[1]:_}], [0.9, 0.1]).",
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
                lambda: EXPERIMENTS_PER_YEAR * _alarms().any_cumulative,
                rtol=1e-6,
                hint="Run exactly the seeded call of the question and multiply the share of "
                "experiments with at least one cumulative alarm (.any_cumulative) by "
                f"{EXPERIMENTS_PER_YEAR:,}.",
                mistakes=[
                    (lambda: _alarms().any_cumulative, "That is the share of experiments; the "
                     f"question asks how many of the {EXPERIMENTS_PER_YEAR:,} experiments (multiply by "
                     f"{EXPERIMENTS_PER_YEAR:,})."),
                    (lambda: EXPERIMENTS_PER_YEAR * _alarms().any_daily, "That counts alarms "
                     "of the checks on each day's own counts (.any_daily); the dashboard checks the "
                     "cumulative counts (.any_cumulative)."),
                    (lambda: EXPERIMENTS_PER_YEAR * _alarms().final_only, "That counts alarms "
                     "of a single check on the last day (.final_only); the dashboard checks every "
                     "day (.any_cumulative)."),
                    (EXPERIMENTS_PER_YEAR * ALARM_DAYS * ALARM_THRESHOLD,
                     f"{EXPERIMENTS_PER_YEAR:,} x {ALARM_DAYS} x {ALARM_THRESHOLD:g} = "
                     f"{EXPERIMENTS_PER_YEAR * ALARM_DAYS * ALARM_THRESHOLD:g} "
                     f"treats the {ALARM_DAYS} checks as separate chances of an alarm and counts "
                     "every alarm; "
                     "cumulative checks overlap (each day's counts include the previous days'), so "
                     "far fewer experiments ever raise one. Use the simulation."),
                ],
            ),
        ),
        Exercise(
            "06.5",
            "likely_cause",
            fixed=True,
            answer=Choice(
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
                    (lambda: _first_daily_alarm(DAILY_COUNTS), "That is the first day whose OWN "
                     "counts fire the "
                     "check (.daily_alarm); the dashboard tests the cumulative counts "
                     "(.cumulative_alarm, .first_alarm_day)."),
                    (lambda: abt.srm_monitor(DAILY_COUNTS).first_alarm_day - 1, "That is a 0-based "
                     "index; days are numbered from 1 (.first_alarm_day is already 1-based)."),
                    (lambda: _first_daily_alarm(DAILY_COUNTS, 0.05), "That is the first day "
                     "whose own counts have "
                     "p < 0.05; the rule is a cumulative check at threshold 0.0005."),
                ],
            ),
        ),
        Exercise(
            "06.7",
            "next_step",
            fixed=True,
            answer=Choice(
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


EXERCISES = exercises(PUBLIC_INPUTS)
