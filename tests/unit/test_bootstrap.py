"""The paired bootstrap engine (``pytest_promote.stats.bootstrap``).

What this file shows:

* every engine path (multinomial, index, rank, custom) agrees with ``scipy.stats.bootstrap``
  (percentile and BCa) within Monte Carlo error, and the exact multinomial fast path has the
  same distribution as the generic per-row path; ``PairedResult.path`` names the path the
  module docstring promises;
* the index path is exactly the documented stream ``resample_indices`` summed by hand, and BCa
  is the textbook formula with a brute-force jackknife; the interval's lower end is the
  one-sided ``1 - alpha`` bound;
* results are bit-identical for a seed whatever the memory budget and the thread count, on
  every path, for row-wise (units >= 16384) and grouped resampling;
* groups are the resampling units, integer sample weights act as repeated rows, the minimal
  detectable effect and the closed-form cross-check are the documented ones;
* lower-is-better orientation, degenerate and invalid inputs, small samples, and the memory
  held by large comparisons.
"""

from __future__ import annotations

import dataclasses
import math
import tracemalloc

import numpy as np
import pytest
from scipy import stats
from scipy.special import ndtr, ndtri

from pytest_promote.errors import MetricInputError, PromoteWarning
from pytest_promote.stats import PairedResult, get_metric, paired_bootstrap
from pytest_promote.stats.bootstrap import (
    BLOCK,
    DEFAULT_MEMORY_BUDGET,
    ROW_WISE,
    _acceleration,
    _bca,
    _percentile,
    bootstrap_with_replicates,
    minimal_detectable_effect,
    resample_indices,
)

MIB = 1 << 20


# --- data --------------------------------------------------------------------------------------


def classification_pair(n: int, seed: int = 0):
    """Labels and two correlated classifiers' predicted labels (candidate ~3 points better)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    base_right = rng.uniform(size=n) < 0.82
    # the candidate fixes some of the baseline's mistakes and makes a few of its own
    cand_right = np.where(base_right, rng.uniform(size=n) < 0.97, rng.uniform(size=n) < 0.30)
    return y, np.where(cand_right, y, 1 - y), np.where(base_right, y, 1 - y)


def regression_pair(n: int, seed: int = 0):
    """Continuous targets; the candidate's errors are smaller and share a component with the baseline's."""
    rng = np.random.default_rng(seed)
    y = rng.normal(0, 1, n)
    shared = rng.normal(0, 1, n)
    cand = y + 0.8 * shared + 0.3 * rng.normal(size=n)
    base = y + 0.8 * shared + 0.5 * rng.normal(size=n)
    return y, cand, base


def score_pair(n: int, seed: int = 0):
    """Binary labels and two continuous scores; the candidate separates the classes better."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    shared = rng.normal(size=n)
    cand = 1.0 * y + shared + 0.7 * rng.normal(size=n)
    base = 0.7 * y + shared + 0.7 * rng.normal(size=n)
    return y, cand, base


def clipped_error(y_true, y_pred) -> float:
    """A robust lower-is-better loss no built-in metric computes: it runs the custom path."""
    return float(np.mean(np.minimum(np.abs(np.asarray(y_pred) - np.asarray(y_true)), 1.0)))


def custom_accuracy(y_true, y_pred) -> float:
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


# every path with a case that runs it: (metric, higher_is_better, data)
PATH_CASES = {
    "multinomial": ("accuracy", None, classification_pair),
    "index": ("mse", None, regression_pair),
    "rank": ("roc_auc", None, score_pair),
    "custom": (clipped_error, False, regression_pair),
}


# --- agreement with scipy.stats.bootstrap ------------------------------------------------------------


def _auc_along_last_axis(y, scores):
    """Mann-Whitney AUC along the last axis (ties count half through mid-ranks)."""
    ranks = stats.rankdata(scores, axis=-1)
    positive = y == 1
    n_pos = positive.sum(axis=-1)
    n_neg = y.shape[-1] - n_pos
    return ((ranks * positive).sum(axis=-1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def _scipy_case(path: str, n: int):
    """(metric, higher_is_better, y, cand, base, scipy data, vectorized oriented delta statistic, grid step)."""
    if path == "multinomial":
        y, cand, base = classification_pair(n, seed=1)
        data = ((cand == y).astype(float), (base == y).astype(float))
        return "accuracy", None, y, cand, base, data, lambda c, b, axis: c.mean(axis=-1) - b.mean(axis=-1), 1 / n
    if path == "index":
        y, cand, base = regression_pair(n, seed=2)
        data = ((cand - y) ** 2, (base - y) ** 2)
        return "mse", None, y, cand, base, data, lambda c, b, axis: b.mean(axis=-1) - c.mean(axis=-1), 0.0
    if path == "rank":
        y, cand, base = score_pair(n, seed=3)

        def auc_delta(yy, c, b, axis):
            return _auc_along_last_axis(yy, c) - _auc_along_last_axis(yy, b)

        return "roc_auc", None, y, cand, base, (y, cand, base), auc_delta, 0.0
    y, cand, base = regression_pair(n, seed=4)

    def clipped_delta(yy, c, b, axis):  # lower is better: baseline minus candidate
        return np.minimum(np.abs(b - yy), 1.0).mean(axis=-1) - np.minimum(np.abs(c - yy), 1.0).mean(axis=-1)

    return clipped_error, False, y, cand, base, (y, cand, base), clipped_delta, 0.0


@pytest.mark.parametrize(("method", "scipy_method"), [("percentile", "percentile"), ("bca", "BCa")], ids=["percentile", "bca"])
@pytest.mark.parametrize(
    ("path", "n", "resamples"),
    [("multinomial", 500, 20_000), ("index", 400, 20_000), ("rank", 400, 20_000), ("custom", 300, 8_000)],
    ids=["accuracy-multinomial", "mse-index", "roc_auc-rank", "custom"],
)
def test_agrees_with_scipy_bootstrap(path: str, n: int, resamples: int, method: str, scipy_method: str) -> None:
    alpha = 0.05
    metric, higher, y, cand, base, data, statistic, grid = _scipy_case(path, n)
    ours = paired_bootstrap(
        metric, y, cand, base, alpha=alpha, resamples=resamples, method=method, seed=123, higher_is_better=higher
    )
    theirs = stats.bootstrap(
        data,
        statistic,
        paired=True,
        vectorized=True,
        n_resamples=20_000,
        batch=2_000,
        method=scipy_method,
        confidence_level=1 - 2 * alpha,
        rng=np.random.default_rng(456),
    )
    assert ours.path == path
    assert ours.delta == pytest.approx(float(statistic(*data, axis=-1)), rel=1e-12, abs=1e-15)
    se = theirs.standard_error
    # Tolerance, in units of the bootstrap standard error se. The Monte Carlo sd of a 5%/95%
    # quantile from B resamples is sqrt(.05 * .95 / B) / phi(1.645) * se: 0.015 se at B=20000,
    # 0.024 se at B=8000, so ~0.021 se (0.028 se for the custom path) for the difference of two
    # independent runs; BCa's estimated bias correction adds somewhat to that. 0.12 se is over 4
    # such sds, and still well below the 0.31 se shift (1.960 - 1.645) * se of a two-sided
    # alpha/2 mistake. Accuracy's bootstrap values lie on a grid of 1/n (0.16 se here), so a
    # quantile may also move by one grid step.
    tolerance = 0.12 * se + grid
    # the SE's relative Monte Carlo sd is ~1/sqrt(2B): 0.5% (0.8% for B=8000) per run
    assert ours.se == pytest.approx(se, rel=0.05)
    assert ours.low == pytest.approx(theirs.confidence_interval.low, abs=tolerance)
    assert ours.high == pytest.approx(theirs.confidence_interval.high, abs=tolerance)
    assert ours.low < ours.delta < ours.high


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


# --- the exact fast path against the generic path ----------------------------------------------------


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_multinomial_path_has_the_distribution_of_the_per_row_path(method: str) -> None:
    """Accuracy through the built-in (multinomial counts) and through a plain function
    (each resample's rows evaluated): the same statistic, different random streams."""
    n, B, alpha = 400, 20_000, 0.05
    y, cand, base = classification_pair(n, seed=21)
    fast, fast_reps = bootstrap_with_replicates(
        "accuracy", y, cand, base, alpha=alpha, resamples=B, method=method, seed=1
    )
    slow, slow_reps = bootstrap_with_replicates(
        custom_accuracy, y, cand, base, alpha=alpha, resamples=B, method=method, seed=1, higher_is_better=True
    )
    assert (fast.path, slow.path) == ("multinomial", "custom")
    assert (fast.candidate, fast.baseline, fast.delta) == (slow.candidate, slow.baseline, slow.delta)
    # Tolerances as in test_agrees_with_scipy_bootstrap: the MC sd of a quantile at level p is
    # sqrt(p (1-p) / B) / phi(z_p) * se, at most 0.019 se for the levels below (0.027 se for two
    # runs); 0.12 se is over 4 such sds, plus one step of the 1/n grid accuracy lives on.
    tolerance = 0.12 * fast.se + 1 / n
    assert fast.se == pytest.approx(slow.se, rel=0.03)
    assert fast.low == pytest.approx(slow.low, abs=tolerance)
    assert fast.high == pytest.approx(slow.high, abs=tolerance)
    assert fast.candidate_low == pytest.approx(slow.candidate_low, abs=0.12 * np.std(fast_reps.candidate) + 1 / n)
    assert fast.candidate_high == pytest.approx(slow.candidate_high, abs=0.12 * np.std(fast_reps.candidate) + 1 / n)
    levels = [0.025, 0.05, 0.25, 0.5, 0.75, 0.95, 0.975]
    fast_delta = np.quantile(fast_reps.candidate - fast_reps.baseline, levels)
    slow_delta = np.quantile(slow_reps.candidate - slow_reps.baseline, levels)
    np.testing.assert_allclose(fast_delta, slow_delta, rtol=0, atol=tolerance)
    # the grid hides small shifts from the quantiles, not from the moments: the mean of B
    # replicates has a Monte Carlo sd of se / sqrt(B) = 0.007 se (0.01 se for two runs)
    fast_mean = np.mean(fast_reps.candidate - fast_reps.baseline)
    assert fast_mean == pytest.approx(np.mean(slow_reps.candidate - slow_reps.baseline), abs=0.05 * fast.se)
    assert np.std(fast_reps.candidate) == pytest.approx(np.std(slow_reps.candidate), rel=0.03)
    # the multinomial draws whole examples: every replicate is a count over n
    assert np.allclose(fast_reps.candidate * n, np.round(fast_reps.candidate * n), rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("accuracy", "multinomial"),
        ("accuracy-continuous-weights", "index"),
        ("mse-continuous", "index"),
        ("mse-zero-one", "multinomial"),
        ("roc_auc", "rank"),
        ("custom", "custom"),
    ],
    ids=lambda value: value,
)
def test_path_is_the_one_the_docstring_promises(case: str, expected: str) -> None:
    n = 600
    weight = None
    higher = None
    if case.startswith("accuracy"):
        metric = "accuracy"
        y, cand, base = classification_pair(n, seed=3)
        if case.endswith("weights"):
            weight = np.random.default_rng(0).uniform(0.5, 2.0, n)
    elif case == "mse-continuous":
        metric, (y, cand, base) = "mse", regression_pair(n, seed=3)
    elif case == "mse-zero-one":  # 0/1 values: squared errors take two values, the counts are exact
        metric, (y, cand, base) = "mse", classification_pair(n, seed=3)
    elif case == "roc_auc":
        metric, (y, cand, base) = "roc_auc", score_pair(n, seed=3)
    else:
        metric, higher, (y, cand, base) = custom_accuracy, True, classification_pair(n, seed=3)
    result = paired_bootstrap(metric, y, cand, base, resamples=100, seed=0, sample_weight=weight, higher_is_better=higher)
    assert result.path == expected


# --- the documented stream, by hand ------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.2])
@pytest.mark.parametrize(("n", "resamples"), [(300, 1001), (ROW_WISE + 3616, 70)], ids=["blocks", "row-wise"])
def test_index_path_is_resample_indices_summed_by_hand(n: int, resamples: int, alpha: float) -> None:
    """mse's bootstrap values are the mean squared errors over the rows ``resample_indices``
    draws; the percentile interval is their alpha and 1 - alpha quantiles."""
    seed = 31
    y, cand, base = regression_pair(n, seed=7)
    result = paired_bootstrap("mse", y, cand, base, alpha=alpha, resamples=resamples, method="percentile", seed=seed)
    assert result.path == "index"

    cand_sq, base_sq = (cand - y) ** 2, (base - y) ** 2
    indices = np.vstack([block for _, block in resample_indices(n, resamples, seed)])
    cand_boot = cand_sq[indices].sum(axis=1) / n
    boot = base_sq[indices].sum(axis=1) / n - cand_boot  # lower is better: baseline minus candidate
    # 1e-12: the engine sums two columns at once as complex numbers, whose pairwise
    # summation order differs from a real sum's in the last bits
    assert result.low == pytest.approx(np.quantile(boot, alpha), rel=1e-12, abs=1e-15)
    assert result.high == pytest.approx(np.quantile(boot, 1 - alpha), rel=1e-12, abs=1e-15)
    assert result.se == pytest.approx(np.std(boot, ddof=1), rel=1e-9)
    assert result.candidate_low == pytest.approx(np.quantile(cand_boot, alpha), rel=1e-12)
    assert result.candidate_high == pytest.approx(np.quantile(cand_boot, 1 - alpha), rel=1e-12)
    # the two-sided (1 - 2 alpha) interval's lower end is the one-sided (1 - alpha) bound:
    # a two-sided alpha/2 interval would be strictly wider
    assert result.confidence == pytest.approx(1 - 2 * alpha)
    assert result.low > np.quantile(boot, alpha / 2) + 1e-12
    assert result.high < np.quantile(boot, 1 - alpha / 2) - 1e-12


def test_bca_matches_textbook_formula_with_brute_force_jackknife() -> None:
    """BCa from the same bootstrap values, with z0 and the acceleration computed from
    scratch (leave-one-out by deletion) on a skewed statistic (rmse)."""
    n, B, alpha, seed = 150, 2000, 0.1, 77
    rng = np.random.default_rng(5)
    y = rng.normal(size=n)
    cand = y + rng.standard_t(2.5, n) * 0.5
    base = y + rng.standard_t(2.5, n) * 0.6
    result = paired_bootstrap("rmse", y, cand, base, alpha=alpha, resamples=B, method="bca", seed=seed)
    assert result.path == "index"

    indices = np.vstack([block for _, block in resample_indices(n, B, seed)])
    boot = np.sqrt(((base - y) ** 2)[indices].mean(axis=1)) - np.sqrt(((cand - y) ** 2)[indices].mean(axis=1))
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
    # 1e-9: the engine's sums differ from these in the last bits (complex pairwise summation)
    assert result.low == pytest.approx(low, rel=1e-9, abs=1e-12)
    assert result.high == pytest.approx(high, rel=1e-9, abs=1e-12)
    # and it is not simply the percentile interval
    assert abs(result.low - np.quantile(boot, alpha)) > 1e-6


# --- resample_indices ---------------------------------------------------------------------------------


def test_resample_indices_is_one_generator_per_block() -> None:
    units, B, seed = 37, 203, 11  # 203: a partial last block
    blocks = list(resample_indices(units, B, seed))
    assert [first for first, _ in blocks] == list(range(0, B, BLOCK))
    assert [block.shape for _, block in blocks] == [(BLOCK, units)] * (B // BLOCK) + [(B % BLOCK, units)]
    for k, (_, block) in enumerate(blocks):
        # the module docstring's contract: block k draws from PCG64(SeedSequence(seed, spawn_key=(k,)))
        generator = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(k,))))
        # row after row: the split invariance the row-wise path relies on
        rows = [generator.integers(0, units, size=units) for _ in range(len(block))]
        assert np.array_equal(block, np.vstack(rows))
    drawn = np.vstack([block for _, block in blocks])
    assert drawn.min() >= 0 and drawn.max() < units
    assert len({row.tobytes() for row in drawn}) == B  # the resamples differ


def test_resample_indices_do_not_depend_on_the_number_of_resamples() -> None:
    """Resample r is the same whether 50 or 203 are drawn: a partial block is a prefix of the full one."""
    short = np.vstack([block for _, block in resample_indices(41, 50, 5)])
    long = np.vstack([block for _, block in resample_indices(41, 203, 5)])
    assert np.array_equal(short, long[:50])


def test_resample_indices_are_uniform_over_units() -> None:
    units, B = 50, 4000
    drawn = np.vstack([block for _, block in resample_indices(units, B, seed=3)])
    counts = np.bincount(drawn.ravel(), minlength=units)
    expected = B  # B * units draws over units values
    chi_square = float(np.sum((counts - expected) ** 2 / expected))
    # a uniform stream fails this one time in a thousand
    assert chi_square < stats.chi2.ppf(0.999, units - 1)
    # an example's count in one resample is Binomial(n, 1/n): P(0) = (1 - 1/n)^n ~= 0.364;
    # 0.01 is ~7 sds of the mean of 200000 such indicators
    per_resample = np.apply_along_axis(np.bincount, 1, drawn, minlength=units)
    assert np.mean(per_resample == 0) == pytest.approx((1 - 1 / units) ** units, abs=0.01)
    assert per_resample[:, 0].var() == pytest.approx(1 - 1 / units, rel=0.1)


# --- reproducibility -----------------------------------------------------------------------------------


ROW_WISE_N = ROW_WISE + 3616  # 20000 rows: drawn one resample row at a time


def _path_inputs(path: str, n: int, grouped: bool):
    metric, higher, make = PATH_CASES[path]
    y, cand, base = make(n, seed=8)
    groups = None
    if grouped and n < ROW_WISE:
        groups = np.arange(n) // 5  # 100 groups of 5 rows
    elif grouped:  # every tenth row joins the one before: 18000 groups of 1 or 2 rows, still row-wise
        groups = np.arange(n) - (np.arange(n) % 10 == 9)
    return metric, higher, y, cand, base, groups


@pytest.mark.parametrize("grouped", [False, True], ids=["rows", "groups"])
# 1001 and 70 resamples end in a partial block
@pytest.mark.parametrize(("n", "resamples"), [(500, 1001), (ROW_WISE_N, 70)], ids=["blocks", "row-wise"])
@pytest.mark.parametrize("path", list(PATH_CASES))
def test_bit_identical_across_memory_budget_and_threads(path: str, n: int, resamples: int, grouped: bool) -> None:
    """At 500 rows a 1 MiB budget allows one thread, the default budget two; bca: every value is used."""
    metric, higher, y, cand, base, groups = _path_inputs(path, n, grouped)
    runs = []
    for budget, threads in [(DEFAULT_MEMORY_BUDGET, 2), (DEFAULT_MEMORY_BUDGET, 2), (DEFAULT_MEMORY_BUDGET, 1), (MIB, 2)]:
        runs.append(
            bootstrap_with_replicates(
                metric, y, cand, base, alpha=0.05, resamples=resamples, method="bca", seed=2024,
                groups=groups, higher_is_better=higher, memory_budget=budget, threads=threads,
            )
        )
    first, first_reps = runs[0]
    # 100 groups' correct counts take 36 values: too many for 100 units, the sums are drawn by index
    expected = "index" if path == "multinomial" and grouped and n < ROW_WISE else path
    assert first.path == expected and first.grouped == grouped
    assert (first.units >= ROW_WISE) == (n >= ROW_WISE)
    assert math.isfinite(first.low) and math.isfinite(first.high)
    for result, replicates in runs[1:]:
        assert result == first  # dataclass equality: every field, bit for bit
        assert np.array_equal(replicates.candidate, first_reps.candidate)
        assert np.array_equal(replicates.baseline, first_reps.baseline)


@pytest.mark.parametrize("path", list(PATH_CASES))
def test_different_seed_gives_different_bounds(path: str) -> None:
    metric, higher, y, cand, base, _ = _path_inputs(path, 300, grouped=False)
    kwargs = dict(alpha=0.05, resamples=1000, method="percentile", higher_is_better=higher)
    one, one_reps = bootstrap_with_replicates(metric, y, cand, base, seed=1, **kwargs)
    two, two_reps = bootstrap_with_replicates(metric, y, cand, base, seed=2, **kwargs)
    assert one.delta == two.delta
    assert not np.array_equal(one_reps.candidate - one_reps.baseline, two_reps.candidate - two_reps.baseline)
    assert one.se != two.se
    if path != "multinomial":  # accuracy's quantiles may land on the same point of its 1/n grid
        assert one.low != two.low and one.high != two.high


def test_accepts_a_metric_object() -> None:
    y, cand, base = classification_pair(100)
    by_name = paired_bootstrap("accuracy", y, cand, base, resamples=200, seed=1)
    by_object = paired_bootstrap(get_metric("accuracy"), y, cand, base, resamples=200, seed=1)
    assert by_name == by_object


# --- groups --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["percentile", "bca"])
@pytest.mark.parametrize("path", list(PATH_CASES))
def test_groups_of_one_row_in_order_equal_the_ungrouped_result(path: str, method: str) -> None:
    """Group ids 0..n-1 in row order: the same units in the same order, so the same stream."""
    metric, higher, y, cand, base, _ = _path_inputs(path, 300, grouped=False)
    kwargs = dict(resamples=500, method=method, seed=3, higher_is_better=higher)
    plain = paired_bootstrap(metric, y, cand, base, **kwargs)
    grouped = paired_bootstrap(metric, y, cand, base, groups=np.arange(300), **kwargs)
    assert grouped.grouped and not plain.grouped
    assert grouped.units == plain.units == 300
    # the closed-form cross-check is only given for ungrouped data
    assert grouped.cross_check is None
    assert dataclasses.replace(grouped, grouped=False, cross_check=plain.cross_check) == plain


@pytest.mark.parametrize("metric", ["mse", "accuracy"])
def test_groups_are_the_resampling_units(metric: str) -> None:
    """Rows of a group share most of their difference: resampling rows understates the spread."""
    groups_count, size = 60, 10
    rng = np.random.default_rng(17)
    groups = np.repeat([f"user-{i}" for i in range(groups_count)], size)  # string ids
    n = groups_count * size
    if metric == "mse":
        y = rng.normal(size=n)
        cand = y + np.repeat(rng.normal(0, 1.0, groups_count), size) + 0.1 * rng.normal(size=n)
        base = y + np.repeat(rng.normal(0, 1.1, groups_count), size) + 0.1 * rng.normal(size=n)
    else:  # whole groups right or wrong together, a few rows flipped
        y = rng.integers(0, 2, n)
        cand_right = np.repeat(rng.uniform(size=groups_count) < 0.8, size) ^ (rng.uniform(size=n) < 0.05)
        base_right = np.repeat(rng.uniform(size=groups_count) < 0.7, size) ^ (rng.uniform(size=n) < 0.05)
        cand, base = np.where(cand_right, y, 1 - y), np.where(base_right, y, 1 - y)
    plain = paired_bootstrap(metric, y, cand, base, resamples=2000, method="percentile", seed=4)
    grouped = paired_bootstrap(metric, y, cand, base, resamples=2000, method="percentile", seed=4, groups=groups)
    assert (grouped.n, grouped.units, grouped.grouped) == (n, groups_count, True)
    assert (plain.units, plain.grouped) == (n, False)
    assert grouped.delta == pytest.approx(plain.delta, rel=1e-12)
    # with a within-group correlation near 1 the design effect is ~size: the grouped interval
    # should be ~sqrt(10) ~= 3 times wider; 2 leaves room for Monte Carlo and sampling error
    assert grouped.high - grouped.low > 2 * (plain.high - plain.low)
    assert grouped.se > 2 * plain.se


# --- sample weights --------------------------------------------------------------------------------------


@pytest.mark.parametrize("metric", ["accuracy", "mse", "roc_auc", "log_loss", "f1", "r2"])
def test_integer_weights_act_as_repeated_rows(metric: str) -> None:
    n = 200
    rng = np.random.default_rng(6)
    if metric in ("mse", "r2"):
        y, cand, base = regression_pair(n, seed=6)
    elif metric in ("accuracy", "f1"):
        y, cand, base = classification_pair(n, seed=6)
    else:
        y, cand, base = score_pair(n, seed=6)
        if metric == "log_loss":
            cand, base = 1 / (1 + np.exp(-cand)), 1 / (1 + np.exp(-base))
    weight = rng.integers(0, 4, n)  # zero weights included
    weighted = paired_bootstrap(metric, y, cand, base, resamples=200, seed=0, sample_weight=weight)
    repeated = paired_bootstrap(
        metric, np.repeat(y, weight), np.repeat(cand, weight), np.repeat(base, weight), resamples=200, seed=0
    )
    assert weighted.weighted and not repeated.weighted
    assert weighted.n == weighted.units == n
    # 1e-12: weighted sums and sums of repeated rows differ only by rounding
    assert weighted.candidate == pytest.approx(repeated.candidate, rel=1e-12)
    assert weighted.baseline == pytest.approx(repeated.baseline, rel=1e-12)
    assert weighted.delta == pytest.approx(repeated.delta, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("path", ["multinomial", "index", "rank"])
def test_unit_weights_change_nothing_but_the_flag(path: str) -> None:
    metric, higher, y, cand, base, _ = _path_inputs(path, 300, grouped=False)
    plain = paired_bootstrap(metric, y, cand, base, resamples=300, seed=2)
    ones = paired_bootstrap(metric, y, cand, base, resamples=300, seed=2, sample_weight=np.ones(300))
    assert ones.weighted and ones.cross_check is None
    assert dataclasses.replace(ones, weighted=False, cross_check=plain.cross_check) == plain


# --- minimal detectable effect and cross-checks -------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.05, 0.1])
@pytest.mark.parametrize("path", list(PATH_CASES))
def test_minimal_detectable_effect(path: str, alpha: float) -> None:
    metric, higher, y, cand, base, _ = _path_inputs(path, 300, grouped=False)
    result = paired_bootstrap(metric, y, cand, base, alpha=alpha, resamples=300, seed=1, higher_is_better=higher)
    assert result.se > 0
    assert result.mde == (ndtri(1 - alpha) + ndtri(0.8)) * result.se
    # at alpha = 0.05 and 80% power: (1.6449 + 0.8416) se
    assert minimal_detectable_effect(1.0, 0.05) == pytest.approx(2.4865, abs=1e-4)
    assert math.isnan(minimal_detectable_effect(math.nan, alpha))


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        ("accuracy", "mcnemar_exact"),
        ("mse", "paired_t"),
        ("mae", "paired_t"),
        ("log_loss", "paired_t"),
        ("roc_auc", "delong"),
        ("r2", None),
        ("rmse", None),
        ("f1", None),
    ],
    ids=lambda value: str(value),
)
def test_cross_check_is_present_for_its_metrics(metric: str, expected: str | None) -> None:
    if metric in ("mse", "mae", "r2", "rmse"):
        y, cand, base = regression_pair(300, seed=9)
    elif metric in ("accuracy", "f1"):
        y, cand, base = classification_pair(300, seed=9)
    else:
        y, cand, base = score_pair(300, seed=9)
        if metric == "log_loss":
            cand, base = 1 / (1 + np.exp(-cand)), 1 / (1 + np.exp(-base))
    result = paired_bootstrap(metric, y, cand, base, resamples=200, seed=0)
    if expected is None:
        assert result.cross_check is None
        return
    assert result.cross_check.method == expected
    assert result.cross_check.delta == pytest.approx(result.delta, rel=1e-12, abs=1e-15)
    assert result.cross_check.low < result.cross_check.delta < result.cross_check.high
    for extra in (dict(sample_weight=np.ones(300)), dict(groups=np.arange(300) // 3)):
        assert paired_bootstrap(metric, y, cand, base, resamples=200, seed=0, **extra).cross_check is None


def test_custom_metric_has_no_cross_check() -> None:
    y, cand, base = regression_pair(100)
    result = paired_bootstrap(clipped_error, y, cand, base, resamples=100, higher_is_better=False)
    assert result.cross_check is None and result.metric == "clipped_error"


# --- orientation ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["percentile", "bca"])
@pytest.mark.parametrize("metric", ["mae", "rmse", "mse"])
def test_lower_is_better_delta_is_baseline_minus_candidate(metric: str, method: str) -> None:
    y, cand, base = regression_pair(500, seed=12)  # the candidate has the smaller errors
    result = paired_bootstrap(metric, y, cand, base, resamples=500, method=method, seed=1)
    assert not result.higher_is_better
    assert result.candidate < result.baseline
    assert result.delta == pytest.approx(result.baseline - result.candidate, rel=1e-12)
    assert result.delta > 0 and result.low > 0  # positive means better
    # candidate_low/high still describe the candidate's own metric, unflipped
    assert result.candidate_low < result.candidate < result.candidate_high
    swapped = paired_bootstrap(metric, y, base, cand, resamples=500, method=method, seed=1)
    assert swapped.delta == pytest.approx(-result.delta, rel=1e-12)
    assert swapped.high < 0


def test_custom_lower_is_better_orientation() -> None:
    y, cand, base = regression_pair(300, seed=12)
    result = paired_bootstrap(clipped_error, y, cand, base, resamples=500, seed=1, higher_is_better=False)
    assert not result.higher_is_better
    assert result.delta == pytest.approx(clipped_error(y, base) - clipped_error(y, cand), rel=1e-12)
    assert result.delta > 0 and result.low > 0


def test_log_loss_orientation() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    good = np.clip(np.where(y == 1, 0.8, 0.2) + rng.normal(0, 0.1, 400), 0.01, 0.99)
    bad = np.clip(np.where(y == 1, 0.6, 0.4) + rng.normal(0, 0.1, 400), 0.01, 0.99)
    result = paired_bootstrap("log_loss", y, good, bad, resamples=500, method="bca", seed=1)
    assert result.candidate < result.baseline and result.delta > 0 and result.low > 0


def test_result_fields() -> None:
    y, cand, base = classification_pair(300, seed=5)
    result = paired_bootstrap("accuracy", y, cand, base, alpha=0.1, resamples=500, method="bca", seed=3)
    assert isinstance(result, PairedResult)
    assert result.metric == "accuracy" and result.higher_is_better
    assert result.candidate == np.mean(cand == y) and result.baseline == np.mean(base == y)
    assert result.delta == pytest.approx(result.candidate - result.baseline, rel=1e-12) and result.delta > 0
    assert result.alpha == 0.1 and result.confidence == pytest.approx(0.8)
    assert (result.method, result.resamples, result.seed, result.n, result.units) == ("bca", 500, 3, 300, 300)
    assert not result.grouped and not result.weighted
    assert result.low <= result.delta <= result.high
    assert result.candidate_low <= result.candidate <= result.candidate_high
    assert result.se > 0


# --- degenerate inputs -------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["percentile", "bca"])
@pytest.mark.parametrize("path", list(PATH_CASES))
def test_identical_predictions_give_zero_interval(path: str, method: str) -> None:
    metric, higher, y, cand, _, _ = _path_inputs(path, 100, grouped=False)
    result = paired_bootstrap(metric, y, cand, cand.copy(), resamples=400, method=method, seed=5, higher_is_better=higher)
    assert result.delta == 0.0
    assert (result.low, result.high) == (0.0, 0.0)
    assert result.se == 0.0 and result.mde == 0.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(alpha=0.5), "alpha"),
        (dict(alpha=0.0), "alpha"),
        (dict(method="studentized"), "method"),
        (dict(resamples=1), "resamples"),
        (dict(resamples=True), "resamples"),
        (dict(resamples=100.0), "resamples"),
        (dict(memory_budget=MIB - 1), "memory_budget"),
        (dict(threads=0), "threads"),
        (dict(threads=True), "threads"),
    ],
    ids=["alpha-half", "alpha-zero", "method", "one-resample", "bool-resamples", "float-resamples",
         "small-budget", "zero-threads", "bool-threads"],
)
def test_invalid_arguments(kwargs: dict, match: str) -> None:
    y, cand, base = classification_pair(40)
    with pytest.raises(ValueError, match=match):
        paired_bootstrap("accuracy", y, cand, base, **kwargs)


def test_invalid_metrics() -> None:
    y, cand, base = classification_pair(40)
    with pytest.raises(MetricInputError, match="unknown metric"):
        paired_bootstrap("no_such_metric", y, cand, base)
    with pytest.raises(MetricInputError, match="higher_is_better"):
        paired_bootstrap(custom_accuracy, y, cand, base)  # a function needs its direction
    with pytest.raises(MetricInputError, match="contradicts"):
        paired_bootstrap("accuracy", y, cand, base, higher_is_better=False)


def test_a_failing_custom_metric_is_a_metric_input_error() -> None:
    def broken(y_true, y_pred):
        raise ZeroDivisionError("boom")

    y, cand, base = classification_pair(40)
    with pytest.raises(MetricInputError, match="broken raised ZeroDivisionError"):
        paired_bootstrap(broken, y, cand, base, resamples=10, higher_is_better=True)


def test_fewer_than_two_units_is_an_error() -> None:
    y, cand, base = regression_pair(5)
    with pytest.raises(MetricInputError, match="at least 2 examples"):
        paired_bootstrap("mse", y[:1], cand[:1], base[:1], resamples=10)
    with pytest.raises(MetricInputError, match="at least 2 groups"):
        paired_bootstrap("mse", y, cand, base, resamples=10, groups=np.zeros(5))


def test_fewer_than_thirty_units_warn() -> None:
    y, cand, base = regression_pair(29)
    with pytest.warns(PromoteWarning, match="29 examples"):
        paired_bootstrap("mse", y, cand, base, resamples=50)
    y, cand, base = regression_pair(300)
    with pytest.warns(PromoteWarning, match="20 groups"):
        paired_bootstrap("mse", y, cand, base, resamples=50, groups=np.arange(300) % 20)


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_auc_resample_without_both_classes_gives_nan_interval(method: str) -> None:
    # one positive among 6: some resamples miss it, the AUC is undefined there, and the
    # interval must come out NaN (which no gate rule lets pass), not silently skip those rows
    y = np.array([0, 0, 0, 0, 0, 1])
    cand = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.9])
    base = np.array([0.1, 0.2, 0.6, 0.4, 0.5, 0.3])
    with pytest.warns(PromoteWarning):
        result = paired_bootstrap("roc_auc", y, cand, base, resamples=200, method=method, seed=1)
    assert result.path == "rank"
    assert result.delta == pytest.approx(1.0 - 0.4)  # baseline: the positive beats 2 of 5 negatives
    assert math.isnan(result.low) and math.isnan(result.high)
    assert result.cross_check is None  # DeLong needs two of each class


def test_bca_with_every_replicate_on_one_side_is_nan() -> None:
    for estimate in (0.5, 5.0):  # below or above every replicate: z0 is infinite
        low, high = _bca(np.array([1.0, 2.0, 3.0]), estimate, 0.01, 0.05)
        assert math.isnan(low) and math.isnan(high)


def test_non_finite_replicates_give_nan() -> None:
    assert all(math.isnan(v) for v in _percentile(np.array([0.1, np.nan, 0.3]), 0.05))
    assert all(math.isnan(v) for v in _bca(np.array([0.1, np.inf, 0.3]), 0.2, 0.0, 0.05))
    assert all(math.isnan(v) for v in _bca(np.array([0.1, 0.2, 0.3]), 0.2, math.nan, 0.05))
    assert math.isnan(_acceleration(np.array([0.1, np.nan, 0.3]), None))


# --- memory -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "n", "resamples"), [("mse", 100_000, 2_000), ("roc_auc", 50_000, 500)], ids=["mse-index", "roc_auc-rank"]
)
def test_large_comparison_stays_within_the_memory_budget(metric: str, n: int, resamples: int) -> None:
    """numpy reports its allocations to tracemalloc; a (B, n) matrix of indices would need
    1.6 GB (mse) or 200 MB (roc_auc), twice over with the gathered values."""
    y, cand, base = regression_pair(n, seed=1) if metric == "mse" else score_pair(n, seed=1)
    tracemalloc.start()
    try:
        result = paired_bootstrap(metric, y, cand, base, resamples=resamples, method="percentile", seed=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.units >= ROW_WISE and math.isfinite(result.low)
    assert peak < DEFAULT_MEMORY_BUDGET
