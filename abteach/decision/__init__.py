"""From test results to a decision: guardrails, the verdict, expected impact and the report.

=============================  ===========================================================
function                       question
=============================  ===========================================================
:func:`guardrail_check`        is a guardrail metric within its tolerated degradation?
                               (non-inferiority on the relative change)
:func:`decide`                 ship, do not ship, keep running, or investigate?
:func:`expected_impact`        what is the effect worth over a population and a period?
:func:`experiment_report`      the whole experiment on one page (markdown or HTML)
:func:`sample_size_ship_rule`  how many units for the ship rule (significant AND estimate
                               >= the smallest effect worth shipping)? (:mod:`.sizing`)
:mod:`.sizing`                 how many units for a guardrail with a margin
                               (non-inferiority), or for equivalence (TOST)? their powers
=============================  ===========================================================

The decision follows Kohavi, Tang & Xu (2020), *Trustworthy Online Controlled Experiments*:
trust first (ch. 3 and 21: a sample ratio mismatch invalidates every metric), then the
guardrails that must not degrade (ch. 7 and 21), then the overall evaluation criterion
(OEC, ch. 7) with its statistical and practical significance (ch. 2, Figure 2.4).

=============================  ===========================================================
module                         contents
=============================  ===========================================================
:mod:`.guardrails`             :func:`guardrail_check`, :class:`GuardrailCheck`
:mod:`.verdict`                :func:`decide`, :class:`Decision`
:mod:`.impact`                 :func:`expected_impact`, :class:`ExpectedImpact`
:mod:`.report`                 :func:`experiment_report` (Markdown and HTML renderers)
:mod:`.sizing`                 :func:`power_ship_rule`, :func:`sample_size_ship_rule`,
                               :func:`power_noninferiority`,
                               :func:`sample_size_noninferiority`,
                               :func:`power_equivalence`, :func:`sample_size_equivalence`
=============================  ===========================================================
"""

from __future__ import annotations

from abteach.decision.guardrails import (
    BAD_DIRECTIONS,
    GUARDRAIL_STATUSES,
    GuardrailCheck,
    guardrail_check,
)
from abteach.decision.impact import ExpectedImpact, expected_impact
from abteach.decision.report import REPORT_FORMATS, experiment_report
from abteach.decision.sizing import (
    power_equivalence,
    power_noninferiority,
    power_ship_rule,
    sample_size_equivalence,
    sample_size_noninferiority,
    sample_size_ship_rule,
)
from abteach.decision.verdict import VERDICTS, Decision, decide

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
    "power_equivalence",
    "power_noninferiority",
    "power_ship_rule",
    "sample_size_equivalence",
    "sample_size_noninferiority",
    "sample_size_ship_rule",
]
