"""Layer 6: the built HTML book as a reader sees it, in headless Chromium.

`make test` builds the book first (`make book`). The reader's-view tests open every page of the
book at 1280 px and 390 px (Playwright driving the system's Chromium; no browser download) and
check that nothing is clipped without a scroll cue, that every figure is drawn, large enough and
its titles whole, that no raw `$`, `\\(` or Markdown table shows, that the console stays clean
and nothing is fetched from the network; they report each page's weight in
`_build/reader_view.json`. On a machine without Chromium (or Playwright) the tests are skipped
with instructions, except under CI=true, where a missing browser is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from conftest import ROOT, executed_notebooks, read, toc_files

HTML = ROOT / "_build" / "html"
FIGURE_ID = re.compile(r'id="(plotly-[0-9a-f]{16})"')
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--no-first-run", "--disable-sync", "--disable-quic", "--allow-file-access-from-files",
]

pytestmark = pytest.mark.site


def missing(message: str):
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    missing("headless Chromium not found: install it with `sudo apt-get install chromium` (Debian/Ubuntu)")


def figure_count(notebook) -> int:
    return sum(
        "application/vnd.plotly.v1+json" in output.get("data", {})
        for cell in read(notebook).cells if cell.cell_type == "code"
        for output in cell.outputs
    )


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
        # plotly.min.js is 4.8 MB in one script; no page may carry it (the API page is
        # 1.6 MB of text and small scripts, so the size of the page alone says nothing)
        scripts = re.findall(r"<script[^>]*>(.*?)</script>", text, flags=re.S)
        assert max(map(len, scripts), default=0) < 200_000, f"{page.name}: plotly.js inlined?"
        linked = "plotly/plotly.min.js" in text
        assert linked == bool(FIGURE_ID.search(text)), f"{page.name}: plotly.js linked iff it has figures"


@pytest.mark.parametrize("notebook", executed_notebooks(), ids=lambda p: p.name)
def test_every_figure_is_on_its_page(built, notebook):
    expected = figure_count(notebook)
    page = built / notebook.relative_to(ROOT).with_suffix(".html")
    ids = FIGURE_ID.findall(page.read_text())
    assert len(ids) == expected, f"{page.name}: {len(ids)} figures in the HTML, {expected} in the notebook"


# --- The reader's view ----------------------------------------------------------------------

WIDTHS = (1280, 390)
HEIGHT = 900
MIN_PLOT = (250, 200)  # px: the smallest plot area (inside the axes) a reader can read
MEASURE = (Path(__file__).parent / "reader_view.js").read_text()
LOCAL_SCHEMES = ("file", "data", "blob", "about")
RENDERED = """() => Promise.all([
    window.MathJax && MathJax.startup ? MathJax.startup.promise : null,
    new Promise((done) => {
        const drawn = () => [...document.querySelectorAll(".plotly-graph-div")]
            .every((gd) => gd._fullLayout && gd.querySelector(".main-svg")
                && (!window.abteachFigures || gd.dataset.fitted));
        const wait = (left) => (drawn() || !left) ? done() : setTimeout(() => wait(left - 1), 100);
        wait(200);
    }),
]).then(() => true)"""


def playwright_api():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright not installed: `.venv/bin/pip install -r requirements-dev.txt` (it drives the "
                "system's Chromium; do not run `playwright install`)")
    return sync_playwright


def view_page(page, html: Path) -> dict:
    """Open one built page in ``page`` and measure it; also log console errors, requests, bytes."""
    errors, requests = [], []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(html.as_uri(), wait_until="load", timeout=60_000)
    page.evaluate(RENDERED)
    view = page.evaluate(MEASURE)
    network = [url for url in requests if urlparse(url).scheme not in LOCAL_SCHEMES]
    files = {unquote(urlparse(url).path) for url in requests if urlparse(url).scheme == "file"}
    view.update(
        errors=errors,
        network=network,
        bytes=sum(Path(name).stat().st_size for name in files if Path(name).is_file()),
        mathjax_loaded=any("mathjax" in name.lower() for name in files),
    )
    return view


@pytest.fixture(scope="module")
def views(built):
    """What a reader sees on every page of the book, at each width: {width: {page: measures}}."""
    sync_playwright = playwright_api()
    executable = chromium()
    pages = [built / f"{name}.html" for name in toc_files()]
    result = {}
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            for width in WIDTHS:
                context = browser.new_context(viewport={"width": width, "height": HEIGHT})
                result[width] = {}
                for html in pages:
                    page = context.new_page()
                    result[width][html.relative_to(built).as_posix()] = view_page(page, html)
                    page.close()
                context.close()
        finally:
            browser.close()
    (built.parent / "reader_view.json").write_text(json.dumps(result, indent=1, sort_keys=True))
    return result


def failures(views, pick) -> list[str]:
    """``width px, page: problem`` for every problem ``pick(measures)`` finds."""
    return [
        f"{width} px, {page}: {problem}"
        for width, pages in views.items()
        for page, measures in pages.items()
        for problem in pick(measures)
    ]


def report(found: list[str], what: str) -> str:
    return f"{len(found)} {what}:\n" + "\n".join(found[:40]) + ("\n..." if len(found) > 40 else "")


def test_nothing_clipped_without_a_scroll_cue(views):
    found = failures(views, lambda v: [
        f"{c['kind']} {c['tag']} hides {c['hidden']} px: {c['text']!r}" for c in v["clipped"]
    ])
    assert not found, report(found, "boxes clipped at the right edge without a scroll cue")


def test_every_figure_drawn_readable_and_whole(views):
    def problems(v):
        for f in v["figures"]:
            if not f["drawn"]:
                yield f"figure {f['title']!r} not drawn"
                continue
            width, height = f["plot"]
            if width < MIN_PLOT[0] or height < MIN_PLOT[1]:
                yield f"figure {f['title']!r}: plot area {width} x {height} px"
            yield from (f"figure {f['title']!r}: {p}" for p in f["problems"])

    found = failures(views, problems)
    assert not found, report(found, "figure problems")


def test_no_raw_markup_in_the_text(views):
    found = failures(views, lambda v: [
        f"{name} in {text!r}" for name, texts in v["literal"].items() for text in texts
    ])
    assert not found, report(found, "raw `$`, `\\(`/`\\)` or Markdown tables in the rendered text")


def test_console_clean_and_no_network(views):
    found = failures(views, lambda v: [f"console: {e[:160]}" for e in v["errors"]]
                     + [f"network request: {url}" for url in v["network"]])
    assert not found, report(found, "console errors or network requests")


def test_page_weight_reported_and_mathjax_only_where_math(views):
    weights = {page: v["bytes"] for page, v in views[WIDTHS[0]].items()}
    print("\npage weight (bytes of every file the page loads):")
    for page, size in sorted(weights.items(), key=lambda item: -item[1]):
        print(f"  {size / 1e6:6.2f} MB  {page}")
    assert all(size > 0 for size in weights.values())
    found = failures(views, lambda v: ["MathJax loaded, no math on the page"] if v["mathjax_loaded"] and not v["hasMath"] else [])
    assert not found, report(found, "pages that load MathJax without math")
