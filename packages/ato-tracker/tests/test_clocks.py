"""Local intervals run on the monotonic clock and heartbeats on the database's clock: a step of
the writer's wall clock, or a reader whose clock is off, changes neither when metrics are
flushed nor whether a live run reads as ``running``."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
from faultproxy import wait_until
from sqlalchemy import func, select, update

from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.read import overview, queries
from ato.tracker.storage.clock import database_now, read_database_now
from ato.tracker.storage.database import get_engine
from ato.tracker.storage.models import MetricRecord, RunRecord
from ato.tracker.write import buffer as buffer_module
from ato.tracker.write import heartbeat as heartbeat_module
from ato.tracker.write import logger as logger_module

HOUR = 3600.0
_real_time = time.time


def _stored(url: str, run_id: int) -> int:
    metrics = MetricRecord.__table__
    with get_engine(url).connect() as conn:
        stmt = select(func.count()).where(metrics.c.run_id == run_id)
        return int(conn.execute(stmt).scalar_one())


def _step_wall_clock(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Every wall-clock reading of the write path moves by ``seconds`` (the system clock was
    set; the monotonic clock is not)."""
    stepped: Callable[[], float] = lambda: _real_time() + seconds  # noqa: E731
    monkeypatch.setattr(time, "time", stepped)
    for module in (logger_module, buffer_module):
        monkeypatch.setattr(module, "time", stepped, raising=False)  # `from time import time`


@pytest.mark.parametrize("step_s", [-HOUR, -60.0, -24 * HOUR])
def test_rows_are_flushed_on_time_after_the_clock_steps_back(
    db_url: str, monkeypatch: pytest.MonkeyPatch, step_s: float
):
    logger = SQLLogger.from_url(db_url, "p", flush_interval=0.2)
    run_id = logger.run()
    logger.log_metric("warmup", 1.0, 0)
    _step_wall_clock(monkeypatch, step_s)
    for step in range(100):
        logger.log_metric("loss", 1.0 / (step + 1), step)
    # Nothing calls flush(): the rows must go out flush_interval after being logged.
    assert wait_until(lambda: _stored(db_url, run_id) == 101, timeout=10)
    logger.finish()


def test_the_background_flusher_keeps_its_interval_after_the_clock_steps_back(
    db_url: str, monkeypatch: pytest.MonkeyPatch
):
    logger = SQLLogger.from_url(db_url, "p", flush_interval=0.2, batch_size=10_000)
    run_id = logger.run()
    logger._buffer.flush()  # the next flush is due 0.2 s from now
    _step_wall_clock(monkeypatch, -HOUR)
    logger.log_metric("loss", 0.5, 1)  # not yet due: left to the flush thread
    assert wait_until(lambda: _stored(db_url, run_id) == 1, timeout=10)
    logger.finish()


def _shift_utcnow(monkeypatch: pytest.MonkeyPatch, modules: tuple, seconds: float) -> None:
    """``utcnow`` of ``modules`` (a host's clock) off by ``seconds``."""
    shifted = lambda: datetime.now(timezone.utc) + timedelta(seconds=seconds)  # noqa: E731
    for module in modules:
        monkeypatch.setattr(module, "utcnow", shifted, raising=False)


def _statuses(url: str, project: str = "p") -> tuple[str, str]:
    """The run's status as `SQLFinder` and as the dashboard's run table read it."""
    run = SQLFinder(url).get_runs_in_project(project)[0]
    with get_engine(url).connect() as conn:
        row = overview.project_run_rows(conn, project)[0]
    return run.status, row.status


@pytest.mark.parametrize("skew_s", [HOUR, 10 * 60.0, 3 * 60.0])
def test_a_reader_with_a_skewed_clock_sees_a_live_run_running(
    db_url: str, monkeypatch: pytest.MonkeyPatch, skew_s: float
):
    logger = SQLLogger.from_url(db_url, "p")
    logger.run()
    _shift_utcnow(monkeypatch, (queries, overview), skew_s)  # the reader's host
    assert _statuses(db_url) == ("running", "running")
    logger.finish()


@pytest.mark.parametrize("skew_s", [-HOUR, -10 * 60.0])
def test_a_writer_with_a_slow_clock_is_seen_running(
    db_url: str, monkeypatch: pytest.MonkeyPatch, skew_s: float
):
    _shift_utcnow(monkeypatch, (logger_module, heartbeat_module), skew_s)  # the writer's host
    logger = SQLLogger.from_url(db_url, "p", heartbeat_interval=0.1)
    run_id = logger.run()
    first = SQLFinder(db_url).find_run(run_id).heartbeat
    assert wait_until(lambda: SQLFinder(db_url).find_run(run_id).heartbeat != first)
    assert _statuses(db_url) == ("running", "running")
    logger.finish()


def test_a_silent_writer_still_reads_as_crashed_by_the_database_clock(db_url: str):
    logger = SQLLogger.from_url(db_url, "p")
    run_id = logger.run()
    logger._heartbeat.stop()  # type: ignore[union-attr]
    runs = RunRecord.__table__
    engine = get_engine(db_url)
    with engine.begin() as conn:
        past = read_database_now(conn) - timedelta(seconds=600)
        conn.execute(update(runs).where(runs.c.id == run_id).values(heartbeat=past))
    assert _statuses(db_url) == ("crashed", "crashed")
    with engine.begin() as conn:
        conn.execute(
            update(runs).where(runs.c.id == run_id).values(heartbeat=database_now(conn.dialect))
        )
    assert _statuses(db_url) == ("running", "running")
    logger.finish()


def test_the_database_clock_reads_as_aware_utc_near_the_local_clock(db_url: str):
    with get_engine(db_url).connect() as conn:
        now = read_database_now(conn)
    assert now.tzinfo is not None
    assert abs((now - datetime.now(timezone.utc)).total_seconds()) < 60  # same host here
