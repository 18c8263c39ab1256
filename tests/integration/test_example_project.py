"""The example project end to end: it promotes as shipped, and blocks with a worse candidate."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "example_project"
GENERATED = ("models", "data", "promote-verdict.json", ".pytest_cache")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A private copy, so training never rewrites the repository's pins."""
    target = tmp_path / "example_project"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(*GENERATED, "__pycache__"))
    return target


def run_promotion(project: Path) -> tuple[subprocess.CompletedProcess, dict]:
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "--promote", "-p", "no:cacheprovider"],
        cwd=project, capture_output=True, text=True, timeout=300,
    )
    return completed, json.loads((project / "promote-verdict.json").read_text())


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
    }
    # every blocking gate passes; the warn-only latency ratio may flag gradient boosting's slower rows
    assert all(gate["outcome"] == "passed" for gate in verdict["gates"] if gate["severity"] == "block")
    golden = next(gate["golden"] for gate in verdict["gates"] if gate["kind"] == "golden")
    assert golden["cases"] == golden["passed"] >= 20
    assert verdict["candidate"]["sha256"] is not None and verdict["envelope"]["datasets"]["holdout"]["rows"] == 4000
    assert verdict["candidate"]["size_bytes"] == (project / "models" / "candidate.pkl").stat().st_size


def test_example_project_blocks_a_worse_candidate(project: Path) -> None:
    subprocess.run([sys.executable, str(project / "train.py"), "--candidate", "worse"], check=True, capture_output=True, timeout=300)

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
