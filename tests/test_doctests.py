"""Layer 8: every docstring example runs. The doctests of every module of ``abteach`` (found by
walking the package, the course toolkit included) are run, one test per module; and no source
file of the repository holds a TAB character (in a docstring, "\t" in "\theta" is one)."""

from __future__ import annotations

import doctest
import importlib
import io
import json
import pkgutil
import subprocess

import pytest

import abteach
from conftest import ROOT

OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
SOURCE_SUFFIXES = (".py", ".md", ".yml", ".yaml", ".toml", ".cfg", ".ipynb")
MODULES = ["abteach"] + sorted(m.name for m in pkgutil.walk_packages(abteach.__path__, "abteach."))


def test_modules_are_found():
    assert {"abteach.power", "abteach.course.check"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_doctests_pass(name):
    module = importlib.import_module(name)
    report = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    # exclude_empty: docstrings without examples are not tests.
    for test in doctest.DocTestFinder(exclude_empty=True).find(module, name):
        runner.run(test, out=report.write)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {name} fail:\n{report.getvalue()}"


def tracked_source_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    return [f for f in out.splitlines() if f.endswith(SOURCE_SUFFIXES) and (ROOT / f).is_file()]


def source_lines(name: str) -> list[str]:
    """The lines of a file; for a notebook, of its cells' sources (JSON stores a TAB as \\t)."""
    text = (ROOT / name).read_text()
    if name.endswith(".ipynb"):
        text = "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"])
    return text.splitlines()


def test_no_source_file_holds_a_tab():
    files = tracked_source_files()
    assert any(f.startswith("abteach/") for f in files) and any(f.endswith(".ipynb") for f in files)
    with_tabs = []
    for name in files:
        for number, line in enumerate(source_lines(name), 1):
            if "\t" in line:
                with_tabs.append(f"{name}:{number}: {line.strip()[:80]!r}")
                break
    assert not with_tabs, "TAB characters (a \\t in a non-raw docstring?):\n" + "\n".join(with_tabs)
