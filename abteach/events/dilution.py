r"""Section 4.4: the triggered effect diluted to all exposed units, with its standard error.

A triggered analysis compares only the units that reached the changed part of the product
(the *trigger*), in both arms. Its effect :math:`\hat\Delta_T` maps to all exposed units by the
trigger rate :math:`\hat r`, provided untriggered units are unaffected:
:math:`\hat\Delta = \hat r\,\hat\Delta_T` (Deng & Hu, 2015). This is the trigger-dilute
estimate of the effect on everyone; it is usually much more precise than the plain
difference over all exposed units, because the untriggered units add noise and no signal.

The trigger must be known in both arms: control units that *would have* seen the change
are logged with a **counterfactual trigger** (the code computes "would the new page be
shown?" in control too, and logs it without showing it). Without that log the triggered
groups of the two arms are not comparable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from abteach._records import Record
from abteach._records import brief as _f
from abteach._validate import (
    as_float_array,
    broadcast,
    check_alpha,
    check_count,
    check_nonnegative,
    first_bad,
    scalar_or_array,
)

__all__ = ["DilutedEffect", "diluted_effect"]


@dataclass(frozen=True, repr=False, eq=False)
class DilutedEffect(Record):
    """Result of :func:`diluted_effect`: the effect on all exposed units and its interval."""

    effect: float | np.ndarray
    se: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    trigger_rate: float | np.ndarray
    triggered_effect: float | np.ndarray
    triggered_se: float | np.ndarray
    n_triggered: int | np.ndarray
    n_exposed: int | np.ndarray
    alpha: float

    def explain(self) -> str:
        """The delta-method standard error with the numbers plugged in."""
        if np.ndim(self.effect) != 0:
            return (f"{np.size(self.effect)} experiments: effect = r x triggered effect, "
                    "se^2 = r^2 se_T^2 + effect_T^2 r (1 - r) / n_exposed")
        rate_part = self.triggered_effect**2 * self.trigger_rate * (1 - self.trigger_rate)
        return "\n".join([
            f"trigger rate r = {self.n_triggered} / {self.n_exposed} = {_f(self.trigger_rate)}",
            f"diluted effect = r x triggered effect = {_f(self.trigger_rate)} x "
            f"{_f(self.triggered_effect)} = {_f(self.effect)}",
            f"se^2 = r^2 se_T^2 + effect_T^2 r (1 - r) / n_exposed = "
            f"{_f(self.trigger_rate**2 * self.triggered_se**2)} + "
            f"{_f(rate_part / self.n_exposed)}; se = {_f(self.se)}",
            f"{100 * (1 - self.alpha):g}% CI: {_f(self.ci_low)} to {_f(self.ci_high)}",
        ])


def diluted_effect(triggered_effect, triggered_se, n_triggered, n_exposed, *,
                   alpha: float = 0.05) -> DilutedEffect:
    r"""The trigger-dilute estimate of the effect on all exposed units, with a delta-method SE.

    With :math:`n_T` triggered units among :math:`n` exposed units (both arms together), the
    trigger rate is :math:`\hat r = n_T / n` and

    .. math::

        \hat\Delta = \hat r\,\hat\Delta_T, \qquad
        \widehat{\operatorname{Var}}(\hat\Delta) = \hat r^2\,\operatorname{SE}(\hat\Delta_T)^2
        + \hat\Delta_T^2\,\frac{\hat r (1 - \hat r)}{n},

    the delta method for a product of two estimates whose covariance is negligible: the
    trigger rate is the same in both arms (the treatment does not change who triggers), so
    the number of triggered units carries no information about the difference between the
    arms. The interval is :math:`\hat\Delta \pm z_{1-\alpha/2}\,\operatorname{SE}`.

    Assumptions, which the chapter discusses: untriggered units are unaffected, and the trigger
    is logged the same way in both arms (counterfactual logging in control). If the treatment
    changes the trigger rate, the triggered groups are not comparable and the dilution
    formula does not apply; test the trigger rates first (a sample ratio check on triggers).

    Parameters
    ----------
    triggered_effect, triggered_se : float or array-like
        The effect among triggered units (treatment minus control) and its standard error
        (``se`` of :func:`~abteach.inference.ztest_proportions` or
        :func:`~abteach.inference.welch_ttest` run on the triggered units); se >= 0.
    n_triggered, n_exposed : int or array-like
        Triggered and exposed units, both arms together; 0 <= n_triggered <= n_exposed,
        n_exposed >= 2.
    alpha : float
        Two-sided level of the interval.

    Returns
    -------
    DilutedEffect

    References
    ----------
    Deng, A. & Hu, V. (2015), Diluted treatment effect estimation for trigger analysis in
    online controlled experiments, *WSDM 2015*, 349-357. Kohavi, Tang & Xu (2020), *Trustworthy
    Online Controlled Experiments*, ch. 20 (triggering, counterfactual logging).

    Examples
    --------
    >>> d = diluted_effect(0.02, 0.005, 6_000, 10_000)
    >>> print(f"{d.effect:.4f} (SE {d.se:.5f})")
    0.0120 (SE 0.00300)
    """
    effect_t = as_float_array("triggered_effect", triggered_effect)
    se_t = check_nonnegative("triggered_se", triggered_se)
    n_t = check_count("n_triggered", n_triggered)
    n = check_count("n_exposed", n_exposed, minimum=2)
    alpha = check_alpha(alpha)
    effect_t, se_t, n_t, n = broadcast(triggered_effect=effect_t, triggered_se=se_t,
                                       n_triggered=n_t, n_exposed=n)
    too_many = n_t > n
    if too_many.any():
        raise ValueError(f"n_triggered must be <= n_exposed, got n_triggered = "
                         f"{first_bad(n_t, too_many)} and n_exposed = {first_bad(n, too_many)}")
    rate = n_t / n
    effect = rate * effect_t
    se = np.hypot(rate * se_t, effect_t * np.sqrt(rate * (1 - rate) / n))  # no overflow
    low, high = _interval(effect, se, special.ndtri(1 - alpha / 2))
    return DilutedEffect(
        effect=scalar_or_array(effect), se=scalar_or_array(se),
        ci_low=scalar_or_array(low), ci_high=scalar_or_array(high),
        trigger_rate=scalar_or_array(rate), triggered_effect=scalar_or_array(effect_t),
        triggered_se=scalar_or_array(se_t), n_triggered=_count(n_t), n_exposed=_count(n),
        alpha=alpha,
    )


def _count(array: np.ndarray):
    """A Python int for a 0-d count, the int64 array otherwise."""
    return int(array) if np.ndim(array) == 0 else array


def _interval(effect: np.ndarray, se: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """``effect -/+ z se``; a standard error near the float limit gives infinite bounds."""
    with np.errstate(over="ignore"):
        half = z * se
    return effect - half, effect + half
