"""Typed command-line overrides: an override must fit the type of the value the views gave
the key.

Rules, by the type of the value the key holds after the views (before the command line):

==========  ===========================================================================
views hold  the override's value must be
==========  ===========================================================================
``bool``    a bool (``True``/``False``, or ``true``/``false``)
``int``     an int (not a bool, not a float: ``epochs=1.5`` does not fit)
``float``   a float or an int (widened: ``lr=1`` gives ``1.0``)
``str``     a str; unquoted text that reads as a number, bool or YAML word is kept as the
            text typed (``name=123`` gives ``'123'``, ``act=none`` gives ``'none'``)
``list``    a list or a tuple
``dict``    a mapping
other       anything (no check)
==========  ===========================================================================

``None`` fits every key (the Python spelling ``None`` unsets a value), and a key the views
hold as ``None`` takes any value. An override that does not fit raises
``ato.scope.errors.OverrideTypeError`` under ``Scope(strict=True)`` and issues an
``ato.scope.errors.OverrideTypeWarning`` otherwise (the value is then used as parsed).
"""

from __future__ import annotations

from collections.abc import Mapping

from .cli import Override
from .provenance import EMPTY_MAPPING

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_MISSING: Any = object()
_ARTICLE = {"bool": "a", "int": "an", "float": "a", "str": "a", "list": "a", "dict": "a"}
_EXAMPLES = {
    "bool": "True or False",
    "int": "an integer such as 10",
    "float": "a number such as 0.001",
    "str": "text (quote it for the shell if it has brackets: 'name=\"[x]\"')",
    "list": "a list such as [64, 128]",
    "dict": "a mapping such as {'a': 1}",
}


def lookup(snapshot: Mapping[str, Any], key: str) -> Any:
    """The value at dotted ``key`` in a provenance snapshot, or a private MISSING marker."""
    node: Any = snapshot
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def is_missing(value: Any) -> bool:
    """True for the marker ``lookup`` returns when the key is absent."""
    return value is _MISSING


def fit(override: Override, current: Any) -> tuple[Any, str | None]:
    """``(value to set, problem)`` for ``override`` on a key holding ``current``.

    ``problem`` is ``None`` when the value fits (possibly converted: int widened to float,
    unquoted text kept for a str key), else a message saying what was expected.
    """
    value = override.value
    if current is _MISSING or current is None:
        return value, None
    if isinstance(current, str) and override.text is not None and override.text != "None":
        return override.text, None
    if value is None:
        return value, None
    expected = _kind(current)
    if expected is None or _fits(value, expected):
        return (float(value) if expected == "float" else value), None
    return value, (
        f"override {override.token!r} gives {override.key!r} the {type(value).__name__} "
        f"{value!r}, but the views hold {_ARTICLE[expected]} {expected} there ({current!r}); write "
        f"{_EXAMPLES[expected]}"
    )


def _kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, Mapping) or value is EMPTY_MAPPING:
        return "dict"
    return None


def _fits(value: Any, expected: str) -> bool:
    if expected == "bool":
        return isinstance(value, bool)
    if expected == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected == "str":
        return isinstance(value, str)
    if expected == "list":
        return isinstance(value, (list, tuple))
    return isinstance(value, Mapping)
