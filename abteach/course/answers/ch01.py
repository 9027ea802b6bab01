"""Answer key of chapter 1 (hypotheses, metrics and errors).

Expected numbers are computed lazily with abteach itself, from the same seeded calls the
exercises ask for, so the key cannot drift from the library.
"""

from __future__ import annotations

import math

import numpy as np

import abteach as abt
from abteach.course.check import Boolean, Choice, Exercise, Number

# 01.1: 1,000 A/A experiments, 2,000 users per arm, 5% in both arms.
AA_ARGS = (0.05, 0.05, 2000, 2000)
AA_EXPERIMENTS, AA_SEED = 1000, 2
# 01.3: a finished experiment.
RESULT = (1200, 12000, 1290, 12000)
# 01.6: 2,000 A/B experiments at the planned size for 5% vs 6%.
AB_RATES, AB_EXPERIMENTS, AB_SEED = (0.05, 0.06), 2000, 11


def _aa_pvalues(alternative: str = "two-sided") -> np.ndarray:
    sim = abt.simulate_conversions(*AA_ARGS, n_experiments=AA_EXPERIMENTS, rng=AA_SEED)
    return abt.ztest_proportions(*sim, alternative=alternative).pvalue


def _aa_count(alternative: str = "two-sided") -> int:
    return int(np.sum(_aa_pvalues(alternative) < 0.05))


def _planned_n() -> int:
    return math.ceil(abt.sample_size_proportions(*AB_RATES))


def _ab_pvalues(alternative: str = "two-sided") -> np.ndarray:
    n = _planned_n()
    sim = abt.simulate_conversions(*AB_RATES, n, n, n_experiments=AB_EXPERIMENTS, rng=AB_SEED)
    return abt.ztest_proportions(*sim, alternative=alternative).pvalue


def _pvalue(alternative: str = "two-sided") -> float:
    return abt.ztest_proportions(*RESULT, alternative=alternative).pvalue


EXERCISES = (
    Exercise(
        "01.1",
        "n_false_positives",
        Number(
            lambda: _aa_count(),
            hint="Count the experiments whose two-sided p-value is below 0.05: "
            "np.sum(result.pvalue < 0.05), with exactly the seeded call given.",
            mistakes=[
                (lambda: _aa_count() / AA_EXPERIMENTS,
                 "That is the false-positive rate; the question asks for the number of "
                 "experiments (a count out of 1,000)."),
                (lambda: _aa_count("larger"),
                 "That counts one-sided p-values (alternative='larger'); use the default "
                 "two-sided test."),
                (0.05 * AA_EXPERIMENTS,
                 "50 is the count expected on average (0.05 x 1,000); count the experiments "
                 "of this seeded simulation instead."),
            ],
        ),
    ),
    Exercise(
        "01.2",
        "oec",
        Choice(
            "b",
            options=("a", "b", "c", "d"),
            hints={
                "a": "Clicks on the widget are easy to raise without readers being better off "
                "(the widget can steal clicks from the rest of the page): a diagnostic metric, "
                "not the OEC.",
                "c": "Page load time must not get worse, but a faster page is not the goal of "
                "the widget: it is a guardrail.",
                "d": "The ratio of users per arm checks that the experiment itself is sound: a "
                "trust guardrail (sample ratio), never the OEC.",
            },
        ),
    ),
    Exercise(
        "01.3",
        "p_value",
        Number(
            lambda: _pvalue(),
            rtol=1e-3,
            hint="Call abt.ztest_proportions(x_control, n_control, x_treatment, n_treatment) "
            "with the counts in that order and take .pvalue.",
            mistakes=[
                (lambda: _pvalue("larger"),
                 "That is the one-sided p-value (alternative='larger'), half the two-sided "
                 "one; the question asks for the two-sided test."),
                (lambda: _pvalue("smaller"),
                 "That is the one-sided p-value for a decrease (alternative='smaller'); the "
                 "question asks for the two-sided test."),
                (lambda: 1 - _pvalue(),
                 "That is 1 minus the p-value; take .pvalue itself."),
                (lambda: abt.ztest_proportions(*RESULT).statistic,
                 "That is the z statistic; the p-value is in .pvalue."),
            ],
        ),
    ),
    Exercise(
        "01.4",
        "interpretation",
        Choice(
            "c",
            options=("a", "b", "c", "d"),
            hints={
                "a": "The p-value is computed assuming there is no effect; it cannot give the "
                "probability that the treatment works (that depends on how often tested ideas "
                "work at all).",
                "b": "The p-value is P(data this extreme | H0), not P(H0 | data): the "
                "conditional is the wrong way round.",
                "d": "A p-value says nothing about the size of the effect; with enough users a "
                "tiny effect is significant. Look at the confidence interval.",
            },
        ),
    ),
    Exercise(
        "01.5",
        "error_type",
        Choice(
            "b",
            options=("a", "b", "c"),
            hints={
                "a": "A type I error rejects a true null hypothesis (a false alarm); here the "
                "test did not reject, yet an effect existed.",
                "c": "A non-significant result never proves that there is no effect; here the "
                "effect was real and the test missed it.",
            },
        ),
    ),
    Exercise(
        "01.6",
        "rejection_rate",
        Number(
            lambda: float(np.mean(_ab_pvalues() < 0.05)),
            rtol=1e-9,
            hint="Use n = math.ceil(abt.sample_size_proportions(0.05, 0.06)) users per arm, "
            "the seeded call given, and np.mean(result.pvalue < 0.05).",
            mistakes=[
                (lambda: float(np.sum(_ab_pvalues() < 0.05)),
                 "That is the number of experiments that reject; give the fraction (divide "
                 "by 2,000)."),
                (lambda: float(np.mean(_ab_pvalues("larger") < 0.05)),
                 "That uses the one-sided test (alternative='larger'); use the default "
                 "two-sided test."),
                (lambda: abt.power_proportions(*AB_RATES, _planned_n()),
                 "That is the power the formula promises; the question asks for the "
                 "rejection rate of the simulated experiments (it should be close to it)."),
                (0.8,
                 "0.8 is the power the design promises; the question asks for the rejection "
                 "rate of the simulated experiments (it should be close to it)."),
            ],
        ),
    ),
    Exercise(
        "01.7",
        "shows_no_effect",
        Boolean(
            False,
            hint="Not significant is not the same as no effect: the interval still contains "
            "effects as large as the 2-point MDE, so the experiment is inconclusive "
            "(absence of evidence is not evidence of absence).",
        ),
    ),
)
