"""Checks for the exercise notebooks.

Every exercise stores its answer in a named variable and ends with a check::

    n_per_arm = ...          # the learner's answer
    check("02.1", n_per_arm)

which prints one line, never a traceback:

* ``Exercise 02.1: correct.``
* ``Exercise 02.1: not quite. <a hint specific to the mistake>``
* ``Exercise 02.1: not answered yet (replace ... with your answer).``

The expected answers live in ``abteach.course.answers.chNN`` (one module per chapter) as a tuple
``EXERCISES`` of :class:`Exercise` records. An expected value is computed with ``abteach``
itself when first needed, so an answer key cannot drift from the library. The grader
(:mod:`abteach.course.grade`) never trusts the learner's code: its sandboxed runner only sends the
answer variables out as plain data (:func:`encode_answer`, as :func:`answers_json` does), and
the grader's own process decodes and checks them (as :func:`grade_answers_json` does). Printed
lines, or a notebook that replaces functions of this module, cannot change a grade.
:func:`check` sends every answer through the same encoding, so what a learner sees is what the
grader will give.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import numbers
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

CORRECT, INCORRECT, UNANSWERED = "correct", "incorrect", "not answered yet"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of checking one answer."""

    exercise: str
    status: str
    message: str

    @property
    def points(self) -> int:
        """1 for a correct answer, 0 otherwise."""
        return int(self.status == CORRECT)

    def __str__(self) -> str:
        return f"Exercise {self.exercise}: {self.message}"

    __repr__ = __str__


def _resolve(value):
    """Expected values may be given lazily, as a function of no arguments."""
    return value() if callable(value) else value


def _unanswered(answer) -> bool:
    """Only the placeholder ``...`` means "not answered": ``None`` can be a real answer."""
    return answer is Ellipsis


def _describe(answer) -> str:
    text = repr(answer)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(answer).__name__} {text}"


def _as_real(answer) -> float | None:
    """The answer as a float if it is one real number (numpy scalars and 1-element arrays too)."""
    if isinstance(answer, (bool, np.bool_)):
        return None
    if isinstance(answer, np.ndarray) and answer.size == 1 and np.issubdtype(answer.dtype, np.number):
        answer = answer.reshape(()).item()
    if isinstance(answer, numbers.Real):
        return float(answer)
    return None


@dataclass(frozen=True)
class Number:
    """A single real number, correct within ``rtol`` (relative) or ``atol`` (absolute).

    ``mistakes`` pairs a typical wrong value (or a function computing it) with the hint that
    explains it, e.g. ``(lambda: 2 * n, "That is both arms together; give one arm.")``.
    """

    expected: Any
    rtol: float = 1e-6
    atol: float = 0.0
    hint: str = ""
    mistakes: Sequence[tuple[Any, str]] = ()

    def _close(self, value: float, target: float) -> bool:
        return math.isclose(value, target, rel_tol=self.rtol, abs_tol=self.atol)

    def assess(self, answer) -> tuple[str, str]:
        value = _as_real(answer)
        if value is None:
            return INCORRECT, f"expected a single number, got {_describe(answer)}."
        if not math.isfinite(value):
            return INCORRECT, f"your answer is {value}; a finite number is expected."
        target = float(_resolve(self.expected))
        if self._close(value, target):
            return CORRECT, "correct."
        for wrong, explanation in self.mistakes:
            if self._close(value, float(_resolve(wrong))):
                return INCORRECT, f"not quite. {explanation}"
        direction = "too large" if value > target else "too small"
        return INCORRECT, f"not quite: {value:.6g} is {direction}. {self.hint}".rstrip()


@dataclass(frozen=True)
class Choice:
    """One option out of several, given by its key (e.g. ``"b"``); case and spaces ignored.

    ``hints`` maps a wrong option to the explanation of why it is wrong.
    """

    expected: str
    options: Sequence[str]
    hints: Mapping[str, str] = field(default_factory=dict)

    def assess(self, answer) -> tuple[str, str]:
        keys = ", ".join(repr(o) for o in self.options)
        if not isinstance(answer, str):
            return INCORRECT, f"expected one of {keys} (a string), got {_describe(answer)}."
        key = answer.strip().lower()
        if key not in self.options:
            return INCORRECT, f"expected one of {keys}, got {answer!r}."
        if key == self.expected:
            return CORRECT, "correct."
        return INCORRECT, f"not quite. {self.hints.get(key, 'Read the question again.')}"


@dataclass(frozen=True)
class Boolean:
    """``True`` or ``False``; the ``hint`` may be given lazily, as a function of no arguments."""

    expected: Any
    hint: Any = ""

    def assess(self, answer) -> tuple[str, str]:
        if not isinstance(answer, (bool, np.bool_)):
            return INCORRECT, f"expected True or False, got {_describe(answer)}."
        if bool(answer) == bool(_resolve(self.expected)):
            return CORRECT, "correct."
        return INCORRECT, f"not quite. {_resolve(self.hint)}".rstrip()


@dataclass(frozen=True)
class Numbers:
    """A sequence of numbers of a given length, each correct within ``rtol``/``atol``."""

    expected: Any
    rtol: float = 1e-6
    atol: float = 0.0
    hint: str = ""

    def assess(self, answer) -> tuple[str, str]:
        target = np.asarray(_resolve(self.expected), dtype=float)
        if isinstance(answer, (str, bytes, Mapping)) or np.ndim(answer) == 0:
            return INCORRECT, f"expected {target.size} numbers (a list or array), got {_describe(answer)}."
        try:
            values = np.asarray(answer, dtype=float)
        except (TypeError, ValueError):
            return INCORRECT, f"expected {target.size} numbers, got {_describe(answer)}."
        if values.shape != target.shape:
            return INCORRECT, f"expected {target.size} numbers, got {values.size}."
        if not np.isfinite(values).all():
            return INCORRECT, "your answer holds NaN or infinite values."
        close = np.isclose(values, target, rtol=self.rtol, atol=self.atol)
        if close.all():
            return CORRECT, "correct."
        first = int(np.argmin(close))
        return INCORRECT, f"not quite: element {first} ({values[first]:.6g}) is off. {self.hint}".rstrip()


@dataclass(frozen=True)
class Predicate:
    """An answer judged by a function ``judge(answer) -> str | None``: None when correct,
    otherwise the hint to show.

    ``expected`` is one correct answer (or a function of no arguments computing it). The
    judge decides alone; ``expected`` lets the tests and class editions (which check that an
    edition's own answer is accepted and the published one refused) treat the exercise like
    the others."""

    judge: Callable[[Any], str | None]
    expected: Any = None

    def assess(self, answer) -> tuple[str, str]:
        problem = self.judge(answer)
        return (CORRECT, "correct.") if problem is None else (INCORRECT, f"not quite. {problem}")


@dataclass(frozen=True)
class Exercise:
    """One checked exercise: its id (``"02.1"``), the notebook variable holding the answer,
    and how to assess it (:class:`Number`, :class:`Choice`, :class:`Boolean`, :class:`Numbers`,
    :class:`Predicate`), its weight ``points`` and whether it is ``fixed``: the same in every
    class edition (:mod:`abteach.course.editions`), e.g. a multiple-choice question."""

    id: str
    variable: str
    answer: Any
    points: float = 1
    fixed: bool = False  # True: its numbers cannot vary between class editions

    def evaluate(self, value) -> CheckResult:
        if _unanswered(value):
            return CheckResult(self.id, UNANSWERED, f"{UNANSWERED} (replace ... with your answer).")
        try:
            status, message = self.answer.assess(value)
        except Exception as exc:  # a learner's odd object must never produce a traceback
            status, message = INCORRECT, f"could not check this answer ({type(exc).__name__}: {exc})."
        return CheckResult(self.id, status, message)


def _chapter_of(exercise_id) -> int:
    if not isinstance(exercise_id, str) or not re.fullmatch(r"\d\d\.\d+", exercise_id):
        raise ValueError(f"exercise must be an id like '02.1', got {exercise_id!r}")
    return int(exercise_id[:2])


def exercises_for(chapter: int) -> tuple[Exercise, ...]:
    """The exercises of a chapter, in order, from ``abteach.course.answers.chNN``."""
    if isinstance(chapter, bool) or not isinstance(chapter, int) or chapter < 1:
        raise ValueError(f"chapter must be a chapter number >= 1, got {chapter!r}")
    try:
        module = importlib.import_module(f"abteach.course.answers.ch{chapter:02d}")
    except ModuleNotFoundError:
        raise ValueError(f"chapter {chapter} has no exercises (no abteach.course.answers.ch{chapter:02d})") from None
    return tuple(module.EXERCISES)


def find_exercise(exercise_id: str) -> Exercise:
    """The exercise with this id, e.g. ``"02.1"``."""
    for exercise in exercises_for(_chapter_of(exercise_id)):
        if exercise.id == exercise_id:
            return exercise
    raise ValueError(f"exercise {exercise_id!r} does not exist")


def evaluate(exercise_id: str, answer) -> CheckResult:
    """Check ``answer`` against exercise ``exercise_id`` and return the result (prints nothing)."""
    return find_exercise(exercise_id).evaluate(answer)


def _key_available() -> bool:
    """False inside the grading sandbox, where the answer keys are not mounted."""
    try:
        return importlib.util.find_spec("abteach.course.answers.ch01") is not None
    except ModuleNotFoundError:
        return False


def check(exercise_id: str, answer, *, edition: str | None = None) -> None:
    """Check ``answer`` for exercise ``exercise_id`` and print the verdict on one line.

    The answer goes through :func:`encode_answer` and :func:`decode_answer` first, as it does
    when the grader collects it, so the verdict here is the grade. In a class edition
    (``edition`` is its tag) and in the grading sandbox the key is not available: the line
    only says whether an answer is recorded.
    """
    value = decode_answer(encode_answer(answer))
    if edition is None and _key_available():
        print(evaluate(exercise_id, value))
    elif _unanswered(value):
        print(f"Exercise {exercise_id}: {UNANSWERED} (replace ... with your answer).")
    else:
        where = f"class edition {edition}" if edition else "this notebook"
        print(f"Exercise {exercise_id}: answer recorded; your instructor grades {where}.")


class UnsupportedAnswer:
    """Stands for an answer of a type the grader cannot carry (a DataFrame, a record, ...)."""

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<a {self.type_name}: store a number, a string, True/False or a list of them>"


def encode_answer(value):
    """A JSON-safe copy of an answer: numbers, strings, booleans, ``None``, ``...``, and lists,
    tuples, dicts (string keys) and numpy arrays of them. Anything else becomes a marker that
    names its type (checked as a wrong answer). Plain data only: decoding runs no code."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if value is Ellipsis:
        return {"ellipsis": True}
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return {"float": repr(float(value))}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return {"array": [encode_answer(item) for item in value.tolist()]}
    if isinstance(value, (list, tuple)):
        return {type(value).__name__: [encode_answer(item) for item in value]}
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {"dict": {key: encode_answer(item) for key, item in value.items()}}
    return {"unsupported": type(value).__name__}


def decode_answer(data):
    """The answer :func:`encode_answer` encoded (numpy arrays come back as arrays)."""
    if data is None or isinstance(data, (bool, int, str)):
        return data
    if not isinstance(data, dict) or len(data) != 1:
        raise ValueError(f"data must be an encoded answer, got {data!r}")
    (kind, content), = data.items()
    if kind == "ellipsis":
        return Ellipsis
    if kind == "float":
        return float(content)
    if kind == "array":
        return np.array([decode_answer(item) for item in content])
    if kind in ("list", "tuple"):
        items = [decode_answer(item) for item in content]
        return items if kind == "list" else tuple(items)
    if kind == "dict":
        return {key: decode_answer(item) for key, item in content.items()}
    if kind == "unsupported":
        return UnsupportedAnswer(str(content))
    raise ValueError(f"data must be an encoded answer, got {data!r}")


def answers_json(chapter: int, namespace: Mapping[str, Any]) -> str:
    """The answer variables of ``chapter`` found in ``namespace`` (a notebook's globals), as JSON:
    what the grader's last cell sends out of the learner's kernel."""
    return json.dumps({
        ex.variable: encode_answer(namespace[ex.variable])
        for ex in exercises_for(chapter) if ex.variable in namespace
    })


def grade_namespace(chapter: int, namespace: Mapping[str, Any]) -> list[CheckResult]:
    """Check every exercise of ``chapter`` against the variables in ``namespace``;
    a missing variable counts as not answered."""
    return [ex.evaluate(namespace.get(ex.variable, Ellipsis)) for ex in exercises_for(chapter)]


def grade_answers_json(chapter: int, text: str) -> list[CheckResult]:
    """Grade the output of :func:`answers_json`, in the grader's own process."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"text must hold a JSON object of answers, got {text[:80]!r} ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"text must hold a JSON object of answers, got {text[:80]!r}")
    return grade_namespace(chapter, {name: decode_answer(value) for name, value in data.items()})
