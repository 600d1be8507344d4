"""DataFrames of runs and metrics (pandas extra), streamed metric reads, search answers."""

from __future__ import annotations

import io
import math
import sys
import tracemalloc

import pytest

from ato.tracker import MissingDependencyError, SQLFinder, SQLLogger
from ato.tracker.cli.export import write_metrics


@pytest.fixture
def finder(make_config) -> SQLFinder:
    """Project 'proj': run 1 (lr 0.1, two curves), run 2 (lr 0.01, a NaN), run 3 (no metrics)."""
    logger = SQLLogger(make_config())
    for lr, hidden, curve in ((0.1, 8, [0.5, 0.7]), (0.01, 16, [0.6, float("nan")])):
        with logger.start_run(config=make_config(optim={"lr": lr}, model={"hidden": hidden})) as r:
            for step, value in enumerate(curve):
                r.log_metrics({"acc": value, "loss": 1 - step * 0.5}, step=step)
    with logger.start_run(tags=["t"], config=make_config(optim={"lr": 1.0}, extra=[1, 2])):
        pass
    return SQLFinder(make_config())


def test_runs_frame_is_shaped_like_mlflow_search_runs(finder):
    frame = finder.runs_frame("proj")
    assert list(frame["run_id"]) == [1, 2, 3]
    assert list(frame.columns[:5]) == ["run_id", "status", "start_time", "end_time", "tags"]
    assert {"params.optim.lr", "params.model.hidden", "params.extra"} <= set(frame.columns)
    assert list(frame["params.optim.lr"]) == [0.1, 0.01, 1.0]
    assert frame["params.extra"][2] == [1, 2]
    assert str(frame["metrics.acc"].dtype) == "float64"
    assert frame["metrics.acc"][0] == 0.7
    assert math.isnan(frame["metrics.acc"][1])  # last value logged was NaN
    assert math.isnan(frame["metrics.acc"][2])  # never logged
    assert frame["metrics.loss"][0] == 0.5
    assert list(frame["status"]) == ["completed"] * 3
    assert str(frame["start_time"][0].tzinfo) in ("UTC", "UTC+00:00")
    assert frame["tags"][2] == ["t"]


def test_runs_frame_selects_params_and_metrics(finder):
    frame = finder.runs_frame("proj", params=["optim.lr"], metrics=["loss"])
    assert [c for c in frame.columns if "." in c] == ["params.optim.lr", "metrics.loss"]
    empty = finder.runs_frame("nope")
    assert len(empty) == 0 and list(empty.columns[:2]) == ["run_id", "status"]


def test_metric_frame_is_one_runs_long_table(finder):
    run = finder.find_run(1)
    frame = run.metric_frame()
    assert list(frame.columns) == ["step", "key", "value", "timestamp"]
    assert list(zip(frame["key"], frame["step"], frame["value"], strict=True)) == [
        ("acc", 0, 0.5),
        ("loss", 0, 1.0),
        ("acc", 1, 0.7),
        ("loss", 1, 0.5),
    ]
    assert str(frame["timestamp"].dt.tz) == "UTC"
    only = run.metric_frame(keys=["loss"])
    assert list(only["value"]) == [1.0, 0.5]
    wide = frame.pivot(index="step", columns="key", values="value")
    assert list(wide["acc"]) == [0.5, 0.7]


def test_missing_pandas_is_a_clear_error(finder, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` fail
    with pytest.raises(MissingDependencyError, match=r"pip install 'ato-tracker\[pandas\]'"):
        finder.runs_frame("proj")
    with pytest.raises(ImportError, match=r"Run\.metric_frame needs pandas"):
        finder.find_run(1).metric_frame()


def test_iter_metrics_streams_rows_in_logging_order(finder):
    rows = list(finder.iter_metrics(2))
    assert [(m.key, m.step) for m in rows] == [("acc", 0), ("loss", 0), ("acc", 1), ("loss", 1)]
    assert math.isnan(rows[2].value)
    assert [m.value for m in finder.iter_metrics(1, ["acc"], batch_size=1)] == [0.5, 0.7]
    assert list(finder.iter_metrics(999)) == []


def test_final_is_the_final_tagged_run(make_config):
    logger = SQLLogger(make_config())
    for tags in (["search:s1", "round:0"], ["search:s1", "round:1", "final"], ["search:s2"]):
        with logger.start_run(tags=tags):
            pass
    finder = SQLFinder(make_config())
    assert [r.id for r in finder.get_search_runs("s1")] == [1, 2]
    assert [r.id for r in finder.get_search_runs("s1", "other")] == []
    answer = finder.find_final("s1")
    assert answer is not None and answer.id == 2
    assert finder.find_final("s2") is None
    assert finder.find_final("missing") is None


@pytest.mark.parametrize("search_id", ["a_b", "50%", 'q"uote', "ünï"])
def test_search_ids_with_like_wildcards_or_json_escapes(make_config, search_id):
    logger = SQLLogger(make_config())
    for tags in ([f"search:{search_id}", "final"], ["search:aXb", "final"], ["search:500"]):
        with logger.start_run(tags=tags):
            pass
    finder = SQLFinder(make_config())
    assert [r.id for r in finder.get_search_runs(search_id)] == [1]


def test_metric_export_memory_stays_flat(db_url):
    """100,000 rows are exported with a peak far below what holding them would take (a
    Metric tuple with its datetime and float is ~250 bytes: 25 MB for these rows)."""
    from ato.adict import ADict

    config = ADict(experiment=ADict(project_name="big", sql=ADict(db_path=db_url)))
    logger = SQLLogger(config, batch_size=50_000)
    with logger.start_run() as run:
        for step in range(100_000):
            run.log_metric("loss", 1.0 / (step + 1), step)
    finder = SQLFinder(db_url)

    class Sink(io.StringIO):
        def write(self, text: str) -> int:
            return len(text)

    tracemalloc.start()
    try:
        written = write_metrics(Sink(), finder.iter_metrics(run.id, batch_size=2000), "csv")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written == 100_000
    assert peak < 5_000_000, f"peak {peak} bytes: rows are being held in memory"
