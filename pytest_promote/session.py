"""One pytest session's promotion state, independent of pytest.

The plugin creates one :class:`PromoteSession` per process and translates hooks into its
methods; everything that decides or writes lives here or below.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from .config import ModelSpec, PromoteConfig, configured_verdict, load_config, sha256_file
from .datasets import DatasetStore
from .errors import ConfigError, PromoteError
from .gates import GATE_KINDS, CostContext, DriftContext, GateContext, GoldenContext, LatencyContext, QualityContext, gate_seed
from .loaders import ModelStore
from .verdict import Reason, VerdictCollector, assemble, collect_envelope, remove_stale_verdict, sign_verdict, signing_key_from_env, write_verdict
from .verdict.envelope import file_digests
from .verdict.files import write_text
from .verdict.requirements import unmet_requirements
from .verdict.replay import ReplayError, ReplaySource, compare_gates, identity_mismatches, load_replay_source

if TYPE_CHECKING:
    from .registry import Registry, RegistryBackend, ResolvedVersion

__all__ = ["DEFAULT_VERDICT", "PromoteSession", "SessionPaths"]

DEFAULT_VERDICT = "promote-verdict.json"


@dataclass(frozen=True)
class SessionPaths:
    rootdir: Path
    config: Path
    verdict_override: Path | None = None  # from --promote-verdict or the ini key
    update_golden: bool = False  # --promote-update-golden: golden gates rewrite their files
    registry_override: Path | None = None  # from --promote-registry or the ini key
    replay: Path | None = None  # --promote-replay: the verdict to reproduce


class PromoteSession:
    """``open_registry(path)`` returns the registry backend (the ``pytest_promote_registry_backend`` hook)."""

    def __init__(
        self,
        paths: SessionPaths,
        load_model: Callable[[ModelSpec], Any],
        command_line: list[str],
        open_registry: Callable[[Path], RegistryBackend] | None = None,
    ) -> None:
        self.paths = paths
        self.command_line = command_line
        self.collector = VerdictCollector()
        self.verdict: dict | None = None
        self.signing_key: bytes | None = None
        self.replay: ReplaySource | None = None
        self._load_model = load_model
        self._open_registry = open_registry
        self._config: PromoteConfig | ConfigError | None = None
        self._models: ModelStore | None = None
        self._datasets: DatasetStore | None = None
        self._registry: Registry | None = None

    # --- configuration and stores, loaded on first use -------------------------------------

    @property
    def config(self) -> PromoteConfig:
        if self._config is None:
            try:
                self._config = load_config(self.paths.config)
            except ConfigError as exc:
                self._config = exc
        if isinstance(self._config, ConfigError):
            raise self._config
        return self._config

    @property
    def models(self) -> ModelStore:
        if self._models is None:
            self._models = ModelStore(self.config, self._load_model, self._resolve_registered)
        return self._models

    @property
    def registry_path(self) -> Path:
        from .registry import registry_path

        return self.paths.registry_override or registry_path(self.paths.rootdir, self.config)

    def _resolve_registered(self, spec: ModelSpec) -> ResolvedVersion:
        from .errors import RegistryError
        from .registry import Registry

        if self._registry is None:
            path = self.registry_path
            if not path.is_file():
                raise RegistryError(f"models.{spec.role}: {spec.source}: no model registry at {path} (register models with `pytest-promote register`)")
            self._registry = Registry(self._open_registry(path))
        return self._registry.resolve(spec.registry, sha256=spec.sha256)

    @property
    def datasets(self) -> DatasetStore:
        if self._datasets is None:
            self._datasets = DatasetStore(self.config)
        return self._datasets

    @property
    def verdict_path(self) -> Path:
        if self.paths.verdict_override is not None:
            return self.paths.verdict_override
        if isinstance(self._config, PromoteConfig):
            configured = self._config.verdict
        else:
            configured = configured_verdict(self.paths.config)
        return self.paths.rootdir / (configured or DEFAULT_VERDICT)

    def model_identities(self) -> dict[str, dict]:
        if self._models is None:
            return {}
        return {role: {**m.identity(), "warning": m.warning} for role, m in self._models.loaded().items()}

    def dataset_identities(self) -> dict[str, dict]:
        if self._datasets is None:
            return {}
        return {
            name: {"sha256": data.sha256, "rows": data.n, "age": data.age, "warnings": list(data.warnings)}
            for name, data in self._datasets.loaded().items()
        }

    # --- a promotion run ----------------------------------------------------------------------

    def start(self) -> None:
        """Remove any earlier verdict, then validate the config and the signing key; for a replay,
        read the old verdict and check that the bytes here are the ones it evaluated. A failure is
        a PromoteError, after a ``block`` verdict where one can be written."""
        remove_stale_verdict(self.verdict_path)  # first: whatever happens next, no earlier promote survives
        try:
            self.config
            self.signing_key = signing_key_from_env(os.environ)
            if self.paths.replay is not None:
                self.replay = load_replay_source(self.paths.replay)
                self._check_replay_identities()
        except PromoteError as exc:  # a config, replay or registry fault: nothing can be decided
            # where no verdict can be written, the error raised below still says why the run stopped
            with contextlib.suppress(OSError):
                self.write_block(Reason(exc.code, str(exc)))
            raise

    def join(self) -> None:
        """An xdist worker's start: validate the config and take a replay's seeds; the controller
        owns the verdict file and has checked the replay's bytes."""
        self.config  # noqa: B018 - validate only
        if self.paths.replay is not None:
            self.replay = load_replay_source(self.paths.replay)

    def _check_replay_identities(self) -> None:
        """Before any gate runs: files and registry versions must be the verdict's bytes (a loader's
        model can only be fingerprinted once built; it is compared when the run ends)."""
        models = {}
        for role, spec in self.config.models.items():
            if spec.registry is not None:
                models[role] = self._resolve_registered(spec).sha256
            elif spec.path is not None:
                models[role] = _digest_or_none(spec.path)
            else:
                models[role] = self.replay.models.get(role)
        datasets = {name: _digest_or_none(spec.path) for name, spec in self.config.datasets.items()}
        mismatches = identity_mismatches(self.replay, models, datasets)
        if mismatches:
            raise ReplayError(f"--promote-replay {self.replay.path}: not the bytes the verdict evaluated: {'; '.join(mismatches)}")

    def gate_seed(self, node_id: str) -> int:
        """The gate's seed: a replay's recorded one, else derived from the master seed and the node id."""
        recorded = self.replay.seed_for(node_id) if self.replay is not None else None
        return recorded if recorded is not None else gate_seed(self.config.seed, node_id)

    def gate_context(self, node_id: str, marker_name: str, args: tuple, kwargs: Mapping[str, Any], test_file: Path) -> GateContext:
        """The ``promote`` fixture's context for one gate test; GateUsageError for bad marker arguments."""
        config = self.config
        spec_type, context_type = GATE_KINDS[marker_name]
        spec = spec_type.from_marker(args, kwargs, config.alpha)
        seed = self.gate_seed(node_id)
        if context_type is QualityContext:
            return QualityContext(
                node_id=node_id,
                gate=spec,
                seed=seed,
                resamples=config.bootstrap.resamples,
                method=config.bootstrap.method,
                models=self.models,
                datasets=self.datasets,
                memory_budget=config.bootstrap.memory_mb * 1024 * 1024,
                threads=config.bootstrap.threads,
            )
        if context_type is LatencyContext:
            return LatencyContext(node_id=node_id, gate=spec, seed=seed, resamples=config.bootstrap.resamples, models=self.models)
        if context_type is CostContext:
            return CostContext(node_id=node_id, gate=spec, models=self.models)
        if context_type is DriftContext:
            return DriftContext(node_id=node_id, gate=spec, seed=seed, models=self.models, datasets=self.datasets)
        return GoldenContext(node_id=node_id, gate=spec, models=self.models, datasets=self.datasets, test_dir=test_file.parent,
                             rootdir=self.paths.rootdir, update=self.paths.update_golden)  # fmt: skip

    def finish(self, *, interrupted: bool, exit_status: int = 0, internal_error: bool = False) -> dict:
        """Decide, write the verdict atomically, and return it."""
        if internal_error:
            self.collector.add_reason(Reason("internal_error", "pytest stopped with an internal error"))
        config = self.config
        for problem in unmet_requirements(config, self.paths.rootdir):
            self.collector.add_reason(Reason("unauditable", problem))
        gates = self.collector.gates()
        models = self._verdict_models(config)
        envelope = self._envelope(config, gates)
        replay = self._replay_report(models, envelope, gates) if self.replay is not None else None
        verdict = self.collector.verdict(
            interrupted=interrupted,
            exit_status=exit_status,
            models=models,
            envelope=envelope,
            warnings=self._dataset_warnings(),
            rollback_candidate=self._rollback_candidate(config),
            replay=replay,
        )
        return self._write(verdict)

    def _dataset_warnings(self) -> list[str]:
        loaded = {**self.dataset_identities(), **self.collector.datasets()}  # here, and in any worker
        return list(dict.fromkeys(warning for identity in loaded.values() for warning in identity.get("warnings", ())))

    def _replay_report(self, models: dict[str, dict], envelope: dict, gates: list[dict]) -> dict:
        """Compare this run with the verdict it replays; a mismatch or a difference blocks."""
        datasets = {name: entry["sha256"] for name, entry in envelope["datasets"].items()}
        mismatches = identity_mismatches(self.replay, {role: m.get("sha256") for role, m in models.items()}, datasets)
        report = compare_gates(self.replay, gates, envelope["distributions"])
        if mismatches:
            report["reproduced"] = False
            self.collector.add_reason(Reason("replay_mismatch", f"{self.replay.path}: {'; '.join(mismatches)}"))
        elif not report["reproduced"]:
            differing = [entry["id"] for entry in report["gates"] if entry["status"] not in ("reproduced", "remeasured")]
            changed = ", ".join(f"{name} {v['verdict']} -> {v['now']}" for name, v in report["package_changes"].items())
            where = f"; installed packages differ: {changed}" if changed else "; installed packages are the same"
            self.collector.add_reason(
                Reason("not_reproduced", f"replay of {self.replay.path}: {len(differing)} gate(s) differ: {', '.join(differing)}{where}")
            )
        return report

    def write_side_reports(self, markdown: Path | None, html: Path | None, step_summary: Path | None) -> Reason | None:
        """Markdown and HTML beside the verdict; the reason to block when one cannot be written."""
        from .verdict.ci import markdown_summary

        target = None
        try:
            if markdown is not None or step_summary is not None:
                text = markdown_summary(self.verdict)
                if markdown is not None:
                    target = markdown
                    write_text(markdown, text)
                if step_summary is not None:
                    target = step_summary
                    with open(step_summary, "a", encoding="utf-8") as stream:
                        stream.write(text)
            if html is not None:
                from .verdict.html import write_html

                target = html
                write_html(html, self.verdict)
        except OSError as exc:
            return Reason("report_error", f"{target}: the report could not be written ({type(exc).__name__}: {exc.strerror or exc})")
        return None

    def _write(self, verdict: dict) -> dict:
        if self.signing_key is not None:
            verdict = sign_verdict(verdict, self.signing_key)
        write_verdict(self.verdict_path, verdict)
        self.verdict = verdict
        return verdict

    def _rollback_candidate(self, config: PromoteConfig) -> dict | None:
        """A registry baseline is what production falls back to if the candidate replaces it:
        it qualifies when it was loaded (its artifact verified) and is not quarantined."""
        if config.models["baseline"].registry is None:
            return None
        baseline = self.collector.models().get("baseline") or {}
        registry = baseline.get("registry")
        if not registry or baseline.get("sha256") is None:
            return None
        return {**registry, "sha256": baseline["sha256"], "reason": "the baseline the candidate would replace; its artifact verified when loaded"}

    def write_block(self, reason: Reason) -> dict:
        """A verdict for a run that could not get as far as deciding: always ``block``."""
        config = self._config if isinstance(self._config, PromoteConfig) else None
        verdict = assemble(
            decision="block",
            reasons=[reason.to_dict()],
            warnings=[],
            models=self._verdict_models(config) if config else {},
            gates=[],
            tests=self.collector.counts().to_dict(),
            envelope=self._envelope(config),
        )
        return self._write(verdict)

    def _verdict_models(self, config: PromoteConfig) -> dict[str, dict]:
        """Identities reported by the processes that loaded the models, else from the config."""
        reported = self.collector.models()
        models = {}
        for role, spec in config.models.items():
            if role in reported:
                models[role] = reported[role]
            else:
                present = spec.path is not None and spec.path.is_file()
                digest = sha256_file(spec.path) if present else None
                size = spec.path.stat().st_size if present else None
                models[role] = {"source": spec.source, "sha256": digest, "size_bytes": size, "registry": None}
        return models

    def _envelope(self, config: PromoteConfig | None, gates: list[dict] = ()) -> dict:
        loaded = {**self.dataset_identities(), **self.collector.datasets()}  # here, and in any worker
        datasets = {}
        for name, spec in (config.datasets if config else {}).items():
            identity = loaded.get(name, {})
            datasets[name] = {"path": str(spec.path), "sha256": _digest_or_none(spec.path), "rows": identity.get("rows"), "age": identity.get("age")}
        rootdir = self.paths.rootdir
        return collect_envelope(
            rootdir=rootdir,
            command_line=self.command_line,
            seed=config.seed if config else None,
            config_path=config.path if config else self.paths.config,
            config_sha256=config.sha256 if config else None,
            datasets=datasets,
            test_files=file_digests([rootdir / gate["id"].split("::")[0] for gate in gates], rootdir),
            golden_files={gate["golden"]["path"]: gate["golden"]["sha256"] for gate in gates if gate.get("golden")},
            gate_seeds={gate["id"]: gate["seed"] for gate in gates if gate.get("seed") is not None},
        )


def _digest_or_none(path: Path) -> str | None:
    try:
        return sha256_file(path)
    except OSError:
        return None
