"""Benchmark: group-sequential boundaries of abteach.sequential, and spotify-confidence's.

Three parts:

1. Time of ``boundaries(K, method=...)`` for K = 5, 10, 100 and 365 equally spaced looks,
   two-sided alpha = 0.05, Lan-DeMets O'Brien-Fleming spending (``ld-obf``), Pocock (one root
   find on the constant, every step a full recursion) and power-family spending rho = 2
   (best of several runs; wall clock and CPU time of this process, which differ when the
   machine is shared). Goal: under 0.1 s at 100 looks and under 1 s at 365.
2. Numerical self-check: the same boundaries with every quadrature panel halved; the largest
   change shows the accuracy of the default grid.
3. spotify-confidence (PyPI ``spotify-confidence``), whose ``sequential_bound_solver.bounds``
   is a Python port of R ldbounds' ``landem`` and offers only the power family alpha t^rho;
   its z-test computer calls it with rho = 2, ztrun = 8, max_nints = 1000, which is what is
   timed here. It computes one-sided bounds at alpha/2 per side (the lower side is only
   truncated at -8), so it is compared with abteach's one-sided design at 0.025 (the same
   design) and with the two-sided symmetric one. spotify-confidence pins old versions of
   several packages, so it runs in its own virtual environment, in a subprocess, with the
   interpreter given by ``--confidence-python`` or the environment variable
   ``ABTEACH_CONFIDENCE_PYTHON``, e.g.::

       python3.11 -m venv /tmp/venv-confidence
       /tmp/venv-confidence/bin/pip install spotify-confidence numpy scipy
       export ABTEACH_CONFIDENCE_PYTHON=/tmp/venv-confidence/bin/python
       python benchmarks/bench_sequential.py

   Without it that part is skipped with a note. Its 365-look run takes minutes; each run has
   a time limit (``--timeout``, default 900 s).

Run: ``python benchmarks/bench_sequential.py`` (about 20 s without spotify-confidence).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

from abteach.sequential import _recursion
from abteach.sequential import boundaries

LOOKS = (5, 10, 100, 365)
METHODS = {"ld-obf": {}, "pocock": {}, "power": {"rho": 2.0}}

SPOTIFY_SCRIPT = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
import numpy as np
from spotify_confidence.analysis.frequentist.sequential_bound_solver import bounds
k = int(sys.argv[1])
t = np.arange(1, k + 1) / k
start = time.perf_counter()
result = bounds(t, 0.05, rho=2, ztrun=8, sides=2, max_nints=1000)
seconds = time.perf_counter() - start
print(json.dumps({"looks": k, "seconds": seconds, "bounds": [float(b) for b in result.bounds]}))
"""


def best_time(func, repeats: int):
    """Best wall-clock and CPU time over ``repeats`` runs, and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = func()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus), result


def timings() -> dict:
    print("1. abteach boundaries(K, alpha=0.05), two-sided, best of 5 (K <= 100) or 3 runs")
    print(f"   {'method':8s} {'looks':>5s} {'wall s':>8s} {'cpu s':>8s}  goal   last boundary")
    results = {}
    for method, extra in METHODS.items():
        for k in LOOKS:
            wall, cpu, d = best_time(lambda: boundaries(k, method=method, **extra),
                                     5 if k <= 100 else 3)
            goal = {100: 0.1, 365: 1.0}.get(k)
            mark = "" if goal is None else ("ok" if min(wall, cpu) < goal else "SLOW")
            print(f"   {method:8s} {k:5d} {wall:8.4f} {cpu:8.4f}  {mark:5s}  "
                  f"{d.critical_values[-1]:.6f}")
            results[(method, k)] = (wall, d)
    return results


def self_check(results: dict) -> None:
    print("\n2. Accuracy: largest change of the boundaries when every quadrature panel is halved")
    saved = _recursion._PANEL_PER_SD, _recursion._MAX_PANEL
    _recursion._PANEL_PER_SD, _recursion._MAX_PANEL = saved[0] / 2, saved[1] / 2
    try:
        for method in ("ld-obf", "pocock"):
            for k in (100, 365):
                coarse = results[(method, k)][1]
                fine = boundaries(k, method=method)
                keep = coarse.cumulative_alpha > 1e-20  # looks that spend something
                change = np.max(np.abs(fine.critical_values[keep] - coarse.critical_values[keep]))
                print(f"   {method:8s} {k:5d} looks: {change:.1e}")
    finally:
        _recursion._PANEL_PER_SD, _recursion._MAX_PANEL = saved


def spotify(python: str | None, timeout: float, results: dict) -> None:
    print("\n3. spotify-confidence sequential_bound_solver.bounds(t, 0.05, rho=2, ztrun=8, "
          "sides=2, max_nints=1000)")
    if not python:
        print("   skipped: no interpreter with spotify-confidence (set ABTEACH_CONFIDENCE_PYTHON "
              "or pass --confidence-python; see this file's docstring)")
        return
    print(f"   interpreter: {python}")
    header = (f"   {'looks':>5s} {'spotify s':>10s} {'abteach s':>10s} {'ratio':>8s}  "
              f"{'max |diff|, one-sided 0.025':>28s}  {'max |diff|, two-sided':>22s}")
    print(header)
    for k in LOOKS:
        try:
            out = subprocess.run([python, "-c", SPOTIFY_SCRIPT, str(k)], capture_output=True,
                                 text=True, timeout=timeout, check=True)
        except FileNotFoundError:
            print(f"   unavailable: {python} not found")
            return
        except subprocess.TimeoutExpired:
            print(f"   {k:5d} did not finish within {timeout:.0f} s")
            continue
        except subprocess.CalledProcessError as exc:
            last = (exc.stderr.strip().splitlines() or ["no output"])[-1]
            print(f"   unavailable: spotify-confidence failed ({last})")
            return
        theirs = json.loads(out.stdout.strip().splitlines()[-1])
        ours_wall, _ = results[("power", k)]
        one_sided = boundaries(k, method="power", rho=2, alpha=0.025, alternative="larger")
        two_sided = results[("power", k)][1]
        b = np.array(theirs["bounds"])
        diff_one = np.abs(b - one_sided.critical_values)
        diff_two = np.abs(b - two_sided.critical_values)
        where = int(np.argmax(diff_one)) + 1
        print(f"   {k:5d} {theirs['seconds']:10.3f} {ours_wall:10.4f} "
              f"{theirs['seconds'] / ours_wall:8.0f}  {diff_one.max():20.2e} (look {where:3d})"
              f"  {diff_two.max():22.2e}")
    print("   (abteach's values are checked against nested quadrature, Genz's multivariate normal"
          "\n    CDF, gsDesign and rpact in tests/test_sequential.py; spotify-confidence uses the"
          "\n    trapezoidal rule on a grid of at most 1001 points and a 1e-7 tolerance on the"
          "\n    crossing probability)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--confidence-python", default=os.environ.get("ABTEACH_CONFIDENCE_PYTHON"),
                        help="Python interpreter with spotify-confidence installed")
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="time limit of each spotify-confidence run, in seconds")
    args = parser.parse_args()
    print(f"numpy {np.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
    results = timings()
    self_check(results)
    spotify(args.confidence_python, args.timeout, results)


if __name__ == "__main__":
    main()
