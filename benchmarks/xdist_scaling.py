"""Wall time of a 40-gate promotion suite, serial against pytest-xdist, on this machine.

    python benchmarks/xdist_scaling.py [--gates 40] [--workers 2] [--rows 20000]

Builds a throwaway project (two scikit-learn models, a pinned hold-out set, ``--gates``
quality gates over several metrics), runs ``pytest --promote`` serially and with
``-n WORKERS``, checks that both runs wrote the same gate numbers, and prints both wall times
and the speed-up. Each worker loads the models and data once, so memory grows with workers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

METRICS = ("accuracy", "roc_auc", "log_loss", "brier", "f1", "balanced_accuracy", "average_precision", "precision")


def build_project(root: Path, gates: int, rows: int) -> None:
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    X, y = make_classification(n_samples=rows + 2000, n_features=10, n_informative=5, random_state=0)
    X_train, y_train, X_hold, y_hold = X[:2000], y[:2000], X[2000:], y[2000:]
    models = {"candidate": LogisticRegression(max_iter=1000).fit(X_train, y_train),
              "baseline": DecisionTreeClassifier(max_depth=3, random_state=0).fit(X_train, y_train)}  # fmt: skip
    pins = {}
    for role, model in models.items():
        data = pickle.dumps(model, protocol=5)
        (root / f"{role}.pkl").write_bytes(data)
        pins[role] = hashlib.sha256(data).hexdigest()
    header = ",".join([*(f"f{i}" for i in range(X.shape[1])), "label"])
    lines = [header] + [",".join([*(repr(float(v)) for v in row), str(int(label))]) for row, label in zip(X_hold, y_hold)]
    (root / "holdout.csv").write_text("\n".join(lines) + "\n")
    holdout_pin = hashlib.sha256((root / "holdout.csv").read_bytes()).hexdigest()
    (root / "promote.yaml").write_text(
        "version: 1\nseed: 1\nbootstrap: {resamples: 5000}\nmodels:\n"
        f"  candidate: {{path: candidate.pkl, sha256: \"{pins['candidate']}\"}}\n"
        f"  baseline: {{path: baseline.pkl, sha256: \"{pins['baseline']}\"}}\n"
        f"datasets:\n  holdout: {{path: holdout.csv, target: label, sha256: \"{holdout_pin}\"}}\n"
    )
    body = ["from pytest_promote import gate\n"]
    for index in range(gates):
        metric = METRICS[index % len(METRICS)]
        predict = "model.predict(data.X)" if metric in ("accuracy", "f1", "balanced_accuracy", "precision") else "model.predict_proba(data.X)"
        body.append(
            f'@gate.quality("{metric}", min_delta=-0.5)\n'
            f"def test_gate_{index:02d}(promote, dataset):\n"
            '    data = dataset("holdout")\n'
            f'    promote.compare(lambda model: {predict}, data.y, dataset="holdout")\n'
        )
    (root / "test_gates.py").write_text("\n\n".join(body))
    (root / "pytest.ini").write_text("[pytest]\n")


def run(root: Path, *extra: str) -> tuple[float, dict]:
    command = [sys.executable, "-m", "pytest", "--promote", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *extra]
    start = time.perf_counter()
    completed = subprocess.run(command, cwd=root, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        raise SystemExit(f"pytest failed ({completed.returncode}):\n{completed.stdout[-3000:]}\n{completed.stderr[-2000:]}")
    return elapsed, json.loads((root / "promote-verdict.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gates", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        build_project(root, args.gates, args.rows)
        run(root)  # warm the file cache and bytecode
        serial, serial_verdict = run(root)
        parallel, parallel_verdict = run(root, "-p", "xdist", "-n", str(args.workers))
    numbers = [[(g["id"], g["candidate"], g["delta"], g["ci"]) for g in v["gates"]] for v in (serial_verdict, parallel_verdict)]
    same = numbers[0] == numbers[1]
    print(f"{args.gates} quality gates, {args.rows:,} hold-out rows, 5,000 resamples each")
    print(f"{'run':<22}{'wall time':>12}")
    print(f"{'serial':<22}{serial:>11.1f}s")
    print(f"{f'-n {args.workers}':<22}{parallel:>11.1f}s")
    print(f"speed-up: {serial / parallel:.2f}x; gate numbers identical: {same}")
    if not same:
        raise SystemExit("the xdist run's gate numbers differ from the serial run's")


if __name__ == "__main__":
    main()
