"""Tests of abteach.inference and of the result-record repr (abteach._records).

Sections: ztest_proportions (first half of the file), then chisq_proportions, the t-tests
(welch_ttest, welch_ttest_from_stats), ratio_metric_test, bootstrap_ci and
min_sample_size_for_normality, each checked against published values, an independent
implementation (scipy, statsmodels), seeded simulations and bad input.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, fields

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.regression.linear_model import OLS
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportions_ztest,
    test_proportions_2indep as wald_test_2indep,
)
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

import published
from abteach._records import Record
from abteach.inference import (
    BootstrapCI,
    Moments,
    MeansTTest,
    ProportionsChiSquare,
    ProportionsZTest,
    RatioMetricTest,
    bootstrap_ci,
    chisq_proportions,
    lift_interval,
    min_sample_size_for_normality,
    moments_from_sums,
    ratio_metric_test,
    welch_ttest,
    welch_ttest_from_stats,
    welch_ttest_from_sums,
    ztest_proportions,
)
from abteach.inference._resampling import _bootstrap_interval, _difference_in_means, _jackknife
from abteach.simulate import simulate_conversions

ALTERNATIVES = ("two-sided", "larger", "smaller")
NUMERIC = (
    "statistic", "pvalue", "effect", "ci_low", "ci_high", "se", "p_control", "p_treatment",
    "lift", "lift_ci_low", "lift_ci_high", "lift_ci_low_symmetric", "lift_ci_high_symmetric",
)


def band(rate: float, runs: int, width: float = 4.5) -> float:
    """Half-width of a binomial tolerance band: `width` standard errors of a rate over `runs`."""
    return width * np.sqrt(rate * (1 - rate) / runs)


def random_tables(seed: int, count: int):
    """Random non-degenerate 2x2 tables with arm sizes from 5 to 50,000."""
    rng = np.random.default_rng(seed)
    n_c = rng.integers(5, 50_000, size=count)
    n_t = rng.integers(5, 50_000, size=count)
    x_c = rng.binomial(n_c, rng.uniform(0.01, 0.99, size=count))
    x_t = rng.binomial(n_t, rng.uniform(0.01, 0.99, size=count))
    keep = (x_c > 0) & (x_t > 0) & (x_c < n_c) & (x_t < n_t)
    return x_c[keep], n_c[keep], x_t[keep], n_t[keep]


# --- published values ---------------------------------------------------------------------


def test_minethatdata_conversion_rates_and_chi_square():
    """MineThatData e-mail test (Hillstrom), conversion of Mens E-Mail vs No E-Mail.

    Source: published_numbers.md, "A real experiment": 267 / 21,307 and 122 / 21,306, rates
    1.2531% and 0.5726% (course notes; Yasui (2020) ch. 1). The test itself is checked
    against scipy's Pearson chi-square of the same 2x2 table.
    """
    res = ztest_proportions(122, 21306, 267, 21307)
    assert published.matches(100 * res.p_treatment, "Hillstrom", "conversion rate (%), Mens")
    assert published.matches(100 * res.p_control, "Hillstrom", "conversion rate (%), No E-Mail")
    table = [[267, 21307 - 267], [122, 21306 - 122]]
    chi2 = stats.chi2_contingency(table, correction=False)
    assert res.statistic**2 == pytest.approx(chi2.statistic, rel=1e-10)
    assert res.pvalue == pytest.approx(chi2.pvalue, rel=1e-8)
    assert res.statistic > 0  # treatment minus control


def test_r_prop_test_without_continuity_correction():
    """R output of prop.test(correct = FALSE) on 94 / 214 vs 39 / 128.

    Source: influentialpoints.com, "Two-sample test for independent proportions - using R":
    X-squared = 6.1026, p-value = 0.01350, 95 percent confidence interval 0.03074072
    0.23838896, prop 1 = 0.4392523, prop 2 = 0.3046875. R reports prop 1 minus prop 2, so
    group 1 is our treatment.
    """
    res = ztest_proportions(39, 128, 94, 214)
    assert round(res.statistic**2, 4) == 6.1026
    assert round(res.pvalue, 5) == 0.01350
    assert round(res.ci_low, 8) == 0.03074072
    assert round(res.ci_high, 8) == 0.23838896
    assert round(res.p_treatment, 7) == 0.4392523
    assert round(res.p_control, 7) == 0.3046875


# --- independent implementations ----------------------------------------------------------


@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_pooled_matches_statsmodels_proportions_ztest(alternative):
    x_c, n_c, x_t, n_t = random_tables(1, 200)
    res = ztest_proportions(x_c, n_c, x_t, n_t, alternative=alternative)
    for i in range(len(x_c)):
        z, p = proportions_ztest([x_t[i], x_c[i]], [n_t[i], n_c[i]], alternative=alternative)
        assert res.statistic[i] == pytest.approx(z, rel=1e-10)
        assert res.pvalue[i] == pytest.approx(p, rel=1e-8, abs=1e-300)


@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_unpooled_matches_statsmodels_wald_test(alternative):
    x_c, n_c, x_t, n_t = random_tables(2, 200)
    res = ztest_proportions(x_c, n_c, x_t, n_t, alternative=alternative, pooled=False)
    for i in range(len(x_c)):
        ref = wald_test_2indep(
            x_t[i], n_t[i], x_c[i], n_c[i], method="wald", compare="diff",
            alternative=alternative,
        )
        assert res.statistic[i] == pytest.approx(ref.statistic, rel=1e-10)
        assert res.pvalue[i] == pytest.approx(ref.pvalue, rel=1e-8, abs=1e-300)


@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.2])
def test_intervals_match_statsmodels(alpha):
    """Two-sided Wald interval for the difference, and the log-scale (Katz) interval for the
    ratio, both from statsmodels; a one-sided bound at alpha is the two-sided one at 2 alpha."""
    x_c, n_c, x_t, n_t = random_tables(3, 100)
    two = ztest_proportions(x_c, n_c, x_t, n_t, alpha=alpha)
    larger = ztest_proportions(x_c, n_c, x_t, n_t, alpha=alpha, alternative="larger")
    smaller = ztest_proportions(x_c, n_c, x_t, n_t, alpha=alpha, alternative="smaller")
    for i in range(len(x_c)):
        args = (x_t[i], n_t[i], x_c[i], n_c[i])
        low, high = np.clip(confint_proportions_2indep(*args, method="wald", alpha=alpha), -1, 1)
        assert (two.ci_low[i], two.ci_high[i]) == pytest.approx((low, high), rel=1e-10, abs=1e-15)
        low2, high2 = np.clip(
            confint_proportions_2indep(*args, method="wald", alpha=2 * alpha), -1, 1
        )
        assert (larger.ci_low[i], larger.ci_high[i]) == pytest.approx((low2, 1.0), rel=1e-10)
        assert (smaller.ci_low[i], smaller.ci_high[i]) == pytest.approx((-1.0, high2), rel=1e-10)
        r_low, r_high = confint_proportions_2indep(
            *args, method="log", compare="ratio", alpha=alpha
        )
        assert two.lift_ci_low[i] + 1 == pytest.approx(r_low, rel=1e-10)
        assert two.lift_ci_high[i] + 1 == pytest.approx(r_high, rel=1e-10)


def test_z_squared_is_pearson_chi_square():
    """With pooled SE the test is Pearson's chi-square, as in R's prop.test(correct = FALSE)."""
    x_c, n_c, x_t, n_t = random_tables(4, 200)
    res = ztest_proportions(x_c, n_c, x_t, n_t)
    for i in range(len(x_c)):
        table = [[x_t[i], n_t[i] - x_t[i]], [x_c[i], n_c[i] - x_c[i]]]
        chi2 = stats.chi2_contingency(table, correction=False)
        assert res.statistic[i] ** 2 == pytest.approx(chi2.statistic, rel=1e-9)
        assert res.pvalue[i] == pytest.approx(chi2.pvalue, rel=1e-7, abs=1e-300)


def test_lift_interval_is_delta_method_on_log_ratio():
    """The log-ratio SE equals the delta method computed with a numerical gradient."""
    x_c, n_c, x_t, n_t = 120, 2000, 150, 2100
    p_c, p_t = x_c / n_c, x_t / n_t
    h = 1e-7
    grad = np.array([
        (np.log(p_t / (p_c + h)) - np.log(p_t / (p_c - h))) / (2 * h),
        (np.log((p_t + h) / p_c) - np.log((p_t - h) / p_c)) / (2 * h),
    ])
    variances = np.array([p_c * (1 - p_c) / n_c, p_t * (1 - p_t) / n_t])
    se_log = np.sqrt(grad**2 @ variances)
    res = ztest_proportions(x_c, n_c, x_t, n_t, alpha=0.1)
    z = stats.norm.ppf(0.95)
    assert res.lift == pytest.approx(p_t / p_c - 1, rel=1e-12)
    assert res.lift_ci_low == pytest.approx(np.exp(np.log(p_t / p_c) - z * se_log) - 1, rel=1e-6)
    assert res.lift_ci_high == pytest.approx(np.exp(np.log(p_t / p_c) + z * se_log) - 1, rel=1e-6)


def test_vectorised_equals_scalar_calls():
    x_c, n_c, x_t, n_t = random_tables(5, 30)
    x_c[0], x_t[0] = 0, 0  # a degenerate table among them
    for alternative in ALTERNATIVES:
        many = ztest_proportions(x_c, n_c, x_t, n_t, alternative=alternative)
        for i in range(len(x_c)):
            one = ztest_proportions(int(x_c[i]), int(n_c[i]), int(x_t[i]), int(n_t[i]),
                                    alternative=alternative)
            for name in NUMERIC:
                assert getattr(many, name)[i] == getattr(one, name), name


def test_arrays_broadcast_and_every_field_is_an_array():
    res = ztest_proportions(np.array([[10], [20]]), 100, np.array([12, 14, 16]), 100)
    for name in NUMERIC + ("x_control", "n_control", "x_treatment", "n_treatment"):
        assert getattr(res, name).shape == (2, 3), name
    scalar = ztest_proportions(10, 100, 12, 100)
    for name in NUMERIC:
        assert type(getattr(scalar, name)) is float, name
    assert type(scalar.n_control) is int


# --- seeded simulations -------------------------------------------------------------------

FAST_RUNS, SLOW_RUNS = 20_000, 1_000_000


def rejection_rate(p_control, p_treatment, n, runs, seed, **kwargs):
    sim = simulate_conversions(p_control, p_treatment, n, n, n_experiments=runs, rng=seed)
    res = ztest_proportions(*sim, **kwargs)
    return float(np.mean(res.pvalue < res.alpha)), res


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("pooled", [True, False])
def test_type_one_error_at_alpha(alternative, pooled):
    """Under H0 (A/A, p = 0.1, 2,000 per arm) the test rejects at rate alpha."""
    rate, _ = rejection_rate(0.1, 0.1, 2000, FAST_RUNS, 11, alternative=alternative,
                             pooled=pooled)
    assert abs(rate - 0.05) < band(0.05, FAST_RUNS)


@pytest.mark.slow
@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_type_one_error_at_alpha_slow(alternative):
    """Smaller rate, larger sample, ten times the runs, alpha = 0.01."""
    rate, _ = rejection_rate(0.02, 0.02, 10_000, SLOW_RUNS, 12, alternative=alternative,
                             alpha=0.01)
    assert abs(rate - 0.01) < band(0.01, SLOW_RUNS)


def coverage(res, effect, lift):
    covered = (res.ci_low <= effect) & (effect <= res.ci_high)
    lift_covered = (res.lift_ci_low <= lift) & (lift <= res.lift_ci_high)
    return float(np.mean(covered)), float(np.mean(lift_covered))


@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_interval_coverage(alternative):
    """The effect and lift intervals cover the truth (0.10 vs 0.12) with probability 1 - alpha."""
    _, res = rejection_rate(0.10, 0.12, 2000, FAST_RUNS, 13, alternative=alternative)
    effect_cov, lift_cov = coverage(res, 0.02, 0.2)
    assert abs(effect_cov - 0.95) < band(0.95, FAST_RUNS)
    assert abs(lift_cov - 0.95) < band(0.95, FAST_RUNS)


@pytest.mark.slow
@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_interval_coverage_slow(alternative):
    _, res = rejection_rate(0.05, 0.055, 8000, SLOW_RUNS, 14, alternative=alternative,
                            alpha=0.1)
    effect_cov, lift_cov = coverage(res, 0.005, 0.1)
    assert abs(effect_cov - 0.9) < band(0.9, SLOW_RUNS)
    assert abs(lift_cov - 0.9) < band(0.9, SLOW_RUNS)


def test_power_against_a_real_effect():
    """0.10 vs 0.12 with 3,841 per arm is R's power.prop.test design for 80% power (SS04)."""
    rate, _ = rejection_rate(0.10, 0.12, 3841, FAST_RUNS, 15)
    assert abs(rate - 0.80) < band(0.80, FAST_RUNS)


# --- degenerate data ----------------------------------------------------------------------


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("pooled", [True, False])
@pytest.mark.parametrize("x", [0, 50])
def test_no_variation_gives_statistic_zero_and_pvalue_one(x, pooled, alternative):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = ztest_proportions(x, 50, x, 50, pooled=pooled, alternative=alternative)
    assert (res.statistic, res.pvalue, res.effect) == (0.0, 1.0, 0.0)
    assert res.ci_low <= 0 <= res.ci_high
    assert not any(np.isnan(getattr(res, name)) for name in NUMERIC)


def test_unpooled_all_or_nothing_arms_give_infinite_statistic():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        up = ztest_proportions(0, 10, 10, 10, pooled=False)
        down = ztest_proportions(10, 10, 0, 10, pooled=False)
        pooled = ztest_proportions(0, 10, 10, 10)
    assert (up.statistic, up.pvalue) == (np.inf, 0.0)
    assert (down.statistic, down.pvalue) == (-np.inf, 0.0)
    assert np.isfinite(pooled.statistic) and 0 < pooled.pvalue < 0.001


def test_lift_without_control_conversions():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = ztest_proportions(np.array([0, 0, 5]), 100, np.array([3, 0, 0]), 100)
    assert list(res.lift) == [np.inf, 0.0, -1.0]
    assert list(res.lift_ci_low) == [-1.0, -1.0, -1.0]
    assert list(res.lift_ci_high) == [np.inf, np.inf, np.inf]


def test_wald_bounds_are_clipped_to_the_range_of_a_difference():
    res = ztest_proportions(1, 3, 3, 3, pooled=False)
    assert res.ci_high == 1.0 and -1 <= res.ci_low


# --- validation ---------------------------------------------------------------------------

VALID = {"x_control": 10, "n_control": 100, "x_treatment": 12, "n_treatment": 100}


@pytest.mark.parametrize(
    ("changes", "error", "fragment"),
    [
        ({"x_control": -1}, ValueError, "x_control must be >= 0, got -1"),
        ({"x_treatment": 2.5}, ValueError, "x_treatment must be a whole number, got 2.5"),
        ({"n_control": 0, "x_control": 0}, ValueError, "n_control must be >= 1, got 0"),
        ({"n_treatment": 11}, ValueError, "x_treatment must be <= n_treatment"),
        ({"x_control": 101}, ValueError, "x_control must be <= n_control"),
        ({"x_control": np.array([1, 2]), "x_treatment": np.array([1, 2, 3])}, ValueError,
         "x_control has shape (2,)"),
        ({"x_control": np.array([1, 200])}, ValueError, "(at index 1)"),
        ({"n_treatment": np.nan}, ValueError, "n_treatment must be finite"),
        ({"x_control": "10"}, TypeError, "x_control must be a number"),
        ({"n_control": None}, TypeError, "n_control must be a number"),
        ({"x_treatment": True}, TypeError, "x_treatment must be a number"),
        ({"alternative": "bigger"}, ValueError, "alternative must be one of"),
        ({"alpha": 1.5}, ValueError, "alpha must be in (0, 1), got 1.5"),
        ({"alpha": [0.05, 0.1]}, ValueError, "alpha must be a single number"),
        ({"pooled": "yes"}, TypeError, "pooled must be True or False"),
    ],
)
def test_bad_input_names_the_argument(changes, error, fragment):
    with pytest.raises(error) as info:
        ztest_proportions(**{**VALID, **changes})
    assert fragment in str(info.value)


def test_arguments_after_the_counts_are_keyword_only():
    with pytest.raises(TypeError):
        ztest_proportions(10, 100, 12, 100, "larger")


# --- property and fuzz tests --------------------------------------------------------------

ARGUMENTS = ("x_control", "n_control", "x_treatment", "n_treatment", "alternative", "alpha",
             "pooled")
junk = st.one_of(
    st.none(), st.booleans(), st.text(max_size=3), st.floats(allow_nan=True),
    st.integers(-10**6, 10**6), st.lists(st.integers(-5, 5), max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(ARGUMENTS), value=junk)
def test_fuzz_bad_input_only_raises_named_errors(name, value):
    try:
        res = ztest_proportions(**{**VALID, **{name: value}})
    except (ValueError, TypeError) as exc:
        assert any(arg in str(exc) for arg in ARGUMENTS), str(exc)
    else:
        for field in NUMERIC:
            assert not np.isnan(getattr(res, field)).any(), field


@st.composite
def tables(draw):
    n_c = draw(st.integers(1, 10**7))
    n_t = draw(st.integers(1, 10**7))
    return draw(st.integers(0, n_c)), n_c, draw(st.integers(0, n_t)), n_t


@settings(max_examples=300, deadline=None)
@given(table=tables(), alternative=st.sampled_from(ALTERNATIVES), pooled=st.booleans(),
       alpha=st.floats(1e-6, 0.5))
def test_fuzz_valid_input_is_finite_and_consistent(table, alternative, pooled, alpha):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = ztest_proportions(*table, alternative=alternative, pooled=pooled, alpha=alpha)
    for name in NUMERIC:
        assert not np.isnan(getattr(res, name)), name
    assert 0 <= res.pvalue <= 1
    assert -1 <= res.ci_low <= res.effect + 1e-12
    assert res.effect - 1e-12 <= res.ci_high <= 1
    assert -1 <= res.lift_ci_low <= res.lift_ci_high
    if table[0] > 0 and table[2] > 0:
        slack = 1e-9 * (1 + abs(res.lift))
        assert res.lift_ci_low - slack <= res.lift <= res.lift_ci_high + slack


@settings(max_examples=200, deadline=None)
@given(table=tables(), pooled=st.booleans())
def test_swapping_arms_mirrors_the_result(table, pooled):
    x_c, n_c, x_t, n_t = table
    two = ztest_proportions(x_c, n_c, x_t, n_t, pooled=pooled)
    swapped = ztest_proportions(x_t, n_t, x_c, n_c, pooled=pooled)
    assert swapped.statistic == -two.statistic
    assert swapped.effect == pytest.approx(-two.effect, abs=1e-15)
    assert swapped.pvalue == pytest.approx(two.pvalue, rel=1e-12)
    larger = ztest_proportions(x_c, n_c, x_t, n_t, pooled=pooled, alternative="larger")
    smaller = ztest_proportions(x_t, n_t, x_c, n_c, pooled=pooled, alternative="smaller")
    assert larger.pvalue == pytest.approx(smaller.pvalue, rel=1e-12)


@settings(max_examples=300, deadline=None)
@given(table=tables(), alternative=st.sampled_from(ALTERNATIVES), alpha=st.floats(0.001, 0.3))
def test_unpooled_test_and_interval_agree(table, alternative, alpha):
    """With unpooled SE the test rejects at alpha exactly when the interval excludes 0."""
    res = ztest_proportions(*table, alternative=alternative, pooled=False, alpha=alpha)
    if np.isfinite(res.statistic) and abs(res.pvalue - alpha) > 1e-9 * alpha:
        excludes = not (res.ci_low <= 0 <= res.ci_high)
        assert (res.pvalue < alpha) == excludes


def test_more_data_at_the_same_rates_gives_smaller_pvalues():
    scale = np.array([1, 2, 5, 10, 100])
    res = ztest_proportions(100 * scale, 1000 * scale, 120 * scale, 1000 * scale)
    assert np.all(np.diff(res.pvalue) < 0)
    assert np.all(np.diff(res.ci_high - res.ci_low) < 0)


# --- repr and explain ---------------------------------------------------------------------


def test_repr_is_readable():
    text = repr(ztest_proportions(122, 21306, 267, 21307))
    assert text.startswith("ProportionsZTest(\n")
    assert "    statistic=7.38511,\n" in text  # six significant digits, not a raw float repr
    assert "    pvalue=1.523e-13,\n" in text
    assert "    n_control=21306,\n" in text
    assert "    alternative='two-sided',\n" in text


def test_repr_summarises_big_arrays():
    sim = simulate_conversions(0.1, 0.1, 1000, 1000, n_experiments=10_000, rng=1)
    text = repr(ztest_proportions(*sim))
    assert "pvalue=array(shape=(10000,), dtype=float64, min=" in text
    assert len(text) < 2000


def test_record_base_formats_short_arrays_and_plain_values():
    @dataclass(frozen=True, repr=False, eq=False)
    class Example(Record):
        pvalue: float
        values: np.ndarray
        label: str
        count: int

    text = repr(Example(0.000012345678, np.array([1.0, 2.5, 1 / 3]), "a", 7))
    assert text == (
        "Example(\n    pvalue=1.235e-05,\n    values=[1, 2.5, 0.333333],\n"
        "    label='a',\n    count=7,\n)"
    )


def test_result_record_is_frozen():
    res = ztest_proportions(10, 100, 12, 100)
    with pytest.raises(AttributeError):
        res.pvalue = 0.0
    assert {f.name for f in fields(ProportionsZTest)} >= set(NUMERIC)


def test_explain_plugs_in_the_numbers():
    text = ztest_proportions(122, 21306, 267, 21307).explain()
    assert "p_control   = 122 / 21306 = 0.005726" in text
    assert "pooled rate = (122 + 267) / (21306 + 21307)" in text
    assert "z           = 0.006805 / 0.0009214 = 7.385" in text
    assert "reject H0" in text and "do not reject" not in text
    unpooled = ztest_proportions(10, 100, 12, 100, pooled=False, alternative="larger").explain()
    assert "1 - Phi(z)" in unpooled and "do not reject H0" in unpooled


def test_explain_handles_degenerate_data():
    text = ztest_proportions(0, 40, 0, 50, alternative="larger").explain()
    assert "SE = 0" in text and "p-value     = 1 when no unit varies = 1" in text


def test_explain_summarises_many_experiments():
    sim = simulate_conversions(0.1, 0.1, 1000, 1000, n_experiments=1000, rng=2)
    res = ztest_proportions(*sim)
    count = int(np.sum(res.pvalue < 0.05))
    assert f"p-value < alpha in {count} of 1000 experiments" in res.explain()


# =============================================================================================
# chisq_proportions: k conversion rates
# =============================================================================================

SMOKERS = ([83, 90, 129, 70], [86, 93, 136, 82])


def test_r_prop_test_of_four_groups():
    """HT04. Source: R ``?prop.test`` example (smokers among patients of four groups),
    ``prop.test(smokers, patients)``: X-squared = 12.6, df = 3, p-value = 0.005585."""
    res = chisq_proportions(*SMOKERS)
    assert published.matches(res.statistic, "HT04", "X-squared")
    assert published.matches(res.df, "HT04", "df")
    assert published.matches(res.pvalue, "HT04", "p-value")
    scipy = stats.chi2_contingency(np.array([SMOKERS[0], np.subtract(SMOKERS[1], SMOKERS[0])]).T)
    assert published.matches(scipy.statistic, "HT04", "X-squared")
    assert published.matches(scipy.pvalue, "HT04", "p-value")
    assert res.proportions.shape == (4,) and res.proportions[0] == 83 / 86


def random_k_tables(seed: int, count: int, groups: int):
    rng = np.random.default_rng(seed)
    trials = rng.integers(5, 20_000, size=(count, groups))
    successes = rng.binomial(trials, rng.uniform(0.02, 0.98, size=(count, 1)))
    return successes, trials


@pytest.mark.parametrize("groups", [2, 3, 6])
def test_chisq_matches_scipy_chi2_contingency(groups):
    successes, trials = random_k_tables(20 + groups, 100, groups)
    res = chisq_proportions(successes, trials)
    assert res.statistic.shape == (100,) and res.df == groups - 1
    for i in range(100):
        table = np.column_stack([successes[i], trials[i] - successes[i]])
        ref = stats.chi2_contingency(table, correction=False)
        assert res.statistic[i] == pytest.approx(ref.statistic, rel=1e-9, abs=1e-12)
        assert res.pvalue[i] == pytest.approx(ref.pvalue, rel=1e-7, abs=1e-300)
        assert res.expected_successes[i] == pytest.approx(ref.expected_freq[:, 0], rel=1e-12)


def test_chisq_of_two_groups_is_the_pooled_z_test_squared():
    x_c, n_c, x_t, n_t = random_tables(21, 200)
    res = chisq_proportions(np.column_stack([x_c, x_t]), np.column_stack([n_c, n_t]))
    z = ztest_proportions(x_c, n_c, x_t, n_t)
    np.testing.assert_allclose(res.statistic, z.statistic**2, rtol=1e-9)
    np.testing.assert_allclose(res.pvalue, z.pvalue, rtol=1e-7)


def test_chisq_type_one_error():
    """Four groups of 100 to 400 users, all converting at 20%: rejections at rate alpha."""
    runs = 20_000
    rng = np.random.default_rng(22)
    trials = np.array([100, 200, 300, 400])
    successes = rng.binomial(trials, 0.2, size=(runs, 4))
    res = chisq_proportions(successes, trials)
    assert abs(np.mean(res.pvalue < 0.05) - 0.05) < band(0.05, runs)


def test_chisq_without_variation_gives_statistic_zero_and_pvalue_one():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        none = chisq_proportions([0, 0, 0], [10, 20, 30])
        every = chisq_proportions([10, 20], [10, 20])
    assert (none.statistic, none.pvalue, every.statistic, every.pvalue) == (0.0, 1.0, 0.0, 1.0)


@pytest.mark.parametrize(
    ("successes", "trials", "error", "fragment"),
    [
        ([5, 11], [10, 10], ValueError, "successes must be <= trials, got successes = 11"),
        ([5], [10], ValueError, "at least two groups"),
        (5, 10, ValueError, "at least two groups"),
        ([-1, 2], [10, 10], ValueError, "successes must be >= 0, got -1"),
        ([1.5, 2], [10, 10], ValueError, "successes must be a whole number, got 1.5"),
        ([1, 2], [0, 10], ValueError, "trials must be >= 1, got 0"),
        ([1, 2, 3], [10, 10], ValueError, "successes has shape (3,)"),
        (["1", 2], [10, 10], TypeError, "successes must be a number"),
    ],
)
def test_chisq_bad_input_names_the_argument(successes, trials, error, fragment):
    with pytest.raises(error) as info:
        chisq_proportions(successes, trials)
    assert fragment in str(info.value)


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(["successes", "trials", "alpha"]), value=junk)
def test_fuzz_chisq_bad_input_only_raises_named_errors(name, value):
    valid = {"successes": [3, 5, 9], "trials": [10, 12, 14], "alpha": 0.05}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = chisq_proportions(**{**valid, **{name: value}})
    except (ValueError, TypeError) as exc:
        assert any(arg in str(exc) for arg in valid), str(exc)
    else:
        assert not np.isnan(res.statistic).any() and not np.isnan(res.pvalue).any()


@settings(max_examples=200, deadline=None)
@given(trials=st.lists(st.integers(1, 10**7), min_size=2, max_size=6), data=st.data())
def test_fuzz_chisq_valid_input(trials, data):
    successes = [data.draw(st.integers(0, n)) for n in trials]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = chisq_proportions(successes, trials)
    assert 0 <= res.pvalue <= 1 and res.statistic >= 0
    reversed_order = chisq_proportions(successes[::-1], trials[::-1])
    assert reversed_order.statistic == pytest.approx(res.statistic, rel=1e-9, abs=1e-12)


def test_chisq_repr_and_explain():
    res = chisq_proportions(*SMOKERS)
    assert isinstance(res, ProportionsChiSquare)
    assert "    statistic=12.6004,\n" in repr(res)
    text = res.explain()
    assert "pooled rate p = 372 / 397 = 0.937" in text
    assert "group 4: 70 / 82 = 0.8537" in text and "reject H0" in text
    many = chisq_proportions(*random_k_tables(23, 50, 3)).explain()
    assert many.startswith("50 experiments.") and "of 50 experiments" in many


# =============================================================================================
# Two means: welch_ttest and welch_ttest_from_stats
# =============================================================================================

SLEEP_G1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_G2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
# Hillstrom's MineThatData e-mail test, published per-arm aggregates of spend.
MENS = (30311.69 / 21307, 17.754205, 21307)
NO_EMAIL = (13908.33 / 21306, 11.588200, 21306)
SCIPY_ALTERNATIVE = {"two-sided": "two-sided", "larger": "greater", "smaller": "less"}
TTEST_FIELDS = (
    "statistic", "pvalue", "df", "effect", "ci_low", "ci_high", "se", "lift", "lift_ci_low",
    "lift_ci_high", "lift_ci_low_symmetric", "lift_ci_high_symmetric",
)


def test_r_sleep_welch_t_test():
    """HT01. Source: R ``t.test(extra ~ group, data = sleep)``: t = -1.8608, df = 17.776,
    p-value = 0.07939, 95 percent CI -3.3654832 0.2054832. R reports group 1 minus group 2,
    so group 1 is abteach's treatment and group 2 its control."""
    res = welch_ttest(SLEEP_G2, SLEEP_G1)
    for field, quantity in (("statistic", "Welch t"), ("df", "Welch df"), ("pvalue", "p-value"),
                            ("ci_low", "lower bound"), ("ci_high", "upper bound")):
        assert published.matches(getattr(res, field), "HT01", quantity), field
    scipy = stats.ttest_ind(SLEEP_G1, SLEEP_G2, equal_var=False)
    assert published.matches(scipy.statistic, "HT01", "Welch t")
    assert published.matches(scipy.pvalue, "HT01", "p-value")
    assert res.effect == pytest.approx(0.75 - 2.33, abs=1e-12)
    assert not res.equal_var and isinstance(res, MeansTTest)


def test_hillstrom_pooled_t_test_of_spend():
    """Source: Yasui (2020), *Kouka Kensho Nyumon*, ch. 1: pooled two-sample t-test of spend,
    Mens E-Mail vs No E-Mail, t = 5.300090, p = 1.1632e-07, from the published aggregates
    (n, total spend, sd) in published_numbers.md."""
    res = welch_ttest_from_stats(*NO_EMAIL, *MENS, equal_var=True)
    assert published.matches(res.statistic, "Hillstrom", "pooled t of spend")
    assert published.matches(res.pvalue, "Hillstrom", "p-value of that t-test")
    scipy = stats.ttest_ind_from_stats(*NO_EMAIL, *MENS, equal_var=True)
    assert published.matches(-scipy.statistic, "Hillstrom", "pooled t of spend")
    assert published.matches(scipy.pvalue, "Hillstrom", "p-value of that t-test")
    assert res.df == 21306 + 21307 - 2
    assert res.effect > 0  # treatment (Mens E-Mail) minus control (No E-Mail)


def random_designs(seed: int, count: int):
    """Random (mean, sd, n) pairs of arms: sizes 2 to 5,000, sds 0.1 to 20."""
    rng = np.random.default_rng(seed)
    return (
        rng.normal(0, 10, count), rng.uniform(0.1, 20, count), rng.integers(2, 5000, count),
        rng.normal(0, 10, count), rng.uniform(0.1, 20, count), rng.integers(2, 5000, count),
    )


@pytest.mark.parametrize("equal_var", [False, True])
@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_ttest_from_stats_matches_scipy(alternative, equal_var):
    m_c, s_c, n_c, m_t, s_t, n_t = random_designs(30, 500)
    res = welch_ttest_from_stats(m_c, s_c, n_c, m_t, s_t, n_t, alternative=alternative,
                                 equal_var=equal_var)
    ref = stats.ttest_ind_from_stats(m_t, s_t, n_t, m_c, s_c, n_c, equal_var=equal_var,
                                     alternative=SCIPY_ALTERNATIVE[alternative])
    np.testing.assert_allclose(res.statistic, ref.statistic, rtol=1e-10)
    np.testing.assert_allclose(res.pvalue, ref.pvalue, rtol=1e-8, atol=1e-300)


@pytest.mark.parametrize("equal_var", [False, True])
@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_raw_ttest_matches_scipy_ttest_ind_with_interval(alternative, equal_var):
    rng = np.random.default_rng(31)
    for _ in range(40):
        control = rng.normal(1, rng.uniform(0.5, 3), rng.integers(2, 60))
        treatment = rng.normal(1.5, rng.uniform(0.5, 3), rng.integers(2, 60))
        res = welch_ttest(control, treatment, alternative=alternative, equal_var=equal_var,
                          alpha=0.1)
        ref = stats.ttest_ind(treatment, control, equal_var=equal_var,
                              alternative=SCIPY_ALTERNATIVE[alternative])
        interval = ref.confidence_interval(0.9)
        assert res.statistic == pytest.approx(ref.statistic, rel=1e-10)
        assert res.pvalue == pytest.approx(ref.pvalue, rel=1e-8)
        assert res.df == pytest.approx(ref.df, rel=1e-10)
        assert (res.ci_low, res.ci_high) == pytest.approx((interval.low, interval.high),
                                                          rel=1e-9)


@pytest.mark.parametrize("usevar", ["unequal", "pooled"])
@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_raw_ttest_matches_statsmodels_compare_means(alternative, usevar):
    rng = np.random.default_rng(32)
    for _ in range(20):
        control = rng.exponential(2, rng.integers(3, 200))
        treatment = rng.exponential(2.5, rng.integers(3, 200))
        res = welch_ttest(control, treatment, alternative=alternative,
                          equal_var=usevar == "pooled")
        compare = CompareMeans(DescrStatsW(treatment), DescrStatsW(control))
        t, p, df = compare.ttest_ind(usevar=usevar, alternative=alternative)
        low, high = compare.tconfint_diff(alpha=0.05, usevar=usevar, alternative=alternative)
        assert (res.statistic, res.pvalue, res.df) == pytest.approx((t, p, df), rel=1e-9)
        assert (res.ci_low, res.ci_high) == pytest.approx((low, high), rel=1e-9)


def test_lift_intervals_are_the_delta_method():
    """Both lift intervals equal the delta method computed with numerical gradients."""
    m_c, s_c, n_c, m_t, s_t, n_t = 10.0, 4.0, 50, 12.0, 6.0, 80
    res = welch_ttest_from_stats(m_c, s_c, n_c, m_t, s_t, n_t, alpha=0.1)
    variances = np.array([s_c**2 / n_c, s_t**2 / n_t])
    z, h = stats.norm.ppf(0.95), 1e-6

    def delta_se(func):
        grad = np.array([(func(m_c + h, m_t) - func(m_c - h, m_t)) / (2 * h),
                         (func(m_c, m_t + h) - func(m_c, m_t - h)) / (2 * h)])
        return np.sqrt(grad**2 @ variances)

    se_log = delta_se(lambda c, t: np.log(t / c))
    se_ratio = delta_se(lambda c, t: t / c)
    assert res.lift == pytest.approx(0.2, rel=1e-12)
    assert res.lift_ci_low == pytest.approx(np.exp(np.log(1.2) - z * se_log) - 1, rel=1e-7)
    assert res.lift_ci_high == pytest.approx(np.exp(np.log(1.2) + z * se_log) - 1, rel=1e-7)
    assert res.lift_ci_low_symmetric == pytest.approx(0.2 - z * se_ratio, rel=1e-7)
    assert res.lift_ci_high_symmetric == pytest.approx(0.2 + z * se_ratio, rel=1e-7)


def test_from_stats_vectorised_equals_scalar_calls():
    designs = random_designs(33, 20)
    for alternative in ALTERNATIVES:
        many = welch_ttest_from_stats(*designs, alternative=alternative)
        for i in range(20):
            one = welch_ttest_from_stats(*(float(a[i]) if a.dtype.kind == "f" else int(a[i])
                                           for a in designs), alternative=alternative)
            for name in TTEST_FIELDS:
                assert getattr(many, name)[i] == getattr(one, name), name


def test_raw_ttest_on_a_matrix_equals_row_by_row_and_from_stats():
    rng = np.random.default_rng(34)
    control, treatment = rng.normal(0, 1, (15, 30)), rng.normal(0.2, 2, (15, 25))
    many = welch_ttest(control, treatment)
    stats_version = welch_ttest_from_stats(
        control.mean(axis=1), control.std(axis=1, ddof=1), 30,
        treatment.mean(axis=1), treatment.std(axis=1, ddof=1), 25,
    )
    for name in TTEST_FIELDS:
        np.testing.assert_allclose(getattr(many, name), getattr(stats_version, name),
                                   rtol=1e-12)
    for i in range(15):
        one = welch_ttest(control[i], treatment[i])
        assert many.statistic[i] == pytest.approx(one.statistic, rel=1e-12)
    assert many.n_control.shape == (15,) and int(many.n_control[0]) == 30
    shared = welch_ttest(control[0], treatment)  # one control sample, 15 treatment samples
    assert shared.statistic.shape == (15,)


def test_equal_sizes_and_sds_make_welch_and_student_agree():
    welch = welch_ttest_from_stats(1.0, 2.0, 40, 1.7, 2.0, 40)
    student = welch_ttest_from_stats(1.0, 2.0, 40, 1.7, 2.0, 40, equal_var=True)
    assert welch.df == pytest.approx(78, rel=1e-12) and student.df == 78
    assert welch.statistic == pytest.approx(student.statistic, rel=1e-12)


def test_one_arm_without_variation_is_fine():
    """Welch's df is then n - 1 of the other arm: no error, no NaN."""
    res = welch_ttest_from_stats(5.0, 0.0, 20, 6.0, 2.0, 31)
    assert res.df == pytest.approx(30, rel=1e-12)
    assert res.se == pytest.approx(2 / np.sqrt(31), rel=1e-12)


def test_lift_of_a_metric_that_is_zero_or_negative_in_control():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = welch_ttest_from_stats(np.array([0.0, -2.0, 2.0]), 1.0, 50,
                                     np.array([1.0, -1.0, 0.0]), 1.0, 50)
    assert list(res.lift) == [np.inf, -0.5, -1.0]
    # log scale: defined only when both means are positive
    assert list(res.lift_ci_low) == [-np.inf, -np.inf, -np.inf]
    assert list(res.lift_ci_high) == [np.inf, np.inf, np.inf]
    # symmetric: undefined only when the control mean is 0
    assert res.lift_ci_low_symmetric[0] == -np.inf
    assert np.isfinite(res.lift_ci_low_symmetric[1:]).all()


@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_one_sided_bounds_and_pvalues(alternative):
    two = welch_ttest_from_stats(1.0, 2.0, 30, 1.8, 3.0, 40, alpha=0.1)
    res = welch_ttest_from_stats(1.0, 2.0, 30, 1.8, 3.0, 40, alpha=0.05, alternative=alternative)
    if alternative == "larger":
        assert res.ci_low == pytest.approx(two.ci_low, rel=1e-12) and res.ci_high == np.inf
        assert res.lift_ci_high == np.inf and res.lift_ci_high_symmetric == np.inf
        assert res.pvalue == pytest.approx(two.pvalue / 2, rel=1e-12)
    elif alternative == "smaller":
        assert res.ci_high == pytest.approx(two.ci_high, rel=1e-12) and res.ci_low == -np.inf
        assert res.pvalue == pytest.approx(1 - two.pvalue / 2, rel=1e-12)


# --- seeded simulations: type I error and coverage ------------------------------------------


def normal_summaries(rng, mean, sd, n, runs):
    """Exact sampling distribution of (mean, sd) of n normal values: the mean is normal and
    (n - 1) s^2 / sigma^2 is chi-square with n - 1 df, independent of the mean."""
    means = rng.normal(mean, sd / np.sqrt(n), runs)
    sds = sd * np.sqrt(rng.chisquare(n - 1, runs) / (n - 1))
    return means, sds, n


def simulated_ttest(seed, control, treatment, runs, **kwargs):
    rng = np.random.default_rng(seed)
    return welch_ttest_from_stats(*normal_summaries(rng, *control, runs),
                                  *normal_summaries(rng, *treatment, runs), **kwargs)


@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_welch_type_one_error_with_unequal_variances_and_sizes(alternative):
    """10 users with sd 3 against 40 with sd 1, equal means: Welch rejects at rate alpha."""
    res = simulated_ttest(40, (0, 3, 10), (0, 1, 40), FAST_RUNS, alternative=alternative)
    assert abs(np.mean(res.pvalue < 0.05) - 0.05) < band(0.05, FAST_RUNS)


def test_student_type_one_error_is_wrong_with_unequal_variances_and_sizes():
    """Same design: the pooled variance is dominated by the large, quiet arm, so Student's
    SE is too small and it rejects a true H0 about a quarter of the time."""
    res = simulated_ttest(41, (0, 3, 10), (0, 1, 40), FAST_RUNS, equal_var=True)
    assert np.mean(res.pvalue < 0.05) > 0.05 + 0.15


@pytest.mark.slow
@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_welch_type_one_error_slow(alternative):
    res = simulated_ttest(42, (0, 3, 30), (0, 1, 120), SLOW_RUNS, alternative=alternative,
                          alpha=0.01)
    assert abs(np.mean(res.pvalue < 0.01) - 0.01) < band(0.01, SLOW_RUNS)


def covered(low, high, value) -> float:
    return float(np.mean((low <= value) & (value <= high)))


LIFT_RUNS = 40_000


@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_effect_and_log_lift_intervals_cover(alternative):
    """Means 10 (sd 4, n 50) and 12 (sd 6, n 80): effect 2, lift 0.2."""
    res = simulated_ttest(43, (10, 4, 50), (12, 6, 80), LIFT_RUNS, alternative=alternative)
    assert abs(covered(res.ci_low, res.ci_high, 2.0) - 0.95) < band(0.95, LIFT_RUNS)
    assert abs(covered(res.lift_ci_low, res.lift_ci_high, 0.2) - 0.95) < band(0.95, LIFT_RUNS)
    if alternative == "two-sided":
        symmetric = covered(res.lift_ci_low_symmetric, res.lift_ci_high_symmetric, 0.2)
        assert abs(symmetric - 0.95) < band(0.95, LIFT_RUNS)


def test_symmetric_lift_bounds_lose_their_one_sided_level():
    """The claim of the docstring: with the control mean in the denominator, the symmetric
    interval's lower bound covers too often and its upper bound too rarely (about 96% and 94%
    here), while the log-scale bounds keep 95% (previous test)."""
    larger = simulated_ttest(43, (10, 4, 50), (12, 6, 80), LIFT_RUNS, alternative="larger")
    smaller = simulated_ttest(43, (10, 4, 50), (12, 6, 80), LIFT_RUNS, alternative="smaller")
    width = band(0.95, LIFT_RUNS)
    lower_bound = covered(larger.lift_ci_low_symmetric, larger.lift_ci_high_symmetric, 0.2)
    upper_bound = covered(smaller.lift_ci_low_symmetric, smaller.lift_ci_high_symmetric, 0.2)
    assert lower_bound > 0.95 + width and upper_bound < 0.95 - width


@pytest.mark.slow
def test_effect_interval_coverage_slow():
    res = simulated_ttest(44, (5, 2, 12), (5.5, 4, 9), SLOW_RUNS, alpha=0.1)
    assert abs(covered(res.ci_low, res.ci_high, 0.5) - 0.9) < band(0.9, SLOW_RUNS)


def test_raw_arrays_type_one_error():
    """The raw-array path on 5,000 simulated experiments of 15 vs 25 normal values."""
    runs = 5000
    rng = np.random.default_rng(45)
    res = welch_ttest(rng.normal(0, 2, (runs, 15)), rng.normal(0, 1, (runs, 25)))
    assert abs(np.mean(res.pvalue < 0.05) - 0.05) < band(0.05, runs)


# --- properties -----------------------------------------------------------------------------


@st.composite
def mean_designs(draw):
    mean = st.floats(-1e6, 1e6)
    sd = st.floats(1e-3, 1e6)
    n = st.integers(2, 10**7)
    return draw(mean), draw(sd), draw(n), draw(mean), draw(sd), draw(n)


@settings(max_examples=300, deadline=None)
@given(design=mean_designs(), equal_var=st.booleans(), alpha=st.floats(1e-6, 0.5))
def test_ttest_properties(design, equal_var, alpha):
    m_c, s_c, n_c, m_t, s_t, n_t = design
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = welch_ttest_from_stats(*design, equal_var=equal_var, alpha=alpha)
        swapped = welch_ttest_from_stats(m_t, s_t, n_t, m_c, s_c, n_c, equal_var=equal_var,
                                         alpha=alpha)
        larger = welch_ttest_from_stats(*design, equal_var=equal_var, alternative="larger")
        smaller = welch_ttest_from_stats(*design, equal_var=equal_var, alternative="smaller")
    for name in TTEST_FIELDS:
        assert not np.isnan(getattr(res, name)), name
    assert 0 <= res.pvalue <= 1 and res.ci_low <= res.effect <= res.ci_high
    assert swapped.statistic == -res.statistic
    assert swapped.pvalue == pytest.approx(res.pvalue, rel=1e-9)
    assert larger.pvalue + smaller.pvalue == pytest.approx(1, rel=1e-9)
    assert min(n_c, n_t) - 1 - 1e-6 <= res.df <= n_c + n_t - 2 + 1e-6
    if abs(res.pvalue - alpha) > 1e-6 * alpha:  # the t interval and the t-test agree
        assert (res.pvalue < alpha) == (not res.ci_low <= 0 <= res.ci_high)


@settings(max_examples=100, deadline=None)
@given(scale=st.floats(1e-3, 1e3), shift=st.floats(-100, 100))
def test_ttest_is_invariant_to_units_and_shift_of_both_arms(scale, shift):
    rng = np.random.default_rng(46)
    control, treatment = rng.normal(0, 1, 20), rng.normal(0.5, 2, 30)
    res = welch_ttest(control, treatment)
    moved = welch_ttest(scale * control + shift, scale * treatment + shift)
    assert moved.statistic == pytest.approx(res.statistic, rel=1e-6)
    assert moved.df == pytest.approx(res.df, rel=1e-6)
    assert moved.ci_high == pytest.approx(scale * res.ci_high, rel=1e-6, abs=1e-9)


# --- bad input ------------------------------------------------------------------------------

VALID_STATS = {"mean_control": 1.0, "sd_control": 2.0, "n_control": 30,
               "mean_treatment": 1.5, "sd_treatment": 2.5, "n_treatment": 40}


@pytest.mark.parametrize(
    ("changes", "error", "fragment"),
    [
        ({"sd_control": 0.0, "sd_treatment": 0.0}, ValueError,
         "sd_control and sd_treatment give a standard error of 0"),
        ({"sd_control": np.array([1.0, 0.0]), "sd_treatment": np.array([1.0, 0.0])},
         ValueError, "(at index 1): the data do not vary"),
        ({"sd_control": -1.0}, ValueError, "sd_control must be >= 0, got -1.0"),
        ({"n_control": 1}, ValueError, "n_control must be >= 2, got 1"),
        ({"n_treatment": 10.5}, ValueError, "n_treatment must be a whole number, got 10.5"),
        ({"mean_treatment": np.nan}, ValueError, "mean_treatment must be finite"),
        ({"mean_control": "1"}, TypeError, "mean_control must be a number"),
        ({"mean_control": [1.0, 2.0], "n_treatment": [3, 4, 5]}, ValueError,
         "mean_control has shape (2,)"),
        ({"mean_control": 1e308, "mean_treatment": -1e308, "sd_control": 1e307,
          "sd_treatment": 1e307}, ValueError, "too large"),
        ({"alternative": "bigger"}, ValueError, "alternative must be one of"),
        ({"alpha": 0.0}, ValueError, "alpha must be in (0, 1), got 0.0"),
        ({"equal_var": "no"}, TypeError, "equal_var must be True or False"),
    ],
)
def test_ttest_from_stats_bad_input_names_the_argument(changes, error, fragment):
    with pytest.raises(error) as info:
        welch_ttest_from_stats(**{**VALID_STATS, **changes})
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("control", "treatment", "error", "fragment"),
    [
        ([0.1] * 5, [0.1] * 7, ValueError, "control and treatment give a standard error of 0"),
        ([1.0], [1.0, 2.0], ValueError, "control must hold at least 2 observations"),
        (3.0, [1.0, 2.0], ValueError, "control must be an array of observations"),
        ([1.0, 2.0], [], ValueError, "treatment must not be empty"),
        ([1.0, np.inf], [1.0, 2.0], ValueError, "control must be finite"),
        ([1.0, 2.0], ["a", "b"], TypeError, "treatment must be a number"),
        (np.ones((2, 3)), np.ones((3, 3)), ValueError, "leading axes (experiments)"),
        ([1.7e308, -1.7e308], [1.0, 2.0], ValueError, "control holds values too large"),
    ],
)
def test_raw_ttest_bad_input_names_the_argument(control, treatment, error, fragment):
    with pytest.raises(error) as info:
        welch_ttest(control, treatment)
    assert fragment in str(info.value)


STATS_ARGUMENTS = tuple(VALID_STATS) + ("alternative", "alpha", "equal_var")
junk_or_number = st.one_of(junk, st.floats(-1e300, 1e300), st.integers(-5, 10**9))


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(STATS_ARGUMENTS), value=junk_or_number)
def test_fuzz_ttest_bad_input_only_raises_named_errors(name, value):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = welch_ttest_from_stats(**{**VALID_STATS, **{name: value}})
    except (ValueError, TypeError) as exc:
        assert any(arg in str(exc) for arg in STATS_ARGUMENTS), str(exc)
    else:
        for field in TTEST_FIELDS:
            assert not np.isnan(getattr(res, field)).any(), field


@settings(max_examples=200, deadline=None)
@given(control=st.lists(st.floats(-1e12, 1e12), min_size=0, max_size=8),
       treatment=st.lists(st.floats(-1e12, 1e12), min_size=0, max_size=8))
def test_fuzz_raw_ttest_never_returns_nan(control, treatment):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = welch_ttest(control, treatment)
    except ValueError as exc:
        assert "control" in str(exc) or "treatment" in str(exc), str(exc)
    else:
        for field in TTEST_FIELDS:
            assert not np.isnan(getattr(res, field)), field


def test_ttest_repr_and_explain():
    res = welch_ttest(SLEEP_G2, SLEEP_G1)
    text = repr(res)
    assert text.startswith("MeansTTest(\n") and "    statistic=-1.86081,\n" in text
    assert "    pvalue=0.07939,\n" in text and "    n_control=10,\n" in text
    explained = res.explain()
    assert "Welch's t-test (unequal variances)" in explained
    assert "SE          = sqrt(sd_c^2/n_c + sd_t^2/n_t) = sqrt(2.002^2/10 + 1.789^2/10)" in (
        explained
    )
    assert "Welch-Satterthwaite) = 17.78" in explained
    assert "t           = -1.58 / 0.8491 = -1.861" in explained
    assert "95% CI for the effect: effect -/+ t quantile * SE = [-3.365, 0.2055]" in explained
    assert "log scale (default)" in explained and "symmetric" in explained
    assert "do not reject H0" in explained
    student = welch_ttest_from_stats(*NO_EMAIL, *MENS, equal_var=True).explain()
    assert "Student's t-test (pooled variance)" in student
    assert "df          = n_c + n_t - 2 = 42611" in student
    many = simulated_ttest(47, (0, 1, 20), (0, 1, 20), 1000).explain()
    assert many.startswith("1000 experiments.")


# =============================================================================================
# Ratio metrics: delta method
# =============================================================================================


def clustered_users(rng, users, runs, ctr=0.1, concentration=10.0):
    """Page views and clicks per user: views 1 + Poisson(4); each user clicks with their own
    rate, Beta with mean ``ctr`` (concentration = a + b), so one user's views are correlated."""
    views = 1 + rng.poisson(4, (runs, users))
    rates = rng.beta(ctr * concentration, (1 - ctr) * concentration, (runs, users))
    return rng.binomial(views, rates), views


def test_delta_variance_is_the_three_term_formula_of_deng_et_al():
    """Var(Y/X) = (s_Y^2 / mu_X^2 - 2 mu_Y s_XY / mu_X^3 + mu_Y^2 s_X^2 / mu_X^4) / n
    (Deng, Knoblich & Lu (2018), section 3), with the sample (co)variances."""
    rng = np.random.default_rng(50)
    clicks, views = clustered_users(rng, 300, 2)
    res = ratio_metric_test(clicks[0], views[0], clicks[1], views[1])
    for arm, se in ((0, res.se_control), (1, res.se_treatment)):
        y, x = clicks[arm].astype(float), views[arm].astype(float)
        (var_y, cov), (_, var_x) = np.cov(y, x)
        m_y, m_x = y.mean(), x.mean()
        variance = (var_y / m_x**2 - 2 * m_y * cov / m_x**3 + m_y**2 * var_x / m_x**4) / 300
        assert se**2 == pytest.approx(variance, rel=1e-10)
    assert res.ratio_treatment == clicks[1].sum() / views[1].sum()


def test_delta_method_matches_cluster_robust_regression():
    """Independent implementation: OLS of each page view's click on a treatment dummy with
    standard errors clustered by user (statsmodels, no small-sample correction) estimates the
    same difference with variance sum_u (y_u - R x_u)^2 / (sum x)^2 per arm, which is the delta
    variance times (n - 1) / n."""
    rng = np.random.default_rng(51)
    clicks, views = clustered_users(rng, 150, 2)
    n = 150
    res = ratio_metric_test(clicks[0], views[0], clicks[1], views[1])
    rows = []
    for arm in (0, 1):
        for user in range(n):
            for view in range(views[arm, user]):
                rows.append((arm, arm * n + user, float(view < clicks[arm, user])))
    arm, user, click = np.array(rows).T
    fit = OLS(click, np.column_stack([np.ones_like(arm), arm])).fit(
        cov_type="cluster", cov_kwds={"groups": user.astype(int), "use_correction": False}
    )
    assert fit.params[1] == pytest.approx(res.effect, rel=1e-10)
    clustered = (res.se_control**2 + res.se_treatment**2) * (n - 1) / n
    assert fit.bse[1] ** 2 == pytest.approx(clustered, rel=1e-8)


def test_one_event_per_user_reduces_to_welch():
    rng = np.random.default_rng(52)
    y_c, y_t = rng.normal(3, 1, 80), rng.normal(3.4, 2, 60)
    res = ratio_metric_test(y_c, np.ones(80), y_t, np.ones(60))
    welch = welch_ttest(y_c, y_t)
    assert res.se == pytest.approx(welch.se, rel=1e-12)
    assert res.statistic == pytest.approx(welch.statistic, rel=1e-12)
    assert res.pvalue == pytest.approx(2 * stats.norm.sf(abs(welch.statistic)), rel=1e-10)


def test_naive_method_is_the_unpooled_z_test_of_events():
    rng = np.random.default_rng(53)
    clicks, views = clustered_users(rng, 400, 2)
    res = ratio_metric_test(clicks[0], views[0], clicks[1], views[1], method="naive")
    events = ztest_proportions(clicks[0].sum(), views[0].sum(), clicks[1].sum(),
                               views[1].sum(), pooled=False)
    assert res.statistic == pytest.approx(events.statistic, rel=1e-12)
    assert (res.ci_low, res.ci_high) == pytest.approx((events.ci_low, events.ci_high), rel=1e-12)


def test_ratio_vectorised_equals_one_by_one():
    rng = np.random.default_rng(54)
    clicks, views = clustered_users(rng, 100, 10)
    many = ratio_metric_test(clicks[:5], views[:5], clicks[5:], views[5:], alternative="larger")
    for i in range(5):
        one = ratio_metric_test(clicks[i], views[i], clicks[5 + i], views[5 + i],
                                alternative="larger")
        assert many.pvalue[i] == pytest.approx(one.pvalue, rel=1e-12)
        assert many.lift_ci_low[i] == pytest.approx(one.lift_ci_low, rel=1e-12)


def ratio_coverage(seed, runs, users):
    """A/A experiments with clustered users: share of 95% intervals covering 0, per method."""
    rng = np.random.default_rng(seed)
    clicks, views = clustered_users(rng, users, 2 * runs)
    result = {}
    for method in ("delta", "naive"):
        res = ratio_metric_test(clicks[:runs], views[:runs], clicks[runs:], views[runs:],
                                method=method)
        result[method] = covered(res.ci_low, res.ci_high, 0.0)
    return result


def test_naive_interval_under_covers_with_clustered_users_and_delta_covers():
    """Deng et al. (2018) section 1: treating page views as independent understates the
    variance (here by a design effect of about 1.4), so the naive 95% interval covers about
    90%; the delta method covers 95%."""
    runs = 4000
    rates = ratio_coverage(55, runs, 500)
    assert abs(rates["delta"] - 0.95) < band(0.95, runs)
    assert rates["naive"] < 0.95 - band(0.95, runs)


@pytest.mark.slow
def test_ratio_coverage_slow():
    runs = 20_000
    rates = ratio_coverage(56, runs, 400)
    assert abs(rates["delta"] - 0.95) < band(0.95, runs)
    assert rates["naive"] < 0.95 - band(0.95, runs)


VALID_RATIO = {"num_control": [1, 0, 2, 1], "den_control": [3, 1, 4, 2],
               "num_treatment": [0, 2, 1], "den_treatment": [2, 5, 1]}


@pytest.mark.parametrize(
    ("changes", "error", "fragment"),
    [
        ({"den_control": [3, -1, 4, 2]}, ValueError, "den_control must be >= 0, got -1.0"),
        ({"den_control": [0, 0, 0, 0], "num_control": [0, 0, 0, 0]}, ValueError,
         "den_control must have a positive sum"),
        ({"den_treatment": [2, 5]}, ValueError,
         "num_treatment and den_treatment must have the same shape"),
        ({"num_control": [1]}, ValueError, "num_control must hold at least 2 observations"),
        ({"num_control": [0, 0, 0, 0], "num_treatment": [0, 0, 0]}, ValueError,
         "give a standard error of 0"),
        ({"num_control": [1, 0, 5, 1], "method": "naive"}, ValueError,
         "num_control must lie between 0 and den_control, got 5.0"),
        ({"method": "bootstrap"}, ValueError, "method must be one of 'delta', 'naive'"),
        ({"num_treatment": [0, 2, np.nan]}, ValueError, "num_treatment must be finite"),
        ({"alpha": 2}, ValueError, "alpha must be in (0, 1)"),
        ({"num_control": [[1, 0, 2, 1]] * 2, "den_control": [[3, 1, 4, 2]] * 2,
          "num_treatment": [[0, 2, 1]] * 3, "den_treatment": [[2, 5, 1]] * 3}, ValueError,
         "leading axes (experiments)"),
    ],
)
def test_ratio_bad_input_names_the_argument(changes, error, fragment):
    with pytest.raises(error) as info:
        ratio_metric_test(**{**VALID_RATIO, **changes})
    assert fragment in str(info.value)


RATIO_ARGUMENTS = tuple(VALID_RATIO) + ("method", "alternative", "alpha")


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(RATIO_ARGUMENTS), value=junk_or_number)
def test_fuzz_ratio_bad_input_only_raises_named_errors(name, value):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = ratio_metric_test(**{**VALID_RATIO, **{name: value}})
    except (ValueError, TypeError) as exc:
        assert any(arg in str(exc) for arg in RATIO_ARGUMENTS), str(exc)
    else:
        for field in TTEST_FIELDS[:2] + TTEST_FIELDS[3:]:
            assert not np.isnan(getattr(res, field)).any(), field


def test_ratio_repr_and_explain():
    res = ratio_metric_test(**VALID_RATIO)
    assert isinstance(res, RatioMetricTest) and "    method='delta',\n" in repr(res)
    assert "delta method: the user" in res.explain()
    naive = ratio_metric_test(**VALID_RATIO, method="naive").explain()
    assert "WRONG when users contribute several correlated events" in naive


# =============================================================================================
# Bootstrap intervals
# =============================================================================================


def median_difference(control, treatment):
    return np.median(treatment, axis=-1) - np.median(control, axis=-1)


def scipy_form(statistic):
    return lambda control, treatment, axis: statistic(control, treatment)


@pytest.mark.parametrize("method", ["bca", "percentile"])
@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("statistic", [_difference_in_means, median_difference])
def test_bootstrap_interval_matches_scipy_given_the_same_replicates(statistic, alternative,
                                                                   method):
    """Independent implementation: scipy.stats.bootstrap's interval, recomputed by abteach
    from scipy's own bootstrap distribution (so both work on identical resamples)."""
    rng = np.random.default_rng(60)
    control, treatment = rng.lognormal(0, 1, 37), rng.lognormal(0.3, 1, 52)
    ref = stats.bootstrap((control, treatment), scipy_form(statistic), n_resamples=2000,
                          method="BCa" if method == "bca" else method, rng=61,
                          confidence_level=0.9, alternative=SCIPY_ALTERNATIVE[alternative])
    replicates = ref.bootstrap_distribution
    estimate = np.asarray(statistic(control, treatment))
    jackknife = _jackknife(statistic, control, treatment, ())
    low, high, _, _ = _bootstrap_interval(replicates, estimate, jackknife, method, alternative,
                                          0.1)
    interval = ref.confidence_interval  # 0-d arrays in scipy < 1.16, floats after
    assert (float(low), float(high)) == pytest.approx(
        (float(interval.low), float(interval.high)), rel=1e-12)


def test_closed_form_jackknife_equals_the_generic_one():
    rng = np.random.default_rng(62)
    control, treatment = rng.normal(0, 1, (3, 20)), rng.normal(0, 1, 15)
    closed = _jackknife(_difference_in_means, control, treatment, (3,))
    generic = _jackknife(lambda c, t: _difference_in_means(c, t), control, treatment, (3,))
    for a, b in zip(closed, generic):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_bootstrap_agrees_with_welch_for_large_samples():
    """With 3,000 normal values per arm the bootstrap distribution is normal: the percentile
    interval is Welch's interval up to Monte Carlo error (B = 4,000: the 2.5% quantile has a
    standard error of about 0.04 SE, so a 0.15 SE tolerance is about 3.5 of them)."""
    rng = np.random.default_rng(63)
    control, treatment = rng.normal(10, 3, 3000), rng.normal(10.2, 4, 3000)
    welch = welch_ttest(control, treatment)
    for method in ("percentile", "bca"):
        boot = bootstrap_ci(control, treatment, method=method, n_resamples=4000, rng=64)
        assert boot.effect == pytest.approx(welch.effect, rel=1e-12)
        assert boot.standard_error == pytest.approx(welch.se, rel=0.05)
        assert abs(boot.ci_low - welch.ci_low) < 0.15 * welch.se
        assert abs(boot.ci_high - welch.ci_high) < 0.15 * welch.se


def test_bootstrap_is_seeded():
    rng = np.random.default_rng(65)
    control, treatment = rng.exponential(1, 30), rng.exponential(1.2, 40)
    one = bootstrap_ci(control, treatment, rng=7, n_resamples=500)
    again = bootstrap_ci(control, treatment, rng=np.random.default_rng(7), n_resamples=500)
    other = bootstrap_ci(control, treatment, rng=8, n_resamples=500)
    assert (one.ci_low, one.ci_high) == (again.ci_low, again.ci_high)
    assert one.ci_low != other.ci_low


def test_one_sided_percentile_bound_is_the_two_sided_bound_at_twice_alpha():
    rng = np.random.default_rng(66)
    control, treatment = rng.exponential(1, 30), rng.exponential(1.2, 40)
    two = bootstrap_ci(control, treatment, method="percentile", alpha=0.2, rng=9)
    larger = bootstrap_ci(control, treatment, method="percentile", alternative="larger",
                          alpha=0.1, rng=9)
    smaller = bootstrap_ci(control, treatment, method="percentile", alternative="smaller",
                           alpha=0.1, rng=9)
    assert (larger.ci_low, larger.ci_high) == (two.ci_low, np.inf)
    assert (smaller.ci_low, smaller.ci_high) == (-np.inf, two.ci_high)


def test_bootstrap_many_experiments_at_once():
    rng = np.random.default_rng(67)
    res = bootstrap_ci(rng.normal(0, 1, 25), rng.normal(0, 1, (4, 30)), n_resamples=300,
                       rng=10)
    assert res.ci_low.shape == (4,) and res.replicates.shape == (4, 300)
    assert isinstance(res, BootstrapCI) and res.bias_correction.shape == (4,)
    assert np.all(res.ci_low < res.ci_high)


def bootstrap_coverage(seed, runs, n, resamples, method):
    rng = np.random.default_rng(seed)
    control, treatment = rng.normal(5, 2, (runs, n)), rng.normal(5.5, 2, (runs, n))
    # At most 1000 experiments per call: one call may draw at most 2**28 values.
    generator = np.random.default_rng(seed)
    hits = [covered(res.ci_low, res.ci_high, 0.5) * len(res.ci_low) for res in (
        bootstrap_ci(control[start:start + 1000], treatment[start:start + 1000], method=method,
                     n_resamples=resamples, rng=generator)
        for start in range(0, runs, 1000))]
    return sum(hits) / runs


@pytest.mark.parametrize("method", ["bca", "percentile"])
def test_bootstrap_coverage(method):
    runs = 600
    assert abs(bootstrap_coverage(68, runs, 40, 499, method) - 0.95) < band(0.95, runs)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["bca", "percentile"])
def test_bootstrap_coverage_slow(method):
    runs = 3000
    assert abs(bootstrap_coverage(69, runs, 50, 999, method) - 0.95) < band(0.95, runs)


@pytest.mark.parametrize(
    ("changes", "error", "fragment"),
    [
        ({"statistic": 3}, TypeError, "statistic must be a function"),
        ({"statistic": lambda c, t: np.mean(t) - np.mean(c) + np.zeros(2)}, ValueError,
         "statistic must reduce the last axis"),
        ({"statistic": lambda c, t: np.full(np.shape(c)[:-1], np.nan)}, ValueError,
         "statistic returned a non-finite value"),
        ({"statistic": lambda c, t: "x"}, TypeError, "statistic must return numbers"),
        ({"statistic": lambda c, t: np.mean(t) - np.mean(c)}, ValueError,
         "statistic must reduce the last axis"),  # forgot axis=-1: one number per call
        ({"method": "basic"}, ValueError, "method must be one of 'bca', 'percentile'"),
        ({"n_resamples": 0}, ValueError, "n_resamples must be >= 1"),
        ({"n_resamples": 10.0}, TypeError, "n_resamples must be an integer"),
        ({"rng": None}, TypeError, "rng must be a numpy.random.Generator"),
        ({"control": [1.0, 1.0, 1.0], "treatment": [2.0, 2.0]}, ValueError,
         "bootstrap distribution of the statistic is a single point"),
        ({"control": [1.0]}, ValueError, "control must hold at least 2 observations"),
        ({"alternative": "lower"}, ValueError, "alternative must be one of"),
    ],
)
def test_bootstrap_bad_input_names_the_argument(changes, error, fragment):
    arguments = {"control": [1.0, 2.0, 4.0], "treatment": [2.0, 3.5, 3.0, 5.0], "rng": 1,
                 "n_resamples": 200}
    with pytest.raises(error) as info:
        bootstrap_ci(**{**arguments, **changes})
    assert fragment in str(info.value)


def test_bca_refuses_replicates_on_one_side_only():
    """The number of distinct treatment values: 10 on the data, fewer on nearly every
    resample (all 10 distinct has probability 10!/10^10 = 3.6e-4), so z0 is infinite."""

    def distinct(control, treatment):
        return (np.diff(np.sort(treatment, axis=-1), axis=-1) != 0).sum(axis=-1) + 1.0

    treatment = np.arange(10.0)
    with pytest.raises(ValueError, match="use method='percentile'"):
        bootstrap_ci([1.0, 2.0, 3.0], treatment, statistic=distinct, n_resamples=200, rng=2)
    res = bootstrap_ci([1.0, 2.0, 3.0], treatment, statistic=distinct, n_resamples=200, rng=2,
                       method="percentile")
    assert res.effect == 10 and res.ci_high < 10


@settings(max_examples=60, deadline=None)
@given(control=st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=6),
       treatment=st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=6),
       method=st.sampled_from(["bca", "percentile"]),
       alternative=st.sampled_from(ALTERNATIVES))
def test_fuzz_bootstrap_never_returns_nan(control, treatment, method, alternative):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = bootstrap_ci(control, treatment, method=method, alternative=alternative,
                               n_resamples=100, rng=3)
    except ValueError as exc:
        assert "bootstrap" in str(exc) or "method='bca'" in str(exc), str(exc)
    else:
        assert not np.isnan([res.ci_low, res.ci_high, res.standard_error]).any()
        assert res.ci_low <= res.ci_high


def test_bootstrap_repr_and_explain():
    rng = np.random.default_rng(70)
    res = bootstrap_ci(rng.normal(0, 1, 30), rng.normal(0.5, 1, 30), rng=11, n_resamples=999)
    assert "    replicates=array(shape=(999,), dtype=float64, min=" in repr(res)
    text = res.explain()
    assert "BCa (bias-corrected and accelerated)" in text and "999 resamples" in text
    assert "bias correction z0" in text and "acceleration a" in text
    percentile = bootstrap_ci(rng.normal(0, 1, 30), rng.normal(0.5, 1, 30), rng=11,
                              method="percentile").explain()
    assert "the 0.025 and 0.975 quantiles of the replicates" in percentile


# =============================================================================================
# Kohavi's rule of thumb for the normal approximation
# =============================================================================================


def lognormal_skewness(sigma: float) -> float:
    return (np.exp(sigma**2) + 2) * np.sqrt(np.exp(sigma**2) - 1)


def test_rule_of_thumb_values():
    """Kohavi, Tang & Xu (2020) ch. 17: n > 355 s^2."""
    assert min_sample_size_for_normality(2.0) == 1420.0
    np.testing.assert_allclose(min_sample_size_for_normality([1.0, -3.0]), [355.0, 3195.0])
    assert type(min_sample_size_for_normality(1)) is float
    # The revenue examples of the docstring: lognormal with log-sd 1 and 1.5.
    assert round(min_sample_size_for_normality(lognormal_skewness(1.0)), -1) == 13580
    assert round(min_sample_size_for_normality(lognormal_skewness(1.5)), -4) == 400_000
    with pytest.raises(TypeError, match="skewness must be a number"):
        min_sample_size_for_normality("big")


# The Edgeworth expansion of the t statistic bounds the shift of a nominal 2.5% one-sided
# miss rate by (s / sqrt(n)) (2 z^2 + 1) phi(z) / 6 <= this at n >= 355 s^2 (docstring).
EDGEWORTH_SHIFT = (2 * 1.96**2 + 1) * stats.norm.pdf(1.96) / 6 / np.sqrt(355)
SIGMA = 0.5  # lognormal log-sd of revenue per user: skewness 1.75, rule 1,088 users


def tail_misses(n_treatment, runs, seed, ratio=4):
    """A/A tests of lognormal revenue with a small treatment arm (ratio control users per
    treatment user, as in a ramp-up): share of 95% Welch intervals entirely below the true
    effect 0 (the upper bound misses) and entirely above it."""
    rng = np.random.default_rng(seed)
    upper_miss = lower_miss = 0
    block = max(1, 4_000_000 // (n_treatment * (1 + ratio)))
    for start in range(0, runs, block):
        size = min(block, runs - start)
        res = welch_ttest(rng.lognormal(0, SIGMA, (size, ratio * n_treatment)),
                          rng.lognormal(0, SIGMA, (size, n_treatment)))
        upper_miss += int(np.sum(res.ci_high < 0))
        lower_miss += int(np.sum(res.ci_low > 0))
    return upper_miss / runs, lower_miss / runs


def check_rule_of_thumb(runs_below, runs_above):
    rule = min_sample_size_for_normality(lognormal_skewness(SIGMA))
    # Far below the rule (1/100 of it): the upper bound misses far more than 2.5% of the time
    # and the two-sided interval under-covers.
    upper, lower = tail_misses(int(rule / 100), runs_below, 71)
    assert upper > 0.025 + EDGEWORTH_SHIFT + band(0.025, runs_below)
    assert 1 - upper - lower < 0.95 - band(0.95, runs_below)
    # At the rule: both tails within the Edgeworth allowance, the interval at 95%.
    upper, lower = tail_misses(int(np.ceil(rule)), runs_above, 72)
    for miss in (upper, lower):
        assert abs(miss - 0.025) < EDGEWORTH_SHIFT + band(0.025, runs_above)
    assert abs(1 - upper - lower - 0.95) < band(0.95, runs_above)


def test_normal_approximation_far_below_and_at_the_rule_of_thumb():
    check_rule_of_thumb(20_000, 1_500)


@pytest.mark.slow
def test_normal_approximation_far_below_and_at_the_rule_of_thumb_slow():
    check_rule_of_thumb(200_000, 15_000)


def test_equal_arms_cancel_the_skewness():
    """The docstring's caveat: with equal arms from one distribution the difference of means
    is symmetric, so even at 1/100 of the rule the two tails balance and the interval does not
    under-cover (at n = 11 it is slightly conservative, about 96%: an effect of order 1/n)."""
    runs = FAST_RUNS
    upper, lower = tail_misses(11, runs, 73, ratio=1)
    assert abs(upper - lower) < 2 * band(0.025, runs)
    assert 1 - upper - lower > 0.95 - band(0.95, runs)


# --- lift_interval: the lift interval of a result at another level or alternative -----------


def lift_results(alternative: str, alpha: float):
    """One result of each kind (a batch of 100 tables; Welch and Student; a ratio metric)."""
    x_c, n_c, x_t, n_t = random_tables(11, 100)
    rng = np.random.default_rng(12)
    num = rng.poisson(3.0, size=(2, 400)).astype(float)
    den = num + rng.poisson(5.0, size=(2, 400)) + 1
    options = dict(alternative=alternative, alpha=alpha)
    return [
        ztest_proportions(x_c, n_c, x_t, n_t, **options),
        welch_ttest_from_stats(10.0, 4.0, 300, 11.0, 5.0, 250, **options),
        welch_ttest_from_stats(10.0, 4.0, 300, 11.0, 5.0, 250, equal_var=True, **options),
        ratio_metric_test(num[0], den[0], num[1], den[1], **options),
    ]


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.2])
def test_lift_interval_at_the_results_own_level_is_its_reported_interval(alternative, alpha):
    for result in lift_results(alternative, alpha):
        low, high = lift_interval(result, alternative=alternative, alpha=alpha)
        defined = np.isfinite(np.log1p(np.asarray(result.lift, float)))
        assert np.allclose(np.asarray(low)[defined], np.asarray(result.lift_ci_low)[defined], rtol=1e-12)
        assert np.allclose(np.asarray(high)[defined], np.asarray(result.lift_ci_high)[defined], rtol=1e-12)


def test_lift_interval_one_sided_bound_is_the_two_sided_one_at_twice_alpha_statsmodels():
    """Independent check: statsmodels' log (Katz) interval of the risk ratio, minus 1."""
    x_c, n_c, x_t, n_t = random_tables(13, 60)
    result = ztest_proportions(x_c, n_c, x_t, n_t)
    low, _ = lift_interval(result, alternative="larger", alpha=0.05)
    _, high = lift_interval(result, alternative="smaller", alpha=0.05)
    for i in range(len(x_c)):
        r_low, r_high = confint_proportions_2indep(
            x_t[i], n_t[i], x_c[i], n_c[i], method="log", compare="ratio", alpha=0.10
        )
        assert low[i] + 1 == pytest.approx(r_low, rel=1e-10)
        assert high[i] + 1 == pytest.approx(r_high, rel=1e-10)


def test_lift_interval_one_sided_lower_bound_covers_the_true_lift():
    """Seeded simulation: the one-sided 95% lower bound of the lift lies below the truth in
    95% of experiments (4.5-SE binomial band)."""
    runs, n, p_c, p_t = 20_000, 5_000, 0.10, 0.11
    rng = np.random.default_rng(14)
    result = ztest_proportions(rng.binomial(n, p_c, runs), n, rng.binomial(n, p_t, runs), n)
    low, _ = lift_interval(result, alternative="larger", alpha=0.05)
    coverage = np.mean(low < p_t / p_c - 1)
    assert abs(coverage - 0.95) < 4.5 * np.sqrt(0.95 * 0.05 / runs)


def test_lift_interval_is_the_whole_line_where_the_log_interval_does_not_exist():
    low, high = lift_interval(ztest_proportions(0, 100, 5, 100))
    assert (low, high) == (-np.inf, np.inf)


@pytest.mark.parametrize(("result", "options", "error", "words"), [
    ("not a result", {}, TypeError, "result must be a ProportionsZTest, MeansTTest or "
                                    "RatioMetricTest, got str"),
    (None, {"alpha": 1.5}, ValueError, "alpha must be in (0, 1), got 1.5"),
    (None, {"alternative": "bigger"}, ValueError, "alternative must be one of"),
])
def test_lift_interval_bad_input_names_the_argument(result, options, error, words):
    result = ztest_proportions(10, 100, 12, 100) if result is None else result
    with pytest.raises(error, match=re.escape(words)):
        lift_interval(result, **options)


# --- ProportionsZTest: se and the symmetric lift interval -----------------------------------


@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_ztest_se_is_the_unpooled_wald_se_of_statsmodels(alternative):
    """``se`` is the SE behind the effect's interval: statsmodels' Wald interval for a
    difference of proportions has half-width z * se."""
    x_c, n_c, x_t, n_t = 122, 21306, 267, 21307
    res = ztest_proportions(x_c, n_c, x_t, n_t, alternative=alternative)
    low, high = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="wald", compare="diff")
    assert res.se == pytest.approx((high - low) / (2 * stats.norm.ppf(0.975)), rel=1e-12)
    p_c, p_t = x_c / n_c, x_t / n_t
    assert res.se == pytest.approx(np.sqrt(p_c * (1 - p_c) / n_c + p_t * (1 - p_t) / n_t),
                                   rel=1e-12)


@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_ztest_symmetric_lift_interval_is_the_delta_method_on_the_ratio(alternative):
    """By hand, with numerical gradients of t / c (Kohavi, Tang & Xu 2020, ch. 18)."""
    x_c, n_c, x_t, n_t = 12, 2000, 20, 2000
    res = ztest_proportions(x_c, n_c, x_t, n_t, alternative=alternative, alpha=0.1)
    p_c, p_t, h = x_c / n_c, x_t / n_t, 1e-7
    variances = np.array([p_c * (1 - p_c) / n_c, p_t * (1 - p_t) / n_t])
    grad = np.array([(p_t / (p_c + h) - p_t / (p_c - h)) / (2 * h),
                     ((p_t + h) / p_c - (p_t - h) / p_c) / (2 * h)])
    se_ratio = np.sqrt(grad**2 @ variances)
    z = stats.norm.ppf(0.95 if alternative == "two-sided" else 0.9)
    lift = p_t / p_c - 1
    expected_low = -np.inf if alternative == "smaller" else lift - z * se_ratio
    expected_high = np.inf if alternative == "larger" else lift + z * se_ratio
    assert res.lift_ci_low_symmetric == pytest.approx(expected_low, rel=1e-6)
    assert res.lift_ci_high_symmetric == pytest.approx(expected_high, rel=1e-6)
    # the same fields as the other two-arm tests
    assert {"se", "lift_ci_low_symmetric", "lift_ci_high_symmetric"} <= {
        f.name for f in fields(ProportionsZTest)} & {f.name for f in fields(MeansTTest)} & {
        f.name for f in fields(RatioMetricTest)}


def test_ztest_log_lift_interval_is_statsmodels_log_ratio_interval():
    res = ztest_proportions(122, 21306, 267, 21307)
    low, high = confint_proportions_2indep(267, 21307, 122, 21306, method="log",
                                           compare="ratio")
    assert (res.lift_ci_low, res.lift_ci_high) == pytest.approx((low - 1, high - 1), rel=1e-9)


def test_lift_without_control_conversion_is_infinite_with_a_note():
    """0 of 1000 against 5 of 1000: the lift has no finite estimate. It is +inf (never NaN),
    its intervals say "no information", and explain() says why."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = ztest_proportions(0, 1000, 5, 1000)
        text = res.explain()
        none = ztest_proportions(0, 1000, 0, 1000)
    assert res.lift == np.inf and np.isfinite(res.effect) and np.isfinite(res.se)
    assert (res.lift_ci_low, res.lift_ci_high) == (-1.0, np.inf)
    assert (res.lift_ci_low_symmetric, res.lift_ci_high_symmetric) == (-np.inf, np.inf)
    assert "no control unit converted" in text and "report the effect" in text
    assert none.lift == 0.0 and "no unit converted in either arm" in none.explain()
    assert "note:" not in ztest_proportions(1, 1000, 5, 1000).explain()


# --- moments_from_sums and welch_ttest_from_sums --------------------------------------------


def test_moments_from_sums_matches_numpy():
    rng = np.random.default_rng(70)
    values = rng.lognormal(2, 1, (4, 300))
    m = moments_from_sums(300, values.sum(axis=1), (values**2).sum(axis=1))
    assert isinstance(m, Moments)
    np.testing.assert_allclose(m.mean, values.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(m.variance, values.var(axis=1, ddof=1), rtol=1e-9)
    np.testing.assert_allclose(m.sd, values.std(axis=1, ddof=1), rtol=1e-9)


@settings(max_examples=300, deadline=None)
@given(value=st.floats(-1e12, 1e12), n=st.integers(2, 1000))
def test_moments_of_a_constant_sample_are_never_negative(value, n):
    """Catastrophic cancellation: Q - S^2/n of n copies of one value is pure rounding, of
    either sign; the variance must never be negative (or NaN) and stay within the rounding
    error of the sums (a few machine epsilons times Q per value)."""
    values = np.full(n, value)
    total_sq = (values**2).sum()
    m = moments_from_sums(n, values.sum(), total_sq)
    assert 0.0 <= m.variance <= 8 * n * np.finfo(float).eps * total_sq / (n - 1)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=50),
       shift=st.sampled_from([0.0, 1e4, 1e7]))
def test_moments_from_sums_never_negative_and_close_to_two_pass(values, shift):
    data = np.array(values) + shift
    m = moments_from_sums(len(data), data.sum(), (data**2).sum())
    reference = data.var(ddof=1)  # two-pass: no cancellation
    assert m.variance >= 0
    # the error of Q - S^2/n is a few epsilons of Q (Chan, Golub & LeVeque 1983)
    assert abs(m.variance - reference) <= 1e-9 * (data**2).sum() / (len(data) - 1) + 1e-300


@pytest.mark.parametrize(
    ("arguments", "error", "fragment"),
    [
        ((1, 1.0, 1.0), ValueError, "n must be >= 2, got 1"),
        ((3, 30.0, 100.0), ValueError, "total_sq must be >= total**2 / n"),
        ((3, 1e200, 1e300), ValueError, "total_sq must be >= total**2 / n"),
        ((3, 1.0, -1.0), ValueError, "total_sq must be >= 0"),
        ((3, np.nan, 1.0), ValueError, "total must be finite"),
        ((3, "1", 1.0), TypeError, "total must be a number"),
        ((2.5, 1.0, 1.0), ValueError, "n must be a whole number"),
    ],
)
def test_moments_from_sums_bad_input_names_the_argument(arguments, error, fragment):
    with pytest.raises(error) as info:
        moments_from_sums(*arguments)
    assert fragment in str(info.value)


def test_welch_ttest_from_sums_is_r_sleep_and_the_raw_test():
    """R: t.test(extra ~ group, data = sleep): t = -1.8608, df = 17.776, p-value = 0.07939."""
    g1, g2 = np.array(SLEEP_G1), np.array(SLEEP_G2)
    for equal_var in (False, True):
        res = welch_ttest_from_sums(10, g2.sum(), (g2**2).sum(), 10, g1.sum(), (g1**2).sum(),
                                    equal_var=equal_var)
        raw = welch_ttest(g2, g1, equal_var=equal_var)
        for name in TTEST_FIELDS:
            assert getattr(res, name) == pytest.approx(getattr(raw, name), rel=1e-9, abs=1e-12)
    res = welch_ttest_from_sums(10, g2.sum(), (g2**2).sum(), 10, g1.sum(), (g1**2).sum())
    assert (round(res.statistic, 4), round(res.df, 3), round(res.pvalue, 5)) == (
        -1.8608, 17.776, 0.07939)


def test_welch_ttest_from_sums_broadcasts_and_names_its_arguments():
    rng = np.random.default_rng(71)
    c, t = rng.normal(0, 1, (5, 40)), rng.normal(0.2, 1.5, (5, 60))
    res = welch_ttest_from_sums(40, c.sum(1), (c**2).sum(1), 60, t.sum(1), (t**2).sum(1),
                                alternative="greater")
    raw = welch_ttest(c, t, alternative="larger")
    np.testing.assert_allclose(res.pvalue, raw.pvalue, rtol=1e-8)
    with pytest.raises(ValueError, match="sum_sq_treatment must be >= sum_treatment"):
        welch_ttest_from_sums(40, 4.0, 100.0, 60, 60.0, 1.0)
    with pytest.raises(ValueError, match="sum_sq_control and sum_sq_treatment give a standard"):
        welch_ttest_from_sums(4, 4.0, 4.0, 6, 6.0, 6.0)


# --- huge or tiny but finite values -------------------------------------------------------


@pytest.mark.parametrize("power", [-1000, -500, 500, 1000])
@pytest.mark.parametrize("equal_var", [False, True])
def test_welch_ttest_is_exact_under_a_change_of_unit(power, equal_var):
    """t, df and p do not depend on the unit: values multiplied by 2**power (exact in floating
    point, far beyond where sd**2 / n overflows or underflows) give the same test, and the
    effect, interval and SE multiplied by 2**power."""
    rng = np.random.default_rng(72)
    control, treatment = rng.normal(1, 1, 30), rng.normal(1.5, 2, 45)
    base = welch_ttest(control, treatment, equal_var=equal_var)
    scale = 2.0**power
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = welch_ttest(control * scale, treatment * scale, equal_var=equal_var)
    for name in ("statistic", "pvalue", "df", "lift", "lift_ci_low", "lift_ci_high",
                 "lift_ci_low_symmetric", "lift_ci_high_symmetric"):
        assert getattr(big, name) == pytest.approx(getattr(base, name), rel=1e-13), name
    for name in ("effect", "ci_low", "ci_high", "se", "mean_control", "sd_treatment"):
        assert getattr(big, name) == pytest.approx(getattr(base, name) * scale, rel=1e-13), name


def test_welch_ttest_from_stats_with_a_huge_sd():
    """sd = 1e300: sd**2 overflows, the SE (1e300 / sqrt(n)) does not."""
    res = welch_ttest_from_stats(1e299, 1e300, 30, 3e299, 2e300, 40)
    ref = welch_ttest_from_stats(0.1, 1.0, 30, 0.3, 2.0, 40)
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert res.pvalue == pytest.approx(ref.pvalue, rel=1e-12)
    assert res.se == pytest.approx(ref.se * 1e300, rel=1e-12)
    with pytest.raises(ValueError, match="too large for floating point"):
        welch_ttest([0.0, 1e308], [0.0, 1.0])  # the 95% interval's half-width exceeds 1e308


@pytest.mark.parametrize("scale", [1e100, 1e102, 1e250])
def test_bca_with_a_huge_outlier_scales_with_the_data(scale):
    """An outlier of 1e103 (1e105, 1e253) once gave a zero-width interval (an IndexError): the
    BCa interval is equivariant, so it must be the interval of the data with the outlier at
    1e3, times the scale."""
    rng = np.random.default_rng(73)
    control, treatment = rng.normal(0, 1, 40), rng.normal(0, 1, 40)
    treatment[0] = 1e3
    base = bootstrap_ci(control, treatment, n_resamples=999, rng=74)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = bootstrap_ci(control * scale, treatment * scale, n_resamples=999, rng=74)
    assert big.ci_high > big.ci_low
    assert big.ci_low == pytest.approx(base.ci_low * scale, rel=1e-9)
    assert big.ci_high == pytest.approx(base.ci_high * scale, rel=1e-9)
    assert big.acceleration == pytest.approx(base.acceleration, rel=1e-9)
    assert big.standard_error == pytest.approx(base.standard_error * scale, rel=1e-9)


def test_bootstrap_refuses_values_whose_mean_overflows():
    treatment = np.linspace(0, 1, 40)
    treatment[:3] = 1.7e308
    with pytest.raises(ValueError, match="statistic returned a non-finite value"):
        bootstrap_ci([0.0, 1.0, 2.0], treatment, n_resamples=99, rng=1)


@pytest.mark.parametrize("kwargs, text", [
    # found by tests/test_fuzz_public.py: n_resamples=5996680953848500 ran out of memory
    (dict(n_resamples=5996680953848500), "n_resamples must be <= 10,000,000"),
    (dict(n_resamples=10_000_000, control=np.arange(30.0)),
     r"n_resamples \* \(n_control \+ n_treatment\) = 350,000,000 numbers is too large"),
])
def test_bootstrap_resamples_are_bounded(kwargs, text):
    args = dict(control=[1.0, 2.0, 3.0, 4.0, 5.0], treatment=[2.0, 3.0, 4.0, 5.0, 7.0], rng=1)
    with pytest.raises(ValueError, match=text):
        bootstrap_ci(**{**args, **kwargs})
