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
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import plotly
import plotly.io as pio

PLOTLY_MIME = "application/vnd.plotly.v1+json"
FIGURE_CLASS = "plotly-graph-div"
JS_PATH = "plotly/plotly.min.js"


def figure_div_id(source: str, cell_index: int | None, output_index: int | None) -> str:
    """A deterministic HTML id for the figure at (page, cell, output)."""
    key = f"{source}|{cell_index}|{output_index}".encode()
    return "plotly-" + hashlib.sha256(key).hexdigest()[:16]


def figure_html(figure: dict, div_id: str) -> str:
    """The HTML of one figure: a div and the script that draws it (plotly.js not included)."""
    if isinstance(figure, (str, bytes)):
        figure = json.loads(figure)
    return pio.to_html(
        figure,
        include_plotlyjs=False,
        full_html=False,
        div_id=div_id,
        validate=False,
        config={"displaylogo": False, "responsive": True},
    )


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


def _serve_plotly_js(app) -> None:
    """Copy the wheel's plotly.min.js into a private static folder of the build."""
    folder = Path(app.outdir).parent / "abteach_static"
    target = folder / JS_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    bundled = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not target.exists() or target.stat().st_size != bundled.stat().st_size:
        shutil.copyfile(bundled, target)
    if str(folder) not in app.config.html_static_path:
        app.config.html_static_path.append(str(folder))


def _link_plotly_js(app, pagename, templatename, context, doctree) -> None:
    """Link plotly.min.js from the pages that hold at least one figure."""
    if FIGURE_CLASS in context.get("body", ""):
        app.add_js_file(JS_PATH)


def setup(app):
    """Sphinx extension entry point (``sphinx: extra_extensions: [abteach.course.sphinx_plotly]``)."""
    app.connect("builder-inited", _serve_plotly_js)
    app.connect("html-page-context", _link_plotly_js)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
