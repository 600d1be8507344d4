"""Faults between the logger and a real server (PostgreSQL, MariaDB), injected by the
:mod:`faultproxy` TCP proxy: a hung server (item 2), a lost COMMIT reply (item 3) and a server
that is down while a program logs and exits (item 4)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from faultproxy import commit_statement
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.cli import main
from ato.tracker.errors import DatabaseTimeoutError

CONNECT_S, STATEMENT_S = 1, 2
FLUSH_BOUND_S = 4 * (CONNECT_S + STATEMENT_S) + 3  # two attempts, each may connect twice


def _cfg(url: str, spool_dir: Path, **sql: object) -> dict:
    settings = {
        "db_path": url,
        "connect_timeout": CONNECT_S,
        "statement_timeout": STATEMENT_S,
        "spool_after": 600,
        "spool_dir": str(spool_dir),
        **sql,
    }
    return {"experiment": {"project_name": "faults", "sql": settings}}


def _summary_count(url: str, run_id: int) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text("SELECT value_count FROM metric_summaries WHERE run_id = :r"),
                    {"r": run_id},
                ).scalar_one()
            )
    finally:
        engine.dispose()


def _stored(url: str, run_id: int) -> list[tuple[int, int]]:
    """(step, seq) of every metric row of ``run_id``, read directly (not through the proxy)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT step, seq FROM metrics WHERE run_id = :r ORDER BY step"),
                {"r": run_id},
            )
            return [tuple(row) for row in rows]
    finally:
        engine.dispose()


def _status(url: str, run_id: int) -> str:
    return SQLFinder(url).find_run(run_id, with_metrics=False).status


# -- item 2: a hung server -----------------------------------------------------------------
@pytest.mark.parametrize("fault", ["pause", "pause_on_insert", "pause_on_commit"])
def test_a_hung_server_never_blocks_log_metric_and_flush_is_time_bounded(
    fault_proxy, server_db_url, tmp_path, fault
):
    logger = SQLLogger(
        _cfg(fault_proxy.url(server_db_url), tmp_path), batch_size=100_000, flush_interval=3600
    )
    run_id = logger.run()
    for step in range(1000):
        logger.log_metric("loss", 1.0, step)
    {
        "pause": fault_proxy.pause,
        "pause_on_insert": lambda: fault_proxy.pause_on(b"INSERT"),
        "pause_on_commit": lambda: fault_proxy.pause_on(commit_statement(server_db_url)),
    }[fault]()
    latencies: list[float] = []

    def log_meanwhile() -> None:
        for step in range(1000, 2000):
            start = time.monotonic()
            logger.log_metric("loss", 2.0, step)
            latencies.append(time.monotonic() - start)
            time.sleep(0.001)

    other = threading.Thread(target=log_meanwhile)
    start = time.monotonic()
    other.start()
    with pytest.raises((DatabaseTimeoutError, DBAPIError)):
        logger.flush()
    elapsed = time.monotonic() - start
    other.join(timeout=30)
    assert elapsed < FLUSH_BOUND_S
    assert len(latencies) == 1000 and max(latencies) < 0.5
    fault_proxy.resume()  # a paused COMMIT may now reach the server: still stored once
    logger.finish()
    stored = _stored(server_db_url, run_id)
    assert [step for step, _ in stored] == list(range(2000))
    assert _status(server_db_url, run_id) == "completed"


def test_the_background_flush_against_a_hung_server_does_not_block_logging(
    fault_proxy, server_db_url, tmp_path
):
    logger = SQLLogger(_cfg(fault_proxy.url(server_db_url), tmp_path), batch_size=100)
    run_id = logger.run()
    fault_proxy.pause()
    start = time.monotonic()
    for step in range(5000):  # 50 full batches, each waking the flush thread
        logger.log_metric("acc", step / 5000, step)
    assert time.monotonic() - start < 3
    fault_proxy.resume()
    logger.finish()
    assert len(_stored(server_db_url, run_id)) == 5000


# -- item 3: a lost COMMIT reply -----------------------------------------------------------
@pytest.mark.parametrize(("batch_size", "drops"), [(1000, 1), (250, 1), (250, 2), (100, 3)])
def test_a_lost_commit_reply_stores_every_row_exactly_once(
    fault_proxy, server_db_url, tmp_path, batch_size, drops
):
    logger = SQLLogger(
        _cfg(fault_proxy.url(server_db_url), tmp_path),
        batch_size=100_000,
        flush_interval=3600,
    )
    logger._buffer.batch_size = batch_size  # rows per transaction, flushed only on demand
    run_id = logger.run()
    for step in range(1000):
        logger.log_metric("loss", step / 1000, step)
    fault_proxy.drop_reply_to(commit_statement(server_db_url), times=drops)
    for _ in range(drops + 1):  # a flush retries once on a new connection, then raises
        try:
            logger.flush()
            break
        except DBAPIError:
            continue
    logger.finish()
    assert fault_proxy.replies_dropped == drops
    stored = _stored(server_db_url, run_id)
    assert [step for step, _ in stored] == list(range(1000))
    assert len({seq for _, seq in stored}) == 1000
    assert _summary_count(server_db_url, run_id) == 1000  # the summary counted each row once


# -- item 4: the server is down while the program logs and exits ---------------------------
CHILD = """
import sys
from ato.tracker import SQLLogger
url, spool_dir, finish = sys.argv[1], sys.argv[2], sys.argv[3] == "finish"
sql = {"db_path": url, "connect_timeout": 1, "statement_timeout": 2, "spool_dir": spool_dir}
logger = SQLLogger({"experiment": {"project_name": "faults", "sql": sql}}, batch_size=500)
print(logger.run(), flush=True)
sys.stdin.readline()  # the parent takes the server down now
for step in range(1500):
    logger.log_metric("loss", float(step), step)
if finish:
    logger.finish()
"""


@pytest.mark.parametrize("finish", ["finish", "exit"])
def test_exiting_while_the_server_is_down_spools_everything_and_sync_writes_it_once(
    fault_proxy, server_db_url, tmp_path, finish, capsys
):
    spool_dir = tmp_path / "spool"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(CHILD),
            fault_proxy.url(server_db_url),
            str(spool_dir),
            finish,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    run_id = int(child.stdout.readline())
    fault_proxy.refuse()
    _out, err = child.communicate("go\n", timeout=120)
    assert child.returncode == 0, err
    assert "saved 1500 metrics" in err and str(spool_dir) in err and "ato sync" in err
    assert _stored(server_db_url, run_id) == []
    fault_proxy.accept()
    sync = ["sync", "--db", fault_proxy.url(server_db_url), "--spool-dir", str(spool_dir)]
    assert main(sync) == 0
    assert "1500 metrics" in capsys.readouterr().out
    assert [step for step, _ in _stored(server_db_url, run_id)] == list(range(1500))
    assert _status(server_db_url, run_id) == ("completed" if finish == "finish" else "running")
    assert main(sync) == 0
    assert "nothing to sync" in capsys.readouterr().out
    assert len(_stored(server_db_url, run_id)) == 1500


def test_rows_spooled_past_the_bound_are_written_by_the_next_flush(
    fault_proxy, server_db_url, tmp_path
):
    logger = SQLLogger(
        _cfg(fault_proxy.url(server_db_url), tmp_path, spool_after=0.3),
        batch_size=100_000,
        flush_interval=3600,
    )
    run_id = logger.run()
    fault_proxy.refuse()
    for step in range(700):
        logger.log_metric("loss", 1.0, step)
    with pytest.raises(DBAPIError):
        logger.flush()
    time.sleep(0.4)
    with pytest.raises(DBAPIError):
        logger.flush()  # past spool_after: the rows move to the spool file
    assert logger._buffer.spool_file.exists() and not logger._buffer.pending
    for step in range(700, 1000):
        logger.log_metric("loss", 1.0, step)
    fault_proxy.accept()
    assert logger.flush() == 300
    assert not logger._buffer.spool_file.exists()
    logger.finish()
    assert [step for step, _ in _stored(server_db_url, run_id)] == list(range(1000))


def test_rows_both_committed_and_spooled_are_stored_once(fault_proxy, server_db_url, tmp_path):
    logger = SQLLogger(
        _cfg(fault_proxy.url(server_db_url), tmp_path), batch_size=100_000, flush_interval=3600
    )
    run_id = logger.run()
    for step in range(1000):
        logger.log_metric("loss", 1.0, step)
    fault_proxy.drop_reply_to(commit_statement(server_db_url), then_refuse=True)  # committed,
    # then the server is gone
    logger.finish()  # cannot reach the server: rows and the run's end go to the spool
    assert len(_stored(server_db_url, run_id)) == 1000
    fault_proxy.accept()
    assert main(["sync", "--db", fault_proxy.url(server_db_url), "--spool-dir", str(tmp_path)]) == 0
    assert [step for step, _ in _stored(server_db_url, run_id)] == list(range(1000))
    assert _status(server_db_url, run_id) == "completed"


def test_leaving_a_with_block_while_the_server_is_down_spools_instead_of_raising(
    fault_proxy, server_db_url, tmp_path
):
    url = fault_proxy.url(server_db_url)
    with SQLLogger(_cfg(url, tmp_path), flush_interval=3600) as logger:
        run_id = logger.run()
        for step in range(500):
            logger.log_metric("loss", 1.0, step)
        fault_proxy.refuse()
    (spooled,) = list(tmp_path.glob("*.jsonl"))
    fault_proxy.accept()
    assert main(["sync", "--db", url, "--spool-dir", str(tmp_path)]) == 0
    assert not spooled.exists()
    assert [step for step, _ in _stored(server_db_url, run_id)] == list(range(500))
    assert _status(server_db_url, run_id) == "completed"
