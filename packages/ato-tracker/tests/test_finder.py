from __future__ import annotations

import math

import pytest

from ato.adict import ADict
from ato.tracker import InvalidModeError, SQLFinder, SQLLogger


def _run(cfg, metrics=(), tags=None, status="completed", fingerprints=None):
    logger = SQLLogger(cfg)
    run_id = logger.run(tags=tags)
    for step, (key, value) in enumerate(metrics):
        logger.log_metric(key, value, step)
    if fingerprints:
        logger.log_fingerprints(fingerprints)
    logger.finish(status)
    return run_id


def test_not_found_cases_return_none_or_empty(make_config):
    finder = SQLFinder(make_config())
    assert finder.find_project("nope") is None
    assert finder.find_run(12345) is None
    assert finder.get_runs_in_project("nope") == []
    assert finder.find_best_run("nope", "acc") is None
    assert finder.find_similar_runs(12345) == []
    assert finder.find_similar_runs_by_trace(12345, "fwd") == []
    assert finder.find_runs([]) == [] and finder.get_metric_summaries([]) == {}
    assert finder.get_trace_statistics("nope", "fwd") == {
        "project_name": "nope",
        "trace_id": "fwd",
        "static_trace_versions": 0,
        "runtime_trace_versions": 0,
        "runs": 0,
    }


def test_finder_accepts_a_bare_url(db_url, make_config):
    run_id = _run(make_config())
    assert SQLFinder(db_url).find_run(run_id).id == run_id


def test_find_project_and_list_projects(make_config):
    _run(make_config(project="a"))
    _run(make_config(project="b"))
    finder = SQLFinder(make_config())
    assert finder.find_project("a").name == "a"
    assert [p.name for p in finder.list_projects()] == ["a", "b"]


def test_runs_in_project_are_complete_and_detached(make_config):
    ids = [_run(make_config(lr=lr), [("acc", lr * 10)], tags=[f"lr{lr}"]) for lr in (0.01, 0.02)]
    _run(make_config(project="other"), [("acc", 1.0)])
    runs = SQLFinder(make_config()).get_runs_in_project("proj")
    assert [r.id for r in runs] == ids
    assert [r.config.lr for r in runs] == [0.01, 0.02]
    assert isinstance(runs[0].config, ADict)
    assert [r.tags for r in runs] == [["lr0.01"], ["lr0.02"]]
    assert [r.metric_values("acc") for r in runs] == [[0.1], [0.2]]

    light = SQLFinder(make_config()).get_runs_in_project("proj", with_metrics=False)
    assert [r.metrics for r in light] == [[], []]
    assert [r.id for r in light] == ids


def test_find_best_run_max_min_and_project_scope(make_config):
    low = _run(make_config(), [("acc", 0.2), ("acc", 0.6), ("loss", 0.9)])
    high = _run(make_config(), [("acc", 0.8), ("loss", 0.5), ("loss", 0.4)])
    diverged = _run(make_config(), [("acc", float("nan")), ("loss", float("inf"))])
    _run(make_config(project="other"), [("acc", 0.99), ("loss", 0.01)])
    finder = SQLFinder(make_config())
    assert finder.find_best_run("proj", "acc").id == high  # NaN ranks last
    assert finder.find_best_run("proj", "acc", mode="min").id == low
    assert finder.find_best_run("proj", "loss", "min").id == high
    assert finder.find_best_run("proj", "loss", "max").id == diverged  # +inf by value
    assert finder.find_best_run("proj", "missing") is None
    best = finder.find_best_run("proj", "acc")
    assert best.metric_values("acc") == [0.8] and best.status == "completed"


def test_find_best_run_rejects_bad_mode(make_config):
    finder = SQLFinder(make_config())
    with pytest.raises(InvalidModeError, match="'maximum'") as info:
        finder.find_best_run("proj", "acc", mode="maximum")
    assert isinstance(info.value, ValueError)


def test_find_similar_runs_by_structure(make_config):
    base = _run(make_config(model={"depth": 50}, lr=0.1))
    same_structure = _run(make_config(model={"depth": 18}, lr=0.5))
    _run(make_config(model={"depth": 50}, lr=0.1, extra=True))
    _run(make_config(model={"depth": "50"}, lr=0.1))
    _run(make_config(project="other", model={"depth": 50}, lr=0.1))
    finder = SQLFinder(make_config())
    assert [r.id for r in finder.find_similar_runs(base)] == [same_structure]


def test_similar_runs_by_trace_and_trace_statistics(make_config):
    cfg = make_config()
    a = _run(cfg, fingerprints={"forward": ("static", "v1"), "out": ("runtime", "r1")})
    b = _run(cfg, fingerprints={"forward": ("static", "v1"), "out": ("runtime", "r2")})
    c = _run(cfg, fingerprints={"forward": ("static", "v2"), "out": ("runtime", "r1")})
    _run(make_config(project="other"), fingerprints={"forward": ("static", "v1")})
    finder = SQLFinder(cfg)
    assert [r.id for r in finder.find_similar_runs_by_trace(a, "forward")] == [b]
    assert [r.id for r in finder.find_similar_runs_by_trace(a, "out", "runtime")] == [c]
    assert finder.find_similar_runs_by_trace(a, "out", "static") == []
    stats = finder.get_trace_statistics("proj", "forward")
    assert (stats["static_trace_versions"], stats["runtime_trace_versions"], stats["runs"]) == (
        2,
        0,
        3,
    )
    assert finder.get_trace_statistics("proj", "out")["runtime_trace_versions"] == 2


def test_metric_summaries_last_min_max_count(make_config):
    run_id = _run(
        make_config(), [("loss", 0.9), ("loss", 0.3), ("loss", 0.5), ("acc", float("nan"))]
    )
    empty = _run(make_config())
    summaries = SQLFinder(make_config()).get_metric_summaries([run_id, empty])
    assert set(summaries) == {run_id}
    loss = summaries[run_id]["loss"]
    assert (loss.last, loss.last_step, loss.min, loss.max, loss.count) == (0.5, 2, 0.3, 0.9, 3)
    assert (loss.best("max"), loss.best("min")) == (0.9, 0.3)
    acc = summaries[run_id]["acc"]
    assert math.isnan(acc.last) and acc.min is None and acc.count == 1


def test_find_runs_by_ids_skips_missing(make_config):
    first = _run(make_config())
    second = _run(make_config())
    assert [r.id for r in SQLFinder(make_config()).find_runs([second, 999, first])] == [
        first,
        second,
    ]


def test_result_helpers_reject_bad_modes(make_config):
    run_id = _run(make_config(), [("acc", 0.5)])
    finder = SQLFinder(make_config())
    run = finder.find_run(run_id)
    summary = finder.get_metric_summaries([run_id])[run_id]["acc"]
    with pytest.raises(InvalidModeError):
        run.best_metric("acc", "best")
    with pytest.raises(InvalidModeError):
        summary.best("best")


def test_must_exist_refuses_a_database_without_tracker_tables_and_creates_none(db_url):
    from sqlalchemy import create_engine, inspect

    from ato.tracker import NotATrackerDatabaseError

    engine = create_engine(db_url)
    try:
        with engine.connect():  # an empty database (for SQLite: an existing empty file)
            pass
        with pytest.raises(NotATrackerDatabaseError, match="has no tracker tables") as info:
            SQLFinder(db_url, must_exist=True)
        assert isinstance(info.value, ValueError)
        assert not {"projects", "experiments", "metrics"} & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    SQLFinder(db_url)  # without must_exist the schema is created
    assert SQLFinder(db_url, must_exist=True).list_projects() == []
