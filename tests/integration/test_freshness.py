"""Freshness: a dataset older than its ``max_age`` (by the file's modification time or by its
newest ``as_of`` value) blocks the run with reason ``stale_data``, or with ``on_stale: warn``
loads and warns."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone

import pytest

DAY = 86400

#: an ordinary test beside the gate: what the dataset itself reports
AGE_TEST = """
def test_dataset_age(dataset):
    data = dataset("holdout")
    assert data.age["stale"] is STALE and data.age["source"] == SOURCE
    assert [w for w in data.warnings if "is stale" in w] == ([data.warnings[0]] if STALE else [])
"""


def age_test(*, stale: bool, source: str) -> str:
    return f"STALE = {stale}\nSOURCE = {source!r}\n" + AGE_TEST


def set_age(project, days: float) -> None:
    """Date the hold-out file's modification time ``days`` back from now."""
    stamp = time.time() - days * DAY
    os.utime(project.path / "data" / "holdout.csv", (stamp, stamp))


def test_an_old_file_blocks(make_project, helpers, verdict_validator):
    project = make_project(models="toy", config={"datasets": {"holdout": {"max_age": "30d"}}})
    set_age(project, 41.2)

    result = project.run("--promote")

    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    result.stdout.fnmatch_lines(["*[[]stale_data[]] datasets.holdout: *holdout.csv is stale: 41d 4h old, more than max_age 30d (file modified *Z)*"])
    verdict = project.verdict()
    verdict_validator.validate(verdict)
    assert verdict["decision"] == "block"
    assert "stale_data" in helpers.reason_codes(verdict)
    assert helpers.gate_entry(verdict, "test_accuracy")["outcome"] == "error"


@pytest.mark.parametrize(("days", "stale"), [(2, False), (10, True)], ids=["newer", "older"])
def test_as_of_column_against_the_limit(make_project, helpers, days, stale):
    tests = helpers.ACCURACY_GATE + ("" if stale else age_test(stale=False, source="as_of:event_time"))
    project = make_project(models="toy", tests=tests)
    now = datetime.now(timezone.utc)
    # the newest event decides (row 1); the file itself was just written
    times = [(now - timedelta(days=days + i % 30)).strftime("%Y-%m-%dT%H:%M:%SZ") for i in range(2000)]
    times[5] = ""  # a missing time is ignored
    project.use_table("holdout", "data/holdout.csv", extra_columns={"event_time": times})
    project.update_config({"datasets": {"holdout": {"max_age": "7d", "as_of": "event_time"}}})

    result = project.run("--promote")

    verdict = project.verdict()
    if not stale:
        assert result.ret == 0, result.stdout.str()
        result.assert_outcomes(passed=2)
        assert verdict["decision"] == "promote"
        return
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    [reason] = [r for r in verdict["reasons"] if r["code"] == "stale_data"]
    expected = f"is stale: 10d old, more than max_age 7d (newest event_time {times[0]})"
    assert reason["message"].endswith(expected)
    result.stdout.fnmatch_lines([f"*[[]stale_data[]] datasets.holdout: *holdout.csv {expected}*"])


@pytest.mark.parametrize("on_stale", ["block", "warn"])
def test_on_stale_warn_promotes_and_block_does_not(make_project, helpers, on_stale):
    tests = helpers.ACCURACY_GATE + age_test(stale=True, source="mtime")
    project = make_project(models="toy", tests=tests, config={"datasets": {"holdout": {"max_age": "12h", "on_stale": on_stale}}})
    set_age(project, 3)

    result = project.run("--promote")

    verdict = project.verdict()
    if on_stale == "block":
        assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
        assert verdict["decision"] == "block" and "stale_data" in helpers.reason_codes(verdict)
        return
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(passed=2)
    assert verdict["decision"] == "promote"
    assert any("datasets.holdout" in w and "is stale: 3d old, more than max_age 12h (file modified " in w for w in verdict["warnings"])
    age = verdict["envelope"]["datasets"]["holdout"]["age"]
    assert age["source"] == "mtime" and age["stale"] is True and age["max_age_seconds"] == 12 * 3600
    assert 3 * 86400 <= age["seconds"] < 3 * 86400 + 600
