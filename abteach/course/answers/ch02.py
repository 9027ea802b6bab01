"""Answer key of chapter 2, Sample size and power (``solutions/02_sample_size.ipynb``).

Every expected value is computed with abteach when first needed; typical wrong answers are
recomputed the same way so that each gets its own hint.
"""

from __future__ import annotations

import math

import abteach as abt
from abteach.course.check import Choice, Exercise, Number

# 02.1: 4% baseline, +10% relative lift (4.0% -> 4.4%), alpha 0.05 two-sided, power 0.8.
P_BASE, P_LIFTED = 0.04, 0.04 * 1.10

# 02.2: 10% vs 11%, 12,000 users in total split equally.
TOTAL_BUDGET = 12_000

# 02.3: the design of 02.1, 6,000 eligible users a day, 40% of them in the experiment.
DAILY_USERS, SHARE = 6_000, 0.40

# 02.4: 10% baseline, 3,000 eligible users a day, all in the experiment, 28 days, 50/50.
MDE_DAILY, MDE_DAYS = 3_000, 28

# 02.8: 5% baseline, hoped-for 5.6% (+0.6 pp), ship only if the estimate is >= 0.45 pp.
SHIP_BASE, SHIP_EFFECT, SHIP_MINIMUM = 0.05, 0.006, 0.0045

# 02.9: revenue per user guardrail, sd 40, tolerated loss 0.50, one-sided alpha 0.05, power 0.9.
GUARD_SD, GUARD_MARGIN, GUARD_POWER = 40.0, 0.50, 0.90


def _n_per_arm(**options) -> float:
    return abt.sample_size_proportions(P_BASE, P_LIFTED, **options)


def _weeks_in_days(days: float) -> int:
    return 7 * math.ceil(days / 7)


def _days(n_control: float, *, share: float = SHARE, ratio: float = 1.0) -> float:
    return abt.duration_days(math.ceil(n_control), DAILY_USERS, traffic_share=share, ratio=ratio)


def _mde(n_control: float, **options) -> float:
    return abt.mde_proportions(0.10, n_control, **options)


def _ship_n(**options) -> float:
    return abt.sample_size_ship_rule(
        SHIP_EFFECT, **{"minimum_effect": SHIP_MINIMUM, "p_control": SHIP_BASE, **options}
    )


def _guard_n(**options) -> float:
    return abt.sample_size_noninferiority(
        0.0, **{"margin": GUARD_MARGIN, "sd": GUARD_SD, "power": GUARD_POWER, **options}
    )


EXERCISES = (
    Exercise(
        "02.1",
        "n_per_arm",
        Number(
            lambda: _n_per_arm(),
            rtol=1e-4,
            hint="Use abt.sample_size_proportions(p_control, p_treatment) with p_treatment = "
            "0.04 * 1.10 (a relative lift), two-sided alpha 0.05 and power 0.8; give one arm.",
            mistakes=[
                (lambda: 2 * _n_per_arm(), "That is both arms together; the question asks for "
                 "the users in ONE arm (abteach, like R, returns the per-arm size)."),
                (lambda: abt.sample_size_proportions(P_BASE, P_BASE + 0.10), "A lift of 10% is "
                 "relative: the treatment rate is 0.04 * 1.10 = 0.044, not 0.04 + 0.10."),
                (lambda: _n_per_arm(alternative="larger"), "That is the one-sided sample size; "
                 "the design is two-sided (alternative='two-sided', the default)."),
                (lambda: _n_per_arm(power=0.9), "That is for 90% power; the design asks for 80%."),
            ],
        ),
    ),
    Exercise(
        "02.2",
        "power_at_budget",
        Number(
            lambda: abt.power_proportions(0.10, 0.11, TOTAL_BUDGET / 2),
            rtol=1e-3,
            hint="Split the 12,000 users equally, then call abt.power_proportions(0.10, 0.11, "
            "n_per_arm).",
            mistakes=[
                (lambda: abt.power_proportions(0.10, 0.11, TOTAL_BUDGET), "That gives each arm "
                 "12,000 users; 12,000 is the total, so each arm has 6,000."),
                (lambda: abt.power_proportions(0.10, 0.11, TOTAL_BUDGET / 2, alternative="larger"),
                 "That is the power of a one-sided test; the test is two-sided."),
                (lambda: 1 - abt.power_proportions(0.10, 0.11, TOTAL_BUDGET / 2), "That is beta, "
                 "the probability of missing the effect; power is 1 - beta."),
            ],
        ),
    ),
    Exercise(
        "02.3",
        "days_needed",
        Number(
            lambda: _weeks_in_days(_days(_n_per_arm())),
            rtol=1e-4,
            hint="Total users = 2 * n per arm; users entering per day = 6,000 * 0.40; divide, "
            "then round UP to a multiple of 7 days.",
            mistakes=[
                (lambda: _days(_n_per_arm()), "That is the exact duration; the question asks for "
                 "whole weeks, i.e. the smallest multiple of 7 days at or above it."),
                (lambda: math.ceil(_days(_n_per_arm())), "You rounded up to whole days; round up "
                 "to whole weeks (a multiple of 7 days)."),
                (lambda: _weeks_in_days(_days(_n_per_arm(), share=1.0)), "Only 40% of the "
                 "eligible users enter the experiment: pass traffic_share=0.4."),
                (lambda: _weeks_in_days(_days(_n_per_arm()) / 2), "Both arms need users: the "
                 "experiment enrols 2 * n per arm (duration_days does this with ratio=1)."),
            ],
        ),
    ),
    Exercise(
        "02.4",
        "mde_absolute",
        Number(
            lambda: _mde(MDE_DAILY * MDE_DAYS / 2),
            rtol=1e-3,
            hint="After 28 days each arm has 28 * 3,000 / 2 users; pass that to "
            "abt.mde_proportions(0.10, n_per_arm). Give the absolute MDE as a rate (e.g. 0.01 for "
            "one percentage point).",
            mistakes=[
                (lambda: _mde(MDE_DAILY * MDE_DAYS), "That gives each arm all 84,000 users; they "
                 "are split 50/50, so each arm has 42,000."),
                (lambda: _mde(MDE_DAILY * MDE_DAYS / 2) / 0.10, "That is the relative MDE "
                 "(divided by the baseline); the question asks for the absolute difference."),
                (lambda: 100 * _mde(MDE_DAILY * MDE_DAYS / 2), "That is in percentage points; "
                 "give the MDE as a difference of rates (0.01 for one point)."),
                (lambda: _mde(MDE_DAILY * MDE_DAYS / 2, alternative="larger"), "That is the "
                 "one-sided MDE; the test is two-sided."),
            ],
        ),
    ),
    Exercise(
        "02.5",
        "calculator_method",
        Choice(
            "baseline",
            options=("pooled", "unpooled", "arcsine", "continuity", "baseline"),
            hints={
                "pooled": "The pooled method (R's power.prop.test) gives 3,841 per arm, not 3,623.",
                "unpooled": "The unpooled method gives 3,839 per arm, not 3,623.",
                "arcsine": "The arcsine method (Cohen's h) gives 3,835 per arm, not 3,623.",
                "continuity": "The continuity correction gives MORE users (3,941), not fewer.",
            },
        ),
    ),
    Exercise(
        "02.6",
        "why_disagree",
        Choice(
            "b",
            options=("a", "b", "c", "d"),
            hints={
                "a": "A one-sided test needs FEWER users (about 3,026 per arm), not more.",
                "c": "Both arms together would be about 7,682, twice calculator A's number, not "
                "3,941.",
                "d": "90% power needs about 5,142 per arm, far more than 3,941.",
            },
        ),
    ),
    Exercise(
        "02.7",
        "posthoc_verdict",
        Choice(
            "c",
            options=("a", "b", "c", "d"),
            hints={
                "a": "Observed power is computed from the observed effect, so it is a function of "
                "the p-value: p = 0.30 always gives about 0.18. It says nothing new about whether "
                "the effect is real.",
                "b": "Power is not the probability that the treatment is better; it is a property "
                "of the test at an assumed effect.",
                "d": "Re-running with the observed effect as the target chases noise; plan on the "
                "smallest effect that matters to the business, fixed before the data.",
            },
        ),
    ),
    Exercise(
        "02.8",
        "ship_n",
        Number(
            lambda: _ship_n(),
            rtol=1e-4,
            hint="Size for the rule actually used: abt.sample_size_ship_rule(0.006, "
            "minimum_effect=0.0045, p_control=0.05) (two-sided alpha 0.05, power 0.8).",
            mistakes=[
                (lambda: abt.sample_size_proportions(SHIP_BASE, SHIP_BASE + SHIP_EFFECT),
                 "That is the ordinary sample size: it makes the test significant 80% of the "
                 "time, but the estimate must also clear 0.45 points, which needs more users."),
                (lambda: abt.sample_size_proportions(SHIP_BASE, SHIP_BASE + SHIP_MINIMUM),
                 "That sizes an ordinary test for an effect of 0.45 points; the true effect is "
                 "0.6 points and the rule needs the ESTIMATE to be at least 0.45 points."),
                (lambda: 2 * _ship_n(), "That is both arms; give the users in one arm."),
                (lambda: _ship_n(power=0.9), "That is for 90%; the rule should ship 80% of the "
                 "time."),
            ],
        ),
    ),
    Exercise(
        "02.9",
        "guardrail_n",
        Number(
            lambda: _guard_n(),
            rtol=1e-4,
            hint="A guardrail is a non-inferiority test: abt.sample_size_noninferiority(0.0, "
            "margin=0.50, sd=40, power=0.9), one-sided alpha 0.05 (the default).",
            mistakes=[
                (lambda: _guard_n(alpha=0.025), "That uses z_(1-alpha/2), as a two-sided test "
                 "of 'no difference' would: the non-inferiority test is one-sided at alpha = "
                 "0.05, so its critical value is z_0.95 = 1.645."),
                (lambda: _guard_n(power=0.8), "That is for 80% power; the team asks for 90%."),
                (lambda: abt.sample_size_equivalence(0.0, margin=GUARD_MARGIN, sd=GUARD_SD,
                                                     power=GUARD_POWER),
                 "That is an equivalence (TOST) design, which also rules out large gains; the "
                 "guardrail only needs to rule out a loss."),
            ],
        ),
    ),
    Exercise(
        "02.10",
        "ship_at_mde",
        Choice(
            "b",
            options=("a", "b", "c", "d"),
            hints={
                "a": "80% is the probability of a significant result. The rule also needs the "
                "estimate to reach 2 points, and an estimate centred on 2 points is below that "
                "half of the time.",
                "c": "A larger sample does not help: the estimate is centred on the true 2 points, "
                "so it falls below the 2-point bar half of the time whatever n.",
                "d": "5% is alpha, the rate of significant results when there is NO effect; here "
                "the effect is real and equal to the bar.",
            },
        ),
    ),
)
