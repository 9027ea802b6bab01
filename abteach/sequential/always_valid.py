r"""Always-valid inference: the mixture sequential probability ratio test (mSPRT).

p-values and confidence sequences that stay valid however often, and whenever, one looks, at
a price in power.

References
----------
Johari, R., Koomen, P., Pekelis, L. & Walsh, D. (2022), Always valid inference: continuous
monitoring of A/B tests, *Operations Research* 70, 1806-1821 (arXiv 1512.04922, 2017).
Howard, S. R., Ramdas, A., McAuliffe, J. & Sekhon, J. (2021), Time-uniform, nonparametric,
nonasymptotic confidence sequences, *Annals of Statistics* 49, 1055-1080.
Robbins, H. (1970), Statistical methods related to the law of the iterated logarithm, *Annals
of Mathematical Statistics* 41, 1397-1409.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from abteach._records import Record, format_number
from abteach._validate import (
    as_float_array,
    broadcast,
    check_alpha,
    check_positive,
    check_scalar,
)

__all__ = ["MixtureSPRT", "msprt"]


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

    Examples
    --------
    >>> res = msprt([0.1, 0.2, 0.25], [0.02, 0.01, 0.005], tau2=0.01)
    >>> res.pvalue.round(4), res.stop_look
    (array([1.    , 0.5203, 0.0269]), 3)
    """
    theta = as_float_array("estimates", estimates)
    if theta.ndim == 0:
        theta = theta[None]
    theta, v = broadcast(estimates=theta, variances=check_positive("variances", variances))
    tau2 = check_scalar("tau2", check_positive("tau2", tau2))
    alpha = check_alpha(alpha)
    null = check_scalar("null", as_float_array("null", null))
    log_lr = _log_likelihood_ratio(theta, v, tau2, null)
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


def _log_likelihood_ratio(theta, v, tau2: float, null: float) -> np.ndarray:
    """log Lambda = log(V / (V + tau2)) / 2 + tau2 (theta - theta_0)^2 / (2 V (V + tau2)),
    on the log scale so that extreme inputs give p = 0 or an infinite interval, never an
    overflow or NaN."""
    log_v = np.log(v)
    log_sum = np.logaddexp(log_v, math.log(tau2))
    with np.errstate(over="ignore", divide="ignore"):
        log_distance = 2.0 * np.log(np.abs(theta - null))
        evidence = 0.5 * np.exp(math.log(tau2) + log_distance - log_v - log_sum)
    return 0.5 * (log_v - log_sum) + evidence
