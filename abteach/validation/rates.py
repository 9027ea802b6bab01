r"""Error rates by simulation: every promise of abteach measured on seeded experiments.

Each :class:`ErrorRateCheck` of :data:`ERROR_RATE_CHECKS` simulates many experiments where the
truth is known, applies an abteach function and counts how often the promised event happened
(a rejection of a true null, an interval covering the truth, ...). :func:`error_rate_checks`
compares each measured rate with its promise within a binomial band (see
:mod:`abteach.validation`).

References
----------
Morris, T. P., White, I. R. & Crowther, M. J. (2019), Using simulation studies to evaluate
statistical methods, *Statistics in Medicine* 38, 2074-2102 (Monte Carlo standard errors).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from abteach._validate import (
    as_generator,
    check_choice,
    check_int,
    check_open_unit,
    check_positive,
    check_scalar,
)
from abteach.assignment import aa_test, assign_many, bucket_uniformity, make_unit_ids
from abteach.decision.sizing import (
    power_equivalence,
    power_noninferiority,
    power_ship_rule,
    sample_size_equivalence,
    sample_size_noninferiority,
    sample_size_ship_rule,
)
from abteach.events.dilution import diluted_effect
from abteach.inference import (
    barnard_exact_test,
    bootstrap_ci,
    cap_threshold,
    fisher_exact_test,
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
    interaction_power,
    interaction_test,
    simulate_switchback,
    switchback_test,
)
from abteach.multiple import error_rates, multiple_tests, simulate_pvalues
from abteach.novelty import simulate_daily_effects, simulate_user_days, trend_test_power
from abteach.novelty.exposure import _effects as _exposure_effects
from abteach.power import power_means, power_proportions, sample_size_means, sample_size_proportions
from abteach.sequential import (
    boundaries,
    design_characteristics,
    msprt,
    peeking_false_positive_rate,
    sequential_analysis,
    simulate_peeking,
    simulate_z_streams,
)
from abteach.srm import srm_false_alarm_rate
from abteach.variance import cuped_test

#: Half-width of the tolerance band, in binomial standard errors.
BAND_WIDTH = 4.5
#: The smallest miss (in percentage points) that a check should be able to catch; a check
#: resolves it when its band (``BAND_WIDTH`` standard errors) is at most this wide on each side.
RESOLUTION_POINTS = 1.0
#: Promise kinds. The measured rate should equal, stay at most, or stay at least the promise.
KINDS = ("equal", "at most", "at least")
ALPHA = 0.05
#: Largest ``scale`` of :func:`error_rate_checks` (1000 x the default runs takes hours).
MAX_SCALE = 1000.0
#: Largest default number of runs of one check (a batch, the runs a check holds in memory at once).
MAX_BATCH = 1_000_000


@dataclass(frozen=True)
class ErrorRateCheck:
    """One promised error rate, measured by its ``measure`` function.

    ``measure(runs, generator)`` simulates ``runs`` independent experiments and returns the
    share (or, for the FDR, the mean proportion) of runs in which the promised event happened;
    ``promised`` is the value it should have; ``kind`` says whether the promise is an equality
    or a bound; ``runs`` is the default number of runs (chosen so that the check takes about a
    second or less).
    """

    procedure: str
    function: str
    promise: str
    kind: str
    promised: float
    runs: int
    measure: Callable[[int, np.random.Generator], float]

    def __post_init__(self):
        for name in ("procedure", "function", "promise"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"{name} must be a string, got {getattr(self, name)!r}")
        check_choice("kind", self.kind, KINDS)
        check_scalar("promised", check_open_unit("promised", self.promised))
        check_int("runs", self.runs, minimum=100, maximum=MAX_BATCH)
        if not callable(self.measure):
            raise TypeError(f"measure must be callable (runs, generator) -> rate, got "
                            f"{self.measure!r}")


def runs_to_resolve(promised: float, points: float = RESOLUTION_POINTS) -> int:
    r"""Runs R whose band :math:`\pm 4.5\sqrt{p_0 (1 - p_0) / R}` is at most ``points``
    percentage points wide on each side: :math:`R = \lceil 4.5^2\, p_0 (1 - p_0) /
    (\text{points}/100)^2 \rceil`, e.g. 9,619 runs for a 5% rate and 1 point.

    With 1,000 to 2,000 runs the band of a 5% rate is about 3 to 2 points wide: a size of 8%
    or a coverage of 92% would pass. The checks that matter run at least this many runs by
    default; the others name it in the table and run it in the slow tests.
    """
    p0 = check_scalar("promised", check_open_unit("promised", promised))
    width = check_scalar("points", check_positive("points", points))
    ratio = 100 * BAND_WIDTH * math.sqrt(p0 * (1 - p0)) / width  # sqrt of the runs
    if not ratio <= 2**26:  # also an infinite ratio, for a width of 5e-324
        raise ValueError(f"points is too small: more than 2**52 runs would be needed, got "
                         f"points = {points!r} at promised = {promised!r}")
    return max(1, math.ceil(round(ratio**2, 6)))  # round: 38475.000000001 -> 38475


def _reject_rate(pvalue) -> float:
    return float(np.mean(np.asarray(pvalue) < ALPHA))


def _cover_rate(low, high, truth) -> float:
    return float(np.mean((np.asarray(low) <= truth) & (truth <= np.asarray(high))))


# --- two proportions -------------------------------------------------------------------------

_P_BASE, _N_PROPORTIONS = 0.10, 5000


def _ztest_type_i(runs, gen):
    x = gen.binomial(_N_PROPORTIONS, _P_BASE, size=(2, runs))
    return _reject_rate(ztest_proportions(x[0], _N_PROPORTIONS, x[1], _N_PROPORTIONS).pvalue)


def _ztest_coverage(runs, gen):
    p_t = 0.11
    x_c = gen.binomial(_N_PROPORTIONS, _P_BASE, size=runs)
    x_t = gen.binomial(_N_PROPORTIONS, p_t, size=runs)
    res = ztest_proportions(x_c, _N_PROPORTIONS, x_t, _N_PROPORTIONS)
    return _cover_rate(res.ci_low, res.ci_high, p_t - _P_BASE)


_POWER_RATES = (0.10, 0.12)


def _n_proportions() -> int:
    return math.ceil(sample_size_proportions(*_POWER_RATES, power=0.8))


def _proportions_power(runs, gen):
    n = _n_proportions()
    x_c = gen.binomial(n, _POWER_RATES[0], size=runs)
    x_t = gen.binomial(n, _POWER_RATES[1], size=runs)
    res = ztest_proportions(x_c, n, x_t, n)
    return float(np.mean((np.asarray(res.pvalue) < ALPHA) & (np.asarray(res.effect) > 0)))


# --- two means -------------------------------------------------------------------------------

_EFFECT_SIZE = 0.5


def _n_means() -> int:
    return math.ceil(sample_size_means(_EFFECT_SIZE, 1.0, power=0.8, test="t"))


def _means_power(runs, gen):
    n = _n_means()
    control = gen.standard_normal((runs, n))
    treatment = gen.standard_normal((runs, n)) + _EFFECT_SIZE
    return _reject_rate(welch_ttest(control, treatment, equal_var=True).pvalue)


def _welch_type_i(runs, gen):
    # unequal variances AND unequal sizes: the case where Student's test goes wrong
    control = gen.normal(0.0, 1.0, size=(runs, 40))
    treatment = gen.normal(0.0, 3.0, size=(runs, 20))
    return _reject_rate(welch_ttest(control, treatment).pvalue)


_LOGNORMAL_SIGMA, _N_LOGNORMAL = 1.0, 1000


def _welch_lognormal_type_i(runs, gen):
    values = gen.lognormal(0.0, _LOGNORMAL_SIGMA, size=(2, runs, _N_LOGNORMAL))
    return _reject_rate(welch_ttest(values[0], values[1]).pvalue)


def _welch_lognormal_coverage(runs, gen):
    scale = 1.1  # treatment multiplies revenue by 1.1: mean difference 0.1 E[X]
    values = gen.lognormal(0.0, _LOGNORMAL_SIGMA, size=(2, runs, _N_LOGNORMAL))
    res = welch_ttest(values[0], scale * values[1])
    truth = (scale - 1.0) * math.exp(_LOGNORMAL_SIGMA**2 / 2)
    return _cover_rate(res.ci_low, res.ci_high, truth)


# --- bootstrap, ratio metrics, CUPED ----------------------------------------------------------

_N_BOOTSTRAP, _RESAMPLES = 50, 999


def _bootstrap_coverage(method: str):
    def measure(runs, gen):
        control = gen.normal(0.0, 1.0, size=(runs, _N_BOOTSTRAP))
        treatment = gen.normal(0.3, 1.0, size=(runs, _N_BOOTSTRAP))
        res = bootstrap_ci(control, treatment, method=method, n_resamples=_RESAMPLES, rng=gen)
        return _cover_rate(res.ci_low, res.ci_high, 0.3)

    return measure


def _ratio_coverage(runs, gen):
    # clustered page views: each user has its own click propensity, so views are correlated
    users, mean_views = 500, 4.0
    rates = {"control": (2.0, 18.0), "treatment": (2.2, 17.8)}  # Beta(a, b): mean a / (a + b)
    arms = []
    for a, b in rates.values():
        views = 1 + gen.poisson(mean_views - 1, size=(runs, users))
        clicks = gen.binomial(views, gen.beta(a, b, size=(runs, users)))
        arms += [clicks, views]
    res = ratio_metric_test(*arms)
    (a_c, b_c), (a_t, b_t) = rates.values()
    truth = a_t / (a_t + b_t) - a_c / (a_c + b_c)
    return _cover_rate(res.ci_low, res.ci_high, truth)


def _cuped_data(runs, gen, effect):
    x = gen.normal(10.0, 2.0, size=(2, runs, 300))
    y = x + gen.normal(0.0, 2.0, size=x.shape)
    return y[0], x[0], y[1] + effect, x[1]


def _cuped_type_i(runs, gen):
    return _reject_rate(cuped_test(*_cuped_data(runs, gen, 0.0)).pvalue)


def _cuped_coverage(runs, gen):
    res = cuped_test(*_cuped_data(runs, gen, 0.25))
    return _cover_rate(res.ci_low, res.ci_high, 0.25)


# --- sample ratio mismatch and hashed assignment ----------------------------------------------


def _srm_false_alarm(runs, gen):
    return srm_false_alarm_rate(10_000, 1, n_experiments=runs, rng=gen).final_only


_IDS_PER_RUN = 400


def _hashed_ids(runs, gen) -> np.ndarray:
    """``runs`` disjoint sets of ids; a random offset makes every table use fresh ids."""
    start = int(gen.integers(0, 10**9))
    ids = make_unit_ids(runs * _IDS_PER_RUN, start=start)  # "user-<start>", ...
    return np.array(ids, dtype=object).reshape(runs, _IDS_PER_RUN)


def _bucket_uniformity(runs, gen):
    test = bucket_uniformity(_hashed_ids(runs, gen), "validation", n_buckets=20)
    return _reject_rate(test.pvalue)


def _hashed_aa(runs, gen):
    values = gen.lognormal(0.0, 1.0, size=_IDS_PER_RUN)  # a skewed pre-period metric
    variants = assign_many(_hashed_ids(runs, gen), "validation", [0.5, 0.5])
    return _reject_rate(aa_test(values, variants).pvalue)


# --- multiple testing ------------------------------------------------------------------------

_BH_EFFECTS = np.r_[np.zeros(15), np.full(5, 3.0)]


def _family_error(method: str, effects, correlation: float, rate: str):
    effects = np.asarray(effects, dtype=float)

    def measure(runs, gen):
        p = simulate_pvalues(effects, n_experiments=runs, correlation=correlation, rng=gen)
        reject = multiple_tests(p, method=method, alpha=ALPHA).reject
        return getattr(error_rates(reject, effects == 0), rate)

    return measure


# --- sequential ------------------------------------------------------------------------------

_LOOKS = 5


def _first_crossing(z: np.ndarray, critical: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(crossed at some look, sign of Z at the first crossing) of two-sided boundaries."""
    crossed = np.abs(z) >= critical
    first = np.argmax(crossed, axis=1)
    sign = np.sign(np.take_along_axis(z, first[:, None], axis=1)[:, 0])
    return crossed.any(axis=1), sign


def _sequential_type_i(method: str):
    def measure(runs, gen):
        design = boundaries(_LOOKS, method=method)
        crossed, _ = _first_crossing(simulate_z_streams(runs, _LOOKS, rng=gen),
                                     design.critical_values)
        return float(crossed.mean())

    return measure


def _sequential_power(method: str):
    def measure(runs, gen):
        design = boundaries(_LOOKS, method=method)
        drift = design_characteristics(design, power=0.8).drift
        z = simulate_z_streams(runs, _LOOKS, drift=drift, rng=gen)
        crossed, sign = _first_crossing(z, design.critical_values)
        return float(np.mean(crossed & (sign > 0)))

    return measure


#: Looks of an experiment that over-ran its planned maximum by 15% (fractions of the plan).
_OVERRUN = np.array([0.3, 0.6, 0.9, 1.15])


def _overrun_type_i(runs, gen):
    """Lan-DeMets OBF design for 4 looks, the last at 1.15 times the planned maximum: the final
    analysis spends the alpha left, with the actual correlations."""
    final = sequential_analysis(np.zeros(_OVERRUN.size), _OVERRUN,
                                boundaries(_OVERRUN.size, method="ld-obf"))
    crossed, _ = _first_crossing(simulate_z_streams(runs, _OVERRUN, rng=gen),
                                 final.critical_values)
    return float(crossed.mean())


_PEEKS = 10


def _naive_peeking(runs, gen):
    return simulate_peeking(runs, _PEEKS, rng=gen).rejection_rate


_MSPRT_LOOKS = 100
#: Mixing variance in drift units. 100 times the variance of the last look's estimate.
_MSPRT_TAU2 = 100.0


def _msprt_streams(runs, gen, drift):
    t = np.arange(1, _MSPRT_LOOKS + 1) / _MSPRT_LOOKS
    z = simulate_z_streams(runs, _MSPRT_LOOKS, drift=drift, rng=gen)
    # estimate of the drift at look k: Z_k / sqrt(t_k), variance 1 / t_k
    return msprt(z / np.sqrt(t), 1.0 / t, tau2=_MSPRT_TAU2, alpha=ALPHA)


def _msprt_type_i(runs, gen):
    return float(np.mean(_msprt_streams(runs, gen, 0.0).stop_look > 0))


def _msprt_coverage(runs, gen):
    res = _msprt_streams(runs, gen, 2.0)
    return _cover_rate(res.ci_low[:, -1], res.ci_high[:, -1], 2.0)


def _diluted_coverage(runs, gen):
    # 4,000 users per arm, 30% trigger in both arms; only triggered users are affected
    n_arm, p_trigger, rates = 4_000, 0.3, (0.10, 0.12)
    triggered = gen.binomial(n_arm, p_trigger, size=(2, runs))
    converted = gen.binomial(triggered, np.array(rates)[:, None])
    test = ztest_proportions(converted[0], triggered[0], converted[1], triggered[1])
    res = diluted_effect(test.effect, test.se, triggered.sum(axis=0), 2 * n_arm)
    return _cover_rate(res.ci_low, res.ci_high, p_trigger * (rates[1] - rates[0]))


def _trend_type_i(runs, gen):
    sim = simulate_daily_effects(
        profile="stable", long_run_effect=0.01, baseline=0.10, n_days=14,
        new_users_per_day=4000, return_rate=0.5, n_experiments=runs, rng=gen,
    )
    return trend_test_power(sim, by="exposure_day").power


# --- novelty on user-day rows: rate-based visits, users as clusters --------------------------

_PANEL_DAYS, _PANEL_PER_ARM, _PANEL_CHUNK = 3, 150, 1_000


def _user_day_panel(runs, gen, lift, *, days=_PANEL_DAYS, per_arm=_PANEL_PER_ARM, p_buy=0.5):
    """Seeded user-day panels with rate-based visits (shared by the check and the tests).

    ``per_arm`` users per arm arrive on each of ``days`` days and are followed to the end of
    the experiment; user i visits on the exposure day and then on each day with probability
    r_i ~ Beta(2, 2) (persistent: a user's days are correlated); a visit ends in a purchase
    with probability ``p_buy`` in control and ``p_buy (1 + lift[age])`` in treatment. Returns
    the purchases (runs x users x ages, 0 after the end), the observed mask (users x ages),
    the arm and the arrival day of each user.
    """
    arrival = np.repeat(np.arange(days), 2 * per_arm)
    treated = np.tile(np.repeat([False, True], per_arm), days)
    ages = np.arange(days)
    seen = ages <= (days - 1 - arrival)[:, None]
    buy = p_buy * (1 + np.outer(treated, np.asarray(lift, dtype=float))) * seen
    visit = gen.beta(2.0, 2.0, (runs, arrival.size, 1)) * np.ones(days)
    visit[..., 0] = 1.0  # the exposure day is a visit
    return (gen.random(visit.shape) < visit * buy).astype(float), seen, treated, arrival


def _exposure_type_i(runs, gen):
    """Share of runs where the clustered relative-lift trend test rejects a constant lift."""
    rejected = 0
    for size in [_PANEL_CHUNK] * (runs // _PANEL_CHUNK) + [runs % _PANEL_CHUNK] * (
            runs % _PANEL_CHUNK > 0):
        values, seen, treated, _ = _user_day_panel(size, gen, np.full(_PANEL_DAYS, 0.2))
        _, _, slope, slope_var, _, _ = _exposure_effects(
            values, seen, treated, np.arange(_PANEL_DAYS, dtype=float), "relative")
        rejected += int(np.sum(np.abs(slope) / np.sqrt(slope_var) > 1.959963984540054))
    return rejected / runs


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



#: The registry of every promised error rate of abteach that the appendix and the tests measure.
ERROR_RATE_CHECKS: tuple[ErrorRateCheck, ...] = (
    ErrorRateCheck("z-test, two proportions (p = 0.10, 5,000 per arm)", "ztest_proportions",
                   "type I error = alpha", "equal", ALPHA, 20_000, _ztest_type_i),
    ErrorRateCheck("Wald CI, difference of proportions (0.10 vs 0.11)", "ztest_proportions",
                   "CI coverage = 1 - alpha", "equal", 1 - ALPHA, 20_000, _ztest_coverage),
    ErrorRateCheck("z-test at the n of sample_size_proportions (0.10 vs 0.12)",
                   "sample_size_proportions", "power = designed power", "equal",
                   power_proportions(*_POWER_RATES, _n_proportions()), 40_000,
                   _proportions_power),
    ErrorRateCheck("t-test at the n of sample_size_means (d = 0.5)", "sample_size_means",
                   "power = designed power", "equal",
                   power_means(_EFFECT_SIZE, 1.0, _n_means(), test="t"), 40_000, _means_power),
    ErrorRateCheck("Welch t-test, normal, sd 1 vs 3, n 40 vs 20", "welch_ttest",
                   "type I error = alpha", "equal", ALPHA, 20_000, _welch_type_i),
    ErrorRateCheck("Welch t-test, log-normal (sigma 1), 1,000 per arm", "welch_ttest",
                   "type I error = alpha", "equal", ALPHA, 10_000, _welch_lognormal_type_i),
    ErrorRateCheck("Welch CI, log-normal revenue x 1.1, 1,000 per arm", "welch_ttest",
                   "CI coverage = 1 - alpha", "equal", 1 - ALPHA, 10_000,
                   _welch_lognormal_coverage),
    ErrorRateCheck("bootstrap percentile CI, normal, 50 per arm, B = 999", "bootstrap_ci",
                   "CI coverage = 1 - alpha", "equal", 1 - ALPHA, 1_000,
                   _bootstrap_coverage("percentile")),
    ErrorRateCheck("bootstrap BCa CI, normal, 50 per arm, B = 999", "bootstrap_ci",
                   "CI coverage = 1 - alpha", "equal", 1 - ALPHA, 1_000,
                   _bootstrap_coverage("bca")),
    ErrorRateCheck("delta-method CI, clicks per view, clustered users", "ratio_metric_test",
                   "CI coverage = 1 - alpha", "equal", 1 - ALPHA, 10_000, _ratio_coverage),
    ErrorRateCheck("CUPED t-test, rho = 0.71, 300 per arm", "cuped_test",
                   "type I error = alpha", "equal", ALPHA, 10_000, _cuped_type_i),
    ErrorRateCheck("CUPED CI, rho = 0.71, 300 per arm", "cuped_test",
                   "CI coverage = 1 - alpha", "equal", 1 - ALPHA, 10_000, _cuped_coverage),
    ErrorRateCheck("SRM chi-square, 10,000 units, threshold 0.0005", "srm_false_alarm_rate",
                   "false-alarm rate = threshold", "equal", 0.0005, 200_000, _srm_false_alarm),
    ErrorRateCheck("hashed buckets: chi-square uniformity, 20 buckets", "bucket_uniformity",
                   "type I error = alpha", "equal", ALPHA, 2_000, _bucket_uniformity),
    ErrorRateCheck("A/A test on hashed assignment, log-normal metric", "assign_many, aa_test",
                   "type I error = alpha", "equal", ALPHA, 10_000, _hashed_aa),
    ErrorRateCheck("Bonferroni, 10 independent true nulls", "multiple_tests",
                   "FWER <= alpha", "at most", ALPHA, 20_000,
                   _family_error("bonferroni", np.zeros(10), 0.0, "fwer")),
    ErrorRateCheck("Holm, 5 nulls + 5 effects, correlation 0.3", "multiple_tests",
                   "FWER <= alpha", "at most", ALPHA, 20_000,
                   _family_error("holm", np.r_[np.zeros(5), np.full(5, 3.0)], 0.3, "fwer")),
    ErrorRateCheck("Benjamini-Hochberg, 15 nulls + 5 effects, independent", "multiple_tests",
                   "FDR = q m0 / m (<= q)", "equal", ALPHA * 15 / 20, 20_000,
                   _family_error("bh", _BH_EFFECTS, 0.0, "fdr")),
    ErrorRateCheck("O'Brien-Fleming, 5 looks", "boundaries", "type I error = alpha", "equal",
                   ALPHA, 20_000, _sequential_type_i("obf")),
    ErrorRateCheck("Pocock, 5 looks", "boundaries", "type I error = alpha", "equal", ALPHA,
                   20_000, _sequential_type_i("pocock")),
    ErrorRateCheck("Lan-DeMets OBF spending, 5 looks", "boundaries", "type I error = alpha",
                   "equal", ALPHA, 20_000, _sequential_type_i("ld-obf")),
    ErrorRateCheck("O'Brien-Fleming at the drift of design_characteristics",
                   "design_characteristics", "power = designed power", "equal", 0.8, 40_000,
                   _sequential_power("obf")),
    ErrorRateCheck("Pocock at the drift of design_characteristics", "design_characteristics",
                   "power = designed power", "equal", 0.8, 40_000, _sequential_power("pocock")),
    ErrorRateCheck("naive peeking, 10 looks at 0.05", "simulate_peeking",
                   "false-positive rate = exact recursion", "equal",
                   peeking_false_positive_rate(_PEEKS), 40_000, _naive_peeking),
    ErrorRateCheck("mSPRT, 100 looks, tau^2 = 100 (drift units)", "msprt",
                   "type I error <= alpha (always valid)",
                   "at most", ALPHA, 10_000, _msprt_type_i),
    ErrorRateCheck("mSPRT confidence sequence, 100 looks", "msprt",
                   "coverage at all looks >= 1 - alpha", "at least", 1 - ALPHA, 10_000,
                   _msprt_coverage),
    ErrorRateCheck("trend test by exposure day, stable effect", "trend_test",
                   "type I error = alpha", "equal", ALPHA, 10_000, _trend_type_i),
    ErrorRateCheck("trend by days since exposure, user-day rows, constant lift",
                   "exposure_effects", "type I error = alpha", "equal", ALPHA, 10_000,
                   _exposure_type_i),
    ErrorRateCheck("ship rule at the n of sample_size_ship_rule (0.10 vs 0.12, delta 0.015)",
                   "sample_size_ship_rule", "P(ship) = designed power", "equal",
                   power_ship_rule(_SHIP["effect"], _n_ship(),
                                   minimum_effect=_SHIP["minimum_effect"],
                                   p_control=_SHIP["p_control"]),
                   _SHIP_RUNS, _ship_rule_power),
    ErrorRateCheck("non-inferiority Wald test at the margin (0.10, m = 0.01)",
                   "sample_size_noninferiority", "type I error = alpha", "equal", ALPHA,
                   _SIZING_RUNS, _noninferiority_rate(_MARGIN["p_control"] - _MARGIN["margin"])),
    ErrorRateCheck("non-inferiority at the n of sample_size_noninferiority (0.10, m = 0.01)",
                   "sample_size_noninferiority", "power = designed power", "equal",
                   power_noninferiority(0.0, _n_margin(sample_size_noninferiority), **_MARGIN),
                   _SIZING_RUNS, _noninferiority_rate(_MARGIN["p_control"])),
    ErrorRateCheck("TOST at the n of sample_size_equivalence (0.10, m = 0.01)",
                   "sample_size_equivalence", "power = designed power", "equal",
                   power_equivalence(0.0, _n_margin(sample_size_equivalence), **_MARGIN),
                   _SIZING_RUNS, _equivalence_power),
    ErrorRateCheck("cluster-level t-test, 20 clusters of 50 per arm, ICC 0.05", "cluster_ttest",
                   "type I error = alpha", "equal", ALPHA, 50_000, _cluster_type_i),
    ErrorRateCheck("cluster t-test at the K of cluster_design (m 50, ICC 0.05, d 0.25)",
                   "cluster_design", "power = designed power", "equal",
                   _cluster_design().power, 50_000, _cluster_power),
    ErrorRateCheck("switchback by period, 40 x 6 slots, AR(1) 0.8, burn-in 2",
                   "switchback_test", "type I error = alpha", "equal", ALPHA, 20_000,
                   _switchback_type_i),
    ErrorRateCheck("interaction of two experiments, 2 x 2 x 500 users", "interaction_test",
                   "type I error = alpha", "equal", ALPHA, 100_000, _interaction_type_i),
    ErrorRateCheck("interaction test at its computed power (gamma 0.1, 500 per cell)",
                   "interaction_power", "power = computed power", "equal",
                   interaction_power(_INTERACTION, 1.0, _CELL_N), 100_000, _interaction_power),
    ErrorRateCheck("Wald/IV CI for the complier effect, 30% compliers, 400 per arm",
                   "complier_effect", "CI coverage = 1 - alpha", "equal", 1 - ALPHA, 10_000,
                   _cace_coverage),
    ErrorRateCheck("delta-method test at the n of sample_size_ratio (clicks per view)",
                   "sample_size_ratio", "power = designed power", "equal", 0.8, 5_000,
                   _ratio_power),
    ErrorRateCheck("Lan-DeMets OBF, final look over-runs the plan (t = 1.15)",
                   "sequential_analysis", "type I error = alpha", "equal", ALPHA, 20_000,
                   _overrun_type_i),
    ErrorRateCheck("decay fit, long-run a, returning users, clustered by user",
                   "clustered_daily_effects, fit_decay", "CI coverage = 1 - alpha", "equal",
                   1 - ALPHA, 2_400, _decay_clustered_coverage),
    ErrorRateCheck("Welch CI on spend capped at a pre-period p99, log-normal x 1.1",
                   "cap_threshold, winsorize", "CI coverage of the capped difference",
                   "equal", 1 - ALPHA, 2_000, _capped_coverage),
    ErrorRateCheck("permutation test, log-normal, 20 per arm, 199 splits", "permutation_test",
                   "P(p <= alpha) = alpha", "equal", ALPHA, 5_000, _permutation_type_i),
    ErrorRateCheck("Fisher exact test, rate 0.01, 200 per arm", "fisher_exact_test",
                   "type I error <= alpha", "at most", ALPHA, 20_000,
                   _exact_type_i(fisher_exact_test, 200, 0.01)),
    ErrorRateCheck("Barnard exact test, rate 0.05, 40 per arm", "barnard_exact_test",
                   "type I error <= alpha", "at most", ALPHA, 10_000,
                   _exact_type_i(barnard_exact_test, 40, 0.05)),
    ErrorRateCheck("delta-method CI, p95 load time, page views clustered by user",
                   "quantile_test", "CI coverage >= 1 - alpha", "at least", 1 - ALPHA, 1_000,
                   _quantile_coverage),
    ErrorRateCheck("trigger-dilute CI, 30% triggered, 4,000 per arm", "diluted_effect",
                   "CI coverage = 1 - alpha", "equal", 1 - ALPHA, 20_000, _diluted_coverage),
)


def _check_registry(name: str, checks, default: tuple, kind: type) -> tuple:
    """``checks`` as a non-empty tuple of ``kind`` records (``default`` when None)."""
    if checks is None:
        return default
    if isinstance(checks, (str, bytes, kind)) or not isinstance(checks, Sequence):
        raise TypeError(f"{name} must be a sequence of {kind.__name__}, got {checks!r}")
    if not checks:
        raise ValueError(f"{name} must hold at least one {kind.__name__}, got an empty sequence")
    for index, check in enumerate(checks):
        if not isinstance(check, kind):
            raise TypeError(
                f"{name} must hold {kind.__name__} records, got {check!r} (at index {index})"
            )
    return tuple(checks)


def _verdict(gap: float, band: float, kind: str) -> str:
    if abs(gap) <= band:
        return "within band"
    beats = (kind == "at most" and gap < 0) or (kind == "at least" and gap > 0)
    return "conservative" if beats else "FAIL"


def _measure_in_batches(check: ErrorRateCheck, runs: int, generator) -> float:
    """The rate over ``runs`` runs, simulated ``check.runs`` at a time (one call when fewer)."""
    sizes = [check.runs] * (runs // check.runs) + [runs % check.runs] * (runs % check.runs > 0)
    total = 0.0
    for size in sizes:
        rate = float(check.measure(size, generator))
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"the measure of {check.procedure!r} must return a rate in "
                             f"[0, 1], got {rate!r}")
        total += size * rate
    return total / runs


def run_error_rate_check(check: ErrorRateCheck, *, runs: int | None = None, rng) -> dict:
    """Run one check and return its row of the table (see :func:`error_rate_checks`).

    Parameters
    ----------
    check : ErrorRateCheck
        An entry of :data:`ERROR_RATE_CHECKS` (or one built the same way).
    runs : int, optional
        Number of simulated experiments, from 100 to ``MAX_SCALE`` times ``check.runs``;
        default ``check.runs``. More runs than ``check.runs`` are simulated in batches of
        ``check.runs`` (the measured rate is the run-weighted mean of the batches), so memory
        stays that of one default run.
    rng : numpy.random.Generator or int

    Returns
    -------
    dict
        The columns of :func:`error_rate_checks` for this check.
    """
    if not isinstance(check, ErrorRateCheck):
        raise TypeError(f"check must be an ErrorRateCheck, got {type(check).__name__}")
    runs = check.runs if runs is None else check_int(
        "runs", runs, minimum=100, maximum=int(MAX_SCALE * check.runs))
    generator = as_generator(rng)
    measured = _measure_in_batches(check, runs, generator)
    se = math.sqrt(check.promised * (1 - check.promised) / runs)
    gap = measured - check.promised
    return {
        "procedure": check.procedure,
        "function": check.function,
        "promise": check.promise,
        "kind": check.kind,
        "promised": check.promised,
        "measured": measured,
        "runs": runs,
        "se": se,
        "band_points": 100 * BAND_WIDTH * se,
        "runs_for_1_point": runs_to_resolve(check.promised),
        "gap_points": 100 * gap,
        "gap_se": gap / se,
        "verdict": _verdict(gap, BAND_WIDTH * se, check.kind),
    }


def error_rate_checks(
    *, scale: float = 1.0, rng, checks: Sequence[ErrorRateCheck] | None = None
) -> pd.DataFrame:
    r"""Measure every promised error rate of abteach by seeded simulation.

    Each check (:data:`ERROR_RATE_CHECKS`) simulates R experiments with a known truth and
    measures the share of runs in which the promised event happened (a rejection of a true
    null, an interval covering the truth, a rejection under the designed effect, ...). With
    the promised rate :math:`p_0`, the binomial standard error is
    :math:`SE = \sqrt{p_0 (1 - p_0) / R}`; the verdict is "within band" when
    :math:`|\hat p - p_0| \le 4.5\,SE` (:data:`BAND_WIDTH`), "conservative" when the rate
    is outside the band on the safe side of a bound ("at most" / "at least" promises), and
    "FAIL" otherwise.

    Parameters
    ----------
    scale : float
        Multiplies every check's default number of runs (> 0, at most 1000; at least 100
        runs are used).
        1 takes about 40 to 60 s on a loaded 2-core machine.
    rng : numpy.random.Generator or int
        Source of randomness. Each check gets its own child generator
        (``Generator.spawn``), so a table is reproducible under a fixed seed.
    checks : sequence of ErrorRateCheck, optional
        Default: all of :data:`ERROR_RATE_CHECKS`.

    Returns
    -------
    pandas.DataFrame
        One row per check: ``procedure``, ``function``, ``promise``, ``kind``, ``promised``,
        ``measured``, ``runs``, ``se`` (binomial standard error at the promised value),
        ``band_points`` (the band's half-width, 100 x 4.5 se, in percentage points: a miss
        smaller than this passes unseen), ``runs_for_1_point`` (the runs that would narrow the
        band to 1 point, :func:`runs_to_resolve`), ``gap_points`` (100 (measured - promised),
        percentage points), ``gap_se`` (the gap in standard errors) and ``verdict``.

    References
    ----------
    Morris, White & Crowther (2019), section 5.2 (Monte Carlo standard error of a rate).
    """
    factor = check_scalar("scale", check_positive("scale", scale))
    if factor > MAX_SCALE:
        raise ValueError(f"scale must be at most {MAX_SCALE}, got {scale!r}")
    generator = as_generator(rng)
    checks = _check_registry("checks", checks, ERROR_RATE_CHECKS, ErrorRateCheck)
    rows = [
        run_error_rate_check(check, runs=max(100, round(factor * check.runs)), rng=child)
        for check, child in zip(checks, generator.spawn(len(checks)))
    ]
    return pd.DataFrame(rows)
