"""Markdown summary, GitHub annotations and JUnit properties rendered from verdict dicts."""

from __future__ import annotations

from pytest_promote.verdict.ci import github_annotations, junit_properties, markdown_summary


def quality(**fields) -> dict:
    entry = {"id": "t.py::test_acc", "kind": "quality", "metric": "accuracy", "rule": "delta > 0 at 95% confidence", "candidate": 0.9,
             "baseline": 0.8, "delta": 0.1, "ci": {"low": 0.05, "high": 0.15}, "candidate_ci": None, "threshold": None,
             "passed": True, "outcome": "passed", "severity": "block", "message": None}  # fmt: skip
    entry.update(fields)
    return entry


def latency(**fields) -> dict:
    summary = {"p50_ms": 1.0, "p95_ms": 1.2, "p99_ms": 1.3, "mean_ms": 1.0, "sd_ms": 0.1, "min_ms": 0.9, "max_ms": 1.4, "samples": 200,
               "outliers": 3, "throughput_per_s": None}  # fmt: skip
    entry = {"id": "t.py::test_p95", "kind": "latency", "metric": "p95_latency_ms", "rule": "ratio <= 1.1", "candidate": 1.2,
             "baseline": 1.1, "delta": None, "ci": None, "passed": False, "outcome": "failed", "severity": "block",
             "message": "ratio 1.3 above 1.1", "candidate_ci": {"low": 1.1, "high": 1.3},
             "latency": {"candidate": summary, "baseline": summary, "budget_bound_ms": 1.4, "ratio": {"estimate": 1.09, "low": 1.0, "high": 1.3}}}  # fmt: skip
    entry.update(fields)
    return entry


def verdict(gates, decision="block", reasons=({"code": "gate_failed", "message": "t.py::test_p95: ratio | 1.3\nabove"},), warnings=()):
    return {"decision": decision, "reasons": list(reasons), "warnings": list(warnings), "gates": list(gates)}


def test_markdown_has_the_decision_reasons_and_one_row_per_gate() -> None:
    text = markdown_summary(verdict([quality(), latency()], warnings=["a warning"]))
    lines = text.splitlines()
    assert lines[0] == "## pytest-promote: ❌ BLOCK"
    assert "- `gate_failed`: t.py::test_p95: ratio \\| 1.3 above" in lines  # one line, pipes escaped
    assert "- a warning" in lines
    rows = [line for line in lines if line.startswith("| ") and "t.py::" in line]
    assert rows[0] == "| ✅ passed | `t.py::test_acc` | accuracy | 0.9000 | 0.8000 | +0.1000 [+0.0500, +0.1500] | delta > 0 at 95% confidence |"
    assert rows[1].startswith("| ❌ failed | `t.py::test_p95` | p95_latency_ms | 1.2 ms [<= 1.4 ms] | 1.1 ms | ratio 1.0900 [1.0000, 1.3000] |")
    assert markdown_summary(verdict([], decision="promote", reasons=())).splitlines()[-1] == "No promotion gate ran."


def test_annotations_only_for_gates_that_did_not_pass_and_escaped() -> None:
    gates = [quality(), latency(message="50% slower\nsee: report"), quality(id="t.py::test_warn", outcome="failed", severity="warn")]
    lines = github_annotations(verdict(gates), {"t.py::test_p95": ("tests/t,1.py", 12), "t.py::test_warn": ("t.py", 3), "t.py::test_acc": ("t.py", 1)})
    assert lines == [
        "::error file=tests/t%2C1.py,line=12,title=promotion gate failed::t.py::test_p95 failed: 50%25 slower%0Asee: report",
        "::warning file=t.py,line=3,title=promotion gate failed::t.py::test_warn failed: failed",
    ]


def test_junit_properties_per_kind() -> None:
    assert dict(junit_properties(quality())) == {
        "promote.kind": "quality", "promote.metric": "accuracy", "promote.candidate": "0.9", "promote.baseline": "0.8",
        "promote.delta": "0.1", "promote.ci_low": "0.05", "promote.ci_high": "0.15", "promote.passed": "true",
    }  # fmt: skip
    props = dict(junit_properties(latency()))
    assert (props["promote.delta"], props["promote.ci_low"], props["promote.ci_high"], props["promote.passed"]) == ("1.09", "1.0", "1.3", "false")
    unmeasured = dict(junit_properties({"kind": "cost", "metric": "cost", "passed": False}))
    assert unmeasured["promote.candidate"] == "" and unmeasured["promote.ci_low"] == ""
