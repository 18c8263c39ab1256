"""pytest hooks only: each translates a pytest event into a call on the pure core."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from . import hookspecs, loaders
from .registry import sqlite as registry_sqlite
from .config import CONFIG_FILENAME
from .errors import GateUsageError, PromoteError
from .gates import GATE_MARKERS, GateContext, GateFailed, unmeasured_record
from .session import PromoteSession, SessionPaths
from .verdict import Reason, TestPhase, remove_stale_verdict, summary_lines
from .verdict.ci import github_annotations, junit_properties

session_key = pytest.StashKey[PromoteSession]()
context_key = pytest.StashKey[GateContext]()

_MARKER_HELP = {
    "gate_quality": "gate_quality(metric, *, min_delta=None, threshold=None, alpha=None, severity='block', method=None, "
    "higher_is_better=None, slice_by=None, min_slice_size=100, max_slice_gap=None): "
    "a promotion gate comparing candidate and baseline on a quality metric (pytest-promote)",
    "gate_latency": "gate_latency(percentile=95, *, budget_ms=None, max_ratio=None, samples=200, warmup=20, alpha=None, "
    "severity='block'): a promotion gate timing candidate and baseline interleaved (pytest-promote)",
    "gate_cost": "gate_cost(*, max_ratio=None, budget=None, severity='block'): a promotion gate on peak memory or a "
    "recorded cost figure (pytest-promote)",
    "gate_golden": "gate_golden(path, *, atol=1e-08, rtol=1e-05, severity='block', schema=None): a promotion gate checking the "
    "candidate against a JSONL file of golden cases (pytest-promote)",
    "gate_drift": "gate_drift(*, max_psi=None, max_ks=None, max_kl=None, bins=10, alpha=None, severity='warn'): a promotion "
    "gate on distribution drift of model outputs or dataset columns (pytest-promote)",
}


# --- options ------------------------------------------------------------------------------


def _file_path(option: str) -> Any:
    def parse(value: str) -> Path:
        if not value.strip():
            raise pytest.UsageError(f"{option}: expected a file path, got an empty string")
        path = Path(value).expanduser()
        if path.is_dir():
            raise pytest.UsageError(f"{option}: {value} is a directory; expected a file path")
        return path

    return parse


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("promote", "model promotion gates (pytest-promote)")
    group.addoption(
        "--promote",
        action="store_true",
        default=False,
        help="run the promotion gates and write the verdict; exit 0 only if the decision is 'promote'",
    )
    group.addoption(
        "--promote-config",
        metavar="PATH",
        type=_file_path("--promote-config"),
        default=None,
        help=f"the promote config file (default: {CONFIG_FILENAME} in the rootdir; ini: promote_config)",
    )
    group.addoption(
        "--promote-verdict",
        metavar="PATH",
        type=_file_path("--promote-verdict"),
        default=None,
        help="where to write the verdict JSON (default: 'verdict' in the config, else promote-verdict.json in the rootdir; "
        "ini: promote_verdict)",
    )
    group.addoption(
        "--promote-update-golden",
        action="store_true",
        default=None,
        help="golden gates rewrite their files' expected outputs from the candidate; the run blocks (golden_updated) "
        "until the files are reviewed and re-run (ini: promote_update_golden)",
    )
    group.addoption(
        "--promote-replay",
        metavar="VERDICT",
        type=_file_path("--promote-replay"),
        default=None,
        help="re-run the gates with the seeds an earlier verdict recorded, on the same model and data bytes, and "
        "report whether every number reproduces (ini: promote_replay)",
    )
    group.addoption(
        "--promote-markdown",
        metavar="PATH",
        type=_file_path("--promote-markdown"),
        default=None,
        help="also write the verdict as a Markdown summary (decision, reasons, gate table); with GITHUB_STEP_SUMMARY set "
        "it is appended there as well (ini: promote_markdown)",
    )
    group.addoption(
        "--promote-html",
        metavar="PATH",
        type=_file_path("--promote-html"),
        default=None,
        help="also write a self-contained HTML report with a forest plot of every gate (ini: promote_html)",
    )
    group.addoption(
        "--promote-registry",
        metavar="PATH",
        type=_file_path("--promote-registry"),
        default=None,
        help="the model registry database for registry: models (default: registry.path in the config, else "
        ".promote/registry.db in the rootdir; ini: promote_registry)",
    )
    parser.addini("promote_config", help="the promote config file, relative to the ini file", default=None)
    parser.addini("promote_registry", help="the model registry database, relative to the ini file", default=None)
    parser.addini("promote_replay", help="like --promote-replay, relative to the ini file", default=None)
    parser.addini("promote_markdown", help="like --promote-markdown, relative to the ini file", default=None)
    parser.addini("promote_html", help="like --promote-html, relative to the ini file", default=None)
    parser.addini("promote_verdict", help="where to write the verdict JSON, relative to the ini file", default=None)
    parser.addini("promote_update_golden", type="bool", help="like --promote-update-golden", default=False)


def _resolve(config: pytest.Config, option: str, ini: str) -> Path | None:
    """Command-line paths are relative to the invocation directory, ini paths to the ini file."""
    value = config.getoption(option)
    if value is not None:
        return (config.invocation_params.dir / value).resolve()
    ini_value = config.getini(ini)
    if ini_value:
        base = config.inipath.parent if config.inipath else config.rootpath
        return (base / _file_path(ini)(ini_value)).resolve()
    return None


# --- session lifecycle ---------------------------------------------------------------------


def _promoting(config: pytest.Config) -> bool:
    return bool(config.getoption("promote"))


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")  # an xdist worker: the controller writes the verdict


def pytest_configure(config: pytest.Config) -> None:
    for marker_help in _MARKER_HELP.values():
        config.addinivalue_line("markers", marker_help)
    if not config.pluginmanager.is_registered(loaders):
        config.pluginmanager.register(loaders, "promote-builtin-loaders")
    if not config.pluginmanager.is_registered(registry_sqlite):
        config.pluginmanager.register(registry_sqlite, "promote-builtin-registry")
    update_golden = config.getoption("promote_update_golden")
    if update_golden and not _promoting(config):
        raise pytest.UsageError("--promote-update-golden rewrites golden files from the candidate; it needs --promote")
    update_golden = config.getini("promote_update_golden") if update_golden is None else update_golden
    paths = SessionPaths(
        rootdir=config.rootpath,
        config=_resolve(config, "promote_config", "promote_config") or config.rootpath / CONFIG_FILENAME,
        verdict_override=_resolve(config, "promote_verdict", "promote_verdict"),
        update_golden=bool(update_golden),
        registry_override=_resolve(config, "promote_registry", "promote_registry"),
        replay=_resolve(config, "promote_replay", "promote_replay"),
    )
    session = PromoteSession(
        paths,
        load_model=lambda spec: config.hook.pytest_promote_load_model(spec=spec),
        command_line=["pytest", *config.invocation_params.args],
        open_registry=lambda path: config.hook.pytest_promote_registry_backend(path=path),
    )
    config.stash[session_key] = session
    if not _promoting(config):
        return
    reports = SideReports(
        markdown=_resolve(config, "promote_markdown", "promote_markdown"),
        html=_resolve(config, "promote_html", "promote_html"),
        step_summary=Path(os.environ["GITHUB_STEP_SUMMARY"]) if os.environ.get("GITHUB_STEP_SUMMARY") else None,
        annotations=os.environ.get("GITHUB_ACTIONS") == "true",
    )
    try:
        if _is_worker(config):
            session.join()
            return
        session.start()
        for stale in (reports.markdown, reports.html):  # an earlier run's report must not outlive its verdict
            if stale is not None:
                remove_stale_verdict(stale)
    except PromoteError as exc:  # the run cannot start: a usage error, after a block verdict where one can be written
        raise pytest.UsageError(str(exc)) from None
    config.pluginmanager.register(VerdictReporter(session, reports), "promote-verdict-reporter")


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    if not _promoting(config):
        return None
    session = config.stash[session_key]
    return [f"promote: config {session.paths.config}, verdict {session.verdict_path}"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _promoting(config):
        return
    skip = pytest.mark.skip(reason="promotion gate: run `pytest --promote` to evaluate it")
    for item in items:
        if _gate_marker(item) is not None:
            item.add_marker(skip)


# --- running gates --------------------------------------------------------------------------


def _gate_marker(item: pytest.Item) -> pytest.Mark | None:
    for name in GATE_MARKERS:
        marker = item.get_closest_marker(name)
        if marker is not None:
            return marker
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    marker = _gate_marker(item)
    if marker is not None and _promoting(item.config):
        session = item.config.stash[session_key]
        item.stash[context_key] = session.gate_context(item.nodeid, marker.name, marker.args, marker.kwargs, item.path)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    result = yield
    context = item.stash.get(context_key, None)
    if context is not None and context.misuse is not None:
        raise GateUsageError(context.misuse)  # the test body caught it; the gate must not count
    if context is not None and not context.measured:
        raise context.nothing_measured()
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    error = call.excinfo.value if call.excinfo is not None else None
    if isinstance(error, PromoteError):
        # our errors carry a complete message; a traceback through the plugin would only bury it
        report.longrepr = f"[{error.code}] {error}"
        report.promote_message = " ".join(report.longrepr.split())  # the whole cause on one line, for the verdict
        if not isinstance(error, (GateFailed, GateUsageError)):
            report.promote_reason = {"code": error.code, "message": str(error)}
    if _promoting(item.config):
        marker = _gate_marker(item)
        if marker is not None:
            context = item.stash.get(context_key, None)
            report.promote_gate = (
                context.record() if context is not None else unmeasured_record(item.nodeid, marker.name, marker.args, marker.kwargs)
            )
            if call.when == "teardown":  # junitxml reads a test case's properties from its teardown report
                report.user_properties.extend(junit_properties(report.promote_gate))
        state = item.config.stash[session_key]
        report.promote_models = state.model_identities()
        report.promote_datasets = state.dataset_identities()
    return report


def _short_message(report: Any) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    text = getattr(report, "promote_message", None)
    if not text:
        lines = [line.strip() for line in report.longreprtext.splitlines() if line.strip()]
        errors = [line[1:].strip() for line in lines if line.startswith("E ")]
        text = errors[-1] if errors else (lines[-1] if lines else report.outcome)
    return text if len(text) <= 500 else text[:497] + "..."


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def candidate(pytestconfig: pytest.Config) -> Any:
    """The candidate model from promote.yaml, loaded once, on first use."""
    return pytestconfig.stash[session_key].models.get("candidate").model


@pytest.fixture(scope="session")
def baseline(pytestconfig: pytest.Config) -> Any:
    """The baseline model from promote.yaml, loaded once, on first use."""
    return pytestconfig.stash[session_key].models.get("baseline").model


@pytest.fixture(scope="session")
def dataset(pytestconfig: pytest.Config) -> Any:
    """``dataset("name")``: a configured dataset with .X, .y, .columns, .column(name), .name, .sha256, .n."""
    return pytestconfig.stash[session_key].datasets.get


@pytest.fixture
def promote(request: pytest.FixtureRequest) -> GateContext:
    """The current gate's context: ``promote.compare(...)`` in a quality gate, ``promote.time(...)`` in a latency
    gate, ``promote.measure(...)``/``promote.record_cost(...)`` in a cost gate, ``promote.check_golden(...)`` in a
    golden gate, ``promote.compare_distributions(...)`` in a drift gate."""
    context = request.node.stash.get(context_key, None)
    if context is None:
        raise GateUsageError(
            f"{request.node.nodeid}: the promote fixture belongs to gate tests; mark the test with @gate.quality(...), "
            "@gate.latency(...), @gate.cost(...), @gate.golden(...) or @gate.drift(...)"
        )
    return context


# --- the verdict --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SideReports:
    """Where the verdict is shown besides its JSON file."""

    markdown: Path | None = None
    html: Path | None = None
    step_summary: Path | None = None  # GITHUB_STEP_SUMMARY: appended to
    annotations: bool = False  # GITHUB_ACTIONS=true: ::error lines for the gates that did not pass


class VerdictReporter:
    """Registered on the process that writes the verdict (not on xdist workers), with --promote."""

    def __init__(self, state: PromoteSession, reports: SideReports) -> None:
        self.state = state
        self.reports = reports
        self.locations: dict[str, tuple[str, int]] = {}  # gate node id -> (file, 1-based line), for annotations
        self.write_failure: str | None = None  # why no verdict could be written at all

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.state.collector.add_collection_error(report.nodeid, _short_message(report))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if getattr(report, "promote_gate", None) is not None:
            path, line, _ = report.location
            self.locations[report.nodeid] = (path, (line or 0) + 1)
        reason = getattr(report, "promote_reason", None)
        self.state.collector.add(
            TestPhase(
                node_id=report.nodeid,
                when=report.when,
                outcome=report.outcome,
                message=_short_message(report) if report.outcome != "passed" else None,
                gate=getattr(report, "promote_gate", None),
                reason=Reason(reason["code"], reason["message"]) if reason else None,
                models=getattr(report, "promote_models", {}),
                datasets=getattr(report, "promote_datasets", {}),
            )
        )

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem: str, report: Any, sched: Any) -> None:
        """pytest-xdist: a worker died while running ``crashitem``; that test's result is lost."""
        self.state.collector.add_reason(
            Reason("worker_crashed", f"a pytest-xdist worker crashed while running {crashitem}; its result is lost")
        )

    @pytest.hookimpl(tryfirst=True)  # before the terminal reporter prints the summary, and before junitxml writes
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        outcome = {
            "interrupted": exitstatus == pytest.ExitCode.INTERRUPTED or bool(session.shouldstop),
            "exit_status": int(exitstatus),
            "internal_error": exitstatus == pytest.ExitCode.INTERNAL_ERROR,
        }
        try:
            verdict = self.state.finish(**outcome)
            problem = self.state.write_side_reports(self.reports.markdown, self.reports.html, self.reports.step_summary)
            if problem is not None:  # a report that was asked for and is missing: the run cannot promote
                self.state.collector.add_reason(problem)
                verdict = self.state.finish(**outcome)
        except OSError as exc:  # no verdict file at all: say so plainly; a missing verdict never promotes
            self.write_failure = (
                f"pytest-promote: the verdict could not be written to {self.state.verdict_path} ({exc.strerror or exc}); "
                "this run has no verdict and cannot promote"
            )
            if session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
            return
        except BaseException as exc:
            self.state.write_block(Reason("internal_error", f"writing the verdict failed: {type(exc).__name__}: {exc}"))
            raise
        _junit_decision(session.config, verdict["decision"])
        if verdict["decision"] != "promote" and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.write_failure is not None:
            terminalreporter.section("promotion gates")
            terminalreporter.write_line(self.write_failure, red=True, bold=True)
            return
        if self.state.verdict is None:
            return
        terminalreporter.section("promotion gates")
        for line in summary_lines(self.state.verdict, str(self.state.verdict_path)):
            terminalreporter.write_line(line, bold=line.startswith("decision"))
        if self.reports.annotations:
            for line in github_annotations(self.state.verdict, self.locations):
                terminalreporter.write_line(line)


def _junit_decision(config: pytest.Config, decision: str) -> None:
    """``promote.decision`` on the JUnit test suite, when --junitxml is on (what record_testsuite_property does)."""
    try:
        from _pytest.junitxml import xml_key
    except ImportError:  # pragma: no cover - a pytest without it writes no suite properties
        return
    xml = config.stash.get(xml_key, None)
    if xml is not None:
        xml.add_global_property("promote.decision", decision)
