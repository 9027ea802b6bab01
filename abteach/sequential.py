"""Sequential testing: the cost of peeking, group-sequential boundaries and always-valid inference.

An experiment whose dashboard is checked every day and stopped at the first "significant" day
does not have the false-positive rate its p-value promises: the z-statistic of accumulating data
is a random walk, and a random walk that is given many chances to cross 1.96 eventually does.
Testing at two-sided 5% after each of K equally sized batches under H0 gives an overall
false-positive rate of 8.3% (K = 2), 14.2% (K = 5), 19.3% (K = 10) and 37.4% (K = 100)
(:func:`peeking_false_positive_rate`; Armitage, McPherson & Rowe 1969), not 1 - 0.95^K, which
would treat the looks as independent.

Three honest ways to look early:

* **Group-sequential boundaries** (:func:`boundaries`): plan the looks, and reject at look k
  only when abs(Z_k) >= b_k, with critical values b_k chosen so that the chance of ever crossing
  under H0 is exactly alpha. Pocock (1977) uses one constant; O'Brien & Fleming (1979) use
  b_k = C sqrt(K / k), very strict early and close to the fixed-design value at the end.
* **Alpha spending** (Lan & DeMets 1983): a spending function alpha(t) says how much of the
  type I error may be used up by information fraction t; b_k is solved look by look, so the
  number and timing of the looks need not be fixed in advance.
* **Always-valid inference** (:func:`msprt`; Johari, Koomen, Pekelis & Walsh 2022): a mixture
  sequential probability ratio test gives p-values and confidence intervals that stay valid
  however often, and whenever, one looks, at a price in power.

Conventions
-----------
Z_k is the z-statistic (treatment minus control) at look k, computed from all data so far; t_k
in (0, 1] is the information fraction (share of the planned maximum sample size, for a
difference in means or proportions). Under an alternative, E[Z_k] = drift * sqrt(t_k): the
**drift** is the expected z-statistic at full information, delta / SE(delta-hat at t = 1).
Two-sided designs spend alpha/2 per side, symmetrically (the convention of gsDesign, rpact and
ldbounds): reject H0 at look k when abs(Z_k) >= b_k. One-sided designs (``alternative="larger"``
or ``"smaller"``) spend the whole alpha on one side and reject when Z_k >= b_k (or
Z_k <= -b_k).

Method
------
Every probability is computed by the recursive numerical integration of Armitage, McPherson &
Rowe (1969) in the form of Jennison & Turnbull (2000, ch. 19): the sub-density of Z_k on the
continuation region (paths that have not stopped) is held on a quadrature grid spanning that
region and propagated look to look through the normal transition density of the independent
increments,

    h_k(z) = integral over the continuation region at look k-1 of
             h_{k-1}(u) * sqrt(t_k / D_k) * phi((z sqrt(t_k) - u sqrt(t_{k-1}) - drift D_k)
                                                  / sqrt(D_k)) du,        D_k = t_k - t_{k-1},

and the probability of crossing the upper boundary at look k is the same integral with the
normal survival function in place of the density. Each step is vectorised over the grid (one
matrix, or band, of transition densities per look; the only Python loop is over looks).
Spending boundaries are solved look by look (Newton's method on the log of the crossing
probability, safeguarded by bisection); Pocock and O'Brien-Fleming constants by one Brent
root find on "total crossing probability = alpha".

Quadrature: Jennison & Turnbull integrate with Simpson's rule on a fixed grid (dense in the
middle, logarithmically spaced tails; gsDesign uses it with r = 18). That grid assumes the
increment between looks is not small: with hundreds of looks the transition density is narrow
(its sd is sqrt(D_k / t_k), 0.05 for 365 daily looks), and the peeking probability computed
that way errs by 1e-8 at 5 looks, 6e-8 at 10, 6e-6 at 100 and 6e-5 at 365. Here every grid is
made of Gauss-Legendre panels of 8 nodes, no wider than four standard deviations of the
transition densities into and out of that look (and never wider than 1), covering the
continuation region within 12 standard deviations of the mean. Crossing probabilities are then
accurate to about 1e-9 whatever the number of looks: halving every panel changes boundaries
and constants by less than 1e-8 at 100 and 365 looks, and the tests agree with nested
quadrature (two looks) to 1e-9, with gsDesign to its 1e-6 search tolerance and with rpact to
its 8 printed digits.

References
----------
Armitage, P., McPherson, C. K. & Rowe, B. C. (1969), Repeated significance tests on
accumulating data, *JRSS A* 132, 235-244.
Pocock, S. J. (1977), Group sequential methods in the design and analysis of clinical trials,
*Biometrika* 64, 191-199.
O'Brien, P. C. & Fleming, T. R. (1979), A multiple testing procedure for clinical trials,
*Biometrics* 35, 549-556.
Lan, K. K. G. & DeMets, D. L. (1983), Discrete sequential boundaries for clinical trials,
*Biometrika* 70, 659-663.
Hwang, I. K., Shih, W. J. & DeCani, J. S. (1990), Group sequential designs using a family of
type I error probability spending functions, *Statistics in Medicine* 9, 1439-1445.
Jennison, C. & Turnbull, B. W. (2000), *Group Sequential Methods with Applications to Clinical
Trials*, Chapman & Hall/CRC: ch. 2 (Tables 2.1, 2.3), ch. 7 (spending functions), ch. 19
(numerical computations).
Johari, R., Koomen, P., Pekelis, L. & Walsh, D. (2022), Always valid inference: continuous
monitoring of A/B tests, *Operations Research* 70, 1806-1821 (arXiv 1512.04922, 2017).
Howard, S. R., Ramdas, A., McAuliffe, J. & Sekhon, J. (2021), Time-uniform, nonparametric,
nonasymptotic confidence sequences, *Annals of Statistics* 49, 1055-1080.
Robbins, H. (1970), Statistical methods related to the law of the iterated logarithm, *Annals
of Mathematical Statistics* 41, 1397-1409.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

from abteach._records import Record, format_number
from abteach._validate import (
    as_float_array,
    as_generator,
    check_alpha,
    check_alternative,
    check_choice,
    check_int,
    check_open_unit,
    check_positive,
    check_scalar,
)

__all__ = [
    "CLASSIC_METHODS",
    "METHODS",
    "SPENDING_METHODS",
    "CrossingProbabilities",
    "DesignCharacteristics",
    "GroupSequentialDesign",
    "MixtureSPRT",
    "PeekingSimulation",
    "SequentialAnalysis",
    "alpha_spending",
    "boundaries",
    "compare_designs",
    "crossing_probabilities",
    "design_characteristics",
    "msprt",
    "peeking_false_positive_rate",
    "sequential_analysis",
    "simulate_peeking",
    "simulate_z_streams",
]

CLASSIC_METHODS = ("pocock", "obf")
SPENDING_METHODS = ("ld-obf", "ld-pocock", "hsd", "power", "user")
METHODS = CLASSIC_METHODS + SPENDING_METHODS

#: Most looks accepted (the work grows linearly with the looks: 365 take 0.15 to 0.5 s).
MAX_LOOKS = 1000
#: Smallest increase of the information fraction between two looks.
MIN_INFORMATION_STEP = 1e-6
#: A spending increment below this is treated as zero: that look gets an infinite boundary.
MIN_SPEND = 1e-30

# Quadrature grid (see "Quadrature" in the module docstring).
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(8)
_REACH = 12.0  # the grid covers the mean +- 12 sd (the normal density is below 1e-31 beyond)
_PANEL_PER_SD = 4.0  # panel width <= 4 sd of the transition density ...
_MAX_PANEL = 1.0  # ... and <= 1
_KERNEL_REACH = 8.5  # transition densities are summed over +- 8.5 sd (relative size 2e-16)
_XTOL = 1e-12  # Brent tolerance on boundaries, constants and drifts
_SQRT_2PI = math.sqrt(2.0 * math.pi)

_DESCRIPTION = {
    "pocock": "Pocock: the same critical value C at every look",
    "obf": "O'Brien-Fleming: b_k = C sqrt(t_K / t_k), strict early, lenient late",
    "ld-obf": "Lan-DeMets O'Brien-Fleming-type spending",
    "ld-pocock": "Lan-DeMets Pocock-type spending, alpha(t) = alpha log(1 + (e - 1) t)",
    "hsd": "Hwang-Shih-DeCani spending, alpha(t) = alpha (1 - exp(-gamma t)) / (1 - exp(-gamma))",
    "power": "power-family spending, alpha(t) = alpha t^rho",
    "user": "user-given cumulative alpha spent at each look",
}


# --- argument checks -------------------------------------------------------------------------


def _check_fractions(name: str, values) -> np.ndarray:
    """Information fractions: a 1-D array in (0, 1], strictly increasing (by >= 1e-6)."""
    t = as_float_array(name, values)
    if t.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D sequence of information fractions, got shape {t.shape}"
        )
    if t.size > MAX_LOOKS:
        raise ValueError(f"{name} may hold at most {MAX_LOOKS} looks, got {t.size}")
    bad = (t <= 0) | (t > 1)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name} must lie in (0, 1], got {t[i].item()!r} (at index {i})")
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


def _check_looks(looks) -> np.ndarray:
    """``looks``: a number of equally spaced looks, or a sequence of information fractions."""
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
    return _check_fractions("looks", looks)


def _check_drift(drift) -> np.ndarray:
    d = as_float_array("drift", drift)
    if d.ndim > 1:
        raise ValueError(f"drift must be a number or a 1-D array, got shape {d.shape}")
    return d


# --- spending functions ----------------------------------------------------------------------


def _one_sided_spending(t: np.ndarray, level: float, method: str, gamma, rho) -> np.ndarray:
    """Cumulative alpha spent on one side by fraction t, for one-sided level ``level``."""
    if method == "ld-obf":
        return 2.0 * ndtr(-ndtri(1.0 - level / 2.0) / np.sqrt(t))
    if method == "ld-pocock":
        return level * np.log1p((math.e - 1.0) * t)
    if method == "hsd":
        if gamma == 0:
            return level * t
        return level * np.expm1(-gamma * t) / math.expm1(-gamma)
    return level * t**rho  # "power"


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


# --- the recursion ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _unit_grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights of n panels of width 2 on [0, 2n] (read-only)."""
    nodes = ((2 * np.arange(n) + 1)[:, None] + _GL_NODES).ravel()
    weights = np.tile(_GL_WEIGHTS, n)
    nodes.flags.writeable = weights.flags.writeable = False
    return nodes, weights


def _grid(low: float, high: float, panel: float) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [low, high], panels no wider than ``panel``."""
    if not low < high:  # empty continuation region: one node of weight zero
        return np.array([low]), np.zeros(1)
    n = max(1, math.ceil((high - low) / panel))
    half = (high - low) / (2 * n)
    nodes, weights = _unit_grid(n)
    return low + half * nodes, half * weights


def _gaussian(z: np.ndarray) -> np.ndarray:
    """exp(-z^2 / 2), computed in place."""
    np.square(z, out=z)
    z *= -0.5
    return np.exp(z, out=z)


class _Walk:
    """Sub-density of Z_k on the continuation region, propagated look by look.

    After :meth:`advance` to look k, ``mass[d, i]`` is the quadrature weight of ``nodes[i]``
    times the density there of Z_k for the paths with drift ``drift[d]`` that have crossed
    no boundary up to look k, so sums over nodes are probabilities (Jennison & Turnbull 2000,
    ch. 19). :meth:`crossing` gives the probabilities of crossing at the next look.
    """

    def __init__(self, fractions: np.ndarray, drift: np.ndarray):
        self.t = fractions
        self.root_t = np.sqrt(fractions)
        self.drift = drift  # shape (D,)
        # Panel width at each look: <= 4 sd of the transition densities into and out of it.
        step = np.diff(fractions)
        into = np.concatenate(([np.inf], np.sqrt(step / fractions[1:])))
        out = np.concatenate((np.sqrt(step / fractions[:-1]), [np.inf]))
        self.panel = np.minimum(_MAX_PANEL, _PANEL_PER_SD * np.minimum(into, out))
        self.nodes = np.zeros(0)
        self.mass = np.zeros((drift.size, 0))

    def crossing(self, k: int, lower: float, upper: float, symmetric: bool = False):
        """P(no crossing before look k, then Z_k >= upper) and (..., Z_k <= lower), per drift.

        ``symmetric``: the walk is symmetric (drift 0, lower = -upper at every look), so the
        two probabilities are equal and only one is computed.
        """
        if k == 0:
            mean = self.drift * self.root_t[0]
            return ndtr(mean - upper), ndtr(lower - mean)
        step = self.t[k] - self.t[k - 1]
        sd = math.sqrt(step)
        centre = self.nodes * (self.root_t[k - 1] / sd) + (self.drift * sd)[:, None]
        up = np.sum(self.mass * ndtr(centre - upper * (self.root_t[k] / sd)), axis=1)
        if symmetric:
            return up, up
        down = np.sum(self.mass * ndtr(lower * (self.root_t[k] / sd) - centre), axis=1)
        return up, down

    def advance(self, k: int, lower: float, upper: float) -> None:
        """Move to look k, keeping the paths with lower < Z_k < upper."""
        mean = self.drift * self.root_t[k]
        low = max(lower, float(mean.min()) - _REACH)
        high = min(upper, float(mean.max()) + _REACH)
        nodes, weights = _grid(low, high, float(self.panel[k]))
        if k == 0:
            density = np.exp(-0.5 * (nodes[None, :] - mean[:, None]) ** 2) / _SQRT_2PI
        else:
            density = self._propagate(k, nodes)
        self.nodes, self.mass = nodes, weights * density

    def _propagate(self, k: int, nodes: np.ndarray) -> np.ndarray:
        """Density of Z_k at ``nodes`` for the paths still running, shape (D, len(nodes))."""
        step = self.t[k] - self.t[k - 1]
        sd = math.sqrt(step)
        scale = self.root_t[k] / (sd * _SQRT_2PI)  # Jacobian of S_k = Z_k sqrt(t_k)
        source = self.nodes * (self.root_t[k - 1] / sd)  # S_{k-1} / sd at the old nodes
        target = nodes * (self.root_t[k] / sd)  # S_k / sd at the new nodes
        shift = self.drift * sd  # E[S_k - S_{k-1}] / sd, shape (D,)
        # Old nodes that can reach each new node: within 8.5 sd (relative density > 2e-16).
        first = np.searchsorted(source, target - float(shift.max()) - _KERNEL_REACH)
        last = np.searchsorted(source, target - float(shift.min()) + _KERNEL_REACH, side="right")
        width = int((last - first).max())
        if 2 * width >= source.size:  # wide transition density: the full matrix
            z = target[None, None, :] - source[None, :, None] - shift[:, None, None]
            return scale * np.matmul(self.mass[:, None, :], _gaussian(z))[:, 0, :]
        # Narrow transition density: a band of ``width`` old nodes per new node. Indices past
        # the last node point to a sentinel node at +infinity with zero mass.
        index = np.minimum(first[:, None] + np.arange(width), source.size)
        source = np.append(source, np.inf)
        mass = np.concatenate((self.mass, np.zeros((self.mass.shape[0], 1))), axis=1)
        z = target[:, None] - source[index] - shift[:, None, None]
        return scale * np.einsum("dnw,dnw->dn", mass[:, index], _gaussian(z))


def _crossing(t, lower, upper, drift) -> tuple[np.ndarray, np.ndarray]:
    """Upper and lower crossing probabilities at each look, shape (D, K)."""
    walk = _Walk(t, drift)
    symmetric = not drift.any() and np.array_equal(lower, -upper)
    up = np.zeros((drift.size, t.size))
    down = np.zeros((drift.size, t.size))
    for k in range(t.size):
        up[:, k], down[:, k] = walk.crossing(k, lower[k], upper[k], symmetric)
        if k + 1 < t.size:
            walk.advance(k, lower[k], upper[k])
    return up, down


def _solve_look(walk: _Walk, k: int, spend: float, two_sided: bool) -> tuple[float, float]:
    """Critical value b at look k that spends ``spend`` under H0, and the side's probability.

    Two-sided: P(reach k, abs(Z_k) >= b) = spend (the walk is symmetric under H0, so each side
    gets half); one-sided: P(reach k, Z_k >= b) = spend. Newton's method on log P(b), kept
    inside a bracket (bisection when a step leaves it): spending increments range over many
    orders of magnitude, and log P is nearly linear in b.
    """
    sides = 2.0 if two_sided else 1.0
    if spend < MIN_SPEND:
        return math.inf, 0.0
    if k == 0:
        return float(-ndtri(spend / sides)), spend / sides
    sd = math.sqrt(walk.t[k] - walk.t[k - 1])
    centre = walk.nodes * float(walk.root_t[k - 1] / sd)
    mass = walk.mass[0]
    root_t = float(walk.root_t[k] / sd)

    def tail(b: float) -> tuple[float, float]:
        """P(reach k, cross at b) on all sides, and -dP/db (Python floats)."""
        x = centre - b * root_t
        p = sides * float(mass @ ndtr(x))
        return p, sides * root_t / _SQRT_2PI * float(mass @ _gaussian(x))

    low, high = (0.0 if two_sided else -40.0), 40.0
    if tail(low)[0] <= spend:  # spend is all that is still running: stop for sure
        return low, tail(low)[0] / sides
    log_spend = math.log(spend)
    b = min(max(float(-ndtri(spend / sides)), low), high)
    for _ in range(200):
        p, density = tail(b)
        if p <= 0.0:  # beyond all the mass: step back
            high = b
            b = 0.5 * (low + high)
            continue
        excess = math.log(p) - log_spend
        if excess > 0:
            low = b
        else:
            high = b
        # Newton step for log P (d log P / db = -density / p); bisect when it leaves the bracket.
        new = b + excess * p / density if density > 0 else math.inf
        if not low < new < high:
            new = 0.5 * (low + high)
        if abs(new - b) < _XTOL:
            b = new
            break
        b = new
    return b, tail(b)[0] / sides


def _limits(critical: np.ndarray, alternative: str) -> tuple[np.ndarray, np.ndarray]:
    """Continuation region (lower, upper) of Z_k per look."""
    inf = np.full(critical.shape, np.inf)
    if alternative == "two-sided":
        return -critical, critical
    if alternative == "larger":
        return -inf, critical
    return -critical, inf


def _spending_boundaries(t, cumulative, two_sided) -> tuple[np.ndarray, np.ndarray]:
    """Critical values that spend ``cumulative`` (total alpha by look), solved look by look
    under H0, and the probability of crossing at each look (both sides together)."""
    spend = np.diff(cumulative, prepend=0.0)
    walk = _Walk(t, np.zeros(1))
    critical = np.empty(t.size)
    crossed = np.empty(t.size)
    for k in range(t.size):
        critical[k], side = _solve_look(walk, k, float(spend[k]), two_sided)
        crossed[k] = (2.0 if two_sided else 1.0) * side
        if k + 1 < t.size:
            walk.advance(k, -critical[k] if two_sided else -math.inf, critical[k])
    return critical, crossed


def _classic_shape(t: np.ndarray, method: str) -> np.ndarray:
    return np.ones(t.size) if method == "pocock" else np.sqrt(t[-1] / t)


def _classic_constant(t, shape, alpha, alternative) -> tuple[float, np.ndarray]:
    """The constant C whose boundaries C * shape cross with total probability alpha under H0,
    and the crossing probability at each look."""
    sides = 2 if alternative == "two-sided" else 1
    zero = np.zeros(1)
    last = {}

    def log_excess(c: float) -> float:  # log P(cross) is nearly linear in C: fewer iterations
        up, down = _crossing(t, *_limits(c * shape, alternative), zero)
        last.update(c=c, crossed=up[0] + down[0])
        return math.log(float(last["crossed"].sum()) / alpha)

    # Between the fixed-design value (the last look alone spends alpha) and Bonferroni.
    low = float(ndtri(1.0 - alpha / sides))
    if t.size == 1:
        return low, np.array([alpha])
    c = brentq(log_excess, low, float(ndtri(1.0 - alpha / (sides * t.size))), xtol=1e-10)
    if last["c"] != c:
        log_excess(c)
    return c, last["crossed"]


# --- designs ---------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class GroupSequentialDesign(Record):
    """A group-sequential design: critical values per look (see :func:`boundaries`).

    Reject H0 at the first look k with abs(Z_k) >= ``critical_values[k]`` (two-sided), Z_k >=
    b_k ("larger") or Z_k <= -b_k ("smaller"). ``nominal_pvalues[k]`` is the same rule on the
    p-value scale (reject when the ordinary fixed-sample p-value at look k is <= it);
    ``cumulative_alpha[k]`` is the exact probability under H0 of stopping by look k.
    """

    critical_values: np.ndarray
    information_fractions: np.ndarray
    cumulative_alpha: np.ndarray
    nominal_pvalues: np.ndarray
    alpha: float
    method: str
    alternative: str
    constant: float | None = None
    gamma: float | None = None
    rho: float | None = None

    @property
    def n_looks(self) -> int:
        return int(self.critical_values.size)

    def explain(self) -> str:
        """The rule, the formula used and a look-by-look table."""
        a = format_number(self.alpha, 4)
        if self.alternative == "two-sided":
            head = (f"Two-sided group-sequential design, alpha = {a} "
                    f"({format_number(self.alpha / 2, 4)} per side, spent symmetrically)")
            rule = "reject H0 at the first look k with |Z_k| >= b_k"
        else:
            sign = ">= b_k" if self.alternative == "larger" else "<= -b_k"
            head = f"One-sided ({self.alternative}) group-sequential design, alpha = {a}"
            rule = f"reject H0 at the first look k with Z_k {sign}"
        detail = _DESCRIPTION[self.method]
        if self.method in CLASSIC_METHODS:
            detail += f", C = {format_number(self.constant, 6)} (solved so the total is alpha)"
        elif self.method == "ld-obf":
            level = self.alpha / 2 if self.alternative == "two-sided" else self.alpha
            z = format_number(float(ndtri(1 - level / 2)), 6)
            detail += (f": alpha_1(t) = 2 - 2 Phi(z_(1-{format_number(level / 2, 4)}) / sqrt(t)) "
                       f"= 2 - 2 Phi({z} / sqrt(t))"
                       + (" per side" if self.alternative == "two-sided" else ""))
        elif self.method == "hsd":
            detail += f", gamma = {format_number(self.gamma, 4)}"
        elif self.method == "power":
            detail += f", rho = {format_number(self.rho, 4)}"
        lines = [
            head,
            f"  {detail}",
            f"  {rule}; {self.n_looks} look(s)",
            "   look  fraction   boundary  nominal p  cumulative alpha",
        ]
        for k in range(self.n_looks):
            lines.append(
                f"  {k + 1:5d}  {self.information_fractions[k]:8.4f}  "
                f"{format_number(self.critical_values[k], 6):>9}  "
                f"{format_number(self.nominal_pvalues[k], 4):>9}  "
                f"{format_number(self.cumulative_alpha[k], 4):>16}"
            )
        lines.append(
            "  Probabilities by recursive numerical integration (Armitage, McPherson & Rowe "
            "1969; Jennison & Turnbull 2000, ch. 19)."
        )
        return "\n".join(lines)


def boundaries(
    looks,
    *,
    alpha: float = 0.05,
    method: str = "obf",
    gamma: float | None = None,
    rho: float | None = None,
    cumulative_alpha=None,
    alternative: str = "two-sided",
) -> GroupSequentialDesign:
    r"""Critical values of a group-sequential design.

    A two-sided design spends alpha/2 per side, symmetrically (gsDesign ``test.type = 2``,
    rpact ``sided = 2``, ldbounds): it rejects H0 at the first look k with
    :math:`|Z_k| \ge b_k`, and :math:`P_{H_0}(\text{some } |Z_k| \ge b_k) = \alpha` exactly.

    * ``"pocock"``: :math:`b_k = C_P` at every look (Pocock 1977);
    * ``"obf"``: :math:`b_k = C_B \sqrt{t_K / t_k}` (O'Brien & Fleming 1979; with equal
      spacing :math:`C_B \sqrt{K / k}`). For both, the constant is the root, by Brent's method,
      of "total crossing probability under H0 = alpha", so the whole alpha is spent by the
      last look even when it comes before t = 1.
    * spending methods (``"ld-obf"``, ``"ld-pocock"``, ``"hsd"`` with ``gamma``, ``"power"``
      with ``rho``, see :func:`alpha_spending`; ``"user"`` with ``cumulative_alpha``): b_k is
      solved look by look so that the probability of stopping at look k under H0 equals
      :math:`\alpha(t_k) - \alpha(t_{k-1})`. With a last look before t = 1 only
      :math:`\alpha(t_K)` is spent (as in gsDesign and rpact). A spending increment below
      1e-30 (the first of hundreds of ``ld-obf`` looks) gives :math:`b_k = \infty`: that look
      cannot stop the experiment.

    Probabilities come from the recursive numerical integration described in the module
    docstring (accurate to about 1e-9).

    Parameters
    ----------
    looks : int or sequence of float
        A number of equally spaced looks K (fractions 1/K, 2/K, ..., 1), or the information
        fractions of the looks, strictly increasing in (0, 1], e.g. ``[0.3, 0.6, 0.8]``.
    alpha : float
        Type I error: two-sided total (alpha/2 per side) unless ``alternative`` is one-sided.
    method : {"obf", "pocock", "ld-obf", "ld-pocock", "hsd", "power", "user"}
    gamma : float, required for and only for ``"hsd"``
    rho : float, required for and only for ``"power"``
    cumulative_alpha : sequence of float, required for and only for ``"user"``
        Total alpha spent by each look: one value per look, non-decreasing, in [0, alpha].
    alternative : {"two-sided", "larger", "smaller"}
        One-sided designs spend the whole alpha on one side and reject when Z_k >= b_k
        ("larger") or Z_k <= -b_k ("smaller").

    Returns
    -------
    GroupSequentialDesign
        ``critical_values``, ``information_fractions``, ``cumulative_alpha`` (exact, by
        look), ``nominal_pvalues`` (two-sided :math:`2(1 - \Phi(b_k))`, one-sided
        :math:`1 - \Phi(b_k)`), the inputs, ``constant`` (C_P or C_B) and ``explain()``.

    References
    ----------
    Jennison & Turnbull (2000), Tables 2.1 (Pocock C_P(K)) and 2.3 (O'Brien-Fleming C_B(K)),
    ch. 7 (spending functions), ch. 19 (computation); Lan & DeMets (1983).

    Examples
    --------
    >>> boundaries(5, method="obf").critical_values.round(3)
    array([4.562, 3.226, 2.634, 2.281, 2.04 ])
    >>> boundaries(5, method="ld-obf").critical_values.round(3)
    array([4.877, 3.357, 2.68 , 2.29 , 2.031])
    """
    t = _check_looks(looks)
    alpha = check_alpha(alpha)
    method = check_choice("method", method, METHODS)
    alternative = check_alternative(alternative)
    gamma, rho = _check_parameters(method, gamma, rho, cumulative_alpha)
    two_sided = alternative == "two-sided"
    constant = None
    if method in CLASSIC_METHODS:
        shape = _classic_shape(t, method)
        constant, crossed = _classic_constant(t, shape, alpha, alternative)
        critical = constant * shape
    else:
        if method == "user":
            spent = _check_user_spending(cumulative_alpha, t.size, alpha)
        else:
            spent = _total_spending(t, alpha, method, gamma, rho, alternative)
        critical, crossed = _spending_boundaries(t, spent, two_sided)
    return GroupSequentialDesign(
        critical_values=critical,
        information_fractions=t,
        cumulative_alpha=np.cumsum(crossed),
        nominal_pvalues=(2.0 if two_sided else 1.0) * ndtr(-critical),
        alpha=alpha,
        method=method,
        alternative=alternative,
        constant=constant,
        gamma=gamma,
        rho=rho,
    )


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


def _check_design(design) -> GroupSequentialDesign:
    if not isinstance(design, GroupSequentialDesign):
        raise TypeError(
            "design must be a GroupSequentialDesign (from boundaries()), got "
            f"{type(design).__name__}"
        )
    return design


# --- operating characteristics ---------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class CrossingProbabilities(Record):
    """Boundary-crossing probabilities of a design at given drifts (see
    :func:`crossing_probabilities`). With an array of drifts every field has one row per
    drift."""

    drift: float | np.ndarray
    upper: np.ndarray
    lower: np.ndarray
    total: float | np.ndarray
    expected_fraction: float | np.ndarray


def _expected_fraction(t: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """E[information fraction at the end]: stop at look k < K with probability stop[..., k],
    otherwise run to the last look."""
    early = stop[..., :-1]
    return np.sum(early * t[:-1], axis=-1) + t[-1] * (1.0 - np.sum(early, axis=-1))


def crossing_probabilities(design: GroupSequentialDesign, drift) -> CrossingProbabilities:
    r"""Probability of stopping at each look, by crossing the upper or the lower boundary.

    With :math:`E[Z_k] = \theta \sqrt{t_k}` (``drift`` = theta, the expected z-statistic at
    full information), ``upper[k]`` = P(no crossing before look k and :math:`Z_k \ge`
    upper boundary), ``lower[k]`` likewise for the lower boundary (zero for a one-sided
    "larger" design). At drift 0 their sum is the design's alpha; for drift > 0 the sum of
    ``upper`` is the power. ``expected_fraction`` is the expected information fraction at the
    end of the experiment: :math:`\sum_{k<K} t_k P(\text{stop at } k) + t_K P(\text{reach } K)`.

    Parameters
    ----------
    design : GroupSequentialDesign
    drift : float or 1-D array of float
        Expected z-statistic at full information (t = 1); negative for a harmful treatment.

    Returns
    -------
    CrossingProbabilities
        ``drift``, ``upper``, ``lower`` (by look), ``total`` (probability of rejecting H0) and
        ``expected_fraction``.

    References
    ----------
    Jennison & Turnbull (2000), ch. 19; gsDesign ``gsProbability``.
    """
    design = _check_design(design)
    d = _check_drift(drift)
    t = design.information_fractions
    up, down = _crossing(t, *_limits(design.critical_values, design.alternative), d.ravel())
    expected = _expected_fraction(t, up + down)
    total = np.sum(up + down, axis=1)
    if d.ndim == 0:
        return CrossingProbabilities(float(d), up[0], down[0], float(total[0]), float(expected[0]))
    return CrossingProbabilities(d, up, down, total, expected)


@dataclass(frozen=True, repr=False, eq=False)
class DesignCharacteristics(Record):
    """Sample-size consequences of a design (see :func:`design_characteristics`)."""

    power: float
    drift: float
    drift_fixed: float
    inflation_factor: float
    expected_n_h0: float
    expected_n_h1: float
    power_by_look: np.ndarray
    design: GroupSequentialDesign = field(repr=False)

    def explain(self) -> str:
        f = lambda x: format_number(x, 5)  # noqa: E731
        return "\n".join([
            f"Fixed design with the same alpha and power {f(self.power)}: drift "
            f"z_alpha + z_power = {f(self.drift_fixed)}, sample size n_fixed.",
            f"Group-sequential design ({self.design.method}, {self.design.n_looks} looks): "
            f"drift {f(self.drift)} needed at t = 1 for the same power.",
            f"  maximum sample size = t_K (drift / drift_fixed)^2 n_fixed = "
            f"{f(self.inflation_factor)} n_fixed",
            f"  expected sample size under H0 = {f(self.expected_n_h0)} n_fixed, "
            f"under H1 = {f(self.expected_n_h1)} n_fixed",
            "  cumulative power by look: "
            + ", ".join(format_number(p, 4) for p in self.power_by_look),
        ])


def design_characteristics(
    design: GroupSequentialDesign, *, power: float = 0.8
) -> DesignCharacteristics:
    r"""Maximum and expected sample size of a design, relative to a fixed design.

    A fixed design with the same alpha and power needs drift
    :math:`\theta_f = z_{1-\alpha/2} + z_{power}` (one-sided: :math:`z_{1-\alpha}`), i.e.
    sample size :math:`n_f \propto \theta_f^2`. The group-sequential design needs the drift
    :math:`\theta` (at t = 1) for which the probability of crossing the boundary on the side
    of the effect equals ``power`` (solved by Brent's method; for a two-sided design crossings
    of the opposite boundary do not count, as in gsDesign and rpact). Then

    * ``inflation_factor`` = maximum sample size / n_f = :math:`t_K (\theta/\theta_f)^2`;
    * ``expected_n_h0``, ``expected_n_h1`` = expected sample size / n_f under H0 and under
      drift theta: ``expected_fraction`` :math:`\times (\theta/\theta_f)^2`.

    Parameters
    ----------
    design : GroupSequentialDesign
    power : float in (0, 1)
        Must exceed the design's probability of crossing that side under H0.

    Returns
    -------
    DesignCharacteristics
        ``power``, ``drift``, ``drift_fixed``, ``inflation_factor``, ``expected_n_h0``,
        ``expected_n_h1``, ``power_by_look`` (cumulative) and ``explain()``.

    References
    ----------
    Jennison & Turnbull (2000), ch. 2 (ratios of maximum to fixed sample size) and ch. 7;
    rpact ``getDesignCharacteristics`` (``inflationFactor``, ``averageSampleNumber0/1``).

    Examples
    --------
    >>> round(design_characteristics(boundaries(5, method="obf"), power=0.9).inflation_factor, 3)
    1.026
    """
    design = _check_design(design)
    power = check_scalar("power", check_open_unit("power", power))
    t = design.information_fractions
    # Work on the side of the effect: mirror a "smaller" design into a "larger" one.
    alternative = "larger" if design.alternative == "smaller" else design.alternative
    lower, upper = _limits(design.critical_values, alternative)
    side_alpha = design.alpha / 2 if design.alternative == "two-sided" else design.alpha
    if power <= side_alpha:
        raise ValueError(
            f"power must exceed the fixed test's rejection rate on that side under H0 "
            f"({format_number(side_alpha, 4)}), got {power!r}"
        )
    drift_fixed = float(ndtri(1.0 - side_alpha)) + float(ndtri(power))

    def probabilities(theta: float):
        return _crossing(t, lower, upper, np.array([theta]))

    null_up = float(probabilities(0.0)[0].sum())
    if power <= null_up:
        raise ValueError(
            f"power must exceed the design's crossing probability under H0 on that side "
            f"({format_number(null_up, 4)}), got {power!r}"
        )

    def shortfall(theta: float) -> float:
        return float(probabilities(theta)[0].sum()) - power

    high = 2.0 * drift_fixed / math.sqrt(t[-1]) + 2.0
    while shortfall(high) < 0:
        if high > 1e3:
            raise ValueError(
                f"power {power!r} cannot be reached: the design's boundaries on the side of "
                "the effect are (almost) never crossed"
            )
        high *= 2.0
    drift = brentq(shortfall, 0.0, high, xtol=_XTOL)
    ratio = (drift / drift_fixed) ** 2
    up0, down0 = probabilities(0.0)
    up1, down1 = probabilities(drift)
    return DesignCharacteristics(
        power=power,
        drift=drift,
        drift_fixed=drift_fixed,
        inflation_factor=float(t[-1] * ratio),
        expected_n_h0=float(_expected_fraction(t, up0[0] + down0[0]) * ratio),
        expected_n_h1=float(_expected_fraction(t, up1[0] + down1[0]) * ratio),
        power_by_look=np.cumsum(up1[0]),
        design=design,
    )


# --- peeking ---------------------------------------------------------------------------------


def peeking_false_positive_rate(looks, *, alpha: float = 0.05) -> float:
    r"""Exact false-positive rate of a naive test repeated at every look under H0.

    The probability that :math:`|Z_k| \ge z_{1-\alpha/2}` at one or more of the looks when
    there is no effect, by the recursive integration of Armitage, McPherson & Rowe (1969). The
    z-statistics of accumulating data are correlated (corr(Z_j, Z_k) = sqrt(t_j / t_k)), so
    the rate is well below the 1 - (1 - alpha)^K of independent tests, but it grows without
    bound: about 0.083 (K = 2), 0.142 (5), 0.193 (10), 0.248 (20), 0.320 (50), 0.374 (100)
    at alpha = 0.05 with equal spacing.

    Parameters
    ----------
    looks : int or sequence of float
        A number of equally spaced looks, or information fractions (see :func:`boundaries`).
    alpha : float
        Nominal two-sided level of each test.

    Returns
    -------
    float

    References
    ----------
    Armitage, McPherson & Rowe (1969); Jennison & Turnbull (2000), ch. 1.

    Examples
    --------
    >>> round(peeking_false_positive_rate(5), 4)
    0.1417
    """
    t = _check_looks(looks)
    alpha = check_alpha(alpha)
    critical = np.full(t.size, float(ndtri(1.0 - alpha / 2.0)))
    up, down = _crossing(t, -critical, critical, np.zeros(1))
    return float(up.sum() + down.sum())


def _stream_chunks(n_experiments: int, t: np.ndarray, drift: float, generator, cells: int):
    """Yield blocks of simulated z-statistic paths, at most ``cells`` numbers per block."""
    rows = max(1, cells // t.size)
    step_sd = np.sqrt(np.diff(t, prepend=0.0))
    root_t = np.sqrt(t)
    for start in range(0, n_experiments, rows):
        size = min(rows, n_experiments - start)
        score = np.cumsum(generator.standard_normal((size, t.size)) * step_sd, axis=1)
        yield score / root_t + drift * root_t


def simulate_z_streams(n_experiments: int, looks, *, drift: float = 0.0, rng) -> np.ndarray:
    r"""Simulated z-statistics of accumulating data, one row per experiment.

    The score :math:`S_k = Z_k \sqrt{t_k}` is a sum of independent normal increments,
    :math:`S_k - S_{k-1} \sim N(\theta (t_k - t_{k-1}), t_k - t_{k-1})`, so
    :math:`Z_k = S_k / \sqrt{t_k}` has mean :math:`\theta \sqrt{t_k}`, variance 1 and
    corr(Z_j, Z_k) = sqrt(t_j / t_k) (drawn as a cumulative sum, no loop over experiments).

    Parameters
    ----------
    n_experiments : int
        Rows; ``n_experiments * looks`` may be at most 20 million (160 MB).
    looks : int or sequence of float
        Number of equally spaced looks, or information fractions.
    drift : float
        theta, the expected z-statistic at t = 1 (0 under H0).
    rng : numpy.random.Generator or int

    Returns
    -------
    numpy.ndarray
        Shape (n_experiments, number of looks).
    """
    size = check_int("n_experiments", n_experiments, minimum=1)
    t = _check_looks(looks)
    theta = check_scalar("drift", as_float_array("drift", drift))
    if size * t.size > 20_000_000:
        raise ValueError(
            f"n_experiments * looks must be at most 20,000,000, got {size} * {t.size}; "
            "simulate in batches"
        )
    generator = as_generator(rng)
    return next(_stream_chunks(size, t, theta, generator, size * t.size))


@dataclass(frozen=True, repr=False, eq=False)
class PeekingSimulation(Record):
    """Seeded simulation of naive peeking (see :func:`simulate_peeking`)."""

    rejection_rate: float
    rejection_rate_by_look: np.ndarray
    fixed_rejection_rate: float
    exact_rejection_rate: float
    n_experiments: int
    n_looks: int
    alpha: float
    drift: float

    def explain(self) -> str:
        f = lambda x: format_number(x, 4)  # noqa: E731
        kind = "false-positive rate" if self.drift == 0 else "rejection rate"
        se = math.sqrt(self.rejection_rate * (1 - self.rejection_rate) / self.n_experiments)
        return "\n".join([
            f"{self.n_experiments} simulated experiments, drift {f(self.drift)}, a two-sided "
            f"test at {f(self.alpha)} after each of {self.n_looks} equally spaced looks:",
            f"  {kind} when stopping at the first significant look: {f(self.rejection_rate)} "
            f"(simulation standard error {f(se)}; exact {f(self.exact_rejection_rate)})",
            f"  {kind} of the single test at the last look: {f(self.fixed_rejection_rate)}",
        ])


def simulate_peeking(
    n_experiments: int, n_looks: int, *, alpha: float = 0.05, rng, drift: float = 0.0
) -> PeekingSimulation:
    """Simulate experiments whose two-sided test is repeated after each of ``n_looks`` batches.

    Each experiment's z-statistics are drawn as in :func:`simulate_z_streams` (equally spaced
    looks), in blocks of two million numbers (16 MB each; 100,000 experiments x 100 looks take
    about 0.3 s). An experiment "rejects" at its first look with
    :math:`|Z_k| \\ge z_{1-\\alpha/2}`.

    Parameters
    ----------
    n_experiments : int
    n_looks : int
    alpha : float
        Nominal two-sided level of each test.
    rng : numpy.random.Generator or int
    drift : float
        Expected z-statistic at the last look (0: no effect, the rates are false positives).

    Returns
    -------
    PeekingSimulation
        ``rejection_rate`` (any look), ``rejection_rate_by_look`` (cumulative),
        ``fixed_rejection_rate`` (last look only), ``exact_rejection_rate`` (recursion), the
        inputs and ``explain()``.
    """
    size = check_int("n_experiments", n_experiments, minimum=1)
    k = check_int("n_looks", n_looks, minimum=1)
    if k > MAX_LOOKS:
        raise ValueError(f"n_looks must be at most {MAX_LOOKS}, got {k}")
    alpha = check_alpha(alpha)
    theta = check_scalar("drift", as_float_array("drift", drift))
    generator = as_generator(rng)
    t = np.arange(1, k + 1) / k
    critical = float(ndtri(1.0 - alpha / 2.0))
    first_counts = np.zeros(k + 1, dtype=np.int64)  # by first rejecting look; index k: never
    fixed = 0
    for z in _stream_chunks(size, t, theta, generator, 2_000_000):
        crossed = np.abs(z) >= critical
        first = np.where(crossed.any(axis=1), np.argmax(crossed, axis=1), k)
        first_counts += np.bincount(first, minlength=k + 1)
        fixed += int(np.sum(crossed[:, -1]))
    by_look = np.cumsum(first_counts[:k]) / size
    up, down = _crossing(t, np.full(k, -critical), np.full(k, critical), np.array([theta]))
    return PeekingSimulation(
        rejection_rate=float(by_look[-1]),
        rejection_rate_by_look=by_look,
        fixed_rejection_rate=fixed / size,
        exact_rejection_rate=float(up.sum() + down.sum()),
        n_experiments=size,
        n_looks=k,
        alpha=alpha,
        drift=theta,
    )


# --- analysing a running experiment ----------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class SequentialAnalysis(Record):
    """Look-by-look analysis of a running experiment (see :func:`sequential_analysis`)."""

    z_values: np.ndarray
    information_fractions: np.ndarray
    critical_values: np.ndarray
    crossed: np.ndarray
    stop_look: int
    reject: bool
    decision: str
    design: GroupSequentialDesign = field(repr=False)

    def explain(self) -> str:
        sign = {"two-sided": "|Z| >= b", "larger": "Z >= b", "smaller": "Z <= -b"}
        lines = [
            f"Sequential analysis with a {self.design.method} design "
            f"({self.design.alternative}, alpha = {format_number(self.design.alpha, 4)}, "
            f"{self.design.n_looks} planned looks); stop at the first look with "
            f"{sign[self.design.alternative]}.",
            "   look  fraction         Z   boundary  crossed",
        ]
        for k in range(self.z_values.size):
            note = "  (after the stop: ignore)" if self.stop_look and k + 1 > self.stop_look else ""
            lines.append(
                f"  {k + 1:5d}  {self.information_fractions[k]:8.4f}  "
                f"{format_number(self.z_values[k], 5):>8}  "
                f"{format_number(self.critical_values[k], 5):>9}  "
                f"{'yes' if self.crossed[k] else 'no':>7}{note}"
            )
        lines.append(f"  Decision: {self.decision}")
        return "\n".join(lines)


def sequential_analysis(
    z_values, information_fractions, design: GroupSequentialDesign
) -> SequentialAnalysis:
    r"""Apply a group-sequential design to the looks of a running experiment.

    Look k crosses when :math:`|Z_k| \ge b_k` (two-sided; :math:`Z_k \ge b_k` or
    :math:`Z_k \le -b_k` one-sided). The experiment stops at the first crossing (H0 rejected,
    treatment better if Z > 0, worse if Z < 0), or at the design's last look without one (H0
    not rejected); otherwise it continues.

    The observed information fractions need not be the planned ones when the design uses a
    spending function (``ld-obf``, ``ld-pocock``, ``hsd``, ``power``): the boundaries are then
    recomputed at the observed fractions, which is the point of alpha spending (Lan & DeMets
    1983). Pocock, O'Brien-Fleming and ``user`` designs fix the looks in advance, so their
    fractions must match the plan.

    Parameters
    ----------
    z_values : sequence of float
        z-statistic (treatment minus control) at each look so far.
    information_fractions : sequence of float
        Information fraction at each look so far (same length, strictly increasing in (0, 1]).
    design : GroupSequentialDesign

    Returns
    -------
    SequentialAnalysis
        ``z_values``, ``information_fractions``, ``critical_values`` used, ``crossed`` (by
        look), ``stop_look`` (1-based; 0 if not stopped), ``reject``, ``decision`` and
        ``explain()``.
    """
    design = _check_design(design)
    z = as_float_array("z_values", z_values)
    t = _check_fractions("information_fractions", information_fractions)
    if z.ndim != 1 or z.size != t.size:
        raise ValueError(
            f"z_values must be 1-D with one value per look ({t.size}), got shape {z.shape}"
        )
    n = t.size
    planned = design.information_fractions
    if n <= planned.size and np.allclose(t, planned[:n], rtol=0, atol=1e-9):
        critical = design.critical_values[:n]
        final = n == planned.size
    elif design.method in SPENDING_METHODS[:-1]:
        critical = boundaries(
            t, alpha=design.alpha, method=design.method, gamma=design.gamma, rho=design.rho,
            alternative=design.alternative,
        ).critical_values
        final = bool(t[-1] >= planned[-1])
    else:
        raise ValueError(
            f"information_fractions {t.tolist()} do not match the planned looks "
            f"{planned.tolist()}; a {design.method!r} design fixes its looks in advance (use a "
            "spending-function design to look at other times)"
        )
    if design.alternative == "two-sided":
        crossed = np.abs(z) >= critical
    elif design.alternative == "larger":
        crossed = z >= critical
    else:
        crossed = z <= -critical
    stop = int(np.argmax(crossed)) + 1 if crossed.any() else 0
    if stop:
        side = "better" if z[stop - 1] > 0 else "worse"
        decision = (f"stop at look {stop}: reject H0 (Z = {format_number(z[stop - 1], 4)}, "
                    f"boundary {format_number(critical[stop - 1], 4)}); treatment {side} than "
                    "control")
    elif final:
        decision = f"stop at the final look {n}: do not reject H0"
    else:
        decision = f"continue: no boundary crossed in {n} look(s)"
    return SequentialAnalysis(
        z_values=z, information_fractions=t, critical_values=critical, crossed=crossed,
        stop_look=stop, reject=bool(stop), decision=decision, design=design,
    )


# --- always-valid inference ------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class MixtureSPRT(Record):
    """Always-valid p-values and confidence sequence of a normal-mixture SPRT (see
    :func:`msprt`). Arrays run over looks along the last axis."""

    estimates: np.ndarray
    variances: np.ndarray
    likelihood_ratio: np.ndarray
    pvalue: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    reject: np.ndarray
    stop_look: int | np.ndarray
    tau2: float
    alpha: float
    null: float

    def explain(self) -> str:
        f = lambda x: format_number(x, 4)  # noqa: E731
        head = (f"Mixture SPRT, normal mixing distribution N({f(self.null)}, tau^2 = "
                f"{f(self.tau2)}); always-valid at alpha = {f(self.alpha)}: reject H0 at the first "
                "look with p <= alpha, whenever one looks.")
        if self.pvalue.ndim != 1:
            stops = np.asarray(self.stop_look)
            return (head + f"\n  {stops.size} streams; share rejected: "
                    f"{f(float(np.mean(stops > 0)))}")
        lines = [head, "   look  estimate  variance  Lambda  always-valid p  confidence sequence"]
        for k in range(self.pvalue.size):
            lines.append(
                f"  {k + 1:5d}  {format_number(self.estimates[k], 4):>8}  "
                f"{format_number(self.variances[k], 4):>8}  "
                f"{format_number(self.likelihood_ratio[k], 4):>6}  "
                f"{f(self.pvalue[k]):>14}  [{f(self.ci_low[k])}, {f(self.ci_high[k])}]"
            )
        lines.append("  Stopped at look " + str(self.stop_look) if self.stop_look
                     else "  No rejection: keep going or stop without a decision.")
        return "\n".join(lines)


def _msprt_halfwidth(variances: np.ndarray, tau2: float, alpha: float) -> np.ndarray:
    """Half-width of the normal-mixture confidence sequence, {theta: Lambda(theta) < 1/alpha}:
    sqrt(V (V + tau2) / tau2 (2 log(1/alpha) + log((V + tau2) / V))), computed on the log
    scale (an astronomically large variance gives an infinite interval, not an overflow)."""
    log_v = np.log(variances)
    log_sum = np.logaddexp(log_v, math.log(tau2))  # log(V + tau2)
    level = 2.0 * math.log(1.0 / alpha) + (log_sum - log_v)
    with np.errstate(over="ignore"):
        return np.exp(0.5 * (log_v + log_sum - math.log(tau2) + np.log(level)))


def msprt(
    estimates, variances, *, tau2: float, alpha: float = 0.05, null: float = 0.0
) -> MixtureSPRT:
    r"""Always-valid inference for a stream of effect estimates (mixture SPRT).

    At each look n the estimate :math:`\hat\theta_n` (treatment minus control) is normal with
    variance :math:`V_n`. Mixing the likelihood ratio of :math:`\theta` against the null
    :math:`\theta_0` over :math:`\theta \sim N(\theta_0, \tau^2)` gives

    .. math::

        \Lambda_n = \sqrt{\frac{V_n}{V_n + \tau^2}}
        \exp\left(\frac{\tau^2 (\hat\theta_n - \theta_0)^2}{2 V_n (V_n + \tau^2)}\right),

    a non-negative martingale under H0 with mean 1, so by Ville's inequality
    :math:`P_{H_0}(\Lambda_n \ge 1/\alpha \text{ for some } n) \le \alpha`. The always-valid
    p-value is :math:`p_n = \min(1, \min_{m \le n} 1/\Lambda_m)`; rejecting when
    :math:`p_n \le \alpha` keeps the type I error at most alpha under continuous monitoring
    and optional stopping. Inverting the test gives the confidence sequence
    :math:`\hat\theta_n \pm \sqrt{V_n (V_n + \tau^2)/\tau^2\,(2 \log(1/\alpha) +
    \log(1 + \tau^2 / V_n))}` (Robbins' normal mixture; Howard et al. 2021), which
    covers theta at all looks simultaneously with probability at least 1 - alpha;
    ``ci_low``/``ci_high`` are its running intersection, so :math:`p_n \le \alpha` exactly when
    :math:`\theta_0` lies outside. (After such a rejection the running intersection can, with
    probability at most alpha under H0, become empty: ``ci_low > ci_high``.)

    ``tau2`` sets where the test has most power: roughly, effects of size tau are detected
    fastest; Johari et al. choose it from the distribution of effects seen in past experiments.

    Parameters
    ----------
    estimates : array of float
        Effect estimate at each look (last axis); leading axes are independent streams.
    variances : array of float > 0
        Variance of each estimate (broadcast against ``estimates``), e.g.
        p_t (1 - p_t) / n_t + p_c (1 - p_c) / n_c for a difference in proportions.
    tau2 : float > 0
        Variance of the normal mixing distribution, in squared units of the estimate.
    alpha : float
    null : float
        theta_0, the effect under H0.

    Returns
    -------
    MixtureSPRT
        ``likelihood_ratio`` (capped at e^700), ``pvalue`` (always valid, non-increasing),
        ``ci_low``, ``ci_high``, ``reject`` (p <= alpha, by look), ``stop_look`` (first look
        with p <= alpha, 1-based; 0 if none), the inputs and ``explain()``.

    References
    ----------
    Johari, Koomen, Pekelis & Walsh (2022); Robbins (1970); Howard, Ramdas, McAuliffe &
    Sekhon (2021).
    """
    theta = as_float_array("estimates", estimates)
    if theta.ndim == 0:
        theta = theta[None]
    v = check_positive("variances", variances)
    try:
        theta, v = np.broadcast_arrays(theta, v)
    except ValueError:
        raise ValueError(
            f"variances has shape {v.shape}, which does not fit estimates' shape {theta.shape}"
        ) from None
    tau2 = check_scalar("tau2", check_positive("tau2", tau2))
    alpha = check_alpha(alpha)
    null = check_scalar("null", as_float_array("null", null))
    # log Lambda = log(V / (V + tau2)) / 2 + tau2 (x - theta0)^2 / (2 V (V + tau2)), on the log
    # scale so that extreme inputs give p = 0 or an infinite interval, never an overflow or NaN.
    log_v = np.log(v)
    log_sum = np.logaddexp(log_v, math.log(tau2))
    with np.errstate(over="ignore", divide="ignore"):
        log_distance = 2.0 * np.log(np.abs(theta - null))
        evidence = 0.5 * np.exp(math.log(tau2) + log_distance - log_v - log_sum)
    log_lr = 0.5 * (log_v - log_sum) + evidence
    pvalue = np.minimum(1.0, np.exp(-np.maximum.accumulate(log_lr, axis=-1)))
    half = _msprt_halfwidth(v, tau2, alpha)
    reject = pvalue <= alpha
    stop = np.where(reject.any(axis=-1), np.argmax(reject, axis=-1) + 1, 0)
    return MixtureSPRT(
        estimates=theta,
        variances=v,
        likelihood_ratio=np.exp(np.minimum(log_lr, 700.0)),
        pvalue=pvalue,
        ci_low=np.maximum.accumulate(theta - half, axis=-1),
        ci_high=np.minimum.accumulate(theta + half, axis=-1),
        reject=reject,
        stop_look=int(stop) if stop.ndim == 0 else stop,
        tau2=tau2,
        alpha=alpha,
        null=null,
    )


# --- side by side ----------------------------------------------------------------------------


def compare_designs(
    n_experiments: int,
    looks,
    *,
    drift: float,
    alpha: float = 0.05,
    tau2: float | None = None,
    rng,
) -> pd.DataFrame:
    r"""Naive peeking, fixed, Pocock, O'Brien-Fleming, Lan-DeMets OBF and mSPRT on the same streams.

    Draws ``n_experiments`` z-statistic paths under H0 (:func:`simulate_z_streams`) and reuses
    the same draws under the alternative by adding :math:`\theta \sqrt{t_k}` (common random
    numbers), then applies every two-sided rule to each path:

    * ``fixed``: one test at the last look, :math:`|Z_K| \ge z_{1-\alpha/2}`;
    * ``naive peeking``: :math:`|Z_k| \ge z_{1-\alpha/2}` at any look;
    * ``pocock``, ``obf``, ``ld-obf``: :func:`boundaries` with these looks;
    * ``msprt``: :func:`msprt` on the estimates :math:`Z_k / \sqrt{t_k}` (variance
      :math:`1/t_k`, in units where the drift is the effect) with mixing variance ``tau2``
      (default drift^2), i.e. :math:`|Z_k| \ge \sqrt{t_k}\,w_k` for the half-width
      :math:`w_k` of its confidence sequence.

    All rules have the same maximum sample size (the fixed design's), so the table shows the
    price of early looks: a little power, against a lower expected sample size.

    Parameters
    ----------
    n_experiments : int
        Paths per scenario (simulated in blocks of about 10 million comparisons).
    looks : int or sequence of float
    drift : float > 0
        Expected z-statistic at the last look under the alternative (e.g. 2.80 gives the fixed
        design 80% power at alpha = 0.05).
    alpha : float
    tau2 : float > 0, optional
        mSPRT mixing variance in drift units; default ``drift**2``.
    rng : numpy.random.Generator or int

    Returns
    -------
    pandas.DataFrame
        One row per rule: ``design``, ``type_i_error`` (share of H0 paths rejected),
        ``power`` (share of alternative paths rejected with Z > 0), ``expected_n_h0``,
        ``expected_n_h1`` (mean information fraction at the stop, as a share of the fixed
        design's sample size).
    """
    size = check_int("n_experiments", n_experiments, minimum=1)
    t = _check_looks(looks)
    theta = check_scalar("drift", check_positive("drift", drift))
    alpha = check_alpha(alpha)
    tau2 = theta**2 if tau2 is None else check_scalar("tau2", check_positive("tau2", tau2))
    generator = as_generator(rng)
    k = t.size
    z_fixed = float(ndtri(1.0 - alpha / 2.0))
    rules = {
        "fixed": np.where(np.arange(k) == k - 1, z_fixed, np.inf),
        "naive peeking": np.full(k, z_fixed),
        "pocock": boundaries(t, alpha=alpha, method="pocock").critical_values,
        "obf": boundaries(t, alpha=alpha, method="obf").critical_values,
        "ld-obf": boundaries(t, alpha=alpha, method="ld-obf").critical_values,
        "msprt": np.sqrt(t) * _msprt_halfwidth(1.0 / t, tau2, alpha),
    }
    thresholds = np.array(list(rules.values()))  # (rules, looks)
    n_rules = thresholds.shape[0]
    rejected = np.zeros((2, n_rules))
    right_way = np.zeros(n_rules)
    fraction_sum = np.zeros((2, n_rules))
    shift = theta * np.sqrt(t)
    for z0 in _stream_chunks(size, t, 0.0, generator, 10_000_000 // n_rules):
        for scenario, z in enumerate((z0, z0 + shift)):
            crossed = np.abs(z)[:, None, :] >= thresholds[None, :, :]  # (paths, rules, looks)
            any_cross = crossed.any(axis=2)
            first = np.argmax(crossed, axis=2)
            rejected[scenario] += any_cross.sum(axis=0)
            fraction_sum[scenario] += np.where(any_cross, t[first], t[-1]).sum(axis=0)
            if scenario == 1:
                z_stop = np.take_along_axis(z, first, axis=1)  # (paths, rules)
                right_way += (any_cross & (z_stop > 0)).sum(axis=0)
    return pd.DataFrame({
        "design": list(rules),
        "type_i_error": rejected[0] / size,
        "power": right_way / size,
        "expected_n_h0": fraction_sum[0] / size,
        "expected_n_h1": fraction_sum[1] / size,
    })
