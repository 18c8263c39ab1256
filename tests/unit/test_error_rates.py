"""Simulations behind the README's statistical claims.

Each test draws R independent paired data sets from a known population, runs the gate's
bootstrap on each (B = 1,000 resamples, one thread) and counts how often the claim held.
Tolerances are 3 Monte Carlo standard errors of a proportion over R replicates:
sqrt(p(1-p)/R). Coverage claims use alpha = 0.025, i.e. the reported two-sided 1 - 2*alpha
= 95% interval, and must land both in the 93-97% band and within 3 MC SE of 0.95 (at
R = 1,000 the two coincide: +-0.021; at R = 800, +-0.023). Gate claims use alpha = 0.05, the
one-sided level a gate's rule is tested at: promoting a candidate that does not meet the rule
must happen in at most alpha + 3 MC SE of replicates (+0.021 at R = 1,000, +0.033 at R = 400).

Claims:

* accuracy difference, n = 500: 95% interval coverage (percentile and BCa);
* ROC-AUC difference, binormal correlated scores, n = 1,000: 95% interval coverage;
* A/A (equally good models): the superiority gate (``min_delta=0``) promotes at most alpha
  (accuracy, n = 500; AUC, n = 1,000);
* non-inferiority (``min_delta=-0.01``): a candidate exactly at the margin is promoted at most
  alpha of the time (n = 2,000); one truly 2 points worse is blocked in at least 95% of
  replicates (n = 20,000);
* power: a candidate truly 3 points better passes (n = 2,000); not a guarantee;
* sample weights 1/2/3 correlated with correctness: coverage of the weighted difference;
* groups of 10 correlated rows: the grouped (cluster) bootstrap covers at the nominal rate,
  the row-wise bootstrap of the same data under-covers.

Run with ``-s`` to see each measured figure.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from pytest_promote.stats import paired_bootstrap

pytestmark = pytest.mark.slow

REPLICATES = 1000  # accuracy: the exact multinomial path costs well under a millisecond
AUC_REPLICATES = 800  # coverage of an AUC difference (about 0.03-0.06 s per replicate at n = 1,000)
GATE_REPLICATES = 400  # the AUC A/A check and the large-n gate checks
RESAMPLES = 1000
ALPHA = 0.05  # a gate's one-sided level
COVERAGE_ALPHA = 0.025  # the reported interval is two-sided 1 - 2*alpha = 95%
CONFIDENCE = 1 - 2 * COVERAGE_ALPHA
COVERAGE_BAND = (0.93, 0.97)


def _mc_tolerance(p: float, replicates: int = REPLICATES) -> float:
    return 3 * math.sqrt(p * (1 - p) / replicates)


def _assert_nominal_coverage(covered: float, replicates: int) -> None:
    low, high = COVERAGE_BAND
    assert low <= covered <= high, covered
    assert abs(covered - CONFIDENCE) <= _mc_tolerance(CONFIDENCE, replicates), covered


def _cells(rng: np.random.Generator, n: int, joint: dict[tuple[int, int], float]) -> np.ndarray:
    """(candidate correct, baseline correct) pairs drawn from ``joint``, shape (n, 2)."""
    cells = list(joint)
    return np.array(cells)[rng.choice(len(cells), size=n, p=[joint[c] for c in cells])]


def _predictions(rng: np.random.Generator, correct: np.ndarray):
    """Labels and both models' predictions, right or wrong as ``correct`` says."""
    y = rng.integers(0, 2, size=len(correct))
    return y, np.where(correct[:, 0] == 1, y, 1 - y), np.where(correct[:, 1] == 1, y, 1 - y)


def _paired_correctness(rng: np.random.Generator, n: int, joint: dict[tuple[int, int], float]):
    """Labels and predictions whose (candidate correct, baseline correct) pairs follow ``joint``."""
    return _predictions(rng, _cells(rng, n, joint))


def _run(rng, n, joint, method, seed, alpha=ALPHA):
    y, cand, base = _paired_correctness(rng, n, joint)
    return paired_bootstrap(
        "accuracy", y, cand, base, alpha=alpha, resamples=RESAMPLES, method=method, seed=seed, threads=1
    )


def _binormal_scores(rng: np.random.Generator, n: int, mu_candidate: float, mu_baseline: float, rho: float = 0.5):
    """Scores N(mu * y, 1) for each model, correlated ``rho`` between the models within a class.

    Each model's noise is sqrt(rho) * shared + sqrt(1 - rho) * own: unit variance whatever rho,
    so each marginal is binormal with AUC = Phi(mu / sqrt(2)), whatever the class balance.
    """
    y = rng.integers(0, 2, size=n)
    shared = rng.normal(size=n)  # the two models share errors
    cand = mu_candidate * y + math.sqrt(rho) * shared + math.sqrt(1 - rho) * rng.normal(size=n)
    base = mu_baseline * y + math.sqrt(rho) * shared + math.sqrt(1 - rho) * rng.normal(size=n)
    return y, cand, base


def _binormal_auc(mu: float) -> float:
    return float(norm.cdf(mu / math.sqrt(2)))


# --- 1. coverage of an accuracy difference ---------------------------------------------------------


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_accuracy_difference_interval_covers_at_its_nominal_rate(method):
    # P(c, b): candidate accuracy 0.85, baseline 0.82, true delta +0.03
    joint = {(1, 1): 0.75, (1, 0): 0.10, (0, 1): 0.07, (0, 0): 0.08}
    true_delta = 0.03
    rng = np.random.default_rng(101)
    results = [_run(rng, 500, joint, method, seed, alpha=COVERAGE_ALPHA) for seed in range(REPLICATES)]
    covered = float(np.mean([r.low <= true_delta <= r.high for r in results]))
    # the lower end alone is a one-sided 97.5% bound: it exceeds the truth at most alpha of the time
    above = float(np.mean([r.low > true_delta for r in results]))
    print(f"accuracy coverage {method} (n=500, R={REPLICATES}): {covered:.3f}; low end above truth: {above:.3f}")
    _assert_nominal_coverage(covered, REPLICATES)
    assert above <= COVERAGE_ALPHA + _mc_tolerance(COVERAGE_ALPHA), above


# --- 2. coverage of a ROC-AUC difference -----------------------------------------------------------


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_roc_auc_difference_interval_covers_at_its_nominal_rate(method):
    # bootstrap AUC intervals run narrow at a few hundred rows; at n = 1,000 they are nominal
    mu_candidate, mu_baseline, n = 1.2, 1.0, 1000
    true_delta = _binormal_auc(mu_candidate) - _binormal_auc(mu_baseline)  # 0.8019 - 0.7602 = +0.0417
    rng = np.random.default_rng(505)
    covered, above = [], []
    for seed in range(AUC_REPLICATES):
        y, cand, base = _binormal_scores(rng, n, mu_candidate, mu_baseline)
        result = paired_bootstrap(
            "roc_auc", y, cand, base, alpha=COVERAGE_ALPHA, resamples=RESAMPLES, method=method, seed=seed, threads=1
        )
        covered.append(result.low <= true_delta <= result.high)
        above.append(result.low > true_delta)
    rate, above_rate = float(np.mean(covered)), float(np.mean(above))
    print(f"roc_auc coverage {method} (n={n}, R={AUC_REPLICATES}): {rate:.3f}; low end above truth: {above_rate:.3f}")
    _assert_nominal_coverage(rate, AUC_REPLICATES)
    assert above_rate <= COVERAGE_ALPHA + _mc_tolerance(COVERAGE_ALPHA, AUC_REPLICATES), above_rate


# --- 3. A/A: the superiority gate --------------------------------------------------------------------


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_superiority_gate_promotes_an_equal_candidate_at_most_alpha_of_the_time(method):
    # A/A: both models 82% accurate, disagreeing on 16% of examples
    joint = {(1, 1): 0.74, (1, 0): 0.08, (0, 1): 0.08, (0, 0): 0.10}
    rng = np.random.default_rng(202)
    promoted = float(np.mean([_run(rng, 500, joint, method, seed).low > 0 for seed in range(REPLICATES)]))
    print(f"accuracy A/A superiority promoted {method} (n=500, R={REPLICATES}): {promoted:.3f}")
    assert promoted <= ALPHA + _mc_tolerance(ALPHA), promoted


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_superiority_gate_promotes_an_equal_roc_auc_candidate_at_most_alpha_of_the_time(method):
    # A/A on AUC: both models' scores N(1.0 * y, 1), correlated 0.5
    n = 1000
    rng = np.random.default_rng(606)
    promoted = []
    for seed in range(GATE_REPLICATES):
        y, cand, base = _binormal_scores(rng, n, 1.0, 1.0)
        result = paired_bootstrap(
            "roc_auc", y, cand, base, alpha=ALPHA, resamples=RESAMPLES, method=method, seed=seed, threads=1
        )
        promoted.append(result.low > 0)
    rate = float(np.mean(promoted))
    print(f"roc_auc A/A superiority promoted {method} (n={n}, R={GATE_REPLICATES}): {rate:.3f}")
    assert rate <= ALPHA + _mc_tolerance(ALPHA, GATE_REPLICATES), rate


# --- 4./5. the non-inferiority gate ----------------------------------------------------------------


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_non_inferiority_gate_promotes_a_candidate_exactly_at_the_margin_at_most_alpha_of_the_time(method):
    # the candidate is exactly 1 point worse: the least-favourable case for min_delta=-0.01
    joint = {(1, 1): 0.74, (1, 0): 0.07, (0, 1): 0.08, (0, 0): 0.11}
    rng = np.random.default_rng(303)
    promoted = float(np.mean([_run(rng, 2000, joint, method, seed).low > -0.01 for seed in range(REPLICATES)]))
    print(f"non-inferiority at the margin promoted {method} (n=2000, R={REPLICATES}): {promoted:.3f}")
    assert promoted <= ALPHA + _mc_tolerance(ALPHA), promoted


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_non_inferiority_gate_blocks_a_candidate_two_points_worse(method):
    # candidate 0.80 against baseline 0.82 (true delta -0.02), disagreeing on 16% of examples;
    # margin 1 point: min_delta=-0.01 must block it in at least 95% of replicates
    joint = {(1, 1): 0.73, (1, 0): 0.07, (0, 1): 0.09, (0, 0): 0.11}
    rng = np.random.default_rng(707)
    results = [_run(rng, 20_000, joint, method, seed) for seed in range(GATE_REPLICATES)]
    blocked = float(np.mean([r.low <= -0.01 for r in results]))
    print(f"non-inferiority blocks 2 points worse {method} (n=20000, R={GATE_REPLICATES}): {blocked:.3f}")
    assert blocked >= 0.95, blocked


def test_non_inferiority_gate_passes_a_truly_better_candidate_with_high_power():
    # not a guarantee the README makes, but a gate that blocks good models is useless
    joint = {(1, 1): 0.75, (1, 0): 0.10, (0, 1): 0.07, (0, 0): 0.08}  # +3 points
    rng = np.random.default_rng(404)
    passed = float(np.mean([_run(rng, 2000, joint, "bca", seed).low > -0.01 for seed in range(GATE_REPLICATES)]))
    print(f"non-inferiority power, 3 points better, bca (n=2000, R={GATE_REPLICATES}): {passed:.3f}")
    assert passed >= 0.95, passed


# --- 6. weights and groups ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_weighted_accuracy_difference_interval_covers_at_its_nominal_rate(method):
    # weights 1, 2, 3 equally often; the heavier the example, the further ahead the candidate:
    # delta 0, +0.03, +0.06, so the weighted truth is (0 + 2*0.03 + 3*0.06) / 6 = +0.04
    # (the unweighted one would be +0.03)
    by_weight = {
        1: {(1, 1): 0.74, (1, 0): 0.08, (0, 1): 0.08, (0, 0): 0.10},
        2: {(1, 1): 0.75, (1, 0): 0.10, (0, 1): 0.07, (0, 0): 0.08},
        3: {(1, 1): 0.72, (1, 0): 0.13, (0, 1): 0.07, (0, 0): 0.08},
    }
    true_delta, n = 0.04, 500
    rng = np.random.default_rng(808)
    covered = []
    for seed in range(REPLICATES):
        weight = rng.integers(1, 4, size=n)
        correct = np.empty((n, 2), dtype=int)
        for value, joint in by_weight.items():
            correct[weight == value] = _cells(rng, int(np.sum(weight == value)), joint)
        y, cand, base = _predictions(rng, correct)
        result = paired_bootstrap(
            "accuracy", y, cand, base, alpha=COVERAGE_ALPHA, resamples=RESAMPLES, method=method, seed=seed,
            sample_weight=weight, threads=1,
        )
        covered.append(result.low <= true_delta <= result.high)
    rate = float(np.mean(covered))
    print(f"weighted accuracy coverage {method} (n={n}, weights 1/2/3, R={REPLICATES}): {rate:.3f}")
    _assert_nominal_coverage(rate, REPLICATES)


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_grouped_bootstrap_covers_where_rows_within_a_group_are_correlated(method):
    # 200 groups of 10 rows; each group is, with probability 1/2, one where the candidate is
    # strong (delta +0.18) or weak (delta -0.12): true delta +0.03, and rows of a group share
    # their delta (intra-class correlation of the per-row difference about 0.12, design effect
    # about 2). Resampling whole groups covers at the nominal rate; resampling rows as if they
    # were independent under-covers (about 82%).
    strong = {(1, 1): 0.70, (1, 0): 0.20, (0, 1): 0.02, (0, 0): 0.08}
    weak = {(1, 1): 0.70, (1, 0): 0.02, (0, 1): 0.14, (0, 0): 0.14}
    true_delta, groups, size = 0.03, 200, 10
    group_of_row = np.repeat(np.arange(groups), size)
    rng = np.random.default_rng(909)
    grouped, ungrouped = [], []
    for seed in range(REPLICATES):
        is_strong = np.repeat(rng.random(groups) < 0.5, size)
        correct = np.empty((groups * size, 2), dtype=int)
        correct[is_strong] = _cells(rng, int(is_strong.sum()), strong)
        correct[~is_strong] = _cells(rng, int((~is_strong).sum()), weak)
        y, cand, base = _predictions(rng, correct)
        common = dict(alpha=COVERAGE_ALPHA, resamples=RESAMPLES, method=method, seed=seed, threads=1)
        by_group = paired_bootstrap("accuracy", y, cand, base, groups=group_of_row, **common)
        by_row = paired_bootstrap("accuracy", y, cand, base, **common)
        grouped.append(by_group.low <= true_delta <= by_group.high)
        ungrouped.append(by_row.low <= true_delta <= by_row.high)
    grouped_rate, ungrouped_rate = float(np.mean(grouped)), float(np.mean(ungrouped))
    print(
        f"grouped accuracy coverage {method} ({groups} groups of {size}, R={REPLICATES}): {grouped_rate:.3f}; "
        f"ungrouped: {ungrouped_rate:.3f}"
    )
    _assert_nominal_coverage(grouped_rate, REPLICATES)
    assert ungrouped_rate < grouped_rate, (ungrouped_rate, grouped_rate)
    # and not by Monte Carlo noise: the row-wise interval misses well beyond the tolerance
    assert ungrouped_rate < CONFIDENCE - _mc_tolerance(CONFIDENCE), ungrouped_rate
