"""Per-slice comparisons and the fairness guardrail on the gap between slices.

Each slice (the rows sharing one value of a column) is compared on its own rows with its
own seed, so adding or removing one slice never changes another's numbers. Slices are
resampled independently (a stratified bootstrap), which makes the candidate's replicates of
different slices independent draws: the gap between the best and the worst slice is then
bootstrapped from the same replicates, resample by resample.

The plug-in gap (best minus worst of noisy estimates) is biased upwards, so a gap bound
errs on the side of blocking; the README says so.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import MetricInputError
from .bootstrap import PairedResult, bootstrap_with_replicates

if TYPE_CHECKING:
    import numpy as np

__all__ = ["SliceResult", "SliceGap", "compare_slices", "slice_seed"]


@dataclass(frozen=True)
class SliceResult:
    value: Any  # the slice's column value, JSON-ready (str, int, float or bool)
    rows: int
    result: PairedResult | None  # None: fewer rows than min_slice_size, not compared


@dataclass(frozen=True)
class SliceGap:
    """The candidate's best-minus-worst slice metric and its two-sided (1 - 2*alpha) percentile interval."""

    gap: float
    low: float
    high: float  # the one-sided upper bound the guardrail uses
    slices: int


def slice_seed(seed: int, value: Any) -> int:
    digest = hashlib.sha256(f"{seed}\0slice\0{value!r}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def compare_slices(
    metric: Any,
    y_true: Any,
    candidate_pred: Any,
    baseline_pred: Any,
    slice_values: Any,
    *,
    min_slice_size: int,
    alpha: float,
    resamples: int,
    method: str,
    seed: int,
    sample_weight: Any = None,
    groups: Any = None,
    memory_budget: int,
    threads: int | None = None,
) -> tuple[list[SliceResult], SliceGap | None]:
    """Compare every slice with at least ``min_slice_size`` rows; the gap needs two such slices."""
    import numpy as np

    y = np.asarray(y_true)
    values = np.asarray(slice_values)
    if values.ndim != 1 or len(values) != len(y):
        raise MetricInputError(f"slice column: expected {len(y)} values (one per row), got shape {values.shape}")
    candidate_pred, baseline_pred = np.asarray(candidate_pred), np.asarray(baseline_pred)
    results, candidate_replicates = [], []
    for value in _slice_values(values):
        mask = values == value
        rows = int(mask.sum())
        json_value = value.item() if hasattr(value, "item") else value
        if rows < min_slice_size:
            results.append(SliceResult(json_value, rows, None))
            continue
        result, replicates = bootstrap_with_replicates(
            metric,
            y[mask],
            candidate_pred[mask],
            baseline_pred[mask],
            alpha=alpha,
            resamples=resamples,
            method=method,
            seed=slice_seed(seed, json_value),
            sample_weight=None if sample_weight is None else np.asarray(sample_weight)[mask],
            groups=None if groups is None else np.asarray(groups)[mask],
            memory_budget=memory_budget,
            threads=threads,
        )
        results.append(SliceResult(json_value, rows, result))
        candidate_replicates.append((result.candidate, replicates.candidate))
    return results, _gap(candidate_replicates, alpha)


def _slice_values(values: np.ndarray) -> list[Any]:
    import numpy as np

    if values.dtype.kind == "f" and np.isnan(values).any():
        raise MetricInputError(f"slice column: {int(np.isnan(values).sum())} values are NaN; every row needs a slice")
    try:
        return list(np.unique(values))
    except TypeError:
        raise MetricInputError("slice column: values of mixed types cannot be ordered into slices") from None


def _gap(candidates: list[tuple[float, np.ndarray]], alpha: float) -> SliceGap | None:
    import numpy as np

    if len(candidates) < 2:
        return None
    estimates = np.array([estimate for estimate, _ in candidates])
    replicates = np.vstack([values for _, values in candidates])
    gap = float(estimates.max() - estimates.min())
    boot = replicates.max(axis=0) - replicates.min(axis=0)
    if not np.all(np.isfinite(boot)) or not math.isfinite(gap):
        return SliceGap(gap, math.nan, math.nan, len(candidates))
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    return SliceGap(gap, float(low), float(high), len(candidates))
