"""Layer 6: the built HTML book, opened in headless Chromium, draws every figure offline.

`make test` builds the book first (`make book`). On a machine without Chromium the test is
skipped with instructions, except under CI=true, where a missing browser is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile

import pytest

from conftest import ROOT, executed_notebooks, read, toc_files

HTML = ROOT / "_build" / "html"
FIGURE_ID = re.compile(r'id="(plotly-[0-9a-f]{16})"')
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
    "--allow-file-access-from-files", "--virtual-time-budget=15000", "--dump-dom",
]

pytestmark = pytest.mark.site


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    message = "headless Chromium not found: install it with `sudo apt-get install chromium` (Debian/Ubuntu)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def figure_count(notebook) -> int:
    return sum(
        "application/vnd.plotly.v1+json" in output.get("data", {})
        for cell in read(notebook).cells if cell.cell_type == "code"
        for output in cell.outputs
    )


def rendered_dom(page) -> str:
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", page.as_uri()],
            capture_output=True, text=True, timeout=120,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="module")
def built():
    if not (HTML / "index.html").exists():
        pytest.fail("the book is not built: run `make book` (or `make test`, which builds it)")
    return HTML


def test_every_toc_page_was_built(built):
    for page in toc_files():
        assert (built / f"{page}.html").exists(), f"{page}.html missing from the build"


def test_plotly_js_served_locally_once(built):
    assert (built / "_static" / "plotly" / "plotly.min.js").stat().st_size > 1_000_000
    for page in built.rglob("*.html"):
        text = page.read_text()
        assert "cdn.plot.ly" not in text and "cdn.jsdelivr" not in text, f"{page.name} loads from the network"
        assert len(text) < 1_500_000, f"{page.name} is {len(text)} bytes: plotly.js inlined?"
        linked = "plotly/plotly.min.js" in text
        assert linked == bool(FIGURE_ID.search(text)), f"{page.name}: plotly.js linked iff it has figures"


@pytest.mark.parametrize("notebook", executed_notebooks(), ids=lambda p: p.name)
def test_every_figure_is_drawn_in_chromium(built, notebook):
    expected = figure_count(notebook)
    page = built / notebook.relative_to(ROOT).with_suffix(".html")
    ids = FIGURE_ID.findall(page.read_text())
    assert len(ids) == expected, f"{page.name}: {len(ids)} figures in the HTML, {expected} in the notebook"
    if not expected:
        return
    dom = rendered_dom(page)
    for div_id, next_id in zip(ids, ids[1:] + [None]):
        start = dom.index(f'id="{div_id}"')
        end = dom.index(f'id="{next_id}"') if next_id else len(dom)
        assert "main-svg" in dom[start:end], f"{page.name}: figure {div_id} was not drawn"
