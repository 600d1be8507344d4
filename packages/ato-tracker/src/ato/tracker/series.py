"""One metric series of a run, downsampled in SQL so that no spike is lost.

A series of ``n`` logged values is returned whole when ``n <= max_points``. A longer one is cut
into ``(max_points - 2) // 2`` buckets of equal *logging-order* width (metric row ids, so a
series logged without steps works too); from each bucket the rows holding its smallest and its
largest value are kept, plus the first and the last row of the series. This is the min/max
("M4" without the first/last per bucket) aggregation of Jugel et al., "M4: A Visualization-
Oriented Time Series Data Aggregation", VLDB 2014: drawn as a line, the kept points cover the
same vertical range per bucket as all points would, so spikes and dips stay visible.

The buckets are computed by the database (one ``GROUP BY`` over the series, then index seeks
for the extreme rows), so only about ``max_points`` rows travel to Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, and_, func, select

from .models import MetricRecord
from .results import Metric

NAN = float("nan")
MIN_POINTS = 4
_IN_BATCH = 500
_metrics = MetricRecord.__table__
_c = _metrics.c


class Series(NamedTuple):
    """A series as returned by [`downsampled_series`][ato.tracker.series.downsampled_series]:
    the kept ``points`` and the ``total`` number of values logged."""

    points: list[Metric]
    total: int


def metric_series(
    conn: Connection, run_id: int, key: str, max_points: int | None = None
) -> list[Metric]:
    """The values of metric ``key`` of run ``run_id`` in logging order, at most ``max_points``.

    Args:
        conn: an open connection to a tracker database.
        run_id: the run's id.
        key: the metric key (exact match).
        max_points: ``None`` for every value; else an upper bound (>= 4) on the number of
            points returned, kept as described in the module docstring.

    Returns:
        ``ato.tracker.Metric`` rows ordered by logging order (``[]`` if the run never
        logged ``key``); a non-finite value reads back as ``nan``.

    Raises:
        ValueError: ``max_points`` is below 4.
    """
    return downsampled_series(conn, run_id, key, max_points).points


def downsampled_series(
    conn: Connection, run_id: int, key: str, max_points: int | None = None
) -> Series:
    """[`metric_series`][ato.tracker.series.metric_series] together with the number of values
    logged (counted by the same query). Same arguments and errors."""
    if max_points is not None and max_points < MIN_POINTS:
        raise ValueError(f"max_points must be at least {MIN_POINTS}, got {max_points}")
    where = and_(_c.run_id == run_id, _c.key == key)
    count, first_id, last_id = conn.execute(
        select(func.count(), func.min(_c.id), func.max(_c.id)).where(where)
    ).one()
    if not count:
        return Series([], 0)
    if max_points is None or count <= max_points:
        return Series(_rows(conn, select(*_columns()).where(where).order_by(_c.id)), count)
    buckets = (max_points - 2) // 2
    ids = _extreme_ids(conn, where, first_id, last_id, buckets) | {first_id, last_id}
    return Series(_rows_by_id(conn, sorted(ids)), count)


def series_length(conn: Connection, run_id: int, key: str) -> int:
    """How many values of metric ``key`` run ``run_id`` logged (0 if none)."""
    stmt = select(func.count()).where(_c.run_id == run_id, _c.key == key)
    return int(conn.execute(stmt).scalar_one())


def _bucket(first_id: int, last_id: int, buckets: int) -> ColumnElement[Any]:
    """Bucket number 0..buckets-1 of a metric row, by its id within [first_id, last_id]."""
    width = last_id - first_id + 1
    return ((_c.id - first_id) * buckets) // width


def _extreme_ids(
    conn: Connection, where: ColumnElement[bool], first_id: int, last_id: int, buckets: int
) -> set[int]:
    """Ids of the first row holding each bucket's minimum and maximum value: one aggregate
    over the series, then per bucket a seek into the ``(run_id, key, value)`` index."""
    bucket = _bucket(first_id, last_id, buckets)
    agg = (
        select(bucket.label("b"), func.min(_c.value).label("lo"), func.max(_c.value).label("hi"))
        .where(where)
        .group_by(bucket)
        .subquery()
    )
    first_with = [
        select(func.min(_c.id))
        .where(where, _c.value == extreme, bucket == agg.c.b)
        .correlate(agg)
        .scalar_subquery()
        for extreme in (agg.c.lo, agg.c.hi)
    ]
    rows = conn.execute(select(*first_with).select_from(agg))
    return {row_id for pair in rows for row_id in pair if row_id is not None}


def _columns() -> tuple[Any, ...]:
    return (_c.key, _c.value, _c.step, _c.timestamp)


def _rows_by_id(conn: Connection, ids: Sequence[int]) -> list[Metric]:
    rows: list[Metric] = []
    for start in range(0, len(ids), _IN_BATCH):
        batch = ids[start : start + _IN_BATCH]
        rows += _rows(conn, select(*_columns()).where(_c.id.in_(batch)).order_by(_c.id))
    return rows


def _rows(conn: Connection, stmt: Any) -> list[Metric]:
    return [
        Metric(key, NAN if value is None else value, step, timestamp)
        for key, value, step, timestamp in conn.execute(stmt)
    ]
