"""The paired bootstrap: agreement with scipy and with normal theory, determinism,
chunking independence, orientation and the TOST interval convention."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.special import ndtr, ndtri

from pytest_promote.errors import MetricInputError
from pytest_promote.stats import PairedResult, get_metric, paired_bootstrap
from pytest_promote.stats.bootstrap import BLOCK, resample_weights


def classification_pair(n: int, seed: int = 0):
    """Labels and two correlated classifiers' predicted labels (candidate ~3 points better)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    base_right = rng.uniform(size=n) < 0.82
    # the candidate fixes some of the baseline's mistakes and makes a few of its own
    cand_right = np.where(base_right, rng.uniform(size=n) < 0.97, rng.uniform(size=n) < 0.30)
    cand = np.where(cand_right, y, 1 - y)
    base = np.where(base_right, y, 1 - y)
    return y, cand, base


def regression_pair(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.normal(0, 1, n)
    shared = rng.normal(0, 1, n)
    cand = y + 0.8 * shared + 0.3 * rng.normal(size=n)
    base = y + 0.8 * shared + 0.5 * rng.normal(size=n)
    return y, cand, base


# --- cross-check with scipy.stats.bootstrap --------------------------------------------------------


@pytest.mark.parametrize(("method", "scipy_method"), [("percentile", "percentile"), ("bca", "BCa")])
def test_accuracy_difference_agrees_with_scipy(method: str, scipy_method: str) -> None:
    n, B, alpha = 1000, 20_000, 0.05
    y, cand, base = classification_pair(n, seed=1)
    ours = paired_bootstrap("accuracy", y, cand, base, alpha=alpha, resamples=B, method=method, seed=123)

    cand_correct, base_correct = (cand == y).astype(float), (base == y).astype(float)
    theirs = stats.bootstrap(
        (cand_correct, base_correct),
        lambda c, b, axis: c.mean(axis=axis) - b.mean(axis=axis),
        paired=True,
        vectorized=True,
        n_resamples=B,
        method=scipy_method,
        confidence_level=1 - 2 * alpha,
        random_state=np.random.default_rng(456),
    )
    assert ours.delta == pytest.approx(cand_correct.mean() - base_correct.mean(), abs=1e-15)
    # Tolerance: the bootstrap standard error of the difference is ~0.0115 here; with B=20000
    # the Monte Carlo sd of a 5%/95% quantile is sqrt(.05*.95/B)/phi(1.645) * se ~= 0.0002,
    # about 0.0003 for the difference of two independent runs, and the bootstrap distribution
    # lives on a grid of 1/n = 0.001. 0.0025 is ~8 MC sds and 2.5 grid steps, yet smaller than
    # the 0.0036 shift a two-sided alpha/2 mistake would cause ((1.96-1.645) * se).
    tolerance = 0.0025
    assert ours.se == pytest.approx(theirs.standard_error, abs=0.0005)
    assert ours.low == pytest.approx(theirs.confidence_interval.low, abs=tolerance)
    assert ours.high == pytest.approx(theirs.confidence_interval.high, abs=tolerance)


def test_percentile_matches_normal_theory_for_mean_difference() -> None:
    """For a mean (mae is the mean of |error|) the percentile interval at large n is close to
    delta +/- z * sd(d) / sqrt(n), with d_i = |base error_i| - |cand error_i|."""
    n, B, alpha = 4000, 10_000, 0.05
    y, cand, base = regression_pair(n, seed=2)
    result = paired_bootstrap("mae", y, cand, base, alpha=alpha, resamples=B, method="percentile", seed=9)

    d = np.abs(base - y) - np.abs(cand - y)
    se = d.std(ddof=0) / math.sqrt(n)  # the bootstrap's plug-in standard error
    z = ndtri(1 - alpha)
    assert result.delta == pytest.approx(d.mean(), rel=1e-12)
    assert result.delta > 5 * se  # the candidate really is better: a non-trivial interval
    # Tolerance 0.08 se: the MC sd of a 5% quantile with B=10000 is ~0.021 se, and the
    # skewness of a mean of 4000 terms moves the percentile bounds by well under 0.02 se.
    assert result.se == pytest.approx(se, rel=0.03)
    assert result.low == pytest.approx(d.mean() - z * se, abs=0.08 * se)
    assert result.high == pytest.approx(d.mean() + z * se, abs=0.08 * se)


def test_bca_matches_textbook_formula_with_brute_force_jackknife() -> None:
    """BCa from the same bootstrap replicates, with z0 and the acceleration computed from
    scratch (leave-one-out by deletion) on a skewed statistic (rmse)."""
    n, B, alpha, seed = 150, 2000, 0.1, 77
    rng = np.random.default_rng(5)
    y = rng.normal(size=n)
    cand = y + rng.standard_t(2.5, n) * 0.5
    base = y + rng.standard_t(2.5, n) * 0.6
    result = paired_bootstrap("rmse", y, cand, base, alpha=alpha, resamples=B, method="bca", seed=seed)

    def rmse_with(weights, pred):
        return np.sqrt(weights @ (pred - y) ** 2 / weights.sum(axis=1))

    W = np.vstack([w for _, w in resample_weights(n, B, seed)])
    boot = rmse_with(W, base) - rmse_with(W, cand)  # lower is better: baseline minus candidate
    estimate = math.sqrt(np.mean((base - y) ** 2)) - math.sqrt(np.mean((cand - y) ** 2))
    jack = np.array(
        [
            math.sqrt(np.mean(np.delete(base - y, i) ** 2)) - math.sqrt(np.mean(np.delete(cand - y, i) ** 2))
            for i in range(n)
        ]
    )
    z0 = ndtri((np.sum(boot < estimate) + 0.5 * np.sum(boot == estimate)) / B)
    u = jack.mean() - jack
    a = np.sum(u**3) / (6 * np.sum(u**2) ** 1.5)
    assert abs(a) > 1e-3  # the acceleration matters here
    levels = [ndtr(z0 + (z0 + z) / (1 - a * (z0 + z))) for z in (ndtri(alpha), ndtri(1 - alpha))]
    low, high = np.quantile(boot, levels)
    assert result.low == pytest.approx(low, rel=1e-9, abs=1e-12)
    assert result.high == pytest.approx(high, rel=1e-9, abs=1e-12)
    # and it is not simply the percentile interval
    assert (result.low, result.high) != tuple(np.quantile(boot, [alpha, 1 - alpha]))


# --- the interval convention -----------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.2])
def test_lower_end_is_the_one_sided_bound(alpha: float) -> None:
    n, B, seed = 200, 1000, 4
    y, cand, base = classification_pair(n, seed=3)
    result = paired_bootstrap("accuracy", y, cand, base, alpha=alpha, resamples=B, method="percentile", seed=seed)
    W = np.vstack([w for _, w in resample_weights(n, B, seed)])
    boot = (W @ (cand == y) - W @ (base == y)) / n
    assert result.confidence == pytest.approx(1 - 2 * alpha)
    # the two-sided (1 - 2 alpha) interval's ends are the alpha and 1 - alpha quantiles:
    # its lower end is exactly the one-sided (1 - alpha) lower confidence bound
    # (1e-12: the core subtracts the two models' means, this test the two sums)
    assert result.low == pytest.approx(np.quantile(boot, alpha), abs=1e-12)
    assert result.high == pytest.approx(np.quantile(boot, 1 - alpha), abs=1e-12)
    # a two-sided alpha/2 interval would be strictly wider here
    assert result.low > np.quantile(boot, alpha / 2) + 1e-9
    cand_boot = W @ (cand == y) / n
    assert result.candidate_low == pytest.approx(np.quantile(cand_boot, alpha), abs=1e-12)
    assert result.candidate_high == pytest.approx(np.quantile(cand_boot, 1 - alpha), abs=1e-12)


def test_result_fields() -> None:
    y, cand, base = classification_pair(300, seed=5)
    result = paired_bootstrap("accuracy", y, cand, base, alpha=0.1, resamples=500, method="bca", seed=3)
    assert isinstance(result, PairedResult)
    assert result.metric == "accuracy" and result.higher_is_better
    assert result.candidate == np.mean(cand == y) and result.baseline == np.mean(base == y)
    assert result.alpha == 0.1 and result.confidence == pytest.approx(0.8)
    assert result.method == "bca" and result.resamples == 500 and result.seed == 3 and result.n == 300
    assert result.low <= result.delta <= result.high
    assert result.candidate_low <= result.candidate <= result.candidate_high
    assert result.se > 0


# --- determinism -----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["percentile", "bca"])
@pytest.mark.parametrize("metric", ["accuracy", "roc_auc", "log_loss", "mae", "rmse"])
def test_same_seed_is_bit_identical_and_independent_of_memory_budget(metric: str, method: str) -> None:
    rng = np.random.default_rng(8)
    n = 120
    if metric in ("mae", "rmse"):
        y, cand, base = regression_pair(n, seed=8)
    else:
        y = rng.integers(0, 2, n)
        y[:2] = [0, 1]
        if metric == "accuracy":
            y, cand, base = classification_pair(n, seed=8)
        else:
            cand = np.clip(0.5 * y + rng.uniform(0, 0.6, n), 0.01, 0.99).round(1)
            base = np.clip(0.3 * y + rng.uniform(0, 0.7, n), 0.01, 0.99).round(1)
    kwargs = dict(alpha=0.05, resamples=1001, method=method, seed=2024)  # 1001: a partial last block
    first = paired_bootstrap(metric, y, cand, base, **kwargs)
    again = paired_bootstrap(metric, y, cand, base, **kwargs)
    tiny = paired_bootstrap(metric, y, cand, base, memory_budget=1, **kwargs)  # one block per chunk
    odd = paired_bootstrap(metric, y, cand, base, memory_budget=64 * n * 24, **kwargs)  # 3 blocks per chunk
    assert first == again == tiny == odd  # dataclass equality: every field, bit for bit
    assert not math.isnan(first.low)


def test_different_seed_gives_different_bounds() -> None:
    y, cand, base = regression_pair(300, seed=6)
    one = paired_bootstrap("mae", y, cand, base, resamples=1000, method="percentile", seed=1)
    two = paired_bootstrap("mae", y, cand, base, resamples=1000, method="percentile", seed=2)
    assert one.delta == two.delta
    assert one.low != two.low and one.high != two.high


def test_resample_weights_rows_sum_to_n_and_chunking_is_invisible() -> None:
    n, B, seed = 37, 203, 11
    big = list(resample_weights(n, B, seed))
    small = list(resample_weights(n, B, seed, memory_budget=1))
    assert len(big) == 1 and len(small) == math.ceil(B / BLOCK)
    assert [start for start, _ in small] == list(range(0, B, BLOCK))
    W_big = np.vstack([w for _, w in big])
    W_small = np.vstack([w for _, w in small])
    assert W_big.shape == (B, n)
    assert np.array_equal(W_big, W_small)
    assert np.all(W_big.sum(axis=1) == n)
    assert np.all(W_big >= 0) and np.all(W_big == np.round(W_big))
    assert len({row.tobytes() for row in W_big}) == B  # the resamples differ
    # each example appears about once per resample on average
    assert W_big.mean() == pytest.approx(1.0)


def test_resample_weights_look_multinomial() -> None:
    n, B = 50, 4000
    W = np.vstack([w for _, w in resample_weights(n, B, seed=3)])
    # an example's count is Binomial(n, 1/n): P(0) = (1 - 1/n)^n ~= 0.364
    assert np.mean(W == 0) == pytest.approx((1 - 1 / n) ** n, abs=0.01)
    assert W[:, 0].var() == pytest.approx(1 - 1 / n, rel=0.1)


def test_resample_weights_need_two_examples() -> None:
    with pytest.raises(MetricInputError, match="at least 2"):
        list(resample_weights(1, 10, 0))


# --- orientation -----------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", ["mae", "rmse"])
def test_lower_is_better_delta_is_baseline_minus_candidate(metric: str) -> None:
    y, cand, base = regression_pair(500, seed=12)  # the candidate has the smaller errors
    result = paired_bootstrap(metric, y, cand, base, resamples=500, method="percentile", seed=1)
    assert not result.higher_is_better
    assert result.candidate < result.baseline
    assert result.delta == pytest.approx(result.baseline - result.candidate, rel=1e-12)
    assert result.delta > 0 and result.low > 0  # positive means better
    # candidate_low/high still describe the candidate's own metric, unflipped
    assert result.candidate_low < result.candidate < result.candidate_high
    swapped = paired_bootstrap(metric, y, base, cand, resamples=500, method="percentile", seed=1)
    assert swapped.delta == pytest.approx(-result.delta, rel=1e-12)
    assert swapped.high < 0


def test_log_loss_orientation() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    good = np.clip(np.where(y == 1, 0.8, 0.2) + rng.normal(0, 0.1, 400), 0.01, 0.99)
    bad = np.clip(np.where(y == 1, 0.6, 0.4) + rng.normal(0, 0.1, 400), 0.01, 0.99)
    result = paired_bootstrap("log_loss", y, good, bad, resamples=500, method="bca", seed=1)
    assert result.candidate < result.baseline and result.delta > 0 and result.low > 0


def test_higher_is_better_delta_is_candidate_minus_baseline() -> None:
    y, cand, base = classification_pair(800, seed=13)
    result = paired_bootstrap("accuracy", y, cand, base, resamples=500, method="percentile", seed=1)
    assert result.delta == pytest.approx(result.candidate - result.baseline, rel=1e-12)
    assert result.candidate > result.baseline and result.delta > 0


@pytest.mark.parametrize("method", ["percentile", "bca"])
@pytest.mark.parametrize("metric", ["accuracy", "mae", "roc_auc"])
def test_identical_predictions_give_zero_interval(metric: str, method: str) -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 100) if metric != "mae" else rng.normal(size=100)
    pred = (np.where(rng.uniform(size=100) < 0.8, y, 1 - y) if metric == "accuracy" else y + rng.normal(size=100))
    result = paired_bootstrap(metric, y, pred, pred.copy(), resamples=400, method=method, seed=5)
    assert result.delta == 0.0
    assert (result.low, result.high) == (0.0, 0.0)
    assert result.se == 0.0


def test_invalid_arguments() -> None:
    y, cand, base = classification_pair(20)
    with pytest.raises(ValueError, match="alpha"):
        paired_bootstrap("accuracy", y, cand, base, alpha=0.5)
    with pytest.raises(ValueError, match="alpha"):
        paired_bootstrap("accuracy", y, cand, base, alpha=0.0)
    with pytest.raises(ValueError, match="method"):
        paired_bootstrap("accuracy", y, cand, base, method="studentized")
    with pytest.raises(MetricInputError, match="unknown metric"):
        paired_bootstrap("f1", y, cand, base)


def test_accepts_a_metric_object() -> None:
    y, cand, base = classification_pair(100)
    by_name = paired_bootstrap("accuracy", y, cand, base, resamples=200, seed=1)
    by_object = paired_bootstrap(get_metric("accuracy"), y, cand, base, resamples=200, seed=1)
    assert by_name == by_object


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_auc_resample_without_both_classes_gives_nan_interval(method: str) -> None:
    # one positive among 6: some resamples miss it, the AUC is undefined there, and the
    # interval must come out NaN (which no gate rule lets pass), not silently skip those rows
    y = np.array([0, 0, 0, 0, 0, 1])
    cand = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.9])
    base = np.array([0.1, 0.2, 0.6, 0.4, 0.5, 0.3])
    result = paired_bootstrap("roc_auc", y, cand, base, resamples=200, method=method, seed=1)
    assert result.delta == pytest.approx(1.0 - 0.4)  # baseline: the positive beats 2 of 5 negatives
    assert math.isnan(result.low) and math.isnan(result.high)


def test_bca_with_every_replicate_on_one_side_is_nan() -> None:
    from pytest_promote.stats.bootstrap import _bca

    jack = np.array([0.1, 0.2, 0.3])
    low, high = _bca(np.array([1.0, 2.0, 3.0]), 0.5, jack, 0.05)
    assert math.isnan(low) and math.isnan(high)
    low, high = _bca(np.array([1.0, 2.0, 3.0]), 5.0, jack, 0.05)
    assert math.isnan(low) and math.isnan(high)


def test_non_finite_replicates_give_nan() -> None:
    from pytest_promote.stats.bootstrap import _bca, _percentile

    assert all(math.isnan(v) for v in _percentile(np.array([0.1, np.nan, 0.3]), 0.05))
    assert all(math.isnan(v) for v in _bca(np.array([0.1, np.inf, 0.3]), 0.2, np.array([0.1, 0.2]), 0.05))
    assert all(math.isnan(v) for v in _bca(np.array([0.1, 0.2, 0.3]), 0.2, np.array([0.1, np.nan]), 0.05))
