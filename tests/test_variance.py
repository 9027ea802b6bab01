"""Tests of abteach.variance: CUPED adjustment and test."""

from __future__ import annotations

import warnings
from dataclasses import fields

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

import published
from abteach.power import power_means
from abteach.variance import CupedAdjustment, CupedTest, cuped_adjust, cuped_test

NUMERIC = tuple(
    f.name for f in fields(CupedTest)
    if f.name not in ("alternative", "alpha", "missing", "n_control", "n_treatment")
)
ALTERNATIVES = ("two-sided", "larger", "smaller")


def band(rate: float, runs: int, width: float = 4.5) -> float:
    """Half-width of a binomial tolerance band: `width` standard errors of a rate over `runs`."""
    return width * np.sqrt(rate * (1 - rate) / runs)


def variance_band(runs: int, width: float = 4.5) -> float:
    """Relative half-width for a sample variance of `runs` normal draws: sd(s^2) / sigma^2 =
    sqrt(2 / (runs - 1))."""
    return width * np.sqrt(2 / (runs - 1))


def experiments(runs, n, *, rho, effect=0.0, seed, x_shift=0.0, n_treatment=None):
    """`runs` experiments (rows) with `n` control units: X ~ N(5, 2^2) before the experiment,
    Y = 10 + 3 (rho Z_x + sqrt(1 - rho^2) E) during it, so corr(Y, X) = rho and sd(Y) = 3;
    the treatment adds `effect` to Y and `x_shift` to X (a covariate it affects)."""
    rng = np.random.default_rng(seed)
    arms = []
    for size, y_add, x_add in ((n, 0.0, 0.0), (n_treatment or n, effect, x_shift)):
        z = rng.standard_normal((runs, size))
        noise = rng.standard_normal((runs, size))
        x = 5 + 2 * z + x_add
        y = 10 + 3 * (rho * z + np.sqrt(1 - rho**2) * noise) + y_add
        arms += [y, x]
    return tuple(arms)  # y_control, x_control, y_treatment, x_treatment


# --- published claim: Deng, Xu, Kohavi & Walker (2013) -------------------------------------


def test_cu01_correlation_071_halves_the_variance():
    """Deng, Xu, Kohavi & Walker (2013), WSDM, section 3.2 and abstract (published_numbers.md,
    CU01): Var(Y - theta X) = Var(Y)(1 - rho^2) with theta = cov(Y, X) / var(X); a pre-period
    correlation of 0.71 gives 1 - 0.71^2 = 0.4959, about half the variance."""
    assert published.matches(1 - 0.71**2, "CU01")
    y_c, x_c, y_t, x_t = experiments(1, 100_000, rho=0.71, seed=1)
    res = cuped_test(y_c[0], x_c[0], y_t[0], x_t[0])
    # sd of the estimated 1 - rho^2 is about 2 rho (1 - rho^2) / sqrt(n) = 0.0016 here
    assert abs(res.variance_factor - 0.4959) < 4.5 * 2 * 0.71 * 0.4959 / np.sqrt(200_000)
    assert abs(res.se / res.unadjusted_se - np.sqrt(0.4959)) < 0.01
    assert res.n_equivalent == pytest.approx(200_000 / res.variance_factor)
    assert 1.95 < res.n_equivalent / 200_000 < 2.08  # twice the users without CUPED


def test_cu01_same_power_with_half_the_users():
    """Deng et al. (2013): "the same statistical power with only half of the users". With
    rho = 0.71, CUPED on 200 users per arm has the power of the plain t-test on 200 / 0.4959
    = 403 users per arm (abteach.power.power_means, checked against G*Power elsewhere), and
    far more than the plain test on the same 200."""
    runs, n = 10_000, 200
    delta = 0.6  # sd(Y) = 3, sd(Y') = 3 sqrt(0.4959) = 2.11
    res = cuped_test(*experiments(runs, n, rho=0.71, effect=delta, seed=2))
    cuped_power = float(np.mean(res.pvalue < 0.05))
    plain_power = float(np.mean(res.unadjusted_pvalue < 0.05))
    twice_the_users = power_means(delta, 3.0, n / 0.4959, test="t")
    assert abs(cuped_power - twice_the_users) < band(twice_the_users, runs)
    same_users = power_means(delta, 3.0, n, test="t")
    assert abs(plain_power - same_users) < band(same_users, runs)
    assert cuped_power - plain_power > 0.2


# --- the identity Var(Y') = Var(Y)(1 - rho^2) ---------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_sample_identity_is_exact(seed):
    """With the sample theta, var(Y') = var(Y)(1 - r^2) holds exactly for the sample r
    (numpy's corrcoef and var, an independent computation)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 5000))
    x = rng.lognormal(1, 1, n)
    y = rng.uniform(-2, 2) * x + rng.gamma(2, 3, n)
    res = cuped_adjust(y, x)
    r = np.corrcoef(y, x)[0, 1]
    assert np.var(res.adjusted) == pytest.approx(np.var(y) * (1 - r**2), rel=1e-9)
    assert res.variance_factor == pytest.approx(1 - r**2, rel=1e-9, abs=1e-15)
    assert res.rho == pytest.approx(r, rel=1e-12)
    assert np.mean(res.adjusted) == pytest.approx(np.mean(y), rel=1e-12, abs=1e-12)


def test_estimated_theta_minimises_the_variance():
    """var(Y - theta X) is a parabola in theta with its minimum 1 - rho^2 at the OLS slope."""
    y_c, x_c, _, _ = experiments(1, 2000, rho=0.6, seed=3)
    y, x = y_c[0], x_c[0]
    best = cuped_adjust(y, x)
    grid = best.theta + np.linspace(-1, 1, 41)
    factors = np.array([cuped_adjust(y, x, theta=t).variance_factor for t in grid])
    assert np.argmin(factors) == 20
    assert np.all(factors >= best.variance_factor - 1e-12)
    # exact parabola: var(Y - tX) / var(Y) = 1 - 2 t cov / var(Y) + t^2 var(X) / var(Y)
    c = np.cov(y, x, ddof=0)
    expected = 1 - 2 * grid * c[0, 1] / c[0, 0] + grid**2 * c[1, 1] / c[0, 0]
    assert factors == pytest.approx(expected, rel=1e-9)


def test_given_theta_is_used_and_theta_one_is_difference_in_differences():
    y = np.array([3.0, 5.0, 4.0, 8.0])
    x = np.array([1.0, 2.0, 2.0, 3.0])
    res = cuped_adjust(y, x, theta=1.0)
    assert res.theta == 1.0
    assert res.adjusted.tolist() == pytest.approx((y - x + x.mean()).tolist())
    assert cuped_adjust(y, x, theta=0.0).adjusted.tolist() == y.tolist()


@pytest.mark.parametrize("rho", [0.3, 0.71, 0.9])
def test_simulated_variance_of_the_effect_is_reduced_by_one_minus_rho_squared(rho):
    """Across 8,000 simulated experiments the CUPED effect has variance (1 - rho^2) times
    that of the plain difference sd^2 (1/n_c + 1/n_t) (up to the O(1/n) cost of estimating
    theta), and the estimated variance factor averages 1 - rho^2."""
    runs, n = 8000, 250
    res = cuped_test(*experiments(runs, n, rho=rho, effect=0.5, seed=4))
    plain = 9.0 * 2 / n
    assert abs(np.var(res.unadjusted_effect) / plain - 1) < variance_band(runs)
    assert abs(np.var(res.effect) / (plain * (1 - rho**2)) - 1) < variance_band(runs)
    spread = np.std(res.variance_factor) / np.sqrt(runs)
    assert abs(np.mean(res.variance_factor) - (1 - rho**2)) < 4.5 * spread + 2 / n


# --- independent implementations: statsmodels OLS and scipy --------------------------------


def stacked(y_c, x_c, y_t, x_t):
    y = np.r_[y_c, y_t]
    x = np.r_[x_c, x_t]
    treated = np.r_[np.zeros(len(y_c)), np.ones(len(y_t))]
    return y, x, treated


@pytest.mark.parametrize("seed", range(6))
def test_theta_is_the_pooled_ols_slope(seed):
    y_c, x_c, y_t, x_t = (a[0] for a in experiments(1, 300 + 50 * seed, rho=0.5, effect=1.0,
                                                    seed=10 + seed, n_treatment=200))
    y, x, _ = stacked(y_c, x_c, y_t, x_t)
    fit = sm.OLS(y, sm.add_constant(x)).fit()
    res = cuped_test(y_c, x_c, y_t, x_t)
    assert res.theta == pytest.approx(fit.params[1], rel=1e-10)
    assert res.variance_factor == pytest.approx(1 - fit.rsquared, rel=1e-10)


@pytest.mark.parametrize("seed", range(6))
def test_regression_with_treatment_dummy_is_cuped_with_the_within_arm_theta(seed):
    """OLS Y ~ T + (X - mean X): its treatment coefficient equals the CUPED effect computed
    with theta = the regression's X coefficient (the within-arm slope). CUPED's pooled theta
    differs, and the two effects differ by exactly (theta_ols - theta_pooled)(mean X_t -
    mean X_c): a term of order 1/n, far below the standard error."""
    y_c, x_c, y_t, x_t = (a[0] for a in experiments(1, 2000, rho=0.7, effect=0.8,
                                                    seed=20 + seed, n_treatment=1500))
    y, x, treated = stacked(y_c, x_c, y_t, x_t)
    design = np.column_stack([np.ones_like(y), treated, x - x.mean()])
    fit = sm.OLS(y, design).fit()
    theta_ols = fit.params[2]
    within = cuped_adjust(y, x, theta=theta_ols).adjusted
    assert within[treated == 1].mean() - within[treated == 0].mean() == pytest.approx(
        fit.params[1], rel=1e-10)
    res = cuped_test(y_c, x_c, y_t, x_t)
    assert res.effect - fit.params[1] == pytest.approx(
        (theta_ols - res.theta) * (x_t.mean() - x_c.mean()), rel=1e-6, abs=1e-13)
    assert abs(res.effect - fit.params[1]) < 0.01 * res.se


@pytest.mark.parametrize("seed", range(6))
def test_standard_error_is_hc2_of_the_adjusted_values_on_the_dummy(seed):
    """Welch's SE of the adjusted values equals statsmodels' HC2 robust SE of the treatment
    coefficient in OLS Y' ~ T (an exact identity for a two-group regression)."""
    y_c, x_c, y_t, x_t = (a[0] for a in experiments(1, 500, rho=0.8, effect=0.3,
                                                    seed=30 + seed, n_treatment=350))
    res = cuped_test(y_c, x_c, y_t, x_t)
    y, x, treated = stacked(y_c, x_c, y_t, x_t)
    adjusted = y - res.theta * (x - x.mean())
    fit = sm.OLS(adjusted, sm.add_constant(treated)).fit(cov_type="HC2")
    assert res.effect == pytest.approx(fit.params[1], rel=1e-10)
    assert res.se == pytest.approx(fit.bse[1], rel=1e-10)


@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_tests_match_scipy_welch(alternative):
    """The adjusted and unadjusted tests are scipy's Welch t-test on Y' and on Y, and the
    covariate check is scipy's two-sided Welch test on X."""
    y_c, x_c, y_t, x_t = (a[0] for a in experiments(1, 80, rho=0.6, effect=0.7, seed=40,
                                                    n_treatment=120))
    res = cuped_test(y_c, x_c, y_t, x_t, alternative=alternative, alpha=0.1)
    adjusted = cuped_adjust(np.r_[y_c, y_t], np.r_[x_c, x_t]).adjusted
    sp_alt = {"two-sided": "two-sided", "larger": "greater", "smaller": "less"}[alternative]
    ref = stats.ttest_ind(adjusted[80:], adjusted[:80], equal_var=False, alternative=sp_alt)
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-10)
    assert res.pvalue == pytest.approx(ref.pvalue, rel=1e-9)
    assert res.df == pytest.approx(ref.df, rel=1e-10)
    ci = ref.confidence_interval(0.9)
    assert (res.ci_low, res.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-9)
    plain = stats.ttest_ind(y_t, y_c, equal_var=False, alternative=sp_alt)
    assert res.unadjusted_pvalue == pytest.approx(plain.pvalue, rel=1e-9)
    assert res.unadjusted_effect == pytest.approx(y_t.mean() - y_c.mean(), rel=1e-12)
    covariate = stats.ttest_ind(x_t, x_c, equal_var=False)
    assert res.covariate_pvalue == pytest.approx(covariate.pvalue, rel=1e-9)
    assert res.covariate_difference == pytest.approx(x_t.mean() - x_c.mean(), rel=1e-12)


def with_new_users(seed, n_c=600, n_t=500, share=0.3):
    """Experiment data where a share of users has no pre-period X (NaN) and a different mean."""
    rng = np.random.default_rng(seed)
    y_c, x_c, y_t, x_t = (a[0] for a in experiments(1, n_c, rho=0.7, effect=0.5,
                                                    seed=seed, n_treatment=n_t))
    new_c, new_t = rng.uniform(size=n_c) < share, rng.uniform(size=n_t) < share
    y_c, y_t = y_c + 2.0 * new_c, y_t + 2.0 * new_t
    return y_c, np.where(new_c, np.nan, x_c), y_t, np.where(new_t, np.nan, x_t)


@pytest.mark.parametrize("fill", [0.0, -3.5, 1e3])
def test_missing_indicator_is_ols_on_filled_x_and_the_indicator(fill):
    """Deng et al. (2013), section 4.2: add the indicator "X missing" as a covariate and fill
    the missing X with any constant. The adjusted values are the residuals of that OLS
    regression (statsmodels) plus the mean of Y, whatever the constant; 1 - R^2 is the
    variance factor and the X coefficient is theta."""
    y_c, x_c, y_t, x_t = with_new_users(50)
    y = np.r_[y_c, y_t]
    x = np.r_[x_c, x_t]
    missing = np.isnan(x)
    design = np.column_stack([np.ones_like(y), np.where(missing, fill, x), missing])
    fit = sm.OLS(y, design).fit()
    res = cuped_adjust(y, x, missing="indicator")
    assert res.adjusted - y.mean() == pytest.approx(fit.resid, rel=1e-8, abs=1e-9)
    assert res.theta == pytest.approx(fit.params[1], rel=1e-10)
    assert res.variance_factor == pytest.approx(1 - fit.rsquared, rel=1e-10)
    assert res.n_missing == int(missing.sum())
    if fill == 0.0:
        filled_at_mean = design.copy()
        filled_at_mean[missing, 1] = np.nanmean(x)
        ref = sm.OLS(y, filled_at_mean).fit()
        assert res.theta_missing == pytest.approx(ref.params[2], rel=1e-10)
        assert res.theta_missing == pytest.approx(y[missing].mean() - y[~missing].mean())


def test_missing_indicator_test_matches_the_regression_and_counts_users():
    y_c, x_c, y_t, x_t = with_new_users(51)
    res = cuped_test(y_c, x_c, y_t, x_t, missing="indicator")
    assert res.n_missing_control == int(np.isnan(x_c).sum())
    assert res.n_missing_treatment == int(np.isnan(x_t).sum())
    adjusted = cuped_adjust(np.r_[y_c, y_t], np.r_[x_c, x_t], missing="indicator").adjusted
    ref = stats.ttest_ind(adjusted[600:], adjusted[:600], equal_var=False)
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-10)
    complete = ~np.isnan(np.r_[x_c, x_t])
    observed_rho = np.corrcoef(np.r_[y_c, y_t][complete], np.r_[x_c, x_t][complete])[0, 1]
    assert res.rho == pytest.approx(observed_rho, rel=1e-10)
    assert "users have no X" in res.explain()


def test_indicator_without_missing_values_is_plain_cuped():
    data = tuple(a[0] for a in experiments(1, 300, rho=0.5, effect=0.2, seed=52))
    plain = cuped_test(*data)
    indicator = cuped_test(*data, missing="indicator")
    for name in NUMERIC:
        assert getattr(indicator, name) == getattr(plain, name), name


# --- seeded simulations of the test -------------------------------------------------------

RUNS = 10_000


@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_type_one_error_at_alpha(alternative):
    """A/A experiments (no effect), rho = 0.7, 100 + 120 units: rejection rate alpha."""
    res = cuped_test(*experiments(RUNS, 100, rho=0.7, seed=60, n_treatment=120),
                     alternative=alternative)
    rate = float(np.mean(res.pvalue < 0.05))
    assert abs(rate - 0.05) < band(0.05, RUNS)


@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_interval_coverage(alternative):
    """The interval covers the true effect (0.4) with probability 1 - alpha = 0.9."""
    res = cuped_test(*experiments(RUNS, 150, rho=0.8, effect=0.4, seed=61),
                     alternative=alternative, alpha=0.1)
    covered = float(np.mean((res.ci_low <= 0.4) & (0.4 <= res.ci_high)))
    assert abs(covered - 0.9) < band(0.9, RUNS)
    assert abs(np.mean(res.effect) - 0.4) < 4.5 * np.std(res.effect) / np.sqrt(RUNS)


def test_type_one_error_and_coverage_with_new_users():
    """30% of users have no pre-period data and a different mean; missing="indicator"."""
    rng = np.random.default_rng(62)
    y_c, x_c, y_t, x_t = experiments(RUNS, 120, rho=0.7, effect=0.3, seed=62)
    new_c, new_t = rng.uniform(size=y_c.shape) < 0.3, rng.uniform(size=y_t.shape) < 0.3
    res = cuped_test(y_c + 2 * new_c, np.where(new_c, np.nan, x_c), y_t + 2 * new_t,
                     np.where(new_t, np.nan, x_t), missing="indicator")
    covered = float(np.mean((res.ci_low <= 0.3) & (0.3 <= res.ci_high)))
    assert abs(covered - 0.95) < band(0.95, RUNS)
    assert np.mean(res.se) < np.mean(res.unadjusted_se)


@pytest.mark.slow
@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_type_one_error_and_coverage_slow(alternative):
    """Skewed metric (gamma Y, lognormal X), unequal arms, 50,000 runs in chunks, alpha 0.01."""
    runs, chunks, n_c, n_t = 50_000, 10, 300, 200
    rng = np.random.default_rng(63)
    rejections = covered = 0
    for _ in range(chunks):
        x_c = rng.lognormal(0, 0.5, (runs // chunks, n_c))
        x_t = rng.lognormal(0, 0.5, (runs // chunks, n_t))
        y_c = 2 * x_c + rng.gamma(4, 0.5, x_c.shape)
        y_t = 2 * x_t + rng.gamma(4, 0.5, x_t.shape)
        res = cuped_test(y_c, x_c, y_t, x_t, alternative=alternative, alpha=0.01)
        rejections += int(np.sum(res.pvalue < 0.01))
        covered += int(np.sum((res.ci_low <= 0) & (0 <= res.ci_high)))
    assert abs(rejections / runs - 0.01) < band(0.01, runs)
    assert abs(covered / runs - 0.99) < band(0.99, runs)


def test_covariate_affected_by_the_treatment_biases_the_effect():
    """Pitfall (Deng et al. 2013, section 4.3): X measured during the experiment, and the
    treatment raises it by 0.5. CUPED then subtracts theta * 0.5 of real effect: the mean
    estimate is delta - theta * shift, the interval misses the truth, and the covariate
    check flags the imbalance."""
    runs, delta, shift = 4000, 0.6, 0.5
    res = cuped_test(*experiments(runs, 400, rho=0.7, effect=delta, seed=64, x_shift=shift))
    theta = np.mean(res.theta)  # about rho * 3 / 2 = 1.05
    expected = delta - theta * shift
    assert abs(np.mean(res.effect) - expected) < 4.5 * np.std(res.effect) / np.sqrt(runs)
    covered = float(np.mean((res.ci_low <= delta) & (delta <= res.ci_high)))
    assert covered < 0.5
    # the check is Welch's test of X: it flags at 0.001 as often as its power says
    flagged = power_means(shift, 2.0, 400, alpha=0.001, test="t")
    assert abs(np.mean(res.covariate_pvalue < 0.001) - flagged) < band(flagged, runs)
    assert abs(np.mean(res.unadjusted_effect) - delta) < 4.5 * np.std(
        res.unadjusted_effect) / np.sqrt(runs)  # the plain estimate stays unbiased
    assert "red flag" in cuped_test(*(a[0] for a in experiments(
        1, 5000, rho=0.7, effect=delta, seed=65, x_shift=shift))).explain()


# --- properties ---------------------------------------------------------------------------


def test_batch_equals_one_experiment_at_a_time():
    data = experiments(5, 40, rho=0.5, effect=0.2, seed=70, n_treatment=30)
    y_c, x_c, y_t, x_t = data
    x_c = x_c.copy()
    x_c[1, :5] = np.nan  # a row with new users
    many = cuped_test(y_c, x_c, y_t, x_t, missing="indicator", alternative="larger")
    for row in range(5):
        one = cuped_test(y_c[row], x_c[row], y_t[row], x_t[row], missing="indicator",
                         alternative="larger")
        for name in NUMERIC:
            assert getattr(many, name)[row] == pytest.approx(getattr(one, name), rel=1e-12,
                                                             abs=1e-14), name
    assert many.n_missing_control.tolist() == [0, 5, 0, 0, 0]


def test_swapping_arms_mirrors_the_effect():
    y_c, x_c, y_t, x_t = (a[0] for a in experiments(1, 300, rho=0.6, effect=0.5, seed=71,
                                                    n_treatment=250))
    one = cuped_test(y_c, x_c, y_t, x_t)
    other = cuped_test(y_t, x_t, y_c, x_c)
    assert other.effect == pytest.approx(-one.effect, rel=1e-12)
    assert other.theta == pytest.approx(one.theta, rel=1e-12)
    assert other.pvalue == pytest.approx(one.pvalue, rel=1e-10)


def test_shifting_and_scaling():
    """Adding constants to Y or X changes nothing; scaling Y scales the effect and theta,
    scaling X divides theta; the p-values stay the same."""
    y_c, x_c, y_t, x_t = (a[0] for a in experiments(1, 200, rho=0.6, effect=0.5, seed=72))
    base = cuped_test(y_c, x_c, y_t, x_t)
    shifted = cuped_test(y_c + 100, x_c - 7, y_t + 100, x_t - 7)
    assert shifted.effect == pytest.approx(base.effect, rel=1e-9)
    assert shifted.pvalue == pytest.approx(base.pvalue, rel=1e-8)
    scaled = cuped_test(3 * y_c, x_c / 2, 3 * y_t, x_t / 2)
    assert scaled.effect == pytest.approx(3 * base.effect, rel=1e-10)
    assert scaled.theta == pytest.approx(6 * base.theta, rel=1e-10)
    assert scaled.pvalue == pytest.approx(base.pvalue, rel=1e-9)
    assert scaled.variance_factor == pytest.approx(base.variance_factor, rel=1e-10)


def test_an_unrelated_covariate_changes_little():
    y_c, _, y_t, _ = (a[0] for a in experiments(1, 5000, rho=0.0, effect=0.1, seed=73))
    rng = np.random.default_rng(73)
    res = cuped_test(y_c, rng.normal(size=5000), y_t, rng.normal(size=5000))
    assert res.variance_factor > 0.998
    assert abs(res.effect - res.unadjusted_effect) < 0.05 * res.se


def test_constant_outcome_gives_theta_zero_in_cuped_adjust():
    res = cuped_adjust(np.full(10, 0.1), np.arange(10.0))
    assert (res.theta, res.rho, res.variance_factor) == (0.0, 0.0, 1.0)
    assert np.all(res.adjusted == 0.1)


# --- validation ---------------------------------------------------------------------------

VALID = {
    "y_control": [1.0, 2.0, 4.0, 3.0],
    "covariate_control": [1.0, 1.5, 3.0, 2.5],
    "y_treatment": [2.0, 3.5, 2.5, 5.0],
    "covariate_treatment": [1.0, 2.0, 1.5, 3.0],
}


@pytest.mark.parametrize(
    ("changes", "error", "fragment"),
    [
        ({"y_control": [1.0, 2.0, 3.0]}, ValueError,
         "y_control and covariate_control must have the same shape"),
        ({"covariate_treatment": [1.0, 2.0]}, ValueError,
         "y_treatment and covariate_treatment must have the same shape"),
        ({"y_control": [1.0], "covariate_control": [2.0]}, ValueError,
         "y_control must hold at least 2 units"),
        ({"y_treatment": [1.0], "covariate_treatment": [2.0]}, ValueError,
         "y_treatment must hold at least 2 units"),
        ({"covariate_control": [2.0] * 4, "covariate_treatment": [2.0] * 4}, ValueError,
         "covariate_control and covariate_treatment have zero variance"),
        ({"covariate_control": [0.1] * 4, "covariate_treatment": [0.1] * 4}, ValueError,
         "covariate_control and covariate_treatment have zero variance"),
        ({"covariate_control": [1.0, np.nan, 2.0, 3.0]}, ValueError,
         "covariate_control must be finite, got nan (at index 1); for users without "
         "pre-period data pass missing='indicator'"),
        ({"y_treatment": [1.0, np.inf, 2.0, 3.0]}, ValueError, "y_treatment must be finite"),
        ({"y_control": 3.0}, ValueError, "y_control must be an array"),
        ({"y_control": "1 2 3"}, TypeError, "y_control must be a number"),
        ({"covariate_treatment": None}, TypeError, "covariate_treatment must be a number"),
        ({"covariate_control": [True, False, True, False]}, TypeError,
         "covariate_control must be a number"),
        ({"y_control": [], "covariate_control": []}, ValueError, "y_control must not be empty"),
        ({"y_control": np.ones((2, 4)), "covariate_control": np.ones((2, 4)),
          "y_treatment": np.ones((3, 4)), "covariate_treatment": np.ones((3, 4))}, ValueError,
         "y_control and y_treatment must have leading axes"),
        ({"y_control": [5.0] * 4, "y_treatment": [5.0] * 4}, ValueError,
         "y_control and y_treatment"),
        ({"y_control": [2.0, 3.0, 6.0, 5.0], "y_treatment": [2.0, 4.0, 3.0, 6.0]}, ValueError,
         "exact linear function of covariate_control and covariate_treatment"),
        ({"covariate_control": [1.0, 1.0, 1.0, 1.0],
          "covariate_treatment": [2.0, 2.0, 2.0, 2.0]}, ValueError,
         "covariate_control and covariate_treatment (the covariate check)"),
        ({"alternative": "bigger"}, ValueError, "alternative must be one of"),
        ({"alpha": 0.0}, ValueError, "alpha must be in (0, 1), got 0.0"),
        ({"alpha": [0.05, 0.1]}, ValueError, "alpha must be a single number"),
        ({"missing": "drop"}, ValueError, "missing must be one of 'raise', 'indicator'"),
        ({"missing": "indicator", "covariate_control": [np.nan] * 4,
          "covariate_treatment": [np.nan] * 4},
         ValueError, "covariate_control and covariate_treatment have no observed value"),
        ({"missing": "indicator", "covariate_control": [1.0, np.nan, 1.0, 1.0],
          "covariate_treatment": [np.nan, 1.0, np.nan, np.nan]}, ValueError, "zero variance"),
        ({"y_control": [1.7e308, -1.7e308, 1.7e308, 0.0]}, ValueError, "y_control"),
    ],
)
def test_bad_input_names_the_argument(changes, error, fragment):
    with pytest.raises(error) as info:
        cuped_test(**{**VALID, **changes})
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"covariate": [1.0, 2.0]}, ValueError, "y and covariate must have the same shape"),
        ({"covariate": [3.0, 3.0, 3.0]}, ValueError, "covariate have zero variance"),
        ({"y": [1.0], "covariate": [2.0]}, ValueError, "y must hold at least 2 units"),
        ({"theta": "1"}, TypeError, "theta must be a number"),
        ({"theta": [1.0, 2.0]}, ValueError, "theta must be a single number or have the shape"),
        ({"theta": np.nan}, ValueError, "theta must be finite"),
        ({"covariate": [1.0, np.nan, 2.0], "theta": 1.0, "missing": "indicator"}, ValueError,
         "theta can only be given when covariate is complete"),
        ({"missing": None}, ValueError, "missing must be one of"),
    ],
)
def test_cuped_adjust_bad_input(kwargs, error, fragment):
    args = {"y": [1.0, 2.0, 4.0], "covariate": [1.0, 3.0, 2.0], **kwargs}
    with pytest.raises(error) as info:
        cuped_adjust(**args)
    assert fragment in str(info.value)


def test_options_are_keyword_only():
    with pytest.raises(TypeError):
        cuped_test(*VALID.values(), "larger")  # type: ignore[misc]
    with pytest.raises(TypeError):
        cuped_adjust([1.0, 2.0, 3.0], [1.0, 3.0, 2.0], 0.5)  # type: ignore[misc]


ARGUMENTS = tuple(VALID) + ("alternative", "alpha", "missing")
junk = st.one_of(
    st.none(), st.booleans(), st.text(max_size=3), st.floats(allow_nan=True),
    st.integers(-10**6, 10**6),
    st.lists(st.one_of(st.floats(allow_nan=True), st.integers(-5, 5), st.none()), max_size=6),
    hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=5)),
)


@settings(max_examples=400)
@given(name=st.sampled_from(ARGUMENTS), value=junk,
       missing=st.sampled_from(["raise", "indicator"]))
def test_fuzz_bad_input_only_raises_named_errors(name, value, missing):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = cuped_test(**{**VALID, "missing": missing, name: value})
    except (ValueError, TypeError) as exc:
        assert any(arg in str(exc) for arg in ARGUMENTS), str(exc)
    else:
        for field in NUMERIC:
            assert not np.isnan(getattr(res, field)).any(), field


values = st.floats(-1e6, 1e6, allow_subnormal=False)


@st.composite
def samples(draw):
    n_c, n_t = draw(st.integers(2, 12)), draw(st.integers(2, 12))
    arrays = [draw(hnp.arrays(np.float64, size, elements=values))
              for size in (n_c, n_c, n_t, n_t)]
    if draw(st.booleans()):  # sometimes an exact or near-exact linear relation
        slope = draw(st.floats(-10, 10))
        arrays[0] = slope * arrays[1] + draw(st.floats(-1, 1))
        arrays[2] = slope * arrays[3] + draw(st.floats(-1, 1))
    return arrays


@settings(max_examples=400)
@given(data=samples(), alternative=st.sampled_from(ALTERNATIVES), alpha=st.floats(1e-4, 0.5))
def test_fuzz_valid_input_is_finite_or_a_named_error(data, alternative, alpha):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = cuped_test(*data, alternative=alternative, alpha=alpha)
    except ValueError as exc:
        assert any(arg in str(exc) for arg in ARGUMENTS), str(exc)
        return
    for name in NUMERIC:
        assert not np.isnan(getattr(res, name)), name
    assert 0 <= res.pvalue <= 1 and 0 <= res.covariate_pvalue <= 1
    assert 0 <= res.variance_factor <= 1 + 1e-9
    assert -1 <= res.rho <= 1
    assert np.isfinite(res.n_equivalent)
    assert res.n_equivalent >= (res.n_control + res.n_treatment) * (1 - 1e-9)
    assert res.ci_low <= res.effect <= res.ci_high


@settings(max_examples=200)
@given(data=samples(), share=st.floats(0, 1), seed=st.integers(0, 2**32 - 1))
def test_fuzz_missing_covariates(data, share, seed):
    """Random NaN in X with missing="indicator": a named error or finite numbers."""
    rng = np.random.default_rng(seed)
    y_c, x_c, y_t, x_t = data
    x_c = np.where(rng.uniform(size=x_c.size) < share, np.nan, x_c)
    x_t = np.where(rng.uniform(size=x_t.size) < share, np.nan, x_t)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = cuped_test(y_c, x_c, y_t, x_t, missing="indicator")
    except ValueError as exc:
        assert any(arg in str(exc) for arg in ARGUMENTS), str(exc)
        return
    for name in NUMERIC:
        assert not np.isnan(getattr(res, name)), name
    assert res.n_missing_control + res.n_missing_treatment == int(
        np.isnan(x_c).sum() + np.isnan(x_t).sum())


# --- repr and explain ---------------------------------------------------------------------


def example():
    return tuple(a[0] for a in experiments(1, 1000, rho=0.71, effect=0.3, seed=80))


def test_repr_is_readable():
    res = cuped_test(*example())
    text = repr(res)
    assert text.startswith("CupedTest(\n")
    assert f"    theta={res.theta:.6g},\n" in text
    assert "    n_control=1000,\n" in text and "    missing='raise',\n" in text
    adj = cuped_adjust([3.0, 5.0, 4.0, 8.0], [1.0, 2.0, 2.0, 3.0])
    assert isinstance(adj, CupedAdjustment)
    assert "    theta=2.5,\n" in repr(adj) and "    adjusted=[" in repr(adj)


def test_result_is_frozen():
    res = cuped_test(*example())
    with pytest.raises(AttributeError):
        res.effect = 0.0


def test_explain_plugs_in_the_numbers():
    res = cuped_test(*example())
    text = res.explain()
    f = lambda v: format(v, ".4g")  # noqa: E731
    assert f"theta       = cov(Y, X) / var(X), both arms pooled = {f(res.theta)}" in text
    assert f"variance factor = 1 - rho^2 = {f(res.variance_factor)}" in text
    difference = res.covariate_difference
    term = f"({f(difference)})" if difference < 0 else f(difference)
    assert f"= {f(res.unadjusted_effect)} - {f(res.theta)} * {term} = {f(res.effect)}" in text
    assert "same precision without CUPED: n / variance factor = 2000 / " in text
    assert f"{res.n_equivalent:,.0f} users" in text
    assert "no sign that the treatment moved X" in text


def test_explain_summarises_a_batch():
    res = cuped_test(*experiments(200, 50, rho=0.7, effect=1.0, seed=81))
    count = int(np.sum(res.pvalue < 0.05))
    assert f"p-value < alpha in {count} of 200 experiments with CUPED" in res.explain()


# --- renamed arguments: the old names still work for one release, with a warning ---------


def test_old_covariate_keywords_still_work_and_warn():
    y_c, x_c, y_t, x_t = VALID.values()
    new = cuped_test(y_c, covariate_control=x_c, y_treatment=y_t, covariate_treatment=x_t)
    with pytest.warns(DeprecationWarning, match="'x_control' is deprecated.*'covariate_control'"):
        old = cuped_test(y_c, x_control=x_c, y_treatment=y_t, covariate_treatment=x_t)
    with pytest.warns(DeprecationWarning) as record:
        both = cuped_test(y_control=y_c, x_control=x_c, y_treatment=y_t, x_treatment=x_t)
    assert [str(w.message).split(";")[1] for w in record] == [
        " use 'covariate_control'", " use 'covariate_treatment'"]
    for res in (old, both):
        assert (res.effect, res.pvalue, res.theta) == (new.effect, new.pvalue, new.theta)
    with pytest.warns(DeprecationWarning, match="'x' is deprecated.*use 'covariate'"):
        adjusted = cuped_adjust(y_c, x=x_c)
    assert adjusted.theta == cuped_adjust(y_c, x_c).theta
    with pytest.raises(TypeError, match="got both 'x_control' and 'covariate_control'"):
        cuped_test(y_c, x_control=x_c, covariate_control=x_c, y_treatment=y_t,
                   covariate_treatment=x_t)


def test_old_field_names_still_work_and_warn():
    res = cuped_test(*VALID.values())
    with pytest.warns(DeprecationWarning, match="x_difference is deprecated.*covariate_difference"):
        assert res.x_difference == res.covariate_difference
    adjusted = cuped_adjust(VALID["y_control"], VALID["covariate_control"])
    with pytest.warns(DeprecationWarning, match="x_mean is deprecated.*covariate_mean"):
        assert adjusted.x_mean == adjusted.covariate_mean
    assert "x_difference" not in repr(res) and "covariate_difference=" in repr(res)


def test_covariate_check_with_huge_values_is_exact_under_a_change_of_unit():
    """The Welch tests inside CUPED scale like abteach.inference.welch_ttest: values times
    2**600 (whose squares overflow) give the same p-values and theta."""
    y_c, x_c, y_t, x_t = (np.array(v) for v in VALID.values())
    base = cuped_test(y_c, x_c, y_t, x_t)
    scale = 2.0**600
    big = cuped_test(y_c * scale, x_c * scale, y_t * scale, x_t * scale)
    for name in ("pvalue", "covariate_pvalue", "unadjusted_pvalue", "theta", "rho"):
        assert getattr(big, name) == pytest.approx(getattr(base, name), rel=1e-12), name
    assert big.effect == pytest.approx(base.effect * scale, rel=1e-12)


def test_overflow_with_a_given_theta_names_theta():
    # found by tests/test_fuzz_public.py: theta=1e300 overflowed with a message naming only
    # y and covariate
    with pytest.raises(ValueError, match="y, covariate and theta: values too large"):
        cuped_adjust([1.0, 2.0, 3.0, 4.0, 3.0], [1.1, 1.9, 3.2, 3.8, 2.9], theta=1e300)
