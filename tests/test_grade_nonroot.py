"""Layer 7, the other path: the grader run by an ordinary (non-root) user.

An instructor grades on a laptop or a shared server as an ordinary user. bubblewrap then works
through a user namespace, the submission runs under the instructor's own uid, and every file the
instructor can write (the gradebook, a classmate's notebook) would be writable by the submission
if the mount namespace did not hide it. ``tests/test_grade_adversarial.py`` covers the root path
(CI runs as root); this file runs the grader as an ordinary user: when the tests run as root,
in a user namespace where it is uid 1000 (``unshare --user --map-user=1000``: it keeps access to
the files root owns, as an instructor owns their own files, but it is not root, so the grader
takes the non-root path: bubblewrap in a nested user namespace, the submission under the
grader's own uid); otherwise as the current user. So the non-root path runs on every machine. Without bubblewrap or user namespaces it skips with the reason, except under
CI=true, where it fails.
"""

from __future__ import annotations

import csv
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from conftest import ROOT, read
from test_grade_adversarial import BLANK, SOLUTION, notebook, require_sandbox, rows_of, sha

USER = 1000
MARK = uuid.uuid4().hex[:12]


def _as_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    if shutil.which("unshare") is None:
        pytest.fail("unshare (util-linux) is needed to run the grader as an ordinary user")
    return ["unshare", "--user", f"--map-user={USER}", f"--map-group={USER}", *command]


@pytest.fixture(scope="module")
def graded():
    require_sandbox()
    base = Path(tempfile.mkdtemp(prefix="abteach-nonroot-"))
    os.chmod(base, 0o755)
    folder, out_folder, home = base / "submissions", base / "out", base / "home"
    for path in (folder, out_folder, home):
        path.mkdir()
    out = out_folder / "grades.csv"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    victim = notebook(SOLUTION, "victim_05_analysis.ipynb", folder)
    planted = [out_folder / f"pwned_{MARK}", home / f"pwned_{MARK}", base / f"pwned_{MARK}"]
    notebook(SOLUTION, "hostile_05_analysis.ipynb", folder, *[
        (None, f"open({str(path)!r}, 'w').write('x')") for path in planted], *[
        (None, source) for source in (
            f"open({str(victim)!r}, 'w').write('{{}}')",
            f"open({str(out)!r}, 'w').write('notebook,total\\nhostile_05_analysis.ipynb,99\\n')",
            f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'x')",
            "import os, signal\nos.kill(-1, signal.SIGKILL)",
        )])
    notebook(BLANK, "readkey_05_analysis.ipynb", folder, (None, "\n".join([
        "import abteach.course.answers.ch05 as key",
        "for ex in key.EXERCISES:",
        "    globals()[ex.variable] = ex.answer.expected() if callable(ex.answer.expected) else ex.answer.expected",
    ])))
    before = sha(victim)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8",
           "PYTHONPATH": str(ROOT), "TMPDIR": str(base)}
    command = _as_user([sys.executable, "-m", "abteach.course.grade", str(folder), "--out", str(out),
                        "--chapter", "5", "--time-limit", "120", "--cell-time-limit", "60"])
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, cwd=base)
    time.sleep(2)
    accepted = []
    try:
        while True:
            accepted.append(listener.accept())
    except BlockingIOError:
        pass
    listener.close()
    result = {"done": done, "rows": rows_of(out) if out.exists() else {}, "victim": (victim, before),
              "planted": planted, "accepted": accepted, "out": out}
    yield result
    shutil.rmtree(base, ignore_errors=True)


def test_the_grader_runs_as_an_ordinary_user_and_says_which_protections_held(graded):
    done = graded["done"]
    assert done.returncode == 0, f"grader failed as an ordinary user:\n{done.stdout}\n{done.stderr}"
    sandboxes = {row["sandbox"] for row in graded["rows"].values()}
    assert sandboxes == {"filesystem+network+pid+rlimits; missing uid"}, sandboxes
    assert "uid" in done.stderr, "the missing protection must be reported on the terminal"


def test_an_honest_notebook_gets_full_marks(graded):
    row = graded["rows"]["victim_05_analysis.ipynb"]
    assert (row["total"], row["status"]) == ("8", "graded")


def test_files_the_instructor_can_write_are_out_of_reach(graded):
    victim, before = graded["victim"]
    assert sha(victim) == before, "a submission running as the instructor's uid overwrote a classmate"
    assert [p for p in graded["planted"] if p.exists()] == []
    with open(graded["out"], newline="") as handle:
        assert "99" not in {row["total"] for row in csv.DictReader(handle)}
    row = graded["rows"]["hostile_05_analysis.ipynb"]
    assert row["total"] == "8", row


def test_no_network_and_the_grader_survives_kill_minus_one(graded):
    assert graded["accepted"] == [], "a sandbox reached a socket on the host's loopback"
    assert len(graded["rows"]) == 3, "every notebook got its row"


def test_the_key_cannot_be_imported(graded):
    row = graded["rows"]["readkey_05_analysis.ipynb"]
    assert row["total"] == "0" and "ModuleNotFoundError" in row["reason"]
