"""A search read lightly, and a small fingerprint of its stored state for caches.

`search_rows` reads what pages about a search need and nothing more: each run as a light
[`RunRow`][ato.tracker.RunRow] (config as plain dicts, tags, status; no metric rows,
artifacts, code fingerprints or provenance), the runs' metric summaries and the answer by the
rule of ``ato.tracker.read.answers``.

`search_state` is one aggregate statement over the same runs (plus one reading the database's
clock) whose result changes whenever anything a reader of the search shows could have changed:

- a run added or removed: the number of runs and their largest id;
- a status stored: the number of runs in each stored status, and the latest end time;
- a tag added (ato-hyperopt adds ``final`` to its answer's run): the total length of the runs'
  tag lists as stored text;
- a metric value logged: the number of summary rows and the sum of their value counts (every
  logged value adds one; values are never rewritten);
- a heartbeat written: the latest heartbeat (written in the database's clock, so a new one is
  later than every earlier one);
- a running run read as ``crashed`` (``ato.tracker.read.status``: nothing is written for it):
  the number of runs stored as running whose last sign of life is older than the crash timeout
  at the database's current time.

Equal states therefore mean that reading the search again gives the same answer; the state is
read before the rows, so a write between the two reads makes the next state differ (a cache
recomputes once too often, never serves stale rows).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Text, case, cast, func, select

from ..storage import search_runs
from ..storage.clock import read_database_now
from ..storage.models import MetricSummaryRecord, ProjectRecord, RunRecord
from ..storage.statuses import RunStatus
from . import overview, queries, summaries
from .answers import SearchAnswer, search_answer
from .overview import RunRow
from .results import MetricSummary

_runs = RunRecord.__table__
_projects = ProjectRecord.__table__
_summaries = MetricSummaryRecord.__table__
#: The statuses a writer stores (``crashed`` is only ever derived by readers).
_STORED = tuple(status.value for status in RunStatus if status is not RunStatus.CRASHED)


@dataclass(frozen=True)
class SearchState:
    """A fingerprint of a search's stored runs (see the module docstring): two equal states
    mean nothing a reader shows of the search changed in between.

    Attributes:
        search_id: the search.
        marks: the aggregate values compared (a tuple of ints, datetimes and ``None``).
    """

    search_id: str
    marks: tuple[Any, ...]


@dataclass(frozen=True)
class SearchRows:
    """A search read lightly, as returned by
    [`SQLFinder.get_search_rows`][ato.tracker.SQLFinder.get_search_rows].

    Attributes:
        search_id: the id in the runs' ``search:<id>`` tag.
        runs: every run of the search by id, as light [`RunRow`][ato.tracker.RunRow]s.
        summaries: per run id, per metric key, its [`MetricSummary`][ato.tracker.MetricSummary].
        metric_keys: every metric key any of the runs logged, sorted.
        answer: the search's answer by the rule of ``ato.tracker.answers``; its
            ``evaluations`` are in the order of ``runs``.
        state: the [`SearchState`][ato.tracker.SearchState] read just before the rows (equal
            to a later `SQLFinder.get_search_state` exactly when nothing changed since).
    """

    search_id: str
    runs: list[RunRow]
    summaries: dict[int, dict[str, MetricSummary]]
    metric_keys: list[str]
    answer: SearchAnswer
    state: SearchState


def candidates(search_id: str, project_name: str | None) -> ColumnElement[bool]:
    """The condition on the runs and projects tables that every run of ``search_id`` (in
    ``project_name`` when given) meets; a superset: callers keep the exact tag matches."""
    where = queries.tagged(search_runs.search_tag(search_id))
    if project_name is not None:
        where = where & (_projects.c.name == project_name)
    return where


def search_state(
    conn: Connection, search_id: str, project_name: str | None, crash_timeout: float
) -> SearchState | None:
    """The state of search ``search_id`` (see the module docstring), ``None`` when no run
    can belong to it. Two statements: the database's clock, then one aggregate."""
    r = _runs.c
    cutoff = read_database_now(conn) - timedelta(seconds=crash_timeout)
    where = candidates(search_id, project_name)
    members = (
        select(r.id).join(_projects, _projects.c.id == r.project_id).where(where).correlate(None)
    )
    mine = _summaries.c.run_id.in_(members)
    rows_logged = select(func.count()).where(mine).correlate(None).scalar_subquery()
    values_logged = (
        select(func.coalesce(func.sum(_summaries.c.value_count), 0)).where(mine).correlate(None)
    )
    silent = func.coalesce(r.heartbeat, r.start_time) < cutoff
    stmt = (
        select(
            func.count(r.id),
            func.max(r.id),
            func.max(r.end_time),
            func.max(r.heartbeat),
            func.coalesce(func.sum(func.length(cast(r.tags, Text))), 0),
            *(_count_if(r.status == status) for status in _STORED),
            _count_if((r.status == RunStatus.RUNNING.value) & silent),
            rows_logged,
            values_logged.scalar_subquery(),
        )
        .select_from(_runs.join(_projects, _projects.c.id == r.project_id))
        .where(where)
    )
    row = conn.execute(stmt).one()
    if not row[0]:
        return None
    return SearchState(search_id, tuple(_plain(value) for value in row))


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _plain(value: Any) -> Any:
    """Drivers return sums as ``Decimal`` (PostgreSQL, MySQL) or ``int`` (SQLite)."""
    return value if value is None or not hasattr(value, "as_integer_ratio") else int(value)


def search_rows(
    conn: Connection,
    search_id: str,
    project_name: str | None,
    crash_timeout: float,
    metric: str | None,
    mode: str | None,
) -> SearchRows | None:
    """Search ``search_id`` read lightly (see `SearchRows`), ``None`` when no run carries its
    tag; ``metric`` and ``mode`` as for ``ato.tracker.answers.search_answer``.

    Raises:
        InvalidModeError: ``mode`` is not ``'max'``/``'min'``.
    """
    state = search_state(conn, search_id, project_name, crash_timeout)
    if state is None:
        return None
    tag = search_runs.search_tag(search_id)
    where = candidates(search_id, project_name)
    rows = [
        row
        for row in overview.run_rows(conn, where, crash_timeout=crash_timeout)
        if tag in row.tags
    ]
    if not rows:
        return None
    found = summaries.read(conn, [row.id for row in rows])
    answer = search_answer(rows, found, metric, mode)
    return SearchRows(search_id, rows, found, _keys(found), answer, state)


def _keys(found: Mapping[int, Mapping[str, MetricSummary]]) -> list[str]:
    return sorted({key for per_run in found.values() for key in per_run})
