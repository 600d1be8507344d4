"""Engines per database URL: SQLite pragmas, schema creation and retried transactions.

SQLite connections get ``busy_timeout`` (wait for other writers instead of failing),
``journal_mode=WAL`` (readers never block the writer, a killed process leaves a consistent file)
and ``synchronous=NORMAL`` (in WAL mode: durable across process crashes; a power loss may drop
the last transactions). Several processes may write one file at once; a transaction that still
fails with a lock error is retried with exponential backoff (see :func:`run_transaction`).
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool, StaticPool

from .errors import DatabaseNotFoundError
from .schema import (
    HEAD_REVISION,
    SQLITE_IMMEDIATE,
    SchemaState,
    check_readable,
    check_writable,
    ensure_schema,
    read_state,
)
from .settings import hide_password

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 30_000
MAX_ATTEMPTS = 8
FIRST_BACKOFF_S = 0.05

_engines: dict[tuple[int, str], Engine] = {}
_schema_ready: set[tuple[int, str]] = set()
_engines_lock = threading.Lock()


def normalize_url(url: str) -> str:
    """Return ``url`` as a SQLAlchemy URL; a bare file path becomes ``sqlite:///<path>``."""
    return url if "://" in url else f"sqlite:///{url}"


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL, or ``None`` for other backends and in-memory SQLite."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def require_existing_database(url: str) -> None:
    """Raise :class:`DatabaseNotFoundError` if ``url`` names a SQLite file that does not exist
    (connecting would silently create an empty one). Server URLs are not checked here."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise DatabaseNotFoundError(url, path)


def get_engine(url: str, *, create_schema: bool = True) -> Engine:
    """The engine for ``url`` in this process, created on first use.

    Args:
        url: a SQLAlchemy URL or a bare SQLite file path.
        create_schema: make the database ready for writing (once per process and URL): create
            a new database's tables at the newest schema revision (and the missing parent
            directories of a SQLite file), or check that an existing one is at it (see
            `ato.tracker.schema.ensure_schema`). Read-only callers pass ``False`` after
            `require_tracker_schema`; ``ato db upgrade`` passes ``False`` too.

    Engines are cached per process id, so a forked child never reuses its parent's pooled
    connections.

    Raises:
        SchemaOutdatedError: the database has an older schema revision (``ato db upgrade``).
        SchemaTooNewError: the database was upgraded by a newer ato.
        NotATrackerDatabaseError: the database belongs to another program (left unchanged).
        sqlalchemy.exc.ArgumentError: ``url`` is not a valid SQLAlchemy URL.
        sqlalchemy.exc.OperationalError: the database cannot be reached.
    """
    url = normalize_url(url)
    cache_key = (os.getpid(), url)
    path = sqlite_file(url)
    if create_schema and path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    with _engines_lock:
        engine = _engines.get(cache_key)
        if engine is None:
            engine = _engines[cache_key] = _create(url)
        if create_schema and cache_key not in _schema_ready:
            if not _current_sqlite_file(url, path):
                ensure_schema(engine, hide_password(url))
            _schema_ready.add(cache_key)
    return engine


def _current_sqlite_file(url: str, path: Path | None) -> bool:
    """For an existing SQLite file: True if it is at the head revision; raise if it must not be
    written - looked at read-only, before the tracker's pragmas would change the file."""
    if path is None or not path.exists():
        return False
    state = schema_state(url)
    check_writable(state, hide_password(url), sqlite=True)
    return state.versioned and state.revision == HEAD_REVISION


@contextmanager
def probe_engine(url: str) -> Iterator[Engine]:
    """A throwaway engine that looks without changing anything: a SQLite file is opened
    read-only and without the tracker's pragmas (which would switch it to WAL mode)."""
    url = normalize_url(url)
    path = sqlite_file(url)
    if path is None:
        probe = create_engine(url, poolclass=NullPool)
    else:
        read_only = f"file:{quote(str(path.resolve()))}?mode=ro"
        probe = create_engine(
            "sqlite://", creator=lambda: sqlite3.connect(read_only, uri=True), poolclass=NullPool
        )
    try:
        yield probe
    finally:
        probe.dispose()


def schema_state(url: str) -> SchemaState:
    """The schema state of the database at ``url``, read without changing anything.

    Raises:
        NotATrackerDatabaseError: the tracker tables are incomplete or of an unknown shape.
        sqlalchemy.exc.DBAPIError: the database cannot be opened or read (e.g. not a SQLite
            file, or a directory).
    """
    with probe_engine(url) as probe, probe.connect() as conn:
        return read_state(conn, hide_password(normalize_url(url)))


def require_tracker_schema(url: str) -> None:
    """Raise unless ``url`` names an existing tracker database at the newest schema revision.

    Raises:
        DatabaseNotFoundError: a SQLite file that does not exist.
        NotATrackerDatabaseError: the database lacks some or all tracker tables.
        SchemaOutdatedError: the database has an older revision (``ato db upgrade``).
        SchemaTooNewError: the database was upgraded by a newer ato.
        sqlalchemy.exc.DBAPIError: the database cannot be opened or read.
    """
    require_existing_database(url)
    check_readable(schema_state(url), hide_password(normalize_url(url)))


def dispose_engines() -> None:
    """Close every cached engine of this process (the next :func:`get_engine` recreates them)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _schema_ready.clear()


def _forget_inherited_connections() -> None:
    """In a forked child, drop the parent's pooled connections without closing them (closing
    would break the parent's); the child's next use opens its own (SQLAlchemy's advice)."""
    for engine in _engines.values():
        engine.dispose(close=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_inherited_connections)


def _create(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    in_memory = parsed.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if in_memory:
        kwargs["poolclass"] = StaticPool
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_begin(conn: Connection) -> None:
    """Start the transaction with ``BEGIN IMMEDIATE`` on connections that ask for it (the
    schema lock); the driver otherwise defers BEGIN until the first data change."""
    if conn.get_execution_options().get(SQLITE_IMMEDIATE):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    _switch_to_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    """``PRAGMA journal_mode=WAL``, retried while another process holds the lock it needs
    (SQLite does not apply the busy timeout to it; this happens while a new file is created)."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error).lower() or time.monotonic() > deadline:
                raise
            time.sleep(FIRST_BACKOFF_S * (0.5 + random.random()))


def is_lock_error(error: BaseException) -> bool:
    """True for transient contention errors: SQLite "database is locked"/"busy", MySQL
    deadlocks and lock wait timeouts, PostgreSQL serialization failures."""
    text = str(error).lower()
    return isinstance(error, OperationalError) and any(
        marker in text
        for marker in ("locked", "busy", "deadlock", "lock wait timeout", "could not serialize")
    )


def run_transaction(
    engine: Engine,
    work: Callable[[Connection], T],
) -> T:
    """Run ``work(connection)`` in one transaction, retrying on lock contention.

    Up to ``MAX_ATTEMPTS`` (8) attempts, sleeping ``FIRST_BACKOFF_S * 2**attempt`` seconds
    times a random factor in [0.5, 1.5) between them (exponential backoff with jitter, as in
    M. Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog, 2015). Schema
    creation does not race: it runs under the schema lock (`ato.tracker.schema.schema_lock`).

    Raises:
        sqlalchemy.exc.DBAPIError: the last error once the attempts are used up, or at once
            for an error that is not a lock error.
    """
    attempt = 0
    while True:
        try:
            with engine.begin() as connection:
                return work(connection)
        except DBAPIError as error:
            if not is_lock_error(error) or attempt == MAX_ATTEMPTS - 1:
                raise
            time.sleep(FIRST_BACKOFF_S * 2**attempt * (0.5 + random.random()))
            attempt += 1
