"""SQLFinder: query projects and runs recorded by [`SQLLogger`][ato.tracker.SQLLogger]."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, distinct, func, select
from sqlalchemy.exc import DBAPIError

from ..errors import TrackerConfigError, TrackerError
from ..storage.database import Database
from ..storage.models import FingerprintRecord, MetricRecord, ProjectRecord, RunRecord
from ..storage.schema import HEAD_REVISION
from ..storage.settings import read_settings
from . import dataframes, frames, queries, status, summaries
from .answers import ANSWER_TAG, SearchAnswer, search_answer
from .results import Metric, MetricSummary, Project, ProjectSummary, Run

if TYPE_CHECKING:
    import pandas

#: Tag of the run holding a search's answer, next to ``search:<id>`` (see ``ato.tracker.answers``).
SEARCH_ANSWER_TAG = ANSWER_TAG
STREAM_BATCH = 10_000

_runs = RunRecord.__table__


def _is_existing_tracker_file(database: Database) -> bool:
    """A SQLite file that already holds the tracker's tables at the newest revision: read it
    read-only (it may be on read-only media) instead of preparing it for writing."""
    path = database.sqlite_path
    if path is None or not path.is_file():
        return False
    try:
        return database.schema_state().revision == HEAD_REVISION
    except (DBAPIError, TrackerError):
        return False


_projects = ProjectRecord.__table__
_fingerprints = FingerprintRecord.__table__
_metrics = MetricRecord.__table__


class SQLFinder:
    """Read-only queries over a tracker database.

    Args:
        config: a config with ``experiment.sql.db_path`` (as for [`SQLLogger`][ato.tracker.SQLLogger]; the
            project name is not needed) or a database URL string.
        must_exist: open only an existing tracker database and change nothing in it (for
            read-only tools such as the ``ato`` command). Without it, a missing SQLite file
            is created and missing tracker tables are added.
        crash_timeout: seconds without a heartbeat after which a ``running`` run is shown
            as ``crashed`` (default ``$ATO_CRASH_TIMEOUT``, else 120; see
            ``ato.tracker.read.status``).

    Raises:
        DatabaseNotFoundError: ``must_exist`` is set and the SQLite file does not exist.
        NotATrackerDatabaseError: ``must_exist`` is set and the database lacks the tracker
            tables (e.g. another program's SQLite file); it is left untouched.
        sqlalchemy.exc.DBAPIError: the database cannot be opened or read.

    Every method returns plain objects from `ato.tracker.read.results` that stay usable after
    the call: not-found cases return ``None`` (single objects) or ``[]`` (lists).
    """

    def __init__(
        self, config: Any, *, must_exist: bool = False, crash_timeout: float | None = None
    ) -> None:
        self.crash_timeout = status.crash_timeout(crash_timeout)
        settings = read_settings(config, need_project=False)
        self.db_url = settings.db_url
        self.database = Database.from_url(settings.db_url, settings.timeouts)
        read_only = must_exist or _is_existing_tracker_file(self.database)
        if must_exist:
            self.database.require_tracker_schema()
        self.engine: Engine = self.database.read_engine() if read_only else self.database.engine()

    @classmethod
    def from_url(
        cls, url: str, *, must_exist: bool = False, crash_timeout: float | None = None
    ) -> SQLFinder:
        """A finder over the database at ``url`` (a SQLAlchemy URL, or a bare SQLite file
        path), without a config object; ``must_exist`` and ``crash_timeout`` as for
        `SQLFinder`.

        Raises:
            TrackerConfigError: ``url`` is not a string.
            DatabaseNotFoundError, NotATrackerDatabaseError: as for `SQLFinder`.
        """
        if not isinstance(url, str):
            raise TrackerConfigError(f"SQLFinder.from_url takes a URL string, got {url!r}")
        return cls(url, must_exist=must_exist, crash_timeout=crash_timeout)

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
            return queries.load_run(
                conn, run_id, with_metrics=with_metrics, crash_timeout=self.crash_timeout
            )

    def find_runs(self, run_ids: Sequence[int], *, with_metrics: bool = True) -> list[Run]:
        """The runs among ``run_ids`` (a sequence of run ids, any length: queried in batches)
        that exist, ordered by id; ``with_metrics`` as for ``find_run``."""
        ids = sorted({run_id for run_id in run_ids if queries.in_id_range(run_id)})
        runs: list[Run] = []
        with self.engine.connect() as conn:
            for batch in queries.batches(ids, queries.IN_BATCH * 10):
                where = _runs.c.id.in_(list(batch))
                runs += queries.load_runs(
                    conn, where, with_metrics=with_metrics, crash_timeout=self.crash_timeout
                )
        return runs

    def get_runs_in_project(self, project_name: str, *, with_metrics: bool = True) -> list[Run]:
        """All runs of ``project_name`` by id (``[]`` if the project does not exist).

        ``with_metrics=False`` skips loading metric rows (``run.metrics == []``), which is much
        faster for projects with many logged values; see `get_metric_summaries`.
        """
        with self.engine.connect() as conn:
            return queries.load_runs(
                conn,
                _projects.c.name == project_name,
                with_metrics=with_metrics,
                crash_timeout=self.crash_timeout,
            )

    def find_best_run(
        self, project_name: str, metric_key: str, mode: str = "max", by: str = "best"
    ) -> Run | None:
        """The run of ``project_name`` with the largest (``mode='max'``) or smallest
        (``mode='min'``) value of ``metric_key``; ``None`` if no run of the project logged it.

        Args:
            by: which value of each run is compared: ``'best'`` (default, unchanged) the
                best finite value it ever logged in ``mode``'s direction, ``'last'`` the value
                it logged last (the one run tables show; ``ato runs best`` ranks by it unless
                given ``--by best``). Ties go to the lower run id; NaN ranks last.

        Raises:
            InvalidModeError: ``mode`` is not ``'max'`` or ``'min'`` (a ``ValueError``).
            ValueError: ``by`` is not ``'best'`` or ``'last'``.
        """
        with self.engine.connect() as conn:
            run_id = queries.best_run_id(conn, project_name, metric_key, mode, by)
            return None if run_id is None else self._load_one(conn, run_id)

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
            return queries.load_runs(conn, where, crash_timeout=self.crash_timeout)

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
            return queries.load_runs(conn, where, crash_timeout=self.crash_timeout)

    def get_trace_statistics(self, project_name: str, trace_id: str) -> dict[str, Any]:
        """How many versions of the code traced as ``trace_id`` the runs of a project saw.

        Returns:
            ``{'project_name': str, 'trace_id': str, 'static_trace_versions': int,
            'runtime_trace_versions': int, 'runs': int}`` - the names asked for (as ato 2.x
            returned them), the numbers of distinct static and runtime fingerprints and of runs
            that recorded the trace. All counts are 0 for an unknown project or trace.
        """
        stats: dict[str, Any] = {
            "project_name": project_name,
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

    def get_metric_summary_page(
        self, run_id: int, pattern: str | None = None, limit: int | None = None
    ) -> tuple[dict[str, MetricSummary], int]:
        """The metric summaries of one run, filtered and bounded: those whose key matches
        ``pattern`` (a glob with ``*``/``?``; without either, a key prefix; ``None``: every
        key), the first ``limit`` in key order (``None``: all), and the number of matching
        keys in all, as ``({key: MetricSummary}, total)``. Reads only the returned rows, so
        it stays fast for runs with 100,000 keys."""
        if not queries.in_id_range(run_id):
            return {}, 0
        with self.engine.connect() as conn:
            return summaries.read_page(conn, run_id, pattern, limit)

    def list_project_summaries(self) -> list[ProjectSummary]:
        """Every project with its number of runs and last activity (latest start or end
        time of a run), by id."""
        with self.engine.connect() as conn:
            return queries.project_summaries(conn)

    def run_id_range(self) -> tuple[int, int] | None:
        """``(lowest, highest)`` run id in the database, or ``None`` without runs."""
        with self.engine.connect() as conn:
            row = conn.execute(select(func.min(_runs.c.id), func.max(_runs.c.id))).one()
        return None if row[0] is None else (row[0], row[1])

    def get_metric_keys(self, run_ids: Sequence[int]) -> list[str]:
        """The distinct metric keys the runs ``run_ids`` logged, sorted."""
        if not run_ids:
            return []
        with self.engine.connect() as conn:
            return queries.metric_keys(conn, _metrics.c.run_id.in_(list(run_ids)))

    def iter_metrics(
        self, run_id: int, keys: Sequence[str] | None = None, *, batch_size: int = STREAM_BATCH
    ) -> Iterator[Metric]:
        """Stream every logged value of run ``run_id`` (only ``keys`` if given) in logging
        order, as ``ato.tracker.Metric`` tuples, fetching ``batch_size`` rows at a time
        (a server-side cursor on PostgreSQL and MySQL), so a run with millions of values never
        sits in memory. The connection stays open until the iterator is exhausted or closed.
        """
        c = _metrics.c
        stmt = select(c.key, c.value, c.step, c.timestamp).where(c.run_id == run_id)
        if keys is not None:
            stmt = stmt.where(c.key.in_(list(keys)))
        nan = float("nan")
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=batch_size).execute(
                stmt.order_by(c.id)
            )
            for key, value, step, timestamp in result:
                yield Metric(key, nan if value is None else value, step, timestamp)

    def get_search_runs(self, search_id: str, project_name: str | None = None) -> list[Run]:
        """The runs (trials) of hyperparameter search ``search_id`` - tagged
        ``search:<search_id>`` by ato-hyperopt - by id, without metric rows; only those of
        ``project_name`` if given. ``[]`` when there are none."""
        tag = f"search:{search_id}"
        where = queries.tagged(tag)
        if project_name is not None:
            where = where & (_projects.c.name == project_name)
        with self.engine.connect() as conn:
            runs = queries.load_runs(
                conn, where, with_metrics=False, crash_timeout=self.crash_timeout
            )
        return [run for run in runs if tag in run.tags]

    def find_final(self, search_id: str, project_name: str | None = None) -> Run | None:
        """The answer of search ``search_id``: its run tagged ``final`` (the final
        re-evaluation of the best configuration, recorded by ato-hyperopt), with metrics;
        ``None`` if the search has no such run (unfinished, or recorded by an older version).
        With several (a resumed search), the latest."""
        answers = [
            run
            for run in self.get_search_runs(search_id, project_name)
            if SEARCH_ANSWER_TAG in run.tags
        ]
        return self.find_run(answers[-1].id) if answers else None

    def find_search_answer(
        self,
        search_id: str,
        project_name: str | None = None,
        metric: str | None = None,
        mode: str | None = None,
    ) -> SearchAnswer:
        """The answer of search ``search_id`` by the rule of ``ato.tracker.answers``: the
        best completed evaluation at the largest budget any completed evaluation reached, ties
        to the earlier trial; ``metric`` and ``mode`` as for
        [`search_answer`][ato.tracker.answers.search_answer].

        Returns:
            A [`SearchAnswer`][ato.tracker.answers.SearchAnswer]; its ``run_id`` is ``None``
            (and ``reason`` says why) when no evaluation completed, or no run carries the tag.

        Raises:
            InvalidModeError: ``mode`` is not ``'max'``/``'min'``.
        """
        runs = self.get_search_runs(search_id, project_name)
        summaries = self.get_metric_summaries([run.id for run in runs])
        answer = search_answer(runs, summaries, metric, mode)
        if not runs:
            return replace(answer, reason=f"no run is tagged search:{search_id}")
        return answer

    def runs_frame(
        self,
        project_name: str,
        params: Sequence[str] | None = None,
        metrics: Sequence[str] | None = None,
    ) -> pandas.DataFrame:
        """The runs of ``project_name`` as a pandas DataFrame, one row per run, shaped like
        MLflow's ``search_runs``: ``run_id``, ``status``, ``start_time``, ``end_time`` (aware
        UTC), ``tags`` (lists), ``params.<dotted config key>`` and ``metrics.<key>`` (the
        value logged last, float, NaN when the run did not log it).

        Args:
            project_name: the project; an unknown one gives an empty frame with the run columns.
            params: dotted config keys to include (``None``: every key of any run).
            metrics: metric keys to include (``None``: every key any run logged).

        Raises:
            MissingDependencyError: pandas is not installed (``pip install 'ato-tracker[pandas]'``).
        """
        dataframes.import_pandas("SQLFinder.runs_frame")
        runs = self.get_runs_in_project(project_name, with_metrics=False)
        summaries = self.get_metric_summaries([run.id for run in runs])
        columns, rows = frames.run_rows(runs, summaries, params, metrics)
        return frames.runs_frame(columns, rows)

    def _load_one(self, conn: Connection, run_id: int) -> Run | None:
        return queries.load_run(conn, run_id, crash_timeout=self.crash_timeout)

    def __repr__(self) -> str:
        return f"SQLFinder(db={self.database.shown_url!r})"
