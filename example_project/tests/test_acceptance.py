"""Acceptance suite: may the candidate model replace the baseline?

Run with `pytest --promote`. Each @gate test compares the candidate with the
baseline (or with a fixed threshold) on the pinned hold-out set, and the gate
passes only if the one-sided 95% bootstrap confidence bound clears the margin
(alpha, resamples and seed come from promote.yaml).
"""

import numpy as np
from pytest_promote import gate


@gate.quality("accuracy", min_delta=-0.01)
def test_accuracy_not_worse(promote, dataset):
    """Non-inferiority: with 95% confidence, at most 1 accuracy point worse than the baseline."""
    holdout = dataset("holdout")
    promote.compare(lambda model: model.predict(holdout.X), holdout.y, dataset="holdout")


@gate.quality("roc_auc", min_delta=0.0)
def test_roc_auc_better(promote, dataset):
    """Superiority: with 95% confidence, a strictly higher ROC AUC than the baseline."""
    holdout = dataset("holdout")
    promote.compare(lambda model: model.predict_proba(holdout.X), holdout.y, dataset="holdout")


@gate.quality("accuracy", threshold=0.85)
def test_accuracy_above_floor(promote, dataset):
    """Absolute floor: the candidate's accuracy is above 0.85 at its lower 95% bound."""
    holdout = dataset("holdout")
    promote.compare(lambda model: model.predict(holdout.X), holdout.y, dataset="holdout")


@gate.quality("log_loss", min_delta=0.0, severity="warn")
def test_log_loss_not_worse(promote, dataset):
    """Warn only: better-calibrated probabilities (lower log loss) than the baseline.

    A failure is reported in the verdict but does not block the release.
    """
    holdout = dataset("holdout")
    promote.compare(lambda model: model.predict_proba(holdout.X), holdout.y, dataset="holdout")


@gate.latency(95, budget_ms=30)
def test_single_row_latency_within_budget(promote, dataset):
    """Serving budget: the candidate's p95 latency for one row is at most 30 ms (upper 95% bound).

    Candidate and baseline are timed interleaved, 200 rounds after 20 warm-up calls.
    """
    row = dataset("holdout").X[:1]
    promote.time(lambda model: model.predict(row))


@gate.latency(95, max_ratio=2.0, severity="warn")
def test_single_row_latency_regression(promote, dataset):
    """Warn only: the candidate's p95 is at most twice the baseline's.

    Gradient boosting is slower per row than logistic regression; this gate puts the
    trade-off (better accuracy, slower predictions) in the verdict without blocking.
    """
    row = dataset("holdout").X[:1]
    promote.time(lambda model: model.predict(row))


@gate.cost(budget=64 * 2**20)
def test_batch_peak_memory(promote, dataset):
    """Peak Python allocation while scoring the whole hold-out set stays under 64 MiB."""
    holdout = dataset("holdout")
    promote.measure(lambda model: model.predict_proba(holdout.X), what="peak_memory")


@gate.golden("golden/cases.jsonl", atol=0, rtol=0)
def test_golden_cases(promote):
    """24 clear-cut hold-out rows (chosen by train.py with the production model) keep their labels."""
    promote.check_golden(lambda model, inputs: model.predict(inputs))


@gate.drift(max_psi=0.25, max_ks=0.2)
def test_score_distribution_drift(promote, dataset):
    """Warn only: the candidate's churn scores are distributed much like production's.

    A large shift is not wrong in itself (a better model separates classes more sharply),
    but the retention team's contact thresholds were tuned on the old scores.
    """
    X = dataset("holdout").X
    promote.compare_distributions(lambda model: model.predict_proba(X)[:, 1])


def test_candidate_probabilities_are_valid(candidate, dataset):
    """Ordinary smoke test: predict_proba gives one row per sample, two classes, rows summing to 1."""
    X = dataset("holdout").X[:20]
    proba = candidate.predict_proba(X)
    assert proba.shape == (20, 2)
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-9)
