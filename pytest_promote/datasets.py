"""Evaluation datasets: ``.csv``, ``.npz`` and ``.jsonl`` files, pinned by sha256, checked
against their contract and their maximum age.

Loading runs in this order: the sha256 pin, parsing, the contract, freshness.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from .config import DatasetSpec, PromoteConfig
from .contracts import Contract, check_contract, format_duration, format_violations, measure_age, newest_timestamp
from .errors import ContractViolation, DatasetError, PromoteError, StaleData

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Dataset", "DatasetStore", "load_dataset"]


@dataclass(frozen=True)
class Dataset:
    """What ``dataset("name")`` returns: features ``X`` (2-D) and labels ``y`` (1-D)."""

    name: str
    X: np.ndarray
    y: np.ndarray
    columns: tuple[str, ...]
    sha256: str
    other_columns: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # every other column of the file
    warnings: tuple[str, ...] = ()  # e.g. stale data under on_stale: warn
    age: dict | None = None  # with max_age: seconds, source, as_of, max_age_seconds, stale (plain JSON types)

    @property
    def n(self) -> int:
        return len(self.y)

    def column(self, name: str) -> np.ndarray:
        """Any column of the file by name (features, the target, or others such as a slice or query id)."""
        if name in self.columns:
            return self.X[:, self.columns.index(name)]
        if name in self.other_columns:
            return self.other_columns[name]
        available = ", ".join([*self.columns, *self.other_columns]) or "none"
        raise DatasetError(f"dataset {self.name!r} has no column {name!r} (columns: {available})")


class DatasetStore:
    """Loads each configured dataset once; unknown names list the configured ones.

    A dataset that failed to load fails again on every later ``get`` with the same error,
    so no test sees a file that changed after it was refused.
    """

    def __init__(self, config: PromoteConfig, *, now: datetime | None = None) -> None:
        self._specs = config.datasets
        self._now = now  # None: the real clock when each dataset is loaded
        self._loaded: dict[str, Dataset] = {}
        self._failed: dict[str, PromoteError] = {}

    def contract(self, name: str) -> Contract | None:
        """The contract of a dataset (loading and checking the dataset itself first)."""
        self.get(name)
        return self._specs[name].contract

    def get(self, name: str) -> Dataset:
        if name not in self._specs:
            configured = ", ".join(sorted(self._specs)) or "none"
            raise DatasetError(f"unknown dataset {name!r} (configured in promote.yaml: {configured})")
        if name in self._failed:
            raise self._failed[name]
        if name not in self._loaded:
            try:
                self._loaded[name] = load_dataset(self._specs[name], now=self._now)
            except PromoteError as exc:
                self._failed[name] = exc
                raise
        return self._loaded[name]

    def loaded(self) -> dict[str, Dataset]:
        return dict(self._loaded)


def load_dataset(spec: DatasetSpec, *, now: datetime | None = None) -> Dataset:
    """Read, verify and check one dataset; ``now`` (default: the real clock) dates its age."""
    try:
        with open(spec.path, "rb") as handle:
            modified = os.fstat(handle.fileno()).st_mtime  # the time of the bytes read, not of a later stat
            data = handle.read()
    except OSError as exc:
        raise DatasetError(f"datasets.{spec.name}: {spec.path}: cannot read the file ({exc.strerror or exc})") from None
    digest = hashlib.sha256(data).hexdigest()
    if spec.sha256 is not None and digest != spec.sha256:
        raise DatasetError(
            f"datasets.{spec.name}: {spec.path}: sha256 mismatch: promote.yaml pins {spec.sha256} but the file's sha256 is {digest}"
        )
    suffix = spec.path.suffix.lower()
    if suffix == ".npz":
        dataset = _from_npz(spec, data, digest)
        raw = {**{name: dataset.X[:, i] for i, name in enumerate(dataset.columns)}, **dataset.other_columns}
    else:
        raw = _read_csv(spec, data) if suffix == ".csv" else _read_jsonl(spec, data)
        dataset = _from_columns(spec, raw, digest)
    text = suffix == ".csv"  # CSV cells are text; JSON values and arrays carry their own types
    if spec.contract is not None:
        violations = check_contract(raw, spec.contract, text=text)
        if violations:
            raise ContractViolation(format_violations(f"datasets.{spec.name}: {spec.path}", violations), violations)
    if spec.freshness is None:
        return dataset
    return _with_age(spec, dataset, raw, text, modified, now or datetime.now(timezone.utc))


def _with_age(
    spec: DatasetSpec, dataset: Dataset, raw: Mapping[str, Sequence], text: bool, modified: float, now: datetime
) -> Dataset:
    freshness = spec.freshness
    subject = f"datasets.{spec.name}: {spec.path}"
    if freshness.as_of is None:
        as_of = datetime.fromtimestamp(modified, timezone.utc)
    else:
        if freshness.as_of not in raw:
            raise DatasetError(f"datasets.{spec.name}.as_of: column {freshness.as_of!r} not found in {spec.path} (columns: {', '.join(raw)})")
        as_of = newest_timestamp(raw[freshness.as_of], text=text)
        if as_of is None:
            # an unknown age is never fresh, whatever on_stale says: the column is likely the wrong one
            raise StaleData(f"{subject}: cannot tell its age: column {freshness.as_of!r} (as_of) has no ISO 8601 datetime value")
    age = measure_age(freshness, as_of, now)
    if not age.stale:
        return dataclasses.replace(dataset, age=age.to_dict())
    message = (
        f"{subject} is stale: {format_duration(age.seconds)} old, more than max_age {freshness.max_age} ({age.describe_source()})"
    )
    if freshness.on_stale == "block":
        raise StaleData(message)
    return dataclasses.replace(dataset, age=age.to_dict(), warnings=(message,))


def _from_npz(spec: DatasetSpec, data: bytes, digest: str) -> Dataset:
    import numpy as np

    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except Exception as exc:
        raise DatasetError(f"datasets.{spec.name}: {spec.path}: not a readable .npz file ({type(exc).__name__}: {exc})") from None
    missing = [key for key in ("X", "y") if key not in arrays]
    if missing:
        raise DatasetError(f"datasets.{spec.name}: {spec.path}: missing array(s) {', '.join(missing)} (found: {', '.join(arrays)})")
    X, y = arrays["X"], arrays["y"]
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or y.ndim != 1 or len(X) != len(y):
        raise DatasetError(f"datasets.{spec.name}: {spec.path}: expected X of shape (n, k) and y of shape (n,), got {X.shape} and {y.shape}")
    columns = tuple(str(c) for c in arrays["columns"]) if "columns" in arrays else tuple(f"x{i}" for i in range(X.shape[1]))
    others = {key: array for key, array in arrays.items() if key not in ("X", "columns") and array.ndim == 1 and len(array) == len(y)}
    return Dataset(spec.name, X, y, columns, digest, others)


def _read_csv(spec: DatasetSpec, data: bytes) -> dict[str, list[Any]]:
    rows = csv.reader(io.StringIO(_decode(spec, data), newline=""))
    header = next(rows, None)
    if not header:
        raise DatasetError(f"datasets.{spec.name}: {spec.path}: the file is empty; expected a header row")
    columns: dict[str, list[Any]] = {name: [] for name in header}
    if len(columns) != len(header):
        raise DatasetError(f"datasets.{spec.name}: {spec.path}: the header repeats a column name")
    for line_number, row in enumerate(rows, start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise DatasetError(f"datasets.{spec.name}: {spec.path}: line {line_number} has {len(row)} fields, the header has {len(header)}")
        for name, value in zip(header, row):
            columns[name].append(value)
    return columns


def _read_jsonl(spec: DatasetSpec, data: bytes) -> dict[str, list[Any]]:
    columns: dict[str, list[Any]] | None = None
    for line_number, line in enumerate(_decode(spec, data).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"datasets.{spec.name}: {spec.path}: line {line_number}: invalid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise DatasetError(f"datasets.{spec.name}: {spec.path}: line {line_number}: expected a JSON object")
        if columns is None:
            columns = {name: [] for name in record}
        if record.keys() != columns.keys():
            missing, extra = sorted(columns.keys() - record.keys()), sorted(record.keys() - columns.keys())
            raise DatasetError(
                f"datasets.{spec.name}: {spec.path}: line {line_number}: keys differ from the first row "
                f"(missing: {', '.join(missing) or '-'}; extra: {', '.join(extra) or '-'})"
            )
        for name, value in record.items():
            columns[name].append(value)
    if columns is None:
        raise DatasetError(f"datasets.{spec.name}: {spec.path}: the file has no rows")
    return columns


def _from_columns(spec: DatasetSpec, columns: dict[str, list[Any]], digest: str) -> Dataset:
    import numpy as np

    if spec.target not in columns:
        raise DatasetError(f"datasets.{spec.name}.target: column {spec.target!r} not found in {spec.path} (columns: {', '.join(columns)})")
    features = spec.features or tuple(name for name in columns if name != spec.target)
    unknown = [name for name in features if name not in columns]
    if unknown:
        raise DatasetError(f"datasets.{spec.name}.features: column(s) {', '.join(unknown)} not found in {spec.path}")
    if not features:
        raise DatasetError(f"datasets.{spec.name}: {spec.path} has no feature columns besides the target {spec.target!r}")
    arrays = [_typed(values) for values in (columns[name] for name in features)]
    numeric = all(array.dtype.kind in "biuf" for array in arrays)
    X = np.column_stack(arrays).astype(np.float64 if numeric else object)
    others = {name: _typed(values) for name, values in columns.items() if name not in features}
    return Dataset(spec.name, X, others[spec.target], tuple(features), digest, others)


def _typed(values: list[Any]) -> np.ndarray:
    """The narrowest array for a column: int, then float (empty/null as NaN), else text."""
    import numpy as np

    if all(isinstance(value, str) for value in values):
        for parse in (int, _float_or_nan):
            try:
                return np.array([parse(value) for value in values])
            except ValueError:
                continue
        return np.array(values, dtype=object)
    if all(isinstance(value, (int, float)) or value is None for value in values):
        return np.array([np.nan if value is None else value for value in values])
    return np.array(values, dtype=object)


def _float_or_nan(value: str) -> float:
    return float(value) if value.strip() else float("nan")


def _decode(spec: DatasetSpec, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"datasets.{spec.name}: {spec.path}: not UTF-8 text (byte {exc.start})") from None
