"""The series' level of detail (``metric_series_lod``), kept at write time beside the summaries.

A metric write folds the rows it stored into one row per run, key and block of
`ato.tracker.storage.models.LOD_WIDTH` steps (count, NaN count, extremes) inside the same
transaction as the insert, exactly once like the summaries of `ato.tracker.write.fold`: a
complete batch is merged in SQL (``INSERT ... ON CONFLICT DO UPDATE`` / ``ON DUPLICATE KEY
UPDATE``, so concurrent writers to one series add up); when a batch was stored only in part
(a retry of rows stored before), `ato.tracker.write.fold.recompute` rebuilds the blocks of
its keys from ``metrics``, as it does their summaries. Values
logged without a step belong to no block. Readers: ``ato.tracker.read.series``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Integer,
    Table,
    and_,
    case,
    func,
    insert,
    literal_column,
    or_,
    select,
)
from sqlalchemy.engine import Dialect

from ..storage.models import LOD_SHIFT, LOD_WIDTH, MetricRecord, SeriesBlockRecord
from ..storage.values import DBL_MAX
from . import upserts
from .rows import MetricRow

_blocks = cast(Table, SeriesBlockRecord.__table__)
_metrics = cast(Table, MetricRecord.__table__)
_COLUMNS = [column.name for column in _blocks.columns]


def fold_blocks(conn: Connection, rows: Sequence[MetricRow]) -> None:
    """Fold ``rows`` (in write order), all of them just stored by the insert, into the
    series' blocks, inside the caller's transaction."""
    blocks = batch_blocks(rows)
    if blocks:
        conn.execute(_merge_statement(conn.dialect), blocks)


def batch_blocks(rows: Iterable[MetricRow]) -> list[dict[str, Any]]:
    """One ``metric_series_lod`` row (a dict of its columns) per run, key and block of the
    ``rows`` that have a step."""
    found: dict[tuple[int, str, int], list[Any]] = {}  # -> [count, nan count, min, max]
    for row in rows:  # the flush's hot loop: plain indexing, one dict lookup per row
        step = row[3]
        if step is None:
            continue
        where = (row[0], row[1], step >> LOD_SHIFT)
        block = found.get(where)
        if block is None:
            block = found[where] = [0, 0, None, None]
        block[0] += 1
        value = row[2]
        if value - value != 0:  # not finite
            if value != value:
                block[1] += 1
                continue
            value = DBL_MAX if value > 0 else -DBL_MAX  # an infinity's stand-in
        if block[2] is None:
            block[2] = block[3] = value
        elif value < block[2]:
            block[2] = value
        elif value > block[3]:
            block[3] = value
    return [
        dict(zip(_COLUMNS, (run_id, key, block, *counts), strict=True))
        for (run_id, key, block), counts in found.items()
    ]


@functools.lru_cache(maxsize=8)
def _merge_statement(dialect: Dialect) -> Any:
    """An upsert adding a batch's block to the stored one; built once per dialect."""
    return upserts.merge_statement(_blocks, dialect, ("run_id", "key", "block"), _merged)


@functools.lru_cache(maxsize=8)
def blocks_on_conflict(dialect: Dialect) -> str:
    """The ``ON CONFLICT`` clause of the block merge on SQLite or PostgreSQL, for the
    ``blocks_sql`` of `ato.tracker.write.sqlite_batch` and `ato.tracker.write.postgres_batch`
    (`_merged` binds no parameters)."""
    return upserts.on_conflict(_merge_statement(dialect), dialect)


def _merged(new: Any) -> dict[str, Any]:
    """SET clauses merging ``new`` into the stored block; each reads only its own column (so
    MySQL's left-to-right assignment gives the same result), and a NULL extreme (a block of
    NaN only) never replaces a value."""
    c = _blocks.c
    return {
        "value_count": c.value_count + new.value_count,
        "nan_count": c.nan_count + new.nan_count,
        "min_value": case(
            (or_(c.min_value.is_(None), new.min_value < c.min_value), new.min_value),
            else_=c.min_value,
        ),
        "max_value": case(
            (or_(c.max_value.is_(None), new.max_value > c.max_value), new.max_value),
            else_=c.max_value,
        ),
    }


def recompute_blocks(conn: Connection, pairs: Sequence[tuple[int, str]]) -> None:
    """Rebuild the blocks of the ``(run_id, key)`` pairs from their ``metrics`` rows."""
    b, m = _blocks.c, _metrics.c
    for run_id, key in pairs:
        conn.execute(_blocks.delete().where(b.run_id == run_id, b.key == key))
        mine = and_(m.run_id == run_id, m.key == key)
        conn.execute(insert(_blocks).from_select(_COLUMNS, aggregated(conn.dialect, mine)))


def block_of(step: Any, dialect: Dialect) -> Any:
    """The SQL expression of the block of ``step`` (floor division by `LOD_WIDTH`)."""
    if dialect.name in ("mysql", "mariadb"):  # >> is an unsigned shift there
        return func.floor(step / literal_column(str(LOD_WIDTH), Integer()))
    # Inlined, not bound: PostgreSQL has no bigint >> bigint, and GROUP BY must repeat it.
    return step.op(">>", return_type=Integer)(literal_column(str(LOD_SHIFT), Integer()))


def aggregated(dialect: Dialect, where: Any) -> Any:
    """A SELECT of ``metric_series_lod`` rows computed from the ``metrics`` rows ``where``
    selects (those with a step)."""
    m = _metrics.c
    block = block_of(m.step, dialect)
    return (
        select(
            m.run_id,
            m.key,
            block,
            func.count(),
            func.count() - func.count(m.value),
            func.min(m.value),
            func.max(m.value),
        )
        .where(where, m.step.is_not(None))
        .group_by(m.run_id, m.key, block)
    )
