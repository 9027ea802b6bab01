r"""Heterogeneous treatment effects: S- and T-learners, Qini curves and targeting.

The conditional average treatment effect (CATE) of a user with features x is
:math:`\tau(x) = E[Y(1) - Y(0) \mid X = x]`. In a randomised experiment it can be estimated
with "meta-learners" built from any regression method (Kuenzel et al. 2019); here the base
learner is ordinary least squares on a small polynomial design, in plain numpy:

* **S-learner** ("single model"): regress Y on (features, treatment) together and predict
  :math:`\hat\tau(x) = \hat\mu(x, 1) - \hat\mu(x, 0)`. Without treatment-by-feature
  interaction columns a linear S-learner can only return one constant effect for everyone,
  whatever the truth: the model cannot express heterogeneity it was not given.
* **T-learner** ("two models"): regress Y on the features separately in each arm and predict
  :math:`\hat\tau(x) = \hat\mu_1(x) - \hat\mu_0(x)`.

A CATE model is judged by ranking: treat the users with the highest predicted effect first.
The **Qini curve** (Radcliffe 2007) plots, for the top fraction :math:`\phi` of users ranked
by score, the incremental outcomes :math:`Q(\phi) = Y_t(\phi) - Y_c(\phi) N_t(\phi) / N_c(\phi)`
(:math:`Y` sums of the outcome, :math:`N` counts, among the top-ranked users of each arm).
A random ranking gives on average the straight line from 0 to :math:`Q(1)`; the **Qini
coefficient** is the area between the curve and that line. The **uplift curve**
:math:`U(\phi) = (\bar Y_t(\phi) - \bar Y_c(\phi)) \cdot \phi n` estimates the total gain of
treating exactly the top :math:`\phi` of the population (Gutierrez & Gerardy 2017), which is
what :func:`targeting_gain` compares with treating everyone.

References
----------
Radcliffe, N. J. (2007), Using control groups to target on predicted lift: building and
assessing uplift models, *Direct Marketing Analytics Journal* 1, 14-21.
Gutierrez, P. & Gerardy, J.-Y. (2017), Causal inference and uplift modelling: a review of the
literature, *Proceedings of Machine Learning Research* 67, 1-13.
Kuenzel, S. R., Sekhon, J. S., Bickel, P. J. & Yu, B. (2019), Metalearners for estimating
heterogeneous treatment effects using machine learning, *PNAS* 116, 4156-4165.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from abteach._records import Record, brief
from abteach._validate import (
    as_float_array,
    as_generator,
    check_bool,
    check_int,
    check_nonnegative,
    check_open_unit,
    check_scalar,
    check_work,
    first_bad,
)


def _features(name: str, value) -> np.ndarray:
    """A (n, d) float matrix of features; a 1-D array is one feature."""
    x = as_float_array(name, value)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(
            f"{name} must be a 1-D or 2-D array (units x features), got shape {x.shape}")
    return x


#: The highest polynomial degree. Raw powers beyond it are numerically collinear anyway.
MAX_DEGREE = 20


def design_matrix(features, *, degree: int = 1) -> np.ndarray:
    r"""Polynomial design matrix with an intercept: :math:`[1, x_j, x_j^2, \dots, x_j^{degree}]`.

    Powers of each feature separately (no cross-products between features), so the number of
    columns is ``1 + d * degree`` for d features; ``degree`` is at most ``MAX_DEGREE`` (raw
    powers of higher degree are collinear to machine precision) and every power must be finite.

    Examples
    --------
    >>> design_matrix([1.0, 2.0], degree=2).tolist()
    [[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]]
    """
    x = _features("features", features)
    degree = check_int("degree", degree, minimum=1, maximum=MAX_DEGREE)
    with np.errstate(over="ignore"):
        powers = [x**k for k in range(1, degree + 1)]
    _check_finite_powers(x, powers[-1], degree)
    return np.column_stack([np.ones(x.shape[0]), *powers])


def _check_finite_powers(x: np.ndarray, highest: np.ndarray, degree: int) -> None:
    """Refuse features whose ``degree``-th power overflows."""
    bad = ~np.isfinite(highest)
    if bad.any():
        raise ValueError(f"features ** degree overflows for degree {degree}, at feature value "
                         f"{first_bad(x, bad)}")


def fit_ols(design, outcome) -> np.ndarray:
    r"""Ordinary least squares coefficients :math:`\hat\beta = \arg\min \|y - X\beta\|^2`.

    Solved by an SVD-based least-squares routine (``numpy.linalg.lstsq``), which is stable for
    badly scaled designs, and refuses a rank-deficient design (collinear columns or fewer rows
    than columns) rather than returning one of infinitely many solutions.
    """
    x = as_float_array("design", design)
    y = as_float_array("outcome", outcome)
    if x.ndim != 2:
        raise ValueError(f"design must be a 2-D array (units x columns), got shape {x.shape}")
    if y.shape != (x.shape[0],):
        raise ValueError(f"outcome must have one value per row of design ({x.shape[0]}), "
                         f"got shape {y.shape}")
    beta, _, rank, _ = np.linalg.lstsq(x, y, rcond=None)
    if rank < x.shape[1]:
        raise ValueError(f"design must have full column rank {x.shape[1]}, got rank {rank} "
                         "(too few units or collinear columns)")
    return beta


def _fit_polynomial(design: np.ndarray, outcome: np.ndarray, degree: int) -> np.ndarray:
    """:func:`fit_ols` on a learner's polynomial design, naming ``degree`` when it is too high."""
    try:
        return fit_ols(design, outcome)
    except ValueError as exc:
        raise ValueError(f"degree {degree} is too high for these features and units: "
                         f"{exc}") from None


def _treated(treated) -> np.ndarray:
    """The treatment indicator, which must be a boolean array."""
    try:
        w = np.asarray(treated)
    except ValueError:  # ragged nested sequences
        raise TypeError(f"treated must be a boolean array, got {treated!r}") from None
    if w.dtype != bool:
        raise TypeError(f"treated must be a boolean array, got dtype {w.dtype}")
    return w


def _experiment(features, treated, outcome):
    """Check the three arrays of an experiment: features (n, d), treated (n,) bool, outcome (n,)."""
    x = _features("features", features)
    w = _treated(treated)
    y = as_float_array("outcome", outcome)
    if w.shape != (x.shape[0],) or y.shape != (x.shape[0],):
        raise ValueError(f"treated and outcome must have one entry per unit (features has "
                         f"{x.shape[0]} rows), got shapes {w.shape} and {y.shape}")
    if w.all() or not w.any():
        raise ValueError("treated must contain both treated and control units")
    return x, w, y


def _new_features(new_features, x: np.ndarray) -> np.ndarray:
    if new_features is None:
        return x
    z = _features("new_features", new_features)
    if z.shape[1] != x.shape[1]:
        raise ValueError(f"new_features must have {x.shape[1]} columns, got {z.shape[1]}")
    return z


def s_learner(features, treated, outcome, *, degree: int = 1, interactions: bool = True,
              new_features=None) -> np.ndarray:
    r"""CATE predictions of a linear S-learner (one regression with the treatment as a column).

    Fits :math:`y = \phi(x)^\top\beta + w\,\gamma + w\,\phi(x)^\top\delta` by OLS, with
    :math:`\phi` the polynomial features of :func:`design_matrix` (without the intercept in
    the interaction), and predicts :math:`\hat\tau(x) = \gamma + \phi(x)^\top\delta`. With
    ``interactions=False`` the model is :math:`y = \phi(x)^\top\beta + w\gamma` and every
    prediction equals :math:`\gamma`: a single number, however heterogeneous the truth.

    Parameters
    ----------
    features : array (n,) or (n, d)
    treated : bool array (n,)
    outcome : array (n,)
    degree : int
        Polynomial degree of each feature.
    interactions : bool
        Include treatment-by-feature columns.
    new_features : array, optional
        Units to predict for (default: the training units).

    References
    ----------
    Kuenzel et al. (2019), section 2.
    """
    x, w, y = _experiment(features, treated, outcome)
    interactions = check_bool("interactions", interactions)
    base = design_matrix(x, degree=degree)
    wf = w.astype(float)[:, None]
    columns = [base, wf, wf * base[:, 1:]] if interactions else [base, wf]
    beta = _fit_polynomial(np.column_stack(columns), y, degree)
    gamma = beta[base.shape[1]]
    if not interactions:
        return np.full(_new_features(new_features, x).shape[0], gamma)
    delta = beta[base.shape[1] + 1:]
    return gamma + design_matrix(_new_features(new_features, x), degree=degree)[:, 1:] @ delta


def t_learner(features, treated, outcome, *, degree: int = 1, new_features=None) -> np.ndarray:
    r"""CATE predictions of a linear T-learner: separate OLS fits in each arm.

    :math:`\hat\mu_1` is fitted on the treated units and :math:`\hat\mu_0` on the controls
    (design :func:`design_matrix`), and :math:`\hat\tau(x) = \hat\mu_1(x) - \hat\mu_0(x)`.

    References
    ----------
    Kuenzel et al. (2019), section 2.
    """
    x, w, y = _experiment(features, treated, outcome)
    base = design_matrix(x, degree=degree)
    beta_1 = _fit_polynomial(base[w], y[w], degree)
    beta_0 = _fit_polynomial(base[~w], y[~w], degree)
    return design_matrix(_new_features(new_features, x), degree=degree) @ (beta_1 - beta_0)


class UpliftData(NamedTuple):
    """Output of :func:`simulate_uplift_data`: one row per user, with the true CATE ``tau``."""

    features: np.ndarray
    treated: np.ndarray
    outcome: np.ndarray
    tau: np.ndarray


def simulate_uplift_data(
    n: int, *, rng, effect_intercept: float = 0.2, effect_slope: float = 0.5,
    noise_sd: float = 1.0, treated_share: float = 0.5,
) -> UpliftData:
    r"""A randomised experiment with a known, linear heterogeneous effect.

    Two features :math:`x_1, x_2 \sim U(-1, 1)`; treatment
    :math:`w \sim` Bernoulli(``treated_share``);

    .. math:: y = 1 + x_1 + 0.5\,x_2^2 + w\,\tau(x) + \varepsilon, \quad
              \tau(x) = \text{effect\_intercept} + \text{effect\_slope}\cdot x_1, \quad
              \varepsilon \sim N(0, \text{noise\_sd}^2).

    With the defaults the effect runs from -0.3 to 0.7: three users in ten are harmed.
    """
    n = check_int("n", n, minimum=4)
    check_work("n * 8 (features, treatment, outcome, effect and noise)", 8 * n)
    generator = as_generator(rng)
    intercept, slope = (check_scalar(name, as_float_array(name, value)) for name, value in
                        (("effect_intercept", effect_intercept), ("effect_slope", effect_slope)))
    noise_sd = check_scalar("noise_sd", check_nonnegative("noise_sd", noise_sd))
    share = check_scalar("treated_share", check_open_unit("treated_share", treated_share))
    x = generator.uniform(-1, 1, size=(n, 2))
    treated = generator.random(n) < share
    tau = intercept + slope * x[:, 0]
    outcome = (1 + x[:, 0] + 0.5 * x[:, 1] ** 2 + treated * tau
               + noise_sd * generator.standard_normal(n))
    return UpliftData(features=x, treated=treated, outcome=outcome, tau=tau)


@dataclass(frozen=True, repr=False, eq=False)
class QiniCurve(Record):
    """Result of :func:`qini_curve`.

    ``fraction[k] = k / n`` (k = 0..n users targeted, highest scores first); ``qini`` is
    Radcliffe's Q(k); ``random`` the expected Q(k) of a random ranking, ``fraction * qini[-1]``;
    ``uplift`` is U(k), the estimated total gain of treating the top k; ``coefficient`` is the
    area between ``qini / n`` and ``random / n`` over the fraction axis.
    """

    fraction: np.ndarray
    qini: np.ndarray
    random: np.ndarray
    uplift: np.ndarray
    coefficient: float

    def explain(self) -> str:
        """Plain-text summary."""
        n = self.fraction.size - 1
        return "\n".join([
            f"Qini curve over {n:,} units ranked by score (highest first)",
            f"  Q(k) = Y_t(k) - Y_c(k) N_t(k) / N_c(k); Q(n) = {brief(self.qini[-1])} "
            "incremental outcomes among the treated",
            f"  Qini coefficient = area between Q(k)/n and the random line = "
            f"{brief(self.coefficient)} (0 for a useless ranking)",
        ])


#: Largest absolute outcome :func:`qini_curve` accepts.
MAX_OUTCOME = 1e100


def _ranked_sums(scores, treated, outcome):
    """Cumulative counts and outcome sums per arm, units ranked by score (highest first)."""
    s = as_float_array("uplift_scores", scores)
    w = _treated(treated)
    y = as_float_array("outcome", outcome)
    if s.ndim != 1 or w.shape != s.shape or y.shape != s.shape:
        raise ValueError("uplift_scores, treated and outcome must be 1-D of the same length, got "
                         f"shapes {s.shape}, {w.shape} and {y.shape}")
    if w.all() or not w.any():
        raise ValueError("treated must contain both treated and control units")
    if np.abs(y).max() > MAX_OUTCOME:  # keeps the cumulative sums and products finite
        raise ValueError(f"outcome must be at most {MAX_OUTCOME:g} in absolute value, "
                         f"got {np.abs(y).max():g}")
    order = np.argsort(-s, kind="stable")
    w, y = w[order], y[order]
    zero = np.zeros(1)
    n_t = np.concatenate([zero, np.cumsum(w)])
    n_c = np.concatenate([zero, np.cumsum(~w)])
    y_t = np.concatenate([zero, np.cumsum(np.where(w, y, 0.0))])
    y_c = np.concatenate([zero, np.cumsum(np.where(w, 0.0, y))])
    return n_t, n_c, y_t, y_c


def _safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with 0 where den is 0 (no units of that arm among the top k yet)."""
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def qini_curve(uplift_scores, treated, outcome) -> QiniCurve:
    r"""Qini and uplift curves of a ranking of the units of a randomised experiment.

    Units are sorted by ``uplift_scores``, highest first (ties keep their input order). For
    the top k units, with :math:`N_t(k), N_c(k)` treated and control units and outcome sums
    :math:`Y_t(k), Y_c(k)`:

    .. math:: Q(k) = Y_t(k) - Y_c(k)\,\frac{N_t(k)}{N_c(k)}, \qquad
              U(k) = \Big(\frac{Y_t(k)}{N_t(k)} - \frac{Y_c(k)}{N_c(k)}\Big)\,k,

    a ratio with an empty arm counting as 0. The Qini coefficient is
    :math:`\int_0^1 [Q(\phi n) - \phi Q(n)] / n \, d\phi` (trapezoid rule over
    :math:`\phi = k / n`): incremental outcome per unit of population, above random targeting.

    References
    ----------
    Radcliffe (2007); Gutierrez & Gerardy (2017), section 4.
    """
    n_t, n_c, y_t, y_c = _ranked_sums(uplift_scores, treated, outcome)
    n = n_t.size - 1
    fraction = np.arange(n + 1) / n
    qini = y_t - _safe_ratio(y_c * n_t, n_c)
    uplift = (_safe_ratio(y_t, n_t) - _safe_ratio(y_c, n_c)) * np.arange(n + 1)
    random = fraction * qini[-1]
    gap = (qini - random) / n
    coefficient = float(np.sum((gap[1:] + gap[:-1]) / 2) / n)
    return QiniCurve(fraction=fraction, qini=qini, random=random, uplift=uplift,
                     coefficient=coefficient)


def qini_coefficient(uplift_scores, treated, outcome) -> float:
    """The Qini coefficient of :func:`qini_curve` (area between the Qini curve and random)."""
    return qini_curve(uplift_scores, treated, outcome).coefficient


@dataclass(frozen=True, repr=False, eq=False)
class TargetingGain(Record):
    """Result of :func:`targeting_gain`: per-user net gain of treating the top fraction vs all."""

    fraction: float
    gain_targeted: float
    gain_everyone: float
    cost: float

    def explain(self) -> str:
        """Plain-text summary."""
        return "\n".join([
            f"Treat the top {brief(100 * self.fraction)}% by score: estimated net gain "
            f"{brief(self.gain_targeted)} per user of the population",
            f"Treat everyone: {brief(self.gain_everyone)} per user "
            f"(cost per treated user {brief(self.cost)})",
        ])


def targeting_gain(uplift_scores, treated, outcome, *, fraction: float,
                   cost: float = 0.0) -> TargetingGain:
    r"""Estimated gain per user of treating only the top ``fraction`` by score, vs everyone.

    With k = round(fraction n) units targeted, the net gain per user of the population is
    :math:`(U(k) - c\,k) / n` for the uplift curve U of :func:`qini_curve` and a cost c per
    treated user; treating everyone gives :math:`(U(n) - c\,n) / n`. Both are estimated on the
    experiment that ranked the users, so for a fitted model use held-out units (or a second
    experiment) or the gain is optimistic.
    """
    fraction = check_scalar("fraction", check_open_unit("fraction", fraction))
    cost = check_scalar("cost", check_nonnegative("cost", cost))
    curve = qini_curve(uplift_scores, treated, outcome)
    n = curve.fraction.size - 1
    k = int(round(fraction * n))
    return TargetingGain(
        fraction=fraction,
        gain_targeted=float((curve.uplift[k] - cost * k) / n),
        gain_everyone=float((curve.uplift[n] - cost * n) / n),
        cost=cost,
    )

