"""Latency statistics: summaries of timings, and a paired bootstrap of a percentile and its ratio.

Timings come in rounds (see :func:`pytest_promote.measure.time_interleaved`): round ``i``
timed one call of each model, back to back. The bootstrap resamples whole rounds, drawing
them from the same stream as every other comparison (:func:`.bootstrap.resample_indices`),
so what the two models' calls in a round share (machine load, frequency, cache state)
stays paired in every resample. Percentiles are numpy's default, linear interpolation
between order statistics (Hyndman and Fan's type 7); bounds are the percentile bootstrap's
``alpha`` and ``1 - alpha`` quantiles of the replicates: a two-sided ``1 - 2*alpha``
interval whose ends are one-sided ``1 - alpha`` bounds.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import MetricInputError
from .bootstrap import resample_indices
from .inputs import check_resampling

if TYPE_CHECKING:
    import numpy as np

__all__ = ["LatencySummary", "LatencyComparison", "summarize", "compare_latency", "row_percentiles"]

NS_PER_MS = 1e6
OUTLIER_IQR = 1.5  # Tukey's fences: beyond 1.5 interquartile ranges from the quartiles
ZERO_SHARE = 0.05  # more calls than this measuring 0 ns: the timer cannot see the call
STEP_SHARE = 0.01  # durations moving in steps above 1% of the median: the percentiles jump
RESOLUTION_FACTOR = 100  # a median below 100 timer ticks is within a percent of the tick


@dataclass(frozen=True)
class LatencySummary:
    """Descriptive statistics of one model's per-call durations, in milliseconds.

    ``sd_ms`` is the sample standard deviation (``ddof=1``; NaN for one sample); ``outliers``
    counts the calls beyond 1.5 interquartile ranges below the first or above the third
    quartile; ``throughput_per_s`` is rows per second, ``batch`` over the mean call, when
    the calls ran ``batch`` rows each.
    """

    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    sd_ms: float
    min_ms: float
    max_ms: float
    samples: int
    outliers: int
    throughput_per_s: float | None

    def to_json(self) -> dict[str, Any]:
        """Plain floats and ints; NaN and infinities become ``None``."""
        return {name: _plain(value) for name, value in dataclasses.asdict(self).items()}


@dataclass(frozen=True)
class LatencyComparison:
    """A paired comparison of the candidate's and the baseline's ``percentile``-th latency.

    ``*_low_ms`` and ``*_high_ms`` (and ``ratio_low``, ``ratio_high``) are the percentile
    bootstrap's two-sided ``confidence = 1 - 2*alpha`` interval: each end is a one-sided
    ``1 - alpha`` bound. ``ratio`` is the candidate's percentile over the baseline's. When
    the baseline's percentile is 0, in the data or in any resample, the ratio and its bounds
    are infinite or NaN: neither compares as at most a limit, so no ratio rule can pass on
    them. ``exact_high_ms`` is a distribution-free one-sided ``1 - alpha`` upper bound for
    the candidate's true percentile from its order statistics, infinite when there are too
    few rounds for one to exist; it is the bound to gate the candidate's own percentile on:
    the bootstrap's ``candidate_high_ms`` under-covers upper percentiles at a few hundred
    rounds (about 88% for a nominal 95% on a p95 from 200 rounds, in the unit tests'
    simulations). ``quantisation`` describes timings too coarse to trust.
    """

    percentile: float
    alpha: float
    confidence: float
    resamples: int
    seed: int
    rounds: int
    candidate: LatencySummary
    baseline: LatencySummary
    candidate_ms: float
    candidate_low_ms: float
    candidate_high_ms: float
    baseline_ms: float
    baseline_low_ms: float
    baseline_high_ms: float
    ratio: float
    ratio_low: float
    ratio_high: float
    exact_high_ms: float
    quantisation: str | None

    def to_json(self) -> dict[str, Any]:
        """The comparison for the verdict: milliseconds as plain floats, non-finite values as ``None``."""
        record = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            record[field.name] = value.to_json() if isinstance(value, LatencySummary) else _plain(value)
        return record


def summarize(times_ns: Any, *, batch: int | None = None) -> LatencySummary:
    """Summarise per-call durations given in integer nanoseconds; ``batch`` rows per call."""
    _check_batch(batch)
    return _summary(_durations(times_ns, "timings", minimum=1), batch)


def compare_latency(
    candidate_ns: Any,
    baseline_ns: Any,
    *,
    percentile: float,
    alpha: float,
    resamples: int,
    seed: int,
    batch: int | None = None,
    resolution_ns: float = 1.0,
) -> LatencyComparison:
    """Compare two models' ``percentile``-th latency over paired rounds of timings.

    ``candidate_ns[i]`` and ``baseline_ns[i]`` are the durations of round ``i``, in integer
    nanoseconds. Each of ``resamples`` bootstrap resamples draws rounds with replacement, the
    same rounds for both models, and takes both percentiles and their ratio. ``batch`` is
    the rows per call (for throughput); ``resolution_ns`` the timer's resolution, for the
    quantisation check.
    """
    import numpy as np

    _check_arguments(percentile, alpha, resamples, seed, resolution_ns)
    _check_batch(batch)
    cand = _durations(candidate_ns, "candidate", minimum=2)
    base = _durations(baseline_ns, "baseline", minimum=2)
    if len(cand) != len(base):
        raise MetricInputError(
            f"candidate and baseline timings must come in the same rounds: {len(cand)} candidate and "
            f"{len(base)} baseline durations"
        )
    rounds = len(cand)

    cand_boot, base_boot = np.empty(resamples), np.empty(resamples)
    for first, picks in resample_indices(rounds, resamples, seed):
        rows = slice(first, first + len(picks))
        cand_boot[rows] = row_percentiles(cand[picks], percentile)
        base_boot[rows] = row_percentiles(base[picks], percentile)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio_boot = cand_boot / base_boot
        cand_hat, base_hat = np.percentile(cand, percentile), np.percentile(base, percentile)
        ratio = float(np.float64(cand_hat) / np.float64(base_hat))

    cand_low, cand_high = _bounds(cand_boot, alpha)
    base_low, base_high = _bounds(base_boot, alpha)
    ratio_low, ratio_high = _bounds(ratio_boot, alpha)
    return LatencyComparison(
        percentile=float(percentile),
        alpha=float(alpha),
        confidence=1 - 2 * float(alpha),
        resamples=resamples,
        seed=seed,
        rounds=rounds,
        candidate=_summary(cand, batch),
        baseline=_summary(base, batch),
        candidate_ms=float(cand_hat) / NS_PER_MS,
        candidate_low_ms=cand_low / NS_PER_MS,
        candidate_high_ms=cand_high / NS_PER_MS,
        baseline_ms=float(base_hat) / NS_PER_MS,
        baseline_low_ms=base_low / NS_PER_MS,
        baseline_high_ms=base_high / NS_PER_MS,
        ratio=ratio,
        ratio_low=ratio_low,
        ratio_high=ratio_high,
        exact_high_ms=_order_statistic_bound(cand, percentile / 100, alpha) / NS_PER_MS,
        quantisation=_quantisation({"candidate": cand, "baseline": base}, resolution_ns),
    )


def row_percentiles(values: np.ndarray, percentile: float) -> np.ndarray:
    """The ``percentile``-th percentile of each row of a 2-D array, as ``np.percentile`` computes it.

    numpy's linear method interpolates between the order statistics around position
    ``(n - 1) * q``; only those two are needed, so the rows are partitioned, not sorted.
    The interpolation repeats numpy's, rounding included, so the values are identical.
    """
    import numpy as np

    width = values.shape[1]
    position = (width - 1) * (percentile / 100)
    below = math.floor(position)
    above = min(below + 1, width - 1)
    ordered = np.partition(values, (below, above), axis=1)
    low, high = ordered[:, below], ordered[:, above]
    gamma = position - below
    step = high - low
    # numpy interpolates from the nearer neighbour, which keeps the result monotonic in q
    return high - step * (1 - gamma) if gamma >= 0.5 else low + step * gamma


# --- pieces ------------------------------------------------------------------------------------------


def _summary(values: np.ndarray, batch: int | None) -> LatencySummary:
    import numpy as np

    p25, p50, p75, p95, p99 = np.percentile(values, [25, 50, 75, 95, 99])
    spread = OUTLIER_IQR * (p75 - p25)
    outliers = int(np.count_nonzero(values < p25 - spread) + np.count_nonzero(values > p75 + spread))
    mean = float(np.mean(values))
    if batch is None:
        throughput = None
    else:
        throughput = batch * 1e9 / mean if mean > 0 else math.inf
    return LatencySummary(
        p50_ms=float(p50) / NS_PER_MS,
        p95_ms=float(p95) / NS_PER_MS,
        p99_ms=float(p99) / NS_PER_MS,
        mean_ms=mean / NS_PER_MS,
        sd_ms=float(np.std(values, ddof=1)) / NS_PER_MS if len(values) > 1 else math.nan,
        min_ms=float(values.min()) / NS_PER_MS,
        max_ms=float(values.max()) / NS_PER_MS,
        samples=len(values),
        outliers=outliers,
        throughput_per_s=throughput,
    )


def _bounds(boot: np.ndarray, alpha: float) -> tuple[float, float]:
    """The percentile bootstrap's bounds; NaN when any replicate is not finite (a 0 baseline)."""
    import numpy as np

    if not np.all(np.isfinite(boot)):
        return math.nan, math.nan
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    return float(low), float(high)


def _order_statistic_bound(values: np.ndarray, q: float, alpha: float) -> float:
    """The smallest order statistic x_(k) with P(Binomial(n, q) <= k - 1) >= 1 - alpha.

    x_(k) lies below the true q-quantile only when fewer than k of the n values do, which for
    continuous timings happens with probability P(Binomial(n, q) <= k - 1); ties only make it
    rarer. Infinite when even the maximum is not a bound at this level (1 - q^n < 1 - alpha).
    """
    import numpy as np
    from scipy.stats import binom

    n = len(values)
    covered = np.flatnonzero(binom.cdf(np.arange(n), n, q) >= 1 - alpha)
    if covered.size == 0:
        return math.inf
    k = int(covered[0])  # 0-based: x_(k + 1)
    return float(np.partition(values, k)[k])


def _quantisation(samples: dict[str, np.ndarray], resolution_ns: float) -> str | None:
    """A warning naming what was seen when timings are too coarse for their percentiles to mean much."""
    import numpy as np

    findings = []
    for role, values in samples.items():
        seen = []
        n = len(values)
        zeros = int(np.count_nonzero(values == 0))
        if zeros > ZERO_SHARE * n:
            seen.append(f"{zeros} of {n} calls measured 0 ns")
        median = float(np.median(values))
        distinct = np.unique(values)
        if len(distinct) == 1:
            seen.append(f"all {n} calls measured {distinct[0]:.0f} ns")
        elif median > 0:
            step = float(np.min(np.diff(distinct)))
            if step > STEP_SHARE * median:
                seen.append(
                    f"durations move in steps of at least {step:.0f} ns, {step / median:.1%} of the median "
                    f"{median:.0f} ns ({len(distinct)} distinct values)"
                )
        if median < RESOLUTION_FACTOR * resolution_ns:
            seen.append(f"the median {median:.0f} ns is below {RESOLUTION_FACTOR}x the timer's resolution ({resolution_ns:g} ns)")
        if seen:
            findings.append(f"{role}: " + "; ".join(seen))
    if not findings:
        return None
    return (
        "latency measurements look quantised (" + "; ".join(findings) + "). Time more work per call: "
        "promote.time(call, batch=k) runs k rows in each timed call."
    )


def _durations(values: Any, role: str, *, minimum: int) -> np.ndarray:
    """Integer nanoseconds as float64 (exact below 2**53 ns, about 104 days)."""
    import numpy as np

    array = np.asarray(values)
    if array.ndim != 1:
        raise MetricInputError(f"{role} timings: expected a 1-D sequence of durations, got shape {array.shape}")
    if len(array) < minimum:
        raise MetricInputError(f"{role} timings: at least {minimum} needed, got {len(array)}")
    if array.dtype.kind not in "iu":
        raise MetricInputError(f"{role} timings: expected integer nanoseconds, got dtype {array.dtype}")
    negative = int(np.count_nonzero(array < 0))
    if negative:
        raise MetricInputError(f"{role} timings: {negative} of {len(array)} durations are negative")
    return array.astype(np.float64)


def _check_arguments(percentile: float, alpha: float, resamples: int, seed: int, resolution_ns: float) -> None:
    if isinstance(percentile, bool) or not isinstance(percentile, numbers.Real) or not 0 < percentile < 100:
        raise ValueError(f"percentile must lie strictly between 0 and 100, got {percentile!r}")
    check_resampling(alpha, resamples, seed)
    if isinstance(resolution_ns, bool) or not isinstance(resolution_ns, numbers.Real) or not 0 < resolution_ns < math.inf:
        raise ValueError(f"resolution_ns must be a positive number, got {resolution_ns!r}")


def _check_batch(batch: int | None) -> None:
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int) or batch < 1):
        raise ValueError(f"batch must be a positive integer or None, got {batch!r}")


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value
