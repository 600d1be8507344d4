"""Rows logged in forked children through the parent's SQLLogger (issue 29, kind 2): children
that end with ``os._exit()`` (directly, or as every multiprocessing child does), a ``Pool``
ended by ``terminate()`` (SIGTERM) or by ``close()``/``join()``, and DataLoader-style workers
terminated while they wait for work. Every row is stored once, the parent's run is ended only
by the parent. On SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.cli import main

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")

ROWS = 1000
_shared: dict[str, SQLLogger] = {}  # the logger Pool workers inherit


def _log_rows(logger: SQLLogger, first: int, count: int = ROWS) -> None:
    for step in range(first, first + count):
        logger.log_metric("loss", float(step), step)


def _pool_task(chunk: int) -> int:
    _log_rows(_shared["logger"], chunk * 100, 100)
    return os.getpid()


def _worker(logger: SQLLogger, tasks: multiprocessing.Queue, done: multiprocessing.Queue) -> None:
    """A DataLoader-style worker: takes work until terminated. Like torch's DataLoader
    workers it waits with a timeout: CPython runs a signal handler only between bytecodes, so
    a SIGTERM that lands just before an untimed semaphore wait would never be handled."""
    while True:
        try:
            first = tasks.get(timeout=0.2)
        except queue.Empty:
            continue
        _log_rows(logger, first, 100)
        done.put(first)


@pytest.fixture
def logger(db_url: str, tmp_path: Path) -> Iterator[SQLLogger]:
    made = SQLLogger.from_url(db_url, "fork", flush_interval=3600, spool_dir=str(tmp_path))
    _shared["logger"] = made
    yield made
    _shared.clear()


def _check(db_url: str, logger: SQLLogger, steps: int) -> None:
    """The parent ends its run; every child's row is stored once (a child interrupted by
    SIGTERM in the middle of a flush saves its rows to the spool file, which ``ato sync``
    writes) and the run is completed."""
    run_id = logger.get_current_run_id()
    assert run_id is not None
    assert SQLFinder(db_url).find_run(run_id, with_metrics=False).status == "running"
    logger.finish()
    assert main(["sync", "--db", db_url, "--spool-dir", str(logger._buffer.spool_dir)]) == 0
    run = SQLFinder(db_url).find_run(run_id)
    assert sorted(m.step for m in run.metrics) == list(range(steps))
    assert run.status == "completed"


@pytest.mark.parametrize("children", [1, 3])
def test_forked_children_ending_with_os_exit_keep_their_rows(
    logger: SQLLogger, db_url: str, children: int
) -> None:
    logger.run()
    logger.log_metric("loss", -1.0, -1)  # buffered in the parent at the fork: written once
    pids = []
    for child in range(children):
        pid = os.fork()
        if pid == 0:
            try:
                _log_rows(logger, child * ROWS)
            finally:
                os._exit(0)
        pids.append(pid)
    assert [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids] == [0] * children
    run_id = logger.get_current_run_id()
    logger.finish()
    run = SQLFinder(db_url).find_run(run_id)
    assert sorted(m.step for m in run.metrics) == list(range(-1, children * ROWS))


def test_multiprocessing_children_keep_their_rows(logger: SQLLogger, db_url: str) -> None:
    logger.run()
    context = multiprocessing.get_context("fork")
    children = [
        context.Process(target=_log_rows, args=(logger, child * ROWS)) for child in range(3)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
    assert [child.exitcode for child in children] == [0, 0, 0]
    _check(db_url, logger, 3 * ROWS)


@pytest.mark.parametrize("ending", ["terminate", "close"])
def test_pool_workers_keep_their_rows(logger: SQLLogger, db_url: str, ending: str) -> None:
    logger.run()
    pool = multiprocessing.get_context("fork").Pool(3)
    try:
        assert len(pool.map(_pool_task, range(10))) == 10
    finally:
        if ending == "close":  # the workers finish and exit (os._exit)
            pool.close()
        else:  # SIGTERM, as `with Pool(...)` does
            pool.terminate()
        pool.join()
    _check(db_url, logger, 10 * 100)


def test_dataloader_style_workers_terminated_while_waiting_keep_their_rows(
    logger: SQLLogger, db_url: str
) -> None:
    logger.run()
    context = multiprocessing.get_context("fork")
    tasks, done = context.Queue(), context.Queue()
    workers = [context.Process(target=_worker, args=(logger, tasks, done)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for first in range(0, ROWS, 100):
        tasks.put(first)
    assert sorted(done.get(timeout=60) for _ in range(ROWS // 100)) == list(range(0, ROWS, 100))
    for worker in workers:
        worker.terminate()
        worker.join(60)
    _check(db_url, logger, ROWS)


def test_sigterm_before_the_fork_hooks_ran_leaves_the_parents_run_alone(
    logger: SQLLogger, db_url: str
) -> None:
    """A SIGTERM can reach a child (``Pool.terminate()`` right after a fast ``map``) while
    its fork hooks still run, before the parent's runs were forgotten: the child must not
    end them. The child puts the parent's logger back as the parent had it, then is killed."""
    from ato.tracker.write import signals

    logger.run()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        try:
            signals._active[logger] = parent
            os.kill(os.getpid(), signal.SIGTERM)
        finally:
            os._exit(3)  # reached only if SIGTERM did not end the child
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == -signal.SIGTERM
    _check(db_url, logger, 0)


def test_a_child_whose_main_thread_misses_sigterm_still_saves_its_rows_and_ends(
    logger: SQLLogger, db_url: str
) -> None:
    """A worker whose main thread waits in C when SIGTERM lands (a Pool worker in its untimed
    task-queue wait) never runs the Python handler; ``Pool.terminate()`` would wait for it
    forever. Here the child's main thread blocks SIGTERM and waits in ``os.read``, so ato's
    watcher thread must act: it saves the child's rows and ends it (status 143)."""
    logger.run()
    ready_r, ready_w = os.pipe()
    never_r, _never_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            _log_rows(logger, 0, ROWS)
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
            os.write(ready_w, b"x")
            os.read(never_r, 1)  # waits in C, never interrupted: SIGTERM goes to another thread
        finally:
            os._exit(3)
    assert os.read(ready_r, 1) == b"x"
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if done[0] == 0:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the child ignored SIGTERM while its main thread waited in C")
    # 143 from the watcher; -SIGTERM if the main thread got to run the handler after all
    assert os.waitstatus_to_exitcode(done[1]) in (128 + signal.SIGTERM, -signal.SIGTERM)
    _check(db_url, logger, ROWS)
