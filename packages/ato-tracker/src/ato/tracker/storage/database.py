"""One handle per tracker database: its URL parsed once, and the engines opened on it.

A [`Database`][ato.tracker.Database] is made at an entry point (``SQLLogger``,
``SQLFinder``, the ``ato`` command, ``ato.tracker.migrate``) from a URL string or a bare SQLite
path, and handed down: the layers below read its fields and never parse or redact the URL again.

Engines are cached per process id, URL, timeouts and mode (read-write or read-only) here and
nowhere else, so a forked child never reuses its parent's pooled connections; a database
opened for writing is made ready (schema created or checked) once per process and key.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import NullPool

from ..errors import DatabaseNotFoundError
from .engine import connect_read_only, create_tracker_engine, retry_disconnects
from .schema import HEAD_REVISION, SchemaState, check_readable, check_writable, ensure_schema
from .schema import read_state as _read_state
from .settings import Timeouts, hide_password

__all__ = ["Database", "dispose_engines", "get_engine", "normalize_url", "sqlite_file"]

_EngineKey = tuple[int, str, Timeouts, bool]
_engines: dict[_EngineKey, Engine] = {}
_schema_ready: set[_EngineKey] = set()
_engines_lock = threading.Lock()


def normalize_url(url: str) -> str:
    """Return ``url`` as a SQLAlchemy URL; a bare file path becomes ``sqlite:///<path>``."""
    return url if "://" in url else f"sqlite:///{url}"


@dataclass(frozen=True)
class Database:
    """A tracker database named by a URL, parsed once.

    Attributes:
        url: the normalized SQLAlchemy URL (a bare path became ``sqlite:///<path>``), with
            its password: for connecting only.
        shown_url: the URL as it was given (a bare path stays a path) with its password
            hidden: what messages and ``repr`` show.
        shown_sqlalchemy_url: ``url`` with its password hidden: what schema messages,
            ``ato db current`` and the spool show.
        backend: the SQLAlchemy backend name (``'sqlite'``, ``'postgresql'``, ``'mysql'``).
        sqlite_path: the database file of a SQLite URL; ``None`` for servers and in-memory
            SQLite.
        timeouts: connect and statement timeouts (and ``spool_after``), seconds.
        given_url: the URL as it was given (a bare path stays a path), for messages about
            a SQLite file.
    """

    url: str = field(repr=False)  # holds the password
    shown_url: str
    shown_sqlalchemy_url: str = field(repr=False)
    backend: str
    sqlite_path: Path | None
    timeouts: Timeouts
    given_url: str = field(repr=False)  # may hold the password

    @classmethod
    def from_url(cls, url: str, timeouts: Timeouts | None = None) -> Database:
        """The database at ``url`` (a SQLAlchemy URL or a bare SQLite file path).

        Raises:
            sqlalchemy.exc.ArgumentError: ``url`` cannot be parsed (the message shows it with
                its password hidden).
        """
        normalized = normalize_url(url)
        parsed = _parse(normalized)
        backend = parsed.get_backend_name()
        in_memory = parsed.database in (None, "", ":memory:")
        path = Path(parsed.database or "") if backend == "sqlite" and not in_memory else None
        shown, canonical = hide_password(url), hide_password(normalized)
        return cls(normalized, shown, canonical, backend, path, timeouts or Timeouts(), url)

    def require_driver(self) -> None:
        """Check, without connecting, that SQLAlchemy's dialect and driver for this URL are
        installed.

        Raises:
            sqlalchemy.exc.NoSuchModuleError: no dialect or driver of that name is installed
                (e.g. ``postgresql+psycopg`` without ``ato-tracker[postgres]``); also an
                ``ArgumentError``, so catch it first.
            ImportError: the dialect exists but its driver package is not installed.
        """
        make_url(self.url).get_dialect()

    def with_timeouts(self, timeouts: Timeouts) -> Database:
        """The same database with other timeouts."""
        return dataclasses.replace(self, timeouts=timeouts)

    @property
    def identity(self) -> str:
        """The database as files outside it name it (the spool): ``shown_url`` with a SQLite
        path made absolute, so the name holds from any working directory."""
        if self.sqlite_path is None:
            return self.shown_sqlalchemy_url
        absolute = str(self.sqlite_path.resolve())
        return hide_password(make_url(self.url).set(database=absolute).render_as_string(False))

    def require_exists(self) -> None:
        """Raise [`DatabaseNotFoundError`][ato.tracker.DatabaseNotFoundError] if this is a
        SQLite file that does not exist (connecting would silently create an empty one).
        Servers are not checked here."""
        if self.sqlite_path is not None and not self.sqlite_path.exists():
            raise DatabaseNotFoundError(self.given_url, self.sqlite_path)

    def engine(self, *, create_schema: bool = True) -> Engine:
        """The read-write engine of this database in this process, created on first use.

        Args:
            create_schema: make the database ready for writing (once per process and key):
                create a new database's tables at the newest schema revision (and the missing
                parent directories of a SQLite file), or check that an existing one is at it
                (see ``ato.tracker.storage.schema.ensure_schema``). ``ato db upgrade`` and
                callers that checked the schema already pass ``False``.

        Raises:
            SchemaOutdatedError: the database has an older schema revision (``ato db upgrade``).
            SchemaTooNewError: the database was upgraded by a newer ato.
            NotATrackerDatabaseError: the database belongs to another program (left unchanged).
            sqlalchemy.exc.OperationalError: the database cannot be reached.
        """
        return self._cached(read_only=False, create_schema=create_schema)

    def read_engine(self) -> Engine:
        """The engine readers use: a SQLite file opened read-only (``immutable`` when it cannot
        be written, see ``ato.tracker.storage.engine``); for servers the read-write engine,
        without schema creation."""
        return self._cached(read_only=True, create_schema=False)

    @contextmanager
    def probe(self) -> Iterator[Engine]:
        """A throwaway engine that looks without changing anything: a SQLite file is opened
        read-only and without the tracker's pragmas (which would switch it to WAL mode)."""
        path = self.sqlite_path
        if path is None:
            probe = create_engine(self.url, poolclass=NullPool)
        else:
            probe = create_engine(
                "sqlite://", creator=lambda: connect_read_only(path), poolclass=NullPool
            )
        try:
            yield probe
        finally:
            probe.dispose()

    def schema_state(self) -> SchemaState:
        """The schema state of this database, read without changing anything.

        Raises:
            NotATrackerDatabaseError: the tracker tables are incomplete or of an unknown shape.
            sqlalchemy.exc.DBAPIError: the database cannot be opened or read (e.g. not a SQLite
                file, or a directory).
        """
        with self.probe() as probe, probe.connect() as conn:
            return _read_state(conn, self.shown_sqlalchemy_url)

    def require_tracker_schema(self) -> None:
        """Raise unless this is an existing tracker database at the newest schema revision.

        Raises:
            DatabaseNotFoundError: a SQLite file that does not exist.
            NotATrackerDatabaseError: the database lacks some or all tracker tables.
            SchemaOutdatedError: the database has an older revision (``ato db upgrade``).
            SchemaTooNewError: the database was upgraded by a newer ato.
            sqlalchemy.exc.DBAPIError: the database cannot be opened or read.
        """
        self.require_exists()
        check_readable(self.schema_state(), self.shown_sqlalchemy_url)

    def _cached(self, *, read_only: bool, create_schema: bool) -> Engine:
        key = (os.getpid(), self.url, self.timeouts, read_only)
        path = self.sqlite_path
        if create_schema and path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        with _engines_lock:
            engine = _engines.get(key)
            if engine is None:
                engine = _engines[key] = create_tracker_engine(
                    self.url, self.shown_sqlalchemy_url, self.timeouts, read_only=read_only
                )
            if create_schema and key not in _schema_ready:
                if not self._current_sqlite_file():
                    ready = engine
                    retry_disconnects(lambda: ensure_schema(ready, self.shown_sqlalchemy_url))
                _schema_ready.add(key)
        return engine

    def _current_sqlite_file(self) -> bool:
        """For an existing SQLite file: True if it is at the head revision; raise if it must
        not be written - looked at read-only, before the tracker's pragmas change the file."""
        if self.sqlite_path is None or not self.sqlite_path.exists():
            return False
        state = self.schema_state()
        check_writable(state, self.shown_sqlalchemy_url, sqlite=True)
        return state.versioned and state.revision == HEAD_REVISION


def get_engine(
    url: str | Database,
    *,
    create_schema: bool = True,
    timeouts: Timeouts | None = None,
    read_only: bool = False,
) -> Engine:
    """The engine of ``url`` (a `Database`, or a URL string made into one): `Database.engine`,
    or `Database.read_engine` when ``read_only``. ``timeouts`` replace a `Database`'s own."""
    database = url if isinstance(url, Database) else Database.from_url(url, timeouts)
    if timeouts is not None and database.timeouts != timeouts:
        database = database.with_timeouts(timeouts)
    if read_only:
        return database.read_engine()
    return database.engine(create_schema=create_schema)


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL string, or ``None`` for other backends and in-memory
    SQLite (``Database.from_url(url).sqlite_path``).

    Raises:
        sqlalchemy.exc.ArgumentError: ``url`` cannot be parsed (the message hides its password).
    """
    return Database.from_url(url).sqlite_path


def dispose_engines() -> None:
    """Close every cached engine of this process (the next use recreates them)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _schema_ready.clear()


def _forget_inherited_connections() -> None:
    """In a forked child, drop the parent's pooled connections without closing them (closing
    would break the parent's); the child's next use opens its own (SQLAlchemy's advice). The
    cache's lock is made anew: another thread of the parent may have held it at the fork."""
    global _engines_lock
    _engines_lock = threading.Lock()
    for engine in _engines.values():
        engine.dispose(close=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_inherited_connections)


def _parse(url: str) -> URL:
    """``make_url`` raising an ``ArgumentError`` whose message hides the password."""
    try:
        return make_url(url)
    except (ArgumentError, ValueError):  # ValueError: e.g. a port that is not a number
        raise ArgumentError(
            f"could not parse database URL {hide_password(url)!r}; expected "
            "dialect+driver://user:password@host:port/database or a SQLite file path"
        ) from None
