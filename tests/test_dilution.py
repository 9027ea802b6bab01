"""abteach.events.diluted_effect: the trigger-dilute estimate (Deng & Hu 2015) and its
delta-method standard error, checked by simulation and against a direct computation."""

from __future__ import annotations

import numpy as np
import pytest

import abteach as abt

RUNS = 20_000


def band(rate: float, runs: int, width: float = 4.5) -> float:
    return width * np.sqrt(rate * (1 - rate) / runs)


def simulate(rng, runs=RUNS, n_arm=2_000, p_trigger=0.3, p_untriggered=0.05,
             p_triggered=(0.10, 0.12)):
    """Experiments whose treatment acts only on triggered users (who trigger at the same rate
    in both arms); the true effect on all users is p_trigger * (0.12 - 0.10)."""
    trig = rng.binomial(n_arm, p_trigger, (2, runs))
    conv_trig = rng.binomial(trig, np.array(p_triggered)[:, None])
    conv_untrig = rng.binomial(n_arm - trig, p_untriggered)
    return trig, conv_trig, conv_untrig, n_arm


def test_formula_by_hand():
    """effect = r * effect_T, se^2 = r^2 se_T^2 + effect_T^2 r (1 - r) / n."""
    d = abt.diluted_effect(0.03, 0.01, 2_500, 10_000, alpha=0.1)
    r = 0.25
    se = np.sqrt(r**2 * 0.01**2 + 0.03**2 * r * (1 - r) / 10_000)
    assert d.effect == pytest.approx(r * 0.03, rel=1e-12)
    assert d.se == pytest.approx(se, rel=1e-12)
    assert d.ci_high - d.effect == pytest.approx(1.6448536269514722 * se, rel=1e-9)
    assert (d.n_triggered, d.n_exposed, d.trigger_rate) == (2_500, 10_000, 0.25)


def test_coverage_and_se_by_simulation():
    """The 95% interval covers the true diluted effect in 95% of simulated experiments, the
    SE matches the spread of the estimates, and the estimate is unbiased."""
    rng = np.random.default_rng(2015)
    trig, conv_trig, _, n_arm = simulate(rng)
    triggered = abt.ztest_proportions(conv_trig[0], trig[0], conv_trig[1], trig[1])
    d = abt.diluted_effect(triggered.effect, triggered.se, trig.sum(axis=0), 2 * n_arm)
    truth = 0.3 * 0.02
    coverage = np.mean((d.ci_low <= truth) & (truth <= d.ci_high))
    assert abs(coverage - 0.95) < band(0.95, RUNS)
    assert np.mean(d.se) == pytest.approx(np.std(d.effect), rel=0.03)
    assert np.mean(d.effect) == pytest.approx(truth, abs=4.5 * np.std(d.effect) / np.sqrt(RUNS))


def test_diluted_estimate_is_more_precise_than_all_users():
    """The untriggered users add noise and no signal: the diluted estimate has a smaller
    standard deviation than the difference over all users (which is unbiased too)."""
    rng = np.random.default_rng(7)
    trig, conv_trig, conv_untrig, n_arm = simulate(rng, runs=5_000)
    triggered = abt.ztest_proportions(conv_trig[0], trig[0], conv_trig[1], trig[1])
    d = abt.diluted_effect(triggered.effect, triggered.se, trig.sum(axis=0), 2 * n_arm)
    converters = conv_trig + conv_untrig
    overall = abt.ztest_proportions(converters[0], n_arm, converters[1], n_arm)
    assert np.std(d.effect) < 0.8 * np.std(overall.effect)
    assert np.mean(overall.effect) == pytest.approx(0.006, abs=4.5 * np.std(overall.effect) / 70)


def test_arrays_broadcast_and_bad_input():
    d = abt.diluted_effect([0.02, 0.01], 0.005, 6_000, 10_000)
    assert d.effect.tolist() == pytest.approx([0.012, 0.006])
    with pytest.raises(ValueError, match="n_triggered must be <= n_exposed"):
        abt.diluted_effect(0.02, 0.005, 11_000, 10_000)
    with pytest.raises(ValueError, match="triggered_se must be >= 0, got -0.1"):
        abt.diluted_effect(0.02, -0.1, 10, 100)
    with pytest.raises(ValueError, match="n_exposed must be >= 2"):
        abt.diluted_effect(0.02, 0.1, 1, 1)
    with pytest.raises(TypeError, match="triggered_effect must be a number"):
        abt.diluted_effect("0.02", 0.1, 1, 10)
