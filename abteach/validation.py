r"""How we know the numbers are right: measured error rates and published values, in two tables.

Every procedure of abteach makes a promise: a test at level alpha rejects a true null
hypothesis with probability alpha, a 95% interval covers the truth 95% of the time, a sample
size gives the power it was designed for, Holm keeps the family-wise error rate at most alpha,
and so on. This module keeps two registries and turns each into a table:

* :data:`ERROR_RATE_CHECKS` and :func:`error_rate_checks`: each check simulates many seeded
  experiments where the truth is known (vectorized, one numpy array per check), applies the
  abteach function, and counts how often the promised event happened. With R runs and a
  promised rate :math:`p_0` the count is Binomial(R, p) with p the true rate, so the measured
  rate :math:`\hat p` has standard error

  .. math:: SE = \sqrt{p_0 (1 - p_0) / R}

  when the promise holds, and the gap :math:`\hat p - p_0` lies within
  :math:`\pm 4.5\,SE` with probability :math:`1 - 6.8 \times 10^{-6}` (normal approximation).
  The verdict is "within band" inside the band; outside it, "conservative" when the promise
  is a bound that the procedure beats (type I error below an "at most" promise, coverage above
  an "at least" promise) and "FAIL" otherwise. For a false discovery proportion, which lies in
  [0, 1] but is not 0/1, the binomial SE is an upper bound of its true SE, so the band is
  wider than needed, never narrower.
* :data:`PUBLISHED_CHECKS` and :func:`published_checks`: one row per figure of the course's
  list of published numbers (R, G*Power, Jennison & Turnbull, Benjamini & Hochberg, ...),
  recomputed now by abteach and compared at the precision the source prints: a value printed
  with d decimals passes when it is within half a unit of the d-th decimal, a value printed
  with s significant digits within half a unit of the s-th digit, a count exactly.

The test suite (``tests/test_validation.py``) runs the same registries, so the appendix page
and the tests report the same checks.

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
    as_float_array,
    as_generator,
    check_int,
    check_positive,
    check_scalar,
)
from abteach.assignment import (
    aa_test,
    assign_many,
    bucket_uniformity,
    fnv1a32,
    growthbook_hash,
)
from abteach.inference import (
    bootstrap_ci,
    chisq_proportions,
    ratio_metric_test,
    welch_ttest,
    welch_ttest_from_stats,
    ztest_proportions,
)
from abteach.multiple import error_rates, multiple_tests, simulate_pvalues
from abteach.novelty import simulate_daily_effects, trend_test_power
from abteach.power import (
    _t_parameters,
    power_means,
    power_proportions,
    sample_size_means,
    sample_size_proportions,
)
from abteach.sequential import (
    boundaries,
    design_characteristics,
    msprt,
    peeking_false_positive_rate,
    simulate_peeking,
    simulate_z_streams,
)
from abteach.srm import srm_false_alarm_rate, srm_test
from abteach.variance import cuped_adjust, cuped_test

__all__ = [
    "BAND_WIDTH",
    "ERROR_RATE_CHECKS",
    "PUBLISHED_CHECKS",
    "ErrorRateCheck",
    "PublishedCheck",
    "error_rate_checks",
    "published_checks",
    "run_error_rate_check",
]

#: Half-width of the tolerance band, in binomial standard errors.
BAND_WIDTH = 4.5
#: Promise kinds: the measured rate should equal, stay at most, or stay at least the promise.
KINDS = ("equal", "at most", "at least")
ALPHA = 0.05
#: Largest ``scale`` of :func:`error_rate_checks` (1000 x the default runs takes hours).
MAX_SCALE = 1000.0


# --------------------------------------------------------------------------------------------
# Error rates by simulation
# --------------------------------------------------------------------------------------------


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
    ids = np.char.add("user-", np.arange(start, start + runs * _IDS_PER_RUN).astype(str))
    return ids.astype(object).reshape(runs, _IDS_PER_RUN)


def _bucket_uniformity(runs, gen):
    return _reject_rate(bucket_uniformity(_hashed_ids(runs, gen), "validation", n_buckets=20).pvalue)


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
#: Mixing variance in drift units: 100 times the variance of the last look's estimate.
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
                   power_proportions(*_POWER_RATES, _n_proportions()), 10_000,
                   _proportions_power),
    ErrorRateCheck("t-test at the n of sample_size_means (d = 0.5)", "sample_size_means",
                   "power = designed power", "equal",
                   power_means(_EFFECT_SIZE, 1.0, _n_means(), test="t"), 10_000, _means_power),
    ErrorRateCheck("Welch t-test, normal, sd 1 vs 3, n 40 vs 20", "welch_ttest",
                   "type I error = alpha", "equal", ALPHA, 20_000, _welch_type_i),
    ErrorRateCheck("Welch t-test, log-normal (sigma 1), 1,000 per arm", "welch_ttest",
                   "type I error = alpha", "equal", ALPHA, 4_000, _welch_lognormal_type_i),
    ErrorRateCheck("Welch CI, log-normal revenue x 1.1, 1,000 per arm", "welch_ttest",
                   "CI coverage = 1 - alpha", "equal", 1 - ALPHA, 4_000,
                   _welch_lognormal_coverage),
    ErrorRateCheck("bootstrap percentile CI, normal, 50 per arm, B = 999", "bootstrap_ci",
                   "CI coverage = 1 - alpha", "equal", 1 - ALPHA, 1_000,
                   _bootstrap_coverage("percentile")),
    ErrorRateCheck("bootstrap BCa CI, normal, 50 per arm, B = 999", "bootstrap_ci",
                   "CI coverage = 1 - alpha", "equal", 1 - ALPHA, 1_000,
                   _bootstrap_coverage("bca")),
    ErrorRateCheck("delta-method CI, clicks per view, clustered users", "ratio_metric_test",
                   "CI coverage = 1 - alpha", "equal", 1 - ALPHA, 2_000, _ratio_coverage),
    ErrorRateCheck("CUPED t-test, rho = 0.71, 300 per arm", "cuped_test",
                   "type I error = alpha", "equal", ALPHA, 5_000, _cuped_type_i),
    ErrorRateCheck("CUPED CI, rho = 0.71, 300 per arm", "cuped_test",
                   "CI coverage = 1 - alpha", "equal", 1 - ALPHA, 5_000, _cuped_coverage),
    ErrorRateCheck("SRM chi-square, 10,000 units, threshold 0.0005", "srm_false_alarm_rate",
                   "false-alarm rate = threshold", "equal", 0.0005, 200_000, _srm_false_alarm),
    ErrorRateCheck("hashed buckets: chi-square uniformity, 20 buckets", "bucket_uniformity",
                   "type I error = alpha", "equal", ALPHA, 2_000, _bucket_uniformity),
    ErrorRateCheck("A/A test on hashed assignment, log-normal metric", "assign_many, aa_test",
                   "type I error = alpha", "equal", ALPHA, 2_000, _hashed_aa),
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
                   "design_characteristics", "power = designed power", "equal", 0.8, 10_000,
                   _sequential_power("obf")),
    ErrorRateCheck("Pocock at the drift of design_characteristics", "design_characteristics",
                   "power = designed power", "equal", 0.8, 10_000, _sequential_power("pocock")),
    ErrorRateCheck("naive peeking, 10 looks at 0.05", "simulate_peeking",
                   "false-positive rate = exact recursion", "equal",
                   peeking_false_positive_rate(_PEEKS), 20_000, _naive_peeking),
    ErrorRateCheck("mSPRT, 100 looks, tau^2 = 100 (drift units)", "msprt", "type I error <= alpha (always valid)",
                   "at most", ALPHA, 10_000, _msprt_type_i),
    ErrorRateCheck("mSPRT confidence sequence, 100 looks", "msprt",
                   "coverage at all looks >= 1 - alpha", "at least", 1 - ALPHA, 10_000,
                   _msprt_coverage),
    ErrorRateCheck("trend test by exposure day, stable effect", "trend_test",
                   "type I error = alpha", "equal", ALPHA, 2_000, _trend_type_i),
)


def _verdict(gap: float, band: float, kind: str) -> str:
    if abs(gap) <= band:
        return "within band"
    beats = (kind == "at most" and gap < 0) or (kind == "at least" and gap > 0)
    return "conservative" if beats else "FAIL"


def run_error_rate_check(check: ErrorRateCheck, *, runs: int | None = None, rng) -> dict:
    """Run one check and return its row of the table (see :func:`error_rate_checks`).

    Parameters
    ----------
    check : ErrorRateCheck
        An entry of :data:`ERROR_RATE_CHECKS` (or one built the same way).
    runs : int, optional
        Number of simulated experiments (>= 100); default ``check.runs``.
    rng : numpy.random.Generator or int

    Returns
    -------
    dict
        The columns of :func:`error_rate_checks` for this check.
    """
    if not isinstance(check, ErrorRateCheck):
        raise TypeError(f"check must be an ErrorRateCheck, got {type(check).__name__}")
    runs = check.runs if runs is None else check_int("runs", runs, minimum=100)
    generator = as_generator(rng)
    measured = float(check.measure(runs, generator))
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
        1 takes about 10 to 20 s on a loaded 2-core machine.
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
        ``gap_points`` (100 (measured - promised), percentage points), ``gap_se`` (the gap in
        standard errors) and ``verdict``.

    References
    ----------
    Morris, White & Crowther (2019), section 5.2 (Monte Carlo standard error of a rate).
    """
    factor = check_scalar("scale", check_positive("scale", scale))
    if factor > MAX_SCALE:
        raise ValueError(f"scale must be at most {MAX_SCALE}, got {scale!r}")
    generator = as_generator(rng)
    if checks is None:
        checks = ERROR_RATE_CHECKS
    checks = tuple(checks)
    if not checks:
        raise ValueError("checks must hold at least one ErrorRateCheck, got an empty sequence")
    rows = [
        run_error_rate_check(check, runs=max(100, round(factor * check.runs)), rng=child)
        for check, child in zip(checks, generator.spawn(len(checks)))
    ]
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Published numbers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedCheck:
    """One published figure: ``compute()`` recomputes it with abteach.

    ``precision`` is ``("decimals", d)`` (the source prints d decimals), ``("significant",
    s)`` (s significant digits) or ``("exact", 0)`` (a count or an integer hash).
    """

    id: str
    quantity: str
    source: str
    published: float
    precision: tuple[str, int]
    compute: Callable[[], float]


def _tolerance(published: float, precision: tuple[str, int]) -> float:
    """Half a unit of the last printed digit (0 for exact values)."""
    kind, digits = precision
    if kind == "exact":
        return 0.0
    if kind == "decimals":
        return 0.5 * 10.0**-digits
    return 0.5 * 10.0 ** (math.floor(math.log10(abs(published))) - digits + 1)


def _precision_text(precision: tuple[str, int]) -> str:
    kind, digits = precision
    if kind == "exact":
        return "exact"
    unit = "decimal" if kind == "decimals" else "significant digit"
    return f"{digits} {unit}{'s' if digits != 1 else ''}"


_R_PROP = "R ?power.prop.test examples"
_JT_21 = "Jennison & Turnbull (2000), Table 2.1"
_JT_23 = "Jennison & Turnbull (2000), Table 2.3"
_GS05 = "gsDesign sfLDOF, R ldbounds, rpact asOF"
_AMR = "Armitage, McPherson & Rowe (1969), exact recursion"
_BH = "Benjamini & Hochberg (1995), section 4"
_HA01 = "FNV reference test vectors (Noll)"
_HA02 = "GrowthBook SDK specification test cases"
_HILL = "Hillstrom MineThatData; Yasui (2020) ch. 1"
_SLEEP = "R t.test(extra ~ group, data = sleep)"
_SLEEP_G1 = (0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0)
_SLEEP_G2 = (1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4)
_SMOKERS = ((83, 90, 129, 70), (86, 93, 136, 82))
_BH_PVALUES = (0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240,
               0.4262, 0.5719, 0.6528, 0.7590, 1.000)
#: Hillstrom arms: customers, visitors, purchasers, total spend, sd of spend per customer.
_HILLSTROM = {
    "Mens E-Mail": (21_307, 3_894, 267, 30_311.69, 17.754205),
    "Womens E-Mail": (21_387, 3_238, 189, 23_038.11, 15.116106),
    "No E-Mail": (21_306, 2_262, 122, 13_908.33, 11.588200),
}


def _sleep_test():
    return welch_ttest(_SLEEP_G2, _SLEEP_G1)  # R reports group 1 minus group 2


def _hillstrom_spend_test():
    n_m, _, _, total_m, sd_m = _HILLSTROM["Mens E-Mail"]
    n_c, _, _, total_c, sd_c = _HILLSTROM["No E-Mail"]
    return welch_ttest_from_stats(total_c / n_c, sd_c, n_c, total_m / n_m, sd_m, n_m,
                                  equal_var=True)


def _gpower_parameters():
    """(df, noncentrality, critical t) of the pooled t-test with d = 0.5 and 64 + 64 units."""
    return _t_parameters(np.float64(0.5), np.float64(64), np.float64(1.0), np.float64(0.05),
                         "two-sided")


def _cuped_variance_factor() -> float:
    """Variance of Y - theta X over that of Y for a sample whose correlation is exactly 0.71."""
    rng = np.random.default_rng(2013)
    x, noise = rng.standard_normal((2, 10_000))
    x = (x - x.mean()) / x.std()
    noise -= noise.mean() + (noise @ x) / (x @ x) * x  # orthogonal to x, mean 0
    y = 0.71 * x + math.sqrt(1 - 0.71**2) * noise / noise.std()
    return float(cuped_adjust(y, x).variance_factor)


def _hillstrom_rate(arm: str, column: int) -> float:
    """Visit (column 0) or conversion (column 1) rate in percent, from the z-test of each
    e-mail arm against No E-Mail (its ``p_treatment`` and ``p_control``)."""
    n, visits, buyers = np.array([_HILLSTROM[name][:3] for name in _HILLSTROM]).T
    counts = (visits, buyers)[column]
    res = ztest_proportions(counts[2], n[2], counts[:2], n[:2])
    rates = dict(zip(_HILLSTROM, [*np.asarray(res.p_treatment), float(res.p_control[0])]))
    return 100 * float(rates[arm])


def _published_rows() -> tuple[PublishedCheck, ...]:
    rows = [
        PublishedCheck("SS03a", "power, 0.50 vs 0.75, n = 50 per arm", _R_PROP, 0.740,
                       ("decimals", 3), lambda: power_proportions(0.50, 0.75, 50)),
        PublishedCheck("SS03b", "n per arm, 0.50 vs 0.75, power 0.90", _R_PROP, 76.7,
                       ("decimals", 1),
                       lambda: sample_size_proportions(0.50, 0.75, power=0.90)),
        PublishedCheck("SS04", "n per arm, 0.10 vs 0.12, power 0.80", "R power.prop.test output",
                       3840.847, ("decimals", 3), lambda: sample_size_proportions(0.10, 0.12)),
        PublishedCheck("SS06a", "n per group, t-test, d = 0.5, power 0.80",
                       "R pwr::pwr.t.test, G*Power", 63.76561, ("decimals", 4),
                       lambda: sample_size_means(0.5, 1.0, test="t")),
        PublishedCheck("SS06b", "power, t-test, d = 0.5, n = 64 + 64", "G*Power output",
                       0.8014596, ("decimals", 6), lambda: power_means(0.5, 1.0, 64, test="t")),
        PublishedCheck("SS06b", "noncentrality, d = 0.5, n = 64 + 64", "G*Power output",
                       2.828427, ("decimals", 6), lambda: float(_gpower_parameters()[1])),
        PublishedCheck("SS06b", "critical t, df 126", "G*Power output", 1.978971,
                       ("decimals", 6), lambda: float(_gpower_parameters()[2])),
        PublishedCheck("SS07", "n per group, Cohen's h, 0.70 vs 0.55, power 0.80",
                       "R pwr.2p.test(h = ES.h(0.70, 0.55))", 161.9349, ("decimals", 3),
                       lambda: sample_size_proportions(0.55, 0.70, method="arcsine")),
        PublishedCheck("HT01", "Welch t, sleep data", _SLEEP, -1.8608, ("decimals", 4),
                       lambda: _sleep_test().statistic),
        PublishedCheck("HT01", "Welch df, sleep data", _SLEEP, 17.776, ("decimals", 3),
                       lambda: _sleep_test().df),
        PublishedCheck("HT01", "p-value, sleep data", _SLEEP, 0.07939, ("decimals", 5),
                       lambda: _sleep_test().pvalue),
        PublishedCheck("HT01", "95% CI lower bound, sleep data", _SLEEP, -3.3654832,
                       ("decimals", 7), lambda: _sleep_test().ci_low),
        PublishedCheck("HT01", "95% CI upper bound, sleep data", _SLEEP, 0.2054832,
                       ("decimals", 7), lambda: _sleep_test().ci_high),
        PublishedCheck("HT04", "X-squared, smokers in 4 groups", "R ?prop.test (smokers)", 12.6,
                       ("decimals", 1), lambda: chisq_proportions(*_SMOKERS).statistic),
        PublishedCheck("HT04", "df, smokers in 4 groups", "R ?prop.test (smokers)", 3,
                       ("exact", 0), lambda: chisq_proportions(*_SMOKERS).df),
        PublishedCheck("HT04", "p-value, smokers in 4 groups", "R ?prop.test (smokers)",
                       0.005585, ("decimals", 6), lambda: chisq_proportions(*_SMOKERS).pvalue),
        PublishedCheck("SRM01", "ratio treatment / control, 821,588 vs 815,482",
                       "Kohavi, Tang & Xu (2020), ch. 21", 0.993, ("decimals", 3),
                       lambda: 815_482 / 821_588),
        PublishedCheck("SRM01", "SRM p-value, 821,588 vs 815,482",
                       "Kohavi, Tang & Xu (2020), ch. 21", 1.8e-6, ("significant", 2),
                       lambda: srm_test([821_588, 815_482]).pvalue),
        PublishedCheck("SRM02", "SRM p-value, 600 vs 400", 'Wikipedia, "Sample ratio mismatch"',
                       2.54e-10, ("significant", 3), lambda: srm_test([600, 400]).pvalue),
    ]
    pocock = (2.178, 2.289, 2.361, 2.413, 2.453, 2.485, 2.512, 2.535, 2.555)
    obf = (1.977, 2.004, 2.024, 2.040, 2.053, 2.063, 2.072, 2.080, 2.087)
    for k, value in zip(range(2, 11), pocock):
        rows.append(PublishedCheck("GS01", f"Pocock C_P({k})", _JT_21, value, ("decimals", 3),
                                   lambda k=k: boundaries(k, method="pocock").constant))
    for k, value in zip(range(2, 11), obf):
        rows.append(PublishedCheck("GS02", f"O'Brien-Fleming C_B({k})", _JT_23, value,
                                   ("decimals", 3),
                                   lambda k=k: boundaries(k, method="obf").constant))
    for look, value in enumerate((4.562, 3.226, 2.634, 2.281, 2.040)):
        rows.append(PublishedCheck(
            "GS02", f"O'Brien-Fleming K = 5, boundary at look {look + 1}", _JT_23, value,
            ("decimals", 3),
            lambda look=look: boundaries(5, method="obf").critical_values[look]))
    for k, values, digits in ((2, (2.962588, 1.968596), 6),
                              (5, (4.8769, 3.3569, 2.6803, 2.2898, 2.0310), 3)):
        for look, value in enumerate(values):
            rows.append(PublishedCheck(
                "GS05", f"Lan-DeMets OBF K = {k}, boundary at look {look + 1}", _GS05, value,
                ("decimals", digits),
                lambda k=k, look=look: boundaries(k, method="ld-obf").critical_values[look]))
    for k, value in ((2, 0.0831), (5, 0.1417), (10, 0.1934), (20, 0.2479), (50, 0.3205),
                     (100, 0.3736)):
        rows.append(PublishedCheck("PK01", f"false-positive rate, peeking at {k} looks", _AMR,
                                   value, ("decimals", 4),
                                   lambda k=k: peeking_false_positive_rate(k)))
    rows += [
        PublishedCheck("CU01", "Var(Y - theta X) / Var(Y) at rho = 0.71",
                       "Deng, Xu, Kohavi & Walker (2013), WSDM", 0.4959, ("decimals", 4),
                       _cuped_variance_factor),
        PublishedCheck("MT01", "rejections, Benjamini-Hochberg at q = 0.05", _BH, 4,
                       ("exact", 0),
                       lambda: multiple_tests(_BH_PVALUES, method="bh").n_rejected),
        PublishedCheck("MT01", "rejections, Bonferroni at 0.05", _BH, 3, ("exact", 0),
                       lambda: multiple_tests(_BH_PVALUES, method="bonferroni").n_rejected),
        PublishedCheck("MT01", "BH-adjusted p of the 4th smallest", _BH, 0.035625,
                       ("decimals", 6),
                       lambda: multiple_tests(_BH_PVALUES, method="bh").adjusted[3]),
        PublishedCheck("MT01", "BH-adjusted p of the 5th smallest", _BH, 0.0603,
                       ("decimals", 4),
                       lambda: multiple_tests(_BH_PVALUES, method="bh").adjusted[4]),
    ]
    for text, value in (("", 0x811C9DC5), ("a", 0xE40C292C), ("ab", 0x4D2505CA),
                        ("foobar", 0xBF9CF968)):
        rows.append(PublishedCheck("HA01", f'FNV-1a 32-bit of "{text}"', _HA01, value,
                                   ("exact", 0), lambda text=text: fnv1a32(text)))
    for seed, value, version, expected, digits in (("", "a", 1, 0.22, 2),
                                                   ("seed", "a", 2, 0.0505, 4),
                                                   ("seed", "b", 2, 0.2696, 4),
                                                   ("foo", "ab", 2, 0.2575, 4)):
        rows.append(PublishedCheck(
            "HA02", f'GrowthBook hash v{version}, seed "{seed}", value "{value}"', _HA02,
            expected, ("decimals", digits),
            lambda seed=seed, value=value, version=version: growthbook_hash(seed, value,
                                                                            version)))
    for arm, visit, conversion in (("Mens E-Mail", 18.28, 1.2531),
                                   ("Womens E-Mail", 15.14, 0.8837),
                                   ("No E-Mail", 10.62, 0.5726)):
        rows.append(PublishedCheck("Hillstrom", f"visit rate (%), {arm}", _HILL, visit,
                                   ("decimals", 2),
                                   lambda arm=arm: _hillstrom_rate(arm, 0)))
        rows.append(PublishedCheck("Hillstrom", f"conversion rate (%), {arm}", _HILL,
                                   conversion, ("decimals", 4),
                                   lambda arm=arm: _hillstrom_rate(arm, 1)))
    rows += [
        PublishedCheck("Hillstrom", "pooled t of spend, Mens E-Mail vs No E-Mail",
                       "Yasui (2020), ch. 1", 5.300090, ("decimals", 6),
                       lambda: _hillstrom_spend_test().statistic),
        PublishedCheck("Hillstrom", "p-value of that t-test", "Yasui (2020), ch. 1",
                       1.1632e-07, ("significant", 5), lambda: _hillstrom_spend_test().pvalue),
    ]
    return tuple(rows)


#: The registry of published figures (``shared/references/published_numbers.md``, beside the repository).
PUBLISHED_CHECKS: tuple[PublishedCheck, ...] = _published_rows()


def published_checks(checks: Sequence[PublishedCheck] | None = None) -> pd.DataFrame:
    r"""Recompute every published figure with abteach and compare it at the printed precision.

    A value printed with d decimals passes when :math:`|\text{abteach} - \text{published}|
    \le 0.5 \times 10^{-d}` (it rounds to the printed value, ties aside); with s significant
    digits, within half a unit of the s-th digit; a count or an integer hash must be equal.

    Parameters
    ----------
    checks : sequence of PublishedCheck, optional
        Default: all of :data:`PUBLISHED_CHECKS`.

    Returns
    -------
    pandas.DataFrame
        One row per figure: ``id``, ``quantity``, ``source``, ``published``, ``abteach``,
        ``precision`` (text), ``tolerance``, ``abs_deviation`` and ``passed`` (bool).
    """
    checks = PUBLISHED_CHECKS if checks is None else tuple(checks)
    if not checks:
        raise ValueError("checks must hold at least one PublishedCheck, got an empty sequence")
    rows = []
    for check in checks:
        if not isinstance(check, PublishedCheck):
            raise TypeError(f"checks must hold PublishedCheck records, got "
                            f"{type(check).__name__}")
        value = float(as_float_array(f"the value computed for {check.id}", check.compute()))
        deviation = abs(value - check.published)
        tolerance = _tolerance(check.published, check.precision)
        rows.append({
            "id": check.id,
            "quantity": check.quantity,
            "source": check.source,
            "published": float(check.published),
            "abteach": value,
            "precision": _precision_text(check.precision),
            "tolerance": tolerance,
            "abs_deviation": deviation,
            "passed": bool(deviation <= tolerance * (1 + 1e-9)),
        })
    return pd.DataFrame(rows)
