"""Answer key of chapter 2, Sample size and power (``solutions/02_sample_size.ipynb``).

Every expected value is computed with abteach when first needed; typical wrong answers are
recomputed the same way so that each gets its own hint.
"""

from __future__ import annotations

import math

import abteach as abt
from abteach.course.check import Choice, Exercise, Number
from abteach.course.editions import Substitution, percent

# The inputs of the public edition (class editions draw their own, see draw_inputs).
PUBLIC_INPUTS = {
    # 02.1 and 02.3: a baseline and a relative lift (two-sided alpha 0.05, power 0.8); eligible
    # users a day and the share of them in the experiment.
    "02.1": {"base": 0.04, "lift": 0.10, "daily": 6_000, "share": 0.40},
    # 02.2: two rates and a total budget split equally.
    "02.2": {"rates": (0.10, 0.11), "budget": 12_000},
    # 02.4: a baseline and eligible users a day, all in the experiment, 28 days, 50/50.
    "02.4": {"base": 0.10, "daily": 3_000},
    # 02.5: the calculator's design and the method it uses (an edition draws another method:
    # a multiple choice between names, not fixed, so its answer is not shuffled but drawn).
    "02.5": {"rates": (0.10, 0.12), "method": "baseline"},
    # 02.8: baseline, hoped-for lift and the smallest estimate that ships.
    "02.8": {"base": 0.05, "effect": 0.006, "minimum": 0.0045},
    # 02.9: revenue per user guardrail: sd and tolerated loss (one-sided alpha 0.05, power 0.9).
    "02.9": {"sd": 40.0, "margin": 0.50},
}
MDE_DAYS, GUARD_POWER = 28, 0.90
METHODS = ("pooled", "unpooled", "arcsine", "continuity", "baseline")
_METHOD_NAMES = {"pooled": "The pooled method (R's power.prop.test)",
                 "unpooled": "The unpooled method", "arcsine": "The arcsine method (Cohen's h)",
                 "baseline": "The baseline method"}


def _weeks_in_days(days: float) -> int:
    return 7 * math.ceil(days / 7)


def _n_per_arm(g: dict, **options) -> float:
    return abt.sample_size_proportions(g["base"], g["base"] * (1 + g["lift"]), **options)


def _days(g: dict, n_control: float, *, share: float | None = None) -> float:
    return abt.duration_days(math.ceil(n_control), g["daily"],
                             traffic_share=g["share"] if share is None else share)


def _calculator_ns(rates) -> dict:
    return {m: math.ceil(abt.sample_size_proportions(*rates, method=m)) for m in METHODS}


def draw_inputs(group: str, rng) -> dict:
    """A class edition's inputs of ``group`` (see :mod:`abteach.course.editions`)."""
    if group == "02.1":
        # drawn again until the whole weeks of 02.3 differ from the public edition's
        public = PUBLIC_INPUTS["02.1"]
        public_weeks = _weeks_in_days(_days(public, _n_per_arm(public)))
        while True:
            g = {"base": float(rng.choice([0.03, 0.05, 0.06, 0.08])),
                 "lift": float(rng.choice([0.10, 0.15, 0.20])),
                 "daily": 1_000 * int(rng.integers(4, 13)),
                 "share": float(rng.choice([0.25, 0.3, 0.5, 0.6]))}
            if _weeks_in_days(_days(g, _n_per_arm(g))) != public_weeks:
                return g
    if group == "02.2":
        pairs = ((0.05, 0.06), (0.08, 0.09), (0.12, 0.13), (0.15, 0.17), (0.20, 0.22))
        return {"rates": pairs[int(rng.integers(len(pairs)))],
                "budget": 2_000 * int(rng.integers(3, 11))}
    if group == "02.4":
        return {"base": float(rng.choice([0.04, 0.05, 0.08, 0.12, 0.15])),
                "daily": 500 * int(rng.integers(2, 17))}
    if group == "02.5":
        # any method but the public one; drawn again until the five methods round apart
        while True:
            base = float(rng.choice([0.05, 0.08, 0.12, 0.15, 0.2]))
            rates = (base, round(base + float(rng.choice([0.01, 0.02, 0.03])), 2))
            if len(set(_calculator_ns(rates).values())) == len(METHODS):
                return {"rates": rates, "method": str(rng.choice(METHODS[:-1]))}
    if group == "02.8":
        effect = float(rng.choice([0.004, 0.005, 0.008, 0.012]))
        return {"base": float(rng.choice([0.03, 0.04, 0.06, 0.08])), "effect": effect,
                "minimum": round(effect * float(rng.choice([0.5, 0.6, 0.7])), 5)}
    if group == "02.9":
        return {"sd": float(rng.choice([20, 25, 30, 50, 60])),
                "margin": float(rng.choice([0.25, 0.40, 0.50, 0.75, 1.00]))}
    raise ValueError(f"group must be one of {sorted(PUBLIC_INPUTS)}, got {group!r}")


def _design_21(i) -> str:
    g = i["02.1"]
    return (f"A sign-up page converts {percent(g['base'])} of its visitors. The team wants to detect "
            f"a **relative** lift of {percent(g['lift'])}")


def _traffic_23(i) -> str:
    g = i["02.1"]
    return f"page gets {g['daily']:,} eligible visitors a day, and {percent(g['share'])} of them"


def _budget_22(i) -> str:
    rates = i["02.2"]["rates"]
    return (f"**{i['02.2']['budget']:,} users in total**, split equally between control and\n"
            f"treatment. The baseline conversion rate is {percent(rates[0])} and the team hopes "
            f"for {percent(rates[1])}.")


def _page_24(i) -> str:
    g = i["02.4"]
    return (f"A checkout page converts at {percent(g['base'])}. It gets {g['daily']:,} eligible "
            "visitors a day")


def _calculator_25(i) -> str:
    g = i["02.5"]
    n = _calculator_ns(g["rates"])[g["method"]]
    return (f"reports **{n:,} users per arm** for a {percent(g['rates'][0])} baseline and a "
            f"{percent(g['rates'][1])}\ntarget")


def _ship_28(i) -> str:
    g = i["02.8"]
    return (f"A landing page converts at {percent(g['base'])}. The team hopes the new version lifts "
            f"it by {100 * g['effect']:g} percentage points\n(to {percent(g['base'] + g['effect'])})")


def _guard_29(i) -> str:
    g = i["02.9"]
    return (f"its standard deviation is {g['sd']:g} (currency\nunits), and the team tolerates a loss "
            f"of at most {g['margin']:.2f} per user")


SUBSTITUTIONS = (
    Substitution(_design_21(PUBLIC_INPUTS), _design_21),
    Substitution(_budget_22(PUBLIC_INPUTS), _budget_22),
    Substitution(_traffic_23(PUBLIC_INPUTS), _traffic_23),
    Substitution(_page_24(PUBLIC_INPUTS), _page_24),
    Substitution(_calculator_25(PUBLIC_INPUTS), _calculator_25),
    Substitution(_ship_28(PUBLIC_INPUTS), _ship_28),
    Substitution("estimated lift is at least 0.45 points",
                 lambda i: f"estimated lift is at least {100 * i['02.8']['minimum']:g} points"),
    Substitution("when the true lift is 0.6 points",
                 lambda i: f"when the true lift is {100 * i['02.8']['effect']:g} points"),
    Substitution(_guard_29(PUBLIC_INPUTS), _guard_29),
    Substitution("rules out a loss of 0.50.", lambda i: f"rules out a loss of {i['02.9']['margin']:.2f}."),
)


def _method_hints(rates, right: str) -> dict:
    ns = _calculator_ns(rates)
    hints = {m: f"{name} gives {ns[m]:,} per arm, not {ns[right]:,}."
             for m, name in _METHOD_NAMES.items()}
    hints["continuity"] = (f"The continuity correction gives MORE users ({ns['continuity']:,}), "
                           "not fewer.")
    del hints[right]
    return hints


def exercises(inputs: dict) -> tuple[Exercise, ...]:
    """The answer key for ``inputs`` (``PUBLIC_INPUTS`` or a class edition's)."""
    design = inputs["02.1"]
    P_BASE, LIFT = design["base"], design["lift"]
    P_LIFTED = P_BASE * (1 + LIFT)
    DAILY, SHARE = design["daily"], design["share"]
    (B_CONTROL, B_TREATMENT), BUDGET = inputs["02.2"]["rates"], inputs["02.2"]["budget"]
    MDE_BASE, MDE_DAILY = inputs["02.4"]["base"], inputs["02.4"]["daily"]
    CALCULATOR = inputs["02.5"]
    ship = inputs["02.8"]
    SHIP_BASE, SHIP_EFFECT, SHIP_MINIMUM = ship["base"], ship["effect"], ship["minimum"]
    GUARD_SD, GUARD_MARGIN = inputs["02.9"]["sd"], inputs["02.9"]["margin"]

    def _mde(n_control: float, **options) -> float:
        return abt.mde_proportions(MDE_BASE, n_control, **options)

    def _ship_n(**options) -> float:
        return abt.sample_size_ship_rule(
            SHIP_EFFECT, **{"minimum_effect": SHIP_MINIMUM, "p_control": SHIP_BASE, **options}
        )

    def _guard_n(**options) -> float:
        return abt.sample_size_noninferiority(
            0.0, **{"margin": GUARD_MARGIN, "sd": GUARD_SD, "power": GUARD_POWER, **options}
        )

    n_mde = MDE_DAILY * MDE_DAYS  # users of both arms

    def _points(rate: float) -> str:
        return f"{100 * rate:g}"

    return (
        Exercise(
            "02.1",
            "n_per_arm",
            Number(
                lambda: _n_per_arm(design),
                rtol=1e-4,
                hint="Use abt.sample_size_proportions(p_control, p_treatment) with p_treatment = "
                f"{P_BASE} * {1 + LIFT:.2f} (a relative lift), two-sided alpha 0.05 and power 0.8; "
                "give one arm.",
                mistakes=[
                    (lambda: 2 * _n_per_arm(design), "That is both arms together; the question asks for "
                     "the users in ONE arm (abteach, like R, returns the per-arm size)."),
                    (lambda: abt.sample_size_proportions(P_BASE, P_BASE + LIFT),
                     f"A lift of {percent(LIFT)} is relative: the treatment rate is {P_BASE} * "
                     f"{1 + LIFT:.2f} = {P_LIFTED:.4g}, not {P_BASE} + {LIFT:.2f}."),
                    (lambda: _n_per_arm(design, alternative="larger"), "That is the one-sided sample size; "
                     "the design is two-sided (alternative='two-sided', the default)."),
                    (lambda: _n_per_arm(design, power=0.9), "That is for 90% power; the design "
                     "asks for 80%."),
                ],
            ),
        ),
        Exercise(
            "02.2",
            "power_at_budget",
            Number(
                lambda: abt.power_proportions(B_CONTROL, B_TREATMENT, BUDGET / 2),
                rtol=1e-3,
                hint=f"Split the {BUDGET:,} users equally, then call abt.power_proportions("
                f"{B_CONTROL:.2f}, {B_TREATMENT:.2f}, n_per_arm).",
                mistakes=[
                    (lambda: abt.power_proportions(B_CONTROL, B_TREATMENT, BUDGET),
                     f"That gives each arm {BUDGET:,} users; {BUDGET:,} is the total, so each arm "
                     f"has {BUDGET // 2:,}."),
                    (lambda: abt.power_proportions(B_CONTROL, B_TREATMENT, BUDGET / 2,
                                                   alternative="larger"),
                     "That is the power of a one-sided test; the test is two-sided."),
                    (lambda: 1 - abt.power_proportions(B_CONTROL, B_TREATMENT, BUDGET / 2),
                     "That is beta, the probability of missing the effect; power is 1 - beta."),
                ],
            ),
        ),
        Exercise(
            "02.3",
            "days_needed",
            Number(
                lambda: _weeks_in_days(_days(design, _n_per_arm(design))),
                rtol=1e-4,
                hint=f"Total users = 2 * n per arm; users entering per day = {DAILY:,} * {SHARE:.2f}; "
                "divide, then round UP to a multiple of 7 days.",
                mistakes=[
                    (lambda: _days(design, _n_per_arm(design)), "That is the exact duration; the "
                     "question asks for whole weeks, i.e. the smallest multiple of 7 days at or "
                     "above it."),
                    (lambda: math.ceil(_days(design, _n_per_arm(design))), "You rounded up to whole "
                     "days; round up to whole weeks (a multiple of 7 days)."),
                    (lambda: _weeks_in_days(_days(design, _n_per_arm(design), share=1.0)),
                     f"Only {percent(SHARE)} of the eligible users enter the experiment: pass "
                     f"traffic_share={SHARE:g}."),
                    (lambda: _weeks_in_days(_days(design, _n_per_arm(design)) / 2), "Both arms need "
                     "users: the experiment enrols 2 * n per arm (duration_days does this with "
                     "ratio=1)."),
                ],
            ),
        ),
        Exercise(
            "02.4",
            "mde_absolute",
            Number(
                lambda: _mde(n_mde / 2),
                rtol=1e-3,
                hint=f"After {MDE_DAYS} days each arm has {MDE_DAYS} * {MDE_DAILY:,} / 2 users; pass "
                f"that to abt.mde_proportions({MDE_BASE:.2f}, n_per_arm). Give the absolute MDE as a "
                "rate (e.g. 0.01 for one percentage point).",
                mistakes=[
                    (lambda: _mde(n_mde), f"That gives each arm all {n_mde:,} users; they are split "
                     f"50/50, so each arm has {n_mde // 2:,}."),
                    (lambda: _mde(n_mde / 2) / MDE_BASE, "That is the relative MDE (divided by the "
                     "baseline); the question asks for the absolute difference."),
                    (lambda: 100 * _mde(n_mde / 2), "That is in percentage points; give the MDE as "
                     "a difference of rates (0.01 for one point)."),
                    (lambda: _mde(n_mde / 2, alternative="larger"), "That is the one-sided MDE; the "
                     "test is two-sided."),
                ],
            ),
        ),
        Exercise(
            "02.5",
            "calculator_method",
            Choice(
                CALCULATOR["method"],
                options=METHODS,
                hints=_method_hints(CALCULATOR["rates"], CALCULATOR["method"]),
            ),
        ),
        Exercise(
            "02.6",
            "why_disagree",
            fixed=True,
            answer=Choice(
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
            fixed=True,
            answer=Choice(
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
                hint="Size for the rule actually used: abt.sample_size_ship_rule("
                f"{SHIP_EFFECT:g}, minimum_effect={SHIP_MINIMUM:g}, p_control={SHIP_BASE:.2f}) "
                "(two-sided alpha 0.05, power 0.8).",
                mistakes=[
                    (lambda: abt.sample_size_proportions(SHIP_BASE, SHIP_BASE + SHIP_EFFECT),
                     "That is the ordinary sample size: it makes the test significant 80% of the "
                     f"time, but the estimate must also clear {_points(SHIP_MINIMUM)} points, which "
                     "needs more users."),
                    (lambda: abt.sample_size_proportions(SHIP_BASE, SHIP_BASE + SHIP_MINIMUM),
                     f"That sizes an ordinary test for an effect of {_points(SHIP_MINIMUM)} points; "
                     f"the true effect is {_points(SHIP_EFFECT)} points and the rule needs the "
                     f"ESTIMATE to be at least {_points(SHIP_MINIMUM)} points."),
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
                f"margin={GUARD_MARGIN:.2f}, sd={GUARD_SD:g}, power=0.9), one-sided alpha 0.05 "
                "(the default).",
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
            fixed=True,
            answer=Choice(
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


EXERCISES = exercises(PUBLIC_INPUTS)
