"""submit_workers through submitit's local executor (subprocesses of this machine): N workers
run, their logs are where it says, and a worker signalled for preemption/timeout is requeued
through submitit's checkpointing protocol and runs again."""

from __future__ import annotations

import io
import os
import pathlib
import signal
import sys
import time

import cloudpickle
import pytest
import submitit

from ato.hyperopt import SearchSettingError
from ato.hyperopt.slurm import SearchWorker, submit_workers

# The workers below travel to submitit's processes by value: this module is not importable
# there (pytest imports it from its own folder).
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def count_starts(marker_dir: str, hold_s: float) -> int:
    """Record a start; on the first start of this worker wait ``hold_s`` seconds (long enough
    to be signalled), on later starts return at once. Returns the number of starts."""
    folder = pathlib.Path(marker_dir)
    folder.mkdir(parents=True, exist_ok=True)
    starts = len(list(folder.glob("start-*"))) + 1
    (folder / "pid").write_text(str(os.getpid()))
    (folder / "pid").rename(folder / f"start-{starts}")  # appears with its content
    print(f"start {starts}", flush=True)
    if starts == 1:
        time.sleep(hold_s)
    return starts


def add(a: int, b: int) -> int:
    return a + b


def test_workers_run_and_their_logs_are_printed(tmp_path: pathlib.Path) -> None:
    out = io.StringIO()
    jobs = submit_workers(
        add,
        3,
        args=(2,),
        kwargs={"b": 5},
        folder=tmp_path / "logs" / "%j",
        cluster="local",
        timeout_min=5,
        out=out,
    )
    assert [job.result() for job in jobs] == [7, 7, 7]
    lines = out.getvalue().splitlines()
    assert lines[0] == "ato.hyperopt: submitted 3 workers (local):"
    for index, (line, job) in enumerate(zip(lines[1:], jobs, strict=True)):
        assert line == (
            f"  worker {index}: job {job.job_id}, logs {job.paths.stdout} and {job.paths.stderr}"
        )
        assert job.paths.stderr.exists()
        assert f"ato.hyperopt: worker {index} starts (attempt 1)" in job.paths.stderr.read_text()


def test_separate_jobs_instead_of_an_array(tmp_path: pathlib.Path) -> None:
    jobs = submit_workers(
        add, 2, args=(1, 1), folder=tmp_path / "%j", cluster="local", array=False, out=None
    )
    assert [job.result() for job in jobs] == [2, 2]
    assert len({job.job_id for job in jobs}) == 2


def test_a_signalled_worker_is_requeued_and_runs_again(tmp_path: pathlib.Path) -> None:
    starts = tmp_path / "starts"
    jobs = submit_workers(
        count_starts,
        1,
        args=(str(starts), 60.0),
        folder=tmp_path / "%j",
        cluster="local",
        timeout_min=5,
        out=None,
    )
    deadline = time.monotonic() + 60
    while not (starts / "start-1").exists():
        assert time.monotonic() < deadline, "the worker did not start within 60 s"
        time.sleep(0.1)
    # what SLURM does before a preemption or the time limit: USR2 to the job's process
    os.kill(int((starts / "start-1").read_text()), signal.SIGUSR2)
    assert jobs[0].result() == 2  # requeued: the second start returned at once
    assert sorted(p.name for p in starts.iterdir()) == ["start-1", "start-2"]
    log = jobs[0].paths.stderr.read_text()
    assert "ato.hyperopt: worker 0 starts (attempt 1)" in log
    assert "ato.hyperopt: worker 0 starts (attempt 2)" in log


def test_checkpoint_resubmits_the_same_worker_as_its_next_attempt() -> None:
    worker = SearchWorker(add, (1,), {"b": 2})
    delayed = worker.checkpoint(4)
    assert isinstance(delayed, submitit.helpers.DelayedSubmission)
    assert delayed.function is worker and delayed.args == (4,) and delayed.kwargs == {}
    assert worker.attempt == 2
    assert delayed.result() == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_workers": 0}, "num_workers must be an int >= 1, got 0"),
        ({"num_workers": 2, "timeout_min": 0}, "timeout_min must be an int >= 1, got 0"),
        ({"num_workers": 2, "max_num_timeout": -1}, "max_num_timeout must be an int >= 0, got -1"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(SearchSettingError, match=message):
        submit_workers(add, **kwargs)  # type: ignore[arg-type]


def test_a_worker_that_is_not_callable_is_refused() -> None:
    with pytest.raises(SearchSettingError, match="the worker must be callable, got int"):
        SearchWorker(3)  # type: ignore[arg-type]


def test_without_submitit_the_error_says_which_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "submitit", None)
    with pytest.raises(SearchSettingError, match=r"pip install ato-hyperopt\[slurm\]"):
        submit_workers(add, 1, out=None)
