"""Closed-form cross-checks: DeLong against the naive O(m n) definition and sklearn, exact
McNemar against scipy's binomial test, paired t against scipy.stats.ttest_rel."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.special import ndtr, ndtri
from sklearn.metrics import roc_auc_score

from pytest_promote.stats.crosscheck import CrossCheck, delong, mcnemar_exact, paired_t

REL = 1e-12


def scored_pair(n: int, seed: int, decimals: int | None = None):
    """Labels and two correlated score vectors; rounding creates ties within and across classes."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n).astype(bool)
    shared = rng.normal(size=n)
    cand = 1.2 * y + shared + 0.6 * rng.normal(size=n)
    base = 0.8 * y + shared + 0.6 * rng.normal(size=n)
    if decimals is not None:
        cand, base = np.round(cand, decimals), np.round(base, decimals)
    return y, cand, base


def naive_delong(y, scores_a, scores_b):
    """DeLong, DeLong & Clarke-Pearson (1988) from the kernel psi, pair by pair: (delta, se)."""

    def components(scores):
        x, z = scores[y][:, None], scores[~y][None, :]
        psi = (x > z) + 0.5 * (x == z)
        return psi.mean(), psi.mean(axis=1), psi.mean(axis=0)

    auc_a, v10_a, v01_a = components(scores_a)
    auc_b, v10_b, v01_b = components(scores_b)
    m, n = len(v10_a), len(v01_a)
    s10 = np.cov(np.vstack([v10_a, v10_b]))
    s01 = np.cov(np.vstack([v01_a, v01_b]))
    s = s10 / m + s01 / n
    return auc_a - auc_b, math.sqrt(s[0, 0] + s[1, 1] - 2 * s[0, 1])


# --- DeLong -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("decimals", [None, 1, 0])
@pytest.mark.parametrize("seed", [0, 1])
def test_delong_matches_naive_definition(seed, decimals):
    y, cand, base = scored_pair(300, seed, decimals)
    if decimals is not None:
        assert len(np.unique(cand)) < len(cand)  # the rounding really produced ties
    delta, se = naive_delong(y, cand, base)
    check = delong(y, cand, base, alpha=0.05)
    assert check.method == "delong"
    assert check.delta == pytest.approx(delta, rel=REL)
    assert check.delta == pytest.approx(roc_auc_score(y, cand) - roc_auc_score(y, base), rel=REL)
    assert check.se == pytest.approx(se, rel=REL)
    z = ndtri(0.95)
    assert check.low == pytest.approx(delta - z * se, rel=REL)
    assert check.high == pytest.approx(delta + z * se, rel=REL)
    assert check.p_value == pytest.approx(2 * ndtr(-abs(delta) / se), rel=REL)


def test_delong_orientation_and_alpha():
    y, cand, base = scored_pair(400, 3)
    forward = delong(y, cand, base, alpha=0.05)
    backward = delong(y, base, cand, alpha=0.05)
    assert forward.delta > 0  # the candidate separates the classes better by construction
    assert backward.delta == pytest.approx(-forward.delta, rel=REL)
    assert backward.low == pytest.approx(-forward.high, rel=REL)
    assert backward.p_value == pytest.approx(forward.p_value, rel=REL)
    wider = delong(y, cand, base, alpha=0.025)
    assert wider.low < forward.low and wider.high > forward.high


def test_delong_accepts_zero_one_labels():
    y, cand, base = scored_pair(120, 4, decimals=1)
    assert delong(y.astype(int), cand, base, alpha=0.05) == delong(y, cand, base, alpha=0.05)


def test_delong_identical_scores_is_degenerate():
    y, cand, _ = scored_pair(100, 5, decimals=1)
    check = delong(y, cand, cand.copy(), alpha=0.05)
    assert (check.delta, check.low, check.high, check.p_value, check.se) == (0.0, 0.0, 0.0, 1.0, 0.0)


def test_delong_perfect_candidate_against_constant_baseline():
    # candidate components are all 1, baseline components all 1/2: no spread, a certain gain
    y = np.array([0, 0, 0, 1, 1, 1], dtype=bool)
    check = delong(y, np.arange(6.0), np.zeros(6), alpha=0.05)
    assert (check.delta, check.low, check.high, check.p_value, check.se) == (0.5, 0.5, 0.5, 0.0, 0.0)


@pytest.mark.parametrize("y", [np.ones(5, bool), np.zeros(5, bool), np.array([1, 0, 0, 0], bool)])
def test_delong_needs_both_classes(y):
    scores = np.linspace(0, 1, len(y))
    with pytest.raises(ValueError, match="positives"):
        delong(y, scores, scores[::-1], alpha=0.05)


# --- exact McNemar ----------------------------------------------------------------------------------


def correct_pair(b: int, c: int, both: int, neither: int):
    """0/1 correctness vectors with b candidate-only, c baseline-only wins, shuffled."""
    cand = np.array([1] * b + [0] * c + [1] * both + [0] * neither)
    base = np.array([0] * b + [1] * c + [1] * both + [0] * neither)
    order = np.random.default_rng(b * 1000 + c).permutation(len(cand))
    return cand[order], base[order]


@pytest.mark.parametrize(
    ("b", "c", "both", "neither"),
    [(0, 0, 10, 3), (5, 5, 20, 2), (12, 3, 70, 15), (3, 12, 70, 15), (0, 7, 40, 1), (9, 0, 40, 1), (480, 430, 8000, 90)],
)
@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_mcnemar_matches_scipy_binomtest(b, c, both, neither, alpha):
    cand, base = correct_pair(b, c, both, neither)
    n, d = len(cand), b + c
    check = mcnemar_exact(cand, base, alpha=alpha)
    assert check.method == "mcnemar_exact" and check.se is None
    assert check.delta == pytest.approx((b - c) / n, rel=REL, abs=0)
    if d == 0:
        assert (check.low, check.high, check.p_value) == (0.0, 0.0, 1.0)
        return
    reference = stats.binomtest(b, d, 0.5)
    assert check.p_value == pytest.approx(reference.pvalue, rel=1e-10)
    ci = reference.proportion_ci(confidence_level=1 - 2 * alpha, method="exact")
    assert check.low == pytest.approx(d / n * (2 * ci.low - 1), rel=1e-10)
    assert check.high == pytest.approx(d / n * (2 * ci.high - 1), rel=1e-10)
    assert check.low <= check.delta <= check.high


def test_mcnemar_sign_follows_the_candidate():
    cand, base = correct_pair(20, 4, 50, 6)
    better, worse = mcnemar_exact(cand, base, alpha=0.05), mcnemar_exact(base, cand, alpha=0.05)
    assert better.delta > 0 and better.low > 0
    assert worse.delta == -better.delta and worse.high == pytest.approx(-better.low, rel=REL)
    assert worse.p_value == better.p_value < 0.01


# --- paired t ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("higher_is_better", [True, False])
@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_paired_t_matches_scipy_ttest_rel(higher_is_better, alpha):
    rng = np.random.default_rng(7)
    shared = rng.normal(size=60)
    cand = shared + 0.2 + 0.5 * rng.normal(size=60)
    base = shared + 0.5 * rng.normal(size=60)
    first, second = (cand, base) if higher_is_better else (base, cand)
    reference = stats.ttest_rel(first, second)
    ci = reference.confidence_interval(confidence_level=1 - 2 * alpha)
    check = paired_t(cand, base, alpha=alpha, higher_is_better=higher_is_better)
    assert check.method == "paired_t"
    assert check.delta == pytest.approx(np.mean(first - second), rel=REL)
    assert check.se == pytest.approx(check.delta / reference.statistic, rel=REL)
    assert check.low == pytest.approx(ci.low, rel=1e-10)
    assert check.high == pytest.approx(ci.high, rel=1e-10)
    assert check.p_value == pytest.approx(reference.pvalue, rel=1e-10)


def test_paired_t_orientations_mirror():
    rng = np.random.default_rng(8)
    cand, base = rng.normal(size=30), rng.normal(size=30)
    up = paired_t(cand, base, alpha=0.05, higher_is_better=True)
    down = paired_t(cand, base, alpha=0.05, higher_is_better=False)
    assert down.delta == pytest.approx(-up.delta, rel=REL)
    assert down.low == pytest.approx(-up.high, rel=REL)
    assert down.p_value == pytest.approx(up.p_value, rel=REL)


def test_paired_t_identical_and_constant_shift():
    values = np.linspace(0, 1, 9)
    same = paired_t(values, values.copy(), alpha=0.05, higher_is_better=False)
    assert (same.delta, same.low, same.high, same.p_value, same.se) == (0.0, 0.0, 0.0, 1.0, 0.0)
    shifted = paired_t(values, values - 1.0, alpha=0.05, higher_is_better=True)
    assert shifted.delta == pytest.approx(1.0) and shifted.p_value < 1e-12


@pytest.mark.parametrize("n", [0, 1])
def test_paired_t_needs_two_examples(n):
    with pytest.raises(ValueError, match="at least 2"):
        paired_t(np.ones(n), np.zeros(n), alpha=0.05, higher_is_better=True)


@pytest.mark.parametrize("alpha", [0.0, 0.5, -0.1])
def test_alpha_out_of_range_is_rejected(alpha):
    with pytest.raises(ValueError, match="alpha"):
        paired_t(np.arange(4.0), np.zeros(4), alpha=alpha, higher_is_better=True)


# --- JSON -------------------------------------------------------------------------------------------


def test_to_json_maps_non_finite_to_none():
    check = CrossCheck("paired_t", delta=0.25, low=math.nan, high=math.inf, p_value=-math.inf, se=np.float64(0.1))
    assert check.to_json() == {"method": "paired_t", "delta": 0.25, "low": None, "high": None, "p_value": None, "se": 0.1}
    assert type(check.to_json()["se"]) is float
    assert mcnemar_exact(np.ones(3), np.zeros(3), alpha=0.05).to_json()["se"] is None
