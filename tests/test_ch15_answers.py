"""Chapter 15: the answer key and the numbers the chapter prints agree with independent
computations (plain numpy, scipy's Mann-Whitney, Fisher, Barnard and permutation tests) and
with the published examples the chapter quotes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import abteach as abt
from abteach.course.answers import ch15
from abteach.course.answers.ch15 import EXERCISES


def _expected(exercise_id: str) -> float:
    return float(next(ex for ex in EXERCISES if ex.id == exercise_id).answer.expected())


def _spend(segment):
    customers = abt.hillstrom()
    return customers.loc[customers["segment"] == segment, "spend"].to_numpy()


def test_capped_effect_by_plain_numpy():
    control, mens = _spend("No E-Mail"), _spend("Mens E-Mail")
    cap = np.quantile(np.concatenate([control, mens]), 0.999)
    by_hand = np.minimum(mens, cap).mean() - np.minimum(control, cap).mean()
    assert _expected("15.1") == pytest.approx(by_hand, rel=1e-12)


def test_chapter_capping_table_by_plain_numpy():
    """The chapter's numbers: uncapped SE 0.145 and t 5.30 (Yasui's pooled t is 5.300090);
    at the pooled p99.5 cap, effect 0.34, SE 0.051 and t 6.61."""
    control, mens = _spend("No E-Mail"), _spend("Mens E-Mail")
    cap = np.quantile(np.concatenate([control, mens]), 0.995)
    c, t = np.minimum(control, cap), np.minimum(mens, cap)
    se = math.sqrt(c.var(ddof=1) / c.size + t.var(ddof=1) / t.size)
    assert (t.mean() - c.mean(), se) == pytest.approx((0.3383, 0.0512), abs=1e-4)
    assert (t.mean() - c.mean()) / se == pytest.approx(6.61, abs=0.005)


def test_rank_pvalue_by_the_normal_approximation_with_ties():
    """Mann-Whitney's U with mid-ranks, tie-corrected variance and continuity correction."""
    womens, control = _spend("Womens E-Mail"), _spend("No E-Mail")
    n1, n2 = womens.size, control.size
    ranks = stats.rankdata(np.concatenate([womens, control]))
    u = ranks[:n1].sum() - n1 * (n1 + 1) / 2
    _, counts = np.unique(np.concatenate([womens, control]), return_counts=True)
    n = n1 + n2
    var = n1 * n2 / 12 * ((n + 1) - (counts**3 - counts).sum() / (n * (n - 1)))
    z = (abs(u - n1 * n2 / 2) - 0.5) / math.sqrt(var)
    assert _expected("15.2") == pytest.approx(2 * stats.norm.sf(z), rel=1e-6)


def test_fisher_and_barnard_match_scipy():
    x_c, n_c, x_t, n_t = ch15.RARE
    table = [[x_t, x_c], [n_t - x_t, n_c - x_c]]
    assert _expected("15.3") == pytest.approx(stats.fisher_exact(table).pvalue, rel=1e-9)
    assert _expected("15.4") == pytest.approx(stats.barnard_exact(table, n=128).pvalue,
                                              rel=1e-4)


def test_permutation_pvalue_matches_scipy_exact():
    ref = stats.permutation_test(
        (np.array(ch15.SMALL_TREATMENT), np.array(ch15.SMALL_CONTROL)),
        lambda t, c, axis: t.mean(axis) - c.mean(axis), permutation_type="independent",
        n_resamples=10_000)
    assert _expected("15.5") == pytest.approx(ref.pvalue, rel=1e-12)


def test_se_ratio_by_hand():
    """The clustered over the i.i.d. SE of the p95, from the delta-method formula by hand."""
    load, user = ch15.page_views(np.random.default_rng(ch15.SEED), ch15.USERS)
    q, z = 0.95, stats.norm.ppf(0.975)
    xi = np.quantile(load, q)
    views = np.bincount(user)
    below = np.bincount(user, weights=(load <= xi).astype(float))
    sigma_clustered = np.std(below - q * views, ddof=1) / math.sqrt(views.size) / views.mean()
    indicator = (load <= xi).astype(float)
    sigma_iid = np.std(indicator - q, ddof=1) / math.sqrt(load.size)

    def se(sigma):
        low, high = np.quantile(load, [q - z * sigma, q + z * sigma])
        return (high - low) / (2 * z)

    assert _expected("15.6") == pytest.approx(se(sigma_clustered) / se(sigma_iid), rel=1e-9)
    assert _expected("15.6") > 1.5


def test_exact_sizes_of_the_chapter_figure():
    """z-test above 5% at some rate with 40 per arm, Fisher and Barnard never (exact sums)."""
    n = 40
    k = np.arange(n + 1)
    x_c, x_t = np.meshgrid(k, k, indexing="ij")

    def table_probability(p):
        return stats.binom.pmf(x_c, n, p) * stats.binom.pmf(x_t, n, p)

    rates = np.linspace(0.01, 0.5, 50)
    fisher = np.array([[stats.fisher_exact([[b, a], [n - b, n - a]]).pvalue < 0.05
                        for b in k] for a in k])
    z = abt.ztest_proportions(x_c, n, x_t, n).pvalue < 0.05
    assert max(np.sum(table_probability(p) * z) for p in rates) > 0.05
    assert max(np.sum(table_probability(p) * fisher) for p in rates) <= 0.05
    barnard = abt.barnard_exact_test(x_c, n, x_t, n).pvalue < 0.05
    assert max(np.sum(table_probability(p) * barnard) for p in rates) <= 0.05


def test_chapter_rank_and_log_numbers_by_scipy_and_numpy():
    """§15.2: mean of log1p up by 0.0292 log-dollars; P(T > C) + P(T = C)/2 = 0.5034 with
    p = 1.58e-13, next to the conversion test's 1.52e-13."""
    control, mens = _spend("No E-Mail"), _spend("Mens E-Mail")
    assert np.log1p(mens).mean() - np.log1p(control).mean() == pytest.approx(0.0292, abs=5e-5)
    rank = stats.mannwhitneyu(mens, control)
    assert rank.statistic / (mens.size * control.size) == pytest.approx(0.5034, abs=5e-5)
    assert rank.pvalue == pytest.approx(1.58e-13, rel=5e-3)
    table = np.array([[(control > 0).sum(), control.size], [(mens > 0).sum(), mens.size]])
    p_c, p_t = table[:, 0] / table[:, 1]
    pooled = table[:, 0].sum() / table[:, 1].sum()
    z = (p_t - p_c) / math.sqrt(pooled * (1 - pooled) * (1 / table[0, 1] + 1 / table[1, 1]))
    assert 2 * stats.norm.sf(z) == pytest.approx(1.52e-13, rel=5e-3)


def test_chapter_rare_conversion_example_by_scipy():
    """§15.4: 3 of 400 against 11 of 400; Fisher p = 0.0552, Barnard p = 0.0319."""
    table = [[11, 3], [389, 397]]
    assert stats.fisher_exact(table).pvalue == pytest.approx(0.0552, abs=5e-5)
    assert abt.fisher_exact_test(3, 400, 11, 400).pvalue == pytest.approx(
        stats.fisher_exact(table).pvalue, rel=1e-9)
    assert abt.barnard_exact_test(3, 400, 11, 400).pvalue == pytest.approx(
        stats.barnard_exact(table, n=128).pvalue, rel=1e-3)
