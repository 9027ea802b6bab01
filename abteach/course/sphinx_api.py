"""Cross-references to abteach names at the paths learners use, in the API reference.

The API page documents each name where it is defined (``abteach.inference.proportions
.ztest_proportions``), one section per submodule. Docstrings name it where learners import it:
``:func:`abteach.inference.ztest_proportions``` (the subpackage re-exports it) or, inside a
subpackage, just ``:func:`ztest_proportions```. This Sphinx extension (listed in ``_config.yml``)
resolves such a reference that Sphinx cannot find to the documented definition: it imports the
named module, or walks up the current module's packages for a bare name, and retries with the
object's own ``__module__``. References it cannot place stay broken, so ``-n`` still reports them.
"""

from __future__ import annotations

import importlib
import sys

PACKAGE = "abteach"


def _candidates(target: str, module: str | None) -> list[str]:
    """Full paths ``target`` may mean: itself if it names abteach, else each enclosing package of
    the current module joined with it (innermost first)."""
    if target.startswith(PACKAGE + "."):
        return [target]
    parts = (module or "").split(".")
    return [".".join(parts[:i] + [target]) for i in range(len(parts), 0, -1) if parts[0] == PACKAGE]


def _lookup(path: str):
    """(module, first attribute, rest) for ``path``: the longest importable module prefix, the
    object it holds under the next name, and the remaining dotted names (a method, say)."""
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            module = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        obj = getattr(module, parts[cut], None)
        return module.__name__, obj, parts[cut + 1:]
    return None, None, []


def _home(owner: str, name: str, obj) -> str:
    """Where ``obj`` (found as ``owner.name``) is defined."""
    if isinstance(obj, type(sys)):
        return obj.__name__
    home = getattr(obj, "__module__", None)
    if isinstance(home, str) and hasattr(obj, "__qualname__"):
        return f"{home}.{obj.__qualname__}"
    # a constant: the public submodule of its owner that holds it under that name
    homes = [
        m for m, module in sorted(sys.modules.items())
        if m.startswith(owner + ".") and "._" not in m and getattr(module, name, None) is obj
    ]
    return f"{homes[0]}.{name}" if homes else f"{owner}.{name}"


def defining_path(target: str, module: str | None = None) -> str | None:
    """The path where the object ``target`` refers to is defined, if it differs from ``target``.

    >>> defining_path("abteach.course.check", None) is None  # already a real module path
    True
    >>> defining_path("missing_extra", "abteach.course.grade")
    'abteach.course.missing_extra'
    """
    for path in _candidates(target, module):
        owner, obj, rest = _lookup(path)
        if obj is None:
            continue
        name = path.split(".")[len(owner.split("."))]
        real = ".".join([_home(owner, name, obj), *rest])
        return real if real != target else None
    return None


def _resolve(app, env, node, contnode):
    """Sphinx ``missing-reference`` handler: retry a Python reference at its defining path."""
    if node.get("refdomain") != "py":
        return None
    real = defining_path(node["reftarget"], node.get("py:module"))
    if real is None:
        return None
    return env.get_domain("py").resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], real, node, contnode
    )


def setup(app):
    """Sphinx extension entry point (``sphinx: extra_extensions: [abteach.course.sphinx_api]``)."""
    app.connect("missing-reference", _resolve)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
