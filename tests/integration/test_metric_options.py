"""Per-gate options and promote.yaml's engine settings, end to end: method=, sample_weight=, groups=,
a ranking metric over query groups, and ``bootstrap: {memory_mb, threads}``."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from .conftest import ACCURACY_GATE, LOG_LOSS_GATE

PROBA = "model.predict_proba(data.X)"


def test_per_gate_method_overrides_the_config(make_project, helpers):
    tests = "".join(
        [
            helpers.gate_source("test_percentile", 'gate.quality("accuracy", min_delta=0, method="percentile")'),
            helpers.gate_source("test_default", 'gate.quality("accuracy", min_delta=0)'),
        ]
    )
    project = make_project(models="toy", tests=tests, config={"bootstrap": {"method": "bca"}})

    result = project.run("--promote")

    assert result.ret == 0, result.stdout.str()
    verdict = project.verdict()
    percentile = helpers.gate_entry(verdict, "test_percentile")
    default = helpers.gate_entry(verdict, "test_default")
    assert percentile["ci"]["method"] == "percentile"
    assert default["ci"]["method"] == "bca"
    assert percentile["ci"]["resamples"] == default["ci"]["resamples"] == 1000
    assert percentile["delta"] == default["delta"]  # same data, same point estimate; only the interval differs


WEIGHTS_AND_GROUPS = """
@gate.quality("accuracy", min_delta=0)
def test_weighted(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X), data.y, dataset="holdout", sample_weight=data.column("weight"))

@gate.quality("accuracy", min_delta=0)
def test_grouped(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X), data.y, dataset="holdout", groups=data.column("customer"))

@gate.quality("accuracy", min_delta=0)
def test_plain(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X), data.y, dataset="holdout")

@gate.quality("ndcg@5", min_delta=0)
def test_ndcg(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict_proba(data.X)[:, 1], data.y, dataset="holdout", groups=data.column("query"))
"""


def test_weights_groups_and_a_ranking_metric_reach_the_verdict(make_project, helpers):
    project = make_project(models="toy", tests=WEIGHTS_AND_GROUPS)
    rows = np.arange(len(project.artifacts.y))
    weight = 1 + rows % 3  # 1, 2, 3, 1, 2, 3, ...
    customer = rows // 4  # 500 customers of 4 rows each
    query = rows // 10  # 200 queries of 10 documents each; the label is the relevance grade
    project.use_table("holdout", "data/holdout.csv", extra_columns={"weight": weight, "customer": customer, "query": query})

    result = project.run("--promote")

    assert result.ret == 0, result.stdout.str()
    verdict = project.verdict()
    assert verdict["decision"] == "promote"
    weighted = helpers.gate_entry(verdict, "test_weighted")
    grouped = helpers.gate_entry(verdict, "test_grouped")
    plain = helpers.gate_entry(verdict, "test_plain")
    ndcg = helpers.gate_entry(verdict, "test_ndcg")

    assert (weighted["weighted"], weighted["grouped"], weighted["n"], weighted["units"]) == (True, False, 2000, 2000)
    assert (grouped["weighted"], grouped["grouped"], grouped["n"], grouped["units"]) == (False, True, 2000, 500)
    assert (plain["weighted"], plain["grouped"], plain["units"]) == (False, False, 2000)
    # the weights change the estimate (a weighted mean), the groups only the interval
    y = project.artifacts.y
    good = pickle.loads(project.artifacts.models["toy"]["good"])
    correct = good.predict(project.artifacts.X) == y
    assert weighted["candidate"] == pytest.approx(np.average(correct, weights=weight))
    assert weighted["candidate"] != pytest.approx(plain["candidate"], abs=1e-6)
    assert grouped["candidate"] == pytest.approx(plain["candidate"]) and grouped["delta"] == pytest.approx(plain["delta"])
    # closed-form cross-checks assume unweighted, independent examples: none for these
    assert weighted["cross_check"] is None and grouped["cross_check"] is None
    assert plain["cross_check"]["method"] == "mcnemar_exact"

    assert (ndcg["metric"], ndcg["grouped"], ndcg["units"], ndcg["n"]) == ("ndcg@5", True, 200, 2000)
    assert ndcg["outcome"] == "passed" and ndcg["higher_is_better"] is True
    assert 0 < ndcg["baseline"] < ndcg["candidate"] <= 1 and ndcg["ci"]["low"] > 0
    assert ndcg["engine"] in ("index", "multinomial")
    assert ndcg["rule"] == "delta > 0 at 95% confidence"


def test_ranking_metric_without_groups_is_bad_input(make_project, helpers):
    tests = helpers.gate_source("test_ndcg", 'gate.quality("ndcg@5", min_delta=0)', predict=PROBA + "[:, 1]")
    project = make_project(models="toy", tests=tests)

    result = project.run("--promote")

    assert result.ret == 1
    verdict = project.verdict()
    assert "bad_input" in helpers.reason_codes(verdict)
    (message,) = [r["message"] for r in verdict["reasons"] if r["code"] == "bad_input"]
    assert "ndcg@5 is a ranking metric: pass groups=query_ids to compare()" in message


ENGINE_GATES = ACCURACY_GATE + LOG_LOSS_GATE + """
@gate.quality("roc_auc", min_delta=0)
def test_auc(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict_proba(data.X), data.y, dataset="holdout")
"""


def test_memory_and_threads_are_accepted_and_change_no_number(make_project, helpers):
    project = make_project(models="toy", tests=ENGINE_GATES)
    default = project.run("--promote")
    default_gates = project.verdict()["gates"]
    project.update_config({"bootstrap": {"memory_mb": 16, "threads": 1}})

    tuned = project.run("--promote")

    assert default.ret == tuned.ret == 0, tuned.stdout.str()
    tuned_gates = project.verdict()["gates"]
    assert {g["engine"] for g in tuned_gates} == {"multinomial", "index", "rank"}  # every engine path ran
    assert [helpers.gate_numbers(g) for g in tuned_gates] == [helpers.gate_numbers(g) for g in default_gates]
    assert tuned_gates == default_gates


@pytest.mark.parametrize(
    ("bootstrap", "line"),
    [
        pytest.param({"memory_mb": 4}, "bootstrap.memory_mb: expected an integer >= 16 (MiB), got 4", id="memory-too-small"),
        pytest.param({"memory_mb": "lots"}, "bootstrap.memory_mb: expected an integer >= 16 (MiB), got 'lots'", id="memory-not-int"),
        pytest.param({"threads": 0}, "bootstrap.threads: expected 'auto' or a positive integer, got 0", id="threads-zero"),
    ],
)
def test_bad_engine_setting_is_a_usage_error(make_project, bootstrap, line):
    project = make_project(models="toy", config={"bootstrap": bootstrap})

    result = project.run("--promote")

    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str() + result.stderr.str()
    lines = [text for text in result.stderr.lines if text.strip()]
    assert lines == [f"ERROR: {project.config_path}: {line}"]
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
