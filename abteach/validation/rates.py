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

from abteach._validate import (
    as_generator,
    check_choice,
    check_int,
    check_open_unit,
    check_positive,
    check_scalar,
)
from abteach.assignment import aa_test, assign_many, bucket_uniformity, make_unit_ids
from abteach.events.dilution import diluted_effect
from abteach.inference import bootstrap_ci, ratio_metric_test, welch_ttest, ztest_proportions
from abteach.multiple import error_rates, multiple_tests, simulate_pvalues
from abteach.novelty import simulate_daily_effects, trend_test_power
from abteach.power import power_means, power_proportions, sample_size_means, sample_size_proportions
from abteach.sequential import (
    boundaries,
    design_characteristics,
    msprt,
    peeking_false_positive_rate,
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
