"""Data contracts and freshness as pure functions: every rule passes and fails, raw values
are typed per format (CSV text, JSON values, numpy arrays), and messages list rows exactly."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest

from pytest_promote.contracts import (
    SAMPLE_ROWS,
    Age,
    ColumnRule,
    Contract,
    Freshness,
    Violation,
    check_contract,
    check_rows,
    format_duration,
    format_timestamp,
    format_violations,
    measure_age,
    newest_timestamp,
    parse_datetime,
    parse_duration,
)

UTC = timezone.utc


def one(rule: ColumnRule, values, *, text: bool = False) -> list[Violation]:
    """The violations of a single-column contract."""
    return check_contract({rule.name: values}, Contract(schema=(rule,)), text=text)


def rules_of(violations: list[Violation]) -> list[str]:
    return [v.rule for v in violations]


# --- types, per format ---------------------------------------------------------------------

TYPE_CASES = [
    # (type, format, passing values, failing values)
    ("int", "text", ["1", "-3", "0", " 7 "], ["1.5", "abc", "1e3", "true"]),
    ("int", "json", [1, -3, 0, 10**20], [1.5, 1.0, "1", True, [1]]),
    ("int", "npz", [np.array([1, 2, 3]), np.array([1.0, 2.0, -4.0]), np.array([1, 0], dtype=np.uint8)], [np.array([1.5]), np.array(["1"])]),
    ("float", "text", ["1", "1.5", "-2e-3", " 4 "], ["abc", "inf", "-inf", "1,5"]),
    ("float", "json", [1, 1.5, -2.0], ["1.5", True, float("inf"), [1.5]]),
    ("float", "npz", [np.array([1.0, 2.5]), np.array([1, 2])], [np.array([np.inf]), np.array(["1.5"]), np.array([True])]),
    ("bool", "text", ["true", "false", "True", "FALSE", "0", "1"], ["yes", "2", "t", "on"]),
    ("bool", "json", [True, False], [1, 0, "true", 1.0]),
    ("bool", "npz", [np.array([True, False])], [np.array([1, 0]), np.array(["true"])]),
    ("str", "text", ["a", "12", "true"], []),
    ("str", "json", ["a", "", "12"], [12, True, 1.5, ["a"]]),
    ("str", "npz", [np.array(["a", "b"])], [np.array([1, 2]), np.array([1.5])]),
    (
        "datetime",
        "text",
        ["2026-10-14", "2026-10-14T08:00:00Z", "2026-10-14T08:00:00+02:00", "2026-10-14 08:00:00.123456"],
        ["14/10/2026", "yesterday", "2026-13-01", "1700000000"],
    ),
    ("datetime", "json", ["2026-10-14T08:00:00Z", datetime(2026, 1, 1)], [1700000000, "soon", True, date(2026, 1, 1)]),
    ("datetime", "npz", [np.array(["2026-01-01T00:00:00"], dtype="datetime64[ns]"), np.array(["2026-01-01T00:00:00Z"])], [np.array([1.5]), np.array(["x"])]),
]


def _column(fmt: str, value):
    return value if fmt == "npz" else [value]


@pytest.mark.parametrize(("kind", "fmt", "good", "bad"), TYPE_CASES, ids=[f"{case[0]}-{case[1]}" for case in TYPE_CASES])
def test_types_per_format(kind: str, fmt: str, good: list, bad: list) -> None:
    rule = ColumnRule("c", kind)
    for value in good:
        assert one(rule, _column(fmt, value), text=fmt == "text") == [], (kind, fmt, value)
    for value in bad:
        violations = one(rule, _column(fmt, value), text=fmt == "text")
        assert rules_of(violations) == ["type"], (kind, fmt, value, violations)
        assert violations[0].column == "c" and violations[0].count == len(_column(fmt, value))


def test_type_message_shows_raw_values() -> None:
    [violation] = one(ColumnRule("age", "int"), ["31", "12.5", "x", "40"], text=True)
    assert violation.message == "column 'age': 2 rows not an int (rows 2, 3: '12.5', 'x')"
    assert violation.rows == (2, 3) and violation.values == ("'12.5'", "'x'")


def test_json_int_is_not_a_bool_even_in_allowed() -> None:
    [violation] = one(ColumnRule("label", "int", allowed=(0, 1)), [0, 1, True, 1])
    assert (violation.rule, violation.rows, violation.values) == ("type", (3,), ("True",))


# --- nulls -------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("fmt", "values", "null_rows"),
    [
        ("text", ["1", "", " ", "2"], (2, 3)),  # an empty or blank cell is null
        ("json", [1, None, 2, float("nan")], (2, 4)),
        ("npz", np.array([1.0, np.nan, 2.0]), (2,)),
        ("npz", np.array(["2026-01-01", "NaT"], dtype="datetime64[s]"), (2,)),
    ],
)
def test_nulls_per_format(fmt: str, values, null_rows: tuple) -> None:
    kind = "datetime" if getattr(values, "dtype", None) is not None and values.dtype.kind == "M" else "float"
    [violation] = one(ColumnRule("c", kind), values, text=fmt == "text")
    assert violation.rule == "null" and violation.rows == null_rows and violation.count == len(null_rows)
    assert violation.values == ()  # nothing to show
    assert violation.message.endswith(f"null, not nullable ({'row' if len(null_rows) == 1 else 'rows'} {', '.join(map(str, null_rows))})")
    assert one(ColumnRule("c", kind, nullable=True), values, text=fmt == "text") == []


def test_text_nan_is_null_for_float_but_not_an_int() -> None:
    assert one(ColumnRule("c", "float", nullable=True), ["nan", "NaN", "1"], text=True) == []
    assert rules_of(one(ColumnRule("c", "int", nullable=True), ["nan"], text=True)) == ["type"]


def test_null_values_skip_the_other_rules() -> None:
    rule = ColumnRule("c", "int", min=5, allowed=(5, 6), unique=True, nullable=True)
    assert one(rule, [None, None, 5]) == []


# --- min, max, allowed, unique -----------------------------------------------------------------

def test_min_and_max() -> None:
    rule = ColumnRule("age", "int", min=18, max=120)
    assert one(rule, ["18", "120", "45"], text=True) == []
    violations = one(rule, ["17", "121", "18", "3", "500"], text=True)
    assert [(v.rule, v.count, v.rows, v.values) for v in violations] == [("min", 2, (1, 4), ("17", "3")), ("max", 2, (2, 5), ("121", "500"))]
    assert violations[0].message == "column 'age': 2 rows below min 18 (rows 1, 4: 17, 3)"
    assert violations[1].message == "column 'age': 2 rows above max 120 (rows 2, 5: 121, 500)"


def test_float_bounds() -> None:
    rule = ColumnRule("p", "float", min=0, max=1)
    assert one(rule, [0, 0.5, 1.0]) == []
    [low, high] = one(rule, [-0.01, 1.5, 0.2])
    assert (low.rule, low.values, high.rule, high.values) == ("min", ("-0.01",), "max", ("1.5",))


def test_datetime_bounds_compare_in_utc() -> None:
    rule = ColumnRule("t", "datetime", min=datetime(2026, 1, 1, tzinfo=UTC), max=datetime(2026, 12, 31, tzinfo=UTC))
    assert one(rule, ["2026-01-01T01:00:00+01:00", "2026-06-01"], text=True) == []  # exactly the min, once in UTC
    [low, high] = one(rule, ["2025-12-31T23:59:59Z", "2027-01-01", "2026-03-01"], text=True)
    assert low.message == "column 't': 1 row below min 2026-01-01T00:00:00Z (row 1: 2025-12-31T23:59:59Z)"
    assert high.values == ("2027-01-01T00:00:00Z",)


def test_allowed() -> None:
    rule = ColumnRule("plan", "str", allowed=("basic", "pro"))
    assert one(rule, ["basic", "pro", "pro"], text=True) == []
    [violation] = one(rule, ["basic", "gold", "pro", "Pro"], text=True)
    assert violation.message == "column 'plan': 2 rows not in allowed [basic, pro] (rows 2, 4: 'gold', 'Pro')"


def test_allowed_numbers_compare_by_value() -> None:
    assert one(ColumnRule("s", "float", allowed=(0, 0.5, 1)), ["0", "1.0", "0.50"], text=True) == []
    [violation] = one(ColumnRule("label", "int", allowed=(0, 1)), ["0", "2", "1"], text=True)
    assert violation.message == "column 'label': 1 row not in allowed [0, 1] (row 2: 2)"


def test_allowed_bools() -> None:
    rule = ColumnRule("active", "bool", allowed=(True,))
    assert one(rule, ["true", "1", "TRUE"], text=True) == []
    [violation] = one(rule, ["true", "0", "false"], text=True)
    assert violation.message == "column 'active': 2 rows not in allowed [True] (rows 2, 3: False, False)"


def test_allowed_together_with_min_and_max() -> None:
    rule = ColumnRule("n", "int", min=1, max=3, allowed=(0, 1, 2))
    violations = one(rule, [0, 1, 4, 3])
    assert [(v.rule, v.rows) for v in violations] == [("min", (1,)), ("max", (3,)), ("allowed", (3, 4))]


def test_unique() -> None:
    rule = ColumnRule("id", "str", unique=True)
    assert one(rule, ["a", "b", "c"], text=True) == []
    [violation] = one(rule, ["a", "b", "a", "c", "b", "a"], text=True)
    assert (violation.count, violation.rows, violation.values) == (3, (3, 5, 6), ("'a'", "'b'", "'a'"))
    assert violation.message == "column 'id': 3 rows not unique (an earlier row has the same value) (rows 3, 5, 6: 'a', 'b', 'a')"


def test_unique_compares_parsed_values() -> None:
    [violation] = one(ColumnRule("id", "int", unique=True), ["7", "07", "+7"], text=True)
    assert violation.rows == (2, 3)
    assert one(ColumnRule("id", "int", unique=True), np.array([1.0, 2.0, 3.0])) == []


def test_wrong_type_values_are_not_checked_further() -> None:
    violations = one(ColumnRule("age", "int", min=18, unique=True), ["x", "x", "20"], text=True)
    assert rules_of(violations) == ["type"] and violations[0].count == 2


# --- row numbers and value listing ---------------------------------------------------------------

def test_lists_the_first_five_rows_and_counts_all() -> None:
    values = [str(v) for v in range(30, 0, -1)]  # rows 14..30 hold 17..1: below 18
    [violation] = one(ColumnRule("age", "int", min=18), values, text=True)
    assert violation.count == 17
    assert violation.rows == (14, 15, 16, 17, 18) and len(violation.rows) == SAMPLE_ROWS
    assert violation.values == ("17", "16", "15", "14", "13")
    assert violation.message == "column 'age': 17 rows below min 18 (rows 14, 15, 16, 17, 18, ...: 17, 16, 15, 14, 13)"


def test_exactly_five_rows_have_no_ellipsis() -> None:
    [violation] = one(ColumnRule("c", "int"), ["a"] * 5, text=True)
    assert violation.message == "column 'c': 5 rows not an int (rows 1, 2, 3, 4, 5: 'a', 'a', 'a', 'a', 'a')"


def test_numpy_rows_are_numbered_from_one() -> None:
    [violation] = one(ColumnRule("x0", "float", max=1), np.array([0.5, 2.0, 0.1, 3.0]))
    assert violation.rows == (2, 4) and violation.values == ("2.0", "3.0")


# --- columns and rows ----------------------------------------------------------------------------

def test_missing_schema_column_is_always_a_violation() -> None:
    contract = Contract(schema=(ColumnRule("a", "int"), ColumnRule("signup", "datetime", nullable=True)))
    for mode in ("subset", "exact"):
        violations = check_contract({"a": ["1"], "b": ["2"]}, Contract(contract.schema, columns=mode), text=True)
        missing = [v for v in violations if v.rule == "missing"]
        assert len(missing) == 1 and missing[0].column == "signup"
        assert missing[0].message == "column 'signup': missing from the file (columns: a, b)"


def test_subset_allows_extra_columns_and_exact_does_not() -> None:
    columns = {"a": ["1"], "label": ["0"], "x": ["?"], "y": ["?"]}
    schema = (ColumnRule("a", "int"), ColumnRule("label", "int"))
    assert check_contract(columns, Contract(schema, columns="subset"), text=True) == []
    [violation] = check_contract(columns, Contract(schema, columns="exact"), text=True)
    assert (violation.rule, violation.column, violation.count) == ("extra", None, 2)
    assert violation.message == "columns: exact, but the file has 2 columns the schema does not list: x, y"
    assert check_contract({"a": ["1"], "label": ["0"]}, Contract(schema, columns="exact"), text=True) == []


def test_row_count_min_and_max() -> None:
    columns = {"a": list(range(800))}
    assert check_contract(columns, Contract(rows_min=800, rows_max=800)) == []
    [few] = check_contract(columns, Contract(rows_min=1000))
    assert (few.rule, few.count, few.message) == ("rows", 800, "rows: 800 rows, fewer than min 1000")
    [many] = check_contract(columns, Contract(rows_max=10))
    assert many.message == "rows: 800 rows, more than max 10"
    [single] = check_contract({"a": [1]}, Contract(rows_min=2))
    assert single.message == "rows: 1 row, fewer than min 2"


def test_several_violations_in_one_message() -> None:
    columns = {
        "age": ["16", "40", "3", "200"],
        "plan": ["basic", "gold", "pro", "Pro"],
        "label": ["0", "1", "1", "0"],
    }
    contract = Contract(
        schema=(ColumnRule("age", "int", min=18, max=120), ColumnRule("plan", "str", allowed=("basic", "pro")), ColumnRule("region", "str")),
        rows_min=1000,
    )
    violations = check_contract(columns, contract, text=True)
    assert rules_of(violations) == ["min", "max", "allowed", "missing", "rows"]
    message = format_violations("datasets.holdout: data/holdout.csv", violations)
    assert message == (
        "datasets.holdout: data/holdout.csv violates its contract (5 rules; row numbers count data rows from 1): "
        "column 'age': 2 rows below min 18 (rows 1, 3: 16, 3); "
        "column 'age': 1 row above max 120 (row 4: 200); "
        "column 'plan': 2 rows not in allowed [basic, pro] (rows 2, 4: 'gold', 'Pro'); "
        "column 'region': missing from the file (columns: age, plan, label); "
        "rows: 4 rows, fewer than min 1000"
    )
    assert format_violations("x", violations[:1], numbering="cases count from 1").startswith("x violates its contract (1 rule; cases count from 1): ")


def test_a_passing_contract_has_no_violations() -> None:
    columns = {"age": [18, 40], "plan": ["basic", "pro"], "signup": [None, "2026-01-01T00:00:00Z"], "id": ["a", "b"], "label": [0, 1]}
    contract = Contract(
        schema=(
            ColumnRule("age", "int", min=18, max=120),
            ColumnRule("plan", "str", allowed=("basic", "pro")),
            ColumnRule("signup", "datetime", nullable=True),
            ColumnRule("id", "str", unique=True),
            ColumnRule("label", "int", allowed=(0, 1)),
        ),
        rows_min=2,
        rows_max=2,
        columns="exact",
    )
    assert check_contract(columns, contract) == []


# --- check_rows ----------------------------------------------------------------------------------

ROW_CONTRACT = Contract(
    schema=(ColumnRule("age", "int", min=18), ColumnRule("plan", "str", allowed=("basic", "pro")), ColumnRule("id", "str", unique=True)),
    rows_min=1000,
    columns="exact",
)


def test_check_rows_applies_the_column_rules_of_the_named_features() -> None:
    rows = [[30, "basic", 1.5], [12, "gold", 2.5], [40, "pro", 0.0], ["x", "pro", 1.0]]
    violations = check_rows(rows, ["age", "plan", "income"], ROW_CONTRACT)  # income has no rule; id is no feature
    assert [(v.column, v.rule, v.rows) for v in violations] == [("age", "type", (4,)), ("age", "min", (2,)), ("plan", "allowed", (2,))]
    assert violations[1].message == "column 'age': 1 row below min 18 (row 2: 12)"


def test_check_rows_passes_and_ignores_row_count_columns_and_unique() -> None:
    assert check_rows([["a", "pro"], ["a", "basic"]], ["id", "plan"], ROW_CONTRACT) == []  # 2 rows, id repeated, age absent


def test_check_rows_on_a_numpy_matrix_judges_by_dtype() -> None:
    contract = Contract(schema=(ColumnRule("n", "int", max=5), ColumnRule("x", "float")))
    assert check_rows(np.array([[1.0, 0.5], [2.0, 1.5]]), ["n", "x"], contract) == []
    [violation] = check_rows(np.array([[1.5, 0.5], [4.0, 1.5]]), ["n", "x"], contract)
    assert (violation.rule, violation.rows) == ("type", (1,))
    # numpy scalars inside Python rows count by their value
    assert check_rows([[np.int64(3), np.float32(0.5)]], ["n", "x"], contract) == []


def test_check_rows_with_the_wrong_number_of_values() -> None:
    [violation] = check_rows([[30, "pro"], [30], [30, "pro", 1]], ["age", "plan"], ROW_CONTRACT)
    assert (violation.rule, violation.count, violation.rows) == ("width", 2, (2, 3))
    assert violation.message == "rows: 2 rows without exactly 2 values, one per feature (rows 2, 3)"


# --- datetimes, durations ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-10-14T08:00:00Z", datetime(2026, 10, 14, 8, tzinfo=UTC)),
        ("2026-10-14T08:00:00z", datetime(2026, 10, 14, 8, tzinfo=UTC)),
        ("2026-10-14T10:00:00+02:00", datetime(2026, 10, 14, 8, tzinfo=UTC)),
        ("2026-10-14T08:00:00", datetime(2026, 10, 14, 8, tzinfo=UTC)),  # naive is UTC
        ("2026-10-14", datetime(2026, 10, 14, tzinfo=UTC)),
        (" 2026-10-14 08:00 ", datetime(2026, 10, 14, 8, tzinfo=UTC)),
        (date(2026, 10, 14), datetime(2026, 10, 14, tzinfo=UTC)),
        (datetime(2026, 10, 14, 8), datetime(2026, 10, 14, 8, tzinfo=UTC)),
        ("yesterday", None),
        ("", None),
        (1700000000, None),
    ],
)
def test_parse_datetime(value, expected) -> None:
    parsed = parse_datetime(value)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is UTC


def test_format_timestamp() -> None:
    assert format_timestamp(datetime(2026, 10, 14, 10, 0, 0, 500, tzinfo=timezone(timedelta(hours=2)))) == "2026-10-14T08:00:00Z"
    assert format_timestamp(datetime(2026, 10, 14, 8)) == "2026-10-14T08:00:00Z"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30d", 30 * 86400.0), ("12h", 43200.0), ("90m", 5400.0), ("45s", 45.0), ("1.5h", 5400.0), ("0.5d", 43200.0)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["30", "d", "0d", "0.0h", "-1d", "1w", "30 d", "30D", "1.d", ".5d", "1d2h", "", 30, None])
def test_parse_duration_rejects(text) -> None:
    with pytest.raises(ValueError, match="expected a positive number followed by a unit s, m, h or d"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (41 * 86400 + 3 * 3600 + 59, "41d 3h"),
        (30 * 86400, "30d"),
        (30 * 86400 + 10, "30d"),  # the seconds are below the shown precision
        (30 * 86400 + 7200, "30d 2h"),
        (2 * 3600 + 5 * 60 + 7, "2h 5m"),
        (3600 + 7, "1h"),
        (90, "1m 30s"),
        (45, "45s"),
        (0.4, "0s"),
        (-3700, "-1h 1m"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


# --- freshness -----------------------------------------------------------------------------------

def test_newest_timestamp_ignores_what_does_not_parse() -> None:
    values = ["2026-10-01T00:00:00Z", "", "garbage", "2026-10-14T10:00:00+02:00", "2026-10-02"]
    assert newest_timestamp(values, text=True) == datetime(2026, 10, 14, 8, tzinfo=UTC)
    assert newest_timestamp([None, "2026-01-01", 5]) == datetime(2026, 1, 1, tzinfo=UTC)
    assert newest_timestamp(np.array(["2026-01-01", "2026-03-01"], dtype="datetime64[ns]")) == datetime(2026, 3, 1, tzinfo=UTC)
    assert newest_timestamp(["", "x"], text=True) is None
    assert newest_timestamp([]) is None


def test_measure_age_from_a_column_and_from_mtime() -> None:
    now = datetime(2026, 11, 24, 11, tzinfo=UTC)
    as_of = datetime(2026, 10, 14, 8, tzinfo=UTC)
    age = measure_age(Freshness("30d", 30 * 86400.0, as_of="event_time"), as_of, now)
    assert isinstance(age, Age) and age.stale
    assert age.seconds == (41 * 86400 + 3 * 3600)
    assert age.to_dict() == {
        "seconds": 41 * 86400.0 + 3 * 3600,
        "source": "as_of:event_time",
        "as_of": "2026-10-14T08:00:00Z",
        "max_age_seconds": 30 * 86400.0,
        "stale": True,
    }
    assert age.describe_source() == "newest event_time 2026-10-14T08:00:00Z"
    fresh = measure_age(Freshness("60d", 60 * 86400.0), as_of, now)
    assert not fresh.stale and fresh.source == "mtime"
    assert fresh.describe_source() == "file modified 2026-10-14T08:00:00Z"


def test_age_exactly_at_the_limit_is_fresh_and_naive_now_is_utc() -> None:
    freshness = Freshness("1h", 3600.0)
    assert not measure_age(freshness, datetime(2026, 1, 1, 0, tzinfo=UTC), datetime(2026, 1, 1, 1)).stale
    assert measure_age(freshness, datetime(2026, 1, 1, 0, tzinfo=UTC), datetime(2026, 1, 1, 1, 0, 1)).stale
