"""Validation of what a comparison is given: every message names the model and counts the bad values.

``role`` is who the values belong to: ``candidate``, ``baseline``, or ``labels`` for ``y_true``.
Nothing here drops a bad value silently: it raises :class:`MetricInputError` instead.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import TYPE_CHECKING, Any

from ..errors import MetricInputError, PromoteWarning

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "MIN_EXAMPLES",
    "SMALL_SAMPLE",
    "as_1d",
    "finite",
    "check_length",
    "check_sample_size",
    "check_resampling",
    "classes_of",
    "positive_mask",
    "predicted_labels",
    "probability_columns",
    "sample_weights",
    "group_ids",
]

MIN_EXAMPLES = 2  # fewer cannot be resampled at all
SMALL_SAMPLE = 30  # fewer: the interval is computed, with a warning that it is unreliable


def as_1d(values: Any, what: str, role: str) -> np.ndarray:
    import numpy as np

    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise MetricInputError(f"{role} {what}: expected a 1-D array, got shape {array.shape}")
    return array


def finite(array: np.ndarray, what: str, role: str) -> np.ndarray:
    """``array`` as float64; NaN or infinite values are an error that counts them."""
    import numpy as np

    if array.dtype.kind not in "biuf":
        raise MetricInputError(f"{role} {what}: expected numbers, got dtype {array.dtype}")
    array = array.astype(np.float64, copy=False)
    bad = int(np.count_nonzero(~np.isfinite(array)))
    if bad:
        raise MetricInputError(f"{role} {what}: {bad} of {array.size} values are NaN or infinite")
    return array


def check_length(array: np.ndarray, n: int, what: str, role: str) -> None:
    if len(array) != n:
        raise MetricInputError(f"{role} {what} have {len(array)} rows but y_true has {n}")


def check_sample_size(units: int, what: str = "examples") -> None:
    """Below 2 is an error; below 30 the comparison runs with a warning."""
    if units < MIN_EXAMPLES:
        raise MetricInputError(f"need at least {MIN_EXAMPLES} {what} to compare, got {units}")
    if units < SMALL_SAMPLE:
        warnings.warn(
            PromoteWarning(f"only {units} {what}: bootstrap intervals below {SMALL_SAMPLE} are unreliable"),
            stacklevel=3,
        )


def classes_of(y: np.ndarray) -> np.ndarray:
    import numpy as np

    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise MetricInputError(f"y_true: {int(np.count_nonzero(~np.isfinite(y)))} labels are NaN or infinite")
    if y.dtype.kind == "O":
        kinds = {type(value) for value in y.tolist()}
        if len(kinds) > 1:
            raise MetricInputError(f"y_true mixes label types {sorted(kind.__name__ for kind in kinds)}")
    return np.unique(y)


def positive_mask(y: np.ndarray) -> np.ndarray:
    """Binary labels: the greater of the two classes is positive (1 of 0/1, 1 of -1/1, 'yes' of no/yes)."""
    classes = classes_of(y)
    if len(classes) != 2:
        raise MetricInputError(f"this metric needs exactly two classes in y_true, found {len(classes)}: {classes.tolist()[:10]}")
    return y == classes[1]


def predicted_labels(y: np.ndarray, classes: np.ndarray, pred: Any, role: str) -> np.ndarray:
    """Labels from predictions: labels as given, argmax of probability columns, or a 0.5 cut."""
    import numpy as np

    array = np.asarray(pred)
    if array.ndim == 2 and array.shape[1] > 1:
        array = finite(array, "probabilities", role)
        check_length(array, len(y), "predictions", role)
        return classes[probability_columns(y, classes, array.shape[1], role, labels=False)[np.argmax(array, axis=1)]]
    array = as_1d(array, "predictions", role)
    check_length(array, len(y), "predictions", role)
    if array.dtype.kind == "f":
        finite(array, "predictions", role)
        if not np.all(array == np.round(array)):
            # fractional 1-D predictions are positive-class probabilities (binary only)
            if len(classes) != 2 or array.min() < 0 or array.max() > 1:
                raise MetricInputError(
                    f"{role} predictions: fractional values are read as positive-class probabilities, "
                    f"which needs binary labels and values in [0, 1]; pass predicted labels instead"
                )
            return np.where(array > 0.5, classes[1], classes[0])
    if (array.dtype.kind in "biuf") != (y.dtype.kind in "biuf"):
        raise MetricInputError(f"{role} predictions are {array.dtype} labels but y_true is {y.dtype}: they can never match")
    return array


def probability_columns(y: np.ndarray, classes: np.ndarray, columns: int, role: str, *, labels: bool = True) -> np.ndarray:
    """Which probability column belongs to each label (``labels=True``) or to each class.

    Columns follow the sorted class order, as scikit-learn's ``predict_proba`` does; with
    more columns than classes in ``y_true``, integer labels name their column directly.
    """
    import numpy as np

    if columns == len(classes):
        return np.searchsorted(classes, y) if labels else np.arange(columns)
    if y.dtype.kind in "iu" and classes.min() >= 0 and classes.max() < columns:
        return y.astype(np.intp) if labels else classes.astype(np.intp)
    raise MetricInputError(
        f"{role} predictions have {columns} probability columns but y_true has {len(classes)} classes {classes.tolist()[:10]}"
    )


def sample_weights(weight: Any, n: int) -> np.ndarray | None:
    """Validated non-negative weights, or None for unit weights."""
    import numpy as np

    if weight is None:
        return None
    array = finite(as_1d(weight, "values", "sample_weight"), "values", "sample_weight")
    check_length(array, n, "values", "sample_weight")
    negative = int(np.count_nonzero(array < 0))
    if negative:
        raise MetricInputError(f"sample_weight: {negative} of {n} weights are negative")
    if not array.sum() > 0:
        raise MetricInputError("sample_weight: every weight is zero")
    return array


def group_ids(groups: Any, n: int) -> tuple[np.ndarray, int]:
    """Resampling units: (index of each row's group in 0..G-1, G)."""
    import numpy as np

    array = as_1d(groups, "values", "groups")
    check_length(array, n, "values", "groups")
    if array.dtype.kind == "f":
        bad = int(np.count_nonzero(~np.isfinite(array)))
        if bad:
            raise MetricInputError(f"groups: {bad} of {n} group ids are NaN or infinite")
    if array.dtype.kind == "O" and any(value is None or (isinstance(value, float) and math.isnan(value)) for value in array.tolist()):
        raise MetricInputError("groups: some group ids are missing (None or NaN)")
    try:
        unique, index = np.unique(array, return_inverse=True)
    except TypeError:
        raise MetricInputError("groups: group ids mix types that cannot be compared") from None
    return index.astype(np.intp), len(unique)


def check_resampling(alpha: float, resamples: int, seed: int) -> None:
    """The arguments every resampling comparison shares; ValueError names the bad one."""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 < alpha < 0.5:
        raise ValueError(f"alpha must lie strictly between 0 and 0.5, got {alpha!r}")
    if isinstance(resamples, bool) or not isinstance(resamples, int) or resamples < 2:
        raise ValueError(f"resamples must be an integer >= 2, got {resamples!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
