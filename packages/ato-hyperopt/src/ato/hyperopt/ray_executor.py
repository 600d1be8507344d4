"""Trials as Ray tasks (``pip install ato-hyperopt[ray]``): the [`RayExecutor`][ato.hyperopt.RayExecutor].

The search itself (sampler, schedule, the answer) runs in the calling process, the driver;
each evaluation of a trial at one rung is one Ray task, placed by Ray anywhere on the cluster
(``ray.init(address=...)``) with the resources asked for. Up to ``max_concurrent`` tasks run
at once: every job of a synchronous schedule's rung batch, and for ASHA as many jobs as the
schedule hands out (a work queue with no barrier).

A task opens its own tracker run (the search's ``tracker`` must then be a logger *factory*,
e.g. the ``SQLLogger`` class or ``lambda config: SQLLogger.from_url(url, project)``, so each
task connects to the database itself) and logs to it while it runs, so the dashboard shows
the search's progress live. ``trial_context()`` and ``current_logger()`` work inside the task.

A task whose worker process dies is retried by Ray (``max_retries``); after the last retry the
evaluation is recorded as failed and the search goes on. Ctrl-C or SIGTERM in the driver
cancels the running tasks and stops the search: Ray raises the cancellation in a task between
two Python steps, and the task closes its run ``killed``. A task still running
``cancel_grace`` seconds later (a trial blocked in one long C call, or a cancellation that a
loaded machine delivers late) is cancelled by force (Ray kills its worker process), and the
driver closes its run ``killed`` through the tracker (``mark_search_runs`` of ato-tracker's
``SQLLogger``).

Importing this module does not import Ray; the executor imports it on first use.
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from .context import TrialContext, reset_context, set_context
from .errors import SearchInterrupted, SearchSettingError
from .executors import QUEUE_STOP, QUEUE_WAIT, InProcessExecutor
from .facts import SearchRunFacts
from .metric import worst
from .trials import TrialOutcome, TrialRunner, _values_only

__all__ = ["RayExecutor"]

_POLL_S = 0.2  # how often a waiting driver thread looks at the interrupt flag, seconds


class RayExecutor(InProcessExecutor):
    """Runs each evaluation of a search as a Ray task (see the module docstring).

    Towards the search's collectives the driver is alone (rank 0 of a world of 1); the
    parallelism is inside the executor.

    Args:
        address: the Ray cluster to connect to (``"auto"``, ``"ray://host:10001"``); None
            starts a local Ray. Ignored when Ray is already initialized (call
            ``ray.init(...)`` yourself for other options).
        max_concurrent: how many evaluations run at once (default: the cluster's CPUs
            divided by ``num_cpus``, at least 1).
        num_cpus: CPUs of each task (Ray's ``num_cpus``).
        num_gpus: GPUs of each task (Ray's ``num_gpus``).
        resources: custom Ray resources of each task, e.g. ``{"large_memory": 1}``.
        max_retries: how many times Ray reruns a task whose worker process died.
        runtime_env: Ray's ``runtime_env`` of each task (e.g. ``{"pip": [...]}``).
        init_kwargs: more ``ray.init`` arguments when this executor starts Ray.
        cancel_grace: seconds a cancelled task gets to stop by itself before it is
            cancelled by force (see the module docstring).

    Raises:
        SearchSettingError: a bad ``max_concurrent``, ``num_cpus``, ``num_gpus``,
            ``max_retries`` or ``cancel_grace``; when the search runs: Ray is not installed, or the search's
            tracker is a logger object rather than a factory (a connection cannot be sent to
            a task).
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        max_concurrent: int | None = None,
        num_cpus: float = 1,
        num_gpus: float = 0,
        resources: Mapping[str, float] | None = None,
        max_retries: int = 3,
        runtime_env: Mapping[str, Any] | None = None,
        init_kwargs: Mapping[str, Any] | None = None,
        cancel_grace: float = 10.0,
    ) -> None:
        if max_concurrent is not None and (
            isinstance(max_concurrent, bool) or not isinstance(max_concurrent, int)
        ):
            raise SearchSettingError(
                f"max_concurrent must be a positive int, got {max_concurrent!r}"
            )
        if max_concurrent is not None and max_concurrent < 1:
            raise SearchSettingError(
                f"max_concurrent must be a positive int, got {max_concurrent!r}"
            )
        if (
            not num_cpus >= 0
            or not num_gpus >= 0
            or (num_cpus == 0 and num_gpus == 0 and not resources)
        ):
            raise SearchSettingError(
                f"each task needs some resource: num_cpus={num_cpus!r}, num_gpus={num_gpus!r}"
            )
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise SearchSettingError(f"max_retries must be an int >= 0, got {max_retries!r}")
        if isinstance(cancel_grace, bool) or not cancel_grace >= 0:
            raise SearchSettingError(f"cancel_grace must be seconds >= 0, got {cancel_grace!r}")
        self.cancel_grace = float(cancel_grace)
        self.address = address
        self.max_concurrent = max_concurrent
        self.options: dict[str, Any] = {
            "num_cpus": num_cpus,
            "num_gpus": num_gpus,
            "max_retries": max_retries,
        }
        if resources:
            self.options["resources"] = dict(resources)
        if runtime_env:
            self.options["runtime_env"] = dict(runtime_env)
        self.init_kwargs = dict(init_kwargs or {})
        self._task: Any = None  # the Ray remote function, made on first use
        self._running: set[Any] = set()
        self._lock = threading.Lock()

    # -- Ray -------------------------------------------------------------------------------
    def _ray(self) -> Any:
        try:
            import ray
        except ImportError as exc:
            raise SearchSettingError(
                "RayExecutor needs Ray; install it with `pip install ato-hyperopt[ray]`"
            ) from exc
        if not ray.is_initialized():
            ray.init(address=self.address, **self.init_kwargs)
        return ray

    def concurrency(self) -> int:
        """How many evaluations run at once (``max_concurrent``, or what the cluster's CPUs
        hold). Starts Ray if needed."""
        if self.max_concurrent is not None:
            return self.max_concurrent
        cpus = float(self._ray().cluster_resources().get("CPU", 1))
        per_task = float(self.options["num_cpus"]) or 1.0
        return max(1, int(cpus // per_task))

    # -- one evaluation --------------------------------------------------------------------
    def evaluate(
        self,
        runner: TrialRunner,
        context: TrialContext,
        values: Mapping[str, Any],
        facts: SearchRunFacts,
        extra: Mapping[str, Any] | None,
    ) -> TrialOutcome:
        """Run one evaluation as a Ray task and wait for its outcome (called by the search,
        in one thread per running evaluation).

        Raises:
            SearchInterrupted: the driver received Ctrl-C/SIGTERM (the task is cancelled).
            SearchSettingError: the trial cannot be sent to Ray (see the class docstring).
        """
        ray = self._ray()
        _check_sendable(runner)
        with self._lock:
            if self._task is None:
                self._task = ray.remote(**self.options)(_evaluate_here)
        try:
            ref = self._task.remote(
                runner, context, dict(values), facts, None if extra is None else dict(extra)
            )
        except (TypeError, pickle.PicklingError) as exc:
            raise SearchSettingError(
                f"the trial cannot be sent to a Ray task ({type(exc).__name__}: {exc}); the "
                f"trial function, its arguments, the config and the tracker factory must be "
                f"picklable by cloudpickle"
            ) from exc
        with self._lock:
            self._running.add(ref)
        try:
            return self._wait(ray, ref, runner, values, facts, extra)
        finally:
            with self._lock:
                self._running.discard(ref)

    def _wait(
        self,
        ray: Any,
        ref: Any,
        runner: TrialRunner,
        values: Mapping[str, Any],
        facts: SearchRunFacts,
        extra: Mapping[str, Any] | None,
    ) -> TrialOutcome:
        interrupts = runner.time_limit.interrupts if runner.time_limit is not None else None
        while True:
            ready, _ = ray.wait([ref], timeout=_POLL_S)
            if ready:
                break
            if interrupts is not None and interrupts.received is not None:
                self._stop(ray, ref, runner, values, facts, extra)
                raise SearchInterrupted(f"received signal {interrupts.received}")
        outcome: TrialOutcome
        try:
            outcome, exception = ray.get(ref)
        except ray.exceptions.RayError as exc:  # the worker died past its retries, ...
            if isinstance(exc, ray.exceptions.TaskCancelledError):  # by `cancel_running`
                self._close_run(runner, values, facts, extra)
            return TrialOutcome(
                config=_values_only(values, facts.rung),
                metric=worst(runner.mode),
                error=f"{type(exc).__name__}: {_first_line(exc)}",
            )
        outcome.exception = exception
        return outcome

    def _stop(
        self,
        ray: Any,
        ref: Any,
        runner: TrialRunner,
        values: Mapping[str, Any],
        facts: SearchRunFacts,
        extra: Mapping[str, Any] | None,
    ) -> None:
        """Cancel the task of ``ref``, by force after ``cancel_grace`` seconds still running,
        then close its run ``killed`` if the task did not."""
        ray.cancel(ref)
        stopped, _ = ray.wait([ref], timeout=self.cancel_grace)
        if not stopped:
            ray.cancel(ref, force=True)
        self._close_run(runner, values, facts, extra)

    @staticmethod
    def _close_run(
        runner: TrialRunner,
        values: Mapping[str, Any],
        facts: SearchRunFacts,
        extra: Mapping[str, Any] | None,
    ) -> None:
        """Close the run of a cancelled task ``killed`` unless it is closed already (Ray may
        report a task cancelled before its process closed the run, or killed it first)."""
        config = runner.target.build(values, facts.rung, None if extra is None else dict(extra))
        runner.recorder.mark_killed(config, facts)

    def cancel_running(self) -> None:
        """Cancel every task still running (after an error or an interrupt in the driver)."""
        with self._lock:
            running = list(self._running)
        if running:
            ray = self._ray()
            for ref in running:
                ray.cancel(ref)

    # -- many evaluations at once ----------------------------------------------------------
    def run_batch(self, num_items: int, work: Callable[[int], Any]) -> dict[int, Any]:
        """Run ``work(pos)`` for every position of a rung batch, up to ``concurrency()`` at
        once; returns ``{pos: outcome}``. No new position starts after a fatal outcome."""
        outcomes: dict[int, Any] = {}
        pending = list(range(num_items))
        limit = self.concurrency()
        with self._pool() as pool:
            running: dict[Future[Any], int] = {}
            fatal = False
            while pending or running:
                while pending and not fatal and len(running) < limit:
                    pos = pending.pop(0)
                    running[pool.submit(work, pos)] = pos
                if not running:
                    break
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    outcome = outcomes[running.pop(future)] = future.result()
                    fatal = fatal or bool(getattr(outcome, "fatal", False))
        return outcomes

    def run_queue(
        self,
        search_id: str,
        next_item: Callable[[], Any],
        done: Callable[[Any, Any], None],
        work: Callable[[Any], tuple[Any, bool]],
    ) -> list[tuple[Any, Any]]:
        """The work queue of an asynchronous schedule (ASHA), as
        [`InProcessExecutor.run_queue`][ato.hyperopt.InProcessExecutor.run_queue], with up to
        ``concurrency()`` items running at once. ``next_item`` and ``done`` are called in
        this thread only; a ``QUEUE_WAIT`` answer waits for a running item to finish."""
        mine: list[tuple[Any, Any]] = []
        limit = self.concurrency()
        with self._pool() as pool:
            running: dict[Future[tuple[Any, bool]], Any] = {}
            stopped = False
            while True:
                while not stopped and len(running) < limit:
                    item = next_item()
                    if item == QUEUE_STOP:
                        stopped = True
                    elif item == QUEUE_WAIT:
                        break
                    else:
                        running[pool.submit(work, item)] = item
                if not running:
                    return mine
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    item = running.pop(future)
                    outcome, fatal = future.result()
                    mine.append((item, outcome))
                    done(item, outcome)
                    stopped = stopped or fatal

    def _pool(self) -> _Pool:
        return _Pool(self)


class _Pool:
    """Threads that each wait for one task; on an error the running tasks are cancelled."""

    def __init__(self, executor: RayExecutor) -> None:
        self._executor = executor
        self._pool = ThreadPoolExecutor(
            max_workers=executor.concurrency(), thread_name_prefix="ato-hyperopt-ray"
        )

    def __enter__(self) -> ThreadPoolExecutor:
        return self._pool

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        if error is not None:
            self._executor.cancel_running()
        self._pool.shutdown(wait=True, cancel_futures=True)


def _evaluate_here(
    runner: TrialRunner,
    context: TrialContext,
    values: dict[str, Any],
    facts: SearchRunFacts,
    extra: dict[str, Any] | None,
) -> tuple[TrialOutcome, BaseException | None]:
    """The body of a Ray task: one evaluation with the trial's context, as in the driver."""
    token = set_context(context)
    try:
        outcome = runner.run(values, facts, extra)
    finally:
        reset_context(token)
    return outcome, _sendable(outcome.exception)


def _sendable(exception: BaseException | None) -> BaseException | None:
    """The exception itself when it pickles, else a RuntimeError with its text."""
    if exception is None:
        return None
    try:
        pickle.dumps(exception)
    except Exception:
        return RuntimeError(f"{type(exception).__name__}: {exception}")
    return exception


def _check_sendable(runner: TrialRunner) -> None:
    if runner.recorder.shares_logger:
        raise SearchSettingError(
            "RayExecutor runs each trial in a Ray task, which opens its own tracker run: pass "
            "the tracker as a logger factory (tracker=SQLLogger, or tracker=lambda config: "
            "SQLLogger.from_url(url, project)), not a logger object"
        )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
