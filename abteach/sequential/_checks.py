"""Argument checks shared by the modules of :mod:`abteach.sequential` (private)."""

from __future__ import annotations

import numpy as np

from abteach._validate import (
    as_float_array,
    check_alpha,
    check_int,
    check_positive,
    check_scalar,
    first_bad,
)

#: Most looks accepted (the work grows linearly with the looks: 365 take 0.15 to 0.5 s).
MAX_LOOKS = 1000
#: Smallest increase of the information fraction between two looks.
MIN_INFORMATION_STEP = 1e-6
#: Smallest alpha of a design: below it the boundaries lie beyond 7 standard deviations and
#: the spending increments of later looks fall below what the recursion resolves.
MIN_ALPHA = 1e-12
#: Largest information fraction of a final analysis that over-runs the planned maximum (ten
#: times the plan: beyond that the plan was no plan, and the design should be redone).
MAX_OVERRUN = 10.0
#: Largest absolute drift (expected z-statistic at full information): every probability is
#: then 0 or 1 to machine precision, and larger values would overflow their squares.
MAX_DRIFT = 1e6


def _check_fractions(name: str, values, *, last_max: float = 1.0) -> np.ndarray:
    """Information fractions: a 1-D array, strictly increasing (by >= 1e-6), in (0, 1].

    With ``last_max`` > 1 (monitoring: fractions of the planned maximum information) the last
    value may exceed 1, up to ``last_max``, and no earlier value may reach 1: the look that
    reaches the planned maximum is the final analysis.
    """
    t = as_float_array(name, values)
    if t.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D sequence of information fractions, got shape {t.shape}"
        )
    if t.size > MAX_LOOKS:
        raise ValueError(f"{name} may hold at most {MAX_LOOKS} looks, got {t.size}")
    # Before the last look: in (0, 1], or in (0, 1) when the last look may over-run.
    bad = (t <= 0) | ((t >= 1) if last_max > 1 else (t > 1))
    bad[-1] = not 0 < t[-1] <= last_max
    if bad.any():
        i = int(np.argmax(bad))
        if last_max == 1.0 or not 0 < t[i] <= last_max:
            span = "(0, 1]" if last_max == 1.0 else f"(0, {last_max:g}] (the last look)"
            raise ValueError(f"{name} must lie in {span}, got {t[i].item()!r} (at index {i})")
        raise ValueError(
            f"{name} may reach 1 (the planned maximum) only at the last look given, the final "
            f"analysis; got {t[i].item()!r} at index {i} followed by {t.size - 1 - i} later "
            "look(s)"
        )
    step = np.diff(t)
    if (step <= 0).any():
        i = int(np.argmax(step <= 0))
        raise ValueError(
            f"{name} must be strictly increasing, got {t[i].item()!r} then {t[i + 1].item()!r} "
            f"(at indices {i} and {i + 1})"
        )
    if (step < MIN_INFORMATION_STEP).any():
        i = int(np.argmax(step < MIN_INFORMATION_STEP))
        raise ValueError(
            f"{name} must increase by at least {MIN_INFORMATION_STEP:g} from one look to the "
            f"next, got {t[i].item()!r} then {t[i + 1].item()!r} (at indices {i} and {i + 1}); "
            "merge such looks"
        )
    return t


def _check_looks(looks, *, last_max: float = 1.0) -> np.ndarray:
    """``looks``: a number of equally spaced looks, or a sequence of information fractions
    (the last one up to ``last_max``, see :func:`_check_fractions`)."""
    if isinstance(looks, (bool, np.bool_)):
        raise TypeError(
            f"looks must be a number of looks or a sequence of fractions, got {looks!r}"
        )
    if isinstance(looks, (int, np.integer)):
        k = check_int("looks", looks, minimum=1)
        if k > MAX_LOOKS:
            raise ValueError(f"looks must be at most {MAX_LOOKS}, got {k}")
        return np.arange(1, k + 1) / k
    if isinstance(looks, (float, np.floating)):
        raise TypeError(
            f"looks must be a whole number of looks or a sequence of fractions, got {looks!r}"
        )
    return _check_fractions("looks", looks, last_max=last_max)


def _check_design_alpha(alpha) -> float:
    """alpha of a group-sequential design: in [MIN_ALPHA, 1)."""
    alpha = check_alpha(alpha)
    if alpha < MIN_ALPHA:
        raise ValueError(
            f"alpha must be >= {MIN_ALPHA:g} for a group-sequential design (smaller levels put "
            f"the boundaries beyond 7 standard deviations, out of the recursion's reach), got "
            f"{alpha!r}"
        )
    return alpha


def _check_drift(drift) -> np.ndarray:
    """drift: a number or a 1-D array, each value in [-MAX_DRIFT, MAX_DRIFT]."""
    d = as_float_array("drift", drift)
    if d.ndim > 1:
        raise ValueError(f"drift must be a number or a 1-D array, got shape {d.shape}")
    bad = np.abs(d) > MAX_DRIFT
    if bad.any():
        raise ValueError(
            f"drift must be in [-{MAX_DRIFT:g}, {MAX_DRIFT:g}] (the expected z-statistic at full "
            f"information; beyond that every probability is 0 or 1), got "
            f"{first_bad(d, bad)}"
        )
    return d


def _check_parameters(method: str, gamma, rho, cumulative_alpha) -> tuple:
    """Check that exactly the parameters of ``method`` are given; return them as floats."""
    given = {"gamma": gamma, "rho": rho, "cumulative_alpha": cumulative_alpha}
    needed = {"hsd": "gamma", "power": "rho", "user": "cumulative_alpha"}.get(method)
    for name, value in given.items():
        if name != needed and value is not None:
            users = {"gamma": "'hsd'", "rho": "'power'", "cumulative_alpha": "'user'"}[name]
            raise ValueError(
                f"{name} is only used with method={users}, got {name}={value!r} with "
                f"method={method!r}"
            )
    if needed is not None and given[needed] is None:
        raise ValueError(f"method={method!r} needs {needed}, got {needed}=None")
    if gamma is not None:
        gamma = check_scalar("gamma", as_float_array("gamma", gamma))
        if abs(gamma) > 40:
            raise ValueError(f"gamma must be in [-40, 40], got {gamma!r}")
    if rho is not None:
        rho = check_scalar("rho", check_positive("rho", rho))
        if rho > 50:
            raise ValueError(f"rho must be in (0, 50], got {rho!r}")
    return gamma, rho


def _check_user_spending(cumulative_alpha, n_looks: int, alpha: float) -> np.ndarray:
    spent = as_float_array("cumulative_alpha", cumulative_alpha)
    if spent.ndim != 1 or spent.size != n_looks:
        raise ValueError(
            f"cumulative_alpha must hold one value per look ({n_looks}), got shape {spent.shape}"
        )
    bad = (spent < 0) | (spent > alpha)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"cumulative_alpha must lie in [0, alpha = {alpha!r}], got {spent[i].item()!r} "
            f"(at index {i})"
        )
    if (np.diff(spent) < 0).any():
        i = int(np.argmax(np.diff(spent) < 0))
        raise ValueError(
            f"cumulative_alpha must be non-decreasing, got {spent[i].item()!r} then "
            f"{spent[i + 1].item()!r} (at indices {i} and {i + 1})"
        )
    return spent
