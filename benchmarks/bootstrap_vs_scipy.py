"""Time pytest-promote's paired bootstrap against scipy.stats.bootstrap on identical inputs.

Run: python benchmarks/bootstrap_vs_scipy.py [--quick]

Prints, per case, both wall times, their ratio, both peak traced memories (tracemalloc sees
numpy's allocations), and the floor: the time this machine takes, in the same run, just to
draw the n*B resample indices with numpy on all cores, the least any exact index bootstrap
can cost. Both tools get the same data, the same B and the same confidence level; intervals
are printed so agreement can be checked. scipy cases that would take many minutes or more
memory than the machine has are skipped, and the line says why.
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import stats

from pytest_promote.stats import paired_bootstrap

ALPHA = 0.05


def measure(run):
    tracemalloc.start()
    start = time.perf_counter()
    result = run()
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, elapsed, peak / 2**20


CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def floor_seconds(n: int, resamples: int) -> float:
    """Draw n*B indices with numpy on every core, in cache-sized pieces; nothing else."""
    rows = max(1, (1 << 17) // n)

    def draw(share: int) -> None:
        rng = np.random.default_rng(share)
        for first in range(0, share, rows):
            rng.integers(0, n, size=(min(rows, share - first), n))

    shares = [resamples // CORES + (i < resamples % CORES) for i in range(CORES)]
    start = time.perf_counter()
    with ThreadPoolExecutor(CORES) as pool:
        list(pool.map(draw, shares))
    return time.perf_counter() - start


def accuracy_case(n, rng):
    y = rng.integers(0, 2, n)
    cand = np.where(rng.random(n) < 0.86, y, 1 - y)
    base = np.where(rng.random(n) < 0.84, y, 1 - y)
    data = ((cand == y).astype(float), (base == y).astype(float))
    return "accuracy", (y, cand, base), data, lambda c, b, axis=-1: c.mean(axis) - b.mean(axis)


def squared_error_case(n, rng):
    y = rng.normal(size=n)
    cand, base = y + rng.normal(scale=0.9, size=n), y + rng.normal(scale=1.0, size=n)
    data = ((cand - y) ** 2, (base - y) ** 2)
    # mse: lower is better, so the oriented delta is baseline minus candidate
    return "mse", (y, cand, base), data, lambda c, b, axis=-1: b.mean(axis) - c.mean(axis)


def auc_case(n, rng):
    y = rng.integers(0, 2, n)
    cand, base = 1.2 * y + rng.normal(size=n), 1.0 * y + rng.normal(size=n)

    def auc_difference(yy, c, b, axis=-1):
        return _auc(yy, c) - _auc(yy, b)

    return "roc_auc", (y, cand, base), (y, cand, base), auc_difference


def _auc(y, scores):
    """Vectorised Mann-Whitney AUC over the last axis (ties get mid-ranks)."""
    ranks = stats.rankdata(scores, axis=-1)
    positives = y.sum(axis=-1)
    negatives = y.shape[-1] - positives
    return ((ranks * y).sum(axis=-1) - positives * (positives + 1) / 2) / (positives * negatives)


def run_case(make, n, resamples, method, rng, skip_scipy=None):
    metric, (y, cand, base), scipy_data, statistic = make(n, rng)
    ours, ours_s, ours_mb = measure(
        lambda: paired_bootstrap(metric, y, cand, base, alpha=ALPHA, resamples=resamples, method=method, seed=1)
    )
    floor = floor_seconds(n, resamples)
    line = (
        f"{metric:9s} n={n:>7,} B={resamples:>6,} {method:10s} pytest-promote {ours_s:7.3f} s {ours_mb:6.0f} MB "
        f"[{ours.path}] | floor {floor:6.3f} s, ours/floor {ours_s / floor:5.2f}x"
    )
    if skip_scipy is None:
        theirs, theirs_s, theirs_mb = measure(
            lambda: stats.bootstrap(
                scipy_data, statistic, paired=True, vectorized=True, n_resamples=resamples,
                confidence_level=1 - 2 * ALPHA, method=method, random_state=1,
            )
        )
        ci = theirs.confidence_interval
        line += f" | scipy {theirs_s:7.2f} s {theirs_mb:7.0f} MB | scipy/ours {theirs_s / ours_s:6.1f}x"
        line += f" | CI ours [{ours.low:+.4f}, {ours.high:+.4f}] scipy [{ci.low:+.4f}, {ci.high:+.4f}]"
    else:
        line += f" | scipy skipped: {skip_scipy}"
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller cases, for a smoke run")
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    resamples = 2_000 if args.quick else 10_000
    sizes = (2_000,) if args.quick else (10_000, 100_000)
    print(f"{CORES} cores; alpha {ALPHA} (two-sided {1 - 2 * ALPHA:.0%} intervals); ours uses every core", flush=True)
    for n in sizes:
        for method in ("percentile", "bca"):
            big = n >= 100_000
            bca_skip = "its BCa jackknife materialises n*(n-1) indices (74.5 GiB at n=100,000)" if big and method == "bca" else None
            run_case(accuracy_case, n, resamples, method, rng, skip_scipy=bca_skip)
            run_case(squared_error_case, n, resamples, method, rng, skip_scipy=bca_skip)
            auc_skip = "its AUC re-ranks every resample: about 10 minutes at n=100,000" if big else None
            run_case(auc_case, n, resamples, method, rng, skip_scipy=bca_skip or auc_skip)


if __name__ == "__main__":
    main()
