"""``pytest-promote`` (``python -m pytest_promote``) as a user runs it: exit codes, output
lines, --json documents, one-line errors; a registry in the project's ``.promote/`` folder."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_promote.config import load_config
from pytest_promote.registry import Policy, Registry, SqliteBackend
from pytest_promote.verdict import sign_verdict

COMMANDS = ("register", "list", "show", "alias", "approve", "promote", "rollback", "archive", "quarantine", "card", "audit")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Cli:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = {key: value for key, value in os.environ.items() if key != "PROMOTE_SIGNING_KEY"}

    def __call__(self, *args: str, code: int = 0, env: dict | None = None) -> subprocess.CompletedProcess:
        completed = subprocess.run(
            [sys.executable, "-m", "pytest_promote", *args], cwd=self.root, capture_output=True, text=True,
            env={**self.env, **(env or {})}, timeout=60,
        )
        assert "Traceback" not in completed.stderr, completed.stderr
        assert completed.returncode == code, f"exit {completed.returncode}\n{completed.stdout}\n{completed.stderr}"
        return completed

    def json(self, *args: str, code: int = 0, env: dict | None = None):
        return json.loads(self(*args, "--json", code=code, env=env).stdout)

    def error(self, *args: str, code: int = 2) -> str:
        """The single stderr line of a failing command."""
        completed = self(*args, code=code)
        lines = completed.stderr.splitlines()
        assert len(lines) == 1, completed.stderr
        return lines[0]

    def model(self, content: bytes, name: str = "model.pkl") -> str:
        path = self.root / "models" / sha(content)[:8] / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return str(path.relative_to(self.root))

    def verdict(self, candidate: bytes, baseline: bytes | None, version: int | None, *, decision: str = "promote",
                key: bytes | None = None, name: str = "verdict.json") -> str:
        document = {
            "schema_version": 1, "decision": decision, "reasons": [], "created_at": "2024-06-07T12:00:00Z",
            "candidate": {"source": "registry:fraud@candidate", "sha256": sha(candidate), "registry": None},
            "baseline": {
                "source": "registry:fraud@production", "sha256": sha(baseline) if baseline else None,
                "registry": {"name": "fraud", "version": version, "alias": "production"} if version else None,
            },
            "gates": [{"id": "t.py::test_auc", "kind": "quality", "metric": "roc_auc", "candidate": 0.93, "baseline": 0.9,
                       "delta": 0.03, "ci": {"low": 0.02, "high": 0.04}, "outcome": "passed", "passed": True}],
            "envelope": {"datasets": {"holdout": {"path": "data/holdout.csv", "sha256": "ee" * 32, "rows": 5000}}},
        }
        if key is not None:
            document = sign_verdict(document, key)
        (self.root / name).write_text(json.dumps(document))
        return name


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    (tmp_path / "promote.yaml").write_text(textwrap.dedent(
        """\
        version: 1
        models:
          candidate: {registry: "fraud@candidate"}
          baseline: {registry: "fraud@production"}
        approvals: {required: [risk, ml-lead]}
        card:
          intended_use: Score card transactions for fraud review.
          limitations: Trained on EU transactions only.
          owners: [fraud-team]
        """
    ))
    return Cli(tmp_path)


def in_production(cli: Cli) -> None:
    """fraud@1 (initial) then fraud@2 (by a passing verdict) in production, set up in-process
    through the same registry the command opens (test_full_lifecycle does it by command)."""
    registry = Registry(SqliteBackend(cli.root / ".promote" / "registry.db"), Policy.from_config(load_config(cli.root / "promote.yaml")))
    try:
        registry.register("fraud", cli.root / cli.model(b"one"), by="alice")
        for role in ("risk", "ml-lead"):
            registry.approve("fraud@1", role, by=f"{role}-lead")
        assert registry.promote("fraud@1", initial=True).promoted
        registry.register("fraud", cli.root / cli.model(b"two"), alias="candidate")
        for role in ("risk", "ml-lead"):
            registry.approve("fraud@candidate", role, by=f"{role}-lead")
        assert registry.promote("fraud@candidate", verdict=cli.root / cli.verdict(b"two", b"one", 1)).promoted
    finally:
        registry.backend.close()


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(cli: Cli, command: str) -> None:
    out = cli(command, "--help").stdout
    assert out.startswith(f"usage: pytest-promote {command}") and "--registry PATH" in out


def test_the_console_script_is_installed(cli: Cli) -> None:
    import shutil

    script = shutil.which("pytest-promote")
    if script is None:
        pytest.skip("the pytest-promote console script is not on PATH (package not installed)")
    completed = subprocess.run([script, "list"], cwd=cli.root, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0 and completed.stdout == "no models registered\n"


def test_register_and_dedupe(cli: Cli) -> None:
    path = cli.model(b"one", "fraud.joblib")
    out = cli("register", "fraud", path, "--by", "alice", "--meta", "intended_use=batch", "--meta", "team=risk").stdout
    assert out == f"registered fraud@1 (sha256 {sha(b'one')}, 3 bytes, fraud.joblib)\n"
    out = cli("register", "fraud", cli.model(b"one", "copy.pkl"), "--alias", "candidate").stdout.splitlines()
    assert out == [f"fraud@1 already holds these bytes (sha256 {sha(b'one')}); nothing new registered", "alias candidate -> fraud@1"]
    assert (cli.root / ".promote" / "artifacts" / "sha256" / sha(b"one")[:2] / sha(b"one")).read_bytes() == b"one"
    shown = cli.json("show", "fraud@1")
    assert (shown["filename"], shown["created_by"], shown["metadata"]) == ("fraud.joblib", "alice", {"intended_use": "batch", "team": "risk"})
    assert shown["missing_roles"] == ["risk", "ml-lead"] and shown["state"] == "registered"
    assert cli.json("list") == [{"name": "fraud", "versions": 1, "latest": 1, "production": None, "aliases": {"candidate": 1}}]


def test_full_lifecycle(cli: Cli) -> None:
    cli("register", "fraud", cli.model(b"one"), "--by", "alice")
    refused = cli("promote", "fraud@1", "--to", "production", "--initial", code=1).stdout.splitlines()
    assert refused[0] == "promote fraud@1 to production:"
    assert [line for line in refused if "[FAIL]" in line] == [
        f"  [FAIL] approval: role 'risk' has not approved fraud@1 (sha256 {sha(b'one')})",
        f"  [FAIL] approval: role 'ml-lead' has not approved fraud@1 (sha256 {sha(b'one')})",
    ]
    assert refused[-1] == "refused: 2 of 8 conditions unmet; nothing changed"
    out = cli("approve", "fraud@1", "--role", "risk", "--by", "carol", "--note", "ok").stdout.splitlines()
    assert out == [f"approved fraud@1 as risk by carol (sha256 {sha(b'one')})", "still missing: ml-lead"]
    out = cli("approve", "fraud@1", "--role", "ml-lead", "--by", "dave").stdout.splitlines()
    assert out[-1] == "fraud@1 is approved"
    initial = cli.json("promote", "fraud@1", "--to", "production", "--initial")
    assert initial["promoted"] and initial["initial"] and all(check["ok"] for check in initial["checks"])

    cli("register", "fraud", cli.model(b"two"), "--alias", "candidate")
    verdict = cli.verdict(b"two", b"one", 1)
    dry = cli.json("promote", "fraud@candidate", "--verdict", verdict, "--dry-run", code=1)
    assert not dry["ok"] and dry["dry_run"] and not dry["promoted"]
    assert [check["code"] for check in dry["checks"] if not check["ok"]] == ["approval", "approval"]
    for role in ("risk", "ml-lead"):
        cli("approve", "fraud@2", "--role", role, "--by", "carol", "--verdict", verdict)
    dry_ok = cli("promote", "fraud@candidate", "--verdict", verdict, "--dry-run").stdout.splitlines()
    assert dry_ok[-1] == "dry run: every condition holds; nothing changed"
    assert cli.json("show", "fraud")["aliases"]["production"] == 1
    out = cli("promote", "fraud@candidate", "--to", "production", "--verdict", verdict).stdout.splitlines()
    assert "  [ok] rollback_candidate: fraud@1 (the version replaced) becomes the rollback candidate: its artifact verifies" in out
    assert out[-1] == "promoted: fraud@candidate is now in production (replacing version 1, now the rollback candidate)"

    shown = cli("show", "fraud").stdout
    assert "aliases: candidate -> fraud@2, production -> fraud@2" in shown
    assert "rollback candidate: fraud@1 (artifact verifies (sha256 " in shown
    assert "promoted by an initial promotion (no verdict) on " in shown
    model = cli.json("show", "fraud")
    assert [item["state"] for item in model["versions"]] == ["approved", "production"]
    assert model["rollback_candidate"]["version"] == 1

    card = json.loads(cli("card", "fraud@2", "--format", "json").stdout)
    assert card["evaluation"]["gates"][0]["metric"] == "roc_auc" and card["data_lineage"][0]["rows"] == 5000
    assert card["fields"]["owners"] == ["fraud-team"] and card["missing_required"] == []
    out = cli("card", "fraud@2", "-o", "card.md").stdout
    assert out == "wrote the model card of fraud@2 to card.md\n"
    text = (cli.root / "card.md").read_text()
    assert text.startswith("# Model card: fraud@2\n") and "| t.py::test_auc | quality | roc_auc | 0.9300 |" in text

    out = cli("rollback", "fraud", "--reason", "false positives doubled", "--by", "oncall").stdout.splitlines()
    assert out == ["rolled back fraud: production fraud@2 -> fraud@1", "fraud@2 quarantined; reason: false positives doubled"]
    events = cli.json("audit", "fraud")
    assert [event["action"] for event in events] == [
        "register", "approve", "approve", "promote", "register", "alias", "approve", "approve", "promote", "rollback", "quarantine",
    ]
    assert events[-1]["actor"] == "oncall" and events[1]["detail"]["note"] == "ok"
    text_lines = cli("audit").stdout.splitlines()
    assert len(text_lines) == 11 and text_lines[0].startswith("#1 ") and " alice register fraud@1 " in text_lines[0]
    out = cli("audit", "--verify").stdout
    assert out.startswith("audit chain verified: 11 events, head ")


def test_tampered_audit_log_fails_verify(cli: Cli) -> None:
    in_production(cli)
    with sqlite3.connect(cli.root / ".promote" / "registry.db") as db:
        db.execute("UPDATE events SET detail = json_set(detail, '$.role', 'ml-lead') WHERE seq = 2")
    out = cli("audit", "--verify", code=1).stdout
    assert out == "audit chain broken: event #2 (approve fraud@1): its content does not match its hash (the event was edited)\n"
    with sqlite3.connect(cli.root / ".promote" / "registry.db") as db:
        db.execute("DELETE FROM events WHERE seq = 2")
    check = cli.json("audit", "--verify", code=1)
    assert check["broken_at"] == 3 and check["problem"] == "event #3 (approve fraud@1): event #2 before it is missing (deleted)"


def test_usage_errors_exit_2_with_one_line(cli: Cli) -> None:
    cli("register", "fraud", cli.model(b"one"))
    assert cli.error("show", "churn") == (
        f"pytest-promote show: error: unknown model 'churn' in registry {cli.root / '.promote' / 'registry.db'} (registered: fraud)"
    )
    assert cli.error("show", "fraud@9") == "pytest-promote show: error: fraud@9: no such version 9 (fraud has versions 1-1)"
    assert cli.error("show", "fraud@staging").startswith("pytest-promote show: error: fraud@staging: unknown alias 'staging'")
    assert "invalid model name '../evil'" in cli.error("register", "../evil", cli.model(b"x"))
    assert "invalid alias 'a/b'" in cli.error("alias", "fraud@1", "a/b")
    assert "invalid role" in cli.error("approve", "fraud@1", "--role", "r s", "--by", "x")
    assert cli.error("register", "fraud") == "pytest-promote register: error: the following arguments are required: PATH"
    assert "the following arguments are required: --role" in cli.error("approve", "fraud@1", "--by", "x")
    assert cli.error("rollback", "fraud", "--reason", "x", "--to", "zero").endswith("expected a version number (1, 2, ...), got 'zero'")
    assert cli.error("register", "fraud", "nope.pkl").endswith("cannot register nope.pkl: no such file")
    assert cli.error("register", "fraud", cli.model(b"y"), "--meta", "novalue") == "pytest-promote register: error: --meta 'novalue': expected KEY=VALUE"
    assert "unknown role 'auditor'" in cli.error("approve", "fraud@1", "--role", "auditor", "--by", "x")
    assert "invalid choice" in cli.error("card", "fraud@1", "--format", "pdf")
    assert cli.error("nonsense").startswith("pytest-promote: error: argument COMMAND: invalid choice")
    assert "only 'production' is promoted to" in cli.error("promote", "fraud@1", "--to", "staging", "--initial")


def test_bad_config_is_a_usage_error_naming_the_key(cli: Cli) -> None:
    (cli.root / "promote.yaml").write_text("version: 1\nmodels: {candidate: {registry: fraud}, baseline: {registry: fraud@1}}\n")
    line = cli.error("list")
    assert line.startswith(f"pytest-promote list: error: {cli.root / 'promote.yaml'}: models.candidate.registry: ")
    assert "expected NAME@VERSION or NAME@ALIAS" in line


def test_refusals_exit_1(cli: Cli) -> None:
    in_production(cli)
    assert cli("alias", "fraud@1", "staging").stdout == "alias staging -> fraud@1\n"
    assert cli("alias", "fraud@2", "staging").stdout == "alias staging -> fraud@2 (was version 1)\n"
    assert cli("alias", "fraud@staging", "staging").stdout == "alias staging already points at fraud@2\n"
    assert cli.error("alias", "fraud@1", "production", code=1) == (
        "pytest-promote alias: refused: alias 'production' is moved only by `promote` and `rollback`"
    )
    assert "it is in production" in cli.error("archive", "fraud@2", code=1)
    stale = cli("promote", "fraud@1", "--verdict", cli.verdict(b"one", b"zero", 7), code=1).stdout
    assert "[FAIL] version_state: fraud@1 is approved" not in stale  # fraud@1 is no longer in production; it may be promoted back
    assert "[FAIL] verdict_baseline: stale baseline: production is fraud@2 now" in stale
    bad = cli.root / "bad.json"
    bad.write_text('{"decision": "promote"')
    out = cli.json("promote", "fraud@1", "--verdict", "bad.json", code=1)
    unmet = [check for check in out["checks"] if not check["ok"]]
    assert unmet[0]["code"] == "verdict_readable" and unmet[0]["message"].startswith(f"verdict {bad}: not valid JSON")
    cli("rollback", "fraud", "--reason", "drill")
    assert cli.error("rollback", "fraud", "--reason", "again", code=1) == (
        "pytest-promote rollback: refused: cannot roll back fraud: no rollback candidate (fraud@2: it is quarantined)"
    )


def test_signing_key_is_enforced(cli: Cli) -> None:
    cli("register", "fraud", cli.model(b"one"))
    for role in ("risk", "ml-lead"):
        cli("approve", "fraud@1", "--role", role, "--by", "x")
    cli("promote", "fraud@1", "--initial")
    cli("register", "fraud", cli.model(b"two"))
    for role in ("risk", "ml-lead"):
        cli("approve", "fraud@2", "--role", role, "--by", "x")
    key = {"PROMOTE_SIGNING_KEY": "team secret"}
    unsigned = cli.json("promote", "fraud@2", "--verdict", cli.verdict(b"two", b"one", 1), "--dry-run", code=1, env=key)
    assert [check["code"] for check in unsigned["checks"] if not check["ok"]] == ["verdict_signature"]
    forged = cli.verdict(b"two", b"one", 1, key=b"guessed", name="forged.json")
    assert "signature does not match" in cli("promote", "fraud@2", "--verdict", forged, code=1, env=key).stdout
    signed = cli.verdict(b"two", b"one", 1, key=b"team secret", name="signed.json")
    assert cli.json("promote", "fraud@2", "--verdict", signed, env=key)["promoted"]
    empty = cli("promote", "fraud@1", "--verdict", signed, code=2, env={"PROMOTE_SIGNING_KEY": ""}).stderr
    assert "PROMOTE_SIGNING_KEY: is set but empty" in empty


def test_corrupted_rollback_candidate_is_refused(cli: Cli) -> None:
    in_production(cli)
    stored = cli.root / ".promote" / "artifacts" / "sha256" / sha(b"one")[:2] / sha(b"one")
    os.chmod(stored, 0o644)
    stored.write_bytes(b"evil")
    shown = cli("show", "fraud").stdout
    assert f"not a rollback candidate: fraud@1: artifact corrupted: {stored} now hashes to sha256 {sha(b'evil')}" in shown
    assert "rollback candidate: none" in shown
    line = cli.error("rollback", "fraud", "--reason", "x", code=1)
    assert line.startswith("pytest-promote rollback: refused: cannot roll back fraud: no rollback candidate (fraud@1: artifact corrupted")
    assert "! artifact corrupted" in cli("show", "fraud@1").stdout


def test_registry_location(cli: Cli, tmp_path: Path) -> None:
    cli("register", "fraud", cli.model(b"one"), "--registry", "elsewhere/reg.db")
    assert (cli.root / "elsewhere" / "reg.db").is_file() and (cli.root / "elsewhere" / "artifacts").is_dir()
    assert not (cli.root / ".promote").exists()
    # registry.path in the config file, relative to it; --config picks the file
    conf = cli.root / "conf"
    conf.mkdir()
    (conf / "custom.yaml").write_text(
        (cli.root / "promote.yaml").read_text() + "registry: {path: ../elsewhere/reg.db}\n"
    )
    assert cli.json("list", "--config", "conf/custom.yaml")[0]["name"] == "fraud"
    # without promote.yaml: ./.promote/registry.db, and any role may approve
    (cli.root / "promote.yaml").unlink()
    assert cli("list").stdout == "no models registered\n"
    assert (cli.root / ".promote" / "registry.db").is_file()
    assert cli.error("list", "--config", "nope.yaml").startswith("pytest-promote list: error: nope.yaml: file not found")


def test_registry_plugins_come_from_their_entry_point_group(cli: Cli, tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "remote_registry-1.0.dist-info").mkdir(parents=True)
    (site / "remote_registry-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: remote-registry\nVersion: 1.0\n")
    (site / "remote_registry-1.0.dist-info" / "entry_points.txt").write_text("[pytest_promote.registry]\nremote = remote_registry\n")
    (site / "remote_registry.py").write_text(textwrap.dedent(
        """\
        import pluggy
        from pathlib import Path
        from pytest_promote.registry import SqliteBackend

        @pluggy.HookimplMarker("pytest")
        def pytest_promote_registry_backend(path):
            # stands in for a server-backed registry: one fixed place, whatever the path
            return SqliteBackend(Path(__file__).parent / "remote.db")
        """
    ))
    env = {"PYTHONPATH": str(site)}
    cli("register", "fraud", cli.model(b"one"), env=env)
    assert (site / "remote.db").is_file() and not (cli.root / ".promote").exists()
    (site / "remote_registry.py").write_text("raise ImportError('no server client installed')\n")
    completed = cli("list", code=2, env=env)
    assert completed.stderr == (
        "pytest-promote list: error: registry plugin 'remote' (remote_registry) cannot be loaded: "
        "ImportError: no server client installed\n"
    )
