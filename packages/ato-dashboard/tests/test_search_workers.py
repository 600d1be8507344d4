"""Live per-worker progress of a search shared through the database (ato-hyperopt's
DatabaseExecutor writes the job queue; here ato.tracker.search_jobs stands in for two
workers): ``/api/searches/{id}/workers`` and the search page's Workers table, on every
backend, checked against what the queue holds."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from ato.dashboard import create_app
from ato.tracker.search_jobs import SearchJobQueue

BASE = "http://127.0.0.1"
NONE = "\N{EN DASH}"  # what the page shows for no job


def _jobs(count: int) -> list[dict[str, Any]]:
    return [
        {
            "job_key": f"trial-{t}/rung-0",
            "trial_id": t,
            "rung": 0,
            "bracket": 0,
            "payload": {"values": {"x": t}, "budget": 1},
        }
        for t in range(count)
    ]


def _share(db_url: str) -> tuple[SearchJobQueue, SearchJobQueue]:
    """Workers ``w-a`` and ``w-b`` on search ``hb``: 4 jobs; w-a finishes trial 0 and holds
    trial 2, w-b finishes trial 1; trial 3 stays queued."""
    a = SearchJobQueue(db_url, worker="w-a")
    b = SearchJobQueue(db_url, worker="w-b")
    a.open_search("hb")
    a.plan("hb", lambda plan: plan.add(_jobs(4), claim=False))
    done = {"metric": "0.5", "error": None, "run_id": None}
    assert a.complete("hb", a.claim("hb")["job_key"], done)
    assert b.complete("hb", b.claim("hb")["job_key"], done)
    assert a.claim("hb")["job_key"] == "trial-2/rung-0"
    return a, b


def _workers(client: TestClient, search_id: str) -> Any:
    return client.get(f"/api/searches/{search_id}/workers")


def test_workers_endpoint_reports_the_queue(db_url: str, kit: Any) -> None:
    ids = kit.fill_search(db_url, kit.hyperband)
    a, _ = _share(db_url)
    client = TestClient(create_app(db_url), base_url=BASE, raise_server_exceptions=False)
    body = _workers(client, "hb").json()
    beat = body["workers"][0].pop("heartbeat")
    assert isinstance(beat, str) and beat[:4].isdigit()  # ISO 8601, the database's clock
    assert body == {
        "search_id": "hb",
        "shared": True,
        "finished": False,
        "answer_run": None,
        "counts": {"queued": 1, "claimed": 1, "done": 2, "failed": 0},
        "workers": [
            {"worker": "w-a", "done": 1, "failed": 0, "running": "trial-2/rung-0"},
            {"worker": "w-b", "done": 1, "failed": 0, "running": None, "heartbeat": None},
        ],
    }
    answer = ids[kit.hyperband_answer]
    assert a.finish_search("hb", answer)
    body = _workers(client, "hb").json()
    assert (body["finished"], body["answer_run"]) == (True, answer)


def test_a_search_not_shared_and_an_unknown_one(db_url: str, kit: Any) -> None:
    kit.fill_search(db_url, kit.hyperband, search="solo")
    client = TestClient(create_app(db_url), base_url=BASE, raise_server_exceptions=False)
    assert _workers(client, "solo").json() == {"search_id": "solo", "shared": False}
    missing = _workers(client, "nope")
    assert missing.status_code == 404 and "search:nope" in missing.json()["error"]


@pytest.mark.browser
def test_search_page_shows_the_workers_until_the_search_ends(
    db_url: str, kit: Any, page: Any
) -> None:
    ids = kit.fill_search(db_url, kit.hyperband)
    a, b = _share(db_url)
    server = kit.start_server(db_url)
    try:
        p = page.goto(f"{server.base}/searches/hb")
        p.wait_for_selector("#workers-section:not([hidden]) #workers tbody tr")
        rows = p.eval_on_selector_all(
            "#workers tbody tr", "rs => rs.map(r => [...r.cells].map(c => c.textContent))"
        )
        assert [row[:4] for row in rows] == [
            ["w-a", "1", "0", "trial-2/rung-0"],
            ["w-b", "1", "0", NONE],
        ]
        assert p.inner_text("#workers-summary") == (
            "running · jobs: 1 queued, 1 claimed, 2 done, 0 failed"
        )
        done = {"metric": "0.7", "error": None, "run_id": None}
        assert a.complete("hb", "trial-2/rung-0", done)
        assert b.complete("hb", b.claim("hb")["job_key"], done)
        answer = ids[kit.hyperband_answer]
        assert b.finish_search("hb", answer)
        p.wait_for_function(
            "() => document.getElementById('workers-summary').textContent.startsWith('finished')",
            timeout=20_000,
        )
        assert p.inner_text("#workers-summary") == (
            f"finished · jobs: 0 queued, 0 claimed, 4 done, 0 failed · answer in run {answer}"
        )
        rows = p.eval_on_selector_all(
            "#workers tbody tr", "rs => rs.map(r => [...r.cells].map(c => c.textContent))"
        )
        assert [row[:4] for row in rows] == [["w-a", "2", "0", NONE], ["w-b", "2", "0", NONE]]
        assert page.errors == [], page.errors
    finally:
        server.server.should_exit = True
