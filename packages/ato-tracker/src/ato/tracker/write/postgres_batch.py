"""A batch of metric rows on PostgreSQL through psycopg 3: copied once, then stored and
summarised by SQL alone.

The buffered tuples ``(run_id, key, value, step, unix_time, seq)`` go to the server as they
are, by one binary ``COPY ... FROM STDIN`` into a session-private staging table (`stage`; see
psycopg's "Using COPY TO and COPY FROM"): no SQL statement per row, no per-row parameter
processing in Python. One ``INSERT ... SELECT`` then moves them into ``metrics`` (`insert_sql`)
and, when it stored every row, one more folds them into ``metric_summaries`` (`fold_sql`, see
`ato.tracker.write.fold`) and one into the series' blocks (`blocks_sql`, see
`ato.tracker.write.series_blocks`), all in the caller's transaction. The staging table is
``ON COMMIT DELETE ROWS``: a commit or a rollback leaves it empty.

PostgreSQL computes the stored pair ``(value, value_class)`` itself (see
`ato.tracker.storage.values`; in PostgreSQL NaN equals NaN and ranks above every number, so it
is tested first) and the ``timestamptz`` the way ``datetime.fromtimestamp`` makes it: whole
seconds plus the fraction rounded half to even to microseconds (``round`` of a double is
``rint``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from ..storage.models import LOD_SHIFT
from ..storage.values import DBL_MAX, FINITE, NAN, NEG_INF, POS_INF
from .rows import MetricRow

STAGED = "pg_temp.ato_staged_metrics"
STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS ato_staged_metrics (ord BIGINT GENERATED ALWAYS AS "
    "IDENTITY, run_id BIGINT, key TEXT, value DOUBLE PRECISION, step BIGINT, "
    "unix_time DOUBLE PRECISION, seq BIGINT) ON COMMIT DELETE ROWS"
)
COPY = f"COPY {STAGED} (run_id, key, value, step, unix_time, seq) FROM STDIN (FORMAT BINARY)"
#: The staged columns' types, for psycopg's binary dumpers (in `COPY`'s column order).
COPY_TYPES = ("int8", "text", "float8", "int8", "float8", "int8")


def stage(conn: Connection, rows: Sequence[MetricRow]) -> None:
    """Copy ``rows`` into the staging table (made by `STAGING`), inside ``conn``'s
    transaction (``conn`` must run on psycopg 3).

    Raises:
        sqlalchemy.exc.DBAPIError: the server refused the copy (its data, e.g. a NUL in a key:
            `sqlalchemy.exc.DataError`) or the connection failed (then invalidated, as
            SQLAlchemy does for its own statements).
    """
    driver = conn.connection.driver_connection
    try:
        with driver.cursor() as cursor, cursor.copy(COPY) as copy:  # type: ignore[union-attr]
            copy.set_types(COPY_TYPES)
            write_row = copy.write_row
            for row in rows:
                write_row(row)
    except conn.dialect.loaded_dbapi.Error as error:
        invalidated = conn.dialect.is_disconnect(error, driver, None)
        if invalidated:
            conn.invalidate(error)
        raise DBAPIError.instance(
            COPY,
            None,
            error,
            conn.dialect.loaded_dbapi.Error,
            connection_invalidated=invalidated,
            dialect=conn.dialect,
        ) from error


_BIG = f"CAST({DBL_MAX!r} AS DOUBLE PRECISION)"
_NAN = "CAST('NaN' AS DOUBLE PRECISION)"


def stored_value(value: str) -> str:
    """SQL for the ``value`` column of a logged ``value`` (an SQL expression): NaN as NULL,
    infinities as ``+-DBL_MAX``."""
    return (
        f"CASE WHEN {value} = {_NAN} THEN NULL WHEN {value} > {_BIG} THEN {_BIG} "
        f"WHEN {value} < -{_BIG} THEN -{_BIG} ELSE {value} END"
    )


def value_class(value: str) -> str:
    """SQL for the ``value_class`` of a logged ``value`` (an SQL expression)."""
    return (
        f"CASE WHEN {value} = {_NAN} THEN {NAN} WHEN {value} > {_BIG} THEN {POS_INF} "
        f"WHEN {value} < -{_BIG} THEN {NEG_INF} ELSE {FINITE} END"
    )


def timestamp(unix_time: str) -> str:
    """SQL for the ``timestamptz`` of ``unix_time`` (seconds since the epoch, an SQL
    expression) that ``datetime.fromtimestamp(unix_time, timezone.utc)`` gives: the whole
    seconds (``trunc``, as C's ``modf``) plus the fraction's microseconds rounded half to
    even (PostgreSQL's ``round`` of a double is C's ``rint``), both exact."""
    whole = f"trunc({unix_time})"
    return (
        f"(to_timestamp({whole}) + "
        f"round(({unix_time} - {whole}) * 1000000) * INTERVAL '1 microsecond')"
    )


@functools.lru_cache(maxsize=64)
def insert_sql(writer_id: int) -> str:
    """The move of the staged rows into ``metrics``, in staging order (so the ids grow in
    write order), skipping rows already stored (``ON CONFLICT (run_id, writer, seq) DO
    NOTHING``). ``writer_id`` is an ``int``, inlined as a literal."""
    return (
        "INSERT INTO metrics (run_id, key, value, value_class, step, timestamp, writer, seq) "  # noqa: S608 - constants and an int only
        f"SELECT run_id, key, {stored_value('value')}, {value_class('value')}, step, "
        f"{timestamp('unix_time')}, {int(writer_id)}, seq FROM {STAGED} ORDER BY ord "
        "ON CONFLICT (run_id, writer, seq) DO NOTHING"
    )


@functools.lru_cache(maxsize=1)
def fold_sql(on_conflict: str) -> str:
    """The staged rows' summary per run and key (count, extremes of the stored values,
    whether an infinity was logged, and the last row in staging order), inserted into
    ``metric_summaries`` or merged into the stored row by ``on_conflict`` (the ``ON CONFLICT
    ... DO UPDATE`` clause of `ato.tracker.write.fold`)."""
    value, kind = stored_value("value"), value_class("value")
    return (
        "INSERT INTO metric_summaries (run_id, key, value_count, min_value, max_value, "  # noqa: S608 - constants only
        "has_pos_inf, has_neg_inf, last_value, last_class, last_step, last_timestamp) "
        "SELECT g.run_id, g.key, g.n, g.low, g.high, g.pos_inf, g.neg_inf, "
        f"{stored_value('s.value')}, {value_class('s.value')}, s.step, "
        f"{timestamp('s.unix_time')} "
        f"FROM (SELECT run_id, key, count(*) AS n, min({value}) AS low, max({value}) AS high, "
        f"max(CASE WHEN {kind} = {POS_INF} THEN 1 ELSE 0 END) AS pos_inf, "
        f"max(CASE WHEN {kind} = {NEG_INF} THEN 1 ELSE 0 END) AS neg_inf, "
        f"max(ord) AS last_row FROM {STAGED} GROUP BY run_id, key) AS g "
        f"JOIN {STAGED} AS s ON s.ord = g.last_row "
        f"{on_conflict}"
    )


@functools.lru_cache(maxsize=1)
def blocks_sql(on_conflict: str) -> str:
    """The staged rows that have a step, as one ``metric_series_lod`` row per run, key and
    block (count, NaN count, extremes of the stored values: infinities as their stand-ins, as
    `ato.tracker.write.series_blocks.batch_blocks` counts them), inserted or merged into the
    stored block by ``on_conflict`` (the blocks' ``ON CONFLICT ... DO UPDATE`` clause)."""
    value, block = stored_value("value"), f"step >> {LOD_SHIFT}"
    return (
        "INSERT INTO metric_series_lod (run_id, key, block, value_count, nan_count, "  # noqa: S608 - constants only
        "min_value, max_value) "
        f"SELECT run_id, key, {block}, count(*), count(*) - count({value}), min({value}), "
        f"max({value}) FROM {STAGED} WHERE step IS NOT NULL GROUP BY run_id, key, {block} "
        f"{on_conflict}"
    )
