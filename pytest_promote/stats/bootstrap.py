"""The paired bootstrap: one resample of examples (or query groups) drives both models.

Reproducibility: resample ``r`` belongs to block ``r // BLOCK``, and block ``k`` draws its
indices, row after row, from its own generator ``PCG64(SeedSequence(seed, spawn_key=(k,)))``.
numpy's bounded integers are split-invariant (drawing 10 then 20 values gives the same 30
values as drawing 30), so blocks can run on any thread in any grouping, and how rows are cut
into pieces depends only on the number of units: the bounds are bit-identical whatever the
memory budget and the thread count.

Fast paths, chosen by the data (``PairedResult.path`` says which ran):

* ``multinomial``: when the paired per-unit statistics take few distinct values (accuracy:
  four (candidate right, baseline right) cells), the counts of those values in a resample are
  drawn exactly from a multinomial: the cost does not grow with n.
* ``index``: sums of per-unit statistics over drawn indices, two columns per gather (packed as
  complex numbers), on all cores.
* ``rank``: ROC AUC and average precision from per-block weights counted by ``bincount``
  over scores sorted once.
* ``custom``: a user's function evaluated on each resample's rows.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator

from . import crosscheck, inputs
from .metrics import CustomMetric, Metric, RankMetric, SumMetric, SumPrepared, resolve_metric

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "BLOCK",
    "DEFAULT_MEMORY_BUDGET",
    "POWER",
    "PairedResult",
    "Replicates",
    "paired_bootstrap",
    "bootstrap_with_replicates",
    "minimal_detectable_effect",
    "resample_indices",
    "default_threads",
]

BLOCK = 32
DEFAULT_MEMORY_BUDGET = 256 * 1024 * 1024
POWER = 0.8  # the power at which the minimal detectable effect is reported
ROW_WISE = 16_384  # from this many units on, rows are drawn one at a time (cache-sized work)
PIECE = 1 << 17  # and a row longer than this is drawn and summed in pieces of this size
_BYTES_PER_DRAW = 48  # index, gathered values and temporaries, per drawn unit
_MAX_DISTINCT = 4096
MULTINOMIAL_BLOCK = 1024  # resamples per generator on the multinomial path, whose draws are cheap


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
    mde: float  # minimal detectable effect at this alpha and 80% power: (z_(1-alpha) + z_0.8) * se
    alpha: float
    method: str
    resamples: int
    seed: int
    n: int  # examples
    units: int  # resampling units: examples, or groups when groups= was given
    grouped: bool
    weighted: bool
    path: str  # which engine path ran: multinomial | index | rank | custom
    cross_check: crosscheck.CrossCheck | None  # a closed-form test of the same difference, where one exists

    @property
    def confidence(self) -> float:
        return 1 - 2 * self.alpha


@dataclass(frozen=True)
class Replicates:
    """The bootstrap and jackknife values behind a result."""

    candidate: np.ndarray  # (R,) bootstrap values
    baseline: np.ndarray
    candidate_jackknife: np.ndarray  # leave-one-unit-out values (per distinct unit)
    baseline_jackknife: np.ndarray
    multiplicity: np.ndarray | None  # how many units each jackknife value stands for
    path: str


def paired_bootstrap(
    metric: str | Metric | Callable[..., float],
    y_true: Any,
    candidate_pred: Any,
    baseline_pred: Any,
    *,
    alpha: float = 0.05,
    resamples: int = 10_000,
    method: str = "bca",
    seed: int = 0,
    sample_weight: Any = None,
    groups: Any = None,
    higher_is_better: bool | None = None,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    threads: int | None = None,
) -> PairedResult:
    """Compare two models' predictions on the same examples by a paired bootstrap.

    Returns the metric for both models, ``delta`` (candidate minus baseline, sign flipped
    for lower-is-better metrics) and its two-sided ``1 - 2*alpha`` interval, whose lower
    end is the one-sided ``1 - alpha`` lower confidence bound. With ``groups``, whole groups
    are resampled (required by the ranking metrics). ``metric`` may be a function
    ``fn(y_true, y_pred) -> float``, with ``higher_is_better``.
    """
    result, _ = bootstrap_with_replicates(
        metric, y_true, candidate_pred, baseline_pred, alpha=alpha, resamples=resamples, method=method, seed=seed,
        sample_weight=sample_weight, groups=groups, higher_is_better=higher_is_better, memory_budget=memory_budget,
        threads=threads,
    )
    return result


def bootstrap_with_replicates(
    metric: str | Metric | Callable[..., float],
    y_true: Any,
    candidate_pred: Any,
    baseline_pred: Any,
    *,
    alpha: float,
    resamples: int,
    method: str,
    seed: int,
    sample_weight: Any = None,
    groups: Any = None,
    higher_is_better: bool | None = None,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    threads: int | None = None,
) -> tuple[PairedResult, Replicates]:
    """:func:`paired_bootstrap`, also returning the bootstrap values (slices use them)."""
    import numpy as np

    _check_arguments(alpha, method, resamples, memory_budget, threads)
    metric = resolve_metric(metric, higher_is_better)
    y = np.asarray(y_true) if isinstance(metric, CustomMetric) else inputs.as_1d(y_true, "values", "y_true")
    n = len(y)
    weight = inputs.sample_weights(sample_weight, n)
    grouping = inputs.group_ids(groups, n) if groups is not None else None
    units = grouping[1] if grouping else n
    inputs.check_sample_size(units, "groups" if grouping else "examples")
    cand = metric.prepare(y, candidate_pred, "candidate", weight, grouping)
    base = metric.prepare(y, baseline_pred, "baseline", weight, grouping)

    engine = _Engine(resamples, seed, memory_budget, threads or default_threads())
    if isinstance(metric, SumMetric):
        replicates = _sum_replicates(metric, cand, base, grouping, engine)
    elif isinstance(metric, RankMetric):
        replicates = _rank_replicates(metric, cand, base, grouping, engine)
    else:
        replicates = _custom_replicates(metric, cand, base, grouping, engine)

    sign = 1.0 if metric.higher_is_better else -1.0
    cand_hat, base_hat = metric.point(cand), metric.point(base)
    delta_hat = sign * (cand_hat - base_hat)
    delta_boot = sign * (replicates.candidate - replicates.baseline)
    if method == "bca":
        delta_jack = sign * (replicates.candidate_jackknife - replicates.baseline_jackknife)
        low, high = _bca(delta_boot, delta_hat, _acceleration(delta_jack, replicates.multiplicity), alpha)
        cand_accel = _acceleration(replicates.candidate_jackknife, replicates.multiplicity)
        cand_low, cand_high = _bca(replicates.candidate, cand_hat, cand_accel, alpha)
    else:
        low, high = _percentile(delta_boot, alpha)
        cand_low, cand_high = _percentile(replicates.candidate, alpha)
    se = float(np.std(delta_boot, ddof=1))
    result = PairedResult(
        metric=metric.name,
        higher_is_better=metric.higher_is_better,
        candidate=cand_hat,
        baseline=base_hat,
        delta=delta_hat,
        low=low,
        high=high,
        candidate_low=cand_low,
        candidate_high=cand_high,
        se=se,
        mde=minimal_detectable_effect(se, alpha),
        alpha=alpha,
        method=method,
        resamples=resamples,
        seed=seed,
        n=n,
        units=units,
        grouped=grouping is not None,
        weighted=weight is not None,
        path=replicates.path,
        cross_check=_cross_check(metric, cand, base, alpha, plain=weight is None and grouping is None),
    )
    return result, replicates


def minimal_detectable_effect(se: float, alpha: float, power: float = POWER) -> float:
    """The smallest true effect a one-sided level-alpha test detects with ``power``, given ``se``."""
    from scipy.special import ndtri

    return float((ndtri(1 - alpha) + ndtri(power)) * se) if math.isfinite(se) else math.nan


def default_threads() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _check_arguments(alpha: float, method: str, resamples: int, memory_budget: int, threads: int | None) -> None:
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must lie strictly between 0 and 0.5, got {alpha!r}")
    if method not in ("percentile", "bca"):
        raise ValueError(f"method must be 'percentile' or 'bca', got {method!r}")
    if isinstance(resamples, bool) or not isinstance(resamples, int) or resamples < 2:
        raise ValueError(f"resamples must be an integer >= 2, got {resamples!r}")
    if memory_budget < 1 << 20:
        raise ValueError(f"memory_budget must be at least 1 MiB, got {memory_budget!r} bytes")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive integer, got {threads!r}")


# --- resampling --------------------------------------------------------------------------------


def _block_generator(seed: int, block: int) -> np.random.Generator:
    import numpy as np

    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))


def resample_indices(units: int, resamples: int, seed: int) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(first_resample, indices)`` per block: the exact stream every path draws from."""
    for block in range((resamples + BLOCK - 1) // BLOCK):
        rows = min(BLOCK, resamples - block * BLOCK)
        yield block * BLOCK, _block_generator(seed, block).integers(0, units, size=(rows, units))


@dataclass(frozen=True)
class _Engine:
    resamples: int
    seed: int
    memory_budget: int
    threads: int

    @property
    def blocks(self) -> int:
        return (self.resamples + BLOCK - 1) // BLOCK

    def rows(self, block: int) -> tuple[int, int]:
        first = block * BLOCK
        return first, min(BLOCK, self.resamples - first)

    def run(self, work: Callable[[int], None], units: int, parallel: bool = True) -> None:
        """Call ``work(block)`` for every block, on as many threads as the memory budget allows."""
        per_block = _BYTES_PER_DRAW * (min(units, PIECE) if units >= ROW_WISE else BLOCK * units)
        threads = max(1, min(self.threads if parallel else 1, self.memory_budget // max(per_block, 1), self.blocks))
        if threads == 1:
            for block in range(self.blocks):
                work(block)
            return
        with ThreadPoolExecutor(threads) as pool:
            for _ in pool.map(work, range(self.blocks)):
                pass

    def draws(self, block: int, units: int) -> Iterator[tuple[int, list[np.ndarray]]]:
        """Yield ``(row, pieces)``: a few whole rows at once, or one row in fixed-size pieces."""
        first, rows = self.rows(block)
        generator = _block_generator(self.seed, block)
        if units < ROW_WISE:
            yield first, [generator.integers(0, units, size=(rows, units))]
            return
        for row in range(first, first + rows):
            yield row, [generator.integers(0, units, size=(1, min(PIECE, units - start))) for start in range(0, units, PIECE)]


# --- path 1: sums of per-unit statistics ---------------------------------------------------------


def _sum_replicates(metric: SumMetric, cand: SumPrepared, base: SumPrepared, grouping: Any, engine: _Engine) -> Replicates:
    import numpy as np

    stats = np.hstack([_per_unit(cand, grouping), _per_unit(base, grouping)])
    split = cand.stats.shape[1]
    distinct, multiplicity = _distinct_rows(stats)
    if distinct is not None:
        sums, path, jack_rows = _multinomial_sums(distinct, multiplicity, engine), "multinomial", distinct
    else:
        sums, path, jack_rows, multiplicity = _index_sums(stats, engine), "index", stats, None
    leave_one_out = _leave_one_out_sums(jack_rows, multiplicity)
    return Replicates(
        metric.combine(sums[:, :split]),
        metric.combine(sums[:, split:]),
        metric.combine(leave_one_out[:, :split]),
        metric.combine(leave_one_out[:, split:]),
        multiplicity,
        path,
    )


def _leave_one_out_sums(rows: np.ndarray, multiplicity: np.ndarray | None) -> np.ndarray:
    """Column sums without one unit of each row, from prefix and suffix sums.

    ``total - row`` would cancel catastrophically next to one huge term (a MAPE target of 0
    contributes 1/eps): sums that never contained the removed term stay exact.
    """
    import numpy as np

    weighted = rows if multiplicity is None else rows * multiplicity[:, None]
    before, after = np.zeros_like(weighted), np.zeros_like(weighted)
    np.cumsum(weighted[:-1], axis=0, out=before[1:])
    np.cumsum(weighted[:0:-1], axis=0, out=after[-2::-1])
    others = before + after
    return others if multiplicity is None else others + (multiplicity[:, None] - 1) * rows


def _per_unit(prepared: SumPrepared, grouping: Any) -> np.ndarray:
    """Row statistics summed within each group, when whole groups are resampled."""
    import numpy as np

    if grouping is None or prepared.per_group:
        return prepared.stats
    index, count = grouping
    return np.column_stack([np.bincount(index, weights=column, minlength=count) for column in prepared.stats.T])


def _distinct_rows(stats: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The distinct rows and their counts, when few enough to make the multinomial pay."""
    import numpy as np

    units = len(stats)
    limit = min(_MAX_DISTINCT, units // 32)
    if limit < 1 or len(np.unique(stats[: 8 * limit], axis=0)) > limit:  # continuous values show at once
        return None, None
    # code each column by its distinct values, then each row by its mixed-radix code
    code = np.zeros(units, dtype=np.int64)
    radix = 1
    for column in stats.T:
        values = np.unique(column)
        if radix * len(values) > limit**2:
            return None, None
        code += radix * np.searchsorted(values, column)  # few values: cheaper than a full sort
        radix *= len(values)
    counts = np.bincount(code, minlength=radix)
    present = np.flatnonzero(counts)
    if len(present) > limit:
        return None, None
    first_row = np.zeros(radix, dtype=np.intp)
    first_row[code[::-1]] = np.arange(units - 1, -1, -1)  # the first row carrying each code
    return stats[first_row[present]], counts[present].astype(np.float64)


def _multinomial_sums(distinct: np.ndarray, multiplicity: np.ndarray, engine: _Engine) -> np.ndarray:
    """Exact: a resample's counts of each distinct row are Multinomial(units, multiplicity / units)."""
    import numpy as np

    units = int(multiplicity.sum())
    probabilities = multiplicity / units
    sums = np.empty((engine.resamples, distinct.shape[1]))
    for block in range((engine.resamples + MULTINOMIAL_BLOCK - 1) // MULTINOMIAL_BLOCK):
        first = block * MULTINOMIAL_BLOCK
        rows = min(MULTINOMIAL_BLOCK, engine.resamples - first)
        counts = _block_generator(engine.seed, block).multinomial(units, probabilities, size=rows)
        # an explicit product-sum, not BLAS: its summation order never depends on the library;
        # a few rows at a time keep the (rows, distinct, columns) product small
        step = max(1, (16 << 20) // (8 * distinct.size))
        for start in range(0, rows, step):
            part = counts[start : start + step]
            sums[first + start : first + start + len(part)] = (part[:, :, None] * distinct[None, :, :]).sum(axis=1)
    return sums


def _index_sums(stats: np.ndarray, engine: _Engine) -> np.ndarray:
    """Column sums over each resample's drawn units; constant columns are multiplied out."""
    import numpy as np

    units, width = stats.shape
    constant = np.all(stats == stats[0], axis=0)
    varying = np.flatnonzero(~constant)
    # two real columns per complex gather halve the passes over the drawn indices
    packed = [stats[:, varying[i]] + 1j * (stats[:, varying[i + 1]] if i + 1 < len(varying) else 0.0) for i in range(0, len(varying), 2)]
    sums = np.empty((engine.resamples, width))
    sums[:, constant] = stats[0, constant] * units

    def work(block: int) -> None:
        for row, pieces in engine.draws(block, units):
            totals = [sum(np.take(column, piece).sum(axis=1) for piece in pieces) for column in packed]
            rows = slice(row, row + len(pieces[0]))
            for pair, total in enumerate(totals):
                sums[rows, varying[2 * pair]] = total.real
                if 2 * pair + 1 < len(varying):
                    sums[rows, varying[2 * pair + 1]] = total.imag

    engine.run(work, units)
    return sums


# --- path 2: ranked scores --------------------------------------------------------------------------


def _rank_replicates(metric: RankMetric, cand: Any, base: Any, grouping: Any, engine: _Engine) -> Replicates:
    import numpy as np

    units = grouping[1] if grouping else len(cand.key)
    expand = _GroupExpansion(*grouping) if grouping else None
    candidate, baseline = np.empty(engine.resamples), np.empty(engine.resamples)

    def work(block: int) -> None:
        for row, pieces in engine.draws(block, units):
            rows = len(pieces[0])
            members = [expand(piece) if expand else (np.arange(rows)[:, None], piece) for piece in pieces]
            for prepared, out in ((cand, candidate), (base, baseline)):
                out[row : row + rows] = _rank_values(metric, prepared, members, rows)

    engine.run(work, units)
    cand_jack, base_jack = metric.jackknife_values(cand), metric.jackknife_values(base)
    if grouping:
        cand_jack, base_jack = (_group_pseudo_values(metric.point(p), jack, grouping) for p, jack in ((cand, cand_jack), (base, base_jack)))
    return Replicates(candidate, baseline, cand_jack, base_jack, None, "rank")


def _rank_values(metric: RankMetric, prepared: Any, members: list[tuple[np.ndarray, np.ndarray]], rows: int) -> np.ndarray:
    """Each resample's metric from its negative and positive weight per tied-score block."""
    import numpy as np

    width = prepared.n_neg + prepared.n_pos
    counts = np.zeros(rows * width)
    for row_of, picked in members:
        keys = (np.take(prepared.key, picked) + row_of * width).ravel()
        weights = None if prepared.weight is None else np.take(prepared.weight, picked).ravel()
        counts += np.bincount(keys, weights=weights, minlength=rows * width)
    counts = counts.reshape(rows, width)
    return metric.from_counts(prepared, counts[:, : prepared.n_neg], counts[:, prepared.n_neg :])


class _GroupExpansion:
    """Turns drawn group indices into the rows of those groups (with repeats)."""

    def __init__(self, index: np.ndarray, count: int) -> None:
        import numpy as np

        self.order = np.argsort(index, kind="stable")
        self.sizes = np.bincount(index, minlength=count)
        self.starts = np.cumsum(self.sizes) - self.sizes

    def __call__(self, picks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        rows, width = picks.shape
        lengths = self.sizes[picks].ravel()
        total = int(lengths.sum())
        offsets = np.cumsum(lengths) - lengths
        positions = np.repeat(self.starts[picks].ravel() - offsets, lengths) + np.arange(total)
        row_of = np.repeat(np.repeat(np.arange(rows), width), lengths)
        return row_of, self.order[positions]


def _group_pseudo_values(estimate: float, row_values: np.ndarray, grouping: Any) -> np.ndarray:
    """Leave-one-group-out values to first order: a group's effect is the sum of its rows'."""
    import numpy as np

    index, count = grouping
    return estimate - np.bincount(index, weights=estimate - row_values, minlength=count)


# --- path 3: a user's function ---------------------------------------------------------------------

_JACKKNIFE_GROUPS = 1000


def _custom_replicates(metric: CustomMetric, cand: Any, base: Any, grouping: Any, engine: _Engine) -> Replicates:
    import numpy as np

    units = grouping[1] if grouping else len(cand.y)
    expand = _GroupExpansion(*grouping) if grouping else None
    candidate, baseline = np.empty(engine.resamples), np.empty(engine.resamples)

    def rows_of(picks: np.ndarray) -> np.ndarray:
        return expand(picks[None, :])[1] if expand else picks

    def work(block: int) -> None:
        for row, pieces in engine.draws(block, units):
            drawn = np.concatenate(pieces, axis=1)
            for offset, picks in enumerate(drawn):
                candidate[row + offset] = metric.evaluate_rows(cand, rows_of(picks))
                baseline[row + offset] = metric.evaluate_rows(base, rows_of(picks))

    # the user's function holds the GIL and may not be thread-safe: one thread
    engine.run(work, units, parallel=False)
    cand_jack, base_jack = _grouped_jackknife(metric, cand, base, units, rows_of, engine.seed)
    return Replicates(candidate, baseline, cand_jack, base_jack, None, "custom")


def _grouped_jackknife(metric: CustomMetric, cand: Any, base: Any, units: int, rows_of: Callable, seed: int) -> tuple:
    """Leave-one-out over units, or over at most 1000 random groups of units (delete-d)."""
    import numpy as np

    blocks = min(units, _JACKKNIFE_GROUPS)
    # a two-part spawn key: a stream of its own, never one of the resampling blocks'
    assignment = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0, 1))).permutation(units) % blocks
    values = np.empty((2, blocks))
    for block in range(blocks):
        kept = rows_of(np.flatnonzero(assignment != block))
        values[0, block] = metric.evaluate_rows(cand, kept)
        values[1, block] = metric.evaluate_rows(base, kept)
    return values[0], values[1]


# --- intervals -------------------------------------------------------------------------------------


def _acceleration(jackknife: np.ndarray, multiplicity: np.ndarray | None) -> float:
    """Efron's acceleration from (leave-one-out) values, each standing for ``multiplicity`` units."""
    import numpy as np

    if not np.all(np.isfinite(jackknife)):
        return math.nan
    if np.ptp(jackknife) == 0:  # no spread: rounding in the mean must not fake a skew
        return 0.0
    weights = np.ones(len(jackknife)) if multiplicity is None else multiplicity
    spread = np.average(jackknife, weights=weights) - jackknife
    denominator = 6.0 * np.sum(weights * spread**2) ** 1.5
    return float(np.sum(weights * spread**3) / denominator) if denominator > 0 else 0.0


def _percentile(boot: np.ndarray, alpha: float) -> tuple[float, float]:
    import numpy as np

    if not np.all(np.isfinite(boot)):
        return math.nan, math.nan
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    return float(low), float(high)


def _bca(boot: np.ndarray, estimate: float, acceleration: float, alpha: float) -> tuple[float, float]:
    """Efron's BCa interval, computed as scipy.stats.bootstrap does (ties count half)."""
    import numpy as np
    from scipy.special import ndtr, ndtri

    if not (np.all(np.isfinite(boot)) and math.isfinite(acceleration) and math.isfinite(estimate)):
        return math.nan, math.nan
    below = (np.count_nonzero(boot < estimate) + np.count_nonzero(boot <= estimate)) / (2 * len(boot))
    if below in (0.0, 1.0):
        # every resample lies on one side of the estimate: the bias correction is infinite
        return math.nan, math.nan
    z0 = ndtri(below)
    bounds = []
    for z_alpha in (ndtri(alpha), -ndtri(alpha)):
        shifted = z0 + z_alpha
        bounds.append(float(ndtr(z0 + shifted / (1 - acceleration * shifted))))
    low, high = np.quantile(boot, bounds)
    return float(low), float(high)


# --- closed-form cross-checks ------------------------------------------------------------------------


def _cross_check(metric: Metric, cand: Any, base: Any, alpha: float, *, plain: bool) -> crosscheck.CrossCheck | None:
    """The closed-form test for this metric; only for unweighted, ungrouped data, which they assume."""
    if not plain or metric.cross_check is None:
        return None
    if metric.cross_check == "mcnemar_exact":
        return crosscheck.mcnemar_exact(cand.values, base.values, alpha=alpha)
    if metric.cross_check == "paired_t":
        return crosscheck.paired_t(cand.values, base.values, alpha=alpha, higher_is_better=metric.higher_is_better)
    try:
        return crosscheck.delong(cand.positive, cand.scores, base.scores, alpha=alpha)
    except ValueError:  # too few of a class for DeLong's variance: the bootstrap alone decides
        return None

