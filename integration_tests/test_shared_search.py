"""A search shared by worker processes through one database (issue 25), on SQLite, PostgreSQL
and MariaDB: no job lost or evaluated twice, ASHA's promotions valid (Li et al., MLSys 2020,
Algorithm 2), every worker returns the same answer, which is the answer rule's over the
stored jobs and the run tagged ``final``; a worker killed with SIGKILL mid-trial loses its
claim and the trial is retried; SIGTERM releases the running job; 8 SQLite workers never show
``database is locked``. Unseeded Optuna TPE workers each learn from every worker's results;
two objectives with a constraint answer with the front the tracker reads; BOHB workers resume
a search (two processes at once); killing two of eight workers (SIGKILL) loses nothing but
their attempts, and a worker that joins afterwards makes the same decisions and answer."""

from __future__ import annotations

import json
import math
import os
import pathlib
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from typing import Any

from ato.hyperopt import HyperbandSchedule
from ato.hyperopt.answer import Evaluation, find_answer, find_front
from ato.hyperopt.metric import rank_key
from ato.hyperopt.objectives import Objectives, Score
from ato.tracker import SQLFinder
from ato.tracker.search_jobs import SearchJobQueue

WORKER = pathlib.Path(__file__).with_name("shared_search_worker.py")
ETA = 3


def _settings(db_url: str, tmp_path: pathlib.Path, **more: Any) -> dict[str, Any]:
    return {
        "url": db_url,
        "search_id": f"shared-{uuid.uuid4().hex[:8]}",
        "schedule": "asha",
        "trials": 30,
        "seconds": [0.0, 0.02],
        "heartbeat_timeout": 30.0,
        "root": str(tmp_path / "searches"),
        "calls": str(tmp_path / "calls.txt"),
        "out": str(tmp_path / "answer"),
        **more,
    }


def _start(settings: dict[str, Any], count: int) -> list[subprocess.Popen[str]]:
    return [
        subprocess.Popen(
            [sys.executable, str(WORKER), json.dumps(settings)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]


def _wait(workers: list[subprocess.Popen[str]]) -> list[tuple[int, str]]:
    ended = []
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        ended.append((worker.returncode, err))
    return ended


def _answers(tmp_path: pathlib.Path, name: str = "answer") -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(tmp_path.glob(f"{name}.*.json"))]


def _calls(settings: dict[str, Any]) -> list[tuple[int, int, int, str]]:
    lines = pathlib.Path(settings["calls"]).read_text().split()
    return [
        (int(lines[i]), int(lines[i + 1]), int(lines[i + 2]), lines[i + 3])
        for i in range(0, len(lines), 4)
    ]


def _check_asha_promotions(jobs: list[dict[str, Any]]) -> int:
    """Every promotion to rung k+1 took a trial that was, when the job was created, in the top
    floor(n_k / eta) of the n_k results finished at rung k (ASHA's rule); returns how many
    promotions were checked."""
    checked = 0
    for job in jobs:
        if job["rung"] == 0:
            continue
        below = [
            j
            for j in jobs
            if j["rung"] == job["rung"] - 1
            and j["done_seq"] is not None
            and j["done_seq"] < job["created_seq"]
        ]
        ranked = sorted(
            below, key=lambda j: (rank_key(float(j["result"]["metric"]), "max"), j["trial_id"])
        )
        top = {j["trial_id"] for j in ranked[: len(ranked) // ETA]}
        assert job["trial_id"] in top, f"promotion of {job['job_key']} is not in the top 1/eta"
        checked += 1
    return checked


def _evaluations(
    jobs: list[dict[str, Any]], objectives: Objectives | None = None
) -> list[Evaluation]:
    """The stored results as the answer rule takes them (with scores when ``objectives``)."""
    return [
        Evaluation(
            j["trial_id"],
            j["rung"],
            j["payload"]["budget"],
            -math.inf if j["result"]["metric"] is None else float(j["result"]["metric"]),
            j["result"]["error"] is not None,
            j["result"]["run_id"],
            None if objectives is None else _score(j, objectives),
        )
        for j in jobs
    ]


def _score(job: dict[str, Any], objectives: Objectives) -> Score:
    texts = job["result"].get("score")
    if job["result"]["error"] is not None or not texts:
        return objectives.failed()
    return objectives.from_values(dict(zip(objectives.stored_keys, map(float, texts), strict=True)))


def _rule_answer(jobs: list[dict[str, Any]]) -> Evaluation | None:
    return find_answer(_evaluations(jobs), "max")


def _check_complete(
    settings: dict[str, Any], answers: list[dict[str, Any]], workers: int
) -> list[dict[str, Any]]:
    """Every job done once, every worker's answer the rule's and the run tagged final."""
    queue = SearchJobQueue(settings["url"])
    jobs = queue.jobs(settings["search_id"])
    assert Counter(j["state"] for j in jobs) == {"done": len(jobs)}
    assert len({j["job_key"] for j in jobs}) == len(jobs)
    assert len(answers) == workers
    rule = _rule_answer(jobs)
    assert rule is not None
    for answer in answers:
        assert (answer["trial_id"], answer["metric"], answer["run_id"]) == (
            rule.trial_id,
            rule.metric,
            rule.run_id,
        )
        assert answer["evaluations"] == len(jobs)
    finder = SQLFinder(settings["url"])
    final = [r.id for r in finder.get_runs_in_project("shared") if "final" in r.tags]
    assert final == [rule.run_id]
    status = queue.status(settings["search_id"])
    assert (status.finished, status.answer_run) == (True, rule.run_id)
    assert sum(w.done for w in status.workers) == len(jobs)
    return jobs


def test_asha_workers_share_one_search(db_url: str, tmp_path: pathlib.Path) -> None:
    settings = _settings(db_url, tmp_path)
    ended = _wait(_start(settings, 4))
    assert [code for code, _ in ended] == [0, 0, 0, 0], ended
    jobs = _check_complete(settings, _answers(tmp_path), 4)
    assert sum(j["rung"] == 0 for j in jobs) == 30
    assert _check_asha_promotions(jobs) == len(jobs) - 30
    starts = Counter((t, r) for t, r, _, what in _calls(settings) if what == "start")
    assert set(starts.values()) == {1} and len(starts) == len(jobs)
    assert all(j["attempts"] == 1 for j in jobs)


def test_hyperband_workers_run_every_bracket(db_url: str, tmp_path: pathlib.Path) -> None:
    settings = _settings(db_url, tmp_path, schedule="hyperband")
    ended = _wait(_start(settings, 3))
    assert [code for code, _ in ended] == [0, 0, 0], ended
    jobs = _check_complete(settings, _answers(tmp_path), 3)
    sizes = Counter((j["bracket"], j["rung"]) for j in jobs)
    expected = {}
    for s, rungs in zip(range(2, -1, -1), HyperbandSchedule(9, 3, 1).brackets(), strict=True):
        for i, (n, _) in enumerate(rungs):
            expected[(s, i)] = n
    assert dict(sizes) == expected
    starts = Counter((t, r) for t, r, _, what in _calls(settings) if what == "start")
    assert set(starts.values()) == {1}


def test_successive_halving_workers_wait_at_the_barrier(
    db_url: str, tmp_path: pathlib.Path
) -> None:
    settings = _settings(db_url, tmp_path, schedule="sh", trials=9)
    ended = _wait(_start(settings, 3))
    assert [code for code, _ in ended] == [0, 0, 0], ended
    jobs = _check_complete(settings, _answers(tmp_path), 3)
    assert Counter(j["rung"] for j in jobs) == {0: 9, 1: 3, 2: 1}


def _wait_for_start_by(settings: dict[str, Any], pid: int, timeout: float = 60) -> tuple[int, int]:
    """The (trial, rung) worker ``pid`` started and has not finished yet."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pathlib.Path(settings["calls"]).exists():
            calls = _calls(settings)
            started = {(t, r) for t, r, p, what in calls if p == pid and what == "start"}
            done = {(t, r) for t, r, p, what in calls if p == pid and what == "done"}
            if started - done:
                return min(started - done)
        time.sleep(0.02)
    raise AssertionError(f"worker {pid} started no trial")


def _wait_for_starts(settings: dict[str, Any], count: int, timeout: float = 120) -> None:
    """Until the workers started ``count`` evaluations."""
    path = pathlib.Path(settings["calls"])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().count(" start") >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"the workers did not start {count} evaluations")


def test_a_killed_worker_loses_its_claim_and_the_trial_is_retried(
    db_url: str, tmp_path: pathlib.Path
) -> None:
    settings = _settings(db_url, tmp_path, trials=12, seconds=[0.3, 0.3], heartbeat_timeout=1.0)
    workers = _start(settings, 3)
    victim = workers[0]
    job = _wait_for_start_by(settings, victim.pid)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    ended = _wait(workers[1:])
    assert [code for code, _ in ended] == [0, 0], ended
    jobs = _check_complete(settings, _answers(tmp_path), 2)
    retried = next(j for j in jobs if (j["trial_id"], j["rung"]) == job)
    assert retried["attempts"] == 2
    assert retried["claimed_by"].split(":")[1] != str(victim.pid)
    starts = Counter((t, r) for t, r, _, what in _calls(settings) if what == "start")
    assert starts[job] == 2
    assert all(n == 1 for key, n in starts.items() if key != job)


def test_sigterm_releases_the_running_job(db_url: str, tmp_path: pathlib.Path) -> None:
    settings = _settings(db_url, tmp_path, trials=12, seconds=[0.3, 0.3])
    workers = _start(settings, 2)
    leaver = workers[0]
    job = _wait_for_start_by(settings, leaver.pid)
    leaver.send_signal(signal.SIGTERM)
    _, err = leaver.communicate(timeout=60)
    assert leaver.returncode != 0 and "went back to the queue" in err
    ended = _wait(workers[1:])
    assert [code for code, _ in ended] == [0], ended
    jobs = _check_complete(settings, _answers(tmp_path), 1)
    released = next(j for j in jobs if (j["trial_id"], j["rung"]) == job)
    assert released["attempts"] == 1
    assert released["claimed_by"].split(":")[1] != str(leaver.pid)
    finder = SQLFinder(settings["url"])
    statuses = Counter(r.status for r in finder.get_runs_in_project("shared"))
    assert statuses == {"completed": len(jobs), "killed": 1}


def test_eight_sqlite_workers_never_report_a_locked_database(tmp_path: pathlib.Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    settings = _settings(url, tmp_path, trials=60, seconds=[0.0, 0.0])
    ended = _wait(_start(settings, 8))
    assert [code for code, _ in ended] == [0] * 8, ended
    assert not any("locked" in err.lower() for _, err in ended)
    _check_complete(settings, _answers(tmp_path), 8)


def _seen_steps(jobs: list[dict[str, Any]]) -> dict[float, dict[str, float]]:
    """Per trial (by its x), the metric of each rung: what a sampler told of every result
    holds as intermediate values."""
    xs = {j["trial_id"]: j["payload"]["values"]["x"] for j in jobs if j["rung"] == 0}
    steps: dict[float, dict[str, float]] = {x: {} for x in xs.values()}
    for job in jobs:
        steps[xs[job["trial_id"]]][str(job["rung"])] = float(job["result"]["metric"])
    return steps


def test_unseeded_tpe_workers_each_learn_from_every_result(
    db_url: str, tmp_path: pathlib.Path
) -> None:
    settings = _settings(db_url, tmp_path, sampler="tpe", trials=16, seconds=[0.0, 0.01])
    ended = _wait(_start(settings, 3))
    assert [code for code, _ in ended] == [0] * 3, ended
    answers = _answers(tmp_path)
    jobs = _check_complete(settings, answers, 3)
    starts = Counter((t, r) for t, r, _, what in _calls(settings) if what == "start")
    assert set(starts.values()) == {1} and len(starts) == len(jobs)  # nothing run twice
    steps = _seen_steps(jobs)
    assert len(steps) == 16  # 16 trials, 16 different points
    for answer in answers:  # each worker's study: every trial, at its stored point, told all
        assert {t["x"]: t["steps"] for t in answer["seen"]} == steps


def _studies_hold_every_trial(answers: list[dict[str, Any]], jobs: list[dict[str, Any]]) -> None:
    """Each worker's Optuna study holds every trial of the search, at its stored point, in
    the generation its proposer gave it (adopted trials count in their generation: a
    worker's CMA-ES or NSGA-II learns from every worker's trials, not only its own)."""
    stored = sorted(j["payload"]["values"]["x"] for j in jobs if j["rung"] == 0)
    generations = [{t["x"]: t["generation"] for t in answer["seen"]} for answer in answers]
    for answer in answers:
        assert sorted(t["x"] for t in answer["seen"]) == stored
    assert all(numbered == generations[0] for numbered in generations)
    assert any(generation is not None for generation in generations[0].values())


def test_cma_es_workers_share_one_search_by_adoption(tmp_path: pathlib.Path) -> None:
    import cmaes  # noqa: F401 - Optuna's CmaEsSampler needs it; the integration session installs it

    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    # 30 trials: CMA-ES samples (and numbers generations) once a trial completed the top
    # rung, after about 13 of ASHA's evaluations; the trials created later get generations
    settings = _settings(url, tmp_path, sampler="cmaes", trials=30, seconds=[0.0, 0.01])
    ended = _wait(_start(settings, 2))
    assert [code for code, _ in ended] == [0] * 2, ended
    answers = _answers(tmp_path)
    jobs = _check_complete(settings, answers, 2)
    starts = Counter((t, r) for t, r, _, what in _calls(settings) if what == "start")
    assert set(starts.values()) == {1} and len(starts) == len(jobs)  # nothing run twice
    _studies_hold_every_trial(answers, jobs)
    assert all(set(j["payload"]["values"]) == {"x", "y"} for j in jobs)
    for answer in answers:  # each study told every result
        assert {t["x"]: t["steps"] for t in answer["seen"]} == _seen_steps(jobs)


def test_nsga_ii_workers_answer_with_the_front_of_every_result(tmp_path: pathlib.Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    settings = _settings(
        url, tmp_path, sampler="nsga2", objectives="two", schedule="hyperband", seconds=[0, 0.01]
    )
    ended = _wait(_start(settings, 2))
    assert [code for code, _ in ended] == [0] * 2, ended
    jobs = SearchJobQueue(url).jobs(settings["search_id"])
    assert Counter(j["state"] for j in jobs) == {"done": 22}
    objectives = Objectives(("acc", "ms"), ("max", "min"), ("c",))
    evaluations = _evaluations(jobs, objectives)
    rule, front = find_answer(evaluations, "max"), find_front(evaluations)
    assert rule is not None and front
    answers = _answers(tmp_path)
    assert len(answers) == 2
    _studies_hold_every_trial(answers, jobs)
    highest = {  # per trial (by x), the objective values of its highest rung's result
        j["payload"]["values"]["x"]: [float(v) for v in j["result"]["score"][:2]]
        for j in sorted(jobs, key=lambda j: j["rung"])
    }
    for answer in answers:
        assert (answer["trial_id"], answer["run_id"]) == (rule.trial_id, rule.run_id)
        assert [(t, r) for t, r, _ in answer["front"]] == [(e.trial_id, e.run_id) for e in front]
        completed = {t["x"]: t["values"] for t in answer["seen"] if t["state"] == "COMPLETE"}
        assert len(completed) == 5  # hyperband(9, 3): one per bracket's last rung
        assert all(values == highest[x] for x, values in completed.items())


def test_two_objectives_and_a_constraint_answer_with_the_trackers_front(
    db_url: str, tmp_path: pathlib.Path
) -> None:
    settings = _settings(
        db_url, tmp_path, sampler="tpe", objectives="two", schedule="hyperband", seconds=[0, 0.01]
    )
    ended = _wait(_start(settings, 3))
    assert [code for code, _ in ended] == [0] * 3, ended
    jobs = SearchJobQueue(settings["url"]).jobs(settings["search_id"])
    assert Counter(j["state"] for j in jobs) == {"done": 22}
    objectives = Objectives(("acc", "ms"), ("max", "min"), ("c",))
    evaluations = _evaluations(jobs, objectives)
    rule, front = find_answer(evaluations, "max"), find_front(evaluations)
    assert rule is not None and rule.score is not None and front
    tracker = SQLFinder(settings["url"]).find_search_answer(settings["search_id"])
    assert tracker.run_id == rule.run_id
    assert [e.run_id for e in tracker.front] == [e.run_id for e in front]
    answers = _answers(tmp_path)
    assert len(answers) == 3
    for answer in answers:  # the one-process rule over the same results, and the tracker's
        assert (answer["trial_id"], answer["run_id"]) == (rule.trial_id, rule.run_id)
        assert answer["metric"] == dict(
            zip(("acc", "ms", "c"), (*rule.score.values, *rule.score.constraints), strict=True)
        )
        assert [(t, r) for t, r, _ in answer["front"]] == [(e.trial_id, e.run_id) for e in front]
        assert all(metric["c"] <= 0 for _, _, metric in answer["front"])
        completed = [t for t in answer["seen"] if t["state"] == "COMPLETE"]
        assert len(answer["seen"]) == 17 and len(completed) == 5  # 9 + 5 + 3; 1 + 1 + 3 top
    finder = SQLFinder(settings["url"])
    final = [r.id for r in finder.get_runs_in_project("shared") if "final" in r.tags]
    assert final == [rule.run_id]


def test_bohb_workers_resume_a_search_from_two_processes_at_once(
    db_url: str, tmp_path: pathlib.Path
) -> None:
    settings = _settings(
        db_url, tmp_path, sampler="bohb", schedule="hyperband", seconds=[0.1, 0.2], timeout=0.5
    )
    ended = _wait(_start(settings, 2))  # each stops taking jobs after 0.5 s
    assert [code for code, _ in ended] == [0] * 2, ended
    assert all(a["timed_out"] for a in _answers(tmp_path))
    queue = SearchJobQueue(settings["url"])
    assert not queue.status(settings["search_id"]).finished
    before = queue.jobs(settings["search_id"])
    assert 0 < sum(j["state"] == "done" for j in before) < 22
    resumed = {**settings, "timeout": None, "resume": True, "seconds": [0.0, 0.01]}
    resumed["out"] = str(tmp_path / "resumed")
    ended = _wait(_start(resumed, 2))
    assert [code for code, _ in ended] == [0, 0], ended
    answers = _answers(tmp_path, "resumed")
    jobs = _check_complete(resumed, answers, 2)
    assert len(jobs) == 22
    starts = Counter((t, r) for t, r, _, what in _calls(settings) if what == "start")
    assert set(starts.values()) == {1} and len(starts) == 22  # nothing trained twice
    observed: dict[str, list[int]] = {}
    for job in jobs:
        observed.setdefault(str(job["payload"]["budget"]), []).append(job["trial_id"])
    for answer in answers:  # each resumed worker's model holds every result of both runs
        assert answer["seen"]["observations"] == {b: sorted(t) for b, t in observed.items()}


def test_killing_two_of_eight_workers_loses_only_their_attempts(
    sqlite_url: str, tmp_path: pathlib.Path
) -> None:
    """On SQLite only (about 40 s on a loaded 2-core machine; PostgreSQL and MariaDB, checked
    by hand with ``db_url``, take twice that, too long for CI's budget)."""
    seed = int.from_bytes(os.urandom(4), "big")
    chance = random.Random(seed)
    settings = _settings(
        sqlite_url, tmp_path, trials=200, seconds=[0.0, 0.03], heartbeat_timeout=6.0, max_attempts=2
    )
    workers = _start(settings, 8)
    victims = chance.sample(workers, 2)
    moments = sorted(chance.sample(range(20, 240), 2))  # of about 290 evaluations
    for victim, moment in zip(victims, moments, strict=True):
        _wait_for_starts(settings, moment)
        victim.send_signal(signal.SIGKILL)
        assert victim.wait() == -signal.SIGKILL, seed
    survivors = [w for w in workers if w not in victims]
    ended = _wait(survivors)
    assert [code for code, _ in ended] == [0] * 6, (seed, ended)
    killed = {str(v.pid) for v in victims}
    jobs = SearchJobQueue(settings["url"]).jobs(settings["search_id"])
    assert sum(j["rung"] == 0 for j in jobs) == 200
    for job in jobs:  # completed, or failed after the retry limit (both attempts killed)
        assert job["state"] == "done" or (
            job["state"] == "failed"
            and job["attempts"] == 2
            and job["result"]["error"].startswith("WorkerLost")
        ), (seed, job)
    calls = _calls(settings)
    by_survivors = Counter(
        (t, r) for t, r, pid, what in calls if what == "start" and str(pid) not in killed
    )
    assert set(by_survivors.values()) <= {1}, seed  # only killed attempts ran twice
    starts = Counter((t, r) for t, r, _, what in calls if what == "start")
    for job in jobs:
        assert starts[(job["trial_id"], job["rung"])] <= job["attempts"], (seed, job)
    answers = _answers(tmp_path)
    rule = _rule_answer(jobs)
    assert rule is not None and len(answers) == 6
    for answer in answers:
        assert (answer["trial_id"], answer["run_id"]) == (rule.trial_id, rule.run_id), seed
    # a worker that joins now replays every decision (refusing any it would not have made)
    # and answers as a run without kills does given the same results; it runs nothing
    ended = _wait(_start({**settings, "out": str(tmp_path / "late")}, 1))
    assert [code for code, _ in ended] == [0], ended
    (late,) = _answers(tmp_path, "late")
    assert (late["trial_id"], late["run_id"], late["metric"]) == (
        rule.trial_id,
        rule.run_id,
        rule.metric,
    )
    assert len(_calls(settings)) == len(calls)
