"""Chapter 2 answer key: the numbers quoted in the Choice hints are the ones abteach computes,
and rounded answers are accepted."""

from __future__ import annotations

import math

import numpy as np

import abteach as abt
from abteach.course.answers.ch02 import EXERCISES
from abteach.course.check import CORRECT, evaluate


def test_rounded_up_sample_size_is_accepted():
    assert evaluate("02.1", math.ceil(abt.sample_size_proportions(0.04, 0.044))).status == CORRECT


def test_days_are_whole_weeks():
    days = EXERCISES[2].answer.expected()
    assert days % 7 == 0
    exact = abt.duration_days(math.ceil(abt.sample_size_proportions(0.04, 0.044)), 6000,
                              traffic_share=0.4)
    assert days - 7 < exact <= days


def _ceil_text(n: float) -> str:
    return f"{math.ceil(n):,}"


def test_numbers_quoted_in_choice_hints_match_abteach():
    hints_05 = EXERCISES[4].answer.hints
    for method in ("pooled", "unpooled", "arcsine", "continuity"):
        assert _ceil_text(abt.sample_size_proportions(0.10, 0.12, method=method)) in hints_05[method]
    assert math.ceil(abt.sample_size_proportions(0.10, 0.12, method="baseline")) == 3623
    hints_06 = EXERCISES[5].answer.hints
    assert _ceil_text(abt.sample_size_proportions(0.10, 0.12, alternative="larger")) in hints_06["a"]
    assert _ceil_text(2 * np.ceil(abt.sample_size_proportions(0.10, 0.12))) in hints_06["c"]
    assert _ceil_text(abt.sample_size_proportions(0.10, 0.12, power=0.9)) in hints_06["d"]
    assert math.ceil(abt.sample_size_proportions(0.10, 0.12, method="continuity")) == 3941


def test_observed_power_at_p_030_is_about_018():
    """Hoenig & Heisey (2001): observed power is a function of the p-value; at p = 0.30 a
    two-sided z-test has observed power Phi(z - 1.96) + Phi(-z - 1.96) with z = 1.0364."""
    from scipy import stats

    z = stats.norm.isf(0.15)
    observed = stats.norm.cdf(z - stats.norm.isf(0.025)) + stats.norm.cdf(-z - stats.norm.isf(0.025))
    assert round(observed, 2) == 0.18


def test_ship_rule_and_guardrail_keys_match_closed_forms():
    """02.8: the ship bar (0.45 of a hoped-for 0.6 points) sets n = z_0.8^2 s1^2 / (0.0015)^2,
    above the ordinary n; at the ordinary n the rule ships about 76% of the time. 02.9:
    n = (z_0.95 + z_0.90)^2 2 sd^2 / m^2 (Chow, Shao & Wang 2008, section 3.2)."""
    from scipy import stats

    z80, z95, z90, z975 = (stats.norm.ppf(q) for q in (0.8, 0.95, 0.9, 0.975))
    s1_sq = 0.05 * 0.95 + 0.056 * 0.944
    s0 = math.sqrt(2 * 0.053 * 0.947)
    ordinary = ((z975 * s0 + z80 * math.sqrt(s1_sq)) / 0.006) ** 2
    ship = z80**2 * s1_sq / 0.0015**2
    assert ship > ordinary
    assert evaluate("02.8", ship).status == CORRECT
    assert evaluate("02.8", ordinary).status != CORRECT
    assert f"{ship:,.0f}" == "31,596" and f"{ordinary:,.0f}" == "21,885"
    at_ordinary = stats.norm.cdf((0.006 - 0.0045) * math.sqrt(ordinary / s1_sq))
    assert round(at_ordinary, 3) == 0.758
    guard = (z95 + z90) ** 2 * 2 * 40.0**2 / 0.5**2
    assert evaluate("02.9", guard).status == CORRECT
    assert f"{guard:,.1f}" == "109,617.2"
    assert evaluate("02.10", "b").status == CORRECT
