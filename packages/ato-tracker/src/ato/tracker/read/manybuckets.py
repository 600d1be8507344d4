"""The bucket extremes of one metric of many long series in one statement per 100 runs (the
index pass of `ato.tracker.read.series`, for a compare chart of 100 runs).

`ato.tracker.read.series` downsamples one series with a few statements per bucket on SQLite
(about 300 for 200 points) and a few per series elsewhere: a chart of 100 runs cost some
30,000 statements, 2.4 s per key for 100 runs x 5,000 steps. Here, for all runs together:

1. One statement gives each series' first and last step, the first row at the first step, the
   last row at the last step, and whether it holds a NaN (index seeks only). A series with a
   value logged without a step (its step range is ``NULL`` at one end) is left to the caller.
2. One statement per 100 runs builds every run's buckets in SQL (a recursive count over the
   bucket numbers joined to the runs' first step and width, the edges of
   `ato.tracker.read.series_lod.edges`) and finds, per bucket, the row holding its minimum,
   the row holding its maximum and (for a series with NaN) its first NaN row, each a
   correlated subquery over the bucket's part of the ``(run_id, key, step, value)`` index,
   and returns those rows (and the series' first and last) in the same statement.

The rows are the ones the index pass keeps: the first along the steps holding the extreme
(ties on one step: the lowest id). SQLite takes each from one pass over the bucket (a
``min()``/``max()`` aggregate's bare column is read from the first row holding the extreme
in scan order, here index order: SQLite's implementation, which its documentation calls an
arbitrary one of the tied rows, so the tests check ties against the index pass); PostgreSQL from a top-one sort of the bucket by value, step
and id. The NaN row is the one the index pass keeps on that backend: the lowest id on SQLite,
the first along the steps elsewhere. MySQL/MariaDB plan a bound taken from an outer row as a
scan of the whole series, so their series are left to the caller (no statement runs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    and_,
    case,
    column,
    exists,
    func,
    literal,
    select,
    true,
    union_all,
    values,
)

from ..storage.models import MetricRecord, RunRecord

#: Runs per bucket statement (SQLite allows 500 terms in a compound SELECT; VALUES lists
#: count as one each).
RUNS_PER_STATEMENT = 100
_metrics = MetricRecord.__table__
_m = _metrics.c
_runs = RunRecord.__table__
_r = _runs.c
_BACKENDS = ("sqlite", "postgresql")


class Ends(NamedTuple):
    """A series' step range, the ids of its first and last row, whether it holds a NaN."""

    first: int
    last: int
    first_id: int
    last_id: int
    has_nan: bool


def supported(conn: Connection) -> bool:
    """Whether this backend reads many series' buckets in one statement (SQLite, PostgreSQL)."""
    return conn.dialect.name in _BACKENDS


def ends(conn: Connection, run_ids: Sequence[int], key: str) -> dict[int, Ends]:
    """Per run of ``run_ids`` that logged ``key`` with a step on every value: its `Ends`,
    in one statement of index seeks."""

    def end(m: Any, descending: bool) -> Any:
        order = m.c.step.desc() if descending else m.c.step
        where = and_(m.c.run_id == _r.id, m.c.key == key)
        bound = select(m.c.step).where(where).order_by(order).limit(1)
        return bound.correlate(_runs).scalar_subquery()  # also two levels down

    series = and_(_m.run_id == _r.id, _m.key == key)
    inner = _metrics.alias()  # the step bounds inside the row-id subqueries: own FROM
    first_id = select(func.min(_m.id)).where(series, _m.step == end(inner, False))
    last_id = select(func.max(_m.id)).where(series, _m.step == end(inner, True))
    nan = exists().where(series, _m.value.is_(None))
    stmt = select(
        _r.id,
        end(_metrics, False),
        end(_metrics, True),
        first_id.scalar_subquery(),
        last_id.scalar_subquery(),
        case((nan, 1), else_=0),
    ).where(_r.id.in_(list(run_ids)))
    # A NULL step sorts first ascending (SQLite, MySQL) or first descending (PostgreSQL).
    return {
        int(run_id): Ends(int(lo), int(hi), int(lo_id), int(hi_id), bool(has_nan))
        for run_id, lo, hi, lo_id, hi_id, has_nan in conn.execute(stmt)
        if None not in (lo, hi, lo_id, hi_id)
    }


def kept_rows(
    conn: Connection, key: str, series: dict[int, Ends], buckets: int
) -> dict[int, list[tuple[Any, ...]]]:
    """Per run of ``series``: the rows its index pass keeps, as ``(id, value, value_class,
    step, timestamp)`` in no particular order: its first and last row and, per bucket
    (``buckets`` per run), its first minimum, first maximum and, if the series holds a NaN, its
    NaN row; one statement per `RUNS_PER_STATEMENT` runs.

    Raises:
        ValueError: the backend is not one of `supported`'s.
    """
    if not supported(conn):
        raise ValueError(f"{conn.dialect.name} reads series one at a time")
    found: dict[int, dict[int, tuple[Any, ...]]] = {run_id: {} for run_id in series}
    runs = list(series.items())
    for start in range(0, len(runs), RUNS_PER_STATEMENT):
        chunk = runs[start : start + RUNS_PER_STATEMENT]
        for run_id, *row in conn.execute(_statement(conn.dialect.name, key, chunk, buckets)).all():
            found[run_id][row[0]] = tuple(row)  # a row kept twice (min and max) once
    return {run_id: list(rows.values()) for run_id, rows in found.items()}


def _statement(backend: str, key: str, runs: list[tuple[int, Ends]], count: int) -> Any:
    """The statement of `kept_rows` for ``runs`` on ``backend``, ``count`` buckets each."""
    per_run = values(
        *(column(name, BigInteger) for name in ("run_id", "start", "span", "nan", "a", "z")),
        name="p",
    ).data(
        [
            (run_id, end.first, end.last - end.first + 1, int(end.has_nan), end.first_id,
             end.last_id)
            for run_id, end in runs
        ]
    )  # fmt: skip
    p = per_run.cte("p")
    n = select(literal(0, BigInteger).label("b")).cte("n", recursive=True)
    n = n.union_all(select(n.c.b + 1).where(n.c.b + 1 < count))
    e = (
        select(
            p.c.run_id,
            p.c.nan,
            (p.c.start + (n.c.b * p.c.span + (count - 1)) // count).label("low"),
            (p.c.start + ((n.c.b + 1) * p.c.span + (count - 1)) // count).label("high"),
        )
        .select_from(p.join(n, true()))
        .cte("e")
    )
    bucket = and_(_m.run_id == e.c.run_id, _m.key == key, _m.step >= e.c.low, _m.step < e.c.high)
    low, high, nan = _rows_of(backend, bucket)
    k = union_all(
        select(e.c.run_id, low),
        select(e.c.run_id, high),
        select(e.c.run_id, nan).where(e.c.nan == 1),
        select(p.c.run_id, p.c.a),
        select(p.c.run_id, p.c.z),
    ).cte("k")
    kept = k.c[1]
    return select(k.c.run_id, _m.id, _m.value, _m.value_class, _m.step, _m.timestamp).join_from(
        k, _metrics, _m.id == kept
    )


def _rows_of(backend: str, bucket: ColumnElement[bool]) -> tuple[Any, Any, Any]:
    """The subqueries giving a bucket's row of its first minimum, of its first maximum and its
    NaN row (see the module docstring), for ``backend``; ``bucket``: its rows."""
    if backend == "sqlite":
        # The id of the row min()/max() took its value from (a bare column), the first in
        # scan order: the bucket's range of the (run_id, key, step, value) index, the only
        # index serving a step range. One group (the bucket's rows), none (NULL) when it holds
        # no finite value.
        low, high = (
            select(_m.id)
            .where(bucket)
            .group_by(_m.run_id)
            .having(extreme(_m.value).is_not(None))
            .scalar_subquery()
            for extreme in (func.min, func.max)
        )
        nan = select(func.min(_m.id)).where(bucket, _m.value.is_(None)).scalar_subquery()
        return low, high, nan
    low, high = (
        select(_m.id)
        .where(bucket, _m.value.is_not(None))
        .order_by(order, _m.step, _m.id)
        .limit(1)
        .scalar_subquery()
        for order in (_m.value, _m.value.desc())
    )
    nan = (
        select(_m.id)
        .where(bucket, _m.value.is_(None))
        .order_by(_m.step, _m.id)
        .limit(1)
        .scalar_subquery()
    )
    return low, high, nan
