"""Plain builtin values for writers: what a subclass or numpy scalar stands for.

Every file writer (and XYZ rendering) stores a value of a subclass of ``int``, ``float`` or
``str`` (``IntEnum`` and ``(str, Enum)`` members, ``numpy.float64``, ``numpy.str_`` ...) as
the builtin value it equals, and a numpy scalar (``numpy.int64``, ``numpy.bool_`` ...) as its
``.item()``. The written file then loads back equal (``==``) to what was written. numpy is
never imported: its scalars are recognised by their module name.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NOT_PLAIN: Any = object()
"""Returned by ``plain_scalar`` for a value that is no plain scalar."""
_PLAIN = frozenset({type(None), bool, int, float, str})


def plain_scalar(value: Any) -> Any:
    """``value`` as ``None``/``bool``/``int``/``float``/``str``, or ``NOT_PLAIN``."""
    if value.__class__ in _PLAIN:
        return value
    if isinstance(value, int):  # IntEnum, IntFlag, other int subclasses (bool is final)
        return int(value)
    if isinstance(value, float):  # numpy.float64, float subclasses
        return float(value)
    if isinstance(value, str):  # (str, Enum) members, numpy.str_: the text itself
        return str.__str__(value)
    if type(value).__module__ == "numpy" and callable(getattr(value, "item", None)):
        try:
            item = value.item()
        except (TypeError, ValueError):  # an array of several values
            return NOT_PLAIN
        return item if item.__class__ in _PLAIN else NOT_PLAIN
    return NOT_PLAIN
