"""The course's published numbers for the tests, read from the ONE file abteach ships.

``abteach/data/published_numbers.json`` holds every published figure (id, quantity, inputs,
source, the value as printed, its precision); ``abt.published_numbers()`` reads it. A test
that asserts a published figure takes the expected value and its tolerance from here, names
the source in its docstring, and keeps its own independent re-computation (scipy,
statsmodels) as a second check. tests/test_validation.py checks the file against
shared/references/published_numbers.md.
"""

from __future__ import annotations

import json
from importlib import resources

import pandas as pd

import abteach as abt

TABLE = abt.published_numbers()
FILE = json.loads(resources.files("abteach").joinpath("data/published_numbers.json").read_text())


def arguments(id_: str) -> list[tuple[list, float]]:
    """(positional arguments of the file's computation, published value) of every figure of
    ``id_``: the inputs of a hash test vector, a design, ... as the source gives them."""
    rows = [f for f in FILE["figures"] if f["id"] == id_]
    published = figures(id_)["published"].tolist()
    return [([_resolve(a) for a in f["compute"]["args"]], value)
            for f, value in zip(rows, published)]


def _resolve(argument):
    """An argument "@name.key" of the file is the list ``key`` of its data set ``name``."""
    if isinstance(argument, str) and argument.startswith("@"):
        name, key = argument[1:].split(".")
        return FILE["datasets"][name][key]
    return argument


def figures(id_: str, quantity: str = "") -> pd.DataFrame:
    """The rows of ``id_`` whose quantity contains ``quantity``, in the file's order."""
    rows = TABLE[(TABLE["id"] == id_) & TABLE["quantity"].str.contains(quantity, regex=False)]
    if rows.empty:
        raise KeyError(f"no published figure {id_!r} with quantity containing {quantity!r}")
    return rows


def figure(id_: str, quantity: str = "") -> pd.Series:
    """The one row of ``id_`` whose quantity contains ``quantity``."""
    rows = figures(id_, quantity)
    if len(rows) != 1:
        raise KeyError(f"{len(rows)} published figures {id_!r} match {quantity!r}: "
                       f"{rows['quantity'].tolist()}")
    return rows.iloc[0]


def value(id_: str, quantity: str = "") -> float:
    """The published value of one figure."""
    return float(figure(id_, quantity)["published"])


def values(id_: str, quantity: str = "") -> list[float]:
    """The published values of several figures, in the file's order."""
    return figures(id_, quantity)["published"].tolist()


def matches(computed: float, id_: str, quantity: str = "") -> bool:
    """Whether ``computed`` is within half a unit of the figure's last printed digit."""
    row = figure(id_, quantity)
    return abs(computed - row["published"]) <= row["tolerance"] * (1 + 1e-9)
