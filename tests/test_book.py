"""The plotly renderer for the static book (unit level; the site test checks the real pages)."""

from __future__ import annotations

from types import SimpleNamespace

import plotly.graph_objects as go
from myst_nb.core.render import MimeData, load_mime_renders

from abteach.course.sphinx_plotly import (
    JS_PATH, PLOTLY_MIME, PlotlyMimeRenderer, _link_page_scripts, figure_div_id, figure_html,
)

FIGURE = go.Figure(go.Scatter(x=[1, 2], y=[3, 4], name="</script><b>x</b>")).to_plotly_json()


def fake_renderer(source="/repo/book/02_sample_size.ipynb"):
    return SimpleNamespace(renderer=SimpleNamespace(document={"source": source}))


def test_plugin_is_registered_through_the_entry_point():
    assert PlotlyMimeRenderer in load_mime_renders()


def test_div_ids_are_deterministic_and_distinct():
    assert figure_div_id("02_x", 3, 0) == figure_div_id("02_x", 3, 0)
    ids = {figure_div_id(page, cell, out) for page in ("a", "b") for cell in range(20) for out in range(3)}
    assert len(ids) == 120


def test_figure_html_is_small_has_no_plotly_js_and_escapes_script_end():
    html = figure_html(FIGURE, "plotly-abc")
    assert 'id="plotly-abc"' in html and "Plotly.newPlot" in html
    assert len(html) < 50_000, "plotly.js must not be inlined"
    assert html.count("</script>") == 1, "a '</script>' inside the data must be escaped"


def test_handle_mime_renders_plotly_and_rejects_the_rest():
    data = MimeData(PLOTLY_MIME, FIGURE, cell_index=4, output_index=0)
    nodes = PlotlyMimeRenderer.handle_mime(fake_renderer(), data, inline=False)
    assert len(nodes) == 1 and figure_div_id("02_sample_size", 4, 0) in nodes[0].astext()
    assert PlotlyMimeRenderer.handle_mime(fake_renderer(), data, inline=True) is None
    other = MimeData("text/plain", "x", cell_index=1, output_index=0)
    assert PlotlyMimeRenderer.handle_mime(fake_renderer(), other, inline=False) is None


def test_plotly_js_is_linked_only_from_pages_with_figures():
    added = []
    app = SimpleNamespace(add_js_file=lambda name, **options: added.append(name))
    _link_page_scripts(app, "book/01", "page.html", {"body": "<p>no figure</p>"}, None)
    assert added == []
    _link_page_scripts(app, "book/02", "page.html", {"body": figure_html(FIGURE, "plotly-1")}, None)
    assert added[0] == JS_PATH == "plotly/plotly.min.js"
