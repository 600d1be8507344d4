"""Deep merge of plain nested dicts (used by compose and mmconfig)."""

from __future__ import annotations

from collections.abc import Mapping

from ._mapping import mapping_items

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def deep_merge(
    base: Mapping[str, Any],
    update: Mapping[str, Any],
    replaces: Callable[[Mapping[str, Any]], bool] | None = None,
) -> dict[str, Any]:
    """A new dict: ``base`` with ``update`` merged in. Inputs are not modified.

    Where both values of a key are mappings they merge recursively, unless
    ``replaces(new_value)`` is true (OpenMMLab's ``_delete_=True``, for instance); any other
    value in ``update`` replaces the one in ``base``.
    """
    result = dict(base)
    for key, value in mapping_items(update):
        current = result.get(key)
        if (
            isinstance(current, Mapping)
            and isinstance(value, Mapping)
            and not (replaces is not None and replaces(value))
        ):
            result[key] = deep_merge(current, value, replaces)
        else:
            result[key] = value
    return result
