"""Cost gates: a resource figure of the candidate against a budget and against the baseline's.

Peak memory is measured the same way for both models; other figures (tokens, dollars per
1k predictions) are recorded by the test. Either is a single deterministic or
user-supplied number, so the rule compares the figures as given: there is no interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from ..errors import GateUsageError
from .common import Failure, GateContext, check_severity, keyword_options, optional_number, started_record

__all__ = ["CostGate", "CostContext", "CostFigure", "MEASURABLE", "amount"]

MEASURABLE = {"peak_memory": "bytes"}  # what promote.measure can measure, and its unit
_ALLOWED = ("max_ratio", "budget", "severity")


@dataclass(frozen=True)
class CostGate:
    max_ratio: float | None
    budget: float | None
    severity: str

    @classmethod
    def from_marker(cls, args: tuple, kwargs: Mapping[str, Any], default_alpha: float) -> CostGate:
        """Validate ``@gate.cost`` arguments (``default_alpha`` is unused: costs have no interval)."""
        options = keyword_options(args, kwargs, "cost", _ALLOWED)
        max_ratio = optional_number(options.get("max_ratio"), "max_ratio", "cost", positive=True)
        budget = optional_number(options.get("budget"), "budget", "cost", positive=True)
        if max_ratio is None and budget is None:
            raise GateUsageError("gate.cost needs max_ratio=, budget=, or both: without a rule the gate decides nothing")
        return cls(max_ratio, budget, check_severity(options, "cost"))

    def rule(self, name: str, unit: str) -> str:
        parts = []
        if self.budget is not None:
            parts.append(f"candidate {name} <= {amount(self.budget, unit)}")
        if self.max_ratio is not None:
            parts.append(f"{name} ratio candidate/baseline <= {self.max_ratio:g}")
        return " and ".join(parts)

    def failures(self, figure: CostFigure) -> list[Failure]:
        failed = []
        if self.budget is not None and not figure.candidate <= self.budget:
            failed.append(
                Failure(f"the candidate's {figure.name} is {amount(figure.candidate, figure.unit)}, above the budget "
                        f"{amount(self.budget, figure.unit)}")  # fmt: skip
            )
        if self.max_ratio is not None and not figure.ratio <= self.max_ratio:
            failed.append(
                Failure(f"the {figure.name} ratio candidate/baseline is {_ratio(figure.ratio)} ({amount(figure.candidate, figure.unit)} / "
                        f"{amount(figure.baseline, figure.unit)}), above {self.max_ratio:g}")  # fmt: skip
            )
        return failed


@dataclass(frozen=True)
class CostFigure:
    name: str
    unit: str
    candidate: float
    baseline: float
    source: str  # tracemalloc | recorded

    @property
    def ratio(self) -> float:
        """Candidate over baseline; two zero costs are equal (1.0), a cost over nothing is infinite."""
        if self.baseline > 0:
            return self.candidate / self.baseline
        return 1.0 if self.candidate == 0 else math.inf


@dataclass
class CostContext(GateContext):
    """The ``promote`` fixture of a cost gate: ``promote.measure(call)`` or ``promote.record_cost(...)``."""

    kind = "cost"
    node_id: str
    gate: CostGate
    models: Any  # loaders.ModelStore
    figure: CostFigure | None = None
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def measured(self) -> bool:
        return self.figure is not None

    def measure(self, call: Callable[[Any], Any], *, what: str = "peak_memory") -> CostFigure:
        """Measure ``call(model)`` for candidate and baseline the same way (``what="peak_memory"``:
        the peak of Python allocations during the call, via tracemalloc) and apply the rule."""
        self.begin_measurement("measure")
        if what not in MEASURABLE:
            raise GateUsageError(f"{self.node_id}: promote.measure(what={what!r}): can measure {', '.join(MEASURABLE)}")
        from ..measure import peak_memory

        candidate, baseline = self.models.get("candidate").model, self.models.get("baseline").model
        figures = peak_memory(call, candidate), peak_memory(call, baseline)
        return self._decide(CostFigure(what, MEASURABLE[what], float(figures[0]), float(figures[1]), "tracemalloc"))

    def record_cost(self, name: str, *, candidate: float, baseline: float, unit: str) -> CostFigure:
        """Gate on a figure measured elsewhere, e.g. ``record_cost("tokens", candidate=812, baseline=790, unit="tokens/request")``."""
        self.begin_measurement("record_cost")
        if not isinstance(name, str) or not name.strip():
            raise GateUsageError(f"{self.node_id}: promote.record_cost: name must be a non-empty string, got {name!r}")
        if not isinstance(unit, str) or not unit.strip():
            raise GateUsageError(f"{self.node_id}: promote.record_cost({name!r}): unit must be a non-empty string, got {unit!r}")
        values = {}
        for role, value in (("candidate", candidate), ("baseline", baseline)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise GateUsageError(f"{self.node_id}: promote.record_cost({name!r}): {role} must be a finite number >= 0, got {value!r}")
            values[role] = float(value)
        return self._decide(CostFigure(name, unit, values["candidate"], values["baseline"], "recorded"))

    def _decide(self, figure: CostFigure) -> CostFigure:
        self.figure = figure
        self.failures = self.gate.failures(figure)
        self.publish_notes()
        message = (
            f"gate cost {figure.name} failed: rule {self.gate.rule(figure.name, figure.unit)}: "
            f"{'; '.join(f.message for f in self.failures)}"
        )
        self.enforce(self.failures, message, self.gate.severity)
        return figure

    def record(self) -> dict:
        """The gate's entry for the verdict (JSON-ready)."""
        name = self.figure.name if self.figure else "cost"
        entry = started_record(self, "gate_cost", name)
        if self.figure is None:
            return entry
        figure = self.figure
        entry.update(
            rule=self.gate.rule(figure.name, figure.unit),
            measured=True,
            passed=not self.failures,
            candidate=figure.candidate,
            baseline=figure.baseline,
            cost={
                "name": figure.name,
                "unit": figure.unit,
                "source": figure.source,
                "ratio": figure.ratio if math.isfinite(figure.ratio) else None,
                "budget": self.gate.budget,
                "max_ratio": self.gate.max_ratio,
            },
        )
        return entry


def amount(value: float, unit: str) -> str:
    """A figure with its unit; bytes read as MiB, the scale memory budgets are set in."""
    if unit == "bytes":
        return f"{value / 2**20:.4g} MiB"
    return f"{value:g} {unit}"


def _ratio(value: float) -> str:
    return "inf" if math.isinf(value) else f"{value:.3f}"
