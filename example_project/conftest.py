"""Generate the models and the hold-out set on first run (they are not committed)."""

import importlib.util
from pathlib import Path

import pytest

HERE = Path(__file__).parent
GENERATED = ("models/candidate.pkl", "models/baseline.pkl", "data/holdout.csv")


# tryfirst: pytest-promote reads promote.yaml and the pinned files in its own
# pytest_configure. This hook must run before it, so the files exist by then.
@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    if all((HERE / name).exists() for name in GENERATED):
        return
    # Load train.py by path: works with any --import-mode and from any cwd.
    spec = importlib.util.spec_from_file_location("example_project_train", HERE / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.train(root=HERE)
