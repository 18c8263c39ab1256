"""Fail closed: every fault ends in ``block`` (or in no verdict at all), never in ``promote``.

One table, one test. Each :class:`Fault` builds a project from ``make_project(models="toy")``,
breaks one thing, and says which reason code the verdict must carry and what its message
must name. :func:`test_fault_fails_closed` runs ``pytest --promote`` in a subprocess and
asserts, uniformly:

* the exit status is not 0;
* no Python traceback is printed (the plugin reports its faults as clean messages);
* the verdict file exists, matches the shipped schema, decides ``block``, carries one of
  the expected reason codes with a message naming the cause (file, key or gate), and every
  reason message is one line;
* or, for the faults where no verdict can be written (the verdict directory cannot be
  created or written, the process is killed), there is no verdict file, and a line of the
  output names the cause (a killed process names nothing: there, no verdict is the property).

A few faults are not one plain ``pytest --promote`` run: two concurrent sessions on the same
verdict path, a stale verdict in a directory that became read-only, a tampered signed verdict
(refused by ``pytest-promote promote``, not by pytest). They bring their own ``execute`` and
report an :class:`Outcome` checked by the same assertions; each one's docstring says what
fail-closed means for it. (The registry lock is held by this process during a plain run.)
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest

from .conftest import ACCURACY_GATE, FEATURES, QUIET_PLUGINS, XDIST, gate_source

TRACEBACK = "Traceback (most recent call last)"
PROBA = "model.predict_proba(data.X)"
NP = "__import__('numpy')"

HAS_XDIST = importlib.util.find_spec("xdist") is not None


# --- the table's vocabulary ----------------------------------------------------------------------------


@dataclass
class Outcome:
    """What a run left behind: its exit status, everything it printed, the verdict file (None: no file)."""

    ret: int
    output: str
    verdict: dict | None
    validate: bool = True  # a pytest verdict: check it against the shipped schema


@dataclass
class Run:
    """How to run a fault's project: extra pytest arguments and environment, or a whole ``execute``."""

    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    verdict_path: Path | None = None  # where the verdict is read from (default: the project's)
    execute: Callable[[], Outcome] | None = None  # a run that is not one plain pytest subprocess


@dataclass
class Setup:
    """What a fault's setup function gets: the project factory and a way to undo what it did."""

    make_project: Callable[..., Any]
    request: pytest.FixtureRequest
    monkeypatch: pytest.MonkeyPatch
    current: Any = None  # the project made last: the one that runs

    def project(self, **kwargs: Any) -> Any:
        self.current = self.make_project(models="toy", **kwargs)
        return self.current

    def cleanup(self, function: Callable[[], None]) -> None:
        self.request.addfinalizer(function)


@dataclass(frozen=True)
class Fault:
    """One fault: ``setup`` builds the broken project and returns the :class:`Run`; the verdict
    must carry one of ``codes`` with a message containing every string of ``says``. With
    ``written=False`` no verdict can exist, and a line of the output must contain ``says``."""

    id: str
    setup: Callable[[Setup], Run]
    codes: tuple[str, ...]
    says: tuple[str, ...]
    written: bool = True
    exit: int | None = None  # the exact exit status, where the README documents it
    marks: tuple = ()


def one_line(text: str) -> bool:
    return "\n" not in text and "\r" not in text and bool(text.strip())


# --- running -------------------------------------------------------------------------------------------


def pytest_command(project: Any, *args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", *QUIET_PLUGINS, "--promote", *args]


def subprocess_env(project: Any, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Like pytester's subprocess: the project folder importable (the toy models' pickles refer to ``toymodels``)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(project.path), env.get("PYTHONPATH", "")]))
    env.pop("PYTEST_ADDOPTS", None)
    env.update(extra or {})
    return env


def read_verdict(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def run_pytest(project: Any, run: Run) -> Outcome:
    result = project.run("--promote", *run.args)
    return Outcome(result.ret, result.stdout.str() + "\n" + result.stderr.str(), read_verdict(run.verdict_path or project.verdict_path))


# --- projects ------------------------------------------------------------------------------------------

LOADERS = '''
import pickle
from pathlib import Path

HERE = Path(__file__).parent


def baseline():
    return pickle.loads((HERE / "models" / "baseline.pkl").read_bytes())


def raising():
    raise RuntimeError("weights server unreachable")


def raising_multiline():
    raise RuntimeError("weights server unreachable\\n  retried 3 times\\n  last status: 503")


def returns_none():
    return None


class BrokenPredict:
    def predict(self, X):
        raise ValueError("model expects 12 features, got 8")

    predict_proba = predict


def broken_predict():
    return BrokenPredict()
'''


def loader_project(s: Setup, candidate: str, tests: str = ACCURACY_GATE) -> Any:
    project = s.project(tests=tests)
    project.use_loaders("loaders", LOADERS, candidate, "baseline")
    return project


def plain(env: dict[str, str] | None = None, **project: Any) -> Callable[[Setup], Run]:
    """``make_project(models="toy", **project)``, run with ``env`` added."""

    def setup(s: Setup) -> Run:
        s.project(**project)
        return Run(env=env or {})

    return setup


def loader(candidate: str, tests: str = ACCURACY_GATE) -> Callable[[Setup], Run]:
    def setup(s: Setup) -> Run:
        loader_project(s, candidate, tests)
        return Run()

    return setup


def loader_module_missing(s: Setup) -> Run:
    project = loader_project(s, "raising")
    (project.path / "loaders.py").unlink()
    return Run()


def config_fault(overrides: dict) -> Callable[[Setup], Run]:
    def setup(s: Setup) -> Run:
        s.project(config=overrides)
        return Run()

    return setup


def quality_gate(predict: str, metric: str = "accuracy", rule: str = "min_delta=0", dataset: str = "holdout") -> str:
    return gate_source("test_gate", f'gate.quality("{metric}", {rule})', predict=predict, dataset=dataset)


def csv_text(header: list[str], rows: list[list[Any]]) -> bytes:
    return ("\n".join(",".join(map(str, row)) for row in [header, *rows]) + "\n").encode()


def with_dataset(name: str, data: bytes, tests: str) -> Callable[[Setup], Run]:
    """A gate on dataset ``name``: ``data/<name>.csv`` holding ``data`` (unpinned)."""

    def setup(s: Setup) -> Run:
        project = s.project(tests=tests)
        project.write_bytes(f"data/{name}.csv", data)
        project.update_config({"datasets": {name: {"path": f"data/{name}.csv", "target": "label"}}})
        return Run()

    return setup


def single_class(s: Setup) -> Run:
    import numpy as np

    project = s.project(tests=quality_gate(f"{PROBA}[:, 1]", "roc_auc", "threshold=0.5"))
    project.use_table("holdout", "data/holdout.csv", labels=np.zeros(len(project.artifacts.y), dtype=int))
    return Run()


def stale_data(s: Setup) -> Run:
    project = s.project(config={"datasets": {"holdout": {"max_age": "1d"}}})
    stamp = time.time() - 10 * 86400
    os.utime(project.path / "data" / "holdout.csv", (stamp, stamp))
    return Run()


def contract_violation(s: Setup) -> Run:
    s.project(config={"datasets": {"holdout": {"schema": {"label": {"type": "int", "allowed": [0]}}}}})
    return Run()


def hash_mismatch(s: Setup) -> Run:
    project = s.project()
    project.write_model("models/candidate.pkl", "weak", "toy")  # the pin still names the good model's bytes
    return Run()


def dataset_hash_mismatch(s: Setup) -> Run:
    project = s.project()
    path = project.path / "data" / "holdout.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n", 1))
    return Run()


GOLDEN_GATE = """
@gate.golden("golden/cases.jsonl", atol=1e-6)
def test_golden(promote):
    promote.check_golden(lambda model, inputs: model.predict_proba(inputs))
"""


def golden(text: str | None) -> Callable[[Setup], Run]:
    def setup(s: Setup) -> Run:
        project = s.project(tests=GOLDEN_GATE)
        if text is not None:
            (project.path / "golden").mkdir()
            (project.path / "golden" / "cases.jsonl").write_text(text)
        return Run()

    return setup


def _golden_line(case_id: str) -> str:
    row = [0.1] * len(FEATURES)
    return json.dumps({"id": case_id, "input": [row], "expected": [[0.5, 0.5]]}) + "\n"


# --- gate bodies that measure nothing, twice, or hide an error ------------------------------------------


def gate_body(body: str) -> str:
    """The quality gate ``test_gate`` (accuracy, ``min_delta=0``) running ``body``, with ``data`` the hold-out set."""
    head = '@gate.quality("accuracy", min_delta=0)\ndef test_gate(promote, dataset):\n    data = dataset("holdout")\n'
    return head + textwrap.indent(textwrap.dedent(body), "    ")


COMPARE = "promote.compare(lambda model: model.predict(data.X), data.y)\n"
NO_COMPARE = gate_body("assert data.n > 0\n")
TWO_COMPARES = gate_body(COMPARE + COMPARE)
SECOND_COMPARE_SWALLOWED = gate_body(COMPARE + "try:\n    " + COMPARE + "except Exception:\n    pass\n")
FAILED_COMPARE_SWALLOWED = gate_body(  # inverted predictions: the candidate is far worse, the rule fails
    "try:\n    promote.compare(lambda model: 1 - model.predict(data.X), data.y)\nexcept Exception:\n    pass\n"
)
BAD_INPUT_SWALLOWED_THEN_RETRIED = gate_body(
    "try:\n    promote.compare(lambda model: model.predict(data.X)[:-5], data.y)\nexcept Exception:\n    pass\n" + COMPARE
)


# --- the session itself ------------------------------------------------------------------------------


INTERRUPT = ACCURACY_GATE + """
def test_operator_presses_ctrl_c():
    raise KeyboardInterrupt
"""

CRASH = ACCURACY_GATE + """
import os

def test_segfaulting_extension():
    os._exit(1)
"""


def worker_crash(s: Setup) -> Run:
    s.project(tests=CRASH)
    return Run(args=XDIST)


def stale_promote_then_killed(s: Setup) -> Run:
    """An earlier run promoted; this one is killed mid-session (os._exit): the stale ``promote``
    must not survive it. Nothing is left to print the cause: the property is that no verdict is."""
    project = s.project()
    first = project.run("--promote")
    assert first.ret == 0 and project.verdict()["decision"] == "promote", first.stdout.str()
    project.write_tests(CRASH)
    return Run()


def stale_promote_then_config_error(s: Setup) -> Run:
    """An earlier run promoted at the configured verdict path; promote.yaml then breaks (valid YAML)."""
    project = s.project(config={"verdict": "out/verdict.json"})
    first = project.run("--promote")
    assert first.ret == 0 and project.verdict(project.path / "out" / "verdict.json")["decision"] == "promote"
    project.update_config({"seed": "abc"})
    return Run(verdict_path=project.path / "out" / "verdict.json")


def stale_promote_then_invalid_yaml(s: Setup) -> Run:
    """As above, but the config no longer parses: the verdict path it names cannot be read from it.
    Whatever the plugin does, the file a pipeline reads (``out/verdict.json``) must not say promote."""
    project = s.project(config={"verdict": "out/verdict.json"})
    first = project.run("--promote")
    assert first.ret == 0 and project.verdict(project.path / "out" / "verdict.json")["decision"] == "promote"
    project.config_path.write_text(project.config_path.read_text() + "bootstrap: {resamples: [unclosed\n")
    return Run(verdict_path=project.path / "out" / "verdict.json")


def verdict_dir_uncreatable(s: Setup) -> Run:
    """``--promote-verdict`` in a missing directory that cannot be created (a file is in the way)."""
    project = s.project()
    (project.path / "reports").write_text("a file, not a directory\n")
    target = project.path / "reports" / "verdict.json"
    return Run(args=("--promote-verdict", str(target)), verdict_path=target)


def make_read_only(s: Setup, directory: Path) -> None:
    """Read-only for this process: ``chmod 555``, or for root (which ignores modes) the immutable attribute."""
    if os.geteuid() != 0:
        directory.chmod(0o555)
        s.cleanup(lambda: directory.chmod(0o755))
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(directory)], capture_output=True).returncode != 0:
        pytest.skip("running as root and cannot make a directory immutable (chattr +i)")
    s.cleanup(lambda: subprocess.run([chattr, "-i", str(directory)], check=True))
    probe = directory / "probe"
    try:
        probe.write_text("x")
    except OSError:
        return
    probe.unlink()
    pytest.skip("the directory stayed writable")


def verdict_dir_read_only(s: Setup) -> Run:
    project = s.project()
    directory = project.path / "reports"
    directory.mkdir()
    make_read_only(s, directory)
    return Run(args=("--promote-verdict", str(directory / "verdict.json")), verdict_path=directory / "verdict.json")


def verdict_dir_read_only_with_stale_promote(s: Setup) -> Run:
    """An earlier run promoted into a directory that has since become read-only. Nothing can remove
    that file, so fail closed means refusing loudly: a non-zero exit and a clean line naming the
    file. The run can write nothing (checked: the file keeps its old bytes), so the Outcome
    carries no verdict."""
    project = s.project()
    directory = project.path / "reports"
    target = directory / "verdict.json"
    first = project.run("--promote", "--promote-verdict", str(target))
    assert first.ret == 0 and project.verdict(target)["decision"] == "promote"
    old = target.read_bytes()
    make_read_only(s, directory)

    def execute() -> Outcome:
        result = project.run("--promote", "--promote-verdict", str(target))
        assert target.read_bytes() == old  # nothing could be written there
        # the stale promote is still on disk (nothing can remove it); the run must not have passed it off as its own
        return Outcome(result.ret, result.stdout.str() + "\n" + result.stderr.str(), None)

    return Run(execute=execute)


SABOTAGE = """
import os
import time

@gate.quality("accuracy", min_delta=0)
def test_accuracy(promote, dataset):
    data = dataset("holdout")
    if os.environ.get("SABOTAGE_GATE"):
        time.sleep(3)  # finish last: this session writes the verdict after the promoting one
        promote.compare(lambda model: 1 - model.predict(data.X), data.y, dataset="holdout")
    else:
        promote.compare(lambda model: model.predict(data.X), data.y, dataset="holdout")
"""


def concurrent_sessions(s: Setup) -> Run:
    """Two ``pytest --promote`` sessions at once on one project and one verdict path. Session A
    (honest) promotes in about a second; session B (``SABOTAGE_GATE``: its gate sees inverted
    predictions) blocks, and writes last.

    Fail closed here means: each session's exit status matches its own decision; the file is,
    whenever it exists (polled every few ms during the race), complete JSON whose decision its
    own reasons justify (``promote`` exactly when there are none), i.e. never a torn or mixed
    file; and after the race it is the last writer's verdict, so it says ``block``. The Outcome
    is session B's exit status and the file on disk."""
    project = s.project(tests=SABOTAGE)

    def execute() -> Outcome:
        seen: list[str] = []  # the decisions the file held, in order (consecutive repeats collapsed)
        problems: list[BaseException] = []
        done = threading.Event()

        def look() -> None:
            try:
                text = project.verdict_path.read_text()
            except FileNotFoundError:
                return
            verdict = json.loads(text)  # a torn or mixed file fails here
            assert (verdict["decision"] == "promote") == (verdict["reasons"] == []), verdict["reasons"]
            if not seen or seen[-1] != verdict["decision"]:
                seen.append(verdict["decision"])

        def watch() -> None:
            try:
                while not done.is_set():
                    look()
                    time.sleep(0.005)
            except BaseException as exc:  # an assertion in this thread would otherwise be lost
                problems.append(exc)

        watcher = threading.Thread(target=watch)
        sessions = {
            name: subprocess.Popen(
                pytest_command(project), cwd=project.path, env=subprocess_env(project, env),
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            )  # fmt: skip
            for name, env in (("A", {}), ("B", {"SABOTAGE_GATE": "1"}))
        }
        watcher.start()
        try:
            outputs = {name: process.communicate(timeout=120)[0] for name, process in sessions.items()}
        finally:
            done.set()
            watcher.join()
        look()
        assert not problems, problems
        a, b = sessions["A"], sessions["B"]
        assert a.returncode == 0 and "decision: PROMOTE" in outputs["A"], outputs["A"]
        assert b.returncode == 1 and "decision: BLOCK" in outputs["B"], outputs["B"]
        assert seen == ["promote", "block"], seen  # A's verdict, then B's replacing it whole
        assert [p.name for p in project.path.iterdir() if p.name.endswith(".tmp")] == []
        return Outcome(b.returncode, outputs["A"] + outputs["B"], read_verdict(project.verdict_path))

    return Run(execute=execute)


# --- the registry --------------------------------------------------------------------------------------

CARD = {"intended_use": "Flag transactions for review.", "limitations": "Synthetic data only.", "owners": ["fraud-team"]}
REGISTRY_MODELS = {
    "candidate": {"path": None, "sha256": None, "registry": "fraud@candidate"},
    "baseline": {"path": None, "sha256": None, "registry": "fraud@production"},
}


def cli(project: Any, *args: str, code: int = 0, env: dict | None = None) -> subprocess.CompletedProcess:
    completed = subprocess.run(
        [sys.executable, "-m", "pytest_promote", *args],
        cwd=project.path, capture_output=True, text=True, timeout=60, env=subprocess_env(project, env),
    )  # fmt: skip
    assert completed.returncode == code, f"exit {completed.returncode}\n{completed.stdout}\n{completed.stderr}"
    return completed


def registered(s: Setup, *, candidate: str = "fraud@candidate") -> Any:
    """weak in production as fraud@1, good registered as fraud@2 under the alias ``candidate``."""
    s.monkeypatch.delenv("PROMOTE_SIGNING_KEY", raising=False)
    models = {**REGISTRY_MODELS, "candidate": {**REGISTRY_MODELS["candidate"], "registry": candidate}}
    project = s.project(config={"models": models, "card": CARD})
    cli(project, "register", "fraud", "models/baseline.pkl", "--by", "alice")
    cli(project, "promote", "fraud@1", "--to", "production", "--initial")
    cli(project, "register", "fraud", "models/candidate.pkl", "--alias", "candidate", "--by", "alice")
    return project


def registry_unknown_alias(s: Setup) -> Run:
    registered(s, candidate="fraud@staging")
    return Run()


def registry_missing(s: Setup) -> Run:
    s.project(config={"models": REGISTRY_MODELS})
    return Run()


def registry_corrupted_artifact(s: Setup) -> Run:
    project = registered(s)
    digest = project.shas["models/candidate.pkl"]
    artifact = project.path / ".promote" / "artifacts" / "sha256" / digest[:2] / digest
    artifact.chmod(0o644)
    artifact.write_bytes(artifact.read_bytes()[:-1] + b"\x00")
    return Run()


SHORT_BUSY_TIMEOUT = """
import pytest_promote.registry.sqlite as backend

backend.BUSY_TIMEOUT_S = 1.0  # the default waits a minute for a lock before giving up
"""


def hold_registry_lock(s: Setup, project: Any, *, release_after: float | None) -> None:
    """Another process's view: an exclusive transaction on the registry database, held until
    the test ends or for ``release_after`` seconds."""
    holder = sqlite3.connect(project.path / ".promote" / "registry.db", isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")

    def release() -> None:
        if holder.in_transaction:
            holder.execute("ROLLBACK")

    if release_after is not None:
        timer = threading.Timer(release_after, release)
        timer.start()
        s.cleanup(timer.cancel)
    s.cleanup(holder.close)
    s.cleanup(release)


def registry_locked(s: Setup) -> Run:
    """The lock is held for the whole run; the project's conftest shortens the backend's busy
    timeout (60 s) to 1 s so the run gives up quickly: a locked registry must block, naming it."""
    project = registered(s)
    (project.path / "conftest.py").write_text(SHORT_BUSY_TIMEOUT)
    hold_registry_lock(s, project, release_after=None)
    return Run()


def tampered_signed_verdict(s: Setup) -> Run:
    """A signed ``promote`` verdict edited by hand (a warning removed): ``pytest-promote promote``
    must refuse it (exit 1, ``[FAIL] verdict_signature``) and leave production where it was.
    The Outcome's "verdict" is the refusal: one reason per ``[FAIL]`` line of the checklist."""
    project = registered(s)
    key = {"PROMOTE_SIGNING_KEY": "s3cret"}
    s.monkeypatch.setenv("PROMOTE_SIGNING_KEY", "s3cret")
    assert project.run("--promote").ret == 0
    verdict = project.verdict()
    assert verdict["signature"]["algorithm"] == "hmac-sha256"
    (project.path / "tampered.json").write_text(json.dumps(dict(verdict, warnings=["edited by hand"])))

    def execute() -> Outcome:
        refused = cli(project, "promote", "fraud@2", "--to", "production", "--verdict", "tampered.json", code=1, env=key)
        fails = [re.match(r"\s*\[FAIL\] (\w+): (.*)$", line) for line in refused.stdout.splitlines()]
        reasons = [{"code": m.group(1), "message": m.group(2)} for m in fails if m]
        production = json.loads(cli(project, "show", "fraud", "--json", env=key).stdout)["aliases"]["production"]
        assert production == 1, "a refused promotion changed production"
        refusal = {"decision": "block", "reasons": reasons}
        return Outcome(refused.returncode, refused.stdout + refused.stderr, refusal, validate=False)

    return Run(execute=execute)


# --- the table ------------------------------------------------------------------------------------------


CONFIG = ("config_error",)

WRONG_TYPES = [
    # (key path, overrides, the message must name)
    ("seed-string", {"seed": "abc"}, "seed: expected a non-negative integer"),
    ("seed-float", {"seed": 1.5}, "seed: expected a non-negative integer"),
    ("seed-bool", {"seed": True}, "seed: expected a non-negative integer"),
    ("seed-negative", {"seed": -1}, "seed: expected a non-negative integer"),
    ("alpha-string", {"alpha": "0.05"}, "alpha: expected a number"),
    ("alpha-list", {"alpha": [0.05]}, "alpha: expected a number"),
    ("bootstrap-list", {"bootstrap": [1000]}, "bootstrap: expected a mapping"),
    ("bootstrap.resamples-string", {"bootstrap": {"resamples": "many"}}, "bootstrap.resamples: expected an integer"),
    ("bootstrap.resamples-float", {"bootstrap": {"resamples": 1000.0}}, "bootstrap.resamples: expected an integer"),
    ("bootstrap.method-int", {"bootstrap": {"method": 5}}, "bootstrap.method: expected one of"),
    ("bootstrap.method-list", {"bootstrap": {"method": ["bca"]}}, "bootstrap.method: expected one of"),
    ("bootstrap.memory_mb-string", {"bootstrap": {"memory_mb": "256"}}, "bootstrap.memory_mb: expected an integer"),
    ("bootstrap.memory_mb-bool", {"bootstrap": {"memory_mb": True}}, "bootstrap.memory_mb: expected an integer"),
    ("bootstrap.threads-string", {"bootstrap": {"threads": "many"}}, "bootstrap.threads: expected 'auto'"),
    ("models.candidate-string", {"models": {"candidate": "models/candidate.pkl"}}, "models.candidate: expected a mapping"),
    ("models.candidate.sha256-int", {"models": {"candidate": {"sha256": 12345}}}, "models.candidate.sha256: expected 64 hex"),
    ("models.candidate.path-int", {"models": {"candidate": {"path": 5}}}, "models.candidate.path: expected a file path"),
    ("datasets.holdout.path-int", {"datasets": {"holdout": {"path": 5}}}, "datasets.holdout.path: expected a file path"),
    ("datasets.holdout.path-list", {"datasets": {"holdout": {"path": ["a.csv"]}}}, "datasets.holdout.path: expected a file path"),
    ("datasets.holdout.target-int", {"datasets": {"holdout": {"target": 5}}}, "datasets.holdout.target"),
    ("verdict-int", {"verdict": 5}, "verdict: expected a file path"),
    ("verdict-list", {"verdict": ["v.json"]}, "verdict: expected a file path"),
    ("require-bool", {"require": True}, "require: expected a mapping"),
    ("require.git_clean-string", {"require": {"git_clean": "yes"}}, "require.git_clean: expected true or false"),
    ("approvals.required-string", {"approvals": {"required": "ds-lead"}}, "approvals.required: expected a list"),
    ("card.owners-string", {"card": {"owners": "alice"}}, "card.owners: expected a list"),
    ("registry.path-int", {"registry": {"path": 5}}, "registry.path: expected a file path"),
]

FAULTS: list[Fault] = [
    # --- configuration: exit 4, a block verdict with config_error naming the key ---
    Fault(
        "malformed-yaml",
        plain(yaml_text="version: 1\nmodels: {candidate: [unclosed\n"),
        CONFIG, ("promote.yaml", "invalid YAML at line"), exit=4,
    ),  # fmt: skip
    *[Fault(f"wrong-type-{name}", config_fault(overrides), CONFIG, ("promote.yaml", says), exit=4) for name, overrides, says in WRONG_TYPES],
    Fault(
        "blank-signing-key",
        plain(env={"PROMOTE_SIGNING_KEY": "  "}),
        CONFIG, ("PROMOTE_SIGNING_KEY", "is set but empty"), exit=4,
    ),  # fmt: skip
    # --- models ---
    Fault("missing-model-file", config_fault({"models": {"candidate": {"path": "models/gone.pkl"}}}), CONFIG,
          ("models.candidate.path: file not found", "gone.pkl"), exit=4),  # fmt: skip
    Fault("model-hash-mismatch", hash_mismatch, ("model_error",), ("models.candidate", "sha256 mismatch")),
    Fault("unpinned-pickle", plain(tests=ACCURACY_GATE, pin=False), ("model_error",), ("models.candidate", "not pinned", "sha256")),
    Fault("loader-raises", loader("raising"), ("model_error",),
          ("models.candidate", "loader:loaders:raising", "RuntimeError: weights server unreachable")),  # fmt: skip
    Fault("loader-raises-multiline-error", loader("raising_multiline"), ("model_error",),
          ("models.candidate", "RuntimeError: weights server unreachable")),  # fmt: skip
    Fault("loader-returns-none", loader("returns_none"), ("model_error",),
          ("models.candidate", "returned None")),  # fmt: skip
    Fault("loader-module-missing", loader_module_missing,
          ("model_error",), ("models.candidate", "loaders")),  # fmt: skip
    Fault("predict-raises", loader("broken_predict"), ("gate_error",),
          ("test_gates.py::test_accuracy", "model expects 12 features")),  # fmt: skip
    # --- data ---
    Fault("missing-dataset", config_fault({"datasets": {"holdout": {"path": "data/gone.csv"}}}), CONFIG,
          ("datasets.holdout.path: file not found", "gone.csv"), exit=4),  # fmt: skip
    Fault("dataset-hash-mismatch", dataset_hash_mismatch, ("data_error",), ("datasets.holdout", "sha256")),
    # a header and no rows loads as 0 rows; the gate refuses them (bad_input naming the gate, not the file)
    Fault("empty-dataset", with_dataset("empty", csv_text([*FEATURES, "label"], []), quality_gate("model.predict(data.X)", dataset="empty")),
          ("data_error", "bad_input"), ("test_gates.py::test_gate", "got 0")),  # fmt: skip
    Fault("empty-dataset-file", with_dataset("empty", b"", quality_gate("model.predict(data.X)", dataset="empty")),
          ("data_error",), ("datasets.empty", "empty.csv", "the file is empty")),  # fmt: skip
    Fault("ragged-csv-row", with_dataset("ragged", csv_text([*FEATURES, "label"], [[0.1] * 8 + [1], [0.2, 1]]),
                                         quality_gate("model.predict(data.X)", dataset="ragged")),
          ("data_error",), ("ragged.csv", "line 3")),  # fmt: skip
    Fault("missing-target-column", config_fault({"datasets": {"holdout": {"target": "outcome"}}}), ("data_error", "config_error"),
          ("datasets.holdout", "outcome")),  # fmt: skip
    Fault("contract-violation", contract_violation, ("contract_violation",), ("datasets.holdout", "column 'label'", "not in allowed")),
    Fault("stale-data", stale_data, ("stale_data",), ("datasets.holdout", "is stale", "max_age 1d")),
    # --- predictions a metric cannot use ---
    Fault("nan-predictions", plain(tests=quality_gate(f"{NP}.where({NP}.arange(len(data.y)) % 100 == 0, float('nan'), {PROBA}[:, 1])", "roc_auc")),
          ("bad_input",), ("test_gates.py::test_gate", "NaN")),  # fmt: skip
    Fault("predictions-wrong-length", plain(tests=quality_gate("model.predict(data.X)[:-5]")), ("bad_input",),
          ("test_gates.py::test_gate", "1995")),  # fmt: skip
    Fault("probabilities-outside-0-1", plain(tests=quality_gate(f"{PROBA} * 2", "log_loss")), ("bad_input",),
          ("test_gates.py::test_gate",)),  # fmt: skip
    Fault("single-class-auc", single_class, ("bad_input",), ("test_gates.py::test_gate", "class")),
    # --- gates that measured nothing, or twice ---
    Fault("gate-without-compare", plain(tests=NO_COMPARE),
          ("gate_error",), ("test_gates.py::test_gate", "measured nothing", "promote.compare")),  # fmt: skip
    Fault("two-compare-calls", plain(tests=TWO_COMPARES), ("gate_error",), ("test_gates.py::test_gate", "called twice")),  # fmt: skip
    Fault("two-compare-calls-second-swallowed", plain(tests=SECOND_COMPARE_SWALLOWED), ("gate_error",), ("test_gates.py::test_gate", "twice")),  # fmt: skip
    Fault("failing-compare-swallowed", plain(tests=FAILED_COMPARE_SWALLOWED), ("gate_failed",), ("test_gates.py::test_gate", "lower confidence bound of delta")),  # fmt: skip
    Fault("bad-input-swallowed-then-retried", plain(tests=BAD_INPUT_SWALLOWED_THEN_RETRIED), ("gate_error", "bad_input"), ("test_gates.py::test_gate",)),  # fmt: skip
    Fault("gate-marker-without-rule", plain(tests=quality_gate("model.predict(data.X)", rule="severity='block'")), ("gate_error",),
          ("test_gates.py::test_gate",)),  # fmt: skip
    Fault("no-gates", plain(tests="def test_plain():\n    assert True\n"), ("no_gates",), ("no blocking promotion gate",)),
    Fault("failing-ordinary-test", plain(tests=ACCURACY_GATE + "\ndef test_plain():\n    assert 1 == 2\n"), ("test_failed",), ("test_plain",)),
    Fault("collection-error", plain(tests={"test_gates.py": ACCURACY_GATE, "test_broken.py": "def test_broken(:\n"}),
          ("collection_error",), ("test_broken.py",)),  # fmt: skip
    Fault("unauditable-outside-git", config_fault({"require": {"git_clean": True}}), ("unauditable",), ("require.git_clean", "git")),
    # --- golden files ---
    Fault("golden-malformed-line", golden(_golden_line("a") + '{"id": "b", "input": [[0.1]], \n' + _golden_line("c")), ("golden_error",),
          ("cases.jsonl", "line 2", "invalid JSON")),  # fmt: skip
    Fault("golden-missing-file", golden(None), ("golden_error",), ("cases.jsonl", "not found")),  # fmt: skip
    # --- the session ---
    Fault("keyboard-interrupt", plain(tests=INTERRUPT), ("interrupted",), ("interrupted",), exit=2),
    Fault("worker-crash-xdist-blocks", worker_crash, ("worker_crashed", "test_failed"), ("test_segfaulting_extension",),
          marks=(pytest.mark.skipif(not HAS_XDIST, reason="needs pytest-xdist"),)),  # fmt: skip
    Fault("worker-crash-xdist-reason", worker_crash, ("worker_crashed",), ("test_gates.py::test_segfaulting_extension", "crashed"),
          marks=(pytest.mark.skipif(not HAS_XDIST, reason="needs pytest-xdist"),)),  # fmt: skip
    Fault("stale-promote-then-killed", stale_promote_then_killed, (), (), written=False),
    Fault("stale-promote-then-config-error", stale_promote_then_config_error, CONFIG, ("seed",), exit=4),
    Fault("stale-promote-then-invalid-yaml", stale_promote_then_invalid_yaml, CONFIG, ("invalid YAML",), exit=4),  # fmt: skip
    Fault("concurrent-sessions-same-verdict", concurrent_sessions, ("gate_failed",), ("test_gates.py::test_accuracy",)),
    # --- where the verdict goes ---
    Fault("verdict-dir-uncreatable", verdict_dir_uncreatable, (), ("reports",), written=False),  # fmt: skip
    Fault("verdict-dir-read-only", verdict_dir_read_only, (), ("reports",), written=False),  # fmt: skip
    Fault("verdict-dir-read-only-stale-promote", verdict_dir_read_only_with_stale_promote, (), ("verdict.json",), written=False),  # fmt: skip
    # --- the registry ---
    Fault("registry-missing", registry_missing, ("registry_error",), ("fraud@candidate", "no model registry")),
    Fault("registry-unknown-alias", registry_unknown_alias, ("registry_error",), ("fraud@staging",)),
    Fault("registry-corrupted-artifact", registry_corrupted_artifact, ("registry_error",), ("fraud@candidate",)),
    Fault("registry-locked", registry_locked, ("registry_error",), ("registry.db", "locked")),
    Fault("tampered-signed-verdict", tampered_signed_verdict, ("verdict_signature",), ("signature does not match",), exit=1),
]


@pytest.mark.parametrize("fault", [pytest.param(f, id=f.id, marks=f.marks) for f in FAULTS])
def test_fault_fails_closed(fault: Fault, make_project, request, monkeypatch, verdict_validator):
    monkeypatch.delenv("PROMOTE_SIGNING_KEY", raising=False)
    setup = Setup(make_project, request, monkeypatch)
    run = fault.setup(setup)
    for name, value in run.env.items():
        monkeypatch.setenv(name, value)

    outcome = run.execute() if run.execute is not None else run_pytest(setup.current, run)

    assert outcome.ret != 0, outcome.output
    if fault.exit is not None:
        assert outcome.ret == fault.exit, outcome.output
    assert TRACEBACK not in outcome.output, outcome.output
    if not fault.written:
        assert outcome.verdict is None, outcome.verdict
        if fault.says:
            naming = [line for line in outcome.output.splitlines() if all(part in line for part in fault.says)]
            assert naming, f"no output line names {fault.says}:\n{outcome.output}"
        return
    verdict = outcome.verdict
    assert verdict is not None, f"no verdict was written:\n{outcome.output}"
    if outcome.validate:
        verdict_validator.validate(verdict)
    assert verdict["decision"] == "block", verdict["reasons"]
    assert all(one_line(reason["message"]) for reason in verdict["reasons"]), verdict["reasons"]
    matching = [reason for reason in verdict["reasons"] if reason["code"] in fault.codes]
    assert matching, f"expected a reason {fault.codes}, got {verdict['reasons']}"
    assert any(all(part in reason["message"] for part in fault.says) for reason in matching), (fault.says, matching)


# --- the same situations, where they are not faults ------------------------------------------------------


def test_a_briefly_locked_registry_is_waited_for_and_decides(make_project, request, monkeypatch):
    """With the default busy timeout (60 s) a lock released after 3 s only delays the run: it
    resolves both registry models and promotes, as it would have without the lock."""
    setup = Setup(make_project, request, monkeypatch)
    project = registered(setup)
    hold_registry_lock(setup, project, release_after=3.0)
    started = time.monotonic()

    result = project.run("--promote")

    assert result.ret == 0, result.stdout.str()
    assert time.monotonic() - started >= 3.0  # it did wait for the lock
    verdict = project.verdict()
    assert verdict["decision"] == "promote"
    assert verdict["candidate"]["registry"] == {"name": "fraud", "version": 2, "alias": "candidate"}


def test_a_missing_verdict_directory_that_can_be_created_is(make_project):
    project = make_project(models="toy")
    target = project.path / "out" / "nested" / "verdict.json"

    result = project.run("--promote", "--promote-verdict", str(target))

    assert result.ret == 0, result.stdout.str()
    assert project.verdict(target)["decision"] == "promote"
    assert not project.verdict_path.exists()


def test_the_table_covers_the_issue():
    assert len(FAULTS) >= 30
    assert len({fault.id for fault in FAULTS}) == len(FAULTS)
