"""The instructor's grader: a folder of submissions becomes a CSV, whatever the submissions do."""

from __future__ import annotations

import csv
import shutil

import nbformat
import pytest

from abteach.course.check import exercises_for
from abteach.course.grade import main
from conftest import ROOT, read

SOLUTION = sorted(ROOT.glob("solutions/01_*.ipynb"))[0]
BLANK = ROOT / "exercises" / SOLUTION.name
EXERCISES = exercises_for(1)


def with_cell(nb, source: str, position: int | None = None):
    cell = nbformat.v4.new_code_cell(source)
    nb.cells.insert(len(nb.cells) if position is None else position, cell)
    return nb


@pytest.fixture(scope="module")
def grades(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    shutil.copy(SOLUTION, folder / "solved.ipynb")
    shutil.copy(BLANK, folder / "blank.ipynb")
    first = EXERCISES[0]
    nbformat.write(with_cell(read(SOLUTION), f"{first.variable} = -12345.0"), folder / "one_wrong.ipynb")
    forged = "\n".join(
        [f"print('Exercise {ex.id}: correct.')" for ex in EXERCISES]

    )
    nbformat.write(with_cell(read(BLANK), forged), folder / "forged.ipynb")
    # A notebook that replaces the checking functions in its own kernel, so that any answer
    # would be "correct" if the kernel did the grading.
    patched = "\n".join([
        "import abteach.course.check as c",
        "c.Exercise.evaluate = lambda self, value: c.CheckResult(self.id, c.CORRECT, 'correct.')",
        "c.grade_namespace = lambda chapter, namespace: [",
        "    c.CheckResult(ex.id, c.CORRECT, 'correct.') for ex in c.exercises_for(chapter)]",
        f"{first.variable} = -12345.0",
    ])
    nbformat.write(with_cell(read(BLANK), patched), folder / "patched.ipynb")
    nbformat.write(with_cell(read(BLANK), "import os\nos._exit(1)", 1), folder / "crash.ipynb")
    nbformat.write(with_cell(read(BLANK), "import time\ntime.sleep(600)", 1), folder / "hang.ipynb")
    nbformat.write(with_cell(read(SOLUTION), "1 / 0", 2), folder / "error.ipynb")
    (folder / "garbage.ipynb").write_text("this is not a notebook")
    odd = read(SOLUTION)
    odd.metadata["abteach"] = 5  # not the dict the grader writes: the file name gives the chapter
    nbformat.write(odd, folder / f"{SOLUTION.stem}_odd_metadata.ipynb")
    out = folder / "grades.csv"
    assert main([str(folder), "--out", str(out), "--time-limit", "20", "--jobs", "2"]) == 0
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {row["notebook"]: row for row in rows}


def points(row):
    return [row[ex.id] for ex in EXERCISES]


def test_one_row_per_notebook_and_a_column_per_exercise(grades):
    assert sorted(grades) == sorted(
        ["blank.ipynb", "crash.ipynb", "error.ipynb", "forged.ipynb", "garbage.ipynb", "patched.ipynb",
         "hang.ipynb", "one_wrong.ipynb", "solved.ipynb", f"{SOLUTION.stem}_odd_metadata.ipynb"]
    )
    assert all(set(ex.id for ex in EXERCISES) <= set(row) for row in grades.values())


def test_solution_gets_full_marks(grades):
    row = grades["solved.ipynb"]
    assert points(row) == ["1"] * len(EXERCISES)
    assert row["total"] == row["out_of"] == str(len(EXERCISES))
    assert row["status"] == "graded" and row["reason"] == ""


def test_odd_metadata_falls_back_to_the_file_name(grades):
    row = grades[f"{SOLUTION.stem}_odd_metadata.ipynb"]
    assert (row["chapter"], row["total"], row["status"]) == ("01", str(len(EXERCISES)), "graded")


def test_blank_gets_zero_without_crashing(grades):
    row = grades["blank.ipynb"]
    assert points(row) == ["0"] * len(EXERCISES) and row["status"] == "graded"


def test_grader_rechecks_variables_instead_of_trusting_printed_lines(grades):
    assert points(grades["one_wrong.ipynb"]) == ["0"] + ["1"] * (len(EXERCISES) - 1)
    assert grades["forged.ipynb"]["total"] == "0"


def test_a_kernel_that_patches_the_checks_earns_nothing(grades):
    """The kernel only sends values out; the grader's own process checks them."""
    assert grades["patched.ipynb"]["total"] == "0"
    assert grades["patched.ipynb"]["status"] == "graded"


def test_cell_error_is_reported_but_later_exercises_still_count(grades):
    row = grades["error.ipynb"]
    assert row["total"] == str(len(EXERCISES))
    assert "ZeroDivisionError" in row["reason"]


@pytest.mark.parametrize(
    "name, status, words",
    [
        ("crash.ipynb", "crashed", "died"),
        ("hang.ipynb", "timed out", "time limit of 20 s"),
        ("garbage.ipynb", "unreadable", "NotJSONError"),
    ],
)
def test_broken_submissions_get_zeros_and_a_reason(grades, name, status, words):
    row = grades[name]
    assert row["status"] == status and words in row["reason"]
    assert row["total"] == "0"
    if status != "unreadable":
        assert points(row) == ["0"] * len(EXERCISES)


def test_command_line_refuses_a_missing_folder(tmp_path):
    with pytest.raises(SystemExit):
        main([str(tmp_path / "nowhere")])


def test_without_a_sandbox_the_grader_refuses_unless_told(tmp_path, monkeypatch, capsys):
    """A missing protection is reported, never skipped: no bwrap means no grading, except with
    --no-sandbox, which every row then records."""
    from abteach.course import sandbox

    monkeypatch.setattr(sandbox, "probe", lambda: ([], "bubblewrap (bwrap) is not installed"))
    shutil.copy(SOLUTION, tmp_path / SOLUTION.name)
    out = tmp_path / "grades.csv"
    with pytest.raises(SystemExit) as stop:
        main([str(tmp_path), "--out", str(out)])
    assert stop.value.code == 2 and "--no-sandbox" in capsys.readouterr().err
    assert not out.exists()
    assert main([str(tmp_path), "--out", str(out), "--no-sandbox"]) == 0
    assert "WARNING" in capsys.readouterr().err
    with open(out, newline="") as handle:
        (row,) = csv.DictReader(handle)
    assert row["sandbox"] == "none (--no-sandbox)" and row["total"] == str(len(EXERCISES))
