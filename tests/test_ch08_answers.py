"""Chapter 8 answer key: the expected answers agree with independent computations
(statsmodels, scipy, hand-derived step tables) and rounded answers are accepted."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests

import abteach as abt
from abteach.course.answers import ch08
from abteach.course.answers.ch08 import EXERCISES

PUBLIC = ch08.PUBLIC_INPUTS
M_NULL, SCORECARD = PUBLIC["08.1"]["m_null"], PUBLIC["08.2"]["scorecard"]
VARIANTS = PUBLIC["08.4"]["variants"]
K_VARIANTS, P_BASE, P_TARGET = (PUBLIC["08.5"][name] for name in ("k_variants", "p_base", "p_target"))
from abteach.course.check import CORRECT, evaluate


def _expected(exercise_id: str) -> float:
    exercise = next(ex for ex in EXERCISES if ex.id == exercise_id)
    return float(exercise.answer.expected())


def test_fwer_twelve_matches_a_seeded_simulation():
    """1 - (1 - alpha)^m for m = 12 independent null tests, checked on 100,000 simulated families
    with a binomial band of 4.5 standard errors."""
    expected = _expected("08.1")
    p = abt.simulate_pvalues(np.zeros(M_NULL), n_experiments=100_000, rng=80)
    simulated = np.mean((p < ch08.ALPHA).any(axis=1))
    band = 4.5 * math.sqrt(expected * (1 - expected) / 100_000)
    assert abs(simulated - expected) < band
    assert "0.6" in EXERCISES[0].answer.mistakes[0][1]  # the hint quotes m * alpha
    assert math.isclose(M_NULL * ch08.ALPHA, 0.6)


def test_scorecard_counts_agree_with_statsmodels():
    """Independent implementation: statsmodels.stats.multitest.multipletests."""
    for exercise_id, method in (("08.2", "bonferroni"), ("08.3", "fdr_bh")):
        reject = multipletests(SCORECARD, alpha=ch08.ALPHA, method=method)[0]
        assert _expected(exercise_id) == reject.sum()


def test_scorecard_step_table_derived_by_hand():
    """Sorted p: .001 .004 .008 .012 .027 .029 .041 .19 .38 .74 against i * 0.005: ranks 1-4 and 6
    pass, rank 5 (0.027 > 0.025) fails. Hence BH (step-up) rejects 6, a step-down reading stops at
    4, counting the passing ranks gives 5; Bonferroni (0.005) rejects 2; the raw 0.05 rejects 7.
    The solution notebook's explanation quotes these numbers."""
    assert _expected("08.3") == 6
    assert ch08._bh_stopped_at_first_failure(SCORECARD) == 4
    assert ch08._bh_each_below_own_threshold(SCORECARD) == 5
    assert _expected("08.2") == 2
    assert sum(p <= 0.05 for p in SCORECARD) == 7


def test_holm_adjusted_a_agrees_with_statsmodels_and_hand_value():
    """Holm: sorted 0.009 (x5 = 0.045), 0.011 (x4 = 0.044, running max 0.045): variant A gets 0.045."""
    holm = multipletests(VARIANTS, method="holm")[1]
    assert math.isclose(_expected("08.4"), holm[0], rel_tol=1e-12)
    assert math.isclose(_expected("08.4"), 0.045, rel_tol=1e-12)
    assert ch08._variant_a_rank(VARIANTS) == 2
    assert min(VARIANTS) == 0.009  # the hint quotes 5 * 0.009


def test_sample_size_agrees_with_the_pooled_formula():
    """Independent computation of R's power.prop.test formula at alpha = 0.05 / 4 with scipy."""
    p1, p2, alpha = P_BASE, P_TARGET, ch08.ALPHA / K_VARIANTS
    z_a, z_b = stats.norm.isf(alpha / 2), stats.norm.isf(0.2)
    p_bar = (p1 + p2) / 2
    n = (z_a * math.sqrt(2 * p_bar * (1 - p_bar)) + z_b * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2
    n /= (p2 - p1) ** 2
    assert math.isclose(_expected("08.5"), n, rel_tol=1e-6)


def test_rounded_up_sample_size_is_accepted():
    assert evaluate("08.5", math.ceil(_expected("08.5"))).status == CORRECT
