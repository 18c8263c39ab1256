"""Verdict assembly, the JSON Schema, atomic writing and the terminal summary."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

jsonschema = pytest.importorskip("jsonschema")

from pytest_promote.datasets import Dataset  # noqa: E402
from pytest_promote.errors import ConfigError, PromoteWarning  # noqa: E402
from pytest_promote.gates import QualityContext, GateFailed, QualityGate  # noqa: E402
from pytest_promote.loaders import pytest_promote_load_model  # noqa: E402
from pytest_promote.session import PromoteSession, SessionPaths  # noqa: E402
from pytest_promote.verdict import (  # noqa: E402
    SCHEMA_PATH,
    SCHEMA_VERSION,
    Reason,
    assemble,
    collect_envelope,
    dumps,
    remove_stale_verdict,
    summary_lines,
    write_verdict,
)
from pytest_promote.verdict import TestPhase as Phase  # noqa: E402  (aliased: not a test class)


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def errors(validator, document) -> list[str]:
    return [error.message for error in validator.iter_errors(document)]


def test_schema_ships_inside_the_package() -> None:
    import pytest_promote

    assert SCHEMA_PATH == Path(pytest_promote.__file__).resolve().parent / "schemas" / "verdict.schema.json"
    schema = json.loads(SCHEMA_PATH.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


# --- a real session on a tmp project -----------------------------------------------------------

N = 300


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def project(tmp_path: Path, *, candidate_accuracy: float = 0.92, loader_baseline: bool = False, extra: str = "") -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, N)
    cand = np.where(rng.uniform(size=N) < candidate_accuracy, y, 1 - y)
    base = np.where(rng.uniform(size=N) < 0.75, y, 1 - y)
    (tmp_path / "models").mkdir()
    cand_bytes = pickle.dumps({"pred": cand})
    (tmp_path / "models" / "candidate.pkl").write_bytes(cand_bytes)
    (tmp_path / "holdout.csv").write_text("x,label\n" + "".join(f"{i},{label}\n" for i, label in enumerate(y)))
    if loader_baseline:
        module = f"promote_baseline_{abs(hash(str(tmp_path)))}"
        (tmp_path / f"{module}.py").write_text(
            textwrap.dedent(
                f"""
                import threading
                import numpy as np

                def load():
                    return {{"pred": np.array({base.tolist()}), "lock": threading.Lock()}}
                """
            )
        )
        baseline = f'{{loader: "{module}:load"}}'
    else:
        base_bytes = pickle.dumps({"pred": base})
        (tmp_path / "models" / "baseline.pkl").write_bytes(base_bytes)
        baseline = f'{{path: models/baseline.pkl, sha256: "{sha(base_bytes)}"}}'
    (tmp_path / "promote.yaml").write_text(
        f"""version: 1
seed: 42
alpha: 0.05
bootstrap: {{resamples: 500, method: bca}}
models:
  candidate: {{path: models/candidate.pkl, sha256: "{sha(cand_bytes)}"}}
  baseline: {baseline}
datasets:
  holdout: {{path: holdout.csv, target: label}}
{extra}"""
    )
    return tmp_path, y


def session_for(root: Path) -> PromoteSession:
    return PromoteSession(
        SessionPaths(rootdir=root, config=root / "promote.yaml"),
        load_model=pytest_promote_load_model,
        command_line=["pytest", "--promote"],
    )


def run_gate(session: PromoteSession, node_id: str, args: tuple, kwargs: dict, y: np.ndarray) -> None:
    """What the plugin does for one gate test: setup, call (compare), teardown phases."""
    context = session.gate_context(node_id, "gate_quality", args, kwargs, Path(node_id.split("::")[0]))
    session.collector.add(Phase(node_id, "setup", "passed", gate=context.record(), models=session.model_identities()))
    outcome, message = "passed", None
    try:
        context.compare(lambda model: model["pred"], y, dataset="holdout")
    except GateFailed as exc:
        outcome, message = "failed", str(exc)
    session.collector.add(Phase(node_id, "call", outcome, message=message, gate=context.record(), models=session.model_identities()))
    session.collector.add(Phase(node_id, "teardown", "passed", gate=context.record(), models=session.model_identities()))


def test_session_promote_verdict_validates(tmp_path: Path, validator) -> None:
    root, y = project(tmp_path)
    session = session_for(root)
    stale = root / "promote-verdict.json"
    stale.write_text('{"decision": "promote"}')
    session.start()
    assert not stale.exists()  # an earlier run's verdict is gone before anything runs

    run_gate(session, "tests/test_gates.py::test_non_inferior", ("accuracy",), {"min_delta": -0.01}, y)
    run_gate(session, "tests/test_gates.py::test_auc_threshold", ("accuracy",), {"threshold": 0.8}, y)
    verdict = session.finish(interrupted=False)

    assert errors(validator, verdict) == []
    assert verdict["decision"] == "promote", verdict["reasons"]
    assert verdict["schema_version"] == SCHEMA_VERSION == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", verdict["created_at"])
    assert [g["id"] for g in verdict["gates"]] == ["tests/test_gates.py::test_auc_threshold", "tests/test_gates.py::test_non_inferior"]
    gate = verdict["gates"][1]
    assert gate["kind"] == "quality" and gate["metric"] == "accuracy" and gate["outcome"] == "passed"
    assert gate["ci"]["confidence"] == pytest.approx(0.9) and gate["ci"]["method"] == "bca" and gate["ci"]["resamples"] == 500
    assert gate["n"] == N and gate["alpha"] == 0.05 and gate["severity"] == "block"
    assert gate["rule"] == "delta > -0.01 at 95% confidence"
    assert verdict["tests"] == {"passed": 2, "failed": 0, "skipped": 0, "errors": 0}

    cand_path = root / "models" / "candidate.pkl"
    assert verdict["candidate"] == {"source": str(cand_path.resolve()), "sha256": sha(cand_path.read_bytes()), "size_bytes": len(cand_path.read_bytes()), "registry": None}
    assert verdict["baseline"]["sha256"] == sha((root / "models" / "baseline.pkl").read_bytes())

    envelope = verdict["envelope"]
    assert envelope["seed"] == 42
    assert envelope["config"] == {"path": str((root / "promote.yaml").resolve()), "sha256": sha((root / "promote.yaml").read_bytes())}
    assert envelope["datasets"]["holdout"]["rows"] == N
    assert envelope["datasets"]["holdout"]["sha256"] == sha((root / "holdout.csv").read_bytes())
    assert envelope["command_line"] == ["pytest", "--promote"]
    assert envelope["python"] == ".".join(map(str, sys.version_info[:3]))
    for package in ("pytest", "numpy", "scipy", "pytest-promote", "scikit-learn"):
        assert envelope["packages"][package], package

    on_disk = json.loads((root / "promote-verdict.json").read_text())
    assert on_disk == verdict
    assert session.verdict is verdict


def test_session_block_verdict_validates(tmp_path: Path, validator) -> None:
    root, y = project(tmp_path, candidate_accuracy=0.6)
    session = session_for(root)
    session.start()
    run_gate(session, "t.py::test_superior", ("accuracy",), {"min_delta": 0}, y)
    session.collector.add(Phase("t.py::test_plain", "call", "failed", message="assert 0"))
    verdict = session.finish(interrupted=False)
    assert errors(validator, verdict) == []
    assert verdict["decision"] == "block"
    assert [r["code"] for r in verdict["reasons"]] == ["gate_failed", "test_failed"]
    assert verdict["gates"][0]["outcome"] == "failed" and verdict["gates"][0]["passed"] is False


def test_session_without_gates_blocks(tmp_path: Path, validator) -> None:
    root, _ = project(tmp_path)
    session = session_for(root)
    session.start()
    verdict = session.finish(interrupted=False)
    assert errors(validator, verdict) == []
    assert verdict["decision"] == "block" and [r["code"] for r in verdict["reasons"]] == ["no_gates"]
    # no model was loaded, yet both are identified from the config
    assert verdict["candidate"]["sha256"] == sha((root / "models" / "candidate.pkl").read_bytes())
    assert verdict["envelope"]["datasets"]["holdout"]["rows"] is None


def test_session_unpicklable_loader_model_warns_and_validates(tmp_path: Path, validator) -> None:
    root, y = project(tmp_path, loader_baseline=True)
    session = session_for(root)
    session.start()
    try:
        run_gate(session, "t.py::test_gate", ("accuracy",), {"min_delta": 0}, y)
        verdict = session.finish(interrupted=False)
    finally:
        for name in [m for m in sys.modules if m.startswith("promote_baseline_")]:
            del sys.modules[name]
    assert errors(validator, verdict) == []
    assert verdict["decision"] == "promote", verdict["reasons"]
    assert verdict["baseline"]["sha256"] is None and verdict["baseline"]["source"].startswith("loader:promote_baseline_")
    assert len(verdict["warnings"]) == 1 and "cannot be pickled" in verdict["warnings"][0]


def test_session_interrupted_blocks(tmp_path: Path, validator) -> None:
    root, y = project(tmp_path)
    session = session_for(root)
    session.start()
    run_gate(session, "t.py::test_gate", ("accuracy",), {"min_delta": -0.01}, y)
    verdict = session.finish(interrupted=True)
    assert errors(validator, verdict) == [] and verdict["decision"] == "block"
    assert "interrupted" in [r["code"] for r in verdict["reasons"]]


def test_session_bad_config_writes_block_verdict_and_raises(tmp_path: Path, validator) -> None:
    root, _ = project(tmp_path, extra="colour: blue\n")
    stale = root / "promote-verdict.json"
    stale.write_text('{"decision": "promote"}')
    session = session_for(root)
    with pytest.raises(ConfigError, match="colour"):
        session.start()
    verdict = json.loads(stale.read_text())
    assert errors(validator, verdict) == []
    assert verdict["decision"] == "block"
    assert verdict["reasons"][0]["code"] == "config_error" and "colour" in verdict["reasons"][0]["message"]
    assert verdict["candidate"] is None and verdict["gates"] == []


def test_session_bad_config_leaves_no_stale_promote_at_configured_verdict_path(tmp_path: Path) -> None:
    # an earlier run wrote a promote verdict where promote.yaml says; then the config broke.
    # "A verdict left by an earlier run is removed at session start" must hold here too,
    # or a CI step reading out/v.json sees the old promote.
    root, _ = project(tmp_path, extra="verdict: out/v.json\ncolour: blue\n")
    (root / "out").mkdir()
    stale = root / "out" / "v.json"
    stale.write_text('{"decision": "promote"}')
    with pytest.raises(ConfigError):
        session_for(root).start()
    assert not stale.exists() or json.loads(stale.read_text())["decision"] == "block", stale.read_text()


def test_session_verdict_path_from_config(tmp_path: Path) -> None:
    root, _ = project(tmp_path, extra="verdict: out/v.json\n")
    session = session_for(root)
    session.start()
    session.finish(interrupted=False)
    assert (root / "out" / "v.json").is_file() and not (root / "promote-verdict.json").exists()


def test_session_passes_bootstrap_memory_and_threads_to_gates(tmp_path: Path) -> None:
    root, _ = project(tmp_path)
    config = root / "promote.yaml"
    config.write_text(config.read_text().replace("method: bca}", "method: bca, memory_mb: 32, threads: 1}"))
    session = session_for(root)
    session.start()
    context = session.gate_context("t.py::test_gate", "gate_quality", ("accuracy",), {"min_delta": 0}, Path("t.py"))
    assert context.memory_budget == 32 * 1024 * 1024 and context.threads == 1
    (tmp_path / "default").mkdir()
    default_root, _ = project(tmp_path / "default")
    default = session_for(default_root)
    default.start()
    context = default.gate_context("t.py::test_gate", "gate_quality", ("accuracy",), {"min_delta": 0}, Path("t.py"))
    assert context.memory_budget == 256 * 1024 * 1024 and context.threads is None


def test_gate_seeds_do_not_depend_on_order_or_other_gates(tmp_path: Path) -> None:
    root, y = project(tmp_path)
    first = session_for(root)
    first.start()
    run_gate(first, "t.py::a", ("accuracy",), {"min_delta": -0.05}, y)
    run_gate(first, "t.py::b", ("accuracy",), {"min_delta": -0.05}, y)
    alone = session_for(root)
    alone.start()
    run_gate(alone, "t.py::b", ("accuracy",), {"min_delta": -0.05}, y)
    b_first = [g for g in first.collector.gates() if g["id"] == "t.py::b"][0]
    b_alone = alone.collector.gates()[0]
    assert b_first["seed"] == b_alone["seed"] and b_first["ci"] == b_alone["ci"]


# --- assemble() + collect_envelope() ------------------------------------------------------------


def gate_entry(**overrides) -> dict:
    entry = {
        "id": "tests/test_gates.py::test_accuracy",
        "kind": "quality",
        "metric": "accuracy",
        "higher_is_better": True,
        "rule": "delta > 0 at 95% confidence",
        "measured": True,
        "min_delta": 0.0,
        "threshold": None,
        "alpha": 0.05,
        "severity": "block",
        "seed": 123,
        "dataset": {"name": "holdout", "sha256": "d" * 64, "rows": 1000},
        "passed": True,
        "message": None,
        "candidate": 0.85,
        "baseline": 0.82,
        "delta": 0.03,
        "n": 1000,
        "ci": {"low": 0.012, "high": 0.047, "confidence": 0.9, "method": "bca", "resamples": 10000},
        "candidate_ci": {"low": 0.83, "high": 0.87},
        "outcome": "passed",
    }
    entry.update(overrides)
    return entry


def envelope(tmp_path: Path) -> dict:
    return collect_envelope(
        rootdir=tmp_path,
        command_line=["pytest", "--promote", "-k", "gate"],
        seed=7,
        config_path=tmp_path / "promote.yaml",
        config_sha256="e" * 64,
        datasets={"holdout": {"path": str(tmp_path / "h.csv"), "sha256": "d" * 64, "rows": 1000, "age": None}},
    )


def verdict_doc(tmp_path: Path, decision="promote", reasons=(), gates=None, **kw) -> dict:
    return assemble(
        decision=decision,
        reasons=list(reasons),
        warnings=kw.get("warnings", []),
        models={"candidate": {"source": "c.pkl", "sha256": "a" * 64}, "baseline": {"source": "loader:m:f", "sha256": None}},
        gates=[gate_entry()] if gates is None else gates,
        tests={"passed": 3, "failed": 0, "skipped": 1, "errors": 0},
        envelope=envelope(tmp_path),
    )


def test_assembled_verdict_validates(tmp_path: Path, validator) -> None:
    verdict = verdict_doc(tmp_path)
    assert errors(validator, verdict) == []
    assert list(verdict) == ["schema_version", "decision", "reasons", "warnings", "created_at", "candidate", "baseline", "gates", "tests", "envelope", "rollback_candidate", "replay_of", "reproduced", "replay"]
    env = verdict["envelope"]
    assert env["git"] is None  # tmp_path is not in a git work tree
    assert env["seed"] == 7 and env["config"]["sha256"] == "e" * 64


def test_envelope_records_git_commit_and_dirty_flag(tmp_path: Path, validator) -> None:
    import shutil
    import subprocess

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "f.txt").write_text("1")
    subprocess.run([*git, "add", "f.txt"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], cwd=tmp_path, check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip()
    assert envelope(tmp_path)["git"] == {"commit": head, "dirty": False}
    (tmp_path / "f.txt").write_text("2")
    assert envelope(tmp_path)["git"] == {"commit": head, "dirty": True}
    assert errors(validator, verdict_doc(tmp_path)) == []


def test_promote_with_reasons_is_rejected(tmp_path: Path, validator) -> None:
    verdict = verdict_doc(tmp_path, reasons=[{"code": "gate_failed", "message": "x"}])
    assert errors(validator, verdict)


def test_promote_without_gates_is_rejected(tmp_path: Path, validator) -> None:
    assert errors(validator, verdict_doc(tmp_path, gates=[]))


def test_block_without_reasons_is_rejected(tmp_path: Path, validator) -> None:
    assert errors(validator, verdict_doc(tmp_path, decision="block"))
    assert errors(validator, verdict_doc(tmp_path, decision="block", reasons=[{"code": "no_gates", "message": "none"}], gates=[])) == []


@pytest.mark.parametrize(
    "mutate",
    [
        lambda v: v.update(decision="maybe"),
        lambda v: v.update(schema_version=2),
        lambda v: v.update(extra=1),
        lambda v: v.update(created_at="2024-01-01 12:00:00"),
        lambda v: v["candidate"].update(sha256="A" * 64),
        lambda v: v["gates"][0].update(outcome="passed-ish"),
        lambda v: v["gates"][0]["ci"].update(confidence=1.0),
        lambda v: v["gates"][0].pop("rule"),
        lambda v: v["tests"].update(failed=-1),
        lambda v: v["envelope"].pop("seed"),
        lambda v: v["envelope"]["packages"].pop("numpy"),
    ],
    ids=["decision", "schema-version", "extra-field", "created-at", "sha-uppercase", "outcome", "confidence", "no-rule", "negative-count", "no-seed", "no-numpy"],
)
def test_schema_rejects_malformed_verdicts(tmp_path: Path, validator, mutate) -> None:
    verdict = verdict_doc(tmp_path)
    assert errors(validator, verdict) == []
    mutate(verdict)
    assert errors(validator, verdict)


def test_block_reason_codes_in_schema(tmp_path: Path, validator) -> None:
    for code in ("gate_failed", "gate_error", "gate_skipped", "test_failed", "no_gates", "interrupted", "model_error", "data_error", "bad_input",
                 "config_error", "collection_error", "inconsistent_models", "session_failed", "internal_error", "underpowered"):
        assert errors(validator, verdict_doc(tmp_path, decision="block", reasons=[{"code": code, "message": "m"}])) == [], code
    assert errors(validator, verdict_doc(tmp_path, decision="block", reasons=[{"code": "because", "message": "m"}]))


# --- the new gate fields, from real records ------------------------------------------------------


class _Models:
    def __init__(self, candidate, baseline) -> None:
        self.models = {"candidate": candidate, "baseline": baseline}

    def get(self, role):
        return type("Loaded", (), {"model": self.models[role]})()


class _Datasets:
    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def get(self, name):
        assert name == self.dataset.name
        return self.dataset


def sliced_context(node_id: str = "tests/test_gates.py::test_sliced") -> tuple[QualityContext, np.ndarray]:
    """A gate over three region slices (one too small to compare), with a gap guardrail."""
    rng = np.random.default_rng(1)
    n = 420
    y = rng.integers(0, 2, n)
    region = np.array(["north"] * 200 + ["south"] * 200 + ["tiny"] * 20, dtype=object)
    candidate = np.where(rng.uniform(size=n) < 0.92, y, 1 - y)
    baseline = np.where(rng.uniform(size=n) < 0.7, y, 1 - y)
    dataset = Dataset("holdout", np.zeros((n, 1)), y, ("x0",), "d" * 64, {"label": y, "region": region})
    kwargs = {"min_delta": -0.01, "slice_by": "region", "min_slice_size": 50, "max_slice_gap": 0.25}
    gate = QualityGate.from_marker(("accuracy",), kwargs, 0.05)
    ctx = QualityContext(node_id, gate, 9, 300, "percentile", _Models(candidate, baseline), _Datasets(dataset))
    return ctx, y


def collected_verdict(tmp_path: Path, *records: tuple[dict, str]) -> dict:
    from pytest_promote.verdict import VerdictCollector

    collector = VerdictCollector()
    for record, call in records:
        collector.add(Phase(record["id"], "setup", "passed", gate=record))
        collector.add(Phase(record["id"], "call", call, message=None if call == "passed" else "GateFailed", gate=record))
        collector.add(Phase(record["id"], "teardown", "passed", gate=record))
    models = {"candidate": {"source": "c.pkl", "sha256": "a" * 64}, "baseline": {"source": "b.pkl", "sha256": "b" * 64}}
    return collector.verdict(interrupted=False, models=models, envelope=envelope(tmp_path))


def test_full_record_with_slices_gap_and_cross_check_validates(tmp_path: Path, validator) -> None:
    ctx, y = sliced_context()
    result = ctx.compare(lambda model: model, y, dataset="holdout")
    assert result.passed
    record = ctx.record()
    # every new field is there, filled in
    assert record["engine"] == "multinomial" and record["units"] == 420 and record["grouped"] is False and record["weighted"] is False
    assert record["se"] > 0 and record["mde"] > 0 and record["underpowered"] is False and record["warnings"] == []
    assert record["cross_check"]["method"] == "mcnemar_exact" and record["cross_check"]["agrees"] is True
    assert [(s["value"], s["skipped"]) for s in record["slices"]] == [("north", False), ("south", False), ("tiny", True)]
    assert record["slice_gap"]["slices"] == 2 and record["slice_gap"]["max"] == 0.25
    schema_gate = json.loads(SCHEMA_PATH.read_text())["$defs"]["gate"]["properties"]
    assert set(record) | {"outcome"} <= set(schema_gate)

    verdict = collected_verdict(tmp_path, (record, "passed"))
    assert errors(validator, verdict) == []
    assert verdict["decision"] == "promote" and verdict["gates"][0]["slices"] == record["slices"]
    lines = summary_lines(verdict, None)
    assert "tests/test_gates.py::test_sliced by slice:" in lines
    assert "  'tiny': 20 rows, below min_slice_size: skipped" in lines


def test_cross_check_disagreement_warning_validates(tmp_path: Path, validator, monkeypatch) -> None:
    from pytest_promote.gates import quality as gates_module
    from pytest_promote.stats.crosscheck import CrossCheck

    ctx, y = sliced_context()
    real = gates_module.paired_bootstrap

    def with_disagreeing_check(*args, **kwargs):
        stats = real(*args, **kwargs)
        return replace(stats, cross_check=CrossCheck("mcnemar_exact", stats.delta, -0.5, 0.5, 0.9, None))

    monkeypatch.setattr(gates_module, "paired_bootstrap", with_disagreeing_check)
    with pytest.warns(PromoteWarning, match="cross-check disagree"):
        ctx.compare(lambda model: model, y, dataset="holdout")
    record = ctx.record()
    assert record["cross_check"]["agrees"] is False and len(record["warnings"]) == 1
    verdict = collected_verdict(tmp_path, (record, "passed"))
    assert errors(validator, verdict) == []
    assert verdict["decision"] == "promote" and verdict["warnings"] == record["warnings"]


def test_grouped_weighted_record_validates(tmp_path: Path, validator) -> None:
    ctx, y = sliced_context()
    gate = QualityGate.from_marker(("accuracy",), {"min_delta": -0.5}, 0.05)
    ctx = QualityContext(ctx.node_id, gate, 9, 200, "bca", ctx.models, ctx.datasets)
    ctx.compare(lambda model: model, y, sample_weight=np.ones(len(y)), groups=np.arange(len(y)) // 3)
    record = ctx.record()
    assert record["grouped"] is True and record["weighted"] is True and record["units"] == 140
    assert record["cross_check"] is None and record["slices"] is None and record["slice_gap"] is None
    assert errors(validator, collected_verdict(tmp_path, (record, "passed"))) == []


def test_inconclusive_gate_and_underpowered_reason_validate(tmp_path: Path, validator) -> None:
    # 200 examples; the candidate alone is right on 6, the baseline alone on 2: too few to tell +0.02 from 0
    y = np.tile([0, 1], 100)
    candidate, baseline = y.copy(), y.copy()
    baseline[:6] = 1 - y[:6]
    candidate[6:8] = 1 - y[6:8]
    gate = QualityGate.from_marker(("accuracy",), {"min_delta": 0}, 0.05)
    ctx = QualityContext("t.py::test_superior", gate, 4, 500, "percentile", _Models(candidate, baseline), None)
    with pytest.raises(GateFailed, match="inconclusive"):
        ctx.compare(lambda model: model, y)
    record = ctx.record()
    assert record["underpowered"] is True
    verdict = collected_verdict(tmp_path, (record, "failed"))
    assert errors(validator, verdict) == []
    [entry] = verdict["gates"]
    assert entry["outcome"] == "inconclusive" and entry["passed"] is False
    assert verdict["decision"] == "block" and [r["code"] for r in verdict["reasons"]] == ["underpowered"]
    assert "would decide it" in verdict["reasons"][0]["message"]
    [row] = summary_lines(verdict, None)[1:2]
    assert row.startswith("t.py::test_superior") and row.endswith("INCONCLUSIVE")


@pytest.fixture(scope="module")
def full_verdict(tmp_path_factory) -> dict:
    ctx, y = sliced_context()
    ctx.compare(lambda model: model, y, dataset="holdout")
    return collected_verdict(tmp_path_factory.mktemp("full"), (ctx.record(), "passed"))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda g: g.update(engine="gpu"),
        lambda g: g.update(underpowered="yes"),
        lambda g: g.update(units=-1),
        lambda g: g.update(grouped=None),
        lambda g: g.update(mde="0.1"),
        lambda g: g.update(warnings="one note"),
        lambda g: g.update(outcome="underpowered"),
        lambda g: g["cross_check"].update(method="wilcoxon"),
        lambda g: g["cross_check"].pop("agrees"),
        lambda g: g["cross_check"].update(extra=1),
        lambda g: g["slices"][0].update(value=None),
        lambda g: g["slices"][0].pop("skipped"),
        lambda g: g["slices"][0]["ci"].update(method="normal"),
        lambda g: g["slice_gap"].update(slices=1),
        lambda g: g["slice_gap"].pop("max"),
    ],
    ids=["engine", "underpowered", "units", "grouped", "mde", "warnings", "outcome", "cross-check-method", "cross-check-agrees",
         "cross-check-extra", "slice-value", "slice-skipped", "slice-ci-method", "gap-slices", "gap-max"],
)
def test_schema_rejects_malformed_new_gate_fields(full_verdict, validator, mutate) -> None:
    verdict = json.loads(json.dumps(full_verdict))
    assert errors(validator, verdict) == []
    mutate(verdict["gates"][0])
    assert errors(validator, verdict)


@pytest.mark.parametrize("engine", ["multinomial", "index", "rank", "custom"])
def test_schema_accepts_every_engine(full_verdict, validator, engine) -> None:
    verdict = json.loads(json.dumps(full_verdict))
    verdict["gates"][0]["engine"] = engine
    assert errors(validator, verdict) == []


# --- writing -----------------------------------------------------------------------------------


def test_write_verdict_round_trips_and_leaves_no_temp_files(tmp_path: Path) -> None:
    verdict = verdict_doc(tmp_path)
    path = tmp_path / "out" / "promote-verdict.json"
    write_verdict(path, verdict)
    assert json.loads(path.read_text(encoding="utf-8")) == verdict
    assert path.read_text(encoding="utf-8") == dumps(verdict)
    assert sorted(p.name for p in path.parent.iterdir()) == ["promote-verdict.json"]
    # overwriting an existing verdict replaces it whole
    changed = {**verdict, "decision": "block", "reasons": [{"code": "no_gates", "message": "none"}]}
    write_verdict(path, changed)
    assert json.loads(path.read_text()) == changed
    assert sorted(p.name for p in path.parent.iterdir()) == ["promote-verdict.json"]


def test_write_verdict_is_atomic_when_the_rename_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "promote-verdict.json"
    path.write_text("old verdict")

    def broken_replace(src, dst):
        assert Path(src).parent == path.parent  # the temp file lives next to the target
        assert json.loads(Path(src).read_text())["decision"] == "promote"  # fully written before the rename
        raise OSError("disk vanished")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk vanished"):
        write_verdict(path, verdict_doc(tmp_path))
    assert path.read_text() == "old verdict"
    assert [p.name for p in tmp_path.iterdir()] == ["promote-verdict.json"]


def test_write_verdict_refuses_nan_and_cleans_up(tmp_path: Path) -> None:
    path = tmp_path / "promote-verdict.json"
    with pytest.raises(ValueError):
        write_verdict(path, {"x": float("nan")})
    assert list(tmp_path.iterdir()) == []


def test_remove_stale_verdict(tmp_path: Path) -> None:
    path = tmp_path / "promote-verdict.json"
    path.write_text("{}")
    assert remove_stale_verdict(path) is True
    assert not path.exists()
    assert remove_stale_verdict(path) is False


# --- the terminal summary ------------------------------------------------------------------------


def test_summary_lines_one_row_per_gate_and_decision(tmp_path: Path) -> None:
    gates = [
        gate_entry(),
        gate_entry(id="tests/test_gates.py::test_mae", metric="mae", rule="mae < 2 at 95% confidence", candidate=1.5, baseline=1.7,
                   delta=0.2, ci={"low": -0.05, "high": 0.4, "confidence": 0.9, "method": "bca", "resamples": 10000},
                   passed=False, outcome="failed", severity="warn"),
        gate_entry(id="tests/test_gates.py::test_broken", candidate=None, baseline=None, delta=None, ci=None, passed=False, outcome="error", rule=None),
    ]
    verdict = verdict_doc(tmp_path, decision="block", reasons=[{"code": "gate_error", "message": "tests/test_gates.py::test_broken: boom"}],
                          gates=gates, warnings=["warn-only gate failed"])
    lines = summary_lines(verdict, "/tmp/promote-verdict.json")
    header, *rest = lines
    assert header.startswith("gate") and header.endswith("result")
    for column in ("metric", "candidate", "baseline", "delta", "rule"):
        assert column in header
    rows = rest[:3]
    assert rows[0].startswith("tests/test_gates.py::test_accuracy") and rows[0].endswith("PASS")
    assert "0.8500" in rows[0] and "0.8200" in rows[0] and "+0.0300 [+0.0120, +0.0470]" in rows[0]
    assert "delta > 0 at 95% confidence" in rows[0]
    assert rows[1].startswith("tests/test_gates.py::test_mae") and rows[1].endswith("FAIL (warn)")
    assert "+0.2000 [-0.0500, +0.4000]" in rows[1]
    assert rows[2].startswith("tests/test_gates.py::test_broken") and rows[2].endswith("ERROR")
    assert "decision: BLOCK  (verdict: /tmp/promote-verdict.json)" in lines
    assert "  - gate_error: tests/test_gates.py::test_broken: boom" in lines
    assert "  ! warning: warn-only gate failed" in lines
    assert len([line for line in lines if "tests/test_gates.py::" in line and not line.startswith("  -")]) == 3
    # columns line up: every row has its result label starting at the same offset
    assert len({len(line) - len(line.lstrip()) for line in rows}) == 1


def test_summary_threshold_gate_shows_candidate_interval(tmp_path: Path) -> None:
    gate = gate_entry(threshold=0.8, min_delta=None, rule="accuracy > 0.8 at 95% confidence")
    [row] = summary_lines(verdict_doc(tmp_path, gates=[gate]), None)[1:2]
    assert "0.8500 [0.8300, 0.8700]" in row and row.endswith("PASS")


def test_summary_lines_promote(tmp_path: Path) -> None:
    lines = summary_lines(verdict_doc(tmp_path), None)
    assert lines[-1] == "decision: PROMOTE"
    assert sum(1 for line in lines if line.endswith("PASS")) == 1


def test_summary_lines_without_gates(tmp_path: Path) -> None:
    verdict = verdict_doc(tmp_path, decision="block", reasons=[{"code": "no_gates", "message": "no gate"}], gates=[])
    lines = summary_lines(verdict, "v.json")
    assert lines[0] == "no promotion gates ran"
    assert "decision: BLOCK  (verdict: v.json)" in lines and "  - no_gates: no gate" in lines


def test_reason_to_dict() -> None:
    assert Reason("no_gates", "none").to_dict() == {"code": "no_gates", "message": "none"}
