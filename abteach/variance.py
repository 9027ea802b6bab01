r"""Variance reduction with pre-experiment data: CUPED (Deng, Xu, Kohavi & Walker 2013).

The idea
--------
Users differ a lot, and most of that difference existed before the experiment: a heavy buyer
last month is a heavy buyer this month. CUPED (Controlled-experiment Using Pre-Experiment
Data) subtracts the part of the metric Y that a pre-period covariate X predicts,

.. math:: Y'_i = Y_i - \theta\,(X_i - \bar X), \qquad
          \hat\Delta_{cv} = \bar Y'_t - \bar Y'_c
          = (\bar Y_t - \bar Y_c) - \theta\,(\bar X_t - \bar X_c),

and analyzes Y' instead of Y. Three facts carry the method:

1. **Unbiased for any fixed theta.** X is measured before the treatment starts, so
   randomization makes :math:`E[\bar X_t - \bar X_c] = 0`: the adjustment term has mean zero
   and :math:`\hat\Delta_{cv}` estimates the same effect as the plain difference of means.
2. **Optimal theta.** :math:`\mathrm{Var}(Y - \theta X)` is smallest at
   :math:`\theta = \mathrm{cov}(Y, X) / \mathrm{var}(X)`, where it equals
   :math:`\mathrm{Var}(Y)(1 - \rho^2)`, :math:`\rho = \mathrm{corr}(Y, X)`. The same identity
   holds exactly for the sample versions (sample theta, sample rho, same divisor), which the
   tests check. A pre-period correlation of 0.71 gives 1 - 0.71^2 = 0.4959: half the
   variance, so the same power with half the users (Deng et al. report about 50% on Bing).
3. **One theta, estimated on both arms pooled.** The same theta must multiply both arms'
   covariate means, otherwise the terms no longer cancel in expectation. Deng et al. estimate
   it on the pooled arms: one number from all the data. Because X is pre-period, the
   treatment cannot shift X, so the effect cannot "leak" into the adjustment; the pooled
   estimate differs from a within-arm one only by a term of order 1/n, and the bias from
   estimating theta on the same data vanishes at the same rate.

The regression view: CUPED is a regression adjustment. The regression ``Y ~ T + X``
(statsmodels/R) estimates theta from the *within-arm* variation; its treatment coefficient
equals :math:`\hat\Delta_{cv}` computed with that theta (``cuped_adjust(y, covariate,
theta=...)``), and the pooled and within-arm thetas differ by O(1/n).

Two pitfalls
------------
* **A covariate affected by the treatment.** If X is measured after the treatment starts
  (clicks during the experiment as a covariate for revenue), :math:`E[\bar X_t - \bar X_c]`
  is no longer 0 and CUPED subtracts part of the real effect: biased results. Use only data
  from before each user's first exposure. :func:`cuped_test` reports a Welch test of the
  covariate's imbalance between arms (``covariate_pvalue``): a tiny value is a red flag.
* **Users without pre-period data** (new users, cleared cookies). Deng et al. (section 4.2)
  add a second covariate, the indicator "X is missing", and fill the missing X with any
  constant. ``missing="indicator"`` does exactly that: it is CUPED within users who have X,
  plus stratification by having X or not. New users are not adjusted by X, but the
  difference between the two groups' means is removed. The variance reduction is then
  1 - R^2 of the regression on (X, indicator), no longer 1 - rho^2.

References
----------
Deng, A., Xu, Y., Kohavi, R. & Walker, T. (2013), Improving the sensitivity of online
controlled experiments by utilizing pre-experiment data, *WSDM '13*, 123-132 (section 3.2:
control variates and the pooled theta; 4.2: missing pre-period data; 4.3: covariates affected
by the treatment).
Kohavi, Tang & Xu (2020), *Trustworthy Online Controlled Experiments*, ch. 18.
Lin, W. (2013), Agnostic notes on regression adjustments to experimental data, *Annals of
Applied Statistics* 7, 295-318 (regression adjustment in randomized experiments).
"""

from __future__ import annotations

import functools
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from abteach._records import Record, brief as _f, format_number
from abteach._validate import as_float_array, check_alpha, check_alternative, check_choice
from abteach.inference import welch_ttest

__all__ = ["MISSING", "CupedAdjustment", "CupedTest", "cuped_adjust", "cuped_test"]

#: How :func:`cuped_adjust` and :func:`cuped_test` treat NaN in the covariate.
MISSING = ("raise", "indicator")


# --- renamed arguments and fields ---------------------------------------------------------


def _renamed(**new_names):
    """Accept the old keyword names of renamed arguments for one release, with a
    DeprecationWarning naming the new one (``old="new"``)."""
    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            for old, new in new_names.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(
                            f"{function.__name__}() got both {old!r} and {new!r}; {old!r} is "
                            f"the deprecated name of {new!r}: pass only {new!r}"
                        )
                    warnings.warn(
                        f"{function.__name__}(): the argument {old!r} is deprecated and will be "
                        f"removed in the next release; use {new!r}",
                        DeprecationWarning, stacklevel=2,
                    )
                    kwargs[new] = kwargs.pop(old)
            return function(*args, **kwargs)
        return wrapper
    return decorate


def _deprecated_field(old: str, new: str) -> property:
    """A read-only alias of a renamed record field, warning on use."""
    def getter(self):
        warnings.warn(
            f"{type(self).__name__}.{old} is deprecated and will be removed in the next "
            f"release; use .{new}",
            DeprecationWarning, stacklevel=2,
        )
        return getattr(self, new)
    return property(getter, doc=f"Deprecated alias of ``{new}`` (removed in the next release).")


# --- validation ---------------------------------------------------------------------------


def _metric(name: str, value) -> np.ndarray:
    """A float array with at least one dimension, units along the last axis."""
    array = as_float_array(name, value)
    if array.ndim == 0:
        raise ValueError(f"{name} must be an array of values, one per unit, got a single number")
    return array


def _covariate(name: str, value, missing: str) -> tuple[np.ndarray, np.ndarray]:
    """The covariate (NaN replaced by 0) and the mask of units whose value is observed."""
    if missing == "indicator":
        try:
            raw = np.asarray(value)
        except (ValueError, TypeError):
            raw = None
        if raw is not None and raw.dtype.kind == "f":
            observed = ~np.isnan(raw)
            return _metric(name, np.where(observed, raw, 0.0)), observed
    try:
        array = _metric(name, value)
    except ValueError as exc:
        if "must be finite, got nan" in str(exc):
            raise ValueError(
                f"{exc}; for users without pre-period data pass missing='indicator'"
            ) from None
        raise
    return array, np.ones(array.shape, dtype=bool)


def _same_shape(names: tuple[str, str], a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape (one value of each per "
            f"unit), got {a.shape} and {b.shape}"
        )


def _at_least_two(name: str, array: np.ndarray) -> None:
    if array.shape[-1] < 2:
        raise ValueError(
            f"{name} must hold at least 2 units (along its last axis), got {array.shape[-1]}"
        )


def _check_theta(theta, batch: tuple[int, ...]) -> np.ndarray:
    array = as_float_array("theta", theta)
    try:
        return np.broadcast_to(array, batch)
    except ValueError:
        raise ValueError(
            f"theta must be a single number or have the shape {batch} of the experiments, "
            f"got shape {array.shape}"
        ) from None


# --- the fit ------------------------------------------------------------------------------


class _Fit(NamedTuple):
    adjusted: np.ndarray
    theta: np.ndarray
    theta_missing: np.ndarray
    rho: np.ndarray
    variance_factor: np.ndarray
    covariate_mean: np.ndarray
    n_missing: np.ndarray


def _masked_mean(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    count = mask.sum(axis=-1, keepdims=True)
    return np.where(mask, values, 0.0).sum(axis=-1, keepdims=True) / np.maximum(count, 1)


def _centered(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Values minus their mean over ``mask`` (0 outside it); exactly 0 when they are constant.

    Checking max == min guards against the rounding of the mean: ten copies of 0.1 have a
    mean that is not exactly 0.1, and dividing by that spurious variance would be nonsense.
    """
    high = np.where(mask, values, -np.inf).max(axis=-1, keepdims=True)
    low = np.where(mask, values, np.inf).min(axis=-1, keepdims=True)
    centered = np.where(mask, values - _masked_mean(values, mask), 0.0)
    return np.where(high > low, centered, 0.0)


def _scaled(centered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Divide by the largest absolute value (1 where all are 0): sums of squares cannot
    overflow or underflow."""
    scale = np.abs(centered).max(axis=-1, keepdims=True)
    scale = np.where(scale > 0, scale, 1.0)
    return centered / scale, scale


def _fit(y, x, observed, x_names: str, theta=None) -> _Fit:
    """CUPED fit along the last axis (units), every leading axis an independent experiment.

    ``x`` holds 0 where ``observed`` is False. theta is the pooled OLS slope of y on x over
    the units with x observed; with missing x the indicator's coefficient is the difference
    between the mean y of units without and with x (see the module docstring).
    """
    n = y.shape[-1]
    n_observed = observed.sum(axis=-1, keepdims=True)
    if np.any(n_observed == 0):
        raise ValueError(f"{x_names} have no observed value: no covariate to adjust with")
    xc = _centered(x, observed)
    if np.any(np.all(xc == 0, axis=-1)):
        raise ValueError(
            f"{x_names} have zero variance (every observed value is the same): theta = "
            "cov(Y, X) / var(X) is undefined and a constant covariate cannot reduce variance"
        )
    yc_observed = _centered(y, observed)
    xs, x_scale = _scaled(xc)
    ys, y_scale = _scaled(yc_observed)
    sxx = np.sum(xs * xs, axis=-1, keepdims=True)  # >= 1: the largest |xs| is 1
    syy = np.sum(ys * ys, axis=-1, keepdims=True)
    sxy = np.sum(xs * ys, axis=-1, keepdims=True)
    rho = np.clip(np.where(syy > 0, sxy / np.sqrt(sxx * np.where(syy > 0, syy, 1.0)), 0.0), -1, 1)
    if theta is None:
        theta = sxy / sxx * (y_scale / x_scale)
    else:
        theta = np.asarray(theta, dtype=float)[..., None]

    missing = ~observed
    n_missing = n - n_observed
    y_missing_mean = _masked_mean(y, missing)
    theta_missing = np.where(n_missing > 0, y_missing_mean - _masked_mean(y, observed), 0.0)
    indicator = missing - n_missing / n
    adjusted = y - theta * xc - theta_missing * indicator

    ys_all, scale_all = _scaled(_centered(y, np.ones_like(observed)))
    total = np.sum(ys_all * ys_all, axis=-1)
    residual = _centered(adjusted, np.ones_like(observed)) / scale_all
    left = np.sum(residual * residual, axis=-1)
    variance_factor = np.where(
        total > 0, left / np.where(total > 0, total, 1.0),
        np.where(left > 0, np.inf, 1.0),
    )
    return _Fit(
        adjusted=adjusted,
        theta=theta[..., 0],
        theta_missing=theta_missing[..., 0],
        rho=rho[..., 0],
        variance_factor=variance_factor,
        covariate_mean=_masked_mean(x, observed)[..., 0],
        n_missing=n_missing[..., 0],
    )


def _numeric(array):
    """A Python float (int for counts) for a 0-d result, the array otherwise."""
    array = np.asarray(array)
    if array.ndim:
        return array
    return int(array) if np.issubdtype(array.dtype, np.integer) else float(array)


@contextmanager
def _float_errors(names: str):
    """Turn a float overflow (or 0/0) in the block into a ValueError naming the arguments."""
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        try:
            yield
        except FloatingPointError:
            raise ValueError(
                f"{names}: values too large, or too different in scale, for float64 arithmetic "
                "(rescale the metric, e.g. to thousands)"
            ) from None


# --- cuped_adjust -------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class CupedAdjustment(Record):
    """Result of :func:`cuped_adjust`: the adjusted values and the fitted coefficients."""

    adjusted: np.ndarray
    theta: float | np.ndarray
    theta_missing: float | np.ndarray
    rho: float | np.ndarray
    variance_factor: float | np.ndarray
    covariate_mean: float | np.ndarray
    n_missing: int | np.ndarray

    x_mean = _deprecated_field("x_mean", "covariate_mean")


@_renamed(x="covariate")
def cuped_adjust(y, covariate, *, theta=None, missing: str = "raise") -> CupedAdjustment:
    r"""CUPED-adjusted values :math:`Y' = Y - \theta (X - \bar X)` of one pooled sample.

    Pass the units of BOTH arms together (the pooled sample): theta must be the same for
    both arms (see the module docstring). :func:`cuped_test` does this for you.

    With ``theta=None`` it is estimated as :math:`\hat\theta = \widehat{\mathrm{cov}}(Y, X)
    / \widehat{\mathrm{var}}(X)`, the OLS slope of Y on X, and then the sample identity

    .. math:: \widehat{\mathrm{var}}(Y') = \widehat{\mathrm{var}}(Y)\,(1 - \hat\rho^2)

    holds exactly: ``variance_factor`` (the ratio of the two variances) equals
    ``1 - rho**2``. Any other theta gives a larger variance (a parabola in theta); theta = 1
    is the "difference in differences" Y - X, which increases the variance when rho < 0.5
    and the spreads of Y and X are equal.

    With ``missing="indicator"`` NaN marks a unit without pre-period data; the adjustment is
    :math:`Y' = Y - \hat\theta (X - \bar X_{obs}) - \hat\theta_m (M - \bar M)`, with M = 1
    when X is missing, X filled with :math:`\bar X_{obs}` (the mean over units with X),
    :math:`\hat\theta` the slope over units with X and :math:`\hat\theta_m = \bar Y_{M=1} -
    \bar Y_{M=0}`: the OLS fit of Y on (X, M), as in Deng et al. (2013), section 4.2.

    ``covariate`` was called ``x`` before; ``x=`` still works for one release, with a
    DeprecationWarning.

    Parameters
    ----------
    y : array of float
        The metric during the experiment, one value per unit. A 2-D array holds one sample
        per row (experiments x units); everything is computed row by row.
    covariate : array of float, same shape as ``y``
        The covariate (usually the same metric in the pre-period). NaN allowed only with
        ``missing="indicator"``.
    theta : float or array, optional
        Use this theta instead of estimating it (one per row for 2-D input). Only with
        complete covariates.
    missing : {"raise", "indicator"}
        "raise" refuses NaN in ``covariate``; "indicator" treats it as "no pre-period data".

    Returns
    -------
    CupedAdjustment
        ``adjusted`` (same shape as ``y``, same mean), ``theta``, ``theta_missing`` (0 when
        nothing is missing), ``rho`` (correlation of Y and X over units with X),
        ``variance_factor`` = var(Y') / var(Y) (1 - rho^2 for the estimated theta and
        complete X), ``covariate_mean`` (the center of X) and ``n_missing``.

    Raises
    ------
    ValueError
        If ``covariate`` has zero variance (no information to adjust with), no observed value, fewer
        than 2 units, or shapes do not match.

    References
    ----------
    Deng, Xu, Kohavi & Walker (2013), sections 3.2 and 4.2.

    Examples
    --------
    >>> res = cuped_adjust([3.0, 5.0, 4.0, 8.0], [1.0, 2.0, 2.0, 3.0])
    >>> print(f"theta = {res.theta:.2f}, variance factor = {res.variance_factor:.4f}")
    theta = 2.50, variance factor = 0.1071
    >>> print(f"1 - rho^2 = {1 - res.rho ** 2:.4f}")
    1 - rho^2 = 0.1071
    """
    missing = check_choice("missing", missing, MISSING)
    y = _metric("y", y)
    x, observed = _covariate("covariate", covariate, missing)
    _same_shape(("y", "covariate"), y, x)
    _at_least_two("y", y)
    if theta is not None:
        if not observed.all():
            raise ValueError(
                "theta can only be given when covariate is complete; with missing values it is "
                "estimated"
            )
        theta = _check_theta(theta, y.shape[:-1])
    with _float_errors("y and covariate" if theta is None else "y, covariate and theta"):
        fit = _fit(y, x, observed, "covariate", theta)
    return CupedAdjustment(
        adjusted=fit.adjusted,
        theta=_numeric(fit.theta),
        theta_missing=_numeric(fit.theta_missing),
        rho=_numeric(fit.rho),
        variance_factor=_numeric(fit.variance_factor),
        covariate_mean=_numeric(fit.covariate_mean),
        n_missing=_numeric(fit.n_missing),
    )


# --- cuped_test ---------------------------------------------------------------------------

#: A variance factor below this means Y is an exact linear function of X. The adjusted values
#: are constant up to rounding (their spread is below 1e-8 of Y's) and a test is meaningless.
_EXACT_FIT = 1e-16




def _term(value) -> str:
    """A number as a factor inside a formula: negative values in parentheses."""
    return f"({_f(value)})" if value < 0 else _f(value)


@dataclass(frozen=True, repr=False, eq=False)
class CupedTest(Record):
    """Result of :func:`cuped_test`.

    Numeric fields are floats (ints for counts) for one experiment and numpy arrays with one
    entry per experiment for a batch. ``statistic``, ``pvalue``, ``df``, ``effect``,
    ``ci_low``, ``ci_high`` and ``se`` are Welch's test on the adjusted values; the
    ``unadjusted_*`` fields are Welch's test on Y itself, for comparison.
    """

    statistic: float | np.ndarray
    pvalue: float | np.ndarray
    df: float | np.ndarray
    effect: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    se: float | np.ndarray
    unadjusted_effect: float | np.ndarray
    unadjusted_ci_low: float | np.ndarray
    unadjusted_ci_high: float | np.ndarray
    unadjusted_pvalue: float | np.ndarray
    unadjusted_se: float | np.ndarray
    theta: float | np.ndarray
    theta_missing: float | np.ndarray
    rho: float | np.ndarray
    variance_factor: float | np.ndarray
    n_equivalent: float | np.ndarray
    covariate_difference: float | np.ndarray
    covariate_pvalue: float | np.ndarray
    n_control: int
    n_treatment: int
    n_missing_control: int | np.ndarray
    n_missing_treatment: int | np.ndarray
    alternative: str
    alpha: float
    missing: str

    x_difference = _deprecated_field("x_difference", "covariate_difference")

    def explain(self) -> str:
        """Plain-text derivation with the numbers plugged in (a summary for a batch)."""
        head = (
            "CUPED (Deng et al. 2013): Welch's t-test on Y' = Y - theta (X - mean X), "
            f"{self.alternative}, alpha = {_f(self.alpha)}"
        )
        if np.ndim(self.effect) != 0:
            significant = np.asarray(self.pvalue) < self.alpha
            plain = np.asarray(self.unadjusted_pvalue) < self.alpha
            total = significant.size
            return "\n".join([
                f"{total} experiments. " + head,
                f"  p-value < alpha in {int(significant.sum())} of {total} experiments with "
                f"CUPED, {int(plain.sum())} without",
                f"  mean effect = {_f(float(np.mean(self.effect)))} (unadjusted "
                f"{_f(float(np.mean(self.unadjusted_effect)))})",
                f"  mean variance factor = {_f(float(np.mean(self.variance_factor)))}, "
                f"mean SE ratio = {_f(float(np.mean(np.divide(self.se, self.unadjusted_se))))}",
            ])
        n = self.n_control + self.n_treatment
        n_missing = self.n_missing_control + self.n_missing_treatment
        share_difference = (
            self.n_missing_treatment / self.n_treatment - self.n_missing_control / self.n_control
        )
        lines = [
            head,
            f"  theta       = cov(Y, X) / var(X), both arms pooled = {_f(self.theta)}",
            f"  rho         = corr(Y, X) = {_f(self.rho)}",
        ]
        if n_missing:
            lines += [
                f"  {n_missing} of {n} users have no X: X filled with its mean, indicator "
                f"M = 1 for them, coefficient theta_m = mean Y (M=1) - mean Y (M=0) = "
                f"{_f(self.theta_missing)}",
                f"  variance factor = 1 - R^2 of Y on (X, M) = {_f(self.variance_factor)}",
                f"  effect      = (mean Y_t - mean Y_c) - theta (mean X_t - mean X_c) - theta_m "
                f"(share M_t - share M_c) = {_f(self.unadjusted_effect)} - {_term(self.theta)} * "
                f"{_term(self.covariate_difference)} - {_term(self.theta_missing)} * "
                f"{_term(share_difference)} = "
                f"{_f(self.effect)}",
            ]
        else:
            lines += [
                f"  variance factor = 1 - rho^2 = {_f(self.variance_factor)}",
                f"  effect      = (mean Y_t - mean Y_c) - theta (mean X_t - mean X_c) = "
                f"{_f(self.unadjusted_effect)} - {_term(self.theta)} * "
                f"{_term(self.covariate_difference)} = "
                f"{_f(self.effect)}",
            ]
        verdict = "reject H0" if self.pvalue < self.alpha else "do not reject H0"
        sign = "<" if self.pvalue < self.alpha else ">="
        level = f"{format_number(100 * (1 - self.alpha), 4)}%"
        flag = (
            "a red flag: was X measured after the treatment started?"
            if self.covariate_pvalue < 0.001 else "no sign that the treatment moved X"
        )
        lines += [
            f"  covariate check: mean X_t - mean X_c = {_f(self.covariate_difference)}, Welch "
            f"p-value {_f(self.covariate_pvalue)} ({flag})",
            f"  SE          = sqrt(sd(Y'_c)^2/n_c + sd(Y'_t)^2/n_t) = {_f(self.se)} "
            f"(unadjusted {_f(self.unadjusted_se)})",
            f"  t           = {_f(self.effect)} / {_f(self.se)} = {_f(self.statistic)}, "
            f"df = {_f(self.df)}, p-value = {_f(self.pvalue)}",
            f"  {level} CI      = [{_f(self.ci_low)}, {_f(self.ci_high)}]; unadjusted: effect "
            f"{_f(self.unadjusted_effect)}, CI [{_f(self.unadjusted_ci_low)}, "
            f"{_f(self.unadjusted_ci_high)}], p-value {_f(self.unadjusted_pvalue)}",
            f"  same precision without CUPED: n / variance factor = {n} / "
            f"{_f(self.variance_factor)} = {self.n_equivalent:,.0f} users",
            f"  p-value {sign} alpha: {verdict}",
        ]
        return "\n".join(lines)


def _welch(control: np.ndarray, treatment: np.ndarray, names: str, alternative: str,
           alpha: float):
    """Welch's test (abteach.inference) on raw values along the last axis, errors renamed."""
    try:
        return welch_ttest(control, treatment, alternative=alternative, alpha=alpha)
    except ValueError as exc:
        raise ValueError(f"{names}: {exc}") from None


@_renamed(x_control="covariate_control", x_treatment="covariate_treatment")
def cuped_test(
    y_control,
    covariate_control,
    y_treatment,
    covariate_treatment,
    *,
    alternative: str = "two-sided",
    alpha: float = 0.05,
    missing: str = "raise",
) -> CupedTest:
    r"""CUPED: Welch's t-test on pre-period-adjusted values, with the unadjusted test beside it.

    Pools the two arms, estimates :math:`\hat\theta = \widehat{\mathrm{cov}}(Y, X) /
    \widehat{\mathrm{var}}(X)` on the pooled sample (:func:`cuped_adjust`), adjusts
    :math:`Y' = Y - \hat\theta (X - \bar X)` and runs Welch's test on Y' (treatment minus
    control):

    .. math:: \hat\Delta_{cv} = (\bar Y_t - \bar Y_c) - \hat\theta (\bar X_t - \bar X_c),
              \qquad SE^2 = s'^2_t / n_t + s'^2_c / n_c,

    with :math:`s'` the standard deviations of Y' in each arm, the Welch-Satterthwaite df,
    p-value and interval of :func:`abteach.inference.welch_ttest_from_stats`. Estimating
    theta costs one degree of freedom that the SE ignores, as in Deng et al.; with the sample
    sizes of online experiments this is far below the simulation error of the tests.

    Also reported: the unadjusted test, ``rho``, the ``variance_factor`` 1 - rho^2 (the
    estimated ratio Var(Y') / Var(Y); 1 - R^2 with missing X), the equivalent number of
    users ``n_equivalent`` = (n_c + n_t) / variance_factor that the unadjusted test would
    need for the same precision, and a covariate check: the difference of the arms' mean X
    with its Welch p-value (two-sided). X measured before the treatment differs between arms
    only by chance; a tiny ``covariate_pvalue`` means X was probably affected by the
    treatment (or the assignment is broken), and CUPED would then be biased.

    The covariate arguments were called ``x_control`` and ``x_treatment`` before (a name
    that means a conversion count in :func:`~abteach.inference.ztest_proportions`); the
    old keywords still work for one release, with a DeprecationWarning.

    Parameters
    ----------
    y_control, covariate_control : array of float
        Metric during the experiment and pre-period covariate of each control unit (same
        shape). A 2-D array holds one experiment per row (experiments x units).
    y_treatment, covariate_treatment : array of float
        The same for the treatment units; leading axes broadcast with the control's.
    alternative : {"two-sided", "larger", "smaller"}
        "larger" means H1: the treatment raises the metric.
    alpha : float
        Significance level; intervals have confidence 1 - alpha.
    missing : {"raise", "indicator"}
        "raise" refuses NaN in the covariates; "indicator" treats NaN as "no pre-period data"
        (new users) and adds the missingness indicator as a second covariate (module
        docstring).

    Returns
    -------
    CupedTest
        ``statistic``, ``pvalue``, ``df``, ``effect``, ``ci_low``, ``ci_high``, ``se``, the
        ``unadjusted_*`` counterparts, ``theta``, ``theta_missing``, ``rho``,
        ``variance_factor``, ``n_equivalent``, ``covariate_difference``, ``covariate_pvalue``, the
        sizes, ``alternative``, ``alpha``, ``missing`` and :meth:`~CupedTest.explain`.

    Raises
    ------
    ValueError
        Fewer than 2 units per arm, mismatched shapes, a covariate with zero variance, a
        covariate that does not vary within either arm, Y that does not vary, or Y an exact
        linear function of X; each message names the arguments.

    References
    ----------
    Deng, Xu, Kohavi & Walker (2013), sections 3.2, 4.2 and 4.3; Kohavi, Tang & Xu (2020),
    ch. 18.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(7)
    >>> x_c, x_t = rng.normal(10, 2, size=(2, 5000))
    >>> y_c = x_c + rng.normal(0, 2, size=5000)
    >>> y_t = x_t + rng.normal(0, 2, size=5000) + 0.1
    >>> res = cuped_test(y_c, x_c, y_t, x_t)
    >>> print(f"rho = {res.rho:.3f}, variance factor = {res.variance_factor:.3f}")
    rho = 0.704, variance factor = 0.504
    >>> print(f"SE {res.se:.4f} with CUPED, {res.unadjusted_se:.4f} without")
    SE 0.0396 with CUPED, 0.0558 without
    """
    alternative = check_alternative(alternative)
    alpha = check_alpha(alpha)
    missing = check_choice("missing", missing, MISSING)
    y_c = _metric("y_control", y_control)
    x_c, observed_c = _covariate("covariate_control", covariate_control, missing)
    y_t = _metric("y_treatment", y_treatment)
    x_t, observed_t = _covariate("covariate_treatment", covariate_treatment, missing)
    _same_shape(("y_control", "covariate_control"), y_c, x_c)
    _same_shape(("y_treatment", "covariate_treatment"), y_t, x_t)
    _at_least_two("y_control", y_c)
    _at_least_two("y_treatment", y_t)
    try:
        lead = np.broadcast_shapes(y_c.shape[:-1], y_t.shape[:-1])
    except ValueError:
        raise ValueError(
            "y_control and y_treatment must have leading axes (experiments) that broadcast, "
            f"got shapes {y_c.shape} and {y_t.shape}"
        ) from None
    n_c, n_t = y_c.shape[-1], y_t.shape[-1]

    def pooled(control, treatment):
        return np.concatenate([
            np.broadcast_to(control, lead + (n_c,)), np.broadcast_to(treatment, lead + (n_t,))
        ], axis=-1)

    y, x, observed = pooled(y_c, y_t), pooled(x_c, x_t), pooled(observed_c, observed_t)
    with _float_errors("y_control, covariate_control, y_treatment and covariate_treatment"):
        fit = _fit(y, x, observed, "covariate_control and covariate_treatment")
    if np.any(fit.variance_factor < _EXACT_FIT):
        raise ValueError(
            "y_control and y_treatment are an exact linear function of covariate_control and "
            "covariate_treatment (|rho| = 1 up to rounding): the adjusted values do not vary, "
            "so the test is undefined"
        )
    x_filled = np.where(observed, x, fit.covariate_mean[..., None])
    unadjusted = _welch(y[..., :n_c], y[..., n_c:], "y_control and y_treatment", alternative,
                        alpha)
    covariate = _welch(x_filled[..., :n_c], x_filled[..., n_c:],
                       "covariate_control and covariate_treatment (the covariate check)",
                       "two-sided", alpha)
    adjusted = _welch(fit.adjusted[..., :n_c], fit.adjusted[..., n_c:],
                      "the CUPED-adjusted values of y_control and y_treatment", alternative,
                      alpha)
    return CupedTest(
        statistic=adjusted.statistic,
        pvalue=adjusted.pvalue,
        df=adjusted.df,
        effect=adjusted.effect,
        ci_low=adjusted.ci_low,
        ci_high=adjusted.ci_high,
        se=adjusted.se,
        unadjusted_effect=unadjusted.effect,
        unadjusted_ci_low=unadjusted.ci_low,
        unadjusted_ci_high=unadjusted.ci_high,
        unadjusted_pvalue=unadjusted.pvalue,
        unadjusted_se=unadjusted.se,
        theta=_numeric(fit.theta),
        theta_missing=_numeric(fit.theta_missing),
        rho=_numeric(fit.rho),
        variance_factor=_numeric(fit.variance_factor),
        n_equivalent=_numeric((n_c + n_t) / fit.variance_factor),
        covariate_difference=covariate.effect,
        covariate_pvalue=covariate.pvalue,
        n_control=n_c,
        n_treatment=n_t,
        n_missing_control=_numeric(np.sum(~observed[..., :n_c], axis=-1)),
        n_missing_treatment=_numeric(np.sum(~observed[..., n_c:], axis=-1)),
        alternative=alternative,
        alpha=alpha,
        missing=missing,
    )
