"""Hooks pytest-promote adds; other plugins implement them to extend it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .config import ModelSpec
    from .registry.backend import RegistryBackend

__all__ = ["pytest_promote_load_model", "pytest_promote_registry_backend"]

hookspec = pluggy.HookspecMarker("pytest")


@hookspec(firstresult=True)
def pytest_promote_load_model(spec: ModelSpec) -> Any | None:
    """Load the model ``spec`` describes, or return ``None`` to let another loader try.

    ``spec.role`` is ``"candidate"`` or ``"baseline"``; ``spec.path`` (a file, already
    checked against ``spec.sha256`` when pinned) or ``spec.loader`` (``"module:callable"``)
    says where it comes from. Raise an exception to report a model that cannot be loaded.
    The built-in implementation (``trylast``) handles loaders, pickle and joblib files.
    """


@hookspec(firstresult=True)
def pytest_promote_registry_backend(path: Path) -> RegistryBackend | None:
    """Open the model registry at ``path``, or return ``None`` to let another backend try.

    ``path`` is ``registry.path`` from promote.yaml (or ``--registry``), else
    ``.promote/registry.db`` under the rootdir. Return an object implementing
    :class:`pytest_promote.registry.backend.RegistryBackend`, e.g. a client of a registry
    server. The built-in implementation (``trylast``) opens a SQLite file there. The
    ``pytest-promote`` command reads implementations from the ``pytest_promote.registry``
    entry-point group (a plugin declares its module there as well as under ``pytest11``).
    """
