"""Gates: the marker API (``gate.quality``, ``gate.latency``, ``gate.cost``, ``gate.golden``, ``gate.drift``),
marker validation, each kind's decision rule and its ``promote`` fixture context.

Pure core: pytest is imported only inside :class:`GateNamespace`'s methods, which have to
build ``pytest.mark`` objects.
"""

from __future__ import annotations

import os
from typing import Any, Callable

from ..errors import PromoteWarning
from .common import GATE_MARKERS, SEVERITIES, Failure, GateContext, GateFailed, GateInconclusive, gate_seed, unmeasured_record
from .cost import CostContext, CostGate
from .drift import DriftContext, DriftGate
from .golden import GoldenContext, GoldenGate
from .latency import LatencyContext, LatencyGate
from .quality import DEFAULT_MIN_SLICE_SIZE, GateResult, QualityContext, QualityGate

__all__ = [
    "GATE_MARKERS",
    "GATE_KINDS",
    "SEVERITIES",
    "GateNamespace",
    "gate",
    "GateFailed",
    "GateInconclusive",
    "PromoteWarning",
    "Failure",
    "GateContext",
    "QualityGate",
    "QualityContext",
    "GateResult",
    "LatencyGate",
    "LatencyContext",
    "CostGate",
    "CostContext",
    "GoldenGate",
    "GoldenContext",
    "DriftGate",
    "DriftContext",
    "gate_seed",
    "unmeasured_record",
]

# marker name -> (the validated marker arguments, the promote fixture's context)
GATE_KINDS = {
    "gate_quality": (QualityGate, QualityContext),
    "gate_latency": (LatencyGate, LatencyContext),
    "gate_cost": (CostGate, CostContext),
    "gate_golden": (GoldenGate, GoldenContext),
    "gate_drift": (DriftGate, DriftContext),
}


class GateNamespace:
    """``from pytest_promote import gate``: decorators that turn tests into promotion gates."""

    def quality(
        self,
        metric: str | Callable[..., float],
        *,
        min_delta: float | None = None,
        threshold: float | None = None,
        alpha: float | None = None,
        severity: str = "block",
        method: str | None = None,
        higher_is_better: bool | None = None,
        slice_by: str | None = None,
        min_slice_size: int = DEFAULT_MIN_SLICE_SIZE,
        max_slice_gap: float | None = None,
    ) -> Any:
        """Gate on a quality metric compared on the same examples; see the README's decision rule."""
        import pytest

        options = {
            "min_delta": min_delta, "threshold": threshold, "alpha": alpha, "severity": severity, "method": method,
            "higher_is_better": higher_is_better, "slice_by": slice_by, "min_slice_size": min_slice_size,
            "max_slice_gap": max_slice_gap,
        }  # fmt: skip
        return pytest.mark.gate_quality(metric, **options)

    def latency(
        self,
        percentile: float = 95,
        *,
        budget_ms: float | None = None,
        max_ratio: float | None = None,
        samples: int = 200,
        warmup: int = 20,
        alpha: float | None = None,
        severity: str = "block",
    ) -> Any:
        """Gate on a latency percentile, candidate and baseline timed interleaved in one run."""
        import pytest

        options = {
            "budget_ms": budget_ms, "max_ratio": max_ratio, "samples": samples, "warmup": warmup, "alpha": alpha,
            "severity": severity,
        }  # fmt: skip
        return pytest.mark.gate_latency(percentile, **options)

    def cost(self, *, max_ratio: float | None = None, budget: float | None = None, severity: str = "block") -> Any:
        """Gate on a resource cost: measured peak memory or a recorded figure (tokens, dollars, ...)."""
        import pytest

        return pytest.mark.gate_cost(max_ratio=max_ratio, budget=budget, severity=severity)

    def golden(
        self, path: str | os.PathLike, *, atol: float = 1e-8, rtol: float = 1e-5, severity: str = "block", schema: str | None = None
    ) -> Any:
        """Gate on the candidate reproducing a JSONL file of golden input/expected-output cases; ``schema=``
        names a dataset whose contract the inputs must meet."""
        import pytest

        return pytest.mark.gate_golden(path, atol=atol, rtol=rtol, severity=severity, schema=schema)


    def drift(
        self,
        *,
        max_psi: float | None = None,
        max_ks: float | None = None,
        max_kl: float | None = None,
        bins: int = 10,
        alpha: float | None = None,
        severity: str = "warn",
    ) -> Any:
        """Gate on distribution drift: candidate outputs against the baseline's, or a dataset against a reference."""
        import pytest

        return pytest.mark.gate_drift(max_psi=max_psi, max_ks=max_ks, max_kl=max_kl, bins=bins, alpha=alpha, severity=severity)


gate = GateNamespace()
