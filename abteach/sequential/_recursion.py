r"""The Armitage-McPherson-Rowe recursion: boundary-crossing probabilities of a random walk
(private numerics of :mod:`abteach.sequential`).

Every probability is computed by the recursive numerical integration of Armitage, McPherson &
Rowe (1969) in the form of Jennison & Turnbull (2000, ch. 19): the sub-density of Z_k on the
continuation region (paths that have not stopped) is held on a quadrature grid spanning that
region and propagated look to look through the normal transition density of the independent
increments,

    h_k(z) = integral over the continuation region at look k-1 of
             h_{k-1}(u) * sqrt(t_k / D_k) * phi((z sqrt(t_k) - u sqrt(t_{k-1}) - drift D_k)
                                                  / sqrt(D_k)) du,        D_k = t_k - t_{k-1},

and the probability of crossing the upper boundary at look k is the same integral with the
normal survival function in place of the density. Each step is vectorized over the grid (one
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
Jennison, C. & Turnbull, B. W. (2000), *Group Sequential Methods with Applications to Clinical
Trials*, Chapman & Hall/CRC, ch. 19 (numerical computations).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

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
        center = self.nodes * (self.root_t[k - 1] / sd) + (self.drift * sd)[:, None]
        up = np.sum(self.mass * ndtr(center - upper * (self.root_t[k] / sd)), axis=1)
        if symmetric:
            return up, up
        down = np.sum(self.mass * ndtr(lower * (self.root_t[k] / sd) - center), axis=1)
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
    center = walk.nodes * float(walk.root_t[k - 1] / sd)
    mass = walk.mass[0]
    root_t = float(walk.root_t[k] / sd)

    def tail(b: float) -> tuple[float, float]:
        """P(reach k, cross at b) on all sides, and -dP/db (Python floats)."""
        x = center - b * root_t
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
    low = float(-ndtri(alpha / sides))
    if t.size == 1:
        return low, np.array([alpha])
    c = brentq(log_excess, low, float(-ndtri(alpha / (sides * t.size))), xtol=1e-10)
    if last["c"] != c:
        log_excess(c)
    return c, last["crossed"]


def _expected_fraction(t: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """E[information fraction at the end]: stop at look k < K with probability stop[..., k],
    otherwise run to the last look."""
    early = stop[..., :-1]
    return np.sum(early * t[:-1], axis=-1) + t[-1] * (1.0 - np.sum(early, axis=-1))
