"""Every chapter runs under a 2 GiB memory cap, like Binder's (issue 10, item 3).

Each chapter notebook (book/NN_*.ipynb) is executed in a kernel whose process is capped at
2 GiB: by a cgroup v2 memory limit where the machine allows it (cgroup v2 mounted, memory
controller available, run as root), else by an address-space limit (RLIMIT_AS, what
``prlimit --as`` sets) inherited by the kernel and everything it starts. The tests print which
mechanism they used. The cap is applied by a kernelspec whose launcher sets it and then execs
ipykernel, so it holds from the kernel's first instruction.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from conftest import ROOT, read

nbclient = pytest.importorskip("nbclient", reason="the course extra runs notebooks: pip install 'abteach[course]'")

CAP = 2 * 2**30
KERNEL = "abteach-capped"
CGROUP_ROOT = Path("/sys/fs/cgroup")
CHAPTERS = sorted(ROOT.glob("book/[0-9][0-9]_*.ipynb"))

# The kernel's launcher: put this process under the cap, then become the kernel.
LAUNCHER = '''\
import os, resource, sys
mechanism, target, command = sys.argv[1], sys.argv[2], sys.argv[3:]
if mechanism == "cgroup":
    with open(os.path.join(target, "cgroup.procs"), "w") as procs:
        procs.write(str(os.getpid()))
else:
    resource.setrlimit(resource.RLIMIT_AS, (int(target), int(target)))
    # An address-space cap is stricter than Binder's limit, which counts resident memory. It
    # also counts address space that libraries reserve and never touch: pyarrow's default
    # allocator (mimalloc) reserves 1 GiB at pandas' first string column, and OpenBLAS starts
    # one thread (with its own arena) per visible core. Binder gives one CPU; pyarrow's
    # system allocator reserves only what it uses.
    os.environ.update(ARROW_DEFAULT_MEMORY_POOL="system", OPENBLAS_NUM_THREADS="1",
                      OMP_NUM_THREADS="1")
os.execv(command[0], command)
'''


def cgroup_v2_group() -> Path | None:
    """A fresh cgroup v2 group limited to CAP (no swap), or None where the machine forbids it."""
    controllers = CGROUP_ROOT / "cgroup.controllers"
    if os.geteuid() != 0 or not controllers.exists() or "memory" not in controllers.read_text().split():
        return None
    group = CGROUP_ROOT / f"abteach-memory-cap-{os.getpid()}"
    try:
        if "memory" not in (CGROUP_ROOT / "cgroup.subtree_control").read_text().split():
            (CGROUP_ROOT / "cgroup.subtree_control").write_text("+memory")
        group.mkdir(exist_ok=True)
        (group / "memory.max").write_text(str(CAP))
        if (group / "memory.swap.max").exists():
            (group / "memory.swap.max").write_text("0")
    except OSError:
        if group.exists():
            group.rmdir()
        return None
    return group


@pytest.fixture(scope="module")
def capped_kernel(tmp_path_factory):
    """The name of a kernel that runs under the cap, and the mechanism ("cgroup v2 ..." or
    "RLIMIT_AS ...")."""
    group = cgroup_v2_group()
    mechanism, target = ("cgroup", str(group)) if group else ("rlimit", str(CAP))
    folder = tmp_path_factory.mktemp("jupyter")
    spec = folder / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "launch.py").write_text(LAUNCHER)
    argv = [sys.executable, "{resource_dir}/launch.py", mechanism, target,
            sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": KERNEL, "language": "python"}))
    label = f"cgroup v2 memory.max = {CAP} bytes ({group})" if group else f"RLIMIT_AS = {CAP} bytes (address space)"
    print(f"\nmemory cap: {label}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", os.pathsep.join([str(folder), os.environ.get("JUPYTER_PATH", "")]))
        yield KERNEL, mechanism
    if group:
        group.rmdir()


def execute(nb, kernel: str, path: Path = ROOT / "book"):
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name=kernel, resources={"metadata": {"path": str(path)}}
    )
    return client.execute()


def one_cell(source: str):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    return nb


def test_the_cap_holds_in_the_kernel(capped_kernel):
    """The kernel reports the cap, and allocating (and touching) 3 GiB there fails."""
    kernel, mechanism = capped_kernel
    if mechanism == "rlimit":
        probe = "import resource; print(resource.getrlimit(resource.RLIMIT_AS)[0])"
        expected = str(CAP)
    else:
        probe = "print(open('/proc/self/cgroup').read().strip().rsplit('/', 1)[-1])"
        expected = f"abteach-memory-cap-{os.getpid()}"
    out = execute(one_cell(probe), kernel).cells[0].outputs
    assert out[0]["text"].strip() == expected
    hog = "b = bytearray(3 * 2**30)\nb[::4096] = bytes(len(range(0, len(b), 4096)))"
    with pytest.raises((nbclient.exceptions.CellExecutionError, nbclient.exceptions.DeadKernelError)) as failure:
        execute(one_cell(hog), kernel)
    if mechanism == "rlimit":
        assert "MemoryError" in str(failure.value)


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_chapter_runs_under_the_cap(capped_kernel, chapter):
    kernel, _ = capped_kernel
    nb = read(chapter)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    execute(nb, kernel)
