"""Authoring tools for the course notebooks: normalise, execute in place, and keep the
Colab set-up cell in step with ``_config.yml``.

A normalised notebook is byte-for-byte reproducible: cell ids are numbered, the kernel and
language metadata are fixed, nbclient's timing metadata is dropped, and the file is written
with sorted keys. ``make notebooks`` (``python -m abteach.course.notebooks``) re-executes every chapter
and solution notebook in place and regenerates the exercises, for authors who changed
``abteach``.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import yaml

from abteach.course import missing_extra

try:
    import nbformat
    from nbclient import NotebookClient
except ImportError as error:
    raise missing_extra(error) from error

ROOT_MARKERS = ("_config.yml", "_toc.yml")
EXECUTED_FOLDERS = ("book", "solutions")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
SETUP_FIRST_LINE = "# Set-up for Google Colab: install the course package there."
SETUP_TEMPLATE = """{first}
# (Binder and a local install already have it; this cell does nothing there.)
import sys

if "google.colab" in sys.modules:
    %pip install --quiet "{requirement}"
"""
SOLUTION_BEGIN, SOLUTION_END = "# BEGIN SOLUTION", "# END SOLUTION"
# How the book folds an exercise's answer (a code cell with its output) and its worked
# explanation (a markdown cell tagged ``solution``): each behind its own "show" control.
ANSWER_PROMPTS = {"code_prompt_show": "Show the answer", "code_prompt_hide": "Hide the answer"}
EXPLANATION_OPEN = ":::::{dropdown} Show the worked explanation"
EXPLANATION_CLOSE = ":::::"


def find_root(start: Path | None = None) -> Path:
    """The repository root: the nearest folder above ``start`` holding ``_config.yml``."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if all((folder / name).exists() for name in ROOT_MARKERS):
            return folder
    raise FileNotFoundError(f"no _config.yml and _toc.yml found above {here}")


def repository(root: Path) -> tuple[str, str]:
    """The repository URL and branch set once in ``_config.yml`` (``repository: url:, branch:``)."""
    config = yaml.safe_load((root / "_config.yml").read_text())["repository"]
    return config["url"], config.get("branch", "main")


def needs_course(nb) -> bool:
    """Whether a notebook calls the exercise checks: solution and exercise notebooks do (they
    carry ``abteach: chapter:`` metadata); chapters and appendix pages use the library only."""
    return "abteach" in nb.metadata


def install_requirement(url: str, branch: str, *, course: bool = False) -> str:
    """What the Colab set-up cell installs: the library, plus the course extra if ``course``.

    >>> install_requirement("https://example.org/repo", "main")
    'abteach @ git+https://example.org/repo@main'
    >>> install_requirement("https://example.org/repo", "v1.0", course=True)
    'abteach[course] @ git+https://example.org/repo@v1.0'
    """
    name = "abteach[course]" if course else "abteach"
    return f"{name} @ git+{url}@{branch}"


def setup_source(url: str, branch: str, *, course: bool = False) -> str:
    """The source of the Colab set-up cell that opens every notebook."""
    requirement = install_requirement(url, branch, course=course)
    return SETUP_TEMPLATE.format(first=SETUP_FIRST_LINE, requirement=requirement).rstrip("\n")


def is_setup_cell(cell) -> bool:
    return cell.cell_type == "code" and cell.source.startswith(SETUP_FIRST_LINE)


def has_solution(cell) -> bool:
    return cell.cell_type == "code" and SOLUTION_BEGIN in cell.source


def fold_answer(cell) -> None:
    """Fold a solution code cell, input and output, behind "Show the answer" in the book."""
    tags = [t for t in cell.metadata.get("tags", []) if t not in ("hide-input", "hide-output")]
    cell.metadata["tags"] = tags + ([] if "hide-cell" in tags else ["hide-cell"])
    cell.metadata["mystnb"] = {**cell.metadata.get("mystnb", {}), **ANSWER_PROMPTS}


def unfold_answer(cell) -> None:
    """Undo :func:`fold_answer` on a cell whose solution was blanked (the exercise notebooks)."""
    if cell.metadata.get("mystnb") == ANSWER_PROMPTS:
        del cell.metadata["mystnb"]
        cell.metadata["tags"] = [t for t in cell.metadata.get("tags", []) if t != "hide-cell"]


def fold_explanation(cell) -> None:
    """Wrap a worked explanation (markdown tagged ``solution``) in a closed dropdown."""
    if not cell.source.startswith(EXPLANATION_OPEN):
        cell.source = f"{EXPLANATION_OPEN}\n{cell.source.strip()}\n{EXPLANATION_CLOSE}"


def merge_streams(outputs: list) -> list:
    """Join consecutive stdout (or stderr) outputs into one.

    How many stream messages a cell's prints arrive in depends on timing, so without this
    two runs of the same notebook could store the same text split differently.
    """
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.get("output_type") == "stream"
            and previous is not None
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            previous["text"] = "".join(previous["text"]) + "".join(output["text"])
        else:
            merged.append(output)
    return merged


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def number_widgets(cell) -> None:
    """Replace the random model ids of a cell's widget views by ids derived from the cell id.

    A kernel names each widget with a fresh uuid, so without this every run would change the
    stored notebook (the book shows the saved snapshot; the id links to nothing there)."""
    for k, output in enumerate(cell.get("outputs", [])):
        view = output.get("data", {}).get(WIDGET_VIEW)
        if view is not None and "model_id" in view:
            view["model_id"] = hashlib.sha256(f"{cell.id}:{k}".encode()).hexdigest()[:32]


def normalize(nb, *, url: str, branch: str):
    """Return ``nb`` normalized in place: set-up cell first, numbered ids, fixed metadata,
    consecutive stream outputs merged, widget ids derived from the cell ids.

    The set-up cell installs from ``url`` at ``branch`` (or tag); the library only, or with the
    course extra for notebooks that call the exercise checks (:func:`needs_course`). Solution
    cells are folded in the book (:func:`fold_answer`, :func:`fold_explanation`).
    """
    cells = [c for c in nb.cells if not is_setup_cell(c)]
    setup = nbformat.v4.new_code_cell(setup_source(url, branch, course=needs_course(nb)))
    old = next((c for c in nb.cells if is_setup_cell(c)), None)
    if old is not None:
        # Outside Colab the cell runs and prints nothing whatever it would install, so its
        # stored (empty) output stays valid when the install line changes.
        setup.outputs, setup.execution_count = old.outputs, old.execution_count
    setup.metadata["tags"] = ["remove-cell"]
    nb.cells = [setup, *cells]
    for index, cell in enumerate(nb.cells):
        cell.id = f"cell-{index:03d}"
        cell.metadata.pop("execution", None)
        cell.metadata.pop("collapsed", None)
        cell.metadata.pop("scrolled", None)
        if has_solution(cell):
            fold_answer(cell)
        elif cell.cell_type == "code":
            unfold_answer(cell)
        if cell.cell_type == "markdown" and "solution" in cell.metadata.get("tags", []):
            fold_explanation(cell)
        if not cell.metadata.get("tags"):
            cell.metadata.pop("tags", None)
        if cell.cell_type == "code":
            cell.outputs = merge_streams(cell.outputs)
            number_widgets(cell)
            for output in cell.outputs:
                output.get("metadata", {}).pop("execution", None)
    chapter = nb.metadata.get("abteach", {})
    nb.metadata = nbformat.NotebookNode(
        {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    )
    if chapter:
        nb.metadata["abteach"] = chapter
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def write(nb, path: Path) -> None:
    """Write a notebook deterministically (sorted keys, one-space indent, final newline)."""
    text = nbformat.writes(nb, version=4)
    Path(path).write_text(text if text.endswith("\n") else text + "\n")


def execute(path: Path, *, url: str, branch: str, timeout: int = 600) -> None:
    """Execute the notebook at ``path`` in place, from a fresh kernel, and normalize it."""
    path = Path(path)
    nb = normalize(nbformat.read(path, as_version=4), url=url, branch=branch)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    write(normalize(nb, url=url, branch=branch), path)


def notebooks(root: Path, folders=EXECUTED_FOLDERS) -> list[Path]:
    """Every notebook in ``book/`` (chapters and appendix pages) and ``solutions/``, sorted."""
    found = []
    for folder in folders:
        found += sorted((root / folder).glob("*.ipynb"))
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m abteach.course.notebooks",
        description="Re-execute the chapter and solution notebooks in place (`make notebooks` then regenerates exercises/).",
    )
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks to execute (default: all)")
    args = parser.parse_args(argv)
    root = find_root()
    url, branch = repository(root)
    for path in args.paths or notebooks(root):
        print(f"executing {path}", flush=True)
        execute(path, url=url, branch=branch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
