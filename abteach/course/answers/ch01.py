"""Answer key of chapter 1 (hypotheses, metrics and errors).

Expected numbers are computed lazily with abteach itself, from the same seeded calls the
exercises ask for, so the key cannot drift from the library.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

import abteach as abt
from abteach.course.check import Boolean, Choice, Exercise, Number
from abteach.course.editions import Substitution, percent

# The inputs of the public edition (class editions draw their own, see draw_inputs).
PUBLIC_INPUTS = {
    # 01.1: 1,000 A/A experiments, seeded.
    "01.1": {"rate": 0.05, "n": 2000, "experiments": 1000, "seed": 2},
    # 01.3: a finished experiment (x_control, n_control, x_treatment, n_treatment).
    "01.3": {"result": (1200, 12000, 1290, 12000)},
    # 01.6: 2,000 A/B experiments at the planned size, seeded.
    "01.6": {"rates": (0.05, 0.06), "seed": 11},
    # 01.7: the interval of an experiment with a minimum effect worth detecting of +2 points.
    "01.7": {"low": -1.0, "high": 2.5},
}
AB_EXPERIMENTS, MDE_POINTS = 2000, 2.0


def draw_inputs(group: str, rng) -> dict:
    """A class edition's inputs of ``group`` (see :mod:`abteach.course.editions`)."""
    if group == "01.1":
        return {"rate": float(rng.choice([0.03, 0.04, 0.05, 0.08, 0.10])),
                "n": 1000 * int(rng.integers(1, 6)), "seed": int(rng.integers(3, 1000)),
                # at least 1,500 runs: the count then never lands near the public edition's
                "experiments": 500 * int(rng.integers(3, 9))}
    if group == "01.3":
        n = 1000 * int(rng.integers(10, 16))
        x_control = int(n * rng.uniform(0.08, 0.12))
        return {"result": (x_control, n, int(x_control * rng.uniform(1.02, 1.10)), n)}
    if group == "01.6":
        base = float(rng.choice([0.04, 0.05, 0.06, 0.08]))
        return {"rates": (base, round(base + float(rng.choice([0.01, 0.015, 0.02])), 3)),
                "seed": int(rng.integers(12, 1000))}
    if group == "01.7":
        centre = int(rng.integers(0, 11)) / 10  # a harm of 2 points is never excluded by chance
        half = int(rng.integers(8, 20)) / 10
        return {"low": round(centre - half, 1), "high": round(centre + half, 1)}
    raise ValueError(f"group must be one of {sorted(PUBLIC_INPUTS)}, got {group!r}")


def _aa_call(i) -> str:
    a = i["01.1"]
    return (f"abt.simulate_conversions({a['rate']}, {a['rate']}, {a['n']}, {a['n']}, "
            f"n_experiments={a['experiments']}, rng={a['seed']})")


def _ab_call(i) -> str:
    rates = i["01.6"]["rates"]
    return (f"abt.simulate_conversions({rates[0]}, {rates[1]}, n, n, n_experiments=2000, "
            f"rng={i['01.6']['seed']})")


def _result_text(i) -> str:
    xc, nc, xt, nt = i["01.3"]["result"]
    return f"ends with {xc:,} purchases among {nc:,} control users and {xt:,} purchases among\n{nt:,}"


def _interval_pvalue(low: float, high: float) -> float:
    """Two-sided p-value of the normal test whose 95% interval is (low, high)."""
    se = (high - low) / (2 * stats.norm.ppf(0.975))
    return float(2 * stats.norm.sf(abs(low + high) / 2 / se))


def _interval_text(i) -> str:
    low, high = i["01.7"]["low"], i["01.7"]["high"]
    return (f"p = {_interval_pvalue(low, high):.2f} and a 95% confidence interval for the effect "
            f"from {low:.1f} to {high:+.1f} percentage points")


SUBSTITUTIONS = (
    Substitution("with 2,000 users per arm and a true purchase rate of 5% in both",
                 lambda i: f"with {i['01.1']['n']:,} users per arm and a true purchase rate of "
                 f"{percent(i['01.1']['rate'])} in both"),
    Substitution(_aa_call(PUBLIC_INPUTS), _aa_call),
    Substitution("Simulate 1,000 A/A experiments",
                 lambda i: f"Simulate {i['01.1']['experiments']:,} A/A experiments"),
    Substitution("How many of the\n1,000 experiments",
                 lambda i: f"How many of the\n{i['01.1']['experiments']:,} experiments"),
    Substitution(_result_text(PUBLIC_INPUTS), _result_text),
    Substitution("detecting a change from 5% to 6%", lambda i: "detecting a change from "
                 f"{percent(i['01.6']['rates'][0])} to {percent(i['01.6']['rates'][1])}"),
    Substitution("`n = math.ceil(abt.sample_size_proportions(0.05, 0.06))`",
                 lambda i: f"`n = math.ceil(abt.sample_size_proportions({i['01.6']['rates'][0]}, "
                 f"{i['01.6']['rates'][1]}))`"),
    Substitution(_ab_call(PUBLIC_INPUTS), _ab_call),
    Substitution(_interval_text(PUBLIC_INPUTS), _interval_text),
)


def exercises(inputs: dict) -> tuple[Exercise, ...]:
    """The answer key for ``inputs`` (``PUBLIC_INPUTS`` or a class edition's)."""
    aa, ab = inputs["01.1"], inputs["01.6"]
    AA_ARGS, AA_SEED = (aa["rate"], aa["rate"], aa["n"], aa["n"]), aa["seed"]
    AA_EXPERIMENTS = aa["experiments"]
    RESULT = inputs["01.3"]["result"]
    AB_RATES, AB_SEED = ab["rates"], ab["seed"]
    LOW, HIGH = inputs["01.7"]["low"], inputs["01.7"]["high"]
    NEGLIGIBLE = -MDE_POINTS < LOW and HIGH < MDE_POINTS

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

    return (
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
                     "experiments (a count, not a share)."),
                    (lambda: _aa_count("larger"),
                     "That counts one-sided p-values (alternative='larger'); use the default "
                     "two-sided test."),
                    (aa["rate"] * AA_EXPERIMENTS,
                     f"{aa['rate'] * AA_EXPERIMENTS:g} is the count expected on average "
                     f"({aa['rate']} x {AA_EXPERIMENTS:,}); count the experiments "
                     "of this seeded simulation instead."),
                ],
            ),
        ),
        Exercise(
            "01.2",
            "oec",
            fixed=True,
            answer=Choice(
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
            fixed=True,
            answer=Choice(
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
            fixed=True,
            answer=Choice(
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
                hint=f"Use n = math.ceil(abt.sample_size_proportions{tuple(AB_RATES)}) users per arm, "
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
                NEGLIGIBLE,
                hint=(f"The interval excludes every gain and every loss as large as the "
                      f"{MDE_POINTS:g}-point MDE: whatever the effect is, it is too small to care "
                      "about, although maybe not zero. This is the logic of an equivalence test "
                      "(TOST, chapter 2)." if NEGLIGIBLE else
                      "Not significant is not the same as no effect: the interval still contains "
                      f"effects as large as the {MDE_POINTS:g}-point MDE, so the experiment is "
                      "inconclusive (absence of evidence is not evidence of absence)."),
            ),
        ),
    )


EXERCISES = exercises(PUBLIC_INPUTS)
