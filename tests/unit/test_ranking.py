"""Ranking metrics per query: nDCG equals scikit-learn's, recall@k and MRR equal a naive
reference that averages over every order of the tied items, and the work is vectorised."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest

from pytest_promote.stats.ranking import RANKING_KINDS, group_index, per_query

sk = pytest.importorskip("sklearn.metrics")

SIZE = 9  # items per query in the sklearn comparisons
N_QUERIES = 40
CUTOFFS = [1, 3, 5, None, 50]


def _grid(seed: int, ties: bool):
    """Equal-size queries as 2-D (query, item) arrays; some queries have nothing relevant."""
    rng = np.random.default_rng(seed)
    relevance = rng.integers(0, 4, (N_QUERIES, SIZE)).astype(float)
    relevance[:3] = 0
    scores = rng.normal(size=(N_QUERIES, SIZE))
    if ties:
        scores = np.round(scores)
    return relevance, scores


def _sklearn_ndcg(relevance, scores, k):
    return np.array([sk.ndcg_score(t[None], s[None], k=k) for t, s in zip(relevance, scores)])


def _flat(relevance, scores):
    return relevance.ravel(), scores.ravel(), np.repeat(np.arange(len(relevance)), SIZE)


@pytest.mark.parametrize("ties", [True, False], ids=["ties", "distinct"])
@pytest.mark.parametrize("k", CUTOFFS)
def test_ndcg_equals_sklearn_per_query(ties, k):
    relevance, scores = _grid(11, ties)
    rel, sc, query = _flat(relevance, scores)
    got = per_query("ndcg", k, rel, sc, query, N_QUERIES)
    expected = _sklearn_ndcg(relevance, scores, k)
    assert got.shape == (N_QUERIES,)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert np.all(got[:3] == 0)
    assert np.any((got > 0) & (got < 1))


@pytest.mark.parametrize("k", [3, None])
def test_shuffled_rows_and_string_ids_give_the_same_values(k):
    relevance, scores = _grid(5, ties=True)
    rel, sc, query = _flat(relevance, scores)
    names = np.array([f"q{7 * q + 3}" for q in query])  # non-contiguous, sort != numeric order
    perm = np.random.default_rng(0).permutation(rel.size)
    index, n = group_index(names[perm])
    assert n == N_QUERIES
    code = {name: i for name, i in zip(names[perm], index)}
    position = np.array([code[f"q{7 * q + 3}"] for q in range(N_QUERIES)])
    for kind in RANKING_KINDS:
        shuffled = per_query(kind, k, rel[perm], sc[perm], index, n)
        ordered = per_query(kind, k, rel, sc, query, N_QUERIES)
        np.testing.assert_allclose(shuffled[position], ordered, rtol=0, atol=1e-15)
    np.testing.assert_allclose(
        per_query("ndcg", k, rel[perm], sc[perm], index, n)[position],
        _sklearn_ndcg(relevance, scores, k),
        rtol=0,
        atol=1e-12,
    )


def test_group_index_maps_ids_to_a_dense_range():
    index, n = group_index([30, 10, 30, 99, 10])
    assert n == 3
    assert index.tolist() == [1, 0, 1, 2, 0]
    index, n = group_index(np.array(["b", "a", "b"]))
    assert (index.tolist(), n) == ([1, 0, 1], 2)


def _orders(scores):
    """Every ranking of the items: blocks of tied scores in descending order, each permuted."""
    blocks = [
        [i for i in range(len(scores)) if scores[i] == value]
        for value in sorted(set(scores), reverse=True)
    ]
    for choice in itertools.product(*(itertools.permutations(b) for b in blocks)):
        yield [i for block in choice for i in block]


def _naive(kind, k, relevance, scores):
    """Average of the metric over all tie-breaking orders, computed item by item."""
    cut = len(relevance) if k is None else k
    ideal = sorted(relevance, reverse=True)[:cut]
    ideal_dcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    n_relevant = sum(g > 0 for g in relevance)
    values = []
    for order in _orders(scores):
        ranked = [relevance[i] for i in order][:cut]
        if kind == "ndcg":
            dcg = sum(g / math.log2(i + 2) for i, g in enumerate(ranked))
            values.append(dcg / ideal_dcg if ideal_dcg else 0.0)
        elif kind == "recall":
            values.append(sum(g > 0 for g in ranked) / n_relevant if n_relevant else 0.0)
        else:
            values.append(next((1 / (i + 1) for i, g in enumerate(ranked) if g > 0), 0.0))
    return sum(values) / len(values)


def _ragged(seed: int):
    """Queries of 1..7 items with heavily tied scores, as flat arrays and as lists."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 8, 60)
    sizes[:2] = [1, 7]
    query = np.repeat(np.arange(sizes.size), sizes)
    relevance = rng.integers(0, 3, query.size) * rng.integers(0, 2, query.size).astype(float)
    scores = rng.integers(0, 3, query.size).astype(float)
    scores[query == 1] = 0.5  # one query entirely tied
    lists = [(relevance[query == q].tolist(), scores[query == q].tolist()) for q in np.unique(query)]
    return relevance, scores, query, lists


@pytest.mark.parametrize("kind", RANKING_KINDS)
@pytest.mark.parametrize("k", [1, 2, 4, None, 10])
def test_metrics_equal_the_average_over_all_tie_orders(kind, k):
    relevance, scores, query, lists = _ragged(3)
    got = per_query(kind, k, relevance, scores, query, len(lists))
    expected = np.array([_naive(kind, k, rel, sc) for rel, sc in lists])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    if kind != "recall" or k in (1, 2, 4):  # without a cutoff recall is 0 or 1
        # the data must exercise fractional tie handling, not only 0/1 outcomes
        assert np.any((expected > 0) & (expected < 1))


def test_mrr_of_a_fully_tied_query_is_the_mean_reciprocal_rank():
    got = per_query("mrr", None, [0, 1, 0], [2, 2, 2], np.zeros(3, dtype=np.intp), 1)
    assert got[0] == pytest.approx((1 + 1 / 2 + 1 / 3) / 3, abs=1e-15)
    two = per_query("mrr", None, [1, 0, 1], [2, 2, 2], np.zeros(3, dtype=np.intp), 1)
    assert two[0] == pytest.approx(2 / 3 * 1 + 1 / 3 * 1 / 2, abs=1e-15)


def test_recall_splits_a_tie_at_the_cutoff():
    # ranks 1-2 tied, one relevant of two: top-1 holds it half the time
    got = per_query("recall", 1, [1, 0, 1], [5, 5, 1], np.zeros(3, dtype=np.intp), 1)
    assert got[0] == pytest.approx(0.25, abs=1e-15)


def test_degenerate_queries():
    # query 0: nothing relevant; query 1: one relevant item; query 2: one irrelevant item
    relevance = np.array([0.0, 0.0, 0.0, 2.0, 0.0])
    scores = np.array([0.3, 0.1, 0.2, -1.0, 4.0])
    query = np.array([0, 0, 0, 1, 2])
    for kind in RANKING_KINDS:
        for k in (1, None):
            assert per_query(kind, k, relevance, scores, query, 3).tolist() == [0.0, 1.0, 0.0]


def test_cutoff_one_scores_only_the_top_item():
    relevance = np.array([0.0, 3.0, 1.0])
    scores = np.array([0.9, 0.5, 0.1])
    query = np.zeros(3, dtype=np.intp)
    assert per_query("ndcg", 1, relevance, scores, query, 1)[0] == 0.0
    assert per_query("recall", 1, relevance, scores, query, 1)[0] == 0.0
    assert per_query("mrr", 1, relevance, scores, query, 1)[0] == 0.0
    assert per_query("mrr", None, relevance, scores, query, 1)[0] == 0.5


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="map"):
        per_query("map", None, [1.0], [0.0], np.zeros(1, dtype=np.intp), 1)


def test_many_queries_run_without_a_python_loop():
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 10**9, 20_000)
    groups = ids[rng.integers(0, ids.size, 100_000)]
    relevance = rng.integers(0, 4, groups.size) * (rng.random(groups.size) < 0.3)
    scores = np.round(rng.normal(size=groups.size), 1)
    started = time.perf_counter()
    query, n = group_index(groups)
    cases = itertools.product(RANKING_KINDS, (10, None))
    values = [per_query(kind, k, relevance, scores, query, n) for kind, k in cases]
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0
    assert all(v.shape == (n,) and np.all((v >= 0) & (v <= 1 + 1e-12)) for v in values)
