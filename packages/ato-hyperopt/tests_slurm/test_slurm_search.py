"""A shared-database search whose workers are real SLURM jobs (issue 25).

The one-node cluster of ``tools/slurm/start_local_slurm.sh`` (slurmctld, slurmd, munge) runs
two workers submitted as a job array by ``ato.hyperopt.slurm.submit_workers``. One worker is
preempted mid-trial, once the way SLURM warns a job (``scancel --signal=USR2``: submitit's
handler resubmits the worker and requeues the job) and once by ``scontrol requeue`` (SIGTERM,
then SLURM starts the job's script again). Either way the search gives the running job back to
the queue, the other worker goes on, and the requeued worker joins the search again. Every
(trial, rung) is recorded exactly once, both workers return the answer rule's answer, and the
interrupted trial's run is the only one not completed.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import time
import uuid
from collections import Counter
from typing import Any

import cloudpickle
import pytest

from ato.adict import ADict
from ato.hyperopt import (
    ASHASchedule,
    DatabaseExecutor,
    RandomSampler,
    Search,
    check_trial_time,
    trial_context,
)
from ato.hyperopt.slurm import submit_workers
from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.search_jobs import SearchJobQueue

ROOT = pathlib.Path(__file__).resolve().parents[3]
START_SLURM = ROOT / "tools" / "slurm" / "start_local_slurm.sh"
TRIALS = 12
SECONDS_PER_EVALUATION = 0.4

# The worker travels to the SLURM jobs by value: this module is not importable there.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def worker(settings: dict[str, Any]) -> dict[str, Any]:
    """One worker of the shared search: ASHA over x in [0, 1] on the tracker database."""
    calls = pathlib.Path(settings["calls"])
    task = os.environ.get("SLURM_ARRAY_TASK_ID", "?")
    restarts = os.environ.get("SLURM_RESTART_COUNT", "0")

    def trial(config: Any) -> float:
        ctx = trial_context()
        with calls.open("a") as f:
            f.write(f"{ctx.trial_id} {ctx.rung} {task} {restarts} start\n")
        end = time.monotonic() + SECONDS_PER_EVALUATION
        while time.monotonic() < end:
            time.sleep(0.01)
            check_trial_time()
        with calls.open("a") as f:
            f.write(f"{ctx.trial_id} {ctx.rung} {task} {restarts} done\n")
        return round(-((config.x - 0.3) ** 2) + 0.001 * ctx.budget, 12)

    config = ADict(
        x=0.0, experiment=ADict(project_name="slurm", sql=ADict(db_path=settings["url"]))
    )
    search = Search(
        config,
        {"x": dict(param_type="FLOAT", param_range=(0.0, 1.0))},
        sampler=RandomSampler(seed=11),
        schedule=ASHASchedule(9, 3, 1, max_trials=TRIALS),
        tracker=SQLLogger,
        executor=DatabaseExecutor(SearchJobQueue(settings["url"], heartbeat_timeout=10.0)),
        search_id=settings["search_id"],
        checkpoint_root=settings["root"],
        progress=False,
    )
    result = search.main(trial)()
    return {
        "trial_id": result.trial_id,
        "metric": result.metric,
        "run_id": result.run_id,
        "evaluations": sum(len(rung) for rung in result.logs),
    }


@pytest.fixture(scope="module")
def slurm() -> Any:
    subprocess.run(["bash", str(START_SLURM)], check=True)
    yield
    subprocess.run(["bash", str(START_SLURM), "stop"], check=True)


def _calls(path: pathlib.Path) -> list[tuple[int, int, str, str, str]]:
    if not path.exists():
        return []
    rows = [line.split() for line in path.read_text().splitlines()]
    return [(int(t), int(r), task, restarts, what) for t, r, task, restarts, what in rows]


def _running_trial_of(calls: pathlib.Path, task: str, timeout: float = 120) -> tuple[int, int]:
    """A (trial, rung) that array task ``task`` started and has not finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = _calls(calls)
        started = {(t, r) for t, r, k, _, what in rows if k == task and what == "start"}
        done = {(t, r) for t, r, k, _, what in rows if k == task and what == "done"}
        if started - done:
            return min(started - done)
        time.sleep(0.05)
    raise AssertionError(f"array task {task} started no trial within {timeout} s")


def _job_field(job_id: str, field: str) -> str:
    text = subprocess.run(
        ["scontrol", "show", "job", job_id], capture_output=True, text=True, check=True
    ).stdout
    return next(part.split("=", 1)[1] for part in text.split() if part.startswith(f"{field}="))


def _wait_for_requeue(job_id: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while _job_field(job_id, "Restarts") == "0":
        assert time.monotonic() < deadline, f"job {job_id} was not requeued"
        time.sleep(0.2)


def _results(jobs: list[Any], timeout: float = 150) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while not all(job.done() for job in jobs):
        assert time.monotonic() < deadline, "the workers did not finish in time"
        time.sleep(0.5)
    return [job.result() for job in jobs]


@pytest.mark.parametrize(
    "preempt",
    [
        ["scancel", "--signal=USR2"],  # SLURM's warning: submitit checkpoints and requeues
        ["scontrol", "requeue"],  # SLURM requeues the job itself (SIGTERM, then a restart)
    ],
    ids=["scancel-usr2", "scontrol-requeue"],
)
def test_a_preempted_worker_is_requeued_and_the_search_completes_once(
    slurm: None, tmp_path: pathlib.Path, preempt: list[str]
) -> None:
    settings = {
        "url": f"sqlite:///{tmp_path / 'tracker.db'}",
        "search_id": f"slurm-{uuid.uuid4().hex[:8]}",
        "root": str(tmp_path / "searches"),
        "calls": str(tmp_path / "calls.txt"),
    }
    jobs = submit_workers(
        worker,
        2,
        args=(settings,),
        folder=tmp_path / "logs" / "%j",
        cluster="slurm",
        name="ato-slurm-test",
        timeout_min=60,  # a signal in the first 48 minutes is a preemption to submitit
        cpus_per_task=1,
        out=None,
    )
    preempted = _running_trial_of(pathlib.Path(settings["calls"]), "0")
    subprocess.run([*preempt, jobs[0].job_id], check=True)
    _wait_for_requeue(jobs[0].job_id)  # it starts again after cred_expire (slurm.conf.in)
    results = _results(jobs)

    queue = SearchJobQueue(settings["url"])
    stored = queue.jobs(settings["search_id"])
    assert Counter(j["state"] for j in stored) == {"done": len(stored)}
    assert len({j["job_key"] for j in stored}) == len(stored)
    assert sum(j["rung"] == 0 for j in stored) == TRIALS
    # the tracker's own copy of the answer rule, over the runs the workers recorded
    answer = SQLFinder(settings["url"]).find_search_answer(settings["search_id"])
    assert answer.run_id is not None and answer.tagged_final
    for result in results:
        assert (result["metric"], result["run_id"]) == (answer.value, answer.run_id)
        assert result["evaluations"] == len(stored)

    rows = _calls(pathlib.Path(settings["calls"]))
    starts = Counter((t, r) for t, r, _, _, what in rows if what == "start")
    dones = Counter((t, r) for t, r, _, _, what in rows if what == "done")
    assert starts[preempted] == 2 and dones[preempted] == 1
    assert all(n == 1 for key, n in starts.items() if key != preempted)
    assert set(dones) == {(j["trial_id"], j["rung"]) for j in stored}
    assert ("0", "0", "start") in {(k, n, w) for t, r, k, n, w in rows if (t, r) == preempted}

    runs = SQLFinder(settings["url"]).get_runs_in_project("slurm")
    statuses = Counter(run.status for run in runs)
    assert statuses["completed"] == len(stored)
    assert sum(statuses.values()) == len(stored) + 1  # the interrupted evaluation's run
    assert [run.id for run in runs if "final" in run.tags] == [answer.run_id]

    log = jobs[0].paths.stderr.read_text()
    if preempt[0] == "scancel":  # submitit resubmitted the worker as its next attempt
        assert "Caught signal SIGUSR2 on " in log and "this job is preempted" in log
        assert "ato.hyperopt: worker 0 starts (attempt 2)" in log
    else:  # SLURM ran the job's script again: the same submission, from the start
        assert log.count("ato.hyperopt: worker 0 starts (attempt 1)") == 2
    assert _job_field(jobs[0].job_id, "Restarts") == "1"
