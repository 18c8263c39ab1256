"""Metrics on weight matrices: point values equal scikit-learn's, weights equal explicit
resampling, the closed-form jackknife equals leave-one-out, and bad input is named."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from pytest_promote.errors import MetricInputError
from pytest_promote.stats import paired_bootstrap
from pytest_promote.stats.metrics import METRICS, Metric, get_metric, metric_names

sk = pytest.importorskip("sklearn.metrics")

N = 60


def _rmse(y, pred):
    return math.sqrt(sk.mean_squared_error(y, pred))


def _binary_probabilities(rng, n):
    p = rng.uniform(0.02, 0.98, n)
    return np.column_stack([1 - p, p])


def _multiclass_probabilities(rng, n, k=3):
    return rng.dirichlet(np.ones(k), size=n)


def make_cases(seed: int = 7):
    """(id, metric name, y_true, predictions, reference function on (y, pred))."""
    rng = np.random.default_rng(seed)
    y01 = rng.integers(0, 2, N)
    y01[:2] = [0, 1]
    y12 = y01 + 1
    ystr = np.where(y01 == 1, "spam", "ham")
    y3 = rng.integers(0, 3, N)
    y3[:3] = [0, 1, 2]
    tied_scores = np.round(rng.normal(size=N) + y01, 1)  # few distinct values: many ties
    p1 = np.clip(np.round(rng.uniform(0, 1, N), 2), 0.01, 0.99)
    p2 = _binary_probabilities(rng, N)
    p3 = _multiclass_probabilities(rng, N)
    labels_pred = np.where(rng.uniform(size=N) < 0.7, y01, 1 - y01)
    y_reg = rng.normal(10, 3, N)
    pred_reg = y_reg + rng.standard_t(3, N)

    def acc_threshold(y, p):
        classes = np.unique(y)
        return sk.accuracy_score(y, np.where(np.asarray(p) > 0.5, classes[1], classes[0]))

    def acc_argmax(y, p):
        classes = np.unique(y)
        return sk.accuracy_score(y, classes[np.argmax(p, axis=1)])

    return [
        ("accuracy-int-labels", "accuracy", y01, labels_pred, sk.accuracy_score),
        ("accuracy-string-labels", "accuracy", ystr, np.where(labels_pred == 1, "spam", "ham"), sk.accuracy_score),
        ("accuracy-object-labels", "accuracy", ystr.astype(object), np.where(labels_pred == 1, "spam", "ham"), sk.accuracy_score),
        ("accuracy-labels-1-2", "accuracy", y12, labels_pred + 1, sk.accuracy_score),
        ("accuracy-float-labels", "accuracy", y01, labels_pred.astype(float), sk.accuracy_score),
        ("accuracy-1d-probabilities", "accuracy", y01, p1, acc_threshold),
        ("accuracy-1d-probabilities-labels-1-2", "accuracy", y12, p1, acc_threshold),
        ("accuracy-2d-binary", "accuracy", y01, p2, acc_argmax),
        ("accuracy-2d-binary-labels-1-2", "accuracy", y12, p2, acc_argmax),
        ("accuracy-2d-string-labels", "accuracy", ystr, p2, acc_argmax),
        ("accuracy-2d-multiclass", "accuracy", y3, p3, acc_argmax),
        ("roc_auc-ties", "roc_auc", y01, tied_scores, sk.roc_auc_score),
        ("roc_auc-string-labels", "roc_auc", ystr, tied_scores, sk.roc_auc_score),
        ("roc_auc-labels-1-2", "roc_auc", y12, tied_scores, sk.roc_auc_score),
        ("roc_auc-2d-binary", "roc_auc", y01, p2, lambda y, p: sk.roc_auc_score(y, p[:, 1])),
        ("roc_auc-integer-scores", "roc_auc", y01, rng.integers(0, 4, N), sk.roc_auc_score),
        ("log_loss-1d", "log_loss", y01, p1, sk.log_loss),
        ("log_loss-1d-labels-1-2", "log_loss", y12, p1, sk.log_loss),
        ("log_loss-2d-binary", "log_loss", y01, p2, sk.log_loss),
        ("log_loss-2d-string-labels", "log_loss", ystr, p2, sk.log_loss),
        ("log_loss-2d-multiclass", "log_loss", y3, p3, sk.log_loss),
        ("log_loss-hard-zero-and-one", "log_loss", y01, np.where(y01 == 1, 1.0, 0.0) * (np.arange(N) % 3 != 0) + (np.arange(N) % 3 == 0) * (1 - y01), sk.log_loss),
        ("mae", "mae", y_reg, pred_reg, sk.mean_absolute_error),
        ("rmse", "rmse", y_reg, pred_reg, _rmse),
    ]


CASES = make_cases()
IDS = [case[0] for case in CASES]
PARAMS = [case[1:] for case in CASES]


@pytest.mark.parametrize(("name", "y", "pred", "reference"), PARAMS, ids=IDS)
def test_point_value_equals_scikit_learn(name, y, pred, reference) -> None:
    metric = get_metric(name)
    value = metric.point(metric.prepare(y, pred, "candidate"))
    assert value == pytest.approx(reference(y, pred), rel=1e-12, abs=1e-12)


def test_accuracy_1d_probability_exactly_half_is_negative() -> None:
    metric = get_metric("accuracy")
    # 0.5 is not above the threshold, so it predicts the first class
    assert metric.point(metric.prepare(np.array([0, 1, 0]), np.array([0.5, 0.75, 0.25]), "candidate")) == 1.0
    assert metric.point(metric.prepare(np.array([1, 1, 0]), np.array([0.5, 0.75, 0.25]), "candidate")) == pytest.approx(2 / 3)


def test_point_values_on_hand_computed_data() -> None:
    def point(name, y, pred):
        metric = get_metric(name)
        return metric.point(metric.prepare(np.asarray(y), np.asarray(pred), "candidate"))

    assert point("accuracy", [0, 1, 1, 0], [0, 1, 0, 0]) == 0.75
    assert point("roc_auc", [0, 0, 1, 1], [0.1, 0.5, 0.5, 0.9]) == pytest.approx((1 + 1 + 0.5 + 1) / 4)
    assert point("mae", [1.0, 2.0, 3.0], [2.0, 2.0, 1.0]) == 1.0
    assert point("rmse", [0.0, 0.0], [3.0, 4.0]) == pytest.approx(math.sqrt(12.5))
    assert point("log_loss", [0, 1], [0.5, 0.5]) == pytest.approx(math.log(2))


def test_direction_of_each_metric() -> None:
    assert {name: METRICS[name].higher_is_better for name in metric_names()} == {
        "accuracy": True,
        "roc_auc": True,
        "log_loss": False,
        "mae": False,
        "rmse": False,
    }


# --- weighted evaluation -------------------------------------------------------------------------


def count_matrix(n: int, rows: int, seed: int) -> np.ndarray:
    """Bootstrap-like counts (each row sums to n), plus an all-ones and a sparse row."""
    rng = np.random.default_rng(seed)
    W = rng.multinomial(n, np.full(n, 1 / n), size=rows).astype(np.float64)
    sparse = np.zeros(n)
    sparse[: n // 2] = 2.0
    return np.vstack([np.ones(n), sparse, W])


def has_both_classes(y) -> bool:
    return len(np.unique(y)) >= 2


@pytest.mark.parametrize(("name", "y", "pred", "reference"), PARAMS, ids=IDS)
def test_weighted_evaluation_equals_explicit_resampling(name, y, pred, reference) -> None:
    metric = get_metric(name)
    prepared = metric.prepare(y, pred, "candidate")
    W = count_matrix(len(y), 25, seed=len(name))
    values = metric.evaluate(prepared, W)
    assert values.shape == (len(W),)
    pred = np.asarray(pred)
    for row, weights in zip(values, W):
        counts = weights.astype(int)
        y_rep, pred_rep = np.repeat(y, counts), np.repeat(pred, counts, axis=0)
        if name == "roc_auc" and not has_both_classes(y_rep):
            assert math.isnan(row)
            continue
        if name == "log_loss":
            expected = sk.log_loss(y_rep, pred_rep, labels=np.unique(y))
        elif reference is sk.accuracy_score or name != "accuracy":
            expected = reference(y_rep, pred_rep)
        else:  # accuracy on probabilities: the class set comes from the full data
            classes = np.unique(y)
            if pred.ndim == 2:
                expected = sk.accuracy_score(y_rep, classes[np.argmax(pred_rep, axis=1)])
            else:
                expected = sk.accuracy_score(y_rep, np.where(pred_rep > 0.5, classes[1], classes[0]))
        assert row == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_weighted_auc_with_heavy_ties_equals_resampled_data() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 40)
    y[:2] = [0, 1]
    scores = rng.integers(0, 3, 40).astype(float)  # only three distinct scores
    metric = get_metric("roc_auc")
    prepared = metric.prepare(y, scores, "candidate")
    W = count_matrix(40, 50, seed=11)
    for value, weights in zip(metric.evaluate(prepared, W), W.astype(int)):
        y_rep = np.repeat(y, weights)
        if has_both_classes(y_rep):
            assert value == pytest.approx(sk.roc_auc_score(y_rep, np.repeat(scores, weights)), abs=1e-12)


def test_weighted_auc_single_class_resample_is_nan() -> None:
    metric = get_metric("roc_auc")
    prepared = metric.prepare(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.3, 0.4]), "candidate")
    values = metric.evaluate(prepared, np.array([[2.0, 2.0, 0.0, 0.0], [0.0, 0.0, 1.0, 3.0], [1.0, 1.0, 1.0, 1.0]]))
    assert math.isnan(values[0]) and math.isnan(values[1]) and values[2] == 1.0


# --- jackknife --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "y", "pred", "reference"), PARAMS, ids=IDS)
def test_closed_form_jackknife_equals_leave_one_out(name, y, pred, reference) -> None:
    metric = get_metric(name)
    jack = metric.jackknife(metric.prepare(y, pred, "candidate"))
    assert jack.shape == (len(y),)
    pred = np.asarray(pred)
    for i in range(len(y)):
        y_loo, pred_loo = np.delete(y, i), np.delete(pred, i, axis=0)
        if name == "log_loss":
            expected = sk.log_loss(y_loo, pred_loo, labels=np.unique(y))
        elif name == "accuracy" and reference is not sk.accuracy_score:
            # probabilities: the same class set as the full data, recomputed from scratch
            classes = np.unique(y)
            predicted = classes[np.argmax(pred_loo, axis=1)] if pred.ndim == 2 else np.where(pred_loo > 0.5, classes[1], classes[0])
            expected = sk.accuracy_score(y_loo, predicted)
        else:
            expected = reference(y_loo, pred_loo)
        assert jack[i] == pytest.approx(expected, rel=1e-10, abs=1e-12), f"left out example {i}"


def test_auc_jackknife_with_ties_on_both_sides() -> None:
    y = np.array([0, 0, 0, 1, 1, 1, 0, 1])
    scores = np.array([0.2, 0.5, 0.5, 0.5, 0.9, 0.2, 0.7, 0.7])
    metric = get_metric("roc_auc")
    jack = metric.jackknife(metric.prepare(y, scores, "candidate"))
    expected = [sk.roc_auc_score(np.delete(y, i), np.delete(scores, i)) for i in range(len(y))]
    assert np.allclose(jack, expected, rtol=0, atol=1e-12)


# --- bad input --------------------------------------------------------------------------------------


def test_unknown_metric_lists_available() -> None:
    with pytest.raises(MetricInputError) as info:
        get_metric("f1")
    assert "'f1'" in str(info.value)
    assert "accuracy, log_loss, mae, rmse, roc_auc" in str(info.value)


def test_get_metric_returns_metric() -> None:
    assert isinstance(get_metric("mae"), Metric) and get_metric("mae").name == "mae"
    assert metric_names() == sorted(METRICS)


@pytest.mark.parametrize(
    ("name", "y", "bad"),
    [
        ("accuracy", np.array([0, 1, 1, 0, 1]), np.array([0.2, np.nan, 0.7, np.inf, 0.4])),
        ("roc_auc", np.array([0, 1, 1, 0, 1]), np.array([0.2, np.nan, 0.7, np.inf, 0.4])),
        ("log_loss", np.array([0, 1, 1, 0, 1]), np.array([0.2, np.nan, 0.7, np.inf, 0.4])),
        ("mae", np.array([1.0, 2, 3, 4, 5]), np.array([0.2, np.nan, 0.7, -np.inf, 0.4])),
        ("rmse", np.array([1.0, 2, 3, 4, 5]), np.array([0.2, np.nan, 0.7, np.inf, 0.4])),
    ],
)
@pytest.mark.parametrize("role", ["candidate", "baseline"])
def test_non_finite_predictions_give_count_and_role(name, y, bad, role) -> None:
    good = np.array([0.1, 0.9, 0.8, 0.3, 0.6]) if name != "accuracy" else np.array([0, 1, 1, 0, 1])
    predictions = {"candidate": good, "baseline": good, role: bad}
    with pytest.raises(MetricInputError) as info:
        paired_bootstrap(name, y, predictions["candidate"], predictions["baseline"], resamples=100, method="percentile")
    message = str(info.value)
    assert message.startswith(role), message
    assert "2 of 5" in message and "NaN or infinite" in message
    assert info.value.code == "bad_input"


def test_non_finite_2d_probabilities() -> None:
    probabilities = _binary_probabilities(np.random.default_rng(0), 6)
    probabilities[2, 1] = np.nan  # column 1: the one every metric reads
    for name in ("accuracy", "log_loss", "roc_auc"):
        with pytest.raises(MetricInputError, match="candidate .*1 of"):
            get_metric(name).prepare(np.array([0, 1, 0, 1, 0, 1]), probabilities, "candidate")


@pytest.mark.parametrize("name", metric_names())
def test_length_mismatch(name) -> None:
    y = np.array([0, 1, 0, 1, 1, 0]) if name in ("accuracy", "roc_auc", "log_loss") else np.arange(6.0)
    pred = np.array([0.2, 0.8, 0.3, 0.6, 0.7])
    with pytest.raises(MetricInputError) as info:
        get_metric(name).prepare(y, pred, "baseline")
    assert "baseline predictions have 5 rows but y_true has 6" in str(info.value)


def test_auc_single_class() -> None:
    with pytest.raises(MetricInputError, match="exactly two classes.*found 1"):
        get_metric("roc_auc").prepare(np.ones(5, dtype=int), np.linspace(0, 1, 5), "candidate")


def test_auc_three_classes() -> None:
    with pytest.raises(MetricInputError, match="exactly two classes.*found 3"):
        get_metric("roc_auc").prepare(np.array([0, 1, 2, 1]), np.linspace(0, 1, 4), "candidate")


@pytest.mark.parametrize("bad", [np.array([0.2, 1.2, 0.5, 0.4]), np.array([[0.5, 0.5], [-0.1, 1.1], [1, 0], [0.3, 0.7]])])
def test_log_loss_probabilities_outside_unit_interval(bad) -> None:
    with pytest.raises(MetricInputError) as info:
        get_metric("log_loss").prepare(np.array([0, 1, 0, 1]), bad, "candidate")
    assert "outside [0, 1]" in str(info.value) and str(info.value).startswith("candidate")


def test_log_loss_1d_outside_count_is_per_value() -> None:
    # one bad 1-D probability is one bad value, however the metric represents it internally
    with pytest.raises(MetricInputError) as info:
        get_metric("log_loss").prepare(np.array([0, 1, 0, 1]), np.array([0.2, 1.2, 0.5, 0.4]), "candidate")
    assert re.search(r"candidate probabilities: 1 values? lies? outside \[0, 1\]", str(info.value)), str(info.value)


def test_accuracy_fractional_predictions_for_multiclass_refused() -> None:
    with pytest.raises(MetricInputError, match="positive-class probabilities"):
        get_metric("accuracy").prepare(np.array([0, 1, 2, 1]), np.array([0.1, 0.6, 0.3, 0.9]), "candidate")


def test_accuracy_label_type_mismatch_refused() -> None:
    with pytest.raises(MetricInputError, match="can never match"):
        get_metric("accuracy").prepare(np.array(["a", "b", "a"]), np.array([0, 1, 0]), "candidate")


def test_probability_columns_must_match_classes() -> None:
    with pytest.raises(MetricInputError, match="3 probability columns but y_true has 2 classes"):
        get_metric("log_loss").prepare(np.array(["a", "b", "a"]), _multiclass_probabilities(np.random.default_rng(1), 3), "candidate")


def test_nan_labels_refused() -> None:
    with pytest.raises(MetricInputError, match="labels are NaN"):
        get_metric("roc_auc").prepare(np.array([0.0, 1.0, np.nan, 1.0]), np.array([0.1, 0.9, 0.5, 0.7]), "candidate")


def test_too_few_examples() -> None:
    with pytest.raises(MetricInputError, match="at least 2 examples"):
        get_metric("mae").prepare(np.array([1.0]), np.array([1.0]), "candidate")


def test_non_numeric_regression_predictions() -> None:
    with pytest.raises(MetricInputError, match="candidate predictions: expected numbers"):
        get_metric("mae").prepare(np.array([1.0, 2.0]), np.array(["a", "b"]), "candidate")


def test_three_dimensional_predictions() -> None:
    with pytest.raises(MetricInputError, match="expected a 1-D array"):
        get_metric("mae").prepare(np.zeros(4), np.zeros((4, 2, 1)), "candidate")
