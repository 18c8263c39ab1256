"""The metric layer (``pytest_promote.stats.metrics``) against independent references.

What this file shows:

1. Point values. For every built-in metric, the candidate and baseline values that
   ``paired_bootstrap`` reports equal scikit-learn's on the same inputs to 1e-12. The inputs
   cover 0/1, -1/1 and 1/2 int labels, string and object labels, 1-D and 2-D probabilities,
   multiclass, and tied scores, each with and without ``sample_weight``. nDCG@k equals the
   mean of ``sklearn.metrics.ndcg_score`` per query. recall@k and MRR equal hand-computed
   values.
2. Jackknife. The closed-form leave-one-out values equal brute-force leave-one-out
   recomputation with scikit-learn: ``combine(total - stats)`` for sum metrics, and
   ``jackknife_values`` for ROC AUC. Average precision's values are first order: they equal
   ``AP - w_i dAP/dw_i``, with the derivative taken numerically from scikit-learn's AP.
3. Custom metric functions. The direction is required and checked against the built-ins.
   Point values are the function on the full data, ``sample_weight`` is passed through, and
   an exception is reported with the function's name and the model whose predictions it was
   scoring.
4. Bad input. ``paired_bootstrap`` raises ``MetricInputError``. The message names the model
   at fault (also when only the baseline is bad) and counts the bad values.
5. Tiny data. Fewer than 2 units is an error. Fewer than 30 gives a ``PromoteWarning`` and a
   result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest

from pytest_promote.errors import MetricInputError, PromoteWarning
from pytest_promote.stats.bootstrap import _leave_one_out_sums
from pytest_promote.stats import paired_bootstrap
from pytest_promote.stats.inputs import group_ids
from pytest_promote.stats.metrics import METRICS, CustomMetric, get_metric, metric_names, resolve_metric

sk = pytest.importorskip("sklearn.metrics")

N = 60
TOL = {"rel": 1e-12, "abs": 1e-12}
QUICK = {"resamples": 200, "method": "percentile", "seed": 1}
ROLES = ("candidate", "baseline")


def _point(name: str, y: Any, pred: Any, weight: Any = None, groups: Any = None) -> float:
    """One model's value straight from the metric object."""
    metric = get_metric(name)
    y = np.asarray(y)
    grouping = None if groups is None else group_ids(groups, len(y))
    weight = None if weight is None else np.asarray(weight, dtype=float)
    return metric.point(metric.prepare(y, pred, "candidate", weight, grouping))


# --- references: scikit-learn, fed the plugin's documented reading of predictions -----------------


def _labels(y: np.ndarray, pred: Any) -> np.ndarray:
    """Predicted labels: argmax of probability columns, a 0.5 cut of 1-D probabilities, else as given."""
    classes, pred = np.unique(y), np.asarray(pred)
    if pred.ndim == 2:
        return classes[np.argmax(pred, axis=1)]
    if pred.dtype.kind == "f" and np.any(pred != np.round(pred)):
        return np.where(pred > 0.5, classes[1], classes[0])
    return pred


def _positive_scores(pred: Any) -> np.ndarray:
    pred = np.asarray(pred)
    return pred[:, -1] if pred.ndim == 2 else pred


def _on_labels(fn: Callable, **kwargs: Any) -> Callable:
    return lambda y, pred, w: fn(y, _labels(y, pred), sample_weight=w, **kwargs)


def _binary(fn: Callable) -> Callable:
    """Precision/recall/F1 with the greater label as the positive class."""
    return lambda y, pred, w: fn(y, _labels(y, pred), pos_label=np.unique(y)[1], sample_weight=w)


def _roc_auc(y, pred, w):
    return sk.roc_auc_score(y, _positive_scores(pred), sample_weight=w)


def _average_precision(y, pred, w):
    return sk.average_precision_score(y, _positive_scores(pred), pos_label=np.unique(y)[1], sample_weight=w)


def _log_loss(y, pred, w):
    return sk.log_loss(y, pred, labels=np.unique(y), sample_weight=w)


def _brier(y, pred, w):
    classes = np.unique(y)
    if len(classes) == 2:
        return sk.brier_score_loss(y, pred, pos_label=classes[1], sample_weight=w)
    return sk.brier_score_loss(y, pred, sample_weight=w)


def _regression(fn: Callable) -> Callable:
    return lambda y, pred, w: fn(y, pred, sample_weight=w)


REFERENCES: dict[str, Callable] = {
    "accuracy": _on_labels(sk.accuracy_score),
    "balanced_accuracy": _on_labels(sk.balanced_accuracy_score),
    "precision": _binary(sk.precision_score),
    "recall": _binary(sk.recall_score),
    "f1": _binary(sk.f1_score),
    "precision_macro": _on_labels(sk.precision_score, average="macro"),
    "recall_macro": _on_labels(sk.recall_score, average="macro"),
    "f1_macro": _on_labels(sk.f1_score, average="macro"),
    "roc_auc": _roc_auc,
    "average_precision": _average_precision,
    "log_loss": _log_loss,
    "brier": _brier,
    "mae": _regression(sk.mean_absolute_error),
    "mse": _regression(sk.mean_squared_error),
    "rmse": _regression(sk.root_mean_squared_error),
    "mape": _regression(sk.mean_absolute_percentage_error),
    "r2": _regression(sk.r2_score),
}


# --- data -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    metric: str
    y: np.ndarray
    cand: Any
    base: Any

    def reference(self, pred: Any, weight: np.ndarray | None) -> float:
        return REFERENCES[self.metric](self.y, pred, weight)


def _noisy(truth: np.ndarray, n_classes: int, keep: float, rng: np.random.Generator) -> np.ndarray:
    """``truth`` with each entry replaced by a random class with probability ``1 - keep``."""
    return np.where(rng.uniform(size=len(truth)) < keep, truth, rng.integers(0, n_classes, len(truth)))


def _softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


BINARY_FORMS = {
    "0-1": np.array([0, 1]),
    "-1-1": np.array([-1, 1]),
    "1-2": np.array([1, 2]),
    "strings": np.array(["ham", "spam"]),
    "objects": np.array(["ham", "spam"], dtype=object),
}
MULTICLASS_FORMS = {"ints": np.array([0, 1, 2]), "strings": np.array(["bird", "cat", "dog"])}


def make_cases(seed: int = 20240611) -> list[Case]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, N)
    y[:2] = [0, 1]
    labels = _noisy(y, 2, 0.75, rng), _noisy(y, 2, 0.5, rng)
    scores = np.round(y + rng.normal(size=N), 1), np.round(0.4 * y + rng.normal(size=N), 1)  # tied scores
    probs = tuple(np.clip(np.round(1 / (1 + np.exp(-2 * s)), 2), 0.01, 0.99) for s in scores)
    columns = tuple(np.column_stack([1 - p, p]) for p in probs)
    y3 = rng.integers(0, 3, N)
    y3[:3] = [0, 1, 2]
    labels3 = _noisy(y3, 3, 0.7, rng), _noisy(y3, 3, 0.5, rng)
    probs3 = tuple(_softmax(1.5 * np.eye(3)[y3] * (i + 1) + rng.normal(size=(N, 3))) for i in range(2))
    extra = labels3[0].copy()
    extra[[5, 11]] = 3  # a predicted class that y_true never has
    rare_y, rare_pred = y3.copy(), labels3[0].copy()
    rare_y[7] = rare_pred[7] = 3  # a class that occurs once, in both y_true and predictions

    cases: list[Case] = []
    for form, classes in BINARY_FORMS.items():
        yb, pair = classes[y], (classes[labels[0]], classes[labels[1]])
        cases += [Case(f"{name}-{form}-labels", name, yb, *pair) for name in ("accuracy", "balanced_accuracy", "precision", "recall", "f1")]
        cases += [Case(f"{name}-{form}-tied-scores", name, yb, *scores) for name in ("roc_auc", "average_precision")]
        cases += [Case(f"{name}-{form}-1d-probabilities", name, yb, *probs) for name in ("log_loss", "brier", "accuracy", "f1")]
        cases += [Case(f"{name}-{form}-2d-probabilities", name, yb, *columns) for name in ("log_loss", "brier", "roc_auc", "accuracy")]
    yb = y
    cases += [
        Case("f1_macro-binary-labels", "f1_macro", yb, *labels),
        Case("precision-2d-probabilities", "precision", yb, *columns),
        Case("recall-2d-probabilities", "recall", yb, *columns),
        Case("balanced_accuracy-1d-probabilities", "balanced_accuracy", yb, *probs),
        Case("average_precision-2d-probabilities", "average_precision", yb, *columns),
        Case("roc_auc-integer-scores", "roc_auc", yb, rng.integers(0, 4, N), rng.integers(0, 3, N)),
        Case("average_precision-integer-scores", "average_precision", yb, rng.integers(0, 4, N), rng.integers(0, 3, N)),
        Case("log_loss-column-vector", "log_loss", yb, probs[0][:, None], probs[1][:, None]),
        Case("log_loss-hard-0-and-1", "log_loss", yb, labels[0].astype(float), 1.0 - labels[1]),
        Case("accuracy-float-labels", "accuracy", yb, labels[0].astype(float), labels[1].astype(float)),
    ]
    for form, classes in MULTICLASS_FORMS.items():
        ym, pair = classes[y3], (classes[labels3[0]], classes[labels3[1]])
        names = ("accuracy", "balanced_accuracy", "precision_macro", "recall_macro", "f1_macro")
        cases += [Case(f"{name}-multiclass-{form}-labels", name, ym, *pair) for name in names]
        cases += [Case(f"{name}-multiclass-{form}-probabilities", name, ym, *probs3) for name in names + ("log_loss", "brier")]
    cases += [
        Case(f"{name}-extra-predicted-class", name, y3, extra, labels3[1])
        for name in ("balanced_accuracy", "precision_macro", "recall_macro", "f1_macro", "accuracy")
    ]
    cases += [Case(f"{name}-rare-class", name, rare_y, rare_pred, labels3[1]) for name in ("balanced_accuracy", "f1_macro", "precision_macro")]

    target = rng.normal(10, 3, N)
    pred_a, pred_b = target + 0.8 * rng.standard_t(3, N), target + rng.normal(0.5, 1.5, N)
    counts = rng.poisson(4, N)
    with_zero = target.copy()
    with_zero[3] = 0.0  # scikit-learn divides by eps here: a huge but finite error
    offset = 1e6 + target
    constant = np.full(N, 2.5)
    for name in ("mae", "mse", "rmse", "mape", "r2"):
        cases += [
            Case(f"{name}-float-target", name, target, pred_a, pred_b),
            Case(f"{name}-int-target", name, counts, counts + rng.normal(size=N), np.round(counts * 1.1)),
        ]
    cases += [
        Case("mape-zero-target", "mape", with_zero, pred_a, pred_b),
        Case("r2-large-offset", "r2", offset, offset - target + pred_a, offset - target + pred_b),
        Case("r2-constant-target", "r2", constant, pred_a, constant.copy()),
    ]
    return cases


CASES = make_cases()
CASE_BY_ID = {case.id: case for case in CASES}
WEIGHTS = np.random.default_rng(5).uniform(0.1, 3.0, N)
WEIGHTS[[4, 9]] = 0.0  # zero weights are allowed and must drop those rows
WEIGHTING = pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])


def test_cases_cover_every_built_in_metric() -> None:
    assert {case.metric for case in CASES} == set(METRICS)
    assert len(CASE_BY_ID) == len(CASES)


@WEIGHTING
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
@pytest.mark.filterwarnings("ignore::UserWarning")  # scikit-learn's ill-defined-class warnings
def test_point_values_equal_scikit_learn(case: Case, weighted: bool) -> None:
    weight = WEIGHTS if weighted else None
    result = paired_bootstrap(case.metric, case.y, case.cand, case.base, sample_weight=weight, **QUICK)
    assert result.candidate == pytest.approx(case.reference(case.cand, weight), **TOL)
    assert result.baseline == pytest.approx(case.reference(case.base, weight), **TOL)


@pytest.mark.parametrize(
    ("name", "y", "pred", "expected"),
    [
        ("accuracy", [0, 1, 0], [0.5, 0.75, 0.25], 1.0),  # 0.5 is not above the cut: the first class
        ("accuracy", [1, 1, 0], [0.5, 0.75, 0.25], 2 / 3),
        ("f1", ["no", "yes", "yes", "no"], ["yes", "yes", "no", "no"], 0.5),  # "yes" > "no" is positive
        ("precision", [1, 2, 2, 1], [2, 2, 2, 1], 2 / 3),  # 2 is positive
        ("roc_auc", [0, 0, 1, 1], [0.1, 0.5, 0.5, 0.9], 3.5 / 4),
        ("average_precision", [0, 1, 0, 1], [0.9, 0.8, 0.7, 0.6], (1 / 2 + 2 / 4) / 2),
        ("brier", [0, 1], [0.25, 0.5], (0.0625 + 0.25) / 2),
        ("mape", [2.0, 4.0], [3.0, 3.0], 0.375),
    ],
    ids=["accuracy-half", "accuracy-half-positive", "f1-strings", "precision-1-2", "roc_auc-tie", "average_precision", "brier", "mape"],
)
def test_point_values_on_hand_computed_data(name, y, pred, expected) -> None:
    assert _point(name, y, np.asarray(pred)) == pytest.approx(expected, **TOL)


# --- ranking metrics ----------------------------------------------------------------------------------

QUERIES, ITEMS = 32, 6


def _ranking_data(seed: int = 3) -> dict[str, np.ndarray]:
    """Equal-size queries as (query, item) matrices, and the same data as shuffled rows."""
    rng = np.random.default_rng(seed)
    relevance = rng.integers(0, 4, (QUERIES, ITEMS))
    relevance[0] = 0  # nothing relevant: scores 0
    cand = np.round(relevance + rng.normal(0, 1.5, (QUERIES, ITEMS)))  # heavy ties
    base = np.round(rng.normal(size=(QUERIES, ITEMS)), 1)
    base[1] = 0.5  # one query entirely tied
    query_weight = rng.uniform(0.5, 2.0, QUERIES)
    order = rng.permutation(QUERIES * ITEMS)
    rows = {
        "y": relevance.ravel()[order],
        "cand": cand.ravel()[order],
        "base": base.ravel()[order],
        "weight": np.repeat(query_weight, ITEMS)[order],
        "groups": np.repeat(np.array([f"q{31 - i:02d}" for i in range(QUERIES)]), ITEMS)[order],
    }
    return {"relevance": relevance, "cand_matrix": cand, "base_matrix": base, "query_weight": query_weight, **rows}


RANKING = _ranking_data()


@WEIGHTING
@pytest.mark.parametrize("k", [1, 3, 6, 10], ids=lambda k: f"k{k}")
def test_ndcg_equals_mean_of_scikit_learn_per_query(k: int, weighted: bool) -> None:
    d = RANKING
    row_weight, query_weight = (d["weight"], d["query_weight"]) if weighted else (None, None)
    result = paired_bootstrap(f"ndcg@{k}", d["y"], d["cand"], d["base"], groups=d["groups"], sample_weight=row_weight, **QUICK)
    for value, scores in ((result.candidate, d["cand_matrix"]), (result.baseline, d["base_matrix"])):
        per_query = [sk.ndcg_score(d["relevance"][q : q + 1], scores[q : q + 1], k=k) for q in range(QUERIES)]
        assert value == pytest.approx(np.average(per_query, weights=query_weight), **TOL)


# Five queries, by hand. Per query, in score order:
#   A  scores .9 .8 .7 .6, relevance 0 1 0 1   first relevant at rank 2
#   B  scores .5 .5 .1,    relevance 1 0 0     the relevant item ties for ranks 1-2
#   C  scores .4 .3,       relevance 0 0       nothing relevant: 0 on every metric
#   D  scores .3 .2 .1,    relevance 0 0 2     first relevant at rank 3
#   E  scores .7 .7 .7 .1, relevance 1 0 1 0   2 relevant among 3 tied for ranks 1-3
# E's first relevant item is at rank 1 with probability C(2,1)/C(3,2) = 2/3, else at rank 2.
HAND_QUERIES = np.array(list("AAAABBBCCDDDEEEE"))
HAND_SCORES = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.5, 0.1, 0.4, 0.3, 0.3, 0.2, 0.1, 0.7, 0.7, 0.7, 0.1])
HAND_RELEVANCE = np.array([0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 2, 1, 0, 1, 0])
HAND_QUERY_WEIGHT = {"A": 3.0, "B": 1.0, "C": 1.0, "D": 0.5, "E": 2.0}
HAND_VALUES = {  # per query A, B, C, D, E
    "recall@1": [0, 1 / 2, 0, 0, (2 / 3) / 2],
    "recall@2": [1 / 2, 1, 0, 0, (4 / 3) / 2],
    "recall@3": [1 / 2, 1, 0, 1, 1],
    "mrr": [1 / 2, 1 / 2 + 1 / 4, 0, 1 / 3, 2 / 3 + 1 / 6],
    "mrr@1": [0, 1 / 2, 0, 0, 2 / 3],
    "mrr@2": [1 / 2, 3 / 4, 0, 0, 5 / 6],
}


@WEIGHTING
@pytest.mark.parametrize("name", list(HAND_VALUES))
def test_recall_and_mrr_on_hand_computed_queries(name: str, weighted: bool) -> None:
    order = np.random.default_rng(0).permutation(len(HAND_QUERIES))  # row order must not matter
    row_weight = np.array([HAND_QUERY_WEIGHT[q] for q in HAND_QUERIES]) if weighted else None
    value = _point(
        name, HAND_RELEVANCE[order], HAND_SCORES[order], None if row_weight is None else row_weight[order], HAND_QUERIES[order]
    )
    weights = list(HAND_QUERY_WEIGHT.values()) if weighted else None
    assert value == pytest.approx(np.average(HAND_VALUES[name], weights=weights), **TOL)


# --- jackknife: closed form against brute-force leave-one-out ------------------------------------------

LOO_CASES = [
    "accuracy-0-1-labels",
    "accuracy-strings-1d-probabilities",
    "f1-strings-labels",
    "f1-0-1-1d-probabilities",
    "balanced_accuracy-multiclass-ints-labels",
    "balanced_accuracy-rare-class",
    "f1_macro-rare-class",
    "precision_macro-rare-class",
    "log_loss-0-1-1d-probabilities",
    "log_loss-multiclass-strings-probabilities",
    "brier-multiclass-ints-probabilities",
    "mae-float-target",
    "rmse-float-target",
    "r2-float-target",
    "r2-large-offset",
    "mape-zero-target",
]


def _leave_one_out(reference: Callable[[np.ndarray, Any, Any], float], y, pred, weight) -> np.ndarray:
    pred = np.asarray(pred)
    return np.array(
        [
            reference(np.delete(y, i), np.delete(pred, i, axis=0), None if weight is None else np.delete(weight, i))
            for i in range(len(y))
        ]
    )


@WEIGHTING
@pytest.mark.parametrize("case_id", LOO_CASES)
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_sum_metric_jackknife_equals_brute_force_leave_one_out(case_id: str, weighted: bool) -> None:
    case = CASE_BY_ID[case_id]
    metric = get_metric(case.metric)
    weight = WEIGHTS if weighted else None
    prepared = metric.prepare(case.y, case.cand, "candidate", weight, None)
    jackknife = metric.combine(_leave_one_out_sums(prepared.stats, None))  # as _sum_replicates does
    expected = _leave_one_out(lambda y, pred, w: REFERENCES[case.metric](y, pred, w), case.y, case.cand, weight)
    np.testing.assert_allclose(jackknife, expected, rtol=1e-10, atol=1e-12)


@WEIGHTING
@pytest.mark.parametrize("k", [2, 10], ids=lambda k: f"k{k}")
def test_ranking_jackknife_equals_leave_one_query_out(k: int, weighted: bool) -> None:
    d = RANKING
    metric = get_metric(f"ndcg@{k}")
    prepared = metric.prepare(d["y"], d["cand"], "candidate", d["weight"] if weighted else None, group_ids(d["groups"], len(d["y"])))
    jackknife = metric.combine(prepared.stats.sum(axis=0) - prepared.stats)
    per_query = np.array([sk.ndcg_score(d["relevance"][q : q + 1], d["cand_matrix"][q : q + 1], k=k) for q in range(QUERIES)])
    weights = d["query_weight"] if weighted else np.ones(QUERIES)
    # group_ids numbers queries by sorted id: "q31" (matrix row 0) is last
    expected = [np.average(np.delete(per_query, q), weights=np.delete(weights, q)) for q in range(QUERIES)][::-1]
    np.testing.assert_allclose(jackknife, expected, rtol=1e-12, atol=1e-12)


def _auc_data(kind: str) -> tuple[np.ndarray, np.ndarray]:
    if kind == "hand-ties":
        return np.array([0, 0, 0, 1, 1, 1, 0, 1, 0, 1]), np.array([0.2, 0.5, 0.5, 0.5, 0.9, 0.2, 0.7, 0.7, 0.1, 0.5])
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, N)
    y[:4] = [0, 1, 0, 1]
    return y, np.round(0.8 * y + rng.normal(size=N), 1)


@WEIGHTING
@pytest.mark.parametrize("kind", ["hand-ties", "random-ties"])
def test_roc_auc_jackknife_equals_brute_force_leave_one_out(kind: str, weighted: bool) -> None:
    y, scores = _auc_data(kind)
    weight = np.random.default_rng(2).uniform(0.2, 3.0, len(y)) if weighted else None
    if weighted:
        weight[1] = 0.0
    metric = get_metric("roc_auc")
    jackknife = metric.jackknife_values(metric.prepare(y, scores, "candidate", weight, None))
    expected = _leave_one_out(_roc_auc, y, scores, weight)
    np.testing.assert_allclose(jackknife, expected, rtol=0, atol=1e-12)


@WEIGHTING
@pytest.mark.parametrize("kind", ["hand-ties", "random-ties"])
def test_average_precision_jackknife_is_first_order(kind: str, weighted: bool) -> None:
    y, scores = _auc_data(kind)
    weight = np.random.default_rng(4).uniform(0.5, 2.0, len(y)) if weighted else np.ones(len(y))
    metric = get_metric("average_precision")
    prepared = metric.prepare(y, scores, "candidate", weight if weighted else None, None)
    jackknife = metric.jackknife_values(prepared)

    def ap(w: np.ndarray) -> float:
        return sk.average_precision_score(y, scores, sample_weight=w)

    step = 1e-5
    derivative = np.array(
        [(ap(weight + step * np.eye(len(y))[i]) - ap(weight - step * np.eye(len(y))[i])) / (2 * step) for i in range(len(y))]
    )
    np.testing.assert_allclose(metric.point(prepared) - jackknife, weight * derivative, rtol=1e-6, atol=1e-9)
    if len(y) >= 50:  # on 10 examples one example is too large a step for a first-order value
        brute = _leave_one_out(_average_precision, y, scores, weight if weighted else None)
        assert np.corrcoef(jackknife, brute)[0, 1] > 0.99


# --- custom metric functions ---------------------------------------------------------------------------


def _median_absolute_error(y_true, y_pred):
    return float(np.median(np.abs(y_true - y_pred)))


def _regression_data(n: int = 40, seed: int = 8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.normal(5, 2, n)
    return y, y + rng.normal(0, 1, n), y + rng.normal(0.5, 1.5, n)


def test_resolve_custom_function() -> None:
    metric = resolve_metric(_median_absolute_error, False)
    assert isinstance(metric, CustomMetric)
    assert metric.higher_is_better is False and metric.name == "_median_absolute_error"
    y, cand, _ = _regression_data()
    assert metric.point(metric.prepare(y, cand, "candidate", None, None)) == np.median(np.abs(y - cand))


def test_custom_function_without_direction_is_refused() -> None:
    with pytest.raises(MetricInputError, match="higher_is_better"):
        resolve_metric(_median_absolute_error)
    y, cand, base = _regression_data()
    with pytest.raises(MetricInputError, match="higher_is_better"):
        paired_bootstrap(_median_absolute_error, y, cand, base, **QUICK)


DIRECTIONS = {
    "accuracy": True, "balanced_accuracy": True, "precision": True, "recall": True, "f1": True,
    "precision_macro": True, "recall_macro": True, "f1_macro": True, "roc_auc": True,
    "average_precision": True, "log_loss": False, "brier": False, "mae": False, "mse": False,
    "rmse": False, "mape": False, "r2": True, "ndcg@5": True, "recall@3": True, "mrr": True, "mrr@10": True,
}  # fmt: skip


@pytest.mark.parametrize(("name", "higher"), DIRECTIONS.items(), ids=list(DIRECTIONS))
def test_direction_of_built_in_metrics(name: str, higher: bool) -> None:
    assert get_metric(name).higher_is_better is higher
    assert resolve_metric(name, higher).name == name
    with pytest.raises(MetricInputError, match=rf"^{re.escape(name)} is .*higher_is_better={not higher} contradicts it"):
        resolve_metric(name, not higher)


@pytest.mark.parametrize("role", ROLES)
def test_custom_function_error_names_function_and_model(role: str) -> None:
    def refuses_negative(y_true, y_pred):
        if np.any(y_pred < 0):
            raise ValueError("negative prediction")
        return float(np.mean(y_pred))

    y, cand, _ = _regression_data()
    good, bad = np.abs(cand) + 0.1, -np.abs(cand) - 0.1
    cand, base = (bad, good) if role == "candidate" else (good, bad)
    with pytest.raises(MetricInputError) as info:
        paired_bootstrap(refuses_negative, y, cand, base, higher_is_better=True, **QUICK)
    message = str(info.value)
    assert "refuses_negative" in message and "ValueError" in message and "negative prediction" in message
    assert f"the {role}'s predictions" in message
    assert ({"candidate", "baseline"} - {role}).pop() not in message


def test_custom_point_values_are_the_function_on_full_data() -> None:
    y, cand, base = _regression_data()
    result = paired_bootstrap(_median_absolute_error, y, cand, base, higher_is_better=False, resamples=100, method="bca")
    assert result.path == "custom"
    assert result.candidate == np.median(np.abs(y - cand))
    assert result.baseline == np.median(np.abs(y - base))
    assert result.delta == pytest.approx(result.baseline - result.candidate, **TOL)  # lower is better


def test_custom_function_receives_sample_weight() -> None:
    y, cand, base = _regression_data()
    weight = np.random.default_rng(1).uniform(0.0, 4.0, len(y))
    received: list[Any] = []

    def weighted_mae(y_true, y_pred, sample_weight=None):
        received.append(sample_weight)
        return float(np.average(np.abs(y_true - y_pred), weights=sample_weight))

    result = paired_bootstrap(weighted_mae, y, cand, base, sample_weight=weight, higher_is_better=False, resamples=50, method="percentile")
    expected = np.average(np.abs(y - cand), weights=weight)
    assert result.candidate == pytest.approx(expected, **TOL)
    assert result.candidate != pytest.approx(np.mean(np.abs(y - cand)), rel=1e-3)  # the weights changed it
    # every call got weights: the full vector for the point value, the drawn rows' for resamples
    assert any(np.array_equal(w, weight) for w in received)
    assert all(isinstance(w, np.ndarray) and np.isin(w, weight).all() for w in received)


# --- bad input ------------------------------------------------------------------------------------------

M = 40
Y_BIN = np.tile([0, 1], M // 2)
Y_3 = np.arange(M) % 3
Y_REG = np.linspace(1.0, 5.0, M)
P_1D = np.linspace(0.05, 0.95, M)
P_2D = np.column_stack([1 - P_1D, P_1D])
P_3 = np.full((M, 3), 1 / 3)
GROUPS = np.repeat(np.arange(M // 4), 4)


def _spoil(values: np.ndarray, rows: list[int], bad: list[Any]) -> np.ndarray:
    spoiled, index = np.array(values, dtype=float), np.array(rows)
    spoiled[index if index.ndim == 1 else tuple(index.T)] = bad
    return spoiled


def _message(metric: Any, y: Any, cand: Any, base: Any, **kwargs: Any) -> str:
    with pytest.raises(MetricInputError) as info:
        paired_bootstrap(metric, y, cand, base, **QUICK, **kwargs)
    assert info.value.code == "bad_input"
    return str(info.value)


NAN = [np.nan, np.inf]
GROUPED = {"groups": GROUPS}
CUSTOM = {"higher_is_better": True}
_3D = r"^{role} \w+: expected a 1-D (or 2-D )?array, got shape \(40, 2, 1\)"
_SHORT = r"^{role} \w+ have 39 rows but y_true has 40"
PREDICTION_FAULTS = [
    # (id, metric, y_true, good predictions, bad predictions, extra kwargs, message pattern)
    ("nan-accuracy-labels", "accuracy", Y_BIN, Y_BIN, _spoil(Y_BIN, [3, 8], NAN), {}, r"^{role} predictions: 2 of 40 values are NaN or infinite"),
    ("nan-f1-probabilities", "f1", Y_BIN, P_1D, _spoil(P_1D, [3, 8], NAN), {}, r"^{role} predictions: 2 of 40 values are NaN or infinite"),
    ("nan-accuracy-2d", "accuracy", Y_BIN, P_2D, _spoil(P_2D, [[3, 0], [8, 1]], NAN), {}, r"^{role} probabilities: 2 of 80 values are NaN"),
    ("nan-roc_auc", "roc_auc", Y_BIN, P_1D, _spoil(P_1D, [3, 8], NAN), {}, r"^{role} scores: 2 of 40 values are NaN or infinite"),
    ("nan-average_precision", "average_precision", Y_BIN, P_1D, _spoil(P_1D, [3], [np.nan]), {}, r"^{role} scores: 1 of 40 values are NaN"),
    ("nan-log_loss-2d", "log_loss", Y_BIN, P_2D, _spoil(P_2D, [[3, 0], [8, 1]], NAN), {}, r"^{role} probabilities: 2 of 80 values are NaN"),
    ("nan-brier", "brier", Y_BIN, P_1D, _spoil(P_1D, [3, 8], NAN), {}, r"^{role} probabilities: 2 of 40 values are NaN"),
    ("nan-mae", "mae", Y_REG, Y_REG, _spoil(Y_REG, [3, 8], [np.nan, -np.inf]), {}, r"^{role} predictions: 2 of 40 values are NaN"),
    ("nan-r2", "r2", Y_REG, Y_REG, _spoil(Y_REG, [3, 8, 9], [np.nan] * 3), {}, r"^{role} predictions: 3 of 40 values are NaN"),
    ("nan-ndcg", "ndcg@3", Y_3, P_1D, _spoil(P_1D, [3, 8], NAN), GROUPED, r"^{role} scores: 2 of 40 values are NaN"),
    ("nan-custom", _median_absolute_error, Y_REG, Y_REG, _spoil(Y_REG, [3, 8], NAN), CUSTOM, r"^{role} predictions: 2 of 40 values are NaN"),
    ("short-accuracy", "accuracy", Y_BIN, Y_BIN, Y_BIN[:-1], {}, _SHORT),
    ("short-accuracy-2d", "accuracy", Y_BIN, P_2D, P_2D[:-1], {}, _SHORT),
    ("short-f1", "f1", Y_BIN, Y_BIN, Y_BIN[:-1], {}, _SHORT),
    ("short-balanced_accuracy", "balanced_accuracy", Y_BIN, Y_BIN, Y_BIN[1:], {}, _SHORT),
    ("short-roc_auc", "roc_auc", Y_BIN, P_1D, P_1D[:-1], {}, _SHORT),
    ("short-average_precision", "average_precision", Y_BIN, P_2D, P_2D[:-1], {}, _SHORT),
    ("short-log_loss", "log_loss", Y_BIN, P_1D, P_1D[:-1], {}, _SHORT),
    ("short-brier-2d", "brier", Y_3, P_3, P_3[:-1], {}, _SHORT),
    ("short-mse", "mse", Y_REG, Y_REG, Y_REG[:-1], {}, _SHORT),
    ("short-r2", "r2", Y_REG, Y_REG, Y_REG[:-1], {}, _SHORT),
    ("short-mrr", "mrr", Y_3, P_1D, P_1D[:-1], GROUPED, _SHORT),
    ("short-custom", _median_absolute_error, Y_REG, Y_REG, Y_REG[:-1], CUSTOM, _SHORT),
    ("outside-log_loss-1d", "log_loss", Y_BIN, P_1D, _spoil(P_1D, [3, 8], [1.2, -0.1]), {}, r"^{role} probabilities: 2 values lie outside \[0, 1\]"),
    ("outside-brier-1d", "brier", Y_BIN, P_1D, _spoil(P_1D, [3, 8, 9], [1.2, -0.1, 7]), {}, r"^{role} probabilities: 3 values lie outside \[0, 1\]"),
    ("outside-log_loss-2d", "log_loss", Y_BIN, P_2D, _spoil(P_2D, [[3, 0], [3, 1]], [-0.1, 1.1]), {}, r"^{role} probabilities: 2 values lie outside \[0, 1\]"),
    ("outside-brier-multiclass", "brier", Y_3, P_3, _spoil(P_3, [[3, 0], [5, 2]], [1.5, 1.5]), {}, r"^{role} probabilities: 2 values lie outside \[0, 1\]"),
    ("3d-accuracy", "accuracy", Y_BIN, P_2D, P_2D[:, :, None], {}, _3D),
    ("3d-f1", "f1", Y_BIN, P_2D, P_2D[:, :, None], {}, _3D),
    ("3d-roc_auc", "roc_auc", Y_BIN, P_2D, P_2D[:, :, None], {}, _3D),
    ("3d-log_loss", "log_loss", Y_BIN, P_2D, P_2D[:, :, None], {}, _3D),
    ("3d-brier", "brier", Y_BIN, P_2D, P_2D[:, :, None], {}, _3D),
    ("3d-mae", "mae", Y_REG, Y_REG, P_2D[:, :, None], {}, _3D),
    ("3d-ndcg", "ndcg@3", Y_3, P_1D, P_2D[:, :, None], GROUPED, _3D),
    ("strings-mae", "mae", Y_REG, Y_REG, Y_REG.astype(str), {}, r"^{role} predictions: expected numbers, got dtype <U"),
    ("strings-rmse", "rmse", Y_REG, Y_REG, Y_REG.astype(str), {}, r"^{role} predictions: expected numbers"),
    ("strings-r2", "r2", Y_REG, Y_REG, Y_REG.astype(str).astype(object), {}, r"^{role} predictions: expected numbers, got dtype object"),
    ("strings-mape", "mape", Y_REG, Y_REG, Y_REG.astype(str), {}, r"^{role} predictions: expected numbers"),
    ("labels-type-mismatch", "accuracy", Y_BIN, Y_BIN, np.where(Y_BIN == 1, "a", "b"), {}, r"^{role} predictions are <U1 labels but y_true is int"),
]  # fmt: skip


@pytest.mark.filterwarnings("ignore:only 10 groups")  # GROUPS has 10 queries
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("metric", "y", "good", "bad", "kwargs", "pattern"), [fault[1:] for fault in PREDICTION_FAULTS], ids=[fault[0] for fault in PREDICTION_FAULTS]
)
def test_bad_predictions_name_the_model_and_count(metric, y, good, bad, kwargs, pattern, role) -> None:
    cand, base = (bad, good) if role == "candidate" else (good, bad)
    message = _message(metric, y, cand, base, **kwargs)
    assert re.search(pattern.replace("{role}", role), message), message
    assert ({"candidate", "baseline"} - {role}).pop() not in message


def _weights(**rows: float) -> np.ndarray:
    weight = np.ones(M)
    for row, value in rows.items():
        weight[int(row[1:])] = value
    return weight


RELEVANCE_NEGATIVE = _spoil(Y_3, [3, 8], [-1, -2])
VARYING_IN_QUERY = _weights(r5=2.0)  # row 5 is in query 1, whose other rows weigh 1
INPUT_FAULTS = [
    # (id, metric, y_true, candidate, baseline, kwargs, message pattern)
    ("weight-short", "mae", Y_REG, Y_REG, Y_REG, {"sample_weight": np.ones(M - 1)}, r"^sample_weight values have 39 rows but y_true has 40"),
    ("weight-negative", "accuracy", Y_BIN, Y_BIN, Y_BIN, {"sample_weight": _weights(r1=-1, r2=-0.5, r9=-3)}, r"^sample_weight: 3 of 40 weights are negative"),
    ("weight-all-zero", "accuracy", Y_BIN, Y_BIN, Y_BIN, {"sample_weight": np.zeros(M)}, r"^sample_weight: every weight is zero"),
    ("weight-nan", "mae", Y_REG, Y_REG, Y_REG, {"sample_weight": _weights(r4=np.nan)}, r"^sample_weight values: 1 of 40 values are NaN"),
    ("groups-short", "ndcg@3", Y_3, P_1D, P_1D, {"groups": GROUPS[:-1]}, r"^groups values have 39 rows but y_true has 40"),
    ("groups-nan", "mrr", Y_3, P_1D, P_1D, {"groups": _spoil(GROUPS, [0, 7], [np.nan, np.nan])}, r"^groups: 2 of 40 group ids are NaN"),
    ("groups-none", "accuracy", Y_BIN, Y_BIN, Y_BIN, {"groups": np.array([None] + [f"g{i % 10}" for i in range(1, M)], dtype=object)}, r"^groups: some group ids are missing"),
    ("single-class-roc_auc", "roc_auc", np.ones(M, dtype=int), P_1D, P_1D, {}, r"exactly two classes in y_true, found 1"),
    ("single-class-average_precision", "average_precision", np.zeros(M, dtype=int), P_1D, P_1D, {}, r"exactly two classes in y_true, found 1"),
    ("three-classes-roc_auc", "roc_auc", Y_3, P_1D, P_1D, {}, r"exactly two classes in y_true, found 3"),
    ("three-classes-average_precision", "average_precision", Y_3, P_1D, P_1D, {}, r"exactly two classes in y_true, found 3"),
    ("three-classes-f1", "f1", Y_3, Y_3, Y_3, {}, r"^binary precision/recall/F1 need exactly two classes in y_true, found 3; use the \*_macro"),
    ("three-classes-recall", "recall", Y_3, Y_3, Y_3, {}, r"found 3"),
    ("three-classes-log_loss-1d", "log_loss", Y_3, P_1D, P_1D, {}, r"exactly two classes in y_true, found 3"),
    ("columns-vs-classes", "log_loss", np.where(Y_BIN == 1, "b", "a"), P_3, P_3, {}, r"^candidate predictions have 3 probability columns but y_true has 2 classes"),
    ("nan-labels", "accuracy", _spoil(Y_BIN, [2], [np.nan]), Y_BIN, Y_BIN, {}, r"^y_true: 1 labels are NaN"),
    ("nan-regression-target", "rmse", _spoil(Y_REG, [2, 3], NAN), Y_REG, Y_REG, {}, r"^y_true values: 2 of 40 values are NaN"),
    ("ranking-without-groups", "ndcg@5", Y_3, P_1D, P_1D, {}, r"^ndcg@5 is a ranking metric: pass groups="),
    ("mrr-without-groups", "mrr", Y_3, P_1D, P_1D, {}, r"^mrr is a ranking metric"),
    ("relevance-negative", "ndcg@3", RELEVANCE_NEGATIVE, P_1D, P_1D, GROUPED, r"^y_true: 2 relevance grades are negative"),
    ("weight-varies-in-query", "recall@2", Y_3, P_1D, P_1D, {**GROUPED, "sample_weight": VARYING_IN_QUERY}, r"^sample_weight: ranking metrics weight whole queries, but 1 rows differ"),
]  # fmt: skip


@pytest.mark.filterwarnings("ignore:only 10 groups")
@pytest.mark.parametrize(("metric", "y", "cand", "base", "kwargs", "pattern"), [f[1:] for f in INPUT_FAULTS], ids=[f[0] for f in INPUT_FAULTS])
def test_bad_labels_weights_and_groups(metric, y, cand, base, kwargs, pattern) -> None:
    message = _message(metric, y, cand, base, **kwargs)
    assert re.search(pattern, message), message


BUILT_IN_NAMES = [
    "accuracy", "balanced_accuracy", "precision", "recall", "f1", "precision_macro", "recall_macro",
    "f1_macro", "roc_auc", "average_precision", "log_loss", "brier", "mae", "mse", "rmse", "mape", "r2",
    "ndcg@K", "recall@K", "mrr", "mrr@K",
]  # fmt: skip


def test_metric_names_are_the_documented_ones() -> None:
    assert sorted(metric_names()) == sorted(BUILT_IN_NAMES)


@pytest.mark.parametrize("name", ["accuracyy", "ndcg", "ndcg@0", "recall@-1", "NDCG@5", "mrr@", "auc"])
def test_unknown_metric_lists_available_names(name: str) -> None:
    message = _message(name, Y_BIN, Y_BIN, Y_BIN)
    assert message.startswith(f"unknown metric {name!r}")
    available = message.split("available: ", 1)[1]
    assert all(known in available for known in BUILT_IN_NAMES), message


@pytest.mark.parametrize("name", ["ndcg@1", "ndcg@25", "recall@3", "mrr", "mrr@10"])
def test_ranking_names_parse(name: str) -> None:
    metric = get_metric(name)
    assert metric.name == name and metric.needs_groups


# --- tiny data ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "y", "pred", "kwargs", "pattern"),
    [
        ("mae", [1.0], [1.5], {}, r"need at least 2 examples to compare, got 1"),
        ("accuracy", [], [], {}, r"need at least 2 examples to compare, got 0"),
        ("ndcg@2", [1, 0, 2], [0.3, 0.2, 0.1], {"groups": ["q", "q", "q"]}, r"need at least 2 groups to compare, got 1"),
    ],
    ids=["one-example", "no-examples", "one-group"],
)
def test_fewer_than_two_units_is_an_error(metric, y, pred, kwargs, pattern) -> None:
    with pytest.raises(MetricInputError, match=pattern):
        paired_bootstrap(metric, np.array(y), np.array(pred), np.array(pred), **QUICK, **kwargs)


@pytest.mark.parametrize("n", [2, 10, 29])
def test_fewer_than_thirty_warns_but_gives_a_result(n: int) -> None:
    y = np.arange(n) % 2
    cand = y.copy()
    cand[0] = 1 - cand[0]
    with pytest.warns(PromoteWarning, match=rf"only {n} examples"):
        result = paired_bootstrap("accuracy", y, cand, y, **QUICK)
    assert result.candidate == pytest.approx(sk.accuracy_score(y, cand), **TOL)
    assert result.baseline == 1.0 and result.n == n


def test_thirty_examples_do_not_warn(recwarn: pytest.WarningsRecorder) -> None:
    y = np.arange(30) % 2
    paired_bootstrap("accuracy", y, y, 1 - y, **QUICK)
    assert not [w for w in recwarn if issubclass(w.category, PromoteWarning)]
