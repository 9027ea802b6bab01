"""Seeded simulators of many two-arm experiments' conversion counts.

Every draw goes through an ``rng`` argument (a ``numpy.random.Generator`` or an integer
seed), and whole batches of experiments are drawn at once.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from abteach._validate import (
    as_generator,
    check_closed_unit,
    check_int,
    check_scalar,
    check_work,
)

#: Most units per arm. Counts stay exact in 64-bit integers and in floats.
MAX_UNITS = 2**53


class SimulatedConversions(NamedTuple):
    """Conversion counts of ``n_experiments`` simulated two-arm experiments.

    The field order matches :func:`abteach.inference.ztest_proportions`, so
    ``ztest_proportions(*sim)`` analyzes every simulated experiment at once.
    """

    x_control: np.ndarray
    n_control: int
    x_treatment: np.ndarray
    n_treatment: int


def _check_rate(name: str, value) -> float:
    return check_scalar(name, check_closed_unit(name, value))


def simulate_conversions(
    p_control, p_treatment, n_control, n_treatment, *, n_experiments, rng
) -> SimulatedConversions:
    r"""Draw the conversion counts of many independent two-arm experiments.

    In each experiment every unit converts independently, with probability ``p_control``
    in control and ``p_treatment`` in treatment, so the counts are
    :math:`X_c \sim \mathrm{Binomial}(n_c, p_c)` and :math:`X_t \sim \mathrm{Binomial}(n_t, p_t)`,
    independent, with mean :math:`n p` and variance :math:`n p (1 - p)`.

    Parameters
    ----------
    p_control, p_treatment : float
        True conversion rates, in [0, 1]. Equal rates simulate A/A tests (H0 true).
    n_control, n_treatment : int
        Units per arm in each experiment (1 to ``MAX_UNITS`` = 2**53).
    n_experiments : int
        Number of experiments to simulate (>= 1; the counts must fit in about 2 GiB).
    rng : numpy.random.Generator or int
        Source of randomness; an integer is used as a seed. Control is drawn first, so
        the same seed gives the same control counts whatever ``p_treatment`` is.

    Returns
    -------
    SimulatedConversions
        Named tuple ``(x_control, n_control, x_treatment, n_treatment)`` with int64 arrays
        of length ``n_experiments`` for the counts.

    References
    ----------
    Kohavi, Tang & Xu (2020), *Trustworthy Online Controlled Experiments*, ch. 19 (A/A tests).

    Examples
    --------
    >>> sim = simulate_conversions(0.1, 0.1, 1000, 1000, n_experiments=3, rng=1)
    >>> sim.x_control.shape, sim.n_treatment
    ((3,), 1000)
    """
    p_c = _check_rate("p_control", p_control)
    p_t = _check_rate("p_treatment", p_treatment)
    n_c = check_int("n_control", n_control, minimum=1, maximum=MAX_UNITS)
    n_t = check_int("n_treatment", n_treatment, minimum=1, maximum=MAX_UNITS)
    size = check_int("n_experiments", n_experiments, minimum=1)
    check_work("2 * n_experiments", 2 * size)
    generator = as_generator(rng)
    x_control = generator.binomial(n_c, p_c, size=size).astype(np.int64)
    x_treatment = generator.binomial(n_t, p_t, size=size).astype(np.int64)
    return SimulatedConversions(x_control, n_c, x_treatment, n_t)
