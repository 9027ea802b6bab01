r"""Section 15.5: quantile metrics (p95 page-load time per page view), clustered by user.

A page view is not the randomization unit: one user's page views share the user's device and
connection, so they are correlated, and the i.i.d. formula for the variance of a sample
quantile is too small. Deng, Knoblich & Lu (2018) apply the delta method to the empirical
distribution function at the quantile, a ratio of two per-user sums, and turn the resulting
interval for ranks into an interval for the quantile, without estimating a density.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from abteach._records import Record, brief as _f
from abteach._validate import (
    check_alpha,
    check_alternative,
    check_open_unit,
    check_scalar,
)
from abteach.inference._core import _interval, _level, _pvalue, _sample
from abteach.inference._resampling import _cluster_codes

__all__ = ["QuantileTest", "quantile_test"]

# The per-arm standard error is read off the outer 95% interval of the quantile.
_Z_OUTER = float(special.ndtri(0.975))


@dataclass(frozen=True, repr=False, eq=False)
class QuantileTest(Record):
    """Result of :func:`quantile_test` (treatment minus control)."""

    quantile: float
    estimate_control: float
    estimate_treatment: float
    effect: float
    standard_error: float
    statistic: float
    pvalue: float
    ci_low: float
    ci_high: float
    se_control: float
    se_treatment: float
    n_control: int
    n_treatment: int
    units_control: int
    units_treatment: int
    alternative: str
    alpha: float

    def explain(self) -> str:
        """Plain-text description of the test with the numbers plugged in."""
        q = f"{100 * self.quantile:g}th percentile"
        return "\n".join([
            f"Difference of {q}s (delta method of Deng, Knoblich & Lu 2018)",
            f"  control {_f(self.estimate_control)} ({self.n_control} values, "
            f"{self.units_control} units), SE {_f(self.se_control)}",
            f"  treatment {_f(self.estimate_treatment)} ({self.n_treatment} values, "
            f"{self.units_treatment} units), SE {_f(self.se_treatment)}",
            f"  effect {_f(self.effect)}, SE sqrt(SE_c^2 + SE_t^2) = {_f(self.standard_error)}, "
            f"z = {_f(self.statistic)}, p = {_f(self.pvalue)}",
            f"  {_level(self.alpha)} CI = [{_f(self.ci_low)}, {_f(self.ci_high)}]",
        ])


def _units(name: str, labels, size: int) -> np.ndarray:
    """Unit codes of the observations; each observation is its own unit without labels."""
    return np.arange(size) if labels is None else _cluster_codes(name, labels, size)


def _arm_quantile(name: str, values: np.ndarray, units: np.ndarray, level: float):
    r"""Estimate and standard error of one arm's quantile (Deng, Knoblich & Lu 2018).

    F(xi) = sum_i S_i / sum_i N_i with S_i the unit's values <= xi and N_i its values; the
    delta method for this ratio of means over K units gives
    sigma_F^2 = Var(S_i - q N_i) / (K mean(N)^2). The sample quantiles at the levels
    q -/+ z sigma_F bound the quantile: [L, U], and SE = (U - L) / (2 z).
    """
    ordered = np.sort(values)
    n = ordered.size
    estimate = float(np.quantile(ordered, level))
    per_unit = np.bincount(units)
    below = np.bincount(units, weights=(values <= estimate).astype(float), minlength=per_unit.size)
    k = per_unit.size
    sigma_f = np.sqrt(np.var(below - level * per_unit, ddof=1) / k) / per_unit.mean()
    low, high = np.quantile(ordered, np.clip([level - _Z_OUTER * sigma_f,
                                              level + _Z_OUTER * sigma_f], 0, 1))
    se = (high - low) / (2 * _Z_OUTER)
    if not se > 0:
        raise ValueError(
            f"the {name} values do not vary around their {level:g} quantile, so its standard "
            "error is 0; a quantile test needs spread there"
        )
    return estimate, float(se), k


def quantile_test(control, treatment, *, quantile: float = 0.95, clusters_control=None,
                  clusters_treatment=None, alternative: str = "two-sided",
                  alpha: float = 0.05) -> QuantileTest:
    r"""Test and interval for the difference of a quantile (e.g. p95 load time per page view).

    For each arm, with values :math:`y_{ij}` (page view j of user i), :math:`N_i` values of
    unit i, :math:`N = \sum_i N_i`, K units and :math:`\hat\xi_q` the sample quantile, the
    empirical distribution function at :math:`\hat\xi_q` is a ratio of per-unit sums,
    :math:`\hat F = \sum_i S_i / \sum_i N_i`, :math:`S_i = \#\{j: y_{ij} \le \hat\xi_q\}`.
    The delta method gives

    .. math::

        \sigma_F^2 = \frac{\widehat{\mathrm{Var}}(S_i - q N_i)}{K \bar N^2}, \qquad
        [L, U] = \hat F^{-1}(q \mp z_{0.975}\, \sigma_F), \qquad
        \mathrm{SE}(\hat\xi_q) = \frac{U - L}{2 z_{0.975}},

    the outer-interval construction of Deng, Knoblich & Lu (2018): an interval for the
    value of F at the quantile (ranks :math:`N(q \mp z\sigma_F)`) turned into an interval for
    the quantile, which needs no density estimate (here the sample quantiles at those
    levels, with numpy's linear interpolation between order statistics). Without clusters
    every value is its own unit and :math:`\sigma_F^2 \approx q(1-q)/N`, the classical
    order-statistic interval. The
    difference :math:`\hat\xi_{q,t} - \hat\xi_{q,c}` is then tested with
    :math:`\mathrm{SE} = \sqrt{\mathrm{SE}_c^2 + \mathrm{SE}_t^2}` (normal approximation).

    Parameters
    ----------
    control, treatment : 1-d array of float
        One value per page view (or other sub-unit), at least 2 per arm.
    quantile : float
        The level q in (0, 1), 0.95 by default.
    clusters_control, clusters_treatment : 1-d array, optional
        The unit (user id) of each value; None treats the values as independent.
    alternative : {"two-sided", "larger", "smaller"}
    alpha : float

    Returns
    -------
    QuantileTest

    References
    ----------
    Deng, A., Knoblich, U. & Lu, J. (2018), Applying the Delta Method in Metric Analytics: A
    Practical Guide with Novel Ideas, *KDD 2018*, 233-242 (quantile metrics).

    Examples
    --------
    >>> r = quantile_test(range(0, 100), range(10, 110), quantile=0.5)
    >>> round(r.effect, 4)
    10.0
    """
    level = check_scalar("quantile", check_open_unit("quantile", quantile))
    alternative = check_alternative(alternative)
    alpha = check_alpha(alpha)
    arms = []
    for name, values, labels in (("control", control, clusters_control),
                                 ("treatment", treatment, clusters_treatment)):
        y = _sample(name, values)
        if y.ndim != 1:
            raise ValueError(f"{name} must be a 1-d array of values, got shape {y.shape}")
        units = _units(f"clusters_{name}", labels, y.size)
        arms.append((y.size, *_arm_quantile(name, y, units, level)))
    (n_c, est_c, se_c, k_c), (n_t, est_t, se_t, k_t) = arms
    effect = est_t - est_c
    se = float(np.hypot(se_c, se_t))
    z = effect / se
    low, high = _interval(np.asarray(effect), se, alternative, alpha)
    return QuantileTest(
        quantile=level, estimate_control=est_c, estimate_treatment=est_t, effect=effect,
        standard_error=se, statistic=z, pvalue=float(_pvalue(z, alternative)),
        ci_low=float(low), ci_high=float(high), se_control=se_c, se_treatment=se_t,
        n_control=n_c, n_treatment=n_t, units_control=k_c, units_treatment=k_t,
        alternative=alternative, alpha=alpha,
    )
