"""With pytest-xdist: the controller writes one verdict, with the numbers of a serial run."""

from __future__ import annotations

import pytest

from .conftest import ACCURACY_GATE, LOG_LOSS_GATE

pytest.importorskip("xdist")

FILE_A = ACCURACY_GATE + LOG_LOSS_GATE

FILE_B = """
@gate.quality("roc_auc", threshold=THRESHOLD)
def test_auc(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict_proba(data.X), data.y, dataset="holdout")

@gate.quality("accuracy", min_delta=-0.01)
def test_not_worse(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X), data.y, dataset="holdout")

def test_plain():
    assert True
"""


def _comparable(helpers, verdict: dict) -> dict:
    return {
        "decision": verdict["decision"],
        "reasons": sorted(r["code"] for r in verdict["reasons"]),
        "tests": verdict["tests"],
        "candidate": verdict["candidate"],
        "baseline": verdict["baseline"],
        "datasets": verdict["envelope"]["datasets"],
        "gates": {g["id"]: (g["outcome"], *helpers.gate_numbers(g)) for g in verdict["gates"]},
    }


@pytest.mark.parametrize(
    ("models", "threshold", "ret", "decision"),
    [
        pytest.param("toy", 0.8, 0, "promote", id="promote"),
        pytest.param("toy", 0.99, 1, "block", id="block"),
    ],
)
def test_xdist_matches_serial(make_project, helpers, models, threshold, ret, decision):
    project = make_project(
        models=models,
        tests={"test_a.py": FILE_A, "test_b.py": f"THRESHOLD = {threshold}\n" + FILE_B},
    )

    serial = project.run("--promote")
    serial_verdict = project.verdict()
    parallel = project.run("--promote", "-p", "xdist", "-n", "2")
    parallel_verdict = project.verdict()

    assert serial.ret == parallel.ret == ret, parallel.stdout.str()
    parallel.stdout.fnmatch_lines(["*2 workers*", f"decision: {decision.upper()}  (verdict: {project.verdict_path})"])
    assert serial_verdict["decision"] == decision
    assert len(parallel_verdict["gates"]) == 4
    assert _comparable(helpers, parallel_verdict) == _comparable(helpers, serial_verdict)
    # one verdict: nothing else written beside it, by the workers or the atomic write
    assert sorted(p.name for p in project.path.glob("*verdict*")) == ["promote-verdict.json"]
    assert [p.name for p in project.path.iterdir() if p.name.endswith(".tmp")] == []


LOADER_WITH_A_SET = '''
import pickle
from pathlib import Path


def load_candidate():
    """Deterministic: the same weights every time, plus the names of the columns it was trained on."""
    model = pickle.loads((Path(__file__).parent / "models" / "candidate.pkl").read_bytes())
    model.trained_on = {f"column_{i}" for i in range(64)}
    return model
'''

MANY_GATES = """
@pytest.mark.parametrize("part", range(8))
@gate.quality("accuracy", min_delta=0)
def test_accuracy(promote, dataset, part):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X), data.y)
"""


def test_loader_made_model_is_not_inconsistent_across_workers(make_project, monkeypatch):
    """The same deterministic loader gives the same model in every worker: that must not block.

    The plugin identifies a loader-made model by the sha256 of ``pickle.dumps(model)`` in each
    process and blocks with ``inconsistent_models`` when two processes disagree. A pickled set of
    strings is ordered by string hashes, which are salted per process (PYTHONHASHSEED), so two
    workers holding identical models report different digests. Serial runs promote.
    """
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)  # as in a plain shell: a random salt per process
    loader = {"path": None, "sha256": None, "loader": "setmodels:load_candidate"}
    project = make_project(models="toy", tests=MANY_GATES, config={"models": {"candidate": loader}})
    (project.path / "setmodels.py").write_text(LOADER_WITH_A_SET)

    serial = project.run("--promote")
    assert serial.ret == 0, serial.stdout.str()
    parallel = project.run("--promote", "-p", "xdist", "-n", "2")

    verdict = project.verdict()
    assert verdict["reasons"] == [] and verdict["decision"] == "promote"
    assert parallel.ret == 0
