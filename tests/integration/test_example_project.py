"""The example project end to end: it trains, registers and promotes as shipped, blocks a
worse candidate, and walks the registry's approve -> promote -> rollback flow."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "example_project"
GENERATED = ("models", "data", ".promote", "promote-verdict.json", ".pytest_cache", ".benchmarks")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A private copy, so training never touches the repository's files or registry."""
    target = tmp_path / "example_project"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(*GENERATED, "__pycache__"))
    return target


def run_promotion(project: Path) -> tuple[subprocess.CompletedProcess, dict]:
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "--promote", "-p", "no:cacheprovider"],
        cwd=project, capture_output=True, text=True, timeout=300,
    )
    return completed, json.loads((project / "promote-verdict.json").read_text())


def train(project: Path, *args: str) -> str:
    completed = subprocess.run(
        [sys.executable, str(project / "train.py"), *args], capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def registry_cli(project: Path, *args: str, code: int = 0) -> str:
    """`pytest-promote ARGS` run inside the project, as the README does."""
    completed = subprocess.run(
        [sys.executable, "-m", "pytest_promote", *args], cwd=project, capture_output=True, text=True, timeout=60,
    )
    assert completed.returncode == code, f"exit {completed.returncode}\n{completed.stdout}\n{completed.stderr}"
    return completed.stdout


def show(project: Path) -> dict:
    return json.loads(registry_cli(project, "show", "churn", "--json"))


def test_example_project_generates_its_models_and_promotes(project: Path) -> None:
    completed, verdict = run_promotion(project)

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "decision: PROMOTE" in completed.stdout
    assert verdict["decision"] == "promote"
    kinds = {gate["id"].split("::")[1]: (gate["kind"], gate["metric"]) for gate in verdict["gates"]}
    assert kinds == {
        "test_accuracy_not_worse": ("quality", "accuracy"),
        "test_roc_auc_better": ("quality", "roc_auc"),
        "test_accuracy_above_floor": ("quality", "accuracy"),
        "test_log_loss_not_worse": ("quality", "log_loss"),
        "test_single_row_latency_within_budget": ("latency", "p95_latency_ms"),
        "test_single_row_latency_regression": ("latency", "p95_latency_ms"),
        "test_batch_peak_memory": ("cost", "peak_memory"),
        "test_golden_cases": ("golden", "golden"),
        "test_score_distribution_drift": ("drift", "drift"),
    }
    # every blocking gate passes; the warn-only latency ratio may flag gradient boosting's slower rows
    assert all(gate["outcome"] == "passed" for gate in verdict["gates"] if gate["severity"] == "block")
    golden = next(gate["golden"] for gate in verdict["gates"] if gate["kind"] == "golden")
    assert golden["cases"] == golden["passed"] >= 20
    assert verdict["candidate"]["sha256"] is not None and verdict["envelope"]["datasets"]["holdout"]["rows"] == 4000
    # the hold-out set met its contract and is fresh (train.py just wrote it)
    age = verdict["envelope"]["datasets"]["holdout"]["age"]
    assert age["source"] == "mtime" and age["stale"] is False and age["max_age_seconds"] == 365 * 86400
    drift = next(gate["drift"] for gate in verdict["gates"] if gate["kind"] == "drift")
    assert drift["mode"] == "outputs" and drift["columns"][0]["psi"] > 0  # boosting's sharper scores: a warning, not a block
    assert verdict["candidate"]["size_bytes"] == (project / "models" / "candidate.pkl").stat().st_size
    # conftest.py ran train.py, which set up the registry: the baseline in production, the candidate registered
    assert verdict["candidate"]["registry"] == {"name": "churn", "version": 2, "alias": "candidate"}
    assert verdict["baseline"]["registry"] == {"name": "churn", "version": 1, "alias": "production"}
    assert verdict["candidate"]["source"] == "registry:churn@candidate"
    rollback = verdict["rollback_candidate"]
    assert (rollback["name"], rollback["version"], rollback["sha256"]) == ("churn", 1, verdict["baseline"]["sha256"])


def test_example_project_blocks_a_worse_candidate(project: Path) -> None:
    train(project)  # churn@1 in production, the good candidate churn@2
    output = train(project, "--candidate", "worse")
    assert "alias candidate -> churn@3 (was version 2)" in output, output

    completed, verdict = run_promotion(project)

    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "decision: BLOCK" in completed.stdout
    assert verdict["decision"] == "block"
    outcomes = {gate["id"].split("::")[1]: gate["outcome"] for gate in verdict["gates"] if gate["severity"] == "block"}
    # the floor's interval straddles 0.85 (estimate 0.84): too wide to decide, so inconclusive, which blocks too
    assert outcomes == {
        "test_accuracy_not_worse": "failed",
        "test_roc_auc_better": "failed",
        "test_accuracy_above_floor": "inconclusive",
        # a depth-2 tree is fast, light, and right on clear-cut cases: quality alone blocks it
        "test_single_row_latency_within_budget": "passed",
        "test_batch_peak_memory": "passed",
        "test_golden_cases": "passed",
    }
    assert sorted(reason["code"] for reason in verdict["reasons"]) == ["gate_failed", "gate_failed", "underpowered"]
    assert any("test_log_loss_not_worse" in warning for warning in verdict["warnings"])
    # the registry moved the alias to the new version; the earlier one is kept, unchanged
    assert verdict["candidate"]["registry"] == {"name": "churn", "version": 3, "alias": "candidate"}
    model = show(project)
    assert model["aliases"] == {"candidate": 3, "production": 1}
    assert [version["state"] for version in model["versions"]] == ["production", "registered", "registered"]


def test_example_project_approve_promote_rollback_audit(project: Path) -> None:
    """The README's walk-through: gate, approve in both roles, promote on the verdict, roll back."""
    completed, verdict = run_promotion(project)
    assert completed.returncode == 0, completed.stdout + completed.stderr

    # one approval is not enough: the dry run names the missing role and changes nothing
    registry_cli(project, "approve", "churn@2", "--role", "ds-lead", "--by", "dana", "--verdict", "promote-verdict.json")
    dry = registry_cli(project, "promote", "churn@2", "--verdict", "promote-verdict.json", "--dry-run", code=1)
    assert "[FAIL] approval: role 'product-owner' has not approved churn@2" in dry, dry
    registry_cli(project, "approve", "churn@2", "--role", "product-owner", "--by", "priya", "--verdict", "promote-verdict.json")

    promoted = registry_cli(project, "promote", "churn@2", "--verdict", "promote-verdict.json", "--by", "dana")
    assert promoted.splitlines()[-1].startswith("promoted: churn@2 is now in production (replacing version 1"), promoted
    model = show(project)
    assert model["aliases"]["production"] == 2 and model["rollback_candidate"]["version"] == 1
    card = json.loads(registry_cli(project, "card", "churn@2", "--format", "json"))
    assert card["missing_required"] == [] and card["evaluation"]["decision"] == "promote"
    assert {gate["id"] for gate in card["evaluation"]["gates"]} == {gate["id"] for gate in verdict["gates"]}

    rolled = registry_cli(project, "rollback", "churn", "--reason", "retention conversions dropped", "--by", "oncall")
    assert rolled.splitlines() == [
        "rolled back churn: production churn@2 -> churn@1",
        "churn@2 quarantined; reason: retention conversions dropped",
    ]
    model = show(project)
    assert model["aliases"]["production"] == 1
    assert {version["version"]: version["state"] for version in model["versions"]} == {1: "production", 2: "quarantined"}
    assert registry_cli(project, "audit", "--verify").startswith("audit chain verified:")
    actions = [event["action"] for event in json.loads(registry_cli(project, "audit", "churn", "--json"))]
    # train.py's setup (register, approve x2, initial promote), the candidate, then this walk-through
    assert actions == [
        "register", "approve", "approve", "promote", "register", "alias",
        "approve", "approve", "promote", "rollback", "quarantine",
    ]
