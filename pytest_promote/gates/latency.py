"""Latency gates: candidate and baseline timed interleaved, decided on upper confidence bounds."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

from ..errors import GateUsageError
from .common import (
    Failure,
    GateContext,
    check_alpha,
    check_known,
    check_severity,
    json_number,
    optional_number,
    percent,
    positional,
    started_record,
)

if TYPE_CHECKING:
    from ..stats.latency import LatencyComparison

__all__ = ["LatencyGate", "LatencyContext", "MIN_SAMPLES", "budget_bound", "rounds_to_bound"]

MIN_SAMPLES = 30  # rounds; fewer cannot bound a tail percentile
_ALLOWED = ("percentile", "budget_ms", "max_ratio", "samples", "warmup", "alpha", "severity")


@dataclass(frozen=True)
class LatencyGate:
    percentile: float
    budget_ms: float | None
    max_ratio: float | None
    samples: int
    warmup: int
    alpha: float
    severity: str

    @classmethod
    def from_marker(cls, args: tuple, kwargs: Mapping[str, Any], default_alpha: float) -> LatencyGate:
        """Validate ``@gate.latency`` arguments; :class:`GateUsageError` names the problem."""
        options = positional(args, dict(kwargs), "latency", "percentile")
        check_known(options, "latency", _ALLOWED)
        percentile = options.get("percentile", 95)
        if isinstance(percentile, bool) or not isinstance(percentile, (int, float)) or not 0 < percentile < 100:
            raise GateUsageError(f"gate.latency: percentile must lie strictly between 0 and 100, got {percentile!r}")
        budget_ms = optional_number(options.get("budget_ms"), "budget_ms", "latency", positive=True)
        max_ratio = optional_number(options.get("max_ratio"), "max_ratio", "latency", positive=True)
        if budget_ms is None and max_ratio is None:
            raise GateUsageError("gate.latency needs budget_ms=, max_ratio=, or both: without a rule the gate decides nothing")
        samples = _count(options.get("samples", 200), "samples", MIN_SAMPLES)
        warmup = _count(options.get("warmup", 20), "warmup", 0)
        alpha = check_alpha(options, "latency", default_alpha)
        needed = rounds_to_bound(float(percentile), alpha)
        if budget_ms is not None and samples < needed:
            raise GateUsageError(
                f"gate.latency: a budget on p{percentile:g} at alpha={alpha:g} needs samples >= {needed} (the fewest rounds "
                f"whose slowest call bounds p{percentile:g} with {percent(1 - alpha)} confidence), got {samples}"
            )
        return cls(float(percentile), budget_ms, max_ratio, samples, warmup, alpha, check_severity(options, "latency"))

    @property
    def metric(self) -> str:
        return f"p{self.percentile:g}_latency_ms"

    @property
    def rule(self) -> str:
        parts = []
        if self.budget_ms is not None:
            parts.append(f"candidate p{self.percentile:g} <= {self.budget_ms:g} ms")
        if self.max_ratio is not None:
            parts.append(f"p{self.percentile:g} ratio candidate/baseline <= {self.max_ratio:g}")
        return f"{' and '.join(parts)} at {percent(1 - self.alpha)} confidence (upper bounds)"

    def failures(self, result: LatencyComparison) -> list[Failure]:
        """Why the rule does not hold; empty when it passes. NaN never passes."""
        failed = []
        name = f"p{self.percentile:g}"
        bound = budget_bound(result)
        if self.budget_ms is not None and not bound <= self.budget_ms:
            failed.append(Failure(f"the candidate's {name} upper confidence bound is {_ms(bound)}, above the budget {self.budget_ms:g} ms"))
        if self.max_ratio is not None and not result.ratio_high <= self.max_ratio:
            failed.append(Failure(f"the upper confidence bound of the {name} ratio is {_ratio(result.ratio_high)}, above {self.max_ratio:g}"))
        return failed


def rounds_to_bound(percentile: float, alpha: float) -> int:
    """The fewest rounds n whose maximum is a (1 - alpha) upper bound of the percentile: q**n <= alpha."""
    q = percentile / 100
    return math.ceil(math.log(alpha) / math.log(q) - 1e-9)


def budget_bound(result: LatencyComparison) -> float:
    """The bound a budget is judged on: the larger of the bootstrap's and the order statistic's.

    The percentile bootstrap under-covers tail percentiles at a few hundred rounds (about 88%
    for a nominal 95% on p95 from 200 rounds); the order-statistic bound holds its level for
    any distribution. Taking the larger keeps the budget's error rate at most alpha.
    """
    exact = result.exact_high_ms
    return max(result.candidate_high_ms, exact) if not math.isnan(result.candidate_high_ms) else math.nan


def _count(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise GateUsageError(f"gate.latency: {name} must be an integer >= {minimum}, got {value!r}")
    return value


@dataclass
class LatencyContext(GateContext):
    """The ``promote`` fixture of a latency gate: ``promote.time(call, batch=None)``."""

    kind = "latency"
    node_id: str
    gate: LatencyGate
    seed: int
    resamples: int
    models: Any  # loaders.ModelStore
    batch: int | None = None
    result: LatencyComparison | None = None
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def measured(self) -> bool:
        return self.result is not None

    def time(self, call: Callable[[Any], Any], *, batch: int | None = None) -> LatencyComparison:
        """Time ``call(model)`` for candidate and baseline, interleaved, and apply the rule.

        ``batch=k`` says each call handles k rows: throughput is reported in rows per second.
        """
        from ..measure import time_interleaved
        from ..stats.latency import compare_latency

        self.begin_measurement("time")
        if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int) or batch < 1):
            raise GateUsageError(f"{self.node_id}: promote.time(batch=...) must be a positive integer (rows per call), got {batch!r}")
        candidate, baseline = self.models.get("candidate").model, self.models.get("baseline").model
        timings = time_interleaved(call, candidate, baseline, samples=self.gate.samples, warmup=self.gate.warmup, seed=self.seed)
        self.batch = batch
        self.result = compare_latency(
            timings.candidate_ns, timings.baseline_ns, percentile=self.gate.percentile, alpha=self.gate.alpha,
            resamples=self.resamples, seed=self.seed, batch=batch, resolution_ns=timings.resolution_ns,
        )  # fmt: skip
        if self.result.quantisation:
            self.notes.append(f"{self.node_id}: {self.result.quantisation}")
        self.failures = self.gate.failures(self.result)
        self.publish_notes()
        self.enforce(self.failures, self.failure_message(), self.gate.severity)
        return self.result

    def failure_message(self) -> str:
        result, name = self.result, f"p{self.gate.percentile:g}"
        return (
            f"gate {self.gate.metric} failed: rule {self.gate.rule}: {'; '.join(f.message for f in self.failures)}. "
            f"candidate {name} {_ms(result.candidate_ms)} [{_ms(result.candidate_low_ms)}, {_ms(result.candidate_high_ms)}] "
            f"(order-statistic upper bound {_ms(result.exact_high_ms)}), "
            f"baseline {name} {_ms(result.baseline_ms)}, ratio {_ratio(result.ratio)} [{_ratio(result.ratio_low)}, "
            f"{_ratio(result.ratio_high)}] ({percent(result.confidence)} percentile bootstrap over {result.rounds} "
            f"interleaved rounds, {result.resamples} resamples)"
        )

    def record(self) -> dict:
        """The gate's entry for the verdict (JSON-ready)."""
        entry = started_record(self, "gate_latency", self.gate.metric, rule=self.gate.rule, alpha=self.gate.alpha, seed=self.seed)
        if self.result is None:
            return entry
        result = self.result
        entry.update(
            measured=True,
            passed=not self.failures,
            candidate=json_number(result.candidate_ms),
            baseline=json_number(result.baseline_ms),
            candidate_ci={"low": json_number(result.candidate_low_ms), "high": json_number(result.candidate_high_ms)},
            n=result.rounds,
            latency={
                "percentile": self.gate.percentile,
                "budget_ms": self.gate.budget_ms,
                "max_ratio": self.gate.max_ratio,
                "rounds": result.rounds,
                "warmup": self.gate.warmup,
                "batch": self.batch,
                "resamples": result.resamples,
                "confidence": result.confidence,
                "candidate": result.candidate.to_json(),
                "baseline": result.baseline.to_json(),
                "baseline_ci": {"low": json_number(result.baseline_low_ms), "high": json_number(result.baseline_high_ms)},
                "exact_high_ms": json_number(result.exact_high_ms),
                "budget_bound_ms": json_number(budget_bound(result)),
                "ratio": {"estimate": json_number(result.ratio), "low": json_number(result.ratio_low), "high": json_number(result.ratio_high)},
                "quantised": result.quantisation is not None,
            },
        )
        return entry


def _ms(value: float | None) -> str:
    return "nan ms" if value is None or math.isnan(value) else f"{value:.4g} ms"


def _ratio(value: float | None) -> str:
    return "nan" if value is None or math.isnan(value) else f"{value:.3f}"
