"""Incremental replay of a shared search (ato.hyperopt.shared): a replica that replays the
event log in pieces, cut anywhere, is in the state of one that replays the same events at
once (a worker joining late); workers that joined at different times end in one state; a
worker that must wait looks at the queue without deciding again."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_shared_search import SPACES, MemoryQueue, Plan, Worker, _run

from ato.adict import ADict
from ato.hyperopt import (
    ASHASchedule,
    DatabaseExecutor,
    HyperbandSchedule,
    RandomSampler,
    Search,
    SearchSettingError,
    trial_context,
)
from ato.hyperopt.ahead import PlanAhead
from ato.hyperopt.search import _Book
from ato.hyperopt.shared import SharedWorker, _Replica

SCHEDULES: dict[str, Callable[[], Any]] = {
    "asha": lambda: ASHASchedule(9, 3, 1, max_trials=20),
    "hyperband": lambda: HyperbandSchedule(9, 3, 1),
}
Event = tuple[int, str, dict[str, Any]]


def _replica(schedule: Any) -> _Replica:
    search = Search(
        ADict(x=0.0),
        SPACES,
        sampler=RandomSampler(seed=3),
        schedule=schedule,
        executor=DatabaseExecutor(MemoryQueue().worker("replica")),
        search_id="mem",
        progress=False,
    )
    return _Replica(search, functools.partial(_Book, search))


def _state(replica: _Replica) -> tuple[Any, ...]:
    """Everything a replica decides from: its stamps, jobs and values, the sampler's random
    state, and the schedule's (ASHA's rungs; the open brackets of a synchronous one)."""
    search = replica.search
    common = (
        replica.seq,
        {key: job["result"] for key, job in replica.finished.items()},
        sorted(replica.created),
        replica.values,
        replica.book.values,
        search.sampler._rng.getstate(),
    )
    if replica.asha:
        s = search.schedule
        return (*common, s.results, s.promoted, s.started, s.running, s._ranking)
    streams = [(t.number, t.batch, t.jobs, t.metrics, t.over) for t in replica.streams]
    return (*common, streams)


@functools.cache
def _log(name: str) -> list[Event]:
    """The events of a finished search of 3 workers with schedule ``name``."""
    queue = MemoryQueue()
    _, _, errors = _run(queue, SCHEDULES[name], 3)
    assert errors == []
    return Plan(queue.worker("reader")).events(0)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_replaying_in_pieces_equals_replaying_at_once(name: str, data: st.DataObject) -> None:
    events = _log(name)
    cuts = sorted(data.draw(st.sets(st.integers(0, len(events)), max_size=8), label="cuts"))
    pieces = _replica(SCHEDULES[name]())
    done = 0
    for cut in [*cuts, len(events)]:
        pieces.replay(events[done:cut])
        done = cut
        late = _replica(SCHEDULES[name]())  # a worker that joins now replays all at once
        late.replay(events[:cut])
        assert _state(pieces) == _state(late)


@pytest.mark.parametrize("plan_ahead", [True, False], ids=["plan-ahead", "when-free"])
def test_a_worker_joining_late_ends_in_the_state_of_the_others(
    plan_ahead: bool, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    replicas: list[_Replica] = []
    answer = SharedWorker._answer

    def keep(self: SharedWorker) -> Any:
        replicas.append(self.replica)
        return answer(self)

    monkeypatch.setattr(SharedWorker, "_answer", keep)
    queue = MemoryQueue()
    results: list[Any] = []
    ran: list[tuple[int, int]] = []
    late: list[threading.Thread] = []

    def work(name: str) -> None:
        search = Search(
            ADict(x=0.0),
            SPACES,
            sampler=RandomSampler(seed=3),
            schedule=SCHEDULES["asha"](),
            executor=DatabaseExecutor(queue.worker(name), plan_ahead=plan_ahead),
            search_id="mem",
            progress=False,
        )
        results.append(search.main(trial)())

    def trial(config: Any) -> float:
        ctx = trial_context()
        ran.append((ctx.trial_id, ctx.rung))
        if len(ran) == 12:  # the search is under way: another worker joins
            late.append(threading.Thread(target=work, args=("late",)))
            late[0].start()
        return -((config.x - 0.3) ** 2) + 0.001 * ctx.budget

    first = threading.Thread(target=work, args=("first",))
    first.start()
    first.join()
    late[0].join()
    assert len(results) == 2 and len({(r.trial_id, r.metric) for r in results}) == 1
    assert len(ran) == len(set(ran)) == len(queue.jobs)
    whole = _replica(SCHEDULES["asha"]())
    whole.replay(Plan(queue.worker("reader")).events(0))
    assert _state(replicas[0]) == _state(replicas[1]) == _state(whole)


class WatchingWorker(Worker):
    """A worker of the memory queue with ``changed_since``, counting its looks and plans."""

    def __init__(self, store: MemoryQueue, name: str, looked: threading.Event | None) -> None:
        super().__init__(store, name)
        self.looks = self.plans = 0
        self.looked = looked

    def changed_since(self, search_id: str, seq: int) -> bool:
        with self.store.lock:
            self.looks += 1
            if self.looks >= 3 and self.looked is not None:
                self.looked.set()
            queued = any(job["state"] == "queued" for job in self.store.jobs.values())
            return self.store.seq > seq or queued

    def plan(self, search_id: str, decide: Callable[[Any], Any]) -> Any:
        self.plans += 1
        return super().plan(search_id, decide)


@pytest.mark.parametrize("plan_ahead", [True, False], ids=["plan-ahead", "when-free"])
def test_a_waiting_worker_looks_without_deciding_until_a_job_finishes(
    plan_ahead: bool, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    queue, looked = MemoryQueue(), threading.Event()
    workers = [WatchingWorker(queue, "runs", None), WatchingWorker(queue, "waits", looked)]
    started = threading.Event()
    results: list[Any] = []

    def trial(config: Any) -> float:  # the one job: held until the other worker looked 3 times
        started.set()
        assert looked.wait(30)
        return 1.0

    def work(worker: WatchingWorker, tmp: str = "") -> None:
        search = Search(
            ADict(x=0.0),
            SPACES,
            sampler=RandomSampler(seed=3),
            schedule=ASHASchedule(9, 3, 1, max_trials=1),
            executor=DatabaseExecutor(
                worker, poll_interval=0.001, max_poll_interval=0.002, plan_ahead=plan_ahead
            ),
            search_id="mem",
            progress=False,
        )
        results.append(search.main(trial)())

    runs = threading.Thread(target=work, args=(workers[0],))
    runs.start()
    assert started.wait(30)
    waits = threading.Thread(target=work, args=(workers[1],))
    waits.start()
    runs.join()
    waits.join()
    assert len(results) == 2
    assert workers[1].looks >= 3
    assert workers[1].plans == 2  # WAIT, then (after the result) STOP: no decision between


def _planner(decide: Callable[[list[Any]], Any], beats: list[str] | None = None) -> PlanAhead:
    def wait(pause: Callable[[float], bool]) -> None:
        pause(0.001)

    return PlanAhead(decide, wait, (beats if beats is not None else []).append, 0.01)


def test_the_planner_decides_ahead_and_records_the_results_handed_over() -> None:
    seen: list[list[Any]] = []
    steps = iter([{"job_key": "a"}, "wait", {"job_key": "b"}, "stop"])

    def decide(results: list[Any]) -> Any:
        seen.append([job["job_key"] for job, _ in results])
        return next(steps)

    ahead = _planner(decide)
    ahead.start()
    assert ahead.take(lambda: False) == {"job_key": "a"}
    ahead.done({"job_key": "a"}, {"metric": "1"})
    assert ahead.take(lambda: False) == {"job_key": "b"}
    assert ahead.take(lambda: False) == "stop"
    assert ahead.close() == (None, [])
    assert seen[0] == [] and ["a"] in seen[1:]  # a's result went with a later decision


def test_a_planner_holding_a_job_heartbeats_it_and_gives_it_back_when_closed() -> None:
    beats: list[str] = []
    ahead = _planner(lambda results: {"job_key": "held"}, beats)
    ahead.start()
    first = ahead.take(lambda: False)
    ahead.done(first, {"metric": "2"})
    for _ in range(500):  # the next job waits in the slot, heartbeaten
        if beats:
            break
        threading.Event().wait(0.01)
    assert beats and set(beats) == {"held"}
    held, results = ahead.close()
    assert held == {"job_key": "held"}
    assert results == [] or results == [(first, {"metric": "2"})]


def test_a_planner_error_reaches_the_worker_and_a_signal_stops_the_wait() -> None:
    def fail(results: list[Any]) -> Any:
        raise SearchSettingError("other settings")

    ahead = _planner(fail)
    ahead.start()
    with pytest.raises(SearchSettingError, match="other settings"):
        ahead.take(lambda: False)
    ahead.close()
    waiting = _planner(lambda results: "wait")
    waiting.start()
    assert waiting.take(lambda: True) is None  # interrupted: no job
    assert waiting.close() == (None, [])
