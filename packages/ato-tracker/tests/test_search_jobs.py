"""The job queue of shared searches (ato.tracker.search_jobs, revision 0008) on SQLite,
PostgreSQL and MariaDB: claims are exclusive and oldest first, a result is recorded once and
only by the claim's holder, stale claims come back (then fail after the retry limit),
released jobs are claimable again, events have one order, a result keeps its score (texts;
a float NaN is refused), and threads claiming at once never share a job."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

from ato.tracker.search_jobs import SearchJobQueue
from ato.tracker.storage import migrate
from ato.tracker.storage.database import dispose_engines

SEARCH = "s1"


def _job(trial: int, rung: int = 0) -> dict[str, Any]:
    return {
        "job_key": f"trial-{trial}/rung-{rung}",
        "trial_id": trial,
        "rung": rung,
        "bracket": 0,
        "payload": {"values": {"x": trial / 10}, "budget": 1},
    }


def _queue(db_url: str, worker: str, **kwargs: Any) -> SearchJobQueue:
    queue = SearchJobQueue(db_url, worker=worker, **kwargs)
    queue.open_search(SEARCH)
    return queue


def _add(
    queue: SearchJobQueue, jobs: list[dict[str, Any]], claim: bool = False
) -> list[dict[str, Any]]:
    return queue.plan(SEARCH, lambda plan: plan.add(jobs, claim=claim))


def test_claims_are_exclusive_and_oldest_first(db_url: str) -> None:
    a, b = _queue(db_url, "a"), _queue(db_url, "b")
    _add(a, [_job(0), _job(1)])
    first, second = a.claim(SEARCH), b.claim(SEARCH)
    assert (first["job_key"], first["claimed_by"], first["attempts"]) == ("trial-0/rung-0", "a", 1)
    assert (second["job_key"], second["claimed_by"]) == ("trial-1/rung-0", "b")
    assert a.claim(SEARCH) is None
    assert first["payload"] == {"values": {"x": 0.0}, "budget": 1}


def test_a_result_is_recorded_once_by_the_claims_holder(db_url: str) -> None:
    a, b = _queue(db_url, "a"), _queue(db_url, "b")
    _add(a, [_job(0)])
    a.claim(SEARCH)
    result = {"metric": "0.5", "error": None, "run_id": 7}
    assert b.complete(SEARCH, "trial-0/rung-0", result) is False
    assert a.complete(SEARCH, "trial-0/rung-0", result) is True
    assert a.complete(SEARCH, "trial-0/rung-0", result) is False
    (job,) = a.jobs(SEARCH)
    assert (job["state"], job["result"], job["created_seq"], job["done_seq"]) == (
        "done",
        result,
        1,
        2,
    )


def test_a_result_keeps_a_score_of_texts_and_refuses_a_float_nan(db_url: str) -> None:
    a = _queue(db_url, "a")
    _add(a, [_job(0), _job(1)])
    a.claim(SEARCH)
    with pytest.raises(ValueError, match=r"result\['score'\]\[1\] is nan: .*as text"):
        a.complete(SEARCH, "trial-0/rung-0", {"metric": "0.5", "score": [0.5, float("nan")]})
    score = ["0.5", "nan", "-inf", "1e-300"]  # objectives then constraints, as ato.hyperopt
    result = {"metric": "0.5", "error": None, "run_id": 3, "score": score}
    assert a.complete(SEARCH, "trial-0/rung-0", result) is True
    a.claim(SEARCH)
    with pytest.raises(ValueError, match=r"result\['metric'\] is inf"):
        a.plan(SEARCH, lambda plan: plan.complete("trial-1/rung-0", {"metric": float("inf")}))
    done = [j for j in a.jobs(SEARCH) if j["state"] == "done"]
    assert [j["result"] for j in done] == [result]
    events = a.plan(SEARCH, lambda plan: plan.events(0))
    assert [e[2]["result"] for e in events if e[1] == "finished"] == [result]


def test_events_come_in_stamp_order(db_url: str) -> None:
    a = _queue(db_url, "a")
    _add(a, [_job(0), _job(1)])
    a.claim(SEARCH)
    a.complete(SEARCH, "trial-0/rung-0", {"metric": "nan", "error": None, "run_id": None})
    _add(a, [_job(0, 1)], claim=True)
    events = a.plan(SEARCH, lambda plan: [(s, kind, j["job_key"]) for s, kind, j in plan.events(0)])
    assert events == [
        (1, "created", "trial-0/rung-0"),
        (2, "created", "trial-1/rung-0"),
        (3, "finished", "trial-0/rung-0"),
        (4, "created", "trial-0/rung-1"),
    ]
    assert a.plan(SEARCH, lambda plan: (plan.seq, plan.events(3)[0][0])) == (4, 4)


def test_stamps_stay_one_gapless_order_whatever_a_decision_uses(db_url: str) -> None:
    """A plan reserves as many stamps as the worker's previous one used (with the lock, where
    the dialect has UPDATE ... RETURNING); a decision using fewer, more or none stores its
    own count, and the other worker's stamps follow on."""
    a, b = _queue(db_url, "a"), _queue(db_url, "b")
    for count in (2, 2, 1, 3, 0, 1):  # the same as before, fewer, more, none
        _add(a, [_job(10 * len(a.jobs(SEARCH)) + i) for i in range(count)], claim=True)
        _add(b, [_job(1000 + len(b.jobs(SEARCH)))], claim=True)
    stamps = [j["created_seq"] for j in a.jobs(SEARCH)]
    assert stamps == list(range(1, 16))
    assert a.plan(SEARCH, lambda plan: plan.seq) == 15
    assert (a.changed_since(SEARCH, 14), a.changed_since(SEARCH, 15)) == (True, False)


def test_a_stale_claim_is_taken_back_then_failed_after_the_retry_limit(db_url: str) -> None:
    a = _queue(db_url, "a", heartbeat_timeout=0.2, max_attempts=2)
    b = _queue(db_url, "b", heartbeat_timeout=0.2, max_attempts=2)
    _add(a, [_job(0)], claim=True)
    time.sleep(0.5)
    b.plan(SEARCH, lambda plan: None)  # a plan takes stale claims back
    again = b.claim(SEARCH)
    assert (again["claimed_by"], again["attempts"]) == ("b", 2)
    assert (
        a.complete(SEARCH, "trial-0/rung-0", {"metric": "1.0", "error": None, "run_id": 1}) is False
    )
    time.sleep(0.5)
    events = a.plan(SEARCH, lambda plan: plan.events(1))
    (job,) = a.jobs(SEARCH)
    assert (job["state"], job["result"]["metric"], job["done_seq"]) == ("failed", None, 2)
    assert job["result"]["error"].startswith(
        "WorkerLost: the worker running it stopped heartbeating 2 times"
    )
    assert [(s, kind) for s, kind, _ in events] == [(2, "finished")]


def test_a_heartbeat_keeps_a_claim(db_url: str) -> None:
    a = _queue(db_url, "a", heartbeat_timeout=0.4)
    _add(a, [_job(0)], claim=True)
    for _ in range(4):
        time.sleep(0.15)
        assert a.heartbeat(SEARCH, "trial-0/rung-0") is True
        a.plan(SEARCH, lambda plan: None)
    assert a.jobs(SEARCH)[0]["state"] == "claimed"
    assert _queue(db_url, "b").heartbeat(SEARCH, "trial-0/rung-0") is False


def test_a_released_job_is_claimable_and_keeps_its_attempts(db_url: str) -> None:
    a, b = _queue(db_url, "a"), _queue(db_url, "b")
    _add(a, [_job(0)])
    a.claim(SEARCH)
    assert b.release(SEARCH, "trial-0/rung-0") is False
    assert a.release(SEARCH, "trial-0/rung-0") is True
    job = b.claim(SEARCH)
    assert (job["claimed_by"], job["attempts"]) == ("b", 1)


def test_a_claim_answers_the_job_as_stored(db_url: str) -> None:
    a = _queue(db_url, "a")
    _add(a, [_job(0)])
    claimed = a.claim(SEARCH)
    assert claimed == a.jobs(SEARCH)[0]
    assert (claimed["state"], claimed["claimed_by"], claimed["attempts"]) == ("claimed", "a", 1)
    (made,) = _add(a, [_job(1)], claim=True)
    assert made == a.jobs(SEARCH)[1]
    beats = {w.worker: w.heartbeat for w in a.status(SEARCH).workers}
    assert beats["a"] is not None  # a job created claimed has a heartbeat at once


def test_a_plan_claims_only_what_is_queued(db_url: str) -> None:
    a, b = _queue(db_url, "a"), _queue(db_url, "b")
    assert a.plan(SEARCH, lambda plan: (plan.queued, plan.claim())) == (False, None)
    _add(a, [_job(0)])
    job = b.plan(SEARCH, lambda plan: (plan.queued, plan.claim()))
    assert job[0] is True and (job[1]["job_key"], job[1]["claimed_by"]) == ("trial-0/rung-0", "b")
    assert a.plan(SEARCH, lambda plan: plan.claim()) is None
    b.release(SEARCH, "trial-0/rung-0")  # queued again without a new event
    assert a.plan(SEARCH, lambda plan: plan.claim())["claimed_by"] == "a"


def test_changed_since_sees_new_events_and_queued_jobs(db_url: str) -> None:
    a, b = _queue(db_url, "a"), _queue(db_url, "b")
    assert a.changed_since(SEARCH, 0) is False
    _add(a, [_job(0)], claim=True)
    assert a.changed_since(SEARCH, 0) is True and a.changed_since(SEARCH, 1) is False
    a.complete(SEARCH, "trial-0/rung-0", {"metric": "1", "error": None, "run_id": None})
    assert b.changed_since(SEARCH, 1) is True and b.changed_since(SEARCH, 2) is False
    _add(a, [_job(1)], claim=True)
    a.release(SEARCH, "trial-1/rung-0")
    assert b.changed_since(SEARCH, 3) is True  # a queued job is work, though no new event
    b.claim(SEARCH)
    assert b.changed_since(SEARCH, 3) is False
    assert b.changed_since("missing", 0) is True


def test_status_counts_jobs_and_workers(db_url: str) -> None:
    a, b = _queue(db_url, "a"), _queue(db_url, "b")
    _add(a, [_job(0), _job(1), _job(2), _job(3)])
    for queue in (a, b, a):
        job = queue.claim(SEARCH)
        if queue is not a or job["trial_id"] == 0:
            queue.complete(SEARCH, job["job_key"], {"metric": "1", "error": None, "run_id": None})
    status = a.status(SEARCH)
    assert status.counts == {"queued": 1, "claimed": 1, "done": 2, "failed": 0}
    assert [(w.worker, w.done, w.running) for w in status.workers] == [
        ("a", 1, "trial-2/rung-0"),
        ("b", 1, None),
    ]
    assert a.finish_search(SEARCH, 5) is True and b.finish_search(SEARCH, 6) is False
    assert (a.status(SEARCH).finished, a.status(SEARCH).answer_run) == (True, 5)
    with pytest.raises(KeyError):
        a.status("nope")


def test_threads_claiming_at_once_never_share_a_job(db_url: str) -> None:
    queues = [_queue(db_url, f"w{i}") for i in range(6)]
    _add(queues[0], [_job(i) for i in range(120)])
    claimed: list[str] = []
    lock = threading.Lock()

    def work(queue: SearchJobQueue) -> None:
        while (job := queue.claim(SEARCH)) is not None:
            with lock:
                claimed.append(job["job_key"])

    threads = [threading.Thread(target=work, args=(q,)) for q in queues]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == 120 and set(Counter(claimed).values()) == {1}


def test_bad_settings_are_refused(sqlite_url: str) -> None:
    with pytest.raises(ValueError, match="heartbeat_timeout must be positive seconds, got 0"):
        SearchJobQueue(sqlite_url, heartbeat_timeout=0)
    with pytest.raises(ValueError, match="max_attempts must be an int >= 1, got 0"):
        SearchJobQueue(sqlite_url, max_attempts=0)
    with pytest.raises(TypeError, match="got int"):
        SearchJobQueue(3)
    with pytest.raises(KeyError, match="is not in the job queue"):
        SearchJobQueue(sqlite_url).plan("missing", lambda plan: None)


def test_revision_0008_adds_and_removes_the_tables(db_url: str) -> None:
    _queue(db_url, "a")
    dispose_engines()
    engine = create_engine(db_url)
    with engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "0007")
    assert not {"search_queues", "search_jobs"} & set(inspect(engine).get_table_names())
    engine.dispose()
    assert migrate.upgrade(db_url).applied == ["0008", "0009", "0010"]
    engine = create_engine(db_url)
    assert {"search_queues", "search_jobs"} <= set(inspect(engine).get_table_names())
    indexes = {i["name"] for i in inspect(engine).get_indexes("search_jobs")}
    engine.dispose()
    assert {"uq_search_jobs_key", "ix_search_jobs_state", "ix_search_jobs_created"} <= indexes
    dispose_engines()
    assert _queue(db_url, "b").claim(SEARCH) is None
