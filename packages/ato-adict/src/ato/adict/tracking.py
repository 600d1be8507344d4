"""Opt-in recording of which config keys a program reads (``ADict.track_access``).

While tracking, ADicts switch to a subclass whose reads record dotted paths into a set
shared by the whole tree. Off by default, so normal reads pay nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import core

# id(adict) -> (the tree's shared set of read paths, this node's path prefix)
_REGISTRY: dict[int, tuple[set[str], str]] = {}


def _record(node: Any, key: Any) -> None:
    info = _REGISTRY.get(id(node))
    if info is not None:
        info[0].add(f"{info[1]}{key}")


def _register(node: Any, seen: set[str], prefix: str) -> None:
    if isinstance(node, core.ADict):
        _REGISTRY[id(node)] = (seen, prefix)
        for key, child in dict.items(node):
            _register(child, seen, f"{prefix}{key}.")
    elif isinstance(node, (list, tuple)):
        for i, child in enumerate(node):
            _register(child, seen, f"{prefix}{i}.")


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


class TrackMixin:
    """Reads through this mixin record their key in the registry."""

    __slots__ = ()

    def __getattribute__(self, name: str) -> Any:
        if name[:1] != "_" and dict.__contains__(self, name):
            _record(self, name)
        return object.__getattribute__(self, name)

    def __getitem__(self, key: Any) -> Any:
        value = dict.__getitem__(self, key)
        if key.__class__ is not tuple:
            _record(self, key)
        return value

    def __setitem__(self, key: Any, value: Any) -> None:
        core.ADict.__setitem__(self, key, value)
        info = _REGISTRY.get(id(self))
        if info is not None and key.__class__ is not tuple:
            _register(dict.__getitem__(self, key), info[0], f"{info[1]}{key}.")

    def __setattr__(self, key: str, value: Any) -> None:
        TrackMixin.__setitem__(self, key, value)


def set_tracking(root: core.ADict, enabled: bool) -> None:
    _unregister(root)
    core._walk_set_flag(root, "track", enabled)
    if enabled:
        _register(root, set(), "")


def accessed(root: core.ADict) -> list[str]:
    info = _REGISTRY.get(id(root))
    return sorted(info[0]) if info else []


def minimal_config(root: core.ADict) -> core.ADict:
    paths = accessed(root)
    leaves = [p for p in paths if not any(q.startswith(p + ".") for q in paths)]
    result = core.ADict()
    for path in leaves:
        value = root.raw(path) if "." not in path else _read(root, path)
        result.set_path(path, core._plain(value) if isinstance(value, Mapping) else value)
    return result


def _read(root: core.ADict, path: str) -> Any:
    node: Any = root
    for part in path.split("."):
        node = dict.__getitem__(node, part) if isinstance(node, Mapping) else node[int(part)]
    return node
