"""Answer key of chapter 10, Peeking and sequential testing (``solutions/10_sequential.ipynb``).

Every expected value is computed with abteach when first needed; typical wrong answers are
recomputed the same way so that each gets its own hint. Two-sided designs spend alpha/2 per side
(the convention of the chapter, gsDesign, rpact and ldbounds).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

import abteach as abt
from abteach.course.check import Boolean, Choice, Exercise, Number

ALPHA = 0.05

# 10.1: daily looks at a two-week experiment.
DAILY_LOOKS = 14

# 10.2: a Pocock design with three equally spaced looks; the boundary at the second look.
POCOCK_LOOKS, POCOCK_LOOK = 3, 2

# 10.3: a Lan-DeMets O'Brien-Fleming-type design with four equally spaced looks; second look.
LDOBF_LOOKS, LDOBF_LOOK = 4, 2

# 10.4: a five-look Lan-DeMets O'Brien-Fleming-type plan, two looks taken so far.
RUNNING_PLAN_LOOKS = 5
RUNNING_Z = (2.3, 3.2)
RUNNING_T = (0.22, 0.41)

# 10.5: a Pocock design with three looks, 90% power.
INFLATION_LOOKS, INFLATION_POWER = 3, 0.9


def _peeking(looks: int, alpha: float = ALPHA) -> float:
    return abt.peeking_false_positive_rate(looks, alpha=alpha)


def _pocock(**options) -> float:
    design = abt.boundaries(POCOCK_LOOKS, method="pocock", **options)
    return float(design.critical_values[POCOCK_LOOK - 1])


def _ldobf(**options) -> float:
    design = abt.boundaries(LDOBF_LOOKS, **{"method": "ld-obf", **options})
    return float(design.critical_values[LDOBF_LOOK - 1])


def _ldobf_whole_alpha() -> float:
    """The other convention: the whole two-sided 0.05 put into the one-sided formula."""
    t = np.arange(1, LDOBF_LOOKS + 1) / LDOBF_LOOKS
    spent = abt.alpha_spending(t, method="ld-obf", convention="whole-alpha")
    return _ldobf(method="user", cumulative_alpha=spent)


def _single_interim_look() -> float:
    """The boundary of a two-look design at its interim look, t = 0.5."""
    return float(abt.boundaries([0.5, 1.0], method="ld-obf").critical_values[0])


def running_analysis() -> abt.SequentialAnalysis:
    plan = abt.boundaries(RUNNING_PLAN_LOOKS, method="ld-obf")
    return abt.sequential_analysis(RUNNING_Z, RUNNING_T, plan)


def _characteristics(method: str = "pocock", power: float = INFLATION_POWER):
    design = abt.boundaries(INFLATION_LOOKS, method=method)
    return abt.design_characteristics(design, power=power)


EXERCISES = (
    Exercise(
        "10.1",
        "fpr_daily",
        Number(
            lambda: _peeking(DAILY_LOOKS),
            rtol=1e-3,
            hint="Compute the exact probability that |Z| >= 1.96 at one or more of 14 equally "
            "spaced looks under H0: abt.peeking_false_positive_rate(14).",
            mistakes=[
                (lambda: 1 - (1 - ALPHA) ** DAILY_LOOKS, ("1 - 0.95^14 treats the 14 looks as "
                 "independent tests. Each look contains all the data of the previous ones "
                 "(correlation sqrt(j/k)), so the true rate is far lower; use the recursion, "
                 "abt.peeking_false_positive_rate(14).")),
                (lambda: DAILY_LOOKS * ALPHA, ("14 x 0.05 is the Bonferroni upper bound for any "
                 "14 tests, not the rate of 14 looks at accumulating data (and here it is far too "
                 "large). Use abt.peeking_false_positive_rate(14).")),
                (lambda: ALPHA, ("0.05 is the rate of one planned look. Stopping at the first "
                 "significant one of 14 looks gives H0 14 chances: compute the rate with "
                 "abt.peeking_false_positive_rate(14).")),
                (lambda: _peeking(DAILY_LOOKS, alpha=ALPHA / 2), ("You tested at 0.025 at each "
                 "look. The team uses the ordinary two-sided test at 0.05 (|Z| >= 1.96) every "
                 "evening: alpha=0.05.")),
            ],
        ),
    ),
    Exercise(
        "10.2",
        "pocock_critical",
        Number(
            lambda: _pocock(),
            rtol=5e-4,
            hint="Pocock uses one constant C_P at every look, solved so that the overall "
            "two-sided false-positive rate is 0.05: abt.boundaries(3, method='pocock')."
            "critical_values[1] (or .constant).",
            mistakes=[
                (lambda: float(ndtri(1 - ALPHA / 2)), ("1.96 is the fixed test's critical value; "
                 "used at every look it gives the peeking rate of section 10.1, not 5%.")),
                (lambda: float(ndtri(1 - ALPHA / (2 * POCOCK_LOOKS))), ("That is Bonferroni "
                 "(0.05 / 3 per look). It ignores the correlation between the looks and is "
                 "stricter than needed; Pocock's constant is solved exactly with the recursion.")),
                (lambda: _pocock(alternative="larger"), ("You spent the whole 0.05 on one side "
                 "(a one-sided design, or equivalently a two-sided design at 0.10). A two-sided "
                 "design at 0.05 spends 0.025 per side: alternative='two-sided', the default.")),
                (lambda: abt.boundaries(POCOCK_LOOKS, method="obf").constant, ("That is the "
                 "O'Brien-Fleming constant C_B(3), its boundary at the last look. The question "
                 "asks for Pocock's design.")),
            ],
        ),
    ),
    Exercise(
        "10.3",
        "ldobf_critical",
        Number(
            lambda: _ldobf(),
            rtol=5e-5,
            hint="Lan-DeMets O'Brien-Fleming-type spending, four equally spaced looks, 0.025 per "
            "side: abt.boundaries(4, method='ld-obf').critical_values[1] (the second look).",
            mistakes=[
                (_ldobf_whole_alpha, ("That is the other convention: the whole 0.05 put into the "
                 "one-sided O'Brien-Fleming-type formula. The chapter (like gsDesign, rpact and "
                 "ldbounds) evaluates it at 0.025 per side: method='ld-obf'.")),
                (lambda: _ldobf(method="obf"), ("That is the classical O'Brien-Fleming boundary "
                 "C_B(4) sqrt(4/2). The question asks for the Lan-DeMets spending-function "
                 "version: method='ld-obf'.")),
                (lambda: _ldobf(alternative="larger"), ("That is a one-sided design spending the "
                 "whole 0.05 on one side. The design is two-sided: 0.025 per side.")),
                (lambda: _ldobf(method="ld-pocock"), ("That is the Pocock-type spending function "
                 "(method='ld-pocock'); the question asks for the O'Brien-Fleming type.")),
                (_single_interim_look, ("That is the boundary of a "
                 "single interim look at t = 0.5 (a two-look design). Here a first look at t = "
                 "0.25 has already spent a little alpha, so the second boundary is slightly "
                 "higher: abt.boundaries(4, method='ld-obf').")),
                (lambda: float(ndtri(1 - ALPHA / 2)), ("1.96 is the fixed test's critical value. "
                 "An O'Brien-Fleming-type design is much stricter at mid-way.")),
            ],
        ),
    ),
    Exercise(
        "10.4",
        "stop_now",
        Boolean(
            lambda: running_analysis().reject,
            hint="At 41% of the information the Lan-DeMets O'Brien-Fleming boundary, recomputed "
            "at the observed fractions, is about 3.31: Z = 3.2 beats 1.96 but not the boundary. "
            "abt.sequential_analysis(z, t, plan) says 'continue'.",
        ),
    ),
    Exercise(
        "10.5",
        "inflation",
        Number(
            lambda: _characteristics().inflation_factor,
            rtol=1e-4,
            hint="abt.design_characteristics(abt.boundaries(3, method='pocock'), power=0.9)"
            ".inflation_factor: the maximum sample size divided by the fixed design's.",
            mistakes=[
                (lambda: _characteristics().expected_n_h1, ("That is the expected sample size "
                 "under the alternative (relative to the fixed design). The question asks for "
                 "the maximum: inflation_factor.")),
                (lambda: _characteristics().expected_n_h0, ("That is the expected sample size "
                 "under H0. The question asks for the maximum sample size: inflation_factor.")),
                (lambda: _characteristics().drift / _characteristics().drift_fixed, ("That is "
                 "the ratio of the drifts. The sample size grows with the square of the drift: "
                 "square it.")),
                (lambda: _characteristics(power=0.8).inflation_factor, ("That is the inflation "
                 "factor for 80% power (the default). The team wants 90%: power=0.9.")),
                (lambda: _characteristics(method="obf").inflation_factor, ("That is the "
                 "O'Brien-Fleming design's factor; the question asks for Pocock's.")),
            ],
        ),
    ),
    Exercise(
        "10.6",
        "msprt_tradeoff",
        fixed=True,
        answer=Choice(
            "b",
            options=("a", "b", "c", "d"),
            hints={
                "a": "The mSPRT's guarantee holds however often and whenever one looks: no "
                "schedule of looks has to be fixed in advance. That is exactly what it buys.",
                "c": "The guarantee is not free: for the same sample size the always-valid test "
                "has less power and the confidence sequence is wider than the fixed-sample "
                "interval (in section 10.6, power 0.49 instead of 0.80).",
                "d": "Power still grows with the sample size; the mSPRT needs more users for the "
                "same power, not none. What it removes is the need to fix when to look.",
            },
        ),
    ),
    Exercise(
        "10.7",
        "convention",
        fixed=True,
        answer=Choice(
            "c",
            options=("a", "b", "c", "d"),
            hints={
                "a": "Both are correct computations of valid designs at level 0.05: they spend "
                "the same total alpha with different spending functions. Bugs are not the reason.",
                "b": "A one-sided design at 0.05 would be much less strict at the end (about 1.7 "
                "at the last look). Both tools describe two-sided designs with 0.05 in total.",
                "d": "Both designs spend 0.05 in total by the last look; abteach's is not at "
                "0.025 overall, it spends 0.025 on each side.",
            },
        ),
    ),
)
