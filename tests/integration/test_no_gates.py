"""Fail closed: a `--promote` session without a blocking gate never promotes."""

from __future__ import annotations

import pytest

PLAIN_TEST = """
def test_plain():
    assert 1 + 1 == 2
"""


def test_session_without_gates_blocks_with_no_gates(make_project, helpers):
    project = make_project(tests=PLAIN_TEST)

    result = project.run("--promote")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*1 passed*"])
    result.stdout.fnmatch_lines(["no promotion gates ran", "decision: BLOCK*", "  - no_gates: no blocking promotion gate was collected*"])
    verdict = project.verdict()
    assert verdict["decision"] == "block"
    assert helpers.reason_codes(verdict) == ["no_gates"]
    assert verdict["gates"] == []
    assert verdict["tests"]["passed"] == 1


def test_session_with_no_tests_at_all_blocks(make_project, helpers):
    project = make_project(tests=None)

    result = project.run("--promote")

    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    verdict = project.verdict()
    assert verdict["decision"] == "block"
    assert helpers.reason_codes(verdict) == ["no_gates"]


def test_only_warn_gates_is_no_gates(make_project, helpers):
    # the warn-only gate passes: still nothing blocking was checked, so nothing may be promoted
    project = make_project(
        models="toy",
        tests=helpers.gate_source("test_advisory", 'gate.quality("accuracy", min_delta=0, severity="warn")'),
    )

    result = project.run("--promote")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*test_advisory*PASS*", "decision: BLOCK*", "*no_gates*only 1 warn-only gate(s)*"])
    verdict = project.verdict()
    assert verdict["decision"] == "block"
    assert helpers.reason_codes(verdict) == ["no_gates"]
    assert helpers.gate_entry(verdict, "test_advisory")["outcome"] == "passed"
