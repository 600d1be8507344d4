"""One metric of many runs, each as ``ato.tracker.read.series`` returns it, with fewer
statements (a compare chart of 100 runs).

The runs' metric summaries (one statement) say how many values each run logged under the key.
A series short enough to be returned whole (at most ``max_points`` values) is read for all such
runs together: one statement per 500 runs for the row ids through the ``(run_id, key, step,
value)`` index, one per 500 rows for the rows. The longer ones are downsampled together on
SQLite and PostgreSQL, their index pass in one statement per 100 runs
(`ato.tracker.read.manybuckets`); those read from their level of detail (long enough for it),
those with a value logged without a step, and every long series on MySQL/MariaDB are
downsampled one by one by `ato.tracker.read.series.downsampled_series` itself. The points
are the ones `downsampled_series` gives, in the same order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from ..storage.models import MetricRecord
from ..storage.values import FINITE, load_value
from . import manybuckets, series_lod, summaries
from . import series as one
from .queries import batches, in_id_range
from .results import Metric, MetricSeries

_c = MetricRecord.__table__.c


def downsampled_many(
    conn: Connection, run_ids: Sequence[int], key: str, max_points: int | None
) -> dict[int, MetricSeries]:
    """Per run of ``run_ids`` that logged ``key``: its series as
    [`downsampled_series`][ato.tracker.read.series.downsampled_series] returns it (same points,
    same order, same total).

    Raises:
        ValueError: ``max_points`` is below 4.
    """
    if max_points is not None and max_points < one.MIN_POINTS:
        raise ValueError(f"max_points must be at least {one.MIN_POINTS}, got {max_points}")
    ids = [run_id for run_id in dict.fromkeys(run_ids) if in_id_range(run_id)]
    counts = summaries.counts(conn, ids, key)
    found: dict[int, MetricSeries] = {}
    short = [i for i in ids if i in counts and (max_points is None or counts[i] <= max_points)]
    whole = set(short)
    long = [run_id for run_id in ids if run_id in counts and run_id not in whole]
    if long and max_points is not None:
        found |= _downsampled_together(conn, long, key, max_points, counts)
    for run_id in long:  # the rest: downsampled one by one in the database
        if run_id not in found:
            points, total = one.downsampled_series(conn, run_id, key, max_points)
            if points:
                found[run_id] = MetricSeries(run_id, key, points, total)
    kept = _short_ids(conn, short, key)
    for run_id, points in _points(conn, kept, key).items():
        found[run_id] = MetricSeries(run_id, key, points, len(points))
    return {run_id: found[run_id] for run_id in ids if run_id in found}


def _downsampled_together(
    conn: Connection, run_ids: list[int], key: str, max_points: int, counts: dict[int, int]
) -> dict[int, MetricSeries]:
    """The long series of ``run_ids`` whose index pass `ato.tracker.read.manybuckets` runs for
    all of them at once (see there), downsampled; ``counts``: each series' value count (its
    summary). Left out: every series on MySQL/MariaDB, those with a value logged without a
    step, and those `ato.tracker.read.series` reads from their level of detail."""
    if not manybuckets.supported(conn):
        return {}
    buckets = (max_points - 2) // 2
    series = {
        run_id: end
        for run_id, end in manybuckets.ends(conn, run_ids, key).items()
        if not (
            series_lod.wide_enough(end.first, end.last, buckets)
            and series_lod.dense_enough(counts[run_id], end.first, end.last)
        )
    }
    rows = manybuckets.kept_rows(conn, key, series, buckets)
    return {
        run_id: MetricSeries(run_id, key, points, counts[run_id])
        for run_id, points in _in_step_order(rows, key).items()
    }


def _short_ids(conn: Connection, run_ids: list[int], key: str) -> dict[int, list[int]]:
    """The row ids of metric ``key`` of each of ``run_ids`` (series kept whole): one
    statement per 500 runs through the ``(run_id, key, step, value)`` index."""
    kept: dict[int, list[int]] = defaultdict(list)
    for batch in batches(run_ids):
        stmt = select(_c.run_id, _c.id).where(_c.key == key, _c.run_id.in_(list(batch)))
        for run_id, row_id in conn.execute(stmt).all():
            kept[run_id].append(row_id)
    return kept


def _points(conn: Connection, kept: dict[int, list[int]], key: str) -> dict[int, list[Metric]]:
    """The kept rows of each run as `Metric` rows in step order (then time, then id)."""
    owner = {row_id: run_id for run_id, row_ids in kept.items() for row_id in row_ids}
    rows: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for batch in batches(sorted(owner)):
        stmt = select(_c.id, _c.value, _c.value_class, _c.step, _c.timestamp).where(
            _c.id.in_(list(batch))
        )
        for row in conn.execute(stmt).all():
            rows[owner[row[0]]].append(tuple(row))
    return _in_step_order(rows, key)


def _in_step_order(rows: dict[int, list[tuple[Any, ...]]], key: str) -> dict[int, list[Metric]]:
    """Per run, its ``(id, value, value_class, step, timestamp)`` rows as `Metric` rows in
    step order (then time, then id; values without a step last)."""
    out: dict[int, list[Metric]] = {}
    for run_id, found in rows.items():
        found.sort(key=lambda r: (r[3] is None, r[3] or 0, r[4], r[0]))
        out[run_id] = [
            Metric(key, v if c == FINITE else load_value(v, c), step, ts)
            for _, v, c, step, ts in found
        ]
    return out
