r"""Where does the effect settle? Weighted least-squares fit of a + b exp(-t / tau)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from abteach._records import Record, brief as _f, format_number
from abteach._validate import (
    check_alpha,
    check_nonnegative,
    check_positive,
    check_work,
    scalar_or_array,
)
from abteach.novelty._series import _EPS, _check_cov, _exp_decay, _interval, _series, _too_large

__all__ = ["DecayFit", "fit_decay"]

_GRID = 200  # log-spaced values of tau in the profile search
_ITERATIONS = 60  # golden-section and bisection steps (bracket shrinks below 1e-9)
_AT_BOUND = 1e-6  # |log(tau / bound)| below this: the estimate sits on the bound
_GOLDEN = (np.sqrt(5.0) - 1) / 2


def _line(sw, sx, sxx, sxy, syy):
    """Weighted fit of centered y on (1, x) from weighted sums: (slope b, residual sum)."""
    vxx = sxx - sx * sx / sw
    ok = vxx > 64 * _EPS * sxx
    safe = np.where(ok, vxx, 1.0)
    b = np.where(ok, sxy / safe, 0.0)
    rss = np.where(ok, syy - sxy * sxy / safe, syy)
    return b, np.maximum(rss, 0.0)


def _profile_grid(t, w, y_c, syy, log_tau):
    """Chi-square of the best (a, b) for each tau of the grid, shape (..., G)."""
    x = np.exp(-t / np.exp(log_tau)[:, None])  # (G, T)
    sw = w.sum(axis=-1)[..., None]
    return _line(sw, w @ x.T, w @ (x * x).T, (w * y_c) @ x.T, syy[..., None])[1]


def _profile_at(t, w, y_c, syy, log_tau):
    """(b, chi-square, x) at one tau per series (log_tau has the leading shape)."""
    x = np.exp(-t / np.exp(log_tau)[..., None])
    b, rss = _line(w.sum(axis=-1), (w * x).sum(axis=-1), (w * x * x).sum(axis=-1),
                   (w * x * y_c).sum(axis=-1), syy)
    return b, rss, x


def _golden(profile, low, high):
    """Vectorized golden-section search for the minimum of ``profile`` on [low, high]."""
    c, d = high - _GOLDEN * (high - low), low + _GOLDEN * (high - low)
    fc, fd = profile(c), profile(d)
    for _ in range(_ITERATIONS):
        left = fc < fd  # the minimum lies in [low, d]
        high, low = np.where(left, d, high), np.where(left, low, c)
        new = np.where(left, high - _GOLDEN * (high - low), low + _GOLDEN * (high - low))
        f_new = profile(new)
        c, d, fc, fd = (np.where(left, new, d), np.where(left, c, new),
                        np.where(left, f_new, fd), np.where(left, fc, f_new))
    return np.where(fc < fd, c, d)


def _crossing(excess, inside, outside):
    """Vectorized bisection for excess(x) = 0 between a point inside (<= 0) and one outside."""
    for _ in range(_ITERATIONS):
        middle = (inside + outside) / 2
        is_in = excess(middle) <= 0
        inside, outside = np.where(is_in, middle, inside), np.where(is_in, outside, middle)
    return (inside + outside) / 2


def _tau_interval(profile, profile_grid, grid, log_tau, chi_min, quantile):
    """Profile-likelihood interval for tau: the connected set around the estimate where the
    profile chi-square is within ``quantile`` of its minimum, ends found by bisection between
    the estimate and the nearest grid point outside; 0 or inf where no grid point is outside."""
    outside = profile_grid - chi_min[..., None] > quantile
    below = outside & (grid < log_tau[..., None])
    above = outside & (grid > log_tau[..., None])
    last_below = np.where(below.any(axis=-1), _GRID - 1 - np.argmax(below[..., ::-1], axis=-1),
                          -1)
    first_above = np.where(above.any(axis=-1), np.argmax(above, axis=-1), _GRID)

    def excess(v):
        return profile(v) - chi_min - quantile

    low = np.exp(_crossing(excess, log_tau, grid[np.maximum(last_below, 0)]))
    high = np.exp(_crossing(excess, log_tau, grid[np.minimum(first_above, _GRID - 1)]))
    return np.where(last_below < 0, 0.0, low), np.where(first_above >= _GRID, np.inf, high)


@dataclass(frozen=True, repr=False, eq=False)
class DecayFit(Record):
    """Result of :func:`fit_decay`: effect(t) = a + b exp(-t / tau).

    ``long_run_effect`` (a) has the Wald interval ``ci_low``, ``ci_high``; ``tau`` has the
    profile-likelihood interval ``tau_ci_low``, ``tau_ci_high`` (0 or inf where the data do
    not bound it within ``tau_bounds``), or with ``standard_errors="sandwich"`` (a ``cov``
    was given) a Wald interval on the log scale. Where ``identified`` is False the standard
    errors are inf and the interval for a is the whole line; ``message`` says why.
    """

    long_run_effect: float | np.ndarray
    long_run_se: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    amplitude: float | np.ndarray
    amplitude_se: float | np.ndarray
    tau: float | np.ndarray
    tau_se: float | np.ndarray
    tau_ci_low: float | np.ndarray
    tau_ci_high: float | np.ndarray
    chi_square: float | np.ndarray
    df: int
    fit_pvalue: float | np.ndarray
    identified: bool | np.ndarray
    message: str
    tau_bounds: tuple[float, float]
    alpha: float
    standard_errors: str = "independent"

    def predict(self, time) -> np.ndarray:
        """Fitted effect a + b exp(-t / tau) at ``time`` >= 0 (shape leading axes + time's)."""
        t = check_nonnegative("time", time)
        a, b, tau = (np.asarray(v, dtype=float) for v in (self.long_run_effect, self.amplitude,
                                                          self.tau))
        shape = (...,) + (None,) * t.ndim
        return a[shape] + b[shape] * _exp_decay(t, tau[shape])

    def explain(self) -> str:
        """Estimates, intervals, the goodness of fit and what to conclude."""
        level = f"{format_number(100 * (1 - self.alpha), 4)}%"
        sandwich = self.standard_errors == "sandwich"
        head = (
            "Decay fit: effect(t) = a + b exp(-t / tau), weighted least squares (weights "
            f"1/se^2), tau searched in [{_f(self.tau_bounds[0])}, {_f(self.tau_bounds[1])}]\n"
            + ("  standard errors: sandwich, from the given covariance of the points"
               if sandwich else "  standard errors: the points taken as independent")
        )
        if np.ndim(self.long_run_effect) != 0:
            return "\n".join([f"{np.size(self.long_run_effect)} series. " + head,
                              "  " + self.message])
        if not self.identified:
            return "\n".join([
                head,
                f"  best fit: a = {_f(self.long_run_effect)}, b = {_f(self.amplitude)}, tau = "
                f"{_f(self.tau)} (residual chi-square {_f(self.chi_square)} on {self.df} df)",
                "  NOT IDENTIFIED: " + self.message,
            ])
        return "\n".join([
            head,
            f"  long-run effect a = {_f(self.long_run_effect)} (SE {_f(self.long_run_se)}), "
            f"{level} Wald CI [{_f(self.ci_low)}, {_f(self.ci_high)}]",
            f"  amplitude b = {_f(self.amplitude)} (SE {_f(self.amplitude_se)}): the effect on "
            f"day 0 is a + b = {_f(self.long_run_effect + self.amplitude)} "
            f"({'novelty, fading' if self.amplitude > 0 else 'primacy, growing'})",
            f"  tau = {_f(self.tau)} days (SE {_f(self.tau_se)}), {level} "
            f"{'log-scale Wald' if sandwich else 'profile-likelihood'} "
            f"CI [{_f(self.tau_ci_low)}, {_f(self.tau_ci_high)}]",
            f"  goodness of fit: {'generalized ' if sandwich else ''}chi-square = "
            f"{_f(self.chi_square)} on {self.df} df, p = "
            f"{_f(self.fit_pvalue)} (a small p-value: the curve does not describe the points)",
            "  " + self.message,
        ])


def _tau_bounds(tau_bounds, t: np.ndarray) -> tuple[float, float]:
    if tau_bounds is None:
        gaps = np.diff(np.unique(t))
        return 0.1 * float(gaps.min()), 10.0 * float(t.max() - t.min())
    try:
        ndim = np.ndim(tau_bounds)
    except (ValueError, TypeError):  # ragged nested sequences such as [[1, 2], [3]]
        ndim = None
    if isinstance(tau_bounds, (str, bytes)) or ndim != 1 or len(tau_bounds) != 2:
        raise TypeError(f"tau_bounds must be a pair (low, high), got {tau_bounds!r}")
    low, high = (float(v) for v in check_positive("tau_bounds", tau_bounds))
    if low >= high:
        raise ValueError(f"tau_bounds must satisfy low < high, got {tau_bounds!r}")
    return low, high


def _jacobian(t, b, tau, x):
    """Derivatives of a + b exp(-t / tau) in (a, b, tau) at each time, shape (..., T, 3)."""
    return np.stack([np.ones_like(x), x, b[..., None] * x * t / tau[..., None] ** 2], axis=-1)


def _sandwich(jac, w, inverse, cov_z):
    """Covariance of (a, b, tau) when the points have covariance cov_z: (J'WJ)^-1 J'W Sigma W J
    (J'WJ)^-1, and the residual check r' (M Sigma M')^+ r with M = I - J (J'WJ)^-1 J'W."""
    weighted = w[..., None] * jac  # W J, (..., T, 3)
    lever = inverse @ np.swapaxes(weighted, -1, -2)  # (J'WJ)^-1 J'W, (..., 3, T)
    cov_theta = lever @ cov_z @ np.swapaxes(lever, -1, -2)
    m = np.eye(jac.shape[-2]) - jac @ lever
    return cov_theta, m @ cov_z @ np.swapaxes(m, -1, -2)


def _generalized_chi_square(residual, cov_residual):
    """r' V^+ r with V^+ the pseudo-inverse of the residuals' (rank-deficient) covariance."""
    inverse = np.linalg.pinv(cov_residual, rcond=1e-10, hermitian=True)
    return np.einsum("...t,...ts,...s->...", residual, inverse, residual)


def _covariance(info):
    """Inverse of the information where it is well conditioned; (ok, covariance)."""
    scale = np.sqrt(np.diagonal(info, axis1=-2, axis2=-1))
    ok = (scale > 0).all(axis=-1) & np.isfinite(info).all(axis=(-2, -1))
    scale = np.where(ok[..., None], scale, 1.0)
    info = np.where(ok[..., None, None], info, np.eye(3))
    corr = info / (scale[..., :, None] * scale[..., None, :])
    singular = np.linalg.svd(corr, compute_uv=False)
    ok &= singular[..., -1] > 1e-12 * singular[..., 0]
    corr = np.where(ok[..., None, None], corr, np.eye(3))
    cov = np.linalg.inv(corr) / (scale[..., :, None] * scale[..., None, :])
    return ok, cov


def _fit_message(at_low, at_high, flat, open_high, bounds) -> str:
    low, high = (_f(v) for v in bounds)
    reasons = {
        "at_low": f"tau is at its lower bound {low}: the effect settles within the first "
                  "step or does not change at all; no decay the model can resolve (check "
                  "trend_test, or widen tau_bounds)",
        "at_high": f"tau is at its upper bound {high}: the effect is still changing at the end "
                   "of the data, so where it settles is not estimable; run longer or keep a "
                   "long-term holdout",
        "flat": "the data do not narrow tau down at all (its interval spans the whole search "
                "range): b is indistinguishable from 0, no decay detected (check trend_test)",
        "open": "identified, but the data do not bound tau from above: a decay slower than "
                f"tau = {high} fits as well, and the long-run effect leans on the model's "
                "extrapolation; run longer before trusting it",
        "ok": "identified: tau is inside its bounds and its interval is bounded",
    }
    kind = np.select([at_low, at_high, flat, open_high],
                     ["at_low", "at_high", "flat", "open"], "ok")
    if kind.ndim == 0:
        return reasons[str(kind)]
    counts = {k: int((kind == k).sum()) for k in reasons}
    identified = counts["ok"] + counts["open"]
    return (f"{identified} of {kind.size} fits identified ({counts['open']} with tau "
            f"unbounded above); not identified: {counts['at_low']} with tau at the lower "
            f"bound, {counts['at_high']} at the upper bound, {counts['flat']} with a flat "
            "profile (no decay)")


def fit_decay(time, effect, se, *, cov=None, tau_bounds=None, alpha: float = 0.05) -> DecayFit:
    r"""Fit effect(t) = a + b exp(-t / tau) by weighted least squares; estimate the long run.

    Minimizes :math:`\chi^2(a, b, \tau) = \sum_i (y_i - a - b e^{-t_i/\tau})^2 / s_i^2`,
    the weighted nonlinear least squares of ``scipy.optimize.curve_fit(..., sigma=se,
    absolute_sigma=True)``, by profiling: for fixed :math:`\tau` the model is linear in
    (a, b), solved in closed form, leaving the one-dimensional profile
    :math:`\chi^2_p(\tau)`. It is evaluated on 200 log-spaced values in ``tau_bounds`` and
    refined by golden-section search around the best one, for every series at once. The
    search always terminates; what can fail is *identification*, reported in
    ``identified`` and ``message`` rather than as an exception:

    * tau at a bound: at the lower bound, the effect changed only on the first day (or not
      at all); at the upper bound, it is still changing at the end of the data;
    * a flat profile: tau's interval spans the whole search range, i.e. b is
      indistinguishable from 0 and the data say nothing about a decay rate.

    Intervals, with the standard errors treated as known (absolute sigma):

    * a, b, tau: Wald, :math:`\hat\theta \pm z\,SE`, from the inverse of the information
      :math:`J^\top W J` (:math:`J` the derivatives of the curve, :math:`W = diag(1/s_i^2)`),
      as ``curve_fit``'s covariance; ``ci_low``, ``ci_high`` are those of the long-run
      effect a;
    * tau: profile likelihood, the values with
      :math:`\chi^2_p(\tau) - \chi^2_{min} \le \chi^2_{1, 1-\alpha}` (Bates & Watts, 1988,
      section 6.1): asymmetric, as tau's uncertainty is. Reported as 0 or inf where the
      interval reaches a bound.

    ``chi_square`` on n - 3 df checks the fit: the calendar-day curve, a mixture of ages, is
    not of this form, and a small ``fit_pvalue`` says so.

    Correlated points (``cov``). All of the above treats the points as independent. Series
    pooled over calendar days share returning users: with a persistent user level the points
    are positively correlated and the interval for a is far too narrow (in
    ``tests/test_novelty_clustered.py``: 21 days, 40 new users a day, each back on half of
    the later days, a user level with 3 times the sd of the day-to-day noise: the 95%
    interval covered a in 75% of 2,000 experiments). Given the
    covariance matrix :math:`\Sigma` of the effects, e.g. clustered by user from
    :func:`clustered_daily_effects`, the estimate is unchanged (the same weights) and its
    covariance is the sandwich of the working-independence estimating equation (Liang &
    Zeger, 1986; Cameron & Miller, 2015):

    .. math:: \widehat{Var}(\hat a, \hat b, \hat\tau) = B^{-1} J^\top W \Sigma W J B^{-1},
              \qquad B = J^\top W J.

    Then the interval for tau is the Wald interval on the log scale,
    :math:`\hat\tau \exp(\pm z\,SE(\hat\tau)/\hat\tau)`, and ``chi_square`` is the
    generalized residual statistic :math:`r^\top (M \Sigma M^\top)^{+} r`,
    :math:`M = I - J B^{-1} J^\top W` (:math:`r` the residuals, :math:`^{+}` the
    pseudo-inverse), again on n - 3 df. Identification is judged from the profile, as
    without ``cov``. In the experiments above the sandwich interval for a covered 95.9% of
    10,000 (95.6% with 80 new users a day): slightly conservative.

    Parameters
    ----------
    time : array of float, shape (T,)
        Days since first exposure, >= 0, at least 4 distinct values.
    effect, se : array, shape (..., T)
        Effects and standard errors (> 0), e.g. from
        :meth:`SimulatedDailyEffects.by_exposure_day`; leading axes are separate series.
        The weights of the fit are 1 / se^2.
    cov : array, shape (..., T, T), optional
        Covariance matrix of the effects (symmetric, positive semi-definite, positive
        diagonal), e.g. ``DailyEffects.cov`` from :func:`clustered_daily_effects`. Given, the
        standard errors and intervals are the sandwich ones above. Default: independent
        points with standard errors ``se``.
    tau_bounds : (float, float), optional
        Search range for tau, 0 < low < high. Default: a tenth of the smallest gap between
        times, and ten times the time span.
    alpha : float
        The intervals have confidence 1 - alpha.

    Returns
    -------
    DecayFit
        ``long_run_effect``, ``long_run_se``, ``ci_low``, ``ci_high``, ``amplitude``,
        ``amplitude_se``, ``tau``, ``tau_se``, ``tau_ci_low``, ``tau_ci_high``,
        ``chi_square``, ``df``, ``fit_pvalue``, ``identified``, ``message``,
        ``standard_errors`` ("independent", or "sandwich" with ``cov``), with
        :meth:`~DecayFit.predict` and :meth:`~DecayFit.explain`.

    References
    ----------
    Bates, D. M. & Watts, D. G. (1988), *Nonlinear Regression Analysis and Its
    Applications*, Wiley, sections 2.3 and 6.1.
    Liang, K.-Y. & Zeger, S. L. (1986), Longitudinal data analysis using generalized linear
    models, *Biometrika* 73, 13-22.
    Cameron, A. C. & Miller, D. L. (2015), A practitioner's guide to cluster-robust
    inference, *Journal of Human Resources* 50, 317-372.

    Notes
    -----
    Guidance: report the by-age curve with its intervals and the long-run estimate a with
    its interval, never only the average of the first week. An interval for a is an
    extrapolation through the model: it is honest only if tau is well inside the observed
    span (the data show the curve flatten); otherwise run the experiment longer, or keep a
    long-term holdout.

    Examples
    --------
    Points exactly on a curve with a = 0.01, b = 0.03, tau = 2 days:

    >>> t = np.arange(10)
    >>> fit = fit_decay(t, 0.01 + 0.03 * np.exp(-t / 2), 0.001)
    >>> round(fit.long_run_effect, 4), round(fit.tau, 3), fit.identified
    (0.01, 2.0, True)
    """
    alpha = check_alpha(alpha)
    t, z, w, s_min = _series(time, effect, se, minimum=4, what="for a 3-parameter curve",
                             nonnegative_time=True)
    if cov is not None:
        cov = _check_cov(cov, z.shape + z.shape[-1:])
    check_work(f"{_GRID} tau values * {z.size // t.size:,} series", _GRID * (z.size // t.size))
    bounds = _tau_bounds(tau_bounds, t)
    log_low, log_high = np.log(bounds[0]), np.log(bounds[1])
    grid = np.linspace(log_low, log_high, _GRID)
    with np.errstate(all="ignore"):
        # z = effect / s_min, so residual sums are chi-squares and a, b come in units of s_min
        total = w.sum(axis=-1)
        z_mean = (w * z).sum(axis=-1) / total
        z_c = z - z_mean[..., None]
        szz = (w * z_c**2).sum(axis=-1)

        def profile(v):
            return _profile_at(t, w, z_c, szz, v)[1]

        profile_grid = _profile_grid(t, w, z_c, szz, grid)
        best = profile_grid.argmin(axis=-1)
        log_tau = _golden(profile, grid[np.maximum(best - 1, 0)],
                          grid[np.minimum(best + 1, _GRID - 1)])
        b, chi_square, x = _profile_at(t, w, z_c, szz, log_tau)
        a = z_mean - b * (w * x).sum(axis=-1) / total
        tau = np.exp(log_tau)
        jac = _jacobian(t, b, tau, x)
        regular, inverse = _covariance(np.einsum("...ti,...t,...tj->...ij", jac, w, jac))
        tau_low, tau_high = _tau_interval(profile, profile_grid, grid, log_tau, chi_square,
                                          stats.chi2.isf(alpha, 1))
        at_low = log_tau - log_low < _AT_BOUND
        at_high = log_high - log_tau < _AT_BOUND
        flat = ~regular | ((tau_low == 0) & np.isinf(tau_high))
        identified = ~(at_low | at_high | flat)
        open_high = identified & np.isinf(tau_high)
        cov_theta = inverse
        if cov is not None:  # sandwich: the points' covariance in units of s_min^2
            cov_theta, cov_residual = _sandwich(jac, w, inverse, cov / (s_min**2)[..., None, None])
            chi_square = _generalized_chi_square(z - a[..., None] - b[..., None] * x,
                                                 cov_residual)
            if not (np.isfinite(cov_theta).all() and np.isfinite(chi_square).all()):
                raise ValueError("cov is too large relative to se**2 for floating point: the "
                                 "sandwich overflows; give both in the same unit")
        se_a, se_b, se_tau = (
            np.where(identified, np.sqrt(np.maximum(cov_theta[..., i, i], 0.0)) * unit, np.inf)
            for i, unit in enumerate((s_min, s_min, 1.0))
        )
        if cov is not None:  # Wald interval on the log scale, where tau's estimate is closer
            spread = np.exp(stats.norm.isf(alpha / 2) * se_tau / tau)  # to normal
            tau_low, tau_high = tau / spread, tau * spread
        a, b = a * s_min, b * s_min
        low, high = _interval(a, se_a, "two-sided", alpha)
        low, high = np.where(identified, low, -np.inf), np.where(identified, high, np.inf)
    if not all(np.isfinite(v).all() for v in (a, b, chi_square, szz)) or any(
        np.isnan(v).any() for v in (se_a, se_b, se_tau, low, high)
    ):
        raise _too_large()
    df = t.size - 3
    return DecayFit(
        long_run_effect=scalar_or_array(a),
        long_run_se=scalar_or_array(se_a),
        ci_low=scalar_or_array(low),
        ci_high=scalar_or_array(high),
        amplitude=scalar_or_array(b),
        amplitude_se=scalar_or_array(se_b),
        tau=scalar_or_array(tau),
        tau_se=scalar_or_array(se_tau),
        tau_ci_low=scalar_or_array(tau_low),
        tau_ci_high=scalar_or_array(tau_high),
        chi_square=scalar_or_array(chi_square),
        df=df,
        fit_pvalue=scalar_or_array(stats.chi2.sf(chi_square, df)),
        identified=bool(identified) if identified.ndim == 0 else identified,
        message=_fit_message(at_low, at_high, flat, open_high, bounds),
        tau_bounds=bounds,
        alpha=alpha,
        standard_errors="independent" if cov is None else "sandwich",
    )
