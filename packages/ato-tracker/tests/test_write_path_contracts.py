"""Behaviours of the metric write path that mutation testing showed no other test would notice:
a failed flush keeps its rows in order and a later flush writes them once, the flush thread's
lifecycle (one per buffer, restart right after a stop, quiet exit once the buffer is gone),
``batch_size=1`` and the exact fraction of a second in stored timestamps."""

from __future__ import annotations

import gc
import logging
import threading
import weakref
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from ato.tracker import BufferSettingsError, SQLFinder, SQLLogger
from ato.tracker.write import inserts as inserts_module
from ato.tracker.write.buffer import MetricBuffer, MetricWriter, _timer_loop

OUTAGE = OperationalError("INSERT INTO metrics", {}, ConnectionError("server went away"))


def _fail_writes(monkeypatch: pytest.MonkeyPatch, failures: list[int]) -> list[int]:
    """Make the n-th calls (1-based) of ``MetricWriter.write`` listed in ``failures`` raise
    ``OUTAGE``; return the list of row counts of every call."""
    real = MetricWriter.write
    calls: list[int] = []

    def write(self, conn, rows, writer_id):  # type: ignore[no-untyped-def]
        calls.append(len(rows))
        if len(calls) in failures:
            raise OUTAGE
        return real(self, conn, rows, writer_id)

    monkeypatch.setattr(MetricWriter, "write", write)
    monkeypatch.setattr(inserts_module, "run_transaction", lambda engine, work: _once(engine, work))
    return calls


def _once(engine, work):  # type: ignore[no-untyped-def]
    """One transaction, no retries (the engine's retries would hide the injected outage)."""
    with engine.begin() as conn:
        return work(conn)


def _logged(finder: SQLFinder, run_id: int) -> list[tuple[str, float, int | None]]:
    return [(m.key, m.value, m.step) for m in finder.find_run(run_id).metrics]


# -- a failed flush ---------------------------------------------------------------------------
def test_a_failed_flush_raises_keeps_the_rows_in_order_and_a_later_flush_writes_them_once(
    make_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    logger = SQLLogger(make_config(), batch_size=1000, flush_interval=3600)
    run_id = logger.run()
    for step in range(3):
        logger.log_metric("loss", 1.0 / (step + 1), step)
    calls = _fail_writes(monkeypatch, failures=[1])
    with pytest.raises(OperationalError, match="server went away"):
        logger.flush()
    assert [(r[1], r[3]) for r in logger._buffer.pending] == [("loss", 0), ("loss", 1), ("loss", 2)]
    finder = SQLFinder(logger.config)
    assert _logged(finder, run_id) == []
    assert logger.flush() == 3
    assert logger.flush() == 0
    assert calls == [3, 3]
    assert _logged(finder, run_id) == [("loss", 1.0, 0), ("loss", 0.5, 1), ("loss", 1 / 3, 2)]
    logger.finish()
    assert _logged(finder, run_id) == [("loss", 1.0, 0), ("loss", 0.5, 1), ("loss", 1 / 3, 2)]


def test_a_flush_failing_on_its_second_batch_keeps_only_the_unwritten_rows(
    make_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    logger = SQLLogger(make_config(), batch_size=2, flush_interval=3600)
    run_id = logger.run()
    logger._buffer.stop_timer()
    logger._buffer.inline = False  # no inline flush by the logging thread on SQLite
    calls = _fail_writes(monkeypatch, failures=[2])
    buffer = logger._buffer
    for step in range(5):
        buffer.pending.append((run_id, "acc", float(step), step, 1.7e9 + step, buffer.next_seq()))
    with pytest.raises(OperationalError):
        logger.flush()
    assert [r[3] for r in buffer.pending] == [2, 3, 4]
    finder = SQLFinder(logger.config)
    assert [m.step for m in finder.find_run(run_id).metrics] == [0, 1]
    assert logger.flush() == 3
    assert calls == [2, 2, 2, 1]
    assert [m.step for m in finder.find_run(run_id).metrics] == [0, 1, 2, 3, 4]
    logger.finish()


# -- batch size -------------------------------------------------------------------------------
def test_a_batch_size_of_one_is_valid_and_writes_every_row_once(
    make_config, monkeypatch: pytest.MonkeyPatch
) -> None:
    logger = SQLLogger(make_config(), batch_size=1, flush_interval=3600)
    run_id = logger.run()
    for step in range(4):
        logger.log_metric("loss", float(step), step)
    logger.flush()
    logger.finish()
    assert SQLFinder(logger.config).find_run(run_id).metric_values("loss") == [0.0, 1.0, 2.0, 3.0]


@pytest.mark.parametrize(("batch_size", "flush_interval"), [(0, 1.0), (-1, 1.0), (1, 0), (1, -2)])
def test_buffer_settings_below_the_limits_are_refused(
    tmp_path, batch_size: int, flush_interval: float
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(BufferSettingsError, match="batch_size"):
        MetricBuffer(engine, batch_size, flush_interval, spool_dir=tmp_path)
    assert MetricBuffer(engine, 1, 1e-3, spool_dir=tmp_path).batch_size == 1


# -- the flush thread ---------------------------------------------------------------------------
@pytest.fixture
def idle_buffer(tmp_path):  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    buffer = MetricBuffer(engine, 100, 3600, spool_dir=tmp_path)
    yield buffer
    buffer.stop_timer()
    engine.dispose()


def test_start_timer_twice_keeps_one_timer_thread(idle_buffer: MetricBuffer) -> None:
    before = threading.active_count()
    idle_buffer.start_timer()
    timer = idle_buffer._timer
    idle_buffer.start_timer()
    assert idle_buffer._timer is timer and timer is not None and timer.is_alive()
    assert threading.active_count() == before + 1
    assert timer.name == "ato-tracker-flush" and timer.daemon


def test_a_restart_right_after_a_stop_leaves_exactly_one_running_timer(
    idle_buffer: MetricBuffer,
) -> None:
    idle_buffer.start_timer()
    old = idle_buffer._timer
    old_stop = idle_buffer._stop
    idle_buffer.stop_timer()
    idle_buffer.start_timer()  # whether or not the old thread has exited yet
    new = idle_buffer._timer
    assert new is not old and new is not None and new.is_alive()
    assert old_stop.is_set() and not idle_buffer._stop.is_set()
    assert old is not None
    old.join(5)
    assert not old.is_alive() and new.is_alive()
    idle_buffer.stop_timer()
    new.join(5)
    assert not new.is_alive()


def test_the_timer_of_a_garbage_collected_buffer_exits_quietly(
    tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    buffer = MetricBuffer(engine, 100, 3600, spool_dir=tmp_path)
    buffer.start_timer()
    timer, wake, alive = buffer._timer, buffer._wake, weakref.ref(buffer)
    assert timer is not None
    errors: list[BaseException] = []
    hook, threading.excepthook = threading.excepthook, lambda args: errors.append(args.exc_value)
    try:
        with caplog.at_level(logging.DEBUG, logger="ato.tracker"):
            del buffer
            gc.collect()
            assert alive() is None
            wake.set()
            timer.join(5)
    finally:
        threading.excepthook = hook
    assert not timer.is_alive()
    assert errors == [] and caplog.records == []
    engine.dispose()


def test_the_timer_loop_holds_no_reference_between_rounds(tmp_path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    buffer = MetricBuffer(engine, 100, 3600, spool_dir=tmp_path)
    ref, stop, wake = weakref.ref(buffer), threading.Event(), threading.Event()
    rounds: list[bool] = []

    class CountingWake(threading.Event):
        def wait(self, timeout=None):  # type: ignore[no-untyped-def]
            rounds.append(ref() is None)
            if len(rounds) == 1:
                return True  # a first round with the buffer alive
            return wake.wait(timeout)

    counting = CountingWake()
    thread = threading.Thread(target=_timer_loop, args=(ref, stop, counting, 3600), daemon=True)
    thread.start()
    while len(rounds) < 2 and thread.is_alive():
        thread.join(0.01)
    del buffer
    gc.collect()
    assert ref() is None  # the loop, waiting, did not keep the buffer alive
    wake.set()
    thread.join(5)
    assert not thread.is_alive() and rounds[:2] == [False, False]
    engine.dispose()


# -- timestamps -----------------------------------------------------------------------------------
@pytest.mark.parametrize("fraction", [0.25, 0.5, 0.0625, 0.001953125, 0.0])
def test_metric_timestamps_keep_the_exact_fraction_of_a_second(
    make_config, monkeypatch: pytest.MonkeyPatch, fraction: float
) -> None:
    moment = 1_700_000_000 + fraction  # 2023-11-14 22:13:20 UTC
    logger = SQLLogger(make_config(), batch_size=1000, flush_interval=3600)
    run_id = logger.run()
    monkeypatch.setattr("ato.tracker.write.logger.time", lambda: moment)
    logger.log_metric("loss", 1.0, 0)
    logger.flush()
    monkeypatch.undo()
    logger.finish()
    [metric] = SQLFinder(logger.config).find_run(run_id).metrics
    micro = int(fraction * 1_000_000)  # 0.001953125 s -> 1953 us (a leading zero kept)
    expected = datetime(2023, 11, 14, 22, 13, 20, micro, tzinfo=timezone.utc)
    assert metric.timestamp == expected
