"""Per-key provenance: which step (view, lazy block, CLI token, argparse) wrote each key.

Algorithm: a *snapshot* of the config (nested plain dicts; scalar leaves shared, other leaves
deep-copied, empty mappings as a marker) is taken before and after each step (a view, a lazy
block, the argparse merge). The two snapshots are compared subtree by subtree, skipping equal
subtrees with one C-level ``==``; every dotted path whose value changed, appeared or
disappeared is recorded against that step. Command-line overrides are recorded directly,
token by token. A step that writes a value equal (``==``) to the one already there leaves no
record. Leaves are scalars, lists/tuples and empty mappings; non-empty mappings are descended
into.
"""

from __future__ import annotations

import copy
from collections import namedtuple
from collections.abc import Callable, Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_SCALARS = frozenset({int, float, str, bool, type(None), bytes, complex})
_MISSING: Any = object()


class _Deleted:
    def __repr__(self) -> str:
        return "<deleted>"


DELETED: Any = _Deleted()
"""The value recorded when a step removed a key."""


class Source(namedtuple("Source", "kind label where", defaults=("",))):
    """Where a write came from.

    Attributes:
        kind: ``'initial'``, ``'view'``, ``'lazy'`` (a ``with Scope.lazy():`` block),
            ``'cli'`` or ``'argparse'``.
        label: a view name, the CLI token, or the argparse flag.
        where: ``file:line`` of the view or block, ``''`` for CLI and argparse.
    """

    __slots__ = ()

    kind: str
    label: str
    where: str

    def __str__(self) -> str:
        if self.kind == "cli":
            return f"CLI {self.label}"
        if self.kind == "argparse":
            return f"argparse {self.label}"
        if self.kind == "lazy":
            return f"{self.label} (lazy block, {self.where})"
        if self.where:
            return f"{self.label} ({self.where})"
        return self.label


class Write(namedtuple("Write", "value source")):
    """One recorded write: ``value`` (or [`DELETED`][ato.scope.DELETED]) put at the key by ``source``."""

    __slots__ = ()

    value: Any
    source: Source


def _snapshot(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {}
    try:
        return copy.deepcopy(value)
    except Exception:  # uncopyable objects (locks, handles): compare by identity
        return value


def _differs(a: dict[str, Any], b: dict[str, Any]) -> bool:
    try:
        return bool(a != b)
    except Exception:  # values whose == is not a bool (arrays): compare leaf by leaf
        return True


def _same(a: Any, b: Any) -> bool:
    if a is b or (a is EMPTY_MAPPING and b is EMPTY_MAPPING):
        return True
    if a.__class__ is not b.__class__:
        return False
    try:
        return bool(a == b)
    except Exception:  # e.g. arrays with ambiguous truth values
        return False


class _EmptyMapping:
    def __repr__(self) -> str:
        return "{}"

    def __reduce__(self) -> str:
        return "EMPTY_MAPPING"


EMPTY_MAPPING: Any = _EmptyMapping()


def snapshot(
    config: Mapping[str, Any], on_mapping: Callable[[Mapping[str, Any]], None] | None = None
) -> dict[str, Any]:
    """Nested plain-dict copy of ``config`` for `diff` (see the module docstring).

    ``on_mapping`` is called on every non-empty nested mapping.
    """
    out = dict(config)
    if set(map(type, out.values())) <= _SCALARS:
        return out
    for key, value in out.items():
        if value.__class__ in _SCALARS:
            continue
        if isinstance(value, Mapping):
            if value:
                if on_mapping is not None:
                    on_mapping(value)
                out[key] = snapshot(value, on_mapping)
            else:
                out[key] = EMPTY_MAPPING
        else:
            out[key] = _snapshot(value)
    return out


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{prefix + dotted path: leaf}`` of ``config``; mutable leaves are copied (as in
    `snapshot`) so later in-place edits do not change them, empty mappings are ``{}``."""
    flat = leaves(snapshot(config), prefix)
    return {k: {} if v is EMPTY_MAPPING else v for k, v in flat.items()}


def leaves(
    snap: Mapping[str, Any], prefix: str = "", out: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``{dotted path: leaf}`` of a snapshot."""
    out = {} if out is None else out
    for key, value in snap.items():
        if value.__class__ is dict:
            leaves(value, f"{prefix}{key}.", out)
        else:
            out[f"{prefix}{key}"] = value
    return out


def all_paths(snap: Mapping[str, Any], prefix: str = "", out: set[str] | None = None) -> set[str]:
    """Every dotted path of a snapshot: leaves and the mappings above them."""
    out = set() if out is None else out
    if prefix:
        out.add(prefix[:-1])
    out.update(f"{prefix}{key}" for key in snap)
    for key, value in snap.items():
        if value.__class__ is dict:
            all_paths(value, f"{prefix}{key}.", out)
    return out


def diff(
    before: dict[str, Any],
    after: dict[str, Any],
    prefix: str = "",
    out: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Paths whose leaf changed, appeared (new value) or disappeared ([`DELETED`][ato.scope.DELETED])
    between two snapshots."""
    out = {} if out is None else out
    if not _differs(before, after):
        return out
    for key, new in after.items():
        old = before.get(key, _MISSING)
        if old is new:
            continue
        path = f"{prefix}{key}"
        if new.__class__ is dict:
            if old.__class__ is dict:
                diff(old, new, path + ".", out)
                continue
            if old is not _MISSING:
                out[path] = DELETED
            leaves(new, path + ".", out)
        else:
            if old.__class__ is dict:
                out.update(dict.fromkeys(leaves(old, path + "."), DELETED))
                out[path] = new
            elif not _same(old, new):
                out[path] = new
    for key in before.keys() - after.keys():
        old = before[key]
        if old.__class__ is dict:
            out.update(dict.fromkeys(leaves(old, f"{prefix}{key}."), DELETED))
        else:
            out[f"{prefix}{key}"] = DELETED
    return out


class ProvenanceLog:
    """The ordered writes of one config build: ``{dotted key: [Write, ...]}``."""

    def __init__(self) -> None:
        self.writes: dict[str, list[Write]] = {}

    def record(self, changes: Mapping[str, Any], source: Source) -> None:
        """Append ``Write(value, source)`` for each ``{dotted key: value}`` of ``changes``."""
        for key, value in changes.items():
            if value is EMPTY_MAPPING:
                value = {}
            self.writes.setdefault(key, []).append(Write(value, source))

    def record_override(self, key: str, value: Any, source: Source) -> None:
        """Record a CLI/argparse write of ``value`` (a mapping is recorded leaf by leaf)."""
        if isinstance(value, Mapping) and value:
            self.record(flatten(value, key + "."), source)
        else:
            self.record({key: value if value.__class__ in _SCALARS else _snapshot(value)}, source)
