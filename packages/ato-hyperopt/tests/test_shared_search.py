"""DatabaseExecutor over any JobQueue (here an in-memory one, no tracker): worker threads
share one search, each job runs once, every worker returns the same answer, a seeded
sampler never hands one point to two workers, and a worker with other settings is refused.
Several objectives and constraints are shared (each job stores its score) and answer as one
process does; an unseeded Optuna sampler and BOHB adopt the other workers' trials and learn
from every result, also when the search is resumed by new workers."""

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
    OptunaSampler,
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


def _trial(calls: list[tuple[int, int]], lock: threading.Lock) -> Callable[[Any], float]:
    def trial(config: Any) -> float:
        ctx = trial_context()
        with lock:
            calls.append((ctx.trial_id, ctx.rung))
        return -((config.x - 0.3) ** 2) + 0.001 * ctx.budget

    return trial


def _run(
    queue: MemoryQueue,
    schedule: Callable[[], Any],
    workers: int,
    seed: Callable[[int], int] = lambda i: 3,
    *,
    sampler: Callable[[int], Any] | None = None,
    trial: Callable[[list[tuple[int, int]], threading.Lock], Callable[[Any], Any]] = _trial,
    samplers: list[Any] | None = None,
    **options: Any,
) -> tuple[list[Any], list[tuple[int, int]], list[BaseException]]:
    """Run ``workers`` threads of one search over ``queue``; their results, the (trial, rung)
    of every call of the trial function and the errors raised. ``samplers`` (if given)
    receives each worker's sampler."""
    results: list[Any] = []
    calls: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    func = trial(calls, lock)

    def work(i: int, tmp: str = "") -> None:
        mine = sampler(i) if sampler is not None else RandomSampler(seed=seed(i))
        if samplers is not None:
            with lock:
                samplers.append(mine)
        search = Search(
            ADict(x=0.0),
            SPACES,
            sampler=mine,
            schedule=schedule(),
            executor=DatabaseExecutor(queue.worker(f"w{i}")),
            search_id="mem",
            checkpoint_root=tmp,
            progress=False,
            **options,
        )
        try:
            result = search.main(func)()
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


def _scored(calls: list[tuple[int, int]], lock: threading.Lock) -> Callable[[Any], Any]:
    """Two objectives (``acc`` max near x = 0.3, ``ms`` min) and a constraint ``c``
    (feasible when x >= 0.1), deterministic in (x, budget)."""

    def trial(config: Any) -> dict[str, float]:
        ctx = trial_context()
        with lock:
            calls.append((ctx.trial_id, ctx.rung))
        acc = -((config.x - 0.3) ** 2) + 0.001 * ctx.budget
        return {"acc": acc, "ms": 10 * config.x, "c": 0.1 - config.x}

    return trial


OBJECTIVES = [
    {"mode": {"acc": "max", "ms": "min"}, "constraint_keys": ["c"]},
    {"mode": "max", "metric_key": "acc", "constraint_keys": ["c"]},
]


def _front(result: Any) -> list[tuple[int, Any, dict[str, float]]]:
    return [(m.trial_id, m.budget, dict(m.metric)) for m in result.front]


@pytest.mark.parametrize("options", OBJECTIVES, ids=["two-objectives", "one-constrained"])
def test_a_shared_search_with_several_objectives_answers_as_one_process(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, options: dict[str, Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    queue = MemoryQueue()
    schedule = lambda: HyperbandSchedule(9, 3, 1)  # noqa: E731
    results, calls, errors = _run(queue, schedule, 3, trial=_scored, **options)
    assert errors == []
    assert Counter(calls).most_common(1)[0][1] == 1
    keys = [*options["mode"], "c"] if isinstance(options["mode"], dict) else ["acc", "c"]
    assert all(len(job["result"]["score"]) == len(keys) for job in queue.jobs.values())
    one: list[tuple[int, int]] = []
    alone = Search(
        ADict(x=0.0),
        SPACES,
        sampler=RandomSampler(seed=3),
        schedule=schedule(),
        progress=False,
        checkpoint_root="alone",
        **options,
    ).main(_scored(one, threading.Lock()))()
    assert sorted(calls) == sorted(one)  # the same decisions, given the same results
    for result in results:
        assert (result.trial_id, result.budget, dict(result.metric)) == (
            alone.trial_id,
            alone.budget,
            dict(alone.metric),
        )
        assert _front(result) == _front(alone) and len(alone.front) >= 1
        assert all(m.metric.c <= 0 for m in result.front)


def test_asha_shares_a_multi_objective_search(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ato.hyperopt.answer import Evaluation, find_answer, find_front
    from ato.hyperopt.objectives import Objectives
    from ato.hyperopt.shared import score_of

    monkeypatch.chdir(tmp_path)
    queue = MemoryQueue()
    schedule = lambda: ASHASchedule(9, 3, 1, max_trials=24)  # noqa: E731
    results, calls, errors = _run(queue, schedule, 3, trial=_scored, **OBJECTIVES[0])
    assert errors == [] and len(results) == 3
    assert Counter(calls).most_common(1)[0][1] == 1
    objectives = Objectives(("acc", "ms"), ("max", "min"), ("c",))
    evaluations = [
        Evaluation(
            j["trial_id"],
            j["rung"],
            j["payload"]["budget"],
            float(j["result"]["metric"]),
            False,
            None,
            score_of(j, objectives),
        )
        for j in queue.jobs.values()
    ]
    answer = find_answer(evaluations, "max")
    front = [(e.trial_id, e.budget) for e in find_front(evaluations)]
    assert answer is not None and front
    for result in results:
        assert (result.trial_id, result.budget) == (answer.trial_id, answer.budget)
        assert [(m.trial_id, m.budget) for m in result.front] == front


def test_an_unseeded_optuna_sampler_is_shared_by_adoption(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    monkeypatch.chdir(tmp_path)
    queue = MemoryQueue()
    samplers: list[Any] = []
    results, calls, errors = _run(
        queue,
        lambda: ASHASchedule(9, 3, 1, max_trials=16),
        3,
        sampler=lambda i: OptunaSampler(optuna.samplers.TPESampler(n_startup_trials=4)),
        samplers=samplers,
    )
    assert errors == [] and len(results) == 3
    assert Counter(calls).most_common(1)[0][1] == 1  # no job evaluated twice
    assert len({(r.trial_id, r.metric) for r in results}) == 1
    jobs = list(queue.jobs.values())
    xs = {j["trial_id"]: j["payload"]["values"]["x"] for j in jobs if j["rung"] == 0}
    assert len(xs) == 16 and len(set(xs.values())) == 16
    steps: dict[float, dict[int, float]] = {x: {} for x in xs.values()}
    for job in jobs:
        steps[xs[job["trial_id"]]][job["rung"]] = float(job["result"]["metric"])
    for sampler in samplers:  # every worker's study holds every trial with every result
        seen = {t.params["x"]: dict(t.intermediate_values) for t in sampler.study.trials}
        assert seen == steps


def test_bohb_workers_resume_a_shared_search_and_learn_from_every_result(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ato.hyperopt import BOHBSampler

    monkeypatch.chdir(tmp_path)
    queue = MemoryQueue()
    schedule = lambda: ASHASchedule(9, 3, 1, max_trials=30)  # noqa: E731

    def stopping(calls: list[tuple[int, int]], lock: threading.Lock) -> Callable[[Any], float]:
        def trial(config: Any) -> float:  # SIGTERM's effect: stop once 8 calls were made
            with lock:
                if len(calls) >= 8:
                    raise KeyboardInterrupt("stop")
                ctx = trial_context()
                calls.append((ctx.trial_id, ctx.rung))
            return -((config.x - 0.3) ** 2) + 0.001 * ctx.budget

        return trial

    _, first, errors = _run(queue, schedule, 2, sampler=lambda i: BOHBSampler(), trial=stopping)
    assert len(errors) == 2 and all(isinstance(e, KeyboardInterrupt) for e in errors)
    assert len(first) == 8 and not queue.finished
    samplers: list[Any] = []
    results, calls, errors = _run(
        queue, schedule, 2, sampler=lambda i: BOHBSampler(), samplers=samplers, resume=True
    )
    assert errors == [] and len(results) == 2
    assert not set(first) & set(calls) and Counter(calls).most_common(1)[0][1] == 1
    jobs = list(queue.jobs.values())
    assert all(j["state"] == "done" for j in jobs) and len(jobs) == len(first) + len(calls)
    seen: dict[Any, list[int]] = {}
    for job in jobs:
        seen.setdefault(job["payload"]["budget"], []).append(job["trial_id"])
    for sampler in samplers:  # each worker's model holds every worker's results
        assert {b: sorted(o) for b, o in sampler.observations.items()} == {
            b: sorted(t) for b, t in seen.items()
        }
    assert sum(b is not None for s in samplers for b in s.proposed_from.values()) > 0
    assert len({(r.trial_id, r.metric) for r in results}) == 1
