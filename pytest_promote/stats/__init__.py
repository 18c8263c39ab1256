"""The statistics core: metrics and the paired bootstrap. Never imports pytest."""

from __future__ import annotations

from .bootstrap import PairedResult, paired_bootstrap
from .metrics import get_metric, metric_names

__all__ = ["PairedResult", "paired_bootstrap", "get_metric", "metric_names"]
