"""Answer key of chapter 3, Randomized assignment (``solutions/03_assignment.ipynb``).

Every expected value is computed with abteach when first needed; typical wrong answers are
recomputed the same way so that each gets its own hint. Two answers are judged by a function
(:class:`abteach.course.check.Predicate`) because the mistake is visible only in the answer's form: an
FNV-1a hash that was never reduced modulo 2**32, or a list of variants where ``None`` (not in
the experiment) stands in the wrong places.
"""

from __future__ import annotations

import numbers

import numpy as np

import abteach as abt
from abteach.course.check import Boolean, Choice, Exercise, Number, Predicate

# 03.1: FNV-1a 32-bit of this id, implemented by the learner.
FNV_ID = "user-42"
FNV_OFFSET_BASIS, FNV_PRIME = 0x811C9DC5, 0x01000193

# 03.2: GrowthBook hash version 2, seed = experiment key.
HASH_SEED, HASH_ID = "summer-sale", "user-1234"

# 03.3: three variants, 60% coverage, hash version 2, eight users.
PRICING_KEY = "pricing-page"
PRICING_WEIGHTS = (0.25, 0.25, 0.5)
PRICING_COVERAGE = 0.6
PRICING_USERS = tuple(f"u-{i}" for i in range(1, 9))

# 03.4 and 03.5: 100,000 sequential ids ("user-0", ...), hash version 2.
N_IDS = 100_000
TOUR_KEY, WEIGHTS_BEFORE, WEIGHTS_AFTER = "onboarding-tour", (0.5, 0.5), (0.3, 0.7)
RAMP_KEY, COVERAGE_BEFORE, COVERAGE_AFTER = "search-suggestions", 0.1, 0.5


# --- 03.1 ------------------------------------------------------------------------------------


def _fnv(data: bytes, *, basis: int = FNV_OFFSET_BASIS, xor_first: bool = True,
         modulus: int | None = 2**32) -> int:
    """FNV-1a (or, with ``xor_first=False``, FNV-1) with the typical slips as options."""
    h = basis
    for byte in data:
        h = (h ^ byte) * FNV_PRIME if xor_first else (h * FNV_PRIME) ^ byte
        if modulus is not None:
            h %= modulus
    return h


def _judge_fnv(answer) -> str | None:
    if isinstance(answer, str):
        return ("store the hash as an integer, not as text (int('811c9dc5', 16) converts a hex "
                "string).")
    if isinstance(answer, (bool, np.bool_)) or not isinstance(answer, numbers.Integral):
        return f"store the hash as a Python int (0 <= h < 2**32), got {type(answer).__name__}."
    value = int(answer)
    data = FNV_ID.encode("utf-8")
    if value == abt.fnv1a32(FNV_ID):
        return None
    if not 0 <= value < 2**32:
        return ("your hash does not fit in 32 bits: reduce modulo 2**32 after every "
                "multiplication, h = ((h ^ byte) * 16777619) % 2**32.")
    if value == _fnv(data, xor_first=False):
        return ("that is FNV-1, which multiplies first and xors the byte second; FNV-1a xors "
                "the byte FIRST, then multiplies by the prime.")
    if value == _fnv(data, basis=0):
        return "start from the offset basis 0x811C9DC5 (2166136261), not from 0."
    if value == abt.fnv1a32(FNV_ID.removeprefix("user-")):
        return "hash the whole id 'user-42', not only the number 42."
    return ("check your function on Noll's test vectors first: 'a' must give 0xE40C292C and "
            "'foobar' 0xBF9CF968; hash the UTF-8 bytes of 'user-42'.")


# --- 03.2 ------------------------------------------------------------------------------------


def _hash_v2() -> float:
    return abt.growthbook_hash(HASH_SEED, HASH_ID, 2)


# --- 03.3 ------------------------------------------------------------------------------------


def _pricing(version: int = 2) -> list[int | None]:
    return [
        abt.assign(user, PRICING_KEY, PRICING_WEIGHTS, coverage=PRICING_COVERAGE,
                   hash_version=version)
        for user in PRICING_USERS
    ]


def _pricing_global_coverage() -> list[int | None]:
    """The misreading "coverage keeps the hash values below 0.6, split by the weights"."""
    full = abt.bucket_ranges(PRICING_WEIGHTS)
    values = [abt.growthbook_hash(PRICING_KEY, user, 2) for user in PRICING_USERS]
    return [
        abt.choose_variation(n / PRICING_COVERAGE, full) if n < PRICING_COVERAGE else None
        for n in values
    ]


def _as_variant(item):
    """A learner's entry as an int variant or None (-1 also means "not in the experiment")."""
    if item is None:
        return None
    if isinstance(item, (bool, np.bool_)) or not isinstance(item, numbers.Integral):
        raise TypeError(item)
    return None if int(item) == -1 else int(item)


def _range_text(ranges, index: int) -> str:
    start, end = ranges[index]
    return f"[{start:.2f}, {end:.2f})"


def _judge_pricing(answer) -> str | None:
    count = len(PRICING_USERS)
    if isinstance(answer, (str, bytes)) or not hasattr(answer, "__len__"):
        return f"store a list of {count} entries, one per user: a variant index or None."
    entries = list(answer)
    if len(entries) != count:
        return f"store {count} entries, one per user in the order given; got {len(entries)}."
    try:
        given = [_as_variant(item) for item in entries]
    except TypeError as bad:
        return (f"every entry must be a variant index (0, 1, 2) or None, got {bad.args[0]!r}; "
                "abt.assign returns exactly that.")
    expected = _pricing()
    if given == expected:
        return None
    if given == _pricing_global_coverage():
        return ("coverage is applied inside each variant's slot, not to [0, 1) as a whole: "
                "variant i keeps [s_i, s_i + 0.6 w_i), see abt.bucket_ranges(weights, "
                "coverage=0.6).")
    if given == _pricing(version=1):
        return "those are hash version 1 assignments; use hash_version=2 (abteach's default)."
    ranges = abt.bucket_ranges(PRICING_WEIGHTS, coverage=PRICING_COVERAGE)
    index = next(i for i, (g, e) in enumerate(zip(given, expected)) if g != e)
    user, mine, right = PRICING_USERS[index], given[index], expected[index]
    n = abt.growthbook_hash(PRICING_KEY, user, 2)
    where = f"{user} has hash value n = {n:.4f}"
    if right is None:
        gaps = ", ".join(_range_text(ranges, i) for i in range(len(ranges)))
        return (f"{where}, which lies in none of the ranges {gaps}: with 60% coverage each "
                f"variant keeps only the first 60% of its slot, so {user} is NOT in the "
                f"experiment. Store None for it, not {mine}.")
    if mine is None:
        return (f"you stored None for {user}, but {where}, inside variant {right}'s range "
                f"{_range_text(ranges, right)}: {user} IS in the experiment, in variant {right}.")
    return (f"{where}, inside variant {right}'s range {_range_text(ranges, right)}, not variant "
            f"{mine}'s. Is the experiment key the seed (hash of key + id, in that order)?")


# --- 03.4 and 03.5 ---------------------------------------------------------------------------


def _ids() -> list[str]:
    return abt.make_unit_ids(N_IDS)


def _switched() -> int:
    ids = _ids()
    before = abt.assign_many(ids, TOUR_KEY, WEIGHTS_BEFORE)
    after = abt.assign_many(ids, TOUR_KEY, WEIGHTS_AFTER)
    return int(np.count_nonzero(before != after))


def _treatment_after() -> int:
    return int(np.count_nonzero(abt.assign_many(_ids(), TOUR_KEY, WEIGHTS_AFTER) == 1))


def _ramp_moves_someone() -> bool:
    ids = _ids()
    before = abt.assign_many(ids, RAMP_KEY, [0.5, 0.5], coverage=COVERAGE_BEFORE)
    after = abt.assign_many(ids, RAMP_KEY, [0.5, 0.5], coverage=COVERAGE_AFTER)
    enrolled = before >= 0
    return bool(np.any(after[enrolled] != before[enrolled]))


EXERCISES = (
    Exercise("03.1", "fnv_user_42", Predicate(_judge_fnv)),
    Exercise(
        "03.2",
        "hash_value",
        Number(
            _hash_v2,
            rtol=0.0,
            atol=1e-9,
            hint="Version 2: h1 = fnv1a32(seed + id) with seed = 'summer-sale', then "
            "h2 = fnv1a32(str(h1)) (the DECIMAL digits of h1), and n = (h2 % 10000) / 10000.",
            mistakes=[
                (lambda: abt.growthbook_hash(HASH_SEED, HASH_ID, 1), "That is hash version 1, "
                 "(fnv1a32(id + seed) % 1000) / 1000; the question asks for version 2."),
                (lambda: abt.growthbook_hash(HASH_ID, HASH_SEED, 2), "You hashed id + seed; "
                 "version 2 hashes the seed FIRST: fnv1a32('summer-sale' + 'user-1234')."),
                (lambda: abt.fnv1a32(HASH_SEED + HASH_ID) % 10000 / 10000, "That is one round "
                 "of hashing; version 2 hashes again the decimal string of the first hash: "
                 "fnv1a32(str(fnv1a32(seed + id)))."),
                (lambda: 10000 * _hash_v2(), "That is the level k (0 to 9999); divide by 10000 "
                 "to get the hash value in [0, 1)."),
            ],
        ),
    ),
    Exercise("03.3", "pricing_variants", Predicate(_judge_pricing)),
    Exercise(
        "03.4",
        "n_switched",
        Number(
            _switched,
            rtol=0.0,
            atol=0.5,
            hint="Assign the 100,000 ids with abt.assign_many under both weightings (same key, "
            "hash version 2) and count the ids whose variant differs.",
            mistakes=[
                (lambda: 0.2 * N_IDS, "20,000 is what to EXPECT (the hash values in "
                 "[0.3, 0.5) move from control to treatment); the question asks for the actual "
                 "count with abt.assign_many."),
                (lambda: _switched() / N_IDS, "That is the share of ids; give the number of "
                 "users."),
                (_treatment_after, "That is the size of the treatment group after the change; "
                 "count only the users whose variant changed."),
            ],
        ),
    ),
    Exercise(
        "03.5",
        "ramp_reshuffles",
        Boolean(
            _ramp_moves_someone,
            hint="Raising the coverage lengthens every variant's range to the right without "
            "moving its start, so every user enrolled at 10% keeps the same variant at 50%. "
            "Check it: compare abt.assign_many at coverage=0.1 and coverage=0.5 on the units "
            "enrolled at 0.1.",
        ),
    ),
    Exercise(
        "03.6",
        "why_not_builtin_hash",
        Choice(
            "b",
            options=("a", "b", "c", "d"),
            hints={
                "a": "Speed is not the problem: hash() of a short string takes well under a "
                "microsecond. Run it in two processes and compare.",
                "c": "Negative numbers are easy to map to buckets (h % 1000 is never negative "
                "in Python); the problem is that the number changes between processes.",
                "d": "hash() is not cryptographic, and its values are well spread; the problem "
                "is that it is salted with a random key in every new process (PYTHONHASHSEED).",
            },
        ),
    ),
    Exercise(
        "03.7",
        "after_failed_aa",
        Choice(
            "c",
            options=("a", "b", "c", "d"),
            hints={
                "a": "Moving units by hand destroys the randomization: the split is no longer "
                "independent of anything, and the error rates no longer hold.",
                "b": "The sample ratio is fine (p = 0.62) and one A/A in a hundred reaches "
                "p <= 0.01 by chance; that is no evidence that the hash function is broken.",
                "d": "Subtracting the pre-period difference (a difference in differences) adds "
                "the pre-period noise to the estimate; re-randomize before launch, and use the "
                "pre-period metric as a covariate (CUPED), which weights it optimally.",
            },
        ),
    ),
)
