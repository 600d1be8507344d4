"""The Pareto-front view (``/api/searches/{id}/analysis/front``) of a search with two
objectives and a constraint, and the analysis documents kept per search state, on every
backend: values checked against the metric rows in the database, front and pick against a
non-dominance check written here and the tracker's answer rule."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, select
from starlette.testclient import TestClient

from ato.adict import ADict
from ato.dashboard import create_app
from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.search_runs import SearchRun
from ato.tracker.storage.models import MetricRecord

BASE = "http://127.0.0.1"
ROOT = "/api/searches/mo/analysis"
OBJECTIVES = (("min", "f1"), ("max", "gain"))
#: trial, rung, budget, (f1, gain, c), status. At budget 9: 2, 3, 4 are the front; 5 is
#: dominated by 3; 6 beats everyone but is infeasible (c > 0); 7 failed; 8 logged no gain.
LAYOUT = [
    (0, 0, 3, (0.0, 9.0, -1.0), "completed"),
    (1, 0, 3, (0.1, 9.0, -1.0), "completed"),
    (2, 1, 9, (0.0, 1.0, -1.0), "completed"),
    (3, 1, 9, (0.3, 3.0, 0.0), "completed"),
    (4, 1, 9, (1.0, 4.0, -2.0), "completed"),
    (5, 1, 9, (0.4, 2.0, -1.0), "completed"),
    (6, 1, 9, (0.0, 5.0, 0.5), "completed"),
    (7, 1, 9, (0.0, 9.0, -1.0), "failed"),
    (8, 1, 9, (0.2, None, -1.0), "completed"),
]


def write(url: str, layout: list[Any], search: str = "mo") -> dict[int, int]:
    """``layout`` as ato-hyperopt writes a search with two objectives and a constraint."""
    logger = SQLLogger(ADict(experiment=ADict(project_name="mo", sql=ADict(db_path=url))))
    ids = {}
    for trial, rung, budget, values, status in layout:
        facts = SearchRun(
            search_id=search,
            rung=rung,
            trial_id=str(trial),
            bracket=0,
            budget=budget,
            objectives=OBJECTIVES,
            constraint_keys=("c",),
        )
        ids[trial] = logger.start_search_run(facts, {"x": float(trial), "y": trial % 3})
        if status == "completed":
            for key, value in zip(("f1", "gain", "c"), values, strict=True):
                if value is not None:
                    logger.log_metric(f"search/{key}", value, rung)
        logger.finish(status)
    logger.close()
    return ids


def stored(url: str) -> dict[int, dict[str, float]]:
    """Per run id, per objective or constraint key, the value in the metrics table."""
    found: dict[int, dict[str, float]] = {}
    engine = create_engine(url if "://" in url else f"sqlite:///{url}")
    c = MetricRecord.__table__.c
    with engine.connect() as conn:
        for run_id, key, value in conn.execute(select(c.run_id, c.key, c.value)):
            found.setdefault(run_id, {})[key.removeprefix("search/")] = value
    engine.dispose()
    return found


def _dominated(p: tuple[float, float], points: list[tuple[float, float]]) -> bool:
    """``p`` (f1 to minimise, gain to maximise) is beaten by another point on both."""
    return any(q[0] <= p[0] and q[1] >= p[1] and q != p for q in points)


@pytest.fixture
def mo(db_url: str) -> tuple[TestClient, dict[int, int]]:
    ids = write(db_url, LAYOUT)
    return TestClient(create_app(db_url), base_url=BASE, raise_server_exceptions=False), ids


def _get(client: TestClient, path: str) -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_front_view_draws_the_database_and_the_trackers_front(mo: Any, db_url: str):
    client, ids = mo
    body = _get(client, f"{ROOT}/front")
    values = stored(db_url)
    trial_of = {run_id: trial for trial, run_id in ids.items()}
    plotted = [  # completed at budget 9 with both objectives, in run order
        ids[t] for t, _, b, v, s in LAYOUT if b == 9 and s == "completed" and None not in v[:2]
    ]
    assert body["objective_keys"] == ["f1", "gain"] and body["modes"] == dict(f1="min", gain="max")
    assert body["constraint_keys"] == ["c"] and (body["x"], body["y"]) == ("f1", "gain")
    assert body["budget"] == 9 and body["front_budget"] == 9 and body["count"] == len(plotted)
    points = body["points"]
    assert points["run_id"] == plotted
    assert points["trial"] == [str(trial_of[i]) for i in plotted]
    assert points["x"] == [values[i]["f1"] for i in plotted]
    assert points["y"] == [values[i]["gain"] for i in plotted]
    assert points["constraints"] == {"c": [values[i]["c"] for i in plotted]}
    assert points["feasible"] == [values[i]["c"] <= 0 for i in plotted]
    feasible = [(values[i]["f1"], values[i]["gain"]) for i in plotted if values[i]["c"] <= 0]
    front = [
        i
        for i in plotted
        if values[i]["c"] <= 0 and not _dominated((values[i]["f1"], values[i]["gain"]), feasible)
    ]
    assert front == [ids[2], ids[3], ids[4]]
    assert points["front"] == [i in front for i in plotted]
    line = sorted((values[i]["f1"], values[i]["gain"], i) for i in front)
    assert body["front_line"] == {
        "run_id": [i for _, _, i in line],
        "x": [x for x, _, _ in line],
        "y": [y for _, y, _ in line],
    }
    answer = SQLFinder(db_url, must_exist=True).find_search_answer("mo")
    assert body["answer"]["run_id"] == answer.run_id == ids[3]  # as `ato runs best --search`
    assert body["front_size"] == len(answer.front) == 3

    swapped = _get(client, f"{ROOT}/front?x=gain&y=f1&budget=3")
    assert (swapped["x"], swapped["y"], swapped["budget"]) == ("gain", "f1", 3)
    at_3 = [ids[0], ids[1]]
    assert swapped["points"]["run_id"] == at_3 and swapped["points"]["front"] == [False, False]
    assert swapped["points"]["x"] == [values[i]["gain"] for i in at_3]
    assert swapped["front_line"]["run_id"] == []


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("front?x=nope", 400, "x must be one of the search's objectives (f1, gain)"),
        ("front?x=gain&y=gain", 400, "x and y must be two different objectives"),
        ("front?budget=4", 400, "budget must be one of this search's budgets (3, 9)"),
        ("front?metric=search/f1", 400, "leave out metric and mode"),
        ("front?mode=min", 400, "leave out metric and mode"),
        ("front?mode=sideways", 400, "mode"),
    ],
)
def test_bad_front_parameters_get_a_message(mo: Any, query: str, status: int, message: str):
    client, _ = mo
    response = client.get(f"{ROOT}/{query}")
    assert response.status_code == status
    assert message in response.json()["error"]


def test_a_single_objective_search_has_no_front(db_url: str, kit: Any):
    kit.fill_search(db_url, kit.hyperband)
    client = TestClient(create_app(db_url), base_url=BASE, raise_server_exceptions=False)
    response = client.get("/api/searches/hb/analysis/front")
    assert response.status_code == 404
    assert response.json()["error"] == "search hb has one objective: no Pareto front to draw"


def test_documents_are_kept_until_the_search_changes(mo: Any, db_url: str):
    client, _ = mo
    cache = client.app.state.views  # type: ignore[attr-defined]
    first = _get(client, f"{ROOT}/front")
    assert (cache.reads, cache.hits) == (1, 0)
    assert _get(client, f"{ROOT}/front") == first
    _get(client, f"{ROOT}/history")  # drawn from the kept read
    assert (cache.reads, cache.hits) == (1, 1)
    write(db_url, [(9, 1, 9, (0.05, 8.0, -1.0), "completed")])  # a new front member
    again = _get(client, f"{ROOT}/front")
    assert cache.reads == 2
    assert len(again["points"]["run_id"]) == len(first["points"]["run_id"]) + 1
    assert again["answer"] != first["answer"] or again["front_line"] != first["front_line"]
    history = _get(client, f"{ROOT}/history")
    assert len(history["evaluations"]["run_id"]) == len(LAYOUT) + 1


def _run_ids(p: Any, selector: str) -> list[int]:
    return p.eval_on_selector_all(selector, "es => es.map(e => Number(e.dataset.runId))")


@pytest.mark.browser
def test_the_analysis_page_draws_the_front_in_a_browser(db_url: str, page: Any, kit: Any):
    ids = write(db_url, LAYOUT)
    values = stored(db_url)
    server = kit.start_server(db_url)
    try:
        p = page.goto(f"{server.base}/searches/mo/analysis")
        p.wait_for_function(
            "() => window.__atoAnalysis && window.__atoAnalysis.drawnFront === 'f1|gain@9'",
            timeout=60_000,
        )
        assert p.is_visible("#front-section")
        at_9 = [
            ids[t] for t, _, b, v, s in LAYOUT if b == 9 and s == "completed" and None not in v[:2]
        ]
        assert _run_ids(p, "#front .front-dot") == sorted(
            at_9, key=lambda i: i in (ids[2], ids[3], ids[4])
        )
        assert sorted(_run_ids(p, "#front .front-dot.member")) == [ids[2], ids[3], ids[4]]
        assert _run_ids(p, "#front .front-dot.infeasible") == [ids[6]]
        assert _run_ids(p, "#front .front-pick") == [ids[3]]
        assert p.eval_on_selector_all("#front path.front-line", "ps => ps.length") == 1
        titles = p.eval_on_selector_all(
            "#front .front-dot title", "ts => ts.map(t => t.textContent)"
        )
        i = ids[4]
        assert f"run {i} (trial 4): f1 = 1, gain = 4, c = -2" in titles
        assert values[i] == {"f1": 1.0, "gain": 4.0, "c": -2.0}
        drawn = p.text_content("#front")
        assert "f1 (min)" in drawn and "gain (max)" in drawn
        legend = p.inner_text("#front-legend")
        assert "Pareto front (3 shown)" in legend and "infeasible" in legend

        p.select_option("#front-budget", "3")
        p.wait_for_function("() => window.__atoAnalysis.drawnFront === 'f1|gain@3'")
        assert sorted(_run_ids(p, "#front .front-dot")) == [ids[0], ids[1]]
        assert _run_ids(p, "#front .front-dot.member") == []
        p.select_option("#front-x", "gain")
        p.select_option("#front-y", "f1")
        p.wait_for_function("() => window.__atoAnalysis.drawnFront === 'gain|f1@3'")
        assert page.errors == [], page.errors
        assert page.outside == [], page.outside
    finally:
        server.server.should_exit = True


@pytest.mark.browser
def test_a_single_objective_search_shows_no_front_section(db_url: str, page: Any, kit: Any):
    kit.fill_search(db_url, kit.hyperband)
    server = kit.start_server(db_url)
    try:
        p = page.goto(f"{server.base}/searches/hb/analysis")
        p.wait_for_function(
            "() => window.__atoAnalysis && window.__atoAnalysis.ready", timeout=60_000
        )
        assert not p.is_visible("#front-section")
        assert "front" not in p.evaluate("() => Object.keys(window.__atoAnalysis)")
        assert page.errors == [], page.errors
    finally:
        server.server.should_exit = True
