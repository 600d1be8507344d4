"""Dotted key paths (``'model.backbone.depth'``) into nested mappings and lists.

Shared by ``ADict.get_path`` and the composition helpers.

A segment is a key. A segment written as an integer (``0``, ``12``, ``-1``) also matches:

* an ``int`` key of a mapping, when the mapping has no ``str`` key of that spelling
  (``{'demo': {0: 'a'}}`` at ``'demo.0'`` is ``'a'``; a ``'0'`` key wins over a ``0`` key);
* an index of a ``list`` or ``tuple`` (non-negative, in range: ``'layers.0.width'``).
"""

from __future__ import annotations

from collections.abc import Mapping

from ._mapping import MISSING
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
        key = _key_in(node, part)
        if key is not MISSING:
            node = node[key]
        elif default is not MISSING:
            return default
        else:
            where = ".".join(path.split(".")[:i]) or "<root>"
            keys = list(node) if isinstance(node, Mapping) else []
            raise ConfigKeyError(
                f"path {path!r}: {part!r} is not in {where}.{suggest_keys(part, keys)}"
            )
    return node


def as_int(part: str) -> int | None:
    """The integer a path segment spells (``'0'``, ``'-3'``; not ``'007'`` or ``'+1'``)."""
    digits = part[1:] if part[:1] == "-" else part
    if digits.isdigit() and digits.isascii() and str(int(part)) == part:
        return int(part)
    return None


def _key_in(node: Any, part: str) -> Any:
    """The key or index ``part`` names in ``node`` (see the module docstring), or MISSING."""
    if isinstance(node, Mapping):
        if part in node:
            return part
        number = as_int(part)
        return number if number is not None and number in node else MISSING
    if isinstance(node, (list, tuple)):
        number = as_int(part)
        if number is not None and 0 <= number < len(node):
            return number
    return MISSING


def set_path(
    data: MutableMapping[Any, Any],
    path: str,
    value: Any,
    new_parent: Callable[[], MutableMapping[Any, Any]] = dict,
) -> None:
    """Set the dotted ``path`` in ``data`` (changed in place).

    Segments are matched as in ``get_path``: an integer segment names an existing ``int``
    key, or an item of a ``list`` (which is then assigned in place; a segment that is not an
    index of the list raises ``ato.adict.errors.ConfigKeyError``). A missing parent, or
    one that holds something other than a mapping or list, is replaced by ``new_parent()`` (a
    plain ``dict`` by default; ``ADict.set_path`` passes its class). Every write goes
    through ``node[key] = ...``, so a frozen ADict on the way raises
    ``ato.adict.errors.FrozenConfigError``.
    """
    parts = path.split(".")
    node: Any = data
    for part, following in zip(parts[:-1], parts[1:], strict=True):
        key = _key_in(node, part)
        child = _read(node, key) if key is not MISSING else None
        if isinstance(child, list) and _key_in(child, following) is MISSING:
            raise ConfigKeyError(
                f"path {path!r}: {following!r} is not an index of the list at {part!r} "
                f"(length {len(child)}); use 0 to {len(child) - 1}, or assign the whole list"
            )
        if not isinstance(child, (Mapping, list)):
            key = part if key is MISSING else key
            node[key] = new_parent()
            child = _read(node, key)
        node = child
    key = _key_in(node, parts[-1])
    node[parts[-1] if key is MISSING else key] = value


def _read(node: Any, key: Any) -> Any:
    """``node[key]`` without recording an access on a tracking ADict."""
    return dict.__getitem__(node, key) if isinstance(node, dict) else node[key]
