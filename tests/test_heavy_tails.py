"""Heavy tails, exact tests and quantiles (abteach.inference.winsorize, permutation, exact,
quantiles, and the cluster option of bootstrap_ci): published numbers, independent
implementations (scipy, exact rational arithmetic) and seeded simulations."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

import abteach as abt


# --- capping --------------------------------------------------------------------------------


def test_winsorize_matches_scipy_mstats_winsorize_at_the_same_cap():
    """Capping at the 90th order statistic equals scipy.stats.mstats.winsorize(limits=(0, 0.1))."""
    values = np.random.default_rng(1).lognormal(0, 1.5, 100)
    cap = np.sort(values)[89]
    ours = abt.winsorize(values, upper=cap)
    theirs = np.asarray(stats.mstats.winsorize(values, limits=(0, 0.1)))
    np.testing.assert_array_equal(ours, theirs)


def test_cap_threshold_is_the_numpy_quantile_per_experiment_and_bad_input_is_refused():
    ref = np.random.default_rng(2).lognormal(size=(3, 50))
    np.testing.assert_allclose(abt.cap_threshold(ref, 0.9), np.quantile(ref, 0.9, axis=1))
    with pytest.raises(ValueError, match="quantile"):
        abt.cap_threshold(ref, 1.0)
    with pytest.raises(ValueError, match="lower"):
        abt.winsorize([1.0, 2.0], upper=1.0, lower=3.0)


def test_capping_trades_bias_for_variance_on_lognormal_spend():
    """E min(Y, c) below E Y (bias), Var min(Y, c) far below Var Y (the point of capping)."""
    y = np.random.default_rng(3).lognormal(0, 1.5, 200_000)
    capped = abt.winsorize(y, abt.cap_threshold(y, 0.99))
    assert capped.mean() < y.mean()
    assert capped.var() < 0.5 * y.var()


# --- permutation ----------------------------------------------------------------------------


@pytest.mark.parametrize(("ours", "theirs"), [("two-sided", "two-sided"),
                                              ("larger", "greater"), ("smaller", "less")])
def test_exact_permutation_pvalue_equals_scipy_permutation_test(ours, theirs):
    rng = np.random.default_rng(4)
    control, treatment = rng.normal(size=7), rng.normal(0.8, size=6)
    res = abt.permutation_test(control, treatment, alternative=ours)
    ref = stats.permutation_test(
        (treatment, control), lambda t, c, axis: t.mean(axis) - c.mean(axis),
        permutation_type="independent", alternative=theirs, n_resamples=10_000)
    assert res.exact and res.n_splits == math.comb(13, 7)
    assert res.pvalue == pytest.approx(ref.pvalue, rel=1e-12)


def test_fisher_two_group_permutation_example():
    """All 20 splits of 3 + 3 values: the largest mean difference is 1 of 20 (p = 0.05)."""
    assert abt.permutation_test([1.0, 2.0, 3.0], [4.0, 5.0, 6.0],
                                alternative="larger").pvalue == pytest.approx(1 / 20)


def test_monte_carlo_permutation_pvalue_is_close_to_the_exact_one():
    rng = np.random.default_rng(5)
    control, treatment = rng.lognormal(size=8), rng.lognormal(0.5, size=8)
    exact = abt.permutation_test(control, treatment, n_resamples=20_000).pvalue
    random = abt.permutation_test(control, treatment, n_resamples=9_999, rng=6).pvalue
    assert random == pytest.approx(exact, abs=4 * math.sqrt(0.25 / 9_999) * 2)


def test_permutation_needs_rng_only_for_random_splits():
    with pytest.raises(ValueError, match="rng"):
        abt.permutation_test(np.arange(30.0), np.arange(30.0) + 1, n_resamples=99)


# --- exact tests ----------------------------------------------------------------------------


def test_fisher_lady_tasting_tea():
    """Fisher (1935): 3 of 4 cups right; one-sided p = 17/70 = 0.2429, two-sided 34/70."""
    assert abt.fisher_exact_test(1, 4, 3, 4, alternative="larger").pvalue == pytest.approx(17 / 70)
    assert abt.fisher_exact_test(1, 4, 3, 4).pvalue == pytest.approx(34 / 70)


def test_fisher_matches_scipy_on_random_tables():
    rng = np.random.default_rng(7)
    for _ in range(60):
        n_c, n_t = rng.integers(2, 60, 2)
        x_c, x_t = rng.integers(0, n_c + 1), rng.integers(0, n_t + 1)
        table = [[x_t, x_c], [n_t - x_t, n_c - x_c]]
        for ours, theirs in (("two-sided", "two-sided"), ("larger", "greater"),
                             ("smaller", "less")):
            got = abt.fisher_exact_test(x_c, n_c, x_t, n_t, alternative=ours).pvalue
            assert got == pytest.approx(stats.fisher_exact(table, alternative=theirs).pvalue,
                                        rel=1e-9)


def test_barnard_vaccine_example_of_mehta_and_senchaudhuri():
    """Mehta & Senchaudhuri (2003), vaccine trial, as printed in the scipy.stats.barnard_exact
    documentation: 7 of 15 infected with the vaccine, 12 of 15 with placebo; Barnard
    one-sided p = 0.03407, Fisher's 0.0640 (our Barnard value also counts the tables tied
    with the observed z, see the next test, and is 4e-5 higher)."""
    barnard = abt.barnard_exact_test(7, 15, 12, 15, alternative="larger")
    fisher = abt.fisher_exact_test(7, 15, 12, 15, alternative="larger")
    assert barnard.pvalue == pytest.approx(0.03407, abs=1e-4)
    assert fisher.pvalue == pytest.approx(0.0640, abs=1e-4)
    assert barnard.pvalue < fisher.pvalue


def _rational_barnard(x_c, n_c, x_t, n_t):
    """Two-sided Barnard p-value by exact rational z^2 comparisons on a fine grid of rates."""
    def z2(k_c, k_t):
        p_c, p_t, p = Fraction(k_c, n_c), Fraction(k_t, n_t), Fraction(k_c + k_t, n_c + n_t)
        return Fraction(0) if p_c == p_t else (p_t - p_c) ** 2 / (
            p * (1 - p) * (Fraction(1, n_c) + Fraction(1, n_t)))
    observed = z2(x_c, x_t)
    tables = [(a, b) for a in range(n_c + 1) for b in range(n_t + 1) if z2(a, b) >= observed]
    return max(sum(math.comb(n_c, a) * math.comb(n_t, b) * pi ** (a + b)
                   * (1 - pi) ** (n_c + n_t - a - b) for a, b in tables)
               for pi in np.linspace(0, 1, 2001))


def test_barnard_counts_tied_tables_which_scipy_can_drop():
    """3 + 5 units: the tables tied with the observed |z| count as 'at least as extreme'
    (exact rational arithmetic: p = 37/128); scipy 1.17's float comparison drops one."""
    assert _rational_barnard(1, 3, 4, 5) == pytest.approx(37 / 128)
    assert abt.barnard_exact_test(1, 3, 4, 5).pvalue == pytest.approx(37 / 128, rel=1e-9)


def test_barnard_matches_scipy_where_no_tables_tie():
    for x_c, n_c, x_t, n_t in [(2, 20, 9, 25), (0, 10, 4, 12), (5, 30, 1, 18)]:
        table = [[x_t, x_c], [n_t - x_t, n_c - x_c]]
        ours = abt.barnard_exact_test(x_c, n_c, x_t, n_t).pvalue
        assert ours == pytest.approx(_rational_barnard(x_c, n_c, x_t, n_t), rel=1e-4)
        assert ours == pytest.approx(stats.barnard_exact(table, n=256).pvalue, rel=1e-4)


def test_barnard_is_at_least_as_powerful_as_fisher_here():
    x = np.random.default_rng(8).binomial(30, [[0.1], [0.35]], size=(2, 200))
    barnard = abt.barnard_exact_test(x[0], 30, x[1], 30).pvalue
    fisher = abt.fisher_exact_test(x[0], 30, x[1], 30).pvalue
    assert np.mean(barnard < 0.05) >= np.mean(fisher < 0.05)


# --- quantiles and the cluster bootstrap ----------------------------------------------------


def _page_views(rng, users, scale=1.0):
    views = 1 + rng.negative_binomial(1, 0.2, users)
    user = np.repeat(np.arange(users), views)
    level = rng.normal(0, 0.6, users)
    return scale * np.exp(level[user] + rng.normal(0, 0.5, user.size)), user


def test_quantile_test_without_clusters_is_the_order_statistic_interval():
    """Without clusters sigma_F^2 = F(1 - F)/N (times N/(N-1), the sample variance), the
    binomial interval for the rank."""
    y = np.random.default_rng(9).exponential(size=4000)
    res = abt.quantile_test(y, y * 1.0, quantile=0.9)
    f = np.mean(y <= np.quantile(y, 0.9))
    half = 1.959964 * math.sqrt(f * (1 - f) / (y.size - 1))
    low, high = np.quantile(y, [0.9 - half, 0.9 + half])
    assert res.se_control == pytest.approx((high - low) / (2 * 1.959964), rel=1e-5)
    assert res.effect == 0.0


def test_clusters_widen_the_quantile_interval_and_restore_coverage():
    """400 experiments with correlated page views: the i.i.d. interval under-covers badly;
    the clustered one covers at least nominally."""
    rng = np.random.default_rng(10)
    p95 = math.exp(stats.norm.ppf(0.95) * math.hypot(0.5, 0.6))
    truth = (0.9 - 1) * p95
    hits = np.zeros(2)
    for _ in range(400):
        (y_c, u_c), (y_t, u_t) = _page_views(rng, 300), _page_views(rng, 300, 0.9)
        clustered = abt.quantile_test(y_c, y_t, clusters_control=u_c, clusters_treatment=u_t)
        naive = abt.quantile_test(y_c, y_t)
        hits += [clustered.ci_low <= truth <= clustered.ci_high,
                 naive.ci_low <= truth <= naive.ci_high]
    coverage = hits / 400
    assert coverage[0] >= 0.93
    assert coverage[1] <= 0.85


def test_cluster_bootstrap_resamples_whole_users():
    """A resample keeps every user's page views together: the mean of a statistic that counts
    distinct users is their number, and the row bootstrap is narrower on clustered data."""
    rng = np.random.default_rng(11)
    (y_c, u_c), (y_t, u_t) = _page_views(rng, 150), _page_views(rng, 150)
    p95 = lambda c, t: np.quantile(t, 0.95, axis=-1) - np.quantile(c, 0.95, axis=-1)  # noqa: E731
    clustered = abt.bootstrap_ci(y_c, y_t, statistic=p95, method="percentile", n_resamples=400,
                                 clusters_control=u_c, clusters_treatment=u_t, rng=1)
    rows = abt.bootstrap_ci(y_c, y_t, statistic=p95, method="percentile", n_resamples=400,
                            rng=1)
    assert clustered.standard_error > 1.3 * rows.standard_error
    bca = abt.bootstrap_ci(y_c, y_t, method="bca", n_resamples=300, clusters_control=u_c,
                           clusters_treatment=u_t, rng=2)
    assert bca.ci_low < bca.effect < bca.ci_high
    users = (len(np.unique(u_c)), len(np.unique(u_t)))
    assert clustered.clusters == bca.clusters == users and rows.clusters is None
    assert f"draws {users[0]} control and {users[1]} treatment clusters" in bca.explain()
    assert f"draws {len(y_c)} control and {len(y_t)} treatment values" in rows.explain()


def test_cluster_bootstrap_with_singleton_clusters_is_the_row_bootstrap():
    """Each observation its own cluster: the same draws as resampling rows."""
    x, y = np.arange(10.0), np.arange(12.0) ** 1.5
    a = abt.bootstrap_ci(x, y, method="percentile", n_resamples=300,
                         clusters_control=np.arange(10), clusters_treatment=np.arange(12), rng=3)
    b = abt.bootstrap_ci(x, y, method="percentile", n_resamples=300,
                         clusters_control=np.arange(10), rng=3)
    assert a.ci_low == pytest.approx(b.ci_low) and a.ci_high == pytest.approx(b.ci_high)


def test_cluster_labels_are_checked():
    with pytest.raises(ValueError, match="clusters_control"):
        abt.bootstrap_ci([1.0, 2.0, 3.0], [1.0, 2.0, 4.0], clusters_control=[1, 2], rng=1)
    with pytest.raises(ValueError, match="clusters_control"):
        abt.quantile_test([1.0, 2.0, 3.0], [1.0, 2.0, 4.0], clusters_control=[1, 1, 1])
    with pytest.raises(ValueError, match="1-d"):
        abt.bootstrap_ci(np.ones((2, 3)) * [1, 2, 3], np.ones((2, 3)) * [1, 2, 4],
                         clusters_control=[1, 2, 3], rng=1)
