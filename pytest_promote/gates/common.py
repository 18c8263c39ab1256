"""What every gate kind shares: outcomes, failures, seeds, the verdict record's common fields,
argument checks, and the ``promote`` fixture's base behaviour."""

from __future__ import annotations

import hashlib
import math
from abc import ABC, abstractmethod
import warnings
from dataclasses import dataclass
from typing import Any, Mapping

from ..config import MIN_ALPHA
from ..errors import GateUsageError, PromoteError, PromoteWarning

__all__ = [
    "GATE_MARKERS",
    "SEVERITIES",
    "GateFailed",
    "GateInconclusive",
    "Failure",
    "GateContext",
    "gate_seed",
    "blank_record",
    "unmeasured_record",
]

GATE_MARKERS = {
    "gate_quality": "quality", "gate_latency": "latency", "gate_cost": "cost", "gate_golden": "golden", "gate_drift": "drift",
}  # fmt: skip
SEVERITIES = ("block", "warn")
# the one call each kind's test body makes on the promote fixture
MEASURING_CALL = {
    "quality": "promote.compare(...)",
    "latency": "promote.time(...)",
    "cost": "promote.measure(...) or promote.record_cost(...)",
    "golden": "promote.check_golden(...)",
    "drift": "promote.compare_distributions(...)",
}


class GateFailed(PromoteError):
    """A blocking gate's rule did not hold."""

    code = "gate_failed"


class GateInconclusive(GateFailed):
    """A blocking gate could not decide: its interval was too wide (it blocks all the same)."""

    code = "underpowered"


@dataclass(frozen=True)
class Failure:
    """One unmet part of a rule; ``underpowered`` when only a too-wide interval stands in the way."""

    message: str
    underpowered: bool = False
    advice: str | None = None  # for an underpowered failure: why, and how much data would decide it
    examples_needed: int | None = None  # units for 80% power if the truth is where the estimate is


def gate_seed(master_seed: int, node_id: str) -> int:
    """A gate's own seed: independent of test order, selection and the other gates."""
    digest = hashlib.sha256(f"{master_seed}\0{node_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


class GateContext(ABC):
    """The ``promote`` fixture's behaviour common to every kind.

    Each kind's context is a dataclass with ``node_id``, ``gate``, ``failures``, ``notes`` and
    ``kind`` and overrides the measuring call it owns; the others explain which gate they belong to.
    """

    kind: str
    node_id: str
    notes: list[str]

    @property
    @abstractmethod
    def measured(self) -> bool:
        """Whether the gate's measuring call completed."""

    @abstractmethod
    def record(self) -> dict:
        """The gate's entry for the verdict (JSON-ready)."""

    def nothing_measured(self) -> GateUsageError:
        call = MEASURING_CALL[self.kind]
        return GateUsageError(f"{self.node_id}: the gate measured nothing: call {call} exactly once")

    def begin_measurement(self, call: str) -> None:
        """Every measuring call starts here: a gate measures once, and a second call, even after a
        first one that raised and was caught, marks the gate misused (its test then errors)."""
        if getattr(self, "_attempted", False):
            self.misuse = f"{self.node_id}: promote.{call}() was called twice; a gate makes exactly one measurement"
            raise GateUsageError(self.misuse)
        self._attempted = True

    @property
    def misuse(self) -> str | None:
        """Why the gate must not count even if its test body passed (a caught second call)."""
        return getattr(self, "_misuse", None)

    @misuse.setter
    def misuse(self, problem: str) -> None:
        self._misuse = problem

    def compare(self, *args: Any, **kwargs: Any) -> Any:
        raise self._not_mine("compare", "quality")

    def time(self, *args: Any, **kwargs: Any) -> Any:
        raise self._not_mine("time", "latency")

    def measure(self, *args: Any, **kwargs: Any) -> Any:
        raise self._not_mine("measure", "cost")

    def record_cost(self, *args: Any, **kwargs: Any) -> Any:
        raise self._not_mine("record_cost", "cost")

    def check_golden(self, *args: Any, **kwargs: Any) -> Any:
        raise self._not_mine("check_golden", "golden")

    def compare_distributions(self, *args: Any, **kwargs: Any) -> Any:
        raise self._not_mine("compare_distributions", "drift")

    def _not_mine(self, call: str, owner: str) -> GateUsageError:
        return GateUsageError(
            f"{self.node_id}: promote.{call}() belongs to @gate.{owner}; this test is a {self.kind} gate, "
            f"which measures with {MEASURING_CALL[self.kind]}"
        )

    def publish_notes(self) -> None:
        """Each note once, in the test's output as in the verdict."""
        for note in self.notes:
            warnings.warn(PromoteWarning(note), stacklevel=3)

    def enforce(self, failures: list[Failure], message: str, severity: str, inconclusive: bool = False) -> None:
        """Raise for a failed blocking gate; warn for a failed warn-only one."""
        if not failures:
            return
        if severity == "block":
            raise (GateInconclusive if inconclusive else GateFailed)(message)
        warnings.warn(PromoteWarning(f"warn-only gate failed: {message}"), stacklevel=3)


def unmeasured_record(node_id: str, marker_name: str, args: tuple, kwargs: Mapping[str, Any]) -> dict:
    """The entry of a gate whose context could not be built (bad marker arguments): never passing."""
    kind = GATE_MARKERS[marker_name]
    name: str | None = kind
    if kind == "quality":
        metric = args[0] if args else kwargs.get("metric")
        name = metric if isinstance(metric, str) else getattr(metric, "__qualname__", None)
    severity = kwargs.get("severity", "block")
    # an invalid severity must not soften the gate: it counts as blocking
    return blank_record(node_id, marker_name, name, severity if severity in SEVERITIES else "block")


def started_record(context: GateContext, marker_name: str, metric: str | None, **fields: Any) -> dict:
    """A gate's entry with what it knows before measuring: its rule, failures so far and notes."""
    entry = blank_record(context.node_id, marker_name, metric, context.gate.severity)
    entry.update(message="; ".join(f.message for f in context.failures) or None, warnings=list(context.notes), **fields)
    return entry


def blank_record(node_id: str, marker_name: str, metric: str | None, severity: str) -> dict:
    """Every verdict gate field, unmeasured: what a gate records before (or without) a result."""
    return {
        "id": node_id,
        "kind": GATE_MARKERS[marker_name],
        "metric": metric,
        "rule": None,
        "measured": False,
        "candidate": None,
        "baseline": None,
        "delta": None,
        "ci": None,
        "candidate_ci": None,
        "n": None,
        "seed": None,
        "alpha": None,
        "dataset": None,
        "passed": False,
        "underpowered": False,
        "severity": severity,
        "message": None,
        "warnings": [],
    }


# --- argument checks, shared so every kind words them alike ------------------------------------------


def check_severity(options: Mapping[str, Any], kind: str, default: str = "block") -> str:
    severity = options.get("severity", default)
    if severity not in SEVERITIES:
        raise GateUsageError(f"gate.{kind}: severity must be one of {', '.join(SEVERITIES)}, got {severity!r}")
    return severity


def check_alpha(options: Mapping[str, Any], kind: str, default_alpha: float) -> float:
    alpha = options.get("alpha")
    alpha = default_alpha if alpha is None else alpha
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 0.5:
        raise GateUsageError(f"gate.{kind}: alpha must lie strictly between 0 and 0.5, got {alpha!r}")
    if alpha < MIN_ALPHA:
        raise GateUsageError(f"gate.{kind}: alpha must be at least {MIN_ALPHA:g} (smaller error rates are beyond what the bootstrap resolves), got {alpha!r}")
    return float(alpha)


def check_known(options: Mapping[str, Any], kind: str, allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise GateUsageError(f"gate.{kind}: unknown argument(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")


def optional_number(value: Any, name: str, kind: str = "quality", *, positive: bool = False) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or (positive and value <= 0):
        what = "a finite positive number" if positive else "a finite number"
        raise GateUsageError(f"gate.{kind}: {name} must be {what}, got {value!r}")
    return float(value)


def keyword_options(args: tuple, kwargs: Mapping[str, Any], kind: str, allowed: tuple[str, ...]) -> dict:
    """The options of a marker that takes keyword arguments only, checked against ``allowed``."""
    if args:
        names = ", ".join(f"{name}=" for name in allowed)
        raise GateUsageError(f"gate.{kind} takes keyword arguments only ({names}), got {len(args)} positional")
    options = dict(kwargs)
    check_known(options, kind, allowed)
    return options


def positional(args: tuple, options: dict, kind: str, name: str) -> dict:
    """Fold the marker's one positional argument into the keyword options, refusing duplicates."""
    if len(args) > 1:
        raise GateUsageError(f"gate.{kind} takes one positional argument (the {name}), got {len(args)}")
    if args:
        if name in options:
            raise GateUsageError(f"gate.{kind}: the {name} is given twice")
        options[name] = args[0]
    return options


# --- formatting ----------------------------------------------------------------------------------------------


def json_number(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def percent(fraction: float) -> str:
    return f"{fraction * 100:.6g}%"


def fmt(value: float | None, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nan"
    return f"{value:+.4f}" if signed else f"{value:.4f}"
