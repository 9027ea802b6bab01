"""Answer key of chapter 14, Two real experiments (``solutions/14_real_experiments.ipynb``).

Every expected value is computed from the shipped data with abteach when first needed; typical
wrong answers are recomputed the same way so that each gets its own hint.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy import stats

import abteach as abt
from abteach.course.check import Boolean, Exercise, Number

STREAM = ["experiment_id", "variant_id"]


@cache
def _customers():
    return abt.hillstrom()


def _arm(name: str):
    customers = _customers()
    return customers[customers["segment"] == name]


def _z_womens(pooled: bool = True, arm: str = "Womens E-Mail") -> float:
    control, treated = _arm("No E-Mail"), _arm(arm)
    return abt.ztest_proportions(
        control["conversion"].sum(), len(control), treated["conversion"].sum(), len(treated),
        pooled=pooled,
    ).statistic


def _arm_counts() -> np.ndarray:
    return _customers().groupby("segment", observed=True).size().to_numpy()


def _cuped(covariate: str):
    control, treated = _arm("No E-Mail"), _arm("Womens E-Mail")
    return abt.cuped_test(
        control["spend"].to_numpy(), control[covariate].to_numpy(),
        treated["spend"].to_numpy(), treated[covariate].to_numpy(),
    )


def _womens_spend_rule() -> bool:
    skewness = stats.skew(_arm("Womens E-Mail")["spend"])
    return bool(len(_arm("Womens E-Mail")) >= abt.min_sample_size_for_normality(skewness))


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


def _misleading_peeks(every_checkpoint: bool = False) -> int:
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
    ever = looks.assign(crossed=tests.pvalue < 0.05).groupby(STREAM)["crossed"].any()
    final = _final_metric_tests(1).set_index(STREAM)["pvalue"].reindex(ever.index) < 0.05
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


def asos_replay(tau_share: float = 0.01, hindsight: bool = False):
    """Section 14.9's replay: planned maximum = the first look's rate extrapolated to the
    stream's end (``hindsight``: the final count instead), mSPRT tau = ``tau_share`` of the
    control rate at the first look."""
    looks = asos_daily_looks()
    first = looks.groupby("stream").head(1).set_index("stream")
    last = looks.groupby("stream").tail(1).set_index("stream")
    planned = last["n"] if hindsight else first["n"] / first["time"] * last["time"]
    return abt.replay_streams(looks, planned_max=planned, tau2=(tau_share * first["mean_c"]) ** 2)


def _gs_early(hindsight: bool = False) -> int:
    replay = asos_replay(hindsight=hindsight)
    return int(((replay["gs"] != 0) & (replay["gs_look"] < replay["looks"])).sum())


EXERCISES = (
    Exercise(
        "14.1",
        "z_womens",
        Number(
            lambda: _z_womens(),
            rtol=1e-6,
            hint="Count the buyers and customers of 'No E-Mail' (control) and 'Womens E-Mail' "
            "(treatment) and call abt.ztest_proportions(x_control, n_control, x_treatment, "
            "n_treatment); take .statistic.",
            mistakes=[
                (lambda: _z_womens(pooled=False), "That is the unpooled z statistic; the "
                 "question asks for the pooled test, abt.ztest_proportions's default."),
                (lambda: _z_womens(arm="Mens E-Mail"), "That is the men's e-mail against no "
                 "e-mail; the question asks about the women's e-mail."),
                (lambda: -_z_womens(), "The sign is reversed: treatment minus control, with "
                 "'No E-Mail' as the control."),
            ],
        ),
    ),
    Exercise(
        "14.2",
        "srm_pvalue",
        Number(
            lambda: abt.srm_test(_arm_counts()).pvalue,
            rtol=1e-4,
            hint="Count the customers of each of the three arms and call abt.srm_test(counts): "
            "the design is three equal arms, the default.",
            mistakes=[
                (lambda: stats.chi2.sf(abt.srm_test(_arm_counts()).statistic, 1), "You used 1 "
                 "degree of freedom; with three arms the test has 3 - 1 = 2."),
                (lambda: abt.srm_test(_arm_counts()[:2]).pvalue, "That tests two of the three "
                 "arms only; pass all three counts."),
            ],
        ),
    ),
    Exercise(
        "14.3",
        "variance_reduction",
        Number(
            lambda: 1 - _cuped("recency").variance_factor,
            rtol=1e-3,
            hint="Run abt.cuped_test on spend with recency as the covariate (control 'No "
            "E-Mail', treatment 'Womens E-Mail') and give 1 - result.variance_factor, the share "
            "of the variance removed (rho squared).",
            mistakes=[
                (lambda: abs(_cuped("recency").rho), "That is |rho|; the variance shrinks by "
                 "rho squared."),
                (lambda: 1 - _cuped("history").variance_factor, "That uses history; the "
                 "question asks about recency."),
                (lambda: _cuped("recency").variance_factor, "That is the factor left over, "
                 "1 - rho^2; the reduction is rho^2."),
            ],
        ),
    ),
    Exercise(
        "14.4",
        "rule_says_enough",
        Boolean(
            _womens_spend_rule,
            hint="Compute the skewness of spend in the 'Womens E-Mail' arm (scipy.stats.skew) "
            "and compare 355 * skewness**2 (abt.min_sample_size_for_normality) with the arm's "
            "21,387 customers.",
        ),
    ),
    Exercise(
        "14.5",
        "n_significant",
        Number(
            lambda: _n_significant(1),
            rtol=0,
            atol=0.5,
            hint="Take the last checkpoint of every experiment-variant stream of metric 1 and "
            "run abt.welch_ttest_from_stats on it (standard deviations are the square roots of "
            "the variances); count the p-values below 0.05.",
            mistakes=[
                (lambda: _n_significant(None), "That counts all four metrics; the question asks "
                 "about metric 1 only."),
                (lambda: _n_significant(1, alpha=0.01), "That uses 0.01; the question asks for "
                 "p < 0.05."),
            ],
        ),
    ),
    Exercise(
        "14.6",
        "n_misleading",
        Number(
            lambda: _misleading_peeks(),
            rtol=0,
            atol=0.5,
            hint="For each metric-1 stream keep the last checkpoint of each day (units >= 2 in "
            "both arms), test each look with abt.welch_ttest_from_stats, and count the streams "
            "that cross p < 0.05 on some day but are not significant at their final checkpoint.",
            mistakes=[
                (lambda: _misleading_peeks(every_checkpoint=True), "That looks at every "
                 "checkpoint, twice a day for some experiments; the question asks for one look "
                 "a day."),
            ],
        ),
    ),
    Exercise(
        "14.7",
        "n_gs_early",
        Number(
            lambda: _gs_early(),
            rtol=0,
            atol=0.5,
            hint="Build one look a day per metric-1 stream (as in 14.6), set each stream's "
            "planned maximum to n at its first look / time of the first look * time of its last "
            "look, and call abt.replay_streams(looks, planned_max=..., tau2=...); count the "
            "streams with gs != 0 and gs_look < looks (a stop before the last look).",
            mistakes=[
                (lambda: int((asos_replay()["gs"] != 0).sum()), "That counts every rejection, "
                 "including those at the final analysis; the question asks for stops before the "
                 "stream's last look."),
                (lambda: _gs_early(hindsight=True), "You divided by each stream's final count: "
                 "hindsight. The planned maximum must be fixed at the first look."),
            ],
        ),
    ),
    Exercise(
        "14.8",
        "n_msprt_wide",
        Number(
            lambda: int((asos_replay(tau_share=0.02)["msprt"] != 0).sum()),
            rtol=0,
            atol=0.5,
            hint="Replay with tau2 = (0.02 * control rate at the first look) ** 2 and count the "
            "streams with msprt != 0.",
            mistakes=[
                (lambda: int((asos_replay()["msprt"] != 0).sum()), "That is the chapter's "
                 "tau of 1% of the control rate; the question asks for 2%."),
            ],
        ),
    ),
)
