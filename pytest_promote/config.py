"""``promote.yaml``: loading and strict validation into typed records.

Every problem raises :class:`~pytest_promote.errors.ConfigError` naming the file,
the key path (``models.candidate.sha256``) and what was expected, so the plugin can
turn it into one usage-error line without a traceback.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .contracts import COLUMN_MODES, COLUMN_TYPES, STALE_ACTIONS, ColumnRule, Contract, Freshness, parse_datetime, parse_duration
from .errors import ConfigError, RegistryError

__all__ = [
    "CONFIG_FILENAME",
    "DEFAULT_SEED",
    "DEFAULT_ALPHA",
    "DEFAULT_RESAMPLES",
    "DEFAULT_METHOD",
    "BOOTSTRAP_METHODS",
    "CARD_FIELDS",
    "DEFAULT_CARD_REQUIRED",
    "BootstrapConfig",
    "CardConfig",
    "ModelSpec",
    "DatasetSpec",
    "PromoteConfig",
    "Requirements",
    "load_config",
    "dump_config",
    "configured_verdict",
    "sha256_file",
]

CONFIG_FILENAME = "promote.yaml"
DEFAULT_SEED = 20240607
DEFAULT_ALPHA = 0.05
MIN_ALPHA = 1e-6  # below this, 1 - 2*alpha rounds towards 1 and the bootstrap cannot resolve the tail anyway
DEFAULT_RESAMPLES = 10_000
DEFAULT_METHOD = "bca"
BOOTSTRAP_METHODS = ("percentile", "bca")
MIN_RESAMPLES = 100
DEFAULT_MEMORY_MB = 256
MIN_MEMORY_MB = 16
DATASET_FORMATS = (".csv", ".npz", ".jsonl")
DATASET_KEYS = ("path", "target", "sha256", "features", "schema", "rows", "columns", "max_age", "as_of", "on_stale")
MODEL_ROLES = ("candidate", "baseline")
CARD_TEXT_FIELDS = ("intended_use", "out_of_scope", "limitations", "known_biases", "safety_mitigations")
CARD_FIELDS = CARD_TEXT_FIELDS + ("owners",)
DEFAULT_CARD_REQUIRED = ("intended_use", "limitations", "owners")

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_LOADER = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


@dataclass(frozen=True)
class BootstrapConfig:
    resamples: int = DEFAULT_RESAMPLES
    method: str = DEFAULT_METHOD
    memory_mb: int = DEFAULT_MEMORY_MB  # the engine's extra-memory budget per gate
    threads: int | None = None  # None: every core this process may use


@dataclass(frozen=True)
class ModelSpec:
    """Where one model comes from: a pinned file, a ``module:callable`` loader, or a
    registry reference (``"fraud@candidate"``, ``"fraud@3"``)."""

    role: str
    path: Path | None = None
    sha256: str | None = None
    loader: str | None = None
    config_dir: Path | None = None  # where a loader's module is looked up first
    registry: str | None = None
    filename: str | None = None  # a registry artifact's original name: its store path has no suffix

    @property
    def suffix(self) -> str:
        """The file type loaders dispatch on (``.pkl``, ``.joblib``)."""
        return Path(self.filename or self.path).suffix.lower()

    @property
    def source(self) -> str:
        if self.registry is not None:
            return f"registry:{self.registry}"
        return str(self.path) if self.path is not None else f"loader:{self.loader}"


@dataclass(frozen=True)
class CardConfig:
    """Model-card defaults from ``promote.yaml``'s ``card:`` section (per-version registry
    metadata of the same names overrides them)."""

    intended_use: str | None = None
    out_of_scope: str | None = None
    limitations: str | None = None
    known_biases: str | None = None
    safety_mitigations: str | None = None
    owners: tuple[str, ...] = ()
    required: tuple[str, ...] = DEFAULT_CARD_REQUIRED


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    path: Path
    target: str | None  # None for .npz, which holds X and y
    sha256: str | None = None
    features: tuple[str, ...] | None = None
    contract: Contract | None = None  # schema, rows, columns: checked when the file is loaded
    freshness: Freshness | None = None  # max_age, as_of, on_stale


REQUIREMENTS = ("git_clean", "model_pins", "owners")


@dataclass(frozen=True)
class Requirements:
    """``require:``: what a verdict must be able to show, or it blocks as ``unauditable``."""

    git_clean: bool = False  # no uncommitted changes to tracked files
    model_pins: bool = False  # every model pinned by sha256 (a pinned file, or a registry version)
    owners: bool = False  # card.owners names someone


@dataclass(frozen=True)
class PromoteConfig:
    path: Path
    sha256: str
    version: int
    seed: int
    alpha: float
    bootstrap: BootstrapConfig
    models: dict[str, ModelSpec]
    datasets: dict[str, DatasetSpec] = field(default_factory=dict)
    verdict: str | None = None
    registry_path: Path | None = None  # None: .promote/registry.db under the rootdir
    required_approvals: tuple[str, ...] = ()
    card: CardConfig = field(default_factory=CardConfig)
    require: Requirements = field(default_factory=Requirements)

    @property
    def base_dir(self) -> Path:
        return self.path.parent


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_config(path: Path) -> PromoteConfig:
    """Read and validate ``promote.yaml`` at ``path``."""
    import yaml  # lazily: only runs that use the config pay for it

    path = Path(path)
    if not path.is_file():
        raise ConfigError(path, None, "file not found (create promote.yaml or pass --promote-config PATH)")
    raw_bytes = path.read_bytes()
    try:
        document = yaml.load(raw_bytes, Loader=_strict_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(path, None, f"invalid YAML{where}: {problem}") from None
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError, RecursionError) as exc:
        # PyYAML's constructors raise plain exceptions for some malformed scalars and tags
        # (`2024-13-45`, `!!int one`, a list as a key) and nesting can exhaust the stack
        raise ConfigError(path, None, f"invalid YAML: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}") from None
    return _Validator(path).config(document, hashlib.sha256(raw_bytes).hexdigest())


def dump_config(config: PromoteConfig) -> str:
    """YAML text that :func:`load_config` reads back into ``config``.

    The text belongs in ``config``'s folder (``config.base_dir``, e.g. over ``config.path``):
    paths below that folder are written relative to it, others absolute, and a ``loader``'s
    module is looked up there. Saved there and loaded, it gives a record equal to ``config``
    in every field but ``path`` and ``sha256``, which describe the file read (its location
    and the digest of its bytes); dumping that record gives the same text again. Settings at
    their defaults are left out, except ``version``, ``seed`` and ``alpha``.
    """
    import yaml  # lazily, as in load_config

    base = config.base_dir
    document: dict[str, Any] = {"version": config.version, "seed": config.seed, "alpha": config.alpha}
    document["bootstrap"] = _dump_bootstrap(config.bootstrap)
    document["models"] = {role: _dump_model(spec, base) for role, spec in config.models.items()}
    document["datasets"] = {name: _dump_dataset(spec, base) for name, spec in config.datasets.items()}
    document["verdict"] = config.verdict
    document["registry"] = {"path": _dump_path(config.registry_path, base)} if config.registry_path is not None else {}
    document["approvals"] = {"required": list(config.required_approvals)} if config.required_approvals else {}
    document["card"] = _dump_card(config.card)
    document["require"] = {name: True for name in REQUIREMENTS if getattr(config.require, name)}
    kept = {key: value for key, value in document.items() if value is not None and value != {}}
    return yaml.safe_dump(kept, sort_keys=False, allow_unicode=True, default_flow_style=False)


def _dump_path(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return str(path)


def _dump_bootstrap(bootstrap: BootstrapConfig) -> dict[str, Any]:
    section: dict[str, Any] = {}
    if bootstrap.resamples != DEFAULT_RESAMPLES:
        section["resamples"] = bootstrap.resamples
    if bootstrap.method != DEFAULT_METHOD:
        section["method"] = bootstrap.method
    if bootstrap.memory_mb != DEFAULT_MEMORY_MB:
        section["memory_mb"] = bootstrap.memory_mb
    if bootstrap.threads is not None:
        section["threads"] = bootstrap.threads
    return section


def _dump_model(spec: ModelSpec, base: Path) -> dict[str, Any]:
    if spec.registry is not None:
        section = {"registry": spec.registry}
    elif spec.loader is not None:
        return {"loader": spec.loader}
    else:
        section = {"path": _dump_path(spec.path, base)}
    if spec.sha256 is not None:
        section["sha256"] = spec.sha256
    return section


def _dump_dataset(spec: DatasetSpec, base: Path) -> dict[str, Any]:
    section: dict[str, Any] = {"path": _dump_path(spec.path, base)}
    if spec.target is not None:
        section["target"] = spec.target
    if spec.sha256 is not None:
        section["sha256"] = spec.sha256
    if spec.features is not None:
        section["features"] = list(spec.features)
    if spec.contract is not None:
        section.update(_dump_contract(spec.contract))
    if spec.freshness is not None:
        section.update(_dump_freshness(spec.freshness))
    return section


def _dump_contract(contract: Contract) -> dict[str, Any]:
    section: dict[str, Any] = {}
    if contract.schema:
        section["schema"] = {rule.name: _dump_column_rule(rule) for rule in contract.schema}
    rows = {bound: value for bound, value in (("min", contract.rows_min), ("max", contract.rows_max)) if value is not None}
    if rows:
        section["rows"] = rows
    if contract.columns != "subset":
        section["columns"] = contract.columns
    return section


def _dump_column_rule(rule: ColumnRule) -> dict[str, Any]:
    section: dict[str, Any] = {"type": rule.type}
    for bound in ("min", "max"):
        value = getattr(rule, bound)
        if value is not None:
            section[bound] = _dump_column_value(value)
    if rule.allowed is not None:
        section["allowed"] = [_dump_column_value(value) for value in rule.allowed]
    for flag in ("nullable", "unique"):
        if getattr(rule, flag):
            section[flag] = True
    return section


def _dump_column_value(value: Any) -> Any:
    """Datetimes (aware, UTC once loaded) as ISO 8601 text; numbers, strings and booleans as they are."""
    if isinstance(value, datetime.datetime):
        text = value.isoformat()
        return text[: -len("+00:00")] + "Z" if text.endswith("+00:00") else text
    return value


def _dump_freshness(freshness: Freshness) -> dict[str, Any]:
    section: dict[str, Any] = {"max_age": freshness.max_age}
    if freshness.as_of is not None:
        section["as_of"] = freshness.as_of
    if freshness.on_stale != "block":
        section["on_stale"] = freshness.on_stale
    return section


def _dump_card(card: CardConfig) -> dict[str, Any]:
    section: dict[str, Any] = {name: getattr(card, name) for name in CARD_TEXT_FIELDS if getattr(card, name) is not None}
    if card.owners:
        section["owners"] = list(card.owners)
    if card.required != DEFAULT_CARD_REQUIRED:
        section["required"] = list(card.required)
    return section


@functools.lru_cache(maxsize=1)
def _strict_loader() -> type:
    """yaml's SafeLoader, except that a repeated key is an error instead of "last one wins"."""
    import yaml

    class StrictLoader(yaml.SafeLoader):
        pass

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return loader.construct_mapping(node, deep=deep)

    StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return StrictLoader


def configured_verdict(path: Path) -> str | None:
    """Best effort: the ``verdict`` key of a config that fails validation, if it parses.

    A broken config must still replace the verdict at its configured path, so that an
    earlier ``promote`` there cannot survive the failed run.
    """
    import yaml

    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        # unparseable elsewhere: a plain top-level `verdict: PATH` line still says where it goes
        found = re.search(r"""^verdict:[ \t]*["']?([^"'#\s]+)["']?[ \t]*(?:#.*)?$""", text, re.MULTILINE)
        return found.group(1) if found else None
    value = document.get("verdict") if isinstance(document, dict) else None
    return value if isinstance(value, str) and value.strip() else None


class _Validator:
    """Walks the parsed document; every error names the key path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.base = path.parent

    def fail(self, key: str | None, problem: str) -> ConfigError:
        return ConfigError(self.path, key, problem)

    def mapping(self, value: Any, key: str | None, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> dict:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping, got {_describe(value)}")
        for name in value:
            if name not in allowed:
                raise self.fail(_join(key, str(name)), f"unknown key (allowed: {', '.join(allowed)})")
        for name in required:
            if name not in value:
                raise self.fail(_join(key, name), "required key is missing")
        return value

    def config(self, document: Any, digest: str) -> PromoteConfig:
        if document is None:
            raise self.fail(None, "the file is empty; expected a mapping with at least 'version' and 'models'")
        top = self.mapping(
            document,
            None,
            ("version", "seed", "alpha", "bootstrap", "models", "datasets", "verdict", "registry", "approvals", "card", "require"),
            ("version", "models"),
        )
        version = top["version"]
        if not _is_int(version) or version != 1:
            raise self.fail("version", f"expected 1 (the only config version this plugin reads), got {version!r}")
        return PromoteConfig(
            path=self.path.resolve(),
            sha256=digest,
            version=1,
            seed=self.seed(top.get("seed", DEFAULT_SEED)),
            alpha=self.alpha(top.get("alpha", DEFAULT_ALPHA), "alpha"),
            bootstrap=self.bootstrap(top.get("bootstrap", {})),
            models=self.models(top["models"]),
            datasets=self.datasets(top.get("datasets", {})),
            verdict=self.verdict(top.get("verdict")),
            registry_path=self.registry(top.get("registry", {})),
            required_approvals=self.approvals(top.get("approvals", {})),
            card=self.card(top.get("card", {})),
            require=self.require(top.get("require", {})),
        )

    def require(self, value: Any) -> Requirements:
        section = self.mapping(value, "require", REQUIREMENTS)
        for name, flag in section.items():
            if not isinstance(flag, bool):
                raise self.fail(f"require.{name}", f"expected true or false, got {flag!r}")
        return Requirements(**section)

    def seed(self, value: Any) -> int:
        if not _is_int(value) or value < 0:
            raise self.fail("seed", f"expected a non-negative integer, got {value!r}")
        return value

    def alpha(self, value: Any, key: str) -> float:
        if not _is_number(value) or not 0 < value < 0.5:
            raise self.fail(key, f"expected a number strictly between 0 and 0.5, got {value!r}")
        if value < MIN_ALPHA:
            raise self.fail(key, f"expected at least {MIN_ALPHA:g} (smaller error rates are beyond what the bootstrap resolves), got {value!r}")
        return float(value)

    def bootstrap(self, value: Any) -> BootstrapConfig:
        section = self.mapping(value, "bootstrap", ("resamples", "method", "memory_mb", "threads"))
        resamples = section.get("resamples", DEFAULT_RESAMPLES)
        if not _is_int(resamples) or resamples < MIN_RESAMPLES:
            raise self.fail("bootstrap.resamples", f"expected an integer >= {MIN_RESAMPLES}, got {resamples!r}")
        method = section.get("method", DEFAULT_METHOD)
        if method not in BOOTSTRAP_METHODS:
            raise self.fail("bootstrap.method", f"expected one of {', '.join(BOOTSTRAP_METHODS)}, got {method!r}")
        memory_mb = section.get("memory_mb", DEFAULT_MEMORY_MB)
        if not _is_int(memory_mb) or memory_mb < MIN_MEMORY_MB:
            raise self.fail("bootstrap.memory_mb", f"expected an integer >= {MIN_MEMORY_MB} (MiB), got {memory_mb!r}")
        threads = section.get("threads", "auto")
        if threads != "auto" and (not _is_int(threads) or threads < 1):
            raise self.fail("bootstrap.threads", f"expected 'auto' or a positive integer, got {threads!r}")
        return BootstrapConfig(resamples, method, memory_mb, None if threads == "auto" else threads)

    def models(self, value: Any) -> dict[str, ModelSpec]:
        section = self.mapping(value, "models", MODEL_ROLES, MODEL_ROLES)
        return {role: self.model(section[role], f"models.{role}", role) for role in MODEL_ROLES}

    def model(self, value: Any, key: str, role: str) -> ModelSpec:
        section = self.mapping(value, key, ("path", "sha256", "loader", "registry"))
        if sum(name in section for name in ("path", "loader", "registry")) != 1:
            raise self.fail(
                key,
                "expected exactly one of 'path' (a model file), 'loader' ('module:callable') "
                "or 'registry' ('name@alias' or 'name@version')",
            )
        if "registry" in section:
            # a pin beside a registry reference is allowed: the resolved version must then match it
            return ModelSpec(
                role=role, registry=self.registry_ref(section["registry"], f"{key}.registry"),
                sha256=self.sha256(section.get("sha256"), f"{key}.sha256"),
            )
        if "loader" in section:
            if "sha256" in section:
                raise self.fail(f"{key}.sha256", "only a 'path' or 'registry' model can be pinned; a loader builds its model in code")
            loader = section["loader"]
            if not isinstance(loader, str) or not _LOADER.match(loader):
                raise self.fail(f"{key}.loader", f"expected 'module:callable' (e.g. 'mypkg.models:load'), got {loader!r}")
            return ModelSpec(role=role, loader=loader, config_dir=self.base.resolve())
        path = self.existing_file(section["path"], f"{key}.path")
        sha = self.sha256(section.get("sha256"), f"{key}.sha256")
        return ModelSpec(role=role, path=path, sha256=sha)

    def datasets(self, value: Any) -> dict[str, DatasetSpec]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail("datasets", f"expected a mapping of dataset names, got {_describe(value)}")
        section = value
        return {str(name): self.dataset(spec, f"datasets.{name}", str(name)) for name, spec in section.items()}

    def dataset(self, value: Any, key: str, name: str) -> DatasetSpec:
        section = self.mapping(value, key, DATASET_KEYS, ("path",))
        path = self.existing_file(section["path"], f"{key}.path")
        if path.suffix.lower() not in DATASET_FORMATS:
            raise self.fail(f"{key}.path", f"unsupported format {path.suffix!r} (expected {', '.join(DATASET_FORMATS)})")
        target = section.get("target")
        if path.suffix.lower() == ".npz":
            if target is not None or "features" in section:
                raise self.fail(f"{key}.target" if target is not None else f"{key}.features",
                                "not used for .npz files, which hold the arrays X and y")
        elif not isinstance(target, str) or not target:
            raise self.fail(f"{key}.target", f"expected the name of the label column, got {_describe(target)}")
        features = section.get("features")
        if features is not None:
            if not isinstance(features, list) or not features or not all(isinstance(f, str) for f in features):
                raise self.fail(f"{key}.features", f"expected a non-empty list of column names, got {features!r}")
            if target in features:
                raise self.fail(f"{key}.features", f"the target column {target!r} cannot also be a feature")
            features = tuple(features)
        return DatasetSpec(
            name=name,
            path=path,
            target=target,
            sha256=self.sha256(section.get("sha256"), f"{key}.sha256"),
            features=features,
            contract=self.contract(section, key),
            freshness=self.freshness(section, key),
        )

    def contract(self, section: dict, key: str) -> Contract | None:
        if not any(name in section for name in ("schema", "rows", "columns")):
            return None
        schema = ()
        if "schema" in section:
            columns = section["schema"]
            if not isinstance(columns, dict) or not columns:
                raise self.fail(f"{key}.schema", f"expected a mapping of column names to their rules, got {_describe(columns)}")
            for column in columns:
                if not isinstance(column, str) or not column:
                    raise self.fail(f"{key}.schema", f"column names are strings (quote {column!r}), got {_describe(column)}")
            schema = tuple(self.column_rule(rules, f"{key}.schema.{column}", column) for column, rules in columns.items())
        mode = section.get("columns", "subset")
        if mode not in COLUMN_MODES:
            raise self.fail(f"{key}.columns", f"expected one of {', '.join(COLUMN_MODES)}, got {_describe(mode)}")
        if "columns" in section and not schema:
            raise self.fail(f"{key}.columns", "needs a 'schema' listing the columns to compare the file's with")
        rows_min = rows_max = None
        if "rows" in section:
            rows = self.mapping(section["rows"], f"{key}.rows", ("min", "max"))
            if not rows:
                raise self.fail(f"{key}.rows", "expected at least one of 'min' and 'max'")
            for bound in rows:
                if not _is_int(rows[bound]) or rows[bound] < 0:
                    raise self.fail(f"{key}.rows.{bound}", f"expected a number of rows (an integer >= 0), got {_describe(rows[bound])}")
            rows_min, rows_max = rows.get("min"), rows.get("max")
            if rows_min is not None and rows_max is not None and rows_min > rows_max:
                raise self.fail(f"{key}.rows", f"min {rows_min} is greater than max {rows_max}")
        return Contract(schema=schema, rows_min=rows_min, rows_max=rows_max, columns=mode)

    def column_rule(self, value: Any, key: str, column: str) -> ColumnRule:
        rules = self.mapping(value, key, ("type", "min", "max", "allowed", "nullable", "unique"), ("type",))
        kind = rules["type"]
        if kind not in COLUMN_TYPES:
            raise self.fail(f"{key}.type", f"expected one of {', '.join(COLUMN_TYPES)}, got {_describe(kind)}")
        for flag in ("nullable", "unique"):
            if not isinstance(rules.get(flag, False), bool):
                raise self.fail(f"{key}.{flag}", f"expected true or false, got {_describe(rules[flag])}")
        bounds = {}
        for bound in ("min", "max"):
            if bound not in rules:
                continue
            if kind not in ("int", "float", "datetime"):
                raise self.fail(f"{key}.{bound}", f"applies to int, float and datetime columns, not {kind}")
            bounds[bound] = self.column_value(rules[bound], f"{key}.{bound}", kind, exact_int=False)
        if len(bounds) == 2 and bounds["min"] > bounds["max"]:
            raise self.fail(f"{key}.min", f"min {rules['min']} is greater than max {rules['max']}")
        allowed = None
        if "allowed" in rules:
            listed = rules["allowed"]
            if not isinstance(listed, list) or not listed:
                raise self.fail(f"{key}.allowed", f"expected a non-empty list of {kind} values, got {_describe(listed)}")
            allowed = tuple(self.column_value(item, f"{key}.allowed", kind, exact_int=True) for item in listed)
            if len({(type(a) is bool, a) for a in allowed}) != len(allowed):
                raise self.fail(f"{key}.allowed", f"a value is listed twice: {listed!r}")
        return ColumnRule(
            name=column,
            type=kind,
            min=bounds.get("min"),
            max=bounds.get("max"),
            allowed=allowed,
            nullable=rules.get("nullable", False),
            unique=rules.get("unique", False),
        )

    def column_value(self, value: Any, key: str, kind: str, *, exact_int: bool) -> Any:
        """A bound or an allowed value, of the column's type (a bound on an int column may be any number)."""
        if kind == "datetime":
            parsed = parse_datetime(value) if isinstance(value, (str, datetime.date)) else None
            if parsed is None:
                raise self.fail(key, f"expected an ISO 8601 datetime (e.g. '2024-01-31T00:00:00Z'), got {_describe(value)}")
            return parsed
        if kind in ("int", "float"):
            numeric = _is_int(value) if kind == "int" and exact_int else _is_number(value) and math.isfinite(value)
            if not numeric:
                raise self.fail(key, f"expected {'an integer' if kind == 'int' and exact_int else 'a finite number'}, got {_describe(value)}")
            return value
        if not isinstance(value, bool if kind == "bool" else str):
            raise self.fail(key, f"expected {'true or false' if kind == 'bool' else 'a string'}, got {_describe(value)}")
        return value

    def freshness(self, section: dict, key: str) -> Freshness | None:
        if "max_age" not in section:
            for name in ("as_of", "on_stale"):
                if name in section:
                    raise self.fail(f"{key}.{name}", "needs 'max_age' (e.g. max_age: 30d)")
            return None
        text = section["max_age"]
        try:
            seconds = parse_duration(text)
        except ValueError as exc:
            raise self.fail(f"{key}.max_age", str(exc)) from None
        as_of = section.get("as_of")
        if as_of is not None and (not isinstance(as_of, str) or not as_of):
            raise self.fail(f"{key}.as_of", f"expected the name of a datetime column, got {_describe(as_of)}")
        on_stale = section.get("on_stale", "block")
        if on_stale not in STALE_ACTIONS:
            raise self.fail(f"{key}.on_stale", f"expected one of {', '.join(STALE_ACTIONS)}, got {_describe(on_stale)}")
        return Freshness(max_age=text, max_age_seconds=seconds, as_of=as_of, on_stale=on_stale)

    def registry_ref(self, value: Any, key: str) -> str:
        from .registry.refs import parse_ref  # lazily: most runs never touch the registry

        if not isinstance(value, str):
            raise self.fail(key, f"expected 'name@alias' or 'name@version' (e.g. 'fraud@candidate'), got {_describe(value)}")
        try:
            return str(parse_ref(value, selector="required"))
        except RegistryError as exc:
            raise self.fail(key, str(exc)) from None

    def registry(self, value: Any) -> Path | None:
        section = self.mapping(value, "registry", ("path",))
        if "path" not in section:
            return None
        path = section["path"]
        if not isinstance(path, str) or not path.strip() or "\0" in path:
            raise self.fail("registry.path", f"expected a file path (the registry database), got {_describe(path)}")
        return (self.base / path).resolve()

    def approvals(self, value: Any) -> tuple[str, ...]:
        section = self.mapping(value, "approvals", ("required",))
        roles = section.get("required", [])
        if not isinstance(roles, list):
            raise self.fail("approvals.required", f"expected a list of role names, got {_describe(roles)}")
        return self.names(roles, "approvals.required", "role")

    def card(self, value: Any) -> CardConfig:
        section = self.mapping(value, "card", CARD_FIELDS + ("required",))
        texts = {}
        for name in CARD_TEXT_FIELDS:
            text = section.get(name)
            if text is not None and (not isinstance(text, str) or not text.strip()):
                raise self.fail(f"card.{name}", f"expected non-empty text, got {_describe(text)}")
            texts[name] = text.strip() if text is not None else None
        owners = section.get("owners", [])
        if not isinstance(owners, list) or not all(isinstance(owner, str) and owner.strip() for owner in owners):
            raise self.fail("card.owners", f"expected a list of owner names, got {_describe(owners)}")
        required = section.get("required", list(DEFAULT_CARD_REQUIRED))
        if not isinstance(required, list):
            raise self.fail("card.required", f"expected a list of card fields, got {_describe(required)}")
        for name in required:
            if name not in CARD_FIELDS:
                raise self.fail("card.required", f"unknown card field {name!r} (fields: {', '.join(CARD_FIELDS)})")
        return CardConfig(**texts, owners=tuple(owner.strip() for owner in owners), required=tuple(dict.fromkeys(required)))

    def names(self, values: list, key: str, what: str) -> tuple[str, ...]:
        from .registry.refs import check_name

        for value in values:
            if not isinstance(value, str):
                raise self.fail(key, f"expected {what} names, got {_describe(value)}")
            try:
                check_name(value, what)
            except RegistryError as exc:
                raise self.fail(key, str(exc)) from None
        if len(set(values)) != len(values):
            raise self.fail(key, f"a {what} is listed twice: {values!r}")
        return tuple(values)

    def verdict(self, value: Any) -> str | None:
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise self.fail("verdict", f"expected a file path, got {value!r}")
        return value

    def existing_file(self, value: Any, key: str) -> Path:
        if not isinstance(value, str) or not value or "\0" in value:
            raise self.fail(key, f"expected a file path, got {_describe(value)}")
        path = (self.base / value).resolve()
        if not path.is_file():
            raise self.fail(key, f"file not found: {path}")
        return path

    def sha256(self, value: Any, key: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not _SHA256.match(value.lower()):
            raise self.fail(key, f"expected 64 hexadecimal characters (a sha256 digest), got {value!r}")
        return value.lower()


def _join(prefix: str | None, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _describe(value: Any) -> str:
    return "nothing" if value is None else f"{type(value).__name__} {value!r}"
