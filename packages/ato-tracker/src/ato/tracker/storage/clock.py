"""The database's clock, the one clock heartbeats are written and compared in.

A writer stores its heartbeat as the database server's current time and a reader compares it
with the same server's current time, so neither host's wall clock takes part: a reader on a
host whose clock is off by an hour still sees a live run as ``running``, and a writer whose
clock steps back still looks alive. (SQLite has no server: its clock is the local one, which is
the writer's and the reader's when the file is local.)

The server's time is UTC on every backend: ``now()`` on PostgreSQL (``timestamptz``),
``UTC_TIMESTAMP(6)`` on MySQL/MariaDB (whatever the session time zone) and SQLite's
``'now'`` (to the millisecond) as ``DATETIME`` text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, type_coerce
from sqlalchemy.engine import Dialect

from .models import UTCDateTime


def database_now(dialect: Dialect) -> Any:
    """A SQL expression for the database's current UTC time, to store into a `UTCDateTime`
    column (e.g. ``update(...).values(heartbeat=database_now(engine.dialect))``)."""
    if dialect.name == "postgresql":
        return func.now()
    if dialect.name in ("mysql", "mariadb"):
        return func.utc_timestamp(6)
    if dialect.name == "sqlite":  # the text SQLAlchemy's SQLite DATETIME stores, microseconds
        return func.strftime("%Y-%m-%d %H:%M:%f000", "now")
    return func.current_timestamp()


def read_database_now(conn: Connection) -> datetime:
    """The database's current time as an aware UTC ``datetime`` (one small query).

    Raises:
        sqlalchemy.exc.DBAPIError: the database cannot be reached.
    """
    now = type_coerce(database_now(conn.dialect), UTCDateTime())
    return conn.execute(select(now)).scalar_one()
