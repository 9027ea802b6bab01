"""Multiple testing: adjusted p-values, family-wise error rate and false discovery rate.

An experiment with many metrics, many variants or many segments runs many tests. At level
alpha each, the chance that at least one of m true null hypotheses is rejected (the
family-wise error rate, FWER) grows quickly: 1 - (1 - 0.05)^20 = 64% for 20 independent
metrics. Two kinds of guarantee are on offer:

* **FWER <= alpha** (Bonferroni, Holm, Hochberg): the chance of *any* false rejection in the
  family is at most alpha. Right when a single false claim is costly.
* **FDR <= q** (Benjamini-Hochberg, Benjamini-Yekutieli): the expected share of false
  discoveries among the rejected hypotheses, E[V / max(R, 1)], is at most q. Right when many
  hypotheses are screened and a few false leads among the discoveries are acceptable.

Every procedure here turns the m raw p-values of a family into *adjusted* p-values and rejects
H_i when its adjusted p-value is <= alpha (or q); with p_(1) <= ... <= p_(m) sorted and
c(m) = 1 + 1/2 + ... + 1/m,

==============  ===========================================  ==========================
method          adjusted p-value of p_(i) (capped at 1)      guarantee
==============  ===========================================  ==========================
``bonferroni``  m p_(i)                                      FWER, any dependence
``holm``        max_{j <= i} (m - j + 1) p_(j)  (step-down)  FWER, any dependence
``hochberg``    min_{j >= i} (m - j + 1) p_(j)  (step-up)    FWER, independence or PRDS
``bh``          min_{j >= i} m p_(j) / j  (step-up)          FDR, independence or PRDS
``by``          min_{j >= i} m c(m) p_(j) / j  (step-up)     FDR, any dependence
==============  ===========================================  ==========================

(PRDS: positive regression dependence, e.g. one-sided tests on positively correlated normal
statistics, Benjamini & Yekutieli 2001.) Holm always rejects at least what Bonferroni rejects
and Hochberg at least what Holm rejects; BH rejects at least what Hochberg rejects, because
m / j <= m - j + 1. Rejecting by "adjusted p <= alpha" is the same as the textbook
step-down/step-up rules ("reject the i smallest while p_(i) <= alpha / (m - i + 1)", "reject
the k smallest for the largest k with p_(k) <= k q / m") up to floating-point rounding at an
exact boundary, and ties get equal adjusted p-values.

What gets corrected
-------------------
Correct over the family of tests on which one decision rests, and only that family:

* **Primary (decision) metric.** One pre-registered metric per comparison needs no correction
  with one treatment. With k variants against one control, the k comparisons form a family:
  correct across them (Holm, or Dunnett's test, see :func:`simulate_many_variants`).
* **Guardrail metrics** (latency, crashes, unsubscribes) protect against harm. Correcting them
  makes harm harder to detect, and missing real harm usually costs more than a false alarm,
  which costs a second look. Common practice is to test guardrails one-sided, uncorrected (or
  at a lenient level), and to say so in the analysis plan.
* **Secondary and exploratory metrics, segments.** Dozens of tests screened for surprises:
  control the FDR (``bh``, or ``by`` when the dependence is unknown and may be negative) and
  treat discoveries as hypotheses for a follow-up experiment, not as results.

Whatever the choice, write the family and the method into the experiment's plan before the
data arrive: choosing them after seeing the p-values is itself a multiple-testing problem.

References
----------
Bonferroni / Holm: Holm, S. (1979), A simple sequentially rejective multiple test procedure,
*Scandinavian Journal of Statistics* 6, 65-70.
Hochberg, Y. (1988), A sharper Bonferroni procedure for multiple tests of significance,
*Biometrika* 75, 800-802.
Benjamini, Y. & Hochberg, Y. (1995), Controlling the false discovery rate: a practical and
powerful approach to multiple testing, *JRSS B* 57, 289-300.
Benjamini, Y. & Yekutieli, D. (2001), The control of the false discovery rate in multiple
testing under dependency, *Annals of Statistics* 29, 1165-1188.
Dunnett, C. W. (1955), A multiple comparison procedure for comparing several treatments with a
control, *JASA* 50, 1096-1121.
Kohavi, Tang & Xu (2020), *Trustworthy Online Controlled Experiments*, ch. 17.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import stats

from abteach._records import Record, format_number
from abteach._validate import (
    as_float_array,
    as_generator,
    check_alternative,
    check_choice,
    check_closed_unit,
    check_int,
    check_open_unit,
    check_scalar,
    check_work,
)
from abteach.inference import ztest_proportions

__all__ = [
    "METHODS",
    "ErrorRates",
    "MultipleTests",
    "SimulatedVariants",
    "adjust_pvalues",
    "error_rates",
    "multiple_tests",
    "simulate_many_variants",
    "simulate_pvalues",
]

METHODS = ("bonferroni", "holm", "hochberg", "bh", "by")

_GUARANTEE = {
    "bonferroni": "FWER <= alpha under any dependence",
    "holm": "FWER <= alpha under any dependence",
    "hochberg": "FWER <= alpha for independent or positively dependent (PRDS) tests",
    "bh": "FDR <= alpha for independent or positively dependent (PRDS) tests",
    "by": "FDR <= alpha under any dependence",
}


def _check_pvalues(pvalues) -> np.ndarray:
    array = check_closed_unit("pvalues", pvalues)
    if array.ndim == 0:
        raise ValueError(
            "pvalues must be an array with one p-value per hypothesis along its last axis, "
            f"got the single number {array.item()!r}"
        )
    return array


def _step_factors(method: str, m: int) -> np.ndarray:
    """Multiplier of the i-th smallest p-value (i = 1..m) before the running max or min."""
    rank = np.arange(1, m + 1)
    factors = {
        "bonferroni": np.full(m, float(m)),
        "holm": (m - rank + 1).astype(float),
        "hochberg": (m - rank + 1).astype(float),
        "bh": m / rank,
        "by": m * np.sum(1.0 / rank) / rank,
    }
    return factors[method]


def _adjust(p: np.ndarray, method: str) -> np.ndarray:
    """Adjusted p-values of validated p-values, families along the last axis."""
    m = p.shape[-1]
    if method == "bonferroni":
        return np.minimum(m * p, 1.0)
    order = np.argsort(p, axis=-1, kind="stable")
    scaled = np.take_along_axis(p, order, axis=-1) * _step_factors(method, m)
    if method == "holm":
        adjusted_sorted = np.maximum.accumulate(scaled, axis=-1)
    else:
        adjusted_sorted = np.minimum.accumulate(scaled[..., ::-1], axis=-1)[..., ::-1]
    adjusted = np.empty_like(p)
    np.put_along_axis(adjusted, order, np.minimum(adjusted_sorted, 1.0), axis=-1)
    return adjusted


def adjust_pvalues(pvalues, method: str) -> np.ndarray:
    r"""Adjusted p-values of a family of tests (see the table in the module docstring).

    With the m p-values sorted, :math:`p_{(1)} \le \dots \le p_{(m)}`, each is multiplied by
    its step factor (``m`` for Bonferroni, ``m - i + 1`` for Holm and Hochberg, ``m / i`` for
    BH, ``m c(m) / i`` for BY with :math:`c(m) = \sum_{j=1}^m 1/j`); Holm then takes the
    running maximum from the smallest p-value up (step-down), Hochberg, BH and BY the running
    minimum from the largest down (step-up); everything is capped at 1 and returned in the
    input order. H_i is rejected at level alpha when its adjusted p-value is <= alpha.

    Parameters
    ----------
    pvalues : array of float in [0, 1]
        One family per row: a 1-D array is one family; a 2-D array (experiments x
        hypotheses) adjusts each row separately, the last axis being the hypotheses.
    method : {"bonferroni", "holm", "hochberg", "bh", "by"}
        "hochberg" is statsmodels' "simes-hochberg"; "bh" and "by" are "fdr_bh" and "fdr_by".

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, same shape and order as ``pvalues``, each >= the raw p-value and
        <= 1.

    References
    ----------
    Benjamini & Hochberg (1995), section 3; Benjamini & Yekutieli (2001), theorem 1.1;
    Holm (1979); Hochberg (1988). Wright, S. P. (1992), Adjusted p-values for simultaneous
    inference, *Biometrics* 48, 1005-1013.

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.04, 0.03], "bh")
    array([0.03, 0.04, 0.04])
    """
    return _adjust(_check_pvalues(pvalues), check_choice("method", method, METHODS))


@dataclass(frozen=True, repr=False, eq=False)
class MultipleTests(Record):
    """Result of :func:`multiple_tests`: adjusted p-values and decisions, in input order."""

    pvalues: np.ndarray
    adjusted: np.ndarray
    reject: np.ndarray
    n_rejected: int | np.ndarray
    method: str
    alpha: float

    def explain(self) -> str:
        """The step-by-step table (one family) or a summary (many families)."""
        level = format_number(self.alpha, 4)
        head = f"{self.method}: {_GUARANTEE[self.method].replace('alpha', level)}"
        if self.pvalues.ndim != 1:
            counts = np.asarray(self.n_rejected)
            return "\n".join([
                f"{counts.size} families of {self.pvalues.shape[-1]} hypotheses. " + head,
                f"  families with at least one rejection: {int(np.sum(counts > 0))}",
                f"  mean number of rejections per family: {format_number(counts.mean(), 4)}",
            ])
        m = self.pvalues.size
        factors = _step_factors(self.method, m)
        order = np.argsort(self.pvalues, kind="stable")
        rule = {
            "bonferroni": "adjusted = m p",
            "holm": "adjusted = running max of (m - i + 1) p_(i), from i = 1 up",
            "hochberg": "adjusted = running min of (m - i + 1) p_(i), from i = m down",
            "bh": "adjusted = running min of m p_(i) / i, from i = m down",
            "by": f"adjusted = running min of m c(m) p_(i) / i, c(m) = "
                  f"{format_number(float(np.sum(1 / np.arange(1, m + 1))), 4)}, from i = m down",
        }[self.method]
        lines = [
            head,
            f"  m = {m} hypotheses; {rule}; capped at 1; reject when adjusted <= {level}",
            "     i  hypothesis   p-value   factor  adjusted  reject",
        ]
        for i, index in enumerate(order):
            lines.append(
                f"  {i + 1:4d}  {index:10d}  {format_number(self.pvalues[index], 4):>8}"
                f"  {format_number(factors[i], 4):>7}  {format_number(self.adjusted[index], 4):>8}"
                f"  {'yes' if self.reject[index] else 'no'}"
            )
        lines.append(f"  {self.n_rejected} of {m} hypotheses rejected")
        return "\n".join(lines)


def multiple_tests(pvalues, *, method: str, alpha: float = 0.05) -> MultipleTests:
    """Adjust a family of p-values and decide which hypotheses to reject at level ``alpha``.

    H_i is rejected when its adjusted p-value (:func:`adjust_pvalues`) is <= ``alpha``; for
    the FDR methods ``alpha`` plays the role of the target FDR q.

    Parameters
    ----------
    pvalues : array of float in [0, 1]
        1-D: one family; 2-D: one family per row (experiments x hypotheses).
    method : {"bonferroni", "holm", "hochberg", "bh", "by"}
        See the module docstring for what each controls.
    alpha : float
        Family-wise error rate (Bonferroni, Holm, Hochberg) or false discovery rate (BH, BY).

    Returns
    -------
    MultipleTests
        ``pvalues``, ``adjusted``, ``reject`` (bool array), ``n_rejected`` (int, or an array
        with one count per family), ``method``, ``alpha`` and :meth:`~MultipleTests.explain`.

    References
    ----------
    Benjamini & Hochberg (1995), section 4 (the 15 p-values of their example: BH at q = 0.05
    rejects 4, Bonferroni 3).

    Examples
    --------
    >>> res = multiple_tests([0.01, 0.04, 0.03, 0.20], method="holm")
    >>> res.reject.tolist(), res.n_rejected
    ([True, False, False, False], 1)
    """
    p = np.array(_check_pvalues(pvalues))
    method = check_choice("method", method, METHODS)
    alpha = check_scalar("alpha", check_open_unit("alpha", alpha))
    adjusted = _adjust(p, method)
    reject = adjusted <= alpha
    counts = reject.sum(axis=-1)
    return MultipleTests(
        pvalues=p,
        adjusted=adjusted,
        reject=reject,
        n_rejected=int(counts) if counts.ndim == 0 else counts,
        method=method,
        alpha=alpha,
    )


def _check_bool(name: str, value) -> np.ndarray:
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):  # ragged nested sequences
        array = None
    if array is None or array.dtype != bool:
        raise TypeError(f"{name} must be an array of True/False, got {value!r}")
    return array


@dataclass(frozen=True, repr=False, eq=False)
class ErrorRates(Record):
    """Error rates of a multiple-testing procedure over simulated families (see
    :func:`error_rates`)."""

    fwer: float
    fdr: float
    power: float | None
    mean_rejections: float
    mean_false_rejections: float
    n_experiments: int


def error_rates(reject, is_null) -> ErrorRates:
    r"""Family-wise error rate, false discovery rate and power over many simulated families.

    In family (experiment) e let :math:`V_e` be the number of true null hypotheses rejected,
    :math:`R_e` the number of rejections and :math:`S_e = R_e - V_e` the true discoveries
    among the :math:`m_1` false nulls. Then

    * ``fwer`` = share of families with :math:`V_e \ge 1`,
    * ``fdr`` = mean of :math:`V_e / \max(R_e, 1)` (0 when nothing is rejected),
    * ``power`` = mean of :math:`S_e / m_1` (average power; ``None`` when every hypothesis
      is null), plus the mean numbers of rejections and of false rejections.

    Parameters
    ----------
    reject : 2-D bool array, experiments x hypotheses
        Decisions, e.g. ``multiple_tests(pvalues, method="bh").reject``.
    is_null : bool array
        True where the null hypothesis is true; one entry per hypothesis (broadcast over the
        experiments) or one per decision.

    Returns
    -------
    ErrorRates
        ``fwer``, ``fdr``, ``power``, ``mean_rejections``, ``mean_false_rejections``,
        ``n_experiments``.

    References
    ----------
    Benjamini & Hochberg (1995), section 2 (definition of the FDR).
    """
    reject = _check_bool("reject", reject)
    if reject.ndim != 2 or reject.size == 0:
        raise ValueError(
            f"reject must be a non-empty 2-D array (experiments x hypotheses), got shape "
            f"{reject.shape}"
        )
    is_null = _check_bool("is_null", is_null)
    try:
        is_null = np.broadcast_to(is_null, reject.shape)
    except ValueError:
        raise ValueError(
            f"is_null has shape {is_null.shape}, which does not fit reject's shape "
            f"{reject.shape}: give one entry per hypothesis or one per decision"
        ) from None
    false = np.sum(reject & is_null, axis=-1)
    total = np.sum(reject, axis=-1)
    n_alternative = np.sum(~is_null, axis=-1)
    power = None
    if np.all(n_alternative > 0):
        power = float(np.mean((total - false) / n_alternative))
    elif np.any(n_alternative > 0):
        raise ValueError("is_null must give every experiment some false null, or none any")
    return ErrorRates(
        fwer=float(np.mean(false > 0)),
        fdr=float(np.mean(false / np.maximum(total, 1))),
        power=power,
        mean_rejections=float(np.mean(total)),
        mean_false_rejections=float(np.mean(false)),
        n_experiments=int(reject.shape[0]),
    )


def simulate_pvalues(
    effects, *, n_experiments: int, rng, correlation: float = 0.0,
    alternative: str = "two-sided",
) -> np.ndarray:
    r"""P-values of many families of z-tests with known true effects.

    Family e has m test statistics :math:`Z_{ej} = \mu_j + \varepsilon_{ej}`, where
    :math:`\mu_j` = ``effects[j]`` is the mean of statistic j (0 for a true null; a
    standardised effect times the square root of the sample size otherwise) and the noise is
    standard normal with correlation ``correlation`` between any two tests of a family
    (:math:`\varepsilon_{ej} = \sqrt{r}\,W_e + \sqrt{1 - r}\,U_{ej}`, all W, U independent
    N(0, 1)). Families are independent. P-values are
    :math:`2(1 - \Phi(|Z|))` (two-sided), :math:`1 - \Phi(Z)` ("larger") or
    :math:`\Phi(Z)` ("smaller").

    Parameters
    ----------
    effects : 1-D array of float
        Mean of each test statistic; its length is the number of hypotheses m.
    n_experiments : int
        Number of families to draw (rows of the result), at most 1,000,000, and
        n_experiments * len(effects) at most about 5.6 million p-values.
    rng : numpy.random.Generator or int
        Source of randomness; an integer is a seed.
    correlation : float in [0, 1]
        Common correlation of the statistics within a family (0: independent tests).
        Two-sided tests on positively correlated statistics are not PRDS in general; use
        "larger" for a setting where BH and Hochberg are proven to hold.
    alternative : {"two-sided", "larger", "smaller"}

    Returns
    -------
    numpy.ndarray
        P-values, shape (n_experiments, m).

    Examples
    --------
    Twenty A/A metrics tested at 5% each: about 64% of experiments show a "significant" one.

    >>> p = simulate_pvalues([0.0] * 20, n_experiments=100_000, rng=1)
    >>> round(float((p < 0.05).any(axis=1).mean()), 2)
    0.64
    """
    mu = as_float_array("effects", effects)
    if mu.ndim != 1:
        raise ValueError(
            f"effects must be a 1-D array, one entry per hypothesis, got shape {mu.shape}"
        )
    size = check_int("n_experiments", n_experiments, minimum=1, maximum=MAX_EXPERIMENTS)
    check_work(f"n_experiments * len(effects) * {_PVALUE_COST} working numbers",
               float(size) * mu.size * _PVALUE_COST)
    r = check_scalar("correlation", check_closed_unit("correlation", correlation))
    alternative = check_alternative(alternative)
    generator = as_generator(rng)
    common = generator.standard_normal((size, 1))
    noise = generator.standard_normal((size, mu.size))
    z = mu + np.sqrt(r) * common + np.sqrt(1 - r) * noise
    if alternative == "two-sided":
        return 2 * stats.norm.sf(np.abs(z))
    return stats.norm.sf(z) if alternative == "larger" else stats.norm.cdf(z)


#: The most experiments one call of :func:`simulate_pvalues` or :func:`simulate_many_variants`
#: simulates.
MAX_EXPERIMENTS = 1_000_000
#: Working numbers counted per simulated p-value (the draws, z, |z| and the tail areas, plus
#: scipy's temporaries: about 16 held at once) with a margin for the time the normal tail
#: takes, so that any call the size check lets through finishes in a few seconds.
_PVALUE_COST = 48
#: The same per simulated count of :func:`simulate_many_variants`: the binomial draws and the
#: z-test's pooled rates, standard errors, statistics and p-values (about 28 numbers), with
#: a margin for the time the binomial draws and the test take.
_VARIANT_COST = 96


class SimulatedVariants(NamedTuple):
    """Simulated experiments with several variants against one shared control.

    ``x_control`` has one count per experiment, ``x_variants`` one row per experiment and one
    column per variant; ``pvalues`` (same shape) are the two-sided pooled z-tests of each
    variant against the shared control (:func:`abteach.inference.ztest_proportions`).
    """

    x_control: np.ndarray
    n_control: int
    x_variants: np.ndarray
    n_variant: int
    pvalues: np.ndarray


def simulate_many_variants(
    p_control, p_variants, n_control: int, n_variant: int, *, n_experiments: int, rng
) -> SimulatedVariants:
    r"""Simulate A/B/n experiments: k variants, each compared with one shared control.

    In each experiment the control converts :math:`X_c \sim \mathrm{Bin}(n_c, p_c)` and
    variant j converts :math:`X_j \sim \mathrm{Bin}(n_v, p_j)`, all independent; each variant
    is then tested against the control with the two-sided pooled z-test. The k tests share the
    control, so they are positively correlated: under H0 the correlation of two z statistics
    is :math:`(1/n_c) / (1/n_c + 1/n_v)`, 1/2 with equal arms. Uncorrected, the chance of at
    least one false winner among k = 4 null variants is then about 16% (19% if the tests were
    independent), far above 5%.

    The k comparisons are one family: correct across them (``multiple_tests(sim.pvalues,
    method="holm")``). Dunnett's procedure uses the known correlation of 1/2 to get the exact
    critical value of max abs(Z_j) and is slightly less conservative than Bonferroni or Holm; for
    raw samples it is ``scipy.stats.dunnett``. Giving the control more units
    (:math:`n_c = \sqrt{k}\,n_v` is Dunnett's classical allocation) makes every comparison
    more precise.

    Parameters
    ----------
    p_control : float
        Control conversion rate, in [0, 1].
    p_variants : 1-D array of float
        True conversion rate of each variant; equal to ``p_control`` for a null variant.
    n_control, n_variant : int
        Units in the control and in each variant (>= 1).
    n_experiments : int
        Number of experiments to simulate, at most 1,000,000, and
        n_experiments * (1 + len(p_variants)) at most about 2.8 million counts.
    rng : numpy.random.Generator or int
        Source of randomness; an integer is a seed.

    Returns
    -------
    SimulatedVariants
        ``(x_control, n_control, x_variants, n_variant, pvalues)``.

    References
    ----------
    Dunnett (1955); Kohavi, Tang & Xu (2020), ch. 17 (multiple variants and metrics).
    """
    p_c = check_scalar("p_control", check_closed_unit("p_control", p_control))
    p_v = check_closed_unit("p_variants", p_variants)
    if p_v.ndim != 1:
        raise ValueError(
            f"p_variants must be a 1-D array, one rate per variant, got shape {p_v.shape}"
        )
    n_c = check_int("n_control", n_control, minimum=1, maximum=2**53)
    n_v = check_int("n_variant", n_variant, minimum=1, maximum=2**53)
    size = check_int("n_experiments", n_experiments, minimum=1, maximum=MAX_EXPERIMENTS)
    check_work(f"n_experiments * (1 + len(p_variants)) * {_VARIANT_COST} working numbers",
               float(size) * (1 + p_v.size) * _VARIANT_COST)
    generator = as_generator(rng)
    x_control = generator.binomial(n_c, p_c, size=size).astype(np.int64)
    x_variants = generator.binomial(n_v, p_v, size=(size, p_v.size)).astype(np.int64)
    pvalues = ztest_proportions(x_control[:, None], n_c, x_variants, n_v).pvalue
    return SimulatedVariants(x_control, n_c, x_variants, n_v, np.asarray(pvalues))
