"""Model loading through ModelStore with the real built-in hook: pins, loaders, caching."""

from __future__ import annotations

import hashlib
import pickle
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_promote.config import BootstrapConfig, ModelSpec, PromoteConfig
from pytest_promote.errors import ModelLoadError
from pytest_promote.loaders import LoadedModel, ModelStore, pytest_promote_load_model

MODEL = {"kind": "threshold", "weights": [0.25, -1.5, 3.0]}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def config_for(tmp_path: Path, candidate: ModelSpec, baseline: ModelSpec | None = None) -> PromoteConfig:
    baseline = baseline or ModelSpec(role="baseline", loader="unused:never")
    return PromoteConfig(
        path=tmp_path / "promote.yaml",
        sha256="0" * 64,
        version=1,
        seed=1,
        alpha=0.05,
        bootstrap=BootstrapConfig(),
        models={"candidate": candidate, "baseline": baseline},
    )


def pickle_file(tmp_path: Path, obj: object = MODEL, name: str = "model.pkl") -> tuple[Path, str]:
    path = tmp_path / name
    data = pickle.dumps(obj)
    path.write_bytes(data)
    return path, sha(data)


class CountingLoad:
    """The real built-in hook, counting how often the store calls it."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, spec: ModelSpec) -> object:
        self.calls += 1
        return pytest_promote_load_model(spec)


@pytest.fixture
def loader_module(tmp_path: Path, request: pytest.FixtureRequest):
    """Write a uniquely named module into tmp_path; forget it from sys.modules afterwards."""
    names: list[str] = []

    def make(source: str) -> str:
        name = f"promote_loader_{request.node.name.replace('[', '_').replace(']', '_').replace('-', '_')}_{len(names)}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        names.append(name)
        return name

    yield make
    for name in names:
        sys.modules.pop(name, None)


# --- pinned files -------------------------------------------------------------------------


def test_pinned_pickle_loads(tmp_path: Path) -> None:
    path, digest = pickle_file(tmp_path)
    store = ModelStore(config_for(tmp_path, ModelSpec("candidate", path=path, sha256=digest)), pytest_promote_load_model)
    loaded = store.get("candidate")
    assert isinstance(loaded, LoadedModel)
    assert loaded.model == MODEL
    assert loaded.role == "candidate"
    assert loaded.source == str(path)
    assert loaded.sha256 == digest
    assert loaded.warning is None
    assert loaded.identity() == {"source": str(path), "sha256": digest, "size_bytes": path.stat().st_size, "registry": None}
    assert store.loaded() == {"candidate": loaded}


def test_model_loaded_once_and_shared(tmp_path: Path) -> None:
    path, digest = pickle_file(tmp_path, name="m.pickle")
    load = CountingLoad()
    store = ModelStore(config_for(tmp_path, ModelSpec("candidate", path=path, sha256=digest)), load)
    assert store.loaded() == {}  # lazy: nothing loaded before first use
    first = store.get("candidate")
    second = store.get("candidate")
    assert first is second
    assert load.calls == 1


def test_unpinned_pickle_refused_with_reason_and_actual_hash(tmp_path: Path) -> None:
    path, digest = pickle_file(tmp_path)
    store = ModelStore(config_for(tmp_path, ModelSpec("candidate", path=path)), pytest_promote_load_model)
    with pytest.raises(ModelLoadError) as info:
        store.get("candidate")
    message = str(info.value)
    assert "not pinned" in message
    assert "arbitrary code" in message
    assert digest in message
    assert f'models.candidate.sha256: "{digest}"' in message  # copy-paste ready
    assert info.value.code == "model_error"


def test_unpinned_pickle_is_never_unpickled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, _ = pickle_file(tmp_path)
    unpickled = []
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: unpickled.append(a))
    with pytest.raises(ModelLoadError):
        ModelStore(config_for(tmp_path, ModelSpec("candidate", path=path)), pytest_promote_load_model).get("candidate")
    assert unpickled == []


def test_tampered_pickle_refused_naming_both_hashes(tmp_path: Path) -> None:
    path, pinned = pickle_file(tmp_path)
    path.write_bytes(pickle.dumps({"kind": "tampered"}))
    actual = sha(path.read_bytes())
    load = CountingLoad()
    store = ModelStore(config_for(tmp_path, ModelSpec("candidate", path=path, sha256=pinned)), load)
    with pytest.raises(ModelLoadError) as info:
        store.get("candidate")
    message = str(info.value)
    assert pinned in message and actual in message
    assert "mismatch" in message
    assert load.calls == 0  # refused before any loader ran


def test_hook_rechecks_the_pin_itself(tmp_path: Path) -> None:
    # the hook is callable on its own (another caller, or a file swapped after the store's check)
    path, pinned = pickle_file(tmp_path)
    path.write_bytes(pickle.dumps("swapped"))
    actual = sha(path.read_bytes())
    with pytest.raises(ModelLoadError) as info:
        pytest_promote_load_model(ModelSpec("baseline", path=path, sha256=pinned))
    assert pinned in str(info.value) and actual in str(info.value)
    assert "models.baseline" in str(info.value)


def test_error_is_cached_and_raised_again(tmp_path: Path) -> None:
    path, digest = pickle_file(tmp_path)
    load = CountingLoad()
    store = ModelStore(config_for(tmp_path, ModelSpec("candidate", path=path)), load)
    with pytest.raises(ModelLoadError) as first:
        store.get("candidate")
    with pytest.raises(ModelLoadError) as second:
        store.get("candidate")
    assert second.value is first.value
    assert load.calls == 1
    assert store.loaded() == {}


def test_unknown_suffix_mentions_the_hook(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(b"\x08\x01")
    store = ModelStore(config_for(tmp_path, ModelSpec("candidate", path=path, sha256=sha(b"\x08\x01"))), pytest_promote_load_model)
    with pytest.raises(ModelLoadError) as info:
        store.get("candidate")
    message = str(info.value)
    assert "pytest_promote_load_model" in message
    assert "'.onnx'" in message
    assert ".pkl" in message and ".joblib" in message


def test_unknown_suffix_hook_returns_none(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"x")
    assert pytest_promote_load_model(ModelSpec("candidate", path=path, sha256=sha(b"x"))) is None


def test_suffix_is_case_insensitive(tmp_path: Path) -> None:
    path, digest = pickle_file(tmp_path, name="MODEL.PKL")
    assert pytest_promote_load_model(ModelSpec("candidate", path=path, sha256=digest)) == MODEL


def test_joblib_file(tmp_path: Path) -> None:
    joblib = pytest.importorskip("joblib")
    np = pytest.importorskip("numpy")
    path = tmp_path / "model.joblib"
    model = {"coef": np.arange(5.0), "name": "joblib"}
    joblib.dump(model, path)
    digest = sha(path.read_bytes())
    loaded = ModelStore(config_for(tmp_path, ModelSpec("candidate", path=path, sha256=digest)), pytest_promote_load_model).get(
        "candidate"
    )
    assert loaded.model["name"] == "joblib"
    assert np.array_equal(loaded.model["coef"], np.arange(5.0))
    assert loaded.sha256 == digest


def test_unpinned_joblib_refused(tmp_path: Path) -> None:
    joblib = pytest.importorskip("joblib")
    path = tmp_path / "model.joblib"
    joblib.dump([1, 2, 3], path)
    with pytest.raises(ModelLoadError) as info:
        ModelStore(config_for(tmp_path, ModelSpec("candidate", path=path)), pytest_promote_load_model).get("candidate")
    assert "not pinned" in str(info.value) and sha(path.read_bytes()) in str(info.value)


def test_a_load_hook_error_becomes_model_load_error(tmp_path: Path) -> None:
    path, digest = pickle_file(tmp_path)
    path.write_bytes(b"not a pickle")
    digest = sha(b"not a pickle")
    with pytest.raises(ModelLoadError) as info:
        ModelStore(config_for(tmp_path, ModelSpec("candidate", path=path, sha256=digest)), pytest_promote_load_model).get(
            "candidate"
        )
    assert "UnpicklingError" in str(info.value)
    assert "models.candidate" in str(info.value)


# --- module:callable loaders -------------------------------------------------------------------


def loader_spec(tmp_path: Path, module: str, attribute: str = "load", role: str = "baseline") -> ModelSpec:
    return ModelSpec(role=role, loader=f"{module}:{attribute}", config_dir=tmp_path)


def test_loader_module_imported_from_config_dir(tmp_path: Path, loader_module) -> None:
    module = loader_module(
        """
        def load():
            return {"made": "by loader", "size": 3}
        """
    )
    spec = loader_spec(tmp_path, module)
    assert str(tmp_path) not in sys.path
    loaded = ModelStore(config_for(tmp_path, ModelSpec("candidate", loader="x:y"), spec), pytest_promote_load_model).get("baseline")
    assert loaded.model == {"made": "by loader", "size": 3}
    assert loaded.source == f"loader:{module}:load"
    assert loaded.sha256 == sha(pickle.dumps({"made": "by loader", "size": 3}, protocol=5))
    assert loaded.warning is None
    assert str(tmp_path) not in sys.path  # the config dir is on sys.path only during the import


def test_loader_sees_config_dir_on_sys_path_during_import(tmp_path: Path, loader_module) -> None:
    module = loader_module(
        f"""
        import sys
        ON_PATH = {str(tmp_path)!r} in sys.path

        def load():
            return ON_PATH
        """
    )
    assert pytest_promote_load_model(loader_spec(tmp_path, module)) is True


def test_loader_dotted_attribute(tmp_path: Path, loader_module) -> None:
    module = loader_module(
        """
        class Factory:
            @staticmethod
            def build():
                return [1, 2, 3]
        """
    )
    assert pytest_promote_load_model(loader_spec(tmp_path, module, "Factory.build")) == [1, 2, 3]


def test_loader_returning_none(tmp_path: Path, loader_module) -> None:
    module = loader_module("def load():\n    return None\n")
    spec = loader_spec(tmp_path, module)
    with pytest.raises(ModelLoadError) as info:
        ModelStore(config_for(tmp_path, ModelSpec("candidate", loader="x:y"), spec), pytest_promote_load_model).get("baseline")
    assert f"loader {module}:load returned None" in str(info.value)
    assert "models.baseline" in str(info.value)


def test_loader_raising_names_exception_type(tmp_path: Path, loader_module) -> None:
    module = loader_module("def load():\n    raise ZeroDivisionError('no weights today')\n")
    spec = loader_spec(tmp_path, module)
    with pytest.raises(ModelLoadError) as info:
        ModelStore(config_for(tmp_path, ModelSpec("candidate", loader="x:y"), spec), pytest_promote_load_model).get("baseline")
    message = str(info.value)
    assert "ZeroDivisionError" in message and "no weights today" in message
    assert f"loader:{module}:load" in message
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_loader_module_not_found(tmp_path: Path) -> None:
    spec = loader_spec(tmp_path, "promote_no_such_module_anywhere")
    with pytest.raises(ModelLoadError, match="ModuleNotFoundError"):
        ModelStore(config_for(tmp_path, ModelSpec("candidate", loader="x:y"), spec), pytest_promote_load_model).get("baseline")


def test_loader_missing_attribute(tmp_path: Path, loader_module) -> None:
    module = loader_module("def other():\n    return 1\n")
    with pytest.raises(ModelLoadError, match="has no attribute 'load'"):
        pytest_promote_load_model(loader_spec(tmp_path, module))


def test_loader_not_callable(tmp_path: Path, loader_module) -> None:
    module = loader_module("load = 42\n")
    with pytest.raises(ModelLoadError, match="is not callable"):
        pytest_promote_load_model(loader_spec(tmp_path, module))


def test_loader_model_sha256_is_hash_of_protocol_5_pickle(tmp_path: Path, loader_module) -> None:
    module = loader_module(
        """
        def load():
            return {"values": list(range(100)), "text": "x" * 300}
        """
    )
    spec = loader_spec(tmp_path, module, role="candidate")
    loaded = ModelStore(config_for(tmp_path, spec), pytest_promote_load_model).get("candidate")
    assert loaded.sha256 == sha(pickle.dumps(loaded.model, protocol=5))
    assert loaded.identity() == {"source": f"loader:{module}:load", "sha256": loaded.sha256, "size_bytes": len(pickle.dumps(loaded.model, protocol=5)), "registry": None}


def test_unpicklable_loader_model_has_no_sha256_and_a_warning(tmp_path: Path, loader_module) -> None:
    module = loader_module(
        """
        import threading

        def load():
            return {"lock": threading.Lock(), "predict": lambda x: x}
        """
    )
    spec = loader_spec(tmp_path, module, role="candidate")
    loaded = ModelStore(config_for(tmp_path, spec), pytest_promote_load_model).get("candidate")
    assert loaded.model["predict"](3) == 3
    assert loaded.sha256 is None
    assert loaded.warning is not None
    assert "cannot be pickled" in loaded.warning
    assert "models.candidate" in loaded.warning
    assert "TypeError" in loaded.warning or "PicklingError" in loaded.warning
