"""Benchmark: abteach.power.sample_size_proportions against statsmodels on random designs.

100,000 seeded two-proportion designs (control rate, relative lift, ratio, alpha, power), all
two-sided. Two comparisons, each on the designs where both sides compute the same formula:

* "pooled" (R power.prop.test) against statsmodels' vectorised
  ``samplesize_proportions_2indep_onetail`` (same one-tail pooled formula), on all designs;
* "arcsine" (Cohen's h, opposite tail counted) against ``NormalIndPower().solve_power`` with
  ``proportion_effectsize``, which solves one design per call with brentq. It is too slow for
  100,000 designs, so it is timed on a seeded subset and its time scaled up (labelled).

Run: ``python benchmarks/bench_power.py`` (about 15 s on 2 cores).
"""

from __future__ import annotations

import time

import numpy as np
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    proportion_effectsize,
    samplesize_proportions_2indep_onetail,
)

from abteach.power import power_proportions, sample_size_proportions

N_DESIGNS = 100_000
N_SUBSET = 1_000  # designs solved one by one by statsmodels' NormalIndPower
REPEATS = 5  # vectorised timings: best of REPEATS


def designs(seed: int = 20240601, size: int = N_DESIGNS):
    rng = np.random.default_rng(seed)
    p_c = rng.uniform(0.01, 0.5, size)
    lift = rng.uniform(0.02, 0.5, size) * rng.choice([-1.0, 1.0], size)
    p_t = p_c * (1 + lift)
    ratio = rng.choice([0.5, 1.0, 2.0], size)  # NormalIndPower takes one ratio per call
    alpha = rng.choice([0.01, 0.05, 0.1], size)
    power = rng.uniform(0.7, 0.95, size)
    return p_c, p_t, ratio, alpha, power


def best_time(func, repeats: int = REPEATS):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), result


def differences(ours: np.ndarray, theirs: np.ndarray) -> tuple[float, float]:
    absolute = np.abs(ours - theirs)
    return float(absolute.max()), float((absolute / np.abs(theirs)).max())


def main() -> None:
    p_c, p_t, ratio, alpha, power = designs()
    rows = []

    t_ours, ours = best_time(
        lambda: sample_size_proportions(p_c, p_t, alpha=alpha, power=power, ratio=ratio)
    )
    t_sm, theirs = best_time(
        lambda: samplesize_proportions_2indep_onetail(
            p_c - p_t, p_t, power, ratio=ratio, alpha=alpha, alternative="two-sided"
        )
    )
    rows.append(("pooled vs samplesize_proportions_2indep_onetail", N_DESIGNS, t_ours, t_sm,
                 "measured", *differences(ours, theirs)))

    t_ours, ours = best_time(
        lambda: sample_size_proportions(
            p_c, p_t, alpha=alpha, power=power, ratio=ratio, method="arcsine"
        )
    )
    subset = np.random.default_rng(7).choice(N_DESIGNS, N_SUBSET, replace=False)
    h = proportion_effectsize(p_t[subset], p_c[subset])
    engine = NormalIndPower()
    start = time.perf_counter()
    theirs = np.array([
        engine.solve_power(h[i], nobs1=None, alpha=alpha[j], power=power[j], ratio=ratio[j])
        for i, j in enumerate(subset)
    ])
    t_subset = time.perf_counter() - start
    rows.append(("arcsine vs NormalIndPower().solve_power", N_DESIGNS, t_ours,
                 t_subset * N_DESIGNS / N_SUBSET,
                 f"scaled from {N_SUBSET:,}", *differences(ours[subset], theirs)))
    # Which root is closer? The power each n actually gives, against the target power.
    kw = dict(alpha=alpha[subset], ratio=ratio[subset], method="arcsine")
    rates = p_c[subset], p_t[subset]
    miss_ours = np.abs(power_proportions(*rates, ours[subset], **kw) - power[subset])
    miss_sm = np.abs(power_proportions(*rates, theirs, **kw) - power[subset])

    print(f"sample_size_proportions on {N_DESIGNS:,} seeded two-sided designs "
          f"(vectorised timings: best of {REPEATS})")
    header = (f"{'comparison':<50} {'designs':>8} {'abteach s':>10} {'statsmodels s':>14} "
              f"{'ratio':>8}  {'statsmodels timing':<20} {'max abs diff':>12} {'max rel diff':>12}")
    print(header)
    print("-" * len(header))
    for name, size, t_a, t_s, how, abs_diff, rel_diff in rows:
        print(f"{name:<50} {size:>8,} {t_a:>10.4f} {t_s:>14.4f} {t_s / t_a:>7.2f}x  {how:<20} "
              f"{abs_diff:>12.3e} {rel_diff:>12.3e}")
    print(f"ratio = statsmodels time / abteach time; arcsine differences are over the "
          f"{N_SUBSET:,} designs statsmodels solved.")
    print(f"arcsine, largest |power(n) - target| on that subset: abteach {miss_ours.max():.1e}, "
          f"statsmodels {miss_sm.max():.1e} (the differences are statsmodels' root-finder "
          "tolerance)")


if __name__ == "__main__":
    main()
