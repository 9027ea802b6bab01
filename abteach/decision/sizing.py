r"""Sizing for the decision actually made: the ship rule, non-inferiority and equivalence.

Chapter 2 (sections 2.8 and 2.9), used by chapters 11 and 13. The functions of
:mod:`abteach.power` size a test of "no difference". A team rarely decides on that test alone:

* it **ships** when the primary metric is significant AND its estimate is at least the smallest
  effect worth shipping, ``minimum_effect`` (the rule of :func:`abteach.decide`). At the sample
  size that gives 80% power at the MDE, a rule with ``minimum_effect`` = MDE ships only about
  half of the experiments whose true effect is the MDE;
* a **guardrail** passes when a one-sided bound rules out a degradation beyond its margin: a
  non-inferiority test at one-sided ``alpha`` (:func:`abteach.guardrail_check`);
* "**no worthwhile change**" is established by two one-sided tests (TOST), each at ``alpha``.

Every function works on sufficient design quantities and broadcasts numpy arrays, like
:mod:`abteach.power`. ``effect`` is the true difference treatment minus control in the metric's
own units (absolute rate difference for a conversion rate); ``minimum_effect`` and ``margin``
are in the same units. Give ``sd`` for a mean (both arms share it) or ``p_control`` for a
proportion (the treatment rate is then ``p_control + effect``). Sample sizes are the control
arm's, unrounded; the treatment arm gets ``ratio`` times as many.

All formulas are normal approximations (known variance). For the sample sizes of online
experiments the t-distribution changes nothing visible; for a few dozen units per arm use the
t-based exact power of Julious (2004).

References
----------
Chow, S.-C., Shao, J. & Wang, H. (2008). *Sample Size Calculations in Clinical Research*,
2nd ed., Chapman & Hall, sections 3.2 (two means) and 4.2 (two proportions).
Julious, S. A. (2004). Sample sizes for clinical trials with normal data. *Statistics in
Medicine* 23, 1921-1986.
Schuirmann, D. J. (1987). A comparison of the two one-sided tests procedure and the power
approach for assessing the equivalence of average bioavailability. *Journal of
Pharmacokinetics and Biopharmaceutics* 15, 657-680.
Kohavi, R., Tang, D. & Xu, Y. (2020). *Trustworthy Online Controlled Experiments*, Cambridge
University Press, ch. 2 (practical significance) and ch. 21 (guardrails).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from abteach._validate import (
    as_float_array,
    broadcast,
    check_choice,
    check_nonnegative,
    check_open_unit,
    check_positive,
    first_bad,
    scalar_or_array,
)
from abteach.power import (
    _check_ratio,
    _critical_z,
    _Design,
    _mean_design,
    _normal_power,
    _normal_sample_size,
    _one_tail_root_n,
    _proportion_design,
    _refuse_where,
    _representable,
    _solve_increasing,
)

__all__ = [
    "power_ship_rule",
    "sample_size_ship_rule",
    "power_noninferiority",
    "sample_size_noninferiority",
    "power_equivalence",
    "sample_size_equivalence",
]

DIRECTIONS = ("increase", "decrease")


# --------------------------------------------------------------------------------------------
# Shared set-up: the design of a mean or of a proportion, on a standardized scale
# --------------------------------------------------------------------------------------------


def _metric_arrays(effect, sd, p_control, threshold_name, threshold, extra):
    """Validate and broadcast; return (effect, unit, p_control or None, threshold, *extra).

    ``unit`` is ``sd`` for a mean and 1 for a proportion: effects divided by it are on the
    scale of the design's per-unit standard deviations.
    """
    if (sd is None) == (p_control is None):
        raise TypeError(
            "give exactly one of sd (a mean) or p_control (a proportion), got "
            f"sd={sd!r} and p_control={p_control!r}"
        )
    checked = {
        "effect": as_float_array("effect", effect),
        "sd" if p_control is None else "p_control": (
            check_positive("sd", sd) if p_control is None
            else check_open_unit("p_control", p_control)
        ),
        threshold_name: check_nonnegative(threshold_name, threshold),
        **extra,
    }
    effect, base, threshold, *rest = broadcast(**checked)
    if p_control is None:
        with np.errstate(over="ignore"):
            largest = np.maximum(np.abs(effect), threshold) / base
        _refuse_where(
            ~np.isfinite(largest),
            f"sd is so small that effect / sd or {threshold_name} / sd overflows a float; got "
            f"sd, effect and {threshold_name} {{}}",
            base, effect, threshold,
        )
        return (effect, base, None, threshold, *rest)
    p_treatment = base + effect
    _refuse_where(
        (p_treatment <= 0) | (p_treatment >= 1),
        "p_control + effect (the treatment rate) must be in (0, 1); got p_control and "
        "effect {}",
        base,
        effect,
    )
    return (effect, np.ones_like(base), base, threshold, *rest)


def _design(effect, unit, p_control, ratio, method: str) -> _Design:
    """The normal design of :mod:`abteach.power`: ``method`` "pooled" or "unpooled" for a
    proportion (the null sd of the equality test, or the Wald sd), the z design for a mean."""
    if p_control is None:
        with np.errstate(over="ignore", under="ignore"):
            return _mean_design(effect / unit, ratio)
    design = _proportion_design(p_control, p_control + effect, ratio, method)
    return design._replace(effect=effect)  # not (p_control + effect) - p_control: round-off


def _directed(effect, direction: str, choices=DIRECTIONS) -> np.ndarray:
    """The effect measured in the good direction (positive = better)."""
    return effect if direction == choices[0] else -effect


def _quoted(effect, p_control, unit, threshold_name, threshold):
    """Names and values quoted when a sample size is not representable."""
    base = ("p_control", p_control) if p_control is not None else ("sd", unit)
    names = f"effect, {threshold_name} and {base[0]}"
    return names, (effect, threshold, base[1])


# --------------------------------------------------------------------------------------------
# The ship rule: significant AND estimate >= minimum_effect
# --------------------------------------------------------------------------------------------


def _ship_setup(effect, n_extra, minimum_effect, sd, p_control, alpha, ratio, direction):
    check_choice("direction", direction, DIRECTIONS)
    effect, unit, p_c, minimum, alpha, ratio, *rest = _metric_arrays(
        effect, sd, p_control, "minimum_effect", minimum_effect,
        {"alpha": check_open_unit("alpha", alpha), "ratio": _check_ratio(ratio), **n_extra},
    )
    design = _design(effect, unit, p_c, ratio, "pooled")
    good = _directed(design.effect, direction)
    return design, good, minimum / unit, alpha, effect, unit, p_c, rest


def power_ship_rule(
    effect,
    n_control,
    *,
    minimum_effect,
    sd=None,
    p_control=None,
    alpha=0.05,
    ratio=1.0,
    direction="increase",
):
    r"""Probability that the ship rule ships: significant at ``alpha`` AND estimate >= the
    smallest effect worth shipping.

    The rule of :func:`abteach.decide`: a two-sided test at ``alpha`` is significant in the
    hoped ``direction`` and the estimate is at least ``minimum_effect`` in that direction.
    With the estimate :math:`\hat\Delta \approx N(\Delta, SE_1^2)` and the test significant
    when :math:`\hat\Delta > z_{1-\alpha/2}\,SE_0` (in the hoped direction),

    .. math::

        P(\text{ship}) = P\bigl(\hat\Delta \ge \max(\delta,\ z_{1-\alpha/2} SE_0)\bigr)
        = \Phi\!\left(\frac{\Delta - \max(\delta,\ z_{1-\alpha/2} SE_0)}{SE_1}\right),

    :math:`\delta` = ``minimum_effect``. For a mean :math:`SE_0 = SE_1 = sd\sqrt{(1 + 1/r)/n}`;
    for a proportion :math:`SE_0` is the pooled standard error of the z-test and :math:`SE_1`
    the unpooled one (as in ``sample_size_proportions(method="pooled")``).

    The opposite tail: a two-sided test also rejects when the estimate lands far on the wrong
    side, but such an experiment is never shipped (its estimate is below
    ``minimum_effect`` >= 0), so the formula has no second term; it is not an approximation.
    When :math:`\delta \le z_{1-\alpha/2} SE_0` the rule is the test alone and the result is
    the ordinary one-tail power (``power_proportions``); when :math:`\Delta = \delta` above
    that, it is exactly 1/2, whatever n.

    For a proportion the estimate is a difference of two binomial shares, so the normal
    distribution of :math:`\hat\Delta` is itself an approximation: at 0.10 vs 0.12 with
    :math:`\delta` = 0.015 and the n of :func:`sample_size_ship_rule` (5,542 per arm, designed
    0.800) two million simulated experiments shipped 0.797 of the time, 0.3 points below
    (``tests/test_sizing.py``). The gap shrinks as n grows.

    Parameters
    ----------
    effect : float or array
        True difference treatment minus control (metric units; absolute for a rate).
    n_control : float or array
        Units in the control arm (the treatment arm has ``ratio * n_control``).
    minimum_effect : float or array
        Smallest effect worth shipping (>= 0), in the same units, as a magnitude.
    sd : float or array, optional
        Standard deviation per unit of a mean metric (give this or ``p_control``).
    p_control : float or array, optional
        Control rate of a proportion metric; the treatment rate is ``p_control + effect``.
    alpha : float or array
        Two-sided significance level of the test.
    ratio : float or array
        n_treatment / n_control.
    direction : {"increase", "decrease"}
        The direction the team hopes for (as in :func:`abteach.decide`).

    Returns
    -------
    float or numpy.ndarray

    References
    ----------
    Kohavi, Tang & Xu (2020), ch. 2 (Figure 2.4, practical significance).

    Examples
    --------
    >>> round(power_ship_rule(0.02, 3841, minimum_effect=0.02, p_control=0.10), 4)
    0.5
    """
    design, good, minimum, alpha, *_, (n,) = _ship_setup(
        effect, {"n_control": check_positive("n_control", n_control)}, minimum_effect, sd,
        p_control, alpha, ratio, direction,
    )
    root_n = np.sqrt(n)
    with np.errstate(over="ignore"):  # an astronomical effect just gives probability 1
        threshold = np.maximum(minimum, _critical_z(alpha, "two-sided") * design.s_null / root_n)
        return scalar_or_array(special.ndtr((good - threshold) * root_n / design.s_alt))


def sample_size_ship_rule(
    effect,
    *,
    minimum_effect,
    sd=None,
    p_control=None,
    alpha=0.05,
    power=0.8,
    ratio=1.0,
    direction="increase",
):
    r"""Control-arm sample size at which the ship rule ships with probability ``power``.

    The inverse of :func:`power_ship_rule`. The rule ships when the estimate clears both
    :math:`z_{1-\alpha/2} SE_0` and :math:`\delta`, so it reaches ``power`` when each bar
    alone is cleared with that probability, and n is the larger of two closed forms
    (:math:`s_0, s_1` the per-unit standard deviations, :math:`SE = s/\sqrt n`):

    .. math::

        n = \max\left(
        \frac{(z_{1-\alpha/2}\,s_0 + z_{\text{power}}\,s_1)^2}{\Delta^2},\
        \frac{z_{\text{power}}^2\, s_1^2}{(\Delta - \delta)^2}
        \right)

    (the second term only when power > 1/2). The first is the ordinary sample size; the
    second is what the ship threshold demands, and it dominates as soon as
    :math:`\delta` is more than about :math:`z_{1-\alpha/2}/(z_{1-\alpha/2} + z_{power})` of
    the effect (70% at alpha 0.05 and power 0.8).

    Raises ``ValueError`` when the true ``effect`` (in the hoped direction) is not above
    ``minimum_effect`` while ``power`` > 1/2: the estimate then falls below the ship threshold
    at least half of the time, whatever n.

    Examples
    --------
    >>> round(sample_size_ship_rule(0.02, minimum_effect=0.0, p_control=0.10), 3)  # as R
    3840.847
    """
    design, good, minimum, alpha, effect, unit, p_c, (power,) = _ship_setup(
        effect, {"power": check_open_unit("power", power)}, minimum_effect, sd, p_control,
        alpha, ratio, direction,
    )
    _refuse_where(
        good <= 0,
        f"effect must be in the hoped direction ({direction!r}) for the rule to ship at "
        "all; got effect {}",
        effect,
    )
    _refuse_where(
        (good <= minimum) & (power > 0.5),
        "effect must exceed minimum_effect for the ship rule to reach power > 0.5 (the "
        "estimate falls below minimum_effect at least half of the time); got effect, "
        "minimum_effect and power {}",
        effect, minimum * unit, power,
    )
    z_crit, z_power = _critical_z(alpha, "two-sided"), special.ndtri(power)
    _refuse_where(
        z_crit * design.s_null + z_power * design.s_alt <= 0,
        "power is too low: the test alone already reaches it as n_control -> 0; got power "
        "and alpha {}",
        power, alpha,
    )
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        root_test = _one_tail_root_n(good, design.s_null, design.s_alt, z_crit, z_power, 0.0)
        root_rule = np.where(
            power > 0.5,
            _one_tail_root_n(good - minimum, design.s_null, design.s_alt, 0.0, z_power, 0.0),
            0.0,
        )
    names, quoted = _quoted(effect, p_c, unit, "minimum_effect", minimum * unit)
    n = _representable(np.maximum(root_test, root_rule) ** 2, names, quoted)
    return scalar_or_array(n)


# --------------------------------------------------------------------------------------------
# Non-inferiority (a guardrail with a margin) and equivalence (TOST)
# --------------------------------------------------------------------------------------------


def _margin_setup(effect, n_extra, margin, sd, p_control, alpha, ratio):
    """The Wald design of a test against a margin, and the margin on its scale."""
    effect, unit, p_c, margin_, alpha, ratio, *rest = _metric_arrays(
        effect, sd, p_control, "margin", margin,
        {"alpha": check_open_unit("alpha", alpha), "ratio": _check_ratio(ratio), **n_extra},
    )
    _refuse_where(margin_ == 0, "margin must be > 0, got {}", margin_)
    design = _design(effect, unit, p_c, ratio, "unpooled")
    return design, margin_ / unit, alpha, effect, unit, p_c, rest


def _shifted(design: _Design, shift) -> _Design:
    """One one-sided test against a margin: the distance of the truth from its null bound."""
    return _Design(shift, design.s_alt, design.s_alt, 0.0, False)


def power_noninferiority(
    effect,
    n_control,
    *,
    margin,
    sd=None,
    p_control=None,
    alpha=0.05,
    ratio=1.0,
    bad_direction="decrease",
):
    r"""Power of a non-inferiority test: rule out a degradation larger than ``margin``.

    A guardrail whose ``bad_direction`` is "decrease" (a conversion rate, revenue) tests
    :math:`H_0: \Delta \le -m` against :math:`H_1: \Delta > -m` at one-sided ``alpha``,
    rejecting when :math:`(\hat\Delta + m)/SE > z_{1-\alpha}` (equivalently, when the
    one-sided :math:`(1-\alpha)` lower bound is above :math:`-m`). With
    :math:`SE = s/\sqrt n`, :math:`s^2 = sd^2 (1 + 1/r)` for a mean and
    :math:`s^2 = p_1 q_1 + p_2 q_2 / r` for a proportion (the Wald standard error; Chow, Shao
    & Wang 2008, sections 3.2 and 4.2),

    .. math::

        1 - \beta = \Phi\!\left(\frac{\Delta + m}{SE} - z_{1-\alpha}\right).

    For ``bad_direction="increase"`` (latency, errors) the signs flip:
    :math:`H_0: \Delta \ge m`, power :math:`\Phi((m - \Delta)/SE - z_{1-\alpha})`. At the
    margin itself (:math:`\Delta = -m`) the power is ``alpha``: the type I error.

    Parameters
    ----------
    effect, n_control, sd, p_control, ratio
        As in :func:`power_ship_rule`; ``effect`` is the true difference (often 0).
    margin : float or array
        The largest tolerated degradation (> 0), in the metric's units (absolute for a rate;
        a relative margin :math:`m_{rel}` is :math:`m = m_{rel}\,p_1` on a rate).
    alpha : float or array
        One-sided significance level.
    bad_direction : {"decrease", "increase"}
        The direction in which the guardrail degrades.

    Examples
    --------
    >>> round(power_noninferiority(0.0, 50, margin=0.05, sd=0.10), 4)  # Chow et al.: n = 50
    0.8038
    """
    check_choice("bad_direction", bad_direction, DIRECTIONS)
    design, margin_, alpha, *_, (n,) = _margin_setup(
        effect, {"n_control": check_positive("n_control", n_control)}, margin, sd, p_control,
        alpha, ratio,
    )
    good = _directed(design.effect, bad_direction, ("decrease", "increase"))
    power = _normal_power(np.sqrt(n), _shifted(design, good + margin_), alpha, "larger")
    return scalar_or_array(power)


def sample_size_noninferiority(
    effect,
    *,
    margin,
    sd=None,
    p_control=None,
    alpha=0.05,
    power=0.8,
    ratio=1.0,
    bad_direction="decrease",
):
    r"""Control-arm sample size of a non-inferiority test with power ``power``.

    The inverse of :func:`power_noninferiority` (Chow, Shao & Wang 2008, sections 3.2 and
    4.2): with :math:`\Delta` the true effect measured in the good direction,

    .. math::

        n = \frac{(z_{1-\alpha} + z_{1-\beta})^2\, s^2}{(\Delta + m)^2}.

    A true effect of 0 needs :math:`(z_{1-\alpha} + z_{1-\beta})^2 s^2 / m^2`: the
    sample size of a one-sided test of "no difference" that detects an effect of size m.
    Raises ``ValueError`` when the truth is at or beyond the margin (:math:`\Delta + m \le 0`),
    where no sample size gives power above alpha.

    Examples
    --------
    >>> round(sample_size_noninferiority(0.0, margin=0.05, sd=0.10), 2)  # Chow et al.: 50
    49.46
    """
    check_choice("bad_direction", bad_direction, DIRECTIONS)
    design, margin_, alpha, effect, unit, p_c, (power,) = _margin_setup(
        effect, {"power": check_open_unit("power", power)}, margin, sd, p_control, alpha,
        ratio,
    )
    good = _directed(design.effect, bad_direction, ("decrease", "increase"))
    _refuse_where(
        good + margin_ <= 0,
        f"the true effect must lie on the good side of the margin (bad direction "
        f"{bad_direction!r}): at or beyond it no sample size gives power above alpha; got "
        "effect and margin {}",
        effect, margin_ * unit,
    )
    _refuse_where(power <= alpha, "power must be greater than alpha, got power and alpha {}",
                  power, alpha)
    names, quoted = _quoted(effect, p_c, unit, "margin", margin_ * unit)
    n = _normal_sample_size(_shifted(design, good + margin_), alpha, power, "larger", names,
                            quoted)
    return scalar_or_array(n)


def _tost_power(root_n, design: _Design, margin, alpha) -> np.ndarray:
    """P(both one-sided tests reject) = max(0, P_low + P_high - 1) (see power_equivalence)."""
    low = _normal_power(root_n, _shifted(design, margin + design.effect), alpha, "larger")
    high = _normal_power(root_n, _shifted(design, margin - design.effect), alpha, "larger")
    return np.maximum(low + high - 1.0, 0.0)


def power_equivalence(
    effect, n_control, *, margin, sd=None, p_control=None, alpha=0.05, ratio=1.0
):
    r"""Power of the two one-sided tests (TOST) of equivalence within :math:`\pm` ``margin``.

    Equivalence is declared when both one-sided tests at ``alpha`` reject, i.e. when the
    two-sided :math:`(1 - 2\alpha)` interval lies inside :math:`(-m, m)` (Schuirmann 1987).
    The test rejects when :math:`-m + z_{1-\alpha} SE < \hat\Delta < m - z_{1-\alpha} SE`, so

    .. math::

        1 - \beta = \Phi\!\left(\frac{m - \Delta}{SE} - z_{1-\alpha}\right)
        + \Phi\!\left(\frac{m + \Delta}{SE} - z_{1-\alpha}\right) - 1

    when that is positive, and 0 when :math:`m < z_{1-\alpha} SE` (the acceptance region is
    empty: too few units can never establish equivalence). :math:`SE` as in
    :func:`power_noninferiority`. At :math:`\Delta = \pm m` the power is at most ``alpha``.

    Examples
    --------
    >>> round(power_equivalence(0.0, 69, margin=0.5, sd=1.0), 4)  # d = 0.5: n = 68.5 for 80%
    0.8036
    """
    design, margin_, alpha, *_, (n,) = _margin_setup(
        effect, {"n_control": check_positive("n_control", n_control)}, margin, sd, p_control,
        alpha, ratio,
    )
    return scalar_or_array(_tost_power(np.sqrt(n), design, margin_, alpha))


def sample_size_equivalence(
    effect, *, margin, sd=None, p_control=None, alpha=0.05, power=0.8, ratio=1.0
):
    r"""Control-arm sample size at which the TOST establishes equivalence with ``power``.

    Solves :func:`power_equivalence` = ``power`` for n. With no true difference it is the
    closed form (Chow, Shao & Wang 2008, sections 3.2 and 4.2)

    .. math::

        n = \frac{(z_{1-\alpha} + z_{1-\beta/2})^2\, s^2}{m^2}
        \qquad (\Delta = 0);

    otherwise a bracketed root finder between the sizes of the two one-sided tests
    (P(both) is at most the power of each, and at least 1 minus the sum of their misses).
    Chow et al. print :math:`(z_{1-\alpha} + z_{1-\beta/2})^2 s^2 / (m - |\Delta|)^2` for
    :math:`\Delta \ne 0` too: a conservative bound, above the exact n.

    Raises ``ValueError`` when :math:`|\Delta| \ge m` (equivalence is then false, and the
    TOST declares it with probability at most alpha).

    Examples
    --------
    >>> round(sample_size_equivalence(0.0, margin=0.5, sd=1.0), 2)  # TrialSize: 68.51
    68.51
    """
    design, margin_, alpha, effect, unit, p_c, (power,) = _margin_setup(
        effect, {"power": check_open_unit("power", power)}, margin, sd, p_control, alpha,
        ratio,
    )
    _refuse_where(
        np.abs(design.effect) >= margin_,
        "the true effect must lie strictly inside (-margin, margin) for equivalence to be "
        "established; got effect and margin {}",
        effect, margin_ * unit,
    )
    names, quoted = _quoted(effect, p_c, unit, "margin", margin_ * unit)
    sides = [_shifted(design, margin_ + sign * design.effect) for sign in (1.0, -1.0)]
    z_crit = _critical_z(alpha, "larger")
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        low, high = (
            np.maximum(*[
                np.maximum(_one_tail_root_n(side.effect, side.s_null, side.s_alt, z_crit,
                                            special.ndtri(target), 0.0), 0.0)
                for side in sides
            ])
            for target in (power, 1.0 - (1.0 - power) / 2.0)
        )
        high_n = high**2  # inf when the design needs more units than a float holds
    _representable(high_n, names, quoted)
    root_n = _solve_increasing(  # low > 0 keeps the continuity term 0 / sqrt(n) defined
        lambda r: _tost_power(r, design, margin_, alpha) - power, np.maximum(low, 1e-150), high
    )
    return scalar_or_array(_representable(root_n**2, names, quoted))
