"""Gates: marker validation, the rule in words, the decision rule on crafted results
(including inconclusive, underpowered failures), per-gate seeds and the gate context
(slices, per-gate method, weights and groups, cross-checks, named input errors)."""

from __future__ import annotations

import hashlib
import math
import re
import warnings
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

import pytest_promote.gates.quality as gates_module
from pytest_promote.datasets import Dataset
from pytest_promote.errors import DatasetError, GateUsageError, MetricInputError, PromoteError
from pytest_promote.gates import Failure, QualityContext, GateFailed, GateResult, PromoteWarning, QualityGate, gate, gate_seed
from pytest_promote.stats import PairedResult
from pytest_promote.stats.crosscheck import CrossCheck
from pytest_promote.stats.metrics import CustomMetric

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
        QualityGate.from_marker(("f2",), {"min_delta": 0}, default_alpha=0.05)
    message = str(info.value)
    assert "unknown metric 'f2'" in message
    for name in ("accuracy", "average_precision", "balanced_accuracy", "brier", "f1", "f1_macro", "r2", "roc_auc", "ndcg@K", "mrr"):
        assert name in message, name
    assert isinstance(info.value, GateUsageError), f"raised {type(info.value).__name__}, code {info.value.code}"


@pytest.mark.parametrize("metric", ["f1", "balanced_accuracy", "r2", "brier", "ndcg@10", "recall@5", "mrr"])
def test_from_marker_accepts_the_new_metrics(metric) -> None:
    g = QualityGate.from_marker((metric,), {"min_delta": 0}, default_alpha=0.05)
    assert g.metric == metric and g.function is None
    assert g.higher_is_better is (metric != "brier")


def test_from_marker_new_option_defaults() -> None:
    g = QualityGate.from_marker(("accuracy",), {"min_delta": 0}, default_alpha=0.05)
    assert (g.method, g.slice_by, g.min_slice_size, g.max_slice_gap, g.function) == (None, None, 100, None, None)
    assert g.metric_object == "accuracy"


def test_from_marker_new_options() -> None:
    kwargs = {"min_delta": 0, "method": "percentile", "slice_by": "region", "min_slice_size": 2, "max_slice_gap": 0.05}
    g = QualityGate.from_marker(("accuracy",), kwargs, default_alpha=0.05)
    assert (g.method, g.slice_by, g.min_slice_size, g.max_slice_gap) == ("percentile", "region", 2, 0.05)
    assert isinstance(g.max_slice_gap, float)
    assert QualityGate.from_marker(("accuracy",), {"min_delta": 0, "method": "bca"}, 0.05).method == "bca"


def test_from_marker_higher_is_better_agreeing_with_a_named_metric_is_accepted() -> None:
    assert QualityGate.from_marker(("mae",), {"min_delta": 0, "higher_is_better": False}, 0.05).higher_is_better is False
    assert QualityGate.from_marker(("accuracy",), {"min_delta": 0, "higher_is_better": True}, 0.05).higher_is_better is True


def my_error_rate(y_true, y_pred) -> float:
    return float(np.mean(np.asarray(y_true) != np.asarray(y_pred)))


def test_from_marker_custom_function_needs_and_takes_higher_is_better() -> None:
    g = QualityGate.from_marker((my_error_rate,), {"min_delta": 0, "higher_is_better": False}, 0.05)
    assert g.metric == "my_error_rate" and g.higher_is_better is False
    assert isinstance(g.function, CustomMetric) and g.function.fn is my_error_rate
    assert g.metric_object is g.function
    assert g.rule == "delta > 0 at 95% confidence"


def test_gate_decorator_with_every_new_option_validates() -> None:
    mark = gate.quality("accuracy", min_delta=0, method="bca", slice_by="region", min_slice_size=10, max_slice_gap=0.1).mark
    g = QualityGate.from_marker(mark.args, mark.kwargs, 0.05)
    assert (g.method, g.slice_by, g.min_slice_size, g.max_slice_gap) == ("bca", "region", 10, 0.1)
    custom = gate.quality(my_error_rate, threshold=0.2, higher_is_better=False).mark
    assert QualityGate.from_marker(custom.args, custom.kwargs, 0.05).function.fn is my_error_rate


NEW_INVALID_MARKERS = [
    ("method-unknown", ("accuracy",), {"min_delta": 0, "method": "bootstrap-t"}, "method must be one of percentile, bca, got 'bootstrap-t'"),
    ("method-case", ("accuracy",), {"min_delta": 0, "method": "BCA"}, "method must be one of percentile, bca"),
    ("custom-without-direction", (my_error_rate,), {"min_delta": 0}, "custom metric function needs higher_is_better=True or False"),
    ("custom-direction-not-bool", (my_error_rate,), {"min_delta": 0, "higher_is_better": "no"}, "needs higher_is_better=True or False"),
    ("contradicts-accuracy", ("accuracy",), {"min_delta": 0, "higher_is_better": False}, "accuracy is higher-is-better; higher_is_better=False contradicts it"),
    ("contradicts-mae", ("mae",), {"min_delta": 0, "higher_is_better": True}, "mae is lower-is-better; higher_is_better=True contradicts it"),
    ("metric-not-callable", (3,), {"min_delta": 0}, "metric must be a name or a function, got int"),
    ("slice-by-empty", ("accuracy",), {"min_delta": 0, "slice_by": ""}, "slice_by must be a dataset column name, got ''"),
    ("slice-by-number", ("accuracy",), {"min_delta": 0, "slice_by": 3}, "slice_by must be a dataset column name, got 3"),
    ("min-slice-size-one", ("accuracy",), {"min_delta": 0, "slice_by": "r", "min_slice_size": 1}, "min_slice_size must be an integer >= 2, got 1"),
    ("min-slice-size-float", ("accuracy",), {"min_delta": 0, "slice_by": "r", "min_slice_size": 50.0}, "min_slice_size must be an integer >= 2, got 50.0"),
    ("min-slice-size-bool", ("accuracy",), {"min_delta": 0, "slice_by": "r", "min_slice_size": True}, "min_slice_size must be an integer >= 2, got True"),
    ("gap-without-slice-by", ("accuracy",), {"min_delta": 0, "max_slice_gap": 0.1}, "max_slice_gap needs slice_by= and a positive number"),
    ("gap-zero", ("accuracy",), {"min_delta": 0, "slice_by": "r", "max_slice_gap": 0}, "max_slice_gap needs slice_by= and a positive number"),
    ("gap-negative", ("accuracy",), {"min_delta": 0, "slice_by": "r", "max_slice_gap": -0.1}, "max_slice_gap needs slice_by= and a positive number"),
    ("gap-string", ("accuracy",), {"min_delta": 0, "slice_by": "r", "max_slice_gap": "0.1"}, "max_slice_gap must be a finite number"),
    ("gap-nan", ("accuracy",), {"min_delta": 0, "slice_by": "r", "max_slice_gap": float("nan")}, "max_slice_gap must be a finite number"),
    (
        "unknown-kwarg-lists-new-options",
        ("accuracy",),
        {"min_delta": 0, "slices": "r"},
        "allowed: alpha, higher_is_better, max_slice_gap, method, metric, min_delta, min_slice_size, severity, slice_by, threshold",
    ),
]


@pytest.mark.parametrize(("args", "kwargs", "expected"), [c[1:] for c in NEW_INVALID_MARKERS], ids=[c[0] for c in NEW_INVALID_MARKERS])
def test_from_marker_new_options_invalid(args, kwargs, expected) -> None:
    with pytest.raises(GateUsageError) as info:
        QualityGate.from_marker(args, kwargs, default_alpha=0.05)
    assert str(info.value).startswith("gate.quality")
    assert expected in str(info.value)


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


def test_rule_text_with_slices() -> None:
    sliced = QualityGate("accuracy", 0.0, None, 0.05, "block", True, slice_by="region", min_slice_size=50)
    assert sliced.rule == "delta > 0 in every region slice of >= 50 rows at 95% confidence"
    guarded = replace(sliced, max_slice_gap=0.05)
    assert guarded.rule == "delta > 0 in every region slice of >= 50 rows, slice gap < 0.05 at 95% confidence"
    both = QualityGate("mae", -0.1, 2.0, 0.1, "block", False, slice_by="city", max_slice_gap=0.5)
    assert both.rule == "delta > -0.1 and mae < 2 in every city slice of >= 100 rows, slice gap < 0.5 at 90% confidence"
    # the per-gate method does not change the rule
    assert replace(sliced, method="bca").rule == sliced.rule


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
        mde=0.015,
        alpha=0.05,
        method="percentile",
        resamples=1000,
        seed=1,
        n=1000,
        units=1000,
        grouped=False,
        weighted=False,
        path="multinomial",
        cross_check=None,
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
        assert all(isinstance(f, Failure) for f in failures)
        assert "lower confidence bound of delta" in failures[0].message


def test_min_delta_ignores_point_estimate_and_upper_bound() -> None:
    # a big point estimate does not help when the lower bound is not above d
    assert quality(min_delta=0).failures(result(delta=0.5, low=-0.001, high=0.9))
    assert quality(min_delta=0).failures(result(delta=0.02, low=0.001, high=0.03)) == []


def test_threshold_higher_is_better_uses_candidate_low() -> None:
    g = quality(threshold=0.8)
    assert g.failures(result(candidate=0.85, candidate_low=0.81, candidate_high=0.89)) == []
    assert g.failures(result(candidate=0.85, candidate_low=0.80, candidate_high=0.89))  # strict
    failures = g.failures(result(candidate=0.85, candidate_low=0.79, candidate_high=0.99))
    assert failures and "candidate's lower confidence bound is 0.7900, not above 0.8" in failures[0].message
    # candidate_high above the threshold is irrelevant for higher-is-better
    assert g.failures(result(candidate=0.9, candidate_low=0.75, candidate_high=0.95))


def test_threshold_lower_is_better_uses_candidate_high() -> None:
    g = quality(threshold=0.5, higher_is_better=False)
    ok = result(False, candidate=0.4, baseline=0.45, candidate_low=0.1, candidate_high=0.49)
    assert g.failures(ok) == []
    assert g.failures(replace(ok, candidate_high=0.5))  # strict
    failures = g.failures(replace(ok, candidate_high=0.51, candidate_low=0.3))
    assert failures and "candidate's upper confidence bound is 0.5100, not below 0.5" in failures[0].message
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
    assert any("NaN" in f.message and not f.underpowered for f in failures)


# --- underpowered failures on crafted results ----------------------------------------------------


def test_superiority_straddling_zero_with_positive_mde_is_underpowered_with_examples_needed() -> None:
    straddling = result(delta=0.01, low=-0.005, high=0.025, se=0.009, mde=0.0224, units=1000)
    [failure] = quality(min_delta=0).failures(straddling)
    assert failure.underpowered is True
    assert failure.examples_needed == math.ceil(1000 * (0.0224 / 0.01) ** 2) == 5018
    assert failure.message == "the lower confidence bound of delta is -0.0050, not above 0"


def test_examples_needed_scales_with_units_and_the_distance_to_min_delta() -> None:
    # positive min_delta: the distance is the estimate's lead over it, not over 0
    straddling = result(delta=0.05, low=0.015, high=0.07, se=0.01, mde=0.0249, units=300)
    [failure] = quality(min_delta=0.02).failures(straddling)
    assert failure.underpowered
    assert failure.examples_needed == math.ceil(300 * (0.0249 / 0.03) ** 2) == 207


def test_underpowered_with_the_estimate_on_the_failing_side_needs_no_estimate() -> None:
    failing_side = result(delta=-0.002, low=-0.02, high=0.015, se=0.01, mde=0.0249)
    [failure] = quality(min_delta=0).failures(failing_side)
    assert failure.underpowered is True and failure.examples_needed is None


def test_non_inferiority_straddling_with_mde_within_the_margin_is_a_plain_failure() -> None:
    # min_delta=-0.01 tolerates a loss of 0.01: an mde of at most that means the data had power
    g = quality(min_delta=-0.01)
    for mde in (0.004, 0.01):
        [failure] = g.failures(result(delta=0.002, low=-0.012, high=0.016, se=mde / 2.49, mde=mde))
        assert failure.underpowered is False and failure.examples_needed is None, mde
    [wide] = g.failures(result(delta=0.002, low=-0.02, high=0.024, se=0.01, mde=0.0249, units=500))
    assert wide.underpowered is True
    assert wide.examples_needed == math.ceil(500 * (0.0249 / 0.012) ** 2)


def test_interval_entirely_below_min_delta_is_a_plain_failure() -> None:
    [failure] = quality(min_delta=0).failures(result(delta=-0.03, low=-0.05, high=-0.01, mde=0.2))
    assert failure.underpowered is False and failure.examples_needed is None
    # touching min_delta from below is not straddling it
    [touching] = quality(min_delta=0).failures(result(delta=-0.01, low=-0.02, high=0.0, mde=0.2))
    assert touching.underpowered is False


def test_nan_mde_is_never_underpowered() -> None:
    [failure] = quality(min_delta=0).failures(result(delta=0.01, low=-0.005, high=0.025, mde=math.nan))
    assert failure.underpowered is False


def test_threshold_failure_is_underpowered_only_when_the_candidate_interval_straddles() -> None:
    g = quality(threshold=0.8)
    [straddles] = g.failures(result(candidate=0.85, candidate_low=0.79, candidate_high=0.9))
    assert straddles.underpowered is True
    [below] = g.failures(result(candidate=0.7, candidate_low=0.65, candidate_high=0.78))
    assert below.underpowered is False
    lower = quality(threshold=0.5, higher_is_better=False)
    [straddles_lib] = lower.failures(result(False, candidate=0.45, candidate_low=0.4, candidate_high=0.55))
    [above_lib] = lower.failures(result(False, candidate=0.7, candidate_low=0.6, candidate_high=0.8))
    assert straddles_lib.underpowered is True and above_lib.underpowered is False


# --- outcomes of the gate context on crafted results -------------------------------------------------


def crafted_context(monkeypatch, g: QualityGate, stats: PairedResult, node_id="t.py::test_gate") -> QualityContext:
    """A context whose comparison returns ``stats``: the outcome logic on chosen numbers."""
    monkeypatch.setattr(gates_module, "paired_bootstrap", lambda *args, **kwargs: stats)
    return QualityContext(node_id, g, 11, 500, "percentile", FakeModels(None, None), FakeDatasets())


def compare_crafted(ctx: QualityContext) -> GateResult:
    return ctx.compare(lambda model: np.zeros(4), np.zeros(4))


STRADDLING = dict(delta=0.01, low=-0.005, high=0.025, se=0.009, mde=0.0224, units=1000)


def test_underpowered_blocking_gate_is_inconclusive_and_says_how_many_examples(monkeypatch) -> None:
    ctx = crafted_context(monkeypatch, quality(min_delta=0), result(**STRADDLING))
    with pytest.raises(GateFailed) as info:
        compare_crafted(ctx)
    message = str(info.value)
    assert ctx.result.outcome == "inconclusive" and ctx.result.passed is False
    assert message.startswith("gate accuracy inconclusive (underpowered): rule delta > 0 at 95% confidence")
    assert "minimal detectable effect at 80% power is 0.0224" in message
    assert "about 5018 examples (now 1000)" in message and "true delta is +0.0100" in message
    assert info.value.code == "underpowered"  # the pytest line says [underpowered], as the verdict does
    record = ctx.record()
    assert record["underpowered"] is True and record["passed"] is False
    assert record["message"].startswith("the lower confidence bound of delta is -0.0050, not above 0. ")
    assert "about 5018 examples (now 1000)" in record["message"]


def test_underpowered_grouped_gate_counts_groups(monkeypatch) -> None:
    stats = result(**{**STRADDLING, "units": 40, "grouped": True})
    ctx = crafted_context(monkeypatch, quality(min_delta=0), stats)
    with pytest.raises(GateFailed, match=r"about 201 groups \(now 40\)"):
        compare_crafted(ctx)
    assert math.ceil(40 * (0.0224 / 0.01) ** 2) == 201


def test_inconclusive_on_the_failing_side_predicts_a_failure(monkeypatch) -> None:
    ctx = crafted_context(monkeypatch, quality(min_delta=0), result(delta=-0.002, low=-0.02, high=0.015, mde=0.0249))
    with pytest.raises(GateFailed) as info:
        compare_crafted(ctx)
    assert ctx.result.outcome == "inconclusive"
    assert "estimate sits on the failing side" in str(info.value) and "about" not in str(info.value)


def test_warn_only_inconclusive_gate_warns_and_returns(monkeypatch) -> None:
    ctx = crafted_context(monkeypatch, quality(min_delta=0, severity="warn"), result(**STRADDLING))
    with pytest.warns(PromoteWarning, match=r"warn-only gate failed: gate accuracy inconclusive \(underpowered\)"):
        res = compare_crafted(ctx)
    assert res.outcome == "inconclusive" and not res.passed


@pytest.mark.parametrize(
    ("gate_kwargs", "fields"),
    [
        ({"min_delta": -0.01}, dict(delta=0.002, low=-0.012, high=0.016, se=0.003, mde=0.008)),  # powered non-inferiority
        ({"min_delta": 0}, dict(delta=-0.03, low=-0.05, high=-0.01, mde=0.2)),  # entirely below
        ({"min_delta": 0}, dict(STRADDLING, candidate=math.nan)),  # NaN elsewhere
        ({"min_delta": 0}, dict(STRADDLING, low=math.nan)),  # NaN bound, straddling by its upper end
        ({"min_delta": 0, "threshold": 0.9}, dict(STRADDLING, candidate_low=0.8, candidate_high=0.88)),  # one part plainly failed
    ],
    ids=["non-inferiority-powered", "entirely-below", "nan-estimate", "nan-bound", "mixed"],
)
def test_failed_not_inconclusive(monkeypatch, gate_kwargs, fields) -> None:
    ctx = crafted_context(monkeypatch, quality(**gate_kwargs), result(**fields))
    with pytest.raises(GateFailed) as info:
        compare_crafted(ctx)
    assert ctx.result.outcome == "failed"
    assert str(info.value).startswith("gate accuracy failed: ")
    assert "minimal detectable effect" not in str(info.value)
    assert ctx.record()["underpowered"] is False


def test_threshold_inconclusive_advice_matches_the_estimate(monkeypatch) -> None:
    # the candidate's estimate (0.85) is on the passing side of the threshold (0.8): the advice
    # must not say it sits on the failing side, nor compare the delta's mde with a margin
    stats = result(candidate=0.85, candidate_low=0.79, candidate_high=0.9, mde=0.0001)
    ctx = crafted_context(monkeypatch, quality(threshold=0.8), stats)
    with pytest.raises(GateFailed) as info:
        compare_crafted(ctx)
    assert ctx.result.outcome == "inconclusive"
    assert "failing side" not in str(info.value)


# --- cross-checks --------------------------------------------------------------------------------------


def mcnemar(low: float, high: float = 0.03) -> CrossCheck:
    return CrossCheck("mcnemar_exact", 0.02, low, high, 0.04, None)


def test_cross_check_disagreement_becomes_a_record_warning(monkeypatch) -> None:
    # the bootstrap's lower bound (0.001) passes delta > 0; the closed form's (-0.002) does not
    stats = result(low=0.001, cross_check=mcnemar(-0.002))
    ctx = crafted_context(monkeypatch, quality(min_delta=0), stats, node_id="t.py::test_acc")
    with pytest.warns(PromoteWarning, match="cross-check disagree on the delta rule"):
        res = compare_crafted(ctx)
    assert res.outcome == "passed"  # the bootstrap decides; the cross-check only warns
    record = ctx.record()
    assert record["cross_check"] == {
        "method": "mcnemar_exact", "delta": 0.02, "low": -0.002, "high": 0.03, "p_value": 0.04, "se": None,
        "passes": False, "agrees": False,
    }  # fmt: skip
    [note] = record["warnings"]
    assert note.startswith("t.py::test_acc: the bootstrap and the mcnemar_exact cross-check disagree on the delta rule")
    assert "bootstrap passes with lower bound 0.0010" in note and "mcnemar_exact fails with lower bound -0.0020" in note


def test_cross_check_disagreement_the_other_way(monkeypatch) -> None:
    stats = result(low=-0.001, high=0.04, mde=0.001, cross_check=mcnemar(0.003))
    ctx = crafted_context(monkeypatch, quality(min_delta=0), stats)
    with pytest.raises(GateFailed), pytest.warns(PromoteWarning, match="cross-check disagree"):
        compare_crafted(ctx)
    record = ctx.record()
    assert record["cross_check"]["passes"] is True and record["cross_check"]["agrees"] is False
    assert any("bootstrap fails" in note and "mcnemar_exact passes" in note for note in record["warnings"])


def test_cross_check_agreement_adds_no_warning(monkeypatch) -> None:
    ctx = crafted_context(monkeypatch, quality(min_delta=0), result(low=0.01, cross_check=mcnemar(0.004)))
    compare_crafted(ctx)
    record = ctx.record()
    assert record["cross_check"]["passes"] is True and record["cross_check"]["agrees"] is True
    assert record["warnings"] == []


def test_cross_check_without_a_delta_rule_judges_nothing(monkeypatch) -> None:
    ctx = crafted_context(monkeypatch, quality(threshold=0.8), result(low=-0.5, cross_check=mcnemar(0.004)))
    compare_crafted(ctx)
    record = ctx.record()
    assert record["cross_check"]["passes"] is None and record["cross_check"]["agrees"] is None
    assert record["warnings"] == []
    assert quality(min_delta=0).cross_check_passes(mcnemar(math.nan)) is None


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


def context(g: QualityGate, candidate, baseline, node_id="t.py::test_gate", seed=11) -> QualityContext:
    return QualityContext(
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
    ctx.result = GateResult(stats=nan_stats, outcome="failed", rule=ctx.gate.rule)
    rec = ctx.record()
    assert rec["candidate"] is None and rec["delta"] is None
    assert rec["ci"]["low"] is None and rec["ci"]["high"] is None
    assert rec["candidate_ci"]["low"] is None and rec["candidate_ci"]["high"] == 0.88
    assert rec["baseline"] == 0.83
    assert rec["passed"] is False and "NaN" in rec["message"]
    import json

    json.dumps(rec, allow_nan=False)  # JSON-ready


def test_record_after_compare_has_the_new_fields() -> None:
    y, good, bad = data()
    ctx = context(quality(min_delta=0), {"pred": good}, {"pred": bad})
    ctx.compare(lambda m: m["pred"], y)
    rec, stats = ctx.record(), ctx.result.stats
    assert (rec["units"], rec["grouped"], rec["weighted"]) == (200, False, False)
    assert rec["se"] == stats.se > 0 and rec["mde"] == stats.mde > rec["se"]
    assert rec["engine"] == stats.path == "multinomial"  # accuracy: four (right, right) cells
    assert rec["underpowered"] is False and rec["warnings"] == []
    assert rec["slices"] is None and rec["slice_gap"] is None
    check = rec["cross_check"]
    assert check["method"] == "mcnemar_exact" and check["se"] is None
    assert check["passes"] is (check["low"] > 0) and check["agrees"] is True
    assert check["delta"] == pytest.approx(stats.delta)


def test_record_before_compare_has_no_warnings_and_is_not_underpowered() -> None:
    rec = context(quality(min_delta=0), None, None).record()
    assert rec["underpowered"] is False and rec["warnings"] == []
    assert "cross_check" not in rec and "engine" not in rec  # unmeasured: nothing to report


def test_real_underpowered_comparison_is_inconclusive() -> None:
    # 200 examples; the candidate alone is right on 6, the baseline alone on 2: +0.02, too few to tell
    n = 200
    y = np.tile([0, 1], n // 2)
    candidate, baseline = y.copy(), y.copy()
    baseline[:6] = 1 - y[:6]
    candidate[6:8] = 1 - y[6:8]
    candidate[8:40] = baseline[8:40] = 1 - y[8:40]
    superiority = context(quality(min_delta=0), {"pred": candidate}, {"pred": baseline})
    with pytest.raises(GateFailed, match=r"inconclusive \(underpowered\)") as info:
        superiority.compare(lambda m: m["pred"], y)
    stats = superiority.result.stats
    assert superiority.result.outcome == "inconclusive"
    assert stats.low <= 0 < stats.high and stats.mde > 0
    needed = math.ceil(stats.units * (stats.mde / stats.delta) ** 2)
    assert f"about {needed} examples (now 200)" in str(info.value) and needed > 200
    # the same data, judged for non-inferiority, passes
    lenient = context(quality(min_delta=-0.01), {"pred": candidate}, {"pred": baseline})
    assert lenient.compare(lambda m: m["pred"], y).outcome == "passed"


# --- slices ----------------------------------------------------------------------------------------


class DatasetStore:
    """A store holding real Dataset objects (so that Dataset.column is the real one)."""

    def __init__(self, *datasets: Dataset) -> None:
        self.datasets = {d.name: d for d in datasets}

    def get(self, name):
        return self.datasets[name]


def sliced_data(n=400, seed=3, bad_region_b=False):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    region = np.where(np.arange(n) % 4 == 0, "b", "a")  # a: 300 rows, b: 100 rows
    good = np.where(rng.uniform(size=n) < 0.92, y, 1 - y)
    bad = np.where(rng.uniform(size=n) < 0.7, y, 1 - y)
    if bad_region_b:
        good = np.where(region == "b", np.where(rng.uniform(size=n) < 0.5, y, 1 - y), good)
    dataset = Dataset("holdout", np.zeros((n, 1)), y, ("x0",), "d" * 64, {"label": y, "region": region})
    return y, good, bad, dataset


def sliced_context(g: QualityGate, candidate, baseline, dataset: Dataset, node_id="t.py::test_sliced") -> QualityContext:
    return QualityContext(node_id, g, 5, 300, "percentile", FakeModels(candidate, baseline), DatasetStore(dataset))


def test_slice_by_needs_the_dataset_name() -> None:
    y, good, bad, dataset = sliced_data()
    ctx = sliced_context(replace(quality(min_delta=0), slice_by="region"), good, bad, dataset)
    with pytest.raises(GateUsageError, match=r"t.py::test_sliced: slice_by='region' needs promote.compare\(..., dataset=NAME\)"):
        ctx.compare(lambda m: m, y)
    assert ctx.result is None and ctx.models.calls == []  # refused before any prediction


def test_slice_by_compares_every_slice_and_records_it() -> None:
    y, good, bad, dataset = sliced_data()
    g = QualityGate("accuracy", 0.0, None, 0.05, "block", True, slice_by="region", min_slice_size=50, max_slice_gap=0.3)
    ctx = sliced_context(g, good, bad, dataset)
    res = ctx.compare(lambda m: m, y, dataset="holdout")
    assert res.outcome == "passed"
    assert [(s.value, s.rows) for s in res.slices] == [("a", 300), ("b", 100)]
    in_b = dataset.column("region") == "b"
    assert res.slices[1].result.candidate == np.mean(good[in_b] == y[in_b])
    assert res.slices[1].result.n == 100 and res.slices[1].result.seed != ctx.seed  # each slice has its own seed
    assert res.slice_gap.slices == 2 and res.slice_gap.high < 0.3
    rec = ctx.record()
    assert rec["rule"] == "delta > 0 in every region slice of >= 50 rows, slice gap < 0.3 at 95% confidence"
    assert [(s["value"], s["rows"], s["skipped"], s["passed"]) for s in rec["slices"]] == [("a", 300, False, True), ("b", 100, False, True)]
    assert rec["slices"][1]["ci"]["resamples"] == 300 and rec["slices"][1]["candidate_ci"]["low"] is not None
    assert rec["slice_gap"]["max"] == 0.3 and rec["slice_gap"]["passed"] is True
    assert rec["slice_gap"]["gap"] == pytest.approx(abs(res.slices[0].result.candidate - res.slices[1].result.candidate))
    assert rec["dataset"] == {"name": "holdout", "sha256": "d" * 64, "rows": 400}


def test_small_slice_is_listed_but_not_compared() -> None:
    y, good, bad, dataset = sliced_data()
    g = QualityGate("accuracy", 0.0, None, 0.05, "block", True, slice_by="region", min_slice_size=150)
    ctx = sliced_context(g, good, bad, dataset)
    res = ctx.compare(lambda m: m, y, dataset="holdout")
    assert res.passed and res.slices[1].result is None and res.slice_gap is None
    skipped = ctx.record()["slices"][1]
    assert skipped == {"value": "b", "rows": 100, "skipped": True, "passed": None, "candidate": None, "baseline": None,
                       "delta": None, "ci": None, "candidate_ci": None}  # fmt: skip


def test_gap_guardrail_needs_two_compared_slices() -> None:
    y, good, bad, dataset = sliced_data()
    g = QualityGate("accuracy", 0.0, None, 0.05, "block", True, slice_by="region", min_slice_size=150, max_slice_gap=0.5)
    ctx = sliced_context(g, good, bad, dataset)
    with pytest.raises(GateFailed, match="fewer than two region slices have >= 150 rows: no gap to bound"):
        ctx.compare(lambda m: m, y, dataset="holdout")
    assert ctx.result.outcome == "failed"


def test_a_failing_slice_fails_the_gate_and_is_named() -> None:
    y, good, bad, dataset = sliced_data(bad_region_b=True)
    g = QualityGate("accuracy", 0.0, None, 0.05, "block", True, slice_by="region", min_slice_size=50, max_slice_gap=0.1)
    ctx = sliced_context(g, good, bad, dataset)
    with pytest.raises(GateFailed) as info:
        ctx.compare(lambda m: m, y, dataset="holdout")
    message = str(info.value)
    assert "slice region='b': the lower confidence bound of delta is" in message
    assert "the upper confidence bound of the slice gap is" in message and "not below 0.1" in message
    assert "slice region='a'" not in message
    rec = ctx.record()
    assert [s["passed"] for s in rec["slices"]] == [True, False]
    assert rec["slice_gap"]["passed"] is False


def test_unknown_slice_column_names_the_columns() -> None:
    y, good, bad, dataset = sliced_data()
    ctx = sliced_context(replace(quality(min_delta=0), slice_by="country"), good, bad, dataset)
    with pytest.raises(DatasetError, match=r"no column 'country' \(columns: x0, label, region\)"):
        ctx.compare(lambda m: m, y, dataset="holdout")


# --- method, weights, groups -------------------------------------------------------------------------


def test_gate_method_overrides_the_context_method() -> None:
    y, good, bad = data()
    ctx = context(replace(quality(min_delta=0), method="bca"), {"pred": good}, {"pred": bad})  # context says percentile
    res = ctx.compare(lambda m: m["pred"], y)
    assert res.stats.method == "bca" and ctx.record()["ci"]["method"] == "bca"
    default = context(quality(min_delta=0), {"pred": good}, {"pred": bad})
    assert default.compare(lambda m: m["pred"], y).stats.method == "percentile"
    assert res.stats.low != default.result.stats.low  # a different interval, from the same resamples


def test_sample_weight_passes_through() -> None:
    y, good, bad = data()
    weight = np.where(np.arange(len(y)) % 2 == 0, 3.0, 1.0)
    ctx = context(quality(min_delta=0), {"pred": good}, {"pred": bad})
    res = ctx.compare(lambda m: m["pred"], y, sample_weight=weight)
    assert res.candidate == pytest.approx(np.average(good == y, weights=weight))
    rec = ctx.record()
    assert rec["weighted"] is True and rec["grouped"] is False and rec["units"] == 200
    assert rec["cross_check"] is None  # the closed forms assume unweighted data


def test_groups_pass_through_and_count_as_units() -> None:
    y, good, bad = data()
    groups = np.arange(len(y)) // 5  # 40 groups of 5
    ctx = context(quality(min_delta=0), {"pred": good}, {"pred": bad})
    ctx.compare(lambda m: m["pred"], y, groups=groups)
    rec = ctx.record()
    assert rec["grouped"] is True and rec["weighted"] is False
    assert rec["units"] == 40 and rec["n"] == 200
    assert rec["cross_check"] is None


# --- input errors, notes, custom metrics ------------------------------------------------------------


def test_bad_predictions_raise_a_metric_input_error_naming_gate_and_model() -> None:
    y, good, bad = data()
    ctx = context(quality(min_delta=0), {"pred": good[:-1]}, {"pred": bad}, node_id="t.py::test_short")
    with pytest.raises(MetricInputError) as info:
        ctx.compare(lambda m: m["pred"], y)
    message = str(info.value)
    assert message.startswith("gate accuracy (t.py::test_short): ")
    assert "candidate predictions have 199 rows but y_true has 200" in message
    assert info.value.code == "bad_input" and ctx.result is None


def test_nan_predictions_name_the_baseline() -> None:
    y = np.linspace(0, 1, 60)
    baseline = y.copy()
    baseline[[3, 7]] = np.nan
    g = QualityGate.from_marker(("mae",), {"min_delta": 0}, 0.05)
    ctx = context(g, {"pred": y + 0.01}, {"pred": baseline})
    with pytest.raises(MetricInputError, match=r"^gate mae \(t.py::test_gate\): baseline predictions: 2 of 60 values are NaN or infinite"):
        ctx.compare(lambda m: m["pred"], y)


def test_bad_sample_weight_is_named_by_the_gate() -> None:
    y, good, bad = data()
    ctx = context(quality(min_delta=0), {"pred": good}, {"pred": bad})
    with pytest.raises(MetricInputError, match=r"^gate accuracy \(t.py::test_gate\): sample_weight: 1 of 200 weights are negative"):
        ctx.compare(lambda m: m["pred"], y, sample_weight=np.r_[-1.0, np.ones(199)])


def test_small_sample_warning_names_the_gate_and_lands_in_the_record() -> None:
    y, good, bad = data(n=20)
    ctx = context(quality(min_delta=-1), {"pred": good}, {"pred": bad})
    with pytest.warns(PromoteWarning, match=r"^t.py::test_gate: only 20 examples"):
        ctx.compare(lambda m: m["pred"], y)
    [note] = ctx.record()["warnings"]
    assert note.startswith("t.py::test_gate: only 20 examples")


def test_custom_metric_gate_compares_with_the_function() -> None:
    y, good, bad = data(n=60)
    g = QualityGate.from_marker((my_error_rate,), {"min_delta": -1, "higher_is_better": False}, 0.05)
    ctx = QualityContext("t.py::test_custom", g, 3, 100, "percentile", FakeModels({"pred": good}, {"pred": bad}), FakeDatasets())
    res = ctx.compare(lambda m: m["pred"], y)
    assert res.candidate == my_error_rate(y, good) and res.delta == pytest.approx(my_error_rate(y, bad) - my_error_rate(y, good))
    rec = ctx.record()
    assert rec["metric"] == "my_error_rate" and rec["higher_is_better"] is False
    assert rec["engine"] == "custom" and rec["cross_check"] is None


def test_warnings_other_than_promote_warnings_are_not_swallowed() -> None:
    # a user's metric (or numpy, or scikit-learn) warning during the comparison must reach the caller
    def noisy_accuracy(y_true, y_pred) -> float:
        warnings.warn("noisy metric says hello", UserWarning)
        return float(np.mean(y_true == y_pred))

    y, good, bad = data(n=40)
    g = QualityGate.from_marker((noisy_accuracy,), {"min_delta": -1, "higher_is_better": True}, 0.05)
    ctx = QualityContext("t.py::test_noisy", g, 3, 20, "percentile", FakeModels({"pred": good}, {"pred": bad}), FakeDatasets())
    with pytest.warns(UserWarning, match="noisy metric says hello"):
        ctx.compare(lambda m: m["pred"], y)


def test_underpowered_slice_advice_counts_the_slice_not_the_whole_set(monkeypatch) -> None:
    # the whole set passes; one slice of 100 rows straddles 0. The advice must not say that
    # fewer examples than there are now would decide it.
    from pytest_promote.stats.slices import SliceResult

    overall = result(delta=0.05, low=0.03, high=0.07, se=0.012, mde=0.03, units=1000)
    weak = result(delta=0.05, low=-0.01, high=0.11, se=0.032, mde=0.08, units=100, n=100)
    monkeypatch.setattr(gates_module, "paired_bootstrap", lambda *a, **k: overall)
    monkeypatch.setattr(gates_module, "compare_slices", lambda *a, **k: ([SliceResult("b", 100, weak)], None))
    y, good, bad, dataset = sliced_data()
    g = QualityGate("accuracy", 0.0, None, 0.05, "block", True, slice_by="region", min_slice_size=50)
    ctx = sliced_context(g, good, bad, dataset)
    with pytest.raises(GateFailed) as info:
        ctx.compare(lambda m: m, y, dataset="holdout")
    assert ctx.result.outcome == "inconclusive"
    advised, now = map(int, re.search(r"about (\d+) \w+ \(now (\d+)\)", str(info.value)).groups())
    assert advised > now, str(info.value)


def test_no_slice_large_enough_is_a_warning_not_a_silent_pass() -> None:
    y, good, bad, dataset = sliced_data()
    g = QualityGate("accuracy", 0.0, None, 0.05, "block", True, slice_by="region", min_slice_size=350)
    ctx = sliced_context(g, good, bad, dataset)
    with pytest.warns(PromoteWarning):
        res = ctx.compare(lambda m: m, y, dataset="holdout")
    assert res.passed and all(piece.result is None for piece in res.slices)
    assert ctx.record()["warnings"] == ["t.py::test_sliced: no region slice has >= 350 rows; the rule was checked on the whole set only"]
