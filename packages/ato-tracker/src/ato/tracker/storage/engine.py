"""Engines per database URL: SQLite pragmas, schema creation and retried transactions.

SQLite connections get ``busy_timeout`` (wait for other writers instead of failing),
``journal_mode=WAL`` (readers never block the writer, a killed process leaves a consistent file)
and ``synchronous=NORMAL`` (in WAL mode: durable across process crashes; a power loss may drop
the last transactions). Several processes may write one file at once; a transaction that still
fails with a lock error is retried with exponential backoff (see ``run_transaction``).

Server engines are time-bounded (see ``ato.tracker.storage.settings.Timeouts``): the driver gets a
connect timeout (libpq also TCP keepalives and a TCP user timeout), and every transaction of ``run_transaction`` - including the pool's
liveness ping - runs under a watchdog that shuts the connection's socket down when the
statement timeout passes, so a server that stops answering without closing the connection
(frozen, or behind a hung proxy) cannot block a caller for longer.

Readers (``get_engine(..., read_only=True)``) open a SQLite file read-only, and
``immutable`` when the file or its directory cannot be written (read-only media, an archive
without write permission), so such databases stay readable.
"""

from __future__ import annotations

import os
import random
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.pool import NullPool, StaticPool

from ..errors import DatabaseNotFoundError, DatabaseTimeoutError
from .schema import (
    HEAD_REVISION,
    SQLITE_IMMEDIATE,
    SchemaState,
    check_readable,
    check_writable,
    ensure_schema,
    read_state,
)
from .settings import Timeouts, hide_password

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 30_000
MAX_ATTEMPTS = 8
FIRST_BACKOFF_S = 0.05
#: Attempts in all of a call repeated by `retry_disconnects` when its connection drops.
DISCONNECT_ATTEMPTS = 4

_EngineKey = tuple[int, str, Timeouts, bool]
_engines: dict[_EngineKey, Engine] = {}
_schema_ready: set[_EngineKey] = set()
_timeouts: dict[int, Timeouts] = {}  # id(engine) -> its timeouts, for run_transaction
_engines_lock = threading.Lock()


def normalize_url(url: str) -> str:
    """Return ``url`` as a SQLAlchemy URL; a bare file path becomes ``sqlite:///<path>``."""
    return url if "://" in url else f"sqlite:///{url}"


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL, or ``None`` for other backends and in-memory SQLite.

    Raises:
        sqlalchemy.exc.ArgumentError: ``url`` cannot be parsed (the message hides its password).
    """
    parsed = _parse_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def require_existing_database(url: str) -> None:
    """Raise [`DatabaseNotFoundError`][ato.tracker.DatabaseNotFoundError] if ``url`` names a SQLite file that does not exist
    (connecting would silently create an empty one). Server URLs are not checked here."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise DatabaseNotFoundError(url, path)


def get_engine(
    url: str,
    *,
    create_schema: bool = True,
    timeouts: Timeouts | None = None,
    read_only: bool = False,
) -> Engine:
    """The engine for ``url`` in this process, created on first use.

    Args:
        url: a SQLAlchemy URL or a bare SQLite file path.
        create_schema: make the database ready for writing (once per process and URL): create
            a new database's tables at the newest schema revision (and the missing parent
            directories of a SQLite file), or check that an existing one is at it (see
            ``ato.tracker.storage.schema.ensure_schema``). Read-only callers pass ``False`` after
            ``require_tracker_schema``; ``ato db upgrade`` passes ``False`` too.
        timeouts: connect and statement timeouts (default: ``Timeouts`` defaults).
        read_only: open a SQLite file read-only (readers; see the module docstring); implies
            ``create_schema=False``.

    Engines are cached per process id, so a forked child never reuses its parent's pooled
    connections.

    Raises:
        SchemaOutdatedError: the database has an older schema revision (``ato db upgrade``).
        SchemaTooNewError: the database was upgraded by a newer ato.
        NotATrackerDatabaseError: the database belongs to another program (left unchanged).
        sqlalchemy.exc.ArgumentError: ``url`` is not a valid SQLAlchemy URL (the message shows
            it with its password hidden).
        sqlalchemy.exc.OperationalError: the database cannot be reached.
    """
    url = normalize_url(url)
    timeouts = timeouts or Timeouts()
    create_schema = create_schema and not read_only
    cache_key = (os.getpid(), url, timeouts, read_only)
    path = _checked_sqlite_file(url)
    if create_schema and path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    with _engines_lock:
        engine = _engines.get(cache_key)
        if engine is None:
            engine = _engines[cache_key] = _create(url, timeouts, read_only=read_only)
            _timeouts[id(engine)] = timeouts
        if create_schema and cache_key not in _schema_ready:
            if not _current_sqlite_file(url, path):
                retry_disconnects(lambda: ensure_schema(engine, hide_password(url)))
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
    path = _checked_sqlite_file(url)
    if path is None:
        probe = create_engine(url, poolclass=NullPool)
    else:
        probe = create_engine(
            "sqlite://", creator=lambda: _connect_read_only(path), poolclass=NullPool
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
    """Close every cached engine of this process (the next `get_engine` recreates them)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _schema_ready.clear()
        _timeouts.clear()


def _forget_inherited_connections() -> None:
    """In a forked child, drop the parent's pooled connections without closing them (closing
    would break the parent's); the child's next use opens its own (SQLAlchemy's advice)."""
    for engine in _engines.values():
        engine.dispose(close=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_inherited_connections)


def _checked_sqlite_file(url: str) -> Path | None:
    return sqlite_file(url)


def _parse_url(url: str) -> URL:
    """``make_url`` raising an ``ArgumentError`` whose message hides the password."""
    try:
        return make_url(normalize_url(url))
    except (ArgumentError, ValueError):  # ValueError: e.g. a port that is not a number
        raise ArgumentError(
            f"could not parse database URL {hide_password(url)!r}; expected "
            "dialect+driver://user:password@host:port/database or a SQLite file path"
        ) from None


def _create(url: str, timeouts: Timeouts, *, read_only: bool) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(
            url, pool_pre_ping=True, connect_args=_server_connect_args(parsed, timeouts)
        )
        _bound_pings(engine, timeouts.statement)
        return engine
    in_memory = parsed.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if in_memory:
        kwargs["poolclass"] = StaticPool
    elif read_only:
        path = Path(parsed.database or "")
        kwargs["creator"] = lambda: _connect_read_only(path)
        return create_engine("sqlite://", **kwargs)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """Open ``path`` read-only; ``immutable`` (no locks, no ``-shm``/``-wal`` files created)
    when the file or its directory is not writable, e.g. on read-only media."""
    resolved = path.resolve()
    uri = f"file:{quote(str(resolved))}?mode=ro"
    writable = os.access(resolved, os.W_OK) and os.access(resolved.parent, os.W_OK)
    if writable:
        try:
            connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
            connection.execute("SELECT 1 FROM sqlite_master LIMIT 1")
            return connection
        except sqlite3.OperationalError:  # e.g. a read-only mount that os.access misses
            pass
    return sqlite3.connect(uri + "&immutable=1", uri=True, check_same_thread=False)


def _server_connect_args(url: URL, timeouts: Timeouts) -> dict[str, Any]:
    """Timeout arguments for the driver of ``url`` (those not already in its query)."""
    driver = url.get_driver_name()
    seconds = timeouts.connect_seconds()
    args: dict[str, Any] = {}
    if driver in ("psycopg", "psycopg2"):
        statement_ms = int(timeouts.statement * 1000)
        args = {  # no server-side statement_timeout: schema upgrades may rightly take longer
            "connect_timeout": seconds,
            "tcp_user_timeout": statement_ms,
            "keepalives": 1,
            "keepalives_idle": max(1, int(timeouts.statement)),
        }
    elif driver in ("pymysql", "mysqldb", "mariadbconnector"):
        args = {"connect_timeout": seconds}  # no read timeout: schema upgrades may take long
    return {key: value for key, value in args.items() if key not in url.query}


def _bound_pings(engine: Engine, seconds: float) -> None:
    """Run the pool's liveness ping (``pool_pre_ping``) under the watchdog too."""
    dialect = engine.dialect
    ping = dialect.do_ping

    def bounded_ping(dbapi_connection: Any) -> bool:
        with _watchdog(dbapi_connection, seconds, engine):
            return ping(dbapi_connection)

    setattr(dialect, "do_ping", bounded_ping)  # noqa: B010 - an instance override, on purpose


@contextmanager
def _watchdog(dbapi_connection: Any, seconds: float, engine: Engine) -> Iterator[None]:
    """Abort ``dbapi_connection`` if the block takes longer than ``seconds``; the driver's
    resulting error becomes ``DatabaseTimeoutError``."""
    fired = threading.Event()

    def abort() -> None:
        fired.set()
        abort_connection(dbapi_connection)

    timer = threading.Timer(seconds, abort)
    timer.daemon = True
    timer.start()
    try:
        yield
    except Exception as error:
        if fired.is_set():
            raise DatabaseTimeoutError(hide_password(str(engine.url)), seconds) from error
        raise
    finally:
        timer.cancel()


def abort_connection(dbapi_connection: Any) -> None:
    """Shut down the socket under a DB-API connection (psycopg, psycopg2, PyMySQL) so that a
    call blocked on it returns with an error; a SQLite connection is interrupted instead."""
    try:
        if hasattr(dbapi_connection, "interrupt"):  # sqlite3
            dbapi_connection.interrupt()
            return
        sock = getattr(dbapi_connection, "_sock", None)  # PyMySQL
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
            return
        pgconn = getattr(dbapi_connection, "pgconn", None)  # psycopg 3
        fd = pgconn.socket if pgconn is not None else dbapi_connection.fileno()
        with socket.socket(fileno=os.dup(fd)) as dup:
            dup.shutdown(socket.SHUT_RDWR)
    except Exception:  # noqa: S110 - already closed: nothing is blocked on it
        pass


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


# Driver messages of a connection that dropped while it was being opened, when SQLAlchemy
# has no connection to ask (libpq's; PyMySQL's error codes are recognised by SQLAlchemy).
_DISCONNECT_MARKERS = (
    "server closed the connection",
    "consuming input failed",
    "connection reset",
    "broken pipe",
    "lost connection",
)


def is_disconnect(error: BaseException) -> bool:
    """True for an error meaning the connection dropped (reset, closed by the server or a
    proxy), also while it was being opened: the pool then opens a new one."""
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    text = str(error.orig).lower()
    return isinstance(error, OperationalError) and any(m in text for m in _DISCONNECT_MARKERS)


def retry_disconnects(call: Callable[[], T], attempts: int = DISCONNECT_ATTEMPTS) -> T:
    """``call()``, called again (``attempts`` times in all) while it fails because its
    connection dropped, with the backoff of `run_transaction`.

    Only for calls that are safe to repeat: reads, idempotent writes, or writes that check
    first whether an earlier attempt was stored (a connection lost during COMMIT leaves that
    unknown). A server that stops answering (`DatabaseTimeoutError`) is not retried: each try
    would wait the whole statement timeout again.

    Raises:
        sqlalchemy.exc.DBAPIError: the last disconnect once the attempts are used up, or at
            once any other error ``call`` raises.
    """
    attempt = 0
    while True:
        try:
            return call()
        except DBAPIError as error:
            if not is_disconnect(error) or attempt >= attempts - 1:
                raise
            time.sleep(FIRST_BACKOFF_S * 2**attempt * (0.5 + random.random()))
            attempt += 1


def run_transaction(
    engine: Engine,
    work: Callable[[Connection], T],
) -> T:
    """Run ``work(connection)`` in one transaction, retrying on lock contention.

    Up to ``MAX_ATTEMPTS`` (8) attempts, sleeping ``FIRST_BACKOFF_S * 2**attempt`` seconds
    times a random factor in [0.5, 1.5) between them (exponential backoff with jitter, as in
    M. Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog, 2015). Schema
    creation does not race: it runs under the schema lock (`ato.tracker.storage.schema.schema_lock`).
    On a server, each attempt (statements and COMMIT) is bounded by the engine's statement
    timeout.

    Raises:
        DatabaseTimeoutError: the server did not answer within the statement timeout.
        sqlalchemy.exc.DBAPIError: the last error once the attempts are used up, or at once
            for an error that is not a lock error.
    """
    attempt = 0
    while True:
        try:
            return _attempt(engine, work)
        except DBAPIError as error:
            if not is_lock_error(error) or attempt == MAX_ATTEMPTS - 1:
                raise
            time.sleep(FIRST_BACKOFF_S * 2**attempt * (0.5 + random.random()))
            attempt += 1


def _attempt(engine: Engine, work: Callable[[Connection], T]) -> T:
    if engine.dialect.name == "sqlite":
        with engine.begin() as connection:
            return work(connection)
    seconds = _timeouts.get(id(engine), Timeouts()).statement
    with (
        engine.connect() as connection,
        _watchdog(connection.connection.dbapi_connection, seconds, engine),
        connection.begin(),
    ):
        return work(connection)
