"""The registry end to end: register real models, gate them with ``pytest --promote`` on
``registry:`` references, approve, promote on the verdict, card, roll back, audit."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

REGISTRY_MODELS = {
    "candidate": {"path": None, "sha256": None, "registry": "fraud@candidate"},
    "baseline": {"path": None, "sha256": None, "registry": "fraud@production"},
}
CARD = {
    "intended_use": "Flag transactions for manual fraud review.",
    "limitations": "Synthetic training data only.",
    "owners": ["fraud-team"],
}


class Cli:
    def __init__(self, project) -> None:
        self.project = project

    def __call__(self, *args: str, code: int = 0, env: dict | None = None) -> subprocess.CompletedProcess:
        completed = subprocess.run(
            [sys.executable, "-m", "pytest_promote", *args],
            cwd=self.project.path, capture_output=True, text=True, timeout=60, env=env,
        )  # fmt: skip
        assert "Traceback" not in completed.stderr, completed.stderr
        assert completed.returncode == code, f"exit {completed.returncode}\n{completed.stdout}\n{completed.stderr}"
        return completed


@pytest.fixture
def registered(make_project, monkeypatch):
    """weak in production (fraud@1, an initial promotion), good registered as fraud@2 with alias candidate."""
    monkeypatch.delenv("PROMOTE_SIGNING_KEY", raising=False)
    project = make_project(models="toy", candidate="good", baseline="weak", config={
        "models": REGISTRY_MODELS, "approvals": {"required": ["ds-lead"]}, "card": CARD,
    })  # fmt: skip
    cli = Cli(project)
    cli("register", "fraud", "models/baseline.pkl", "--by", "alice")
    cli("approve", "fraud@1", "--role", "ds-lead", "--by", "dana")
    cli("promote", "fraud@1", "--to", "production", "--initial")
    cli("register", "fraud", "models/candidate.pkl", "--alias", "candidate", "--by", "alice")
    return project, cli


def test_gate_approve_promote_card_rollback_audit(registered, helpers, verdict_validator):
    project, cli = registered

    result = project.run("--promote")

    assert result.ret == 0, result.stdout.str()
    verdict = project.verdict()
    verdict_validator.validate(verdict)
    assert verdict["candidate"]["registry"] == {"name": "fraud", "version": 2, "alias": "candidate"}
    assert verdict["baseline"]["registry"] == {"name": "fraud", "version": 1, "alias": "production"}
    assert verdict["candidate"]["sha256"] == project.shas["models/candidate.pkl"]
    assert verdict["candidate"]["source"] == "registry:fraud@candidate"
    assert verdict["rollback_candidate"]["version"] == 1
    assert verdict["rollback_candidate"]["sha256"] == project.shas["models/baseline.pkl"]

    cli("approve", "fraud@2", "--role", "ds-lead", "--by", "dana", "--verdict", "promote-verdict.json")
    promoted = cli("promote", "fraud@2", "--to", "production", "--verdict", "promote-verdict.json")
    assert promoted.stdout.splitlines()[-1].startswith("promoted: fraud@2 is now in production (replacing version 1")
    shown = json.loads(cli("show", "fraud", "--json").stdout)
    assert shown["aliases"]["production"] == 2 and shown["rollback_candidate"]["version"] == 1

    card = json.loads(cli("card", "fraud@2", "--format", "json").stdout)
    assert {gate["id"] for gate in card["evaluation"]["gates"]} == {gate["id"] for gate in verdict["gates"]}
    assert card["missing_required"] == []

    rolled = cli("rollback", "fraud", "--reason", "alerts doubled", "--by", "oncall").stdout.splitlines()
    assert rolled == ["rolled back fraud: production fraud@2 -> fraud@1", "fraud@2 quarantined; reason: alerts doubled"]
    assert cli("audit", "--verify").stdout.startswith("audit chain verified:")

    # the quarantined version can no longer be gated as a candidate: the run blocks, naming why
    blocked = project.run("--promote")
    assert blocked.ret == 1
    assert "fraud@candidate resolves to fraud@2, which is quarantined" in project.verdict()["reasons"][0]["message"]

    database = sqlite3.connect(project.path / ".promote" / "registry.db")
    with database:
        database.execute("UPDATE events SET actor = 'mallory' WHERE seq = 2")
    database.close()
    broken = cli("audit", "--verify", code=1)
    assert "#2" in broken.stdout + broken.stderr


def test_a_verdict_against_a_stale_baseline_does_not_promote(registered):
    project, cli = registered
    assert project.run("--promote").ret == 0  # fraud@2 against production fraud@1
    project.verdict_path.rename(project.path / "verdict-2.json")
    cli("approve", "fraud@2", "--role", "ds-lead", "--by", "dana")
    # meanwhile fraud@3 is gated against fraud@1 and promoted: production moves on
    project.write_model("models/third.pkl", "good", "sklearn")
    cli("register", "fraud", "models/third.pkl", "--alias", "candidate")
    cli("approve", "fraud@3", "--role", "ds-lead", "--by", "dana")
    assert project.run("--promote").ret == 0
    cli("promote", "fraud@3", "--to", "production", "--verdict", "promote-verdict.json")

    refused = cli("promote", "fraud@2", "--to", "production", "--verdict", "verdict-2.json", code=1)

    assert any("[FAIL] verdict_baseline: stale baseline" in line for line in refused.stdout.splitlines()), refused.stdout
    assert json.loads(cli("show", "fraud", "--json").stdout)["aliases"]["production"] == 3  # nothing changed


def test_signed_verdicts_are_checked_by_promote(registered, monkeypatch):
    project, cli = registered
    monkeypatch.setenv("PROMOTE_SIGNING_KEY", "s3cret")
    assert project.run("--promote").ret == 0
    verdict = project.verdict()
    assert verdict["signature"]["algorithm"] == "hmac-sha256"
    cli("approve", "fraud@2", "--role", "ds-lead", "--by", "dana")
    tampered = dict(verdict, warnings=["edited by hand"])
    (project.path / "tampered.json").write_text(json.dumps(tampered))

    refused = cli("promote", "fraud@2", "--to", "production", "--verdict", "tampered.json", code=1)

    assert any("[FAIL] verdict_signature: " in line and "signature does not match" in line for line in refused.stdout.splitlines()), refused.stdout
    cli("promote", "fraud@2", "--to", "production", "--verdict", "promote-verdict.json")


def test_a_corrupted_artifact_blocks_the_run(registered, helpers):
    project, _ = registered
    store = project.path / ".promote" / "artifacts" / "sha256"
    digest = project.shas["models/candidate.pkl"]
    artifact = store / digest[:2] / digest
    artifact.chmod(0o644)
    artifact.write_bytes(artifact.read_bytes() + b"\0")

    result = project.run("--promote")

    assert result.ret == 1
    reason = project.verdict()["reasons"][0]
    assert reason["code"] == "registry_error" and "fraud@candidate" in reason["message"]


def test_a_missing_registry_blocks_naming_the_path(make_project, helpers, tmp_path):
    project = make_project(models="toy", config={"models": REGISTRY_MODELS})

    result = project.run("--promote", "--promote-registry", str(tmp_path / "elsewhere.db"))

    assert result.ret == 1
    reason = project.verdict()["reasons"][0]
    assert reason["code"] == "registry_error" and str(tmp_path / "elsewhere.db") in reason["message"]
