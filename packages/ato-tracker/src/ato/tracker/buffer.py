"""The metric write path: an in-memory buffer flushed in batches, one transaction per batch.

``append`` only puts a tuple on a ``collections.deque`` (atomic under the GIL, so no lock on
the hot path). A flush drains the deque and writes it with one ``INSERT`` executemany per
batch of at most ``batch_size`` rows. The statement is a Core ``insert()`` compiled once per
dialect; rows go to the driver's ``executemany`` as ready-made tuples (see
`MetricWriter`), skipping SQLAlchemy's per-row parameter processing, which otherwise
costs more than SQLite's own insert work. Flushes happen when the buffer reaches ``batch_size``
rows, when ``flush_interval`` seconds have passed since the last flush (checked on every
append and by a daemon timer thread, so metrics become durable even when logging pauses),
and whenever the owner calls `MetricBuffer.flush` (``finish()``, context-manager exit,
garbage collection and interpreter exit).
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import weakref
from collections import deque
from collections.abc import Callable
from datetime import datetime, timezone
from time import time
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, insert
from sqlalchemy.engine import Dialect

from .engine import run_transaction
from .errors import BufferSettingsError
from .models import MetricRecord

_log = logging.getLogger("ato.tracker")
_from_timestamp = datetime.fromtimestamp
_UTC = timezone.utc
_COLUMNS = ("run_id", "key", "value", "step", "timestamp")

# (run_id, key, value or None, step or None, unix time in seconds)
MetricRow = tuple[int, str, "float | None", "int | None", float]


class MetricBuffer:
    """Buffered metric rows for one engine.

    Args:
        engine: where rows go.
        batch_size: rows per transaction and the size that triggers a flush (>= 1).
        flush_interval: seconds after which buffered rows are flushed (> 0).

    Raises:
        BufferSettingsError: ``batch_size < 1`` or ``flush_interval <= 0``.
    """

    def __init__(self, engine: Engine, batch_size: int, flush_interval: float) -> None:
        if batch_size < 1 or flush_interval <= 0:
            raise BufferSettingsError(batch_size, flush_interval)
        self.engine = engine
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.pending: deque[MetricRow] = deque()
        self.writer = MetricWriter(engine.dialect)
        self.flush_due = time() + flush_interval
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        _live_buffers.add(self)

    def flush(self) -> int:
        """Write every buffered row; return how many were written.

        Thread-safe: flushes are serialized by a lock, and rows appended meanwhile are either
        taken by this flush or left for the next. Rows of a batch whose transaction fails
        (after the retries of `run_transaction`) go back to the
        front of the buffer, in order, and the error propagates; a later flush writes them.

        Raises:
            sqlalchemy.exc.DBAPIError: a batch could not be written.
        """
        written = 0
        with self._flush_lock:
            self.flush_due = time() + self.flush_interval
            while self.pending:
                rows = self._take(self.batch_size)
                try:
                    run_transaction(self.engine, functools.partial(self.writer.write, rows=rows))
                except BaseException:
                    self.pending.extendleft(reversed(rows))
                    raise
                written += len(rows)
        return written

    def _take(self, limit: int) -> list[MetricRow]:
        popleft = self.pending.popleft
        return [popleft() for _ in range(min(limit, len(self.pending)))]

    def start_timer(self) -> None:
        """Start the daemon thread that flushes every ``flush_interval`` seconds (idempotent).

        A timer stopped by `stop_timer` that has not exited yet is replaced: each
        thread gets its own stop event, so restarting right after a stop always leaves one
        running timer.
        """
        if self._timer is not None and self._timer.is_alive() and not self._stop.is_set():
            return
        self._stop = threading.Event()
        self._timer = threading.Thread(
            target=_timer_loop,
            args=(weakref.ref(self), self._stop, self.flush_interval),
            name="ato-tracker-flush",
            daemon=True,
        )
        self._timer.start()

    def stop_timer(self) -> None:
        """Stop the timer thread (it exits within ``flush_interval`` seconds)."""
        self._stop.set()

    def close(self) -> None:
        """Stop the timer and flush; errors are logged, not raised (runs at exit and on GC,
        where nothing could handle them; the rows that could not be written are lost then)."""
        self.stop_timer()
        try:
            self.flush()
        except Exception:
            _log.exception("ato.tracker: could not flush %d buffered metrics", len(self.pending))


class MetricWriter:
    """Writes metric rows with the driver's ``executemany`` for one SQL dialect.

    Timestamps are converted the way `UTCDateTime` would: an aware
    UTC ``datetime`` for PostgreSQL, a naive UTC one for MySQL, and for SQLite the exact text
    SQLAlchemy's SQLite ``DATETIME`` stores (``YYYY-MM-DD HH:MM:SS.ffffff``), formatted once per
    second and completed with the microseconds.

    Args:
        dialect: the dialect of the engine the rows go to.
    """

    def __init__(self, dialect: Dialect) -> None:
        compiled = (
            insert(cast(Table, MetricRecord.__table__))
            .inline()
            .compile(dialect=dialect, column_keys=list(_COLUMNS))
        )
        self.sql = str(compiled)
        # The driver's parameter layout, fixed per dialect: named (dicts), or positional in
        # the compiled statement's order (indexes into a row; None when that is _COLUMNS').
        self.named = not compiled.positional
        order = list(compiled.positiontup or ()) if compiled.positional else list(_COLUMNS)
        self.index = None if order == list(_COLUMNS) else [_COLUMNS.index(n) for n in order]
        by_dialect: dict[str, Callable[[float], Any]] = {
            "sqlite": _SqliteTime(),
            "postgresql": lambda t: _from_timestamp(t, _UTC),
        }
        self.convert_time: Callable[[float], Any] = by_dialect.get(
            dialect.name, lambda t: _from_timestamp(t, _UTC).replace(tzinfo=None)
        )

    def write(self, conn: Connection, rows: list[MetricRow]) -> None:
        """Insert ``rows`` (`MetricRow` tuples) on ``conn``, inside the caller's
        transaction.

        Raises:
            sqlalchemy.exc.DBAPIError: the driver rejected the insert.
        """
        convert = self.convert_time
        params: list[Any] = [(r, k, v, s, convert(t)) for r, k, v, s, t in rows]
        if self.named:
            params = [dict(zip(_COLUMNS, p, strict=True)) for p in params]
        elif self.index is not None:
            index = self.index
            params = [tuple(p[i] for i in index) for p in params]
        conn.exec_driver_sql(self.sql, params)


class _SqliteTime:
    """Unix time -> SQLite DATETIME text in UTC, caching the formatted second."""

    def __init__(self) -> None:
        self.second = -1
        self.prefix = ""

    def __call__(self, t: float) -> str:
        second = int(t)
        if second != self.second:
            self.second = second
            self.prefix = _from_timestamp(second, _UTC).strftime("%Y-%m-%d %H:%M:%S")
        return f"{self.prefix}.{int((t - second) * 1e6):06d}"


def _timer_loop(ref: weakref.ref[MetricBuffer], stop: threading.Event, interval: float) -> None:
    while not stop.wait(interval):
        buffer = ref()
        if buffer is None:
            return
        if buffer.pending and time() >= buffer.flush_due:
            try:
                buffer.flush()
            except Exception:
                _log.exception("ato.tracker: background flush failed; will retry")
        del buffer


# Every buffer of this process, so that a forked child can drop what it inherited.
_live_buffers: weakref.WeakSet[MetricBuffer] = weakref.WeakSet()


def _forget_inherited_rows() -> None:
    """In a forked child, drop the parent's buffered rows (the parent writes them; the child
    writing them too would store every one twice) and its flush lock, which another thread of
    the parent may have held at the fork."""
    for buffer in list(_live_buffers):
        buffer.pending.clear()
        buffer._flush_lock = threading.Lock()
        buffer._timer = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_inherited_rows)
