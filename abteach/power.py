"""Sample size, power, minimum detectable effect and duration of a two-arm experiment.

Every function accepts numpy arrays for its numeric arguments (they broadcast together, so a
whole power curve is one call) and returns a Python float for scalar input, an array otherwise.
Treatment minus control, always; ``ratio`` is n_treatment / n_control and every sample size is
the CONTROL arm's, unrounded (round up, and give the treatment arm ``ratio`` times as many).

Notation: ``n`` is n_control, ``r`` the ratio, ``z_a`` the critical value (z_{1-alpha/2}
two-sided, z_{1-alpha} one-sided), ``z_b = z_{power}``, Phi the standard normal cdf. All the
normal approximations share one shape: with a standardised effect ``e`` (signed in the direction
of the alternative), a per-unit standard deviation ``s0`` of the difference under the null and
``s1`` under the alternative, and a continuity correction ``c`` (0 except for ``"continuity"``),

    power = Phi((sqrt(n) e - c / sqrt(n) - z_a s0) / s1),
    n     = ((z_a s0 + z_b s1) / e)^2                            (c = 0).

Two-sided convention
--------------------
A two-sided test also rejects, wrongly signed, when the estimate lands in the opposite tail.
Reference software disagrees on whether "power" counts that probability, and the published
numbers the course reproduces need both conventions, so each method follows the software it
is named after:

* ignored, as R ``power.prop.test`` (strict = FALSE), Fleiss et al. and Evan Miller do:
  proportions ``"pooled"``, ``"unpooled"``, ``"continuity"`` and ``"baseline"``;
* counted, as R ``pwr``, G*Power and statsmodels do: proportions ``"arcsine"``, means ``"z"``
  and ``"t"``.

The difference is tiny for any useful design (at alpha 0.05 and power 0.8 the opposite tail
holds about 1e-6), but it is visible at the printed precision of R's 3840.847 (SS04, one tail
only) and of pwr's 63.76561 and G*Power's 0.8014596 (SS06, both tails). One visible consequence:
with no true effect, the "ignored" methods report power alpha/2 for a two-sided test, the
"counted" ones report alpha.

One-sided alternatives whose direction contradicts the effect (``alternative="larger"`` with
the treatment worse): the power functions return the test's true rejection probability, which
is below alpha; the sample-size functions raise ``ValueError``, since no sample size gives such
a test power above alpha.

References
----------
R Core Team, ``?power.prop.test`` and ``?power.t.test`` (package stats).
Fleiss, J. L., Levin, B. & Paik, M. C. (2003). *Statistical Methods for Rates and Proportions*,
3rd ed., Wiley, ch. 4.
Cohen, J. (1988). *Statistical Power Analysis for the Behavioral Sciences*, 2nd ed., ch. 2 and 6.
Chow, S.-C., Shao, J. & Wang, H. (2008). *Sample Size Calculations in Clinical Research*,
2nd ed., Chapman & Hall, ch. 3 and 4.
Kohavi, R., Tang, D. & Xu, Y. (2020). *Trustworthy Online Controlled Experiments*, Cambridge
University Press, ch. 17 (the 16 sigma^2 / delta^2 rule of thumb).
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
from scipy import special, stats

from abteach._validate import (
    first_bad,
    as_float_array,
    broadcast,
    check_alternative,
    check_choice,
    check_closed_unit,
    check_open_unit,
    check_positive,
    scalar_or_array,
)

__all__ = [
    "PROPORTION_METHODS",
    "MEAN_TESTS",
    "sample_size_proportions",
    "power_proportions",
    "sample_size_means",
    "power_means",
    "mde_proportions",
    "duration_days",
]

PROPORTION_METHODS = ("pooled", "unpooled", "arcsine", "continuity", "baseline")
MEAN_TESTS = ("z", "t")

# Power tolerance of the root finder: far below the 1e-9 the round trips promise.
_FTOL = 1e-12
# Largest sample size computed (keeps the root finders' brackets finite).
_N_MAX = 1e300


class _Design(NamedTuple):
    """A normal-approximation design per unit of n_control (see the module docstring)."""

    effect: np.ndarray  # treatment minus control, on the scale of s_null and s_alt
    s_null: np.ndarray  # sd of the difference under the null, times sqrt(n_control)
    s_alt: np.ndarray  # sd of the difference under the alternative, times sqrt(n_control)
    correction: np.ndarray | float  # continuity correction c, in power = Phi((.. - c/sqrt(n) ..))
    both_tails: bool  # whether a two-sided test counts the opposite tail


# --------------------------------------------------------------------------------------------
# Shared numerical core
# --------------------------------------------------------------------------------------------


def _critical_z(alpha: np.ndarray, alternative: str) -> np.ndarray:
    """z_{1-alpha/2} (two-sided) or z_{1-alpha} (one-sided), accurate for tiny alpha.

    Computed from log(alpha), so that alpha / 2 cannot underflow to 0 (alpha = 5e-324).
    """
    log_tail = np.log(alpha) - (np.log(2) if alternative == "two-sided" else 0.0)
    return -special.ndtri_exp(log_tail)


def _directed(effect: np.ndarray, alternative: str) -> np.ndarray:
    """The effect measured in the direction the alternative looks for (|effect| two-sided)."""
    if alternative == "two-sided":
        return np.abs(effect)
    return effect if alternative == "larger" else -effect


def _normal_power(root_n, design: _Design, alpha, alternative: str) -> np.ndarray:
    """Phi((sqrt(n) e - c/sqrt(n) - z_a s0) / s1), plus the mirror tail where counted."""
    z_crit = _critical_z(alpha, alternative)
    effect = _directed(design.effect, alternative)
    with np.errstate(over="ignore"):  # an astronomically large effect just gives power 1
        shift = design.correction / root_n + z_crit * design.s_null
        power = special.ndtr((root_n * effect - shift) / design.s_alt)
        if design.both_tails and alternative == "two-sided":
            power = power + special.ndtr((-root_n * effect - shift) / design.s_alt)
    return power


def _one_tail_root_n(effect, s_null, s_alt, z_crit, z_power, correction) -> np.ndarray:
    """Closed-form sqrt(n) solving sqrt(n) e - c / sqrt(n) = z_a s0 + z_b s1 (e > 0).

    With c0 = z_a s0 + z_b s1 this is the positive root of e u^2 - c0 u - c = 0,
    u = (c0 + sqrt(c0^2 + 4 e c)) / (2 e), written as 2 c / (sqrt(..) - c0) when c0 < 0 to
    avoid cancellation. For c = 0 it is c0 / e, which needs c0 > 0 (checked by the caller).
    """
    c0 = z_crit * s_null + z_power * s_alt
    root = np.sqrt(c0**2 + 4 * effect * correction)
    plain = np.asarray((c0 + root) / (2 * effect), dtype=float)
    return np.divide(2 * correction, root - c0, out=plain.copy(), where=c0 < 0)


def _normal_sample_size(
    design: _Design, alpha, power, alternative: str, names: str, quoted: tuple
) -> np.ndarray:
    """n_control at which ``_normal_power`` equals ``power`` (the directed effect is > 0)."""
    z_crit = _critical_z(alpha, alternative)
    effect = _directed(design.effect, alternative)
    args = (effect, design.s_null, design.s_alt, z_crit)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # refused just below
        high = _one_tail_root_n(*args, special.ndtri(power), design.correction)
        n = _representable(high**2, names, quoted)
    if not (design.both_tails and alternative == "two-sided"):
        return n
    # The mirror tail adds at most Phi(-z_a s0 / s1): solving the one-tail equation for
    # power minus that bound gives a lower bracket, the one-tail solution an upper one.
    mirror_bound = special.ndtr(-z_crit * design.s_null / design.s_alt)
    low = _one_tail_root_n(*args, special.ndtri(power - mirror_bound), design.correction)
    root_n = _solve_increasing(
        lambda root_n: _normal_power(root_n, design, alpha, alternative) - power, low, high
    )
    return root_n**2


def _solve_increasing(func, low, high, *, maxiter: int = 200) -> np.ndarray:
    """Elementwise root of an increasing vectorised ``func`` with func(low) <= 0 <= func(high).

    Regula falsi with the Illinois modification (Dowell & Jarratt, 1971): superlinear, and it
    never leaves the bracket. Stops where |func| <= 1e-12 or the bracket is a few ulps wide.
    """
    low, high = np.broadcast_arrays(np.asarray(low, dtype=float), np.asarray(high, dtype=float))
    shape = low.shape
    low, high = np.atleast_1d(low).copy(), np.atleast_1d(high).copy()  # ufunc out= needs arrays
    f_low, f_high = func(low), func(high)
    x, f_x = high.copy(), f_high.copy()
    last = np.zeros(x.shape, dtype=int)  # -1: low moved last time, +1: high moved
    for _ in range(maxiter):
        width = high - low
        active = (np.abs(f_x) > _FTOL) & (width > 4 * np.finfo(float).eps * np.abs(high))
        if not active.any():
            break
        step = np.divide(f_high * width, f_high - f_low, out=0.5 * width, where=f_high > f_low)
        trial = high - step
        trial = np.where((trial > low) & (trial < high), trial, low + 0.5 * width)
        trial = np.where(active, trial, x)
        f_trial = func(trial)
        below, above = active & (f_trial < 0), active & (f_trial > 0)
        # Illinois: when the same end moves twice running, halve the stale end's value.
        f_high = np.where(below & (last == -1), 0.5 * f_high, f_high)
        f_low = np.where(above & (last == 1), 0.5 * f_low, f_low)
        low, f_low = np.where(below, trial, low), np.where(below, f_trial, f_low)
        high, f_high = np.where(above, trial, high), np.where(above, f_trial, f_high)
        last = np.where(below, -1, np.where(above, 1, last))
        x, f_x = np.where(active, trial, x), np.where(active, f_trial, f_x)
    return x.reshape(shape)


#: The allocation ratios n_treatment / n_control accepted. Beyond them 1 / ratio and the
#: variances it scales overflow long before any design makes sense.
RATIO_RANGE = (1e-9, 1e9)


def _check_ratio(ratio) -> np.ndarray:
    """The allocation ratio n_treatment / n_control, within ``RATIO_RANGE``."""
    array = check_positive("ratio", ratio)
    low, high = RATIO_RANGE
    bad = (array < low) | (array > high)
    if bad.any():
        raise ValueError(f"ratio (n_treatment / n_control) must be in [{low:g}, {high:g}], "
                         f"got {first_bad(array, bad)}")
    return array


def _refuse_where(bad: np.ndarray, message: str, *values: np.ndarray) -> None:
    """Raise ValueError(message) quoting the first element of ``values`` flagged by ``bad``."""
    if bad.any():
        quoted = " and ".join(first_bad(v, bad) for v in values)
        raise ValueError(message.format(quoted))


def _check_solvable(
    effect, alpha, power, alternative: str, names: str, quoted: tuple, increase: str, decrease: str
) -> None:
    """Refuse designs no finite sample size can serve, naming the arguments at fault.

    ``effect`` is treatment minus control; ``names`` and ``quoted`` are the arguments that
    define it (e.g. "p_control and p_treatment" and their arrays), quoted in the messages.
    """
    _refuse_where(
        effect == 0,
        f"{names} give a zero difference (got {{}}): "
        "no finite sample size detects a zero difference",
        *quoted,
    )
    if alternative != "two-sided":
        wrong = effect < 0 if alternative == "larger" else effect > 0
        looks_for = increase if alternative == "larger" else decrease
        _refuse_where(
            wrong,
            f"alternative={alternative!r} looks for {looks_for}, but {names} give an "
            "effect of the opposite sign (got {}): no sample size gives this test power "
            "above alpha; use the other alternative or 'two-sided'",
            *quoted,
        )
    _refuse_power_not_above_alpha(power, alpha)


def _refuse_power_not_above_alpha(power: np.ndarray, alpha: np.ndarray) -> None:
    _refuse_where(
        power <= alpha,
        "power must be greater than alpha (a test has power alpha with no data at all), "
        "got power and alpha {}",
        power,
        alpha,
    )


def _representable(n: np.ndarray, names: str, quoted: tuple) -> np.ndarray:
    """Refuse a sample size that overflows (or underflows to 0): an absurd effect size."""
    _refuse_where(
        ~((n > 0) & (n <= _N_MAX)),
        f"{names} give an effect so extreme (got {{}}) that the required sample size is 0 "
        f"or above {_N_MAX:.0e} in floating point",
        *quoted,
    )
    return n


# --------------------------------------------------------------------------------------------
# Two proportions
# --------------------------------------------------------------------------------------------


def _proportion_design(p_control, p_treatment, ratio, method: str) -> _Design:
    """Effect and per-unit standard deviations of the five textbook approximations."""
    scale = np.sqrt(1 + 1 / ratio)  # sqrt(n_control * (1/n_control + 1/n_treatment))
    if method == "arcsine":
        h = 2 * np.arcsin(np.sqrt(p_treatment)) - 2 * np.arcsin(np.sqrt(p_control))
        return _Design(h, scale, scale, 0.0, True)
    var_control = p_control * (1 - p_control)
    s_alt = np.sqrt(var_control + p_treatment * (1 - p_treatment) / ratio)
    if method == "unpooled":
        s_null = s_alt
    elif method == "baseline":
        s_null = np.sqrt(var_control) * scale
    else:  # pooled and continuity: allocation-weighted mean rate under the null
        p_bar = (p_control + ratio * p_treatment) / (1 + ratio)
        s_null = np.sqrt(p_bar * (1 - p_bar)) * scale
    correction = (1 + 1 / ratio) / 2 if method == "continuity" else 0.0
    return _Design(p_treatment - p_control, s_null, s_alt, correction, False)


def _proportion_arrays(p_control, p_treatment, alpha, ratio, alternative, method, **extra):
    """Validate and broadcast the arguments shared by the proportion functions."""
    alternative = check_alternative(alternative)
    check_choice("method", method, PROPORTION_METHODS)
    arrays = {
        "p_control": check_open_unit("p_control", p_control),
        "p_treatment": check_open_unit("p_treatment", p_treatment),
        "alpha": check_open_unit("alpha", alpha),
        "ratio": _check_ratio(ratio),
        **extra,
    }
    return broadcast(**arrays)


def sample_size_proportions(
    p_control,
    p_treatment,
    *,
    alpha=0.05,
    power=0.8,
    ratio=1.0,
    alternative="two-sided",
    method="pooled",
):
    r"""Control-arm sample size for comparing two conversion rates.

    Returns the unrounded n_control; the treatment arm gets ``ratio * n_control``. With
    p1 = ``p_control``, p2 = ``p_treatment``, d = p2 - p1, q = 1 - p and r = ``ratio``:

    ``"pooled"`` (default; R ``power.prop.test``; Fleiss et al. (2003) ch. 4 without the
    correction; Chow et al. (2008) ch. 4)::

        pbar = (p1 + r p2) / (1 + r)
        n = [z_a sqrt(pbar qbar (1 + 1/r)) + z_b sqrt(p1 q1 + p2 q2 / r)]^2 / d^2

    ``"unpooled"`` (Wald test; Chow et al. (2008) ch. 4)::

        n = (z_a + z_b)^2 (p1 q1 + p2 q2 / r) / d^2

    ``"baseline"`` (null variance from the baseline rate in both arms, as Evan Miller's online
    calculator does)::

        n = [z_a sqrt(p1 q1 (1 + 1/r)) + z_b sqrt(p1 q1 + p2 q2 / r)]^2 / d^2

    ``"continuity"`` (Fleiss et al. (2003) ch. 4, Yates-corrected test), from the pooled n::

        n_cc = n / 4 * (1 + sqrt(1 + 2 (r + 1) / (n r abs(d))))^2

    ``"arcsine"`` (Cohen (1988) ch. 6; R ``pwr.2p.test``/``pwr.2p2n.test``), Cohen's
    h = 2 asin(sqrt(p2)) - 2 asin(sqrt(p1)), solving (two-sided, both tails counted)::

        Phi(abs(h) sqrt(n r / (1 + r)) - z_a) + Phi(-abs(h) sqrt(n r / (1 + r)) - z_a) = power

    numerically; one-sided, the closed form n = (z_a + z_b)^2 (1 + 1/r) / h^2.

    Here z_a = z_{1-alpha/2} two-sided, z_{1-alpha} one-sided, and z_b = z_{power}. Only
    ``"arcsine"`` counts the opposite tail of a two-sided test (module docstring). Kohavi,
    Tang & Xu (2020) round the unpooled formula to n = 16 p q / d^2 (alpha 0.05, power 0.8).

    Raises ``ValueError`` when the rates are equal ("no finite sample size detects a zero
    difference"), when a one-sided ``alternative`` contradicts the sign of d, when
    ``power <= alpha``, and, for ``"pooled"`` and ``"baseline"`` with a very unequal
    ``ratio``, when the normal approximation already has the requested power as n -> 0.

    Examples
    --------
    >>> round(sample_size_proportions(0.10, 0.12), 3)      # R power.prop.test
    3840.847
    >>> round(sample_size_proportions(0.50, 0.75, power=0.9), 1)
    76.7
    """
    p_c, p_t, alpha, ratio, power = _proportion_arrays(
        p_control, p_treatment, alpha, ratio, alternative, method,
        power=check_open_unit("power", power),
    )
    names, quoted = "p_control and p_treatment", (p_c, p_t)
    _check_solvable(
        p_t - p_c, alpha, power, alternative, names, quoted, "an increase", "a decrease"
    )
    design = _proportion_design(p_c, p_t, ratio, method)
    if method in ("pooled", "baseline"):
        c0 = _critical_z(alpha, alternative) * design.s_null + special.ndtri(power) * design.s_alt
        _refuse_where(
            c0 <= 0,
            "power is too low for this design: the normal approximation already gives more "
            "than that power as n_control -> 0 (null sd below the alternative sd with this "
            "ratio); got power, alpha and ratio {}",
            power,
            alpha,
            ratio,
        )
    return scalar_or_array(_normal_sample_size(design, alpha, power, alternative, names, quoted))


def power_proportions(
    p_control,
    p_treatment,
    n_control,
    *,
    alpha=0.05,
    ratio=1.0,
    alternative="two-sided",
    method="pooled",
):
    r"""Power of a two-proportion test with ``n_control`` and ``ratio * n_control`` units.

    The inverse of :func:`sample_size_proportions` (same methods, same notation). With the
    effect e, null and alternative standard deviations s0, s1 and continuity term c of each
    method::

        power = Phi((sqrt(n) e - c / sqrt(n) - z_a s0) / s1)

    ``"pooled"``: e = d, s0 = sqrt(pbar qbar (1 + 1/r)), s1 = sqrt(p1 q1 + p2 q2 / r), c = 0
    (R ``power.prop.test``, strict = FALSE). ``"unpooled"``: s0 = s1. ``"baseline"``:
    s0 = sqrt(p1 q1 (1 + 1/r)). ``"continuity"``: pooled with c = (1 + 1/r) / 2, the Yates
    term (1/n1 + 1/n2) / 2 (Fleiss et al. (2003) ch. 4). ``"arcsine"``: e = Cohen's h,
    s0 = s1 = sqrt(1 + 1/r), and a two-sided test adds the opposite tail
    Phi((-sqrt(n) abs(h) - z_a s0) / s1), as R ``pwr.2p.test`` and G*Power do (Cohen (1988) ch. 6).
    For "two-sided", e is abs(e) and z_a = z_{1-alpha/2}; "larger" (treatment above control) and
    "smaller" use the signed effect and z_{1-alpha}.

    With equal rates the result is the test's rejection rate under the null: alpha/2 for a
    two-sided test under the one-tail methods, alpha for ``"arcsine"``. A one-sided
    ``alternative`` pointing away from the effect gives power below alpha (not an error).

    Examples
    --------
    >>> round(power_proportions(0.50, 0.75, 50), 3)   # R ?power.prop.test
    0.74
    """
    p_c, p_t, alpha, ratio, n = _proportion_arrays(
        p_control, p_treatment, alpha, ratio, alternative, method,
        n_control=check_positive("n_control", n_control),
    )
    design = _proportion_design(p_c, p_t, ratio, method)
    return scalar_or_array(_normal_power(np.sqrt(n), design, alpha, alternative))


def mde_proportions(
    p_control, n_control, *, alpha=0.05, power=0.8, ratio=1.0, alternative="two-sided"
):
    r"""Minimum detectable effect (absolute, in rate units) for a given control-arm size.

    Uses the ``"pooled"`` method (R ``power.prop.test`` solving for p2): the returned
    ``mde > 0`` is the m with ::

        sample_size_proportions(p_control, p_control + m, ..., method="pooled") == n_control

    i.e. Phi((sqrt(n) m - z_a sqrt(pbar qbar (1 + 1/r))) / sqrt(p1 q1 + p2 q2 / r)) = power
    with p2 = p1 + m, solved by a bracketed root finder on m in (0, 1 - p1). For
    ``alternative="two-sided"`` and ``"larger"`` the MDE is an increase; for ``"smaller"`` it is
    the size of a decrease (p2 = p1 - m). Kohavi, Tang & Xu (2020) discuss choosing it.

    Raises ``ValueError`` when no MDE exists, i.e. even p2 = 1 (or 0 for "smaller") does not
    reach ``power`` with ``n_control`` units, and when ``power <= alpha``.

    Examples
    --------
    >>> round(0.5 + mde_proportions(0.5, 50, power=0.9), 4)   # R ?power.prop.test: p2 = 0.8026
    0.8026
    """
    alternative = check_alternative(alternative)
    p_c, n, alpha, power, ratio = broadcast(
        p_control=check_open_unit("p_control", p_control),
        n_control=check_positive("n_control", n_control),
        alpha=check_open_unit("alpha", alpha),
        power=check_open_unit("power", power),
        ratio=_check_ratio(ratio),
    )
    _refuse_power_not_above_alpha(power, alpha)
    sign = -1.0 if alternative == "smaller" else 1.0
    room = p_c if alternative == "smaller" else 1 - p_c
    root_n = np.sqrt(n)

    def shortfall(m):
        p_t = np.clip(p_c + sign * m, 0.0, 1.0)
        design = _proportion_design(p_c, p_t, ratio, "pooled")
        return _normal_power(root_n, design, alpha, alternative) - power

    edge = 0.0 if alternative == "smaller" else 1.0
    _refuse_where(
        shortfall(room) < 0,
        f"no minimum detectable effect exists: even p_treatment = {edge} does not reach the "
        "requested power with these n_control, p_control, power, alpha and ratio ({}); "
        "increase n_control or lower power",
        n,
        p_c,
        power,
        alpha,
        ratio,
    )
    return scalar_or_array(_solve_increasing(shortfall, np.zeros_like(room), room))


# --------------------------------------------------------------------------------------------
# Two means
# --------------------------------------------------------------------------------------------


def _mean_arrays(delta, sd, alpha, ratio, alternative, test, **extra):
    """Validate and broadcast the arguments shared by the mean functions."""
    alternative = check_alternative(alternative)
    check_choice("test", test, MEAN_TESTS)
    return broadcast(
        delta=as_float_array("delta", delta),
        sd=check_positive("sd", sd),
        alpha=check_open_unit("alpha", alpha),
        ratio=_check_ratio(ratio),
        **extra,
    )


def _t_parameters(effect_size, n_control, ratio, alpha, alternative: str):
    """Degrees of freedom, noncentrality and critical t of the pooled two-sample t-test.

    df = n (1 + r) - 2, noncentrality = (delta / sd) sqrt(n r / (1 + r)), critical value
    t_{1-alpha/2, df} (two-sided) or t_{1-alpha, df}.
    """
    df = n_control * (1 + ratio) - 2
    noncentrality = effect_size * np.sqrt(n_control * ratio / (1 + ratio))
    tail_alpha = alpha / 2 if alternative == "two-sided" else alpha
    return df, noncentrality, stats.t.isf(tail_alpha, df)


def _nct_upper_tail(t, df, noncentrality) -> np.ndarray:
    """P(T > t) for noncentral t and t >= 0, guarded against scipy's NaN far in a tail.

    scipy 1.17's ``nct.cdf`` returns NaN (with a RuntimeWarning) far in the lower tail, e.g.
    ``nct.cdf(-1.96, 1000, 11.2)``, whose true value is below 1e-28. Lower tails are therefore
    computed as upper tails with the noncentrality negated, P(T < -t | lambda) =
    P(T > t | -lambda), through ``nct.sf``, which returned no NaN on a million random points
    with df >= 1 (it warns, and underflows to 0, beyond t = 38, where the tail is below 1e-180).
    As a last line of defence, T > t >= 0 needs Z + lambda > 0, so the value is at most
    Phi(lambda): ``fmin`` keeps every finite value and turns a NaN into that bound.
    """
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        upper = stats.nct.sf(t, df, noncentrality)
    return np.fmin(upper, special.ndtr(noncentrality))


def _t_power(effect_size, n_control, ratio, alpha, alternative: str) -> np.ndarray:
    """Exact power of the pooled two-sample t-test (both tails counted when two-sided)."""
    df, noncentrality, t_crit = _t_parameters(effect_size, n_control, ratio, alpha, alternative)
    power = _nct_upper_tail(t_crit, df, _directed(noncentrality, alternative))
    if alternative == "two-sided":
        power = power + _nct_upper_tail(t_crit, df, -np.abs(noncentrality))
    return power


def _mean_design(effect_size, ratio) -> _Design:
    scale = np.sqrt(1 + 1 / ratio)
    return _Design(effect_size, scale, scale, 0.0, True)


def sample_size_means(
    delta, sd, *, alpha=0.05, power=0.8, ratio=1.0, alternative="two-sided", test="z"
):
    r"""Control-arm sample size to detect a difference in means ``delta`` (treatment - control).

    Both arms share the standard deviation ``sd``; d = delta / sd, r = ``ratio``.

    ``test="z"`` (known variance; Chow et al. (2008) ch. 3): one-sided, the closed form ::

        n = (z_{1-alpha} + z_b)^2 (1 + 1/r) / d^2

    two-sided, the root of Phi(abs(d) k - z_a) + Phi(-abs(d) k - z_a) = power with
    k = sqrt(n r / (1 + r)) (opposite tail counted, as statsmodels ``NormalIndPower`` and R
    ``pwr.norm.test``). It lies just below the closed form (z_a + z_b)^2 (1 + 1/r) / d^2: by a
    relative 2.4e-6 at alpha 0.05 and power 0.8, 1.5% at alpha 0.1 and power 0.3. At alpha 0.05,
    power 0.8 and r = 1 this is 15.7 sd^2 / delta^2, which Kohavi, Tang & Xu (2020) round to
    the rule of thumb n = 16 sd^2 / delta^2.

    ``test="t"`` (pooled two-sample t-test; Cohen (1988) ch. 2, R ``pwr.t.test``, G*Power): the
    n solving exactly, with df = n (1 + r) - 2 and noncentrality lambda = d k, ::

        P(T'(df, lambda) > t_{1-alpha/2, df}) + P(T'(df, lambda) < -t_{1-alpha/2, df}) = power

    (one tail with t_{1-alpha, df} for one-sided alternatives), by a bracketed root finder. The
    t-test needs at least one degree of freedom; an effect so large that fewer than
    3 units in all would do raises ``ValueError``.

    Raises ``ValueError`` for ``delta == 0`` ("no finite sample size detects a zero
    difference"), a one-sided ``alternative`` contradicting the sign of ``delta``, and
    ``power <= alpha``.

    Examples
    --------
    >>> round(sample_size_means(0.5, 1.0, test="t"), 4)   # pwr.t.test(d = 0.5, power = 0.8)
    63.7656
    """
    delta, sd, alpha, ratio, power = _mean_arrays(
        delta, sd, alpha, ratio, alternative, test, power=check_open_unit("power", power)
    )
    names, quoted = "delta and sd", (delta, sd)
    _check_solvable(
        delta, alpha, power, alternative, names, quoted, "a positive delta", "a negative delta"
    )
    with np.errstate(over="ignore", under="ignore"):
        effect_size = delta / sd
    design = _mean_design(effect_size, ratio)
    n = _normal_sample_size(design, alpha, power, alternative, names, quoted)
    if test == "t":
        n_min = 3 / (1 + ratio)  # one degree of freedom

        def shortfall(n_trial):
            return _t_power(effect_size, n_trial, ratio, alpha, alternative) - power

        _refuse_where(
            shortfall(n_min) > 0,
            "delta / sd is so large that the t-test reaches the requested power with fewer "
            "than 3 units in all (under one degree of freedom); got delta and sd {}",
            delta,
            sd,
        )
        # The t-test needs a little more than the z-test; double until the power passes the
        # target (one or two steps; 64 doublings would multiply n by 1.8e19).
        high = np.maximum(2 * n, 2 * n_min)
        for _ in range(64):
            short = shortfall(high) < 0
            if not short.any():
                break
            high = np.where(short, 2 * high, high)
        n = _solve_increasing(shortfall, n_min, high)
    return scalar_or_array(n)


def power_means(
    delta, sd, n_control, *, alpha=0.05, ratio=1.0, alternative="two-sided", test="z"
):
    r"""Power to detect a difference in means with ``n_control`` and ``ratio * n_control`` units.

    With d = delta / sd, k = sqrt(n r / (1 + r)) and z_a, t_a the critical values
    (1 - alpha/2 two-sided, 1 - alpha one-sided):

    ``test="z"``: power = Phi(d k - z_a) + Phi(-d k - z_a) two-sided (both tails, as statsmodels
    ``NormalIndPower``), Phi(d k - z_a) for "larger" and Phi(-d k - z_a) for "smaller"
    (Chow et al. (2008) ch. 3).

    ``test="t"``: the exact power of the pooled two-sample t-test, from the noncentral t
    distribution with df = n (1 + r) - 2 and noncentrality d k: P(T' > t_a) + P(T' < -t_a)
    two-sided (as G*Power and R ``pwr.t.test``; Cohen (1988) ch. 2). Both tails come from
    scipy's ``nct.sf``, guarded against the NaN scipy's noncentral t can return far in a tail
    (see ``_nct_upper_tail``). Needs df >= 1, i.e. n (1 + r) >= 3.

    ``delta = 0`` gives the size of the test (alpha); a one-sided ``alternative`` pointing away
    from ``delta`` gives power below alpha.

    Examples
    --------
    >>> round(power_means(0.5, 1.0, 64, test="t"), 7)   # G*Power: 0.8014596
    0.8014596
    """
    delta, sd, alpha, ratio, n = _mean_arrays(
        delta, sd, alpha, ratio, alternative, test,
        n_control=check_positive("n_control", n_control),
    )
    with np.errstate(over="ignore"):
        effect_size = delta / sd
    if test == "t":
        _refuse_where(
            n * (1 + ratio) < 3,
            "n_control is too small for a t-test: it needs n_control * (1 + ratio) - 2 >= 1 "
            "degree of freedom, got n_control and ratio {}",
            n,
            ratio,
        )
        power = _t_power(effect_size, n, ratio, alpha, alternative)
    else:
        power = _normal_power(np.sqrt(n), _mean_design(effect_size, ratio), alpha, alternative)
    return scalar_or_array(power)


# --------------------------------------------------------------------------------------------
# Duration
# --------------------------------------------------------------------------------------------


def duration_days(n_control, daily_eligible_units, *, traffic_share=1.0, ratio=1.0):
    r"""Days needed to enrol n_control + ratio * n_control units.

    ::

        days = n_control * (1 + ratio) / (daily_eligible_units * traffic_share)

    ``daily_eligible_units`` is the number of new units per day that could enter the
    experiment (e.g. daily new visitors to the page), ``traffic_share`` in (0, 1] the share of
    them routed into it. The result is unrounded, like the sample sizes: round up, and in
    practice to whole weeks, so that every day of the week is represented (Kohavi, Tang & Xu
    (2020)). It assumes each unit is counted once; with returning users the eligible
    count grows slower than linearly in time, so the estimate is then optimistic.

    Examples
    --------
    >>> duration_days(3841, 1000, traffic_share=0.5)
    15.364
    """
    share = check_closed_unit("traffic_share", traffic_share)
    n, daily, share, ratio = broadcast(
        n_control=check_positive("n_control", n_control),
        daily_eligible_units=check_positive("daily_eligible_units", daily_eligible_units),
        traffic_share=check_positive("traffic_share", share),
        ratio=_check_ratio(ratio),
    )
    with np.errstate(over="ignore"):
        days = n * (1 + ratio) / (daily * share)
    _refuse_where(
        ~np.isfinite(days),
        "n_control is too large for daily_eligible_units and traffic_share: the number of days "
        "overflows a float ({})",
        n,
    )
    return scalar_or_array(days)
