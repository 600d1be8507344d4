"""Deep merge and dotted-path helpers for plain nested dicts (used by compose and mmconfig)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._mapping import mapping_items
from .errors import ConfigKeyError

_MISSING: Any = object()


def deep_merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """A new dict: ``base`` with ``update`` merged in; nested mappings merge recursively,
    any other value in ``update`` replaces the one in ``base``. Inputs are not modified."""
    result = dict(base)
    for key, value in mapping_items(update):
        current = result.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            result[key] = deep_merge(current, value)
        else:
            result[key] = value
    return result


def get_path(data: Mapping[str, Any], dotted: str, default: Any = _MISSING) -> Any:
    """Read ``'a.b.c'`` from nested mappings (digits index into lists).

    Raises:
        ConfigKeyError: a segment is missing and no ``default`` was given.
    """
    node: Any = data
    for i, part in enumerate(dotted.split(".")):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif default is not _MISSING:
            return default
        else:
            where = ".".join(dotted.split(".")[:i]) or "<root>"
            raise ConfigKeyError(f"path {dotted!r}: {part!r} is not in {where}")
    return node


def set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``'a.b.c'`` in nested dicts, creating (or replacing non-dict) parents with dicts."""
    *parents, last = dotted.split(".")
    node = data
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[last] = value
