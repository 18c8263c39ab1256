"""Distribution drift statistics (``pytest_promote.stats.drift``).

What this file shows:

* PSI and KL equal hand computations with the bins and proportions written out, for
  continuous data and for discrete data whose repeated edges collapse; the edges are numpy's
  inverted-CDF quantiles, and every bin holds reference values;
* KS equals scipy's ``ks_2samp`` and a brute-force maximum ECDF difference, ties included;
* identical samples give PSI, KL and KS of 0; a half-sd shift is seen by all three;
* the bootstrap is exactly the documented one redone by hand from ``resample_indices``
  (paired: the same rows for both arrays; unpaired: each sample from its derived seed; the
  bins always the original reference's), deterministic per seed, fast, and pairing narrows
  the interval when rows are correlated;
* bad inputs are refused with messages naming the side and counting the bad values;
* simulations (slow), run with ``-s`` to see each measured figure: the one-sided upper bound
  covers the true PSI (over the reference's true decile bins) at least at its nominal level,
  within 3 Monte Carlo standard errors, ``3 * sqrt(p (1 - p) / R)`` at the nominal p.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time

import numpy as np
import pytest
from scipy import stats

from pytest_promote.errors import MetricInputError
from pytest_promote.stats.bootstrap import resample_indices
from pytest_promote.stats.drift import (
    EPSILON,
    DriftStatistics,
    bin_edges,
    compare_distributions,
    derived_seeds,
    kl_divergence,
    ks,
    psi,
)

RNG_SEED = 20260514


def _smoothed(proportions: list[float]) -> list[float]:
    """The documented smoothing, written out: (p + eps) / (1 + bins * eps)."""
    return [(p + EPSILON) / (1 + len(proportions) * EPSILON) for p in proportions]


def _hand_psi(r: list[float], c: list[float]) -> float:
    return sum((ci - ri) * math.log(ci / ri) for ri, ci in zip(_smoothed(r), _smoothed(c)))


def _hand_kl(r: list[float], c: list[float]) -> float:
    return sum(ci * math.log(ci / ri) for ri, ci in zip(_smoothed(r), _smoothed(c)))


def _brute_force_ks(a: np.ndarray, b: np.ndarray) -> float:
    """max over every observed value x of |F_a(x) - F_b(x)|, ECDFs by counting."""
    return max(abs(np.mean(a <= x) - np.mean(b <= x)) for x in np.concatenate([a, b]))


# --- point statistics --------------------------------------------------------------------------------


# reference 1..10 in 5 bins: the inverted-CDF quantiles at 0.2, 0.4, 0.6, 0.8 are the 2nd,
# 4th, 6th and 8th order statistics, so the bins are (-inf, 2], (2, 4], (4, 6], (6, 8], (8, inf)
SMALL_REFERENCE = [7, 1, 10, 4, 2, 9, 3, 8, 6, 5]
# current, bin by bin: {1, 2} | {3, 3} | {5} | {} | {9, 9, 9, 10, 11}
SMALL_CURRENT = [9, 3, 1, 11, 9, 5, 2, 10, 3, 9]
SMALL_R = [0.2, 0.2, 0.2, 0.2, 0.2]
SMALL_C = [0.2, 0.2, 0.1, 0.0, 0.5]


def test_psi_and_kl_match_a_hand_computation():
    assert bin_edges(SMALL_REFERENCE, bins=5).tolist() == [2, 4, 6, 8]
    # the empty fourth bin contributes about 0.2 * ln(0.2 / 1e-4): large, finite
    expected_psi = _hand_psi(SMALL_R, SMALL_C)
    assert 1.5 < expected_psi < 2.5
    assert psi(SMALL_REFERENCE, SMALL_CURRENT, bins=5) == pytest.approx(expected_psi, rel=1e-12)
    assert kl_divergence(SMALL_REFERENCE, SMALL_CURRENT, bins=5) == pytest.approx(_hand_kl(SMALL_R, SMALL_C), rel=1e-12)
    # the direction: KL(current || reference), not the reverse (which weighs the empty bin by 0.2)
    assert kl_divergence(SMALL_REFERENCE, SMALL_CURRENT, bins=5) != pytest.approx(_hand_kl(SMALL_C, SMALL_R), rel=1e-3)


def test_continuous_edges_are_numpys_inverted_cdf_quantiles_and_bins_are_equal_frequency():
    rng = np.random.default_rng(RNG_SEED)
    for n in (1000, 999, 37):
        reference = rng.normal(size=n)
        edges = bin_edges(reference, bins=10)
        assert np.array_equal(edges, np.quantile(reference, np.arange(1, 10) / 10, method="inverted_cdf"))
        counts = [np.sum(reference <= edges[0])]
        counts += [np.sum((reference > lo) & (reference <= hi)) for lo, hi in zip(edges[:-1], edges[1:])]
        counts += [np.sum(reference > edges[-1])]
        if n == 1000:
            assert counts == [100] * 10
        assert min(counts) >= 1 and sum(counts) == n


def test_discrete_data_collapse_repeated_edges():
    # deciles of 500 zeros, 300 ones, 200 twos: 0 (x5), 1 (x3), 2; the edge at the maximum,
    # 2, would leave an empty bin above it, so the bins are (-inf, 0], (0, 1], (1, inf)
    reference = np.repeat([0, 1, 2], [500, 300, 200])
    assert bin_edges(reference, bins=10).tolist() == [0, 1]
    # values outside the reference's range land in the outer bins: -1 with the zeros, 3 with the twos
    current = np.concatenate([[-1], np.repeat([0, 1, 2], [399, 300, 299]), [3]])
    r, c = [0.5, 0.3, 0.2], [0.4, 0.3, 0.3]
    assert psi(reference, current) == pytest.approx(_hand_psi(r, c), rel=1e-12)
    assert kl_divergence(reference, current) == pytest.approx(_hand_kl(r, c), rel=1e-12)
    result = compare_distributions(reference, current, seed=3, paired=False, resamples=200)
    assert result.bins == 3
    assert result.psi == pytest.approx(_hand_psi(r, c), rel=1e-12)


def test_binary_and_constant_references():
    binary = [0] * 7 + [1] * 3
    assert bin_edges(binary, bins=2).tolist() == [0]
    assert psi(binary, [0] * 3 + [1] * 7, bins=2) == pytest.approx(_hand_psi([0.7, 0.3], [0.3, 0.7]), rel=1e-12)
    # a constant reference has one bin: PSI and KL cannot see drift, KS can (documented)
    assert bin_edges([5.0] * 20).size == 0
    result = compare_distributions([5.0] * 20, [6.0] * 20, seed=0, paired=True, resamples=50)
    assert (result.bins, result.psi, result.kl, result.ks) == (1, 0.0, 0.0, 1.0)


def test_ks_matches_scipy_and_a_brute_force_ecdf_difference():
    rng = np.random.default_rng(RNG_SEED + 1)
    samples = [
        (rng.normal(size=300), rng.normal(0.2, 1.3, size=450)),
        (rng.integers(0, 5, size=200).astype(float), rng.integers(0, 6, size=170).astype(float)),  # ties
        (np.array(SMALL_REFERENCE, float), np.array(SMALL_CURRENT, float)),
    ]
    for reference, current in samples:
        statistic, p_value = ks(reference, current)
        expected = stats.ks_2samp(reference, current)
        assert (statistic, p_value) == (float(expected.statistic), float(expected.pvalue))
        assert statistic == pytest.approx(_brute_force_ks(reference, current), abs=1e-12)
        assert type(statistic) is float and type(p_value) is float


def test_identical_samples_show_no_drift():
    sample = np.random.default_rng(RNG_SEED + 2).gamma(2.0, size=2000)
    result = compare_distributions(sample, sample.copy(), seed=11, paired=True)
    assert result.psi == 0.0 and result.kl == 0.0
    assert result.ks == 0.0 and result.ks_p_value == 1.0
    # resampled jointly, identical rows stay identical: every replicate is 0 too
    assert (result.psi_low, result.psi_high) == (0.0, 0.0)


def test_a_half_sd_shift_is_detected():
    rng = np.random.default_rng(RNG_SEED + 3)
    reference, current = rng.normal(size=5000), rng.normal(0.5, 1.0, size=5000)
    for paired in (True, False):
        result = compare_distributions(reference, current, seed=5, paired=paired)
        # the true PSI over the true deciles is 0.238 (see the simulations)
        assert result.psi > 0.1 and result.psi_low > 0.1
        assert result.ks_p_value < 1e-6
        assert result.kl > 0.05


# --- the bootstrap -----------------------------------------------------------------------------------


def _hand_bin_counts(values: np.ndarray, edges: np.ndarray) -> list[int]:
    """Counts in (-inf, e0], (e0, e1], ..., (e_last, inf), by comparisons."""
    bounds = [-math.inf, *edges.tolist(), math.inf]
    return [int(np.sum((values > lo) & (values <= hi))) for lo, hi in zip(bounds[:-1], bounds[1:])]


def _hand_psi_from_counts(ref_counts: list[int], cur_counts: list[int]) -> float:
    return _hand_psi([k / sum(ref_counts) for k in ref_counts], [k / sum(cur_counts) for k in cur_counts])


def test_paired_bootstrap_is_the_documented_one_redone_by_hand():
    rng = np.random.default_rng(RNG_SEED + 4)
    reference = rng.normal(size=60)
    current = reference + rng.normal(0.3, 0.5, size=60)
    result = compare_distributions(reference, current, bins=5, alpha=0.1, resamples=70, seed=21, paired=True)
    edges = np.sort(reference)[[11, 23, 35, 47]]  # the 12th, 24th, 36th and 48th order statistics
    replicates = []
    for _, picks in resample_indices(60, 70, 21):
        for row in picks:  # the same rows for both arrays; the original reference's bins
            replicates.append(_hand_psi_from_counts(_hand_bin_counts(reference[row], edges), _hand_bin_counts(current[row], edges)))
    assert len(replicates) == 70
    low, high = np.quantile(replicates, [0.1, 0.9])
    assert result.psi_low == pytest.approx(low, rel=1e-10)
    assert result.psi_high == pytest.approx(high, rel=1e-10)
    assert result.psi == pytest.approx(_hand_psi_from_counts(_hand_bin_counts(reference, edges), _hand_bin_counts(current, edges)), rel=1e-12)
    assert (result.confidence, result.resamples, result.seed, result.paired) == (pytest.approx(0.8), 70, 21, True)


def test_unpaired_bootstrap_resamples_each_sample_from_its_derived_seed():
    rng = np.random.default_rng(RNG_SEED + 5)
    reference, current = rng.normal(size=40), rng.normal(0.4, 1.2, size=65)
    result = compare_distributions(reference, current, bins=4, resamples=50, seed=8, paired=False)
    ref_seed, cur_seed = derived_seeds(8)
    children = np.random.SeedSequence(8).spawn(2)
    assert (ref_seed, cur_seed) == tuple(int(child.generate_state(1, np.uint64)[0]) for child in children)
    assert ref_seed != cur_seed
    edges = np.sort(reference)[[9, 19, 29]]
    ref_rows = np.vstack([picks for _, picks in resample_indices(40, 50, ref_seed)])
    cur_rows = np.vstack([picks for _, picks in resample_indices(65, 50, cur_seed)])
    replicates = [
        _hand_psi_from_counts(_hand_bin_counts(reference[a], edges), _hand_bin_counts(current[b], edges))
        for a, b in zip(ref_rows, cur_rows)
    ]
    low, high = np.quantile(replicates, [0.05, 0.95])
    assert (result.psi_low, result.psi_high) == (pytest.approx(low, rel=1e-10), pytest.approx(high, rel=1e-10))
    assert (result.n_reference, result.n_current, result.bins) == (40, 65, 4)


def test_same_seed_same_result_and_different_seed_different_interval():
    rng = np.random.default_rng(RNG_SEED + 6)
    reference, current = rng.normal(size=500), rng.normal(0.2, 1.0, size=500)
    for paired in (True, False):
        first = compare_distributions(reference, current, seed=1, paired=paired)
        assert compare_distributions(reference, current, seed=1, paired=paired) == first
        other = compare_distributions(reference, current, seed=2, paired=paired)
        assert other.psi == first.psi
        assert (other.psi_low, other.psi_high) != (first.psi_low, first.psi_high)
    assert compare_distributions(reference, current, seed=1, paired=True).psi_high != first.psi_high


def test_the_interval_contains_the_estimate_for_well_behaved_data():
    rng = np.random.default_rng(RNG_SEED + 7)
    reference = rng.normal(size=4000)
    for paired, current in ((False, rng.normal(0.5, 1.0, size=3000)), (True, 0.6 * reference + 0.8 * rng.normal(size=4000) + 0.5)):
        result = compare_distributions(reference, current, seed=9, paired=paired)
        assert result.psi_low < result.psi < result.psi_high
        assert result.psi_high - result.psi_low < result.psi  # and is informative


def test_pairing_narrows_the_interval_for_correlated_rows():
    # a candidate tracking its baseline: the pairs share most of their variation, so the
    # joint resample varies the two histograms together and the PSI less
    rng = np.random.default_rng(RNG_SEED + 8)
    reference = rng.normal(size=3000)
    current = reference + 0.4 + rng.normal(0, 0.2, size=3000)
    paired = compare_distributions(reference, current, seed=4, paired=True)
    unpaired = compare_distributions(reference, current, seed=4, paired=False)
    assert paired.psi == unpaired.psi
    assert paired.psi_high - paired.psi_low < 0.7 * (unpaired.psi_high - unpaired.psi_low)


def test_ten_thousand_rows_and_a_thousand_resamples_are_fast():
    rng = np.random.default_rng(RNG_SEED + 9)
    reference, current = rng.normal(size=10_000), rng.normal(0.1, 1.0, size=10_000)
    for paired in (True, False):
        started = time.perf_counter()
        compare_distributions(reference, current, resamples=1000, seed=0, paired=paired)
        assert time.perf_counter() - started < 2.0  # about 0.2 s on two cores


def test_to_json_holds_plain_values():
    result = compare_distributions(SMALL_REFERENCE, SMALL_CURRENT, bins=5, resamples=40, seed=2, paired=True)
    record = result.to_json()
    assert list(record) == [field.name for field in dataclasses.fields(DriftStatistics)]
    assert all(type(value) in (float, int, bool) for value in record.values())
    assert record["paired"] is True and record["bins"] == 5 and record["confidence"] == pytest.approx(0.9)
    assert json.loads(json.dumps(record)) == record
    broken = dataclasses.replace(result, psi_high=math.inf, ks_p_value=math.nan).to_json()
    assert broken["psi_high"] is None and broken["ks_p_value"] is None


# --- refusals ----------------------------------------------------------------------------------------


def test_non_finite_values_are_refused_naming_the_side_and_count():
    good = np.arange(100.0)
    bad = good.copy()
    bad[[3, 50]] = [np.nan, np.inf]
    with pytest.raises(MetricInputError, match=r"current values: 2 of 100 values are NaN or infinite"):
        compare_distributions(good, bad, seed=0, paired=True)
    with pytest.raises(MetricInputError, match=r"reference values: 2 of 100"):
        psi(bad, good)
    with pytest.raises(MetricInputError, match=r"reference values: 2 of 100"):
        ks(bad, good)
    with pytest.raises(MetricInputError, match=r"current values: 2 of 100"):
        kl_divergence(good, bad)


def test_bad_shapes_types_and_sizes_are_refused():
    with pytest.raises(MetricInputError, match=r"reference values: expected a 1-D array, got shape \(5, 2\)"):
        psi(np.zeros((5, 2)), np.zeros(5))
    with pytest.raises(MetricInputError, match=r"current values: expected numbers"):
        psi([1.0, 2.0], ["a", "b"])
    with pytest.raises(MetricInputError, match=r"current values: at least 2 needed, got 1"):
        compare_distributions([1.0, 2.0], [1.0], seed=0, paired=False)
    with pytest.raises(MetricInputError, match=r"reference values: at least 2 needed, got 0"):
        ks([], [1.0, 2.0])
    with pytest.raises(MetricInputError, match=r"10 reference and 9 current"):
        compare_distributions(np.arange(10.0), np.arange(9.0), seed=0, paired=True)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"bins": 1}, "bins must be an integer >= 2"),
        ({"bins": 2.5}, "bins must be an integer >= 2"),
        ({"bins": True}, "bins must be an integer >= 2"),
        ({"alpha": 0.0}, "alpha must lie strictly between 0 and 0.5"),
        ({"alpha": 0.5}, "alpha must lie strictly between 0 and 0.5"),
        ({"resamples": 1}, "resamples must be an integer >= 2"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"paired": 1}, "paired must be True or False"),
    ],
)
def test_bad_arguments_are_refused(arguments, message):
    options = {"seed": 0, "paired": False, **arguments}
    with pytest.raises(ValueError, match=message):
        compare_distributions(np.arange(10.0), np.arange(10.0), **options)


def test_bins_are_checked_by_the_point_statistics_too():
    for function in (psi, kl_divergence):
        with pytest.raises(ValueError, match="bins must be an integer >= 2"):
            function([1.0, 2.0], [1.0, 2.0], bins=1)
    with pytest.raises(ValueError, match="bins must be an integer >= 2"):
        bin_edges([1.0, 2.0], bins=0)


# --- simulations (slow) ------------------------------------------------------------------------------

ALPHA = 0.05
REPLICATES = 400


def _true_psi(shift: float, bins: int = 10) -> float:
    """PSI of N(shift, 1) against N(0, 1) over N(0, 1)'s true equal-frequency bins.

    The reference's proportions are 1/bins by construction; the current's are differences of
    the normal CDF at the true quantiles, moved by ``shift``.
    """
    cuts = np.concatenate([[-np.inf], stats.norm.ppf(np.arange(1, bins) / bins), [np.inf]])
    c = np.diff(stats.norm.cdf(cuts - shift))
    r = np.full(bins, 1 / bins)
    return float(np.sum((c - r) * np.log(c / r)))


def _mc_tolerance(p: float, replicates: int = REPLICATES) -> float:
    return 3 * math.sqrt(p * (1 - p) / replicates)


def _simulate(n: int, shift: float, rho: float, paired: bool, seed: int) -> list[DriftStatistics]:
    rng = np.random.default_rng(seed)
    runs = []
    for r in range(REPLICATES):
        reference = rng.normal(size=n)
        if paired:  # correlated pairs whose marginal is N(shift, 1)
            current = rho * reference + math.sqrt(1 - rho**2) * rng.normal(size=n) + shift
        else:
            current = rng.normal(shift, 1.0, size=n)
        runs.append(compare_distributions(reference, current, alpha=ALPHA, resamples=1000, seed=r, paired=paired))
    return runs


def test_true_psi_of_a_half_sd_shift():
    # closed form against numerical integration of the densities over the bins
    cuts = stats.norm.ppf(np.arange(1, 10) / 10)
    bounds = [-np.inf, *cuts, np.inf]
    c = [stats.norm(0.5, 1).expect(lambda x: 1.0, lb=lo, ub=hi) for lo, hi in zip(bounds[:-1], bounds[1:])]
    integrated = sum((ci - 0.1) * math.log(ci / 0.1) for ci in c)
    assert _true_psi(0.5) == pytest.approx(integrated, rel=1e-6)
    assert _true_psi(0.5) == pytest.approx(0.2377, abs=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("n", "rho", "paired", "seed"),
    [(1000, 0.0, False, 301), (1000, 0.8, True, 302)],
)
def test_the_upper_bound_covers_the_true_psi(n, rho, paired, seed):
    """A half-sd shift (true PSI 0.238), 1,000 rows, 400 replicates: ``psi_high >= truth``
    in at least 1 - alpha - 3 MC SE (0.917) of them.

    The plug-in PSI is biased upwards (noise in the proportions only adds divergence: about
    (bins - 1) (1/n_reference + 1/n_current) under no drift), and the bootstrap replicates
    add that bias again, so the upper bound is conservative. Measured (seeds as here): mean
    plug-in 0.255 against 0.238; unpaired 0.998 upper, with the lower bound covering only
    0.820 against 0.95; paired (rho 0.8) 1.000 upper, 0.642 lower. Smaller samples are worse
    (300 replicates, 200 rows, 0.3 sd shift, true PSI 0.086): plug-in 0.19, upper 1.000,
    lower 0.137 unpaired and 0.043 paired. Gate on ``psi_high``, never on ``psi_low``.
    """
    truth = _true_psi(0.5)
    runs = _simulate(n, 0.5, rho, paired, seed)
    upper = np.mean([r.psi_high >= truth for r in runs])
    lower = np.mean([r.psi_low <= truth for r in runs])
    mean_estimate = np.mean([r.psi for r in runs])
    print(
        f"\n{'paired' if paired else 'unpaired'} n={n} rho={rho}: true PSI {truth:.4f}, mean plug-in {mean_estimate:.4f}, "
        f"psi_high covers {upper:.3f}, psi_low covers {lower:.3f} (nominal {1 - ALPHA})"
    )
    assert upper >= 1 - ALPHA - _mc_tolerance(1 - ALPHA)
    assert mean_estimate > truth  # the upward bias that makes the upper bound conservative
