"""SQLFinder: query projects and runs recorded by [`SQLLogger`][ato.tracker.SQLLogger]."""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, distinct, func, select
from sqlalchemy.exc import DBAPIError

from ..errors import ArtifactNotFoundError, TrackerConfigError, TrackerError
from ..storage import artifact_store, search_runs
from ..storage.clock import read_database_now
from ..storage.database import Database
from ..storage.models import FingerprintRecord, MetricRecord, ProjectRecord, RunRecord
from ..storage.schema import HEAD_REVISION
from ..storage.settings import read_settings
from ..storage.values import NAN, NEG_INF, POS_INF
from . import (
    changes,
    curves,
    dataframes,
    frames,
    manyseries,
    overview,
    queries,
    runfilter,
    runquery,
    search_jobs,
    series,
    status,
    summaries,
)
from .answers import SearchAnswer, search_answer
from .overview import RunRow
from .results import (
    Artifact,
    Metric,
    MetricColumns,
    MetricKeyPage,
    MetricSeries,
    MetricSummary,
    Project,
    ProjectSummary,
    Run,
    SearchInfo,
)
from .searchrows import SearchRows, SearchState, search_rows, search_state

if TYPE_CHECKING:
    import pandas

#: Tag of the run holding a search's answer, next to ``search:<id>`` (see ``ato.tracker.answers``).
SEARCH_ANSWER_TAG = search_runs.ANSWER_TAG
STREAM_BATCH = 10_000
#: Run fields `SQLFinder.get_runs_page` sorts by (besides ``params.<key>``/``metrics.<key>``).
RUN_SORT_FIELDS = ("id", "status", "start_time", "end_time", "duration")
_INF = float("inf")
_NON_FINITE = {NAN: math.nan, POS_INF: _INF, NEG_INF: -_INF}

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


@dataclass(frozen=True)
class RunsPage:
    """A page of the runs of a project, as returned by
    [`SQLFinder.get_runs_page`][ato.tracker.SQLFinder.get_runs_page].

    Attributes:
        project_name: the project.
        total: how many runs match the filters (all pages together).
        offset: index of the first returned run among the matching ones, in the sort order.
        runs: the page's runs as light [`RunRow`][ato.tracker.RunRow]s (config as plain
            dicts, no metrics, artifacts or fingerprints).
        metrics: per metric key any run of the page logged, its
            [`MetricColumns`][ato.tracker.MetricColumns] (aligned with ``runs``); empty when
            asked ``with_summaries=False``.
    """

    project_name: str
    total: int
    offset: int
    runs: list[RunRow]
    metrics: dict[str, MetricColumns]


@dataclass(frozen=True)
class SearchTrials:
    """A hyperparameter search with its trials' runs and its answer, as returned by
    [`SQLFinder.get_search`][ato.tracker.SQLFinder.get_search].

    Attributes:
        search_id: the id in the runs' ``search:<id>`` tag.
        runs: every run of the search (one per evaluation of a trial), by id, without metric
            rows.
        summaries: per run id, per metric key, its [`MetricSummary`][ato.tracker.MetricSummary].
        metric_keys: every metric key any of the runs logged, sorted.
        answer: the search's answer by the rule of ``ato.tracker.answers`` (best completed
            evaluation at the largest budget reached, ties to the earlier trial), a
            [`SearchAnswer`][ato.tracker.SearchAnswer]; its ``evaluations`` are in the order
            of ``runs``.
    """

    search_id: str
    runs: list[Run]
    summaries: dict[int, dict[str, MetricSummary]]
    metric_keys: list[str]
    answer: SearchAnswer


class SQLFinder:
    """Read-only queries over a tracker database.

    Args:
        config: a config with ``experiment.sql.db_path`` (as for [`SQLLogger`][ato.tracker.SQLLogger]; the
            project name is not needed) or a database URL string.
        must_exist: open only an existing tracker database and change nothing in it (for
            read-only tools such as the ``ato`` command). Without it, a missing SQLite file
            is created and missing tracker tables are added.
        read_only: open the database read-only (implies ``must_exist``): a SQLite file with
            ``mode=ro`` (``immutable`` where its directory cannot be written), waiting up to
            30 s for a writer's lock; PostgreSQL and MySQL/MariaDB sessions that the server
            itself keeps read-only. For dashboards and other tools that must never write.
        crash_timeout: seconds without a heartbeat after which a ``running`` run is shown
            as ``crashed`` (default ``$ATO_CRASH_TIMEOUT``, else 120; see
            ``ato.tracker.read.status``).
        artifact_root: the database's artifact store directory (default
            ``$ATO_ARTIFACT_ROOT``, else ``<file>.artifacts`` next to a SQLite file; see
            ``ato.tracker.storage.artifact_store``), where `artifact_file` finds stored files.

    Raises:
        DatabaseNotFoundError: ``must_exist`` is set and the SQLite file does not exist.
        NotATrackerDatabaseError: ``must_exist`` is set and the database lacks the tracker
            tables (e.g. another program's SQLite file); it is left untouched.
        SchemaOutdatedError, SchemaTooNewError: ``must_exist`` is set and the database's
            schema revision is not this ato-tracker's (``ato db upgrade``).
        sqlalchemy.exc.DBAPIError: the database cannot be opened or read.

    Attributes:
        database: the [`Database`][ato.tracker.Database] read; its ``shown_sqlalchemy_url``
            is the URL to show (any password replaced by ``***``).
        engine: the SQLAlchemy engine reading it.

    Every method returns plain objects from `ato.tracker.read.results` that stay usable after
    the call: not-found cases return ``None`` (single objects) or ``[]`` (lists).
    """

    def __init__(
        self,
        config: Any,
        *,
        must_exist: bool = False,
        read_only: bool = False,
        crash_timeout: float | None = None,
        artifact_root: str | os.PathLike[str] | None = None,
    ) -> None:
        self.crash_timeout = status.crash_timeout(crash_timeout)
        settings = read_settings(config, need_project=False)
        self.db_url = settings.db_url
        must_exist = must_exist or read_only
        self.database = Database.from_url(settings.db_url, settings.timeouts)
        read_only = must_exist or _is_existing_tracker_file(self.database)
        if must_exist:
            self.database.require_tracker_schema()
        self.engine: Engine = self.database.read_engine() if read_only else self.database.engine()
        #: The artifact store directory, ``None`` when none is configured for a server.
        self.artifact_root: Path | None = artifact_store.store_root(self.database, artifact_root)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        must_exist: bool = False,
        read_only: bool = False,
        crash_timeout: float | None = None,
        artifact_root: str | os.PathLike[str] | None = None,
    ) -> SQLFinder:
        """A finder over the database at ``url`` (a SQLAlchemy URL, or a bare SQLite file
        path), without a config object; ``must_exist``, ``read_only``, ``crash_timeout`` and
        ``artifact_root`` as for `SQLFinder`.

        Raises:
            TrackerConfigError: ``url`` is not a string.
            DatabaseNotFoundError, NotATrackerDatabaseError: as for `SQLFinder`.
        """
        if not isinstance(url, str):
            raise TrackerConfigError(f"SQLFinder.from_url takes a URL string, got {url!r}")
        return cls(
            url,
            must_exist=must_exist,
            read_only=read_only,
            crash_timeout=crash_timeout,
            artifact_root=artifact_root,
        )

    @classmethod
    def open_read_only(
        cls,
        url: str,
        *,
        crash_timeout: float | None = None,
        artifact_root: str | os.PathLike[str] | None = None,
    ) -> SQLFinder:
        """``SQLFinder.from_url(url, read_only=True)``: the database at ``url`` opened so that
        nothing can be written to it (see ``read_only`` of `SQLFinder`).

        Raises:
            TrackerConfigError: ``url`` is not a string.
            DatabaseNotFoundError: a SQLite file that does not exist (none is created).
            NotATrackerDatabaseError: the database lacks the tracker's tables.
            SchemaOutdatedError: an older schema revision (run ``ato db upgrade``).
            SchemaTooNewError: a newer schema revision (upgrade ato-tracker).
            sqlalchemy.exc.DBAPIError: the database cannot be opened or read.
        """
        return cls.from_url(
            url, read_only=True, crash_timeout=crash_timeout, artifact_root=artifact_root
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
            return queries.load_run(
                conn, run_id, with_metrics=with_metrics, crash_timeout=self.crash_timeout
            )

    def get_run_stamp(self, run_id: int) -> str | None:
        """A short text that changes whenever anything readers see of run ``run_id`` changes
        (its status, as derived with this finder's ``crash_timeout``, end time, tags, config,
        provenance, metric summaries, artifacts or fingerprints), or ``None`` when there is no
        such run. One cheap query: poll it to learn whether re-reading the run is worth it
        (see ``ato.tracker.read.changes``).

        Raises:
            sqlalchemy.exc.DBAPIError: the database cannot be read.
        """
        if not queries.in_id_range(run_id):
            return None
        with self.engine.connect() as conn:
            return changes.run_stamp(conn, run_id, self.crash_timeout)

    def get_artifacts(self, run_id: int) -> list[Artifact]:
        """The artifacts of run ``run_id`` in logging order (``[]`` for none or no such run);
        each with its ``name``, ``size``, ``sha256`` and whether it is ``stored``."""
        if not queries.in_id_range(run_id):
            return []
        with self.engine.connect() as conn:
            return queries.load_artifacts(conn, run_id)

    def find_artifact(self, run_id: int, name: str) -> Artifact | None:
        """The artifact of run ``run_id`` called ``name`` (compared exactly; the one logged
        last when several share the name), or ``None``."""
        found = [a for a in self.get_artifacts(run_id) if a.name == name]
        return found[-1] if found else None

    def artifact_file(self, run_id: int, name: str) -> Path:
        """The stored file of run ``run_id``'s artifact ``name``, inside the artifact store
        (symbolic links resolved; never a path outside the store). Read it, do not change it.

        Raises:
            ArtifactNotFoundError: the run has no artifact ``name``; it is a reference (not
                stored: its ``path`` says where it was); no store is configured for this
                database (server: give ``artifact_root`` or set ``$ATO_ARTIFACT_ROOT``); or
                the file is missing from the store.
        """
        found = self.find_artifact(run_id, name)
        if found is None:
            raise ArtifactNotFoundError(
                f"run {run_id} has no artifact named {name!r}; `ato runs artifacts {run_id}` "
                "lists them"
            )
        if not found.stored or found.sha256 is None:
            raise ArtifactNotFoundError(
                f"artifact {name!r} of run {run_id} is a reference, not stored: it was "
                f"logged from {found.path!r} (copy=False or no artifact store)"
            )
        if self.artifact_root is None:
            raise ArtifactNotFoundError(
                f"no artifact store is configured for {self.database.shown_sqlalchemy_url}; set "
                f"${artifact_store.ARTIFACT_ROOT_ENV} (or artifact_root=) to its directory"
            )
        return artifact_store.stored_file(self.artifact_root, found.sha256)

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

    def get_metric_summary_pages(
        self, run_ids: Sequence[int], pattern: str | None = None, limit: int | None = None
    ) -> tuple[dict[int, dict[str, MetricSummary]], int]:
        """`get_metric_summary_page` for runs side by side (``ato runs compare``): per run id,
        its summaries of the first ``limit`` keys in key order among every key the runs logged
        that matches ``pattern``, and the number of distinct matching keys, as
        ``({run_id: {key: MetricSummary}}, total)``. Runs without a shown key are absent."""
        ids = [run_id for run_id in run_ids if queries.in_id_range(run_id)]
        if not ids:
            return {}, 0
        with self.engine.connect() as conn:
            return summaries.read_pages(conn, ids, pattern, limit)

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
        tag = search_runs.search_tag(search_id)
        where = queries.tagged(tag)
        if project_name is not None:
            where = where & (_projects.c.name == project_name)
        with self.engine.connect() as conn:
            runs = queries.load_runs(
                conn, where, with_metrics=False, crash_timeout=self.crash_timeout
            )
        return [run for run in runs if tag in run.tags]

    def get_search_status(self, search_id: str) -> search_jobs.SearchStatus | None:
        """The progress of a search shared through this database (run with ato-hyperopt's
        ``DatabaseExecutor``): job counts by state (``queued``, ``claimed``, ``done``,
        ``failed``), one `WorkerStatus` per worker that claimed a job (jobs done and failed,
        the job it holds, its latest heartbeat in the database's clock), whether the search
        ended and the run holding its answer. ``None`` for a search no worker shared through
        the database."""
        with self.engine.connect() as conn:
            return search_jobs.read_search_status(conn, search_id)

    def find_final(self, search_id: str, project_name: str | None = None) -> Run | None:
        """The answer of search ``search_id``: its run tagged ``final`` (the final
        re-evaluation of the best configuration, recorded by ato-hyperopt), with metrics;
        ``None`` if the search has no such run (unfinished, or recorded by an older version).
        With several (a resumed search), the latest."""
        answers = [
            run
            for run in self.get_search_runs(search_id, project_name)
            if search_runs.is_answer(run.tags)
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
            return replace(answer, reason=f"no run is tagged {search_runs.search_tag(search_id)}")
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
        with self.engine.connect() as conn:  # light rows: no ADicts, artifacts, provenance
            runs = overview.project_run_rows(conn, project_name, crash_timeout=self.crash_timeout)
        summaries = self.get_metric_summaries([run.id for run in runs])
        columns, rows = frames.run_rows(runs, summaries, params, metrics)
        return frames.runs_frame(columns, rows)

    # ---- The read API the ``ato`` command, the dashboard and users share -------------------

    def get_runs_page(
        self,
        project_name: str,
        *,
        status: str | None = None,
        tag: str | None = None,
        sort_by: str = "id",
        descending: bool = False,
        offset: int = 0,
        limit: int | None = None,
        with_summaries: bool = True,
    ) -> RunsPage | None:
        """A page of the runs of ``project_name`` with their config and metric summaries,
        made for tables of many runs (two queries; no metric rows, artifacts or fingerprints
        are read). ``None`` if there is no such project.

        Args:
            project_name: the project (exact name).
            status: only runs with this status (str, e.g. ``'completed'``; ``'crashed'`` for
                runs whose writer stopped sending heartbeats).
            tag: only runs carrying exactly this tag (str).
            sort_by: ``'id'`` (default: logging order), ``'status'``, ``'start_time'``,
                ``'end_time'``, ``'duration'`` (seconds from start to end),
                ``'params.<dotted config key>'`` or ``'metrics.<key>'`` (the value logged
                last). Runs without a value (and NaN) come last in either direction; ties keep
                id order.
            descending: largest first.
            offset: number of matching runs to skip (int >= 0).
            limit: at most this many runs (int >= 0; ``None``: all).
            with_summaries: also read the metric summaries of the page's runs.

        Returns:
            A [`RunsPage`][ato.tracker.RunsPage]: ``total`` matching runs, the page's
            [`RunRow`][ato.tracker.RunRow]s and, per metric key, the
            [`MetricColumns`][ato.tracker.MetricColumns] of their summaries.

        Raises:
            ValueError: ``sort_by`` names no field, or ``offset``/``limit`` is negative.
        """
        sort_key = _run_sort_key(sort_by)
        if offset < 0 or (limit is not None and limit < 0):
            raise ValueError(f"offset and limit must be >= 0, got offset={offset}, limit={limit}")
        by_metric = sort_by.startswith("metrics.")
        with self.engine.connect() as conn:
            if queries.find_project(conn, project_name) is None:
                return None
            rows = overview.project_run_rows(conn, project_name, crash_timeout=self.crash_timeout)
            if status is not None:
                rows = [row for row in rows if row.status == status]
            if tag is not None:
                rows = [row for row in rows if tag in row.tags]
            columns: dict[str, MetricColumns] = {}
            if with_summaries or by_metric:
                stored = conn.execute(summaries.project_summary_statement(project_name))
                columns = _metric_columns(stored, rows)
        total = len(rows)
        order: list[int] | None = None
        if by_metric:
            lasts = columns.get(sort_by.removeprefix("metrics."), MetricColumns([], [], [])).last
            order = _order(range(total), lambda i: lasts[i] if lasts else None, descending)
        elif sort_by != "id" or descending:
            order = _order(range(total), lambda i: sort_key(rows[i]), descending)
        if offset or limit is not None:
            order = list(range(total)) if order is None else order
            order = order[offset : None if limit is None else offset + limit]
        if order is not None:
            rows = [rows[i] for i in order]
            columns = _reordered(columns, order)
        return RunsPage(project_name, total, offset, rows, columns if with_summaries else {})

    def query_runs(
        self,
        project_name: str,
        filter: str | None = None,
        *,
        sort_by: str = "id",
        descending: bool = False,
        offset: int = 0,
        limit: int | None = 100,
        with_summaries: bool = True,
    ) -> RunsPage | None:
        """A page of the runs of ``project_name`` matching a filter, filtered, counted, sorted
        and paged by the database (reads the page's runs and their summaries only, so it stays
        fast at 100,000 runs). ``None`` if there is no such project.

        Args:
            project_name: the project (exact name).
            filter: a filter such as ``"params.lr < 0.01 and metrics.acc > 0.9 and
                tags.x = 'y'"`` (grammar in ``docs/dashboard.md`` and
                ``ato.tracker.read.runfilter``), parsed into SQL, never evaluated; ``None``
                or blank: every run.
            sort_by: ``'id'`` (default), ``'status'``, ``'start_time'``, ``'end_time'``,
                ``'duration'`` (seconds), ``'params.<dotted config key>'`` (numbers before
                texts) or ``'metrics.<key>'`` (the value logged last). Runs without a value
                (and NaN) come last in either direction; ties by id in the same direction.
            descending: largest first.
            offset: number of matching runs to skip (int >= 0).
            limit: at most this many runs (int >= 0; ``None``: all).
            with_summaries: also read the metric summaries of the page's runs.

        Returns:
            A [`RunsPage`][ato.tracker.RunsPage] (``total``: all matching runs).

        Raises:
            RunFilterError: the filter does not parse or compares a field in a way it does
                not support; the message and ``position`` point at the offending token.
            ValueError: ``sort_by`` names no field, or ``offset``/``limit`` is negative.
        """
        if offset < 0 or (limit is not None and limit < 0):
            raise ValueError(f"offset and limit must be >= 0, got offset={offset}, limit={limit}")
        runquery.check_sort(sort_by)
        tree = runfilter.parse_filter(filter or "")
        with self.engine.connect() as conn:
            project = queries.find_project(conn, project_name)
            if project is None:
                return None
            now = read_database_now(conn)
            ctx = runquery.Context.of(conn, now, self.crash_timeout)
            where = runquery.condition(tree, ctx)
            page = (project.id, where, ctx, sort_by, descending, offset, limit)
            if tree is None:  # counting the project's runs is an index scan: count, then page
                total = conn.execute(runquery.count_statement(project.id, where)).scalar_one()
                if sort_by == "id":
                    stored = conn.execute(runquery.page_statement(*page)).all()
                else:  # sort the ids alone (no run row read), then read the page's rows
                    ids = conn.execute(runquery.page_statement(*page, ids=True)).scalars().all()
                    stored = _rows_of(conn, ids)
            else:  # filter once: the page's ids with the number of matches, then their rows
                ids = conn.execute(runquery.page_statement(*page, counted=True)).all()
                total = ids[0][1] if ids else 0
                if not ids and offset:
                    total = conn.execute(runquery.count_statement(project.id, where)).scalar_one()
                stored = _rows_of(conn, [i for i, _ in ids])
            rows = runquery.page_rows(stored, project_name, self.crash_timeout, now)
            found = summaries.read(conn, [row.id for row in rows]) if with_summaries else {}
        return RunsPage(project_name, total, offset, rows, _summary_columns(rows, found))

    def get_metric_series(
        self,
        run_id: int,
        key: str,
        max_points: int | None = None,
        *,
        since_step: int | None = None,
    ) -> MetricSeries:
        """The values of metric ``key`` of run ``run_id`` in step order, downsampled in the
        database to at most ``max_points`` points keeping each bucket's extremes (min/max per
        bucket, after Jugel et al., "M4: A Visualization-Oriented Time Series Data
        Aggregation", VLDB 2014; see ``ato.tracker.read.series``), its first NaN, and the first and
        last value, so spikes and gaps stay visible.

        Args:
            run_id: the run's id (int).
            key: the metric key (exact match).
            max_points: ``None`` for every value, else an upper bound (int >= 4).
            since_step: ``None`` for the whole series; else (int) only the values logged at a
                step greater than ``since_step`` (values without a step are left out), as a
                live chart asks for the points after the last one it holds.

        Returns:
            A [`MetricSeries`][ato.tracker.MetricSeries]: the kept points (NaN and +-inf as
            logged; steps as logged; timestamps aware UTC) and ``total`` values logged (after
            ``since_step`` when given). An unknown run or key gives ``points == []`` and
            ``total == 0``.

        Raises:
            ValueError: ``max_points`` is below 4.
        """
        if max_points is not None and max_points < series.MIN_POINTS:
            raise ValueError(f"max_points must be at least {series.MIN_POINTS}, got {max_points}")
        if not queries.in_id_range(run_id):
            return MetricSeries(run_id, key, [], 0)
        with self.engine.connect() as conn:
            points, total = series.downsampled_series(conn, run_id, key, max_points, since_step)
        return MetricSeries(run_id, key, points, total)

    def get_metric_series_many(
        self, run_ids: Sequence[int], key: str, max_points: int | None = None
    ) -> dict[int, MetricSeries]:
        """Metric ``key`` of each of the runs ``run_ids``, each downsampled exactly as
        [`get_metric_series`][ato.tracker.SQLFinder.get_metric_series] does (the same points),
        on one connection, the series short enough to come back whole read together (see
        ``ato.tracker.read.manyseries``): for charts of many runs, such as a compare page.

        Args:
            run_ids: the runs (ints; unknown ids and runs without ``key`` are left out).
            key: the metric key (exact match).
            max_points: ``None`` for every value, else at most this many points per run
                (int >= 4).

        Returns:
            ``{run_id: MetricSeries}`` in the order of ``run_ids``.

        Raises:
            ValueError: ``max_points`` is below 4.
        """
        with self.engine.connect() as conn:
            return manyseries.downsampled_many(conn, run_ids, key, max_points)

    def get_metric_curves(
        self, run_ids: Sequence[int], key: str, max_points: int | None = None
    ) -> dict[int, MetricSeries]:
        """The values of metric ``key`` of each of the runs ``run_ids`` (learning curves of a
        search, say) in one query per 500 runs, in step order (values without a step last).

        Args:
            run_ids: the runs (ints; unknown ids are left out).
            key: the metric key (exact match).
            max_points: ``None`` for every value; else at most this many points per run (int
                >= 2): the first, the last and evenly spaced values between them.

        Returns:
            ``{run_id: MetricSeries}`` for the runs that logged ``key`` (``total`` counts every
            logged value).

        Raises:
            ValueError: ``max_points`` is below 2.
        """
        with self.engine.connect() as conn:
            return curves.metric_curves(conn, run_ids, key, max_points)

    def get_metric_key_page(
        self, run_id: int, *, pattern: str | None = None, offset: int = 0, limit: int | None = None
    ) -> MetricKeyPage:
        """A page of the metric keys of run ``run_id`` with their summaries, in key order
        (code point order on every backend); reads only the rows it returns plus one count, so
        it stays fast for runs with 100,000 keys.

        Args:
            run_id: the run's id (int).
            pattern: only keys matching it: a glob with ``*``/``?``, else a key prefix
                (``None``: every key).
            offset: number of matching keys to skip (int >= 0).
            limit: at most this many keys (int >= 0; ``None``: all).

        Returns:
            A [`MetricKeyPage`][ato.tracker.MetricKeyPage]; an unknown run gives an empty
            page with ``total == 0``.

        Raises:
            ValueError: ``offset`` or ``limit`` is negative.
        """
        if offset < 0 or (limit is not None and limit < 0):
            raise ValueError(f"offset and limit must be >= 0, got offset={offset}, limit={limit}")
        upto = None if limit is None else offset + limit
        found, total = self.get_metric_summary_page(run_id, pattern, upto)
        page = dict(list(found.items())[offset:])
        return MetricKeyPage(run_id, page, total, offset)

    def list_searches(self, project_name: str) -> list[SearchInfo]:
        """The hyperparameter searches whose runs (tagged ``search:<id>`` by ato-hyperopt)
        belong to ``project_name``, by their first run's start; ``[]`` for an unknown project
        or one without searches."""
        where = _projects.c.name == project_name
        with self.engine.connect() as conn:
            rows = overview.run_rows(
                conn, where, crash_timeout=self.crash_timeout, with_config=False
            )
        grouped: dict[str, list[RunRow]] = {}
        for row in rows:
            search_id = search_runs.search_id_of(row.tags)
            if search_id is not None:
                grouped.setdefault(search_id, []).append(row)
        infos = [
            SearchInfo(
                search_id=search_id,
                runs=len(members),
                statuses=dict(Counter(row.status for row in members)),
                first_start=min(row.start_time for row in members),
                last_activity=max(row.end_time or row.start_time for row in members),
            )
            for search_id, members in grouped.items()
        ]
        return sorted(infos, key=lambda info: (info.first_start, info.search_id))

    def get_search(
        self,
        search_id: str,
        project_name: str | None = None,
        *,
        metric: str | None = None,
        mode: str | None = None,
    ) -> SearchTrials | None:
        """Search ``search_id``: its runs (tagged ``search:<search_id>``; only those of
        ``project_name`` if given), their metric summaries and its answer. ``None`` when no
        run carries the tag.

        Args:
            search_id: the id in the runs' ``search:<id>`` tag.
            project_name: only runs of this project (``None``: any project).
            metric: the metric key to rank by (default: the search's own ``search/<key>``,
                or for older searches the key each trial logged at the step of its round).
            mode: ``'max'`` or ``'min'`` (default: the search's ``mode:`` tag, else guessed
                from the key).

        Returns:
            A [`SearchTrials`][ato.tracker.SearchTrials] whose ``answer`` follows the rule of
            [`find_search_answer`][ato.tracker.SQLFinder.find_search_answer].

        Raises:
            InvalidModeError: ``mode`` is not ``'max'``/``'min'``.
        """
        runs = self.get_search_runs(search_id, project_name)
        if not runs:
            return None
        found = self.get_metric_summaries([run.id for run in runs])
        answer = search_answer(runs, found, metric, mode)
        keys = sorted({key for per_run in found.values() for key in per_run})
        return SearchTrials(search_id, runs, found, keys, answer)

    def get_search_rows(
        self,
        search_id: str,
        project_name: str | None = None,
        *,
        metric: str | None = None,
        mode: str | None = None,
    ) -> SearchRows | None:
        """Search ``search_id`` read lightly: what its pages show and nothing more (runs as
        [`RunRow`][ato.tracker.RunRow]s: config, tags and status, without metric rows,
        artifacts, code fingerprints or provenance), with the same answer as
        [`get_search`][ato.tracker.SQLFinder.get_search] and the search's
        [`SearchState`][ato.tracker.SearchState]. ``None`` when no run carries the tag.

        Args:
            search_id: the search's id (its runs carry ``search:<id>``).
            project_name: only runs of this project; ``None``: any project.
            metric: the key the answer ranks by, as for `get_search`.
            mode: ``'max'`` or ``'min'``, as for `get_search`.

        Returns:
            A [`SearchRows`][ato.tracker.SearchRows].

        Raises:
            InvalidModeError: ``mode`` is not ``'max'``/``'min'``.
        """
        with self.engine.connect() as conn:
            return search_rows(conn, search_id, project_name, self.crash_timeout, metric, mode)

    def get_search_state(
        self, search_id: str, project_name: str | None = None
    ) -> SearchState | None:
        """A small fingerprint of search ``search_id``'s stored runs (one aggregate statement,
        no rows read into Python; see ``ato.tracker.read.searchrows``): equal to the
        ``state`` of an earlier [`get_search_rows`][ato.tracker.SQLFinder.get_search_rows]
        exactly when reading the search again would give the same rows, summaries and answer,
        so a cache of what was drawn from them stays valid. ``None`` when no run can belong to
        the search."""
        with self.engine.connect() as conn:
            return search_state(conn, search_id, project_name, self.crash_timeout)

    def _load_one(self, conn: Connection, run_id: int) -> Run | None:
        return queries.load_run(conn, run_id, crash_timeout=self.crash_timeout)

    def __repr__(self) -> str:
        return f"SQLFinder(db={self.database.shown_url!r})"


def _metric_columns(stored: Iterable[Any], rows: Sequence[RunRow]) -> dict[str, MetricColumns]:
    """The summary rows ``stored`` (see ``summaries.project_summary_statement``; streamed, so
    no row object outlives its turn) as columns aligned with ``rows``."""
    index = {row.id: i for i, row in enumerate(rows)}
    size = len(rows)
    columns: dict[str, MetricColumns] = {}
    non_finite = _NON_FINITE
    for run_id, key, last, low, high, last_class, low_inf, high_inf in stored:
        i = index.get(run_id)
        if i is None:  # filtered out
            continue
        column = columns.get(key)
        if column is None:
            column = columns[key] = MetricColumns([None] * size, [None] * size, [None] * size)
        column.last[i] = last if last is not None else non_finite.get(last_class)
        column.min[i] = low if not low_inf else _INF * low_inf
        column.max[i] = high if not high_inf else _INF * high_inf
    return columns


def _rows_of(conn: Connection, ids: Sequence[int]) -> list[Any]:
    """The `runquery.rows_statement` rows of the runs ``ids``, in that order."""
    by_id = {row[0]: row for row in conn.execute(runquery.rows_statement(ids))}
    return [by_id[i] for i in ids]


def _summary_columns(
    rows: Sequence[RunRow], found: dict[int, dict[str, MetricSummary]]
) -> dict[str, MetricColumns]:
    """Per metric key, the summaries ``found`` of ``rows`` as columns aligned with them."""
    keys = sorted({key for per_run in found.values() for key in per_run})
    columns = {
        key: MetricColumns([None] * len(rows), [None] * len(rows), [None] * len(rows))
        for key in keys
    }
    for i, row in enumerate(rows):
        for key, summary in found.get(row.id, {}).items():
            column = columns[key]
            column.last[i], column.min[i], column.max[i] = summary.last, summary.min, summary.max
    return columns


def _reordered(columns: dict[str, MetricColumns], order: list[int]) -> dict[str, MetricColumns]:
    """``columns`` with their entries in ``order`` (a page of them); keys no run of the page
    logged are dropped."""
    kept: dict[str, MetricColumns] = {}
    for key, column in columns.items():
        last = [column.last[i] for i in order]
        low = [column.min[i] for i in order]
        if last.count(None) < len(last) or low.count(None) < len(low):
            kept[key] = MetricColumns(last, low, [column.max[i] for i in order])
    return kept


def _run_sort_key(sort_by: str) -> Callable[[RunRow], Any]:
    """How `SQLFinder.get_runs_page` reads the value it sorts a run by.

    Raises:
        ValueError: ``sort_by`` is not a run field, ``params.<key>`` or ``metrics.<key>``.
    """
    if sort_by in ("id", "status", "start_time", "end_time"):
        return lambda row: getattr(row, sort_by)
    if sort_by == "duration":
        return lambda row: None if row.end_time is None else row.end_time - row.start_time
    if sort_by.startswith("params.") and len(sort_by) > len("params."):
        path = sort_by.removeprefix("params.").split(".")
        return lambda row: _dig(row.config, path)
    if sort_by.startswith("metrics.") and len(sort_by) > len("metrics."):
        return lambda row: None  # sorted by the summaries, see get_runs_page
    raise ValueError(
        f"cannot sort runs by {sort_by!r}: use one of {', '.join(RUN_SORT_FIELDS)}, "
        "'params.<dotted config key>' or 'metrics.<metric key>'"
    )


def _dig(config: Any, path: Sequence[str]) -> Any:
    for part in path:
        if not isinstance(config, dict) or part not in config:
            return None
        config = config[part]
    return config


def _order(indexes: Iterable[int], value: Callable[[int], Any], descending: bool) -> list[int]:
    """``indexes`` ordered by ``value`` (numbers before text, each in its own order; other
    values by their ``repr``), those without a value (``None``, NaN) last in either direction;
    stable, so ties keep id order."""
    present: list[tuple[tuple[int, Any], int]] = []
    missing: list[int] = []
    for i in indexes:
        v = value(i)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            missing.append(i)
        elif isinstance(v, (int, float, datetime, timedelta)):
            present.append(((0, v), i))
        else:
            present.append(((1, v if isinstance(v, str) else repr(v)), i))
    present.sort(key=lambda pair: pair[0], reverse=descending)
    return [i for _, i in present] + missing
