"""Chapter 16: the answer key agrees with independent computations (statsmodels, scipy,
arithmetic), the typical mistakes are really different values, and the deterministic numbers
the chapter prints are recomputed here. The chapter's simulated rates are re-measured by
nbval (seeded) and by tests/test_interference.py on other seeds."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.power import NormalIndPower, TTestIndPower

from abteach.course.answers import ch16
from abteach.course.answers.ch16 import EXERCISES
from abteach.course.check import CORRECT, evaluate
from conftest import ROOT, read


def _expected(exercise_id: str) -> float:
    exercise = next(ex for ex in EXERCISES if ex.id == exercise_id)
    expected = exercise.answer.expected
    return float(expected() if callable(expected) else expected)


def test_design_effect_and_stores_per_arm_match_statsmodels():
    assert _expected("16.1") == pytest.approx(1 + 39 * 0.02, rel=1e-12)
    d = ch16.STORE_DELTA / math.sqrt(ch16.STORE_ICC + (1 - ch16.STORE_ICC) / ch16.STORE_SIZE)
    k = math.ceil(TTestIndPower().solve_power(effect_size=d, power=0.8, alpha=0.05))
    assert _expected("16.2") == k == 71


def test_cace_is_the_wald_ratio():
    assert _expected("16.3") == pytest.approx(float(Fraction("0.15") / Fraction("0.25")))


def test_interaction_power_matches_statsmodels():
    """SE = 2 / sqrt(2000): the power of a z-test at effect size 0.1 / (2 / sqrt(2000)) with
    one observation, i.e. statsmodels' two-sample power at d = 0.05 with 4,000 per arm."""
    assert _expected("16.4") == pytest.approx(NormalIndPower().power(0.05, 4000, 0.05),
                                              rel=1e-9)


@pytest.mark.parametrize("exercise_id, rounded", [
    ("16.1", lambda v: round(v, 2)), ("16.2", lambda v: int(v)),
    ("16.3", lambda v: round(v, 2)), ("16.4", lambda v: round(v, 3)),
])
def test_rounded_answers_are_accepted(exercise_id, rounded):
    assert evaluate(exercise_id, rounded(_expected(exercise_id))).status == CORRECT


# --- numbers the chapter prints --------------------------------------------------------------


def _outputs() -> str:
    nb = read(ROOT / "book" / "16_interference.ipynb")
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.outputs)


def test_chapter_prints_the_recomputed_design():
    """DE 3.45 (published example, see test_interference.py); the normal-approximation count
    251.2 x 3.45 / 50; K = 19 and its power from statsmodels' t-test power."""
    text = _outputs()
    n = 2 * (stats.norm.isf(0.025) + stats.norm.isf(0.2)) ** 2 / 0.25**2
    assert f"{n:.1f} users x DE 3.45 / m = {n * 3.45 / 50:.2f} clusters" in text
    d = 0.25 / math.sqrt(0.05 + 0.95 / 50)
    assert f"K = 19 (950 units), power {TTestIndPower().power(d, 19, 0.05):.4f}" in text


def test_chapter_interaction_example_and_power_table():
    text = _outputs()
    se = math.sqrt(4 / 10_000)
    z = -0.03 / se
    assert f"gamma = -0.0300, SE = {se:.4f}, z = {z:.4f}, p = {2 * stats.norm.sf(-z):.4f}" in text
    for n in (1_000, 5_000, 10_000, 20_000, 40_000):
        main = NormalIndPower().power(0.05, 2 * n, 0.05)
        inter = NormalIndPower().power(0.025, 2 * n, 0.05)
        assert f"{n:14,d}   {main:18.3f}   {inter:28.3f}" in text


def test_chapter_ratio_example_by_fractions():
    """The two estimands of section 16.6 move in opposite directions."""
    text = _outputs()
    values = {
        "control": (Fraction(12, 104), (Fraction(10, 100) + Fraction(1, 2) * 2) / 3),
        "treatment": (Fraction(14, 104), Fraction(14, 100) / 3),
    }
    for arm, (sums, means) in values.items():
        assert (f"{arm:9s}: ratio of sums {float(sums):.4f}, mean of ratios "
                f"{float(means):.4f}") in text
    assert values["treatment"][0] > values["control"][0]
    assert values["treatment"][1] < values["control"][1]


def test_chapter_cace_equals_its_2sls_line():
    """The chapter prints the CACE by hand, by abteach and by 2SLS: the three agree."""
    text = _outputs()
    by_hand = float(text.split("CACE by hand ")[1].split()[0])
    assert f"abteach: CACE {by_hand:.4f}" in text
    assert f"2SLS: {by_hand:.4f}" in text
    hc0, scaled = text.split("HC0 SE ")[1].split(";")[0], text.split("(n-1)/n) ")[1].split()[0]
    assert np.isclose(float(hc0), float(scaled), atol=1e-5)
