"""The audit log's hash chain: each event's hash covers the previous hash and its content.

Editing an event breaks its own hash; deleting one breaks the next event's link; deleting
the last ones leaves the chain shorter than the head recorded with every append.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from .backend import AuditEvent

__all__ = ["GENESIS_HASH", "ChainCheck", "event_hash", "verify_chain"]

GENESIS_HASH = "0" * 64


def event_hash(prev_hash: str, content: dict) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    events: int
    head: str  # hash of the last event (GENESIS_HASH when there is none)
    broken_at: int | None = None  # seq of the first event that does not verify
    problem: str | None = None

    def to_dict(self) -> dict:
        return {"ok": self.ok, "events": self.events, "head": self.head, "broken_at": self.broken_at, "problem": self.problem}


def verify_chain(events: list[AuditEvent], head: tuple[int, str] | None) -> ChainCheck:
    """Recompute every hash in order; report the first event that does not verify."""
    previous_hash, previous_seq = GENESIS_HASH, 0
    for event in events:
        label = f"event #{event.seq} ({_describe(event)})"
        if event.seq != previous_seq + 1:
            missing = f"#{previous_seq + 1}" if event.seq == previous_seq + 2 else f"#{previous_seq + 1}-#{event.seq - 1}"
            return _broken(events, event.seq, f"{label}: event {missing} before it is missing (deleted)")
        if event.prev_hash != previous_hash:
            return _broken(events, event.seq, f"{label}: its link to the previous event does not match (an earlier event was deleted or rewritten)")
        if event_hash(event.prev_hash, event.content()) != event.hash:
            return _broken(events, event.seq, f"{label}: its content does not match its hash (the event was edited)")
        previous_hash, previous_seq = event.hash, event.seq
    if head is None and events:
        return _broken(events, None, "the recorded head of the chain is missing")
    if head is not None and head != (previous_seq, previous_hash):
        return _broken(
            events, head[0],
            f"the chain ends at event #{previous_seq} but the recorded head is event #{head[0]}: "
            "the last event(s) were deleted or the head was rewritten",
        )
    return ChainCheck(True, len(events), previous_hash)


def _broken(events: list[AuditEvent], seq: int | None, problem: str) -> ChainCheck:
    return ChainCheck(False, len(events), events[-1].hash if events else GENESIS_HASH, seq, problem)


def _describe(event: AuditEvent) -> str:
    target = event.model if event.version is None else f"{event.model}@{event.version}"
    return f"{event.action} {target}" if target else event.action
