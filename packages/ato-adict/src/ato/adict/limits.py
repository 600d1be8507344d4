"""Bounds that keep reading and writing config files cheap, whatever the file holds.

* ``MAX_DEPTH``: a config nests at most this many mappings/lists (the top-level mapping is
  level 1). Deeper documents are refused on reading and on writing, so every written file can
  be read back and no reader or converter runs out of Python stack.
* ``MAX_ALIAS_NODES``: shared values (YAML aliases and merge keys, or one list placed
  twice in a ``.py`` config) may add at most this many values to the document once every
  reference is counted as a copy. Converting a loaded document therefore costs time
  proportional to the file plus this bound, never to an exponential "billion laughs".
* Integers are limited to Python's integer-string limit (``sys.get_int_max_str_digits()``,
  4300 digits by default): longer ones cannot be parsed nor written as decimal text.

A value that refers to itself (a YAML recursive alias, ``a.append(a)`` in a ``.py`` config)
is refused too.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from ._mapping import mapping_items
from .errors import ConfigFileError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

MAX_DEPTH = 100
"""Most levels of nested mappings/lists in a config (the top-level mapping is level 1)."""
MAX_ALIAS_NODES = 100_000
"""Most values that shared references (YAML aliases, merge keys) may add to a document."""

_END: Any = object()


def int_digit_limit() -> int:
    """Python's current limit on decimal digits of an ``int`` (0 when unlimited)."""
    getter = getattr(sys, "get_int_max_str_digits", None)
    return int(getter()) if getter is not None else 0


def int_too_long(value: int) -> bool:
    """True if ``value`` has more decimal digits than Python converts to or from text."""
    limit = int_digit_limit()
    if not limit or value.bit_length() < limit * 3:  # 3 bits per digit: surely short enough
        return False
    try:
        str(value)
    except ValueError:
        return True
    return False


def show_path(path: str) -> str:
    """A dotted key path shortened for messages (long paths keep their start and end)."""
    if len(path) <= 80:
        return repr(path or "<root>")
    return repr(f"{path[:40]}...{path[-30:]}")


_LEAVES = frozenset({type(None), bool, int, float, str})


def _children(value: Any) -> Iterator[tuple[Any, Any]] | None:
    cls = value.__class__
    if cls is dict:
        return iter(dict.items(value))
    if cls is list or cls is tuple:
        return enumerate(value)
    if cls in _LEAVES:
        return None
    if isinstance(value, Mapping):
        return iter(mapping_items(value))
    if isinstance(value, (list, tuple)):
        return enumerate(value)
    return None


class _Frame:
    __slots__ = ("value", "key", "children", "size", "height")

    def __init__(self, value: Any, key: Any, children: Iterator[tuple[Any, Any]]) -> None:
        self.value = value
        self.key = key
        self.children = children
        self.size = 1
        self.height = 1


def _path(frames: list[_Frame], key: Any) -> str:
    """The dotted path of ``key`` below the open frames (built only for error messages)."""
    return ".".join(str(k) for k in [*(f.key for f in frames[1:]), key])


def check_tree(
    data: Any,
    file: object = None,
    writing: bool = False,
    depth_line: Callable[[], int | None] | None = None,
) -> bool:
    """Check the bounds above on nested mappings/lists, without recursion.

    Args:
        data: the document (mappings, lists, tuples, scalars).
        file: named in error messages.
        writing: also refuse integers too long to be written as decimal text.
        depth_line: called for the line to report when the document is too deep.

    Returns:
        True when some container is referenced more than once (the document shares values).

    Raises:
        ConfigFileError: naming the dotted key where the document nests deeper than
            ``MAX_DEPTH``, contains itself, holds an over-long integer (``writing``), or
            when shared values add more than ``MAX_ALIAS_NODES`` values.
    """
    top = _children(data)
    if top is None:
        return False
    done: dict[int, tuple[int, int]] = {}  # id -> (expanded size, height) of finished nodes
    active = {id(data)}
    written = 1
    frames = [_Frame(data, None, top)]
    while frames:
        frame = frames[-1]
        key, child = next(frame.children, (None, _END))
        if child is _END:
            frames.pop()
            active.discard(id(frame.value))
            done[id(frame.value)] = (frame.size, frame.height)
            if frames:
                _add(frames[-1], frame.size, frame.height)
            continue
        written += 1
        children = _children(child)
        if children is None:
            frame.size += 1
            if writing and child.__class__ is not bool and isinstance(child, int):
                _check_int(child, frames, key, file)
            continue
        known = done.get(id(child))
        if id(child) in active:
            raise ConfigFileError(
                f"the value at key {show_path(_path(frames, key))} contains itself (a "
                "recursive reference); config files hold trees of values",
                file,
            )
        depth = len(frames) + (known[1] if known is not None else 1)
        if depth > MAX_DEPTH:
            _too_deep(_path(frames, key), file, depth_line)
        if known is not None:
            _add(frame, *known)
            continue
        frames.append(_Frame(child, key, children))
        active.add(id(child))
    total = done[id(data)][0]
    if total - written > MAX_ALIAS_NODES:
        raise ConfigFileError(
            f"shared values (aliases) expand this document to {total} values although only "
            f"{written} are written out; at most {MAX_ALIAS_NODES} more are allowed",
            file,
        )
    return total != written


def check_depth(
    data: Any, file: object = None, depth_line: Callable[[], int | None] | None = None
) -> None:
    """A fast ``check_tree`` for documents that are trees by construction (JSON, TOML): only
    the depth can be out of bounds. Raises as ``check_tree`` does."""
    if _deeper_than(data, MAX_DEPTH):
        check_tree(data, file, depth_line=depth_line)


def _deeper_than(value: Any, levels: int) -> bool:
    """True if ``value`` nests more than ``levels`` mappings/lists (recursion <= ``levels``)."""
    cls = value.__class__
    if cls is dict:
        children: Any = dict.values(value)
    elif cls is list or cls is tuple:
        children = value
    elif cls in _LEAVES:
        return False
    elif isinstance(value, Mapping):
        children = [v for _, v in mapping_items(value)]
    elif isinstance(value, (list, tuple)):
        children = value
    else:
        return False
    if levels == 0:
        return True
    for child in children:
        if child.__class__ not in _LEAVES and _deeper_than(child, levels - 1):
            return True
    return False


def _add(frame: _Frame, size: int, height: int) -> None:
    frame.size += size
    frame.height = max(frame.height, height + 1)


def _check_int(value: int, frames: list[_Frame], key: Any, file: object) -> None:
    if int_too_long(value):
        raise ConfigFileError(
            f"the integer at key {show_path(_path(frames, key))} has more than "
            f"{int_digit_limit()} digits, which Python cannot write as text; store it as a "
            "string",
            file,
        )


def _too_deep(path: str, file: object, depth_line: Callable[[], int | None] | None) -> None:
    raise ConfigFileError(
        f"the value at key {show_path(path)} nests deeper than {MAX_DEPTH} levels of "
        "mappings and lists, the most ato reads or writes",
        file,
        depth_line() if depth_line is not None else None,
    )


def unshare(value: Any) -> Any:
    """A copy of a checked document in which no list or mapping appears twice.

    Mappings become plain ``dict``s and tuples stay tuples. Recursion is bounded by
    ``MAX_DEPTH`` (call ``check_tree`` first).
    """
    if isinstance(value, Mapping):
        return {k: unshare(v) for k, v in mapping_items(value)}
    if isinstance(value, list):
        return [unshare(v) for v in value]
    if isinstance(value, tuple):
        return tuple(unshare(v) for v in value)
    return value
