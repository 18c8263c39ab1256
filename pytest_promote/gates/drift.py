"""Drift gates: is the candidate's output distribution (or the data) still the one we know?

Two comparisons: the candidate's outputs against the baseline's on the same inputs, or a
dataset's columns against a reference dataset's. Per column: the population stability index
with a bootstrap interval, the two-sample Kolmogorov-Smirnov statistic with its p-value, and
a smoothed KL divergence. Drift gates warn by default: a shift is a question for a reviewer
more often than a reason to stop a release.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from ..errors import GateUsageError
from .common import Failure, GateContext, check_alpha, check_severity, keyword_options, optional_number, percent, started_record

if TYPE_CHECKING:
    from ..stats.drift import DriftStatistics

__all__ = ["DriftGate", "DriftContext", "ColumnDrift"]

_ALLOWED = ("max_psi", "max_ks", "max_kl", "bins", "alpha", "severity")
DRIFT_RESAMPLES = 1000  # PSI's interval: a percentile bootstrap needs far fewer resamples than a gate's delta


@dataclass(frozen=True)
class DriftGate:
    max_psi: float | None
    max_ks: float | None
    max_kl: float | None
    bins: int
    alpha: float
    severity: str

    @classmethod
    def from_marker(cls, args: tuple, kwargs: Mapping[str, Any], default_alpha: float) -> DriftGate:
        """Validate ``@gate.drift`` arguments; :class:`GateUsageError` names the problem."""
        options = keyword_options(args, kwargs, "drift", _ALLOWED)
        limits = {name: optional_number(options.get(name), name, "drift", positive=True) for name in ("max_psi", "max_ks", "max_kl")}
        if all(limit is None for limit in limits.values()):
            raise GateUsageError("gate.drift needs max_psi=, max_ks=, max_kl= or several: without a rule the gate decides nothing")
        if limits["max_ks"] is not None and limits["max_ks"] > 1:
            raise GateUsageError(f"gate.drift: max_ks is a KS statistic in (0, 1], got {limits['max_ks']!r}")
        bins = options.get("bins", 10)
        if isinstance(bins, bool) or not isinstance(bins, int) or bins < 2:
            raise GateUsageError(f"gate.drift: bins must be an integer >= 2, got {bins!r}")
        alpha = check_alpha(options, "drift", default_alpha)
        return cls(limits["max_psi"], limits["max_ks"], limits["max_kl"], bins, alpha, check_severity(options, "drift", "warn"))

    @property
    def rule(self) -> str:
        parts = []
        if self.max_psi is not None:
            parts.append(f"PSI <= {self.max_psi:g}")
        if self.max_ks is not None:
            parts.append(f"KS <= {self.max_ks:g}")
        if self.max_kl is not None:
            parts.append(f"KL <= {self.max_kl:g}")
        return f"every column: {' and '.join(parts)} ({self.bins} reference-quantile bins; PSI's {percent(1 - self.alpha)} upper bound reported)"

    def failures(self, name: str, stats: DriftStatistics) -> list[str]:
        """The rules this column breaks; NaN never passes.

        PSI is judged on its point value: the plug-in estimate is already biased upwards (noise
        alone adds about (bins - 1)(1/n_ref + 1/n_cur)), and its bootstrap upper bound adds the
        bias again (it covered the true PSI in 99.8-100% of simulated runs at a nominal 95%), so
        a rule on the upper bound would block unchanged models on a few hundred rows.
        """
        broken = []
        if self.max_psi is not None and not stats.psi <= self.max_psi:
            broken.append(f"PSI {stats.psi:.4f} [{stats.psi_low:.4f}, {stats.psi_high:.4f}] above {self.max_psi:g}")
        if self.max_ks is not None and not stats.ks <= self.max_ks:
            broken.append(f"KS {stats.ks:.4f} above {self.max_ks:g} (p = {stats.ks_p_value:.3g})")
        if self.max_kl is not None and not stats.kl <= self.max_kl:
            broken.append(f"KL {stats.kl:.4f} above {self.max_kl:g}")
        return [f"{name}: {', '.join(broken)}"] if broken else []


@dataclass(frozen=True)
class ColumnDrift:
    name: str
    stats: DriftStatistics
    failures: tuple[str, ...]


@dataclass
class DriftContext(GateContext):
    """The ``promote`` fixture of a drift gate: ``promote.compare_distributions(...)``."""

    kind = "drift"
    node_id: str
    gate: DriftGate
    seed: int
    models: Any  # loaders.ModelStore
    datasets: Any  # datasets.DatasetStore
    columns: list[ColumnDrift] | None = None
    source: dict | None = None  # what was compared with what
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def measured(self) -> bool:
        return self.columns is not None

    def compare_distributions(
        self,
        output: Callable[[Any], Any] | None = None,
        *,
        reference: str | None = None,
        current: str | None = None,
        columns: Sequence[str] | None = None,
    ) -> list[ColumnDrift]:
        """``compare_distributions(lambda model: ...)``: the candidate's outputs against the baseline's on
        the same inputs; ``compare_distributions(reference="train", current="holdout", columns=[...])``: a
        dataset's columns against a reference dataset's."""
        self.begin_measurement("compare_distributions")
        if (output is None) == (reference is None and current is None):
            raise GateUsageError(
                f"{self.node_id}: promote.compare_distributions takes either a function of the model (outputs) or "
                "reference= and current= dataset names, not both or neither"
            )
        if output is not None:
            pairs, paired = self._outputs(output), True
        else:
            pairs, paired = self._dataset_columns(reference, current, columns), False
        self.columns = [self._compare(name, ref, cur, paired) for name, ref, cur in pairs]
        broken = [message for column in self.columns for message in column.failures]
        if broken:
            self.failures = [Failure("; ".join(broken))]
        self.publish_notes()
        self.enforce(self.failures, f"gate drift failed: rule {self.gate.rule}: {'; '.join(broken)}", self.gate.severity)
        return self.columns

    def _outputs(self, output: Callable[[Any], Any]) -> list[tuple[str, Any, Any]]:
        import numpy as np

        candidate = np.asarray(output(self.models.get("candidate").model), dtype=float)
        baseline = np.asarray(output(self.models.get("baseline").model), dtype=float)
        if candidate.shape != baseline.shape or candidate.ndim not in (1, 2) or (candidate.ndim == 2 and candidate.shape[1] == 0):
            raise GateUsageError(
                f"{self.node_id}: promote.compare_distributions: the outputs must be 1-D or 2-D with at least one column, of one shape for both "
                f"models, got candidate {candidate.shape} and baseline {baseline.shape}"
            )
        self.source = {"mode": "outputs", "reference": "baseline", "current": "candidate"}
        if candidate.ndim == 1:
            return [("output", baseline, candidate)]
        return [(f"output[{i}]", baseline[:, i], candidate[:, i]) for i in range(candidate.shape[1])]

    def _dataset_columns(self, reference: str | None, current: str | None, columns: Sequence[str] | None) -> list[tuple[str, Any, Any]]:
        if reference is None or current is None:
            raise GateUsageError(f"{self.node_id}: promote.compare_distributions needs both reference= and current= dataset names")
        ref, cur = self.datasets.get(reference), self.datasets.get(current)
        names = list(columns) if columns is not None else [name for name in cur.columns if name in ref.columns]
        if not names:
            raise GateUsageError(f"{self.node_id}: datasets {reference!r} and {current!r} share no feature column to compare")
        self.source = {"mode": "datasets", "reference": reference, "current": current}
        return [(name, ref.column(name), cur.column(name)) for name in names]

    def _compare(self, name: str, reference: Any, current: Any, paired: bool) -> ColumnDrift:
        from ..stats.drift import compare_distributions

        seed = self.seed ^ _name_seed(name)  # each column its own resamples, independent of the others
        stats = compare_distributions(
            reference, current, bins=self.gate.bins, alpha=self.gate.alpha, resamples=DRIFT_RESAMPLES, seed=seed, paired=paired
        )
        failures = tuple(self.gate.failures(name, stats))
        limit = self.gate.max_psi
        if not failures and limit is not None and not stats.psi_high <= limit:
            self.notes.append(
                f"{self.node_id}: {name}: PSI {stats.psi:.4f} is within {limit:g} but its upper bound {stats.psi_high:.4f} "
                f"is not: {stats.n_current} rows cannot rule out drift of that size"
            )
        return ColumnDrift(name, stats, failures)

    def record(self) -> dict:
        """The gate's entry for the verdict (JSON-ready)."""
        entry = started_record(self, "gate_drift", "drift", rule=self.gate.rule, alpha=self.gate.alpha, seed=self.seed)
        if self.columns is None:
            return entry
        entry.update(
            measured=True,
            passed=not self.failures,
            n=max(column.stats.n_current for column in self.columns),
            drift={
                **self.source,
                "bins": self.gate.bins,
                "max_psi": self.gate.max_psi,
                "max_ks": self.gate.max_ks,
                "max_kl": self.gate.max_kl,
                "columns": [
                    {"name": column.name, **column.stats.to_json(), "passed": not column.failures} for column in self.columns
                ],
            },
        )
        return entry


def _name_seed(name: str) -> int:
    import hashlib

    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big")
