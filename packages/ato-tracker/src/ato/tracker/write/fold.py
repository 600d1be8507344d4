"""Per run and metric key summaries (count, extremes, last value), kept at write time.

Every metric write (`ato.tracker.write.inserts.MetricWriter`) folds the rows it stored into the
``metric_summaries`` table inside the same transaction, so run tables read one small row per
run and key instead of aggregating every logged value (MLflow keeps ``latest_metrics`` for the
same reason). The fold is exactly-once like the write itself: it counts only the rows the
insert really stored, never a retried row that was stored before.

A fold merges in SQL (``INSERT ... ON CONFLICT DO UPDATE`` / ``ON DUPLICATE KEY UPDATE``), so
concurrent writers to the same run and key add up correctly on PostgreSQL and MariaDB. When a
retried batch was stored only in part, the batch's keys are recomputed from ``metrics``.
The series' level of detail (`ato.tracker.write.series_blocks`) is folded by the same rule.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
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
    tuple_,
)
from sqlalchemy.engine import Dialect

from ..storage.models import MetricRecord, MetricSummaryRecord
from ..storage.values import DBL_MAX, NEG_INF, POS_INF, store_value
from . import upserts
from .rows import MetricRow
from .series_blocks import fold_blocks, recompute_blocks

_summaries = cast(Table, MetricSummaryRecord.__table__)
_metrics = cast(Table, MetricRecord.__table__)
_UTC = timezone.utc
_INF = float("inf")
_BATCH = 500  # ids or keys per IN (...) list


def fold(conn: Connection, rows: Sequence[MetricRow], stored: int) -> None:
    """Fold ``rows`` (`ato.tracker.write.rows.MetricRow` tuples, in write order), of which the
    insert just stored ``stored`` (the others were stored before), into the summaries, inside
    the caller's transaction."""
    if stored == len(rows):
        conn.execute(_merge_statement(conn.dialect), batch_summaries(rows))
        fold_blocks(conn, rows)  # the series' level of detail
    elif stored:
        recompute(conn, {(row[0], row[1]) for row in rows})


def fold_staged(
    conn: Connection, rows: Sequence[MetricRow], stored: int, folds: Sequence[str]
) -> None:
    """`fold` where ``rows`` are also staged in a table the ``folds`` read (the ``fold_sql``
    and ``blocks_sql`` of `ato.tracker.write.sqlite_batch` or
    `ato.tracker.write.postgres_batch`): the summaries are computed and merged by one
    statement, with no Python code per row, and so are the series' blocks."""
    if stored == len(rows):
        for statement in folds:
            conn.exec_driver_sql(statement)
    elif stored:
        recompute(conn, {(row[0], row[1]) for row in rows})


@functools.lru_cache(maxsize=8)
def on_conflict(dialect: Dialect) -> str:
    """The ``ON CONFLICT`` clause of the summaries' merge on SQLite or PostgreSQL, for a
    staged batch's ``fold_sql`` (`_merged` binds no parameters)."""
    return upserts.on_conflict(_merge_statement(dialect), dialect)


def batch_summaries(rows: Iterable[MetricRow]) -> list[dict[str, Any]]:
    """One summary row (a dict of ``metric_summaries`` columns) per run and key of ``rows``."""
    values: defaultdict[tuple[int, str], list[float]] = defaultdict(list)
    last: dict[tuple[int, str], MetricRow] = {}
    for row in rows:
        pair = (row[0], row[1])
        values[pair].append(row[2])
        last[pair] = row
    return [_summary_row(last[pair], logged) for pair, logged in values.items()]


def _summary_row(last: MetricRow, logged: list[float]) -> dict[str, Any]:
    total = sum(logged)
    low: float | None
    high: float | None
    if total - total == 0:  # all finite (NaN or an infinity would make the sum non-finite)
        low, high, pos_inf, neg_inf = min(logged), max(logged), 0, 0
    else:
        stored = [max(-DBL_MAX, min(v, DBL_MAX)) for v in logged if v == v]  # NaN skipped
        low = min(stored, default=None)
        high = max(stored, default=None)
        pos_inf, neg_inf = int(_INF in logged), int(-_INF in logged)
    last_value, last_class = store_value(last[2])
    return {
        "run_id": last[0],
        "key": last[1],
        "value_count": len(logged),
        "min_value": low,
        "max_value": high,
        "has_pos_inf": pos_inf,
        "has_neg_inf": neg_inf,
        "last_value": last_value,
        "last_class": last_class,
        "last_step": last[3],
        "last_timestamp": datetime.fromtimestamp(last[4], _UTC),
    }


@functools.lru_cache(maxsize=8)
def _merge_statement(dialect: Dialect) -> Any:
    """An upsert adding a batch's summary to the stored one (see `_merged`); built once per
    dialect, as every flush runs it."""
    return upserts.merge_statement(_summaries, dialect, ("run_id", "key"), _merged)


# Inlined, not bound: PyMySQL's executemany fails on a bound parameter in ON DUPLICATE KEY
# UPDATE ("format requires a mapping"), which split every batch into single-row inserts.
_ONE = literal_column("1", Integer())


def _merged(new: Any) -> dict[str, Any]:
    """SET clauses merging ``new`` (the batch's summary) into the stored row. Each clause
    reads only its own column, so MySQL's left-to-right assignment gives the same result.
    A NULL extreme (a key that logged only NaN) never replaces a value: ``NULL < x`` is not
    true."""
    c = _summaries.c
    return {
        "value_count": c.value_count + new.value_count,
        "min_value": case(
            (or_(c.min_value.is_(None), new.min_value < c.min_value), new.min_value),
            else_=c.min_value,
        ),
        "max_value": case(
            (or_(c.max_value.is_(None), new.max_value > c.max_value), new.max_value),
            else_=c.max_value,
        ),
        "has_pos_inf": case((new.has_pos_inf == _ONE, _ONE), else_=c.has_pos_inf),
        "has_neg_inf": case((new.has_neg_inf == _ONE, _ONE), else_=c.has_neg_inf),
        "last_value": new.last_value,
        "last_class": new.last_class,
        "last_step": new.last_step,
        "last_timestamp": new.last_timestamp,
    }


def recompute(conn: Connection, pairs: Iterable[tuple[int, str]]) -> None:
    """Rebuild the summaries and the series' blocks (`ato.tracker.write.series_blocks`) of the
    ``(run_id, key)`` pairs from their ``metrics`` rows."""
    ordered = sorted(pairs)
    recompute_blocks(conn, ordered)
    for start in range(0, len(ordered), _BATCH):
        chunk = ordered[start : start + _BATCH]
        conn.execute(
            _summaries.delete().where(tuple_(_summaries.c.run_id, _summaries.c.key).in_(chunk))
        )
        m = _metrics.c
        where = or_(*(and_(m.run_id == run_id, m.key == key) for run_id, key in chunk))
        columns = [column.name for column in _summaries.columns]
        conn.execute(insert(_summaries).from_select(columns, aggregated(where)))


def aggregated(where: Any) -> Any:
    """A SELECT of ``metric_summaries`` rows computed from the ``metrics`` rows ``where``
    selects ("last" = the highest id, the order rows were written in)."""
    m = _metrics.c
    agg = (
        select(
            m.run_id,
            m.key,
            func.count().label("n"),
            func.min(m.value).label("low"),
            func.max(m.value).label("high"),
            func.max(case((m.value_class == POS_INF, 1), else_=0)).label("pos_inf"),
            func.max(case((m.value_class == NEG_INF, 1), else_=0)).label("neg_inf"),
            func.max(m.id).label("last_id"),
        )
        .where(where)
        .group_by(m.run_id, m.key)
        .subquery()
    )
    last = _metrics.alias()
    a, lr = agg.c, last.c
    return select(
        a.run_id, a.key, a.n, a.low, a.high, a.pos_inf, a.neg_inf,
        lr.value, lr.value_class, lr.step, lr.timestamp,
    ).join_from(agg, last, lr.id == a.last_id)  # fmt: skip
