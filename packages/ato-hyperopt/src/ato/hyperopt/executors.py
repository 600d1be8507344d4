"""Executors: where the trials of a search run.

- [`InProcessExecutor`][ato.hyperopt.InProcessExecutor] (the default): one process, one trial
  at a time.
- [`DatabaseExecutor`][ato.hyperopt.DatabaseExecutor]: any number of processes, started
  anywhere and at any time, share one search through a tracker database: each claims jobs
  from the search's job queue (see `ato.hyperopt.shared`).
- [`TorchDistributedExecutor`][ato.hyperopt.TorchDistributedExecutor]: every rank of a
  ``torch.distributed`` process group runs the same program and calls the search. A
  synchronous schedule deals each rung's jobs out round-robin and all-gathers the outcomes (a
  barrier per rung). ASHA runs as a work queue: rank 0 keeps the schedule in a background
  thread and answers requests that every rank (rank 0's main thread included) posts to a
  ``torch.distributed.TCPStore`` whenever it is free, so no rank waits for a rung to finish.

- [`RayExecutor`][ato.hyperopt.RayExecutor] (``ato.hyperopt.ray_executor``): one process
  drives the search, each evaluation runs as a Ray task on a Ray cluster.

An executor follows [`Executor`][ato.hyperopt.Executor]: rank bookkeeping, three
collectives (``all_gather_object``, ``broadcast_object_from_root``, ``shard``) and
``run_queue``. Two methods are optional: ``run_batch(num_items, work) -> {pos: outcome}``
runs this process's share of a rung batch itself (e.g. all at once) instead of one position
after another, and ``evaluate(runner, context, values, facts, extra) -> TrialOutcome`` runs
one evaluation elsewhere (see ``RayExecutor``) instead of in the calling thread. These are the only definitions of the collectives: a search (and the
``DistributedMixIn`` of the seed's custom strategies) calls its executor's.
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol

from .checks import check_positive_int
from .errors import DistributedSetupError, SearchSettingError, TrialFailedError
from .protocols import JobQueue

__all__ = [
    "BACKENDS",
    "DatabaseExecutor",
    "Executor",
    "InProcessExecutor",
    "TorchDistributedExecutor",
]

#: Values of the ``backend`` argument of the distributed presets.
BACKENDS = ("pytorch",)

#: ``next_item()`` answers of a work queue: wait and ask again / no more work.
QUEUE_WAIT, QUEUE_STOP = "wait", "stop"
_POLL_S = 0.005


class Executor(Protocol):
    """Where the trials of a search run: this process's place among the processes running the
    search, the collectives that share work and results between them, and the work queue of
    asynchronous schedules."""

    @property
    def rank(self) -> int:
        """This process's rank, ``0 <= rank < world_size``."""
        ...

    @property
    def world_size(self) -> int:
        """Number of processes running the search."""
        ...

    @property
    def is_root(self) -> bool:
        """True in the process that runs the schedule and reports progress (rank 0)."""
        ...

    def shard(self, num_items: int) -> range:
        """Positions of a batch of ``num_items`` this process runs."""
        ...

    def all_gather_object(self, obj: Any) -> list[Any]:
        """Every process's ``obj``, indexed by rank (a collective call)."""
        ...

    def broadcast_object_from_root(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every process (a collective call)."""
        ...

    def run_queue(
        self,
        search_id: str,
        next_item: Callable[[], Any],
        done: Callable[[Any, Any], None],
        work: Callable[[Any], tuple[Any, bool]],
    ) -> list[tuple[Any, Any]]:
        """Run a work queue (see [`InProcessExecutor.run_queue`][ato.hyperopt.InProcessExecutor.run_queue])."""
        ...


class InProcessExecutor:
    """Runs every trial in the calling process."""

    rank = 0
    world_size = 1
    is_root = True

    def shard(self, num_items: int) -> range:
        """Positions of a batch this process runs: all of them."""
        return range(num_items)

    def all_gather_object(self, obj: Any) -> list[Any]:
        """``[obj]``."""
        return [obj]

    def broadcast_object_from_root(self, obj: Any) -> Any:
        """``obj``."""
        return obj

    def run_queue(
        self,
        search_id: str,
        next_item: Callable[[], Any],
        done: Callable[[Any, Any], None],
        work: Callable[[Any], tuple[Any, bool]],
    ) -> list[tuple[Any, Any]]:
        """Run a work queue: ``next_item()`` gives an item, ``QUEUE_WAIT`` or ``QUEUE_STOP``;
        ``work(item)`` returns ``(outcome, fatal)``; ``done(item, outcome)`` records it.
        ``next_item``/``done`` are called on the root only. Returns this process's
        ``[(item, outcome)]``; stops after a fatal outcome."""
        mine: list[tuple[Any, Any]] = []
        while True:
            item = next_item()
            if item in (QUEUE_STOP, QUEUE_WAIT):
                return mine
            outcome, fatal = work(item)
            mine.append((item, outcome))
            done(item, outcome)
            if fatal:
                return mine


class DatabaseExecutor(InProcessExecutor):
    """Trials shared by every process that runs the same search id against one database.

    Start the same script (same search space, sampler settings and schedule) in as many
    processes as you like, on one machine or many, at any time: each process is a worker
    that claims the search's next job from ``queue``, runs it and records its result exactly
    once; the search ends in every worker when no job is left, and each returns the same
    answer. Every schedule works: ASHA without barriers; successive halving and Hyperband with
    their rung barriers, where a worker that would wait starts the next Hyperband bracket.
    A worker that dies loses its claim after the queue's heartbeat timeout and the job is
    retried by another; SIGTERM/SIGUSR1 release the running job (see `ato.hyperopt.shared`).

    Towards the collectives each worker is alone (rank 0 of a world of 1).

    Args:
        queue: a [`JobQueue`][ato.hyperopt.JobQueue], such as
            ``ato.tracker.search_jobs.SearchJobQueue(url)``.
        poll_interval: seconds a worker first sleeps when it must wait for running jobs
            (doubling up to ``max_poll_interval``).
        max_poll_interval: the longest such sleep, seconds.
        plan_ahead: ASHA: decide the worker's next job in a thread while its current job
            runs (one job claimed ahead per worker, see `ato.hyperopt.ahead`), so a worker
            goes from one trial to the next without waiting for the database. False decides
            only when the worker is free (a decision then sees the worker's last result).

    Raises:
        SearchSettingError: ``queue`` lacks a method of ``JobQueue`` or an interval is not
            positive.
    """

    def __init__(
        self,
        queue: Any,
        *,
        poll_interval: float = 0.02,
        max_poll_interval: float = 1.0,
        plan_ahead: bool = True,
    ) -> None:
        if not isinstance(queue, JobQueue):
            raise SearchSettingError(
                f"DatabaseExecutor needs a job queue such as "
                f"ato.tracker.search_jobs.SearchJobQueue(url), got {type(queue).__name__}"
            )
        if not 0 < poll_interval <= max_poll_interval:
            raise SearchSettingError(
                f"need 0 < poll_interval <= max_poll_interval, got {poll_interval!r} and "
                f"{max_poll_interval!r}"
            )
        self.queue = queue
        self.poll_interval, self.max_poll_interval = poll_interval, max_poll_interval
        self.plan_ahead = bool(plan_ahead)


class TorchDistributedExecutor:
    """Trials spread over the ranks of the default ``torch.distributed`` process group.

    Create the process group first (``torch.distributed.init_process_group``, any backend);
    the search never destroys it.

    Args:
        rank: this process's rank (default: from the process group).
        world_size: number of ranks (default: from the process group).
        store: a ``torch.distributed.Store`` all ranks reach, for ASHA's work queue (default:
            rank 0 opens a ``TCPStore`` on a free port of ``MASTER_ADDR`` (or 127.0.0.1) and
            tells the other ranks where it is).
        timeout: seconds a rank may wait for the work queue (default 7 days: a long trial on
            every rank keeps rank 0's scheduler thread waiting that long).
        backend: ``'pytorch'`` (``torch.distributed``, any of its backends, e.g. gloo or nccl).

    Raises:
        DistributedSetupError: rank/world size not given and the process group is not
            initialized (or torch is missing).
        SearchSettingError: a bad rank, world size or backend.
    """

    def __init__(
        self,
        rank: int | None = None,
        world_size: int | None = None,
        *,
        store: Any = None,
        timeout: float = 7 * 24 * 3600.0,
        backend: str = "pytorch",
    ) -> None:
        if rank is None or world_size is None:
            dist = _torch_dist()
            if not dist.is_available() or not dist.is_initialized():
                raise DistributedSetupError(
                    "TorchDistributedExecutor() needs an initialized process group to read its "
                    "rank and world size; call torch.distributed.init_process_group(...) first "
                    "or pass rank= and world_size="
                )
            rank = dist.get_rank() if rank is None else rank
            world_size = dist.get_world_size() if world_size is None else world_size
        check_positive_int("world_size", world_size)
        if isinstance(rank, bool) or not isinstance(rank, int) or not 0 <= rank < world_size:
            raise SearchSettingError(f"rank must be an int in [0, {world_size}), got {rank!r}")
        if backend not in BACKENDS:
            raise SearchSettingError(
                f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}"
            )
        self.rank, self.world_size, self.backend = rank, world_size, backend
        self.store = store
        self.timeout = timeout

    @property
    def is_root(self) -> bool:
        """True on rank 0."""
        return self.rank == 0

    def shard(self, num_items: int) -> range:
        """Positions ``0..num_items-1`` this rank handles: every ``world_size``-th one,
        starting at ``rank`` (sizes differ by at most one between ranks)."""
        return range(self.rank, num_items, self.world_size)

    def all_gather_object(self, obj: Any) -> list[Any]:
        """Every rank's ``obj``, indexed by rank (picklable objects; a collective call).

        Raises:
            DistributedSetupError: torch is missing, or the process group is not
                initialized or disagrees with ``rank``/``world_size``.
        """
        if self.world_size == 1:
            return [obj]
        dist = self._process_group()
        gathered: list[Any] = [None] * self.world_size
        dist.all_gather_object(gathered, obj)
        return gathered

    def broadcast_object_from_root(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every rank (a collective call)."""
        if self.world_size == 1:
            return obj
        dist = self._process_group()
        box = [obj if self.is_root else None]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def _process_group(self) -> Any:
        try:
            import torch.distributed as dist
        except ImportError as exc:
            raise DistributedSetupError(
                f"world_size={self.world_size} needs torch.distributed; install it with "
                f"`pip install ato-hyperopt[distributed]`"
            ) from exc
        if importlib.util.find_spec("numpy") is None:
            raise DistributedSetupError(
                "torch.distributed's object collectives need numpy; install it with "
                "`pip install ato-hyperopt[distributed]`"
            )
        if not dist.is_available() or not dist.is_initialized():
            raise DistributedSetupError(
                "torch.distributed is not initialized; call torch.distributed.init_process_group"
                "(...) in every process before the search starts"
            )
        if (dist.get_rank(), dist.get_world_size()) != (self.rank, self.world_size):
            raise DistributedSetupError(
                f"the search was given rank={self.rank}, world_size={self.world_size} but the "
                f"process group has rank={dist.get_rank()}, world_size={dist.get_world_size()}"
            )
        return dist

    def run_queue(
        self,
        search_id: str,
        next_item: Callable[[], Any],
        done: Callable[[Any, Any], None],
        work: Callable[[Any], tuple[Any, bool]],
    ) -> list[tuple[Any, Any]]:
        """The work queue over the store (see the module docstring); arguments as for
        [`InProcessExecutor.run_queue`][ato.hyperopt.InProcessExecutor.run_queue].

        Raises:
            TrialFailedError: a trial on another rank was fatal, or the scheduler failed.
        """
        if self.world_size == 1:
            return InProcessExecutor().run_queue(search_id, next_item, done, work)
        store = self._queue_store(search_id)
        server: _QueueServer | None = None
        if self.is_root:
            server = _QueueServer(store, self.world_size, next_item, done, self.timeout)
            server.start()
        mine = _work_loop(store, self.rank, work)  # on an exception the daemon thread is left
        if server is not None:
            server.join()  # until every rank got its last answer
        return mine

    def _queue_store(self, search_id: str) -> Any:
        store = self.store
        if store is None:  # a store given by the caller needs no torch import here
            dist = _torch_dist()
            where = None
            if self.is_root:
                host = os.environ.get("MASTER_ADDR", "127.0.0.1")
                self._own_store = dist.TCPStore(
                    host,
                    0,
                    is_master=True,
                    timeout=timedelta(seconds=self.timeout),
                    wait_for_workers=False,
                )
                where = (host, self._own_store.port)
            host, port = self.broadcast_object_from_root(where)
            if not self.is_root:
                self._own_store = dist.TCPStore(
                    host, port, is_master=False, timeout=timedelta(seconds=self.timeout)
                )
            store = self._own_store
        return _Prefixed(store, f"ato-hyperopt/{search_id}/")


def _torch_dist() -> Any:
    try:
        import torch.distributed as dist
    except ImportError as exc:
        raise DistributedSetupError(
            "TorchDistributedExecutor needs torch; install it with "
            "`pip install ato-hyperopt[distributed]`"
        ) from exc
    return dist


class _Prefixed:
    """Keys of one search inside a shared store; waits by polling ``check`` so no thread holds
    the interpreter while it blocks inside the store."""

    def __init__(self, store: Any, prefix: str) -> None:
        self._store, self._prefix = store, prefix

    def add(self, key: str, amount: int) -> int:
        return int(self._store.add(self._prefix + key, amount))

    def set(self, key: str, value: bytes) -> None:
        self._store.set(self._prefix + key, value)

    def ready(self, key: str) -> bool:
        return bool(self._store.check([self._prefix + key]))

    def get(self, key: str) -> bytes:
        while not self.ready(key):
            time.sleep(_POLL_S / 5)
        return bytes(self._store.get(self._prefix + key))


def _work_loop(
    store: Any, rank: int, work: Callable[[Any], tuple[Any, bool]]
) -> list[tuple[Any, Any]]:
    """Ask the queue for items until it says stop; post each result with the next request."""
    mine: list[tuple[Any, Any]] = []
    seq, finished = 0, None
    while True:
        index = store.add("requests", 1)
        store.set(f"request/{index}", pickle.dumps((rank, seq, finished)))
        reply = pickle.loads(store.get(f"reply/{rank}/{seq}"))
        seq, finished = seq + 1, None
        if isinstance(reply, tuple) and reply and reply[0] == "error":
            raise TrialFailedError(reply[1])
        if reply == QUEUE_STOP:
            return mine
        if reply == QUEUE_WAIT:
            time.sleep(_POLL_S)
            continue
        outcome, fatal = work(reply)
        mine.append((reply, outcome))
        finished = (reply, outcome)
        if fatal:  # tell the scheduler, then stop this rank
            index = store.add("requests", 1)
            store.set(f"request/{index}", pickle.dumps((rank, seq, finished, True)))
            return mine


class _QueueServer(threading.Thread):
    """Rank 0's scheduler thread: answers requests in the order they were posted."""

    def __init__(
        self,
        store: Any,
        world_size: int,
        next_item: Callable[[], Any],
        done: Callable[[Any, Any], None],
        timeout: float,
    ) -> None:
        super().__init__(name="ato-hyperopt-queue", daemon=True)
        self._store, self._world_size = store, world_size
        self._next_item, self._done = next_item, done
        self._timeout = timeout
        self._error: str | None = None
        self._stopped: set[int] = set()

    def run(self) -> None:
        index = 0
        deadline = time.monotonic() + self._timeout
        while len(self._stopped) < self._world_size and time.monotonic() < deadline:
            key = f"request/{index + 1}"
            if not self._store.ready(key):
                time.sleep(_POLL_S / 5)
                continue
            index += 1
            request = pickle.loads(self._store.get(key))
            self._serve(request)

    def _serve(self, request: tuple[Any, ...]) -> None:
        rank, seq, finished = request[:3]
        fatal = len(request) > 3
        reply: Any
        try:
            if finished is not None:
                self._done(*finished)
            if fatal:
                self._error = f"a trial on rank {rank} stopped the search"
                self._stopped.add(rank)
                return
            reply = ("error", self._error) if self._error else self._next_item()
        except Exception as exc:  # the schedule or sampler failed: stop every rank
            self._error = f"the search scheduler on rank 0 failed: {type(exc).__name__}: {exc}"
            reply = ("error", self._error)
        if reply == QUEUE_STOP or (isinstance(reply, tuple) and reply and reply[0] == "error"):
            self._stopped.add(rank)
        self._store.set(f"reply/{rank}/{seq}", pickle.dumps(reply))
