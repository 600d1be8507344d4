"""Typed command-line overrides: an override is converted to the type of the value the views
gave the key, or refused.

Rules, by the type of the value the key holds after the views (before the command line):

==========  ===========================================================================
views hold  the override's value
==========  ===========================================================================
``bool``    a bool; the words ``true/false``, ``yes/no``, ``on/off`` and ``1/0`` in any
            letter case become the bool. Anything else (``2``, ``1.0``, ``maybe``) is refused
``int``     an int; anything else (``1.5``, ``2.0``, ``abc``, ``True``) is refused
``float``   a float, or an int (widened: ``lr=1`` gives ``1.0``); anything else is refused
``str``     a str; unquoted text that reads as a number, bool or YAML word is kept as the
            text typed (``name=123`` gives ``'123'``, ``act=none`` gives ``'none'``);
            a list or mapping is refused
``list``    a list or tuple (kept as given); its items are converted by the type the
            views' items share (``[64, 128]``: ints), if they share one
``dict``    a mapping; a value under a key the views' mapping has is converted by that
            value's type, a new key's value by the type all the views' values share
other       anything (no check)
==========  ===========================================================================

``None`` fits every key and item (the spelling ``None``/``null`` unsets a value), and a key
the views hold as ``None`` takes any value. A refused override raises
``ato.scope.errors.OverrideTypeError`` naming the key, the value and the expected type (under
``Scope(strict=False)``: an ``ato.scope.errors.OverrideTypeWarning``, and the value is used as
parsed).
"""

from __future__ import annotations

from collections.abc import Mapping

from .cli import Override
from .provenance import EMPTY_MAPPING

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_MISSING: Any = object()
BOOL_WORDS = {"true": True, "yes": True, "on": True, "1": True}
BOOL_WORDS.update({"false": False, "no": False, "off": False, "0": False})
_ARTICLE = {"bool": "a", "int": "an", "float": "a", "str": "a", "list": "a", "dict": "a"}
_EXAMPLES = {
    "bool": "true/false, yes/no, on/off or 1/0 (any letter case)",
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


class _RefusedError(Exception):
    """An item does not fit: ``path`` (the key, with ``[i]``/``.k`` below it), the value and
    the value the views hold there."""

    def __init__(self, path: str, value: Any, held: Any, expected: str) -> None:
        super().__init__(path)
        self.path, self.value, self.held, self.expected = path, value, held, expected


def fit(override: Override, current: Any) -> tuple[Any, str | None]:
    """``(value to set, problem)`` for ``override`` on a key holding ``current``.

    ``problem`` is ``None`` when the value fits (converted as the module docstring says), else
    a one-line message naming the key, the value and the expected type; the value is then
    returned as parsed.
    """
    value = override.value
    if current is _MISSING or current is None:
        return value, None
    if isinstance(current, str) and override.text is not None and override.text != "None":
        return override.text, None
    try:
        return convert(value, current, override.key), None
    except _RefusedError as refused:
        return value, _problem(override, refused)


def _problem(override: Override, refused: _RefusedError) -> str:
    expected = refused.expected
    return (
        f"override {override.token!r} gives {refused.path!r} the "
        f"{type(refused.value).__name__} {refused.value!r}, but the views hold "
        f"{_ARTICLE[expected]} {expected} there ({refused.held!r}); write {_EXAMPLES[expected]}"
    )


def convert(value: Any, held: Any, path: str) -> Any:
    """``value`` converted to the type of ``held`` (the views' value at ``path``).

    Raises:
        _RefusedError: the value (or an item inside it) does not fit.
    """
    expected = kind(held)
    if value is None or expected is None:
        return value
    if expected == "list":
        return _convert_sequence(value, held, path)
    if expected == "dict":
        return _convert_mapping(value, held, path)
    converted = _convert_scalar(value, expected)
    if converted is _MISSING:
        raise _RefusedError(path, value, held, expected)
    return converted


def _convert_scalar(value: Any, expected: str) -> Any:
    """``value`` as a bool/int/float/str, or ``_MISSING`` when it does not fit."""
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if expected == "bool":
        if isinstance(value, bool):
            return value
        if is_int and value in (0, 1):
            return bool(value)
        return (
            BOOL_WORDS.get(value.strip().lower(), _MISSING) if isinstance(value, str) else _MISSING
        )
    if expected == "int":
        return value if is_int else _MISSING
    if expected == "float":
        if isinstance(value, float):
            return value
        return float(value) if is_int and abs(value) < 2**1023 else _MISSING
    return value if isinstance(value, str) else _MISSING


def _convert_sequence(value: Any, held: Any, path: str) -> Any:
    if not isinstance(value, (list, tuple)):
        raise _RefusedError(path, value, held, "list")
    item = shared_item(held)
    items = [
        value[i] if item is _MISSING else convert(value[i], item, f"{path}[{i}]")
        for i in range(len(value))
    ]
    return tuple(items) if isinstance(value, tuple) else items


def _convert_mapping(value: Any, held: Any, path: str) -> Any:
    if not isinstance(value, Mapping):
        raise _RefusedError(path, value, {} if held is EMPTY_MAPPING else held, "dict")
    template = held if isinstance(held, Mapping) else {}
    shared = shared_item(list(template.values()))
    out = {}
    for key, item in value.items():
        model = template.get(key, shared) if isinstance(key, str) else shared
        out[key] = item if model is _MISSING else convert(item, model, f"{path}.{key}")
    return out


def shared_item(items: Any) -> Any:
    """A value standing for the type that all non-None ``items`` share (ints with floats:
    float), or ``_MISSING`` when they share none or there are none."""
    present = [item for item in items if item is not None]
    kinds = {kind(item) for item in present}
    if kinds == {"int", "float"}:
        return 0.0
    if len(kinds) != 1 or None in kinds:
        return _MISSING
    return present[0]


def kind(value: Any) -> str | None:
    """``'bool'``, ``'int'``, ``'float'``, ``'str'``, ``'list'`` (lists and tuples), ``'dict'``
    (mappings), or ``None`` for types that are not checked."""
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
