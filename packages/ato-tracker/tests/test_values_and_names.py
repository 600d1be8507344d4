"""NaN and +-inf stored exactly and ranked as the search ranks them (item 6), names and keys
compared exactly (item 7), id lists of any length (item 8): on SQLite, PostgreSQL, MariaDB."""

from __future__ import annotations

import json
import math

import pytest

from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.cli import main

INF, NAN = math.inf, math.nan


def _run(make_config, values, key="loss", project="proj"):
    logger = SQLLogger(make_config(project=project))
    with logger.start_run() as run:
        for step, value in enumerate(values):
            run.log_metric(key, value, step)
    return run.id


@pytest.mark.parametrize(
    "values",
    [
        [INF, -INF, NAN, 0.5],
        [-INF],
        [NAN, NAN],
        [1.7976931348623157e308, INF, -1.7976931348623157e308, -INF],
        [5e-324, -0.5, INF],
    ],
)
def test_nan_and_infinities_read_back_exactly(make_config, values):
    run_id = _run(make_config, values)
    finder = SQLFinder(make_config())
    stored = finder.find_run(run_id).metric_values("loss")
    assert len(stored) == len(values)
    for got, logged in zip(stored, values, strict=True):
        assert (math.isnan(got) and math.isnan(logged)) or got == logged
    summary = finder.get_metric_summaries([run_id])[run_id]["loss"]
    finite_or_inf = [v for v in values if not math.isnan(v)]
    assert summary.max == (max(finite_or_inf) if finite_or_inf else None)
    assert summary.min == (min(finite_or_inf) if finite_or_inf else None)
    assert summary.count == len(values)
    last = summary.last
    assert (math.isnan(last) and math.isnan(values[-1])) or last == values[-1]


@pytest.mark.parametrize(
    ("runs", "mode", "winner"),
    [
        ([[0.9], [INF], [NAN]], "max", 1),  # a diverged loss that won a search: inf by value
        ([[0.9], [-INF], [NAN]], "min", 1),
        ([[0.9], [-INF], [NAN]], "max", 0),
        ([[NAN], [0.1]], "max", 1),  # NaN last
        ([[NAN], [0.1]], "min", 1),
        ([[NAN], [NAN, NAN]], "max", 0),  # only NaN: still found, ranked last (lowest id)
        ([[INF], [INF]], "max", 0),  # ties: the lower run id
    ],
)
def test_find_best_run_ranks_like_the_search(make_config, runs, mode, winner):
    ids = [_run(make_config, values) for values in runs]
    assert SQLFinder(make_config()).find_best_run("proj", "loss", mode).id == ids[winner]


def test_cli_and_json_show_nan_and_infinities(make_config, db_url, capsys):
    run_id = _run(make_config, [NAN, -INF, INF])
    assert main(["--db", db_url, "runs", "show", str(run_id)]) == 0
    text = capsys.readouterr().out
    assert "inf" in text and "-inf" in text
    assert main(["--db", db_url, "--json", "runs", "show", str(run_id)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["metrics"]["loss"] == {
        "last": "Infinity",
        "last_step": 2,
        "min": "-Infinity",
        "max": "Infinity",
        "count": 3,
    }
    assert main(["--db", db_url, "--json", "runs", "best", "--metric", "loss"]) == 0
    assert json.loads(capsys.readouterr().out)["value"] == "Infinity"


@pytest.mark.parametrize(
    "names",
    [["MNIST_x", "mnist_x", "MNIST_x "], ["a", "A", "a  "], ["straße", "STRASSE", "strasse"]],
)
def test_project_names_compare_exactly(make_config, names):
    for name in names:
        _run(make_config, [1.0], project=name)
    finder = SQLFinder(make_config())
    assert sorted(p.name for p in finder.list_projects()) == sorted(names)
    for name in names:
        (run,) = finder.get_runs_in_project(name)
        assert run.project_name == name


@pytest.mark.parametrize("keys", [["Loss", "loss", "loss "], ["acc", "ACC", "Acc"]])
def test_metric_keys_compare_exactly(make_config, keys):
    logger = SQLLogger(make_config())
    with logger.start_run() as run:
        for value, key in enumerate(keys):
            run.log_metric(key, float(value), 0)
    finder = SQLFinder(make_config())
    stored = finder.find_run(run.id)
    for value, key in enumerate(keys):
        assert stored.metric_values(key) == [float(value)]
    assert sorted(finder.get_metric_summaries([run.id])[run.id]) == sorted(keys)
    assert finder.find_best_run("proj", keys[0]).metric_values(keys[0]) == [0.0]


@pytest.mark.parametrize("size", [100_000, 70_001])
def test_find_runs_takes_any_number_of_ids(make_config, size):
    ids = [_run(make_config, [float(i)]) for i in range(3)]
    finder = SQLFinder(make_config())
    wanted = list(range(1, size + 1))
    found = finder.find_runs(wanted)
    assert [run.id for run in found] == ids
    assert len(finder.find_runs(wanted, with_metrics=False)) == 3
    assert set(finder.get_metric_summaries(wanted)) == set(ids)


def test_ids_no_database_can_hold_are_simply_not_found(make_config):
    run_id = _run(make_config, [1.0])
    finder = SQLFinder(make_config())
    for huge in (10**30, 2**63, -1, 0):
        assert finder.find_run(huge) is None
    assert [run.id for run in finder.find_runs([10**30, run_id, -(2**70)])] == [run_id]
    assert finder.get_metric_summaries([10**30]) == {}
