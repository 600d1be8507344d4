"""`SQLFinder.query_runs`: filtered, counted, sorted and paged in SQL, on every backend."""

from __future__ import annotations

import math
from typing import Any

import pytest

from ato.adict import ADict
from ato.tracker import RunFilterError, SQLFinder, SQLLogger


def _log(cfg: ADict, values: dict[str, float], *, tags: list[str], status: str) -> int:
    logger = SQLLogger(cfg)
    run_id = logger.run(tags=tags)
    for key, value in values.items():
        logger.log_metric(key, value, 0)
    logger.finish(status)
    return run_id


@pytest.fixture
def runs(make_config: Any) -> tuple[str, dict[str, int]]:
    """Five runs of project ``q`` with typed params, metrics and ``key:value`` tags."""
    specs = {
        "a": ({"lr": 0.001, "opt": "adam", "flag": True, "model": {"depth": 2}, "seed": 0},
              {"acc": 0.95, "loss": 0.1}, ["group:x", "baseline"], "completed"),
        "b": ({"lr": 0.01, "opt": "sgd", "flag": False, "model": {"depth": 8}, "seed": 1},
              {"acc": 0.91, "loss": 0.3}, ["group:y"], "completed"),
        "c": ({"lr": 0.1, "opt": "Adam_w", "model": {"depth": 2}, "seed": 2},
              {"acc": 0.5, "loss": float("nan")}, ["group:x", "100%"], "failed"),
        "d": ({"lr": "auto", "opt": "adam", "model": {"depth": 4}, "seed": 3},
              {"acc": float("inf")}, [], "completed"),
        "e": ({"lr": 1, "opt": "sgd", "model": {"depth": 8}, "seed": 4}, {}, ["group_x"], "killed"),
    }  # fmt: skip
    ids = {
        name: _log(make_config("q", **config), values, tags=tags, status=status)
        for name, (config, values, tags, status) in specs.items()
    }
    _log(make_config("other", lr=0.001), {"acc": 0.99}, tags=["group:x"], status="completed")
    return make_config()["experiment"]["sql"]["db_path"], ids


FILTERS = [
    ("params.lr < 0.01", "a"),
    ("params.lr <= 0.01", "ab"),
    ("params.lr = 1", "e"),
    ("params.lr = 'auto'", "d"),
    ("params.lr != 0.001", "bce"),
    ("params.lr in (0.1, 'auto')", "cd"),
    ("params.lr not in (0.1, 'auto')", "abe"),
    ("params.opt = 'adam'", "ad"),
    ("params.opt like 'Adam%'", "c"),
    ("params.opt ilike 'adam%'", "acd"),
    ("params.opt like 'Adam\\_%'", "c"),
    ("params.opt not like 'a%'", "bce"),
    ("params.flag = true", "a"),
    ("params.flag = false", "b"),
    ("params.flag is null", "cde"),
    ("params.flag is not null", "ab"),
    ("params.model.depth > 2", "bde"),
    ("params.model.depth = 2 and params.seed >= 1", "c"),
    ("metrics.acc > 0.9", "abd"),
    ("metrics.acc > 0.9 and params.lr < 0.01", "a"),
    ("metrics.acc < 0.9 or params.opt = 'sgd'", "bce"),
    ("not metrics.acc > 0.9", "ce"),
    ("metrics.loss < 1", "ab"),
    ("metrics.loss is null", "de"),
    ("metrics.acc in (0.5, 0.91)", "bc"),
    ("tags.group = 'x'", "ac"),
    ("tags.group != 'x'", "b"),
    ("tags.group in ('x', 'y')", "abc"),
    ("tags.group like '%'", "abc"),
    ("tags.group is null", "de"),
    ("tag = 'baseline'", "a"),
    ("tag != 'baseline'", "bcde"),
    ("tag like '100\\%'", "c"),
    ("tag like 'group_x'", "ace"),  # _ is any one character
    ("tag like 'group\\_x'", "e"),
    ("tag ilike 'BASE%'", "a"),
    ("status = 'completed'", "abd"),
    ("status in ('failed', 'killed')", "ce"),
    ("status like 'comp%'", "abd"),
    ("(params.opt = 'sgd' or params.opt = 'adam') and status = 'completed'", "abd"),
    ("end_time >= '2000-01-01' and duration >= 0", "abcde"),
]


@pytest.mark.parametrize(("text", "expected"), FILTERS)
def test_filters_select_exactly_the_matching_runs(runs: Any, text: str, expected: str):
    url, ids = runs
    page = SQLFinder(url).query_runs("q", text, limit=None)
    assert page is not None
    assert [row.id for row in page.runs] == [ids[name] for name in expected]
    assert page.total == len(expected)


def test_id_filters_and_pages(runs: Any):
    url, ids = runs
    finder = SQLFinder(url)
    page = finder.query_runs("q", f"id >= {ids['b']}", descending=True, offset=1, limit=2)
    assert page is not None
    assert (page.total, page.offset) == (4, 1)
    assert [row.id for row in page.runs] == [ids["d"], ids["c"]]
    assert page.runs[0].config == {
        "lr": "auto", "opt": "adam", "model": {"depth": 4}, "seed": 3,
        "experiment": {"project_name": "q", "sql": {"db_path": url}},
    }  # fmt: skip
    assert page.runs[1].tags == ["group:x", "100%"]
    assert page.runs[1].status == "failed"
    assert page.metrics["acc"].last == [math.inf, 0.5]
    assert page.metrics["loss"].last[0] is None
    beyond = finder.query_runs("q", "id > 0", offset=10)  # no page: counted apart
    assert beyond is not None and (beyond.total, beyond.runs) == (5, [])
    nothing = finder.query_runs("q", "id < 0")
    assert nothing is not None and (nothing.total, nothing.runs) == (0, [])
    assert math.isnan(page.metrics["loss"].last[1])


@pytest.mark.parametrize(
    ("sort_by", "descending", "expected"),
    [
        ("params.lr", False, "abced"),  # numbers, then texts, in either direction
        ("params.lr", True, "ecbad"),
        ("metrics.acc", False, "cbade"),
        ("metrics.acc", True, "dabce"),
        ("metrics.loss", False, "abcde"),  # NaN and missing last
        ("params.model.depth", True, "ebdca"),
        ("status", False, "abdce"),
        ("id", True, "edcba"),
    ],
)
def test_sorts_put_missing_values_last(runs: Any, sort_by: str, descending: bool, expected: str):
    url, ids = runs
    page = SQLFinder(url).query_runs("q", sort_by=sort_by, descending=descending, limit=None)
    assert page is not None
    names = {run_id: name for name, run_id in ids.items()}
    assert "".join(names[row.id] for row in page.runs) == expected


def test_unknown_project_sort_and_bad_filters(runs: Any):
    url, _ = runs
    finder = SQLFinder(url)
    assert finder.query_runs("nope") is None
    with pytest.raises(ValueError, match="cannot sort runs by 'colour'"):
        finder.query_runs("q", sort_by="colour")
    with pytest.raises(ValueError, match="offset and limit must be >= 0"):
        finder.query_runs("q", offset=-1)
    cases = {
        "metrics.acc = 'high'": (12, "metrics.acc compares with numbers only"),
        "params.lr > true": (10, "true/false compare only with = or !="),
        "tags.group = 1": (11, "tags compare with quoted texts"),
        "status > 'a'": (7, "status compares with =, !=, in or like"),
        "start_time > 'yesterday'": (11, "'yesterday' is not an ISO 8601 time"),
        'params.`a"b` = 1': (None, "cannot be read"),
    }
    for text, (position, message) in cases.items():
        with pytest.raises(RunFilterError, match=message) as caught:
            finder.query_runs("q", text)
        assert caught.value.position == position
