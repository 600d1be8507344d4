"""Per-key provenance: which step (view, lazy block, CLI token, argparse) wrote each key.

Algorithm: the config is flattened to ``{dotted path: leaf value}`` before and after each step
(a function view, a lazy block, the argparse merge); every path whose value changed, appeared
or disappeared is recorded against that step. Command-line overrides are recorded directly,
token by token. A step that writes a value equal to the one already there leaves no record.
Leaves are scalars, lists/tuples and empty mappings; non-empty mappings are descended into.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_SCALARS = frozenset({int, float, str, bool, type(None), bytes, complex})
_MISSING: Any = object()


class _Deleted:
    def __repr__(self) -> str:
        return "<deleted>"


DELETED: Any = _Deleted()
"""The value recorded when a step removed a key."""


@dataclass(frozen=True)
class Source:
    """Where a write came from.

    Attributes:
        kind: ``'initial'``, ``'view'``, ``'lazy'`` (a ``with Scope.lazy():`` block),
            ``'cli'`` or ``'argparse'``.
        label: a view name, the CLI token, or the argparse flag.
        where: ``file:line`` of the view or block, ``''`` for CLI and argparse.
    """

    kind: str
    label: str
    where: str = ""

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


@dataclass(frozen=True)
class Write:
    """One recorded write: ``value`` (or :data:`DELETED`) put at the key by ``source``."""

    value: Any
    source: Source


def flatten(config: Mapping, prefix: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{dotted path: leaf}``; mutable leaves are copied so later in-place edits show up."""
    out = {} if out is None else out
    for key, value in dict.items(config) if isinstance(config, dict) else config.items():
        path = f"{prefix}{key}"
        if value.__class__ in _SCALARS:
            out[path] = value
        elif isinstance(value, Mapping) and value:
            flatten(value, path + ".", out)
        else:
            out[path] = _snapshot(value)
    return out


def _snapshot(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {}
    try:
        return copy.deepcopy(value)
    except Exception:  # uncopyable objects (locks, handles): compare by identity
        return value


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if a.__class__ is not b.__class__:
        return False
    try:
        return bool(a == b)
    except Exception:  # e.g. arrays with ambiguous truth values
        return False


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Paths whose leaf changed, appeared (new value) or disappeared (:data:`DELETED`)."""
    changed = {k: v for k, v in after.items() if not _same(before.get(k, _MISSING), v)}
    for key in before.keys() - after.keys():
        changed[key] = DELETED
    return changed


class ProvenanceLog:
    """The ordered writes of one config build: ``{dotted key: [Write, ...]}``."""

    def __init__(self) -> None:
        self.writes: dict[str, list[Write]] = {}

    def record(self, changes: Mapping[str, Any], source: Source) -> None:
        for key, value in changes.items():
            self.writes.setdefault(key, []).append(Write(value, source))

    def record_override(self, key: str, value: Any, source: Source) -> None:
        """Record a CLI/argparse write of ``value`` (a mapping is recorded leaf by leaf)."""
        if isinstance(value, Mapping) and value:
            self.record(flatten(value, key + "."), source)
        else:
            self.record({key: value if value.__class__ in _SCALARS else _snapshot(value)}, source)
