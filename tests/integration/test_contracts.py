"""Data contracts: a dataset that keeps its promote.yaml contract gates as usual; one that
breaks it blocks the run with reason ``contract_violation``, every broken rule named."""

from __future__ import annotations

import pytest

FEATURE_SCHEMA = {f"f{i}": {"type": "float"} for i in range(8)}
LABEL_RULE = {"label": {"type": "int", "allowed": [0, 1]}}


def plans(rows: int, bad: dict[int, str]) -> list[str]:
    """A ``plan`` value per row: basic/pro alternating, with ``bad`` ({row index: value}) swapped in."""
    return [bad.get(i, "basic" if i % 2 else "pro") for i in range(rows)]


def with_contract(project, *, plan: list[str], contract: dict) -> None:
    project.use_table("holdout", "data/holdout.csv", extra_columns={"plan": plan})
    project.update_config({"datasets": {"holdout": contract}})


def test_a_dataset_that_keeps_its_contract_promotes(make_project):
    project = make_project(models="toy")
    schema = {**FEATURE_SCHEMA, **LABEL_RULE, "plan": {"type": "str", "allowed": ["basic", "pro"]}}
    with_contract(project, plan=plans(2000, {}), contract={"schema": schema, "rows": {"min": 1000, "max": 5000}, "columns": "exact"})

    result = project.run("--promote")

    assert result.ret == 0, result.stdout.str()
    assert project.verdict()["decision"] == "promote"


def test_a_broken_contract_blocks_naming_every_rule(make_project, helpers, verdict_validator):
    project = make_project(models="toy")
    bad = {7: "gold", 98: "Pro", 1500: "gold"}
    schema = {
        "f0": {"type": "float", "min": -1},  # make_classification features go well below -1
        "plan": {"type": "str", "allowed": ["basic", "pro"]},
        "signup": {"type": "datetime", "nullable": True},
        **LABEL_RULE,
    }
    with_contract(project, plan=plans(2000, bad), contract={"schema": schema, "rows": {"min": 5000}})
    below = [i + 1 for i, value in enumerate(project.artifacts.X[:, 0]) if value < -1]

    result = project.run("--promote")

    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    result.stdout.fnmatch_lines(["*[[]contract_violation[]] datasets.holdout: *holdout.csv violates its contract (4 rules;*"])
    verdict = project.verdict()
    verdict_validator.validate(verdict)
    assert verdict["decision"] == "block"
    assert "contract_violation" in helpers.reason_codes(verdict)
    [reason] = [r for r in verdict["reasons"] if r["code"] == "contract_violation"]
    message = reason["message"]
    assert f"column 'f0': {len(below)} rows below min -1 (rows {', '.join(map(str, below[:5]))}, ...: " in message
    assert "column 'plan': 3 rows not in allowed [basic, pro] (rows 8, 99, 1501: 'gold', 'Pro', 'gold')" in message
    assert "column 'signup': missing from the file" in message
    assert "rows: 2000 rows, fewer than min 5000" in message
    assert helpers.gate_entry(verdict, "test_accuracy")["outcome"] == "error"


@pytest.mark.parametrize(("mode", "ret"), [("subset", 0), ("exact", 1)])
def test_columns_exact_refuses_columns_the_schema_does_not_list(make_project, helpers, mode, ret):
    project = make_project(models="toy")
    schema = {**FEATURE_SCHEMA, **LABEL_RULE}  # no rule for the extra "plan" column
    with_contract(project, plan=plans(2000, {}), contract={"schema": schema, "columns": mode})

    result = project.run("--promote")

    assert result.ret == ret, result.stdout.str()
    verdict = project.verdict()
    if mode == "subset":
        assert verdict["decision"] == "promote"
        return
    [reason] = [r for r in verdict["reasons"] if r["code"] == "contract_violation"]
    assert reason["message"].endswith("columns: exact, but the file has 1 column the schema does not list: plan")
    result.stdout.fnmatch_lines(["*columns: exact, but the file has 1 column the schema does not list: plan*"])


def test_an_invalid_contract_is_a_usage_error(make_project):
    project = make_project(models="toy", config={"datasets": {"holdout": {"schema": {"f0": {"type": "float", "min": 2, "max": 1}}}}})

    result = project.run("--promote")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*promote.yaml: datasets.holdout.schema.f0.min: min 2 is greater than max 1"])
    assert project.verdict()["reasons"][0]["code"] == "config_error"
