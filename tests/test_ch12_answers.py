"""Chapter 12 answer key: the expected answers agree with independent computations
(statsmodels, scipy) and the typical mistakes are really different values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats
from statsmodels.stats.meta_analysis import combine_effects
from statsmodels.stats.multitest import multipletests

from abteach.course.answers import ch12
from abteach.course.answers.ch12 import EXERCISES
from abteach.course.check import CORRECT, evaluate

PUBLIC = ch12.PUBLIC_INPUTS
TABLE, SHRINK, ARMS = PUBLIC["12.1"], PUBLIC["12.2"], PUBLIC["12.5"]


def _expected(exercise_id: str) -> float:
    exercise = next(ex for ex in EXERCISES if ex.id == exercise_id)
    return float(exercise.answer.expected())


def test_holm_desktop_matches_scipy_and_statsmodels():
    """Unpooled z-tests by hand with scipy, Holm by statsmodels' multipletests."""
    x_c, n_c = np.array(TABLE["x_control"]), np.array(TABLE["n_control"])
    x_t, n_t = np.array(TABLE["x_treatment"]), np.array(TABLE["n_treatment"])
    p_c, p_t = x_c / n_c, x_t / n_t
    z = (p_t - p_c) / np.sqrt(p_c * (1 - p_c) / n_c + p_t * (1 - p_t) / n_t)
    holm = multipletests(2 * stats.norm.sf(np.abs(z)), method="holm")[1]
    assert _expected("12.1") == pytest.approx(holm[ch12.SEGMENTS.index("desktop")], rel=1e-9)


def test_tau2_and_shrunken_estimate_match_statsmodels():
    """statsmodels' DerSimonian-Laird tau^2 (positive here, so no truncation issue) and the
    normal-normal posterior mean computed from it."""
    y, se = np.array(SHRINK["effects"]), np.array(SHRINK["standard_errors"])
    ref = combine_effects(y, se**2, method_re="dl")
    assert ref.tau2 > 0
    assert _expected("12.2") == pytest.approx(ref.tau2, rel=1e-9)
    b = se[-1] ** 2 / (se[-1] ** 2 + ref.tau2)
    shrunk = ref.mean_effect_re + (1 - b) * (y[-1] - ref.mean_effect_re)
    assert _expected("12.3") == pytest.approx(shrunk, rel=1e-9)


def test_prob_beat_matches_numerical_integration():
    a_c, b_c = 1 + ARMS["x_c"], 1 + ARMS["n_c"] - ARMS["x_c"]
    a_t, b_t = 1 + ARMS["x_t"], 1 + ARMS["n_t"] - ARMS["x_t"]
    value, _ = integrate.quad(lambda y: stats.beta.pdf(y, a_c, b_c) * stats.beta.sf(y, a_t, b_t),
                              0.02, 0.08, limit=200, epsabs=1e-12)
    assert _expected("12.5") == pytest.approx(value, abs=1e-8)


@pytest.mark.parametrize("exercise_id, rounded", [
    ("12.1", lambda v: round(v, 3)), ("12.2", lambda v: float(f"{v:.3g}")),
    ("12.3", lambda v: round(v, 5)), ("12.5", lambda v: round(v, 4)),
])
def test_rounded_answers_are_accepted(exercise_id, rounded):
    assert evaluate(exercise_id, rounded(_expected(exercise_id))).status == CORRECT
