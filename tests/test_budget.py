"""Tests of abteach.budget: cannibalisation bias with shared budgets, budget-split design."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from abteach.budget import _served, simulate_budget_experiment


def test_served_share_hand_example():
    """Budget 10, spend 4 per period: periods 1-2 fully served (8), period 3 half (2 of 4),
    period 4 not at all. Budget 100: everything served. No spend: nothing to cut."""
    spend = np.array([[4.0, 4.0, 4.0, 4.0], [4.0, 4.0, 4.0, 4.0], [0.0, 0.0, 0.0, 0.0]])
    served = _served(spend, np.array([10.0, 100.0, 5.0]))
    np.testing.assert_allclose(served, [[1, 1, 0.5, 0], [1, 1, 1, 1], [1, 1, 1, 1]])
    assert (spend * served).sum(axis=1).tolist() == [10.0, 16.0, 0.0]


def test_no_effect_on_spend_naive_and_split_agree():
    """Treatment changes neither the cost per click nor clicks: every estimate is ~0 and the
    naive and budget-split estimates agree within Monte Carlo error (4.5 SE)."""
    r = simulate_budget_experiment(cost_effect=0.0, click_effect=0.0, rng=11)
    for bias, se in ((r.bias_naive, r.bias_naive_se), (r.bias_split, r.bias_split_se)):
        assert abs(bias) <= 4.5 * se
    diff = r.naive_lift - r.split_lift
    assert abs(diff.mean()) <= 4.5 * diff.std(ddof=1) / np.sqrt(diff.size)
    assert abs(r.true_lift.mean()) <= 4.5 * r.true_lift.std(ddof=1) / np.sqrt(r.true_lift.size)


def test_cost_effect_with_binding_budgets_biases_naive_not_split():
    """Clicks 20% dearer, budgets binding for most advertisers: launching to everyone raises
    revenue by only a few percent (budgets cap it), the shared-budget experiment reports
    about +20% (treatment takes control's budget), the budget-split estimate is within
    0.005 of the truth (its finite-sample bias, see simulate_budget_experiment), far
    below the naive bias."""
    r = simulate_budget_experiment(cost_effect=0.2, rng=12)
    assert r.binding_share > 0.5
    assert r.true_lift.mean() < 0.1
    assert r.naive_lift.mean() == pytest.approx(0.2, abs=0.01)
    assert r.bias_naive > 0.1 and r.bias_naive > 20 * r.bias_naive_se
    assert abs(r.bias_split) < 0.005
    assert abs(r.bias_split) < 0.05 * r.bias_naive


def test_slack_budgets_no_bias():
    """Budgets that never bind: no interference, naive = split = truth (+20%) on average."""
    r = simulate_budget_experiment(cost_effect=0.2, budget_ratio=0.2, rng=13)
    assert r.binding_share < 0.01
    assert r.true_lift.mean() == pytest.approx(0.2, abs=0.005)
    assert abs(r.bias_naive) <= 4.5 * r.bias_naive_se
    assert abs(r.bias_split) <= 4.5 * r.bias_split_se


def test_unequal_split_and_click_effect():
    """A 20% treatment share and a click-rate effect: the naive bias remains, budget-split
    still tracks the truth."""
    r = simulate_budget_experiment(cost_effect=0.0, click_effect=0.1, treatment_share=0.2,
                                   rng=14)
    assert r.bias_naive > 0.03
    assert abs(r.bias_split) < 0.01
    text = r.explain()
    assert "budget-split" in text and "naive" in text


def test_reproducible_with_seed():
    a = simulate_budget_experiment(rng=5, runs=10)
    b = simulate_budget_experiment(rng=5, runs=10)
    np.testing.assert_array_equal(a.naive_lift, b.naive_lift)


@pytest.mark.parametrize("kwargs, name", [
    (dict(cost_effect=-1.0), "cost_effect"),
    (dict(click_effect=-2.0), "click_effect"),
    (dict(budget_ratio=0.0), "budget_ratio"),
    (dict(treatment_share=1.0), "treatment_share"),
    (dict(n_advertisers=0), "n_advertisers"),
    (dict(periods=1.5), "periods"),
    (dict(runs=1), "runs"),
    (dict(cost_effect="big"), "cost_effect"),
    # found by tests/test_fuzz_public.py: overflow warnings, a numpy "lam value too large",
    # and terabyte arrays
    (dict(cost_effect=1e200), "cost_effect"),
    (dict(click_effect=1e300), "click_effect"),
    (dict(budget_ratio=5e-324), "budget_ratio"),
    (dict(runs=10**12), "runs \\* n_advertisers \\* periods"),
    (dict(n_advertisers=2**63), "runs \\* n_advertisers \\* periods"),
    (dict(runs=5, periods=4, n_advertisers=3501976), "working arrays"),  # > 10 s of CPU
])
def test_bad_input_names_the_argument(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=name):
        simulate_budget_experiment(rng=1, **kwargs)


def test_rng_is_required():
    with pytest.raises(TypeError, match="rng"):
        simulate_budget_experiment(rng=None)


@settings(max_examples=30, deadline=None)
@given(cost=st.floats(-0.9, 5), clicks=st.floats(-0.9, 5), ratio=st.floats(0.01, 100),
       share=st.floats(0.01, 0.99))
def test_fuzz_valid_input_never_nan(cost, clicks, ratio, share):
    r = simulate_budget_experiment(cost_effect=cost, click_effect=clicks, budget_ratio=ratio,
                                   treatment_share=share, n_advertisers=20, periods=6, runs=4,
                                   rng=0)
    for value in (r.true_lift, r.naive_lift, r.split_lift, r.bias_naive, r.bias_split):
        assert np.all(np.isfinite(value))
