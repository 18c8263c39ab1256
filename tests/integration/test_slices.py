"""``slice_by=``: per-slice comparisons, a regression in one slice blocks, and the slice-gap guardrail.

The hold-out gets a ``region`` column that is not a feature: three large regions cut at the
terciles of ``f3`` (a feature both models nearly ignore, so every region sees about the same
accuracies: good about 0.85, weak about 0.68, on about 660 rows each) and a tiny ``island`` of
20 rows, below ``min_slice_size``. Phase two swaps in a candidate that answers 1 everywhere in
the south (accuracy about 0.5 there, still about 0.75 overall): better than the baseline
overall, clearly worse in one region.
"""

from __future__ import annotations

import numpy as np
import pytest

from .conftest import MODES

ISLAND = 20
REGIONS = ("east", "island", "north", "south")  # sorted: the verdict lists slices in this order

TESTS = """
@gate.quality("accuracy", min_delta=0, slice_by="region")
def test_every_region_better(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X), data.y, dataset="holdout")

@gate.quality("accuracy", threshold=0.4, slice_by="region", max_slice_gap=0.1)
def test_regions_even(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X), data.y, dataset="holdout")
"""

SOUTH_BLIND = """
import pickle
from pathlib import Path

import numpy as np

SOUTH = {south!r}  # f3 above this: the south region


class SouthBlind:
    \"\"\"The pinned candidate, except that it answers 1 for every row in the south.\"\"\"

    def __init__(self, inner):
        self.inner = inner

    def predict(self, X):
        return np.where(np.asarray(X)[:, 3] > SOUTH, 1, self.inner.predict(X))


def load_candidate():
    return SouthBlind(pickle.loads((Path(__file__).parent / "models" / "candidate.pkl").read_bytes()))
"""


def regions(artifacts) -> tuple[np.ndarray, float]:
    """The region of every hold-out row, and the f3 cut above which a row is in the south."""
    f3 = artifacts.X[:, 3]
    low, high = np.quantile(f3, [1 / 3, 2 / 3])
    region = np.where(f3 <= low, "north", np.where(f3 <= high, "east", "south")).astype(object)
    region[:ISLAND] = "island"
    return region, float(high)


def regional_project(make_project, **options):
    project = make_project(models="toy", tests=TESTS, **options)
    region, _ = regions(project.artifacts)
    project.use_table("holdout", "data/holdout.csv", extra_columns={"region": region})
    return project



def by_value(entry: dict) -> dict:
    return {piece["value"]: piece for piece in entry["slices"]}


@pytest.mark.parametrize("mode", MODES)
def test_regression_in_one_region_blocks(make_project, helpers, mode):
    project = regional_project(make_project)
    region, south = regions(project.artifacts)

    # phase 1: the good candidate beats the weak baseline in every region, and evenly
    result, verdict = project.promote_in_mode(mode)

    assert result.ret == 0, result.stdout.str()
    assert verdict["decision"] == "promote" and verdict["reasons"] == []
    better = helpers.gate_entry(verdict, "test_every_region_better")
    assert better["rule"] == "delta > 0 in every region slice of >= 100 rows at 95% confidence"
    assert [piece["value"] for piece in better["slices"]] == list(REGIONS)
    slices = by_value(better)
    for name in REGIONS:
        assert slices[name]["rows"] == int(np.sum(region == name))
    island = slices["island"]
    assert (island["rows"], island["skipped"], island["passed"]) == (ISLAND, True, None)
    assert island["delta"] is None and island["ci"] is None
    for name in ("east", "north", "south"):
        piece = slices[name]
        assert piece["rows"] > 600 and piece["skipped"] is False and piece["passed"] is True
        assert piece["ci"]["low"] > 0 and piece["ci"]["method"] == "bca" and piece["ci"]["resamples"] == 1000
        assert piece["ci"]["low"] <= piece["delta"] <= piece["ci"]["high"]
    assert better["n"] == 2000  # the overall comparison is still made on every row
    even = helpers.gate_entry(verdict, "test_regions_even")
    gap = even["slice_gap"]
    assert (gap["slices"], gap["max"], gap["passed"]) == (3, 0.1, True)
    assert 0 <= gap["gap"] <= gap["high"] < 0.1
    assert better["slice_gap"] is None or better["slice_gap"]["max"] is None

    # phase 2: a candidate that is worse in the south only
    (project.path / "regional.py").write_text(SOUTH_BLIND.format(south=south))
    project.update_config({"models": {"candidate": {"path": None, "sha256": None, "loader": "regional:load_candidate"}}})

    result, verdict = project.promote_in_mode(mode)

    assert result.ret == 1, result.stdout.str()
    assert verdict["decision"] == "block"
    assert sorted(helpers.reason_codes(verdict)) == ["gate_failed", "gate_failed"]
    better = helpers.gate_entry(verdict, "test_every_region_better")
    assert better["outcome"] == "failed"
    assert better["delta"] > 0.03 and better["ci"]["low"] > 0  # overall it is still better ...
    slices = by_value(better)
    assert slices["south"]["passed"] is False and slices["south"]["delta"] < -0.1  # ... but not in the south
    assert slices["east"]["passed"] is True and slices["north"]["passed"] is True
    assert slices["island"]["skipped"] is True
    assert better["message"].startswith("slice region='south': the lower confidence bound of delta is -0.")
    for other in ("east", "north", "island"):
        assert other not in better["message"]
    (reason,) = [r for r in verdict["reasons"] if "test_every_region_better" in r["message"]]
    assert "slice region='south'" in reason["message"]
    result.stdout.fnmatch_lines(["*gate accuracy failed: rule delta > 0 in every region slice*: slice region='south': *"])

    # the guardrail: every region still clears 0.4, but the gap between regions does not stay under 0.1
    even = helpers.gate_entry(verdict, "test_regions_even")
    assert even["outcome"] == "failed"
    assert all(piece["passed"] is not False for piece in even["slices"])
    gap = even["slice_gap"]
    assert gap["passed"] is False and gap["gap"] > 0.25 and gap["low"] > 0.1
    assert even["message"].startswith("the upper confidence bound of the slice gap is 0.")
    assert even["message"].endswith("not below 0.1")


ERROR_TESTS = """
@gate.quality("accuracy", min_delta=0, slice_by="region")
def test_no_dataset(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X), data.y)

@gate.quality("accuracy", min_delta=0, slice_by="regoin")
def test_unknown_column(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X), data.y, dataset="holdout")

@gate.quality("accuracy", min_delta=0, slice_by="region")
def test_fine(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X), data.y, dataset="holdout")
"""


def test_slice_usage_errors_block(make_project, helpers):
    project = regional_project(make_project)
    project.write_tests(ERROR_TESTS)

    result = project.run("--promote")

    assert result.ret == 1
    result.assert_outcomes(passed=1, failed=2)
    verdict = project.verdict()
    assert verdict["decision"] == "block"
    no_dataset = helpers.gate_entry(verdict, "test_no_dataset")
    unknown = helpers.gate_entry(verdict, "test_unknown_column")
    assert no_dataset["outcome"] == unknown["outcome"] == "error"
    assert helpers.gate_entry(verdict, "test_fine")["outcome"] == "passed"
    assert sorted(helpers.reason_codes(verdict)) == ["data_error", "gate_error", "gate_error"]
    (usage,) = [r["message"] for r in verdict["reasons"] if r["code"] == "gate_error" and "test_no_dataset" in r["message"]]
    assert "slice_by='region' needs promote.compare(..., dataset=NAME)" in usage
    # slice_by without dataset= says what to do
    assert "slice_by='region' needs promote.compare(..., dataset=NAME)" in no_dataset["message"]
    # an unknown column lists the ones there are, non-feature columns included
    (data_error,) = [r["message"] for r in verdict["reasons"] if r["code"] == "data_error"]
    assert data_error == f"dataset 'holdout' has no column 'regoin' (columns: {', '.join(helpers.FEATURES)}, label, region)"
    assert "regoin" in unknown["message"]
