"""Tests of abteach.segments: per-segment tests, Cochran's Q, DerSimonian-Laird shrinkage."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects

from abteach.inference import welch_ttest_from_stats, ztest_proportions
from abteach.multiple import adjust_pvalues
from abteach.segments import (
    heterogeneity_test,
    segment_effects_means,
    segment_effects_proportions,
    shrink_effects,
)


def band(rate: float, runs: int, width: float = 4.5) -> float:
    """Half-width of a binomial tolerance band: `width` standard errors of a rate over `runs`."""
    return width * np.sqrt(rate * (1 - rate) / runs)


# --- published values: the BCG vaccine meta-analysis ---------------------------------------

# dat.bcg (Colditz et al. 1994, 13 trials), as shipped with R's metafor/metadat:
# tpos, tneg (vaccinated), cpos, cneg (control).
BCG = np.array([
    [4, 119, 11, 128], [6, 300, 29, 274], [3, 228, 11, 209], [62, 13536, 248, 12619],
    [33, 5036, 47, 5761], [180, 1361, 372, 1079], [8, 2537, 10, 619], [505, 87886, 499, 87892],
    [29, 7470, 45, 7232], [17, 1699, 65, 1600], [186, 50448, 141, 27197], [5, 2493, 3, 2338],
    [27, 16886, 29, 17825],
])


def bcg_log_rr():
    """Log risk ratios and their variances, as metafor's escalc(measure = "RR")."""
    tpos, tneg, cpos, cneg = BCG.T.astype(float)
    yi = np.log(tpos / (tpos + tneg)) - np.log(cpos / (cpos + cneg))
    vi = 1 / tpos - 1 / (tpos + tneg) + 1 / cpos - 1 / (cpos + cneg)
    return yi, vi


def test_bcg_dersimonian_laird_published():
    """metafor rma(yi, vi, method = "DL") on dat.bcg (log RR), as printed in W. Viechtbauer's
    "R code corresponding to Borenstein et al. (2009), Introduction to Meta-Analysis":
    tau^2 = 0.3088, estimate = -0.7141, se = 0.1787, Q(df = 12) = 152.2330, I^2 = 92.12%."""
    yi, vi = bcg_log_rr()
    s = shrink_effects(yi, np.sqrt(vi))
    assert s.tau2 == pytest.approx(0.3088, abs=5e-5)
    assert s.mean == pytest.approx(-0.7141, abs=5e-5)
    assert s.mean_se == pytest.approx(0.1787, abs=5e-5)
    assert s.q_statistic == pytest.approx(152.2330, abs=5e-5)
    h = heterogeneity_test(yi, np.sqrt(vi))
    assert h.df == 12
    assert h.statistic == pytest.approx(152.2330, abs=5e-5)
    assert 100 * h.i_squared == pytest.approx(92.12, abs=5e-3)
    # The same source's equal-effects model: estimate -0.4303, se 0.0405.
    assert h.pooled_effect == pytest.approx(-0.4303, abs=5e-5)
    assert h.pooled_se == pytest.approx(0.0405, abs=5e-5)


# --- independent implementation: statsmodels ----------------------------------------------

def test_shrinkage_matches_statsmodels_on_many_inputs():
    """statsmodels' method_re="dl" does not truncate tau^2 at 0 (metafor and DerSimonian &
    Laird do): where its tau^2 is negative, ours is 0 and the mean is the fixed-effect mean."""
    rng = np.random.default_rng(11)
    for _ in range(60):
        k = int(rng.integers(2, 15))
        se = rng.uniform(0.05, 1.0, k)
        y = rng.normal(0, rng.uniform(0, 1), k) + rng.normal(0, se)
        s = shrink_effects(y, se)
        with warnings.catch_warnings():  # statsmodels' own sqrt of a negative tau^2 variance
            warnings.simplefilter("ignore", RuntimeWarning)
            ref = combine_effects(y, se**2, method_re="dl")
        assert s.tau2 == pytest.approx(max(ref.tau2, 0.0), rel=1e-9, abs=1e-12)
        if ref.tau2 > 0:
            assert s.mean == pytest.approx(ref.mean_effect_re, rel=1e-9, abs=1e-12)
            assert s.mean_se == pytest.approx(ref.sd_eff_w_re, rel=1e-9)
        else:
            assert s.mean == pytest.approx(ref.mean_effect_fe, rel=1e-9, abs=1e-12)
            assert s.mean_se == pytest.approx(ref.sd_eff_w_fe, rel=1e-9)
        assert s.q_statistic == pytest.approx(ref.q, rel=1e-9, abs=1e-12)
        h = heterogeneity_test(y, se)
        assert h.pooled_effect == pytest.approx(ref.mean_effect_fe, rel=1e-9, abs=1e-12)
        assert h.pvalue == pytest.approx(stats.chi2.sf(ref.q, k - 1), rel=1e-9, abs=1e-300)


def test_shrinkage_rows_equal_separate_calls():
    rng = np.random.default_rng(3)
    y, se = rng.normal(size=(5, 6)), rng.uniform(0.2, 1, (5, 6))
    batch = shrink_effects(y, se)
    for i in range(5):
        one = shrink_effects(y[i], se[i])
        np.testing.assert_allclose(batch.shrunken[i], one.shrunken, rtol=1e-12)
        assert batch.tau2[i] == pytest.approx(one.tau2, rel=1e-12, abs=1e-15)


def test_segment_effects_match_inference_and_adjustment():
    x_c, n_c = np.array([120, 300, 45, 80]), np.array([2000, 5000, 900, 1500])
    x_t, n_t = np.array([150, 310, 60, 70]), np.array([2010, 4950, 880, 1490])
    r = segment_effects_proportions(["a", "b", "c", "d"], x_c, n_c, x_t, n_t, method="bh")
    z = ztest_proportions(x_c, n_c, x_t, n_t, pooled=False)
    np.testing.assert_allclose(r.pvalue, z.pvalue)
    np.testing.assert_allclose(r.pvalue_adjusted, adjust_pvalues(z.pvalue, "bh"))
    np.testing.assert_allclose((r.ci_high - r.ci_low) / 2, stats.norm.ppf(0.975) * r.se)
    table = r.to_frame()
    assert list(table.index) == ["a", "b", "c", "d"]
    assert {"effect", "ci_low", "ci_high"} <= set(table.columns)
    m = segment_effects_means(["x", "y"], [10, 12], [3, 4], [400, 500], [10.5, 12.1], [3, 4],
                              [410, 490])
    w = welch_ttest_from_stats([10, 12], [3, 4], [400, 500], [10.5, 12.1], [3, 4], [410, 490])
    np.testing.assert_allclose(m.se, w.se)
    np.testing.assert_allclose(m.pvalue_adjusted, adjust_pvalues(w.pvalue, "holm"))
    assert "Cochran's Q" in r.explain() and "holm" in m.explain()


# --- unit and property tests --------------------------------------------------------------

def test_two_segment_hand_example():
    """Two unit-SE estimates 0 and 2: Q = 2, tau^2 = (2 - 1) / (2 - 1) = 1, B = 1/2."""
    s = shrink_effects([0.0, 2.0], [1.0, 1.0])
    assert s.tau2 == pytest.approx(1.0)
    np.testing.assert_allclose(s.shrunken, [0.5, 1.5])
    np.testing.assert_allclose(s.factor, [0.5, 0.5])
    np.testing.assert_allclose(s.posterior_se, np.sqrt([0.5, 0.5]))
    assert heterogeneity_test([0.0, 2.0], [1.0, 1.0]).pvalue == pytest.approx(stats.chi2.sf(2, 1))


def test_homogeneous_estimates_shrink_fully():
    s = shrink_effects([1.0, 1.1, 0.9], [1.0, 1.0, 1.0])
    assert s.tau2 == 0.0
    np.testing.assert_allclose(s.shrunken, 1.0)
    np.testing.assert_allclose(s.factor, 1.0)


def test_shrinkage_properties():
    rng = np.random.default_rng(5)
    y, se = rng.normal(0, 2, 12), rng.uniform(0.1, 2, 12)
    s = shrink_effects(y, se)
    # every estimate moves toward the mean, never past it
    assert np.all(np.abs(s.shrunken - s.mean) <= np.abs(y - s.mean) + 1e-12)
    assert np.all(np.sign(s.shrunken - s.mean) * np.sign(y - s.mean) >= 0)
    # noisier segments move more
    order = np.argsort(se)
    assert np.all(np.diff(s.factor[order]) >= 0)
    # translation equivariance and invariance to the segment order
    t = shrink_effects(y + 3.0, se)
    np.testing.assert_allclose(t.shrunken, s.shrunken + 3.0, rtol=1e-10)
    perm = rng.permutation(12)
    np.testing.assert_allclose(shrink_effects(y[perm], se[perm]).shrunken, s.shrunken[perm])
    # huge spread: almost no shrinkage
    wide = shrink_effects(np.array([-100.0, 0.0, 100.0]), np.ones(3))
    np.testing.assert_allclose(wide.shrunken, [-100, 0, 100], atol=0.02)


# --- simulations --------------------------------------------------------------------------

def test_shrinkage_lowers_mean_squared_error():
    """True segment effects drawn from N(0.01, 0.005^2), estimates with SEs 0.002-0.012:
    the shrunken estimates have a lower total squared error than the raw ones (Efron & Morris
    1975); compared on 2,000 simulated families of 10 segments with a 4.5-SE band."""
    rng = np.random.default_rng(2026)
    runs, k = 2000, 10
    se = np.linspace(0.002, 0.012, k)
    truth = rng.normal(0.01, 0.005, size=(runs, k))
    raw = truth + se * rng.standard_normal((runs, k))
    s = shrink_effects(raw, se)
    loss_raw = ((raw - truth) ** 2).sum(axis=1)
    loss_shrunk = ((s.shrunken - truth) ** 2).sum(axis=1)
    gain = loss_raw - loss_shrunk
    assert gain.mean() > 4.5 * gain.std(ddof=1) / np.sqrt(runs)
    # the raw estimator's risk is sum(se^2): a check that the simulation is right
    assert loss_raw.mean() == pytest.approx((se**2).sum(), rel=4.5 * np.sqrt(2 / (runs * k)))


def test_holm_controls_familywise_error_across_segments():
    """Six segments, no effect anywhere: the Holm-adjusted segment tests reject at least one
    segment in at most alpha of 3,000 experiments (binomial band), while the unadjusted
    tests reject far more often (about 1 - 0.95^6 = 26%)."""
    rng = np.random.default_rng(7)
    runs, k, n = 3000, 6, np.array([3000, 5000, 2000, 8000, 1000, 4000])
    p = np.array([0.05, 0.08, 0.03, 0.10, 0.06, 0.04])
    x_c = rng.binomial(n, p, size=(runs, k))
    x_t = rng.binomial(n, p, size=(runs, k))
    z = ztest_proportions(x_c, n, x_t, n, pooled=False)
    holm = adjust_pvalues(z.pvalue, "holm")
    fwer = np.mean((holm <= 0.05).any(axis=1))
    raw = np.mean((z.pvalue <= 0.05).any(axis=1))
    assert fwer <= 0.05 + band(0.05, runs)
    assert raw > 0.20
    # the record adjusts exactly like this for one experiment
    one = segment_effects_proportions(list("abcdef"), x_c[0], n, x_t[0], n)
    np.testing.assert_allclose(one.pvalue_adjusted, holm[0])


def test_q_test_level_under_homogeneity():
    """Equal true effects: Cochran's Q rejects at 5% in 5% of 4,000 families (binomial band)."""
    rng = np.random.default_rng(9)
    runs, se = 4000, np.array([0.5, 1.0, 1.5, 0.8, 0.3])
    y = 0.2 + se * rng.standard_normal((runs, se.size))
    rate = np.mean(heterogeneity_test(y, se).pvalue <= 0.05)
    assert abs(rate - 0.05) <= band(0.05, runs)


# --- validation and fuzzing ---------------------------------------------------------------

@pytest.mark.parametrize("call, name", [
    (lambda: shrink_effects([1.0], [1.0]), "effects"),
    (lambda: shrink_effects([1.0, 2.0], [1.0, 0.0]), "standard_errors"),
    (lambda: shrink_effects([1.0, np.nan], [1.0, 1.0]), "effects"),
    (lambda: heterogeneity_test([1.0, 2.0, 3.0], [1.0, 1.0]), "standard_errors"),
    (lambda: shrink_effects([1.0, 2.0], [1e-4, 1e3]), "standard_errors"),
    (lambda: shrink_effects([1e60, 2.0], [1.0, 1.0]), "effects"),
    (lambda: segment_effects_proportions(["a"], [1, 2], [10, 10], [1, 2], [10, 10]), "segments"),
    (lambda: segment_effects_proportions(["a", "a"], [1, 2], [10, 10], [1, 2], [10, 10]),
     "segments"),
    (lambda: segment_effects_proportions(["a", "b"], [1, 2], [10, 10], [1, 2], [10, 10],
                                         method="tukey"), "method"),
    (lambda: segment_effects_proportions(["a", "b"], [1, 2], [10, 10], [1, 2], [10, 10],
                                         alpha=1.5), "alpha"),
    (lambda: segment_effects_proportions(["a", "b"], [0, 2], [10, 10], [0, 2], [10, 10]),
     "segment"),
    (lambda: segment_effects_proportions(["a"], [1], [10], [2], [10]), "segment"),
    (lambda: segment_effects_means(["a", "b"], [1, 2], [1, -1], [10, 10], [1, 2], [1, 1],
                                   [10, 10]), "sd_control"),
])
def test_bad_input_names_the_argument(call, name):
    with pytest.raises((ValueError, TypeError), match=name):
        call()


@settings(max_examples=150, deadline=None)
@given(
    effects=hnp.arrays(np.float64, st.integers(2, 8),
                       elements=st.floats(-1e3, 1e3, allow_nan=False)),
    data=st.data(),
)
def test_fuzz_valid_input_never_nan(effects, data):
    se = data.draw(hnp.arrays(np.float64, effects.shape, elements=st.floats(1e-3, 1e3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = shrink_effects(effects, se)
        h = heterogeneity_test(effects, se)
    for value in (s.shrunken, s.tau2, s.mean, s.posterior_se, h.statistic, h.pvalue,
                  h.i_squared):
        assert np.all(np.isfinite(value))
    assert 0 <= h.pvalue <= 1 and 0 <= h.i_squared <= 1


@settings(max_examples=100, deadline=None)
@given(effects=st.one_of(st.none(), st.text(), st.lists(st.floats(), max_size=3),
                         st.floats()),
       se=st.one_of(st.none(), st.floats(), st.lists(st.floats(), min_size=1, max_size=3)))
def test_fuzz_bad_input_raises_clean_errors(effects, se):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            shrink_effects(effects, se)
    except (ValueError, TypeError) as exc:
        assert "effects" in str(exc) or "standard_errors" in str(exc) or "shape" in str(exc)


def test_doctests():
    import doctest

    import abteach.segments

    outcome = doctest.testmod(abteach.segments)
    assert outcome.attempted > 0 and outcome.failed == 0


@pytest.mark.parametrize("changed, text", [
    # found by tests/test_fuzz_public.py: "standard_errors must be in [1e-50, 1e+50]", an
    # argument of the inner heterogeneity test, not of segment_effects_means
    (dict(sd_treatment=[1e300, 1.0]), r"the per-segment standard errors \(computed from "
     r"sd_control, n_control, sd_treatment and n_treatment\) must be in \[1e-50, 1e\+50\]"),
    (dict(sd_control=[1e7, 1.0]), r"the per-segment standard errors \(computed from "
     r"sd_control, n_control, sd_treatment and n_treatment\) of one family must be within"),
])
def test_segment_means_errors_name_the_arguments(changed, text):
    args = dict(segments=["a", "b"], mean_control=[10.0, 11.0], sd_control=[2.0, 2.0],
                n_control=[100, 120], mean_treatment=[10.5, 11.2], sd_treatment=[2.0, 2.1],
                n_treatment=[110, 115])
    with pytest.raises(ValueError, match=text):
        segment_effects_means(**{**args, **changed})


def test_segment_proportions_errors_name_the_arguments():
    with pytest.raises(ValueError, match=r"per-segment standard errors \(computed from "
                       r"x_control, n_control, x_treatment and n_treatment\)"):
        segment_effects_proportions(["a", "b"], [10, 1_000_000], [100, 10**14],
                                    [15, 1_000_000], [110, 10**14])
