"""The series of one metric key for many runs at once (learning curves of a whole search).

One statement per batch of runs reads the key's rows through the ``(run_id, key, step,
value)`` index; a run with more than ``max_points`` values keeps its first and last value and
values evenly spaced between them in step order (a thinning for overview charts of many runs;
a single run's chart uses the extreme-keeping downsampling of ``ato.tracker.read.series``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Connection, select

from ..storage.models import MetricRecord
from ..storage.values import FINITE, load_value
from .queries import batches, in_id_range
from .results import Metric, MetricSeries

_c = MetricRecord.__table__.c


def metric_curves(
    conn: Connection, run_ids: Sequence[int], key: str, max_points: int | None = None
) -> dict[int, MetricSeries]:
    """Per run id of ``run_ids`` that logged ``key``, its series in step order (values without
    a step last, ties in logging order), at most ``max_points`` points (``None``: all).

    Raises:
        ValueError: ``max_points`` is below 2.
    """
    if max_points is not None and max_points < 2:
        raise ValueError(f"max_points must be at least 2, got {max_points}")
    grouped: dict[int, list[Metric]] = defaultdict(list)
    ids = [run_id for run_id in dict.fromkeys(run_ids) if in_id_range(run_id)]
    for batch in batches(ids):
        stmt = (
            select(_c.run_id, _c.value, _c.value_class, _c.step, _c.timestamp)
            .where(_c.key == key, _c.run_id.in_(list(batch)))
            .order_by(_c.run_id, _c.id)
        )
        for run_id, value, value_class, step, stamp in conn.execute(stmt):
            if value_class != FINITE or value is None:
                value = load_value(value, value_class)
            grouped[run_id].append(Metric(key, value, step, stamp))
    curves = {}
    for run_id, points in grouped.items():
        points.sort(key=lambda p: (p.step is None, p.step or 0))  # stable: logging order
        curves[run_id] = MetricSeries(run_id, key, _thinned(points, max_points), len(points))
    return curves


def _thinned(points: list[Metric], max_points: int | None) -> list[Metric]:
    n = len(points)
    if max_points is None or n <= max_points:
        return points
    return [points[round(i * (n - 1) / (max_points - 1))] for i in range(max_points)]
