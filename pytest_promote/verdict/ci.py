"""The verdict where CI systems look: a Markdown summary, GitHub annotations, JUnit properties.

Rendering only: every decision was made before any of this runs.
"""

from __future__ import annotations

from .render import gate_cells

__all__ = ["markdown_summary", "github_annotations", "junit_properties"]

_ICON = {"passed": "✅", "failed": "❌", "inconclusive": "⚠️", "error": "💥", "skipped": "⏭️", "updated": "📝"}


def markdown_summary(verdict: dict) -> str:
    """Decision, reasons, warnings and the gate table, as GitHub-flavoured Markdown."""
    decision = verdict["decision"]
    lines = [f"## pytest-promote: {'✅ PROMOTE' if decision == 'promote' else '❌ BLOCK'}", ""]
    if verdict["reasons"]:
        lines += ["**Reasons**", ""] + [f"- `{r['code']}`: {_cell(r['message'])}" for r in verdict["reasons"]] + [""]
    if verdict["warnings"]:
        lines += ["**Warnings**", ""] + [f"- {_cell(w)}" for w in verdict["warnings"]] + [""]
    if verdict["gates"]:
        lines += ["| | gate | metric | candidate | baseline | delta / ratio [low, high] | rule |", "|---|---|---|---|---|---|---|"]
        for gate in verdict["gates"]:
            candidate, baseline, comparison = gate_cells(gate)
            icon = _ICON.get(gate["outcome"], "")
            severity = " (warn)" if gate.get("severity") == "warn" and gate["outcome"] != "passed" else ""
            cells = (f"{icon} {gate['outcome']}{severity}", f"`{gate['id']}`", gate.get("metric") or "-", candidate, baseline, comparison,
                     gate.get("rule") or "-")  # fmt: skip
            lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    else:
        lines.append("No promotion gate ran.")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """One table cell or list item: no line breaks, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def github_annotations(verdict: dict, locations: dict[str, tuple[str, int]]) -> list[str]:
    """``::error file=...,line=...::message`` for each blocking gate that did not pass (warn-only: ``::warning``)."""
    lines = []
    for gate in verdict["gates"]:
        if gate["outcome"] == "passed" or gate["id"] not in locations:
            continue
        path, line = locations[gate["id"]]
        level = "warning" if gate.get("severity") == "warn" and gate["outcome"] != "error" else "error"
        message = f"{gate['id']} {gate['outcome']}: {gate.get('message') or gate['outcome']}"
        lines.append(f"::{level} file={_property(path)},line={line},title={_property('promotion gate ' + gate['outcome'])}::{_data(message)}")
    return lines


def _data(text: str) -> str:
    # GitHub's workflow-command escaping for the message part
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def junit_properties(entry: dict) -> list[tuple[str, str]]:
    """A gate's ``promote.*`` properties for its JUnit test case (empty strings for what it lacks)."""
    kind = entry.get("kind")
    low = high = delta = None
    if kind == "latency" and entry.get("latency"):
        ratio = entry["latency"]["ratio"]
        delta, low, high = ratio["estimate"], ratio["low"], ratio["high"]
    elif entry.get("ci"):
        delta, low, high = entry.get("delta"), entry["ci"]["low"], entry["ci"]["high"]
    values = {
        "kind": kind, "metric": entry.get("metric"), "candidate": entry.get("candidate"), "baseline": entry.get("baseline"),
        "delta": delta, "ci_low": low, "ci_high": high, "passed": str(bool(entry.get("passed"))).lower(),
    }  # fmt: skip
    return [(f"promote.{name}", "" if value is None else str(value)) for name, value in values.items()]
