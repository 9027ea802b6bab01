"""Tests of abteach.srm: sample ratio mismatch checks, daily monitoring, false-alarm rates."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import published
from abteach.srm import (
    DEFAULT_THRESHOLD,
    SRMFalseAlarms,
    SRMMonitor,
    SRMTest,
    _binomial_pvalue,
    _multinomial_pvalue,
    srm_false_alarm_rate,
    srm_monitor,
    srm_test,
)

HILLSTROM_ARMS = [21307, 21387, 21306]  # Mens E-Mail, Womens E-Mail, No E-Mail


def band(rate: float, runs: int, width: float = 4.5) -> float:
    """Half-width of a binomial tolerance band: `width` standard errors of a rate over `runs`."""
    return width * np.sqrt(rate * (1 - rate) / runs)


# --- published values ---------------------------------------------------------------------


@pytest.mark.parametrize("method", ["chi2", "exact"])
def test_kohavi_srm_example(method):
    """SRM01. Source: Kohavi, Tang & Xu (2020), *Trustworthy Online Controlled Experiments*,
    ch. 21: designed 1:1, control 821,588 and treatment 815,482 users, ratio 0.993,
    p = 1.8e-6 (both the chi-square and the exact binomial test print as 1.8e-06)."""
    res = srm_test([821588, 815482], method=method)
    assert published.matches(res.pvalue, "SRM01", "SRM p-value")
    assert published.matches(815482 / 821588, "SRM01", "ratio")
    scipy = stats.chisquare([821588, 815482]) if method == "chi2" else stats.binomtest(
        815482, 821588 + 815482)
    assert published.matches(scipy.pvalue, "SRM01", "SRM p-value")
    assert res.mismatch is True
    assert "ratio arm 2 / arm 1 = 0.9926" in res.explain()  # the book's 0.993


def test_wikipedia_srm_example():
    """SRM02. Source: Wikipedia, "Sample ratio mismatch": 600 vs 400 users of a 50/50
    design, Pearson chi-square p = 2.54e-10."""
    res = srm_test([600, 400])
    assert published.matches(res.pvalue, "SRM02")
    assert published.matches(stats.chisquare([600, 400]).pvalue, "SRM02")
    assert res.statistic == pytest.approx(40.0, rel=1e-12)


def test_hillstrom_arms_show_no_srm():
    """MineThatData (published_numbers.md): 21,307 / 21,387 / 21,306 customers in the three
    arms of a 1/3 each design; no sample ratio mismatch."""
    res = srm_test(HILLSTROM_ARMS)
    assert res.mismatch is False and res.pvalue > 0.5
    ref = stats.chisquare(HILLSTROM_ARMS)
    assert res.pvalue == pytest.approx(ref.pvalue, rel=1e-12)
    assert res.df == 2


# --- independent implementations ----------------------------------------------------------


def random_tables(seed: int, count: int, arms: int, total_max: int = 10**6):
    """Random designs (shares) and counts drawn from shares up to 2% off the design."""
    rng = np.random.default_rng(seed)
    shares = rng.dirichlet(np.full(arms, 3.0), size=count)
    shares = shares / shares.sum(axis=1, keepdims=True)
    true = shares * rng.uniform(0.98, 1.02, size=(count, arms))
    counts = rng.multinomial(rng.integers(20, total_max, size=count),
                             true / true.sum(axis=1, keepdims=True))
    return counts, shares


@pytest.mark.parametrize("arms", [2, 3, 5])
def test_chi2_matches_scipy_chisquare(arms):
    counts, shares = random_tables(arms, 200, arms)
    res = srm_test(counts, shares)
    for i in range(len(counts)):
        ref = stats.chisquare(counts[i], f_exp=counts[i].sum() * shares[i])
        assert res.statistic[i] == pytest.approx(ref.statistic, rel=1e-9, abs=1e-12)
        assert res.pvalue[i] == pytest.approx(ref.pvalue, rel=1e-8, abs=1e-300)


def test_exact_two_arms_matches_scipy_binomtest():
    rng = np.random.default_rng(10)
    n = np.concatenate([rng.integers(1, 300, 300), rng.integers(300, 2 * 10**6, 100)])
    p = rng.uniform(0.02, 0.98, len(n))
    x = rng.binomial(n, np.clip(p + rng.normal(0, 0.01, len(n)), 0.01, 0.99))
    res = srm_test(np.column_stack([x, n - x]), np.column_stack([p, 1 - p]), method="exact")
    for i in range(len(n)):
        ref = stats.binomtest(int(x[i]), int(n[i]), p[i]).pvalue
        assert res.pvalue[i] == pytest.approx(ref, rel=1e-9, abs=1e-300)


def brute_force_multinomial_pvalue(counts, shares):
    """Sum of the multinomial probabilities of every split no more likely than the observed
    one (scipy.stats.multinomial over itertools' enumeration)."""
    total = int(sum(counts))
    observed = stats.multinomial.pmf(counts, total, shares)
    pvalue = 0.0
    for head in itertools.product(range(total + 1), repeat=len(counts) - 1):
        if sum(head) <= total:
            split = [*head, total - sum(head)]
            probability = stats.multinomial.pmf(split, total, shares)
            if probability <= observed * (1 + 1e-7):
                pvalue += probability
    return pvalue


@pytest.mark.parametrize(
    ("counts", "shares"),
    [([3, 5, 9], [1 / 3, 1 / 3, 1 / 3]), ([10, 2, 4], [0.5, 0.25, 0.25]),
     ([0, 1, 0, 6], [0.1, 0.2, 0.3, 0.4]), ([7, 7, 6], [0.3, 0.3, 0.4])],
)
def test_exact_multinomial_matches_brute_force(counts, shares):
    res = srm_test(counts, shares, method="exact")
    assert res.pvalue == pytest.approx(brute_force_multinomial_pvalue(counts, shares),
                                       rel=1e-9)


def test_multinomial_enumeration_of_two_arms_equals_the_binomial_test():
    rng = np.random.default_rng(11)
    n = rng.integers(1, 400, 300)
    p = rng.uniform(0.05, 0.95, 300)
    x = rng.binomial(n, p)
    counts = np.column_stack([x, n - x])
    enumerated = _multinomial_pvalue(counts, np.column_stack([p, 1 - p]))
    np.testing.assert_allclose(enumerated, _binomial_pvalue(x, n, p), rtol=1e-9)


def test_exact_and_chi2_agree_for_large_counts():
    counts, shares = random_tables(12, 50, 2, total_max=10**6)
    exact = srm_test(counts, shares, method="exact").pvalue
    chi2 = srm_test(counts, shares).pvalue
    keep = chi2 > 1e-6
    np.testing.assert_allclose(exact[keep], chi2[keep], rtol=0.05, atol=0.005)


# --- seeded simulations -------------------------------------------------------------------


def test_false_alarm_rate_at_the_threshold():
    """Correct allocation of 10,000 units over 20/30/50% arms: p < 0.0005 in 0.05% of runs."""
    runs = 400_000
    rng = np.random.default_rng(20)
    res = srm_test(rng.multinomial(10_000, [0.2, 0.3, 0.5], size=runs), [0.2, 0.3, 0.5])
    assert abs(np.mean(res.mismatch) - DEFAULT_THRESHOLD) < band(DEFAULT_THRESHOLD, runs)


def test_chi2_level_at_0_05_with_two_unequal_arms():
    runs = 20_000
    rng = np.random.default_rng(21)
    counts = rng.multinomial(5000, [0.1, 0.9], size=runs)
    res = srm_test(counts, [0.1, 0.9], threshold=0.05)
    assert abs(np.mean(res.mismatch) - 0.05) < band(0.05, runs)


def test_exact_test_rejects_at_its_exact_size():
    """With 40 units the binomial test is discrete: its size is the probability of the splits
    whose p-value is below 0.05 (computed exactly), at most 0.05, and the simulation
    reproduces it."""
    n, runs = 40, 50_000
    x = np.arange(n + 1)
    pvalues = _binomial_pvalue(x, np.full(n + 1, n), np.full(n + 1, 0.5))
    size = stats.binom.pmf(x[pvalues < 0.05], n, 0.5).sum()
    assert size <= 0.05
    rng = np.random.default_rng(22)
    res = srm_test(rng.multinomial(n, [0.5, 0.5], size=runs), method="exact", threshold=0.05)
    assert abs(np.mean(res.mismatch) - size) < band(size, runs)


def imbalance_power(runs: int, seed: int):
    """A 1% imbalance (true shares 50.25/49.75, ratio 0.99) among 1,000,000 users: simulated
    and exact power at the default threshold. Under the alternative X^2 is approximately
    noncentral chi-square with 1 df and noncentrality N sum (p_i - q_i)^2 / q_i."""
    n, true = 1_000_000, np.array([0.5025, 0.4975])
    rng = np.random.default_rng(seed)
    res = srm_test(rng.multinomial(n, true, size=runs))
    noncentrality = n * np.sum((true - 0.5) ** 2 / 0.5)
    exact = stats.ncx2.sf(stats.chi2.isf(DEFAULT_THRESHOLD, 1), 1, noncentrality)
    return float(np.mean(res.mismatch)), float(exact)


def test_power_against_a_one_percent_imbalance():
    runs = 20_000
    simulated, exact = imbalance_power(runs, 23)
    assert 0.9 < exact < 0.95  # a 1% imbalance is caught almost surely at this size
    assert abs(simulated - exact) < band(exact, runs)


@pytest.mark.slow
def test_power_and_level_slow():
    runs = 400_000
    simulated, exact = imbalance_power(runs, 24)
    assert abs(simulated - exact) < band(exact, runs)
    rng = np.random.default_rng(25)
    res = srm_test(rng.multinomial(20_000, [0.3, 0.7], size=runs), [0.3, 0.7], method="exact")
    assert abs(np.mean(res.mismatch) - DEFAULT_THRESHOLD) < band(DEFAULT_THRESHOLD, runs)


# --- monitoring ---------------------------------------------------------------------------


def test_monitor_runs_srm_test_on_each_day_and_on_the_running_totals():
    rng = np.random.default_rng(30)
    daily = rng.multinomial(2000, [0.25, 0.75], size=8)
    res = srm_monitor(daily, [0.25, 0.75])
    for day in range(8):
        today = srm_test(daily[day], [0.25, 0.75])
        so_far = srm_test(daily[: day + 1].sum(axis=0), [0.25, 0.75])
        assert res.daily_pvalue[day] == pytest.approx(today.pvalue, rel=1e-12)
        assert res.cumulative_pvalue[day] == pytest.approx(so_far.pvalue, rel=1e-12)
        assert res.cumulative_statistic[day] == pytest.approx(so_far.statistic, rel=1e-12)
    assert res.first_alarm_day == 0 and isinstance(res, SRMMonitor)


def test_monitor_finds_the_day_a_bug_starts():
    """From day 4 on, a redirect loses 3% of the treatment users: the cumulative check fires
    a few days later, and every day's own check fires too."""
    rng = np.random.default_rng(31)
    healthy = rng.multinomial(50_000, [0.5, 0.5], size=3)
    lost = np.array([0.5, 0.5 * 0.97])
    broken = rng.multinomial(50_000, lost / lost.sum(), size=7)
    res = srm_monitor(np.concatenate([healthy, broken]))
    assert 4 <= res.first_alarm_day <= 7
    assert res.cumulative_alarm[-1] and not res.cumulative_alarm[:3].any()
    assert "first below 0.0005 on day" in res.verdict


def test_monitor_day_without_units_has_pvalue_one():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = srm_monitor([[0, 0], [500, 520], [0, 0]])
    assert res.daily_pvalue[0] == 1.0 and res.daily_pvalue[2] == 1.0
    assert res.cumulative_pvalue[2] == res.cumulative_pvalue[1]


@pytest.mark.parametrize("method", ["chi2", "exact"])
def test_monitor_vectorised_over_experiments(method):
    rng = np.random.default_rng(32)
    daily = rng.multinomial(300, [0.4, 0.6], size=(5, 6))
    many = srm_monitor(daily, [0.4, 0.6], method=method)
    for i in range(5):
        one = srm_monitor(daily[i], [0.4, 0.6], method=method)
        np.testing.assert_allclose(many.cumulative_pvalue[i], one.cumulative_pvalue, rtol=1e-12)
        assert many.first_alarm_day[i] == one.first_alarm_day
    assert many.daily_pvalue.shape == (5, 6) and "experiments" in many.verdict


def test_repeated_checks_reproduce_the_peeking_rate():
    """PK01. Source: Armitage, McPherson & Rowe (1969), exact value by recursive integration
    (published_numbers.md): testing accumulating data at two-sided 0.05 after each of 10 equal
    batches gives a false-positive rate of 0.1934. A cumulative SRM check of two 50/50 arms
    is that test (X^2 = z^2 of a random walk), so daily checks at 0.05 on a healthy experiment
    raise an alarm in 19% of experiments, though each single check errs only 5% of the time."""
    runs = 20_000
    res = srm_false_alarm_rate(10_000, 10, threshold=0.05, n_experiments=runs, rng=33)
    assert isinstance(res, SRMFalseAlarms)
    assert abs(res.any_cumulative - 0.1934) < band(0.1934, runs)
    assert abs(res.final_only - 0.05) < band(0.05, runs)
    # each day's own test is independent of the others: 1 - 0.95^10
    assert abs(res.any_daily - (1 - 0.95**10)) < band(1 - 0.95**10, runs)


def test_strict_threshold_keeps_repeated_checks_rare():
    """30 daily checks of a three-arm experiment: at 0.0005 an alarm on a healthy experiment
    stays below the Bonferroni bound 30 x 0.0005 = 1.5%; at 0.05 it comes in over a quarter
    of them (the peeking rate for 30 looks is about 0.28)."""
    runs = 20_000
    strict = srm_false_alarm_rate(5000, 30, [0.2, 0.3, 0.5], n_experiments=runs, rng=34)
    loose = srm_false_alarm_rate(5000, 30, [0.2, 0.3, 0.5], threshold=0.05, n_experiments=runs,
                                 rng=34)
    assert strict.any_cumulative < 30 * DEFAULT_THRESHOLD + band(30 * DEFAULT_THRESHOLD, runs)
    assert strict.any_cumulative > DEFAULT_THRESHOLD
    assert loose.any_cumulative > 0.25


# --- properties ---------------------------------------------------------------------------


@st.composite
def tables(draw):
    arms = draw(st.integers(2, 5))
    counts = draw(st.lists(st.integers(0, 10**7), min_size=arms, max_size=arms))
    if sum(counts) == 0:
        counts[0] = 1
    weights = draw(st.lists(st.floats(0.01, 1), min_size=arms, max_size=arms))
    shares = np.array(weights) / np.sum(weights)
    return np.array(counts), shares / shares.sum()


@settings(max_examples=300, deadline=None)
@given(table=tables(), seed=st.integers(0, 1000))
def test_srm_properties(table, seed):
    counts, shares = table
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = srm_test(counts, shares)
        order = np.random.default_rng(seed).permutation(len(counts))
        permuted = srm_test(counts[order], shares[order])
    assert 0 <= res.pvalue <= 1 and res.statistic >= 0
    assert not np.isnan(res.observed_shares).any()
    assert permuted.pvalue == pytest.approx(res.pvalue, rel=1e-9, abs=1e-300)
    assert res.expected_counts.sum() == pytest.approx(counts.sum(), rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(x=st.integers(0, 500), extra=st.integers(0, 500), share=st.floats(0.01, 0.99))
def test_exact_binomial_properties(x, extra, share):
    n = x + extra
    if n == 0:
        return
    res = srm_test([x, n - x], [share, 1 - share], method="exact")
    mirrored = srm_test([n - x, x], [1 - share, share], method="exact")
    assert 0 <= res.pvalue <= 1  # 0 when the true p-value underflows (below 1e-308)
    assert res.pvalue == pytest.approx(mirrored.pvalue, rel=1e-9, abs=1e-300)
    assert res.pvalue == pytest.approx(stats.binomtest(x, n, share).pvalue, rel=1e-9,
                                       abs=1e-300)


def test_more_units_at_the_same_split_give_smaller_pvalues():
    scale = np.array([1, 2, 5, 10, 100])
    res = srm_test(np.column_stack([510 * scale, 490 * scale]))
    assert np.all(np.diff(res.pvalue) < 0)


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "error", "fragment"),
    [
        ({"counts": [-1, 5]}, ValueError, "counts must be >= 0, got -1"),
        ({"counts": [1.5, 5]}, ValueError, "counts must be a whole number, got 1.5"),
        ({"counts": [5]}, ValueError, "counts must hold the counts of at least two arms"),
        ({"counts": 5}, ValueError, "at least two arms"),
        ({"counts": [0, 0]}, ValueError, "counts must contain at least one unit, got a total of 0"),
        ({"counts": [[1, 2], [0, 0]]}, ValueError, "(at index 1)"),
        ({"counts": ["a", "b"]}, TypeError, "counts must be a number"),
        ({"counts": None}, TypeError, "counts must be a number"),
        ({"counts": [1, 2], "expected_ratios": [-0.5, 1.5]}, ValueError,
         "expected_ratios must be > 0, got -0.5"),
        ({"counts": [1, 2], "expected_ratios": [0.0, 1.0]}, ValueError,
         "expected_ratios must be > 0, got 0.0"),
        ({"counts": [1, 2], "expected_ratios": [0.5, 0.6]}, ValueError,
         "expected_ratios must sum to 1, got a sum of 1.1"),
        ({"counts": [1, 2], "expected_ratios": [50, 50]}, ValueError,
         "expected_ratios must sum to 1"),
        ({"counts": [1, 2, 3], "expected_ratios": [0.5, 0.5]}, ValueError,
         "expected_ratios must give one ratio per arm (3 arms)"),
        ({"counts": [1, 2], "expected_ratios": 0.5}, ValueError, "one ratio per arm"),
        ({"counts": [1, 2], "expected_ratios": [0.5, np.nan]}, ValueError,
         "expected_ratios must be finite"),
        ({"counts": [1, 2], "method": "g-test"}, ValueError,
         "method must be one of 'chi2', 'exact', got 'g-test'"),
        ({"counts": [1, 2], "threshold": 0.0}, ValueError, "threshold must be in (0, 1), got 0.0"),
        ({"counts": [1, 2], "threshold": [0.01, 0.05]}, ValueError,
         "threshold must be a single number"),
        ({"counts": [3000, 3000, 3000], "method": "exact"}, ValueError,
         "method='exact' with 3 arms would enumerate 40,513,501 splits"),
    ],
)
def test_srm_bad_input_names_the_argument(arguments, error, fragment):
    with pytest.raises(error) as info:
        srm_test(**arguments)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("call", "error", "fragment"),
    [
        (lambda: srm_monitor([10, 12]), ValueError, "daily_counts must hold the counts"),
        (lambda: srm_monitor([[10, 12]], [[0.5, 0.5]]), ValueError,
         "expected_ratios must be one design for every day"),
        (lambda: srm_monitor([[10, -12]]), ValueError, "daily_counts must be >= 0"),
        (lambda: srm_false_alarm_rate(0, 5, rng=1), ValueError, "units_per_day must be >= 1"),
        (lambda: srm_false_alarm_rate(10, 5.0, rng=1), TypeError, "days must be an integer"),
        (lambda: srm_false_alarm_rate(10, 5, [[0.5, 0.5]], rng=1), ValueError,
         "expected_ratios must be one design"),
        (lambda: srm_false_alarm_rate(10, 5, [0.2, 0.2], rng=1), ValueError,
         "expected_ratios must sum to 1"),
        (lambda: srm_false_alarm_rate(10, 5, rng=None), TypeError, "rng must be"),
        (lambda: srm_false_alarm_rate(10, 5, n_experiments=0, rng=1), ValueError,
         "n_experiments must be >= 1"),
    ],
)
def test_monitor_and_simulation_bad_input(call, error, fragment):
    with pytest.raises(error) as info:
        call()
    assert fragment in str(info.value)


ARGUMENTS = ("counts", "expected_ratios", "method", "threshold")
junk = st.one_of(
    st.none(), st.booleans(), st.text(max_size=3), st.floats(allow_nan=True),
    st.integers(-10**6, 10**6), st.lists(st.integers(-5, 5), max_size=4),
    st.lists(st.floats(-1, 2), max_size=4),
)


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(ARGUMENTS), value=junk)
def test_fuzz_bad_input_only_raises_named_errors(name, value):
    valid = {"counts": [100, 120, 95], "expected_ratios": [0.3, 0.4, 0.3], "method": "chi2",
             "threshold": 0.001}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = srm_test(**{**valid, **{name: value}})
    except (ValueError, TypeError) as exc:
        assert any(arg in str(exc) for arg in ARGUMENTS), str(exc)
    else:
        assert not np.isnan(res.pvalue).any() and not np.isnan(res.statistic).any()


# --- repr and explain ---------------------------------------------------------------------


def test_srm_repr_verdict_and_explain():
    res = srm_test([600, 400])
    assert isinstance(res, SRMTest)
    text = repr(res)
    assert "    pvalue=2.54e-10,\n" in text and "    counts=[600, 400],\n" in text
    assert res.verdict.startswith("SAMPLE RATIO MISMATCH: p = 2.54e-10 < 0.0005")
    explained = res.explain()
    assert "arm 1: observed 600 (60%), expected N * 0.5 = 500" in explained
    assert "X^2 = sum (O - E)^2 / E = 40, df = 1" in explained
    healthy = srm_test(HILLSTROM_ARMS)
    assert healthy.verdict.startswith("no sample ratio mismatch detected: p = 0.9037")
    exact = srm_test([3, 5, 9], method="exact").explain()
    assert "exact multinomial test" in exact
    many = srm_test([[600, 400], [500, 500]])
    assert many.verdict == "sample ratio mismatch in 1 of 2 tables (p < 0.0005)"
    assert list(many.mismatch) == [True, False]


def test_monitor_explain_is_a_daily_table():
    res = srm_monitor([[500, 500], [480, 520], [400, 600]])
    text = res.explain()
    assert "    2  480/520" in text and "980/1020" in text and "<- SRM" in text
    assert res.first_alarm_day == 3


@pytest.mark.parametrize("kwargs, name", [
    # found by tests/test_fuzz_public.py: MemoryError and OverflowError instead of a refusal
    (dict(n_experiments=10**12), "n_experiments must be <= 1,000,000"),
    (dict(days=10**12), "n_experiments \\* days"),
    (dict(units_per_day=2**63), "units_per_day"),
])
def test_false_alarm_simulation_sizes_are_bounded(kwargs, name):
    with pytest.raises(ValueError, match=name):
        srm_false_alarm_rate(**{"units_per_day": 50, "days": 3, "n_experiments": 20, "rng": 1,
                                **kwargs})


@pytest.mark.parametrize("kwargs, text", [
    # found by tests/test_fuzz_public.py: n_experiments=5264712 passed the size check and
    # used more than 10 s of CPU
    (dict(n_experiments=5264712), "n_experiments must be <= 1,000,000"),
    (dict(n_experiments=1_000_000),
     r"n_experiments \* days \* arms \* 128 working numbers = 768,000,000 numbers is too large"),
    # the exact test costs more, and more again for large counts
    (dict(n_experiments=300_000, method="exact"),
     r"n_experiments \* days \* arms \* 320 working numbers"),
    (dict(units_per_day=2**40, n_experiments=10_000, method="exact"),
     r"n_experiments \* days \* arms \* \d+ working numbers"),
])
def test_false_alarm_simulation_work_is_bounded(kwargs, text):
    with pytest.raises(ValueError, match=text):
        srm_false_alarm_rate(**{"units_per_day": 50, "days": 3, "rng": 1, **kwargs})
