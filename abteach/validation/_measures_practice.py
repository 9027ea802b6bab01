"""Measures of the error-rate registry (:mod:`abteach.validation.rates`) for the design and
practice chapters: sizing for decisions (2), clustered decay fits (9), heavy tails (15) and
interference (16)."""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from abteach.decision.sizing import (
    sample_size_equivalence,
    sample_size_noninferiority,
    sample_size_ship_rule,
)
from abteach.inference import (
    cap_threshold,
    permutation_test,
    quantile_test,
    ratio_metric_test,
    sample_size_ratio,
    welch_ttest,
    winsorize,
    ztest_proportions,
)
from abteach.interference import (
    cluster_design,
    cluster_ttest,
    complier_effect,
    interaction_test,
    simulate_switchback,
    switchback_test,
)
from abteach.novelty import simulate_user_days
from abteach.validation._measures import ALPHA, _reject_rate, _cover_rate, _LOGNORMAL_SIGMA


# --- sizing for the decision: ship rule, non-inferiority, equivalence (chapter 2) -----------

_SHIP = dict(effect=0.02, minimum_effect=0.015, p_control=0.10)
_MARGIN = dict(margin=0.01, p_control=0.10)
#: A band of 4.5 standard errors: 0.2 points at rate 0.05, 0.4 at 0.8 (about 0.1 s each).
_SIZING_RUNS = 200_000
#: The ship rule for a rate is a normal approximation that is 0.3 points high at this n (see
#: power_ship_rule): 40,000 runs resolve a 1-point miss (band 0.9 points) without flagging it.
_SHIP_RUNS = 40_000
_Z_ONE_SIDED = float(special.ndtri(1 - ALPHA))


def _n_ship() -> int:
    return math.ceil(sample_size_ship_rule(**_SHIP))


def _ship_rule_power(runs, gen):
    n, p_c = _n_ship(), _SHIP["p_control"]
    x_c = gen.binomial(n, p_c, size=runs)
    x_t = gen.binomial(n, p_c + _SHIP["effect"], size=runs)
    res = ztest_proportions(x_c, n, x_t, n)
    effect = np.asarray(res.effect)
    return float(np.mean((np.asarray(res.pvalue) < ALPHA) & (effect > 0)
                         & (effect >= _SHIP["minimum_effect"])))


def _n_margin(sample_size) -> int:
    return math.ceil(sample_size(0.0, **_MARGIN))


def _wald_difference(runs, gen, n, p_treatment):
    """Estimated difference and its unpooled standard error, control at _MARGIN's rate."""
    rate_c = gen.binomial(n, _MARGIN["p_control"], size=runs) / n
    rate_t = gen.binomial(n, p_treatment, size=runs) / n
    return rate_t - rate_c, np.sqrt((rate_c * (1 - rate_c) + rate_t * (1 - rate_t)) / n)


def _noninferiority_rate(p_treatment):
    def measure(runs, gen):
        n, z = _n_margin(sample_size_noninferiority), _Z_ONE_SIDED
        difference, se = _wald_difference(runs, gen, n, p_treatment)
        return float(np.mean(difference - z * se > -_MARGIN["margin"]))
    return measure


def _equivalence_power(runs, gen):
    n, z, m = _n_margin(sample_size_equivalence), _Z_ONE_SIDED, _MARGIN["margin"]
    difference, se = _wald_difference(runs, gen, n, _MARGIN["p_control"])
    return float(np.mean((difference - z * se > -m) & (difference + z * se < m)))


# --- chapter 16: interference, clusters, switchbacks, interactions, compliance, ratios -------

_CLUSTERS, _CLUSTER_SIZE, _ICC = 20, 50, 0.05
_CLUSTER_DELTA = 0.25


def _cluster_means(runs, gen, clusters, shift=0.0):
    """Cluster means of two arms: a cluster level (variance ICC) plus the mean of m unit
    noises (variance (1 - ICC) / m); the unit outcome has variance 1."""
    level = gen.normal(0.0, math.sqrt(_ICC), (2, runs, clusters))
    within = gen.normal(0.0, math.sqrt((1 - _ICC) / _CLUSTER_SIZE), (2, runs, clusters))
    means = level + within
    means[1] += shift
    return means


def _cluster_test(means):
    sizes = np.full(means.shape[1:], float(_CLUSTER_SIZE))
    return cluster_ttest(means[0] * _CLUSTER_SIZE, sizes, means[1] * _CLUSTER_SIZE, sizes)


def _cluster_type_i(runs, gen):
    return _reject_rate(_cluster_test(_cluster_means(runs, gen, _CLUSTERS)).pvalue)


def _cluster_design():
    return cluster_design(_CLUSTER_DELTA, 1.0, _CLUSTER_SIZE, _ICC)


def _cluster_power(runs, gen):
    means = _cluster_means(runs, gen, _cluster_design().clusters, _CLUSTER_DELTA)
    return _reject_rate(_cluster_test(means).pvalue)


def _switchback_type_i(runs, gen):
    sim = simulate_switchback(40, 6, carryover=2, autocorrelation=0.8, runs=runs, rng=gen)
    return _reject_rate(switchback_test(sim.outcome, sim.treated, burn_in=2).pvalue)


_CELL_N = 500
_INTERACTION = 0.1


def _interaction_pvalues(runs, gen, gamma):
    means = gen.normal(0.0, 1.0 / math.sqrt(_CELL_N), (runs, 2, 2))
    means[:, 1, 1] += gamma
    sds = np.sqrt(gen.chisquare(_CELL_N - 1, (runs, 2, 2)) / (_CELL_N - 1))
    return interaction_test(means, sds, np.full((2, 2), _CELL_N)).pvalue


def _interaction_type_i(runs, gen):
    return _reject_rate(_interaction_pvalues(runs, gen, 0.0))


def _interaction_power(runs, gen):
    return _reject_rate(_interaction_pvalues(runs, gen, _INTERACTION))


_CACE, _COMPLIERS, _CACE_N = 2.0, 0.3, 400


def _cace_coverage(runs, gen):
    arms = []
    for offered in (False, True):
        complier = gen.random((runs, _CACE_N)) < _COMPLIERS
        received = (complier & offered).astype(float)
        # compliers differ from the others even untreated: a taker-vs-non-taker comparison
        # would be biased, the Wald estimator is not
        outcome = gen.normal(0.0, 1.0, (runs, _CACE_N)) + 0.5 * complier + _CACE * received
        arms += [outcome, received]
    res = complier_effect(*arms)
    return _cover_rate(res.ci_low, res.ci_high, _CACE)


# clicks per view: views 1 + Poisson(4), click propensity Beta(2, 18), clicks Binomial
_VIEWS_LAMBDA, _BETA_A, _BETA_B, _RATIO_DELTA = 4.0, 2.0, 18.0, 0.03


def _ratio_moments() -> tuple[float, ...]:
    """Population mean of clicks and views per user, their SDs and correlation."""
    mean_p = _BETA_A / (_BETA_A + _BETA_B)
    var_p = _BETA_A * _BETA_B / ((_BETA_A + _BETA_B) ** 2 * (_BETA_A + _BETA_B + 1))
    mean_x, var_x = 1 + _VIEWS_LAMBDA, _VIEWS_LAMBDA
    second_p = var_p + mean_p**2
    var_y = mean_x * (mean_p - second_p) + (var_x + mean_x**2) * second_p - (mean_x * mean_p) ** 2
    cov = var_x * mean_p
    return (mean_x * mean_p, mean_x, math.sqrt(var_y), math.sqrt(var_x),
            cov / math.sqrt(var_x * var_y))


def _n_ratio() -> int:
    return math.ceil(sample_size_ratio(_RATIO_DELTA, *_ratio_moments()))


def _ratio_power(runs, gen):
    n = _n_ratio()
    arms = []
    for shift in (0.0, _RATIO_DELTA):
        views = 1.0 + gen.poisson(_VIEWS_LAMBDA, (runs, n))
        clicks = gen.binomial(views.astype(np.int64), gen.beta(_BETA_A, _BETA_B, (runs, n)))
        # the treatment adds shift clicks per view: the ratio moves by shift and the
        # linearized per-user values Y - R X keep their variance
        arms += [clicks + shift * views, views]
    return _reject_rate(ratio_metric_test(*arms).pvalue)

_USERS = dict(profile="novelty", long_run_effect=0.2, amplitude=2.0, tau=3.0, baseline=10.0,
              sd=1.0, user_sd=3.0, n_days=21, new_users_per_day=40, return_rate=0.5)
_USER_BATCH = 200  # experiments simulated at once (about 140 MB)


def _decay_clustered_coverage(runs, gen):
    covered = 0
    for size in [_USER_BATCH] * (runs // _USER_BATCH) + [runs % _USER_BATCH] * (
            runs % _USER_BATCH > 0):
        sim = simulate_user_days(**_USERS, n_experiments=size, rng=gen)
        fit = sim.by_exposure_day(max_day=17).fit_decay()
        covered += size * _cover_rate(fit.ci_low, fit.ci_high, _USERS["long_run_effect"])
    return covered / runs


# --- heavy tails, exact tests, quantiles (chapter 15) ----------------------------------------

_N_CAPPED, _CAP_LEVEL, _CAP_LIFT = 1000, 0.99, 1.1


def _capped_mean(threshold, mu: float, sigma: float):
    """E min(Y, c) for Y log-normal(mu, sigma)."""
    log_c = np.log(threshold)
    below = math.exp(mu + sigma**2 / 2) * special.ndtr((log_c - mu - sigma**2) / sigma)
    return below + threshold * special.ndtr((mu - log_c) / sigma)


def _capped_coverage(runs, gen):
    # each run caps both arms at the 99th percentile of its own pre-period; the interval
    # covers the difference of CAPPED means, the estimand that capping creates
    cap = cap_threshold(gen.lognormal(0.0, _LOGNORMAL_SIGMA, size=(runs, _N_CAPPED)),
                        _CAP_LEVEL)
    values = gen.lognormal(0.0, _LOGNORMAL_SIGMA, size=(2, runs, _N_CAPPED))
    res = welch_ttest(winsorize(values[0], cap[:, None]),
                      winsorize(_CAP_LIFT * values[1], cap[:, None]))
    truth = (_capped_mean(cap, math.log(_CAP_LIFT), _LOGNORMAL_SIGMA)
             - _capped_mean(cap, 0.0, _LOGNORMAL_SIGMA))
    return _cover_rate(res.ci_low, res.ci_high, truth)


def _permutation_type_i(runs, gen):
    # heavy-tailed values, 20 per arm, 199 random splits: P(p <= alpha) = 10/200 exactly
    values = gen.lognormal(0.0, 1.5, size=(2, runs, 20))
    res = permutation_test(values[0], values[1], n_resamples=199, rng=gen)
    return float(np.mean(np.asarray(res.pvalue) <= ALPHA))


def _exact_type_i(test, n: int, rate: float):
    def measure(runs, gen):
        x = gen.binomial(n, rate, size=(2, runs))
        return _reject_rate(test(x[0], n, x[1], n).pvalue)

    return measure


_VIEW_SIGMA, _USER_SIGMA, _QUANTILE_USERS, _SPEEDUP = 0.5, 0.6, 200, 0.9


def _page_views(gen, users: int, scale: float):
    """Load times of page views: users with 1 + NegBin(1, 0.2) views (mean 5) and a
    log-normal user level; returns values and user ids."""
    views = 1 + gen.negative_binomial(1, 0.2, users)
    user = np.repeat(np.arange(users), views)
    level = gen.normal(0.0, _USER_SIGMA, users)
    return scale * np.exp(level[user] + gen.normal(0.0, _VIEW_SIGMA, user.size)), user


def _quantile_coverage(runs, gen):
    # page-level log load time is normal with variance sum of the two: the p95 is exact
    p95 = math.exp(special.ndtri(0.95) * math.hypot(_VIEW_SIGMA, _USER_SIGMA))
    covered = 0
    for _ in range(runs):
        (y_c, u_c), (y_t, u_t) = (_page_views(gen, _QUANTILE_USERS, s) for s in (1, _SPEEDUP))
        res = quantile_test(y_c, y_t, clusters_control=u_c, clusters_treatment=u_t)
        covered += res.ci_low <= (_SPEEDUP - 1) * p95 <= res.ci_high
    return covered / runs
