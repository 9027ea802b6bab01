r"""Monitoring a running experiment: apply a group-sequential design look by look.

References
----------
Lan, K. K. G. & DeMets, D. L. (1983), Discrete sequential boundaries for clinical trials,
*Biometrika* 70, 659-663.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from abteach._records import Record, format_number
from abteach._validate import as_float_array
from abteach.sequential._checks import _check_fractions
from abteach.sequential.boundaries import GroupSequentialDesign, _check_design, boundaries
from abteach.sequential.spending import SPENDING_METHODS

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
        lines.append(f"  Decision: {self.decision}")
        return "\n".join(lines)


def sequential_analysis(
    z_values, information_fractions, design: GroupSequentialDesign
) -> SequentialAnalysis:
    r"""Apply a group-sequential design to the looks of a running experiment.

    Look k crosses when :math:`|Z_k| \ge b_k` (two-sided; :math:`Z_k \ge b_k` or
    :math:`Z_k \le -b_k` one-sided). The experiment stops at the first crossing (H0 rejected,
    treatment better if Z > 0, worse if Z < 0), or at the design's last look without one (H0
    not rejected); otherwise it continues.

    The observed information fractions need not be the planned ones when the design uses a
    spending function (``ld-obf``, ``ld-pocock``, ``hsd``, ``power``): the boundaries are then
    recomputed at the observed fractions, which is the point of alpha spending (Lan & DeMets
    1983). Pocock, O'Brien-Fleming and ``user`` designs fix the looks in advance, so their
    fractions must match the plan.

    Parameters
    ----------
    z_values : sequence of float
        z-statistic (treatment minus control) at each look so far.
    information_fractions : sequence of float
        Information fraction at each look so far (same length, strictly increasing in (0, 1]).
    design : GroupSequentialDesign

    Returns
    -------
    SequentialAnalysis
        ``z_values``, ``information_fractions``, ``critical_values`` used, ``crossed`` (by
        look), ``stop_look`` (1-based; 0 if not stopped), ``reject``, ``decision`` and
        ``explain()``.

    Examples
    --------
    >>> design = boundaries(3, method="obf")
    >>> sequential_analysis([1.0, 3.5], [1 / 3, 2 / 3], design).decision
    'stop at look 2: reject H0 (Z = 3.5, boundary 2.454); treatment better than control'
    """
    design = _check_design(design)
    z = as_float_array("z_values", z_values)
    t = _check_fractions("information_fractions", information_fractions)
    if z.ndim != 1 or z.size != t.size:
        raise ValueError(
            f"z_values and information_fractions must be 1-D with one value per look each, "
            f"got z_values of shape {z.shape} and {t.size} information_fractions"
        )
    critical, final = _critical_values_at(design, t)
    if design.alternative == "two-sided":
        crossed = np.abs(z) >= critical
    elif design.alternative == "larger":
        crossed = z >= critical
    else:
        crossed = z <= -critical
    stop = int(np.argmax(crossed)) + 1 if crossed.any() else 0
    return SequentialAnalysis(
        z_values=z, information_fractions=t, critical_values=critical, crossed=crossed,
        stop_look=stop, reject=bool(stop), decision=_decision(z, critical, stop, final),
        design=design,
    )


def _critical_values_at(design: GroupSequentialDesign, t: np.ndarray) -> tuple[np.ndarray, bool]:
    """The design's critical values at the observed fractions ``t`` (recomputed by the
    spending function when they differ from the plan), and whether the last look is final."""
    planned = design.information_fractions
    if t.size <= planned.size and np.allclose(t, planned[: t.size], rtol=0, atol=1e-9):
        return design.critical_values[: t.size], t.size == planned.size
    if design.method in SPENDING_METHODS[:-1]:
        critical = boundaries(
            t, alpha=design.alpha, method=design.method, gamma=design.gamma, rho=design.rho,
            alternative=design.alternative,
        ).critical_values
        return critical, bool(t[-1] >= planned[-1])
    raise ValueError(
        f"information_fractions {t.tolist()} do not match the planned looks "
        f"{planned.tolist()}; a {design.method!r} design fixes its looks in advance (use a "
        "spending-function design to look at other times)"
    )


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
