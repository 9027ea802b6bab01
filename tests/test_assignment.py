"""Tests of abteach.assignment: hashing, GrowthBook-compatible bucketing, stratification, A/A.

Published values: FNV-1a reference vectors (Noll) and the GrowthBook SDK specification test
cases, ``packages/sdk-js/test/cases.json`` in the growthbook/growthbook repository (spec
version 0.5.4), sections "hash", "getBucketRange", "chooseVariation", "inNamespace", "run",
"feature" and "stickyBucket". Each block below names its section.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import published
from abteach.assignment import (
    AATest,
    IndependenceTest,
    UniformityTest,
    aa_test,
    assign,
    assign_many,
    bucket_ranges,
    bucket_uniformity,
    choose_variation,
    fnv1a32,
    growthbook_hash,
    in_namespace,
    independence_test,
    make_unit_ids,
    sha256_unit,
    simulate_aa,
    stratified_assignment,
)


def band(rate: float, runs: int, width: float = 4.5) -> float:
    """Half-width of a binomial tolerance band: `width` standard errors of a rate over `runs`."""
    return width * np.sqrt(rate * (1 - rate) / runs)


def fnv_shift_add(data: bytes) -> int:
    """FNV-1a written as GrowthBook's JavaScript SDK does it: the multiplication by the FNV
    prime 2**24 + 2**8 + 0x93 expanded into shifts and adds (an independent implementation)."""
    h = 0x811C9DC5
    for byte in data:
        h ^= byte
        h = (h + (h << 1) + (h << 4) + (h << 7) + (h << 8) + (h << 24)) % 2**32
    return h


def normalize(raw: list[float]) -> list[float]:
    total = sum(raw)
    return [w / total for w in raw]


ids_text = st.text(min_size=1, max_size=24)
weights_strategy = st.lists(st.floats(0.01, 1.0), min_size=2, max_size=5).map(normalize)


# --- published values: FNV-1a (HA01) and GrowthBook (HA02 and the SDK spec) ----------------


# HA01 and HA02, read from the one file of published numbers (abteach/data/published_numbers.json)
FNV_VECTORS = [(text, int(value)) for (text,), value in published.arguments("HA01")]
GROWTHBOOK_PUBLISHED = [(*args, value) for args, value in published.arguments("HA02")]


def test_published_vectors_are_the_sources():
    """The file holds Noll's four FNV vectors and the four GrowthBook cases of the course."""
    assert [text for text, _ in FNV_VECTORS] == ["", "a", "ab", "foobar"]
    assert [case[:3] for case in GROWTHBOOK_PUBLISHED] == [
        ("", "a", 1), ("seed", "a", 2), ("seed", "b", 2), ("foo", "ab", 2)]


@pytest.mark.parametrize(("text", "expected"), FNV_VECTORS)
def test_fnv1a32_reference_vectors(text, expected):
    """HA01: FNV-1a 32-bit test vectors, L. C. Noll's FNV reference page (published_numbers.md)."""
    assert fnv1a32(text) == expected
    assert fnv1a32(text.encode()) == expected
    assert fnv_shift_add(text.encode()) == expected


def test_fnv1a32_reference_vectors_vectorized():
    """HA01 through the numpy path, in a 2-D array (shape kept)."""
    texts = np.array([[t for t, _ in FNV_VECTORS]] * 2, dtype=object)
    result = fnv1a32(texts)
    assert result.shape == (2, 4)
    assert result.dtype == np.uint32
    assert result.tolist() == [[e for _, e in FNV_VECTORS]] * 2


@pytest.mark.parametrize(("seed", "value", "version", "expected"), GROWTHBOOK_PUBLISHED)
def test_growthbook_hash_published(seed, value, version, expected):
    """HA02: GrowthBook SDK specification test cases (published_numbers.md); the same cases
    are in GROWTHBOOK_HASH_CASES below, copied from the SDK's cases.json."""
    assert growthbook_hash(seed, value, version) == expected
    assert growthbook_hash(seed, [value], version)[0] == expected
    assert (seed, value, version, expected) in GROWTHBOOK_HASH_CASES


# GrowthBook cases.json, section "hash": [seed, value, version, expected].
GROWTHBOOK_HASH_CASES = [
    ("", "a", 1, 0.22),
    ("", "b", 1, 0.077),
    ("b", "a", 1, 0.946),
    ("ef", "d", 1, 0.652),
    ("asdf", "8952klfjas09ujk", 1, 0.549),
    ("", "123", 1, 0.011),
    ("", '___)((*":&', 1, 0.563),
    ("seed", "a", 2, 0.0505),
    ("seed", "b", 2, 0.2696),
    ("foo", "ab", 2, 0.2575),
    ("foo", "def", 2, 0.2019),
    ("89123klj", "8952klfjas09ujkasdf", 2, 0.124),
    ("90850943850283058242805", "123", 2, 0.7516),
    ("()**(%$##$%#$#", '___)((*":&', 2, 0.0128),
]


@pytest.mark.parametrize(("seed", "value", "version", "expected"), GROWTHBOOK_HASH_CASES)
def test_growthbook_spec_hash_cases(seed, value, version, expected):
    """GrowthBook cases.json, "hash": every case, scalar and vectorized paths."""
    assert growthbook_hash(seed, value, version) == expected
    assert growthbook_hash(seed, np.array([value, value]), version).tolist() == [expected] * 2


# Non-ASCII ids (error 6 of the teaching-truth issue: abteach used to hash UTF-8 bytes).
# cases.json's "hash" section has ASCII strings only, so these values were computed with the
# released SDKs themselves: `hash(seed, value, version)` of the npm package
# @growthbook/growthbook 1.8.0 (dist/cjs/util.js, Node 20) and `growthbook.core.gbhash` of
# the PyPI package growthbook 4.0.0; the two SDKs printed the same value for every case. The
# first case is the example (0.8663 in the SDK; abteach printed 0.9593 before).
GROWTHBOOK_SDK_NON_ASCII = [
    ("seed", "\u00e9", 2, 0.8663),
    ("seed", "\u00e9", 1, 0.137),
    ("", "na\u00efve", 1, 0.308),
    ("foo", "\u03a9mega", 2, 0.3469),
    ("exp-1", "\u7528\u6237-42", 2, 0.8753),
    ("exp-1", "\u30e6\u30fc\u30b6\u30fc", 1, 0.234),
    ("caf\u00e9", "user-7", 2, 0.9567),
    ("caf\u00e9", "user-7", 1, 0.231),
    ("seed", "\U0001f600", 2, 0.4346),
    ("seed", "\U0001f600", 1, 0.429),
    ("exp", "user-\U0001f600-1", 2, 0.9555),
    ("", "\U0001d518\U0001d52b\U0001d526", 1, 0.487),
    ("\u00df", "Stra\u00dfe", 2, 0.0657),
]


@pytest.mark.parametrize(("seed", "value", "version", "expected"), GROWTHBOOK_SDK_NON_ASCII)
def test_growthbook_hash_non_ascii_matches_the_sdks(seed, value, version, expected):
    """Non-ASCII and non-BMP (emoji, two surrogates) ids, scalar and vectorized paths."""
    assert growthbook_hash(seed, value, version) == expected
    mixed = np.array([value, "user-1", value * 3, value], dtype=object)
    assert growthbook_hash(seed, mixed, version)[[0, 3]].tolist() == [expected] * 2


def js_char_code_hash(seed: str, value: str, version: int) -> float:
    """GrowthBook's `hash` transcribed from the JavaScript SDK, independently of abteach: the
    `charCodeAt` loop over UTF-16 code units, in the SDK's shift-add form."""

    def fnv(text: str) -> int:
        units = text.encode("utf-16-le")
        h = 0x811C9DC5
        for i in range(0, len(units), 2):
            h ^= units[i] | units[i + 1] << 8
            h = (h + (h << 1) + (h << 4) + (h << 7) + (h << 8) + (h << 24)) % 2**32
        return h

    if version == 1:
        return fnv(value + seed) % 1000 / 1000
    return fnv(str(fnv(seed + value))) % 10000 / 10000


@given(
    seed=st.text(max_size=8),
    values=st.lists(ids_text, min_size=1, max_size=20),
    version=st.sampled_from([1, 2]),
)
def test_growthbook_hash_is_the_utf16_charcode_loop(seed, values, version):
    """Property: for any text, the hash equals the JavaScript SDK's loop over UTF-16 code
    units (scalar and vectorized paths)."""
    expected = [js_char_code_hash(seed, v, version) for v in values]
    assert [growthbook_hash(seed, v, version) for v in values] == expected
    assert growthbook_hash(seed, values, version).tolist() == expected


def test_growthbook_hash_is_not_the_utf8_hash():
    """The issue's example: over UTF-8 bytes the same formula gives 0.9593, not the SDK's
    0.8663; for ASCII ids the two encodings agree."""
    utf8_v2 = fnv1a32(str(fnv1a32("seed\u00e9"))) % 10000 / 10000
    assert utf8_v2 == 0.9593
    assert growthbook_hash("seed", "\u00e9", 2) == 0.8663
    assert growthbook_hash("seed", "user-1", 2) == fnv1a32(str(fnv1a32("seeduser-1"))) % 10000 / 10000


def test_non_ascii_ids_assign_like_the_sdk():
    """assign, assign_many, in_namespace and bucket_uniformity use the same UTF-16 hash."""
    ids = [f"\u7528\u6237-{i}" for i in range(200)] + [f"\U0001f600{i}" for i in range(200)]
    ranges = bucket_ranges([0.5, 0.5])
    expected = [choose_variation(js_char_code_hash("k\u00e9y", u, 2), ranges) for u in ids]
    assert assign_many(ids, "k\u00e9y", [0.5, 0.5]).tolist() == expected
    assert [assign(u, "k\u00e9y", [0.5, 0.5]) for u in ids] == expected
    layer = [0.2 <= js_char_code_hash("__n\u00e4me", u, 1) < 0.7 for u in ids]
    assert in_namespace(ids, ("n\u00e4me", 0.2, 0.7)).tolist() == layer
    hashes = np.array([js_char_code_hash("k\u00e9y", u, 2) for u in ids])
    counts = np.bincount(np.round(hashes * 10000).astype(int) * 4 // 10000, minlength=4)
    assert bucket_uniformity(ids, "k\u00e9y", n_buckets=4).counts.tolist() == counts.tolist()


def test_growthbook_spec_unknown_hash_version():
    """GrowthBook cases.json, "hash": ["abc", "def", 99] gives null; abteach raises instead."""
    with pytest.raises(ValueError, match="hash_version must be 1 or 2, got 99"):
        growthbook_hash("abc", "def", 99)


# GrowthBook cases.json, section "getBucketRange": (weights, coverage) -> ranges.
BUCKET_RANGE_CASES = [
    ("normal 50/50", [0.5, 0.5], 1, [(0, 0.5), (0.5, 1)]),
    ("reduced coverage", [0.5, 0.5], 0.5, [(0, 0.25), (0.5, 0.75)]),
    ("zero coverage", [0.5, 0.5], 0, [(0, 0), (0.5, 0.5)]),
    ("4 variations", [0.25] * 4, 1, [(0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1)]),
    ("uneven weights", [0.4, 0.6], 1, [(0, 0.4), (0.4, 1)]),
    ("uneven weights, 3 variations", [0.2, 0.3, 0.5], 1, [(0, 0.2), (0.2, 0.5), (0.5, 1)]),
    ("uneven, reduced coverage", [0.2, 0.3, 0.5], 0.2, [(0, 0.04), (0.2, 0.26), (0.5, 0.6)]),
]


@pytest.mark.parametrize(("name", "weights", "coverage", "expected"), BUCKET_RANGE_CASES)
def test_growthbook_spec_bucket_ranges(name, weights, coverage, expected):
    """GrowthBook cases.json, "getBucketRange" (the cases with valid weights and coverage)."""
    ranges = bucket_ranges(weights, coverage=coverage)
    assert len(ranges) == len(expected)
    for (start, end), (e_start, e_end) in zip(ranges, expected):
        assert start == pytest.approx(e_start, abs=1e-12)
        assert end == pytest.approx(e_end, abs=1e-12)


@pytest.mark.parametrize(
    ("weights", "coverage", "message"),
    [
        ([0.5, 0.5], -0.2, "coverage must be in"),  # "negative coverage": GrowthBook clamps to 0
        ([0.5, 0.5], 1.5, "coverage must be in"),  # "coverage above 1": GrowthBook clamps to 1
        ([0.4, 0.1], 1, "weights must sum to 1"),  # "weights sum below 1": GrowthBook uses equal
        ([0.7, 0.6], 1, "weights must sum to 1"),  # "weights sum above 1": GrowthBook uses equal
        ([0.4, 0.5999], 1, "weights must sum to 1"),  # "almost equals 1": GrowthBook accepts
    ],
)
def test_growthbook_spec_bucket_ranges_that_abteach_refuses(weights, coverage, message):
    """The remaining "getBucketRange" cases: GrowthBook silently repairs them (clamping the
    coverage, falling back to equal weights when the sum is outside [0.99, 1.01]); abteach
    refuses, because a silent repair hides a configuration error from the learner."""
    with pytest.raises(ValueError, match=message):
        bucket_ranges(weights, coverage=coverage)


# GrowthBook cases.json, section "chooseVariation": (value, ranges) -> index (-1 = none).
EVEN = [(0, 0.5), (0.5, 1)]
REDUCED = [(0, 0.25), (0.5, 0.75)]
CHOOSE_CASES = [
    (0.2, EVEN, 0), (0.4, EVEN, 0), (0.6, EVEN, 1), (0.8, EVEN, 1), (0, EVEN, 0), (0.5, EVEN, 1),
    (0.2, REDUCED, 0), (0.4, REDUCED, -1), (0.6, REDUCED, 1), (0.8, REDUCED, -1),
    (0.25, REDUCED, -1), (0.5, REDUCED, 1), (0.5, [(0, 0.5), (0.5, 0.5), (0.5, 1)], 2),
]


@pytest.mark.parametrize(("value", "ranges", "expected"), CHOOSE_CASES)
def test_growthbook_spec_choose_variation(value, ranges, expected):
    """GrowthBook cases.json, "chooseVariation": all 13 cases (-1 is None for one value)."""
    assert choose_variation(value, ranges) == (None if expected < 0 else expected)
    assert choose_variation(np.array([value]), ranges).tolist() == [expected]


# GrowthBook cases.json, section "inNamespace": (user, namespace, expected).
NAMESPACE_CASES = [
    (user, (space, *bounds), expected)
    for user, results in {
        "1": (False, True, False, True),
        "2": (False, True, False, True),
        "3": (False, True, True, False),
        "4": (False, True, True, False),
    }.items()
    for (space, bounds), expected in zip(
        [("namespace1", (0, 0.4)), ("namespace1", (0.4, 1)), ("namespace2", (0, 0.4)),
         ("namespace2", (0.4, 1))],
        results,
    )
]


@pytest.mark.parametrize(("user", "namespace", "expected"), NAMESPACE_CASES)
def test_growthbook_spec_in_namespace(user, namespace, expected):
    """GrowthBook cases.json, "inNamespace": all 16 cases, scalar and vectorized."""
    assert in_namespace(user, namespace) is expected
    assert in_namespace([user], namespace).tolist() == [expected]


# GrowthBook cases.json, section "run": experiment key "my-test" (the seed), ids "1".."9",
# no hashVersion, so GrowthBook's default version 1. None = not in the experiment.
RUN_CASES = {
    "default weights": ([0.5, 0.5], 1.0, [1, 0, 0, 1, 1, 1, 0, 1, 0]),
    "uneven weights": ([0.1, 0.9], 1.0, [1, 1, 0, 1, 1, 1, 0, 1, 1]),
    "coverage": ([0.5, 0.5], 0.4, [None, 0, 0, None, 1, None, 0, 1, None]),
    "three way test": ([1 / 3] * 3, 1.0, [2, 0, 0, 2, 1, 2, 0, 1, 0]),
}


@pytest.mark.parametrize("case", sorted(RUN_CASES))
def test_growthbook_spec_run_cases(case):
    """GrowthBook cases.json, "run": default weights / uneven weights / coverage / three way
    test, ids 1 to 9 (the coverage cases list "inExperiment": false where we expect None)."""
    weights, coverage, expected = RUN_CASES[case]
    ids = [str(i) for i in range(1, 10)]
    got = [assign(u, "my-test", weights, coverage=coverage, hash_version=1) for u in ids]
    assert got == expected
    many = assign_many(ids, "my-test", weights, coverage=coverage, hash_version=1)
    assert many.tolist() == [-1 if e is None else e for e in expected]


def test_growthbook_spec_run_other_cases():
    """GrowthBook cases.json, "run": test name, seed and hash version, coverage 0, coverage
    taking precedence (coverage 0.01), experiment namespace pass / fail."""
    assert assign("1", "my-test-3", [0.5, 0.5], hash_version=1) == 0  # "test name - my-test-3"
    assert assign("1", "foo", [0.5, 0.5], hash_version=2) == 1  # "Uses seed and hash version"
    assert assign("1", "foo", [0.5, 0.5], coverage=0.99, hash_version=2) == 1  # "... weights/coverage"
    assert assign("1", "no-coverage", [0.5, 0.5], coverage=0, hash_version=1) is None
    assert assign("1", "my-test", [0.5, 0.5], coverage=0.01, hash_version=1) is None
    passing = ("namespace", 0.1, 1)
    failing = ("namespace", 0, 0.1)
    assert assign("1", "my-test", [0.5, 0.5], hash_version=1, namespace=passing) == 1
    assert assign("1", "my-test", [0.5, 0.5], hash_version=1, namespace=failing) is None
    many = assign_many(["1"], "my-test", [0.5, 0.5], hash_version=1, namespace=failing)
    assert many.tolist() == [-1]


@pytest.mark.parametrize(
    ("unit", "seed", "version", "bucket", "weights", "coverage", "variant"),
    [
        # "feature": "empty experiment rule - c / a / b" (seed = feature key, version 1)
        ("123", "feature", 1, 0.863, [1 / 3] * 3, 1.0, 2),
        ("456", "feature", 1, 0.178, [1 / 3] * 3, 1.0, 0),
        ("fds", "feature", 1, 0.514, [1 / 3] * 3, 1.0, 1),
        # "stickyBucket": "use fallbackAttribute when missing hashAttribute" (4 variations)
        ("123", "feature", 1, 0.863, [0.25] * 4, 1.0, 3),
        # "feature": "creates experiments properly"
        ("123", "feature", 2, 0.5231, [0.1, 0.9], 0.99, 1),
        # "feature": "Support passthrough variations" / "Support holdout groups"
        ("1", "experiment", 2, 0.4413, [0.5, 0.5], 1.0, 0),
        ("1", "holdout", 2, 0.8043, [0.99, 0.01], 1.0, 0),
        # "stickyBucket": "performs evaluation without sticky bucket" and the hashAttribute case
        ("d123", "feature-exp", 2, 0.6468, [0.3334, 0.3333, 0.3333], 1.0, 1),
        ("i123", "feature-exp", 2, 0.9943, [0.3334, 0.3333, 0.3333], 1.0, 2),
    ],
)
def test_growthbook_spec_feature_buckets(unit, seed, version, bucket, weights, coverage, variant):
    """GrowthBook cases.json, "feature" and "stickyBucket": the reported "bucket" (hash value)
    and "variationId" of experiment rules."""
    assert growthbook_hash(seed, unit, version) == bucket
    assert assign(unit, seed, weights, coverage=coverage, hash_version=version) == variant


def test_growthbook_spec_feature_skips():
    """GrowthBook cases.json, "feature": "skips experiment on coverage" (coverage 0.01) and
    "skips experiment on namespace" (["pricing", 0, 0.01]), id "123", four variations."""
    assert assign("123", "feature", [0.25] * 4, coverage=0.01, hash_version=1) is None
    namespace = ("pricing", 0, 0.01)
    assert assign("123", "feature", [0.25] * 4, hash_version=1, namespace=namespace) is None


# --- independent implementations and scalar / vectorized agreement -------------------------


@given(st.binary(max_size=64))
def test_fnv1a32_matches_shift_add_form(data):
    assert fnv1a32(data) == fnv_shift_add(data)


@given(st.lists(st.text(max_size=30), min_size=1, max_size=40))
def test_fnv1a32_vectorized_equals_scalar(texts):
    """Strings of any length and any characters, including NUL and non-ASCII."""
    assert fnv1a32(texts).tolist() == [fnv_shift_add(t.encode("utf-8")) for t in texts]


@given(st.integers(0, 2**32 - 1))
def test_v2_second_round_matches_decimal_string(value):
    """Version 2 re-hashes the decimal string of the first hash: the numpy path computes it
    digit by digit; compare with Python's str() for every magnitude."""
    from abteach.assignment.hashing import _fnv_decimal

    result = _fnv_decimal(np.array([value, 0, 9, 10, 2**32 - 1], dtype=np.uint32))
    assert result.tolist() == [fnv1a32(str(v)) for v in (value, 0, 9, 10, 2**32 - 1)]


@given(
    ids=st.lists(ids_text, min_size=1, max_size=30),
    key=st.text(min_size=1, max_size=12),
    weights=weights_strategy,
    coverage=st.floats(0, 1),
    version=st.sampled_from([1, 2]),
    namespace=st.one_of(
        st.none(), st.tuples(st.text(min_size=1, max_size=5), st.just(0.2), st.just(0.7))
    ),
)
def test_assign_many_equals_assign(ids, key, weights, coverage, version, namespace):
    """Property: the vectorized path agrees exactly with the scalar path, for any ids."""
    many = assign_many(ids, key, weights, coverage=coverage, hash_version=version, namespace=namespace)
    one = [
        assign(u, key, weights, coverage=coverage, hash_version=version, namespace=namespace)
        for u in ids
    ]
    assert many.tolist() == [-1 if v is None else v for v in one]


def test_assign_many_equals_assign_on_many_random_ids():
    """5,000 random ids of lengths 1 to 40 over a mixed alphabet (ASCII, accents, CJK)."""
    rng = np.random.default_rng(3)
    alphabet = np.array(list("abcXYZ0189-_:é中\u00a0"))
    lengths = rng.integers(1, 41, size=5000)
    letters = rng.choice(alphabet, size=lengths.sum())
    ids = ["".join(word) for word in np.split(letters, np.cumsum(lengths)[:-1])]
    for version in (1, 2):
        many = assign_many(ids, "ramp-test", [0.2, 0.3, 0.5], coverage=0.6, hash_version=version)
        one = [assign(u, "ramp-test", [0.2, 0.3, 0.5], coverage=0.6, hash_version=version) for u in ids]
        assert many.tolist() == [-1 if v is None else v for v in one]
        hashes = growthbook_hash("ramp-test", ids, version)
        assert hashes.tolist() == [growthbook_hash("ramp-test", u, version) for u in ids]


def test_sha256_unit_exact_definition():
    """Independent computation with the hex digest and exact fractions."""
    for unit, salt in [("user-1", "checkout-2024"), ("é", "s"), ("x" * 100, "salt")]:
        x = int(hashlib.sha256(f"{salt}.{unit}".encode()).hexdigest()[:16], 16)
        expected = Fraction(x // 2**11, 2**53)
        assert Fraction(sha256_unit(unit, salt)) == expected
        assert 0 <= sha256_unit(unit, salt) < 1


@given(st.integers(0, 2**64 - 1))
def test_sha256_top53_is_below_one(x):
    """The largest 64-bit values would round to 1.0 as x / 2**64; the top-53-bit map never does."""
    from abteach.assignment.hashing import _top53_unit

    assert 0 <= _top53_unit(x) < 1
    assert _top53_unit(2**64 - 1) < 1 <= (2**64 - 1) / 2**64


def test_sha256_unit_is_uniform():
    """Kolmogorov-Smirnov against Uniform(0, 1) on 20,000 sequential ids (fixed, deterministic)."""
    values = [sha256_unit(u, "ks") for u in make_unit_ids(20_000)]
    assert stats.kstest(values, "uniform").pvalue > 1e-3


def test_bucket_uniformity_matches_scipy_chisquare():
    ids = make_unit_ids(30_000)
    res = bucket_uniformity(ids, "uniform-key", n_buckets=25)
    buckets = np.floor(np.asarray(growthbook_hash("uniform-key", ids, 2)) * 25 + 1e-9).astype(int)
    counts = np.bincount(buckets, minlength=25)
    assert res.counts.tolist() == counts.tolist()
    ref = stats.chisquare(counts)
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert res.pvalue == pytest.approx(ref.pvalue, rel=1e-9)
    assert res.df == 24


def test_bucket_uniformity_unequal_bucket_shares():
    """7 buckets do not divide 10,000 levels: the expected shares are the exact level counts
    (1429 or 1428 levels of 10,000), and the statistic matches scipy with those shares."""
    res = bucket_uniformity(7000, "shares", n_buckets=7)
    shares = np.array([1429, 1429, 1428, 1429, 1428, 1429, 1428]) / 10_000
    np.testing.assert_allclose(res.expected, 7000 * shares, rtol=1e-12)
    ref = stats.chisquare(res.counts, res.expected)
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert res.pvalue == pytest.approx(ref.pvalue, rel=1e-9)


def test_bucket_uniformity_rows_match_separate_calls():
    ids = np.array(make_unit_ids(3 * 2000)).reshape(3, 2000)
    res = bucket_uniformity(ids, "rows", n_buckets=10, hash_version=1)
    assert res.statistic.shape == (3,) and res.counts.shape == (3, 10)
    for row in range(3):
        single = bucket_uniformity(ids[row], "rows", n_buckets=10, hash_version=1)
        assert single.statistic == pytest.approx(res.statistic[row], rel=1e-12)
        assert single.counts.tolist() == res.counts[row].tolist()


def contingency(a, b):
    keep = (a >= 0) & (b >= 0)
    rows, cols = np.unique(a[keep]), np.unique(b[keep])
    return np.array([[np.sum((a[keep] == r) & (b[keep] == c)) for c in cols] for r in rows])


@pytest.mark.parametrize("seed", range(5))
def test_independence_test_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(-1, 3, size=500)
    b = np.where(rng.random(500) < 0.3, a, rng.integers(-1, 4, size=500))
    res = independence_test(a, b)
    ref = stats.chi2_contingency(contingency(a, b), correction=False)
    assert res.table.tolist() == contingency(a, b).tolist()
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-10)
    assert res.pvalue == pytest.approx(ref.pvalue, rel=1e-8, abs=1e-300)
    assert res.df == ref.dof


def test_independence_test_rows_match_separate_calls():
    rng = np.random.default_rng(11)
    a = rng.integers(0, 2, size=(4, 300))
    b = rng.integers(-1, 3, size=(4, 300))
    res = independence_test(a, b)
    for row in range(4):
        single = independence_test(a[row], b[row])
        assert single.statistic == pytest.approx(res.statistic[row], rel=1e-12)
        assert single.df == res.df[row]


@pytest.mark.parametrize("seed", range(4))
def test_aa_test_matches_scipy_welch(seed):
    rng = np.random.default_rng(seed)
    values = rng.lognormal(3, 1, size=300)
    variants = rng.choice([-1, 0, 1], size=300, p=[0.1, 0.5, 0.4])
    res = aa_test(values, variants, alpha=0.1)
    treated, control = values[variants == 1], values[variants == 0]
    ref = stats.ttest_ind(treated, control, equal_var=False)
    ci = ref.confidence_interval(0.9)
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-9)
    assert res.pvalue == pytest.approx(ref.pvalue, rel=1e-8)
    assert res.df == pytest.approx(ref.df, rel=1e-9)
    assert res.ci_low == pytest.approx(ci.low, rel=1e-9)
    assert res.ci_high == pytest.approx(ci.high, rel=1e-9)
    assert res.effect == pytest.approx(treated.mean() - control.mean(), rel=1e-12)
    srm = stats.chisquare([control.size, treated.size], [(control.size + treated.size) / 2] * 2)
    assert res.srm_statistic == pytest.approx(srm.statistic, rel=1e-12)
    assert res.srm_pvalue == pytest.approx(srm.pvalue, rel=1e-9)


def test_aa_test_large_mean_metric_is_accurate():
    """Sums of squares on a metric with a huge mean lose every digit unless centered first.
    Reference: scipy on the values shifted by -1e9 (an exact subtraction here; the t statistic
    does not depend on a shift), which avoids scipy's own rounding of 1e9-sized means."""
    rng = np.random.default_rng(5)
    values = 1e9 + rng.normal(0, 1, size=1000)
    variants = np.tile([0, 1], 500)
    shifted = values - 1e9
    ref = stats.ttest_ind(shifted[variants == 1], shifted[variants == 0], equal_var=False)
    assert aa_test(values, variants).statistic == pytest.approx(ref.statistic, rel=1e-7)


# --- simulations: error rates ---------------------------------------------------------------


def uniformity_rejection_rate(runs: int, n: int, alpha: float = 0.05) -> float:
    ids = np.array(make_unit_ids(runs * n)).reshape(runs, n)
    return float(np.mean(bucket_uniformity(ids, "type-one", n_buckets=20).pvalue < alpha))


def test_bucket_uniformity_type_one_error():
    """Hash v2 of sequential ids behaves like uniform draws: the chi-square test rejects
    about alpha of independent id blocks (300 blocks of 4,000 ids, 20 buckets)."""
    runs = 300
    assert abs(uniformity_rejection_rate(runs, 4000) - 0.05) < band(0.05, runs)


@pytest.mark.slow
def test_bucket_uniformity_type_one_error_slow():
    runs = 2000
    assert abs(uniformity_rejection_rate(runs, 2000) - 0.05) < band(0.05, runs)


def test_hash_v1_spreads_sequential_ids_too_evenly():
    """Uniformity p-values are uniform (mean 0.5) under v2 but pile up towards 1 under v1 for
    sequential ids: v1 buckets neighboring ids systematically, not like independent draws.
    The mean of 300 uniform p-values has standard error sqrt(1/12/300) = 0.0167."""
    ids = np.array(make_unit_ids(300 * 4000)).reshape(300, 4000)
    se = np.sqrt(1 / 12 / 300)
    v2 = bucket_uniformity(ids, "spread", n_buckets=20, hash_version=2).pvalue
    v1 = bucket_uniformity(ids, "spread", n_buckets=20, hash_version=1).pvalue
    assert abs(v2.mean() - 0.5) < 4.5 * se
    assert v1.mean() > 0.5 + 4.5 * se


def independence_rejection_rate(runs: int, n: int, version: int, keys=("exp-a", "exp-b")) -> float:
    ids = np.array(make_unit_ids(runs * n)).reshape(runs, n)
    a = assign_many(ids, keys[0], [0.5, 0.5], hash_version=version)
    b = assign_many(ids, keys[1], [0.2, 0.3, 0.5], hash_version=version)
    return float(np.mean(independence_test(a, b).pvalue < 0.05))


def test_independence_across_salts_type_one_error():
    """Different salts give independent assignments: over 300 blocks of 2,000 ids, the
    chi-square test of the A x B table rejects about 5% (keys that differ in one letter)."""
    runs = 300
    assert abs(independence_rejection_rate(runs, 2000, 2) - 0.05) < band(0.05, runs)


@pytest.mark.slow
def test_independence_across_salts_type_one_error_slow():
    runs = 1500
    for keys in [("exp-a", "exp-b"), ("x", "y"), ("checkout-2024", "search-ranking")]:
        assert abs(independence_rejection_rate(runs, 1000, 2, keys) - 0.05) < band(0.05, runs)


def test_hash_v1_leaks_between_similar_keys():
    """GrowthBook's version 1 hashes the seed last: keys that differ only in their final
    character give dependent assignments (why version 2 exists)."""
    assert independence_rejection_rate(100, 2000, 1) > 0.25  # v2: about 0.05 (test above)
    ids = make_unit_ids(100_000)
    a = assign_many(ids, "exp-a", [0.5, 0.5], hash_version=1)
    b = assign_many(ids, "exp-b", [0.5, 0.5], hash_version=1)
    assert independence_test(a, b).pvalue < 1e-30
    a2 = assign_many(ids, "exp-a", [0.5, 0.5], hash_version=2)
    b2 = assign_many(ids, "exp-b", [0.5, 0.5], hash_version=2)
    assert independence_test(a2, b2).pvalue > 1e-3


def test_reused_salt_gives_identical_assignment():
    """Carry-over: the same key puts every unit in the same variant again."""
    ids = make_unit_ids(50_000)
    first = assign_many(ids, "homepage-2023", [0.5, 0.5])
    again = assign_many(ids, "homepage-2023", [0.5, 0.5])
    assert (first == again).all()
    res = independence_test(first, again)
    assert np.count_nonzero(res.table - np.diag(np.diag(res.table))) == 0
    assert res.statistic == pytest.approx(res.n_units, rel=1e-12)  # X^2 = n for a 2x2 diagonal


def aa_rejection_rates(runs: int, n: int, alpha: float = 0.05):
    values = np.random.default_rng(99).normal(10, 3, size=n)
    res = simulate_aa(values, n_runs=runs, rng=2024, alpha=alpha)
    return float(np.mean(res.pvalue < alpha)), float(np.mean(res.srm_pvalue < alpha))


def exact_srm_rejection(n: int, alpha: float = 0.05) -> float:
    """P(sample-ratio p-value < alpha) under Bernoulli(1/2) assignment, summed exactly."""
    k = np.arange(n + 1)
    x2 = (k - n / 2) ** 2 / (n / 2) * 2
    return float(stats.binom.pmf(k, n, 0.5)[stats.chi2.sf(x2, 1) < alpha].sum())


def test_aa_type_one_error():
    """2,000 A/A splits of 400 units: Welch's test and the sample-ratio test reject at their
    nominal rates (the latter computed exactly for the discrete binomial counts)."""
    runs, n = 2000, 400
    metric_rate, srm_rate = aa_rejection_rates(runs, n)
    assert abs(metric_rate - 0.05) < band(0.05, runs)
    expected_srm = exact_srm_rejection(n)
    assert abs(srm_rate - expected_srm) < band(expected_srm, runs)


@pytest.mark.slow
def test_aa_type_one_error_slow():
    runs, n = 20_000, 300
    metric_rate, srm_rate = aa_rejection_rates(runs, n)
    assert abs(metric_rate - 0.05) < band(0.05, runs)
    expected_srm = exact_srm_rejection(n)
    assert abs(srm_rate - expected_srm) < band(expected_srm, runs)


def test_hashed_shares_match_weights_on_a_million_ids():
    """1,000,000 ids, weights 0.2 / 0.3 / 0.5 at coverage 0.5: each share within its binomial
    band around coverage * weight, and half the units are not enrolled."""
    n = 1_000_000
    variants = assign_many(make_unit_ids(n), "shares", [0.2, 0.3, 0.5], coverage=0.5)
    for variant, expected in [(-1, 0.5), (0, 0.1), (1, 0.15), (2, 0.25)]:
        share = np.mean(variants == variant)
        assert abs(share - expected) < band(expected, n)


def test_stratified_assignment_marginal_probability():
    """Every unit, in strata of size 1 to 17, lands in treatment with probability 0.7."""
    strata = np.repeat(["a", "b", "c", "d", "e"], [1, 2, 3, 7, 17])
    runs = 3000
    rng = np.random.default_rng(8)
    treated = np.zeros(strata.size)
    for _ in range(runs):
        treated += stratified_assignment(strata, weights=[0.3, 0.7], rng=rng)
    assert np.all(np.abs(treated / runs - 0.7) < band(0.7, runs))


def test_stratified_assignment_reduces_imbalance():
    """A covariate that differs between strata is far better balanced by blocking than by
    complete (Bernoulli) randomization: the variance of the difference in means drops."""
    rng = np.random.default_rng(21)
    strata = np.repeat(np.arange(10), 20)
    covariate = strata * 10.0 + rng.normal(0, 1, size=strata.size)
    blocked, bernoulli = [], []
    for _ in range(400):
        arm = stratified_assignment(strata, weights=[0.5, 0.5], rng=rng)
        blocked.append(covariate[arm == 1].mean() - covariate[arm == 0].mean())
        coin = rng.random(strata.size) < 0.5
        bernoulli.append(covariate[coin].mean() - covariate[~coin].mean())
    assert np.var(blocked) < 0.05 * np.var(bernoulli)


# --- properties -----------------------------------------------------------------------------


@given(
    ids=st.lists(ids_text, min_size=1, max_size=40),
    weights=weights_strategy,
    low=st.floats(0, 1),
    high=st.floats(0, 1),
    version=st.sampled_from([1, 2]),
)
def test_ramping_coverage_never_reshuffles(ids, weights, low, high, version):
    """GrowthBook's ranges start at the cumulative weight whatever the coverage, so a unit
    enrolled at coverage c1 keeps its variant at every c2 >= c1."""
    c1, c2 = sorted((low, high))
    before = assign_many(ids, "ramp", weights, coverage=c1, hash_version=version)
    after = assign_many(ids, "ramp", weights, coverage=c2, hash_version=version)
    enrolled = before >= 0
    assert (after[enrolled] == before[enrolled]).all()


def test_ramping_on_many_ids():
    """5% -> 20% -> 50% -> 100% on 200,000 ids: nobody enrolled earlier changes variant, and
    the enrolled shares grow as the coverage."""
    ids = make_unit_ids(200_000)
    previous = None
    for coverage in (0.05, 0.2, 0.5, 1.0):
        current = assign_many(ids, "ramp-up", [0.5, 0.5], coverage=coverage)
        assert abs(np.mean(current >= 0) - coverage) < band(coverage, len(ids)) + 1e-12
        if previous is not None:
            kept = previous >= 0
            assert (current[kept] == previous[kept]).all()
        previous = current


def test_changing_weights_reassigns_units():
    """GrowthBook FAQ: a unit with hash 0.49 is control at 50/50 and treatment at 40/60."""
    ids = make_unit_ids(2000)
    hashes = growthbook_hash("faq", ids)
    unit = ids[int(np.flatnonzero((hashes >= 0.4) & (hashes < 0.5))[0])]
    assert assign(unit, "faq", [0.5, 0.5]) == 0
    assert assign(unit, "faq", [0.4, 0.6]) == 1


def test_namespace_makes_experiments_mutually_exclusive():
    """Two experiments in one layer with ranges [0, 0.5) and [0.5, 1) share no unit and
    together cover everyone; an experiment in another layer overlaps both independently."""
    ids = make_unit_ids(100_000)
    left = assign_many(ids, "exp-left", [0.5, 0.5], namespace=("layer-1", 0, 0.5))
    right = assign_many(ids, "exp-right", [0.5, 0.5], namespace=("layer-1", 0.5, 1))
    assert not ((left >= 0) & (right >= 0)).any()
    assert ((left >= 0) | (right >= 0)).all()
    assert abs(np.mean(left >= 0) - 0.5) < band(0.5, len(ids))
    other = assign_many(ids, "exp-other", [0.5, 0.5], namespace=("layer-2", 0, 1))
    assert (other >= 0).all()
    assert independence_test(left, other).pvalue > 1e-3
    inside = in_namespace(ids, ("layer-1", 0, 0.5))
    assert (inside == (left >= 0)).all()


@given(
    sizes=st.lists(st.integers(1, 40), min_size=1, max_size=6),
    weights=weights_strategy,
    seed=st.integers(0, 2**16),
)
def test_stratified_counts_are_floor_or_ceil(sizes, weights, seed):
    """Within each stratum of m units, variant i gets floor(m w_i) or ceil(m w_i) units."""
    strata = np.repeat(np.arange(len(sizes)), sizes)
    arms = stratified_assignment(strata, weights=weights, rng=seed)
    assert arms.min() >= 0 and arms.max() < len(weights)
    for stratum, m in enumerate(sizes):
        counts = np.bincount(arms[strata == stratum], minlength=len(weights))
        target = m * np.array(weights)
        assert np.all(counts >= np.floor(target - 1e-9)) and np.all(counts <= np.ceil(target + 1e-9))


def test_stratified_assignment_is_seeded():
    strata = ["x", "y", "x", "z", "y", "x"]
    first = stratified_assignment(strata, weights=[0.5, 0.5], rng=4)
    assert first.tolist() == stratified_assignment(strata, weights=[0.5, 0.5], rng=4).tolist()


def test_assign_many_keeps_shape_and_accepts_arrays():
    ids = make_unit_ids(12)
    flat = assign_many(ids, "shape", [0.5, 0.5])
    grid = assign_many(np.array(ids).reshape(3, 4), "shape", [0.5, 0.5])
    assert grid.shape == (3, 4) and grid.ravel().tolist() == flat.tolist()
    assert grid.dtype == np.int64
    assert assign_many(tuple(ids), "shape", [0.5, 0.5]).tolist() == flat.tolist()


def test_make_unit_ids():
    assert make_unit_ids(3, prefix="u", start=9) == ["u9", "u10", "u11"]


def test_aa_test_constant_metric_gives_no_nan():
    res = aa_test(np.ones(10), [0, 1] * 5)
    assert res.statistic == 0 and res.pvalue == 1 and res.ci_low == res.ci_high == 0
    shifted = aa_test(np.r_[np.ones(5), 2 * np.ones(5)], [0] * 5 + [1] * 5)
    assert shifted.statistic == np.inf and shifted.pvalue == 0


# --- stable across processes ----------------------------------------------------------------


def test_assignment_is_stable_across_pythonhashseed():
    """Two interpreters with different PYTHONHASHSEED assign identically; the built-in
    hash() of the same strings differs between them (why abteach never uses it)."""
    script = (
        "import json; from abteach.assignment import assign, assign_many, make_unit_ids; "
        "ids = make_unit_ids(300); "
        "print(json.dumps({'many': assign_many(ids, 'exp', [0.5, 0.5]).tolist(), "
        "'one': [assign(u, 'exp', [0.2, 0.3, 0.5], hash_version=1) for u in ids[:50]], "
        "'builtin': [hash(u) for u in ids[:20]]}))"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for hash_seed in ("1", "2")
    ]
    outputs = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
        outputs.append(json.loads(stdout))
    assert outputs[0]["many"] == outputs[1]["many"]
    assert outputs[0]["one"] == outputs[1]["one"]
    assert outputs[0]["builtin"] != outputs[1]["builtin"]
    here = assign_many(make_unit_ids(300), "exp", [0.5, 0.5]).tolist()
    assert outputs[0]["many"] == here


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"weights": [0.6, -0.1, 0.5]}, ValueError, r"weights must be >= 0, got -0.1 \(at index 1\)"),
        ({"weights": [0.5, 0.4]}, ValueError, r"weights must sum to 1 \(within 1e-09\), got sum 0.9"),
        ({"weights": [1.0]}, ValueError, "weights must have at least 2 variants, got"),
        ({"weights": 1.0}, ValueError, "weights must be a 1-D sequence"),
        ({"weights": ["a", "b"]}, TypeError, "weights must be a number or an array"),
        ({"coverage": 1.2}, ValueError, r"coverage must be in \[0, 1\], got 1.2"),
        ({"coverage": -0.1}, ValueError, r"coverage must be in \[0, 1\], got -0.1"),
        ({"coverage": [0.5]}, ValueError, "coverage must be a single number"),
        ({"hash_version": 3}, ValueError, "hash_version must be 1 or 2, got 3"),
        ({"hash_version": "2"}, TypeError, "hash_version must be 1 or 2, got '2'"),
        ({"hash_version": True}, TypeError, "hash_version must be 1 or 2, got True"),
        ({"unit_id": ""}, ValueError, "unit_id must be a non-empty string, got ''"),
        ({"unit_id": 123}, TypeError, "unit_id must be a string, got 123"),
        ({"unit_id": b"u1"}, TypeError, "unit_id must be a string, got b'u1'"),
        ({"unit_id": None}, TypeError, "unit_id must be a string, got None"),
        ({"experiment_key": ""}, ValueError, "experiment_key must be a non-empty string"),
        ({"namespace": ("ns", 0.5)}, TypeError, r"namespace must be a tuple \(name, start, end\)"),
        ({"namespace": ("ns", 0.6, 0.5)}, ValueError, "namespace must have start < end"),
        ({"namespace": ("", 0, 1)}, ValueError, "namespace name must be a non-empty string"),
        ({"namespace": ("ns", 0, 2)}, ValueError, r"namespace end must be in \[0, 1\], got 2"),
    ],
)
def test_assign_bad_input(kwargs, error, message):
    args = {"unit_id": "u1", "experiment_key": "exp", "weights": [0.5, 0.5], **kwargs}
    with pytest.raises(error, match=message):
        assign(args.pop("unit_id"), args.pop("experiment_key"), args.pop("weights"), **args)


def test_weight_tolerance_is_1e_minus_9():
    assert bucket_ranges([0.5, 0.5 + 5e-10])[1][1] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="weights must sum to 1"):
        bucket_ranges([0.5, 0.5 + 5e-9])


@pytest.mark.parametrize(
    ("ids", "error", "message"),
    [
        (["u1", "", "u3"], ValueError, r"unit_ids must not contain empty strings, got '' \(at index 1\)"),
        (["u1", 7], TypeError, r"unit_ids\[1\] must be a string, got 7"),
        (["u1", None], TypeError, r"unit_ids\[1\] must be a string, got None"),
        ([b"u1"], TypeError, r"unit_ids\[0\] must be a string, got b'u1'"),
        ([], ValueError, "unit_ids must not be empty"),
        ("u1", TypeError, "unit_ids must be an array of strings, got 'u1'"),
        (42, TypeError, "unit_ids must be an array of strings, got 42"),
        ([["a", "b"], ["c"]], TypeError, r"unit_ids\[0\] must be a string, got \['a', 'b'\]"),
        (["ok", "\ud800"], ValueError, r"unit_ids\[1\] must be encodable as UTF-8"),
    ],
)
def test_assign_many_bad_ids(ids, error, message):
    with pytest.raises(error, match=message):
        assign_many(ids, "exp", [0.5, 0.5])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: fnv1a32(5), TypeError, "data must be a string or an array of strings, got 5"),
        (lambda: fnv1a32(["a", 1]), TypeError, r"data\[1\] must be a string, got 1"),
        (lambda: growthbook_hash(3, "a"), TypeError, "seed must be a string, got 3"),
        (lambda: growthbook_hash("s", ""), ValueError, "value must be a non-empty string"),
        (lambda: sha256_unit("u", ""), ValueError, "salt must be a non-empty string"),
        (lambda: choose_variation(1.5, EVEN), ValueError, r"value must be in \[0, 1\], got 1.5"),
        (lambda: choose_variation(0.5, [(0.6, 0.5)]), ValueError, "ranges must have start <= end"),
        (lambda: choose_variation(0.5, [0.5]), ValueError, "ranges must be a non-empty sequence"),
        (lambda: in_namespace("u", ["ns", 0, 1, 2]), TypeError, "namespace must be a tuple"),
        (lambda: bucket_uniformity(100, "k", n_buckets=50), ValueError,
         r"expected count per bucket must be >= 5 .* got 2"),
        (lambda: bucket_uniformity(10_000, "k", n_buckets=2000, hash_version=1), ValueError,
         "n_buckets must be at most 1000 for hash_version 1, got 2000"),
        (lambda: bucket_uniformity(1000, "k", n_buckets=1), ValueError, "n_buckets must be >= 2"),
        (lambda: bucket_uniformity(0, "k"), ValueError, "unit_ids must be >= 1"),
        (lambda: independence_test([0, 1], [0, 1, 1]), ValueError, "same shape"),
        (lambda: independence_test([0, 0, 1], [0, 1, 1]), None, None),
        (lambda: independence_test([0, 0, 0], [0, 1, 1]), ValueError, "at least 2 variants"),
        (lambda: independence_test([-1, -1], [0, 1]), ValueError, "no unit is enrolled in both"),
        (lambda: independence_test([0, 1.5], [0, 1]), ValueError,
         r"variants_a must hold variant indices >= -1 .* got 1.5"),
        (lambda: independence_test([0, -2], [0, 1]), ValueError, "variants_a must hold"),
        (lambda: stratified_assignment([], weights=[0.5, 0.5], rng=1), ValueError, "strata must be"),
        (lambda: stratified_assignment([1, None], weights=[0.5, 0.5], rng=1), TypeError,
         "strata must hold labels"),
        (lambda: stratified_assignment([1, 2], weights=[0.5, 0.6], rng=1), ValueError, "weights must sum"),
        (lambda: stratified_assignment([1, 2], weights=[0.5, 0.5], rng=None), TypeError, "rng must be"),
        (lambda: aa_test([1.0, 2, 3], [0, 1]), ValueError, "variants must have one entry per value"),
        (lambda: aa_test([1.0, 2, 3, 4], [0, 1, 2, 1]), ValueError, "variants must be 0, 1 or -1"),
        (lambda: aa_test([1.0, 2, 3, 4], [0, 1, 1, 1]), ValueError, "variants must give each arm"),
        (lambda: aa_test([1.0, np.nan], [0, 1]), ValueError, "values must be finite"),
        (lambda: aa_test([1.0, 2, 3, 4], [0, 0, 1, 1], weights=[1, 0]), ValueError, r"weights must be in \(0, 1\)"),
        (lambda: aa_test([1.0, 2, 3, 4], [0, 0, 1, 1], weights=[0.2, 0.3, 0.5]), ValueError,
         "weights must have exactly 2 variants"),
        (lambda: aa_test([1.0, 2, 3, 4], [0, 0, 1, 1], alpha=1), ValueError, r"alpha must be in \(0, 1\)"),
        (lambda: simulate_aa([1.0, 2, 3], n_runs=5, rng=1), ValueError, "values must be a 1-D array of at least 4"),
        (lambda: simulate_aa([1.0, 2, 3, 4, 5], n_runs=0, rng=1), ValueError, "n_runs must be >= 1"),
        (lambda: make_unit_ids(0), ValueError, "n must be >= 1"),
    ],
)
def test_other_bad_input(call, error, message):
    if error is None:
        call()
        return
    with pytest.raises(error, match=message):
        call()


ARGUMENT_NAMES = ("unit_id", "unit_ids", "experiment_key", "weights", "coverage", "hash_version", "namespace")
anything = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(), st.text(max_size=4),
    st.binary(max_size=3), st.lists(st.floats(-1, 2), max_size=4),
    st.lists(st.text(max_size=3), max_size=3),
)


@settings(max_examples=300)
@given(
    unit=st.one_of(ids_text, anything),
    key=st.one_of(st.text(max_size=4), anything),
    weights=st.one_of(weights_strategy, anything),
    coverage=st.one_of(st.floats(0, 1), anything),
    version=st.one_of(st.sampled_from([1, 2]), anything),
    namespace=st.one_of(st.none(), st.tuples(st.text(max_size=2), st.floats(), st.floats()), anything),
)
def test_fuzz_assign(unit, key, weights, coverage, version, namespace):
    """Random arguments: either a valid variant (or None) or a ValueError/TypeError naming
    the argument; assign_many behaves the same on a one-id list."""
    kwargs = {"coverage": coverage, "hash_version": version, "namespace": namespace}
    try:
        result = assign(unit, key, weights, **kwargs)
    except (ValueError, TypeError) as exc:
        assert any(name in str(exc) for name in ARGUMENT_NAMES), str(exc)
    else:
        assert result is None or 0 <= result < len(weights)
        assert assign_many([unit], key, weights, **kwargs).tolist() == [-1 if result is None else result]


@given(
    values=st.one_of(st.lists(st.floats(), min_size=0, max_size=12), anything),
    variants=st.one_of(st.lists(st.integers(-2, 2), min_size=0, max_size=12), anything),
    alpha=st.one_of(st.floats(0.001, 0.5), anything),
)
def test_fuzz_aa_test(values, variants, alpha):
    try:
        res = aa_test(values, variants, alpha=alpha)
    except (ValueError, TypeError) as exc:
        assert any(name in str(exc) for name in ("values", "variants", "alpha")), str(exc)
    else:
        for field in ("statistic", "pvalue", "df", "effect", "ci_low", "ci_high", "srm_pvalue"):
            assert not np.isnan(getattr(res, field)), field
        assert 0 <= res.pvalue <= 1


@given(
    a=st.one_of(st.lists(st.integers(-2, 3), min_size=0, max_size=15), anything),
    b=st.one_of(st.lists(st.integers(-2, 3), min_size=0, max_size=15), anything),
)
def test_fuzz_independence_test(a, b):
    try:
        res = independence_test(a, b)
    except (ValueError, TypeError) as exc:
        assert "variants_a" in str(exc) or "variants_b" in str(exc), str(exc)
    else:
        assert not np.isnan(res.statistic) and 0 <= res.pvalue <= 1


@given(
    strata=st.one_of(st.lists(st.integers(0, 3), min_size=0, max_size=15), anything),
    weights=st.one_of(weights_strategy, anything),
    rng=st.one_of(st.integers(0, 100), anything),
)
def test_fuzz_stratified_assignment(strata, weights, rng):
    try:
        arms = stratified_assignment(strata, weights=weights, rng=rng)
    except (ValueError, TypeError) as exc:
        assert any(name in str(exc) for name in ("strata", "weights", "rng")), str(exc)
    else:
        assert arms.shape == (len(strata),) and arms.min() >= 0 and arms.max() < len(weights)


# --- huge, tiny and runaway input (issue 10) --------------------------------------------------


@pytest.mark.parametrize("scale", [1e290, 1e-290, 2.0**1000, 3.0])
def test_aa_test_is_unit_free_for_huge_and_tiny_metrics(scale):
    """Welch's t, p-value and df do not depend on the metric's unit, the effect and the means
    scale with it. Reference: scipy.stats.ttest_ind(equal_var=False) on the unscaled data.
    (Before: one huge value gave all-NaN statistics, a tiny metric a variance of 0.)"""
    rng = np.random.default_rng(7)
    values = rng.lognormal(size=400)
    variants = (rng.random(400) < 0.5).astype(int)
    res = aa_test(values * scale, variants)
    treated, control = values[variants == 1], values[variants == 0]
    ref = stats.ttest_ind(treated, control, equal_var=False)
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-9)
    assert res.pvalue == pytest.approx(ref.pvalue, rel=1e-9)
    assert res.df == pytest.approx(ref.df, rel=1e-9)
    assert res.effect == pytest.approx(scale * (treated.mean() - control.mean()), rel=1e-9)
    assert res.mean_control == pytest.approx(scale * control.mean(), rel=1e-12)
    assert res.ci_low < res.effect < res.ci_high


def test_aa_test_with_one_huge_value():
    """The case of issue 10: nine small values and 1e300. The t statistic equals scipy's on the
    same data divided by 1e300 (t does not depend on the unit)."""
    values = np.r_[np.arange(9.0), 1e300]
    variants = np.tile([0, 1], 5)
    res = aa_test(values, variants)
    small = values / 1e300
    ref = stats.ttest_ind(small[1::2], small[::2], equal_var=False)
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-9)
    assert res.pvalue == pytest.approx(ref.pvalue, rel=1e-9)
    assert res.mean_treatment == pytest.approx(values[1::2].mean(), rel=1e-12)
    assert all(np.isfinite(v) for v in res.to_dict().values() if isinstance(v, float))


def test_simulate_aa_does_not_depend_on_the_unit():
    """A power-of-two change of unit is exact: the same seed gives the same p-values to the bit,
    with or without a huge value."""
    values = np.r_[np.random.default_rng(2).normal(size=99), 50.0]
    base = simulate_aa(values, n_runs=200, rng=11)
    huge = simulate_aa(values * 2.0**1000, n_runs=200, rng=11)
    np.testing.assert_array_equal(base.pvalue, huge.pvalue)
    np.testing.assert_array_equal(base.effect * 2.0**1000, huge.effect)
    assert np.isfinite(huge.pvalue).all() and np.isfinite(huge.ci_high).all()


def test_aa_interval_that_overflows_is_refused():
    values = np.r_[np.full(9, 1.7e308), -1.7e308]
    with pytest.raises(ValueError, match="values are too large for floating point"):
        aa_test(values, np.tile([0, 1], 5))


def test_blocks_give_the_statistics_of_one_pass(monkeypatch):
    """aa_test and simulate_aa analyze the splits in blocks of units x runs; tiny blocks give
    the statistics of one block (same draws, sums in another order)."""
    from abteach.assignment import aa

    values = np.random.default_rng(3).lognormal(size=50)
    variants = (np.random.default_rng(4).random((30, 50)) < 0.5).astype(int)
    whole_sim, whole_aa = simulate_aa(values, n_runs=30, rng=5), aa_test(values, variants)
    monkeypatch.setattr(aa, "_BLOCK_CELLS", 120)  # 2 rows per block, the last one shorter
    assert aa._block_sizes(30, 50)[:2] == [2, 2] and sum(aa._block_sizes(31, 50)) == 31
    parts_sim, parts_aa = simulate_aa(values, n_runs=30, rng=5), aa_test(values, variants)
    for whole, parts in ((whole_sim, parts_sim), (whole_aa, parts_aa)):
        for field in ("statistic", "pvalue", "df", "effect", "ci_low", "n_control"):
            np.testing.assert_allclose(getattr(parts, field), getattr(whole, field), rtol=1e-12)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: simulate_aa(np.arange(100.0), n_runs=10**9, rng=1), ValueError,
         r"n_runs \* len\(values\)"),
        (lambda: make_unit_ids(10**12), ValueError, "n must be <= 10,000,000"),
        (lambda: bucket_uniformity(10**12, "k"), ValueError, "unit_ids must be <= 10,000,000"),
        (lambda: in_namespace(5, ("ns", 0, 0.5)), TypeError, "unit_id must be a string"),
        (lambda: in_namespace(["a", ""], ("ns", 0, 0.5)), ValueError, "unit_id must not contain"),
        (lambda: stratified_assignment([[1, 2], [3]], weights=[0.5, 0.5], rng=1), TypeError,
         "strata must be a 1-D array"),
        (lambda: independence_test(np.arange(10**5), np.arange(10**5)), ValueError,
         "variants of variants_a x variants of variants_b"),
        (lambda: stratified_assignment(np.zeros(10**5), weights=np.full(10**4, 1e-4), rng=1),
         ValueError, r"len\(strata\) \* len\(weights\)"),
        (lambda: assign_many(make_unit_ids(10**5), "k", np.full(10**4, 1e-4)), ValueError,
         r"len\(unit_ids\) \* len\(weights\)"),
    ],
)
def test_runaway_and_misnamed_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


hashable_ids = st.one_of(ids_text, st.lists(ids_text, min_size=1, max_size=5), anything)


@settings(max_examples=200)
@given(seed=st.one_of(st.text(max_size=3), anything), value=hashable_ids,
       version=st.one_of(st.sampled_from([1, 2]), anything),
       namespace=st.one_of(st.tuples(st.text(max_size=2), st.floats(), st.floats()), anything))
def test_fuzz_hashes(seed, value, version, namespace):
    """fnv1a32, sha256_unit, growthbook_hash and in_namespace: a hash in range or a named error."""
    calls = [
        (lambda: fnv1a32(value), ("data",)),
        (lambda: sha256_unit(value, seed), ("unit_id", "salt")),
        (lambda: growthbook_hash(seed, value, version), ("seed", "value", "hash_version")),
        (lambda: in_namespace(value, namespace), ("unit_id", "namespace")),
    ]
    for call, names in calls:
        try:
            out = np.asarray(call(), dtype=float)
        except (ValueError, TypeError) as exc:
            assert any(name in str(exc) for name in names), str(exc)
        else:
            assert np.isfinite(out).all() and (out >= 0).all()


@settings(max_examples=200)
@given(weights=st.one_of(weights_strategy, anything), coverage=st.one_of(st.floats(0, 1), anything),
       value=st.one_of(st.floats(0, 1), st.lists(st.floats(), max_size=3), anything))
def test_fuzz_bucket_ranges_and_choose_variation(weights, coverage, value):
    try:
        ranges = bucket_ranges(weights, coverage=coverage)
    except (ValueError, TypeError) as exc:
        assert "weights" in str(exc) or "coverage" in str(exc), str(exc)
        return
    assert len(ranges) == len(weights)
    try:
        chosen = choose_variation(value, ranges)
    except (ValueError, TypeError) as exc:
        assert "value" in str(exc), str(exc)
    else:
        assert chosen is None or (np.asarray(chosen) >= -1).all()


@settings(max_examples=100)
@given(n=st.one_of(st.integers(-5, 50), st.integers(10**8, 10**20), anything),
       prefix=st.one_of(st.text(max_size=3), anything), start=st.one_of(st.integers(0, 10), anything),
       key=st.one_of(st.text(min_size=1, max_size=3), anything),
       n_buckets=st.one_of(st.integers(-2, 20), anything))
def test_fuzz_make_unit_ids_and_bucket_uniformity(n, prefix, start, key, n_buckets):
    try:
        ids = make_unit_ids(n, prefix=prefix, start=start)
    except (ValueError, TypeError) as exc:
        assert any(name in str(exc) for name in ("n ", "prefix", "start")), str(exc)
    else:
        assert len(ids) == n
    try:
        res = bucket_uniformity(n, key, n_buckets=n_buckets)
    except (ValueError, TypeError) as exc:
        assert any(name in str(exc) for name in ("unit_ids", "experiment_key", "n_buckets",
                                                 "expected count")), str(exc)
    else:
        assert 0 <= res.pvalue <= 1


@settings(max_examples=100)
@given(values=st.one_of(st.lists(st.floats(), min_size=0, max_size=12), anything),
       n_runs=st.one_of(st.integers(-2, 20), st.integers(10**9, 10**12), anything),
       alpha=st.one_of(st.floats(0.001, 0.5), anything), rng=st.one_of(st.integers(0, 9), anything))
def test_fuzz_simulate_aa(values, n_runs, alpha, rng):
    try:
        res = simulate_aa(values, n_runs=n_runs, alpha=alpha, rng=rng)
    except (ValueError, TypeError) as exc:
        assert any(name in str(exc) for name in ("values", "n_runs", "alpha", "rng")), str(exc)
    else:
        assert not np.isnan(res.pvalue).any() and not np.isnan(res.ci_low).any()


# --- records --------------------------------------------------------------------------------


def test_records_repr_and_explain():
    uni = bucket_uniformity(20_000, "records", n_buckets=20)
    assert isinstance(uni, UniformityTest)
    assert "statistic=" in repr(uni) and "counts=[" not in repr(uni)
    text = uni.explain()
    assert f"{uni.statistic:.6g}" in text and "df = n_buckets - 1 = 19" in text

    many = bucket_uniformity(np.array(make_unit_ids(4000)).reshape(2, 2000), "records", n_buckets=10)
    assert "2 tests" in many.explain()

    ids = make_unit_ids(5000)
    ind = independence_test(assign_many(ids, "r1", [0.5, 0.5]), assign_many(ids, "r2", [0.5, 0.5]))
    assert isinstance(ind, IndependenceTest)
    assert f"{ind.statistic:.6g}" in ind.explain() and "n = 5000" in ind.explain()

    values = np.random.default_rng(1).normal(size=200)
    aa = aa_test(values, np.tile([0, 1], 100))
    assert isinstance(aa, AATest)
    assert "pvalue=" in repr(aa) and f"{aa.pvalue:.4g}" in aa.explain()
    assert "sample ratio as designed" in aa.explain()
    sim = simulate_aa(values, n_runs=50, rng=3)
    assert sim.pvalue.shape == (50,) and "50 A/A runs" in sim.explain()
