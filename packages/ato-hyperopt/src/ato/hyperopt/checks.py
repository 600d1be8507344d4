"""Checks of user input shared by the search: integer settings (``num_min_samples``,
``max_steps``, ``world_size``), and warnings that point at the user's own line."""

from __future__ import annotations

import os
import sys
import warnings
from types import FrameType
from typing import Any

from .errors import SearchSettingError


def check_positive_int(name: str, value: Any) -> int:
    """Return ``value`` if it is an ``int`` >= 1 (``bool`` excluded).

    Args:
        name: the setting's name, for the message.
        value: the value given.

    Raises:
        SearchSettingError: for anything else; the message names ``name`` and the value.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SearchSettingError(f"{name} must be an int >= 1, got {value!r}")
    return value


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def warn_user(message: str, category: type[Warning]) -> None:
    """Issue ``warnings.warn(message, category)`` attributed to the first stack frame outside
    ato.hyperopt, so the warning names the user's line however deep the call came from."""
    level = 2  # stacklevel 2 is the caller of warn_user
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and os.path.dirname(frame.f_code.co_filename) == _PACKAGE_DIR:
        level, frame = level + 1, frame.f_back
    warnings.warn(message, category, stacklevel=level)
