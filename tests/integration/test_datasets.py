"""Datasets: .csv, .npz and .jsonl load alike; unknown names and changed files fail clearly."""

from __future__ import annotations

import pytest

THREE_FORMATS = """
import numpy as np

@gate.quality("accuracy", min_delta=0)
def test_csv(promote, dataset):
    data = dataset("tabular")
    promote.compare(lambda model: model.predict(data.X), data.y, dataset="tabular")

@gate.quality("accuracy", min_delta=0)
def test_npz(promote, dataset):
    data = dataset("arrays")
    promote.compare(lambda model: model.predict(data.X), data.y, dataset="arrays")

@gate.quality("accuracy", min_delta=0)
def test_jsonl(promote, dataset):
    data = dataset("records")
    promote.compare(lambda model: model.predict(data.X), data.y, dataset="records")

def test_same_data_in_every_format(dataset):
    tabular, arrays, records = dataset("tabular"), dataset("arrays"), dataset("records")
    for data in (tabular, arrays, records):
        assert data.X.shape == (2000, 8) and data.X.dtype == np.float64
        assert data.y.shape == (2000,) and data.n == 2000
    assert np.array_equal(tabular.X, arrays.X) and np.array_equal(tabular.X, records.X)
    assert np.array_equal(tabular.y, arrays.y) and np.array_equal(tabular.y, records.y)
    assert tabular.columns == records.columns == tuple(f"f{i}" for i in range(8))
    assert (tabular.name, arrays.name, records.name) == ("tabular", "arrays", "records")
    assert dataset("tabular") is tabular  # loaded once per session
"""


def test_csv_npz_and_jsonl_datasets(make_project, helpers):
    project = make_project(models="toy", tests=THREE_FORMATS)
    shas = {
        "tabular": project.write_dataset("data/holdout.csv", "csv"),
        "arrays": project.write_dataset("data/holdout.npz", "npz"),
        "records": project.write_dataset("data/holdout.jsonl", "jsonl"),
    }
    project.write_config(
        {
            "version": 1,
            "bootstrap": {"resamples": 1000},
            "models": {
                role: {"path": f"models/{role}.pkl", "sha256": project.shas[f"models/{role}.pkl"]}
                for role in ("candidate", "baseline")
            },
            "datasets": {
                "tabular": {"path": "data/holdout.csv", "target": "label", "sha256": shas["tabular"]},
                "arrays": {"path": "data/holdout.npz", "sha256": shas["arrays"]},
                "records": {"path": "data/holdout.jsonl", "target": "label", "sha256": shas["records"]},
            },
        }
    )

    result = project.run("--promote")

    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=4)
    verdict = project.verdict()
    assert verdict["decision"] == "promote"
    formats = {"tabular": "csv", "arrays": "npz", "records": "jsonl"}
    gates = {name: helpers.gate_entry(verdict, f"test_{fmt}") for name, fmt in formats.items()}
    for name, gate in gates.items():
        assert gate["dataset"] == {"name": name, "sha256": shas[name], "rows": 2000}
        assert verdict["envelope"]["datasets"][name]["sha256"] == shas[name]
        assert verdict["envelope"]["datasets"][name]["rows"] == 2000
    estimates = {(g["candidate"], g["baseline"], g["delta"], g["n"]) for g in gates.values()}
    assert len(estimates) == 1


def test_unknown_dataset_name_lists_the_configured_ones(make_project, helpers):
    tests = helpers.gate_source("test_typo", dataset="holdot")
    project = make_project(models="toy", tests=tests)

    result = project.run("--promote")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*unknown dataset 'holdot' (configured in promote.yaml: holdout)*"])
    verdict = project.verdict()
    assert verdict["decision"] == "block"
    assert "data_error" in helpers.reason_codes(verdict)
    assert helpers.gate_entry(verdict, "test_typo")["outcome"] == "error"


def test_changed_dataset_fails_naming_both_hashes(make_project, helpers):
    project = make_project(models="toy")
    pinned = project.shas["data/holdout.csv"]
    csv = project.path / "data" / "holdout.csv"
    lines = csv.read_text().splitlines(keepends=True)
    actual = project.write_bytes("data/holdout.csv", "".join(lines[:-1]).encode())  # one row dropped after pinning

    result = project.run("--promote")

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [f"*datasets.holdout: *holdout.csv: sha256 mismatch: promote.yaml pins {pinned} but the file's sha256 is {actual}*"]
    )
    verdict = project.verdict()
    assert verdict["decision"] == "block"
    assert "data_error" in helpers.reason_codes(verdict)
    assert verdict["envelope"]["datasets"]["holdout"]["sha256"] == actual


def test_envelope_records_rows_of_a_dataset_the_session_loaded(make_project):
    """The envelope records "each dataset's sha256 and row count" (issue 2).

    Here the gate loads ``dataset("holdout")`` and compares on it without naming it in
    ``promote.compare(..., dataset=...)`` (the README's second example does the same): the
    session read all 2000 rows, so the verdict should say so.
    """
    tests = """
@gate.quality("accuracy", min_delta=0)
def test_accuracy(promote, dataset):
    holdout = dataset("holdout")
    promote.compare(lambda model: model.predict(holdout.X), holdout.y)
"""
    project = make_project(models="toy", tests=tests)

    result = project.run("--promote")

    assert result.ret == 0, result.stdout.str()
    recorded = project.verdict()["envelope"]["datasets"]["holdout"]
    assert recorded["sha256"] == project.shas["data/holdout.csv"]
    assert recorded["rows"] == 2000
