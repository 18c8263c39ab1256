"""Closed-form paired tests reported beside the bootstrap as a cross-check.

Each returns a :class:`CrossCheck` whose ``delta`` is candidate minus baseline, oriented so
that positive means the candidate is better, with a two-sided ``1 - 2*alpha`` interval
(its lower end is the one-sided ``1 - alpha`` lower bound) and a two-sided p-value of
``delta == 0``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

__all__ = ["CrossCheck", "delong", "mcnemar_exact", "paired_t"]


@dataclass(frozen=True)
class CrossCheck:
    """One closed-form test of the paired difference; ``delta`` is positive when better."""

    method: str
    delta: float
    low: float  # two-sided (1 - 2*alpha) interval of delta
    high: float
    p_value: float
    se: float | None  # None when the method has no standard error (McNemar)

    def to_json(self) -> dict[str, Any]:
        """The record as JSON-ready values; NaN and infinities become ``None``."""
        return {
            "method": self.method,
            "delta": _finite_or_none(self.delta),
            "low": _finite_or_none(self.low),
            "high": _finite_or_none(self.high),
            "p_value": _finite_or_none(self.p_value),
            "se": _finite_or_none(self.se),
        }


def delong(
    y_true: np.ndarray, candidate_scores: np.ndarray, baseline_scores: np.ndarray, *, alpha: float
) -> CrossCheck:
    """DeLong's paired test of AUC(candidate) - AUC(baseline), by Sun & Xu's fast algorithm.

    Structural components come from midranks (ties count half), so the cost is
    O(n log n). The interval is ``delta ± z_{1-alpha} se``; the p-value is two-sided normal.
    Raises ``ValueError`` unless there are at least two positives and two negatives,
    because the components' sample variances need two of each.
    """
    import numpy as np

    _check_alpha(alpha)
    positive = np.asarray(y_true).astype(bool)
    m, n = int(np.count_nonzero(positive)), int(np.count_nonzero(~positive))
    if m < 2 or n < 2:
        raise ValueError(f"DeLong needs at least 2 positives and 2 negatives, got {m} positives and {n} negatives")
    auc_c, v10_c, v01_c = _structural_components(np.asarray(candidate_scores, dtype=float), positive)
    auc_b, v10_b, v01_b = _structural_components(np.asarray(baseline_scores, dtype=float), positive)
    delta = auc_c - auc_b
    # var(V_c - V_b) equals S[0,0] + S[1,1] - 2 S[0,1] but cannot go negative by cancellation
    variance = np.var(v10_c - v10_b, ddof=1) / m + np.var(v01_c - v01_b, ddof=1) / n
    return _normal_check("delong", delta, math.sqrt(float(variance)), alpha)


def mcnemar_exact(candidate_correct: np.ndarray, baseline_correct: np.ndarray, *, alpha: float) -> CrossCheck:
    """The exact McNemar test of paired accuracy; ``delta = (b - c) / n``.

    ``b`` counts examples only the candidate gets right, ``c`` those only the baseline
    gets right. The p-value is the exact two-sided binomial test of ``b ~ Bin(b + c, 1/2)``.
    The interval is exact conditional on the discordant count ``d = b + c``: the
    Clopper-Pearson ``1 - 2*alpha`` interval ``[pL, pU]`` for ``b / d`` mapped through
    ``delta = (d / n)(2 pi - 1)``; it is ``[0, 0]`` when ``d == 0``. There is no ``se``.
    """
    import numpy as np

    _check_alpha(alpha)
    cand = np.asarray(candidate_correct).astype(bool)
    base = np.asarray(baseline_correct).astype(bool)
    b = int(np.count_nonzero(cand & ~base))
    c = int(np.count_nonzero(~cand & base))
    n, d = len(cand), b + c
    p_low, p_high = _clopper_pearson(b, d, alpha)
    return CrossCheck(
        method="mcnemar_exact",
        delta=(b - c) / n,
        low=d / n * (2 * p_low - 1),
        high=d / n * (2 * p_high - 1),
        p_value=_binomial_half_two_sided(b, d),
        se=None,
    )


def paired_t(
    candidate_values: np.ndarray, baseline_values: np.ndarray, *, alpha: float, higher_is_better: bool
) -> CrossCheck:
    """The paired Student-t interval for the mean per-example difference of a mean-type metric.

    ``delta`` is ``mean(candidate - baseline)``, negated when lower is better; the interval
    is ``delta ± t_{1-alpha, n-1} se`` with ``se = sd(diff) / sqrt(n)``. Raises
    ``ValueError`` for fewer than two examples.
    """
    import numpy as np
    from scipy.special import stdtr, stdtrit

    _check_alpha(alpha)
    diff = np.asarray(candidate_values, dtype=float) - np.asarray(baseline_values, dtype=float)
    n = len(diff)
    if n < 2:
        raise ValueError(f"the paired t interval needs at least 2 examples, got {n}")
    if not higher_is_better:
        diff = -diff
    delta = float(np.mean(diff))
    se = float(np.std(diff, ddof=1)) / math.sqrt(n)
    if se == 0:
        return _degenerate("paired_t", delta)
    half_width = float(stdtrit(n - 1, 1 - alpha)) * se
    p_value = 2 * float(stdtr(n - 1, -abs(delta) / se))
    return CrossCheck("paired_t", delta, delta - half_width, delta + half_width, p_value, se)


def _structural_components(scores: np.ndarray, positive: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """AUC and DeLong's V10 (per positive) and V01 (per negative) from midranks (Sun & Xu)."""
    import numpy as np

    x, y = scores[positive], scores[~positive]
    m, n = len(x), len(y)
    # a positive's rank among all scores minus its rank among positives counts the negatives below it
    v10 = (_midranks(x, scores) - _midranks(x, x)) / n
    v01 = 1.0 - (_midranks(y, scores) - _midranks(y, y)) / m
    return float(np.mean(v10)), v10, v01


def _midranks(values: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """1-based midrank of each value within ``pool``; tied values share the mean rank."""
    import numpy as np

    ordered = np.sort(pool)
    below = np.searchsorted(ordered, values, side="left")
    through = np.searchsorted(ordered, values, side="right")
    return below + (through - below + 1) / 2.0


def _normal_check(method: str, delta: float, se: float, alpha: float) -> CrossCheck:
    from scipy.special import ndtr, ndtri

    if se == 0:
        return _degenerate(method, delta)
    half_width = float(ndtri(1 - alpha)) * se
    p_value = 2 * float(ndtr(-abs(delta) / se))
    return CrossCheck(method, delta, delta - half_width, delta + half_width, p_value, se)


def _degenerate(method: str, delta: float) -> CrossCheck:
    # no spread: the difference is known exactly, so it is either exactly null or certain
    return CrossCheck(method, delta, delta, delta, 1.0 if delta == 0 else 0.0, 0.0)


def _clopper_pearson(successes: int, trials: int, alpha: float) -> tuple[float, float]:
    """Exact two-sided ``1 - 2*alpha`` interval for a binomial proportion."""
    from scipy.special import betaincinv

    if trials == 0:
        # d == 0 makes delta 0 whatever pi is; 1/2 maps to that 0
        return 0.5, 0.5
    low = float(betaincinv(successes, trials - successes + 1, alpha)) if successes > 0 else 0.0
    high = float(betaincinv(successes + 1, trials - successes, 1 - alpha)) if successes < trials else 1.0
    return low, high


def _binomial_half_two_sided(successes: int, trials: int) -> float:
    """Exact two-sided p-value of ``successes ~ Bin(trials, 1/2)``; symmetry makes it twice a tail."""
    from scipy.special import bdtr

    if trials == 0:
        return 1.0
    return min(1.0, 2 * float(bdtr(min(successes, trials - successes), trials, 0.5)))


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must lie strictly between 0 and 0.5, got {alpha!r}")


def _finite_or_none(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None
