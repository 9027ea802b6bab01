"""Assigning units to variants: salted hashing, GrowthBook-compatible bucketing, stratified
randomization, and the checks that show an assignment works (uniformity, independence, A/A).

Why hash instead of drawing at random? An online experiment must give a user the same variant
on every page view, on every server and after every deploy, without a lookup table of past
draws. A deterministic function of ``(experiment key, unit id)`` does that: every server
computes the same answer independently. Two tempting shortcuts fail:

* ``random.random()`` (or any generator) draws a fresh value per call, so the same user flips
  between variants unless every draw is stored and looked up; one global seed would also tie
  all experiments to the same sequence of draws.
* Python's built-in ``hash()`` of a string is salted per process (``PYTHONHASHSEED``, on by
  default since Python 3.3 as a defence against hash flooding), so two servers, or two runs
  of the same notebook, disagree about the same id.

Salting the hash with the experiment key makes different experiments independent of each
other; reusing a salt reproduces the previous split exactly, carrying over whatever the last
experiment did to its treatment group (the carry-over effect of Kohavi et al., 2012).

The hashing follows the open-source GrowthBook SDK specification, so learners can check
their own implementation against its published test cases. Hashes are computed over the
UTF-8 bytes of the strings (as the GrowthBook Rust and Elixir SDKs do); for ASCII ids every
SDK agrees, while the JavaScript SDK (UTF-16 code units) and the Python SDK (code points)
give other buckets for ids with non-ASCII characters.

References
----------
Fowler, G., Noll, L. C. & Vo, K.-P., FNV hash; reference page and test vectors by
L. C. Noll, http://www.isthe.com/chongo/tech/comp/fnv/ .
GrowthBook SDK specification, "Build your own SDK" (docs.growthbook.io) and its test cases,
``packages/sdk-js/test/cases.json`` in the growthbook/growthbook repository.
Kohavi, R., Tang, D. & Xu, Y. (2020), *Trustworthy Online Controlled Experiments*,
ch. 4 (experimentation platform), 19 (A/A tests), 21 (sample ratio mismatch).
Kohavi, R., Deng, A., Frasca, B., Longbotham, R., Walker, T. & Xu, Y. (2012),
Trustworthy online controlled experiments: five puzzling outcomes explained, KDD.
"""

from __future__ import annotations

import hashlib
import math
import numbers
from dataclasses import dataclass

import numpy as np
from scipy import stats

from abteach._records import Record, format_number
from abteach._validate import (
    as_float_array,
    as_generator,
    check_alpha,
    check_closed_unit,
    check_int,
    check_nonnegative,
    check_open_unit,
    check_scalar,
)

#: FNV-1a 32-bit parameters (Noll) — start value and multiplier.
FNV_OFFSET_BASIS = 0x811C9DC5
FNV_PRIME = 0x01000193
#: How far the weights may sum from 1.
WEIGHT_TOLERANCE = 1e-9
#: GrowthBook hash versions and their number of levels — v1 gives k / 1000, v2 gives k / 10000.
HASH_LEVELS = {1: 1000, 2: 10000}

# --- argument checks ----------------------------------------------------------------------


def _utf8(name: str, text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{name} must be encodable as UTF-8, got {text!r}") from None


def _check_text(name: str, value, *, allow_empty: bool = False) -> bytes:
    """Check that ``value`` is a string (non-empty unless allowed); return its UTF-8 bytes."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {value!r}")
    if not value and not allow_empty:
        raise ValueError(f"{name} must be a non-empty string, got ''")
    return _utf8(name, value)


@dataclass(frozen=True)
class _Packed:
    """Strings as one UTF-8 byte buffer: row i is ``buffer[starts[i]:starts[i] + lengths[i]]``."""

    buffer: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray
    shape: tuple[int, ...]


def _pack(name: str, values, *, allow_empty: bool = False, scalar_ok: bool = True) -> _Packed:
    """Check that ``values`` is an array-like of strings and pack their UTF-8 bytes.

    ASCII ids (the usual case) are joined and encoded in one call, each row's byte length
    being its number of characters; other strings are encoded one by one.
    """
    expected = "a string or an array of strings" if scalar_ok else "an array of strings"
    try:
        array = np.asarray(values, dtype=object)
    except (ValueError, TypeError):
        raise TypeError(f"{name} must be {expected}, got {values!r}") from None
    if array.ndim == 0:
        raise TypeError(f"{name} must be {expected}, got {values!r}")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty, got {values!r}")
    flat = array.ravel().tolist()
    try:
        joined = "".join(flat)
    except TypeError:
        for index, text in enumerate(flat):
            _check_text(f"{name}[{index}]", text, allow_empty=True)
        raise
    if joined.isascii():
        buffer = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
        lengths = np.fromiter(map(len, flat), dtype=np.int64, count=len(flat))
    else:
        encoded = [_utf8(f"{name}[{index}]", text) for index, text in enumerate(flat)]
        buffer = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    if not allow_empty and not lengths.all():
        index = int(np.argmin(lengths))
        raise ValueError(f"{name} must not contain empty strings, got '' (at index {index})")
    return _Packed(buffer, np.cumsum(lengths) - lengths, lengths, array.shape)


def _check_version(hash_version) -> int:
    if isinstance(hash_version, (bool, np.bool_)) or not isinstance(hash_version, numbers.Integral):
        raise TypeError(f"hash_version must be 1 or 2, got {hash_version!r}")
    if hash_version not in HASH_LEVELS:
        raise ValueError(f"hash_version must be 1 or 2, got {hash_version!r}")
    return int(hash_version)


def _check_scalar_unit(name: str, value) -> float:
    return check_scalar(name, check_closed_unit(name, value))


def _check_weights(weights) -> list[float]:
    array = as_float_array("weights", weights)
    if array.ndim != 1:
        raise ValueError(f"weights must be a 1-D sequence of variant weights, got {weights!r}")
    if array.size < 2:
        raise ValueError(f"weights must have at least 2 variants, got {array.tolist()}")
    check_nonnegative("weights", array)
    total = math.fsum(array.tolist())
    if abs(total - 1) > WEIGHT_TOLERANCE:
        raise ValueError(
            f"weights must sum to 1 (within {WEIGHT_TOLERANCE:g}), got sum {total!r} for "
            f"{array.tolist()}"
        )
    return array.tolist()


def _check_namespace(namespace) -> tuple[str, float, float]:
    if not isinstance(namespace, (tuple, list)) or len(namespace) != 3:
        raise TypeError(f"namespace must be a tuple (name, start, end), got {namespace!r}")
    name, start, end = namespace
    _check_text("namespace name", name)
    start = _check_scalar_unit("namespace start", start)
    end = _check_scalar_unit("namespace end", end)
    if not start < end:
        raise ValueError(f"namespace must have start < end, got {tuple(namespace)!r}")
    return name, start, end


def _check_variants(name: str, values) -> np.ndarray:
    """Variant indices: whole numbers >= -1 (-1 = not enrolled), as an int64 array."""
    array = as_float_array(name, values)
    if array.ndim == 0:
        raise ValueError(f"{name} must be an array with one variant per unit, got {values!r}")
    bad = (array != np.round(array)) | (array < -1) | (array > 2**53)
    if bad.any():
        value = array[tuple(np.argwhere(bad)[0])].item()
        raise ValueError(
            f"{name} must hold variant indices >= -1 (-1 = not enrolled), got {value!r}"
        )
    return array.astype(np.int64)


# --- FNV-1a -------------------------------------------------------------------------------


def _fnv(data: bytes, state: int = FNV_OFFSET_BASIS) -> int:
    """FNV-1a over ``data`` starting from ``state`` (the offset basis for a fresh hash)."""
    for byte in data:
        state = ((state ^ byte) * FNV_PRIME) & 0xFFFFFFFF
    return state


def _longest_first(lengths: np.ndarray) -> np.ndarray:
    """Stable order of rows by decreasing length (radix sort on small integer keys)."""
    key = lengths.max() - lengths
    if key.max() < 2**16:
        key = key.astype(np.uint16)
    return np.argsort(key, kind="stable")


def _fnv_rows(states: np.ndarray, packed: _Packed) -> np.ndarray:
    """Vectorised FNV-1a: continue from ``states[i]`` over the bytes of packed row i.

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
        return fnv1a32(value + seed) % 1000
    return fnv1a32(str(fnv1a32(seed + value))) % 10000


def _levels_many(seed: bytes, packed: _Packed, version: int) -> np.ndarray:
    """:func:`_levels_one` for many values at once (the seed is shared), flat int64."""
    count = packed.lengths.size
    if version == 1:
        hashes = _fnv_rows(np.full(count, FNV_OFFSET_BASIS, dtype=np.uint32), packed)
        for byte in seed:
            hashes ^= byte
            hashes *= FNV_PRIME
        return (hashes % 1000).astype(np.int64)
    first = _fnv_rows(np.full(count, _fnv(seed), dtype=np.uint32), packed)
    return (_fnv_decimal(first) % 10000).astype(np.int64)


def growthbook_hash(seed: str, value, version: int = 2):
    """GrowthBook's hash of a unit id into [0, 1), for one id or an array of ids.

    * version 1: ``(fnv1a32(value + seed) mod 1000) / 1000``
    * version 2: ``(fnv1a32(str(fnv1a32(seed + value))) mod 10000) / 10000``, where
      ``str`` writes the 32-bit hash in decimal.

    Version 2 exists because version 1 leaks: the seed is hashed last, so two seeds that
    differ only in their final characters (``"exp-a"``, ``"exp-b"``) give strongly dependent
    buckets, the FNV state having had only one multiplication to separate them. Hashing the
    seed first and re-hashing the decimal digits removes that dependence (see the tests of
    :func:`independence_test`). Version 1 also spreads sequential ids ("user-0", "user-1",
    ...) more evenly than independent draws would: the p-values of :func:`bucket_uniformity`
    over blocks of such ids pile up towards 1 (mean about 0.7 instead of 0.5), because
    neighbouring ids land in systematically different buckets. Use version 2 for new
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
    of the growthbook/growthbook repository.

    Examples
    --------
    >>> growthbook_hash("seed", "a", 2)
    0.0505
    >>> growthbook_hash("", "a", 1)
    0.22
    """
    version = _check_version(version)
    seed_bytes = _check_text("seed", seed, allow_empty=True)
    if isinstance(value, str):
        _check_text("value", value)
        return _levels_one(seed, value, version) / HASH_LEVELS[version]
    packed = _pack("value", value)
    return (_levels_many(seed_bytes, packed, version) / HASH_LEVELS[version]).reshape(packed.shape)


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
    value = growthbook_hash("__" + name, unit_id, 1)
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
    assign_many : the same for an array of ids, vectorised.

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
    """Vectorised :func:`assign`: the variant of every id, -1 for "not in the experiment".

    The FNV-1a hashes of all ids are computed with numpy over one byte buffer (ids of any
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
    packed = _pack("unit_ids", unit_ids, scalar_ok=False)
    seed = _check_text("experiment_key", experiment_key)
    ranges = bucket_ranges(weights, coverage=coverage)
    version = _check_version(hash_version)
    if namespace is not None:
        name, start, end = _check_namespace(namespace)
    chosen = _choose(_levels_many(seed, packed, version) / HASH_LEVELS[version], ranges)
    if namespace is not None:
        layer = _levels_many(_utf8("namespace name", "__" + name), packed, 1) / HASH_LEVELS[1]
        chosen[(layer < start) | (layer >= end)] = -1
    return chosen.reshape(packed.shape)


def make_unit_ids(n: int, *, prefix: str = "user-", start: int = 0) -> list[str]:
    """Sequential ids ``prefix + str(i)`` for i = start, ..., start + n - 1.

    Sequential ids are a demanding test of a hash: they differ only in their last digits.

    Examples
    --------
    >>> make_unit_ids(3)
    ['user-0', 'user-1', 'user-2']
    """
    n = check_int("n", n, minimum=1)
    start = check_int("start", start, minimum=0)
    _check_text("prefix", prefix, allow_empty=True)
    return [f"{prefix}{i}" for i in range(start, start + n)]


# --- checks: uniformity and independence --------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class UniformityTest(Record):
    """Result of :func:`bucket_uniformity`: Pearson's chi-square goodness of fit.

    Fields are scalars for one set of ids; for ids of shape (..., n) they are arrays over
    the leading axes (one test per row) and ``counts`` has shape (..., n_buckets).
    """

    statistic: float | np.ndarray
    pvalue: float | np.ndarray
    df: int
    counts: np.ndarray
    expected: np.ndarray
    n_units: int
    n_buckets: int
    experiment_key: str
    hash_version: int

    def explain(self) -> str:
        """Plain-text derivation with the numbers plugged in."""
        head = (
            f"Uniformity of {self.n_buckets} hash buckets (key {self.experiment_key!r}, hash "
            f"v{self.hash_version}), {self.n_units} units per test; "
            "H0: every bucket has its share of the hash levels"
        )
        formula = "  X^2 = sum over buckets of (observed - expected)^2 / expected"
        if np.ndim(self.statistic) != 0:
            pvalues = np.asarray(self.pvalue)
            share = float(np.mean(pvalues < 0.05))
            return "\n".join([
                f"{pvalues.size} tests. " + head,
                formula + f", df = {self.df}",
                f"  p-value < 0.05 in {format_number(100 * share, 4)}% of the tests "
                "(about 5% if the hash is uniform)",
            ])
        counts = np.asarray(self.counts)
        expected = np.asarray(self.expected)
        low, high = format_number(expected.min(), 6), format_number(expected.max(), 6)
        return "\n".join([
            head,
            f"  expected per bucket: {low}" + ("" if low == high else f" to {high}"),
            f"  observed: min {counts.min()}, max {counts.max()}",
            formula + f" = {format_number(self.statistic, 6)}",
            f"  df = n_buckets - 1 = {self.df}",
            f"  p-value = P(chi2_{self.df} >= {format_number(self.statistic, 6)}) = "
            f"{format_number(self.pvalue, 4)}",
        ])


def bucket_uniformity(
    unit_ids, experiment_key: str, *, n_buckets: int = 100, hash_version: int = 2
) -> UniformityTest:
    """Chi-square test that hashed ids spread evenly over equal-width buckets.

    Each id's hash level k (0 <= k < L, with L = 1000 for v1 and 10000 for v2) falls in
    bucket ``floor(k * n_buckets / L)``, computed in integers. When n_buckets divides L every
    bucket holds the same number of levels; otherwise the expected share of bucket b is its
    exact number of levels divided by L. Pearson's statistic
    :math:`X^2 = \\sum_b (O_b - E_b)^2 / E_b` is compared with :math:`\\chi^2_{B-1}`.

    For a good hash the p-value is uniform over repeated sets of ids, so the test rejects
    at level alpha in a fraction alpha of them (this is checked by simulation in the tests).

    Parameters
    ----------
    unit_ids : int or array-like of str
        An int n stands for ``make_unit_ids(n)`` ("user-0", "user-1", ...). An array of
        shape (..., n) runs one test per row of n ids.
    experiment_key : str
        The salt.
    n_buckets : int
        Number of buckets B, from 2 to L; each must expect at least 5 ids (the usual
        condition for the chi-square approximation).
    hash_version : {1, 2}

    Returns
    -------
    UniformityTest

    References
    ----------
    Agresti, A. (2013), *Categorical Data Analysis*, 3rd ed., section 1.5 (Pearson's
    goodness-of-fit test).
    """
    if isinstance(unit_ids, numbers.Integral) and not isinstance(unit_ids, (bool, np.bool_)):
        unit_ids = make_unit_ids(check_int("unit_ids", unit_ids, minimum=1))
    packed = _pack("unit_ids", unit_ids, scalar_ok=False)
    shape = packed.shape
    seed = _check_text("experiment_key", experiment_key)
    version = _check_version(hash_version)
    levels_count = HASH_LEVELS[version]
    n_buckets = check_int("n_buckets", n_buckets, minimum=2)
    if n_buckets > levels_count:
        raise ValueError(
            f"n_buckets must be at most {levels_count} for hash_version {version}, got {n_buckets}"
        )
    n_units = shape[-1]
    share = np.bincount(np.arange(levels_count) * n_buckets // levels_count, minlength=n_buckets)
    expected = n_units * share / levels_count
    if expected.min() < 5:
        raise ValueError(
            "expected count per bucket must be >= 5 for the chi-square approximation, got "
            f"{format_number(expected.min())} (n_units = {n_units}, n_buckets = {n_buckets})"
        )
    buckets = _levels_many(seed, packed, version) * n_buckets // levels_count
    n_tests = buckets.size // n_units
    rows = np.repeat(np.arange(n_tests), n_units)
    counts = np.bincount(rows * n_buckets + buckets, minlength=n_tests * n_buckets)
    counts = counts.reshape(*shape[:-1], n_buckets)
    statistic = ((counts - expected) ** 2 / expected).sum(axis=-1)
    pvalue = stats.chi2.sf(statistic, n_buckets - 1)
    scalar = len(shape) == 1
    return UniformityTest(
        statistic=float(statistic) if scalar else statistic,
        pvalue=float(pvalue) if scalar else pvalue,
        df=n_buckets - 1,
        counts=counts,
        expected=expected,
        n_units=n_units,
        n_buckets=n_buckets,
        experiment_key=experiment_key,
        hash_version=version,
    )


@dataclass(frozen=True, repr=False, eq=False)
class IndependenceTest(Record):
    """Result of :func:`independence_test`: Pearson's chi-square test of a contingency table.

    ``table[..., i, j]`` counts the units in variant i of experiment A and variant j of B.
    """

    statistic: float | np.ndarray
    pvalue: float | np.ndarray
    df: int | np.ndarray
    table: np.ndarray
    n_units: int | np.ndarray

    def explain(self) -> str:
        """Plain-text derivation with the numbers plugged in."""
        head = "Independence of two assignments, H0: variant in A says nothing about variant in B"
        formula = "  X^2 = sum over cells of (n_ij - n_i. n_.j / n)^2 / (n_i. n_.j / n)"
        if np.ndim(self.statistic) != 0:
            pvalues = np.asarray(self.pvalue)
            share = float(np.mean(pvalues < 0.05))
            return "\n".join([
                f"{pvalues.size} tables. " + head,
                formula,
                f"  p-value < 0.05 in {format_number(100 * share, 4)}% of the tables",
            ])
        rows = ["  table (rows: variant in A, columns: variant in B):"]
        rows += ["    " + "  ".join(f"{count:>8d}" for count in line) for line in self.table]
        return "\n".join([
            head,
            f"  units enrolled in both experiments: n = {self.n_units}",
            *rows,
            formula + f" = {format_number(self.statistic, 6)}",
            f"  df = (rows - 1) * (columns - 1) = {self.df}",
            f"  p-value = {format_number(self.pvalue, 4)}",
        ])


def independence_test(variants_a, variants_b) -> IndependenceTest:
    """Chi-square test that two experiments' assignments are independent.

    Cross-tabulates the units enrolled in both experiments (variant >= 0 in both) and
    computes Pearson's :math:`X^2 = \\sum_{ij} (n_{ij} - E_{ij})^2 / E_{ij}` with
    :math:`E_{ij} = n_{i\\cdot} n_{\\cdot j} / n`, on :math:`(r - 1)(c - 1)` degrees of
    freedom, where r and c count the variants that received units. Experiments salted
    with different keys should pass; the same key gives a diagonal table (every unit has
    the same variant in both: carry-over), and GrowthBook's hash v1 with keys that differ
    only at the end fails badly.

    Parameters
    ----------
    variants_a, variants_b : array-like of int, same shape (..., n)
        Variant indices from :func:`assign_many`, -1 for units not enrolled. Leading axes
        give one test per row. The table has one row (column) per variant of A (B) that
        appears among the units enrolled in both, in increasing order.

    Returns
    -------
    IndependenceTest

    References
    ----------
    Agresti, A. (2013), *Categorical Data Analysis*, 3rd ed., section 3.2.
    """
    a = _check_variants("variants_a", variants_a)
    b = _check_variants("variants_b", variants_b)
    if a.shape != b.shape:
        raise ValueError(
            f"variants_a and variants_b must have the same shape, got {a.shape} and {b.shape}"
        )
    rows_a, rows_b = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
    n_tests = rows_a.shape[0]
    both = (rows_a >= 0) & (rows_b >= 0)
    if not both.any():
        raise ValueError("no unit is enrolled in both experiments (variants_a and variants_b)")
    levels_a, codes_a = np.unique(rows_a[both], return_inverse=True)
    levels_b, codes_b = np.unique(rows_b[both], return_inverse=True)
    k_a, k_b = levels_a.size, levels_b.size
    test_index = np.broadcast_to(np.arange(n_tests)[:, None], rows_a.shape)[both]
    cells = (test_index * k_a + codes_a.ravel()) * k_b + codes_b.ravel()
    table = np.bincount(cells, minlength=n_tests * k_a * k_b).reshape(n_tests, k_a, k_b)
    n = table.sum(axis=(1, 2))
    row_totals, column_totals = table.sum(axis=2), table.sum(axis=1)
    df = ((row_totals > 0).sum(axis=1) - 1) * ((column_totals > 0).sum(axis=1) - 1)
    if (df < 1).any():
        raise ValueError(
            "variants_a and variants_b must each put the units enrolled in both experiments "
            "in at least 2 variants"
        )
    expected = row_totals[:, :, None] * column_totals[:, None, :] / n[:, None, None]
    filled = expected > 0
    terms = np.where(filled, (table - expected) ** 2 / np.where(filled, expected, 1.0), 0.0)
    statistic = terms.sum(axis=(1, 2))
    pvalue = stats.chi2.sf(statistic, df)
    lead = a.shape[:-1]
    if not lead:
        return IndependenceTest(
            statistic=float(statistic[0]),
            pvalue=float(pvalue[0]),
            df=int(df[0]),
            table=table[0],
            n_units=int(n[0]),
        )
    return IndependenceTest(
        statistic=statistic.reshape(lead),
        pvalue=pvalue.reshape(lead),
        df=df.reshape(lead),
        table=table.reshape(*lead, k_a, k_b),
        n_units=n.reshape(lead),
    )


# --- stratified randomization -------------------------------------------------------------


def stratified_assignment(strata, *, weights, rng) -> np.ndarray:
    """Blocked randomization: split each stratum as evenly as the weights allow.

    Within a stratum of m units, every variant i gets either floor(m w_i) or ceil(m w_i)
    units, so the arms stay balanced on whatever defines the strata (country, platform,
    pre-period activity), which complete randomization only achieves on average. Which
    units get which variant is random, and so is which variants get the rounding
    remainder: the units of a stratum are put in random order and cut at
    ``floor(m (w_0 + ... + w_i) + u)`` for i = 0, ..., k - 2, with one u ~ Uniform(0, 1)
    per stratum. Then each variant's count has expectation exactly m w_i, and every unit
    is in variant i with probability w_i.

    Use it when the unit list is known before the experiment starts (e-mail campaigns,
    markets, stores); live traffic is assigned one unit at a time by hashing
    (:func:`assign`), where post-stratification or CUPED provide the variance reduction.

    Parameters
    ----------
    strata : array-like, shape (n,)
        Stratum label of each unit (numbers or strings).
    weights : sequence of float
        Variant weights (at least 2, non-negative, summing to 1 within 1e-9).
    rng : numpy.random.Generator or int
        Source of randomness.

    Returns
    -------
    numpy.ndarray of int64, shape (n,)
        Variant index of each unit.

    References
    ----------
    Imbens, G. W. & Rubin, D. B. (2015), *Causal Inference for Statistics, Social, and
    Biomedical Sciences*, ch. 9 (stratified randomized experiments).
    """
    weights = _check_weights(weights)
    generator = as_generator(rng)
    labels = np.asarray(strata)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"strata must be a non-empty 1-D array of labels, got {strata!r}")
    try:
        _, codes, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    except TypeError:
        raise TypeError(f"strata must hold labels of one comparable type, got {strata!r}") from None
    order = np.lexsort((generator.random(labels.size), codes))
    first = np.cumsum(sizes) - sizes
    rank = np.empty(labels.size, dtype=np.int64)
    rank[order] = np.arange(labels.size) - first[codes[order]]
    offsets = generator.random(sizes.size)
    cuts = np.floor(sizes[:, None] * np.cumsum(weights)[None, :-1] + offsets[:, None])
    return (rank[:, None] >= cuts[codes]).sum(axis=1).astype(np.int64)


# --- A/A tests ----------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class AATest(Record):
    """Result of :func:`aa_test` and :func:`simulate_aa` (arrays over runs for the latter).

    ``statistic``, ``pvalue``, ``df``, ``effect`` and the interval are Welch's t-test of the
    metric (treatment minus control); ``srm_statistic`` and ``srm_pvalue`` test the sample
    ratio against the design weights.
    """

    statistic: float | np.ndarray
    pvalue: float | np.ndarray
    df: float | np.ndarray
    effect: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    mean_control: float | np.ndarray
    mean_treatment: float | np.ndarray
    n_control: int | np.ndarray
    n_treatment: int | np.ndarray
    srm_statistic: float | np.ndarray
    srm_pvalue: float | np.ndarray
    weights: tuple[float, float]
    alpha: float

    def explain(self) -> str:
        """Plain-text derivation with the numbers plugged in (a summary for many runs)."""

        def f(value) -> str:
            return format_number(value, 4)

        if np.ndim(self.statistic) != 0:
            pvalues, srm = np.asarray(self.pvalue), np.asarray(self.srm_pvalue)
            runs = pvalues.size
            return "\n".join([
                f"{runs} A/A runs, alpha = {f(self.alpha)}",
                f"  metric: p-value < alpha in {int((pvalues < self.alpha).sum())} runs "
                f"({f(100 * np.mean(pvalues < self.alpha))}%; expected {f(100 * self.alpha)}%)",
                f"  sample ratio: p-value < alpha in {int((srm < self.alpha).sum())} runs "
                f"({f(100 * np.mean(srm < self.alpha))}%)",
                "  A calibrated pipeline gives uniform p-values: about alpha of the runs "
                "below alpha.",
            ])
        level = f"{format_number(100 * (1 - self.alpha), 4)}%"
        metric_verdict = (
            "imbalance at level alpha: see the Notes of aa_test before acting"
            if self.pvalue < self.alpha else "no evidence of imbalance"
        )
        srm_verdict = (
            "sample ratio mismatch: the assignment or logging is broken, investigate first"
            if self.srm_pvalue < self.alpha else "sample ratio as designed"
        )
        total = self.n_control + self.n_treatment
        return "\n".join([
            f"A/A test, alpha = {f(self.alpha)} (treatment minus control)",
            f"  sample ratio: {self.n_control} control, {self.n_treatment} treatment; "
            f"expected {f(total * self.weights[0])} / {f(total * self.weights[1])}; "
            f"X^2 = {f(self.srm_statistic)}, p-value = {f(self.srm_pvalue)}: {srm_verdict}",
            f"  metric means: control {f(self.mean_control)}, treatment {f(self.mean_treatment)}",
            f"  effect = {f(self.effect)}, Welch t = {f(self.statistic)} (df {f(self.df)}), "
            f"p-value = {f(self.pvalue)}: {metric_verdict}",
            f"  {level} CI for the effect: [{f(self.ci_low)}, {f(self.ci_high)}]",
        ])


def _check_two_weights(weights) -> tuple[float, float]:
    checked = _check_weights(weights)
    if len(checked) != 2:
        raise ValueError(f"weights must have exactly 2 variants for an A/A test, got {checked}")
    check_open_unit("weights", np.asarray(checked))
    return checked[0], checked[1]


def _aa_statistics(values: np.ndarray, variants: np.ndarray, weights, alpha: float, name: str):
    """Welch's t-test and the sample-ratio test for rows of variants (0, 1, or -1)."""
    centred = values - values.mean()
    rows = variants.reshape(-1, variants.shape[-1])
    masks = [(rows == arm).astype(float) for arm in (0, 1)]
    counts = [mask.sum(axis=1) for mask in masks]
    if min(c.min() for c in counts) < 2:
        raise ValueError(f"{name} must give each arm at least 2 units in every split")
    sums = [mask @ centred for mask in masks]
    squares = [mask @ centred**2 for mask in masks]
    means = [s / c for s, c in zip(sums, counts)]
    variances = [
        np.maximum(q - s * m, 0.0) / (c - 1) for q, s, m, c in zip(squares, sums, means, counts)
    ]
    shares = [v / c for v, c in zip(variances, counts)]
    se = np.sqrt(shares[0] + shares[1])
    effect = means[1] - means[0]
    flat = se == 0
    safe_se = np.where(flat, 1.0, se)
    limit = np.where(effect == 0, 0.0, np.copysign(np.inf, effect))
    statistic = np.where(flat, limit, effect / safe_se)
    welch_df = (shares[0] + shares[1]) ** 2 / np.where(
        flat, 1.0, shares[0] ** 2 / (counts[0] - 1) + shares[1] ** 2 / (counts[1] - 1)
    )
    df = np.where(flat, counts[0] + counts[1] - 2, welch_df)
    pvalue = np.where(flat & (effect == 0), 1.0, 2 * stats.t.sf(np.abs(statistic), df))
    half = stats.t.isf(alpha / 2, df) * se
    total = counts[0] + counts[1]
    expected = [total * weights[0], total * weights[1]]
    srm = sum((count - e) ** 2 / e for count, e in zip(counts, expected))
    mean_level = values.mean()
    lead = variants.shape[:-1]

    def shaped(array, kind=float):
        return kind(array[0]) if not lead else array.reshape(lead)

    return AATest(
        statistic=shaped(statistic),
        pvalue=shaped(pvalue),
        df=shaped(df),
        effect=shaped(effect),
        ci_low=shaped(effect - half),
        ci_high=shaped(effect + half),
        mean_control=shaped(means[0] + mean_level),
        mean_treatment=shaped(means[1] + mean_level),
        n_control=shaped(counts[0].astype(np.int64), int),
        n_treatment=shaped(counts[1].astype(np.int64), int),
        srm_statistic=shaped(srm),
        srm_pvalue=shaped(stats.chi2.sf(srm, 1)),
        weights=tuple(weights),
        alpha=alpha,
    )


def aa_test(values, variants, *, weights=(0.5, 0.5), alpha: float = 0.05) -> AATest:
    """Check one A/A split: is the metric balanced, and is the sample ratio as designed?

    An A/A test runs the whole pipeline (assignment, logging, analysis) with two identical
    arms. Two checks: Welch's t-test of the metric, treatment minus control,
    :math:`t = (\\bar y_1 - \\bar y_0) / \\sqrt{s_1^2/n_1 + s_0^2/n_0}` on Welch-Satterthwaite
    degrees of freedom, and the sample-ratio test, Pearson's
    :math:`X^2 = \\sum_{arm} (n_{arm} - n w_{arm})^2 / (n w_{arm})` on 1 degree of freedom.
    A metric that is constant in both arms gives t = 0 and p = 1 (never NaN).

    Parameters
    ----------
    values : array-like of float, shape (n,)
        The metric of every unit, e.g. a pre-period metric (before any treatment).
    variants : array-like of int, shape (n,) or (runs, n)
        0 = control, 1 = treatment, -1 = not enrolled (ignored). Each row is one A/A split.
    weights : (float, float)
        Design weights of control and treatment.
    alpha : float
        Significance level; the interval has confidence 1 - alpha.

    Returns
    -------
    AATest

    Notes
    -----
    What to do when an A/A shows imbalance:

    1. Check the sample ratio first. A sample ratio mismatch means units are lost or
       duplicated unequally (bot filtering, redirects, crashes, caching, a missing hash
       attribute); no metric from such a split can be trusted. Find the cause, fix it and
       start again (Kohavi, Tang & Xu, 2020, ch. 21).
    2. One significant A/A is expected: at alpha = 0.05 one split in twenty shows
       "imbalance" by chance. Judge the pipeline by many A/As (:func:`simulate_aa`, or
       many salts on historical data): their p-values should be uniform. Too many small
       p-values point to a wrong variance estimate (e.g. a per-page-view metric analysed as
       if page views were independent, when the unit of randomization is the user) or to
       a skewed metric with too few units for the t-test.
    3. Do not re-run the A/A until it passes or move units between arms by hand: both
       invalidate the error rates. If a pre-period metric is imbalanced under this salt,
       pick a new salt (re-randomize) before the experiment starts; platforms automate
       this by checking many salts on pre-period data and keeping a balanced one
       (Kohavi et al., 2012), a form of rerandomization (Morgan & Rubin, 2012). Imbalance
       left after randomization is handled by covariate adjustment (CUPED).
    4. A split that repeats an earlier experiment's salt inherits its carry-over effects:
       use a fresh key for every experiment.

    References
    ----------
    Kohavi, R., Tang, D. & Xu, Y. (2020), *Trustworthy Online Controlled Experiments*,
    ch. 19 (The A/A Test) and ch. 21 (Sample Ratio Mismatch).
    Kohavi, R., Deng, A., Frasca, B., Longbotham, R., Walker, T. & Xu, Y. (2012),
    Trustworthy online controlled experiments: five puzzling outcomes explained, KDD.
    Morgan, K. L. & Rubin, D. B. (2012), Rerandomization to improve covariate balance in
    experiments, *Annals of Statistics* 40(2), 1263-1282.
    Welch, B. L. (1947), The generalization of "Student's" problem when several different
    population variances are involved, *Biometrika* 34, 28-35.
    """
    weights = _check_two_weights(weights)
    alpha = check_alpha(alpha)
    metric = as_float_array("values", values)
    if metric.ndim != 1:
        raise ValueError(
            f"values must be a 1-D array with one value per unit, got shape {metric.shape}"
        )
    arms = _check_variants("variants", variants)
    if arms.shape[-1] != metric.size:
        raise ValueError(
            f"variants must have one entry per value: values has {metric.size} units, "
            f"variants has shape {arms.shape}"
        )
    if arms.max() > 1:
        raise ValueError(f"variants must be 0, 1 or -1 for an A/A test, got {int(arms.max())}")
    return _aa_statistics(metric, arms, weights, alpha, "variants")


def simulate_aa(values, *, n_runs: int, weights=(0.5, 0.5), alpha: float = 0.05, rng) -> AATest:
    """Re-randomize the same units ``n_runs`` times and run :func:`aa_test` on every split.

    Each unit goes to treatment with probability ``weights[1]`` independently (the model
    of hash-based assignment). Over the runs the p-values of a calibrated analysis are
    uniform, so a fraction alpha is below alpha; a skewed metric or a wrong unit of
    analysis shows up as a departure from that. Memory: about 25 * n_runs * n bytes at
    the peak (n units).

    Parameters
    ----------
    values : array-like of float, shape (n,)
        The metric of every unit.
    n_runs : int
        Number of A/A splits.
    weights, alpha
        As for :func:`aa_test`.
    rng : numpy.random.Generator or int
        Source of randomness.

    Returns
    -------
    AATest
        Every numeric field is an array of length ``n_runs``.
    """
    weights = _check_two_weights(weights)
    alpha = check_alpha(alpha)
    n_runs = check_int("n_runs", n_runs, minimum=1)
    generator = as_generator(rng)
    metric = as_float_array("values", values)
    if metric.ndim != 1 or metric.size < 4:
        raise ValueError(
            f"values must be a 1-D array of at least 4 units, got shape {metric.shape}"
        )
    variants = (generator.random((n_runs, metric.size)) < weights[1]).astype(np.int8)
    return _aa_statistics(metric, variants, weights, alpha, "values (too few units)")
