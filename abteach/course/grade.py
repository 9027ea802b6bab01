"""Grade a folder of submitted exercise notebooks into a CSV file.

    abteach-grade SUBMISSIONS_FOLDER --out grades.csv --time-limit 300

Each notebook is run from a fresh kernel, in its own folder, under a time limit for the whole
notebook. A cell that raises does not stop the run (as in class, later exercises still count;
the errors are listed in the ``reason`` column). Then one extra cell, added by the grader,
sends the chapter's answer variables out of the kernel as plain JSON data
(:func:`abteach.course.check.answers_json`), and the grader checks them in its own process
(:func:`abteach.course.check.grade_answers_json`). Lines a notebook prints are never trusted, and a
notebook that replaces the checking functions in its own kernel changes nothing: the worst
it can do is send values, which are then checked like any answer.

A notebook that cannot be read, whose kernel dies, or that runs past the time limit gets zero
for every exercise and the reason; grading goes on with the next notebook. One row per
notebook, one column per exercise (1 correct, 0 otherwise), then ``total``, ``out_of``,
``status`` and ``reason``.

The submissions are ordinary code and run with the grader's rights: grade them in a
throw-away environment (a container, a virtual machine, or at least a separate account).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from abteach.course import missing_extra

try:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
except ImportError as error:
    raise missing_extra(error) from error

from abteach.course.check import exercises_for, grade_answers_json

GRADE_MARKER = "ABTEACH-GRADE-JSON "
GRADING_CELL = (
    "import abteach.course.check as __abteach_check\n"
    "print({marker!r} + __abteach_check.answers_json({chapter}, globals()))"
)


@dataclass
class Grade:
    """The grade of one notebook."""

    notebook: str
    chapter: int | None
    points: dict[str, int] = field(default_factory=dict)
    status: str = "graded"
    reason: str = ""


def chapter_of(nb, path: Path) -> int:
    """The chapter a notebook belongs to: its ``abteach.chapter`` metadata, else its file name."""
    chapter = nb.metadata.get("abteach", {}).get("chapter")
    if isinstance(chapter, int) and not isinstance(chapter, bool):
        return chapter
    match = re.match(r"(\d\d)_", path.name)
    if match:
        return int(match.group(1))
    raise ValueError(f"cannot tell the chapter of {path.name}: no abteach.chapter metadata, no NN_ prefix")


def _error_summary(nb) -> str:
    errors = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                errors.append(f"cell {index}: {output.get('ename')}")
    return "errors in " + "; ".join(errors) if errors else ""


def _zero(grade: Grade, exercise_ids, status: str, reason: str) -> Grade:
    grade.points = {ex: 0 for ex in exercise_ids}
    grade.status, grade.reason = status, reason
    return grade


def grade_notebook(path: Path, *, time_limit: float = 300.0) -> Grade:
    """Run one submitted notebook and grade it (never raises for a bad submission)."""
    path = Path(path)
    try:
        nb = nbformat.read(path, as_version=4)
        chapter = chapter_of(nb, path)
        exercise_ids = [ex.id for ex in exercises_for(chapter)]
    except Exception as exc:
        return _zero(Grade(path.name, None), [], "unreadable", f"{type(exc).__name__}: {exc}")
    grade = Grade(path.name, chapter)
    nb.cells.append(
        nbformat.v4.new_code_cell(GRADING_CELL.format(marker=GRADE_MARKER, chapter=chapter))
    )
    client = NotebookClient(
        nb,
        timeout=time_limit,
        allow_errors=True,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    deadline = time.monotonic() + time_limit
    try:
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise CellTimeoutError(f"cell {index} not reached")
                client.timeout = max(1, int(remaining))
                client.execute_cell(cell, index)
    except CellTimeoutError:
        return _zero(grade, exercise_ids, "timed out", f"ran past the time limit of {time_limit:g} s")
    except DeadKernelError as exc:
        return _zero(grade, exercise_ids, "crashed", f"the kernel died: {exc}")
    except Exception as exc:
        return _zero(grade, exercise_ids, "crashed", f"{type(exc).__name__}: {exc}")
    report = None
    for output in nb.cells[-1].outputs:
        for line in output.get("text", "").splitlines():
            if line.startswith(GRADE_MARKER):
                report = line[len(GRADE_MARKER):]
    if report is None:
        return _zero(grade, exercise_ids, "crashed", "the grading cell produced no report")
    try:
        results = grade_answers_json(chapter, report)
    except ValueError as exc:
        return _zero(grade, exercise_ids, "crashed", f"unreadable answers from the kernel: {exc}")
    grade.points = {result.exercise: result.points for result in results}
    grade.reason = _error_summary(nb)
    return grade


def write_csv(grades: list[Grade], out: Path) -> None:
    """One row per notebook, one column per exercise (union over the chapters met)."""
    columns: list[str] = []
    for grade in grades:
        columns += [ex for ex in grade.points if ex not in columns]
    columns.sort(key=lambda ex: tuple(int(part) for part in ex.split(".")))
    with open(out, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["notebook", "chapter", *columns, "total", "out_of", "status", "reason"])
        for g in grades:
            cells = [g.points[ex] if ex in g.points else "" for ex in columns]
            total = sum(g.points.values())
            writer.writerow([g.notebook, g.chapter or "", *cells, total, len(g.points), g.status, g.reason])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="abteach-grade",
        description="Grade a folder of submitted exercise notebooks into a CSV (one row per notebook).",
    )
    parser.add_argument("folder", type=Path, help="folder holding the submitted .ipynb files")
    parser.add_argument("--out", type=Path, default=Path("grades.csv"), help="CSV file to write")
    parser.add_argument(
        "--time-limit", type=float, default=300.0, help="seconds allowed per notebook (default 300)"
    )
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        parser.error(f"folder {str(args.folder)!r} is not a directory")
    if args.time_limit <= 0:
        parser.error(f"--time-limit must be > 0, got {args.time_limit:g}")
    paths = sorted(p for p in args.folder.glob("*.ipynb") if not p.name.startswith("."))
    if not paths:
        parser.error(f"no .ipynb files in {str(args.folder)!r}")
    grades = []
    for path in paths:
        grade = grade_notebook(path, time_limit=args.time_limit)
        print(f"{path.name}: {sum(grade.points.values())}/{len(grade.points)} {grade.status} {grade.reason}".rstrip())
        grades.append(grade)
    write_csv(grades, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
