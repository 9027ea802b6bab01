"""Private argument checks of :mod:`abteach.assignment`: ids as strings, weights, namespaces.

Ids are checked and packed into one buffer of code units (:class:`_Packed`): UTF-8 bytes for
:func:`~abteach.assignment.hashing.fnv1a32`, UTF-16 code units for GrowthBook's hash (as its
JavaScript and Python SDKs hash them), so that the hashing of
:mod:`abteach.assignment.hashing` can run over many ids at once with numpy.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from abteach._validate import (
    as_float_array,
    check_closed_unit,
    check_nonnegative,
    check_scalar,
    first_bad,
)

#: How far the weights may sum from 1.
WEIGHT_TOLERANCE = 1e-9
#: GrowthBook hash versions and their number of levels — v1 gives k / 1000, v2 gives k / 10000.
HASH_LEVELS = {1: 1000, 2: 10000}


def _utf8(name: str, text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{name} must be encodable as UTF-8, got {text!r}") from None


def _utf16(text: str) -> np.ndarray:
    """The UTF-16 code units of ``text`` (a character outside the BMP gives two surrogates).

    These are the numbers JavaScript's ``charCodeAt`` returns; a checked text (UTF-8
    encodable) has no lone surrogates.
    """
    return np.frombuffer(text.encode("utf-16-le"), dtype="<u2").astype(np.uint16)


def _check_text(name: str, value, *, allow_empty: bool = False) -> bytes:
    """Check that ``value`` is a string (non-empty unless allowed); return its UTF-8 bytes."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {value!r}")
    if not value and not allow_empty:
        raise ValueError(f"{name} must be a non-empty string, got ''")
    return _utf8(name, value)


@dataclass(frozen=True)
class _Packed:
    """Strings as one buffer of code units: row i is ``buffer[starts[i]:starts[i] + lengths[i]]``.

    The units are UTF-8 bytes (uint8) or UTF-16 code units (uint16), see :func:`_pack`.
    """

    buffer: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray
    shape: tuple[int, ...]


def _pack(
    name: str, values, *, allow_empty: bool = False, scalar_ok: bool = True, utf16: bool = False
) -> _Packed:
    """Check that ``values`` is an array-like of strings and pack their code units.

    The units are the UTF-8 bytes, or with ``utf16`` the UTF-16 code units (GrowthBook's
    hash). ASCII ids (the usual case) are joined and encoded in one call, each row's length
    being its number of characters (one unit per character in both encodings); other
    strings are encoded one by one.
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
        if utf16:
            encoded = [_utf16(text) for text in flat]
            buffer = np.concatenate(encoded)
        else:
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
    if (array > 1).any():
        raise ValueError(f"weights must each be at most 1 (they sum to 1), got "
                         f"{first_bad(array, array > 1)}")
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

