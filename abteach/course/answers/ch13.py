"""Answer key of chapter 13, Capstone: an experiment end to end (``solutions/13_capstone.ipynb``).

Every expected value is computed with abteach when first needed; typical wrong answers are
recomputed the same way so that each gets its own hint.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

import abteach as abt
from abteach.course.check import Boolean, Choice, Exercise, Number

# Hillstrom's MineThatData e-mail test (Hillstrom 2008; Yasui 2020, ch. 1): per arm the
# customers, total spend in dollars and the standard deviation of spend per customer.
WOMENS = {"customers": 21_387, "spend": 23_038.11, "spend_sd": 15.116106}
NO_EMAIL = {"customers": 21_306, "spend": 13_908.33, "spend_sd": 11.588200}
# 13.1: users of a three-arm experiment designed 1:1:1.
THREE_ARMS = (10_210, 9_870, 10_135)
# 13.4: cumulative z of the primary metric at 5 equally spaced looks, Lan-DeMets O'Brien-Fleming.
LOOKS, Z_VALUES = 5, (2.10, 2.60, 2.95, 3.40, 3.90)
# 13.5: page load time in seconds (mean, sd, users), control then treatment, and the guardrail.
LOAD_CONTROL, LOAD_TREATMENT, LOAD_TOLERANCE = (1.800, 0.90, 20_000), (1.825, 0.95, 20_000), 0.02
# 13.7: a seeded user-day table (3,000 users, 7 days since first exposure, a fading lift).
USER_DAYS_SEED, USER_DAYS_USERS, USER_DAYS_DAYS = 1307, 3_000, 7
# 13.8: the ship rule's sizing: baseline 10%, effect to detect +2 points, ship from +1.5 points.
SHIP_BASELINE, SHIP_EFFECT, SHIP_MINIMUM = 0.10, 0.02, 0.015


def user_days() -> pd.DataFrame:
    """The user-day table of exercise 13.7 (the solution notebook builds the same one)."""
    rng = np.random.default_rng(USER_DAYS_SEED)
    n, days = USER_DAYS_USERS, USER_DAYS_DAYS
    treated = np.arange(n) % 2 == 1
    visit_rate = rng.beta(2, 4, n)
    lift = 0.5 * np.exp(-np.arange(days) / 2)  # a fading novelty lift
    bought = rng.random((n, days)) < 0.3 * visit_rate[:, None] * (1 + np.outer(treated, lift))
    return pd.DataFrame({"user": np.repeat(np.arange(n), days),
                         "treated": np.repeat(treated, days),
                         "age": np.tile(np.arange(days), n),
                         "purchases": bought.ravel().astype(int)})


def _novelty_slope(scale: str = "relative") -> float:
    table = user_days()
    return abt.exposure_effects(table["user"], table["treated"].to_numpy(), table["age"],
                                table["purchases"], scale=scale).slope


def _spend(arm: dict) -> tuple[float, float, int]:
    """(mean, sd, n) of spend per customer."""
    return arm["spend"] / arm["customers"], arm["spend_sd"], arm["customers"]


def _womens_spend(**options) -> abt.MeansTTest:
    """Spend per customer, Womens E-Mail (treatment) against No E-Mail (control)."""
    return abt.welch_ttest_from_stats(*_spend(NO_EMAIL), *_spend(WOMENS), **options)


def _stop_look(critical: float | None = None) -> int:
    """The stopping look of the design, or of a constant boundary ``critical`` at every look."""
    if critical is None:
        design = abt.boundaries(LOOKS, method="ld-obf")
        fractions = design.information_fractions
        return abt.sequential_analysis(Z_VALUES, fractions, design).stop_look
    return next(k + 1 for k, z in enumerate(Z_VALUES) if abs(z) >= critical)


def _load_time(alternative: str = "smaller") -> abt.MeansTTest:
    return abt.welch_ttest_from_stats(*LOAD_CONTROL, *LOAD_TREATMENT, alternative=alternative)


EXERCISES = (
    Exercise(
        "13.1",
        "srm_pvalue_three_arms",
        Number(
            lambda: abt.srm_test(THREE_ARMS).pvalue,
            rtol=1e-3,
            hint="Pass all three counts at once: abt.srm_test([10_210, 9_870, 10_135]) (equal "
            "designed shares are the default) and take .pvalue.",
            mistakes=[
                (lambda: abt.srm_test(THREE_ARMS[:2]).pvalue, "That checks only the first two "
                 "arms. The SRM check of a three-arm test compares all three counts with their "
                 "designed shares at once (2 degrees of freedom)."),
                (lambda: stats.chi2.sf(abt.srm_test(THREE_ARMS).statistic, 1), "You used 1 "
                 "degree of freedom; a goodness-of-fit test of k arms has k - 1, here 2."),
                (lambda: abt.srm_test(THREE_ARMS).statistic, "That is the chi-square statistic "
                 "X^2; the p-value is in .pvalue."),
            ],
        ),
    ),
    Exercise(
        "13.2",
        "womens_spend_lift_low",
        Number(
            lambda: _womens_spend().lift_ci_low,
            rtol=1e-4,
            hint="Run Welch's test from the summaries, control (No E-Mail) first: "
            "abt.welch_ttest_from_stats(mean_c, sd_c, n_c, mean_t, sd_t, n_t) with mean = total "
            "spend / customers, and take .lift_ci_low.",
            mistakes=[
                (lambda: _womens_spend().ci_low, "That is the lower bound of the ABSOLUTE effect "
                 "in dollars per customer (.ci_low); the question asks for the relative lift "
                 "(.lift_ci_low)."),
                (lambda: _womens_spend().lift_ci_low_symmetric, "That is the symmetric interval "
                 "lift -/+ z SE; the question asks for abteach's default lift interval, the delta "
                 "method on the log of the ratio (.lift_ci_low)."),
                (lambda: _womens_spend(equal_var=True).lift_ci_low, "That is the pooled "
                 "(equal-variance) test; the standard deviations differ (15.1 against 11.6), so "
                 "use Welch's test, the default (equal_var=False)."),
                (lambda: abt.welch_ttest_from_stats(*_spend(WOMENS), *_spend(NO_EMAIL)).lift_ci_low,
                 "You swapped the arms: that is No E-Mail relative to Womens E-Mail. Give the "
                 "control (No E-Mail) first, then the treatment."),
                (lambda: _womens_spend(alpha=0.1).lift_ci_low, "That is a 90% interval (or the "
                 "bound of a one-sided 95% one); the question asks for the two-sided 95% interval "
                 "(alpha = 0.05)."),
            ],
        ),
    ),
    Exercise(
        "13.3",
        "correction",
        Choice(
            "c",
            options=("a", "b", "c", "d"),
            hints={
                "a": "Six tests at 0.05 each give a false claim somewhere with probability up to "
                "1 - 0.95^6 = 26% when nothing works; every claim triggers a campaign, so the "
                "family needs a correction.",
                "b": "Bonferroni controls the family-wise error rate, but Holm's step-down "
                "procedure controls it too, under the same (any) dependence, and rejects at "
                "least as often: there is no reason to prefer Bonferroni.",
                "d": "Benjamini-Hochberg controls the false discovery rate, the expected SHARE "
                "of false claims among the claims, not the probability of any false claim, which "
                "is what the team asked for.",
            },
        ),
    ),
    Exercise(
        "13.4",
        "stop_look",
        Number(
            lambda: _stop_look(),
            hint="Build the design with abt.boundaries(5, method='ld-obf'), pass the z-values, "
            "its information_fractions and the design to abt.sequential_analysis and read "
            ".stop_look (1-based).",
            mistakes=[
                (lambda: _stop_look(stats.norm.isf(0.025)), "That is the first look with "
                 "|Z| >= 1.96, the fixed-sample rule that peeking inflates; the design's "
                 "boundaries are much higher at the early looks."),
                (lambda: _stop_look() - 1, "That is a 0-based index; looks are numbered from 1 "
                 "(.stop_look is already 1-based)."),
                (LOOKS, "The experiment does not have to run to the last look: it stops at the "
                 "first look whose |Z| reaches the boundary."),
            ],
        ),
    ),
    Exercise(
        "13.5",
        "guardrail_passes",
        Boolean(
            lambda: bool(_load_time().lift_ci_high < LOAD_TOLERANCE),
            hint="A guardrail passes only when the bad end of the interval lies within the "
            "tolerance. Here the bad direction is an increase: the one-sided 95% upper bound of "
            "the lift (Welch, alternative='smaller', .lift_ci_high) is above +2%, so a harmful "
            "slowdown cannot be ruled out. A non-significant change is not a passed guardrail.",
        ),
    ),
    Exercise(
        "13.6",
        "womens_verdict",
        Choice(
            "b",
            options=("a", "b", "c", "d"),
            hints={
                "a": "Beating No E-Mail is not enough when a better option exists: the company "
                "sends one e-mail, and the Mens e-mail beats the Womens e-mail head to head on "
                "visits and on spend.",
                "c": "After Holm's correction all six effects are significant, including the "
                "Womens e-mail's spend (Holm-adjusted p about 0.001).",
                "d": "The three arms pass the SRM check easily (p = 0.90 for the designed "
                "1:1:1 split).",
            },
        ),
    ),
    Exercise(
        "13.7",
        "novelty_slope",
        Number(
            lambda: _novelty_slope(),
            rtol=1e-6,
            hint="Pass the four columns to abt.exposure_effects(user, treated, age, purchases, "
            "scale='relative') (treated as a boolean array: .to_numpy()) and take .slope, the "
            "change of the log lift per day since first exposure.",
            mistakes=[
                (lambda: _novelty_slope("absolute"), "That is the slope of the DIFFERENCE of "
                 "purchase rates; purchases per day differ between ages in both arms, so compare "
                 "the relative lift (scale='relative')."),
            ],
        ),
    ),
    Exercise(
        "13.8",
        "n_ship_rule",
        Number(
            lambda: abt.sample_size_ship_rule(SHIP_EFFECT, minimum_effect=SHIP_MINIMUM,
                                              p_control=SHIP_BASELINE),
            rtol=1e-3,
            hint="The rule ships when the estimate clears both z_0.975 SE and 1.5 points; "
            "abt.sample_size_ship_rule(0.02, minimum_effect=0.015, p_control=0.10) gives the "
            "control-arm n at which it ships with probability 0.8.",
            mistakes=[
                (lambda: abt.sample_size_proportions(SHIP_BASELINE, SHIP_BASELINE + SHIP_EFFECT),
                 "That is the sample size of the test alone (80% significant); the rule also "
                 "needs the estimate above 1.5 points, which at that n happens only 76% of the "
                 "time."),
                (lambda: abt.sample_size_proportions(SHIP_BASELINE, SHIP_BASELINE + SHIP_MINIMUM),
                 "That sizes the test to detect +1.5 points; +2 points is the effect to detect "
                 "and +1.5 points the ship threshold: pass effect 0.02 and "
                 "minimum_effect=0.015 to abt.sample_size_ship_rule."),
            ],
        ),
    ),
)
