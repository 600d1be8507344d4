"""MLflow params (strings) back to a typed, nested config."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any

_SEPARATOR = re.compile(r"[./]")
_SPECIAL = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}


def typed(text: str) -> Any:
    """``text`` as the Python literal it spells (``'0.1'`` → 0.1, ``'True'`` → True,
    ``'None'`` → None, ``'[1, 2]'`` → [1, 2], ``'nan'`` → NaN) - MLflow stores ``str(value)``
    of every param; anything else stays a string. Parsed with ``ast.literal_eval``, which
    evaluates literals only, never code."""
    stripped = text.strip()
    if stripped.lower() in _SPECIAL:
        return _SPECIAL[stripped.lower()]
    try:
        value = ast.literal_eval(stripped)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text
    return (
        value if isinstance(value, (int, float, bool, list, dict, tuple)) or value is None else text
    )


def nested_config(params: Mapping[str, str]) -> dict[str, Any]:
    """``params`` typed back (see `typed`) and nested by ``.`` or ``/`` in their keys
    (``{'optim.lr': '0.1'}`` → ``{'optim': {'lr': 0.1}}``). When nesting would lose a key
    (``'a'`` and ``'a.b'`` both set, an empty part), the keys are kept flat."""
    flat = {key: typed(value) for key, value in params.items()}
    nested: dict[str, Any] = {}
    leaves: set[tuple[str, ...]] = set()
    for key, value in sorted(flat.items()):
        parts = tuple(_SEPARATOR.split(key))
        if "" in parts or any(parts[:i] in leaves for i in range(1, len(parts) + 1)):
            return flat
        node = nested
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        if parts[-1] in node:  # a branch already: 'a.b' came before 'a'
            return flat
        node[parts[-1]] = value
        leaves.add(parts)
    return nested
