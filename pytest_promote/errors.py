"""Errors the core raises; each carries the verdict reason code it maps to."""

from __future__ import annotations

__all__ = [
    "PromoteError",
    "ConfigError",
    "ModelLoadError",
    "DatasetError",
    "ContractViolation",
    "StaleData",
    "MetricInputError",
    "GateUsageError",
    "RegistryError",
    "PromoteWarning",
    "GoldenError",
]


class PromoteError(Exception):
    """Base class: a fault that must end in ``block`` with a clear message."""

    code = "internal_error"


class ConfigError(PromoteError):
    """``promote.yaml`` is missing, unreadable or invalid."""

    code = "config_error"

    def __init__(self, config_path: object, key: str | None, problem: str) -> None:
        self.config_path = str(config_path)
        self.key = key
        self.problem = problem
        where = f"{self.config_path}: {key}: " if key else f"{self.config_path}: "
        super().__init__(where + problem)


class ModelLoadError(PromoteError):
    """A model could not be loaded or its bytes do not match the pin."""

    code = "model_error"


class DatasetError(PromoteError):
    """A dataset could not be loaded, parsed, or does not match its pin."""

    code = "data_error"


class ContractViolation(PromoteError):
    """A dataset breaks its contract (``schema``, ``rows``, ``columns`` in ``promote.yaml``);
    ``violations`` holds every broken rule (``contracts.Violation``)."""

    code = "contract_violation"

    def __init__(self, message: str, violations: tuple = ()) -> None:
        super().__init__(message)
        self.violations = tuple(violations)


class StaleData(PromoteError):
    """A dataset is older than its ``max_age`` (with ``on_stale: block``), or its age cannot be told."""

    code = "stale_data"


class MetricInputError(PromoteError):
    """Predictions or labels a metric cannot use (NaN, wrong shape, ...)."""

    code = "bad_input"


class GateUsageError(PromoteError):
    """A gate marker or the gate API was used wrongly."""

    code = "gate_error"


class GoldenError(PromoteError):
    """A golden file is missing or malformed, or a golden case could not be run or stored."""

    code = "golden_error"


class RegistryError(PromoteError):
    """The model registry cannot do what was asked: unknown model, alias or version, an
    invalid name, a missing or corrupted artifact, an unreadable registry database."""

    code = "registry_error"


class PromoteWarning(UserWarning):
    """A failed ``severity="warn"`` gate, or something the verdict should flag."""
