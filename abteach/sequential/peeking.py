r"""The cost of peeking: a naive test repeated at every look, exactly and by simulation.

The z-statistic of accumulating data is a random walk, and a random walk that is given many
chances to cross 1.96 eventually does: testing at two-sided 5% after each of K equally sized
batches under H0 gives an overall false-positive rate of 8.3% (K = 2), 14.2% (K = 5), 19.3%
(K = 10) and 37.4% (K = 100), not 1 - 0.95^K, which would treat the looks as independent.

References
----------
Armitage, P., McPherson, C. K. & Rowe, B. C. (1969), Repeated significance tests on
accumulating data, *JRSS A* 132, 235-244.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from abteach._records import Record, format_number
from abteach._validate import as_generator, check_alpha, check_int, check_scalar, check_work
from abteach.sequential._checks import MAX_LOOKS, MAX_OVERRUN, _check_drift, _check_looks
from abteach.sequential._recursion import _crossing

__all__ = [
    "PeekingSimulation",
    "peeking_false_positive_rate",
    "simulate_peeking",
    "simulate_z_streams",
]


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
    critical = np.full(t.size, float(-ndtri(alpha / 2.0)))
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
        Number of equally spaced looks, or information fractions (of the planned maximum:
        the last may exceed 1, an over-run, up to ``MAX_OVERRUN`` = 10).
    drift : float
        theta, the expected z-statistic at t = 1 (0 under H0).
    rng : numpy.random.Generator or int

    Returns
    -------
    numpy.ndarray
        Shape (n_experiments, number of looks).

    Examples
    --------
    >>> simulate_z_streams(1000, 4, rng=1).shape
    (1000, 4)
    """
    size = check_int("n_experiments", n_experiments, minimum=1)
    t = _check_looks(looks, last_max=MAX_OVERRUN)
    theta = check_scalar("drift", _check_drift(drift))
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
        ``n_experiments * n_looks`` may be at most 2**28 (about 10 s of work).
    n_looks : int
        At most 1000.
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

    Examples
    --------
    >>> round(simulate_peeking(20_000, 5, rng=1).exact_rejection_rate, 4)
    0.1417
    """
    size = check_int("n_experiments", n_experiments, minimum=1)
    k = check_int("n_looks", n_looks, minimum=1, maximum=MAX_LOOKS)
    check_work("n_experiments * n_looks", size * k)
    alpha = check_alpha(alpha)
    theta = check_scalar("drift", _check_drift(drift))
    generator = as_generator(rng)
    t = np.arange(1, k + 1) / k
    critical = float(-ndtri(alpha / 2.0))
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
