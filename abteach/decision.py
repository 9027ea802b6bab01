"""From test results to a decision: guardrails, the verdict, expected impact and the report.

=============================  ===========================================================
function                       question
=============================  ===========================================================
:func:`guardrail_check`        is a guardrail metric within its tolerated degradation?
                               (non-inferiority on the relative change)
:func:`decide`                 ship, do not ship, keep running, or investigate?
:func:`expected_impact`        what is the effect worth over a population and a period?
:func:`experiment_report`      the whole experiment on one page (markdown or HTML)
=============================  ===========================================================

The decision follows Kohavi, Tang & Xu (2020), *Trustworthy Online Controlled Experiments*:
trust first (ch. 3 and 21: a sample ratio mismatch invalidates every metric), then the
guardrails that must not degrade (ch. 7 and 21), then the overall evaluation criterion
(OEC, ch. 7) with its statistical and practical significance (ch. 2, Figure 2.4).
"""

from __future__ import annotations

import html
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from abteach._records import Record, format_number
from abteach._records import brief as _f
from abteach._validate import (
    as_float_array,
    check_alpha,
    check_choice,
    check_count,
    check_nonnegative,
    check_positive,
    scalar_or_array,
)
from abteach.inference import (
    MeansTTest,
    ProportionsZTest,
    RatioMetricTest,
    lift_interval,
)

__all__ = [
    "BAD_DIRECTIONS",
    "GUARDRAIL_STATUSES",
    "REPORT_FORMATS",
    "VERDICTS",
    "Decision",
    "ExpectedImpact",
    "GuardrailCheck",
    "decide",
    "expected_impact",
    "experiment_report",
    "guardrail_check",
]

BAD_DIRECTIONS = ("increase", "decrease")
GUARDRAIL_STATUSES = ("pass", "fail", "inconclusive")
VERDICTS = ("ship", "do not ship", "keep running", "investigate")
REPORT_FORMATS = ("markdown", "html")
INCONCLUSIVE_RULES = ("block", "allow")
#: Tolerance when comparing an observed information fraction with the planned last one.
_FRACTION_TOLERANCE = 1e-9


# --------------------------------------------------------------------------------------------
# Formatting shared by the records, the reasons and the report
# --------------------------------------------------------------------------------------------


def _percent(value: float) -> str:
    """A relative change as a signed percentage: +1.95%, -0.3%, +inf%."""
    if not math.isfinite(value):
        return "+inf%" if value > 0 else "-inf%"
    return f"{100 * value:+.3g}%"


def _share(value: float) -> str:
    """A tolerance as an unsigned percentage: 2%, 0.5%."""
    return f"{100 * value:.3g}%"


def _level_text(alpha: float) -> str:
    return f"{format_number(100 * (1 - alpha), 4)}%"


def _is_proportion(result) -> bool:
    """Proportion results (they carry p_control) are reported in percentage points."""
    return hasattr(result, "p_control")


def _number(value: float, result, *, signed: bool = False) -> str:
    """An absolute effect without its unit: percentage points (2 decimals) for a proportion,
    4 significant digits otherwise."""
    if not math.isfinite(value):
        return "+inf" if value > 0 else "-inf"
    text = f"{100 * value:.2f}" if _is_proportion(result) else _f(value)
    return f"+{text}" if signed and value >= 0 else text


def _unit(result) -> str:
    return " points" if _is_proportion(result) else ""


def _amount(value: float, result, *, signed: bool = False) -> str:
    """An absolute effect with its unit: "0.52 points" for a proportion."""
    return _number(value, result, signed=signed) + _unit(result)


def _interval(low: float, high: float, result) -> str:
    """An interval of absolute effects: "0.21 to 0.83 points"."""
    return f"{_number(low, result)} to {_number(high, result)}{_unit(result)}"


def _pvalue_text(pvalue: float) -> str:
    return f"{pvalue:.2g}"


def _sentence(text: str) -> str:
    """Capitalise the first letter of a sentence that starts with a metric name."""
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------------------------
# Guardrails: non-inferiority on the relative change
# --------------------------------------------------------------------------------------------


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

    def __repr__(self) -> str:
        if isinstance(self.status, np.ndarray):  # a string array: Record formats numbers only
            head, _, tail = super().__repr__().partition("    status=")
            rest = tail.split("\n", 1)[1]
            statuses = dict(zip(*np.unique(self.status, return_counts=True)))
            counts = ", ".join(f"{s}: {int(statuses.get(s, 0))}" for s in GUARDRAIL_STATUSES)
            return f"{head}    status=array({counts}),\n{rest}"
        return super().__repr__()

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


def _single(name: str, array: np.ndarray) -> float:
    """A checked 0-d array as a float; an array where one number is expected is refused."""
    if np.ndim(array) != 0:
        raise ValueError(f"{name} must be a single number, got an array of shape "
                         f"{np.shape(array)}")
    return float(array)


def _require_single(name: str, value) -> None:
    if np.ndim(value) != 0:
        raise ValueError(f"{name} must hold one experiment, got arrays of shape {np.shape(value)}")


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
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"name must be a non-empty string or a Guardrail, got {name!r}")
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


# --------------------------------------------------------------------------------------------
# The decision
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class Decision(Record):
    """Result of :func:`decide`: the verdict and the sentences that justify it.

    ``primary_*`` describe the primary metric's result (``primary_pvalue`` is its fixed-
    horizon p-value); ``significant`` says whether the decision counted it as significant
    (from the sequential boundary when a plan was given); ``finished`` whether the planned
    sample or the final look was reached. ``srm_pvalue`` and ``srm_mismatch`` are None when
    no SRM check was given.
    """

    verdict: str
    reasons: tuple[str, ...]
    metric: str
    primary_effect: float
    primary_ci_low: float
    primary_ci_high: float
    primary_pvalue: float
    primary_lift: float | None
    significant: bool
    finished: bool
    guardrails: tuple[GuardrailCheck, ...] = field(repr=False)
    srm_pvalue: float | None
    srm_mismatch: bool | None
    direction: str
    minimum_effect: float
    alpha: float

    def explain(self) -> str:
        """The rules in the order they are applied, and the reasons of this verdict."""
        return "\n".join([
            f"Decision: {self.verdict.upper()}",
            "Rules, applied in order (Kohavi, Tang & Xu 2020, ch. 3, 7 and 21):",
            "  1. a sample ratio mismatch -> investigate (no metric can be trusted)",
            "  2. a guardrail that fails (degradation beyond tolerance) -> do not ship",
            "  3. primary significant in the hoped direction, effect >= minimum effect, every "
            "guardrail passing -> ship; significant in the wrong direction -> do not ship",
            "  4. plan not finished (looks or sample size) -> keep running; finished without a "
            "shippable result (or with an inconclusive guardrail) -> do not ship",
            "Reasons:",
            *(f"  - {reason}" for reason in self.reasons),
        ])


def _srm_summary(srm) -> tuple[float, bool, str]:
    """(p-value, mismatch flag, sentence) of an SRMTest or an SRMMonitor."""
    from abteach.srm import SRMMonitor, SRMTest

    if isinstance(srm, SRMTest):
        _require_single("srm", srm.pvalue)
        pvalue, mismatch = float(srm.pvalue), bool(srm.mismatch)
        where = "the sample ratio check"
    elif isinstance(srm, SRMMonitor):
        if srm.cumulative_pvalue.ndim != 1:
            raise ValueError(
                "srm must hold one experiment, got a monitor of shape "
                f"{srm.cumulative_pvalue.shape}"
            )
        day = int(srm.first_alarm_day) or srm.cumulative_pvalue.size  # 1-based
        pvalue, mismatch = float(srm.cumulative_pvalue[day - 1]), srm.first_alarm_day > 0
        where = (f"the cumulative sample ratio check on day {day} (its first alarm)" if mismatch
                 else f"the cumulative sample ratio check on the last day, day {day},")
    else:
        raise TypeError(f"srm must be an SRMTest or an SRMMonitor, got {type(srm).__name__}")
    threshold = float(srm.threshold)
    if mismatch:
        text = (f"Sample ratio mismatch: {where} gives p = {_pvalue_text(pvalue)} "
                f"(threshold {format_number(threshold)}), so the arms are not the sizes the "
                "design promised and no metric of this experiment can be trusted; find the "
                "cause before reading any result.")
    else:
        text = (f"No sample ratio mismatch: {where} gives p = {_pvalue_text(pvalue)}, not "
                f"below the threshold {format_number(threshold)}.")
    return pvalue, bool(mismatch), text


def _primary_fields(primary) -> dict:
    needed = ("effect", "ci_low", "ci_high", "pvalue", "alpha")
    missing = [name for name in needed if not hasattr(primary, name)]
    if missing:
        raise TypeError(
            "primary must be a test result with effect, ci_low, ci_high, pvalue and alpha "
            f"(ProportionsZTest, MeansTTest, RatioMetricTest, CupedTest), got "
            f"{type(primary).__name__} without {', '.join(missing)}"
        )
    values = {}
    for name in needed:
        value = getattr(primary, name)
        _require_single("primary", value)
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise TypeError(f"primary.{name} must be a number, got {value!r}")
        if math.isnan(value):
            raise ValueError(f"primary.{name} must not be NaN")
        values[name] = float(value)
    lift = getattr(primary, "lift", None)
    values["lift"] = None if lift is None else float(lift)
    return values


def _primary_sentence(metric: str, primary, values: dict) -> str:
    effect = values["effect"]
    moved = "rose" if effect > 0 else "fell" if effect < 0 else "did not change"
    alternative = getattr(primary, "alternative", "two-sided")
    level = _level_text(values["alpha"])
    interval = "CI" if alternative == "two-sided" else f"one-sided CI, {alternative}"
    lift = "" if values["lift"] is None else f", a relative change of {_percent(values['lift'])}"
    size = "" if effect == 0 else f" by {_amount(abs(effect), primary)}"
    return _sentence(
        f"{metric} {moved}{size} ({level} {interval} "
        f"{_interval(values['ci_low'], values['ci_high'], primary)}{lift}), "
        f"p = {_pvalue_text(values['pvalue'])}."
    )


def _sequential_state(sequential) -> tuple[bool, int, str]:
    """(finished, sign of a significant result (0 if none), sentence) of a SequentialAnalysis."""
    from abteach.sequential import SequentialAnalysis

    if not isinstance(sequential, SequentialAnalysis):
        raise TypeError(
            f"sequential must be a SequentialAnalysis, got {type(sequential).__name__}"
        )
    looks, planned = sequential.z_values.size, sequential.design.n_looks
    last_planned = float(sequential.design.information_fractions[-1])
    stop = sequential.stop_look
    if stop:
        z, bound = sequential.z_values[stop - 1], sequential.critical_values[stop - 1]
        text = (f"The sequential plan stopped at look {stop} of {planned}: Z = {_f(z)} crossed "
                f"the boundary {_f(bound)}, so the primary result is significant at the plan's "
                f"overall alpha = {format_number(sequential.design.alpha, 4)} (the interval "
                "above is the fixed-horizon one, not adjusted for the interim looks).")
        return True, int(np.sign(z)), text
    final = sequential.information_fractions[-1] >= last_planned - _FRACTION_TOLERANCE
    if final:
        text = (f"The sequential plan reached its final look ({looks} of {planned}) without "
                "crossing a boundary, so the primary result is not significant.")
    else:
        text = (f"The sequential plan has not crossed a boundary after {looks} of {planned} "
                f"looks (information fraction {_f(sequential.information_fractions[-1])}).")
    return bool(final), 0, text


def _fixed_horizon_state(primary, planned_n, observed_n) -> tuple[bool, str | None]:
    """(finished, sentence) of a fixed-horizon plan; finished when no plan size is given."""
    if planned_n is None:
        if observed_n is not None:
            raise ValueError(f"observed_n needs planned_n, got observed_n = {observed_n!r}")
        return True, None
    planned = int(_single("planned_n", check_count("planned_n", planned_n, minimum=1)))
    if observed_n is None:
        if not (hasattr(primary, "n_control") and hasattr(primary, "n_treatment")):
            raise TypeError(
                "observed_n is required when primary has no n_control and n_treatment, got None"
            )
        observed_n = np.asarray(primary.n_control) + np.asarray(primary.n_treatment)
    observed = int(_single("observed_n", check_count("observed_n", observed_n)))
    if observed >= planned:
        return True, f"The planned sample of {planned:,} units is reached ({observed:,} observed)."
    return False, (
        f"Only {observed:,} of the planned {planned:,} units ({100 * observed / planned:.0f}%) "
        "are in: a fixed-horizon p-value is valid only at the planned sample size, so it is not "
        "read as evidence yet (stopping at the first p < alpha inflates the false-positive "
        "rate, chapter 10)."
    )


def decide(
    primary,
    *,
    guardrails: Sequence[GuardrailCheck] = (),
    srm=None,
    sequential=None,
    direction: str = "increase",
    minimum_effect=0.0,
    alpha: float = 0.05,
    metric: str = "the primary metric",
    planned_n=None,
    observed_n=None,
    inconclusive_guardrails: str = "block",
) -> Decision:
    """Ship, do not ship, keep running or investigate: the verdict with its reasons.

    The rules are applied in this order; the first that applies decides.

    1. **Trust** (Kohavi, Tang & Xu 2020, ch. 3 and 21): an SRM check (``SRMTest`` or
       ``SRMMonitor``) that flags a sample ratio mismatch gives "investigate"; the metrics
       are not read at all, since the arms are not comparable.
    2. **Guardrails** (ch. 7 and 21): a guardrail whose check fails (degradation beyond its
       tolerance established, :func:`guardrail_check`) gives "do not ship", whatever the
       primary metric does.
    3. **Primary metric (the OEC)**: significant in the hoped ``direction`` with an effect of
       at least ``minimum_effect`` in that direction (practical significance, ch. 2) and
       every guardrail passing gives "ship"; significant in the wrong direction gives "do
       not ship"; significant but smaller than ``minimum_effect`` gives "do not ship".
    4. **Otherwise**: if the plan is not finished, "keep running"; when it is finished,
       "do not ship" (no evidence of an improvement), with the interval saying which
       effects are ruled out.

    Significance: with a ``sequential`` plan (a ``SequentialAnalysis``) the primary is
    significant when its boundary was crossed (the sign of Z at the stopping look gives the
    direction), never from the fixed-horizon p-value; the plan is finished when it stopped
    or reached its last planned look. Without one, the primary is significant when
    ``pvalue < alpha``, but only once the plan is finished: with ``planned_n`` given and
    ``observed_n`` (default: the result's n_control + n_treatment) below it, the fixed-
    horizon p-value is not valid yet (peeking, chapter 10) and the verdict is "keep
    running" unless a guardrail fails. Without ``planned_n`` the result is taken as the
    planned final analysis.

    Inconclusive guardrails. A guardrail that neither passes nor fails blocks shipping:
    while the plan runs the verdict is "keep running", and at the end "do not ship"
    (shipping needs positive evidence that no guardrail degrades beyond its tolerance, the
    burden of proof being on the change). With ``inconclusive_guardrails="allow"`` a
    significant win ships despite inconclusive guardrails (never a failed one), and the
    reasons say which guardrails were not shown safe.

    Parameters
    ----------
    primary : ProportionsZTest, MeansTTest, RatioMetricTest or CupedTest
        One experiment's test of the primary metric (duck-typed on ``effect``, ``ci_low``,
        ``ci_high``, ``pvalue``, ``alpha``).
    guardrails : sequence of GuardrailCheck
        One check per guardrail metric (:func:`guardrail_check`), single experiments.
    srm : SRMTest or SRMMonitor, optional
    sequential : SequentialAnalysis, optional
    direction : {"increase", "decrease"}
        The direction the hypothesis hopes the primary metric moves.
    minimum_effect : float
        Smallest effect worth shipping, >= 0, in the metric's units (an absolute difference,
        as ``effect``), in the hoped direction.
    alpha : float
        Significance level of the fixed-horizon p-value.
    metric : str
        Name of the primary metric in the reasons.
    planned_n, observed_n : int, optional
        Total planned and observed units (both arms) of a fixed-horizon plan.
    inconclusive_guardrails : {"block", "allow"}

    Returns
    -------
    Decision
        ``verdict``, ``reasons`` (full sentences, numbers formatted), the primary result's
        ``primary_effect``, ``primary_ci_low``, ``primary_ci_high``, ``primary_pvalue``,
        ``primary_lift``, the ``guardrails``, ``explain()``.

    References
    ----------
    Kohavi, R., Tang, D. & Xu, Y. (2020), *Trustworthy Online Controlled Experiments*,
    Cambridge University Press, ch. 2 (Figure 2.4, statistical and practical significance),
    3, 7 and 21.
    """
    direction = check_choice("direction", direction, BAD_DIRECTIONS)
    minimum = _single("minimum_effect", check_nonnegative("minimum_effect", minimum_effect))
    alpha = check_alpha(alpha)
    if not isinstance(metric, str) or not metric.strip():
        raise TypeError(f"metric must be a non-empty string, got {metric!r}")
    rule = check_choice("inconclusive_guardrails", inconclusive_guardrails, INCONCLUSIVE_RULES)
    if isinstance(guardrails, (str, bytes, GuardrailCheck)) or not isinstance(
        guardrails, Sequence
    ):
        raise TypeError(f"guardrails must be a sequence of GuardrailCheck, got {guardrails!r}")
    for i, check in enumerate(guardrails):
        if not isinstance(check, GuardrailCheck):
            raise TypeError(
                f"guardrails[{i}] must be a GuardrailCheck, got {type(check).__name__}"
            )
        _require_single(f"guardrails[{i}]", check.lift)
    guardrails = tuple(guardrails)
    values = _primary_fields(primary)
    if sequential is not None and (planned_n is not None or observed_n is not None):
        raise ValueError(
            "planned_n and observed_n are for a fixed-horizon plan; with a sequential plan its "
            f"looks decide, got planned_n = {planned_n!r}"
        )

    def verdict_of(verdict: str, reasons: list[str], *, significant=False, finished=True):
        srm_fields = (None, None) if srm is None else (srm_p, srm_mismatch)
        return Decision(
            verdict=verdict, reasons=tuple(reasons), metric=metric,
            primary_effect=values["effect"], primary_ci_low=values["ci_low"],
            primary_ci_high=values["ci_high"], primary_pvalue=values["pvalue"],
            primary_lift=values["lift"], significant=bool(significant),
            finished=bool(finished), guardrails=guardrails, srm_pvalue=srm_fields[0],
            srm_mismatch=srm_fields[1], direction=direction, minimum_effect=minimum,
            alpha=alpha,
        )

    reasons: list[str] = []
    if srm is not None:  # rule 1
        srm_p, srm_mismatch, srm_text = _srm_summary(srm)
        if srm_mismatch:
            return verdict_of("investigate", [srm_text], finished=False)
        reasons.append(srm_text)

    hoped = 1 if direction == "increase" else -1
    reasons.append(_primary_sentence(metric, primary, values))
    if sequential is not None:
        finished, sign, plan_text = _sequential_state(sequential)
    else:
        finished, plan_text = _fixed_horizon_state(primary, planned_n, observed_n)
        sign = int(np.sign(values["effect"])) if finished and values["pvalue"] < alpha else 0
    if plan_text:
        reasons.append(plan_text)
    reasons.extend(check.sentence() for check in guardrails)
    significant = sign != 0
    failed = [c.name for c in guardrails if c.status == "fail"]
    unsure = [c.name for c in guardrails if c.status == "inconclusive"]

    def done(verdict: str, text: str) -> Decision:
        return verdict_of(verdict, [*reasons, text], significant=significant, finished=finished)

    gain = hoped * values["effect"]
    hoped_word = "improvement" if direction == "increase" else "reduction"
    if failed:  # rule 2
        return done("do not ship", f"Do not ship: the guardrail{'s' * (len(failed) > 1)} "
                    f"{', '.join(failed)} degraded beyond the tolerance.")
    if significant and sign != hoped:  # rule 3
        return done("do not ship", f"Do not ship: {metric} moved significantly in the wrong "
                    f"direction (the hypothesis expected it to {direction}).")
    if significant and gain < minimum:
        return done("do not ship", (
            f"Do not ship: the {hoped_word} is statistically significant but its estimate, "
            f"{_amount(gain, primary)}, is below the minimum effect worth shipping, "
            f"{_amount(minimum, primary)}."
        ))
    if significant and (not unsure or rule == "allow"):
        extra = "" if not unsure else (
            f" The guardrail{'s' * (len(unsure) > 1)} {', '.join(unsure)} could not be shown "
            "within tolerance; shipping anyway was allowed by inconclusive_guardrails='allow'."
        )
        passed = "every guardrail passes" if guardrails and not unsure else (
            "no guardrail fails" if guardrails else "no guardrail was set")
        return done("ship", f"Ship: {metric} shows a significant {hoped_word} of at least the "
                    f"minimum effect and {passed}.{extra}")
    if not finished:  # rule 4
        wait = ("the next planned look" if sequential is not None else
                "the planned sample size")
        return done("keep running", f"Keep running: no rule decides before {wait}; no "
                    "guardrail has failed so far.")
    if significant:
        return done("do not ship", (
            f"Do not ship: {metric} improved significantly, but the guardrail"
            f"{'s' * (len(unsure) > 1)} {', '.join(unsure)} stayed inconclusive at the end of "
            "the plan, so a degradation beyond the tolerance is not ruled out."
        ))
    # Finished without a significant result: say which effects the interval rules out.
    best = values["ci_high"] if direction == "increase" else -values["ci_low"]
    if minimum > 0 and best < minimum:
        ruled = (f"an {hoped_word} of the minimum effect worth shipping "
                 f"({_amount(minimum, primary)}) is ruled out")
    elif math.isfinite(best):
        ruled = (f"the interval rules out an {hoped_word} larger than "
                 f"{_amount(max(best, 0.0), primary)}")
        if minimum > 0:
            ruled += (f", but an {hoped_word} of {_amount(minimum, primary)} is still "
                      "possible: the experiment could not detect it")
    else:
        ruled = f"the interval rules out no {hoped_word}"
    return done("do not ship", f"Do not ship: there is no evidence of an {hoped_word}; {ruled}.")


# --------------------------------------------------------------------------------------------
# Expected impact
# --------------------------------------------------------------------------------------------


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


def _units(units: float) -> str:
    return f"{units:,.0f}" if float(units).is_integer() else _f(units)


def _big(value: float) -> str:
    """Totals: thousands separators for large numbers, 4 significant digits otherwise."""
    if math.isfinite(value) and abs(value) >= 1000:
        return f"{value:,.0f}"
    return _f(value)


def expected_impact(result, *, units, period: str = "year", value=1.0) -> ExpectedImpact:
    r"""Scale an effect per unit to a population: effect x units x value, with its CI.

    With effect :math:`\hat\Delta` per unit (user) and confidence interval
    :math:`[L, U]` from ``result``, the total over ``units`` units (e.g. a year's users)
    with ``value`` per unit of the metric (e.g. the average order value when the metric is
    a conversion rate) is :math:`\hat\Delta \cdot N \cdot v` with interval
    :math:`[L N v, U N v]` at the result's confidence level: N and v are known constants.

    The total assumes the effect persists after launch and applies to every unit counted
    (Kohavi, Tang & Xu 2020, ch. 3 and 23 on novelty and long-term effects): an effect
    selected because it was significant is biased upward (the winner's curse), so read the
    interval, not only the estimate.

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
    if not isinstance(period, str) or not period.strip():
        raise TypeError(f"period must be a non-empty string, got {period!r}")
    effect = as_float_array("result.effect", result.effect)
    with np.errstate(invalid="ignore"):
        low, high = (np.asarray(getattr(result, n), dtype=float) for n in ("ci_low", "ci_high"))
    if np.isnan(low).any() or np.isnan(high).any():
        raise ValueError("result.ci_low and result.ci_high must not be NaN")
    scale = n * v
    alternative = getattr(result, "alternative", "two-sided")
    level = _level_text(float(result.alpha)) + ("" if alternative == "two-sided" else
                                                f" one-sided ({alternative})")
    return ExpectedImpact(
        effect=scalar_or_array(effect), ci_low=scalar_or_array(low),
        ci_high=scalar_or_array(high), units=n, value=v,
        total=scalar_or_array(effect * scale), total_ci_low=scalar_or_array(low * scale),
        total_ci_high=scalar_or_array(high * scale), period=period, level=level,
    )


# --------------------------------------------------------------------------------------------
# The report: one structured representation, two renderers
# --------------------------------------------------------------------------------------------
#
# A report is a list of blocks: ("heading", level, text), ("paragraph", text),
# ("items", [text, ...]) and ("table", header, rows). The renderers escape every text.


def _plan_items(spec) -> list[str]:
    metric = spec.primary_metric
    if metric.kind == "proportion":
        size = (f"baseline {format_number(100 * metric.baseline, 4)}%, minimum detectable "
                f"effect {format_number(100 * metric.mde, 4)} points")
    else:
        size = (f"baseline {format_number(metric.baseline, 4)}, minimum detectable effect "
                f"{format_number(metric.mde, 4)}")
    guardrails = "; ".join(
        f"{g.name} (at most {_share(g.tolerated_degradation)} worse, bad direction "
        f"{g.bad_direction})" for g in spec.guardrails
    ) or "none"
    try:
        sizes = spec.required_sample_size()
        sample = ", ".join(f"{variant} {n:,}" for variant, n in sizes.items())
    except NotImplementedError as exc:
        sample = f"not computed ({exc})"
    try:
        duration = f"{spec.duration_days()} days"
    except (NotImplementedError, ValueError) as exc:
        duration = f"not computed ({exc})"
    return [
        f"Hypothesis: {spec.hypothesis}",
        f"Eligibility: {spec.eligibility}",
        f"Primary metric (OEC): {metric.name} ({metric.kind}, expected to {metric.direction}; "
        f"{size})",
        f"Guardrails: {guardrails}",
        f"Secondary metrics: {', '.join(spec.secondary_metrics) or 'none'}",
        "Allocation: " + ", ".join(
            f"{variant} {format_number(100 * w, 4)}%" for variant, w in spec.allocation.items()
        ) + f" (control: {spec.control})",
        f"Error rates: alpha = {format_number(spec.alpha, 4)} (two-sided), power = "
        f"{format_number(spec.power, 4)}",
        f"Planned sample size: {sample}",
        f"Planned duration: {duration}",
    ]


def _check_result(name: str, result) -> None:
    for attribute in ("effect", "ci_low", "ci_high", "pvalue", "alpha"):
        if not hasattr(result, attribute):
            raise TypeError(
                f"results[{name!r}] must be a test result with effect, ci_low, ci_high, "
                f"pvalue and alpha, got {type(result).__name__}"
            )
        _require_single(f"results[{name!r}]", getattr(result, attribute))


def _result_row(name: str, result) -> list[str]:
    lift = getattr(result, "lift", None)
    has_lift = lift is not None and hasattr(result, "lift_ci_low")
    return [
        name,
        _amount(float(result.effect), result, signed=True),
        _interval(float(result.ci_low), float(result.ci_high), result),
        _percent(float(lift)) if has_lift else "n/a",
        f"{_percent(float(result.lift_ci_low))} to {_percent(float(result.lift_ci_high))}"
        if has_lift else "n/a",
        _pvalue_text(float(result.pvalue)),
    ]


def _report_blocks(spec, decision, results, impact, date) -> list[tuple]:
    blocks: list[tuple] = [("heading", 1, f"Experiment report: {spec.name}")]
    if date is not None:
        blocks.append(("paragraph", f"Date: {date}"))
    blocks += [("heading", 2, "Plan"), ("items", _plan_items(spec))]

    blocks.append(("heading", 2, "Trust: sample ratio check"))
    if decision.srm_pvalue is None:
        blocks.append(("paragraph", "No sample ratio check was given to the decision."))
    else:
        state = "MISMATCH: do not trust the metrics" if decision.srm_mismatch else "no mismatch"
        blocks.append(("paragraph", f"SRM p-value {_pvalue_text(decision.srm_pvalue)}: {state}."))

    levels = sorted({_level_text(float(r.alpha)) for r in results.values()})
    blocks += [
        ("heading", 2, "Metric results (treatment minus control)"),
        ("table",
         ["Metric", "Effect", f"{' / '.join(levels)} CI", "Relative lift", "Lift CI", "p-value"],
         [_result_row(name, result) for name, result in results.items()]),
    ]
    blocks.append(("heading", 2, "Guardrails"))
    if decision.guardrails:
        blocks.append(("table", ["Guardrail", "Change", "One-sided bounds", "Tolerance",
                                 "Bad direction", "Status"], [
            [g.name, _percent(g.lift), f"{_percent(g.ci_low)} to {_percent(g.ci_high)}",
             _share(g.tolerated_degradation), g.bad_direction, g.status]
            for g in decision.guardrails
        ]))
    else:
        blocks.append(("paragraph", "No guardrail checks were given to the decision."))
    blocks += [
        ("heading", 2, "Decision"),
        ("paragraph", f"Verdict: {decision.verdict.upper()}"),
        ("items", list(decision.reasons)),
    ]
    if impact is not None:
        blocks += [("heading", 2, "Expected impact"), ("paragraph", impact.sentence())]
    return blocks


_MARKDOWN_SPECIAL = "\\`*_[]<>|#&~$"


def _md(text: str, *, line_start: bool = True) -> str:
    """Escape text for markdown (CommonMark backslash escapes, on one line); at the start of a
    line a leading + - = would start a list or a heading underline, so it is escaped too."""
    text = " ".join(str(text).split())
    text = "".join("\\" + c if c in _MARKDOWN_SPECIAL else c for c in text)
    return "\\" + text if line_start and text[:1] in ("+", "-", "=") else text


def _render_markdown(blocks) -> str:
    lines: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "heading":
            lines += ["#" * block[1] + " " + _md(block[2]), ""]
        elif kind == "paragraph":
            lines += [_md(block[1]), ""]
        elif kind == "items":
            lines += [f"- {_md(item)}" for item in block[1]] + [""]
        else:
            header, rows = block[1], block[2]
            lines.append("| " + " | ".join(_md(h, line_start=False) for h in header) + " |")
            lines.append("|" + "|".join("---" for _ in header) + "|")
            lines += [
                "| " + " | ".join(_md(c, line_start=False) for c in row) + " |" for row in rows
            ]
            lines.append("")
    return "\n".join(lines)


_STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;"
    "line-height:1.4}table{border-collapse:collapse;margin:1em 0}"
    "th,td{border:1px solid #999;padding:.3em .6em;text-align:left}th{background:#eee}"
)


def _render_html(blocks) -> str:
    e = html.escape
    body: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "heading":
            body.append(f"<h{block[1]}>{e(block[2])}</h{block[1]}>")
        elif kind == "paragraph":
            body.append(f"<p>{e(block[1])}</p>")
        elif kind == "items":
            body.append("<ul>\n" + "\n".join(f"<li>{e(i)}</li>" for i in block[1]) + "\n</ul>")
        else:
            header = "".join(f"<th>{e(h)}</th>" for h in block[1])
            rows = "\n".join(
                "<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in block[2]
            )
            body.append(f"<table>\n<thead><tr>{header}</tr></thead>\n<tbody>\n{rows}\n"
                        "</tbody>\n</table>")
    title = e(blocks[0][2])
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>{title}</title>", f"<style>{_STYLE}</style>", "</head>", "<body>",
        *body, "</body>", "</html>", "",
    ])


def experiment_report(
    spec,
    decision: Decision,
    results: Mapping,
    *,
    format: str = "markdown",
    impact: ExpectedImpact | None = None,
    date: str | None = None,
) -> str:
    """A complete, deterministic report of an experiment, as markdown or self-contained HTML.

    Sections: the plan from the ``ExperimentSpec`` (hypothesis, eligibility, primary metric,
    guardrails, secondary metrics, allocation, alpha and power, the planned sample size
    from :meth:`~abteach.spec.ExperimentSpec.required_sample_size` and the duration from
    :meth:`~abteach.spec.ExperimentSpec.duration_days`), the sample ratio check, a table of
    metric results (effect, CI, relative lift and its CI, p-value), the guardrail statuses,
    the decision with its reasons and, when given, the expected impact. This follows the
    experiment scorecard of Kohavi, Tang & Xu (2020, ch. 7 and 16).

    Both formats are rendered from ONE list of blocks; every text is escaped (markdown
    backslash escapes, ``html.escape``), so a metric named ``<script>`` is shown, not run.
    The HTML has inline CSS only: no script, no external file, no network. Nothing depends on
    the clock: pass ``date`` to print one.

    Parameters
    ----------
    spec : ExperimentSpec
    decision : Decision
        From :func:`decide`.
    results : mapping of str to test result
        Metric name -> result (``effect``, ``ci_low``, ``ci_high``, ``pvalue``, ``alpha``;
        ``lift`` and its interval when the test reports them), one experiment each.
    format : {"markdown", "html"}
    impact : ExpectedImpact, optional
    date : str, optional

    Returns
    -------
    str
    """
    from abteach.spec import ExperimentSpec

    if not isinstance(spec, ExperimentSpec):
        raise TypeError(f"spec must be an ExperimentSpec, got {type(spec).__name__}")
    if not isinstance(decision, Decision):
        raise TypeError(f"decision must be a Decision, got {type(decision).__name__}")
    if not isinstance(results, Mapping) or not results:
        raise TypeError(f"results must be a non-empty mapping of metric name -> test result, "
                        f"got {results!r}")
    for key, result in results.items():
        if not isinstance(key, str) or not key.strip():
            raise TypeError(f"results keys must be metric names (non-empty strings), got {key!r}")
        _check_result(key, result)
    if impact is not None and not isinstance(impact, ExpectedImpact):
        raise TypeError(f"impact must be an ExpectedImpact, got {type(impact).__name__}")
    if date is not None and not isinstance(date, str):
        raise TypeError(f"date must be a string, got {date!r}")
    format = check_choice("format", format, REPORT_FORMATS)
    blocks = _report_blocks(spec, decision, results, impact, date)
    return _render_markdown(blocks) if format == "markdown" else _render_html(blocks)

