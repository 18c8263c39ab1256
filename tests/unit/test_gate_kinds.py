"""Latency, cost and golden gates in the core: marker validation, rules, records (no pytester)."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from pytest_promote.errors import GateUsageError, GoldenError
from pytest_promote.gates import (
    CostContext,
    CostGate,
    DriftContext,
    DriftGate,
    GateFailed,
    GoldenContext,
    GoldenGate,
    LatencyContext,
    LatencyGate,
    PromoteWarning,
    QualityContext,
    QualityGate,
    gate,
    unmeasured_record,
)
from pytest_promote.gates.latency import budget_bound, rounds_to_bound
from pytest_promote.stats.latency import compare_latency


class Models:
    def __init__(self, candidate, baseline):
        self.models = {"candidate": candidate, "baseline": baseline}

    def get(self, role):
        return SimpleNamespace(model=self.models[role])


# --- markers ---------------------------------------------------------------------------------------


def test_decorators_put_their_arguments_on_the_marker() -> None:
    latency = gate.latency(99, max_ratio=1.1).mark
    assert (latency.name, latency.args) == ("gate_latency", (99,))
    assert latency.kwargs == {"budget_ms": None, "max_ratio": 1.1, "samples": 200, "warmup": 20, "alpha": None, "severity": "block"}
    cost = gate.cost(budget=5).mark
    assert (cost.name, cost.args, cost.kwargs) == ("gate_cost", (), {"max_ratio": None, "budget": 5, "severity": "block"})
    golden = gate.golden("g.jsonl", atol=0).mark
    assert (golden.name, golden.args, golden.kwargs) == ("gate_golden", ("g.jsonl",), {"atol": 0, "rtol": 1e-5, "severity": "block", "schema": None})
    # what the decorators put on the marker is accepted as is
    assert LatencyGate.from_marker(latency.args, latency.kwargs, 0.05).max_ratio == 1.1
    assert CostGate.from_marker(cost.args, cost.kwargs, 0.05).budget == 5.0
    assert GoldenGate.from_marker(golden.args, golden.kwargs, 0.05) == GoldenGate("g.jsonl", 0.0, 1e-5, "block")


@pytest.mark.parametrize(
    ("kind", "args", "kwargs", "message"),
    [
        (LatencyGate, (95,), {}, "needs budget_ms=, max_ratio=, or both"),
        (LatencyGate, (95, 99), {"max_ratio": 1.1}, "takes one positional argument"),
        (LatencyGate, (95,), {"percentile": 90, "max_ratio": 1.1}, "the percentile is given twice"),
        (LatencyGate, (0,), {"max_ratio": 1.1}, "percentile must lie strictly between 0 and 100"),
        (LatencyGate, (True,), {"max_ratio": 1.1}, "percentile must lie strictly between 0 and 100"),
        (LatencyGate, (95,), {"max_ratio": 0}, "max_ratio must be a finite positive number"),
        (LatencyGate, (95,), {"max_ratio": 1.1, "samples": 29}, "samples must be an integer >= 30"),
        (LatencyGate, (95,), {"max_ratio": 1.1, "alpha": 0.5}, "alpha must lie strictly between 0 and 0.5"),
        (LatencyGate, (95,), {"max_ratio": 1.1, "severity": "maybe"}, "severity must be one of block, warn"),
        (LatencyGate, (95,), {"max_ratio": 1.1, "budget": 3}, r"unknown argument\(s\) budget"),
        (LatencyGate, (95,), {"budget_ms": 10, "samples": 58}, "needs samples >= 59"),
        (CostGate, (), {}, "needs max_ratio=, budget=, or both"),
        (CostGate, (3,), {}, "keyword arguments only"),
        (CostGate, (), {"budget": -1}, "budget must be a finite positive number"),
        (CostGate, (), {"budget": 1, "unit": "x"}, r"unknown argument\(s\) unit"),
        (GoldenGate, (), {}, "needs the golden file's path"),
        (GoldenGate, ("",), {}, "needs the golden file's path"),
        (GoldenGate, ("g.jsonl",), {"atol": -1e-9}, "atol must be a finite number >= 0"),
        (GoldenGate, ("g.jsonl",), {"rtol": math.inf}, "rtol must be a finite number >= 0"),
        (DriftGate, (), {}, "needs max_psi=, max_ks=, max_kl= or several"),
        (DriftGate, (0.2,), {}, "keyword arguments only"),
        (DriftGate, (), {"max_ks": 1.5}, "max_ks is a KS statistic in"),
        (DriftGate, (), {"max_psi": 0.2, "bins": 1}, "bins must be an integer >= 2"),
        (DriftGate, (), {"max_psi": -0.2}, "max_psi must be a finite positive number"),
    ],
)
def test_invalid_markers_name_the_problem(kind, args, kwargs, message) -> None:
    with pytest.raises(GateUsageError, match=message):
        kind.from_marker(args, kwargs, 0.05)


@pytest.mark.parametrize(("percentile", "alpha"), [(95, 0.05), (99, 0.05), (90, 0.01), (50, 0.05), (99.9, 0.1)])
def test_rounds_to_bound_is_the_fewest_rounds_whose_maximum_bounds_the_percentile(percentile, alpha) -> None:
    q, n = percentile / 100, rounds_to_bound(percentile, alpha)
    assert q**n <= alpha < q ** (n - 1)  # the maximum of n rounds is below the percentile with probability q**n


def test_unmeasured_records_of_every_kind_never_pass() -> None:
    for marker, kind in (("gate_latency", "latency"), ("gate_cost", "cost"), ("gate_golden", "golden"), ("gate_drift", "drift")):
        entry = unmeasured_record("t.py::test_x", marker, (), {"severity": "bogus"})
        assert (entry["kind"], entry["metric"], entry["passed"], entry["measured"], entry["severity"]) == (kind, kind, False, False, "block")


# --- latency --------------------------------------------------------------------------------------------


def synthetic_comparison(scale: float, *, rounds: int = 200, seed: int = 3):
    import numpy as np

    rng = np.random.default_rng(seed)
    base = rng.lognormal(mean=np.log(1e6), sigma=0.2, size=rounds).astype(np.int64)
    cand = (base * scale * rng.lognormal(0, 0.05, size=rounds)).astype(np.int64)
    return compare_latency(cand, base, percentile=95, alpha=0.05, resamples=500, seed=seed)


def test_latency_rules_read_upper_bounds() -> None:
    spec = LatencyGate.from_marker((95,), {"budget_ms": 100, "max_ratio": 1.2}, 0.05)
    slower = synthetic_comparison(1.5)
    same = synthetic_comparison(1.0)
    assert spec.failures(same) == []
    messages = [failure.message for failure in spec.failures(slower)]
    assert messages == [f"the upper confidence bound of the p95 ratio is {slower.ratio_high:.3f}, above 1.2"]
    tight = replace(spec, budget_ms=same.candidate_ms)  # the estimate itself: its upper bound lies above
    assert [f.message.split(",")[0] for f in tight.failures(same)] == [
        f"the candidate's p95 upper confidence bound is {budget_bound(same):.4g} ms"
    ]
    assert budget_bound(same) == max(same.candidate_high_ms, same.exact_high_ms) > same.candidate_ms


def test_a_nan_ratio_never_passes() -> None:
    spec = LatencyGate.from_marker((95,), {"max_ratio": 1e9}, 0.05)
    broken = replace(synthetic_comparison(1.0), ratio_high=math.nan)
    assert len(spec.failures(broken)) == 1


@pytest.mark.filterwarnings("ignore:.*quantised:pytest_promote.errors.PromoteWarning")  # a 90 ns append may look quantised
def test_latency_context_times_both_models_and_records_the_evidence() -> None:
    calls = []
    spec = LatencyGate.from_marker((95,), {"max_ratio": 100.0, "samples": 40, "warmup": 3}, 0.05)
    ctx = LatencyContext("t.py::test_latency", spec, seed=5, resamples=200, models=Models("cand", "base"))
    ctx.time(lambda model: calls.append(model))
    assert calls.count("cand") == calls.count("base") == 43  # warm-up plus rounds, for each model
    entry = ctx.record()
    assert (entry["kind"], entry["measured"], entry["passed"], entry["n"]) == ("latency", True, True, 40)
    assert entry["latency"]["warmup"] == 3 and entry["latency"]["batch"] is None
    assert set(entry["latency"]["candidate"]) >= {"p50_ms", "p95_ms", "p99_ms", "mean_ms", "sd_ms", "min_ms", "outliers"}
    with pytest.raises(GateUsageError, match="promote.time\\(\\) was called twice"):
        ctx.time(lambda model: None)


def test_latency_batch_must_be_a_positive_integer() -> None:
    spec = LatencyGate.from_marker((95,), {"max_ratio": 2.0}, 0.05)
    ctx = LatencyContext("t.py::test_latency", spec, seed=5, resamples=200, models=Models(1, 2))
    with pytest.raises(GateUsageError, match="batch=...\\) must be a positive integer"):
        ctx.time(lambda model: None, batch=0)
    assert not ctx.measured


# --- cost -------------------------------------------------------------------------------------------------


def test_cost_ratio_rules() -> None:
    spec = CostGate.from_marker((), {"max_ratio": 1.5, "budget": 100}, 0.05)
    ctx = CostContext("t.py::test_cost", spec, Models(None, None))
    figure = ctx.record_cost("tokens", candidate=90, baseline=80, unit="tok")
    assert figure.ratio == 90 / 80 and ctx.record()["passed"] is True
    with pytest.raises(GateFailed, match="above the budget 100 tok.*ratio candidate/baseline is 2.000"):
        CostContext("t.py::test_cost", spec, Models(None, None)).record_cost("tokens", candidate=160, baseline=80, unit="tok")


@pytest.mark.filterwarnings("ignore::pytest_promote.errors.PromoteWarning")  # the infinite ratio fails its warn-only rule
@pytest.mark.parametrize(("candidate", "baseline", "ratio"), [(0.0, 0.0, 1.0), (1.0, 0.0, math.inf), (0.0, 2.0, 0.0)])
def test_cost_ratio_over_a_zero_baseline(candidate, baseline, ratio) -> None:
    ctx = CostContext("t.py::test_cost", CostGate(max_ratio=1.0, budget=None, severity="warn"), Models(None, None))
    figure = ctx.record_cost("x", candidate=candidate, baseline=baseline, unit="u")
    assert figure.ratio == ratio
    assert ctx.record()["cost"]["ratio"] == (None if math.isinf(ratio) else ratio)  # JSON has no infinity


def test_a_warn_only_cost_gate_warns_instead_of_failing() -> None:
    ctx = CostContext("t.py::test_cost", CostGate(max_ratio=None, budget=1.0, severity="warn"), Models(None, None))
    with pytest.warns(PromoteWarning, match="warn-only gate failed: gate cost x failed"):
        ctx.record_cost("x", candidate=2, baseline=1, unit="u")
    assert ctx.record()["passed"] is False


def test_peak_memory_measures_both_models_the_same_way() -> None:
    spec = CostGate.from_marker((), {"max_ratio": 1.5}, 0.05)
    ctx = CostContext("t.py::test_memory", spec, Models(4 * 2**20, 2 * 2**20))
    with pytest.raises(GateFailed, match=r"peak_memory ratio candidate/baseline is 2.0\d\d \(4 MiB / 2 MiB\)"):
        ctx.measure(lambda nbytes: bytearray(nbytes))
    assert ctx.figure.candidate == pytest.approx(4 * 2**20, rel=0.10)


# --- golden -----------------------------------------------------------------------------------------------


def write_golden(path: Path, cases: list[dict]) -> Path:
    path.write_text("".join(json.dumps(case) + "\n" for case in cases))
    return path


def golden_context(tmp_path: Path, **gate_options) -> GoldenContext:
    spec = GoldenGate.from_marker(("cases.jsonl",), gate_options, 0.05)
    return GoldenContext("t.py::test_golden", spec, Models(lambda x: [2 * v for v in x], None), None, test_dir=tmp_path, rootdir=tmp_path)


def test_golden_context_checks_the_candidate_only(tmp_path) -> None:
    write_golden(tmp_path / "cases.jsonl", [{"id": 1, "input": [1, 2], "expected": [2, 4]}, {"id": 2, "input": [3], "expected": [6]}])
    ctx = golden_context(tmp_path)
    check = ctx.check_golden(lambda model, inputs: model(inputs))
    assert (check.cases, check.passed) == (2, 2)
    entry = ctx.record()
    assert (entry["measured"], entry["passed"], entry["n"], entry["golden"]["failing_ids"]) == (True, True, 2, [])


def test_golden_context_fails_listing_every_case(tmp_path) -> None:
    write_golden(tmp_path / "cases.jsonl", [{"id": i, "input": [i], "expected": [2 * i + (i % 2)]} for i in range(6)])
    ctx = golden_context(tmp_path, atol=0.5, rtol=0)
    with pytest.raises(GateFailed, match="3 of 6 golden cases failed"):
        ctx.check_golden(lambda model, inputs: model(inputs))
    assert ctx.record()["golden"]["failing_ids"] == [1, 3, 5]


def test_golden_update_rewrites_and_marks_the_record(tmp_path) -> None:
    path = write_golden(tmp_path / "cases.jsonl", [{"id": "a", "input": [1]}, {"id": "b", "input": [2], "expected": [4]}])
    ctx = golden_context(tmp_path)
    ctx.update = True
    with pytest.warns(PromoteWarning, match="1 of 2 case\\(s\\) changed"):
        ctx.check_golden(lambda model, inputs: model(inputs))
    entry = ctx.record()
    assert entry["golden"]["updated"] is True and entry["golden"]["changed"] == 1
    assert [json.loads(line)["expected"] for line in path.read_text().splitlines()] == [[2], [4]]
    assert ctx.record()["passed"] is False  # an update checked nothing


def test_golden_missing_expected_outside_update_mode_is_an_error(tmp_path) -> None:
    write_golden(tmp_path / "cases.jsonl", [{"id": "a", "input": [1]}])
    with pytest.raises(GoldenError, match="line 1"):
        golden_context(tmp_path).check_golden(lambda model, inputs: model(inputs))


# --- drift -------------------------------------------------------------------------------------------------


def test_drift_gates_warn_by_default_and_judge_psi_on_its_point_value() -> None:
    import numpy as np

    spec = DriftGate.from_marker((), gate.drift(max_psi=0.25).mark.kwargs, 0.05)
    assert spec.severity == "warn" and spec.bins == 10
    reference = np.random.default_rng(0).normal(size=4000)
    same = DriftContext("t.py::d", spec, 5, Models(reference.copy(), reference), None)
    (column,) = same.compare_distributions(lambda model: model)
    assert column.stats.psi == 0 and column.failures == () and same.record()["passed"] is True
    shifted = DriftContext("t.py::d", spec, 5, Models(reference + 1.0, reference), None)
    with pytest.warns(PromoteWarning, match="warn-only gate failed: gate drift failed"):
        (column,) = shifted.compare_distributions(lambda model: model)
    assert column.stats.psi_high > column.stats.psi > 0.25
    stats = column.stats
    assert column.failures == (f"output: PSI {stats.psi:.4f} [{stats.psi_low:.4f}, {stats.psi_high:.4f}] above 0.25",)
    entry = shifted.record()
    assert entry["passed"] is False and entry["drift"]["columns"][0]["passed"] is False and entry["n"] == 4000


def test_a_psi_within_the_limit_whose_bound_is_not_passes_with_a_note() -> None:
    import numpy as np

    rng = np.random.default_rng(1)
    reference, current = rng.normal(size=150), rng.normal(size=150)  # no drift, few rows: a wide interval
    spec = DriftGate.from_marker((), {"max_psi": 0.15}, 0.05)
    ctx = DriftContext("t.py::d", spec, 5, Models(current, reference), None)
    with pytest.warns(PromoteWarning, match="cannot rule out drift of that size"):
        (column,) = ctx.compare_distributions(lambda model: model)
    assert column.stats.psi <= 0.15 < column.stats.psi_high and column.failures == ()
    assert ctx.record()["passed"] is True and len(ctx.record()["warnings"]) == 1


def test_drift_outputs_must_agree_in_shape() -> None:
    spec = DriftGate.from_marker((), {"max_ks": 0.1}, 0.05)
    ctx = DriftContext("t.py::d", spec, 5, Models([1.0, 2.0, 3.0], [1.0, 2.0]), None)
    with pytest.raises(GateUsageError, match=r"got candidate \(3,\) and baseline \(2,\)"):
        ctx.compare_distributions(lambda model: model)
    assert not ctx.measured


# --- the fixture's calls belong to their kind --------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "owner"),
    [("compare", "quality"), ("time", "latency"), ("measure", "cost"), ("record_cost", "cost"), ("check_golden", "golden"),
     ("compare_distributions", "drift")],
)
def test_each_measuring_call_names_its_gate_kind_elsewhere(tmp_path, call, owner) -> None:
    contexts = {
        "quality": QualityContext("t.py::q", QualityGate.from_marker(("accuracy",), {"min_delta": 0}, 0.05), 1, 100, "bca", None, None),
        "latency": LatencyContext("t.py::l", LatencyGate.from_marker((95,), {"max_ratio": 1.1}, 0.05), 1, 100, None),
        "cost": CostContext("t.py::c", CostGate(1.0, None, "block"), None),
        "golden": golden_context(tmp_path),
        "drift": DriftContext("t.py::d", DriftGate.from_marker((), {"max_psi": 0.2}, 0.05), 1, None, None),
    }
    for kind, ctx in contexts.items():
        if kind == owner:
            continue
        with pytest.raises(GateUsageError, match=f"promote.{call}\\(\\) belongs to @gate.{owner}; this test is a {kind} gate"):
            getattr(ctx, call)(lambda *a: None)
        assert not ctx.measured
        assert "exactly once" in str(ctx.nothing_measured())
