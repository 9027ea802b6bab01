"""Layer 7: hostile submissions. Each case asserts the grade AND the absence of its side effect.

One grader run (``--jobs 2``) grades every hostile notebook; the class-edition and resume cases
use a second, small run. The sandbox needs bubblewrap: without it these tests skip with the
reason, except under CI=true, where they fail (``.ci/run`` installs it).
"""

from __future__ import annotations

import copy
import csv
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from abteach.course import sandbox
from abteach.course.editions import edition_exercises, edition_tag
from abteach.course.grade import main
from conftest import ROOT, read

SOLUTION = read(ROOT / "solutions" / "05_analysis.ipynb")
BLANK = read(ROOT / "exercises" / "05_analysis.ipynb")
SOLUTION_10 = read(ROOT / "solutions" / "10_sequential.ipynb")
ANSWERS = sandbox.PACKAGE / "course" / "answers"
SITE_PACKAGES = next(Path(p) for p in sys.path if p.endswith("site-packages"))
MARK = uuid.uuid4().hex[:12]
SECRET = "adversarial test edition secret"


def require_sandbox():
    held, problem = sandbox.probe()
    missing = [p for p in ("filesystem", "network", "pid", "rlimits") if p not in held]
    if problem or missing:
        message = f"the grading sandbox is not available here: {problem or 'missing ' + ', '.join(missing)}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI must install bubblewrap: see .ci/run)")
        pytest.skip(message + "; install Debian's bubblewrap")


def notebook(base, name: str, folder: Path, *cells: tuple[int | None, str], drop_metadata=False):
    nb = copy.deepcopy(base)
    for position, source in cells:
        nb.cells.insert(len(nb.cells) if position is None else position, nbformat.v4.new_code_cell(source))
    if drop_metadata:
        nb.metadata.pop("abteach", None)
        nb.metadata.pop("kernelspec", None)
    nbformat.write(nb, folder / name)
    return folder / name


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sandbox_processes(grader_pid: int | None = None) -> list[int]:
    """Processes still running as one of the sandbox uids of a grader (default: this process)."""
    uids = sandbox.sandbox_uids(grader_pid)
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                uid = entry.stat().st_uid
            except FileNotFoundError:
                continue
            if uid in uids:
                found.append(int(entry.name))
    return found


def rows_of(path: Path) -> dict:
    with open(path, newline="") as handle:
        return {row["notebook"]: row for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    require_sandbox()
    folder = tmp_path_factory.mktemp("hostile")
    out_folder = tmp_path_factory.mktemp("out")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    victim = notebook(SOLUTION, "victim_05_analysis.ipynb", folder)
    victim_hash = sha(victim)
    out = out_folder / "grades.csv"
    protected = {p: sha(p) for p in [ANSWERS / "ch05.py", sandbox.PACKAGE / "course" / "check.py"]}
    outside = [ROOT / f"pwned_{MARK}", Path("/tmp") / f"pwned_{MARK}", Path.home() / f"pwned_{MARK}",
               SITE_PACKAGES / f"pwned_{MARK}.pth"]
    end = None
    notebook(SOLUTION, "network_05_analysis.ipynb", folder, (end, "\n".join([
        "import socket",
        f"socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'leak')",
    ])), (end, "import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=3)"))
    notebook(SOLUTION, "writes_05_analysis.ipynb", folder, *[
        (end, f"open({str(path)!r}, 'w').write('x')") for path in outside])
    notebook(BLANK, "readkey_05_analysis.ipynb", folder, (end, "\n".join([
        f"text = open({str(ANSWERS / 'ch05.py')!r}).read()",
    ])), (end, "\n".join([
        "import abteach.course.answers.ch05 as key",
        "for ex in key.EXERCISES:",
        "    globals()[ex.variable] = ex.answer.expected() if callable(ex.answer.expected) else ex.answer.expected",
    ])), (end, "import os\nlisting = os.listdir(" + repr(str(ANSWERS)) + ")\nassert listing"))
    notebook(BLANK, "classmate_05_analysis.ipynb", folder, (end, "\n".join([
        f"import shutil; shutil.copy({str(folder / 'classmate_05_analysis.ipynb')!r}, {str(victim)!r})",
    ])), (end, f"import os; victims = os.listdir({str(folder)!r})"))
    notebook(BLANK, "tamper_05_analysis.ipynb", folder, *[
        (end, f"open({str(path)!r}, 'a').write('\\nEXERCISES = ()\\n')") for path in protected],
        (end, f"open({str(SITE_PACKAGES / f'pwned_{MARK}.pth')!r}, 'w').write('import os')"),
        (end, "import os; os.environ['ABTEACH'] = 'x'; os.putenv('PATH', '/nowhere')"))
    notebook(SOLUTION, "daemon_05_analysis.ipynb", folder, (end, "\n".join([
        "import os, time",
        "if os.fork() == 0:",
        "    os.setsid()",
        "    if os.fork() == 0:",
        "        time.sleep(3)",
        f"        open({str(out)!r}, 'w').write('forged')",
        "    os._exit(0)",
    ])))
    notebook(SOLUTION, "killer_05_analysis.ipynb", folder,
             (end, "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)"),
             (end, "import os\nos.system('kill -9 -1')\nos.kill(1, 9)"))
    notebook(SOLUTION, "loop_05_analysis.ipynb", folder, (10, "\n".join([
        "import signal",
        "signal.signal(signal.SIGALRM, signal.SIG_IGN)",
        "while True:",
        "    pass",
    ])))
    notebook(SOLUTION, "memory_05_analysis.ipynb", folder, (5, "hog = bytearray(64 * 2**30)"))
    notebook(SOLUTION, "forkbomb_05_analysis.ipynb", folder, (end, "import os\nwhile True:\n    os.fork()"))
    (folder / "corrupt_05_analysis.ipynb").write_text('{"cells": [')
    notebook(SOLUTION, "05_analysis_nokernelspec.ipynb", folder, drop_metadata=True)
    notebook(SOLUTION_10, "05_analysis_really_10.ipynb", folder)
    notebook(SOLUTION, "smithjane_LATE_123456_7890123_05_analysis.ipynb", folder, drop_metadata=True)
    notebook(SOLUTION, "Jane Roe_4242_assignsubmission_file_05_analysis.ipynb", folder, drop_metadata=True)
    notebook(BLANK, "Copy of 05_analysis.ipynb", folder, drop_metadata=True)
    assert main([str(folder), "--out", str(out), "--jobs", "2", "--chapter", "5", "--time-limit", "60",
                 "--cell-time-limit", "20", "--memory", "3"]) == 0
    written = out.read_bytes()
    time.sleep(4)  # a surviving daemon would rewrite grades.csv now
    accepted = []
    try:
        while True:
            accepted.append(listener.accept())
    except BlockingIOError:
        pass
    listener.close()
    return {
        "rows": rows_of(out), "out": out, "written": written, "accepted": accepted, "outside": outside,
        "protected": protected, "victim": (victim, victim_hash),
    }


def totals(rows, name):
    return rows[name]["total"], rows[name]["status"]


def test_network_is_cut_off(hostile):
    assert totals(hostile["rows"], "network_05_analysis.ipynb") == ("8", "graded")
    assert "cell" in hostile["rows"]["network_05_analysis.ipynb"]["reason"]
    assert hostile["accepted"] == [], "a sandbox reached a socket on the host's loopback"


def test_writes_outside_the_private_folder_leave_no_file(hostile):
    assert totals(hostile["rows"], "writes_05_analysis.ipynb") == ("8", "graded")
    assert [p for p in hostile["outside"] if p.exists()] == []


def test_the_answer_key_is_neither_readable_nor_importable(hostile):
    row = hostile["rows"]["readkey_05_analysis.ipynb"]
    assert row["total"] == "0"
    assert "FileNotFoundError" in row["reason"] and "ModuleNotFoundError" in row["reason"]
    assert "AssertionError" in row["reason"], "the answers folder must look empty"


def test_a_classmate_notebook_cannot_be_read_or_overwritten(hostile):
    victim, before = hostile["victim"]
    assert sha(victim) == before
    assert totals(hostile["rows"], "victim_05_analysis.ipynb") == ("8", "graded")
    assert "FileNotFoundError" in hostile["rows"]["classmate_05_analysis.ipynb"]["reason"]


def test_the_key_the_package_and_the_environment_cannot_be_tampered_with(hostile):
    assert {p: sha(p) for p in hostile["protected"]} == hostile["protected"]
    assert not any(p.suffix == ".pth" and p.exists() for p in hostile["outside"])
    assert totals(hostile["rows"], "tamper_05_analysis.ipynb") == ("0", "graded")
    assert "ABTEACH" not in os.environ


def test_a_daemon_dies_with_its_sandbox(hostile):
    assert totals(hostile["rows"], "daemon_05_analysis.ipynb") == ("8", "graded")
    assert hostile["out"].read_bytes() == hostile["written"], "grades.csv changed after the grader exited"
    assert sandbox_processes() == []


def test_a_submission_cannot_kill_the_grader(hostile):
    row = hostile["rows"]["killer_05_analysis.ipynb"]
    assert row["total"] == "8"
    assert len(hostile["rows"]) == 17, "every notebook got its row"


def test_a_loop_after_correct_answers_keeps_their_credit(hostile, tmp_path):
    row = hostile["rows"]["loop_05_analysis.ipynb"]
    assert row["status"] == "timed out" and "cell 10" in row["reason"]
    points = [row[f"05.{k}"] for k in range(1, 9)]
    assert points[:3] == ["1", "1", "1"] and points[3:] == ["0"] * 5
    long = [r for r in csv.DictReader(open(hostile["out"].with_name("grades_exercises.csv")))
            if r["notebook"] == "loop_05_analysis.ipynb"]
    assert [r["status"] for r in long] == ["correct"] * 3 + ["timed out"] * 5


def test_a_huge_allocation_fails_alone(hostile):
    row = hostile["rows"]["memory_05_analysis.ipynb"]
    assert row["total"] == "8" and "MemoryError" in row["reason"]


def test_a_fork_bomb_is_bounded(hostile):
    assert hostile["rows"]["forkbomb_05_analysis.ipynb"]["total"] == "8"
    assert sandbox_processes() == []


@pytest.mark.parametrize("name, total, status, words", [
    ("corrupt_05_analysis.ipynb", "0", "unreadable", "NotJSONError"),
    ("05_analysis_nokernelspec.ipynb", "8", "graded", ""),
    ("05_analysis_really_10.ipynb", "0", "wrong chapter", "chapter 10"),
])
def test_broken_or_misfiled_notebooks(hostile, name, total, status, words):
    row = hostile["rows"][name]
    assert (row["total"], row["status"]) == (total, status) and words in row["reason"]


@pytest.mark.parametrize("name, student, lms_id, total", [
    ("smithjane_LATE_123456_7890123_05_analysis.ipynb", "smithjane", "123456", "8"),
    ("Jane Roe_4242_assignsubmission_file_05_analysis.ipynb", "Jane Roe", "4242", "8"),
    ("Copy of 05_analysis.ipynb", "Copy of 05_analysis", "", "0"),
])
def test_lms_and_colab_file_names(hostile, name, student, lms_id, total):
    row = hostile["rows"][name]
    assert (row["student"], row["lms_id"], row["chapter"], row["total"]) == (student, lms_id, "05", total)
    assert row["status"] == "graded"


def test_every_row_names_the_protections_that_held(hostile):
    assert {row["sandbox"] for row in hostile["rows"].values()} == {"+".join(sandbox.probe()[0])}


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    require_sandbox()
    folder, out_folder = tmp_path_factory.mktemp("edition"), tmp_path_factory.mktemp("edition_out")
    notebook(SOLUTION, "published_05_analysis.ipynb", folder)
    key = edition_exercises(5, SECRET)
    values = {ex.variable: ex.answer.expected() if callable(ex.answer.expected) else ex.answer.expected
              for ex in key}
    notebook(BLANK, "edition_05_analysis.ipynb", folder,
             (None, "\n".join(f"{name} = {value!r}" for name, value in values.items())))
    out = out_folder / "grades.csv"
    args = [str(folder), "--out", str(out), "--edition", SECRET, "--jobs", "2"]
    assert main(args) == 0
    first = out.read_bytes()
    lines = first.splitlines(keepends=True)
    out.write_bytes(b"".join(lines[:-1]) + lines[-1][:25])  # a grader killed while writing a row
    assert main(args) == 0
    return rows_of(out), first, out.read_bytes()


def test_the_published_solution_earns_nothing_on_an_edition(edition):
    rows, _, _ = edition
    row = rows["published_05_analysis.ipynb"]
    assert row["edition"] == edition_tag(SECRET)
    assert (row["total"], row["status"]) == ("0", "graded")
    assert rows["edition_05_analysis.ipynb"]["total"] == "8"


def test_a_killed_grader_resumes_without_losing_or_duplicating_rows(edition):
    _, first, resumed = edition
    assert resumed == first


def test_a_grader_killed_mid_run_loses_no_row(tmp_path):
    """SIGKILL the grader (and its process group) once it has written its first row, run the
    same command again: every notebook has exactly one row and no sandbox survives."""
    require_sandbox()
    folder = tmp_path / "submissions"
    folder.mkdir()
    for k in range(3):
        notebook(SOLUTION, f"student{k}_05_analysis.ipynb", folder, (None, f"extra = {k}"))
    out = tmp_path / "grades.csv"
    command = [sys.executable, "-m", "abteach.course.grade", str(folder), "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    grader = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not out.exists() or len(out.read_text().splitlines()) < 2):
        time.sleep(0.2)
    os.killpg(grader.pid, signal.SIGKILL)
    grader.wait()
    first = len(out.read_text().splitlines()) - 1
    assert 1 <= first < 3, "the grader must be killed after its first row and before its last"
    again = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    again_pid, (stdout, _) = again.pid, again.communicate(timeout=300)
    assert again.returncode == 0 and f"resuming: {first} notebook(s)" in stdout
    rows = list(rows_of(out).values())
    assert sorted(row["notebook"] for row in rows) == sorted(p.name for p in folder.iterdir())
    assert len(out.read_text().splitlines()) == 4 and {row["total"] for row in rows} == {"8"}
    time.sleep(1)
    assert sandbox_processes(grader.pid) == [] and sandbox_processes(again_pid) == []
