"""Shared fixtures and settings of the test suite."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent

# Fuzz tests are part of the default suite: derandomised, so a given commit always runs the
# same examples (CI is reproducible), and without per-example deadlines (the 2-core CI box
# is shared with notebook kernels).
settings.register_profile(
    "course", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("course")


def toc_files() -> list[str]:
    """Every page listed in _toc.yml (without extension), root first."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections", []))
            walk(entry.get("chapters", []))

    walk(toc.get("parts", []))
    walk(toc.get("chapters", []))
    return files


def executed_notebooks() -> list[Path]:
    """Chapter, appendix and solution notebooks: stored outputs, checked by nbval."""
    return sorted(ROOT.glob("book/*.ipynb")) + sorted(ROOT.glob("solutions/*.ipynb"))


def read(path: Path):
    import nbformat  # the course extra: the library's own tests run without it

    return nbformat.read(path, as_version=4)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
