"""The measuring harness (``pytest_promote.measure``).

What this file shows:

* the order of the two models in each round is drawn from the seed: reproducible, different
  for another seed, exactly balanced, and what ``candidate_first`` records is what ran;
* a fake clock that advances only inside the calls gives exactly the durations the calls
  spent, attributed to the right model in round order; warm-up calls are made, alternate,
  and never reach the results;
* garbage collection is off inside each timed call and back to its previous state after,
  also when the call raises;
* a coarse clock makes :func:`compare_latency` warn about quantisation, and real timing of
  twice the work measures about twice as long;
* ``peak_memory`` reports a known allocation within 10%, inside or outside a running trace,
  counts only what the call allocates, and returns the largest call's peak.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
import tracemalloc

import numpy as np
import pytest

from pytest_promote.measure import Timings, peak_memory, time_interleaved
from pytest_promote.stats.latency import compare_latency


class FakeClock:
    """A counter that only the models advance: each call costs exactly its model's ``cost``."""

    def __init__(self) -> None:
        self.now = 0
        self.calls: list[str] = []

    def __call__(self) -> int:
        return self.now

    def run(self, model: tuple[str, int]) -> None:
        name, cost = model
        self.calls.append(name)
        self.now += cost


CANDIDATE = ("candidate", 700)
BASELINE = ("baseline", 1_000)


def _fake_timings(samples: int = 40, warmup: int = 3, seed: int = 5) -> tuple[Timings, FakeClock]:
    clock = FakeClock()
    timings = time_interleaved(clock.run, CANDIDATE, BASELINE, samples=samples, warmup=warmup, seed=seed, clock=clock)
    return timings, clock


def test_fake_clock_gives_exact_durations_per_model():
    timings, _ = _fake_timings()
    assert timings.candidate_ns == (700,) * 40
    assert timings.baseline_ns == (1_000,) * 40
    assert (timings.samples, timings.warmup, timings.seed) == (40, 3, 5)
    assert timings.resolution_ns == 1.0  # a custom clock is taken to tick in nanoseconds


def test_durations_follow_the_rounds_and_the_recorded_order():
    # every call costs a different amount, so a duration shows which call it came from
    clock = FakeClock()
    costs = iter(range(1, 1_000))

    def call(model: str) -> None:
        clock.calls.append(model)
        clock.now += next(costs)

    timings = time_interleaved(call, "c", "b", samples=25, warmup=2, seed=11, clock=clock)
    timed = clock.calls[4:]  # after 2 warm-up calls of each model
    assert clock.calls[:4] == ["c", "b", "c", "b"]
    for i, first in enumerate(timings.candidate_first):
        assert timed[2 * i : 2 * i + 2] == (["c", "b"] if first else ["b", "c"])
        cost_first, cost_second = 5 + 2 * i, 6 + 2 * i  # warm-up took costs 1-4
        assert timings.candidate_ns[i] == (cost_first if first else cost_second)
        assert timings.baseline_ns[i] == (cost_second if first else cost_first)


def test_warmup_calls_are_made_and_discarded():
    clock = FakeClock()
    costs = {"c": 10, "b": 20}
    made = []

    def call(model: str) -> None:
        made.append(model)
        # warm-up calls are slow (first-call costs): none of that may reach the results
        clock.now += 10_000 if len(made) <= 6 else costs[model]

    timings = time_interleaved(call, "c", "b", samples=9, warmup=3, seed=0, clock=clock)
    assert len(made) == 2 * 3 + 2 * 9
    assert made[:6] == ["c", "b"] * 3
    assert timings.candidate_ns == (10,) * 9 and timings.baseline_ns == (20,) * 9

    none = []
    time_interleaved(none.append, "c", "b", samples=4, warmup=0, seed=0, clock=clock)
    assert len(none) == 8


def test_order_is_seeded_reproducible_and_balanced():
    first, _ = _fake_timings(samples=200, seed=1)
    again, _ = _fake_timings(samples=200, seed=1)
    other, _ = _fake_timings(samples=200, seed=2)
    assert first.candidate_first == again.candidate_first
    assert first.candidate_first != other.candidate_first
    assert sum(first.candidate_first) == 100 and sum(other.candidate_first) == 100
    # shuffled, not alternating or in two runs: both orders follow each other many times
    switches = sum(a != b for a, b in zip(first.candidate_first, first.candidate_first[1:]))
    assert 70 <= switches <= 130

    odd = [sum(_fake_timings(samples=7, seed=seed)[0].candidate_first) for seed in range(40)]
    assert set(odd) == {3, 4}  # the odd round goes either way


@pytest.mark.parametrize("enabled", [True, False], ids=["gc-on", "gc-off"])
def test_gc_is_off_during_timed_calls_and_restored(enabled):
    seen = []
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        time_interleaved(lambda m: seen.append(gc.isenabled()), 1, 2, samples=10, warmup=2, seed=0)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
    assert seen[4:] == [False] * 20  # every timed call; warm-up calls run as the caller left gc


def test_gc_restored_when_the_call_raises():
    calls = []

    def call(model: int) -> None:
        calls.append(model)
        if len(calls) == 5:
            raise RuntimeError("model exploded")

    assert gc.isenabled()
    with pytest.raises(RuntimeError, match="model exploded"):
        time_interleaved(call, 1, 2, samples=10, warmup=1, seed=0)
    assert gc.isenabled()
    assert len(calls) == 5  # it stopped at the failing call


def test_garbage_made_with_gc_off_is_collected_between_rounds():
    # reference cycles only the cyclic collector frees: with gc off inside every call, they must
    # still be collected between rounds, not pile up for the whole run (20,000 cycles here)
    pending = []

    def make_cycles(model: int) -> None:
        pending.append(gc.get_count()[0])  # objects allocated since the last young collection
        for _ in range(model):
            cycle: list = []
            cycle.append(cycle)

    gc.collect()
    time_interleaved(make_cycles, 50, 50, samples=200, warmup=0, seed=0)
    assert max(pending) <= gc.get_threshold()[0] + 2 * 50 + 10


@pytest.mark.parametrize("bad", [{"samples": 0}, {"samples": 2.0}, {"warmup": -1}, {"samples": True}])
def test_invalid_counts(bad):
    arguments = {"samples": 3, "warmup": 1, "seed": 0} | bad
    with pytest.raises(ValueError, match=next(iter(bad))):
        time_interleaved(lambda m: None, 1, 2, **arguments)


def test_coarse_clock_is_flagged_as_quantised():
    # calls of 3.0-3.5 microseconds, timed by a clock that ticks every 10 microseconds
    fine = FakeClock()
    jitter = random.Random(0)

    def call(model: int) -> None:
        fine.now += model + jitter.randrange(500)

    def coarse() -> int:
        return fine.now // 10_000 * 10_000

    def quantisation(clock) -> str | None:
        timings = time_interleaved(call, 3_000, 3_100, samples=100, warmup=0, seed=0, clock=clock)
        return compare_latency(
            timings.candidate_ns, timings.baseline_ns, percentile=95, alpha=0.05, resamples=200, seed=0,
            resolution_ns=timings.resolution_ns,
        ).quantisation

    warning = quantisation(coarse)
    assert warning is not None and "calls measured 0 ns" in warning and "batch=" in warning
    assert quantisation(fine) is None  # the same calls timed by the fine clock


def test_real_clock_resolution_is_recorded():
    timings = time_interleaved(lambda m: None, 1, 2, samples=3, warmup=0, seed=0)
    assert timings.resolution_ns == time.get_clock_info("perf_counter").resolution * 1e9
    assert all(isinstance(t, int) and t >= 0 for t in timings.candidate_ns + timings.baseline_ns)


def test_twice_the_work_measures_about_twice_as_long():
    def work(rounds: int) -> int:
        total = 0
        for i in range(rounds):
            total += i * i
        return total

    timings = time_interleaved(work, 40_000, 20_000, samples=60, warmup=3, seed=0)
    ratio = statistics.median(timings.candidate_ns) / statistics.median(timings.baseline_ns)
    # loose: the machine is shared, but interleaving and the median absorb most of it
    assert 1.5 <= ratio <= 2.6, ratio


# --- peak memory -------------------------------------------------------------------------------------

MIB = 2**20


def test_peak_memory_of_a_known_allocation():
    assert peak_memory(lambda n: bytearray(n), 8 * MIB) == pytest.approx(8 * MIB, rel=0.10)
    array_bytes = np.ones(1_000_000).nbytes
    assert peak_memory(lambda n: np.ones(n), 1_000_000) == pytest.approx(array_bytes, rel=0.10)
    # a temporary freed before the call returns still counts: it is the peak, not what is kept
    assert peak_memory(lambda n: len(bytearray(n)), 8 * MIB) == pytest.approx(8 * MIB, rel=0.10)


def test_peak_memory_inside_a_running_trace_counts_only_the_call():
    assert not tracemalloc.is_tracing()
    tracemalloc.start()
    try:
        held = bytearray(16 * MIB)  # traced before the call: not the call's
        assert peak_memory(lambda n: bytearray(n), 4 * MIB) == pytest.approx(4 * MIB, rel=0.10)
        assert tracemalloc.is_tracing()  # the caller's trace is left running
        del held
    finally:
        tracemalloc.stop()
    peak_memory(lambda n: bytearray(n), MIB)
    assert not tracemalloc.is_tracing()  # a trace it started itself is stopped


def test_peak_memory_is_the_largest_traced_call_and_skips_the_warmup():
    sizes = iter([32 * MIB, 1 * MIB, 4 * MIB, 2 * MIB])  # warm-up, then 3 traced calls
    assert peak_memory(lambda _: bytearray(next(sizes)), None) == pytest.approx(4 * MIB, rel=0.10)


def test_peak_memory_stops_its_trace_when_the_call_raises():
    calls = []

    def call(model: None) -> None:
        calls.append(model)
        if len(calls) == 2:  # the first traced call
            raise MemoryError("too big")

    with pytest.raises(MemoryError):
        peak_memory(call, None)
    assert not tracemalloc.is_tracing()


def test_peak_memory_rejects_zero_repeats():
    with pytest.raises(ValueError, match="repeats"):
        peak_memory(lambda m: None, None, repeats=0)
