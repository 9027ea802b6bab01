"""Grading a class, timed: 28 honest submissions, serial and with ``--jobs 2``.

The class of issue 12: 14 copies of the published solutions of chapter 5 and 14 of chapter 10,
named as an LMS names them (``smithjane_123456_7890123_05_analysis.ipynb``), graded in the
sandbox by ``abteach-grade`` once serially and once with two jobs. Prints the time per notebook
of each run and checks that both gradebooks are the same and give every notebook full marks.
Run: ``python benchmarks/bench_grade.py``.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
import time
from pathlib import Path

from abteach.course.grade import main as grade

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = {"05_analysis.ipynb": 14, "10_sequential.ipynb": 14}


def make_class(folder: Path) -> int:
    count = 0
    for name, copies in CHAPTERS.items():
        for k in range(copies):
            target = folder / f"student{count:02d}_{100_000 + count}_{7_000_000 + k}_{name}"
            shutil.copy(ROOT / "solutions" / name, target)
            count += 1
    return count


def rows(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return sorted(csv.DictReader(handle), key=lambda row: row["notebook"])


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "submissions"
        folder.mkdir()
        count = make_class(folder)
        results = {}
        for jobs in (1, 2):
            out = Path(tmp) / f"grades_{jobs}.csv"
            start = time.perf_counter()
            assert grade([str(folder), "--out", str(out), "--jobs", str(jobs)]) == 0
            elapsed = time.perf_counter() - start
            results[jobs] = rows(out)
            print(f"--jobs {jobs}: {count} notebooks in {elapsed:.1f} s, {elapsed / count:.2f} s per notebook")
        assert results[1] == results[2], "serial and parallel gradebooks differ"
        assert all(row["total"] == row["out_of"] and row["status"] == "graded" for row in results[1])
        print(f"same gradebook serial and in parallel; {count}/{count} full marks; "
              f"sandbox: {results[1][0]['sandbox']}")


if __name__ == "__main__":
    main()
