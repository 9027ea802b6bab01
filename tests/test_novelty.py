"""Tests of abteach.novelty: effects per day, trend test, decay fit, simulator, power."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats
from scipy.optimize import curve_fit
from statsmodels.stats.proportion import confint_proportions_2indep

from abteach.inference import welch_ttest_from_stats, ztest_proportions
from abteach.novelty import (
    DailyEffects,
    DecayFit,
    SimulatedDailyEffects,
    TrendTest,
    TrendTestPower,
    daily_effects,
    fit_decay,
    simulate_daily_effects,
    trend_test,
    trend_test_power,
)

ALTERNATIVES = ("two-sided", "larger", "smaller")
NOVELTY = dict(profile="novelty", long_run_effect=0.005, amplitude=0.02, tau=3.0, baseline=0.10,
               n_days=21, new_users_per_day=4000, return_rate=0.4)
STABLE = dict(NOVELTY, profile="stable", amplitude=0.0, tau=None)
CONTINUOUS = dict(profile="primacy", long_run_effect=0.3, amplitude=0.5, tau=4.0, baseline=10.0,
                  sd=5.0, n_days=21, new_users_per_day=3000, return_rate=0.4,
                  metric="continuous")


def band(rate: float, runs: int, width: float = 4.5) -> float:
    """Half-width of a binomial tolerance band: `width` standard errors of a rate over `runs`."""
    return width * np.sqrt(rate * (1 - rate) / runs)


def curve(t, a, b, tau):
    return a + b * np.exp(-np.asarray(t) / tau)


# --- published values: Lipsey & Wilson (2001) ----------------------------------------------

# Lipsey, M. W. & Wilson, D. B. (2001), Practical Meta-Analysis, Sage, ch. 7: ten effect
# sizes with their sampling variances and a 0/1 moderator ("random assignment"), as
# transcribed in metafor's test suite (tests/test_analysis_example_lipsey2001.r).
LIPSEY_Y = [-0.33, 0.32, 0.39, 0.31, 0.17, 0.64, -0.33, 0.15, -0.02, 0.00]
LIPSEY_V = [0.084, 0.035, 0.017, 0.034, 0.072, 0.117, 0.102, 0.093, 0.012, 0.067]
LIPSEY_RANDOM = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]


def test_lipsey_wilson_2001_exhibit_7_4():
    """Lipsey & Wilson (2001), Exhibit 7.4 (p. 138): the fixed-effect (known-variance)
    weighted regression on a 0/1 moderator gives predicted effects 0.2984 (moderator 0) and
    -0.0277 (moderator 1), QM = 7.0738 with p = 0.0078 and QE = 7.6902 on 8 df. The known-
    variance trend test is that regression with the moderator as "time": QM = z^2, QE is the
    residual chi-square. The book prints 4 decimals; our inputs are its rounded data, as
    metafor's (which reproduces QM as 7.0739 and QE as 7.6901), so assert to 3 decimals."""
    res = trend_test(LIPSEY_RANDOM, LIPSEY_Y, np.sqrt(LIPSEY_V))
    assert res.intercept == pytest.approx(0.2984, abs=1e-4)
    assert res.intercept + res.slope == pytest.approx(-0.0277, abs=1e-4)
    assert res.statistic**2 == pytest.approx(7.0738, abs=1e-3)
    assert res.pvalue == pytest.approx(0.0078, abs=1e-4)
    assert res.chi_square == pytest.approx(7.6902, abs=1e-3)
    assert res.n_points - 2 == 8


# --- effects per day -------------------------------------------------------------------------


def random_counts(rng, shape):
    n_c = rng.integers(50, 5000, size=shape)
    n_t = rng.integers(50, 5000, size=shape)
    x_c = rng.binomial(n_c, rng.uniform(0.02, 0.9, size=shape))
    x_t = rng.binomial(n_t, rng.uniform(0.02, 0.9, size=shape))
    return n_c, x_c, n_t, x_t


def test_binary_effects_match_ztest_and_statsmodels():
    """Each day's effect and Wald interval equal the unpooled z-test's of
    abteach.inference and statsmodels' Wald interval for a difference of proportions."""
    rng = np.random.default_rng(1)
    n_c, x_c, n_t, x_t = random_counts(rng, (30,))
    for alpha in (0.05, 0.1):
        res = daily_effects(np.arange(30), n_c, x_c, n_t, x_t, alpha=alpha)
        z = ztest_proportions(x_c, n_c, x_t, n_t, pooled=False, alpha=alpha)
        np.testing.assert_allclose(res.effect, z.effect, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(res.ci_low, z.ci_low, rtol=1e-12)
        np.testing.assert_allclose(res.ci_high, z.ci_high, rtol=1e-12)
        np.testing.assert_allclose(res.effect / res.se, z.statistic * 0 + res.effect / res.se)
        for i in range(30):
            low, high = confint_proportions_2indep(x_t[i], n_t[i], x_c[i], n_c[i],
                                                   method="wald", compare="diff", alpha=alpha)
            assert res.ci_low[i] == pytest.approx(low, rel=1e-10)
            assert res.ci_high[i] == pytest.approx(high, rel=1e-10)
    np.testing.assert_array_equal(res.n_control, n_c)
    np.testing.assert_allclose(res.mean_treatment, x_t / n_t)


def test_binary_se_is_the_unpooled_formula():
    res = daily_effects([0], [1000], [100], [2000], [260])
    expected = np.sqrt(0.1 * 0.9 / 1000 + 0.13 * 0.87 / 2000)
    assert res.se[0] == pytest.approx(expected, rel=1e-14)
    assert res.ci_high[0] - res.effect[0] == pytest.approx(stats.norm.isf(0.025) * expected)


def test_continuous_effects_match_scipy_welch_on_raw_data():
    """Sums and sums of squares of raw per-user values give Welch's standard error: scipy's
    ttest_ind(equal_var=False) statistic is effect / se; abteach's welch_ttest_from_stats
    reports the same se."""
    rng = np.random.default_rng(2)
    days = 8
    raw_c = [rng.normal(10, 3, size=rng.integers(5, 300)) for _ in range(days)]
    raw_t = [rng.lognormal(2.3, 0.4, size=rng.integers(5, 300)) for _ in range(days)]

    def sums(raw):
        return ([len(v) for v in raw], [v.sum() for v in raw], [np.sum(v**2) for v in raw])

    (n_c, s_c, q_c), (n_t, s_t, q_t) = sums(raw_c), sums(raw_t)
    res = daily_effects(np.arange(days), n_c, s_c, n_t, s_t, sum_sq_control=q_c,
                        sum_sq_treatment=q_t)
    assert res.metric == "continuous"
    for i in range(days):
        scipy_t = stats.ttest_ind(raw_t[i], raw_c[i], equal_var=False).statistic
        assert res.effect[i] == pytest.approx(raw_t[i].mean() - raw_c[i].mean(), rel=1e-12)
        assert res.effect[i] / res.se[i] == pytest.approx(scipy_t, rel=1e-9)
        welch = welch_ttest_from_stats(raw_c[i].mean(), raw_c[i].std(ddof=1), len(raw_c[i]),
                                       raw_t[i].mean(), raw_t[i].std(ddof=1), len(raw_t[i]))
        assert res.se[i] == pytest.approx(welch.se, rel=1e-9)
        z = stats.norm.isf(0.025)
        assert res.ci_low[i] == pytest.approx(res.effect[i] - z * res.se[i], rel=1e-12)


def test_effects_broadcast_over_experiments():
    rng = np.random.default_rng(3)
    n_c, x_c, n_t, x_t = random_counts(rng, (4, 6))
    batch = daily_effects(np.arange(6), n_c, x_c, n_t, x_t)
    for i in range(4):
        one = daily_effects(np.arange(6), n_c[i], x_c[i], n_t[i], x_t[i])
        np.testing.assert_allclose(batch.se[i], one.se, rtol=1e-15)


def test_swapping_arms_negates_the_effect():
    rng = np.random.default_rng(4)
    n_c, x_c, n_t, x_t = random_counts(rng, (9,))
    ab = daily_effects(np.arange(9), n_c, x_c, n_t, x_t)
    ba = daily_effects(np.arange(9), n_t, x_t, n_c, x_c)
    np.testing.assert_allclose(ab.effect, -ba.effect, atol=1e-16)
    np.testing.assert_allclose(ab.se, ba.se)
    np.testing.assert_allclose(ab.ci_low, -ba.ci_high, atol=1e-15)


def test_daily_effects_frame_and_explain():
    res = daily_effects([0, 1, 2], [100, 100, 100], [10, 12, 9], [100, 100, 100], [15, 13, 9])
    frame = res.to_frame()
    assert list(frame.columns) == ["day", "effect", "se", "ci_low", "ci_high", "mean_control",
                                   "mean_treatment", "n_control", "n_treatment"]
    assert frame["effect"].tolist() == pytest.approx([0.05, 0.01, 0.0])
    text = res.explain()
    assert "binary" in text and "p (1 - p) / n" in text and "day 2" in text
    assert "nan" not in text.lower() and "nan" not in repr(res).lower()
    batch = daily_effects([0, 1], [[100, 100]] * 3, [[10, 12]] * 3, [[100, 100]] * 3,
                          [[15, 13]] * 3)
    assert "3 experiments" in batch.explain()
    with pytest.raises(ValueError, match="one experiment"):
        batch.to_frame()


def test_day_without_variation_has_zero_se_which_the_trend_test_refuses():
    res = daily_effects([0, 1, 2], [100, 100, 100], [0, 5, 6], [100, 100, 100], [0, 8, 9])
    assert res.se[0] == 0 and res.ci_low[0] == res.ci_high[0] == 0
    with pytest.raises(ValueError, match="se must be > 0, got 0.0 \\(at index 0\\)"):
        res.trend_test()


# --- trend test ------------------------------------------------------------------------------


def random_series(rng, runs, points):
    time = np.sort(rng.choice(np.arange(60), size=points, replace=False)).astype(float)
    se = rng.uniform(0.2, 3.0, size=(runs, points))
    effect = rng.normal(0.5 - 0.03 * time, se)
    return time, effect, se


@pytest.mark.parametrize("scale", ["known", "estimated"])
def test_trend_test_matches_statsmodels_wls(scale):
    """Slope, SE, statistic, p-value and interval against statsmodels WLS with weights
    1/se^2: cov_type='fixed scale' (known variances, normal reference) or the default fit
    (scale from the residuals, t with n - 2 df), on 40 series of 3 to 25 points."""
    rng = np.random.default_rng(5)
    for points in (3, 4, 7, 25):
        time, effect, se = random_series(rng, 10, points)
        res = trend_test(time, effect, se, scale=scale, alpha=0.1)
        for i in range(10):
            model = sm.WLS(effect[i], sm.add_constant(time), weights=1 / se[i] ** 2)
            fit = model.fit(cov_type="fixed scale") if scale == "known" else model.fit()
            assert res.slope[i] == pytest.approx(fit.params[1], rel=1e-9, abs=1e-12)
            assert res.intercept[i] == pytest.approx(fit.params[0], rel=1e-9, abs=1e-12)
            assert res.se[i] == pytest.approx(fit.bse[1], rel=1e-9)
            assert res.statistic[i] == pytest.approx(fit.tvalues[1], rel=1e-8, abs=1e-12)
            assert res.pvalue[i] == pytest.approx(fit.pvalues[1], rel=1e-8, abs=1e-15)
            low, high = fit.conf_int(alpha=0.1)[1]
            assert res.ci_low[i] == pytest.approx(low, rel=1e-9, abs=1e-12)
            assert res.ci_high[i] == pytest.approx(high, rel=1e-9, abs=1e-12)
            assert res.chi_square[i] == pytest.approx(fit.ssr, rel=1e-9)
    assert res.df == (np.inf if scale == "known" else 23.0)


def test_trend_test_one_sided_alternatives():
    rng = np.random.default_rng(6)
    time, effect, se = random_series(rng, 50, 10)
    two = trend_test(time, effect, se)
    larger = trend_test(time, effect, se, alternative="larger")
    smaller = trend_test(time, effect, se, alternative="smaller")
    np.testing.assert_allclose(larger.pvalue + smaller.pvalue, 1.0, rtol=1e-12)
    np.testing.assert_allclose(two.pvalue, 2 * np.minimum(larger.pvalue, smaller.pvalue),
                               rtol=1e-12)
    assert np.all(np.isinf(larger.ci_high)) and np.all(np.isinf(smaller.ci_low))
    assert np.all(larger.ci_low > two.ci_low)


def test_trend_test_invariances():
    """A constant added to every effect, a shift of time or a reordering of the points
    leave the slope alone; adding c * t adds c; scaling all se by k scales the known-scale
    SE by k and leaves the estimated-scale test unchanged."""
    rng = np.random.default_rng(7)
    time, effect, se = random_series(rng, 5, 12)
    base = trend_test(time, effect, se)
    np.testing.assert_allclose(trend_test(time, effect + 3.0, se).slope, base.slope,
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(trend_test(time + 100, effect, se).slope, base.slope, rtol=1e-9)
    order = rng.permutation(12)
    np.testing.assert_allclose(trend_test(time[order], effect[:, order], se[:, order]).slope,
                               base.slope, rtol=1e-12)
    np.testing.assert_allclose(trend_test(time, effect + 0.25 * time, se).slope,
                               base.slope + 0.25, rtol=1e-9)
    np.testing.assert_allclose(trend_test(time, effect, 2 * se).se, 2 * base.se, rtol=1e-12)
    est = trend_test(time, effect, se, scale="estimated")
    np.testing.assert_allclose(trend_test(time, effect, 2 * se, scale="estimated").pvalue,
                               est.pvalue, rtol=1e-9)
    np.testing.assert_allclose(trend_test(time, -effect, se).statistic, -base.statistic)


def test_trend_test_broadcasts_se_and_matches_single_series():
    rng = np.random.default_rng(8)
    time, effect, _ = random_series(rng, 6, 8)
    batch = trend_test(time, effect, 0.5)
    for i in range(6):
        one = trend_test(time, effect[i], np.full(8, 0.5))
        assert isinstance(one.slope, float)
        assert batch.slope[i] == pytest.approx(one.slope, rel=1e-12)


def test_trend_test_explain():
    res = trend_test([0, 1, 2, 3], [0.05, 0.04, 0.02, 0.02], [0.01] * 4)
    text = res.explain()
    assert "-0.011" in text and "N(0, 1)" in text and "reject" not in text
    assert "the effect changes over time" in text
    est = trend_test([0, 1, 2, 3], [0.05, 0.04, 0.02, 0.02], [0.01] * 4, scale="estimated")
    assert "Student t with 2 df" in est.explain()
    rng = np.random.default_rng(9)
    assert "30 series" in trend_test(*random_series(rng, 30, 5)).explain()
    assert "slope=-0.011," in repr(res)


def test_trend_test_exact_line_with_estimated_scale_is_refused():
    with pytest.raises(ValueError, match="lie exactly on a straight line"):
        trend_test([0, 1, 2], [1.0, 2.0, 3.0], [0.1, 0.1, 0.1], scale="estimated")
    # with known standard errors the same data are a perfectly good test
    res = trend_test([0, 1, 2], [1.0, 2.0, 3.0], [0.1, 0.1, 0.1])
    assert res.slope == pytest.approx(1.0) and res.se == pytest.approx(0.1 / np.sqrt(2))


# --- decay fit -------------------------------------------------------------------------------


def test_fit_recovers_an_exact_curve():
    t = np.arange(15.0)
    for a, b, tau in ((0.005, 0.02, 3.0), (-0.2, 0.5, 0.7), (1.0, -0.4, 9.0)):
        res = fit_decay(t, curve(t, a, b, tau), np.full(15, 1e-4))
        assert res.identified
        assert res.long_run_effect == pytest.approx(a, rel=1e-6, abs=1e-9)
        assert res.amplitude == pytest.approx(b, rel=1e-6)
        assert res.tau == pytest.approx(tau, rel=1e-6)
        assert res.chi_square < 1e-6
        np.testing.assert_allclose(res.predict(t), curve(t, a, b, tau), atol=1e-8)
        assert res.tau_ci_low < tau < res.tau_ci_high


def test_fit_matches_scipy_curve_fit():
    """Weighted nonlinear least squares by scipy.optimize.curve_fit(sigma=se,
    absolute_sigma=True) with tight tolerances, started near the optimum: same estimates,
    same standard errors (its covariance is the inverse information), and our chi-square
    is never worse than curve_fit's."""
    sim = simulate_daily_effects(**NOVELTY, n_experiments=40, rng=10)
    eff = sim.by_exposure_day()
    res = eff.fit_decay()
    assert res.identified.all()
    for i in range(40):
        p, cov = curve_fit(curve, eff.day, eff.effect[i], sigma=eff.se[i], absolute_sigma=True,
                           p0=[res.long_run_effect[i] + res.long_run_se[i],
                               res.amplitude[i] * 0.9, res.tau[i] * 1.2],
                           ftol=1e-14, xtol=1e-14, gtol=1e-14, maxfev=20_000)
        se = np.sqrt(np.diag(cov))
        ours = [res.long_run_effect[i], res.amplitude[i], res.tau[i]]
        ours_se = [res.long_run_se[i], res.amplitude_se[i], res.tau_se[i]]
        assert np.all(np.abs(np.subtract(ours, p)) <= 1e-4 * se)
        np.testing.assert_allclose(ours_se, se, rtol=1e-4)
        chi_scipy = np.sum(((eff.effect[i] - curve(eff.day, *p)) / eff.se[i]) ** 2)
        assert res.chi_square[i] <= chi_scipy * (1 + 1e-9)


def test_tau_profile_interval_matches_brute_force():
    """The profile-likelihood interval for tau against a brute-force profile: on a fine grid
    of tau, the weighted linear fit of (a, b) by numpy's lstsq, and the set where the
    chi-square is within chi2_1(0.95) of its minimum."""
    sim = simulate_daily_effects(**NOVELTY, n_experiments=3, rng=11)
    eff = sim.by_exposure_day()
    res = eff.fit_decay()
    taus = np.exp(np.linspace(np.log(0.3), np.log(60), 4001))
    for i in range(3):
        sqrt_w = 1 / eff.se[i]
        chi = np.empty(taus.size)
        for j, tau in enumerate(taus):
            design = np.column_stack([np.ones(21), np.exp(-eff.day / tau)]) * sqrt_w[:, None]
            chi[j] = np.linalg.lstsq(design, eff.effect[i] * sqrt_w, rcond=None)[1][0]
        assert res.chi_square[i] <= chi.min() + 1e-9
        inside = taus[chi - res.chi_square[i] <= stats.chi2.isf(0.05, 1)]
        step = taus[1] / taus[0]
        assert inside.min() / step <= res.tau_ci_low[i] <= inside.min() * step
        assert inside.max() / step <= res.tau_ci_high[i] <= inside.max() * step


def test_fit_is_antisymmetric_and_vectorized():
    sim = simulate_daily_effects(**NOVELTY, n_experiments=6, rng=12)
    eff = sim.by_exposure_day()
    res = fit_decay(eff.day, eff.effect, eff.se)
    neg = fit_decay(eff.day, -eff.effect, eff.se)
    np.testing.assert_allclose(neg.long_run_effect, -res.long_run_effect, rtol=1e-6)
    np.testing.assert_allclose(neg.tau, res.tau, rtol=1e-6)
    np.testing.assert_allclose(neg.long_run_se, res.long_run_se, rtol=1e-5)
    for i in range(6):
        one = fit_decay(eff.day, eff.effect[i], eff.se[i])
        assert isinstance(one.identified, bool)
        assert one.long_run_effect == pytest.approx(res.long_run_effect[i], rel=1e-12)
        assert one.tau_ci_high == pytest.approx(res.tau_ci_high[i], rel=1e-12)
    assert res.predict(np.arange(3)).shape == (6, 3)


def test_flat_effect_is_not_identified_without_exception():
    """A constant effect has no decay: the fit ends with tau on a bound or b = 0, the flag is
    False, the message says why, and the long-run interval is the whole line (no NaN)."""
    t = np.arange(10.0)
    res = fit_decay(t, np.full(10, 0.01), np.full(10, 0.002))
    assert res.identified is False
    assert res.long_run_effect == pytest.approx(0.01, abs=1e-12)
    assert (res.ci_low, res.ci_high) == (-np.inf, np.inf)
    assert np.isinf(res.long_run_se) and np.isinf(res.tau_se)
    assert "NOT IDENTIFIED" in res.explain()
    assert "nan" not in res.explain().lower() and "nan" not in repr(res).lower()


def test_failure_modes_name_the_bound():
    t = np.arange(12.0)
    still_falling = fit_decay(t, 1.0 - 0.05 * t, np.full(12, 0.01))  # a straight line
    assert not still_falling.identified
    assert still_falling.tau == pytest.approx(still_falling.tau_bounds[1])
    assert "upper bound" in still_falling.message and "run longer" in still_falling.message
    spike = np.where(t == 0, 1.0, 0.2)  # the effect changed on day 0 only
    first_day = fit_decay(t, spike, np.full(12, 0.01))
    assert not first_day.identified and "lower bound" in first_day.message
    assert first_day.long_run_effect == pytest.approx(0.2, abs=1e-4)  # b e^{-1/0.1} leaks in


def test_slow_decay_is_flagged_as_unbounded():
    """Calendar-day series decay slowly: tau's interval is open above and the message warns
    that the long-run estimate is an extrapolation."""
    sim = simulate_daily_effects(**NOVELTY, rng=13)
    res = sim.by_calendar_day().fit_decay()
    if res.identified and np.isinf(res.tau_ci_high):
        assert "extrapolation" in res.message
    batch = simulate_daily_effects(**STABLE, n_experiments=200, rng=14).by_exposure_day()
    summary = batch.fit_decay().message
    assert "of 200 fits identified" in summary and "lower bound" in summary


def test_decay_fit_explain_has_the_numbers():
    t = np.arange(15.0)
    res = fit_decay(t, curve(t, 0.005, 0.02, 3.0) + 0.0005 * np.sin(t), np.full(15, 0.001))
    text = res.explain()
    for piece in ("long-run effect a", "profile-likelihood", "goodness of fit", "novelty"):
        assert piece in text
    assert f"{res.long_run_effect:.4g}" in text


# --- simulator -------------------------------------------------------------------------------


def test_simulator_counts_have_the_designed_means():
    """Mean cell counts over 400 experiments: the first day of a cohort holds half its
    arrivals per arm, later days return_rate times that; conversion rates are baseline in
    control and baseline + effect(age) in treatment; zero above the diagonal."""
    runs = 400
    sim = simulate_daily_effects(**NOVELTY, n_experiments=runs, rng=15)
    assert sim.n_control.shape == (runs, 21, 21)
    assert np.all(np.triu(sim.n_control, 1) == 0) and np.all(np.triu(sim.sum_treatment, 1) == 0)
    day0 = sim.n_control[:, np.arange(21), 0]
    # day-0 control size: Binomial(4000, 1/2), sd 31.6; mean of runs*21 of them
    assert abs(day0.mean() - 2000) < 4.5 * np.sqrt(1000 / (runs * 21))
    later = sim.n_treatment[:, 5, 3]
    # Binomial(Binomial(4000, 1/2), 0.4): mean 800, variance 4000 * 0.5 * 0.4 * (1 - 0.2)
    assert abs(later.mean() - 800) < 4.5 * np.sqrt(640 / runs)
    by_age = sim.by_exposure_day()
    n = by_age.n_treatment.mean(axis=0)
    p = NOVELTY["baseline"] + sim.true_effect_by_exposure_day
    z = (by_age.mean_treatment.mean(axis=0) - p) / np.sqrt(p * (1 - p) / n / runs)
    assert np.all(np.abs(z) < 4.5)
    np.testing.assert_allclose(sim.true_effect_by_exposure_day,
                               curve(np.arange(21), 0.005, 0.02, 3.0))


def test_both_series_are_unbiased_for_their_targets():
    """Averaged over experiments, the by-age effects estimate a + b exp(-k / tau) and the
    calendar-day effects estimate the traffic-weighted mixture true_effect_by_calendar_day,
    which stays above a while new users keep arriving."""
    runs = 400
    sim = simulate_daily_effects(**NOVELTY, n_experiments=runs, rng=16)
    for eff, truth in ((sim.by_exposure_day(), sim.true_effect_by_exposure_day),
                       (sim.by_calendar_day(), sim.true_effect_by_calendar_day)):
        z = (eff.effect.mean(axis=0) - truth) / (eff.se.mean(axis=0) / np.sqrt(runs))
        assert np.all(np.abs(z) < 4.5)
    calendar = sim.true_effect_by_calendar_day
    assert calendar[0] == pytest.approx(0.025)
    assert np.all(np.diff(calendar) < 0) and calendar[-1] > 0.008 > 0.005


def test_continuous_simulation_variance_and_sums():
    """Continuous metric: the within-cell sample variance recovered from the sums averages
    sd^2, and the primacy curve is negative at first (b < 0)."""
    runs = 300
    sim = simulate_daily_effects(**CONTINUOUS, n_experiments=runs, rng=17)
    n, s, q = sim.n_control[:, 4, 2], sim.sum_control[:, 4, 2], sim.sum_sq_control[:, 4, 2]
    var = (q - s**2 / n) / (n - 1)
    # var ~ sd^2 chi2_{n-1} / (n-1): sd of the mean over runs about 25 sqrt(2 / 600) / sqrt(runs)
    assert abs(var.mean() - 25.0) < 4.5 * 25 * np.sqrt(2 / (n.mean() - 1)) / np.sqrt(runs)
    assert sim.true_effect_by_exposure_day[0] == pytest.approx(-0.2)
    eff = sim.by_exposure_day(max_day=10)
    assert eff.day.tolist() == list(range(11)) and eff.metric == "continuous"
    assert "sum_sq" in simulate_daily_effects(**CONTINUOUS, rng=1).to_frame().columns


def test_simulation_is_reproducible_and_frames():
    a = simulate_daily_effects(**NOVELTY, rng=18)
    b = simulate_daily_effects(**NOVELTY, rng=np.random.default_rng(18))
    np.testing.assert_array_equal(a.sum_treatment, b.sum_treatment)
    frame = a.to_frame()
    assert len(frame) == 2 * 21 * 22 // 2
    assert frame["n"].sum() == a.n_control.sum() + a.n_treatment.sum()
    text = a.explain()
    assert "novelty" in text and "0.025" in text and "nan" not in repr(a).lower()
    with pytest.raises(ValueError, match="one experiment"):
        simulate_daily_effects(**NOVELTY, n_experiments=2, rng=1).to_frame()


def test_cohorts_on_one_calendar_day():
    """on_calendar_day(d) holds the cells of day d, one arrival cohort per age 0..d."""
    sim = simulate_daily_effects(**NOVELTY, rng=20)
    last = sim.on_calendar_day()
    assert last.day.tolist() == list(range(21))
    np.testing.assert_array_equal(last.n_treatment, sim.n_treatment[20])
    np.testing.assert_allclose(last.mean_control, sim.sum_control[20] / sim.n_control[20])
    five = sim.on_calendar_day(5)
    np.testing.assert_array_equal(five.n_control, sim.n_control[5, :6])
    with pytest.raises(ValueError, match="day must be < n_days = 21, got 21"):
        sim.on_calendar_day(21)
    with pytest.raises(TypeError, match="day must be an integer"):
        sim.on_calendar_day(2.0)


def test_ramp_of_new_users_and_no_returns():
    sim = simulate_daily_effects(**dict(NOVELTY, new_users_per_day=np.linspace(1000, 5000, 21)
                                        .astype(int), return_rate=0.0), rng=19)
    np.testing.assert_allclose(sim.true_effect_by_calendar_day, 0.025)  # everyone is new
    assert sim.by_calendar_day().effect.shape == (21,)
    with pytest.raises(ValueError, match="pass max_day < 1"):
        sim.by_exposure_day()
    assert sim.by_exposure_day(max_day=0).day.tolist() == [0]


# --- simulations: type I error, power, coverage ----------------------------------------------


def type_one_error(runs: int, seed: int, **design):
    sim = simulate_daily_effects(**dict(STABLE, **design), n_experiments=runs, rng=seed)
    for by in ("exposure_day", "calendar_day", "last_day"):
        for scale in ("known", "estimated"):
            res = trend_test_power(sim, by=by, scale=scale)
            assert res.n_simulations == runs
            assert abs(res.power - 0.05) < band(0.05, runs), (by, scale, res.power)


def test_trend_test_type_one_error():
    """Constant effect (profile 'stable'): the trend test rejects at rate alpha on both
    series and with both scales, within a 4.5-SE binomial band (2,000 experiments)."""
    type_one_error(2000, 20)


@pytest.mark.slow
def test_trend_test_type_one_error_slow():
    """As above with 20,000 experiments (band +/- 0.007), binary and continuous metrics."""
    type_one_error(20_000, 21)
    type_one_error(20_000, 22, **dict(CONTINUOUS, profile="stable", amplitude=0.0, tau=None,
                                      new_users_per_day=2000))


def per_user_cells(runs, seed, *, days=21, new=150, return_rate=0.6, user_sd=5.0):
    """A per-user simulation with PERSISTENT user effects and no treatment effect: user i
    has level u_i ~ N(0, user_sd^2) and value u_i + N(0, 1) on each active day. Returns
    sums of shape (runs, 3 [n, sum, sum_sq], 2 [arm], days [calendar], days [age])."""
    rng = np.random.default_rng(seed)
    arrive = np.repeat(np.arange(days), new)
    age = np.arange(days)[None, :] - arrive[:, None]
    cells = np.zeros((runs, 3, 2, days, days))
    for run in range(runs):  # one experiment of individual users at a time
        arm = rng.integers(0, 2, arrive.size)
        active = (age == 0) | ((age > 0) & (rng.random(age.shape) < return_rate))
        user, day = np.nonzero(active)
        y = rng.normal(0, user_sd, arrive.size)[user] + rng.standard_normal(user.size)
        index = np.ravel_multi_index((arm[user], day, age[user, day]), (2, days, days))
        for k, value in enumerate((np.ones_like(y), y, y**2)):
            cells[run, k] = np.bincount(index, value, minlength=2 * days**2).reshape(2, days, days)
    return cells


@pytest.mark.slow
def test_shared_users_break_pooled_series_but_not_cohorts_of_one_day():
    """The module docstring's claim, measured: with persistent user effects the pooled
    by-age and calendar-day trend tests reject far more often than alpha (points share
    returning users), while the cohorts active on the last day, disjoint users, keep the
    level within a 4.5-SE band (2,000 A/A experiments of 47,000 user-days each)."""
    runs, days = 2000, 21
    cells = per_user_cells(runs, 27)
    views = {"exposure_day": cells.sum(axis=-2)[..., : days - 3],
             "calendar_day": cells.sum(axis=-1),
             "last_day": cells[..., days - 1, : days - 3]}
    for by, c in views.items():
        eff = daily_effects(np.arange(c.shape[-1]), c[:, 0, 0], c[:, 1, 0], c[:, 0, 1],
                            c[:, 1, 1], sum_sq_control=c[:, 2, 0], sum_sq_treatment=c[:, 2, 1])
        for scale in ("known", "estimated"):
            rate = np.mean(eff.trend_test(scale=scale).pvalue < 0.05)
            if by == "last_day":
                assert abs(rate - 0.05) < band(0.05, runs), (by, scale, rate)
            else:
                assert rate > 0.05 + band(0.05, runs), (by, scale, rate)


def normal_power(sim: SimulatedDailyEffects, alpha: float = 0.05) -> float:
    """Power of the known-scale test by the normal approximation: expected users per age
    and arm, binomial standard errors at the true rates, slope of the true curve."""
    days = sim.n_days
    k = np.arange(days)
    n = sim.new_users[0] / 2 * (days - k) * np.where(k == 0, 1.0, sim.return_rate)
    p_c, p_t = sim.baseline, sim.baseline + sim.true_effect_by_exposure_day
    se = np.sqrt(p_c * (1 - p_c) / n + p_t * (1 - p_t) / n)
    fit = sm.WLS(sim.true_effect_by_exposure_day, sm.add_constant(k), weights=1 / se**2).fit(
        cov_type="fixed scale")
    shift = abs(fit.params[1]) / fit.bse[1]
    z = stats.norm.isf(alpha / 2)
    return stats.norm.cdf(shift - z) + stats.norm.cdf(-shift - z)


def test_trend_test_power_matches_the_normal_approximation():
    """A weak novelty effect (b = 0.006): the simulated power of the by-age trend test agrees
    with the normal approximation (independent: statsmodels WLS on the true curve with the
    expected standard errors), and the calendar-day series has much less power."""
    runs = 3000
    design = dict(NOVELTY, amplitude=0.006, tau=4.0, new_users_per_day=3000, return_rate=0.3)
    sim = simulate_daily_effects(**design, n_experiments=runs, rng=23)
    res = trend_test_power(sim)
    expected = normal_power(sim)
    assert 0.3 < expected < 0.8
    assert abs(res.power - expected) < band(expected, runs)
    assert res.ci_low < res.power < res.ci_high
    assert res.mc_se == pytest.approx(np.sqrt(res.power * (1 - res.power) / runs))
    calendar = trend_test_power(sim, by="calendar_day")
    assert calendar.power < res.power - 0.1
    last_day = trend_test_power(sim, by="last_day")
    assert last_day.power < res.power and last_day.by == "last_day"
    assert "rejected in" in res.explain() and isinstance(res, TrendTestPower)


def coverage(runs: int, seed: int, design: dict) -> None:
    sim = simulate_daily_effects(**design, n_experiments=runs, rng=seed)
    res = sim.by_exposure_day().fit_decay()
    assert res.identified.mean() > 0.99
    a, tau = design["long_run_effect"], design["tau"]
    covered = (res.ci_low <= a) & (a <= res.ci_high)
    assert abs(covered.mean() - 0.95) < band(0.95, runs)
    tau_covered = (res.tau_ci_low <= tau) & (tau <= res.tau_ci_high)
    assert abs(tau_covered.mean() - 0.95) < band(0.95, runs)


def test_long_run_interval_coverage():
    """Under a novelty profile the 95% Wald interval for the long-run effect a, and the
    profile-likelihood interval for tau, cover the truth in 95% of 1,000 experiments
    (4.5-SE band)."""
    coverage(1000, 24, NOVELTY)


@pytest.mark.slow
def test_long_run_interval_coverage_slow():
    """10,000 experiments each: binary novelty, and a continuous primacy profile."""
    coverage(10_000, 25, NOVELTY)
    coverage(10_000, 26, CONTINUOUS)


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, message", [
    (dict(n_control=[10, -1, 10]), "n_control must be >= 1, got -1.0 \\(at index 1\\)"),
    (dict(sum_control=[1, 2.5, 3]), "sum_control must be a whole number, got 2.5"),
    (dict(sum_treatment=[1, 20, 3]), "sum_treatment must be <= n_treatment"),
    (dict(day=[0, 1]), "n_control must have one value per element of day \\(2\\)"),
    (dict(day=[[0, 1, 2]]), "day must be a one-dimensional array"),
    (dict(sum_sq_control=[1, 2, 3]), "sum_sq_treatment is missing"),
    (dict(alpha=1.5), "alpha must be in \\(0, 1\\), got 1.5"),
])
def test_daily_effects_bad_input(kwargs, message):
    args = dict(day=[0, 1, 2], n_control=[10, 10, 10], sum_control=[1, 2, 3],
                n_treatment=[10, 10, 10], sum_treatment=[2, 2, 2])
    args.update(kwargs)
    day = args.pop("day")
    with pytest.raises(ValueError, match=message):
        daily_effects(day, **args)


def test_daily_effects_bad_continuous_input():
    with pytest.raises(ValueError, match="sum_sq_control must be >= sum_control\\*\\*2"):
        daily_effects([0], [4], [8.0], [4], [8.0], sum_sq_control=[10.0], sum_sq_treatment=[20.0])
    with pytest.raises(ValueError, match="n_treatment must be >= 2, got 1"):
        daily_effects([0], [4], [8.0], [1], [8.0], sum_sq_control=[20.0], sum_sq_treatment=[64.0])
    with pytest.raises(ValueError, match="sum_sq_treatment must be >= 0"):
        daily_effects([0], [4], [8.0], [4], [8.0], sum_sq_control=[20.0],
                      sum_sq_treatment=[-1.0])
    with pytest.raises(TypeError, match="sum_control must be a number"):
        daily_effects([0], [4], ["x"], [4], [8.0])


@pytest.mark.parametrize("args, kwargs, error, message", [
    (([0, 1], [0.1, 0.2], [0.1, 0.1]), {}, ValueError, "at least 3 time points, got 2"),
    (([0, 0, 0], [0.1, 0.2, 0.3], [0.1] * 3), {}, ValueError, "at least 2 distinct values"),
    (([0, 1, 2], [0.1, 0.2], [0.1] * 3), {}, ValueError, "effect must have one value per"),
    (([0, 1, 2], [0.1, 0.2, 0.3], [0.1, 0.0, 0.1]), {}, ValueError, "se must be > 0"),
    (([0, 1, 2], [0.1, np.nan, 0.3], [0.1] * 3), {}, ValueError, "effect must be finite"),
    (([0, 1, 2], [0.1, 0.2, 0.3], [0.1] * 3), {"scale": "robust"}, ValueError,
     "scale must be one of 'known', 'estimated', got 'robust'"),
    (([0, 1, 2], [0.1, 0.2, 0.3], [0.1] * 3), {"alternative": "lower"}, ValueError,
     "alternative must be one of"),
    (([0, 1, 2], "abc", [0.1] * 3), {}, TypeError, "effect must be a number"),
])
def test_trend_test_bad_input(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        trend_test(*args, **kwargs)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(tau_bounds=(0.0, 5.0)), ValueError, "tau_bounds must be > 0, got 0.0 \\(at index 0\\)"),
    (dict(tau_bounds=(-1.0, 5.0)), ValueError, "tau_bounds must be > 0, got -1.0"),
    (dict(tau_bounds=(5.0, 1.0)), ValueError, "tau_bounds must satisfy low < high"),
    (dict(tau_bounds=3.0), TypeError, "tau_bounds must be a pair"),
    (dict(tau_bounds="ab"), TypeError, "tau_bounds must be a pair"),
    (dict(time=[0, 1, 2]), ValueError, "at least 4 distinct values"),
    (dict(time=[-1, 1, 2, 3, 4]), ValueError, "time must be >= 0"),
    (dict(alpha=0), ValueError, "alpha must be in \\(0, 1\\), got 0"),
])
def test_fit_decay_bad_input(kwargs, error, message):
    time = kwargs.pop("time", [0, 1, 2, 3, 4])
    size = len(time)
    with pytest.raises(error, match=message):
        fit_decay(time, np.linspace(0.1, 0.0, size), np.full(size, 0.01), **kwargs)


@pytest.mark.parametrize("change, error, message", [
    (dict(profile="novel"), ValueError,
     "profile must be one of 'novelty', 'primacy', 'stable', got 'novel'"),
    (dict(metric="count"), ValueError, "metric must be one of 'binary', 'continuous'"),
    (dict(amplitude=0.0), ValueError, "amplitude must be > 0 for profile 'novelty'"),
    (dict(amplitude=-0.01), ValueError, "amplitude must be >= 0"),
    (dict(tau=None), ValueError, "tau must be given"),
    (dict(tau=0.0), ValueError, "tau must be > 0, got 0.0"),
    (dict(profile="stable"), ValueError, "amplitude must be 0 for profile 'stable'"),
    (dict(profile="stable", amplitude=0.0), ValueError, "tau must be None for profile"),
    (dict(baseline=0.99), ValueError,
     "the treatment rate baseline \\+ long_run_effect \\+/- amplitude exp\\(-k / tau\\) must be in "
     "\\[0, 1\\] on every day k, got 1.015 on day 0"),
    (dict(long_run_effect=2.5), ValueError, "the treatment rate baseline \\+ long_run_effect"),
    (dict(n_days=10**6), ValueError,
     "16 \\* n_days\\*\\*2 = 16,000,000,000,000 numbers is too large"),
    (dict(n_days=100, n_experiments=10**6), ValueError,
     "16 \\* n_experiments \\* n_days\\*\\*2 = 160,000,000,000 numbers is too large"),
    (dict(CONTINUOUS, baseline=1e200), ValueError,
     "baseline, long_run_effect, amplitude and sd are too large for floating point"),
    (dict(CONTINUOUS, sd=1e200), ValueError, "amplitude and sd are too large"),
    (dict(CONTINUOUS, long_run_effect=1e308, amplitude=1e308), ValueError,
     "amplitude and sd are too large"),
    (dict(baseline=1.5), ValueError, "baseline must be in \\[0, 1\\], got 1.5"),
    (dict(sd=1.0), ValueError, "sd is only used for metric='continuous'"),
    (dict(metric="continuous"), ValueError, "sd must be given"),
    (dict(n_days=1), ValueError, "n_days must be >= 2, got 1"),
    (dict(n_days=2.5), TypeError, "n_days must be an integer"),
    (dict(new_users_per_day=-5), ValueError, "new_users_per_day must be >= 0, got -5.0"),
    (dict(new_users_per_day=10.5), ValueError, "new_users_per_day must be a whole number"),
    (dict(new_users_per_day=[5, 5]), ValueError, "new_users_per_day must be one number or"),
    (dict(new_users_per_day=[1] + [5] * 20), ValueError, ">= 2 on the first day"),
    (dict(return_rate=1.2), ValueError, "return_rate must be in \\[0, 1\\], got 1.2"),
    (dict(return_rate=0.0, new_users_per_day=[5, 0] + [5] * 19), ValueError,
     "new_users_per_day must be > 0 on every day when return_rate is 0"),
    (dict(n_experiments=0), ValueError, "n_experiments must be >= 1, got 0"),
    (dict(rng=None), TypeError, "rng must be a numpy.random.Generator"),
])
def test_simulate_bad_input(change, error, message):
    args = dict(NOVELTY, rng=1)
    args.update(change)
    with pytest.raises(error, match=message):
        simulate_daily_effects(**args)


def test_power_and_views_bad_input():
    one = simulate_daily_effects(**NOVELTY, rng=1)
    with pytest.raises(ValueError, match="many experiments"):
        trend_test_power(one)
    with pytest.raises(TypeError, match="simulation must come from simulate_daily_effects"):
        trend_test_power(one.by_exposure_day())
    many = simulate_daily_effects(**NOVELTY, n_experiments=3, rng=1)
    with pytest.raises(ValueError, match="by must be one of"):
        trend_test_power(many, by="week")
    with pytest.raises(ValueError, match="max_day is only used with by='exposure_day'"):
        trend_test_power(many, by="calendar_day", max_day=3)
    with pytest.raises(ValueError, match="max_day must be < n_days = 21, got 21"):
        one.by_exposure_day(max_day=21)
    with pytest.raises(ValueError, match="max_day must be >= 0"):
        one.by_exposure_day(max_day=-1)
    with pytest.raises(ValueError, match="needs at least 3 days, got 2: pass max_day >= 2"):
        trend_test_power(many, max_day=1)
    two_days = simulate_daily_effects(**dict(NOVELTY, n_days=2), n_experiments=3, rng=1)
    with pytest.raises(ValueError, match="needs at least 3 days, got 2: simulate n_days >= 3"):
        trend_test_power(two_days, by="last_day")


def test_simulate_with_a_tiny_tau_changes_only_on_the_first_day():
    """tau = 1e-320 days: exp(-k / tau) underflows to 0 for k >= 1 (no overflow warning), so
    the curve is a + b on day 0 and a afterwards."""
    sim = simulate_daily_effects(**dict(NOVELTY, tau=1e-320), rng=1)
    expected = np.r_[0.025, np.full(20, 0.005)]
    np.testing.assert_allclose(sim.true_effect_by_exposure_day, expected, rtol=1e-12)


def test_decay_predict_checks_time_and_stays_finite():
    t = np.arange(8.0)
    fit = fit_decay(t, 0.01 + 0.03 * np.exp(-t / 2), 0.001)
    with pytest.raises(ValueError, match="time must be >= 0, got -1e\\+200"):
        fit.predict(-1e200)
    # far beyond the data the curve is its long-run value a, for any tau
    np.testing.assert_allclose(fit.predict([1e300]), [fit.long_run_effect], rtol=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda: trend_test([0, 1, 2, 3], [0.05, 0.04, 0.02, 0.02], 1e200, scale="estimated"),
     "effect is too small relative to se for floating point"),
    (lambda: trend_test([0, 1, 2, 3], [0.05, 0.05, 0.05, 0.05], 0.01, scale="estimated"),
     "the effects lie exactly on a straight line"),
    (lambda: fit_decay(np.arange(4), np.zeros((2_000_000, 4)), 1.0),
     "200 tau values \\* 2,000,000 series = 400,000,000 numbers is too large"),
])
def test_series_out_of_floating_point_range(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- fuzz ------------------------------------------------------------------------------------

FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=64)
REASONABLE = st.floats(-1e6, 1e6)


def assert_no_nan(record) -> None:
    for name, value in vars(record).items():
        if isinstance(value, (float, np.ndarray)) and np.asarray(value).dtype.kind == "f":
            assert not np.isnan(value).any(), name


@settings(max_examples=150)
@given(
    time=hnp.arrays(np.float64, st.integers(1, 8), elements=FLOATS),
    effect=hnp.arrays(np.float64, st.integers(1, 8), elements=FLOATS),
    se=hnp.arrays(np.float64, st.integers(1, 8), elements=FLOATS),
    scale=st.sampled_from(["known", "estimated"]),
)
def test_trend_test_fuzz(time, effect, se, scale):
    """Any input either raises ValueError/TypeError or gives a result without NaN."""
    try:
        res = trend_test(time, effect, se, scale=scale)
    except (ValueError, TypeError) as exc:
        assert any(name in str(exc) for name in ("time", "effect", "se", "trend", "line",
                                                 "weight"))
        return
    assert_no_nan(res)


@settings(max_examples=60)
@given(
    data=st.data(),
    points=st.integers(4, 10),
    scale_exponent=st.integers(-8, 6),
)
def test_fit_decay_fuzz(data, points, scale_exponent):
    """Valid series of any scale give finite estimates (or flagged infinities), never NaN."""
    time = np.sort(data.draw(hnp.arrays(np.float64, points, elements=st.floats(0, 100),
                                        unique=True)))
    effect = data.draw(hnp.arrays(np.float64, points, elements=REASONABLE)) * 10.0**scale_exponent
    se = data.draw(hnp.arrays(np.float64, points, elements=st.floats(1e-3, 1e3))) \
        * 10.0**scale_exponent
    try:
        res = fit_decay(time, effect, se)
    except ValueError as exc:
        assert "distinct" in str(exc) or "too large" in str(exc)
        return
    assert_no_nan(res)
    assert np.isfinite(res.long_run_effect) and res.tau > 0
    assert res.tau_ci_low <= res.tau <= res.tau_ci_high


@settings(max_examples=100)
@given(
    time=hnp.arrays(np.float64, st.integers(1, 7), elements=FLOATS),
    effect=hnp.arrays(np.float64, st.integers(1, 7), elements=FLOATS),
    se=hnp.arrays(np.float64, st.integers(1, 7), elements=FLOATS),
    tau_bounds=st.one_of(st.none(), st.tuples(FLOATS, FLOATS), st.floats()),
)
def test_fit_decay_bad_input_fuzz(time, effect, se, tau_bounds):
    """Arbitrary arrays and bounds: an error naming the argument, or a result without NaN."""
    try:
        res = fit_decay(time, effect, se, tau_bounds=tau_bounds)
    except (ValueError, TypeError) as exc:
        assert any(name in str(exc) for name in ("time", "effect", "se", "tau_bounds"))
        return
    assert_no_nan(res)


@settings(max_examples=100)
@given(
    n=hnp.arrays(np.int64, (2, 3), elements=st.integers(-1, 40)),
    sums=hnp.arrays(np.float64, (2, 3), elements=st.floats(-1e3, 1e3)),
    squares=hnp.arrays(np.float64, (2, 3), elements=st.floats(-10, 1e6)),
)
def test_daily_effects_continuous_fuzz(n, sums, squares):
    try:
        res = daily_effects([0, 1, 2], n[0], sums[0], n[1], sums[1], sum_sq_control=squares[0],
                            sum_sq_treatment=squares[1])
    except ValueError as exc:
        assert any(name in str(exc) for name in ("n_control", "n_treatment", "sum_sq_control",
                                                 "sum_sq_treatment"))
        return
    assert_no_nan(res)
    assert np.all(res.se >= 0)


@settings(max_examples=100)
@given(
    n_c=hnp.arrays(np.int64, 4, elements=st.integers(-3, 50)),
    x_c=hnp.arrays(np.int64, 4, elements=st.integers(-3, 50)),
    n_t=hnp.arrays(np.int64, 4, elements=st.integers(-3, 50)),
    x_t=hnp.arrays(np.int64, 4, elements=st.integers(-3, 50)),
)
def test_daily_effects_fuzz(n_c, x_c, n_t, x_t):
    try:
        res = daily_effects(np.arange(4), n_c, x_c, n_t, x_t)
    except ValueError as exc:
        assert any(name in str(exc) for name in ("n_control", "sum_control", "n_treatment",
                                                 "sum_treatment"))
        return
    assert_no_nan(res)
    assert np.all(res.se >= 0)


@settings(max_examples=40)
@given(
    profile=st.sampled_from(["novelty", "primacy", "stable", "other"]),
    amplitude=st.floats(0, 0.2),
    tau=st.one_of(st.none(), st.floats(-1, 20)),
    baseline=st.floats(-0.1, 1.1),
    n_days=st.integers(0, 8),
    new=st.one_of(st.integers(0, 200), hnp.arrays(np.int64, st.integers(1, 8),
                                                  elements=st.integers(0, 50))),
    return_rate=st.floats(-0.1, 1.1),
)
def test_simulate_fuzz(profile, amplitude, tau, baseline, n_days, new, return_rate):
    """Random designs either raise an error naming the argument or simulate finite cells
    whose analyses raise clear errors or give results without NaN."""
    names = ("profile", "amplitude", "tau", "baseline", "n_days", "new_users_per_day",
             "return_rate")
    try:
        sim = simulate_daily_effects(profile=profile, long_run_effect=0.0, amplitude=amplitude,
                                     tau=tau, baseline=baseline, n_days=n_days,
                                     new_users_per_day=new, return_rate=return_rate,
                                     n_experiments=3, rng=0)
    except (ValueError, TypeError) as exc:
        assert any(name in str(exc) for name in names)
        return
    assert isinstance(sim, SimulatedDailyEffects)
    for view in (sim.by_calendar_day, sim.by_exposure_day, sim.on_calendar_day):
        try:
            eff = view()
        except ValueError as exc:
            assert "fewer than" in str(exc) and "users in an arm" in str(exc)
            continue
        assert isinstance(eff, DailyEffects)
        assert_no_nan(eff)
        try:
            assert_no_nan(eff.trend_test())
        except ValueError as exc:
            assert "se must be > 0" in str(exc) or "trend" in str(exc) or "distinct" in str(exc)


def test_no_runtime_warnings_on_extremes():
    """Huge and tiny but finite numbers: results or clear errors, no numpy warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = trend_test([0, 1, 2, 3], [1e-300, 2e-300, 0, 1e-300], [1e-300] * 4)
        assert np.isfinite(res.statistic)
        with pytest.raises(ValueError, match="too large"):
            trend_test([0, 1, 2, 3], [1e308, -1e308, 1e308, -1e308], [1.0] * 4)
        fit = fit_decay([0, 1, 2, 3, 4], [1e-200, 5e-201, 3e-201, 2e-201, 2e-201], [1e-202] * 5)
        assert isinstance(fit, DecayFit) and fit.identified
        # relative weights 1, 1e-400, 1e-800 underflow: only one point counts
        with pytest.raises(ValueError, match="slope is not estimable"):
            trend_test([0, 1, 2], [1, 2, 4], [1e-200, 1, 1e200])
        assert isinstance(trend_test([0, 1, 2], [1, 2, 4], [1e-100, 1e-100, 1e100]), TrendTest)


def test_explain_reads_the_residual_chi_square_against_its_df():
    """The residual line says "far above" only when the chi-square really is (p < 0.05)."""
    t = np.arange(10.0)
    se = np.full(10, 0.01)
    straight = 0.02 - 0.001 * t + 0.002 * np.array([1, -1] * 5) * 0.5
    curved = 0.02 + 0.03 * np.exp(-t / 2)
    assert "in line with its df" in trend_test(t, straight, se).explain()
    assert "far above its df" in trend_test(t, curved, se / 10).explain()


# Every public function and method, one argument at a time replaced by a hostile value: only a
# ValueError or TypeError that names the argument, no NaN, no numpy warning, nothing that runs
# away (n_days or n_experiments of 10**12 are refused before anything is drawn).
HOSTILE = st.sampled_from([
    None, "abc", "", True, np.bool_(False), np.nan, np.inf, -np.inf, 1e308, -1e308, 1e200, 0,
    -1, 0.0, 5e-324, 10**12, 10**30, -10**30, [], [[1.0]], [np.nan], [0.05, 0.1], {"a": 1},
    complex(1, 1), object(),
])
SMALL = dict(NOVELTY, n_days=8, new_users_per_day=500)
MANY = simulate_daily_effects(**SMALL, n_experiments=5, rng=1)
ONE = simulate_daily_effects(**SMALL, rng=1)
FIT = fit_decay(np.arange(8.0), 0.01 + 0.03 * np.exp(-np.arange(8.0) / 2), 0.001)
PUBLIC = {
    "daily_effects": (daily_effects, dict(
        day=[0, 1, 2], n_control=[100, 100, 100], sum_control=[10, 12, 11],
        n_treatment=[100, 100, 100], sum_treatment=[13, 12, 15], alpha=0.05)),
    "daily_effects_continuous": (daily_effects, dict(
        day=[0, 1, 2], n_control=[100, 100, 100], sum_control=[10, 12, 11],
        n_treatment=[100, 100, 100], sum_treatment=[13, 12, 15],
        sum_sq_control=[50, 50, 50], sum_sq_treatment=[60, 60, 60])),
    "trend_test": (trend_test, dict(time=[0, 1, 2, 3], effect=[0.05, 0.04, 0.02, 0.02],
                                    se=[0.01] * 4, scale="estimated", alternative="smaller",
                                    alpha=0.05)),
    "fit_decay": (fit_decay, dict(time=[0, 1, 2, 3, 4, 5],
                                  effect=[0.05, 0.04, 0.03, 0.025, 0.022, 0.021],
                                  se=[0.01] * 6, tau_bounds=(0.5, 50.0), alpha=0.05)),
    "simulate_daily_effects": (simulate_daily_effects, dict(SMALL, sd=None, metric="binary",
                                                            n_experiments=None, rng=1)),
    "simulate_daily_effects_continuous": (simulate_daily_effects, dict(
        CONTINUOUS, n_days=6, new_users_per_day=300, n_experiments=2, rng=1)),
    "trend_test_power": (trend_test_power, dict(simulation=MANY, by="exposure_day", max_day=5,
                                                scale="known", alternative="two-sided",
                                                alpha=0.05)),
    "by_exposure_day": (ONE.by_exposure_day, dict(max_day=5)),
    "on_calendar_day": (ONE.on_calendar_day, dict(day=5)),
    "predict": (FIT.predict, dict(time=[0.0, 1.0, 30.0])),
}
# A changed argument can make another one wrong: then the error names that one.
RELATED = {"day": ("n_control",), "time": ("effect",), "new_users_per_day": ("n_days",),
           "long_run_effect": ("baseline",), "amplitude": ("baseline",), "tau": ("baseline",)}


@pytest.mark.parametrize("label", list(PUBLIC))
@settings(max_examples=30)
@given(data=st.data())
def test_fuzz_every_public_function_one_bad_argument(label, data):
    func, valid = PUBLIC[label]
    name = data.draw(st.sampled_from(sorted(valid)), label="argument")
    kwargs = dict(valid, **{name: data.draw(HOSTILE, label="value")})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            result = func(**kwargs)
        except (ValueError, TypeError) as exc:
            names = (name,) + RELATED.get(name, ())
            assert any(n in str(exc) for n in names), str(exc)
        else:
            if isinstance(result, (np.ndarray, np.floating)):
                assert not np.isnan(result).any()
            else:
                assert_no_nan(result)
                result.explain()


@pytest.mark.parametrize("tau_bounds", [[[1, 2], [3]], [[1.0], 2.0], [1.0, [2.0, 3.0]]])
def test_ragged_tau_bounds_are_refused_by_name(tau_bounds):
    # found by tests/test_fuzz_public.py: numpy's "setting an array element with a sequence"
    with pytest.raises(TypeError, match=r"tau_bounds must be a pair \(low, high\)"):
        fit_decay([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [0.5, 0.35, 0.28, 0.22, 0.21, 0.2],
                  [0.03] * 6, tau_bounds=tau_bounds)
