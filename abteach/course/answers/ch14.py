"""Answer key of chapter 14, Two real experiments (``solutions/14_real_experiments.ipynb``).

Every expected value is computed from the shipped data with abteach when first needed; typical
wrong answers are recomputed the same way so that each gets its own hint. Class editions draw
their own inputs (:func:`draw_inputs`, see :mod:`abteach.course.editions`) from what the real
data offer: the e-mail arm, outcome, covariate and the customers' zip-code area or purchase
channel (14.1 to 14.4), the ASOS metric and the level (14.5), the significance level (14.6), the level and
spending function of the group-sequential rule (14.7) and the mSPRT's tau (14.8). The replays
of 14.6 to 14.8 stay on metric 1: metrics 2 to 4 lack the variances at some daily looks. Counts
of the ASOS exercises are drawn only where they differ from the public ones; 14.4 is True or
False and may coincide.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy import stats

import abteach as abt
from abteach.course.check import Boolean, Exercise, Number
from abteach.course.editions import Substitution

ARMS = {"Mens E-Mail": "men's", "Womens E-Mail": "women's"}
OUTCOMES = {"conversion": "conversion", "visit": "visits"}
COVARIATES = {"recency": "months since\nthe last purchase", "history": "dollars spent in\nthe past year"}
RULE_METRICS = {"spend": "mean spend", "visit": "visit rate", "conversion": "conversion rate"}
#: Subgroups of customers: (column, value) -> the words that name them.
SUBGROUPS = {
    ("zip_code", "Urban"): "of urban zip codes", ("zip_code", "Suburban"): "of suburban zip codes",
    ("zip_code", "Rural"): "of rural zip codes", ("channel", "Web"): "who bought on the web last year",
    ("channel", "Phone"): "who bought by phone last year",
    ("channel", "Multichannel"): "who bought on both channels last year",
}
SPENDING = {"ld-obf": "O'Brien-Fleming-type", "ld-pocock": "Pocock-type"}

# The inputs of the public edition (class editions draw their own, see draw_inputs).
PUBLIC_INPUTS = {
    # 14.1: the e-mail arm against 'No E-Mail', the binary outcome of the z-test, the customers.
    "14.1": {"arm": "Womens E-Mail", "outcome": "conversion", "subgroup": None},
    # 14.2: the customers of the SRM check, all (None) or a subgroup (column, value).
    "14.2": {"subgroup": None},
    # 14.3: the e-mail arm and CUPED's covariate.
    "14.3": {"arm": "Womens E-Mail", "covariate": "recency"},
    # 14.4: the arm, its customers (all or a subgroup) and the metric of the rule of thumb.
    "14.4": {"arm": "Womens E-Mail", "subgroup": None, "metric": "spend"},
    # 14.5: the ASOS metric whose final checkpoints are tested, and the level.
    "14.5": {"metric": 1, "alpha": 0.05},
    # 14.6: the level of the daily peeker.
    "14.6": {"alpha": 0.05},
    # 14.7: level and spending function of the group-sequential rule.
    "14.7": {"alpha": 0.05, "method": "ld-obf"},
    # 14.8: the mSPRT's tau, a share of the control rate at the first look.
    "14.8": {"tau_share": 0.02},
}


def draw_inputs(group: str, rng) -> dict:
    """A class edition's inputs of ``group`` (see :mod:`abteach.course.editions`)."""
    public = PUBLIC_INPUTS.get(group)
    if group == "14.1":
        return _other(rng, public, arm=list(ARMS), outcome=list(OUTCOMES), subgroup=[None, *SUBGROUPS])
    if group == "14.2":
        return {"subgroup": list(SUBGROUPS)[int(rng.integers(len(SUBGROUPS)))]}
    if group == "14.3":
        return _other(rng, public, arm=list(ARMS), covariate=list(COVARIATES))
    if group == "14.4":
        subgroups = [None, *SUBGROUPS]
        return _other(rng, public, arm=list(ARMS), subgroup=subgroups, metric=list(RULE_METRICS))
    if group == "14.5":
        return _other_count(rng, _n_significant, metric=[1, 2, 3, 4], alpha=[0.01, 0.05, 0.1])
    if group == "14.6":
        return _other_count(rng, _misleading_peeks, alpha=[0.01, 0.02, 0.1])
    if group == "14.7":
        return _other_count(rng, _gs_early, alpha=[0.01, 0.02, 0.05, 0.1], method=list(SPENDING))
    if group == "14.8":
        return _other_count(rng, _msprt_rejections, tau_share=[0.002, 0.003, 0.005, 0.1, 0.15, 0.2])
    raise ValueError(f"group must be one of {sorted(PUBLIC_INPUTS)}, got {group!r}")


def _draw(rng, choices: dict) -> dict:
    return {name: values[int(rng.integers(len(values)))] for name, values in choices.items()}


def _other(rng, public: dict, **choices) -> dict:
    """Inputs drawn from ``choices`` until they differ from the public ones."""
    while True:
        drawn = _draw(rng, choices)
        if drawn != public:
            return drawn


def _other_count(rng, count, **choices) -> dict:
    """Inputs drawn from ``choices`` until ``count(**inputs)`` differs from the public count."""
    public = count()
    while True:
        drawn = _draw(rng, choices)
        if count(**drawn) != public:
            return drawn


STREAM = ["experiment_id", "variant_id"]


@cache
def _customers():
    return abt.hillstrom()


def _arm(name: str):
    customers = _customers()
    return customers[customers["segment"] == name]


def _customers_of(arm: str, subgroup=None):
    customers = _arm(arm)
    return customers if subgroup is None else customers[customers[subgroup[0]] == subgroup[1]]


def _z(arm: str, outcome: str, subgroup=None, pooled: bool = True) -> float:
    control, treated = _customers_of("No E-Mail", subgroup), _customers_of(arm, subgroup)
    return abt.ztest_proportions(
        control[outcome].sum(), len(control), treated[outcome].sum(), len(treated),
        pooled=pooled,
    ).statistic


def _arm_counts(subgroup=None) -> np.ndarray:
    customers = _customers()
    if subgroup is not None:
        customers = customers[customers[subgroup[0]] == subgroup[1]]
    return customers.groupby("segment", observed=True).size().to_numpy()


def _cuped(arm: str, covariate: str):
    control, treated = _arm("No E-Mail"), _arm(arm)
    return abt.cuped_test(
        control["spend"].to_numpy(), control[covariate].to_numpy(),
        treated["spend"].to_numpy(), treated[covariate].to_numpy(),
    )


def _rule_says_enough(arm: str, subgroup, metric: str) -> bool:
    values = _customers_of(arm, subgroup)[metric]
    return bool(len(values) >= abt.min_sample_size_for_normality(stats.skew(values)))


@cache
def _final_metric_tests(metric: int | None = 1):
    data = abt.asos()
    final = data.sort_values("time_since_start").groupby([*STREAM, "metric_id"]).tail(1)
    final = final[final["complete"]]
    if metric is not None:
        final = final[final["metric_id"] == metric]
    final = final.sort_values(STREAM)
    tests = abt.welch_ttest_from_stats(
        final["mean_c"].to_numpy(), np.sqrt(final["variance_c"].to_numpy()), final["count_c"].to_numpy(),
        final["mean_t"].to_numpy(), np.sqrt(final["variance_t"].to_numpy()), final["count_t"].to_numpy(),
    )
    return final.assign(pvalue=tests.pvalue)


def _n_significant(metric: int | None = 1, alpha: float = 0.05) -> int:
    return int((_final_metric_tests(metric)["pvalue"] < alpha).sum())


@cache
def _misleading_peeks(alpha: float = 0.05, every_checkpoint: bool = False) -> int:
    data = abt.asos()
    looks = data[(data["metric_id"] == 1) & (data["count_c"] >= 2) & (data["count_t"] >= 2)]
    looks = looks.sort_values("time_since_start")
    if not every_checkpoint:
        looks = looks.assign(day=np.floor(looks["time_since_start"]))
        looks = looks.groupby([*STREAM, "day"]).tail(1)
    tests = abt.welch_ttest_from_stats(
        looks["mean_c"].to_numpy(), np.sqrt(looks["variance_c"].to_numpy()), looks["count_c"].to_numpy(),
        looks["mean_t"].to_numpy(), np.sqrt(looks["variance_t"].to_numpy()), looks["count_t"].to_numpy(),
    )
    ever = looks.assign(crossed=tests.pvalue < alpha).groupby(STREAM)["crossed"].any()
    final = _final_metric_tests(1).set_index(STREAM)["pvalue"].reindex(ever.index) < alpha
    return int((ever & ~final).sum())


@cache
def asos_daily_looks():
    """One look a day at every metric-1 stream of ASOS (the last checkpoint of each day, at
    least 2 units per arm), with the columns of :func:`abteach.replay_streams`."""
    data = abt.asos()
    daily = data[(data["metric_id"] == 1) & (data["count_c"] >= 2) & (data["count_t"] >= 2)]
    daily = daily.assign(day=np.floor(daily["time_since_start"])).sort_values("time_since_start")
    daily = daily.groupby([*STREAM, "day"]).tail(1)
    return daily.assign(
        stream=daily["experiment_id"] + "/" + daily["variant_id"].astype(str),
        time=daily["time_since_start"], n=daily["count_c"] + daily["count_t"],
        estimate=daily["mean_t"] - daily["mean_c"],
        variance=daily["variance_c"] / daily["count_c"] + daily["variance_t"] / daily["count_t"],
    )


def asos_replay(tau_share: float = 0.01, hindsight: bool = False, alpha: float = 0.05,
                method: str = "ld-obf"):
    """Section 14.9's replay: planned maximum = the first look's rate extrapolated to the
    stream's end (``hindsight``: the final count instead), mSPRT tau = ``tau_share`` of the
    control rate at the first look; both rules at level ``alpha``, the group-sequential one
    with the spending function ``method``."""
    looks = asos_daily_looks()
    first = looks.groupby("stream").head(1).set_index("stream")
    last = looks.groupby("stream").tail(1).set_index("stream")
    planned = last["n"] if hindsight else first["n"] / first["time"] * last["time"]
    return abt.replay_streams(looks, planned_max=planned, tau2=(tau_share * first["mean_c"]) ** 2,
                              alpha=alpha, method=method)


@cache
def _gs_early(alpha: float = 0.05, method: str = "ld-obf", hindsight: bool = False) -> int:
    replay = asos_replay(hindsight=hindsight, alpha=alpha, method=method)
    return int(((replay["gs"] != 0) & (replay["gs_look"] < replay["looks"])).sum())


@cache
def _gs_rejections(alpha: float = 0.05, method: str = "ld-obf") -> int:
    return int((asos_replay(alpha=alpha, method=method)["gs"] != 0).sum())


@cache
def _msprt_rejections(tau_share: float = 0.02) -> int:
    return int((asos_replay(tau_share=tau_share)["msprt"] != 0).sum())


def _among(subgroup) -> str:
    return "" if subgroup is None else f" among the customers {SUBGROUPS[subgroup]}"


def _rule_text(i) -> str:
    r = i["14.4"]
    n = len(_customers_of(r["arm"], r["subgroup"]))
    those = "" if r["subgroup"] is None else f" (those {SUBGROUPS[r['subgroup']]})"
    return (f"are the {n:,} customers of the\n{ARMS[r['arm']]}-e-mail arm{those} enough for the "
            f"normal approximation of its {RULE_METRICS[r['metric']]}?")


def _peek_text(i) -> str:
    alpha = i["14.6"]["alpha"]
    at_end = "" if alpha == PUBLIC_INPUTS["14.6"]["alpha"] else f" (p < {alpha:g})"
    return (f"How many streams cross\np < {alpha:g} on some day but are not significant at their final "
            f"checkpoint{at_end}?")


def _gs_rule_text(i) -> str:
    g = i["14.7"]
    if g == PUBLIC_INPUTS["14.7"]:
        return "with `abt.replay_streams`."
    return (f"with `abt.replay_streams`, at two-sided $\\alpha = {g['alpha']:g}$ with {SPENDING[g['method']]} "
            f"spending (`method=\"{g['method']}\"`).")


SUBSTITUTIONS = (
    Substitution("the women's e-mail and conversion",
                 lambda i: f"the {ARMS[i['14.1']['arm']]} e-mail and {OUTCOMES[i['14.1']['outcome']]}"),
    Substitution("test of conversion, women's e-mail against",
                 lambda i: f"test of {OUTCOMES[i['14.1']['outcome']]}, {ARMS[i['14.1']['arm']]} e-mail against"),
    Substitution("no e-mail? Store it in `z_womens`.",
                 lambda i: f"no e-mail{_among(i['14.1']['subgroup'])}? Store it in `z_womens`."),
    Substitution("three arms (designed as equal thirds)?",
                 lambda i: f"three arms (designed as equal thirds){_among(i['14.2']['subgroup'])}?"),
    Substitution("CUPED with recency", lambda i: f"CUPED with {i['14.3']['covariate']}"),
    Substitution("women's e-mail against no e-mail, with `recency` (months since\nthe last purchase)",
                 lambda i: f"{ARMS[i['14.3']['arm']]} e-mail against no e-mail, with `{i['14.3']['covariate']}` "
                 f"({COVARIATES[i['14.3']['covariate']]})"),
    Substitution("the rule of thumb for spend",
                 lambda i: f"the rule of thumb for {OUTCOMES.get(i['14.4']['metric'], 'spend')}"),
    Substitution("are the 21,387 customers of the\nwomen's-e-mail arm enough for the normal approximation of "
                 "its mean spend?", _rule_text),
    Substitution("How many streams have p < 0.05?", lambda i: f"How many streams have p < {i['14.5']['alpha']:g}?"),
    Substitution("moved metric 1?", lambda i: f"moved metric {i['14.5']['metric']}?"),
    Substitution("the 99 experiment-variant streams of metric 1",
                 lambda i: f"the {len(_final_metric_tests(i['14.5']['metric']))} experiment-variant streams "
                 f"of metric {i['14.5']['metric']}"),
    Substitution("How many streams cross\np < 0.05 on some day but are not significant at their final checkpoint?",
                 _peek_text),
    Substitution("with `abt.replay_streams`.", _gs_rule_text),
    Substitution("a wider mixing distribution",
                 lambda i: f"a {'wider' if i['14.8']['tau_share'] > 0.01 else 'narrower'} mixing distribution"),
    Substitution("**2%** of the control's", lambda i: f"**{100 * i['14.8']['tau_share']:g}%** of the control's"),
    Substitution("(the chapter used 1%). How many",
                 lambda i: "(the chapter used 1%)" + ("" if i["14.8"] == PUBLIC_INPUTS["14.8"] else
                                                      ", at two-sided $\\alpha = 0.05$") + ". How many"),
)


def exercises(inputs: dict) -> tuple[Exercise, ...]:
    """The answer key for ``inputs`` (``PUBLIC_INPUTS`` or a class edition's)."""
    z_arm, outcome, z_group = inputs["14.1"]["arm"], inputs["14.1"]["outcome"], inputs["14.1"]["subgroup"]
    z_where = "" if z_group is None else f" (only the customers {SUBGROUPS[z_group]})"
    other_arm = next(a for a in ARMS if a != z_arm)
    srm_group = inputs["14.2"]["subgroup"]
    cuped_arm, covariate = inputs["14.3"]["arm"], inputs["14.3"]["covariate"]
    other_covariate = next(c for c in COVARIATES if c != covariate)
    rule = inputs["14.4"]
    rule_values = _customers_of(rule["arm"], rule["subgroup"])
    metric, level = inputs["14.5"]["metric"], inputs["14.5"]["alpha"]
    other_level = 0.01 if level != 0.01 else 0.05
    peek_alpha = inputs["14.6"]["alpha"]
    gs = inputs["14.7"]
    tau_share = inputs["14.8"]["tau_share"]
    srm_where = "" if srm_group is None else f" (only the customers {SUBGROUPS[srm_group]})"
    gs_rule = "" if gs == PUBLIC_INPUTS["14.7"] else f", alpha={gs['alpha']:g}, method='{gs['method']}'"
    return (
        Exercise(
            "14.1",
            "z_womens",
            Number(
                lambda: _z(z_arm, outcome, z_group),
                rtol=1e-6,
                hint=f"Count the customers with {outcome} = 1 and all customers of 'No E-Mail' (control) and "
                f"'{z_arm}' (treatment){z_where} and call abt.ztest_proportions(x_control, n_control, x_treatment, "
                "n_treatment); take .statistic.",
                mistakes=[
                    (lambda: _z(z_arm, outcome, z_group, pooled=False), "That is the unpooled z statistic; the "
                     "question asks for the pooled test, abt.ztest_proportions's default."),
                    (lambda: _z(other_arm, outcome, z_group), f"That is the {ARMS[other_arm]} e-mail against no "
                     f"e-mail; the question asks about the {ARMS[z_arm]} e-mail."),
                    (lambda: -_z(z_arm, outcome, z_group), "The sign is reversed: treatment minus control, with "
                     "'No E-Mail' as the control."),
                ],
            ),
        ),
        Exercise(
            "14.2",
            "srm_pvalue",
            Number(
                lambda: abt.srm_test(_arm_counts(srm_group)).pvalue,
                rtol=1e-4,
                hint=f"Count the customers of each of the three arms{srm_where} and call abt.srm_test(counts): "
                "the design is three equal arms, the default.",
                mistakes=[
                    (lambda: stats.chi2.sf(abt.srm_test(_arm_counts(srm_group)).statistic, 1), "You used 1 "
                     "degree of freedom; with three arms the test has 3 - 1 = 2."),
                    (lambda: abt.srm_test(_arm_counts(srm_group)[:2]).pvalue, "That tests two of the three "
                     "arms only; pass all three counts."),
                ],
            ),
        ),
        Exercise(
            "14.3",
            "variance_reduction",
            Number(
                lambda: 1 - _cuped(cuped_arm, covariate).variance_factor,
                rtol=1e-3,
                hint=f"Run abt.cuped_test on spend with {covariate} as the covariate (control 'No "
                f"E-Mail', treatment '{cuped_arm}') and give 1 - result.variance_factor, the share "
                "of the variance removed (rho squared).",
                mistakes=[
                    (lambda: abs(_cuped(cuped_arm, covariate).rho), "That is |rho|; the variance shrinks by "
                     "rho squared."),
                    (lambda: 1 - _cuped(cuped_arm, other_covariate).variance_factor, f"That uses {other_covariate}; "
                     f"the question asks about {covariate}."),
                    (lambda: _cuped(cuped_arm, covariate).variance_factor, "That is the factor left over, "
                     "1 - rho^2; the reduction is rho^2."),
                ],
            ),
        ),
        Exercise(
            "14.4",
            "rule_says_enough",
            Boolean(
                lambda: _rule_says_enough(rule["arm"], rule["subgroup"], rule["metric"]),
                hint=f"Compute the skewness of {rule['metric']} in the '{rule['arm']}' arm"
                f"{'' if rule['subgroup'] is None else ' (the customers ' + SUBGROUPS[rule['subgroup']] + ' only)'} "
                "(scipy.stats.skew) and compare 355 * skewness**2 (abt.min_sample_size_for_normality) with "
                f"the {len(rule_values):,} customers.",
            ),
        ),
        Exercise(
            "14.5",
            "n_significant",
            Number(
                lambda: _n_significant(metric, level),
                rtol=0,
                atol=0.5,
                hint=f"Take the last checkpoint of every experiment-variant stream of metric {metric} and "
                "run abt.welch_ttest_from_stats on it (standard deviations are the square roots of "
                f"the variances); count the p-values below {level:g}.",
                mistakes=[
                    (lambda: _n_significant(None, level), "That counts all four metrics; the question asks "
                     f"about metric {metric} only."),
                    (lambda: _n_significant(metric, other_level), f"That uses {other_level:g}; the question asks "
                     f"for p < {level:g}."),
                ],
            ),
        ),
        Exercise(
            "14.6",
            "n_misleading",
            Number(
                lambda: _misleading_peeks(peek_alpha),
                rtol=0,
                atol=0.5,
                hint="For each metric-1 stream keep the last checkpoint of each day (units >= 2 in "
                "both arms), test each look with abt.welch_ttest_from_stats, and count the streams "
                f"that cross p < {peek_alpha:g} on some day but are not significant at their final checkpoint.",
                mistakes=[
                    (lambda: _misleading_peeks(peek_alpha, every_checkpoint=True), "That looks at every "
                     "checkpoint, twice a day for some experiments; the question asks for one look "
                     "a day."),
                ],
            ),
        ),
        Exercise(
            "14.7",
            "n_gs_early",
            Number(
                lambda: _gs_early(gs["alpha"], gs["method"]),
                rtol=0,
                atol=0.5,
                hint="Build one look a day per metric-1 stream (as in 14.6), set each stream's "
                "planned maximum to n at its first look / time of the first look * time of its last "
                f"look, and call abt.replay_streams(looks, planned_max=..., tau2=...{gs_rule}); count the "
                "streams with gs != 0 and gs_look < looks (a stop before the last look).",
                mistakes=[
                    (lambda: _gs_rejections(gs["alpha"], gs["method"]), "That counts every rejection, "
                     "including those at the final analysis; the question asks for stops before the "
                     "stream's last look."),
                    (lambda: _gs_early(gs["alpha"], gs["method"], hindsight=True), "You divided by each "
                     "stream's final count: hindsight. The planned maximum must be fixed at the first look."),
                ],
            ),
        ),
        Exercise(
            "14.8",
            "n_msprt_wide",
            Number(
                lambda: _msprt_rejections(tau_share),
                rtol=0,
                atol=0.5,
                hint=f"Replay with tau2 = ({tau_share:g} * control rate at the first look) ** 2 and count the "
                "streams with msprt != 0.",
                mistakes=[
                    (lambda: _msprt_rejections(0.01), "That is the chapter's "
                     f"tau of 1% of the control rate; the question asks for {100 * tau_share:g}%."),
                ],
            ),
        ),
    )


EXERCISES = exercises(PUBLIC_INPUTS)
