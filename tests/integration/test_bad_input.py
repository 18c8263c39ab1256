"""Predictions a metric cannot use block with ``bad_input``, naming the gate, the model and the count."""

from __future__ import annotations

import numpy as np
import pytest

NAN_FROM_CANDIDATE = """
import numpy as np

@gate.quality("log_loss", min_delta=0)
def test_nan_candidate(promote, dataset, candidate):
    data = dataset("holdout")

    def predict(model):
        p = model.predict_proba(data.X)[:, 1]
        if model is candidate:
            p[[3, 50, 700, 1999]] = np.nan  # a preprocessing bug in the new model's pipeline
        return p

    promote.compare(predict, data.y, dataset="holdout")
"""

SHORT_BASELINE = """
@gate.quality("accuracy", min_delta=0)
def test_short_baseline(promote, dataset, baseline):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X)[:-3] if model is baseline else model.predict(data.X), data.y)
"""


def bad_input_messages(verdict: dict) -> list[str]:
    return [reason["message"] for reason in verdict["reasons"] if reason["code"] == "bad_input"]


@pytest.mark.parametrize(
    ("tests", "name", "expected"),
    [
        pytest.param(
            NAN_FROM_CANDIDATE,
            "test_nan_candidate",
            "gate log_loss (test_gates.py::test_nan_candidate): candidate probabilities: 4 of 2000 values are NaN or infinite",
            id="nan-candidate",
        ),
        pytest.param(
            SHORT_BASELINE,
            "test_short_baseline",
            "gate accuracy (test_gates.py::test_short_baseline): baseline predictions have 1997 rows but y_true has 2000",
            id="short-baseline",
        ),
    ],
)
def test_unusable_predictions_block(make_project, helpers, tests, name, expected):
    project = make_project(models="toy", tests=helpers.ACCURACY_GATE + tests)

    result = project.run("--promote")

    assert result.ret == 1
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([f"*[[]bad_input[]] {expected}*"])
    assert "Traceback" not in result.stdout.str()
    verdict = project.verdict()
    assert verdict["decision"] == "block"
    assert "bad_input" in helpers.reason_codes(verdict)
    assert bad_input_messages(verdict) == [expected]
    gate = helpers.gate_entry(verdict, name)
    assert (gate["outcome"], gate["passed"], gate["ci"]) == ("error", False, None)
    assert helpers.gate_entry(verdict, "test_accuracy")["outcome"] == "passed"


def test_tiny_dataset_runs_with_a_warning(make_project, helpers):
    tests = helpers.gate_source("test_tiny", 'gate.quality("accuracy", threshold=0.3)', dataset="tiny")
    project = make_project(models="toy", tests=tests)
    project.use_table("tiny", "data/tiny.csv", rows=range(25))

    result = project.run("--promote")

    assert result.ret == 0, result.stdout.str()  # a warning, not a block
    verdict = project.verdict()
    assert verdict["decision"] == "promote"
    warning = "test_gates.py::test_tiny: only 25 examples: bootstrap intervals below 30 are unreliable"
    assert verdict["warnings"] == [warning]
    gate = helpers.gate_entry(verdict, "test_tiny")
    assert gate["warnings"] == [warning] and gate["n"] == 25
    result.stdout.fnmatch_lines(["*PromoteWarning: test_gates.py::test_tiny: only 25 examples*"])


def test_thirty_rows_do_not_warn(make_project, helpers):
    tests = helpers.gate_source("test_thirty", 'gate.quality("accuracy", threshold=0.3)', dataset="tiny")
    project = make_project(models="toy", tests=tests)
    project.use_table("tiny", "data/tiny.csv", rows=range(30))

    result = project.run("--promote")

    assert result.ret == 0, result.stdout.str()
    verdict = project.verdict()
    assert verdict["warnings"] == [] and helpers.gate_entry(verdict, "test_thirty")["warnings"] == []


def test_single_class_labels_for_roc_auc(make_project, helpers):
    marker = 'gate.quality("roc_auc", min_delta=0)'
    tests = helpers.gate_source("test_auc", marker, predict="model.predict_proba(data.X)", dataset="negatives")
    project = make_project(models="toy", tests=tests)
    negatives = np.flatnonzero(project.artifacts.y == 0)[:200]
    project.use_table("negatives", "data/negatives.csv", rows=negatives)

    result = project.run("--promote")

    assert result.ret == 1
    verdict = project.verdict()
    assert verdict["decision"] == "block"
    assert "bad_input" in helpers.reason_codes(verdict)
    (message,) = bad_input_messages(verdict)
    assert message == "gate roc_auc (test_gates.py::test_auc): this metric needs exactly two classes in y_true, found 1: [0]"
    assert helpers.gate_entry(verdict, "test_auc")["outcome"] == "error"
