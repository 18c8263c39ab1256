"""pytest-promote: promotion gates for ML models, decided on paired bootstrap intervals."""

from __future__ import annotations

from .errors import PromoteError
from .gates import GateResult, PromoteWarning, gate
from .stats import CrossCheck, PairedResult, paired_bootstrap

__all__ = ["__version__", "gate", "GateResult", "PairedResult", "CrossCheck", "PromoteError", "PromoteWarning", "paired_bootstrap"]

__version__ = "0.1.0"
