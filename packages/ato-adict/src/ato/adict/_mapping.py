"""Shadow-safe access to mappings for ato's own code.

An ADict's keys are its instance attributes, so a config key named ``items``, ``keys`` or
``get`` hides the method of that name on that instance. ato's internal code therefore reads
``dict`` instances (ADicts included) through the ``dict`` methods themselves.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import ItemsView, Mapping
    from typing import Any

# Default of "no default given" for lookups where ``None`` is a valid default.
MISSING: Any = object()
_dict_items = dict.items
_dict_get = dict.get


def mapping_items(mapping: Mapping[Any, Any]) -> ItemsView[Any, Any]:
    """``mapping.items()``, immune to a key named ``items`` on a ``dict`` subclass."""
    if isinstance(mapping, dict):
        return _dict_items(mapping)
    return mapping.items()


def mapping_get(mapping: Mapping[Any, Any], key: Any, default: Any = None) -> Any:
    """``mapping.get(key, default)``, immune to a key named ``get`` on a ``dict`` subclass."""
    if isinstance(mapping, dict):
        return _dict_get(mapping, key, default)
    return mapping.get(key, default)
