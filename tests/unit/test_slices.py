"""Per-slice comparisons (``pytest_promote.stats.slices.compare_slices``).

What this file shows: every slice is the paired bootstrap of that slice's rows alone with its
own seed ``slice_seed(seed, value)``, so removing one slice leaves the others' numbers
unchanged; small slices are listed without a result; the gap is the best-minus-worst
candidate estimate, bootstrapped resample by resample from the slices' own replicates; and
bad slice columns are input errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from pytest_promote.errors import MetricInputError
from pytest_promote.stats.bootstrap import bootstrap_with_replicates, paired_bootstrap
from pytest_promote.stats.slices import SliceGap, compare_slices, slice_seed

SETTINGS = dict(alpha=0.05, resamples=400, method="bca", seed=7, memory_budget=256 << 20)


def sliced_classification(sizes: dict, accuracy: dict, seed: int = 0):
    """Rows in slices of the given sizes; the candidate's accuracy differs by slice, the baseline's is 0.7."""
    rng = np.random.default_rng(seed)
    values = np.concatenate([[value] * size for value, size in sizes.items()])
    rng.shuffle(values)
    n = len(values)
    y = rng.integers(0, 2, n)
    cand_right = rng.uniform(size=n) < np.array([accuracy[value] for value in values])
    base_right = rng.uniform(size=n) < 0.7
    return y, np.where(cand_right, y, 1 - y), np.where(base_right, y, 1 - y), values


def sliced_regression(sizes: dict, seed: int = 0):
    rng = np.random.default_rng(seed)
    values = np.concatenate([[value] * size for value, size in sizes.items()])
    n = len(values)
    y = rng.normal(size=n)
    cand = y + 0.4 * rng.normal(size=n)
    base = y + 0.5 * rng.normal(size=n)
    return y, cand, base, values


@pytest.mark.parametrize(
    ("metric", "sizes"),
    [
        ("accuracy", {"mobile": 300, "desktop": 250, "tablet": 200}),
        ("mse", {3: 200, 1: 150, 2: 120}),
        ("roc_auc", {"a": 200, "b": 160}),
    ],
    ids=["accuracy-str", "mse-int", "roc_auc"],
)
def test_each_slice_is_the_bootstrap_of_its_rows_with_its_own_seed(metric: str, sizes: dict) -> None:
    if metric == "accuracy":
        y, cand, base, values = sliced_classification(sizes, dict(mobile=0.9, desktop=0.8, tablet=0.75))
    else:
        y, cand, base, values = sliced_regression(sizes)
        if metric == "roc_auc":
            y = (y > 0).astype(int)
    results, gap = compare_slices(metric, y, cand, base, values, min_slice_size=30, **SETTINGS)
    assert [entry.value for entry in results] == sorted(sizes)  # in sorted order
    assert all(type(entry.value) is type(next(iter(sizes))) for entry in results)  # JSON-ready Python values
    for entry in results:
        mask = values == entry.value
        alone = paired_bootstrap(
            metric, y[mask], cand[mask], base[mask], alpha=0.05, resamples=400, method="bca", seed=slice_seed(7, entry.value)
        )
        assert entry.rows == sizes[entry.value]
        assert entry.result == alone  # every field, bit for bit
        assert entry.result.n == sizes[entry.value]
    # the slices' seeds differ from each other and from the run's seed
    seeds = {entry.result.seed for entry in results}
    assert len(seeds) == len(results) and 7 not in seeds
    assert gap is not None and gap.slices == len(sizes)


def test_removing_a_slice_leaves_the_others_unchanged() -> None:
    sizes = {"x": 120, "y": 100, "z": 80}
    y, cand, base, values = sliced_classification(sizes, dict(x=0.9, y=0.8, z=0.6), seed=1)
    everything, _ = compare_slices("accuracy", y, cand, base, values, min_slice_size=30, **SETTINGS)
    keep = values != "y"
    fewer, _ = compare_slices("accuracy", y[keep], cand[keep], base[keep], values[keep], min_slice_size=30, **SETTINGS)
    by_value = {entry.value: entry.result for entry in everything}
    assert [entry.value for entry in fewer] == ["x", "z"]
    for entry in fewer:
        assert entry.result == by_value[entry.value]


def test_slice_seed_is_stable_and_distinct() -> None:
    assert slice_seed(7, "a") == slice_seed(7, "a")
    assert len({slice_seed(7, "a"), slice_seed(8, "a"), slice_seed(7, "b"), slice_seed(7, 1), slice_seed(7, "1")}) == 5
    assert 0 <= slice_seed(7, "a") < 2**64


def test_small_slices_are_listed_without_a_result() -> None:
    sizes = {"big": 200, "medium": 60, "small": 12}
    y, cand, base, values = sliced_classification(sizes, dict(big=0.9, medium=0.8, small=0.7), seed=2)
    results, gap = compare_slices("accuracy", y, cand, base, values, min_slice_size=50, **SETTINGS)
    by_value = {entry.value: entry for entry in results}
    assert set(by_value) == set(sizes)
    assert by_value["small"].result is None and by_value["small"].rows == 12
    assert by_value["big"].result is not None and by_value["medium"].result is not None
    assert gap.slices == 2  # only the compared slices enter the gap


def test_gap_is_best_minus_worst_with_its_bootstrap_interval() -> None:
    sizes = {"a": 300, "b": 250, "c": 200}
    accuracy = {"a": 0.92, "b": 0.8, "c": 0.65}  # well separated: the plug-in gap's upward bias is small
    y, cand, base, values = sliced_classification(sizes, accuracy, seed=3)
    results, gap = compare_slices("accuracy", y, cand, base, values, min_slice_size=30, **SETTINGS)
    estimates = [entry.result.candidate for entry in results]
    assert isinstance(gap, SliceGap) and gap.slices == 3
    assert gap.gap == max(estimates) - min(estimates)
    assert gap.gap == pytest.approx(0.92 - 0.65, abs=0.1)  # sampling error of ~200-row accuracies
    assert gap.low < gap.gap < gap.high
    # resample by resample from each slice's own replicates (independent, stratified)
    replicates = []
    for value in sorted(sizes):
        mask = values == value
        _, reps = bootstrap_with_replicates(
            "accuracy", y[mask], cand[mask], base[mask], alpha=0.05, resamples=400, method="bca",
            seed=slice_seed(7, value),
        )
        replicates.append(reps.candidate)
    boot = np.max(replicates, axis=0) - np.min(replicates, axis=0)
    assert (gap.low, gap.high) == tuple(np.quantile(boot, [0.05, 0.95]))


@pytest.mark.parametrize(
    ("sizes", "min_slice_size"),
    [({"only": 100}, 30), ({"big": 100, "tiny": 20}, 30)],
    ids=["one-slice", "one-eligible"],
)
def test_fewer_than_two_eligible_slices_give_no_gap(sizes: dict, min_slice_size: int) -> None:
    y, cand, base, values = sliced_regression(sizes, seed=4)
    results, gap = compare_slices("mse", y, cand, base, values, min_slice_size=min_slice_size, **SETTINGS)
    assert gap is None
    assert len(results) == len(sizes)
    assert sum(entry.result is not None for entry in results) == 1


def test_float_slice_values() -> None:
    y, cand, base, values = sliced_regression({0.5: 60, 1.5: 40}, seed=5)
    results, gap = compare_slices("mse", y, cand, base, values.astype(float), min_slice_size=30, **SETTINGS)
    assert [entry.value for entry in results] == [0.5, 1.5]
    assert all(type(entry.value) is float for entry in results)
    assert gap is not None and not math.isnan(gap.high)


@pytest.mark.parametrize(
    ("column", "match"),
    [
        ("nan", "NaN"),
        ("short", "expected 100 values"),
        ("two-d", "expected 100 values"),
        ("mixed", "mixed types"),
    ],
    ids=["nan", "length-mismatch", "two-d", "mixed-types"],
)
def test_bad_slice_columns_are_input_errors(column: str, match: str) -> None:
    y, cand, base, values = sliced_regression({0.0: 50, 1.0: 50}, seed=6)
    values = values.astype(float)
    if column == "nan":
        values[[3, 7]] = np.nan
    elif column == "short":
        values = values[:-1]
    elif column == "two-d":
        values = values.reshape(50, 2)
    else:
        values = np.array(["a", 1] * 50, dtype=object)
    with pytest.raises(MetricInputError, match=match):
        compare_slices("mse", y, cand, base, values, min_slice_size=30, **SETTINGS)


def test_weights_and_groups_are_cut_to_each_slice() -> None:
    sizes = {"a": 120, "b": 90}
    y, cand, base, values = sliced_regression(sizes, seed=7)
    weight = np.random.default_rng(0).integers(1, 4, len(y)).astype(float)
    groups = np.arange(len(y)) // 3  # 3-row groups never straddle the two contiguous slices
    results, _ = compare_slices(
        "mse", y, cand, base, values, min_slice_size=30, sample_weight=weight, groups=groups, **SETTINGS
    )
    for entry in results:
        mask = values == entry.value
        alone = paired_bootstrap(
            "mse", y[mask], cand[mask], base[mask], alpha=0.05, resamples=400, method="bca",
            seed=slice_seed(7, entry.value), sample_weight=weight[mask], groups=groups[mask],
        )
        assert entry.result == alone
        assert entry.result.weighted and entry.result.grouped
        assert entry.result.units == sizes[entry.value] // 3


def test_a_slice_with_undefined_replicates_makes_the_gap_interval_nan() -> None:
    # slice "rare" has 3 positives in 40 rows: some resamples hold none, where its AUC is undefined
    rng = np.random.default_rng(8)
    values = np.array(["common"] * 200 + ["rare"] * 40)
    y = np.concatenate([rng.integers(0, 2, 200), [1, 1, 1] + [0] * 37])
    cand = y + rng.normal(size=240)
    base = y + 1.5 * rng.normal(size=240)
    results, gap = compare_slices("roc_auc", y, cand, base, values, min_slice_size=30, **SETTINGS)
    rare = results[1].result
    assert math.isnan(rare.low) and math.isfinite(rare.candidate)
    assert math.isfinite(gap.gap) and math.isnan(gap.low) and math.isnan(gap.high)
