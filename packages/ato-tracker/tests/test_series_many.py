"""One metric of many long series read together (``get_metric_series_many`` through
``ato.tracker.read.manybuckets``) against each series downsampled alone by the index pass, on
every backend: same points, same totals, and a statement count that does not grow with the
runs (SQLite, PostgreSQL)."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import Engine, event

from ato.adict import ADict
from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.read import manybuckets

N = 600


def _log(url: str, points: list[tuple[float, int | None]]) -> int:
    logger = SQLLogger(ADict(experiment=ADict(project_name="many", sql=ADict(db_path=url))))
    run_id = logger.run()
    for value, step in points:
        logger.log_metric("loss", value, step)
    logger.finish()
    logger.close()
    return run_id


def _runs(url: str) -> list[int]:
    wave = [math.sin(i / 5.0) + (9.0 if i == 211 else 0.0) for i in range(N)]
    dips = {3: math.nan, 4: math.nan, 100: math.inf, 101: -math.inf, 402: math.nan}
    twice = [(v, i // 2) for i, v in enumerate(round(w, 1) for w in wave)]  # 2 values a step
    nan_stretch = [(math.nan if 50 <= i < 250 else v, i) for i, v in enumerate(wave)]
    return [
        _log(url, [(v, i) for i, v in enumerate(wave)]),
        _log(url, [(dips.get(i, v), i) for i, v in enumerate(wave)]),
        _log(url, twice),  # ties on one step and across steps
        _log(url, [(1.0, i) for i in range(N)]),  # every value tied
        _log(url, [(v, i - 300) for i, v in enumerate(wave)]),  # negative steps
        _log(url, [(v, 7 * i + i % 3) for i, v in enumerate(wave)]),  # uneven steps
        _log(url, nan_stretch),  # buckets of NaN only
        _log(url, [(v, 0 if i < 5 else i) for i, v in enumerate(wave)]),  # first step repeated
        _log(url, [(float(i % 17), i) for i in range(3_000)]),  # dense: its level of detail
        _log(url, [(v, None) for v in wave[:100]]),  # no steps: logging order
    ]


def _same(got, one) -> None:
    assert got.total == one.total and len(got.points) == len(one.points)
    for a, b in zip(got.points, one.points, strict=True):
        assert (a.step, a.timestamp, a.key) == (b.step, b.timestamp, b.key)
        assert a.value == b.value or (math.isnan(a.value) and math.isnan(b.value))


@pytest.mark.parametrize("max_points", [4, 11, 60, 250])
def test_long_series_read_together_keep_the_points_of_each_alone(
    db_url: str, max_points: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(manybuckets, "RUNS_PER_STATEMENT", 3)  # several bucket statements
    runs = _runs(db_url)
    finder = SQLFinder(db_url, must_exist=True)
    many = finder.get_metric_series_many([*reversed(runs), 10**9], "loss", max_points)
    assert list(many) == list(reversed(runs))
    for run_id in runs:
        _same(many[run_id], finder.get_metric_series(run_id, "loss", max_points))


def test_long_series_cost_the_same_statements_for_two_runs_or_ten(db_url: str) -> None:
    """SQLite and PostgreSQL downsample every run in one statement; MySQL/MariaDB plan that
    statement as a scan of the whole series, so they read one series at a time."""
    wave = [(math.cos(i / 3.0), i) for i in range(300)]
    runs = [_log(db_url, wave) for _ in range(10)]
    finder = SQLFinder(db_url, must_exist=True)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    counted = []
    event.listen(Engine, "after_cursor_execute", count)
    try:
        for ids in (runs[:2], runs):
            statements.clear()
            finder.get_metric_series_many(ids, "loss", 40)
            counted.append(len(statements))
    finally:
        event.remove(Engine, "after_cursor_execute", count)
    if db_url.startswith("mysql"):
        assert counted[0] < counted[1], counted
    else:
        assert counted[0] == counted[1] <= 6, counted
