"""Property-based tests (Hypothesis).

- ``promote.yaml``: random valid configs round-trip through ``load_config`` and ``dump_config``.
- ``load_config`` on anything else (random YAML values, broken valid configs, values just past a
  limit, raw text and bytes) returns a config or raises ``ConfigError`` naming the file; any
  other exception is a failure.
- The verdict: random gate results of every kind, NaN and infinities included, recorded by
  the gates' own ``record()`` and assembled by the real collector, are strict JSON that the
  shipped schema accepts; any exception but a ``PromoteError`` from a gate's measuring call is a
  failure.

The crashes these tests once found (PyYAML constructor errors, unhashable keys, deep nesting,
NUL characters in paths, datetimes whose offset overflows, huge registry versions and
``max_age`` values, the underpowered advice overflowing, drift outputs without columns, tiny
alphas, the largest alpha below 0.5, infinite slice values) are fixed; each is pinned by an
explicit example that asserts the fixed behaviour, and the strategies cover them again.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import functools
import json
import math
import os
import re
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pytest_promote.config import CARD_FIELDS, MIN_ALPHA, PromoteConfig, dump_config, load_config
from pytest_promote.contracts import Freshness, measure_age, parse_duration
from pytest_promote.errors import ConfigError, GateUsageError, PromoteError
from pytest_promote.gates import CostContext, CostGate, DriftContext, DriftGate, GoldenContext, GoldenGate
from pytest_promote.gates import LatencyContext, LatencyGate, QualityContext, QualityGate, unmeasured_record
from pytest_promote.gates.common import GATE_MARKERS, Failure
from pytest_promote.gates.cost import CostFigure
from pytest_promote.gates.drift import ColumnDrift
from pytest_promote.gates.quality import GateResult
from pytest_promote.golden import CaseMismatch, GoldenCheck, GoldenUpdate, format_mismatches
from pytest_promote.stats.bootstrap import POWER, PairedResult
from pytest_promote.stats.crosscheck import CrossCheck
from pytest_promote.stats.drift import DriftStatistics
from pytest_promote.stats.latency import LatencyComparison, LatencySummary, compare_latency
from pytest_promote.stats.metrics import METRICS
from pytest_promote.stats.slices import SliceGap, SliceResult
from pytest_promote.verdict import SCHEMA_PATH, VerdictCollector, collect_envelope, dumps
from pytest_promote.verdict import TestPhase as Phase  # aliased: pytest would try to collect Test*
from pytest_promote.verdict.decision import Reason
from pytest_promote.verdict.replay import ReplaySource, compare_gates

# Derandomised by default: the same examples on every run (for a given Hypothesis version), so
# a red build always comes from a change, never from a lucky draw. (CI runs .ci/run, which sets
# no CI variable to key this on, so it is the default rather than a CI-only setting.)
# PROMOTE_HYPOTHESIS_EXPLORE=1 searches randomly with ten times the examples, remembering
# failures in .hypothesis/: run it after changing config.py, the gates or the verdict, and pin
# whatever it finds as an explicit example.
EXPLORE = os.environ.get("PROMOTE_HYPOTHESIS_EXPLORE", "").strip() not in ("", "0")


def examples(count: int) -> int:
    return count * 10 if EXPLORE else count


# file I/O per example makes timings vary too much for Hypothesis's default 200 ms deadline
FILE_SETTINGS = settings(deadline=None, derandomize=not EXPLORE)
# the verdict examples build several gates, run real bootstraps and validate a large document
VERDICT_SETTINGS = settings(
    deadline=None,
    derandomize=not EXPLORE,
    # the gate strategies are big composites by design (one verdict of up to six gates)
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- helpers: projects on disk -----------------------------------------------------------------------------

ROOT = "<root>"  # placeholder for the example's temporary folder in absolute paths


@dataclass
class Project:
    """A config document and the files it points at (paths relative to the temporary root;
    the config itself is ``conf/promote.yaml``)."""

    document: Any
    files: dict[str, bytes] = field(default_factory=dict)


def materialise(node: Any, root: Path) -> Any:
    """The document with ``<root>/...`` strings turned into absolute paths under ``root``."""
    if isinstance(node, dict):
        return {key: materialise(value, root) for key, value in node.items()}
    if isinstance(node, list):
        return [materialise(value, root) for value in node]
    if isinstance(node, str) and node.startswith(ROOT + "/"):
        return str(root / node[len(ROOT) + 1 :])
    return node


def write_files(root: Path, files: dict[str, bytes]) -> None:
    (root / "conf").mkdir(exist_ok=True)
    for relative, content in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def yaml_text(document: Any) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def load_or_config_error(path: Path) -> PromoteConfig | ConfigError:
    """The loaded config, or the ConfigError (which must name the file); any other exception
    propagates, failing the test."""
    try:
        return load_config(path)
    except ConfigError as exc:
        assert str(path) in str(exc), f"the message does not name the file {path}: {exc}"
        assert exc.config_path == str(path)
        return exc


# --- strategies: valid configs -----------------------------------------------------------------------------

NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,7}", fullmatch=True)
REGISTRY_NAMES = st.from_regex(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,10}", fullmatch=True)
STEMS = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,7}", fullmatch=True)
# column names, targets, owners, texts: any non-empty text, to stress the YAML quoting
LABELS = st.one_of(NAMES, st.text(min_size=1, max_size=12))
TEXTS = st.text(min_size=1, max_size=40).filter(str.strip)
SHA256S = st.from_regex(r"[0-9a-f]{64}", fullmatch=True) | st.from_regex(r"[0-9A-F]{64}", fullmatch=True)
FINITE = st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False))
# registry versions: up to 18 digits (more is a ConfigError: see invalid_values)
VERSIONS = st.integers(1, 10**18 - 1) | st.sampled_from([1, 10**18 - 1])
# alphas: the whole valid domain [MIN_ALPHA, 0.5) (below MIN_ALPHA is a ConfigError / GateUsageError)
LARGEST_ALPHA = 0.5 - 2**-54  # the float just below 0.5
ALPHAS = st.floats(MIN_ALPHA, 0.5, exclude_max=True) | st.sampled_from([MIN_ALPHA, LARGEST_ALPHA])
# up to 300 digits: finite in days too (longer ones are infinite: see INFINITE_MAX_AGES)
DIGITS = st.from_regex(r"[0-9]{0,5}[1-9]", fullmatch=True) | st.from_regex(r"[1-9][0-9]{199,299}", fullmatch=True)


def measurable(text: str) -> bool:
    """Whether ``max_age`` text is a positive, finite duration (what the config accepts)."""
    try:
        parse_duration(text)
    except ValueError:
        return False
    return True


# max_age: short numbers and long digit strings, positive and finite (the filter only checks it)
MAX_AGES = st.builds(lambda digits, fraction, unit: digits + fraction + unit, DIGITS,
                     st.just("") | st.from_regex(r"\.[0-9]{1,3}", fullmatch=True), st.sampled_from("smhd")).filter(measurable)  # fmt: skip
OFFSETS = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda minutes: dt.timezone(dt.timedelta(minutes=minutes)))
# years 2..9998: an offset cannot push these out of datetime's range (one that does makes the
# datetime unparseable, a ConfigError: see overflowing_datetimes); naive midnights may also be
# written as dates
DATETIMES = st.one_of(
    st.datetimes(min_value=dt.datetime(2, 1, 1), max_value=dt.datetime(9998, 12, 31), timezones=st.none() | OFFSETS),
    st.dates(min_value=dt.date(2, 1, 1), max_value=dt.date(9998, 12, 31)).map(lambda day: dt.datetime(day.year, day.month, day.day)),
)


def utc_instant(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


@st.composite
def datetime_values(draw: st.DrawFn, value: dt.datetime) -> Any:
    """One way to write a datetime in promote.yaml: ISO text (``Z`` for UTC), a YAML timestamp, or
    (for a naive midnight, which a date stands for) a date or its text."""
    styles = ["iso", "iso-space", "z", "yaml"]
    if value.tzinfo is None and value.time() == dt.time():
        styles += ["date", "date-text"]
    style = draw(st.sampled_from(styles))
    if style == "date":
        return value.date()
    if style == "date-text":
        return value.date().isoformat()
    if style == "yaml":
        return value
    if style == "z":
        return utc_instant(value).replace(tzinfo=None).isoformat() + "Z"
    return value.isoformat(" " if style == "iso-space" else "T")


@st.composite
def column_rules(draw: st.DrawFn) -> dict:
    kind = draw(st.sampled_from(["int", "float", "str", "bool", "datetime"]))
    rule: dict[str, Any] = {"type": kind}
    if kind in ("int", "float"):
        low, high = sorted(draw(st.lists(FINITE, min_size=2, max_size=2)))
        rule.update(draw(st.sampled_from([{}, {"min": low}, {"max": high}, {"min": low, "max": high}])))
        values = st.integers() if kind == "int" else FINITE
        allowed = draw(st.none() | st.lists(values, min_size=1, max_size=4, unique_by=lambda v: v))
    elif kind == "datetime":
        low, high = sorted(draw(st.lists(DATETIMES, min_size=2, max_size=2)), key=utc_instant)
        bounds = {"min": draw(datetime_values(low)), "max": draw(datetime_values(high))}
        rule.update({key: bounds[key] for key in draw(st.sampled_from([(), ("min",), ("max",), ("min", "max")]))})
        allowed = None
        if draw(st.booleans()):
            allowed = [draw(datetime_values(value)) for value in draw(st.lists(DATETIMES, min_size=1, max_size=3, unique_by=utc_instant))]
    elif kind == "str":
        allowed = draw(st.none() | st.lists(st.text(max_size=10), min_size=1, max_size=4, unique=True))
    else:
        allowed = draw(st.none() | st.sampled_from([[True], [False], [True, False], [False, True]]))
    if allowed is not None:
        rule["allowed"] = allowed
    for flag in ("nullable", "unique"):
        choice = draw(st.sampled_from([None, True, False]))
        if choice is not None:
            rule[flag] = choice
    return rule


@st.composite
def file_paths(draw: st.DrawFn, files: dict[str, bytes], folder: str, suffixes: st.SearchStrategy[str]) -> str:
    """A new file (registered in ``files``) and a way to write its path in the config in conf/."""
    stem, suffix = draw(STEMS), draw(suffixes)
    outside = draw(st.sampled_from([False, False, False, True]))  # a file beside conf/, not below it
    relative = f"{'shared' if outside else 'conf'}/{folder}/{stem}{suffix}"
    files[relative] = draw(st.binary(max_size=16))
    inside = relative.removeprefix("conf/")
    spellings = [f"{ROOT}/{relative}"]
    if outside:
        spellings.append(f"../{relative}")
    else:
        spellings += [inside, f"./{inside}", f"{folder}/../{inside}"]
    return draw(st.sampled_from(spellings))


@st.composite
def models(draw: st.DrawFn, files: dict[str, bytes]) -> dict:
    source = draw(st.sampled_from(["path", "loader", "registry"]))
    if source == "loader":
        return {"loader": draw(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,5}(\.[A-Za-z_][A-Za-z0-9_]{0,5}){0,2}:[A-Za-z_][A-Za-z0-9_.]{0,8}", fullmatch=True))}
    if source == "registry":
        selector = draw(VERSIONS.map(str) | REGISTRY_NAMES.filter(lambda s: not s.isdigit()))
        spec = {"registry": f"{draw(REGISTRY_NAMES)}@{selector}"}
    else:
        spec = {"path": draw(file_paths(files, "models", st.sampled_from([".pkl", ".joblib", ".onnx", ""])))}
    pin = draw(st.none() | st.just("absent") | SHA256S)
    if pin != "absent":
        spec["sha256"] = pin
    return spec


@st.composite
def datasets(draw: st.DrawFn, files: dict[str, bytes]) -> dict:
    suffix = draw(st.sampled_from([".csv", ".jsonl", ".npz", ".CSV", ".Jsonl", ".NPZ"]))
    spec: dict[str, Any] = {"path": draw(file_paths(files, "data", st.just(suffix)))}
    if suffix.lower() != ".npz":
        spec["target"] = target = draw(LABELS)
        features = [name for name in draw(st.none() | st.lists(LABELS, max_size=4)) or () if name != target]
        if features:
            spec["features"] = features
    if draw(st.booleans()):
        spec["sha256"] = draw(SHA256S | st.none())
    if draw(st.booleans()):
        spec["schema"] = draw(st.dictionaries(LABELS, column_rules(), min_size=1, max_size=3))
        if draw(st.booleans()):
            spec["columns"] = draw(st.sampled_from(["subset", "exact"]))
    if draw(st.booleans()):
        low, high = sorted(draw(st.lists(st.integers(0, 10**12), min_size=2, max_size=2)))
        spec["rows"] = draw(st.sampled_from([{"min": low}, {"max": high}, {"min": low, "max": high}]))
    if draw(st.booleans()):
        spec["max_age"] = draw(MAX_AGES)
        if draw(st.booleans()):
            spec["as_of"] = draw(LABELS)
        if draw(st.booleans()):
            spec["on_stale"] = draw(st.sampled_from(["block", "warn"]))
    return spec


def optional(draw: st.DrawFn, document: dict, key: str, strategy: st.SearchStrategy) -> None:
    if draw(st.booleans()):
        document[key] = draw(strategy)


@st.composite
def valid_projects(draw: st.DrawFn, with_datasets: bool = False) -> Project:
    files: dict[str, bytes] = {}
    document: dict[str, Any] = {"version": 1}
    optional(draw, document, "seed", st.integers(0, 2**70))
    optional(draw, document, "alpha", ALPHAS)
    bootstrap = {
        "resamples": st.integers(100, 10**7), "method": st.sampled_from(["bca", "percentile"]),
        "memory_mb": st.integers(16, 10**6), "threads": st.just("auto") | st.integers(1, 512),
    }  # fmt: skip
    optional(draw, document, "bootstrap", st.fixed_dictionaries({}, optional=bootstrap))
    document["models"] = {"candidate": draw(models(files)), "baseline": draw(models(files))}
    if with_datasets or draw(st.booleans()):
        names = draw(st.lists(NAMES | st.integers(0, 99), min_size=int(with_datasets), max_size=3, unique_by=str))
        document["datasets"] = {name: draw(datasets(files)) for name in names} or draw(st.sampled_from([{}, None]))
    optional(draw, document, "verdict", TEXTS | st.none())
    optional(draw, document, "registry", st.fixed_dictionaries({}, optional={"path": st.from_regex(r"[a-z0-9_./ -]{0,10}[a-z0-9]", fullmatch=True)}))
    optional(draw, document, "approvals", st.fixed_dictionaries({}, optional={"required": st.lists(REGISTRY_NAMES, max_size=3, unique=True)}))
    card = {name: TEXTS | st.none() for name in CARD_FIELDS if name != "owners"}
    card["owners"] = st.lists(TEXTS, max_size=3)
    card["required"] = st.lists(st.sampled_from(CARD_FIELDS), max_size=6)
    optional(draw, document, "card", st.fixed_dictionaries({}, optional=card))
    optional(draw, document, "require", st.fixed_dictionaries({}, optional=dict.fromkeys(("git_clean", "model_pins", "owners"), st.booleans())))
    return Project(document, files)


# --- properties: round trip ----------------------------------------------------------------------------------


def same_record(loaded: PromoteConfig, original: PromoteConfig) -> bool:
    """Round-trip equality: every field but ``path`` and ``sha256``, which describe the file read
    (where it is, the digest of its bytes) rather than the configuration."""
    return dataclasses.replace(loaded, path=original.path, sha256=original.sha256) == original


@settings(FILE_SETTINGS, max_examples=examples(150))
@given(project=valid_projects())
def test_valid_configs_round_trip_through_dump(project: Project) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_files(root, project.files)
        path = root / "conf" / "promote.yaml"
        path.write_text(yaml_text(materialise(project.document, root)), encoding="utf-8")
        config = load_config(path)

        text = dump_config(config)
        dumped = path.with_name("dumped.yaml")  # dump_config's text belongs in the config's folder
        dumped.write_text(text, encoding="utf-8")
        again = load_config(dumped)

        assert same_record(again, config), text
        assert dump_config(again) == text  # a fixed point: dump(load(dump(c))) == dump(c)


# --- strategies: invalid configs --------------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),  # NaN and infinities included
    st.text(max_size=12),
    st.binary(max_size=6),
    st.dates(),
    st.datetimes(timezones=st.none() | OFFSETS),
)
KEYS = st.one_of(st.text(max_size=10), st.integers(), st.booleans(), st.none(), st.floats())


def containers(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4)


YAML_VALUES = st.recursive(SCALARS, containers, max_leaves=12)


def locations(node: Any, prefix: tuple = ()) -> list[tuple]:
    """The key path of every value inside mappings and lists."""
    found = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        found.append(prefix + (key,))
        found.extend(locations(value, prefix + (key,)))
    return found


def parent_of(document: Any, location: tuple) -> Any:
    node = document
    for key in location[:-1]:
        node = node[key]
    return node


@st.composite
def mutated_documents(draw: st.DrawFn, document: dict) -> Any:
    """A valid document with one to three changes: a value replaced by a random one, a key or
    list item removed (required keys included), or an unknown key added."""
    document = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 3))):
        places = locations(document)
        if not places:
            break
        location = draw(st.sampled_from(places))
        parent = parent_of(document, location)
        action = draw(st.sampled_from(["replace", "replace", "delete", "unknown"]))
        if action == "replace":
            parent[location[-1]] = draw(YAML_VALUES)
        elif action == "delete":
            del parent[location[-1]]
        elif isinstance(parent, dict):
            parent[draw(KEYS.filter(lambda key: key not in parent))] = draw(YAML_VALUES)
    return document


TOKENS = [
    "version: 1\n", "models:\n", "  candidate: {path: m.pkl}\n", "  baseline: {loader: 'a:b'}\n", "datasets:\n",
    "  d: {path: d.csv, target: y}\n", "seed: ", "alpha: ", "bootstrap: ", "schema: ", "type: datetime", "min: ",
    "!!int ", "!!float ", "!!bool ", "!!timestamp ", "!!binary ", "!!str ", "!!null ", "!!set ", "!!omap ", "!!pairs ",
    "!!python/tuple ", "!local ", "!<tag:x> ", "&a ", "*a", "*b", "<<: ", "? ", ": ", "- ", "[", "]", "{", "}", ", ",
    "'", '"', "\\", "# c\n", "|\n", ">-\n", "%YAML 1.1\n", "%TAG ! !x\n", "---\n", "...\n", "\t", "\n", "  ",
    "2024-13-45", "2024-02-30", "2024-01-01", "2024-01-01 10:00:00+05:00", "0001-01-01T00:00:00+01:00", "1e400",
    ".inf", "-.inf", ".nan", "0x1f", "0o17", "0b101", "1_000", "190:20:30", "~", "null", "yes", "on", "=",
    "\ufeff", "\x00", "\x85", "\u2028", "\U0001f600", "\ud7ff",
]  # fmt: skip
YAML_LIKE_TEXT = st.lists(st.sampled_from(TOKENS) | st.text(max_size=4), max_size=30).map("".join)
RAW_BYTES = st.one_of(
    st.binary(max_size=120),
    st.text(max_size=80).map(lambda text: text.encode("utf-8", "surrogatepass")),
    YAML_LIKE_TEXT.map(lambda text: text.encode("utf-8")),
    YAML_LIKE_TEXT.map(lambda text: text.encode("utf-16")),
)


@st.composite
def edited_text(draw: st.DrawFn, text: str) -> bytes:
    """A valid config's text with a few spans deleted, replaced or inserted."""
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 12)))
        text = text[:start] + draw(st.sampled_from(TOKENS) | st.text(max_size=3)) + text[end:]
    return text.encode("utf-8", "surrogatepass")


TINY_ALPHAS = st.floats(0, MIN_ALPHA, exclude_min=True, exclude_max=True) | st.sampled_from([5e-324, 1e-17, MIN_ALPHA * (1 - 2**-52)])
HUGE_VERSIONS = st.from_regex(r"[1-9][0-9]{18,20}", fullmatch=True) | st.from_regex(r"[1-9][0-9]{300,5000}", fullmatch=True)
# at least 1e309 of any unit: the number itself is an infinite float
INFINITE_MAX_AGES = st.builds(lambda digits, unit: digits + unit, st.from_regex(r"[1-9][0-9]{309,400}", fullmatch=True), st.sampled_from("smhd"))


@st.composite
def overflowing_datetimes(draw: st.DrawFn) -> Any:
    """A datetime on the first or last day datetime holds whose offset carries it out of range
    in UTC, as a YAML timestamp or ISO text."""
    minutes = draw(st.integers(0, 24 * 60 - 2))
    offset = draw(st.integers(minutes + 1, 24 * 60 - 1))  # more than the time of day / than what is left of it
    if draw(st.booleans()):
        value = dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(minutes=offset))) + dt.timedelta(minutes=minutes)
    else:
        value = dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.timezone(dt.timedelta(minutes=-offset))) - dt.timedelta(minutes=minutes)
    return draw(st.sampled_from([value, value.isoformat(), value.isoformat(" ")]))


def with_nul(draw: st.DrawFn, text: str) -> str:
    at = draw(st.integers(0, len(text)))
    return text[:at] + "\0" + text[at:]


LIMITS = ("datasets.schema.allowed", "datasets.max_age", "models.registry", "datasets.path", "models.path", "datasets.schema.min",
          "datasets.schema.max", "registry.path", "alpha")  # fmt: skip


@st.composite
def invalid_values(draw: st.DrawFn, document: dict, kind: str) -> tuple[dict, str]:
    """A valid document with one value just past a limit the config enforces: ``(document, key)``,
    where ``key`` is the key the ConfigError must name. The kind of value is one of ``LIMITS`` (or
    alpha when the document has no such key): an alpha below MIN_ALPHA, a NUL character in a
    path, a registry version of more than 18 digits, an infinite max_age, a datetime bound or
    allowed value whose offset overflows."""
    document = copy.deepcopy(document)
    models = document["models"]
    datasets = document.get("datasets") or {}
    section, _, name = kind.partition(".")
    name, _, bound = name.partition(".")
    if section == "models":
        keys = [f"models.{role}.{name}" for role, spec in models.items() if name in spec]
    elif section == "datasets":
        keys = [f"datasets.{dataset}.{name}" for dataset in datasets]
    else:
        keys = [kind]
    key = draw(st.sampled_from(keys or ["alpha"]))
    if key == "alpha":
        document["alpha"] = draw(TINY_ALPHAS)
    elif key == "registry.path":
        document["registry"] = {"path": with_nul(draw, (document.get("registry") or {}).get("path") or "registry.db")}
    elif key.startswith("models."):
        spec = models[key.split(".")[1]]
        if key.endswith(".path"):
            spec["path"] = with_nul(draw, spec["path"])
        else:
            spec["registry"] = f"{spec['registry'].partition('@')[0]}@{draw(HUGE_VERSIONS)}"
    else:
        name = next(name for name in datasets if key.startswith(f"datasets.{name}."))
        spec = datasets[name]
        if key.endswith(".path"):
            spec["path"] = with_nul(draw, spec["path"])
        elif key.endswith(".max_age"):
            spec["max_age"] = draw(INFINITE_MAX_AGES)
        else:
            value = draw(overflowing_datetimes())
            spec["schema"] = {**(spec.get("schema") or {}), "when": {"type": "datetime", bound: [value] if bound == "allowed" else value}}
            key = f"datasets.{name}.schema.when.{bound}"
    return document, key


@st.composite
def invalid_projects(draw: st.DrawFn) -> tuple[Project, str, str | None]:
    """A broken version of a valid project: ``(project, how, key)``, the document being YAML-able
    values (``how`` "values") or raw bytes (``how`` "text"); ``key``, when known, is the key the
    ConfigError must name (the document is then certainly invalid)."""
    how = draw(st.sampled_from(["mutated", "mutated", "limit", "limit", "random", "text"]))
    kind = draw(st.sampled_from(LIMITS))  # drawn here, not in invalid_values, where the draws are far less even
    project = draw(valid_projects(with_datasets=how == "limit" and kind.startswith("datasets.")))
    if how == "random":
        return Project(draw(YAML_VALUES), project.files), "values", None
    if how == "limit":
        document, key = draw(invalid_values(project.document, kind))
        return Project(document, project.files), "values", key
    mutated = draw(mutated_documents(project.document))
    if how == "mutated":
        return Project(mutated, project.files), "values", None
    return Project(draw(edited_text(yaml_text(project.document))), project.files), "text", None


# --- properties: nothing but ConfigError --------------------------------------------------------------------


@settings(FILE_SETTINGS, max_examples=examples(300))
@given(case=invalid_projects())
def test_broken_configs_raise_only_config_error(case: tuple[Project, str, str | None]) -> None:
    project, how, key = case
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_files(root, project.files)
        path = root / "conf" / "promote.yaml"
        if how == "values":
            path.write_text(yaml_text(materialise(project.document, root)), encoding="utf-8")
        else:
            path.write_bytes(project.document.replace(ROOT.encode(), str(root).encode()))
        outcome = load_or_config_error(path)
        if key is not None:
            assert isinstance(outcome, ConfigError), f"accepted a value past a limit at {key}"
            assert f"{path}: {key}:" in str(outcome), outcome


BASE = b"version: 1\nmodels:\n  candidate: {path: m.pkl}\n  baseline: {path: m.pkl}\n"
DATES = BASE + b"datasets:\n  d: {path: d.csv, target: y, schema: {t: {type: datetime, %s}}}\n"


class Rejected(bytes):
    """Raw config bytes that must be rejected with a ConfigError whose message holds ``expect``."""

    expect: str

    def __new__(cls, raw: bytes, expect: str) -> Rejected:
        self = super().__new__(cls, raw)
        self.expect = expect
        return self


class Accepted(bytes):
    """Raw config bytes that must load (a value at the edge of what is allowed)."""


def max_age(text: bytes) -> bytes:
    return BASE + b"datasets:\n  d: {path: d.csv, target: y, max_age: " + text + b"}\n"


def registry_version(digits: bytes) -> bytes:
    return BASE.replace(b"{path: m.pkl}\n  b", b"{registry: m@" + digits + b"}\n  b")


@settings(FILE_SETTINGS, max_examples=examples(300))
@example(raw=Rejected(BASE + b"seed: 2024-13-45\n", "invalid YAML: ValueError: month must be in 1..12"))
@example(raw=Rejected(BASE + b"card: {intended_use: 2024-02-30}\n", "invalid YAML: ValueError: day is out of range"))
@example(raw=Rejected(BASE + b"seed: !!int one\n", "invalid YAML: ValueError"))
@example(raw=Rejected(BASE + b"seed: !!bool maybe\n", "invalid YAML: KeyError"))
@example(raw=Rejected(BASE + b"seed: !!timestamp soon\n", "invalid YAML: AttributeError"))
@example(raw=Rejected(BASE + b"seed: !!float\n", "invalid YAML: IndexError"))
@example(raw=Rejected(b"{[a]: 1}\n", "invalid YAML: TypeError: unhashable type"))
@example(raw=Rejected(b"[" * 1000, "invalid YAML: RecursionError"))
@example(raw=Rejected(BASE.replace(b"{path: m.pkl}\n  b", b'{path: "m\\0.pkl"}\n  b'), "models.candidate.path: expected a file path"))
@example(raw=Rejected(BASE + b"datasets:\n  d: {path: \"d\\0.csv\", target: y}\n", "datasets.d.path: expected a file path"))
@example(raw=Rejected(BASE + b'registry: {path: "r\\0.db"}\n', "registry.path: expected a file path"))
@example(raw=Rejected(DATES % b'min: "0001-01-01T00:00:00+01:00"', "datasets.d.schema.t.min: expected an ISO 8601 datetime"))
@example(raw=Rejected(DATES % b"allowed: [9999-12-31 23:00:00-05:00]", "datasets.d.schema.t.allowed: expected an ISO 8601 datetime"))
@example(raw=Rejected(registry_version(b"1" + b"0" * 4300), "models.candidate.registry: invalid model reference"))
@example(raw=Rejected(registry_version(b"1" + b"0" * 18), "models.candidate.registry: invalid model reference"))
@example(raw=Accepted(registry_version(b"9" * 18)))  # the longest version allowed
@example(raw=Rejected(BASE + b"alpha: 1.0e-17\n", "alpha: expected at least 1e-06"))
@example(raw=Rejected(BASE + b"alpha: 9.99e-7\n", "alpha: expected at least 1e-06"))
@example(raw=Accepted(BASE + b"alpha: 1.0e-6\n"))
@example(raw=Rejected(max_age(b"9" * 400 + b"d"), "datasets.d.max_age: expected a duration a clock can measure"))
@example(raw=Accepted(max_age(b"9" * 300 + b"d")))  # huge, but finite
@example(raw=Accepted(BASE))
@example(raw=b"")
@example(raw=b"\xff\xfe\x00")
@example(raw=BASE + b"seed: !!binary '***'\n")
@example(raw=BASE + b"seed: &a [*a]\n")
@given(raw=RAW_BYTES)
def test_raw_bytes_raise_only_config_error(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_files(root, {"m.pkl": b"model", "d.csv": b"t,y\n2024-01-01,1\n"})
        path = root / "promote.yaml"
        path.write_bytes(raw)
        outcome = load_or_config_error(path)
        if isinstance(raw, Rejected):
            assert isinstance(outcome, ConfigError), "accepted"
            assert f"{path}: {raw.expect}" in str(outcome), outcome
        elif isinstance(raw, Accepted):
            assert isinstance(outcome, PromoteConfig), outcome


# --- strategies: gate results ----------------------------------------------------------------------------------

SPECIAL = st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 5e-324, -5e-324, 1.7976931348623157e308, -1e308, 1e-300])
FLOATS = st.one_of(st.floats(), SPECIAL)  # everything a float can be
NON_NEGATIVE = st.one_of(st.floats(min_value=0), st.sampled_from([math.nan, math.inf, 0.0, 5e-324, 1e308]))
POSITIVE = st.floats(min_value=5e-324, allow_infinity=False)
COUNTS = st.integers(0, 2**63)
SEEDS = st.integers(0, 2**64 - 1)
HEX = st.from_regex(r"[0-9a-f]{64}", fullmatch=True)
SEVERITY = st.sampled_from(["block", "warn"])
# a slice column may hold any float, NaN and infinities included (the verdict records those as text)
SLICE_VALUES = st.one_of(st.text(max_size=8), st.integers(), FLOATS, st.booleans())


def coherent_se(draw: st.DrawFn, alpha: float) -> tuple[float, float]:
    """A standard error and the minimal detectable effect the engine derives from it."""
    from scipy.special import ndtri

    se = draw(NON_NEGATIVE)
    return se, (float(ndtri(1 - alpha)) + float(ndtri(POWER))) * se


@st.composite
def cross_checks(draw: st.DrawFn) -> CrossCheck | None:
    method = draw(st.sampled_from(["delong", "mcnemar_exact", "paired_t"]))
    se = None if method == "mcnemar_exact" else draw(FLOATS)
    return draw(st.none() | st.just(CrossCheck(method, draw(FLOATS), draw(FLOATS), draw(FLOATS), draw(FLOATS), se)))


@st.composite
def paired_results(draw: st.DrawFn, metric: str, higher_is_better: bool, alpha: float) -> PairedResult:
    se, mde = coherent_se(draw, alpha)
    n = draw(st.integers(1, 10**9))
    return PairedResult(
        metric=metric, higher_is_better=higher_is_better, candidate=draw(FLOATS), baseline=draw(FLOATS), delta=draw(FLOATS),
        low=draw(FLOATS), high=draw(FLOATS), candidate_low=draw(FLOATS), candidate_high=draw(FLOATS), se=se, mde=mde,
        alpha=alpha, method=draw(st.sampled_from(["percentile", "bca"])), resamples=draw(st.integers(1, 10**6)), seed=draw(SEEDS),
        n=n, units=draw(st.integers(1, n)), grouped=draw(st.booleans()), weighted=draw(st.booleans()),
        path=draw(st.sampled_from(["multinomial", "index", "rank", "custom"])), cross_check=draw(cross_checks()),
    )  # fmt: skip


@dataclass
class Fake:
    """A loaded model in a stand-in model store: ``store.get(role).model``."""

    model: Any


@dataclass
class Store:
    """A stand-in ``loaders.ModelStore``: the models are the arrays a gate's call returns."""

    candidate: Any
    baseline: Any

    def get(self, role: str) -> Fake:
        return Fake(getattr(self, role))


@dataclass
class GateCase:
    """One gate test: its context (with a crafted result, or inputs for a real measuring call),
    how pytest saw the test, and which measuring call ``record_of`` makes before taking the record."""

    context: Any
    outcome: str  # passed | failed | skipped: the gate test's call phase
    call: str = "crafted"  # crafted | compare | time | record_cost | compare_distributions | unmeasured
    inputs: tuple = ()
    raised: PromoteError | None = None  # what the measuring call raised (a failed rule or bad input), set by record_of


@st.composite
def quality_cases(draw: st.DrawFn, node_id: str) -> GateCase:
    metric = draw(st.sampled_from(sorted(METRICS)))
    options: dict[str, Any] = {"alpha": draw(ALPHAS), "severity": draw(SEVERITY), "method": draw(st.sampled_from([None, "bca", "percentile"]))}
    rule = draw(st.sampled_from([("min_delta",), ("threshold",), ("min_delta", "threshold")]))
    options.update({name: draw(st.floats(allow_nan=False, allow_infinity=False) | SPECIAL.filter(math.isfinite)) for name in rule})
    real = draw(st.booleans())
    if not real and draw(st.booleans()):
        options.update(slice_by=draw(NAMES), min_slice_size=draw(st.integers(2, 10**6)))
        if draw(st.booleans()):
            options["max_slice_gap"] = draw(POSITIVE)
    gate = QualityGate.from_marker((metric,), options, 0.05)
    context = QualityContext(node_id, gate, draw(SEEDS), draw(st.integers(100, 300)), "percentile", None, None)
    if real:  # promote.compare on random predictions, through the real bootstrap
        n = draw(st.integers(2, 40))
        labels = st.lists(st.integers(0, 1), min_size=n, max_size=n)
        y_true = draw(labels.filter(lambda y: 0 < sum(y) < n))
        scores = st.lists(st.floats(0, 1) | st.sampled_from([math.nan, 0.5]), min_size=n, max_size=n)
        ranked = metric in ("roc_auc", "average_precision")  # scores; every other metric gets labels
        predictions = (draw(scores), draw(scores)) if ranked else (draw(labels), draw(labels))
        context.models = Store(*predictions)
        return GateCase(context, draw(st.sampled_from(["passed", "failed"])), "compare", (y_true,))
    stats = draw(paired_results(metric, gate.higher_is_better, gate.alpha))
    slices, gap = (), None
    if gate.slice_by is not None:
        pieces = draw(st.lists(st.tuples(SLICE_VALUES, COUNTS, st.booleans()), max_size=4))
        slices = tuple(
            SliceResult(value, rows, draw(paired_results(metric, gate.higher_is_better, gate.alpha)) if compared else None)
            for value, rows, compared in pieces
        )
        gap = draw(st.none() | st.builds(SliceGap, FLOATS, FLOATS, FLOATS, st.integers(2, 1000)))
    context.result = GateResult(stats, "passed", gate.rule, slices, gap)
    return GateCase(context, draw(st.sampled_from(["passed", "failed", "skipped"])))


@st.composite
def latency_summaries(draw: st.DrawFn) -> LatencySummary:
    return LatencySummary(*(draw(FLOATS) for _ in range(7)), samples=draw(COUNTS), outliers=draw(COUNTS),
                          throughput_per_s=draw(st.none() | FLOATS))  # fmt: skip


@st.composite
def latency_cases(draw: st.DrawFn, node_id: str) -> GateCase:
    options: dict[str, Any] = {"alpha": draw(ALPHAS), "severity": draw(SEVERITY), "samples": 10**6, "warmup": draw(st.integers(0, 1000))}
    rule = draw(st.sampled_from([("budget_ms",), ("max_ratio",), ("budget_ms", "max_ratio")]))
    options.update({name: draw(POSITIVE) for name in rule})
    percentile = draw(st.floats(0.01, 99.99))
    gate = LatencyGate.from_marker((percentile,), options, 0.05)
    context = LatencyContext(node_id, gate, draw(SEEDS), draw(st.integers(2, 200)), None, batch=draw(st.none() | st.integers(1, 10**6)))
    if draw(st.booleans()):  # the real comparison, on random integer timings (zeros and huge ones included)
        rounds = draw(st.integers(2, 40))
        timings = st.lists(st.integers(0, 2**62) | st.sampled_from([0, 1]), min_size=rounds, max_size=rounds)
        return GateCase(context, draw(st.sampled_from(["passed", "failed"])), "time", (draw(timings), draw(timings)))
    context.result = LatencyComparison(
        percentile=gate.percentile, alpha=gate.alpha, confidence=1 - 2 * gate.alpha, resamples=draw(st.integers(1, 10**6)),
        seed=context.seed, rounds=draw(st.integers(1, 10**6)), candidate=draw(latency_summaries()), baseline=draw(latency_summaries()),
        candidate_ms=draw(FLOATS), candidate_low_ms=draw(FLOATS), candidate_high_ms=draw(FLOATS), baseline_ms=draw(FLOATS),
        baseline_low_ms=draw(FLOATS), baseline_high_ms=draw(FLOATS), ratio=draw(FLOATS), ratio_low=draw(FLOATS),
        ratio_high=draw(FLOATS), exact_high_ms=draw(FLOATS), quantisation=draw(st.none() | st.text(max_size=20)),
    )  # fmt: skip
    return GateCase(context, draw(st.sampled_from(["passed", "failed", "skipped"])))


@st.composite
def cost_cases(draw: st.DrawFn, node_id: str) -> GateCase:
    options = {"severity": draw(SEVERITY)}
    rule = draw(st.sampled_from([("budget",), ("max_ratio",), ("budget", "max_ratio")]))
    options.update({name: draw(POSITIVE) for name in rule})
    context = CostContext(node_id, CostGate.from_marker((), options, 0.05), None)
    amounts = st.floats(min_value=0, allow_infinity=False) | st.sampled_from([0.0, 5e-324, 1.7976931348623157e308])
    if draw(st.booleans()):
        return GateCase(context, "passed", "record_cost", (draw(TEXTS), draw(amounts), draw(amounts), draw(TEXTS)))
    context.figure = CostFigure("peak_memory", "bytes", float(draw(st.integers(0, 2**64))), float(draw(st.integers(0, 2**64))), "tracemalloc")
    return GateCase(context, draw(st.sampled_from(["passed", "failed", "skipped"])))


@st.composite
def golden_cases(draw: st.DrawFn, node_id: str) -> GateCase:
    tolerances = {name: draw(st.floats(min_value=0, allow_infinity=False)) for name in ("atol", "rtol")}
    gate = GoldenGate.from_marker((draw(TEXTS),), {**tolerances, "severity": draw(SEVERITY)}, 0.05)
    context = GoldenContext(node_id, gate, None, None, Path("."), Path("."))
    path = Path(draw(TEXTS))
    if draw(st.booleans()):
        context.updated = GoldenUpdate(path, draw(COUNTS), draw(COUNTS), draw(HEX), draw(HEX))
    else:
        mismatch = st.builds(CaseMismatch, st.integers() | st.text(max_size=8), st.integers(1, 10**6), YAML_VALUES, YAML_VALUES,
                             st.none(), st.none(), st.text(max_size=20))  # fmt: skip
        numeric = st.builds(CaseMismatch, st.integers() | st.text(max_size=8), st.integers(1, 10**6), FLOATS, FLOATS, FLOATS, FLOATS,
                            st.text(max_size=20))  # fmt: skip
        mismatch = mismatch | numeric  # differences are both None (nothing compared) or both numbers
        context.check = GoldenCheck(path, draw(HEX), draw(COUNTS), draw(COUNTS), tuple(draw(st.lists(mismatch, max_size=3))), gate.atol, gate.rtol)
    return GateCase(context, draw(st.sampled_from(["passed", "failed", "skipped"])))


@st.composite
def drift_statistics(draw: st.DrawFn, bins: int, alpha: float) -> DriftStatistics:
    return DriftStatistics(
        psi=draw(FLOATS), psi_low=draw(FLOATS), psi_high=draw(FLOATS), ks=draw(FLOATS), ks_p_value=draw(FLOATS), kl=draw(FLOATS),
        n_reference=draw(COUNTS), n_current=draw(COUNTS), bins=bins, alpha=alpha, confidence=1 - 2 * alpha,
        resamples=draw(st.integers(2, 10**6)), seed=draw(SEEDS), paired=draw(st.booleans()),
    )  # fmt: skip


@st.composite
def drift_cases(draw: st.DrawFn, node_id: str) -> GateCase:
    limits = {name: draw(st.none() | st.floats(1e-300, 1)) for name in ("max_psi", "max_ks", "max_kl")}
    if all(limit is None for limit in limits.values()):
        limits["max_psi"] = 0.2
    gate = DriftGate.from_marker((), {**limits, "bins": draw(st.integers(2, 20)), "alpha": draw(ALPHAS), "severity": draw(SEVERITY)}, 0.05)
    context = DriftContext(node_id, gate, draw(SEEDS), None, None)
    if draw(st.booleans()):  # the real comparison of two models' outputs
        n, width = draw(st.integers(2, 30)), draw(st.integers(1, 3))
        values = st.floats(-1e6, 1e6) | SPECIAL
        outputs = st.lists(st.lists(values, min_size=width, max_size=width), min_size=n, max_size=n)
        flat = draw(st.booleans()) and width == 1
        pair = [draw(outputs) for _ in range(2)]
        context.models = Store(*([row[0] for row in rows] if flat else rows for rows in pair))
        return GateCase(context, draw(st.sampled_from(["passed", "failed"])), "compare_distributions")
    names = draw(st.lists(st.text(max_size=8), min_size=1, max_size=3))
    context.columns = [ColumnDrift(name, draw(drift_statistics(gate.bins, gate.alpha)), ()) for name in names]
    context.source = draw(st.sampled_from([
        {"mode": "outputs", "reference": "baseline", "current": "candidate"},
        {"mode": "datasets", "reference": "train", "current": "holdout"},
    ]))  # fmt: skip
    return GateCase(context, draw(st.sampled_from(["passed", "failed", "skipped"])))


@st.composite
def unmeasured_cases(draw: st.DrawFn, node_id: str) -> GateCase:
    """A gate whose context could not be built (bad marker arguments), via ``unmeasured_record``."""
    marker = draw(st.sampled_from(sorted(GATE_MARKERS)))
    args = tuple(draw(st.lists(SCALARS, max_size=2)))
    kwargs = draw(st.dictionaries(st.sampled_from(["severity", "metric", "alpha"]), SCALARS, max_size=2))
    return GateCase(unmeasured_record(node_id, marker, args, kwargs), draw(st.sampled_from(["failed", "skipped"])), "unmeasured")


GATE_KINDS = (quality_cases, latency_cases, cost_cases, golden_cases, drift_cases, unmeasured_cases)


@st.composite
def dataset_entries(draw: st.DrawFn) -> dict:
    age = None
    if draw(st.booleans()):
        text = draw(MAX_AGES)
        freshness = Freshness(text, parse_duration(text), draw(st.none() | NAMES), "block")
        moments = st.datetimes(min_value=dt.datetime(1000, 1, 1), timezones=st.just(dt.timezone.utc))
        age = measure_age(freshness, draw(moments), draw(moments)).to_dict()
    return {"path": draw(TEXTS), "sha256": draw(st.none() | HEX), "rows": draw(st.none() | COUNTS), "age": age}


def identities() -> st.SearchStrategy:
    registry = st.fixed_dictionaries({"name": REGISTRY_NAMES, "version": st.integers(1, 10**6), "alias": st.none() | REGISTRY_NAMES})
    return st.fixed_dictionaries(
        {"source": TEXTS, "sha256": st.none() | HEX, "size_bytes": st.none() | COUNTS, "registry": st.none() | registry},
        optional={"warning": TEXTS},
    )


REASON_CODES = ["model_error", "data_error", "bad_input", "collection_error", "registry_error", "contract_violation", "stale_data",
                "unauditable", "internal_error"]  # fmt: skip


@dataclass
class VerdictCase:
    gates: list[GateCase]
    tests: list[tuple[str, str]]  # ordinary tests: node id, outcome
    reasons: list[Reason]
    models: dict
    datasets: dict
    warnings: list[str]
    interrupted: bool
    exit_status: int
    rollback_candidate: dict | None
    replay: bool
    check: Callable[[VerdictCase, dict], None] | None = None  # a pinned example's own assertions on the verdict


@st.composite
def verdict_cases(draw: st.DrawFn) -> VerdictCase:
    ids = draw(st.lists(st.text(min_size=1, max_size=10).map(lambda s: f"tests/test_gates.py::{s}"), max_size=6, unique=True))
    gates = [draw(draw(st.sampled_from(GATE_KINDS))(node_id)) for node_id in ids]
    tests = draw(st.lists(st.tuples(NAMES.map(lambda s: f"tests/test_other.py::{s}"), st.sampled_from(["passed", "failed", "skipped"])), max_size=3))
    rollback = st.fixed_dictionaries({"name": REGISTRY_NAMES, "version": st.integers(1, 10**6), "alias": st.none() | REGISTRY_NAMES,
                                      "sha256": st.none() | HEX, "reason": st.text(max_size=20)})  # fmt: skip
    return VerdictCase(
        gates=gates,
        tests=tests,
        reasons=draw(st.lists(st.builds(Reason, st.sampled_from(REASON_CODES), TEXTS), max_size=2)),
        models=draw(st.fixed_dictionaries({}, optional={"candidate": identities(), "baseline": identities()})),
        datasets=draw(st.dictionaries(NAMES, dataset_entries(), max_size=2)),
        warnings=draw(st.lists(st.text(max_size=20), max_size=2)),
        interrupted=draw(st.booleans()),
        exit_status=draw(st.sampled_from([0, 0, 1, 2, 5])),
        rollback_candidate=draw(st.none() | rollback),
        replay=draw(st.booleans()),
    )


# --- measuring and recording, as the plugin does ---------------------------------------------------------------


def finish_quality(context: QualityContext) -> None:
    """What ``promote.compare`` does once it has its statistics: the rule, the outcome, the notes."""
    crafted = context.result
    context.failures = context._all_failures(crafted.stats, crafted.slices, crafted.slice_gap)
    underpowered = context.failures and all(failure.underpowered for failure in context.failures)
    outcome = "passed" if not context.failures else ("inconclusive" if underpowered else "failed")
    context.result = dataclasses.replace(crafted, outcome=outcome)
    context._note_cross_check_disagreement()


def record_of(case: GateCase) -> dict:
    """Make the case's measuring call (or apply the rule to its crafted result), then take the record."""
    context = case.context
    if case.call == "unmeasured":
        return context
    try:
        if case.call == "compare":
            context.compare(lambda predictions: predictions, case.inputs[0])
        elif case.call == "time":
            context.result = compare_latency(*case.inputs, percentile=context.gate.percentile, alpha=context.gate.alpha,
                                             resamples=context.resamples, seed=context.seed, batch=context.batch)  # fmt: skip
            context.failures = context.gate.failures(context.result)
        elif case.call == "record_cost":
            name, candidate, baseline, unit = case.inputs
            context.record_cost(name, candidate=candidate, baseline=baseline, unit=unit)
        elif case.call == "compare_distributions":
            context.compare_distributions(lambda outputs: outputs)
        elif isinstance(context, QualityContext):
            finish_quality(context)
        elif isinstance(context, LatencyContext):
            context.failures = context.gate.failures(context.result)
        elif isinstance(context, CostContext):
            context.failures = context.gate.failures(context.figure)
        elif isinstance(context, DriftContext):
            context.columns = [ColumnDrift(c.name, c.stats, tuple(context.gate.failures(c.name, c.stats))) for c in context.columns]
            broken = [message for column in context.columns for message in column.failures]
            context.failures = [Failure("; ".join(broken))] if broken else []
        elif context.check is not None and context.check.mismatches:
            context.failures = [Failure(format_mismatches(context.check))]
    except PromoteError as exc:  # a failed rule (GateFailed) or bad input: the test fails, the record says what was measured
        case.raised = exc
    return context.record()


def run_gates(case: VerdictCase) -> list[dict]:
    """Every gate's record (any exception but a PromoteError from a measuring call propagates)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [record_of(gate) for gate in case.gates]


def build_verdict(case: VerdictCase, records: list[dict]) -> dict:
    collector = VerdictCollector()
    for gate, record in zip(case.gates, records):
        collector.add(Phase(record["id"], "setup", "passed"))
        collector.add(Phase(record["id"], "call", gate.outcome, None if gate.outcome == "passed" else "AssertionError", record))
    for node_id, outcome in case.tests:
        collector.add(Phase(node_id, "call", outcome, "boom"))
    for reason in case.reasons:
        collector.add_reason(reason)
    replay = None
    if case.replay:
        old = json.loads(json.dumps(collector.gates()[::2]))
        for entry in old[:1]:
            entry["candidate"] = 0.5
        packages = {"numpy": "1.0", "pytest": None}
        source = ReplaySource(Path("old-verdict.json"), "0" * 64, None, {}, {}, {}, packages, old)
        replay = compare_gates(source, collector.gates(), {"numpy": "2.0", "pytest": "8.0"})
    envelope = {**base_envelope(), "datasets": case.datasets, "gate_seeds": {r["id"]: r["seed"] for r in records if r.get("seed") is not None}}
    return collector.verdict(
        interrupted=case.interrupted, exit_status=case.exit_status, models=case.models, envelope=envelope,
        warnings=case.warnings, rollback_candidate=case.rollback_candidate, replay=replay,
    )  # fmt: skip


@functools.lru_cache(maxsize=1)
def base_envelope() -> dict:
    return collect_envelope(rootdir=Path(__file__).parent, command_line=["pytest", "--promote"], seed=7, config_path=None,
                            config_sha256=None, datasets={})  # fmt: skip


@functools.lru_cache(maxsize=1)
def validator() -> Any:
    from jsonschema import Draft202012Validator

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def reject_constant(name: str) -> None:
    raise AssertionError(f"the verdict holds {name}, which is not JSON")


# --- pinned verdict examples ---------------------------------------------------------------------------------------


def pinned_quality(stats: dict, gate_options: dict, slices: tuple = (), check: Callable | None = None) -> VerdictCase:
    gate = QualityGate.from_marker(("accuracy",), gate_options, 0.05)
    fields = {
        "metric": "accuracy", "higher_is_better": True, "candidate": 0.8, "baseline": 0.8, "delta": 0.0, "low": -0.1, "high": 0.1,
        "candidate_low": 0.7, "candidate_high": 0.9, "se": 0.05, "mde": 0.124, "alpha": gate.alpha, "method": "bca",
        "resamples": 1000, "seed": 1, "n": 100, "units": 100, "grouped": False, "weighted": False, "path": "multinomial",
        "cross_check": None,
    }  # fmt: skip
    context = QualityContext("tests/test_gates.py::test_q", gate, 1, 1000, "bca", None, None)
    context.result = GateResult(PairedResult(**{**fields, **stats}), "passed", gate.rule, slices, None)
    return pinned_case([GateCase(context, "passed")], check=check)


def pinned_case(gates: list[GateCase], datasets: dict | None = None, check: Callable | None = None) -> VerdictCase:
    return VerdictCase(gates, [], [], {}, datasets or {}, [], False, 0, None, False, check)


def only_gate(document: dict) -> dict:
    (gate,) = document["gates"]
    return gate


def undecidable(case: VerdictCase, document: dict) -> None:
    """The boundary is so close that no sample size would decide the rule: an inconclusive,
    underpowered failure saying so, with no sample size advised."""
    (failure,) = case.gates[0].context.failures
    assert failure.underpowered and "no feasible number of examples would decide it" in failure.advice, failure
    assert case.gates[0].context.result.outcome == "inconclusive"
    assert "inconclusive" in json.dumps(only_gate(document)), only_gate(document)


def pinned_drift_without_columns() -> VerdictCase:
    import numpy as np

    gate = DriftGate.from_marker((), {"max_psi": 0.2}, 0.05)
    context = DriftContext("tests/test_gates.py::test_d", gate, 1, Store(np.zeros((5, 0)), np.zeros((5, 0))), None)
    return pinned_case([GateCase(context, "passed", "compare_distributions")], check=refused_without_columns)


def refused_without_columns(case: VerdictCase, document: dict) -> None:
    raised = case.gates[0].raised
    assert isinstance(raised, GateUsageError) and "at least one column" in str(raised), raised


def pinned_max_age(text: str) -> VerdictCase:
    now = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    age = measure_age(Freshness(text, parse_duration(text)), now, now).to_dict()
    gate = CostGate.from_marker((), {"budget": 1.0}, 0.05)
    context = CostContext("tests/test_gates.py::test_c", gate, None, figure=CostFigure("tokens", "tokens", 0.5, 0.5, "recorded"))
    return pinned_case([GateCase(context, "passed")], {"holdout": {"path": "h.csv", "sha256": None, "rows": 10, "age": age}})


def pinned_slice(value: Any, text: str) -> VerdictCase:
    def recorded_as_text(case: VerdictCase, document: dict) -> None:
        assert [piece["value"] for piece in only_gate(document)["slices"]] == [text], only_gate(document)

    return pinned_quality({}, {"min_delta": -1.0, "slice_by": "segment"}, (SliceResult(value, 5, None),), recorded_as_text)


# --- properties: the verdict -----------------------------------------------------------------------------------------


@settings(VERDICT_SETTINGS, max_examples=examples(150))
# delta a hair above min_delta with an ordinary se; the threshold rule's advice
@example(case=pinned_quality({"delta": 1e-300, "low": -0.1, "high": 0.1, "se": 0.1, "mde": 0.25}, {"min_delta": 0.0}, check=undecidable))
@example(case=pinned_quality({"candidate": 2e-300, "candidate_low": -0.1, "candidate_high": 0.1}, {"threshold": 1e-300}, check=undecidable))
@example(case=pinned_drift_without_columns())
@example(case=pinned_quality({"alpha": MIN_ALPHA}, {"min_delta": 0.0, "alpha": MIN_ALPHA}))  # the smallest alpha allowed
# the largest alpha: 1 - alpha rounds to 0.5 and its z to 0 (it once divided by that)
@example(case=pinned_quality({"alpha": LARGEST_ALPHA}, {"threshold": 0.75, "alpha": LARGEST_ALPHA}))
@example(case=pinned_slice(math.inf, "inf"))
@example(case=pinned_slice(-math.inf, "-inf"))
@example(case=pinned_slice(math.nan, "nan"))
@example(case=pinned_max_age("9" * 300 + "d"))  # the largest max_age is finite (see test_raw_bytes_raise_only_config_error)
@given(case=verdict_cases())
def test_verdict_is_strict_json_that_the_schema_accepts(case: VerdictCase) -> None:
    records = run_gates(case)
    verdict = build_verdict(case, records)
    text = dumps(verdict)
    document = json.loads(text, parse_constant=reject_constant)
    errors = [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator().iter_errors(document)]
    assert not errors, "\n".join(errors[:10])
    if case.check is not None:
        case.check(case, document)


@pytest.mark.parametrize("alpha", [1e-17, 5e-324, MIN_ALPHA * (1 - 2**-52)])
@pytest.mark.parametrize("make", [
    lambda options: QualityGate.from_marker(("accuracy",), {"min_delta": 0.0, **options}, 0.05),
    lambda options: LatencyGate.from_marker((95,), {"budget_ms": 10.0, "samples": 10**6, **options}, 0.05),
    lambda options: DriftGate.from_marker((), {"max_psi": 0.2, **options}, 0.05),
], ids=["quality", "latency", "drift"])  # fmt: skip
def test_alphas_below_the_minimum_are_refused(make: Callable, alpha: float) -> None:
    """An alpha below MIN_ALPHA (once accepted, and then 1 - 2*alpha rounded to a confidence of 1
    that breaks the schema) is a usage error in a marker; in promote.yaml it is a ConfigError (see
    test_raw_bytes_raise_only_config_error)."""
    with pytest.raises(GateUsageError, match=re.escape("alpha must be at least 1e-06")):
        make({"alpha": alpha})
    assert make({"alpha": MIN_ALPHA}).alpha == MIN_ALPHA


def test_the_checks_can_fail() -> None:
    """The properties above are not vacuous: strict dumping refuses NaN, the schema refuses a
    missing field and a bad nested value."""
    verdict = json.loads(dumps(build_verdict(pinned_case([]), [])))
    assert verdict["decision"] == "block" and not list(validator().iter_errors(verdict))
    with pytest.raises(ValueError):
        dumps({**verdict, "gates": [{"candidate": math.nan}]})
    with pytest.raises(AssertionError):
        json.loads('{"x": NaN}', parse_constant=reject_constant)
    missing = {key: value for key, value in verdict.items() if key != "gates"}
    nested = {**verdict, "tests": {**verdict["tests"], "passed": -1}}
    assert list(validator().iter_errors(missing)) and list(validator().iter_errors(nested))
