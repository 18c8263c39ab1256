"""Distribution drift: population stability index, KL divergence and the two-sample KS test.

Two uses, one set of statistics. *Paired*: the candidate's outputs against the baseline's on
the same inputs (row ``i`` of both arrays came from input ``i``). *Unpaired*: a column of a
"current" dataset against the same column of a "reference" dataset, of any lengths.

Binning. PSI and KL are computed over the reference's equal-frequency bins: the interior
edges are the reference's empirical quantiles at ``k / bins`` (``k = 1 .. bins - 1``), taken
as order statistics (the inverted empirical CDF, Hyndman and Fan's type 1), so every edge is
a reference value. Bins are closed on the right, ``(e[k-1], e[k]]``, and the outer edges are
``-inf`` and ``+inf``: every current value falls in a bin, values beyond the reference's range
in its outermost bins. Repeated edges (discrete data, few distinct values) are collapsed, and
an edge equal to the reference's maximum is dropped (the bin above it would hold no reference
value): every bin then holds at least one reference value, and ``bins`` on a result is the
number actually used. A constant reference has a single bin, where PSI and KL are 0 whatever
the current sample: only KS can see that drift.

Smoothing. Bin proportions ``p`` become ``(p + EPSILON) / (1 + B * EPSILON)`` over the ``B``
bins, ``EPSILON = 1e-4``: a bin empty on one side gives a large but finite term, and both
smoothed vectors still sum to 1, so PSI and KL stay non-negative and are exactly 0 for
identical proportions.

Intervals. The PSI interval is the percentile bootstrap's ``alpha`` and ``1 - alpha``
quantiles: a two-sided ``1 - 2*alpha`` interval whose ends are one-sided ``1 - alpha``
bounds. Resamples come from the stream every comparison draws from
(:func:`.bootstrap.resample_indices`): paired data resample rows jointly (the same indices
for both arrays), unpaired data each sample independently, from two seeds derived from
``seed`` by ``numpy.random.SeedSequence(seed).spawn(2)``.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import MetricInputError
from . import inputs
from .bootstrap import resample_indices

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "EPSILON",
    "DriftStatistics",
    "bin_edges",
    "psi",
    "kl_divergence",
    "ks",
    "compare_distributions",
    "derived_seeds",
]

EPSILON = 1e-4  # added to every bin proportion before renormalising: empty bins give finite terms


@dataclass(frozen=True)
class DriftStatistics:
    """Drift of ``current`` away from ``reference``.

    ``psi`` is the population stability index over the reference's ``bins`` equal-frequency
    bins (after collapsing repeated edges), ``psi_low`` and ``psi_high`` its percentile
    bootstrap interval at ``confidence = 1 - 2*alpha`` (each end a one-sided ``1 - alpha``
    bound; the bins stay the original reference's in every resample). ``kl`` is
    KL(current || reference) over the same bins. ``ks`` and ``ks_p_value`` are the
    two-sample Kolmogorov-Smirnov statistic and p-value (``scipy.stats.ks_2samp``); for
    ``paired`` data the p-value assumes independent samples, which pairing breaks: with
    positively dependent pairs (a candidate that tracks its baseline) it is conservative.
    """

    psi: float
    psi_low: float
    psi_high: float
    ks: float
    ks_p_value: float
    kl: float
    n_reference: int
    n_current: int
    bins: int
    alpha: float
    confidence: float
    resamples: int
    seed: int
    paired: bool

    def to_json(self) -> dict[str, Any]:
        """Plain floats, ints and bools; NaN and infinities become ``None``."""
        return {name: _plain(value) for name, value in dataclasses.asdict(self).items()}


def bin_edges(reference: Any, *, bins: int = 10) -> np.ndarray:
    """The interior edges of the reference's equal-frequency bins, after collapsing.

    Bin ``k`` is ``(edges[k-1], edges[k]]``, with ``-inf`` and ``+inf`` outside; see the
    module's documentation for the rule.
    """
    _check_bins(bins)
    return _edges(_sample(reference, "reference"), bins)


def psi(reference: Any, current: Any, *, bins: int = 10) -> float:
    """The population stability index ``sum((c - r) * ln(c / r))`` over the reference's bins.

    ``r`` and ``c`` are the smoothed proportions of the reference and the current sample in
    the reference's equal-frequency bins (repeated edges collapsed for discrete data; see
    the module's documentation). PSI is symmetric in ``r`` and ``c`` (it is
    KL(c || r) + KL(r || c)), but the bins are always the reference's.
    """
    _check_bins(bins)
    ref, cur = _sample(reference, "reference"), _sample(current, "current")
    r, c = _proportions(ref, cur, _edges(ref, bins))
    return _psi(r, c)


def kl_divergence(reference: Any, current: Any, *, bins: int = 10) -> float:
    """KL(current || reference) ``= sum(c * ln(c / r))`` over the reference's bins.

    The direction: how surprising the current sample is to a model of the reference (the
    expected log-likelihood ratio under the current distribution). Same bins and smoothing
    as :func:`psi`.
    """
    _check_bins(bins)
    ref, cur = _sample(reference, "reference"), _sample(current, "current")
    r, c = _proportions(ref, cur, _edges(ref, bins))
    return _kl(r, c)


def ks(reference: Any, current: Any) -> tuple[float, float]:
    """The two-sample Kolmogorov-Smirnov statistic and two-sided p-value.

    ``scipy.stats.ks_2samp`` with its default method (exact for small samples, asymptotic
    for large ones); the statistic is ``max |F_reference(x) - F_current(x)|``.
    """
    ref, cur = _sample(reference, "reference"), _sample(current, "current")
    return _ks(ref, cur)


def compare_distributions(
    reference: Any,
    current: Any,
    *,
    bins: int = 10,
    alpha: float = 0.05,
    resamples: int = 1000,
    seed: int,
    paired: bool,
) -> DriftStatistics:
    """PSI with a bootstrap interval, KL and KS of ``current`` against ``reference``.

    ``paired=True``: row ``i`` of both arrays came from the same input (a candidate's outputs
    against its baseline's); the arrays must have the same length and each resample draws
    rows jointly. ``paired=False``: two independent samples (a dataset column against its
    reference), each resampled on its own. The bins are computed once, from the original
    reference, and kept in every resample.
    """
    import numpy as np

    _check_arguments(bins, alpha, resamples, seed, paired)
    ref, cur = _sample(reference, "reference"), _sample(current, "current")
    if paired and len(ref) != len(cur):
        raise MetricInputError(
            f"paired samples must have one row per input on both sides: {len(ref)} reference and "
            f"{len(cur)} current values"
        )
    edges = _edges(ref, bins)
    width = len(edges) + 1
    # the bins are part of the rule ("PSI over the reference's deciles"), as in monitoring,
    # where they are frozen when the reference is: the bootstrap varies the proportions in
    # those bins, not the bins. Fixed bins also make each value's bin computable once, so a
    # resample is a gather and a bincount, not a sort.
    ref_codes = np.searchsorted(edges, ref, side="left")
    cur_codes = np.searchsorted(edges, cur, side="left")
    r, c = _proportions_from_codes(ref_codes, width), _proportions_from_codes(cur_codes, width)

    if paired:
        ref_counts = np.empty((resamples, width))
        cur_counts = np.empty((resamples, width))
        for first, picks in resample_indices(len(ref), resamples, seed):
            rows = slice(first, first + len(picks))
            ref_counts[rows] = _row_counts(ref_codes, picks, width)
            cur_counts[rows] = _row_counts(cur_codes, picks, width)
    else:
        ref_seed, cur_seed = derived_seeds(seed)
        ref_counts = _bootstrap_counts(ref_codes, width, resamples, ref_seed)
        cur_counts = _bootstrap_counts(cur_codes, width, resamples, cur_seed)
    boot = _psi_rows(_smooth(ref_counts / len(ref)), _smooth(cur_counts / len(cur)))
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    statistic, p_value = _ks(ref, cur)
    return DriftStatistics(
        psi=_psi(r, c),
        psi_low=float(low),
        psi_high=float(high),
        ks=statistic,
        ks_p_value=p_value,
        kl=_kl(r, c),
        n_reference=len(ref),
        n_current=len(cur),
        bins=width,
        alpha=float(alpha),
        confidence=1 - 2 * float(alpha),
        resamples=resamples,
        seed=seed,
        paired=paired,
    )


def derived_seeds(seed: int) -> tuple[int, int]:
    """The reference's and the current sample's resampling seeds for unpaired data."""
    import numpy as np

    children = np.random.SeedSequence(seed).spawn(2)
    return tuple(int(child.generate_state(1, np.uint64)[0]) for child in children)  # type: ignore[return-value]


# --- pieces ------------------------------------------------------------------------------------------


def _edges(ref: np.ndarray, bins: int) -> np.ndarray:
    import numpy as np

    ordered = np.sort(ref)
    n = len(ordered)
    # the inverted empirical CDF at k / bins is the ceil(n k / bins)-th order statistic;
    # integer arithmetic, because 0.3 * 10 is not 3 in floating point
    k = np.arange(1, bins, dtype=np.int64)
    edges = np.unique(ordered[(n * k + bins - 1) // bins - 1])
    return edges[edges < ordered[-1]]


def _proportions(ref: np.ndarray, cur: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    width = len(edges) + 1
    r = _proportions_from_codes(np.searchsorted(edges, ref, side="left"), width)
    c = _proportions_from_codes(np.searchsorted(edges, cur, side="left"), width)
    return r, c


def _proportions_from_codes(codes: np.ndarray, width: int) -> np.ndarray:
    import numpy as np

    return _smooth(np.bincount(codes, minlength=width) / len(codes))


def _smooth(proportions: np.ndarray) -> np.ndarray:
    width = proportions.shape[-1]
    return (proportions + EPSILON) / (1 + width * EPSILON)


def _psi(r: np.ndarray, c: np.ndarray) -> float:
    import numpy as np

    return float(np.sum((c - r) * np.log(c / r)))


def _kl(r: np.ndarray, c: np.ndarray) -> float:
    import numpy as np

    return float(np.sum(c * np.log(c / r)))


def _psi_rows(r: np.ndarray, c: np.ndarray) -> np.ndarray:
    import numpy as np

    return np.sum((c - r) * np.log(c / r), axis=1)


def _row_counts(codes: np.ndarray, picks: np.ndarray, width: int) -> np.ndarray:
    """Bin counts of each resample row: one bincount over codes offset by ``width`` per row."""
    import numpy as np

    rows = len(picks)
    offsets = (np.arange(rows, dtype=np.intp) * width)[:, None]
    return np.bincount((codes[picks] + offsets).ravel(), minlength=rows * width).reshape(rows, width)


def _bootstrap_counts(codes: np.ndarray, width: int, resamples: int, seed: int) -> np.ndarray:
    import numpy as np

    counts = np.empty((resamples, width))
    for first, picks in resample_indices(len(codes), resamples, seed):
        counts[first : first + len(picks)] = _row_counts(codes, picks, width)
    return counts


def _ks(ref: np.ndarray, cur: np.ndarray) -> tuple[float, float]:
    from scipy.stats import ks_2samp

    result = ks_2samp(ref, cur)
    return float(result.statistic), float(result.pvalue)


def _sample(values: Any, role: str) -> np.ndarray:
    array = inputs.finite(inputs.as_1d(values, "values", role), "values", role)
    if len(array) < 2:
        raise MetricInputError(f"{role} values: at least 2 needed, got {len(array)}")
    return array


def _check_bins(bins: int) -> None:
    if isinstance(bins, bool) or not isinstance(bins, numbers.Integral) or bins < 2:
        raise ValueError(f"bins must be an integer >= 2, got {bins!r}")


def _check_arguments(bins: int, alpha: float, resamples: int, seed: int, paired: bool) -> None:
    _check_bins(bins)
    inputs.check_resampling(alpha, resamples, seed)
    if not isinstance(paired, bool):
        raise ValueError(f"paired must be True or False, got {paired!r}")


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value
