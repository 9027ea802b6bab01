"""The numbers printed by the "On real data" paragraphs of chapters 5, 6, 7 and 12 and by the
new passages of chapters 3 and 5, recomputed here independently of the abteach function the
chapter calls (scipy, plain numpy formulas, brute force).

Sources: the Hillstrom (MineThatData, 2008) customer file as shipped by ``abt.hillstrom()``;
Yasui (2020, ch. 1) for the published pooled t statistic 5.300090; Efron & Tibshirani (1993,
ch. 14) for the jackknife acceleration; Morgan & Rubin (2012) for rerandomization.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from scipy import stats

import abteach as abt


@cache
def arms():
    hill = abt.hillstrom()
    names = ("No E-Mail", "Mens E-Mail", "Womens E-Mail")
    return {arm: hill[hill["segment"] == arm] for arm in names}


# --- chapter 5: the t-test from the raw rows and the 355 gamma^2 verdict ----------------------


def test_ch05_hillstrom_t_and_skewness():
    none, mens = arms()["No E-Mail"]["spend"].to_numpy(), arms()["Mens E-Mail"]["spend"].to_numpy()
    # pooled two-sample t from its definition; published 5.300090 (Yasui 2020, ch. 1)
    n1, n2 = mens.size, none.size
    sp2 = ((n1 - 1) * mens.var(ddof=1) + (n2 - 1) * none.var(ddof=1)) / (n1 + n2 - 2)
    t = (mens.mean() - none.mean()) / np.sqrt(sp2 * (1 / n1 + 1 / n2))
    assert f"{t:.6f}" == "5.300090"
    # skewness as the third standardized moment (population form, as scipy.stats.skew)
    centered = none - none.mean()
    gamma = np.mean(centered**3) / np.mean(centered**2) ** 1.5
    assert f"{gamma:.1f}" == "26.4"
    assert f"{355 * gamma**2:,.0f}" == "246,779"
    assert abt.min_sample_size_for_normality(gamma) == pytest.approx(355 * gamma**2)
    assert 355 * gamma**2 / none.size > 10  # "more than ten times too few"


def test_ch05_jackknife_acceleration_by_brute_force():
    """The BCa acceleration from an explicit leave-one-out loop (Efron & Tibshirani 1993,
    eq. 14.15, two samples in turn) equals abteach's and the chapter's closed form."""
    rng = np.random.default_rng(5)
    control = rng.lognormal(0.0, 1.0, 60) * (rng.random(60) < 0.3)
    treatment = rng.lognormal(0.2, 1.0, 25) * (rng.random(25) < 0.3)
    pieces = []
    for which, sample in enumerate((control, treatment)):
        loo = []
        for i in range(sample.size):
            kept = np.delete(sample, i)
            c, t = (kept, treatment) if which == 0 else (control, kept)
            loo.append(t.mean() - c.mean())
        loo = np.array(loo)
        pieces.append(((sample.size - 1) * (loo.mean() - loo), sample.size))
    third = sum((u**3).sum() / n**3 for u, n in pieces)
    second = sum((u**2).sum() / n**2 for u, n in pieces)
    a = third / (6 * second**1.5)
    boot = abt.bootstrap_ci(control, treatment, method="bca", n_resamples=200, rng=1)
    assert boot.acceleration == pytest.approx(a, rel=1e-10)


def test_ch05_bca_width_ratio_is_not_nearly_the_same():
    """Section 5.5: for a right-skewed difference of means (few buyers in a small arm) the
    acceleration is positive and BCa reaches further into the long right tail than the
    percentile interval, so it is clearly wider, not "nearly the same width"."""
    rng = np.random.default_rng(55)
    control = rng.lognormal(3.0, 1.0, 2_000) * (rng.random(2_000) < 0.04)
    treatment = rng.lognormal(3.0, 1.0, 250) * (rng.random(250) < 0.06)
    bca = abt.bootstrap_ci(control, treatment, method="bca", n_resamples=4_000, rng=2)
    pct = abt.bootstrap_ci(control, treatment, method="percentile", n_resamples=4_000, rng=2)
    assert bca.acceleration > 0
    assert (bca.ci_high - bca.ci_low) > 1.05 * (pct.ci_high - pct.ci_low)


# --- chapter 6: the three-arm SRM check ---------------------------------------------------------


def test_ch06_three_arm_srm_pvalue():
    counts = np.array([len(arms()[a]) for a in ("No E-Mail", "Mens E-Mail", "Womens E-Mail")])
    assert counts.tolist() == [21_306, 21_307, 21_387]  # published (Hillstrom 2008)
    chi2 = stats.chisquare(counts)
    assert f"{chi2.statistic:.4f}" == "0.2025"
    assert f"{chi2.pvalue:.4f}" == "0.9037"
    assert abt.srm_test(counts).pvalue == pytest.approx(chi2.pvalue, rel=1e-12)


# --- chapter 7: CUPED with the purchase history -------------------------------------------------


def test_ch07_cuped_variance_reduction():
    """rho is the correlation of spend and history over both arms pooled (theta is estimated
    on the pooled data); the variance factor of CUPED is then about 1 - rho^2 (Deng et al.
    2013)."""
    none, mens = arms()["No E-Mail"], arms()["Mens E-Mail"]
    y = np.r_[none["spend"], mens["spend"]]
    x = np.r_[none["history"], mens["history"]]
    y_c, x_c = y - y.mean(), x - x.mean()
    rho = (y_c @ x_c) / np.sqrt((y_c @ y_c) * (x_c @ x_c))
    assert f"{rho:.4f}" == "0.0209"
    assert f"{rho**2:.4%}" == "0.0438%"
    res = abt.cuped_test(none["spend"].to_numpy(), none["history"].to_numpy(),
                         mens["spend"].to_numpy(), mens["history"].to_numpy())
    assert 1 - res.variance_factor == pytest.approx(rho**2, rel=2e-3)
    assert f"{1 - res.variance_factor:.4%}" == "0.0438%"
    assert f"{res.n_equivalent - len(y):,.0f}" == f"{len(y) / (1 - rho**2) - len(y):,.0f}"


# --- chapter 12: segment effects by channel -----------------------------------------------------


def test_ch12_channel_heterogeneity():
    """Cochran's Q of the per-channel conversion effects, from the unpooled SEs by hand."""
    pair = {a: arms()[a] for a in ("No E-Mail", "Mens E-Mail")}
    effects, variances = [], []
    for channel in ("Phone", "Web", "Multichannel"):
        rates = []
        for arm in ("No E-Mail", "Mens E-Mail"):
            conv = pair[arm].loc[pair[arm]["channel"] == channel, "conversion"]
            rates.append((conv.mean(), len(conv)))
        (p_c, n_c), (p_t, n_t) = rates
        effects.append(p_t - p_c)
        variances.append(p_c * (1 - p_c) / n_c + p_t * (1 - p_t) / n_t)
    effects, w = np.array(effects), 1 / np.array(variances)
    q = np.sum(w * (effects - np.sum(w * effects) / w.sum()) ** 2)
    assert f"{q:.2f}" == "2.32"
    assert f"{stats.chi2.sf(q, 2):.4f}" == "0.3131"
    assert f"{effects[2]:+.4%}" == "+1.0167%"
    # "the multichannel winner is the smallest segment, with the noisiest estimate"
    sizes = [len(pair["No E-Mail"][pair["No E-Mail"]["channel"] == c]) for c in ("Phone", "Web",
                                                                              "Multichannel")]
    assert sizes[2] == min(sizes) and variances[2] == max(variances)


# --- chapter 3: choosing a balanced salt is rerandomization -------------------------------------


def test_ch03_rerandomization_plain_test_is_conservative():
    """Morgan & Rubin (2012): keeping the best-balanced of 20 random splits makes the plain
    t-test conservative; adjusting for the balanced covariate restores the level. Welch's test
    from scipy, on a population and splits drawn here."""
    rng = np.random.default_rng(2012)
    n, experiments, salts = 400, 2_000, 20
    x = rng.normal(0.0, 1.0, n)
    y = x + rng.normal(0.0, 0.75, n)
    splits = rng.random((experiments, salts, n)) < 0.5
    gap = np.abs((splits @ x) / splits.sum(axis=2) - (~splits @ x) / (~splits).sum(axis=2))
    best = splits[np.arange(experiments), gap.argmin(axis=1)]
    adjusted = y - np.polyfit(x, y, 1)[0] * x

    def size(values, chosen):
        treated = np.where(chosen, values, np.nan)
        control = np.where(~chosen, values, np.nan)
        p = stats.ttest_ind(treated, control, axis=1, equal_var=False, nan_policy="omit").pvalue
        return np.mean(np.asarray(p) < 0.05)

    se = np.sqrt(0.05 * 0.95 / experiments)
    assert abs(size(y, splits[:, 0]) - 0.05) < 4.5 * se
    assert size(y, best) < 0.01
    assert abs(size(adjusted, best) - 0.05) < 4.5 * se
