"""Reading a verdict file for the registry: defensively, every problem naming the file."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import RegistryError
from ..verdict.signing import verdict_digest

__all__ = ["LoadedVerdict", "load_verdict"]

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class LoadedVerdict:
    path: Path
    document: dict
    digest: str  # verdict_digest(document)
    decision: str
    candidate_sha256: str | None
    baseline_sha256: str | None
    baseline_name: str | None  # baseline.registry.name, when the baseline came from the registry
    baseline_version: int | None

    @property
    def signed(self) -> bool:
        return "signature" in self.document


def load_verdict(path: Path) -> LoadedVerdict:
    """Parse and check the fields the registry relies on; RegistryError naming the file otherwise."""
    path = Path(path).resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RegistryError(f"verdict {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RegistryError(f"verdict {path}: cannot read: {exc}") from None
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise RegistryError(f"verdict {path}: not valid JSON: {exc}") from None

    def fail(key: str, problem: str) -> RegistryError:
        return RegistryError(f"verdict {path}: {key}: {problem}")

    if not isinstance(document, dict):
        raise RegistryError(f"verdict {path}: expected a JSON object, got {type(document).__name__}")
    decision = document.get("decision")
    if decision not in ("promote", "block"):
        raise fail("decision", f"expected 'promote' or 'block', got {decision!r}")
    candidate = document.get("candidate")
    if not isinstance(candidate, dict):
        raise fail("candidate", f"expected an object with the candidate's sha256, got {candidate!r}")
    baseline = document.get("baseline")
    if baseline is not None and not isinstance(baseline, dict):
        raise fail("baseline", f"expected an object or null, got {baseline!r}")
    baseline = baseline or {}
    registry = baseline.get("registry")
    if registry is not None and not isinstance(registry, dict):
        raise fail("baseline.registry", f"expected an object or null, got {registry!r}")
    registry = registry or {}
    version = registry.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise fail("baseline.registry.version", f"expected a version number, got {version!r}")
    name = registry.get("name")
    if name is not None and not isinstance(name, str):
        raise fail("baseline.registry.name", f"expected a model name, got {name!r}")
    gates = document.get("gates")
    if not isinstance(gates, list) or not all(isinstance(gate, dict) for gate in gates):
        raise fail("gates", "expected a list of gate objects")
    envelope = document.get("envelope", {})
    if not isinstance(envelope, dict) or not isinstance(envelope.get("datasets", {}), dict):
        raise fail("envelope.datasets", "expected an object of datasets")
    return LoadedVerdict(
        path=path,
        document=document,
        digest=verdict_digest(document),
        decision=decision,
        candidate_sha256=_sha256(candidate.get("sha256"), fail, "candidate.sha256"),
        baseline_sha256=_sha256(baseline.get("sha256"), fail, "baseline.sha256"),
        baseline_name=name,
        baseline_version=version,
    )


def _sha256(value: object, fail, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _SHA256.fullmatch(value.lower()):
        raise fail(key, f"expected a sha256 digest or null, got {value!r}")
    return value.lower()


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")
