"""Opt-in recording of which config keys a program reads (``ADict.track_access``).

While tracking, ADicts switch to a subclass whose reads record key paths into a set shared
by the whole tree. Off by default, so normal reads pay nothing.

What counts as a read: ``cfg.key``, ``cfg['key']``, ``cfg['a', 'b']``, ``getattr`` and
``cfg.get('key')`` on a key that exists. Iterating, ``in``, ``len``, ``raw()``, ``to_dict()``
and ``**cfg`` unpacking do not record anything.

Paths are kept as tuples of keys (list items by their index) and shown joined with dots.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any

from . import core

Path = tuple[Any, ...]
# id(adict) -> (the tree's shared set of read paths, this node's path, weak reference to it).
# The weak reference's callback drops the entry when the ADict dies, so a new object that
# reuses the id never inherits stale records.
_REGISTRY: dict[int, tuple[set[Path], Path, weakref.ref[Any]]] = {}


def _record(node: Any, key: Any) -> None:
    info = _REGISTRY.get(id(node))
    if info is not None:
        info[0].add((*info[1], key))


def _forget(node_id: int) -> Any:
    return lambda _ref: _REGISTRY.pop(node_id, None)


def _register(node: Any, seen: set[Path], prefix: Path) -> None:
    if isinstance(node, core.ADict):
        _REGISTRY[id(node)] = (seen, prefix, weakref.ref(node, _forget(id(node))))
        for key, child in dict.items(node):
            _register(child, seen, (*prefix, key))
    elif isinstance(node, (list, tuple)):
        for i, child in enumerate(node):
            _register(child, seen, (*prefix, i))


def _unregister(node: Any) -> None:
    if isinstance(node, core.ADict):
        _REGISTRY.pop(id(node), None)
        children: Any = dict.values(node)
    elif isinstance(node, (list, tuple)):
        children = node
    else:
        return
    for child in children:
        _unregister(child)


def _info(node: Any) -> tuple[set[Path], Path] | None:
    info = _REGISTRY.get(id(node))
    if info is None or info[2]() is not node:
        return None
    return info[0], info[1]


class TrackMixin:
    """Reads through this mixin record their key in the registry."""

    __slots__ = ()

    # ``self: Any``: the mixin only ever sits in front of ADict, a dict.
    def __getattribute__(self: Any, name: str) -> Any:
        if name[:2] != "__" and dict.__contains__(self, name):
            _record(self, name)
        return object.__getattribute__(self, name)

    def __getitem__(self: Any, key: Any) -> Any:
        value = dict.__getitem__(self, key)
        if key.__class__ is not tuple:
            _record(self, key)
        return value

    def get(self: Any, key: Any, default: Any = None) -> Any:
        """``dict.get``; records the read when ``key`` exists."""
        if dict.__contains__(self, key):
            _record(self, key)
        return dict.get(self, key, default)

    def __setitem__(self: Any, key: Any, value: Any) -> None:
        core.ADict.__setitem__(self, key, value)
        info = _info(self)
        if info is not None and key.__class__ is not tuple:
            _register(dict.__getitem__(self, key), info[0], (*info[1], key))

    def __setattr__(self, key: str, value: Any) -> None:
        TrackMixin.__setitem__(self, key, value)


def set_tracking(root: core.ADict, enabled: bool) -> None:
    """Switch ``root`` and everything below it to (or from) the tracking variant; a new
    start clears earlier records."""
    _unregister(root)
    core._walk_set_flag(root, "track", enabled)
    if enabled:
        _register(root, set(), ())


def _relative_paths(node: core.ADict) -> list[Path]:
    info = _info(node)
    if info is None:
        return []
    seen, prefix = info
    n = len(prefix)
    return [p[n:] for p in seen if len(p) > n and p[:n] == prefix]


def _dotted(path: Path) -> str:
    return ".".join(str(part) for part in path)


def accessed(node: core.ADict) -> list[str]:
    """Sorted dotted paths, relative to ``node``, of the keys read below it."""
    return sorted(_dotted(p) for p in _relative_paths(node))


def _resolve(node: Any, path: Path) -> tuple[Path, Any] | None:
    """Follow ``path`` from ``node``; stop at the first list/tuple (kept whole). ``None`` if a
    key on the path has been deleted since it was read."""
    for i, part in enumerate(path):
        if isinstance(node, (list, tuple)):
            return path[:i], node
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = dict.__getitem__(node, part) if isinstance(node, dict) else node[part]
    return path, node


def minimal_config(node: core.ADict) -> core.ADict:
    """A new plain ADict with only the read leaves below ``node`` (see ``get_minimal_config``)."""
    resolved: dict[Path, Any] = {}
    for path in _relative_paths(node):
        found = _resolve(node, path)
        if found is not None:
            resolved[found[0]] = found[1]
    leaves = [
        p for p in resolved if not any(len(q) > len(p) and q[: len(p)] == p for q in resolved)
    ]
    result = core.ADict()
    for path in sorted(leaves, key=_dotted):
        parent = result
        for part in path[:-1]:
            child = dict.get(parent, part)
            if not isinstance(child, core.ADict):
                child = core.ADict()
                dict.__setitem__(parent, part, child)
                core._guard(parent, part)
            parent = child
        parent[path[-1]] = core._plain(resolved[path])
    return result
