"""The verdict: decision, gate evidence and reproducibility envelope. Never imports pytest."""

from __future__ import annotations

from pathlib import Path

from .collect import SCHEMA_VERSION, TestPhase, VerdictCollector, assemble
from .decision import Decision, Reason, TestCounts, decide, gate_outcome
from .envelope import collect_envelope
from .files import dumps, remove_stale_verdict, write_verdict
from .render import summary_lines
from .signing import canonical_json, sign_verdict, signing_key_from_env, verdict_digest, verify_signature

__all__ = [
    "SCHEMA_PATH",
    "SCHEMA_VERSION",
    "Decision",
    "Reason",
    "TestCounts",
    "TestPhase",
    "VerdictCollector",
    "assemble",
    "canonical_json",
    "collect_envelope",
    "decide",
    "dumps",
    "gate_outcome",
    "remove_stale_verdict",
    "sign_verdict",
    "signing_key_from_env",
    "summary_lines",
    "verdict_digest",
    "verify_signature",
    "write_verdict",
]

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "verdict.schema.json"
