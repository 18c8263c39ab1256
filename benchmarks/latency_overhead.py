"""Measure the timing harness's own overhead against a bare ``perf_counter_ns`` loop.

Run: python benchmarks/latency_overhead.py [--samples N] [--repeats R]

Both loops time the same empty call (``lambda m: None``) between two ``perf_counter_ns``
reads. Printed per loop: the median duration it reports (the clock's own cost plus the call:
what an empty model would be charged), and the wall time per timed call and per round (two
calls). The harness's extra is its cost over the bare loop: inside the timed region it biases
every duration, outside it only slows the run. Target: under 1 microsecond per call for both.
Each figure is the best (lowest) of ``--repeats`` runs, since other processes only ever add
time; on a busy machine the figures are still noisy.
"""

from __future__ import annotations

import argparse
import statistics
import time

from pytest_promote.measure import time_interleaved

TARGET_NS = 1_000


def empty(model: object) -> None:
    return None


def bare_loop(calls: int) -> list[int]:
    """The least any harness can do: read the clock, call, read the clock, keep the difference."""
    clock = time.perf_counter_ns
    durations: list[int] = []
    append = durations.append
    for _ in range(calls):
        start = clock()
        empty(None)
        end = clock()
        append(end - start)
    return durations


def harness(rounds: int) -> list[int]:
    timings = time_interleaved(empty, None, None, samples=rounds, warmup=0, seed=0)
    return list(timings.candidate_ns + timings.baseline_ns)


def clock_cost(reads: int) -> list[int]:
    """Back-to-back clock reads with nothing between them: the floor of any reported duration."""
    clock = time.perf_counter_ns
    durations: list[int] = []
    append = durations.append
    for _ in range(reads):
        start = clock()
        end = clock()
        append(end - start)
    return durations


def best_of(repeats: int, run, calls: int) -> tuple[float, float]:
    """(lowest median reported ns, lowest wall ns per timed call) over ``repeats`` runs."""
    medians, walls = [], []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        durations = run()
        walls.append((time.perf_counter_ns() - start) / calls)
        medians.append(statistics.median(durations))
    return min(medians), min(walls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100_000, help="rounds per harness run (two calls each)")
    parser.add_argument("--repeats", type=int, default=7, help="runs per loop; the best is reported")
    args = parser.parse_args()
    calls = 2 * args.samples
    info = time.get_clock_info("perf_counter")
    print(f"perf_counter: {info.implementation}, resolution {info.resolution * 1e9:g} ns; "
          f"{args.samples:,} rounds ({calls:,} timed calls), best of {args.repeats}", flush=True)

    floor, _ = best_of(args.repeats, lambda: clock_cost(calls), calls)
    bare_median, bare_wall = best_of(args.repeats, lambda: bare_loop(calls), calls)
    ours_median, ours_wall = best_of(args.repeats, lambda: harness(args.samples), calls)

    print()
    print(f"{'loop':<26} {'median reported':>16} {'wall / call':>12} {'wall / round':>13}")
    print(f"{'two clock reads only':<26} {floor:>13.0f} ns {'':>12} {'':>13}")
    print(f"{'bare perf_counter_ns':<26} {bare_median:>13.0f} ns {bare_wall:>9.0f} ns {2 * bare_wall:>10.0f} ns")
    print(f"{'time_interleaved':<26} {ours_median:>13.0f} ns {ours_wall:>9.0f} ns {2 * ours_wall:>10.0f} ns")
    reported_extra, wall_extra = ours_median - bare_median, ours_wall - bare_wall
    print(f"{'harness extra':<26} {reported_extra:>+13.0f} ns {wall_extra:>+9.0f} ns {2 * wall_extra:>+10.0f} ns")
    print()
    for what, extra in (("in reported durations", reported_extra), ("in wall time", wall_extra)):
        verdict = "met" if extra < TARGET_NS else "NOT met"
        print(f"target < 1 us per call {what}: {verdict} ({extra:+.0f} ns)")


if __name__ == "__main__":
    main()
