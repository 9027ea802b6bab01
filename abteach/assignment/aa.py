"""A/A tests: run the whole pipeline with two identical arms and check that nothing differs.

Section 3.6 of chapter 3.

References
----------
Kohavi, R., Tang, D. & Xu, Y. (2020), *Trustworthy Online Controlled Experiments*,
ch. 19 (The A/A Test) and ch. 21 (Sample Ratio Mismatch).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from abteach._records import Record, format_number
from abteach._validate import (
    as_float_array,
    as_generator,
    check_alpha,
    check_int,
    check_open_unit,
    check_work,
)
from abteach.assignment._checks import _check_variants, _check_weights



@dataclass(frozen=True, repr=False, eq=False)
class AATest(Record):
    """Result of :func:`aa_test` and :func:`simulate_aa` (arrays over runs for the latter).

    ``statistic``, ``pvalue``, ``df``, ``effect`` and the interval are Welch's t-test of the
    metric (treatment minus control); ``srm_statistic`` and ``srm_pvalue`` test the sample
    ratio against the design weights.
    """

    statistic: float | np.ndarray
    pvalue: float | np.ndarray
    df: float | np.ndarray
    effect: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    mean_control: float | np.ndarray
    mean_treatment: float | np.ndarray
    n_control: int | np.ndarray
    n_treatment: int | np.ndarray
    srm_statistic: float | np.ndarray
    srm_pvalue: float | np.ndarray
    weights: tuple[float, float]
    alpha: float

    def explain(self) -> str:
        """Plain-text derivation with the numbers plugged in (a summary for many runs)."""

        def f(value) -> str:
            return format_number(value, 4)

        if np.ndim(self.statistic) != 0:
            pvalues, srm = np.asarray(self.pvalue), np.asarray(self.srm_pvalue)
            runs = pvalues.size
            return "\n".join([
                f"{runs} A/A runs, alpha = {f(self.alpha)}",
                f"  metric: p-value < alpha in {int((pvalues < self.alpha).sum())} runs "
                f"({f(100 * np.mean(pvalues < self.alpha))}%; expected {f(100 * self.alpha)}%)",
                f"  sample ratio: p-value < alpha in {int((srm < self.alpha).sum())} runs "
                f"({f(100 * np.mean(srm < self.alpha))}%)",
                "  A calibrated pipeline gives uniform p-values: about alpha of the runs "
                "below alpha.",
            ])
        level = f"{format_number(100 * (1 - self.alpha), 4)}%"
        metric_verdict = (
            "imbalance at level alpha: see the Notes of aa_test before acting"
            if self.pvalue < self.alpha else "no evidence of imbalance"
        )
        srm_verdict = (
            "sample ratio mismatch: the assignment or logging is broken, investigate first"
            if self.srm_pvalue < self.alpha else "sample ratio as designed"
        )
        total = self.n_control + self.n_treatment
        return "\n".join([
            f"A/A test, alpha = {f(self.alpha)} (treatment minus control)",
            f"  sample ratio: {self.n_control} control, {self.n_treatment} treatment; "
            f"expected {f(total * self.weights[0])} / {f(total * self.weights[1])}; "
            f"X^2 = {f(self.srm_statistic)}, p-value = {f(self.srm_pvalue)}: {srm_verdict}",
            f"  metric means: control {f(self.mean_control)}, treatment {f(self.mean_treatment)}",
            f"  effect = {f(self.effect)}, Welch t = {f(self.statistic)} (df {f(self.df)}), "
            f"p-value = {f(self.pvalue)}: {metric_verdict}",
            f"  {level} CI for the effect: [{f(self.ci_low)}, {f(self.ci_high)}]",
        ])


def _check_two_weights(weights) -> tuple[float, float]:
    checked = _check_weights(weights)
    if len(checked) != 2:
        raise ValueError(f"weights must have exactly 2 variants for an A/A test, got {checked}")
    check_open_unit("weights", np.asarray(checked))
    return checked[0], checked[1]


#: Units x runs handled at once. The masks of a block take about 100 MB.
_BLOCK_CELLS = 2**22


def _unit_scale(values: np.ndarray) -> float:
    """A power of two s with every |value / s| < 2.

    Dividing by a power of two is exact, so the statistics computed on ``values / s`` are
    those of ``values`` scaled exactly; it keeps squares and sums of squares of huge (1e300)
    or tiny (1e-300) metrics away from overflow and underflow.
    """
    largest = float(np.max(np.abs(values)))
    return 1.0 if largest == 0 else float(np.ldexp(1.0, np.frexp(largest)[1] - 1))


def _arm_sums(centered: np.ndarray, rows: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    """Per row of variants: (count, sum, sum of squares) of ``centered`` in arm 0 and arm 1."""
    masks = [(rows == arm).astype(float) for arm in (0, 1)]
    return [(mask.sum(axis=1), mask @ centered, mask @ centered**2) for mask in masks]


def _in_units(values: np.ndarray, scale: float, **fields: np.ndarray) -> list[np.ndarray]:
    """Scale the location fields back to the metric's units, refusing an overflow."""
    with np.errstate(over="ignore"):  # an overflow is refused below, with the reason
        scaled = [value * scale for value in fields.values()]
    for name, value in zip(fields, scaled):
        if not np.isfinite(value).all():
            raise ValueError(
                f"values are too large for floating point: the {name} overflows (largest "
                f"|value| is {np.max(np.abs(values)):.4g}); express the metric in larger units"
            )
    return scaled


def _aa_statistics(values: np.ndarray, blocks, lead: tuple, weights, alpha: float, name: str):
    """Welch's t-test and the sample-ratio test for every row of the variant ``blocks``
    (arrays of shape (rows, n) holding 0, 1 or -1); ``lead`` is the shape of the rows."""
    scale = _unit_scale(values)
    unit = values / scale
    level = unit.mean()
    centered = unit - level
    per_block = [_arm_sums(centered, rows) for rows in blocks]
    counts, sums, squares = (
        [np.concatenate([block[arm][k] for block in per_block]) for arm in (0, 1)]
        for k in range(3)
    )
    if min(c.min() for c in counts) < 2:
        raise ValueError(f"{name} must give each arm at least 2 units in every split")
    means = [s / c for s, c in zip(sums, counts)]
    variances = [
        np.maximum(q - s * m, 0.0) / (c - 1) for q, s, m, c in zip(squares, sums, means, counts)
    ]
    shares = [v / c for v, c in zip(variances, counts)]
    se = np.sqrt(shares[0] + shares[1])
    effect = means[1] - means[0]
    flat = se == 0
    safe_se = np.where(flat, 1.0, se)
    limit = np.where(effect == 0, 0.0, np.copysign(np.inf, effect))
    statistic = np.where(flat, limit, effect / safe_se)
    welch_df = (shares[0] + shares[1]) ** 2 / np.where(
        flat, 1.0, shares[0] ** 2 / (counts[0] - 1) + shares[1] ** 2 / (counts[1] - 1)
    )
    df = np.where(flat, counts[0] + counts[1] - 2, welch_df)
    pvalue = np.where(flat & (effect == 0), 1.0, 2 * stats.t.sf(np.abs(statistic), df))
    half = stats.t.isf(alpha / 2, df) * se
    total = counts[0] + counts[1]
    expected = [total * weights[0], total * weights[1]]
    srm = sum((count - e) ** 2 / e for count, e in zip(counts, expected))
    effect_out, low, high, mean_control, mean_treatment = _in_units(
        values, scale, effect=effect, ci_low=effect - half, ci_high=effect + half,
        mean_control=means[0] + level, mean_treatment=means[1] + level,
    )

    def shaped(array, kind=float):
        return kind(array[0]) if not lead else array.reshape(lead)

    return AATest(
        statistic=shaped(statistic),
        pvalue=shaped(pvalue),
        df=shaped(df),
        effect=shaped(effect_out),
        ci_low=shaped(low),
        ci_high=shaped(high),
        mean_control=shaped(mean_control),
        mean_treatment=shaped(mean_treatment),
        n_control=shaped(counts[0].astype(np.int64), int),
        n_treatment=shaped(counts[1].astype(np.int64), int),
        srm_statistic=shaped(srm),
        srm_pvalue=shaped(stats.chi2.sf(srm, 1)),
        weights=tuple(weights),
        alpha=alpha,
    )


def _block_sizes(n_rows: int, n_units: int) -> list[int]:
    """Rows per block so that a block holds at most ``_BLOCK_CELLS`` cells (one row at least)."""
    step = max(1, _BLOCK_CELLS // n_units)
    return [min(step, n_rows - start) for start in range(0, n_rows, step)]


def aa_test(values, variants, *, weights=(0.5, 0.5), alpha: float = 0.05) -> AATest:
    """Check one A/A split: is the metric balanced, and is the sample ratio as designed?

    An A/A test runs the whole pipeline (assignment, logging, analysis) with two identical
    arms. Two checks: Welch's t-test of the metric, treatment minus control,
    :math:`t = (\\bar y_1 - \\bar y_0) / \\sqrt{s_1^2/n_1 + s_0^2/n_0}` on Welch-Satterthwaite
    degrees of freedom, and the sample-ratio test, Pearson's
    :math:`X^2 = \\sum_{arm} (n_{arm} - n w_{arm})^2 / (n w_{arm})` on 1 degree of freedom.
    A metric that is constant in both arms gives t = 0 and p = 1 (never NaN).

    Parameters
    ----------
    values : array-like of float, shape (n,)
        The metric of every unit, e.g. a pre-period metric (before any treatment).
    variants : array-like of int, shape (n,) or (runs, n)
        0 = control, 1 = treatment, -1 = not enrolled (ignored). Each row is one A/A split.
    weights : (float, float)
        Design weights of control and treatment.
    alpha : float
        Significance level; the interval has confidence 1 - alpha.

    Returns
    -------
    AATest

    Notes
    -----
    What to do when an A/A shows imbalance:

    1. Check the sample ratio first. A sample ratio mismatch means units are lost or
       duplicated unequally (bot filtering, redirects, crashes, caching, a missing hash
       attribute); no metric from such a split can be trusted. Find the cause, fix it and
       start again (Kohavi, Tang & Xu, 2020, ch. 21).
    2. One significant A/A is expected: at alpha = 0.05 one split in twenty shows
       "imbalance" by chance. Judge the pipeline by many A/As (:func:`simulate_aa`, or
       many salts on historical data): their p-values should be uniform. Too many small
       p-values point to a wrong variance estimate (e.g. a per-page-view metric analyzed as
       if page views were independent, when the unit of randomization is the user) or to
       a skewed metric with too few units for the t-test.
    3. Do not re-run the A/A until it passes or move units between arms by hand: both
       invalidate the error rates. If a pre-period metric is imbalanced under this salt,
       pick a new salt (re-randomize) before the experiment starts; platforms automate
       this by checking many salts on pre-period data and keeping a balanced one
       (Kohavi et al., 2012), a form of rerandomization (Morgan & Rubin, 2012). Imbalance
       left after randomization is handled by covariate adjustment (CUPED).
    4. A split that repeats an earlier experiment's salt inherits its carry-over effects:
       use a fresh key for every experiment.

    References
    ----------
    Kohavi, R., Tang, D. & Xu, Y. (2020), *Trustworthy Online Controlled Experiments*,
    ch. 19 (The A/A Test) and ch. 21 (Sample Ratio Mismatch).
    Kohavi, R., Deng, A., Frasca, B., Longbotham, R., Walker, T. & Xu, Y. (2012),
    Trustworthy online controlled experiments: five puzzling outcomes explained, KDD.
    Morgan, K. L. & Rubin, D. B. (2012), Rerandomization to improve covariate balance in
    experiments, *Annals of Statistics* 40(2), 1263-1282.
    Welch, B. L. (1947), The generalization of "Student's" problem when several different
    population variances are involved, *Biometrika* 34, 28-35.
    """
    weights = _check_two_weights(weights)
    alpha = check_alpha(alpha)
    metric = as_float_array("values", values)
    if metric.ndim != 1:
        raise ValueError(
            f"values must be a 1-D array with one value per unit, got shape {metric.shape}"
        )
    arms = _check_variants("variants", variants)
    if arms.shape[-1] != metric.size:
        raise ValueError(
            f"variants must have one entry per value: values has {metric.size} units, "
            f"variants has shape {arms.shape}"
        )
    if arms.max() > 1:
        raise ValueError(f"variants must be 0, 1 or -1 for an A/A test, got {int(arms.max())}")
    rows = arms.reshape(-1, metric.size)
    bounds = np.cumsum([0, *_block_sizes(rows.shape[0], metric.size)])
    blocks = (rows[a:b] for a, b in zip(bounds[:-1], bounds[1:]))
    return _aa_statistics(metric, blocks, arms.shape[:-1], weights, alpha, "variants")


def simulate_aa(values, *, n_runs: int, weights=(0.5, 0.5), alpha: float = 0.05, rng) -> AATest:
    """Re-randomize the same units ``n_runs`` times and run :func:`aa_test` on every split.

    Each unit goes to treatment with probability ``weights[1]`` independently (the model
    of hash-based assignment). Over the runs the p-values of a calibrated analysis are
    uniform, so a fraction alpha is below alpha; a skewed metric or a wrong unit of
    analysis shows up as a departure from that. The splits are drawn and analyzed in blocks
    of about 4 million units x runs (about 100 MB); ``n_runs * n`` may be at most 2**28.

    Parameters
    ----------
    values : array-like of float, shape (n,)
        The metric of every unit.
    n_runs : int
        Number of A/A splits.
    weights, alpha
        As for :func:`aa_test`.
    rng : numpy.random.Generator or int
        Source of randomness.

    Returns
    -------
    AATest
        Every numeric field is an array of length ``n_runs``.
    """
    weights = _check_two_weights(weights)
    alpha = check_alpha(alpha)
    n_runs = check_int("n_runs", n_runs, minimum=1)
    generator = as_generator(rng)
    metric = as_float_array("values", values)
    if metric.ndim != 1 or metric.size < 4:
        raise ValueError(
            f"values must be a 1-D array of at least 4 units, got shape {metric.shape}"
        )
    check_work("n_runs * len(values)", n_runs * metric.size)
    blocks = (
        (generator.random((size, metric.size)) < weights[1]).astype(np.int8)
        for size in _block_sizes(n_runs, metric.size)
    )
    return _aa_statistics(metric, blocks, (n_runs,), weights, alpha,
                          f"values (too few units for n_runs = {n_runs:,} random splits)")
