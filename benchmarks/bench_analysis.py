"""Benchmark: the full analysis of a large experiment from sufficient statistics.

An experiment with 5 variants (control + 4 treatments) and 1,000,000 users per variant is
measured on 10 metrics: 5 conversion metrics (0/1 per user) and 5 mean metrics (revenue, a
zero-inflated lognormal, sessions, minutes, ...). The benchmark

1. draws the users' values variant by variant and reduces each metric to its sufficient
   statistics (count; sum and sum of squares), as a warehouse query would;
2. analyses everything in a handful of vectorised calls: the SRM check of the 5 arm sizes,
   a z-test with intervals for each conversion metric and treatment (5 x 4), a Welch t-test
   with intervals and both lift intervals for each mean metric and treatment (5 x 4), and a
   chi-square test of the 5 variants for each conversion metric;

and prints the time of each stage and the peak memory (tracemalloc: numpy's allocations;
getrusage: the whole process, interpreter and libraries included).

Run it with ``python benchmarks/bench_analysis.py``.
"""

from __future__ import annotations

import resource
import sys
import time
import tracemalloc

import numpy as np

from abteach.inference import chisq_proportions, welch_ttest_from_stats, ztest_proportions
from abteach.srm import srm_test

VARIANTS = 5
USERS_PER_VARIANT = 1_000_000
CONVERSION_RATES = np.array([0.10, 0.30, 0.02, 0.55, 0.005])  # control rates, 5 metrics
TREATMENT_LIFT = 0.01  # every treatment raises every metric by 1% (relative)


def mean_metric(rng, index: int, size: int, scale: float) -> np.ndarray:
    """One of 5 continuous metrics per user, multiplied by ``scale`` in treatments."""
    if index == 0:  # revenue: 3% buy, lognormal amount
        return scale * rng.binomial(1, 0.03, size) * rng.lognormal(3.0, 1.0, size)
    if index == 1:  # sessions
        return scale * rng.poisson(3.0, size).astype(float)
    if index == 2:  # minutes on site
        return scale * rng.gamma(2.0, 5.0, size)
    if index == 3:  # page load time (ms)
        return scale * rng.normal(800.0, 150.0, size)
    return scale * rng.exponential(1.0, size)  # queries per session


def sufficient_statistics(rng, sizes: np.ndarray):
    """Per variant: conversions (5 metrics) and sum, sum of squares (5 mean metrics)."""
    conversions = np.empty((len(CONVERSION_RATES), VARIANTS), dtype=np.int64)
    sums = np.empty((5, VARIANTS))
    squares = np.empty((5, VARIANTS))
    for variant, size in enumerate(sizes):
        scale = 1.0 if variant == 0 else 1.0 + TREATMENT_LIFT
        for metric, rate in enumerate(CONVERSION_RATES):
            conversions[metric, variant] = np.count_nonzero(rng.random(size) < rate * scale)
        for metric in range(5):
            values = mean_metric(rng, metric, int(size), scale)
            sums[metric, variant] = values.sum()
            squares[metric, variant] = values @ values
    return conversions, sums, squares


def analyse(sizes, conversions, sums, squares):
    """Every test of the experiment, vectorised: 1 + 5 x 4 + 5 x 4 + 5 tests."""
    srm = srm_test(sizes)
    n_c, n_t = sizes[0], sizes[1:]
    ztests = ztest_proportions(conversions[:, :1], n_c, conversions[:, 1:], n_t)
    means = sums / sizes
    sds = np.sqrt((squares - sizes * means**2) / (sizes - 1))
    ttests = welch_ttest_from_stats(means[:, :1], sds[:, :1], n_c, means[:, 1:], sds[:, 1:], n_t)
    chisq = chisq_proportions(conversions, np.broadcast_to(sizes, conversions.shape))
    return srm, ztests, ttests, chisq


def main() -> int:
    tracemalloc.start()
    rng = np.random.default_rng(2024)
    total = VARIANTS * USERS_PER_VARIANT
    start = time.perf_counter()
    sizes = rng.multinomial(total, np.full(VARIANTS, 1 / VARIANTS))
    conversions, sums, squares = sufficient_statistics(rng, sizes)
    aggregate_seconds = time.perf_counter() - start

    start = time.perf_counter()
    srm, ztests, ttests, chisq = analyse(sizes, conversions, sums, squares)
    analysis_seconds = time.perf_counter() - start
    repeats = 100
    start = time.perf_counter()
    for _ in range(repeats):
        analyse(sizes, conversions, sums, squares)
    repeat_seconds = (time.perf_counter() - start) / repeats
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_mb = rss / 2**20 if sys.platform == "darwin" else rss / 2**10

    tests = 1 + ztests.pvalue.size + ttests.pvalue.size + np.size(chisq.pvalue)
    print(f"users: {total:,} in {VARIANTS} variants; metrics: 5 conversion + 5 mean")
    print(f"arm sizes: {', '.join(f'{s:,}' for s in sizes)}; SRM p = {srm.pvalue:.4f}")
    print(f"simulate users and reduce to sufficient statistics: {aggregate_seconds:.2f} s")
    print(f"full analysis ({tests} tests, intervals included), first call: "
          f"{1000 * analysis_seconds:.1f} ms; mean of {repeats} calls: "
          f"{1000 * repeat_seconds:.2f} ms")
    print(f"conversion z-tests significant at 0.05: {int(np.sum(ztests.pvalue < 0.05))} of "
          f"{ztests.pvalue.size}; Welch t-tests: {int(np.sum(ttests.pvalue < 0.05))} of "
          f"{ttests.pvalue.size}")
    print(f"peak memory: {traced_peak / 2**20:.1f} MB traced (numpy arrays), "
          f"{rss_mb:.0f} MB resident (whole process)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
