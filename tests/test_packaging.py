"""Layer 8: the distribution. A wheel built from the repository, installed with only its declared
dependencies, imports every public module; the learner's install holds no course toolkit
dependencies; the declared lower bounds are the versions the library's tests pass with; a
Colab-like kernel's set-up cell upgrades none of the packages the kernel has already imported.

The tests marked ``packaging`` build a wheel and install it into fresh virtual environments
(pip from the package index): a few minutes. The virtual environments are made once per session.
"""

from __future__ import annotations

import ast
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import nbformat
import pytest

from abteach.course.notebooks import install_requirement
from conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
COURSE_ONLY = {"nbformat", "nbclient", "ipykernel"}
# Loaded on first use only: a fresh `import abteach` must not import any of them.
HEAVY = ("duckdb", "pyarrow", "ipywidgets", "nbformat", "nbclient", "plotly")
# Colab's kernel ships these (and has imported them before the set-up cell runs).
COLAB_KERNEL = {"ipykernel": "6.17", "ipywidgets": "7.7", "plotly": "5.24"}
# Packages the library's own unit tests need beside the declared dependencies.
TEST_TOOLS = ("pytest", "hypothesis", "statsmodels")

# Run in a fresh interpreter: import every module of `abteach` (the course toolkit's modules
# either import or fail with an ImportError that asks for the extra) and print what happened.
IMPORT_ALL = r"""
import importlib, json, pkgutil, sys
import abteach
fresh = [name for name in HEAVY if name in sys.modules]
result = {"fresh_import_loads": fresh, "imported": [], "failed": {}}
names = ["abteach"] + [m.name for m in pkgutil.walk_packages(abteach.__path__, "abteach.")]
for name in names:
    try:
        importlib.import_module(name)
        result["imported"].append(name)
    except Exception as error:
        result["failed"][name] = f"{type(error).__name__}: {error}"
print(json.dumps(result))
"""


def run(*args, **kwargs) -> subprocess.CompletedProcess:
    """Run a command, without PYTHONPATH (a venv must see only what is installed in it); on
    failure, fail the test with its output."""
    kwargs.setdefault("env", {k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(map(str, args))} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def requirement_name(requirement: str) -> str:
    return re.match(r"[A-Za-z0-9_.\-]+", requirement).group(0).lower().replace("_", "-")


def minimum_pins(requirements: list[str]) -> list[str]:
    """``numpy>=2.0`` -> ``numpy==2.0.*``: the oldest release series each lower bound allows."""
    pins = []
    for requirement in requirements:
        bound = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*>=\s*([0-9.]+)(,.*)?", requirement)
        assert bound, f"dependency {requirement!r} has no lower bound"
        pins.append(f"{bound.group(1)}=={bound.group(2)}.*")
    return pins


def make_venv(path: Path, *requirements: str) -> Path:
    """A fresh virtual environment at ``path`` with ``requirements`` installed; its python."""
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    python = path / "bin" / "python"
    if requirements:
        run(python, "-m", "pip", "install", "--quiet", *requirements)
    return python


def installed_versions(python: Path) -> dict[str, str]:
    listing = run(python, "-m", "pip", "list", "--format=json").stdout
    return {p["name"].lower().replace("_", "-"): p["version"] for p in json.loads(listing)}


def import_everything(python: Path) -> dict:
    code = f"HEAVY = {HEAVY!r}\n{IMPORT_ALL}"
    # From a neutral folder, so the repository's own abteach/ is not on the path.
    return json.loads(run(python, "-c", code, cwd=python.parent).stdout)


def library_test_files() -> list[Path]:
    """The test files that need only the declared dependencies and TEST_TOOLS (found by
    reading their imports): the library's unit and property tests, not the course toolkit's."""
    allowed = set(sys.stdlib_module_names) | {"abteach", *TEST_TOOLS}
    allowed |= {requirement_name(r).replace("pyyaml", "yaml") for r in PYPROJECT["project"]["dependencies"]}
    allowed |= {"published", "conftest"}  # the suite's own helpers (tests/published.py, conftest.py)
    files = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module)
        top = {name.split(".")[0] for name in imported}
        if top <= allowed and not any(name.startswith("abteach.course") for name in imported):
            files.append(path)
    return files


def git_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    return [line for line in out.splitlines() if (ROOT / line).is_file()]


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("packaging")


@pytest.fixture(scope="session")
def source(workdir) -> Path:
    """A copy of the repository's files (tracked and new, not ignored): builds leave no trace."""
    copy = workdir / "source"
    for name in git_files():
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, copy / name)
    return copy


@pytest.fixture(scope="session")
def wheel(workdir, source) -> Path:
    out = workdir / "wheel"
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", source, "-w", out)
    (built,) = out.glob("abteach-*.whl")
    return built


@pytest.fixture(scope="session")
def learner(workdir, wheel) -> Path:
    """A clean venv holding the wheel and only its declared dependencies."""
    return make_venv(workdir / "learner", str(wheel))


def wheel_metadata(wheel: Path) -> tuple[list[str], list[str]]:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        lines = archive.read(metadata).decode().splitlines()
    requires = [line.split(":", 1)[1].strip() for line in lines if line.startswith("Requires-Dist:")]
    return names, requires


# ------------------------------------------------------------------------------------ fast checks


def test_fresh_import_loads_no_heavy_module():
    """``import abteach`` in a fresh process, in this environment (the wheel's venv repeats it)."""
    code = f"import sys, abteach; print([m for m in {HEAVY!r} if m in sys.modules])"
    out = run(sys.executable, "-c", code, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "[]", f"a fresh `import abteach` loads {out.stdout.strip()}"


def test_declared_dependencies_exclude_the_course_toolkit_and_have_lower_bounds():
    project = PYPROJECT["project"]
    names = {requirement_name(r) for r in project["dependencies"]}
    assert not names & COURSE_ONLY, f"learner dependencies hold course packages: {names & COURSE_ONLY}"
    assert COURSE_ONLY <= {requirement_name(r) for r in project["optional-dependencies"]["course"]}
    assert minimum_pins(project["dependencies"])  # every dependency has a lower bound
    assert isinstance(project["license"], str), "PEP 639: an SPDX expression, not a table"


def test_library_tests_found_by_their_imports():
    """The selection the lower-bound run uses is not empty and excludes the toolkit's tests."""
    names = {p.name for p in library_test_files()}
    assert "test_power.py" in names and "test_inference.py" in names
    assert "test_grade.py" not in names and "test_notebooks.py" not in names


def test_course_modules_without_extra_say_how_to_install_it():
    """The message a toolkit module gives when nbformat or nbclient is missing."""
    from abteach.course import missing_extra

    error = missing_extra(ModuleNotFoundError("No module named 'nbformat'", name="nbformat"))
    assert 'pip install "abteach[course]"' in str(error) and error.name == "nbformat"


# --------------------------------------------------------------------- wheel and clean installs


@pytest.mark.packaging
def test_wheel_holds_the_package_only_and_learner_dependencies(wheel):
    names, requires = wheel_metadata(wheel)
    top = {name.split("/")[0] for name in names}
    assert all(t == "abteach" or t.endswith((".dist-info", ".data")) for t in top), top
    assert not [n for n in names if n.endswith(".ipynb") or "/tests/" in n or n.startswith("tests/")]
    learner_deps = [r for r in requires if "extra ==" not in r]
    course_deps = [r for r in requires if "extra == \"course\"" in r]
    assert not {requirement_name(r) for r in learner_deps} & COURSE_ONLY, learner_deps
    assert COURSE_ONLY <= {requirement_name(r) for r in course_deps}, course_deps
    print(f"\nwheel {wheel.name}: {wheel.stat().st_size} bytes; {len(names)} files; "
          f"{len(learner_deps)} dependencies ({', '.join(map(requirement_name, learner_deps))}); "
          f"extra [course]: {len(course_deps)}")


@pytest.mark.packaging
def test_learner_install_imports_every_library_module(learner):
    result = import_everything(learner)
    assert result["fresh_import_loads"] == [], f"fresh `import abteach` loads {result['fresh_import_loads']}"
    library = [n for n in result["imported"] if not n.startswith("abteach.course")]
    assert "abteach.power" in library and "abteach.events" in library
    failed = result["failed"]
    assert not [n for n in failed if not n.startswith("abteach.course")], failed
    assert "abteach.course.check" in result["imported"], failed
    for name, message in failed.items():
        assert message.startswith(("ImportError", "ModuleNotFoundError")), (name, message)
        assert 'pip install "abteach[course]"' in message, (name, message)
    installed = installed_versions(learner)
    assert not COURSE_ONLY & set(installed), f"the learner install holds {COURSE_ONLY & set(installed)}"


@pytest.fixture(scope="session")
def course(workdir, wheel) -> Path:
    """A clean venv holding the wheel with the ``[course]`` extra (under the temporary folder,
    as an instructor's throw-away venv would be)."""
    return make_venv(workdir / "course", f"abteach[course] @ {wheel.as_uri()}")


@pytest.mark.packaging
def test_course_install_imports_every_module(course):
    python = course
    result = import_everything(python)
    assert result["failed"] == {}
    assert "abteach.course.grade" in result["imported"] and "abteach.course.notebooks" in result["imported"]
    assert result["fresh_import_loads"] == []


@pytest.mark.packaging
def test_lower_bounds_pass_the_library_tests(workdir, wheel):
    """Every declared dependency at the oldest series its lower bound allows runs the library's
    unit and property tests (the fast ones)."""
    pins = minimum_pins(PYPROJECT["project"]["dependencies"])
    python = make_venv(workdir / "lower", *pins, *TEST_TOOLS)
    run(python, "-m", "pip", "install", "--quiet", "--no-deps", wheel)
    run(python, "-m", "pip", "check")
    installed = installed_versions(python)
    for pin in pins:
        name, series = pin.split("==")
        assert re.match(re.escape(series[:-1]), installed[requirement_name(name)]), (pin, installed)
    files = library_test_files()
    # The installed wheel is tested, not the source tree: tests/ is on the path, the root is not.
    out = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "-m", "not slow and not packaging",
         "--rootdir", ROOT, "-c", ROOT / "pyproject.toml", *files],
        cwd=workdir, capture_output=True, text=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    print(f"\nlower bounds {' '.join(pins)}: {len(files)} test files\n{out.stdout[-400:]}")
    assert out.returncode == 0, out.stdout[-6000:]


@pytest.mark.packaging
def test_colab_setup_cell_upgrades_nothing_the_kernel_imported(workdir, source):
    """In a venv with Colab's ipykernel, ipywidgets and plotly, the set-up cell's install line
    (with the local repository in place of the git URL) keeps their versions; a chapter's
    line installs no course toolkit package, an exercise notebook's line installs the extra."""
    python = make_venv(workdir / "colab", *(f"{name}=={version}.*" for name, version in COLAB_KERNEL.items()))
    before = installed_versions(python)
    url, branch = "https://example.org/repo", "main"
    local = f"{source.as_uri()}"
    for course in (False, True):
        requirement = install_requirement(url, branch, course=course).replace(f"git+{url}@{branch}", local)
        assert requirement.endswith(f"@ {local}"), requirement
        run(python, "-m", "pip", "install", "--quiet", requirement)
        after = installed_versions(python)
        for name in COLAB_KERNEL:
            assert after[name] == before[name], f"{requirement!r} changed {name} {before[name]} -> {after[name]}"
        added = sorted(set(after) - set(before))
        print(f"\n{requirement.split(' @ ')[0]} added {len(added)} packages: {', '.join(added)}")
        assert "abteach" in added or course
        if not course:
            assert not COURSE_ONLY & set(added), f"a chapter's set-up cell installs {COURSE_ONLY & set(added)}"
        before = after
    # the course toolkit works with the kernel's own versions
    run(python, "-c", "import abteach.course.grade, abteach.course.exercises", cwd=workdir)


@pytest.mark.packaging
def test_instructor_grades_a_class_edition_with_the_installed_package(workdir, course):
    """Installed from the wheel (no repository around): ``abteach-exercises --from`` writes an
    edition, and ``abteach-grade`` grades it in the sandbox although the venv lives under /tmp,
    which the sandbox replaces with its own; the published solution earns nothing there."""
    from abteach.course.editions import edition_exercises

    bin_folder, secret = course.parent, "an instructor's long secret"
    folder, submissions = workdir / "instructor", workdir / "instructor" / "submissions"
    submissions.mkdir(parents=True)
    run(bin_folder / "abteach-exercises", "--edition", secret, "--chapter", "3", "--out", folder / "class",
        "--from", ROOT / "exercises", cwd=folder)
    edition = nbformat.read(folder / "class" / "03_assignment.ipynb", as_version=4)
    answers = {ex.variable: ex.answer.expected() if callable(ex.answer.expected) else ex.answer.expected
               for ex in edition_exercises(3, secret)}
    edition.cells.append(nbformat.v4.new_code_cell("\n".join(f"{k} = {v!r}" for k, v in answers.items())))
    nbformat.write(edition, submissions / "doejohn_123456_7890123_03_assignment.ipynb")
    shutil.copy(ROOT / "solutions" / "03_assignment.ipynb", submissions / "roepat_654321_7890124_03_assignment.ipynb")
    run(bin_folder / "abteach-grade", submissions, "--out", folder / "out" / "grades.csv", "--edition", secret,
        "--chapter", "3", cwd=folder)
    with open(folder / "out" / "grades.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert (rows["doejohn"]["total"], rows["roepat"]["total"]) == ("7", "0"), rows
    assert all(row["status"] == "graded" and row["sandbox"].startswith("filesystem+network+pid") for row in rows.values())
