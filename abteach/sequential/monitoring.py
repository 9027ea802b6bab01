r"""Monitoring a running experiment: apply a group-sequential design look by look.

Information fractions are the information to date divided by the *planned* maximum; the final
analysis (an over-run past the planned maximum, or an early end) spends all the alpha left.

References
----------
Lan, K. K. G. & DeMets, D. L. (1983), Discrete sequential boundaries for clinical trials,
*Biometrika* 70, 659-663.
Wassmer, G. & Brannath, W. (2016), *Group Sequential and Confirmatory Adaptive Designs in
Clinical Trials*, Springer, sec. 3.3 (p. 78f: over-running and under-running).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from abteach._records import Record, format_number
from abteach._validate import as_float_array, check_bool
from abteach.sequential._checks import MAX_OVERRUN, _check_fractions
from abteach.sequential._recursion import _spending_boundaries
from abteach.sequential.boundaries import GroupSequentialDesign, _check_design, boundaries
from abteach.sequential.spending import SPENDING_METHODS, _total_spending

__all__ = ["SequentialAnalysis", "sequential_analysis"]


@dataclass(frozen=True, repr=False, eq=False)
class SequentialAnalysis(Record):
    """Look-by-look analysis of a running experiment (see :func:`sequential_analysis`)."""

    z_values: np.ndarray
    information_fractions: np.ndarray
    critical_values: np.ndarray
    crossed: np.ndarray
    stop_look: int
    reject: bool
    final: bool
    decision: str
    design: GroupSequentialDesign = field(repr=False)

    def explain(self) -> str:
        sign = {"two-sided": "|Z| >= b", "larger": "Z >= b", "smaller": "Z <= -b"}
        lines = [
            f"Sequential analysis with a {self.design.method} design "
            f"({self.design.alternative}, alpha = {format_number(self.design.alpha, 4)}, "
            f"{self.design.n_looks} planned looks); stop at the first look with "
            f"{sign[self.design.alternative]}.",
            "   look  fraction         Z   boundary  crossed",
        ]
        for k in range(self.z_values.size):
            note = "  (after the stop: ignore)" if self.stop_look and k + 1 > self.stop_look else ""
            lines.append(
                f"  {k + 1:5d}  {self.information_fractions[k]:8.4f}  "
                f"{format_number(self.z_values[k], 5):>8}  "
                f"{format_number(self.critical_values[k], 5):>9}  "
                f"{'yes' if self.crossed[k] else 'no':>7}{note}"
            )
        if self.final:
            lines.append(
                f"  Look {self.z_values.size} is the final analysis (fraction "
                f"{self.information_fractions[-1]:.4f} of the planned maximum)."
            )
        lines.append(f"  Decision: {self.decision}")
        return "\n".join(lines)


def sequential_analysis(
    z_values, information_fractions, design: GroupSequentialDesign, *, final: bool = False
) -> SequentialAnalysis:
    r"""Apply a group-sequential design to the looks of a running experiment.

    Look k crosses when :math:`|Z_k| \ge b_k` (two-sided; :math:`Z_k \ge b_k` or
    :math:`Z_k \le -b_k` one-sided). The experiment stops at the first crossing (H0 rejected,
    treatment better if Z > 0, worse if Z < 0), or at the final analysis without one (H0 not
    rejected); otherwise it continues.

    **Information fractions come from the plan:** :math:`t_k = I_k / I_{max}`, the
    information at look k (for means or proportions, the users so far) divided by the
    *planned* maximum, fixed before the experiment starts (the design's sample size).
    Dividing by the final sample size instead uses hindsight: that number is unknown at an
    interim look, and it changes the boundaries of looks already taken.

    The observed fractions need not be the planned ones when the design uses a spending
    function (``ld-obf``, ``ld-pocock``, ``hsd``, ``power``): the boundaries are then
    recomputed at the observed fractions, spending :math:`\alpha(t_k)` by look k (Lan & DeMets
    1983). Pocock, O'Brien-Fleming and ``user`` designs fix the looks in advance, so their
    fractions must match the plan (they refuse any other fractions, over-runs included).

    **The final analysis: over-run and under-run.** Real experiments rarely end at exactly
    :math:`I_{max}`. The last look given is the *final* analysis when its fraction is
    :math:`\ge 1` (over-run: more users than planned) or when ``final=True`` (the experiment
    ends before the planned maximum: under-run); only the last look may reach 1. The final
    analysis spends all the alpha that is left: its critical value :math:`b_K` solves

    .. math::

        P_{H_0}(|Z_k| < b_k \text{ for } k < K,\ Z_K \ge b_K) = \alpha_1 - \alpha_1(t_{K-1})

    on each side (:math:`\alpha_1` = alpha/2 for a two-sided design), with the true
    correlations :math:`\mathrm{corr}(Z_i, Z_j) = \sqrt{t_i / t_j}` of the actual fractions
    (:math:`t_K` may exceed 1); the interim boundaries are the ones already used. The type I
    error is then exactly alpha (Wassmer & Brannath 2016, sec. 3.3, p. 78f; rpact's boundary
    update vignette). The other honest option is to *cap*: analyze exactly the first
    :math:`I_{max}` users at :math:`t = 1` (the design's own last boundary) and ignore the
    extra ones. Never divide by the final count.

    Parameters
    ----------
    z_values : sequence of float
        z-statistic (treatment minus control) at each look so far.
    information_fractions : sequence of float
        Information at each look divided by the planned maximum (same length, strictly
        increasing, positive). All but the last must be below 1; the last may exceed 1 (an
        over-run, at most ``MAX_OVERRUN`` = 10) and is then the final analysis.
    design : GroupSequentialDesign
    final : bool
        The last look given is the final analysis although its fraction is below 1 (the
        experiment ends early, e.g. at its planned end date with fewer users than planned).
        Spending designs only, unless the look is the plan's last.

    Returns
    -------
    SequentialAnalysis
        ``z_values``, ``information_fractions``, ``critical_values`` used, ``crossed`` (by
        look), ``stop_look`` (1-based; 0 if not stopped), ``reject``, ``final`` (the last look
        is the final analysis), ``decision`` and ``explain()``.

    References
    ----------
    Lan & DeMets (1983); Jennison & Turnbull (2000), ch. 7; Wassmer, G. & Brannath, W.
    (2016), *Group Sequential and Confirmatory Adaptive Designs in Clinical Trials*,
    Springer, sec. 3.3.

    Examples
    --------
    >>> design = boundaries(3, method="obf")
    >>> sequential_analysis([1.0, 3.5], [1 / 3, 2 / 3], design).decision
    'stop at look 2: reject H0 (Z = 3.5, boundary 2.454); treatment better than control'

    An over-run: the third look of a three-look ``ld-obf`` design came at 1.2 times the
    planned maximum, and spends the alpha left:

    >>> late = sequential_analysis([1.0, 1.5, 2.0], [1 / 3, 2 / 3, 1.2],
    ...                            boundaries(3, method="ld-obf"))
    >>> late.final, round(float(late.critical_values[-1]), 3)
    (True, 2.008)
    """
    design = _check_design(design)
    z = as_float_array("z_values", z_values)
    t = _check_fractions("information_fractions", information_fractions,
                         last_max=MAX_OVERRUN)
    final = check_bool("final", final)
    if z.ndim != 1 or z.size != t.size:
        raise ValueError(
            f"z_values and information_fractions must be 1-D with one value per look each, "
            f"got z_values of shape {z.shape} and {t.size} information_fractions"
        )
    critical, last_is_final = _critical_values_at(design, t, final)
    if design.alternative == "two-sided":
        crossed = np.abs(z) >= critical
    elif design.alternative == "larger":
        crossed = z >= critical
    else:
        crossed = z <= -critical
    stop = int(np.argmax(crossed)) + 1 if crossed.any() else 0
    return SequentialAnalysis(
        z_values=z, information_fractions=t, critical_values=critical, crossed=crossed,
        stop_look=stop, reject=bool(stop), final=last_is_final,
        decision=_decision(z, critical, stop, last_is_final), design=design,
    )


def _critical_values_at(design: GroupSequentialDesign, t: np.ndarray,
                        final: bool) -> tuple[np.ndarray, bool]:
    """The design's critical values at the observed fractions ``t`` (recomputed by the
    spending function when they differ from the plan or the last look is the final analysis),
    and whether the last look is final."""
    planned = design.information_fractions
    ends = final or bool(t[-1] >= 1.0)
    spending = design.method in SPENDING_METHODS[:-1]
    as_planned = t.size <= planned.size and np.allclose(t, planned[: t.size], rtol=0, atol=1e-9)
    if as_planned and not (spending and ends):
        if ends and t.size < planned.size:
            raise ValueError(
                f"final=True ends the experiment at look {t.size} of {planned.size}, but a "
                f"{design.method!r} design fixes its looks in advance (use a spending-function "
                "design to end at another time)"
            )
        return design.critical_values[: t.size], t.size == planned.size
    if spending:
        return _spending_critical_values(design, t, ends), ends or bool(t[-1] >= planned[-1])
    raise ValueError(
        f"information_fractions {t.tolist()} do not match the planned looks "
        f"{planned.tolist()}; a {design.method!r} design fixes its looks in advance, over-runs "
        "included (use a spending-function design to look at other times, or analyze the "
        "planned looks only)"
    )


def _spending_critical_values(design: GroupSequentialDesign, t: np.ndarray,
                              ends: bool) -> np.ndarray:
    """Critical values that spend alpha(t_k) by look k; a final look spends all that is left,
    so the total is alpha whatever its fraction (Wassmer & Brannath 2016, sec. 3.3)."""
    spent = _total_spending(np.minimum(t, 1.0), design.alpha, design.method, design.gamma,
                            design.rho, design.alternative)
    if ends:
        spent[-1] = design.alpha
    return _spending_boundaries(t, spent, design.alternative == "two-sided")[0]


def _decision(z: np.ndarray, critical: np.ndarray, stop: int, final: bool) -> str:
    """The decision in words: stop and reject, stop at the final look, or continue."""
    if stop:
        side = "better" if z[stop - 1] > 0 else "worse"
        return (f"stop at look {stop}: reject H0 (Z = {format_number(z[stop - 1], 4)}, "
                f"boundary {format_number(critical[stop - 1], 4)}); treatment {side} than "
                "control")
    if final:
        return f"stop at the final look {z.size}: do not reject H0"
    return f"continue: no boundary crossed in {z.size} look(s)"
