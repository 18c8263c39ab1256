"""The decision: fail closed, ``promote`` only on positive evidence from every blocking gate."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Reason", "Decision", "TestCounts", "decide", "gate_outcome"]

_GATE_REASONS = {"failed": "gate_failed", "inconclusive": "underpowered", "error": "gate_error", "skipped": "gate_skipped"}


@dataclass(frozen=True)
class Reason:
    """A reason to block: a code and a one-line message (line breaks in the cause are folded)."""

    code: str
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", " ".join(self.message.split()))

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


@dataclass
class TestCounts:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    errors: int = 0

    def to_dict(self) -> dict:
        return {"passed": self.passed, "failed": self.failed, "skipped": self.skipped, "errors": self.errors}


@dataclass
class Decision:
    decision: str
    reasons: list[Reason] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def gate_outcome(entry: dict, test_outcome: str) -> str:
    """``passed`` needs a measured, passing result and a test that passed as well.

    A measured failure whose interval was merely too wide to decide is ``inconclusive``: it
    blocks all the same (reason ``underpowered``), with advice on the sample size. A golden
    gate that rewrote its file is ``updated``: it checked nothing, and blocks until reviewed.
    """
    if test_outcome == "skipped":
        return "skipped"
    measured = bool(entry.get("measured"))
    if measured and (entry.get("golden") or {}).get("updated"):
        return "updated" if test_outcome == "passed" else "error"
    if measured and not entry.get("passed"):
        # a failed warn-only gate leaves its test passing; if the test failed anyway, that is an error
        if entry.get("severity", "block") == "warn" and test_outcome != "passed":
            return "error"
        return "inconclusive" if entry.get("underpowered") else "failed"
    if measured and test_outcome == "passed":
        return "passed"
    return "error"


def decide(
    gates: list[dict],
    failed_tests: list[str],
    *,
    interrupted: bool,
    exit_status: int = 0,
    reasons: list[Reason] = (),
    warnings: list[str] = (),
) -> Decision:
    """Apply the fail-closed rule to finished gate entries (each with ``outcome``)."""
    found = list(dict.fromkeys(reasons))  # de-duplicated, first occurrence first
    notes = list(warnings)
    for entry in gates:
        notes.extend(entry.get("warnings") or ())
        outcome, severity = entry["outcome"], entry.get("severity", "block")
        if outcome == "passed":
            continue
        detail = entry.get("message") or outcome
        if outcome == "updated":  # whatever the severity: a regenerated golden set must be reviewed first
            found.append(Reason("golden_updated", f"{entry['id']}: {detail}"))
        elif severity == "warn" and outcome in ("failed", "inconclusive", "skipped"):
            notes.append(f"warn-only gate {entry['id']} {outcome}: {detail}")
        else:
            found.append(Reason(_GATE_REASONS[outcome], f"{entry['id']}: {detail}"))
    if not any(entry.get("severity", "block") == "block" for entry in gates):
        extra = f" (only {len(gates)} warn-only gate(s))" if gates else ""
        found.append(Reason("no_gates", f"no blocking promotion gate was collected{extra}; mark a test with @gate.quality(...) or another gate"))
    if failed_tests:
        shown = ", ".join(failed_tests[:5]) + (f" and {len(failed_tests) - 5} more" if len(failed_tests) > 5 else "")
        found.append(Reason("test_failed", f"{len(failed_tests)} test(s) failed or errored: {shown}"))
    if interrupted:
        found.append(Reason("interrupted", "the test session was interrupted before it finished"))
    if exit_status not in (0, 5) and not found:
        # pytest failed the session for a cause no gate or test accounts for (another plugin, -W error, ...)
        found.append(Reason("session_failed", f"pytest ended the session with exit status {exit_status}"))
    found = list(dict.fromkeys(found))
    return Decision("block" if found else "promote", found, notes)
