r"""Does the effect change over time? A weighted least-squares trend test."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from abteach._records import Record, brief as _f, format_number
from abteach._validate import check_alpha, check_alternative, check_choice, scalar_or_array
from abteach.novelty._series import (
    _EPS,
    _SMALLEST_RATIO,
    _check_cov,
    _first,
    _interval,
    _pvalue,
    _series,
    _too_large,
)

__all__ = ["SCALES", "TrendTest", "trend_test"]

#: How the standard errors are treated. With "known" they are the true ones (z-test); with
#: "estimated" they are right up to a common factor estimated from the residuals (t-test), as
#: in an ordinary WLS regression.
SCALES = ("known", "estimated")


@dataclass(frozen=True, repr=False, eq=False)
class TrendTest(Record):
    """Result of :func:`trend_test`. ``slope`` is the change of the effect per unit of time;
    ``df`` is inf for ``scale="known"`` (normal reference) and n - 2 for ``"estimated"``;
    ``standard_errors`` is "independent", or "sandwich" when the points' covariance was given."""

    statistic: float | np.ndarray
    pvalue: float | np.ndarray
    slope: float | np.ndarray
    se: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    intercept: float | np.ndarray
    chi_square: float | np.ndarray
    df: float
    n_points: int
    scale: str
    alternative: str
    alpha: float
    standard_errors: str = "independent"

    def explain(self) -> str:
        """Plain-text derivation with the numbers plugged in (a summary for many series)."""
        known = self.scale == "known"
        reference = "N(0, 1)" if known else f"Student t with {int(self.df)} df"
        head = (
            f"Trend test: weighted least squares of the effect on time (weights 1/se^2), "
            f"{self.n_points} points, {self.alternative}, alpha = {format_number(self.alpha, 4)}"
            f"; H0: slope = 0"
        )
        if np.ndim(self.statistic) != 0:
            rate = float(np.mean(np.asarray(self.pvalue) < self.alpha))
            return "\n".join([
                f"{np.size(self.statistic)} series. " + head,
                f"  p-value < alpha in {format_number(100 * rate, 4)}% of them; mean slope "
                f"{_f(float(np.mean(self.slope)))}",
            ])
        se_line = (
            "  SE    = sqrt(c' Sigma c), c = w (t - t_w) / sum w (t - t_w)^2, Sigma the given "
            "covariance of the points (sandwich)"
            if self.standard_errors == "sandwich" else
            "  SE    = 1 / sqrt(sum w (t - t_w)^2) (standard errors taken as known)"
            if known else
            "  SE    = sqrt(s2 / sum w (t - t_w)^2), s2 = chi-square / (n - 2) = "
            f"{_f(self.chi_square / self.df)} (standard errors right up to a common factor)"
        )
        verdict = ("  p-value < alpha: the effect changes over time" if self.pvalue < self.alpha
                   else "  p-value >= alpha: no trend detected (which does not prove there is "
                        "none)")
        return "\n".join([
            head,
            "  slope = sum w (t - t_w)(y - y_w) / sum w (t - t_w)^2 = "
            f"{_f(self.slope)} per day (t_w, y_w: weighted means)",
            se_line + f" = {_f(self.se)}",
            f"  {'z' if known else 't'}     = slope / SE = {_f(self.statistic)}, p-value = "
            f"{_f(self.pvalue)} ({reference})",
            f"  {format_number(100 * (1 - self.alpha), 4)}% CI for the slope: "
            f"[{_f(self.ci_low)}, {_f(self.ci_high)}]",
            f"  residual chi-square = sum w (y - fitted)^2 = {_f(self.chi_square)} on "
            f"{self.n_points - 2} df " + (
                "(as if the points were independent; they are not)"
                if self.standard_errors == "sandwich"
                else _residual_reading(self.chi_square, self.n_points - 2)),
            verdict,
        ])


def _residual_reading(chi_square: float, df: int) -> str:
    """Read the residual chi-square of a straight-line fit against its degrees of freedom."""
    if stats.chi2.sf(chi_square, df) < 0.05:
        return ("(far above its df: the points curve away from a line, as a decay does, "
                "or scatter more than their SEs say)")
    return "(in line with its df: a straight line fits within the SEs)"


def trend_test(
    time,
    effect,
    se,
    *,
    cov=None,
    scale: str = "known",
    alternative: str = "two-sided",
    alpha: float = 0.05,
) -> TrendTest:
    r"""Test for a linear time trend in the treatment effect (weighted least squares).

    The per-point effects :math:`y_i` with standard errors :math:`s_i` at times
    :math:`t_i` are regressed on time with weights :math:`w_i = 1/s_i^2`:

    .. math:: \hat\beta = \frac{\sum w_i (t_i - \bar t_w)(y_i - \bar y_w)}
                              {\sum w_i (t_i - \bar t_w)^2}, \qquad
              SE(\hat\beta)^2 = \frac{\sigma^2}{\sum w_i (t_i - \bar t_w)^2},

    :math:`\bar t_w, \bar y_w` the weighted means. With ``scale="known"`` (default)
    :math:`\sigma^2 = 1`: the standard errors are the true ones, and
    :math:`z = \hat\beta / SE` is referred to N(0, 1) (a fixed-effect meta-regression on
    time; statsmodels ``WLS(...).fit(cov_type="fixed scale")``). With
    ``scale="estimated"``, :math:`\sigma^2 = \chi^2 / (n-2)` with the residual
    :math:`\chi^2 = \sum w_i (y_i - \hat y_i)^2`, and the statistic is referred to Student
    t with n - 2 df (statsmodels ``WLS(...).fit()``): valid when the standard errors are
    right only up to a common factor, e.g. when the daily effect also varies with the day
    of the week. A residual chi-square far above n - 2 is the sign to use it.

    Novelty (a fading positive effect) shows as a negative slope (``alternative="smaller"``
    for a one-sided test), primacy as a positive one. The test detects any monotone drift,
    not only an exponential one; :func:`fit_decay` estimates where the effect settles.

    Independence: without ``cov`` the test assumes the points are independent (see
    :mod:`abteach.novelty`). That holds in :func:`simulate_daily_effects` for every series. In
    real data, points that share returning users are correlated and the test rejects too
    often; the cohorts active on one calendar day (:meth:`SimulatedDailyEffects.on_calendar_day`)
    are independent. With every day, pass the covariance :math:`\Sigma` of the points,
    clustered by user (:func:`clustered_daily_effects`): the slope is the linear combination
    :math:`\hat\beta = c^\top y`, :math:`c_i = w_i (t_i - \bar t_w) / \sum_j w_j (t_j - \bar t_w)^2`,
    whose variance is :math:`c^\top \Sigma c` (the sandwich of the weighted fit, Liang &
    Zeger 1986); with :math:`\Sigma = \mathrm{diag}(s_i^2)` it is the formula above.

    Parameters
    ----------
    time : array of float, shape (T,)
        Time of each point (days); at least 3 points at 2 or more distinct times.
    effect, se : array, shape (..., T)
        Effect (treatment minus control) and its standard error (> 0) at each time, e.g.
        ``DailyEffects.effect`` and ``DailyEffects.se``; leading axes are separate
        series, tested independently. ``se`` broadcasts against ``effect`` (one number: a
        common standard error).
    cov : array, shape (..., T, T), optional
        Covariance matrix of the effects (their squared standard errors on the diagonal),
        e.g. ``DailyEffects.cov``; given, the slope's standard error is the sandwich
        :math:`\sqrt{c^\top \Sigma c}` and ``scale`` must be "known".
    scale : {"known", "estimated"}
    alternative : {"two-sided", "larger", "smaller"}
        "smaller": H1 slope < 0 (the effect falls over time).
    alpha : float
        Level of the test; the slope's interval has confidence 1 - alpha.

    Returns
    -------
    TrendTest
        ``statistic``, ``pvalue``, ``slope``, ``se``, ``ci_low``, ``ci_high``,
        ``intercept`` (the fitted effect at time 0), ``chi_square`` (residual), ``df``,
        ``n_points`` and :meth:`~TrendTest.explain`.

    References
    ----------
    Draper, N. R. & Smith, H. (1998), *Applied Regression Analysis*, 3rd ed., Wiley,
    section 9.2 (weighted least squares).
    Lipsey, M. W. & Wilson, D. B. (2001), *Practical Meta-Analysis*, Sage, ch. 7
    (fixed-effect meta-regression with known variances).
    Liang, K.-Y. & Zeger, S. L. (1986), Longitudinal data analysis using generalized linear
    models, *Biometrika* 73(1), 13-22 (the sandwich for correlated points).

    Examples
    --------
    >>> res = trend_test([0, 1, 2, 3], [0.05, 0.04, 0.02, 0.02], [0.01, 0.01, 0.01, 0.01])
    >>> print(f"{res.slope:.4f} {res.se:.5f} {res.statistic:.3f}")
    -0.0110 0.00447 -2.460
    """
    scale = check_choice("scale", scale, SCALES)
    alternative = check_alternative(alternative)
    alpha = check_alpha(alpha)
    t, z, w, s_min = _series(time, effect, se, minimum=2, what="for a trend")
    if t.size < 3:
        raise ValueError(f"a trend needs at least 3 time points, got {t.size}")
    if cov is not None:
        if scale != "known":
            raise ValueError(f"scale must be 'known' with cov (the covariance gives the standard "
                             f"errors), got {scale!r}")
        cov = _check_cov(cov, z.shape + z.shape[-1:])
    with np.errstate(all="ignore"):
        total = w.sum(axis=-1)
        t_mean = (w * t).sum(axis=-1) / total
        t_c = t - t_mean[..., None]
        z_mean = (w * z).sum(axis=-1) / total
        z_c = z - z_mean[..., None]
        stt = (w * t_c**2).sum(axis=-1)
        slope_z = (w * t_c * z_c).sum(axis=-1) / stt
        chi_square = (w * (z_c - slope_z[..., None] * t_c) ** 2).sum(axis=-1)
        # R's "essentially perfect fit": residuals at the rounding level of the effects
        flat = chi_square <= (10 * _EPS) ** 2 * (w * z**2).sum(axis=-1)
        slope = slope_z * s_min
        intercept = (z_mean - slope_z * t_mean) * s_min
        se_known = s_min / np.sqrt(stt)
    if not (stt > 0).all():
        raise ValueError(
            "the points that carry weight all sit at one time: se differs so much between "
            "points that the slope is not estimable" + _first(~(stt > 0))
        )
    if not all(np.isfinite(v).all() for v in (slope, chi_square, se_known, intercept)):
        raise _too_large()
    df = float(t.size - 2)
    if cov is not None:  # sandwich: slope_z = sum(lever * z), the points' covariance in units of s_min^2
        lever = w * t_c / stt[..., None]
        with np.errstate(all="ignore"):
            variance = np.einsum("...i,...ij,...j->...", lever, cov / (s_min**2)[..., None, None], lever)
            se_slope = np.sqrt(variance) * s_min
        if not (np.isfinite(se_slope).all() and (se_slope > 0).all()):
            raise ValueError("cov gives the slope no positive, finite variance (too large relative "
                             "to se**2 for floating point, or degenerate along the trend)")
        ref_df, df_out = None, np.inf
    elif scale == "known":
        se_slope, ref_df, df_out = se_known, None, np.inf
    else:
        _check_residual_scale(flat, z)
        se_slope, ref_df, df_out = se_known * np.sqrt(chi_square / df), df, df
    with np.errstate(all="ignore"):
        statistic = slope / se_slope
        low, high = _interval(slope, se_slope, alternative, alpha, ref_df)
    if np.isnan(statistic).any() or np.isnan(low).any() or np.isnan(high).any():
        raise _too_large()
    return TrendTest(
        statistic=scalar_or_array(statistic),
        pvalue=scalar_or_array(_pvalue(statistic, alternative, ref_df)),
        slope=scalar_or_array(slope),
        se=scalar_or_array(se_slope),
        ci_low=scalar_or_array(low),
        ci_high=scalar_or_array(high),
        intercept=scalar_or_array(intercept),
        chi_square=scalar_or_array(chi_square),
        df=df_out,
        n_points=t.size,
        scale=scale,
        alternative=alternative,
        alpha=alpha,
        standard_errors="independent" if cov is None else "sandwich",
    )


def _check_residual_scale(flat: np.ndarray, z: np.ndarray) -> None:
    """scale="estimated" needs residuals: refuse series that lie on a straight line, or whose
    effects are so small relative to their standard errors (effect / se below 1e-146) that
    their squares, and hence the residuals, are lost to floating point."""
    if not flat.any():
        return
    if (np.abs(z).max(axis=-1)[flat] < _SMALLEST_RATIO).any():
        raise ValueError(
            "effect is too small relative to se for floating point: every effect / se is below "
            f"{_SMALLEST_RATIO:.0e}{_first(flat)}, so the residual scale of scale='estimated' "
            "is lost; express effect and se in a larger unit"
        )
    raise ValueError(
        "the effects lie exactly on a straight line: the residual scale is 0 and the "
        "t statistic with scale='estimated' is undefined" + _first(flat)
    )
