"""A read-only connection to a tracker database.

- SQLite is opened through a ``file:`` URI with ``mode=ro`` (the file is never created, changed
  or switched to WAL mode), or with ``immutable=1`` when its directory is not writable (a
  read-only WAL database cannot be opened otherwise; nobody can be writing to it then).
- On PostgreSQL every session is started with ``default_transaction_read_only=on`` and on
  MySQL/MariaDB with ``SET SESSION TRANSACTION READ ONLY``: the server itself refuses writes.
- On every backend a guard rejects, before it is sent, any statement that is not a read
  (``SELECT``, ``WITH``, ``SHOW``, ``EXPLAIN`` or a query-only ``PRAGMA``).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import NullPool

from ato.tracker.errors import NotATrackerDatabaseError, SchemaError
from ato.tracker.storage.database import normalize_url, sqlite_file
from ato.tracker.storage.schema import check_readable, read_state
from ato.tracker.storage.settings import hide_password

from .errors import DatabaseUnavailableError, ReadOnlyViolationError

SQLITE_BUSY_TIMEOUT_MS = 5_000
_READ = re.compile(r"\s*(select|with|show|explain)\b|\s*pragma\s+[\w.]+\s*(\(|;|$)", re.I)


def is_read_statement(statement: str) -> bool:
    """True for SQL text that only reads: ``SELECT``/``WITH``/``SHOW``/``EXPLAIN`` or a
    ``PRAGMA`` that assigns nothing (``PRAGMA table_info(x)``, never ``PRAGMA x=1``)."""
    return _READ.match(statement) is not None


class ReadOnlyDatabase:
    """The database at ``url``, opened lazily and read-only (see the module docstring).

    Args:
        url: a SQLAlchemy URL or a bare SQLite file path (the ``ato`` command's ``--db``).

    Raises:
        DatabaseUnavailableError: ``url`` is not a database URL, names an in-memory SQLite
            database (nothing to show), or its driver is not installed.
    """

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        #: The URL with any password replaced by ``***``: the only form ever shown.
        self.display_url = _display(self.url)
        try:
            parsed = make_url(self.url)
            parsed.get_dialect()
        except (NoSuchModuleError, ImportError) as error:  # NoSuchModuleError: ArgumentError
            raise DatabaseUnavailableError(f"cannot open {self.display_url}: {error}") from None
        except (ArgumentError, ValueError) as error:
            raise DatabaseUnavailableError(
                f"{self.display_url!r} is not a database URL: {error}"
            ) from None
        self.backend = parsed.get_backend_name()
        self.sqlite_path = sqlite_file(self.url)
        if self.backend == "sqlite" and self.sqlite_path is None:
            raise DatabaseUnavailableError(
                "an in-memory SQLite database is empty in every new process; pass a file path"
            )
        self._engine: Engine | None = None
        self._schema_ok = False
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        """The read-only engine (created on first use)."""
        with self._lock:
            if self._engine is None:
                self._engine = self._create_engine()
            return self._engine

    def _create_engine(self) -> Engine:
        # Stored configs and tags are parsed by orjson: a runs table parses thousands of them.
        common: dict[str, Any] = {"json_deserializer": _load_json}
        try:
            if self.sqlite_path is not None:
                engine = create_engine(
                    "sqlite://", creator=self._sqlite_connect, poolclass=NullPool, **common
                )
            else:
                common["pool_pre_ping"] = True
                if self.backend == "postgresql":
                    options = {"options": "-c default_transaction_read_only=on"}
                    engine = create_engine(self.url, connect_args=options, **common)
                elif self.backend in ("mysql", "mariadb"):
                    init = {"init_command": "SET SESSION TRANSACTION READ ONLY"}
                    engine = create_engine(self.url, connect_args=init, **common)
                else:
                    engine = create_engine(self.url, **common)
        except (ArgumentError, NoSuchModuleError, ImportError) as error:
            raise DatabaseUnavailableError(f"cannot open {self.display_url}: {error}") from None
        event.listen(engine, "before_cursor_execute", _refuse_writes)
        return engine

    def _sqlite_connect(self) -> sqlite3.Connection:
        assert self.sqlite_path is not None  # noqa: S101 - invariant, narrows the type
        path = self.sqlite_path.resolve()
        if not path.is_file():
            raise DatabaseUnavailableError(f"the SQLite file {path} does not exist (yet)")
        mode = "mode=ro" if os.access(path.parent, os.W_OK) else "immutable=1"
        connection = sqlite3.connect(
            f"file:{quote(str(path))}?{mode}", uri=True, check_same_thread=False
        )
        connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        return connection

    def check(self) -> None:
        """Make sure the database can be read and holds the tracker's tables at the schema
        revision this ato-tracker reads (checked until it succeeds once, so a database created
        or upgraded after the dashboard started is picked up).

        Raises:
            DatabaseUnavailableError: it cannot be opened, it is not a tracker database, or
                its schema is older (run ``ato db upgrade``) or newer than this ato-tracker's.
        """
        if self._schema_ok:
            return
        try:
            with self.engine.connect() as conn:
                state = read_state(conn, self.display_url)
        except DBAPIError as error:
            reason = str(error.orig or error).strip().splitlines()[0]
            raise DatabaseUnavailableError(f"cannot read {self.display_url}: {reason}") from None
        except NotATrackerDatabaseError as error:
            raise DatabaseUnavailableError(f"{error}. {_POINT_AT_IT}") from None
        if state.revision is None:
            raise DatabaseUnavailableError(
                f"{self.display_url} is not an ato tracker database: it has no tracker tables. "
                + _POINT_AT_IT
            )
        try:
            check_readable(state, self.display_url)
        except SchemaError as error:
            raise DatabaseUnavailableError(str(error)) from None
        self._schema_ok = True

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection for one request's reads (its transaction is rolled back at the end).

        Raises:
            DatabaseUnavailableError: see ``check``.
        """
        self.check()
        try:
            with self.engine.connect() as conn:
                yield conn
        except DatabaseUnavailableError:
            raise
        except DBAPIError as error:
            if error.connection_invalidated:
                raise DatabaseUnavailableError(
                    f"lost the connection to {self.display_url}"
                ) from None
            raise

    def dispose(self) -> None:
        """Close pooled connections."""
        if self._engine is not None:
            self._engine.dispose()

    @property
    def location(self) -> Path | None:
        """The SQLite file, or ``None`` for a server."""
        return self.sqlite_path


_POINT_AT_IT = "Point --db at the database your SQLLogger writes to (experiment.sql.db_path)."


def _load_json(text: str) -> Any:
    """A stored JSON document: orjson, or the standard library for what only it reads (the
    ``NaN``/``Infinity`` that Python's ``json.dumps`` writes for such floats)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _display(url: str) -> str:
    try:
        return hide_password(url)
    except ValueError:  # unparseable: it may still hold a password, so show none of it
        return "(the --db URL)"


def _refuse_writes(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    if not is_read_statement(statement):
        first = statement.strip().split(None, 1)[0] if statement.strip() else "(empty)"
        raise ReadOnlyViolationError(
            f"the dashboard only reads, but a {first} statement was about to be sent: "
            f"{statement.strip()[:200]}"
        )
