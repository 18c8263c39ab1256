"""Every gate with a closed-form test carries it beside the bootstrap: exact McNemar for accuracy,
DeLong for ROC AUC, a paired t-test for log loss. On a clear difference (good against weak: 17
points of accuracy on 2000 rows) both agree, the verdict has no warning, and it validates
against the shipped schema, serially and under ``-n 2`` with identical numbers."""

from __future__ import annotations

import pytest

from .conftest import MODES

TESTS = """
@gate.quality("accuracy", min_delta=0)
def test_accuracy(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X), data.y, dataset="holdout")

@gate.quality("roc_auc", min_delta=0)
def test_auc(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict_proba(data.X), data.y, dataset="holdout")

@gate.quality("log_loss", min_delta=0)
def test_log_loss(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict_proba(data.X), data.y, dataset="holdout")

@gate.quality("accuracy", threshold=0.8)
def test_accuracy_floor(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X), data.y, dataset="holdout")
"""

EXPECTED_METHOD = {"test_accuracy": "mcnemar_exact", "test_auc": "delong", "test_log_loss": "paired_t"}



@pytest.mark.parametrize("mode", MODES)
def test_cross_checks_agree_on_a_clear_improvement(make_project, helpers, verdict_validator, mode):
    project = make_project(models="toy", candidate="good", baseline="weak", tests=TESTS)

    result, verdict = project.promote_in_mode(mode)

    assert result.ret == 0, result.stdout.str()
    verdict_validator.validate(verdict)
    assert verdict["decision"] == "promote" and verdict["warnings"] == []
    for name, method in EXPECTED_METHOD.items():
        gate = helpers.gate_entry(verdict, name)
        check = gate["cross_check"]
        assert check["method"] == method, name
        assert (check["passes"], check["agrees"]) == (True, True), name
        # the same difference, oriented the same way (positive: the candidate is better)
        assert check["delta"] == pytest.approx(gate["delta"], abs=1e-12), name
        assert check["low"] > 0 and check["low"] <= check["delta"] <= check["high"], name
        assert 0 <= check["p_value"] < 1e-6, name
        # bootstrap and closed form give much the same interval on 2000 rows
        assert check["low"] == pytest.approx(gate["ci"]["low"], abs=0.02), name
        assert check["high"] == pytest.approx(gate["ci"]["high"], abs=0.02), name
    assert helpers.gate_entry(verdict, "test_accuracy")["cross_check"]["se"] is None  # McNemar has no standard error
    assert helpers.gate_entry(verdict, "test_auc")["cross_check"]["se"] > 0
    assert helpers.gate_entry(verdict, "test_log_loss")["cross_check"]["se"] > 0
    # without a delta rule there is nothing for the closed form to judge
    floor = helpers.gate_entry(verdict, "test_accuracy_floor")["cross_check"]
    assert floor["method"] == "mcnemar_exact" and (floor["passes"], floor["agrees"]) == (None, None)


@pytest.mark.parametrize("mode", MODES)
def test_cross_checks_agree_on_a_clear_regression(make_project, helpers, verdict_validator, mode):
    project = make_project(models="toy", candidate="weak", baseline="good", tests=TESTS)

    result, verdict = project.promote_in_mode(mode)

    assert result.ret == 1
    verdict_validator.validate(verdict)
    assert verdict["decision"] == "block"
    assert sorted(helpers.reason_codes(verdict)) == ["gate_failed"] * 4
    assert verdict["warnings"] == []  # failing together is agreement: no warning
    for name, method in EXPECTED_METHOD.items():
        gate = helpers.gate_entry(verdict, name)
        check = gate["cross_check"]
        assert gate["outcome"] == "failed"
        assert (check["method"], check["passes"], check["agrees"]) == (method, False, True), name
        assert check["high"] < 0 and check["delta"] == pytest.approx(gate["delta"], abs=1e-12), name


DISAGREEMENT = """
import numpy as np

@gate.quality("accuracy", min_delta=0, method="percentile")
def test_four_wins(promote, dataset, candidate):
    data = dataset("small")
    flipped = data.y.copy()
    flipped[:4] = 1 - flipped[:4]
    # the candidate is right everywhere, the baseline wrong on 4 of 40 rows, never the other way round
    promote.compare(lambda model: data.y.copy() if model is candidate else flipped, data.y, dataset="small")
"""


def test_disagreement_becomes_a_verdict_warning(make_project, helpers, verdict_validator):
    """4 wins, no loss, 40 rows: a resample misses all four wins with probability 0.9**40 = 1.5% < 5%, so the
    bootstrap bound is above 0; exact McNemar (4 of 4 discordant pairs) cannot exclude 0 at 95%."""
    project = make_project(models="toy", tests=DISAGREEMENT)
    project.use_table("small", "data/small.csv", rows=range(40))

    result = project.run("--promote")

    assert result.ret == 0, result.stdout.str()  # the bootstrap decides; the cross-check only warns
    verdict = project.verdict()
    verdict_validator.validate(verdict)
    gate = helpers.gate_entry(verdict, "test_four_wins")
    check = gate["cross_check"]
    assert gate["outcome"] == "passed" and gate["ci"]["low"] > 0
    assert (check["method"], check["passes"], check["agrees"]) == ("mcnemar_exact", False, False)
    assert check["delta"] == pytest.approx(0.1) and check["low"] < 0
    (warning,) = verdict["warnings"]
    assert warning.startswith("test_gates.py::test_four_wins: the bootstrap and the mcnemar_exact cross-check disagree on the delta rule")
    assert gate["warnings"] == [warning]
