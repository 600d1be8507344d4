"""Search workers as SLURM jobs, through submitit (``pip install ato-hyperopt[slurm]``).

[`submit_workers`][ato.hyperopt.slurm.submit_workers] submits N copies of one worker function
(a job array, or N jobs) with submitit's usual parameters. Each copy runs the worker of a
shared search: a function that runs the same ``Search`` with the same ``search_id`` on a
database every worker reaches (the [`DatabaseExecutor`][ato.hyperopt.DatabaseExecutor]), so
the workers share one search and a worker that stops leaves nothing behind but its running
job, which goes back to the queue.

Preemption and timeouts follow submitit's checkpointing protocol: SLURM sends the job a
signal (``USR2``, ``signal_delay_s`` seconds before the time limit, and on preemption where the
cluster sets ``SlurmctldParameters=preempt_send_user_signal``), submitit calls the worker's
``checkpoint`` method, which resubmits the same worker, and requeues the job. The requeued job
runs the worker again from the start; the search's state is in the database, so it simply
joins the search again (after ``max_num_timeout`` timeouts submitit stops requeueing).

Importing this module does not import submitit; calling ``submit_workers`` does.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TextIO

from .checks import check_positive_int
from .errors import SearchSettingError

__all__ = ["SearchWorker", "submit_workers"]


class SearchWorker:
    """One worker of a search, as submitit runs it: calls ``fn(*args, **kwargs)``.

    submitit requeues a callable that has a ``checkpoint`` method after a preemption or a
    timeout; this one resubmits itself unchanged (its ``attempt`` counter goes up by one), as
    the search it joins keeps its state in the database.

    Args:
        fn: the worker function; it must be picklable (a module-level function, or one
            defined in the submitting script).
        args: positional arguments passed to ``fn`` on every attempt.
        kwargs: keyword arguments passed to ``fn`` on every attempt.
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        if not callable(fn):
            raise SearchSettingError(f"the worker must be callable, got {type(fn).__name__}")
        self.fn, self.args, self.kwargs = fn, tuple(args), dict(kwargs or {})
        self.attempt = 1

    def __call__(self, worker_index: int) -> Any:
        """Run the worker (``worker_index`` is its place in the array: 0, 1, ...)."""
        print(
            f"ato.hyperopt: worker {worker_index} starts (attempt {self.attempt})",
            file=sys.stderr,
            flush=True,
        )
        return self.fn(*self.args, **self.kwargs)

    def checkpoint(self, worker_index: int) -> Any:
        """What submitit requeues after a preemption or timeout: this worker, next attempt.
        Returns a ``submitit.helpers.DelayedSubmission``."""
        from submitit.helpers import DelayedSubmission

        self.attempt += 1
        return DelayedSubmission(self, worker_index)


def submit_workers(
    worker: Callable[..., Any],
    num_workers: int,
    *,
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    folder: str | os.PathLike[str] = "slurm-logs/%j",
    cluster: str | None = None,
    name: str = "ato-search",
    partition: str | None = None,
    timeout_min: int = 60,
    cpus_per_task: int | None = None,
    gpus_per_node: int | None = None,
    mem_gb: float | None = None,
    slurm_additional_parameters: Mapping[str, Any] | None = None,
    max_num_timeout: int = 3,
    array: bool = True,
    array_parallelism: int | None = None,
    out: TextIO | None = sys.stdout,
    **parameters: Any,
) -> list[Any]:
    """Submit ``num_workers`` copies of ``worker(*args, **kwargs)`` as SLURM jobs.

    Args:
        worker: the worker function (see the module docstring): typically a function that
            builds the search with ``executor=DatabaseExecutor(...)`` and a fixed
            ``search_id`` and runs it.
        num_workers: how many copies run (>= 1).
        args: positional arguments passed to ``worker`` in every copy.
        kwargs: keyword arguments passed to ``worker`` in every copy.
        folder: where submitit writes each job's script, pickles and logs (``%j`` becomes
            the job id, ``<array id>_<index>`` in an array).
        cluster: ``None`` (SLURM when ``sbatch`` is found, else local processes),
            ``"slurm"``, ``"local"`` (subprocesses of this machine, for tests) or ``"debug"``
            (in this process), as submitit's ``AutoExecutor``.
        name: the job name.
        partition: the SLURM partition (``--partition``), None for the cluster's default.
        timeout_min: time limit of each job, minutes.
        cpus_per_task: CPUs of each job (None: the cluster's default).
        gpus_per_node: GPUs of each job (None: the cluster's default).
        mem_gb: memory of each job, GiB (None: the cluster's default).
        slurm_additional_parameters: more ``sbatch`` options, e.g. ``{"account": "lab",
            "qos": "low"}``.
        max_num_timeout: how many times a job that reaches its time limit is requeued (0:
            never).
        array: True submits one job array, False ``num_workers`` separate jobs.
        array_parallelism: at most this many jobs of the array run at once (SLURM's ``%``).
        out: where the job ids and log paths are printed (None: nowhere).
        **parameters: any other submitit parameter (``tasks_per_node``,
            ``slurm_signal_delay_s``, ``slurm_setup``, ``slurm_qos``...).

    Returns:
        The submitted ``submitit.Job`` objects, one per worker (``job.result()`` waits for a
        worker and returns what it returned; ``job.paths.stdout``/``stderr`` are its logs).

    Raises:
        SearchSettingError: ``num_workers`` or ``timeout_min`` is not an int >= 1,
            ``max_num_timeout`` not an int >= 0, or submitit is not installed.
        ValueError: submitit refused a parameter (its message lists the valid ones).
    """
    check_positive_int("num_workers", num_workers)
    check_positive_int("timeout_min", timeout_min)
    if (
        isinstance(max_num_timeout, bool)
        or not isinstance(max_num_timeout, int)
        or max_num_timeout < 0
    ):
        raise SearchSettingError(f"max_num_timeout must be an int >= 0, got {max_num_timeout!r}")
    submitit = _submitit()
    executor = submitit.AutoExecutor(
        folder=folder, cluster=cluster, slurm_max_num_timeout=max_num_timeout
    )
    given = {
        "cpus_per_task": cpus_per_task,
        "gpus_per_node": gpus_per_node,
        "mem_gb": mem_gb,
        "slurm_partition": partition,
        "slurm_additional_parameters": dict(slurm_additional_parameters or {}) or None,
        "slurm_array_parallelism": array_parallelism,
    }
    executor.update_parameters(
        name=name,
        timeout_min=timeout_min,
        **{k: v for k, v in given.items() if v is not None},
        **parameters,
    )
    runner = SearchWorker(worker, args, kwargs)
    indices = list(range(num_workers))
    if array:
        jobs = list(executor.map_array(runner, indices))
    else:
        jobs = [executor.submit(runner, index) for index in indices]
    if out is not None:
        _print_jobs(jobs, executor.cluster, out)
    return jobs


def _submitit() -> Any:
    try:
        import submitit
    except ImportError as exc:
        raise SearchSettingError(
            "submit_workers needs submitit; install it with `pip install ato-hyperopt[slurm]`"
        ) from exc
    return submitit


def _print_jobs(jobs: list[Any], cluster: str, out: TextIO) -> None:
    print(f"ato.hyperopt: submitted {len(jobs)} workers ({cluster}):", file=out)
    for index, job in enumerate(jobs):
        print(
            f"  worker {index}: job {job.job_id}, logs {job.paths.stdout} and {job.paths.stderr}",
            file=out,
        )
    out.flush()
