"""Measures of the error-rate registry (:mod:`abteach.validation.rates`), chapters 1-10:
one vectorised simulation per promise, ``measure(runs, generator) -> rate``."""

from __future__ import annotations

import math

import numpy as np

from abteach.assignment import aa_test, assign_many, bucket_uniformity, make_unit_ids
from abteach.events.dilution import diluted_effect
from abteach.inference import bootstrap_ci, ratio_metric_test, welch_ttest, ztest_proportions
from abteach.multiple import error_rates, multiple_tests, simulate_pvalues
from abteach.novelty import simulate_daily_effects, trend_test_power
from abteach.novelty.exposure import _effects as _exposure_effects
from abteach.power import sample_size_means, sample_size_proportions
from abteach.sequential import (
    boundaries,
    design_characteristics,
    msprt,
    sequential_analysis,
    simulate_peeking,
    simulate_z_streams,
)
from abteach.srm import srm_false_alarm_rate
from abteach.variance import cuped_test

#: Two-sided level of every simulated test.
ALPHA = 0.05


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
