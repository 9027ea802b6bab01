"""Every chapter's answer key (``abteach/course/answers/chNN.py``) is well formed: ids in order, one
variable per exercise, a mix of computation and interpretation; every expected answer is
accepted; every typical mistake of a Number and every wrong option of a Choice reaches its OWN
hint; a Boolean's other value gets its hint; blank and odd answers never crash. Chapter-specific
checks (independent recomputations, notebook data, the exercises' stories) stay in
``test_chNN_answers.py``. A new chapter's key is picked up as soon as its module exists."""

from __future__ import annotations

import keyword
import math
import numbers
from pathlib import Path

import numpy as np
import pytest

from abteach.course import answers
from abteach.course.check import (
    CORRECT,
    INCORRECT,
    UNANSWERED,
    Boolean,
    Choice,
    Number,
    Numbers,
    Predicate,
    exercises_for,
    find_exercise,
)

KEYS = Path(answers.__file__).parent
CHAPTERS = sorted(int(path.stem[2:]) for path in KEYS.glob("ch[0-9][0-9].py"))
EXERCISES = [ex for chapter in CHAPTERS for ex in exercises_for(chapter)]
KINDS = (Number, Numbers, Choice, Boolean, Predicate)
FALLBACK = "could not check this answer"  # Exercise.evaluate's message when an assessor raises


def _of_kind(kind) -> list:
    return [ex for ex in EXERCISES if isinstance(ex.answer, kind)]


def _resolve(value):
    """Expected values and typical mistakes may be given lazily, as functions."""
    return value() if callable(value) else value


def _finite_real(value) -> float:
    """The value as a float, after asserting it is one finite real number (not a bool)."""
    assert isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)), value
    assert math.isfinite(value), value
    return float(value)


def test_answer_keys_are_discovered():
    """Chapters 1-9 have keys; a broken glob must not silently leave nothing to test."""
    assert set(range(1, 10)) <= set(CHAPTERS)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda chapter: f"ch{chapter:02d}")
def test_ids_in_order_and_variables_distinct(chapter):
    exercises = exercises_for(chapter)
    assert len(exercises) >= 4
    ids = [ex.id for ex in exercises]
    assert ids == [f"{chapter:02d}.{k}" for k in range(1, len(ids) + 1)]
    assert all(find_exercise(ex.id) is ex for ex in exercises)
    variables = [ex.variable for ex in exercises]
    assert len(set(variables)) == len(variables), "one variable per exercise"
    assert all(v.isidentifier() and not keyword.iskeyword(v) for v in variables), variables
    kinds = [type(ex.answer) for ex in exercises]
    assert set(kinds) <= set(KINDS), kinds
    assert Number in kinds and {Choice, Boolean} & set(kinds), "mix computation and interpretation"


@pytest.mark.parametrize("exercise", _of_kind(Number), ids=lambda ex: ex.id)
def test_each_mistake_gets_its_own_hint(exercise):
    """The expected value is a finite number and is accepted. A typical mistake is a finite
    number, not close to the expected value, not accepted, and shows its own hint: it is not
    shadowed by an earlier mistake (given as computed and as a float)."""
    number = exercise.answer
    assert number.hint
    raw_expected = _resolve(number.expected)
    expected = _finite_real(raw_expected)
    assert exercise.evaluate(raw_expected).status == CORRECT
    assert exercise.evaluate(expected).status == CORRECT
    for wrong, explanation in number.mistakes:
        assert explanation
        raw = _resolve(wrong)
        value = _finite_real(raw)
        assert not number._close(value, expected), explanation
        for answer in (raw, value):
            result = exercise.evaluate(answer)
            assert result.status == INCORRECT, explanation
            assert result.message == f"not quite. {explanation}"


@pytest.mark.parametrize("exercise", _of_kind(Choice), ids=lambda ex: ex.id)
def test_every_wrong_option_has_a_hint(exercise):
    """Hints for exactly the wrong options; each wrong option, in any case, shows its own hint;
    the expected option is accepted with spaces and in upper case."""
    choice = exercise.answer
    assert len(set(choice.options)) == len(choice.options) >= 2
    assert choice.expected in choice.options
    assert set(choice.hints) == set(choice.options) - {choice.expected}
    for option, hint in choice.hints.items():
        assert hint
        result = exercise.evaluate(option.upper())
        assert result.status == INCORRECT
        assert result.message == f"not quite. {hint}"
    assert exercise.evaluate(choice.expected).status == CORRECT
    assert exercise.evaluate(f" {choice.expected.upper()} ").status == CORRECT


@pytest.mark.parametrize("exercise", _of_kind(Boolean), ids=lambda ex: ex.id)
def test_boolean_expected_is_a_bool_and_the_other_value_gets_the_hint(exercise):
    boolean = exercise.answer
    expected = _resolve(boolean.expected)
    assert type(expected) is bool, f"expected must be True or False, got {expected!r}"
    assert exercise.evaluate(expected).status == CORRECT
    assert exercise.evaluate(np.bool_(expected)).status == CORRECT
    assert boolean.hint
    result = exercise.evaluate(not expected)
    assert result.status == INCORRECT
    assert result.message == f"not quite. {_resolve(boolean.hint)}"


@pytest.mark.parametrize("exercise", _of_kind(Predicate), ids=lambda ex: ex.id)
def test_predicate_declares_an_expected_answer_that_its_judge_accepts(exercise):
    """The judge decides alone; the declared answer lets class editions check that their own
    answer is accepted and the published one refused."""
    expected = _resolve(exercise.answer.expected)
    assert expected is not None, "give the Predicate one correct answer as expected="
    assert exercise.answer.judge(expected) is None
    assert exercise.evaluate(expected).status == CORRECT


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda ex: ex.id)
def test_blank_and_odd_answers_never_crash(exercise):
    """The placeholder is "not answered"; answers of the wrong kind are incorrect, judged by the
    exercise's own assessor (not by the catch-all for an assessor that raised)."""
    assert exercise.evaluate(...).status == UNANSWERED
    odd = ["nonsense", "", [1, 2], {"a": 1}, None, float("nan"), float("inf")]
    if not isinstance(exercise.answer, Boolean):
        odd.append(True)
    for answer in odd:
        result = exercise.evaluate(answer)
        assert result.status == INCORRECT, (answer, result)
        assert not result.message.startswith(FALLBACK), (answer, result)
