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


def test_candidate_probabilities_are_valid(candidate, dataset):
    """Ordinary smoke test: predict_proba gives one row per sample, two classes, rows summing to 1."""
    X = dataset("holdout").X[:20]
    proba = candidate.predict_proba(X)
    assert proba.shape == (20, 2)
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-9)
