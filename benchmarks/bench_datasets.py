"""Loading the shipped real data sets: cold (a fresh process, imports included) and warm.

Issue 14 asks for each load under 5 s on the course machine (2 cores). Run:
``python benchmarks/bench_datasets.py``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOADERS = ("hillstrom", "asos", "hillstrom_events")
REPEATS = 5


def cold(loader: str) -> float:
    code = (
        "import time; t = time.perf_counter(); import abteach; "
        f"abteach.{loader}(); print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return float(out.stdout)


def warm(loader: str) -> float:
    import abteach

    function = getattr(abteach, loader)
    function()
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    import abteach.datasets as datasets

    package = Path(datasets.__file__).parent
    shipped = sum(path.stat().st_size for path in package.glob("*.xz"))
    print(f"data shipped in the package: {shipped / 1e6:.2f} MB (xz)")
    print(f"{'loader':<18}{'cold (s)':>10}{'warm (s)':>10}")
    for loader in LOADERS:
        cold_s = statistics.median(cold(loader) for _ in range(3))
        print(f"{loader:<18}{cold_s:>10.2f}{warm(loader):>10.2f}")


if __name__ == "__main__":
    main()
