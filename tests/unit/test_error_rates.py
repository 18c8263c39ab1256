"""Simulations behind the README's statistical claims.

Each test draws R independent paired data sets from a known population, runs the gate's
bootstrap on each and counts how often the claim held. Tolerances are 3 Monte Carlo
standard errors of a proportion over R replicates: sqrt(p(1-p)/R).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from pytest_promote.stats import paired_bootstrap

pytestmark = pytest.mark.slow

REPLICATES = 400
RESAMPLES = 1000
ALPHA = 0.05


def _mc_tolerance(p: float, replicates: int = REPLICATES) -> float:
    return 3 * math.sqrt(p * (1 - p) / replicates)


def _paired_correctness(rng: np.random.Generator, n: int, joint: dict[tuple[int, int], float]):
    """Labels and predictions whose (candidate correct, baseline correct) pairs follow ``joint``."""
    cells = list(joint)
    drawn = rng.choice(len(cells), size=n, p=[joint[c] for c in cells])
    correct = np.array(cells)[drawn]
    y = rng.integers(0, 2, size=n)
    return y, np.where(correct[:, 0] == 1, y, 1 - y), np.where(correct[:, 1] == 1, y, 1 - y)


def _run(rng, n, joint, method, seed):
    y, cand, base = _paired_correctness(rng, n, joint)
    return paired_bootstrap("accuracy", y, cand, base, alpha=ALPHA, resamples=RESAMPLES, method=method, seed=seed)


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_accuracy_difference_interval_covers_at_its_nominal_rate(method):
    # P(c, b): candidate accuracy 0.85, baseline 0.82, true delta +0.03
    joint = {(1, 1): 0.75, (1, 0): 0.10, (0, 1): 0.07, (0, 0): 0.08}
    true_delta = 0.03
    rng = np.random.default_rng(101)
    results = [_run(rng, 500, joint, method, seed) for seed in range(REPLICATES)]
    covered = np.mean([r.low <= true_delta <= r.high for r in results])
    confidence = 1 - 2 * ALPHA  # the reported interval is two-sided 90%
    assert abs(covered - confidence) <= _mc_tolerance(confidence), covered
    # the lower end alone is a one-sided 95% bound: it exceeds the truth at most alpha of the time
    above = np.mean([r.low > true_delta for r in results])
    assert above <= ALPHA + _mc_tolerance(ALPHA), above


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_superiority_gate_promotes_an_equal_candidate_at_most_alpha_of_the_time(method):
    # A/A: both models 82% accurate, disagreeing on 16% of examples
    joint = {(1, 1): 0.74, (1, 0): 0.08, (0, 1): 0.08, (0, 0): 0.10}
    rng = np.random.default_rng(202)
    promoted = np.mean([_run(rng, 500, joint, method, seed).low > 0 for seed in range(REPLICATES)])
    assert promoted <= ALPHA + _mc_tolerance(ALPHA), promoted


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_non_inferiority_gate_promotes_a_candidate_exactly_at_the_margin_at_most_alpha_of_the_time(method):
    # the candidate is exactly 1 point worse: the least-favourable case for min_delta=-0.01
    joint = {(1, 1): 0.74, (1, 0): 0.07, (0, 1): 0.08, (0, 0): 0.11}
    rng = np.random.default_rng(303)
    promoted = np.mean([_run(rng, 2000, joint, method, seed).low > -0.01 for seed in range(REPLICATES)])
    assert promoted <= ALPHA + _mc_tolerance(ALPHA), promoted


def test_non_inferiority_gate_passes_a_truly_better_candidate_with_high_power():
    # not a guarantee the README makes, but a gate that blocks good models is useless
    joint = {(1, 1): 0.75, (1, 0): 0.10, (0, 1): 0.07, (0, 0): 0.08}  # +3 points
    rng = np.random.default_rng(404)
    passed = np.mean([_run(rng, 2000, joint, "bca", seed).low > -0.01 for seed in range(200)])
    assert passed >= 0.95, passed


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_roc_auc_difference_interval_covers_at_its_nominal_rate(method):
    # binormal scores: AUC = Phi(mu / sqrt(2)) for unit-variance classes, whatever the pairing
    mu_candidate, mu_baseline, n = 1.2, 1.0, 400
    true_delta = norm.cdf(mu_candidate / math.sqrt(2)) - norm.cdf(mu_baseline / math.sqrt(2))
    rng = np.random.default_rng(505)
    covered = []
    for seed in range(REPLICATES):
        y = rng.integers(0, 2, size=n)
        shared = rng.normal(size=n)  # correlated noise: the two models share errors
        cand = mu_candidate * y + math.sqrt(0.5) * (shared + rng.normal(size=n))
        base = mu_baseline * y + math.sqrt(0.5) * (shared + rng.normal(size=n))
        result = paired_bootstrap("roc_auc", y, cand, base, alpha=ALPHA, resamples=RESAMPLES, method=method, seed=seed)
        covered.append(result.low <= true_delta <= result.high)
    confidence = 1 - 2 * ALPHA
    assert abs(np.mean(covered) - confidence) <= _mc_tolerance(confidence), np.mean(covered)
