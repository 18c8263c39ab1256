"""Shared helpers for the integration suite: real pytest subprocess runs on a generated project.

``make_project(...)`` writes, into ``pytester.path``, two pickled scikit-learn models, a
hold-out set, a ``promote.yaml`` pinning all of them by sha256, and test files. Each test
then runs ``pytest`` in a subprocess (``project.run(...)``) and asserts what a user sees:
the exit code, output lines and the verdict file.

The models (trained once per session on ``make_classification`` data with fixed seeds):

* ``good``: ``LogisticRegression`` -- hold-out accuracy about 0.85, log loss about 0.34;
* ``weak``: ``DecisionTreeClassifier(max_depth=1)`` -- hold-out accuracy about 0.68.

On 2000 hold-out rows the gap (about 17 points of accuracy) is far outside any bootstrap
noise, so no outcome below is borderline.

``models="toy"`` swaps in the same two models as tiny classes from ``toymodels.py`` (written
into the project; pytester's subprocess has its cwd on PYTHONPATH): ``good`` is a linear
model with the logistic regression's coefficients (identical predictions), ``weak`` the
decision stump's single split. Unpickling them does not import scikit-learn, which keeps a
subprocess run about a second cheaper; tests whose subject is not the model use them.
"""

from __future__ import annotations

import copy
import importlib.util
import hashlib
import io
import json
import pickle
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

HOLDOUT_ROWS = 2000
N_FEATURES = 8
FEATURES = [f"f{i}" for i in range(N_FEATURES)]

QUIET_PLUGINS = ("-p", "no:hypothesispytest", "-p", "no:benchmark", "-p", "no:randomly", "-p", "no:cacheprovider")

XDIST = ("-p", "xdist", "-n", "2")
#: parametrise a test over a serial run and a two-worker pytest-xdist run
MODES = [
    pytest.param((), id="serial"),
    pytest.param(XDIST, id="xdist-2", marks=pytest.mark.skipif(importlib.util.find_spec("xdist") is None, reason="needs pytest-xdist")),
]

TEST_HEADER = "import pytest\nfrom pytest_promote import gate\n\n"

#: the simplest gate: the candidate must be better (superiority) in accuracy
ACCURACY_GATE = """
@gate.quality("accuracy", min_delta=0)
def test_accuracy(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict(data.X), data.y, dataset="holdout")
"""

#: a superiority gate on log loss (lower is better: the delta's sign is flipped)
LOG_LOSS_GATE = """
@gate.quality("log_loss", min_delta=0)
def test_log_loss(promote, dataset):
    data = dataset("holdout")
    promote.compare(lambda model: model.predict_proba(data.X), data.y, dataset="holdout")
"""


TOY_MODULE = '''\
"""Tiny deterministic models (pytest-promote integration tests)."""
import numpy as np


class LinearModel:
    def __init__(self, weights, bias):
        self.weights = np.asarray(weights, dtype=float)
        self.bias = float(bias)

    def decision_function(self, X):
        return np.asarray(X, dtype=float) @ self.weights + self.bias

    def predict(self, X):
        return (self.decision_function(X) > 0).astype(int)

    def predict_proba(self, X):
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1.0 - p, p])
'''


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_path(path: Path) -> str:
    return sha256_bytes(Path(path).read_bytes())


def gate_source(
    name: str = "test_gate",
    marker: str = 'gate.quality("accuracy", min_delta=0)',
    predict: str = "model.predict(data.X)",
    dataset: str = "holdout",
) -> str:
    """The source of one gate test function (without the module header)."""
    return textwrap.dedent(
        f"""
        @{marker}
        def {name}(promote, dataset):
            data = dataset({dataset!r})
            promote.compare(lambda model: {predict}, data.y, dataset={dataset!r})
        """
    )


# --- the session's models and data ----------------------------------------------------------


@dataclass(frozen=True)
class Artifacts:
    models: dict[str, dict[str, bytes]]  # flavour ("sklearn" | "toy") -> kind -> pickle (protocol 5) bytes
    X: Any  # hold-out features, (HOLDOUT_ROWS, N_FEATURES)
    y: Any  # hold-out labels 0/1

    def csv_bytes(self) -> bytes:
        lines = [",".join([*FEATURES, "label"])]
        for row, label in zip(self.X, self.y):
            lines.append(",".join([*(repr(float(v)) for v in row), str(int(label))]))
        return ("\n".join(lines) + "\n").encode()

    def jsonl_bytes(self) -> bytes:
        lines = []
        for row, label in zip(self.X, self.y):
            record = {name: float(v) for name, v in zip(FEATURES, row)}
            record["label"] = int(label)
            lines.append(json.dumps(record))
        return ("\n".join(lines) + "\n").encode()

    def npz_bytes(self) -> bytes:
        import numpy as np

        buffer = io.BytesIO()
        np.savez(buffer, X=self.X, y=self.y)
        return buffer.getvalue()

    def dataset_bytes(self, fmt: str) -> bytes:
        return {"csv": self.csv_bytes, "jsonl": self.jsonl_bytes, "npz": self.npz_bytes}[fmt]()


def _import_toy_module(directory: Path):
    """Import toymodels.py under its plain name, as the subprocess will: pickles refer to it so."""
    import importlib.util
    import sys

    path = directory / "toymodels.py"
    path.write_text(TOY_MODULE)
    spec = importlib.util.spec_from_file_location("toymodels", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules["toymodels"] = module
    return module


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Artifacts:
    import numpy as np
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    X, y = make_classification(
        n_samples=1200 + HOLDOUT_ROWS,
        n_features=N_FEATURES,
        n_informative=4,
        n_redundant=2,
        flip_y=0.02,
        random_state=1,
    )
    X_train, y_train, X_hold, y_hold = X[:1200], y[:1200], X[1200:], y[1200:]
    good = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    weak = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X_train, y_train)
    toymodels = _import_toy_module(tmp_path_factory.mktemp("toymodels"))
    tree = weak.tree_
    feature, split = int(tree.feature[0]), float(tree.threshold[0])
    # the stump sends x <= split left; orient the linear rule so "right" predicts the right leaf's class
    right_is_positive = tree.value[tree.children_right[0]][0].argmax() == 1
    sign = 1.0 if right_is_positive else -1.0
    toy_good = toymodels.LinearModel(good.coef_[0], good.intercept_[0])
    toy_weak = toymodels.LinearModel(sign * np.eye(N_FEATURES)[feature], -sign * split)
    models = {
        "sklearn": {"good": pickle.dumps(good, protocol=5), "weak": pickle.dumps(weak, protocol=5)},
        "toy": {"good": pickle.dumps(toy_good, protocol=5), "weak": pickle.dumps(toy_weak, protocol=5)},
    }
    # sanity: the designed effect sizes hold, so no test below is borderline; toys predict as the originals
    predictions = {
        (flavour, kind): pickle.loads(data).predict(X_hold) for flavour, kinds in models.items() for kind, data in kinds.items()
    }
    accuracy = {key: float(np.mean(pred == y_hold)) for key, pred in predictions.items()}
    assert accuracy["sklearn", "good"] - accuracy["sklearn", "weak"] >= 0.10, accuracy
    for kind in ("good", "weak"):
        assert np.array_equal(predictions["toy", kind], predictions["sklearn", kind]), kind
    return Artifacts(models=models, X=X_hold, y=y_hold.astype(int))


# --- a generated project --------------------------------------------------------------------


def _merge(base: dict, overrides: dict) -> dict:
    """Deep merge; an override value of None deletes the key."""
    merged = copy.deepcopy(base)
    for key, value in overrides.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


@dataclass
class Project:
    pytester: pytest.Pytester
    artifacts: Artifacts
    shas: dict[str, str] = field(default_factory=dict)  # relative path -> sha256

    @property
    def path(self) -> Path:
        return self.pytester.path

    @property
    def config_path(self) -> Path:
        return self.path / "promote.yaml"

    @property
    def verdict_path(self) -> Path:
        return self.path / "promote-verdict.json"

    def write_bytes(self, relative: str, data: bytes) -> str:
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.shas[relative] = sha256_bytes(data)
        return self.shas[relative]

    def write_model(self, relative: str, kind: str, flavour: str = "sklearn") -> str:
        if flavour == "toy":
            (self.path / "toymodels.py").write_text(TOY_MODULE)
        return self.write_bytes(relative, self.artifacts.models[flavour][kind])

    def write_dataset(self, relative: str, fmt: str) -> str:
        return self.write_bytes(relative, self.artifacts.dataset_bytes(fmt))

    def write_table(
        self, relative: str, *, rows: Any = None, labels: Any = None, extra_columns: dict[str, Any] | None = None
    ) -> str:
        """A CSV of hold-out rows ``rows`` (default: all, in order): ``f0..f7``, ``label`` (or ``labels``), then
        ``extra_columns`` ({name: one value per written row}, e.g. a slice or query-id column). Returns its sha256."""
        import numpy as np

        index = np.arange(len(self.artifacts.y)) if rows is None else np.asarray(rows)
        X = self.artifacts.X[index]
        y = self.artifacts.y[index] if labels is None else np.asarray(labels)
        extra = {name: list(values) for name, values in (extra_columns or {}).items()}
        for name, values in extra.items():
            assert len(values) == len(index), f"column {name}: {len(values)} values for {len(index)} rows"
        lines = [",".join([*FEATURES, "label", *extra])]
        for i, (row, label) in enumerate(zip(X, y)):
            lines.append(",".join([*(repr(float(v)) for v in row), str(int(label)), *(str(values[i]) for values in extra.values())]))
        return self.write_bytes(relative, ("\n".join(lines) + "\n").encode())

    def update_config(self, overrides: dict) -> Path:
        """Deep-merge ``overrides`` into the current ``promote.yaml`` (a ``None`` value deletes a key)."""
        current = yaml.safe_load(self.config_path.read_text())
        return self.write_config(_merge(current, overrides))

    def use_table(self, name: str, relative: str, **table: Any) -> str:
        """``write_table`` and configure it as dataset ``name`` (pinned, features ``f0..f7``: extra columns are not
        features). Call again after changing the rows to re-pin. Returns its sha256."""
        sha = self.write_table(relative, **table)
        spec = {"path": relative, "target": "label", "features": list(FEATURES), "sha256": sha}
        self.update_config({"datasets": {name: None}})  # replace, not merge
        self.update_config({"datasets": {name: spec}})
        return sha

    def use_loaders(self, module: str, source: str, candidate: str, baseline: str) -> None:
        """Write ``module.py`` (``source``) and load the models from its functions ``candidate`` and ``baseline``."""
        (self.path / f"{module}.py").write_text(source)
        self.update_config({"models": None})
        self.update_config({"models": {"candidate": {"loader": f"{module}:{candidate}"}, "baseline": {"loader": f"{module}:{baseline}"}}})

    def write_config(self, config: dict | None = None, *, extra_yaml: str = "", path: Path | None = None) -> Path:
        target = path or self.config_path
        target.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump(config, sort_keys=False) if config is not None else ""
        target.write_text(text + textwrap.dedent(extra_yaml))
        return target

    def write_tests(self, tests: str | dict[str, str]) -> None:
        files = {"test_gates.py": tests} if isinstance(tests, str) else tests
        for name, source in files.items():
            (self.path / name).write_text(TEST_HEADER + textwrap.dedent(source))

    def run(self, *args: str, timeout: float = 120) -> pytest.RunResult:
        # unrelated plugins that may be installed here: hypothesis imports itself at terminal summary
        # (~1 s a run), pytest-randomly imports numpy and reorders tests; blocking a name that is not
        # installed is a no-op
        return self.pytester.runpytest_subprocess(*QUIET_PLUGINS, *args, timeout=timeout)

    def verdict(self, path: Path | None = None) -> dict:
        return json.loads((path or self.verdict_path).read_text())

    def promote_in_mode(self, mode: tuple[str, ...]) -> tuple[pytest.RunResult, dict]:
        """``pytest --promote`` plus ``mode``; under xdist, also serially: both verdicts must agree bit for bit."""
        result = self.run("--promote", *mode)
        verdict = self.verdict()
        if mode:
            result.stdout.fnmatch_lines(["*2 workers*"])
            serial = self.run("--promote")
            serial_verdict = self.verdict()
            assert serial.ret == result.ret
            for key in ("decision", "gates", "warnings"):
                assert serial_verdict[key] == verdict[key], key
            assert sorted(map(str, serial_verdict["reasons"])) == sorted(map(str, verdict["reasons"]))
        return result, verdict


@pytest.fixture
def make_project(pytester: pytest.Pytester, artifacts: Artifacts) -> Callable[..., Project]:
    """``make_project(candidate="good", baseline="weak", models="sklearn", config={...}, extra_yaml="", tests=...)``.

    Writes ``models/candidate.pkl`` and ``models/baseline.pkl`` (pickles of the named model
    kinds, scikit-learn or ``models="toy"``; the same kind gives the same bytes), ``data/holdout.csv``, a ``promote.yaml``
    pinning all three (``config`` deep-merges into it, a ``None`` value deletes a key;
    ``extra_yaml`` is appended verbatim; ``yaml_text`` replaces it entirely) and the test
    file(s): ``tests`` is the source of ``test_gates.py`` or a ``{filename: source}`` dict.
    """

    def make(
        *,
        candidate: str = "good",
        baseline: str = "weak",
        config: dict | None = None,
        extra_yaml: str = "",
        yaml_text: str | None = None,
        tests: str | dict[str, str] | None = ACCURACY_GATE,
        pin: bool = True,
        models: str = "sklearn",
    ) -> Project:
        project = Project(pytester, artifacts)
        cand_sha = project.write_model("models/candidate.pkl", candidate, models)
        base_sha = project.write_model("models/baseline.pkl", baseline, models)
        data_sha = project.write_dataset("data/holdout.csv", "csv")
        base_config: dict[str, Any] = {
            "version": 1,
            "seed": 12345,
            "alpha": 0.05,
            "bootstrap": {"resamples": 1000},
            "models": {
                "candidate": {"path": "models/candidate.pkl", **({"sha256": cand_sha} if pin else {})},
                "baseline": {"path": "models/baseline.pkl", **({"sha256": base_sha} if pin else {})},
            },
            "datasets": {"holdout": {"path": "data/holdout.csv", "target": "label", "sha256": data_sha}},
        }
        if yaml_text is not None:
            project.config_path.write_text(textwrap.dedent(yaml_text))
        else:
            project.write_config(_merge(base_config, config or {}), extra_yaml=extra_yaml)
        if tests is not None:
            project.write_tests(tests)
        return project

    return make


# --- verdict helpers -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def verdict_validator():
    """A Draft 2020-12 validator for the schema shipped in the package."""
    from jsonschema import Draft202012Validator

    import pytest_promote

    schema_path = Path(pytest_promote.__file__).parent / "schemas" / "verdict.schema.json"
    schema = json.loads(schema_path.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def gate_entry(verdict: dict, name: str) -> dict:
    """The verdict's gate whose node id ends with ``::name``."""
    found = [g for g in verdict["gates"] if g["id"].endswith(f"::{name}")]
    assert len(found) == 1, f"expected one gate named {name}, got {[g['id'] for g in verdict['gates']]}"
    return found[0]


def reason_codes(verdict: dict) -> list[str]:
    return [reason["code"] for reason in verdict["reasons"]]


def gate_numbers(entry: dict) -> tuple:
    """What must be reproducible about a gate: estimates, interval, seed."""
    return (entry["candidate"], entry["baseline"], entry["delta"], entry["ci"]["low"], entry["ci"]["high"], entry["seed"], entry["n"])


@pytest.fixture
def helpers():
    """Plain functions for test modules (conftest modules are not importable by name)."""
    return _Helpers()


class _Helpers:
    gate_source = staticmethod(gate_source)
    gate_entry = staticmethod(gate_entry)
    reason_codes = staticmethod(reason_codes)
    gate_numbers = staticmethod(gate_numbers)
    sha256_bytes = staticmethod(sha256_bytes)
    sha256_path = staticmethod(sha256_path)
    ACCURACY_GATE = ACCURACY_GATE
    FEATURES = FEATURES
