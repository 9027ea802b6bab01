r"""Two concurrent experiments (chapter 16): do their effects interact?

Users are split independently by experiment A and by experiment B, so the two splits form a
2 x 2 factorial design: every user is in one of four cells (A control or treatment, B control
or treatment). Each experiment's effect is estimated over both arms of the other, which is
why concurrent experiments are the norm. They interact when A's effect depends on B's arm;
the interaction contrast measures it (Montgomery 2017, ch. 6; Kohavi, Tang & Xu 2020, ch. 4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from abteach._records import Record
from abteach._validate import (
    as_float_array,
    broadcast,
    check_alpha,
    check_alternative,
    check_count,
    check_nonnegative,
    check_positive,
    scalar_or_array,
)
from abteach.interference._private import refuse_flat, wald

__all__ = ["InteractionTest", "interaction_power", "interaction_test"]


@dataclass(frozen=True, repr=False, eq=False)
class InteractionTest(Record):
    """Result of :func:`interaction_test`.

    ``interaction`` is (A's effect where B is treated) - (A's effect where B is control);
    ``effect_a``, ``effect_b`` are the main effects (each averaged over the other's arms).
    """

    statistic: float | np.ndarray
    pvalue: float | np.ndarray
    interaction: float | np.ndarray
    se: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    effect_a: float | np.ndarray
    se_a: float | np.ndarray
    effect_b: float | np.ndarray
    se_b: float | np.ndarray
    alternative: str
    alpha: float


def _cells(name: str, value, check) -> np.ndarray:
    array = check(name, value)
    if array.ndim < 2 or array.shape[-2:] != (2, 2):
        raise ValueError(f"{name} must have shape (..., 2, 2): [arm of A, arm of B], got shape "
                         f"{array.shape}")
    return array


def interaction_test(mean, sd, n, *, alternative="two-sided", alpha=0.05) -> InteractionTest:
    r"""z-test of the interaction of two concurrent experiments (a 2 x 2 factorial).

    ``mean[a, b]``, ``sd[a, b]`` and ``n[a, b]`` describe the users in arm a of experiment A
    and arm b of experiment B (0 control, 1 treatment). The interaction contrast and its
    standard error are

    .. math:: \hat\gamma = (\bar y_{11} - \bar y_{01}) - (\bar y_{10} - \bar y_{00}),
              \qquad \mathrm{SE}(\hat\gamma) = \sqrt{\sum_{a,b} s_{ab}^2 / n_{ab}},

    and :math:`z = \hat\gamma / \mathrm{SE}` is referred to N(0, 1). The main effect of A,
    :math:`\tfrac12[(\bar y_{10} - \bar y_{00}) + (\bar y_{11} - \bar y_{01})]`, has half
    that standard error: with equal cells an interaction must be twice as large as a main
    effect to be detected with the same power (four times the users for the same size).

    Parameters
    ----------
    mean, sd, n : array, shape (..., 2, 2)
        Cell means, standard deviations (>= 0) and user counts (>= 2); leading axes are
        separate experiments and broadcast.
    alternative : {"two-sided", "larger", "smaller"}
    alpha : float

    Returns
    -------
    InteractionTest

    References
    ----------
    Montgomery, D. C. (2017), *Design and Analysis of Experiments*, 9th ed., Wiley, ch. 6.
    Kohavi, R., Tang, D. & Xu, Y. (2020), *Trustworthy Online Controlled Experiments*,
    Cambridge University Press, ch. 4.
    """
    alternative = check_alternative(alternative)
    alpha = check_alpha(alpha)
    y = _cells("mean", mean, as_float_array)
    s = _cells("sd", sd, check_nonnegative)
    count = _cells("n", n, lambda name, v: check_count(name, v, minimum=2).astype(float))
    y, s, count = broadcast(mean=y, sd=s, n=count)
    with np.errstate(over="ignore", invalid="ignore"):
        var = s**2 / count
        gamma = (y[..., 1, 1] - y[..., 0, 1]) - (y[..., 1, 0] - y[..., 0, 0])
        se = np.sqrt(var.sum(axis=(-2, -1)))
        effect_a = (y[..., 1, :] - y[..., 0, :]).mean(axis=-1)
        effect_b = (y[..., :, 1] - y[..., :, 0]).mean(axis=-1)
    refuse_flat(np.where(np.isfinite(gamma) & np.isfinite(effect_a) & np.isfinite(effect_b),
                         se, np.inf), "mean, sd and n")
    return InteractionTest(
        **wald(gamma, se, alternative, alpha), interaction=scalar_or_array(gamma),
        effect_a=scalar_or_array(effect_a), se_a=scalar_or_array(se / 2),
        effect_b=scalar_or_array(effect_b), se_b=scalar_or_array(se / 2),
        alternative=alternative, alpha=alpha,
    )


def interaction_power(interaction, sd, n_per_cell, *, alpha=0.05):
    r"""Power of the two-sided interaction z-test of :func:`interaction_test`.

    With four cells of ``n_per_cell`` users and a common standard deviation,
    :math:`\mathrm{SE} = 2\sigma/\sqrt{n}` and

    .. math:: 1 - \beta = \Phi(|\gamma|/\mathrm{SE} - z_{1-\alpha/2})
              + \Phi(-|\gamma|/\mathrm{SE} - z_{1-\alpha/2}).

    Parameters
    ----------
    interaction : float or array
        True interaction contrast gamma.
    sd : float or array
        Standard deviation of a user's outcome (> 0).
    n_per_cell : float or array
        Users in each of the four cells (> 0).
    alpha : float

    Returns
    -------
    float or numpy.ndarray

    Examples
    --------
    >>> round(interaction_power(0.2, 1.0, 400), 4)   # SE = 0.1, z = 2
    0.516
    """
    alpha = check_alpha(alpha)
    gamma = as_float_array("interaction", interaction)
    sd = check_positive("sd", sd)
    n = check_positive("n_per_cell", n_per_cell)
    gamma, sd, n = broadcast(interaction=gamma, sd=sd, n_per_cell=n)
    with np.errstate(over="ignore"):
        shift = np.abs(gamma) * np.sqrt(n) / (2 * sd)   # |gamma| / SE, +inf when SE underflows
    z = stats.norm.isf(alpha / 2)
    return scalar_or_array(stats.norm.cdf(shift - z) + stats.norm.cdf(-shift - z))
