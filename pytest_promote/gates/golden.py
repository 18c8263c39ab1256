"""Golden-input smoke gates: the candidate must reproduce a reviewed file of expected outputs."""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from ..errors import GateUsageError, PromoteWarning
from .common import Failure, GateContext, started_record, check_known, check_severity, positional

if TYPE_CHECKING:
    from ..golden import GoldenCheck, GoldenFile, GoldenUpdate

__all__ = ["GoldenGate", "GoldenContext"]

_ALLOWED = ("path", "atol", "rtol", "severity", "schema")


@dataclass(frozen=True)
class GoldenGate:
    path: str
    atol: float
    rtol: float
    severity: str
    schema: str | None = None  # a dataset whose contract every case's input rows must meet

    @classmethod
    def from_marker(cls, args: tuple, kwargs: Mapping[str, Any], default_alpha: float) -> GoldenGate:
        """Validate ``@gate.golden`` arguments (``default_alpha`` is unused: the comparison is exact up to tolerance)."""
        options = positional(args, dict(kwargs), "golden", "path")
        check_known(options, "golden", _ALLOWED)
        path = options.get("path")
        if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
            raise GateUsageError(f"gate.golden needs the golden file's path, e.g. @gate.golden('golden/cases.jsonl'), got {path!r}")
        tolerances = {}
        for name, default in (("atol", 1e-8), ("rtol", 1e-5)):
            value = options.get(name, default)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise GateUsageError(f"gate.golden: {name} must be a finite number >= 0, got {value!r}")
            tolerances[name] = float(value)
        schema = options.get("schema")
        if schema is not None and (not isinstance(schema, str) or not schema):
            raise GateUsageError(f"gate.golden: schema must name a dataset in promote.yaml, got {schema!r}")
        return cls(os.fspath(path), tolerances["atol"], tolerances["rtol"], check_severity(options, "golden"), schema)

    @property
    def rule(self) -> str:
        return f"every golden case matches (|actual - expected| <= {self.atol:g} + {self.rtol:g} * |expected|; strings and booleans exactly)"


@dataclass
class GoldenContext(GateContext):
    """The ``promote`` fixture of a golden gate: ``promote.check_golden(call)``."""

    kind = "golden"
    node_id: str
    gate: GoldenGate
    models: Any  # loaders.ModelStore
    datasets: Any  # datasets.DatasetStore
    test_dir: Path
    rootdir: Path
    update: bool = False  # --promote-update-golden: rewrite the expected outputs from the candidate
    check: GoldenCheck | None = None
    updated: GoldenUpdate | None = None
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def measured(self) -> bool:
        return self.check is not None or self.updated is not None

    def check_golden(self, call: Callable[[Any, Any], Any]) -> GoldenCheck | GoldenUpdate:
        """Run ``call(candidate, case_input)`` on every golden case and compare with the expected output."""
        from ..golden import check_golden, format_mismatches, load_golden, resolve_golden_path, update_golden

        self.begin_measurement("check_golden")
        path = resolve_golden_path(self.gate.path, test_dir=self.test_dir, rootdir=self.rootdir)
        golden = load_golden(path, allow_missing_expected=self.update)
        if self.gate.schema is not None:
            self._check_inputs(golden)
        candidate = self.models.get("candidate").model

        def run(inputs: Any) -> Any:
            return call(candidate, inputs)

        if self.update:
            self.updated = update_golden(golden, run)
            # a warning for the test output only: the verdict carries it as the golden_updated reason
            warnings.warn(PromoteWarning(f"{self.node_id}: {self._update_message()}"), stacklevel=2)
            return self.updated
        self.check = check_golden(golden, run, atol=self.gate.atol, rtol=self.gate.rtol)
        if self.check.mismatches:
            self.failures = [Failure(format_mismatches(self.check))]
        self.publish_notes()
        self.enforce(self.failures, f"gate golden failed: {self.failures[0].message}" if self.failures else "", self.gate.severity)
        return self.check

    def _check_inputs(self, golden: GoldenFile) -> None:
        """Every case's input rows against the named dataset's contract, in its feature order."""
        from ..contracts import check_rows, format_violations
        from ..errors import ContractViolation

        contract = self.datasets.contract(self.gate.schema)
        if contract is None:
            raise GateUsageError(f"{self.node_id}: gate.golden(schema={self.gate.schema!r}): that dataset declares no schema in promote.yaml")
        features = self.datasets.get(self.gate.schema).columns
        problems, found = [], []
        for case in golden.cases:
            rows = case.input if isinstance(case.input, list) and all(isinstance(row, list) for row in case.input) else [case.input]
            violations = check_rows(rows, features, contract)
            if violations:
                found.extend(violations)
                subject = f"case {case.id!r} (line {case.line}) input"
                problems.append(format_violations(subject, violations, numbering="rows count the case's input rows from 1"))
        if problems:
            message = f"golden file {golden.path}: {len(problems)} case(s) break the contract of dataset {self.gate.schema!r}: " + "; ".join(problems)
            raise ContractViolation(message, tuple(found))

    def _update_message(self) -> str:
        update = self.updated
        return (
            f"golden file {update.path} regenerated from the candidate: {update.changed} of {update.cases} case(s) changed "
            f"(sha256 {update.sha256}); review the change, then run without --promote-update-golden"
        )

    def record(self) -> dict:
        """The gate's entry for the verdict (JSON-ready)."""
        entry = started_record(self, "gate_golden", "golden", rule=self.gate.rule)
        if self.updated is not None:
            update = self.updated
            entry.update(
                measured=True,
                n=update.cases,
                message=self._update_message(),
                golden={
                    "path": str(update.path), "sha256": update.sha256, "previous_sha256": update.previous_sha256,
                    "cases": update.cases, "passed": None, "failed": None, "failing_ids": [], "atol": self.gate.atol,
                    "rtol": self.gate.rtol, "updated": True, "changed": update.changed,
                },  # fmt: skip
            )
        elif self.check is not None:
            check = self.check
            entry.update(
                measured=True,
                passed=not self.failures,
                n=check.cases,
                golden={
                    "path": str(check.path), "sha256": check.sha256, "previous_sha256": None, "cases": check.cases,
                    "passed": check.passed, "failed": len(check.mismatches), "failing_ids": list(check.failed_ids),
                    "atol": self.gate.atol, "rtol": self.gate.rtol, "updated": False, "changed": None,
                },  # fmt: skip
            )
        return entry
