r"""Expected impact: what an effect per unit is worth over a population and a period.

Section 11.6 of chapter 11 and 13.11 of the capstone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from abteach._records import Record
from abteach._records import brief as _f
from abteach._validate import as_float_array, check_positive, scalar_or_array
from abteach.decision._format import (
    _big,
    _check_label,
    _level_text,
    _require_single,
    _single,
    _units,
)


@dataclass(frozen=True, repr=False, eq=False)
class ExpectedImpact(Record):
    """Result of :func:`expected_impact`: the effect per unit and over the population."""

    effect: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    units: float
    value: float
    total: float | np.ndarray
    total_ci_low: float | np.ndarray
    total_ci_high: float | np.ndarray
    period: str
    level: str

    def sentence(self) -> str:
        """One sentence for a report (a single experiment only)."""
        _require_single("impact", self.total)
        return (f"Expected impact over {_units(self.units)} units per {self.period}: "
                f"{_big(self.total)} ({self.level} CI {_big(self.total_ci_low)} to "
                f"{_big(self.total_ci_high)}), if the measured effect persists.")

    def explain(self) -> str:
        """The scaling with the numbers plugged in."""
        if np.ndim(self.total) != 0:
            return (f"{np.size(self.total)} experiments: total = effect x {_units(self.units)} "
                    f"units per {self.period} x value {_f(self.value)}")
        return "\n".join([
            f"Expected impact per {self.period} = effect per unit x units x value per unit "
            "of the metric",
            f"  effect per unit = {_f(self.effect)} ({self.level} CI {_f(self.ci_low)} to "
            f"{_f(self.ci_high)})",
            f"  total = {_f(self.effect)} x {_units(self.units)} x {_f(self.value)} = "
            f"{_big(self.total)} ({self.level} CI {_big(self.total_ci_low)} to "
            f"{_big(self.total_ci_high)})",
            "  The interval scales with the known constants units x value. The total assumes "
            "the effect measured during the test persists (no novelty decay, chapter 9) and "
            "is not inflated by having been selected for significance (the winner's curse).",
        ])



def expected_impact(result, *, units, period: str = "year", value=1.0) -> ExpectedImpact:
    r"""Scale an effect per unit to a population: effect x units x value, with its CI.

    With effect :math:`\hat\Delta` per unit (user) and confidence interval
    :math:`[L, U]` from ``result``, the total over ``units`` units (e.g. a year's users)
    with ``value`` per unit of the metric (e.g. the average order value when the metric is
    a conversion rate) is :math:`\hat\Delta \cdot N \cdot v` with interval
    :math:`[L N v, U N v]` at the result's confidence level: N and v are known constants.

    The total assumes the effect persists after launch and applies to every unit counted
    (Kohavi, Tang & Xu 2020, ch. 3 and 23 on novelty and long-term effects).

    What the interval leaves out (it is too narrow, and after selection centered too high):

    * **The value per unit is treated as known.** When v is itself estimated (an average
      order value from the same or another sample) with standard error :math:`s_v`, the
      total :math:`\hat\Delta \hat v N` has, by the delta method with independent
      estimates, :math:`\operatorname{SE} \approx N \sqrt{v^2 \operatorname{SE}(\hat\Delta)^2
      + \hat\Delta^2 s_v^2}`; the interval returned here keeps only the first term.
    * **Selection for significance (the winner's curse).** The interval is valid for an
      experiment chosen before its result was known. An effect reported *because* it was
      significant is biased upward: conditional on :math:`|\hat\Delta| / \operatorname{SE}
      > z_{1-\alpha/2}`, its expectation exceeds the true effect, by a lot when the power
      was low, and the interval covers less often than its level. Shrink the estimate
      (empirical Bayes across experiments, chapter 12) or confirm it in a replication
      before quoting the total.

    Parameters
    ----------
    result : a test result with ``effect``, ``ci_low``, ``ci_high`` and ``alpha``
        ProportionsZTest, MeansTTest, RatioMetricTest, CupedTest (arrays allowed).
    units : float
        Units exposed over the period (> 0).
    period : str
        Label of the period ("year", "quarter").
    value : float
        Value of one unit of the metric (> 0; 1 keeps the metric's own units).

    Returns
    -------
    ExpectedImpact

    Examples
    --------
    >>> from abteach.inference import ztest_proportions
    >>> impact = expected_impact(ztest_proportions(122, 21306, 267, 21307),
    ...                          units=1_000_000, value=100.0)
    >>> print(f"{impact.total:,.0f}")
    680,501
    """
    missing = [n for n in ("effect", "ci_low", "ci_high", "alpha") if not hasattr(result, n)]
    if missing:
        raise TypeError(
            "result must be a test result with effect, ci_low, ci_high and alpha, got "
            f"{type(result).__name__} without {', '.join(missing)}"
        )
    n = _single("units", check_positive("units", units))
    v = _single("value", check_positive("value", value))
    _check_label("period", period)
    effect = as_float_array("result.effect", result.effect)
    with np.errstate(invalid="ignore"):
        low, high = (np.asarray(getattr(result, n), dtype=float) for n in ("ci_low", "ci_high"))
    if np.isnan(low).any() or np.isnan(high).any():
        raise ValueError("result.ci_low and result.ci_high must not be NaN")
    alternative = getattr(result, "alternative", "two-sided")
    level = _level_text(float(result.alpha)) + ("" if alternative == "two-sided" else
                                                f" one-sided ({alternative})")
    total, total_low, total_high = _totals(n, v, effect, low, high)
    return ExpectedImpact(
        effect=scalar_or_array(effect), ci_low=scalar_or_array(low),
        ci_high=scalar_or_array(high), units=n, value=v,
        total=scalar_or_array(total), total_ci_low=scalar_or_array(total_low),
        total_ci_high=scalar_or_array(total_high), period=period, level=level,
    )


def _totals(units: float, value: float, *per_unit: np.ndarray) -> list[np.ndarray]:
    """``per_unit * units * value`` for each array, refusing a finite number that overflows."""
    with np.errstate(over="ignore"):  # an overflow is refused below, with the reason
        totals = [array * (units * value) for array in per_unit]
    for array, total in zip(per_unit, totals):
        overflow = np.isfinite(array) & ~np.isfinite(total)
        if overflow.any():
            raise ValueError(
                f"units * value is too large: units = {units!r} and value = {value!r} make "
                "the total overflow; count in larger units (thousands, millions)"
            )
    return totals
