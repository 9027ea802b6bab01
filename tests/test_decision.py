"""Tests of abteach.decision: guardrail non-inferiority checks, verdicts, impact, the report."""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep

import abteach as abt
import published
from abteach.decision import (
    GUARDRAIL_STATUSES,
    VERDICTS,
    Decision,
    ExpectedImpact,
    GuardrailCheck,
    decide,
    expected_impact,
    experiment_report,
    guardrail_check,
)
from abteach.inference import (
    MeansTTest,
    ratio_metric_test,
    welch_ttest_from_stats,
    ztest_proportions,
)
from abteach.sequential import boundaries, sequential_analysis
from abteach.spec import ExperimentSpec, Guardrail
from abteach.srm import srm_monitor, srm_test
from abteach.variance import cuped_test

# MineThatData (published_numbers.md): purchasers / customers of Mens E-Mail and No E-Mail.
MENS, NO_EMAIL = (267, 21307), (122, 21306)

SPEC = {
    "name": "checkout-button-color",
    "hypothesis": "A green checkout button raises the purchase rate by at least 2 points.",
    "eligibility": "Logged-in users who reach the cart page.",
    "primary_metric": {"name": "purchase_rate", "kind": "proportion", "baseline": 0.10,
                       "mde": 0.02, "direction": "increase"},
    "allocation": {"control": 0.5, "treatment": 0.5},
    "guardrails": [
        {"name": "page_load_time", "tolerated_degradation": 0.02, "bad_direction": "increase"},
        {"name": "revenue_per_user", "tolerated_degradation": 0.01,
         "bad_direction": "decrease"},
    ],
    "secondary_metrics": ["add_to_cart_rate"],
    "alpha": 0.05,
    "power": 0.8,
    "daily_eligible_units": 1000,
}


def band(rate: float, runs: int, width: float = 4.5) -> float:
    """Half-width of a binomial tolerance band: `width` standard errors of a rate over `runs`."""
    return width * math.sqrt(rate * (1 - rate) / runs)


def lift_result(lift: float, se_log: float) -> MeansTTest:
    """A real Welch t-test result whose lift is ``lift`` and whose log-lift standard error is
    ``se_log``: control mean 1 and treatment mean 1 + lift, each arm carrying half of
    se_log^2 on the log scale (Var_c / 1^2 = Var_t / (1 + lift)^2 = se_log^2 / 2)."""
    n = 10_000
    sd_control = math.sqrt(n * se_log**2 / 2)
    return welch_ttest_from_stats(1.0, sd_control, n, 1.0 + lift, (1.0 + lift) * sd_control, n)


def win():
    """A significant improvement of the purchase rate (MineThatData, Mens E-Mail vs none)."""
    return ztest_proportions(*NO_EMAIL, *MENS)


def check(status: str, name: str = "latency") -> GuardrailCheck:
    """A guardrail check with the wanted status (bad direction increase, 2% tolerated)."""
    lift = {"pass": 0.0, "fail": 0.10, "inconclusive": 0.015}[status]
    result = guardrail_check(name, lift_result(lift, 0.005), tolerated_degradation=0.02,
                             bad_direction="increase")
    assert result.status == status
    return result


# --- guardrail_check: the rule ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("lift", "bad_direction", "expected"),
    [(0.0, "increase", "pass"), (0.10, "increase", "fail"), (0.02, "increase", "inconclusive"),
     (0.0, "decrease", "pass"), (-0.10, "decrease", "fail"), (-0.02, "decrease", "inconclusive"),
     # a large improvement passes; a large move in the harmless direction never fails
     (-0.10, "increase", "pass"), (0.10, "decrease", "pass")],
)
def test_status_follows_the_one_sided_bounds(lift, bad_direction, expected):
    result = guardrail_check("m", lift_result(lift, 0.01), tolerated_degradation=0.02,
                             bad_direction=bad_direction)
    assert result.status == expected
    z = stats.norm.ppf(0.95)
    assert result.ci_low == pytest.approx(math.expm1(math.log1p(lift) - z * 0.01), rel=1e-12)
    assert result.ci_high == pytest.approx(math.expm1(math.log1p(lift) + z * 0.01), rel=1e-12)


def test_pass_needs_the_bound_strictly_inside_the_tolerance():
    """The upper bound exactly at +m is not a pass (degradation of m not ruled out)."""
    z = stats.norm.ppf(0.95)
    se = math.log1p(0.02) / z  # lift 0: upper bound exp(z se) - 1 = 0.02 exactly
    at = guardrail_check("m", lift_result(0.0, se), tolerated_degradation=0.02,
                         bad_direction="increase")
    assert at.ci_high == pytest.approx(0.02, rel=1e-9)
    statuses = [
        guardrail_check("m", lift_result(0.0, se * f), tolerated_degradation=0.02,
                        bad_direction="increase").status for f in (0.999, 1.001)
    ]
    assert statuses == ["pass", "inconclusive"]


def test_alpha_sets_the_one_sided_level():
    loose = guardrail_check("m", lift_result(0.01, 0.01), tolerated_degradation=0.02,
                            bad_direction="increase", alpha=0.2)
    strict = guardrail_check("m", lift_result(0.01, 0.01), tolerated_degradation=0.02,
                             bad_direction="increase", alpha=0.01)
    assert strict.ci_low < loose.ci_low < 0.01 < loose.ci_high < strict.ci_high
    assert (loose.status, strict.status) == ("pass", "inconclusive")


def test_guardrail_from_a_spec_supplies_name_tolerance_and_direction():
    spec = ExperimentSpec.from_dict(SPEC)
    revenue = spec.guardrails[1]
    result = welch_ttest_from_stats(10.0, 30.0, 200_000, 10.05, 30.0, 200_000)
    made = guardrail_check(revenue, result)
    by_hand = guardrail_check("revenue_per_user", result, tolerated_degradation=0.01,
                              bad_direction="decrease")
    assert (made.name, made.tolerated_degradation, made.bad_direction) == (
        "revenue_per_user", 0.01, "decrease")
    assert (made.ci_low, made.ci_high, made.status) == (
        by_hand.ci_low, by_hand.ci_high, by_hand.status)
    with pytest.raises(TypeError, match="tolerated_degradation comes from the Guardrail"):
        guardrail_check(revenue, result, tolerated_degradation=0.05)
    with pytest.raises(TypeError, match="bad_direction comes from the Guardrail"):
        guardrail_check(Guardrail("x", 0.1, "decrease"), result, bad_direction="increase")


def test_no_conversion_in_an_arm_is_inconclusive_with_unbounded_interval():
    result = guardrail_check("refunds", ztest_proportions(10, 1000, 0, 1000),
                             tolerated_degradation=0.1, bad_direction="increase")
    assert (result.ci_low, result.ci_high, result.status) == (-np.inf, np.inf, "inconclusive")


def test_batch_gives_one_status_per_experiment_and_a_readable_repr():
    treated = np.array([404, 300, 520, 410, 0, 395, 399, 401])
    batch = guardrail_check("refunds", ztest_proportions(400, 20000, treated, 20000),
                            tolerated_degradation=0.1, bad_direction="increase")
    singles = [guardrail_check("refunds", ztest_proportions(400, 20000, int(x), 20000),
                               tolerated_degradation=0.1, bad_direction="increase")
               for x in treated]
    assert list(batch.status) == [s.status for s in singles]
    np.testing.assert_allclose(batch.ci_high, [s.ci_high for s in singles], rtol=1e-12)
    text = repr(batch)
    assert "status=array(pass: 1, fail: 1, inconclusive: 6)" in text
    assert "8 experiments" in batch.explain()
    with pytest.raises(ValueError, match="check must hold one experiment"):
        batch.sentence()


def test_single_check_repr_explain_and_sentence_show_formatted_numbers():
    result = guardrail_check("refund_rate", ztest_proportions(400, 20000, 404, 20000),
                             tolerated_degradation=0.10, bad_direction="increase")
    assert "ci_high=0.132921," in repr(result)
    assert "status='inconclusive'" in repr(result)
    text = result.explain()
    assert "upper 0.1329" in text and "z_(1-alpha) = 1.645" in text
    assert result.sentence() == (
        "Guardrail refund_rate changed by +1% (one-sided 95% bounds -9.96% to +13.3%, "
        "tolerance +10%): neither a rise beyond 10% nor one within it is established, so it "
        "is inconclusive."
    )


# --- guardrail_check: independent implementations ----------------------------------------------


def test_proportion_bounds_equal_statsmodels_katz_log_interval():
    """One-sided (1 - a) bounds = the two-sided (1 - 2a) log-scale risk-ratio interval of
    statsmodels ``confint_proportions_2indep(method="log", compare="ratio")`` (Katz 1978),
    minus 1, on 300 random tables and three levels."""
    rng = np.random.default_rng(7)
    n_c, n_t = rng.integers(200, 50_000, 300), rng.integers(200, 50_000, 300)
    x_c = rng.binomial(n_c, rng.uniform(0.01, 0.9, 300)).clip(1, n_c - 1)
    x_t = rng.binomial(n_t, rng.uniform(0.01, 0.9, 300)).clip(1, n_t - 1)
    for alpha in (0.01, 0.05, 0.1):
        result = guardrail_check("m", ztest_proportions(x_c, n_c, x_t, n_t),
                                 tolerated_degradation=0.05, bad_direction="increase",
                                 alpha=alpha)
        low, high = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="log",
                                               compare="ratio", alpha=2 * alpha)
        np.testing.assert_allclose(result.ci_low, low - 1, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(result.ci_high, high - 1, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("equal_var", [False, True])
def test_mean_bounds_equal_the_delta_method_on_the_log_ratio(equal_var):
    """exp(log(m_t / m_c) -/+ z_(1-a) sqrt(v_t / m_t^2 + v_c / m_c^2)) - 1, with scipy's z and
    v the variance of each mean (s^2 / n, or the pooled s^2 / n for Student's test)."""
    rng = np.random.default_rng(11)
    m_c, m_t = rng.uniform(1, 50, 200), rng.uniform(1, 50, 200)
    s_c, s_t = rng.uniform(0.5, 40, 200), rng.uniform(0.5, 40, 200)
    n_c, n_t = rng.integers(10, 10_000, 200), rng.integers(10, 10_000, 200)
    result = welch_ttest_from_stats(m_c, s_c, n_c, m_t, s_t, n_t, equal_var=equal_var,
                                    alternative="smaller", alpha=0.2)
    if equal_var:
        pooled = ((n_c - 1) * s_c**2 + (n_t - 1) * s_t**2) / (n_c + n_t - 2)
        v_c, v_t = pooled / n_c, pooled / n_t
    else:
        v_c, v_t = s_c**2 / n_c, s_t**2 / n_t
    se = np.sqrt(v_t / m_t**2 + v_c / m_c**2)
    z = stats.norm.ppf(0.975)
    got = guardrail_check("m", result, tolerated_degradation=0.05, bad_direction="decrease",
                          alpha=0.025)
    np.testing.assert_allclose(got.ci_low, np.exp(np.log(m_t / m_c) - z * se) - 1, rtol=1e-10)
    np.testing.assert_allclose(got.ci_high, np.exp(np.log(m_t / m_c) + z * se) - 1, rtol=1e-10)


def test_ratio_metric_bounds_use_the_arms_delta_method_standard_errors():
    rng = np.random.default_rng(3)
    views_c, views_t = rng.poisson(5, (20, 400)) + 1, rng.poisson(5, (20, 400)) + 1
    clicks_c, clicks_t = rng.binomial(views_c, 0.1), rng.binomial(views_t, 0.11)
    result = ratio_metric_test(clicks_c, views_c, clicks_t, views_t)
    got = guardrail_check("ctr", result, tolerated_degradation=0.05, bad_direction="decrease")
    se = np.sqrt((result.se_treatment / result.ratio_treatment) ** 2
                 + (result.se_control / result.ratio_control) ** 2)
    centre = np.log(result.ratio_treatment / result.ratio_control)
    z = stats.norm.ppf(0.95)
    np.testing.assert_allclose(got.ci_low, np.expm1(centre - z * se), rtol=1e-10)
    np.testing.assert_allclose(got.ci_high, np.expm1(centre + z * se), rtol=1e-10)


@pytest.mark.parametrize(("alternative", "alpha"),
                         [("two-sided", 0.01), ("larger", 0.05), ("smaller", 0.3)])
def test_bounds_do_not_depend_on_the_level_of_the_result(alternative, alpha):
    reference = guardrail_check("m", ztest_proportions(950, 10_000, 1010, 10_000),
                                tolerated_degradation=0.05, bad_direction="increase")
    other = guardrail_check(
        "m", ztest_proportions(950, 10_000, 1010, 10_000, alternative=alternative, alpha=alpha),
        tolerated_degradation=0.05, bad_direction="increase")
    assert other.ci_low == pytest.approx(reference.ci_low, rel=1e-12)
    assert other.ci_high == pytest.approx(reference.ci_high, rel=1e-12)


# --- guardrail_check: simulated error rates ----------------------------------------------------


def test_non_inferiority_type_one_error_at_the_margin_proportions():
    """True degradation exactly the tolerance (p_t = p_c (1 + m)): the check says "pass" in
    alpha of the runs (Schuirmann 1987: the one-sided test has size alpha at the margin).
    4.5-standard-error binomial band around alpha: a two-sided 95% bound would give 0.025 and
    fail the lower side, an anti-conservative one the upper."""
    runs, n, p_c, margin, alpha = 20_000, 20_000, 0.10, 0.05, 0.05
    rng = np.random.default_rng(2024)
    x_c = rng.binomial(n, p_c, runs)
    x_t = rng.binomial(n, p_c * (1 + margin), runs)
    result = guardrail_check("refunds", ztest_proportions(x_c, n, x_t, n),
                             tolerated_degradation=margin, bad_direction="increase", alpha=alpha)
    rate = float(np.mean(result.status == "pass"))
    assert abs(rate - alpha) <= band(alpha, runs)


def test_non_inferiority_type_one_error_at_the_margin_means_decrease():
    """Revenue per user falls by exactly the tolerance: "pass" in alpha of runs (Welch results
    from simulated sufficient statistics of normal data)."""
    runs, n, mean, sd, margin, alpha = 20_000, 5_000, 20.0, 15.0, 0.02, 0.1
    rng = np.random.default_rng(99)
    m_c = rng.normal(mean, sd / math.sqrt(n), runs)
    m_t = rng.normal(mean * (1 - margin), sd / math.sqrt(n), runs)
    s_c = sd * np.sqrt(rng.chisquare(n - 1, runs) / (n - 1))
    s_t = sd * np.sqrt(rng.chisquare(n - 1, runs) / (n - 1))
    result = guardrail_check("revenue", welch_ttest_from_stats(m_c, s_c, n, m_t, s_t, n),
                             tolerated_degradation=margin, bad_direction="decrease", alpha=alpha)
    rate = float(np.mean(result.status == "pass"))
    assert abs(rate - alpha) <= band(alpha, runs)


@pytest.mark.parametrize(
    ("p", "n", "margin", "bad_direction"),
    [(0.10, 2_000, 0.10, "increase"), (0.02, 20_000, 0.10, "increase"),
     (0.30, 5_000, 0.05, "decrease"), (0.05, 50_000, 0.02, "decrease")],
)
def test_non_inferiority_size_at_the_margin_across_designs(p, n, margin, bad_direction):
    """100,000 runs per design, true degradation exactly the margin: "pass" in alpha = 5% of
    runs, within 4.5 standard errors (0.31 points)."""
    runs, alpha = 100_000, 0.05
    rng = np.random.default_rng(17)
    p_t = p * (1 + margin) if bad_direction == "increase" else p * (1 - margin)
    result = ztest_proportions(rng.binomial(n, p, runs), n, rng.binomial(n, p_t, runs), n)
    got = guardrail_check("m", result, tolerated_degradation=margin,
                          bad_direction=bad_direction, alpha=alpha)
    assert abs(float(np.mean(got.status == "pass")) - alpha) <= band(alpha, runs)


def test_no_true_change_passes_at_the_designed_power():
    """True change 0, n per arm designed for 80% power of the one-sided test on the log scale:
    P(pass) = Phi(log(1 + m) / SE_log - z_(1-alpha)), SE_log^2 = 2 (1 - p) / (n p)."""
    runs, p, margin, alpha = 20_000, 0.10, 0.02, 0.05
    z_a, z_b = stats.norm.ppf(1 - alpha), stats.norm.ppf(0.8)
    n = math.ceil(2 * (1 - p) / p * ((z_a + z_b) / math.log1p(margin)) ** 2)
    designed = stats.norm.cdf(math.log1p(margin) / math.sqrt(2 * (1 - p) / (n * p)) - z_a)
    rng = np.random.default_rng(5)
    result = guardrail_check(
        "refunds", ztest_proportions(rng.binomial(n, p, runs), n, rng.binomial(n, p, runs), n),
        tolerated_degradation=margin, bad_direction="increase", alpha=alpha)
    rate = float(np.mean(result.status == "pass"))
    assert designed == pytest.approx(0.8, abs=1e-3)
    assert abs(rate - designed) <= band(designed, runs)


# --- decide: every branch ----------------------------------------------------------------------


def test_published_srm_example_gives_investigate_whatever_the_metrics_say():
    """SRM01, Kohavi, Tang & Xu (2020) ch. 21: 821,588 vs 815,482 users on a 1:1 design,
    p = 1.8e-6. An SRM beats a significant win, a failed guardrail and a crossed boundary."""
    srm = srm_test([821_588, 815_482])
    design = boundaries(3, alpha=0.05, method="obf")
    crossed = sequential_analysis([1.0, 3.2], [1 / 3, 2 / 3], design)
    decision = decide(win(), guardrails=[check("fail")], srm=srm, sequential=crossed,
                      metric="purchase rate")
    assert decision.verdict == "investigate"
    assert len(decision.reasons) == 1
    assert "p = 1.8e-06" in decision.reasons[0]
    assert "purchase rate" not in decision.reasons[0].lower()
    assert decision.srm_mismatch is True
    assert published.matches(decision.srm_pvalue, "SRM01", "SRM p-value")


def test_srm_monitor_alarm_gives_investigate_and_a_clean_monitor_does_not():
    alarm = srm_monitor([[1000, 1000], [1000, 1010], [2000, 1000]])
    clean = srm_monitor([[1000, 1000], [1000, 1010], [990, 1000]])
    assert decide(win(), srm=alarm).verdict == "investigate"
    decision = decide(win(), srm=clean)
    assert decision.verdict == "ship"
    assert decision.reasons[0].startswith("No sample ratio mismatch")


def test_hillstrom_win_ships_with_published_conversion_rates():
    """MineThatData (published_numbers.md): conversion 1.2531% (Mens E-Mail) vs 0.5726% (No
    E-Mail), a difference of 0.6805 points; the z-test is significant and every guardrail
    passes, so the verdict is "ship"."""
    decision = decide(win(), guardrails=[check("pass")], srm=srm_test([21_307, 21_306]),
                      metric="conversion")
    assert decision.verdict == "ship"
    difference = (published.value("Hillstrom", "conversion rate (%), Mens")
                  - published.value("Hillstrom", "conversion rate (%), No E-Mail"))
    assert 100 * decision.primary_effect == pytest.approx(difference, abs=1e-4)
    assert re.fullmatch(
        r"Conversion rose by 0\.68 points \(95% CI 0\.\d\d to 0\.\d\d points, a relative change "
        r"of \+119%\), p = 1\.5e-13\.", decision.reasons[1])
    assert decision.reasons[-1].startswith("Ship: conversion shows a significant improvement")


def test_failed_guardrail_blocks_a_significant_win():
    decision = decide(win(), guardrails=[check("pass", "a"), check("fail", "b")])
    assert decision.verdict == "do not ship"
    assert decision.reasons[-1] == "Do not ship: the guardrail b degraded beyond the tolerance."


def test_significant_move_in_the_wrong_direction_is_do_not_ship():
    decision = decide(win(), direction="decrease", metric="bounce rate")
    assert decision.verdict == "do not ship"
    assert "wrong direction" in decision.reasons[-1]
    assert decide(ztest_proportions(*MENS, *NO_EMAIL), direction="decrease").verdict == "ship"


def test_significant_but_below_the_minimum_effect_is_do_not_ship():
    decision = decide(win(), minimum_effect=0.01)  # 1 point wanted, 0.68 observed
    assert decision.verdict == "do not ship"
    assert "below the minimum effect worth shipping, 1.00 points" in decision.reasons[-1]
    shipped = decide(win(), minimum_effect=0.005)
    assert shipped.verdict == "ship"
    assert shipped.reasons[-1] == (
        "Ship: the primary metric shows a significant improvement of at least the minimum "
        "effect and no guardrail was set.")


def test_inconclusive_guardrail_blocks_at_the_end_unless_allowed():
    unsure = check("inconclusive")
    blocked = decide(win(), guardrails=[check("pass", "a"), unsure])
    assert blocked.verdict == "do not ship"
    assert "stayed inconclusive" in blocked.reasons[-1]
    allowed = decide(win(), guardrails=[unsure], inconclusive_guardrails="allow")
    assert allowed.verdict == "ship"
    assert "could not be shown within tolerance" in allowed.reasons[-1]
    failed = decide(win(), guardrails=[check("fail")], inconclusive_guardrails="allow")
    assert failed.verdict == "do not ship"


def test_fixed_horizon_before_the_planned_sample_keeps_running_even_when_p_is_small():
    """Peeking (chapter 10): a fixed-horizon p-value below alpha before the planned sample is
    not evidence, so the verdict is "keep running"; a failing guardrail still stops it."""
    result = win()
    total = result.n_control + result.n_treatment
    early = decide(result, planned_n=2 * total)
    assert early.verdict == "keep running" and not early.significant and not early.finished
    assert "Only 42,613 of the planned 85,226 units (50%) are in" in early.reasons[1]
    assert decide(result, planned_n=total).verdict == "ship"
    assert decide(result, planned_n=2 * total, observed_n=2 * total).verdict == "ship"
    assert decide(result, guardrails=[check("fail")], planned_n=2 * total).verdict == (
        "do not ship")


def test_sequential_plan_decides_significance_not_the_fixed_horizon_pvalue():
    design = boundaries(3, alpha=0.05, method="obf")
    flat = ztest_proportions(1000, 10_000, 1010, 10_000)  # p = 0.82: not significant
    crossed = sequential_analysis([1.0, 3.2], [1 / 3, 2 / 3], design)
    decision = decide(flat, sequential=crossed)
    assert decision.verdict == "ship" and decision.significant and decision.finished
    assert "stopped at look 2 of 3" in decision.reasons[1]

    # p < 0.05 at the last look, but Z = 1.99 is below the final O'Brien-Fleming bound 2.004
    final = sequential_analysis([0.5, 1.0, 1.99], [1 / 3, 2 / 3, 1.0], design)
    assert decide(win(), sequential=final).verdict == "do not ship"

    running = sequential_analysis([0.5, 1.0], [1 / 3, 2 / 3], design)
    assert decide(win(), sequential=running).verdict == "keep running"
    harmful = sequential_analysis([-3.6], [1 / 3], design)
    assert decide(flat, sequential=harmful).verdict == "do not ship"


def test_finished_without_significance_says_what_the_interval_rules_out():
    flat = ztest_proportions(1000, 10_000, 1010, 10_000)
    se = math.sqrt(0.1 * 0.9 / 10_000 + 0.101 * 0.899 / 10_000)
    high = 0.001 + stats.norm.ppf(0.975) * se  # Wald upper bound, 0.0093 (0.93 points)
    plain = decide(flat)
    assert plain.verdict == "do not ship"
    assert plain.reasons[-1] == (
        "Do not ship: there is no evidence of an improvement; the interval rules out an "
        f"improvement larger than {100 * high:.2f} points.")
    ruled = decide(flat, minimum_effect=0.02)
    assert "an improvement of the minimum effect worth shipping (2.00 points) is ruled out" in (
        ruled.reasons[-1])
    possible = decide(flat, minimum_effect=0.005)
    assert "an improvement of 0.50 points is still possible" in possible.reasons[-1]


def test_primary_accepts_mean_ratio_and_cuped_results():
    rng = np.random.default_rng(1)
    x = rng.normal(10, 2, (2, 3000))
    y = x + rng.normal(0, 1, (2, 3000))
    y[1] += 0.3
    cuped = cuped_test(y[0], y[1], x[0], x[1])
    means = welch_ttest_from_stats(10.0, 2.0, 3000, 10.3, 2.0, 3000)
    views = rng.poisson(5, (2, 2000)) + 1
    ratio = ratio_metric_test(rng.binomial(views[0], 0.1), views[0],
                              rng.binomial(views[1], 0.1), views[1])
    for result in (cuped, means, ratio):
        decision = decide(result, metric="revenue per user")
        assert decision.verdict in VERDICTS
        assert decision.reasons[0].startswith("Revenue per user ")
    assert decide(cuped).primary_lift is None
    assert decide(means).verdict == "ship"
    assert "rose by 0.3 (95% CI" in decide(means).reasons[0]


def test_decision_repr_and_explain_are_readable():
    decision = decide(win(), guardrails=[check("pass")])
    text = repr(decision)
    assert text.startswith("Decision(\n    verdict='ship',")
    assert "primary_pvalue=1.523e-13," in text
    explanation = decision.explain()
    assert explanation.startswith("Decision: SHIP")
    assert "1. a sample ratio mismatch -> investigate" in explanation
    assert all(f"  - {reason}" in explanation for reason in decision.reasons)


# --- expected_impact ---------------------------------------------------------------------------


def test_expected_impact_scales_effect_and_interval():
    """MineThatData: 0.6805 more purchasers per 100 customers (published conversion rates
    1.2531% and 0.5726%); over 1,000,000 customers at $100 a purchase that is about $680,500
    (680,501 from the counts 267 / 21,307 and 122 / 21,306)."""
    result = win()
    impact = expected_impact(result, units=1_000_000, value=100.0)
    assert impact.total == pytest.approx((0.012531 - 0.005726) * 1e8, abs=100)  # 4 decimals
    exact = (267 / 21_307 - 122 / 21_306) * 1e8
    assert impact.total == pytest.approx(exact, rel=1e-12)
    assert impact.total_ci_low == pytest.approx(result.ci_low * 1e8, rel=1e-12)
    assert impact.total_ci_high == pytest.approx(result.ci_high * 1e8, rel=1e-12)
    assert impact.level == "95%" and impact.period == "year"
    assert f"total={exact:.0f}," in repr(impact)
    assert f"= {exact:,.0f} (95% CI" in impact.explain()
    assert impact.sentence().startswith(
        f"Expected impact over 1,000,000 units per year: {exact:,.0f} (95% CI")


def test_expected_impact_of_a_batch_and_of_a_one_sided_result():
    batch = expected_impact(ztest_proportions(100, 1000, [110, 120], 1000), units=10,
                            period="quarter")
    np.testing.assert_allclose(batch.total, [0.1, 0.2], rtol=1e-12)
    assert "2 experiments" in batch.explain()
    one_sided = expected_impact(ztest_proportions(100, 1000, 120, 1000, alternative="larger"),
                                units=10)
    assert one_sided.total_ci_high == 10 and "one-sided (larger)" in one_sided.level


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [({"units": 0}, ValueError, "units must be > 0, got 0"),
     ({"units": -5.0}, ValueError, "units must be > 0"),
     ({"units": "many"}, TypeError, "units must be a number"),
     ({"units": [1, 2]}, ValueError, "units must be a single number"),
     ({"units": 10, "value": 0}, ValueError, "value must be > 0"),
     ({"units": 10, "value": float("nan")}, ValueError, "value must be finite"),
     ({"units": 10, "period": ""}, TypeError, "period must be a non-empty string")],
)
def test_expected_impact_refuses_bad_input(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        expected_impact(win(), **kwargs)


def test_expected_impact_needs_a_result():
    with pytest.raises(TypeError, match="result must be a test result"):
        expected_impact(3.0, units=10)


# --- the report ----------------------------------------------------------------------------------


def report_inputs(metric_name: str = "purchase_rate"):
    spec = ExperimentSpec.from_dict(SPEC)
    latency = welch_ttest_from_stats(500.0, 100.0, 50_000, 501.0, 100.0, 50_000)
    revenue = welch_ttest_from_stats(20.0, 15.0, 50_000, 20.1, 15.0, 50_000)
    checks = [guardrail_check(g, r) for g, r in zip(spec.guardrails, (latency, revenue))]
    primary = win()
    decision = decide(primary, guardrails=checks, srm=srm_test([21_307, 21_306]),
                      metric=metric_name)
    results = {metric_name: primary, "page_load_time": latency, "revenue_per_user": revenue}
    return spec, decision, results, expected_impact(primary, units=1_000_000, value=100.0)


class _Tags(HTMLParser):
    """Collect start/end tags to check nesting."""

    VOID = frozenset({"meta", "br", "hr", "img", "link", "input"})

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.tags, self.text = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_markdown_report_has_every_section_metric_and_the_verdict():
    spec, decision, results, impact = report_inputs()
    text = experiment_report(spec, decision, results, impact=impact)
    for heading in ("# Experiment report: checkout-button-color", "## Plan",
                    "## Trust: sample ratio check", "## Metric results", "## Guardrails",
                    "## Decision", "## Expected impact"):
        assert heading in text
    for name in ("purchase\\_rate", "page\\_load\\_time", "revenue\\_per\\_user"):
        assert f"| {name} |" in text
    assert "Verdict: SHIP" in text
    assert "Planned sample size: control 3,841, treatment 3,841" in text  # SS04, R power.prop.test
    assert "Planned duration: 8 days" in text
    assert "SRM p-value 1: no mismatch." in text
    assert "| +0.68 points |" in text and "| 1.5e-13 |" in text
    assert "| page\\_load\\_time | +0.2% |" in text and "| pass |" in text
    assert f"{(267 / 21_307 - 122 / 21_306) * 1e8:,.0f}" in text


def test_report_heading_level_shifts_every_heading():
    spec, decision, results, _ = report_inputs()
    text = experiment_report(spec, decision, results, heading_level=3)
    headings = re.findall(r"^(#+) ", text, flags=re.MULTILINE)
    assert headings[0] == "###" and set(headings[1:]) == {"####"}
    html = experiment_report(spec, decision, results, heading_level=3, format="html")
    assert "<h3>" in html and "<h4>" in html and "<h1>" not in html and "<h2>" not in html
    for bad, error in ((0, ValueError), (5, ValueError), (2.0, TypeError), (True, TypeError)):
        with pytest.raises(error, match="heading_level"):
            experiment_report(spec, decision, results, heading_level=bad)


def test_markdown_tables_are_well_formed():
    spec, decision, results, _ = report_inputs("odd | name")
    text = experiment_report(spec, decision, results)
    tables = re.findall(r"((?:^\|.*\|$\n?)+)", text, flags=re.MULTILINE)
    assert len(tables) == 2
    for table in tables:
        rows = table.strip().split("\n")
        cells = [len(re.findall(r"(?<!\\)\|", row)) for row in rows]
        assert len(set(cells)) == 1, rows
        assert re.fullmatch(r"\|(---\|)+", rows[1])
    assert "| odd \\| name |" in text


def test_html_report_escapes_a_malicious_metric_name_and_is_self_contained():
    evil = "<script>alert('x')</script>"
    spec, decision, results, impact = report_inputs(evil)
    page = experiment_report(spec, decision, results, format="html", impact=impact)
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert not re.search(r"https?://|<link|src=", page)
    parser = _Tags()
    parser.feed(page)
    assert parser.errors == [] and parser.stack == []
    assert page.startswith("<!DOCTYPE html>")
    assert {"html", "head", "title", "style", "body", "table", "th", "td", "ul", "li"} <= set(
        parser.tags)
    assert "Verdict: SHIP" in "".join(parser.text)
    markdown = experiment_report(spec, decision, results)
    assert "<script>" not in markdown and "\\<script\\>" in markdown


def test_markdown_and_html_hold_the_same_content():
    spec, decision, results, impact = report_inputs()
    markdown = experiment_report(spec, decision, results, impact=impact)
    parser = _Tags()
    parser.feed(experiment_report(spec, decision, results, format="html", impact=impact))
    html_text = " ".join(" ".join(parser.text).split())
    unescaped = re.sub(r"\\(.)", r"\1", markdown)
    for reason in decision.reasons:
        assert reason in html_text and reason in unescaped


def test_report_is_deterministic_and_dated_only_on_request():
    spec, decision, results, _ = report_inputs()
    assert experiment_report(spec, decision, results) == experiment_report(spec, decision, results)
    assert "Date" not in experiment_report(spec, decision, results)
    assert "Date: 2026-11-25" in experiment_report(spec, decision, results, date="2026-11-25")


def test_report_of_an_srm_failure_and_of_a_mean_metric_spec():
    data = dict(SPEC, primary_metric={"name": "revenue", "kind": "mean", "baseline": 20.0,
                                      "mde": 0.5})
    spec = ExperimentSpec.from_dict(data)
    decision = decide(win(), srm=srm_test([821_588, 815_482]))
    text = experiment_report(spec, decision, {"revenue": win()})
    assert "Planned sample size: not computed" in text
    assert "MISMATCH: do not trust the metrics" in text
    assert "Verdict: INVESTIGATE" in text
    assert "No guardrail checks were given" in text
    cuped_row = experiment_report(spec, decision, {"cuped": cuped_test(
        np.arange(10.0), np.arange(10.0) + 1, np.arange(10.0) % 3, np.arange(10.0) % 4)})
    assert "| n/a | n/a |" in cuped_row


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [({"spec": "spec.yaml"}, TypeError, "spec must be an ExperimentSpec"),
     ({"decision": "ship"}, TypeError, "decision must be a Decision"),
     ({"results": {}}, TypeError, "results must be a non-empty mapping"),
     ({"results": {3: None}}, TypeError, "results keys must be metric names"),
     ({"results": {"m": 0.5}}, TypeError, "results['m'] must be a test result"),
     ({"format": "pdf"}, ValueError, "format must be one of 'markdown', 'html', got 'pdf'"),
     ({"impact": 5}, TypeError, "impact must be an ExpectedImpact"),
     ({"date": 20261125}, TypeError, "date must be a string")],
)
def test_report_refuses_bad_input(change, error, message):
    spec, decision, results, _ = report_inputs()
    arguments = {"spec": spec, "decision": decision, "results": results} | change
    keywords = {k: arguments.pop(k) for k in ("format", "impact", "date") if k in arguments}
    with pytest.raises(error, match=re.escape(message)):
        experiment_report(arguments["spec"], arguments["decision"], arguments["results"],
                          **keywords)


def test_report_refuses_a_batch_result():
    spec, decision, _, _ = report_inputs()
    with pytest.raises(ValueError, match=r"results\['m'\] must hold one experiment"):
        experiment_report(spec, decision, {"m": ztest_proportions(1, 10, [2, 3], 10)})


# --- bad input: errors name the argument ----------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [({"tolerated_degradation": 0}, ValueError, "tolerated_degradation must be > 0, got 0"),
     ({"tolerated_degradation": -0.1}, ValueError, "tolerated_degradation must be > 0"),
     ({"tolerated_degradation": None}, TypeError, "tolerated_degradation is required"),
     ({"tolerated_degradation": "2%"}, TypeError, "tolerated_degradation must be a number"),
     ({"tolerated_degradation": [0.1, 0.2]}, ValueError,
      "tolerated_degradation must be a single number"),
     ({"bad_direction": "up"}, ValueError,
      "bad_direction must be one of 'increase', 'decrease', got 'up'"),
     ({"bad_direction": None}, TypeError, "bad_direction is required"),
     ({"alpha": 0.5 + 0.5}, ValueError, "alpha must be in (0, 1), got 1.0")],
)
def test_guardrail_check_refuses_bad_arguments(kwargs, error, message):
    arguments = {"tolerated_degradation": 0.05, "bad_direction": "increase"} | kwargs
    with pytest.raises(error, match=re.escape(message)):
        guardrail_check("m", win(), **arguments)


def test_guardrail_check_refuses_a_bad_name_or_result():
    with pytest.raises(TypeError, match="name must be a non-empty string or a Guardrail"):
        guardrail_check("", win(), tolerated_degradation=0.1, bad_direction="increase")
    x = np.arange(20.0)
    with pytest.raises(TypeError, match="result must be a test result with a relative lift"):
        guardrail_check("m", cuped_test(x, x + 1, x % 3, x % 4), tolerated_degradation=0.1,
                        bad_direction="increase")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [({"direction": "up"}, ValueError, "direction must be one of 'increase', 'decrease'"),
     ({"minimum_effect": -0.01}, ValueError, "minimum_effect must be >= 0, got -0.01"),
     ({"minimum_effect": "big"}, TypeError, "minimum_effect must be a number"),
     ({"alpha": 0}, ValueError, "alpha must be in (0, 1), got 0"),
     ({"metric": ""}, TypeError, "metric must be a non-empty string"),
     ({"inconclusive_guardrails": "ignore"}, ValueError,
      "inconclusive_guardrails must be one of 'block', 'allow', got 'ignore'"),
     ({"guardrails": "latency"}, TypeError, "guardrails must be a sequence of GuardrailCheck"),
     ({"guardrails": [0.5]}, TypeError, "guardrails[0] must be a GuardrailCheck, got float"),
     ({"srm": [100, 100]}, TypeError, "srm must be an SRMTest or an SRMMonitor, got list"),
     ({"srm": srm_test([[100, 100], [100, 90]])}, ValueError, "srm must hold one experiment"),
     ({"sequential": "look 2"}, TypeError, "sequential must be a SequentialAnalysis, got str"),
     ({"planned_n": 0}, ValueError, "planned_n must be >= 1, got 0"),
     ({"planned_n": 10.5}, ValueError, "planned_n must be a whole number, got 10.5"),
     ({"planned_n": 100, "observed_n": -1}, ValueError, "observed_n must be >= 0, got -1"),
     ({"observed_n": 100}, ValueError, "observed_n needs planned_n")],
)
def test_decide_refuses_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        decide(win(), **kwargs)


def test_decide_refuses_bad_primaries_and_mixed_plans():
    with pytest.raises(TypeError, match="primary must be a test result with effect"):
        decide(0.5)
    with pytest.raises(ValueError, match="primary must hold one experiment"):
        decide(ztest_proportions(1, 10, [2, 3], 10))
    with pytest.raises(ValueError, match="guardrails\\[0\\] must hold one experiment"):
        batch = guardrail_check("m", ztest_proportions(100, 1000, [90, 95], 1000),
                                tolerated_degradation=0.1, bad_direction="increase")
        decide(win(), guardrails=[batch])
    design = boundaries(2, alpha=0.05, method="obf")
    with pytest.raises(ValueError, match="planned_n and observed_n are for a fixed-horizon plan"):
        decide(win(), sequential=sequential_analysis([1.0], [0.5], design), planned_n=100)


# --- fuzz -----------------------------------------------------------------------------------------


counts = st.integers(1, 10**6)


@settings(max_examples=200)
@given(n_c=counts, n_t=counts, fc=st.floats(0, 1), ft=st.floats(0, 1),
       tolerance=st.floats(1e-4, 2.0), bad=st.sampled_from(["increase", "decrease"]),
       alpha=st.floats(1e-4, 0.5))
def test_valid_proportions_never_give_nan(n_c, n_t, fc, ft, tolerance, bad, alpha):
    result = ztest_proportions(round(fc * n_c), n_c, round(ft * n_t), n_t)
    got = guardrail_check("m", result, tolerated_degradation=tolerance, bad_direction=bad,
                          alpha=alpha)
    assert got.status in GUARDRAIL_STATUSES
    assert not any(math.isnan(v) for v in (got.lift, got.ci_low, got.ci_high))
    assert got.ci_low <= got.ci_high
    if math.isfinite(got.ci_low) and math.isfinite(got.ci_high):
        assert got.ci_low <= got.lift <= got.ci_high
    decision = decide(result, guardrails=[got], alpha=alpha)
    assert decision.verdict in VERDICTS and decision.reasons
    assert all(reason.endswith(".") for reason in decision.reasons)


anything = st.one_of(st.none(), st.booleans(), st.text(max_size=5), st.floats(allow_nan=True),
                     st.integers(-10, 10), st.lists(st.floats(), max_size=3))


@settings(max_examples=200)
@given(tolerance=anything, bad=anything, alpha=anything)
def test_bad_guardrail_arguments_raise_only_named_errors(tolerance, bad, alpha):
    try:
        got = guardrail_check("m", win(), tolerated_degradation=tolerance, bad_direction=bad,
                              alpha=alpha)
    except (ValueError, TypeError) as exc:
        assert any(name in str(exc) for name in ("tolerated_degradation", "bad_direction",
                                                 "alpha"))
    else:
        assert got.status in GUARDRAIL_STATUSES


@settings(max_examples=200)
@given(direction=anything, minimum=anything, alpha=anything, planned=anything)
def test_bad_decide_arguments_raise_only_named_errors(direction, minimum, alpha, planned):
    try:
        decision = decide(win(), direction=direction, minimum_effect=minimum, alpha=alpha,
                          planned_n=planned)
    except (ValueError, TypeError) as exc:
        assert any(name in str(exc) for name in ("direction", "minimum_effect", "alpha",
                                                 "planned_n"))
    else:
        assert decision.verdict in VERDICTS


def test_a_batch_of_guardrail_checks_renders_at_any_length():
    """A batch's status is an array of strings: the repr and the notebook table count the
    statuses (short batches used to crash the formatting of numbers), to_frame lists them."""
    for n_experiments in (3, 10):
        x_t = np.linspace(380, 480, n_experiments).round()
        check = guardrail_check("refund_rate", ztest_proportions(400, 20000, x_t, 20000),
                                tolerated_degradation=0.10, bad_direction="increase")
        counts = {s: int(np.sum(check.status == s)) for s in GUARDRAIL_STATUSES}
        summary = "array(" + ", ".join(f"{s}: {n}" for s, n in counts.items()) + ")"
        assert f"    status={summary},\n" in repr(check)
        assert summary in check._repr_html_()
        assert check.to_frame()["status"].tolist() == check.status.tolist()


def test_expected_impact_refuses_a_total_that_overflows():
    with pytest.raises(ValueError, match=r"units \* value is too large"):
        expected_impact(win(), units=1e308, value=10.0)
    huge = expected_impact(win(), units=1e150, value=1e150)  # 1e300 x the effect: finite
    assert math.isfinite(huge.total) and huge.total == pytest.approx(win().effect * 1e300)


@pytest.mark.parametrize(
    ("call", "message"),
    [(lambda: guardrail_check("\ud800", win(), tolerated_degradation=0.1,
                              bad_direction="increase"), "name must be encodable as UTF-8"),
     (lambda: decide(win(), metric="\ud800"), "metric must be encodable as UTF-8"),
     (lambda: expected_impact(win(), units=10, period="\ud800"),
      "period must be encodable as UTF-8")],
)
def test_labels_must_be_text_a_report_can_write(call, message):
    """A lone surrogate cannot be written as UTF-8 (a report file, pandas' string columns)."""
    with pytest.raises(ValueError, match=message):
        call()


@settings(max_examples=200)
@given(units=anything, value=anything, period=anything)
def test_bad_expected_impact_arguments_raise_only_named_errors(units, value, period):
    try:
        impact = expected_impact(win(), units=units, value=value, period=period)
    except (ValueError, TypeError) as exc:
        assert any(name in str(exc) for name in ("units", "value", "period")), str(exc)
    else:
        assert math.isfinite(impact.total) and impact.total_ci_low <= impact.total_ci_high


@settings(max_examples=100)
@given(format_=anything, date=anything,
       key=st.one_of(st.none(), st.booleans(), st.text(max_size=5), st.floats(allow_nan=True),
                     st.integers(-10, 10)))
def test_bad_report_arguments_raise_only_named_errors(format_, date, key):
    spec, decision, results, _ = report_inputs()
    try:
        text = experiment_report(spec, decision, {key: next(iter(results.values()))},
                                 format=format_, date=date)
    except (ValueError, TypeError) as exc:
        assert any(name in str(exc) for name in ("format", "date", "results")), str(exc)
    else:
        assert text.strip()


def test_docstring_examples_run():
    import doctest

    from abteach.decision import guardrails, impact, report, verdict

    attempted = 0
    for module in (guardrails, verdict, impact, report):
        outcome = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert outcome.failed == 0, module.__name__
        attempted += outcome.attempted
    assert attempted >= 4


def test_public_names_are_exported():
    for name in ("Decision", "ExpectedImpact", "GuardrailCheck", "decide", "expected_impact",
                 "experiment_report", "guardrail_check"):
        assert getattr(abt, name) is globals()[name]
        assert name in abt.__all__
    assert isinstance(decide(win()), Decision)
    assert isinstance(expected_impact(win(), units=1), ExpectedImpact)
