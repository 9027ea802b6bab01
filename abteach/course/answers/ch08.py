"""Answer key of chapter 8, Many metrics, many variants (``solutions/08_multiple_testing.ipynb``).

Every expected value is computed with abteach when first needed; typical wrong answers are
recomputed the same way so that each gets its own hint. Class editions draw their own inputs
(:func:`draw_inputs`, see :mod:`abteach.course.editions`); 08.6 and 08.7 are multiple choice and
cannot vary (``fixed``).
"""

from __future__ import annotations

import numpy as np

import abteach as abt
from abteach.course.check import Choice, Exercise, Number
from abteach.course.editions import Substitution, percent

ALPHA = 0.05
WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}

# The inputs of the public edition (class editions draw their own, see draw_inputs).
PUBLIC_INPUTS = {
    # 08.1: independent metrics, none affected, each tested at 0.05.
    "08.1": {"m_null": 12},
    # 08.2 and 08.3: the ten p-values of an exploratory scorecard (in the dashboard's order).
    "08.2": {"scorecard": (0.041, 0.001, 0.38, 0.012, 0.029, 0.74, 0.004, 0.19, 0.027, 0.008)},
    # 08.4: five variants against one control; the question asks about variant A (the first).
    "08.4": {"variants": (0.011, 0.040, 0.009, 0.022, 0.30)},
    # 08.5: variants against one control, base -> target rate, power 0.8, equal arms.
    "08.5": {"k_variants": 4, "p_base": 0.10, "p_target": 0.11},
}


def draw_inputs(group: str, rng) -> dict:
    """A class edition's inputs of ``group`` (see :mod:`abteach.course.editions`)."""
    if group == "08.1":
        return {"m_null": int(rng.integers(6, 21))}
    if group == "08.2":
        small = rng.choice(np.arange(1, 46), size=int(rng.integers(5, 8)), replace=False) / 1000
        large = rng.choice(np.arange(10, 90), size=10 - small.size, replace=False) / 100
        return {"scorecard": tuple(float(p) for p in rng.permutation(np.r_[small, large]))}
    if group == "08.4":
        a = int(rng.integers(8, 20))
        c = int(rng.integers(int(0.8 * a) + 1, a))  # 4 A < 5 C: Holm's running maximum matters
        others = (int(rng.integers(25, 60)), int(rng.integers(a + 2, 25)))
        return {"variants": (a / 1000, others[0] / 1000, c / 1000, others[1] / 1000,
                             int(rng.integers(15, 60)) / 100)}
    if group == "08.5":
        base = float(rng.choice([0.04, 0.05, 0.08, 0.10, 0.12]))
        return {"k_variants": int(rng.integers(3, 6)), "p_base": base,
                "p_target": round(base * (1 + float(rng.choice([0.1, 0.125, 0.15, 0.2]))), 4)}
    raise ValueError(f"group must be one of {sorted(PUBLIC_INPUTS)}, got {group!r}")


def _p_list(values) -> str:
    return ", ".join(f"{p:.3f}" if p < 0.1 else f"{p:.2f}" for p in values)


def _variants_text(i) -> str:
    return ("p-values are " + ", ".join(f"{name} {value}" for name, value in
                                         zip("ABCDE", _p_list(i["08.4"]["variants"]).split(", "))))


def _sizing_text(i) -> str:
    s = i["08.5"]
    return f"lift from {percent(s['p_base'])} to {percent(s['p_target'])} in each comparison"


SUBSTITUTIONS = (
    Substitution("**12 metrics**", lambda i: f"**{i['08.1']['m_null']} metrics**"),
    Substitution("Assume the 12 tests", lambda i: f"Assume the {i['08.1']['m_null']} tests"),
    Substitution("scorecard = [0.041, 0.001, 0.38, 0.012, 0.029, 0.74, 0.004, 0.19, 0.027, 0.008]",
                 lambda i: f"scorecard = [{_p_list(i['08.2']['scorecard'])}]"),
    Substitution("p-values are A 0.011, B 0.040, C 0.009, D 0.022, E 0.30", _variants_text),
    Substitution("variant_p = [0.011, 0.040, 0.009, 0.022, 0.30]",
                 lambda i: f"variant_p = [{_p_list(i['08.4']['variants'])}]"),
    Substitution("A page converts 10% of its visitors",
                 lambda i: f"A page converts {percent(i['08.5']['p_base'])} of its visitors"),
    Substitution("**four variants**", lambda i: f"**{WORDS[i['08.5']['k_variants']]} variants**"),
    Substitution("lift from 10% to 11% in each comparison", _sizing_text),
    Substitution("error rate of the four comparisons",
                 lambda i: f"error rate of the {WORDS[i['08.5']['k_variants']]} comparisons"),
)


def _count(scorecard, method: str) -> int:
    return abt.multiple_tests(scorecard, method=method, alpha=ALPHA).n_rejected


def _bh_thresholds(scorecard) -> tuple[np.ndarray, np.ndarray]:
    """Sorted p-values and the BH thresholds i q / m beside them."""
    p = np.sort(scorecard)
    return p, np.arange(1, p.size + 1) * ALPHA / p.size


def _bh_stopped_at_first_failure(scorecard) -> int:
    """BH run as a step-DOWN rule: reject from the smallest p until the first p_(i) > i q / m."""
    p, thresholds = _bh_thresholds(scorecard)
    below = p <= thresholds
    return int(np.argmin(below)) if not below.all() else int(p.size)


def _bh_each_below_own_threshold(scorecard) -> int:
    """Count of p_(i) <= i q / m, without rejecting everything up to the largest such i."""
    p, thresholds = _bh_thresholds(scorecard)
    return int(np.sum(p <= thresholds))


def _variant_a(variants, method: str) -> float:
    return float(abt.adjust_pvalues(variants, method)[0])


def _variant_a_rank(variants) -> int:
    """Rank (1 = smallest) of variant A's p-value among the five."""
    return int(np.sum(np.array(variants) <= variants[0]))


def _n_per_arm(p_base: float, p_target: float, alpha: float) -> float:
    return abt.sample_size_proportions(p_base, p_target, alpha=alpha)


def exercises(inputs: dict) -> tuple[Exercise, ...]:
    """The answer key for ``inputs`` (``PUBLIC_INPUTS`` or a class edition's)."""
    M_NULL = inputs["08.1"]["m_null"]
    SCORECARD = inputs["08.2"]["scorecard"]
    VARIANTS = inputs["08.4"]["variants"]
    s = inputs["08.5"]
    K_VARIANTS, P_BASE, P_TARGET = s["k_variants"], s["p_base"], s["p_target"]
    return _exercises(M_NULL, SCORECARD, VARIANTS, K_VARIANTS, P_BASE, P_TARGET)


def _exercises(M_NULL, SCORECARD, VARIANTS, K_VARIANTS, P_BASE, P_TARGET) -> tuple[Exercise, ...]:
    M = len(SCORECARD)
    K = WORDS[K_VARIANTS]
    rank_a = _variant_a_rank(VARIANTS)
    smallest = min(VARIANTS)

    return (
        Exercise(
            "08.1",
            "fwer_twelve",
            Number(
                lambda: 1 - (1 - ALPHA) ** M_NULL,
                rtol=1e-3,
                hint=f"Each null test stays quiet with probability 0.95; all {M_NULL} independent tests "
                f"stay quiet with probability 0.95 ** {M_NULL}. The FWER is the complement.",
                mistakes=[
                    (lambda: M_NULL * ALPHA, f"m * alpha = {M_NULL * ALPHA:g} is the expected NUMBER of false "
                     "positives (and Bonferroni's upper bound), not the probability of at least one; "
                     "for m = 20 or more it would even exceed 1. Use 1 - (1 - alpha) ** m."),
                    (lambda: (1 - ALPHA) ** M_NULL, "That is the probability that NO test is "
                     f"significant; the FWER is its complement, 1 - 0.95 ** {M_NULL}."),
                    (lambda: 1 - (1 - ALPHA / M_NULL) ** M_NULL, "That is the FWER after a "
                     f"Bonferroni correction (each test at 0.05 / {M_NULL}); the question tests each metric "
                     "at 0.05, uncorrected."),
                ],
            ),
        ),
        Exercise(
            "08.2",
            "n_bonferroni",
            Number(
                lambda: _count(SCORECARD, "bonferroni"),
                hint=f"Bonferroni rejects the hypotheses with p <= alpha / m = 0.05 / {M} = {ALPHA / M:g}; "
                "count them (or use abt.multiple_tests(pvalues, method='bonferroni').n_rejected).",
                mistakes=[
                    (lambda: int(np.sum(np.array(SCORECARD) <= ALPHA)), "You compared the raw "
                     f"p-values with alpha = 0.05. Bonferroni compares each with alpha / m = {ALPHA / M:g} "
                     "(equivalently, the adjusted p-value m * p with 0.05)."),
                    (lambda: _count(SCORECARD, "bh"), "That is the Benjamini-Hochberg count (an FDR method); "
                     "Bonferroni uses the single threshold alpha / m for every p-value."),
                ],
            ),
        ),
        Exercise(
            "08.3",
            "n_bh",
            Number(
                lambda: _count(SCORECARD, "bh"),
                hint=f"Sort the p-values, find the LARGEST i with p_(i) <= i * 0.05 / {M}, and reject "
                "the i smallest (or use abt.multiple_tests(pvalues, method='bh').n_rejected).",
                mistakes=[
                    (lambda: int(np.sum(np.array(SCORECARD) <= ALPHA)), "You counted the raw "
                     "p-values below 0.05, with no correction at all. BH compares the i-th smallest "
                     "p-value with i * q / m."),
                    (lambda: _count(SCORECARD, "bonferroni"), "That is the Bonferroni count (threshold q / m for "
                     "every p-value); BH's threshold grows with the rank: i * q / m."),
                    (lambda: _bh_stopped_at_first_failure(SCORECARD), "You stopped at the first p_(i) above "
                     "its threshold i * q / m (a step-down rule). BH is step-UP: look for the LARGEST "
                     "i with p_(i) <= i q / m and reject all i smallest, even if a p-value in between "
                     "missed its own threshold."),
                    (lambda: _bh_each_below_own_threshold(SCORECARD), "You counted the p-values that are below "
                     "their own threshold i * q / m. BH rejects ALL hypotheses up to the largest such "
                     "i, including those in between that missed their own threshold."),
                ],
            ),
        ),
        Exercise(
            "08.4",
            "holm_adjusted_a",
            Number(
                lambda: _variant_a(VARIANTS, "holm"),
                rtol=1e-3,
                hint="Sort the five p-values, multiply the i-th smallest by m - i + 1, take the running "
                "maximum from the smallest up (abt.adjust_pvalues(pvalues, 'holm')), then read "
                "variant A's value.",
                mistakes=[
                    (lambda: (len(VARIANTS) - rank_a + 1) * VARIANTS[0], "You multiplied "
                     f"A's p-value by m - i + 1 = {len(VARIANTS) - rank_a + 1} but forgot Holm's "
                     "running maximum: an adjusted p-value can never be below the one of a "
                     f"smaller raw p-value (here {len(VARIANTS)} * {smallest:g}). "
                     "(Hochberg's step-up minimum also gives this value.)"),
                    (lambda: _variant_a(VARIANTS, "bonferroni"), "That is the Bonferroni-adjusted p-value "
                     f"(m * p = {len(VARIANTS)} * {VARIANTS[0]:g}); Holm multiplies the i-th "
                     "smallest p-value by m - i + 1 only."),
                    (lambda: _variant_a(VARIANTS, "bh"), "That is the Benjamini-Hochberg adjusted p-value "
                     "(an FDR method); the question asks for Holm's (FWER)."),
                    (lambda: (len(VARIANTS) - rank_a) * VARIANTS[0], "The factor of the "
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
                lambda: _n_per_arm(P_BASE, P_TARGET, ALPHA / K_VARIANTS),
                rtol=1e-3,
                hint=f"{K.capitalize()} comparisons (each variant against the control) share the FWER of "
                f"0.05: Bonferroni gives each alpha = 0.05 / {K_VARIANTS}; pass it to "
                "abt.sample_size_proportions.",
                mistakes=[
                    (lambda: _n_per_arm(P_BASE, P_TARGET, ALPHA), f"That ignores the {K} comparisons: with alpha = "
                     "0.05 per comparison the chance of at least one false winner is far above 5%. "
                     f"Use alpha = 0.05 / {K_VARIANTS}."),
                    (lambda: _n_per_arm(P_BASE, P_TARGET, ALPHA / (K_VARIANTS + 1)), f"There are {WORDS[K_VARIANTS + 1]} arms but only "
                     f"{K} comparisons (each variant against the control): alpha = 0.05 / {K_VARIANTS}."),
                    (lambda: _n_per_arm(P_BASE, P_TARGET, ALPHA / (2 * K_VARIANTS)), "abt.sample_size_proportions is "
                     "already two-sided (it splits alpha between the tails itself): pass alpha = "
                     f"0.05 / {K_VARIANTS}, not 0.05 / {2 * K_VARIANTS}."),
                    (lambda: (K_VARIANTS + 1) * _n_per_arm(P_BASE, P_TARGET, ALPHA / K_VARIANTS), "That is the total "
                     f"of all {WORDS[K_VARIANTS + 1]} arms; the question asks for the users in ONE arm."),
                ],
            ),
        ),
        Exercise(
            "08.6",
            "scorecard_plan",
            fixed=True,
            answer=Choice(
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
            fixed=True,
            answer=Choice(
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


EXERCISES = exercises(PUBLIC_INPUTS)
