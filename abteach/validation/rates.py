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
from abteach.decision.sizing import (
    power_equivalence,
    power_noninferiority,
    power_ship_rule,
    sample_size_equivalence,
    sample_size_noninferiority,
)
from abteach.inference import barnard_exact_test, fisher_exact_test
from abteach.interference import interaction_power
from abteach.power import power_means, power_proportions
from abteach.sequential import peeking_false_positive_rate
from abteach.validation._measures import (
    ALPHA,
    _ztest_type_i,
    _ztest_coverage,
    _POWER_RATES,
    _n_proportions,
    _proportions_power,
    _EFFECT_SIZE,
    _n_means,
    _means_power,
    _welch_type_i,
    _welch_lognormal_type_i,
    _welch_lognormal_coverage,
    _bootstrap_coverage,
    _ratio_coverage,
    _cuped_type_i,
    _cuped_coverage,
    _srm_false_alarm,
    _bucket_uniformity,
    _hashed_aa,
    _BH_EFFECTS,
    _family_error,
    _sequential_type_i,
    _sequential_power,
    _overrun_type_i,
    _PEEKS,
    _naive_peeking,
    _msprt_type_i,
    _msprt_coverage,
    _diluted_coverage,
    _trend_type_i,
    _exposure_type_i,
)
from abteach.validation._measures_practice import (
    _SHIP,
    _MARGIN,
    _SIZING_RUNS,
    _SHIP_RUNS,
    _n_ship,
    _ship_rule_power,
    _n_margin,
    _noninferiority_rate,
    _equivalence_power,
    _cluster_type_i,
    _cluster_design,
    _cluster_power,
    _switchback_type_i,
    _CELL_N,
    _INTERACTION,
    _interaction_type_i,
    _interaction_power,
    _cace_coverage,
    _ratio_power,
    _decay_clustered_coverage,
    _capped_coverage,
    _permutation_type_i,
    _exact_type_i,
    _quantile_coverage,
)

#: Half-width of the tolerance band, in binomial standard errors.
BAND_WIDTH = 4.5
#: The smallest miss (in percentage points) that a check should be able to catch; a check
#: resolves it when its band (``BAND_WIDTH`` standard errors) is at most this wide on each side.
RESOLUTION_POINTS = 1.0
#: Promise kinds. The measured rate should equal, stay at most, or stay at least the promise.
KINDS = ("equal", "at most", "at least")
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
    # The sandwich interval over-covers slightly here (95.6% to 95.9% in 10,000-run checks),
    # so its promise is a bound: at least 95%.
    ErrorRateCheck("decay fit, long-run a, returning users, clustered by user",
                   "clustered_daily_effects, fit_decay", "CI coverage >= 1 - alpha", "at least",
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
