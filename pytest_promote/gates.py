"""Gates: the marker API, marker validation, the decision rule, and the per-test context.

Pure core: pytest is imported only inside :meth:`GateNamespace.quality`, which has to
build a ``pytest.mark`` object.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .errors import GateUsageError, MetricInputError, PromoteError
from .stats.bootstrap import PairedResult, paired_bootstrap
from .stats.metrics import get_metric

__all__ = [
    "GATE_MARKERS",
    "SEVERITIES",
    "GateNamespace",
    "gate",
    "GateFailed",
    "PromoteWarning",
    "QualityGate",
    "GateResult",
    "GateContext",
    "gate_seed",
    "unmeasured_record",
]

GATE_MARKERS = {"gate_quality": "quality"}
SEVERITIES = ("block", "warn")


class GateFailed(PromoteError):
    """A blocking gate's rule did not hold."""

    code = "gate_failed"


class PromoteWarning(UserWarning):
    """A failed ``severity="warn"`` gate, or something the verdict should flag."""


class GateNamespace:
    """``from pytest_promote import gate``: decorators that turn tests into promotion gates."""

    def quality(
        self,
        metric: str,
        *,
        min_delta: float | None = None,
        threshold: float | None = None,
        alpha: float | None = None,
        severity: str = "block",
    ) -> Any:
        """Gate on a quality metric compared on the same examples; see the README's decision rule."""
        import pytest

        return pytest.mark.gate_quality(metric, min_delta=min_delta, threshold=threshold, alpha=alpha, severity=severity)


gate = GateNamespace()


def gate_seed(master_seed: int, node_id: str) -> int:
    """A gate's own seed: independent of test order, selection and the other gates."""
    digest = hashlib.sha256(f"{master_seed}\0{node_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass(frozen=True)
class QualityGate:
    metric: str
    min_delta: float | None
    threshold: float | None
    alpha: float
    severity: str
    higher_is_better: bool

    @classmethod
    def from_marker(cls, args: tuple, kwargs: Mapping[str, Any], default_alpha: float) -> QualityGate:
        """Validate ``@gate.quality`` arguments; :class:`GateUsageError` names the problem."""
        options = dict(kwargs)
        if len(args) > 1:
            raise GateUsageError(f"gate.quality takes one positional argument (the metric), got {len(args)}")
        if args:
            if "metric" in options:
                raise GateUsageError("gate.quality: the metric is given twice")
            options["metric"] = args[0]
        allowed = {"metric", "min_delta", "threshold", "alpha", "severity"}
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise GateUsageError(f"gate.quality: unknown argument(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")
        if "metric" not in options:
            raise GateUsageError("gate.quality needs a metric, e.g. @gate.quality('accuracy', min_delta=0)")
        try:
            metric = get_metric(options["metric"])
        except MetricInputError as exc:
            raise GateUsageError(f"gate.quality: {exc}") from None
        min_delta = _optional_number(options.get("min_delta"), "min_delta")
        threshold = _optional_number(options.get("threshold"), "threshold")
        if min_delta is None and threshold is None:
            raise GateUsageError("gate.quality needs min_delta=, threshold=, or both: without a rule the gate decides nothing")
        alpha = options.get("alpha")
        alpha = default_alpha if alpha is None else alpha
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 0.5:
            raise GateUsageError(f"gate.quality: alpha must lie strictly between 0 and 0.5, got {alpha!r}")
        severity = options.get("severity", "block")
        if severity not in SEVERITIES:
            raise GateUsageError(f"gate.quality: severity must be one of {', '.join(SEVERITIES)}, got {severity!r}")
        return cls(metric.name, min_delta, threshold, float(alpha), severity, metric.higher_is_better)

    @property
    def rule(self) -> str:
        confidence = _percent(1 - self.alpha)
        parts = []
        if self.min_delta is not None:
            parts.append(f"delta > {self.min_delta:g}")
        if self.threshold is not None:
            parts.append(f"{self.metric} {'>' if self.higher_is_better else '<'} {self.threshold:g}")
        return f"{' and '.join(parts)} at {confidence} confidence"

    def failures(self, result: PairedResult) -> list[str]:
        """Why the rule does not hold; empty when it passes. NaN never passes."""
        failed = []
        if self.min_delta is not None and not result.low > self.min_delta:
            failed.append(f"the lower confidence bound of delta is {_fmt(result.low)}, not above {self.min_delta:g}")
        if self.threshold is not None:
            if self.higher_is_better and not result.candidate_low > self.threshold:
                failed.append(f"the candidate's lower confidence bound is {_fmt(result.candidate_low)}, not above {self.threshold:g}")
            if not self.higher_is_better and not result.candidate_high < self.threshold:
                failed.append(f"the candidate's upper confidence bound is {_fmt(result.candidate_high)}, not below {self.threshold:g}")
        values = (result.candidate, result.baseline, result.delta, result.low, result.high, result.candidate_low, result.candidate_high)
        if any(math.isnan(value) for value in values):
            failed.append("the result contains NaN (a metric or interval could not be computed)")
        return failed


@dataclass(frozen=True)
class GateResult:
    """What ``promote.compare`` returns."""

    stats: PairedResult
    passed: bool
    rule: str

    @property
    def candidate(self) -> float:
        return self.stats.candidate

    @property
    def baseline(self) -> float:
        return self.stats.baseline

    @property
    def delta(self) -> float:
        return self.stats.delta

    @property
    def low(self) -> float:
        return self.stats.low

    @property
    def high(self) -> float:
        return self.stats.high


@dataclass
class GateContext:
    """The ``promote`` fixture: one gate test's comparison and its record for the verdict."""

    node_id: str
    gate: QualityGate
    seed: int
    resamples: int
    method: str
    models: Any  # loaders.ModelStore
    datasets: Any  # datasets.DatasetStore
    result: GateResult | None = None
    dataset_info: dict | None = None
    failures: list[str] = field(default_factory=list)

    def compare(self, predict: Callable[[Any], Any], y_true: Any, *, dataset: str | None = None) -> GateResult:
        """Apply ``predict`` to the candidate and the baseline, compare them, and apply the rule."""
        if self.result is not None:
            raise GateUsageError(f"{self.node_id}: promote.compare() was called twice; a gate makes exactly one comparison")
        if dataset is not None:
            data = self.datasets.get(dataset)
            self.dataset_info = {"name": data.name, "sha256": data.sha256, "rows": data.n}
        candidate_pred = predict(self.models.get("candidate").model)
        baseline_pred = predict(self.models.get("baseline").model)
        stats = paired_bootstrap(
            self.gate.metric,
            y_true,
            candidate_pred,
            baseline_pred,
            alpha=self.gate.alpha,
            resamples=self.resamples,
            method=self.method,
            seed=self.seed,
        )
        self.failures = self.gate.failures(stats)
        self.result = GateResult(stats=stats, passed=not self.failures, rule=self.gate.rule)
        if self.failures:
            message = self.failure_message()
            if self.gate.severity == "block":
                raise GateFailed(message)
            warnings.warn(PromoteWarning(f"warn-only gate failed: {message}"), stacklevel=2)
        return self.result

    def failure_message(self) -> str:
        stats = self.result.stats
        return (
            f"gate {self.gate.metric} failed: rule {self.gate.rule}: {'; '.join(self.failures)}. "
            f"candidate {_fmt(stats.candidate)}, baseline {_fmt(stats.baseline)}, "
            f"delta {_fmt(stats.delta, signed=True)} [{_fmt(stats.low, signed=True)}, {_fmt(stats.high, signed=True)}] "
            f"({_percent(stats.confidence)} {stats.method} interval, {stats.resamples} resamples, n={stats.n})"
        )

    def record(self) -> dict:
        """The gate's entry for the verdict (JSON-ready: NaN becomes null)."""
        entry = _blank_record(self.node_id, "gate_quality", self.gate.metric, self.gate.severity)
        entry.update(
            higher_is_better=self.gate.higher_is_better,
            rule=self.gate.rule,
            min_delta=self.gate.min_delta,
            threshold=self.gate.threshold,
            alpha=self.gate.alpha,
            seed=self.seed,
            dataset=self.dataset_info,
            message="; ".join(self.failures) or None,
        )
        if self.result is None:
            return entry
        stats = self.result.stats
        entry.update(
            passed=self.result.passed,
            candidate=_json_number(stats.candidate),
            baseline=_json_number(stats.baseline),
            delta=_json_number(stats.delta),
            n=stats.n,
            ci={
                "low": _json_number(stats.low),
                "high": _json_number(stats.high),
                "confidence": stats.confidence,
                "method": stats.method,
                "resamples": stats.resamples,
            },
            candidate_ci={"low": _json_number(stats.candidate_low), "high": _json_number(stats.candidate_high)},
        )
        return entry


def unmeasured_record(node_id: str, marker_name: str, args: tuple, kwargs: Mapping[str, Any]) -> dict:
    """The entry of a gate whose context could not be built (bad marker arguments): never passing."""
    metric = args[0] if args else kwargs.get("metric")
    severity = kwargs.get("severity", "block")
    # an invalid severity must not soften the gate: it counts as blocking
    return _blank_record(node_id, marker_name, metric if isinstance(metric, str) else None, severity if severity in SEVERITIES else "block")


def _blank_record(node_id: str, marker_name: str, metric: str | None, severity: str) -> dict:
    """Every verdict gate field, unmeasured: what a gate records before (or without) a result."""
    return {
        "id": node_id,
        "kind": GATE_MARKERS[marker_name],
        "metric": metric,
        "rule": None,
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
        "severity": severity,
        "message": None,
    }


def _optional_number(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise GateUsageError(f"gate.quality: {name} must be a finite number, got {value!r}")
    return float(value)


def _json_number(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.6g}%"


def _fmt(value: float | None, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nan"
    return f"{value:+.4f}" if signed else f"{value:.4f}"
