"""Structural representation and hash of a config: its keys and value types, not its values.

Algorithm (stable across processes, machines and Python versions; the tracker stores it):

1. Walk the config depth-first. Every key path is written with dots (``model.backbone``).
   A string key that is empty, contains ``.`` or ``:``, has a non-printable character (line
   breaks included) or starts with ``"`` or ``[`` is written as a JSON string literal
   (``"a.b"``), and a key that is not a string as ``[<repr>]`` (``[1]``), so that different
   configs can never produce the same lines (``{'a.b': 1}`` vs ``{'a': {'b': 1}}``, ``{1: 0}``
   vs ``{'1': 0}``). Ordinary identifier-like keys are written as they are.
2. A mapping (``dict``, ADict, any ``Mapping``) with keys is descended into; an empty one
   emits ``<path>: dict``.
3. A ``list`` or ``tuple`` emits ``<path>: list``; its items are not descended into, so its
   length and contents count as values.
4. Any other value emits ``<path>: <type name>`` (``int``, ``float``, ``str``, ``bool``,
   ``NoneType``, ...).
5. The lines are sorted (so key order does not matter) and joined with ``\\n``: that is the
   structural repr. The structural hash is the SHA-256 hex digest of its UTF-8 bytes.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._mapping import mapping_items

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is slow to import and needed only by type checkers
    from collections.abc import Iterator
    from typing import Any


def _key_text(key: Any) -> str:
    if key.__class__ is not str:
        return f"[{key!r}]"
    if key and key.isprintable() and "." not in key and ":" not in key and key[0] not in '"[':
        return key
    import json

    return json.dumps(key)


def _lines(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, Mapping):
        if not value:
            yield f"{path}: dict"
            return
        for key, child in mapping_items(value):
            name = _key_text(key)
            yield from _lines(child, f"{path}.{name}" if path else name)
    elif isinstance(value, (list, tuple)):
        yield f"{path}: list"
    else:
        yield f"{path}: {type(value).__name__}"


def structural_repr(config: Mapping[str, Any]) -> str:
    """Sorted ``path: type`` lines of ``config`` (see the module docstring)."""
    if not config:
        return ""
    return "\n".join(sorted(_lines(config, "")))


def structural_hash(config: Mapping[str, Any]) -> str:
    """SHA-256 hex digest (64 characters) of `structural_repr`."""
    import hashlib

    return hashlib.sha256(structural_repr(config).encode("utf-8")).hexdigest()
