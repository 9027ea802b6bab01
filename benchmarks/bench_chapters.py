"""Execution time and peak kernel memory of every chapter, appendix and solution notebook.

Each notebook runs from a fresh kernel in its own process, as Binder would run it (one CPU,
2 GB). The peak resident memory is that of the kernel process (the runner's only child).

    .venv/bin/python benchmarks/bench_chapters.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from abteach.course.notebooks import notebooks

ROOT = Path(__file__).resolve().parent.parent
BINDER_LIMIT_MB = 2048

RUNNER = """
import json, resource, sys, time
import nbformat
from nbclient import NotebookClient
path = sys.argv[1]
nb = nbformat.read(path, as_version=4)
start = time.perf_counter()
NotebookClient(nb, timeout=600, kernel_name="python3",
               resources={"metadata": {"path": str(__import__("pathlib").Path(path).parent)}}).execute()
seconds = time.perf_counter() - start
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024}))
"""


def measure(path: Path) -> dict:
    result = subprocess.run([sys.executable, "-c", RUNNER, str(path)], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    paths = notebooks(ROOT)
    print(f"{'notebook':40s} {'seconds':>8s} {'peak MB':>8s}")
    worst = 0.0
    total = time.perf_counter()
    for path in paths:
        row = measure(path)
        worst = max(worst, row["peak_mb"])
        print(f"{str(path.relative_to(ROOT)):40s} {row['seconds']:8.1f} {row['peak_mb']:8.0f}")
    print(f"all notebooks: {time.perf_counter() - total:.1f} s; largest kernel peak {worst:.0f} MB "
          f"({'within' if worst < BINDER_LIMIT_MB else 'OVER'} Binder's {BINDER_LIMIT_MB} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
