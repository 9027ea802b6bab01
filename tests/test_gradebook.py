"""Who submitted a notebook (LMS and Colab file names) and the grader's resumable CSV files."""

from __future__ import annotations

import csv

import pytest

from abteach.course.gradebook import Gradebook, chapter_from_name, submitter


@pytest.mark.parametrize("name, student, lms_id, lms, original", [
    ("smithjane_123456_7890123_05_analysis.ipynb", "smithjane", "123456", "canvas", "05_analysis"),
    ("smithjane_LATE_123456_7890123_05_analysis.ipynb", "smithjane", "123456", "canvas", "05_analysis"),
    ("Jane Smith_123456_assignsubmission_file_05_analysis.ipynb", "Jane Smith", "123456", "moodle",
     "05_analysis"),
    ("Assignment 5_jsmith_attempt_2026-03-01-10-22-13_05_analysis.ipynb", "jsmith", "", "blackboard",
     "05_analysis"),
    ("Copy of 05_analysis.ipynb", "Copy of 05_analysis", "", "colab", "05_analysis"),
    ("05_analysis (1).ipynb", "05_analysis (1)", "", "colab", "05_analysis"),
    ("05_analysis.ipynb", "05_analysis", "", "", "05_analysis"),
])
def test_lms_and_colab_names(name, student, lms_id, lms, original):
    who = submitter(name, {})
    assert (who.student, who.lms_id, who.lms, who.original) == (student, lms_id, lms, original)
    assert chapter_from_name(who.original) == 5


def test_metadata_names_the_student_and_odd_metadata_is_ignored():
    assert submitter("Copy of 05_analysis.ipynb", {"abteach": {"student": " Ana Lima "}}).student == "Ana Lima"
    assert submitter("x.ipynb", {"abteach": 5}).student == "x"
    assert chapter_from_name("analysis") is None


def rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def row(name, sha, total="1"):
    return {"student": name, "notebook": f"{name}.ipynb", "sha256": sha, "chapter": "05",
            "edition": "public", "05.1": total, "total": total, "out_of": "1", "status": "graded"}


def long_row(name, sha):
    return {"student": name, "notebook": f"{name}.ipynb", "sha256": sha, "chapter": "05",
            "edition": "public", "exercise": "05.1", "variable": "x", "points": "1", "max_points": "1",
            "status": "correct", "hint": "correct."}


def test_rows_survive_a_torn_line_and_orphan_long_rows_are_dropped(tmp_path):
    out, long_out = tmp_path / "g.csv", tmp_path / "g_exercises.csv"
    book = Gradebook(out, long_out, ["05.1"])
    book.add(row("bob", "b" * 64), [long_row("bob", "b" * 64)])
    book.add(row("amy", "a" * 64), [long_row("amy", "a" * 64)])
    with open(out, "ab") as handle:
        handle.write(b"carl,,carl.ipynb,ccc")  # killed in the middle of a row
    with open(long_out, "ab") as handle:  # killed between the long rows and the gradebook row
        handle.write(b"dan,dan.ipynb," + b"d" * 64 + b",05,public,05.1,x,1,1,correct,correct.\n")
    again = Gradebook(out, long_out, ["05.1", "05.2"])
    assert again.done("a" * 64, "public") and not again.done("a" * 64, "e8bcc3269d54")
    assert not again.done("c" * 64, "public") and not again.done("d" * 64, "public")
    assert [r["student"] for r in rows(out)] == ["amy", "bob"]
    assert [r["student"] for r in rows(long_out)] == ["amy", "bob"]
    assert list(rows(out)[0])[6:8] == ["05.1", "05.2"], "a new exercise column is added on resume"
    assert out.read_bytes().endswith(b"\n") and not (tmp_path / ".g.csv.tmp").exists()
