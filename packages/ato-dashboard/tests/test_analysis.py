"""The search analysis endpoints (``/api/searches/{id}/analysis/{view}``) on every backend,
checked value by value against what the test wrote and against the tracker's answer rule."""

from __future__ import annotations

import itertools
import math
from typing import Any

import optuna
import pytest
from starlette.testclient import TestClient

from ato.dashboard import create_app, importance
from ato.tracker import SQLFinder
from ato.tracker.answers import search_answer

BASE = "http://127.0.0.1"
ROOT = "/api/searches/hb/analysis"


@pytest.fixture
def hb(db_url: str, kit: Any) -> tuple[TestClient, dict[tuple[int, int, int], int], Any]:
    ids = kit.fill_search(db_url, kit.hyperband)
    importance._cache.clear()  # results are kept per input, across apps
    client = TestClient(create_app(db_url), base_url=BASE, raise_server_exceptions=False)
    return client, ids, kit


def _layout(kit: Any, ids: dict[tuple[int, int, int], int]) -> list[dict[str, Any]]:
    """The written evaluations in run-id order, with their ids and searched parameters."""
    rows = [
        {
            "trial": t,
            "bracket": b,
            "rung": r,
            "budget": float(budget),
            "value": v,
            "status": s,
            "run_id": ids[(t, b, r)],
            "optim.lr": 0.001 * (t + 1),
            "model.hidden": 16 * (1 + t % 3),
        }
        for t, b, r, budget, v, s in kit.hyperband
    ]
    return sorted(rows, key=lambda row: row["run_id"])


def _get(client: TestClient, path: str) -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.json()


def test_history_follows_the_tracker_answer_rule_after_every_evaluation(hb: Any, db_url: str):
    client, ids, kit = hb
    rows = _layout(kit, ids)
    body = _get(client, f"{ROOT}/history")
    assert body["metric"] == "search/val/acc" and body["mode"] == "max"
    assert body["level_kind"] == "budget" and body["objectives"] == 1
    assert body["answer"]["run_id"] == ids[kit.hyperband_answer]
    ev = body["evaluations"]
    assert ev["run_id"] == [r["run_id"] for r in rows]
    assert ev["value"] == [r["value"] for r in rows]
    assert ev["status"] == [r["status"] for r in rows]
    assert ev["level"] == [r["budget"] for r in rows]
    assert ev["cumulative_budget"] == list(itertools.accumulate(r["budget"] for r in rows))
    for line in body["best_by_level"]:
        done = [
            (n, r["value"])
            for n, r in enumerate(rows, 1)
            if r["budget"] == line["level"] and r["status"] == "completed"
        ]
        assert line["number"] == [n for n, _ in done]
        assert line["best"] == list(itertools.accumulate((v for _, v in done), max))
    finder = SQLFinder(db_url, must_exist=True)
    found = finder.get_search("hb")
    prefix_answers = [
        search_answer(found.runs[:n], found.summaries).run_id for n in range(1, len(rows) + 1)
    ]
    assert body["answer_path"]["run_id"] == prefix_answers
    assert body["answer_path"]["run_id"][-1] == ids[kit.hyperband_answer]
    by_id = {r["run_id"]: r for r in rows}
    assert body["answer_path"]["value"] == [
        None if a is None else by_id[a]["value"] for a in prefix_answers
    ]


def test_parallel_slice_and_contour_at_one_budget(hb: Any):
    client, ids, kit = hb
    rows = _layout(kit, ids)
    at_27 = [r for r in rows if r["budget"] == 27.0 and r["status"] == "completed"]
    body = _get(client, f"{ROOT}/parallel?budget=27")
    assert body["budget"] == 27.0 and body["count"] == 4
    assert body["run_id"] == [r["run_id"] for r in at_27]
    assert body["value"] == [r["value"] for r in at_27]
    assert body["params"] == ["model.hidden", "optim.lr"]
    for key in body["params"]:
        assert body["columns"][key] == [r[key] for r in at_27]
    lr_axis = body["axes"][1]
    assert lr_axis == {
        "key": "optim.lr",
        "kind": "numeric",
        "low": min(r["optim.lr"] for r in at_27),
        "high": max(r["optim.lr"] for r in at_27),
        "log": False,
    }
    default = _get(client, f"{ROOT}/parallel")  # the budget with most completed evaluations
    assert default["budget"] == 1.0 and default["count"] == 9
    assert [lv["completed"] for lv in default["levels"]] == [9, 6, 4, 4]

    sliced = _get(client, f"{ROOT}/slice?budget=27&param=optim.lr")
    assert sliced["x"] == [r["optim.lr"] for r in at_27]
    assert sliced["value"] == [r["value"] for r in at_27]
    assert sliced["number"] == [rows.index(r) + 1 for r in at_27]

    grid = _get(client, f"{ROOT}/contour?budget=1&x=optim.lr&y=model.hidden")
    at_1 = [r for r in rows if r["budget"] == 1.0]
    assert grid["x"] == [r["optim.lr"] for r in at_1] and grid["y"] == [
        r["model.hidden"] for r in at_1
    ]
    gx, gy, values = grid["grid"]["x"], grid["grid"]["y"], grid["grid"]["value"]
    assert len(gx) == len(gy) == 24 and len(values) == 24 and all(len(v) == 24 for v in values)
    assert grid["x_axis"]["log"] is True  # lr 0.001..0.009: a factor of 9

    def unit(v: float, low: float, high: float, log: bool) -> float:
        t = math.log10 if log else float
        return (t(v) - t(low)) / (t(high) - t(low))

    low, high = min(r["optim.lr"] for r in at_1), max(r["optim.lr"] for r in at_1)
    known = [
        (unit(r["optim.lr"], low, high, True), unit(r["model.hidden"], 16, 48, False), r["value"])
        for r in at_1
    ]
    px, py = unit(gx[5], low, high, True), unit(gy[7], 16, 48, False)
    weights = [1 / ((x - px) ** 2 + (y - py) ** 2) for x, y, _ in known]
    expected = sum(w * v for w, (_, _, v) in zip(weights, known, strict=True)) / sum(weights)
    assert values[7][5] == pytest.approx(expected, rel=1e-12)


def test_importance_equals_optunas_evaluator_on_the_same_trials(hb: Any):
    client, ids, kit = hb
    rows = [r for r in _layout(kit, ids) if r["budget"] == 1.0]
    body = _get(client, f"{ROOT}/importance?budget=1&method=fanova")
    assert body["method"] == "fanova" and body["method_name"] == "fANOVA"
    assert "Hutter" in body["citation"] and body["n_trials"] == 9 and body["cached"] is False
    spaces = {
        "model.hidden": optuna.distributions.IntDistribution(16, 48),
        "optim.lr": optuna.distributions.FloatDistribution(
            min(r["optim.lr"] for r in rows), max(r["optim.lr"] for r in rows), log=True
        ),
    }
    study = optuna.create_study(direction="maximize")
    study.add_trials(
        [
            optuna.trial.create_trial(
                params={k: r[k] for k in spaces}, distributions=spaces, value=r["value"]
            )
            for r in rows
        ]
    )
    expected = optuna.importance.get_param_importances(
        study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0)
    )
    assert {i["param"]: i["importance"] for i in body["importances"]} == pytest.approx(expected)
    assert [i["param"] for i in body["importances"]] == list(expected)
    again = _get(client, f"{ROOT}/importance?budget=1&method=fanova")
    assert again["cached"] is True and again["importances"] == body["importances"]
    ped = _get(client, f"{ROOT}/importance?budget=1")
    assert ped["method"] == "ped-anova" and "Watanabe" in ped["citation"]
    assert sum(i["importance"] for i in ped["importances"]) == pytest.approx(1.0)
    few = _get(client, f"{ROOT}/importance?budget=27")
    assert few["n_trials"] == 4


def test_learning_curves_carry_each_evaluations_outcome(hb: Any):
    client, ids, kit = hb
    rows = _layout(kit, ids)
    top = {t: max(r["budget"] for r in rows if r["trial"] == t) for t in {r["trial"] for r in rows}}

    def outcome(r: dict[str, Any]) -> str:
        if top[r["trial"]] > r["budget"]:
            return "promoted"
        return "stopped" if r["status"] == "completed" else "failed"

    body = _get(client, f"{ROOT}/curves")
    assert body["key"] == "val/acc"  # the trials' own key, logged per epoch
    curves = {c["run_id"]: c for c in body["curves"]}
    assert list(curves) == [r["run_id"] for r in rows]
    for r in rows:
        c = curves[r["run_id"]]
        assert c["step"] == list(range(int(r["budget"])))
        assert c["value"] == [0.999] * int(r["budget"])
        assert c["outcome"] == outcome(r) and c["answer"] == (
            r["run_id"] == ids[kit.hyperband_answer]
        )
    assert body["outcomes"] == {"promoted": 9, "stopped": 14, "failed": 1}
    thin = _get(client, f"{ROOT}/curves?max_points=2&key=val/acc")
    longest = next(c for c in thin["curves"] if c["total"] == 27)
    assert longest["step"] == [0, 26]


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("parallel?budget=5", 400, "budget must be one of this search's budgets (1, 3, 9, 27)"),
        ("parallel?budget=abc", 400, "budget must be one of"),
        ("slice?param=nope", 400, "param must be one of the searched parameters"),
        ("contour?x=optim.lr&y=optim.lr", 400, "x and y must be two different parameters"),
        ("importance?method=shap", 400, "method must be one of ped-anova, fanova"),
        ("curves?max_points=1", 400, "max_points must be a whole number"),
        ("curves?key=nope", 404, "logged a metric 'nope'"),
        ("history?mode=up", 400, "mode"),
        ("pareto", 404, "no analysis view 'pareto'"),
    ],
)
def test_bad_parameters_get_a_message(hb: Any, query: str, status: int, message: str):
    client, _, _ = hb
    response = client.get(f"{ROOT}/{query}")
    assert response.status_code == status
    assert message in response.json()["error"]


def test_unknown_search_is_404(hb: Any):
    client, _, _ = hb
    response = client.get("/api/searches/none/analysis/history")
    assert response.status_code == 404 and "search:none" in response.json()["error"]
    assert client.get("/searches/none/analysis").status_code == 404
    assert client.get("/searches/hb/analysis").status_code == 200


def test_metric_curves_read_many_runs_at_once(hb: Any, db_url: str):
    _, ids, _ = hb
    finder = SQLFinder(db_url, must_exist=True)
    run_ids = sorted(ids.values())
    found = finder.get_metric_curves(run_ids, "val/acc", max_points=3)
    assert sorted(found) == run_ids
    longest = found[ids[(8, 0, 3)]]
    assert longest.total == 27 and [p.step for p in longest.points] == [0, 13, 26]
    assert found[ids[(0, 0, 0)]].points[0].value == 0.999
    with pytest.raises(ValueError, match="at least 2"):
        finder.get_metric_curves(run_ids, "val/acc", max_points=1)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_older_search_is_analysed_by_rung(filled: Any, kit: Any):
    client = TestClient(create_app(filled.url), base_url=BASE, raise_server_exceptions=False)
    root = f"/api/searches/{kit.search_id.replace('%', '%25')}/analysis"
    body = _get(client, f"{root}/history")
    assert body["level_kind"] == "rung" and body["metric"] == "val_acc"
    assert [lv["level"] for lv in body["levels"]] == [0, 1, 2]
    assert body["evaluations"]["cumulative_budget"] == [None] * 7
    ids = [
        filled.runs[f"trial-{r}-{lr}"]
        for r, lrs in enumerate([[0.1, 0.01, 0.001, 0.0001], [0.01, 0.001], [0.01]])
        for lr in lrs
    ]
    assert body["evaluations"]["run_id"] == ids
    assert body["answer"]["run_id"] == filled.runs["trial-2-0.01"]
    parallel = _get(client, f"{root}/parallel")
    assert parallel["budget"] == 0 and parallel["columns"]["optim.lr"] == [0.1, 0.01, 0.001, 0.0001]
    assert _get(client, f"{root}/parallel?budget=2")["run_id"] == [filled.runs["trial-2-0.01"]]
    response = client.get(f"{root}/contour")
    assert response.status_code == 400
    assert response.json()["error"] == "this search varies 1 parameter(s): nothing to draw for y"


def test_a_search_with_two_objectives_draws_no_single_objective_answer_path(db_url: str) -> None:
    """Trial 0 is best on ``f1`` alone, but the front at budget 9 is trials 1 and 2 and the
    pick (nearest the ideal point) is trial 1: the history must not draw a running best of
    ``f1`` that ends elsewhere than the search's answer."""
    from ato.adict import ADict
    from ato.tracker import SQLLogger
    from ato.tracker.search_runs import SearchRun

    logger = SQLLogger(ADict(experiment=ADict(project_name="mo", sql=ADict(db_path=db_url))))
    layout = [
        (0, 0, 3, 0.0, 9.0),
        (1, 1, 9, 0.2, 1.0),
        (2, 1, 9, 1.0, 0.0),
    ]  # trial, rung, budget, f1, f2
    ids = {}
    for trial, rung, budget, f1, f2 in layout:
        facts = SearchRun(
            search_id="mo",
            rung=rung,
            trial_id=str(trial),
            bracket=0,
            budget=budget,
            objectives=(("min", "f1"), ("min", "f2")),
        )
        ids[trial] = logger.start_search_run(facts, {"x": float(trial)})
        logger.log_metric("search/f1", f1, rung)
        logger.log_metric("search/f2", f2, rung)
        logger.finish()
    logger.close()
    client = TestClient(create_app(db_url), base_url=BASE, raise_server_exceptions=False)
    body = _get(client, "/api/searches/mo/analysis/history")
    assert body["objectives"] == 2 and body["answer"]["run_id"] == ids[1]
    assert body["answer_path"]["run_id"] == [None, None, None]
    assert body["evaluations"]["value"] == [0.0, 0.2, 1.0]  # the first objective, search/f1
