"""The model registry: immutable versions, aliases, approvals, promotion, rollback, audit.

Never imports pytest. The built-in storage (SQLite and a content-addressed artifact store)
sits behind :class:`~.backend.RegistryBackend`; its hook implementation lives in
:mod:`pytest_promote.registry.sqlite`.
"""

from __future__ import annotations

from .audit import ChainCheck
from .backend import DEFAULT_REGISTRY_PATH, RegistryBackend, registry_path
from .card import render_markdown
from .lifecycle import (
    PRODUCTION,
    ActionRefused,
    Approval,
    Check,
    Policy,
    Promotion,
    Registration,
    Registry,
    ResolvedVersion,
    Rollback,
    RollbackCandidate,
)
from .refs import ModelRef, parse_ref
from .sqlite import SqliteBackend

__all__ = [
    "DEFAULT_REGISTRY_PATH",
    "PRODUCTION",
    "ActionRefused",
    "Approval",
    "ChainCheck",
    "Check",
    "ModelRef",
    "Policy",
    "Promotion",
    "Registration",
    "Registry",
    "RegistryBackend",
    "ResolvedVersion",
    "Rollback",
    "RollbackCandidate",
    "SqliteBackend",
    "parse_ref",
    "registry_path",
    "render_markdown",
]
