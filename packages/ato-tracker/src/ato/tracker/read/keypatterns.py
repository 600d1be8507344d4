"""Metric key patterns (``ato runs show --keys``) as SQL conditions.

A pattern is a glob with ``*`` (any run of characters, also none) and ``?`` (one character);
a pattern without either matches the keys that start with it (``val/`` -> ``val/*``). Matching
is case-sensitive on every backend: ``GLOB`` on SQLite (whose ``LIKE`` ignores ASCII case),
``LIKE`` elsewhere (PostgreSQL's is case-sensitive, and MySQL/MariaDB key columns have a binary
collation, see ``ato.tracker.storage.models.Name``).
"""

from __future__ import annotations

from typing import Any

_ESCAPE = "!"
_LIKE = {"*": "%", "?": "_"}
_GLOB_LITERAL = {"*": "[*]", "?": "[?]", "[": "[[]"}


def as_glob(pattern: str) -> str:
    """``pattern`` itself if it has a wildcard, else ``pattern + '*'`` (a prefix)."""
    return pattern if ("*" in pattern or "?" in pattern) else pattern + "*"


def key_matches(column: Any, pattern: str, dialect_name: str) -> Any:
    """A SQL condition: ``column`` (a key column) matches ``pattern`` (see the module)."""
    glob = as_glob(pattern)
    if dialect_name == "sqlite":
        return column.op("GLOB")(_render(glob, {"*": "*", "?": "?"}, _GLOB_LITERAL))
    special = {c: _ESCAPE + c for c in ("%", "_", _ESCAPE)}
    return column.like(_render(glob, _LIKE, special), escape=_ESCAPE)


def _render(glob: str, wildcards: dict[str, str], literals: dict[str, str]) -> str:
    return "".join(wildcards.get(c) or literals.get(c, c) for c in glob)
