"""Golden-input smoke tests: a JSONL file of cases the candidate must reproduce, and its regeneration."""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import GateUsageError, GoldenError

__all__ = [
    "GoldenCase",
    "GoldenFile",
    "CaseMismatch",
    "GoldenCheck",
    "GoldenUpdate",
    "resolve_golden_path",
    "load_golden",
    "to_jsonable",
    "compare_output",
    "check_golden",
    "format_mismatches",
    "update_golden",
]

_VALUES = "golden values are numbers, strings, booleans and (nested) lists of them"
_EXAMPLE = '{"id": "case-1", "input": [5.1, 3.5, 1.4, 0.2]}'
_UPDATE = 'run `pytest --promote --promote-update-golden` to fill in "expected" from the candidate model'
_HOW_TO_CREATE = f"create it with one JSON object per line, for example\n  {_EXAMPLE}\nthen {_UPDATE}, and review the file before committing it"


@dataclass(frozen=True)
class GoldenCase:
    """One line of a golden file; ``expected`` is None only when absent (allowed in update mode)."""

    id: str | int
    input: Any
    expected: Any
    line: int
    raw: dict = field(repr=False)  # the parsed line, so an update keeps its other keys and their order


@dataclass(frozen=True)
class GoldenFile:
    path: Path
    sha256: str
    cases: tuple[GoldenCase, ...]


@dataclass(frozen=True)
class CaseMismatch:
    """A failing case; the differences are None when no numbers were compared (or the shapes differ)."""

    id: str | int
    line: int
    expected: Any
    actual: Any
    max_abs_diff: float | None
    max_rel_diff: float | None
    problem: str


@dataclass(frozen=True)
class GoldenCheck:
    path: Path
    sha256: str
    cases: int
    passed: int
    mismatches: tuple[CaseMismatch, ...]
    atol: float
    rtol: float

    @property
    def failed_ids(self) -> tuple[str | int, ...]:
        return tuple(mismatch.id for mismatch in self.mismatches)


@dataclass(frozen=True)
class GoldenUpdate:
    path: Path
    cases: int
    changed: int
    previous_sha256: str
    sha256: str


def resolve_golden_path(path: str | os.PathLike, *, test_dir: Path, rootdir: Path) -> Path:
    """The golden file's absolute path: a relative path is looked up next to the test file, then under the rootdir."""
    given = Path(path)
    places = [given] if given.is_absolute() else [Path(test_dir) / given, Path(rootdir) / given]
    tried = list(dict.fromkeys(place.resolve() for place in places))
    for candidate in tried:
        if candidate.is_file():
            return candidate
    raise GoldenError(f"golden file {os.fspath(path)!r} not found (looked for {' and '.join(map(str, tried))}); {_HOW_TO_CREATE}")


def load_golden(path: Path, *, allow_missing_expected: bool = False) -> GoldenFile:
    """Read and validate a golden file; ``allow_missing_expected`` is for update mode."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise GoldenError(f"golden file {path} not found; {_HOW_TO_CREATE}") from None
    except OSError as exc:
        raise GoldenError(f"golden file {path}: cannot read it ({type(exc).__name__}: {exc})") from None
    cases: list[GoldenCase] = []
    first_line: dict[str | int, int] = {}
    for number, line in enumerate(_decode(path, data).split("\n"), start=1):
        if not line.strip():
            continue
        case = _parse_line(path, number, line, allow_missing_expected)
        if case.id in first_line:
            raise GoldenError(f"{path}: line {number}: duplicate id {case.id!r} (already used on line {first_line[case.id]})")
        first_line[case.id] = number
        cases.append(case)
    if not cases:
        # a golden gate that compares nothing would pass vacuously
        raise GoldenError(f"golden file {path} has no cases; add at least one, one JSON object per line, for example\n  {_EXAMPLE}")
    return GoldenFile(path, hashlib.sha256(data).hexdigest(), tuple(cases))


def _parse_line(path: Path, number: int, line: str, allow_missing_expected: bool) -> GoldenCase:
    where = f"{path}: line {number}"
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise GoldenError(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(raw, dict):
        raise GoldenError(f'{where}: expected a JSON object with "id", "input" and "expected", got {_describe(raw)}')
    if "id" not in raw:
        raise GoldenError(f'{where}: missing "id"')
    case_id = raw["id"]
    if isinstance(case_id, bool) or not isinstance(case_id, (str, int)):
        raise GoldenError(f'{where}: "id" must be a string or an integer, got {_describe(case_id)}')
    where = f"{where} (case {case_id!r})"
    if "input" not in raw:
        raise GoldenError(f'{where}: missing "input"')
    _validate(where, "input", raw["input"])
    expected = raw.get("expected")
    if expected is not None:
        _validate(where, "expected", expected)
    elif not allow_missing_expected:
        # in update mode a null "expected" is a placeholder, like a missing one
        problem = '"expected" is null' if "expected" in raw else 'missing "expected"'
        raise GoldenError(f"{where}: {problem}; {_UPDATE}")
    return GoldenCase(case_id, raw["input"], expected, number, raw)


def _validate(where: str, key: str, value: Any) -> None:
    try:
        to_jsonable(value)
    except GoldenError as exc:
        raise GoldenError(f'{where}: "{key}": {exc}') from None


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise GoldenError(f"{path}: line {line}: not UTF-8 text (byte {exc.start})") from None


def to_jsonable(value: Any) -> Any:
    """Plain JSON values for an output: numpy arrays and scalars, tuples and other array-likes become
    lists, numbers, strings and booleans. NaN and infinities stay floats (they are compared, never matched
    by NaN). Anything else (dicts, None, complex numbers, bytes, ...) raises GoldenError naming where it is."""
    return _jsonable(value, ())


def _jsonable(value: Any, index: tuple[int, ...]) -> Any:
    if isinstance(value, bool):
        return value
    for kind in (int, float, str):  # also their subclasses: numpy.float64, numpy.str_, IntEnum, ...
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(item, (*index, i)) for i, item in enumerate(value)]
    import numpy as np

    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if hasattr(value, "__array__"):  # numpy arrays, and pandas, torch, jax, ... values that convert to one
        try:
            array = np.asarray(value)
        except Exception as exc:
            raise GoldenError(f"cannot convert {type(value).__name__}{_at(index)} to an array ({type(exc).__name__}: {exc})") from None
        if array.dtype.kind != "c":  # complex arrays fall through to the message below
            return _jsonable(array.tolist(), index)
    raise GoldenError(f"unsupported value {_describe(value)}{_at(index)}; {_VALUES}")


def _describe(value: Any) -> str:
    if value is None:
        return "null (None)"
    if isinstance(value, dict):
        return "an object (dict)"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def _at(index: tuple[int, ...]) -> str:
    return f" at [{', '.join(map(str, index))}]" if index else ""


def _kind(value: Any) -> str:
    if isinstance(value, bool):  # before int: a boolean is not a number here
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "list" if isinstance(value, list) else type(value).__name__


def compare_output(actual: Any, expected: Any, *, atol: float, rtol: float) -> tuple[str | None, float | None, float | None]:
    """Compare one output with its expected value: ``(problem or None, max abs diff, max rel diff)``.

    Shapes must match. Numbers match as ``numpy.isclose(actual, expected, atol=atol, rtol=rtol)``, that is
    ``|a - e| <= atol + rtol * |e|`` with ``e`` the expected value, and NaN never matches; strings and
    booleans must be equal, and a boolean is not a number (True vs 1 differs).

    The differences are over every numeric element, passing or not, and None when no numbers were compared:
    the relative one is ``|a - e| / |e|``, inf where ``e == 0`` (or is infinite) and ``a != e``; either is
    NaN when a NaN is involved.
    """
    try:
        actual = to_jsonable(actual)
    except GoldenError as exc:
        return f"the output cannot be compared: {exc}", None, None
    expected = to_jsonable(expected)
    actual_shape, expected_shape = _shape(actual), _shape(expected)
    if actual_shape is not None and expected_shape is not None and actual_shape != expected_shape:
        return f"shape {actual_shape} vs expected {expected_shape}", None, None
    pairs: list[tuple[tuple[int, ...], Any, Any]] = []
    problem = _leaf_pairs(actual, expected, (), pairs)  # only ragged lists get here with a structural difference
    if problem is not None:
        return problem, None, None
    parts: list[str] = []
    numbers = [pair for pair in pairs if _kind(pair[1]) == _kind(pair[2]) == "number"]
    max_abs = max_rel = None
    if numbers:
        max_abs, max_rel, failing = _numeric(numbers, atol, rtol)
        if failing:
            label = "values" if len(numbers) == len(pairs) else "numbers"
            nan = " (NaN never matches)" if any(math.isnan(a) or math.isnan(e) for _, a, e in failing) else ""
            parts.append(f"{len(failing)} of {len(numbers)} {label} outside atol={atol:g}, rtol={rtol:g}{nan}{_first(failing)}")
    for kind in ("string", "boolean"):
        same_kind = [pair for pair in pairs if _kind(pair[1]) == _kind(pair[2]) == kind]
        differ = [pair for pair in same_kind if pair[1] != pair[2]]
        if differ:
            parts.append(f"{len(differ)} of {len(same_kind)} {kind}s differ{_first(differ)}" if differ[0][0] else f"{kind} differs")
    wrong = [pair for pair in pairs if _kind(pair[1]) != _kind(pair[2])]
    if wrong:
        index, a, e = wrong[0]
        kinds = f"{_kind(a)} vs expected {_kind(e)}"
        parts.append(f"{len(wrong)} of {len(pairs)} values of another type (first at [{', '.join(map(str, index))}]: {kinds})" if index else f"type differs: {kinds}")
    return ("; ".join(parts) or None), max_abs, max_rel


def _shape(value: Any) -> tuple[int, ...] | None:
    """The shape of a regular nested list (``()`` for a scalar), None when it is ragged."""
    if not isinstance(value, list):
        return ()
    shapes = {_shape(item) for item in value}
    if None in shapes or len(shapes) > 1:
        return None
    return (len(value), *(shapes.pop() if shapes else ()))


def _leaf_pairs(actual: Any, expected: Any, index: tuple[int, ...], pairs: list) -> str | None:
    actual_list, expected_list = isinstance(actual, list), isinstance(expected, list)
    if actual_list and expected_list:
        if len(actual) != len(expected):
            return f"length {len(actual)} vs expected {len(expected)}{_at(index)}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            problem = _leaf_pairs(a, e, (*index, i), pairs)
            if problem is not None:
                return problem
        return None
    if actual_list or expected_list:
        return f"{'list' if actual_list else 'scalar'} vs expected {'list' if expected_list else 'scalar'}{_at(index)}"
    pairs.append((index, actual, expected))
    return None


def _numeric(numbers: list, atol: float, rtol: float) -> tuple[float, float, list]:
    import numpy as np

    a = np.array([pair[1] for pair in numbers], dtype=np.float64)
    e = np.array([pair[2] for pair in numbers], dtype=np.float64)
    close = np.isclose(a, e, atol=atol, rtol=rtol, equal_nan=False)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        diff = np.where(a == e, 0.0, np.abs(a - e))  # equal infinities differ by 0, not inf - inf = NaN
        rel = np.where(diff == 0, 0.0, diff / np.abs(e))  # e == 0 gives inf
        rel = np.where(np.isinf(e) & (diff > 0), np.inf, rel)  # not inf / inf = NaN
    failing = [pair for pair, ok in zip(numbers, close.tolist()) if not ok]
    return float(np.max(diff)), float(np.max(rel)), failing


def _first(failing: list) -> str:
    index = failing[0][0]
    return f" (first at [{', '.join(map(str, index))}])" if index else ""


def check_golden(golden: GoldenFile, run: Callable[[Any], Any], *, atol: float, rtol: float) -> GoldenCheck:
    """Run ``run(case.input)`` on every case and compare with its expected output; every failing case is kept."""
    for name, value in (("atol", atol), ("rtol", rtol)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise GateUsageError(f"golden check of {golden.path}: {name} must be a finite number >= 0, got {value!r}")
    for case in golden.cases:
        if case.expected is None:
            raise GoldenError(f'{_where(golden, case)}: no "expected" to check against; {_UPDATE}')
    mismatches = []
    for case in golden.cases:
        actual = _run(golden, case, run)
        problem, max_abs, max_rel = compare_output(actual, case.expected, atol=atol, rtol=rtol)
        if problem is not None:
            try:
                shown = to_jsonable(actual)
            except GoldenError:
                shown = actual
            mismatches.append(CaseMismatch(case.id, case.line, case.expected, shown, max_abs, max_rel, problem))
    passed = len(golden.cases) - len(mismatches)
    return GoldenCheck(golden.path, golden.sha256, len(golden.cases), passed, tuple(mismatches), atol, rtol)


def _run(golden: GoldenFile, case: GoldenCase, run: Callable[[Any], Any]) -> Any:
    try:
        # a copy: a model that edits its input in place must not change what an update writes back
        return run(copy.deepcopy(case.input))
    except Exception as exc:
        raise GoldenError(f"{_where(golden, case)}: the candidate raised {type(exc).__name__}: {exc}") from exc


def _where(golden: GoldenFile, case: GoldenCase) -> str:
    return f"{golden.path}: line {case.line} (case {case.id!r})"


def format_mismatches(check: GoldenCheck, *, limit_chars: int = 200) -> str:
    """A header, then one line per failing case with its problem, differences, expected and actual values."""
    colon = ":" if check.mismatches else ""
    lines = [f"{len(check.mismatches)} of {check.cases} golden cases failed ({check.path}, atol={check.atol:g}, rtol={check.rtol:g}){colon}"]
    for mismatch in check.mismatches:
        diffs = ""
        if mismatch.max_abs_diff is not None:
            diffs = f"; max abs diff {mismatch.max_abs_diff:.3g}, max rel diff {mismatch.max_rel_diff:.3g}"
        expected, actual = _clip(repr(mismatch.expected), limit_chars), _clip(repr(mismatch.actual), limit_chars)
        lines.append(f"  case {mismatch.id!r} (line {mismatch.line}): {mismatch.problem}{diffs}; expected {expected}, actual {actual}")
    return "\n".join(lines)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 3, 0)] + "..."


def update_golden(golden: GoldenFile, run: Callable[[Any], Any]) -> GoldenUpdate:
    """Rewrite each case's "expected" from the candidate, keeping its id, input and other keys in order.

    Lines whose expected output is unchanged (as a JSON value) are kept byte for byte, as are blank lines;
    a missing "expected" is added after "input". The file is replaced atomically, and only if a case changed.
    An output containing NaN is refused: it could never match.
    """
    outputs = []
    for case in golden.cases:
        actual = _run(golden, case, run)
        try:
            output = to_jsonable(actual)
        except GoldenError as exc:
            raise GoldenError(f"{_where(golden, case)}: cannot store the candidate's output: {exc}") from None
        if _has_nan(output):
            raise GoldenError(f"{_where(golden, case)}: the candidate's output contains NaN, which never matches; not writing it as expected")
        outputs.append(output)
    changed = [(case, output) for case, output in zip(golden.cases, outputs) if case.expected is None or not _same(case.expected, output)]
    if not changed:
        return GoldenUpdate(golden.path, len(golden.cases), 0, golden.sha256, golden.sha256)
    try:
        data = golden.path.read_bytes()
    except OSError as exc:
        raise GoldenError(f"golden file {golden.path}: cannot read it again to update it ({type(exc).__name__}: {exc})") from None
    if hashlib.sha256(data).hexdigest() != golden.sha256:
        raise GoldenError(f"golden file {golden.path} changed since it was loaded; not overwriting it")
    lines = _decode(golden.path, data).split("\n")
    for case, output in changed:
        ending = "\r" if lines[case.line - 1].endswith("\r") else ""  # keep CRLF files CRLF
        lines[case.line - 1] = json.dumps(_with_expected(case.raw, output), ensure_ascii=False) + ending
    new = "\n".join(lines).encode("utf-8")
    try:
        _write_atomic(golden.path, new)
    except OSError as exc:
        raise GoldenError(f"golden file {golden.path}: cannot write the update ({type(exc).__name__}: {exc})") from None
    return GoldenUpdate(golden.path, len(golden.cases), len(changed), golden.sha256, hashlib.sha256(new).hexdigest())


def _has_nan(value: Any) -> bool:
    if isinstance(value, list):
        return any(_has_nan(item) for item in value)
    return isinstance(value, float) and math.isnan(value)


def _same(old: Any, new: Any) -> bool:
    """Equal as JSON values: 1 and 1.0 are, True and 1 are not."""
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(_same(a, b) for a, b in zip(old, new))
    return _kind(old) == _kind(new) and old == new


def _with_expected(raw: dict, expected: Any) -> dict:
    if "expected" in raw:
        return {**raw, "expected": expected}  # an existing key keeps its position
    line: dict = {}
    for key, value in raw.items():
        line[key] = value
        if key == "input":
            line["expected"] = expected
    return line


def _write_atomic(path: Path, data: bytes) -> None:
    """Temp file in the same folder, fsync, rename: readers see the old file or the new one."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, stat.S_IMODE(path.stat().st_mode))  # mkstemp creates 0600; keep the file's mode
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
