"""Engines per database URL: SQLite pragmas, schema creation and retried transactions.

SQLite connections get ``busy_timeout`` (wait for other writers instead of failing),
``journal_mode=WAL`` (readers never block the writer, a killed process leaves a consistent file)
and ``synchronous=NORMAL`` (in WAL mode: durable across process crashes; a power loss may drop
the last transactions). Several processes may write one file at once; a transaction that still
fails with a lock error is retried with exponential backoff (see `run_transaction`).
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool, StaticPool

from .errors import DatabaseNotFoundError, NotATrackerDatabaseError
from .models import Base
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
    """Raise [`DatabaseNotFoundError`][ato.tracker.DatabaseNotFoundError] if ``url`` names a SQLite file that does not exist
    (connecting would silently create an empty one). Server URLs are not checked here."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise DatabaseNotFoundError(url, path)


def get_engine(url: str, *, create_schema: bool = True) -> Engine:
    """The engine for ``url`` in this process, created on first use.

    Args:
        url: a SQLAlchemy URL or a bare SQLite file path.
        create_schema: create the tracker tables and indexes that are missing (once per
            process and URL), and the missing parent directories of a SQLite file.
            Read-only callers pass ``False`` after `require_tracker_schema`.

    Engines are cached per process id, so a forked child never reuses its parent's pooled
    connections.

    Raises:
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
            run_transaction(engine, Base.metadata.create_all, schema_race=True)
            _schema_ready.add(cache_key)
    return engine


def missing_tracker_tables(url: str) -> list[str]:
    """Names of the tracker tables that the database at ``url`` lacks (``[]``: all present).

    Looks without changing anything: a SQLite file is opened read-only and without the
    tracker's pragmas (which would switch it to WAL mode).

    Raises:
        sqlalchemy.exc.DBAPIError: the database cannot be opened or read (e.g. not a SQLite
            file, or a directory).
    """
    url = normalize_url(url)
    path = sqlite_file(url)
    if path is None:
        probe = create_engine(url)
    else:
        read_only = f"file:{quote(str(path.resolve()))}?mode=ro"
        probe = create_engine(
            "sqlite://", creator=lambda: sqlite3.connect(read_only, uri=True), poolclass=NullPool
        )
    try:
        present = set(inspect(probe).get_table_names())
    finally:
        probe.dispose()
    return [name for name in Base.metadata.tables if name not in present]


def require_tracker_schema(url: str) -> None:
    """Raise unless ``url`` names an existing database holding every tracker table.

    Raises:
        DatabaseNotFoundError: a SQLite file that does not exist.
        NotATrackerDatabaseError: the database lacks some or all tracker tables.
        sqlalchemy.exc.DBAPIError: the database cannot be opened or read.
    """
    require_existing_database(url)
    missing = missing_tracker_tables(url)
    if missing:
        all_missing = len(missing) == len(Base.metadata.tables)
        raise NotATrackerDatabaseError(hide_password(url), missing, all_missing=all_missing)


def dispose_engines() -> None:
    """Close every cached engine of this process (the next `get_engine` recreates them)."""
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
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def is_lock_error(error: BaseException) -> bool:
    """True for transient contention errors: SQLite "database is locked"/"busy", MySQL
    deadlocks and lock wait timeouts, PostgreSQL serialization failures."""
    text = str(error).lower()
    return isinstance(error, OperationalError) and any(
        marker in text
        for marker in ("locked", "busy", "deadlock", "lock wait timeout", "could not serialize")
    )


def _is_exists_error(error: BaseException) -> bool:
    text = str(error).lower()
    return "already exists" in text or "duplicate" in text


def run_transaction(
    engine: Engine,
    work: Callable[[Connection], T],
    *,
    schema_race: bool = False,
) -> T:
    """Run ``work(connection)`` in one transaction, retrying on lock contention.

    Up to ``MAX_ATTEMPTS`` (8) attempts, sleeping ``FIRST_BACKOFF_S * 2**attempt`` seconds
    times a random factor in [0.5, 1.5) between them (exponential backoff with jitter, as in
    M. Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog, 2015). With ``schema_race`` an "already exists"/"duplicate" error is retried
    too: concurrent processes may race to create the same table.

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
            retryable = is_lock_error(error) or schema_race and _is_exists_error(error)
            if not retryable or attempt == MAX_ATTEMPTS - 1:
                raise
            time.sleep(FIRST_BACKOFF_S * 2**attempt * (0.5 + random.random()))
            attempt += 1
