"""The storage interface lifecycle logic is written against, and the records it moves.

The built-in implementation is SQLite plus a content-addressed file store
(:mod:`pytest_promote.registry.sqlite`); a server-backed registry implements the same two
protocols and is returned by the ``pytest_promote_registry_backend`` hook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ContextManager, Protocol

if TYPE_CHECKING:
    from ..config import PromoteConfig

__all__ = [
    "DEFAULT_REGISTRY_PATH",
    "STATES",
    "Artifact",
    "ArtifactStore",
    "VersionRecord",
    "ApprovalRecord",
    "VerdictRecord",
    "AuditEvent",
    "Transaction",
    "RegistryBackend",
    "registry_path",
]

DEFAULT_REGISTRY_PATH = Path(".promote") / "registry.db"
#: stored states; ``approved`` is derived (all required roles approved these bytes)
STATES = ("registered", "production", "archived", "quarantined")


@dataclass(frozen=True)
class Artifact:
    sha256: str
    size: int


@dataclass(frozen=True)
class VersionRecord:
    """One immutable registered version. ``state`` is the stored lifecycle state."""

    name: str
    version: int
    sha256: str
    size: int
    filename: str  # the original file name: its suffix tells the plugin which loader to use
    created_at: str
    created_by: str
    metadata: dict = field(default_factory=dict)
    git_commit: str | None = None
    state: str = "registered"

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class ApprovalRecord:
    name: str
    version: int
    role: str
    approved_by: str
    approved_at: str
    sha256: str  # the bytes approved; an approval counts only while it equals the version's
    note: str | None = None
    verdict_digest: str | None = None


@dataclass(frozen=True)
class VerdictRecord:
    digest: str  # verdict_digest(): sha256 of the canonical JSON without the signature
    decision: str
    candidate_sha256: str | None
    baseline_sha256: str | None
    source: str  # the file it was read from
    stored_at: str
    document: dict


@dataclass(frozen=True)
class AuditEvent:
    seq: int
    at: str
    actor: str
    action: str
    model: str | None
    version: int | None
    detail: dict
    prev_hash: str
    hash: str

    def content(self) -> dict:
        """What the hash covers (everything but the hashes themselves)."""
        return {
            "seq": self.seq, "at": self.at, "actor": self.actor, "action": self.action,
            "model": self.model, "version": self.version, "detail": self.detail,
        }


class ArtifactStore(Protocol):
    location: str

    def put(self, source: Path) -> Artifact:
        """Store the file's bytes (idempotently) and return their sha256 and size."""

    def verified_path(self, sha256: str) -> Path:
        """A local file holding exactly these bytes, re-hashed now; RegistryError otherwise."""

    def problem(self, sha256: str) -> str | None:
        """None when the artifact is present and intact, else what is wrong with it."""


class Transaction(Protocol):
    """Reads and writes inside one transaction; a write transaction is all or nothing."""

    def model_names(self) -> list[str]: ...

    def versions(self, name: str) -> list[VersionRecord]:
        """Every version of ``name``, oldest first (empty for an unknown model)."""

    def version(self, name: str, number: int) -> VersionRecord | None: ...

    def add_version(self, record: VersionRecord) -> None: ...

    def set_state(self, name: str, number: int, state: str) -> None: ...

    def aliases(self, name: str) -> dict[str, int]: ...

    def set_alias(self, name: str, alias: str, number: int) -> None: ...

    def approvals(self, name: str, number: int | None = None) -> list[ApprovalRecord]:
        """Approvals of one version (or of every version), oldest first."""

    def add_approval(self, record: ApprovalRecord) -> None: ...

    def put_verdict(self, record: VerdictRecord) -> None:
        """Store a verdict unless one with the same digest is stored already."""

    def verdicts_for(self, candidate_sha256: str) -> list[VerdictRecord]:
        """Stored verdicts that evaluated these bytes as the candidate, newest first."""

    def audit_head(self) -> tuple[int, str] | None:
        """``(seq, hash)`` of the last appended event, as recorded when it was appended."""

    def add_event(self, event: AuditEvent) -> None:
        """Append an event and make it the recorded head of the chain."""

    def events(self, name: str | None = None) -> list[AuditEvent]:
        """Audit events (of one model, or all), in order."""


class RegistryBackend(Protocol):
    """Registry storage: metadata transactions plus an artifact store.

    ``write()`` must serialise writers (the SQLite backend uses ``BEGIN IMMEDIATE`` with a
    busy timeout, so a second writer waits rather than fails) and roll back on an exception.
    """

    location: str
    artifacts: ArtifactStore

    def read(self) -> ContextManager[Transaction]: ...

    def write(self) -> ContextManager[Transaction]: ...

    def close(self) -> None: ...


def registry_path(rootdir: Path, config: PromoteConfig | None = None) -> Path:
    """``registry.path`` from the config, else ``.promote/registry.db`` under ``rootdir``."""
    if config is not None and config.registry_path is not None:
        return config.registry_path
    return Path(rootdir) / DEFAULT_REGISTRY_PATH
