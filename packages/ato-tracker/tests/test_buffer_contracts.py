"""The metric buffer's contracts on SQLite, with the outages made by hand: when a flush is due
and who writes it, exactly-once numbering, how a failing database is retried, spooled past
``spool_after`` and replayed, what close() and finish() save when the database is gone, the
rows the database refuses, the flush thread's rounds and the state a forked child starts from.

The database is made unreachable by replacing the buffer's ``run_transaction`` (the write path
then sees the driver error a lost server gives), and ``spool_after`` is measured on a clock
the test moves: no test waits for time to pass.
"""

from __future__ import annotations

import logging
import math
import re
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from ato.tracker import BufferSettingsError, MetricsNotStoredError, SQLFinder, SQLLogger
from ato.tracker.cli import main
from ato.tracker.storage.settings import Timeouts, default_spool_dir
from ato.tracker.storage.values import DBL_MAX, FINITE, NAN, NEG_INF, POS_INF
from ato.tracker.write import buffer as buffer_module
from ato.tracker.write import inserts as inserts_module
from ato.tracker.write import spool
from ato.tracker.write.buffer import MetricBuffer, MetricWriter, new_writer_id

OUTAGE = OperationalError("INSERT INTO metrics", {}, ConnectionError("server went away"))
T0 = 1_700_000_000.0


class Rig:
    """A logger on a fresh SQLite file with one run, its flush thread stopped, a switchable
    outage (``down``) and a hand-moved ``clock`` for ``spool_after``."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_size: int) -> None:
        self.path = tmp_path / "t.db"
        self.url = f"sqlite:///{self.path}"
        self.spool_dir = tmp_path / "spool"
        self.logger = SQLLogger.from_url(
            self.url,
            "proj",
            batch_size=batch_size,
            flush_interval=3600,
            spool_after=10.0,
            spool_dir=str(self.spool_dir),
        )
        self.run_id = self.logger.run()
        self.buffer = self.logger._buffer
        self.stop_thread()
        self.down = False
        self.clock = 100.0
        self.writes: list[int] = []  # rows per transaction attempt
        real = inserts_module.run_transaction

        def run_transaction(engine: Any, work: Callable[[Any], Any]) -> Any:
            if self.down:
                raise OUTAGE
            return real(engine, work)

        monkeypatch.setattr(inserts_module, "run_transaction", run_transaction)
        monkeypatch.setattr(buffer_module, "monotonic", lambda: self.clock)

    def stop_thread(self) -> None:
        timer = self.buffer._timer
        self.buffer.stop_timer()
        if timer is not None:
            timer.join(10)

    def log(self, *steps: int) -> None:
        for step in steps:
            self.buffer.pending.append(
                (self.run_id, "loss", float(step), step, T0 + step, self.buffer.next_seq())
            )

    def stored(self) -> list[tuple[int, float, int, int]]:
        """``(step, value, seq, writer)`` of every stored metric row, in insertion order."""
        with sqlite3.connect(self.path) as con:
            return con.execute(
                "SELECT step, value, seq, writer FROM metrics ORDER BY id"
            ).fetchall()

    def steps(self) -> list[int]:
        return [row[0] for row in self.stored()]

    def saved_message(self, rows: int, end: str = "") -> str:
        """The warning that ``rows`` metrics (and ``end``) were saved to the spool file."""
        return (
            f"ato.tracker: database {self.url} unreachable; saved {rows} metrics{end} to "
            f"{self.buffer.spool_file}. They are written exactly once by the next successful "
            "flush of this logger or by `ato sync --db URL`"
        )

    def spooled_steps(self) -> list[int]:
        spooled = spool.read(self.buffer.spool_file)
        assert spooled is not None
        return [row[3] for row in spooled.rows]


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "ato.tracker"]


def _rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_size: int) -> Iterator[Rig]:
    made = Rig(tmp_path, monkeypatch, batch_size=batch_size)
    yield made
    made.down = False
    made.logger.finish()


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    yield from _rig(tmp_path, monkeypatch, batch_size=1000)


@pytest.fixture
def small_rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    yield from _rig(tmp_path, monkeypatch, batch_size=3)


# -- settings -----------------------------------------------------------------------------------
def test_a_buffer_without_options_spools_to_the_default_place_for_its_engine(tmp_path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    before = time.monotonic()
    buffer = MetricBuffer(engine, 10, 1.0)
    assert before + 1.0 <= buffer.flush_due <= time.monotonic() + 1.0  # one interval from now
    assert buffer.spool_dir == default_spool_dir()
    assert buffer.db_url == f"sqlite:///{tmp_path / 'x.db'}"
    assert buffer.spool_after == Timeouts().spool_after
    assert buffer.rejected == [] and not buffer.pending and not buffer.spooled
    engine.dispose()


@pytest.mark.parametrize(("batch_size", "flush_interval"), [(0, 2.5), (7, 0.0)])
def test_refused_buffer_settings_are_named_in_the_error(
    tmp_path, batch_size: int, flush_interval: float
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(BufferSettingsError) as info:
        MetricBuffer(engine, batch_size, flush_interval, spool_dir=tmp_path)
    assert str(info.value).endswith(
        f"got batch_size={batch_size!r}, flush_interval={flush_interval!r}"
    )
    engine.dispose()


def test_a_buffer_records_its_database_url_with_the_password(tmp_path) -> None:
    # the spool file names its database; ``ato sync`` needs the URL that reaches it
    engine = create_engine("postgresql+psycopg://user:secret@db.example/exp")
    buffer = MetricBuffer(engine, 10, 1.0, spool_dir=tmp_path)
    assert buffer.db_url == "postgresql+psycopg://user:secret@db.example/exp"


def test_every_buffer_gets_its_own_positive_63_bit_writer_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = {new_writer_id() for _ in range(50)}
    assert len(ids) == 50 and all(0 < i < 2**63 for i in ids)
    monkeypatch.setattr(buffer_module.os, "urandom", lambda n: b"\x00" * n)
    assert new_writer_id() == 1  # never 0
    monkeypatch.setattr(buffer_module.os, "urandom", lambda n: b"\xff" * n)
    assert new_writer_id() == 2**63 - 1
    monkeypatch.setattr(buffer_module.os, "urandom", lambda n: bytes(n - 1) + b"\x06")
    assert new_writer_id() == 3


# -- append: when a flush is due, and who writes it ------------------------------------------------
def settled(buffer: MetricBuffer) -> bool:
    """Whether the flush thread wrote every buffered row within 10 s."""
    deadline = time.monotonic() + 10
    while buffer.pending and time.monotonic() < deadline:
        time.sleep(0.005)
    return not buffer.pending


def test_append_numbers_rows_from_one_and_leaves_a_full_batch_to_the_flush_thread(
    small_rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    buffer, run_id = small_rig.buffer, small_rig.run_id
    threads: list[threading.Thread] = []
    real = MetricWriter.write

    def write(self, conn, rows, writer_id):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread())
        return real(self, conn, rows, writer_id)

    monkeypatch.setattr(MetricWriter, "write", write)
    buffer.append(run_id, "loss", 0.5, 0, T0)
    buffer.append(run_id, "loss", 0.25, 1, T0 + 1)
    assert [row[5] for row in buffer.pending] == [1, 2]
    assert small_rig.stored() == [] and buffer._timer is not None
    assert not buffer._timer.is_alive()  # nothing woke a flush thread yet
    buffer.append(run_id, "loss", 0.125, 2, T0 + 2)  # the batch is full
    assert settled(buffer)
    assert [thread.name for thread in threads] == ["ato-tracker-flush"]
    writer = buffer.writer_id
    assert small_rig.stored() == [(0, 0.5, 1, writer), (1, 0.25, 2, writer), (2, 0.125, 3, writer)]


def test_append_wakes_the_flush_thread_once_the_flush_interval_has_passed_and_not_before(
    rig: Rig,
) -> None:
    buffer, run_id = rig.buffer, rig.run_id
    buffer.append(run_id, "loss", 1.0, 0, time.time())
    assert len(buffer.pending) == 1 and rig.stored() == []
    assert buffer._timer is not None and not buffer._timer.is_alive()
    rig.clock = buffer.flush_due  # the interval has passed on the monotonic clock
    buffer.append(run_id, "loss", 2.0, 1, time.time() - 3600)  # the wall clock plays no part
    assert settled(buffer) and rig.steps() == [0, 1]
    assert buffer.flush_due == rig.clock + 3600  # an interval from now


def test_a_flush_due_while_another_flush_runs_is_left_to_the_flush_thread(
    small_rig: Rig,
) -> None:
    buffer = small_rig.buffer
    assert buffer._timer is not None and not buffer._timer.is_alive()  # stopped and exited
    buffer._flush_lock.acquire()  # another flush is writing
    try:
        small_rig.log(0, 1, 2)
        buffer.flush_due_rows()  # must neither wait for the lock nor write
        timer = buffer._timer
        assert timer is not None and timer.is_alive()  # a new flush thread was started
        assert len(buffer.pending) == 3
    finally:
        buffer._flush_lock.release()
    assert buffer.flush() in (0, 3)  # the flush thread may have written them already
    assert small_rig.steps() == [0, 1, 2]
    with buffer._flush_lock:
        buffer.flush_due_rows()  # an alive flush thread is kept
    assert buffer._timer is timer


def test_appends_after_a_batch_left_to_the_flush_thread_wait_for_the_next_batch(
    small_rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the flush thread writes, the logging thread does not wake it again on every
    append: the next flush is due a whole batch later."""
    buffer = small_rig.buffer
    due: list[int] = []  # buffered rows at each flush_due_rows call
    real = MetricBuffer.flush_due_rows

    def counted(self: MetricBuffer) -> None:
        due.append(len(self.pending))
        real(self)

    monkeypatch.setattr(MetricBuffer, "flush_due_rows", counted)

    def log(*steps: int) -> None:
        for step in steps:
            buffer.append(small_rig.run_id, "loss", float(step), step, T0 + step)

    assert buffer.wake_at == 3
    with buffer._flush_lock:  # the flush thread waits for it: another flush is writing
        log(0, 1, 2)
        assert due == [3] and buffer.wake_at == 6
        log(3, 4)
        assert due == [3]
        log(5)
        assert due == [3, 6] and buffer.wake_at == 9
    assert settled(buffer)
    assert buffer.wake_at == 3  # a flush makes a batch due again
    assert small_rig.steps() == [0, 1, 2, 3, 4, 5]
    log(6, 7)
    assert due == [3, 6]
    log(8)
    assert due == [3, 6, 3] and settled(buffer)
    assert small_rig.steps() == list(range(9))


def test_a_fresh_buffer_starts_its_flush_thread_when_a_flush_is_due_during_another(
    tmp_path,
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    buffer = MetricBuffer(engine, 10, 3600, spool_dir=tmp_path)
    assert buffer._timer is None
    with buffer._flush_lock:
        buffer.flush_due_rows()
        assert buffer._timer is not None and buffer._timer.is_alive()
    buffer.stop_timer()
    buffer._timer.join(10)
    engine.dispose()


def test_the_logging_thread_never_takes_the_flush_lock(small_rig: Rig) -> None:
    buffer = small_rig.buffer
    takers: list[str] = []
    real_lock = buffer._flush_lock

    class SpiedLock:
        def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
            takers.append(threading.current_thread().name)
            return real_lock.acquire(blocking, timeout)

        def release(self) -> None:
            real_lock.release()

    buffer._flush_lock = SpiedLock()  # type: ignore[assignment]
    try:
        for step in range(3):
            buffer.append(small_rig.run_id, "loss", 1.0, step, T0)
        assert settled(buffer)
        assert takers == ["ato-tracker-flush"]
    finally:
        buffer._flush_lock = real_lock


def test_a_flush_waits_at_most_lock_timeout_for_another_flush(rig: Rig) -> None:
    buffer = rig.buffer
    rig.log(0)
    with buffer._flush_lock:
        with pytest.raises(TimeoutError, match=r"another flush held the metric buffer for 0 s"):
            buffer.flush(lock_timeout=0)
        with pytest.raises(TimeoutError, match=r"for 0\.01 s"):
            buffer.flush(lock_timeout=0.01)
    assert len(buffer.pending) == 1
    assert buffer.flush() == 1


# -- a failing database: retried, then spooled -----------------------------------------------------
def test_an_outage_spools_the_rows_exactly_when_it_lasted_spool_after(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    rig.log(0, 1, 2)
    rig.down = True
    with pytest.raises(OperationalError, match="server went away"):
        rig.buffer.flush()  # t = 100: the outage starts
    rig.clock = 109.75
    with pytest.raises(OperationalError):
        rig.buffer.flush()
    assert [row[3] for row in rig.buffer.pending] == [0, 1, 2]
    assert not rig.buffer.spool_file.exists() and not rig.buffer.spooled
    rig.clock = 110.0  # spool_after = 10 s
    with caplog.at_level(logging.WARNING, logger="ato.tracker"), pytest.raises(OperationalError):
        rig.buffer.flush()
    assert _messages(caplog) == [rig.saved_message(3)]
    assert not rig.buffer.pending and rig.buffer.spooled
    assert rig.spooled_steps() == [0, 1, 2]
    assert rig.stored() == []


def test_a_successful_flush_ends_the_outage(rig: Rig) -> None:
    rig.log(0)
    rig.down = True
    with pytest.raises(OperationalError):
        rig.buffer.flush()  # t = 100
    rig.down, rig.clock = False, 105.0
    assert rig.buffer.flush() == 1
    rig.log(1)
    rig.down, rig.clock = True, 112.0  # 12 s after the first failure, but a new outage
    with pytest.raises(OperationalError):
        rig.buffer.flush()
    assert [row[3] for row in rig.buffer.pending] == [1]
    rig.clock = 122.0
    with pytest.raises(OperationalError):
        rig.buffer.flush()
    assert not rig.buffer.pending and rig.spooled_steps() == [1]


def test_spooled_rows_are_written_once_by_the_next_successful_flush(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    rig.log(0, 1, 2)
    rig.down = True
    for rig.clock in (100.0, 110.0):
        with pytest.raises(OperationalError):
            rig.buffer.flush()
    path = rig.buffer.spool_file
    assert path.exists()
    rig.log(3, 4)
    rig.down = False
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ato.tracker"):
        assert rig.buffer.flush() == 2  # the buffered rows; the spooled ones are reported
    assert _messages(caplog) == [
        f"ato.tracker: {rig.url} is reachable again; wrote 3 spooled metrics from {path}"
    ]
    assert rig.steps() == [0, 1, 2, 3, 4]
    assert not path.exists() and not rig.buffer.spooled
    assert {row[3] for row in rig.stored()} == {rig.buffer.writer_id}
    assert [row[2] for row in rig.stored()] == [1, 2, 3, 4, 5]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ato.tracker"):
        assert rig.buffer.flush() == 0
    assert "reachable again" not in caplog.text


def test_the_outage_messages_never_show_the_database_password(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    rig.buffer.db_url = "postgresql+psycopg://ato:secret@db.example/exp"  # names the spool file
    rig.log(0)
    rig.down = True
    with caplog.at_level(logging.WARNING, logger="ato.tracker"):
        for rig.clock in (100.0, 110.0):
            with pytest.raises(OperationalError):
                rig.buffer.flush()
        rig.down = False
        assert rig.buffer.flush() == 0
    shown = "postgresql+psycopg://ato:***@db.example/exp"
    path = spool.spool_path(rig.spool_dir, shown, rig.buffer.writer_id)
    assert _messages(caplog) == [
        f"ato.tracker: database {shown} unreachable; saved 1 metrics to {path}. They are "
        "written exactly once by the next successful flush of this logger or by "
        "`ato sync --db URL`",
        f"ato.tracker: {shown} is reachable again; wrote 1 spooled metrics from {path}",
    ]
    assert rig.steps() == [0]


def test_spooled_rows_are_replayed_in_the_buffers_batch_size(
    small_rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    small_rig.log(0, 1, 2, 3, 4)
    small_rig.down = True
    for small_rig.clock in (100.0, 110.0):
        with pytest.raises(OperationalError):
            small_rig.buffer.flush()
    assert small_rig.spooled_steps() == [0, 1, 2, 3, 4]
    small_rig.down = False
    calls = _count_writes(monkeypatch, [])
    small_rig.log(5)
    assert small_rig.buffer.flush() == 1
    assert calls == [3, 2, 1]  # the spooled rows in batches of 3, then the buffered row
    assert small_rig.steps() == [0, 1, 2, 3, 4, 5]


def test_an_outage_with_nothing_buffered_saves_nothing(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    rig.down = True
    with caplog.at_level(logging.WARNING, logger="ato.tracker"):
        assert rig.buffer.spill() == 0
        rig.buffer.close()
    assert _messages(caplog) == []
    assert not rig.buffer.spool_file.exists() and not rig.buffer.spooled


def test_finish_with_nothing_buffered_during_an_outage_still_saves_the_runs_end(
    rig: Rig, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(engine: Any, work: Any) -> Any:
        raise OUTAGE

    monkeypatch.setattr("ato.tracker.write.logger.run_transaction", unreachable)  # the run's end
    rig.logger.finish()
    spooled = spool.read(rig.buffer.spool_file)
    assert spooled is not None and spooled.rows == []
    assert [f[:2] for f in spooled.finishes] == [(rig.run_id, "completed")]
    monkeypatch.undo()
    assert main(["sync", "--db", rig.url, "--spool-dir", str(rig.spool_dir)]) == 0
    assert "0 metrics stored (rows stored before were skipped), 1 run end(s) recorded" in (
        capsys.readouterr().out
    )
    assert SQLFinder(rig.url).find_run(rig.run_id).status == "completed"


def test_a_spool_file_that_vanished_is_forgotten(rig: Rig, caplog) -> None:
    rig.log(0)
    rig.down = True
    for rig.clock in (100.0, 110.0):
        with pytest.raises(OperationalError):
            rig.buffer.flush()
    rig.buffer.spool_file.unlink()  # e.g. `ato sync` wrote it meanwhile
    rig.down = False
    with caplog.at_level(logging.WARNING, logger="ato.tracker"):
        assert rig.buffer.flush() == 0
    assert not rig.buffer.spooled and "reachable again" not in caplog.text


def test_close_during_an_outage_saves_the_rows_and_keeps_them_for_a_later_flush(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    rig.log(0, 1, 2)
    rig.down = True
    with caplog.at_level(logging.WARNING, logger="ato.tracker"):
        rig.buffer.close()
    assert _messages(caplog) == [
        "ato.tracker: final flush failed: server went away",
        rig.saved_message(3),
    ]
    assert rig.spooled_steps() == [0, 1, 2]
    assert [row[3] for row in rig.buffer.pending] == [0, 1, 2]  # copied, not moved
    rig.log(3)
    rig.buffer.close()  # a second save adds only the rows not saved before
    assert rig.spooled_steps() == [0, 1, 2, 3]
    assert rig.buffer.spill() == 0  # nothing new to save
    assert rig.spooled_steps() == [0, 1, 2, 3]
    rig.down = False
    assert rig.buffer.flush() == 4
    assert rig.steps() == [0, 1, 2, 3]  # spooled and buffered: each stored once
    assert not rig.buffer.spool_file.exists()


def test_close_saves_the_rows_when_the_flush_fails_unexpectedly(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    rig.log(0, 1)

    def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("a bug")

    monkeypatch.setattr(buffer_module, "write_isolating", broken)
    with caplog.at_level(logging.WARNING, logger="ato.tracker"):
        rig.buffer.close()
    assert _messages(caplog) == [
        "ato.tracker: could not flush 2 buffered metrics",
        rig.saved_message(2),
    ]
    assert caplog.records[0].exc_info is not None
    assert rig.spooled_steps() == [0, 1]
    monkeypatch.undo()


def test_a_spool_file_that_cannot_be_written_keeps_the_rows_and_says_so(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    made = Rig(tmp_path, monkeypatch, batch_size=1000)
    made.buffer.spool_dir = blocker / "spool"
    made.log(0, 1, 2)
    made.down = True
    with pytest.raises(MetricsNotStoredError) as info:
        made.buffer.spill()
    path = re.escape(str(made.buffer.spool_file))
    assert re.match(
        rf"3 buffered metrics could be kept neither in the database \(unreachable\) nor in "
        rf"the spool file {path} \(\[Errno \d+\] .+\)\. They stay in memory",
        str(info.value),
    ), info.value
    assert info.value.count == 3 and len(made.buffer.pending) == 3
    assert not made.buffer.spooled and made.buffer.spilled_seq == 0
    made.buffer.spool_dir = tmp_path / "spool"
    assert made.buffer.spill() == 3  # not marked saved: a later save still has them
    made.down = False
    made.logger.finish()
    assert made.steps() == [0, 1, 2]


def test_finish_during_an_outage_spools_rows_and_end_and_sync_writes_them_once(
    rig: Rig,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    rig.log(0, 1, 2)
    rig.down = True
    monkeypatch.setattr("ato.tracker.write.logger.time", lambda: T0 + 60.25)
    with caplog.at_level(logging.WARNING, logger="ato.tracker"):
        rig.logger.finish("failed")
    assert _messages(caplog)[-1] == rig.saved_message(
        3, f" and the end of run {rig.run_id} (failed)"
    )
    spooled = spool.read(rig.buffer.spool_file)
    assert spooled is not None
    assert [row[3] for row in spooled.rows] == [0, 1, 2]
    assert spooled.finishes == [(rig.run_id, "failed", T0 + 60.25)]
    assert spooled.writer == rig.buffer.writer_id
    run = SQLFinder(rig.url).find_run(rig.run_id)
    assert run.status == "running" and run.metrics == []
    rig.down = False
    assert main(["sync", "--db", rig.url, "--spool-dir", str(rig.spool_dir)]) == 0
    out = capsys.readouterr().out
    assert f"{rig.buffer.spool_file.name}: 3 metrics stored" in out
    assert "1 run end(s) recorded" in out and "synced 1 spool file(s), 3 metrics" in out
    run = SQLFinder(rig.url).find_run(rig.run_id)
    assert run.status == "failed"
    assert run.end_time is not None and run.end_time.timestamp() == T0 + 60.25
    assert [m.step for m in run.metrics] == [0, 1, 2]
    assert main(["sync", "--db", rig.url, "--spool-dir", str(rig.spool_dir)]) == 0
    assert "nothing to sync" in capsys.readouterr().out


# -- the write: exactly once, retried on a dropped connection, refused rows isolated ------------
def _count_writes(monkeypatch: pytest.MonkeyPatch, errors: list[BaseException | None]) -> list[int]:
    """``MetricWriter.write`` raising ``errors[i]`` on its i-th call (None: write); returns
    the row counts of every call."""
    real = MetricWriter.write
    calls: list[int] = []

    def write(self, conn, rows, writer_id):  # type: ignore[no-untyped-def]
        calls.append(len(rows))
        error = errors[len(calls) - 1] if len(calls) <= len(errors) else None
        if error is not None:
            raise error
        return real(self, conn, rows, writer_id)

    monkeypatch.setattr(MetricWriter, "write", write)
    return calls


DROPPED = OperationalError("INSERT", {}, ConnectionError("reset"), connection_invalidated=True)


def test_a_dropped_connection_is_retried_once_on_a_new_one(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig.log(0, 1)
    calls = _count_writes(monkeypatch, [DROPPED])
    assert rig.buffer.flush() == 2
    assert calls == [2, 2] and rig.steps() == [0, 1]


def test_a_connection_dropped_twice_fails_the_flush_and_keeps_the_rows(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig.log(0, 1)
    calls = _count_writes(monkeypatch, [DROPPED, DROPPED])
    with pytest.raises(OperationalError):
        rig.buffer.flush()
    assert calls == [2, 2] and len(rig.buffer.pending) == 2


def test_a_data_error_on_a_dropped_connection_is_an_outage_not_a_refused_row(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig.log(0, 1)
    lost = IntegrityError("INSERT", {}, ConnectionError("reset"), connection_invalidated=True)
    calls = _count_writes(monkeypatch, [lost, lost])
    with pytest.raises(IntegrityError):
        rig.buffer.flush()
    assert calls == [2, 2]  # not split in halves
    assert rig.buffer.rejected == [] and len(rig.buffer.pending) == 2


def test_a_refused_row_is_reported_with_the_databases_reason(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    buffer, run_id = rig.buffer, rig.run_id
    rig.log(0)
    buffer.pending.append((run_id, None, 1.5, 7, T0, buffer.next_seq()))  # type: ignore[arg-type]
    buffer.pending.append((run_id, "loss", 2.5, 2**63, T0, buffer.next_seq()))
    rig.log(3)
    with caplog.at_level(logging.ERROR, logger="ato.tracker"):
        assert buffer.flush() == 2
    assert [(r.row[3], r.reason) for r in buffer.rejected] == [
        (7, "NOT NULL constraint failed: metrics.key"),
        (2**63, "Python int too large to convert to SQLite INTEGER"),
    ]
    assert [r.getMessage() for r in caplog.records] == [
        f"ato.tracker: the database refused metric None = 1.5 at step 7 of run {run_id} "
        "(NOT NULL constraint failed: metrics.key); that row is dropped, the rest of its "
        "batch is written",
        f"ato.tracker: the database refused metric 'loss' = 2.5 at step {2**63} of run "
        f"{run_id} (Python int too large to convert to SQLite INTEGER); that row is "
        "dropped, the rest of its batch is written",
    ]
    assert rig.steps() == [0, 3]
    assert rig.logger.rejected_metrics == buffer.rejected


# -- the flush thread's rounds ----------------------------------------------------------------------
class Rounds(threading.Event):
    """A wake event that runs ``script[i]`` before round i returns, then stops the loop."""

    def __init__(self, stop: threading.Event, script: list[Callable[[], None]]) -> None:
        super().__init__()
        self.stop, self.script, self.round = stop, script, 0

    def wait(self, timeout: float | None = None) -> bool:
        if self.round == len(self.script):
            self.stop.set()
        else:
            self.script[self.round]()
        self.round += 1
        return True


def _run_rounds(
    buffer: MetricBuffer, flush: Callable[[], int], script: list[Callable[[], None]]
) -> None:
    """Run the flush thread's loop here, over ``script``, with ``flush`` as the buffer's."""
    stop = threading.Event()
    buffer.flush = flush  # type: ignore[method-assign]
    try:
        buffer_module._timer_loop(weakref.ref(buffer), stop, Rounds(stop, script), 3600)
    finally:
        del buffer.flush


def test_the_flush_thread_flushes_only_when_rows_are_due_or_spooled(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    buffer = rig.buffer
    rig.clock = 5000.0
    flushed: list[int] = []
    buffer.batch_size = 2
    buffer.flush_due = float("inf")

    def one_row() -> None:
        rig.log(len(buffer.pending))

    def spooled() -> None:
        buffer.pending.clear()
        buffer.spooled = True

    def late() -> None:
        buffer.spooled = False
        rig.log(0)
        buffer.flush_due = 5000.0  # due now

    def due_but_empty() -> None:
        buffer.pending.clear()

    script = [lambda: None, one_row, one_row, spooled, late, due_but_empty]
    _run_rounds(buffer, lambda: flushed.append(len(buffer.pending)) or 0, script)
    # nothing, 1 row (not due), 2 rows (a batch), spooled, 1 row past the interval, empty
    assert flushed == [2, 0, 1]


def test_the_flush_thread_reports_an_outage_once_and_a_bug_every_time(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    buffer = rig.buffer
    unreachable = OSError("network is unreachable")  # no driver error wrapped in it
    results: list[BaseException | None] = [
        *(OUTAGE, OUTAGE, None),  # one outage, reported once
        *(unreachable, KeyError("x"), OUTAGE),  # another, and a bug in between
        *(None, OUTAGE),  # a third
    ]

    def flush() -> int:
        outcome = results.pop(0)
        if outcome is not None:
            raise outcome
        return 1

    buffer.spooled = True  # every round flushes
    with caplog.at_level(logging.WARNING, logger="ato.tracker"):
        _run_rounds(buffer, flush, [lambda: None] * 8)
    buffer.spooled = False
    assert results == []
    assert [r.getMessage() for r in caplog.records] == [
        "ato.tracker: background flush failed, will retry: server went away",
        "ato.tracker: background flush failed, will retry: network is unreachable",
        "ato.tracker: background flush failed; will retry",
        "ato.tracker: background flush failed, will retry: server went away",
    ]
    assert caplog.records[2].exc_info is not None


def test_a_stopped_flush_thread_flushes_nothing_more(rig: Rig) -> None:
    buffer = rig.buffer
    rig.log(0)
    buffer.spooled = True
    buffer.flush_due = 0.0
    stop, wake = threading.Event(), threading.Event()
    stop.set()
    wake.set()
    buffer_module._timer_loop(weakref.ref(buffer), stop, wake, 3600)
    buffer.spooled = False
    assert len(buffer.pending) == 1 and not wake.is_set()


# -- a forked child -------------------------------------------------------------------------------------
def test_a_forked_child_starts_with_an_empty_buffer_of_its_own(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    buffer = rig.buffer
    rig.log(0, 1)
    buffer.spooled, buffer.spilled_seq, buffer.wake_at = True, 2, 2000
    parent_id, parent_wake, parent_lock = buffer.writer_id, buffer._wake, buffer._flush_lock
    parent_wake.set()
    monkeypatch.setattr(buffer_module, "_live_buffers", {buffer})
    parent_lock.acquire()  # another thread of the parent was flushing at the fork
    try:
        buffer_module._forget_inherited_rows()
    finally:
        parent_lock.release()
    assert not buffer.pending and buffer.writer_id != parent_id
    assert buffer.wake_at == 1000  # a batch of the child's own rows makes a flush due
    assert isinstance(buffer.writer_id, int) and 0 < buffer.writer_id < 2**63
    assert buffer.next_seq() == 1 and buffer.next_seq() == 2
    assert not buffer.spooled and buffer.spilled_seq == 0
    assert buffer._timer is None
    assert buffer._flush_lock is not parent_lock and buffer._flush_lock.acquire(blocking=False)
    buffer._flush_lock.release()
    assert buffer._wake is not parent_wake and not buffer._wake.is_set()


def test_a_forked_child_flushes_its_own_rows_and_leaves_the_parents_outage_to_the_parent(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The parent was flushing in this thread at the fork, kept a run end it could not record
    and rows no store could take: the child's flush is not taken for a signal's, records no
    end of the parent's, reports no stranded rows written, and its spill saves its own end."""
    buffer = rig.buffer
    rig.log(0, 1)
    buffer.run_ends[rig.run_id] = (rig.run_id, "failed", T0)
    buffer.stranded = True
    buffer_module._stranded.add(buffer)
    buffer._flusher = threading.get_ident()
    monkeypatch.setattr(buffer_module, "_live_buffers", {buffer})
    buffer_module._forget_inherited_rows()
    assert buffer not in buffer_module._stranded
    rig.log(5)
    with caplog.at_level(logging.WARNING, logger="ato.tracker"):
        assert buffer.flush() == 1
    assert rig.steps() == [5] and _messages(caplog) == []
    with sqlite3.connect(rig.path) as con:
        ends = con.execute(
            "SELECT end_time FROM experiments WHERE id = ?", (rig.run_id,)
        ).fetchall()
    assert ends == [(None,)]
    assert buffer.spill((rig.run_id, "completed", T0 + 1)) == 0
    spooled = spool.read(buffer.spool_file)
    assert spooled is not None and spooled.finishes == [(rig.run_id, "completed", T0 + 1)]


class _Wakes(threading.Event):
    """A flush thread's wake event that counts who set it."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def set(self) -> None:
        self.count += 1
        super().set()


def test_a_helper_threads_appends_wake_no_flush_but_the_logging_threads_do(
    small_rig: Rig,
) -> None:
    """Rows of a thread marked `appends_only` (the system metrics sampler) wait for the
    next wake, however many they are; the logging thread's full batch wakes the flush thread."""
    buffer = small_rig.buffer
    wakes = buffer._wake = _Wakes()

    def helper() -> None:
        buffer_module.appends_only()
        for step in range(7):
            buffer.append(small_rig.run_id, "cpu", float(step), step, T0 + step)

    thread = threading.Thread(target=helper)
    thread.start()
    thread.join()
    assert wakes.count == 0 and len(buffer.pending) == 7
    buffer.append(small_rig.run_id, "loss", 1.0, 0, T0)
    assert wakes.count == 1
    small_rig.stop_thread()


def test_rows_kept_in_memory_are_reported_written_once_and_a_later_outage_is_reported_again(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """Neither the database nor the spool file took the rows (close raised); once the
    database is back the flush says it wrote them and the buffer is no longer kept alive for
    them, and the next outage the spool cannot take is logged again."""
    buffer = rig.buffer
    rig.spool_dir.write_text("")  # a file where the spool directory should be
    rig.down = True
    rig.log(0, 1, 2)
    with pytest.raises(MetricsNotStoredError):
        buffer.close()
    assert buffer in buffer_module._stranded
    rig.stop_thread()
    rig.down = False
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ato.tracker"):
        assert buffer.flush() == 3
    assert _messages(caplog) == [
        f"ato.tracker: {rig.url} is reachable again; wrote the 3 metrics kept in memory"
    ]
    assert rig.steps() == [0, 1, 2] and buffer not in buffer_module._stranded
    caplog.clear()
    rig.down = True
    rig.log(3)
    with caplog.at_level(logging.WARNING, logger="ato.tracker"):
        for _ in range(3):  # the outage starts, outlasts spool_after, goes on
            with pytest.raises(OperationalError):
                buffer.flush()
            rig.clock += 11
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].startswith(
        "ato.tracker: 1 buffered metrics could be kept neither in the database (unreachable) "
        f"nor in the spool file {buffer.spool_file} ("
    )


def test_rows_kept_in_memory_at_interpreter_shutdown_stay_kept_until_a_spill_saves_them(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No thread can start at interpreter shutdown: close still raises that the rows are
    kept in memory (not the thread's error); a later spill that succeeds lets them go."""
    buffer = rig.buffer

    def no_threads() -> None:
        raise RuntimeError("can't create new thread at interpreter shutdown")

    monkeypatch.setattr(buffer, "start_timer", no_threads)
    rig.spool_dir.write_text("")  # a file where the spool directory should be
    rig.down = True
    rig.log(0, 1)
    with pytest.raises(MetricsNotStoredError):
        buffer.close()
    assert buffer in buffer_module._stranded
    rig.spool_dir.unlink()
    assert buffer.spill() == 2
    assert buffer not in buffer_module._stranded and rig.spooled_steps() == [0, 1]


def test_a_replay_that_fails_is_tried_again_by_the_next_flush_past_a_damaged_file(
    rig: Rig,
) -> None:
    buffer = rig.buffer
    rig.log(0, 1, 2)
    rig.down = True
    for _ in range(2):  # the outage outlasts spool_after: the rows go to the spool file
        with pytest.raises(OperationalError):
            buffer.flush()
        rig.clock += 11
    assert not buffer.pending and rig.spooled_steps() == [0, 1, 2]
    with pytest.raises(OperationalError):
        buffer.flush()  # the replay fails as well
    damaged = buffer.spool_file.with_name(buffer.spool_file.name.split(".")[0] + ".0.jsonl")
    damaged.write_text("")  # claimed by a replay that died before it wrote a line back
    rig.down = False
    assert buffer.flush() == 0
    assert rig.steps() == [0, 1, 2] and not buffer.spool_file.exists()


def test_a_run_end_the_flush_thread_recorded_during_a_spill_is_no_error(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A spill at exit runs beside the flush thread, which may record (and forget) the run
    end the spill is saving; the spill then forgets it without a KeyError."""
    buffer = rig.buffer
    real = spool.save

    def save_while_the_flush_thread_records_the_end(*args: Any) -> int:
        saved = real(*args)
        buffer.run_ends.clear()
        return saved

    monkeypatch.setattr(spool, "save", save_while_the_flush_thread_records_the_end)
    rig.log(0)
    assert buffer.spill((rig.run_id, "completed", T0)) == 1
    assert buffer.run_ends == {} and rig.spooled_steps() == [0]


# -- what the writer sends to each kind of database -----------------------------------------------
class Driver:
    """A connection that records what the writer hands to the driver: the insert's rows
    (``rowcount`` of them reported stored) and other statements, whose result holds
    ``found`` (the seqs a locking read finds)."""

    def __init__(self, rowcount: int = 0, found: tuple[int, ...] = ()) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.executed: list[Any] = []
        self.rowcount, self.found = rowcount, found

    def exec_driver_sql(self, sql: str, params: Any) -> Any:
        self.calls.append((sql, params))
        return SimpleNamespace(rowcount=self.rowcount)

    def execute(self, statement: Any) -> Any:
        self.executed.append(statement)
        return SimpleNamespace(scalars=lambda: iter(self.found))


ROWS = [
    (1, "loss", 0.5, 3, T0 + 0.25, 1),
    (1, "acc", math.nan, None, T0, 2),
    (2, "x", math.inf, 0, T0 + 1, 3),
    (2, "y", -math.inf, -5, T0 + 0.0625, 4),
]
MOMENTS = [
    datetime(2023, 11, 14, 22, 13, 20, 250000, tzinfo=timezone.utc),
    datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc),
    datetime(2023, 11, 14, 22, 13, 21, tzinfo=timezone.utc),
    datetime(2023, 11, 14, 22, 13, 20, 62500, tzinfo=timezone.utc),
]
STORED = [(0.5, FINITE), (None, NAN), (DBL_MAX, POS_INF), (-DBL_MAX, NEG_INF)]


def _dialect(url: str) -> Any:
    return make_url(url).get_dialect()()


@pytest.fixture
def folds(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, list[Any], int]]:
    """``(connection, rows, stored)`` of every fold of written rows into the summaries."""
    calls: list[tuple[Any, list[Any], int]] = []
    monkeypatch.setattr(
        inserts_module.fold,
        "fold",
        lambda conn, rows, stored: calls.append((conn, rows, stored)),
    )
    return calls


@pytest.mark.usefixtures("tokyo")
def test_postgresql_gets_named_parameters_with_aware_utc_times_and_encoded_values(
    folds: list[tuple[Any, list[Any], int]],
) -> None:
    """Through a driver other than psycopg 3 (which copies, see test_postgres_batch)."""
    writer = MetricWriter(_dialect("postgresql+psycopg2://"))
    assert not writer.copy and writer.staged_folds == ()
    driver = Driver(rowcount=3)  # one of the rows was stored before
    writer.write(driver, ROWS, 77)  # type: ignore[arg-type]
    [(sql, params)] = driver.calls
    assert sql == writer.sql and sql.startswith("INSERT INTO metrics (run_id, key, value, ")
    assert "ON CONFLICT (run_id, writer, seq) DO NOTHING" in sql
    expected = [
        {
            "run_id": r,
            "key": k,
            "value": value,
            "value_class": value_class,
            "step": s,
            "timestamp": moment,
            "writer": 77,
            "seq": q,
        }
        for (r, k, _, s, _, q), (value, value_class), moment in zip(
            ROWS, STORED, MOMENTS, strict=True
        )
    ]
    assert params == expected
    assert all(p["timestamp"].tzinfo is timezone.utc for p in params)
    assert driver.executed == []  # the insert's row count is exact: no read before
    assert folds == [(driver, ROWS, 3)]  # in the insert's transaction


@pytest.fixture
def tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local zone is UTC+9 (naive times must still be UTC)."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("url", ["mysql+pymysql://", "mariadb+pymysql://"])
@pytest.mark.usefixtures("tokyo")
def test_mysql_gets_positional_rows_with_naive_utc_times_and_encoded_values(
    url: str, folds: list[tuple[Any, list[Any], int]]
) -> None:
    dialect = _dialect(url)
    writer = MetricWriter(dialect)
    driver = Driver(rowcount=6, found=(2, 3))  # MySQL counts a duplicate as 2 changed rows
    writer.write(driver, ROWS, 5)  # type: ignore[arg-type]
    [(sql, params)] = driver.calls
    assert sql.startswith("INSERT INTO metrics (run_id, `key`, value, value_class, step, ")
    assert sql.endswith("ON DUPLICATE KEY UPDATE seq = VALUES(seq)")  # keeps refusing bad data
    assert "IGNORE" not in sql
    assert params == [
        (r, k, value, value_class, s, moment.replace(tzinfo=None), 5, q)
        for (r, k, _, s, _, q), (value, value_class), moment in zip(
            ROWS, STORED, MOMENTS, strict=True
        )
    ]
    [read] = driver.executed  # the rows stored before, read (and locked) first
    assert str(read.compile(dialect=dialect, compile_kwargs={"literal_binds": True})) == (
        "SELECT metrics.seq \nFROM metrics \nWHERE metrics.run_id IN (1, 2) AND "
        "metrics.writer = 5 AND metrics.seq BETWEEN 1 AND 4 FOR UPDATE"
    )
    assert folds == [(driver, ROWS, 2)]


def test_mysql_counts_only_the_batchs_own_rows_as_stored_before(
    folds: list[tuple[Any, list[Any], int]],
) -> None:
    rows = [(1, "loss", 1.0, 0, T0, 2), (1, "loss", 2.0, 1, T0, 5), (1, "loss", 3.0, 2, T0, 7)]
    driver = Driver(rowcount=3, found=(2, 3, 4, 7))  # 3 and 4: this writer's, another batch
    MetricWriter(_dialect("mysql+pymysql://")).write(driver, rows, 5)  # type: ignore[arg-type]
    assert folds == [(driver, rows, 1)]


def test_another_database_gets_a_plain_insert() -> None:
    writer = MetricWriter(_dialect("mssql+pyodbc://"))
    assert writer.sql == (
        "INSERT INTO metrics (run_id, [key], value, value_class, step, timestamp, writer, seq) "
        "VALUES (:run_id, :key, :value, :value_class, :step, :timestamp, :writer, :seq)"
    )  # no OUTPUT clause asking for the new ids


@pytest.mark.parametrize("fraction", [0.0, 0.25, 0.5, 0.0625, 0.001953125, 0.75])
def test_sqlite_stores_the_timestamp_text_sqlalchemy_would(rig: Rig, fraction: float) -> None:
    """``YYYY-MM-DD HH:MM:SS.ffffff``, six digits always: whole seconds included."""
    for offset in (0, 1, 86_399):
        rig.buffer.pending.append(
            (rig.run_id, "t", 1.0, offset, T0 + offset + fraction, rig.buffer.next_seq())
        )
    assert rig.buffer.flush() == 3
    with sqlite3.connect(rig.path) as con:
        stored = [row[0] for row in con.execute("SELECT timestamp FROM metrics ORDER BY id")]
    micro = f"{int(fraction * 1_000_000):06d}"
    assert stored == [
        f"2023-11-14 22:13:20.{micro}",
        f"2023-11-14 22:13:21.{micro}",
        f"2023-11-15 22:13:19.{micro}",
    ]


def test_sqlite_stores_the_value_and_its_class_like_the_servers(rig: Rig) -> None:
    for _, key, value, step, t, _ in ROWS:
        rig.buffer.pending.append((rig.run_id, key, value, step, t, rig.buffer.next_seq()))
    assert rig.buffer.flush() == 4
    with sqlite3.connect(rig.path) as con:
        stored = con.execute("SELECT value, value_class FROM metrics ORDER BY id").fetchall()
    assert stored == STORED


@pytest.mark.parametrize(("n", "left"), [(0, [1, 2, 3]), (2, [3]), (3, [])])
def test_drop_oldest_removes_exactly_the_oldest_rows(n: int, left: list[int]):
    from collections import deque

    rows: deque[Any] = deque([(1,), (2,), (3,)])
    buffer_module.drop_oldest(rows, n)
    assert [row[0] for row in rows] == left
