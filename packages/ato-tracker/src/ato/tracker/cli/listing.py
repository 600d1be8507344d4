"""What ``ato runs list`` reads: one light row per matching run (the columns that filters,
sort orders and the choice of param columns need: no metrics, artifacts, fingerprints or
provenance) and the metric keys those runs logged. Only the page that is shown is then
loaded in full (``SQLFinder.find_runs``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, null, select, true

from ..finder import SQLFinder
from ..models import MetricSummaryRecord, ProjectRecord, RunRecord, utcnow
from ..queries import IN_BATCH, batches, tagged
from ..status import effective_status

_runs = RunRecord.__table__
_projects = ProjectRecord.__table__
_summaries = MetricSummaryRecord.__table__


@dataclass(frozen=True)
class RunRow:
    """A run as ``ato runs list`` filters and orders it: ``status`` is the effective one
    (``crashed`` for a silent writer); ``config`` the stored JSON object when read with
    ``with_config=True``, else ``{}``."""

    id: int
    project_name: str
    status: str
    start_time: datetime
    end_time: datetime | None
    tags: list[str]
    config: dict[str, Any] = field(default_factory=dict)


def matching(projects: Sequence[str] | None, tag: str | None = None) -> ColumnElement[bool]:
    """The condition for runs of ``projects`` (``None``: any project) whose tags may hold
    ``tag`` (a text prefilter: keep the rows with ``tag in row.tags``)."""
    where = true() if projects is None else _projects.c.name.in_(list(projects))
    return where if tag is None else where & tagged(tag)


def run_rows(
    finder: SQLFinder, where: ColumnElement[bool], *, with_config: bool = False
) -> list[RunRow]:
    """The runs matching ``where`` (a condition on the experiments and projects tables) as
    light rows, by id; their configs are read only ``with_config``."""
    r = _runs.c
    config = r.config if with_config else null()
    stmt = (
        select(r.id, _projects.c.name, r.status, r.heartbeat, r.start_time, r.end_time, r.tags)
        .add_columns(config)
        .join(_projects, _projects.c.id == r.project_id)
        .where(where)
        .order_by(r.id)
    )
    now, timeout = utcnow(), finder.crash_timeout
    with finder.engine.connect() as conn:
        return [
            RunRow(
                id=run_id,
                project_name=project,
                status=effective_status(status, heartbeat, start, timeout, now),
                start_time=start,
                end_time=end,
                tags=list(tags or []),
                config=stored or {},
            )
            for run_id, project, status, heartbeat, start, end, tags, stored in conn.execute(stmt)
        ]


def metric_keys(finder: SQLFinder, run_ids: Sequence[int]) -> list[str]:
    """The distinct metric keys the runs ``run_ids`` logged, sorted (read from the metric
    summaries: one row per run and key, never the metric rows)."""
    s = _summaries.c
    keys: set[str] = set()
    with finder.engine.connect() as conn:
        for batch in batches(run_ids, IN_BATCH * 10):
            stmt = select(s.key).distinct().where(s.run_id.in_(list(batch)))
            keys.update(conn.execute(stmt).scalars())
    return sorted(keys)
