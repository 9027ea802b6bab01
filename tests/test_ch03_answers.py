"""Chapter 3 answer key: the two Predicate checks explain None versus an index, and the expected
values agree with implementations written here independently of abteach's hashing code."""

from __future__ import annotations

import numpy as np
import pytest

import abteach as abt
from abteach.course.answers import ch03
from abteach.course.answers.ch03 import EXERCISES
from abteach.course.check import CORRECT, INCORRECT, Boolean, evaluate

PRICING = ch03.PUBLIC_INPUTS["03.3"]


def fnv_shift_add(data: bytes) -> int:
    """FNV-1a with the multiplication by the prime 2**24 + 2**8 + 0x93 written as shifts and
    adds (the form of GrowthBook's JavaScript SDK): independent of abteach.fnv1a32."""
    h = 0x811C9DC5
    for byte in data:
        h ^= byte
        h = (h + (h << 1) + (h << 4) + (h << 7) + (h << 8) + (h << 24)) % 2**32
    return h


def gb_v2(seed: str, value: str) -> float:
    """GrowthBook hash version 2 from its definition, on the independent FNV above."""
    return fnv_shift_add(str(fnv_shift_add((seed + value).encode())).encode()) % 10000 / 10000


def message(exercise_id: str, answer) -> str:
    result = evaluate(exercise_id, answer)
    assert result.status == INCORRECT, result
    return result.message


# --- 03.1: FNV-1a of "user-42" ------------------------------------------------------------


def test_fnv_expected_matches_independent_implementation_and_noll_vectors():
    """Noll's FNV-1a test vectors (published_numbers.md, HA01) through the test's own FNV."""
    for text, published in [("", 0x811C9DC5), ("a", 0xE40C292C), ("ab", 0x4D2505CA),
                            ("foobar", 0xBF9CF968)]:
        assert fnv_shift_add(text.encode()) == published
    expected = fnv_shift_add(b"user-42")
    assert evaluate("03.1", expected).status == CORRECT
    assert evaluate("03.1", np.uint32(expected)).status == CORRECT


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (ch03._fnv(b"user-42", xor_first=False), "that is FNV-1"),
        (ch03._fnv(b"user-42", modulus=None), "does not fit in 32 bits"),
        (ch03._fnv(b"user-42", basis=0), "offset basis"),
        (fnv_shift_add(b"42"), "whole id"),
        (f"{fnv_shift_add(b'user-42'):#x}", "as an integer, not as text"),
        (float(fnv_shift_add(b"user-42")), "Python int"),
        (True, "Python int"),
        (12345, "test vectors"),
    ],
)
def test_fnv_mistakes_get_specific_hints(answer, fragment):
    assert fragment in message("03.1", answer)


def test_fnv_mistake_values_are_distinct():
    data = b"user-42"
    values = {fnv_shift_add(data), ch03._fnv(data, xor_first=False), ch03._fnv(data, basis=0),
              fnv_shift_add(b"42")}
    assert len(values) == 4


# --- 03.2: GrowthBook hash version 2 ------------------------------------------------------


def test_hash_value_matches_definition():
    assert EXERCISES[1].answer.expected() == gb_v2("summer-sale", "user-1234")
    # the published GrowthBook SDK cases (HA02) through the same independent definition
    assert gb_v2("seed", "a") == 0.0505 and gb_v2("seed", "b") == 0.2696
    assert gb_v2("foo", "ab") == 0.2575


# --- 03.3: variants with coverage, None for "not in the experiment" -----------------------


def independent_pricing() -> list[int | None]:
    """Ranges [s_i, s_i + c w_i) written out for weights 0.25/0.25/0.5 and coverage 0.6."""
    ranges = [(0.0, 0.15), (0.25, 0.40), (0.5, 0.8)]
    out = []
    for user in ch03.PRICING_USERS:
        n = gb_v2(PRICING["key"], user)
        out.append(next((i for i, (a, b) in enumerate(ranges) if a <= n < b), None))
    return out


def test_pricing_expected_matches_independent_computation_and_is_varied():
    expected = ch03._pricing(PRICING)
    assert expected == independent_pricing()
    assert None in expected and len({v for v in expected if v is not None}) >= 2
    assert expected != ch03._pricing_global_coverage(PRICING)
    assert expected != ch03._pricing(PRICING, version=1)


def test_pricing_accepts_none_or_minus_one_and_arrays():
    expected = ch03._pricing(PRICING)
    assert evaluate("03.3", expected).status == CORRECT
    assert evaluate("03.3", [-1 if v is None else v for v in expected]).status == CORRECT
    many = abt.assign_many(list(ch03.PRICING_USERS), PRICING["key"], list(PRICING["weights"]),
                           coverage=PRICING["coverage"])
    assert evaluate("03.3", many).status == CORRECT
    assert evaluate("03.3", tuple(expected)).status == CORRECT


def test_pricing_explains_none_versus_index():
    expected = ch03._pricing(PRICING)
    enrolled = next(i for i, v in enumerate(expected) if v is not None)
    left_out = next(i for i, v in enumerate(expected) if v is None)
    user_in, user_out = ch03.PRICING_USERS[enrolled], ch03.PRICING_USERS[left_out]

    wrong_none = list(expected)
    wrong_none[enrolled] = None
    text = message("03.3", wrong_none)
    assert f"you stored None for {user_in}" in text and "IS in the experiment" in text

    wrong_index = list(expected)
    wrong_index[left_out] = 0
    text = message("03.3", wrong_index)
    assert f"{user_out} is NOT in the experiment" in text and "Store None" in text

    other = list(expected)
    other[enrolled] = (expected[enrolled] + 1) % 3
    assert f"not variant {other[enrolled]}'s" in message("03.3", other)


def test_pricing_recognises_whole_list_mistakes_and_bad_shapes():
    assert "inside each variant's slot" in message("03.3", ch03._pricing_global_coverage(PRICING))
    assert "hash version 1" in message("03.3", ch03._pricing(PRICING, version=1))
    assert "list of 8 entries" in message("03.3", "0, 1, 2")
    assert "list of 8 entries" in message("03.3", 3)
    assert "got 3" in message("03.3", [0, 1, 2])
    assert "got 1.0" in message("03.3", [1.0] * 8)
    assert "got True" in message("03.3", [True] * 8)


# --- 03.4 and 03.5: changing weights, ramping coverage ------------------------------------


def hash_values(key: str) -> np.ndarray:
    return np.array([gb_v2(key, u) for u in abt.make_unit_ids(ch03.N_IDS)])


@pytest.mark.slow
def test_switched_count_matches_independent_count():
    """Weights 50/50 -> 30/70 move exactly the ids with hash value in [0.3, 0.5). The pure
    Python loop over 100,000 ids takes a few seconds, hence slow."""
    n = hash_values(ch03.PUBLIC_INPUTS["03.4"]["key"])
    assert EXERCISES[3].answer.expected() == int(np.count_nonzero((n >= 0.3) & (n < 0.5)))


def test_switched_count_is_near_its_expectation():
    """Binomial(100,000, 0.2): 4.5 standard errors is 569 users."""
    switched = ch03._switched(ch03.PUBLIC_INPUTS["03.4"])
    assert abs(switched - 20_000) < 4.5 * np.sqrt(ch03.N_IDS * 0.2 * 0.8)
    assert switched != 20_000


def test_ramping_keeps_everyone():
    ramp = EXERCISES[4].answer
    assert isinstance(ramp, Boolean)
    assert ramp.expected() is False
    assert "lengthens every variant's range" in message("03.5", True)


# --- class editions: other ids, keys, weights and coverages, the same independent checks ----

EDITION_SECRETS = ["first class secret", "second class secret", "spring 2027 section B"]


def edition_key(secret: str):
    from abteach.course.editions import edition_exercises, edition_inputs

    return edition_inputs(3, secret), {ex.id: ex for ex in edition_exercises(3, secret)}


def independent_variants(key: str, weights, coverage: float) -> list[int | None]:
    """Variant i keeps [s_i, s_i + coverage * w_i), s_i the sum of the earlier weights."""
    starts = np.concatenate([[0.0], np.cumsum(weights)[:-1]])
    out = []
    for user in ch03.PRICING_USERS:
        n = gb_v2(key, user)
        out.append(next((i for i, (s, w) in enumerate(zip(starts, weights)) if s <= n < s + coverage * w),
                        None))
    return out


@pytest.mark.parametrize("secret", EDITION_SECRETS)
def test_edition_answers_match_independent_computations(secret):
    inputs, key = edition_key(secret)
    unit = inputs["03.1"]["id"]
    assert key["03.1"].evaluate(fnv_shift_add(unit.encode())).status == CORRECT
    assert key["03.1"].evaluate(fnv_shift_add(b"user-42")).status == INCORRECT
    assert f"not only the number {unit.removeprefix('user-')}" in key["03.1"].evaluate(
        fnv_shift_add(unit.removeprefix("user-").encode())).message
    g = inputs["03.2"]
    assert key["03.2"].answer.expected() == gb_v2(g["seed"], g["id"])
    g = inputs["03.3"]
    variants = independent_variants(g["key"], g["weights"], g["coverage"])
    assert key["03.3"].evaluate(variants).status == CORRECT
    assert None in variants and len({v for v in variants if v is not None}) >= 2
    wrong = [0 if v is None else v for v in variants]
    assert f"first {100 * g['coverage']:g}% of its slot" in key["03.3"].evaluate(wrong).message
    ramp = ch03.exercises(inputs)[4].answer  # the edition asks for the letter of False
    assert ramp.expected() is False
    assert key["03.5"].answer.hints[next(k for k in "ab" if k != key["03.5"].answer.expected)] == ramp.hint


@pytest.mark.slow
def test_edition_switched_count_matches_independent_count():
    """Weights 50/50 -> a/(1 - a) with a < 0.5 move exactly the ids with hash value in [a, 0.5)."""
    inputs, key = edition_key(EDITION_SECRETS[0])
    control_after = inputs["03.4"]["after"][0]
    n = hash_values(inputs["03.4"]["key"])
    assert key["03.4"].answer.expected() == int(np.count_nonzero((n >= control_after) & (n < 0.5)))
    assert f"[{control_after:g}, 0.5) move from control to treatment" in key["03.4"].evaluate(
        (0.5 - control_after) * ch03.N_IDS).message


def test_edition_notebook_shows_the_edition_numbers():
    from abteach.course.editions import edition_notebook
    from conftest import ROOT, read

    inputs, _ = edition_key(EDITION_SECRETS[1])
    nb = edition_notebook(read(ROOT / "exercises" / "03_assignment.ipynb"), 3, EDITION_SECRETS[1])
    text = "\n".join(cell.source for cell in nb.cells)
    for value in [inputs["03.1"]["id"], inputs["03.2"]["seed"], inputs["03.3"]["key"],
                  inputs["03.4"]["key"], inputs["03.5"]["key"]]:
        assert f'`"{value}"`' in text
    assert f"weights, coverage = {list(inputs['03.3']['weights'])}, {inputs['03.3']['coverage']}" in text
    for public in ['"user-42"', '"summer-sale"', '"pricing-page"', '"onboarding-tour"', '"search-suggestions"']:
        assert public not in text
