"""Reading the progress of a search shared through the database (tables ``search_queues`` and
``search_jobs``, revision 0008): job counts by state and what each worker did. Written by
``ato.tracker.write.search_jobs``; read here by `SearchJobQueue.status`, ``ato search status``
and the dashboard (through `SQLFinder.get_search_status`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Connection, Table, func, select

from ..storage.models import SearchJobRecord, SearchQueueRecord

__all__ = ["JOB_STATES", "SearchStatus", "WorkerStatus", "read_search_status"]

QUEUED, CLAIMED, DONE, FAILED = "queued", "claimed", "done", "failed"
#: The states of a job, in the order a job goes through them.
JOB_STATES = (QUEUED, CLAIMED, DONE, FAILED)

_jobs = cast(Table, SearchJobRecord.__table__)
_queues = cast(Table, SearchQueueRecord.__table__)


@dataclass(frozen=True)
class WorkerStatus:
    """What one worker did in a search: ``done``/``failed`` jobs it finished, the job it holds
    (``running``, a job key or None) and its latest heartbeat (database clock, or None)."""

    worker: str
    done: int
    failed: int
    running: str | None
    heartbeat: Any


@dataclass(frozen=True)
class SearchStatus:
    """A shared search at a glance: job counts by state (every key of `JOB_STATES`), one
    `WorkerStatus` per worker that claimed a job, whether a worker saw it end, and the run
    holding its answer."""

    search_id: str
    counts: dict[str, int]
    workers: list[WorkerStatus] = field(default_factory=list)
    finished: bool = False
    answer_run: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``search_id``, ``finished``, ``answer_run``, ``counts`` and ``workers``
        (``worker``, ``done``, ``failed``, ``running``, ``heartbeat`` as ISO 8601 or None);
        what ``ato search status --json`` prints and the dashboard serves."""
        return {
            "search_id": self.search_id,
            "finished": self.finished,
            "answer_run": self.answer_run,
            "counts": self.counts,
            "workers": [
                {
                    "worker": w.worker,
                    "done": w.done,
                    "failed": w.failed,
                    "running": w.running,
                    "heartbeat": None if w.heartbeat is None else w.heartbeat.isoformat(),
                }
                for w in self.workers
            ],
        }


def read_search_status(conn: Connection, search_id: str) -> SearchStatus | None:
    """The progress of shared search ``search_id``; None when no worker opened it."""
    head = conn.execute(
        select(_queues.c.finished_at, _queues.c.answer_run).where(_queues.c.search_id == search_id)
    ).first()
    if head is None:
        return None
    counts = dict.fromkeys(JOB_STATES, 0)
    for state, count in conn.execute(
        select(_jobs.c.state, func.count())
        .where(_jobs.c.search_id == search_id)
        .group_by(_jobs.c.state)
    ):
        counts[state] = int(count)
    return SearchStatus(
        search_id,
        counts,
        _worker_rows(conn, search_id),
        head.finished_at is not None,
        head.answer_run,
    )


def _worker_rows(conn: Connection, search_id: str) -> list[WorkerStatus]:
    c = _jobs.c
    per: dict[str, dict[str, Any]] = {}
    rows = conn.execute(
        select(c.claimed_by, c.state, c.job_key, c.heartbeat).where(
            c.search_id == search_id, c.claimed_by.is_not(None)
        )
    )
    for worker, state, key, beat in rows:
        entry = per.setdefault(worker, {"done": 0, "failed": 0, "running": None, "beat": None})
        if state in (DONE, FAILED):
            entry[state] += 1
        elif state == CLAIMED:
            entry["running"], entry["beat"] = key, beat
    return [
        WorkerStatus(name, e["done"], e["failed"], e["running"], e["beat"])
        for name, e in sorted(per.items())
    ]
