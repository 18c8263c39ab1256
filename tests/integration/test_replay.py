"""``--promote-replay OLD.json``: the same gates, with the old verdict's seeds, on the same bytes."""

from __future__ import annotations

import json

import pytest

from pytest_promote.verdict import verdict_digest

from .conftest import LOG_LOSS_GATE, MODES

GATES = """
@gate.quality("accuracy", min_delta=0)
def test_accuracy(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X), data.y, dataset="holdout")
""" + LOG_LOSS_GATE


def promoted(make_project):
    project = make_project(models="toy", tests=GATES)
    first = project.run("--promote")
    assert first.ret == 0, first.stdout.str()
    project.verdict_path.rename(project.path / "old.json")
    return project, project.verdict(project.path / "old.json")


@pytest.mark.parametrize("mode", MODES)
def test_a_replay_reproduces_every_number(make_project, helpers, verdict_validator, mode):
    project, old = promoted(make_project)

    result = project.run("--promote", "--promote-replay", "old.json", *mode)

    assert result.ret == 0, result.stdout.str()
    new = project.verdict()
    verdict_validator.validate(new)
    assert new["replay_of"] == verdict_digest(old) and new["reproduced"] is True
    assert [(entry["id"].split("::")[1], entry["status"]) for entry in new["replay"]["gates"]] == [
        ("test_accuracy", "reproduced"), ("test_log_loss", "reproduced"),
    ]  # fmt: skip
    assert [helpers.gate_numbers(g) for g in new["gates"]] == [helpers.gate_numbers(g) for g in old["gates"]]
    assert new["replay"]["package_changes"] == {}


def test_the_envelope_records_what_a_replay_needs(make_project, helpers):
    project, old = promoted(make_project)
    envelope = old["envelope"]
    assert envelope["gate_seeds"] == {gate["id"]: gate["seed"] for gate in old["gates"]}
    assert envelope["test_files"] == {"test_gates.py": helpers.sha256_path(project.path / "test_gates.py")}
    assert "--promote" in envelope["pytest_args"]
    assert envelope["distributions"]["pytest"] == envelope["packages"]["pytest"]
    assert "pytest-promote" in envelope["distributions"]


def test_a_replay_uses_the_verdicts_seeds_not_the_configs(make_project, helpers):
    project, old = promoted(make_project)
    project.update_config({"seed": 999})

    result = project.run("--promote", "--promote-replay", "old.json")

    assert result.ret == 0, result.stdout.str()
    new = project.verdict()
    assert new["reproduced"] is True
    assert [g["seed"] for g in new["gates"]] == [g["seed"] for g in old["gates"]]
    # a plain run with the new master seed draws other resamples
    assert project.run("--promote").ret == 0
    assert [g["seed"] for g in project.verdict()["gates"]] != [g["seed"] for g in old["gates"]]


def test_changed_data_stops_the_replay_naming_the_dataset(make_project, helpers):
    project, old = promoted(make_project)
    path = project.path / "data" / "holdout.csv"
    data = path.read_bytes()
    path.write_bytes(data[:-2] + (b"0" if data[-2:-1] == b"1" else b"1") + b"\n")  # the last row's label flips
    project.update_config({"datasets": {"holdout": {"sha256": helpers.sha256_path(path)}}})  # re-pinned, deliberately

    result = project.run("--promote", "--promote-replay", "old.json")

    assert result.ret == 4  # nothing ran: a usage error, after a block verdict
    result.stderr.fnmatch_lines(["*--promote-replay*old.json: not the bytes the verdict evaluated: dataset 'holdout' has sha256 *"])
    verdict = project.verdict()
    assert verdict["decision"] == "block" and helpers.reason_codes(verdict) == ["replay_mismatch"]
    assert verdict["gates"] == []


def test_different_numbers_block_with_a_per_gate_diff(make_project, helpers):
    project, old = promoted(make_project)
    old["gates"][0]["ci"]["low"] += 1e-12  # one number, in the last digits
    (project.path / "old.json").write_text(json.dumps(old))

    result = project.run("--promote", "--promote-replay", "old.json")

    assert result.ret == 1
    new = project.verdict()
    assert new["reproduced"] is False
    first, second = new["replay"]["gates"]
    assert first["status"] == "differs" and second["status"] == "reproduced"
    assert first["diff"]["ci"]["verdict"]["low"] == old["gates"][0]["ci"]["low"]
    assert first["diff"]["ci"]["now"]["low"] == new["gates"][0]["ci"]["low"]
    assert helpers.reason_codes(new) == ["not_reproduced"]
    assert "1 gate(s) differ: test_gates.py::test_accuracy; installed packages are the same" in new["reasons"][0]["message"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(None, "old.json: no such file", id="missing"),
        pytest.param("{not json", "old.json: not a readable verdict", id="malformed"),
        pytest.param('{"decision": "promote"}', "old.json: not a pytest-promote verdict", id="not-a-verdict"),
    ],
)
def test_an_unusable_verdict_is_a_usage_error(make_project, helpers, content, message):
    project = make_project(models="toy", tests=GATES)
    if content is not None:
        (project.path / "old.json").write_text(content)

    result = project.run("--promote", "--promote-replay", "old.json")

    assert result.ret == 4
    result.stderr.fnmatch_lines([f"*{message}*"])
    assert helpers.reason_codes(project.verdict()) == ["replay_mismatch"]
