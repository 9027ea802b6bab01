"""The API reference (book/api.md): every public module has a section, every exported name is
documented, and the page builds with the book's own configuration without a single warning."""

from __future__ import annotations

import importlib
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import abteach
from conftest import ROOT

API = ROOT / "book" / "api.md"
# Not part of the documented API: the book build's plugin, the notebook authoring plumbing, and
# the answer keys (documenting them would publish the answers).
NOT_DOCUMENTED = (
    "abteach.course.sphinx_plotly", "abteach.course.sphinx_api", "abteach.course.sphinx_exercises",
    "abteach.course.notebooks",
    "abteach.course.answers",
)


def documented_modules() -> list[str]:
    return re.findall(r"^\.\. automodule:: (abteach(?:\.\w+)*)$", API.read_text(), flags=re.M)


def is_public(name: str) -> bool:
    parts = name.split(".")
    hidden = any(name == n or name.startswith(n + ".") for n in NOT_DOCUMENTED)
    return not hidden and not any(part.startswith("_") for part in parts)


def public_modules() -> list[str]:
    """Every module and subpackage of abteach (walked recursively), except private ``_`` ones."""
    found = pkgutil.walk_packages(abteach.__path__, "abteach.")
    return sorted(m.name for m in found if is_public(m.name))


def test_public_modules_are_found_recursively():
    modules = public_modules()
    assert {"abteach.power", "abteach.course", "abteach.course.check"} <= set(modules)
    assert not [m for m in modules if m.startswith("abteach.course.answers") or "._" in m]


def test_page_is_appendix_e_and_documents_each_module_once():
    assert API.read_text().startswith("# Appendix E. API reference\n")
    modules = documented_modules()
    assert len(modules) == len(set(modules)), "a module is documented twice"
    for module in modules:
        importlib.import_module(module)


def test_every_public_module_has_a_section():
    missing = sorted(set(public_modules()) - set(documented_modules()))
    assert not missing, f"book/api.md has no section for {missing}"


def documented_package(name: str, home: str | None, documented: set[str]) -> str | None:
    """The documented module that shows ``name``: its home, or a package above the home (a
    subpackage such as ``abteach.sequential``) that re-exports it in ``__all__``."""
    parts = (home or "").split(".")
    for depth in range(len(parts), 1, -1):
        module = ".".join(parts[:depth])
        if module in documented and (
            module == home or name in getattr(importlib.import_module(module), "__all__", ())
        ):
            return module
    return None


def test_every_exported_name_lives_in_a_documented_module():
    documented = set(documented_modules())
    homes = {}
    for name in abteach.__all__:
        if name.startswith("__"):
            continue
        obj = getattr(abteach, name)
        home = getattr(obj, "__module__", None) if callable(obj) or isinstance(obj, type) else None
        if home is None:  # a constant: the module that defines it under that name
            home = next((m for m in public_modules() if getattr(importlib.import_module(m), name, None) is obj), None)
        homes[name] = home
    outside = sorted(f"{name} ({home})" for name, home in homes.items()
                     if documented_package(name, home, documented) is None)
    assert not outside, f"exported names whose module book/api.md does not document: {outside}"


def test_book_configuration_enables_autodoc_with_numpy_docstrings():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]
    extensions = config.get("extra_extensions", [])
    assert "sphinx.ext.autodoc" in extensions and "sphinx.ext.napoleon" in extensions
    assert "abteach.course.sphinx_api" in extensions
    # napoleon_use_ivar=False keeps "a, b : float" attribute lines from being read as types
    assert config["config"].get("napoleon_use_ivar") is False


@pytest.mark.slow
def test_api_page_builds_without_warnings(tmp_path):
    """Build a two-page book (a bare root page and the API) with the repository's own _config.yml, -W -n."""
    (tmp_path / "book").mkdir()
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    shutil.copy(ROOT / "book" / "api.md", tmp_path / "book" / "api.md")
    # a bare root page: the real introduction links to pages this two-page book does not have
    (tmp_path / "book" / "intro.md").write_text("# Introduction\n\nSee the [API reference](api.md).\n")
    toc = {"format": "jb-book", "root": "book/intro", "chapters": [{"file": "book/api"}]}
    (tmp_path / "_toc.yml").write_text(yaml.safe_dump(toc))
    run = subprocess.run(
        [str(Path(sys.executable).parent / "jupyter-book"), "build", ".", "-W", "-n", "--keep-going"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    log = re.sub(r"\x1b\[[0-9;]*m", "", run.stdout + run.stderr)
    warnings = [line for line in log.splitlines() if "WARNING" in line or "ERROR" in line]
    assert run.returncode == 0 and not warnings, "\n".join(warnings[:40]) or log[-3000:]
