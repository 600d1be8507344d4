"""The dashboard never writes: SQLite files stay byte-identical, servers only get reads."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from starlette.testclient import TestClient

from ato.dashboard import create_app, database
from ato.dashboard.database import ReadOnlyDatabase, is_read_statement
from ato.dashboard.errors import ReadOnlyViolationError


def _visit_everything(c: TestClient, filled: Any, search_id: str) -> None:
    run_id = filled.runs["fast"]
    paths = [
        "/",
        "/api/projects",
        "/projects/vision",
        "/api/projects/vision/runs",
        f"/runs/{run_id}",
        f"/api/runs/{run_id}",
        f"/api/runs/{run_id}/metrics/loss?max_points=6",
        f"/compare?runs={run_id},1",
        f"/api/compare?runs={run_id},1&all=1",
        f"/searches/{search_id}",
        f"/api/searches/{search_id}",
        "/api/runs/99999",
    ]
    for path in paths:
        assert c.get(path).status_code in (200, 404), path


def _fingerprint(directory: Path) -> dict[str, tuple[str, int]]:
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(directory.iterdir())
    }


def test_sqlite_file_is_unchanged(sqlite_url: str, kit: Any):
    """The database file keeps its bytes and mtime. A WAL reader needs the ``-shm`` index
    (SQLite creates it, and an empty ``-wal``, when no writer left them): nothing is logged."""
    filled = kit.fill(sqlite_url)
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    before = _fingerprint(path.parent)
    c = TestClient(create_app(sqlite_url), base_url="http://127.0.0.1")
    _visit_everything(c, filled, kit.search_id)
    c.app.state.db.dispose()
    after = _fingerprint(path.parent)
    assert after[path.name] == before[path.name]  # same bytes, same mtime
    assert set(after) <= {path.name, f"{path.name}-wal", f"{path.name}-shm"}
    wal = path.parent / f"{path.name}-wal"
    assert not wal.exists() or wal.stat().st_size == 0 or after[wal.name] == before[wal.name]


def test_sqlite_in_a_read_only_directory(sqlite_url: str, kit: Any, monkeypatch: Any):
    """A directory the dashboard cannot write to (checked with os.access, faked here since
    tests may run as root) is opened immutable: no companion file appears at all."""
    filled = kit.fill(sqlite_url)
    directory = Path(sqlite_url.removeprefix("sqlite:///")).parent
    for leftover in directory.glob("*-wal"):
        leftover.unlink()
    for leftover in directory.glob("*-shm"):
        leftover.unlink()
    before = _fingerprint(directory)
    real_access = os.access
    monkeypatch.setattr(
        database.os, "access", lambda p, mode: mode != os.W_OK and real_access(p, mode)
    )
    c = TestClient(create_app(sqlite_url), base_url="http://127.0.0.1")
    _visit_everything(c, filled, kit.search_id)
    c.app.state.db.dispose()
    assert _fingerprint(directory) == before


def test_only_reads_reach_the_database(filled: Any, kit: Any):
    app = create_app(filled.url)
    statements: list[str] = []
    db = app.state.db
    event.listen(
        db.engine,
        "before_cursor_execute",
        lambda conn, cur, statement, *args: statements.append(statement),
    )
    c = TestClient(app, base_url="http://127.0.0.1")
    _visit_everything(c, filled, kit.search_id)
    assert statements, "no statement was recorded"
    writes = [s for s in statements if not is_read_statement(s)]
    assert writes == []
    assert all(
        s.lstrip().split()[0].upper() in {"SELECT", "WITH", "SHOW", "PRAGMA"} for s in statements
    )


def test_the_guard_refuses_a_write_before_it_is_sent(filled: Any):
    db = ReadOnlyDatabase(filled.url)
    with db.connect() as conn, pytest.raises(ReadOnlyViolationError, match="DELETE"):
        conn.execute(text("DELETE FROM experiments"))
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM experiments")).scalar() == 10 + 1


def test_the_database_itself_refuses_writes(filled: Any):
    """Below the guard: the connection is read-only at the database level too."""
    db = ReadOnlyDatabase(filled.url)
    raw = db.engine.raw_connection()  # a DBAPI connection: no SQLAlchemy events
    try:
        cursor = raw.cursor()
        with pytest.raises(Exception, match="(?i)read.only|readonly"):
            cursor.execute("UPDATE experiments SET status = 'x'")
            raw.commit()
        raw.rollback()
    finally:
        raw.close()
    with db.connect() as conn:
        assert "x" not in set(conn.execute(text("SELECT status FROM experiments")).scalars())


@pytest.mark.parametrize(
    ("statement", "is_read"),
    [
        ("SELECT 1", True),
        ("  with x as (select 1) select * from x", True),
        ("SHOW VARIABLES", True),
        ('PRAGMA main.table_info("x")', True),
        ("PRAGMA journal_mode=WAL", False),
        ("INSERT INTO t VALUES (1)", False),
        ("UPDATE t SET x=1", False),
        ("CREATE TABLE t (x int)", False),
        ("DROP TABLE t", False),
        ("selectx", False),
        ("", False),
    ],
)
def test_read_statement_classifier(statement: str, is_read: bool):
    assert is_read_statement(statement) is is_read
