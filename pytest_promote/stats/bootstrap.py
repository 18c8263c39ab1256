"""The paired bootstrap: one resample of example indices drives both models.

Reproducibility: resamples are drawn in fixed blocks of ``BLOCK`` rows, block ``k`` from
its own generator ``PCG64(SeedSequence(seed, spawn_key=(k,)))``. Chunking for memory only
groups whole blocks, so the bounds are bit-identical whatever the memory budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import MetricInputError
from .metrics import Metric, get_metric

if TYPE_CHECKING:
    import numpy as np

__all__ = ["BLOCK", "DEFAULT_MEMORY_BUDGET", "PairedResult", "paired_bootstrap", "resample_weights"]

BLOCK = 8
DEFAULT_MEMORY_BUDGET = 256 * 1024 * 1024
# index, count and float-weight arrays plus the metric's temporaries, per example and row
_BYTES_PER_CELL = 64


@dataclass(frozen=True)
class PairedResult:
    """A paired comparison; ``delta`` is oriented so that positive means better."""

    metric: str
    higher_is_better: bool
    candidate: float
    baseline: float
    delta: float
    low: float  # two-sided (1 - 2*alpha) interval of delta; low is the one-sided bound
    high: float
    candidate_low: float  # the same interval for the candidate's own metric
    candidate_high: float
    se: float  # bootstrap standard error of delta
    alpha: float
    method: str
    resamples: int
    seed: int
    n: int

    @property
    def confidence(self) -> float:
        return 1 - 2 * self.alpha


def paired_bootstrap(
    metric: str | Metric,
    y_true: Any,
    candidate_pred: Any,
    baseline_pred: Any,
    *,
    alpha: float = 0.05,
    resamples: int = 10_000,
    method: str = "bca",
    seed: int = 0,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
) -> PairedResult:
    """Compare two models' predictions on the same examples by a paired bootstrap.

    Returns the metric for both models, ``delta`` (candidate minus baseline, sign flipped
    for lower-is-better metrics) and its two-sided ``1 - 2*alpha`` interval, whose lower
    end is the one-sided ``1 - alpha`` lower confidence bound.
    """
    import numpy as np

    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must lie strictly between 0 and 0.5, got {alpha!r}")
    if method not in ("percentile", "bca"):
        raise ValueError(f"method must be 'percentile' or 'bca', got {method!r}")
    metric = get_metric(metric) if isinstance(metric, str) else metric
    cand = metric.prepare(y_true, candidate_pred, "candidate")
    base = metric.prepare(y_true, baseline_pred, "baseline")
    n = len(cand.values)
    sign = 1.0 if metric.higher_is_better else -1.0

    cand_boot = np.empty(resamples)
    base_boot = np.empty(resamples)
    for start, weights in resample_weights(n, resamples, seed, memory_budget):
        stop = start + len(weights)
        cand_boot[start:stop] = metric.evaluate(cand, weights)
        base_boot[start:stop] = metric.evaluate(base, weights)

    cand_hat, base_hat = metric.point(cand), metric.point(base)
    delta_hat = sign * (cand_hat - base_hat)
    delta_boot = sign * (cand_boot - base_boot)
    if method == "bca":
        cand_jack, base_jack = metric.jackknife(cand), metric.jackknife(base)
        low, high = _bca(delta_boot, delta_hat, sign * (cand_jack - base_jack), alpha)
        cand_low, cand_high = _bca(cand_boot, cand_hat, cand_jack, alpha)
    else:
        low, high = _percentile(delta_boot, alpha)
        cand_low, cand_high = _percentile(cand_boot, alpha)
    return PairedResult(
        metric=metric.name,
        higher_is_better=metric.higher_is_better,
        candidate=cand_hat,
        baseline=base_hat,
        delta=delta_hat,
        low=low,
        high=high,
        candidate_low=cand_low,
        candidate_high=cand_high,
        se=float(np.std(delta_boot, ddof=1)),
        alpha=alpha,
        method=method,
        resamples=resamples,
        seed=seed,
        n=n,
    )


def resample_weights(n: int, resamples: int, seed: int, memory_budget: int = DEFAULT_MEMORY_BUDGET):
    """Yield ``(first_row, W)`` chunks: ``W[r, i]`` counts example ``i`` in resample ``r``."""
    import numpy as np

    if n < 2:
        raise MetricInputError(f"need at least 2 examples to resample, got {n}")
    rows_per_chunk = max(BLOCK, (memory_budget // (_BYTES_PER_CELL * n)) // BLOCK * BLOCK)
    for chunk_start in range(0, resamples, rows_per_chunk):
        chunk_rows = min(rows_per_chunk, resamples - chunk_start)
        indices = np.empty((chunk_rows, n), dtype=np.intp)
        for offset in range(0, chunk_rows, BLOCK):
            block = (chunk_start + offset) // BLOCK
            rows = min(BLOCK, chunk_rows - offset)
            generator = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))
            indices[offset : offset + rows] = generator.integers(0, n, size=(rows, n))
        indices += (np.arange(chunk_rows) * n)[:, None]  # flatten rows so one bincount counts all
        counts = np.bincount(indices.ravel(), minlength=chunk_rows * n).reshape(chunk_rows, n)
        del indices
        yield chunk_start, counts.astype(np.float64)


def _percentile(boot: np.ndarray, alpha: float) -> tuple[float, float]:
    import numpy as np

    if not np.all(np.isfinite(boot)):
        return math.nan, math.nan
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    return float(low), float(high)


def _bca(boot: np.ndarray, estimate: float, jackknife: np.ndarray, alpha: float) -> tuple[float, float]:
    """Efron's BCa interval, computed as scipy.stats.bootstrap does (ties count half)."""
    import numpy as np
    from scipy.special import ndtr, ndtri

    if not (np.all(np.isfinite(boot)) and np.all(np.isfinite(jackknife)) and math.isfinite(estimate)):
        return math.nan, math.nan
    below = (np.count_nonzero(boot < estimate) + np.count_nonzero(boot <= estimate)) / (2 * len(boot))
    if below in (0.0, 1.0):
        # every resample lies on one side of the estimate: the bias correction is infinite
        return math.nan, math.nan
    z0 = ndtri(below)
    spread = jackknife.mean() - jackknife
    denominator = 6.0 * np.sum(spread**2) ** 1.5
    acceleration = float(np.sum(spread**3) / denominator) if denominator > 0 else 0.0
    bounds = []
    for z_alpha in (ndtri(alpha), -ndtri(alpha)):
        shifted = z0 + z_alpha
        bounds.append(float(ndtr(z0 + shifted / (1 - acceleration * shifted))))
    low, high = np.quantile(boot, bounds)
    return float(low), float(high)
