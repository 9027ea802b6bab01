"""Hashing units into variants: FNV-1a, SHA-256, GrowthBook's hash, buckets and namespaces.

Sections 3.2 (hashing), 3.3 (GrowthBook bucketing) and 3.5 (namespaces) of chapter 3. A
deterministic function of ``(experiment key, unit id)`` gives a unit the same variant on every
page view, server and deploy. The hashing follows the open-source GrowthBook SDK specification,
so learners can check their own implementation against its published test cases. GrowthBook
hashes the UTF-16 code units of the strings (JavaScript's ``charCodeAt``), not their UTF-8
bytes: the two agree for ASCII ids only.

References
----------
Fowler, G., Noll, L. C. & Vo, K.-P., FNV hash; reference page and test vectors by
L. C. Noll, http://www.isthe.com/chongo/tech/comp/fnv/ .
GrowthBook SDK specification, "Build your own SDK" (docs.growthbook.io) and its test cases,
``packages/sdk-js/test/cases.json`` in the growthbook/growthbook repository.
"""

from __future__ import annotations

import hashlib

import numpy as np

from abteach._validate import check_closed_unit, check_int, check_work
from abteach.assignment._checks import (
    HASH_LEVELS,
    _check_namespace,
    _check_scalar_unit,
    _check_text,
    _check_version,
    _check_weights,
    _pack,
    _Packed,
    _utf8,
    _utf16,
)

#: FNV-1a 32-bit parameters (Noll) — start value and multiplier.
FNV_OFFSET_BASIS = 0x811C9DC5
FNV_PRIME = 0x01000193
#: The most ids :func:`make_unit_ids` builds at once (Python strings, about 70 bytes each).
MAX_UNIT_IDS = 10_000_000


def _fnv(data, state: int = FNV_OFFSET_BASIS) -> int:
    """FNV-1a over ``data`` (bytes, or UTF-16 code units) starting from ``state``."""
    for unit in data:
        state = ((state ^ int(unit)) * FNV_PRIME) & 0xFFFFFFFF
    return state


def _longest_first(lengths: np.ndarray) -> np.ndarray:
    """Stable order of rows by decreasing length (radix sort on small integer keys)."""
    key = lengths.max() - lengths
    if key.max() < 2**16:
        key = key.astype(np.uint16)
    return np.argsort(key, kind="stable")


def _fnv_rows(states: np.ndarray, packed: _Packed) -> np.ndarray:
    """Vectorized FNV-1a: continue from ``states[i]`` over the code units of packed row i.

    Rows are sorted longest first, so the rows that still have a byte at position j form a
    prefix ``[:count]`` and each byte position costs one xor and one multiply over that
    prefix. The arithmetic is uint32, which wraps modulo 2**32 exactly as FNV-1a requires
    (numpy does not warn about wraparound in integer arrays).
    """
    order = _longest_first(packed.lengths)
    hashes = states[order]
    starts = packed.starts[order]
    descending = packed.lengths[order]
    active = np.searchsorted(-descending, -np.arange(descending[0]), side="left")
    for position, count in enumerate(active.tolist()):
        hashes[:count] ^= packed.buffer[starts[:count] + position]
        hashes[:count] *= FNV_PRIME
    result = np.empty_like(hashes)
    result[order] = hashes
    return result


_POWERS_OF_TEN = 10 ** np.arange(10, dtype=np.uint32)


def _fnv_decimal(values: np.ndarray) -> np.ndarray:
    """``fnv1a32(str(v))`` for every uint32 v, without building the strings.

    ``str(v)`` has d = 1 to 10 digits. Sorting the values by d, longest first, the values
    whose decimal string has a digit at position p of a 10-character right-aligned layout
    form a prefix, and that digit is ``v // 10**(9 - p) % 10`` (ASCII code 48 + digit).
    """
    n_digits = np.maximum(np.searchsorted(_POWERS_OF_TEN, values, side="right"), 1)
    order = _longest_first(n_digits)
    ordered = values[order]
    hashes = np.full(values.size, FNV_OFFSET_BASIS, dtype=np.uint32)
    started = np.searchsorted(-n_digits[order], np.arange(-10, 0), side="right")
    for position, count in enumerate(started.tolist()):
        digits = ordered[:count] // _POWERS_OF_TEN[9 - position] % 10
        hashes[:count] ^= digits + 48
        hashes[:count] *= FNV_PRIME
    result = np.empty_like(hashes)
    result[order] = hashes
    return result


def fnv1a32(data):
    """FNV-1a 32-bit hash of a string (its UTF-8 bytes), of bytes, or of an array of strings.

    Starting from the offset basis h = 0x811C9DC5, every byte b updates
    ``h = ((h XOR b) * 0x01000193) mod 2**32``. FNV-1a is fast and spreads similar inputs
    well; it is not a cryptographic hash (it is easy to construct collisions), which does not
    matter for assignment, where ids are not chosen by an adversary.

    Parameters
    ----------
    data : str, bytes or array-like of str
        A string is hashed over its UTF-8 encoding. An array of strings (any shape) is hashed
        element by element with numpy, giving the same numbers as the scalar path.

    Returns
    -------
    int or numpy.ndarray of uint32
        An int in [0, 2**32) for a single input, an array of the input's shape otherwise.

    References
    ----------
    L. C. Noll, FNV hash, http://www.isthe.com/chongo/tech/comp/fnv/ (reference test
    vectors); Eastlake, Hansen, Fowler, Vo & Noll, "The FNV Non-Cryptographic Hash
    Algorithm", IETF Internet-Draft.

    Examples
    --------
    >>> f"{fnv1a32('foobar'):#010x}"
    '0xbf9cf968'
    """
    if isinstance(data, (bytes, bytearray)):
        return _fnv(bytes(data))
    if isinstance(data, str):
        return _fnv(_utf8("data", data))
    packed = _pack("data", data, allow_empty=True)
    states = np.full(packed.lengths.size, FNV_OFFSET_BASIS, dtype=np.uint32)
    return _fnv_rows(states, packed).reshape(packed.shape)


def _top53_unit(x: int) -> float:
    """Map a 64-bit integer to [0, 1) by its top 53 bits: floor(x / 2**11) / 2**53."""
    return (x >> 11) / 2.0**53


def sha256_unit(unit_id: str, salt: str) -> float:
    """A uniform number in [0, 1) from SHA-256 of ``salt + "." + unit_id``.

    Exactly: take the SHA-256 digest of the UTF-8 bytes of ``salt + "." + unit_id``, read
    its first 8 bytes as a big-endian unsigned integer x (0 <= x < 2**64), and return
    ``floor(x / 2**11) / 2**53``, the top 53 bits of x as a binary fraction. Keeping 53 bits
    makes the result exactly representable and strictly below 1; the tempting ``x / 2**64``
    rounds to 1.0 for the largest 1,024 values of x. Compare with a value ``t`` as
    ``sha256_unit(...) < t`` to put a fraction t of units in treatment.

    SHA-256 is slower than FNV-1a but mixes every input bit into every output bit, so it
    needs none of the care FNV-1a needs (see :func:`growthbook_hash`, version 1).

    Parameters
    ----------
    unit_id : str
        The unit's id (non-empty).
    salt : str
        The experiment's salt, usually its key (non-empty).

    References
    ----------
    NIST FIPS 180-4 (2015), *Secure Hash Standard*.

    Examples
    --------
    >>> print(f"{sha256_unit('user-1', 'checkout-2024'):.6f}")
    0.365222
    """
    message = _check_text("salt", salt) + b"." + _check_text("unit_id", unit_id)
    digest = hashlib.sha256(message).digest()
    return _top53_unit(int.from_bytes(digest[:8], "big"))


# --- GrowthBook hashing and bucketing -----------------------------------------------------


def _levels_one(seed: str, value: str, version: int) -> int:
    """GrowthBook's hash as an integer level in [0, HASH_LEVELS[version])."""
    if version == 1:
        return _fnv(_utf16(value + seed)) % 1000
    return fnv1a32(str(_fnv(_utf16(seed + value)))) % 10000


def _levels_many(seed: str, packed: _Packed, version: int) -> np.ndarray:
    """:func:`_levels_one` for many values at once, flat int64 (the seed is shared;
    ``packed`` holds UTF-16 code units)."""
    count = packed.lengths.size
    units = _utf16(seed)
    if version == 1:
        hashes = _fnv_rows(np.full(count, FNV_OFFSET_BASIS, dtype=np.uint32), packed)
        for unit in units:
            hashes ^= unit
            hashes *= FNV_PRIME
        return (hashes % 1000).astype(np.int64)
    first = _fnv_rows(np.full(count, _fnv(units), dtype=np.uint32), packed)
    return (_fnv_decimal(first) % 10000).astype(np.int64)


def growthbook_hash(seed: str, value, version: int = 2):
    """GrowthBook's hash of a unit id into [0, 1), for one id or an array of ids.

    * version 1: ``(fnv1a32(value + seed) mod 1000) / 1000``
    * version 2: ``(fnv1a32(str(fnv1a32(seed + value))) mod 10000) / 10000``, where
      ``str`` writes the 32-bit hash in decimal.

    Here FNV-1a runs over the UTF-16 code units of the text, as GrowthBook's SDKs do (the
    JavaScript SDK xors ``str.charCodeAt(i)`` into the state; the Python SDK 4.0.0 encodes
    UTF-16 the same way), not over its UTF-8 bytes as :func:`fnv1a32` does. The two agree
    for ASCII ids only: U+00E9 (e acute) is one UTF-16 unit, 0xE9, but two UTF-8 bytes,
    0xC3 0xA9. A character outside the Basic Multilingual Plane, such as an emoji, is two
    surrogate code units, as in JavaScript and in the Python SDK 4.0.0 (earlier Python SDK
    versions xored ``ord(c)`` per code point, which differs from JavaScript for such
    characters only). Matching the SDKs matters for cross-platform
    assignment: a user hashed in the browser (JavaScript SDK) and on the server must land
    in the same variant.

    Version 2 exists because version 1 leaks: the seed is hashed last, so two seeds that
    differ only in their final characters (``"exp-a"``, ``"exp-b"``) give strongly dependent
    buckets, the FNV state having had only one multiplication to separate them. Hashing the
    seed first and re-hashing the decimal digits removes that dependence (see the tests of
    :func:`independence_test`). Version 1 also spreads sequential ids ("user-0", "user-1",
    ...) more evenly than independent draws would: the p-values of :func:`bucket_uniformity`
    over blocks of such ids pile up towards 1 (mean about 0.7 instead of 0.5), because
    neighboring ids land in systematically different buckets. Use version 2 for new
    experiments.

    The result takes 1000 (v1) or 10000 (v2) values, so a variant's share is resolved to
    0.1% or 0.01%. Even for a perfectly uniform 32-bit hash, 2**32 is not a multiple of
    1000 or 10000: the levels below 296 (v1) or 7296 (v2) receive one more of the 2**32
    hash values than the others, a relative bias of 2.3e-7 (v1) or 2.3e-6 (v2), far below
    anything an experiment can detect.

    Parameters
    ----------
    seed : str
        The salt, usually the experiment key (may be empty, as in GrowthBook's test cases).
    value : str or array-like of str
        The unit id(s), non-empty. An array is hashed with numpy and gives exactly the same
        numbers as hashing its elements one by one.
    version : {1, 2}
        The GrowthBook hash version.

    Returns
    -------
    float or numpy.ndarray
        A float in [0, 1) for one id, an array of the input's shape otherwise.

    References
    ----------
    GrowthBook SDK specification ("hash"), test cases in ``packages/sdk-js/test/cases.json``
    of the growthbook/growthbook repository; ``hashFnv32a`` in ``packages/sdk-js/src/util.ts``
    (UTF-16 code units).

    Examples
    --------
    >>> growthbook_hash("seed", "a", 2)
    0.0505
    >>> growthbook_hash("seed", "\u00e9", 2)
    0.8663
    >>> growthbook_hash("", "a", 1)
    0.22
    """
    return _hash(seed, value, _check_version(version), "value")


def _hash(seed: str, value, version: int, name: str):
    """:func:`growthbook_hash` of checked ids; ``name`` is the argument that holds them."""
    _check_text("seed", seed, allow_empty=True)
    if isinstance(value, str):
        _check_text(name, value)
        return _levels_one(seed, value, version) / HASH_LEVELS[version]
    packed = _pack(name, value, utf16=True)
    return (_levels_many(seed, packed, version) / HASH_LEVELS[version]).reshape(packed.shape)


def _ranges(weights: list[float], coverage: float) -> list[tuple[float, float]]:
    cumulative = 0.0
    ranges = []
    for weight in weights:
        start = cumulative
        cumulative += weight
        ranges.append((start, start + coverage * weight))
    return ranges


def bucket_ranges(weights, *, coverage: float = 1.0) -> list[tuple[float, float]]:
    """The [start, end) range of hash values of each variant (GrowthBook's getBucketRanges).

    Variant i's range starts at the cumulative weight of the variants before it,
    :math:`s_i = w_0 + \\dots + w_{i-1}`, and has width ``coverage * w_i``:
    :math:`[s_i, s_i + c\\,w_i)`. With coverage 1 the ranges tile [0, 1); with coverage c < 1
    each variant keeps the first fraction c of its slot and the rest of the slot is "not in
    the experiment".

    Because the start of each range does not depend on the coverage, raising the coverage
    only lengthens every range to the right: a unit enrolled at coverage c1 keeps its
    variant at any c2 > c1 (ramping up never reshuffles). Changing the weights moves the
    starts and does reassign units: treat weights as fixed once an experiment runs.

    Parameters
    ----------
    weights : sequence of float
        At least 2 non-negative variant weights summing to 1 within ``WEIGHT_TOLERANCE``
        (1e-9). GrowthBook silently falls back to equal weights when the sum is outside
        [0.99, 1.01] and clamps the coverage to [0, 1]; abteach raises an error instead.
    coverage : float
        Fraction of units in the experiment, in [0, 1].

    Returns
    -------
    list of (float, float)
        One ``(start, end)`` pair per variant, computed with the same floating-point
        operations as GrowthBook's SDKs.

    Examples
    --------
    >>> bucket_ranges([0.5, 0.5], coverage=0.5)
    [(0.0, 0.25), (0.5, 0.75)]
    """
    return _ranges(_check_weights(weights), _check_scalar_unit("coverage", coverage))


def _choose_one(value: float, ranges) -> int | None:
    """Index of the first range with start <= value < end, None if none (GrowthBook: -1)."""
    for index, (start, end) in enumerate(ranges):
        if start <= value < end:
            return index
    return None


def _choose(values: np.ndarray, ranges) -> np.ndarray:
    """Index of the first range holding each value (start <= value < end), -1 if none."""
    chosen = np.full(values.shape, -1, dtype=np.int64)
    for index in reversed(range(len(ranges))):
        start, end = ranges[index]
        chosen[(values >= start) & (values < end)] = index
    return chosen


def choose_variation(value, ranges):
    """The variant whose [start, end) range holds the hash value (GrowthBook's chooseVariation).

    Ranges are tried in order and the first with ``start <= value < end`` wins, so a value
    on a boundary belongs to the range that starts there.

    Parameters
    ----------
    value : float or array of float
        Hash value(s) in [0, 1].
    ranges : sequence of (start, end)
        As returned by :func:`bucket_ranges`.

    Returns
    -------
    int, None or numpy.ndarray
        For one value: the variant index, or None when no range holds it (GrowthBook
        returns -1). For an array: an int64 array with -1 for "not in the experiment".

    Examples
    --------
    >>> choose_variation(0.5, [(0.0, 0.25), (0.5, 0.75)])
    1
    >>> print(choose_variation(0.4, [(0.0, 0.25), (0.5, 0.75)]))
    None
    """
    values = check_closed_unit("value", value)
    try:
        pairs = np.asarray(ranges, dtype=float)
    except (ValueError, TypeError):
        raise TypeError(
            f"ranges must be a sequence of (start, end) pairs, got {ranges!r}"
        ) from None
    if pairs.ndim != 2 or pairs.shape[1] != 2 or pairs.shape[0] == 0:
        raise ValueError(
            f"ranges must be a non-empty sequence of (start, end) pairs, got {ranges!r}"
        )
    check_closed_unit("ranges", pairs)
    if (pairs[:, 0] > pairs[:, 1]).any():
        raise ValueError(f"ranges must have start <= end in every pair, got {ranges!r}")
    if values.ndim == 0:
        return _choose_one(float(values), pairs.tolist())
    return _choose(values, pairs.tolist())


def in_namespace(unit_id, namespace):
    """Whether units fall in a namespace's slice (GrowthBook's inNamespace).

    A namespace (a "layer") is a name plus a range [start, end) of [0, 1). A unit is in it
    when ``growthbook_hash("__" + name, unit_id, 1)`` lies in the range. Experiments of one
    layer given disjoint ranges are mutually exclusive: no unit is in two of them, so they
    cannot interact. Experiments in different layers overlap and stay independent, because
    each experiment hashes with its own key. GrowthBook always uses hash version 1 here.

    Parameters
    ----------
    unit_id : str or array-like of str
        The unit id(s), non-empty.
    namespace : tuple (name, start, end)
        A non-empty name and 0 <= start < end <= 1.

    Returns
    -------
    bool or numpy.ndarray of bool

    Examples
    --------
    >>> in_namespace("1", ("namespace1", 0.4, 1.0))
    True
    """
    name, start, end = _check_namespace(namespace)
    value = _hash("__" + name, unit_id, 1, "unit_id")
    inside = (value >= start) & (value < end)
    return bool(inside) if isinstance(unit_id, str) else inside


def assign(
    unit_id: str,
    experiment_key: str,
    weights,
    *,
    coverage: float = 1.0,
    hash_version: int = 2,
    namespace=None,
) -> int | None:
    """The variant of one unit, exactly as a GrowthBook SDK would assign it.

    ``n = growthbook_hash(experiment_key, unit_id, hash_version)``, then the first variant i
    of :func:`bucket_ranges` with ``start_i <= n < end_i``. The experiment key is the salt
    (GrowthBook's default seed). With a namespace, units outside the namespace's slice are
    not in the experiment.

    Parameters
    ----------
    unit_id : str
        Non-empty id of the randomization unit (user, device, ...). Convert numbers
        explicitly with ``str()``.
    experiment_key : str
        Non-empty key, used as the salt. Reusing a key reproduces the same split.
    weights : sequence of float
        Variant weights (at least 2, non-negative, summing to 1 within 1e-9); variant 0 is
        the control.
    coverage : float
        Fraction of units in the experiment, in [0, 1]. Raising it later keeps every
        enrolled unit in its variant (see :func:`bucket_ranges`).
    hash_version : {1, 2}
        GrowthBook hash version. abteach defaults to 2; GrowthBook's SDKs default to 1 for
        experiments that do not set ``hashVersion``.
    namespace : tuple (name, start, end), optional
        Restrict the experiment to a slice of a layer (see :func:`in_namespace`).

    Returns
    -------
    int or None
        The variant index, or None when the unit is not in the experiment.

    See Also
    --------
    assign_many : the same for an array of ids, vectorized.

    Examples
    --------
    >>> assign("123", "feature", [0.1, 0.9], coverage=0.99)
    1
    """
    _check_text("unit_id", unit_id)
    _check_text("experiment_key", experiment_key)
    ranges = bucket_ranges(weights, coverage=coverage)
    version = _check_version(hash_version)
    if namespace is not None and not in_namespace(unit_id, namespace):
        return None
    return _choose_one(_levels_one(experiment_key, unit_id, version) / HASH_LEVELS[version], ranges)


def assign_many(
    unit_ids,
    experiment_key: str,
    weights,
    *,
    coverage: float = 1.0,
    hash_version: int = 2,
    namespace=None,
) -> np.ndarray:
    """Vectorized :func:`assign`: the variant of every id, -1 for "not in the experiment".

    The FNV-1a hashes of all ids are computed with numpy over one code-unit buffer (ids of any
    length; uint32 arithmetic wraps like FNV-1a's), and agree exactly with :func:`assign`.
    ``benchmarks/bench_assignment.py`` measured 0.25 to 0.5 s for a million ids (hash v2,
    a shared 2-core machine), against an estimated 40 to 80 s for a Python loop over
    :func:`assign` (mostly argument checks) and 10 to 16 s for a loop over the hash alone.

    Parameters
    ----------
    unit_ids : array-like of str
        Non-empty ids, any shape (a list, a numpy array, a pandas Series).
    experiment_key, weights, coverage, hash_version, namespace
        As for :func:`assign`.

    Returns
    -------
    numpy.ndarray of int64
        The input's shape; the variant index, or -1 when the unit is outside the coverage or
        the namespace. (-1 rather than None keeps the array integer; mask with ``>= 0``.)
    """
    packed = _pack("unit_ids", unit_ids, scalar_ok=False, utf16=True)
    _check_text("experiment_key", experiment_key)
    ranges = bucket_ranges(weights, coverage=coverage)
    check_work("len(unit_ids) * len(weights)", packed.lengths.size * len(ranges))
    version = _check_version(hash_version)
    if namespace is not None:
        name, start, end = _check_namespace(namespace)
    chosen = _choose(_levels_many(experiment_key, packed, version) / HASH_LEVELS[version], ranges)
    if namespace is not None:
        layer = _levels_many("__" + name, packed, 1) / HASH_LEVELS[1]
        chosen[(layer < start) | (layer >= end)] = -1
    return chosen.reshape(packed.shape)


def make_unit_ids(n: int, *, prefix: str = "user-", start: int = 0) -> list[str]:
    """Sequential ids ``prefix + str(i)`` for i = start, ..., start + n - 1.

    Sequential ids are a demanding test of a hash: they differ only in their last digits.
    At most ``MAX_UNIT_IDS`` (10 million, about 0.7 GB of Python strings) at once.

    Examples
    --------
    >>> make_unit_ids(3)
    ['user-0', 'user-1', 'user-2']
    """
    n = check_int("n", n, minimum=1, maximum=MAX_UNIT_IDS)
    start = check_int("start", start, minimum=0)
    _check_text("prefix", prefix, allow_empty=True)
    return [f"{prefix}{i}" for i in range(start, start + n)]
