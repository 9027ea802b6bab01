r"""Relative effects: the lift interval of a test result at another level or alternative.

Every two-arm test reports the lift ``treatment / control - 1``. Its ``lift_ci_low`` /
``lift_ci_high`` interval is the delta method applied to the LOG of the ratio,
``log(t / c) -/+ z sqrt(Var(t)/t^2 + Var(c)/c^2)``, exponentiated: it is asymmetric, stays
above -100%, and keeps the level of one-sided bounds. The tests also report the symmetric
interval ``lift -/+ z SE`` with ``SE^2 = Var(t)/c^2 + t^2 Var(c)/c^4`` (the delta method
applied to the ratio itself, Kohavi, Tang & Xu (2020) ch. 18) as ``lift_ci_low_symmetric`` /
``lift_ci_high_symmetric``; both use the normal quantile z. :func:`lift_interval` recomputes
the log-scale one at the level a guardrail check needs.
"""

from __future__ import annotations

import numpy as np

from abteach._validate import check_alpha, check_alternative, scalar_or_array
from abteach.inference._core import _log_lift_interval
from abteach.inference.means import MeansTTest, _mean_variances
from abteach.inference.proportions import ProportionsZTest
from abteach.inference.ratio import RatioMetricTest

__all__ = ["lift_interval"]


def lift_interval(result, *, alternative: str = "two-sided", alpha: float = 0.05):
    r"""The interval of the relative lift of a test result, at another level or alternative.

    The tests report ``lift_ci_low``/``lift_ci_high`` at their own ``alpha`` and
    ``alternative``; a guardrail (non-inferiority) check needs a one-sided bound at its own
    level. This recomputes the same delta-method interval on the log scale from the result's
    arm estimates :math:`\hat\theta` and their variances :math:`V`:

    .. math:: \log(\hat\theta_t / \hat\theta_c) \mp q\,
              \sqrt{V_t / \hat\theta_t^2 + V_c / \hat\theta_c^2}, \quad
              \text{lift bounds} = \exp(\cdot) - 1,

    with :math:`V = p(1-p)/n` (:class:`ProportionsZTest`), :math:`s^2/n` or the pooled
    :math:`s^2/n` (:class:`MeansTTest`, as the test used), :math:`SE^2`
    (:class:`RatioMetricTest`). With ``alternative="larger"`` the interval is
    ``(low, inf)``, with ``"smaller"`` ``(-inf, high)``. Where the lift has no log-scale
    interval (an arm's estimate not positive) the interval is the whole line.
    Reference: Kohavi, Tang & Xu (2020) ch. 18 (confidence intervals for percent change).

    Returns ``(low, high)``, floats or arrays like the result's fields.

    Examples
    --------
    >>> from abteach.inference import ztest_proportions
    >>> res = ztest_proportions(122, 21306, 267, 21307)
    >>> low, high = lift_interval(res, alternative="larger", alpha=0.025)
    >>> print(f"{low:.4f} {high}  (the test's two-sided 95% low: {res.lift_ci_low:.4f})")
    0.7680 inf  (the test's two-sided 95% low: 0.7680)
    """
    alternative = check_alternative(alternative)
    alpha = check_alpha(alpha)
    est_c, var_c, est_t, var_t = _arm_estimates(result)
    defined, low, high = _log_lift_interval(est_c, var_c, est_t, var_t, alternative, alpha)
    return (scalar_or_array(np.where(defined, low, -np.inf)),
            scalar_or_array(np.where(defined, high, np.inf)))


def _arm_estimates(result):
    """(estimate, variance of the estimate) of control, then of treatment, of a test result."""
    def floats(*names):
        return [np.asarray(getattr(result, name), float) for name in names]

    if isinstance(result, ProportionsZTest):
        p_c, n_c, p_t, n_t = floats("p_control", "n_control", "p_treatment", "n_treatment")
        return p_c, p_c * (1 - p_c) / n_c, p_t, p_t * (1 - p_t) / n_t
    if isinstance(result, MeansTTest):
        m_c, s_c, n_c, m_t, s_t, n_t = floats(
            "mean_control", "sd_control", "n_control", "mean_treatment", "sd_treatment",
            "n_treatment",
        )
        var_c, var_t = _mean_variances(s_c, n_c, s_t, n_t, result.equal_var)
        return m_c, var_c, m_t, var_t
    if isinstance(result, RatioMetricTest):
        r_c, se_c, r_t, se_t = floats("ratio_control", "se_control", "ratio_treatment",
                                      "se_treatment")
        return r_c, se_c**2, r_t, se_t**2
    raise TypeError(
        "result must be a ProportionsZTest, MeansTTest or RatioMetricTest, got "
        f"{type(result).__name__}"
    )
