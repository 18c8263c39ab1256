"""Metrics evaluated on bootstrap weights.

Every metric is computed from a weight matrix ``W`` of shape ``(R, n)``: row ``r`` holds
how many times each example appears in resample ``r`` (all ones for the point estimate).
Evaluating through counts means no resampled copy of the data is ever built, and the
same code serves the point estimate, the bootstrap and (later) sample weights.

Each metric also gives its exact leave-one-out (jackknife) values in closed form, which
BCa needs for its acceleration constant; nothing re-evaluates the metric n times.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from ..errors import MetricInputError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Metric", "Prepared", "METRICS", "get_metric", "metric_names"]


@dataclass(frozen=True)
class Prepared:
    """One model's predictions, validated and reduced to what the metric needs."""

    values: np.ndarray  # per-example loss/score, or the scores for ranking metrics
    labels: np.ndarray | None = None  # positive-class mask (ranking metrics only)
    order: np.ndarray | None = None  # argsort of the scores (ranking metrics only)
    tie_starts: np.ndarray | None = None  # first sorted position of each distinct score


@dataclass(frozen=True)
class Metric:
    """A metric evaluated on weight matrices; see the module docstring."""

    name: str
    higher_is_better: bool
    prepare: Callable[[Any, Any, str], Prepared]
    evaluate: Callable[[Prepared, np.ndarray], np.ndarray]
    jackknife: Callable[[Prepared], np.ndarray]

    def point(self, prepared: Prepared) -> float:
        import numpy as np

        return float(self.evaluate(prepared, np.ones((1, len(prepared.values))))[0])


# --- input checks -------------------------------------------------------------------


def _as_1d(values: Any, what: str, role: str) -> np.ndarray:
    import numpy as np

    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise MetricInputError(f"{role} {what}: expected a 1-D array, got shape {array.shape}")
    return array


def _check_finite(array: np.ndarray, what: str, role: str) -> np.ndarray:
    import numpy as np

    if array.dtype.kind not in "biuf":
        raise MetricInputError(f"{role} {what}: expected numbers, got dtype {array.dtype}")
    array = array.astype(np.float64, copy=False)
    bad = int(np.count_nonzero(~np.isfinite(array)))
    if bad:
        raise MetricInputError(f"{role} {what}: {bad} of {array.size} values are NaN or infinite")
    return array


def _check_length(pred: np.ndarray, y: np.ndarray, role: str) -> None:
    if len(pred) != len(y):
        raise MetricInputError(f"{role} predictions have {len(pred)} rows but y_true has {len(y)}")
    if len(y) < 2:
        raise MetricInputError(f"need at least 2 examples to compare, got {len(y)}")


def _classes(y: np.ndarray) -> np.ndarray:
    import numpy as np

    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise MetricInputError(f"y_true: {int(np.count_nonzero(~np.isfinite(y)))} labels are NaN or infinite")
    return np.unique(y)


def _column_index(y: np.ndarray, classes: np.ndarray, columns: int, role: str) -> np.ndarray:
    """Map labels to probability columns: sorted class order, as scikit-learn does."""
    import numpy as np

    if columns == len(classes):
        return np.searchsorted(classes, y)
    if y.dtype.kind in "iu" and classes.min() >= 0 and classes.max() < columns:
        return y.astype(np.intp)
    raise MetricInputError(
        f"{role} predictions have {columns} probability columns but y_true has {len(classes)} classes {classes.tolist()[:10]}"
    )


def _binary_positive(y: np.ndarray, role: str) -> np.ndarray:
    classes = _classes(y)
    if len(classes) != 2:
        raise MetricInputError(f"this metric needs exactly two classes in y_true, found {len(classes)}: {classes.tolist()[:10]}")
    return y == classes[1]


def _positive_scores(pred: Any, y: np.ndarray, role: str) -> np.ndarray:
    """1-D scores, or column 1 of 2-D binary probabilities."""
    import numpy as np

    array = np.asarray(pred)
    if array.ndim == 2 and array.shape[1] == 2:
        array = array[:, 1]
    array = _check_finite(_as_1d(array, "predictions", role), "predictions", role)
    _check_length(array, y, role)
    return array


# --- mean-decomposable metrics --------------------------------------------------------


def _weighted_mean(prepared: Prepared, weights: np.ndarray) -> np.ndarray:
    return (weights @ prepared.values) / weights.sum(axis=1)


def _leave_one_out_mean(prepared: Prepared) -> np.ndarray:
    values = prepared.values
    return (values.sum() - values) / (len(values) - 1)


def _mean_metric(name: str, higher_is_better: bool, per_example: Callable[[Any, Any, str], np.ndarray], root: bool = False) -> Metric:
    def prepare(y_true: Any, pred: Any, role: str) -> Prepared:
        return Prepared(values=per_example(y_true, pred, role))

    if not root:
        return Metric(name, higher_is_better, prepare, _weighted_mean, _leave_one_out_mean)

    def evaluate(prepared: Prepared, weights: np.ndarray) -> np.ndarray:
        import numpy as np

        return np.sqrt(_weighted_mean(prepared, weights))

    def jackknife(prepared: Prepared) -> np.ndarray:
        import numpy as np

        return np.sqrt(_leave_one_out_mean(prepared))

    return Metric(name, higher_is_better, prepare, evaluate, jackknife)


def _correct(y_true: Any, pred: Any, role: str) -> np.ndarray:
    import numpy as np

    y = _as_1d(y_true, "y_true", "labels")
    classes = _classes(y)
    array = np.asarray(pred)
    if array.ndim == 2 and array.shape[1] > 1:
        _check_finite(array, "probabilities", role)
        _check_length(array, y, role)
        return (np.argmax(array, axis=1) == _column_index(y, classes, array.shape[1], role)).astype(np.float64)
    array = _as_1d(array, "predictions", role)
    _check_length(array, y, role)
    if array.dtype.kind == "f":
        _check_finite(array, "predictions", role)
        if not np.all(array == np.round(array)):
            # Fractional 1-D predictions are positive-class probabilities (binary only).
            if len(classes) > 2 or array.min() < 0 or array.max() > 1:
                raise MetricInputError(
                    f"{role} predictions: fractional values are read as positive-class probabilities, "
                    f"which needs binary labels and values in [0, 1]; pass predicted labels instead"
                )
            labels = np.where(array > 0.5, classes[-1], classes[0])
            return (labels == y).astype(np.float64)
    if (array.dtype.kind in "biuf") != (y.dtype.kind in "biuf"):
        raise MetricInputError(f"{role} predictions are {array.dtype} labels but y_true is {y.dtype}: they can never match")
    return (array == y).astype(np.float64)


def _log_loss_terms(y_true: Any, pred: Any, role: str) -> np.ndarray:
    import numpy as np

    y = _as_1d(y_true, "y_true", "labels")
    classes = _classes(y)
    array = np.asarray(pred)
    if array.ndim > 2:
        raise MetricInputError(f"{role} probabilities: expected a 1-D or 2-D array, got shape {array.shape}")
    one_column = array.ndim == 1 or array.shape[1] == 1
    array = _check_finite(_as_1d(array, "probabilities", role) if one_column else array, "probabilities", role)
    _check_length(array, y, role)
    outside = int(np.count_nonzero((array < 0) | (array > 1)))
    if outside:
        raise MetricInputError(f"{role} probabilities: {outside} values lie outside [0, 1]")
    if one_column:  # the positive class's probability: expand to both columns
        columns = _binary_positive(y, role).astype(np.intp)
        array = np.stack([1 - array, array], axis=1)
    else:
        columns = _column_index(y, classes, array.shape[1], role)
    eps = np.finfo(np.float64).eps  # the clip scikit-learn applies, so values agree with it
    chosen = np.clip(array[np.arange(len(y)), columns], eps, 1 - eps)
    return -np.log(chosen)


def _regression_target(y_true: Any) -> np.ndarray:
    return _check_finite(_as_1d(y_true, "y_true", "labels"), "values", "y_true")


def _absolute_errors(y_true: Any, pred: Any, role: str) -> np.ndarray:
    import numpy as np

    y = _regression_target(y_true)
    array = _check_finite(_as_1d(pred, "predictions", role), "predictions", role)
    _check_length(array, y, role)
    return np.abs(array - y)


def _squared_errors(y_true: Any, pred: Any, role: str) -> np.ndarray:
    y = _regression_target(y_true)
    array = _check_finite(_as_1d(pred, "predictions", role), "predictions", role)
    _check_length(array, y, role)
    return (array - y) ** 2


# --- ROC AUC ------------------------------------------------------------------------------


def _auc_prepare(y_true: Any, pred: Any, role: str) -> Prepared:
    import numpy as np

    y = _as_1d(y_true, "y_true", "labels")
    positive = _binary_positive(y, role)
    scores = _positive_scores(pred, y, role)
    order = np.argsort(scores, kind="mergesort")
    ranked = scores[order]
    tie_starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    return Prepared(values=scores, labels=positive, order=order, tie_starts=tie_starts)


def _auc_evaluate(prepared: Prepared, weights: np.ndarray) -> np.ndarray:
    """Weighted AUC per row in O(n): sort once, aggregate counts per tied score."""
    import numpy as np

    positive = prepared.labels[prepared.order]
    sorted_weights = weights[:, prepared.order]
    pos = np.add.reduceat(np.where(positive, sorted_weights, 0.0), prepared.tie_starts, axis=1)
    neg = np.add.reduceat(np.where(positive, 0.0, sorted_weights), prepared.tie_starts, axis=1)
    neg_below = np.cumsum(neg, axis=1) - neg
    pairs = pos.sum(axis=1) * neg.sum(axis=1)
    wins = (pos * (neg_below + 0.5 * neg)).sum(axis=1)  # a tie counts half
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pairs > 0, wins / pairs, np.nan)


def _auc_jackknife(prepared: Prepared) -> np.ndarray:
    """Exact leave-one-out AUCs from the DeLong placements."""
    import numpy as np

    scores, positive = prepared.values, prepared.labels
    pos_sorted, neg_sorted = np.sort(scores[positive]), np.sort(scores[~positive])
    n_pos, n_neg = len(pos_sorted), len(neg_sorted)
    # placement of each positive among negatives, and of each negative among positives
    below = np.searchsorted(neg_sorted, scores, "left")
    tied_neg = np.searchsorted(neg_sorted, scores, "right") - below
    above = n_pos - np.searchsorted(pos_sorted, scores, "right")
    tied_pos = np.searchsorted(pos_sorted, scores, "right") - np.searchsorted(pos_sorted, scores, "left")
    wins = float(np.sum((below + 0.5 * tied_neg)[positive]))
    with np.errstate(invalid="ignore", divide="ignore"):
        without_positive = (wins - (below + 0.5 * tied_neg)) / ((n_pos - 1) * n_neg)
        without_negative = (wins - (above + 0.5 * tied_pos)) / (n_pos * (n_neg - 1))
    return np.where(positive, without_positive, without_negative)


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        _mean_metric("accuracy", True, _correct),
        Metric("roc_auc", True, _auc_prepare, _auc_evaluate, _auc_jackknife),
        _mean_metric("log_loss", False, _log_loss_terms),
        _mean_metric("mae", False, _absolute_errors),
        _mean_metric("rmse", False, _squared_errors, root=True),
    )
}


def metric_names() -> list[str]:
    return sorted(METRICS)


def get_metric(name: str) -> Metric:
    try:
        return METRICS[name]
    except (KeyError, TypeError):
        raise MetricInputError(f"unknown metric {name!r} (available: {', '.join(metric_names())})") from None
