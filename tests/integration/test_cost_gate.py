"""``@gate.cost``: peak memory measured the same way for both models, or a figure the test records."""

from __future__ import annotations

import textwrap

import pytest

MIB = 2**20

ALLOCATORS = textwrap.dedent(
    """
    class Allocator:
        def __init__(self, nbytes):
            self.nbytes = nbytes

        def predict(self, rows):
            buffer = bytearray(self.nbytes)  # a known allocation, alive for the whole call
            return [len(buffer)] * len(rows)


    def eight_mib():
        return Allocator(8 * 2**20)


    def sixteen_mib():
        return Allocator(16 * 2**20)
    """
)


def cost_project(make_project, candidate: str, baseline: str, tests: str):
    project = make_project(models="toy", tests=tests)
    project.use_loaders("allocators", ALLOCATORS, candidate, baseline)
    return project


PEAK_MEMORY = """
@gate.cost(max_ratio=1.2)
def test_memory(promote):
    promote.measure(lambda model: model.predict([[0.0]]), what="peak_memory")
"""


@pytest.mark.parametrize(
    ("candidate", "ret", "outcome", "allocated"),
    [pytest.param("eight_mib", 0, "passed", 8 * MIB, id="same-allocation"), pytest.param("sixteen_mib", 1, "failed", 16 * MIB, id="double")],
)
def test_peak_memory_is_measured_for_both_models(make_project, helpers, verdict_validator, candidate, ret, outcome, allocated):
    project = cost_project(make_project, candidate, "eight_mib", PEAK_MEMORY)

    result = project.run("--promote")

    assert result.ret == ret, result.stdout.str()
    verdict = project.verdict()
    verdict_validator.validate(verdict)
    entry = helpers.gate_entry(verdict, "test_memory")
    assert (entry["kind"], entry["metric"], entry["outcome"]) == ("cost", "peak_memory", outcome)
    assert entry["candidate"] == pytest.approx(allocated, rel=0.10)
    assert entry["baseline"] == pytest.approx(8 * MIB, rel=0.10)
    cost = entry["cost"]
    assert (cost["unit"], cost["source"], cost["max_ratio"]) == ("bytes", "tracemalloc", 1.2)
    assert cost["ratio"] == pytest.approx(entry["candidate"] / entry["baseline"])
    if outcome == "failed":
        result.stdout.fnmatch_lines(["*the peak_memory ratio candidate/baseline is 2.0* (16* MiB / 8* MiB), above 1.2*"])


RECORDED = """
@gate.cost(budget=1000, max_ratio=1.1)
def test_tokens(promote):
    promote.record_cost("tokens", candidate={candidate}, baseline=800, unit="tokens/request")
"""


@pytest.mark.parametrize(
    ("candidate", "ret", "message"),
    [
        pytest.param(840, 0, None, id="within"),
        pytest.param(1200, 1, "the candidate's tokens is 1200 tokens/request, above the budget 1000", id="over-budget"),
        pytest.param(900, 1, "the tokens ratio candidate/baseline is 1.125 (900 tokens/request / 800 tokens/request), above 1.1", id="over-ratio"),
    ],
)
def test_recorded_costs_gate_on_budget_and_ratio(make_project, helpers, candidate, ret, message):
    project = make_project(models="toy", tests=RECORDED.format(candidate=candidate))

    result = project.run("--promote")

    assert result.ret == ret, result.stdout.str()
    entry = helpers.gate_entry(project.verdict(), "test_tokens")
    assert (entry["metric"], entry["candidate"], entry["baseline"]) == ("tokens", candidate, 800)
    assert entry["cost"] == {
        "name": "tokens", "unit": "tokens/request", "source": "recorded", "ratio": candidate / 800, "budget": 1000.0, "max_ratio": 1.1,
    }  # fmt: skip
    result.stdout.fnmatch_lines([f"*test_tokens*tokens*{candidate} tokens/request*800 tokens/request*ratio*"])
    if message:
        result.stdout.fnmatch_lines([f"*{message}*"])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param("pass", "the gate measured nothing: call promote.measure(...) or promote.record_cost(...) exactly once", id="nothing"),
        pytest.param(
            'promote.record_cost("a", candidate=1, baseline=1, unit="u")\n    promote.record_cost("b", candidate=1, baseline=1, unit="u")',
            "promote.record_cost() was called twice; a gate makes exactly one measurement",
            id="twice",
        ),
        pytest.param('promote.record_cost("a", candidate=-1, baseline=1, unit="u")', "candidate must be a finite number >= 0, got -1", id="negative"),
        pytest.param('promote.measure(lambda m: None, what="gpu")', "promote.measure(what='gpu'): can measure peak_memory", id="what"),
    ],
)
def test_misused_cost_gates_block_with_a_gate_error(make_project, helpers, body, message):
    project = make_project(models="toy", tests=f"\n@gate.cost(budget=10)\ndef test_cost(promote):\n    {body}\n")

    result = project.run("--promote")

    assert result.ret == 1
    assert helpers.reason_codes(project.verdict()) == ["gate_error"]
    result.stdout.fnmatch_lines([f"*{message}*"])
