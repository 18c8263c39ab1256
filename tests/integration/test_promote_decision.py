"""`pytest --promote` decides: better promotes, worse blocks, and the rule is the README's."""

from __future__ import annotations

import pytest

from .conftest import MODES

PROBA = "model.predict_proba(data.X)"


@pytest.mark.parametrize("mode", MODES)
def test_better_candidate_promotes(make_project, helpers, mode):
    project = make_project(candidate="good", baseline="weak")

    result, verdict = project.promote_in_mode(mode)  # under xdist: also serially, verdicts compared

    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*test_gates.py::test_accuracy*accuracy*PASS*", "decision: PROMOTE*"])
    assert verdict["decision"] == "promote"
    assert verdict["reasons"] == []
    gate = helpers.gate_entry(verdict, "test_accuracy")
    assert gate["passed"] is True and gate["outcome"] == "passed"
    assert gate["delta"] > 0.10
    assert gate["ci"]["low"] > 0 and gate["ci"]["low"] <= gate["delta"] <= gate["ci"]["high"]
    assert gate["n"] == 2000
    assert verdict["tests"] == {"passed": 1, "failed": 0, "skipped": 0, "errors": 0}


@pytest.mark.parametrize("mode", MODES)
def test_clearly_worse_candidate_blocks(make_project, helpers, mode):
    tests = "".join(
        [
            helpers.ACCURACY_GATE,
            helpers.gate_source("test_not_worse", 'gate.quality("accuracy", min_delta=-0.01)'),
            # a threshold rule looks at the candidate alone: 0.68 is above 0.6 even though it is worse
            helpers.gate_source("test_above_floor", 'gate.quality("accuracy", threshold=0.6)'),
        ]
    )
    project = make_project(candidate="weak", baseline="good", tests=tests)

    result, verdict = project.promote_in_mode(mode)

    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*gate accuracy failed: rule delta > 0 at 95% confidence: the lower confidence bound of delta is -0.*"
            ", not above 0. candidate 0.6*, baseline 0.8*, delta -0.1* [[]-0.*, -0.*[]] (90% bca interval, 1000 resamples, n=2000)",
            "*test_gates.py::test_accuracy *FAIL*",
            "decision: BLOCK*",
            "*gate_failed*test_accuracy*",
        ]
    )
    assert verdict["decision"] == "block"
    assert helpers.reason_codes(verdict) == ["gate_failed", "gate_failed"]
    superiority = helpers.gate_entry(verdict, "test_accuracy")
    non_inferiority = helpers.gate_entry(verdict, "test_not_worse")
    floor = helpers.gate_entry(verdict, "test_above_floor")
    assert superiority["delta"] < -0.10 and superiority["ci"]["high"] < 0
    assert (superiority["outcome"], non_inferiority["outcome"], floor["outcome"]) == ("failed", "failed", "passed")
    assert verdict["tests"] == {"passed": 1, "failed": 2, "skipped": 0, "errors": 0}


@pytest.mark.parametrize(
    ("min_delta", "ret", "decision", "outcome"),
    [
        pytest.param(-0.01, 0, "promote", "passed", id="non-inferiority-passes"),
        pytest.param(0, 1, "block", "failed", id="superiority-fails"),
    ],
)
def test_identical_candidate(make_project, helpers, min_delta, ret, decision, outcome):
    project = make_project(
        models="toy",
        candidate="good",
        baseline="good",
        tests=helpers.gate_source("test_same", f'gate.quality("accuracy", min_delta={min_delta})'),
    )
    assert (project.path / "models/candidate.pkl").read_bytes() == (project.path / "models/baseline.pkl").read_bytes()

    result = project.run("--promote")

    assert result.ret == ret, result.stdout.str()
    verdict = project.verdict()
    assert verdict["decision"] == decision
    gate = helpers.gate_entry(verdict, "test_same")
    assert gate["outcome"] == outcome
    assert gate["delta"] == 0 and gate["ci"]["low"] == 0 and gate["ci"]["high"] == 0
    assert gate["candidate"] == gate["baseline"]


def test_passing_threshold_gates_higher_and_lower_is_better(make_project, helpers):
    tests = "".join(
        [
            helpers.gate_source("test_accuracy_floor", 'gate.quality("accuracy", threshold=0.8)'),
            helpers.gate_source("test_log_loss_ceiling", 'gate.quality("log_loss", threshold=0.45)', predict=PROBA),
            # lower-is-better: delta is oriented so that positive means better
            helpers.gate_source("test_log_loss_improves", 'gate.quality("log_loss", min_delta=0)', predict=PROBA),
        ]
    )
    project = make_project(models="toy", candidate="good", baseline="weak", tests=tests)

    result = project.run("--promote")

    assert result.ret == 0, result.stdout.str()
    verdict = project.verdict()
    assert verdict["decision"] == "promote"
    floor = helpers.gate_entry(verdict, "test_accuracy_floor")
    ceiling = helpers.gate_entry(verdict, "test_log_loss_ceiling")
    improves = helpers.gate_entry(verdict, "test_log_loss_improves")
    assert floor["rule"] == "accuracy > 0.8 at 95% confidence"
    assert ceiling["rule"] == "log_loss < 0.45 at 95% confidence"
    assert floor["candidate_ci"]["low"] > 0.8
    assert ceiling["candidate"] < 0.45 and ceiling["candidate_ci"]["high"] < 0.45
    assert improves["candidate"] < improves["baseline"]
    assert improves["delta"] == pytest.approx(improves["baseline"] - improves["candidate"])
    assert improves["delta"] > 0 and improves["ci"]["low"] > 0
    assert all(g["outcome"] == "passed" for g in verdict["gates"])


def test_failing_threshold_gates_higher_and_lower_is_better(make_project, helpers):
    tests = "".join(
        [
            helpers.gate_source("test_accuracy_floor", 'gate.quality("accuracy", threshold=0.95)'),
            helpers.gate_source("test_log_loss_ceiling", 'gate.quality("log_loss", threshold=0.25)', predict=PROBA),
            # both rules given: both must hold (delta holds, the threshold does not)
            helpers.gate_source("test_both", 'gate.quality("accuracy", min_delta=0, threshold=0.95)'),
        ]
    )
    project = make_project(models="toy", candidate="good", baseline="weak", tests=tests)

    result = project.run("--promote")

    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*the candidate's lower confidence bound is 0.8*, not above 0.95*",
            "*the candidate's upper confidence bound is 0.3*, not below 0.25*",
        ]
    )
    verdict = project.verdict()
    assert verdict["decision"] == "block"
    assert [g["outcome"] for g in verdict["gates"]] == ["failed", "failed", "failed"]
    both = helpers.gate_entry(verdict, "test_both")
    assert both["rule"] == "delta > 0 and accuracy > 0.95 at 95% confidence"
    assert both["ci"]["low"] > 0  # the delta rule alone would pass
    assert helpers.reason_codes(verdict) == ["gate_failed"] * 3


def test_failing_warn_gate_warns_and_still_promotes(make_project, helpers):
    tests = helpers.ACCURACY_GATE + helpers.gate_source(
        "test_ambitious", 'gate.quality("accuracy", threshold=0.95, severity="warn")'
    )
    project = make_project(models="toy", candidate="good", baseline="weak", tests=tests)

    result = project.run("--promote")

    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*PromoteWarning: warn-only gate failed: gate accuracy failed*",
            "*test_ambitious*FAIL (warn)*",
            "decision: PROMOTE*",
            "*! warning: warn-only gate *test_ambitious failed*",
        ]
    )
    verdict = project.verdict()
    assert verdict["decision"] == "promote"
    assert verdict["reasons"] == []
    assert len(verdict["warnings"]) == 1 and "test_ambitious" in verdict["warnings"][0]
    ambitious = helpers.gate_entry(verdict, "test_ambitious")
    assert (ambitious["severity"], ambitious["outcome"], ambitious["passed"]) == ("warn", "failed", False)
    assert helpers.gate_entry(verdict, "test_accuracy")["outcome"] == "passed"


# --- fail closed: passing gates are not enough ---------------------------------------------------


def test_failing_ordinary_test_blocks_despite_passing_gates(make_project, helpers):
    tests = helpers.ACCURACY_GATE + """
def test_preprocessing():
    assert [1, 2] == [1, 3]

@pytest.fixture
def broken():
    raise RuntimeError("no database")

def test_uses_broken_fixture(broken):
    pass
"""
    project = make_project(models="toy", tests=tests)

    result = project.run("--promote")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1, failed=1, errors=1)
    verdict = project.verdict()
    assert verdict["decision"] == "block"
    assert helpers.reason_codes(verdict) == ["test_failed"]
    assert "test_preprocessing" in verdict["reasons"][0]["message"]
    assert "test_uses_broken_fixture" in verdict["reasons"][0]["message"]
    assert helpers.gate_entry(verdict, "test_accuracy")["outcome"] == "passed"
    assert verdict["tests"] == {"passed": 1, "failed": 1, "skipped": 0, "errors": 1}


def test_collection_error_blocks_despite_passing_gates(make_project, helpers):
    project = make_project(models="toy", tests={"test_gates.py": helpers.ACCURACY_GATE, "test_broken.py": "def test_broken(:\n"})

    result = project.run("--promote", "--continue-on-collection-errors")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    verdict = project.verdict()
    assert verdict["decision"] == "block"
    assert helpers.reason_codes(verdict) == ["collection_error"]
    assert "test_broken.py" in verdict["reasons"][0]["message"]
    assert helpers.gate_entry(verdict, "test_accuracy")["outcome"] == "passed"


def test_skipped_blocking_gate_blocks(make_project, helpers):
    tests = helpers.ACCURACY_GATE + """
@gate.quality("accuracy", min_delta=-0.01)
def test_not_today(promote, dataset):
    pytest.skip("flaky data source")
"""
    project = make_project(models="toy", tests=tests)

    result = project.run("--promote")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    verdict = project.verdict()
    assert verdict["decision"] == "block"
    assert helpers.reason_codes(verdict) == ["gate_skipped"]
    assert "flaky data source" in verdict["reasons"][0]["message"]


def test_nan_interval_is_a_failure_never_a_pass(make_project, helpers):
    # 30 rows with a single positive: many resamples hold no positive, their AUC is undefined (NaN),
    # so the interval is NaN. A rule that any number would satisfy (delta > -1) must still fail.
    import numpy as np

    tests = helpers.gate_source("test_auc", 'gate.quality("roc_auc", min_delta=-1)', predict="model.predict_proba(data.X)", dataset="tiny")
    project = make_project(models="toy", tests=tests)
    X, y = project.artifacts.X, project.artifacts.y
    rows = np.r_[np.flatnonzero(y == 1)[:1], np.flatnonzero(y == 0)[:29]]
    lines = [",".join([*(f"f{i}" for i in range(X.shape[1])), "label"])]
    lines += [",".join([*(repr(float(v)) for v in X[r]), str(int(y[r]))]) for r in rows]
    project.write_bytes("data/tiny.csv", ("\n".join(lines) + "\n").encode())
    project.config_path.write_text(project.config_path.read_text() + "  tiny: {path: data/tiny.csv, target: label}\n")

    result = project.run("--promote")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*the result contains NaN*"])
    verdict = project.verdict()  # still valid JSON: NaN is written as null
    gate = helpers.gate_entry(verdict, "test_auc")
    assert (gate["passed"], gate["outcome"]) == (False, "failed")
    assert gate["ci"]["low"] is None and gate["ci"]["high"] is None
    assert verdict["decision"] == "block"


WARN_GATE_THEN_FAILURE = """
@gate.quality("accuracy", threshold=0.95, severity="warn")
def test_advisory(promote, dataset):
    data = dataset("holdout")
    result = promote.compare(lambda model: model.predict(data.X), data.y)
    assert result.passed, "the team also wants the advisory gate green"
"""

WARN_GATE = """
@gate.quality("accuracy", threshold=0.95, severity="warn")
def test_advisory(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X), data.y)
"""


@pytest.mark.parametrize(
    ("tests", "ini"),
    [
        # the warn gate's own rule fails (a warning), and then the test fails for another reason
        pytest.param(WARN_GATE_THEN_FAILURE, None, id="assertion-after-failing-warn-gate"),
        # a common CI setting: every warning is an error, so the failing warn gate's warning fails the test
        pytest.param(WARN_GATE, "[pytest]\nfilterwarnings =\n    error\n", id="filterwarnings-error"),
    ],
)
def test_failed_warn_gate_test_agrees_with_exit_code(make_project, helpers, tests, ini):
    """Issue 2: promote only if "no test failed or errored"; exit 0 if and only if the decision is promote.

    A warn-only gate whose *test* fails (not just its rule) is a failed test: the run must
    not say "promote" in the verdict while pytest exits 1.
    """
    project = make_project(models="toy", tests=helpers.ACCURACY_GATE + tests)
    if ini:
        project.pytester.makeini(ini)

    result = project.run("--promote")

    result.assert_outcomes(passed=1, failed=1)
    verdict = project.verdict()
    assert verdict["tests"]["failed"] == 1
    assert (verdict["decision"], result.ret) == ("block", pytest.ExitCode.TESTS_FAILED), verdict["reasons"]
