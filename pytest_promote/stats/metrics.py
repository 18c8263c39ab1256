"""Metrics in the three shapes the bootstrap engine knows how to resample fast.

* :class:`SumMetric` — a function of weighted sums of per-unit statistics (accuracy, log loss,
  precision, F1, R², the ranking metrics per query, ...). Each model's predictions become a
  matrix ``stats`` of shape ``(units, k)``; a resample's value is ``combine(counts @ stats)``.
  Resampling therefore never copies data, repeated rows compress to a multinomial over
  distinct rows, and the leave-one-out (jackknife) values are exact and closed form:
  ``combine(total - stats)``.
* :class:`RankMetric` — ROC AUC and average precision. Scores are sorted once into blocks of
  tied values; a resample's value comes from its per-block negative and positive weights
  in O(n), never from a re-sort.
* :class:`CustomMetric` — any ``fn(y_true, y_pred) -> float``: evaluated on each resample's
  rows (the slow, generic path), with a grouped jackknife for BCa.

Point values equal scikit-learn's on the same inputs (the unit tests check this).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Union

from ..errors import MetricInputError
from . import inputs
from .ranking import per_query

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "SumMetric",
    "SumPrepared",
    "RankMetric",
    "RankPrepared",
    "CustomMetric",
    "CustomPrepared",
    "Metric",
    "METRICS",
    "get_metric",
    "metric_names",
    "resolve_metric",
]

Groups = Union[tuple["np.ndarray", int], None]  # (group index per row, number of groups)


# --- shape 1: sums of per-unit statistics -------------------------------------------------


@dataclass(frozen=True)
class SumPrepared:
    """One model's predictions as per-unit statistics; ``values`` feeds the closed-form cross-checks."""

    stats: np.ndarray  # (units, k); weights already multiplied in
    values: np.ndarray | None = None  # unweighted per-example terms, for mean metrics
    per_group: bool = False  # rows are query groups already (ranking metrics)


@dataclass(frozen=True)
class SumMetric:
    name: str
    higher_is_better: bool
    statistics: Callable[[np.ndarray, Any, str, np.ndarray | None, Groups], SumPrepared]
    combine: Callable[[np.ndarray], np.ndarray]  # (R, k) sums -> R values
    cross_check: str | None = None  # "mcnemar_exact" | "paired_t"
    needs_groups: bool = False

    def prepare(self, y: np.ndarray, pred: Any, role: str, weight: np.ndarray | None, groups: Groups) -> SumPrepared:
        if self.needs_groups and groups is None:
            raise MetricInputError(f"{self.name} is a ranking metric: pass groups=query_ids to compare()")
        return self.statistics(y, pred, role, weight, groups)

    def point(self, prepared: SumPrepared) -> float:
        return float(self.combine(prepared.stats.sum(axis=0)[None, :])[0])


# --- shape 2: ranked scores -----------------------------------------------------------------


@dataclass(frozen=True)
class RankPrepared:
    """Scores sorted once into blocks of tied values, negatives and positives apart.

    ``key`` maps each example to its negative block (``0..n_neg-1``, ascending score) or to
    ``n_neg +`` its positive block. For positive block ``b``, ``lo[b]`` negative blocks lie
    strictly below its score and ``hi[b]`` at or below it (``hi - lo`` is 0 or 1: a tie).
    """

    key: np.ndarray
    n_neg: int
    n_pos: int
    lo: np.ndarray
    hi: np.ndarray
    weight: np.ndarray | None
    scores: np.ndarray
    positive: np.ndarray

    def counts(self, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Negative and positive weight per block over all examples (times ``weights``)."""
        import numpy as np

        row_weights = self.weight if weights is None else (weights if self.weight is None else weights * self.weight)
        counts = np.bincount(self.key, weights=row_weights, minlength=self.n_neg + self.n_pos).astype(np.float64)
        return counts[: self.n_neg], counts[self.n_neg :]


@dataclass(frozen=True)
class RankMetric:
    name: str
    higher_is_better: bool
    from_counts: Callable[[RankPrepared, np.ndarray, np.ndarray], np.ndarray]  # (R, n_neg), (R, n_pos) -> R
    jackknife_values: Callable[[RankPrepared], np.ndarray]  # leave-one-row-out values
    cross_check: str | None = None  # "delong"

    def prepare(self, y: np.ndarray, pred: Any, role: str, weight: np.ndarray | None, groups: Groups) -> RankPrepared:
        import numpy as np

        positive = inputs.positive_mask(y)
        scores = _positive_scores(pred, y, role)
        neg_values, neg_block = np.unique(scores[~positive], return_inverse=True)
        pos_values, pos_block = np.unique(scores[positive], return_inverse=True)
        key = np.empty(len(scores), dtype=np.intp)
        key[~positive] = neg_block
        key[positive] = len(neg_values) + pos_block
        lo = np.searchsorted(neg_values, pos_values, "left")
        hi = np.searchsorted(neg_values, pos_values, "right")
        return RankPrepared(key, len(neg_values), len(pos_values), lo, hi, weight, scores, positive)

    def point(self, prepared: RankPrepared) -> float:
        negative, positive = prepared.counts()
        return float(self.from_counts(prepared, negative[None], positive[None])[0])


# --- shape 3: a user's function ---------------------------------------------------------------


@dataclass(frozen=True)
class CustomPrepared:
    y: np.ndarray
    pred: np.ndarray
    weight: np.ndarray | None
    role: str


@dataclass(frozen=True)
class CustomMetric:
    """``@gate.quality(metric=fn, higher_is_better=...)``: ``fn(y_true, y_pred[, sample_weight=])``."""

    fn: Callable[..., float]
    higher_is_better: bool
    cross_check: str | None = None

    @property
    def name(self) -> str:
        return getattr(self.fn, "__qualname__", None) or getattr(self.fn, "__name__", None) or repr(self.fn)

    def prepare(self, y: np.ndarray, pred: Any, role: str, weight: np.ndarray | None, groups: Groups) -> CustomPrepared:
        import numpy as np

        array = np.asarray(pred)
        if array.ndim == 0:
            raise MetricInputError(f"{role} predictions: expected an array, got a scalar")
        inputs.check_length(array, len(y), "predictions", role)
        if array.dtype.kind in "fc":
            bad = int(np.count_nonzero(~np.isfinite(array)))
            if bad:
                raise MetricInputError(f"{role} predictions: {bad} of {array.size} values are NaN or infinite")
        return CustomPrepared(y, array, weight, role)

    def evaluate_rows(self, prepared: CustomPrepared, rows: np.ndarray) -> float:
        """The metric on the rows ``rows`` (with repeats); an exception names the function and model."""
        kwargs = {} if prepared.weight is None else {"sample_weight": prepared.weight[rows]}
        try:
            value = self.fn(prepared.y[rows], prepared.pred[rows], **kwargs)
            return float(value)
        except Exception as exc:  # the user's code: any failure becomes a clear bad-input error
            raise MetricInputError(
                f"custom metric {self.name} raised {type(exc).__name__} on the {prepared.role}'s predictions: {exc}"
            ) from None

    def point(self, prepared: CustomPrepared) -> float:
        import numpy as np

        return self.evaluate_rows(prepared, np.arange(len(prepared.y)))


Metric = Union[SumMetric, RankMetric, CustomMetric]


# --- per-example terms of mean metrics ----------------------------------------------------------


def _mean_statistics(terms: Callable[[np.ndarray, Any, str], np.ndarray]) -> Callable[..., SumPrepared]:
    """Weighted mean of per-example terms: stats columns ``[w * term, w]``."""

    def statistics(y: np.ndarray, pred: Any, role: str, weight: np.ndarray | None, groups: Groups) -> SumPrepared:
        import numpy as np

        values = terms(y, pred, role)
        w = np.ones(len(values)) if weight is None else weight
        return SumPrepared(np.column_stack([w * values, w]), values)

    return statistics


def _ratio(sums: np.ndarray) -> np.ndarray:
    import numpy as np

    with np.errstate(invalid="ignore", divide="ignore"):
        return sums[:, 0] / sums[:, 1]


def _root_ratio(sums: np.ndarray) -> np.ndarray:
    import numpy as np

    return np.sqrt(_ratio(sums))


def _correct(y: np.ndarray, pred: Any, role: str) -> np.ndarray:
    import numpy as np

    labels = inputs.predicted_labels(y, inputs.classes_of(y), pred, role)
    return (labels == y).astype(np.float64)


def _probabilities(y: np.ndarray, pred: Any, role: str) -> tuple[np.ndarray, np.ndarray]:
    """(n, K) probabilities validated to lie in [0, 1], and each label's column."""
    import numpy as np

    classes = inputs.classes_of(y)
    array = np.asarray(pred)
    if array.ndim > 2:
        raise MetricInputError(f"{role} probabilities: expected a 1-D or 2-D array, got shape {array.shape}")
    one_column = array.ndim == 1 or array.shape[1] == 1
    array = inputs.finite(inputs.as_1d(array, "probabilities", role) if one_column else array, "probabilities", role)
    inputs.check_length(array, len(y), "probabilities", role)
    outside = int(np.count_nonzero((array < 0) | (array > 1)))
    if outside:
        raise MetricInputError(f"{role} probabilities: {outside} values lie outside [0, 1]")
    if one_column:  # the positive class's probability: expand to both columns
        return np.stack([1 - array, array], axis=1), inputs.positive_mask(y).astype(np.intp)
    return array, inputs.probability_columns(y, classes, array.shape[1], role)


def _log_loss_terms(y: np.ndarray, pred: Any, role: str) -> np.ndarray:
    import numpy as np

    probabilities, columns = _probabilities(y, pred, role)
    eps = np.finfo(np.float64).eps  # the clip scikit-learn applies, so values agree with it
    return -np.log(np.clip(probabilities[np.arange(len(y)), columns], eps, 1 - eps))


def _brier_terms(y: np.ndarray, pred: Any, role: str) -> np.ndarray:
    """Binary: (p - y)^2 on the positive class; multiclass: the sum over classes, as scikit-learn."""
    import numpy as np

    probabilities, columns = _probabilities(y, pred, role)
    one_hot = np.zeros_like(probabilities)
    one_hot[np.arange(len(y)), columns] = 1.0
    squared = ((probabilities - one_hot) ** 2).sum(axis=1)
    return squared / 2 if probabilities.shape[1] == 2 else squared


def _regression(y: np.ndarray, pred: Any, role: str) -> tuple[np.ndarray, np.ndarray]:
    target = inputs.finite(y, "values", "y_true")
    array = inputs.finite(inputs.as_1d(pred, "predictions", role), "predictions", role)
    inputs.check_length(array, len(target), "predictions", role)
    return target, array


def _absolute_errors(y: np.ndarray, pred: Any, role: str) -> np.ndarray:
    import numpy as np

    target, array = _regression(y, pred, role)
    return np.abs(array - target)


def _squared_errors(y: np.ndarray, pred: Any, role: str) -> np.ndarray:
    target, array = _regression(y, pred, role)
    return (array - target) ** 2


def _percentage_errors(y: np.ndarray, pred: Any, role: str) -> np.ndarray:
    import numpy as np

    target, array = _regression(y, pred, role)
    # scikit-learn divides by max(|y|, eps): a zero target gives a huge but finite error
    return np.abs(array - target) / np.maximum(np.abs(target), np.finfo(np.float64).eps)


# --- R² ----------------------------------------------------------------------------------------


def _r2_statistics(y: np.ndarray, pred: Any, role: str, weight: np.ndarray | None, groups: Groups) -> SumPrepared:
    import numpy as np

    target, array = _regression(y, pred, role)
    w = np.ones(len(target)) if weight is None else weight
    # centring first keeps sum(w y^2) - sum(w y)^2 / sum(w) accurate when y has a large offset
    centred = target - np.average(target, weights=w)
    return SumPrepared(np.column_stack([w * (array - target) ** 2, w * centred, w * centred**2, w]))


def _r2_combine(sums: np.ndarray) -> np.ndarray:
    import numpy as np

    residual = sums[:, 0]
    total = sums[:, 2] - sums[:, 1] ** 2 / sums[:, 3]
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = 1 - residual / total
    # scikit-learn's force_finite: a constant target scores 1 when predicted exactly, else 0
    constant = ~(total > 1e-12 * np.maximum(sums[:, 2], 1e-300))
    return np.where(constant, np.where(residual == 0, 1.0, 0.0), r2)


# --- confusion-count metrics --------------------------------------------------------------------


def _label_statistics(kind: str) -> Callable[..., SumPrepared]:
    """Per-class counts: binary uses the positive class only, macro every class."""

    def statistics(y: np.ndarray, pred: Any, role: str, weight: np.ndarray | None, groups: Groups) -> SumPrepared:
        import numpy as np

        classes = inputs.classes_of(y)
        labels = inputs.predicted_labels(y, classes, pred, role)
        w = np.ones(len(y)) if weight is None else weight
        if kind == "binary":
            if len(classes) != 2:
                raise MetricInputError(
                    f"binary precision/recall/F1 need exactly two classes in y_true, found {len(classes)}; "
                    "use the *_macro metric for multiclass"
                )
            label_set = classes[1:]
        elif kind == "balanced":
            label_set = classes  # scikit-learn ignores predicted classes absent from y_true
        else:
            label_set = np.union1d(classes, np.unique(labels))
        actual = y[:, None] == label_set[None, :]
        predicted = labels[:, None] == label_set[None, :]
        columns = [actual & predicted, predicted, actual]
        return SumPrepared(np.concatenate([c * w[:, None] for c in columns], axis=1))

    return statistics


def _split_counts(sums: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    classes = sums.shape[1] // 3
    return sums[:, :classes], sums[:, classes : 2 * classes], sums[:, 2 * classes :]


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """scikit-learn's zero_division default: 0/0 scores 0."""
    import numpy as np

    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / denominator, 0.0)


def _class_average(scores: np.ndarray, predicted: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """The macro average over the classes a resample has (in labels or predictions), as
    scikit-learn's label set would be; a binary metric's single column is kept as is."""
    import numpy as np

    if scores.shape[1] == 1:
        return scores[:, 0]
    present = (predicted + actual) > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(present, scores, 0.0).sum(axis=1) / present.sum(axis=1)


def _precision(sums: np.ndarray) -> np.ndarray:
    true_positive, predicted, actual = _split_counts(sums)
    return _class_average(_safe_divide(true_positive, predicted), predicted, actual)


def _recall(sums: np.ndarray) -> np.ndarray:
    true_positive, predicted, actual = _split_counts(sums)
    return _class_average(_safe_divide(true_positive, actual), predicted, actual)


def _f1(sums: np.ndarray) -> np.ndarray:
    true_positive, predicted, actual = _split_counts(sums)
    return _class_average(_safe_divide(2 * true_positive, predicted + actual), predicted, actual)


def _balanced_accuracy(sums: np.ndarray) -> np.ndarray:
    import numpy as np

    true_positive, _, actual = _split_counts(sums)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(actual > 0, true_positive / np.where(actual > 0, actual, 1), 0.0)
    present = (actual > 0).sum(axis=1)
    # a class absent from a resample drops out of the average, as it would in scikit-learn
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(present > 0, recall.sum(axis=1) / present, np.nan)


# --- ranking metrics with query groups ------------------------------------------------------------


def _query_statistics(kind: str, k: int | None) -> Callable[..., SumPrepared]:
    def statistics(y: np.ndarray, pred: Any, role: str, weight: np.ndarray | None, groups: Groups) -> SumPrepared:
        import numpy as np

        relevance = inputs.finite(y, "relevance", "y_true")
        negative = int(np.count_nonzero(relevance < 0))
        if negative:
            raise MetricInputError(f"y_true: {negative} relevance grades are negative")
        scores = inputs.finite(inputs.as_1d(pred, "scores", role), "scores", role)
        inputs.check_length(scores, len(relevance), "scores", role)
        query, n_queries = groups
        values = per_query(kind, k, relevance, scores, query, n_queries)
        query_weight = np.ones(n_queries) if weight is None else _constant_per_query(weight, query, n_queries)
        return SumPrepared(np.column_stack([query_weight * values, query_weight]), values, per_group=True)

    return statistics


def _constant_per_query(weight: np.ndarray, query: np.ndarray, n_queries: int) -> np.ndarray:
    import numpy as np

    first = np.full(n_queries, np.nan)
    first[query[::-1]] = weight[::-1]  # any row's weight; checked equal below
    varying = int(np.count_nonzero(weight != first[query]))
    if varying:
        raise MetricInputError(f"sample_weight: ranking metrics weight whole queries, but {varying} rows differ from their query's weight")
    return first


# --- ROC AUC and average precision from tied-score blocks ---------------------------------------


def _positive_scores(pred: Any, y: np.ndarray, role: str) -> np.ndarray:
    """1-D scores, or column 1 of 2-D binary probabilities."""
    import numpy as np

    array = np.asarray(pred)
    if array.ndim == 2 and array.shape[1] == 2:
        array = array[:, 1]
    array = inputs.finite(inputs.as_1d(array, "scores", role), "scores", role)
    inputs.check_length(array, len(y), "scores", role)
    return array


def _negatives_below(prepared: RankPrepared, negative: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per positive block: negative weight strictly below its score, and tied with it."""
    import numpy as np

    cumulative = np.zeros((len(negative), prepared.n_neg + 1))
    np.cumsum(negative, axis=1, out=cumulative[:, 1:])
    below = cumulative[:, prepared.lo]
    return below, cumulative[:, prepared.hi] - below


def _auc_from_counts(prepared: RankPrepared, negative: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """Weighted Mann–Whitney AUC; a tie counts half."""
    import numpy as np

    below, tied = _negatives_below(prepared, negative)
    wins = np.einsum("ij,ij->i", positive, below + 0.5 * tied)
    pairs = positive.sum(axis=1) * negative.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pairs > 0, wins / pairs, np.nan)


def _average_precision_from_counts(prepared: RankPrepared, negative: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """scikit-learn's step-wise AP: over positive scores, (recall step) x precision at that score."""
    import numpy as np

    below, _ = _negatives_below(prepared, negative)
    total_positive = positive.sum(axis=1, keepdims=True)
    true_positive = total_positive - np.cumsum(positive, axis=1) + positive  # positives scored >= this one
    false_positive = negative.sum(axis=1, keepdims=True) - below  # negatives scored >= this one
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(positive > 0, true_positive / (true_positive + false_positive), 0.0)
        return np.where(total_positive[:, 0] > 0, np.einsum("ij,ij->i", positive, precision) / total_positive[:, 0], np.nan)


def _auc_jackknife(prepared: RankPrepared) -> np.ndarray:
    """Exact weighted leave-one-out AUCs from the DeLong placements."""
    import numpy as np

    negative, positive = prepared.counts()
    total_negative, total_positive = negative.sum(), positive.sum()
    below, tied = (values[0] for values in _negatives_below(prepared, negative[None]))
    wins = float(positive @ (below + 0.5 * tied))
    # for each negative block: positive weight strictly above it, and tied with it
    above = total_positive - np.cumsum(np.bincount(prepared.lo, weights=positive, minlength=prepared.n_neg + 1))[:-1]
    ties = prepared.hi > prepared.lo
    tied_positive = np.bincount(prepared.lo[ties], weights=positive[ties], minlength=prepared.n_neg)
    w = np.ones(len(prepared.key)) if prepared.weight is None else prepared.weight
    is_positive = prepared.positive
    block = np.where(is_positive, prepared.key - prepared.n_neg, prepared.key)
    with np.errstate(invalid="ignore", divide="ignore"):
        without_positive = (wins - w * (below + 0.5 * tied)[np.where(is_positive, block, 0)]) / ((total_positive - w) * total_negative)
        without_negative = (wins - w * (above + 0.5 * tied_positive)[np.where(is_positive, 0, block)]) / (
            total_positive * (total_negative - w)
        )
    return np.where(is_positive, without_positive, without_negative)


def _average_precision_jackknife(prepared: RankPrepared) -> np.ndarray:
    """First-order leave-one-out values ``AP - w_i dAP/dw_i``, from the exact derivative.

    Removing one example shifts the precision of every lower threshold, so the exact
    leave-one-out values cost O(n^2); the infinitesimal jackknife is O(n) and is what
    Efron's acceleration constant estimates (Efron & Tibshirani 1993, ch. 22).
    """
    import numpy as np

    negative, positive = prepared.counts()
    below, _ = (values[0] for values in _negatives_below(prepared, negative[None]))
    total = positive.sum()
    true_positive = total - np.cumsum(positive) + positive
    false_positive = negative.sum() - below
    flagged = true_positive + false_positive
    precision = true_positive / flagged
    average_precision = float(positive @ precision) / total
    # d(sum pos_b prec_b) / d(weight): a positive in block j raises tp of every block b <= j
    # (ascending scores);
    # a negative in block a raises fp of every positive block b with lo[b] <= a
    d_positive = precision + np.cumsum(positive * false_positive / flagged**2)
    by_lo = np.bincount(prepared.lo, weights=positive * true_positive / flagged**2, minlength=prepared.n_neg + 1)
    d_negative = -np.cumsum(by_lo)[: prepared.n_neg]
    is_positive = prepared.positive
    block = np.where(is_positive, prepared.key - prepared.n_neg, prepared.key)
    derivative = np.where(
        is_positive,
        (d_positive[np.where(is_positive, block, 0)] - average_precision) / total,
        d_negative[np.where(is_positive, 0, block)] / total,
    )
    w = np.ones(len(prepared.key)) if prepared.weight is None else prepared.weight
    return average_precision - w * derivative


# --- the registry ------------------------------------------------------------------------------------

_CLASSIFICATION = (
    SumMetric("accuracy", True, _mean_statistics(_correct), _ratio, cross_check="mcnemar_exact"),
    SumMetric("balanced_accuracy", True, _label_statistics("balanced"), _balanced_accuracy),
    SumMetric("precision", True, _label_statistics("binary"), _precision),
    SumMetric("recall", True, _label_statistics("binary"), _recall),
    SumMetric("f1", True, _label_statistics("binary"), _f1),
    SumMetric("precision_macro", True, _label_statistics("macro"), _precision),
    SumMetric("recall_macro", True, _label_statistics("macro"), _recall),
    SumMetric("f1_macro", True, _label_statistics("macro"), _f1),
    RankMetric("roc_auc", True, _auc_from_counts, _auc_jackknife, cross_check="delong"),
    RankMetric("average_precision", True, _average_precision_from_counts, _average_precision_jackknife),
    SumMetric("log_loss", False, _mean_statistics(_log_loss_terms), _ratio, cross_check="paired_t"),
    SumMetric("brier", False, _mean_statistics(_brier_terms), _ratio, cross_check="paired_t"),
)
_REGRESSION = (
    SumMetric("mae", False, _mean_statistics(_absolute_errors), _ratio, cross_check="paired_t"),
    SumMetric("mse", False, _mean_statistics(_squared_errors), _ratio, cross_check="paired_t"),
    SumMetric("rmse", False, _mean_statistics(_squared_errors), _root_ratio),
    SumMetric("mape", False, _mean_statistics(_percentage_errors), _ratio, cross_check="paired_t"),
    SumMetric("r2", True, _r2_statistics, _r2_combine),
)
METRICS: dict[str, Metric] = {metric.name: metric for metric in _CLASSIFICATION + _REGRESSION}

_RANKING = re.compile(r"^(ndcg|recall|mrr)(?:@([1-9][0-9]*))?$")
RANKING_NAMES = ("ndcg@K", "recall@K", "mrr", "mrr@K")


def metric_names() -> list[str]:
    return sorted(METRICS) + list(RANKING_NAMES)


def get_metric(name: str) -> Metric:
    """A built-in metric by name; ``ndcg@10``, ``recall@5``, ``mrr`` (and ``mrr@10``) rank query groups."""
    if isinstance(name, str):
        if name in METRICS:
            return METRICS[name]
        match = _RANKING.match(name)
        if match and (match.group(2) or match.group(1) == "mrr"):
            kind, k = match.group(1), match.group(2)
            return SumMetric(name, True, _query_statistics(kind, int(k) if k else None), _ratio, needs_groups=True)
    raise MetricInputError(f"unknown metric {name!r} (available: {', '.join(metric_names())})")


def resolve_metric(metric: str | Metric | Callable[..., float], higher_is_better: bool | None = None) -> Metric:
    """A metric from a name, a metric object, or a plain function (which needs ``higher_is_better``)."""
    if isinstance(metric, (SumMetric, RankMetric, CustomMetric)):
        resolved = metric
    elif isinstance(metric, str):
        resolved = get_metric(metric)
    elif callable(metric):
        if not isinstance(higher_is_better, bool):
            raise MetricInputError("a custom metric function needs higher_is_better=True or False")
        return CustomMetric(metric, higher_is_better)
    else:
        raise MetricInputError(f"metric must be a name or a function, got {type(metric).__name__}")
    if higher_is_better is not None and higher_is_better != resolved.higher_is_better:
        raise MetricInputError(
            f"{resolved.name} is {'higher' if resolved.higher_is_better else 'lower'}-is-better; "
            f"higher_is_better={higher_is_better} contradicts it"
        )
    return resolved
