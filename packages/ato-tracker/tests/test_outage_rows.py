"""Rows logged while the database is unreachable (issue 29): none is dropped while the flush
thread saves the spool copy (kind 1), and rows neither the database nor the spool file can
keep stay in memory, ``finish()`` says so, the run is ended once the database is back and a
process that ends with them exits with status 1 (kind 6). On SQLite (a full disk) and behind a
refusing proxy on PostgreSQL and MariaDB."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from faultproxy import wait_until
from outages import SmallDisk, require_root, stored_steps
from sqlalchemy.exc import DBAPIError

from ato.tracker import MetricsNotStoredError, SQLFinder, SQLLogger
from ato.tracker.errors import DatabaseTimeoutError

OUTAGE_ERRORS = (DBAPIError, DatabaseTimeoutError)


def _logger(outage: Any, spool_dir: Path, **options: Any) -> SQLLogger:
    settings = {"connect_timeout": 1, "statement_timeout": 2, "spool_dir": str(spool_dir)}
    return SQLLogger.from_url(outage.url, "outage", **{**settings, **options})


def _status(url: str, run_id: int) -> str:
    return SQLFinder(url).find_run(run_id, with_metrics=False).status


def _log(logger: SQLLogger, steps: range) -> None:
    for step in steps:
        logger.log_metric("loss", float(step), step)


# -- kind 1: rows logged while the spool copy is saved ----------------------------------------
@pytest.mark.parametrize("during", [1, 500])
def test_rows_logged_while_the_spool_copy_is_saved_stay_buffered(
    outage: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, during: int
) -> None:
    logger = _logger(
        outage, tmp_path / "spool", batch_size=100_000, flush_interval=3600, spool_after=0.05
    )
    run_id = logger.run()
    _log(logger, range(5000))
    outage.down()
    real_fsync = os.fsync
    logged: list[int] = []

    def fsync_while_the_training_thread_logs(fd: int) -> None:
        real_fsync(fd)
        if not logged:
            logged.append(fd)
            _log(logger, range(5000, 5000 + during))

    monkeypatch.setattr(os, "fsync", fsync_while_the_training_thread_logs)
    for _ in range(2):  # the second failure is past spool_after: the rows go to the spool
        with pytest.raises(OUTAGE_ERRORS):
            logger.flush()
        time.sleep(0.06)
    monkeypatch.undo()
    assert logged, "the rows were not spooled"
    assert [row[3] for row in logger._buffer.pending] == list(range(5000, 5000 + during))
    outage.up()
    logger.finish()
    assert stored_steps(outage.direct_url, run_id) == list(range(5000 + during))


def test_a_training_thread_logging_through_an_outage_loses_no_row(
    outage: Any, tmp_path: Path
) -> None:
    logger = _logger(
        outage, tmp_path / "spool", batch_size=200, flush_interval=0.005, spool_after=0.01
    )
    run_id = logger.run()
    outage.down()
    for step in range(20_000):
        logger.log_metric("loss", float(step), step)
        if step % 20 == 0:
            time.sleep(0.0002)  # let the flush thread spill while this thread logs
    assert wait_until(lambda: not logger._buffer.pending, timeout=30)
    outage.up()
    logger.finish()
    stored = stored_steps(outage.direct_url, run_id)
    assert len(set(range(20_000)) - set(stored)) == 0  # rows lost
    assert stored == list(range(20_000))


# -- kind 6: neither the database nor the spool file can keep the rows -------------------------
@pytest.fixture(params=["disk full", "not a directory", "read-only"])
def broken_spool(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """A spool directory that cannot be written (the disk ones need root)."""
    if request.param == "not a directory":
        (tmp_path / "a-file").write_text("")
        yield tmp_path / "a-file" / "spool"
        return
    require_root()
    disk = SmallDisk(tmp_path / "spool-disk", size="1m")
    (disk.path / "spool").mkdir()
    if request.param == "disk full":
        disk.fill()
    else:
        disk.read_only()
    yield disk.path / "spool"
    disk.close()


def test_finish_says_when_no_store_keeps_the_rows_and_ends_the_run_once_the_database_is_back(
    outage: Any, broken_spool: Path
) -> None:
    logger = _logger(outage, broken_spool, batch_size=100_000, flush_interval=0.05)
    run_id = logger.run()
    outage.down()
    _log(logger, range(3000))
    with pytest.raises(MetricsNotStoredError) as info:
        logger.finish()
    assert info.value.count == 3000 and info.value.run_end[:2] == (run_id, "completed")
    assert str(broken_spool) in str(info.value)
    assert len(logger._buffer.pending) == 3000  # kept in memory
    outage.up()
    assert wait_until(lambda: _status(outage.direct_url, run_id) == "completed", timeout=60)
    assert stored_steps(outage.direct_url, run_id) == list(range(3000))


def test_the_rows_kept_in_memory_go_to_the_spool_once_it_can_be_written(
    outage: Any, tmp_path: Path
) -> None:
    blocker = tmp_path / "spool"
    blocker.write_text("")  # a file where the spool directory should be
    logger = _logger(outage, blocker, batch_size=100_000, flush_interval=0.05, spool_after=0.05)
    run_id = logger.run()
    outage.down()
    _log(logger, range(1000))
    with pytest.raises(MetricsNotStoredError):
        logger.finish("failed")
    blocker.unlink()  # the flush thread's next spill succeeds
    assert wait_until(lambda: not logger._buffer.pending and not logger._buffer.run_ends)
    outage.up()
    assert wait_until(lambda: _status(outage.direct_url, run_id) == "failed", timeout=60)
    assert stored_steps(outage.direct_url, run_id) == list(range(1000))


EXITING = """
import sys
from ato.tracker import SQLLogger
url, spool_dir, ending = sys.argv[1:4]
logger = SQLLogger.from_url(
    url, "outage", flush_interval=3600, connect_timeout=1, statement_timeout=2,
    spool_dir=spool_dir,
)
print(logger.run(), flush=True)
sys.stdin.readline()  # the parent takes the database down now
for step in range(1500):
    logger.log_metric("loss", float(step), step)
if ending == "finish":
    try:
        logger.finish()
    except Exception as error:
        print("finish raised", type(error).__name__, flush=True)
"""


@pytest.mark.parametrize("ending", ["exit", "finish"])
def test_a_process_ending_with_rows_no_store_keeps_exits_with_status_1(
    outage: Any, tmp_path: Path, ending: str
) -> None:
    blocker = tmp_path / "spool"
    blocker.write_text("")
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(EXITING), outage.url, str(blocker), ending],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    run_id = int(child.stdout.readline())
    outage.down()
    out, err = child.communicate("go\n", timeout=120)
    assert child.returncode == 1, err
    assert "1500 buffered metrics" in err and "could be kept neither" in err
    assert "the process exits with status 1" in err
    assert ("finish raised MetricsNotStoredError" in out) == (ending == "finish")
    outage.up()
    assert stored_steps(outage.direct_url, run_id) == []


def test_a_forked_child_ending_with_rows_no_store_keeps_exits_with_status_1(
    outage: Any, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("")
    logger = _logger(outage, tmp_path / "a-file" / "spool", flush_interval=3600)
    run_id = logger.run()
    outage.down()
    pid = os.fork()
    if pid == 0:
        try:
            _log(logger, range(100))
        finally:
            os._exit(0)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 1
    outage.up()
    logger.finish()
    assert _status(outage.direct_url, run_id) == "completed"
