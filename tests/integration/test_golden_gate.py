"""``@gate.golden``: the candidate must reproduce a reviewed JSONL file of input/expected-output cases.

Expected outputs are computed here from the same toy model the subprocess loads, so every
case matches exactly unless a test perturbs it; tolerance edges are placed relative to
``numpy.isclose``'s rule ``|actual - expected| <= atol + rtol * |expected|``.
"""

from __future__ import annotations

import json
import pickle

import pytest

from .conftest import MODES

GOLDEN_GATE = """
@gate.golden("golden/cases.jsonl", atol={atol}, rtol={rtol})
def test_golden(promote):
    promote.check_golden(lambda model, inputs: model.predict_proba(inputs))
"""

CASES = 25


def golden_cases(project, count: int = CASES) -> list[dict]:
    """``count`` cases: one hold-out row each, expected = the candidate's (toy "good") probabilities."""
    model = pickle.loads(project.artifacts.models["toy"]["good"])
    cases = []
    for i in range(count):
        row = [float(v) for v in project.artifacts.X[i]]
        cases.append({"id": f"row-{i}", "input": [row], "expected": model.predict_proba([row]).tolist()})
    return cases


def write_cases(project, cases: list[dict], relative: str = "golden/cases.jsonl") -> None:
    path = project.path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(case) + "\n" for case in cases))


def golden_project(make_project, atol: float = 1e-6, rtol: float = 0.0):
    project = make_project(models="toy", candidate="good", baseline="weak", tests=GOLDEN_GATE.format(atol=atol, rtol=rtol))
    return project, golden_cases(project)


def test_matching_cases_pass_and_the_verdict_counts_them(make_project, helpers, verdict_validator):
    project, cases = golden_project(make_project)
    write_cases(project, cases)

    result = project.run("--promote")

    assert result.ret == 0, result.stdout.str()
    verdict = project.verdict()
    verdict_validator.validate(verdict)
    entry = helpers.gate_entry(verdict, "test_golden")
    golden = entry["golden"]
    assert (entry["kind"], entry["outcome"], entry["n"]) == ("golden", "passed", CASES)
    assert (golden["cases"], golden["passed"], golden["failed"], golden["failing_ids"]) == (CASES, CASES, 0, [])
    assert golden["sha256"] == helpers.sha256_path(project.path / "golden/cases.jsonl")
    assert golden["updated"] is False
    result.stdout.fnmatch_lines([f"*test_golden*golden*{CASES}/{CASES} cases match*PASS"])


@pytest.mark.parametrize("mode", MODES)
def test_golden_and_cost_gates_agree_under_xdist(make_project, helpers, mode):
    project, cases = golden_project(make_project)
    cases[4]["expected"][0][0] += 1.0
    write_cases(project, cases)
    cost = '''
@gate.cost(max_ratio=1.0)
def test_tokens(promote):
    promote.record_cost("tokens", candidate=120, baseline=100, unit="tokens")
'''
    (project.path / "test_cost.py").write_text("from pytest_promote import gate\n" + cost)

    result, verdict = project.promote_in_mode(mode)  # under xdist: also serially, verdicts compared

    assert result.ret == 1
    assert helpers.gate_entry(verdict, "test_golden")["golden"]["failing_ids"] == ["row-4"]
    assert helpers.gate_entry(verdict, "test_tokens")["cost"]["ratio"] == 1.2
    assert sorted(helpers.reason_codes(verdict)) == ["gate_failed", "gate_failed"]


def test_every_failing_case_is_listed(make_project, helpers):
    project, cases = golden_project(make_project)
    for i in (3, 11, 20):
        cases[i]["expected"][0][1] += 0.01
    write_cases(project, cases)

    result = project.run("--promote")

    assert result.ret == 1
    entry = helpers.gate_entry(project.verdict(), "test_golden")
    assert entry["outcome"] == "failed"
    assert entry["golden"]["failing_ids"] == ["row-3", "row-11", "row-20"]
    assert (entry["golden"]["passed"], entry["golden"]["failed"]) == (CASES - 3, 3)
    assert helpers.reason_codes(project.verdict()) == ["gate_failed"]
    result.stdout.fnmatch_lines(
        [
            "*3 of 25 golden cases failed*",
            "*row-3*max abs diff 0.01*",
            "*row-11*",
            "*row-20*",
        ]
    )
    result.stdout.fnmatch_lines(["*failing golden cases: 'row-3', 'row-11', 'row-20'"])


@pytest.mark.parametrize(
    ("atol", "rtol", "shift", "passes"),
    [
        pytest.param(1e-4, 0.0, 0.9e-4, True, id="atol-just-inside"),
        pytest.param(1e-4, 0.0, 1.1e-4, False, id="atol-just-outside"),
        pytest.param(0.0, 1e-3, 0.9e-3, True, id="rtol-just-inside"),
        pytest.param(0.0, 1e-3, 1.1e-3, False, id="rtol-just-outside"),
    ],
)
def test_tolerance_edges_follow_numpy_isclose(make_project, helpers, atol, rtol, shift, passes):
    import numpy as np

    project, cases = golden_project(make_project, atol=atol, rtol=rtol)
    actual = cases[0]["expected"][0][1]
    # an absolute shift for atol; a relative one (of the expected value) for rtol
    expected = actual + shift if rtol == 0 else actual / (1 - shift)
    assert bool(np.isclose(actual, expected, atol=atol, rtol=rtol)) is passes  # the independent reference
    cases[0]["expected"][0][1] = expected
    write_cases(project, cases)

    result = project.run("--promote")

    assert result.ret == (0 if passes else 1), result.stdout.str()
    assert helpers.gate_entry(project.verdict(), "test_golden")["golden"]["failing_ids"] == ([] if passes else ["row-0"])


def test_update_rewrites_expected_outputs_and_blocks_until_reviewed(make_project, helpers, verdict_validator):
    project, cases = golden_project(make_project)
    stale = [dict(case, expected=[[0.5, 0.5]]) for case in cases[:7]] + cases[7:]
    stale[0]["note"] = "kept on update"
    write_cases(project, stale)
    before = helpers.sha256_path(project.path / "golden/cases.jsonl")

    updated = project.run("--promote", "--promote-update-golden")

    assert updated.ret == 1, updated.stdout.str()
    verdict = project.verdict()
    verdict_validator.validate(verdict)
    entry = helpers.gate_entry(verdict, "test_golden")
    after = helpers.sha256_path(project.path / "golden/cases.jsonl")
    assert entry["outcome"] == "updated"
    assert (entry["golden"]["updated"], entry["golden"]["changed"], entry["golden"]["cases"]) == (True, 7, CASES)
    assert (entry["golden"]["previous_sha256"], entry["golden"]["sha256"]) == (before, after)
    assert helpers.reason_codes(verdict) == ["golden_updated"]
    updated.stdout.fnmatch_lines(
        ["*PromoteWarning: *golden file * regenerated from the candidate: 7 of 25 case(s) changed*", "*- golden_updated: *7 of 25*"]
    )
    rewritten = [json.loads(line) for line in (project.path / "golden/cases.jsonl").read_text().splitlines()]
    assert [case["id"] for case in rewritten] == [case["id"] for case in cases]
    assert [case["input"] for case in rewritten] == [case["input"] for case in cases]
    assert rewritten[0]["note"] == "kept on update"
    assert [case["expected"] for case in rewritten] == [case["expected"] for case in cases]  # same model, same floats

    rerun = project.run("--promote")

    assert rerun.ret == 0, rerun.stdout.str()
    assert helpers.gate_entry(project.verdict(), "test_golden")["outcome"] == "passed"


def test_a_missing_golden_file_says_how_to_create_one(make_project, helpers):
    project, _ = golden_project(make_project)

    result = project.run("--promote")

    assert result.ret == 1
    assert helpers.reason_codes(project.verdict()) == ["golden_error", "gate_error"]  # the cause, and the gate it stopped
    result.stdout.fnmatch_lines(["*[[]golden_error[]] golden file 'golden/cases.jsonl' not found*", "*--promote-update-golden*"])


def test_a_malformed_line_is_named_by_file_and_line(make_project, helpers):
    project, cases = golden_project(make_project)
    write_cases(project, cases[:4])
    path = project.path / "golden/cases.jsonl"
    path.write_text(path.read_text() + '{"id": "broken", "input": [[1, 2]\n')

    result = project.run("--promote")

    assert result.ret == 1
    reason = project.verdict()["reasons"][0]
    assert reason["code"] == "golden_error" and "cases.jsonl" in reason["message"] and "line 5" in reason["message"]


def test_a_golden_path_resolves_next_to_the_test_file_first(make_project, helpers):
    project, cases = golden_project(make_project)
    (project.path / "suite").mkdir()
    (project.path / "test_gates.py").rename(project.path / "suite" / "test_gates.py")
    write_cases(project, cases, "suite/golden/cases.jsonl")  # next to the test
    write_cases(project, [dict(case, expected=[[0.0, 1.0]]) for case in cases])  # under the rootdir: would fail

    result = project.run("--promote")

    assert result.ret == 0, result.stdout.str()
    entry = helpers.gate_entry(project.verdict(), "test_golden")
    assert entry["golden"]["path"] == str(project.path / "suite" / "golden" / "cases.jsonl")


def test_update_golden_needs_promote(make_project):
    project, cases = golden_project(make_project)
    write_cases(project, cases)

    result = project.run("--promote-update-golden")

    assert result.ret == 4
    result.stderr.fnmatch_lines(["*--promote-update-golden rewrites golden files from the candidate; it needs --promote*"])


@pytest.mark.parametrize("broken", [False, True])
def test_golden_inputs_meet_a_datasets_contract(make_project, helpers, broken):
    project, cases = golden_project(make_project)
    project.write_tests(GOLDEN_GATE.format(atol=1e-6, rtol='0, schema="holdout"'))
    schema = {name: {"type": "float", "min": -20, "max": 20} for name in helpers.FEATURES}
    schema["label"] = {"type": "int", "allowed": [0, 1]}
    project.update_config({"datasets": {"holdout": {"schema": schema}}})
    if broken:
        cases[2]["input"][0][0] = 99.0
        cases[5]["input"][0][3] = "high"
    write_cases(project, cases)

    result = project.run("--promote")

    if not broken:
        assert result.ret == 0, result.stdout.str()
        return
    assert result.ret == 1
    reason = project.verdict()["reasons"][0]
    assert reason["code"] == "contract_violation"
    assert "2 case(s) break the contract of dataset 'holdout'" in reason["message"]
    assert "case 'row-2' (line 3) input violates its contract" in reason["message"] and "above max 20" in reason["message"]
    assert "case 'row-5' (line 6) input" in reason["message"] and "'high'" in reason["message"]
