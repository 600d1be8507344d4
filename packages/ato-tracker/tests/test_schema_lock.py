"""The schema lock is waited for at most ``SCHEMA_LOCK_TIMEOUT_S``, on PostgreSQL too, and the
error names who holds it: a suspended creator (an idle session), a creator idle in its
transaction, or an upgrade that itself waits for a reader idle in a transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import NullPool

from ato.tracker import SchemaError, SQLLogger
from ato.tracker.storage import schema as schema_module

GUARD_S = 30  # far beyond the 1 s bound set below; reached only if opening hangs


@pytest.fixture
def short_lock_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema_module, "SCHEMA_LOCK_TIMEOUT_S", 1)


@pytest.fixture
def other_session() -> Iterator[Callable[[str], Connection]]:
    """``open(url)``: a connection of another session, closed (releasing its locks) at the end."""
    opened: list[tuple[Any, Connection]] = []

    def open_session(url: str) -> Connection:
        engine = create_engine(url, poolclass=NullPool)
        conn = engine.connect()
        opened.append((engine, conn))
        return conn

    yield open_session
    for engine, conn in reversed(opened):
        conn.invalidate()  # drops the socket: the server ends the session and its locks
        engine.dispose()


def _open_logger(url: str) -> BaseException | None:
    """Open an `SQLLogger` on a thread; the error it raised (``None``: it opened). Fails the
    test if opening is still blocked after `GUARD_S`."""
    outcome: list[BaseException | None] = []

    def open_logger() -> None:
        try:
            SQLLogger.from_url(url, "p")
            outcome.append(None)
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=open_logger, daemon=True)
    thread.start()
    thread.join(GUARD_S)
    assert outcome, f"SQLLogger() was still waiting for the schema lock after {GUARD_S} s"
    return outcome[0]


def _pid(conn: Connection) -> int:
    return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


LOCK = f"SELECT pg_advisory_lock({schema_module._PG_LOCK_KEY})"


@pytest.mark.usefixtures("short_lock_timeout")
def test_an_idle_session_holding_the_lock_fails_opening_naming_its_pid(
    postgres_url: str, other_session: Callable[[str], Connection]
):
    holder = other_session(postgres_url)
    holder.execute(text(LOCK))
    holder.commit()  # idle: a creator suspended (SIGSTOP, debugger) after taking the lock
    error = _open_logger(postgres_url)
    assert isinstance(error, SchemaError)
    assert f"pid {_pid(holder)} (idle" in str(error)
    assert "pg_terminate_backend" in str(error)


@pytest.mark.usefixtures("short_lock_timeout")
def test_a_creator_idle_in_its_transaction_fails_opening_naming_it(
    postgres_url: str, other_session: Callable[[str], Connection]
):
    holder = other_session(postgres_url)
    holder.execute(text(LOCK))  # the transaction stays open
    error = _open_logger(postgres_url)
    assert isinstance(error, SchemaError)
    assert f"pid {_pid(holder)} (idle in transaction" in str(error)


@pytest.mark.usefixtures("short_lock_timeout")
def test_an_upgrade_held_up_by_an_idle_reader_fails_opening_naming_both(
    postgres_url: str, other_session: Callable[[str], Connection]
):
    setup = other_session(postgres_url)
    setup.execute(text("DROP TABLE IF EXISTS lock_probe"))
    setup.execute(text("CREATE TABLE lock_probe (x integer)"))
    setup.commit()
    reader = other_session(postgres_url)
    reader.execute(text("SELECT * FROM lock_probe"))  # idle in transaction, holding a share lock
    upgrade = other_session(postgres_url)
    upgrade.execute(text(LOCK))
    upgrade.commit()
    upgrade_pid = _pid(upgrade)
    altering = threading.Thread(  # waits for the reader, holding the schema lock
        target=lambda: upgrade.execute(text("ALTER TABLE lock_probe ADD COLUMN y integer")),
        daemon=True,
    )
    altering.start()
    try:
        error = _open_logger(postgres_url)
        assert isinstance(error, SchemaError)
        assert f"pid {upgrade_pid} (active" in str(error)
        assert f"waiting for pid {_pid(reader)}" in str(error)
    finally:
        reader.rollback()  # the upgrade goes on
        altering.join(GUARD_S)
        upgrade.rollback()
        setup.execute(text("DROP TABLE lock_probe"))
        setup.commit()


@pytest.mark.usefixtures("short_lock_timeout")
def test_a_logger_opens_once_the_lock_is_released_in_time(
    postgres_url: str, other_session: Callable[[str], Connection]
):
    holder = other_session(postgres_url)
    holder.execute(text(LOCK))
    holder.commit()
    threading.Timer(0.2, lambda: holder.invalidate()).start()
    assert _open_logger(postgres_url) is None


@pytest.mark.usefixtures("short_lock_timeout")
def test_a_held_mysql_lock_fails_opening_naming_the_connection(
    mysql_url: str, other_session: Callable[[str], Connection]
):
    holder = other_session(mysql_url)
    name = f"ato.tracker.storage.schema:{holder.engine.url.database}"[:64]
    assert holder.execute(text("SELECT GET_LOCK(:n, 0)"), {"n": name}).scalar() == 1
    connection_id = holder.execute(text("SELECT CONNECTION_ID()")).scalar_one()
    error = _open_logger(mysql_url)
    assert isinstance(error, SchemaError)
    assert f"connection id {connection_id} holds it" in str(error)
