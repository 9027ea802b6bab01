"""Who submitted a notebook, and the grader's CSV files (written row by row, resumable).

Student ids come from the notebook's metadata (``abteach.student``) or from the file names LMS
downloads use:

* Canvas: ``smithjane_123456_7890123_05_analysis.ipynb`` (``smithjane_LATE_123456_...`` when late);
* Moodle: ``Jane Smith_123456_assignsubmission_file_05_analysis.ipynb``;
* Blackboard: ``Assignment 5_jsmith_attempt_2026-03-01-10-22-13_05_analysis.ipynb``;
* Colab copies: ``Copy of 05_analysis.ipynb``, ``05_analysis (1).ipynb`` (no student in the name:
  the file name stands for the student).

Two CSV files: the gradebook (one row per notebook, i.e. per student and assignment) and the long
file (one row per exercise). Each row is one ``write`` of a whole line, flushed and fsynced as
soon as its notebook is graded; the long rows of a notebook are written before its gradebook row.
Re-running the same command reads the gradebook back, skips the notebooks already in it (by the
SHA-256 of their content) and drops a torn last line or long rows without a gradebook row.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

LMS_PATTERNS = (
    ("canvas", re.compile(r"^(?P<student>[A-Za-z0-9-]+)_(?:LATE_)?(?P<lms_id>\d+)_\d+_(?P<original>.+)$")),
    ("moodle", re.compile(r"^(?P<student>.+?)_(?P<lms_id>\d+)_assignsubmission_[a-z]+_(?P<original>.+)$")),
    ("blackboard", re.compile(
        r"^.+?_(?P<student>[^_]+)_attempt_\d{4}(?:-\d\d){5}(?:_(?P<original>.+))?$")),
)
COPY_PREFIX = re.compile(r"^(?:Copy of |Kopie von |Copie de |Copia de )+")
DUPLICATE_SUFFIX = re.compile(r" \(\d+\)$")
GRADEBOOK_HEAD = ("student", "lms_id", "notebook", "sha256", "chapter", "edition")
GRADEBOOK_TAIL = ("total", "out_of", "status", "reason", "sandbox")
LONG_COLUMNS = ("student", "notebook", "sha256", "chapter", "edition", "exercise", "variable",
                "points", "max_points", "status", "hint")


@dataclass(frozen=True)
class Submitter:
    """Who a notebook is from: ``student``, the LMS's numeric id if any, the LMS, and the file
    name the student gave it (what the LMS prefix wrapped)."""

    student: str
    lms_id: str
    lms: str
    original: str


def submitter(file_name: str, metadata) -> Submitter:
    """The student behind ``file_name``: metadata ``abteach.student`` first, then LMS patterns."""
    stem = file_name[:-6] if file_name.endswith(".ipynb") else file_name
    student, lms_id, lms, original = "", "", "", stem
    for name, pattern in LMS_PATTERNS:
        match = pattern.match(stem)
        if match:
            student, lms_id, lms = match["student"], match.groupdict().get("lms_id") or "", name
            original = match["original"] or ""
            break
    original = DUPLICATE_SUFFIX.sub("", COPY_PREFIX.sub("", original))
    if COPY_PREFIX.match(stem) or DUPLICATE_SUFFIX.search(stem):
        lms = lms or "colab"
    section = metadata.get("abteach") if hasattr(metadata, "get") else None
    declared = section.get("student") if isinstance(section, dict) else None
    if isinstance(declared, str) and declared.strip():
        student = declared.strip()
    return Submitter(student or stem, lms_id, lms, original)


def chapter_from_name(original: str) -> int | None:
    """The chapter in an exercise file name such as ``05_analysis``, else None."""
    match = re.match(r"(\d\d)_", original)
    return int(match.group(1)) if match else None


def _line(values) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue().encode()


def _append(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace(path: Path, data: bytes) -> None:
    """Write ``path`` atomically (temporary file, fsync, rename)."""
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _read_rows(path: Path) -> list[dict]:
    """The complete rows of a CSV this module wrote (a torn last line is dropped)."""
    if not path.exists():
        return []
    data = path.read_bytes()
    data = data[: data.rfind(b"\n") + 1]
    return list(csv.DictReader(io.StringIO(data.decode())))


def exercise_order(exercise: str):
    return tuple(int(part) for part in exercise.split("."))


class Gradebook:
    """The two CSV files of one grading run; rows already there are kept (resume)."""

    def __init__(self, out: Path, long_out: Path, exercise_ids):
        self.out, self.long_out = Path(out), Path(long_out)
        for path in (self.out, self.long_out):
            path.parent.mkdir(parents=True, exist_ok=True)
        self.rows = _read_rows(self.out)
        known = {row["sha256"] for row in self.rows}
        self.long_rows = [row for row in _read_rows(self.long_out) if row["sha256"] in known]
        old = [c for c in (self.rows[0] if self.rows else {}) if re.fullmatch(r"\d\d\.\d+", c)]
        self.exercises = sorted(set(old) | set(exercise_ids), key=exercise_order)
        self.columns = [*GRADEBOOK_HEAD, *self.exercises, *GRADEBOOK_TAIL]
        self._rewrite()

    def done(self, sha256: str, edition: str) -> bool:
        """Whether this notebook content was already graded for this edition."""
        return any(row["sha256"] == sha256 and row["edition"] == edition for row in self.rows)

    def add(self, gradebook_row: dict, long_rows: list[dict]) -> None:
        """Append one notebook's rows (long rows first), each file with one write and fsync."""
        _append(self.long_out, b"".join(_line([r.get(c, "") for c in LONG_COLUMNS]) for r in long_rows))
        _append(self.out, _line([gradebook_row.get(c, "") for c in self.columns]))
        self.rows.append(gradebook_row)
        self.long_rows += long_rows

    def _rewrite(self) -> None:
        key = lambda row: (row["notebook"], row["sha256"])  # noqa: E731
        self.rows.sort(key=key)
        self.long_rows.sort(key=lambda row: (*key(row), exercise_order(row["exercise"])))
        _replace(self.long_out, _line(LONG_COLUMNS) + b"".join(
            _line([r.get(c, "") for c in LONG_COLUMNS]) for r in self.long_rows))
        _replace(self.out, _line(self.columns) + b"".join(
            _line([r.get(c, "") for c in self.columns]) for r in self.rows))

    def finish(self) -> None:
        """Sort both files by notebook (serial and parallel runs give the same bytes)."""
        self._rewrite()
