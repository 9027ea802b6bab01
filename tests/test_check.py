"""Unit and fuzz tests of the exercise checks: a verdict on one line, never a traceback."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from abteach.course.check import (
    CORRECT,
    INCORRECT,
    UNANSWERED,
    Boolean,
    Choice,
    Exercise,
    Number,
    Numbers,
    Predicate,
    UnsupportedAnswer,
    answers_json,
    check,
    decode_answer,
    encode_answer,
    grade_answers_json,
    evaluate,
    exercises_for,
    find_exercise,
)

NUMBER = Exercise("99.1", "n", Number(lambda: 100.0, rtol=1e-3, hint="Per arm.",
                                      mistakes=[(lambda: 200.0, "That is both arms.")]))


def test_number_correct_within_tolerance():
    assert NUMBER.evaluate(100.05).status == CORRECT
    assert NUMBER.evaluate(np.float32(100.0)).status == CORRECT
    assert NUMBER.evaluate(np.array([100.0])).status == CORRECT


def test_number_specific_hint_for_a_known_mistake():
    result = NUMBER.evaluate(200.0)
    assert result.status == INCORRECT and "both arms" in result.message


def test_number_generic_hint_says_direction_not_the_answer():
    result = NUMBER.evaluate(90.0)
    assert result.status == INCORRECT and "too small" in result.message and "Per arm." in result.message
    assert "100" not in result.message


@pytest.mark.parametrize("answer, words", [("100", "single number"), (True, "single number"),
                                            ([1, 2], "single number"), (float("nan"), "finite")])
def test_number_wrong_type_is_explained(answer, words):
    result = NUMBER.evaluate(answer)
    assert result.status == INCORRECT and words in result.message


def test_unanswered():
    result = NUMBER.evaluate(...)
    assert result.status == UNANSWERED and result.points == 0
    assert str(result) == "Exercise 99.1: not answered yet (replace ... with your answer)."


def test_none_is_an_answer_not_a_blank():
    result = NUMBER.evaluate(None)
    assert result.status == INCORRECT and "single number" in result.message
    assert Exercise("99.4", "v", Predicate(lambda x: None if x is None else "Not enrolled.")).evaluate(None).points == 1


def test_choice_boolean_numbers_predicate():
    choice = Choice("b", ("a", "b", "c"), hints={"a": "A is the type II error."})
    assert choice.assess(" B ")[0] == CORRECT
    assert choice.assess("a") == (INCORRECT, "not quite. A is the type II error.")
    assert "one of" in choice.assess("z")[1] and "string" in choice.assess(2)[1]
    assert Boolean(True).assess(True)[0] == CORRECT
    assert "True or False" in Boolean(True).assess(1)[1]
    numbers = Numbers([1.0, 2.0], rtol=1e-6)
    assert numbers.assess(np.array([1.0, 2.0]))[0] == CORRECT
    assert "element 1" in numbers.assess([1.0, 2.5])[1]
    assert "expected 2 numbers" in numbers.assess([1.0])[1]
    assert "expected 2 numbers" in numbers.assess(3.0)[1]
    even = Predicate(lambda x: None if x % 2 == 0 else "It must be even.")
    assert even.assess(4)[0] == CORRECT and even.assess(3)[1] == "not quite. It must be even."


@given(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(),
                 st.lists(st.floats()), st.dictionaries(st.text(), st.integers()), st.binary()))
def test_any_answer_gets_a_verdict_never_an_exception(answer):
    for kind in (NUMBER.answer, Choice("a", ("a", "b")), Boolean(True), Numbers([1.0, 2.0])):
        result = Exercise("99.2", "x", kind).evaluate(answer)
        assert result.status in (CORRECT, INCORRECT, UNANSWERED)
        assert "\n" not in str(result)


def test_a_judge_that_raises_still_gives_a_verdict():
    result = Exercise("99.3", "x", Predicate(lambda x: x.missing_attribute)).evaluate(object())
    assert result.status == INCORRECT and "could not check" in result.message


@pytest.mark.parametrize("bad", ["2.1.x", "ab.1", 2.1, "21"])
def test_bad_exercise_ids_are_named(bad):
    with pytest.raises(ValueError, match="exercise must be an id like '02.1'"):
        find_exercise(bad)


def test_unknown_exercise_and_chapter_are_named():
    with pytest.raises(ValueError, match="'01.999' does not exist"):
        evaluate("01.999", 1)
    with pytest.raises(ValueError, match="chapter 98 has no exercises"):
        exercises_for(98)
    with pytest.raises(ValueError, match="chapter must be"):
        exercises_for(0)


def test_check_prints_one_line(capsys):
    first = exercises_for(1)[0]
    check(first.id, ...)
    assert capsys.readouterr().out == f"Exercise {first.id}: not answered yet (replace ... with your answer).\n"


ANSWERS = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text()),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner),
                            st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=10,
)


@given(ANSWERS)
def test_answers_survive_the_trip_out_of_the_kernel(answer):
    """What the grader receives equals what the notebook held (types included)."""
    import json

    back = decode_answer(json.loads(json.dumps(encode_answer(answer))))
    assert back == answer and type(back) is type(answer)


def test_numpy_values_and_specials_round_trip():
    for value in (np.float64(0.25), np.int64(7), np.bool_(True), float("nan"), float("inf"), Ellipsis):
        back = decode_answer(encode_answer(value))
        assert (back is Ellipsis) if value is Ellipsis else (back == value or (back != back and value != value))
    array = decode_answer(encode_answer(np.array([[1.5, 2.0], [3.0, 4.0]])))
    assert isinstance(array, np.ndarray) and array.shape == (2, 2) and array[1, 0] == 3.0


def test_objects_the_grader_cannot_carry_become_a_named_wrong_answer():
    decoded = decode_answer(encode_answer({1: "int key"}))
    assert isinstance(decoded, UnsupportedAnswer) and "dict" in repr(decoded)
    assert NUMBER.evaluate(decode_answer(encode_answer(object()))).status == INCORRECT


@pytest.mark.parametrize("bad", [[1, 2], {"float": 1, "array": []}, {"pickle": "x"}, "not json"])
def test_decoding_refuses_anything_but_encoded_answers(bad):
    with pytest.raises(ValueError, match="must be an encoded answer|JSON"):
        if isinstance(bad, str):
            grade_answers_json(1, bad)
        else:
            decode_answer(bad)


def test_answers_json_sends_only_the_chapter_variables_and_grades_in_this_process():
    first = exercises_for(1)[0]
    text = answers_json(1, {first.variable: 1.0, "secret": "x"})
    assert "secret" not in text
    results = grade_answers_json(1, text)
    assert [r.exercise for r in results] == [ex.id for ex in exercises_for(1)]
    assert all(r.status == UNANSWERED for r in results[1:])
