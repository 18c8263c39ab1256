"""``@gate.drift``: model outputs against the baseline's, or a dataset against a reference dataset."""

from __future__ import annotations

import pytest

from .conftest import ACCURACY_GATE, FEATURES, MODES

OUTPUT_DRIFT = """
@gate.drift(max_psi=0.2, max_ks=0.3{extra})
def test_score_drift(promote, dataset):
    X = dataset("holdout").X
    promote.compare_distributions(lambda model: model.predict_proba(X)[:, 1])
"""

DATA_DRIFT = """
@gate.drift(max_psi=0.1, max_ks=0.1, severity="block")
def test_data_drift(promote):
    promote.compare_distributions(reference="train", current="holdout", columns=["f0", "f1"])
"""


def write_features(project, relative: str, X, y) -> str:
    lines = [",".join([*FEATURES, "label"])]
    lines += [",".join([*(repr(float(v)) for v in row), str(int(label))]) for row, label in zip(X, y)]
    return project.write_bytes(relative, ("\n".join(lines) + "\n").encode())


def data_drift_project(make_project, shift: float):
    """train: the first 1000 hold-out rows; holdout: the other 1000, with f0 shifted by ``shift``."""
    project = make_project(models="toy", tests=ACCURACY_GATE + DATA_DRIFT)
    X, y = project.artifacts.X, project.artifacts.y
    current = X[1000:].copy()
    current[:, 0] += shift
    train_sha = write_features(project, "data/train.csv", X[:1000], y[:1000])
    holdout_sha = write_features(project, "data/holdout.csv", current, y[1000:])
    project.update_config({"datasets": {
        "train": {"path": "data/train.csv", "target": "label", "sha256": train_sha},
        "holdout": {"path": "data/holdout.csv", "target": "label", "sha256": holdout_sha},
    }})  # fmt: skip
    return project, X[:1000], current


@pytest.mark.parametrize("mode", MODES)
def test_identical_outputs_show_no_drift(make_project, helpers, verdict_validator, mode):
    project = make_project(models="toy", candidate="good", baseline="good", tests=ACCURACY_GATE.replace("min_delta=0", "min_delta=-0.01")
                           + OUTPUT_DRIFT.format(extra=""))  # fmt: skip

    result, verdict = project.promote_in_mode(mode)

    assert result.ret == 0, result.stdout.str()
    verdict_validator.validate(verdict)
    entry = helpers.gate_entry(verdict, "test_score_drift")
    assert (entry["kind"], entry["severity"], entry["outcome"]) == ("drift", "warn", "passed")
    (column,) = entry["drift"]["columns"]
    assert column["name"] == "output" and column["psi"] == pytest.approx(0, abs=1e-12) and column["ks"] == 0
    assert entry["drift"]["mode"] == "outputs" and entry["drift"]["reference"] == "baseline"


@pytest.mark.parametrize(("severity", "ret", "decision"), [("warn", 0, "promote"), ("block", 1, "block")])
def test_shifted_outputs_warn_or_block(make_project, helpers, severity, ret, decision):
    project = make_project(models="toy", candidate="good", baseline="weak",
                           tests=ACCURACY_GATE + OUTPUT_DRIFT.format(extra=f", severity={severity!r}"))  # fmt: skip

    result = project.run("--promote")

    assert result.ret == ret, result.stdout.str()
    verdict = project.verdict()
    assert verdict["decision"] == decision
    entry = helpers.gate_entry(verdict, "test_score_drift")
    (column,) = entry["drift"]["columns"]
    assert column["passed"] is False and column["psi"] > 0.2 and column["ks"] > 0.2
    result.stdout.fnmatch_lines(["*test_score_drift drift of candidate against baseline:", "  output: PSI * KS * FAIL"])
    if severity == "warn":
        assert any("warn-only gate" in warning and "test_score_drift" in warning for warning in verdict["warnings"])


@pytest.mark.parametrize(("shift", "ret", "outcome"), [(0.0, 0, "passed"), (1.0, 1, "failed")])
def test_a_dataset_against_its_reference(make_project, helpers, shift, ret, outcome):
    from scipy.stats import ks_2samp

    project, reference, current = data_drift_project(make_project, shift)

    result = project.run("--promote")

    assert result.ret == ret, result.stdout.str()
    entry = helpers.gate_entry(project.verdict(), "test_data_drift")
    assert entry["outcome"] == outcome and entry["drift"]["mode"] == "datasets"
    columns = {column["name"]: column for column in entry["drift"]["columns"]}
    assert list(columns) == ["f0", "f1"]
    for index, name in enumerate(columns):
        expected = ks_2samp(reference[:, index], current[:, index])
        assert columns[name]["ks"] == pytest.approx(expected.statistic, abs=1e-12)
        assert columns[name]["ks_p_value"] == pytest.approx(expected.pvalue, rel=1e-9)
    assert columns["f1"]["passed"] is True  # unshifted in both runs
    if outcome == "failed":
        assert columns["f0"]["passed"] is False and columns["f0"]["psi"] > 0.1
        assert helpers.reason_codes(project.verdict()) == ["gate_failed"]


def test_drift_gate_misuse_is_a_gate_error(make_project, helpers):
    project = make_project(models="toy", tests="""
@gate.drift(max_psi=0.2)
def test_drift(promote):
    promote.compare_distributions(lambda m: [0.1, 0.2], reference="holdout", current="holdout")
""")

    result = project.run("--promote")

    assert result.ret == 1
    result.stdout.fnmatch_lines(["*either a function of the model (outputs) or reference= and current= dataset names, not both*"])
