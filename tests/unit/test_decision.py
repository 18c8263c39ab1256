"""The fail-closed decision and how test reports become gate outcomes and counts."""

from __future__ import annotations

import pytest

from pytest_promote.verdict import Decision, Reason, VerdictCollector, decide, gate_outcome
from pytest_promote.verdict import TestCounts as Counts  # aliased: pytest would try to collect Test* names
from pytest_promote.verdict import TestPhase as Phase


def entry(node_id: str = "t.py::test_gate", outcome: str = "passed", severity: str = "block", message: str | None = None) -> dict:
    return {"id": node_id, "outcome": outcome, "severity": severity, "message": message}


def codes(decision: Decision) -> list[str]:
    return [reason.code for reason in decision.reasons]


# --- decide() --------------------------------------------------------------------------------


def test_promote_when_every_blocking_gate_passed() -> None:
    decision = decide([entry("a"), entry("b")], [], interrupted=False)
    assert decision.decision == "promote"
    assert decision.reasons == [] and decision.warnings == []


def test_one_failed_blocking_gate_blocks() -> None:
    decision = decide([entry("a"), entry("b", "failed", message="lower bound -0.01 not above 0")], [], interrupted=False)
    assert decision.decision == "block"
    assert decision.reasons == [Reason("gate_failed", "b: lower bound -0.01 not above 0")]


def test_no_gates_blocks() -> None:
    decision = decide([], [], interrupted=False)
    assert decision.decision == "block" and codes(decision) == ["no_gates"]


def test_only_warn_gates_is_no_gates() -> None:
    decision = decide([entry("a", severity="warn"), entry("b", severity="warn")], [], interrupted=False)
    assert decision.decision == "block" and codes(decision) == ["no_gates"]
    assert "only 2 warn-only gate(s)" in decision.reasons[0].message


def test_failing_warn_gate_warns_but_does_not_block() -> None:
    decision = decide([entry("a"), entry("w", "failed", "warn", "candidate bound 0.79 not above 0.8")], [], interrupted=False)
    assert decision.decision == "promote"
    assert decision.reasons == []
    assert len(decision.warnings) == 1 and "w" in decision.warnings[0] and "0.79" in decision.warnings[0]


def test_skipped_warn_gate_warns() -> None:
    decision = decide([entry("a"), entry("w", "skipped", "warn")], [], interrupted=False)
    assert decision.decision == "promote" and len(decision.warnings) == 1


def test_erroring_warn_gate_blocks() -> None:
    # a warn gate that could not even measure is a fault, not a soft failure
    decision = decide([entry("a"), entry("w", "error", "warn")], [], interrupted=False)
    assert decision.decision == "block" and codes(decision) == ["gate_error"]


@pytest.mark.parametrize(
    ("outcome", "code"), [("failed", "gate_failed"), ("inconclusive", "underpowered"), ("error", "gate_error"), ("skipped", "gate_skipped")]
)
def test_gate_outcome_reason_codes(outcome: str, code: str) -> None:
    decision = decide([entry("a"), entry("b", outcome)], [], interrupted=False)
    assert decision.decision == "block" and codes(decision) == [code]
    assert decision.reasons[0].message.startswith("b: ")


def test_inconclusive_blocking_gate_blocks_as_underpowered() -> None:
    advice = "lower bound -0.005 not above 0. about 5018 examples (now 1000) would decide it"
    decision = decide([entry("a"), entry("b", "inconclusive", message=advice)], [], interrupted=False)
    assert decision.decision == "block"
    assert decision.reasons == [Reason("underpowered", f"b: {advice}")]
    assert decision.warnings == []


def test_inconclusive_warn_gate_warns_but_does_not_block() -> None:
    decision = decide([entry("a"), entry("w", "inconclusive", "warn", "too few examples")], [], interrupted=False)
    assert decision.decision == "promote" and decision.reasons == []
    assert decision.warnings == ["warn-only gate w inconclusive: too few examples"]


def test_inconclusive_without_message_names_the_outcome() -> None:
    decision = decide([entry("b", "inconclusive")], [], interrupted=False)
    assert decision.reasons == [Reason("underpowered", "b: inconclusive")]


def test_gate_entry_warnings_become_decision_warnings() -> None:
    noted = {**entry("a"), "warnings": ["a: the bootstrap and the mcnemar_exact cross-check disagree", "a: only 20 examples"]}
    decision = decide([noted, {**entry("b"), "warnings": []}], [], interrupted=False, warnings=["model not picklable"])
    assert decision.decision == "promote"  # notes warn, they never block
    assert decision.warnings == ["model not picklable", "a: the bootstrap and the mcnemar_exact cross-check disagree", "a: only 20 examples"]


def test_gate_entry_warnings_come_before_the_gate_outcome_note() -> None:
    noted = {**entry("w", "failed", "warn", "bound 0.79"), "warnings": ["w: only 12 examples"]}
    decision = decide([entry("a"), noted], [], interrupted=False)
    assert decision.warnings == ["w: only 12 examples", "warn-only gate w failed: bound 0.79"]


def test_gate_entry_warnings_are_kept_when_the_gate_blocks() -> None:
    noted = {**entry("b", "failed", message="bound"), "warnings": ["b: cross-check disagrees"]}
    decision = decide([noted], [], interrupted=False)
    assert decision.decision == "block" and decision.warnings == ["b: cross-check disagrees"]


def test_failed_test_blocks_even_with_passing_gates() -> None:
    decision = decide([entry("a")], ["t.py::test_schema"], interrupted=False)
    assert decision.decision == "block" and codes(decision) == ["test_failed"]
    assert "1 test(s) failed or errored: t.py::test_schema" in decision.reasons[0].message


def test_many_failed_tests_are_summarised() -> None:
    decision = decide([entry("a")], [f"t.py::test_{i}" for i in range(8)], interrupted=False)
    assert "8 test(s)" in decision.reasons[0].message and "and 3 more" in decision.reasons[0].message


def test_interrupted_blocks() -> None:
    decision = decide([entry("a")], [], interrupted=True)
    assert decision.decision == "block" and codes(decision) == ["interrupted"]


def test_extra_reasons_block_and_are_deduplicated() -> None:
    model_error = Reason("model_error", "models.candidate: refusing to load")
    decision = decide([entry("a")], [], interrupted=False, reasons=[model_error, model_error])
    assert decision.decision == "block" and decision.reasons == [model_error]


def test_warnings_pass_through() -> None:
    decision = decide([entry("a")], [], interrupted=False, warnings=["model not picklable"])
    assert decision.decision == "promote" and decision.warnings == ["model not picklable"]


def test_all_reasons_collected() -> None:
    decision = decide([entry("a", "failed")], ["t.py::x"], interrupted=True, reasons=[Reason("data_error", "bad")])
    assert codes(decision) == ["data_error", "gate_failed", "test_failed", "interrupted"]


def test_missing_severity_counts_as_blocking() -> None:
    assert decide([{"id": "a", "outcome": "failed"}], [], interrupted=False).decision == "block"
    assert decide([{"id": "a", "outcome": "passed"}], [], interrupted=False).decision == "promote"


# --- gate_outcome() ------------------------------------------------------------------------------

MEASURED_PASS = {"measured": True, "ci": {"low": 0.01}, "passed": True}
MEASURED_FAIL = {"measured": True, "ci": {"low": -0.01}, "passed": False}
UNDERPOWERED = {"measured": True, "ci": {"low": -0.01}, "passed": False, "underpowered": True}
UNDERPOWERED_WARN = {**UNDERPOWERED, "severity": "warn"}
UNMEASURED = {"measured": False, "ci": None, "passed": False}
UNMEASURED_UNDERPOWERED = {"measured": False, "ci": None, "passed": False, "underpowered": True}


@pytest.mark.parametrize(
    ("record", "test_outcome", "expected"),
    [
        (MEASURED_PASS, "passed", "passed"),
        (MEASURED_PASS, "failed", "error"),  # the record says pass, but the test failed after compare
        (MEASURED_PASS, "error", "error"),
        (MEASURED_FAIL, "failed", "failed"),
        (MEASURED_FAIL, "passed", "failed"),  # a warn gate's test passes with a failing record
        (UNMEASURED, "passed", "error"),  # measured nothing
        (UNMEASURED, "failed", "error"),
        (MEASURED_PASS, "skipped", "skipped"),
        (UNMEASURED, "skipped", "skipped"),
        (UNDERPOWERED, "failed", "inconclusive"),  # GateFailed failed the blocking test
        (UNDERPOWERED, "passed", "inconclusive"),
        (UNDERPOWERED_WARN, "passed", "inconclusive"),  # a warn gate's test passes
        (UNDERPOWERED_WARN, "failed", "error"),  # ... so its failure is something else
        (UNDERPOWERED, "skipped", "skipped"),
        (UNMEASURED_UNDERPOWERED, "failed", "error"),  # only a measured result can be inconclusive
        ({**MEASURED_PASS, "underpowered": False}, "passed", "passed"),
        ({**MEASURED_FAIL, "underpowered": False}, "failed", "failed"),
    ],
)
def test_gate_outcome(record, test_outcome, expected) -> None:
    assert gate_outcome(record, test_outcome) == expected


# --- VerdictCollector from synthetic phases ------------------------------------------------------

GATE_PASS = {"id": "t.py::test_gate", "measured": True, "ci": {"low": 0.01}, "passed": True, "severity": "block", "message": None}
GATE_FAIL = {"id": "t.py::test_gate", "measured": True, "ci": {"low": -0.01}, "passed": False, "severity": "block", "message": "lower bound not above 0"}


def run(collector: VerdictCollector, node_id: str, setup="passed", call=None, teardown="passed", gate=None, message=None, **kw):
    collector.add(Phase(node_id, "setup", setup, message=message if setup != "passed" else None, gate=gate, **kw))
    if call is not None:
        collector.add(Phase(node_id, "call", call, message=message if call != "passed" else None, gate=gate, **kw))
    if teardown is not None:
        collector.add(Phase(node_id, "teardown", teardown, gate=gate, **kw))


def outcomes(collector: VerdictCollector) -> dict[str, str]:
    return {g["id"]: g["outcome"] for g in collector.gates()}


def test_counts_from_phases() -> None:
    c = VerdictCollector()
    run(c, "a", call="passed")
    run(c, "b", call="failed", message="assert 1 == 2")
    run(c, "c", setup="failed", call=None, message="fixture broke")  # setup failure: error
    run(c, "d", setup="skipped", call=None, teardown="passed", message="no gpu")
    run(c, "e", call="passed", teardown="failed", message="teardown broke")  # teardown failure: error
    run(c, "f", call="skipped", message="skip inside test")
    assert c.counts() == Counts(passed=1, failed=1, skipped=2, errors=2)
    assert c.counts().to_dict() == {"passed": 1, "failed": 1, "skipped": 2, "errors": 2}


def test_gate_passed() -> None:
    c = VerdictCollector()
    run(c, "t.py::test_gate", call="passed", gate=GATE_PASS)
    [g] = c.gates()
    assert g["outcome"] == "passed" and g["passed"] is True


def test_gate_with_passing_record_but_failed_call_is_error() -> None:
    c = VerdictCollector()
    run(c, "t.py::test_gate", call="failed", gate=GATE_PASS, message="AssertionError: extra check after compare")
    [g] = c.gates()
    assert g["outcome"] == "error" and g["passed"] is False
    assert g["message"] == "AssertionError: extra check after compare"


def test_gate_failed_record() -> None:
    c = VerdictCollector()
    run(c, "t.py::test_gate", call="failed", gate=GATE_FAIL, message="GateFailed")
    [g] = c.gates()
    assert g["outcome"] == "failed" and g["passed"] is False and g["message"] == "lower bound not above 0"


def test_gate_inconclusive_record_blocks_as_underpowered() -> None:
    c = VerdictCollector()
    record = {**GATE_FAIL, "underpowered": True, "message": "bound -0.005 not above 0. about 612 examples (now 200)",
              "warnings": ["t.py::test_gate: only 20 examples"]}  # fmt: skip
    run(c, "t.py::test_gate", call="failed", gate=record, message="GateFailed")
    [g] = c.gates()
    assert g["outcome"] == "inconclusive" and g["passed"] is False
    assert g["message"] == "bound -0.005 not above 0. about 612 examples (now 200)"
    v = verdict_of(c)
    assert v["decision"] == "block"
    assert v["reasons"] == [{"code": "underpowered", "message": "t.py::test_gate: bound -0.005 not above 0. about 612 examples (now 200)"}]
    assert v["warnings"] == ["t.py::test_gate: only 20 examples"]
    assert v["tests"]["failed"] == 1  # counted as a failed test, yet blocking only as underpowered (no test_failed)


def test_gate_setup_error() -> None:
    c = VerdictCollector()
    unmeasured = {**GATE_PASS, "measured": False, "ci": None, "passed": False}
    run(c, "t.py::test_gate", setup="failed", gate=unmeasured, message="[model_error] models.candidate: not pinned")
    [g] = c.gates()
    assert g["outcome"] == "error" and g["message"] == "[model_error] models.candidate: not pinned"


def test_gate_skipped() -> None:
    c = VerdictCollector()
    run(c, "t.py::test_gate", setup="skipped", gate={**GATE_PASS, "measured": False, "ci": None, "passed": False}, message="needs data")
    [g] = c.gates()
    assert g["outcome"] == "skipped" and g["message"] == "needs data"


def test_gate_that_never_ran_its_call_is_error() -> None:
    c = VerdictCollector()
    c.add(Phase("t.py::test_gate", "setup", "passed", gate=GATE_PASS))
    [g] = c.gates()
    assert g["outcome"] == "error" and g["message"] == "the gate test did not finish"


def test_gates_sorted_by_id() -> None:
    c = VerdictCollector()
    for node_id in ("t.py::z", "t.py::a", "t.py::m"):
        run(c, node_id, call="passed", gate={**GATE_PASS, "id": node_id})
    assert [g["id"] for g in c.gates()] == ["t.py::a", "t.py::m", "t.py::z"]


def verdict_of(c: VerdictCollector, interrupted: bool = False, models: dict | None = None) -> dict:
    models = models if models is not None else {"candidate": {"source": "c.pkl", "sha256": "a" * 64}, "baseline": {"source": "b.pkl", "sha256": "b" * 64}}
    return c.verdict(interrupted=interrupted, models=models, envelope={})


def test_collector_verdict_promotes() -> None:
    c = VerdictCollector()
    run(c, "t.py::test_gate", call="passed", gate=GATE_PASS)
    run(c, "t.py::test_other", call="passed")
    v = verdict_of(c)
    assert v["decision"] == "promote" and v["reasons"] == []
    assert v["tests"] == {"passed": 2, "failed": 0, "skipped": 0, "errors": 0}


def test_collector_failed_gate_is_not_also_a_failed_test() -> None:
    c = VerdictCollector()
    run(c, "t.py::test_gate", call="failed", gate=GATE_FAIL)
    v = verdict_of(c)
    assert [r["code"] for r in v["reasons"]] == ["gate_failed"]


def test_collector_failed_ordinary_test_blocks() -> None:
    c = VerdictCollector()
    run(c, "t.py::test_gate", call="passed", gate=GATE_PASS)
    run(c, "t.py::test_data", call="failed", message="assert False")
    v = verdict_of(c)
    assert v["decision"] == "block" and [r["code"] for r in v["reasons"]] == ["test_failed"]


def test_collector_errored_ordinary_test_blocks() -> None:
    c = VerdictCollector()
    run(c, "t.py::test_gate", call="passed", gate=GATE_PASS)
    run(c, "t.py::test_data", setup="failed", message="fixture")
    assert verdict_of(c)["decision"] == "block"


def test_collector_skipped_ordinary_test_does_not_block() -> None:
    c = VerdictCollector()
    run(c, "t.py::test_gate", call="passed", gate=GATE_PASS)
    run(c, "t.py::test_data", setup="skipped", message="slow")
    assert verdict_of(c)["decision"] == "promote"


def test_collector_interrupted() -> None:
    c = VerdictCollector()
    run(c, "t.py::test_gate", call="passed", gate=GATE_PASS)
    assert [r["code"] for r in verdict_of(c, interrupted=True)["reasons"]] == ["interrupted"]


def test_collector_reason_from_phase_blocks() -> None:
    c = VerdictCollector()
    run(c, "t.py::test_gate", call="passed", gate=GATE_PASS)
    c.add(Phase("t.py::test_x", "setup", "passed", reason=Reason("data_error", "datasets.holdout: mismatch")))
    c.add(Phase("t.py::test_x", "call", "passed"))
    v = verdict_of(c)
    assert v["decision"] == "block" and v["reasons"] == [{"code": "data_error", "message": "datasets.holdout: mismatch"}]


def test_collector_collection_error_blocks() -> None:
    c = VerdictCollector()
    run(c, "t.py::test_gate", call="passed", gate=GATE_PASS)
    c.add_collection_error("tests/test_broken.py", "SyntaxError")
    v = verdict_of(c)
    assert v["decision"] == "block"
    assert v["reasons"] == [{"code": "collection_error", "message": "tests/test_broken.py: SyntaxError"}]


def test_collector_inconsistent_models_block() -> None:
    c = VerdictCollector()
    run(c, "t.py::test_gate", call="passed", gate=GATE_PASS, models={"candidate": {"source": "c.pkl", "sha256": "a" * 64}})
    c.add(Phase("t.py::test_other", "call", "passed", models={"candidate": {"source": "c.pkl", "sha256": "f" * 64}}))
    assert c.models() == {"candidate": {"source": "c.pkl", "sha256": "a" * 64}}
    v = verdict_of(c)
    assert v["decision"] == "block" and v["reasons"][0]["code"] == "inconsistent_models"


def test_collector_model_warning_becomes_verdict_warning() -> None:
    c = VerdictCollector()
    run(c, "t.py::test_gate", call="passed", gate=GATE_PASS)
    models = {
        "candidate": {"source": "loader:m:f", "sha256": None, "warning": "cannot be pickled"},
        "baseline": {"source": "b.pkl", "sha256": "b" * 64, "warning": None},
    }
    v = verdict_of(c, models=models)
    assert v["decision"] == "promote" and v["warnings"] == ["cannot be pickled"]
    assert v["candidate"] == {"source": "loader:m:f", "sha256": None, "size_bytes": None, "registry": None}  # identity only, no warning key
