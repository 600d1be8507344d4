"""Trial metrics: checking what a trial returned, and ranking with NaN/failures as worst."""

from __future__ import annotations

import math
import numbers
from typing import Any

from .errors import SearchSettingError, TrialResultError

MODES = ("max", "min")


def check_mode(mode: Any) -> str:
    """Return ``mode`` if it is ``'max'`` or ``'min'``.

    Raises:
        SearchSettingError: for anything else.
    """
    if mode not in MODES:
        raise SearchSettingError(f"mode must be 'max' or 'min', got {mode!r}")
    return str(mode)


def worst(mode: str) -> float:
    """The metric a failed trial is recorded with: -inf for ``'max'``, +inf for ``'min'``."""
    return -math.inf if mode == "max" else math.inf


def as_metric(value: Any, where: str) -> float:
    """Convert a trial's return value to ``float``.

    Accepts ``int``/``float``, any ``numbers.Real`` (numpy scalars) and one-element tensors
    or arrays (anything whose ``.item()`` is a real number). NaN is returned as NaN.

    Raises:
        TrialResultError: for ``bool``, ``None``, strings, dicts and anything else; the
            message names ``where`` (the trial) and the value's type.
    """
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, bool):
        try:
            inner = item()
        except (TypeError, ValueError, RuntimeError):
            inner = None
        if isinstance(inner, numbers.Real) and not isinstance(inner, bool):
            return float(inner)
    raise TrialResultError(
        f"{where} returned {type(value).__name__} {value!r:.80}; a trial function must return "
        f"its metric as a real number (int or float)"
    )


def rank_key(metric: float, mode: str) -> float:
    """Sort key: ascending order puts the best metric first; NaN sorts last in both modes."""
    if math.isnan(metric):
        return math.inf
    return -metric if mode == "max" else metric
