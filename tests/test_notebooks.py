"""Layer 4 companions to nbval: the stored notebooks are complete, clean and normalised.

nbval (run on book/ and solutions/ by the default pytest options) re-executes every notebook and
compares each cell with its stored output. That comparison is only worth something if the
outputs are there: these tests refuse a notebook with unexecuted code cells, stored errors,
missing outputs, or outputs that are not the normalised, deterministic form `make notebooks`
writes.
"""

from __future__ import annotations

import json
import re

import nbformat
import pytest
import yaml

from abteach.course.notebooks import (
    install_requirement,
    is_setup_cell,
    normalize,
    repository,
    setup_source,
)
from conftest import ROOT, executed_notebooks, read, toc_files

NOTEBOOKS = executed_notebooks()
IDS = [str(p.relative_to(ROOT)) for p in NOTEBOOKS]
FIGURE_MIMES = {"application/vnd.plotly.v1+json", "application/vnd.jupyter.widget-view+json"}


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def test_there_are_chapters():
    assert any(p.parent.name == "book" for p in NOTEBOOKS), "no chapter notebooks found in book/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_code_cell_executed_in_order(path):
    cells = code_cells(read(path))
    counts = [c.execution_count for c in cells]
    assert None not in counts, f"{path.name}: unexecuted code cells (run `make notebooks`)"
    assert counts == list(range(1, len(cells) + 1)), f"{path.name}: not run top to bottom once: {counts}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_stored_errors_and_outputs_present(path):
    nb = read(path)
    outputs = [o for c in code_cells(nb) for o in c.outputs]
    assert outputs, f"{path.name} has no stored outputs: nbval would compare nothing"
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, f"{path.name} stores errors: {[e.ename for e in errors]}"
    stderr = [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr, f"{path.name} prints to stderr (warnings?): {stderr[0].text[:200]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_is_normalised(path):
    """The file is exactly what `make notebooks` writes (deterministic ids and metadata)."""
    text = path.read_text()
    nb = nbformat.reads(text, as_version=4)
    url, branch = repository(ROOT)
    again = nbformat.writes(normalize(nbformat.reads(text, as_version=4), url=url, branch=branch))
    assert text.rstrip("\n") == again.rstrip("\n"), f"{path.name} is not normalised: run `make notebooks`"
    assert is_setup_cell(nb.cells[0])


@pytest.mark.parametrize("path", NOTEBOOKS + sorted(ROOT.glob("exercises/*.ipynb")), ids=lambda p: p.name)
def test_colab_setup_cell_installs_from_configured_repository_and_branch(path):
    """Chapters install the library only; solution and exercise notebooks, which call the
    exercise checks, install it with the course extra."""
    nb = read(path)
    url, branch = repository(ROOT)
    course = path.parent.name in ("solutions", "exercises")
    assert nb.cells[0].source == setup_source(url, branch, course=course)
    assert f'"{install_requirement(url, branch, course=course)}"' in nb.cells[0].source
    assert nb.cells[0].metadata.get("tags") == ["remove-cell"]


def test_setup_requirement_names_the_configured_branch_and_extra():
    url, branch = repository(ROOT)
    chapter = install_requirement(url, branch)
    exercise = install_requirement(url, branch, course=True)
    assert chapter == f"abteach @ git+{url}@{branch}"
    assert exercise == f"abteach[course] @ git+{url}@{branch}"
    assert "%pip install" in setup_source(url, branch)


def test_normalize_picks_the_install_line_by_notebook_kind():
    chapter = nbformat.v4.new_notebook()
    chapter.cells = [nbformat.v4.new_code_cell("import abteach as abt")]
    exercise = nbformat.v4.new_notebook(metadata={"abteach": {"chapter": 1}})
    exercise.cells = [nbformat.v4.new_code_cell("from abteach.course.check import check")]
    url, branch = "https://example.org/repo", "v1.0"
    assert normalize(chapter, url=url, branch=branch).cells[0].source == setup_source(url, branch)
    assert normalize(exercise, url=url, branch=branch).cells[0].source == setup_source(
        url, branch, course=True
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_ignore_output_tag_only_on_figure_cells(path):
    """GUIDE: `nbval-ignore-output` only on plot, widget and timing cells; numbers are compared."""
    for index, cell in enumerate(code_cells(read(path))):
        tags = cell.metadata.get("tags", [])
        mimes = {m for o in cell.outputs for m in o.get("data", {})}
        if "nbval-ignore-output" in tags:
            assert mimes & FIGURE_MIMES, f"{path.name} cell {index}: ignore-output on a cell without a figure"
        if mimes & FIGURE_MIMES:
            assert "nbval-ignore-output" in tags, f"{path.name} cell {index}: figure cell lacks nbval-ignore-output"
            text = [o for o in cell.outputs if o.output_type == "stream"]
            assert not text, f"{path.name} cell {index}: a figure cell also prints; split it so nbval checks the numbers"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_raw_float_reprs_and_small_outputs(path):
    """Printed numbers are formatted (f"{x:.4f}"), and no output embeds plotly.js."""
    long_float = re.compile(r"\d\.\d{12,}")
    for cell in code_cells(read(path)):
        for output in cell.outputs:
            size = len(json.dumps(output))
            assert size < 400_000, f"{path.name}: an output of {size} bytes (inlined plotly.js?)"
            text = output.get("text", "") + output.get("data", {}).get("text/plain", "")
            assert not long_float.search(text), f"{path.name}: raw float repr in output {text[:120]!r}"


def test_toc_lists_existing_pages_only_and_every_chapter():
    pages = toc_files()
    for page in pages:
        assert list(ROOT.glob(page + ".*")), f"_toc.yml lists {page}, which does not exist"
    for path in NOTEBOOKS:
        assert str(path.relative_to(ROOT).with_suffix("")) in pages, f"{path.name} is not in _toc.yml"


def test_each_chapter_has_solutions_with_chapter_metadata():
    for chapter in sorted(ROOT.glob("book/[0-9][0-9]_*.ipynb")):
        solution = ROOT / "solutions" / chapter.name
        assert solution.exists(), f"chapter {chapter.name} has no solutions/{chapter.name}"
        assert read(solution).metadata["abteach"]["chapter"] == int(chapter.name[:2])


def test_config_builds_strictly_and_has_launch_buttons():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "force"
    assert config["execute"]["allow_errors"] is False
    assert config["only_build_toc_files"] is True
    assert re.match(r"\d{4}, \S", config["copyright"])
    assert config["launch_buttons"]["binderhub_url"].startswith("https://")
    assert config["launch_buttons"]["colab_url"].startswith("https://")
    assert config["repository"]["url"].startswith("https://")
    assert "abteach.course.sphinx_plotly" in config["sphinx"]["extra_extensions"]
    assert not (ROOT / "_static").exists(), "Book 1 would link every .js in _static from every page"
    assert not (ROOT / "binder").exists(), "a binder/ folder silently overrides the root requirements"


def test_normalize_merges_stream_outputs_split_by_timing():
    """The same prints arrive as one or several stream messages; the stored form is one."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print('a'); print('b')")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="a\n"),
        nbformat.v4.new_output("stream", name="stdout", text="b\n"),
        nbformat.v4.new_output("display_data", data={"text/plain": "x"}),
        nbformat.v4.new_output("stream", name="stdout", text="c\n"),
    ]
    nb.cells = [cell]
    out = normalize(nb, url="https://example.org/repo", branch="main").cells[1].outputs
    assert [o.output_type for o in out] == ["stream", "display_data", "stream"]
    assert out[0].text == "a\nb\n" and out[2].text == "c\n"


def test_normalize_gives_widget_views_ids_that_do_not_change_between_runs():
    """A kernel names each widget with a fresh uuid; the stored id depends on the cell only."""
    def run(model_id):
        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell("slider")
        cell.outputs = [nbformat.v4.new_output("display_data", data={
            "text/plain": "IntSlider()",
            "application/vnd.jupyter.widget-view+json": {
                "model_id": model_id, "version_major": 2, "version_minor": 0}})]
        nb.cells = [cell]
        out = normalize(nb, url="https://example.org/repo", branch="main")
        return out.cells[1].outputs[0].data["application/vnd.jupyter.widget-view+json"]["model_id"]

    first, second = run("e86dd21abef846e3851b9d15beab260e"), run("252ad8a5bcd64a02897332573c95e6a1")
    assert first == second and len(first) == 32 and first != "e86dd21abef846e3851b9d15beab260e"
