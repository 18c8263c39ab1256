"""The statistics core: metrics, the paired bootstrap, cross-checks and slices. Never imports pytest."""

from __future__ import annotations

from .bootstrap import PairedResult, paired_bootstrap
from .crosscheck import CrossCheck
from .metrics import get_metric, metric_names

__all__ = ["PairedResult", "CrossCheck", "paired_bootstrap", "get_metric", "metric_names"]
