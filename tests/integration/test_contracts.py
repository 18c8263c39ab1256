"""Data contracts: a dataset that keeps its promote.yaml contract gates as usual; one that
breaks it blocks the run with reason ``contract_violation``, every broken rule named."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest

FEATURES = [f"f{i}" for i in range(8)]
FEATURE_SCHEMA = {name: {"type": "float"} for name in FEATURES}
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


# --- one keeping and one breaking dataset per rule ---------------------------------------------

ROWS = 2000  # hold-out rows make_project writes (conftest.HOLDOUT_ROWS)
NUMBERING = "row numbers count data rows from 1"


@dataclass(frozen=True)
class Case:
    """A dataset for one rule: ``contract`` (merged into ``datasets.holdout``), the ``columns``
    written after f0..f7 and label ({name: one value per row}) as CSV cells or JSONL values,
    and, for a breaking dataset, ``expect``: the whole text the message must give for the rule."""

    contract: dict
    columns: dict[str, list] = field(default_factory=dict)
    fmt: str = "csv"
    expect: str | None = None  # None: the dataset keeps its contract


def column(value: Callable[[int], Any], bad: dict[int, Any] | None = None) -> list:
    """``value(i)`` for each row index ``i``, with ``bad`` ({row index: value}) swapped in."""
    return [(bad or {}).get(i, value(i)) for i in range(ROWS)]


def report(name: str, problem: str, bad: dict[int, Any], show: Callable[[Any], str] | None = repr) -> str:
    """What the message must say of column ``name`` whose ``bad`` rows break a rule: the exact
    count, the first five row numbers (from 1, in file order) and the values as ``show`` renders
    the value written (none for nulls: ``show=None``)."""
    first = sorted(bad)[:5]
    numbers = ", ".join(str(i + 1) for i in first) + (", ..." if len(bad) > 5 else "")
    listing = ("row " if len(bad) == 1 else "rows ") + numbers
    if show is not None:
        listing += ": " + ", ".join(show(bad[i]) for i in first)
    return f"column {name!r}: {len(bad)} row{'' if len(bad) == 1 else 's'} {problem} ({listing})"


def pair(rule: str, keeps: Case, breaks: Case) -> list:
    return [pytest.param(keeps, id=f"{rule}-pass"), pytest.param(breaks, id=f"{rule}-violate")]


def schema(name: str, **rules: Any) -> dict:
    return {"schema": {name: rules}}


def plan(i: int) -> str:
    return "basic" if i % 2 else "pro"


INT_BAD = {12: "2.5", 400: "ten", 1999: "1e3"}
FLOAT_BAD = {77: "n/a", 5: "inf", 6: "-inf", 300: "0x10", 1200: "1.2.3", 1999: "one"}  # six: the first five listed
STR_BAD = {3: 7, 10: True, 11: 2.5}
BOOL_BAD = {0: "yes"}  # one: "1 row ... (row 1: ...)"
DATETIME_BAD = {8: "2024-02-30", 9: "yesterday", 1000: "31/01/2024"}
MIN_BAD = {2: "17", 450: "0", 451: "-3"}
MAX_BAD = {20: "0.75", 21: "1", 1998: "50"}
ALLOWED_BAD = {7: "gold", 98: "Pro", 1500: "gold", 1501: " pro", 1999: "basic "}  # five: all listed, no "..."
NULL_ROWS = {4: "", 5: "", 600: "  "}  # blank CSV cells are null
UNIQUE_BAD = {10: "1003", 11: "1003", 500: "1000"}  # rows 4 and 1 hold 1003 and 1000

BOOLS = ["true", "false", "1", "0", "TRUE", "False"]
DATETIMES = ["2024-01-31T00:00:00Z", "2024-02-29 12:30:00+02:00", "2024-03-01", "2024-03-01T08:00:00.250"]
ALL_COLUMNS = [*FEATURES, "label"]
EXACT_SCHEMA = {**FEATURE_SCHEMA, **LABEL_RULE, "plan": {"type": "str"}}

RULE_CASES = [
    *pair(
        "type-int",
        Case(schema("visits", type="int"), {"visits": column(lambda i: str(i % 50 - 10))}),
        Case(schema("visits", type="int"), {"visits": column(lambda i: str(i % 50 - 10), INT_BAD)},
             expect=report("visits", "not an int", INT_BAD)),
    ),
    *pair(
        "type-float",
        Case(schema("score", type="float"), {"score": column(lambda i: str(i) if i % 10 == 0 else repr(i / 8))}),
        Case(schema("score", type="float"), {"score": column(lambda i: repr(i / 8), FLOAT_BAD)},
             expect=report("score", "not a finite number", FLOAT_BAD)),
    ),
    *pair(  # in a CSV every non-blank cell is a string: JSONL values carry their own types
        "type-str",
        Case(schema("plan", type="str"), {"plan": column(plan)}, fmt="jsonl"),
        Case(schema("plan", type="str"), {"plan": column(plan, STR_BAD)}, fmt="jsonl", expect=report("plan", "not a string", STR_BAD)),
    ),
    *pair(
        "type-bool",
        Case(schema("churned", type="bool"), {"churned": column(lambda i: BOOLS[i % 6])}),
        Case(schema("churned", type="bool"), {"churned": column(lambda i: BOOLS[i % 6], BOOL_BAD)},
             expect=report("churned", "not a bool", BOOL_BAD)),
    ),
    *pair(
        "type-datetime",
        Case(schema("signup", type="datetime"), {"signup": column(lambda i: DATETIMES[i % 4])}),
        Case(schema("signup", type="datetime"), {"signup": column(lambda i: DATETIMES[i % 4], DATETIME_BAD)},
             expect=report("signup", "not an ISO 8601 datetime", DATETIME_BAD)),
    ),
    *pair(  # bounds are inclusive: 18 keeps min 18
        "min",
        Case(schema("age", type="int", min=18), {"age": column(lambda i: str(18 + i % 60))}),
        Case(schema("age", type="int", min=18), {"age": column(lambda i: str(18 + i % 60), MIN_BAD)},
             expect=report("age", "below min 18", MIN_BAD, lambda v: repr(int(v)))),
    ),
    *pair(  # values in (i % 11) / 20 reach max 0.5 exactly
        "max",
        Case(schema("discount", type="float", max=0.5), {"discount": column(lambda i: repr(i % 11 / 20))}),
        Case(schema("discount", type="float", max=0.5), {"discount": column(lambda i: repr(i % 11 / 20), MAX_BAD)},
             expect=report("discount", "above max 0.5", MAX_BAD, lambda v: repr(float(v)))),
    ),
    *pair(
        "allowed",
        Case(schema("plan", type="str", allowed=["basic", "pro"]), {"plan": column(plan)}),
        Case(schema("plan", type="str", allowed=["basic", "pro"]), {"plan": column(plan, ALLOWED_BAD)},
             expect=report("plan", "not in allowed [basic, pro]", ALLOWED_BAD)),
    ),
    *pair(  # the same file: its nulls are accepted with nullable: true, refused without
        "nullable",
        Case(schema("referrer", type="str", nullable=True), {"referrer": column(lambda i: "ads" if i % 3 else "search", NULL_ROWS)}),
        Case(schema("referrer", type="str"), {"referrer": column(lambda i: "ads" if i % 3 else "search", NULL_ROWS)},
             expect=report("referrer", "null, not nullable", NULL_ROWS, show=None)),
    ),
    *pair(
        "unique",
        Case(schema("user_id", type="int", unique=True), {"user_id": column(lambda i: str(1000 + i))}),
        Case(schema("user_id", type="int", unique=True), {"user_id": column(lambda i: str(1000 + i), UNIQUE_BAD)},
             expect=report("user_id", "not unique (an earlier row has the same value)", UNIQUE_BAD, lambda v: repr(int(v)))),
    ),
    *pair(  # row counts are inclusive too
        "rows-min",
        Case({"rows": {"min": ROWS}}),
        Case({"rows": {"min": ROWS + 1}}, expect=f"rows: {ROWS} rows, fewer than min {ROWS + 1}"),
    ),
    *pair(
        "rows-max",
        Case({"rows": {"max": ROWS}}),
        Case({"rows": {"max": ROWS - 1}}, expect=f"rows: {ROWS} rows, more than max {ROWS - 1}"),
    ),
    *pair(
        "columns-exact",
        Case({**{"schema": EXACT_SCHEMA}, "columns": "exact"}, {"plan": column(plan)}),
        Case({**{"schema": EXACT_SCHEMA}, "columns": "exact"}, {"plan": column(plan), "region": column(lambda i: "eu"), "ts": column(str)},
             expect="columns: exact, but the file has 2 columns the schema does not list: region, ts"),
    ),
    *pair(
        "missing-column",
        Case(schema("signup", type="datetime"), {"plan": column(plan), "signup": column(lambda i: DATETIMES[0])}),
        Case(schema("signup", type="datetime"), {"plan": column(plan)},
             expect=f"column 'signup': missing from the file (columns: {', '.join(ALL_COLUMNS)}, plan)"),
    ),
]


def use_jsonl(project, relative: str, columns: dict[str, list]) -> None:
    """The hold-out set as JSONL records (f0..f7, label, then ``columns``), configured as
    dataset ``holdout`` with features f0..f7, like ``project.use_table``."""
    lines = []
    for i, (row, label) in enumerate(zip(project.artifacts.X, project.artifacts.y)):
        record = {**{name: float(v) for name, v in zip(FEATURES, row)}, "label": int(label)}
        lines.append(json.dumps({**record, **{name: values[i] for name, values in columns.items()}}))
    sha = project.write_bytes(relative, ("\n".join(lines) + "\n").encode())
    project.update_config({"datasets": {"holdout": None}})
    project.update_config({"datasets": {"holdout": {"path": relative, "target": "label", "features": FEATURES, "sha256": sha}}})


def contract_project(make_project, case: Case):
    project = make_project(models="toy")
    assert len(project.artifacts.y) == ROWS
    if case.fmt == "jsonl":
        use_jsonl(project, "data/holdout.jsonl", case.columns)
    else:
        project.use_table("holdout", "data/holdout.csv", extra_columns=case.columns)
    project.update_config({"datasets": {"holdout": case.contract}})
    return project


def contract_message(verdict: dict) -> str:
    [reason] = [r for r in verdict["reasons"] if r["code"] == "contract_violation"]
    return reason["message"]


@pytest.mark.parametrize("case", RULE_CASES)
def test_each_contract_rule_promotes_a_keeping_dataset_and_blocks_a_breaking_one(make_project, helpers, verdict_validator, case):
    project = contract_project(make_project, case)

    result = project.run("--promote")

    verdict = project.verdict()
    verdict_validator.validate(verdict)
    if case.expect is None:
        assert result.ret == 0, result.stdout.str()
        assert verdict["decision"] == "promote"
        assert helpers.reason_codes(verdict) == []
        return
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    assert verdict["decision"] == "block"
    message = contract_message(verdict)
    # the one rule this dataset breaks, and nothing else: column, rule, exact count, first rows and values
    assert message.endswith(f" violates its contract (1 rule; {NUMBERING}): {case.expect}"), message
    assert message.startswith(f"datasets.holdout: {project.path / 'data' / f'holdout.{case.fmt}'} violates"), message
    result.stdout.fnmatch_lines([f"*[[]contract_violation[]] datasets.holdout: *holdout.{case.fmt} violates its contract (1 rule;*"])
    assert helpers.gate_entry(verdict, "test_accuracy")["outcome"] == "error"


def test_the_report_lists_the_first_five_offending_rows_and_the_exact_total(make_project):
    # every 97th row from the last down breaks min 18, written in descending row order
    bad = {i: str(i % 18) for i in range(ROWS - 1, 0, -97)}
    assert sorted(bad)[:6] == [59, 156, 253, 350, 447, 544] and len(bad) == 21
    project = contract_project(make_project, Case(schema("age", type="int", min=18), {"age": column(lambda i: "30", bad)}))

    result = project.run("--promote")

    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    message = contract_message(project.verdict())
    assert message.endswith(": column 'age': 21 rows below min 18 (rows 60, 157, 254, 351, 448, ...: 5, 12, 1, 8, 15)"), message
    assert "545" not in message and "2000" not in message
