"""DatabaseExecutor over any JobQueue (here an in-memory one, no tracker): worker threads
share one search, each job runs once, every worker returns the same answer, a seeded
sampler never hands one point to two workers, and a worker with other settings is refused."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from ato.adict import ADict
from ato.hyperopt import (
    ASHASchedule,
    DatabaseExecutor,
    HyperbandSchedule,
    JobQueue,
    RandomSampler,
    Search,
    SearchSettingError,
    trial_context,
)

SPACES = {"x": {"param_type": "FLOAT", "param_range": (0.0, 1.0)}}


class MemoryQueue:
    """A JobQueue in memory, shared by threads (one lock plays the database's)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.seq = 0
        self.finished = False

    def worker(self, name: str) -> Worker:
        return Worker(self, name)


class Worker:
    heartbeat_interval = 10.0

    def __init__(self, store: MemoryQueue, name: str) -> None:
        self.store, self.worker_id = store, name

    def open_search(self, search_id: str) -> None:
        pass

    def claim(self, search_id: str) -> dict[str, Any] | None:
        with self.store.lock:
            for job in self.store.jobs.values():
                if job["state"] == "queued":
                    job.update(state="claimed", claimed_by=self.worker_id)
                    job["attempts"] += 1
                    return dict(job)
        return None

    def plan(self, search_id: str, decide: Callable[[Any], Any]) -> Any:
        with self.store.lock:
            return decide(Plan(self))

    def heartbeat(self, search_id: str, job_key: str) -> bool:
        return True

    def complete(self, search_id: str, job_key: str, result: Mapping[str, Any]) -> bool:
        with self.store.lock:
            return Plan(self).complete(job_key, result)

    def release(self, search_id: str, job_key: str) -> bool:
        with self.store.lock:
            self.store.jobs[job_key].update(state="queued", claimed_by=None)
            return True

    def finish_search(self, search_id: str, answer_run: Any) -> bool:
        with self.store.lock:
            first, self.store.finished = not self.store.finished, True
            return first


class Plan:
    def __init__(self, worker: Worker) -> None:
        self.worker, self.store = worker, worker.store

    @property
    def seq(self) -> int:
        return self.store.seq

    def events(self, since: int) -> list[tuple[int, str, dict[str, Any]]]:
        out = []
        for job in self.store.jobs.values():
            if job["created_seq"] > since:
                out.append((job["created_seq"], "created", dict(job)))
            if job["done_seq"] is not None and job["done_seq"] > since:
                out.append((job["done_seq"], "finished", dict(job)))
        return sorted(out, key=lambda e: e[0])

    def add(self, jobs: list[Mapping[str, Any]], *, claim: bool) -> list[dict[str, Any]]:
        rows = []
        for job in jobs:
            self.store.seq += 1
            row = {
                **job,
                "state": "claimed" if claim else "queued",
                "claimed_by": self.worker.worker_id if claim else None,
                "attempts": int(claim),
                "result": None,
                "created_seq": self.store.seq,
                "done_seq": None,
            }
            self.store.jobs[row["job_key"]] = row
            rows.append(dict(row))
        return rows

    def claim(self) -> dict[str, Any] | None:
        return self.worker.claim("")

    def complete(self, job_key: str, result: Mapping[str, Any]) -> bool:
        job = self.store.jobs[job_key]
        if job["state"] != "claimed" or job["claimed_by"] != self.worker.worker_id:
            return False
        self.store.seq += 1
        state = "failed" if result.get("error") else "done"
        job.update(state=state, result=dict(result), done_seq=self.store.seq)
        return True


def _run(
    queue: MemoryQueue,
    schedule: Callable[[], Any],
    workers: int,
    seed: Callable[[int], int] = lambda i: 3,
) -> tuple[list[Any], list[tuple[int, int]], list[BaseException]]:
    results: list[Any] = []
    calls: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def trial(config: Any) -> float:
        ctx = trial_context()
        with lock:
            calls.append((ctx.trial_id, ctx.rung))
        return -((config.x - 0.3) ** 2) + 0.001 * ctx.budget

    def work(i: int, tmp: str = "") -> None:
        search = Search(
            ADict(x=0.0),
            SPACES,
            sampler=RandomSampler(seed=seed(i)),
            schedule=schedule(),
            executor=DatabaseExecutor(queue.worker(f"w{i}")),
            search_id="mem",
            checkpoint_root=tmp,
            progress=False,
        )
        try:
            result = search.main(trial)()
        except BaseException as exc:
            errors.append(exc)
            return
        with lock:
            results.append(result)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, calls, errors


def test_the_memory_queue_is_a_job_queue() -> None:
    assert isinstance(MemoryQueue().worker("w"), JobQueue)
    with pytest.raises(SearchSettingError, match="needs a job queue"):
        DatabaseExecutor(object())


def test_asha_workers_share_one_search(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    queue = MemoryQueue()
    results, calls, errors = _run(queue, lambda: ASHASchedule(9, 3, 1, max_trials=20), 3)
    assert errors == []
    assert Counter(calls).most_common(1)[0][1] == 1
    assert (
        len(calls) == len(queue.jobs) == sum(1 for j in queue.jobs.values() if j["state"] == "done")
    )
    assert sum(j["rung"] == 0 for j in queue.jobs.values()) == 20
    xs = [j["payload"]["values"]["x"] for j in queue.jobs.values() if j["rung"] == 0]
    assert len(set(xs)) == 20  # the seeded sampler, replayed, never repeats a point
    one = RandomSampler(seed=3)
    from ato.hyperopt.searchspace import SearchSpace

    one.setup(SearchSpace(SPACES), "max")
    assert xs == [one.ask(i)["x"] for i in range(20)]  # the points of one process, in order
    assert len({(r.trial_id, r.metric, r.budget) for r in results}) == 1
    assert results[0].budget == 9


def test_hyperband_workers_run_the_brackets_of_one_process(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    queue = MemoryQueue()
    results, calls, errors = _run(queue, lambda: HyperbandSchedule(9, 3, 1), 3)
    assert errors == []
    sizes = Counter((j["bracket"], j["rung"]) for j in queue.jobs.values())
    assert dict(sizes) == {(2, 0): 9, (2, 1): 3, (2, 2): 1, (1, 0): 5, (1, 1): 1, (0, 0): 3}
    assert Counter(calls).most_common(1)[0][1] == 1
    assert len({(r.trial_id, r.metric) for r in results}) == 1


def test_a_worker_with_other_settings_is_refused(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    queue = MemoryQueue()
    _run(queue, lambda: ASHASchedule(9, 3, 1, max_trials=4), 1)
    _, _, errors = _run(queue, lambda: ASHASchedule(9, 3, 3, max_trials=4), 1)
    assert len(errors) == 1 and isinstance(errors[0], SearchSettingError)
    assert "every worker of a shared search must run the same" in str(errors[0])


@pytest.mark.parametrize(
    "options",
    [{"mode": {"acc": "max", "ms": "min"}}, {"mode": "max", "constraint_keys": ["c"]}],
    ids=["two-objectives", "a-constraint"],
)
def test_several_objectives_are_refused_by_the_shared_executor(options: dict) -> None:
    with pytest.raises(SearchSettingError, match="cannot be shared through the database yet"):
        Search(
            ADict(x=0.0),
            SPACES,
            sampler=RandomSampler(seed=0),
            schedule=HyperbandSchedule(max_budget=9, reduction_factor=3),
            executor=DatabaseExecutor(MemoryQueue().worker("w")),
            progress=False,
            **options,
        )
