"""Tests of abteach.sequential: peeking, group-sequential boundaries, always-valid inference.

Layers: published numbers (each test names its source; precision as printed there or as in
shared/references/published_numbers.md), independent computations (nested quadrature for two
looks, scipy's multivariate normal CDF for three, Monte Carlo on a million paths), numerical
convergence of the recursion, seeded simulations of the error rates each procedure promises
(binomial bands of 4.5 standard errors), unit and property tests, and hypothesis fuzz tests of
bad input.
"""

from __future__ import annotations

import inspect
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

import published
from abteach.sequential import (
    CLASSIC_METHODS,
    METHODS,
    CrossingProbabilities,
    DesignCharacteristics,
    GroupSequentialDesign,
    MixtureSPRT,
    PeekingSimulation,
    SequentialAnalysis,
    alpha_spending,
    boundaries,
    compare_designs,
    crossing_probabilities,
    design_characteristics,
    msprt,
    peeking_false_positive_rate,
    replay_streams,
    sequential_analysis,
    simulate_peeking,
    _recursion,
    simulate_z_streams,
)
from abteach.sequential._checks import _check_looks

PARAMS = {"hsd": {"gamma": -4.0}, "power": {"rho": 3.0}}


def design(looks, method, **kwargs):
    """boundaries() with the parameter each method needs (user: linear spending)."""
    extra = dict(PARAMS.get(method, {}))
    if method == "user":
        t = _check_looks(looks)
        extra["cumulative_alpha"] = kwargs.get("alpha", 0.05) * t
    return boundaries(looks, method=method, **extra, **kwargs)


def band(rate: float, runs: int, width: float = 4.5) -> float:
    """Half-width of a binomial tolerance band: ``width`` standard errors of a rate."""
    return width * math.sqrt(rate * (1 - rate) / runs)


def correlation(t) -> np.ndarray:
    """corr(Z_j, Z_k) = sqrt(t_min / t_max) of the z-statistics of accumulating data."""
    t = np.asarray(t, float)
    return np.sqrt(np.minimum.outer(t, t) / np.maximum.outer(t, t))


# --- published values ------------------------------------------------------------------------


def test_peeking_armitage_mcpherson_rowe_pk01():
    """PK01 (published_numbers.md): Armitage, McPherson & Rowe (1969), overall false-positive
    rate of a two-sided 5% test after each of K equal batches; exact values by recursive
    integration, asserted to the 4 printed decimals (values from the package's file of published
    numbers, tests/published.py)."""
    for (k,), _ in published.arguments("PK01"):
        assert published.matches(peeking_false_positive_rate(k), "PK01", f"at {k} looks"), k
    assert [k for (k,), _ in published.arguments("PK01")] == [2, 5, 10, 20, 50, 100]


def test_peeking_gsdesign_deming_unit_test():
    """gsDesign unit test "test.Deming.gsProb" (tests/testthat/test-outputs.R, from K. Anderson's
    2008 Deming presentation): probability of crossing the upper of the bounds +-1.96 at some of
    k equally spaced looks, sum(gsProbability(...)$upper$prob), rounded to 3 decimals. By
    symmetry it is half of the two-sided peeking rate."""
    for k, value in {2: 0.042, 4: 0.063, 10: 0.097, 20: 0.124}.items():
        assert round(peeking_false_positive_rate(k) / 2, 3) == value


def test_pocock_constants_gs01():
    """GS01: Jennison & Turnbull (2000), Table 2.1, Pocock C_P(K), two-sided alpha = 0.05,
    K = 2..10, asserted to the 3 printed decimals."""
    assert [k for (k,), _ in published.arguments("GS01")] == list(range(2, 11))
    for k in range(2, 11):
        d = boundaries(k, method="pocock")
        assert published.matches(d.constant, "GS01", f"C_P({k})"), k
        np.testing.assert_allclose(d.critical_values, d.constant, rtol=0, atol=1e-15)


def test_obrien_fleming_constants_gs02():
    """GS02: Jennison & Turnbull (2000), Table 2.3, O'Brien-Fleming C_B(K), two-sided alpha =
    0.05, K = 2..10, and the K = 5 boundaries C_B sqrt(5 / k); 3 printed decimals."""
    for k in range(2, 11):
        assert published.matches(boundaries(k, method="obf").constant, "GS02", f"C_B({k})"), k
    k5 = boundaries(5, method="obf").critical_values
    for look, value in enumerate(k5, start=1):
        assert published.matches(value, "GS02", f"K = 5, boundary at look {look}"), look


def test_gsdesign_obrien_fleming_deming_bounds():
    """gsDesign unit test "test.Deming.OFbound": gsDesign(k = 4, test.type = 2, sfu = "OF")
    upper bounds 4.05, 2.86, 2.34, 2.02 (2 printed decimals)."""
    assert np.round(boundaries(4, method="obf").critical_values, 2).tolist() == [
        4.05, 2.86, 2.34, 2.02]


def test_lan_demets_obf_gs05():
    """GS05: Lan-DeMets O'Brien-Fleming spending, 0.025 per side (gsDesign sfLDOF, ldbounds,
    rpact asOF). K = 2 printed as 2.962588, 1.968596 (asserted to 1e-6); K = 5 printed by
    ldbounds as 4.8769, 3.3569, 2.6803, 2.2898, 2.0310, asserted to 3 decimals because
    ldbounds' coarse grid gives 3.3569 where finer grids give 3.35701 (published_numbers.md)."""
    for k in (2, 5):
        bounds = boundaries(k, method="ld-obf").critical_values
        for look, value in enumerate(bounds, start=1):
            assert published.matches(value, "GS05", f"K = {k}, boundary at look {look}"), (k, look)
    assert published.figures("GS05", "K = 2")["tolerance"].eq(5e-7).all()
    assert published.figures("GS05", "K = 5")["tolerance"].eq(5e-4).all()


def test_lan_demets_obf_other_convention():
    """published_numbers.md, note on GS05: putting the whole two-sided 0.05 into the one-sided
    formula gives another design, K = 5: 4.383, 3.100, 2.553, 2.254, 2.064 (3 decimals)."""
    t = np.arange(1, 6) / 5
    whole = alpha_spending(t, method="ld-obf", convention="whole-alpha")
    np.testing.assert_allclose(whole, 2 * ndtr(-ndtri(0.975) / np.sqrt(t)), rtol=1e-14)
    d = boundaries(5, method="user", cumulative_alpha=whole)
    assert np.round(d.critical_values, 3).tolist() == [4.383, 3.100, 2.553, 2.254, 2.064]


# gsDesign 3.11.0.9000, tests/testthat/fixtures/numint-fixtures.R (values to 13+ digits,
# "Generated by analysis/04-make-test-fixtures.R"). gsDesign's defaults are alpha = 0.025 one
# sided (two-sided symmetric designs: 0.025 per side), beta = 0.1, r = 18 grid points, and a
# search tolerance tol = 1e-6, so its boundaries and sample-size ratios are good to about 1e-6:
# all comparisons below are to 1e-6 (the largest gap, 9.3e-7 on tt4_k5_LDOF look 2, is
# gsDesign's: see test_two_looks_against_quadrature_gsdesign_gap).
GSD = {
    "tt2_default": dict(  # gsDesign(k = 3, test.type = 2): sfHSD, gamma = -4
        upper=[3.0107394853859999, 2.5465305612760001, 1.9992263405090001],
        n_max=1.0151967128529999,
        upper_h0=[0.0013030617161949999, 0.0049433833977029999, 0.018753555133159999],
        upper_h1=[0.13027693612659999, 0.42367723518470002, 0.34604581538779999],
        lower_h1=[4.8805137131210001e-07, 8.6665222876730002e-08, 6.252871070365e-08],
        en=[1.0100872231739999, 0.78365329617900004],
    ),
    "tt2_Pocock": dict(  # gsDesign(k = 4, test.type = 2, sfu = "Pocock")
        upper=[2.3612979179889999] * 4,
        n_max=1.1831418711949999,
        upper_h0=[0.0091055470845090008, 0.0066674215035160004, 0.0051044347462910001,
                  0.0041225966457809999],
        upper_h1=[0.27479920720399997, 0.30591757349760001, 0.205648307887, 0.1136349114089],
        lower_h1=[1.859854277002e-05, 4.7121783676490002e-07, 1.9641024440790001e-08,
                  1.078271250819e-09],
        en=[1.1560739993789999, 0.69748052080980005],
    ),
    "tt1_OF": dict(  # gsDesign(k = 4, test.type = 1, sfu = "OF"): one-sided
        upper=[4.0485911949169999, 2.862786288178, 2.3374552162239999, 2.024295597459],
        n_max=1.0221627115530001,
        upper_h0=[2.5763428321510001e-05, 0.0020845773569880001, 0.0083455482351430001,
                  0.0145441109162],
        upper_h1=[0.0079768800732899995, 0.28498183268170002, 0.40307298393469998,
                  0.20396830768929999],
        en=[1.018944945066, 0.76739701455690001],
    ),
    "tt1_default": dict(  # gsDesign(k = 3, test.type = 1): one-sided sfHSD, gamma = -4
        upper=[3.0107394853859999, 2.5465305612770002, 1.999226370748],
        n_max=1.0151966931159999,
        upper_h0=[0.0013030617161949999, 0.0049433833977029999, 0.01875355513315],
        upper_h1=[0.1302769322433, 0.42367722886859999, 0.34604582558730002],
        en=[1.0126419483260001, 0.7836536453488],
    ),
}
GSD_DESIGNS = {
    "tt2_default": dict(looks=3, method="hsd", gamma=-4.0, alpha=0.05),
    "tt2_Pocock": dict(looks=4, method="pocock", alpha=0.05),
    "tt1_OF": dict(looks=4, method="obf", alpha=0.025, alternative="larger"),
    "tt1_default": dict(looks=3, method="hsd", gamma=-4.0, alpha=0.025, alternative="larger"),
}


@pytest.mark.parametrize("name", list(GSD))
def test_gsdesign_numint_fixtures(name):
    """gsDesign numint fixtures (see GSD): boundaries, crossing probabilities under H0 and
    under the design's alternative, maximum sample size and expected sample sizes under H0
    and H1 relative to the fixed design (n.fix = 1, beta = 0.1), all to 1e-6."""
    ref = GSD[name]
    kwargs = dict(GSD_DESIGNS[name])
    d = boundaries(kwargs.pop("looks"), **kwargs)
    np.testing.assert_allclose(d.critical_values, ref["upper"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(crossing_probabilities(d, 0.0).upper, ref["upper_h0"], atol=1e-6)
    ch = design_characteristics(d, power=0.9)
    assert ch.inflation_factor == pytest.approx(ref["n_max"], abs=1e-6)
    # gsDesign's theta: delta = z_0.975 + z_0.9 = 3.2415155500849999 times sqrt(n.I[K]).
    assert ch.drift_fixed == pytest.approx(3.2415155500849999, abs=1e-12)
    assert ch.drift == pytest.approx(3.2415155500849999 * math.sqrt(ref["n_max"]), abs=1e-6)
    alt = crossing_probabilities(d, ch.drift)
    np.testing.assert_allclose(alt.upper, ref["upper_h1"], rtol=0, atol=1e-6)
    if "lower_h1" in ref:
        np.testing.assert_allclose(alt.lower, ref["lower_h1"], rtol=1e-3, atol=1e-10)
    np.testing.assert_allclose([ch.expected_n_h0, ch.expected_n_h1], ref["en"], atol=1e-6)


def test_gsdesign_fixture_last_look_before_full_information():
    """gsDesign fixture tt2_nI: gsDesign(k = 3, test.type = 2, n.fix = 800, n.I = c(300, 600,
    860), maxn.IPlan = 900): HSD(-4) spent at fractions 1/3, 2/3, 860/900 (the last look comes
    before full information, so only alpha(860/900) is spent); upper bounds, the crossing
    probabilities at theta = 0.1146048813393 per unit of n, and the expected sample sizes."""
    d = boundaries(np.array([300, 600, 860]) / 900, method="hsd", gamma=-4)
    np.testing.assert_allclose(
        d.critical_values, [3.0107394853859999, 2.5465305612760001, 2.0844931420699999],
        rtol=0, atol=1e-6)
    np.testing.assert_allclose(
        crossing_probabilities(d, 0.0).upper,
        [0.0013030617161949999, 0.0049433833977029999, 0.014605798186579999], atol=1e-9)
    alt = crossing_probabilities(d, 0.1146048813393 * math.sqrt(900))
    np.testing.assert_allclose(alt.upper, [0.1525106811677, 0.45604137924260002, 0.2936903564942],
                               atol=1e-6)
    np.testing.assert_allclose(alt.lower, [2.9303125674820001e-07, 4.026118307345e-08,
                                           2.2449700765330002e-08], rtol=1e-3)
    assert 900 * crossing_probabilities(d, 0.0).expected_fraction == pytest.approx(
        855.97001151109998, abs=1e-5)
    assert 900 * alt.expected_fraction == pytest.approx(656.02308537759995, abs=1e-4)


def test_gsdesign_fixture_spending_function_upper_bounds():
    """gsDesign fixtures tt4_k5_LDOF (gsDesign(k = 5, test.type = 4, sfu = sfLDOF)) and
    tt4_alpha05 (gsDesign(k = 4, test.type = 4, alpha = 0.05, sfu = sfPower, sfupar = 2)): with
    a non-binding futility bound the efficacy bounds are those of the one-sided design."""
    ldof = boundaries(5, method="ld-obf", alpha=0.025, alternative="larger")
    np.testing.assert_allclose(
        ldof.critical_values,
        [4.8768849487760004, 3.3570109928830001, 2.680279581382, 2.2898166823469999,
         2.0310322150600002], rtol=0, atol=1e-6)
    power = boundaries(4, method="power", rho=2, alpha=0.05, alternative="larger")
    np.testing.assert_allclose(
        power.critical_values,
        [2.734368786533, 2.3018697435840001, 2.0101848737210002, 1.7691900837329999],
        rtol=0, atol=1e-6)


def test_rpact_unit_test_values():
    """rpact tests/testthat/test-f_design_group_sequential.R (values printed to 8 significant
    digits, compared there with tolerance 1e-7), one-sided designs (rpact's default sided = 1):

    * x0 getDesignInverseNormal(): kMax = 3, alpha 0.025, "OF";
    * x6b getDesignGroupSequential(informationRates = c(0.4, 0.7), typeOfDesign = "asP");
    * x5 typeOfDesign = "asUser", userAlphaSpending = c(0.01, 0.02, 0.03, 0.05);
    * x7a kMax = 3 and 4, alpha = 0.13, "asOF", informationRates c(0.4, 0.75, 1) and
      c(0.4, 0.75, 0.85, 1) (non-binding futility: the efficacy bounds are one-sided ones).
    """
    cases = [
        (dict(looks=3, method="obf", alpha=0.025), [3.4710914, 2.4544323, 2.0040356],
         [0.00025917372, 0.0071600594, 0.02499999]),
        (dict(looks=[0.4, 0.7], method="ld-pocock", alpha=0.025), [2.223875, 2.3050796],
         [0.013078429, 0.0197432]),
        (dict(looks=4, method="user", alpha=0.05, cumulative_alpha=[0.01, 0.02, 0.03, 0.05]),
         [2.3263479, 2.2192994, 2.1201347, 1.8189562], [0.01, 0.02, 0.03, 0.04999999]),
        (dict(looks=[0.4, 0.75, 1], method="ld-obf", alpha=0.13),
         [2.1280732, 1.4368565, 1.2468994], [0.016665509, 0.080406163, 0.12999999]),
        (dict(looks=[0.4, 0.75, 0.85, 1], method="ld-obf", alpha=0.13),
         [2.1280732, 1.4368565, 1.422873, 1.2970881],
         [0.016665509, 0.080406163, 0.10053322, 0.13]),
    ]
    for kwargs, critical, spent in cases:
        kwargs = dict(kwargs)
        d = boundaries(kwargs.pop("looks"), alternative="larger", **kwargs)
        np.testing.assert_allclose(d.critical_values, critical, rtol=0, atol=1e-6)
        np.testing.assert_allclose(d.cumulative_alpha, spent, rtol=0, atol=1e-7)


def test_rpact_design_characteristics():
    """rpact test-f_design_group_sequential.R, x1/y1: getDesignInverseNormal(kMax = 3,
    informationRates = c(0.2, 0.4, 1), alpha = 0.03, sided = 1, beta = 0.14, typeOfDesign =
    "asHSD", gammaA = 0) and getDesignCharacteristics(): critical values 2.5121443,
    2.4228747, 2.0280392; nFixed 8.7681899 (= drift_fixed^2), shift 9.4594101 (= drift^2),
    inflationFactor 1.0788327, cumulative power 0.12783451, 0.34055165, 0.86,
    averageSampleNumber1 0.83081135, averageSampleNumber0 1.0697705 and averageSampleNumber01
    1.0142116 (at half the drift)."""
    d = boundaries([0.2, 0.4, 1.0], method="hsd", gamma=0, alpha=0.03, alternative="larger")
    np.testing.assert_allclose(d.critical_values, [2.5121443, 2.4228747, 2.0280392], atol=1e-6)
    ch = design_characteristics(d, power=0.86)
    assert ch.drift_fixed**2 == pytest.approx(8.7681899, abs=1e-6)
    assert ch.drift**2 == pytest.approx(9.4594101, abs=1e-6)
    assert ch.inflation_factor == pytest.approx(1.0788327, abs=1e-6)
    np.testing.assert_allclose(ch.power_by_look, [0.12783451, 0.34055165, 0.86], atol=1e-7)
    assert ch.expected_n_h1 == pytest.approx(0.83081135, abs=1e-6)
    assert ch.expected_n_h0 == pytest.approx(1.0697705, abs=1e-6)
    half = crossing_probabilities(d, ch.drift / 2).expected_fraction * ch.inflation_factor
    assert half == pytest.approx(1.0142116, abs=1e-6)


# --- independent computations ----------------------------------------------------------------


def two_look_crossing(b1, b2, t1, t2, drift, two_sided=True):
    """P(cross at look 1 or 2) by nested adaptive quadrature (scipy.integrate.quad)."""
    rho = math.sqrt(t1 / t2)
    m1, m2 = drift * math.sqrt(t1), drift * math.sqrt(t2)
    sd = math.sqrt(1 - rho**2)
    low1 = -b1 if two_sided else -np.inf

    def continue_both(z1):
        mean = m2 + rho * (z1 - m1)
        lower = ndtr((-b2 - mean) / sd) if two_sided else 0.0
        return stats.norm.pdf(z1 - m1) * (ndtr((b2 - mean) / sd) - lower)

    stay = integrate.quad(continue_both, low1, b1, epsabs=1e-14, epsrel=1e-13, limit=200)[0]
    return 1 - stay


@pytest.mark.parametrize("method", METHODS)
def test_two_looks_against_quadrature(method):
    """Two looks at t = (0.35, 1) and (0.5, 0.9): the total crossing probability, under H0
    and at drift 2.5, equals a nested quadrature of the bivariate normal to 1e-9."""
    for looks in ([0.35, 1.0], [0.5, 0.9]):
        for alternative in ("two-sided", "larger"):
            d = design(looks, method, alternative=alternative)
            b1, b2 = d.critical_values
            two = alternative == "two-sided"
            for drift in (0.0, 2.5):
                expected = two_look_crossing(b1, b2, *looks, drift, two)
                assert crossing_probabilities(d, drift).total == pytest.approx(expected, abs=1e-9)
            assert d.cumulative_alpha[-1] == pytest.approx(
                two_look_crossing(b1, b2, *looks, 0.0, two), abs=1e-9)


def test_two_looks_against_quadrature_gsdesign_gap():
    """Look 2 of the one-sided 5-look ld-obf design solved independently: the bivariate
    normal quadrature gives b2 = 3.3570119216, as abteach does (to 1e-9); gsDesign's
    fixture prints 3.3570109929 (9.3e-7 lower: its bound search tolerance is 1e-6)."""
    spend = alpha_spending([0.2, 0.4], alpha=0.025, alternative="larger")
    b1 = -ndtri(spend[0])

    def crossing2(b2):
        return two_look_crossing(b1, b2, 0.2, 0.4, 0.0, two_sided=False) - spend[1]

    b2 = brentq(crossing2, 2, 5, xtol=1e-13)
    d = boundaries(5, method="ld-obf", alpha=0.025, alternative="larger")
    assert d.critical_values[1] == pytest.approx(b2, abs=1e-9)
    assert b2 - 3.3570109928830001 == pytest.approx(9.29e-7, abs=2e-9)


# scipy >= 1.16 seeds multivariate_normal.cdf with `rng`; older versions take no seed there (the
# tolerance 1e-8 holds either way, the seed only fixes the last digits)
SEED = {"rng": 1} if "rng" in inspect.signature(stats.multivariate_normal.cdf).parameters else {}


def test_three_looks_against_multivariate_normal_cdf():
    """Three looks at t = (0.3, 0.6, 1): P(|Z_k| < b_k at all looks) by scipy's
    multivariate_normal.cdf (Genz's algorithm, 1e-8 tolerance) equals 1 - alpha and, at drift
    2.5, 1 - crossing probability, to 1e-6."""
    t = [0.3, 0.6, 1.0]
    cov = correlation(t)
    for method in ("pocock", "obf", "ld-obf"):
        d = boundaries(t, method=method)
        b = d.critical_values
        for drift in (0.0, 2.5):
            stay = stats.multivariate_normal.cdf(
                b, mean=drift * np.sqrt(t), cov=cov, lower_limit=-b, abseps=1e-8, releps=1e-8,
                maxpts=2_000_000, **{k: np.random.default_rng(v) for k, v in SEED.items()})
            assert 1 - stay == pytest.approx(crossing_probabilities(d, drift).total, abs=1e-6)
        assert d.cumulative_alpha[-1] == pytest.approx(0.05, abs=1e-12)


def test_one_look_is_the_fixed_design():
    """K = 1: every method gives the fixed-sample critical value and spends exactly alpha."""
    for method in METHODS:
        for alpha in (0.01, 0.05, 0.2):
            d = design(1, method, alpha=alpha)
            assert d.critical_values[0] == pytest.approx(ndtri(1 - alpha / 2), abs=1e-12)
            assert d.cumulative_alpha[0] == pytest.approx(alpha, abs=1e-12)
            one = design(1, method, alpha=alpha, alternative="larger")
            assert one.critical_values[0] == pytest.approx(ndtri(1 - alpha), abs=1e-12)
        ch = design_characteristics(design(1, method), power=0.8)
        assert ch.inflation_factor == pytest.approx(1.0, abs=1e-10)
        assert ch.expected_n_h0 == pytest.approx(1.0, abs=1e-10)


def test_single_early_look_spends_its_share():
    """One look at t = 0.5 spends alpha(0.5) (with a spending function), the whole alpha with
    a classic design."""
    spend = alpha_spending([0.5], method="ld-obf")[0]
    d = boundaries([0.5], method="ld-obf")
    assert d.critical_values[0] == pytest.approx(-ndtri(spend / 2), abs=1e-12)
    assert boundaries([0.5], method="obf").cumulative_alpha[0] == pytest.approx(0.05)


def test_monte_carlo_million_paths():
    """ld-obf with 5 looks on 1,000,000 simulated paths (seeded): total type I error, the
    crossing probability at each look, the power and the mean information fraction at the stop
    at drift 3 all fall within 4.5 standard errors of the recursion's values."""
    n = 1_000_000
    d = boundaries(5, method="ld-obf")
    t = d.information_fractions
    z = simulate_z_streams(n, 5, rng=20240601)
    for drift in (0.0, 3.0):
        paths = z + drift * np.sqrt(t)
        crossed = np.abs(paths) >= d.critical_values
        stopped = crossed.any(axis=1)
        first = np.argmax(crossed, axis=1)
        by_look = np.bincount(first[stopped], minlength=5) / n
        exact = crossing_probabilities(d, drift)
        for k in range(5):
            p = exact.upper[k] + exact.lower[k]
            assert abs(by_look[k] - p) <= max(band(p, n), 3 / n), (drift, k)
        assert abs(stopped.mean() - exact.total) <= band(exact.total, n)
        fraction = np.where(stopped, t[first], 1.0)
        se = fraction.std() / math.sqrt(n)
        assert abs(fraction.mean() - exact.expected_fraction) <= 4.5 * se


def test_grid_refinement_changes_little(monkeypatch):
    """Numerical convergence: halving every quadrature panel (and the widest panel) changes
    boundaries, constants and crossing probabilities by less than 1e-8, for 3, 20 and 200
    looks (looks whose spending is below 1e-20 excluded: there the boundary is beyond 9)."""
    def run():
        out = {}
        for k in (3, 20, 200):
            ld = boundaries(k, method="ld-obf")
            keep = ld.cumulative_alpha > 1e-20
            out[f"ld{k}"] = ld.critical_values[keep]
            out[f"pocock{k}"] = np.array([boundaries(k, method="pocock").constant])
            out[f"cross{k}"] = crossing_probabilities(ld, 2.8).upper
        return out

    coarse = run()
    monkeypatch.setattr(_recursion, "_PANEL_PER_SD", _recursion._PANEL_PER_SD / 2)
    monkeypatch.setattr(_recursion, "_MAX_PANEL", _recursion._MAX_PANEL / 2)
    fine = run()
    for key in coarse:
        np.testing.assert_allclose(coarse[key], fine[key], rtol=0, atol=1e-8, err_msg=key)


def test_one_sided_and_two_sided_designs_nearly_coincide():
    """A two-sided design at 2 alpha and a one-sided design at alpha differ only through paths
    that cross the lower boundary and later the upper one: below 1e-6 here."""
    for method in ("obf", "ld-obf", "hsd"):
        two = design(5, method, alpha=0.05)
        one = design(5, method, alpha=0.025, alternative="larger")
        np.testing.assert_allclose(two.critical_values, one.critical_values, atol=1e-6)


# --- properties ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_boundaries_fall_as_alpha_grows(method):
    looks = [0.2, 0.5, 0.7, 1.0]
    previous = None
    for alpha in (0.01, 0.025, 0.05, 0.1, 0.2):
        b = design(looks, method, alpha=alpha).critical_values
        if previous is not None:
            assert np.all(b < previous)
        previous = b


@pytest.mark.parametrize("method", METHODS)
def test_spending_adds_up(method):
    """Cumulative alpha is non-decreasing, matches the spending function at every look (spending
    designs) or ends at alpha (classic designs); nominal p-values match the critical values."""
    looks = [0.25, 0.5, 0.6, 0.9]
    for alternative in ("two-sided", "larger", "smaller"):
        d = design(looks, method, alpha=0.05, alternative=alternative)
        assert np.all(np.diff(d.cumulative_alpha) >= 0)
        if method in CLASSIC_METHODS:
            assert d.cumulative_alpha[-1] == pytest.approx(0.05, abs=1e-10)
        elif method == "user":
            np.testing.assert_allclose(d.cumulative_alpha, 0.05 * np.array(looks), atol=1e-10)
        else:
            spend = alpha_spending(looks, method=method, alternative=alternative,
                                   **PARAMS.get(method, {}))
            np.testing.assert_allclose(d.cumulative_alpha, spend, rtol=1e-8, atol=1e-12)
        sides = 2 if alternative == "two-sided" else 1
        np.testing.assert_allclose(d.nominal_pvalues, sides * stats.norm.sf(d.critical_values),
                                   rtol=1e-12)


def test_classic_shapes():
    """Pocock is flat; O'Brien-Fleming is C sqrt(t_K / t_k); both constants lie between the
    fixed-design value and Bonferroni; the last OBF boundary is below Pocock's."""
    t = np.array([0.2, 0.45, 0.7, 0.8])
    pocock = boundaries(t, method="pocock")
    obf = boundaries(t, method="obf")
    np.testing.assert_allclose(obf.critical_values, obf.constant * np.sqrt(t[-1] / t))
    assert obf.critical_values[-1] == pytest.approx(obf.constant)
    for d in (pocock, obf):
        assert ndtri(0.975) < d.constant < ndtri(1 - 0.025 / t.size)
    assert obf.critical_values[-1] < pocock.constant < obf.critical_values[0]


def test_smaller_mirrors_larger():
    for method in ("pocock", "ld-obf", "power"):
        larger = design(4, method, alternative="larger")
        smaller = design(4, method, alternative="smaller")
        np.testing.assert_allclose(smaller.critical_values, larger.critical_values, atol=1e-12)
        a = crossing_probabilities(larger, 2.0)
        b = crossing_probabilities(smaller, -2.0)
        np.testing.assert_allclose(a.upper, b.lower, atol=1e-12)
        ch_l = design_characteristics(larger, power=0.9)
        ch_s = design_characteristics(smaller, power=0.9)
        assert ch_s.inflation_factor == pytest.approx(ch_l.inflation_factor, abs=1e-10)


def test_two_sided_crossing_is_symmetric_in_drift():
    d = boundaries([0.3, 0.5, 1.0], method="ld-pocock")
    for drift in (0.7, 2.0):
        plus, minus = crossing_probabilities(d, drift), crossing_probabilities(d, -drift)
        np.testing.assert_allclose(plus.upper, minus.lower, atol=1e-12)
        np.testing.assert_allclose(plus.lower, minus.upper, atol=1e-12)


def test_drift_array_matches_scalars():
    d = boundaries(6, method="hsd", gamma=-2)
    drifts = np.array([-1.0, 0.0, 1.5, 3.0, 4.5])
    many = crossing_probabilities(d, drifts)
    assert many.upper.shape == (5, 6)
    for i, drift in enumerate(drifts):
        one = crossing_probabilities(d, drift)
        np.testing.assert_allclose(many.upper[i], one.upper, atol=1e-12)
        np.testing.assert_allclose(many.lower[i], one.lower, atol=1e-12)
        assert many.expected_fraction[i] == pytest.approx(one.expected_fraction, abs=1e-12)
    assert np.all(np.diff(many.total[1:]) > 0)  # power grows with the drift


def test_spending_functions():
    t = np.linspace(0.05, 1, 20)
    for method in ("ld-obf", "ld-pocock", "hsd", "power"):
        for alternative in ("two-sided", "larger"):
            spend = alpha_spending(t, alpha=0.05, method=method, alternative=alternative,
                                   **PARAMS.get(method, {}))
            assert np.all(np.diff(spend) > 0)
            assert spend[-1] == pytest.approx(0.05, abs=1e-14)
    linear = alpha_spending(t, method="hsd", gamma=0)
    np.testing.assert_allclose(linear, 0.05 * t, rtol=1e-14)
    np.testing.assert_allclose(alpha_spending(t, method="power", rho=1), linear, rtol=1e-14)
    np.testing.assert_allclose(alpha_spending(t, method="hsd", gamma=1e-9), linear, rtol=1e-8)
    np.testing.assert_allclose(alpha_spending(t, method="ld-pocock"),
                               0.05 * np.log(1 + (math.e - 1) * t), rtol=1e-14)
    # Only ld-obf depends on the convention (it is not proportional to alpha).
    np.testing.assert_allclose(alpha_spending(t, method="hsd", gamma=-4, convention="whole-alpha"),
                               alpha_spending(t, method="hsd", gamma=-4), rtol=1e-14)
    assert np.all(alpha_spending(t[:-1], convention="whole-alpha")
                  > alpha_spending(t[:-1], convention="per-side"))


def test_hundreds_of_looks():
    """365 daily looks: early ld-obf looks spend less than 1e-30 and cannot stop (infinite
    boundary); every probability stays finite; the constants keep growing slowly."""
    ld = boundaries(365, method="ld-obf")
    assert np.isinf(ld.critical_values[0]) and np.isfinite(ld.critical_values[-1])
    assert not np.isnan(ld.critical_values).any()
    assert ld.cumulative_alpha[-1] == pytest.approx(0.05, abs=1e-9)
    assert 2.0 < ld.critical_values[-1] < 2.3
    pocock = boundaries(365, method="pocock").constant
    assert boundaries(100, method="pocock").constant < pocock < ndtri(1 - 0.025 / 365)


def test_design_characteristics_properties():
    for method in METHODS:
        d = design(5, method)
        ch = design_characteristics(d, power=0.8)
        assert ch.inflation_factor >= 1.0
        assert ch.expected_n_h1 < ch.inflation_factor
        assert ch.expected_n_h0 <= ch.inflation_factor
        assert ch.power_by_look[-1] == pytest.approx(0.8, abs=1e-10)
        assert ch.drift_fixed == pytest.approx(ndtri(0.975) + ndtri(0.8), abs=1e-12)
    # O'Brien-Fleming costs little in maximum sample size, Pocock more.
    obf = design_characteristics(boundaries(5, method="obf"), power=0.9)
    pocock = design_characteristics(boundaries(5, method="pocock"), power=0.9)
    assert obf.inflation_factor < pocock.inflation_factor
    assert pocock.expected_n_h1 < obf.expected_n_h1


# --- peeking simulations ---------------------------------------------------------------------


def test_simulate_peeking_matches_exact_rates():
    """Seeded: the first k of K equally spaced looks (1/K, ..., k/K) are k equally spaced looks
    (peeking rates depend only on ratios of fractions), so the simulated rate by look k must
    match the exact rate for K = k, within 4.5 standard errors."""
    n = 200_000
    sim = simulate_peeking(n, 20, rng=7)
    assert isinstance(sim, PeekingSimulation)
    for k in (1, 2, 5, 10, 20):
        exact = peeking_false_positive_rate(k)
        assert abs(sim.rejection_rate_by_look[k - 1] - exact) <= band(exact, n), k
    assert sim.exact_rejection_rate == pytest.approx(peeking_false_positive_rate(20), abs=1e-14)
    assert abs(sim.fixed_rejection_rate - 0.05) <= band(0.05, n)
    assert np.all(np.diff(sim.rejection_rate_by_look) >= 0)
    assert "exact 0.2479" in sim.explain()


def test_simulate_peeking_under_an_effect():
    n = 100_000
    sim = simulate_peeking(n, 10, rng=8, drift=2.0)
    assert abs(sim.rejection_rate - sim.exact_rejection_rate) <= band(sim.exact_rejection_rate, n)
    power = ndtr(2.0 - ndtri(0.975)) + ndtr(-2.0 - ndtri(0.975))
    assert abs(sim.fixed_rejection_rate - power) <= band(power, n)


def test_simulate_peeking_is_fast_and_seeded():
    """100,000 experiments x 100 looks, in blocks (no 80 MB matrix); same seed, same answer."""
    a = simulate_peeking(100_000, 100, rng=1)
    b = simulate_peeking(100_000, 100, rng=1)
    assert a.rejection_rate == b.rejection_rate
    pk01 = published.value("PK01", "at 100 looks")
    assert abs(a.rejection_rate - pk01) <= band(pk01, 100_000)


def test_simulate_z_streams_moments():
    t = np.array([0.1, 0.4, 0.5, 1.0])
    z = simulate_z_streams(200_000, t, drift=1.5, rng=3)
    np.testing.assert_allclose(z.mean(axis=0), 1.5 * np.sqrt(t), atol=0.015)
    np.testing.assert_allclose(np.corrcoef(z.T), correlation(t), atol=0.01)


@pytest.mark.parametrize("method", METHODS)
def test_type_i_error_by_simulation(method):
    """Seeded: stopping at the first crossing, each design rejects a true H0 at rate alpha
    (two-sided, unequal looks) within 4.5 standard errors over 400,000 paths."""
    n = 400_000
    looks = [0.2, 0.5, 0.75, 1.0]
    d = design(looks, method)
    z = simulate_z_streams(n, looks, rng=11)
    rate = float((np.abs(z) >= d.critical_values).any(axis=1).mean())
    assert abs(rate - d.cumulative_alpha[-1]) <= band(0.05, n)


# --- analyzing a running experiment ----------------------------------------------------------


def test_sequential_analysis_stops_at_first_crossing():
    d = boundaries(5, method="obf")  # 4.562, 3.226, 2.634, 2.281, 2.040
    res = sequential_analysis([1.0, 2.5, 2.7, 1.0], [0.2, 0.4, 0.6, 0.8], d)
    assert isinstance(res, SequentialAnalysis)
    assert res.crossed.tolist() == [False, False, True, False]
    assert res.stop_look == 3 and res.reject
    assert "treatment better" in res.decision
    assert "after the stop" in res.explain()
    np.testing.assert_allclose(res.critical_values, d.critical_values[:4])


def test_sequential_analysis_decisions():
    d = boundaries(3, method="pocock")
    going = sequential_analysis([0.5, 1.1], [1 / 3, 2 / 3], d)
    assert going.stop_look == 0 and not going.reject and going.decision.startswith("continue")
    done = sequential_analysis([0.5, 1.1, 1.9], [1 / 3, 2 / 3, 1.0], d)
    assert done.decision.startswith("stop at the final look") and not done.reject
    worse = sequential_analysis([-2.5], [1 / 3], d)
    assert worse.reject and "worse" in worse.decision
    one = boundaries(3, method="obf", alternative="larger")
    assert not sequential_analysis([-5.0], [1 / 3], one).reject
    small = boundaries(3, method="obf", alternative="smaller")
    assert sequential_analysis([-5.0], [1 / 3], small).reject


def test_sequential_analysis_recomputes_spending_boundaries():
    """Looks at unplanned times: a spending design spends alpha(t) at the observed fractions
    (Lan & DeMets 1983); a Pocock design refuses."""
    planned = boundaries(4, method="ld-obf")
    res = sequential_analysis([1.0, 2.0, 2.2], [0.3, 0.55, 0.8], planned)
    expected = boundaries([0.3, 0.55, 0.8], method="ld-obf").critical_values
    np.testing.assert_allclose(res.critical_values, expected)
    with pytest.raises(ValueError, match="fixes its looks"):
        sequential_analysis([1.0], [0.3], boundaries(4, method="pocock"))


def test_sequential_analysis_checks_input():
    d = boundaries(3)
    with pytest.raises(ValueError, match="z_values"):
        sequential_analysis([1.0, 2.0], [0.5], d)
    with pytest.raises(ValueError, match="information_fractions"):
        sequential_analysis([1.0], [1.5], d)
    with pytest.raises(TypeError, match="design"):
        sequential_analysis([1.0], [0.5], "obf")
    with pytest.raises(ValueError, match="z_values"):
        sequential_analysis([np.nan], [1 / 3], d)


# --- the planned maximum, over-runs and under-runs -------------------------------------------

# Users at the end of each day in the capstone (book/13_capstone.ipynb, section 13.6) and its
# planned maximum: spec.required_sample_size() = 12,966 per arm, 25,932 in all.
CAPSTONE_USERS = np.array([1953, 3971, 5976, 7945, 9942, 11985, 13978, 15960, 17954, 19995,
                           21967, 23967, 26004, 28000])
CAPSTONE_MAX = 25_932


def test_capstone_look_8_with_the_planned_maximum():
    """Issue 13, error 3: with the planned maximum, look 8 of the capstone's 14-look ld-obf
    design has t = 0.615 and boundary 2.694; the hindsight fractions (users / final users) put
    it at t = 0.570 with boundary 2.808, a different test. Look 13 over-runs (t = 1.0028) and
    is accepted as the final analysis; a look after it is refused."""
    design = boundaries(14, method="ld-obf")
    planned = sequential_analysis(np.zeros(8), CAPSTONE_USERS[:8] / CAPSTONE_MAX, design)
    assert round(planned.information_fractions[-1], 3) == 0.615
    assert round(planned.critical_values[-1], 3) == 2.694
    hindsight = sequential_analysis(np.zeros(8), CAPSTONE_USERS[:8] / CAPSTONE_USERS[-1],
                                    design)
    assert round(hindsight.critical_values[-1], 3) == 2.808
    assert abs(planned.critical_values[-1] - hindsight.critical_values[-1]) > 0.1
    # Independently: the first look alone spends alpha(t_1), so b_1 = z_(1 - alpha(t_1) / 2).
    t1 = CAPSTONE_USERS[0] / CAPSTONE_MAX
    per_side = 2 * stats.norm.sf(stats.norm.isf(0.025 / 2) / math.sqrt(t1))
    assert planned.critical_values[0] == pytest.approx(stats.norm.isf(per_side), abs=1e-9)
    final = sequential_analysis(np.zeros(13), CAPSTONE_USERS[:13] / CAPSTONE_MAX, design)
    assert round(final.information_fractions[-1], 4) == 1.0028 and final.final
    assert final.decision.startswith("stop at the final look 13")
    assert "final analysis" in final.explain()
    with pytest.raises(ValueError, match=r"information_fractions may reach 1 .* only at the "
                       r"last look given.*1\.0027\d* at index 12"):
        sequential_analysis(np.zeros(14), CAPSTONE_USERS / CAPSTONE_MAX, design)


def _mvn_two_sided_inside(bounds, fractions):
    """P(|Z_k| < b_k for every k) by scipy's multivariate normal CDF, corr sqrt(t_i / t_j)."""
    t = np.asarray(fractions, dtype=float)
    cov = np.sqrt(np.minimum.outer(t, t) / np.maximum.outer(t, t))
    b = np.asarray(bounds, dtype=float)
    mvn = stats.multivariate_normal(mean=np.zeros(t.size), cov=cov, abseps=1e-9, releps=1e-9,
                                    maxpts=2_000_000)
    return mvn.cdf(b, lower_limit=-b, rng=np.random.default_rng(3))


@pytest.mark.parametrize("fractions, final", [([0.4, 0.7, 1.15], False),
                                               ([0.35, 0.85], True),
                                               ([0.5, 1.3], False)])
def test_final_critical_value_by_multivariate_normal(fractions, final):
    """The final look spends all the alpha left: P(no earlier crossing, cross at K) =
    alpha - alpha(t_{K-1}), i.e. P(no crossing at all) = 1 - alpha, checked by scipy's
    multivariate normal CDF with the correlations sqrt(t_i / t_j) of the actual fractions;
    the final boundary is solved here from scratch by Brent's method on that CDF."""
    design = boundaries(3, method="ld-obf")
    res = sequential_analysis(np.zeros(len(fractions)), fractions, design, final=final)
    assert res.final
    interim = res.critical_values[:-1]
    assert _mvn_two_sided_inside(res.critical_values, fractions) == pytest.approx(0.95, abs=2e-6)
    b_final = brentq(lambda b: _mvn_two_sided_inside(np.r_[interim, b], fractions) - 0.95,
                     1.0, 4.0, xtol=1e-9)
    assert res.critical_values[-1] == pytest.approx(b_final, abs=2e-5)
    # The interim boundaries spend the design's alpha(t) at the observed fractions.
    spent = alpha_spending(fractions[:-1], method="ld-obf")
    assert 1 - _mvn_two_sided_inside(interim, fractions[:-1]) == pytest.approx(spent[-1],
                                                                                abs=2e-6)


def test_final_critical_value_by_monte_carlo():
    """Brute force: 2,000,000 seeded streams with the last look at 1.2 times the plan; the
    crossing rate of the returned boundaries is alpha within 4.5 standard errors (0.0007)."""
    fractions = [0.25, 0.5, 0.75, 1.2]
    res = sequential_analysis(np.zeros(4), fractions, boundaries(4, method="ld-obf"))
    gen = np.random.default_rng(20261207)
    runs, hits = 2_000_000, 0
    for _ in range(4):
        steps = gen.standard_normal((runs // 4, 4)) * np.sqrt(np.diff(fractions, prepend=0))
        z = np.cumsum(steps, axis=1) / np.sqrt(fractions)
        hits += int((np.abs(z) >= res.critical_values).any(axis=1).sum())
    se = math.sqrt(0.05 * 0.95 / runs)
    assert abs(hits / runs - 0.05) <= 4.5 * se


@pytest.mark.parametrize("fractions, final", [([0.3, 0.6, 0.9, 1.15], False),
                                               ([0.3, 0.6, 0.85], True)])
def test_overrun_and_underrun_type_i_error_is_alpha(fractions, final):
    """Seeded simulation, 40,000 experiments under H0 (band +- 4.5 SE = +- 0.49 points, so a
    one-point miss is caught): the over-run (final t = 1.15) and the under-run (final t = 0.85,
    final=True) both reject in 5% of experiments. Without final=True the under-run spends only
    alpha(0.85) and its rate is measurably below 5%."""
    design = boundaries(4, method="ld-obf")
    runs = 40_000
    z = simulate_z_streams(runs, fractions, rng=np.random.default_rng(11))
    res = sequential_analysis(np.zeros(len(fractions)), fractions, design, final=final)
    rate = float((np.abs(z) >= res.critical_values).any(axis=1).mean())
    assert abs(rate - 0.05) <= 4.5 * math.sqrt(0.05 * 0.95 / runs)
    if final:
        short = sequential_analysis(np.zeros(3), fractions, design)
        assert not short.final
        low = float((np.abs(z) >= short.critical_values).any(axis=1).mean())
        assert low < 0.05 - 4.5 * math.sqrt(0.05 * 0.95 / runs)


def test_overrun_rules():
    """Fixed designs refuse over-runs and early ends; a fraction of 1 ends the experiment;
    final must be a bool; the over-run is bounded by MAX_OVERRUN."""
    obf = boundaries(3, method="obf")
    with pytest.raises(ValueError, match="fixes its looks in advance, over-runs included"):
        sequential_analysis([1.0, 1.0, 1.0], [1 / 3, 2 / 3, 1.1], obf)
    with pytest.raises(ValueError, match="final=True ends the experiment at look 2 of 3"):
        sequential_analysis([1.0, 1.0], [1 / 3, 2 / 3], obf, final=True)
    assert sequential_analysis([1.0, 1.0, 1.0], [1 / 3, 2 / 3, 1.0], obf, final=True).final
    with pytest.raises(TypeError, match="final must be True or False, got 1"):
        sequential_analysis([1.0], [0.5], boundaries(3, method="ld-obf"), final=1)
    with pytest.raises(ValueError, match=r"information_fractions must lie in \(0, 10\]"):
        sequential_analysis([1.0, 1.0], [0.5, 11.0], boundaries(3, method="ld-obf"))
    with pytest.raises(ValueError, match=r"at index 1 followed by 1 later look"):
        sequential_analysis([1.0, 1.0, 1.0], [0.5, 1.0, 1.2], boundaries(3, method="ld-obf"))
    # Planned looks without final keep the planned boundaries; t = 1 at the plan's last look
    # gives the same boundary as spending the rest.
    ld = boundaries(3, method="ld-pocock")
    res = sequential_analysis([0.0, 0.0, 0.0], [1 / 3, 2 / 3, 1.0], ld)
    np.testing.assert_allclose(res.critical_values, ld.critical_values, atol=1e-9)
    # Under-run of a one-sided hsd design: total alpha spent is alpha.
    one = boundaries(3, method="hsd", gamma=-4.0, alternative="larger")
    early = sequential_analysis([0.0, 0.0], [0.4, 0.8], one, final=True)
    up = crossing_probabilities(boundaries([0.4, 0.8], method="user", cumulative_alpha=[
        alpha_spending([0.4], method="hsd", gamma=-4.0, alternative="larger")[0], 0.05],
        alternative="larger"), 0.0).upper
    assert early.critical_values[-1] == pytest.approx(
        boundaries([0.4, 0.8], method="user", cumulative_alpha=[
            alpha_spending([0.4], method="hsd", gamma=-4.0, alternative="larger")[0], 0.05],
            alternative="larger").critical_values[-1], abs=1e-9)
    assert up.sum() == pytest.approx(0.05, abs=1e-9)


# --- replaying the rules on recorded streams -------------------------------------------------


def _null_streams(n_streams=40, n_looks=12, seed=8):
    """Normal-estimate streams under H0 with variance 1 / n (units of the final SE)."""
    gen = np.random.default_rng(seed)
    n = np.arange(1, n_looks + 1) * 100.0
    rows = []
    for s in range(n_streams):
        z = simulate_z_streams(1, n / n[-1], rng=gen)[0]
        variance = 1.0 / n
        rows.append(pd.DataFrame({"stream": f"s{s}", "time": np.arange(1.0, n_looks + 1),
                                  "n": n, "estimate": z * np.sqrt(variance),
                                  "variance": variance}))
    return pd.concat(rows, ignore_index=True)


def test_replay_streams_agrees_with_the_single_stream_functions():
    """Each rule of the replay equals the direct call: sequential_analysis at n / planned_max
    (the over-running look is the final analysis, later looks unused; an under-run ends with
    final=True), msprt over all looks, the fixed test at the last look."""
    looks = _null_streams()
    planned = {f"s{s}": 1200.0 * (0.7 + 0.02 * s) for s in range(40)}  # 0.84 to 1.62 of n_K
    table = replay_streams(looks, planned_max=planned, tau2=1e-3)
    design = boundaries(1, method="ld-obf")
    for label, rows in looks.groupby("stream"):
        z = (rows.estimate / np.sqrt(rows.variance)).to_numpy()
        t = rows.n.to_numpy() / planned[label]
        k = int(np.argmax(t >= 1)) + 1 if (t >= 1).any() else t.size
        gs = sequential_analysis(z[:k], t[:k], design, final=True)
        row = table.loc[label]
        assert row["final_fraction"] == pytest.approx(t[k - 1])
        assert row["gs"] == (int(np.sign(z[gs.stop_look - 1])) if gs.reject else 0)
        assert row["gs_look"] == gs.stop_look
        always = msprt(rows.estimate.to_numpy(), rows.variance.to_numpy(), tau2=1e-3)
        assert (row["msprt"] != 0) == bool(always.stop_look)
        assert row["fixed"] == (int(np.sign(z[-1])) if abs(z[-1]) >= stats.norm.isf(0.025) else 0)
        naive = np.abs(z) >= stats.norm.isf(0.025)
        assert (row["naive"] != 0) == naive.any()
    assert (table["gs"] != 0).sum() <= (table["naive"] != 0).sum()


def test_replay_streams_skips_counts_that_go_backwards():
    looks = pd.DataFrame({"stream": "x", "time": [1.0, 2.0, 3.0, 4.0], "n": [100, 250, 240, 400],
                          "estimate": [0.0, 0.01, 0.02, 0.01], "variance": [0.01, 0.004, 0.004, 0.0025]})
    row = replay_streams(looks, planned_max={"x": 500}, tau2=0.01).loc["x"]
    assert row["skipped"] == 1 and row["looks"] == 4 and row["final_fraction"] == 0.8


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(looks="table"), TypeError, "looks must be a pandas DataFrame"),
    (dict(looks=pd.DataFrame({"stream": ["a"]})), ValueError, "missing"),
    (dict(planned_max={"b": 1.0}), ValueError, "planned_max has no value for the stream 'a'"),
    (dict(planned_max={"a": -3.0}), ValueError, "planned_max must be finite and > 0"),
    (dict(planned_max={"a": 5.0}), ValueError, "planned_max must be at least 1/10"),
    (dict(tau2="big"), TypeError, "tau2 must be a number"),
    (dict(method="obf"), ValueError, "method"),
])
def test_replay_streams_checks_input(kwargs, error, match):
    valid = dict(looks=pd.DataFrame({"stream": "a", "time": [1.0, 2.0], "n": [100, 300],
                                     "estimate": [0.1, 0.2], "variance": [0.01, 0.004]}),
                 planned_max={"a": 300}, tau2=0.1)
    with pytest.raises(error, match=match):
        replay_streams(**{**valid, **kwargs})


# --- always-valid inference ------------------------------------------------------------------


def test_msprt_formula_at_one_look():
    """Lambda = sqrt(V / (V + tau2)) exp(tau2 (x - theta0)^2 / (2 V (V + tau2))) (Johari et
    al. 2022, eq. for the normal mixture) at one look, computed directly."""
    x, v, tau2 = 0.8, 0.09, 0.25
    res = msprt([x], [v], tau2=tau2, null=0.1)
    lam = math.sqrt(v / (v + tau2)) * math.exp(tau2 * 0.7**2 / (2 * v * (v + tau2)))
    assert res.likelihood_ratio[0] == pytest.approx(lam, rel=1e-13)
    assert res.pvalue[0] == pytest.approx(min(1, 1 / lam), rel=1e-13)
    half = math.sqrt(v * (v + tau2) / tau2 * (2 * math.log(20) + math.log((v + tau2) / v)))
    assert res.ci_low[0] == pytest.approx(x - half) and res.ci_high[0] == pytest.approx(x + half)


def test_msprt_duality_and_monotonicity():
    rng = np.random.default_rng(5)
    n = np.arange(1, 301) * 100.0
    v = 2 * 0.25 / n
    est = rng.normal(0.03, np.sqrt(v))
    res = msprt(est, v, tau2=0.02**2)
    assert np.all(np.diff(res.pvalue) <= 0) and np.all((res.pvalue >= 0) & (res.pvalue <= 1))
    outside = (res.ci_low > 0) | (res.ci_high < 0)
    np.testing.assert_array_equal(res.reject, outside)
    assert res.stop_look == (int(np.argmax(res.reject)) + 1 if res.reject.any() else 0)
    assert "always-valid" in res.explain()


def test_msprt_is_scale_free():
    """Multiplying estimates by c, variances and tau^2 by c^2 changes no p-value."""
    rng = np.random.default_rng(6)
    est, v = rng.normal(size=50), np.linspace(1, 0.02, 50)
    a = msprt(est, v, tau2=0.5)
    b = msprt(3 * est, 9 * v, tau2=4.5)
    np.testing.assert_allclose(a.pvalue, b.pvalue, rtol=1e-12)
    np.testing.assert_allclose(3 * a.ci_low, b.ci_low, rtol=1e-12)


def test_msprt_huge_evidence_gives_no_warning():
    res = msprt([50.0], [1e-4], tau2=1.0)
    assert res.pvalue[0] == 0.0 and np.isfinite(res.likelihood_ratio[0])


def test_msprt_type_i_error_under_continuous_monitoring():
    """Seeded: 16,000 null streams monitored at 500 looks, stopping at the first p <= 0.05:
    the rejection rate is at most alpha (Ville's inequality), within 4.5 standard errors."""
    n, k = 16_000, 500
    t = np.arange(1, k + 1) / k
    rejected = 0
    for seed in range(4):  # four blocks of 4,000 streams: 16 MB per array
        z = simulate_z_streams(n // 4, t, rng=120 + seed)
        res = msprt(z / np.sqrt(t), 1 / t, tau2=4.0)  # estimates and variances in drift units
        rejected += int(np.sum(res.stop_look > 0))
    rate = rejected / n
    assert rate <= 0.05 + band(0.05, n)
    assert rate > 0.005  # it does reject sometimes


def test_msprt_confidence_sequence_coverage():
    """Seeded: with a true effect of 1.5 (drift units) the running intersection of the
    confidence sequence still contains 1.5 after 500 looks in at least 95% of 16,000 streams
    (it covers the truth at every look simultaneously), within 4.5 standard errors."""
    n, k = 16_000, 500
    t = np.arange(1, k + 1) / k
    covered = 0
    for seed in range(4):
        z = simulate_z_streams(n // 4, t, drift=1.5, rng=130 + seed)
        res = msprt(z / np.sqrt(t), 1 / t, tau2=4.0)
        covered += int(np.sum((res.ci_low[:, -1] <= 1.5) & (res.ci_high[:, -1] >= 1.5)))
    assert covered / n >= 0.95 - band(0.05, n)


def test_msprt_power_price():
    """At the same maximum sample size the mSPRT detects a real effect less often than the
    fixed-sample test (the price of continuous validity), but it does detect it."""
    n, k, drift = 20_000, 200, 2.8
    t = np.arange(1, k + 1) / k
    z = simulate_z_streams(n, t, drift=drift, rng=13)
    res = msprt(z / np.sqrt(t), 1 / t, tau2=drift**2)
    power = float(np.mean(res.stop_look > 0))
    fixed = float(ndtr(drift - ndtri(0.975)))
    assert 0.3 < power < fixed - 0.1


# --- side by side ----------------------------------------------------------------------------


def test_compare_designs_table():
    n = 60_000
    df = compare_designs(n, 10, drift=2.8, rng=21)
    assert isinstance(df, pd.DataFrame)
    assert df["design"].tolist() == ["fixed", "naive peeking", "pocock", "obf", "ld-obf", "msprt"]
    row = df.set_index("design")
    for name in ("fixed", "pocock", "obf", "ld-obf"):
        assert abs(row.loc[name, "type_i_error"] - 0.05) <= band(0.05, n), name
    naive = peeking_false_positive_rate(10)
    assert abs(row.loc["naive peeking", "type_i_error"] - naive) <= band(naive, n)
    assert row.loc["msprt", "type_i_error"] <= 0.05 + band(0.05, n)
    fixed_power = float(ndtr(2.8 - ndtri(0.975)))
    assert abs(row.loc["fixed", "power"] - fixed_power) <= band(fixed_power, n)
    for name in ("pocock", "obf", "ld-obf"):
        d = boundaries(10, method=name)
        exact = crossing_probabilities(d, 2.8)
        assert abs(row.loc[name, "power"] - exact.upper.sum()) <= band(0.8, n), name
        assert row.loc[name, "expected_n_h1"] < 1.0
        assert abs(row.loc[name, "expected_n_h1"] - exact.expected_fraction) < 0.01
    assert row.loc["fixed", "expected_n_h0"] == 1.0
    assert row.loc["msprt", "power"] < row.loc["obf", "power"] < row.loc["fixed", "power"]
    assert not df.isna().any().any()


@pytest.mark.slow
def test_compare_designs_daily_looks():
    """365 daily looks: naive peeking near 47%, the group-sequential designs at alpha."""
    n = 40_000
    df = compare_designs(n, 365, drift=2.8, rng=22).set_index("design")
    naive = peeking_false_positive_rate(365)
    assert abs(df.loc["naive peeking", "type_i_error"] - naive) <= band(naive, n)
    for name in ("pocock", "obf", "ld-obf"):
        assert abs(df.loc[name, "type_i_error"] - 0.05) <= band(0.05, n)
    assert df.loc["msprt", "type_i_error"] <= 0.05 + band(0.05, n)


@pytest.mark.slow
@pytest.mark.parametrize("method", ("pocock", "obf", "ld-obf", "hsd"))
def test_type_i_error_many_looks_by_simulation(method):
    """Seeded, 100 looks, 300,000 paths: type I error within 4.5 standard errors of alpha."""
    n = 300_000
    d = design(100, method)
    hits = 0
    for seed in range(3):
        z = simulate_z_streams(n // 3, 100, rng=100 + seed)
        hits += int((np.abs(z) >= d.critical_values).any(axis=1).sum())
    assert abs(hits / n - 0.05) <= band(0.05, n)


# --- records ---------------------------------------------------------------------------------


def test_records_and_explain():
    d = boundaries(5, method="ld-obf")
    assert isinstance(d, GroupSequentialDesign) and d.n_looks == 5
    text = repr(d)
    assert "critical_values=[4.87688, 3.35701, 2.68028, 2.28982, 2.03103]" in text
    explanation = d.explain()
    assert "0.025 per side" in explanation and "2.2414" in explanation
    assert "Jennison & Turnbull" in explanation
    for method in METHODS:
        assert design(3, method).explain()
    ch = design_characteristics(d, power=0.9)
    assert isinstance(ch, DesignCharacteristics) and "n_fixed" in ch.explain()
    assert "design=" not in repr(ch)
    cp = crossing_probabilities(d, 1.0)
    assert isinstance(cp, CrossingProbabilities) and isinstance(cp.total, float)
    res = msprt([0.1, 0.2], [0.01, 0.005], tau2=0.01)
    assert isinstance(res, MixtureSPRT) and isinstance(res.stop_look, int)
    many = msprt(np.zeros((3, 4)), 1.0, tau2=1.0)
    assert many.stop_look.shape == (3,) and "3 streams" in many.explain()
    assert "one-sided" in boundaries(3, alternative="larger").explain().lower()


def test_doctest_values():
    assert round(design_characteristics(boundaries(5, method="obf"), power=0.9)
                 .inflation_factor, 3) == 1.026
    assert alpha_spending([0.5, 1.0], method="ld-pocock").round(5).tolist() == [0.03101, 0.05]


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("looks, error, text", [
    (0, ValueError, "looks must be >= 1, got 0"),
    (-3, ValueError, "looks"),
    (2.5, TypeError, "looks"),
    (True, TypeError, "looks"),
    ("5", TypeError, "looks"),
    ([], ValueError, "looks must not be empty"),
    ([0.5, 0.4], ValueError, "strictly increasing, got 0.5 then 0.4"),
    ([0.0, 0.5], ValueError, "must lie in (0, 1], got 0.0"),
    ([0.5, 1.2], ValueError, "must lie in (0, 1], got 1.2"),
    ([[0.5, 1.0]], ValueError, "1-D"),
    ([0.5, np.nan], ValueError, "looks must be finite"),
    ([0.5, 0.5000001], ValueError, "at least 1e-06"),
    (1001, ValueError, "at most 1000"),
])
def test_bad_looks(looks, error, text):
    with pytest.raises(error) as info:
        boundaries(looks)
    assert text in str(info.value)


def test_bad_design_arguments():
    cases = [
        (dict(alpha=0), ValueError, "alpha must be in (0, 1), got 0"),
        (dict(alpha=1.0), ValueError, "alpha"),
        (dict(alpha="0.05"), TypeError, "alpha"),
        (dict(alpha=[0.05, 0.1]), ValueError, "alpha must be a single number"),
        (dict(method="wald"), ValueError, "method must be one of"),
        (dict(method="hsd"), ValueError, "method='hsd' needs gamma"),
        (dict(method="power"), ValueError, "method='power' needs rho"),
        (dict(method="power", rho=-1), ValueError, "rho must be > 0, got -1"),
        (dict(method="hsd", gamma=100), ValueError, "gamma must be in [-40, 40], got 100"),
        (dict(method="obf", gamma=1), ValueError, "gamma is only used with method='hsd'"),
        (dict(method="user"), ValueError, "needs cumulative_alpha"),
        (dict(method="user", cumulative_alpha=[0.01, 0.005, 0.05]), ValueError,
         "cumulative_alpha must be non-decreasing, got 0.01 then 0.005"),
        (dict(method="user", cumulative_alpha=[0.01, 0.02, 0.06]), ValueError,
         "cumulative_alpha must lie in [0, alpha = 0.05], got 0.06"),
        (dict(method="user", cumulative_alpha=[0.01, 0.05]), ValueError,
         "one value per look (3)"),
        (dict(alternative="lower"), ValueError, "alternative must be one of"),
    ]
    for kwargs, error, text in cases:
        with pytest.raises(error) as info:
            boundaries(3, **kwargs)
        assert text in str(info.value), kwargs


@pytest.mark.parametrize("call, error, text", [
    (lambda: boundaries(5, alpha=1e-13), ValueError,
     "alpha must be >= 1e-12 for a group-sequential design"),
    (lambda: boundaries(5, method="pocock", alpha=1e-320), ValueError, "alpha must be >= 1e-"),
    (lambda: compare_designs(10, 5, drift=2.8, alpha=1e-320, rng=1), ValueError,
     "alpha must be >= 1e-"),
    (lambda: crossing_probabilities(boundaries(3), 1e7), ValueError,
     "drift must be in [-1e+06, 1e+06]"),
    (lambda: crossing_probabilities(boundaries(3), [0.0, -1e200]), ValueError,
     "got -1e+200 (at index 1)"),
    (lambda: simulate_z_streams(10, 5, drift=1e308, rng=1), ValueError, "drift must be in"),
    (lambda: simulate_peeking(10, 5, drift=-1e200, rng=1), ValueError, "drift must be in"),
    (lambda: simulate_peeking(10**9, 5, rng=1), ValueError,
     "n_experiments * n_looks = 5,000,000,000 numbers is too large"),
    (lambda: simulate_peeking(10, 1001, rng=1), ValueError, "n_looks must be <= 1,000, got 1001"),
    (lambda: simulate_peeking(10, True, rng=1), TypeError, "n_looks must be an integer"),
    (lambda: compare_designs(10**9, 5, drift=2.8, rng=1), ValueError,
     "12 * n_experiments * looks (6 rules, 2 scenarios) = 60,000,000,000 numbers is too large"),
    (lambda: compare_designs(10, 5, drift=1e200, rng=1), ValueError, "drift must be in"),
    (lambda: compare_designs(10, 5, drift=1e-200, rng=1), ValueError,
     "drift = 1e-200 is too small for the default tau2 = drift**2"),
    (lambda: compare_designs(10, 5, drift="2.8", rng=1), TypeError, "drift must be a number"),
])
def test_hostile_arguments_are_refused(call, error, text):
    with pytest.raises(error) as info:
        call()
    assert text in str(info.value)


@pytest.mark.parametrize("method", ("pocock", "obf", "ld-obf"))
@pytest.mark.parametrize("alpha", (1e-6, 1e-12))
def test_one_look_at_a_tiny_alpha_is_the_fixed_test(method, alpha):
    """One look spends all of alpha: b = z_(1 - alpha/2), here from scipy's tail quantile
    (1 - alpha/2 rounded in floating point would lose 5 digits of alpha at 1e-12)."""
    d = boundaries(1, method=method, alpha=alpha)
    assert d.critical_values[0] == pytest.approx(stats.norm.isf(alpha / 2), rel=1e-9)


def test_extreme_drifts_give_certain_crossing():
    d = boundaries(5)
    cp = crossing_probabilities(d, [1e6, -1e6])
    np.testing.assert_allclose(cp.upper[:, 0], [1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(cp.lower[:, 0], [0.0, 1.0], atol=1e-12)
    assert not np.isnan(cp.expected_fraction).any()


def test_bad_other_arguments():
    d = boundaries(3)
    with pytest.raises(ValueError, match="power must be in"):
        design_characteristics(d, power=1.0)
    with pytest.raises(ValueError, match="power must exceed"):
        design_characteristics(d, power=0.01)
    with pytest.raises(ValueError, match="cannot be reached"):
        design_characteristics(boundaries(2, method="user", cumulative_alpha=[0, 0]), power=0.8)
    with pytest.raises(ValueError, match="drift must be finite"):
        crossing_probabilities(d, np.inf)
    with pytest.raises(ValueError, match="drift must be a number or a 1-D array"):
        crossing_probabilities(d, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="variances must be > 0"):
        msprt([1.0], [0.0], tau2=1.0)
    with pytest.raises(ValueError, match="tau2 must be > 0"):
        msprt([1.0], [1.0], tau2=0.0)
    with pytest.raises(ValueError, match="estimates has shape \\(3,\\), variances has shape"):
        msprt([1.0, 2.0, 3.0], [1.0, 2.0], tau2=1.0)
    with pytest.raises(TypeError, match="rng"):
        simulate_peeking(10, 5, rng=None)
    with pytest.raises(ValueError, match="n_looks must be >= 1"):
        simulate_peeking(10, 0, rng=1)
    with pytest.raises(ValueError, match="at most 20,000,000"):
        simulate_z_streams(10_000_000, 5, rng=1)
    with pytest.raises(ValueError, match="drift must be > 0"):
        compare_designs(10, 5, drift=0.0, rng=1)
    with pytest.raises(ValueError, match="convention must be one of"):
        alpha_spending([1.0], convention="total")
    with pytest.raises(ValueError, match="method must be one of"):
        alpha_spending([1.0], method="user")


# --- fuzz ------------------------------------------------------------------------------------

fractions = st.lists(st.floats(0.01, 1.0), min_size=1, max_size=8, unique=True).map(sorted)
fractions = fractions.filter(lambda t: len(t) == 1 or min(np.diff(t)) > 1e-3)
looks_strategy = st.one_of(st.integers(1, 25), fractions)


@settings(max_examples=60)
@given(looks=looks_strategy, alpha=st.floats(0.001, 0.5), method=st.sampled_from(METHODS),
       gamma=st.floats(-10, 10), rho=st.floats(0.3, 6),
       alternative=st.sampled_from(("two-sided", "larger", "smaller")))
def test_fuzz_valid_designs(looks, alpha, method, gamma, rho, alternative):
    t = _check_looks(looks)
    extra = {"hsd": {"gamma": gamma}, "power": {"rho": rho},
             "user": {"cumulative_alpha": alpha * t**2}}.get(method, {})
    d = boundaries(looks, alpha=alpha, method=method, alternative=alternative, **extra)
    assert not np.isnan(d.critical_values).any()
    if alternative == "two-sided":
        assert np.all(d.critical_values > 0)
    assert np.all((d.cumulative_alpha >= 0) & (d.cumulative_alpha <= alpha + 1e-9))
    assert np.all(np.diff(d.cumulative_alpha) >= -1e-15)
    cp = crossing_probabilities(d, 2.0)
    assert 0.0 <= cp.total <= 1.0 and not np.isnan(cp.upper).any()
    assert t[0] - 1e-12 <= cp.expected_fraction <= t[-1] + 1e-12


bad_values = st.one_of(st.none(), st.text(max_size=3), st.booleans(),
                       st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 5),
                       st.lists(st.floats(-2, 2), max_size=3))


@settings(max_examples=80)
@given(looks=bad_values, alpha=bad_values)
def test_fuzz_bad_input_names_the_argument(looks, alpha):
    try:
        boundaries(looks, alpha=alpha)
    except (ValueError, TypeError) as exc:
        assert "looks" in str(exc) or "alpha" in str(exc)


@settings(max_examples=60)
@given(estimates=st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=6),
       variance=st.floats(1e-6, 1e3), tau2=st.floats(1e-6, 1e3), alpha=st.floats(1e-4, 0.5))
def test_fuzz_msprt_never_nan(estimates, variance, tau2, alpha):
    res = msprt(estimates, variance, tau2=tau2, alpha=alpha)
    for field in (res.pvalue, res.ci_low, res.ci_high, res.likelihood_ratio):
        assert not np.isnan(field).any()
    assert np.all((res.pvalue >= 0) & (res.pvalue <= 1))


@settings(max_examples=40)
@given(tau2=bad_values, variances=bad_values)
def test_fuzz_msprt_bad_input(tau2, variances):
    try:
        msprt([0.1], variances, tau2=tau2)
    except (ValueError, TypeError) as exc:
        assert "tau2" in str(exc) or "variances" in str(exc)


# Every public function, one argument at a time replaced by a hostile value: only a ValueError
# or TypeError that names the argument, no NaN, no numpy warning, nothing that runs away.
HOSTILE = st.sampled_from([
    None, "abc", "", True, np.bool_(False), np.nan, np.inf, -np.inf, 1e308, -1e308, 0, -1, 0.0,
    5e-324, 10**12, 10**30, -10**30, [], [[1.0]], [np.nan], [0.05, 0.1], {"a": 1}, complex(1, 1),
    object(),
])
DESIGN = boundaries(3)
PUBLIC = {
    "alpha_spending": (alpha_spending, dict(
        information_fractions=[0.5, 1.0], alpha=0.05, method="hsd", gamma=-4.0,
        alternative="two-sided", convention="per-side")),
    "boundaries": (boundaries, dict(looks=3, alpha=0.05, method="power", rho=2.0,
                                    alternative="larger")),
    "boundaries_user": (boundaries, dict(looks=2, alpha=0.05, method="user",
                                         cumulative_alpha=[0.01, 0.05])),
    "crossing_probabilities": (crossing_probabilities, dict(design=DESIGN, drift=2.0)),
    "design_characteristics": (design_characteristics, dict(design=DESIGN, power=0.8)),
    "peeking_false_positive_rate": (peeking_false_positive_rate, dict(looks=5, alpha=0.05)),
    "simulate_z_streams": (simulate_z_streams, dict(n_experiments=10, looks=5, drift=1.0,
                                                    rng=1)),
    "simulate_peeking": (simulate_peeking, dict(n_experiments=100, n_looks=5, alpha=0.05,
                                                rng=1, drift=0.5)),
    "sequential_analysis": (sequential_analysis, dict(
        z_values=[1.0, 2.0], information_fractions=[1 / 3, 2 / 3], design=DESIGN,
        final=False)),
    "msprt": (msprt, dict(estimates=[0.1, 0.2], variances=[0.01, 0.005], tau2=0.01,
                          alpha=0.05, null=0.0)),
    "compare_designs": (compare_designs, dict(n_experiments=50, looks=3, drift=2.8, alpha=0.05,
                                              tau2=1.0, rng=1)),
}
# A changed argument can make another one wrong: then the error names that one.
RELATED = {("boundaries_user", "looks"): "cumulative_alpha",
           ("sequential_analysis", "information_fractions"): "z_values"}


def assert_finite_record(result) -> None:
    values = vars(result).values() if hasattr(result, "__dataclass_fields__") else [result]
    for value in values:
        if isinstance(value, pd.DataFrame):
            value = value.select_dtypes("number").to_numpy()
        if isinstance(value, (float, np.ndarray)) and np.asarray(value).dtype.kind == "f":
            assert not np.isnan(value).any()


@pytest.mark.parametrize("label", list(PUBLIC))
@settings(max_examples=30)
@given(data=st.data())
def test_fuzz_every_public_function_one_bad_argument(label, data):
    func, valid = PUBLIC[label]
    name = data.draw(st.sampled_from(sorted(valid)), label="argument")
    kwargs = dict(valid, **{name: data.draw(HOSTILE, label="value")})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            result = func(**kwargs)
        except (ValueError, TypeError) as exc:
            assert name in str(exc) or RELATED.get((label, name), "?") in str(exc), str(exc)
        else:
            assert_finite_record(result)
            if hasattr(result, "explain"):
                result.explain()


def test_look_count_mismatch_names_both_arguments():
    # found by tests/test_fuzz_public.py: the message named z_values only
    design = boundaries(3, method="obf")
    with pytest.raises(ValueError, match="z_values and information_fractions must be 1-D with "
                       r"one value per look each, got z_values of shape \(3,\) and 1 "
                       "information_fractions"):
        sequential_analysis([1.0, 2.0, 2.5], [0.99], design)


def test_decide_treats_a_declared_final_analysis_as_the_end():
    """An under-run declared final (final=True at t = 0.85) ends the plan: decide() must not
    say "keep running" (it did while only the planned last fraction counted)."""
    from abteach.decision import decide
    from abteach.inference import ztest_proportions

    design = boundaries(3, method="ld-obf")
    ended = sequential_analysis([0.4, 0.8, 1.1], [0.3, 0.6, 0.85], design, final=True)
    running = sequential_analysis([0.4, 0.8, 1.1], [0.3, 0.6, 0.85], design)
    primary = ztest_proportions(500, 10_000, 510, 10_000)
    assert decide(primary, sequential=ended).verdict == "do not ship"
    assert decide(primary, sequential=running).verdict == "keep running"
