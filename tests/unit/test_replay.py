"""The replay comparison in the core: reading an old verdict, identities, per-gate diffs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_promote.verdict import verdict_digest
from pytest_promote.verdict.replay import ReplayError, compare_gates, identity_mismatches, load_replay_source


def gate(node: str, kind: str = "quality", **fields) -> dict:
    entry = {"id": node, "kind": kind, "measured": True, "candidate": 0.9, "baseline": 0.8, "delta": 0.1,
             "ci": {"low": 0.05, "high": 0.15}, "candidate_ci": None, "n": 100, "seed": 7, "passed": True, "outcome": "passed"}  # fmt: skip
    entry.update(fields)
    return entry


def old_verdict(tmp_path: Path, gates: list[dict]) -> Path:
    verdict = {
        "decision": "promote", "gates": gates, "candidate": {"sha256": "a" * 64}, "baseline": {"sha256": "b" * 64},
        "envelope": {"seed": 3, "datasets": {"holdout": {"sha256": "d" * 64}}, "distributions": {"numpy": "2.0.0", "pytest": "8.3.0"}},
    }  # fmt: skip
    path = tmp_path / "old.json"
    path.write_text(json.dumps(verdict))
    return path


def test_the_source_carries_seeds_identities_and_the_digest(tmp_path) -> None:
    path = old_verdict(tmp_path, [gate("t.py::a", seed=11), gate("t.py::b", seed=None)])
    source = load_replay_source(path)
    assert source.digest == verdict_digest(json.loads(path.read_text()))
    assert source.seeds == {"t.py::a": 11} and source.seed_for("t.py::b") is None and source.master_seed == 3
    assert source.models == {"candidate": "a" * 64, "baseline": "b" * 64} and source.datasets == {"holdout": "d" * 64}


def test_identity_mismatches_name_each_difference(tmp_path) -> None:
    source = load_replay_source(old_verdict(tmp_path, []))
    assert identity_mismatches(source, {"candidate": "a" * 64, "baseline": "b" * 64}, {"holdout": "d" * 64}) == []
    found = identity_mismatches(source, {"candidate": "c" * 64, "baseline": "b" * 64}, {})
    assert found == [f"the candidate model's sha256 is {'c' * 64}, the verdict's {'a' * 64}", "dataset 'holdout' of the verdict is not configured here"]


def test_gates_compare_field_by_field(tmp_path) -> None:
    source = load_replay_source(old_verdict(tmp_path, [gate("t.py::a"), gate("t.py::b"), gate("t.py::gone"), gate("t.py::lat", kind="latency")]))
    new = [gate("t.py::a"), gate("t.py::b", ci={"low": 0.0500000001, "high": 0.15}), gate("t.py::lat", kind="latency", candidate=1.7),
           gate("t.py::added")]  # fmt: skip
    report = compare_gates(source, new, {"numpy": "2.0.0", "pytest": "8.4.0"})
    statuses = {entry["id"]: entry["status"] for entry in report["gates"]}
    assert statuses == {"t.py::a": "reproduced", "t.py::b": "differs", "t.py::gone": "missing", "t.py::lat": "remeasured", "t.py::added": "new"}
    differs = next(entry for entry in report["gates"] if entry["id"] == "t.py::b")
    assert differs["diff"] == {"ci": {"verdict": {"low": 0.05, "high": 0.15}, "now": {"low": 0.0500000001, "high": 0.15}}}
    assert report["reproduced"] is False and report["of"] == source.digest
    assert report["package_changes"] == {"pytest": {"verdict": "8.3.0", "now": "8.4.0"}}


def test_remeasured_latency_alone_still_reproduces(tmp_path) -> None:
    source = load_replay_source(old_verdict(tmp_path, [gate("t.py::a"), gate("t.py::lat", kind="latency")]))
    report = compare_gates(source, [gate("t.py::a"), gate("t.py::lat", kind="latency", candidate=2.0)], source.packages)
    assert report["reproduced"] is True and report["package_changes"] == {}


@pytest.mark.parametrize(("text", "message"), [(None, "no such file"), ("[1, 2", "not a readable verdict"), ('{"gates": 3}', "not a pytest-promote verdict")])
def test_unusable_sources_raise_replay_error(tmp_path, text, message) -> None:
    path = tmp_path / "old.json"
    if text is not None:
        path.write_text(text)
    with pytest.raises(ReplayError, match=message) as raised:
        load_replay_source(path)
    assert raised.value.code == "replay_mismatch"
