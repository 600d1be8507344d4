"""The read API the ``ato`` command, the dashboard and users share: runs pages, series, key
pages, searches and read-only opening, on every backend."""

from __future__ import annotations

import math
import sqlite3
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from ato.adict import ADict
from ato.tracker import (
    Database,
    DatabaseNotFoundError,
    MetricColumns,
    NotATrackerDatabaseError,
    SQLFinder,
    SQLLogger,
    search_id_of,
)


def _log(cfg: ADict, values: dict[str, list[float]], *, tags=None, status="completed") -> int:
    logger = SQLLogger(cfg)
    run_id = logger.run(tags=tags)
    for key, series in values.items():
        for step, value in enumerate(series):
            logger.log_metric(key, value, step)
    logger.finish(status)
    return run_id


@pytest.fixture
def table(make_config: Any) -> tuple[str, list[int]]:
    """Four runs of project ``t`` with ``lr`` params, a ``loss`` and (for some) ``acc``."""
    ids = [
        _log(make_config("t", lr=0.3, model=ADict(w=8)), {"loss": [2.0, 1.0], "acc": [0.5]}),
        _log(make_config("t", lr=0.1), {"loss": [3.0, float("nan")]}, tags=["x"]),
        _log(make_config("t", lr=0.2), {"loss": [1.0, float("inf")]}, status="failed"),
        _log(make_config("t", lr=0.05), {"loss": [0.5]}, tags=["x"]),
    ]
    _log(make_config("other", lr=9.0), {"loss": [0.0]})
    return make_config()["experiment"]["sql"]["db_path"], ids


def test_runs_page_holds_every_run_with_params_and_summaries(table: Any):
    url, ids = table
    page = SQLFinder(url).get_runs_page("t")
    assert page is not None and page.total == 4 and page.offset == 0
    assert [row.id for row in page.runs] == ids
    assert [row.config["lr"] for row in page.runs] == [0.3, 0.1, 0.2, 0.05]
    assert page.runs[0].config["model"] == {"w": 8} and page.runs[1].tags == ["x"]
    assert sorted(page.metrics) == ["acc", "loss"]
    loss = page.metrics["loss"]
    assert isinstance(loss, MetricColumns)
    assert loss.last[0] == 1.0 and math.isnan(loss.last[1]) and loss.last[2] == math.inf
    assert loss.min == [1.0, 3.0, 1.0, 0.5] and loss.max == [2.0, 3.0, math.inf, 0.5]
    assert page.metrics["acc"].last == [0.5, None, None, None]


def test_runs_page_filters_sorts_and_pages(table: Any):
    url, ids = table
    finder = SQLFinder(url)
    failed = finder.get_runs_page("t", status="failed")
    assert failed is not None and [row.id for row in failed.runs] == [ids[2]]
    tagged = finder.get_runs_page("t", tag="x")
    assert tagged is not None and [row.id for row in tagged.runs] == [ids[1], ids[3]]
    by_lr = finder.get_runs_page("t", sort_by="params.lr", descending=True, offset=1, limit=2)
    assert by_lr is not None and by_lr.total == 4 and by_lr.offset == 1
    assert [row.config["lr"] for row in by_lr.runs] == [0.2, 0.1]
    assert by_lr.metrics["loss"].min == [1.0, 3.0] and "acc" not in by_lr.metrics
    # NaN (run 2) last in either direction; +inf is a value
    for descending, expected in ((False, [3, 0, 2, 1]), (True, [2, 0, 3, 1])):
        page = finder.get_runs_page("t", sort_by="metrics.loss", descending=descending)
        assert page is not None and [row.id for row in page.runs] == [ids[i] for i in expected]
        assert page.metrics["loss"].last[-1] != page.metrics["loss"].last[-1]  # NaN, moved along
    missing_last = finder.get_runs_page("t", sort_by="params.model.w")
    assert missing_last is not None and missing_last.runs[0].id == ids[0]
    bare = finder.get_runs_page("t", with_summaries=False, limit=1)
    assert bare is not None and bare.metrics == {} and bare.total == 4 and len(bare.runs) == 1


def test_runs_page_errors_and_unknown_project(table: Any):
    url, _ = table
    finder = SQLFinder(url)
    assert finder.get_runs_page("nope") is None
    with pytest.raises(ValueError, match="cannot sort runs by 'colour'"):
        finder.get_runs_page("t", sort_by="colour")
    with pytest.raises(ValueError, match="offset and limit must be >= 0"):
        finder.get_runs_page("t", limit=-1)


def test_metric_series_is_downsampled_keeping_extremes(make_config: Any):
    values = [math.sin(i / 10) for i in range(400)]
    values[123] = 50.0
    run_id = _log(make_config(), {"y": values})
    finder = SQLFinder(make_config())
    whole = finder.get_metric_series(run_id, "y")
    assert whole.total == 400 and len(whole.points) == 400 and not whole.downsampled
    small = finder.get_metric_series(run_id, "y", max_points=20)
    assert small.total == 400 and len(small.points) <= 20 and small.downsampled
    assert max(p.value for p in small.points) == 50.0
    assert small.points[0].step == 0 and small.points[-1].step == 399
    assert finder.get_metric_series(run_id, "nope").points == []
    assert finder.get_metric_series(10**30, "y").total == 0
    with pytest.raises(ValueError, match="at least 4"):
        finder.get_metric_series(run_id, "y", max_points=3)


def test_metric_key_page(make_config: Any):
    run_id = _log(make_config(), {f"k/{i:02d}": [float(i)] for i in range(12)} | {"z": [1.0]})
    finder = SQLFinder(make_config())
    page = finder.get_metric_key_page(run_id, pattern="k/", offset=3, limit=4)
    assert page.total == 12 and page.offset == 3
    assert page.keys == ["k/03", "k/04", "k/05", "k/06"] and page.summaries["k/04"].last == 4.0
    assert finder.get_metric_key_page(run_id).total == 13
    assert finder.get_metric_key_page(12345).keys == []


def test_searches_of_a_project_and_one_search(make_config: Any):
    def trial(trial_id: int, rung: int, value: float, status: str = "completed") -> int:
        tags = ["search:s1", f"trial_id:{trial_id}", f"rung:{rung}", f"budget:{3**rung}"]
        tags += ["bracket:0", "mode:max", "metric_key:acc"]
        return _log(
            make_config("hp", lr=trial_id), {"search/acc": [value]}, tags=tags, status=status
        )

    first = [trial(0, 0, 0.5), trial(1, 0, 0.7), trial(2, 0, 0.9, "failed")]
    best = trial(1, 1, 0.8)
    _log(make_config("hp"), {"acc": [1.0]}, tags=["search:s2"])
    finder = SQLFinder(make_config())
    infos = finder.list_searches("hp")
    assert [info.search_id for info in infos] == ["s1", "s2"]
    assert infos[0].runs == 4 and infos[0].statuses == {"completed": 3, "failed": 1}
    assert infos[0].first_start <= infos[0].last_activity
    assert finder.list_searches("nope") == []
    found = finder.get_search("s1")
    assert found is not None and [run.id for run in found.runs] == [*first, best]
    assert found.metric_keys == ["search/acc"] and found.answer.run_id == best
    assert found.answer.value == 0.8 and len(found.answer.evaluations) == 4
    assert found.summaries[best]["search/acc"].last == 0.8
    assert finder.get_search("s1", "other-project") is None
    assert finder.get_search("nope") is None
    assert search_id_of(["a", "search:s1", "search:s2"]) == "s1" and search_id_of([]) is None


def test_read_only_finder_reads_and_cannot_write(table: Any):
    url, ids = table
    finder = SQLFinder.open_read_only(url)
    assert finder.find_run(ids[0]) is not None
    page = finder.get_runs_page("t")
    assert page is not None and page.total == 4
    refused = pytest.raises(DBAPIError, match=r"(?i)read.only|readonly")
    with refused, finder.engine.begin() as conn:
        conn.execute(text("UPDATE experiments SET status = 'x'"))
    assert {run.status for run in SQLFinder(url).get_runs_in_project("t")} == {
        "completed",
        "failed",
    }
    shown = SQLFinder.from_url(url, read_only=True).database.shown_sqlalchemy_url
    assert shown == Database.from_url(url).shown_sqlalchemy_url


def test_read_only_finder_refuses_what_it_cannot_read(tmp_path: Any):
    missing = tmp_path / "missing.db"
    with pytest.raises(DatabaseNotFoundError):
        SQLFinder(str(missing), read_only=True)
    assert not missing.exists()
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE t (x INTEGER)")
    with pytest.raises(NotATrackerDatabaseError) as caught:
        SQLFinder.open_read_only(str(other))
    assert caught.value.problem == "has no tracker tables"


def test_database_handle_reads_the_url_once():
    location = Database.from_url("runs/x.db")
    assert location.url == "sqlite:///runs/x.db" and location.backend == "sqlite"
    assert location.sqlite_path is not None and location.sqlite_path.name == "x.db"
    server = Database.from_url("postgresql+psycopg://u:s3cret@h/db")
    assert server.backend == "postgresql" and server.sqlite_path is None
    assert "s3cret" not in server.shown_url and "***" in server.shown_url
    assert Database.from_url("sqlite://").sqlite_path is None
    with pytest.raises(NoSuchModuleError):
        Database.from_url("nope://u:secret@h/db").require_driver()
    with pytest.raises(ArgumentError, match="could not parse") as caught:
        Database.from_url("postgresql://u:pw@host:notaport/db")
    assert "pw@" not in str(caught.value)
