"""Layer 5: exercises are generated from solutions, solutions pass, blanks say "not answered yet"."""

from __future__ import annotations

import re

import nbformat
import pytest
from nbclient import NotebookClient

from abteach.course.check import UNANSWERED, exercises_for
from abteach.course.exercises import blank_solution, make_exercise
from abteach.course.notebooks import repository
from conftest import ROOT, read

SOLUTIONS = sorted(ROOT.glob("solutions/[0-9][0-9]_*.ipynb"))
CHECK_LINE = re.compile(r"^Exercise (\d\d\.\d+): (.*)$", re.MULTILINE)


def check_lines(nb) -> list[tuple[str, str]]:
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    return CHECK_LINE.findall(text)


def test_there_are_solutions():
    assert SOLUTIONS


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_committed_exercises_equal_regenerated(solution):
    committed = ROOT / "exercises" / solution.name
    assert committed.exists(), f"exercises/{solution.name} missing: run `make exercises`"
    url, branch = repository(ROOT)
    generated = nbformat.writes(make_exercise(read(solution), url=url, branch=branch))
    assert committed.read_text().rstrip("\n") == generated.rstrip("\n"), "run `make exercises`"
    assert "BEGIN SOLUTION" not in committed.read_text()


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_solutions_have_at_least_four_exercises_all_checked_correct(solution):
    """The stored outputs (which nbval proves equal to a fresh run) say "correct" for every
    exercise of the chapter's answer key, each exactly once."""
    chapter = int(solution.name[:2])
    expected = [ex.id for ex in exercises_for(chapter)]
    assert len(expected) >= 4
    lines = check_lines(read(solution))
    assert [ex for ex, _ in lines] == expected
    assert all(verdict == "correct." for _, verdict in lines), lines


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_blank_exercise_runs_to_the_end_and_reports_not_answered(solution):
    nb = read(ROOT / "exercises" / solution.name)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "exercises")}}).execute()
    lines = check_lines(nb)
    chapter = int(solution.name[:2])
    assert [ex for ex, _ in lines] == [ex.id for ex in exercises_for(chapter)]
    assert all(verdict.startswith(UNANSWERED) for _, verdict in lines), lines


def test_blank_solution_replaces_block_by_placeholders():
    source = "x = 1\n# BEGIN SOLUTION\nn, m = 2, 3\nn += 1\nprint(n)\n# END SOLUTION\ncheck('01.1', n)"
    assert blank_solution(source) == (
        "x = 1\nn = ...  # your answer here\nm = ...  # your answer here\ncheck('01.1', n)"
    )


def test_blank_solution_keeps_indentation_and_handles_code_only_blocks():
    source = "if True:\n    # BEGIN SOLUTION\n    fig.show()\n    # END SOLUTION\n"
    assert blank_solution(source) == "if True:\n    # your code here"


@pytest.mark.parametrize(
    "source, message",
    [
        ("# BEGIN SOLUTION\nx = 1", "without '# END SOLUTION'"),
        ("x = 1\n# END SOLUTION", "without '# BEGIN SOLUTION'"),
        ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION", "nested"),
    ],
)
def test_blank_solution_refuses_broken_markers(source, message):
    with pytest.raises(ValueError, match=message):
        blank_solution(source)


def test_make_exercise_drops_solution_cells_and_outputs():
    nb = nbformat.v4.new_notebook()
    answer = nbformat.v4.new_code_cell("# BEGIN SOLUTION\na = 1\n# END SOLUTION\ncheck('01.1', a)")
    answer.metadata["tags"] = ["hide-input"]
    answer.outputs = [nbformat.v4.new_output("stream", text="Exercise 01.1: correct.\n")]
    answer.execution_count = 3
    notes = nbformat.v4.new_markdown_cell("Why: ...")
    notes.metadata["tags"] = ["solution"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Exercises"), answer, notes]
    out = make_exercise(nb, url="https://example.org/repo", branch="main")
    sources = [c.source for c in out.cells[1:]]
    assert sources == ["# Exercises", "a = ...  # your answer here\ncheck('01.1', a)"]
    assert out.cells[2].outputs == [] and out.cells[2].execution_count is None
    assert "tags" not in out.cells[2].metadata
    assert nb.cells[1].execution_count == 3, "the solution notebook itself must not change"
