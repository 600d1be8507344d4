"""Metric rows into the ``metrics`` table exactly once, with the summary fold in the same
transaction: the insert shared by the buffer's flushes and the spool's replays.

Every row carries its writer's random id and its own sequence number; the ``metrics`` table has
a unique index on ``(run_id, writer, seq)`` and the insert skips rows already stored (``ON
CONFLICT DO NOTHING`` on SQLite and PostgreSQL, a no-op ``ON DUPLICATE KEY UPDATE`` on
MySQL/MariaDB, which unlike ``INSERT IGNORE`` keeps rejecting bad data). A batch the database
refuses for its data is split in halves until the refused rows are isolated. SQLite
(`ato.tracker.write.sqlite_batch`) and PostgreSQL through psycopg 3
(`ato.tracker.write.postgres_batch`) stage a batch and store and fold it in SQL; the other
drivers get one ``executemany``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, insert, select
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from ..storage.engine import run_transaction
from ..storage.models import MetricRecord
from ..storage.values import store_value
from . import fold, postgres_batch, series_blocks, sqlite_batch
from .rows import MetricRow

_log = logging.getLogger("ato.tracker")
_from_timestamp = datetime.fromtimestamp
_UTC = timezone.utc
_COLUMNS = ("run_id", "key", "value", "value_class", "step", "timestamp", "writer", "seq")
_UNIQUE = ("run_id", "writer", "seq")

# Errors a driver raises for the data of a row (not for the connection).
_DATA_ERRORS = (DataError, IntegrityError, OverflowError, UnicodeError, ValueError, TypeError)


def write_isolating(
    engine: Engine,
    writer: MetricWriter,
    rows: list[MetricRow],
    writer_id: int,
    reject: Callable[[MetricRow, BaseException], None] | None = None,
) -> int:
    """Write ``rows`` exactly once in one transaction; if the database refuses them for their
    data, write halves recursively so that only the refused rows are left out (each passed to
    ``reject``, or logged). Returns the number of rows stored (now or before).

    Raises:
        sqlalchemy.exc.DBAPIError, DatabaseTimeoutError: the database could not be reached.
    """
    try:
        _write_once(engine, writer, rows, writer_id)
        return len(rows)
    except _DATA_ERRORS as error:
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            raise
        if len(rows) == 1:
            if reject is None:
                _log.error("ato.tracker: the database refused metric row %r: %s", rows[0], error)
            else:
                reject(rows[0], error)
            return 0
    middle = len(rows) // 2
    return write_isolating(engine, writer, rows[:middle], writer_id, reject) + write_isolating(
        engine, writer, rows[middle:], writer_id, reject
    )


def _write_once(
    engine: Engine, writer: MetricWriter, rows: list[MetricRow], writer_id: int
) -> None:
    """One transaction; on a dropped connection, one more attempt on a fresh connection (safe:
    rows that did commit are skipped by the unique index)."""
    try:
        run_transaction(engine, lambda conn: writer.write(conn, rows, writer_id))
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        run_transaction(engine, lambda conn: writer.write(conn, rows, writer_id))


class MetricWriter:
    """Writes metric rows exactly once for one SQL dialect: staged (SQLite; PostgreSQL through
    psycopg 3, by ``COPY``), else with the driver's ``executemany``.

    Timestamps are converted the way `ato.tracker.storage.models.UTCDateTime` would: an aware
    UTC ``datetime`` for PostgreSQL and a naive UTC one for MySQL; on SQLite the insert
    statement itself makes the exact text SQLAlchemy's SQLite ``DATETIME`` stores
    (``YYYY-MM-DD HH:MM:SS.ffffff``, see `ato.tracker.write.sqlite_batch`), on PostgreSQL
    through psycopg 3 the ``timestamptz`` (see `ato.tracker.write.postgres_batch`). Values become
    ``(value, value_class)`` pairs (see `ato.tracker.storage.values`).

    Args:
        dialect: the dialect of the engine the rows go to.
    """

    def __init__(self, dialect: Dialect) -> None:
        compiled = _insert_skipping_stored(dialect).compile(
            dialect=dialect, column_keys=list(_COLUMNS)
        )
        self.sql = str(compiled)
        # The driver's parameter layout, fixed per dialect: named (dicts), or positional in
        # the compiled statement's order (indexes into a row; None when that is _COLUMNS').
        self.named = not compiled.positional
        order = list(compiled.positiontup or ()) if compiled.positional else list(_COLUMNS)
        order = order[: len(_COLUMNS)]  # MySQL's ON DUPLICATE KEY clause binds nothing
        self.index = None if order == list(_COLUMNS) else [_COLUMNS.index(n) for n in order]
        self.convert_time: Callable[[float], Any] = (
            (lambda t: _from_timestamp(t, _UTC))
            if dialect.name == "postgresql"
            else (lambda t: _from_timestamp(t, _UTC).replace(tzinfo=None))
        )

        self.sqlite = dialect.name == "sqlite"
        self.mysql = dialect.name in ("mysql", "mariadb")
        # PostgreSQL through psycopg 3 copies the batch into a staging table (other drivers
        # have no COPY this code can reach, and keep the executemany below).
        self.copy = dialect.name == "postgresql" and dialect.driver == "psycopg"
        staged = postgres_batch if self.copy else sqlite_batch
        self.staged_folds = (
            (
                staged.fold_sql(fold.on_conflict(dialect)),
                staged.blocks_sql(series_blocks.blocks_on_conflict(dialect)),
            )
            if self.sqlite or self.copy
            else ()
        )

    def write(self, conn: Connection, rows: list[MetricRow], writer_id: int) -> None:
        """Insert ``rows`` (`MetricRow` tuples) of writer ``writer_id`` on ``conn``,
        inside the caller's transaction, skipping rows already stored.

        Raises:
            sqlalchemy.exc.DBAPIError: the driver rejected the insert.
        """
        if self.sqlite:  # the buffered tuples go to the driver as they are
            conn.exec_driver_sql(sqlite_batch.STAGING)
            sqlite_batch.stage(conn, rows)
            self._store_staged(conn, rows, sqlite_batch.insert_sql(writer_id))
            conn.exec_driver_sql(sqlite_batch.CLEAR_STAGED)
            return
        if self.copy:  # so do they here, by COPY; the staging table empties at commit
            conn.exec_driver_sql(postgres_batch.STAGING)
            postgres_batch.stage(conn, rows)
            self._store_staged(conn, rows, postgres_batch.insert_sql(writer_id))
            return
        stored_before = _stored_already(conn, rows, writer_id) if self.mysql else 0
        convert = self.convert_time
        w = writer_id
        params: list[Any] = [
            (r, k, v, 0, s, convert(t), w, q)
            if v - v == 0
            else (r, k, *store_value(v), s, convert(t), w, q)
            for r, k, v, s, t, q in rows
        ]
        if self.named:
            params = [dict(zip(_COLUMNS, p, strict=True)) for p in params]
        elif self.index is not None:
            index = self.index
            params = [tuple(p[i] for i in index) for p in params]
        result = conn.exec_driver_sql(self.sql, params)
        # MySQL drivers count a duplicate as a changed row, hence the locking read before.
        stored = len(rows) - stored_before if self.mysql else result.rowcount
        fold.fold(conn, rows, stored)

    def _store_staged(self, conn: Connection, rows: list[MetricRow], insert_sql: str) -> None:
        """Move the staged ``rows`` into ``metrics`` by ``insert_sql`` and fold the batch."""
        result = conn.exec_driver_sql(insert_sql)
        fold.fold_staged(conn, rows, result.rowcount, self.staged_folds)


def _stored_already(conn: Connection, rows: list[MetricRow], writer_id: int) -> int:
    """How many of ``rows`` are stored already, read with ``FOR UPDATE``: InnoDB then locks the
    seq range, so no concurrent writer can store them between this read and the insert."""
    seqs = {row[5] for row in rows}
    m = cast(Table, MetricRecord.__table__).c
    stmt = (
        select(m.seq)
        .where(
            m.run_id.in_({row[0] for row in rows}),
            m.writer == writer_id,
            m.seq.between(min(seqs), max(seqs)),
        )
        .with_for_update()
    )
    return sum(1 for seq in conn.execute(stmt).scalars() if seq in seqs)


def _insert_skipping_stored(dialect: Dialect) -> Any:
    table = cast(Table, MetricRecord.__table__)
    if dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(_UNIQUE))
    if dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=list(_UNIQUE))
    if dialect.name in ("mysql", "mariadb"):
        statement = mysql.insert(table)
        return statement.on_duplicate_key_update(seq=statement.inserted.seq)
    return insert(table).inline()
