"""Argument checks shared by every public function of abteach.

Each check names the argument and quotes the bad value, e.g.
``ValueError("p_control must be in (0, 1), got 1.2")``, so that a learner sees at once
which argument is wrong. Checks accept scalars and numpy arrays; for an array the
message quotes the first offending element and its index.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import numpy as np

ALTERNATIVES = ("two-sided", "larger", "smaller")
#: scipy's words for the one-sided alternatives, accepted as aliases.
ALTERNATIVE_ALIASES = {"greater": "larger", "less": "smaller"}
#: The most cells (numbers) a simulation or design may ask for: 8 bytes each, about 2 GiB.
MAX_CELLS = 2**28


def first_bad(values: np.ndarray, bad: np.ndarray) -> str:
    """Describe the first offending element of ``values`` flagged in ``bad``."""
    if values.ndim == 0:
        return f"{values.item()!r}"
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    where = index[0] if len(index) == 1 else index
    return f"{values[index].item()!r} (at index {where})"


def as_float_array(name: str, value) -> np.ndarray:
    """Convert ``value`` to a float array, refusing booleans, strings, None and NaN.

    Returns a 0-d array for a scalar, so callers can tell scalars from arrays by ``ndim``.
    """
    if value is None or isinstance(value, (str, bytes, bool, np.bool_)):
        raise TypeError(f"{name} must be a number or an array of numbers, got {value!r}")
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested sequences
        raise TypeError(f"{name} must be a number or an array of numbers, got {value!r}") from exc
    if array.dtype == bool or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise TypeError(f"{name} must be a number or an array of numbers, got {value!r}")
    array = array.astype(float)
    if array.size == 0:
        raise ValueError(f"{name} must not be empty, got {value!r}")
    finite = np.isfinite(array)
    if not finite.all():
        raise ValueError(f"{name} must be finite, got {first_bad(array, ~finite)}")
    return array


def check_open_unit(name: str, value) -> np.ndarray:
    """Check that every element of ``value`` lies in the open interval (0, 1)."""
    array = as_float_array(name, value)
    bad = (array <= 0) | (array >= 1)
    if bad.any():
        raise ValueError(f"{name} must be in (0, 1), got {first_bad(array, bad)}")
    return array


def check_scalar(name: str, array: np.ndarray) -> float:
    """Return a checked 0-d array as a float; refuse an array where one number is expected."""
    if np.ndim(array) != 0:
        raise ValueError(f"{name} must be a single number, got an array of shape {np.shape(array)}")
    return float(array)


#: Smallest significance level accepted: below it 1 - alpha / 2 rounds to 1 in floating point
#: and the critical value becomes infinite.
MIN_ALPHA = 1e-15


def check_alpha(alpha) -> float:
    """The significance level: one number in [MIN_ALPHA, 1)."""
    value = check_scalar("alpha", check_open_unit("alpha", alpha))
    if value < MIN_ALPHA:
        raise ValueError(f"alpha must be >= {MIN_ALPHA:g} (a smaller level has no finite critical "
                         f"value in floating point), got {alpha!r}")
    return value


def check_closed_unit(name: str, value) -> np.ndarray:
    """Check that every element of ``value`` lies in the closed interval [0, 1]."""
    array = as_float_array(name, value)
    bad = (array < 0) | (array > 1)
    if bad.any():
        raise ValueError(f"{name} must be in [0, 1], got {first_bad(array, bad)}")
    return array


def check_positive(name: str, value) -> np.ndarray:
    """Check that every element of ``value`` is a finite number > 0."""
    array = as_float_array(name, value)
    bad = array <= 0
    if bad.any():
        raise ValueError(f"{name} must be > 0, got {first_bad(array, bad)}")
    return array


def check_nonnegative(name: str, value) -> np.ndarray:
    """Check that every element of ``value`` is a finite number >= 0."""
    array = as_float_array(name, value)
    bad = array < 0
    if bad.any():
        raise ValueError(f"{name} must be >= 0, got {first_bad(array, bad)}")
    return array


def check_count(name: str, value, *, minimum: int = 0) -> np.ndarray:
    """Check that every element of ``value`` is a whole number >= ``minimum``.

    Floats holding whole numbers (``10.0``) are accepted; ``10.5`` is refused.
    Returns an int64 array.
    """
    array = as_float_array(name, value)
    bad = array != np.round(array)
    if bad.any():
        raise ValueError(f"{name} must be a whole number, got {first_bad(array, bad)}")
    bad = array < minimum
    if bad.any():
        raise ValueError(f"{name} must be >= {minimum}, got {first_bad(array, bad)}")
    bad = array > 2**53
    if bad.any():
        raise ValueError(f"{name} must be at most 2**53, got {first_bad(array, bad)}")
    return array.astype(np.int64)


def check_int(name: str, value, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Check that ``value`` is a single Python or numpy integer (not a bool) in [minimum, maximum]."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum:,}, got {value!r}")
    return int(value)


def check_bool(name: str, value) -> bool:
    """Check that ``value`` is True or False (a Python or numpy bool, not 0/1 or a string)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_work(what: str, cells: float, *, limit: int = MAX_CELLS) -> None:
    """Refuse a computation that would hold more than ``limit`` numbers at once.

    ``what`` names the arguments that set the size, e.g. ``"n_experiments * n_per_arm"``, so the
    message says which knob to turn: a call that cannot finish fails at once, with the reason,
    instead of running out of memory or time.
    """
    if cells > limit:
        raise ValueError(
            f"{what} = {cells:,.0f} numbers is too large (at most {limit:,}, about "
            f"{limit * 8 / 2**30:.0f} GiB); use fewer or smaller simulations"
        )


def check_choice(name: str, value, choices: Iterable[str]) -> str:
    """Check that ``value`` is one of the strings in ``choices``."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value


def check_alternative(value) -> str:
    """Check the ``alternative`` argument: "two-sided", "larger" or "smaller".

    scipy's names "greater" and "less" are accepted and mean "larger" and "smaller".
    """
    if isinstance(value, str) and value in ALTERNATIVE_ALIASES:
        return ALTERNATIVE_ALIASES[value]
    if not isinstance(value, str) or value not in ALTERNATIVES:
        raise ValueError(
            f"alternative must be one of 'two-sided', 'larger', 'smaller' (or scipy's 'greater', "
            f"'less'), got {value!r}"
        )
    return value


def broadcast(**arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """Broadcast named arrays together, naming the arguments whose shapes do not fit."""
    try:
        return tuple(np.broadcast_arrays(*arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{name} has shape {np.shape(a)}" for name, a in arrays.items())
        raise ValueError(f"array arguments have mismatched shapes: {shapes}") from None


def scalar_or_array(array: np.ndarray):
    """Return a Python float for a 0-d result and the array otherwise."""
    return float(array) if np.ndim(array) == 0 else array


def as_generator(rng) -> np.random.Generator:
    """Turn ``rng`` (a ``numpy.random.Generator`` or an integer seed) into a Generator.

    ``None`` is refused on purpose: every draw in the course is seeded.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (bool, np.bool_)) or not isinstance(rng, numbers.Integral) or rng < 0:
        raise TypeError(
            f"rng must be a numpy.random.Generator or a non-negative integer seed, got {rng!r}"
        )
    return np.random.default_rng(int(rng))
