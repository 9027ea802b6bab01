"""Tests of abteach.simulate.simulate_conversions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from abteach.inference import ztest_proportions
from abteach.simulate import SimulatedConversions, simulate_conversions

RUNS = 50_000


def binomial_moments_z(draws: np.ndarray, n: int, p: float) -> tuple[float, float]:
    """z-scores of the sample mean and variance of binomial draws against theory.

    Var(sample mean) = sigma^2 / m; Var(sample variance) ~ (mu4 - sigma^4) / m with the
    binomial fourth central moment mu4 = n p q (1 + 3 (n - 2) p q).
    """
    m, q = draws.size, 1 - p
    sigma2 = n * p * q
    mu4 = n * p * q * (1 + 3 * (n - 2) * p * q)
    z_mean = (draws.mean() - n * p) / np.sqrt(sigma2 / m)
    z_var = (draws.var(ddof=1) - sigma2) / np.sqrt((mu4 - sigma2**2) / m)
    return float(z_mean), float(z_var)


@pytest.mark.parametrize(
    ("p_control", "p_treatment", "n_control", "n_treatment"),
    [(0.1, 0.12, 1000, 1000), (0.02, 0.5, 50, 20_000), (0.9, 0.003, 3, 400)],
)
def test_mean_and_variance_match_the_binomial(p_control, p_treatment, n_control, n_treatment):
    sim = simulate_conversions(p_control, p_treatment, n_control, n_treatment,
                               n_experiments=RUNS, rng=7)
    for draws, n, p in [(sim.x_control, n_control, p_control),
                        (sim.x_treatment, n_treatment, p_treatment)]:
        z_mean, z_var = binomial_moments_z(draws, n, p)
        assert abs(z_mean) < 4.5 and abs(z_var) < 4.5


def test_distribution_matches_the_binomial_pmf():
    """Chi-square goodness of fit of 50,000 draws of Binomial(20, 0.3)."""
    sim = simulate_conversions(0.3, 0.3, 20, 20, n_experiments=RUNS, rng=8)
    observed = np.bincount(sim.x_control, minlength=21)
    expected = RUNS * stats.binom.pmf(np.arange(21), 20, 0.3)
    keep = expected >= 5
    observed = np.append(observed[keep], observed[~keep].sum())
    expected = np.append(expected[keep], RUNS - expected[keep].sum())
    assert stats.chisquare(observed, expected).pvalue > 1e-4


def test_arms_are_independent():
    sim = simulate_conversions(0.4, 0.4, 100, 100, n_experiments=RUNS, rng=9)
    r = np.corrcoef(sim.x_control, sim.x_treatment)[0, 1]
    assert abs(r) < 4.5 / np.sqrt(RUNS)


def test_shape_dtype_and_fields():
    sim = simulate_conversions(0.1, 0.2, 100, 300, n_experiments=17, rng=1)
    assert isinstance(sim, SimulatedConversions)
    assert sim._fields == ("x_control", "n_control", "x_treatment", "n_treatment")
    assert sim.x_control.shape == sim.x_treatment.shape == (17,)
    assert sim.x_control.dtype == sim.x_treatment.dtype == np.int64
    assert (sim.n_control, sim.n_treatment) == (100, 300)
    assert np.all((0 <= sim.x_treatment) & (sim.x_treatment <= 300))


def test_feeds_the_z_test_directly():
    sim = simulate_conversions(0.1, 0.1, 500, 500, n_experiments=100, rng=2)
    assert ztest_proportions(*sim).pvalue.shape == (100,)


def test_same_seed_same_draws_and_generators_advance():
    a = simulate_conversions(0.1, 0.15, 1000, 1000, n_experiments=50, rng=123)
    b = simulate_conversions(0.1, 0.15, 1000, 1000, n_experiments=50, rng=123)
    np.testing.assert_array_equal(a.x_control, b.x_control)
    np.testing.assert_array_equal(a.x_treatment, b.x_treatment)
    generator = np.random.default_rng(123)
    first = simulate_conversions(0.1, 0.15, 1000, 1000, n_experiments=50, rng=generator)
    second = simulate_conversions(0.1, 0.15, 1000, 1000, n_experiments=50, rng=generator)
    np.testing.assert_array_equal(first.x_control, a.x_control)
    assert not np.array_equal(first.x_control, second.x_control)


def test_control_draws_do_not_depend_on_the_treatment_rate():
    a = simulate_conversions(0.1, 0.1, 1000, 1000, n_experiments=50, rng=5)
    b = simulate_conversions(0.1, 0.3, 1000, 1000, n_experiments=50, rng=5)
    np.testing.assert_array_equal(a.x_control, b.x_control)


def test_extreme_rates_are_allowed():
    sim = simulate_conversions(0.0, 1.0, 10, 20, n_experiments=5, rng=0)
    assert list(sim.x_control) == [0] * 5 and list(sim.x_treatment) == [20] * 5


VALID = {"p_control": 0.1, "p_treatment": 0.12, "n_control": 100, "n_treatment": 100,
         "n_experiments": 10, "rng": 1}


@pytest.mark.parametrize(
    ("changes", "error", "fragment"),
    [
        ({"p_control": 1.2}, ValueError, "p_control must be in [0, 1], got 1.2"),
        ({"p_treatment": -0.1}, ValueError, "p_treatment must be in [0, 1]"),
        ({"p_control": np.nan}, ValueError, "p_control must be finite"),
        ({"p_treatment": [0.1, 0.2]}, ValueError, "p_treatment must be a single number"),
        ({"p_control": "0.1"}, TypeError, "p_control must be a number"),
        ({"n_control": 0}, ValueError, "n_control must be >= 1, got 0"),
        ({"n_treatment": 10.0}, TypeError, "n_treatment must be an integer"),
        ({"n_experiments": 0}, ValueError, "n_experiments must be >= 1"),
        ({"n_experiments": True}, TypeError, "n_experiments must be an integer"),
        ({"rng": None}, TypeError, "rng must be a numpy.random.Generator"),
        ({"rng": -1}, TypeError, "rng must be"),
    ],
)
def test_bad_input_names_the_argument(changes, error, fragment):
    with pytest.raises(error) as info:
        simulate_conversions(**{**VALID, **changes})
    assert fragment in str(info.value)


def test_n_experiments_and_rng_are_keyword_only():
    with pytest.raises(TypeError):
        simulate_conversions(0.1, 0.1, 10, 10, 5, 1)


junk = st.one_of(st.none(), st.booleans(), st.text(max_size=3), st.floats(allow_nan=True),
                 st.integers(-100, 10**4), st.lists(st.floats(0, 1), max_size=2))


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(VALID)), value=junk)
def test_fuzz_bad_input_only_raises_named_errors(name, value):
    try:
        sim = simulate_conversions(**{**VALID, **{name: value}})
    except (ValueError, TypeError) as exc:
        assert name in str(exc), str(exc)
    else:
        assert sim.x_control.shape == (sim.x_control.size,)
        assert np.all(sim.x_control <= sim.n_control)


def test_sizes_that_cannot_fit_are_refused_before_drawing():
    with pytest.raises(ValueError, match="n_experiments = .* is too large"):
        simulate_conversions(0.1, 0.1, 10, 10, n_experiments=10**12, rng=1)
    with pytest.raises(ValueError, match="n_control must be <= 9,007,199,254,740,992"):
        simulate_conversions(0.1, 0.1, 10**30, 10, n_experiments=1, rng=1)
    with pytest.raises(ValueError, match="n_treatment must be <="):
        simulate_conversions(0.1, 0.1, 10, 2**60, n_experiments=1, rng=1)
