"""metric_series (downsampled in SQL), project_activity and runs_with_tag, on every backend."""

from __future__ import annotations

import math
from typing import Any

import pytest

from ato.tracker import SQLLogger
from ato.tracker.read.overview import project_activity, runs_with_tag
from ato.tracker.read.series import downsampled_series, metric_series, series_length
from ato.tracker.storage.database import get_engine


def _log(url: str, project: str = "proj", tags: Any = None, **series: list[float]) -> int:
    logger = SQLLogger({"experiment": {"project_name": project, "sql": {"db_path": url}}})
    run_id = logger.run(tags=tags)
    length = max((len(v) for v in series.values()), default=0)
    for step in range(length):  # interleaved keys, as a training loop logs them
        for key, values in series.items():
            if step < len(values):
                logger.log_metric(key, values[step], step)
    logger.finish()
    return run_id


def _reference(
    values: list[float], max_points: int, positions: list[int] | None = None
) -> list[int]:
    """Positions the module docstring promises, computed in Python over the full series: the
    first and last, and per bucket the first position of its minimum and of its maximum.
    Buckets split the range of ``positions`` (the steps; default 0..n-1) evenly."""
    n = len(values)
    if n <= max_points:
        return list(range(n))
    where = positions or list(range(n))
    buckets = (max_points - 2) // 2
    first, width = where[0], where[-1] - where[0] + 1
    groups: dict[int, list[int]] = {}
    for position in range(n):
        groups.setdefault((where[position] - first) * buckets // width, []).append(position)
    keep = {0, n - 1}
    for members in groups.values():
        keep.add(min(members, key=lambda p: (values[p], p)))
        keep.add(min(members, key=lambda p: (-values[p], p)))
    return sorted(keep)


@pytest.mark.parametrize("max_points", [4, 10, 101, 500])
def test_downsampled_series_keeps_first_last_and_bucket_extremes(db_url: str, max_points: int):
    values = [
        math.sin(i / 7.0) + (50.0 if i == 333 else 0.0) - (40.0 if i == 777 else 0.0)
        for i in range(1000)
    ]
    run_id = _log(db_url, loss=values, other=[0.0] * 1000)
    with get_engine(db_url).connect() as conn:
        points = metric_series(conn, run_id, "loss", max_points)
        assert series_length(conn, run_id, "loss") == 1000
        assert downsampled_series(conn, run_id, "loss", max_points) == (points, 1000)
    assert len(points) <= max_points
    assert [p.step for p in points] == _reference(values, max_points)
    assert [p.value for p in points] == [values[p.step] for p in points]
    steps = [p.step for p in points]
    assert steps[0] == 0 and steps[-1] == 999
    assert 333 in steps and 777 in steps  # the spike and the dip survive any bucket size


def test_short_series_comes_back_whole_in_logging_order(db_url: str):
    values = [3.0, float("nan"), 1.0, 2.0]
    run_id = _log(db_url, acc=values)
    with get_engine(db_url).connect() as conn:
        whole = metric_series(conn, run_id, "acc")
        capped = metric_series(conn, run_id, "acc", max_points=4)
        assert metric_series(conn, run_id, "nope", 10) == []
        assert metric_series(conn, 10_000, "acc") == []
    assert [p.step for p in whole] == [0, 1, 2, 3] == [p.step for p in capped]
    assert whole[0].value == 3.0 and math.isnan(whole[1].value)
    assert all(p.timestamp.tzinfo is not None for p in whole)


def test_max_points_below_four_is_refused(sqlite_url: str):
    run_id = _log(sqlite_url, acc=[1.0])
    with get_engine(sqlite_url).connect() as conn, pytest.raises(ValueError, match="at least 4"):
        metric_series(conn, run_id, "acc", 3)


def test_constant_series_downsamples_to_first_and_last_per_bucket(db_url: str):
    run_id = _log(db_url, flat=[1.5] * 300)
    with get_engine(db_url).connect() as conn:
        points = metric_series(conn, run_id, "flat", 20)
    assert len(points) <= 20
    assert points[0].step == 0 and points[-1].step == 299
    assert {p.value for p in points} == {1.5}


def test_project_activity_counts_runs_and_latest_time(db_url: str):
    first = _log(db_url, "a", acc=[1.0])
    _log(db_url, "a", acc=[1.0])
    _log(db_url, "b")
    with get_engine(db_url).connect() as conn:
        activity = {item.project.name: item for item in project_activity(conn)}
    assert set(activity) == {"a", "b"}
    assert activity["a"].run_count == 2 and activity["b"].run_count == 1
    assert activity["a"].last_activity is not None
    assert activity["a"].last_activity.tzinfo is not None
    assert first > 0


def test_runs_with_tag_matches_exactly(db_url: str):
    wanted = _log(db_url, tags=["search:a_1%", "round:0"])
    _log(db_url, tags=["search:ab1x", "round:0"])  # would match a LIKE with _ and % unescaped
    _log(db_url, tags=["search:a_1%%"])  # contains the tag as a substring
    unicode_run = _log(db_url, tags=['search:ü"q\\', "x"])
    with get_engine(db_url).connect() as conn:
        assert [r.id for r in runs_with_tag(conn, "search:a_1%")] == [wanted]
        assert [r.id for r in runs_with_tag(conn, 'search:ü"q\\')] == [unicode_run]
        assert runs_with_tag(conn, "search:none") == []
        found = runs_with_tag(conn, "round:0", with_metrics=True)
    assert {r.id for r in found} == {wanted, wanted + 1}


def test_a_series_without_steps_is_bucketed_along_its_logging_order(db_url: str):
    values = [math.cos(i / 9.0) + (30.0 if i == 123 else 0.0) for i in range(600)]
    logger = SQLLogger({"experiment": {"project_name": "p", "sql": {"db_path": db_url}}})
    run_id = logger.run()
    for value in values:
        logger.log_metric("loss", value)  # no step
    logger.finish()
    with get_engine(db_url).connect() as conn:
        points, total = downsampled_series(conn, run_id, "loss", 50)
    assert total == 600 and len(points) <= 50
    assert all(p.step is None for p in points)
    kept = [values.index(p.value) for p in points]
    assert kept == _reference(values, 50) and 123 in kept


def test_uneven_steps_are_bucketed_by_step(db_url: str):
    steps = [s * s for s in range(300)]  # dense at the start, sparse at the end
    values = [math.sin(s / 11.0) for s in range(300)]
    logger = SQLLogger({"experiment": {"project_name": "p", "sql": {"db_path": db_url}}})
    run_id = logger.run()
    for step, value in zip(steps, values, strict=True):
        logger.log_metric("loss", value, step)
    logger.finish()
    with get_engine(db_url).connect() as conn:
        points, total = downsampled_series(conn, run_id, "loss", 40)
    assert total == 300
    assert [steps.index(p.step) for p in points] == _reference(values, 40, steps)


def _reference_with_gaps(values: list[float], max_points: int) -> list[int]:
    """`_reference` for a series holding NaN and infinities: extremes rank infinities beyond
    every finite value and skip NaN; each bucket also keeps its first NaN."""
    n, buckets = len(values), (max_points - 2) // 2
    groups: dict[int, list[int]] = {}
    for position in range(n):
        groups.setdefault(position * buckets // n, []).append(position)
    keep = {0, n - 1}
    for members in groups.values():
        ranked = [p for p in members if not math.isnan(values[p])]
        if ranked:
            keep.add(min(ranked, key=lambda p: (values[p], p)))
            keep.add(min(ranked, key=lambda p: (-values[p], p)))
        nans = [p for p in members if math.isnan(values[p])]
        keep.update(nans[:1])
    return sorted(keep)


@pytest.mark.parametrize(
    ("max_points", "odd"),
    [
        (10, {17: math.nan, 410: math.inf, 777: -math.inf}),
        (50, {0: math.nan, 1: math.nan, 500: math.inf, 999: math.nan}),
        (101, dict.fromkeys(range(300, 420), math.nan) | {650: -math.inf, 651: math.inf}),
    ],
)
def test_downsampled_series_keeps_a_nan_per_bucket_and_reads_infinities_back(
    db_url: str, max_points: int, odd: dict[int, float]
):
    values = [odd.get(i, math.cos(i / 9.0)) for i in range(1000)]
    run_id = _log(db_url, loss=values)
    with get_engine(db_url).connect() as conn:
        points = metric_series(conn, run_id, "loss", max_points)
        whole = metric_series(conn, run_id, "loss")
    assert [p.step for p in points] == _reference_with_gaps(values, max_points)
    for point in [*points, *whole]:
        expected = values[point.step]
        assert point.value == expected or (math.isnan(expected) and math.isnan(point.value))
    assert [str(p.value) for p in whole] == [str(v) for v in values]
