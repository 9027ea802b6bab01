r"""Non-compliance (chapter 16): intention to treat and the complier average causal effect.

Randomization decides what a user is *offered* (an e-mail is sent, a feature is enabled);
whether the user *takes* it (opens the e-mail, reaches the changed page) is up to the user.
Comparing takers with non-takers is no longer a randomized comparison. Two honest answers:
the intention-to-treat effect (ITT: compare the arms as randomized), and the effect on the
users who take the treatment when offered and only then (compliers), which the Wald
instrumental-variable estimator recovers under the assumptions of Angrist, Imbens & Rubin
(1996): the offer affects the outcome only through the take-up, and nobody takes the
treatment *because* it was not offered (monotonicity).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from abteach._records import Record
from abteach._validate import (
    as_float_array,
    broadcast,
    check_alpha,
    check_alternative,
    check_closed_unit,
    scalar_or_array,
)
from abteach.inference._core import _first_index, _where
from abteach.interference._private import last_axis, refuse_flat, wald

__all__ = ["ComplierEffect", "complier_effect"]


@dataclass(frozen=True, repr=False, eq=False)
class ComplierEffect(Record):
    """Result of :func:`complier_effect`.

    ``effect`` is the complier average causal effect (CACE) with its Wald test and interval;
    ``itt`` the intention-to-treat effect on the outcome and ``compliance`` the effect of
    the offer on the take-up (the share of compliers), each with its standard error.
    """

    statistic: float | np.ndarray
    pvalue: float | np.ndarray
    effect: float | np.ndarray
    se: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    itt: float | np.ndarray
    itt_se: float | np.ndarray
    compliance: float | np.ndarray
    compliance_se: float | np.ndarray
    alternative: str
    alpha: float

    def explain(self) -> str:
        """The Wald estimator step by step (a one-line summary for array results)."""
        if np.ndim(self.effect) != 0:
            return (f"Complier effects (Wald / IV) of {np.size(self.effect)} experiments: "
                    f"CACE = ITT / compliance, mean {np.mean(self.effect):.4g}")
        return "\n".join([
            f"Complier average causal effect (Wald / IV estimator), {self.alternative}",
            f"  ITT        = mean(Y | offered) - mean(Y | not offered) = {self.itt:.4g} "
            f"(SE {self.itt_se:.4g})",
            f"  compliance = mean(D | offered) - mean(D | not offered) = {self.compliance:.4g} "
            f"(SE {self.compliance_se:.4g})",
            f"  CACE       = ITT / compliance = {self.effect:.4g}, delta-method SE "
            f"{self.se:.4g}",
            f"  {100 * (1 - self.alpha):.0f}% CI [{self.ci_low:.4g}, {self.ci_high:.4g}], "
            f"p-value {self.pvalue:.4g}",
            "  Launch decisions need the ITT: the CACE is the effect on compliers only.",
        ])


def _arm(y_name: str, outcome, d_name: str, received):
    y = last_axis(y_name, as_float_array(y_name, outcome), 2)
    if isinstance(received, np.ndarray) and received.dtype == bool:
        received = received.astype(float)  # True / False take-ups are 1 / 0
    d = last_axis(d_name, check_closed_unit(d_name, received), 2)
    if y.shape != d.shape:
        raise ValueError(f"{y_name} and {d_name} must have the same shape (one outcome and one "
                         f"take-up per user), got {y.shape} and {d.shape}")
    n = y.shape[-1]
    with np.errstate(over="ignore", invalid="ignore"):
        mean_y, mean_d = y.mean(axis=-1), d.mean(axis=-1)
        centered_y, centered_d = y - mean_y[..., None], d - mean_d[..., None]
        moments = [(a * b).sum(axis=-1) / (n - 1) / n for a, b in (
            (centered_y, centered_y), (centered_d, centered_d), (centered_y, centered_d))]
    return mean_y, mean_d, *moments


def complier_effect(outcome_control, received_control, outcome_treatment, received_treatment,
                    *, alternative="two-sided", alpha=0.05) -> ComplierEffect:
    r"""Intention-to-treat effect and complier average causal effect (Wald / IV estimator).

    Per user: the outcome Y and the take-up D (1 when the user received the treatment,
    e.g. opened the e-mail; a boolean array or a share in [0, 1] is accepted). With arm means
    :math:`\bar Y_z, \bar D_z` (z = 1 offered, 0 not offered),

    .. math:: \widehat{\mathrm{ITT}} = \bar Y_1 - \bar Y_0, \qquad
              \hat\pi = \bar D_1 - \bar D_0, \qquad
              \widehat{\mathrm{CACE}} = \widehat{\mathrm{ITT}} / \hat\pi,

    (Angrist, Imbens & Rubin 1996). The delta method gives

    .. math:: \mathrm{Var}(\widehat{\mathrm{CACE}}) \approx \frac{1}{\hat\pi^2}
              \sum_{z=0,1} \frac{\mathrm{Var}_z(Y - \widehat{\mathrm{CACE}}\, D)}{n_z},

    the variance of the ITT and of the take-up difference combined with their covariance
    within each arm; it equals the heteroskedasticity-robust (HC0) standard error of
    two-stage least squares with the arm as instrument, up to the factor n/(n - 1) of the
    sample variances. With one-sided non-compliance (nobody in control can take the
    treatment, as with an e-mail that was never sent) :math:`\hat\pi` is the take-up rate
    of the treatment arm, and the CACE is the effect on the treated.

    Parameters
    ----------
    outcome_control, received_control, outcome_treatment, received_treatment : array
        Per-user outcomes and take-ups (in [0, 1]), users along the last axis (at least 2
        per arm); leading axes are separate experiments and broadcast.
    alternative : {"two-sided", "larger", "smaller"}
    alpha : float

    Returns
    -------
    ComplierEffect

    Raises
    ------
    ValueError
        When the offer does not raise the take-up (the CACE is then undefined).

    References
    ----------
    Angrist, J. D., Imbens, G. W. & Rubin, D. B. (1996), Identification of causal effects
    using instrumental variables, *Journal of the American Statistical Association* 91,
    444-455.
    Imbens, G. W. & Rubin, D. B. (2015), *Causal Inference for Statistics, Social, and
    Biomedical Sciences*, Cambridge University Press, ch. 23-24.
    """
    alternative = check_alternative(alternative)
    alpha = check_alpha(alpha)
    y0, d0, vy0, vd0, c0 = _arm("outcome_control", outcome_control, "received_control",
                                received_control)
    y1, d1, vy1, vd1, c1 = _arm("outcome_treatment", outcome_treatment, "received_treatment",
                                received_treatment)
    y0, d0, vy0, vd0, c0, y1, d1, vy1, vd1, c1 = broadcast(
        outcome_control=y0, received_control=d0, outcome_control_var=vy0,
        received_control_var=vd0, control_cov=c0, outcome_treatment=y1,
        received_treatment=d1, outcome_treatment_var=vy1, received_treatment_var=vd1,
        treatment_cov=c1)
    pi = d1 - d0
    weak = pi <= 0
    if weak.any():
        raise ValueError(
            "received_treatment must have a higher mean than received_control (the offer "
            f"must raise the take-up), got {d1[_first_index(weak)].item()!r} vs "
            f"{d0[_first_index(weak)].item()!r}{_where(_first_index(weak))}"
        )
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        itt = y1 - y0
        cace = itt / pi
        var_itt, var_pi, cov = vy0 + vy1, vd0 + vd1, c0 + c1
        var_cace = (var_itt - 2 * cace * cov + cace**2 * var_pi) / pi**2
        se = np.sqrt(np.maximum(var_cace, 0.0))
    names = "outcome_control, received_control, outcome_treatment and received_treatment"
    refuse_flat(np.where(np.isfinite(cace) & np.isfinite(var_itt), se, np.inf), names)
    return ComplierEffect(
        **wald(cace, se, alternative, alpha), effect=scalar_or_array(cace),
        itt=scalar_or_array(itt), itt_se=scalar_or_array(np.sqrt(var_itt)),
        compliance=scalar_or_array(pi), compliance_se=scalar_or_array(np.sqrt(var_pi)),
        alternative=alternative, alpha=alpha,
    )
