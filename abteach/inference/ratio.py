r"""Section 5.4: ratio metrics (clicks per page view) and the delta method.

:func:`ratio_metric_test` compares two ratios of sums over users, with the user (the unit
that was randomized) as the independent observation; ``method="naive"`` is the common
mistake of treating every event as independent, kept for teaching.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from abteach._records import Record, brief as _f, format_number
from abteach._validate import (
    check_alpha,
    check_alternative,
    check_choice,
    as_float_array,
    check_nonnegative,
    check_open_unit,
    check_positive,
    scalar_or_array,
)
from abteach.inference._core import (
    _batch_summary,
    _check_spread,
    _compare,
    _experiments,
    _first_index,
    _level,
    _lift_lines,
    _pformula,
    _sample,
    _verdict,
    _where,
)
from abteach.power import sample_size_means

__all__ = ["RATIO_METHODS", "RatioMetricTest", "ratio_metric_test", "sample_size_ratio"]

RATIO_METHODS = ("delta", "naive")


@dataclass(frozen=True, repr=False, eq=False)
class RatioMetricTest(Record):
    """Result of :func:`ratio_metric_test`.

    ``ratio_*`` are the metric per arm (sum of numerators / sum of denominators), ``se_*``
    their standard errors under the chosen ``method``, ``se`` that of the effect.
    """

    statistic: float | np.ndarray
    pvalue: float | np.ndarray
    effect: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    se: float | np.ndarray
    lift: float | np.ndarray
    lift_ci_low: float | np.ndarray
    lift_ci_high: float | np.ndarray
    lift_ci_low_symmetric: float | np.ndarray
    lift_ci_high_symmetric: float | np.ndarray
    ratio_control: float | np.ndarray
    se_control: float | np.ndarray
    n_control: int
    ratio_treatment: float | np.ndarray
    se_treatment: float | np.ndarray
    n_treatment: int
    method: str
    alternative: str
    alpha: float

    def explain(self) -> str:
        """Plain-text derivation with the numbers plugged in (a summary for array results)."""
        head = (
            f"Ratio metric z-test ({self.method} variance), {self.alternative}, alpha = "
            f"{format_number(self.alpha, 4)}; H0: ratio_treatment = ratio_control"
        )
        pformula = _pformula(self.alternative, "Phi", "z")
        if np.ndim(self.statistic) != 0:
            return _batch_summary(
                head, f"z = (ratio_treatment - ratio_control) / SE, p-value = {pformula}",
                self.pvalue, self.alpha, self.effect,
            )
        if self.method == "delta":
            variance = [
                "  Var(ratio)  = Var_u(num - ratio * den) / (n * mean(den)^2)  [delta method: "
                "the user, the unit that was randomized, is the independent observation]",
            ]
        else:
            variance = [
                "  Var(ratio)  = ratio (1 - ratio) / sum(den)  [naive: every event treated as "
                "an independent 0/1 trial; WRONG when users contribute several correlated "
                "events, it understates the variance]",
            ]
        level = _level(self.alpha)
        return "\n".join([
            head,
            f"  ratio_control   = sum(num) / sum(den) = {_f(self.ratio_control)} "
            f"({self.n_control} users), SE {_f(self.se_control)}",
            f"  ratio_treatment = sum(num) / sum(den) = {_f(self.ratio_treatment)} "
            f"({self.n_treatment} users), SE {_f(self.se_treatment)}",
            *variance,
            f"  effect      = ratio_treatment - ratio_control = {_f(self.effect)}",
            f"  SE          = sqrt(SE_c^2 + SE_t^2) = {_f(self.se)}",
            f"  z           = {_f(self.effect)} / {_f(self.se)} = {_f(self.statistic)}",
            f"  p-value     = {pformula} = {_f(self.pvalue)}",
            f"  {level} CI for the effect: [{_f(self.ci_low)}, {_f(self.ci_high)}]",
            *_lift_lines(self, "ratio_c", "ratio_t", self.se_control**2, self.se_treatment**2),
            _verdict(self.pvalue, self.alpha),
        ])


def _ratio_arm(num_name: str, num, den_name: str, den, method: str):
    """Validate one arm's per-user arrays; return (ratio, variance of the ratio, users)."""
    y, x = _sample(num_name, num), _sample(den_name, den)
    x = check_nonnegative(den_name, x)
    if y.shape != x.shape:
        raise ValueError(
            f"{num_name} and {den_name} must have the same shape (one numerator and one "
            f"denominator per user), got {y.shape} and {x.shape}"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        total_y, total_x = y.sum(axis=-1), x.sum(axis=-1)
    bad = ~(np.isfinite(total_y) & np.isfinite(total_x))
    if bad.any():
        raise ValueError(
            f"{num_name} and {den_name} hold values too large for floating point: their sums "
            f"overflow{_where(_first_index(bad))}"
        )
    empty = total_x == 0
    if empty.any():
        raise ValueError(
            f"{den_name} must have a positive sum (the metric is undefined without events), "
            f"got a sum of 0{_where(_first_index(empty))}"
        )
    ratio = total_y / total_x
    n = y.shape[-1]
    if method == "naive":
        outside = (y < 0) | (y > x)
        if outside.any():
            index = _first_index(outside)
            raise ValueError(
                f"method='naive' counts 0/1 events: {num_name} must lie between 0 and "
                f"{den_name}, got {y[index].item()!r} with {den_name} = {x[index].item()!r}"
                f"{_where(index)}"
            )
        return ratio, ratio * (1 - ratio) / total_x, n
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        mean_x = total_x / n
        residual = y - ratio[..., None] * x
        variance = residual.var(axis=-1, ddof=1) / (n * mean_x**2)
    return ratio, variance, n


def ratio_metric_test(
    num_control,
    den_control,
    num_treatment,
    den_treatment,
    *,
    method: str = "delta",
    alternative: str = "two-sided",
    alpha: float = 0.05,
) -> RatioMetricTest:
    r"""Test of a ratio metric (clicks per page view, revenue per order) by the delta method.

    A ratio metric divides two sums over users, :math:`R = \sum_u Y_u / \sum_u X_u =
    \bar Y / \bar X` (``num`` = Y, ``den`` = X per user). Users are randomized, so users
    are the independent units; the events they produce (page views) are not: one user's
    views share that user's propensity to click. The delta method (a first-order Taylor
    expansion of :math:`\bar Y / \bar X` around the means) gives

    .. math:: \mathrm{Var}(\hat R) \approx \frac{1}{n \mu_X^2}\left(\sigma_Y^2
              - 2 R\, \sigma_{XY} + R^2 \sigma_X^2\right)
              = \frac{\mathrm{Var}(Y - R X)}{n \bar X^2},

    estimated with the sample (co)variances (n - 1 divisor) over the n users of the arm
    (Deng, Knoblich & Lu, 2018, section 3). The test refers
    :math:`z = (\hat R_t - \hat R_c) / \sqrt{\mathrm{Var}(\hat R_c) + \mathrm{Var}(\hat R_t)}`
    to N(0, 1) and reports Wald intervals and the two lift intervals of the module docstring.
    With one event per user (``den`` all 1) it is the z-version of Welch's test on ``num``.

    ``method="naive"`` is the common mistake, kept for teaching: it treats every event as an
    independent 0/1 trial, :math:`\mathrm{Var}(\hat R) = \hat R (1 - \hat R) / \sum X`
    (so ``num`` must lie between 0 and ``den``). When users differ in their click
    propensity, this understates the variance, the intervals under-cover and A/A tests
    "find" effects; the chapter's recipe is to run both methods on simulated A/A data with
    clustered users and count how often each 95% interval covers 0.

    Parameters
    ----------
    num_control, den_control, num_treatment, den_treatment : array of float
        Per-user numerator and denominator (>= 0), users along the last axis, at least 2
        users per arm; within an arm both arrays have the same shape. Leading axes are
        separate experiments and broadcast between the arms.
    method : {"delta", "naive"}
        Variance of each arm's ratio.
    alternative : {"two-sided", "larger", "smaller"}
        "larger" means H1: ratio_treatment > ratio_control.
    alpha : float
        Significance level; intervals have confidence 1 - alpha.

    Returns
    -------
    RatioMetricTest
        ``statistic``, ``pvalue``, ``effect``, ``ci_low``, ``ci_high``, ``se``, ``lift`` and
        its intervals, ``ratio_control``, ``ratio_treatment``, their standard errors and
        :meth:`~RatioMetricTest.explain`.

    Raises
    ------
    ValueError
        When a denominator sums to 0, or the standard error is 0 (every user of both arms
        has the same ratio, e.g. no click at all), naming the arguments.

    References
    ----------
    Deng, A., Knoblich, U. & Lu, J. (2018), Applying the delta method in metric analytics:
    a practical guide with novel ideas, *KDD 2018*, 233-242.
    Kohavi, Tang & Xu (2020), *Trustworthy Online Controlled Experiments*, ch. 18.
    """
    method = check_choice("method", method, RATIO_METHODS)
    alternative = check_alternative(alternative)
    alpha = check_alpha(alpha)
    r_c, v_c, n_c = _ratio_arm("num_control", num_control, "den_control", den_control, method)
    r_t, v_t, n_t = _ratio_arm(
        "num_treatment", num_treatment, "den_treatment", den_treatment, method
    )
    lead = _experiments("num_control", np.asarray(num_control), "num_treatment",
                        np.asarray(num_treatment))
    r_c, v_c, r_t, v_t = (np.broadcast_to(value, lead) for value in (r_c, v_c, r_t, v_t))
    names = "num_control, den_control, num_treatment and den_treatment"
    _check_spread(r_c, v_c, r_t, v_t, names, names)
    comparison = _compare(r_c, v_c, r_t, v_t, alternative, alpha)
    return RatioMetricTest(
        **comparison.fields(),
        ratio_control=scalar_or_array(r_c),
        se_control=scalar_or_array(np.sqrt(v_c)),
        n_control=n_c,
        ratio_treatment=scalar_or_array(r_t),
        se_treatment=scalar_or_array(np.sqrt(v_t)),
        n_treatment=n_t,
        method=method,
        alternative=alternative,
        alpha=alpha,
    )


def _unit_sd(mean_num, mean_den, sd_num, sd_den, correlation):
    """Per-user standard deviation of the linearized ratio, sqrt(Var(Y - R X)) / mu_X."""
    mu_y = check_nonnegative("mean_num", mean_num)
    mu_x = check_positive("mean_den", mean_den)
    s_y = check_nonnegative("sd_num", sd_num)
    s_x = check_nonnegative("sd_den", sd_den)
    rho = as_float_array("correlation", correlation)
    bad = np.abs(rho) > 1
    if bad.any():
        raise ValueError(f"correlation must be in [-1, 1], got {rho[bad].flat[0]!r}")
    with np.errstate(over="ignore", invalid="ignore"):
        r = mu_y / mu_x
        variance = s_y**2 - 2 * r * rho * s_y * s_x + r**2 * s_x**2
        sd = np.sqrt(np.maximum(variance, 0.0)) / mu_x
    flat = ~np.isfinite(sd) | (sd <= 0)
    if flat.any():
        raise ValueError(
            "mean_num, mean_den, sd_num, sd_den and correlation give a per-user ratio "
            "variance of 0 (or one too large for floating point): every user would have the "
            "same ratio, so no sample size is needed or defined"
        )
    return sd


def sample_size_ratio(delta, mean_num, mean_den, sd_num, sd_den, correlation, *, alpha=0.05,
                      power=0.8, alternative="two-sided"):
    r"""Users per arm to detect a change ``delta`` in a ratio metric (delta method).

    A ratio metric :math:`R = \bar Y / \bar X` (clicks per page view) over n users has,
    by the delta method (see :func:`ratio_metric_test`), the variance of a mean of n
    independent per-user values with standard deviation

    .. math:: \sigma_R = \frac{\sqrt{\sigma_Y^2 - 2R\,\rho\,\sigma_Y\sigma_X
              + R^2\sigma_X^2}}{\mu_X}, \qquad R = \mu_Y / \mu_X,

    so the sample size is that of a difference in means with this standard deviation
    (:func:`~abteach.power.sample_size_means`, z-test, equal arms):
    :math:`n \approx 2 (z_{1-\alpha/2} + z_{1-\beta})^2 \sigma_R^2 / \delta^2`
    (Deng, Knoblich & Lu 2018). Using :math:`\sigma_Y` of the numerator alone (as if the
    metric were a mean per user) or the binomial variance per event gives the wrong n.

    Parameters
    ----------
    delta : float or array
        Change of the ratio to detect (treatment - control), not 0.
    mean_num, mean_den : float or array
        Mean numerator (>= 0) and denominator (> 0) per user, e.g. from a pre-period.
    sd_num, sd_den : float or array
        Their standard deviations across users (>= 0).
    correlation : float or array
        Correlation of numerator and denominator across users, in [-1, 1].
    alpha, power : float
    alternative : {"two-sided", "larger", "smaller"}

    Returns
    -------
    float or numpy.ndarray
        Users per arm (not rounded; round up).

    References
    ----------
    Deng, A., Knoblich, U. & Lu, J. (2018), Applying the delta method in metric analytics:
    a practical guide with novel ideas, *KDD 2018*, 233-242.

    Examples
    --------
    >>> round(sample_size_ratio(0.002, 0.5, 5.0, 1.2, 4.0, 0.8), 1)
    130605.0
    """
    sd = _unit_sd(mean_num, mean_den, sd_num, sd_den, correlation)
    check_open_unit("power", power)
    try:
        return sample_size_means(delta, sd, alpha=alpha, power=power, alternative=alternative)
    except ValueError as exc:
        if "delta and sd" not in str(exc):
            raise
        raise ValueError(
            "delta, mean_num, mean_den, sd_num, sd_den and correlation give no usable sample "
            f"size (sd here is the per-user ratio sd sigma_R): {exc}"
        ) from None
