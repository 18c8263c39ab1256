"""Registry lifecycle: register, alias, approve, promote, roll back, archive, quarantine.

Written against :class:`~pytest_promote.registry.backend.RegistryBackend` only. Every state
change runs in one write transaction that re-reads what it checks, so two processes can
never both promote over the same baseline, and every change appends one audit event.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import CardConfig
from ..errors import RegistryError
from ..verdict.signing import verify_signature
from .audit import GENESIS_HASH, ChainCheck, event_hash, verify_chain
from .backend import ApprovalRecord, AuditEvent, RegistryBackend, Transaction, VerdictRecord, VersionRecord
from .card import card_fields, missing_card_fields
from .refs import ModelRef, check_alias, check_name, parse_ref
from .verdicts import LoadedVerdict, load_verdict

if TYPE_CHECKING:
    from ..config import PromoteConfig

__all__ = [
    "PRODUCTION",
    "ActionRefused",
    "Policy",
    "ResolvedVersion",
    "RollbackCandidate",
    "Registration",
    "Approval",
    "Check",
    "Promotion",
    "Rollback",
    "Registry",
]

PRODUCTION = "production"
_MAX_TEXT = 2000


class ActionRefused(RegistryError):
    """A well-formed request the registry refuses: conditions unmet, state forbids it."""


@dataclass(frozen=True)
class Policy:
    """What promote.yaml asks of every version: approval roles and model-card fields."""

    required_roles: tuple[str, ...] = ()
    card: CardConfig = field(default_factory=CardConfig)

    @classmethod
    def from_config(cls, config: PromoteConfig | None) -> Policy:
        return cls() if config is None else cls(config.required_approvals, config.card)


@dataclass(frozen=True)
class ResolvedVersion:
    """A registry reference resolved to one version whose artifact was just verified."""

    name: str
    version: int
    alias: str | None  # the alias the reference named, if any
    sha256: str
    size: int
    filename: str
    artifact_path: Path
    state: str

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def suffix(self) -> str:
        """The original file's suffix (``.pkl``, ``.joblib``): the store's files have none."""
        return Path(self.filename).suffix.lower()

    def identity(self) -> dict:
        """The verdict's ``registry`` field for this model."""
        return {"name": self.name, "version": self.version, "alias": self.alias}


@dataclass(frozen=True)
class RollbackCandidate:
    name: str
    version: int
    sha256: str
    reasons: tuple[str, ...]  # why it qualifies

    def to_dict(self) -> dict:
        return {"name": self.name, "version": self.version, "sha256": self.sha256, "reasons": list(self.reasons)}


@dataclass(frozen=True)
class Registration:
    version: VersionRecord
    created: bool  # False: these bytes were registered under this name already
    alias: str | None = None
    alias_moved_from: int | None = None


@dataclass(frozen=True)
class Approval:
    record: ApprovalRecord
    state: str  # the version's state after this approval
    missing_roles: tuple[str, ...]


@dataclass(frozen=True)
class Check:
    code: str
    ok: bool
    message: str

    def to_dict(self) -> dict:
        return {"code": self.code, "ok": self.ok, "message": self.message}


@dataclass(frozen=True)
class Promotion:
    """The checklist of a promotion and what happened: nothing unless every check holds."""

    ref: str
    target: str
    checks: tuple[Check, ...]
    dry_run: bool
    promoted: bool
    initial: bool
    replaced: int | None
    verdict_digest: str | None

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def unmet(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]

    def to_dict(self) -> dict:
        return {
            "ref": self.ref, "target": self.target, "ok": self.ok, "promoted": self.promoted, "dry_run": self.dry_run,
            "initial": self.initial, "replaced": self.replaced, "verdict_digest": self.verdict_digest,
            "checks": [check.to_dict() for check in self.checks],
        }


@dataclass(frozen=True)
class Rollback:
    name: str
    from_version: int
    to_version: int
    quarantined: bool
    reason: str


class Registry:
    """The model registry's operations over a backend; see the module docstring."""

    def __init__(self, backend: RegistryBackend, policy: Policy | None = None) -> None:
        self.backend = backend
        self.policy = policy or Policy()

    # --- reading -------------------------------------------------------------------------

    def resolve(self, ref: str | ModelRef, *, sha256: str | None = None) -> ResolvedVersion:
        """``"fraud@candidate"`` or ``"fraud@3"`` to a version with a verified artifact.

        ``sha256``: a pin the version must match. RegistryError names the reference and
        the reason (unknown model, alias or version, pin mismatch, artifact missing or corrupted).
        """
        parsed = ref if isinstance(ref, ModelRef) else parse_ref(ref, selector="required")
        with self.backend.read() as tx:
            record = self._select(tx, parsed)
            state = self._state(tx, record)
        if sha256 is not None and sha256.lower() != record.sha256:
            raise RegistryError(f"{parsed}: resolves to {record.ref} with sha256 {record.sha256}, but the pin is {sha256.lower()}")
        try:
            path = self.backend.artifacts.verified_path(record.sha256)
        except RegistryError as exc:
            raise RegistryError(f"{parsed} ({record.ref}): {exc}") from None
        return ResolvedVersion(
            record.name, record.version, parsed.alias, record.sha256, record.size, record.filename, path, state
        )

    def rollback_candidate(self, name: str) -> RollbackCandidate | None:
        """The version production would roll back to, or None (see :meth:`describe`)."""
        check_name(name)
        with self.backend.read() as tx:
            self._versions(tx, name)
            return self._rollback_review(tx, name)[0]

    def list_models(self) -> list[dict]:
        with self.backend.read() as tx:
            rows = []
            for name in tx.model_names():
                versions = tx.versions(name)
                aliases = tx.aliases(name)
                rows.append({
                    "name": name, "versions": len(versions), "latest": versions[-1].version,
                    "production": aliases.get(PRODUCTION), "aliases": aliases,
                })
            return rows

    def describe(self, name: str) -> dict:
        """A model: its aliases, versions with states, and its rollback candidate (or why none)."""
        check_name(name)
        with self.backend.read() as tx:
            versions = self._versions(tx, name)
            aliases = tx.aliases(name)
            candidate, passed_over = self._rollback_review(tx, name)
            return {
                "name": name,
                "aliases": aliases,
                "required_roles": list(self.policy.required_roles),
                "versions": [
                    {
                        "version": record.version, "state": self._state(tx, record), "sha256": record.sha256,
                        "size_bytes": record.size, "filename": record.filename, "created_at": record.created_at,
                        "created_by": record.created_by,
                        "aliases": sorted(alias for alias, number in aliases.items() if number == record.version),
                        "missing_roles": self._missing_roles(tx, record),
                    }
                    for record in versions
                ],
                "rollback_candidate": candidate.to_dict() if candidate else None,
                "passed_over": [{"version": number, "problems": problems} for number, problems in passed_over],
            }

    def describe_version(self, ref: str | ModelRef) -> dict:
        """One version: identity, metadata, aliases, approvals given and still missing."""
        parsed = ref if isinstance(ref, ModelRef) else parse_ref(ref, selector="required")
        with self.backend.read() as tx:
            record = self._select(tx, parsed)
            aliases = tx.aliases(record.name)
            approvals = tx.approvals(record.name, record.version)
            return {
                **self._identity(tx, record, aliases),
                "metadata": record.metadata,
                "artifact_problem": self.backend.artifacts.problem(record.sha256),
                "required_roles": list(self.policy.required_roles),
                "approvals": [_approval_dict(item, record) for item in approvals],
                "missing_roles": self._missing_roles(tx, record),
            }

    def card(self, ref: str | ModelRef) -> dict:
        """The model card's content (render it with :func:`~.card.render_markdown` or as JSON)."""
        parsed = ref if isinstance(ref, ModelRef) else parse_ref(ref, selector="required")
        with self.backend.read() as tx:
            record = self._select(tx, parsed)
            fields = card_fields(record, self.policy.card)
            verdicts = tx.verdicts_for(record.sha256)
            return {
                "identity": self._identity(tx, record, tx.aliases(record.name)),
                "fields": fields,
                "required": list(self.policy.card.required),
                "missing_required": missing_card_fields(fields, self.policy.card),
                "evaluation": _evidence(verdicts[0]) if verdicts else None,
                "data_lineage": _lineage(verdicts[0]) if verdicts else [],
                "approvals": [
                    _approval_dict(item, record) for item in tx.approvals(record.name, record.version) if item.sha256 == record.sha256
                ],
                "missing_roles": self._missing_roles(tx, record),
                "history": [_event_dict(event) for event in tx.events(record.name) if event.version == record.version],
            }

    def audit(self, name: str | None = None) -> list[AuditEvent]:
        if name is not None:
            check_name(name)
        with self.backend.read() as tx:
            if name is not None:
                self._versions(tx, name)
            return tx.events(name)

    def verify_audit(self) -> ChainCheck:
        with self.backend.read() as tx:
            return verify_chain(tx.events(), tx.audit_head())

    # --- changing ------------------------------------------------------------------------

    def register(
        self, name: str, source: Path, *, alias: str | None = None, by: str | None = None,
        metadata: dict[str, str] | None = None, git_commit: str | None = None,
    ) -> Registration:
        """Store ``source`` as the next version of ``name`` (or return the version that holds
        these bytes already), optionally pointing ``alias`` at it."""
        check_name(name)
        if alias is not None:
            _check_movable(alias)
        metadata = dict(metadata or {})
        for key, value in metadata.items():
            check_name(key, "metadata key")
            _check_text(value, f"metadata {key!r}")
        actor = _actor(by)
        artifact = self.backend.artifacts.put(Path(source))  # outside the transaction: the bytes are idempotent
        with self.backend.write() as tx:
            versions = tx.versions(name)
            existing = next((record for record in versions if record.sha256 == artifact.sha256), None)
            record = existing
            if record is None:
                record = VersionRecord(
                    name=name, version=(versions[-1].version + 1) if versions else 1, sha256=artifact.sha256,
                    size=artifact.size, filename=Path(source).name, created_at=_now(), created_by=actor,
                    metadata=metadata, git_commit=git_commit,
                )
                tx.add_version(record)
                self._append(tx, actor, "register", record, {
                    "sha256": record.sha256, "size_bytes": record.size, "filename": record.filename,
                    "git_commit": git_commit, "metadata": metadata,
                })
            moved_from = None
            if alias is not None:
                moved_from = self._move(tx, record, alias, actor)
        return Registration(record, existing is None, alias, moved_from)

    def move_alias(self, ref: str | ModelRef, alias: str, *, by: str | None = None) -> tuple[VersionRecord, int | None]:
        """Point ``alias`` (never ``production``) at a version: that version and where the
        alias pointed before (None: it is new)."""
        parsed = ref if isinstance(ref, ModelRef) else parse_ref(ref, selector="required")
        _check_movable(alias)
        actor = _actor(by)
        with self.backend.write() as tx:
            record = self._select(tx, parsed)
            if record.state in ("quarantined", "archived"):
                raise ActionRefused(f"{record.ref} is {record.state}; no alias may point at it")
            return record, self._move(tx, record, alias, actor)

    def approve(
        self, ref: str | ModelRef, role: str, *, by: str, note: str | None = None, verdict: Path | None = None,
        signing_key: bytes | None = None,
    ) -> Approval:
        """Record that ``role`` approved this version's bytes (and, given ``verdict``, that
        evidence: it must have evaluated these bytes and decided ``promote``)."""
        parsed = ref if isinstance(ref, ModelRef) else parse_ref(ref, selector="required")
        check_name(role, "role")
        if self.policy.required_roles and role not in self.policy.required_roles:
            raise RegistryError(f"unknown role {role!r}: promote.yaml approvals.required lists {', '.join(self.policy.required_roles)}")
        _check_text(by, "approver (--by)")
        if note is not None:
            _check_text(note, "note")
        loaded = load_verdict(verdict) if verdict is not None else None
        with self.backend.write() as tx:
            record = self._select(tx, parsed)
            if record.state in ("quarantined", "archived"):
                raise ActionRefused(f"cannot approve {record.ref}: it is {record.state}")
            if loaded is not None:
                problems = [check.message for check in _verdict_checks(loaded, record, signing_key) if not check.ok]
                if problems:
                    raise ActionRefused(f"cannot approve {record.ref} with verdict {loaded.path}: " + "; ".join(problems))
                tx.put_verdict(_verdict_record(loaded))
            approval = ApprovalRecord(
                record.name, record.version, role, by, _now(), record.sha256, note, loaded.digest if loaded else None
            )
            tx.add_approval(approval)
            self._append(tx, by, "approve", record, {
                "role": role, "sha256": record.sha256, "note": note, "verdict_digest": approval.verdict_digest,
            })
            return Approval(approval, self._state(tx, record), tuple(self._missing_roles(tx, record)))

    def promote(
        self, ref: str | ModelRef, *, to: str = PRODUCTION, verdict: Path | None = None, initial: bool = False,
        dry_run: bool = False, by: str | None = None, signing_key: bytes | None = None,
    ) -> Promotion:
        """Move ``production`` to this version if every check holds; the checklist either way.

        Nothing changes unless every check holds (and never with ``dry_run``). ``signing_key``
        (from ``PROMOTE_SIGNING_KEY``) makes a valid verdict signature one of the checks.
        """
        parsed = ref if isinstance(ref, ModelRef) else parse_ref(ref, selector="required")
        if to != PRODUCTION:
            raise RegistryError(f"promote --to {to!r}: only '{PRODUCTION}' is promoted to; move other aliases with `alias`")
        actor = _actor(by)
        loaded, unreadable = None, None
        if verdict is not None:
            try:
                loaded = load_verdict(verdict)
            except RegistryError as exc:
                unreadable = str(exc)
        with (self.backend.read() if dry_run else self.backend.write()) as tx:
            record = self._select(tx, parsed)
            current = tx.aliases(record.name).get(PRODUCTION)
            checks = self._promotion_checks(tx, record, current, loaded, unreadable, initial, signing_key)
            promoted = not dry_run and all(check.ok for check in checks)
            if promoted:
                if loaded is not None:
                    tx.put_verdict(_verdict_record(loaded))
                tx.set_alias(record.name, PRODUCTION, record.version)
                tx.set_state(record.name, record.version, "production")
                if current is not None:
                    tx.set_state(record.name, current, "registered")
                self._append(tx, actor, "promote", record, {
                    "alias": PRODUCTION, "replaced": current, "initial": initial,
                    "verdict_digest": loaded.digest if loaded else None,
                    "verdict_path": str(loaded.path) if loaded else None,
                })
        return Promotion(
            str(parsed), PRODUCTION, tuple(checks), dry_run, promoted, initial, current, loaded.digest if loaded else None
        )

    def rollback(
        self, name: str, *, reason: str, to: int | None = None, keep: bool = False, by: str | None = None
    ) -> Rollback:
        """Move ``production`` back (to the rollback candidate unless ``to``) and quarantine
        the version rolled back unless ``keep``."""
        check_name(name)
        _check_text(reason, "reason")
        actor = _actor(by)
        with self.backend.write() as tx:
            self._versions(tx, name)
            current = tx.aliases(name).get(PRODUCTION)
            if current is None:
                raise ActionRefused(f"cannot roll back {name}: it has no production version")
            if to is not None:
                target = self._select(tx, ModelRef(name, version=to))
                if to == current:
                    raise ActionRefused(f"cannot roll back {name} to {target.ref}: it is the production version")
                problems = self._qualification(tx, target)[1]
                if problems:
                    raise ActionRefused(f"cannot roll back {name} to {target.ref}: " + "; ".join(problems))
            else:
                candidate, passed_over = self._rollback_review(tx, name)
                if candidate is None:
                    why = "; ".join(f"{name}@{number}: {', '.join(problems)}" for number, problems in passed_over)
                    raise ActionRefused(
                        f"cannot roll back {name}: no rollback candidate ("
                        + (why or f"no version was in production before {name}@{current}") + ")"
                    )
                target = self._select(tx, ModelRef(name, version=candidate.version))
            tx.set_alias(name, PRODUCTION, target.version)
            tx.set_state(name, target.version, "production")
            tx.set_state(name, current, "registered" if keep else "quarantined")
            replaced = tx.version(name, current)
            self._append(tx, actor, "rollback", target, {"alias": PRODUCTION, "from": current, "reason": reason, "keep": keep})
            if not keep:
                self._append(tx, actor, "quarantine", replaced, {"reason": f"rolled back: {reason}"})
        return Rollback(name, current, target.version, not keep, reason)

    def archive(self, ref: str | ModelRef, *, by: str | None = None, reason: str | None = None) -> VersionRecord:
        return self._retire(ref, "archived", "archive", by, reason)

    def quarantine(self, ref: str | ModelRef, *, reason: str, by: str | None = None) -> VersionRecord:
        """Mark a version as never to be promoted or rolled back to (it cannot be undone)."""
        _check_text(reason, "reason")
        return self._retire(ref, "quarantined", "quarantine", by, reason)

    # --- internals -----------------------------------------------------------------------

    def _retire(self, ref: str | ModelRef, state: str, action: str, by: str | None, reason: str | None) -> VersionRecord:
        parsed = ref if isinstance(ref, ModelRef) else parse_ref(ref, selector="required")
        if reason is not None:
            _check_text(reason, "reason")
        actor = _actor(by)
        with self.backend.write() as tx:
            record = self._select(tx, parsed)
            if record.state == "production":
                raise ActionRefused(f"cannot {action} {record.ref}: it is in production; roll back or promote another version first")
            if record.state == state or record.state == "quarantined":
                raise ActionRefused(f"cannot {action} {record.ref}: it is {record.state} already")
            tx.set_state(record.name, record.version, state)
            self._append(tx, actor, action, record, {"reason": reason, "previous_state": record.state})
            return tx.version(record.name, record.version)

    def _versions(self, tx: Transaction, name: str) -> list[VersionRecord]:
        versions = tx.versions(name)
        if not versions:
            known = tx.model_names()
            listing = f"registered: {', '.join(known)}" if known else "no models are registered"
            raise RegistryError(f"unknown model {name!r} in registry {self.backend.location} ({listing})")
        return versions

    def _select(self, tx: Transaction, ref: ModelRef) -> VersionRecord:
        versions = self._versions(tx, ref.name)
        if ref.alias is not None:
            aliases = tx.aliases(ref.name)
            if ref.alias not in aliases:
                listing = ", ".join(f"{alias} -> {number}" for alias, number in aliases.items()) or "none"
                raise RegistryError(f"{ref}: unknown alias {ref.alias!r} (aliases of {ref.name}: {listing})")
            number = aliases[ref.alias]
        elif ref.version is not None:
            number = ref.version
        else:
            raise RegistryError(f"{ref}: expected {ref.name}@VERSION or {ref.name}@ALIAS")
        record = tx.version(ref.name, number)
        if record is None:
            raise RegistryError(f"{ref}: no such version {number} ({ref.name} has versions 1-{versions[-1].version})")
        return record

    def _state(self, tx: Transaction, record: VersionRecord) -> str:
        """The stored state, or ``approved`` for a registered version every required role approved."""
        if record.state != "registered":
            return record.state
        if self.policy.required_roles and not self._missing_roles(tx, record):
            return "approved"
        return "registered"

    def _missing_roles(self, tx: Transaction, record: VersionRecord) -> list[str]:
        # an approval counts only for the exact bytes it approved
        given = {item.role for item in tx.approvals(record.name, record.version) if item.sha256 == record.sha256}
        return [role for role in self.policy.required_roles if role not in given]

    def _identity(self, tx: Transaction, record: VersionRecord, aliases: dict[str, int]) -> dict:
        return {
            "name": record.name, "version": record.version, "sha256": record.sha256, "size_bytes": record.size,
            "filename": record.filename, "git_commit": record.git_commit, "created_at": record.created_at,
            "created_by": record.created_by, "state": self._state(tx, record),
            "aliases": sorted(alias for alias, number in aliases.items() if number == record.version),
        }

    def _move(self, tx: Transaction, record: VersionRecord, alias: str, actor: str) -> int | None:
        before = tx.aliases(record.name).get(alias)
        if before != record.version:
            tx.set_alias(record.name, alias, record.version)
            self._append(tx, actor, "alias", record, {"alias": alias, "from": before, "to": record.version})
        return before

    def _append(self, tx: Transaction, actor: str, action: str, record: VersionRecord, detail: dict) -> None:
        head = tx.audit_head()
        seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
        content = {
            "seq": seq, "at": _now(), "actor": actor, "action": action, "model": record.name,
            "version": record.version, "detail": detail,
        }
        tx.add_event(AuditEvent(**content, prev_hash=prev_hash, hash=event_hash(prev_hash, content)))

    def _promotion_checks(
        self, tx: Transaction, record: VersionRecord, current: int | None, loaded: LoadedVerdict | None,
        unreadable: str | None, initial: bool, signing_key: bytes | None,
    ) -> list[Check]:
        checks: list[Check] = []
        ref = record.ref
        if record.state in ("quarantined", "archived"):
            checks.append(Check("version_state", False, f"{ref} is {record.state}; it can never be promoted"))
        elif current == record.version:
            checks.append(Check("version_state", False, f"{ref} is already in production"))
        else:
            checks.append(Check("version_state", True, f"{ref} is {self._state(tx, record)}"))
        problem = self.backend.artifacts.problem(record.sha256)
        checks.append(Check("artifact", problem is None, problem or f"{ref}'s artifact verifies (sha256 {record.sha256})"))
        if initial:
            if current is None:
                checks.append(Check("initial", True, f"{record.name} has no production version: this is its initial promotion"))
            else:
                checks.append(Check(
                    "initial", False,
                    f"--initial is only for the first production version; production already points at {record.name}@{current}",
                ))
        elif current is None:
            checks.append(Check(
                "production_exists", False,
                f"production points at no version of {record.name}: promote the first one with --initial",
            ))
        if unreadable is not None:
            checks.append(Check("verdict_readable", False, unreadable))
        elif loaded is None and not initial:
            checks.append(Check("verdict_given", False, "no verdict given: pass --verdict PATH (written by pytest --promote)"))
        elif loaded is not None:
            checks.extend(_verdict_checks(loaded, record, signing_key))
            if current is not None and current != record.version and not initial:
                checks.append(_baseline_check(loaded, tx.version(record.name, current)))
        checks.extend(self._approval_checks(tx, record))
        fields = card_fields(record, self.policy.card)
        missing = missing_card_fields(fields, self.policy.card)
        for name in self.policy.card.required:
            if name in missing:
                checks.append(Check(
                    "card_field", False,
                    f"model card field {name!r} is empty: set card.{name} in promote.yaml (or register with --meta {name}=...)",
                ))
            else:
                checks.append(Check("card_field", True, f"model card field {name!r} is filled"))
        if current is not None and current != record.version and not initial:
            replaced = tx.version(record.name, current)
            problem = self.backend.artifacts.problem(replaced.sha256)
            checks.append(Check(
                "rollback_candidate", problem is None,
                f"{replaced.ref} (the version replaced) cannot serve as the rollback candidate: {problem}" if problem
                else f"{replaced.ref} (the version replaced) becomes the rollback candidate: its artifact verifies",
            ))
        return checks

    def _approval_checks(self, tx: Transaction, record: VersionRecord) -> list[Check]:
        if not self.policy.required_roles:
            return [Check("approval", True, "no approvals are required (promote.yaml approvals.required is empty)")]
        approvals = tx.approvals(record.name, record.version)
        checks = []
        for role in self.policy.required_roles:
            valid = [item for item in approvals if item.role == role and item.sha256 == record.sha256]
            if valid:
                checks.append(Check("approval", True, f"role {role!r} approved these bytes ({valid[-1].approved_by}, {valid[-1].approved_at})"))
            else:
                checks.append(Check("approval", False, f"role {role!r} has not approved {record.ref} (sha256 {record.sha256})"))
        return checks

    def _production_history(self, tx: Transaction, name: str) -> list[int]:
        """Versions that left production, the most recent first, each once."""
        left = []
        for event in tx.events(name):
            if event.action == "promote":
                left.append(event.detail.get("replaced"))
            elif event.action == "rollback":
                left.append(event.detail.get("from"))
        ordered = [number for number in reversed(left) if isinstance(number, int) and not isinstance(number, bool)]
        return list(dict.fromkeys(ordered))

    def _rollback_review(self, tx: Transaction, name: str) -> tuple[RollbackCandidate | None, list[tuple[int, list[str]]]]:
        """The first earlier production version that qualifies, and those passed over (with why)."""
        current = tx.aliases(name).get(PRODUCTION)
        passed_over = []
        for number in self._production_history(tx, name):
            record = tx.version(name, number)
            if number == current or record is None:
                continue
            reasons, problems = self._qualification(tx, record)
            if not problems:
                return RollbackCandidate(name, number, record.sha256, tuple(reasons)), passed_over
            passed_over.append((number, problems))
        return None, passed_over

    def _qualification(self, tx: Transaction, record: VersionRecord) -> tuple[list[str], list[str]]:
        """Why a version may serve as a rollback target, and why not."""
        reasons, problems = [], []
        problem = self.backend.artifacts.problem(record.sha256)
        if problem is None:
            reasons.append(f"artifact verifies (sha256 {record.sha256})")
        else:
            problems.append(problem)
        if record.state in ("quarantined", "archived"):
            problems.append(f"it is {record.state}")
        else:
            reasons.append("not quarantined")
        promotions = [event for event in tx.events(record.name) if event.action == "promote" and event.version == record.version]
        if not promotions:
            problems.append("it was never promoted by a verdict or an initial promotion")
        else:
            last = promotions[-1]
            digest = last.detail.get("verdict_digest")
            if last.detail.get("initial"):
                basis = "an initial promotion" + (f" with passing verdict {digest}" if digest else " (no verdict)")
            else:
                basis = f"a passing verdict ({digest})"
            reasons.append(f"promoted by {basis} on {last.at}")
        return reasons, problems


def _verdict_checks(loaded: LoadedVerdict, record: VersionRecord, signing_key: bytes | None) -> list[Check]:
    checks = [
        Check(
            "verdict_decision", loaded.decision == "promote",
            f"verdict {loaded.path} decided {loaded.decision!r}" + ("" if loaded.decision == "promote" else ", not 'promote'"),
        ),
        Check(
            "verdict_candidate", loaded.candidate_sha256 == record.sha256,
            f"the verdict's candidate is {record.ref}'s bytes (sha256 {record.sha256})" if loaded.candidate_sha256 == record.sha256
            else f"the verdict evaluated candidate sha256 {loaded.candidate_sha256}, not {record.ref}'s {record.sha256}",
        ),
    ]
    if signing_key is not None:
        if not loaded.signed:
            checks.append(Check("verdict_signature", False, f"PROMOTE_SIGNING_KEY is set but verdict {loaded.path} is not signed"))
        elif verify_signature(loaded.document, signing_key):
            checks.append(Check("verdict_signature", True, "the verdict's signature is valid"))
        else:
            checks.append(Check(
                "verdict_signature", False,
                f"verdict {loaded.path}: the signature does not match (edited after signing, or signed with another key)",
            ))
    return checks


def _baseline_check(loaded: LoadedVerdict, production: VersionRecord) -> Check:
    """The verdict must have compared against what production holds now, not earlier."""
    problems = []
    if loaded.baseline_sha256 != production.sha256:
        problems.append(f"baseline sha256 {loaded.baseline_sha256} is not {production.ref}'s {production.sha256}")
    if loaded.baseline_version is not None and (
        loaded.baseline_version != production.version or loaded.baseline_name not in (None, production.name)
    ):
        problems.append(f"baseline registry version {loaded.baseline_name}@{loaded.baseline_version} is not {production.ref}")
    if problems:
        return Check(
            "verdict_baseline", False,
            f"stale baseline: production is {production.ref} now, but the verdict's " + " and its ".join(problems),
        )
    return Check("verdict_baseline", True, f"the verdict's baseline is production's current version {production.ref}")


def _verdict_record(loaded: LoadedVerdict) -> VerdictRecord:
    return VerdictRecord(
        loaded.digest, loaded.decision, loaded.candidate_sha256, loaded.baseline_sha256, str(loaded.path), _now(), loaded.document
    )


def _evidence(record: VerdictRecord) -> dict:
    document = record.document
    gates = []
    for gate in document.get("gates", []):
        ci = gate.get("ci") if isinstance(gate.get("ci"), dict) else {}
        gates.append({
            "id": gate.get("id"), "kind": gate.get("kind"), "metric": gate.get("metric"),
            "candidate": gate.get("candidate"), "baseline": gate.get("baseline"), "delta": gate.get("delta"),
            "ci_low": ci.get("low"), "ci_high": ci.get("high"), "outcome": gate.get("outcome"),
        })
    return {
        "digest": record.digest, "decision": record.decision, "created_at": document.get("created_at"),
        "signed": "signature" in document, "baseline_sha256": record.baseline_sha256, "source": record.source, "gates": gates,
    }


def _lineage(record: VerdictRecord) -> list[dict]:
    datasets = (record.document.get("envelope") or {}).get("datasets") or {}
    return [
        {"name": name, "path": (spec or {}).get("path"), "sha256": (spec or {}).get("sha256"), "rows": (spec or {}).get("rows")}
        for name, spec in sorted(datasets.items())
    ]


def _approval_dict(item: ApprovalRecord, record: VersionRecord) -> dict:
    return {
        "role": item.role, "approved_by": item.approved_by, "approved_at": item.approved_at, "sha256": item.sha256,
        "note": item.note, "verdict_digest": item.verdict_digest, "valid": item.sha256 == record.sha256,
    }


def _event_dict(event: AuditEvent) -> dict:
    return {**event.content(), "prev_hash": event.prev_hash, "hash": event.hash}


def _check_movable(alias: str) -> None:
    check_alias(alias)
    if alias == PRODUCTION:
        raise ActionRefused(f"alias {PRODUCTION!r} is moved only by `promote` and `rollback`")


def _check_text(value: object, what: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise RegistryError(f"{what}: expected non-empty text, got {value!r}")
    if len(value) > _MAX_TEXT or any(ord(char) < 32 and char not in "\t\n" for char in value):
        raise RegistryError(f"{what}: at most {_MAX_TEXT} characters, no control characters")


def _actor(by: str | None) -> str:
    if by is not None:
        _check_text(by, "--by")
        return by
    try:
        return getpass.getuser()
    except Exception:  # no login name (containers without a passwd entry): say so rather than guess
        return "unknown"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
