"""abteach.interference (chapter 16) and sample_size_ratio: each procedure against an
independent computation (scipy, statsmodels, numpy 2SLS) and its promise by seeded simulation.
Published figure: the design effect 3.45 for clusters of 50 with ICC 0.05 (MetricGate
documentation, "Sample Size for Cluster Randomized Trials", key takeaways)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.power import NormalIndPower, TTestIndPower

import abteach as abt


# --- clusters -----------------------------------------------------------------------------


def test_design_effect_published_value_and_formula():
    assert abt.design_effect(50, 0.05) == pytest.approx(3.45, abs=1e-12)
    m, icc = np.array([1.0, 10.0, 100.0]), np.array([0.3, 0.0, 1.0])
    assert np.allclose(abt.design_effect(m, icc), [1.0, 1.0, 100.0])


@pytest.mark.parametrize("kwargs, word", [
    (dict(cluster_size=0.5, icc=0.1), "cluster_size"), (dict(cluster_size=5, icc=1.2), "icc"),
])
def test_design_effect_refuses_bad_input(kwargs, word):
    with pytest.raises(ValueError, match=word):
        abt.design_effect(**kwargs)


@pytest.mark.parametrize("delta, m, icc", [(0.25, 50, 0.05), (0.1, 40, 0.02), (0.5, 10, 0.2)])
def test_cluster_design_matches_statsmodels_t_power(delta, m, icc):
    """K = ceil of statsmodels' two-sample t-test n for d = delta / sd_cluster, where the cluster
    mean has variance (icc + (1 - icc) / m); K - 1 clusters fall short of 80%."""
    d = delta / math.sqrt(icc + (1 - icc) / m)
    k = math.ceil(TTestIndPower().solve_power(effect_size=d, power=0.8, alpha=0.05))
    design = abt.cluster_design(delta, 1.0, m, icc)
    assert design.clusters == k
    assert design.power == pytest.approx(TTestIndPower().power(d, k, 0.05), rel=1e-6)
    assert TTestIndPower().power(d, k - 1, 0.05) < 0.8 <= design.power
    assert design.units == k * m


def _clustered(rng, runs, clusters, m, icc, shift=0.0):
    level = rng.normal(0, math.sqrt(icc), (2, runs, clusters, 1))
    users = level + rng.normal(0, math.sqrt(1 - icc), (2, runs, clusters, m))
    users[1] += shift
    return users


def test_cluster_ttest_means_is_welch_on_cluster_means():
    rng = np.random.default_rng(1)
    sizes_c, sizes_t = rng.integers(5, 30, 12).astype(float), rng.integers(5, 30, 9).astype(float)
    sums_c, sums_t = rng.normal(3, 1, 12) * sizes_c, rng.normal(3.4, 1, 9) * sizes_t
    res = abt.cluster_ttest(sums_c, sizes_c, sums_t, sizes_t)
    ref = stats.ttest_ind(sums_t / sizes_t, sums_c / sizes_c, equal_var=False)
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-10)
    assert res.pvalue == pytest.approx(ref.pvalue, rel=1e-10)
    assert (res.clusters_control, res.clusters_treatment) == (12, 9)


def test_cluster_ttest_ratio_is_the_delta_method_over_clusters():
    rng = np.random.default_rng(2)
    sizes_c, sizes_t = rng.integers(5, 30, 40).astype(float), rng.integers(5, 30, 40).astype(float)
    sums_c, sums_t = rng.normal(3, 1, 40) * sizes_c, rng.normal(3.4, 1, 40) * sizes_t
    res = abt.cluster_ttest(sums_c, sizes_c, sums_t, sizes_t, method="ratio")
    ref = abt.ratio_metric_test(sums_c, sizes_c, sums_t, sizes_t)
    assert res.effect == pytest.approx(ref.effect, rel=1e-12)
    assert res.se == pytest.approx(ref.se, rel=1e-12)
    assert math.isinf(res.df)


def test_unit_level_test_over_rejects_and_cluster_test_holds_alpha():
    """A/A with 20 clusters of 50 per arm, ICC 0.05 (design effect 3.45)."""
    rng = np.random.default_rng(3)
    users = _clustered(rng, 2000, 20, 50, 0.05)
    naive = abt.welch_ttest(users[0].reshape(2000, -1), users[1].reshape(2000, -1))
    sums, sizes = users.sum(axis=-1), np.full((2000, 20), 50.0)
    valid = abt.cluster_ttest(sums[0], sizes, sums[1], sizes)
    assert np.mean(naive.pvalue < 0.05) > 0.2
    assert abs(np.mean(valid.pvalue < 0.05) - 0.05) < 4.5 * math.sqrt(0.05 * 0.95 / 2000)


def test_cluster_ttest_refuses_bad_input():
    with pytest.raises(ValueError, match="sum_control and size_control"):
        abt.cluster_ttest([1.0, 2.0, 3.0], [1.0, 2.0], [1.0, 2.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="size_treatment"):
        abt.cluster_ttest([1.0, 2.0], [1.0, 2.0], [1.0, 2.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="method"):
        abt.cluster_ttest([1.0, 2.0], [1.0, 2.0], [1.0, 2.0], [1.0, 1.0], method="users")
    with pytest.raises(ValueError, match="standard error of 0"):
        abt.cluster_ttest([2.0, 2.0], [1.0, 1.0], [3.0, 3.0], [1.0, 1.0])


# --- switchbacks ---------------------------------------------------------------------------


def test_switchback_period_test_is_welch_on_trimmed_period_means():
    sim = abt.simulate_switchback(20, 8, effect=0.5, carryover=2, autocorrelation=0.6, rng=4)
    y, w = sim.outcome[0], sim.treated[0].astype(bool)
    means = y.reshape(20, 8)[:, 2:].mean(axis=1)
    ref = stats.ttest_ind(means[w], means[~w], equal_var=False)
    res = abt.switchback_test(y, w.astype(int), burn_in=2)
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-10)
    assert res.pvalue == pytest.approx(ref.pvalue, rel=1e-10)
    naive = abt.switchback_test(y, w.astype(int), method="naive")
    slots = np.repeat(w, 8)
    ref = stats.ttest_ind(y[slots], y[~slots], equal_var=False)
    assert naive.statistic == pytest.approx(ref.statistic, rel=1e-10)


def test_simulated_switchback_carryover_and_autocorrelation():
    """Nearly noiseless: the burn-in of c slots recovers the effect exactly, none biases it
    toward 0; with pure noise the lag-one correlation is phi."""
    sim = abt.simulate_switchback(30, 10, effect=1.0, carryover=3, sd=1e-9, rng=5)
    assert abt.switchback_test(sim.outcome, sim.treated, burn_in=3).effect == pytest.approx(
        1.0, abs=1e-6)
    assert abt.switchback_test(sim.outcome, sim.treated).effect < 0.95
    assert sim.treated.sum() == 15
    noise = abt.simulate_switchback(50, 100, autocorrelation=0.7, runs=20, rng=6).outcome
    lag1 = np.mean([np.corrcoef(row[:-1], row[1:])[0, 1] for row in noise])
    assert lag1 == pytest.approx(0.7, abs=0.02)
    assert noise.std() == pytest.approx(1.0, abs=0.03)


def test_switchback_slot_test_over_rejects_period_test_holds_alpha():
    sim = abt.simulate_switchback(40, 12, carryover=3, autocorrelation=0.8, runs=2000, rng=7)
    naive = abt.switchback_test(sim.outcome, sim.treated, method="naive")
    valid = abt.switchback_test(sim.outcome, sim.treated, burn_in=3)
    assert np.mean(naive.pvalue < 0.05) > 0.3
    assert abs(np.mean(valid.pvalue < 0.05) - 0.05) < 4.5 * math.sqrt(0.05 * 0.95 / 2000)


@pytest.mark.parametrize("kwargs, word", [
    (dict(treated=[0, 1, 0, 1], burn_in=3), "burn_in"),
    (dict(treated=[0, 2, 0, 1]), "treated"),
    (dict(treated=[0, 0, 0, 1]), "at least 2 periods"),
    (dict(treated=[0, 1, 0]), "treated"),
])
def test_switchback_test_refuses_bad_input(kwargs, word):
    with pytest.raises(ValueError, match=word):
        abt.switchback_test(np.arange(12.0), **kwargs)


# --- interaction ---------------------------------------------------------------------------


def test_interaction_test_matches_ols_with_hc2_errors():
    """A saturated OLS y ~ a + b + a:b on unit-level data: its a:b coefficient is the
    contrast, and its HC2 standard error is sqrt(sum s^2 / n)."""
    rng = np.random.default_rng(8)
    n = np.array([[300, 250], [280, 320]])
    a = np.repeat([0, 0, 1, 1], n.ravel())
    b = np.repeat([0, 1, 0, 1], n.ravel())
    y = rng.normal(0, 1 + 0.5 * a, a.size) + 0.2 * a * b
    X = sm.add_constant(np.column_stack([a, b, a * b]).astype(float))
    fit = sm.OLS(y, X).fit(cov_type="HC2")
    cells = [[y[(a == i) & (b == j)] for j in (0, 1)] for i in (0, 1)]
    mean = np.array([[c.mean() for c in row] for row in cells])
    sd = np.array([[c.std(ddof=1) for c in row] for row in cells])
    res = abt.interaction_test(mean, sd, n)
    assert res.interaction == pytest.approx(fit.params[3], rel=1e-10)
    assert res.se == pytest.approx(fit.bse[3], rel=1e-10)
    assert res.pvalue == pytest.approx(fit.pvalues[3], rel=1e-8)


def test_interaction_power_is_a_main_effect_power_at_half_the_size():
    """SE(gamma) = 2 sd / sqrt(n) = twice the main effect's SE over 2n per arm."""
    for n in (100, 1000, 5000):
        assert abt.interaction_power(0.2, 1.0, n) == pytest.approx(
            NormalIndPower().power(0.1, 2 * n, 0.05), rel=1e-9)
    assert abt.interaction_power(-0.2, 1.0, 400) == abt.interaction_power(0.2, 1.0, 400)


def test_interaction_test_refuses_bad_shapes():
    with pytest.raises(ValueError, match="mean must have shape"):
        abt.interaction_test([1.0, 2.0, 3.0, 4.0], np.ones((2, 2)), np.full((2, 2), 10))
    with pytest.raises(ValueError, match="n must be"):
        abt.interaction_test(np.ones((2, 2)), np.ones((2, 2)), np.full((2, 2), 1))


# --- compliance ----------------------------------------------------------------------------


def test_complier_effect_equals_two_stage_least_squares():
    """2SLS by hand with numpy (arm as instrument) and its HC0 sandwich: same estimate; the
    delta-method SE uses n - 1 divisors, so it is sqrt(n / (n - 1)) times HC0 with equal arms."""
    rng = np.random.default_rng(9)
    n = 3000
    complier = rng.random((2, n)) < 0.4
    took = complier & np.array([[False], [True]])
    y = rng.normal(0, 2, (2, n)) + 1.0 * complier + 1.5 * took
    res = abt.complier_effect(y[0], took[0], y[1], took[1])
    z = np.repeat([0.0, 1.0], n)
    Z = np.column_stack([np.ones(2 * n), z])
    X = np.column_stack([np.ones(2 * n), took.ravel().astype(float)])
    beta = np.linalg.solve(Z.T @ X, Z.T @ y.ravel())
    u = y.ravel() - X @ beta
    bread = np.linalg.inv(Z.T @ X)
    hc0 = np.sqrt((bread @ ((Z * u[:, None] ** 2).T @ Z) @ bread.T)[1, 1])
    assert res.effect == pytest.approx(beta[1], rel=1e-10)
    assert res.se == pytest.approx(hc0 * math.sqrt(n / (n - 1)), rel=1e-10)
    assert res.itt == pytest.approx(y[1].mean() - y[0].mean(), rel=1e-12)
    assert res.compliance == pytest.approx(took[1].mean(), rel=1e-12)


def test_complier_interval_covers_and_take_up_comparison_is_biased():
    rng = np.random.default_rng(10)
    runs, n = 2000, 400
    complier = rng.random((2, runs, n)) < 0.3
    took = (complier & np.array([False, True])[:, None, None]).astype(float)
    y = rng.normal(0, 1, (2, runs, n)) + 0.5 * complier + 2.0 * took
    res = abt.complier_effect(y[0], took[0], y[1], took[1])
    cover = np.mean((res.ci_low <= 2.0) & (2.0 <= res.ci_high))
    assert abs(cover - 0.95) < 4.5 * math.sqrt(0.05 * 0.95 / runs)
    takers = (y[1] * took[1]).sum(-1) / took[1].sum(-1)
    others = (y[1] * (1 - took[1])).sum(-1) / (1 - took[1]).sum(-1)
    assert np.mean(takers - others) > 2.4    # 2.0 + the compliers' own +0.5


def test_complier_effect_refuses_no_take_up_difference():
    with pytest.raises(ValueError, match="received_treatment must have a higher mean"):
        abt.complier_effect([1.0, 2.0], [0.0, 1.0], [1.0, 3.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="received_control"):
        abt.complier_effect([1.0, 2.0], [0.0, 1.5], [1.0, 3.0], [1.0, 1.0])


# --- ratio metrics -------------------------------------------------------------------------


def test_sample_size_ratio_uses_the_delta_method_variance():
    """From one pilot, n * se^2 of ratio_metric_test is sigma_R^2, and the sample size is
    statsmodels' z-test n for the effect size delta / sigma_R."""
    rng = np.random.default_rng(11)
    views = 1.0 + rng.poisson(4.0, 5000)
    clicks = rng.binomial(views.astype(int), rng.beta(2, 18, 5000)).astype(float)
    moments = dict(mean_num=clicks.mean(), mean_den=views.mean(), sd_num=clicks.std(ddof=1),
                   sd_den=views.std(ddof=1), correlation=np.corrcoef(clicks, views)[0, 1])
    se = abt.ratio_metric_test(clicks, views, clicks + 1.0, views).se_control
    sigma_r = se * math.sqrt(views.size)
    expected = NormalIndPower().solve_power(effect_size=0.005 / sigma_r, power=0.8, alpha=0.05)
    assert abt.sample_size_ratio(0.005, **moments) == pytest.approx(expected, rel=1e-5)


def test_sample_size_ratio_doctest_value_by_hand():
    r, var = 0.1, 1.2**2 - 2 * 0.1 * 0.8 * 1.2 * 4.0 + 0.01 * 16.0
    n = 2 * (stats.norm.isf(0.025) + stats.norm.isf(0.2)) ** 2 * var / 25 / 0.002**2
    assert r == 0.5 / 5.0
    assert abt.sample_size_ratio(0.002, 0.5, 5.0, 1.2, 4.0, 0.8) == pytest.approx(n, rel=1e-5)


@pytest.mark.parametrize("kwargs, word", [
    (dict(correlation=1.5), "correlation"), (dict(mean_den=0.0), "mean_den"),
    (dict(sd_num=0.0, sd_den=0.0), "variance of 0"), (dict(delta=0.0), "delta"),
])
def test_sample_size_ratio_refuses_bad_input(kwargs, word):
    args = dict(delta=0.01, mean_num=0.5, mean_den=5.0, sd_num=1.0, sd_den=2.0, correlation=0.3)
    with pytest.raises(ValueError, match=word):
        abt.sample_size_ratio(**{**args, **kwargs})


def test_complier_explain_shows_the_ratio():
    res = abt.complier_effect([0.0, 1.0, 0.0, 1.0], [0, 0, 0, 0.0], [1.0, 3.0, 1.0, 2.0],
                              [1.0, 1.0, 0.0, 1.0])
    text = res.explain()
    assert f"ITT / compliance = {res.itt / res.compliance:.4g}" in text
    assert f"= {res.itt:.4g}" in text and "effect on compliers only" in text
    many = abt.complier_effect(np.zeros((3, 4)) + [0.0, 1.0, 0.0, 1.0], np.zeros((3, 4)),
                               np.ones((3, 4)) + [0.0, 2.0, 0.0, 1.0], np.ones((3, 4)))
    assert many.explain().startswith("Complier effects (Wald / IV) of 3 experiments")
