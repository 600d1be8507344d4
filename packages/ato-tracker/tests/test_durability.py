"""SQLite under several writer processes, a killed writer, interpreter exit and garbage collection."""

from __future__ import annotations

import gc
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from ato.tracker import SQLFinder, SQLLogger


def _python(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


WRITER = """
import sys
from ato.tracker import SQLLogger
url, count = sys.argv[1], int(sys.argv[2])
cfg = {"experiment": {"project_name": "concurrent", "sql": {"db_path": url}}}
logger = SQLLogger(cfg, batch_size=250)
logger.run(tags=["worker"])
for step in range(count):
    logger.log_metric("loss", 1.0 / (step + 1), step)
logger.finish()
"""


def _db_file(url: str) -> str:
    return url.removeprefix("sqlite:///")


def test_four_processes_write_one_sqlite_file_without_losing_rows(sqlite_url):
    workers = [_python(WRITER, sqlite_url, "5000") for _ in range(4)]
    outputs = [w.communicate(timeout=300) for w in workers]
    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
        assert "locked" not in err
    with sqlite3.connect(_db_file(sqlite_url)) as con:
        assert con.execute("SELECT COUNT(*) FROM metrics").fetchone()[0] == 20_000
    runs = SQLFinder(sqlite_url).get_runs_in_project("concurrent")
    assert len(runs) == 4
    assert {r.status for r in runs} == {"completed"}
    assert all(len(r.metrics) == 5000 for r in runs)


CRASHER = """
import sys, time
from ato.tracker import SQLLogger
cfg = {"experiment": {"project_name": "crash", "sql": {"db_path": sys.argv[1]}}}
logger = SQLLogger(cfg, flush_interval=3600)
run_id = logger.run()
for step in range(1000):
    logger.log_metric("loss", float(step), step)
logger.flush()
for step in range(1000, 1500):
    logger.log_metric("loss", float(step), step)  # buffered, never flushed
print(run_id, flush=True)
time.sleep(600)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_sigkill_after_flush_keeps_flushed_metrics_and_running_status(sqlite_url):
    proc = _python(CRASHER, sqlite_url)
    run_id = int(proc.stdout.readline())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    proc.stdout.close()
    proc.stderr.close()
    with sqlite3.connect(_db_file(sqlite_url)) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    run = SQLFinder(sqlite_url).find_run(run_id)
    assert run.status == "running" and run.end_time is None
    assert [m.step for m in run.metrics] == list(range(1000))


EXITER = """
import sys
from ato.tracker import SQLLogger
cfg = {"experiment": {"project_name": "exit", "sql": {"db_path": sys.argv[1]}}}
logger = SQLLogger(cfg, flush_interval=3600)
print(logger.run(), flush=True)
for step in range(10):
    logger.log_metric("loss", float(step), step)
"""


def test_interpreter_exit_flushes_buffered_metrics(sqlite_url):
    proc = _python(EXITER, sqlite_url)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    run = SQLFinder(sqlite_url).find_run(int(out))
    assert len(run.metrics) == 10
    assert run.status == "running"  # exit does not guess an outcome


def test_garbage_collected_logger_flushes(sqlite_url):
    cfg = {"experiment": {"project_name": "gc", "sql": {"db_path": sqlite_url}}}
    logger = SQLLogger(cfg, flush_interval=3600)
    run_id = logger.run()
    logger.log_metric("loss", 1.0, 0)
    del logger
    gc.collect()
    assert SQLFinder(sqlite_url).find_run(run_id).metric_values("loss") == [1.0]


def test_sqlite_connections_use_wal(sqlite_url):
    cfg = {"experiment": {"project_name": "wal", "sql": {"db_path": sqlite_url}}}
    logger = SQLLogger(cfg)
    with logger.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")
def test_a_forked_child_can_log_with_the_parents_logger(sqlite_url):
    cfg = {"experiment": {"project_name": "fork", "sql": {"db_path": sqlite_url}}}
    logger = SQLLogger(cfg, flush_interval=3600)
    logger.get_or_create_project()  # the parent holds a pooled connection now
    pid = os.fork()
    if pid == 0:  # child: log a whole run, then leave without running parent cleanup
        code = 1
        try:
            logger.run()
            logger.log_metric("loss", 1.0, 0)
            logger.finish()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    (run,) = SQLFinder(sqlite_url).get_runs_in_project("fork")
    assert run.status == "completed" and run.metric_values("loss") == [1.0]
    assert logger.get_or_create_project().name == "fork"  # the parent's pool still works


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")
def test_a_forked_child_does_not_write_the_parents_buffered_metrics(sqlite_url):
    cfg = {"experiment": {"project_name": "fork-buffer", "sql": {"db_path": sqlite_url}}}
    logger = SQLLogger(cfg, flush_interval=3600)
    parent_run = logger.run()
    logger.log_metric("loss", 1.0, 0)  # buffered in the parent when it forks
    pid = os.fork()
    if pid == 0:  # child: log and finish a run of its own with the inherited logger
        code = 1
        try:
            logger.finish()
            logger.run()
            logger.log_metric("loss", 2.0, 0)
            logger.finish()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    logger.finish()
    runs = {r.id: r for r in SQLFinder(sqlite_url).get_runs_in_project("fork-buffer")}
    assert runs[parent_run].metric_values("loss") == [1.0]
    (child_run,) = (r for r in runs.values() if r.id != parent_run)
    assert child_run.metric_values("loss") == [2.0]


def test_a_run_started_right_after_finish_has_a_running_flush_timer(sqlite_url):
    cfg = {"experiment": {"project_name": "timer", "sql": {"db_path": sqlite_url}}}
    logger = SQLLogger(cfg, flush_interval=3600)
    for _ in range(20):
        logger.run()
        logger.finish()
    logger.run()
    timer = logger._buffer._timer
    assert timer is not None and timer.is_alive()
    assert not logger._buffer._stop.is_set()
    logger.finish()
