"""Without `--promote`: gates are skipped with a hint, everything else works as usual."""

from __future__ import annotations

import json

TESTS = """
@gate.quality("accuracy", min_delta=0)
def test_decorated_gate(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X), data.y)


@pytest.mark.gate_quality("accuracy", min_delta=0)
def test_marked_gate(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X), data.y)


def test_fixtures_work_without_promote(candidate, baseline, dataset):
    data = dataset("holdout")
    assert data.name == "holdout"
    assert data.X.shape == (2000, 8) and data.y.shape == (2000,) and data.n == 2000
    assert data.columns == tuple(f"f{i}" for i in range(8))
    assert data.sha256 == EXPECTED_SHA
    assert (candidate.predict(data.X) == data.y).mean() > (baseline.predict(data.X) == data.y).mean() + 0.1


def test_plain():
    assert True
"""


def test_gates_are_skipped_and_other_tests_run(make_project):
    project = make_project(models="toy", tests=None)
    project.write_tests(f"EXPECTED_SHA = {project.shas['data/holdout.csv']!r}\n" + TESTS)
    stale = {"decision": "promote", "note": "left by an earlier run"}
    project.verdict_path.write_text(json.dumps(stale))

    result = project.run("-rs")

    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=2, skipped=2)
    result.stdout.fnmatch_lines(
        [
            "SKIPPED [[]1[]] test_gates.py:*: promotion gate: run `pytest --promote` to evaluate it",
            "SKIPPED [[]1[]] test_gates.py:*: promotion gate: run `pytest --promote` to evaluate it",
        ]
    )
    result.stdout.no_fnmatch_line("*decision:*")
    # no verdict is written (the file there is untouched)
    assert json.loads(project.verdict_path.read_text()) == stale


def test_no_verdict_file_without_promote(make_project):
    project = make_project(models="toy", tests="def test_plain():\n    assert True\n")

    result = project.run()

    assert result.ret == 0
    assert not project.verdict_path.exists()
    result.stdout.no_fnmatch_line("*promotion gates*")
