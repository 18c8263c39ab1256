"""Gates: marker validation, the rule in words, the decision rule on crafted results,
per-gate seeds and the gate context."""

from __future__ import annotations

import hashlib
import math
import warnings
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from pytest_promote.errors import GateUsageError, PromoteError
from pytest_promote.gates import GateContext, GateFailed, GateResult, PromoteWarning, QualityGate, gate, gate_seed
from pytest_promote.stats import PairedResult

# --- from_marker validation -------------------------------------------------------------------


def test_from_marker_valid() -> None:
    g = QualityGate.from_marker(("accuracy",), {"min_delta": -0.01}, default_alpha=0.05)
    assert g == QualityGate("accuracy", -0.01, None, 0.05, "block", True)


def test_from_marker_all_options() -> None:
    g = QualityGate.from_marker((), {"metric": "mae", "threshold": 2, "min_delta": 0, "alpha": 0.1, "severity": "warn"}, 0.05)
    assert g == QualityGate("mae", 0.0, 2.0, 0.1, "warn", False)
    assert isinstance(g.threshold, float) and isinstance(g.min_delta, float)


def test_from_marker_default_alpha_comes_from_config() -> None:
    assert QualityGate.from_marker(("roc_auc",), {"threshold": 0.7}, default_alpha=0.2).alpha == 0.2
    assert QualityGate.from_marker(("roc_auc",), {"threshold": 0.7, "alpha": None}, default_alpha=0.2).alpha == 0.2


def test_gate_decorator_arguments_validate() -> None:
    # what @gate.quality(...) puts on the marker must be accepted as is
    mark = gate.quality("log_loss", min_delta=0, alpha=0.1, severity="warn").mark
    assert mark.name == "gate_quality"
    g = QualityGate.from_marker(mark.args, mark.kwargs, 0.05)
    assert g == QualityGate("log_loss", 0.0, None, 0.1, "warn", False)


INVALID_MARKERS = [
    ("no-rule", ("accuracy",), {}, "needs min_delta=, threshold=, or both"),
    ("no-rule-explicit-none", ("accuracy",), {"min_delta": None, "threshold": None}, "needs min_delta="),
    ("no-metric", (), {"min_delta": 0}, "needs a metric"),
    ("metric-twice", ("accuracy",), {"metric": "accuracy", "min_delta": 0}, "metric is given twice"),
    ("extra-positional", ("accuracy", 0.0), {}, "one positional argument"),
    ("unknown-kwarg", ("accuracy",), {"min_delta": 0, "confidence": 0.9}, "unknown argument\\(s\\) confidence"),
    ("alpha-zero", ("accuracy",), {"min_delta": 0, "alpha": 0}, "alpha must lie strictly between 0 and 0.5, got 0"),
    ("alpha-half", ("accuracy",), {"min_delta": 0, "alpha": 0.5}, "alpha must lie strictly between 0 and 0.5"),
    ("alpha-negative", ("accuracy",), {"min_delta": 0, "alpha": -0.1}, "alpha must lie strictly"),
    ("alpha-true", ("accuracy",), {"min_delta": 0, "alpha": True}, "alpha must lie strictly between 0 and 0.5, got True"),
    ("alpha-string", ("accuracy",), {"min_delta": 0, "alpha": "0.05"}, "alpha must lie strictly"),
    ("severity", ("accuracy",), {"min_delta": 0, "severity": "fatal"}, "severity must be one of block, warn, got 'fatal'"),
    ("min-delta-string", ("accuracy",), {"min_delta": "0"}, "min_delta must be a finite number"),
    ("min-delta-bool", ("accuracy",), {"min_delta": False}, "min_delta must be a finite number"),
    ("min-delta-nan", ("accuracy",), {"min_delta": float("nan")}, "min_delta must be a finite number"),
    ("threshold-inf", ("accuracy",), {"threshold": float("inf")}, "threshold must be a finite number"),
]


@pytest.mark.parametrize(("args", "kwargs", "expected"), [c[1:] for c in INVALID_MARKERS], ids=[c[0] for c in INVALID_MARKERS])
def test_from_marker_invalid(args, kwargs, expected) -> None:
    with pytest.raises(GateUsageError, match=expected):
        QualityGate.from_marker(args, kwargs, default_alpha=0.05)


def test_from_marker_unknown_metric_is_a_gate_usage_error() -> None:
    # from_marker documents GateUsageError for bad marker arguments; an unknown metric is one
    with pytest.raises(PromoteError) as info:
        QualityGate.from_marker(("f1",), {"min_delta": 0}, default_alpha=0.05)
    assert "'f1'" in str(info.value) and "accuracy, log_loss, mae, rmse, roc_auc" in str(info.value)
    assert isinstance(info.value, GateUsageError), f"raised {type(info.value).__name__}, code {info.value.code}"


# --- the rule in words -------------------------------------------------------------------------


def test_rule_text() -> None:
    assert QualityGate("accuracy", 0.0, None, 0.05, "block", True).rule == "delta > 0 at 95% confidence"
    assert QualityGate("accuracy", -0.01, None, 0.1, "block", True).rule == "delta > -0.01 at 90% confidence"
    assert QualityGate("mae", None, 0.5, 0.05, "block", False).rule == "mae < 0.5 at 95% confidence"
    assert QualityGate("roc_auc", None, 0.75, 0.025, "block", True).rule == "roc_auc > 0.75 at 97.5% confidence"
    assert (
        QualityGate("accuracy", -0.02, 0.8, 0.05, "block", True).rule
        == "delta > -0.02 and accuracy > 0.8 at 95% confidence"
    )


# --- failures() on crafted results -------------------------------------------------------------


def result(higher_is_better: bool = True, **fields) -> PairedResult:
    base = dict(
        metric="accuracy" if higher_is_better else "mae",
        higher_is_better=higher_is_better,
        candidate=0.85,
        baseline=0.83,
        delta=0.02,
        low=0.01,
        high=0.03,
        candidate_low=0.82,
        candidate_high=0.88,
        se=0.006,
        alpha=0.05,
        method="percentile",
        resamples=1000,
        seed=1,
        n=1000,
    )
    base.update(fields)
    return PairedResult(**base)


def quality(min_delta=None, threshold=None, higher_is_better=True, severity="block") -> QualityGate:
    return QualityGate("accuracy" if higher_is_better else "mae", min_delta, threshold, 0.05, severity, higher_is_better)


@pytest.mark.parametrize(
    ("low", "d", "passes"),
    [(0.01, 0.0, True), (0.0, 0.0, False), (-0.001, 0.0, False), (-0.009, -0.01, True), (-0.01, -0.01, False), (-0.02, -0.01, False)],
)
def test_min_delta_passes_iff_lower_bound_strictly_above(low, d, passes) -> None:
    failures = quality(min_delta=d).failures(result(low=low, delta=max(low, 0.0) + 0.01, high=0.05))
    assert (failures == []) is passes
    if not passes:
        assert "lower confidence bound of delta" in failures[0]


def test_min_delta_ignores_point_estimate_and_upper_bound() -> None:
    # a big point estimate does not help when the lower bound is not above d
    assert quality(min_delta=0).failures(result(delta=0.5, low=-0.001, high=0.9))
    assert quality(min_delta=0).failures(result(delta=0.02, low=0.001, high=0.03)) == []


def test_threshold_higher_is_better_uses_candidate_low() -> None:
    g = quality(threshold=0.8)
    assert g.failures(result(candidate=0.85, candidate_low=0.81, candidate_high=0.89)) == []
    assert g.failures(result(candidate=0.85, candidate_low=0.80, candidate_high=0.89))  # strict
    failures = g.failures(result(candidate=0.85, candidate_low=0.79, candidate_high=0.99))
    assert failures and "candidate's lower confidence bound" in failures[0]
    # candidate_high above the threshold is irrelevant for higher-is-better
    assert g.failures(result(candidate=0.9, candidate_low=0.75, candidate_high=0.95))


def test_threshold_lower_is_better_uses_candidate_high() -> None:
    g = quality(threshold=0.5, higher_is_better=False)
    ok = result(False, candidate=0.4, baseline=0.45, candidate_low=0.1, candidate_high=0.49)
    assert g.failures(ok) == []
    assert g.failures(replace(ok, candidate_high=0.5))  # strict
    failures = g.failures(replace(ok, candidate_high=0.51, candidate_low=0.3))
    assert failures and "candidate's upper confidence bound" in failures[0]
    # a low candidate_low does not rescue a lower-is-better threshold
    assert g.failures(replace(ok, candidate_low=0.0, candidate_high=0.7))


def test_both_rules_must_hold() -> None:
    g = quality(min_delta=0, threshold=0.8)
    assert g.failures(result(low=0.01, candidate_low=0.81)) == []
    assert len(g.failures(result(low=-0.01, candidate_low=0.81))) == 1
    assert len(g.failures(result(low=0.01, candidate_low=0.79))) == 1
    assert len(g.failures(result(low=-0.01, candidate_low=0.79))) == 2


@pytest.mark.parametrize("field", ["candidate", "baseline", "delta", "low", "high", "candidate_low", "candidate_high"])
@pytest.mark.parametrize(
    "gate_kwargs",
    [{"min_delta": -1.0}, {"threshold": 0.0}, {"threshold": 10.0, "higher_is_better": False}, {"min_delta": -1.0, "threshold": 0.0}],
    ids=["min_delta", "threshold-hib", "threshold-lib", "both"],
)
def test_any_nan_is_a_failure(field, gate_kwargs) -> None:
    g = quality(**gate_kwargs)
    good = result(g.higher_is_better)
    assert g.failures(good) == []  # otherwise comfortably passing
    failures = g.failures(replace(good, **{field: math.nan}))
    assert failures, f"NaN in {field} passed"


# --- seeds ---------------------------------------------------------------------------------------


def test_gate_seed_depends_only_on_master_seed_and_node_id() -> None:
    node = "tests/test_gates.py::test_accuracy"
    assert gate_seed(123, node) == gate_seed(123, node)
    assert gate_seed(123, node) != gate_seed(124, node)
    assert gate_seed(123, node) != gate_seed(123, node + "2")
    assert gate_seed(1, "a\0" + "2") != gate_seed(1, "a")
    expected = int.from_bytes(hashlib.sha256(f"123\0{node}".encode()).digest()[:8], "big")
    assert gate_seed(123, node) == expected  # a pure function: nothing else (order, other gates) enters
    seeds = {gate_seed(7, f"t.py::test_{i}") for i in range(200)}
    assert len(seeds) == 200
    assert all(0 <= s < 2**64 for s in seeds)


# --- the gate context ------------------------------------------------------------------------------


class FakeModels:
    def __init__(self, candidate, baseline) -> None:
        self.models = {"candidate": candidate, "baseline": baseline}
        self.calls = []

    def get(self, role):
        self.calls.append(role)
        return SimpleNamespace(model=self.models[role])


class FakeDatasets:
    def get(self, name):
        return SimpleNamespace(name=name, sha256="c" * 64, n=100)


def data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    good = np.where(rng.uniform(size=n) < 0.9, y, 1 - y)
    bad = np.where(rng.uniform(size=n) < 0.6, y, 1 - y)
    return y, good, bad


def context(g: QualityGate, candidate, baseline, node_id="t.py::test_gate", seed=11) -> GateContext:
    return GateContext(
        node_id=node_id,
        gate=g,
        seed=seed,
        resamples=500,
        method="percentile",
        models=FakeModels(candidate, baseline),
        datasets=FakeDatasets(),
    )


def test_compare_applies_predict_to_both_models_and_passes() -> None:
    y, good, bad = data()
    ctx = context(quality(min_delta=0), {"pred": good}, {"pred": bad})
    seen = []

    def predict(model):
        seen.append(model)
        return model["pred"]

    res = ctx.compare(predict, y, dataset="holdout")
    assert isinstance(res, GateResult)
    assert [m["pred"] is good for m in seen] == [True, False]
    assert res.passed and res.candidate == np.mean(good == y) and res.baseline == np.mean(bad == y)
    assert res.delta == pytest.approx(res.candidate - res.baseline)
    assert res.low == res.stats.low and res.high == res.stats.high and res.low > 0
    assert res.rule == "delta > 0 at 95% confidence"
    assert res.stats.seed == 11 and res.stats.resamples == 500 and res.stats.method == "percentile"
    assert ctx.dataset_info == {"name": "holdout", "sha256": "c" * 64, "rows": 100}


def test_compare_twice_raises() -> None:
    y, good, bad = data()
    ctx = context(quality(min_delta=-1), {"pred": good}, {"pred": bad})
    first = ctx.compare(lambda m: m["pred"], y)
    with pytest.raises(GateUsageError, match="called twice"):
        ctx.compare(lambda m: m["pred"], y)
    assert ctx.result is first  # the first comparison stands


def test_failing_blocking_gate_raises_with_rule_estimates_and_interval() -> None:
    y, good, bad = data()
    ctx = context(quality(min_delta=0), {"pred": bad}, {"pred": good})
    with pytest.raises(GateFailed) as info:
        ctx.compare(lambda m: m["pred"], y)
    message = str(info.value)
    stats = ctx.result.stats
    assert "rule delta > 0 at 95% confidence" in message
    assert f"candidate {stats.candidate:.4f}" in message and f"baseline {stats.baseline:.4f}" in message
    assert f"[{stats.low:+.4f}, {stats.high:+.4f}]" in message
    assert "90% percentile interval" in message and "n=200" in message
    assert ctx.result.passed is False and ctx.failures
    assert info.value.code == "gate_failed"


def test_failing_warn_gate_warns_and_returns() -> None:
    y, good, bad = data()
    ctx = context(quality(min_delta=0, severity="warn"), {"pred": bad}, {"pred": good})
    with pytest.warns(PromoteWarning, match="warn-only gate failed"):
        res = ctx.compare(lambda m: m["pred"], y)
    assert res.passed is False


def test_passing_gate_does_not_warn() -> None:
    y, good, bad = data()
    ctx = context(quality(min_delta=0, severity="warn"), {"pred": good}, {"pred": bad})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ctx.compare(lambda m: m["pred"], y).passed


def test_record_before_compare_never_passes() -> None:
    rec = context(quality(min_delta=0), None, None).record()
    assert rec["passed"] is False
    assert rec["ci"] is None and rec["candidate"] is None and rec["delta"] is None and rec["n"] is None
    assert rec["id"] == "t.py::test_gate" and rec["kind"] == "quality" and rec["seed"] == 11


def test_record_after_compare() -> None:
    y, good, bad = data()
    ctx = context(quality(min_delta=0, threshold=0.5), {"pred": good}, {"pred": bad})
    ctx.compare(lambda m: m["pred"], y, dataset="holdout")
    rec = ctx.record()
    stats = ctx.result.stats
    assert rec["passed"] is True and rec["message"] is None
    assert rec["metric"] == "accuracy" and rec["higher_is_better"] is True
    assert rec["min_delta"] == 0.0 and rec["threshold"] == 0.5 and rec["alpha"] == 0.05 and rec["severity"] == "block"
    assert (rec["candidate"], rec["baseline"], rec["delta"], rec["n"]) == (stats.candidate, stats.baseline, stats.delta, 200)
    assert rec["ci"] == {"low": stats.low, "high": stats.high, "confidence": pytest.approx(0.9), "method": "percentile", "resamples": 500}
    assert rec["candidate_ci"] == {"low": stats.candidate_low, "high": stats.candidate_high}
    assert rec["dataset"] == {"name": "holdout", "sha256": "c" * 64, "rows": 100}


def test_record_turns_nan_into_none() -> None:
    ctx = context(quality(min_delta=0), None, None)
    nan_stats = result(candidate=math.nan, delta=math.nan, low=math.nan, high=math.inf, candidate_low=math.nan)
    ctx.failures = quality(min_delta=0).failures(nan_stats)
    ctx.result = GateResult(stats=nan_stats, passed=False, rule=ctx.gate.rule)
    rec = ctx.record()
    assert rec["candidate"] is None and rec["delta"] is None
    assert rec["ci"]["low"] is None and rec["ci"]["high"] is None
    assert rec["candidate_ci"]["low"] is None and rec["candidate_ci"]["high"] == 0.88
    assert rec["baseline"] == 0.83
    assert rec["passed"] is False and "NaN" in rec["message"]
    import json

    json.dumps(rec, allow_nan=False)  # JSON-ready
