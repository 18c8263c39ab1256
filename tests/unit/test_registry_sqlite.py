"""The SQLite backend: schema migrations, opening errors, and concurrent writers in
separate processes (no event lost, the audit chain intact)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_promote.errors import RegistryError
from pytest_promote.registry import Policy, Registry, SqliteBackend
from pytest_promote.registry.sqlite import MIGRATIONS, SCHEMA_VERSION, migrate


def schema_version(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT version FROM schema_version").fetchone()[0]


def test_new_registry_gets_the_latest_schema(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "registry.db"
    SqliteBackend(path).close()
    assert SCHEMA_VERSION == len(MIGRATIONS) == 2 and schema_version(path) == SCHEMA_VERSION
    SqliteBackend(path).close()  # opening again migrates nothing
    assert schema_version(path) == SCHEMA_VERSION


def test_v1_database_is_upgraded_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "registry.db"
    db = sqlite3.connect(path, isolation_level=None)
    assert migrate(db, target=1) == 0
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "verdicts" not in tables and "versions" in tables
    db.execute(
        "INSERT INTO versions VALUES ('fraud', 1, ?, 3, 'm.pkl', '2024-01-01T00:00:00.000Z', 'alice', '{\"k\": \"v\"}', NULL, 'registered')",
        ("ab" * 32,),
    )
    db.execute("INSERT INTO aliases VALUES ('fraud', 'candidate', 1)")
    db.close()
    assert schema_version(path) == 1

    registry = Registry(SqliteBackend(path), Policy())
    assert schema_version(path) == 2
    shown = registry.describe_version("fraud@candidate")
    assert (shown["version"], shown["sha256"], shown["created_by"], shown["metadata"]) == (1, "ab" * 32, "alice", {"k": "v"})
    assert registry.card("fraud@1")["evaluation"] is None  # the verdicts table migration 2 added works


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "registry.db"
    SqliteBackend(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(RegistryError, match=r"registry .*registry\.db: schema version 99 is newer than this pytest-promote understands \(2\)"):
        SqliteBackend(path)


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "registry.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(RegistryError, match=r"registry .*registry\.db: cannot open: file is not a database"):
        SqliteBackend(path)


WORKER = textwrap.dedent(
    """
    import sys
    import time
    from pathlib import Path
    from pytest_promote.registry import Policy, Registry, SqliteBackend

    db, worker, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    registry = Registry(SqliteBackend(db), Policy(("risk",)))
    while not (db.parent / "go").exists():  # start together, so the writers really overlap
        time.sleep(0.005)
    for i in range(rounds):
        source = db.parent / f"{worker}-{i}.pkl"
        source.write_bytes(f"{worker}-{i}".encode())
        # every worker also registers the same shared bytes: exactly one version must result
        shared = db.parent / f"shared-{worker}-{i}.pkl"
        shared.write_bytes(b"shared")
        number = registry.register("fraud", source, by=worker).version.version
        registry.register("fraud", shared, by=worker)
        registry.approve(f"fraud@{number}", "risk", by=worker)
        registry.move_alias(f"fraud@{number}", "candidate", by=worker)
    """
)


def test_concurrent_processes_lose_no_event(tmp_path: Path) -> None:
    db = tmp_path / "reg" / "registry.db"  # not created yet: the workers race to create and migrate it too
    db.parent.mkdir()
    workers, rounds = 4, 10
    processes = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(db), f"w{n}", str(rounds)], stderr=subprocess.PIPE, text=True)
        for n in range(workers)
    ]
    (db.parent / "go").touch()
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr

    registry = Registry(SqliteBackend(db), Policy(("risk",)))
    versions = registry.describe("fraud")["versions"]
    assert len(versions) == workers * rounds + 1  # one per worker and round, plus the shared bytes once
    assert sorted(item["version"] for item in versions) == list(range(1, workers * rounds + 2))
    events = registry.audit()
    counts = {action: sum(event.action == action for event in events) for action in ("register", "approve", "alias")}
    assert counts == {"register": workers * rounds + 1, "approve": workers * rounds, "alias": workers * rounds}
    assert [event.seq for event in events] == list(range(1, len(events) + 1))
    check = registry.verify_audit()
    assert check.ok, check.problem
    approved = [item for item in versions if item["state"] == "approved"]
    assert len(approved) == workers * rounds
    json.dumps(registry.describe("fraud"))  # every description is JSON-serialisable
