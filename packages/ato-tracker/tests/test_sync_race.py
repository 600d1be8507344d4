"""``ato sync`` while a writer appends to the spool file it replays (issue 29, kind 5): rows
appended after the replay read the file are never deleted with it. Writers: rows appended in
the middle of a replay, a thread and another process appending while syncs run, and a live
logger spilling behind a refusing proxy. On SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from outages import stored_steps

from ato.tracker import SQLLogger
from ato.tracker.cli.sync import sync
from ato.tracker.write import spool

WRITER = 77
T0 = 1_700_000_000.0


def _rows(run_id: int, first: int, count: int) -> list[tuple[Any, ...]]:
    """Rows of ``WRITER`` with steps and seqs ``first + 1 ...``."""
    return [(run_id, "loss", float(s), s, T0, s + 1) for s in range(first, first + count)]


def _sync(url: str, spool_dir: Path) -> None:
    sync(url, spool_dir, io.StringIO())


@pytest.fixture
def run_id(db_url: str) -> int:
    logger = SQLLogger.from_url(db_url, "sync-race", flush_interval=3600)
    made = logger.run()
    logger.finish()
    return made


@pytest.mark.parametrize("appended", [1, 300])
def test_rows_appended_while_a_replay_writes_are_kept(
    db_url: str, run_id: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, appended: int
) -> None:
    path = spool.spool_path(tmp_path, db_url, WRITER)
    spool.save(path, db_url, WRITER, _rows(run_id, 0, 1000))
    real = spool.write_isolating
    calls: list[int] = []

    def write_while_the_logger_appends(*args: Any, **kwargs: Any) -> int:
        if not calls:
            spool.save(path, db_url, WRITER, _rows(run_id, 1000, appended))
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(spool, "write_isolating", write_while_the_logger_appends)
    _sync(db_url, tmp_path)
    monkeypatch.undo()
    _sync(db_url, tmp_path)
    assert stored_steps(db_url, run_id) == list(range(1000 + appended))
    assert list(tmp_path.glob("*.jsonl")) == []


APPENDER = """
import sys
from pathlib import Path
from ato.tracker.write import spool
path, url, run_id, first, count = sys.argv[1:6]
for start in range(int(first), int(first) + int(count), 50):
    rows = [(int(run_id), "loss", float(s), s, 0.0, s + 1) for s in range(start, start + 50)]
    spool.save(Path(path), url, 77, rows)
"""


@pytest.mark.parametrize("writer", ["thread", "process"])
def test_syncs_racing_an_appending_writer_lose_no_row(
    db_url: str, run_id: int, tmp_path: Path, writer: str
) -> None:
    path = spool.spool_path(tmp_path, db_url, WRITER)
    total = 6000

    def append_here() -> None:
        for start in range(0, total, 50):
            spool.save(path, db_url, WRITER, _rows(run_id, start, 50))
            time.sleep(0.0005)

    def append_in_another_process() -> None:
        script = textwrap.dedent(APPENDER)
        args = [str(path), db_url, str(run_id), "0", str(total)]
        subprocess.run([sys.executable, "-c", script, *args], check=True, timeout=120)

    appender = threading.Thread(
        target=append_here if writer == "thread" else append_in_another_process
    )
    appender.start()
    syncs = 0
    while appender.is_alive() or syncs < 3:
        _sync(db_url, tmp_path)
        syncs += 1
    appender.join()
    _sync(db_url, tmp_path)
    stored = stored_steps(db_url, run_id)
    assert len(set(range(total)) - set(stored)) == 0  # rows lost
    assert stored == list(range(total))


def test_syncs_racing_a_live_logger_that_spills_lose_no_row(
    fault_proxy: Any, server_db_url: str, tmp_path: Path
) -> None:
    logger = SQLLogger.from_url(
        fault_proxy.url(server_db_url),
        "sync-race",
        batch_size=200,
        flush_interval=0.005,
        spool_after=0.01,
        connect_timeout=1,
        statement_timeout=2,
        spool_dir=str(tmp_path),
    )
    run_id = logger.run()
    fault_proxy.refuse()
    stop = threading.Event()
    syncs: list[int] = []

    def sync_repeatedly() -> None:
        while not stop.is_set():
            _sync(server_db_url, tmp_path)
            syncs.append(1)

    syncer = threading.Thread(target=sync_repeatedly)
    syncer.start()
    try:
        for step in range(20_000):
            logger.log_metric("loss", float(step), step)
            if step % 20 == 0:
                time.sleep(0.0002)  # let the flush thread spill while syncs run
    finally:
        stop.set()
        syncer.join(120)
    fault_proxy.accept()
    logger.finish()
    _sync(server_db_url, tmp_path)
    assert len(syncs) >= 2
    stored = stored_steps(server_db_url, run_id)
    assert len(set(range(20_000)) - set(stored)) == 0  # rows lost
    assert stored == list(range(20_000))
