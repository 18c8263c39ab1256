"""The gate API as a user writes it: markers, promote.compare, and the terminal table."""

from __future__ import annotations

import pytest

INVALID_MARKERS = {
    "unknown-metric": (
        'gate.quality("accuracyy", min_delta=0)',
        "unknown metric 'accuracyy' (available: accuracy, average_precision, balanced_accuracy, brier, f1",
    ),
    "no-rule": ('gate.quality("accuracy")', "gate.quality needs min_delta=, threshold=, or both"),
    "alpha-half": ('gate.quality("accuracy", min_delta=0, alpha=0.5)', "alpha must lie strictly between 0 and 0.5, got 0.5"),
    "alpha-zero": ('gate.quality("accuracy", min_delta=0, alpha=0)', "alpha must lie strictly between 0 and 0.5, got 0"),
    "unknown-severity": (
        'gate.quality("accuracy", min_delta=0, severity="fatal")',
        "severity must be one of block, warn, got 'fatal'",
    ),
    "marker-form": ('pytest.mark.gate_quality("accuracy", min_delta=0, severity="fatal")', "severity must be one of block, warn"),
}


def test_invalid_marker_arguments_fail_their_gates(make_project, helpers):
    # one run: each invalid gate must fail on its own, with its own message and its own blocking reason;
    # a valid, passing gate beside them shows the plugin still works for the rest
    names = {case: "test_" + case.replace("-", "_") for case in INVALID_MARKERS}
    tests = helpers.ACCURACY_GATE + "".join(helpers.gate_source(names[case], marker) for case, (marker, _) in INVALID_MARKERS.items())
    project = make_project(models="toy", tests=tests)

    result = project.run("--promote")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) + outcomes.get("errors", 0) == len(INVALID_MARKERS), outcomes
    assert outcomes.get("passed") == 1, outcomes
    verdict = project.verdict()
    assert verdict["decision"] == "block"
    assert helpers.gate_entry(verdict, "test_accuracy")["outcome"] == "passed"
    for case, (_, message) in INVALID_MARKERS.items():
        name = names[case]
        result.stdout.fnmatch_lines([f"*{name}*{message}*"])
        entry = helpers.gate_entry(verdict, name)
        assert entry["passed"] is False and entry["outcome"] == "error", case
        blocking = [r["code"] for r in verdict["reasons"] if f"::{name}:" in r["message"]]
        assert blocking == ["gate_error"], (case, verdict["reasons"])


def test_compare_called_twice_fails(make_project, helpers):
    tests = """
@gate.quality("accuracy", min_delta=0)
def test_twice(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X), data.y)
    promote.compare(lambda model: model.predict(data.X), data.y)
"""
    project = make_project(models="toy", tests=tests)

    result = project.run("--promote")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*test_twice: promote.compare() was called twice; a gate makes exactly one measurement*"])
    verdict = project.verdict()
    assert verdict["decision"] == "block"
    assert helpers.gate_entry(verdict, "test_twice")["outcome"] == "error"


def test_gate_that_measures_nothing_fails(make_project, helpers):
    tests = """
@gate.quality("accuracy", min_delta=0)
def test_forgot_to_compare(promote, dataset):
    dataset("holdout")
"""
    project = make_project(models="toy", tests=tests)

    result = project.run("--promote")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*test_forgot_to_compare: the gate measured nothing: call promote.compare(...) exactly once*"])
    verdict = project.verdict()
    assert verdict["decision"] == "block"
    entry = helpers.gate_entry(verdict, "test_forgot_to_compare")
    assert entry["outcome"] == "error" and entry["passed"] is False and entry["ci"] is None


def test_promote_fixture_outside_a_gate_fails(make_project):
    project = make_project(models="toy", tests="def test_not_a_gate(promote):\n    pass\n")

    result = project.run("--promote")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*the promote fixture belongs to gate tests; mark the test with @gate.quality(...)*"])


def test_pytest_mark_gate_quality_works_like_gate_quality(make_project, helpers):
    tests = helpers.gate_source("test_decorator", 'gate.quality("accuracy", min_delta=0.05, alpha=0.01)') + helpers.gate_source(
        "test_marker", 'pytest.mark.gate_quality("accuracy", min_delta=0.05, alpha=0.01)'
    )
    project = make_project(models="toy", tests=tests)

    result = project.run("--promote", "--strict-markers", "-W", "error::pytest.PytestUnknownMarkWarning")

    assert result.ret == 0, result.stdout.str()
    verdict = project.verdict()
    decorator, marker = helpers.gate_entry(verdict, "test_decorator"), helpers.gate_entry(verdict, "test_marker")
    same = ("kind", "metric", "rule", "min_delta", "threshold", "alpha", "severity", "candidate", "baseline", "delta", "n", "outcome")
    assert {key: decorator[key] for key in same} == {key: marker[key] for key in same}
    assert decorator["rule"] == "delta > 0.05 at 99% confidence"
    assert decorator["seed"] != marker["seed"]  # each gate has its own seed, from its node id


def test_gate_marker_is_registered(pytester):
    result = pytester.runpytest_subprocess("--markers")

    assert result.ret == 0
    result.stdout.fnmatch_lines(["@pytest.mark.gate_quality(metric, *, min_delta=None, threshold=None, alpha=None, severity='block', method=None, higher_is_better=None, slice_by=None, min_slice_size=100, max_slice_gap=None)*"])


def test_terminal_table_shows_every_gate_and_the_decision(make_project, helpers):
    tests = helpers.gate_source("test_better", 'gate.quality("accuracy", min_delta=0)') + helpers.gate_source(
        "test_much_better", 'gate.quality("accuracy", min_delta=0.5)'
    )
    project = make_project(models="toy", tests=tests)

    result = project.run("--promote")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    verdict = project.verdict()

    def row(name: str, label: str) -> str:
        g = helpers.gate_entry(verdict, name)
        interval = f"{g['delta']:+.4f} [[]{g['ci']['low']:+.4f}, {g['ci']['high']:+.4f}[]]"
        return f"{g['id']}  *{g['metric']}  *{g['candidate']:.4f}*  {g['baseline']:.4f}  *{interval}  *{g['rule']}  *{label}"

    result.stdout.fnmatch_lines(
        [
            "*= promotion gates =*",
            row("test_better", "PASS"),
            row("test_much_better", "FAIL"),
            "",
            f"decision: BLOCK  (verdict: {project.verdict_path})",
            "  - gate_failed: test_gates.py::test_much_better: the lower confidence bound of delta is *, not above 0.5",
        ]
    )


def test_alpha_defaults_to_the_config_and_the_marker_overrides_it(make_project, helpers):
    tests = helpers.gate_source("test_default_alpha", 'gate.quality("accuracy", min_delta=0)') + helpers.gate_source(
        "test_own_alpha", 'gate.quality("accuracy", min_delta=0, alpha=0.01)'
    )
    project = make_project(models="toy", tests=tests, config={"alpha": 0.1})

    result = project.run("--promote")

    assert result.ret == 0, result.stdout.str()
    verdict = project.verdict()
    default, own = helpers.gate_entry(verdict, "test_default_alpha"), helpers.gate_entry(verdict, "test_own_alpha")
    assert (default["alpha"], default["rule"]) == (0.1, "delta > 0 at 90% confidence")
    assert default["ci"]["confidence"] == pytest.approx(0.8)
    assert (own["alpha"], own["rule"]) == (0.01, "delta > 0 at 99% confidence")
    assert own["ci"]["confidence"] == pytest.approx(0.98)
    # a wider interval at the higher confidence: the lower bound the rule uses is lower
    assert own["ci"]["low"] < default["ci"]["low"]


COMPARE_RETURNS = """
import json

@gate.quality("accuracy", min_delta=0)
def test_returns(promote, dataset):
    data = dataset("holdout")
    result = promote.compare(lambda model: model.predict(data.X), data.y)
    with open("returned-block.json", "w") as stream:
        json.dump({k: getattr(result, k) for k in ("candidate", "baseline", "delta", "low", "high", "passed")}, stream)

@gate.quality("accuracy", threshold=0.99, severity="warn")
def test_warn_returns(promote, dataset):
    data = dataset("holdout")
    result = promote.compare(lambda model: model.predict(data.X), data.y)  # a warn gate does not raise
    with open("returned-warn.json", "w") as stream:
        json.dump({k: getattr(result, k) for k in ("candidate", "baseline", "delta", "low", "high", "passed")}, stream)
"""


def test_compare_returns_the_result_the_verdict_records(make_project, helpers):
    import json

    project = make_project(models="toy", tests=COMPARE_RETURNS)

    result = project.run("--promote")

    assert result.ret == 0, result.stdout.str()
    verdict = project.verdict()
    for name, file in (("test_returns", "returned-block.json"), ("test_warn_returns", "returned-warn.json")):
        returned = json.loads((project.path / file).read_text())
        entry = helpers.gate_entry(verdict, name)
        recorded = {
            "candidate": entry["candidate"],
            "baseline": entry["baseline"],
            "delta": entry["delta"],
            "low": entry["ci"]["low"],
            "high": entry["ci"]["high"],
            "passed": entry["passed"],
        }
        assert returned == recorded, name
    assert json.loads((project.path / "returned-warn.json").read_text())["passed"] is False
