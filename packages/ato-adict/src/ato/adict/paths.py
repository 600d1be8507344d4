"""Dotted key paths (``'model.backbone.depth'``) into nested mappings and lists.

Shared by [`ADict.get_path`][ato.adict.ADict.get_path] and the composition helpers.
A segment of digits indexes a ``list`` or ``tuple`` (``'layers.0.width'``).
"""

from __future__ import annotations

from collections.abc import Mapping

from ._mapping import MISSING, mapping_get
from .errors import ConfigKeyError, suggest_keys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is slow to import and needed only by type checkers
    from collections.abc import Callable, MutableMapping
    from typing import Any


def get_path(data: Mapping[Any, Any], path: str, default: Any = MISSING) -> Any:
    """Read the dotted ``path`` from ``data``; each mapping is read with ``node[part]``.

    Args:
        data: nested mappings, lists and tuples.
        path: keys joined with ``.``; digit segments index lists/tuples.
        default: returned when a segment is missing; without it a missing segment raises.

    Raises:
        ConfigKeyError: naming the first missing segment, where it was looked for, and the
            close matches among the keys there.
    """
    node: Any = data
    for i, part in enumerate(path.split(".")):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif default is not MISSING:
            return default
        else:
            where = ".".join(path.split(".")[:i]) or "<root>"
            keys = list(node) if isinstance(node, Mapping) else []
            raise ConfigKeyError(
                f"path {path!r}: {part!r} is not in {where}.{suggest_keys(part, keys)}"
            )
    return node


def set_path(
    data: MutableMapping[Any, Any],
    path: str,
    value: Any,
    new_parent: Callable[[], MutableMapping[Any, Any]] = dict,
) -> None:
    """Set the dotted ``path`` in ``data`` (changed in place).

    A missing parent, or one that holds something other than a mapping, is replaced by
    ``new_parent()`` (a plain ``dict`` by default; [`ADict.set_path`][ato.adict.ADict.set_path] passes its class).
    Every write goes through ``node[key] = ...``, so a frozen ADict on the way raises
    [`FrozenConfigError`][ato.adict.FrozenConfigError].
    """
    *parents, last = path.split(".")
    node = data
    for part in parents:
        child = mapping_get(node, part)
        if not isinstance(child, Mapping):
            node[part] = new_parent()
            child = node[part]
        node = child
    node[last] = value
