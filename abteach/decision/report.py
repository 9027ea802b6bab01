"""The experiment report: one structured representation, rendered as Markdown or HTML.

Section 11.6 of chapter 11 and 13.11 of the capstone. :func:`experiment_report` builds a
list of blocks, ``("heading", level, text)``, ``("paragraph", text)``, ``("items", [text,
...])`` and ``("table", header, rows)``, and one renderer per format writes them out,
escaping every text.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from abteach._records import format_number
from abteach._validate import check_choice, check_int
from abteach.decision._format import (
    _check_label,
    _amount,
    _interval,
    _level_text,
    _percent,
    _pvalue_text,
    _require_single,
    _share,
)
from abteach.decision.impact import ExpectedImpact
from abteach.decision.verdict import Decision

REPORT_FORMATS = ("markdown", "html")


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
    heading_level: int = 1,
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
    heading_level : int, 1 to 4
        The level of the report's title; its sections are one level below. A report shown
        inside a chapter section uses 3 (``###``), so it does not outrank the chapter's headings.

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
        _check_label("results keys", key, expected="metric names (non-empty strings)")
        _check_result(key, result)
    if impact is not None and not isinstance(impact, ExpectedImpact):
        raise TypeError(f"impact must be an ExpectedImpact, got {type(impact).__name__}")
    if date is not None:
        _check_label("date", date, expected="a string (not blank)")
    format = check_choice("format", format, REPORT_FORMATS)
    heading_level = check_int("heading_level", heading_level, minimum=1, maximum=4)
    blocks = [
        ("heading", block[1] + heading_level - 1, *block[2:]) if block[0] == "heading" else block
        for block in _report_blocks(spec, decision, results, impact, date)
    ]
    return _render_markdown(blocks) if format == "markdown" else _render_html(blocks)

