"""Where CI systems look: JUnit properties, a Markdown summary, GitHub annotations, worker crashes."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

import pytest

from .conftest import ACCURACY_GATE, LOG_LOSS_GATE, MODES, XDIST


def properties(element: ET.Element) -> dict[str, str]:
    return {prop.get("name"): prop.get("value") for prop in element.iter("property")}


@pytest.mark.parametrize("mode", MODES)
def test_junit_carries_each_gates_numbers_and_the_decision(make_project, helpers, mode):
    project = make_project(models="toy", tests=ACCURACY_GATE + LOG_LOSS_GATE + "\ndef test_plain():\n    assert True\n")

    result = project.run("--promote", "--junitxml=junit.xml", *mode)

    assert result.ret == 0, result.stdout.str()
    tree = ET.parse(project.path / "junit.xml")
    suite = tree.getroot().find("testsuite")
    assert properties(suite.find("properties")) == {"promote.decision": "promote"}
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    gate = helpers.gate_entry(project.verdict(), "test_accuracy")
    assert properties(cases["test_accuracy"]) == {
        "promote.kind": "quality", "promote.metric": "accuracy", "promote.candidate": str(gate["candidate"]),
        "promote.baseline": str(gate["baseline"]), "promote.delta": str(gate["delta"]), "promote.ci_low": str(gate["ci"]["low"]),
        "promote.ci_high": str(gate["ci"]["high"]), "promote.passed": "true",
    }  # fmt: skip
    assert properties(cases["test_log_loss"])["promote.metric"] == "log_loss"
    assert cases["test_plain"].find("properties") is None  # not a gate: no promote properties


def test_a_blocked_run_says_so_in_junit(make_project):
    project = make_project(models="toy", candidate="weak", baseline="good")

    assert project.run("--promote", "--junitxml=junit.xml").ret == 1

    suite = ET.parse(project.path / "junit.xml").getroot().find("testsuite")
    assert properties(suite.find("properties"))["promote.decision"] == "block"
    case = next(case for case in suite.iter("testcase") if case.get("name") == "test_accuracy")
    assert properties(case)["promote.passed"] == "false"


def test_markdown_summary_to_a_file_and_to_the_github_step_summary(make_project, monkeypatch):
    project = make_project(models="toy", candidate="weak", baseline="good")
    step_summary = project.path / "step_summary.md"
    step_summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))

    result = project.run("--promote", "--promote-markdown", "reports/summary.md")

    assert result.ret == 1
    text = (project.path / "reports" / "summary.md").read_text()
    assert text.startswith("## pytest-promote: ❌ BLOCK\n")
    assert "- `gate_failed`: test_gates.py::test_accuracy: the lower confidence bound of delta is -" in text
    row = next(line for line in text.splitlines() if "test_gates.py::test_accuracy" in line and line.startswith("| ❌"))
    assert "| accuracy |" in row and "delta > 0 at 95% confidence" in row
    assert step_summary.read_text() == "earlier step\n" + text  # appended, the earlier step's summary kept


def test_github_annotations_point_at_the_failing_gate(make_project, monkeypatch):
    project = make_project(models="toy", candidate="weak", baseline="good", tests=ACCURACY_GATE + LOG_LOSS_GATE.replace("min_delta", 'severity="warn", min_delta'))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    source = (project.path / "test_gates.py").read_text().splitlines()
    # the gate's first line, as pytest reports it: its @gate decorator
    line = 1 + next(i for i, text in enumerate(source) if text.startswith('@gate.quality("accuracy"'))

    result = project.run("--promote")

    assert result.ret == 1
    errors = [text for text in result.stdout.lines if text.startswith("::error ")]
    warnings = [text for text in result.stdout.lines if text.startswith("::warning ")]
    assert len(errors) == 1 and len(warnings) == 1
    assert errors[0].startswith(f"::error file=test_gates.py,line={line},title=promotion gate failed::test_gates.py::test_accuracy failed: ")
    assert "test_log_loss" in warnings[0]


def test_no_annotations_outside_github_actions(make_project, monkeypatch):
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    project = make_project(models="toy", candidate="weak", baseline="good")

    result = project.run("--promote")

    assert not [text for text in result.stdout.lines if text.startswith("::")]


def test_a_report_that_cannot_be_written_blocks(make_project, helpers, tmp_path):
    if os.geteuid() == 0:
        target = "/proc/pytest-promote-cannot-write-here/summary.md"  # root writes anywhere else
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = str(locked / "summary.md")
    project = make_project(models="toy")

    result = project.run("--promote", "--promote-markdown", target)

    assert result.ret == 1
    verdict = project.verdict()
    assert helpers.reason_codes(verdict) == ["report_error"]
    assert verdict["reasons"][0]["message"].startswith(f"{target}: the report could not be written")


@pytest.mark.skipif(not XDIST, reason="needs pytest-xdist")
def test_a_crashed_worker_blocks_naming_the_lost_test(make_project, helpers):
    crash = "\nimport os\n\ndef test_crash():\n    os._exit(3)\n"
    project = make_project(models="toy", tests=ACCURACY_GATE + crash)

    result = project.run("--promote", *XDIST)

    assert result.ret != 0
    verdict = project.verdict()
    assert verdict["decision"] == "block"
    crashed = [reason for reason in verdict["reasons"] if reason["code"] == "worker_crashed"]
    assert crashed and "test_gates.py::test_crash" in crashed[0]["message"]
    assert helpers.gate_entry(verdict, "test_accuracy")["outcome"] == "passed"  # the other worker's gate still counted


def test_html_report_beside_the_verdict(make_project, helpers):
    project = make_project(models="toy", tests=ACCURACY_GATE + LOG_LOSS_GATE)
    stale = project.path / "report.html"
    stale.write_text("<h1>PROMOTE</h1> from an earlier run")

    result = project.run("--promote", "--promote-html", "report.html", "--promote-verdict", "out/verdict.json")

    assert result.ret == 0, result.stdout.str()
    page = stale.read_text()
    assert "from an earlier run" not in page and page.lstrip().lower().startswith("<!doctype html>")
    verdict = project.verdict(project.path / "out" / "verdict.json")
    assert page.count('class="interval"') == len(verdict["gates"]) == 2
    for gate in verdict["gates"]:
        assert f'data-gate="{gate["id"]}"' in page
