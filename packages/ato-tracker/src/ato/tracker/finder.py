"""SQLFinder: query projects and runs recorded by [`SQLLogger`][ato.tracker.SQLLogger]."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, distinct, func, select
from sqlalchemy.exc import DBAPIError

from . import queries
from .engine import get_engine, require_tracker_schema, schema_state, sqlite_file
from .errors import TrackerError
from .models import FingerprintRecord, ProjectRecord, RunRecord
from .results import MetricSummary, Project, Run
from .schema import HEAD_REVISION
from .settings import hide_password, read_settings

_runs = RunRecord.__table__


def _is_existing_tracker_file(url: str) -> bool:
    """A SQLite file that already holds the tracker's tables at the newest revision: read it
    read-only (it may be on read-only media) instead of preparing it for writing."""
    path = sqlite_file(url)
    if path is None or not path.is_file():
        return False
    try:
        return schema_state(url).revision == HEAD_REVISION
    except (DBAPIError, TrackerError):
        return False


_projects = ProjectRecord.__table__
_fingerprints = FingerprintRecord.__table__


class SQLFinder:
    """Read-only queries over a tracker database.

    Args:
        config: a config with ``experiment.sql.db_path`` (as for [`SQLLogger`][ato.tracker.SQLLogger]; the
            project name is not needed) or a database URL string.
        must_exist: open only an existing tracker database and change nothing in it (for
            read-only tools such as the ``ato`` command). Without it, a missing SQLite file
            is created and missing tracker tables are added.

    Raises:
        DatabaseNotFoundError: ``must_exist`` is set and the SQLite file does not exist.
        NotATrackerDatabaseError: ``must_exist`` is set and the database lacks the tracker
            tables (e.g. another program's SQLite file); it is left untouched.
        sqlalchemy.exc.DBAPIError: the database cannot be opened or read.

    Every method returns plain objects from `ato.tracker.results` that stay usable after
    the call: not-found cases return ``None`` (single objects) or ``[]`` (lists).
    """

    def __init__(self, config: Any, *, must_exist: bool = False) -> None:
        settings = read_settings(config, need_project=False)
        self.db_url = settings.db_url
        read_only = must_exist or _is_existing_tracker_file(self.db_url)
        if must_exist:
            require_tracker_schema(self.db_url)
        self.engine: Engine = get_engine(
            self.db_url,
            create_schema=not read_only,
            timeouts=settings.timeouts,
            read_only=read_only,
        )

    def find_project(self, name: str) -> Project | None:
        """The project called ``name``, or ``None``."""
        with self.engine.connect() as conn:
            return queries.find_project(conn, name)

    def list_projects(self) -> list[Project]:
        """Every project, by id."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(_projects).order_by(_projects.c.id))
            return [Project(row.id, row.name, row.created_at) for row in rows]

    def find_run(self, run_id: int, *, with_metrics: bool = True) -> Run | None:
        """The run with id ``run_id`` (artifacts, fingerprints and - unless
        ``with_metrics=False`` - metrics loaded), or ``None`` (also for ids no database can
        hold, such as ``10**30``)."""
        if not queries.in_id_range(run_id):
            return None
        with self.engine.connect() as conn:
            return queries.load_run(conn, run_id, with_metrics=with_metrics)

    def find_runs(self, run_ids: Sequence[int], *, with_metrics: bool = True) -> list[Run]:
        """The runs among ``run_ids`` (a sequence of run ids, any length: queried in batches)
        that exist, ordered by id; ``with_metrics`` as for ``find_run``."""
        ids = sorted({run_id for run_id in run_ids if queries.in_id_range(run_id)})
        runs: list[Run] = []
        with self.engine.connect() as conn:
            for batch in queries.batches(ids, queries.IN_BATCH * 10):
                where = _runs.c.id.in_(list(batch))
                runs += queries.load_runs(conn, where, with_metrics=with_metrics)
        return runs

    def get_runs_in_project(self, project_name: str, *, with_metrics: bool = True) -> list[Run]:
        """All runs of ``project_name`` by id (``[]`` if the project does not exist).

        ``with_metrics=False`` skips loading metric rows (``run.metrics == []``), which is much
        faster for projects with many logged values; see `get_metric_summaries`.
        """
        with self.engine.connect() as conn:
            return queries.load_runs(
                conn, _projects.c.name == project_name, with_metrics=with_metrics
            )

    def find_best_run(self, project_name: str, metric_key: str, mode: str = "max") -> Run | None:
        """The run of ``project_name`` with the largest (``mode='max'``) or smallest
        (``mode='min'``) finite value of ``metric_key`` ever logged; ``None`` if no run of the
        project logged it.

        Raises:
            InvalidModeError: ``mode`` is not ``'max'`` or ``'min'`` (a ``ValueError``).
        """
        with self.engine.connect() as conn:
            run_id = queries.best_run_id(conn, project_name, metric_key, mode)
            return None if run_id is None else queries.load_run(conn, run_id)

    def find_similar_runs(self, run_id: int) -> list[Run]:
        """Runs of the same project whose config has the same structural hash (same keys and
        value types, any values) as run ``run_id``, excluding it; ``[]`` if it does not exist."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(_runs.c.structural_hash, _runs.c.project_id).where(_runs.c.id == run_id)
            ).first()
            if row is None:
                return []
            where = (
                (_runs.c.structural_hash == row.structural_hash)
                & (_runs.c.project_id == row.project_id)
                & (_runs.c.id != run_id)
            )
            return queries.load_runs(conn, where)

    def find_similar_runs_by_trace(
        self, run_id: int, trace_id: str, trace_type: str = "static"
    ) -> list[Run]:
        """Runs of the same project that recorded the same fingerprint for ``trace_id`` (of
        ``trace_type``) as run ``run_id``, excluding it; ``[]`` if that run has no such
        fingerprint."""
        with self.engine.connect() as conn:
            own = (
                select(_fingerprints.c.fingerprint)
                .where(_fingerprints.c.run_id == run_id)
                .where(_fingerprints.c.trace_id == trace_id)
                .where(_fingerprints.c.trace_type == trace_type)
            )
            fingerprints = list(conn.execute(own).scalars())
            project_id = conn.execute(
                select(_runs.c.project_id).where(_runs.c.id == run_id)
            ).scalar()
            if not fingerprints or project_id is None:
                return []
            matching = (
                select(_fingerprints.c.run_id)
                .where(_fingerprints.c.trace_id == trace_id)
                .where(_fingerprints.c.trace_type == trace_type)
                .where(_fingerprints.c.fingerprint.in_(fingerprints))
            )
            where = (
                _runs.c.id.in_(matching)
                & (_runs.c.project_id == project_id)
                & (_runs.c.id != run_id)
            )
            return queries.load_runs(conn, where)

    def get_trace_statistics(self, project_name: str, trace_id: str) -> dict[str, Any]:
        """How many versions of the code traced as ``trace_id`` the runs of a project saw.

        Returns:
            ``{'trace_id': str, 'static_trace_versions': int, 'runtime_trace_versions': int,
            'runs': int}`` - the numbers of distinct static and runtime fingerprints and of runs
            that recorded the trace. All counts are 0 for an unknown project or trace.
        """
        stats: dict[str, Any] = {
            "trace_id": trace_id,
            "static_trace_versions": 0,
            "runtime_trace_versions": 0,
            "runs": 0,
        }
        fp = _fingerprints.c
        in_project = (
            select(fp.trace_type, fp.fingerprint, fp.run_id)
            .join(_runs, _runs.c.id == fp.run_id)
            .join(_projects, _projects.c.id == _runs.c.project_id)
            .where(_projects.c.name == project_name, fp.trace_id == trace_id)
            .subquery()
        )
        versions = select(in_project.c.trace_type, func.count(distinct(in_project.c.fingerprint)))
        runs = select(func.count(distinct(in_project.c.run_id)))
        with self.engine.connect() as conn:
            for trace_type, count in conn.execute(versions.group_by(in_project.c.trace_type)):
                stats[f"{trace_type}_trace_versions"] = count
            stats["runs"] = conn.execute(runs).scalar_one()
        return stats

    def get_metric_summaries(self, run_ids: Sequence[int]) -> dict[int, dict[str, MetricSummary]]:
        """Per run id, per metric key: last value/step, min, max and count (one query per batch
        of 500 runs), as ``{run_id: {key: MetricSummary}}``. Runs without metrics are absent."""
        ids = [run_id for run_id in run_ids if queries.in_id_range(run_id)]
        if not ids:
            return {}
        with self.engine.connect() as conn:
            return queries.metric_summaries(conn, ids)

    def __repr__(self) -> str:
        return f"SQLFinder(db={hide_password(self.db_url)!r})"
