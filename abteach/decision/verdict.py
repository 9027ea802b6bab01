"""The decision: ship, do not ship, keep running or investigate, with the reasons.

Section 11.6 of chapter 11 and 13.11 of the capstone. Trust first (a sample ratio
mismatch), then the guardrails, then the primary metric's statistical and practical
significance, then whether the plan is finished.

References
----------
Kohavi, R., Tang, D. & Xu, Y. (2020), *Trustworthy Online Controlled Experiments*,
Cambridge University Press, ch. 2 (Figure 2.4), 3, 7 and 21.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from abteach._records import Record, format_number
from abteach._records import brief as _f
from abteach._validate import check_alpha, check_choice, check_count, check_nonnegative
from abteach.decision._format import (
    _check_label,
    _amount,
    _interval,
    _level_text,
    _percent,
    _pvalue_text,
    _require_single,
    _sentence,
    _single,
)
from abteach.decision.guardrails import BAD_DIRECTIONS, GuardrailCheck

VERDICTS = ("ship", "do not ship", "keep running", "investigate")
INCONCLUSIVE_RULES = ("block", "allow")
#: Tolerance when comparing an observed information fraction with the planned last one.
_FRACTION_TOLERANCE = 1e-9


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
    final = (sequential.final
             or sequential.information_fractions[-1] >= last_planned - _FRACTION_TOLERANCE)
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
    r"""Ship, do not ship, keep running or investigate: the verdict with its reasons.

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

    Power of this rule. Rule 3 ships only when the test is significant AND the estimate
    is at least ``minimum_effect``, so its power is not the power of the test: for a true
    effect :math:`\Delta` with standard error SE (fixed-horizon analysis),
    :math:`P(\text{ship}) = \Phi((\Delta - \max(\delta, z_{1-\alpha/2} SE)) / SE)`,
    :math:`\delta` = ``minimum_effect`` (:func:`~abteach.decision.sizing.power_ship_rule`).
    An experiment sized for 80% power at an MDE equal to ``minimum_effect`` ships only 50%
    of the time when the true effect is that MDE. Either keep ``minimum_effect`` (the
    smallest effect worth shipping) at or below about 70% of the effect the experiment is
    sized to detect (at alpha 0.05 and power 0.8 the test is then the binding bar), or size
    the experiment with :func:`~abteach.decision.sizing.sample_size_ship_rule`.

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
    _check_label("metric", metric)
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
