"""Plotly figures in the static HTML book, offline.

Plotly 7 shows a figure in a notebook as a single ``application/vnd.plotly.v1+json`` output,
which myst-nb would drop from the HTML page. Two small pieces make figures render with no
network:

* :class:`PlotlyMimeRenderer`, a myst-nb mime-render plugin (registered in ``pyproject.toml``
  under the ``myst_nb.mime_renderers`` entry point), turns that JSON into a ``<div>`` and a
  ``Plotly.newPlot`` call. The div id is derived from the page and the cell, so rebuilding the
  book gives byte-identical pages.
* :func:`setup`, a Sphinx extension (listed in ``_config.yml``), serves the ``plotly.min.js``
  that ships inside the installed plotly wheel as ``_static/plotly/plotly.min.js`` and links it
  only from pages that hold a figure. The source folder is not the book's ``_static`` folder,
  because Jupyter Book 1 links every ``.js`` file found there from every page.

It also serves what makes the pages read well at any width (``static/``): ``abteach.css`` on
every page (text outputs wrap, whatever must scroll sideways shows a scroll cue, reports read as
reports) and ``abteach-figures.js`` after plotly.js (figures fit their column). Each page links
only what it uses: MathJax only on pages with formulas, thebe's scripts never (the book has no
live code cells). Figures are responsive (no fixed width, ``autosize``), and the site gets a
``.nojekyll`` file so that GitHub Pages serves ``_static/`` as it is.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
from pathlib import Path

import plotly
import plotly.io as pio

from abteach._viz_parts import HOUSE

PLOTLY_MIME = "application/vnd.plotly.v1+json"
FIGURE_CLASS = "plotly-graph-div"
JS_PATH = "plotly/plotly.min.js"
STATIC = Path(__file__).parent / "static"
CSS_FILE, FIGURES_JS = "abteach.css", "abteach-figures.js"
AXIS = re.compile(r"^[xy]axis\d*$")


def figure_div_id(source: str, cell_index: int | None, output_index: int | None) -> str:
    """A deterministic HTML id for the figure at (page, cell, output)."""
    key = f"{source}|{cell_index}|{output_index}".encode()
    return "plotly-" + hashlib.sha256(key).hexdigest()[:16]


def figure_html(figure: dict, div_id: str) -> str:
    """The HTML of one figure: a div and the script that draws it (plotly.js not included)."""
    if isinstance(figure, (str, bytes)):
        figure = json.loads(figure)
    figure = responsive(figure)
    return pio.to_html(
        figure,
        include_plotlyjs=False,
        full_html=False,
        div_id=div_id,
        validate=False,
        config={"displaylogo": False, "responsive": True},
    )


def responsive(figure: dict) -> dict:
    """A copy of ``figure`` in the house style that takes the width of its column.

    The fixed width goes (the height stays), the template becomes the house template (one
    style in the whole book, whatever the chapter's code chose), fixed margins give way to
    the template's small ones plus room for tick labels, and log axes label their ticks
    10^-4 rather than "100μ".
    """
    layout = {key: value for key, value in figure.get("layout", {}).items()
              if key not in ("width", "margin")}
    layout["autosize"] = True
    layout["template"] = HOUSE.to_plotly_json()
    for key, axis in layout.items():
        if AXIS.match(key) and isinstance(axis, dict):
            axis = {**axis, "automargin": True}
            if axis.get("type") == "log" and axis.get("exponentformat") in (None, "B", "SI", "e", "E"):
                axis["exponentformat"] = "power"
            layout[key] = axis
    return {**figure, "layout": layout}


class PlotlyMimeRenderer:
    """myst-nb plugin: render ``application/vnd.plotly.v1+json`` outputs as HTML."""

    mime_priority_overrides = [("html", PLOTLY_MIME, 5), ("dirhtml", PLOTLY_MIME, 5)]

    @staticmethod
    def handle_mime(renderer, data, inline: bool):
        if inline or data.mime_type != PLOTLY_MIME:
            return None
        from docutils import nodes  # myst-nb, the only caller, brings docutils

        source = renderer.renderer.document["source"]
        page = Path(source).stem
        div_id = figure_div_id(page, data.cell_index, data.output_index)
        html = figure_html(data.content, div_id)
        return [nodes.raw(text=html, format="html", classes=["output", "plotly"])]


class _NoConfigDumps(logging.Filter):
    """Drop the 1,000-character parser configuration dumps of myst and myst-nb."""

    def filter(self, record) -> bool:
        return "ParserConfig(" not in record.getMessage()


def _serve_plotly_js(app) -> None:
    """Copy the wheel's plotly.min.js into a private static folder of the build."""
    folder = Path(app.outdir).parent / "abteach_static"
    target = folder / JS_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    bundled = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not target.exists() or target.stat().st_size != bundled.stat().st_size:
        shutil.copyfile(bundled, target)
    for path in (str(folder), str(STATIC)):
        if path not in app.config.html_static_path:
            app.config.html_static_path.append(path)
    app.add_css_file(CSS_FILE)


def _unused_script(script, body: str) -> bool:
    name = str(getattr(script, "filename", script) or "")
    inline = getattr(script, "attributes", {}).get("body", "")
    if "THEBE_JS_URL" in inline or name.endswith("sphinx-thebe.js"):
        return True
    return "mathjax" in name.lower() and 'class="math' not in body


def _link_page_scripts(app, pagename, templatename, context, doctree) -> None:
    """Link plotly.min.js (and the figure fitting) from the pages that hold a figure; drop
    MathJax from pages without a formula and thebe's scripts (declared twice) from all."""
    body = context.get("body", "")
    if FIGURE_CLASS in body:
        app.add_js_file(JS_PATH)
        app.add_js_file(FIGURES_JS, priority=600)
    if "script_files" in context:  # the builder's list, restored before the next page
        context["script_files"][:] = [s for s in context["script_files"] if not _unused_script(s, body)]


def _no_jekyll(app, exception) -> None:
    """GitHub Pages: serve the site as it is (Jekyll would drop ``_static/``)."""
    if exception is None and app.builder.format == "html":
        (Path(app.outdir) / ".nojekyll").touch()


def setup(app):
    """Sphinx extension entry point (``sphinx: extra_extensions: [abteach.course.sphinx_plotly]``)."""
    for handler in logging.getLogger("sphinx").handlers:
        handler.addFilter(_NoConfigDumps())
    app.connect("builder-inited", _serve_plotly_js)
    app.connect("html-page-context", _link_page_scripts, priority=900)  # after MathJax's
    app.connect("build-finished", _no_jekyll)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
