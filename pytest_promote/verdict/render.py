"""Plain-text rendering of a verdict for the terminal summary. Rendering only: no decisions."""

from __future__ import annotations

__all__ = ["summary_lines", "gate_cells"]

_OUTCOME_LABEL = {
    "passed": "PASS", "failed": "FAIL", "inconclusive": "INCONCLUSIVE", "error": "ERROR", "skipped": "SKIP", "updated": "UPDATED",
}  # fmt: skip


def summary_lines(verdict: dict, verdict_path: str | None) -> list[str]:
    rows = [("gate", "metric", "candidate", "baseline", "delta [low, high]", "rule", "result")]
    for gate in verdict["gates"]:
        label = _OUTCOME_LABEL[gate["outcome"]] + (" (warn)" if gate.get("severity") == "warn" and gate["outcome"] != "passed" else "")
        candidate, baseline, comparison = gate_cells(gate)
        rows.append((gate["id"], gate.get("metric") or "-", candidate, baseline, comparison, gate.get("rule") or "-", label))
    lines = _table(rows) if verdict["gates"] else ["no promotion gates ran"]
    for gate in verdict["gates"]:
        lines.extend(_slice_lines(gate))
        lines.extend(_latency_lines(gate))
        lines.extend(_golden_lines(gate))
        lines.extend(_drift_lines(gate))
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


def _quality_cells(gate: dict) -> tuple[str, str, str]:
    ci = gate.get("ci")
    interval = f"{_num(gate.get('delta'), True)} [{_num(ci['low'], True)}, {_num(ci['high'], True)}]" if ci else "-"
    return _candidate(gate), _num(gate.get("baseline")), interval


def _latency_cells(gate: dict) -> tuple[str, str, str]:
    """Latency compares by ratio: the delta column shows candidate/baseline with its interval."""
    latency = gate.get("latency")
    if not latency:
        return "-", "-", "-"
    ratio = latency["ratio"]
    candidate = f"{_ms(gate.get('candidate'))} [<= {_ms(latency['budget_bound_ms'])}]"
    return candidate, _ms(gate.get("baseline")), f"ratio {_num(ratio['estimate'])} [{_num(ratio['low'])}, {_num(ratio['high'])}]"


def _cost_cells(gate: dict) -> tuple[str, str, str]:
    cost = gate.get("cost")
    if not cost:
        return "-", "-", "-"
    return _amount(gate["candidate"], cost["unit"]), _amount(gate["baseline"], cost["unit"]), f"ratio {_num(cost['ratio'])}"


def _golden_cells(gate: dict) -> tuple[str, str, str]:
    golden = gate.get("golden")
    if not golden:
        return "-", "-", "-"
    if golden["updated"]:
        return f"{golden['changed']}/{golden['cases']} cases rewritten", "-", "-"
    return f"{golden['passed']}/{golden['cases']} cases match", "-", "-"


def _drift_cells(gate: dict) -> tuple[str, str, str]:
    drift = gate.get("drift")
    if not drift:
        return "-", "-", "-"
    worst = max(drift["columns"], key=lambda column: column["psi"] if column["psi"] is not None else float("inf"))
    return drift["current"], drift["reference"], f"max PSI {_num(worst['psi'])} ({worst['name']})"


_CELLS = {"quality": _quality_cells, "latency": _latency_cells, "cost": _cost_cells, "golden": _golden_cells, "drift": _drift_cells}


def gate_cells(gate: dict) -> tuple[str, str, str]:
    """The candidate, baseline and comparison cells of a gate's row, by kind."""
    return _CELLS.get(gate["kind"], _quality_cells)(gate)


def _drift_lines(gate: dict) -> list[str]:
    drift = gate.get("drift")
    if not drift:
        return []
    lines = [f"{gate['id']} drift of {drift['current']} against {drift['reference']}:"]
    for column in drift["columns"]:
        label = "PASS" if column["passed"] else "FAIL"
        lines.append(
            f"  {column['name']}: PSI {_num(column['psi'])} [{_num(column['psi_low'])}, {_num(column['psi_high'])}], "
            f"KS {_num(column['ks'])} (p {_p(column['ks_p_value'])}), KL {_num(column['kl'])} {label}"
        )
    return lines


def _p(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _latency_lines(gate: dict) -> list[str]:
    """Each model's distribution under a latency gate: what the percentile alone hides."""
    latency = gate.get("latency")
    if not latency:
        return []
    lines = [f"{gate['id']} latency over {latency['rounds']} interleaved rounds:"]
    for role in ("candidate", "baseline"):
        summary = latency[role]
        throughput = summary.get("throughput_per_s")
        rate = f", {throughput:,.0f} rows/s" if throughput is not None else ""
        lines.append(
            f"  {role}: p50 {_ms(summary['p50_ms'])}, p95 {_ms(summary['p95_ms'])}, p99 {_ms(summary['p99_ms'])}, "
            f"mean {_ms(summary['mean_ms'])} (sd {_ms(summary['sd_ms'])}), min {_ms(summary['min_ms'])}, "
            f"{summary['outliers']} outlier(s){rate}"
        )
    return lines


def _golden_lines(gate: dict) -> list[str]:
    golden = gate.get("golden")
    if not golden or not golden["failing_ids"]:
        return []
    shown = ", ".join(repr(case) for case in golden["failing_ids"][:20])
    more = f" and {len(golden['failing_ids']) - 20} more" if len(golden["failing_ids"]) > 20 else ""
    return [f"{gate['id']} failing golden cases: {shown}{more}"]


def _candidate(gate: dict) -> str:
    """A threshold rule judges the candidate's own interval, so show it beside the estimate."""
    own = gate.get("candidate_ci")
    if gate.get("threshold") is None or not own:
        return _num(gate.get("candidate"))
    return f"{_num(gate.get('candidate'))} [{_num(own['low'])}, {_num(own['high'])}]"


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


def _amount(value: float, unit: str) -> str:
    return f"{value / 2**20:.4g} MiB" if unit == "bytes" else f"{value:g} {unit}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g} ms"


def _num(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.4f}" if signed else f"{value:.4f}"
