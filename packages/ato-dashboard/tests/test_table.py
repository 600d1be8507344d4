"""The server-side runs table, run groups and many-run compare endpoints, on every backend,
with exact values from the runs `fill` wrote (conftest)."""

from __future__ import annotations

import math
from typing import Any

import pytest
from starlette.testclient import TestClient

from ato.dashboard import create_app

BASE = "http://127.0.0.1"


@pytest.fixture
def api(filled: Any) -> tuple[Any, TestClient]:
    return filled, TestClient(create_app(filled.url), base_url=BASE, raise_server_exceptions=False)


def _table(c: TestClient, **params: Any) -> dict[str, Any]:
    response = c.get("/api/projects/vision/table", params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_first_page_is_newest_first_with_total(api: Any):
    filled, c = api
    body = _table(c, limit=3)
    every = sorted(filled.runs[name] for name in filled.runs if name != "xss")
    assert body["total"] == 10
    assert body["runs"]["id"] == every[::-1][:3]
    assert (body["offset"], body["limit"], body["sort"], body["descending"]) == (0, 3, "id", True)
    second = _table(c, limit=3, offset=3)
    assert second["runs"]["id"] == every[::-1][3:6]


def test_filter_sort_and_values(api: Any):
    filled, c = api
    runs = filled.runs
    body = _table(c, filter="params.optim.lr < 0.05 and metrics.accuracy > 0.55")
    assert body["runs"]["id"] == [runs["deep"], runs["slow"]]
    assert body["total"] == 2
    assert body["params"]["optim.lr"] == [0.01, 0.001]
    assert body["params"]["model.depth"] == [8, 2]
    assert body["metrics"]["accuracy"]["last"] == [0.7, 0.6]
    assert body["metrics"]["loss"]["last"] == [1 / 32, 1 / 31]
    assert body["runs"]["status"] == ["completed", "failed"]
    assert body["runs"]["tags"] == [["ablation"], ["ablation"]]
    by_loss = _table(c, filter="tag in ('ablation', 'baseline')", sort="metrics.loss", desc="0")
    assert by_loss["runs"]["id"] == [runs["deep"], runs["slow"], runs["fast"]]
    assert by_loss["metrics"]["loss"]["min"] == [1 / 32, 1 / 31, 1 / 30]
    searched = _table(c, filter="tags.search = 's_1%' and params.__num_halved__ = 2")
    assert searched["runs"]["id"] == [runs["trial-2-0.01"]]
    assert searched["param_keys"] == ["optim.lr"]  # bookkeeping keys are left out
    by_lr = _table(c, filter="tags.round = '0'", sort="params.optim.lr", desc="0")
    assert [by_lr["params"]["optim.lr"][i] for i in range(4)] == [0.0001, 0.001, 0.01, 0.1]


@pytest.mark.parametrize(
    ("params", "message", "position"),
    [
        ({"filter": "params.lr <"}, "bad filter at position 11: expected a value", 11),
        ({"filter": "params.lr = 1 or"}, "bad filter at position 16: expected a field", 16),
        ({"filter": "metrics.loss like 'a'"}, "compares with numbers only", 13),
        ({"sort": "colour"}, "cannot sort runs by 'colour'", None),
        ({"limit": "0"}, "limit", None),
        ({"limit": "5000"}, "limit", None),
        ({"offset": "-1"}, "offset", None),
    ],
)
def test_bad_table_requests_are_400_with_the_position(
    api: Any, params: dict[str, str], message: str, position: int | None
):
    _, c = api
    response = c.get("/api/projects/vision/table", params=params)
    assert response.status_code == 400
    body = response.json()
    assert message in body["error"]
    assert body.get("position") == position


def test_unknown_project_is_404(api: Any):
    _, c = api
    assert c.get("/api/projects/nope/table").status_code == 404
    assert c.get("/api/projects/nope/groups").status_code == 404
    assert c.get("/groups/nope").status_code == 404


def test_groups_aggregate_the_last_values(api: Any):
    filled, c = api
    runs = filled.runs
    filters = {"filter": "tag in ('ablation', 'baseline')"}
    body = c.get("/api/projects/vision/groups", params=filters).json()
    assert body["by"] == ["model.depth", "optim.lr"]  # every differing key by default
    assert body["candidate_keys"] == ["model.depth", "optim.lr"]
    assert [g["count"] for g in body["groups"]] == [1, 1, 1]
    by_depth = c.get("/api/projects/vision/groups", params={**filters, "by": "model.depth"}).json()
    two, eight = by_depth["groups"]
    assert two["values"] == {"model.depth": "2"} and eight["values"] == {"model.depth": "8"}
    assert [r["id"] for r in two["runs"]] == [runs["fast"], runs["slow"]]
    assert two["count"] == 2 and eight["count"] == 1
    accuracy = two["metrics"]["accuracy"]
    assert accuracy["n"] == 2
    assert accuracy["mean"] == pytest.approx(0.55, abs=1e-15)
    assert accuracy["std"] == pytest.approx(math.sqrt(2 * 0.05**2), abs=1e-15)
    assert (accuracy["min"], accuracy["max"]) == (0.5, 0.6)
    assert eight["metrics"]["accuracy"] == {
        "n": 1,
        "mean": 0.7,
        "std": None,
        "min": 0.7,
        "max": 0.7,
    }
    assert two["runs"][1]["metrics"] == {"accuracy": 0.6, "loss": 1 / 31}


def test_default_groups_leave_out_the_seed(filled: Any, make_logger: Any):
    for lr in (0.1, 0.2):
        for seed in (0, 1, 2):
            log = make_logger(filled.url, "seeds", lr=lr, seed=seed, model={"seed": seed})
            log.run()
            log.log_metric("acc", lr + seed / 100, 0)
            log.finish()
    c = TestClient(create_app(filled.url), base_url=BASE)
    body = c.get("/api/projects/seeds/groups").json()
    assert body["by"] == ["lr"]
    assert body["candidate_keys"] == ["lr", "model.seed", "seed"]
    assert [(g["values"], g["count"]) for g in body["groups"]] == [
        ({"lr": "0.1"}, 3),
        ({"lr": "0.2"}, 3),
    ]
    assert body["groups"][1]["metrics"]["acc"]["mean"] == pytest.approx(0.21, abs=1e-15)
    assert body["groups"][1]["metrics"]["acc"]["std"] == pytest.approx(0.01, abs=1e-15)


def test_group_series_mean_and_spread_per_step(api: Any):
    _, c = api
    params = {"filter": "tag in ('ablation', 'baseline')", "by": "model.depth", "key": "loss"}
    body = c.get("/api/projects/vision/group-series", params=params).json()
    two, eight = body["groups"]
    assert two["step"] == list(range(30)) and eight["step"] == list(range(30))
    assert (two["count"], two["used"], eight["used"]) == (2, 2, 1)
    for step in range(30):
        a, b = 1 / (step + 1), 1 / (step + 2)
        assert two["mean"][step] == pytest.approx((a + b) / 2, rel=1e-15)
        assert two["std"][step] == pytest.approx(abs(a - b) / math.sqrt(2), rel=1e-12)
        assert (two["min"][step], two["max"][step], two["n"][step]) == (b, a, 2)
        assert eight["mean"][step] == 1 / (step + 3) and eight["std"][step] is None
    missing = c.get("/api/projects/vision/group-series", params={"by": "model.depth"})
    assert missing.status_code == 400 and "key" in missing.json()["error"]


def test_compare_takes_more_than_twelve_runs_and_their_series(api: Any):
    filled, c = api
    ids = sorted(filled.runs.values())
    assert len(ids) == 11
    joined = ",".join(map(str, ids))
    assert c.get("/api/compare", params={"runs": joined}).status_code == 200
    body = c.get("/api/compare/series", params={"runs": joined, "key": "loss"}).json()
    names = {run_id: name for name, run_id in filled.runs.items()}
    assert [names[s["run_id"]] for s in body["runs"]] == ["fast", "slow", "deep"]
    deep = body["runs"][2]
    assert deep["step"] == list(range(30))
    assert deep["value"] == [v for _, v in filled.loss["deep"]]
    assert (deep["total"], deep["downsampled"]) == (30, False)
    short = c.get("/api/compare/series", params={"runs": joined, "key": "loss", "max_points": 4})
    # one bucket: its extremes are the first and the last value of a falling curve
    assert [s["step"] for s in short.json()["runs"]] == [[0, 29]] * 3
    unknown = c.get("/api/compare/series", params={"runs": "987654", "key": "loss"})
    assert unknown.status_code == 404
