"""Class editions: the exercise notebooks of a chapter with numbers of the instructor's own.

    abteach-exercises --edition SECRET --chapter 5 --out class/      # the students' notebooks
    abteach-grade submissions/ --edition SECRET                      # grade that edition

The input numbers of exercise ``NN.k`` are drawn from a generator seeded with
``HMAC-SHA256(SECRET, "NN.k")``: the same secret always gives the same edition, and without the
secret neither the numbers of another exercise nor the expected answers can be derived. The
published solutions, another edition's answers and the answer keys installed with the package
earn nothing on an edition (apart from the exercises marked ``fixed``, whose numbers cannot vary).

A chapter adopts editions in its answer key module (``abteach.course.answers.chNN``) with

* ``PUBLIC_INPUTS``: ``{group: {name: value}}``, the inputs of the public edition, one group per
  exercise (or per set of exercises sharing a scenario, keyed by the first one's id);
* ``draw_inputs(group, rng) -> dict``: an edition's inputs of a group;
* ``exercises(inputs) -> tuple[Exercise, ...]``: the answer key for those inputs
  (``EXERCISES = exercises(PUBLIC_INPUTS)``);
* ``SUBSTITUTIONS``: :class:`Substitution` records, the text of the public exercise notebook that
  shows the inputs, and how to write it for other inputs.

The edition notebook carries ``metadata.abteach.edition`` (a tag derived from the secret, never
the secret) and its ``check(...)`` calls only say that an answer is recorded.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from abteach.course.check import exercises_for


@dataclass(frozen=True)
class Substitution:
    """Text ``old`` of the public exercise notebook, found exactly ``count`` times, written as
    ``new(inputs)`` in an edition (``new(PUBLIC_INPUTS) == old``)."""

    old: str
    new: Callable[[dict], str]
    count: int = 1


def edition_tag(secret: str) -> str:
    """The public name of the edition made with ``secret`` (12 hex digits of an HMAC)."""
    return hmac.new(_key(secret), b"abteach edition", hashlib.sha256).hexdigest()[:12]


def _key(secret) -> bytes:
    if not isinstance(secret, str) or len(secret) < 8:
        raise ValueError(f"secret must be a string of at least 8 characters, got {secret!r}")
    return secret.encode()


def exercise_rng(secret: str, exercise_id: str) -> np.random.Generator:
    """The generator of an exercise's inputs: seeded by HMAC-SHA256(secret, exercise id)."""
    digest = hmac.new(_key(secret), exercise_id.encode(), hashlib.sha256).digest()
    return np.random.default_rng(int.from_bytes(digest, "big"))


def _module(chapter: int):
    exercises_for(chapter)  # validates the chapter
    return importlib.import_module(f"abteach.course.answers.ch{chapter:02d}")


def has_editions(chapter: int) -> bool:
    """Whether the answer key of ``chapter`` supports class editions."""
    return hasattr(_module(chapter), "PUBLIC_INPUTS")


def edition_inputs(chapter: int, secret: str | None) -> dict:
    """The inputs of every exercise group of ``chapter`` in the edition of ``secret``."""
    module = _module(chapter)
    if not hasattr(module, "PUBLIC_INPUTS"):
        raise ValueError(f"chapter {chapter} has no class editions yet (its answer key has no PUBLIC_INPUTS)")
    if secret is None:
        return copy.deepcopy(module.PUBLIC_INPUTS)
    return {group: module.draw_inputs(group, exercise_rng(secret, group)) for group in module.PUBLIC_INPUTS}


def edition_exercises(chapter: int, secret: str | None):
    """The answer key of ``chapter`` for the edition of ``secret`` (None: the public edition)."""
    if secret is None:
        return exercises_for(chapter)
    return tuple(_module(chapter).exercises(edition_inputs(chapter, secret)))


def edition_notebook(exercise_nb, chapter: int, secret: str):
    """The edition of a public exercise notebook (the input is not changed)."""
    module = _module(chapter)
    inputs = edition_inputs(chapter, secret)
    tag = edition_tag(secret)
    nb = copy.deepcopy(exercise_nb)
    for sub in module.SUBSTITUTIONS:
        found = sum(cell.source.count(sub.old) for cell in nb.cells)
        if found != sub.count:
            raise ValueError(f"chapter {chapter}: {sub.old!r} found {found} times in the exercise notebook, "
                             f"expected {sub.count}: update SUBSTITUTIONS")
        for cell in nb.cells:
            cell.source = cell.source.replace(sub.old, sub.new(inputs))
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = re.sub(r"(check\(\s*['\"]\d\d\.\d+['\"]\s*,[^\n]*?)\)\s*$",
                                 rf'\1, edition="{tag}")', cell.source, flags=re.MULTILINE)
    nb.metadata.setdefault("abteach", {})["edition"] = tag
    return nb
