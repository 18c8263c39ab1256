"""Pickles load only after their sha256 matches the pin; loaders record what they built."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import pytest


class _Tripwire:
    """Unpickling this creates a directory: proof that a refused file was never unpickled."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def tripwire_pickle(project) -> tuple[bytes, object]:
    marker = project.path / "UNPICKLED"
    return pickle.dumps(_Tripwire(str(marker)), protocol=5), marker


def test_unpinned_pickle_is_refused(make_project, helpers):
    project = make_project(models="toy", pin=False)
    data, marker = tripwire_pickle(project)
    actual = project.write_bytes("models/candidate.pkl", data)

    result = project.run("--promote")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*models.candidate: refusing to load *candidate.pkl: it is not pinned.*runs arbitrary code*",
        ]
    )
    result.stdout.fnmatch_lines([f'*pin it: models.candidate.sha256: "{actual}"*'])
    assert not marker.exists(), "the unpinned pickle was unpickled"
    verdict = project.verdict()
    assert verdict["decision"] == "block"
    assert "model_error" in helpers.reason_codes(verdict)
    model_error = next(r for r in verdict["reasons"] if r["code"] == "model_error")
    assert "not pinned" in model_error["message"] and actual in model_error["message"]


def test_tampered_pickle_is_refused_naming_both_hashes(make_project, helpers):
    project = make_project(models="toy")
    pinned = project.shas["models/candidate.pkl"]
    data, marker = tripwire_pickle(project)
    actual = project.write_bytes("models/candidate.pkl", data)  # changed after it was pinned

    result = project.run("--promote")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [f"*models.candidate: *candidate.pkl: sha256 mismatch: promote.yaml pins {pinned} but the file's sha256 is {actual}*"]
    )
    assert not marker.exists(), "the tampered pickle was unpickled"
    verdict = project.verdict()
    assert verdict["decision"] == "block"
    assert "model_error" in helpers.reason_codes(verdict)
    model_error = next(r for r in verdict["reasons"] if r["code"] == "model_error")
    assert pinned in model_error["message"] and actual in model_error["message"]
    assert helpers.gate_entry(verdict, "test_accuracy")["outcome"] == "error"


LOADERS = '''
import pickle
from pathlib import Path

HERE = Path(__file__).parent


def load_baseline():
    return pickle.loads((HERE / "artifacts" / "baseline.pkl").read_bytes())


class Unpicklable:
    def __init__(self, model):
        self.model = model
        self.callback = lambda: None  # lambdas do not pickle

    def predict(self, X):
        return self.model.predict(X)


def load_unpicklable():
    return Unpicklable(pickle.loads((HERE / "artifacts" / "candidate.pkl").read_bytes()))


def broken():
    raise ValueError("the registry is down")
'''


def _loader_project(make_project, models="toy", **roles):
    loaders = {role: {"path": None, "sha256": None, "loader": loader} for role, loader in roles.items()}
    project = make_project(models=models, config={"models": loaders})
    (project.path / "mymodels.py").write_text(LOADERS)
    for role in ("candidate", "baseline"):
        project.write_bytes(f"artifacts/{role}.pkl", (project.path / f"models/{role}.pkl").read_bytes())
    return project


def test_loader_model_is_recorded_with_its_pickled_sha256(make_project):
    project = _loader_project(make_project, baseline="mymodels:load_baseline")
    # the reference: the loader's model pickled (protocol 5) in a fresh interpreter
    expected, size = subprocess.run(
        [sys.executable, "-c", "import hashlib, pickle, mymodels; data = pickle.dumps(mymodels.load_baseline(), protocol=5); "
         "print(hashlib.sha256(data).hexdigest(), len(data))"],
        cwd=project.path, capture_output=True, text=True, check=True,
    ).stdout.split()

    result = project.run("--promote")

    assert result.ret == 0, result.stdout.str()
    verdict = project.verdict()
    assert verdict["decision"] == "promote"
    assert verdict["baseline"] == {"source": "loader:mymodels:load_baseline", "sha256": expected, "size_bytes": int(size), "registry": None}
    assert verdict["candidate"] == {
        "source": str(project.path / "models" / "candidate.pkl"),
        "sha256": project.shas["models/candidate.pkl"],
        "size_bytes": (project.path / "models" / "candidate.pkl").stat().st_size,
        "registry": None,
    }
    assert verdict["warnings"] == []


def test_unpicklable_loader_model_records_null_and_warns(make_project):
    project = _loader_project(make_project, candidate="mymodels:load_unpicklable")

    result = project.run("--promote")

    assert result.ret == 0, result.stdout.str()
    verdict = project.verdict()
    assert verdict["decision"] == "promote"
    assert verdict["candidate"] == {"source": "loader:mymodels:load_unpicklable", "sha256": None, "size_bytes": None, "registry": None}
    assert len(verdict["warnings"]) == 1
    assert "models.candidate" in verdict["warnings"][0] and "cannot be pickled" in verdict["warnings"][0]
    result.stdout.fnmatch_lines(["*! warning: models.candidate: *cannot be pickled*"])


def test_failing_loader_is_a_model_error(make_project, helpers):
    project = _loader_project(make_project, candidate="mymodels:broken")

    result = project.run("--promote")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*models.candidate: loading loader:mymodels:broken failed: ValueError: the registry is down*"])
    verdict = project.verdict()
    assert verdict["decision"] == "block"
    assert "model_error" in helpers.reason_codes(verdict)


def test_pinned_joblib_file_loads(make_project):
    joblib = pytest.importorskip("joblib")
    import io

    project = make_project(models="toy")
    buffer = io.BytesIO()
    joblib.dump(pickle.loads(project.artifacts.models["toy"]["good"]), buffer)
    sha = project.write_bytes("models/candidate.joblib", buffer.getvalue())
    project.write_config(
        {
            "version": 1,
            "bootstrap": {"resamples": 1000},
            "models": {
                "candidate": {"path": "models/candidate.joblib", "sha256": sha},
                "baseline": {"path": "models/baseline.pkl", "sha256": project.shas["models/baseline.pkl"]},
            },
            "datasets": {"holdout": {"path": "data/holdout.csv", "target": "label"}},
        }
    )

    result = project.run("--promote")

    assert result.ret == 0, result.stdout.str()
    candidate = project.path / "models/candidate.joblib"
    assert project.verdict()["candidate"] == {"source": str(candidate), "sha256": sha, "size_bytes": candidate.stat().st_size, "registry": None}


FORMAT_PLUGIN = '''
import json

import pytest
import toymodels


@pytest.hookimpl
def pytest_promote_load_model(spec):
    if spec.path is None or spec.path.suffix != ".json":
        return None  # not ours: let the built-in loaders try
    document = json.loads(spec.path.read_text())
    return toymodels.LinearModel(document["weights"], document["bias"])
'''


def test_plugin_hook_adds_a_model_format(make_project, helpers):
    import json

    project = make_project(models="toy")
    good = pickle.loads(project.artifacts.models["toy"]["good"])
    document = json.dumps({"weights": good.weights.tolist(), "bias": good.bias}).encode()
    sha = project.write_bytes("models/candidate.json", document)
    config = project.config_path.read_text().replace("models/candidate.pkl", "models/candidate.json")
    project.config_path.write_text(config.replace(project.shas["models/candidate.pkl"], sha))
    project.pytester.makeconftest(FORMAT_PLUGIN)

    result = project.run("--promote")

    assert result.ret == 0, result.stdout.str()
    verdict = project.verdict()
    candidate = project.path / "models/candidate.json"
    assert verdict["candidate"] == {"source": str(candidate), "sha256": sha, "size_bytes": candidate.stat().st_size, "registry": None}
    assert helpers.gate_entry(verdict, "test_accuracy")["delta"] > 0.1


def test_file_format_nobody_loads_is_a_model_error(make_project, helpers):
    project = make_project(models="toy")
    sha = project.write_bytes("models/candidate.onnx", b"\x08\x07not really onnx")
    config = project.config_path.read_text().replace("models/candidate.pkl", "models/candidate.onnx")
    project.config_path.write_text(config.replace(project.shas["models/candidate.pkl"], sha))

    result = project.run("--promote")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*models.candidate: no loader handles '.onnx' files*pytest_promote_load_model hook*"])
    assert "model_error" in helpers.reason_codes(project.verdict())
