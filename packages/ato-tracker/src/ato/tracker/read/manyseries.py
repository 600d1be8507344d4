"""One metric of many runs, each downsampled as ``ato.tracker.read.series`` does, in a few
statements for all of them (a compare chart of 100 runs).

`ato.tracker.read.series` downsamples one series inside the database with a few hundred tiny
statements; for a hundred runs that is tens of thousands of statements (and as many round
trips to a server). Here one statement per 500 runs reads the key's ``(run id, id, step,
value)`` entries in the order of the ``(run_id, key, step, value)`` index (no table rows, no
sort), and each run is cut into the same buckets in Python: a bucket's rows are a slice of the
run's steps (found by bisection), and its extremes are found by the built-in ``min``/``max``
and ``list.index`` over that slice, so the kept rows are exactly the ones
`ato.tracker.read.series.downsampled_series` keeps (the first row along the steps holding
each bucket's smallest and largest value, its first non-finite row, and the first and last
row of the series). A second statement per 500 kept rows reads their timestamps. Runs with a
value logged without a step are handed to `downsampled_series` itself.
"""

from __future__ import annotations

import bisect
import itertools
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Connection, select

from ..storage.models import MetricRecord
from ..storage.values import FINITE, load_value
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
    entries: dict[int, tuple[list[int], list[int | None], list[float | None]]] = {}
    ids = [run_id for run_id in dict.fromkeys(run_ids) if in_id_range(run_id)]
    for batch in batches(ids):
        stmt = (
            select(_c.run_id, _c.id, _c.step, _c.value)
            .where(_c.key == key, _c.run_id.in_(list(batch)))
            .order_by(_c.run_id, _c.step, _c.value, _c.id)
        )
        grouped: dict[int, list[Any]] = defaultdict(list)
        for row in conn.execute(stmt):
            grouped[row[0]].append(row)
        for run_id, rows in grouped.items():
            columns = list(zip(*rows, strict=True))
            entries[run_id] = (list(columns[1]), list(columns[2]), list(columns[3]))
    kept: dict[int, list[int]] = {}
    found: dict[int, MetricSeries] = {}
    for run_id, (row_ids, steps, values) in entries.items():
        if any(step is None for step in steps):  # buckets along the logging order
            points, total = one.downsampled_series(conn, run_id, key, max_points)
            found[run_id] = MetricSeries(run_id, key, points, total)
        elif max_points is None or len(row_ids) <= max_points:
            kept[run_id] = row_ids
        else:
            kept[run_id] = _kept(row_ids, cast(list[int], steps), values, (max_points - 2) // 2)
    for run_id, points in _points(conn, kept, key).items():
        found[run_id] = MetricSeries(run_id, key, points, len(entries[run_id][0]))
    return {run_id: found[run_id] for run_id in ids if run_id in found}


def _kept(
    row_ids: list[int], steps: list[int], values: list[float | None], buckets: int
) -> list[int]:
    """The ids kept of one run whose rows are in (step, value, id) order (NULL values, the
    non-finite ones, first or last among a step's rows, as the database sorts them)."""
    first_step, last_step = steps[0], steps[-1]
    # The first row at the first step, the last row at the last step (by id, as `series`).
    ends = {
        min(row_ids[: bisect.bisect_right(steps, first_step)]),
        max(row_ids[bisect.bisect_left(steps, last_step) :]),
    }
    edges = one._edges(first_step, last_step, buckets)
    out = set(ends)
    for low, high in itertools.pairwise(edges):
        a, b = bisect.bisect_left(steps, low), bisect.bisect_left(steps, high)
        if a == b:
            continue
        part = values[a:b]
        if None in part:
            out.update(_extremes_with_nulls(row_ids[a:b], part))
            continue
        # The first row holding an extreme along the steps: rows are in (step, value, id)
        # order, so the first in list order (smallest step, then smallest id).
        finite = cast(list[float], part)
        out.add(row_ids[a + finite.index(min(finite))])
        out.add(row_ids[a + finite.index(max(finite))])
    return sorted(out)


def _extremes_with_nulls(row_ids: list[int], values: list[float | None]) -> list[int]:
    """A bucket with non-finite values: the first row holding its smallest and its largest
    finite value, and its first non-finite row (smallest id, as `series` picks it)."""
    finite = [(v, i) for i, v in enumerate(values) if v is not None]
    out = [min(row_ids[i] for i, v in enumerate(values) if v is None)]
    if finite:
        low = min(v for v, _ in finite)
        high = max(v for v, _ in finite)
        out.append(row_ids[next(i for v, i in finite if v == low)])
        out.append(row_ids[next(i for v, i in finite if v == high)])
    return out


def _points(conn: Connection, kept: dict[int, list[int]], key: str) -> dict[int, list[Metric]]:
    """The kept rows of each run as `Metric` rows in step order (then time, then id)."""
    owner = {row_id: run_id for run_id, row_ids in kept.items() for row_id in row_ids}
    rows: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for batch in batches(sorted(owner)):
        stmt = select(_c.id, _c.value, _c.value_class, _c.step, _c.timestamp).where(
            _c.id.in_(list(batch))
        )
        for row in conn.execute(stmt):
            rows[owner[row[0]]].append(tuple(row))
    out: dict[int, list[Metric]] = {}
    for run_id, found in rows.items():
        found.sort(key=lambda r: (r[3] is None, r[3] or 0, r[4], r[0]))
        out[run_id] = [
            Metric(key, v if c == FINITE else load_value(v, c), step, ts)
            for _, v, c, step, ts in found
        ]
    return out
