"""Measuring two models' latency and memory: interleaved timing and traced peak allocation.

Pure Python: nothing here imports numpy, so the timed loop costs two clock reads, a call and
an append per measurement. The numbers are analysed by :mod:`pytest_promote.stats.latency`.
"""

from __future__ import annotations

import gc
import random
import time
import tracemalloc
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["Timings", "time_interleaved", "peak_memory"]


@dataclass(frozen=True)
class Timings:
    """Per-round durations of both models, in nanoseconds, in the order the rounds ran.

    ``candidate_first[i]`` says whether the candidate ran first in round ``i``.
    ``resolution_ns`` is the resolution ``time.get_clock_info("perf_counter")`` reports when
    the default clock timed the calls; a custom clock is taken to tick in whole nanoseconds
    (1.0), as ``perf_counter_ns`` does: its real step still shows in the data, which is what
    :func:`pytest_promote.stats.latency.compare_latency` inspects for quantisation.
    """

    candidate_ns: tuple[int, ...]
    baseline_ns: tuple[int, ...]
    candidate_first: tuple[bool, ...]
    samples: int
    warmup: int
    seed: int
    resolution_ns: float


def time_interleaved(
    call: Callable[[Any], object],
    candidate: Any,
    baseline: Any,
    *,
    samples: int,
    warmup: int,
    seed: int,
    clock: Callable[[], int] = time.perf_counter_ns,
) -> Timings:
    """Time ``call(candidate)`` against ``call(baseline)`` in ``samples`` interleaved rounds.

    First ``warmup`` untimed calls of each model, alternating. Then each round times one call
    of each model, in an order drawn from ``random.Random(seed)``: each model runs first in
    half of the rounds (one extra for a coin's pick when ``samples`` is odd), so drift in the
    machine's state (frequency, caches, other load) falls on both models alike. Garbage
    collection is disabled during each timed call and restored afterwards, also when the call
    raises (the exception propagates). ``clock`` returns integer nanoseconds.
    """
    _check_count("samples", samples, 1)
    _check_count("warmup", warmup, 0)
    rng = random.Random(seed)
    half = samples // 2
    order = [True] * half + [False] * half
    if samples % 2:
        order.append(rng.random() < 0.5)
    rng.shuffle(order)

    for _ in range(warmup):
        call(candidate)
        call(baseline)

    pairs = [(candidate, baseline) if first else (baseline, candidate) for first in order]
    durations: list[int] = []
    append = durations.append
    was_enabled = gc.isenabled()
    disable, enable = gc.disable, gc.enable
    for pair in pairs:
        # a collection that came due inside the calls runs here, at the first allocation with
        # gc enabled (this loop's iterator), between rounds and outside the timed region
        for model in pair:
            disable()
            try:
                start = clock()
                call(model)
                end = clock()
            finally:
                if was_enabled:
                    enable()
            append(end - start)

    first_ns, second_ns = durations[0::2], durations[1::2]
    candidate_ns = tuple(a if first else b for first, a, b in zip(order, first_ns, second_ns))
    baseline_ns = tuple(b if first else a for first, a, b in zip(order, first_ns, second_ns))
    resolution = time.get_clock_info("perf_counter").resolution * 1e9 if clock is time.perf_counter_ns else 1.0
    return Timings(candidate_ns, baseline_ns, tuple(order), samples, warmup, seed, resolution)


def peak_memory(call: Callable[[Any], object], model: Any, *, repeats: int = 3) -> int:
    """Peak bytes allocated during ``call(model)``, as ``tracemalloc`` sees them.

    One untraced warm-up call first, so caches and lazy imports filled on first use are not
    charged to every call. Then ``repeats`` traced calls, each measuring its peak above the
    memory traced just before it; the largest is returned, because the peak a deployment must
    provision for is the worst call's, and a call may allocate differently from the last
    (buffers grown on demand, allocator reuse). Python objects and the libraries that report
    to tracemalloc (numpy does) are counted; memory a native library allocates on its own is
    not. Works inside an existing trace, which is left running; a trace started here is stopped.
    """
    _check_count("repeats", repeats, 1)
    call(model)
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        peaks = []
        for _ in range(repeats):
            tracemalloc.reset_peak()
            before, _ = tracemalloc.get_traced_memory()
            call(model)
            _, peak = tracemalloc.get_traced_memory()
            peaks.append(peak - before)
    finally:
        if started:
            tracemalloc.stop()
    return max(peaks)


def _check_count(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
