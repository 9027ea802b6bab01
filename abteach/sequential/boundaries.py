r"""Group-sequential designs: critical values per look and their operating characteristics.

Plan the looks, and reject at look k only when abs(Z_k) >= b_k, with critical values b_k
chosen so that the chance of ever crossing under H0 is exactly alpha. Pocock (1977) uses one
constant; O'Brien & Fleming (1979) use b_k = C sqrt(K / k), very strict early and close to the
fixed-design value at the end; spending functions (:mod:`abteach.sequential.spending`) solve
b_k look by look. :func:`crossing_probabilities` and :func:`design_characteristics` give the
power and the maximum and expected sample sizes of a design.

References
----------
Pocock, S. J. (1977), Group sequential methods in the design and analysis of clinical trials,
*Biometrika* 64, 191-199.
O'Brien, P. C. & Fleming, T. R. (1979), A multiple testing procedure for clinical trials,
*Biometrics* 35, 549-556.
Jennison, C. & Turnbull, B. W. (2000), *Group Sequential Methods with Applications to Clinical
Trials*, Chapman & Hall/CRC: ch. 2 (Tables 2.1, 2.3), ch. 7, ch. 19.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

from abteach._records import Record, format_number
from abteach._validate import (
    check_alternative,
    check_choice,
    check_open_unit,
    check_scalar,
)
from abteach.sequential._checks import (
    _check_design_alpha,
    _check_drift,
    _check_looks,
    _check_parameters,
    _check_user_spending,
)
from abteach.sequential._recursion import (
    _XTOL,
    _classic_constant,
    _classic_shape,
    _crossing,
    _expected_fraction,
    _limits,
    _spending_boundaries,
)
from abteach.sequential.spending import CLASSIC_METHODS, METHODS, _total_spending

__all__ = [
    "CrossingProbabilities",
    "DesignCharacteristics",
    "GroupSequentialDesign",
    "boundaries",
    "crossing_probabilities",
    "design_characteristics",
]

_DESCRIPTION = {
    "pocock": "Pocock: the same critical value C at every look",
    "obf": "O'Brien-Fleming: b_k = C sqrt(t_K / t_k), strict early, lenient late",
    "ld-obf": "Lan-DeMets O'Brien-Fleming-type spending",
    "ld-pocock": "Lan-DeMets Pocock-type spending, alpha(t) = alpha log(1 + (e - 1) t)",
    "hsd": "Hwang-Shih-DeCani spending, alpha(t) = alpha (1 - exp(-gamma t)) / (1 - exp(-gamma))",
    "power": "power-family spending, alpha(t) = alpha t^rho",
    "user": "user-given cumulative alpha spent at each look",
}
_NULL = np.zeros(1)  # drift 0, for the recursion


@dataclass(frozen=True, repr=False, eq=False)
class GroupSequentialDesign(Record):
    """A group-sequential design: critical values per look (see :func:`boundaries`).

    Reject H0 at the first look k with abs(Z_k) >= ``critical_values[k]`` (two-sided), Z_k >=
    b_k ("larger") or Z_k <= -b_k ("smaller"). ``nominal_pvalues[k]`` is the same rule on the
    p-value scale (reject when the ordinary fixed-sample p-value at look k is <= it);
    ``cumulative_alpha[k]`` is the exact probability under H0 of stopping by look k.
    """

    critical_values: np.ndarray
    information_fractions: np.ndarray
    cumulative_alpha: np.ndarray
    nominal_pvalues: np.ndarray
    alpha: float
    method: str
    alternative: str
    constant: float | None = None
    gamma: float | None = None
    rho: float | None = None

    @property
    def n_looks(self) -> int:
        return int(self.critical_values.size)

    def explain(self) -> str:
        """The rule, the formula used and a look-by-look table."""
        a = format_number(self.alpha, 4)
        if self.alternative == "two-sided":
            head = (f"Two-sided group-sequential design, alpha = {a} "
                    f"({format_number(self.alpha / 2, 4)} per side, spent symmetrically)")
            rule = "reject H0 at the first look k with |Z_k| >= b_k"
        else:
            sign = ">= b_k" if self.alternative == "larger" else "<= -b_k"
            head = f"One-sided ({self.alternative}) group-sequential design, alpha = {a}"
            rule = f"reject H0 at the first look k with Z_k {sign}"
        detail = _DESCRIPTION[self.method]
        if self.method in CLASSIC_METHODS:
            detail += f", C = {format_number(self.constant, 6)} (solved so the total is alpha)"
        elif self.method == "ld-obf":
            level = self.alpha / 2 if self.alternative == "two-sided" else self.alpha
            z = format_number(float(-ndtri(level / 2)), 6)
            detail += (f": alpha_1(t) = 2 - 2 Phi(z_(1-{format_number(level / 2, 4)}) / sqrt(t)) "
                       f"= 2 - 2 Phi({z} / sqrt(t))"
                       + (" per side" if self.alternative == "two-sided" else ""))
        elif self.method == "hsd":
            detail += f", gamma = {format_number(self.gamma, 4)}"
        elif self.method == "power":
            detail += f", rho = {format_number(self.rho, 4)}"
        lines = [
            head,
            f"  {detail}",
            f"  {rule}; {self.n_looks} look(s)",
            "   look  fraction   boundary  nominal p  cumulative alpha",
        ]
        for k in range(self.n_looks):
            lines.append(
                f"  {k + 1:5d}  {self.information_fractions[k]:8.4f}  "
                f"{format_number(self.critical_values[k], 6):>9}  "
                f"{format_number(self.nominal_pvalues[k], 4):>9}  "
                f"{format_number(self.cumulative_alpha[k], 4):>16}"
            )
        lines.append(
            "  Probabilities by recursive numerical integration (Armitage, McPherson & Rowe "
            "1969; Jennison & Turnbull 2000, ch. 19)."
        )
        return "\n".join(lines)


def boundaries(
    looks,
    *,
    alpha: float = 0.05,
    method: str = "obf",
    gamma: float | None = None,
    rho: float | None = None,
    cumulative_alpha=None,
    alternative: str = "two-sided",
) -> GroupSequentialDesign:
    r"""Critical values of a group-sequential design.

    A two-sided design spends alpha/2 per side, symmetrically (gsDesign ``test.type = 2``,
    rpact ``sided = 2``, ldbounds): it rejects H0 at the first look k with
    :math:`|Z_k| \ge b_k`, and :math:`P_{H_0}(\text{some } |Z_k| \ge b_k) = \alpha` exactly.

    * ``"pocock"``: :math:`b_k = C_P` at every look (Pocock 1977);
    * ``"obf"``: :math:`b_k = C_B \sqrt{t_K / t_k}` (O'Brien & Fleming 1979; with equal
      spacing :math:`C_B \sqrt{K / k}`). For both, the constant is the root, by Brent's method,
      of "total crossing probability under H0 = alpha", so the whole alpha is spent by the
      last look even when it comes before t = 1.
    * spending methods (``"ld-obf"``, ``"ld-pocock"``, ``"hsd"`` with ``gamma``, ``"power"``
      with ``rho``, see :func:`alpha_spending`; ``"user"`` with ``cumulative_alpha``): b_k is
      solved look by look so that the probability of stopping at look k under H0 equals
      :math:`\alpha(t_k) - \alpha(t_{k-1})`. With a last look before t = 1 only
      :math:`\alpha(t_K)` is spent (as in gsDesign and rpact). A spending increment below
      1e-30 (the first of hundreds of ``ld-obf`` looks) gives :math:`b_k = \infty`: that look
      cannot stop the experiment.

    Probabilities come from the recursive numerical integration of Armitage, McPherson & Rowe
    (1969) described in :mod:`abteach.sequential` (accurate to about 1e-9).

    Parameters
    ----------
    looks : int or sequence of float
        A number of equally spaced looks K (fractions 1/K, 2/K, ..., 1), or the information
        fractions of the looks, strictly increasing in (0, 1], e.g. ``[0.3, 0.6, 0.8]``.
    alpha : float
        Type I error: two-sided total (alpha/2 per side) unless ``alternative`` is one-sided;
        at least 1e-12 (``MIN_ALPHA``).
    method : {"obf", "pocock", "ld-obf", "ld-pocock", "hsd", "power", "user"}
    gamma : float, required for and only for ``"hsd"``
    rho : float, required for and only for ``"power"``
    cumulative_alpha : sequence of float, required for and only for ``"user"``
        Total alpha spent by each look: one value per look, non-decreasing, in [0, alpha].
    alternative : {"two-sided", "larger", "smaller"}
        One-sided designs spend the whole alpha on one side and reject when Z_k >= b_k
        ("larger") or Z_k <= -b_k ("smaller").

    Returns
    -------
    GroupSequentialDesign
        ``critical_values``, ``information_fractions``, ``cumulative_alpha`` (exact, by
        look), ``nominal_pvalues`` (two-sided :math:`2(1 - \Phi(b_k))`, one-sided
        :math:`1 - \Phi(b_k)`), the inputs, ``constant`` (C_P or C_B) and ``explain()``.

    References
    ----------
    Jennison & Turnbull (2000), Tables 2.1 (Pocock C_P(K)) and 2.3 (O'Brien-Fleming C_B(K)),
    ch. 7 (spending functions), ch. 19 (computation); Lan & DeMets (1983).

    Examples
    --------
    >>> boundaries(5, method="obf").critical_values.round(3)
    array([4.562, 3.226, 2.634, 2.281, 2.04 ])
    >>> boundaries(5, method="ld-obf").critical_values.round(3)
    array([4.877, 3.357, 2.68 , 2.29 , 2.031])

    Pocock's and O'Brien-Fleming's constants for five looks (Jennison & Turnbull 2000,
    Tables 2.1 and 2.3: C_P(5) = 2.413, C_B(5) = 2.040):

    >>> round(boundaries(5, method="pocock").constant, 3), round(boundaries(5).constant, 3)
    (2.413, 2.04)
    """
    t = _check_looks(looks)
    alpha = _check_design_alpha(alpha)
    method = check_choice("method", method, METHODS)
    alternative = check_alternative(alternative)
    gamma, rho = _check_parameters(method, gamma, rho, cumulative_alpha)
    two_sided = alternative == "two-sided"
    constant = None
    if method in CLASSIC_METHODS:
        shape = _classic_shape(t, method)
        constant, crossed = _classic_constant(t, shape, alpha, alternative)
        critical = constant * shape
    else:
        if method == "user":
            spent = _check_user_spending(cumulative_alpha, t.size, alpha)
        else:
            spent = _total_spending(t, alpha, method, gamma, rho, alternative)
        critical, crossed = _spending_boundaries(t, spent, two_sided)
    return GroupSequentialDesign(
        critical_values=critical,
        information_fractions=t,
        cumulative_alpha=np.cumsum(crossed),
        nominal_pvalues=(2.0 if two_sided else 1.0) * ndtr(-critical),
        alpha=alpha,
        method=method,
        alternative=alternative,
        constant=constant,
        gamma=gamma,
        rho=rho,
    )


def _check_design(design) -> GroupSequentialDesign:
    if not isinstance(design, GroupSequentialDesign):
        raise TypeError(
            "design must be a GroupSequentialDesign (from boundaries()), got "
            f"{type(design).__name__}"
        )
    return design


# --- operating characteristics ---------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class CrossingProbabilities(Record):
    """Boundary-crossing probabilities of a design at given drifts (see
    :func:`crossing_probabilities`). With an array of drifts every field has one row per
    drift."""

    drift: float | np.ndarray
    upper: np.ndarray
    lower: np.ndarray
    total: float | np.ndarray
    expected_fraction: float | np.ndarray


def crossing_probabilities(design: GroupSequentialDesign, drift) -> CrossingProbabilities:
    r"""Probability of stopping at each look, by crossing the upper or the lower boundary.

    With :math:`E[Z_k] = \theta \sqrt{t_k}` (``drift`` = theta, the expected z-statistic at
    full information), ``upper[k]`` = P(no crossing before look k and :math:`Z_k \ge`
    upper boundary), ``lower[k]`` likewise for the lower boundary (zero for a one-sided
    "larger" design). At drift 0 their sum is the design's alpha; for drift > 0 the sum of
    ``upper`` is the power. ``expected_fraction`` is the expected information fraction at the
    end of the experiment: :math:`\sum_{k<K} t_k P(\text{stop at } k) + t_K P(\text{reach } K)`.

    Parameters
    ----------
    design : GroupSequentialDesign
    drift : float or 1-D array of float
        Expected z-statistic at full information (t = 1); negative for a harmful treatment.
        At most 1e6 in absolute value (``MAX_DRIFT``).

    Returns
    -------
    CrossingProbabilities
        ``drift``, ``upper``, ``lower`` (by look), ``total`` (probability of rejecting H0) and
        ``expected_fraction``.

    References
    ----------
    Jennison & Turnbull (2000), ch. 19; gsDesign ``gsProbability``.

    Examples
    --------
    >>> design = boundaries(5, method="obf")
    >>> round(crossing_probabilities(design, 0.0).total, 6)  # alpha
    0.05
    """
    design = _check_design(design)
    d = _check_drift(drift)
    t = design.information_fractions
    up, down = _crossing(t, *_limits(design.critical_values, design.alternative), d.ravel())
    expected = _expected_fraction(t, up + down)
    total = np.sum(up + down, axis=1)
    if d.ndim == 0:
        return CrossingProbabilities(float(d), up[0], down[0], float(total[0]), float(expected[0]))
    return CrossingProbabilities(d, up, down, total, expected)


@dataclass(frozen=True, repr=False, eq=False)
class DesignCharacteristics(Record):
    """Sample-size consequences of a design (see :func:`design_characteristics`)."""

    power: float
    drift: float
    drift_fixed: float
    inflation_factor: float
    expected_n_h0: float
    expected_n_h1: float
    power_by_look: np.ndarray
    design: GroupSequentialDesign = field(repr=False)

    def explain(self) -> str:
        f = lambda x: format_number(x, 5)  # noqa: E731
        return "\n".join([
            f"Fixed design with the same alpha and power {f(self.power)}: drift "
            f"z_alpha + z_power = {f(self.drift_fixed)}, sample size n_fixed.",
            f"Group-sequential design ({self.design.method}, {self.design.n_looks} looks): "
            f"drift {f(self.drift)} needed at t = 1 for the same power.",
            f"  maximum sample size = t_K (drift / drift_fixed)^2 n_fixed = "
            f"{f(self.inflation_factor)} n_fixed",
            f"  expected sample size under H0 = {f(self.expected_n_h0)} n_fixed, "
            f"under H1 = {f(self.expected_n_h1)} n_fixed",
            "  cumulative power by look: "
            + ", ".join(format_number(p, 4) for p in self.power_by_look),
        ])


def design_characteristics(
    design: GroupSequentialDesign, *, power: float = 0.8
) -> DesignCharacteristics:
    r"""Maximum and expected sample size of a design, relative to a fixed design.

    A fixed design with the same alpha and power needs drift
    :math:`\theta_f = z_{1-\alpha/2} + z_{power}` (one-sided: :math:`z_{1-\alpha}`), i.e.
    sample size :math:`n_f \propto \theta_f^2`. The group-sequential design needs the drift
    :math:`\theta` (at t = 1) for which the probability of crossing the boundary on the side
    of the effect equals ``power`` (solved by Brent's method).

    **Convention: power counts the hoped-for direction only.** For a two-sided design, a
    crossing of the opposite boundary under the alternative (rejecting H0 with the wrong
    sign) does not count as power. This is the convention of SAS PROC SEQDESIGN, gsDesign and
    rpact, which is why the values agree with their tables; the probability of rejecting H0
    on either side is ``crossing_probabilities(design, drift).total``, larger by the
    wrong-side crossing (about 2e-5 for four Pocock looks at 90% power). Then

    * ``inflation_factor`` = maximum sample size / n_f = :math:`t_K (\theta/\theta_f)^2`;
    * ``expected_n_h0``, ``expected_n_h1`` = expected sample size / n_f under H0 and under
      drift theta: ``expected_fraction`` :math:`\times (\theta/\theta_f)^2`.

    Parameters
    ----------
    design : GroupSequentialDesign
    power : float in (0, 1)
        Must exceed the design's probability of crossing that side under H0.

    Returns
    -------
    DesignCharacteristics
        ``power``, ``drift``, ``drift_fixed``, ``inflation_factor``, ``expected_n_h0``,
        ``expected_n_h1``, ``power_by_look`` (cumulative) and ``explain()``.

    References
    ----------
    Jennison & Turnbull (2000), ch. 2 (ratios of maximum to fixed sample size) and ch. 7;
    rpact ``getDesignCharacteristics`` (``inflationFactor``, ``averageSampleNumber0/1``).

    Examples
    --------
    >>> round(design_characteristics(boundaries(5, method="obf"), power=0.9).inflation_factor, 3)
    1.026
    """
    design = _check_design(design)
    power = check_scalar("power", check_open_unit("power", power))
    t = design.information_fractions
    # Work on the side of the effect: mirror a "smaller" design into a "larger" one.
    alternative = "larger" if design.alternative == "smaller" else design.alternative
    lower, upper = _limits(design.critical_values, alternative)
    side_alpha = design.alpha / 2 if design.alternative == "two-sided" else design.alpha
    _check_power_above_null(power, side_alpha, float(_crossing(t, lower, upper, _NULL)[0].sum()))

    def shortfall(theta: float) -> float:
        return float(_crossing(t, lower, upper, np.array([theta]))[0].sum()) - power

    drift_fixed = float(-ndtri(side_alpha)) + float(ndtri(power))  # z_(1-alpha) + z_power
    drift = brentq(shortfall, 0.0, _drift_bracket(shortfall, drift_fixed, t[-1], power),
                   xtol=_XTOL)
    ratio = (drift / drift_fixed) ** 2
    up0, down0 = _crossing(t, lower, upper, _NULL)
    up1, down1 = _crossing(t, lower, upper, np.array([drift]))
    return DesignCharacteristics(
        power=power,
        drift=drift,
        drift_fixed=drift_fixed,
        inflation_factor=float(t[-1] * ratio),
        expected_n_h0=float(_expected_fraction(t, up0[0] + down0[0]) * ratio),
        expected_n_h1=float(_expected_fraction(t, up1[0] + down1[0]) * ratio),
        power_by_look=np.cumsum(up1[0]),
        design=design,
    )


def _check_power_above_null(power: float, side_alpha: float, null_crossing: float) -> None:
    """The power asked for must exceed what the fixed test and the design reach under H0."""
    if power <= side_alpha:
        raise ValueError(
            f"power must exceed the fixed test's rejection rate on that side under H0 "
            f"({format_number(side_alpha, 4)}), got {power!r}"
        )
    if power <= null_crossing:
        raise ValueError(
            f"power must exceed the design's crossing probability under H0 on that side "
            f"({format_number(null_crossing, 4)}), got {power!r}"
        )


def _drift_bracket(shortfall, drift_fixed: float, last_fraction: float, power: float) -> float:
    """A drift at which ``shortfall`` >= 0 (doubling from about twice the fixed design's)."""
    high = 2.0 * drift_fixed / math.sqrt(last_fraction) + 2.0
    while shortfall(high) < 0:
        if high > 1e3:
            raise ValueError(
                f"power {power!r} cannot be reached: the design's boundaries on the side of "
                "the effect are (almost) never crossed"
            )
        high *= 2.0
    return high
