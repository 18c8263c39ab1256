"""The built-in registry backend: metadata in SQLite, artifacts in a file store beside it.

Every write is one ``BEGIN IMMEDIATE`` transaction and the connection waits up to
``BUSY_TIMEOUT_S`` for another writer, so concurrent processes queue instead of failing.
The schema is versioned (``schema_version``) and upgraded by numbered forward migrations.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import pluggy

from ..errors import RegistryError
from .backend import ApprovalRecord, AuditEvent, VerdictRecord, VersionRecord
from .store import FileArtifactStore

__all__ = ["BUSY_TIMEOUT_S", "MIGRATIONS", "SCHEMA_VERSION", "SqliteBackend", "migrate", "pytest_promote_registry_backend"]

hookimpl = pluggy.HookimplMarker("pytest")

BUSY_TIMEOUT_S = 60.0


def _migration_1(db: sqlite3.Connection) -> None:
    """Versions, aliases, approvals and the audit chain."""
    for statement in (
        """CREATE TABLE versions (
            name TEXT NOT NULL, version INTEGER NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
            filename TEXT NOT NULL, created_at TEXT NOT NULL, created_by TEXT NOT NULL,
            metadata TEXT NOT NULL, git_commit TEXT, state TEXT NOT NULL,
            PRIMARY KEY (name, version), UNIQUE (name, sha256))""",
        """CREATE TABLE aliases (
            name TEXT NOT NULL, alias TEXT NOT NULL, version INTEGER NOT NULL,
            PRIMARY KEY (name, alias), FOREIGN KEY (name, version) REFERENCES versions (name, version))""",
        """CREATE TABLE approvals (
            id INTEGER PRIMARY KEY, name TEXT NOT NULL, version INTEGER NOT NULL, role TEXT NOT NULL,
            approved_by TEXT NOT NULL, approved_at TEXT NOT NULL, sha256 TEXT NOT NULL, note TEXT,
            verdict_digest TEXT, FOREIGN KEY (name, version) REFERENCES versions (name, version))""",
        """CREATE TABLE events (
            seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
            model TEXT, version INTEGER, detail TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)""",
        "CREATE TABLE audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL)",
    ):
        db.execute(statement)


def _migration_2(db: sqlite3.Connection) -> None:
    """Stored verdicts (evidence for cards and promotions); per-model event lookups."""
    db.execute(
        """CREATE TABLE verdicts (
            digest TEXT PRIMARY KEY, decision TEXT NOT NULL, candidate_sha256 TEXT, baseline_sha256 TEXT,
            source TEXT NOT NULL, stored_at TEXT NOT NULL, document TEXT NOT NULL)"""
    )
    db.execute("CREATE INDEX verdicts_candidate ON verdicts (candidate_sha256)")
    db.execute("CREATE INDEX events_model ON events (model, seq)")


#: migration i + 1 upgrades schema version i to i + 1; append, never edit a released one
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_migration_1, _migration_2)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(db: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Upgrade the schema to ``target`` in one transaction; returns the version found before."""
    db.execute("BEGIN IMMEDIATE")  # two processes opening a new registry must not both migrate
    try:
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = db.execute("SELECT version FROM schema_version").fetchone()
        found = row[0] if row else 0
        if row is None:
            db.execute("INSERT INTO schema_version (version) VALUES (0)")
        if found > SCHEMA_VERSION:
            raise RegistryError(
                f"schema version {found} is newer than this pytest-promote understands ({SCHEMA_VERSION}); upgrade pytest-promote"
            )
        for number in range(found, target):
            MIGRATIONS[number](db)
        if target > found:
            db.execute("UPDATE schema_version SET version = ?", (target,))
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return found


class SqliteBackend:
    """The registry in the SQLite file ``path``; artifacts in ``artifacts/`` next to it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        self.artifacts = FileArtifactStore(self.path.parent / "artifacts")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # autocommit mode: transactions are begun explicitly, never implicitly by the driver
            self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise RegistryError(f"registry {self.path}: cannot open: {exc}") from None
        try:
            self._db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            self._db.execute("PRAGMA journal_mode = WAL")  # readers never block the writer
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.execute("PRAGMA foreign_keys = ON")
            migrate(self._db)
        except sqlite3.Error as exc:
            self._db.close()
            raise RegistryError(f"registry {self.path}: cannot open: {exc}") from None
        except RegistryError as exc:
            self._db.close()
            raise RegistryError(f"registry {self.path}: {exc}") from None

    @contextmanager
    def read(self) -> Iterator[_SqliteTransaction]:
        with self._transaction("BEGIN") as transaction:  # one consistent snapshot
            yield transaction

    @contextmanager
    def write(self) -> Iterator[_SqliteTransaction]:
        with self._transaction("BEGIN IMMEDIATE") as transaction:
            yield transaction

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[_SqliteTransaction]:
        try:
            self._db.execute(begin)
        except sqlite3.Error as exc:
            raise RegistryError(f"registry {self.path}: {exc}") from None
        try:
            yield _SqliteTransaction(self._db)
        except sqlite3.Error as exc:
            self._db.execute("ROLLBACK")
            raise RegistryError(f"registry {self.path}: {exc}") from None
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise RegistryError(f"registry {self.path}: commit failed: {exc}") from None

    def close(self) -> None:
        self._db.close()


class _SqliteTransaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def model_names(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT DISTINCT name FROM versions ORDER BY name")]

    def versions(self, name: str) -> list[VersionRecord]:
        rows = self._db.execute(f"SELECT {_VERSION_COLUMNS} FROM versions WHERE name = ? ORDER BY version", (name,))
        return [_version(row) for row in rows]

    def version(self, name: str, number: int) -> VersionRecord | None:
        row = self._db.execute(
            f"SELECT {_VERSION_COLUMNS} FROM versions WHERE name = ? AND version = ?", (name, number)
        ).fetchone()
        return _version(row) if row else None

    def add_version(self, record: VersionRecord) -> None:
        self._db.execute(
            f"INSERT INTO versions ({_VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (record.name, record.version, record.sha256, record.size, record.filename, record.created_at,
             record.created_by, _dumps(record.metadata), record.git_commit, record.state),
        )

    def set_state(self, name: str, number: int, state: str) -> None:
        self._db.execute("UPDATE versions SET state = ? WHERE name = ? AND version = ?", (state, name, number))

    def aliases(self, name: str) -> dict[str, int]:
        rows = self._db.execute("SELECT alias, version FROM aliases WHERE name = ? ORDER BY alias", (name,))
        return {alias: version for alias, version in rows}

    def set_alias(self, name: str, alias: str, number: int) -> None:
        self._db.execute(
            "INSERT INTO aliases (name, alias, version) VALUES (?, ?, ?) "
            "ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version",
            (name, alias, number),
        )

    def approvals(self, name: str, number: int | None = None) -> list[ApprovalRecord]:
        query = f"SELECT {_APPROVAL_COLUMNS} FROM approvals WHERE name = ?"
        parameters: tuple = (name,)
        if number is not None:
            query += " AND version = ?"
            parameters += (number,)
        return [ApprovalRecord(*row) for row in self._db.execute(query + " ORDER BY id", parameters)]

    def add_approval(self, record: ApprovalRecord) -> None:
        self._db.execute(
            f"INSERT INTO approvals ({_APPROVAL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (record.name, record.version, record.role, record.approved_by, record.approved_at, record.sha256,
             record.note, record.verdict_digest),
        )

    def put_verdict(self, record: VerdictRecord) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO verdicts (digest, decision, candidate_sha256, baseline_sha256, source, stored_at, document) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (record.digest, record.decision, record.candidate_sha256, record.baseline_sha256, record.source,
             record.stored_at, _dumps(record.document)),
        )

    def verdicts_for(self, candidate_sha256: str) -> list[VerdictRecord]:
        rows = self._db.execute(
            "SELECT digest, decision, candidate_sha256, baseline_sha256, source, stored_at, document FROM verdicts "
            "WHERE candidate_sha256 = ? ORDER BY rowid DESC",
            (candidate_sha256,),
        )
        return [VerdictRecord(*row[:6], json.loads(row[6])) for row in rows]

    def audit_head(self) -> tuple[int, str] | None:
        row = self._db.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
        return (row[0], row[1]) if row else None

    def add_event(self, event: AuditEvent) -> None:
        self._db.execute(
            "INSERT INTO events (seq, at, actor, action, model, version, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (event.seq, event.at, event.actor, event.action, event.model, event.version, _dumps(event.detail),
             event.prev_hash, event.hash),
        )
        self._db.execute(
            "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
            (event.seq, event.hash),
        )

    def events(self, name: str | None = None) -> list[AuditEvent]:
        query = "SELECT seq, at, actor, action, model, version, detail, prev_hash, hash FROM events"
        rows = self._db.execute(query + " ORDER BY seq") if name is None else self._db.execute(
            query + " WHERE model = ? ORDER BY seq", (name,)
        )
        return [AuditEvent(*row[:6], _loads_detail(row[6]), *row[7:]) for row in rows]


_VERSION_COLUMNS = "name, version, sha256, size, filename, created_at, created_by, metadata, git_commit, state"
_APPROVAL_COLUMNS = "name, version, role, approved_by, approved_at, sha256, note, verdict_digest"


def _version(row: tuple) -> VersionRecord:
    return VersionRecord(*row[:7], json.loads(row[7]), row[8], row[9])


def _dumps(value: dict) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)


def _loads_detail(text: str) -> dict:
    # an edited row may hold anything; the chain check must report it, not crash on it
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return {"unreadable": str(text)}
    return value if isinstance(value, dict) else {"unreadable": value}


@hookimpl(trylast=True)
def pytest_promote_registry_backend(path: Path) -> SqliteBackend:
    return SqliteBackend(path)
