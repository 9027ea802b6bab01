"""Answer key of chapter 12, Beyond the average (``solutions/12_beyond.ipynb``).

Every expected value is computed with abteach when first needed; typical wrong answers are
recomputed the same way so that each gets its own hint.
"""

from __future__ import annotations

import numpy as np

import abteach as abt
from abteach.course.check import Boolean, Choice, Exercise, Number

# 12.1: a conversion experiment sliced by platform (users and conversions per arm).
SEGMENTS = ("desktop", "mobile", "tablet", "app")
X_CONTROL, N_CONTROL = (480, 610, 95, 300), (10_000, 12_000, 2_000, 6_000)
X_TREATMENT, N_TREATMENT = (530, 700, 90, 330), (10_000, 12_000, 2_000, 6_000)

# 12.2 and 12.3: five segment effects (absolute, treatment - control) and their standard errors.
EFFECTS = (0.012, 0.004, -0.003, 0.009, 0.020)
STANDARD_ERRORS = (0.004, 0.003, 0.006, 0.005, 0.010)

# 12.5: conversions and users per arm.
X_C, N_C, X_T, N_T = 410, 9_000, 468, 9_000


def _segments(method: str):
    return abt.segment_effects_proportions(SEGMENTS, X_CONTROL, N_CONTROL, X_TREATMENT,
                                           N_TREATMENT, method=method)


def _desktop(field: str, method: str = "holm") -> float:
    return float(getattr(_segments(method), field)[SEGMENTS.index("desktop")])


def _shrinkage():
    return abt.shrink_effects(EFFECTS, STANDARD_ERRORS)


def _z_pvalue(alternative: str) -> float:
    return abt.ztest_proportions(X_C, N_C, X_T, N_T, alternative=alternative).pvalue


EXERCISES = (
    Exercise(
        "12.1",
        "holm_desktop",
        Number(
            lambda: _desktop("pvalue_adjusted"),
            rtol=2e-3,
            hint="Test each of the four segments (unpooled two-proportion z-test), then adjust the "
            "four p-values with Holm: abt.segment_effects_proportions(..., method='holm') gives "
            "them all; read the desktop entry of pvalue_adjusted.",
            mistakes=[
                (lambda: _desktop("pvalue"), "That is desktop's raw p-value. Four segments were "
                 "tested, so the p-value must be adjusted across the family (Holm)."),
                (lambda: _desktop("pvalue_adjusted", "bonferroni"), "That is the Bonferroni "
                 "adjustment (4 x p). Holm multiplies the smallest p-value by m = 4, the second "
                 "smallest (desktop's) by 3, and so on, keeping the running maximum."),
                (lambda: _desktop("pvalue_adjusted", "bh"), "That is the Benjamini-Hochberg "
                 "(FDR) adjustment; the question asks for Holm (family-wise error)."),
            ],
        ),
    ),
    Exercise(
        "12.2",
        "tau2",
        Number(
            lambda: float(_shrinkage().tau2),
            rtol=5e-3,
            atol=1e-9,
            hint="DerSimonian-Laird: w_i = 1 / se_i^2, Q = sum w_i (d_i - weighted mean)^2, "
            "tau^2 = max(0, (Q - (k - 1)) / (sum w - sum w^2 / sum w)); or "
            "abt.shrink_effects(effects, standard_errors).tau2.",
            mistakes=[
                (lambda: float(np.var(EFFECTS, ddof=1)), "That is the plain variance of the raw "
                 "estimates. It mixes the true spread with the sampling noise (the standard "
                 "errors); tau^2 is what remains after removing the noise."),
                (lambda: float(np.var(EFFECTS, ddof=1) - np.mean(np.square(STANDARD_ERRORS))),
                 "Subtracting the average squared SE is the right idea, but DerSimonian-Laird "
                 "weights the segments by 1 / se^2 (and truncates at 0)."),
            ],
        ),
    ),
    Exercise(
        "12.3",
        "shrunken_last",
        Number(
            lambda: float(_shrinkage().shrunken[-1]),
            rtol=2e-3,
            hint="shrunken_i = mean + (1 - B_i) (d_i - mean) with B_i = se_i^2 / (se_i^2 + tau^2) "
            "and the random-effects mean; abt.shrink_effects(...).shrunken[-1].",
            mistakes=[
                (lambda: EFFECTS[-1], "That is the raw estimate of the last segment; shrinkage "
                 "pulls it toward the overall mean, the more so as its SE (0.010) is the largest."),
                (lambda: float(_shrinkage().mean), "That is the overall (random-effects) mean: "
                 "full shrinkage. With tau^2 > 0 the segment keeps a share 1 - B of its own "
                 "deviation from the mean."),
                (lambda: float(abt.heterogeneity_test(EFFECTS, STANDARD_ERRORS).pooled_effect),
                 "That is the fixed-effect (inverse-variance) mean, the target only when "
                 "tau^2 = 0; the segment keeps a share 1 - B of its deviation."),
            ],
        ),
    ),
    Exercise(
        "12.4",
        "s_learner_constant",
        Choice(
            expected="b",
            options=("a", "b", "c"),
            hints={
                "a": "The model y = b0 + b1 x1 + b2 x2 + g w has one treatment coefficient g, so "
                "its predicted effect mu(x, 1) - mu(x, 0) = g is the same for everybody whatever "
                "the data; a constant prediction is no evidence of a constant effect.",
                "c": "More data would estimate g more precisely, but g is still one number: the "
                "model has no term through which the effect could depend on x.",
            },
        ),
    ),
    Exercise(
        "12.5",
        "prob_beat",
        Number(
            lambda: float(abt.beta_binomial_ab(X_C, N_C, X_T, N_T, draws=100, rng=0)
                          .prob_treatment_better),
            rtol=1e-3,
            hint="Posteriors Beta(1 + x, 1 + n - x) for each arm with the flat prior; "
            "P(p_t > p_c) by Evan Miller's sum, or "
            "abt.beta_binomial_ab(...).prob_treatment_better.",
            mistakes=[
                (lambda: 1 - _z_pvalue("two-sided"), "That is 1 minus the two-sided p-value. "
                 "P(beat) is close to 1 minus the ONE-sided p-value with a flat prior, and it is "
                 "not a p-value at all: compute it from the two beta posteriors."),
                (lambda: _z_pvalue("larger"), "That is the one-sided p-value, a probability of "
                 "the data under 'no effect'. P(beat) is a probability that the treatment is "
                 "better, given the data: close to 1 minus this number here."),
            ],
        ),
    ),
    Exercise(
        "12.6",
        "pbeat_is_error_rate",
        Boolean(
            expected=False,
            hint="P(beat) = 0.978 says: given these data and the prior, the treatment's rate is "
            "higher with probability 0.978. It is not the false-positive rate of the decision "
            "rule 'ship when P(beat) > 0.95': under no effect that rule fires in about 5% of "
            "experiments when checked once, and far more often when checked every day.",
        ),
    ),
    Exercise(
        "12.7",
        "after_launch",
        Choice(
            expected="b",
            options=("a", "b", "c"),
            hints={
                "a": "In the experiment the treatment spent faster from budgets it shared with "
                "control, taking money control would have spent. After launch every advertiser "
                "still spends at most its budget, so revenue cannot rise by the full 20% where "
                "budgets bind.",
                "c": "Budgets cap what advertisers spend; where they bind, dearer clicks buy fewer "
                "clicks, not more revenue. The experiment overstates the effect, it does not "
                "understate it.",
            },
        ),
    ),
)
