"""Grade a folder of submitted exercise notebooks into a gradebook CSV.

    abteach-grade SUBMISSIONS_FOLDER --out grades.csv [--jobs 2] [--edition SECRET] [--feedback DIR]

Each notebook runs in its own sandbox (:mod:`abteach.course.sandbox`): a private copy, no
network, the answer keys and the grader invisible, resource limits, everything it started killed
when it ends. Inside, a small runner executes the code cells in order and, after each cell,
sends the values of the chapter's answer variables (the grader passes their NAMES only) as
plain JSON data; the grader checks them in its own process. Printed lines are never trusted,
and a cell that hangs or crashes costs only the exercises it and later cells answer.

Writes ``grades.csv`` (one row per notebook: student, chapter, edition, points per exercise,
total, status, reason, sandbox protections) and ``grades_exercises.csv`` (one row per exercise:
points, status - correct / wrong / not answered / error / timed out - and the hint a learner
would see), row by row; re-running the same command resumes where a killed run stopped.
Without bubblewrap the grader refuses to run unless ``--no-sandbox`` is given.
"""

from __future__ import annotations

import argparse
import hashlib
import queue
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from abteach.course import missing_extra

try:
    import nbformat
except ImportError as error:
    raise missing_extra(error) from error

from abteach.course import sandbox
from abteach.course.check import CORRECT, INCORRECT, Exercise, UnsupportedAnswer, decode_answer
from abteach.course.editions import edition_exercises, edition_tag
from abteach.course.gradebook import Gradebook, chapter_from_name, submitter


@dataclass
class ExerciseGrade:
    """One exercise of one notebook."""

    exercise: str
    variable: str
    points: float
    max_points: float
    status: str
    hint: str


@dataclass
class Grade:
    """The grade of one notebook."""

    notebook: str
    sha256: str
    student: str = ""
    lms_id: str = ""
    chapter: int | None = None
    edition: str = "public"
    exercises: list[ExerciseGrade] = field(default_factory=list)
    status: str = "graded"
    reason: str = ""
    sandbox: str = ""

    @property
    def total(self) -> float:
        return sum(e.points for e in self.exercises)

    @property
    def out_of(self) -> float:
        return sum(e.max_points for e in self.exercises)

    def gradebook_row(self) -> dict:
        row = {
            "student": self.student, "lms_id": self.lms_id, "notebook": self.notebook,
            "sha256": self.sha256, "chapter": "" if self.chapter is None else f"{self.chapter:02d}",
            "edition": self.edition, "total": _number(self.total), "out_of": _number(self.out_of),
            "status": self.status, "reason": self.reason, "sandbox": self.sandbox,
        }
        row.update({e.exercise: _number(e.points) for e in self.exercises})
        return row

    def long_rows(self) -> list[dict]:
        base = {"student": self.student, "notebook": self.notebook, "sha256": self.sha256,
                "chapter": "" if self.chapter is None else f"{self.chapter:02d}", "edition": self.edition}
        return [{**base, "exercise": e.exercise, "variable": e.variable, "points": _number(e.points),
                 "max_points": _number(e.max_points), "status": e.status, "hint": e.hint}
                for e in self.exercises]

    def feedback(self) -> str:
        """The student's feedback as Markdown."""
        lines = [f"# Chapter {self.chapter or '?'}: {_number(self.total)} / {_number(self.out_of)}", "",
                 f"Notebook `{self.notebook}` ({self.edition} edition). {self.reason}".rstrip(), ""]
        lines += [f"- **{e.exercise}** ({_number(e.points)}/{_number(e.max_points)}, {e.status}): {e.hint}"
                  for e in self.exercises]
        return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return f"{value:g}"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _check_cells(nb, exercises) -> dict[str, int]:
    """The code cell that checks each exercise (``check("05.1", ...)``)."""
    found = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for ex in exercises:
            if ex.id not in found and re.search(rf"check\(\s*['\"]{re.escape(ex.id)}['\"]", cell.source):
                found[ex.id] = index
    return found


def _value(answers: dict, name: str):
    """The decoded answer ``name`` sent by the runner (``...`` when absent)."""
    if name not in answers:
        return Ellipsis
    try:
        return decode_answer(answers[name])
    except Exception:  # whatever the sandbox wrote into its results file, it is only a wrong answer
        return UnsupportedAnswer("undecodable answer")


def _failure_hint(status: str, cell, cause: str, message: str) -> str:
    what = "ran past its time limit" if status == "timed out" else "failed" + (f" ({cause})" if cause else "")
    return f"cell {cell} {what}; {message}"


def _assess(exercises: list[Exercise], nb, run: sandbox.Run, kill_status: str) -> tuple[list[ExerciseGrade], str]:
    """Grade each exercise from the runner's records: the last values sent, and whether the cell
    that checks it ran (``kill_status`` for the exercises the run never reached)."""
    records = [r for r in run.records if isinstance(r.get("cell"), int) or r.get("event") == "done"]
    ends = {r["cell"]: r for r in records if r.get("event") == "end"}
    answers = next((r["answers"] for r in reversed(records)
                    if r.get("event") == "end" and isinstance(r.get("answers"), dict)), {})
    finished = any(r.get("event") == "done" for r in records)
    started = [r["cell"] for r in records if r.get("event") == "start"]
    stopped_in = started[-1] if started and started[-1] not in ends else None
    checks = _check_cells(nb, exercises)
    grades = []
    for ex in exercises:
        result = ex.evaluate(_value(answers, ex.variable))
        cell = checks.get(ex.id)
        reached = finished or cell in ends
        cell_status = ends.get(cell, {}).get("status", "ok") if reached else None
        if result.status == CORRECT:
            status, hint = "correct", result.message
        elif not reached:
            status = kill_status
            hint = _failure_hint(status, stopped_in, "the run ended", result.message)
        elif cell_status != "ok":
            status = "timed out" if cell_status == "timed out" else "error"
            hint = _failure_hint(status, cell, str(ends[cell].get("error", "")), result.message)
        else:
            status = "wrong" if result.status == INCORRECT else "not answered"
            hint = result.message
        points = ex.points if status == "correct" else 0
        grades.append(ExerciseGrade(ex.id, ex.variable, points, ex.points, status, hint))
    errors = [f"cell {i}: {r.get('error', '')}" for i, r in sorted(ends.items()) if r.get("status") != "ok"]
    reason = "errors in " + "; ".join(errors) if errors else ""
    return grades, reason


def grade_notebook(
    path: Path,
    *,
    time_limit: float = 300.0,
    cell_time_limit: float = 120.0,
    secret: str | None = None,
    chapter: int | None = None,
    sandboxed: bool = True,
    protections: str = "",
    limits: sandbox.Limits = sandbox.Limits(),
    slot: int = 0,
) -> Grade:
    """Run one submitted notebook in a sandbox and grade it (never raises for a bad submission).

    ``secret`` grades a class edition; ``chapter`` is the assignment's chapter (a notebook of
    another chapter gets zeros and status "wrong chapter")."""
    path = Path(path)
    grade = Grade(path.name, sha256_of(path), sandbox=protections,
                  edition="public" if secret is None else edition_tag(secret))
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:
        grade.student = submitter(path.name, {}).student
        grade.status, grade.reason = "unreadable", f"{type(exc).__name__}: {exc}"[:300]
        return grade
    who = submitter(path.name, nb.metadata)
    grade.student, grade.lms_id = who.student, who.lms_id
    meta = nb.metadata.get("abteach", {}) if isinstance(nb.metadata.get("abteach"), dict) else {}
    declared = meta.get("chapter")
    declared = declared if isinstance(declared, int) and not isinstance(declared, bool) else None
    found = declared or chapter_from_name(who.original)
    notes = []
    if declared and chapter_from_name(who.original) not in (None, declared):
        notes.append(f"file name says chapter {chapter_from_name(who.original)}, metadata {declared}")
    if meta.get("edition", "public") != grade.edition:
        notes.append(f"notebook is from the {meta.get('edition', 'public')} edition")
    grade.chapter = chapter or found
    if grade.chapter is None:
        grade.status, grade.reason = "unreadable", "cannot tell the chapter: no abteach.chapter metadata, no NN_ name"
        return grade
    try:
        exercises = list(edition_exercises(grade.chapter, secret))
    except ValueError as exc:
        grade.status, grade.reason = "unreadable", str(exc)
        return grade
    if chapter is not None and found != chapter:
        grade.exercises = [ExerciseGrade(e.id, e.variable, 0, e.points, "not answered", "wrong chapter")
                           for e in exercises]
        grade.status, grade.reason = "wrong chapter", f"a chapter {found} notebook, expected chapter {chapter}"
        return grade
    cells = [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    run = sandbox.run_cells(path, cells, sorted({e.variable for e in exercises}), time_limit=time_limit,
                            cell_time_limit=cell_time_limit, limits=limits, sandboxed=sandboxed, slot=slot)
    finished = any(r.get("event") == "done" for r in run.records)
    kill_status = "timed out" if run.killed else "error"
    grade.exercises, grade.reason = _assess(exercises, nb, run, kill_status)
    if not finished:
        started = [r.get("cell") for r in run.records if r.get("event") == "start"]
        where = f"in cell {started[-1]}" if started else "before the first cell"
        grade.status = "timed out" if run.killed else "crashed"
        cause = run.killed or f"the kernel died (exit status {run.returncode})"
        notes.insert(0, f"{cause} {where}")
    grade.reason = "; ".join(notes + ([grade.reason] if grade.reason else []))
    return grade


def _chapter_hint(path: Path) -> int | None:
    """The chapter a notebook seems to be (for the gradebook's columns), or None."""
    try:
        nb = nbformat.read(path, as_version=4)
        section = nb.metadata.get("abteach")
        declared = section.get("chapter") if isinstance(section, dict) else None
        return declared if isinstance(declared, int) else chapter_from_name(submitter(path.name, {}).original)
    except Exception:
        return chapter_from_name(submitter(path.name, {}).original)


def grade_folder(paths: list[Path], gradebook: Gradebook, *, jobs: int = 1, feedback: Path | None = None,
                 report=print, **options) -> list[Grade]:
    """Grade ``paths`` with ``jobs`` sandboxes at a time, adding each row as soon as it is graded."""
    edition = "public" if options.get("secret") is None else edition_tag(options["secret"])
    todo = [p for p in paths if not gradebook.done(sha256_of(p), edition)]
    if len(todo) < len(paths):
        report(f"resuming: {len(paths) - len(todo)} notebook(s) already in {gradebook.out}")
    slots: queue.Queue[int] = queue.Queue()
    for slot in range(jobs):
        slots.put(slot)

    def one(path: Path) -> Grade:
        slot = slots.get()
        try:
            return grade_notebook(path, slot=slot, **options)
        except Exception as exc:  # a notebook the grader did not foresee must not stop the run
            return Grade(path.name, sha256_of(path), student=path.stem, edition=edition, status="crashed",
                         reason=f"the grader could not grade it: {type(exc).__name__}: {exc}"[:300],
                         sandbox=options.get("protections", ""))
        finally:
            slots.put(slot)

    grades = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for future in as_completed([pool.submit(one, path) for path in todo]):
            grade = future.result()
            gradebook.add(grade.gradebook_row(), grade.long_rows())
            if feedback is not None:
                feedback.mkdir(parents=True, exist_ok=True)
                (feedback / f"{Path(grade.notebook).stem}.md").write_text(grade.feedback())
            report(f"{grade.notebook}: {_number(grade.total)}/{_number(grade.out_of)} {grade.status} "
                   f"{grade.reason}".rstrip())
            grades.append(grade)
    gradebook.finish()
    return grades


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="abteach-grade",
        description="Grade a folder of submitted exercise notebooks, each in its own sandbox.",
    )
    parser.add_argument("folder", type=Path, help="folder holding the submitted .ipynb files")
    parser.add_argument("--out", type=Path, default=Path("grades.csv"), help="gradebook CSV (one row per notebook)")
    parser.add_argument("--long-out", type=Path, help="per-exercise CSV (default: OUT with _exercises)")
    parser.add_argument("--time-limit", type=float, default=300.0, help="seconds per notebook (default 300 s)")
    parser.add_argument("--cell-time-limit", type=float, default=120.0, help="seconds per cell (default 120 s)")
    parser.add_argument("--memory", type=float, default=3.0, help="address space per notebook (default 3 GiB)")
    parser.add_argument("--jobs", type=int, default=1,
                        help=f"notebooks graded at the same time (default 1, at most {sandbox.UIDS_PER_GRADER})")
    parser.add_argument("--chapter", type=int, help="the assignment's chapter (other chapters get zero)")
    parser.add_argument("--edition", metavar="SECRET", help="grade the class edition made with this secret")
    parser.add_argument("--feedback", type=Path, help="folder for one Markdown feedback file per notebook")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run submissions WITHOUT isolation (only for trusted notebooks)")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        parser.error(f"folder {str(args.folder)!r} is not a directory")
    for name in ("time_limit", "cell_time_limit", "memory", "jobs"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be > 0, got {getattr(args, name):g}")
    if args.edition is not None:
        try:
            edition_tag(args.edition)
        except ValueError as exc:
            parser.error(f"--edition: {exc}")
    if args.jobs > sandbox.UIDS_PER_GRADER:
        parser.error(f"--jobs must be <= {sandbox.UIDS_PER_GRADER}, got {args.jobs}")
    paths = sorted(p for p in args.folder.glob("*.ipynb") if not p.name.startswith("."))
    if not paths:
        parser.error(f"no .ipynb files in {str(args.folder)!r}")
    if args.no_sandbox:
        protections, sandboxed = "none (--no-sandbox)", False
        print("WARNING: --no-sandbox: submissions run with the grader's rights, network and files", file=sys.stderr)
    else:
        held, problem = sandbox.probe()
        if problem:
            parser.exit(2, f"abteach-grade: cannot sandbox the submissions: {problem}\n"
                        "Install bubblewrap, or pass --no-sandbox to grade trusted notebooks without isolation.\n")
        missing = [p for p in sandbox.ALL_PROTECTIONS if p not in held]
        protections, sandboxed = "+".join(held) + ("; missing " + "+".join(missing) if missing else ""), True
        if missing:
            print(f"WARNING: sandbox protections missing on this machine: {', '.join(missing)}", file=sys.stderr)
    exercise_ids = []
    for chapter in sorted({args.chapter} if args.chapter else set(map(_chapter_hint, paths)) - {None}):
        try:
            exercise_ids += [e.id for e in edition_exercises(chapter, None)]
        except ValueError:
            continue
    long_out = args.long_out or args.out.with_name(f"{args.out.stem}_exercises{args.out.suffix}")
    gradebook = Gradebook(args.out, long_out, exercise_ids)
    start = time.monotonic()
    grades = grade_folder(
        paths, gradebook, jobs=args.jobs, feedback=args.feedback, time_limit=args.time_limit,
        cell_time_limit=args.cell_time_limit, secret=args.edition, chapter=args.chapter,
        sandboxed=sandboxed, protections=protections,
        limits=sandbox.Limits(memory=int(args.memory * 2**30), cpu=int(args.time_limit) + 5),
    )
    seconds = time.monotonic() - start
    print(f"graded {len(grades)} notebook(s) in {seconds:.1f} s with {args.jobs} job(s); wrote {args.out} and {long_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
