"""What ``ato runs list`` reads: one light row per matching run (``ato.tracker.read.overview.RunRow``:
no metrics, artifacts, fingerprints or provenance; the config only when asked) and the metric
keys those runs logged. Only the page that is shown is then loaded in full
(``SQLFinder.find_runs``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, select, true

from ..read import overview
from ..read.finder import SQLFinder
from ..read.overview import RunRow
from ..read.queries import IN_BATCH, batches, tagged
from ..storage.models import MetricSummaryRecord, ProjectRecord

_projects = ProjectRecord.__table__
_summaries = MetricSummaryRecord.__table__


def matching(projects: Sequence[str] | None, tag: str | None = None) -> ColumnElement[bool]:
    """The condition for runs of ``projects`` (``None``: any project) whose tags may hold
    ``tag`` (a text prefilter: keep the rows with ``tag in row.tags``)."""
    where = true() if projects is None else _projects.c.name.in_(list(projects))
    return where if tag is None else where & tagged(tag)


def run_rows(
    finder: SQLFinder, where: ColumnElement[bool], *, with_config: bool = False
) -> list[RunRow]:
    """The runs matching ``where`` (see `matching`) as light rows, by id; their configs are
    read only ``with_config`` (else ``{}``)."""
    with finder.engine.connect() as conn:
        return overview.run_rows(
            conn, where, crash_timeout=finder.crash_timeout, with_config=with_config
        )


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
