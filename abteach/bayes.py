r"""Bayesian A/B testing of conversion rates with conjugate beta-binomial models.

With a :math:`\mathrm{Beta}(a_0, b_0)` prior on each arm's conversion rate and x conversions
out of n users, the posterior is :math:`\mathrm{Beta}(a_0 + x, b_0 + n - x)`. Three summaries
answer the questions a product team actually asks:

* **P(treatment beats control)** :math:`= P(p_t > p_c \mid \text{data})`. Not a p-value: a
  p-value is a probability of data given "no effect"; this is a probability of "better" given
  the data *and the prior*. With a flat prior and large samples it is close to one minus the
  one-sided z-test p-value, which is why "P(beat) > 95%" behaves like a one-sided test at
  5% and inherits its problems (peeking inflates false positives,
  :func:`simulate_bayes_peeking`).
* **Expected loss** of each choice, e.g. :math:`E[\max(p_c - p_t, 0)]` for shipping the
  treatment: how much conversion rate one expects to give up if the choice is wrong, averaged
  over the posterior (Stucchio 2015). Stopping when the loss of the better-looking arm falls
  below a "threshold of caring" is a decision rule, not an error-rate guarantee.
* **Credible intervals** for the difference and the lift, by Monte Carlo from the posterior.

P(beat) has a closed form when the success parameter of the treatment posterior is a whole
number (Miller 2015): for :math:`X \sim \mathrm{Beta}(a_X, b_X)` and
:math:`Y \sim \mathrm{Beta}(a_Y, b_Y)`,

.. math:: P(X > Y) = \sum_{i=0}^{a_X - 1}
          \frac{B(a_Y + i,\, b_X + b_Y)}{(b_X + i)\, B(1 + i, b_X)\, B(a_Y, b_Y)}.

This module therefore takes priors with whole-number parameters (the flat Beta(1, 1) or an
informative prior such as Beta(5, 95) "worth 100 users at 5%"). The sum has :math:`a_X` terms;
when that would mean more than ``SUM_TERMS`` numbers (millions of conversions), the same
probability is computed as an integral instead, :math:`P(X > Y) = \int_0^1 f_X(t) F_Y(t)\,dt`
(or :math:`\int_0^1 f_Y(t) (1 - F_X(t))\,dt`, integrating over whichever posterior is
narrower), by Gauss-Legendre quadrature; at such counts both posteriors are close to normal
and the quadrature agrees with the sum to about 1e-6.

References
----------
Miller, E. (2015), Formulas for Bayesian A/B testing,
https://www.evanmiller.org/bayesian-ab-testing.html.
Stucchio, C. (2015), Bayesian A/B testing at VWO (VWO white paper).
Gelman, A. et al. (2013), *Bayesian Data Analysis*, 3rd ed., ch. 2 (beta-binomial model).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import special

from abteach._records import Record, brief
from abteach._validate import (
    as_generator,
    broadcast,
    check_count,
    check_int,
    check_open_unit,
    check_positive,
    check_scalar,
    check_work,
    first_bad,
    scalar_or_array,
)

#: The closed-form sum is used while it needs at most this many terms in all.
SUM_TERMS = 2**22
#: Gauss-Legendre nodes of the quadrature used beyond ``SUM_TERMS``, and the half-width of its
#: window in standard deviations of the narrower posterior.
QUADRATURE_NODES = 512
WINDOW_SDS = 40
#: The smallest normal float. Below it, 1 / a (and so the beta function) overflows.
SMALLEST_PARAMETER = float(np.finfo(float).tiny)


def prob_greater(a_x, b_x, a_y, b_y):
    r"""Exact :math:`P(X > Y)` for independent :math:`X \sim \mathrm{Beta}(a_X, b_X)` and
    :math:`Y \sim \mathrm{Beta}(a_Y, b_Y)` with :math:`a_X` a whole number (Miller 2015).

    Evaluates the sum in the module docstring on the log scale (``scipy.special.betaln``),
    vectorised over broadcast array arguments (terms beyond each :math:`a_X` are masked).

    Examples
    --------
    >>> round(prob_greater(1, 1, 1, 1), 12)
    0.5
    >>> round(prob_greater(2, 1, 1, 1), 6)  # X ~ Beta(2, 1) has mean 2/3
    0.666667
    """
    a_x = check_count("a_x", a_x, minimum=1)
    b_x, a_y, b_y = (_check_shape_parameter(name, value)
                     for name, value in (("b_x", b_x), ("a_y", a_y), ("b_y", b_y)))
    a_x, b_x, a_y, b_y = broadcast(a_x=a_x, b_x=b_x, a_y=a_y, b_y=b_y)
    return scalar_or_array(_prob_greater(a_x, b_x, a_y, b_y))


def _check_shape_parameter(name: str, value) -> np.ndarray:
    """A beta shape parameter: finite, and at least the smallest normal float."""
    array = check_positive(name, value)
    bad = array < SMALLEST_PARAMETER
    if bad.any():
        raise ValueError(f"{name} must be at least {SMALLEST_PARAMETER:.4g} (the beta function "
                         f"of a smaller parameter overflows), got {first_bad(array, bad)}")
    return array


def _prob_greater(a_x, b_x, a_y, b_y) -> np.ndarray:
    """P(X > Y) on checked, broadcast arrays (a_x integer >= 1): the sum, or the integral."""
    a_x = np.asarray(a_x, dtype=np.int64)
    if a_x.size * int(a_x.max()) > SUM_TERMS:
        return _prob_greater_quadrature(a_x, b_x, a_y, b_y)
    return _prob_greater_sum(a_x, b_x, a_y, b_y)


def _prob_greater_quadrature(a_x, b_x, a_y, b_y) -> np.ndarray:
    r"""P(X > Y) as :math:`\int f_X F_Y` or :math:`\int f_Y S_X` over the narrower variable.

    Gauss-Legendre quadrature over its mean :math:`\pm` ``WINDOW_SDS`` standard deviations
    (clipped to [0, 1]); the density is taken relative to its value at the mean and normalized
    by the same quadrature, so the huge log-beta constants of millions of counts never cancel.
    """
    check_work(f"the broadcast size of a_x, b_x, a_y, b_y * {QUADRATURE_NODES} quadrature nodes",
               np.size(a_x) * QUADRATURE_NODES)
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (a_x, b_x, a_y, b_y)))
    shape, flat = arrays[0].shape, [v.ravel() for v in arrays]
    block = max(1, 2**21 // QUADRATURE_NODES)  # about 16 MB per temporary array
    parts = [_quadrature_block(*(v[start:start + block] for v in flat))
             for start in range(0, flat[0].size, block)]
    return np.concatenate(parts).reshape(shape)


def _quadrature_block(a_x, b_x, a_y, b_y) -> np.ndarray:
    """:func:`_prob_greater_quadrature` on 1-D arrays small enough to hold nodes x values."""
    nodes, weights = _gauss_legendre()
    a_x, b_x, a_y, b_y = (v[:, None] for v in (a_x, b_x, a_y, b_y))
    x_narrower = _beta_variance(a_x, b_x) <= _beta_variance(a_y, b_y)
    a, b = np.where(x_narrower, a_x, a_y), np.where(x_narrower, b_x, b_y)
    mean, sd = a / (a + b), np.sqrt(_beta_variance(a, b))
    low = np.maximum(mean - WINDOW_SDS * sd, 0.0)
    high = np.minimum(mean + WINDOW_SDS * sd, 1.0)
    t = low + (high - low) * (nodes + 1) / 2
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_density = (_times_log1p(a - 1, (t - mean) / mean)
                       + _times_log1p(b - 1, (mean - t) / (1 - mean)))
        density = weights * np.exp(log_density - log_density.max(axis=-1, keepdims=True))
        other = np.where(x_narrower, special.betainc(a_y, b_y, t),
                         special.betainc(b_x, a_x, 1 - t))
        prob = (density * other).sum(axis=-1) / density.sum(axis=-1)
    if not np.isfinite(prob).all():
        raise ValueError(
            "a_x, b_x, a_y, b_y: P(X > Y) cannot be computed when a posterior lies within "
            f"rounding error of 0 or 1, got Beta({first_bad(a_x[..., 0], ~np.isfinite(prob))}, "
            f"...)"
        )
    return np.clip(prob, 0.0, 1.0)


@functools.cache
def _gauss_legendre() -> tuple[np.ndarray, np.ndarray]:
    return np.polynomial.legendre.leggauss(QUADRATURE_NODES)


def _times_log1p(coefficient, x):
    """``coefficient * log1p(x)``, 0 where the coefficient is 0 (also at x = -1)."""
    return np.where(coefficient == 0, 0.0, coefficient * np.log1p(x))


def _beta_variance(a, b):
    return a / (a + b) * b / (a + b) / (a + b + 1)


def _prob_greater_sum(a_x, b_x, a_y, b_y) -> np.ndarray:
    """The closed-form sum of the module docstring (Miller 2015) on broadcast arrays."""
    i = np.arange(int(a_x.max()))
    shape = a_x.shape + (1,)
    b_x, a_y, b_y = (np.asarray(v, dtype=float).reshape(shape) for v in (b_x, a_y, b_y))
    log_terms = (special.betaln(a_y + i, b_x + b_y) - np.log(b_x + i)
                 - special.betaln(1 + i, b_x) - special.betaln(a_y, b_y))
    terms = np.where(i < a_x.reshape(shape), np.exp(log_terms), 0.0)
    return np.clip(terms.sum(axis=-1), 0.0, 1.0)


def _check_prior(prior) -> tuple[int, int]:
    if not isinstance(prior, (tuple, list)) or len(prior) != 2:
        raise TypeError(f"prior must be a pair (a, b) of whole numbers >= 1, got {prior!r}")
    a, b = (check_int("prior", v, minimum=1) for v in prior)
    return a, b


@dataclass(frozen=True, repr=False, eq=False)
class BetaBinomialAB(Record):
    """Result of :func:`beta_binomial_ab`.

    Posterior Beta(a, b) parameters of each arm, posterior means, the posterior mean and
    equal-tailed credible interval of the difference ``effect`` (treatment minus control) and
    of the ``lift`` (p_t / p_c - 1), the exact P(treatment beats control), and the expected
    loss of each choice. Numeric fields are floats for scalar counts, arrays for array counts.
    """

    a_control: int | np.ndarray
    b_control: int | np.ndarray
    a_treatment: int | np.ndarray
    b_treatment: int | np.ndarray
    mean_control: float | np.ndarray
    mean_treatment: float | np.ndarray
    effect: float | np.ndarray
    effect_ci_low: float | np.ndarray
    effect_ci_high: float | np.ndarray
    lift: float | np.ndarray
    lift_ci_low: float | np.ndarray
    lift_ci_high: float | np.ndarray
    prob_treatment_better: float | np.ndarray
    loss_treatment: float | np.ndarray
    loss_control: float | np.ndarray
    credible: float
    prior: tuple
    draws: int

    def explain(self) -> str:
        """Plain-text derivation with the numbers plugged in."""
        if np.ndim(self.effect) != 0:
            return (f"Beta-binomial A/B on {np.size(self.effect)} experiments, prior "
                    f"Beta{self.prior}: mean P(treatment better) = "
                    f"{brief(np.mean(self.prob_treatment_better))}")
        level = f"{brief(100 * self.credible)}%"
        a0, b0 = self.prior
        return "\n".join([
            f"Bayesian beta-binomial A/B test, prior Beta({a0}, {b0}) on each rate",
            f"  control posterior   Beta({a0} + x_c, {b0} + n_c - x_c) = "
            f"Beta({self.a_control}, {self.b_control}), mean {brief(self.mean_control)}",
            f"  treatment posterior Beta({self.a_treatment}, {self.b_treatment}), "
            f"mean {brief(self.mean_treatment)}",
            f"  P(p_t > p_c | data) = {brief(self.prob_treatment_better)} "
            "(exact sum, Miller 2015; not a p-value)",
            f"  effect p_t - p_c: posterior mean {brief(self.effect)}, {level} credible "
            f"interval [{brief(self.effect_ci_low)}, {brief(self.effect_ci_high)}] "
            f"({self.draws:,} posterior draws)",
            f"  lift p_t / p_c - 1: posterior mean {brief(self.lift)}, {level} credible "
            f"interval [{brief(self.lift_ci_low)}, {brief(self.lift_ci_high)}]",
            f"  expected loss if we ship treatment E[max(p_c - p_t, 0)] = "
            f"{brief(self.loss_treatment)}; if we keep control E[max(p_t - p_c, 0)] = "
            f"{brief(self.loss_control)}",
        ])


def _expected_loss(a_x, b_x, a_y, b_y) -> np.ndarray:
    r""":math:`E[\max(Y - X, 0)]`, the loss of choosing X, exactly.

    :math:`E[Y 1\{Y > X\}] = \frac{a_Y}{a_Y + b_Y} P(Y^+ > X)` with
    :math:`Y^+ \sim \mathrm{Beta}(a_Y + 1, b_Y)` (the beta density times y is a shifted
    beta density), and likewise for X, so the loss is
    :math:`m_Y P(Y^+ > X) - m_X P(Y > X^+)`, each probability by the closed-form sum.
    """
    m_x, m_y = a_x / (a_x + b_x), a_y / (a_y + b_y)
    return np.maximum(m_y * _prob_greater(a_y + 1, b_y, a_x, b_x)
                      - m_x * _prob_greater(a_y, b_y, a_x + 1, b_x), 0.0)


def _whole(array: np.ndarray):
    """An int for a 0-d count array, the array otherwise."""
    return int(array) if array.ndim == 0 else array


def beta_binomial_ab(
    x_control, n_control, x_treatment, n_treatment, *,
    prior=(1, 1), credible: float = 0.95, draws: int = 100_000, rng,
) -> BetaBinomialAB:
    r"""Bayesian comparison of two conversion rates with independent beta priors.

    Posteriors :math:`p_c \sim \mathrm{Beta}(a_0 + x_c, b_0 + n_c - x_c)` and likewise for
    the treatment. ``prob_treatment_better`` is the exact :math:`P(p_t > p_c)` (Miller 2015,
    module docstring); ``loss_treatment`` :math:`= E[\max(p_c - p_t, 0)]` and
    ``loss_control`` :math:`= E[\max(p_t - p_c, 0)]` are exact too (Stucchio 2015); the
    credible intervals of the difference and of the lift are equal-tailed posterior
    quantiles from ``draws`` Monte Carlo draws, and ``effect`` / ``lift`` are posterior
    means (``effect`` exactly, ``lift`` by Monte Carlo).

    Parameters
    ----------
    x_control, n_control, x_treatment, n_treatment : int or array of int
        Conversions and users of each arm (arrays broadcast: one experiment per element).
    prior : (int, int)
        Whole-number Beta prior parameters (a_0, b_0), the same for both arms; (1, 1) is flat.
    credible : float in (0, 1)
        Posterior probability of the credible intervals.
    draws : int
        Monte Carlo draws per experiment for the intervals and the lift.
    rng : numpy.random.Generator or int
        Source of the posterior draws.

    References
    ----------
    Miller (2015); Stucchio (2015); Gelman et al. (2013), ch. 2.
    """
    a0, b0 = _check_prior(prior)
    credible = check_scalar("credible", check_open_unit("credible", credible))
    draws = check_int("draws", draws, minimum=100)
    generator = as_generator(rng)
    x_c, n_c = check_count("x_control", x_control), check_count("n_control", n_control, minimum=1)
    x_t = check_count("x_treatment", x_treatment)
    n_t = check_count("n_treatment", n_treatment, minimum=1)
    x_c, n_c, x_t, n_t = broadcast(x_control=x_c, n_control=n_c, x_treatment=x_t,
                                   n_treatment=n_t)
    check_work("experiments * draws * 2 arms", x_c.size * draws * 2)
    for x_name, x, n_name, n in (("x_control", x_c, "n_control", n_c),
                                 ("x_treatment", x_t, "n_treatment", n_t)):
        if np.any(x > n):
            bad = np.argmax(np.ravel(x > n))
            raise ValueError(f"{x_name} must be <= {n_name}, got {np.ravel(x)[bad]} > "
                             f"{np.ravel(n)[bad]}")
    a_c, b_c, a_t, b_t = a0 + x_c, b0 + n_c - x_c, a0 + x_t, b0 + n_t - x_t
    shape = a_c.shape + (draws,)
    p_c = generator.beta(a_c[..., None], b_c[..., None], size=shape)
    p_t = generator.beta(a_t[..., None], b_t[..., None], size=shape)
    tails = [(1 - credible) / 2, (1 + credible) / 2]
    effect_ci = np.quantile(p_t - p_c, tails, axis=-1)
    lift_draws = p_t / p_c - 1
    lift_ci = np.quantile(lift_draws, tails, axis=-1)
    mean_c, mean_t = a_c / (a_c + b_c), a_t / (a_t + b_t)
    out = scalar_or_array
    return BetaBinomialAB(
        a_control=_whole(a_c), b_control=_whole(b_c),
        a_treatment=_whole(a_t), b_treatment=_whole(b_t),
        mean_control=out(mean_c), mean_treatment=out(mean_t),
        effect=out(mean_t - mean_c), effect_ci_low=out(effect_ci[0]),
        effect_ci_high=out(effect_ci[1]),
        lift=out(lift_draws.mean(axis=-1)), lift_ci_low=out(lift_ci[0]),
        lift_ci_high=out(lift_ci[1]),
        prob_treatment_better=out(_prob_greater(a_t, b_t, a_c, b_c)),
        loss_treatment=out(_expected_loss(a_t, b_t, a_c, b_c)),
        loss_control=out(_expected_loss(a_c, b_c, a_t, b_t)),
        credible=credible, prior=(a0, b0), draws=draws,
    )


@dataclass(frozen=True, repr=False, eq=False)
class BayesPeeking(Record):
    """Result of :func:`simulate_bayes_peeking`: A/A false-positive rates of the rule
    "declare a winner when P(beat) > threshold"."""

    false_positive_rate_final: float
    false_positive_rate_any_look: float
    looks: int
    threshold: float
    runs: int

    def explain(self) -> str:
        """Plain-text summary."""
        return "\n".join([
            f"A/A simulation, {self.runs:,} experiments, rule 'declare the treatment better when "
            f"P(beat) > {brief(self.threshold)}':",
            "  checked once at the end:   false-positive rate "
            f"{brief(self.false_positive_rate_final)}",
            f"  checked at each of {self.looks} looks: false-positive rate "
            f"{brief(self.false_positive_rate_any_look)}",
        ])


def simulate_bayes_peeking(
    p, n_per_look: int, looks: int, *, threshold: float = 0.95, runs: int = 2000,
    prior=(1, 1), rng,
) -> BayesPeeking:
    r"""False-positive rate of stopping when P(treatment beats control) > ``threshold``.

    Simulates ``runs`` A/A experiments (both arms convert at ``p``) that add ``n_per_look``
    users per arm between looks, computes the exact P(beat) at each of ``looks`` looks, and
    reports how often the rule fires at the final look only and at any look. With a flat prior
    the rule at the end is close to a one-sided z-test at level 1 - threshold; checked at
    every look it fires far more often, exactly like a peeked p-value (Armitage, McPherson &
    Rowe 1969): P(beat) does not protect against optional stopping as an error rate.

    References
    ----------
    Miller (2015); Armitage, P., McPherson, C. K. & Rowe, B. C. (1969), Repeated significance
    tests on accumulating data, *JRSS A* 132, 235-244.
    """
    p = check_scalar("p", check_open_unit("p", p))
    n_per_look = check_int("n_per_look", n_per_look, minimum=1, maximum=2**53)
    looks = check_int("looks", looks, minimum=1)
    threshold = check_scalar("threshold", check_open_unit("threshold", threshold))
    runs = check_int("runs", runs, minimum=1)
    check_work("2 * runs * looks", 2 * runs * looks)
    a0, b0 = _check_prior(prior)
    if runs * looks * (a0 + n_per_look * looks) > SUM_TERMS:  # P(beat) will need the integral
        check_work(f"runs * looks * {QUADRATURE_NODES} quadrature nodes",
                   runs * looks * QUADRATURE_NODES)
    generator = as_generator(rng)
    new = generator.binomial(n_per_look, p, size=(2, runs, looks))
    x = np.cumsum(new, axis=-1)
    n = n_per_look * np.arange(1, looks + 1)
    prob = _prob_greater(a0 + x[1], b0 + n - x[1], a0 + x[0], b0 + n - x[0])
    fired = prob > threshold
    return BayesPeeking(
        false_positive_rate_final=float(fired[:, -1].mean()),
        false_positive_rate_any_look=float(fired.any(axis=-1).mean()),
        looks=looks, threshold=threshold, runs=runs,
    )
