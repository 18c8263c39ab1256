"""Generate the models, the hold-out set and the model registry on first run (none of
them is committed), and score with one thread per process, as the serving workers do."""

import importlib.util
import os
from pathlib import Path

import pytest

# Latency gates measure what serving sees: a worker scores with one thread. Set before
# scikit-learn loads its OpenMP and BLAS libraries, which read these once, at load time;
# thread pools spinning against other jobs on a shared CI runner would dominate p95.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

HERE = Path(__file__).parent
# train.py writes these and registers the models in .promote/registry.db (promote.yaml
# refers to churn@candidate and churn@production there). A fresh clone has none of them.
GENERATED = ("models/candidate.pkl", "models/baseline.pkl", "data/holdout.csv", ".promote/registry.db")


# tryfirst: pytest-promote reads promote.yaml, the pinned data and the registry in its
# own pytest_configure. This hook must run before it, so they exist by then.
@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    if all((HERE / name).exists() for name in GENERATED):
        return
    # Load train.py by path: works with any --import-mode and from any cwd.
    spec = importlib.util.spec_from_file_location("example_project_train", HERE / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.train(root=HERE)
