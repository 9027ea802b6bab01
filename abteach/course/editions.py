"""Class editions: the exercise notebooks of a chapter with numbers of the instructor's own.

    abteach-exercises --edition SECRET --chapter 5 --out class/      # the students' notebooks
    abteach-grade submissions/ --edition SECRET                      # grade that edition

The input numbers of exercise ``NN.k`` are drawn from a generator seeded with
``HMAC-SHA256(SECRET, "NN.k")``: the same secret always gives the same edition, and without the
secret neither the numbers of another exercise nor the expected answers can be derived. The
published solutions, another edition's answers and the answer keys installed with the package
earn nothing on an edition. Exercises marked ``fixed`` in the key have no numbers that can vary
(multiple choice): an edition shuffles their options so that the public letter is wrong, but
the question is the same, so a learner who read the published solution knows the answer. A
True/False exercise becomes, in an edition, a choice between ``a`` and ``b`` listed in the
edition's order (:func:`true_false_order`), so that a published ``True`` or ``False`` earns
nothing either.

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
from dataclasses import dataclass, replace

import numpy as np

from abteach.course.check import Boolean, Choice, _resolve, exercises_for


@dataclass(frozen=True)
class Substitution:
    """Text ``old`` of the public exercise notebook, found exactly ``count`` times, written as
    ``new(inputs)`` in an edition (``new(PUBLIC_INPUTS) == old``)."""

    old: str
    new: Callable[[dict], str]
    count: int = 1


def percent(share: float) -> str:
    """A share as the exercise text writes it: ``percent(0.25) == "25%"``."""
    return f"{100 * share:g}%"


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


def option_order(secret: str, exercise) -> list[int]:
    """The order of a multiple-choice exercise's options in an edition: position ``j`` shows the
    public option ``order[j]``; the right option never keeps its public letter."""
    rng = exercise_rng(secret, f"{exercise.id} options")
    right = list(exercise.answer.options).index(exercise.answer.expected)
    while True:
        order = [int(k) for k in rng.permutation(len(exercise.answer.options))]
        if order[right] != right:
            return order


def _shuffled(secret: str, exercise):
    """A ``fixed`` multiple-choice exercise with its options in the edition's order."""
    choice, order = exercise.answer, option_order(secret, exercise)
    letters = list(choice.options)
    public = {letters[k]: j for j, k in enumerate(order)}  # public letter -> position
    hints = {letters[public[old]]: hint for old, hint in choice.hints.items()}
    answer = replace(choice, expected=letters[public[choice.expected]], hints=hints)
    return replace(exercise, answer=answer)


def true_false_order(secret: str, exercise) -> tuple[bool, bool]:
    """The order in which an edition lists the answers of a True/False exercise as ``a`` and ``b``."""
    first = bool(exercise_rng(secret, f"{exercise.id} options").integers(2))
    return first, not first


def _as_letters(secret: str, exercise):
    """A True/False exercise as a choice between ``a`` and ``b`` in the edition's order."""
    order, boolean = true_false_order(secret, exercise), exercise.answer
    right = bool(_resolve(boolean.expected))
    letters = ("a", "b")
    answer = Choice(letters[order.index(right)], letters,
                    {letters[order.index(not right)]: _resolve(boolean.hint)})
    return replace(exercise, answer=answer)


def _edition_form(secret: str, exercise):
    if exercise.fixed and isinstance(exercise.answer, Choice):
        return _shuffled(secret, exercise)
    if isinstance(exercise.answer, Boolean):
        return _as_letters(secret, exercise)
    return exercise


def edition_exercises(chapter: int, secret: str | None):
    """The answer key of ``chapter`` for the edition of ``secret`` (None: the public edition).

    Numbers come from the edition's inputs; the options of multiple-choice exercises (which are
    ``fixed``: their numbers cannot vary) are shuffled so that the public letter is wrong, and a
    True/False exercise is answered with the letter of ``True`` or ``False`` in the edition's
    order."""
    if secret is None:
        return exercises_for(chapter)
    return tuple(_edition_form(secret, ex) for ex in _module(chapter).exercises(edition_inputs(chapter, secret)))


OPTION = re.compile(r"^- (\*\*)?([a-z])\.(\*\*)? ", re.MULTILINE)
TRUE_FALSE = re.compile(r"Store\s+`True`\s+or\s+`False`\s+in\s+`(\w+)`")


def _reorder_options(source: str, order: list[int]) -> str:
    """The Markdown option list ``- a. ...`` (or ``- **a.** ...``) of a cell in a new order."""
    starts = [m.start() for m in OPTION.finditer(source)]
    if len(starts) != len(order):
        raise ValueError(f"expected {len(order)} options in the cell, found {len(starts)}:\n{source}")
    end = len(source.rstrip("\n"))
    items = [source[a:b].rstrip("\n") for a, b in zip(starts, starts[1:] + [end])]
    bodies = [OPTION.sub("", item, count=1) for item in items]
    bold = OPTION.match(items[0]).group(1) or ""
    letters = [OPTION.match(item).group(2) for item in items]
    lines = [f"- {bold}{letters[j]}.{bold} {bodies[k]}" for j, k in enumerate(order)]
    return source[: starts[0]] + "\n".join(lines) + source[end:]


def _true_false_options(source: str, exercise_id: str, order: tuple[bool, bool]) -> str:
    """A True/False question's cell asking for the letter of ``True`` or ``False`` in ``order``."""
    if len(TRUE_FALSE.findall(source)) != 1:
        raise ValueError(f"exercise {exercise_id}: its cell must say once 'Store `True` or `False` in `name`'")
    source = TRUE_FALSE.sub(r'Store the letter of your answer (`"a"` or `"b"`) in `\1`', source)
    return source.rstrip("\n") + f"\n\n- a. {order[0]}\n- b. {order[1]}"


def _question_cell(nb, exercise_id: str):
    """The markdown cell that asks exercise ``exercise_id``."""
    return next(c for c in nb.cells if c.cell_type == "markdown" and f"Exercise {exercise_id}:" in c.source)


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
    for ex in exercises_for(chapter):
        if ex.fixed and isinstance(ex.answer, Choice):
            cell = _question_cell(nb, ex.id)
            cell.source = _reorder_options(cell.source, option_order(secret, ex))
        elif isinstance(ex.answer, Boolean):
            cell = _question_cell(nb, ex.id)
            cell.source = _true_false_options(cell.source, ex.id, true_false_order(secret, ex))
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = re.sub(r"(check\(\s*['\"]\d\d\.\d+['\"]\s*,[^\n]*?)\)\s*$",
                                 rf'\1, edition="{tag}")', cell.source, flags=re.MULTILINE)
    nb.metadata.setdefault("abteach", {})["edition"] = tag
    return nb
