"""Golden-input smoke tests: loading, comparing, reporting and regenerating JSONL golden files."""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from pytest_promote.errors import GateUsageError, GoldenError
from pytest_promote.golden import (
    GoldenCase,
    GoldenCheck,
    check_golden,
    compare_output,
    format_mismatches,
    load_golden,
    resolve_golden_path,
    to_jsonable,
    update_golden,
)


def write(tmp_path: Path, text: str, name: str = "cases.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def lines(*records: dict) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


def double(x):
    return [2 * v for v in x] if isinstance(x, list) else 2 * x


def compare(actual, expected, atol=0.0, rtol=0.0):
    return compare_output(actual, expected, atol=atol, rtol=rtol)


# --- loading -------------------------------------------------------------------------------


def test_load_parses_cases_skips_blank_lines_and_pins_sha256(tmp_path: Path) -> None:
    text = '{"id": "a", "input": [1, 2], "expected": [2, 4], "note": "x"}\n\n   \n{"id": 7, "input": "s", "expected": true}\r\n'
    path = write(tmp_path, text)
    golden = load_golden(path)
    assert golden.path == path
    assert golden.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert golden.cases == (
        GoldenCase("a", [1, 2], [2, 4], 1, {"id": "a", "input": [1, 2], "expected": [2, 4], "note": "x"}),
        GoldenCase(7, "s", True, 4, {"id": 7, "input": "s", "expected": True}),
    )


def test_missing_expected_is_allowed_only_in_update_mode(tmp_path: Path) -> None:
    path = write(tmp_path, '{"id": 1, "input": 3}\n{"id": 2, "input": 4, "expected": null}\n')
    with pytest.raises(GoldenError, match=r'line 1 \(case 1\): missing "expected"; run `pytest --promote --promote-update-golden`'):
        load_golden(path)
    golden = load_golden(path, allow_missing_expected=True)
    assert [case.expected for case in golden.cases] == [None, None]
    with pytest.raises(GoldenError, match=r'line 1 \(case 1\): no "expected" to check against'):
        check_golden(golden, double, atol=0, rtol=0)


GOOD = '{"id": "ok", "input": 1, "expected": 1}\n\n'  # so the bad line is line 3


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": 1, "input": ', "invalid JSON"),
        ('[1, 2, 3]', 'expected a JSON object with "id", "input" and "expected", got a list'),
        ('{"input": 1, "expected": 1}', 'missing "id"'),
        ('{"id": true, "input": 1, "expected": 1}', '"id" must be a string or an integer, got bool True'),
        ('{"id": [1], "input": 1, "expected": 1}', '"id" must be a string or an integer, got a list'),
        ('{"id": 2, "expected": 1}', r'\(case 2\): missing "input"'),
        ('{"id": 2, "input": {"a": 1}, "expected": 1}', r'\(case 2\): "input": unsupported value an object \(dict\)'),
        ('{"id": 2, "input": [1, [2, null]], "expected": 1}', r'"input": unsupported value null \(None\) at \[1, 1\]'),
        ('{"id": 2, "input": 1, "expected": [{"a": 1}]}', r'"expected": unsupported value an object \(dict\) at \[0\]'),
        ('{"id": 2, "input": 1}', r'\(case 2\): missing "expected"'),
        ('{"id": 2, "input": 1, "expected": null}', r'\(case 2\): "expected" is null'),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = write(tmp_path, GOOD + line + "\n")
    with pytest.raises(GoldenError, match=message) as caught:
        load_golden(path)
    assert str(caught.value).startswith(f"{path}: line 3")


def test_duplicate_id_names_both_lines(tmp_path: Path) -> None:
    path = write(tmp_path, lines({"id": "x", "input": 1, "expected": 1}, {"id": 2, "input": 1, "expected": 1}, {"id": "x", "input": 2, "expected": 2}))
    with pytest.raises(GoldenError, match=r": line 3: duplicate id 'x' \(already used on line 1\)") as caught:
        load_golden(path)
    assert str(path) in str(caught.value)


def test_int_and_string_ids_are_distinct(tmp_path: Path) -> None:
    golden = load_golden(write(tmp_path, lines({"id": 1, "input": 1, "expected": 2}, {"id": "1", "input": 1, "expected": 2})))
    assert [case.id for case in golden.cases] == [1, "1"]


@pytest.mark.parametrize("text", ["", "\n  \n\n"])
def test_empty_file_is_an_error(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(GoldenError, match="has no cases") as caught:
        load_golden(path, allow_missing_expected=True)
    assert str(path) in str(caught.value) and '"input"' in str(caught.value)


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "cases.jsonl"
    path.write_bytes(b'{"id": 1, "input": 1, "expected": 1}\n{"id": "\xff"}\n')
    with pytest.raises(GoldenError, match=r": line 2: not UTF-8 text"):
        load_golden(path)


# --- finding the file ----------------------------------------------------------------------


def test_resolve_prefers_the_test_directory_then_the_rootdir(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    (tests / "golden").mkdir(parents=True)
    (tmp_path / "golden").mkdir()
    write(tmp_path / "golden", GOOD)
    assert resolve_golden_path("golden/cases.jsonl", test_dir=tests, rootdir=tmp_path) == tmp_path / "golden" / "cases.jsonl"
    write(tests / "golden", GOOD)
    found = resolve_golden_path(Path("golden/cases.jsonl"), test_dir=tests, rootdir=tmp_path)
    assert found == tests / "golden" / "cases.jsonl" and found.is_absolute()
    assert resolve_golden_path(found, test_dir=tmp_path / "elsewhere", rootdir=tmp_path / "elsewhere") == found


def test_missing_file_names_both_places_and_how_to_create_it(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    with pytest.raises(GoldenError) as caught:
        resolve_golden_path("golden/new.jsonl", test_dir=tests, rootdir=tmp_path)
    message = str(caught.value)
    assert "'golden/new.jsonl' not found" in message
    assert str(tests / "golden" / "new.jsonl") in message and str(tmp_path / "golden" / "new.jsonl") in message
    assert '{"id": "case-1", "input": [5.1, 3.5, 1.4, 0.2]}' in message
    assert "`pytest --promote --promote-update-golden`" in message and 'fill in "expected"' in message
    with pytest.raises(GoldenError, match="promote-update-golden"):
        load_golden(tmp_path / "absent.jsonl")


# --- comparing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actual", "expected", "atol", "rtol", "close"),
    [
        (1.0 + 0.999e-3, 1.0, 1e-3, 0.0, True),  # just inside atol
        (1.0 + 1.001e-3, 1.0, 1e-3, 0.0, False),  # just outside atol
        (1.0 - 1.001e-3, 1.0, 1e-3, 0.0, False),
        (100.0999, 100.0, 0.0, 1e-3, True),  # just inside rtol * |expected|
        (100.1001, 100.0, 0.0, 1e-3, False),  # just outside
        (110.5, 100.0, 0.0, 0.1, False),  # inside rtol * |actual|, but the tolerance scales with expected
        (100.0, 110.5, 0.0, 0.1, True),
        (100.0 + 0.5 + 0.999e-3, 100.0, 0.5, 1e-5, True),  # atol + rtol * |e| = 0.501
        (100.0 + 0.5 + 1.001e-3, 100.0, 0.5, 1e-5, False),
        (1e-9, 0.0, 0.0, 0.5, False),  # rtol alone accepts nothing around 0
        (math.inf, math.inf, 0.0, 0.0, True),
        (-math.inf, math.inf, 1.0, 1.0, False),
    ],
)
def test_tolerance_edges_follow_numpy_isclose(actual: float, expected: float, atol: float, rtol: float, close: bool) -> None:
    assert bool(np.isclose(actual, expected, atol=atol, rtol=rtol)) is close  # the independent reference
    problem, _, _ = compare(actual, expected, atol, rtol)
    assert (problem is None) is close
    if not close:
        assert problem == f"1 of 1 values outside atol={atol:g}, rtol={rtol:g}"


def test_many_values_counted_like_numpy_isclose() -> None:
    rng = np.random.default_rng(0)
    expected = rng.normal(size=(20, 30))
    actual = expected + rng.normal(scale=1e-3, size=expected.shape)
    failing = int((~np.isclose(actual, expected, atol=1e-3, rtol=1e-3)).sum())
    assert 0 < failing < expected.size
    problem, max_abs, max_rel = compare(actual, expected.tolist(), 1e-3, 1e-3)
    assert problem.startswith(f"{failing} of 600 values outside atol=0.001, rtol=0.001 (first at [")
    assert max_abs == pytest.approx(np.abs(actual - expected).max())
    assert max_rel == pytest.approx((np.abs(actual - expected) / np.abs(expected)).max())


def test_differences_and_relative_difference_at_zero() -> None:
    assert compare([1.0, 2.5, 0.0], [1.0, 2.0, 0.0], 1.0, 0.0) == (None, 0.5, 0.25)
    problem, max_abs, max_rel = compare([1.0, 0.5], [1.0, 0.0], 0.1, 0.0)
    assert problem == "1 of 2 values outside atol=0.1, rtol=0 (first at [1])"
    assert (max_abs, max_rel) == (0.5, math.inf)
    assert compare("a", "a") == (None, None, None)
    assert compare([], []) == (None, None, None)


@pytest.mark.parametrize(
    ("actual", "expected", "problem"),
    [
        ([1, 2, 3], [1, 2], "shape (3,) vs expected (2,)"),
        (np.zeros((2, 3)), [[0, 0], [0, 0], [0, 0]], "shape (2, 3) vs expected (3, 2)"),
        ([1], 1, "shape (1,) vs expected ()"),
        ([[1, 2], [3]], [[1, 2], [3, 4]], "length 1 vs expected 2 at [1]"),
        ([[1, 2], 3], [[1, 2], [3]], "scalar vs expected list at [1]"),
    ],
)
def test_shape_mismatch(actual, expected, problem: str) -> None:
    assert compare(actual, expected, 1.0, 1.0) == (problem, None, None)


@pytest.mark.parametrize(
    ("actual", "expected", "problem"),
    [
        ("cat", "cat", None),
        ("cat", "Cat", "string differs"),
        (True, True, None),
        (True, False, "boolean differs"),
        (True, 1, "type differs: boolean vs expected number"),
        (1, True, "type differs: number vs expected boolean"),
        (np.bool_(False), 0.0, "type differs: boolean vs expected number"),
        ("1", 1, "type differs: string vs expected number"),
        (1.0, 1, None),
        (np.str_("cat"), "cat", None),
        (["a", "b", "c"], ["a", "x", "y"], "2 of 3 strings differ (first at [1])"),
    ],
)
def test_strings_and_booleans_match_exactly(actual, expected, problem: str | None) -> None:
    assert compare(actual, expected, 1.0, 1.0)[0] == problem


def test_mixed_nested_lists_compare_elementwise() -> None:
    expected = [["a", 1.0, True], ["b", 2.0, False]]
    assert compare([["a", 1.0005, True], ["b", 2.0, False]], expected, 1e-3) == (None, pytest.approx(5e-4), pytest.approx(5e-4))
    problem, max_abs, _ = compare([["a", 1.5, 1], ["c", 2.0, False]], expected, 1e-3)
    assert problem == (
        "1 of 2 numbers outside atol=0.001, rtol=0 (first at [0, 1]); 1 of 2 strings differ (first at [1, 0]); "
        "1 of 6 values of another type (first at [0, 2]: number vs expected boolean)"
    )
    assert max_abs == 0.5


def test_nan_never_matches() -> None:
    problem, max_abs, max_rel = compare([1.0, math.nan], [1.0, 2.0], 10.0, 10.0)
    assert problem == "1 of 2 values outside atol=10, rtol=10 (NaN never matches) (first at [1])"
    assert math.isnan(max_abs) and math.isnan(max_rel)
    assert compare(math.nan, math.nan, 1.0, 1.0)[0] == "1 of 1 values outside atol=1, rtol=1 (NaN never matches)"


def test_output_that_cannot_be_compared_is_a_mismatch() -> None:
    problem, _, _ = compare({"label": 1}, 1)
    assert problem.startswith("the output cannot be compared: unsupported value an object (dict)")


# --- checking a file -----------------------------------------------------------------------


def test_check_passes(tmp_path: Path) -> None:
    golden = load_golden(write(tmp_path, lines({"id": 1, "input": [1, 2], "expected": [2, 4]}, {"id": 2, "input": 0.1, "expected": 0.2})))
    check = check_golden(golden, lambda x: np.asarray(x) * 2, atol=1e-12, rtol=0)
    assert isinstance(check, GoldenCheck)
    assert (check.cases, check.passed, check.mismatches, check.failed_ids) == (2, 2, (), ())
    assert (check.path, check.sha256, check.atol, check.rtol) == (golden.path, golden.sha256, 1e-12, 0)


def test_check_lists_every_failing_case(tmp_path: Path) -> None:
    records = [{"id": f"c{i}", "input": i, "expected": [2 * i, 0]} for i in range(5)]
    records[1]["expected"] = [3, 0]
    records[3]["expected"] = [0, 0]
    records[4]["expected"] = [8]
    path = write(tmp_path, lines(*records))
    check = check_golden(load_golden(path), lambda x: np.array([2 * x, 0]), atol=1e-6, rtol=0)
    assert check.failed_ids == ("c1", "c3", "c4")
    assert (check.cases, check.passed) == (5, 2)
    c1, c3, c4 = check.mismatches
    assert (c1.line, c1.expected, c1.actual, c1.max_abs_diff, c1.max_rel_diff) == (2, [3, 0], [2, 0], 1.0, 1 / 3)
    assert c1.problem == "1 of 2 values outside atol=1e-06, rtol=0 (first at [0])"
    assert c3.problem == "1 of 2 values outside atol=1e-06, rtol=0 (first at [0])"
    assert (c3.max_abs_diff, c3.max_rel_diff) == (6.0, math.inf)
    assert (c4.problem, c4.max_abs_diff) == ("shape (2,) vs expected (1,)", None)
    report = format_mismatches(check).splitlines()
    assert report[0] == f"3 of 5 golden cases failed ({path}, atol=1e-06, rtol=0):"
    assert report[1] == "  case 'c1' (line 2): 1 of 2 values outside atol=1e-06, rtol=0 (first at [0]); max abs diff 1, max rel diff 0.333; expected [3, 0], actual [2, 0]"
    assert report[2].startswith("  case 'c3' (line 4): ") and "max rel diff inf" in report[2]
    assert report[3] == "  case 'c4' (line 5): shape (2,) vs expected (1,); expected [8], actual [8, 0]"
    assert len(report) == 4


def test_format_mismatches_truncates_values(tmp_path: Path) -> None:
    golden = load_golden(write(tmp_path, lines({"id": "long", "input": 0, "expected": list(range(100))})))
    report = format_mismatches(check_golden(golden, lambda x: [0] * 100, atol=0, rtol=0), limit_chars=20)
    assert report.endswith("; expected [0, 1, 2, 3, 4, 5..., actual [0, 0, 0, 0, 0, 0...")


def test_exception_from_the_model_names_the_case(tmp_path: Path) -> None:
    path = write(tmp_path, lines({"id": "fine", "input": 1, "expected": 2}, {"id": "boom", "input": -1, "expected": 0}))

    def model(x):
        if x < 0:
            raise ValueError("negative input")
        return 2 * x

    with pytest.raises(GoldenError) as caught:
        check_golden(load_golden(path), model, atol=0, rtol=0)
    assert str(caught.value) == f"{path}: line 2 (case 'boom'): the candidate raised ValueError: negative input"
    assert isinstance(caught.value.__cause__, ValueError)


@pytest.mark.parametrize("tolerance", [{"atol": -1.0, "rtol": 0.0}, {"atol": 0.0, "rtol": math.nan}, {"atol": True, "rtol": 0.0}])
def test_bad_tolerance_is_a_usage_error(tmp_path: Path, tolerance: dict) -> None:
    golden = load_golden(write(tmp_path, GOOD))
    with pytest.raises(GateUsageError, match="must be a finite number >= 0"):
        check_golden(golden, double, **tolerance)


# --- updating ------------------------------------------------------------------------------


def test_update_keeps_ids_inputs_extra_keys_and_order(tmp_path: Path) -> None:
    text = (
        '{"note": "kept", "id": "same", "input": [1, 2], "expected": [2.0, 4], "tags": ["a"]}\n'
        "\n"
        '{"id": 2, "expected": [0, 0], "input": [3, 4], "owner": "me"}\n'
        '{"id": "new", "input": [5, 6], "extra": 1}\n'
        '{"id": "placeholder", "input": [7], "expected": null}\n'
        '{"input": [0],   "id": "flag", "expected": [true]}\n'
    )
    path = write(tmp_path, text)
    before = path.read_text().splitlines()
    os.chmod(path, 0o644)

    def model(x):
        result = [2 * v for v in x]
        x.clear()  # editing its input in place must not leak into the file
        return np.array(result, dtype=np.int64)

    update = update_golden(load_golden(path, allow_missing_expected=True), model)
    after = path.read_text().splitlines()
    assert (update.path, update.cases, update.changed) == (path, 5, 4)  # "same" is unchanged: [2.0, 4] == [2, 4]
    assert update.previous_sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert update.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() != update.previous_sha256
    assert after[0] == before[0] and after[1] == ""  # unchanged lines stay byte for byte
    assert after[2] == '{"id": 2, "expected": [6, 8], "input": [3, 4], "owner": "me"}'
    assert after[3] == '{"id": "new", "input": [5, 6], "expected": [10, 12], "extra": 1}'
    assert after[4] == '{"id": "placeholder", "input": [7], "expected": [14]}'
    assert after[5] == '{"input": [0], "id": "flag", "expected": [0]}'
    assert path.read_text().endswith("\n") and len(after) == 6
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in tmp_path.iterdir()] == ["cases.jsonl"]  # no temp file left
    check = check_golden(load_golden(path), lambda x: [2 * v for v in x], atol=0, rtol=0)
    assert check.passed == 5 and check.mismatches == ()


def test_update_without_changes_leaves_the_file_alone(tmp_path: Path) -> None:
    text = '{"id": 1, "input": 2,  "expected": 4.0}\r\n'
    path = write(tmp_path, text)
    update = update_golden(load_golden(path), double)
    assert (update.changed, update.cases) == (0, 1)
    assert update.sha256 == update.previous_sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert path.read_bytes() == text.encode()


def test_update_keeps_crlf_line_endings(tmp_path: Path) -> None:
    path = write(tmp_path, '{"id": 1, "input": 2, "expected": 5}\r\n{"id": 2, "input": 3, "expected": 6}\r\n')
    assert update_golden(load_golden(path), double).changed == 1
    assert path.read_bytes() == b'{"id": 1, "input": 2, "expected": 4}\r\n{"id": 2, "input": 3, "expected": 6}\r\n'


def test_update_counts_type_changes_as_changes(tmp_path: Path) -> None:
    path = write(tmp_path, lines({"id": 1, "input": 1, "expected": 1}, {"id": 2, "input": 0, "expected": [0]}))
    assert update_golden(load_golden(path), lambda x: [bool(x)]).changed == 2
    assert [case.expected for case in load_golden(path).cases] == [[True], [False]]


def test_update_refuses_nan_and_unstorable_outputs(tmp_path: Path) -> None:
    text = lines({"id": "a", "input": 1, "expected": 1}, {"id": "b", "input": 2, "expected": 2})
    path = write(tmp_path, text)
    golden = load_golden(path)
    with pytest.raises(GoldenError, match=r"line 2 \(case 'b'\): the candidate's output contains NaN"):
        update_golden(golden, lambda x: [x, math.nan] if x == 2 else x)
    with pytest.raises(GoldenError, match=r"line 1 \(case 'a'\): cannot store the candidate's output: unsupported value null"):
        update_golden(golden, lambda x: None)
    assert path.read_text() == text


def test_update_refuses_a_file_changed_since_it_was_loaded(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    golden = load_golden(path)
    path.write_text(GOOD + '{"id": "more", "input": 1, "expected": 1}\n')
    with pytest.raises(GoldenError, match="changed since it was loaded"):
        update_golden(golden, double)


# --- to_jsonable ---------------------------------------------------------------------------


def test_to_jsonable_converts_numpy_values_and_tuples() -> None:
    converted = to_jsonable(
        [np.float32(0.5), np.int64(3), np.bool_(True), np.str_("x"), (1, 2), np.array(2.5), np.arange(4).reshape(2, 2), np.array(["a", "b"])]
    )
    assert converted == [0.5, 3, True, "x", [1, 2], 2.5, [[0, 1], [2, 3]], ["a", "b"]]
    assert [type(v) for v in converted[:6]] == [float, int, bool, str, list, float]
    assert json.loads(json.dumps(converted)) == converted
    assert type(to_jsonable(np.array([True]))[0]) is bool


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"a": 1}, r"unsupported value an object \(dict\)"),
        ([1, None], r"unsupported value null \(None\) at \[1\]"),
        (np.array([1 + 2j]), r"unsupported value ndarray"),
        ([[0, {1, 2}]], r"unsupported value set \{1, 2\} at \[0, 1\]"),
        (b"raw", r"unsupported value bytes b'raw'"),
    ],
)
def test_to_jsonable_rejects_what_a_golden_file_cannot_hold(value, message: str) -> None:
    with pytest.raises(GoldenError, match=message):
        to_jsonable(value)
