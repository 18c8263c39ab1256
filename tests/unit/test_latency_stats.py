"""Latency statistics (``pytest_promote.stats.latency``).

What this file shows:

* ``summarize`` agrees with the ``statistics`` module (percentiles by its "inclusive" method,
  which is numpy's linear one), counts Tukey outliers on both sides, and reports throughput
  in rows per second; its JSON holds plain numbers, NaN as ``None``;
* ``row_percentiles`` is bit-identical to ``np.percentile``; ``compare_latency`` is exactly
  the documented bootstrap redone by hand from ``resample_indices``, pairs rounds (a
  candidate twice as slow in every round has a ratio interval of exactly [2, 2]), and is
  deterministic per seed;
* the order-statistic bound is the textbook one, and does not exist below its minimum n;
* a zero baseline percentile gives a ratio no rule can pass; quantised timings are flagged;
  bad inputs are refused with messages naming what is wrong;
* simulations (slow), run with ``-s`` to see each measured figure; tolerances are 3 Monte
  Carlo standard errors of a proportion, ``3 * sqrt(p (1 - p) / R)``, at the nominal p,
  plus any slack stated in the test.
"""

from __future__ import annotations

import dataclasses
import json
import math
import statistics

import numpy as np
import pytest
from scipy import stats

from pytest_promote.errors import MetricInputError
from pytest_promote.stats.bootstrap import resample_indices
from pytest_promote.stats.latency import LatencyComparison, compare_latency, row_percentiles, summarize

RNG_SEED = 20260512


def _lognormal_ns(rng: np.random.Generator, n: int, scale: float = 1.0) -> np.ndarray:
    return np.round(rng.lognormal(0, 0.3, n) * 2e6 * scale).astype(np.int64)


# --- summary -----------------------------------------------------------------------------------------


def test_summary_matches_the_statistics_module():
    rng = np.random.default_rng(RNG_SEED)
    times = _lognormal_ns(rng, 301).tolist()
    summary = summarize(times, batch=16)
    ms = [t / 1e6 for t in times]
    cuts = statistics.quantiles(ms, n=100, method="inclusive")  # cut k is the k-th percentile
    assert summary.p50_ms == pytest.approx(statistics.median(ms), rel=1e-12)
    assert summary.p95_ms == pytest.approx(cuts[94], rel=1e-12)
    assert summary.p99_ms == pytest.approx(cuts[98], rel=1e-12)
    assert summary.mean_ms == pytest.approx(statistics.fmean(ms), rel=1e-12)
    assert summary.sd_ms == pytest.approx(statistics.stdev(ms), rel=1e-10)
    assert (summary.min_ms, summary.max_ms) == (min(ms), max(ms))
    assert summary.samples == 301
    assert summary.throughput_per_s == pytest.approx(16 / (statistics.fmean(ms) / 1e3), rel=1e-12)
    assert summarize(times).throughput_per_s is None


def test_outliers_beyond_tukey_fences_on_both_sides():
    # 1..100 ms: quartiles 25.75 and 75.25, IQR 49.5, fences -48.5 and 149.5 ms
    body = [k * 1_000_000 for k in range(1, 101)]
    assert summarize(body).outliers == 0
    # quartiles of 103 values shift a little; the fences stay far from the added values
    low_and_high = body + [300_000_000, 400_000_000, 0]
    assert summarize(low_and_high).outliers == 2  # 0 lies inside the lower fence (about -47 ms)

    tight = [50_000_000 + k for k in range(100)] + [0, 1, 99_000_000]  # quartiles near 50 ms
    assert summarize(tight).outliers == 3  # two far below, one far above


def test_a_value_on_the_fence_is_not_an_outlier():
    # quartiles of [0, 10, 10, 10, 20] are 10 and 10: IQR 0, fences at 10 itself
    assert summarize([0, 10, 10, 10, 20]).outliers == 2
    # [0, 4, 8, 12, 16]: quartiles 4 and 12, IQR 8, fences -8 and 24
    assert summarize([0, 4, 8, 12, 24]).outliers == 0  # 24 sits on the upper fence
    assert summarize([0, 4, 8, 12, 25]).outliers == 1


def test_summary_json_is_plain_and_nan_free():
    record = summarize([1_500_000]).to_json()
    assert record["sd_ms"] is None  # one sample has no sample sd
    assert record["p95_ms"] == 1.5 and type(record["p95_ms"]) is float
    assert type(record["samples"]) is int and type(record["outliers"]) is int
    json.dumps(record, allow_nan=False)
    assert summarize([0, 0], batch=4).to_json()["throughput_per_s"] is None  # infinite


# --- percentiles and the bootstrap ----------------------------------------------------------------


@pytest.mark.parametrize("width", [2, 3, 7, 20, 199, 200, 1001])
def test_row_percentiles_are_numpys(width):
    rng = np.random.default_rng(width)
    values = rng.lognormal(0, 1, (40, width)) * 1e6
    values[:5] = np.round(values[:5] / 1e6)  # rows with ties
    for percentile in (1, 5, 25, 50, 75, 90, 95, 99, 99.9, 100 / 3):
        assert np.array_equal(row_percentiles(values, percentile), np.percentile(values, percentile, axis=1))


def _by_hand(cand, base, percentile, alpha, resamples, seed):
    cand, base = np.asarray(cand, float), np.asarray(base, float)
    cand_boot, base_boot = [], []
    for _, picks in resample_indices(len(cand), resamples, seed):
        cand_boot.extend(np.percentile(cand[picks], percentile, axis=1))
        base_boot.extend(np.percentile(base[picks], percentile, axis=1))
    cand_boot, base_boot = np.array(cand_boot), np.array(base_boot)
    quantiles = [alpha, 1 - alpha]
    return np.quantile(cand_boot, quantiles), np.quantile(base_boot, quantiles), np.quantile(cand_boot / base_boot, quantiles)


def test_compare_is_the_documented_bootstrap():
    rng = np.random.default_rng(RNG_SEED)
    shared = rng.lognormal(0, 0.2, 150)  # a per-round load both models feel
    cand = np.round(_lognormal_ns(rng, 150) * shared).astype(np.int64)
    base = np.round(_lognormal_ns(rng, 150, 1.1) * shared).astype(np.int64)
    result = compare_latency(cand, base, percentile=90, alpha=0.1, resamples=75, seed=3)

    (c_low, c_high), (b_low, b_high), (r_low, r_high) = _by_hand(cand, base, 90, 0.1, 75, 3)
    assert (result.candidate_low_ms, result.candidate_high_ms) == (c_low / 1e6, c_high / 1e6)
    assert (result.baseline_low_ms, result.baseline_high_ms) == (b_low / 1e6, b_high / 1e6)
    assert (result.ratio_low, result.ratio_high) == (r_low, r_high)
    assert result.candidate_ms == np.percentile(cand, 90) / 1e6
    assert result.baseline_ms == np.percentile(base, 90) / 1e6
    assert result.ratio == np.percentile(cand, 90) / np.percentile(base, 90)
    assert (result.percentile, result.alpha, result.resamples, result.seed, result.rounds) == (90, 0.1, 75, 3, 150)
    assert result.confidence == pytest.approx(0.8)
    assert result.candidate == summarize(cand) and result.baseline == summarize(base)


def test_rounds_are_paired():
    # the candidate takes exactly twice as long as the baseline in every round: whichever rounds
    # a resample draws, both percentiles come from the same rounds, so every ratio is 2
    rng = np.random.default_rng(RNG_SEED)
    base = _lognormal_ns(rng, 100)
    result = compare_latency(2 * base, base, percentile=95, alpha=0.05, resamples=500, seed=1)
    assert result.ratio == result.ratio_low == result.ratio_high == 2.0
    # while the baseline's own percentile does vary between resamples
    assert result.baseline_low_ms < result.baseline_ms < result.baseline_high_ms


def test_deterministic_per_seed():
    rng = np.random.default_rng(RNG_SEED)
    cand, base = _lognormal_ns(rng, 80), _lognormal_ns(rng, 80)
    arguments = {"percentile": 95, "alpha": 0.05, "resamples": 300}
    first = compare_latency(cand, base, seed=1, **arguments)
    assert compare_latency(list(cand), tuple(base), seed=1, **arguments) == first
    other = compare_latency(cand, base, seed=2, **arguments)
    # the resampled p95 takes few distinct values, so a single bound may coincide: not all four
    assert other.ratio_high != first.ratio_high and other.ratio_low != first.ratio_low
    assert other.ratio == first.ratio  # the point estimate does not depend on the seed


def test_comparison_json():
    rng = np.random.default_rng(RNG_SEED)
    result = compare_latency(_lognormal_ns(rng, 40), _lognormal_ns(rng, 40), percentile=99, alpha=0.05, resamples=100, seed=0)
    record = result.to_json()
    assert [field for field in record] == [field.name for field in dataclasses.fields(LatencyComparison)]
    assert record["exact_high_ms"] is None  # 40 rounds cannot bound a p99 at 95%
    assert record["candidate"] == result.candidate.to_json()
    assert record["ratio_high"] == result.ratio_high
    json.dumps(record, allow_nan=False)


# --- the order-statistic bound ---------------------------------------------------------------------


def _exact_by_hand(values, q, alpha):
    """Walk k up from 1 until P(Binomial(n, q) <= k - 1) reaches 1 - alpha."""
    ordered = sorted(values)
    n = len(ordered)
    cumulative = 0.0
    for k in range(1, n + 1):
        cumulative += math.comb(n, k - 1) * q ** (k - 1) * (1 - q) ** (n - k + 1)
        if cumulative >= 1 - alpha:
            return ordered[k - 1]
    return math.inf


@pytest.mark.parametrize(("n", "percentile", "alpha"), [(200, 95, 0.05), (500, 99, 0.05), (60, 50, 0.1), (1000, 90, 0.025)])
def test_exact_bound_is_the_order_statistic(n, percentile, alpha):
    rng = np.random.default_rng(n)
    cand = _lognormal_ns(rng, n)
    result = compare_latency(cand, _lognormal_ns(rng, n), percentile=percentile, alpha=alpha, resamples=50, seed=0)
    assert result.exact_high_ms == _exact_by_hand(cand.tolist(), percentile / 100, alpha) / 1e6
    assert result.exact_high_ms >= result.candidate_ms


def test_exact_bound_needs_enough_rounds():
    # the maximum bounds the 95th percentile at 95% once 1 - 0.95**n >= 0.95: from n = 59 on
    rng = np.random.default_rng(RNG_SEED)
    arguments = {"percentile": 95, "alpha": 0.05, "resamples": 50, "seed": 0}
    cand = _lognormal_ns(rng, 59)
    assert compare_latency(cand[:58], cand[:58], **arguments).exact_high_ms == math.inf
    assert compare_latency(cand, cand, **arguments).exact_high_ms == cand.max() / 1e6


# --- degenerate timings and bad input --------------------------------------------------------------


def test_zero_baseline_percentile_fails_any_ratio_rule():
    cand = [1_000] * 10 + [2_000] * 10
    zero = compare_latency(cand, [0] * 20, percentile=95, alpha=0.05, resamples=100, seed=0)
    assert zero.ratio == math.inf
    assert math.isnan(zero.ratio_low) and math.isnan(zero.ratio_high)
    assert not zero.ratio_high <= 1.2 and not zero.ratio <= 1.2
    record = zero.to_json()
    assert record["ratio"] is None and record["ratio_high"] is None
    both = compare_latency([0] * 20, [0] * 20, percentile=50, alpha=0.05, resamples=100, seed=0)
    assert math.isnan(both.ratio) and not both.ratio <= 1.2
    # one resample with a zero baseline percentile is enough to void the ratio's bounds
    mostly = compare_latency(cand, [0] * 17 + [5_000] * 3, percentile=90, alpha=0.05, resamples=200, seed=0)
    assert math.isfinite(mostly.ratio) and math.isnan(mostly.ratio_high)


def test_quantised_timings_are_flagged():
    rng = np.random.default_rng(RNG_SEED)
    fine = _lognormal_ns(rng, 200)
    arguments = {"percentile": 95, "alpha": 0.05, "resamples": 50, "seed": 0}
    assert compare_latency(fine, fine, **arguments).quantisation is None

    zeros = fine.copy()
    zeros[:20] = 0  # 10% of the calls
    message = compare_latency(zeros, fine, **arguments).quantisation
    assert "candidate: 20 of 200 calls measured 0 ns" in message and "baseline" not in message
    assert "promote.time(call, batch=k)" in message

    stepped = (fine // 100_000) * 100_000  # 0.1 ms steps on a 2 ms median
    message = compare_latency(fine, stepped, **arguments).quantisation
    assert "baseline: durations move in steps of at least 100000 ns" in message

    constant = np.full(200, 2_000_000)
    assert "all 200 calls measured 2000000 ns" in compare_latency(constant, fine, **arguments).quantisation

    fast = np.round(rng.lognormal(0, 0.3, 200) * 3_000).astype(np.int64)  # about 3 microseconds
    assert compare_latency(fast, fast, resolution_ns=1.0, **arguments).quantisation is None
    message = compare_latency(fast, fast, resolution_ns=100.0, **arguments).quantisation
    assert "below 100x the timer's resolution (100 ns)" in message


@pytest.mark.parametrize(
    ("cand", "base", "match"),
    [
        ([1, 2, 3], [1, 2], "3 candidate and 2 baseline durations"),
        ([5], [5], "candidate timings: at least 2 needed, got 1"),
        ([], [], "candidate timings: at least 2 needed, got 0"),
        ([1, -2, -3], [1, 2, 3], "candidate timings: 2 of 3 durations are negative"),
        ([1, 2, 3], [1.0, 2.0, 3.5], "baseline timings: expected integer nanoseconds, got dtype float64"),
        ([[1, 2], [3, 4]], [1, 2], r"candidate timings: expected a 1-D sequence of durations, got shape \(2, 2\)"),
        ([1, 2], [True, False], "baseline timings: expected integer nanoseconds, got dtype bool"),
    ],
)
def test_bad_timings_are_refused(cand, base, match):
    with pytest.raises(MetricInputError, match=match):
        compare_latency(cand, base, percentile=95, alpha=0.05, resamples=10, seed=0)


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ({"percentile": 0}, "percentile"),
        ({"percentile": 100}, "percentile"),
        ({"percentile": 0.95 * 1j}, "percentile"),
        ({"alpha": 0.5}, "alpha"),
        ({"alpha": 0}, "alpha"),
        ({"resamples": 1}, "resamples"),
        ({"resamples": 100.0}, "resamples"),
        ({"seed": -1}, "seed"),
        ({"batch": 0}, "batch"),
        ({"resolution_ns": 0.0}, "resolution_ns"),
    ],
)
def test_bad_arguments_are_refused(override, match):
    arguments = {"percentile": 95, "alpha": 0.05, "resamples": 10, "seed": 0} | override
    with pytest.raises(ValueError, match=match):
        compare_latency([1, 2, 3], [1, 2, 3], **arguments)


def test_summarize_refuses_bad_timings():
    with pytest.raises(MetricInputError, match="at least 1 needed"):
        summarize([])
    with pytest.raises(MetricInputError, match="negative"):
        summarize([3, -1])
    with pytest.raises(ValueError, match="batch"):
        summarize([3], batch=-2)


# --- error rates, simulated --------------------------------------------------------------------------

ROUNDS = 200
RESAMPLES = 1000
REPLICATES = 400
ALPHA = 0.05
MAX_RATIO = 1.2
SHARED_SIGMA, CALL_SIGMA, MEDIAN_NS = 0.1, 0.25, 2e6
GAMMA_SHAPE, GAMMA_SCALE_NS = 4.0, 0.5e6


def _mc_tolerance(p: float, replicates: int = REPLICATES) -> float:
    return 3 * math.sqrt(p * (1 - p) / replicates)


def _draw(rng: np.random.Generator, family: str, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """One run of timings; the candidate is the baseline's distribution times ``scale``.

    lognormal: each call's own lognormal noise times a lognormal load shared by the round (so
    pairing matters); gamma: independent calls with a right skew heavier than the lognormal's.
    """
    if family == "lognormal":
        shared = rng.lognormal(0, SHARED_SIGMA, ROUNDS)
        cand = rng.lognormal(0, CALL_SIGMA, ROUNDS) * shared * MEDIAN_NS * scale
        base = rng.lognormal(0, CALL_SIGMA, ROUNDS) * shared * MEDIAN_NS
    else:
        cand = rng.gamma(GAMMA_SHAPE, GAMMA_SCALE_NS, ROUNDS) * scale
        base = rng.gamma(GAMMA_SHAPE, GAMMA_SCALE_NS, ROUNDS)
    return np.round(cand).astype(np.int64), np.round(base).astype(np.int64)


def _true_p95_ms(family: str) -> float:
    if family == "lognormal":  # a product of independent lognormals is lognormal
        return stats.lognorm.ppf(0.95, math.hypot(SHARED_SIGMA, CALL_SIGMA), scale=MEDIAN_NS) / 1e6
    return stats.gamma.ppf(0.95, GAMMA_SHAPE, scale=GAMMA_SCALE_NS) / 1e6


def _replicates(family: str, scale: float, seed: int) -> list[LatencyComparison]:
    rng = np.random.default_rng(seed)
    return [
        compare_latency(*_draw(rng, family, scale), percentile=95, alpha=ALPHA, resamples=RESAMPLES, seed=r)
        for r in range(REPLICATES)
    ]


@pytest.fixture(scope="module")
def equal_models() -> dict[str, list[LatencyComparison]]:
    return {family: _replicates(family, 1.0, seed) for family, seed in (("lognormal", 101), ("gamma", 102))}


@pytest.mark.slow
def test_equal_models_pass_a_ratio_rule(equal_models):
    """A/A at 200 rounds: ``ratio_high <= 1.2`` passes in at least 1 - alpha - 3 MC SE (0.917).

    This is power, not a guarantee: it holds for the lognormal timings (measured 0.951 over
    3,000 replicates), not for the gamma(4) ones, whose p95 is too noisy at 200 rounds for a
    20% margin (measured 0.692; printed, not asserted).
    """
    rates = {family: np.mean([r.ratio_high <= MAX_RATIO for r in runs]) for family, runs in equal_models.items()}
    print(f"\nA/A, p95 at {ROUNDS} rounds, ratio_high <= {MAX_RATIO} passes: {rates}")
    assert rates["lognormal"] >= 1 - ALPHA - _mc_tolerance(1 - ALPHA)


@pytest.mark.slow
@pytest.mark.parametrize(("family", "seed"), [("lognormal", 201), ("gamma", 202)])
def test_a_candidate_at_the_ratio_limit_passes_at_most_alpha(family, seed):
    """True p95 ratio exactly 1.2: ``ratio_high <= 1.2`` may pass in at most alpha + 3 MC SE (0.083).

    Measured over 3,000 replicates: 0.037 (lognormal) and 0.034 (gamma): conservative.
    """
    passed = np.mean([r.ratio_high <= MAX_RATIO for r in _replicates(family, MAX_RATIO, seed)])
    print(f"\n{family}: true ratio {MAX_RATIO}, the rule passed in {passed:.3f} of {REPLICATES}")
    assert passed <= ALPHA + _mc_tolerance(ALPHA)


@pytest.mark.slow
@pytest.mark.parametrize("family", ["lognormal", "gamma"])
def test_upper_bounds_cover_the_true_p95(equal_models, family):
    """Coverage of the candidate's true p95 by its one-sided 95% upper bounds, at 200 rounds.

    The percentile bootstrap's ``candidate_high_ms`` is anti-conservative for an upper
    percentile at this size: the resampled p95 cannot exceed the sample maximum and is
    built from a dozen top values. Measured over 3,000 replicates: 0.881 (lognormal) and
    0.884 (gamma) against 0.95, about 7 points short (0.92-0.93 at 1,000 rounds, 400
    replicates). The test allows a shortfall of at most 10 points plus 3 MC SE, so a worse
    regression fails. The order-statistic bound ``exact_high_ms`` must cover at least
    0.95 - 3 MC SE (measured 0.974 for both).
    """
    truth = _true_p95_ms(family)
    runs = equal_models[family]
    bootstrap = np.mean([r.candidate_high_ms >= truth for r in runs])
    exact = np.mean([r.exact_high_ms >= truth for r in runs])
    print(f"\n{family}: true p95 {truth:.4f} ms covered by candidate_high_ms {bootstrap:.3f}, exact_high_ms {exact:.3f}")
    tolerance = _mc_tolerance(1 - ALPHA)
    assert 1 - ALPHA - 0.10 - tolerance <= bootstrap <= 1 - ALPHA + tolerance
    assert exact >= 1 - ALPHA - tolerance
    assert all(math.isfinite(r.exact_high_ms) for r in runs)  # 200 rounds are enough for a p95 bound
