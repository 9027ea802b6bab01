"""Chapter 6 (sample ratio mismatch): the exercise data in the solutions notebook are the key's,
and the stories the exercises and the chapter tell hold."""

from __future__ import annotations

import ast
import math

import numpy as np
import pytest
from scipy import stats

import abteach as abt
from abteach.course.answers import ch06
from conftest import ROOT, read


def test_solution_notebook_uses_the_keys_daily_counts():
    """06.6 shows its data in the notebook; the key must check against the same numbers."""
    cells = [c.source for c in read(ROOT / "solutions" / "06_srm.ipynb").cells
             if c.cell_type == "code" and 'check("06.6"' in c.source]
    assert len(cells) == 1
    literal = cells[0].split("np.array(", 1)[1].split(")\n# BEGIN SOLUTION", 1)[0]
    assert ast.literal_eval(literal) == [list(row) for row in ch06.PUBLIC_INPUTS["06.6"]["daily"]]


def test_wrong_ratio_mistakes_of_06_2_all_give_zero():
    """The single 'p = 0' hint of 06.2 covers the default 50/50, the reversed shares and the
    two-proportion test: all three underflow to exactly 0."""
    counts = ch06.PUBLIC_INPUTS["06.2"]["counts"]
    assert abt.srm_test(counts).pvalue == 0.0
    assert abt.srm_test(counts, ch06.RATIOS_90_10[::-1]).pvalue == 0.0
    assert ch06._two_proportion_pvalue(counts) == 0.0


def test_exercise_stories_hold():
    # 06.1: unusual at 0.05, but no SRM at 0.0005.
    assert 0.0005 < abt.srm_test(ch06.PUBLIC_INPUTS["06.1"]["counts"]).pvalue < 0.05
    # 06.2: a mismatch against the designed 90/10 split.
    assert abt.srm_test(ch06.PUBLIC_INPUTS["06.2"]["counts"], ch06.RATIOS_90_10).mismatch
    # 06.3: the naive z-test is tempting (p < 0.05, a lift), but the split fails.
    (n_c, n_t), (x_c, x_t) = ch06.USERS_TRUST, ch06.CONVERSIONS_TRUST
    naive = abt.ztest_proportions(x_c, n_c, x_t, n_t)
    assert naive.pvalue < 0.05 and naive.effect > 0
    assert abt.srm_test(ch06.USERS_TRUST).mismatch
    # 06.6: recomputed with scipy; a daily check fires before the cumulative one (the
    # solution's remark, which quotes days 8 and 11).
    daily = np.array(ch06.PUBLIC_INPUTS["06.6"]["daily"])
    daily_p = stats.chisquare(daily, axis=1).pvalue
    cumulative_p = stats.chisquare(np.cumsum(daily, axis=0), axis=1).pvalue
    first_cumulative = int(np.argmax(cumulative_p < 0.0005)) + 1
    first_daily = int(np.argmax(daily_p < 0.0005)) + 1
    assert abt.srm_monitor(daily).first_alarm_day == first_cumulative == 11
    assert ch06._first_daily_alarm() == first_daily == 8


def test_exercise_06_4_rates_are_in_their_binomial_bands():
    """The seeded rates of 06.4 agree with what independent checks promise (4.5 standard
    errors of 4,000 simulated experiments): each day's own counts are independent, so some
    daily check fires with probability 1 - (1 - t)^30; the last cumulative check alone fires
    with probability t. The solution's remark relies on both."""
    alarms = ch06._false_alarms()
    public = ch06.PUBLIC_INPUTS["06.4"]
    n, t, days = ch06.ALARM_SIMULATIONS, public["threshold"], public["days"]
    daily = 1 - (1 - t) ** days
    assert abs(alarms.any_daily - daily) <= 4.5 * math.sqrt(daily * (1 - daily) / n)
    assert abs(alarms.final_only - t) <= 4.5 * math.sqrt(t * (1 - t) / n)
    assert alarms.final_only <= alarms.any_cumulative <= alarms.any_daily + 4.5 * math.sqrt(
        daily * (1 - daily) / n)


def test_chapter_power_claim_for_a_one_percent_loss():
    """Chapter 6, section 6.4: at threshold 0.0005 a treatment that loses 1% of its users is
    detected with 80% power by about 740,000 users. Checked with scipy's noncentral
    chi-square, independently of the chapter's normal approximation."""
    share = 0.99 / 1.99
    users = 739_863
    noncentrality = users * 2 * (share - 0.5) ** 2 / 0.5
    power = stats.ncx2.sf(stats.chi2.isf(0.0005, 1), 1, noncentrality)
    assert power == pytest.approx(0.80, abs=0.005)


def test_chapter_hillstrom_report_numbers():
    """Chapter 6, section 6.6: Hillstrom's arms pass the SRM check, and the published purchase
    counts give the conversion rates quoted in the course notes (1.2531% and 0.8837%)."""
    assert not abt.srm_test([21_306, 21_307, 21_387]).mismatch
    assert round(100 * 267 / 21_307, 4) == 1.2531
    assert round(100 * 189 / 21_387, 4) == 0.8837


def test_chapter_bias_prediction_matches_simulation_mean():
    """Section 6.5's predicted bias (purchase rate of the treatment after the loss minus the
    population rate) is what the simulated experiments average to: here for the bot filter,
    with 2,000 experiments of 200,000 users, within 4.5 standard errors of the mean."""
    mix = np.array([0.04, 0.20, 0.66, 0.10])
    buy = np.array([0.00, 0.05, 0.10, 0.30])
    lost = np.array([0.90, 0, 0, 0])
    rng = np.random.default_rng(61)
    assigned = rng.multinomial(200_000, np.outer([0.5, 0.5], mix).ravel(),
                               size=2_000).reshape(2_000, 2, 4)
    assigned[:, 1] = rng.binomial(assigned[:, 1], 1 - lost)
    buyers = rng.binomial(assigned, buy)
    users, conversions = assigned.sum(axis=2), buyers.sum(axis=2)
    effect = conversions[:, 1] / users[:, 1] - conversions[:, 0] / users[:, 0]
    kept = mix * (1 - lost)
    predicted = kept @ buy / kept.sum() - mix @ buy
    assert abs(effect.mean() - predicted) <= 4.5 * effect.std(ddof=1) / math.sqrt(effect.size)
    assert abt.srm_test(users).mismatch.all()
