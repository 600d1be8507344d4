"""A batch of metric rows on SQLite: staged once, then stored and summarised by SQL alone.

The buffered tuples ``(run_id, key, value, step, unix_time, seq)`` go to the driver as they
are, into a connection-private staging table (`stage`; nameless ``?`` placeholders, the DB-API's
qmark style; numbered ``?1`` ones bound from a sequence are deprecated since Python 3.12.0). One
``INSERT ... SELECT`` then moves them into ``metrics`` (`insert_sql`) and, when it stored every
row, one more folds them into ``metric_summaries`` (`fold_sql`, see `ato.tracker.write.fold`)
and one into the series' blocks (`blocks_sql`, see `ato.tracker.write.series_blocks`).
SQLite computes the stored pair ``(value, value_class)`` (see `ato.tracker.storage.values`;
NaN arrives as NULL: SQLite binds NaN so) and the ``DATETIME`` text itself, so no Python code
runs per row, and the driver releases the GIL for each whole statement: the thread that logs
metrics keeps running while a batch is written.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence

from sqlalchemy import Connection

from ..storage.models import LOD_SHIFT
from ..storage.values import DBL_MAX, FINITE, NAN, NEG_INF, POS_INF
from .rows import MetricRow

STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS ato_staged_metrics (run_id, key, value, step, unix_time, seq)"
)
CLEAR_STAGED = "DELETE FROM temp.ato_staged_metrics"
#: Rows per staging statement: 996 parameters, within the 999 of SQLite builds before 3.32.
ROWS_PER_STATEMENT = 166


def stage(conn: Connection, rows: Sequence[MetricRow]) -> None:
    """Put ``rows`` into the staging table, inside ``conn``'s transaction, with one multi-row
    ``INSERT`` per `ROWS_PER_STATEMENT` rows given its parameters as one flat tuple. The driver
    binds a statement's parameters in C and releases the GIL while SQLite runs it, so the
    flush thread takes the GIL some 30 times per 5,000 rows, not once per row as
    ``executemany`` does: the thread that logs metrics seldom has to hand the GIL over, and
    never for long.

    Raises:
        sqlalchemy.exc.DBAPIError: SQLite refused the insert.
    """
    chain = itertools.chain.from_iterable
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        part = rows[start : start + ROWS_PER_STATEMENT]
        conn.exec_driver_sql(_stage_sql(len(part)), tuple(chain(part)))


@functools.lru_cache(maxsize=8)
def _stage_sql(rows: int) -> str:
    """A multi-row ``INSERT`` of ``rows`` staged rows (qmark placeholders)."""
    placeholders = ", ".join(["(?, ?, ?, ?, ?, ?)"] * rows)
    return f"INSERT INTO temp.ato_staged_metrics VALUES {placeholders}"  # noqa: S608 - no data


_BIG = repr(DBL_MAX)


def stored_value(value: str) -> str:
    """SQL for the ``value`` column of a logged ``value`` (an SQL expression): infinities as
    ``+-DBL_MAX``, NaN (NULL) as NULL."""
    return f"CASE WHEN {value} > {_BIG} THEN {_BIG} WHEN {value} < -{_BIG} THEN -{_BIG} ELSE {value} END"


def value_class(value: str) -> str:
    """SQL for the ``value_class`` of a logged ``value`` (an SQL expression)."""
    return (
        f"CASE WHEN {value} IS NULL THEN {NAN} WHEN {value} > {_BIG} THEN {POS_INF} "
        f"WHEN {value} < -{_BIG} THEN {NEG_INF} ELSE {FINITE} END"
    )


def datetime_text(unix_time: str) -> str:
    """SQL for the text SQLAlchemy's SQLite ``DATETIME`` stores (``YYYY-MM-DD
    HH:MM:SS.ffffff`` in UTC) of ``unix_time`` (seconds since the epoch, an SQL expression),
    rounded to whole microseconds first, as ``datetime.fromtimestamp`` does for the other
    backends (``1700000000.123`` is stored as ``.123000``, not truncated to ``.122999``)."""
    micros = f"CAST(ROUND({unix_time} * 1000000) AS INTEGER)"
    return (
        f"strftime('%Y-%m-%d %H:%M:%S', {micros} / 1000000, 'unixepoch') || "
        f"printf('.%06d', {micros} % 1000000)"
    )


@functools.lru_cache(maxsize=64)
def insert_sql(writer_id: int) -> str:
    """The move of the staged rows into ``metrics``, in staging order, skipping rows already
    stored (``ON CONFLICT (run_id, writer, seq) DO NOTHING``). ``writer_id`` is an ``int``,
    inlined as a literal. ``WHERE true`` keeps SQLite from reading the ``ON`` of ``ON
    CONFLICT`` as a join constraint (its documented upsert ambiguity)."""
    return (
        "INSERT INTO metrics (run_id, key, value, value_class, step, timestamp, writer, seq) "  # noqa: S608 - constants and an int only
        f"SELECT run_id, key, {stored_value('value')}, {value_class('value')}, step, "
        f"{datetime_text('unix_time')}, {int(writer_id)}, seq "
        "FROM temp.ato_staged_metrics WHERE true ORDER BY rowid "
        "ON CONFLICT (run_id, writer, seq) DO NOTHING"
    )


@functools.lru_cache(maxsize=1)
def fold_sql(on_conflict: str) -> str:
    """The staged rows' summary per run and key (count, extremes of the stored values,
    whether an infinity was logged, and the last row in staging order), inserted into
    ``metric_summaries`` or merged into the stored row by ``on_conflict`` (the ``ON CONFLICT
    ... DO UPDATE`` clause of `ato.tracker.write.fold`)."""
    value = stored_value("value")
    return (
        "INSERT INTO metric_summaries (run_id, key, value_count, min_value, max_value, "  # noqa: S608 - constants only
        "has_pos_inf, has_neg_inf, last_value, last_class, last_step, last_timestamp) "
        "SELECT g.run_id, g.key, g.n, g.low, g.high, g.pos_inf, g.neg_inf, "
        f"{stored_value('s.value')}, {value_class('s.value')}, s.step, "
        f"{datetime_text('s.unix_time')} "
        f"FROM (SELECT run_id, key, count(*) AS n, min({value}) AS low, max({value}) AS high, "
        f"max(CASE WHEN value > {_BIG} THEN 1 ELSE 0 END) AS pos_inf, "
        f"max(CASE WHEN value < -{_BIG} THEN 1 ELSE 0 END) AS neg_inf, max(rowid) AS last_row "
        "FROM temp.ato_staged_metrics GROUP BY run_id, key) AS g "
        "JOIN temp.ato_staged_metrics AS s ON s.rowid = g.last_row WHERE true "
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
        f"SELECT run_id, key, {block}, count(*), sum(value IS NULL), min({value}), max({value}) "
        f"FROM temp.ato_staged_metrics WHERE step IS NOT NULL GROUP BY run_id, key, {block} "
        f"{on_conflict}"
    )
