"""Per run and metric key summaries (count, extremes, last value), kept at write time.

Every metric write (`ato.tracker.buffer.MetricWriter`) folds the rows it stored into the
``metric_summaries`` table inside the same transaction, so run tables read one small row per
run and key instead of aggregating every logged value (MLflow keeps ``latest_metrics`` for the
same reason). The fold is exactly-once like the write itself: it counts only the rows the
insert really stored, never a retried row that was stored before.

A fold merges in SQL (``INSERT ... ON CONFLICT DO UPDATE`` / ``ON DUPLICATE KEY UPDATE``), so
concurrent writers to the same run and key add up correctly on PostgreSQL and MariaDB. When a
retried batch was stored only in part, the batch's keys are recomputed from ``metrics``.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    Connection,
    Integer,
    Select,
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
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Dialect

from .keypatterns import key_matches
from .models import MetricRecord, MetricSummaryRecord, ProjectRecord, RunRecord
from .results import MetricSummary
from .values import DBL_MAX, FINITE, NEG_INF, POS_INF, load_value, store_value

if TYPE_CHECKING:
    from .buffer import MetricRow

_summaries = cast(Table, MetricSummaryRecord.__table__)
_metrics = cast(Table, MetricRecord.__table__)
_runs = cast(Table, RunRecord.__table__)
_projects = cast(Table, ProjectRecord.__table__)
_UTC = timezone.utc
_INF = float("inf")
_BATCH = 500  # ids or keys per IN (...) list


def fold(conn: Connection, rows: Sequence[MetricRow], stored: int) -> None:
    """Fold ``rows`` (`ato.tracker.buffer.MetricRow` tuples, in write order), of which the
    insert just stored ``stored`` (the others were stored before), into the summaries, inside
    the caller's transaction."""
    if stored == len(rows):
        conn.execute(_merge_statement(conn.dialect), batch_summaries(rows))
    elif stored:
        recompute(conn, {(row[0], row[1]) for row in rows})


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
    if dialect.name in ("mysql", "mariadb"):
        stmt = mysql.insert(_summaries)
        return stmt.on_duplicate_key_update(_merged(stmt.inserted))
    module = postgresql if dialect.name == "postgresql" else sqlite
    stmt = module.insert(_summaries)
    return stmt.on_conflict_do_update(index_elements=["run_id", "key"], set_=_merged(stmt.excluded))


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
    """Rebuild the summaries of the ``(run_id, key)`` pairs from their ``metrics`` rows."""
    ordered = sorted(pairs)
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


def read(conn: Connection, run_ids: Sequence[int]) -> dict[int, dict[str, MetricSummary]]:
    """Per run id, per metric key: its `ato.tracker.MetricSummary` (runs that logged no
    metric are absent)."""
    result: defaultdict[int, dict[str, MetricSummary]] = defaultdict(dict)
    s = _summaries.c
    ids = list(run_ids)
    for start in range(0, len(ids), _BATCH * 10):
        stmt = select(s.run_id, *_columns()).where(s.run_id.in_(ids[start : start + _BATCH * 10]))
        for run_id, *row in conn.execute(stmt):
            summary = _summary(*row)
            result[run_id][summary.key] = summary
    return dict(result)


def read_page(
    conn: Connection, run_id: int, pattern: str | None, limit: int | None
) -> tuple[dict[str, MetricSummary], int]:
    """The summaries of run ``run_id`` whose key matches ``pattern`` (see
    ``ato.tracker.keypatterns``; ``None``: every key), the first ``limit`` of them in key order
    (code point order on every backend; ``None``: all), and how many keys match in all. Reads
    only the rows it returns plus one count."""
    s = _summaries.c
    where = s.run_id == run_id
    if pattern is not None:
        where = and_(where, key_matches(s.key, pattern, conn.dialect.name))
    total = conn.execute(select(func.count()).select_from(_summaries).where(where)).scalar_one()
    order = s.key.collate("C") if conn.dialect.name == "postgresql" else s.key
    stmt = select(*_columns()).where(where).order_by(order).limit(limit)
    summaries = [_summary(*row) for row in conn.execute(stmt)]
    return {summary.key: summary for summary in summaries}, total


def _columns() -> list[Any]:
    s = _summaries.c
    return [s.key, s.value_count, s.min_value, s.max_value, s.has_pos_inf, s.has_neg_inf,
            s.last_value, s.last_class, s.last_step]  # fmt: skip


def _summary(
    key: str, count: int, low: float | None, high: float | None, pos: int, neg: int,
    last: float | None, last_class: int, step: int | None,
) -> MetricSummary:  # fmt: skip
    return MetricSummary(
        key=key,
        last=load_value(last, last_class),
        last_step=step,
        min=_extreme(low, pos, neg),
        max=_extreme(high, pos, neg),
        count=count,
    )


def project_summary_rows(conn: Connection, project_name: str) -> Sequence[Any]:
    """Every summary of every run of ``project_name`` as rows ``(run_id, key, last, min, max,
    last_class, min_inf, max_inf)`` (also readable as attributes), in no particular order; one
    query, no per-row Python (made for tables of thousands of runs). ``last``/``min``/``max``
    are the finite values, ``None`` where the value is NaN or infinite: ``last_class`` (see
    ``ato.tracker.values``) and ``min_inf``/``max_inf`` (``1`` for +inf, ``-1`` for -inf, else
    ``0``) tell which. `read` gives the values exactly. ``[]`` for an unknown project."""
    return conn.execute(project_summary_statement(project_name)).all()


def project_summary_statement(project_name: str) -> Select[Any]:
    """The query of `project_summary_rows`, for callers that stream its rows."""
    r, p = _runs.c, _projects.c
    s = _summaries.c
    runs = select(r.id).join(_projects).where(p.name == project_name)
    min_inf, max_inf = _infinity(s.min_value), _infinity(s.max_value)
    return select(
        s.run_id,
        s.key,
        case((s.last_class == FINITE, s.last_value)).label("last"),
        case((min_inf != 0, None), else_=s.min_value).label("min"),
        case((max_inf != 0, None), else_=s.max_value).label("max"),
        s.last_class,
        min_inf.label("min_inf"),
        max_inf.label("max_inf"),
    ).where(s.run_id.in_(runs.scalar_subquery()))


def _infinity(extreme: Any) -> Any:
    """``1``/``-1`` when a stored extreme is the stand-in of +inf/-inf (see `_extreme`),
    else ``0``."""
    s = _summaries.c
    return case(
        (and_(extreme == DBL_MAX, s.has_pos_inf == 1), 1),
        (and_(extreme == -DBL_MAX, s.has_neg_inf == 1), -1),
        else_=0,
    )


def _extreme(value: float | None, has_pos_inf: int, has_neg_inf: int) -> float | None:
    """A stored extreme back as a float: an infinity's stand-in (the largest double of its
    sign) is the infinity when the key logged one."""
    if value == DBL_MAX and has_pos_inf:
        return _INF
    if value == -DBL_MAX and has_neg_inf:
        return -_INF
    return value
