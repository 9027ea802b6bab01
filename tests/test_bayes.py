"""Tests of abteach.bayes: beta-binomial A/B, exact P(beat), expected loss, peeking."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from abteach import bayes
from abteach.bayes import beta_binomial_ab, prob_greater, simulate_bayes_peeking
from abteach.inference import ztest_proportions


def band(rate: float, runs: int, width: float = 4.5) -> float:
    """Half-width of a binomial tolerance band: `width` standard errors of a rate over `runs`."""
    return width * np.sqrt(rate * (1 - rate) / runs)


def quad_prob_greater(a_x, b_x, a_y, b_y) -> float:
    """P(X > Y) by numerical integration: integral of f_Y(y) P(X > y) dy (scipy)."""
    lo, hi = (min(stats.beta.ppf(1e-12, a, b) for a, b in ((a_x, b_x), (a_y, b_y))),
              max(stats.beta.ppf(1 - 1e-12, a, b) for a, b in ((a_x, b_x), (a_y, b_y))))
    value, _ = integrate.quad(lambda y: stats.beta.pdf(y, a_y, b_y) * stats.beta.sf(y, a_x, b_x),
                              lo, hi, limit=400, epsabs=1e-13, epsrel=1e-11)
    return value


def quad_loss(a_x, b_x, a_y, b_y) -> float:
    """E[max(Y - X, 0)] by numerical integration: integral of P(Y - X > t) over t > 0."""
    def tail(t):
        def integrand(x):
            return stats.beta.pdf(x, a_x, b_x) * stats.beta.sf(x + t, a_y, b_y)
        return integrate.quad(integrand, 0, 1 - t, limit=200)[0]
    return integrate.quad(tail, 0, 1, limit=200)[0]


# --- hand values and the closed form against integration and Monte Carlo ------------------

def test_small_hand_values():
    """Beta(1,1) vs Beta(1,1): 1/2. Beta(2,1) (density 2x) vs uniform: P = int 2x * x dx = 2/3.
    Beta(1,2) vs Beta(1,1): P(X > Y) = int (1 - y)^2 dy = 1/3."""
    assert prob_greater(1, 1, 1, 1) == pytest.approx(0.5, abs=1e-15)
    assert prob_greater(2, 1, 1, 1) == pytest.approx(2 / 3, abs=1e-15)
    assert prob_greater(1, 2, 1, 1) == pytest.approx(1 / 3, abs=1e-15)


def test_closed_form_matches_numerical_integration():
    rng = np.random.default_rng(12)
    for _ in range(25):
        a_x, a_y = (int(v) for v in rng.integers(1, 300, 2))
        b_x, b_y = (float(v) for v in rng.uniform(1, 3000, 2))
        assert prob_greater(a_x, b_x, a_y, b_y) == pytest.approx(
            quad_prob_greater(a_x, b_x, a_y, b_y), abs=1e-8)


def test_quadrature_beyond_the_sum_matches_it_where_both_apply():
    """The integral used for millions of conversions agrees with the closed-form sum."""
    rng = np.random.default_rng(3)
    a_x = rng.integers(1000, 3000, 40)
    b_x, a_y, b_y = np.exp(rng.uniform(3, 9, (3, 40)))
    np.testing.assert_allclose(bayes._prob_greater_quadrature(a_x, b_x, a_y, b_y),
                               bayes._prob_greater_sum(a_x, b_x, a_y, b_y), atol=1e-8)


def test_huge_counts_use_the_integral_and_match_the_normal_limit():
    """prob_greater(10**12, ...) once asked for 7 TiB; at such counts both posteriors are
    normal to many digits, so P(X > Y) = Phi((m_x - m_y) / sqrt(v_x + v_y))."""
    a_x, b_x, a_y, b_y = 10**12, 9 * 10**12, 10**12 + 10**6, 9 * 10**12
    mean = lambda a, b: a / (a + b)  # noqa: E731
    var = lambda a, b: a * b / ((a + b) ** 2 * (a + b + 1))  # noqa: E731
    z = (mean(a_x, b_x) - mean(a_y, b_y)) / np.sqrt(var(a_x, b_x) + var(a_y, b_y))
    assert prob_greater(a_x, b_x, a_y, b_y) == pytest.approx(stats.norm.cdf(z), abs=1e-6)
    assert prob_greater(10**12, 1, 1, 1) == pytest.approx(1 - 1 / (10**12 + 1), abs=1e-9)


def test_huge_counts_in_beta_binomial_ab_agree_with_the_z_test():
    r = beta_binomial_ab(10**11, 10**12, 10**11 + 10**6, 10**12, rng=1, draws=1000)
    z = ztest_proportions(10**11, 10**12, 10**11 + 10**6, 10**12, alternative="larger")
    assert r.prob_treatment_better == pytest.approx(1 - z.pvalue, abs=1e-4)
    assert np.isfinite([r.loss_treatment, r.loss_control]).all()


def test_tiny_shape_parameters():
    """Beta(1, 1) vs Beta(a, 1): P = 1 - a / (a + 1); for a below the smallest normal float
    the beta function overflows and the parameter is refused (it was NaN)."""
    assert prob_greater(1, 1, 1e-300, 1) == pytest.approx(1.0, abs=1e-15)
    assert prob_greater(1, 1, 0.5, 1) == pytest.approx(1 - 0.5 / 1.5, abs=1e-12)
    with pytest.raises(ValueError, match="a_y must be at least"):
        prob_greater(1, 1, 5e-324, 1)


def test_expected_loss_matches_numerical_integration():
    r = beta_binomial_ab(4, 40, 7, 42, rng=1, draws=1000)
    assert r.loss_treatment == pytest.approx(
        quad_loss(r.a_treatment, r.b_treatment, r.a_control, r.b_control), rel=1e-6)
    assert r.loss_control == pytest.approx(
        quad_loss(r.a_control, r.b_control, r.a_treatment, r.b_treatment), rel=1e-6)
    # E[max(t - c, 0)] - E[max(c - t, 0)] = E[t - c]
    assert r.loss_control - r.loss_treatment == pytest.approx(r.effect, rel=1e-10)


def test_closed_form_matches_monte_carlo():
    rng = np.random.default_rng(4)
    draws = 400_000
    for x_c, n_c, x_t, n_t in ((30, 1000, 44, 1000), (5, 40, 3, 38), (480, 10_000, 520, 10_000)):
        r = beta_binomial_ab(x_c, n_c, x_t, n_t, rng=rng, draws=1000)
        p_c = rng.beta(r.a_control, r.b_control, draws)
        p_t = rng.beta(r.a_treatment, r.b_treatment, draws)
        beat = np.mean(p_t > p_c)
        assert r.prob_treatment_better == pytest.approx(beat, abs=band(beat, draws))
        loss = np.maximum(p_c - p_t, 0)
        assert r.loss_treatment == pytest.approx(loss.mean(),
                                                 abs=4.5 * loss.std() / np.sqrt(draws))


def test_symmetry_and_complement():
    r = beta_binomial_ab(30, 1000, 44, 1000, rng=2, draws=1000)
    swapped = beta_binomial_ab(44, 1000, 30, 1000, rng=2, draws=1000)
    assert r.prob_treatment_better + swapped.prob_treatment_better == pytest.approx(1, abs=1e-12)
    assert r.loss_treatment == pytest.approx(swapped.loss_control, rel=1e-12)
    same = beta_binomial_ab(30, 1000, 30, 1000, rng=2, draws=1000)
    assert same.prob_treatment_better == pytest.approx(0.5, abs=1e-12)


def test_posterior_parameters_and_credible_interval():
    r = beta_binomial_ab(30, 1000, 44, 1000, prior=(2, 38), rng=5, draws=200_000)
    assert (r.a_control, r.b_control, r.a_treatment, r.b_treatment) == (32, 1008, 46, 994)
    assert r.mean_treatment == pytest.approx(46 / 1040)
    # MC interval of p_t - p_c vs the normal approximation of the difference of betas
    var = sum(stats.beta.var(a, b) for a, b in ((32, 1008), (46, 994)))
    assert r.effect_ci_low == pytest.approx(r.effect - 1.96 * np.sqrt(var), abs=6e-4)
    assert r.effect_ci_high == pytest.approx(r.effect + 1.96 * np.sqrt(var), abs=6e-4)
    assert r.lift_ci_low < r.lift < r.lift_ci_high
    text = r.explain()
    assert "Beta(2, 38)" in text and "not a p-value" in text


def test_flat_prior_large_n_matches_one_sided_z_test():
    """With a flat prior and large samples, P(beat) ~ 1 - one-sided p-value (unpooled z):
    both are Phi(effect / SE) to first order."""
    for x_c, x_t in ((5000, 5150), (5000, 5050), (5000, 4900)):
        r = beta_binomial_ab(x_c, 100_000, x_t, 100_000, rng=3, draws=1000)
        z = ztest_proportions(x_c, 100_000, x_t, 100_000, alternative="larger", pooled=False)
        assert r.prob_treatment_better == pytest.approx(1 - z.pvalue, abs=2e-3)


def test_arrays_equal_separate_calls():
    x_t = np.array([40, 44, 50])
    batch = beta_binomial_ab(30, 1000, x_t, 1000, rng=1, draws=1000)
    for i, x in enumerate(x_t):
        one = beta_binomial_ab(30, 1000, int(x), 1000, rng=1, draws=1000)
        assert batch.prob_treatment_better[i] == pytest.approx(one.prob_treatment_better,
                                                               rel=1e-12)
        assert batch.loss_treatment[i] == pytest.approx(one.loss_treatment, rel=1e-12)


# --- simulations --------------------------------------------------------------------------

def test_credible_interval_coverage_when_truth_comes_from_the_prior():
    """Draw both true rates from the prior Beta(2, 30), data from them, and check that the 90%
    credible interval of p_t - p_c covers the true difference in 90% of 1,500 runs (binomial
    band): calibration is exactly what Bayes promises when the prior is the truth."""
    rng = np.random.default_rng(2026)
    runs, n = 1500, 150
    p = rng.beta(2, 30, size=(2, runs))
    x = rng.binomial(n, p)
    r = beta_binomial_ab(x[0], n, x[1], n, prior=(2, 30), credible=0.9, draws=4000, rng=rng)
    truth = p[1] - p[0]
    covered = np.mean((r.effect_ci_low <= truth) & (truth <= r.effect_ci_high))
    assert abs(covered - 0.9) <= band(0.9, runs)


def test_peeking_with_prob_beat_inflates_false_positives():
    """A/A, 10 looks: 'P(beat) > 0.95' once at the end fires in about 5% of runs (the
    one-sided test analogue); checked at every look it fires far more often (about 17%)."""
    runs = 3000
    r = simulate_bayes_peeking(0.05, 500, 10, runs=runs, rng=7)
    assert abs(r.false_positive_rate_final - 0.05) <= band(0.05, runs)
    assert r.false_positive_rate_any_look > 0.05 + 2 * band(0.05, runs)
    assert r.false_positive_rate_any_look > 2 * r.false_positive_rate_final
    assert "10 looks" in r.explain()


def test_one_look_any_equals_final():
    r = simulate_bayes_peeking(0.1, 200, 1, runs=500, rng=1)
    assert r.false_positive_rate_any_look == r.false_positive_rate_final


# --- validation and fuzzing ---------------------------------------------------------------

@pytest.mark.parametrize("call, name", [
    (lambda: beta_binomial_ab(11, 10, 1, 10, rng=1), "x_control"),
    (lambda: beta_binomial_ab(1, 10, 11, 10, rng=1), "x_treatment"),
    (lambda: beta_binomial_ab(1, 0, 1, 10, rng=1), "n_control"),
    (lambda: beta_binomial_ab(1.5, 10, 1, 10, rng=1), "x_control"),
    (lambda: beta_binomial_ab(1, 10, 1, 10, prior=(0.5, 0.5), rng=1), "prior"),
    (lambda: beta_binomial_ab(1, 10, 1, 10, prior=(1, 0), rng=1), "prior"),
    (lambda: beta_binomial_ab(1, 10, 1, 10, prior=1, rng=1), "prior"),
    (lambda: beta_binomial_ab(1, 10, 1, 10, credible=1.0, rng=1), "credible"),
    (lambda: beta_binomial_ab(1, 10, 1, 10, draws=5, rng=1), "draws"),
    (lambda: beta_binomial_ab(1, 10, 1, 10, rng=None), "rng"),
    (lambda: prob_greater(1.5, 1, 1, 1), "a_x"),
    (lambda: prob_greater(1, -1, 1, 1), "b_x"),
    (lambda: simulate_bayes_peeking(1.2, 10, 3, rng=1), "p"),
    (lambda: simulate_bayes_peeking(0.1, 10, 0, rng=1), "looks"),
    (lambda: simulate_bayes_peeking(0.1, 10, 3, threshold=0, rng=1), "threshold"),
    (lambda: simulate_bayes_peeking(0.1, 10, 10**6, runs=10**6, rng=1), "runs \\* looks"),
    (lambda: prob_greater(1, 1, 1, 5e-324), "b_y"),
    (lambda: beta_binomial_ab(1, 10, 1, 10, draws=10**12, rng=1), "draws"),
    (lambda: simulate_bayes_peeking(0.1, 2**63, 3, rng=1), "n_per_look"),
    (lambda: simulate_bayes_peeking(0.1, 20, 583762, runs=20, rng=1), "runs \\* looks \\* 512"),
    (lambda: prob_greater(np.arange(1, 10**6), 1, 1, 1), "quadrature nodes"),
])
def test_bad_input_names_the_argument(call, name):
    with pytest.raises((ValueError, TypeError), match=name):
        call()


@settings(max_examples=80, deadline=None)
@given(n_c=st.integers(1, 3000), n_t=st.integers(1, 3000), data=st.data(),
       prior=st.tuples(st.integers(1, 50), st.integers(1, 50)))
def test_fuzz_valid_input_never_nan(n_c, n_t, data, prior):
    x_c, x_t = data.draw(st.integers(0, n_c)), data.draw(st.integers(0, n_t))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = beta_binomial_ab(x_c, n_c, x_t, n_t, prior=prior, draws=200, rng=0)
    for name in ("prob_treatment_better", "loss_treatment", "loss_control", "effect",
                 "effect_ci_low", "effect_ci_high", "lift", "lift_ci_low", "lift_ci_high"):
        assert np.isfinite(getattr(r, name)), name
    assert 0 <= r.prob_treatment_better <= 1
    assert r.loss_treatment >= 0 and r.loss_control >= 0


@settings(max_examples=80, deadline=None)
@given(x=st.one_of(st.none(), st.text(), st.floats(), st.integers(-5, 5), st.booleans()),
       n=st.one_of(st.floats(), st.integers(-5, 5), st.lists(st.integers(), max_size=2)))
def test_fuzz_bad_input_raises_clean_errors(x, n):
    try:
        beta_binomial_ab(x, n, 1, 10, draws=100, rng=0)
    except (ValueError, TypeError) as exc:
        assert any(name in str(exc) for name in ("x_control", "n_control", "shape"))


def test_doctests():
    import doctest

    import abteach.bayes

    outcome = doctest.testmod(abteach.bayes)
    assert outcome.attempted > 0 and outcome.failed == 0
