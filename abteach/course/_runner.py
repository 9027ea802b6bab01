"""Run a submission's code cells inside the grading sandbox (started by :mod:`abteach.course.sandbox`).

    python -s -m abteach.course._runner RUN_FOLDER

``RUN_FOLDER/input.json`` holds the code cells, the NAMES of the answer variables (never their
expected values), the per-cell time limit and the resource limits. The runner lowers its own
limits (and, when started as root, drops to an unprivileged uid) before any submitted code runs,
then executes the cells in order with IPython's ``InteractiveShell`` (so ``%pip`` and other magics
parse). Before each cell it appends ``{"cell": i, "event": "start"}`` to
``RUN_FOLDER/results.jsonl``, after it ``{"cell": i, "event": "end", "status": ..., "answers":
{...}}`` with the answer variables encoded by :func:`abteach.course.check.encode_answer`. The
grader reads that file from outside and checks the values in its own process; it also enforces
the time limits from outside, so a cell that disables the alarm below only loses the rest of its
own notebook.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import signal
import sys

MAX_ANSWER_CHARS = 100_000
WARM_UP = ("numpy", "scipy.stats", "abteach")


class CellTimeout(BaseException):
    """Raised in a cell that runs past its time limit."""


def _alarm(signum, frame):
    raise CellTimeout()


def _limit(kind: int, value) -> None:
    if value is not None:
        resource.setrlimit(kind, (int(value), int(value)))


def _confine(spec: dict) -> None:
    limits = spec["limits"]
    _limit(resource.RLIMIT_AS, limits.get("memory"))
    _limit(resource.RLIMIT_CPU, limits.get("cpu"))
    _limit(resource.RLIMIT_FSIZE, limits.get("file_size"))
    _limit(resource.RLIMIT_NPROC, limits.get("processes"))
    _limit(resource.RLIMIT_CORE, 0)
    uid = spec.get("uid")
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)


def main(run_folder: str) -> int:
    with open(os.path.join(run_folder, "input.json")) as handle:
        spec = json.load(handle)
    out = os.open(os.path.join(run_folder, "results.jsonl"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    _confine(spec)
    from IPython.core.interactiveshell import InteractiveShell

    from abteach.course.check import encode_answer

    for module in WARM_UP:  # what every chapter imports: its cost counts against the total limit only
        importlib.import_module(module)

    dumps, write = json.dumps, os.write  # kept before any submitted code can replace them

    def send(record: dict) -> None:
        write(out, (dumps(record) + "\n").encode())

    def answers(namespace) -> dict:
        found = {}
        for name in spec["names"]:
            if name in namespace:
                try:
                    text = dumps(encode_answer(namespace[name]))
                except BaseException as exc:  # an answer whose encoding fails is a wrong answer
                    text = dumps({"unsupported": type(exc).__name__})
                if len(text) > MAX_ANSWER_CHARS:
                    text = dumps({"unsupported": "answer too large"})
                found[name] = json.loads(text)
        return found

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    shell = InteractiveShell.instance()
    signal.signal(signal.SIGALRM, _alarm)
    for index, source in spec["cells"]:
        send({"cell": index, "event": "start"})
        signal.setitimer(signal.ITIMER_REAL, spec["cell_time_limit"])
        try:
            result = shell.run_cell(source, store_history=False)
            error = result.error_before_exec or result.error_in_exec
        except CellTimeout as exc:  # raised outside the cell's own code
            error = exc
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        status = "ok" if error is None else "timed out" if isinstance(error, CellTimeout) else "error"
        send({
            "cell": index, "event": "end", "status": status,
            "error": "" if error is None else type(error).__name__,
            "answers": answers(shell.user_ns),
        })
    send({"event": "done"})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
