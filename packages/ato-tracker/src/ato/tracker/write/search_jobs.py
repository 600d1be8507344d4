"""The job queue of a search shared by several worker processes (tables ``search_queues`` and
``search_jobs``, revision 0008).

A worker takes a job in one of two ways:

- **claim** (`SearchJobQueue.claim`): the oldest ``queued`` job (a rung batch of a synchronous
  schedule, a job released by a stopped worker or taken back from a dead one), locked with
  ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL and MySQL/MariaDB, so concurrent
  workers never wait on each other's row and never get the same job; SQLite serializes the
  claim with ``BEGIN IMMEDIATE`` (processes on one machine).
- **plan** (`SearchJobQueue.plan`): a scheduling decision made while holding the lock of the
  search's ``search_queues`` row (``SELECT ... FOR UPDATE``; SQLite ``BEGIN IMMEDIATE``). Every
  job created or finished gets the next value of the row's ``seq``, under that lock, so the
  events of a search have one order that every worker replays identically.

Finishing a job (`SearchJobQueue.complete`) takes the same lock and succeeds only for the
worker still holding the claim: a result is recorded exactly once. A claimed job carries a
heartbeat in the database's clock (`ato.tracker.storage.clock`); a plan first takes back the
claims whose heartbeat is older than ``heartbeat_timeout`` (queued again, or ``failed`` after
``max_attempts`` claims), as Optuna's heartbeat and ``RetryFailedTrialCallback`` do.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    Table,
    exists,
    insert,
    literal_column,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError

from ..read.search_jobs import (
    CLAIMED,
    DONE,
    FAILED,
    JOB_STATES,
    QUEUED,
    SearchStatus,
    WorkerStatus,
    read_search_status,
)
from ..storage.clock import database_now, read_database_now
from ..storage.database import Database
from ..storage.engine import run_transaction
from ..storage.models import SearchJobRecord, SearchQueueRecord, utcnow
from ..storage.schema import SQLITE_IMMEDIATE

__all__ = ["JOB_STATES", "Plan", "SearchJobQueue", "SearchStatus", "WorkerStatus"]

T = TypeVar("T")

_jobs = cast(Table, SearchJobRecord.__table__)
_queues = cast(Table, SearchQueueRecord.__table__)
_KINDS = ("created", "finished")
_JOB_COLUMNS = (
    "job_key", "trial_id", "rung", "bracket", "payload", "state", "claimed_by", "attempts",
    "result", "created_seq", "done_seq",
)  # fmt: skip


def default_worker_id() -> str:
    """``<host>:<pid>:<4 random hex digits>``: unique per process, readable in status tables."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:4]}"


class SearchJobQueue:
    """The job queue of shared searches in a tracker database, seen by one worker.

    Args:
        url_or_logger: a database URL (or SQLite path), a `Database`, or an object with a
            ``database`` attribute (``SQLLogger``, ``SQLFinder``).
        worker: this worker's name (default ``<host>:<pid>:<random>``); unique per process.
        heartbeat_timeout: seconds after which a claim whose heartbeat stopped is taken back
            (a worker heartbeats every ``heartbeat_timeout / 4`` seconds).
        max_attempts: claims a job gets; a job whose worker died this many times is
            ``failed``.

    Raises:
        ValueError: ``heartbeat_timeout`` is not positive or ``max_attempts`` is below 1.
    """

    def __init__(
        self,
        url_or_logger: Any,
        *,
        worker: str | None = None,
        heartbeat_timeout: float = 60.0,
        max_attempts: int = 3,
    ) -> None:
        if not heartbeat_timeout > 0:
            raise ValueError(
                f"heartbeat_timeout must be positive seconds, got {heartbeat_timeout!r}"
            )
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise ValueError(f"max_attempts must be an int >= 1, got {max_attempts!r}")
        self.database = _database_of(url_or_logger)
        self.worker_id = worker or default_worker_id()
        self.heartbeat_timeout = float(heartbeat_timeout)
        self.heartbeat_interval = self.heartbeat_timeout / 4
        self.max_attempts = max_attempts
        self._engine: Engine | None = None
        self._next_take_back = 0.0  # time.monotonic() of this worker's next look for them
        #: stamps reserved with the lock of the next plan: as many as the last one used
        self._stamps_guess = 0

    @property
    def engine(self) -> Engine:
        """The engine (SQLite transactions start with ``BEGIN IMMEDIATE``), made on first use."""
        if self._engine is None:
            engine = self.database.engine()
            if engine.dialect.name == "sqlite":
                engine = engine.execution_options(**{SQLITE_IMMEDIATE: True})
            self._engine = engine
        return self._engine

    # -- taking jobs ---------------------------------------------------------------------
    def open_search(self, search_id: str) -> None:
        """Create the search's ``search_queues`` row if it is missing (safe from any number
        of workers at once)."""

        def work(conn: Connection) -> None:
            if _lock_search(conn, search_id, lock=False) is None:
                now = utcnow()
                conn.execute(insert(_queues).values(search_id=search_id, seq=0, created_at=now))

        with contextlib.suppress(IntegrityError):  # another worker created it first
            run_transaction(self.engine, work)

    def claim(self, search_id: str) -> dict[str, Any] | None:
        """Claim the oldest queued job of ``search_id``; the job (see `job_dict`) or None."""

        return run_transaction(self.engine, lambda conn: _claim(conn, search_id, self.worker_id))

    def plan(self, search_id: str, decide: Callable[[Plan], T]) -> T:
        """Run ``decide(plan)`` holding the lock of ``search_id`` (one transaction, retried on
        lock contention: ``decide`` may be called again). Claims whose heartbeat is older
        than ``heartbeat_timeout`` are taken back first (a worker looks for them at most once
        per ``heartbeat_interval``). Where the dialect has ``UPDATE ... RETURNING``
        (PostgreSQL, SQLite >= 3.35), the statement that takes the lock also advances the
        search's ``seq`` by as many stamps as this worker's previous decision used (an ASHA
        decision: one result and one job), so a decision that uses as many stores its stamps
        without a statement of its own; any other number is stored by one more ``UPDATE``.

        Raises:
            KeyError: the search has no ``search_queues`` row (call `open_search`).
        """

        def work(conn: Connection) -> T:
            locked = _lock_for_plan(conn, search_id, self._stamps_guess)
            if locked is None:
                raise KeyError(f"search {search_id!r} is not in the job queue; open it first")
            seq, queued, stored = locked
            plan = Plan(conn, search_id, seq, self, queued=queued, stored=stored)
            if time.monotonic() >= self._next_take_back:  # at most once per heartbeat interval
                plan.take_back_stale_claims()
            result = decide(plan)
            plan.save_seq()
            self._stamps_guess = plan.stamps_used
            return result

        result = run_transaction(self.engine, work)
        if time.monotonic() >= self._next_take_back:
            self._next_take_back = time.monotonic() + self.heartbeat_interval
        return result

    def changed_since(self, search_id: str, seq: int) -> bool:
        """True when ``search_id`` has an event stamped after ``seq`` or a queued job (or is
        not in the queue): what a worker waiting for work looks at. One small read that takes
        no lock (SQLite: no ``BEGIN IMMEDIATE``), so waiting workers never delay deciding
        ones."""
        c = _jobs.c
        queued = exists().where(c.search_id == search_id, c.state == QUEUED)
        query = select(_queues.c.seq, queued.label("queued")).where(
            _queues.c.search_id == search_id
        )
        with self.database.engine().connect() as conn:
            row = conn.execute(query).first()
        return row is None or int(row.seq) > seq or bool(row.queued)

    # -- a claimed job ------------------------------------------------------------------
    def heartbeat(self, search_id: str, job_key: str) -> bool:
        """Refresh the heartbeat of this worker's claim; False if the claim was lost (taken
        back after a missed heartbeat)."""

        def work(conn: Connection) -> bool:
            done = conn.execute(
                update(_jobs)
                .where(*self._mine(search_id, job_key))
                .values(heartbeat=database_now(conn.dialect))
            )
            return done.rowcount == 1

        return run_transaction(self.engine, work)

    def complete(self, search_id: str, job_key: str, result: Mapping[str, Any]) -> bool:
        """Record ``result`` (JSON: ``metric`` as text, ``error``, ``run_id``; a search with
        several objectives or constraints adds ``score``, its values as texts) of this
        worker's job (``done``, or ``failed`` when ``result['error']`` is set). True if
        recorded; False when the claim was lost, in which case nothing is written (exactly
        once).

        Raises:
            ValueError: ``result`` holds a NaN or infinite float, which JSON columns cannot
                store on every backend (store such numbers as text, e.g. ``repr(value)``).
        """
        _check_json_numbers(result, "result")

        def work(conn: Connection) -> bool:
            seq = _lock_search(conn, search_id, lock=True)
            if seq is None or not _record(
                conn, search_id, self.worker_id, job_key, result, seq + 1
            ):
                return False
            conn.execute(
                update(_queues).where(_queues.c.search_id == search_id).values(seq=seq + 1)
            )
            return True

        return run_transaction(self.engine, work)

    def release(self, search_id: str, job_key: str) -> bool:
        """Put this worker's claimed job back in the queue (SIGTERM/SIGUSR1: the trial saved a
        checkpoint and another worker continues it); the claim does not count as an
        attempt. True if it was released."""

        def work(conn: Connection) -> bool:
            done = conn.execute(
                update(_jobs)
                .where(*self._mine(search_id, job_key))
                .values(
                    state=QUEUED, claimed_by=None, heartbeat=None, attempts=_jobs.c.attempts - 1
                )
            )
            return done.rowcount == 1

        return run_transaction(self.engine, work)

    def _mine(self, search_id: str, job_key: str) -> tuple[Any, ...]:
        return (
            _jobs.c.search_id == search_id,
            _jobs.c.job_key == job_key,
            _jobs.c.state == CLAIMED,
            _jobs.c.claimed_by == self.worker_id,
        )

    # -- the end and the view --------------------------------------------------------------
    def finish_search(self, search_id: str, answer_run: int | None) -> bool:
        """Record that the search ended with its answer in ``answer_run``; True for the first
        worker to call it (the one that tags the answer), False afterwards."""

        def work(conn: Connection) -> bool:
            done = conn.execute(
                update(_queues)
                .where(_queues.c.search_id == search_id, _queues.c.finished_at.is_(None))
                .values(finished_at=utcnow(), answer_run=answer_run)
            )
            return done.rowcount == 1

        return run_transaction(self.engine, work)

    def jobs(self, search_id: str) -> list[dict[str, Any]]:
        """Every job of ``search_id`` (see `job_dict`), in creation order."""
        with self.database.read_engine().connect() as conn:
            rows = conn.execute(
                select(*_job_columns())
                .where(_jobs.c.search_id == search_id)
                .order_by(_jobs.c.created_seq, _jobs.c.id)
            )
            return [job_dict(row) for row in rows]

    def status(self, search_id: str) -> SearchStatus:
        """Counts by state and per-worker progress of ``search_id``.

        Raises:
            KeyError: no shared search has this id.
        """
        with self.database.read_engine().connect() as conn:
            found = read_search_status(conn, search_id)
        if found is None:
            raise KeyError(search_id)
        return found


class Plan:
    """A scheduling decision in progress: the search's lock is held (see
    `SearchJobQueue.plan`). ``seq`` is the stamp of the latest event; ``queued`` is False when
    the search had no queued job as the lock was taken (`claim` then asks nothing);
    ``stored`` is the ``seq`` the search's row holds already (``seq`` plus the stamps
    reserved with the lock; default ``seq``)."""

    def __init__(
        self,
        conn: Connection,
        search_id: str,
        seq: int,
        queue: SearchJobQueue,
        *,
        queued: bool = True,
        stored: int | None = None,
    ) -> None:
        self._conn, self._queue = conn, queue
        self.search_id, self.seq = search_id, seq
        self._first_seq = seq
        self._stored = seq if stored is None else stored
        self.queued = queued

    @property
    def stamps_used(self) -> int:
        """The stamps this decision gave to events so far."""
        return self.seq - self._first_seq

    def events(self, since: int) -> list[tuple[int, str, dict[str, Any]]]:
        """The events after stamp ``since`` in order: ``(seq, 'created' | 'finished', job)``.

        One query of two index range scans (``created_seq > since``, ``done_seq > since``), so
        a worker reads only what happened since its last decision, however long the search.
        """
        c = _jobs.c
        created = select(*_job_columns(), literal_column("0", Integer).label("kind")).where(
            c.search_id == self.search_id, c.created_seq > since
        )
        finished = select(*_job_columns(), literal_column("1", Integer).label("kind")).where(
            c.search_id == self.search_id, c.done_seq > since
        )
        events = [
            (row.done_seq if row.kind else row.created_seq, _KINDS[row.kind], job_dict(row))
            for row in self._conn.execute(union_all(created, finished))
        ]
        events.sort(key=lambda event: event[0])
        return events

    def add(self, jobs: list[Mapping[str, Any]], *, claim: bool) -> list[dict[str, Any]]:
        """Create ``jobs`` (each with ``job_key``, ``trial_id``, ``rung``, ``bracket``,
        ``payload``) with the next stamps, in order; claimed by this worker when ``claim``,
        else queued. Returns them as `job_dict` gives them."""
        rows = []
        now = utcnow()
        for job in jobs:
            self.seq += 1
            rows.append(
                {
                    "search_id": self.search_id,
                    "job_key": job["job_key"],
                    "trial_id": job["trial_id"],
                    "rung": job["rung"],
                    "bracket": job["bracket"],
                    "payload": job["payload"],
                    "state": CLAIMED if claim else QUEUED,
                    "claimed_by": self._queue.worker_id if claim else None,
                    "attempts": 1 if claim else 0,
                    "created_seq": self.seq,
                    "created_at": now,
                }
            )
        if rows:  # a claim's heartbeat in the database's clock, like every other one
            beat = database_now(self._conn.dialect) if claim else None
            self._conn.execute(insert(_jobs).values(heartbeat=beat), rows)
        return [
            {**{k: row[k] for k in _JOB_COLUMNS if k in row}, "result": None, "done_seq": None}
            for row in rows
        ]

    def claim(self) -> dict[str, Any] | None:
        """Claim the oldest queued job inside this decision (see `SearchJobQueue.claim`); no
        query when the search had none as the lock was taken (a job released meanwhile is
        claimed by the next decision)."""
        if not self.queued:
            return None
        job = _claim(self._conn, self.search_id, self._queue.worker_id)
        self.queued = job is not None
        return job

    def complete(self, job_key: str, result: Mapping[str, Any]) -> bool:
        """Record this worker's result inside this decision (see `SearchJobQueue.complete`),
        with the next stamp; False (nothing written) when the claim was lost."""
        _check_json_numbers(result, "result")
        if not _record(
            self._conn, self.search_id, self._queue.worker_id, job_key, result, self.seq + 1
        ):
            return False
        self.seq += 1
        return True

    def take_back_stale_claims(self) -> None:
        """Queue again the claims whose heartbeat is older than the queue's
        ``heartbeat_timeout`` (``failed`` once they had ``max_attempts`` claims)."""
        c, queue = _jobs.c, self._queue
        cutoff = read_database_now(self._conn) - timedelta(seconds=queue.heartbeat_timeout)
        stale = self._conn.execute(
            select(c.id, c.attempts, c.claimed_by).where(
                c.search_id == self.search_id, c.state == CLAIMED, c.heartbeat < cutoff
            )
        ).all()
        for row in stale:
            if row.attempts >= queue.max_attempts:
                self.seq += 1
                error = (
                    f"WorkerLost: the worker running it stopped heartbeating "
                    f"{row.attempts} times (last: {row.claimed_by})"
                )
                values: dict[str, Any] = {
                    "state": FAILED,
                    "result": {"metric": None, "error": error, "run_id": None},
                    "done_seq": self.seq,
                    "finished_at": utcnow(),
                }
            else:
                values = {"state": QUEUED, "claimed_by": None, "heartbeat": None}
                self.queued = True
            self._conn.execute(update(_jobs).where(c.id == row.id).values(**values))

    def save_seq(self) -> None:
        """Store the latest stamp in the search's row unless it holds it already (called by
        `SearchJobQueue.plan`)."""
        if self.seq != self._stored:
            self._conn.execute(
                update(_queues).where(_queues.c.search_id == self.search_id).values(seq=self.seq)
            )


def _claim(conn: Connection, search_id: str, worker: str) -> dict[str, Any] | None:
    """Claim the oldest queued job of ``search_id`` for ``worker`` (``SKIP LOCKED``): the row
    is read and locked by one statement and claimed by a second."""
    row = conn.execute(
        select(_jobs.c.id, *_job_columns())
        .where(_jobs.c.search_id == search_id, _jobs.c.state == QUEUED)
        .order_by(_jobs.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if row is None:
        return None
    conn.execute(
        update(_jobs)
        .where(_jobs.c.id == row.id)
        .values(
            state=CLAIMED,
            claimed_by=worker,
            heartbeat=database_now(conn.dialect),
            attempts=_jobs.c.attempts + 1,
        )
    )
    return {**job_dict(row), "state": CLAIMED, "claimed_by": worker, "attempts": row.attempts + 1}


def _record(
    conn: Connection,
    search_id: str,
    worker: str,
    job_key: str,
    result: Mapping[str, Any],
    seq: int,
) -> bool:
    """Store ``result`` of ``worker``'s claimed job with stamp ``seq``; False if not claimed."""
    c = _jobs.c
    state = FAILED if result.get("error") is not None else DONE
    done = conn.execute(
        update(_jobs)
        .where(
            c.search_id == search_id,
            c.job_key == job_key,
            c.state == CLAIMED,
            c.claimed_by == worker,
        )
        .values(state=state, result=dict(result), done_seq=seq, finished_at=utcnow())
    )
    return done.rowcount == 1


def _check_json_numbers(value: Any, where: str) -> None:
    """Refuse a NaN or infinite float anywhere in ``value`` (JSON has no such numbers).

    Raises:
        ValueError: naming the path of the number in ``value``.
    """
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(
            f"{where} is {value!r}: a job's JSON cannot hold NaN or infinity; store the number "
            f"as text (repr(value)), as ato.hyperopt does"
        )
    if isinstance(value, Mapping):
        for key, item in value.items():
            _check_json_numbers(item, f"{where}[{key!r}]")
    elif isinstance(value, (list, tuple)):
        for pos, item in enumerate(value):
            _check_json_numbers(item, f"{where}[{pos}]")


def job_dict(row: Any) -> dict[str, Any]:
    """A job row as a plain dict: ``job_key``, ``trial_id``, ``rung``, ``bracket``,
    ``payload``, ``state``, ``claimed_by``, ``attempts``, ``result``, ``created_seq``,
    ``done_seq``."""
    return {name: getattr(row, name) for name in _JOB_COLUMNS}


def _job_columns() -> list[Any]:
    return [_jobs.c[name] for name in _JOB_COLUMNS]


def _lock_for_plan(conn: Connection, search_id: str, reserve: int) -> tuple[int, bool, int] | None:
    """Lock the search's row (one statement) and return its ``seq`` before this decision,
    whether the search has a queued job, and the ``seq`` the row now holds: advanced by
    ``reserve`` stamps by ``UPDATE ... RETURNING`` where the dialect has it, else locked by
    ``SELECT ... FOR UPDATE`` and unchanged. None if the search is missing."""
    c = _jobs.c
    queued = exists().where(c.search_id == search_id, c.state == QUEUED).label("queued")
    where = _queues.c.search_id == search_id
    if reserve > 0 and conn.dialect.update_returning:
        advanced = update(_queues).where(where).values(seq=_queues.c.seq + reserve)
        row = conn.execute(advanced.returning(_queues.c.seq, queued)).first()
        if row is None:
            return None
        return int(row.seq) - reserve, bool(row.queued), int(row.seq)
    row = conn.execute(select(_queues.c.seq, queued).where(where).with_for_update()).first()
    return None if row is None else (int(row.seq), bool(row.queued), int(row.seq))


def _lock_search(conn: Connection, search_id: str, *, lock: bool) -> int | None:
    """The search's ``seq`` (its row locked ``FOR UPDATE`` when ``lock``), None if missing."""
    query = select(_queues.c.seq).where(_queues.c.search_id == search_id)
    seq = conn.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    return None if seq is None else int(seq)


def _database_of(url_or_logger: Any) -> Database:
    if isinstance(url_or_logger, Database):
        return url_or_logger
    database = getattr(url_or_logger, "database", None)
    if isinstance(database, Database):
        return database
    if isinstance(url_or_logger, (str, os.PathLike)):
        return Database.from_url(os.fspath(url_or_logger))
    raise TypeError(
        f"SearchJobQueue needs a database URL, a Database or an SQLLogger/SQLFinder, got "
        f"{type(url_or_logger).__name__}"
    )
