"""Answer key of chapter 15, Heavy tails, outliers and quantiles
(``solutions/15_heavy_tails.ipynb``).

Expected values are computed with abteach from the shipped Hillstrom data, the small tables and
samples below, and the seeded page-view simulation; typical wrong answers are recomputed the
same way so that each gets its own hint. Class editions draw their own inputs
(:func:`draw_inputs`, see :mod:`abteach.course.editions`): the e-mail arm and the cap's
percentile (15.1), the arm and the customers' zip-code area (15.2), the rare-conversion table
(15.3, 15.4), the seven customers per arm (15.5) and the simulation's seed and size (15.6);
15.7 is multiple choice and cannot vary (``fixed``); it names the cap of 15.1 $c$, without
its value, so that its question reads the same in every edition.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy import stats

import abteach as abt
from abteach.course.check import Choice, Exercise, Number
from abteach.course.editions import Substitution

ARMS = {"Mens E-Mail": "men's", "Womens E-Mail": "women's"}
AREAS = {None: "", "Urban": "urban", "Suburban": "suburban", "Rural": "rural"}

# The inputs of the public edition (class editions draw their own, see draw_inputs).
PUBLIC_INPUTS = {
    # 15.1 (and the cap quoted by 15.7): the e-mail arm against 'No E-Mail', the cap's quantile
    # (at least 0.995: fewer than 1% of the customers spend anything, so lower caps are $0).
    "15.1": {"arm": "Mens E-Mail", "quantile": 0.999},
    # 15.2: the e-mail arm against 'No E-Mail', all customers (None) or one zip-code area.
    "15.2": {"arm": "Womens E-Mail", "area": None},
    # 15.3 and 15.4: conversions and users (control, then treatment).
    "15.3": {"counts": (2, 500, 9, 480)},
    # 15.5: revenue of seven customers per arm.
    "15.5": {"control": (12.5, 3.2, 48.0, 7.9, 15.1, 0.0, 22.4),
             "treatment": (31.0, 18.4, 95.5, 9.9, 27.3, 41.2, 14.8)},
    # 15.6: seed and users of the simulated control arm.
    "15.6": {"seed": 15, "users": 1_000},
}
#: The public edition's inputs under the names the chapter's tests use.
RARE = PUBLIC_INPUTS["15.3"]["counts"]
SMALL_CONTROL, SMALL_TREATMENT = PUBLIC_INPUTS["15.5"]["control"], PUBLIC_INPUTS["15.5"]["treatment"]
SEED, USERS = PUBLIC_INPUTS["15.6"]["seed"], PUBLIC_INPUTS["15.6"]["users"]


def draw_inputs(group: str, rng) -> dict:
    """A class edition's inputs of ``group`` (see :mod:`abteach.course.editions`)."""
    if group == "15.1":
        arm, quantile = "Mens E-Mail", 0.999
        while (arm, quantile) == ("Mens E-Mail", 0.999):  # never the public pair
            arm, quantile = str(rng.choice(list(ARMS))), float(rng.choice([0.995, 0.996, 0.997, 0.998, 0.999]))
        return {"arm": arm, "quantile": quantile}
    if group == "15.2":
        arm, area = "Womens E-Mail", None
        while (arm, area) == ("Womens E-Mail", None):
            arm, area = str(rng.choice(list(ARMS))), list(AREAS)[int(rng.integers(len(AREAS)))]
        return {"arm": arm, "area": area}
    if group == "15.3":
        n_control, n_treatment = (10 * int(rng.integers(40, 61)) for _ in range(2))
        while True:  # a table whose p-value is not the public one
            counts = (int(rng.integers(0, 5)), n_control, int(rng.integers(6, 14)), n_treatment)
            if not np.isclose(_fisher(counts), _fisher(RARE), rtol=1e-4):
                return {"counts": counts}
    if group == "15.5":
        while True:  # permutation p-values are multiples of 1 / 3432: avoid the public one
            small = {"control": _small_arm(rng, 12.0), "treatment": _small_arm(rng, 12.0 * rng.uniform(1.6, 2.6))}
            if not np.isclose(_permutation(small), _permutation(PUBLIC_INPUTS["15.5"]), rtol=1e-6):
                return small
    if group == "15.6":
        return {"seed": int(rng.integers(16, 1000)), "users": int(rng.choice([600, 800, 1200, 1500, 2000]))}
    raise ValueError(f"group must be one of {sorted(PUBLIC_INPUTS)}, got {group!r}")


def _small_arm(rng, scale: float) -> tuple[float, ...]:
    """Seven heavy-tailed spends rounded to 10 cents, a few of them zero."""
    spend = np.round(rng.lognormal(np.log(scale), 0.9, 7), 1)
    return tuple(float(v) for v in np.where(rng.random(7) < 0.1, 0.0, spend))


def page_views(rng, users: int, speed: float = 1.0):
    """The chapter's page-view simulator: load times and the user of each view."""
    views = 1 + rng.negative_binomial(1, 0.2, users)
    user = np.repeat(np.arange(users), views)
    level = rng.normal(0.0, 0.6, users)
    return speed * np.exp(level[user] + rng.normal(0.0, 0.5, user.size)), user


@cache
def _spend(segment: str, area: str | None = None) -> np.ndarray:
    customers = abt.hillstrom()
    keep = customers["segment"] == segment
    if area is not None:
        keep &= customers["zip_code"] == area
    return customers.loc[keep, "spend"].to_numpy()


def _pooled_cap(arm: str, quantile: float) -> float:
    return float(abt.cap_threshold(np.concatenate([_spend("No E-Mail"), _spend(arm)]), quantile))


def _capped_effect(arm: str, quantile: float | None, per_arm: bool = False) -> float:
    control, treated = _spend("No E-Mail"), _spend(arm)
    if quantile is None:
        return abt.welch_ttest(control, treated).effect
    if per_arm:
        caps = abt.cap_threshold(control, quantile), abt.cap_threshold(treated, quantile)
    else:
        caps = (_pooled_cap(arm, quantile),) * 2
    return abt.welch_ttest(abt.winsorize(control, caps[0]), abt.winsorize(treated, caps[1])).effect


def _rank_pvalue(arm: str, area: str | None, alternative: str = "two-sided") -> float:
    return stats.mannwhitneyu(_spend(arm, area), _spend("No E-Mail", area),
                              alternative=alternative).pvalue


def _fisher(counts, alternative: str = "two-sided") -> float:
    return abt.fisher_exact_test(*counts, alternative=alternative).pvalue


def _permutation(small: dict, alternative: str = "two-sided") -> float:
    return abt.permutation_test(small["control"], small["treatment"], alternative=alternative).pvalue


def _se_ratio(seed: int, users: int, inverse: bool = False) -> float:
    load, user = page_views(np.random.default_rng(seed), users)
    clustered = abt.quantile_test(load, load, clusters_control=user).se_control
    iid = abt.quantile_test(load, load).se_control
    return iid / clustered if inverse else clustered / iid


def _percentile(quantile: float) -> str:
    return f"{100 * quantile:g}th"


def _values(values) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


def _cap_text(i) -> str:
    s = i["15.1"]
    return (f"Cap the spend of the {ARMS[s['arm']]} e-mail arm and of the control at the "
            f"{_percentile(s['quantile'])} percentile")


def _area_text(area: str | None) -> str:
    return "" if area is None else f", among the customers of {AREAS[area]} zip codes"


def _rank_text(i) -> str:
    s = i["15.2"]
    return (f"Mann-Whitney test of spend, {ARMS[s['arm']]} e-mail against no\n"
            f"e-mail{_area_text(s['area'])} (`scipy.stats.mannwhitneyu`)?")


def _rare_text(i) -> str:
    xc, nc, xt, nt = i["15.3"]["counts"]
    return f"A test converts {xc} of {nc} control users and {xt} of {nt} treated users"


def _small_markdown(i) -> str:
    control = i["15.5"]["control"]
    return f"`control_small = [{_values(control[:6])},\n{_values(control[6:])}]`"


def _simulation(i) -> str:
    return f"page_views(np.random.default_rng({i['15.6']['seed']}), {i['15.6']['users']})"


SUBSTITUTIONS = (
    Substitution("Cap the spend of the men's e-mail arm and of the control at the 99.9th percentile", _cap_text),
    Substitution("a rank test of the women's e-mail",
                 lambda i: f"a rank test of the {ARMS[i['15.2']['arm']]} e-mail"),
    Substitution("Mann-Whitney test of spend, women's e-mail against no\ne-mail (`scipy.stats.mannwhitneyu`)?",
                 _rank_text),
    Substitution("A test converts 2 of 500 control users and 9 of 480 treated users", _rare_text),
    Substitution("`control_small = [12.5, 3.2, 48.0, 7.9, 15.1, 0.0,\n22.4]`", _small_markdown),
    Substitution("control_small = [12.5, 3.2, 48.0, 7.9, 15.1, 0.0, 22.4]",
                 lambda i: f"control_small = [{_values(i['15.5']['control'])}]"),
    Substitution("treatment_small = [31.0, 18.4, 95.5, 9.9, 27.3, 41.2, 14.8]",
                 lambda i: f"treatment_small = [{_values(i['15.5']['treatment'])}]", count=2),
    Substitution("page_views(np.random.default_rng(15), 1000)", _simulation, count=2),
)


def exercises(inputs: dict) -> tuple[Exercise, ...]:
    """The answer key for ``inputs`` (``PUBLIC_INPUTS`` or a class edition's)."""
    arm, quantile = inputs["15.1"]["arm"], inputs["15.1"]["quantile"]
    other_quantile = 0.995 if quantile != 0.995 else 0.999
    rank_arm, area = inputs["15.2"]["arm"], inputs["15.2"]["area"]
    counts, small = inputs["15.3"]["counts"], inputs["15.5"]
    xc, nc, xt, nt = counts
    seed, users = inputs["15.6"]["seed"], inputs["15.6"]["users"]
    rank_name = rank_arm.split()[0].lower()
    among = "" if area is None else f" (only the customers of {AREAS[area]} zip codes)"
    return (
        Exercise(
            "15.1",
            "capped_effect",
            Number(
                lambda: _capped_effect(arm, quantile),
                rtol=1e-6,
                hint=f"Pool the spend of 'No E-Mail' and '{arm}', take its {_percentile(quantile)} percentile "
                f"with abt.cap_threshold(pooled, {quantile}), cap BOTH arms at it with abt.winsorize and "
                "give the Welch effect (treatment minus control).",
                mistakes=[
                    (lambda: _capped_effect(arm, quantile, per_arm=True), "You capped each arm at its own "
                     "percentile; one threshold from the pooled data must serve both arms."),
                    (lambda: _capped_effect(arm, None), "That is the uncapped effect."),
                    (lambda: _capped_effect(arm, other_quantile), f"That caps at the "
                     f"{_percentile(other_quantile)} percentile; the question asks for the {_percentile(quantile)}."),
                ],
            ),
        ),
        Exercise(
            "15.2",
            "rank_pvalue",
            Number(
                lambda: _rank_pvalue(rank_arm, area),
                rtol=1e-6,
                hint=f"Call scipy.stats.mannwhitneyu({rank_name}_spend, control_spend){among} (two-sided) and "
                "take .pvalue.",
                mistakes=[
                    (lambda: _rank_pvalue(rank_arm, area, "greater"), "That is one-sided; the question asks for "
                     "the two-sided test."),
                    (lambda: abt.welch_ttest(_spend("No E-Mail", area), _spend(rank_arm, area)).pvalue,
                     "That is Welch's test of the means, a different question."),
                ],
            ),
        ),
        Exercise(
            "15.3",
            "fisher_pvalue",
            Number(
                lambda: _fisher(counts),
                rtol=1e-6,
                hint="abt.fisher_exact_test(x_control, n_control, x_treatment, n_treatment) with "
                f"{xc} of {nc} and {xt} of {nt}; two-sided is the default.",
                mistakes=[
                    (lambda: _fisher(counts, "larger"), "That is "
                     "one-sided; the question asks for the two-sided test."),
                    (lambda: abt.ztest_proportions(*counts).pvalue, "That is the z-test, whose "
                     f"normal approximation is the problem with {xc + xt} conversions."),
                ],
            ),
        ),
        Exercise(
            "15.4",
            "barnard_pvalue",
            Number(
                lambda: abt.barnard_exact_test(*counts).pvalue,
                rtol=1e-5,
                hint="abt.barnard_exact_test with the same counts as 15.3 (two-sided).",
                mistakes=[
                    (lambda: abt.barnard_exact_test(*counts, alternative="larger").pvalue, "That is "
                     "one-sided; the question asks for the two-sided test."),
                ],
            ),
        ),
        Exercise(
            "15.5",
            "permutation_pvalue",
            Number(
                lambda: _permutation(small),
                rtol=1e-9,
                hint="abt.permutation_test(control, treatment): with 7 + 7 values all 3,432 "
                "splits are enumerated (exact); two-sided is the default.",
                mistakes=[
                    (lambda: _permutation(small, "larger"),
                     "That is one-sided; the question asks for the two-sided p-value."),
                    (lambda: abt.welch_ttest(small["control"], small["treatment"]).pvalue, "That is "
                     "Welch's t-test; the question asks for the permutation test."),
                ],
            ),
        ),
        Exercise(
            "15.6",
            "se_ratio",
            Number(
                lambda: _se_ratio(seed, users),
                rtol=1e-6,
                hint="Run abt.quantile_test(load, load, clusters_control=user) and "
                "abt.quantile_test(load, load) and divide the two se_control values (clustered "
                "over i.i.d.).",
                mistakes=[
                    (lambda: _se_ratio(seed, users, inverse=True), "That is i.i.d. over clustered; the question "
                     "asks how many times LARGER the clustered SE is."),
                ],
            ),
        ),
        Exercise(
            "15.7",
            "capped_estimand",
            fixed=True,
            answer=Choice(
                "b",
                ("a", "b", "c", "d"),
                hints={
                    "a": "Capping changes every value above c to c, so the test no longer "
                    "estimates the difference of the raw means.",
                    "c": "That is what the Mann-Whitney test of 15.2 compares, not a t-test on "
                    "capped values.",
                    "d": "A t-test on capped values compares means of the capped values, not "
                    "medians (the median of spend is 0 in both arms).",
                },
            ),
        ),
    )


EXERCISES = exercises(PUBLIC_INPUTS)
