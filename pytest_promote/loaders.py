"""Model loading: pinned files and ``module:callable`` loaders, behind a lazy store.

The built-in ``pytest_promote_load_model`` implementation lives here as a ``trylast``
hook, so a plugin can add formats (or replace these) without touching the store.
"""

from __future__ import annotations

import hashlib
import importlib
import pickle
import sys
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable

import pluggy

from .config import ModelSpec, PromoteConfig, sha256_file
from .errors import ModelLoadError, PromoteError

if TYPE_CHECKING:
    from .registry import ResolvedVersion

__all__ = ["LoadedModel", "ModelStore", "pytest_promote_load_model", "PICKLE_SUFFIXES", "JOBLIB_SUFFIXES"]

hookimpl = pluggy.HookimplMarker("pytest")

PICKLE_SUFFIXES = (".pkl", ".pickle")
JOBLIB_SUFFIXES = (".joblib",)


@dataclass(frozen=True)
class LoadedModel:
    model: Any
    role: str
    source: str
    sha256: str | None
    warning: str | None = None
    size_bytes: int | None = None  # the artifact's size: the file, or a loader-made model's pickle
    registry: dict | None = None  # {name, version, alias} for a model from the registry

    def identity(self) -> dict:
        return {"source": self.source, "sha256": self.sha256, "size_bytes": self.size_bytes, "registry": self.registry}


class ModelStore:
    """Loads each model once, on first use; a failure is remembered and raised again.

    ``resolve`` turns a registry reference into a verified artifact (see
    :meth:`pytest_promote.registry.Registry.resolve`); it is only called for registry models.
    """

    def __init__(
        self, config: PromoteConfig, load: Callable[[ModelSpec], Any], resolve: Callable[[ModelSpec], ResolvedVersion] | None = None
    ) -> None:
        self._config = config
        self._load = load
        self._resolve = resolve
        self._loaded: dict[str, LoadedModel | PromoteError] = {}

    def get(self, role: str) -> LoadedModel:
        if role not in self._loaded:
            try:
                self._loaded[role] = self._load_role(role)
            except PromoteError as exc:
                self._loaded[role] = exc
        loaded = self._loaded[role]
        if isinstance(loaded, PromoteError):
            raise loaded
        return loaded

    def loaded(self) -> dict[str, LoadedModel]:
        return {role: item for role, item in self._loaded.items() if isinstance(item, LoadedModel)}

    def _load_role(self, role: str) -> LoadedModel:
        spec = self._config.models[role]
        if spec.registry is not None:
            return self._load_registered(spec)
        digest = None
        if spec.path is not None:
            digest = sha256_file(spec.path)
            if spec.sha256 is not None and digest != spec.sha256:
                raise ModelLoadError(
                    f"models.{role}: {spec.path}: sha256 mismatch: promote.yaml pins {spec.sha256} but the file's sha256 is "
                    f"{digest}; the file changed since it was pinned (re-pin it only if the change is intended)"
                )
        model = self._run_loader(spec, spec.source)
        if model is None:
            what = f"loader {spec.loader} returned None" if spec.loader else f"no loader handles {spec.path.suffix!r} files"
            raise ModelLoadError(
                f"models.{role}: {what} (built in: loader 'module:callable', {', '.join(PICKLE_SUFFIXES + JOBLIB_SUFFIXES)}; "
                "a plugin can add formats through the pytest_promote_load_model hook)"
            )
        if spec.path is not None:
            return LoadedModel(model, role, spec.source, digest, size_bytes=spec.path.stat().st_size)
        return _loader_made(model, spec)

    def _run_loader(self, spec: ModelSpec, label: str) -> Any:
        """The load hook; any failure but ours becomes a ModelLoadError naming the model."""
        try:
            return self._load(spec)
        except PromoteError:
            raise
        except Exception as exc:
            raise ModelLoadError(f"models.{spec.role}: loading {label} failed: {type(exc).__name__}: {exc}") from exc

    def _load_registered(self, spec: ModelSpec) -> LoadedModel:
        """A registry version: resolved, its artifact verified, then loaded as a pinned file."""
        if self._resolve is None:
            raise ModelLoadError(f"models.{spec.role}: {spec.source}: no model registry is available to resolve it")
        version = self._resolve(spec)
        if spec.role == "candidate" and version.state in ("quarantined", "archived"):
            raise ModelLoadError(
                f"models.candidate: {spec.registry} resolves to {version.ref}, which is {version.state}: it can never be promoted"
            )
        pinned = replace(spec, path=version.artifact_path, sha256=version.sha256, filename=version.filename)
        model = self._run_loader(pinned, f"{spec.source} ({version.ref})")
        if model is None:
            raise ModelLoadError(f"models.{spec.role}: {spec.source} ({version.ref}): no loader handles {version.suffix!r} files")
        return LoadedModel(model, spec.role, spec.source, version.sha256, size_bytes=version.size, registry=version.identity())


def _loader_made(model: Any, spec: ModelSpec) -> LoadedModel:
    """A loader's model is identified by the sha256 of its pickled bytes, when it pickles."""
    try:
        pickled = pickle.dumps(model, protocol=5)
    except Exception as exc:  # unpicklable models exist (open handles, lambdas); say so, don't fail
        warning = (
            f"models.{spec.role}: the model from {spec.source} cannot be pickled ({type(exc).__name__}), "
            "so the verdict cannot record its sha256"
        )
        return LoadedModel(model, spec.role, spec.source, None, warning)
    return LoadedModel(model, spec.role, spec.source, hashlib.sha256(pickled).hexdigest(), size_bytes=len(pickled))


@hookimpl(trylast=True)
def pytest_promote_load_model(spec: ModelSpec) -> Any | None:
    if spec.loader is not None:
        return _call_loader(spec)
    suffix = spec.suffix
    if suffix in PICKLE_SUFFIXES:
        return pickle.loads(_read_pinned(spec))
    if suffix in JOBLIB_SUFFIXES:
        return _load_joblib(spec)
    return None


def _call_loader(spec: ModelSpec) -> Any:
    module_name, _, attribute = spec.loader.partition(":")
    # the config's folder is importable, as a user running python there would expect
    config_dir = str(spec.config_dir) if spec.config_dir is not None else None
    added = config_dir is not None and config_dir not in sys.path
    if added:
        sys.path.insert(0, config_dir)
    try:
        target: Any = importlib.import_module(module_name)
    finally:
        if added:
            sys.path.remove(config_dir)
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise ModelLoadError(f"models.{spec.role}.loader: {module_name!r} has no attribute {attribute!r}")
        target = getattr(target, part)
    if not callable(target):
        raise ModelLoadError(f"models.{spec.role}.loader: {spec.loader} is not callable")
    return target()


def _read_pinned(spec: ModelSpec) -> bytes:
    """The file's bytes, only when they match the pin: unpickling runs arbitrary code."""
    data = spec.path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if spec.sha256 is None:
        raise ModelLoadError(
            f"models.{spec.role}: refusing to load {spec.path}: it is not pinned. Loading a pickle or joblib file runs "
            f"arbitrary code, so pytest-promote loads one only after its sha256 matches a pin in promote.yaml. "
            f'If you trust this file, pin it: models.{spec.role}.sha256: "{digest}"'
        )
    # the bytes are hashed again here because the file may have changed since the store checked it
    if digest != spec.sha256:
        raise ModelLoadError(
            f"models.{spec.role}: {spec.path}: sha256 mismatch: promote.yaml pins {spec.sha256} but the file's sha256 is {digest}"
        )
    return data


def _load_joblib(spec: ModelSpec) -> Any:
    import io

    try:
        import joblib
    except ImportError:
        raise ModelLoadError(f"models.{spec.role}: {spec.path} is a joblib file but joblib is not installed") from None
    return joblib.load(io.BytesIO(_read_pinned(spec)))
