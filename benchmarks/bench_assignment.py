"""Benchmark: assigning 1,000,000 ids ("user-123456") with abteach.assignment.

Times the vectorised path (``assign_many``) on all 1,000,000 ids, and two plain Python loops
on the first 100,000 ids, scaled by 10 to estimate a million (labelled as estimates):

* a loop over ``assign``, the public scalar function; most of its time per call is argument
  validation (small numpy checks of the weights and coverage);
* a loop over ``growthbook_hash`` with a range lookup in Python, i.e. the hashing alone, as a
  learner's own pure-Python implementation would do it.

Vectorised timings are the best of 3 repeats (filtering out noise from other processes on a
shared machine); loops run once. The paths are checked to agree on the ids they share.

Run from the repository root::

    .venv/bin/python benchmarks/bench_assignment.py
"""

from __future__ import annotations

import platform
import time

import numpy as np

from abteach.assignment import assign, assign_many, bucket_ranges, growthbook_hash, make_unit_ids

N_IDS = 1_000_000
N_LOOP = 100_000
WEIGHTS = [0.5, 0.5]
KEY = "checkout-redesign-2024"


def best_time(function, repeats: int) -> tuple[float, object]:
    """Smallest wall-clock time of ``repeats`` calls, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def hash_loop(ids: list[str], version: int) -> list[int | None]:
    """Hash each id and look its value up in the ranges, in plain Python."""
    ranges = bucket_ranges(WEIGHTS)
    variants = []
    for unit in ids:
        value = growthbook_hash(KEY, unit, version)
        variants.append(next((i for i, (lo, hi) in enumerate(ranges) if lo <= value < hi), None))
    return variants


def report_loop(label: str, seconds: float, vectorised_seconds: float, version: int) -> None:
    estimate = seconds * N_IDS / N_LOOP
    print(f"hash v{version}  {label:<25} {N_LOOP:>9,} ids (measured):        {seconds:7.3f} s")
    print(f"hash v{version}  {label:<25} {N_IDS:>9,} ids (ESTIMATE, x10): {estimate:7.3f} s"
          f"   vectorised is {estimate / vectorised_seconds:5.1f}x faster")


def main() -> None:
    ids = make_unit_ids(N_IDS, start=100_000)  # "user-100000" ... "user-1099999"
    print(f"Python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    print(f"{N_IDS:,} ids from {ids[0]!r} to {ids[-1]!r}, weights {WEIGHTS}, key {KEY!r}\n")
    for version in (2, 1):
        seconds, vectorised = best_time(
            lambda: assign_many(ids, KEY, WEIGHTS, hash_version=version), repeats=3
        )
        print(f"hash v{version}  {'assign_many (vectorised)':<25} {N_IDS:>9,} ids (best of 3):"
              f"       {seconds:7.3f} s")
        loop_seconds, looped = best_time(
            lambda: [assign(u, KEY, WEIGHTS, hash_version=version) for u in ids[:N_LOOP]],
            repeats=1,
        )
        assert vectorised[:N_LOOP].tolist() == looped, "vectorised and scalar paths disagree"
        report_loop("loop over assign", loop_seconds, seconds, version)
        hash_seconds, hashed = best_time(lambda: hash_loop(ids[:N_LOOP], version), repeats=1)
        assert hashed == looped, "hash loop and assign disagree"
        report_loop("loop over growthbook_hash", hash_seconds, seconds, version)
        print(f"hash v{version}  share in treatment: {np.mean(vectorised == 1):.4f}\n")
    seconds, _ = best_time(
        lambda: assign_many(ids, KEY, [0.2, 0.3, 0.5], coverage=0.4, namespace=("layer", 0, 0.5)),
        repeats=3,
    )
    print(f"hash v2  assign_many with coverage and namespace, {N_IDS:,} ids: {seconds:7.3f} s")


if __name__ == "__main__":
    main()
