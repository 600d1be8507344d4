"""The config a Scope builds carries the record of its build, so that code given only the
config (an experiment tracker) can store where every key came from.

The record sits in the attribute ``__ato_scope__`` of the config (a slot, not a key: it never
shows in ``to_dict()``, dumps, hashes or the stored config). It is read by duck typing::

    record = getattr(config, "__ato_scope__", None)  # None for any other object
    record.name             # the scope's name ('config')
    record.applied_views    # the steps applied, in order: ['base', '(CLI Inputs)', ...]
    record.provenance       # {dotted key: [Write(value, Source(kind, label, where)), ...]}

These are the attributes a ``Scope`` itself has after a build, so a reader can take either.
The record belongs to that one config: copies (``copy()``, ``clone()``, pickling) do not
carry it, since they may be changed into another config. Nothing is kept anywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from ato.adict import ADict

from .provenance import Write

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ATTRIBUTE = "__ato_scope__"


class BuildRecord:
    """What one build of a scope did: its ``name``, the ``applied_views`` (step names in
    order, ``'(CLI Inputs)'`` marking the command line) and the per-key ``provenance``
    (``{dotted key: [Write, ...]}``, oldest first, read-only)."""

    __slots__ = ("applied_views", "name", "provenance")

    def __init__(
        self, name: str, applied_views: Sequence[str], writes: Mapping[str, list[Write]]
    ) -> None:
        self.name = name
        self.applied_views = list(applied_views)
        self.provenance: Mapping[str, list[Write]] = MappingProxyType(dict(writes))

    def __repr__(self) -> str:
        return f"BuildRecord(name={self.name!r}, applied_views={self.applied_views!r})"


class ScopeConfig(ADict):
    """An ADict that can carry a `BuildRecord` in its ``__ato_scope__`` slot (set only on the
    top level of a built config). Behaves as an ADict in every other way; pickles as one."""

    __slots__ = (ATTRIBUTE,)

    def __reduce__(self) -> tuple[Any, ...]:
        rebuild, (flags, data, _base) = ADict.__reduce__(self)
        return rebuild, (flags, data, ADict)


def new_config() -> ADict:
    """An empty auto-nesting config for a build to fill."""
    return ScopeConfig.auto()


def attach(config: ADict, record: BuildRecord) -> None:
    """Store ``record`` in ``config`` (made by `new_config`) as ``__ato_scope__``."""
    object.__setattr__(config, ATTRIBUTE, record)
