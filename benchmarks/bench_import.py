"""Benchmark: the cost of ``import abteach`` in a fresh process, against numpy + scipy + pandas.

Three statements, each timed inside a fresh interpreter (interpreter start-up excluded), the
three interleaved in every round so that the machine's load affects them alike:

* baseline: ``import numpy, scipy.stats, pandas`` (what any chapter needs anyway);
* ``import abteach`` (the lazy root: nothing is loaded until a name is used);
* ``import abteach; abteach.ztest_proportions`` (the first real use, which loads the module).

It prints the median of ROUNDS rounds and the ratios to the baseline (issue 10's goal: at most
1.25x), then which heavy packages a fresh ``import abteach`` and the first use load.

Run: ``python benchmarks/bench_import.py`` (about 30 s on 2 cores).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

ROUNDS = 15
ROOT = Path(__file__).resolve().parent.parent
HEAVY = (
    "numpy", "scipy", "scipy.stats", "pandas", "plotly", "yaml", "duckdb", "pyarrow",
    "ipywidgets", "IPython", "nbformat", "nbclient", "statsmodels",
)
STATEMENTS = {
    "baseline: import numpy, scipy.stats, pandas": "import numpy, scipy.stats, pandas",
    "import abteach": "import abteach",
    "import abteach; abteach.ztest_proportions": "import abteach; abteach.ztest_proportions",
}
CHILD = """
import sys, time, json
start = time.perf_counter()
{statement}
elapsed = time.perf_counter() - start
print(json.dumps({{"seconds": elapsed, "heavy": [m for m in {heavy!r} if m in sys.modules],
                  "modules": len(sys.modules)}}))
"""


def measure(statement: str) -> dict:
    code = CHILD.format(statement=statement, heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    # One warm-up round fills the OS file cache, so the first timed round is not an outlier.
    for statement in STATEMENTS.values():
        measure(statement)
    runs: dict[str, list[dict]] = {label: [] for label in STATEMENTS}
    for _ in range(ROUNDS):
        for label, statement in STATEMENTS.items():
            runs[label].append(measure(statement))
    medians = {label: statistics.median(r["seconds"] for r in results) for label, results in runs.items()}
    baseline = medians[next(iter(STATEMENTS))]
    print(f"median of {ROUNDS} fresh processes (interpreter start-up excluded), Python {sys.version.split()[0]}")
    print(f"{'statement':<46} {'median':>9} {'vs baseline':>12} {'modules':>8}")
    for label, results in runs.items():
        print(f"{label:<46} {medians[label] * 1000:7.0f} ms {medians[label] / baseline:11.2f}x "
              f"{results[0]['modules']:>8}")
    for label in list(STATEMENTS)[1:]:
        heavy = runs[label][0]["heavy"]
        print(f"heavy packages loaded by `{label}`: {', '.join(heavy) or 'none'}")


if __name__ == "__main__":
    main()
