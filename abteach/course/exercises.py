"""Generate the student exercise notebooks from the solution notebooks.

``solutions/NN_topic.ipynb`` is the single source. In a code cell, the lines between
``# BEGIN SOLUTION`` and ``# END SOLUTION`` are the solution; the generated
``exercises/NN_topic.ipynb`` replaces them with a placeholder that assigns ``...`` to every
name the solution assigned, so the blank notebook still runs to the end and each check
reports "not answered yet". Cells tagged ``solution`` (worked explanations) are dropped, and
all outputs are cleared.

Run ``python -m abteach.course.exercises`` (or ``abteach-exercises``) after editing a solution notebook.
"""

from __future__ import annotations

import argparse
import ast
import copy
import sys
import textwrap
from pathlib import Path

from abteach.course import missing_extra
from abteach.course.notebooks import (
    SOLUTION_BEGIN,
    SOLUTION_END,
    find_root,
    normalize,
    repository,
    write,
)

try:
    import nbformat
except ImportError as error:
    raise missing_extra(error) from error

PLACEHOLDER = "...  # your answer here"
CODE_PLACEHOLDER = "# your code here"


def _assigned_names(code: str) -> list[str]:
    """Names bound at the top level of ``code``, in order of first assignment."""
    names: list[str] = []
    for node in ast.parse(code).body:
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name) and sub.id not in names:
                    names.append(sub.id)
    return names


def blank_solution(source: str) -> str:
    """Replace every solution block of a cell's ``source`` by its placeholder."""
    out, block, indent = [], None, ""
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == SOLUTION_BEGIN:
            if block is not None:
                raise ValueError(f"nested {SOLUTION_BEGIN!r} in cell:\n{source}")
            block, indent = [], line[: len(line) - len(line.lstrip())]
        elif stripped == SOLUTION_END:
            if block is None:
                raise ValueError(f"{SOLUTION_END!r} without {SOLUTION_BEGIN!r} in cell:\n{source}")
            names = _assigned_names(textwrap.dedent("\n".join(block)))
            out += [f"{indent}{name} = {PLACEHOLDER}" for name in names] or [indent + CODE_PLACEHOLDER]
            block = None
        elif block is not None:
            block.append(line)
        else:
            out.append(line)
    if block is not None:
        raise ValueError(f"{SOLUTION_BEGIN!r} without {SOLUTION_END!r} in cell:\n{source}")
    return "\n".join(out)


def make_exercise(solution_nb, *, url: str, branch: str):
    """The student notebook generated from a solution notebook (the input is not changed)."""
    nb = copy.deepcopy(solution_nb)
    cells = []
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "solution" in tags:
            continue
        if cell.cell_type == "code":
            if SOLUTION_BEGIN in cell.source:
                cell.source = blank_solution(cell.source)
                cell.metadata["tags"] = [t for t in tags if t != "hide-input"]
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    nb.cells = cells
    return normalize(nb, url=url, branch=branch)


def exercise_path(solution_path: Path) -> Path:
    return solution_path.parent.parent / "exercises" / solution_path.name


def write_all(root: Path) -> list[Path]:
    """Regenerate ``exercises/`` from every ``solutions/NN_topic.ipynb``; return the paths."""
    url, branch = repository(root)
    (root / "exercises").mkdir(exist_ok=True)
    written = []
    for source in sorted((root / "solutions").glob("[0-9][0-9]_*.ipynb")):
        target = exercise_path(source)
        write(make_exercise(nbformat.read(source, as_version=4), url=url, branch=branch), target)
        written.append(target)
    return written


def write_edition(folder: Path, chapter: int, secret: str, out: Path) -> Path:
    """Write the class edition of ``secret`` of chapter ``chapter``'s public exercise notebook,
    found in ``folder`` (``exercises/`` of the course), into ``out``."""
    from abteach.course.editions import edition_notebook

    sources = sorted(Path(folder).glob(f"{chapter:02d}_*.ipynb"))
    if not sources:
        raise ValueError(f"chapter {chapter} has no exercise notebook ({chapter:02d}_*.ipynb) in {folder}")
    out.mkdir(parents=True, exist_ok=True)
    target = out / sources[0].name
    nbformat.write(edition_notebook(nbformat.read(sources[0], as_version=4), chapter, secret), target)
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="abteach-exercises",
        description="Regenerate exercises/ from solutions/, or write a class edition (--edition).",
    )
    parser.add_argument("--edition", metavar="SECRET", help="write the class edition made with SECRET")
    parser.add_argument("--chapter", type=int, action="append", help="chapter of the edition (repeatable)")
    parser.add_argument("--out", type=Path, default=Path("edition"), help="folder for the edition notebooks")
    parser.add_argument("--from", dest="source", type=Path, metavar="FOLDER",
                        help="folder holding the public exercise notebooks (default: exercises/ of "
                             "the course repository around the current folder)")
    args = parser.parse_args(argv)
    if args.edition is None:
        try:
            root = find_root()
        except FileNotFoundError as exc:
            parser.error(f"{exc}: regenerating exercises/ needs a clone of the course repository")
        for path in write_all(root):
            print(f"generated {path}")
        return 0
    if not args.chapter:
        parser.error("--edition needs --chapter N (the chapters to write)")
    folder = args.source
    if folder is None:
        try:
            folder = find_root() / "exercises"
        except FileNotFoundError:
            parser.error(f"no course repository around {Path.cwd()}: the exercise notebooks are not "
                         "installed with the package; run inside a clone of the course, or pass "
                         "--from FOLDER holding the public exercise notebooks (NN_topic.ipynb)")
    for chapter in args.chapter:
        try:
            print(f"generated {write_edition(folder, chapter, args.edition, args.out)}")
        except ValueError as exc:
            parser.error(str(exc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
