"""One metric series of a run, downsampled in SQL so that no spike is lost.

A series of ``n`` logged values is returned whole when ``n <= max_points``. A longer one is cut
into ``(max_points - 2) // 2`` buckets of equal width along its steps (along its logging
order, i.e. metric row ids, when some of its values were logged without a step); from each
bucket the rows holding its smallest and its largest value are kept (and its first NaN, so
that a gap in the series stays a gap), plus the first and the last row of the series. This is the min/max ("M4" without the first/last per bucket)
aggregation of Jugel et al., "M4: A Visualization-Oriented Time Series Data Aggregation",
VLDB 2014: drawn as a line, the kept points cover the same vertical range per bucket as all
points would, so spikes and dips stay visible.

The database does the work in one pass: the step range is two seeks into the
``(run_id, key, step, value)`` index, one ``GROUP BY`` over that index (no table rows read)
gives each bucket's extremes and size, and a walk along the bucket's part of the same index,
stopping at the first entry holding the extreme, finds each extreme's row, so only about
``max_points`` rows travel to Python. That walk reads at most the bucket, so the whole
downsampling reads each index entry a bounded number of times, however many values are tied:
a seek into the ``(run_id, key, value)`` index instead would read every row of the series
holding the extreme, all of them for a constant series (quadratic time for flat series).

A long series with dense steps (buckets of 256 steps or more, 8 values or more per 64 steps)
is read instead from its level of detail, kept at write time: per 64 steps its count, NaN
count and extremes (`ato.tracker.read.series_lod`), which gives the same points from about
``n / 64 + 64 * buckets`` entries. Its total is checked against the series' summary; when they
disagree (a write committed between the reads) the index pass above runs instead.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Double,
    Integer,
    and_,
    bindparam,
    func,
    or_,
    select,
)

from ..storage.models import MetricRecord
from ..storage.values import FINITE, load_value
from . import series_lod
from .results import Metric

MIN_POINTS = 4
_IN_BATCH = 500
_WALKS_PER_STATEMENT = 100
_metrics = MetricRecord.__table__
_c = _metrics.c


class Series(NamedTuple):
    """A series as returned by [`downsampled_series`][ato.tracker.read.series.downsampled_series]:
    the kept ``points`` and the ``total`` number of values logged."""

    points: list[Metric]
    total: int


def metric_series(
    conn: Connection, run_id: int, key: str, max_points: int | None = None
) -> list[Metric]:
    """The values of metric ``key`` of run ``run_id`` in step order, at most ``max_points``.

    Args:
        conn: an open connection to a tracker database.
        run_id: the run's id.
        key: the metric key (exact match).
        max_points: ``None`` for every value; else an upper bound (>= 4) on the number of
            points returned, kept as described in the module docstring.

    Returns:
        ``ato.tracker.Metric`` rows ordered by step, then time, then logging order (values
        without a step last; ``[]`` if the run never logged ``key``), so a value logged late
        at an early step is drawn where its step is; a non-finite value reads back as ``nan``.

    Raises:
        ValueError: ``max_points`` is below 4.
    """
    return downsampled_series(conn, run_id, key, max_points).points


def downsampled_series(
    conn: Connection,
    run_id: int,
    key: str,
    max_points: int | None = None,
    since_step: int | None = None,
) -> Series:
    """[`metric_series`][ato.tracker.read.series.metric_series] together with the number of values
    logged (counted by the same pass). Same arguments and errors, and ``since_step``: ``None``
    for the whole series, else (an int) only the values logged at a step greater than it
    (values without a step are then left out), downsampled and counted on their own."""
    if max_points is not None and max_points < MIN_POINTS:
        raise ValueError(f"max_points must be at least {MIN_POINTS}, got {max_points}")
    where = and_(_c.run_id == run_id, _c.key == key)
    if since_step is not None:
        where = and_(where, _c.step > since_step)
    if max_points is None or _at_most(conn, where, max_points):
        points = _rows(conn, select(*_columns()).where(where).order_by(*_STEP_ORDER))
        return Series(points, len(points))
    buckets = (max_points - 2) // 2
    steps = _step_range(conn, where)
    if steps is None:  # some values have no step: buckets along the logging order
        return _by_id(conn, where, buckets)
    first_step, last_step = steps
    ends = {_id_at(conn, where, first_step, last=False), _id_at(conn, where, last_step, last=True)}
    # The blocks and the summary count the whole series: read them for the whole series only.
    expected = (
        series_lod.worth_it(conn, run_id, key, first_step, last_step, buckets)
        if since_step is None
        else 0
    )
    found = (
        series_lod.extreme_ids(conn, run_id, key, first_step, last_step, buckets)
        if expected
        else None
    )
    if found is not None and found[1] == expected:
        ids, total = found
    elif conn.dialect.name == "sqlite":
        ids, total = _sqlite_extreme_ids(conn, run_id, key, first_step, last_step, buckets)
    else:
        ids, total = _extreme_ids(conn, where, _c.step, first_step, last_step, buckets)
    return Series(_rows_by_id(conn, sorted(ids | ends)), total)


def _at_most(conn: Connection, where: ColumnElement[bool], n: int) -> bool:
    """Whether the series has at most ``n`` values (reads at most ``n + 1`` index entries)."""
    # In index order: a plan that stops after n + 1 entries, never a bitmap of the series.
    probe = select(_c.id).where(where).order_by(_c.step).limit(n + 1).subquery()
    return int(conn.execute(select(func.count()).select_from(probe)).scalar_one()) <= n


def _step_range(conn: Connection, where: ColumnElement[bool]) -> tuple[int, int] | None:
    """The smallest and largest step (two index seeks), or ``None`` when a value has none."""
    if conn.execute(select(_c.id).where(where, _c.step.is_(None)).limit(1)).first():
        return None
    # ORDER BY ... LIMIT 1, not min()/max(): PostgreSQL plans those as a scan of the run's
    # rows when its statistics predate the run (as they do while it is logged).
    ends = [
        conn.execute(select(_c.step).where(where).order_by(order).limit(1)).scalar_one()
        for order in (_c.step, _c.step.desc())
    ]
    return int(ends[0]), int(ends[1])


def _id_at(conn: Connection, where: ColumnElement[bool], step: int, *, last: bool) -> int:
    """The id of the first (or ``last``) row logged at ``step``."""
    pick = func.max(_c.id) if last else func.min(_c.id)
    return int(conn.execute(select(pick).where(where, _c.step == step)).scalar_one())


def _by_id(conn: Connection, where: ColumnElement[bool], buckets: int) -> Series:
    first_id, last_id = conn.execute(select(func.min(_c.id), func.max(_c.id)).where(where)).one()
    ids, total = _extreme_ids(conn, where, _c.id, first_id, last_id, buckets)
    return Series(_rows_by_id(conn, sorted(ids | {first_id, last_id})), total)


def series_length(conn: Connection, run_id: int, key: str) -> int:
    """How many values of metric ``key`` run ``run_id`` logged (0 if none)."""
    stmt = select(func.count()).where(_c.run_id == run_id, _c.key == key)
    return int(conn.execute(stmt).scalar_one())


def _bucket(column: ColumnElement[Any], first: int, last: int, buckets: int) -> ColumnElement[Any]:
    """Bucket number 0..buckets-1 of a metric row, by ``column`` within [first, last]."""
    return ((column - first) * buckets) // (last - first + 1)


def _walks(where: ColumnElement[bool], column: ColumnElement[Any]) -> Any:
    """One statement of `_WALKS_PER_STATEMENT` walks, walk ``i`` taking the parameters
    ``walk<i>_low``, ``_high`` (its bucket), ``_value`` and ``_nan`` (1: look for a NaN): the
    id of the first row along ``column`` in [low, high) holding that value (or NaN).

    ``value + 0``: an expression no planner answers from the (run_id, key, value) index,
    whose seek would read every row of the series holding the value (planners pick it when
    their statistics are stale, as they are right after a run was logged)."""
    unindexed = _c.value + 0

    def walk(i: int) -> Any:
        nan = and_(_c.value.is_(None), bindparam(f"walk{i}_nan", type_=Integer) == 1)
        return (
            select(_c.id)
            .where(
                where,
                column >= bindparam(f"walk{i}_low", type_=BigInteger),
                column < bindparam(f"walk{i}_high", type_=BigInteger),
                or_(unindexed == bindparam(f"walk{i}_value", type_=Double), nan),
            )
            .order_by(column)
            .limit(1)
            .scalar_subquery()
        )

    return select(*(walk(i) for i in range(_WALKS_PER_STATEMENT)))


def _extreme_ids(
    conn: Connection,
    where: ColumnElement[bool],
    column: ColumnElement[Any],
    first: int,
    last: int,
    buckets: int,
) -> tuple[set[int], int]:
    """Ids of the first row (along ``column``) holding each bucket's minimum and maximum value
    and of its first NaN, and the number of values in all buckets: one aggregate over the
    series, then per extreme a walk along ``column`` within its bucket that stops at the first
    row holding it (reading at most the bucket, however many rows tie)."""
    if conn.dialect.name in ("mysql", "mariadb"):
        return _walked_extreme_ids(conn, where, column, first, last, buckets)
    return _correlated_extreme_ids(conn, where, column, first, last, buckets)


def _correlated_extreme_ids(
    conn: Connection,
    where: ColumnElement[bool],
    column: ColumnElement[Any],
    first: int,
    last: int,
    buckets: int,
) -> tuple[set[int], int]:
    """`_extreme_ids` in one statement: the walks are subqueries correlated with the
    aggregate, planned once."""
    bucket = _bucket(column, first, last, buckets)
    agg = (
        select(
            bucket.label("b"),
            func.min(_c.value).label("lo"),
            func.max(_c.value).label("hi"),
            func.count().label("n"),
        )
        .where(where)
        .group_by(bucket)
        .subquery()
    )
    low, high = (_bucket_start(agg.c.b + i, first, last, buckets) for i in (0, 1))
    unindexed = _c.value + 0  # see `_walks`
    first_with = [
        select(_c.id)
        .where(where, column >= low, column < high, condition)
        .order_by(column)
        .limit(1)
        .correlate(agg)
        .scalar_subquery()
        for condition in (unindexed == agg.c.lo, unindexed == agg.c.hi, unindexed.is_(None))
    ]
    ids: set[int] = set()
    total = 0
    for row in conn.execute(select(*first_with, agg.c.n).select_from(agg)):
        ids.update(int(row_id) for row_id in row[:3] if row_id is not None)
        total += int(row[3])
    return ids, total


def _bucket_start(bucket: ColumnElement[Any], first: int, last: int, buckets: int) -> Any:
    """The smallest position of bucket ``bucket`` (see `_bucket`): ``first`` plus the
    ceiling of ``bucket * width / buckets``."""
    return first + (bucket * (last - first + 1) + (buckets - 1)) // buckets


def _walked_extreme_ids(
    conn: Connection,
    where: ColumnElement[bool],
    column: ColumnElement[Any],
    first: int,
    last: int,
    buckets: int,
) -> tuple[set[int], int]:
    """`_extreme_ids` for MySQL/MariaDB, which read the whole series for a bound taken
    from an outer query: the walks are batched into a few statements of `_walks`, each bound
    by parameters."""
    bucket = _bucket(column, first, last, buckets)
    agg = (
        select(bucket, func.min(_c.value), func.max(_c.value), func.count(), func.count(_c.value))
        .where(where)
        .group_by(bucket)
    )
    edges = series_lod.edges(first, last, buckets)
    walks: list[dict[str, Any]] = []  # the parameters of each walk (see `_walks`)
    total = 0
    for b, lo, hi, count, finite in conn.execute(agg):
        total += int(count)
        bounds = {"low": edges[int(b)], "high": edges[int(b) + 1]}
        if finite:
            walks += [{**bounds, "value": lo, "nan": 0}, {**bounds, "value": hi, "nan": 0}]
        if finite < count:
            walks.append({**bounds, "value": None, "nan": 1})
    ids: set[int] = set()
    statement = _walks(where, column)
    empty = {"low": 0, "high": 0, "value": None, "nan": 0}  # pads the last statement
    for start in range(0, len(walks), _WALKS_PER_STATEMENT):
        chunk = walks[start : start + _WALKS_PER_STATEMENT]
        chunk += [empty] * (_WALKS_PER_STATEMENT - len(chunk))
        params = {f"walk{i}_{name}": v for i, walk in enumerate(chunk) for name, v in walk.items()}
        row = conn.execute(statement, params).one()
        ids.update(int(row_id) for row_id in row if row_id is not None)
    return ids, total


# One bucket's extremes, size and number of NaN (NULL) values, from the
# (run_id, key, step, value) index alone.
_SQLITE_BUCKET = (
    "SELECT min(value), max(value), count(*), count(*) - count(value) FROM metrics "
    'WHERE run_id = ? AND "key" = ? AND step >= ? AND step < ?'
)
# The first NaN row of a bucket.
_SQLITE_NAN_ROW = (
    'SELECT min(id) FROM metrics WHERE run_id = ? AND "key" = ? AND value IS NULL '
    "AND step >= ? AND step < ?"
)
# The first row of a bucket (by step, then id) holding a value: a walk along the bucket's
# part of the (run_id, key, step, value) index that stops at the first entry holding it.
_SQLITE_ROW = (
    "SELECT id FROM metrics INDEXED BY ix_metrics_run_key_step_value "
    'WHERE run_id = ? AND "key" = ? AND step >= ? AND step < ? AND value = ? '
    "ORDER BY step LIMIT 1"
)


def _sqlite_extreme_ids(
    conn: Connection, run_id: int, key: str, first: int, last: int, buckets: int
) -> tuple[set[int], int]:
    """[`_extreme_ids`][ato.tracker.read.series._extreme_ids] for SQLite, whose ``GROUP BY`` over
    an expression sorts every row: one index range per bucket instead (in process, so the
    statements cost microseconds), then a walk within the bucket for each extreme's row."""
    edges = series_lod.edges(first, last, buckets)
    # The driver's cursor directly: a few thousand tiny statements, each a few microseconds.
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    ids: set[int] = set()
    try:
        found: list[tuple[int, int, float, float]] = []
        total = 0
        for low, high in itertools.pairwise(edges):
            if low == high:
                continue
            row = cursor.execute(_SQLITE_BUCKET, (run_id, key, low, high)).fetchone()
            total += row[2]
            if row[0] is not None:
                found.append((low, high, row[0], row[1]))
            if row[3]:
                nan_row = (run_id, key, low, high)
                ids.add(cursor.execute(_SQLITE_NAN_ROW, nan_row).fetchone()[0])
        for low, high, *extremes in found:
            for extreme in extremes:
                ids.add(
                    cursor.execute(_SQLITE_ROW, (run_id, key, low, high, extreme)).fetchone()[0]
                )
    finally:
        cursor.close()
    return ids, total


# Points in step order (then time, then logging order); values logged without a step last.
_STEP_ORDER = (_c.step.is_(None), _c.step, _c.timestamp, _c.id)


def _columns() -> tuple[Any, ...]:
    return (_c.key, _c.value, _c.value_class, _c.step, _c.timestamp)


def _rows_by_id(conn: Connection, ids: Sequence[int]) -> list[Metric]:
    rows: list[Metric] = []
    for start in range(0, len(ids), _IN_BATCH):
        batch = ids[start : start + _IN_BATCH]
        rows += _rows(conn, select(*_columns()).where(_c.id.in_(batch)).order_by(_c.id))
    return sorted(rows, key=_step_key)  # stable: equal steps and times stay in id order


def _step_key(row: Metric) -> tuple[bool, int, Any]:
    """The order of ``_STEP_ORDER`` for rows read by id (ids follow logging order)."""
    return (row.step is None, row.step or 0, row.timestamp)


def _rows(conn: Connection, stmt: Any) -> list[Metric]:
    return [
        Metric(key, value if value_class == FINITE else load_value(value, value_class), step, ts)
        for key, value, value_class, step, ts in conn.execute(stmt)
    ]
