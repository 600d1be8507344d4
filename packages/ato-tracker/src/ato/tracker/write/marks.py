"""``ato runs mark``: store a final status for a run whose process cannot (it died, or was
killed without SIGTERM); also the runs of one search evaluation whose process a search's
driver killed (a Ray task cancelled by force)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Connection, Table, and_, select, update

from ..errors import InvalidStatusError, RunNotFoundError
from ..read.queries import tagged
from ..storage.models import RunRecord, utcnow
from ..storage.statuses import MARKABLE, RunStatus

_runs = cast(Table, RunRecord.__table__)


def mark_run(conn: Connection, run_id: int, status: str) -> None:
    """Store ``status`` (one of ``MARKABLE``) for run ``run_id``; a run without an end
    time gets one: its last heartbeat if it has one, else now.

    Raises:
        InvalidStatusError: ``status`` is not in ``MARKABLE``.
        RunNotFoundError: no run has that id.
    """
    if status not in MARKABLE:
        raise InvalidStatusError(status)
    row = conn.execute(
        select(_runs.c.end_time, _runs.c.heartbeat).where(_runs.c.id == run_id)
    ).first()
    if row is None:
        raise RunNotFoundError(f"no run with id {run_id}")
    end_time = row.end_time or row.heartbeat or utcnow()
    conn.execute(update(_runs).where(_runs.c.id == run_id).values(status=status, end_time=end_time))


def mark_running_tagged(conn: Connection, tags: list[str], status: str) -> list[int]:
    """Store ``status`` (one of ``MARKABLE``) for every run still ``running`` whose tags
    hold all of ``tags`` (as `mark_run` does); returns their ids, in order.

    Raises:
        InvalidStatusError: ``status`` is not in ``MARKABLE``.
    """
    if status not in MARKABLE:
        raise InvalidStatusError(status)
    running = _runs.c.status == RunStatus.RUNNING.value
    rows = conn.execute(
        select(_runs.c.id, _runs.c.tags).where(and_(running, *map(tagged, tags)))
    ).all()
    ids = sorted(row.id for row in rows if set(tags) <= set(row.tags or ()))
    for run_id in ids:
        mark_run(conn, run_id, status)
    return ids
