"""The tracker database the dashboard shows, opened read-only through ato-tracker.

ato-tracker opens it ([`SQLFinder.open_read_only`][ato.tracker.SQLFinder.open_read_only]): a
SQLite file through a ``file:`` URI with ``mode=ro`` (never created, changed or switched to WAL
mode), or ``immutable=1`` when its directory is not writable; PostgreSQL sessions with
``default_transaction_read_only=on`` and MySQL/MariaDB ones with ``SET SESSION TRANSACTION READ
ONLY``, so the server itself refuses writes. On top of that the dashboard rejects, before it is
sent, any statement that is not a read (``SELECT``, ``WITH``, ``SHOW``, ``EXPLAIN`` or a
query-only ``PRAGMA``).
"""

from __future__ import annotations

import os  # noqa: F401 - tests fake os.access through this module (the tracker reads it)
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from ato.tracker import (
    Database,
    DatabaseNotFoundError,
    NotATrackerDatabaseError,
    SchemaError,
    SQLFinder,
    hide_password,
)

from .errors import DatabaseUnavailableError, ReadOnlyViolationError

_READ = re.compile(r"\s*(select|with|show|explain)\b|\s*pragma\s+[\w.]+\s*(\(|;|$)", re.I)
_POINT_AT_IT = "Point --db at the database your SQLLogger writes to (experiment.sql.db_path)."


def is_read_statement(statement: str) -> bool:
    """True for SQL text that only reads: ``SELECT``/``WITH``/``SHOW``/``EXPLAIN`` or a
    ``PRAGMA`` that assigns nothing (``PRAGMA table_info(x)``, never ``PRAGMA x=1``)."""
    return _READ.match(statement) is not None


class ReadOnlyDatabase:
    """The database at ``url``, opened lazily and read-only (see the module docstring).

    Args:
        url: a SQLAlchemy URL or a bare SQLite file path (the ``ato`` command's ``--db``).
        artifact_root: the artifact store directory (see ``SQLFinder``'s ``artifact_root``).

    Raises:
        DatabaseUnavailableError: ``url`` is not a database URL, names an in-memory SQLite
            database (nothing to show), or its driver is not installed.
    """

    def __init__(self, url: str, *, artifact_root: str | None = None) -> None:
        self.artifact_root = artifact_root
        #: The URL with any password replaced by ``***``: the only form ever shown.
        self.display_url = _display(url)
        try:
            location = Database.from_url(url)
            location.require_driver()
        except (NoSuchModuleError, ImportError) as error:  # NoSuchModuleError: ArgumentError
            raise DatabaseUnavailableError(f"cannot open {self.display_url}: {error}") from None
        except ArgumentError as error:
            raise DatabaseUnavailableError(
                f"{self.display_url!r} is not a database URL: {error}"
            ) from None
        self.url = location.url
        self.display_url = location.shown_sqlalchemy_url
        self.backend = location.backend
        self.sqlite_path = location.sqlite_path
        if self.backend == "sqlite" and self.sqlite_path is None:
            raise DatabaseUnavailableError(
                "an in-memory SQLite database is empty in every new process; pass a file path"
            )
        self._finder: SQLFinder | None = None
        self._lock = threading.Lock()

    @property
    def finder(self) -> SQLFinder:
        """The read-only finder (opened on first use, once the database is a readable tracker
        database at this ato-tracker's schema revision; tried again on every use until then,
        so a database created or upgraded after the dashboard started is picked up).

        Raises:
            DatabaseUnavailableError: it cannot be opened, it is not a tracker database, or
                its schema is older (run ``ato db upgrade``) or newer than this ato-tracker's.
        """
        finder = self._finder
        if finder is None:
            with self._lock:
                if self._finder is None:
                    self._finder = self._open()
                finder = self._finder
        return finder

    def _open(self) -> SQLFinder:
        try:
            finder = SQLFinder.open_read_only(self.url, artifact_root=self.artifact_root)
        except DatabaseNotFoundError:
            raise DatabaseUnavailableError(
                f"the SQLite file {self._resolved_path()} does not exist (yet)"
            ) from None
        except NotATrackerDatabaseError as error:
            raise DatabaseUnavailableError(
                f"{self.display_url} is not an ato tracker database: it {error.problem}. "
                + _POINT_AT_IT
            ) from None
        except SchemaError as error:
            raise DatabaseUnavailableError(str(error)) from None
        except DBAPIError as error:
            reason = str(error.orig or error).strip().splitlines()[0]
            raise DatabaseUnavailableError(f"cannot read {self.display_url}: {reason}") from None
        if not event.contains(finder.engine, "before_cursor_execute", _refuse_writes):
            event.listen(finder.engine, "before_cursor_execute", _refuse_writes)
        return finder

    def _resolved_path(self) -> Path | None:
        return None if self.sqlite_path is None else self.sqlite_path.resolve()

    @property
    def engine(self) -> Engine:
        """The read-only engine (see `finder`)."""
        return self.finder.engine

    def check(self) -> None:
        """Make sure the database can be read (see `finder`).

        Raises:
            DatabaseUnavailableError: see `finder`.
        """
        self.finder  # noqa: B018 - opened for its checks

    @contextmanager
    def reading(self) -> Iterator[SQLFinder]:
        """The finder, for one request's reads; a dropped server connection becomes a
        `DatabaseUnavailableError` (HTTP 409) instead of a server error.

        Raises:
            DatabaseUnavailableError: see `finder`, or the connection was lost.
        """
        try:
            yield self.finder
        except DBAPIError as error:
            if error.connection_invalidated:
                raise DatabaseUnavailableError(
                    f"lost the connection to {self.display_url}"
                ) from None
            raise

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection for reads of one's own (its transaction is rolled back at the end).

        Raises:
            DatabaseUnavailableError: as for `reading`.
        """
        with self.reading() as finder, finder.engine.connect() as conn:
            yield conn

    def dispose(self) -> None:
        """Close pooled connections."""
        if self._finder is not None:
            self._finder.engine.dispose()

    @property
    def location(self) -> Path | None:
        """The SQLite file, or ``None`` for a server."""
        return self.sqlite_path


def _display(url: str) -> str:
    try:
        return hide_password(url if "://" in url else f"sqlite:///{url}")
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
