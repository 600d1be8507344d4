"""The metric write path: an in-memory buffer written in batches by a background thread.

``append`` puts a tuple on a ``collections.deque`` (atomic under the GIL, no lock) and, when the
batch is full or ``flush_interval`` has passed, wakes the buffer's flush thread: the thread
that logs never waits on the database. A flush writes the buffered rows with one ``INSERT``
executemany per batch of at most ``batch_size`` rows, one transaction per batch. Rows stay in
the deque until their transaction committed, so a row is always either stored or buffered.

Delivery is exactly-once: every row carries this buffer's random ``writer`` id and its own
sequence number, the ``metrics`` table has a unique index on ``(run_id, writer, seq)``, and the
insert skips rows already stored (``ON CONFLICT DO NOTHING`` on SQLite and PostgreSQL, a no-op
``ON DUPLICATE KEY UPDATE`` on MySQL/MariaDB, which unlike ``INSERT IGNORE`` keeps rejecting
bad data). Retrying a batch whose COMMIT reply was lost therefore stores nothing twice.

A batch refused for a data reason (a value, key or step the database rejects) is split in
halves until the refused rows are isolated: the good rows are written, each bad row is logged,
kept in `rejected` and dropped, never retried. A batch that fails because
the database cannot be reached stays buffered; if the database stays unreachable for
``spool_after`` seconds, or at exit, the buffered rows go to the spool file (see
`ato.tracker.write.spool`), from which the next successful flush - or ``ato sync`` - writes them.
Rows leave the buffer only once stored: in the database, or in the spool file after its
``fsync`` (exactly the rows saved; rows appended meanwhile stay). If the spool file cannot be
written either (disk full), the rows stay in memory and the flush thread keeps retrying while
the process lives; ``finish``/``close`` then raise `MetricsNotStoredError` and the exit status
of the process becomes 1 (see `ato.tracker.write.exits`).

The statement is compiled once per dialect; rows go to the driver's ``executemany`` as
ready-made tuples, skipping SQLAlchemy's per-row parameter processing (on SQLite into a
connection-private staging table, moved into ``metrics`` by one statement, see
`ato.tracker.write.sqlite_batch`; on PostgreSQL through psycopg 3 the same by one ``COPY``,
see `ato.tracker.write.postgres_batch`).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import threading
import weakref
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from time import monotonic

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from ..errors import BufferSettingsError, DatabaseTimeoutError, MetricsNotStoredError
from ..storage.database import Database
from ..storage.settings import Timeouts, default_spool_dir
from . import spool
from .inserts import MetricWriter, write_isolating
from .rows import MetricRow

_log = logging.getLogger("ato.tracker")
_from_timestamp = datetime.fromtimestamp
_UTC = timezone.utc
_COLUMNS = ("run_id", "key", "value", "value_class", "step", "timestamp", "writer", "seq")
_UNIQUE = ("run_id", "writer", "seq")

# Errors meaning "the database could not be reached or did not answer".
UNREACHABLE = (DBAPIError, DatabaseTimeoutError, OSError)


def new_writer_id() -> int:
    """A random positive 63-bit id for one buffer (one process's writes to one run)."""
    return int.from_bytes(os.urandom(8), "big") >> 1 or 1


@dataclass(frozen=True)
class RejectedMetric:
    """A buffered row the database refused for its data: the ``row`` (see `MetricRow`)
    and the database's ``reason``."""

    row: MetricRow
    reason: str


class MetricBuffer:
    """Buffered metric rows for one engine.

    Args:
        engine: where rows go.
        batch_size: rows per transaction and the size that triggers a flush (>= 1).
        flush_interval: seconds after which buffered rows are flushed (> 0).
        timeouts: ``spool_after`` is taken from it (default `Timeouts`).
        spool_dir: directory of the spool file (default
            `ato.tracker.storage.settings.default_spool_dir`).
        database: the database of ``engine``, named in the spool file for ``ato sync``
            (default: made from ``engine.url``).

    Raises:
        BufferSettingsError: ``batch_size < 1`` or ``flush_interval <= 0``.
    """

    def __init__(
        self,
        engine: Engine,
        batch_size: int,
        flush_interval: float,
        *,
        timeouts: Timeouts | None = None,
        spool_dir: Path | None = None,
        database: Database | None = None,
    ) -> None:
        if batch_size < 1 or flush_interval <= 0:
            raise BufferSettingsError(batch_size, flush_interval)
        self.engine = engine
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.spool_after = (timeouts or Timeouts()).spool_after
        self.spool_dir = spool_dir or default_spool_dir()
        self.database = database or Database.from_url(
            engine.url.render_as_string(hide_password=False)
        )
        self.pending: deque[MetricRow] = deque()
        self.rejected: list[RejectedMetric] = []
        self.writer = MetricWriter(engine.dialect)
        self.writer_id = new_writer_id()
        self.next_seq = itertools.count(1).__next__
        self.flush_due = monotonic() + flush_interval  # a step of the wall clock moves nothing
        self.wake_at = batch_size  # the number of buffered rows that makes a flush due
        self.failing_since: float | None = None
        self.spooled = False  # this buffer's spool file may hold rows
        self.spilled_seq = 0  # rows up to this seq are saved in the spool file already
        self.run_ends: dict[int, tuple[int, str, float]] = {}  # ends no store could take yet
        self.stranded = False  # rows no store could take are kept in memory
        self.closed = False  # close() stored or spooled everything once
        bounds = timeouts or Timeouts()
        self.lock_bound = bounds.statement + bounds.connect  # a flush takes at most about this
        self._flush_lock = threading.Lock()
        self._flusher: int | None = None  # the thread holding the flush lock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        _live_buffers.add(self)

    @property
    def spool_file(self) -> Path:
        """This buffer's spool file (it exists only once rows were spooled)."""
        return spool.spool_path(self.spool_dir, self.database, self.writer_id)

    @property
    def db_url(self) -> str:
        """The URL of this buffer's database (with its password)."""
        return self.database.url

    @db_url.setter
    def db_url(self, url: str) -> None:
        self.database = Database.from_url(url, self.database.timeouts)

    def append(self, run_id: int, key: str, value: float, step: int | None, now: float) -> None:
        """Buffer one validated row; flush when due (see `flush_due_rows`)."""
        pending = self.pending
        pending.append((run_id, key, value, step, now, self.next_seq()))
        if len(pending) >= self.wake_at or monotonic() >= self.flush_due:
            self.flush_due_rows()

    def flush_due_rows(self) -> None:
        """A flush is due: wake the flush thread, which writes the rows; the caller never
        writes a batch itself, not even into a local SQLite file (its worst ``log_metric``
        call would take as long as a batch's transaction). The next size-triggered flush is
        then due a batch later, so that the appends made while the thread writes stay on
        the fast path instead of each waking it again. A helper thread's rows (see
        `appends_only`) wake nobody: they wait for the next wake or the thread's next tick."""
        if self._timer is None or not self._timer.is_alive():
            self.start_timer()
        if getattr(_helper_thread, "appends_only", False):
            return
        self.wake_at = len(self.pending) + self.batch_size
        self._wake.set()

    def flush(self, *, lock_timeout: float = -1) -> int:
        """Write every buffered row (and first this buffer's spooled rows); return how many
        buffered rows were written or found already stored.

        Thread-safe: flushes are serialized by a lock (waited for at most ``lock_timeout``
        seconds; ``-1`` waits as long as the flush holding it, which is time-bounded). Rows
        appended meanwhile are either taken by this flush or left for the next. Rows refused
        for their data are dropped into `rejected`. When a batch cannot be written the
        error propagates and the rows stay buffered; if that has lasted ``spool_after``
        seconds, they are moved to the spool file first.

        Raises:
            sqlalchemy.exc.DBAPIError, DatabaseTimeoutError: the database could not be
                reached or did not answer in time.
            TimeoutError: the lock was not free within ``lock_timeout``, or the flush this
                thread was running was interrupted by a signal whose handler flushes.
        """
        if self._flusher == threading.get_ident():
            raise TimeoutError("a signal interrupted this thread's flush of the metric buffer")
        if not self._flush_lock.acquire(timeout=lock_timeout):
            raise TimeoutError(f"another flush held the metric buffer for {lock_timeout:g} s")
        self._flusher = threading.get_ident()
        self._wake.clear()
        try:
            self.flush_due = monotonic() + self.flush_interval
            self.wake_at = self.batch_size
            try:
                if self.spooled:
                    self._replay_spool()
                written = self._write_pending()
                if self.run_ends:
                    self._record_run_ends()
            except UNREACHABLE:
                self._note_failure()
                raise
            self.failing_since = None
            if self.stranded:
                self._unstrand(written)
            return written
        finally:
            self._flusher = None
            self._flush_lock.release()

    def _write_pending(self) -> int:
        written = 0
        pending = self.pending
        while pending:
            rows = list(itertools.islice(pending, self.batch_size))
            written += write_isolating(self.engine, self.writer, rows, self.writer_id, self._reject)
            drop_oldest(pending, len(rows))
        return written

    def _replay_spool(self) -> None:
        self.spooled = False  # a spill during the replay sets it again
        try:
            for path in spool.writer_files(self.spool_file):
                spooled = spool.read(path)
                if spooled is None:
                    continue
                inserted, _ = spool.replay(self.engine, spooled, self.batch_size)
                _log.warning(
                    "ato.tracker: %s is reachable again; wrote %d spooled metrics from %s",
                    self.database.shown_url,
                    inserted,
                    spooled.path,
                )
        except BaseException:
            self.spooled = True
            raise

    def _record_run_ends(self) -> None:
        for run_id, end in list(self.run_ends.items()):
            spool.record_end(self.engine, *end)
            del self.run_ends[run_id]

    def _unstrand(self, written: int) -> None:
        self.stranded = False
        _stranded.discard(self)
        _log.warning(
            "ato.tracker: %s is reachable again; wrote the %d metrics kept in memory",
            self.database.shown_url,
            written,
        )

    def strand(self) -> None:
        """Keep the buffered rows (and run ends) no store could take, and the flush thread
        retrying, for as long as the process lives (also after the logger is dropped)."""
        self.stranded = True
        _stranded.add(self)
        with contextlib.suppress(RuntimeError):  # at interpreter shutdown: no new threads
            self.start_timer()

    def _reject(self, row: MetricRow, error: BaseException) -> None:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        self.rejected.append(RejectedMetric(row, reason))
        _log.error(
            "ato.tracker: the database refused metric %r = %r at step %r of run %d (%s); "
            "that row is dropped, the rest of its batch is written",
            row[1],
            row[2],
            row[3],
            row[0],
            reason,
        )

    def _note_failure(self) -> None:
        now = monotonic()
        if self.failing_since is None:
            self.failing_since = now
        elif now - self.failing_since >= self.spool_after and (self.pending or self.run_ends):
            try:
                self.spill(locked=True)
            except MetricsNotStoredError as error:
                if not self.stranded:  # once per outage, not once per interval
                    _log.error("ato.tracker: %s", error)
                    self.stranded = True

    def spill(self, finish: tuple[int, str, float] | None = None, *, locked: bool = False) -> int:
        """Move every buffered row (and the run ending ``finish``, ``(run_id, status,
        unix_time)``, with the ends kept from earlier failures) to the spool file; return the
        number of rows moved. With ``locked`` the caller holds the flush lock and the rows
        saved leave the buffer (rows appended meanwhile stay); otherwise (exit, signal) they
        are copied and also stay buffered - a later write and the spool replay then meet in
        the unique index and store each row once.

        Raises:
            MetricsNotStoredError: the spool file cannot be written; the rows stay buffered
                and ``finish`` is kept to be recorded by the next successful flush or spill.
        """
        buffered = list(self.pending)  # one copy in C: safe while another thread appends
        rows = [row for row in buffered if row[5] > self.spilled_seq]  # not saved before
        if finish is not None:
            self.run_ends[finish[0]] = finish
        ends = list(self.run_ends.values())
        if not rows and not ends:
            return 0
        path = self.spool_file
        try:
            spool.save(path, self.database, self.writer_id, rows, ends)
        except OSError as error:
            raise MetricsNotStoredError(len(buffered), finish, path, error) from error
        for run_id, _, _ in ends:
            self.run_ends.pop(run_id, None)
        if locked:
            drop_oldest(self.pending, len(buffered))
        elif rows:
            self.spilled_seq = rows[-1][5]
        self.spooled = True
        self.stranded = False
        _stranded.discard(self)
        _log.warning(
            "ato.tracker: database %s unreachable; saved %d metrics%s to %s. They are written "
            "exactly once by the next successful flush of this logger or by "
            "`ato sync --db URL`",
            self.database.shown_url,
            len(rows),
            f" and the end of run {finish[0]} ({finish[1]})" if finish else "",
            path,
        )
        return len(rows)

    def start_timer(self) -> None:
        """Start the daemon flush thread (idempotent). It flushes when woken by
        `append` and every ``flush_interval`` seconds when rows are due.

        A timer stopped by `stop_timer` that has not exited yet is replaced: each
        thread gets its own stop event, so restarting right after a stop always leaves one
        running timer.
        """
        if self._timer is not None and self._timer.is_alive() and not self._stop.is_set():
            return
        self._stop = threading.Event()
        self._timer = threading.Thread(
            target=_timer_loop,
            args=(weakref.ref(self), self._stop, self._wake, self.flush_interval),
            name="ato-tracker-flush",
            daemon=True,
        )
        self._timer.start()

    def stop_timer(self) -> None:
        """Stop the flush thread (it exits after its current flush)."""
        self._stop.set()
        self._wake.set()

    def close(self, lock_timeout: float = -1) -> None:
        """Stop the flush thread and flush (waiting for a flush in progress at most
        ``lock_timeout`` seconds, ``-1``: as long as it takes, which is time-bounded); if the
        database cannot be reached, the rows go to the spool file. Database errors are
        logged, not raised.

        Raises:
            MetricsNotStoredError: the spool file cannot be written either: the rows stay in
                memory and the flush thread retries (see `strand`).
        """
        self.stop_timer()
        try:
            self.flush(lock_timeout=lock_timeout)
            self.closed = True
            return
        except (*UNREACHABLE, TimeoutError) as error:
            _log.warning("ato.tracker: final flush failed: %s", _short(error))
        except Exception:
            _log.exception("ato.tracker: could not flush %d buffered metrics", len(self.pending))
        try:
            self.spill()
        except MetricsNotStoredError:
            self.strand()
            raise
        self.closed = True

    def needs_closing(self) -> bool:
        """Whether `close` has work to do: it never completed, or rows (or run ends) came
        since that are neither stored nor spooled."""
        spilled = self.spilled_seq
        unsaved = any(row[5] > spilled for row in list(self.pending))
        return not self.closed or unsaved or bool(self.run_ends)


def drop_oldest(rows: deque[MetricRow], n: int) -> None:
    """Remove the ``n`` oldest of ``rows`` (``n <= len(rows)``) in one C loop, no Python code
    per row: the flush thread holds the GIL only briefly, so the thread that logs never waits
    long for it."""
    deque(itertools.islice(iter(rows.popleft, None), n), maxlen=0)


def _short(error: BaseException) -> str:
    return str(getattr(error, "orig", None) or error).strip().splitlines()[0]


def _timer_loop(
    ref: weakref.ref[MetricBuffer],
    stop: threading.Event,
    wake: threading.Event,
    interval: float,
) -> None:
    reported = False
    while True:
        wake.wait(interval)
        wake.clear()
        if stop.is_set():
            return
        buffer = ref()
        if buffer is None:
            return
        due = len(buffer.pending) >= buffer.batch_size or monotonic() >= buffer.flush_due
        if (buffer.pending and due) or buffer.spooled or buffer.run_ends:
            try:
                buffer.flush()
                reported = False
            except UNREACHABLE as error:
                if not reported:  # once per outage, not once per interval
                    _log.warning(
                        "ato.tracker: background flush failed, will retry: %s", _short(error)
                    )
                    reported = True
            except Exception:
                _log.exception("ato.tracker: background flush failed; will retry")
        del buffer


# Threads marked by `appends_only`.
_helper_thread = threading.local()
# Every buffer of this process, so that a forked child can drop what it inherited.
_live_buffers: weakref.WeakSet[MetricBuffer] = weakref.WeakSet()
# Buffers holding rows no store could take, kept alive (and retrying) until written.
_stranded: set[MetricBuffer] = set()


def appends_only() -> None:
    """Mark the calling thread as a helper that appends rows but never wakes the flush thread
    (see `MetricBuffer.flush_due_rows`); the system metrics sampler is one."""
    _helper_thread.appends_only = True


def live_buffers() -> list[MetricBuffer]:
    """Every metric buffer of this process that still exists."""
    return list(_live_buffers)


def close_quietly(buffer: MetricBuffer) -> None:
    """`MetricBuffer.close` for finalizers, where nothing could catch an error: rows no store
    could take are logged and kept (see `MetricBuffer.strand`)."""
    if not buffer.needs_closing():
        return
    try:
        buffer.close()
    except MetricsNotStoredError as error:
        _log.error("ato.tracker: %s", error)


def _forget_inherited_rows() -> None:
    """In a forked child, drop the parent's buffered rows (the parent writes them; the child
    writing them too would store every one twice), its flush lock and thread events, whose
    locks another thread of the parent may have held at the fork (a SIGTERM handler setting
    such an event in the child would wait forever), and its writer id: the child numbers its
    own rows."""
    for buffer in list(_live_buffers):
        buffer.pending.clear()
        buffer.wake_at = buffer.batch_size
        buffer._flush_lock = threading.Lock()
        buffer._flusher = None
        buffer._wake = threading.Event()
        buffer._stop = threading.Event()
        buffer._timer = None
        buffer.writer_id = new_writer_id()
        buffer.next_seq = itertools.count(1).__next__
        buffer.spooled = False
        buffer.spilled_seq = 0
        buffer.run_ends = {}
        buffer.stranded = False
    _stranded.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_inherited_rows)
