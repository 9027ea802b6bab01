r"""Guardrails: is a guardrail metric within its tolerated degradation?

Section 11.6 of chapter 11 (and 13.8): a non-inferiority test on the relative change,
treatment / control - 1, with the one-sided bounds of the log-scale delta-method interval.

References
----------
Schuirmann, D. J. (1987), *J. Pharmacokinetics and Biopharmaceutics* 15, 657-680.
Wellek, S. (2010), *Testing Statistical Hypotheses of Equivalence and Noninferiority*, 2nd ed.
Kohavi, Tang & Xu (2020), *Trustworthy Online Controlled Experiments*, ch. 7 and 21.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

from abteach._records import Record, format_number
from abteach._records import brief as _f
from abteach._validate import check_alpha, check_choice, check_positive, scalar_or_array
from abteach.decision._format import (
    _check_label,
    _level_text,
    _percent,
    _require_single,
    _share,
    _single,
)
from abteach.inference import (
    MeansTTest,
    ProportionsZTest,
    RatioMetricTest,
    lift_interval,
)

BAD_DIRECTIONS = ("increase", "decrease")
GUARDRAIL_STATUSES = ("pass", "fail", "inconclusive")


@dataclass(frozen=True, repr=False, eq=False)
class GuardrailCheck(Record):
    """Result of :func:`guardrail_check`.

    ``lift`` is the relative change treatment / control - 1; ``ci_low`` and ``ci_high`` are
    its one-sided (1 - ``alpha``) lower and upper confidence bounds (together a two-sided
    1 - 2 ``alpha`` interval, the TOST convention); ``status`` is "pass", "fail" or
    "inconclusive". For a batch of experiments the numeric fields and ``status`` are arrays.
    """

    name: str
    lift: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    tolerated_degradation: float
    bad_direction: str
    status: str | np.ndarray
    alpha: float

    def _status_summary(self) -> GuardrailCheck:
        """This batch with ``status`` as "array(pass: 3, fail: 0, inconclusive: 1)": the
        repr and the HTML table format numbers and strings, not arrays of strings."""
        statuses = dict(zip(*np.unique(self.status, return_counts=True)))
        counts = ", ".join(f"{s}: {int(statuses.get(s, 0))}" for s in GUARDRAIL_STATUSES)
        return replace(self, status=f"array({counts})")

    def __repr__(self) -> str:
        if isinstance(self.status, np.ndarray):
            summary = self._status_summary()
            return Record.__repr__(summary).replace(repr(summary.status), summary.status)
        return super().__repr__()

    def _repr_html_(self) -> str:
        if isinstance(self.status, np.ndarray):
            return Record._repr_html_(self._status_summary())
        return super()._repr_html_()

    def sentence(self) -> str:
        """One sentence for a decision's reasons (a single experiment only)."""
        _require_single("check", self.lift)
        m = self.tolerated_degradation
        worse = "rise" if self.bad_direction == "increase" else "fall"
        limit = _percent(m if self.bad_direction == "increase" else -m)
        level = _level_text(self.alpha)
        change = (
            f"Guardrail {self.name} changed by {_percent(self.lift)} (one-sided {level} bounds "
            f"{_percent(self.ci_low)} to {_percent(self.ci_high)}, tolerance {limit})"
        )
        if self.status == "pass":
            return f"{change}: a {worse} of more than {_share(m)} is ruled out, so it passes."
        if self.status == "fail":
            return (f"{change}: it has degraded by more than the tolerated {_share(m)}, "
                    "so it fails.")
        return (f"{change}: neither a {worse} beyond {_share(m)} nor one within it is "
                "established, so it is inconclusive.")

    def explain(self) -> str:
        """The non-inferiority test with the numbers plugged in (a summary for a batch)."""
        m, level = self.tolerated_degradation, _level_text(self.alpha)
        limit = f"+{_f(m)}" if self.bad_direction == "increase" else f"-{_f(m)}"
        head = (
            f"Guardrail {self.name!r}: non-inferiority test on the relative change, bad "
            f"direction {self.bad_direction}, tolerated degradation {_share(m)}, "
            f"alpha = {format_number(self.alpha, 4)} (one-sided)"
        )
        if self.bad_direction == "increase":
            rule = (f"  pass if the {level} upper bound < {limit}; fail if the {level} lower "
                    f"bound > {limit}; otherwise inconclusive")
        else:
            rule = (f"  pass if the {level} lower bound > {limit}; fail if the {level} upper "
                    f"bound < {limit}; otherwise inconclusive")
        if isinstance(self.status, np.ndarray):
            counts = {s: int(np.sum(self.status == s)) for s in GUARDRAIL_STATUSES}
            return "\n".join([
                f"{self.status.size} experiments. " + head, rule,
                "  " + ", ".join(f"{s}: {n}" for s, n in counts.items()),
            ])
        return "\n".join([
            head,
            f"  lift = treatment / control - 1 = {_f(self.lift)}",
            f"  one-sided {level} bounds: exp(log(1 + lift) -/+ z_(1-alpha) * SE_log) - 1, "
            f"z_(1-alpha) = {_f(stats.norm.isf(self.alpha))}: lower {_f(self.ci_low)}, "
            f"upper {_f(self.ci_high)}",
            rule,
            f"  status: {self.status}",
        ])



def _one_sided_lift_bounds(result, alpha: float):
    """The lift and its one-sided (1 - alpha) lower and upper bounds
    (:func:`abteach.inference.lift_interval` with "larger" and "smaller")."""
    if not isinstance(result, (ProportionsZTest, MeansTTest, RatioMetricTest)):
        raise TypeError(
            "result must be a test result with a relative lift and its interval "
            f"(ProportionsZTest, MeansTTest, RatioMetricTest), got {type(result).__name__}"
        )
    lower, _ = lift_interval(result, alternative="larger", alpha=alpha)
    _, upper = lift_interval(result, alternative="smaller", alpha=alpha)
    lift = np.asarray(result.lift, dtype=float)
    # min/max: exp(log(1 + lift)) - 1 may miss lift by an ulp when the interval is tiny
    return lift, np.minimum(lower, lift), np.maximum(upper, lift)


def guardrail_check(
    name,
    result,
    *,
    tolerated_degradation=None,
    bad_direction: str | None = None,
    alpha: float = 0.05,
) -> GuardrailCheck:
    r"""Non-inferiority check of a guardrail metric on its relative change.

    With lift :math:`\ell = \text{treatment} / \text{control} - 1`, tolerance
    :math:`m > 0` and one-sided :math:`(1 - \alpha)` bounds :math:`L \le \ell \le U`,
    a guardrail whose bad direction is "increase" (latency, errors, refunds)

    * **passes** when :math:`U < +m`: a degradation of more than m is ruled out,
    * **fails** when :math:`L > +m`: a degradation beyond the tolerance is established,
    * is **inconclusive** otherwise (the data cannot tell; more users are needed);

    and mirrored for "decrease" (revenue, retention): passes when :math:`L > -m`, fails
    when :math:`U < -m`. Passing is the one-sided test of H0: degradation >= m at level
    alpha (Schuirmann 1987; Wellek 2010, ch. 2 and 5): at a true degradation of exactly m it
    passes with probability alpha. Failing is the mirror test of H0: degradation <= m.

    The bounds are the log-scale delta-method interval of the result's lift
    (:func:`abteach.inference.lift_interval`, the interval behind ``lift_ci_low`` and
    ``lift_ci_high``) at the one-sided level: :math:`\exp(\log(1 + \ell) \mp z_{1-\alpha}
    SE_{\log}) - 1`. For proportions this is Katz's log interval of the risk ratio.

    Parameters
    ----------
    name : str or Guardrail
        The metric's name, or a :class:`abteach.spec.Guardrail` of an ExperimentSpec that
        supplies the name, the tolerance and the bad direction (then leave those keywords
        out).
    result : ProportionsZTest, MeansTTest or RatioMetricTest
        The guardrail metric's test, any alternative and alpha (only its estimates are
        used). Array results give one check per experiment.
    tolerated_degradation : float
        m, a fraction > 0 of the control value (0.02: at most 2% worse).
    bad_direction : {"increase", "decrease"}
        Which way the metric gets worse.
    alpha : float
        One-sided level; the default 0.05 uses 95% one-sided bounds (a 90% interval).

    Returns
    -------
    GuardrailCheck
        ``name``, ``lift``, ``ci_low``, ``ci_high``, ``tolerated_degradation``,
        ``bad_direction``, ``status``, ``alpha`` and :meth:`~GuardrailCheck.explain`.

    Notes
    -----
    Every guardrail is tested on its own at level alpha: a pass is protected at alpha per
    guardrail, so with many guardrails the chance that some harmful one passes grows; see
    chapter 8 on multiple testing. A guardrail needs its own power: with too few users it
    stays inconclusive (Kohavi, Tang & Xu 2020, ch. 7 and 21).

    References
    ----------
    Schuirmann, D. J. (1987), A comparison of the two one-sided tests procedure and the power
    approach for assessing the equivalence of average bioavailability, *J. Pharmacokinetics
    and Biopharmaceutics* 15, 657-680.
    Wellek, S. (2010), *Testing Statistical Hypotheses of Equivalence and Noninferiority*,
    2nd ed., CRC Press.
    Kohavi, Tang & Xu (2020), *Trustworthy Online Controlled Experiments*, ch. 7 and 21.

    Examples
    --------
    Refunds among 20,000 orders per arm: 400 in control, 404 in treatment, 10% tolerated.

    >>> from abteach.inference import ztest_proportions
    >>> check = guardrail_check("refund_rate", ztest_proportions(400, 20000, 404, 20000),
    ...                         tolerated_degradation=0.10, bad_direction="increase")
    >>> print(check.status, f"{check.ci_high:.4f}")
    inconclusive 0.1329
    """
    from abteach.spec import Guardrail

    if isinstance(name, Guardrail):
        for keyword, value in (("tolerated_degradation", tolerated_degradation),
                               ("bad_direction", bad_direction)):
            if value is not None:
                raise TypeError(
                    f"{keyword} comes from the Guardrail {name.name!r}: do not pass it too, "
                    f"got {value!r}"
                )
        name, tolerated_degradation, bad_direction = (
            name.name, name.tolerated_degradation, name.bad_direction
        )
    _check_label("name", name, expected="a non-empty string or a Guardrail")
    if tolerated_degradation is None:
        raise TypeError("tolerated_degradation is required (a fraction > 0), got None")
    if bad_direction is None:
        raise TypeError("bad_direction is required ('increase' or 'decrease'), got None")
    tolerance = _single("tolerated_degradation", check_positive(
        "tolerated_degradation", tolerated_degradation))
    bad_direction = check_choice("bad_direction", bad_direction, BAD_DIRECTIONS)
    alpha = check_alpha(alpha)
    lift, lower, upper = _one_sided_lift_bounds(result, alpha)
    if bad_direction == "increase":
        passed, failed = upper < tolerance, lower > tolerance
    else:
        passed, failed = lower > -tolerance, upper < -tolerance
    status = np.where(passed, "pass", np.where(failed, "fail", "inconclusive"))
    return GuardrailCheck(
        name=name,
        lift=scalar_or_array(lift),
        ci_low=scalar_or_array(lower),
        ci_high=scalar_or_array(upper),
        tolerated_degradation=tolerance,
        bad_direction=bad_direction,
        status=str(status) if status.ndim == 0 else status,
        alpha=alpha,
    )
