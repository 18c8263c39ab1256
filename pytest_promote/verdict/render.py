"""Plain-text rendering of a verdict for the terminal summary. Rendering only: no decisions."""

from __future__ import annotations

__all__ = ["summary_lines"]

_OUTCOME_LABEL = {"passed": "PASS", "failed": "FAIL", "inconclusive": "INCONCLUSIVE", "error": "ERROR", "skipped": "SKIP"}


def summary_lines(verdict: dict, verdict_path: str | None) -> list[str]:
    rows = [("gate", "metric", "candidate", "baseline", "delta [low, high]", "rule", "result")]
    for gate in verdict["gates"]:
        ci = gate.get("ci")
        interval = f"{_num(gate.get('delta'), True)} [{_num(ci['low'], True)}, {_num(ci['high'], True)}]" if ci else "-"
        label = _OUTCOME_LABEL[gate["outcome"]] + (" (warn)" if gate.get("severity") == "warn" and gate["outcome"] != "passed" else "")
        rows.append(
            (gate["id"], gate.get("metric") or "-", _candidate(gate), _num(gate.get("baseline")), interval, gate.get("rule") or "-", label)
        )
    lines = _table(rows) if verdict["gates"] else ["no promotion gates ran"]
    for gate in verdict["gates"]:
        lines.extend(_slice_lines(gate))
    lines.append("")
    where = f"  (verdict: {verdict_path})" if verdict_path else ""
    lines.append(f"decision: {verdict['decision'].upper()}{where}")
    lines.extend(f"  - {reason['code']}: {reason['message']}" for reason in verdict["reasons"])
    lines.extend(f"  ! warning: {warning}" for warning in verdict["warnings"])
    return lines


def _slice_lines(gate: dict) -> list[str]:
    """Each slice's delta and interval under its gate; small slices say they were skipped."""
    if not gate.get("slices"):
        return []
    lines = [f"{gate['id']} by slice:"]
    for piece in gate["slices"]:
        if piece["skipped"]:
            lines.append(f"  {piece['value']!r}: {piece['rows']} rows, below min_slice_size: skipped")
            continue
        ci = piece["ci"]
        label = "PASS" if piece["passed"] else "FAIL"
        lines.append(f"  {piece['value']!r}: {piece['rows']} rows, delta {_num(piece['delta'], True)} [{_num(ci['low'], True)}, {_num(ci['high'], True)}] {label}")
    gap = gate.get("slice_gap")
    if gap and gap.get("max") is not None:
        lines.append(f"  candidate's slice gap {_num(gap['gap'])} [{_num(gap['low'])}, {_num(gap['high'])}], must stay below {gap['max']:g}")
    return lines


def _candidate(gate: dict) -> str:
    """A threshold rule judges the candidate's own interval, so show it beside the estimate."""
    own = gate.get("candidate_ci")
    if gate.get("threshold") is None or not own:
        return _num(gate.get("candidate"))
    return f"{_num(gate.get('candidate'))} [{_num(own['low'])}, {_num(own['high'])}]"


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


def _num(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.4f}" if signed else f"{value:.4f}"
