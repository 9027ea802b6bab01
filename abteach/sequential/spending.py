r"""Alpha-spending functions (Lan & DeMets 1983): how much type I error each look may use.

A spending function :math:`\alpha(t)` says how much of the type I error may be used up by
information fraction t; the group-sequential boundaries of :func:`~abteach.sequential.boundaries`
are then solved look by look, so the number and timing of the looks need not be fixed in
advance.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr, ndtri

from abteach._validate import check_alpha, check_alternative, check_choice
from abteach.sequential._checks import _check_fractions, _check_parameters

__all__ = ["CLASSIC_METHODS", "METHODS", "SPENDING_METHODS", "alpha_spending"]

CLASSIC_METHODS = ("pocock", "obf")
SPENDING_METHODS = ("ld-obf", "ld-pocock", "hsd", "power", "user")
METHODS = CLASSIC_METHODS + SPENDING_METHODS


def _one_sided_spending(t: np.ndarray, level: float, method: str, gamma, rho) -> np.ndarray:
    """Cumulative alpha spent on one side by fraction t, for one-sided level ``level``."""
    if method == "ld-obf":
        return 2.0 * ndtr(ndtri(level / 2.0) / np.sqrt(t))
    if method == "ld-pocock":
        return level * np.log1p((math.e - 1.0) * t)
    if method == "hsd":
        if gamma == 0:
            return level * t
        return level * np.expm1(-gamma * t) / math.expm1(-gamma)
    return level * t**rho  # "power"


def alpha_spending(
    information_fractions,
    *,
    alpha: float = 0.05,
    method: str = "ld-obf",
    gamma: float | None = None,
    rho: float | None = None,
    alternative: str = "two-sided",
    convention: str = "per-side",
) -> np.ndarray:
    r"""Cumulative type I error spent by each information fraction (Lan & DeMets 1983).

    For a one-sided level a, the spending functions are

    ==============  ==========================================================
    ``ld-obf``      :math:`a_1(t) = 2 - 2\Phi(z_{1-a/2} / \sqrt{t})`
    ``ld-pocock``   :math:`a \log(1 + (e - 1) t)`
    ``hsd``         :math:`a (1 - e^{-\gamma t}) / (1 - e^{-\gamma})` (:math:`a t` at gamma = 0)
    ``power``       :math:`a t^\rho`
    ==============  ==========================================================

    A two-sided design spends a = alpha/2 on each side, so the total is 2 a_1(t) (the
    convention of gsDesign ``sfLDOF``, rpact ``asOF`` and ldbounds). Only ``ld-obf`` is not
    proportional to a; for it ``convention="whole-alpha"`` gives the *other* design found in
    the wild, the whole two-sided alpha put into the one-sided formula: total
    :math:`2 - 2\Phi(z_{1-\alpha/2} / \sqrt{t})`. It spends more early (K = 5 equally spaced
    looks: boundaries 4.383, 3.100, 2.553, 2.254, 2.064 instead of 4.877, 3.357, 2.680, 2.290,
    2.031) and is not what those packages compute; pass it to
    ``boundaries(..., method="user", cumulative_alpha=...)`` to see its boundaries.

    Parameters
    ----------
    information_fractions : sequence of float in (0, 1], strictly increasing
    alpha : float
        Total type I error: two-sided unless ``alternative`` says otherwise.
    method : {"ld-obf", "ld-pocock", "hsd", "power"}
    gamma : float in [-40, 40]
        Hwang-Shih-DeCani parameter (``hsd`` only): -4 is O'Brien-Fleming-like, 1 is
        Pocock-like, 0 spends linearly.
    rho : float in (0, 50]
        Exponent of the power family (``power`` only): 3 is O'Brien-Fleming-like, 1 linear.
    alternative : {"two-sided", "larger", "smaller"}
    convention : {"per-side", "whole-alpha"}
        How a two-sided ``ld-obf`` design is read (see above); ignored by the other methods,
        which are proportional to alpha.

    Returns
    -------
    numpy.ndarray
        Total alpha spent by each fraction (both sides together for a two-sided design).

    References
    ----------
    Lan & DeMets (1983); Hwang, Shih & DeCani (1990); Jennison & Turnbull (2000), ch. 7.

    Examples
    --------
    >>> alpha_spending([0.5, 1.0], method="ld-pocock").round(5)
    array([0.03101, 0.05   ])
    """
    t = _check_fractions("information_fractions", information_fractions)
    alpha = check_alpha(alpha)
    method = check_choice("method", method, SPENDING_METHODS[:-1])
    alternative = check_alternative(alternative)
    convention = check_choice("convention", convention, ("per-side", "whole-alpha"))
    gamma, rho = _check_parameters(method, gamma, rho, None)
    return _total_spending(t, alpha, method, gamma, rho, alternative, convention)


def _total_spending(t, alpha, method, gamma, rho, alternative, convention="per-side"):
    if alternative == "two-sided" and convention == "per-side":
        return 2.0 * _one_sided_spending(t, alpha / 2.0, method, gamma, rho)
    return _one_sided_spending(t, alpha, method, gamma, rho)
