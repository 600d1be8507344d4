"""A run's config flattened into ``run_params`` rows (revision 0010), so that runs tables
filter and sort by a parameter through an index instead of reading every run's JSON.

One row per config entry a run-filter key can name (``params.model.lr`` names the entry
``lr`` inside the object ``model``): its dotted ``key``, its ``kind`` and, by kind, its value:

============  =================  ==============  ==============
JSON value    ``kind``           ``num_value``   ``text_value``
============  =================  ==============  ==============
number        `NUMBER` (0)       the number      NULL
string        `STRING` (1)       NULL            the string
true / false  `BOOL` (2)         1 / 0           NULL
object        `OTHER` (3)        NULL            NULL
array, null   `OTHER` (3)        NULL            NULL
============  =================  ==============  ==============

``text_prefix`` holds a string's first `TEXT_PREFIX_LENGTH` characters (NULL for the other
kinds): indexed as ``(key, text_prefix)``, it answers ``= 'a text'`` of a shorter text from
the index alone (a stored text equals it exactly when its prefix does).

Objects get a row of their own (``params.model is not null`` holds) and their entries rows
below them; arrays are values, not descended into. An entry a filter key cannot name is
left out with everything under it: a name that is empty or holds ``.``, ``"`` or ``\\``, or
a dotted key longer than `KEY_LENGTH` characters (see `check_key`). A number no double holds
(beyond ±1.8e308) is stored as `OTHER`.

Written with the config, in the same transaction (`ato.tracker.write.logger`), and filled
for older runs by revision 0010.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, insert

from ..errors import RunFilterError
from .models import KEY_LENGTH, TEXT_PREFIX_LENGTH, RunParamRecord

NUMBER = 0
STRING = 1
BOOL = 2
OTHER = 3
#: Columns of one row, in the order `rows` gives them.
COLUMNS = ("run_id", "key", "kind", "num_value", "text_value", "text_prefix")
TABLE = cast(Table, RunParamRecord.__table__)


def store(conn: Connection, run_id: int, config: Any, *, replace: bool = False) -> None:
    """Write the rows of run ``run_id``'s stored ``config`` on ``conn`` (inside the caller's
    transaction, the one that stores the config); ``replace``: delete the run's rows first
    (its config changed)."""
    if replace:
        conn.execute(delete(TABLE).where(TABLE.c.run_id == run_id))
    params = rows(run_id, config)
    if params:
        conn.execute(insert(TABLE), params)


def rows(run_id: int, config: Any) -> list[dict[str, Any]]:
    """The ``run_params`` rows of run ``run_id`` whose stored config is ``config`` (a JSON
    object as a ``dict``; anything else, e.g. ``None`` for a run without config, gives no
    rows), as dicts keyed by `COLUMNS`."""
    if not isinstance(config, Mapping):
        return []
    return [
        {
            "run_id": run_id,
            "key": key,
            "kind": kind,
            "num_value": number,
            "text_value": text,
            "text_prefix": None if text is None else text[:TEXT_PREFIX_LENGTH],
        }
        for key, kind, number, text in entries(config)
    ]


def entries(config: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, int, Any, Any]]:
    """``(dotted key, kind, num_value, text_value)`` of every entry of ``config`` a filter
    key can name, depth first (see the module table)."""
    for name, value in config.items():
        if not isinstance(name, str) or not _nameable(name):
            continue
        key = prefix + name
        if len(key) > KEY_LENGTH:
            continue
        yield (key, *_typed(value))
        if isinstance(value, Mapping):
            yield from entries(value, key + ".")


def _nameable(name: str) -> bool:
    return bool(name) and "." not in name and '"' not in name and "\\" not in name


def _typed(value: Any) -> tuple[int, Any, Any]:
    if isinstance(value, bool):
        return BOOL, int(value), None
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:  # an int beyond a double's range
            return OTHER, None, None
        return (NUMBER, number, None) if math.isfinite(number) else (OTHER, None, None)
    if isinstance(value, str):
        return STRING, None, value
    return OTHER, None, None


def check_key(key: str) -> None:
    """Raise unless ``key`` (a filter's or sort's dotted config key) can name a stored row.

    Raises:
        RunFilterError: a part of the key is empty or holds a double quote or backslash, or
            the key is longer than `KEY_LENGTH` characters; the message says which.
    """
    for part in key.split("."):
        if not part or '"' in part or "\\" in part:
            raise RunFilterError(
                f"config key {key!r} cannot be read: its parts must be non-empty and hold "
                "no double quote or backslash"
            )
    if len(key) > KEY_LENGTH:
        raise RunFilterError(
            f"config key {key[:40]!r}... cannot be read: filters and sorts name config keys "
            f"of at most {KEY_LENGTH} characters (this one has {len(key)})"
        )
