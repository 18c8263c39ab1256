"""Turns test reports into a verdict. Runs where the reports arrive (the xdist controller too)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from .decision import Reason, TestCounts, decide, gate_outcome

__all__ = ["SCHEMA_VERSION", "TestPhase", "VerdictCollector"]

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class TestPhase:
    """One phase report of one test, reduced to what the verdict needs."""

    node_id: str
    when: str  # setup | call | teardown
    outcome: str  # passed | failed | skipped
    message: str | None = None  # a short reason when it failed or was skipped
    gate: dict | None = None  # the gate's record, for gate tests
    reason: Reason | None = None  # a pytest-promote fault behind the failure (model_error, ...)
    models: dict = field(default_factory=dict)  # role -> {source, sha256, warning}
    datasets: dict = field(default_factory=dict)  # name -> {sha256, rows}


class VerdictCollector:
    def __init__(self) -> None:
        self._phases: dict[str, dict[str, str]] = {}
        self._messages: dict[str, str] = {}
        self._gates: dict[str, dict] = {}
        self._reasons: list[Reason] = []
        self._models: dict[str, dict] = {}
        self._datasets: dict[str, dict] = {}

    def add(self, phase: TestPhase) -> None:
        self._record_outcome(phase)
        if phase.gate is not None:
            self._gates[phase.node_id] = phase.gate
        if phase.reason is not None:
            self._reasons.append(phase.reason)
        for role, identity in phase.models.items():
            self._add_model(role, identity)
        self._datasets.update(phase.datasets)

    def _add_model(self, role: str, identity: dict) -> None:
        known = self._models.setdefault(role, identity)
        if known.get("sha256") == identity.get("sha256") or known.get("unstable"):
            return
        if identity["source"].startswith("loader:"):
            # a loader's model is fingerprinted by its pickled bytes, which can differ between
            # processes (sets of strings pickle in hash-seed order): the fingerprint is unusable
            self._models[role] = {
                "source": identity["source"],
                "sha256": None,
                "size_bytes": None,
                "registry": None,
                "unstable": True,
                "warning": f"the {role} model from {identity['source']} pickles to different bytes in different "
                "processes, so the verdict cannot record a sha256 for it; pin a model file for a stable identity",
            }
            return
        self._reasons.append(
            Reason(
                "inconsistent_models",
                f"the {role} model {identity['source']} had sha256 {known.get('sha256')} in one process and "
                f"{identity.get('sha256')} in another: the file changed during the run",
            )
        )

    def add_collection_error(self, node_id: str, message: str) -> None:
        self._reasons.append(Reason("collection_error", f"{node_id or 'collection'}: {message}"))

    def add_reason(self, reason: Reason) -> None:
        self._reasons.append(reason)

    def _record_outcome(self, phase: TestPhase) -> None:
        self._phases.setdefault(phase.node_id, {})[phase.when] = phase.outcome
        if phase.outcome != "passed" and phase.message:
            self._messages.setdefault(phase.node_id, phase.message)

    def _outcomes(self) -> dict[str, str]:
        return {node_id: _test_outcome(phases) for node_id, phases in self._phases.items()}

    def counts(self) -> TestCounts:
        counts = TestCounts()
        for outcome in self._outcomes().values():
            if outcome == "error":
                counts.errors += 1
            else:
                setattr(counts, outcome, getattr(counts, outcome) + 1)
        return counts

    def gates(self) -> list[dict]:
        finished = []
        outcomes = self._outcomes()
        for node_id, entry in self._gates.items():
            test_outcome = outcomes.get(node_id, "error")
            outcome = gate_outcome(entry, test_outcome)
            message = entry.get("message")
            if outcome in ("error", "skipped"):
                message = self._messages.get(node_id) or message or "the gate test did not finish"
            finished.append({**entry, "outcome": outcome, "passed": outcome == "passed", "message": message})
        return sorted(finished, key=lambda entry: entry["id"])

    def models(self) -> dict[str, dict]:
        return dict(self._models)

    def datasets(self) -> dict[str, dict]:
        return dict(self._datasets)

    def verdict(
        self,
        *,
        interrupted: bool,
        exit_status: int = 0,
        models: dict[str, dict],
        envelope: dict,
        warnings: list[str] = (),
        rollback_candidate: dict | None = None,
        replay: dict | None = None,
    ) -> dict:
        gates = self.gates()
        failed_tests = [
            node_id for node_id, outcome in self._outcomes().items() if outcome in ("failed", "error") and node_id not in self._gates
        ]
        notes = list(warnings) + [m["warning"] for m in models.values() if m.get("warning")]
        decision = decide(
            gates, failed_tests, interrupted=interrupted, exit_status=exit_status, reasons=self._reasons, warnings=notes
        )
        return assemble(
            decision=decision.decision,
            reasons=[reason.to_dict() for reason in decision.reasons],
            warnings=decision.warnings,
            models=models,
            gates=gates,
            tests=self.counts().to_dict(),
            envelope=envelope,
            rollback_candidate=rollback_candidate,
            replay=replay,
        )


def _test_outcome(phases: dict[str, str]) -> str:
    """pytest's own reading: a failed setup or teardown is an error, a failed call a failure."""
    if "failed" in (phases.get("setup"), phases.get("teardown")):
        return "error"
    if phases.get("call") == "failed":
        return "failed"
    if "skipped" in phases.values():
        return "skipped"
    return "passed" if phases.get("call") == "passed" else "error"


def assemble(
    *,
    decision: str,
    reasons: list[dict],
    warnings: list[str],
    models: dict,
    gates: list,
    tests: dict,
    envelope: dict,
    rollback_candidate: dict | None = None,
    replay: dict | None = None,
) -> dict:
    """The verdict document, field order as in ``schemas/verdict.schema.json``."""
    return {
        "schema_version": SCHEMA_VERSION,
        "decision": decision,
        "reasons": reasons,
        "warnings": warnings,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "candidate": _identity(models.get("candidate")),
        "baseline": _identity(models.get("baseline")),
        "gates": gates,
        "tests": tests,
        "envelope": envelope,
        "rollback_candidate": rollback_candidate,
        "replay_of": replay["of"] if replay else None,
        "reproduced": replay["reproduced"] if replay else None,
        "replay": replay,
    }


def _identity(model: dict | None) -> dict | None:
    if model is None:
        return None
    return {
        "source": model.get("source"),
        "sha256": model.get("sha256"),
        "size_bytes": model.get("size_bytes"),
        "registry": model.get("registry"),
    }
