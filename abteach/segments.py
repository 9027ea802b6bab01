r"""Segment effects: per-segment tests with multiple-testing care, heterogeneity, shrinkage.

The average treatment effect can hide segments that react differently (a change that helps
on desktop and hurts on mobile). Slicing an experiment by segment raises three questions:

1. **Is any single segment's effect real?** Each segment gets its own estimate
   :math:`\hat\Delta_i` with standard error :math:`s_i`, confidence interval and p-value; with
   k segments the family of k tests needs a correction (Holm for the family-wise error rate,
   Benjamini-Hochberg for the false discovery rate, :func:`abteach.multiple.adjust_pvalues`).
2. **Do the segments differ at all?** Cochran's Q tests the null hypothesis that all k
   segments share one effect:

   .. math:: Q = \sum_i w_i (\hat\Delta_i - \bar\Delta_w)^2, \quad w_i = 1 / s_i^2, \quad
             \bar\Delta_w = \sum_i w_i \hat\Delta_i / \sum_i w_i,

   which is chi-square with k - 1 degrees of freedom under that null (Cochran 1954). A large
   segment difference with a non-significant Q is usually noise.
3. **What is the best estimate of each segment's effect?** The raw :math:`\hat\Delta_i` of
   small segments are noisy, so the largest raw effects are too large on average (the winner's
   curse). Empirical-Bayes shrinkage (:func:`shrink_effects`) pulls each estimate toward the
   overall mean by an amount that grows with its standard error.

References
----------
Cochran, W. G. (1954), The combination of estimates from different experiments,
*Biometrics* 10, 101-129.
DerSimonian, R. & Laird, N. (1986), Meta-analysis in clinical trials, *Controlled Clinical
Trials* 7, 177-188.
Efron, B. & Morris, C. (1975), Data analysis using Stein's estimator and its generalizations,
*JASA* 70, 311-319.
Kohavi, Tang & Xu (2020), *Trustworthy Online Controlled Experiments*, ch. 3 and 17
(segments, heterogeneous effects).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from abteach._records import Record, brief
from abteach._validate import (
    as_float_array,
    broadcast,
    check_alpha,
    check_choice,
    check_positive,
    first_bad,
    scalar_or_array,
)
from abteach.inference import welch_ttest_from_stats, ztest_proportions
from abteach.multiple import METHODS, adjust_pvalues


@dataclass(frozen=True, repr=False, eq=False)
class Heterogeneity(Record):
    """Result of :func:`heterogeneity_test` (Cochran's Q).

    Fields are floats for one family of estimates and arrays for several (the last axis of
    the input being the segments).
    """

    statistic: float | np.ndarray
    df: int
    pvalue: float | np.ndarray
    pooled_effect: float | np.ndarray
    pooled_se: float | np.ndarray
    i_squared: float | np.ndarray

    def explain(self) -> str:
        """Plain-text derivation with the numbers plugged in."""
        if np.ndim(self.statistic) != 0:
            share = float(np.mean(np.asarray(self.pvalue) <= 0.05))
            return (
                f"Cochran's Q test on {np.size(self.statistic)} families of {self.df + 1} "
                f"segments: share with p <= 0.05 = {brief(share)}"
            )
        return "\n".join([
            "Cochran's Q test; H0: every segment has the same true effect",
            f"  fixed-effect mean = sum(w_i d_i) / sum(w_i) with w_i = 1 / se_i^2 "
            f"= {brief(self.pooled_effect)} (SE {brief(self.pooled_se)})",
            f"  Q = sum w_i (d_i - mean)^2 = {brief(self.statistic)} on df = k - 1 = {self.df}",
            f"  p-value = P(chi2_{self.df} >= Q) = {brief(self.pvalue)}",
            f"  I^2 = max(0, (Q - df) / Q) = {brief(self.i_squared)} "
            "(share of the spread that is not sampling noise)",
        ])


#: Magnitude limits that keep every intermediate sum finite in double precision.
MAX_EFFECT, SE_RANGE, MAX_SE_RATIO = 1e50, (1e-50, 1e50), 1e6


def _estimates(effects, standard_errors) -> tuple[np.ndarray, np.ndarray]:
    """Check and broadcast effects and standard errors; at least two segments on the last axis.

    Effects must be at most 1e50 in absolute value and standard errors in [1e-50, 1e50],
    within a factor 1e6 of each other in a family: far beyond any real experiment, and
    enough to keep the weights 1 / se^2 and Q finite.
    """
    effect = as_float_array("effects", effects)
    se = check_positive("standard_errors", standard_errors)
    effect, se = broadcast(effects=effect, standard_errors=se)
    if effect.ndim == 0 or effect.shape[-1] < 2:
        raise ValueError(
            f"effects must hold at least 2 segments on the last axis, got shape {effect.shape}"
        )
    bad = np.abs(effect) > MAX_EFFECT
    if bad.any():
        raise ValueError(f"effects must be at most {MAX_EFFECT:g} in absolute value, "
                         f"got {first_bad(effect, bad)}")
    bad = (se < SE_RANGE[0]) | (se > SE_RANGE[1])
    if bad.any():
        raise ValueError(f"standard_errors must be in [{SE_RANGE[0]:g}, {SE_RANGE[1]:g}], "
                         f"got {first_bad(se, bad)}")
    ratio = se.max(axis=-1) / se.min(axis=-1)
    if np.any(ratio > MAX_SE_RATIO):
        raise ValueError(f"standard_errors of one family must be within a factor "
                         f"{MAX_SE_RATIO:g} of each other, got a ratio of {np.max(ratio):g}")
    return effect, se


def _fixed_effect(effect: np.ndarray, weight: np.ndarray):
    """Inverse-variance weighted mean, its SE and Cochran's Q along the last axis."""
    total = weight.sum(axis=-1)
    mean = (weight * effect).sum(axis=-1) / total
    q = (weight * (effect - mean[..., None]) ** 2).sum(axis=-1)
    return mean, 1 / np.sqrt(total), q


def heterogeneity_test(effects, standard_errors) -> Heterogeneity:
    r"""Cochran's Q test that k segment effects share one true value.

    With :math:`w_i = 1/s_i^2`, :math:`Q = \sum_i w_i (\hat\Delta_i - \bar\Delta_w)^2` and the
    p-value is :math:`P(\chi^2_{k-1} \ge Q)`; :math:`I^2 = \max(0, (Q - (k-1)) / Q)` is the
    share of the spread of the estimates beyond sampling noise (Higgins & Thompson 2002).

    Parameters
    ----------
    effects, standard_errors : array of float, last axis = segments (at least 2)
        Per-segment estimates (treatment minus control) and their standard errors (> 0).

    References
    ----------
    Cochran (1954); Higgins, J. P. T. & Thompson, S. G. (2002), Quantifying heterogeneity in a
    meta-analysis, *Statistics in Medicine* 21, 1539-1558.

    Examples
    --------
    >>> round(heterogeneity_test([0.0, 2.0], [1.0, 1.0]).statistic, 6)
    2.0
    """
    effect, se = _estimates(effects, standard_errors)
    mean, mean_se, q = _fixed_effect(effect, 1 / se**2)
    df = effect.shape[-1] - 1
    i2 = np.where(q > df, (q - df) / np.where(q > 0, q, 1.0), 0.0)
    return Heterogeneity(
        statistic=scalar_or_array(q),
        df=df,
        pvalue=scalar_or_array(stats.chi2.sf(q, df)),
        pooled_effect=scalar_or_array(mean),
        pooled_se=scalar_or_array(mean_se),
        i_squared=scalar_or_array(i2),
    )


@dataclass(frozen=True, repr=False, eq=False)
class Shrinkage(Record):
    """Result of :func:`shrink_effects`: raw and shrunken segment effects.

    ``factor`` is :math:`B_i = s_i^2 / (s_i^2 + \\tau^2)`, the share of the way each raw
    estimate moves toward ``mean`` (1 = all the way, 0 = not at all).
    """

    raw: np.ndarray
    standard_errors: np.ndarray
    shrunken: np.ndarray
    posterior_se: np.ndarray
    factor: np.ndarray
    tau2: float | np.ndarray
    mean: float | np.ndarray
    mean_se: float | np.ndarray
    q_statistic: float | np.ndarray

    def explain(self) -> str:
        """Plain-text derivation with the numbers plugged in (first family for 2-D input)."""
        raw, se, shrunk, factor = (np.asarray(a).reshape(-1, self.raw.shape[-1])[0] for a in (
            self.raw, self.standard_errors, self.shrunken, self.factor))
        tau2, mean, q = (np.ravel(v)[0] for v in (self.tau2, self.mean, self.q_statistic))
        k = raw.size
        lines = [
            "Empirical-Bayes shrinkage (normal-normal model, DerSimonian-Laird tau^2)",
            f"  Q = {brief(q)} on {k - 1} df; tau^2 = max(0, (Q - (k - 1)) / "
            f"(sum w - sum w^2 / sum w)) = {brief(tau2)}",
            f"  random-effects mean = sum(d_i / (se_i^2 + tau^2)) / sum(1 / (se_i^2 + tau^2))"
            f" = {brief(mean)}",
            "  shrunken_i = mean + (1 - B_i) (d_i - mean), B_i = se_i^2 / (se_i^2 + tau^2):",
        ]
        lines += [
            f"    segment {i}: raw {brief(r)} (SE {brief(s)}), B = {brief(b)}, "
            f"shrunken {brief(t)}"
            for i, (r, s, b, t) in enumerate(zip(raw, se, factor, shrunk, strict=True))
        ]
        return "\n".join(lines)


def shrink_effects(effects, standard_errors) -> Shrinkage:
    r"""Empirical-Bayes (James-Stein type) shrinkage of segment effects toward their mean.

    Model: the true segment effects are drawn from :math:`N(\mu, \tau^2)` and each estimate is
    :math:`\hat\Delta_i \sim N(\Delta_i, s_i^2)` with known :math:`s_i`. The between-segment
    variance is the DerSimonian-Laird moment estimate

    .. math:: \hat\tau^2 = \max\Big(0, \frac{Q - (k - 1)}{\sum w_i - \sum w_i^2 / \sum w_i}\Big),
              \quad w_i = 1 / s_i^2,

    the mean is :math:`\hat\mu = \sum v_i \hat\Delta_i / \sum v_i` with
    :math:`v_i = 1 / (s_i^2 + \hat\tau^2)` (standard error :math:`1/\sqrt{\sum v_i}`), and the
    posterior mean of each effect given :math:`\hat\mu, \hat\tau^2` is

    .. math:: \tilde\Delta_i = \hat\mu + (1 - B_i)(\hat\Delta_i - \hat\mu), \qquad
              B_i = s_i^2 / (s_i^2 + \hat\tau^2),

    with posterior standard deviation :math:`\sqrt{(1 - B_i)} s_i` (ignoring the uncertainty in
    :math:`\hat\mu` and :math:`\hat\tau^2`, hence a little optimistic for few segments). Noisy
    segments (large :math:`s_i`) move most; when :math:`\hat\tau^2 = 0` every estimate becomes
    :math:`\hat\mu`. With equal :math:`s_i` this is the positive-part James-Stein estimator
    up to the constant in :math:`\hat\tau^2` (Efron & Morris 1975).

    Parameters
    ----------
    effects, standard_errors : array of float, last axis = segments (at least 2)
        Raw per-segment estimates and their standard errors (> 0). A 2-D input shrinks each
        row (one family of segments per row) separately.

    Returns
    -------
    Shrinkage
        ``tau2``, ``mean``, ``mean_se`` and ``q_statistic`` equal metafor's
        ``rma(yi, vi, method = "DL")`` (``tau2``, ``b``, ``se``, ``QE``) and statsmodels'
        ``combine_effects(..., method_re="dl")``.

    References
    ----------
    DerSimonian & Laird (1986); Efron & Morris (1975); Efron, B. (2010), *Large-Scale
    Inference*, ch. 1 (James-Stein and empirical Bayes).

    Examples
    --------
    >>> s = shrink_effects([0.0, 2.0], [1.0, 1.0])
    >>> round(float(s.tau2), 6), [round(float(v), 6) for v in s.shrunken]
    (1.0, [0.5, 1.5])
    """
    effect, se = _estimates(effects, standard_errors)
    weight = 1 / se**2
    _, _, q = _fixed_effect(effect, weight)
    total = weight.sum(axis=-1)
    scale = total - (weight**2).sum(axis=-1) / total
    tau2 = np.maximum(0.0, (q - (effect.shape[-1] - 1)) / scale)
    re_weight = 1 / (se**2 + tau2[..., None])
    mean, mean_se, _ = _fixed_effect(effect, re_weight)
    factor = se**2 * re_weight
    kept = tau2[..., None] * re_weight  # 1 - factor, without cancellation
    shrunk = mean[..., None] + kept * (effect - mean[..., None])
    return Shrinkage(
        raw=effect,
        standard_errors=se,
        shrunken=shrunk,
        posterior_se=np.sqrt(kept) * se,
        factor=factor,
        tau2=scalar_or_array(tau2),
        mean=scalar_or_array(mean),
        mean_se=scalar_or_array(mean_se),
        q_statistic=scalar_or_array(q),
    )


@dataclass(frozen=True, repr=False, eq=False)
class SegmentEffects(Record):
    """Result of :func:`segment_effects_proportions` and :func:`segment_effects_means`.

    One entry per segment in each array field; ``pvalue_adjusted`` is adjusted across the
    segments by ``method``; ``heterogeneity`` is Cochran's Q across the segments.
    ``to_frame()`` gives the table (index = segment, columns effect, se, ci_low, ci_high,
    pvalue, pvalue_adjusted, lift), the shape :func:`abteach.viz.forest_plot` accepts.
    """

    segments: tuple
    effect: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    pvalue: np.ndarray
    pvalue_adjusted: np.ndarray
    lift: np.ndarray
    method: str
    alpha: float
    heterogeneity: Heterogeneity

    def to_frame(self):
        """The per-segment table as a pandas DataFrame indexed by segment."""
        import pandas as pd

        return pd.DataFrame(
            {
                "effect": self.effect,
                "se": self.se,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
                "pvalue": self.pvalue,
                "pvalue_adjusted": self.pvalue_adjusted,
                "lift": self.lift,
            },
            index=pd.Index(self.segments, name="segment"),
        )

    def explain(self) -> str:
        """Plain-text summary: each segment's test, the correction and the heterogeneity test."""
        level = f"{brief(100 * (1 - self.alpha))}%"
        lines = [f"Per-segment effects (treatment - control), {level} CIs, {self.method} "
                 f"adjustment over {len(self.segments)} segments:"]
        rows = zip(self.segments, self.effect, self.ci_low, self.ci_high, self.pvalue,
                   self.pvalue_adjusted, strict=True)
        for name, d, lo, hi, p, pa in rows:
            verdict = "significant" if pa <= self.alpha else "not significant"
            lines.append(f"  {name}: {brief(d)} [{brief(lo)}, {brief(hi)}], p = {brief(p)}, "
                         f"adjusted p = {brief(pa)} ({verdict})")
        h = self.heterogeneity
        lines.append(f"  Cochran's Q = {brief(h.statistic)} on {h.df} df, p = {brief(h.pvalue)}: "
                     + ("the segments differ" if h.pvalue <= self.alpha
                        else "no evidence that the segments differ"))
        return "\n".join(lines)


def _segment_names(segments, k: int) -> tuple:
    names = tuple(str(s) for s in np.atleast_1d(np.asarray(segments, dtype=object)))
    if len(names) != k:
        raise ValueError(f"segments must name each of the {k} segments, got {len(names)} names")
    if len(set(names)) != k:
        raise ValueError(f"segments must be distinct, got {names!r}")
    return names


def _segment_record(segments, result, se, method: str, alpha: float,
                    sources: dict[str, str]) -> SegmentEffects:
    """Assemble the table from a vectorised two-sample test result and the effects' SEs.

    ``sources`` maps "effects" and "standard_errors" (the arguments of
    :func:`heterogeneity_test`) to the user's arguments they are computed from, so that a
    refusal by the heterogeneity test names the arguments the user actually passed.
    """
    effect = np.atleast_1d(np.asarray(result.effect, dtype=float))
    if effect.ndim != 1 or effect.size < 2:
        raise ValueError(
            f"segment statistics must be 1-D with at least 2 segments, got shape {effect.shape}"
        )
    se = np.atleast_1d(np.asarray(se, dtype=float))
    pvalue = np.atleast_1d(np.asarray(result.pvalue, dtype=float))
    return SegmentEffects(
        segments=_segment_names(segments, effect.size),
        effect=effect,
        se=se,
        ci_low=np.atleast_1d(np.asarray(result.ci_low, dtype=float)),
        ci_high=np.atleast_1d(np.asarray(result.ci_high, dtype=float)),
        pvalue=pvalue,
        pvalue_adjusted=adjust_pvalues(pvalue, method),
        lift=np.atleast_1d(np.asarray(result.lift, dtype=float)),
        method=method,
        alpha=alpha,
        heterogeneity=_heterogeneity(effect, se, sources),
    )


def _heterogeneity(effect: np.ndarray, se: np.ndarray, sources: dict[str, str]) -> Heterogeneity:
    """:func:`heterogeneity_test`, its errors naming the arguments the values come from."""
    try:
        return heterogeneity_test(effect, se)
    except ValueError as exc:
        message = str(exc)
        for inner, outer in sources.items():
            if message.startswith(inner):
                raise ValueError(
                    f"the per-segment {inner.replace('_', ' ')} (computed from {outer})"
                    f"{message[len(inner):]}"
                ) from None
        raise


def segment_effects_proportions(
    segments, x_control, n_control, x_treatment, n_treatment, *,
    method: str = "holm", alpha: float = 0.05,
) -> SegmentEffects:
    r"""Per-segment conversion-rate effects, adjusted p-values and Cochran's Q.

    In segment i, :math:`\hat\Delta_i = x_{t,i}/n_{t,i} - x_{c,i}/n_{c,i}` with the unpooled
    standard error :math:`s_i = \sqrt{\hat p_c(1-\hat p_c)/n_c + \hat p_t(1-\hat p_t)/n_t}`,
    a two-sided Wald z-test and interval (:func:`abteach.inference.ztest_proportions` with
    ``pooled=False``, so that test, interval and heterogeneity test use the same
    :math:`s_i`). The k p-values are adjusted by ``method`` (:func:`abteach.multiple.adjust_pvalues`)
    and Cochran's Q (:func:`heterogeneity_test`) asks whether the segments differ.

    Parameters
    ----------
    segments : sequence of str
        Segment names, one per entry of the count arrays (at least 2).
    x_control, n_control, x_treatment, n_treatment : array of int
        Conversions and users per segment and arm.
    method : {"bonferroni", "holm", "hochberg", "bh", "by"}
        Multiple-testing adjustment across the segments.
    alpha : float
        Level of the intervals and of the "significant" verdicts.

    References
    ----------
    Kohavi, Tang & Xu (2020), ch. 3; Holm (1979); Cochran (1954).
    """
    method = check_choice("method", method, METHODS)
    alpha = check_alpha(alpha)
    result = ztest_proportions(x_control, n_control, x_treatment, n_treatment,
                               pooled=False, alpha=alpha)
    p_c, p_t = np.asarray(result.p_control), np.asarray(result.p_treatment)
    se = np.sqrt(p_c * (1 - p_c) / np.asarray(result.n_control)
                 + p_t * (1 - p_t) / np.asarray(result.n_treatment))
    if np.any(se == 0):
        raise ValueError("every segment needs variation in at least one arm "
                         "(some segment has a rate of 0 or 1 in both arms)")
    return _segment_record(segments, result, se, method, alpha, {
        "effects": "x_control, n_control, x_treatment and n_treatment",
        "standard_errors": "x_control, n_control, x_treatment and n_treatment",
    })


def segment_effects_means(
    segments, mean_control, sd_control, n_control, mean_treatment, sd_treatment, n_treatment,
    *, method: str = "holm", alpha: float = 0.05,
) -> SegmentEffects:
    r"""Per-segment differences in means (Welch), adjusted p-values and Cochran's Q.

    In segment i, :math:`\hat\Delta_i = \bar y_{t,i} - \bar y_{c,i}` with
    :math:`s_i = \sqrt{s_{t,i}^2/n_{t,i} + s_{c,i}^2/n_{c,i}}` and Welch's t-test and
    interval (:func:`abteach.inference.welch_ttest_from_stats`); the p-values are adjusted by
    ``method`` and Cochran's Q uses the same :math:`s_i`.

    Parameters are as in :func:`segment_effects_proportions`, with per-segment means,
    standard deviations and sizes of each arm.
    """
    method = check_choice("method", method, METHODS)
    alpha = check_alpha(alpha)
    result = welch_ttest_from_stats(mean_control, sd_control, n_control,
                                    mean_treatment, sd_treatment, n_treatment, alpha=alpha)
    return _segment_record(segments, result, result.se, method, alpha, {
        "effects": "mean_control and mean_treatment",
        "standard_errors": "sd_control, n_control, sd_treatment and n_treatment",
    })
