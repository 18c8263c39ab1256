"""A verdict as one self-contained HTML page. Rendering only: no decisions.

The page loads nothing: no script (none is needed), stylesheet, font or image comes from
anywhere, the CSS is inline and the charts are inline SVG, and a Content-Security-Policy
forbids any fetch, so the file can be archived beside the verdict and opened offline.

Forest plot: every quality or latency gate gets its own row and its own axis, scaled to that
row's interval and rule line. A shared axis cannot work: a delta in accuracy (±0.05), a
latency ratio (×2) and a candidate percentile against a 30 ms budget have different units and
scales, and on one axis most intervals would shrink to a dot. Each row is read on its own
tick labels; the text beside it gives the numbers.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

from .files import write_text
from typing import Any

__all__ = ["OUTCOME_COLOURS", "render_html", "write_html"]

#: the colour of each gate outcome (badges, forest-plot intervals)
OUTCOME_COLOURS: dict[str, str] = {
    "passed": "#1a7f37", "failed": "#cf222e", "inconclusive": "#9a6700", "error": "#8250df", "skipped": "#6e7781", "updated": "#0969da",
}  # fmt: skip
_UNKNOWN_COLOUR = "#57606a"
_OUTCOME_LABEL = {
    "passed": "PASS", "failed": "FAIL", "inconclusive": "INCONCLUSIVE", "error": "ERROR", "skipped": "SKIP", "updated": "UPDATED",
}  # fmt: skip
_MODEL_COLOUR = {"candidate": "#0969da", "baseline": "#6e7781"}
_PASS_SIDE = "#dcf1e2"
_MAX_FAILING_IDS = 200


def render_html(verdict: dict) -> str:
    """The verdict as one HTML document: decision, gates, intervals, latency, slices, golden, drift, envelope."""
    decision = str(verdict.get("decision") or "unknown")
    body = [
        _banner(verdict, decision),
        _gate_table(verdict.get("gates") or []),
        _forest(verdict.get("gates") or []),
        _latency_section(verdict.get("gates") or []),
        _slices_section(verdict.get("gates") or []),
        _golden_section(verdict.get("gates") or []),
        _drift_section(verdict.get("gates") or []),
        _models_section(verdict),
        _replay_section(verdict.get("replay")),
        _envelope_section(verdict),
    ]
    title = f"pytest-promote verdict: {decision.upper()}"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        # no fetch of any kind, even if a hostile string slipped through escaping
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(part for part in body if part)
        + "\n</main>\n</body>\n</html>\n"
    )


def write_html(path: Path | str, verdict: dict) -> None:
    """Temp file in the same folder, fsync, rename: readers see the old page or the new one."""
    write_text(Path(path), render_html(verdict))


# --- banner ------------------------------------------------------------------------------------


def _banner(verdict: dict, decision: str) -> str:
    kind = "promote" if decision == "promote" else "block"
    reasons = verdict.get("reasons") or []
    warnings = verdict.get("warnings") or []
    parts = [f'<header class="banner {kind}">', f'<div class="decision">{_e(decision.upper())}</div>', _banner_meta(verdict)]
    if reasons:
        items = "".join(f"<li><code>{_e(reason.get('code'))}</code> {_e(reason.get('message'))}</li>" for reason in reasons)
        parts.append(f'<h2>Reasons</h2><ul class="reasons">{items}</ul>')
    if warnings:
        items = "".join(f"<li>{_e(warning)}</li>" for warning in warnings)
        parts.append(f'<h2>Warnings</h2><ul class="warnings">{items}</ul>')
    parts.append("</header>")
    return "\n".join(parts)


def _banner_meta(verdict: dict) -> str:
    tests = verdict.get("tests") or {}
    counts = ", ".join(f"{tests[key]} {key}" for key in ("passed", "failed", "skipped", "errors") if key in tests)
    gates = verdict.get("gates") or []
    blocking = sum(1 for gate in gates if gate.get("severity") != "warn")
    facts = [
        f"created {_e(verdict.get('created_at') or '-')}",
        f"candidate <code>{_e(_source(verdict.get('candidate')))}</code> vs baseline <code>{_e(_source(verdict.get('baseline')))}</code>",
        f"{len(gates)} gate(s), {blocking} blocking",
        f"tests: {_e(counts or '-')}",
    ]
    return '<p class="meta">' + " · ".join(facts) + "</p>"


def _source(model: Any) -> str:
    return str(model.get("source")) if isinstance(model, dict) and model.get("source") is not None else "-"


# --- gate table --------------------------------------------------------------------------------


def _gate_table(gates: list[dict]) -> str:
    if not gates:
        return '<section id="gates"><h2>Gates</h2><p class="empty">No promotion gate ran.</p></section>'
    head = "".join(f"<th>{name}</th>" for name in ("gate", "kind", "metric", "candidate", "baseline", "comparison", "rule", "result"))
    rows = "".join(_gate_rows(gate) for gate in gates)
    return f'<section id="gates"><h2>Gates</h2><div class="scroll"><table class="gates"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div></section>'


def _gate_rows(gate: dict) -> str:
    candidate, baseline, comparison = _CELLS.get(str(gate.get("kind")), _quality_cells)(gate)
    if gate.get("measured") is False:
        comparison = "not measured"
    cells = [
        _gate_id(gate.get("id")), _e(gate.get("kind") or "-"), _e(gate.get("metric") or "-"),
        _e(_glue(candidate)), _e(_glue(baseline)), _e(_glue(comparison)), _e(gate.get("rule") or "-"), _badge(gate),
    ]  # fmt: skip
    notes = ([gate["message"]] if gate.get("message") else []) + list(gate.get("warnings") or [])
    if gate.get("measured") is False and not gate.get("message"):
        notes.insert(0, "the gate's measuring call did not complete")
    row = ('<tr class="has-note">' if notes else "<tr>") + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"
    if notes:
        # the message sits under its gate so the table alone says why a gate did not pass
        row += '<tr class="note"><td colspan="8">' + "<br>".join(_e(note) for note in notes) + "</td></tr>"
    return row


# no-break spaces inside brackets and before units: a cell wraps between a value and its interval only
def _glue(text: str) -> str:
    glued, depth = [], 0
    for index, char in enumerate(text):
        depth += {"[": 1, "]": -1}.get(char, 0)
        after = text[index + 1 : index + 3]
        glued.append("\u00a0" if char == " " and (depth > 0 or after in ("ms", "Mi") or text[index - 1 : index] in ("Δ", "≤")) else char)
    return "".join(glued)


def _gate_id(gate_id: Any) -> str:
    text = str(gate_id if gate_id is not None else "-")
    path, sep, name = text.rpartition("::")
    return f'<span class="gid"><span class="path">{_e(path + sep)}</span><b>{_e(name)}</b></span>'


def _badge(gate: dict) -> str:
    outcome = str(gate.get("outcome") or "-")
    label = _OUTCOME_LABEL.get(outcome, outcome.upper())
    warn = ' <span class="warn">(warn)</span>' if gate.get("severity") == "warn" and outcome != "passed" else ""
    return f'<span class="badge" data-outcome="{_e(outcome)}" style="background:{_colour(outcome)}">{_e(label)}</span>{warn}'


def _colour(outcome: Any) -> str:
    return OUTCOME_COLOURS.get(str(outcome), _UNKNOWN_COLOUR)


def _quality_cells(gate: dict) -> tuple[str, str, str]:
    ci = gate.get("ci") or {}
    comparison = f"Δ {_num(gate.get('delta'), True)} [{_num(ci.get('low'), True)}, {_num(ci.get('high'), True)}]" if ci else "-"
    own = gate.get("candidate_ci") or {}
    candidate = _num(gate.get("candidate"))
    if gate.get("threshold") is not None and own:
        # a threshold rule judges the candidate's own interval, so show it beside the estimate
        candidate += f" [{_num(own.get('low'))}, {_num(own.get('high'))}]"
    return candidate, _num(gate.get("baseline")), comparison


def _latency_cells(gate: dict) -> tuple[str, str, str]:
    latency = gate.get("latency") or {}
    if not latency:
        return _ms(gate.get("candidate")), _ms(gate.get("baseline")), "-"
    ratio = latency.get("ratio") or {}
    bound = latency.get("budget_bound_ms")
    candidate = _ms(gate.get("candidate")) + (f" [≤ {_ms(bound)}]" if bound is not None else "")
    return candidate, _ms(gate.get("baseline")), f"ratio {_num(ratio.get('estimate'))} [{_num(ratio.get('low'))}, {_num(ratio.get('high'))}]"


def _cost_cells(gate: dict) -> tuple[str, str, str]:
    cost = gate.get("cost") or {}
    unit = str(cost.get("unit") or "")
    candidate, baseline = gate.get("candidate"), gate.get("baseline")
    ratio = cost.get("ratio")
    if ratio is None and baseline == 0 and candidate:
        comparison = "ratio ∞ (baseline 0)"
    else:
        comparison = f"ratio {_num(ratio)}" if cost else "-"
    return _amount(candidate, unit), _amount(baseline, unit), comparison


def _golden_cells(gate: dict) -> tuple[str, str, str]:
    golden = gate.get("golden") or {}
    if not golden:
        return "-", "-", "-"
    if golden.get("updated"):
        return "-", "-", f"{_int(golden.get('changed'))}/{_int(golden.get('cases'))} cases rewritten"
    return "-", "-", f"{_int(golden.get('passed'))}/{_int(golden.get('cases'))} cases match"


def _drift_cells(gate: dict) -> tuple[str, str, str]:
    drift = gate.get("drift") or {}
    columns = [column for column in drift.get("columns") or [] if isinstance(column, dict)]
    if not columns:
        return str(drift.get("current") or "-"), str(drift.get("reference") or "-"), "-"
    # a PSI of null (NaN) is the worst case: it must not hide behind a finite one
    worst = max(columns, key=lambda column: column.get("psi") if column.get("psi") is not None else math.inf)
    return str(drift.get("current") or "-"), str(drift.get("reference") or "-"), f"max PSI {_num(worst.get('psi'))} ({worst.get('name')})"


_CELLS = {"quality": _quality_cells, "latency": _latency_cells, "cost": _cost_cells, "golden": _golden_cells, "drift": _drift_cells}


# --- forest plot -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Interval:
    what: str  # what the row draws, in words
    estimate: float | None
    low: float
    high: float
    rule: float | None  # the rule line
    rule_name: str
    passes_above: bool  # which side of the rule line the judged end must lie on
    unit: str = ""
    bound: float | None = None  # what a budget is judged on, when beyond the interval
    confidence: float | None = None


_FOREST_W, _FOREST_H = 600, 62
_FOREST_X0, _FOREST_X1 = 18, 582


def _forest(gates: list[dict]) -> str:
    plotted = [gate for gate in gates if gate.get("kind") in ("quality", "latency")]
    if not plotted:
        return ""
    legend = "".join(
        f'<span class="key"><span class="swatch" style="background:{colour}"></span>{_e(outcome)}</span>' for outcome, colour in OUTCOME_COLOURS.items()
    )
    rows = "".join(_forest_row(gate) for gate in plotted)
    return (
        '<section id="forest"><h2>Intervals</h2>'
        '<p class="caption">One row per quality or latency gate, each on <b>its own axis</b> (the gates measure different things on '
        "different scales; read each row on its tick labels). The bar is the gate's two-sided interval, the dot its estimate, the "
        "dashed line the rule; the light green side of the line is where the interval's judged end must lie for the gate to pass. "
        f"Colour is the gate's outcome.</p><p class=\"legend\">{legend}</p>"
        f'<div class="forest">{rows}</div></section>'
    )


def _forest_row(gate: dict) -> str:
    found = _interval_of(gate)
    colour = _colour(gate.get("outcome"))
    if isinstance(found, str):
        label = f'<div class="what">{_e(gate.get("metric") or gate.get("kind"))}</div>'
        plot = f'<div class="no-interval">no interval: {_e(found)}</div>'
    else:
        label = f'<div class="what">{_e(found.what)}</div><div class="nums">{_e(_interval_text(found))}</div>'
        plot = _forest_svg(gate, found, colour)
    return f'<div class="forest-row"><div class="forest-label">{_gate_id(gate.get("id"))} {_badge(gate)}{label}</div>{plot}</div>'


# the one interval a gate's row draws, or why it has none
def _interval_of(gate: dict) -> _Interval | str:
    if gate.get("measured") is False:
        message = gate.get("message")
        return f"not measured ({gate.get('outcome') or 'no outcome'})" + (f": {message}" if message else "")
    found = _latency_interval(gate) if gate.get("kind") == "latency" else _quality_interval(gate)
    if found is None:
        return "the result has no interval (a NaN or missing value)"
    return found


def _quality_interval(gate: dict) -> _Interval | None:
    metric = str(gate.get("metric") or "metric")
    confidence = (gate.get("ci") or {}).get("confidence")
    threshold = gate.get("threshold")
    if threshold is not None and gate.get("min_delta") is None:
        # a threshold-only rule judges the candidate's own interval, not the delta
        own = gate.get("candidate_ci") or {}
        higher = gate.get("higher_is_better") is not False
        return _make(f"candidate {metric}", gate.get("candidate"), own, threshold, "threshold", higher, confidence=confidence)
    ci = gate.get("ci") or {}
    return _make(f"Δ {metric}, candidate − baseline (positive = better)", gate.get("delta"), ci, gate.get("min_delta"), "min_delta", True, confidence=confidence)


def _latency_interval(gate: dict) -> _Interval | None:
    latency = gate.get("latency") or {}
    if not latency:
        return None
    percentile = f"p{_g(latency.get('percentile'))}"
    confidence = latency.get("confidence")
    if latency.get("budget_ms") is not None and latency.get("max_ratio") is None:
        own = gate.get("candidate_ci") or {}
        what = f"candidate {percentile} latency"
        found = _make(what, gate.get("candidate"), own, latency["budget_ms"], "budget", False, unit="ms", confidence=confidence)
        if found is not None and latency.get("budget_bound_ms") is not None and latency["budget_bound_ms"] > found.high:
            # the budget is judged on the larger of the bootstrap's and the order statistic's bound
            found = replace(found, bound=float(latency["budget_bound_ms"]))
        return found
    ratio = latency.get("ratio") or {}
    rule = latency.get("max_ratio")
    return _make(f"{percentile} ratio, candidate / baseline", ratio.get("estimate"), ratio, rule, "max_ratio", False, unit="×", confidence=confidence)


def _make(
    what: str, estimate: Any, ci: dict, rule: Any, rule_name: str, passes_above: bool, *, unit: str = "", confidence: Any = None
) -> _Interval | None:
    low, high = _finite(ci.get("low")), _finite(ci.get("high"))
    if low is None or high is None:
        return None
    return _Interval(what, _finite(estimate), low, high, _finite(rule), rule_name, passes_above, unit, None, _finite(confidence))


def _interval_text(found: _Interval) -> str:
    unit = f" {found.unit}" if found.unit == "ms" else found.unit
    level = f"{found.confidence:.0%} interval " if found.confidence is not None else "interval "
    form = _signed if found.rule_name == "min_delta" else _short  # a delta's sign is its direction
    text = f"{form(found.estimate)}{unit}, {level}[{form(found.low)}, {form(found.high)}]{unit}"
    if found.bound is not None:
        text += f", judged bound {_short(found.bound)}{unit}"
    if found.rule is not None:
        text += f"; rule {found.rule_name} {_short(found.rule)}{unit}"
    return text


def _forest_svg(gate: dict, found: _Interval, colour: str) -> str:
    points = [found.low, found.high] + [value for value in (found.estimate, found.rule, found.bound) if value is not None]
    if found.rule is None and found.rule_name == "min_delta":
        points.append(0.0)  # a delta without a rule is read against no change
    scale = _Scale(min(points), max(points), _FOREST_X0, _FOREST_X1)
    parts = [f'<svg class="forest-plot" width="{_FOREST_W}" height="{_FOREST_H}" viewBox="0 0 {_FOREST_W} {_FOREST_H}" role="img">']
    parts.append(_pass_side(found, scale))
    parts.append(_axis(scale, 44))
    parts.append(_rule_line(found, scale))
    parts.append(_interval_mark(gate, found, scale, colour))
    parts.append("</svg>")
    return "".join(part for part in parts if part)


def _pass_side(found: _Interval, scale: _Scale) -> str:
    if found.rule is None:
        return ""
    x = scale(found.rule)
    left, right = (x, scale.x1) if found.passes_above else (scale.x0, x)
    return f'<rect x="{left:.1f}" y="14" width="{max(right - left, 0):.1f}" height="24" fill="{_PASS_SIDE}"/>'


def _rule_line(found: _Interval, scale: _Scale) -> str:
    if found.rule is None:
        if scale.lo <= 0 <= scale.hi:
            x = scale(0.0)
            return f'<line x1="{x:.1f}" y1="12" x2="{x:.1f}" y2="40" stroke="#8c959f" stroke-dasharray="2 3"/>'
        return ""
    x = scale(found.rule)
    label = f"{found.rule_name} {_short(found.rule)}{found.unit if found.unit == '×' else ''}"
    anchor = "start" if x < scale.x0 + 60 else "end" if x > scale.x1 - 60 else "middle"
    return (
        f'<line class="rule" x1="{x:.1f}" y1="10" x2="{x:.1f}" y2="40" stroke="#24292f" stroke-width="1.5" stroke-dasharray="4 3"/>'
        f'<text x="{x:.1f}" y="9" font-size="10" text-anchor="{anchor}" fill="#24292f">{_e(label)}</text>'
    )


def _interval_mark(gate: dict, found: _Interval, scale: _Scale, colour: str) -> str:
    low, high = scale(found.low), scale(found.high)
    high = max(high, low + 2)  # a zero-width interval still shows
    parts = [
        f'<g class="interval" data-gate="{_e(gate.get("id"))}" data-outcome="{_e(gate.get("outcome"))}" stroke="{colour}" fill="{colour}">',
        f"<title>{_e(gate.get('id'))}: {_e(_interval_text(found))}</title>",
        f'<line x1="{low:.1f}" y1="26" x2="{high:.1f}" y2="26" stroke-width="4" stroke-linecap="butt"/>',
        f'<line x1="{low:.1f}" y1="19" x2="{low:.1f}" y2="33" stroke-width="2"/>',
        f'<line x1="{high:.1f}" y1="19" x2="{high:.1f}" y2="33" stroke-width="2"/>',
    ]
    if found.estimate is not None:
        parts.append(f'<circle cx="{scale(found.estimate):.1f}" cy="26" r="5" stroke="#fff" stroke-width="1.5"/>')
    parts.append("</g>")
    if found.bound is not None:
        bound = scale(found.bound)
        parts.append(
            f'<line x1="{high:.1f}" y1="26" x2="{bound:.1f}" y2="26" stroke="{colour}" stroke-width="2" stroke-dasharray="2 2"/>'
            f'<line x1="{bound:.1f}" y1="21" x2="{bound:.1f}" y2="31" stroke="{colour}" stroke-width="2"><title>judged bound</title></line>'
        )
    return "".join(parts)


# --- axes --------------------------------------------------------------------------------------


# a linear map from a padded data range onto [x0, x1], with 'nice' ticks (steps of 1, 2, 2.5, 5 x 10^k)
class _Scale:
    def __init__(self, lo: float, hi: float, x0: float, x1: float, *, pad: float = 0.08, zero: bool = False) -> None:
        span = hi - lo
        if span <= 0:
            span = abs(hi) * 0.2 or 1.0
            lo, hi = lo - span / 2, hi + span / 2
        self.lo = 0.0 if zero else lo - span * pad
        self.hi = hi + span * pad
        self.x0, self.x1 = x0, x1

    def __call__(self, value: float) -> float:
        return self.x0 + (value - self.lo) / (self.hi - self.lo) * (self.x1 - self.x0)

    def ticks(self, count: int = 5) -> tuple[list[float], int]:
        raw = (self.hi - self.lo) / count
        magnitude = 10 ** math.floor(math.log10(raw))
        step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if raw <= m * magnitude * (1 + 1e-9))
        decimals = max(0, -math.floor(math.log10(step) + 1e-9)) + (1 if round(step / magnitude, 6) == 2.5 else 0)
        first = math.ceil(self.lo / step - 1e-9)
        ticks = [i * step for i in range(first, first + count * 3) if i * step <= self.hi + step * 1e-9]
        return ticks, decimals


def _axis(scale: _Scale, y: float) -> str:
    ticks, decimals = scale.ticks()
    parts = [f'<line x1="{scale.x0}" y1="{y}" x2="{scale.x1}" y2="{y}" stroke="#8c959f"/>']
    for tick in ticks:
        x = scale(tick)
        label = f"{tick:.{decimals}f}"
        if label.lstrip("-").strip("0.") == "":
            label = f"{0:.{decimals}f}"  # no "-0.00"
        parts.append(
            f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + 4}" stroke="#8c959f"/>'
            f'<text x="{x:.1f}" y="{y + 14}" font-size="10" text-anchor="middle" fill="#57606a">{label}</text>'
        )
    return "".join(parts)


# --- latency distributions ---------------------------------------------------------------------

_LAT_W, _LAT_ROW = 720, 38
_LAT_X0, _LAT_X1 = 90, 640


def _latency_section(gates: list[dict]) -> str:
    figures = [_latency_figure(gate) for gate in gates if gate.get("kind") == "latency" and gate.get("latency")]
    if not figures:
        return ""
    return (
        '<section id="latency"><h2>Latency distributions</h2>'
        "<p class=\"caption\">The verdict keeps each model's summary, not its timings, so each strip shows exactly the summary: "
        "min to max (thin line), p50, p95 and p99 (ticks), the mean (diamond) and the gate percentile's interval (shaded band). "
        "No quartiles are recorded, so no box is drawn. A max far beyond p99 is marked at the edge, not to scale. "
        "Axes start at 0 ms.</p>" + "".join(figures) + "</section>"
    )


def _latency_figure(gate: dict) -> str:
    latency = gate["latency"]
    summaries = {role: latency.get(role) or {} for role in ("candidate", "baseline")}
    bands = {"candidate": gate.get("candidate_ci") or {}, "baseline": latency.get("baseline_ci") or {}}
    core = [_finite(summary.get(key)) for summary in summaries.values() for key in ("p50_ms", "p95_ms", "p99_ms", "mean_ms", "min_ms")]
    core += [_finite(band.get("high")) for band in bands.values()]
    values = [value for value in core if value is not None]
    caption = f'<figcaption>{_gate_id(gate.get("id"))} {_badge(gate)} <span class="what">{_e(_latency_caption(latency))}</span></figcaption>'
    if not values:
        return f'<figure class="latency">{caption}<p class="empty">no latency summary recorded</p></figure>'
    top = max(values)
    maxima = [_finite(summary.get("max_ms")) for summary in summaries.values()]
    if all(value is not None and value <= top * 1.3 for value in maxima):
        top = max([top] + [value for value in maxima if value is not None])
    budget = _finite(latency.get("budget_ms"))
    if budget is not None and budget <= top * 1.3:
        top = max(top, budget)
    scale = _Scale(0.0, top, _LAT_X0, _LAT_X1, pad=0.04, zero=True)
    height = 2 * _LAT_ROW + 36
    svg = [f'<svg class="latency-plot" width="{_LAT_W}" height="{height}" viewBox="0 0 {_LAT_W} {height}" role="img">']
    for index, role in enumerate(("candidate", "baseline")):
        svg.append(_latency_strip(role, summaries[role], bands[role], scale, 12 + index * _LAT_ROW))
    if budget is not None and budget <= scale.hi:
        x = scale(budget)
        svg.append(f'<line x1="{x:.1f}" y1="4" x2="{x:.1f}" y2="{2 * _LAT_ROW + 8}" stroke="#24292f" stroke-dasharray="4 3"/>')
        svg.append(f'<text x="{x:.1f}" y="{2 * _LAT_ROW + 8}" font-size="10" text-anchor="end" fill="#24292f">budget</text>')
    svg.append(_axis(scale, 2 * _LAT_ROW + 12))
    svg.append(f'<text x="{_LAT_X1 + 30}" y="{2 * _LAT_ROW + 26}" font-size="10" fill="#57606a">ms</text></svg>')
    return f'<figure class="latency">{caption}{"".join(svg)}{_latency_table(summaries)}</figure>'


def _latency_caption(latency: dict) -> str:
    rules = []
    if latency.get("budget_ms") is not None:
        rules.append(f"budget {_short(latency['budget_ms'])} ms")
    if latency.get("max_ratio") is not None:
        rules.append(f"max_ratio {_short(latency['max_ratio'])}")
    batch = f", batch {latency['batch']}" if latency.get("batch") else ""
    quantised = "; timings look quantised (see the gate's warnings)" if latency.get("quantised") else ""
    return f"{_int(latency.get('rounds'))} interleaved rounds{batch}; {', '.join(rules) or 'no rule'}{quantised}"


def _latency_strip(role: str, summary: dict, band: dict, scale: _Scale, y: float) -> str:
    colour = _MODEL_COLOUR[role]
    mid = y + 14
    parts = [f'<text x="8" y="{mid + 4}" font-size="12" fill="{colour}" font-weight="600">{role}</text>']
    low, high = _finite(band.get("low")), _finite(band.get("high"))
    if low is not None and high is not None:
        width = max(scale(high) - scale(low), 2)
        parts.append(f'<rect x="{scale(low):.1f}" y="{mid - 9}" width="{width:.1f}" height="18" fill="{colour}" fill-opacity="0.22"/>')
    parts.append(_whisker(summary, scale, mid, colour))
    for key in ("p50_ms", "p95_ms", "p99_ms"):
        value = _finite(summary.get(key))
        if value is not None and value <= scale.hi:
            x = scale(value)
            parts.append(f'<line x1="{x:.1f}" y1="{mid - 7}" x2="{x:.1f}" y2="{mid + 7}" stroke="{colour}" stroke-width="2.5"/>')
            parts.append(f'<text x="{x:.1f}" y="{mid - 10}" font-size="9" text-anchor="middle" fill="#57606a">{key[:3]}</text>')
    mean = _finite(summary.get("mean_ms"))
    if mean is not None and mean <= scale.hi:
        x = scale(mean)
        parts.append(f'<path d="M{x:.1f} {mid - 5}l5 5l-5 5l-5 -5z" fill="#fff" stroke="{colour}" stroke-width="1.5"><title>mean</title></path>')
    return "".join(parts)


def _whisker(summary: dict, scale: _Scale, mid: float, colour: str) -> str:
    low, high = _finite(summary.get("min_ms")), _finite(summary.get("max_ms"))
    if low is None:
        return ""
    end = scale.hi if high is None else min(high, scale.hi)
    parts = [f'<line x1="{scale(low):.1f}" y1="{mid}" x2="{scale(end):.1f}" y2="{mid}" stroke="{colour}" stroke-width="1"/>']
    parts.append(f'<line x1="{scale(low):.1f}" y1="{mid - 4}" x2="{scale(low):.1f}" y2="{mid + 4}" stroke="{colour}"/>')
    if high is not None and high > scale.hi:
        x = scale(scale.hi)
        parts.append(f'<path d="M{x - 6:.1f} {mid - 4}l6 4l-6 4" fill="none" stroke="{colour}"/>')
        parts.append(f'<text x="{x + 4:.1f}" y="{mid + 4}" font-size="10" fill="{colour}">max {_short(high)} ms</text>')
    elif high is not None:
        parts.append(f'<line x1="{scale(high):.1f}" y1="{mid - 4}" x2="{scale(high):.1f}" y2="{mid + 4}" stroke="{colour}"/>')
    return "".join(parts)


def _latency_table(summaries: dict[str, dict]) -> str:
    keys = ("p50_ms", "p95_ms", "p99_ms", "mean_ms", "sd_ms", "min_ms", "max_ms")
    head = "<th></th>" + "".join(f"<th>{key[:-3]} (ms)</th>" for key in keys) + "<th>samples</th><th>outliers</th><th>rows/s</th>"
    rows = []
    for role, summary in summaries.items():
        cells = [_short(summary.get(key)) for key in keys]
        cells += [_int(summary.get("samples")), _int(summary.get("outliers")), _rate(summary.get("throughput_per_s"))]
        rows.append(f"<tr><th>{role}</th>" + "".join(f"<td>{_e(cell)}</td>" for cell in cells) + "</tr>")
    return f'<table class="numbers"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


# --- slices, golden, drift ---------------------------------------------------------------------


def _slices_section(gates: list[dict]) -> str:
    tables = [_slice_table(gate) for gate in gates if gate.get("slices")]
    if not tables:
        return ""
    return '<section id="slices"><h2>Slices</h2>' + "".join(tables) + "</section>"


def _slice_table(gate: dict) -> str:
    head = "".join(f"<th>{name}</th>" for name in ("slice", "rows", "candidate", "baseline", "delta [low, high]", "result"))
    rows = []
    for piece in gate["slices"]:
        if not isinstance(piece, dict):
            continue
        ci = piece.get("ci") or {}
        if piece.get("skipped"):
            result, interval = "skipped (below min_slice_size)", "-"
        else:
            result = _pass_fail(piece.get("passed"))
            interval = f"{_num(piece.get('delta'), True)} [{_num(ci.get('low'), True)}, {_num(ci.get('high'), True)}]"
        cells = [str(piece.get("value")), _int(piece.get("rows")), _num(piece.get("candidate")), _num(piece.get("baseline")), interval]
        rows.append("<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in cells) + f"<td>{result}</td></tr>")
    gap = gate.get("slice_gap") or {}
    note = ""
    if gap.get("max") is not None:
        verdict = {True: "passes", False: "fails"}.get(gap.get("passed"), "undecided")
        note = (
            f"<p>Candidate's best-minus-worst slice gap {_e(_num(gap.get('gap')))} [{_e(_num(gap.get('low')))}, "
            f"{_e(_num(gap.get('high')))}] over {_e(_int(gap.get('slices')))} slices, must stay below {_e(_short(gap.get('max')))}: {verdict}.</p>"
        )
    title = f"<h3>{_gate_id(gate.get('id'))} {_badge(gate)}</h3>"
    return f'{title}<table class="numbers"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>{note}'


def _golden_section(gates: list[dict]) -> str:
    blocks = [_golden_block(gate) for gate in gates if gate.get("golden")]
    if not blocks:
        return ""
    return '<section id="golden"><h2>Golden cases</h2>' + "".join(blocks) + "</section>"


def _golden_block(gate: dict) -> str:
    golden = gate["golden"]
    facts = (
        f"<code>{_e(golden.get('path'))}</code>: {_e(_int(golden.get('cases')))} cases, {_e(_int(golden.get('passed')))} match, "
        f"{_e(_int(golden.get('failed')))} fail (atol {_e(_short(golden.get('atol')))}, rtol {_e(_short(golden.get('rtol')))})"
    )
    if golden.get("updated"):
        facts += f"; <b>rewritten</b>: {_e(_int(golden.get('changed')))} case(s) changed, to be reviewed before it can gate"
    failing = list(golden.get("failing_ids") or [])
    listing = ""
    if failing:
        shown = " ".join(f"<code>{_e(case)}</code>" for case in failing[:_MAX_FAILING_IDS])
        more = f" and {len(failing) - _MAX_FAILING_IDS} more" if len(failing) > _MAX_FAILING_IDS else ""
        listing = f'<p class="failing">Failing cases: {shown}{_e(more)}</p>'
    return f"<h3>{_gate_id(gate.get('id'))} {_badge(gate)}</h3><p>{facts}</p>{listing}"


def _drift_section(gates: list[dict]) -> str:
    tables = [_drift_table(gate) for gate in gates if gate.get("drift")]
    if not tables:
        return ""
    return '<section id="drift"><h2>Drift</h2>' + "".join(tables) + "</section>"


def _drift_table(gate: dict) -> str:
    drift = gate["drift"]
    limits = ", ".join(f"{name} ≤ {_short(drift[key])}" for key, name in (("max_psi", "PSI"), ("max_ks", "KS"), ("max_kl", "KL")) if drift.get(key) is not None)
    intro = (
        f"<p>{_e(drift.get('current'))} against {_e(drift.get('reference'))} ({_e(drift.get('mode'))}, {_e(_int(drift.get('bins')))} bins); "
        f"rule: {_e(limits or 'none')}. PSI is judged on its point value; its interval is reported.</p>"
    )
    head = "".join(f"<th>{name}</th>" for name in ("column", "PSI [low, high]", "KS", "KS p-value", "KL", "result"))
    rows = []
    for column in drift.get("columns") or []:
        cells = [
            str(column.get("name")), f"{_num(column.get('psi'))} [{_num(column.get('psi_low'))}, {_num(column.get('psi_high'))}]",
            _num(column.get("ks")), _p(column.get("ks_p_value")), _num(column.get("kl")),
        ]  # fmt: skip
        rows.append("<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in cells) + f"<td>{_pass_fail(column.get('passed'))}</td></tr>")
    title = f"<h3>{_gate_id(gate.get('id'))} {_badge(gate)}</h3>"
    return f'{title}{intro}<table class="numbers"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


# --- models, replay, envelope ------------------------------------------------------------------


def _models_section(verdict: dict) -> str:
    head = "".join(f"<th>{name}</th>" for name in ("model", "source", "sha256", "size", "registry"))
    rows = []
    for role in ("candidate", "baseline"):
        model = verdict.get(role) if isinstance(verdict.get(role), dict) else {}
        registry = model.get("registry") or {}
        where = f"{registry.get('name')} v{registry.get('version')}" + (f" ({registry.get('alias')})" if registry.get("alias") else "") if registry else "-"
        cells = [role, model.get("source") or "-", model.get("sha256") or "-", _size(model.get("size_bytes")), where]
        rows.append("<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in cells) + "</tr>")
    rollback = verdict.get("rollback_candidate")
    note = ""
    if isinstance(rollback, dict):
        note = (
            f"<p>Rollback candidate: {_e(rollback.get('name'))} v{_e(rollback.get('version'))}"
            f"{_e(' (' + str(rollback['alias']) + ')' if rollback.get('alias') else '')}: {_e(rollback.get('reason'))}</p>"
        )
    return f'<section id="models"><h2>Models</h2><table class="numbers models"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>{note}</section>'


def _replay_section(replay: Any) -> str:
    if not isinstance(replay, dict):
        return ""
    rows = "".join(
        f"<tr><td>{_gate_id(entry.get('id'))}</td><td>{_e(entry.get('status'))}</td><td>{_e(', '.join(map(str, entry.get('diff') or {})) or '-')}</td></tr>"
        for entry in replay.get("gates") or []
    )
    changes = ", ".join(str(name) for name in replay.get("package_changes") or {}) or "none"
    return (
        f'<section id="replay"><h2>Replay</h2><p>Replay of <code>{_e(replay.get("path"))}</code> (digest <code>{_e(replay.get("of"))}</code>): '
        f"{'reproduced' if replay.get('reproduced') else 'not reproduced'}; changed packages: {_e(changes)}.</p>"
        f'<table class="numbers"><thead><tr><th>gate</th><th>status</th><th>differing fields</th></tr></thead><tbody>{rows}</tbody></table></section>'
    )


def _envelope_section(verdict: dict) -> str:
    envelope = json.dumps(verdict.get("envelope"), indent=2, sort_keys=True, default=str, ensure_ascii=False)
    return (
        '<section id="envelope"><details class="envelope"><summary>Reproducibility envelope (what is needed to reproduce this verdict)</summary>'
        f"<pre>{_e(envelope)}</pre></details></section>"
    )


def _pass_fail(passed: Any) -> str:
    if passed is None:
        return "-"
    return '<span class="ok">PASS</span>' if passed else '<span class="bad">FAIL</span>'


# --- formatting --------------------------------------------------------------------------------


def _e(value: Any) -> str:
    return html.escape("-" if value is None else str(value), quote=True)


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _num(value: Any, signed: bool = False) -> str:
    value = _finite(value)
    if value is None:
        return "-"
    return f"{value:+.4f}" if signed else f"{value:.4f}"


def _short(value: Any) -> str:
    value = _finite(value)
    return "-" if value is None else f"{value:.4g}"


def _signed(value: Any) -> str:
    value = _finite(value)
    return "-" if value is None else f"{value:+.4g}"


def _g(value: Any) -> str:
    value = _finite(value)
    return "?" if value is None else f"{value:g}"


def _int(value: Any) -> str:
    return "-" if value is None else str(value)


def _p(value: Any) -> str:
    value = _finite(value)
    return "-" if value is None else f"{value:.3g}"


def _ms(value: Any) -> str:
    value = _finite(value)
    return "-" if value is None else f"{value:.4g} ms"


def _rate(value: Any) -> str:
    value = _finite(value)
    return "-" if value is None else f"{value:,.0f}"


def _amount(value: Any, unit: str) -> str:
    value = _finite(value)
    if value is None:
        return "-"
    return f"{value / 2**20:.4g} MiB" if unit == "bytes" else f"{value:g} {unit}".rstrip()


def _size(value: Any) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        return "-"
    return f"{value:,} B" if value < 2**10 else f"{value / 2**10:,.1f} KiB" if value < 2**20 else f"{value / 2**20:,.1f} MiB"


_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f8fa; color: #1f2328;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 20px 24px 40px; }
h2 { font-size: 18px; margin: 0 0 8px; }
h3 { font-size: 14px; margin: 14px 0 6px; font-weight: normal; }
section { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 14px 16px; margin: 16px 0; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12px; }
.banner { border-radius: 6px; padding: 14px 18px; color: #fff; }
.banner.promote { background: #1a7f37; }
.banner.block { background: #cf222e; }
.banner .decision { font-size: 30px; font-weight: 700; letter-spacing: 0.04em; }
.banner h2 { font-size: 14px; margin: 10px 0 2px; text-transform: uppercase; letter-spacing: 0.05em; }
.banner ul { margin: 0; padding-left: 20px; }
.banner code { background: rgba(255,255,255,0.18); padding: 0 4px; border-radius: 3px; }
.banner .meta { margin: 4px 0 0; opacity: 0.95; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 5px 7px; border-bottom: 1px solid #d8dee4; }
th { background: #f6f8fa; font-weight: 600; white-space: nowrap; }
table.gates td:nth-child(4), table.gates td:nth-child(5), table.gates td:nth-child(6) { font-variant-numeric: tabular-nums; }
table.gates td:nth-child(7) { color: #57606a; font-size: 12px; min-width: 140px; }
table.gates tr.has-note td { border-bottom: none; }
tr.note td { color: #57606a; font-size: 12px; padding-top: 0; padding-left: 24px; }
table.numbers { width: auto; font-variant-numeric: tabular-nums; }
table.numbers td { white-space: nowrap; }
table.models td { white-space: normal; overflow-wrap: anywhere; }
.gid { overflow-wrap: break-word; }
.gid .path { color: #57606a; font-size: 12px; }
table.gates .gid .path { display: block; }
table.gates td:first-child { min-width: 200px; }
.scroll { overflow-x: auto; }
.ok { color: #1a7f37; font-weight: 600; }
.bad { color: #cf222e; font-weight: 600; }
.badge { display: inline-block; color: #fff; font-size: 11px; font-weight: 700; padding: 1px 7px; border-radius: 10px; white-space: nowrap; }
.warn { color: #57606a; font-size: 12px; }
.caption, .empty { color: #57606a; margin: 0 0 8px; }
.legend .key { margin-right: 14px; white-space: nowrap; font-size: 12px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
.forest-row { display: grid; grid-template-columns: minmax(0, 1fr) 600px; gap: 12px; align-items: center;
  padding: 6px 0; border-top: 1px solid #eaeef2; }
.forest-label .what { color: #57606a; font-size: 12px; }
.forest-label .nums { font-size: 12px; font-variant-numeric: tabular-nums; }
.no-interval { color: #57606a; font-style: italic; }
figure.latency { margin: 10px 0 18px; }
figure.latency figcaption { margin-bottom: 4px; }
figure.latency .what { color: #57606a; font-size: 12px; }
svg { display: block; max-width: 100%; height: auto; overflow: visible; font-family: inherit; }
.failing code { display: inline-block; margin: 0 4px 2px 0; padding: 0 4px; background: #ffebe9; border-radius: 3px; }
details.envelope summary { cursor: pointer; font-weight: 600; }
details.envelope pre { max-height: 70vh; overflow: auto; background: #f6f8fa; padding: 10px; white-space: pre-wrap; overflow-wrap: anywhere; }
@media (max-width: 1000px) { .forest-row { grid-template-columns: 1fr; } }
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { background: #fff; font-size: 11px; }
  main { max-width: none; padding: 0; }
  section { border: none; padding: 0; margin: 12px 0; }
  tr, .forest-row, figure, svg, h3, .banner li { break-inside: avoid; page-break-inside: avoid; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  details.envelope > * { display: block; }
  details.envelope pre { max-height: none; overflow: visible; }
  .scroll { overflow: visible; }
  .forest-row { grid-template-columns: minmax(0, 1fr) 600px; }
}
@media print { details.envelope::details-content { content-visibility: visible; display: contents; } }
"""
