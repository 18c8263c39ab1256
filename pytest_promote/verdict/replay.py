"""Replaying a verdict: the same gates, with the seeds it recorded, on the same bytes.

A replay first checks that the models and datasets are the bytes the old verdict evaluated
(otherwise there is nothing to reproduce), then runs every gate with the old verdict's
per-gate seed and compares each gate's numbers to the last digit. Latency gates are timed
again, not reproduced: wall-clock measurements differ between any two runs, so they are
reported as ``remeasured`` and do not count against ``reproduced``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ..errors import PromoteError
from .signing import verdict_digest

__all__ = ["ReplayError", "ReplaySource", "load_replay_source", "identity_mismatches", "compare_gates", "REPRODUCED_FIELDS"]

# what must be identical for a gate to count as reproduced (per kind, beyond the common fields)
REPRODUCED_FIELDS = ("measured", "candidate", "baseline", "delta", "ci", "candidate_ci", "n", "seed", "passed", "outcome")
_KIND_FIELDS = {"quality": ("se", "mde", "cross_check", "slices", "slice_gap"), "cost": ("cost",), "golden": ("golden",), "drift": ("drift",)}
REMEASURED_KINDS = ("latency",)


class ReplayError(PromoteError):
    """The verdict to replay cannot be read, or the bytes it evaluated are not the ones here."""

    code = "replay_mismatch"


@dataclass(frozen=True)
class ReplaySource:
    """What a replay needs from the old verdict."""

    path: Path
    digest: str
    master_seed: int | None
    seeds: dict[str, int]  # gate node id -> the seed it ran with
    models: dict[str, str | None]  # role -> sha256
    datasets: dict[str, str | None]  # name -> sha256
    packages: dict[str, str | None]
    gates: list[dict]

    def seed_for(self, node_id: str) -> int | None:
        return self.seeds.get(node_id)


def load_replay_source(path: Path) -> ReplaySource:
    """Read and check the old verdict; ReplayError names the file and what is wrong."""
    try:
        verdict = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReplayError(f"--promote-replay: {path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReplayError(f"--promote-replay: {path}: not a readable verdict ({type(exc).__name__}: {exc})") from None
    try:
        gates = list(verdict["gates"])
        envelope = verdict["envelope"]
        models = {role: (verdict[role] or {}).get("sha256") for role in ("candidate", "baseline")}
        datasets = {name: entry.get("sha256") for name, entry in (envelope.get("datasets") or {}).items()}
        seeds = {gate["id"]: int(gate["seed"]) for gate in gates if gate.get("seed") is not None}
        packages = dict(envelope.get("distributions") or envelope.get("packages") or {})
        master_seed = envelope.get("seed")
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ReplayError(f"--promote-replay: {path}: not a pytest-promote verdict (missing or malformed {exc})") from None
    return ReplaySource(Path(path), verdict_digest(verdict), master_seed, seeds, models, datasets, packages, gates)


def identity_mismatches(source: ReplaySource, models: Mapping[str, str | None], datasets: Mapping[str, str | None]) -> list[str]:
    """Which models and datasets are not the bytes the old verdict evaluated (empty: all are)."""
    differences = []
    for role, old in source.models.items():
        new = models.get(role)
        if old != new:
            differences.append(f"the {role} model's sha256 is {new}, the verdict's {old}")
    for name, old in source.datasets.items():
        if name not in datasets:
            differences.append(f"dataset {name!r} of the verdict is not configured here")
        elif datasets[name] != old:
            differences.append(f"dataset {name!r} has sha256 {datasets[name]}, the verdict's {old}")
    return differences


def compare_gates(source: ReplaySource, gates: list[dict], packages: Mapping[str, str | None]) -> dict:
    """The replay report for the new verdict: per-gate differences, and package versions that changed."""
    gates = json.loads(json.dumps(gates))  # compare as the verdict file holds them (tuples are lists there)
    new_by_id = {gate["id"]: gate for gate in gates}
    report_gates = []
    for old in source.gates:
        new = new_by_id.get(old["id"])
        if new is None:
            report_gates.append({"id": old["id"], "status": "missing", "diff": {}})
            continue
        if old.get("kind") in REMEASURED_KINDS:
            report_gates.append({"id": old["id"], "status": "remeasured", "diff": _diff(old, new, ("outcome",))})
            continue
        diff = _diff(old, new, REPRODUCED_FIELDS + _KIND_FIELDS.get(old.get("kind"), ()))
        report_gates.append({"id": old["id"], "status": "reproduced" if not diff else "differs", "diff": diff})
    old_ids = {gate["id"] for gate in source.gates}
    report_gates.extend({"id": gate["id"], "status": "new", "diff": {}} for gate in gates if gate["id"] not in old_ids)
    reproduced = all(entry["status"] in ("reproduced", "remeasured") for entry in report_gates)
    changed = {
        name: {"verdict": source.packages.get(name), "now": packages.get(name)}
        for name in sorted(set(source.packages) | set(packages))
        if source.packages.get(name) != packages.get(name)
    }
    return {"of": source.digest, "path": str(source.path), "reproduced": reproduced, "gates": report_gates, "package_changes": changed}


def _diff(old: dict, new: dict, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: {"verdict": old.get(name), "now": new.get(name)} for name in fields if old.get(name) != new.get(name)}
