"""Answer key of chapter 15, Heavy tails, outliers and quantiles
(``solutions/15_heavy_tails.ipynb``).

Expected values are computed with abteach from the shipped Hillstrom data, the small tables and
samples below, and the seeded page-view simulation; typical wrong answers are recomputed the
same way so that each gets its own hint.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy import stats

import abteach as abt
from abteach.course.check import Choice, Exercise, Number

#: Exercise 15.3 and 15.4: conversions and users (control, then treatment).
RARE = (2, 500, 9, 480)
#: Exercise 15.5: revenue of seven customers per arm.
SMALL_CONTROL = (12.5, 3.2, 48.0, 7.9, 15.1, 0.0, 22.4)
SMALL_TREATMENT = (31.0, 18.4, 95.5, 9.9, 27.3, 41.2, 14.8)
#: Exercise 15.6: seed and users of the simulated control arm.
SEED, USERS = 15, 1_000


def page_views(rng, users: int, speed: float = 1.0):
    """The chapter's page-view simulator: load times and the user of each view."""
    views = 1 + rng.negative_binomial(1, 0.2, users)
    user = np.repeat(np.arange(users), views)
    level = rng.normal(0.0, 0.6, users)
    return speed * np.exp(level[user] + rng.normal(0.0, 0.5, user.size)), user


@cache
def _spend(segment: str) -> np.ndarray:
    customers = abt.hillstrom()
    return customers.loc[customers["segment"] == segment, "spend"].to_numpy()


def _capped_effect(per_arm: bool = False, quantile: float | None = 0.999) -> float:
    control, mens = _spend("No E-Mail"), _spend("Mens E-Mail")
    if quantile is None:
        return abt.welch_ttest(control, mens).effect
    if per_arm:
        caps = abt.cap_threshold(control, quantile), abt.cap_threshold(mens, quantile)
    else:
        caps = (abt.cap_threshold(np.concatenate([control, mens]), quantile),) * 2
    return abt.welch_ttest(abt.winsorize(control, caps[0]), abt.winsorize(mens, caps[1])).effect


def _rank_pvalue(alternative: str = "two-sided") -> float:
    return stats.mannwhitneyu(_spend("Womens E-Mail"), _spend("No E-Mail"),
                              alternative=alternative).pvalue


def _se_ratio(inverse: bool = False) -> float:
    load, user = page_views(np.random.default_rng(SEED), USERS)
    clustered = abt.quantile_test(load, load, clusters_control=user).se_control
    iid = abt.quantile_test(load, load).se_control
    return iid / clustered if inverse else clustered / iid


EXERCISES = (
    Exercise(
        "15.1",
        "capped_effect",
        Number(
            lambda: _capped_effect(),
            rtol=1e-6,
            hint="Pool the spend of 'No E-Mail' and 'Mens E-Mail', take its 99.9th percentile "
            "with abt.cap_threshold(pooled, 0.999), cap BOTH arms at it with abt.winsorize and "
            "give the Welch effect (treatment minus control).",
            mistakes=[
                (lambda: _capped_effect(per_arm=True), "You capped each arm at its own "
                 "percentile; one threshold from the pooled data must serve both arms."),
                (lambda: _capped_effect(quantile=None), "That is the uncapped effect."),
                (lambda: _capped_effect(quantile=0.995), "That caps at the 99.5th percentile; "
                 "the question asks for the 99.9th."),
            ],
        ),
    ),
    Exercise(
        "15.2",
        "rank_pvalue",
        Number(
            lambda: _rank_pvalue(),
            rtol=1e-6,
            hint="Call scipy.stats.mannwhitneyu(womens_spend, control_spend) (two-sided) and "
            "take .pvalue.",
            mistakes=[
                (lambda: _rank_pvalue("greater"), "That is one-sided; the question asks for "
                 "the two-sided test."),
                (lambda: abt.welch_ttest(_spend("No E-Mail"), _spend("Womens E-Mail")).pvalue,
                 "That is Welch's test of the means, a different question."),
            ],
        ),
    ),
    Exercise(
        "15.3",
        "fisher_pvalue",
        Number(
            lambda: abt.fisher_exact_test(*RARE).pvalue,
            rtol=1e-6,
            hint="abt.fisher_exact_test(x_control, n_control, x_treatment, n_treatment) with "
            "2 of 500 and 9 of 480; two-sided is the default.",
            mistakes=[
                (lambda: abt.fisher_exact_test(*RARE, alternative="larger").pvalue, "That is "
                 "one-sided; the question asks for the two-sided test."),
                (lambda: abt.ztest_proportions(*RARE).pvalue, "That is the z-test, whose "
                 "normal approximation is the problem with 11 conversions."),
            ],
        ),
    ),
    Exercise(
        "15.4",
        "barnard_pvalue",
        Number(
            lambda: abt.barnard_exact_test(*RARE).pvalue,
            rtol=1e-5,
            hint="abt.barnard_exact_test with the same counts as 15.3 (two-sided).",
            mistakes=[
                (lambda: abt.barnard_exact_test(*RARE, alternative="larger").pvalue, "That is "
                 "one-sided; the question asks for the two-sided test."),
            ],
        ),
    ),
    Exercise(
        "15.5",
        "permutation_pvalue",
        Number(
            lambda: abt.permutation_test(SMALL_CONTROL, SMALL_TREATMENT).pvalue,
            rtol=1e-9,
            hint="abt.permutation_test(control, treatment): with 7 + 7 values all 3,432 "
            "splits are enumerated (exact); two-sided is the default.",
            mistakes=[
                (lambda: abt.permutation_test(SMALL_CONTROL, SMALL_TREATMENT,
                                              alternative="larger").pvalue,
                 "That is one-sided; the question asks for the two-sided p-value."),
                (lambda: abt.welch_ttest(SMALL_CONTROL, SMALL_TREATMENT).pvalue, "That is "
                 "Welch's t-test; the question asks for the permutation test."),
            ],
        ),
    ),
    Exercise(
        "15.6",
        "se_ratio",
        Number(
            lambda: _se_ratio(),
            rtol=1e-6,
            hint="Run abt.quantile_test(load, load, clusters_control=user) and "
            "abt.quantile_test(load, load) and divide the two se_control values (clustered "
            "over i.i.d.).",
            mistakes=[
                (lambda: _se_ratio(inverse=True), "That is i.i.d. over clustered; the question "
                 "asks how many times LARGER the clustered SE is."),
            ],
        ),
    ),
    Exercise(
        "15.7",
        "capped_estimand",
        Choice(
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
