"""The blank exercise notebooks in the HTML book (a Sphinx extension, listed in ``_config.yml``).

The "Chapter N exercises" pages are built from ``solutions/NN_topic.ipynb``, whose answers the
book folds (:func:`abteach.course.notebooks.fold_answer`). What a learner should open is the
blank notebook ``exercises/NN_topic.ipynb``, so this extension

* copies ``exercises/*.ipynb`` into the site (``_build/html/exercises/``), for download;
* points an exercise page's launch buttons (Binder, Colab) and its download button at the blank
  notebook, never at the notebook with the answers;
* adds a line with the three links under the title of an exercise page and at the end of the
  chapter's "Exercises" section.

The Binder and Colab links are built from ``repository: url`` and ``branch`` in ``_config.yml``
(the theme's ``repository_url`` and ``repository_branch``) and its ``launch_buttons``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

SOLUTIONS, EXERCISES = "solutions", "exercises"
PAGE = re.compile(r"^(book|solutions)/(\d\d_[a-z0-9_]+)$")


def _blank(app, pagename: str) -> str | None:
    """The name ``NN_topic`` of the blank notebook that belongs to ``pagename``, if any."""
    match = PAGE.match(pagename)
    if match and (Path(app.srcdir) / EXERCISES / f"{match[2]}.ipynb").exists():
        return match[2]
    return None


def launch_urls(options: dict, name: str) -> dict[str, str]:
    """Binder and Colab URLs that open ``exercises/<name>.ipynb`` of the book's repository."""
    repository = options.get("repository_url", "").rstrip("/")
    branch = options.get("repository_branch", "main")
    launch = options.get("launch_buttons", {})
    org_repo = repository.removeprefix("https://github.com/")
    path = f"{EXERCISES}/{name}.ipynb"
    urls = {}
    if launch.get("binderhub_url"):
        urls["Binder"] = f"{launch['binderhub_url'].rstrip('/')}/v2/gh/{org_repo}/{branch}?labpath={path}"
    if launch.get("colab_url"):
        urls["Colab"] = f"{launch['colab_url'].rstrip('/')}/github/{org_repo}/blob/{branch}/{path}"
    return urls


def _links(app, context, name: str) -> str:
    download = context["pathto"](f"{EXERCISES}/{name}.ipynb", 1)
    links = [f'<a href="{download}" download>download the blank notebook</a>']
    links += [f'<a href="{url}">open it in {label}</a>'
              for label, url in launch_urls(app.config.html_theme_options, name).items()]
    return f'<p class="abteach-exercise-links">Work on the exercises: {", ".join(links)}.</p>'


def _retarget_buttons(buttons: list, context, name: str) -> None:
    """Launch and download buttons of an exercise page: the blank notebook only."""
    for group in buttons:
        if group.get("label") == "launch-buttons":
            for button in group["buttons"]:
                button["url"] = button["url"].replace(f"{SOLUTIONS}/{name}.ipynb", f"{EXERCISES}/{name}.ipynb")
                button["url"] = button["url"].replace("?urlpath=lab/tree/", "?labpath=")
        if group.get("label") == "download-buttons":
            blank = {
                "type": "link", "url": context["pathto"](f"{EXERCISES}/{name}.ipynb", 1),
                "text": ".ipynb", "icon": "fas fa-code", "label": "download-notebook-button",
                "tooltip": "Download the blank exercise notebook",
            }
            group["buttons"] = [blank] + [b for b in group["buttons"] if b.get("type") == "javascript"]


def _exercise_links(app, pagename, templatename, context, doctree) -> None:
    name = _blank(app, pagename)
    if name is None or "body" not in context:
        return
    body, links = context["body"], _links(app, context, name)
    if pagename.startswith(SOLUTIONS):
        _retarget_buttons(context.get("header_buttons", []), context, name)
        context["body"] = re.sub(r"(</h1>)", r"\1" + links.replace("\\", "\\\\"), body, count=1)
        return
    section = body.find('<section id="exercises">')
    end = body.find("</section>", section)
    if section >= 0 and end >= 0:
        context["body"] = body[:end] + links + body[end:]


def _copy_blank_notebooks(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / EXERCISES
    target.mkdir(exist_ok=True)
    for notebook in sorted((Path(app.srcdir) / EXERCISES).glob("*.ipynb")):
        shutil.copyfile(notebook, target / notebook.name)


def setup(app):
    """Sphinx extension entry point (``sphinx: extra_extensions`` in ``_config.yml``)."""
    app.connect("html-page-context", _exercise_links, priority=900)  # after the theme's buttons
    app.connect("build-finished", _copy_blank_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
