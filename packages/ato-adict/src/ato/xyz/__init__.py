"""``ato.xyz``: the module path ato 2.x code imports for the XYZ text format.

A thin alias kept so that 2.x code runs unchanged; new code uses ``ADict.to_xyz()``,
``ADict.from_file('c.xyz')`` / ``cfg.dump('c.xyz')`` or ``ato.adict.xyz``. Importing it
issues a ``DeprecationWarning``. The format itself is described in ``ato.adict.xyz``.

Functions:
    dumps(mapping) -> str
    loads(text) -> ADict             (``str`` or UTF-8 ``bytes``)
    dump(mapping, file) -> None      (a path, or an open text/binary file)
    load(file) -> ADict              (a path, or an open text/binary file)
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from typing import IO, Any, cast

from ato.adict import ADict
from ato.adict import xyz as _xyz

warnings.warn(
    "ato.xyz is the ato 2.x module path; use ADict.to_xyz(), ADict.from_file() / cfg.dump() "
    "or ato.adict.xyz instead",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["dump", "dumps", "load", "loads"]

PathOrFile = str | os.PathLike[str] | IO[str] | IO[bytes]


def dumps(mapping: Mapping[Any, Any]) -> str:
    """XYZ text of ``mapping`` (what ``ADict.to_xyz()`` gives)."""
    return _xyz.dumps(mapping)


def loads(text: str | bytes) -> ADict:
    """Parse XYZ text (``str``, or ``bytes`` in UTF-8) into an ADict.

    Raises:
        XYZSyntaxError: the text is not valid XYZ (the message gives the line).
    """
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8")
    return ADict(_xyz.loads(text))


def dump(mapping: Mapping[Any, Any], file: PathOrFile) -> None:
    """Write ``mapping`` as XYZ to a path (UTF-8) or to an open text or binary file."""
    text = dumps(mapping)
    if isinstance(file, (str, os.PathLike)):
        with open(file, "w", encoding="utf-8") as handle:
            handle.write(text)
        return
    try:
        cast("IO[str]", file).write(text)
    except TypeError:  # a binary file
        cast("IO[bytes]", file).write(text.encode("utf-8"))


def load(file: PathOrFile) -> ADict:
    """Read XYZ from a path or from an open text or binary file into an ADict.

    Raises:
        FileNotFoundError: the path does not exist.
        XYZSyntaxError: the content is not valid XYZ (with the path, when known, and line).
    """
    if isinstance(file, (str, os.PathLike)):
        with open(file, encoding="utf-8") as handle:
            return ADict(_xyz.loads(handle.read(), path=file))
    return loads(file.read())
