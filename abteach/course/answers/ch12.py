"""Answer key of chapter 12, Beyond the average (``solutions/12_beyond.ipynb``).

Every expected value is computed with abteach when first needed; typical wrong answers are
recomputed the same way so that each gets its own hint. Class editions draw their own inputs
(:func:`draw_inputs`, see :mod:`abteach.course.editions`): the segment table of 12.1, the five
segment effects of 12.2 and 12.3 and the two arms of 12.5 (whose P(beat) 12.6 quotes); 12.4 and
12.7 are multiple choice and cannot vary (``fixed``); 12.6 is a True/False question whose answer
is False in every edition.
"""

from __future__ import annotations

import numpy as np

import abteach as abt
from abteach.course.check import Boolean, Choice, Exercise, Number
from abteach.course.editions import Substitution

SEGMENTS = ("desktop", "mobile", "tablet", "app")
ORDINALS = ("", "", " second", " third", " fourth")

# The inputs of the public edition (class editions draw their own, see draw_inputs).
PUBLIC_INPUTS = {
    # 12.1: a conversion experiment sliced by platform (conversions and users per arm).
    "12.1": {"x_control": (480, 610, 95, 300), "n_control": (10_000, 12_000, 2_000, 6_000),
             "x_treatment": (530, 700, 90, 330), "n_treatment": (10_000, 12_000, 2_000, 6_000)},
    # 12.2 and 12.3: five segment effects (absolute, treatment - control) and their standard errors.
    "12.2": {"effects": (0.012, 0.004, -0.003, 0.009, 0.020), "standard_errors": (0.004, 0.003, 0.006, 0.005, 0.010)},
    # 12.5 (and the P(beat) quoted by 12.6): conversions and users per arm.
    "12.5": {"x_c": 410, "n_c": 9_000, "x_t": 468, "n_t": 9_000},
}


def _draw_segments(rng) -> dict:
    """Four segments of which one looks significant (raw p < 0.05) and whose Holm-adjusted
    desktop p-value is below 0.95 (not clipped at 1)."""
    while True:
        n = tuple(1000 * int(k) for k in (rng.integers(8, 13), rng.integers(10, 15), rng.integers(2, 4),
                                          rng.integers(5, 8)))
        rates = rng.uniform(0.035, 0.06, size=4)
        x_c = tuple(int(round(r * m)) for r, m in zip(rates, n))
        x_t = tuple(int(round(r * m * rng.uniform(0.97, 1.18))) for r, m in zip(rates, n))
        table = {"x_control": x_c, "n_control": n, "x_treatment": x_t, "n_treatment": n}
        if min(_segments(table, "holm").pvalue) < 0.05 and _desktop(table, "pvalue_adjusted") < 0.95:
            return table


def _draw_shrinkage(rng) -> dict:
    """Five effects with a real spread (tau^2 well above 0) whose last segment has the largest SE (the
    hint of 12.3 says so)."""
    while True:
        se = np.round(rng.uniform(0.003, 0.007, size=5), 3)
        se[-1] = round(float(rng.uniform(0.009, 0.012)), 3)
        effects = np.round(rng.uniform(-0.002, 0.012) + rng.normal(0, 0.006, size=5) + rng.normal(0, se), 3)
        inputs = {"effects": tuple(float(v) for v in effects), "standard_errors": tuple(float(v) for v in se)}
        if _shrinkage(inputs).tau2 > 5e-6:  # a spread of at least 0.002 (the public one: 0.004)
            return inputs


def _draw_bayes(rng) -> dict:
    """Two arms whose P(beat) is between 0.9 and 0.995, as in the public edition, but rounds to
    another value."""
    public = round(_prob_beat(PUBLIC_INPUTS["12.5"]), 3)
    while True:
        n = 1000 * int(rng.integers(6, 15))
        x_c = int(round(n * rng.uniform(0.035, 0.06)))
        inputs = {"x_c": x_c, "n_c": n, "x_t": int(round(x_c * rng.uniform(1.05, 1.2))), "n_t": n}
        p = _prob_beat(inputs)
        if 0.9 < p < 0.995 and round(p, 3) != public:
            return inputs


def draw_inputs(group: str, rng) -> dict:
    """A class edition's inputs of ``group`` (see :mod:`abteach.course.editions`)."""
    if group == "12.1":
        return _draw_segments(rng)
    if group == "12.2":
        return _draw_shrinkage(rng)
    if group == "12.5":
        return _draw_bayes(rng)
    raise ValueError(f"group must be one of {sorted(PUBLIC_INPUTS)}, got {group!r}")


def _table(i) -> str:
    s = i["12.1"]
    return "\n".join(f"| {name} | {xc:,} | {nc:,} | {xt:,} | {nt:,} |" for name, xc, nc, xt, nt in
                     zip(SEGMENTS, s["x_control"], s["n_control"], s["x_treatment"], s["n_treatment"]))


def _numbers(values) -> str:
    return ", ".join(f"{v:.3f}" for v in values)


def _effects_text(i) -> str:
    s = i["12.2"]
    effects = _numbers(s["effects"])
    cut = effects.rfind(", ") + 1  # the line breaks before the last effect, as in the notebook
    return (f"`{effects[:cut]}\n{effects[cut + 1:]}` with standard errors `{_numbers(s['standard_errors'])}`")


def _code_lines(i) -> str:
    s = i["12.2"]
    return (f"effects = [{_numbers(s['effects'])}]\n"
            f"standard_errors = [{_numbers(s['standard_errors'])}]")


def _last_text(i) -> str:
    s = i["12.2"]
    return f"whose raw effect is {s['effects'][-1]:.3f} with standard error {s['standard_errors'][-1]:.3f}"


def _arms_text(i) -> str:
    s = i["12.5"]
    return (f"Control: {s['x_c']:,} conversions out of {s['n_c']:,} users; treatment: {s['x_t']:,} out of "
            f"{s['n_t']:,}")


def _pbeat_text(i) -> str:
    p = round(_prob_beat(i["12.5"]), 3)
    return (f"\"P(beat) = {p:.3f} means that if we ship the treatment, the probability that we are\n"
            f"shipping a change with no real effect (a false positive) is {100 * (1 - p):.1f}%.\"")


def _segments(table, method: str):
    return abt.segment_effects_proportions(SEGMENTS, table["x_control"], table["n_control"],
                                           table["x_treatment"], table["n_treatment"], method=method)


def _desktop(table, field: str, method: str = "holm") -> float:
    return float(getattr(_segments(table, method), field)[SEGMENTS.index("desktop")])


def _desktop_rank(table) -> int:
    """Rank (1 = smallest) of desktop's raw p-value among the four segments."""
    pvalues = np.asarray(_segments(table, "holm").pvalue)
    return int(np.sum(pvalues <= pvalues[SEGMENTS.index("desktop")]))


def _shrinkage(s):
    return abt.shrink_effects(s["effects"], s["standard_errors"])


def _prob_beat(arms) -> float:
    return float(abt.beta_binomial_ab(arms["x_c"], arms["n_c"], arms["x_t"], arms["n_t"], draws=100, rng=0)
                 .prob_treatment_better)


def _z_pvalue(arms, alternative: str) -> float:
    return abt.ztest_proportions(arms["x_c"], arms["n_c"], arms["x_t"], arms["n_t"],
                                 alternative=alternative).pvalue


SUBSTITUTIONS = (
    Substitution(_table(PUBLIC_INPUTS), _table),
    Substitution(_effects_text(PUBLIC_INPUTS), _effects_text),
    Substitution(_code_lines(PUBLIC_INPUTS), _code_lines),
    Substitution(_last_text(PUBLIC_INPUTS), _last_text),
    Substitution(_arms_text(PUBLIC_INPUTS), _arms_text),
    Substitution(_pbeat_text(PUBLIC_INPUTS), _pbeat_text),
)


def exercises(inputs: dict) -> tuple[Exercise, ...]:
    """The answer key for ``inputs`` (``PUBLIC_INPUTS`` or a class edition's)."""
    TABLE, SHRINK, ARMS = inputs["12.1"], inputs["12.2"], inputs["12.5"]
    EFFECTS, STANDARD_ERRORS = SHRINK["effects"], SHRINK["standard_errors"]
    RANK = _desktop_rank(TABLE)
    P_BEAT = round(_prob_beat(ARMS), 3)
    return (
        Exercise(
            "12.1",
            "holm_desktop",
            Number(
                lambda: _desktop(TABLE, "pvalue_adjusted"),
                rtol=2e-3,
                hint="Test each of the four segments (unpooled two-proportion z-test), then adjust the "
                "four p-values with Holm: abt.segment_effects_proportions(..., method='holm') gives "
                "them all; read the desktop entry of pvalue_adjusted.",
                mistakes=[
                    (lambda: _desktop(TABLE, "pvalue"), "That is desktop's raw p-value. Four segments were "
                     "tested, so the p-value must be adjusted across the family (Holm)."),
                    (lambda: _desktop(TABLE, "pvalue_adjusted", "bonferroni"), "That is the Bonferroni "
                     f"adjustment (4 x p). Holm multiplies the smallest p-value by m = 4, the second "
                     f"smallest by 3, and so on (desktop's, the{ORDINALS[RANK]} smallest, by {5 - RANK}), keeping "
                     "the running maximum."),
                    (lambda: _desktop(TABLE, "pvalue_adjusted", "bh"), "That is the Benjamini-Hochberg "
                     "(FDR) adjustment; the question asks for Holm (family-wise error)."),
                ],
            ),
        ),
        Exercise(
            "12.2",
            "tau2",
            Number(
                lambda: float(_shrinkage(SHRINK).tau2),
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
                lambda: float(_shrinkage(SHRINK).shrunken[-1]),
                rtol=2e-3,
                hint="shrunken_i = mean + (1 - B_i) (d_i - mean) with B_i = se_i^2 / (se_i^2 + tau^2) "
                "and the random-effects mean; abt.shrink_effects(...).shrunken[-1].",
                mistakes=[
                    (lambda: EFFECTS[-1], "That is the raw estimate of the last segment; shrinkage "
                     "pulls it toward the overall mean, the more so as its SE "
                     f"({STANDARD_ERRORS[-1]:.3f}) is the largest."),
                    (lambda: float(_shrinkage(SHRINK).mean), "That is the overall (random-effects) mean: "
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
            fixed=True,
            answer=Choice(
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
                lambda: _prob_beat(ARMS),
                rtol=1e-3,
                hint="Posteriors Beta(1 + x, 1 + n - x) for each arm with the flat prior; "
                "P(p_t > p_c) by Evan Miller's sum, or "
                "abt.beta_binomial_ab(...).prob_treatment_better.",
                mistakes=[
                    (lambda: 1 - _z_pvalue(ARMS, "two-sided"), "That is 1 minus the two-sided p-value. "
                     "P(beat) is close to 1 minus the ONE-sided p-value with a flat prior, and it is "
                     "not a p-value at all: compute it from the two beta posteriors."),
                    (lambda: _z_pvalue(ARMS, "larger"), "That is the one-sided p-value, a probability of "
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
                hint=f"P(beat) = {P_BEAT:.3f} says: given these data and the prior, the treatment's rate is "
                f"higher with probability {P_BEAT:.3f}. It is not the false-positive rate of the decision "
                "rule 'ship when P(beat) > 0.95': under no effect that rule fires in about 5% of "
                "experiments when checked once, and far more often when checked every day.",
            ),
        ),
        Exercise(
            "12.7",
            "after_launch",
            fixed=True,
            answer=Choice(
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


EXERCISES = exercises(PUBLIC_INPUTS)
