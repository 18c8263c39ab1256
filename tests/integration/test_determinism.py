"""Gate numbers depend on the data, the models and the master seed: not on order, selection or reruns."""

from __future__ import annotations

GATES = {
    "test_accuracy": ('gate.quality("accuracy", min_delta=0)', "model.predict(data.X)"),
    "test_log_loss": ('gate.quality("log_loss", min_delta=0)', "model.predict_proba(data.X)"),
    "test_auc": ('gate.quality("roc_auc", threshold=0.8)', "model.predict_proba(data.X)"),
}


def _source(helpers, order) -> str:
    return "".join(helpers.gate_source(name, *GATES[name]) for name in order)


def _numbers(helpers, project) -> dict:
    verdict = project.verdict()
    return {gate["id"]: helpers.gate_numbers(gate) for gate in verdict["gates"]}


def test_two_runs_give_identical_numbers(make_project, helpers):
    project = make_project(models="toy", tests=_source(helpers, GATES))

    first = project.run("--promote")
    numbers_first = _numbers(helpers, project)
    second = project.run("--promote")
    numbers_second = _numbers(helpers, project)

    assert first.ret == second.ret == 0
    assert len(numbers_first) == 3
    assert numbers_first == numbers_second


def test_order_and_selection_do_not_change_a_gates_numbers(make_project, helpers):
    project = make_project(models="toy", tests=_source(helpers, GATES))
    assert project.run("--promote").ret == 0
    reference = _numbers(helpers, project)

    project.write_tests(_source(helpers, reversed(list(GATES))))
    assert project.run("--promote").ret == 0
    reordered = _numbers(helpers, project)

    project.run("--promote", "-k", "test_log_loss")
    selected = _numbers(helpers, project)

    assert reordered == reference
    assert list(selected) == ["test_gates.py::test_log_loss"]
    assert selected["test_gates.py::test_log_loss"] == reference["test_gates.py::test_log_loss"]


def test_master_seed_changes_the_resamples_not_the_estimates(make_project, helpers):
    project = make_project(models="toy", tests=_source(helpers, ["test_accuracy"]))
    project.run("--promote")
    before = helpers.gate_entry(project.verdict(), "test_accuracy")

    project.config_path.write_text(project.config_path.read_text().replace("seed: 12345", "seed: 999"))
    project.run("--promote")
    after = helpers.gate_entry(project.verdict(), "test_accuracy")

    assert project.verdict()["envelope"]["seed"] == 999
    assert after["seed"] != before["seed"]
    assert (after["candidate"], after["baseline"], after["delta"]) == (before["candidate"], before["baseline"], before["delta"])
    assert (after["ci"]["low"], after["ci"]["high"]) != (before["ci"]["low"], before["ci"]["high"])
