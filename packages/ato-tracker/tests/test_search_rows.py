"""The light read of a search (``get_search_rows``), its state fingerprint
(``get_search_state``) and one metric of many runs at once (``get_metric_series_many``),
checked against the full reads they stand in for, on every backend."""

from __future__ import annotations

import math
import time

import pytest

from ato.adict import ADict
from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.search_runs import SearchRun

OBJECTIVES = (("min", "f1"), ("max", "gain"))
#: trial, rung, budget, (f1, gain, c), status
FRONT = [
    (0, 0, 3, (0.0, 9.0, -1.0), "completed"),
    (1, 0, 3, (0.1, 9.0, -1.0), "completed"),
    (2, 1, 9, (0.0, 1.0, -1.0), "completed"),
    (3, 1, 9, (0.3, 3.0, 0.0), "completed"),
    (4, 1, 9, (0.4, 2.0, -1.0), "completed"),
    (5, 1, 9, (0.0, 5.0, 0.5), "completed"),
    (6, 1, 9, (0.0, 9.0, -1.0), "failed"),
]


def _logger(url: str) -> SQLLogger:
    return SQLLogger(ADict(experiment=ADict(project_name="mo", sql=ADict(db_path=url))))


def _write_front(url: str) -> dict[int, int]:
    logger = _logger(url)
    ids = {}
    for trial, rung, budget, values, status in FRONT:
        facts = SearchRun(
            search_id="mo",
            rung=rung,
            trial_id=str(trial),
            bracket=0,
            budget=budget,
            objectives=OBJECTIVES,
            constraint_keys=("c",),
        )
        ids[trial] = logger.start_search_run(facts, {"x": trial, "model": {"w": trial % 2}})
        if status == "completed":
            for key, value in zip(("f1", "gain", "c"), values, strict=True):
                logger.log_metric(f"search/{key}", value, rung)
        logger.finish(status)
    logger.close()
    return ids


def test_the_light_read_gives_the_full_reads_answer_and_rows(db_url: str) -> None:
    _write_front(db_url)
    finder = SQLFinder(db_url, must_exist=True)
    for metric, mode in [(None, None), ("search/gain", None), ("search/f1", "max")]:
        full = finder.get_search("mo", metric=metric, mode=mode)
        light = finder.get_search_rows("mo", metric=metric, mode=mode)
        assert full is not None and light is not None
        assert light.answer == full.answer
        assert light.summaries == full.summaries and light.metric_keys == full.metric_keys
        assert [r.id for r in light.runs] == [r.id for r in full.runs]
        assert [r.status for r in light.runs] == [r.status for r in full.runs]
        assert [r.tags for r in light.runs] == [r.tags for r in full.runs]
        assert [r.config for r in light.runs] == [r.config.to_dict() for r in full.runs]
    assert finder.get_search_rows("nope") is None and finder.get_search_state("nope") is None
    assert finder.get_search_rows("mo", project_name="other") is None


def test_the_state_changes_with_every_write_a_reader_shows(db_url: str) -> None:
    ids = _write_front(db_url)
    finder = SQLFinder(db_url, must_exist=True)
    rows = finder.get_search_rows("mo")
    assert rows is not None
    seen = [finder.get_search_state("mo")]
    assert seen[0] == rows.state == finder.get_search_state("mo", project_name="mo")

    def changed() -> None:
        state = finder.get_search_state("mo")
        assert state is not None and state not in seen
        seen.append(state)

    logger = _logger(db_url)
    logger.mark_search_answer(ids[3])  # a tag added to a finished run
    changed()
    facts = SearchRun(search_id="mo", rung=1, trial_id="7", bracket=0, budget=9.0)
    logger.start_search_run(facts, {"x": 7})  # a run added
    changed()
    logger.log_metric("search/f1", 0.5, 1)
    logger.flush()  # a metric value stored
    changed()
    logger.finish("failed")  # a status stored
    changed()
    logger.close()
    assert finder.get_search_state("mo") == seen[-1]  # nothing written since


def test_a_run_read_as_crashed_changes_the_state_without_a_write(db_url: str) -> None:
    _write_front(db_url)
    logger = _logger(db_url)
    logger.start_search_run(SearchRun(search_id="mo", rung=0, trial_id="9", bracket=0), {})
    finder = SQLFinder(db_url, must_exist=True, crash_timeout=1.0)
    before = finder.get_search_state("mo")
    rows = finder.get_search_rows("mo")
    assert rows is not None and rows.runs[-1].status == "running"
    time.sleep(1.6)  # no heartbeat within the timeout (they come every 15 s)
    after = finder.get_search_state("mo")
    assert after != before
    rows = finder.get_search_rows("mo")
    assert rows is not None and rows.runs[-1].status == "crashed" and rows.state == after
    logger.finish()
    logger.close()


def _log_series(url: str, series: dict[str, list[float]], steps: list[int | None]) -> int:
    logger = SQLLogger(ADict(experiment=ADict(project_name="many", sql=ADict(db_path=url))))
    run_id = logger.run()
    for i, step in enumerate(steps):
        for key, values in series.items():
            if i < len(values):
                logger.log_metric(key, values[i], step)
    logger.finish()
    logger.close()
    return run_id


@pytest.mark.parametrize("max_points", [4, 10, 101, 500, None])
def test_many_series_are_each_downsampled_as_one_series_is(db_url: str, max_points: int | None):
    n = 1000
    wave = [math.sin(i / 7.0) + (50.0 if i == 333 else 0.0) for i in range(n)]
    odd = {17: math.nan, 410: math.inf, 777: -math.inf, 778: math.nan}
    runs = [
        _log_series(db_url, {"loss": wave}, list(range(n))),
        _log_series(db_url, {"loss": [1.0] * n}, list(range(n))),  # every value tied
        _log_series(db_url, {"loss": [odd.get(i, v) for i, v in enumerate(wave)]}, list(range(n))),
        _log_series(db_url, {"loss": wave[:300]}, [i * i for i in range(300)]),  # uneven steps
        _log_series(db_url, {"loss": wave[:50]}, list(range(50))),  # shorter than the limit
        _log_series(db_url, {"loss": wave[:200]}, [None] * 200),  # no steps: logging order
        _log_series(db_url, {"acc": wave[:20]}, list(range(20))),  # another key only
    ]
    finder = SQLFinder(db_url, must_exist=True)
    asked = [runs[3], 10**9, *runs]
    many = finder.get_metric_series_many(asked, "loss", max_points)
    assert list(many) == [runs[3], runs[0], runs[1], runs[2], runs[4], runs[5]]
    for run_id in runs[:6]:
        one = finder.get_metric_series(run_id, "loss", max_points)
        got = many[run_id]
        assert got.total == one.total and len(got.points) == len(one.points)
        for a, b in zip(got.points, one.points, strict=True):
            assert (a.step, a.timestamp, a.key) == (b.step, b.timestamp, b.key)
            assert a.value == b.value or (math.isnan(a.value) and math.isnan(b.value))
    with pytest.raises(ValueError, match="at least 4"):
        finder.get_metric_series_many(runs, "loss", 3)


def test_the_front_is_the_brute_force_non_dominated_set() -> None:
    """The sorted filter of ``answers._non_dominated`` against checking every pair, on random
    points with ties and duplicates in two and three dimensions."""
    import random

    from ato.tracker.read.answers import _dominates, _non_dominated

    rng = random.Random(0)
    for size in (2, 3):
        for n in (1, 5, 40, 300):
            points = [tuple(float(rng.randint(0, 6)) for _ in range(size)) for _ in range(n)]
            brute = [i for i, p in enumerate(points) if not any(_dominates(q, p) for q in points)]
            assert _non_dominated(points) == brute
