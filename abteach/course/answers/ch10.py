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
from abteach.course.editions import Substitution

ALPHA = 0.05
WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}

# The inputs of the public edition (class editions draw their own, see draw_inputs).
PUBLIC_INPUTS = {
    "10.1": {"days": 14},  # daily looks at a two-week experiment
    "10.2": {"looks": 3},  # a Pocock design (the same boundary at every look)
    "10.3": {"looks": 4, "look": 2},  # a Lan-DeMets O'Brien-Fleming-type design
    "10.4": {"z": (2.3, 3.2), "t": (0.22, 0.41)},  # two looks of a five-look ld-obf plan
    "10.5": {"looks": 3, "power": 0.9},  # a Pocock design's maximum sample size
    "10.8": {"users": (6_000, 13_000, 23_000)},  # looks of a plan with 20,000 users per arm
}
OVERRUN_MAX = 20_000  # exercise 10.8: the planned maximum, users per arm
RUNNING_PLAN_LOOKS = 5
WEEKS = {7: "one-week", 14: "two-week", 21: "three-week", 28: "four-week"}


def draw_inputs(group: str, rng) -> dict:
    """A class edition's inputs of ``group`` (see :mod:`abteach.course.editions`)."""
    if group == "10.1":
        return {"days": int(rng.choice([7, 21, 28]))}
    if group == "10.2":
        return {"looks": int(rng.choice([2, 4, 5, 6]))}
    if group == "10.3":
        looks = int(rng.choice([3, 5, 6]))
        return {"looks": looks, "look": int(rng.integers(2, looks))}
    if group == "10.4":
        return {"z": (round(float(rng.uniform(1.5, 2.6)), 1), round(float(rng.uniform(2.4, 4.0)), 1)),
                "t": (round(0.2 + float(rng.uniform(0.01, 0.04)), 2), round(0.4 + float(rng.uniform(0.01, 0.04)), 2))}
    if group == "10.5":
        return {"looks": int(rng.choice([2, 4, 5])), "power": float(rng.choice([0.85, 0.95]))}
    if group == "10.8":
        return {"users": (int(rng.choice([5_500, 6_500, 7_000])), int(rng.choice([12_500, 13_500, 14_000])),
                          int(rng.choice([21_500, 22_000, 24_000, 25_000, 26_000])))}
    raise ValueError(f"group must be one of {sorted(PUBLIC_INPUTS)}, got {group!r}")


def _peeking_text(i) -> str:
    days = i["10.1"]["days"]
    return f"A team runs a {WEEKS[days]} experiment and checks its dashboard every evening: {days} equally spaced looks"


def _pocock_text(i) -> str:
    return f"A team plans {WORDS[i['10.2']['looks']]} equally spaced looks with a Pocock design"


def _ldobf_text(i) -> str:
    looks, look = i["10.3"]["looks"], i["10.3"]["look"]
    return (f"(`ld-obf`) with {WORDS[looks]} equally spaced looks,\ntwo-sided $\\alpha = 0.05$ spent as $0.025$ "
            f"per side. What is the critical value for $|Z|$ at the\n**{ORDINALS[look]}** look ($t = {look / looks:.3g}$)?")


def _running_text(i) -> str:
    (z1, z2), (t1, t2) = i["10.4"]["z"], i["10.4"]["t"]
    return f"information fractions {t1:.2f} and {t2:.2f} (not 0.2 and 0.4), with $z$-statistics {z1:.1f} and\n{z2:.1f}."


def _inflation_text(i) -> str:
    return (f"A team wants {100 * i['10.5']['power']:.0f}% power (two-sided $\\alpha = 0.05$) and considers a "
            f"Pocock design with {WORDS[i['10.5']['looks']]} equally\nspaced looks.")


def _overrun_text(i) -> str:
    first, second, last = i["10.8"]["users"]
    return (f"The looks came at {first:,} and {second:,} users per arm, and a holiday surge brought the last "
            f"look\nto {last:,} users per arm")


SUBSTITUTIONS = (
    Substitution(_peeking_text(PUBLIC_INPUTS), _peeking_text),
    Substitution(_pocock_text(PUBLIC_INPUTS), _pocock_text),
    Substitution(_ldobf_text(PUBLIC_INPUTS), _ldobf_text),
    Substitution(_running_text(PUBLIC_INPUTS), _running_text),
    Substitution("z_so_far = [2.3, 3.2]", lambda i: f"z_so_far = [{', '.join(f'{z:.1f}' for z in i['10.4']['z'])}]"),
    Substitution("t_so_far = [0.22, 0.41]", lambda i: f"t_so_far = [{', '.join(f'{t:.2f}' for t in i['10.4']['t'])}]"),
    Substitution(_inflation_text(PUBLIC_INPUTS), _inflation_text),
    Substitution(_overrun_text(PUBLIC_INPUTS), _overrun_text),
    Substitution("users_so_far = [6_000, 13_000, 23_000]",
                 lambda i: f"users_so_far = [{', '.join(f'{n:_}' for n in i['10.8']['users'])}]"),
)


def _peeking(looks: int, alpha: float = ALPHA) -> float:
    return abt.peeking_false_positive_rate(looks, alpha=alpha)


def running_analysis(inputs: dict = PUBLIC_INPUTS) -> abt.SequentialAnalysis:
    """Exercise 10.4's analysis: the plan recomputed at the observed information fractions."""
    plan = abt.boundaries(RUNNING_PLAN_LOOKS, method="ld-obf")
    return abt.sequential_analysis(inputs["10.4"]["z"], inputs["10.4"]["t"], plan)


def overrun_analysis(inputs: dict = PUBLIC_INPUTS, denominator: float | None = None):
    """Exercise 10.8: a three-look ld-obf plan whose last look over-ran the planned maximum;
    ``denominator`` other than the planned maximum gives the hindsight mistake."""
    users = np.array(inputs["10.8"]["users"], dtype=float)
    plan = abt.boundaries(3, method="ld-obf")
    return abt.sequential_analysis(np.zeros(3), users / (denominator or OVERRUN_MAX), plan)


def exercises(inputs: dict) -> tuple[Exercise, ...]:
    """The answer key for ``inputs`` (``PUBLIC_INPUTS`` or a class edition's)."""
    DAILY_LOOKS = inputs["10.1"]["days"]
    POCOCK_LOOKS, POCOCK_LOOK = inputs["10.2"]["looks"], 2
    LDOBF_LOOKS, LDOBF_LOOK = inputs["10.3"]["looks"], inputs["10.3"]["look"]
    INFLATION_LOOKS, INFLATION_POWER = inputs["10.5"]["looks"], inputs["10.5"]["power"]

    def _pocock(**options) -> float:
        design = abt.boundaries(POCOCK_LOOKS, method="pocock", **options)
        return float(design.critical_values[min(POCOCK_LOOK, POCOCK_LOOKS) - 1])

    def _ldobf(**options) -> float:
        design = abt.boundaries(LDOBF_LOOKS, **{"method": "ld-obf", **options})
        return float(design.critical_values[LDOBF_LOOK - 1])

    def _ldobf_whole_alpha() -> float:
        """The other convention: the whole two-sided 0.05 put into the one-sided formula."""
        t = np.arange(1, LDOBF_LOOKS + 1) / LDOBF_LOOKS
        spent = abt.alpha_spending(t, method="ld-obf", convention="whole-alpha")
        return _ldobf(method="user", cumulative_alpha=spent)

    def _single_interim_look() -> float:
        """The boundary of a two-look design at its interim look, t = look / looks."""
        return float(abt.boundaries([LDOBF_LOOK / LDOBF_LOOKS, 1.0], method="ld-obf").critical_values[0])

    def _characteristics(method: str = "pocock", power: float = INFLATION_POWER):
        design = abt.boundaries(INFLATION_LOOKS, method=method)
        return abt.design_characteristics(design, power=power)

    z_now, t_now = inputs["10.4"]["z"][-1], inputs["10.4"]["t"][-1]

    def _running_hint() -> str:
        boundary = float(running_analysis(inputs).critical_values[-1])
        return (f"At {100 * t_now:.0f}% of the information the Lan-DeMets O'Brien-Fleming boundary, "
                f"recomputed at the observed fractions, is about {boundary:.2f}: compare Z = {z_now:.1f} "
                "with it, not with 1.96. abt.sequential_analysis(z, t, plan) tells whether to stop.")
    overrun_users = inputs["10.8"]["users"]

    def _capped() -> float:
        """The last look treated as t = 1 (the interim looks divided by the plan)."""
        t = np.array(overrun_users[:2] + (OVERRUN_MAX,)) / OVERRUN_MAX
        return float(abt.boundaries(t, method="ld-obf").critical_values[-1])

    n, k, m, look = DAILY_LOOKS, POCOCK_LOOKS, LDOBF_LOOKS, ORDINALS[LDOBF_LOOK]
    return (
        Exercise(
            "10.1",
            "fpr_daily",
            Number(
                lambda: _peeking(DAILY_LOOKS),
                rtol=1e-3,
                hint=f"Compute the exact probability that |Z| >= 1.96 at one or more of {n} equally "
                f"spaced looks under H0: abt.peeking_false_positive_rate({n}).",
                mistakes=[
                    (lambda: 1 - (1 - ALPHA) ** DAILY_LOOKS, (f"1 - 0.95^{n} treats the {n} looks as "
                     "independent tests. Each look contains all the data of the previous ones "
                     "(correlation sqrt(j/k)), so the true rate is far lower; use the recursion, "
                     f"abt.peeking_false_positive_rate({n}).")),
                    (lambda: DAILY_LOOKS * ALPHA, (f"{n} x 0.05 is the Bonferroni upper bound for any "
                     f"{n} tests, not the rate of {n} looks at accumulating data (and here it is far too "
                     f"large). Use abt.peeking_false_positive_rate({n}).")),
                    (lambda: ALPHA, ("0.05 is the rate of one planned look. Stopping at the first "
                     f"significant one of {n} looks gives H0 {n} chances: compute the rate with "
                     f"abt.peeking_false_positive_rate({n}).")),
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
                f"two-sided false-positive rate is 0.05: abt.boundaries({k}, method='pocock')."
                f"critical_values[{min(POCOCK_LOOK, k) - 1}] (or .constant).",
                mistakes=[
                    (lambda: float(ndtri(1 - ALPHA / 2)), ("1.96 is the fixed test's critical value; "
                     "used at every look it gives the peeking rate of section 10.1, not 5%.")),
                    (lambda: float(ndtri(1 - ALPHA / (2 * POCOCK_LOOKS))), ("That is Bonferroni "
                     f"(0.05 / {k} per look). It ignores the correlation between the looks and is "
                     "stricter than needed; Pocock's constant is solved exactly with the recursion.")),
                    (lambda: _pocock(alternative="larger"), ("You spent the whole 0.05 on one side "
                     "(a one-sided design, or equivalently a two-sided design at 0.10). A two-sided "
                     "design at 0.05 spends 0.025 per side: alternative='two-sided', the default.")),
                    (lambda: abt.boundaries(POCOCK_LOOKS, method="obf").constant, ("That is the "
                     f"O'Brien-Fleming constant C_B({k}), its boundary at the last look. The question "
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
                hint=f"Lan-DeMets O'Brien-Fleming-type spending, {WORDS[m]} equally spaced looks, 0.025 per "
                f"side: abt.boundaries({m}, method='ld-obf').critical_values[{LDOBF_LOOK - 1}] (the {look} look).",
                mistakes=[
                    (_ldobf_whole_alpha, ("That is the other convention: the whole 0.05 put into the "
                     "one-sided O'Brien-Fleming-type formula. The chapter (like gsDesign, rpact and "
                     "ldbounds) evaluates it at 0.025 per side: method='ld-obf'.")),
                    (lambda: _ldobf(method="obf"), ("That is the classical O'Brien-Fleming boundary "
                     f"C_B({m}) sqrt({m}/{LDOBF_LOOK}). The question asks for the Lan-DeMets spending-function "
                     "version: method='ld-obf'.")),
                    (lambda: _ldobf(alternative="larger"), ("That is a one-sided design spending the "
                     "whole 0.05 on one side. The design is two-sided: 0.025 per side.")),
                    (lambda: _ldobf(method="ld-pocock"), ("That is the Pocock-type spending function "
                     "(method='ld-pocock'); the question asks for the O'Brien-Fleming type.")),
                    (_single_interim_look, ("That is the boundary of a "
                     f"single interim look at t = {LDOBF_LOOK / m:.3g} (a two-look design). Here earlier "
                     f"looks have already spent a little alpha, so the {look} boundary is slightly "
                     f"higher: abt.boundaries({m}, method='ld-obf').")),
                    (lambda: float(ndtri(1 - ALPHA / 2)), ("1.96 is the fixed test's critical value. "
                     "An O'Brien-Fleming-type design is much stricter at mid-way.")),
                ],
            ),
        ),
        Exercise(
            "10.4",
            "stop_now",
            Boolean(
                lambda: running_analysis(inputs).reject,
                hint=_running_hint,
            ),
        ),
        Exercise(
            "10.5",
            "inflation",
            Number(
                lambda: _characteristics().inflation_factor,
                rtol=1e-4,
                hint=f"abt.design_characteristics(abt.boundaries({INFLATION_LOOKS}, method='pocock'), power={INFLATION_POWER:g})"
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
                     f"factor for 80% power (the default). The team wants {100 * INFLATION_POWER:.0f}%: power={INFLATION_POWER:g}.")),
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
        Exercise(
            "10.8",
            "final_boundary",
            Number(
                lambda: float(overrun_analysis(inputs).critical_values[-1]),
                rtol=2e-5,
                hint=(f"Divide the users by the planned maximum ({OVERRUN_MAX:,}), so the last fraction "
                      f"is {overrun_users[-1] / OVERRUN_MAX:.2f} > 1, and let abteach treat that look as "
                      "the final analysis: abt.sequential_analysis(z, users / 20_000, plan)."
                      "critical_values[-1] (any z values give the same boundaries)."),
                mistakes=[
                    (lambda: float(overrun_analysis(inputs, overrun_users[-1]).critical_values[-1]),
                     ("You divided by the final count: that is hindsight. At the interim looks nobody "
                      f"knew that {overrun_users[-1]:,} users would come; the fractions are users / "
                      f"{OVERRUN_MAX:,}, the planned maximum, and the last one exceeds 1.")),
                    (lambda: float(abt.boundaries(3, method="ld-obf").critical_values[-1]),
                     ("That is the plan's last boundary, computed for looks at exactly 1/3, 2/3 and "
                      "1 of the plan. The looks came elsewhere: recompute at the observed fractions, "
                      "the last one above 1.")),
                    (_capped, ("You put the last look at t = 1. It came at "
                     f"{overrun_users[-1] / OVERRUN_MAX:.2f} of the plan: its correlation with the "
                     "earlier looks is lower, and the final boundary changes.")),
                    (float(ndtri(1 - ALPHA / 2)), ("1.96 is the fixed test's value. The interim looks "
                     "have spent part of alpha, so the final boundary is above it.")),
                ],
            ),
        ),
    )


EXERCISES = exercises(PUBLIC_INPUTS)
