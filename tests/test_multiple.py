"""Tests of abteach.multiple: adjusted p-values, FWER and FDR, A/B/n simulations."""

from __future__ import annotations

import gc
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats
from statsmodels.stats.multitest import multipletests

import published
from abteach.multiple import (
    METHODS,
    ErrorRates,
    MultipleTests,
    adjust_pvalues,
    error_rates,
    multiple_tests,
    simulate_many_variants,
    simulate_pvalues,
)
from abteach.power import power_proportions

STATSMODELS = {
    "bonferroni": "bonferroni",
    "holm": "holm",
    "hochberg": "simes-hochberg",
    "bh": "fdr_bh",
    "by": "fdr_by",
}


@pytest.fixture
def fast_statsmodels(monkeypatch):
    """statsmodels' Holm branch calls gc.collect() on every call (about 0.15 s here); the
    comparison loops make hundreds of calls, so they skip the collection."""
    monkeypatch.setattr(gc, "collect", lambda *args: 0)


def band(rate: float, runs: int, width: float = 4.5) -> float:
    """Half-width of a binomial tolerance band: `width` standard errors of a rate over `runs`.

    Also used for the FDR, the mean of V / max(R, 1) in [0, 1]: a variable in [0, 1] with
    mean f has variance at most f (1 - f), so the band is conservative there.
    """
    return width * np.sqrt(rate * (1 - rate) / runs)


# --- published values ---------------------------------------------------------------------

BH_1995 = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240,
           0.4262, 0.5719, 0.6528, 0.7590, 1.000]


def test_benjamini_hochberg_1995_example():
    """Benjamini & Hochberg (1995), section 4: the 15 p-values of their example, q = 0.05.

    Published (published_numbers.md, MT01): BH rejects 4 hypotheses, Bonferroni 3; the
    BH-adjusted p-values of the 4th and 5th smallest are 0.035625 and 0.0603.
    """
    bh = multiple_tests(BH_1995, method="bh", alpha=0.05)
    bonferroni = multiple_tests(BH_1995, method="bonferroni", alpha=0.05)
    assert published.matches(bh.n_rejected, "MT01", "Benjamini-Hochberg")
    assert published.matches(bonferroni.n_rejected, "MT01", "Bonferroni")
    assert bh.reject.tolist() == [True] * 4 + [False] * 11
    assert published.matches(bh.adjusted[3], "MT01", "4th smallest")
    assert published.matches(bh.adjusted[4], "MT01", "5th smallest")
    scipy = stats.false_discovery_control(BH_1995, method="bh")
    assert published.matches(scipy[3], "MT01", "4th smallest")
    assert published.matches(scipy[4], "MT01", "5th smallest")
    assert BH_1995 == published.arguments("MT01")[0][0][0]  # the file's 15 p-values


def test_benjamini_hochberg_1995_example_shuffled():
    """The same example in a shuffled order: the answer follows the hypotheses."""
    order = np.random.default_rng(3).permutation(len(BH_1995))
    shuffled = np.array(BH_1995)[order]
    res = multiple_tests(shuffled, method="bh")
    assert published.matches(res.adjusted[np.argsort(order)][3], "MT01", "4th smallest")
    assert sorted(shuffled[res.reject]) == BH_1995[:4]


# --- independent implementation: statsmodels ----------------------------------------------


def random_families(seed: int, count: int):
    """Random families of 1 to 60 p-values; some rounded (ties), some with 0s and 1s."""
    rng = np.random.default_rng(seed)
    families = []
    for i in range(count):
        m = int(rng.integers(1, 61))
        p = rng.beta(0.4, 1.0, size=m)  # many small p-values, as in real families
        if i % 3 == 0:
            p = np.round(p, 2)  # ties
        if i % 7 == 0:
            p[: m // 4] = 0.0
            p[-1] = 1.0
        families.append(p)
    return families


@pytest.mark.parametrize("method", METHODS)
def test_adjusted_pvalues_match_statsmodels(method, fast_statsmodels):
    for p in random_families(21, 300):
        _, expected, _, _ = multipletests(p, method=STATSMODELS[method])
        assert adjust_pvalues(p, method) == pytest.approx(expected, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.1, 0.25])
def test_rejections_match_statsmodels(method, alpha, fast_statsmodels):
    for p in random_families(22, 200):
        expected, _, _, _ = multipletests(p, alpha=alpha, method=STATSMODELS[method])
        assert multiple_tests(p, method=method, alpha=alpha).reject.tolist() == expected.tolist()


@pytest.mark.parametrize("method", METHODS)
def test_matrix_input_adjusts_each_row(method, fast_statsmodels):
    """A 2-D array is one family per row, as statsmodels applied row by row."""
    p = np.random.default_rng(23).uniform(size=(50, 12)) ** 2
    p[::5] = np.round(p[::5], 1)
    res = multiple_tests(p, method=method)
    for row in range(p.shape[0]):
        reject, expected, _, _ = multipletests(p[row], method=STATSMODELS[method])
        assert res.adjusted[row] == pytest.approx(expected, rel=1e-12, abs=1e-15)
        assert res.reject[row].tolist() == reject.tolist()
    assert res.n_rejected.tolist() == res.reject.sum(axis=1).tolist()


# --- properties ---------------------------------------------------------------------------

families = hnp.arrays(
    np.float64, st.integers(1, 40),
    elements=st.one_of(st.floats(0, 1), st.sampled_from([0.0, 0.01, 0.05, 1.0])),
)


@settings(max_examples=300)
@given(p=families)
def test_adjusted_pvalues_are_ordered_between_procedures(p):
    """p <= BH <= Hochberg <= Holm <= Bonferroni <= 1 and BH <= BY, hypothesis by hypothesis
    (m / j <= m - j + 1 for 1 <= j <= m; step-up <= step-down)."""
    adj = {method: adjust_pvalues(p, method) for method in METHODS}
    tol = 1e-12
    assert np.all(p <= adj["bh"] + tol)
    assert np.all(adj["bh"] <= adj["hochberg"] + tol)
    assert np.all(adj["hochberg"] <= adj["holm"] + tol)
    assert np.all(adj["holm"] <= adj["bonferroni"] + tol)
    assert np.all(adj["bh"] <= adj["by"] + tol)
    for values in adj.values():
        assert np.all((values >= 0) & (values <= 1))


@settings(max_examples=300)
@given(p=families, method=st.sampled_from(METHODS), seed=st.integers(0, 2**32 - 1))
def test_adjustment_follows_the_hypotheses_and_keeps_their_order(p, method, seed):
    adjusted = adjust_pvalues(p, method)
    order = np.random.default_rng(seed).permutation(p.size)
    assert adjust_pvalues(p[order], method).tolist() == adjusted[order].tolist()
    smaller = p[:, None] <= p[None, :]
    assert np.all(adjusted[:, None] <= adjusted[None, :], where=smaller)
    equal = p[:, None] == p[None, :]
    assert np.all(adjusted[:, None] == adjusted[None, :], where=equal)  # ties


@pytest.mark.parametrize("method", METHODS)
def test_a_single_hypothesis_is_not_adjusted(method):
    assert adjust_pvalues([0.03], method).tolist() == [0.03]


def test_holm_rejects_what_bonferroni_rejects_and_more():
    p = [0.001, 0.013, 0.02, 0.6]  # 4 x 0.013 > 0.05 but 3 x 0.013 <= 0.05
    assert multiple_tests(p, method="bonferroni").n_rejected == 1
    assert multiple_tests(p, method="holm").n_rejected == 3  # 0.02 * 2 = 0.04
    assert multiple_tests(p, method="hochberg").n_rejected == 3


def test_hochberg_steps_up_past_a_large_pvalue():
    """All p-values at 0.04 < 0.05: Holm stops at the first step, Hochberg rejects all."""
    p = [0.04, 0.04, 0.04]
    assert multiple_tests(p, method="holm").n_rejected == 0
    assert multiple_tests(p, method="hochberg").n_rejected == 3
    assert multiple_tests(p, method="bh").n_rejected == 3


def test_by_constant_is_the_harmonic_number():
    """BY multiplies BH by c(m) = 1 + 1/2 + ... + 1/m (Benjamini & Yekutieli 2001)."""
    p = np.array([0.001, 0.002, 0.003, 0.004])
    c = 1 + 1 / 2 + 1 / 3 + 1 / 4
    assert adjust_pvalues(p, "by") == pytest.approx(np.minimum(adjust_pvalues(p, "bh") * c, 1))


def test_adjusted_pvalues_are_capped_at_one():
    assert adjust_pvalues([0.5, 0.9], "bonferroni").tolist() == [1.0, 1.0]
    assert adjust_pvalues([0.5, 0.9], "holm").tolist() == [1.0, 1.0]


def test_rejection_at_the_boundary_is_inclusive():
    """H_i is rejected when its adjusted p-value equals alpha (<=, as in B&H's step-up rule)."""
    assert multiple_tests([0.025, 0.5], method="bonferroni", alpha=0.05).n_rejected == 1


# --- seeded simulations -------------------------------------------------------------------

RUNS = 20_000
SLOW_RUNS = 400_000


def rates(p, is_null, method, alpha=0.05):
    return error_rates(multiple_tests(p, method=method, alpha=alpha).reject, is_null)


def test_uncorrected_fwer_of_independent_tests():
    """Under the global null, testing m = 20 metrics at 5% each gives FWER 1 - 0.95^20."""
    p = simulate_pvalues(np.zeros(20), n_experiments=RUNS, rng=31)
    fwer = float(np.mean((p <= 0.05).any(axis=1)))
    expected = 1 - 0.95**20
    assert abs(fwer - expected) < band(expected, RUNS)


@pytest.mark.parametrize("method", ["bonferroni", "holm"])
def test_bonferroni_and_holm_fwer_is_exact_under_the_global_null(method):
    """Both reject something iff min p <= alpha / m: FWER = 1 - (1 - alpha/m)^m exactly for
    independent continuous p-values."""
    m = 10
    res = rates(simulate_pvalues(np.zeros(m), n_experiments=RUNS, rng=32), True, method)
    expected = 1 - (1 - 0.05 / m) ** m
    assert abs(res.fwer - expected) < band(expected, RUNS)
    assert res.power is None


def test_bh_under_the_global_null_is_simes_test_at_level_alpha():
    """With all nulls true, FDR = FWER = P(some p_(i) <= i q / m) = q exactly (Simes 1986)."""
    res = rates(simulate_pvalues(np.zeros(10), n_experiments=RUNS, rng=33), True, "bh")
    assert res.fdr == res.fwer
    assert abs(res.fwer - 0.05) < band(0.05, RUNS)


def mixed_effects(m: int, m1: int, effect: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    effects = np.r_[np.full(m1, effect), np.zeros(m - m1)]
    return effects, effects == 0


@pytest.mark.parametrize("method", ["bonferroni", "holm", "hochberg"])
@pytest.mark.parametrize("correlation", [0.0, 0.5])
def test_fwer_is_controlled_with_some_real_effects(method, correlation):
    """m = 10, 4 real effects; one-sided tests ("larger") on positively correlated statistics
    are PRDS, where Hochberg is valid too."""
    effects, is_null = mixed_effects(10, 4)
    p = simulate_pvalues(effects, n_experiments=RUNS, rng=34, correlation=correlation,
                         alternative="larger")
    res = rates(p, is_null, method)
    assert res.fwer <= 0.05 + band(0.05, RUNS)
    assert res.power > 0.3  # the procedures do find the real effects


def test_bh_fdr_equals_m0_q_over_m_under_independence():
    """Benjamini & Hochberg (1995), theorem 1 (equality for independent continuous tests,
    Benjamini & Yekutieli 2001): FDR = m0 q / m. Here m = 20, m0 = 15, q = 0.1: 0.075."""
    effects, is_null = mixed_effects(20, 5)
    p = simulate_pvalues(effects, n_experiments=RUNS, rng=35)
    res = rates(p, is_null, "bh", alpha=0.1)
    assert abs(res.fdr - 0.075) < band(0.075, RUNS)
    assert res.fwer > 0.1  # FDR control is not FWER control


def test_bh_controls_fdr_under_positive_dependence():
    """One-sided tests on equicorrelated normal statistics (rho = 0.6) are PRDS
    (Benjamini & Yekutieli 2001, section 3.1): FDR <= m0 q / m."""
    effects, is_null = mixed_effects(20, 5)
    p = simulate_pvalues(effects, n_experiments=RUNS, rng=36, correlation=0.6,
                         alternative="larger")
    res = rates(p, is_null, "bh", alpha=0.1)
    assert res.fdr <= 0.075 + band(0.075, RUNS)


def negatively_dependent_pvalues(runs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of one-sided tests on Z and -Z (correlation -1), 8 null pairs, plus 4 real effects."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((runs, 8))
    nulls = np.concatenate([stats.norm.sf(z), stats.norm.sf(-z)], axis=1)
    real = stats.norm.sf(3.0 + rng.standard_normal((runs, 4)))
    p = np.concatenate([nulls, real], axis=1)
    return p, np.r_[np.ones(16, bool), np.zeros(4, bool)]


def test_by_controls_fdr_under_negative_dependence():
    """BY: FDR <= m0 q / m under ANY dependence (Benjamini & Yekutieli 2001, theorem 1.3).
    Here m = 20, m0 = 16, q = 0.1: at most 0.08, with perfectly negatively correlated pairs."""
    p, is_null = negatively_dependent_pvalues(RUNS, 37)
    res = rates(p, is_null, "by", alpha=0.1)
    assert res.fdr <= 0.08 + band(0.08, RUNS)
    independent = rates(simulate_pvalues(np.r_[np.zeros(16), np.full(4, 3.0)],
                                         n_experiments=RUNS, rng=38), is_null, "by", alpha=0.1)
    assert independent.fdr <= 0.08 + band(0.08, RUNS)


@pytest.mark.slow
@pytest.mark.parametrize("method", METHODS)
def test_error_rates_slow(method):
    """Every method, 400,000 families, m = 8 with 3 real effects, independent two-sided tests:
    FWER <= alpha for the FWER methods, FDR <= m0 q / m for the FDR methods."""
    effects, is_null = mixed_effects(8, 3, effect=2.5)
    p = simulate_pvalues(effects, n_experiments=SLOW_RUNS, rng=39)
    res = rates(p, is_null, method)
    if method in ("bh", "by"):
        bound = 0.05 * 5 / 8
        assert res.fdr <= bound + band(bound, SLOW_RUNS)
        if method == "bh":
            assert abs(res.fdr - bound) < band(bound, SLOW_RUNS)
    else:
        assert res.fwer <= 0.05 + band(0.05, SLOW_RUNS)


# --- several variants against one control -------------------------------------------------


def test_many_null_variants_inflate_the_fwer_as_the_correlated_normal_predicts():
    """k = 4 null variants against a shared control, equal arms: the z statistics are
    correlated 1/2, so the uncorrected FWER is 1 - P(all |Z_j| < 1.96) under a multivariate
    normal with correlation 1/2 (computed by scipy, independently of the simulation)."""
    k = 4
    sim = simulate_many_variants(0.1, [0.1] * k, 5000, 5000, n_experiments=RUNS, rng=41)
    z = stats.norm.isf(0.025)
    cov = np.full((k, k), 0.5) + 0.5 * np.eye(k)
    expected = 1 - stats.multivariate_normal(np.zeros(k), cov).cdf(
        np.full(k, z), lower_limit=np.full(k, -z)
    )
    fwer = float(np.mean((sim.pvalues < 0.05).any(axis=1)))
    assert abs(fwer - expected) < band(expected, RUNS)
    assert expected < 1 - 0.95**k  # positive correlation: less than independent tests
    for method in ("bonferroni", "holm", "hochberg"):
        assert rates(sim.pvalues, True, method).fwer <= 0.05 + band(0.05, RUNS)


def test_many_variants_shape_and_pairwise_correlation():
    sim = simulate_many_variants(0.2, [0.2, 0.2, 0.22], 2000, 1000, n_experiments=RUNS, rng=42)
    assert sim.x_control.shape == (RUNS,) and sim.x_variants.shape == sim.pvalues.shape
    assert sim.pvalues.shape == (RUNS, 3) and (sim.n_control, sim.n_variant) == (2000, 1000)
    # z statistics of the two null variants: correlation (1/n_c) / (1/n_c + 1/n_v) = 1/3
    p_c = sim.x_control / 2000
    z = (sim.x_variants[:, :2] / 1000 - p_c[:, None]) / np.sqrt(0.16 * (1 / 2000 + 1 / 1000))
    r = np.corrcoef(z.T)[0, 1]
    assert abs(r - 1 / 3) < 4.5 * (1 - (1 / 3) ** 2) / np.sqrt(RUNS)
    # the real effect (0.20 vs 0.22) is found as often as R's power.prop.test formula says
    expected = power_proportions(0.2, 0.22, 2000, ratio=0.5)
    assert abs(np.mean(sim.pvalues[:, 2] < 0.05) - expected) < band(expected, RUNS)


def test_simulations_are_reproducible():
    a = simulate_pvalues([0, 1, 2], n_experiments=5, rng=7)
    b = simulate_pvalues([0, 1, 2], n_experiments=5, rng=np.random.default_rng(7))
    assert a.tolist() == b.tolist()
    c = simulate_many_variants(0.1, [0.1, 0.2], 100, 100, n_experiments=5, rng=8)
    d = simulate_many_variants(0.1, [0.1, 0.2], 100, 100, n_experiments=5, rng=8)
    assert c.pvalues.tolist() == d.pvalues.tolist()


def test_simulated_pvalues_follow_the_alternative():
    p = simulate_pvalues([0.0], n_experiments=RUNS, rng=43, alternative="smaller")
    assert abs(np.mean(p < 0.05) - 0.05) < band(0.05, RUNS)
    q = simulate_pvalues([2.0], n_experiments=RUNS, rng=43, alternative="larger")
    expected = stats.norm.sf(stats.norm.isf(0.05) - 2.0)
    assert abs(np.mean(q < 0.05) - expected) < band(expected, RUNS)


def test_simulated_correlation():
    p = simulate_pvalues([0.0, 0.0], n_experiments=RUNS, rng=44, correlation=0.7,
                         alternative="larger")
    z = stats.norm.isf(p)
    assert abs(np.corrcoef(z.T)[0, 1] - 0.7) < 4.5 * (1 - 0.49) / np.sqrt(RUNS)


# --- error_rates --------------------------------------------------------------------------


def test_error_rates_by_hand():
    reject = np.array([
        [True, False, True],   # V = 1, R = 2
        [False, False, False],  # V = 0, R = 0
        [True, True, False],   # V = 1, R = 2
        [False, True, False],  # V = 0, R = 1
    ])
    is_null = [True, False, False]
    res = error_rates(reject, is_null)
    assert res.fwer == 0.5
    assert res.fdr == pytest.approx((0.5 + 0 + 0.5 + 0) / 4)
    assert res.power == pytest.approx((1 / 2 + 0 + 1 / 2 + 1 / 2) / 4)
    assert res.mean_rejections == 5 / 4 and res.mean_false_rejections == 0.5
    assert res.n_experiments == 4 and isinstance(res, ErrorRates)


def test_error_rates_accept_one_truth_per_decision():
    reject = np.array([[True, False], [True, True]])
    truth = np.array([[True, False], [False, True]])
    res = error_rates(reject, truth)
    assert (res.fwer, res.fdr) == (1.0, pytest.approx(0.75))


# --- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pvalues", "error", "fragment"),
    [
        ([0.1, 1.2], ValueError, "pvalues must be in [0, 1], got 1.2 (at index 1)"),
        ([-0.01], ValueError, "pvalues must be in [0, 1], got -0.01"),
        ([0.1, np.nan], ValueError, "pvalues must be finite"),
        ([], ValueError, "pvalues must not be empty"),
        (0.3, ValueError, "pvalues must be an array"),
        ("0.1", TypeError, "pvalues must be a number"),
        ([True, False], TypeError, "pvalues must be a number"),
        (None, TypeError, "pvalues must be a number"),
        ([[0.1, 0.2], [0.3]], TypeError, "pvalues must be a number"),
    ],
)
def test_bad_pvalues_are_named(pvalues, error, fragment):
    with pytest.raises(error) as info:
        adjust_pvalues(pvalues, "bh")
    assert fragment in str(info.value)
    with pytest.raises(error):
        multiple_tests(pvalues, method="bh")


@pytest.mark.parametrize("method", ["BH", "fdr_bh", "sidak", None, 3])
def test_unknown_method_lists_the_choices(method):
    with pytest.raises(ValueError, match="method must be one of 'bonferroni', 'holm'"):
        adjust_pvalues([0.1, 0.2], method)


@pytest.mark.parametrize("alpha", [0, 1, 1.5, -0.1, np.nan])
def test_bad_alpha(alpha):
    with pytest.raises(ValueError, match="alpha must"):
        multiple_tests([0.1, 0.2], method="holm", alpha=alpha)


def test_method_and_alpha_are_keyword_only():
    with pytest.raises(TypeError):
        multiple_tests([0.1, 0.2], "holm")  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"effects": [[0.0]]}, ValueError, "effects must be a 1-D array"),
        ({"effects": [np.inf]}, ValueError, "effects must be finite"),
        ({"n_experiments": 0}, ValueError, "n_experiments must be >= 1"),
        ({"n_experiments": 2.0}, TypeError, "n_experiments must be an integer"),
        ({"correlation": 1.5}, ValueError, "correlation must be in [0, 1]"),
        ({"correlation": -0.2}, ValueError, "correlation must be in [0, 1]"),
        ({"alternative": "bigger"}, ValueError, "alternative must be one of"),
        ({"rng": None}, TypeError, "rng must be"),
    ],
)
def test_simulate_pvalues_bad_input(kwargs, error, fragment):
    args = {"effects": [0.0, 1.0], "n_experiments": 3, "rng": 1, **kwargs}
    with pytest.raises(error) as info:
        simulate_pvalues(**args)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"p_control": 1.5}, ValueError, "p_control must be in [0, 1]"),
        ({"p_control": [0.1, 0.2]}, ValueError, "p_control must be a single number"),
        ({"p_variants": [0.1, -0.1]}, ValueError, "p_variants must be in [0, 1]"),
        ({"p_variants": [[0.1]]}, ValueError, "p_variants must be a 1-D array"),
        ({"n_control": 0}, ValueError, "n_control must be >= 1"),
        ({"n_variant": 10.5}, TypeError, "n_variant must be an integer"),
        ({"n_experiments": -1}, ValueError, "n_experiments must be >= 1"),
    ],
)
def test_simulate_many_variants_bad_input(kwargs, error, fragment):
    args = {"p_control": 0.1, "p_variants": [0.1, 0.12], "n_control": 100, "n_variant": 100,
            "n_experiments": 3, "rng": 1, **kwargs}
    with pytest.raises(error) as info:
        simulate_many_variants(**args)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("reject", "is_null", "error", "fragment"),
    [
        ([[1, 0]], [True, False], TypeError, "reject must be an array of True/False"),
        ([True, False], [True, False], ValueError, "reject must be a non-empty 2-D array"),
        ([[True, False]], [1, 0], TypeError, "is_null must be an array of True/False"),
        ([[True, False]], [True, False, True], ValueError, "is_null has shape (3,)"),
        ([[True, False], [True, True]], [[True, False], [True, True]], ValueError,
         "is_null must give every experiment some false null, or none any"),
    ],
)
def test_error_rates_bad_input(reject, is_null, error, fragment):
    with pytest.raises(error) as info:
        error_rates(np.array(reject), is_null)
    assert fragment in str(info.value)


junk = st.one_of(
    st.none(), st.booleans(), st.text(max_size=3), st.floats(allow_nan=True),
    st.lists(st.one_of(st.floats(allow_nan=True), st.integers(-3, 3), st.none()), max_size=4),
    hnp.arrays(np.float64, st.integers(0, 5)),
)


@settings(max_examples=300)
@given(pvalues=junk, method=st.one_of(st.sampled_from(METHODS), st.text(max_size=4)),
       alpha=st.one_of(st.floats(allow_nan=True), st.just(0.05)))
def test_fuzz_bad_input_only_raises_named_errors(pvalues, method, alpha):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = multiple_tests(pvalues, method=method, alpha=alpha)
    except (ValueError, TypeError) as exc:
        assert any(name in str(exc) for name in ("pvalues", "method", "alpha")), str(exc)
    else:
        assert not np.isnan(res.adjusted).any()
        assert np.all((res.adjusted >= res.pvalues) & (res.adjusted <= 1))


# --- repr and explain ---------------------------------------------------------------------


def test_explain_shows_the_step_up_table():
    text = multiple_tests(BH_1995, method="bh").explain()
    assert "FDR <= 0.05" in text
    assert "     4           3    0.0095     3.75   0.03562  yes" in text
    assert "     5           4    0.0201        3    0.0603  no" in text
    assert "4 of 15 hypotheses rejected" in text


def test_explain_summarises_many_families():
    p = simulate_pvalues(np.zeros(5), n_experiments=1000, rng=45)
    res = multiple_tests(p, method="holm")
    text = res.explain()
    assert "1000 families of 5 hypotheses" in text
    assert f"families with at least one rejection: {int(np.sum(res.n_rejected > 0))}" in text


def test_repr_is_readable():
    text = repr(multiple_tests([0.01, 0.04, 0.03], method="bh"))
    assert text.startswith("MultipleTests(\n")
    assert "    adjusted=[0.03, 0.04, 0.04],\n" in text
    assert "    n_rejected=3,\n" in text and "    method='bh',\n" in text
    assert isinstance(multiple_tests([0.5], method="by"), MultipleTests)


@pytest.mark.parametrize("call, name", [
    # found by tests/test_fuzz_public.py: MemoryError, numpy's "Maximum allowed dimension
    # exceeded" and OverflowError instead of a named refusal
    (lambda: simulate_pvalues([0.0, 1.0], n_experiments=10**12, rng=1), "n_experiments"),
    (lambda: simulate_pvalues([0.0, 1.0], n_experiments=2**63, rng=1), "n_experiments"),
    (lambda: simulate_many_variants(0.1, [0.1, 0.12], 100, 100, n_experiments=10**12, rng=1),
     "n_experiments"),
    (lambda: simulate_many_variants(0.1, [0.1, 0.12], 2**63, 100, n_experiments=5, rng=1),
     "n_control"),
    (lambda: simulate_many_variants(0.1, [0.1, 0.12], 100, 2**63, n_experiments=5, rng=1),
     "n_variant"),
])
def test_sizes_are_bounded(call, name):
    with pytest.raises(ValueError, match=name):
        call()


@pytest.mark.parametrize("call, text", [
    # found by tests/test_fuzz_public.py: these passed the size check but used more than 10 s
    # of CPU or 3 GiB of memory
    (lambda: simulate_pvalues([0.0, 1.0], n_experiments=38789625, rng=1),
     "n_experiments must be <= 1,000,000"),
    (lambda: simulate_many_variants(0.1, [0.1, 0.12], 100, 100, n_experiments=39835223, rng=1),
     "n_experiments must be <= 1,000,000"),
    (lambda: simulate_pvalues(np.zeros(10), n_experiments=1_000_000, rng=1),
     r"n_experiments \* len\(effects\) \* 48 working numbers = 480,000,000 numbers is too"),
    (lambda: simulate_many_variants(0.1, [0.1] * 3, 100, 100, n_experiments=1_000_000, rng=1),
     r"n_experiments \* \(1 \+ len\(p_variants\)\) \* 96 working numbers = 384,000,000"),
])
def test_simulation_work_is_bounded(call, text):
    with pytest.raises(ValueError, match=text):
        call()
