"""Per-query ranking metrics (nDCG@k, recall@k, MRR), vectorised over all queries at once.

Rows are sorted once by (query, descending score) and cut into blocks of tied scores;
every metric is then a segment sum over those blocks, so the cost is O(N log N) in the
number of rows N whatever the number of queries. "Relevant" means relevance > 0, and a
query with no relevant item scores 0 on every metric.

Tied scores are resolved as the expectation over a uniformly random order of the tied
items, which is what scikit-learn does for nDCG:

* ``ndcg``, cutoff k: exactly ``sklearn.metrics.ndcg_score(y_true, y_score, k=k)`` per
  query (``ignore_ties=False``). Linear gains (the relevance itself), discount
  1/log2(rank + 1) for ranks <= k, the gain of a tied block averaged over the block,
  divided by the ideal DCG (relevance sorted descending, same cutoff).
* ``recall``, cutoff k: expected number of relevant items in the top k over the number
  of relevant items in the query; a tied block straddling rank k counts fractionally.
  k larger than the query (or None) means the whole query.
* ``mrr``: expected reciprocal rank of the first relevant item. If the first block that
  holds a relevant item spans ranks s+1..s+m and holds r of them, the first relevant item
  is its j-th member with probability C(m-j, r-1) / C(m, r), so the value is
  sum over j = 1..m-r+1 of that probability / (s + j). With a cutoff k, ranks beyond k
  contribute 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import numpy as np

__all__ = ["RANKING_KINDS", "group_index", "per_query"]

RANKING_KINDS = ("ndcg", "recall", "mrr")


class _Blocks(NamedTuple):
    # one entry per block of tied scores, in ranked order within each query
    query: np.ndarray
    start: np.ndarray  # 0-based rank of the block's first item within its query
    size: np.ndarray
    gain: np.ndarray  # summed relevance
    hits: np.ndarray  # number of relevant items


def group_index(groups: Any) -> tuple[np.ndarray, int]:
    """Map query ids (ints or strings, any order) to 0..G-1; return (index per row, G).

    Indices follow the sorted order of the distinct ids, not their first appearance.
    """
    import numpy as np

    ids, index = np.unique(np.asarray(groups), return_inverse=True)
    return index.reshape(-1).astype(np.intp, copy=False), int(ids.size)


def per_query(
    kind: str,
    k: int | None,
    relevance: Any,
    scores: Any,
    query: np.ndarray,
    n_queries: int,
) -> np.ndarray:
    """One value of the ranking metric ``kind`` per query, shape ``(n_queries,)``.

    ``kind`` is one of ``RANKING_KINDS``; ``k`` is the rank cutoff (None: no cutoff).
    ``query`` is the per-row index from :func:`group_index`.
    """
    import numpy as np

    if kind not in RANKING_KINDS:
        raise ValueError(f"unknown ranking metric {kind!r}; expected one of {RANKING_KINDS}")
    relevance = np.asarray(relevance, dtype=np.float64)
    query = np.asarray(query, dtype=np.intp)
    blocks = _tie_blocks(relevance, np.asarray(scores, dtype=np.float64), query)
    if kind == "ndcg":
        return _ndcg(blocks, k, relevance, query, n_queries)
    if kind == "recall":
        return _recall(blocks, k, n_queries)
    return _mrr(blocks, k, n_queries)


def _segment_starts(sorted_keys: np.ndarray) -> np.ndarray:
    import numpy as np

    starts = np.ones(sorted_keys.size, dtype=bool)
    starts[1:] = sorted_keys[1:] != sorted_keys[:-1]
    return starts


def _rank_within(sorted_query: np.ndarray) -> np.ndarray:
    # 0-based rank of each row within its query; rows must be sorted by query
    import numpy as np

    row = np.arange(sorted_query.size)
    first = np.where(_segment_starts(sorted_query), row, 0)
    return row - np.maximum.accumulate(first)


def _tie_blocks(relevance: np.ndarray, scores: np.ndarray, query: np.ndarray) -> _Blocks:
    import numpy as np

    order = np.lexsort((-scores, query))
    sorted_query, sorted_rel = query[order], relevance[order]
    # != treats -0.0 and 0.0 as one score, as sklearn's np.unique does
    new = _segment_starts(sorted_query) | _segment_starts(scores[order])
    begin = np.flatnonzero(new)
    return _Blocks(
        query=sorted_query[begin],
        start=_rank_within(sorted_query)[begin],
        size=np.diff(np.append(begin, sorted_query.size)),
        gain=np.add.reduceat(sorted_rel, begin),
        hits=np.add.reduceat((sorted_rel > 0).astype(np.intp), begin),
    )


def _discount(length: int, k: int | None) -> np.ndarray:
    import numpy as np

    # the same expression as sklearn's _dcg_sample_scores, so values agree to the last bits
    discount = 1 / (np.log(np.arange(length) + 2) / np.log(2))
    if k is not None:
        discount[k:] = 0
    return discount


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    import numpy as np

    # queries with nothing relevant score 0 rather than 0/0
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)


def _ndcg(
    blocks: _Blocks, k: int | None, relevance: np.ndarray, query: np.ndarray, n_queries: int
) -> np.ndarray:
    import numpy as np

    end = blocks.start + blocks.size
    discount = _discount(int(end.max(initial=0)), k)
    cumulative = np.concatenate(([0.0], np.cumsum(discount)))
    block_dcg = blocks.gain / blocks.size * (cumulative[end] - cumulative[blocks.start])
    dcg = np.bincount(blocks.query, weights=block_dcg, minlength=n_queries)
    ideal_order = np.lexsort((-relevance, query))
    ideal_query = query[ideal_order]
    ideal_gain = relevance[ideal_order] * discount[_rank_within(ideal_query)]
    return _ratio(dcg, np.bincount(ideal_query, weights=ideal_gain, minlength=n_queries))


def _recall(blocks: _Blocks, k: int | None, n_queries: int) -> np.ndarray:
    import numpy as np

    inside = blocks.size if k is None else np.clip(k - blocks.start, 0, blocks.size)
    found = blocks.hits * inside / blocks.size
    return _ratio(
        np.bincount(blocks.query, weights=found, minlength=n_queries),
        np.bincount(blocks.query, weights=blocks.hits, minlength=n_queries).astype(np.float64),
    )


def _mrr(blocks: _Blocks, k: int | None, n_queries: int) -> np.ndarray:
    import numpy as np
    from scipy.special import gammaln

    relevant = np.flatnonzero(blocks.hits > 0)
    first = relevant[_segment_starts(blocks.query[relevant])]
    start, size, hits = blocks.start[first], blocks.size[first], blocks.hits[first]
    # the first relevant item is at most the (m - r + 1)-th of its block, and never past k
    length = size - hits + 1
    if k is not None:
        length = np.clip(np.minimum(length, k - start), 0, None)
    owner = np.repeat(np.arange(first.size), length)
    offset = np.cumsum(length) - length
    j = np.arange(owner.size) - offset[owner] + 1
    m, r = size[owner], hits[owner]
    # log of C(m-j, r-1) / C(m, r), through log-gamma so large tied blocks cannot overflow
    log_p = np.log(r) + gammaln(m - j + 1) + gammaln(m - r + 1)
    log_p -= gammaln(m + 1) + gammaln(m - j - r + 2)
    value = np.exp(log_p) / (start[owner] + j)
    return np.bincount(blocks.query[first][owner], weights=value, minlength=n_queries)
