"""Schema versions on open: which revision a database is at, creating new databases at the newest
one, and refusing databases of another revision or of another program.

The revision is stored in the table ``ato_schema_version`` (Alembic's version table, under a name
of its own so that another Alembic-managed application may share a server database). Databases
written before versioning are recognised by the shape of their tables: ato 2.x databases (the
``artifacts.data_info`` column) are revision ``0001``, ato-tracker 3.0.0 databases are ``0002``.

Opening costs one cached check per process and URL when the database is current; Alembic itself
is imported only to describe a mismatch (`ato.tracker.storage.revisions`) and by
`ato.tracker.migrate`.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    TextClause,
    inspect,
    select,
    text,
)
from sqlalchemy.engine.reflection import Inspector
from sqlalchemy.exc import DBAPIError

from ..errors import NotATrackerDatabaseError, SchemaError, SchemaOutdatedError, SchemaTooNewError
from .models import Base

#: The newest schema revision, the one this ato-tracker reads and writes (the migrations' head).
HEAD_REVISION = "0010"
#: Revision of databases written by ato 2.x.
ATO2_REVISION = "0001"
#: Revision of databases written by ato-tracker 3.0.0 (which stored no version).
ATO30_REVISION = "0002"
VERSION_TABLE = "ato_schema_version"
TRACKER_TABLES = tuple(Base.metadata.tables)
SUMMARY_TABLE = "metric_summaries"  # added by revision 0006: older databases lack it
SEARCH_TABLES = ("search_queues", "search_jobs")  # added by revision 0008
LOD_TABLE = "metric_series_lod"  # added by revision 0009
PARAMS_TABLE = "run_params"  # added by revision 0010
#: The tables every tracker database has, whatever its revision.
CORE_TABLES = tuple(
    name
    for name in TRACKER_TABLES
    if name not in (SUMMARY_TABLE, LOD_TABLE, PARAMS_TABLE) and name not in SEARCH_TABLES
)

#: Execution option asking a SQLite connection to start its transactions with BEGIN IMMEDIATE.
SQLITE_IMMEDIATE = "ato_begin_immediate"
#: Seconds a process waits for the schema lock (held by another process checking, creating or
#: upgrading the schema) before giving up with a `SchemaError` naming the holder.
SCHEMA_LOCK_TIMEOUT_S = 60
MYSQL_LOCK_TIMEOUT_S = SCHEMA_LOCK_TIMEOUT_S  # the name before PostgreSQL's wait was bounded too
_LOCK_NAME = "ato.tracker.storage.schema"
_PG_LOCK_KEY = zlib.crc32(_LOCK_NAME.encode())
_PG_LOCK_NOT_AVAILABLE = "55P03"  # SQLSTATE of a lock_timeout expiry

# Alembic's own version table layout, so that Alembic reads what is written here.
version_table = Table(
    VERSION_TABLE,
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name=f"{VERSION_TABLE}_pkc"),
)


@dataclass(frozen=True)
class SchemaState:
    """What a database holds, seen by the tracker.

    Attributes:
        revision: the schema revision, ``None`` when the database has no tracker table.
        versioned: the revision was read from the version table (``False``: recognised by the
            shape of the tables, a database written before schemas were versioned).
        other_tables: names of tables that are not the tracker's.
    """

    revision: str | None
    versioned: bool
    other_tables: tuple[str, ...]


def read_state(conn: Connection, url: str) -> SchemaState:
    """The schema state of the database behind ``conn`` (reads only).

    Args:
        conn: a connection to the database.
        url: the database URL with the password hidden, for error messages.

    Raises:
        NotATrackerDatabaseError: some tracker tables are missing, or they have a shape no ato
            version wrote, or the version table holds several revisions.
    """
    tables = set(inspect(conn).get_table_names())
    others = tuple(sorted(tables - set(TRACKER_TABLES) - {VERSION_TABLE}))
    revision = _recorded_revision(conn, url) if VERSION_TABLE in tables else None
    present = tables & set(TRACKER_TABLES)
    if not present and revision is None:
        return SchemaState(None, False, others)
    missing = [name for name in CORE_TABLES if name not in present]
    if missing:
        problem = "has no tracker tables" if not present else "lacks the tracker tables"
        raise NotATrackerDatabaseError(url, f"{problem} {', '.join(missing)}".strip())
    if revision is not None:
        return SchemaState(revision, True, others)
    return SchemaState(_revision_by_shape(conn, url), False, others)


def _recorded_revision(conn: Connection, url: str) -> str | None:
    """The revision in the version table; ``None`` if it is empty (a creation interrupted on a
    backend whose DDL commits at once: the revision is then recognised by shape)."""
    revisions = list(conn.execute(select(version_table.c.version_num)).scalars())
    if len(revisions) > 1:
        raise NotATrackerDatabaseError(
            url, f"records several schema revisions ({', '.join(sorted(revisions))})"
        )
    return revisions[0] if revisions else None


def _revision_by_shape(conn: Connection, url: str) -> str:
    inspector = inspect(conn)
    artifacts = {column["name"] for column in inspector.get_columns("artifacts")}
    fingerprints = {column["name"] for column in inspector.get_columns("fingerprints")}
    if "data_info" in artifacts and "timestamp" not in fingerprints:
        return ATO2_REVISION
    if {"metadata", "timestamp"} <= artifacts and "timestamp" in fingerprints:
        return _revision_after_3_0(inspector)
    raise NotATrackerDatabaseError(
        url, "has tables named like the tracker's but of a shape no ato version wrote"
    )


SERIES_INDEX = "ix_metrics_run_key_step_value"  # added by revision 0005


def _revision_after_3_0(inspector: Inspector) -> str:
    """An unversioned database of 3.0 shape, or one made by ``create_all`` of today's models
    (as code written for ato 2.x does through ``ato.db_routers.sql.schema``): the newest
    revision whose columns it has."""
    metrics = {column["name"] for column in inspector.get_columns("metrics")}
    runs = {column["name"] for column in inspector.get_columns("experiments")}
    if not {"writer", "seq", "value_class"} <= metrics:
        return ATO30_REVISION
    if not {"provenance", "heartbeat"} <= runs:
        return "0003"
    indexes = {index["name"] for index in inspector.get_indexes("metrics")}
    if SERIES_INDEX not in indexes:
        return "0004"
    if not inspector.has_table(SUMMARY_TABLE):
        return "0005"
    artifacts = {column["name"] for column in inspector.get_columns("artifacts")}
    if "sha256" not in artifacts:
        return "0006"
    if not inspector.has_table(SEARCH_TABLES[1]):
        return "0007"
    if not inspector.has_table(LOD_TABLE):
        return "0008"
    return "0010" if inspector.has_table(PARAMS_TABLE) else "0009"


def head_if_current(engine: Engine, url: str) -> bool:
    """True if the database records `HEAD_REVISION` (the cheap check done on every open:
    two small catalog queries). Taken without the schema lock, so anything else - including
    tables another process is creating right now - is left to the locked check."""
    try:
        with engine.connect() as conn:
            state = read_state(conn, url)
    except NotATrackerDatabaseError:
        return False
    return state.versioned and state.revision == HEAD_REVISION


def ensure_schema(engine: Engine, url: str) -> None:
    """Make the database usable for writing: create a new one at `HEAD_REVISION`, record
    the revision of a current database written before versioning, refuse anything else.

    Safe when several processes open a new database at once: the check and the creation run
    under a lock (see `schema_lock`), so the schema is created exactly once.

    Args:
        engine: the engine of the database.
        url: the database URL with the password hidden, for error messages.

    Raises:
        SchemaOutdatedError: the database has an older revision (run ``ato db upgrade``).
        SchemaTooNewError: the database was upgraded by a newer ato.
        NotATrackerDatabaseError: the database belongs to another program (a SQLite file with
            only other tables, or tables of an unknown shape); it is left unchanged.
    """
    if head_if_current(engine, url):
        return
    with schema_lock(engine) as conn, conn.begin():
        state = read_state(conn, url)
        check_writable(state, url, sqlite=engine.dialect.name == "sqlite")
        if state.revision is None:
            Base.metadata.create_all(conn)
            stamp(conn, HEAD_REVISION)
        elif not state.versioned:
            stamp(conn, HEAD_REVISION)


def check_writable(state: SchemaState, url: str, *, sqlite: bool) -> None:
    """Raise unless a database in ``state`` can be written by this ato-tracker: at the head
    revision, or without tracker tables (created on open; for SQLite only if the file holds no
    other program's tables either).

    Raises:
        SchemaOutdatedError, SchemaTooNewError, NotATrackerDatabaseError: see
            `ensure_schema`.
    """
    if state.revision is None:
        if sqlite and state.other_tables:
            raise NotATrackerDatabaseError(
                url,
                f"holds only other tables ({', '.join(state.other_tables[:5])})",
                hint="give the tracker a file of its own",
            )
    elif state.revision != HEAD_REVISION:
        raise mismatch_error(url, state.revision)


def check_readable(state: SchemaState, url: str) -> None:
    """Raise unless a database in ``state`` can be read by this ato-tracker.

    Raises:
        NotATrackerDatabaseError: the database has no tracker tables.
        SchemaOutdatedError: an older revision (reading it would fail on missing columns).
        SchemaTooNewError: a newer revision.
    """
    if state.revision is None:
        raise NotATrackerDatabaseError(url, "has no tracker tables")
    if state.revision != HEAD_REVISION:
        raise mismatch_error(url, state.revision)


def stamp(conn: Connection, revision: str) -> None:
    """Record ``revision`` as the database's schema revision (creating the version table)."""
    version_table.create(conn, checkfirst=True)
    conn.execute(version_table.delete())
    conn.execute(version_table.insert().values(version_num=revision))


def mismatch_error(url: str, revision: str) -> SchemaError:
    """The error for a database at ``revision`` (not the head): outdated if the migrations know
    the revision, else too new."""
    from .revisions import describe_revision
    from .versions import __version__

    described = describe_revision(revision)
    if described is None:
        return SchemaTooNewError(url, revision, HEAD_REVISION, __version__)
    return SchemaOutdatedError(url, revision, HEAD_REVISION, described)


@contextmanager
def schema_lock(engine: Engine) -> Iterator[Connection]:
    """A connection holding the database's schema lock, so that one process at a time checks,
    creates or upgrades the schema.

    SQLite: every transaction of the connection starts with ``BEGIN IMMEDIATE`` (the write
    lock; others wait up to the busy timeout), so the lock is held inside ``conn.begin()``.
    PostgreSQL: a session advisory lock, waited for under ``lock_timeout``. MySQL/MariaDB:
    ``GET_LOCK`` on a name per database. Other backends: no lock beyond the transaction.

    Raises:
        SchemaError: the lock was not granted within `SCHEMA_LOCK_TIMEOUT_S` seconds (60); the
            message names the process holding it (a suspended creator, an upgrade waiting for a
            reader that stays idle in a transaction, ...) so that it can be ended.
    """
    with engine.connect() as conn:
        dialect = engine.dialect.name
        if dialect == "sqlite":
            conn.execution_options(**{SQLITE_IMMEDIATE: True})
            yield conn
            return
        release = _acquire(conn, dialect)
        try:
            yield conn
        finally:
            if conn.in_transaction():
                conn.rollback()
            if release is not None:
                conn.execute(release)
                conn.commit()


def _acquire(conn: Connection, dialect: str) -> TextClause | None:
    if dialect == "postgresql":
        _pg_lock(conn)
        return text(f"SELECT pg_advisory_unlock({_PG_LOCK_KEY})")
    if dialect in ("mysql", "mariadb"):
        name = f"{_LOCK_NAME}:{conn.engine.url.database}"[:64]
        granted = conn.execute(
            text("SELECT GET_LOCK(:name, :timeout)"),
            {"name": name, "timeout": SCHEMA_LOCK_TIMEOUT_S},
        ).scalar()
        holder = None
        if granted != 1:
            holder = conn.execute(text("SELECT IS_USED_LOCK(:name)"), {"name": name}).scalar()
        conn.commit()
        if granted != 1:
            raise _lock_error(name, f"connection id {holder}" if holder else None)
        return text("SELECT RELEASE_LOCK(:name)").bindparams(name=name)
    return None


def _pg_lock(conn: Connection) -> None:
    """Take the session advisory lock, waiting at most `SCHEMA_LOCK_TIMEOUT_S` (the server's
    ``lock_timeout``, set for this one transaction: the session lock outlives it)."""
    try:
        conn.execute(text(f"SET LOCAL lock_timeout = '{int(SCHEMA_LOCK_TIMEOUT_S * 1000)}ms'"))
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_LOCK_KEY})
        conn.commit()
    except DBAPIError as error:
        code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        if code != _PG_LOCK_NOT_AVAILABLE:
            raise
        conn.rollback()
        raise _lock_error(f"advisory lock {_PG_LOCK_KEY}", _pg_lock_holder(conn)) from None


def _pg_lock_holder(conn: Connection) -> str | None:
    """Who holds the schema lock: pid, state and what that backend itself waits for."""
    row = conn.execute(
        text(
            "SELECT a.pid, a.state, a.application_name, pg_blocking_pids(a.pid) "
            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 "
            "AND CAST(l.objid AS bigint) = :key AND l.objsubid = 1"
        ),
        {"key": _PG_LOCK_KEY},
    ).first()
    conn.rollback()
    if row is None:
        return None
    pid, state, application, blockers = row
    described = f"PostgreSQL pid {pid} ({state or 'unknown state'}"
    described += f", application {application!r})" if application else ")"
    if blockers:
        described += f", itself waiting for pid {', '.join(str(b) for b in blockers)}"
    return described


def _lock_error(lock: str, holder: str | None) -> SchemaError:
    who = f"{holder} holds it" if holder else "another process holds it"
    return SchemaError(
        f"the tracker's schema lock ({lock}) was not granted within {SCHEMA_LOCK_TIMEOUT_S} "
        f"seconds: {who} (creating or upgrading the schema?). Try again later, or end that "
        "process/session if it is stuck (PostgreSQL: SELECT pg_terminate_backend(pid))"
    )
