"""Quality gates: marker validation, the decision rule on paired bootstrap intervals, and the
``promote.compare`` context."""

from __future__ import annotations

import math
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterator, Mapping

from ..errors import GateUsageError, MetricInputError, PromoteWarning
from ..stats.bootstrap import DEFAULT_MEMORY_BUDGET, POWER, PairedResult, paired_bootstrap
from ..stats.crosscheck import CrossCheck
from ..stats.metrics import CustomMetric, Metric, resolve_metric
from ..stats.slices import SliceGap, SliceResult, compare_slices
from .common import (
    Failure,
    GateContext,
    check_alpha,
    check_known,
    check_severity,
    fmt,
    json_number,
    optional_number,
    percent,
    positional,
    started_record,
)

__all__ = ["QualityGate", "QualityContext", "GateResult", "DEFAULT_MIN_SLICE_SIZE"]

DEFAULT_MIN_SLICE_SIZE = 100
METHODS = ("percentile", "bca")


_ALLOWED = ("metric", "min_delta", "threshold", "alpha", "severity", "method", "higher_is_better", "slice_by", "min_slice_size", "max_slice_gap")


@dataclass(frozen=True)
class QualityGate:
    metric: str
    min_delta: float | None
    threshold: float | None
    alpha: float
    severity: str
    higher_is_better: bool
    method: str | None = None  # None: bootstrap.method from promote.yaml
    slice_by: str | None = None
    min_slice_size: int = DEFAULT_MIN_SLICE_SIZE
    max_slice_gap: float | None = None
    function: Metric | None = field(default=None, compare=False)  # a custom metric's resolved object

    @classmethod
    def from_marker(cls, args: tuple, kwargs: Mapping[str, Any], default_alpha: float) -> QualityGate:
        """Validate ``@gate.quality`` arguments; :class:`GateUsageError` names the problem."""
        options = positional(args, dict(kwargs), "quality", "metric")
        check_known(options, "quality", _ALLOWED)
        if "metric" not in options:
            raise GateUsageError("gate.quality needs a metric, e.g. @gate.quality('accuracy', min_delta=0)")
        try:
            metric = resolve_metric(options["metric"], options.get("higher_is_better"))
        except MetricInputError as exc:
            raise GateUsageError(f"gate.quality: {exc}") from None
        min_delta = optional_number(options.get("min_delta"), "min_delta")
        threshold = optional_number(options.get("threshold"), "threshold")
        if min_delta is None and threshold is None:
            raise GateUsageError("gate.quality needs min_delta=, threshold=, or both: without a rule the gate decides nothing")
        alpha = check_alpha(options, "quality", default_alpha)
        severity = check_severity(options, "quality")
        method = options.get("method")
        if method not in (None, *METHODS):
            raise GateUsageError(f"gate.quality: method must be one of {', '.join(METHODS)}, got {method!r}")
        slice_by, min_slice_size, max_slice_gap = _slice_options(options)
        custom = metric if isinstance(metric, CustomMetric) else None
        return cls(metric.name, min_delta, threshold, alpha, severity, metric.higher_is_better, method, slice_by,
                   min_slice_size, max_slice_gap, custom)  # fmt: skip

    @property
    def metric_object(self) -> Metric | str:
        return self.function if self.function is not None else self.metric

    @property
    def rule(self) -> str:
        confidence = percent(1 - self.alpha)
        parts = []
        if self.min_delta is not None:
            parts.append(f"delta > {self.min_delta:g}")
        if self.threshold is not None:
            parts.append(f"{self.metric} {'>' if self.higher_is_better else '<'} {self.threshold:g}")
        where = f" in every {self.slice_by} slice of >= {self.min_slice_size} rows" if self.slice_by else ""
        gap = f", slice gap < {self.max_slice_gap:g}" if self.max_slice_gap is not None else ""
        return f"{' and '.join(parts)}{where}{gap} at {confidence} confidence"

    def failures(self, result: PairedResult) -> list[Failure]:
        """Why the rule does not hold; empty when it passes. NaN never passes."""
        failed = []
        if self.min_delta is not None and not result.low > self.min_delta:
            message = f"the lower confidence bound of delta is {fmt(result.low)}, not above {self.min_delta:g}"
            margin = max(0.0, -self.min_delta)  # the loss the rule tolerates: none for superiority
            if result.high > self.min_delta and result.mde > margin:
                why = f"the minimal detectable effect at 80% power is {fmt(result.mde)}, larger than the rule's margin {margin:g}"
                z = result.mde / result.se  # z_(1-alpha) + z_(power)
                truth = f"the true delta is {fmt(result.delta, signed=True)}"
                failed.append(_underpowered(message, why, result.delta - self.min_delta, result.se * z, result, truth))
            else:
                failed.append(Failure(message))
        if self.threshold is not None:
            failed.extend(self._threshold_failures(result))
        values = (result.candidate, result.baseline, result.delta, result.low, result.high, result.candidate_low, result.candidate_high)
        if any(math.isnan(value) for value in values):
            failed.append(Failure("the result contains NaN (a metric or interval could not be computed)"))
        return failed

    def _threshold_failures(self, result: PairedResult) -> list[Failure]:
        low, high, threshold = result.candidate_low, result.candidate_high, self.threshold
        if self.higher_is_better and not low > threshold:
            message = f"the candidate's lower confidence bound is {fmt(low)}, not above {threshold:g}"
            distance = result.candidate - threshold
        elif not self.higher_is_better and not high < threshold:
            message = f"the candidate's upper confidence bound is {fmt(high)}, not below {threshold:g}"
            distance = threshold - result.candidate
        else:
            return []
        z = _z(1 - result.alpha)
        if not low < threshold < high or not z > 0:  # z is 0 when 1 - alpha rounds to 0.5: no width to read
            return [Failure(message)]
        # the candidate's own standard error, read back from its interval's width
        own_se = (high - low) / (2 * z)
        why = f"the candidate's interval [{fmt(low)}, {fmt(high)}] contains the threshold {threshold:g}"
        truth = f"the candidate's true {self.metric} is {fmt(result.candidate)}"
        return [_underpowered(message, why, distance, own_se * (z + _z(POWER)), result, truth)]

    def cross_check_passes(self, check: CrossCheck) -> bool | None:
        """The delta rule judged on the closed-form interval; None when the gate has no delta rule."""
        if self.min_delta is None or math.isnan(check.low):
            return None
        return check.low > self.min_delta


def _z(probability: float) -> float:
    from scipy.special import ndtri

    return float(ndtri(probability))


def _underpowered(message: str, why: str, distance: float, detectable: float, result: PairedResult, truth: str) -> Failure:
    """An inconclusive failure, with the units that would decide it at 80% power if the truth sits
    where the estimate does (none can, when the estimate is on the failing side)."""
    unit = "groups" if result.grouped else "examples"
    if not distance > 0 or not detectable > 0:
        return Failure(message, True, f"{why}; the estimate sits on the failing side, so more {unit} would most likely confirm a failure")
    try:
        needed = math.ceil(result.units * (detectable / distance) ** 2)
    except (OverflowError, ValueError):  # a boundary so close that no sample size would decide it
        return Failure(message, True, f"{why}; the estimate sits so close to the boundary that no feasible number of {unit} would decide it")
    advice = f"{why}; about {needed} {unit} (now {result.units}) would decide it if {truth}"
    return Failure(message, True, advice, needed)


def _slice_options(options: Mapping[str, Any]) -> tuple[str | None, int, float | None]:
    slice_by = options.get("slice_by")
    if slice_by is not None and (not isinstance(slice_by, str) or not slice_by):
        raise GateUsageError(f"gate.quality: slice_by must be a dataset column name, got {slice_by!r}")
    min_slice_size = options.get("min_slice_size", DEFAULT_MIN_SLICE_SIZE)
    if isinstance(min_slice_size, bool) or not isinstance(min_slice_size, int) or min_slice_size < 2:
        raise GateUsageError(f"gate.quality: min_slice_size must be an integer >= 2, got {min_slice_size!r}")
    max_slice_gap = optional_number(options.get("max_slice_gap"), "max_slice_gap")
    if max_slice_gap is not None and (slice_by is None or max_slice_gap <= 0):
        raise GateUsageError("gate.quality: max_slice_gap needs slice_by= and a positive number")
    return slice_by, min_slice_size, max_slice_gap


@dataclass(frozen=True)
class GateResult:
    """What ``promote.compare`` returns."""

    stats: PairedResult
    outcome: str  # passed | failed | inconclusive
    rule: str
    slices: tuple[SliceResult, ...] = ()
    slice_gap: SliceGap | None = None

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"

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
class QualityContext(GateContext):
    """The ``promote`` fixture of a quality gate: one comparison and its record for the verdict."""

    kind = "quality"
    node_id: str
    gate: QualityGate
    seed: int
    resamples: int
    method: str
    models: Any  # loaders.ModelStore
    datasets: Any  # datasets.DatasetStore
    memory_budget: int = DEFAULT_MEMORY_BUDGET
    threads: int | None = None
    result: GateResult | None = None
    dataset_info: dict | None = None
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def compare(
        self, predict: Callable[[Any], Any], y_true: Any, *, dataset: str | None = None, sample_weight: Any = None, groups: Any = None
    ) -> GateResult:
        """Apply ``predict`` to the candidate and the baseline, compare them, and apply the rule."""
        self.begin_measurement("compare")
        if self.gate.slice_by is not None and dataset is None:
            raise GateUsageError(f"{self.node_id}: slice_by={self.gate.slice_by!r} needs promote.compare(..., dataset=NAME) to find the column")
        data = self.datasets.get(dataset) if dataset is not None else None
        if data is not None:
            self.dataset_info = {"name": data.name, "sha256": data.sha256, "rows": data.n}
        candidate_pred = predict(self.models.get("candidate").model)
        baseline_pred = predict(self.models.get("baseline").model)
        options = {
            "alpha": self.gate.alpha, "resamples": self.resamples, "method": self.gate.method or self.method,
            "sample_weight": sample_weight, "groups": groups, "memory_budget": self.memory_budget, "threads": self.threads,
        }  # fmt: skip
        with self._named_errors(), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", PromoteWarning)
            stats = paired_bootstrap(self.gate.metric_object, y_true, candidate_pred, baseline_pred, seed=self.seed, **options)
            slices, gap = (), None
            if self.gate.slice_by is not None:
                column = data.column(self.gate.slice_by)
                slices, gap = compare_slices(self.gate.metric_object, y_true, candidate_pred, baseline_pred, column,
                                             min_slice_size=self.gate.min_slice_size, seed=self.seed, **options)  # fmt: skip
        for caught_warning in caught:
            if issubclass(caught_warning.category, PromoteWarning):
                self.notes.append(f"{self.node_id}: {caught_warning.message}")
            else:  # not ours to judge: pass it on untouched (a metric's or a library's warning)
                warnings.warn_explicit(caught_warning.message, caught_warning.category, caught_warning.filename, caught_warning.lineno)
        if self.gate.slice_by is not None and not any(piece.result is not None for piece in slices):
            # the per-slice rule held vacuously: say so rather than let it look checked
            self.notes.append(
                f"{self.node_id}: no {self.gate.slice_by} slice has >= {self.gate.min_slice_size} rows; "
                "the rule was checked on the whole set only"
            )
        self.failures = self._all_failures(stats, slices, gap)
        outcome = "passed" if not self.failures else ("inconclusive" if all(f.underpowered for f in self.failures) else "failed")
        self.result = GateResult(stats, outcome, self.gate.rule, tuple(slices), gap)
        self._note_cross_check_disagreement()
        self.publish_notes()
        if self.failures:
            self.enforce(self.failures, self.failure_message(), self.gate.severity, outcome == "inconclusive")
        return self.result

    @property
    def measured(self) -> bool:
        return self.result is not None

    @contextmanager
    def _named_errors(self) -> Iterator[None]:
        """Bad input names the gate as well as the model and the count the core already gives."""
        try:
            yield
        except MetricInputError as exc:
            raise MetricInputError(f"gate {self.gate.metric} ({self.node_id}): {exc}") from None

    def _all_failures(self, stats: PairedResult, slices: tuple | list, gap: SliceGap | None) -> list[Failure]:
        failures = self.gate.failures(stats)
        for piece in slices:
            if piece.result is not None:
                label = f"slice {self.gate.slice_by}={piece.value!r}: "
                failures.extend(
                    replace(f, message=label + f.message, advice=f.advice and label + f.advice) for f in self.gate.failures(piece.result)
                )
        if self.gate.max_slice_gap is not None:
            if gap is None:
                failures.append(Failure(f"fewer than two {self.gate.slice_by} slices have >= {self.gate.min_slice_size} rows: no gap to bound"))
            elif not gap.high < self.gate.max_slice_gap:
                failures.append(Failure(f"the upper confidence bound of the slice gap is {fmt(gap.high)}, not below {self.gate.max_slice_gap:g}"))
        return failures

    def _note_cross_check_disagreement(self) -> None:
        record = self._cross_check_record()
        if record is None or record["agrees"] is not False:
            return
        stats, method = self.result.stats, record["method"]
        self.notes.append(
            f"{self.node_id}: the bootstrap and the {method} cross-check disagree on the delta rule: bootstrap "
            f"{'fails' if record['passes'] else 'passes'} with lower bound {fmt(stats.low)}, {method} "
            f"{'passes' if record['passes'] else 'fails'} with lower bound {fmt(stats.cross_check.low)}"
        )

    def failure_message(self) -> str:
        stats = self.result.stats
        head = "inconclusive (underpowered)" if self.result.outcome == "inconclusive" else "failed"
        text = (
            f"gate {self.gate.metric} {head}: rule {self.gate.rule}: {'; '.join(f.message for f in self.failures)}. "
            f"candidate {fmt(stats.candidate)}, baseline {fmt(stats.baseline)}, "
            f"delta {fmt(stats.delta, signed=True)} [{fmt(stats.low, signed=True)}, {fmt(stats.high, signed=True)}] "
            f"({percent(stats.confidence)} {stats.method} interval, {stats.resamples} resamples, n={stats.n})"
        )
        if self.result.outcome == "inconclusive":
            text += " " + self._power_advice()
        return text

    def _power_advice(self) -> str:
        return "Inconclusive: " + "; ".join(dict.fromkeys(f.advice for f in self.failures if f.advice)) + "."

    def record(self) -> dict:
        """The gate's entry for the verdict (JSON-ready: NaN becomes null)."""
        entry = started_record(
            self, "gate_quality", self.gate.metric, higher_is_better=self.gate.higher_is_better, rule=self.gate.rule,
            min_delta=self.gate.min_delta, threshold=self.gate.threshold, alpha=self.gate.alpha, seed=self.seed,
            dataset=self.dataset_info,
        )  # fmt: skip
        if self.result is None:
            return entry
        stats = self.result.stats
        entry.update(
            measured=True,
            passed=self.result.passed,
            underpowered=self.result.outcome == "inconclusive",
            candidate=json_number(stats.candidate),
            baseline=json_number(stats.baseline),
            delta=json_number(stats.delta),
            n=stats.n,
            units=stats.units,
            grouped=stats.grouped,
            weighted=stats.weighted,
            ci=_interval(stats),
            candidate_ci={"low": json_number(stats.candidate_low), "high": json_number(stats.candidate_high)},
            se=json_number(stats.se),
            mde=json_number(stats.mde),
            engine=stats.path,
            cross_check=self._cross_check_record(),
            slices=[_slice_record(piece, self.gate) for piece in self.result.slices] if self.gate.slice_by else None,
            slice_gap=_gap_record(self.result.slice_gap, self.gate.max_slice_gap),
        )
        if self.result.outcome == "inconclusive":
            entry["message"] = f"{entry['message']}. {self._power_advice()}"
        return entry

    def _cross_check_record(self) -> dict | None:
        check = self.result.stats.cross_check
        if check is None:
            return None
        passes = self.gate.cross_check_passes(check)
        agrees = None if passes is None else passes == (self.result.stats.low > self.gate.min_delta)
        return {**check.to_json(), "passes": passes, "agrees": agrees}


def _interval(stats: PairedResult) -> dict:
    return {
        "low": json_number(stats.low),
        "high": json_number(stats.high),
        "confidence": stats.confidence,
        "method": stats.method,
        "resamples": stats.resamples,
    }


def _slice_value(value: Any) -> Any:
    """A slice's value as JSON can hold it: a non-finite float (an inf in the column) as its text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _slice_record(piece: SliceResult, gate: QualityGate) -> dict:
    if piece.result is None:
        return {"value": _slice_value(piece.value), "rows": piece.rows, "skipped": True, "passed": None, "candidate": None,
                "baseline": None, "delta": None, "ci": None, "candidate_ci": None}  # fmt: skip
    stats = piece.result
    return {
        "value": _slice_value(piece.value),
        "rows": piece.rows,
        "skipped": False,
        "passed": not gate.failures(stats),
        "candidate": json_number(stats.candidate),
        "baseline": json_number(stats.baseline),
        "delta": json_number(stats.delta),
        "ci": _interval(stats),
        "candidate_ci": {"low": json_number(stats.candidate_low), "high": json_number(stats.candidate_high)},
    }


def _gap_record(gap: SliceGap | None, limit: float | None) -> dict | None:
    if gap is None:
        return None
    return {
        "gap": json_number(gap.gap),
        "low": json_number(gap.low),
        "high": json_number(gap.high),
        "slices": gap.slices,
        "max": limit,
        "passed": None if limit is None else gap.high < limit,
    }
