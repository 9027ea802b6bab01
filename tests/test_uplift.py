"""Tests of abteach.uplift: OLS base learner, S- and T-learners, Qini curves, targeting."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from abteach.uplift import (
    design_matrix,
    fit_ols,
    qini_coefficient,
    qini_curve,
    s_learner,
    simulate_uplift_data,
    t_learner,
    targeting_gain,
)

# --- the OLS base learner against numpy and statsmodels ----------------------------------


def test_ols_matches_statsmodels_and_lstsq():
    rng = np.random.default_rng(1)
    for _ in range(20):
        n, d = int(rng.integers(10, 200)), int(rng.integers(1, 4))
        x = design_matrix(rng.normal(size=(n, d)), degree=int(rng.integers(1, 4)))
        y = x @ rng.normal(size=x.shape[1]) + rng.normal(size=n)
        beta = fit_ols(x, y)
        np.testing.assert_allclose(beta, sm.OLS(y, x).fit().params, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(beta, np.linalg.lstsq(x, y, rcond=None)[0], rtol=1e-10)


def test_design_matrix_columns():
    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    np.testing.assert_array_equal(design_matrix(x, degree=2),
                                  [[1, 1, 2, 1, 4], [1, 3, -1, 9, 1]])


def test_rank_deficient_design_is_refused():
    x = np.column_stack([np.ones(5), np.arange(5.0), 2 * np.arange(5.0)])
    with pytest.raises(ValueError, match="design"):
        fit_ols(x, np.arange(5.0))


# --- learners -----------------------------------------------------------------------------

def test_t_learner_recovers_linear_effect():
    """tau(x) = 0.2 + 0.5 x1; with 40,000 users the T-learner's CATE is within 0.06 of the
    truth everywhere on [-1, 1]^2 (its coefficient SEs are about 0.01-0.02)."""
    data = simulate_uplift_data(40_000, rng=2026)
    grid = np.column_stack([np.linspace(-1, 1, 21), np.linspace(1, -1, 21)])
    tau_hat = t_learner(data.features, data.treated, data.outcome, new_features=grid)
    np.testing.assert_allclose(tau_hat, 0.2 + 0.5 * grid[:, 0], atol=0.06)
    # and the S-learner with interactions fits the same linear CATE model
    s_hat = s_learner(data.features, data.treated, data.outcome, new_features=grid)
    np.testing.assert_allclose(s_hat, tau_hat, atol=1e-8)


def test_s_learner_without_interactions_is_constant():
    """The pitfall: a linear S-learner without treatment interactions predicts one effect for
    everyone, equal to the OLS treatment coefficient (about the average effect 0.2)."""
    data = simulate_uplift_data(20_000, rng=3)
    tau_hat = s_learner(data.features, data.treated, data.outcome, interactions=False)
    assert np.ptp(tau_hat) == 0.0
    x = np.column_stack([design_matrix(data.features), data.treated.astype(float)])
    assert tau_hat[0] == pytest.approx(sm.OLS(data.outcome, x).fit().params[-1], rel=1e-8)
    assert tau_hat[0] == pytest.approx(0.2, abs=0.05)


def test_simulated_truth():
    data = simulate_uplift_data(1000, rng=1, effect_intercept=0.1, effect_slope=-0.3)
    np.testing.assert_allclose(data.tau, 0.1 - 0.3 * data.features[:, 0])
    assert data.treated.dtype == bool and data.features.shape == (1000, 2)
    quiet = simulate_uplift_data(500, rng=1, noise_sd=0.0)
    x = quiet.features
    np.testing.assert_allclose(quiet.outcome,
                               1 + x[:, 0] + 0.5 * x[:, 1] ** 2 + quiet.treated * quiet.tau)


# --- Qini curves --------------------------------------------------------------------------

def test_qini_hand_example():
    """Six users ranked by score (highest first): T y=1, C y=0, T y=1, C y=1, T y=0, C y=1.
    Top 1: Q = 1 (no control yet, ratio counts 0); top 2: 1 - 0 * 1/1 = 1;
    top 3: 2 - 0 * 2/1 = 2; top 4: 2 - 1 * 2/2 = 1; top 5: 2 - 1 * 3/2 = 0.5;
    all 6: 2 - 2 * 3/3 = 0. The rows are passed shuffled: only the scores order them."""
    scores = np.array([6, 5, 4, 3, 2, 1], dtype=float)[[5, 0, 3, 1, 4, 2]]
    treated = np.array([True, False, True, False, True, False])[[5, 0, 3, 1, 4, 2]]
    outcome = np.array([1, 0, 1, 1, 0, 1], dtype=float)[[5, 0, 3, 1, 4, 2]]
    curve = qini_curve(scores, treated, outcome)
    np.testing.assert_allclose(curve.qini, [0, 1, 1, 2, 1, 0.5, 0])
    np.testing.assert_allclose(curve.random, np.zeros(7))
    # U(k): k=1: (1 - 0) * 1; k=2: (1 - 0) * 2; k=3: (1 - 0) * 3; k=4: (1 - 1/2) * 4;
    # k=5: (2/3 - 1/2) * 5; k=6: (2/3 - 2/3) * 6
    np.testing.assert_allclose(curve.uplift, [0, 1, 2, 3, 2, 5 / 6, 0])
    # coefficient: trapezoid of Q / n over steps of 1/n
    gap = curve.qini / 6
    assert curve.coefficient == pytest.approx(np.sum((gap[1:] + gap[:-1]) / 2) / 6)
    assert qini_coefficient(scores, treated, outcome) == curve.coefficient


def test_qini_endpoints():
    data = simulate_uplift_data(3000, rng=4)
    curve = qini_curve(data.tau, data.treated, data.outcome)
    w, y = data.treated, data.outcome
    assert curve.qini[0] == 0 and curve.uplift[0] == 0 and curve.fraction[-1] == 1
    assert curve.qini[-1] == pytest.approx(y[w].sum() - y[~w].sum() * w.sum() / (~w).sum())
    assert curve.uplift[-1] == pytest.approx((y[w].mean() - y[~w].mean()) * y.size)
    assert curve.random[-1] == curve.qini[-1]


def test_qini_of_random_scores_is_zero_and_true_tau_beats_it():
    """Random rankings: the Qini coefficient averages 0 over 200 seeded draws (4.5 SE band);
    the true tau(x) gives a clearly positive coefficient above every random one's mean."""
    data = simulate_uplift_data(4000, rng=5)
    rng = np.random.default_rng(6)
    random = np.array([qini_coefficient(rng.random(4000), data.treated, data.outcome)
                       for _ in range(200)])
    assert abs(random.mean()) <= 4.5 * random.std(ddof=1) / np.sqrt(random.size)
    true = qini_coefficient(data.tau, data.treated, data.outcome)
    assert true > random.mean() + 3 * random.std(ddof=1)


def test_targeting_gain():
    """tau = 0.2 + 0.5 x1 with x1 ~ U(-1, 1): treating the top 60% (x1 > -0.2) gains
    0.6 * mean(tau | x1 > -0.2) = 0.6 * 0.4 = 0.24 per user, everyone 0.2 per user."""
    data = simulate_uplift_data(200_000, rng=7)
    gain = targeting_gain(data.tau, data.treated, data.outcome, fraction=0.6)
    assert gain.gain_targeted == pytest.approx(0.24, abs=0.02)
    assert gain.gain_everyone == pytest.approx(0.2, abs=0.02)
    costly = targeting_gain(data.tau, data.treated, data.outcome, fraction=0.6, cost=0.1)
    assert costly.gain_targeted == pytest.approx(gain.gain_targeted - 0.06, abs=1e-3)
    assert costly.gain_everyone == pytest.approx(gain.gain_everyone - 0.1, abs=1e-12)
    assert "top 60%" in gain.explain()


# --- validation and fuzzing ---------------------------------------------------------------

@pytest.mark.parametrize("call, name", [
    (lambda: design_matrix([1.0, 2.0], degree=0), "degree"),
    (lambda: design_matrix([1.0, 2.0], degree=10**12), "degree"),  # hung before the check
    (lambda: design_matrix([1e300, 2.0], degree=2), "features"),
    (lambda: s_learner(np.arange(4.0), np.array([1, 0, 1, 0], bool), np.ones(4),
                       degree=10**12), "degree"),
    (lambda: t_learner(np.arange(4.0), np.array([1, 0, 1, 0], bool), np.ones(4),
                       degree=2**63), "degree"),
    (lambda: t_learner(np.arange(8.0), np.array([1, 0] * 4, bool), np.ones(8),
                       degree=15), "degree 15 is too high"),  # named only the design
    (lambda: s_learner(np.arange(8.0), np.array([1, 0] * 4, bool), np.ones(8),
                       degree=15), "degree 15 is too high"),
    (lambda: fit_ols(np.ones((3, 2)), np.ones(4)), "outcome"),
    (lambda: fit_ols(np.ones(3), np.ones(3)), "design"),
    (lambda: t_learner(np.ones(4), [1, 0, 1, 0], np.ones(4)), "treated"),
    (lambda: t_learner(np.ones(4), np.ones(4, bool), np.ones(4)), "treated"),
    (lambda: s_learner(np.ones(4), np.array([1, 0, 1, 0], bool), np.ones(3)), "outcome"),
    (lambda: s_learner(np.arange(4.0), np.array([1, 0, 1, 0], bool), np.ones(4),
                       interactions="yes"), "interactions"),
    (lambda: t_learner(np.arange(6.0), np.array([1, 0] * 3, bool), np.ones(6),
                       new_features=np.ones((2, 3))), "new_features"),
    (lambda: qini_curve([1.0, np.nan], np.array([True, False]), [1.0, 0.0]), "uplift_scores"),
    (lambda: qini_curve([1.0, 2.0], np.array([True, True]), [1.0, 0.0]), "treated"),
    (lambda: qini_curve([1.0, 2.0], np.array([True, False]), [1e200, 0.0]), "outcome"),
    (lambda: targeting_gain([1.0, 2.0], np.array([True, False]), [1.0, 0.0], fraction=1.5),
     "fraction"),
    (lambda: targeting_gain([1.0, 2.0], np.array([True, False]), [1.0, 0.0], fraction=0.5,
                            cost=-1), "cost"),
    (lambda: simulate_uplift_data(2, rng=1), "n"),
    (lambda: qini_curve([1.0, 2.0], [[1, 2], [3]], [1.0, 0.0]), "treated"),  # was numpy's text
    (lambda: s_learner(np.arange(3.0), np.array([1, 0, 1, 0], bool), np.ones(4)), "features"),
    (lambda: simulate_uplift_data(100, rng=1, treated_share=1.0), "treated_share"),
    (lambda: simulate_uplift_data(100, rng="seed"), "rng"),
])
def test_bad_input_names_the_argument(call, name):
    with pytest.raises((ValueError, TypeError), match=name):
        call()


@settings(max_examples=100, deadline=None)
@given(n=st.integers(2, 60), data=st.data())
def test_fuzz_qini_valid_input_never_nan(n, data):
    scores = np.array(data.draw(st.lists(st.floats(-1e6, 1e6), min_size=n, max_size=n)))
    treated = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    outcome = np.array(data.draw(st.lists(st.floats(-1e6, 1e6), min_size=n, max_size=n)))
    if treated.all() or not treated.any():
        treated[0] = not treated[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        curve = qini_curve(scores, treated, outcome)
    assert np.all(np.isfinite(curve.qini)) and np.all(np.isfinite(curve.uplift))
    assert np.isfinite(curve.coefficient)


@settings(max_examples=60, deadline=None)
@given(scores=st.one_of(st.none(), st.text(), st.floats(), st.lists(st.floats(), max_size=3)))
def test_fuzz_bad_scores_raise_clean_errors(scores):
    try:
        qini_curve(scores, np.array([True, False, True]), [1.0, 0.0, 1.0])
    except (ValueError, TypeError) as exc:
        assert "uplift_scores" in str(exc)


def test_doctests():
    import doctest

    import abteach.uplift

    outcome = doctest.testmod(abteach.uplift)
    assert outcome.attempted > 0 and outcome.failed == 0
