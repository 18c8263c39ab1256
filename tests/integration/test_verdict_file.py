"""The verdict file: schema-valid, never stale, where the user says, with its envelope."""

from __future__ import annotations

import json
import platform
import re
import shutil
import subprocess

import pytest

import pytest_promote

STALE = {"decision": "promote", "note": "left behind by an earlier run"}

PLAIN_TEST = "def test_plain():\n    assert True\n"


def _errors(validator, verdict: dict) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(verdict)]


def test_promote_verdict_validates_and_records_its_envelope(make_project, helpers, verdict_validator):
    import numpy
    import scipy
    import sklearn

    project = make_project(models="toy")

    result = project.run("--promote")

    assert result.ret == 0, result.stdout.str()
    verdict = project.verdict()
    assert _errors(verdict_validator, verdict) == []
    assert verdict["schema_version"] == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", verdict["created_at"])
    candidate = project.path / "models/candidate.pkl"
    assert verdict["candidate"] == {
        "source": str(candidate), "sha256": project.shas["models/candidate.pkl"], "size_bytes": candidate.stat().st_size, "registry": None,
    }  # fmt: skip
    baseline = project.path / "models/baseline.pkl"
    assert verdict["baseline"] == {
        "source": str(baseline), "sha256": project.shas["models/baseline.pkl"], "size_bytes": baseline.stat().st_size, "registry": None,
    }  # fmt: skip

    gate = helpers.gate_entry(verdict, "test_accuracy")
    assert gate["id"] == "test_gates.py::test_accuracy"
    assert (gate["kind"], gate["metric"], gate["severity"], gate["alpha"], gate["n"]) == ("quality", "accuracy", "block", 0.05, 2000)
    assert gate["rule"] == "delta > 0 at 95% confidence"
    assert gate["ci"]["confidence"] == pytest.approx(0.90)  # the two-sided 1 - 2*alpha interval
    assert (gate["ci"]["method"], gate["ci"]["resamples"]) == ("bca", 1000)
    assert isinstance(gate["seed"], int)
    assert gate["dataset"] == {"name": "holdout", "sha256": project.shas["data/holdout.csv"], "rows": 2000}

    envelope = verdict["envelope"]
    assert envelope["python"] == platform.python_version()
    assert envelope["packages"]["numpy"] == numpy.__version__
    assert envelope["packages"]["scipy"] == scipy.__version__
    assert envelope["packages"]["pytest"] == pytest.__version__
    assert envelope["packages"]["pytest-promote"] == pytest_promote.__version__
    assert envelope["packages"]["scikit-learn"] == sklearn.__version__
    assert envelope["git"] is None  # pytester's folder is not in a git work tree
    assert envelope["config"] == {"path": str(project.config_path), "sha256": helpers.sha256_path(project.config_path)}
    assert envelope["datasets"]["holdout"]["sha256"] == project.shas["data/holdout.csv"]
    assert envelope["datasets"]["holdout"]["rows"] == 2000
    assert envelope["command_line"][0] == "pytest" and envelope["command_line"][-1] == "--promote"
    assert envelope["seed"] == 12345


BLOCK_SCENARIOS = {
    "gate-failed-warned-and-errored": dict(
        candidate="weak",
        baseline="good",
        tests="""
@gate.quality("accuracy", min_delta=0)
def test_fails(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X), data.y)

@gate.quality("accuracy", threshold=0.99, severity="warn")
def test_warns(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X), data.y)

@gate.quality("accuracy", min_delta=0)
def test_errors(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X)[:10], data.y)

@gate.quality("log_loss", min_delta=0)
def test_nan_free(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict_proba(data.X), data.y)

def test_plain_failure():
    assert False
""",
    ),
    "config-error": dict(config={"alpha": 2}),
    "no-tests": dict(tests=None),
}


@pytest.mark.parametrize("scenario", list(BLOCK_SCENARIOS))
def test_block_verdicts_validate(make_project, verdict_validator, scenario):
    project = make_project(models="toy", **BLOCK_SCENARIOS[scenario])

    result = project.run("--promote")

    assert result.ret != 0
    verdict = project.verdict()
    assert verdict["decision"] == "block"
    assert _errors(verdict_validator, verdict) == []


# --- a verdict from an earlier run never survives -----------------------------------------------------


def test_stale_verdict_is_replaced_when_the_config_is_invalid(make_project, helpers):
    project = make_project(models="toy", config={"bootstrap": {"method": "jackknife"}})
    project.verdict_path.write_text(json.dumps(STALE))

    result = project.run("--promote")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    verdict = project.verdict()
    assert verdict["decision"] == "block"
    assert helpers.reason_codes(verdict) == ["config_error"]


def test_stale_verdict_at_the_configured_path_is_removed_when_the_config_is_invalid(make_project):
    """promote.yaml names its verdict file (``verdict:``) and another key is invalid.

    The earlier run's verdict at the configured path must not survive saying "promote": a CI
    step that reads it (or a later `|| true`) would ship a model this run never judged. The
    plugin only removes and rewrites the default path when the config fails to load.
    """
    project = make_project(models="toy", config={"verdict": "out/verdict.json", "alpha": 0.9})
    stale_path = project.path / "out" / "verdict.json"
    stale_path.parent.mkdir()
    stale_path.write_text(json.dumps(STALE))

    result = project.run("--promote")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert not stale_path.exists() or json.loads(stale_path.read_text())["decision"] == "block"


INTERRUPTED = """
@gate.quality("accuracy", min_delta=0)
def test_a_gate(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X), data.y)

def test_b_interrupt():
    raise KeyboardInterrupt
"""


def test_interrupted_run_blocks(make_project, helpers):
    project = make_project(models="toy", tests=INTERRUPTED)
    project.verdict_path.write_text(json.dumps(STALE))

    result = project.run("--promote")  # (pytest-randomly is blocked by project.run: a runs before b)

    assert result.ret == pytest.ExitCode.INTERRUPTED
    verdict = project.verdict()
    assert verdict["decision"] == "block"
    assert "interrupted" in helpers.reason_codes(verdict)
    assert helpers.gate_entry(verdict, "test_a_gate")["outcome"] == "passed"


CRASH = """
import os

@gate.quality("accuracy", min_delta=0)
def test_a_gate(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X), data.y)

def test_b_crash():
    os._exit(3)
"""


def test_crashed_run_leaves_no_verdict(make_project):
    project = make_project(models="toy", tests=CRASH)
    project.verdict_path.write_text(json.dumps(STALE))

    result = project.run("--promote")

    assert result.ret == 3
    assert not project.verdict_path.exists()


def test_stale_verdict_at_the_override_path_is_removed(make_project):
    project = make_project(models="toy", tests=CRASH)
    override = project.path / "out" / "v.json"
    override.parent.mkdir()
    override.write_text(json.dumps(STALE))

    result = project.run("--promote", "--promote-verdict", "out/v.json")

    assert result.ret == 3
    assert not override.exists()


# --- where the verdict goes ---------------------------------------------------------------------------


def _assert_only_verdict_at(project, path) -> dict:
    assert path.is_file()
    assert path == project.verdict_path or not project.verdict_path.exists()
    leftovers = [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == [], "the atomic write left its temp file behind"
    return json.loads(path.read_text())


def test_promote_verdict_option_overrides(make_project):
    project = make_project(models="toy", config={"verdict": "configured.json"})

    result = project.run("--promote", "--promote-verdict", "out/v.json")

    assert result.ret == 0, result.stdout.str()
    target = project.path / "out" / "v.json"
    assert _assert_only_verdict_at(project, target)["decision"] == "promote"
    assert not (project.path / "configured.json").exists()
    result.stdout.fnmatch_lines([f"decision: PROMOTE  (verdict: {target})"])


def test_ini_promote_verdict_overrides(make_project):
    project = make_project(models="toy", config={"verdict": "configured.json"})
    project.pytester.makeini("[pytest]\npromote_verdict = reports/verdict.json\n")

    result = project.run("--promote")

    assert result.ret == 0, result.stdout.str()
    assert _assert_only_verdict_at(project, project.path / "reports" / "verdict.json")["decision"] == "promote"
    assert not (project.path / "configured.json").exists()


def test_config_verdict_key_sets_the_path(make_project):
    project = make_project(models="toy", config={"verdict": "configured.json"})

    result = project.run("--promote")

    assert result.ret == 0, result.stdout.str()
    assert _assert_only_verdict_at(project, project.path / "configured.json")["decision"] == "promote"


# --- git --------------------------------------------------------------------------------------------------


def _git(project, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false", *args],
        cwd=project.path, capture_output=True, text=True, check=True,
    ).stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="needs the git command")
def test_envelope_records_git_commit_and_dirty_flag(make_project):
    project = make_project(models="toy", tests=PLAIN_TEST)
    _git(project, "init", "-q")
    _git(project, "add", "promote.yaml", "test_gates.py")
    _git(project, "commit", "-q", "-m", "init")
    head = _git(project, "rev-parse", "HEAD")

    project.run("--promote")
    clean = project.verdict()["envelope"]["git"]
    (project.path / "test_gates.py").write_text(PLAIN_TEST + "\n# edited\n")
    project.run("--promote")
    dirty = project.verdict()["envelope"]["git"]

    assert clean == {"commit": head, "dirty": False}
    assert dirty == {"commit": head, "dirty": True}
