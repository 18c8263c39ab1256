"""Data contracts and freshness: what a dataset's file must look like, and how old it may be.

A contract (``schema``, ``rows``, ``columns`` under a dataset in ``promote.yaml``) is checked
on the raw values of the file, before any typing: CSV cells as text (an empty or blank cell
is null), JSON values as JSON typed them, numpy arrays by dtype. ``None`` and a float NaN are
null everywhere. Per type:

* ``int``: text that ``int()`` parses; a JSON/Python int (not a bool); in a numpy array an
  integer dtype, or a float dtype holding integral values;
* ``float``: a finite real number, ints included (text: what ``float()`` parses; "nan" is null,
  "inf" is a violation);
* ``bool``: a JSON/Python/numpy bool; text ``true``/``false``/``1``/``0``, any case;
* ``str``: any string;
* ``datetime``: ISO 8601 text (``datetime.fromisoformat``, a ``Z`` suffix accepted), a
  ``datetime`` or a numpy ``datetime64``; naive times are UTC.

A value that is null or not of its column's type is reported as such and not checked
against ``min``, ``max``, ``allowed`` or ``unique``. Row numbers count data rows from 1 (the
first row after a CSV header, the first record of a JSONL file, index 0 of an array).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

if TYPE_CHECKING:
    from .config import DatasetSpec

__all__ = [
    "COLUMN_TYPES",
    "COLUMN_MODES",
    "STALE_ACTIONS",
    "SAMPLE_ROWS",
    "ColumnRule",
    "Contract",
    "Violation",
    "Freshness",
    "Age",
    "contract_of",
    "check_contract",
    "check_rows",
    "format_violations",
    "parse_datetime",
    "parse_duration",
    "format_duration",
    "format_timestamp",
    "newest_timestamp",
    "measure_age",
]

COLUMN_TYPES = ("int", "float", "str", "bool", "datetime")
COLUMN_MODES = ("subset", "exact")
STALE_ACTIONS = ("block", "warn")
SAMPLE_ROWS = 5  # offending rows listed per rule; the count is always exact
ROW_NUMBERING = "row numbers count data rows from 1"

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_TEXT_BOOLS = {"true": True, "1": True, "false": False, "0": False}


@dataclass(frozen=True)
class ColumnRule:
    """The rules for one column (``datasets.NAME.schema.COLUMN``)."""

    name: str
    type: str
    min: float | datetime | None = None
    max: float | datetime | None = None
    allowed: tuple[Any, ...] | None = None
    nullable: bool = False
    unique: bool = False


@dataclass(frozen=True)
class Contract:
    """A dataset's contract: per-column rules, a row-count range, and whether the file may
    have columns the schema does not list (``subset``) or not (``exact``)."""

    schema: tuple[ColumnRule, ...] = ()
    rows_min: int | None = None
    rows_max: int | None = None
    columns: str = "subset"


@dataclass(frozen=True)
class Violation:
    """One broken rule. ``rule`` is ``missing``, ``extra``, ``width``, ``null``, ``type``,
    ``min``, ``max``, ``allowed``, ``unique`` or ``rows``; ``column`` is None for rules on the
    whole table; ``rows`` and ``values`` hold the first offending rows (1-based) and their
    values as shown; ``count`` is exact; ``message`` is the sentence for humans."""

    rule: str
    column: str | None
    count: int
    rows: tuple[int, ...]
    values: tuple[str, ...]
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Freshness:
    """``max_age`` (as written and in seconds), the ``as_of`` column (None: the file's
    modification time) and ``on_stale``."""

    max_age: str
    max_age_seconds: float
    as_of: str | None = None
    on_stale: str = "block"


@dataclass(frozen=True)
class Age:
    """How old a dataset is at ``now``, measured from ``as_of`` (an aware UTC datetime)."""

    seconds: float
    source: str  # "as_of:<column>" or "mtime"
    as_of: datetime
    max_age_seconds: float

    @property
    def stale(self) -> bool:
        return self.seconds > self.max_age_seconds

    def to_dict(self) -> dict:
        """Plain JSON types, for the verdict's envelope."""
        return {
            "seconds": self.seconds,
            "source": self.source,
            "as_of": format_timestamp(self.as_of),
            "max_age_seconds": self.max_age_seconds,
            "stale": self.stale,
        }

    def describe_source(self) -> str:
        if self.source == "mtime":
            return f"file modified {format_timestamp(self.as_of)}"
        return f"newest {self.source.removeprefix('as_of:')} {format_timestamp(self.as_of)}"


def contract_of(spec: DatasetSpec) -> Contract | None:
    """The contract configured for a dataset, or None."""
    return spec.contract


# --- checking ----------------------------------------------------------------------------


def check_contract(columns: Mapping[str, Sequence], contract: Contract, *, text: bool = False) -> list[Violation]:
    """Every rule of ``contract`` that ``columns`` (name -> one raw value per row) breaks.

    ``text=True`` reads the values as CSV cells (parsed per type, blank is null); otherwise
    they are JSON/Python values, or numpy arrays judged by dtype.
    """
    violations = []
    for rule in contract.schema:
        if rule.name not in columns:
            listed = ", ".join(columns) or "none"
            violations.append(Violation("missing", rule.name, 0, (), (), f"column {rule.name!r}: missing from the file (columns: {listed})"))
            continue
        violations.extend(_check_column(rule, columns[rule.name], text=text, unique=rule.unique))
    if contract.columns == "exact":
        extra = [name for name in columns if name not in {rule.name for rule in contract.schema}]
        if extra:
            message = f"columns: exact, but the file has {len(extra)} column{_s(extra)} the schema does not list: {', '.join(extra)}"
            violations.append(Violation("extra", None, len(extra), (), (), message))
    n = len(next(iter(columns.values()))) if columns else 0
    if contract.rows_min is not None and n < contract.rows_min:
        violations.append(Violation("rows", None, n, (), (), f"rows: {n} row{_s(n)}, fewer than min {contract.rows_min}"))
    if contract.rows_max is not None and n > contract.rows_max:
        violations.append(Violation("rows", None, n, (), (), f"rows: {n} row{_s(n)}, more than max {contract.rows_max}"))
    return violations


def check_rows(rows: Sequence[Sequence], feature_names: Sequence[str], contract: Contract) -> list[Violation]:
    """The per-column rules of ``contract`` for the features it names, on row-shaped inputs
    (each row's values in ``feature_names`` order; a 2-D numpy array is judged by dtype).

    Row counts, ``columns`` and ``unique`` describe a whole dataset, not a sample of inputs,
    so they do not apply here.
    """
    width = len(feature_names)
    ragged = [number for number, row in enumerate(rows, start=1) if len(row) != width]
    if ragged:
        message = f"rows: {len(ragged)} row{_s(ragged)} without exactly {width} values, one per feature ({_row_list(ragged)})"
        return [Violation("width", None, len(ragged), tuple(ragged[:SAMPLE_ROWS]), (), message)]
    violations = []
    for rule in contract.schema:
        if rule.name not in feature_names:
            continue
        index = list(feature_names).index(rule.name)
        values = rows[:, index] if hasattr(rows, "ndim") else [row[index] for row in rows]
        violations.extend(_check_column(rule, values, text=False, unique=False))
    return violations


def format_violations(subject: str, violations: Sequence[Violation], *, numbering: str = ROW_NUMBERING) -> str:
    """One message listing every violation: ``"{subject} violates its contract (2 rules; ...): ...; ..."``."""
    count = len(violations)
    return f"{subject} violates its contract ({count} rule{_s(count)}; {numbering}): " + "; ".join(v.message for v in violations)


def _check_column(rule: ColumnRule, values: Sequence, *, text: bool, unique: bool) -> list[Violation]:
    values, integral_floats = _python_values(values)
    parse = _parser(rule.type, text=text, integral_floats=integral_floats)
    found: dict[str, list[tuple[int, Any]]] = {name: [] for name in ("null", "type", "min", "max", "allowed", "unique")}
    seen: set = set()
    # bools compare equal to 0 and 1: keep them apart from ints in allowed lists and uniqueness
    allowed = {(type(a) is bool, a) for a in rule.allowed} if rule.allowed is not None else None
    for number, raw in enumerate(values, start=1):
        value = parse(raw)
        if value is _NULL:
            if not rule.nullable:
                found["null"].append((number, raw))
            continue
        if value is _BAD:
            found["type"].append((number, raw))
            continue
        if rule.min is not None and value < rule.min:
            found["min"].append((number, value))
        if rule.max is not None and value > rule.max:
            found["max"].append((number, value))
        key = (type(value) is bool, value)
        if allowed is not None and key not in allowed:
            found["allowed"].append((number, value))
        if unique:
            if key in seen:
                found["unique"].append((number, value))
            seen.add(key)
    problems = {
        "null": "null, not nullable",
        "type": f"not {_TYPE_WORDS[rule.type]}",
        "min": f"below min {_show_limit(rule.min)}",
        "max": f"above max {_show_limit(rule.max)}",
        "allowed": f"not in allowed [{', '.join(_show_limit(a) for a in rule.allowed or ())}]",
        "unique": "not unique (an earlier row has the same value)",
    }
    violations = []
    for name, hits in found.items():
        if not hits:
            continue
        numbers = tuple(number for number, _ in hits[:SAMPLE_ROWS])
        shown = () if name == "null" else tuple(_show(value) for _, value in hits[:SAMPLE_ROWS])
        listing = _row_list([number for number, _ in hits], shown)
        message = f"column {rule.name!r}: {len(hits)} row{_s(hits)} {problems[name]} ({listing})"
        violations.append(Violation(name, rule.name, len(hits), numbers, shown, message))
    return violations


_TYPE_WORDS = {"int": "an int", "float": "a finite number", "str": "a string", "bool": "a bool", "datetime": "an ISO 8601 datetime"}


def _row_list(numbers: Sequence[int], shown: Sequence[str] = ()) -> str:
    """``rows 4, 17, ...: 16, 17`` -- the first few row numbers, then their values."""
    listed = ", ".join(str(n) for n in numbers[:SAMPLE_ROWS]) + (", ..." if len(numbers) > SAMPLE_ROWS else "")
    words = f"row {listed}" if len(numbers) == 1 else f"rows {listed}"
    return f"{words}: {', '.join(shown)}" if shown else words


def _s(count: int | Sequence) -> str:
    return "" if (count if isinstance(count, int) else len(count)) == 1 else "s"


def _show(value: Any) -> str:
    if isinstance(value, datetime):
        return format_timestamp(value)
    return repr(value)


def _show_limit(value: Any) -> str:
    if isinstance(value, datetime):
        return format_timestamp(value)
    return value if isinstance(value, str) else repr(value)


# --- parsing raw values ------------------------------------------------------------------

_NULL = object()
_BAD = object()


def _python_values(values: Sequence) -> tuple[Sequence, bool]:
    """Plain Python values of a column, and whether integral floats count as ints (a numpy
    float column: integer features are stored as floats beside other features in ``X``)."""
    if not hasattr(values, "dtype"):
        return values, False
    kind = values.dtype.kind
    if kind == "M":
        values = values.astype("datetime64[us]")  # tolist() gives datetimes at this unit, ints at ns
    return values.tolist(), kind == "f"


def _parser(kind: str, *, text: bool, integral_floats: bool) -> Callable[[Any], Any]:
    if text:
        parse_text = _TEXT_PARSERS[kind]
        return lambda raw: _NULL if raw is None or not raw.strip() else parse_text(raw)
    parse_value = _VALUE_PARSERS[kind]

    def parse(raw: Any) -> Any:
        if hasattr(raw, "dtype") and hasattr(raw, "item"):
            raw = raw.item()  # a numpy scalar in a list of values
        if raw is None or (isinstance(raw, float) and math.isnan(raw)):
            return _NULL
        return parse_value(raw, integral_floats)

    return parse


def _text_int(raw: str) -> Any:
    try:
        return int(raw)
    except ValueError:
        return _BAD


def _text_float(raw: str) -> Any:
    try:
        value = float(raw)
    except ValueError:
        return _BAD
    return _NULL if math.isnan(value) else value if math.isfinite(value) else _BAD


def _text_datetime(raw: str) -> Any:
    value = parse_datetime(raw)
    return _BAD if value is None else value


_TEXT_PARSERS: dict[str, Callable[[str], Any]] = {
    "int": _text_int,
    "float": _text_float,
    "bool": lambda raw: _TEXT_BOOLS.get(raw.strip().lower(), _BAD),
    "str": lambda raw: raw,
    "datetime": _text_datetime,
}


def _value_int(raw: Any, integral_floats: bool) -> Any:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if integral_floats and isinstance(raw, float) and raw.is_integer():
        return int(raw)
    return _BAD


def _value_float(raw: Any, integral_floats: bool) -> Any:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        return _BAD
    return raw if isinstance(raw, int) or math.isfinite(raw) else _BAD


def _value_datetime(raw: Any, integral_floats: bool) -> Any:
    if isinstance(raw, datetime):
        return _utc(raw)
    if isinstance(raw, str):
        return _text_datetime(raw)
    return _BAD


_VALUE_PARSERS: dict[str, Callable[[Any, bool], Any]] = {
    "int": _value_int,
    "float": _value_float,
    "bool": lambda raw, _: raw if isinstance(raw, bool) else _BAD,
    "str": lambda raw, _: raw if isinstance(raw, str) else _BAD,
    "datetime": _value_datetime,
}


def parse_datetime(value: str | datetime | date) -> datetime | None:
    """An aware UTC datetime from ISO 8601 text (``Z`` accepted), a datetime or a date;
    naive times are UTC. None when the value is not one."""
    if isinstance(value, datetime):
        try:
            return _utc(value)
        except OverflowError:  # near year 1 or 9999, an offset can carry it out of range
            return None
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"  # fromisoformat reads "Z" only from Python 3.11 on
    try:
        return _utc(datetime.fromisoformat(text))
    except (ValueError, OverflowError):
        return None


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def format_timestamp(value: datetime) -> str:
    """``2026-10-14T08:00:00Z`` (UTC, whole seconds)."""
    return _utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- freshness -------------------------------------------------------------------------------


def parse_duration(text: str) -> float:
    """Seconds in ``"30d"``, ``"12h"``, ``"90m"``, ``"1.5h"``, ``"45s"`` (a positive number,
    then one unit); ValueError otherwise."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None or float(match.group(1)) <= 0:
        raise ValueError(f"expected a positive number followed by a unit s, m, h or d (e.g. '30d', '12h'), got {text!r}")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if not math.isfinite(seconds):
        raise ValueError(f"expected a duration a clock can measure, got {text[:40]!r}{'...' if len(text) > 40 else ''}")
    return seconds


def format_duration(seconds: float) -> str:
    """Human-readable, rounded down to the largest unit and the next: ``41d 3h``, ``2h 5m``,
    ``10d`` (for 10 days and 3 seconds), ``45s``."""
    sign, rest = ("-", -seconds) if seconds < 0 else ("", seconds)
    amounts = []
    for size in _UNIT_SECONDS.values():
        amount, rest = divmod(rest, size)
        amounts.append(int(amount))
    units = list(_UNIT_SECONDS)
    first = next((i for i, amount in enumerate(amounts) if amount), len(units) - 1)
    parts = [f"{amounts[first]}{units[first]}"]
    if first + 1 < len(units) and amounts[first + 1]:
        parts.append(f"{amounts[first + 1]}{units[first + 1]}")
    return sign + " ".join(parts)


def newest_timestamp(values: Sequence, *, text: bool = False) -> datetime | None:
    """The latest value of a column that parses as a datetime (others are ignored), or None."""
    parse = _parser("datetime", text=text, integral_floats=False)
    parsed = [value for value in map(parse, _python_values(values)[0]) if isinstance(value, datetime)]
    return max(parsed, default=None)


def measure_age(freshness: Freshness, as_of: datetime, now: datetime) -> Age:
    """The age of data last updated at ``as_of`` (from the ``as_of`` column, or else the
    file's modification time)."""
    source = f"as_of:{freshness.as_of}" if freshness.as_of is not None else "mtime"
    seconds = (_utc(now) - _utc(as_of)).total_seconds()
    return Age(seconds=seconds, source=source, as_of=_utc(as_of), max_age_seconds=freshness.max_age_seconds)
