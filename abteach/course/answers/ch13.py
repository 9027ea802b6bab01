"""Answer key of chapter 13, Capstone: an experiment end to end (``solutions/13_capstone.ipynb``).

Every expected value is computed with abteach when first needed; typical wrong answers are
recomputed the same way so that each gets its own hint. Class editions draw their own inputs
(:func:`draw_inputs`, see :mod:`abteach.course.editions`): the three arms' counts (13.1), the
e-mail arm and confidence level (13.2), the looks and z-values (13.4), the load times and the
guardrail's tolerance (13.5, True or False, may coincide with the public answer), the seed and
size of the user-day simulation (13.7) and the ship rule's rates (13.8). 13.3 and 13.6 are
multiple choice and cannot vary (``fixed``); 13.6 asks about the Hillstrom data as they are.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

import abteach as abt
from abteach.course.check import Boolean, Choice, Exercise, Number
from abteach.course.editions import Substitution

# Hillstrom's MineThatData e-mail test (Hillstrom 2008; Yasui 2020, ch. 1): per arm the
# customers, total spend in dollars and the standard deviation of spend per customer.
MENS = {"customers": 21_307, "spend": 30_311.69, "spend_sd": 17.754205}
WOMENS = {"customers": 21_387, "spend": 23_038.11, "spend_sd": 15.116106}
NO_EMAIL = {"customers": 21_306, "spend": 13_908.33, "spend_sd": 11.588200}
ARMS = {"Mens E-Mail": ("Mens", MENS), "Womens E-Mail": ("Womens", WOMENS)}

# The inputs of the public edition (class editions draw their own, see draw_inputs).
PUBLIC_INPUTS = {
    # 13.1: users of a three-arm experiment designed 1:1:1.
    "13.1": {"counts": (10_210, 9_870, 10_135)},
    # 13.2: the e-mail arm against No E-Mail and the confidence level of the lift interval.
    "13.2": {"arm": "Womens E-Mail", "alpha": 0.05},
    # 13.4: cumulative z of the primary metric at equally spaced looks, Lan-DeMets O'Brien-Fleming.
    "13.4": {"z_values": (2.10, 2.60, 2.95, 3.40, 3.90)},
    # 13.5: page load time in seconds (mean, sd, users), control then treatment, and the guardrail.
    "13.5": {"control": (1.800, 0.90, 20_000), "treatment": (1.825, 0.95, 20_000), "tolerance": 0.02},
    # 13.7: a seeded user-day table (users, 7 days since first exposure, a fading lift).
    "13.7": {"seed": 1307, "users": 3_000},
    # 13.8: the ship rule's sizing: baseline, effect to detect, ship from the minimum effect.
    "13.8": {"baseline": 0.10, "effect": 0.02, "minimum": 0.015},
}
#: The public edition's inputs under the names the chapter's tests use.
THREE_ARMS = PUBLIC_INPUTS["13.1"]["counts"]
Z_VALUES = PUBLIC_INPUTS["13.4"]["z_values"]
LOOKS = len(Z_VALUES)
LOAD_CONTROL, LOAD_TREATMENT, LOAD_TOLERANCE = (PUBLIC_INPUTS["13.5"][k] for k in ("control", "treatment", "tolerance"))
USER_DAYS_SEED, USER_DAYS_USERS, USER_DAYS_DAYS = 1307, 3_000, 7
SHIP_BASELINE, SHIP_EFFECT, SHIP_MINIMUM = (PUBLIC_INPUTS["13.8"][k] for k in ("baseline", "effect", "minimum"))


def draw_inputs(group: str, rng) -> dict:
    """A class edition's inputs of ``group`` (see :mod:`abteach.course.editions`)."""
    if group == "13.1":
        shares = 1 / 3 + rng.uniform(-0.008, 0.008, 3)
        return {"counts": tuple(int(c) for c in rng.multinomial(int(rng.integers(24_000, 45_000)),
                                                                shares / shares.sum()))}
    if group == "13.2":
        others = [{"arm": arm, "alpha": alpha} for arm in ARMS for alpha in (0.01, 0.02, 0.05, 0.1)
                  if {"arm": arm, "alpha": alpha} != PUBLIC_INPUTS["13.2"]]
        return others[int(rng.permutation(len(others))[0])]
    if group == "13.4":
        while True:  # stops before the last look, not at look 3, and not where |Z| first passes 1.96
            looks = int(rng.integers(4, 7))
            sums = np.cumsum(rng.normal(rng.uniform(1.2, 2.2), 1.0, looks))
            z_values = tuple(float(z) for z in np.round(sums / np.sqrt(np.arange(1, looks + 1)), 2))
            stop = _stop_look(z_values)
            if 0 < stop < looks and stop != 3 and stop != _stop_look(z_values, stats.norm.isf(0.025)):
                return {"z_values": z_values}
    if group == "13.5":
        mean, users = float(rng.uniform(1.2, 2.5)), int(rng.choice([10_000, 15_000, 20_000, 30_000]))
        change = float(rng.uniform(-0.01, 0.03))
        return {"control": (round(mean, 3), round(mean * rng.uniform(0.4, 0.6), 2), users),
                "treatment": (round(mean * (1 + change), 3), round(mean * rng.uniform(0.4, 0.6), 2), users),
                "tolerance": float(rng.choice([0.02, 0.03, 0.05]))}
    if group == "13.7":
        return {"seed": int(rng.integers(1308, 10_000)), "users": int(rng.choice([2_000, 4_000, 5_000]))}
    if group == "13.8":
        while True:  # a lift of at most 25%, a ship threshold on a grid of 0.25 points below it
            baseline = float(rng.choice([0.05, 0.08, 0.10, 0.12, 0.15, 0.20]))
            effect = float(rng.choice([0.01, 0.015, 0.02, 0.03]))
            minimum = round(round(effect * float(rng.choice([0.5, 0.6, 0.75])) / 0.0025) * 0.0025, 4)
            ship = {"baseline": baseline, "effect": effect, "minimum": minimum}
            if effect <= 0.25 * baseline and 0 < minimum < effect and ship != PUBLIC_INPUTS["13.8"]:
                return ship
    raise ValueError(f"group must be one of {sorted(PUBLIC_INPUTS)}, got {group!r}")


def user_days(seed: int = USER_DAYS_SEED, users: int = USER_DAYS_USERS) -> pd.DataFrame:
    """The user-day table of exercise 13.7 (the solution notebook builds the same one)."""
    rng = np.random.default_rng(seed)
    n, days = users, USER_DAYS_DAYS
    treated = np.arange(n) % 2 == 1
    visit_rate = rng.beta(2, 4, n)
    lift = 0.5 * np.exp(-np.arange(days) / 2)  # a fading novelty lift
    bought = rng.random((n, days)) < 0.3 * visit_rate[:, None] * (1 + np.outer(treated, lift))
    return pd.DataFrame({"user": np.repeat(np.arange(n), days),
                         "treated": np.repeat(treated, days),
                         "age": np.tile(np.arange(days), n),
                         "purchases": bought.ravel().astype(int)})


def _novelty_slope(seed: int, users: int, scale: str = "relative") -> float:
    table = user_days(seed, users)
    return abt.exposure_effects(table["user"], table["treated"].to_numpy(), table["age"],
                                table["purchases"], scale=scale).slope


def _spend(arm: dict) -> tuple[float, float, int]:
    """(mean, sd, n) of spend per customer."""
    return arm["spend"] / arm["customers"], arm["spend_sd"], arm["customers"]


def _arm_spend(arm: str, **options) -> abt.MeansTTest:
    """Spend per customer, an e-mail arm (treatment) against No E-Mail (control)."""
    return abt.welch_ttest_from_stats(*_spend(NO_EMAIL), *_spend(ARMS[arm][1]), **options)


def _stop_look(z_values, critical: float | None = None) -> int:
    """The stopping look of the design (0: none), or of a constant boundary ``critical``."""
    if critical is None:
        design = abt.boundaries(len(z_values), method="ld-obf")
        fractions = design.information_fractions
        return abt.sequential_analysis(z_values, fractions, design).stop_look
    return next((k + 1 for k, z in enumerate(z_values) if abs(z) >= critical), 0)


def _load_time(load: dict, alternative: str = "smaller") -> abt.MeansTTest:
    return abt.welch_ttest_from_stats(*load["control"], *load["treatment"], alternative=alternative)


def _ship_probability_at_test_n(ship: dict) -> float:
    """P(estimate >= minimum) at the test's own sample size, when the true effect is ``effect``."""
    p, e = ship["baseline"], ship["effect"]
    n = abt.sample_size_proportions(p, p + e)
    se = math.sqrt((p * (1 - p) + (p + e) * (1 - p - e)) / n)
    return float(stats.norm.cdf((e - ship["minimum"]) / se))


def _points(share: float) -> str:
    return f"{100 * share:g}"


def _plus_points(share: float) -> str:
    """``+2 points`` (``+1 point``)."""
    return f"+{_points(share)} point{'' if _points(share) == '1' else 's'}"


def _z_text(z_values) -> str:
    return ", ".join(f"{z:.2f}" for z in z_values[:-1]) + f" and {z_values[-1]:.2f}"


def _load_text(i) -> str:
    (mc, sc, nc), (mt, st, nt) = i["13.5"]["control"], i["13.5"]["treatment"]
    return (f"Control:\nmean {mc:.3f} s, standard deviation {sc:.2f} s, {nc:,} users; treatment: mean {mt:.3f} s, "
            f"standard deviation\n{st:.2f} s, {nt:,} users.")


SUBSTITUTIONS = (
    Substitution("**10,210**, **9,870** and\n**10,135**",
                 lambda i: "**{:,}**, **{:,}** and\n**{:,}**".format(*i["13.1"]["counts"])),
    Substitution("the Womens e-mail's spend lift", lambda i: f"the {ARMS[i['13.2']['arm']][0]} e-mail's spend lift"),
    Substitution("**Womens E-Mail** arm", lambda i: f"**{i['13.2']['arm']}** arm"),
    Substitution("lower bound of the 95% confidence interval",
                 lambda i: f"lower bound of the {_points(1 - i['13.2']['alpha'])}% confidence interval"),
    Substitution("planned **5** equally spaced looks", lambda i: f"planned **{len(i['13.4']['z_values'])}** equally "
                 "spaced looks"),
    Substitution("at the looks are 2.10, 2.60, 2.95, 3.40 and 3.90.",
                 lambda i: f"at the looks are {_z_text(i['13.4']['z_values'])}."),
    Substitution("z_values = [2.10, 2.60, 2.95, 3.40, 3.90]",
                 lambda i: "z_values = [" + ", ".join(f"{z:.2f}" for z in i["13.4"]["z_values"]) + "]"),
    Substitution("by more than **2%**.", lambda i: f"by more than **{_points(i['13.5']['tolerance'])}%**."),
    Substitution("Control:\nmean 1.800 s, standard deviation 0.90 s, 20,000 users; treatment: mean 1.825 s, "
                 "standard deviation\n0.95 s, 20,000 users.", _load_text),
    Substitution("is below +2%.", lambda i: f"is below +{_points(i['13.5']['tolerance'])}%."),
    Substitution("user-day table: 3,000 users", lambda i: f"user-day table: {i['13.7']['users']:,} users"),
    Substitution("np.random.default_rng(1307)", lambda i: f"np.random.default_rng({i['13.7']['seed']})"),
    Substitution("n, days = 3_000, 7", lambda i: f"n, days = {i['13.7']['users']:_}, 7"),
    Substitution("conversion rate of **10%**", lambda i: f"conversion rate of **{_points(i['13.8']['baseline'])}%**"),
    Substitution("improvement of\n**+2 points**", lambda i: f"improvement of\n**{_plus_points(i['13.8']['effect'])}**"),
    Substitution("at least **+1.5 points**", lambda i: f"at least **{_plus_points(i['13.8']['minimum'])}**"),
    Substitution("estimate\n$\\ge$ 1.5 points", lambda i: f"estimate\n$\\ge$ {_points(i['13.8']['minimum'])} points"),
    Substitution("true effect is +2 points", lambda i: f"true effect is {_plus_points(i['13.8']['effect'])}"),
)


def exercises(inputs: dict) -> tuple[Exercise, ...]:
    """The answer key for ``inputs`` (``PUBLIC_INPUTS`` or a class edition's)."""
    counts = inputs["13.1"]["counts"]
    arm, alpha = inputs["13.2"]["arm"], inputs["13.2"]["alpha"]
    name, spend_arm = ARMS[arm]
    z_values = inputs["13.4"]["z_values"]
    looks = len(z_values)
    load = inputs["13.5"]
    tolerance = load["tolerance"]
    upper = _load_time(load).lift_ci_high
    seed, users = inputs["13.7"]["seed"], inputs["13.7"]["users"]
    ship = inputs["13.8"]
    baseline, effect, minimum = ship["baseline"], ship["effect"], ship["minimum"]
    counts_text = "[" + ", ".join(f"{c:_}" for c in counts) + "]"
    level = _points(1 - alpha)
    return (
    Exercise(
        "13.1",
        "srm_pvalue_three_arms",
        Number(
            lambda: abt.srm_test(counts).pvalue,
            rtol=1e-3,
            hint=f"Pass all three counts at once: abt.srm_test({counts_text}) (equal "
            "designed shares are the default) and take .pvalue.",
            mistakes=[
                (lambda: abt.srm_test(counts[:2]).pvalue, "That checks only the first two "
                 "arms. The SRM check of a three-arm test compares all three counts with their "
                 "designed shares at once (2 degrees of freedom)."),
                (lambda: stats.chi2.sf(abt.srm_test(counts).statistic, 1), "You used 1 "
                 "degree of freedom; a goodness-of-fit test of k arms has k - 1, here 2."),
                (lambda: abt.srm_test(counts).statistic, "That is the chi-square statistic "
                 "X^2; the p-value is in .pvalue."),
            ],
        ),
    ),
    Exercise(
        "13.2",
        "womens_spend_lift_low",
        Number(
            lambda: _arm_spend(arm, alpha=alpha).lift_ci_low,
            rtol=1e-4,
            hint="Run Welch's test from the summaries, control (No E-Mail) first: "
            "abt.welch_ttest_from_stats(mean_c, sd_c, n_c, mean_t, sd_t, n_t) with mean = total "
            "spend / customers, and take .lift_ci_low.",
            mistakes=[
                (lambda: _arm_spend(arm, alpha=alpha).ci_low, "That is the lower bound of the ABSOLUTE effect "
                 "in dollars per customer (.ci_low); the question asks for the relative lift "
                 "(.lift_ci_low)."),
                (lambda: _arm_spend(arm, alpha=alpha).lift_ci_low_symmetric, "That is the symmetric interval "
                 "lift -/+ z SE; the question asks for abteach's default lift interval, the delta "
                 "method on the log of the ratio (.lift_ci_low)."),
                (lambda: _arm_spend(arm, alpha=alpha, equal_var=True).lift_ci_low, "That is the pooled "
                 f"(equal-variance) test; the standard deviations differ ({spend_arm['spend_sd']:.1f} against "
                 f"{NO_EMAIL['spend_sd']:.1f}), so "
                 "use Welch's test, the default (equal_var=False)."),
                (lambda: abt.welch_ttest_from_stats(*_spend(spend_arm), *_spend(NO_EMAIL), alpha=alpha).lift_ci_low,
                 f"You swapped the arms: that is No E-Mail relative to {arm}. Give the "
                 "control (No E-Mail) first, then the treatment."),
                (lambda: _arm_spend(arm, alpha=2 * alpha).lift_ci_low, f"That is a {_points(1 - 2 * alpha)}% "
                 f"interval (or the bound of a one-sided {level}% one); the question asks for the two-sided "
                 f"{level}% interval (alpha = {alpha:g})."),
            ],
        ),
    ),
    Exercise(
        "13.3",
        "correction",
        fixed=True,
        answer=Choice(
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
            lambda: _stop_look(z_values),
            hint=f"Build the design with abt.boundaries({looks}, method='ld-obf'), pass the z-values, "
            "its information_fractions and the design to abt.sequential_analysis and read "
            ".stop_look (1-based).",
            mistakes=[
                (lambda: _stop_look(z_values, stats.norm.isf(0.025)), "That is the first look with "
                 "|Z| >= 1.96, the fixed-sample rule that peeking inflates; the design's "
                 "boundaries are much higher at the early looks."),
                (lambda: _stop_look(z_values) - 1, "That is a 0-based index; looks are numbered from 1 "
                 "(.stop_look is already 1-based)."),
                (looks, "The experiment does not have to run to the last look: it stops at the "
                 "first look whose |Z| reaches the boundary."),
            ],
        ),
    ),
    Exercise(
        "13.5",
        "guardrail_passes",
        Boolean(
            lambda: bool(upper < tolerance),
            hint="A guardrail passes only when the bad end of the interval lies within the "
            "tolerance. Here the bad direction is an increase: compare the one-sided 95% upper bound of "
            "the lift (Welch, alternative='smaller', .lift_ci_high) with "
            f"+{_points(tolerance)}%" + (": it is above, so a harmful slowdown cannot be ruled out. A "
                                         "non-significant change is not a passed guardrail." if upper >= tolerance
                                         else ": it is below, so a slowdown beyond the tolerance is ruled out."),
        ),
    ),
    Exercise(
        "13.6",
        "womens_verdict",
        fixed=True,
        answer=Choice(
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
            lambda: _novelty_slope(seed, users),
            rtol=1e-6,
            hint="Pass the four columns to abt.exposure_effects(user, treated, age, purchases, "
            "scale='relative') (treated as a boolean array: .to_numpy()) and take .slope, the "
            "change of the log lift per day since first exposure.",
            mistakes=[
                (lambda: _novelty_slope(seed, users, "absolute"), "That is the slope of the DIFFERENCE of "
                 "purchase rates; purchases per day differ between ages in both arms, so compare "
                 "the relative lift (scale='relative')."),
            ],
        ),
    ),
    Exercise(
        "13.8",
        "n_ship_rule",
        Number(
            lambda: abt.sample_size_ship_rule(effect, minimum_effect=minimum, p_control=baseline),
            rtol=1e-3,
            hint=f"The rule ships when the estimate clears both z_0.975 SE and {_points(minimum)} points; "
            f"abt.sample_size_ship_rule({effect:g}, minimum_effect={minimum:g}, p_control={baseline:.2f}) gives the "
            "control-arm n at which it ships with probability 0.8.",
            mistakes=[
                (lambda: abt.sample_size_proportions(baseline, baseline + effect),
                 "That is the sample size of the test alone (80% significant); the rule also "
                 f"needs the estimate above {_points(minimum)} points, which at that n happens only "
                 f"{100 * _ship_probability_at_test_n(ship):.0f}% of the time."),
                (lambda: abt.sample_size_proportions(baseline, baseline + minimum),
                 f"That sizes the test to detect +{_points(minimum)} points; +{_points(effect)} points is the "
                 f"effect to detect and +{_points(minimum)} points the ship threshold: pass effect {effect:g} and "
                 f"minimum_effect={minimum:g} to abt.sample_size_ship_rule."),
            ],
        ),
    ),
)


EXERCISES = exercises(PUBLIC_INPUTS)
