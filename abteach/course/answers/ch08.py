"""Answer key of chapter 8, Many metrics, many variants (``solutions/08_multiple_testing.ipynb``).

Every expected value is computed with abteach when first needed; typical wrong answers are
recomputed the same way so that each gets its own hint.
"""

from __future__ import annotations

import numpy as np

import abteach as abt
from abteach.course.check import Choice, Exercise, Number

ALPHA = 0.05

# 08.1: twelve independent metrics, none affected, each tested at 0.05.
M_NULL = 12

# 08.2 and 08.3: the ten p-values of an exploratory scorecard (in the order the dashboard lists them).
SCORECARD = (0.041, 0.001, 0.38, 0.012, 0.029, 0.74, 0.004, 0.19, 0.027, 0.008)

# 08.4: five variants against one control; the question asks about variant A (the first).
VARIANTS = (0.011, 0.040, 0.009, 0.022, 0.30)

# 08.5: four variants against one control, 10% -> 11%, power 0.8, equal arms.
K_VARIANTS, P_BASE, P_TARGET = 4, 0.10, 0.11


def _count(method: str) -> int:
    return abt.multiple_tests(SCORECARD, method=method, alpha=ALPHA).n_rejected


def _bh_thresholds() -> tuple[np.ndarray, np.ndarray]:
    """Sorted p-values and the BH thresholds i q / m beside them."""
    p = np.sort(SCORECARD)
    return p, np.arange(1, p.size + 1) * ALPHA / p.size


def _bh_stopped_at_first_failure() -> int:
    """BH run as a step-DOWN rule: reject from the smallest p until the first p_(i) > i q / m."""
    p, thresholds = _bh_thresholds()
    below = p <= thresholds
    return int(np.argmin(below)) if not below.all() else int(p.size)


def _bh_each_below_own_threshold() -> int:
    """Count of p_(i) <= i q / m, without rejecting everything up to the largest such i."""
    p, thresholds = _bh_thresholds()
    return int(np.sum(p <= thresholds))


def _variant_a(method: str) -> float:
    return float(abt.adjust_pvalues(VARIANTS, method)[0])


def _variant_a_rank() -> int:
    """Rank (1 = smallest) of variant A's p-value among the five."""
    return int(np.sum(np.array(VARIANTS) <= VARIANTS[0]))


def _n_per_arm(alpha: float) -> float:
    return abt.sample_size_proportions(P_BASE, P_TARGET, alpha=alpha)


EXERCISES = (
    Exercise(
        "08.1",
        "fwer_twelve",
        Number(
            lambda: 1 - (1 - ALPHA) ** M_NULL,
            rtol=1e-3,
            hint="Each null test stays quiet with probability 0.95; all twelve independent tests "
            "stay quiet with probability 0.95 ** 12. The FWER is the complement.",
            mistakes=[
                (lambda: M_NULL * ALPHA, "m * alpha = 0.6 is the expected NUMBER of false "
                 "positives (and Bonferroni's upper bound), not the probability of at least one; "
                 "for m = 20 or more it would even exceed 1. Use 1 - (1 - alpha) ** m."),
                (lambda: (1 - ALPHA) ** M_NULL, "That is the probability that NO test is "
                 "significant; the FWER is its complement, 1 - 0.95 ** 12."),
                (lambda: 1 - (1 - ALPHA / M_NULL) ** M_NULL, "That is the FWER after a "
                 "Bonferroni correction (each test at 0.05 / 12); the question tests each metric "
                 "at 0.05, uncorrected."),
            ],
        ),
    ),
    Exercise(
        "08.2",
        "n_bonferroni",
        Number(
            lambda: _count("bonferroni"),
            hint="Bonferroni rejects the hypotheses with p <= alpha / m = 0.05 / 10 = 0.005; "
            "count them (or use abt.multiple_tests(pvalues, method='bonferroni').n_rejected).",
            mistakes=[
                (lambda: int(np.sum(np.array(SCORECARD) <= ALPHA)), "You compared the raw "
                 "p-values with alpha = 0.05. Bonferroni compares each with alpha / m = 0.005 "
                 "(equivalently, the adjusted p-value m * p with 0.05)."),
                (lambda: _count("bh"), "That is the Benjamini-Hochberg count (an FDR method); "
                 "Bonferroni uses the single threshold alpha / m for every p-value."),
            ],
        ),
    ),
    Exercise(
        "08.3",
        "n_bh",
        Number(
            lambda: _count("bh"),
            hint="Sort the p-values, find the LARGEST i with p_(i) <= i * 0.05 / 10, and reject "
            "the i smallest (or use abt.multiple_tests(pvalues, method='bh').n_rejected).",
            mistakes=[
                (lambda: int(np.sum(np.array(SCORECARD) <= ALPHA)), "You counted the raw "
                 "p-values below 0.05, with no correction at all. BH compares the i-th smallest "
                 "p-value with i * q / m."),
                (lambda: _count("bonferroni"), "That is the Bonferroni count (threshold q / m for "
                 "every p-value); BH's threshold grows with the rank: i * q / m."),
                (lambda: _bh_stopped_at_first_failure(), "You stopped at the first p_(i) above "
                 "its threshold i * q / m (a step-down rule). BH is step-UP: look for the LARGEST "
                 "i with p_(i) <= i q / m and reject all i smallest, even if a p-value in between "
                 "missed its own threshold."),
                (lambda: _bh_each_below_own_threshold(), "You counted the p-values that are below "
                 "their own threshold i * q / m. BH rejects ALL hypotheses up to the largest such "
                 "i, including those in between that missed their own threshold."),
            ],
        ),
    ),
    Exercise(
        "08.4",
        "holm_adjusted_a",
        Number(
            lambda: _variant_a("holm"),
            rtol=1e-3,
            hint="Sort the five p-values, multiply the i-th smallest by m - i + 1, take the running "
            "maximum from the smallest up (abt.adjust_pvalues(pvalues, 'holm')), then read "
            "variant A's value.",
            mistakes=[
                (lambda: (len(VARIANTS) - _variant_a_rank() + 1) * VARIANTS[0], "You multiplied "
                 "A's p-value by m - i + 1 = 4 but forgot Holm's running maximum: an adjusted "
                 "p-value can never be below the one of a smaller raw p-value (here 5 * 0.009). "
                 "(Hochberg's step-up minimum also gives this value.)"),
                (lambda: _variant_a("bonferroni"), "That is the Bonferroni-adjusted p-value "
                 "(m * p = 5 * 0.011); Holm multiplies the i-th smallest p-value by m - i + 1 only."),
                (lambda: _variant_a("bh"), "That is the Benjamini-Hochberg adjusted p-value "
                 "(an FDR method); the question asks for Holm's (FWER)."),
                (lambda: (len(VARIANTS) - _variant_a_rank()) * VARIANTS[0], "The factor of the "
                 "i-th smallest p-value is m - i + 1 (5 for the smallest, 4 for the second), "
                 "not m - i."),
                (lambda: VARIANTS[0], "That is the raw p-value of variant A; adjust it with "
                 "abt.adjust_pvalues(pvalues, 'holm')."),
            ],
        ),
    ),
    Exercise(
        "08.5",
        "n_per_arm_variants",
        Number(
            lambda: _n_per_arm(ALPHA / K_VARIANTS),
            rtol=1e-3,
            hint="Four comparisons (each variant against the control) share the FWER of 0.05: "
            "Bonferroni gives each alpha = 0.05 / 4; pass it to abt.sample_size_proportions.",
            mistakes=[
                (lambda: _n_per_arm(ALPHA), "That ignores the four comparisons: with alpha = "
                 "0.05 per comparison the chance of at least one false winner is far above 5%. "
                 "Use alpha = 0.05 / 4."),
                (lambda: _n_per_arm(ALPHA / (K_VARIANTS + 1)), "There are five arms but only "
                 "four comparisons (each variant against the control): alpha = 0.05 / 4."),
                (lambda: _n_per_arm(ALPHA / (2 * K_VARIANTS)), "abt.sample_size_proportions is "
                 "already two-sided (it splits alpha between the tails itself): pass alpha = "
                 "0.05 / 4, not 0.05 / 8."),
                (lambda: (K_VARIANTS + 1) * _n_per_arm(ALPHA / K_VARIANTS), "That is the total "
                 "of all five arms; the question asks for the users in ONE arm."),
            ],
        ),
    ),
    Exercise(
        "08.6",
        "scorecard_plan",
        Choice(
            "c",
            options=("a", "b", "c", "d"),
            hints={
                "a": "Bonferroni on the guardrails makes each one harder to trip, so real harm is "
                "missed more often, and the missed harm is the costly error. Bonferroni on 40 "
                "exploratory metrics throws away most real leads for a guarantee nobody needs.",
                "b": "For exploratory metrics BH is right; for guardrails an FDR correction still "
                "raises the bar a harm must clear, and a missed harm is the costly error.",
                "d": "This is backwards: the strictest guarantee (FWER) would go where false "
                "leads are cheap, and no protection where a missed harm is expensive.",
            },
        ),
    ),
    Exercise(
        "08.7",
        "primary_correction",
        Choice(
            "b",
            options=("a", "b", "c", "d"),
            hints={
                "a": "The family is the set of tests on which one decision rests. Only the "
                "pre-registered primary metric decides; the secondary metrics never make the "
                "ship decision, so they are a separate family.",
                "c": "BH across all 26 would still let the 25 secondary metrics, which do not "
                "decide anything, change the threshold of the one metric that does.",
                "d": "Randomisation makes each single test valid; it does nothing against the "
                "inflation of false positives when many tests are run.",
            },
        ),
    ),
)
