"""Answer key of chapter 3, Randomized assignment (``solutions/03_assignment.ipynb``).

Every expected value is computed with abteach when first needed; typical wrong answers are
recomputed the same way so that each gets its own hint. Two answers are judged by a function
(:class:`abteach.course.check.Predicate`) because the mistake is visible only in the answer's form: an
FNV-1a hash that was never reduced modulo 2**32, or a list of variants where ``None`` (not in
the experiment) stands in the wrong places. Class editions draw other ids, experiment keys,
weights and coverages (see :mod:`abteach.course.editions`).
"""

from __future__ import annotations

import numbers
from functools import cache

import numpy as np

import abteach as abt
from abteach.course.check import Boolean, Choice, Exercise, Number, Predicate
from abteach.course.editions import Substitution, percent

# The inputs of the public edition (class editions draw their own, see draw_inputs).
PUBLIC_INPUTS = {
    # 03.1: the id whose FNV-1a 32-bit hash the learner computes with their own function.
    "03.1": {"id": "user-42"},
    # 03.2: GrowthBook hash version 2 of this id, with the experiment key as the seed.
    "03.2": {"seed": "summer-sale", "id": "user-1234"},
    # 03.3: three variants with a coverage below 100%, hash version 2, the users u-1 to u-8.
    "03.3": {"key": "pricing-page", "weights": (0.25, 0.25, 0.5), "coverage": 0.6},
    # 03.4: weights changed from 50/50 to these, hash version 2, the N_IDS ids of make_unit_ids.
    "03.4": {"key": "onboarding-tour", "after": (0.3, 0.7)},
    # 03.5: a 50/50 experiment whose coverage is raised from `before` to `after`.
    "03.5": {"key": "search-suggestions", "before": 0.1, "after": 0.5},
}
FNV_OFFSET_BASIS, FNV_PRIME = 0x811C9DC5, 0x01000193
PRICING_USERS = tuple(f"u-{i}" for i in range(1, 9))
N_IDS = 100_000

# What an edition draws from: experiment keys, and for 03.3 and 03.4 weights and coverages.
EDITION_KEYS = ("spring-sale", "free-shipping", "new-checkout", "gift-cards", "loyalty-points",
                "dark-mode", "quick-reorder", "price-anchor", "bundle-offer", "hero-banner",
                "one-click-pay", "wishlist-reminder")
EDITION_WEIGHTS = ((0.2, 0.4, 0.4), (0.3, 0.3, 0.4), (0.5, 0.25, 0.25), (0.4, 0.4, 0.2),
                   (0.2, 0.3, 0.5), (0.25, 0.25, 0.5))
EDITION_COVERAGES = (0.4, 0.5, 0.6, 0.7, 0.8)
# the control's share after the change (below 50%, never the public 30%)
EDITION_AFTER = ((0.1, 0.9), (0.2, 0.8), (0.25, 0.75), (0.35, 0.65), (0.4, 0.6))


def draw_inputs(group: str, rng) -> dict:
    """A class edition's inputs of ``group`` (see :mod:`abteach.course.editions`)."""
    def key() -> str:
        return str(rng.choice(EDITION_KEYS))

    if group == "03.1":
        number = int(rng.integers(100, 100_000))
        return {"id": f"user-{number}"}
    if group == "03.2":
        return {"seed": key(), "id": f"user-{int(rng.integers(1_000, 10_000))}"}
    if group == "03.3":
        # drawn again until the list is varied (someone out, two variants in) and every whole-
        # list mistake gives another list, so that each keeps its own hint
        while True:
            g = {"key": key(), "weights": EDITION_WEIGHTS[int(rng.integers(len(EDITION_WEIGHTS)))],
                 "coverage": float(rng.choice(EDITION_COVERAGES))}
            right = _pricing(g)
            others = [_pricing(PUBLIC_INPUTS["03.3"]), _pricing_global_coverage(g), _pricing(g, version=1)]
            if None in right and len({v for v in right if v is not None}) >= 2 and right not in others:
                return g
    if group == "03.4":
        return {"key": key(), "after": EDITION_AFTER[int(rng.integers(len(EDITION_AFTER)))]}
    if group == "03.5":
        return {"key": key(), "before": float(rng.choice([0.05, 0.2, 0.25])),
                "after": float(rng.choice([0.3, 0.4, 0.75, 1.0]))}
    raise ValueError(f"group must be one of {sorted(PUBLIC_INPUTS)}, got {group!r}")


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


def _judge_fnv(unit: str):
    """The judge of exercise 03.1 for the id ``unit``."""
    data = unit.encode("utf-8")

    def judge(answer) -> str | None:
        if isinstance(answer, str):
            return ("store the hash as an integer, not as text (int('811c9dc5', 16) converts a "
                    "hex string).")
        if isinstance(answer, (bool, np.bool_)) or not isinstance(answer, numbers.Integral):
            return f"store the hash as a Python int (0 <= h < 2**32), got {type(answer).__name__}."
        value = int(answer)
        if value == abt.fnv1a32(unit):
            return None
        if not 0 <= value < 2**32:
            return ("your hash does not fit in 32 bits: reduce modulo 2**32 after every "
                    "multiplication, h = ((h ^ byte) * 16777619) % 2**32.")
        if value == _fnv(data, xor_first=False):
            return ("that is FNV-1, which multiplies first and xors the byte second; FNV-1a xors "
                    "the byte FIRST, then multiplies by the prime.")
        if value == _fnv(data, basis=0):
            return "start from the offset basis 0x811C9DC5 (2166136261), not from 0."
        if value == abt.fnv1a32(unit.removeprefix("user-")):
            return f"hash the whole id {unit!r}, not only the number {unit.removeprefix('user-')}."
        return ("check your function on Noll's test vectors first: 'a' must give 0xE40C292C and "
                f"'foobar' 0xBF9CF968; hash the UTF-8 bytes of {unit!r}.")

    return judge


# --- 03.3 ------------------------------------------------------------------------------------


def _pricing(g: dict, version: int = 2) -> list[int | None]:
    return [abt.assign(user, g["key"], g["weights"], coverage=g["coverage"], hash_version=version)
            for user in PRICING_USERS]


def _pricing_global_coverage(g: dict) -> list[int | None]:
    """The misreading "coverage keeps the hash values below c, split by the weights"."""
    full = abt.bucket_ranges(g["weights"])
    values = [abt.growthbook_hash(g["key"], user, 2) for user in PRICING_USERS]
    return [abt.choose_variation(n / g["coverage"], full) if n < g["coverage"] else None
            for n in values]


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


def _judge_pricing(g: dict):
    """The judge of exercise 03.3 for the experiment ``g`` (key, weights, coverage)."""
    coverage = g["coverage"]

    def judge(answer) -> str | None:
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
        expected = _pricing(g)
        if given == expected:
            return None
        if given == _pricing_global_coverage(g):
            return (f"coverage is applied inside each variant's slot, not to [0, 1) as a whole: "
                    f"variant i keeps [s_i, s_i + {coverage:g} w_i), see abt.bucket_ranges(weights, "
                    f"coverage={coverage:g}).")
        if given == _pricing(g, version=1):
            return "those are hash version 1 assignments; use hash_version=2 (abteach's default)."
        ranges = abt.bucket_ranges(g["weights"], coverage=coverage)
        index = next(i for i, (a, b) in enumerate(zip(given, expected)) if a != b)
        user, mine, right = PRICING_USERS[index], given[index], expected[index]
        where = f"{user} has hash value n = {abt.growthbook_hash(g['key'], user, 2):.4f}"
        if right is None:
            gaps = ", ".join(_range_text(ranges, i) for i in range(len(ranges)))
            return (f"{where}, which lies in none of the ranges {gaps}: with {percent(coverage)} "
                    f"coverage each variant keeps only the first {percent(coverage)} of its slot, "
                    f"so {user} is NOT in the experiment. Store None for it, not {mine}.")
        if mine is None:
            return (f"you stored None for {user}, but {where}, inside variant {right}'s range "
                    f"{_range_text(ranges, right)}: {user} IS in the experiment, in variant {right}.")
        return (f"{where}, inside variant {right}'s range {_range_text(ranges, right)}, not variant "
                f"{mine}'s. Is the experiment key the seed (hash of key + id, in that order)?")

    return judge


# --- 03.4 and 03.5 ---------------------------------------------------------------------------


@cache
def _variants(key: str, weights: tuple, coverage: float = 1.0) -> np.ndarray:
    """Variants of the N_IDS ids of ``abt.make_unit_ids`` (-1: not in the experiment)."""
    return abt.assign_many(abt.make_unit_ids(N_IDS), key, list(weights), coverage=coverage)


def _switched(g: dict) -> int:
    return int(np.count_nonzero(_variants(g["key"], (0.5, 0.5)) != _variants(g["key"], g["after"])))


def _treatment_after(g: dict) -> int:
    return int(np.count_nonzero(_variants(g["key"], g["after"]) == 1))


def _ramp_moves_someone(g: dict) -> bool:
    before = _variants(g["key"], (0.5, 0.5), g["before"])
    after = _variants(g["key"], (0.5, 0.5), g["after"])
    enrolled = before >= 0
    return bool(np.any(after[enrolled] != before[enrolled]))


# --- the text of the exercise notebook -------------------------------------------------------


def _pricing_text(i) -> str:
    g = i["03.3"]
    weights = " / ".join(percent(w) for w in g["weights"])
    return (f'The experiment `"{g["key"]}"` has three variants with weights {weights} and a '
            f"coverage of\n{percent(g['coverage'])}")


def _tour_text(i) -> str:
    g = i["03.4"]
    control, treatment = g["after"]
    return (f'The experiment `"{g["key"]}"` started with weights 50/50 (coverage 100%, hash '
            f"version 2).\nHalfway through, someone changes the weights to "
            f"{100 * control:g}/{100 * treatment:g}.")


def _ramp_text(i) -> str:
    g = i["03.5"]
    before, after = percent(g["before"]), percent(g["after"])
    return (f'The experiment `"{g["key"]}"` (50/50, hash version 2) runs at a coverage of {before} '
            f"and is then\nraised to {after}. True or False: some of the users who were in the "
            f"experiment at {before} are in a\ndifferent variant at {after}.")


SUBSTITUTIONS = (
    Substitution('of `"user-42"` in', lambda i: f'of `"{i["03.1"]["id"]}"` in'),
    Substitution('`"user-1234"` in the experiment whose key (the seed) is `"summer-sale"`',
                 lambda i: f'`"{i["03.2"]["id"]}"` in the experiment whose key (the seed) is '
                           f'`"{i["03.2"]["seed"]}"`'),
    Substitution(_pricing_text(PUBLIC_INPUTS), _pricing_text),
    Substitution("weights, coverage = [0.25, 0.25, 0.5], 0.6",
                 lambda i: f"weights, coverage = {list(i['03.3']['weights'])}, {i['03.3']['coverage']}"),
    Substitution(_tour_text(PUBLIC_INPUTS), _tour_text),
    Substitution(_ramp_text(PUBLIC_INPUTS), _ramp_text),
)


def exercises(inputs: dict) -> tuple[Exercise, ...]:
    """The answer key for ``inputs`` (``PUBLIC_INPUTS`` or a class edition's)."""
    unit = inputs["03.1"]["id"]
    seed, hashed = inputs["03.2"]["seed"], inputs["03.2"]["id"]
    pricing, tour, ramp = inputs["03.3"], inputs["03.4"], inputs["03.5"]
    control_after = tour["after"][0]
    low, high = sorted((control_after, 0.5))
    direction = "control to treatment" if control_after < 0.5 else "treatment to control"
    before, after = ramp["before"], ramp["after"]
    return (
        Exercise("03.1", "fnv_hash", Predicate(_judge_fnv(unit), expected=lambda: abt.fnv1a32(unit))),
        Exercise(
            "03.2",
            "hash_value",
            Number(
                lambda: abt.growthbook_hash(seed, hashed, 2),
                rtol=0.0,
                atol=1e-9,
                hint=f"Version 2: h1 = fnv1a32(seed + id) with seed = {seed!r}, then "
                "h2 = fnv1a32(str(h1)) (the DECIMAL digits of h1), and n = (h2 % 10000) / 10000.",
                mistakes=[
                    (lambda: abt.growthbook_hash(seed, hashed, 1), "That is hash version 1, "
                     "(fnv1a32(id + seed) % 1000) / 1000; the question asks for version 2."),
                    (lambda: abt.growthbook_hash(hashed, seed, 2), "You hashed id + seed; "
                     f"version 2 hashes the seed FIRST: fnv1a32({seed!r} + {hashed!r})."),
                    (lambda: abt.fnv1a32(seed + hashed) % 10000 / 10000, "That is one round "
                     "of hashing; version 2 hashes again the decimal string of the first hash: "
                     "fnv1a32(str(fnv1a32(seed + id)))."),
                    (lambda: 10000 * abt.growthbook_hash(seed, hashed, 2), "That is the level k "
                     "(0 to 9999); divide by 10000 to get the hash value in [0, 1)."),
                ],
            ),
        ),
        Exercise("03.3", "pricing_variants",
                 Predicate(_judge_pricing(pricing), expected=lambda: _pricing(pricing))),
        Exercise(
            "03.4",
            "n_switched",
            Number(
                lambda: _switched(tour),
                rtol=0.0,
                atol=0.5,
                hint=f"Assign the {N_IDS:,} ids with abt.assign_many under both weightings (same "
                "key, hash version 2) and count the ids whose variant differs.",
                mistakes=[
                    ((high - low) * N_IDS, f"{(high - low) * N_IDS:,.0f} is what to EXPECT (the "
                     f"hash values in [{low:g}, {high:g}) move from {direction}); the question asks "
                     "for the actual count with abt.assign_many."),
                    (lambda: _switched(tour) / N_IDS, "That is the share of ids; give the number "
                     "of users."),
                    (lambda: _treatment_after(tour), "That is the size of the treatment group after "
                     "the change; count only the users whose variant changed."),
                ],
            ),
        ),
        Exercise(
            "03.5",
            "ramp_reshuffles",
            Boolean(
                lambda: _ramp_moves_someone(ramp),
                hint="Raising the coverage lengthens every variant's range to the right without "
                f"moving its start, so every user enrolled at {percent(before)} keeps the same "
                f"variant at {percent(after)}. Check it: compare abt.assign_many at "
                f"coverage={before:g} and coverage={after:g} on the units enrolled at {before:g}.",
            ),
        ),
        Exercise(
            "03.6",
            "why_not_builtin_hash",
            fixed=True,
            answer=Choice(
                "b",
                options=("a", "b", "c", "d"),
                hints={
                    "a": "Speed is not the problem: hash() of a short string takes well under a "
                    "microsecond. Run it in two processes and compare.",
                    "c": "Negative numbers are easy to map to buckets (h % 1000 is never negative "
                    "in Python); the problem is that the number changes between processes.",
                    "d": "hash() is not cryptographic, and its values are well spread; the "
                    "problem is that it is salted with a random key in every new process "
                    "(PYTHONHASHSEED).",
                },
            ),
        ),
        Exercise(
            "03.7",
            "after_failed_aa",
            fixed=True,
            answer=Choice(
                "c",
                options=("a", "b", "c", "d"),
                hints={
                    "a": "Moving units by hand destroys the randomization: the split is no longer "
                    "independent of anything, and the error rates no longer hold.",
                    "b": "The sample ratio is fine (p = 0.62) and one A/A in a hundred reaches "
                    "p <= 0.01 by chance; that is no evidence that the hash function is broken.",
                    "d": "Subtracting the pre-period difference (a difference in differences) "
                    "adds the pre-period noise to the estimate; re-randomize before launch, and "
                    "use the pre-period metric as a covariate (CUPED), which weights it optimally.",
                },
            ),
        ),
    )


EXERCISES = exercises(PUBLIC_INPUTS)
