"""Validation of integer search settings (``num_min_samples``, ``max_steps``, ``world_size``)."""

from __future__ import annotations

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
