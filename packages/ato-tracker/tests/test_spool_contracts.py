"""The spool file (``ato.tracker.write.spool``): which database and writer a file belongs to, its
format on disk, what reading tolerates (a crash cuts at most the last line), which files
``ato sync`` picks up and in what order, and that replaying writes every row once and records
only run ends not recorded yet. On SQLite; the server variants are in test_faults."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import sqlite3
import stat
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.write import buffer as buffer_module
from ato.tracker.write import spool

T0 = 1_700_000_000.0


# -- which database a file belongs to ------------------------------------------------------------
def test_a_sqlite_path_is_named_absolute_so_sync_can_run_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    absolute = f"sqlite:///{tmp_path.resolve() / 'exp.db'}"
    assert spool.spool_identity("sqlite:///exp.db") == absolute
    assert spool.spool_identity("exp.db") == absolute  # a bare path is a SQLite file
    assert spool.spool_identity(absolute) == absolute


def test_a_server_url_is_named_without_its_password() -> None:
    url = "postgresql+psycopg://ato:secret@db.example:5432/exp"
    assert spool.spool_identity(url) == "postgresql+psycopg://ato:***@db.example:5432/exp"


def test_the_spool_file_name_is_per_database_and_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = spool.spool_path(tmp_path / "spool", "sqlite:///exp.db", 42)
    assert path.parent == tmp_path / "spool"
    assert re.fullmatch(r"[0-9a-f]{12}-000000000000002a\.jsonl", path.name), path.name
    same_db = spool.spool_path(tmp_path / "spool", f"sqlite:///{tmp_path / 'exp.db'}", 42)
    assert same_db == path
    assert (
        spool.spool_path(tmp_path / "spool", "sqlite:///other.db", 42).name[:12] != (path.name[:12])
    )
    assert spool.spool_path(tmp_path / "spool", "sqlite:///exp.db", 2**63 - 1).name.endswith(
        "-7fffffffffffffff.jsonl"
    )
    password = spool.spool_path(tmp_path, "postgresql://u:one@h/db", 1)
    assert password == spool.spool_path(tmp_path, "postgresql://u:two@h/db", 1)


# -- the file on disk --------------------------------------------------------------------------------
def test_save_writes_a_private_file_with_one_header_and_a_line_per_entry(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "f.jsonl"
    rows = [(1, "loss", 0.5, 0, T0, 1), (1, "acc", float("inf"), None, T0 + 0.25, 2)]
    assert spool.save(path, "sqlite:////x.db", 7, rows, [(1, "failed", T0 + 1)]) == 2
    assert spool.save(path, "sqlite:////x.db", 7, [(1, "loss", 0.25, 1, T0 + 2, 3)]) == 1
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"ato_spool": 1, "db": "sqlite:////x.db", "writer": 7},
        {"m": [1, "loss", 0.5, 0, T0, 1]},
        {"m": [1, "acc", float("inf"), None, T0 + 0.25, 2]},
        {"finish": [1, "failed", T0 + 1]},
        {"m": [1, "loss", 0.25, 1, T0 + 2, 3]},
    ]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0  # the directory is private


def test_a_forked_child_saves_although_a_parent_thread_held_the_lock_at_the_fork(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fork hook gives the child a lock of its own: the parent's thread that held the
    old one is not in the child and would never release it."""
    held = spool._write_lock
    monkeypatch.setattr(spool, "_write_lock", held)
    with held:
        spool._new_write_lock_in_child()
        path = tmp_path / "f.jsonl"
        assert spool.save(path, "sqlite:////x.db", 7, [(1, "loss", 0.5, 0, T0, 1)]) == 1
    spooled = spool.read(path)
    assert spooled is not None and spooled.rows == [(1, "loss", 0.5, 0, T0, 1)]


def test_save_of_run_ends_alone_counts_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    assert spool.save(path, "sqlite:////x.db", 7, [], [(3, "killed", T0)]) == 0
    spooled = spool.read(path)
    assert spooled is not None
    assert spooled.rows == [] and spooled.finishes == [(3, "killed", T0)]


def test_save_of_nothing_makes_no_file(tmp_path: Path) -> None:
    path = tmp_path / "spool" / "f.jsonl"
    assert spool.save(path, "sqlite:////x.db", 7, []) == 0
    assert not path.parent.exists()


def test_read_gives_back_what_save_wrote(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    rows = [(1, "loss", 0.5, 0, T0, 1), (2, "acc", -1.0, None, T0 + 0.125, 2)]
    spooled = _saved(path, "postgresql://u:pw@h/db", 2**62, rows, [(1, "completed", T0 + 5)])
    assert spooled.path == path and spooled.writer == 2**62
    assert spooled.db == "postgresql://u:***@h/db"
    assert spooled.rows == rows and spooled.finishes == [(1, "completed", T0 + 5)]


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json\n",
        b'[1, 2]\n{"m": [1, "k", 1.0, 0, 0.0, 1]}\n',
        b'{"ato_spool": 2, "db": "x", "writer": 1}\n',
        b'{"db": "x", "writer": 1}\n',
        b'{"ato_spool": 1, "db": "x", "writer": 1}\n\xff\xfe\n',
    ],
    ids=["empty", "not json", "header not an object", "newer format", "no format", "not utf-8"],
)
def test_read_refuses_a_file_that_is_not_a_spool_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "f.jsonl"
    path.write_bytes(content)
    assert spool.read(path) is None


def test_read_of_a_missing_file_is_none(tmp_path: Path) -> None:
    assert spool.read(tmp_path / "gone.jsonl") is None


def test_read_skips_a_damaged_line_with_a_warning_and_a_cut_last_line_silently(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text(
        '{"ato_spool": 1, "db": "sqlite:////x.db"}\n'
        '{"m": [1, "loss", 1.0, 0, 1.5, 1]}\n'
        "garbage\n"
        '{"other": 1}\n'
        '{"finish": [1, "completed", 2.5]}\n'
        '{"m": [1, "loss", 2.0, 1, 1.5, 2]}\n'
        '{"m": [1, "lo',
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING, logger="ato.tracker"):
        spooled = spool.read(path)
    assert spooled is not None
    assert spooled.writer == 0  # a header without a writer
    assert spooled.rows == [(1, "loss", 1.0, 0, 1.5, 1), (1, "loss", 2.0, 1, 1.5, 2)]
    assert spooled.finishes == [(1, "completed", 2.5)]
    assert [r.getMessage() for r in caplog.records] == [
        f"ato.tracker: {path} line 3 is not a spool entry; skipped",
        f"ato.tracker: {path} line 4 is not a spool entry; skipped",
    ]


# -- which files sync picks up -------------------------------------------------------------------------
def test_pending_files_are_the_databases_spool_files_oldest_first(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    mine, other = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    for writer, mtime in [(1, 300), (2, 100), (3, 200)]:
        path = spool.spool_path(directory, mine, writer)
        spool.save(path, mine, writer, [(1, "loss", 1.0, writer, T0, 1)])
        os.utime(path, (mtime, mtime))
    spool.save(spool.spool_path(directory, other, 4), other, 4, [(1, "loss", 1.0, 0, T0, 1)])
    (directory / "notes.jsonl").write_text("not a spool file\n", encoding="utf-8")
    (directory / "x.txt").write_text(json.dumps({"ato_spool": 1, "db": mine}) + "\n")
    assert [f.writer for f in spool.pending_files(directory, mine)] == [2, 3, 1]
    assert [f.writer for f in spool.pending_files(directory, other)] == [4]


def test_pending_files_of_a_missing_directory_are_none(tmp_path: Path) -> None:
    assert spool.pending_files(tmp_path / "nowhere", "sqlite:////x.db") == []


def test_a_writers_files_are_the_ones_failed_replays_claimed_then_its_own(tmp_path: Path) -> None:
    path = spool.spool_path(tmp_path, "sqlite:////x.db", 7)
    stem = path.name.split(".")[0]
    claimed = [tmp_path / f"{stem}.0badc0de.jsonl", tmp_path / f"{stem}.1badc0de.jsonl"]
    other = spool.spool_path(tmp_path, "sqlite:////x.db", 8)
    for file in [*claimed, other]:
        file.write_text("")
    assert spool.writer_files(path) == claimed  # its own file is not there (yet)
    path.write_text("")
    assert spool.writer_files(path) == [*claimed, path]


def test_a_spool_file_locked_too_long_by_another_process_is_named_in_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "f.jsonl"
    other = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)  # its own open file: its own lock
    fcntl.flock(other, fcntl.LOCK_EX)
    monkeypatch.setattr(spool, "LOCK_WAIT_S", 0.01)
    try:
        with pytest.raises(TimeoutError) as info:
            spool.save(path, "sqlite:////x.db", 7, [(1, "loss", 0.5, 0, T0, 1)])
    finally:
        os.close(other)
    assert str(info.value) == (f"the spool file {path} stayed locked by another process for 0.01 s")
    assert path.read_text() == ""  # nothing appended


def test_save_appends_to_the_file_at_the_path_when_a_replay_claimed_the_one_it_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file opened was renamed away by a replay before the lock was ours: the row goes
    to the file at the path, not into the claimed one."""
    path = tmp_path / "f.jsonl"
    spool.save(path, "sqlite:////x.db", 7, [(1, "loss", 0.5, 0, T0, 1)])
    claimed = tmp_path / "f.claimed.jsonl"
    real = spool._lock

    def lock_after_a_replay_claimed(fd: int, at: Path, deadline: float) -> None:
        if path.exists() and not claimed.exists():
            os.rename(path, claimed)
        real(fd, at, deadline)

    monkeypatch.setattr(spool, "_lock", lock_after_a_replay_claimed)
    assert spool.save(path, "sqlite:////x.db", 7, [(1, "loss", 0.25, 1, T0, 2)]) == 1
    now, before = spool.read(path), spool.read(claimed)
    assert now is not None and now.rows == [(1, "loss", 0.25, 1, T0, 2)]
    assert before is not None and before.rows == [(1, "loss", 0.5, 0, T0, 1)]


# -- replay ------------------------------------------------------------------------------------------------
@pytest.fixture
def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A SQLite database with three runs of project 'p': the first and the third still
    running (their ends never reached the database), the second completed."""
    url = f"sqlite:///{tmp_path / 't.db'}"
    logger = SQLLogger.from_url(url, "p", flush_interval=3600)
    runs = []
    for _ in range(3):
        runs.append(logger.run())
        logger.finish("completed")
    with sqlite3.connect(tmp_path / "t.db") as con:
        con.execute(
            "UPDATE experiments SET status = 'running', end_time = NULL WHERE id IN (?, ?)",
            (runs[0], runs[2]),
        )
    return url, *runs, logger.engine


def _stored(url: str) -> list[tuple[int, int, float, int, int]]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as con:
        return con.execute(
            "SELECT run_id, step, value, writer, seq FROM metrics ORDER BY id"
        ).fetchall()


def _saved(path: Path, *args: Any) -> spool.SpoolFile:
    """``spool.save(path, *args)``, then the file read back."""
    spool.save(path, *args)
    spooled = spool.read(path)
    assert spooled is not None
    return spooled


def _count_batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Spy on ``MetricWriter.write``: the returned list gets the size of every batch written."""
    batches: list[int] = []
    real = buffer_module.MetricWriter.write

    def write(self, conn, batch, writer_id):  # type: ignore[no-untyped-def]
        batches.append(len(batch))
        return real(self, conn, batch, writer_id)

    monkeypatch.setattr(buffer_module.MetricWriter, "write", write)
    return batches


def test_replay_writes_the_rows_once_records_new_ends_and_deletes_the_file(
    db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, first, second, third, engine = db
    path = tmp_path / "spool" / "f.jsonl"
    rows = [(first, "loss", float(i), i, T0 + i, i + 1) for i in range(7)]
    batches = _count_batches(monkeypatch)
    spooled = _saved(path, url, 99, rows, [(first, "killed", T0 + 60.5), (second, "failed", T0)])
    assert spool.replay(engine, spooled, batch_size=3) == (7, 1)
    assert batches == [3, 3, 1]
    assert not path.exists()
    assert _stored(url) == [(first, i, float(i), 99, i + 1) for i in range(7)]
    finder = SQLFinder(url)
    ended = finder.find_run(first)
    assert ended.status == "killed"
    assert ended.end_time == datetime.fromtimestamp(T0 + 60.5, timezone.utc)
    assert finder.find_run(second).status == "completed"  # its first end is kept
    assert finder.find_run(third).status == "running"  # no end was spooled for it
    # the same file again (e.g. two syncs at once): nothing stored twice, no end recorded
    assert spool.replay(engine, spooled) == (7, 0)
    assert len(_stored(url)) == 7


def test_replay_of_a_file_emptied_since_it_was_read_writes_nothing_and_deletes_it(
    db, tmp_path: Path
) -> None:
    url, first, _, _, engine = db
    path = tmp_path / "f.jsonl"
    spooled = _saved(path, url, 99, [(first, "loss", 1.0, 0, T0, 1)], [(first, "failed", T0)])
    path.write_text("")  # no longer a spool file when the replay claims it
    assert spool.replay(engine, spooled) == (0, 0)
    assert not path.exists() and _stored(url) == []


def test_replay_skips_a_row_the_database_refuses_and_writes_the_rest(
    db, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url, first, _, _, engine = db
    path = tmp_path / "f.jsonl"
    rows = [(first, "loss", 1.0, 0, T0, 1), (first, None, 2.0, 1, T0, 2)]
    spooled = _saved(path, url, 5, [*rows, (first, "loss", 3.0, 2, T0, 3)])
    with caplog.at_level(logging.ERROR, logger="ato.tracker"):
        assert spool.replay(engine, spooled) == (2, 0)
    assert [row[1] for row in _stored(url)] == [0, 2]
    [message] = [r.getMessage() for r in caplog.records]
    assert message.startswith(
        f"ato.tracker: the database refused metric row {rows[1]!r}: "
        "(sqlite3.IntegrityError) NOT NULL constraint failed: metrics.key"
    )


def test_replay_of_a_file_another_sync_deleted_still_succeeds(db, tmp_path: Path) -> None:
    url, first, _, _, engine = db
    path = tmp_path / "f.jsonl"
    spooled = _saved(path, url, 5, [(first, "loss", 1.0, 0, T0, 1)])
    path.unlink()
    assert spool.replay(engine, spooled) == (1, 0)
    assert len(_stored(url)) == 1


def test_a_failed_replay_gives_the_file_its_name_back_even_if_another_replay_took_the_claim(
    db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The replay's error propagates, not an error of its clean-up, also when another
    replay deleted the claimed file right after it was linked back."""
    url, first, _, _, engine = db
    path = tmp_path / "f.jsonl"
    spooled = _saved(path, url, 5, [(first, "loss", 1.0, 0, T0, 1)])
    real_link = os.link

    def link_then_taken(source: Any, target: Any) -> None:
        real_link(source, target)
        os.unlink(source)

    def refused(*args: Any) -> int:
        raise OSError("database unreachable")

    monkeypatch.setattr(spool, "write_isolating", refused)
    monkeypatch.setattr(spool.os, "link", link_then_taken)
    with pytest.raises(OSError, match="database unreachable"):
        spool.replay(engine, spooled)
    monkeypatch.undo()
    assert spool.writer_files(path) == [path]
    assert spool.replay(engine, spooled) == (1, 0)


def test_a_run_end_is_recorded_in_utc_whatever_the_local_zone(
    db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, first, _, _, engine = db
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        path = tmp_path / "f.jsonl"
        spool.save(path, url, 5, [], [(first, "completed", T0 + 0.5)])
        spooled = spool.read(path)
        assert spooled is not None
        assert spool.replay(engine, spooled) == (0, 1)
    finally:
        monkeypatch.undo()
        time.tzset()
    ended = SQLFinder(url).find_run(first).end_time
    assert ended == datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=timezone.utc)


def test_sync_writes_a_spool_file_in_transactions_of_5000_rows(
    db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, first, _, _, engine = db
    path = tmp_path / "f.jsonl"
    batches = _count_batches(monkeypatch)
    spooled = _saved(path, url, 5, [(first, "loss", 1.0, i, T0, i + 1) for i in range(5001)])
    assert spool.replay(engine, spooled) == (5001, 0)
    assert batches == [5000, 1]
