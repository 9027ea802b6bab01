"""The sandbox the grader runs each submission in (bubblewrap, namespaces, rlimits).

One submission = one ``bwrap`` process tree:

* a new mount namespace whose root is an empty tmpfs: only the Python installation, the
  virtual environment and the ``abteach`` package are mounted, read-only; the answer keys
  (``abteach/course/answers``) are covered by an empty tmpfs and the grader's own modules by
  ``/dev/null``; the private copy of the notebook lives in a fresh folder, the only writable
  place besides a size-limited ``/tmp`` that vanishes with the sandbox;
* a new network namespace (loopback only), pid namespace (the grader and the other
  submissions are invisible and cannot be signalled; when the runner ends, the kernel kills
  everything it started), IPC and UTS namespaces, a new session;
* rlimits set by the runner before any submitted code: address space, CPU time, processes,
  file size, no core files; when the grader runs as root, the code runs as an unprivileged uid
  of its own (one per parallel job) so that the process limit holds and file permissions apply.

The grader polls the runner's results file and kills the whole process group at the per-cell or
total time limit. :func:`probe` runs a trivial sandbox once and reports which protections hold.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import abteach

PACKAGE = Path(abteach.__file__).resolve().parent
HIDDEN_FOLDERS = ("course/answers",)
HIDDEN_FILES = ("course/grade.py", "course/gradebook.py", "course/sandbox.py", "course/editions.py")
SANDBOX_UID = 61000  # first uid of the sandboxes when the grader runs as root
UIDS_PER_GRADER = 16  # so that graders running at the same time never share a uid
RUN_FOLDER = "/abteach-run"
WORK_FOLDER = "/home/student"
ALL_PROTECTIONS = ("filesystem", "network", "pid", "uid", "rlimits")


@dataclass(frozen=True)
class Limits:
    """Resource limits of one submission (bytes and seconds)."""

    memory: int = 3 * 2**30
    cpu: int = 600
    file_size: int = 64 * 2**20
    processes: int = 64
    tmp_size: int = 256 * 2**20


@dataclass
class Run:
    """What came out of one sandboxed run."""

    records: list = field(default_factory=list)
    killed: str = ""  # "" or why the grader killed the sandbox
    returncode: int | None = None
    stderr: str = ""


def sandbox_uids(pid: int | None = None) -> range:
    """The uids the sandboxes of the grader process ``pid`` (default: this one) run as, when root."""
    pid = os.getpid() if pid is None else pid
    first = SANDBOX_UID + UIDS_PER_GRADER * (pid % 2048)
    return range(first, first + UIDS_PER_GRADER)


def _bind_system() -> list[str]:
    args = []
    for top in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        path = Path(top)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), top]
        elif path.is_dir():
            args += ["--ro-bind", top, top]
    for name in ("ld.so.cache", "localtime", "alternatives", "passwd", "group", "nsswitch.conf"):
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args


def _parents(*paths: str) -> list[str]:
    """Create the parent folders of the mount points readable by all (bwrap's default is 0700);
    ``/tmp`` is the sandbox's own tmpfs, mounted before them."""
    folders = {str(parent) for path in paths for parent in Path(path).parents
               if str(parent) not in ("/", "/tmp")}
    args = []
    for folder in sorted(folders, key=lambda f: f.count("/")):
        args += ["--perms", "0755", "--dir", folder]
    return args


def _bind_python() -> list[str]:
    prefixes = list(dict.fromkeys([sys.base_prefix, sys.prefix]))
    args = _parents(*prefixes, str(PACKAGE), WORK_FOLDER)
    for prefix in prefixes:
        args += ["--ro-bind", prefix, prefix]
    args += ["--ro-bind", str(PACKAGE), str(PACKAGE)]
    for folder in HIDDEN_FOLDERS:
        args += ["--tmpfs", str(PACKAGE / folder), "--remount-ro", str(PACKAGE / folder)]
    for name in HIDDEN_FILES:
        if (PACKAGE / name).exists():
            args += ["--ro-bind", "/dev/null", str(PACKAGE / name)]
    return args


def bwrap_command(run_folder: Path, work_folder: Path, limits: Limits, *, as_root: bool) -> list[str]:
    """The ``bwrap`` command line that runs the runner on ``run_folder``."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise FileNotFoundError("bubblewrap (bwrap) is not installed")
    args = [
        bwrap, "--die-with-parent", "--new-session",
        "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
        *([] if as_root else ["--unshare-user", "--disable-userns"]),
        *_bind_system(),
        "--proc", "/proc", "--dev", "/dev",
        # the private /tmp first: a Python installation under /tmp is bound over it, not hidden
        "--perms", "1777", "--size", str(limits.tmp_size), "--tmpfs", "/tmp",
        *_bind_python(),
        "--bind", str(work_folder), WORK_FOLDER,
        "--bind", str(run_folder), RUN_FOLDER,
        "--chdir", WORK_FOLDER,
    ]
    if as_root:
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    python = str(Path(sys.executable))
    return [*args, "--", python, "-s", "-m", "abteach.course._runner", RUN_FOLDER]


def _environment(*, sandboxed: bool, work: str) -> dict[str, str]:
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": work,
        "TMPDIR": "/tmp" if sandboxed else work,
        "PYTHONPATH": str(PACKAGE.parent),
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
        "PLOTLY_RENDERER": "json",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "LANG": "C.UTF-8",
    }


def _read_records(path: Path, offset: int, records: list) -> int:
    """Append the complete JSON lines written since ``offset``; return the new offset."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read(4 * 2**20)
    except FileNotFoundError:
        return offset
    end = data.rfind(b"\n") + 1
    for line in data[:end].splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return offset + end


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def run_cells(
    notebook: Path,
    cells: list[tuple[int, str]],
    names: list[str],
    *,
    time_limit: float,
    cell_time_limit: float,
    limits: Limits = Limits(),
    sandboxed: bool = True,
    slot: int = 0,
) -> Run:
    """Run ``cells`` (index, source) of ``notebook`` in a fresh sandbox and collect the records.

    ``time_limit`` bounds the whole run, ``cell_time_limit`` each cell (inside the runner by an
    alarm, outside by the grader, with one second of grace).
    """
    as_root = os.geteuid() == 0
    uid = sandbox_uids()[slot % UIDS_PER_GRADER] if as_root else None
    with tempfile.TemporaryDirectory(prefix="abteach-grade-", ignore_cleanup_errors=True) as scratch:
        run_folder, work_folder = Path(scratch, "run"), Path(scratch, "work")
        run_folder.mkdir()
        work_folder.mkdir()
        shutil.copyfile(notebook, work_folder / "submission.ipynb")
        spec = {
            "cells": cells, "names": names, "cell_time_limit": cell_time_limit,
            "limits": {
                "memory": limits.memory, "cpu": limits.cpu, "file_size": limits.file_size,
                "processes": limits.processes if sandboxed else None,
            },
            "uid": uid if sandboxed else None,
        }
        (run_folder / "input.json").write_text(json.dumps(spec))
        results = run_folder / "results.jsonl"
        results.touch()
        if uid is not None and sandboxed:
            for path in (scratch, run_folder, work_folder, work_folder / "submission.ipynb", results):
                os.chown(path, uid, uid)
        if sandboxed:
            command = bwrap_command(run_folder, work_folder, limits, as_root=as_root)
            env = _environment(sandboxed=True, work=WORK_FOLDER)
            cwd = None
        else:
            command = [sys.executable, "-s", "-m", "abteach.course._runner", str(run_folder)]
            env = _environment(sandboxed=False, work=str(work_folder))
            cwd = work_folder
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, start_new_session=True,
        )
        run = Run()
        start = time.monotonic()
        cell_start, offset, done = None, 0, None  # start-up counts against the total limit only
        while process.poll() is None:
            time.sleep(0.05)
            count = len(run.records)
            offset = _read_records(results, offset, run.records)
            now = time.monotonic()
            for record in run.records[count:]:
                event = record.get("event")
                cell_start = now if event == "start" else None if event == "end" else cell_start
                done = now if event == "done" and done is None else done
            if done is not None:
                if now - done > 5:
                    break  # finished; whatever it left running is killed below
            elif now - start > time_limit:
                run.killed = f"ran past the time limit of {time_limit:g} s"
            elif cell_start is not None and now - cell_start > cell_time_limit + 1:
                run.killed = f"a cell ran past the cell time limit of {cell_time_limit:g} s"
            if run.killed:
                break
        _kill(process)
        _read_records(results, offset, run.records)
        run.returncode = process.returncode
        run.stderr = process.stderr.read(4000).decode(errors="replace") if process.stderr else ""
        if process.stderr:
            process.stderr.close()
    return run


def probe() -> tuple[list[str], str]:
    """Which protections hold on this machine: (list of those that hold, explanation)."""
    if shutil.which("bwrap") is None:
        return [], "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"
    as_root = os.geteuid() == 0
    with tempfile.TemporaryDirectory(prefix="abteach-probe-") as scratch:
        command = bwrap_command(Path(scratch), Path(scratch), Limits(), as_root=as_root)
        command = command[: command.index("--")] + ["--", sys.executable, "-s", "-c", _PROBE]
        if as_root:
            os.chmod(scratch, 0o777)
        done = subprocess.run(command, capture_output=True, text=True, timeout=60,
                              env=_environment(sandboxed=True, work=WORK_FOLDER))
    if done.returncode != 0:
        return [], f"bwrap could not start a sandbox: {done.stderr.strip()[:300]}"
    facts = json.loads(done.stdout)
    facts["uid"] = as_root
    facts["rlimits"] = True
    held = [name for name in ALL_PROTECTIONS if facts.get(name)]
    return held, ""


_PROBE = f"""
import json, os, socket
facts = {{}}
facts["filesystem"] = not os.listdir({str(PACKAGE / HIDDEN_FOLDERS[0])!r})
facts["pid"] = os.getpid() <= 3
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2)
    facts["network"] = False
except OSError:
    facts["network"] = True
print(json.dumps(facts))
"""
