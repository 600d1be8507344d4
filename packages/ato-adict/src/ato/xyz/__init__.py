"""``ato.xyz``: the module path ato 2.x code imports for the XYZ text format.

A thin alias kept so that 2.x code runs unchanged; new code uses ``ADict.to_xyz()``,
``ADict.from_file('c.xyz')`` / ``cfg.dump('c.xyz')`` or ``ato.adict.xyz``. Importing it
issues a ``DeprecationWarning``. The format itself is described in ``ato.adict.xyz``.

As in 2.x, a document may hold a mapping, a list (top-level ``N)`` items) or one scalar;
mappings are read back as ``ADict`` (also inside lists).

Functions:
    dumps(obj) -> str
    loads(text) -> ADict | list | scalar   (``str`` or UTF-8 ``bytes``)
    dump(obj, file) -> None                (a path, or an open text/binary file)
    load(file) -> ADict | list | scalar    (a path, or an open text/binary file)
    convert_structure_to_tree(obj) -> Node, convert_tree_to_structure(node) -> obj
        (2.x's node tree of a document, ``ato.xyz.tree``)
"""

from __future__ import annotations

import os
import warnings
from typing import IO, Any, cast

from ato.adict import ADict
from ato.adict import xyz as _xyz

from .tree import Node, convert_structure_to_tree, convert_tree_to_structure

warnings.warn(
    "ato.xyz is the ato 2.x module path; use ADict.to_xyz(), ADict.from_file() / cfg.dump() "
    "or ato.adict.xyz instead",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = [
    "Node",
    "convert_structure_to_tree",
    "convert_tree_to_structure",
    "dump",
    "dumps",
    "load",
    "loads",
]

PathOrFile = str | os.PathLike[str] | IO[str] | IO[bytes]


def dumps(obj: Any, format_dict: Any = None) -> str:
    """XYZ text of ``obj``: a mapping (what ``ADict.to_xyz()`` gives), a list or a scalar
    (``ato.adict.xyz.dumps_value``).

    Raises:
        TypeError: ``format_dict`` is given: 3.0 writes the one standard XYZ format.
    """
    _no_custom_format(format_dict)
    return _xyz.dumps_value(obj)


def _no_custom_format(format_dict: Any) -> None:
    if format_dict is not None:
        raise TypeError(
            "format_dict (ato 2.x's custom key/index prefixes and postfixes) is not supported: "
            "ato 3.0 reads and writes the one standard XYZ format; drop the argument"
        )


def loads(text: str | bytes) -> Any:
    """Parse XYZ text (``str``, or ``bytes`` in UTF-8): a mapping document into an ADict, a
    list document into a list (its mappings as ADicts), a one-line scalar into the value.

    Raises:
        XYZSyntaxError: the text is not valid XYZ (the message gives the line).
    """
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8")
    return _as_adicts(_xyz.loads_value(text))


def _as_adicts(value: Any) -> Any:
    """``value`` with its mappings (also inside lists) turned into ADicts."""
    return ADict(value=value)["value"]


def dump(obj: Any, file: PathOrFile, format_dict: Any = None) -> None:
    """Write ``obj`` (a mapping, list or scalar) as XYZ to a path (UTF-8) or to an open text
    or binary file.

    Raises:
        TypeError: ``format_dict`` is given (see `dumps`).
    """
    text = dumps(obj, format_dict)
    if isinstance(file, (str, os.PathLike)):
        with open(file, "w", encoding="utf-8") as handle:
            handle.write(text)
        return
    try:
        cast("IO[str]", file).write(text)
    except TypeError:  # a binary file
        cast("IO[bytes]", file).write(text.encode("utf-8"))


def load(file: PathOrFile) -> Any:
    """Read XYZ from a path or from an open text or binary file, as `loads` reads text.

    Raises:
        FileNotFoundError: the path does not exist.
        XYZSyntaxError: the content is not valid XYZ (with the path, when known, and line).
    """
    if isinstance(file, (str, os.PathLike)):
        with open(file, encoding="utf-8") as handle:
            return _as_adicts(_xyz.loads_value(handle.read(), path=file))
    return loads(file.read())
