"""Engines of tracker databases: SQLite pragmas, time-bounded server connections and retried
transactions (the engines are cached and made ready by ``ato.tracker.storage.database``).

SQLite connections get ``busy_timeout`` (wait for other writers instead of failing),
``journal_mode=WAL`` (readers never block the writer, a killed process leaves a consistent file)
and ``synchronous=NORMAL`` (in WAL mode: durable across process crashes; a power loss may drop
the last transactions). Several processes may write one file at once; a transaction that still
fails with a lock error is retried with exponential backoff (see ``run_transaction``).

Server engines are time-bounded (see ``ato.tracker.storage.settings.Timeouts``): the driver gets a
connect timeout (libpq also TCP keepalives and a TCP user timeout), and every transaction of ``run_transaction`` - including the pool's
liveness ping - runs under a watchdog (one thread per process) that shuts the connection's
socket down when the statement timeout passes, so a server that stops answering without
closing the connection (frozen, or behind a hung proxy) cannot block a caller for longer.

Readers (``Database.read_engine``) open a SQLite file read-only (``mode=ro``, waiting up to
``SQLITE_BUSY_TIMEOUT_MS`` for a writer's lock like writers do), and ``immutable`` when the
file or its directory cannot be written (read-only media, an archive without write permission),
so such databases stay readable. On PostgreSQL a reader's sessions start with
``default_transaction_read_only=on`` and on MySQL/MariaDB with ``SET SESSION TRANSACTION READ
ONLY``: the server itself refuses writes. Readers parse stored JSON (configs, tags) with orjson
when it is installed (a runs table parses thousands of documents), else with the standard library.
"""

from __future__ import annotations

import json
import math
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
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool, StaticPool

from ..errors import DatabaseTimeoutError
from .schema import (
    SQLITE_IMMEDIATE,
)
from .settings import Timeouts

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 30_000
MAX_ATTEMPTS = 8
FIRST_BACKOFF_S = 0.05
#: Attempts in all of a call repeated by `retry_disconnects` when its connection drops.
DISCONNECT_ATTEMPTS = 4
# Execution options of the tracker's engines (per-engine state on the engine itself).
STATEMENT_TIMEOUT_OPTION = "ato_statement_timeout"
SHOWN_URL_OPTION = "ato_shown_url"


def create_tracker_engine(
    url: str, shown_url: str, timeouts: Timeouts, *, read_only: bool
) -> Engine:
    """A new engine for the normalized ``url`` (``shown_url``: the same, password hidden): SQLite with the tracker's pragmas (or opened
    read-only), a server with bounded connects, pings and transactions (``timeouts``). The
    statement timeout and the URL shown in messages ride on the engine as execution options,
    where `run_transaction` reads them."""
    parsed = make_url(url)
    options = {STATEMENT_TIMEOUT_OPTION: timeouts.statement, SHOWN_URL_OPTION: shown_url}
    reading: dict[str, Any] = {"json_deserializer": _json_loader()} if read_only else {}
    if parsed.get_backend_name() != "sqlite":
        connect_args = _server_connect_args(parsed, timeouts)
        if read_only:
            connect_args.update(_read_only_session_args(parsed))
        engine = create_engine(
            url,
            pool_pre_ping=True,
            connect_args=connect_args,
            execution_options=options,
            **reading,
        )
        _bound_pings(engine, timeouts.statement)
        return engine
    in_memory = parsed.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {
        "connect_args": {"check_same_thread": False},
        "execution_options": options,
        **reading,
    }
    if in_memory:
        kwargs["poolclass"] = StaticPool
    elif read_only:
        path = Path(parsed.database or "")
        kwargs["creator"] = lambda: connect_read_only(path)
        # A connection per checkout: readers may serve many threads at once (the dashboard),
        # which the pool SQLAlchemy picks for a "sqlite://" URL (one per thread) cannot bear.
        kwargs["poolclass"] = NullPool
        return create_engine("sqlite://", **kwargs)
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def connect_read_only(path: Path) -> sqlite3.Connection:
    """Open ``path`` read-only; ``immutable`` (no locks, no ``-shm``/``-wal`` files created)
    when the file or its directory is not writable, e.g. on read-only media."""
    resolved = path.resolve()
    uri = f"file:{quote(str(resolved))}?mode=ro"
    wait_s = SQLITE_BUSY_TIMEOUT_MS / 1000
    writable = os.access(resolved, os.W_OK) and os.access(resolved.parent, os.W_OK)
    if writable:
        try:
            connection = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=wait_s)
            connection.execute("SELECT 1 FROM sqlite_master LIMIT 1")
            return connection
        except sqlite3.OperationalError:  # e.g. a read-only mount that os.access misses
            pass
    return sqlite3.connect(uri + "&immutable=1", uri=True, check_same_thread=False, timeout=wait_s)


def _read_only_session_args(url: URL) -> dict[str, Any]:
    """Driver arguments that make every session of a server reader read-only (those not
    already in the URL's query)."""
    driver = url.get_driver_name()
    args: dict[str, Any] = {}
    if driver in ("psycopg", "psycopg2"):
        args = {"options": "-c default_transaction_read_only=on"}
    elif driver in ("pymysql", "mysqldb", "mariadbconnector"):
        args = {"init_command": "SET SESSION TRANSACTION READ ONLY"}
    return {key: value for key, value in args.items() if key not in url.query}


def _json_loader() -> Callable[[str], Any]:
    """How a reader parses stored JSON documents: orjson when it is installed (falling back to
    the standard library for what orjson refuses: ``NaN``/``Infinity``, which ``json.dumps``
    writes for such floats, and integers beyond 64 bits), else the standard library."""
    try:
        import orjson  # noqa: F401 - only whether it is installed
    except ImportError:
        return json.loads
    return _orjson_or_json_loads


def _orjson_or_json_loads(text: str) -> Any:
    # A module-level function, not a closure: psycopg caches its JSON loader by the function's
    # code and logs "using a closure in a dumps/loads function may cause a resource leak"
    # (and caches nothing) for a closure.
    import orjson

    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


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
    watch = _WATCHDOG.arm(dbapi_connection, seconds)
    try:
        yield
    except Exception as error:
        if watch.fired:
            raise DatabaseTimeoutError(_shown_url(engine), seconds) from error
        raise
    finally:
        _WATCHDOG.disarm(watch)


class _Watch:
    """One armed deadline of the `_Watchdog`: the connection it aborts and whether it did."""

    __slots__ = ("connection", "deadline", "fired")

    def __init__(self, connection: Any, deadline: float) -> None:
        self.connection, self.deadline, self.fired = connection, deadline, False


class _Watchdog:
    """One daemon thread that aborts the connections whose deadline (``time.monotonic()``)
    passed, for every transaction of the process: arming and disarming a deadline costs a
    lock and a set operation, where a thread per transaction costs a thread start (about a
    millisecond on a loaded machine). The thread wakes at its nearest deadline, or when a
    nearer one is armed: about once per statement timeout while transactions end in time."""

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # a child starts its own thread

    def _reset(self) -> None:
        self._cond = threading.Condition()
        self._watches: set[_Watch] = set()
        self._thread: threading.Thread | None = None
        self._wake_at = math.inf  # time.monotonic() the thread wakes at

    def arm(self, connection: Any, seconds: float) -> _Watch:
        """Abort ``connection`` in ``seconds`` unless `disarm` comes first."""
        watch = _Watch(connection, time.monotonic() + seconds)
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="ato-tracker-watchdog", daemon=True
                )
                self._thread.start()
            self._watches.add(watch)
            if watch.deadline < self._wake_at:
                self._cond.notify()
        return watch

    def disarm(self, watch: _Watch) -> None:
        """Forget ``watch`` (its block ended)."""
        with self._cond:
            self._watches.discard(watch)

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                for watch in [w for w in self._watches if w.deadline <= now]:
                    self._watches.discard(watch)
                    watch.fired = True
                    abort_connection(watch.connection)
                self._wake_at = min((w.deadline for w in self._watches), default=math.inf)
                self._cond.wait(None if self._wake_at == math.inf else self._wake_at - now)


_WATCHDOG = _Watchdog()


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
    seconds = engine.get_execution_options().get(STATEMENT_TIMEOUT_OPTION, Timeouts().statement)
    with (
        engine.connect() as connection,
        _watchdog(connection.connection.dbapi_connection, seconds, engine),
        connection.begin(),
    ):
        return work(connection)


def _shown_url(engine: Engine) -> str:
    """The URL of ``engine`` for messages, password hidden."""
    shown = engine.get_execution_options().get(SHOWN_URL_OPTION)
    return str(shown) if shown is not None else engine.url.render_as_string(hide_password=True)
