"""Checks at ``log_metric`` time against what every backend stores.

A row the database would refuse must be refused when it is logged, with an error naming the
metric, not later when its batch is written (one refused row used to block its whole batch).
What SQLite, PostgreSQL and MariaDB all store:

- ``step``: a 64-bit signed integer (``BIGINT``), ``-2**63 <= step < 2**63``, or ``None``;
- ``key``: at most 255 characters of valid Unicode without NUL (PostgreSQL text cannot hold
  ``\\x00``; a lone surrogate cannot be encoded as UTF-8 for any backend);
- ``value``: anything ``float()`` accepts that fits a 64-bit float (``10**400`` does not);
  NaN and +-inf are stored exactly (see `ato.tracker.storage.values`);
- ``timestamp`` (given explicitly): seconds since the Unix epoch from 0 (1970-01-01 UTC) to
  before year 10000, the range of every backend's ``DATETIME``.
"""

from __future__ import annotations

import operator
import os
from datetime import datetime, timedelta, timezone
from typing import Any

from ..errors import ArtifactPathError, MetricKeyError, MetricValueError
from ..storage.models import KEY_LENGTH

STEP_MIN = -(2**63)
STEP_MAX = 2**63 - 1
TIMESTAMP_MAX = 253_402_300_800.0  # 10000-01-01T00:00:00Z
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
SECOND = timedelta(seconds=1)


def check_key(name: Any) -> str:
    """The metric name ``name`` as a ``str`` (non-strings via ``str()``) every backend stores.

    Raises:
        MetricKeyError: longer than 255 characters, contains NUL, or is not valid Unicode.
    """
    key: str = name if name.__class__ is str else str(name)
    if len(key) > KEY_LENGTH:
        raise MetricKeyError(key, KEY_LENGTH)
    if "\x00" in key:
        raise MetricKeyError(key, KEY_LENGTH, "contains a NUL character (\\x00); remove it")
    if not key.isascii():
        try:
            key.encode("utf-8")
        except UnicodeEncodeError as error:
            raise MetricKeyError(
                key,
                KEY_LENGTH,
                f"is not valid Unicode (lone surrogate {key[error.start]!r} at index "
                f"{error.start}); decode the name properly before logging",
            ) from None
    return key


def check_value(key: str, value: Any) -> float:
    """``value`` as a float.

    Raises:
        MetricValueError: not a number, or outside the range of a 64-bit float.
    """
    try:
        return float(value)
    except OverflowError:
        raise MetricValueError(
            key,
            value,
            "is outside the range of a 64-bit float (about +-1.8e308); log a scaled value or "
            "float('inf')",
        ) from None
    except (TypeError, ValueError):
        raise MetricValueError(key, value) from None


def check_step(key: str, step: Any) -> int | None:
    """``step`` as an ``int`` (or ``None``).

    Raises:
        TypeError: ``step`` is not an integer (``operator.index`` fails).
        MetricValueError: outside the 64-bit signed integer range.
    """
    if step is None:
        return None
    number: int = step if step.__class__ is int else operator.index(step)
    if not STEP_MIN <= number <= STEP_MAX:
        raise MetricValueError(
            key,
            step,
            f"is not a storable step: steps are 64-bit integers from {STEP_MIN} to {STEP_MAX}",
        )
    return number


def artifact_text(value: Any, what: str) -> str:
    """An artifact's ``path`` or ``data_type`` (``what``) as storable text: ``str``, ``bytes`` and
    ``os.PathLike`` values are decoded as file names (``os.fsdecode``), anything else goes
    through ``str()``.

    Raises:
        ArtifactPathError: the text is not valid Unicode (a name in another encoding than the
            file system's decodes to lone surrogates) or contains NUL.
    """
    text = os.fsdecode(value) if isinstance(value, (str, bytes, os.PathLike)) else str(value)
    if "\x00" in text:
        raise ArtifactPathError(what, text, "contains a NUL character (\\x00); remove it")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise ArtifactPathError(
                what,
                text,
                f"is not valid Unicode (undecodable byte {text[error.start]!r} at index "
                f"{error.start}); rename the file to a UTF-8 name or pass the name as a str "
                "decoded with its real encoding",
            ) from None
    return text


def check_timestamp(key: str, timestamp: Any) -> float:
    """``timestamp`` (seconds since the Unix epoch) as a float of whole microseconds: the
    nearest float to the microsecond ``datetime.fromtimestamp`` gives, so that every backend
    stores that same microsecond (SQLite converts the float in SQL, see
    ``ato.tracker.write.buffer``).

    Raises:
        TypeError: not a real number (``float()`` fails).
        MetricValueError: not from 0 (1970-01-01 UTC) to before year 10000 (NaN included).
    """
    try:
        seconds = float(timestamp)
    except (TypeError, ValueError):
        raise TypeError(
            f"metric {key!r}: timestamp must be seconds since the Unix epoch (a number), "
            f"got {type(timestamp).__name__}: {timestamp!r}"
        ) from None
    if not 0.0 <= seconds < TIMESTAMP_MAX:
        raise MetricValueError(
            key,
            timestamp,
            "is not a storable timestamp: seconds since 1970-01-01 UTC, before year 10000",
        )
    return (datetime.fromtimestamp(seconds, timezone.utc) - EPOCH) / SECOND
