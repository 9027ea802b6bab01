"""Chapter 10 answer key: every typical mistake is recognised and gets its own hint, and the
expected values agree with published tables and with independent computations (numpy Monte
Carlo, scipy one-dimensional quadrature of the two-look recursion)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, optimize, stats

import abteach as abt
from abteach.course.answers import ch10
from abteach.course.answers.ch10 import EXERCISES
from abteach.course.check import CORRECT, INCORRECT, Boolean

def _exercise(exercise_id: str):
    return next(ex for ex in EXERCISES if ex.id == exercise_id)


def _expected(exercise_id: str):
    return _exercise(exercise_id).answer.expected()


def test_daily_peeking_rate_by_numpy_monte_carlo():
    """10.1 against a plain numpy simulation (cumulative sums of normal increments), with a
    binomial band of 4.5 standard errors; and between the published rates for 10 and 20 looks
    (Armitage, McPherson & Rowe 1969: 0.1934 and 0.2479)."""
    expected = float(_expected("10.1"))
    rng = np.random.default_rng(20260110)
    n, k = 200_000, ch10.PUBLIC_INPUTS["10.1"]["days"]
    scores = np.cumsum(rng.standard_normal((n, k)), axis=1)
    z = scores / np.sqrt(np.arange(1, k + 1))
    rate = np.mean((np.abs(z) >= stats.norm.isf(0.025)).any(axis=1))
    assert abs(rate - expected) < 4.5 * math.sqrt(expected * (1 - expected) / n)
    assert 0.1934 < expected < 0.2479


def test_pocock_boundary_matches_jennison_turnbull():
    """10.2: Jennison & Turnbull (2000), Table 2.1, C_P(3) = 2.289 for two-sided alpha = 0.05
    (3 printed decimals); the table value itself is accepted by the check."""
    assert float(_expected("10.2")) == pytest.approx(2.289, abs=5e-4)
    assert _exercise("10.2").evaluate(2.289).status == CORRECT


def _two_look_crossing(b1: float, b2: float, t1: float, t2: float) -> float:
    """P(|Z_1| < b1, |Z_2| >= b2) under H0 by one-dimensional quadrature: given Z_1 = z,
    Z_2 is normal with mean rho z and variance 1 - rho^2, rho = sqrt(t1 / t2)."""
    rho = math.sqrt(t1 / t2)
    sd = math.sqrt(1 - rho**2)

    def integrand(z):
        return stats.norm.pdf(z) * (stats.norm.sf((b2 - rho * z) / sd)
                                    + stats.norm.cdf((-b2 - rho * z) / sd))

    return integrate.quad(integrand, -b1, b1, epsabs=1e-14, epsrel=1e-12)[0]


def _ld_obf_spent(t: float) -> float:
    """Total alpha spent by t, O'Brien-Fleming-type, 0.025 per side (Lan & DeMets 1983)."""
    return 2 * (2 - 2 * stats.norm.cdf(stats.norm.isf(0.025 / 2) / math.sqrt(t)))


def _second_boundary(t1: float, t2: float) -> tuple[float, float]:
    b1 = stats.norm.isf(_ld_obf_spent(t1) / 2)
    spend = _ld_obf_spent(t2) - _ld_obf_spent(t1)
    b2 = optimize.brentq(lambda b: _two_look_crossing(b1, b, t1, t2) - spend, 1.0, 8.0,
                         xtol=1e-12)
    return b1, b2


def test_ld_obf_second_boundary_by_quadrature():
    """10.3 recomputed from the spending function with scipy alone (two looks at t = 0.25 and
    0.5 of a four-look design: the later looks do not affect the second boundary)."""
    _, b2 = _second_boundary(0.25, 0.5)
    assert float(_expected("10.3")) == pytest.approx(b2, abs=1e-7)


def test_ld_obf_published_values_through_the_key():
    """GS05 (gsDesign sfLDOF, ldbounds, rpact asOF): K = 2 gives 2.962588 at t = 0.5, the
    value the '10.3' hint calls the single-interim-look mistake; the other convention's K = 5
    boundaries 4.383, 3.100, 2.553, 2.254, 2.064 (published_numbers.md, note on GS05)."""
    single_look = next(wrong for wrong, hint in _exercise("10.3").answer.mistakes
                       if "single interim look" in hint)
    assert float(single_look()) == pytest.approx(2.962588, abs=1e-6)
    t = np.arange(1, 6) / 5
    other = abt.boundaries(5, method="user", cumulative_alpha=abt.alpha_spending(
        t, method="ld-obf", convention="whole-alpha"))
    np.testing.assert_allclose(other.critical_values, [4.383, 3.100, 2.553, 2.254, 2.064],
                               atol=5e-4)


def test_running_experiment_continues_by_quadrature():
    """10.4: the boundaries at the observed fractions 0.22 and 0.41, recomputed with scipy, are
    not crossed by Z = 2.3 and 3.2, although both beat 1.96 (naive peeking would stop)."""
    b1, b2 = _second_boundary(*ch10.PUBLIC_INPUTS["10.4"]["t"])
    analysis = ch10.running_analysis()
    np.testing.assert_allclose(analysis.critical_values, [b1, b2], atol=1e-7)
    z1, z2 = ch10.PUBLIC_INPUTS["10.4"]["z"]
    assert z1 < b1 and z2 < b2 and min(z1, z2) > 1.96
    assert _expected("10.4") is False
    exercise = _exercise("10.4")
    assert isinstance(exercise.answer, Boolean)
    assert exercise.evaluate(False).status == CORRECT
    assert exercise.evaluate(True).status == INCORRECT


def test_inflation_factor_by_simulation():
    """10.5: with the drift abteach solved for, a plain numpy simulation of the three-look
    Pocock design reaches 90% power (crossings of the upper boundary first), and the factor is
    (drift / (z_0.975 + z_0.9))^2."""
    cost = abt.design_characteristics(abt.boundaries(3, method="pocock"), power=0.9)
    fixed = stats.norm.isf(0.025) + stats.norm.ppf(0.9)
    assert float(_expected("10.5")) == pytest.approx((cost.drift / fixed) ** 2, rel=1e-12)
    rng = np.random.default_rng(20260105)
    n, t = 200_000, np.arange(1, 4) / 3
    z = np.cumsum(rng.standard_normal((n, 3)) * np.sqrt(1 / 3), axis=1) / np.sqrt(t)
    z += cost.drift * np.sqrt(t)
    crossed = np.abs(z) >= cost.design.constant
    first = np.argmax(crossed, axis=1)
    upper_first = crossed.any(axis=1) & (z[np.arange(n), first] > 0)
    assert abs(upper_first.mean() - 0.9) < 4.5 * math.sqrt(0.9 * 0.1 / n)


def test_design_characteristics_match_sas_seqdesign():
    """The chapter's published check: SAS/STAT PROC SEQDESIGN, example "Creating Two-Sided Pocock
    and O'Brien-Fleming Designs", four-look two-sided Pocock design, alpha = 0.05, power 0.9:
    max information 118.3143%, null ASN 115.6074%, alternative ASN 69.74805% of the fixed sample
    (printed to 4 decimals in percent; asserted to 2e-4 percentage points)."""
    sas = abt.design_characteristics(abt.boundaries(4, method="pocock"), power=0.9)
    assert 100 * sas.inflation_factor == pytest.approx(118.3143, abs=2e-4)
    assert 100 * sas.expected_n_h0 == pytest.approx(115.6074, abs=2e-4)
    assert 100 * sas.expected_n_h1 == pytest.approx(69.74805, abs=2e-4)


def test_overrun_final_boundary_by_multivariate_normal():
    """10.8: the final look of an over-run (t = 0.30, 0.65, 1.15 of the planned maximum) spends
    all the alpha left: P(|Z_1| < b_1, |Z_2| < b_2, |Z_3| < b_3) = 0.95 by scipy's multivariate
    normal CDF with corr sqrt(t_i / t_j), b_3 solved here by Brent's method; the hindsight,
    planned and capped answers are recognised as mistakes."""
    exercise = _exercise("10.8")
    users = np.array(ch10.PUBLIC_INPUTS["10.8"]["users"], dtype=float)
    t = users / ch10.OVERRUN_MAX
    corr = np.sqrt(np.minimum.outer(t, t) / np.maximum.outer(t, t))

    def inside(bounds):
        b = np.asarray(bounds, dtype=float)
        mvn = stats.multivariate_normal(np.zeros(b.size), corr[: b.size, : b.size], abseps=1e-10,
                                        releps=1e-10, maxpts=4_000_000)
        return mvn.cdf(b, lower_limit=-b, rng=np.random.default_rng(5))

    spent = abt.alpha_spending(t[:2], method="ld-obf")
    b1 = stats.norm.isf(spent[0] / 2)
    b2 = optimize.brentq(lambda b: 1 - inside([b1, b]) - spent[1], 1.5, 6.0,
                         xtol=1e-9)
    b3 = optimize.brentq(lambda b: 1 - inside([b1, b2, b]) - 0.05, 1.5, 4.0, xtol=1e-9)
    expected = float(_expected("10.8"))
    assert expected == pytest.approx(b3, abs=5e-5)
    assert exercise.evaluate(b3).status == CORRECT
    hindsight = abt.sequential_analysis(np.zeros(3), users / users[-1],
                                        abt.boundaries(3, method="ld-obf")).critical_values[-1]
    for wrong, word in ((hindsight, "hindsight"),
                        (abt.boundaries(3, method="ld-obf").critical_values[-1], "plan's last"),
                        (stats.norm.isf(0.025), "fixed test")):
        result = exercise.evaluate(float(wrong))
        assert result.status == INCORRECT and word in result.message, result.message
