"""Read queries shared by [`SQLFinder`][ato.tracker.SQLFinder] and [`SQLLogger`][ato.tracker.SQLLogger].

All functions take an open `sqlalchemy.Connection`, use Core statements (no ORM
identity map, so nothing can be lazily loaded later) and return the plain objects of
`ato.tracker.read.results`. Child rows (metrics, artifacts, fingerprints) of many runs are
loaded with one query per batch of ``IN_BATCH`` runs, never one query per run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    Row,
    Select,
    Text,
    cast,
    func,
    select,
    true,
)

from ..storage.clock import read_database_now
from ..storage.models import (
    ArtifactRecord,
    FingerprintRecord,
    MetricRecord,
    MetricSummaryRecord,
    ProjectRecord,
    RunRecord,
)
from ..storage.values import load_value
from . import summaries
from .results import (
    Artifact,
    Fingerprint,
    Metric,
    MetricSummary,
    Project,
    ProjectSummary,
    Run,
    check_mode,
)
from .status import CRASH_TIMEOUT_S, effective_status

T = TypeVar("T")

IN_BATCH = 500
ID_MIN, ID_MAX = 1, 2**63 - 1  # ids outside this range cannot exist (and overflow drivers)

_runs = RunRecord.__table__
_metrics = MetricRecord.__table__
_artifacts = ArtifactRecord.__table__
_fingerprints = FingerprintRecord.__table__
_projects = ProjectRecord.__table__
_summaries = MetricSummaryRecord.__table__


def find_project(conn: Connection, name: str) -> Project | None:
    """The project called ``name``, or ``None``."""
    row = conn.execute(select(_projects).where(_projects.c.name == name)).first()
    return Project(id=row.id, name=row.name, created_at=row.created_at) if row else None


def load_runs(
    conn: Connection,
    where: ColumnElement[bool],
    *,
    with_metrics: bool = True,
    crash_timeout: float = CRASH_TIMEOUT_S,
) -> list[Run]:
    """Runs matching ``where`` (a condition on the experiments/projects tables), by id; a
    ``running`` run silent for over ``crash_timeout`` seconds has status ``crashed``."""
    stmt: Select[Any] = (
        select(_runs, _projects.c.name.label("project_name"))
        .join(_projects, _projects.c.id == _runs.c.project_id)
        .where(where)
        .order_by(_runs.c.id)
    )
    rows = conn.execute(stmt).all()
    ids = [row.id for row in rows]
    metrics = _load_metrics(conn, ids) if with_metrics else {}
    artifacts = _load_children(conn, _artifacts, ids, _artifact)
    fingerprints = _load_children(conn, _fingerprints, ids, _fingerprint)
    now = read_database_now(conn)  # the clock heartbeats are written in
    return [
        Run(
            id=row.id,
            project_id=row.project_id,
            project_name=row.project_name,
            config=row.config,  # plain JSON data: an ADict when first read (ADictField)
            structural_hash=row.structural_hash,
            tags=list(row.tags or []),
            status=effective_status(row.status, row.heartbeat, row.start_time, crash_timeout, now),
            start_time=row.start_time,
            end_time=row.end_time,
            metrics=metrics.get(row.id, []),
            artifacts=artifacts.get(row.id, []),
            fingerprints=fingerprints.get(row.id, []),
            provenance=row.provenance,
            heartbeat=row.heartbeat,
        )
        for row in rows
    ]


def load_run(
    conn: Connection,
    run_id: int,
    *,
    with_metrics: bool = True,
    crash_timeout: float = CRASH_TIMEOUT_S,
) -> Run | None:
    """The run with id ``run_id``, or ``None`` (``crash_timeout`` as for ``load_runs``)."""
    runs = load_runs(
        conn, _runs.c.id == run_id, with_metrics=with_metrics, crash_timeout=crash_timeout
    )
    return runs[0] if runs else None


def best_run_id(
    conn: Connection, project_name: str, key: str, mode: str, by: str = "best"
) -> int | None:
    """Id of the run of ``project_name`` holding the largest (``'max'``) or smallest
    (``'min'``) value of metric ``key``; ``None`` if no run logged it.

    ``by`` picks the value of each run that is compared: ``'best'`` its best value ever logged
    (``MAX``/``MIN`` in ``mode``'s direction), ``'last'`` the value it logged last (what the
    runs tables show).

    Ranked as ato.hyperopt ranks trials: +inf and -inf by value (an infinite value is stored
    as the largest finite double of its sign, see ``ato.tracker.storage.values``), NaN last - a
    run whose compared value is NaN is returned only when no run has another value. Per run of
    the project, the compared value is one seek into the ``(run_id, key, value)`` index (or
    the run's summary row for ``'last'``); the runs are then ordered by it (ties: the lower
    run id).

    Raises:
        InvalidModeError: ``mode`` is not ``'max'``/``'min'``; ValueError: ``by`` is not
            ``'best'``/``'last'``.
    """
    check_mode(mode)
    m = _metrics.c
    best = _compared_value(key, mode, check_reduction(by))
    per_run = (
        select(_runs.c.id, best)
        .join(_projects, _projects.c.id == _runs.c.project_id)
        .where(_projects.c.name == project_name)
        .subquery()
    )
    order = per_run.c.best.desc() if mode == "max" else per_run.c.best.asc()
    stmt = (
        select(per_run.c.id)
        .where(per_run.c.best.is_not(None))
        .order_by(order, per_run.c.id)
        .limit(1)
    )
    found = conn.execute(stmt).scalar()
    if found is not None:
        return int(found)
    only_nan = (  # NaN ranks last: a run that logged the key but has no value to compare
        select(func.min(m.run_id))
        .join(_runs, _runs.c.id == m.run_id)
        .join(_projects, _projects.c.id == _runs.c.project_id)
        .where(_projects.c.name == project_name, m.key == key)
    )
    return conn.execute(only_nan).scalar()


#: The reductions a run's series of one metric can be ranked by.
REDUCTIONS = ("last", "best")


def check_reduction(by: str) -> str:
    """``by`` if it is ``'last'`` or ``'best'``.

    Raises:
        ValueError: any other value; the message names the choices.
    """
    if by not in REDUCTIONS:
        raise ValueError(
            f"by must be 'last' or 'best' (how a run's values are reduced), got {by!r}"
        )
    return by


def _compared_value(key: str, mode: str, by: str) -> Any:
    """The value of each run compared by ``best_run_id``, as a labelled scalar subquery."""
    if by == "last":
        s = _summaries.c
        stmt = select(s.last_value).where(s.run_id == _runs.c.id, s.key == key)
    else:
        aggregate = func.max if mode == "max" else func.min
        m = _metrics.c
        stmt = select(aggregate(m.value)).where(m.run_id == _runs.c.id, m.key == key)
    return stmt.scalar_subquery().label("best")


def metric_summaries(
    conn: Connection, run_ids: Sequence[int]
) -> dict[int, dict[str, MetricSummary]]:
    """Per run id, per metric key: last/min/max/count (see [`MetricSummary`][ato.tracker.MetricSummary]).

    Runs without metrics are absent from the result. "Last" is the value logged last. Read
    from the summaries kept at write time (`ato.tracker.read.summaries`): one row per run and key.
    """
    return summaries.read(conn, run_ids)


def in_id_range(run_id: int) -> bool:
    """Whether ``run_id`` can be a stored id (``1 <= id < 2**63``)."""
    return ID_MIN <= run_id <= ID_MAX


def batches(ids: Sequence[T], size: int = IN_BATCH) -> Iterable[Sequence[T]]:
    """``ids`` in consecutive slices of at most ``size`` items (for ``IN`` lists: servers
    bound the number of parameters of one statement, PostgreSQL at 65,535)."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def project_summaries(conn: Connection) -> list[ProjectSummary]:
    """Every project with its number of runs and latest start or end time, by id."""
    r = _runs.c
    activity = func.max(func.coalesce(r.end_time, r.start_time))
    stmt = (
        select(_projects, func.count(r.id).label("n_runs"), activity.label("last_activity"))
        .outerjoin(_runs, r.project_id == _projects.c.id)
        .group_by(_projects.c.id, _projects.c.name, _projects.c.created_at)
        .order_by(_projects.c.id)
    )
    return [
        ProjectSummary(row.id, row.name, row.created_at, row.n_runs, row.last_activity)
        for row in conn.execute(stmt)
    ]


def metric_keys(conn: Connection, where: ColumnElement[bool]) -> list[str]:
    """Distinct metric keys of the runs matching ``where`` (a condition on the metrics and
    experiments tables), sorted."""
    stmt = select(_metrics.c.key).distinct().join(_runs, _runs.c.id == _metrics.c.run_id)
    return sorted(conn.execute(stmt.where(where)).scalars())


def tagged(tag: str) -> ColumnElement[bool]:
    """A condition matching runs whose JSON tag list *may* hold ``tag`` (a fast text
    prefilter; callers keep only runs with ``tag in run.tags``)."""
    if not tag.isascii() or '"' in tag or "\\" in tag:  # stored JSON-escaped: no text match
        return true()
    pattern = '%"' + _escape_like(tag) + '"%'
    return cast(_runs.c.tags, Text).like(pattern, escape="\\")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _batches(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), IN_BATCH):
        yield ids[start : start + IN_BATCH]


#: Rows fetched at a time by the loaders of child rows: each chunk's row objects are gone
#: before the next is fetched, so they never pile up for the cyclic garbage collector.
FETCH_CHUNK = 1000
_new_tuple = tuple.__new__  # Metric(...) is a Python-level __new__; this is the same tuple in C


def _load_metrics(conn: Connection, ids: Sequence[int]) -> dict[int, list[Metric]]:
    grouped: dict[int, list[Metric]] = {}
    c = _metrics.c
    current_id: int | None = None
    current: list[Metric] = []
    for batch in _batches(ids):
        stmt = select(c.run_id, c.key, c.value, c.value_class, c.step, c.timestamp).where(
            c.run_id.in_(batch)
        )
        for chunk in conn.execute(stmt.order_by(c.id)).partitions(FETCH_CHUNK):
            for run_id, key, value, value_class, step, timestamp in chunk:
                if value_class:
                    value = load_value(value, value_class)
                elif value is None:
                    value = load_value(None, None)
                if run_id != current_id:  # a run's rows mostly come one after another
                    current_id, current = run_id, grouped.setdefault(run_id, [])
                current.append(_new_tuple(Metric, (key, value, step, timestamp)))
    return grouped


def _load_children(
    conn: Connection, table: FromClause, ids: Sequence[int], make: Callable[[Row[Any]], T]
) -> dict[int, list[T]]:
    """Rows of ``table`` (a child table with ``run_id``) for runs ``ids``, as ``make(row)``
    grouped by run id, in insertion (id) order."""
    grouped: dict[int, list[T]] = defaultdict(list)
    for batch in _batches(ids):
        stmt = select(table).where(table.c.run_id.in_(batch)).order_by(table.c.id)
        for chunk in conn.execute(stmt).partitions(FETCH_CHUNK):
            for row in chunk:
                grouped[row.run_id].append(make(row))
    return grouped


def _artifact(row: Row[Any]) -> Artifact:
    return Artifact(
        row.id,
        row.run_id,
        row.path,
        row.data_type,
        row.metadata,
        row.timestamp,
        name=row.name if row.name is not None else row.path,
        size=row.size,
        sha256=row.sha256,
        stored=bool(row.stored),
    )


def load_artifacts(conn: Connection, run_id: int) -> list[Artifact]:
    """The artifacts of run ``run_id`` in logging order (``[]`` for none or no such run)."""
    return _load_children(conn, _artifacts, [run_id], _artifact).get(run_id, [])


def _fingerprint(row: Row[Any]) -> Fingerprint:
    return Fingerprint(row.trace_id, row.trace_type, row.fingerprint, row.timestamp)
