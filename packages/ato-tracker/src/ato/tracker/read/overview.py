"""Read queries for overviews of a database: projects with their activity, runs by tag.

Like ``ato.tracker.read.queries``, every function takes an open connection, uses Core statements
and returns plain objects that stay usable after the connection closes.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, String, cast, func, null, or_, select

from ..storage.clock import read_database_now
from ..storage.models import ProjectRecord, RunRecord
from . import queries
from .results import Project, Run
from .status import CRASH_TIMEOUT_S, effective_status

_runs = RunRecord.__table__
_projects = ProjectRecord.__table__


class RunRow(NamedTuple):
    """A run without its child rows, for tables of many runs: ``config`` is the stored JSON as
    plain dicts and lists (no ADict), ``tags`` a list of strings, times aware UTC."""

    id: int
    project_name: str
    status: str
    start_time: datetime
    end_time: datetime | None
    tags: list[str]
    config: dict[str, Any]
    structural_hash: str


def project_run_rows(
    conn: Connection, project_name: str, *, crash_timeout: float = CRASH_TIMEOUT_S
) -> list[RunRow]:
    """The runs of ``project_name`` by id, as light [`RunRow`][ato.tracker.read.overview.RunRow]s
    (one query; no metrics, artifacts or fingerprints). ``[]`` for an unknown project.

    A ``running`` run whose writer has been silent for more than ``crash_timeout`` seconds
    reads as ``crashed`` (see ``ato.tracker.read.status``).
    """
    return run_rows(conn, _projects.c.name == project_name, crash_timeout=crash_timeout)


def run_rows(
    conn: Connection,
    where: ColumnElement[bool],
    *,
    crash_timeout: float = CRASH_TIMEOUT_S,
    with_config: bool = True,
) -> list[RunRow]:
    """The runs matching ``where`` (a condition on the experiments and projects tables) by
    id, as light ``RunRow``s; without ``with_config`` their ``config`` is ``{}`` (not read).
    Statuses as for ``project_run_rows``."""
    r = _runs.c
    stmt = (
        select(
            r.id,
            _projects.c.name,
            r.status,
            r.start_time,
            r.end_time,
            r.tags,
            r.config if with_config else null(),
            r.structural_hash,
            r.heartbeat,
        )
        .join(_projects, _projects.c.id == r.project_id)
        .where(where)
        .order_by(r.id)
    )
    now = read_database_now(conn)  # the clock heartbeats are written in
    return [
        RunRow(
            row[0],
            row[1],
            effective_status(row[2], row[8], row[3], crash_timeout, now),
            row[3],
            row[4],
            row[5] if type(row[5]) is list else list(row[5] or []),
            row[6] or {},
            row[7],
        )
        for row in conn.execute(stmt)  # streamed: no row object outlives its turn
    ]


class ProjectActivity(NamedTuple):
    """A project with ``run_count`` (its number of runs) and ``last_activity``: the latest
    start or end time of its runs (aware UTC), or ``None`` when it has no run."""

    project: Project
    run_count: int
    last_activity: datetime | None


def project_activity(conn: Connection) -> list[ProjectActivity]:
    """Every project (by id) with its number of runs and its last start/end time (one query)."""
    r = _runs.c
    stmt = (
        select(
            _projects,
            func.count(r.id).label("n_runs"),
            func.max(r.start_time).label("last_start"),
            func.max(r.end_time).label("last_end"),
        )
        .select_from(_projects.outerjoin(_runs, r.project_id == _projects.c.id))
        .group_by(*_projects.c)
        .order_by(_projects.c.id)
    )
    result = []
    for row in conn.execute(stmt):
        moments = [m for m in (row.last_start, row.last_end) if m is not None]
        project = Project(id=row.id, name=row.name, created_at=row.created_at)
        result.append(ProjectActivity(project, row.n_runs, max(moments) if moments else None))
    return result


def runs_with_tag(conn: Connection, tag: str, *, with_metrics: bool = False) -> list[Run]:
    """Runs (of any project, by id) whose tags contain exactly ``tag``.

    The tag list is stored as JSON; the database narrows the runs down by the JSON text of the
    tag, then each candidate's tag list is checked for an exact match in Python, so wildcard
    characters or JSON escapes in ``tag`` cannot match other tags.
    """
    text = cast(_runs.c.tags, String)
    # The tag as it appears inside the stored JSON text: escaped to ASCII as SQLAlchemy writes
    # it, or as plain UTF-8 (MySQL re-renders its JSON values).
    needles = {json.dumps(tag)[1:-1], json.dumps(tag, ensure_ascii=False)[1:-1]}
    where = or_(*(text.like(_like_pattern(needle), escape="\\") for needle in needles))
    runs = queries.load_runs(conn, where, with_metrics=with_metrics)
    return [run for run in runs if tag in run.tags]


def _like_pattern(needle: str) -> str:
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
