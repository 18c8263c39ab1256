"""``promote.yaml``: loading and strict validation into typed records.

Every problem raises :class:`~pytest_promote.errors.ConfigError` naming the file,
the key path (``models.candidate.sha256``) and what was expected, so the plugin can
turn it into one usage-error line without a traceback.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

__all__ = [
    "CONFIG_FILENAME",
    "DEFAULT_SEED",
    "DEFAULT_ALPHA",
    "DEFAULT_RESAMPLES",
    "DEFAULT_METHOD",
    "BOOTSTRAP_METHODS",
    "BootstrapConfig",
    "ModelSpec",
    "DatasetSpec",
    "PromoteConfig",
    "load_config",
    "configured_verdict",
    "sha256_file",
]

CONFIG_FILENAME = "promote.yaml"
DEFAULT_SEED = 20240607
DEFAULT_ALPHA = 0.05
DEFAULT_RESAMPLES = 10_000
DEFAULT_METHOD = "bca"
BOOTSTRAP_METHODS = ("percentile", "bca")
MIN_RESAMPLES = 100
DEFAULT_MEMORY_MB = 256
MIN_MEMORY_MB = 16
DATASET_FORMATS = (".csv", ".npz", ".jsonl")
MODEL_ROLES = ("candidate", "baseline")

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
    """Where one model comes from: a pinned file or a ``module:callable`` loader."""

    role: str
    path: Path | None = None
    sha256: str | None = None
    loader: str | None = None
    config_dir: Path | None = None  # where a loader's module is looked up first

    @property
    def source(self) -> str:
        return str(self.path) if self.path is not None else f"loader:{self.loader}"


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    path: Path
    target: str | None  # None for .npz, which holds X and y
    sha256: str | None = None
    features: tuple[str, ...] | None = None


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
    return _Validator(path).config(document, hashlib.sha256(raw_bytes).hexdigest())


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
        document = yaml.safe_load(Path(path).read_bytes())
    except (OSError, yaml.YAMLError):
        return None
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
            ("version", "seed", "alpha", "bootstrap", "models", "datasets", "verdict"),
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
        )

    def seed(self, value: Any) -> int:
        if not _is_int(value) or value < 0:
            raise self.fail("seed", f"expected a non-negative integer, got {value!r}")
        return value

    def alpha(self, value: Any, key: str) -> float:
        if not _is_number(value) or not 0 < value < 0.5:
            raise self.fail(key, f"expected a number strictly between 0 and 0.5, got {value!r}")
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
        section = self.mapping(value, key, ("path", "sha256", "loader"))
        has_path, has_loader = "path" in section, "loader" in section
        if has_path == has_loader:
            raise self.fail(key, "expected exactly one of 'path' (a model file) or 'loader' ('module:callable')")
        if has_loader:
            if "sha256" in section:
                raise self.fail(f"{key}.sha256", "only a 'path' model can be pinned; a loader builds its model in code")
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
        section = self.mapping(value, key, ("path", "target", "sha256", "features"), ("path",))
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
            name=name, path=path, target=target, sha256=self.sha256(section.get("sha256"), f"{key}.sha256"), features=features
        )

    def verdict(self, value: Any) -> str | None:
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise self.fail("verdict", f"expected a file path, got {value!r}")
        return value

    def existing_file(self, value: Any, key: str) -> Path:
        if not isinstance(value, str) or not value:
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
