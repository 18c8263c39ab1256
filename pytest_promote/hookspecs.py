"""Hooks pytest-promote adds; other plugins implement them to extend it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .config import ModelSpec

__all__ = ["pytest_promote_load_model"]

hookspec = pluggy.HookspecMarker("pytest")


@hookspec(firstresult=True)
def pytest_promote_load_model(spec: ModelSpec) -> Any | None:
    """Load the model ``spec`` describes, or return ``None`` to let another loader try.

    ``spec.role`` is ``"candidate"`` or ``"baseline"``; ``spec.path`` (a file, already
    checked against ``spec.sha256`` when pinned) or ``spec.loader`` (``"module:callable"``)
    says where it comes from. Raise an exception to report a model that cannot be loaded.
    The built-in implementation (``trylast``) handles loaders, pickle and joblib files.
    """
