"""``@gate.quality(fn, higher_is_better=...)``: a metric function written in the test file gates like a built-in."""

from __future__ import annotations

import pytest

CUSTOM_GATES = """
import numpy as np


def hit_rate(y_true, y_pred):
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def miss_rate(y_true, y_pred):
    return float(np.mean(np.asarray(y_true) != np.asarray(y_pred)))


@gate.quality(hit_rate, min_delta=0, higher_is_better=True)
def test_hit_rate(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X), data.y, dataset="holdout")


@gate.quality(miss_rate, min_delta=0, higher_is_better=False)
def test_miss_rate(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X), data.y, dataset="holdout")


@gate.quality("accuracy", min_delta=0)
def test_builtin_accuracy(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X), data.y, dataset="holdout")
"""


@pytest.mark.parametrize(
    ("candidate", "baseline", "ret", "decision", "outcome"),
    [
        pytest.param("good", "weak", 0, "promote", "passed", id="better-promotes"),
        pytest.param("weak", "good", 1, "block", "failed", id="worse-blocks"),
    ],
)
def test_custom_metric_gates(make_project, helpers, candidate, baseline, ret, decision, outcome):
    project = make_project(models="toy", candidate=candidate, baseline=baseline, tests=CUSTOM_GATES)

    result = project.run("--promote")

    assert result.ret == ret, result.stdout.str()
    verdict = project.verdict()
    assert verdict["decision"] == decision
    hit = helpers.gate_entry(verdict, "test_hit_rate")
    miss = helpers.gate_entry(verdict, "test_miss_rate")
    builtin = helpers.gate_entry(verdict, "test_builtin_accuracy")
    assert (hit["metric"], hit["engine"], hit["higher_is_better"]) == ("hit_rate", "custom", True)
    assert (miss["metric"], miss["engine"], miss["higher_is_better"]) == ("miss_rate", "custom", False)
    assert builtin["engine"] != "custom"
    assert hit["outcome"] == miss["outcome"] == builtin["outcome"] == outcome
    assert hit["rule"] == "delta > 0 at 95% confidence"
    # the function computes accuracy: same point values as the built-in; lower-is-better is oriented
    assert (hit["candidate"], hit["baseline"]) == pytest.approx((builtin["candidate"], builtin["baseline"]))
    assert miss["candidate"] == pytest.approx(1 - builtin["candidate"])
    assert miss["delta"] == pytest.approx(builtin["delta"])
    assert abs(hit["delta"]) > 0.1 and hit["delta"] * (1 if outcome == "passed" else -1) > 0
    assert hit["cross_check"] is None  # no closed form for a user's function
    if outcome == "failed":
        assert sorted(helpers.reason_codes(verdict)) == ["gate_failed"] * 3
        result.stdout.fnmatch_lines(["*gate hit_rate failed: rule delta > 0 at 95% confidence*"])


RAISING = """
import numpy as np


def picky_score(y_true, y_pred):
    score = float(np.mean(y_true == y_pred))
    if score < 0.78:
        raise ValueError(f"refusing to score a model this weak ({score:.2f})")
    return score


@gate.quality(picky_score, min_delta=-0.5, higher_is_better=True)
def test_picky(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X), data.y, dataset="holdout")
"""


def test_custom_metric_that_raises_is_bad_input(make_project, helpers):
    # the candidate (good, 0.85) scores; the baseline (weak, 0.68) makes the function raise
    project = make_project(models="toy", candidate="good", baseline="weak", tests=RAISING)

    result = project.run("--promote")

    assert result.ret == 1
    result.assert_outcomes(failed=1)
    verdict = project.verdict()
    assert verdict["decision"] == "block"
    assert "bad_input" in helpers.reason_codes(verdict)
    (message,) = [r["message"] for r in verdict["reasons"] if r["code"] == "bad_input"]
    assert "custom metric picky_score raised ValueError on the baseline's predictions: refusing to score a model this weak (0.6" in message
    assert "test_gates.py::test_picky" in message
    gate = helpers.gate_entry(verdict, "test_picky")
    assert (gate["outcome"], gate["passed"], gate["metric"]) == ("error", False, "picky_score")
    assert "Traceback" not in result.stdout.str()


MISSING_DIRECTION = """
def hit_rate(y_true, y_pred):
    return float((y_true == y_pred).mean())


@gate.quality(hit_rate, min_delta=0)
def test_no_direction(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X), data.y, dataset="holdout")
"""


def test_custom_metric_without_higher_is_better_is_a_gate_error(make_project, helpers):
    project = make_project(models="toy", tests=MISSING_DIRECTION)

    result = project.run("--promote")

    assert result.ret == 1
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*a custom metric function needs higher_is_better=True or False*"])
    verdict = project.verdict()
    assert verdict["decision"] == "block"
    assert helpers.reason_codes(verdict) == ["gate_error"]
    assert "higher_is_better" in verdict["reasons"][0]["message"]
    gate = helpers.gate_entry(verdict, "test_no_direction")
    assert (gate["outcome"], gate["metric"]) == ("error", "hit_rate")
