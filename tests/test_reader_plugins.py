"""The pieces behind the reader's view that need no browser: how the normalizer folds the
answers of an exercise page, the links to the blank notebooks, and the responsive figures."""

from __future__ import annotations

import nbformat

from abteach.course.exercises import make_exercise
from abteach.course.notebooks import EXPLANATION_OPEN, normalize
from abteach.course.sphinx_exercises import launch_urls
from abteach.course.sphinx_plotly import responsive
from conftest import ROOT, read

URL = "https://github.com/example-org/example-course"


def exercise_notebook():
    nb = nbformat.v4.new_notebook()
    answer = nbformat.v4.new_code_cell("# BEGIN SOLUTION\na = 1\n# END SOLUTION\ncheck('01.1', a)")
    answer.metadata["tags"] = ["hide-input"]
    notes = nbformat.v4.new_markdown_cell("Why: because.")
    notes.metadata["tags"] = ["solution"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Exercises"), answer, notes]
    return nb


def test_answers_and_explanations_fold_and_normalizing_twice_changes_nothing():
    nb = normalize(exercise_notebook(), url=URL, branch="main")
    answer, notes = nb.cells[2], nb.cells[3]
    assert answer.metadata["tags"] == ["hide-cell"], "input and output folded together"
    assert answer.metadata["mystnb"]["code_prompt_show"] == "Show the answer"
    assert notes.source.startswith(EXPLANATION_OPEN) and "Why: because." in notes.source
    assert notes.source.count(EXPLANATION_OPEN) == 1
    again = normalize(nbformat.from_dict(nb), url=URL, branch="main")
    assert nbformat.writes(again) == nbformat.writes(nb)


def test_the_blank_notebook_keeps_no_fold():
    blank = make_exercise(normalize(exercise_notebook(), url=URL, branch="main"), url=URL, branch="main")
    code = [c for c in blank.cells if c.cell_type == "code"][1]
    assert "tags" not in code.metadata and "mystnb" not in code.metadata
    assert all(EXPLANATION_OPEN not in c.source for c in blank.cells)


def test_every_exercise_page_folds_every_answer():
    for path in sorted(ROOT.glob("solutions/*.ipynb")):
        for cell in read(path).cells:
            if cell.cell_type == "code" and "# BEGIN SOLUTION" in cell.source:
                assert "hide-cell" in cell.metadata.get("tags", []), f"{path.name}: {cell.id}"
            if "solution" in cell.metadata.get("tags", []):
                assert cell.source.startswith(EXPLANATION_OPEN), f"{path.name}: {cell.id}"


def test_launch_links_open_the_blank_notebook_of_the_configured_repository():
    options = {
        "repository_url": URL, "repository_branch": "course",
        "launch_buttons": {"binderhub_url": "https://mybinder.org",
                           "colab_url": "https://colab.research.google.com"},
    }
    assert launch_urls(options, "05_analysis") == {
        "Binder": "https://mybinder.org/v2/gh/example-org/example-course/course"
                  "?labpath=exercises/05_analysis.ipynb",
        "Colab": "https://colab.research.google.com/github/example-org/example-course/blob/course"
                 "/exercises/05_analysis.ipynb",
    }


def test_figures_lose_their_fixed_width_and_margins_and_log_axes_print_powers():
    figure = {"data": [], "layout": {"width": 900, "height": 500, "margin": {"l": 430},
                                     "yaxis": {"type": "log"}, "xaxis": {"type": "linear"}}}
    layout = responsive(figure)["layout"]
    assert "width" not in layout and "margin" not in layout and layout["height"] == 500
    assert layout["autosize"] is True
    assert layout["yaxis"]["exponentformat"] == "power"
    assert "exponentformat" not in layout["xaxis"]
    assert layout["template"]["layout"]["paper_bgcolor"] == "white"
    assert figure["layout"]["width"] == 900, "the stored figure is not changed"
