"""SQLLogger: record runs, metrics, artifacts and code fingerprints into a SQL database."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from time import monotonic, time
from types import TracebackType
from typing import Any, cast

from sqlalchemy import Connection, Engine, Insert, Table, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from ..errors import (
    BufferSettingsError,
    ConfigTooLargeError,
    InvalidStatusError,
    MetricsNotStoredError,
    RunNotFoundError,
    RunStateError,
    TrackerConfigError,
)
from ..read import queries
from ..read.results import Project, Run
from ..read.status import HEARTBEAT_INTERVAL_S
from ..storage import artifact_store, run_params, search_runs
from ..storage.clock import database_now
from ..storage.database import Database
from ..storage.engine import retry_disconnects, run_transaction
from ..storage.models import (
    STATUS_LENGTH,
    FingerprintRecord,
    ProjectRecord,
    RunRecord,
    utcnow,
)
from ..storage.normalize import normalize_config, structural_hash, to_json_value
from ..storage.settings import (
    TrackerSettings,
    read_settings,
    redact_db_password,
    settings_for,
)
from ..storage.statuses import RunStatus, stored
from . import (
    artifacts,
    exits,  # noqa: F401 - installs the exit and fork hooks of the buffers
    marks,
    signals,
)
from . import (
    run_dir as run_dirs,
)
from .buffer import UNREACHABLE, MetricBuffer, RejectedMetric, close_quietly
from .fingerprints import iter_fingerprints
from .heartbeat import Heartbeat
from .provenance import collect_provenance, scope_of, scope_provenance
from .system_metrics import SystemSampler, require_psutil, sampling_interval, start_sampler
from .validation import artifact_text, check_key, check_step, check_timestamp, check_value

RUNNING = RunStatus.RUNNING
COMPLETED = RunStatus.COMPLETED
FAILED = RunStatus.FAILED
KILLED = RunStatus.KILLED

_log = logging.getLogger("ato.tracker")
# Execution option caching a MySQL engine's max_allowed_packet on the engine itself.
_PACKET_LIMIT_OPTION = "ato_max_allowed_packet"

_runs = cast(Table, RunRecord.__table__)  # declarative typing says FromClause
_projects = cast(Table, ProjectRecord.__table__)


class SQLLogger:
    """Record runs of one project into the database named by the config.

    Args:
        config: an ADict, mapping, OmegaConf ``DictConfig`` or dataclass instance with
            ``experiment.project_name`` (str) and optionally ``experiment.sql.db_path`` (a
            SQLAlchemy URL such as ``sqlite:///experiments.db`` - the default -,
            ``postgresql+psycopg://user@host/db`` or ``mysql+pymysql://user@host/db``; a bare
            file path means SQLite). The whole config is stored with each run, unless
            ``run`` is given another one (``run(config=trial_config)``).
            ``experiment.sql`` may also set ``connect_timeout``, ``statement_timeout``,
            ``spool_after`` (seconds) and ``spool_dir`` (see ``docs/tracker.md``).
        batch_size: metrics per write transaction; reaching it triggers a flush.
        flush_interval: seconds after which buffered metrics are flushed even if the batch is
            not full.
        heartbeat_interval: seconds between the heartbeats an active run stores, by which
            readers tell a live run from a dead process's (see ``ato.tracker.read.status``).
        scope: the ato ``Scope`` that built ``config`` (any object with ``applied_views``
            and ``provenance``): each run's provenance then also holds the views applied, the
            command-line overrides and where every key's value came from. Not needed for a
            config a Scope built (it carries that record itself, ``__ato_scope__``): give it
            for a config assembled elsewhere.
        artifact_root: the directory of the database's artifact store (default
            ``$ATO_ARTIFACT_ROOT``, else ``<file>.artifacts`` next to a SQLite file; a
            server database needs one for `log_artifact` to copy files, else artifacts are
            recorded as references with a warning). See ``ato.tracker.write.artifacts``.
        run_root: where `run_dir` makes run directories (default ``$ATO_RUN_ROOT``, else
            ``./ato_runs``); see ``ato.tracker.write.run_dir``.
        system_metrics: sample CPU, memory, disk, network and GPU metrics under ``system/``
            while a run is active: ``True`` (every 10 s), an interval in seconds, ``False``,
            or ``None`` (the default: the ``ATO_SYSTEM_METRICS`` environment variable decides;
            see ``ato.tracker.write.system_metrics``).

    Raises:
        TrackerConfigError: the config has no ``experiment.project_name``, or
            ``system_metrics`` (or ``ATO_SYSTEM_METRICS``) is not a sampling setting.
        MissingDependencyError: system metrics are asked for and psutil is not installed
            (``pip install "ato-tracker[system]"``).
        BufferSettingsError: ``batch_size < 1``, ``flush_interval <= 0`` or
            ``heartbeat_interval <= 0``.

    Metrics are buffered and written by a background thread (see
    ``ato.tracker.write.buffer``), exactly once; they are durable after ``flush``,
    ``finish``, leaving ``with`` blocks, at interpreter exit, on SIGTERM, or at the latest
    ``flush_interval`` seconds after being logged while the database is reachable. When it is
    not, they are kept and, past ``spool_after`` seconds or at exit, saved to the local spool
    (written later by the next flush or ``ato sync``).
    """

    def __init__(
        self,
        config: Any,
        *,
        batch_size: int = 5000,
        flush_interval: float = 1.0,
        heartbeat_interval: float = HEARTBEAT_INTERVAL_S,
        scope: Any = None,
        artifact_root: str | os.PathLike[str] | None = None,
        run_root: str | os.PathLike[str] | None = None,
        system_metrics: bool | float | None = None,
        _settings: TrackerSettings | None = None,
    ) -> None:
        if not heartbeat_interval > 0:
            raise BufferSettingsError(batch_size, flush_interval, heartbeat_interval)
        self._system_interval = sampling_interval(system_metrics)
        if self._system_interval is not None:
            require_psutil()  # fail here, not at run()
        self._sampler: SystemSampler | None = None
        settings = _settings or read_settings(config, need_project=True)
        self._open(settings, config, batch_size, flush_interval, heartbeat_interval, scope)
        self._artifacts_at = artifact_store.store_root(self.database, artifact_root)
        self._run_root = run_root
        self._run_dir: Path | None = None

    @classmethod
    def from_url(
        cls,
        url: str,
        project: str,
        *,
        batch_size: int = 5000,
        flush_interval: float = 1.0,
        heartbeat_interval: float = HEARTBEAT_INTERVAL_S,
        scope: Any = None,
        connect_timeout: float | None = None,
        statement_timeout: float | None = None,
        spool_after: float | None = None,
        spool_dir: str | None = None,
        artifact_root: str | os.PathLike[str] | None = None,
        run_root: str | os.PathLike[str] | None = None,
        system_metrics: bool | float | None = None,
    ) -> SQLLogger:
        """A logger for ``project`` in the database at ``url``, without a config object.

        Args:
            url: a SQLAlchemy URL (``sqlite:///experiments.db``,
                ``postgresql+psycopg://user@host/db``; a bare file path means SQLite).
            project: the project name (created on the first run).
            batch_size: as for `SQLLogger`.
            flush_interval: as for `SQLLogger` (seconds).
            heartbeat_interval: as for `SQLLogger` (seconds).
            scope: as for `SQLLogger`.
            connect_timeout: seconds (> 0); None keeps the default (as the
                ``experiment.sql`` settings of `SQLLogger`).
            statement_timeout: seconds (> 0); None keeps the default.
            spool_after: seconds (> 0); None keeps the default.
            spool_dir: where metrics are spooled while the database is unreachable.
            artifact_root: as for `SQLLogger`.
            run_root: as for `SQLLogger`.
            system_metrics: as for `SQLLogger`.

        Runs store no config unless ``run(config=...)`` is given one.

        Raises:
            TrackerConfigError: ``url`` or ``project`` is not a (non-empty) string, a timeout
                is not a positive number.
            BufferSettingsError: as for `SQLLogger`.
        """
        if not heartbeat_interval > 0:
            raise BufferSettingsError(batch_size, flush_interval, heartbeat_interval)
        options = {
            "connect_timeout": connect_timeout,
            "statement_timeout": statement_timeout,
            "spool_after": spool_after,
            "spool_dir": spool_dir,
        }
        given = {k: v for k, v in options.items() if v is not None}
        if not isinstance(project, str) or not project:
            raise TrackerConfigError(f"SQLLogger.from_url needs a project name, got {project!r}")
        settings = settings_for(url, project, given)
        return cls(
            None,
            batch_size=batch_size,
            flush_interval=flush_interval,
            heartbeat_interval=heartbeat_interval,
            scope=scope,
            artifact_root=artifact_root,
            run_root=run_root,
            system_metrics=system_metrics,
            _settings=settings,
        )

    def _open(
        self,
        settings: TrackerSettings,
        config: Any,
        batch_size: int,
        flush_interval: float,
        heartbeat_interval: float,
        scope: Any,
    ) -> None:
        self.config = config
        self.project_name: str = settings.project_name or ""
        self.db_url = settings.db_url
        self.timeouts = settings.timeouts
        self.database = Database.from_url(settings.db_url, settings.timeouts)
        self.engine = self.database.engine()
        self._buffer = MetricBuffer(
            self.engine,
            batch_size,
            flush_interval,
            timeouts=settings.timeouts,
            spool_dir=settings.spool_dir,
            database=self.database,
        )
        self._finalizer = weakref.finalize(self, close_quietly, self._buffer)
        self._run_id: int | None = None
        self._active = False
        self._keys: set[str] = set()  # metric keys already checked
        self.scope = scope
        self.heartbeat_interval = heartbeat_interval
        self._heartbeat: Heartbeat | None = None
        self._provenance: dict[str, Any] = {}
        self._run_config: dict[str, Any] = {}
        self._session: Session | None = None

    # -- runs ---------------------------------------------------------------------------
    def get_or_create_project(self) -> Project:
        """The project named by ``experiment.project_name``, created if missing
        (safe when several processes create it at once; retried when the connection drops).

        Raises:
            RunStateError: the project row could neither be found nor inserted.
            sqlalchemy.exc.DBAPIError: the database cannot be reached or written.
        """
        return retry_disconnects(self._get_or_create_project)

    def _get_or_create_project(self) -> Project:
        project = self._find_project()
        if project is not None:
            return project
        with contextlib.suppress(IntegrityError):  # another process inserted the same name first
            run_transaction(self.engine, self._insert_project)
        project = self._find_project()
        if project is None:
            raise RunStateError(
                f"project {self.project_name!r} could not be created in "
                f"{self.database.shown_url!r}; check that the database is writable"
            )
        return project

    def _find_project(self) -> Project | None:
        with self.engine.connect() as conn:
            return queries.find_project(conn, self.project_name)

    def _insert_project(self, conn: Connection) -> None:
        conn.execute(insert(_projects).values(name=self.project_name, created_at=utcnow()))

    def run(
        self, tags: Any = None, config: Any = None, *, start_time: datetime | None = None
    ) -> int:
        """Start a new run with status ``'running'`` and return its id.

        Args:
            tags: a list of labels (each stored as ``str``), a single string, or ``None``.
            config: the config to store with this run, of any type the logger accepts (ADict,
                mapping, OmegaConf ``DictConfig``, dataclass instance), e.g. the config of one
                trial of a search, so that one logger records many trials with their own
                configs. ``None`` stores the logger's own config. The project and database
                always come from the logger's config.
            start_time: when the run started (a ``datetime``; naive means UTC), for runs
                recorded after the fact, e.g. by ``ato.tracker.importers``; default now.

        A connection dropped meanwhile is retried (see
        `ato.tracker.storage.engine.retry_disconnects`); a run stored by an attempt whose COMMIT
        reply was lost is found again by its start time, so the run is created exactly once.

        Raises:
            RunStateError: a run of this logger is still active; call `finish` first.
        """
        if self._active:
            raise RunStateError(
                f"run {self._run_id} is still active; call finish() before starting another run"
            )
        project = self.get_or_create_project()
        run_config = self.config if config is None else config
        stored = redact_db_password(normalize_config(run_config))
        _check_config_size(self.engine, stored)
        scope = self.scope if self.scope is not None else scope_of(run_config)
        self._provenance = collect_provenance(scope)
        now = utcnow()
        values = {
            "project_id": project.id,
            "config": stored,
            "structural_hash": structural_hash(stored),
            "tags": _tag_list(tags),
            "status": RUNNING.value,
            "start_time": now if start_time is None else _utc(start_time),
            "end_time": None,
            "provenance": self._provenance,
            "heartbeat": database_now(self.engine.dialect),  # compared with it by readers
        }
        stmt = insert(_runs).values(**values)
        match = (
            (_runs.c.project_id, project.id),
            (_runs.c.start_time, now),
            (_runs.c.structural_hash, values["structural_hash"]),
        )
        self._run_id = _insert_once(
            self.engine,
            _runs,
            stmt,
            match,
            lambda conn, run_id: run_params.store(conn, run_id, stored),
        )
        self._run_config = stored
        self._run_dir = None
        self._active = True
        self._buffer.start_timer()
        signals.track(self)
        self._heartbeat = Heartbeat(self.engine, self._run_id, self.heartbeat_interval)
        self._heartbeat.start()
        self._sampler = start_sampler(self._system_interval, self.log_metric, self._run_id)
        return self._run_id

    def log_scope(self, scope: Any) -> None:
        """Store the provenance of ``scope``'s latest build (views applied, command-line
        overrides, per-key writes; see ``ato.tracker.write.provenance.scope_provenance``) with
        the current run, and use ``scope`` for the runs this logger starts later. Does nothing
        to the current run when ``scope`` has not built a config.

        Raises:
            RunStateError: no run was started.
        """
        self._require_run("log_scope")
        self.scope = scope
        section = scope_provenance(scope)
        if section is not None:
            self.add_provenance("scope", section)

    def add_provenance(self, name: str, data: Any) -> None:
        """Store ``data`` (JSON-like) under ``name`` in the current run's provenance (for
        launchers that know more about a run, e.g. the Hydra callback's ``hydra`` section);
        an existing section of that name is replaced.

        Raises:
            RunStateError: no run was started.
        """
        run_id = self._require_run("add_provenance")
        self._provenance = {**self._provenance, str(name): to_json_value(data)}
        stmt = update(_runs).where(_runs.c.id == run_id).values(provenance=self._provenance)
        retry_disconnects(lambda: run_transaction(self.engine, lambda conn: conn.execute(stmt)))

    def update_config(self, values: Any) -> dict[str, Any]:
        """Add ``values`` to the current run's config, for parameters known only after the run
        started (Lightning logs its hyperparameters after asking for the run's id): each
        top-level key of ``values`` is set, replacing the value the config had for it, as W&B's
        ``run.config.update`` does; the other keys stay. The structural hash (by which runs of
        the same configuration are found) is computed again. Also after the run finished.

        Args:
            values: a mapping, ADict, OmegaConf config or dataclass instance (normalized as
                `run`'s ``config``; a database password in it is hidden the same way).

        Returns:
            The run's whole config as now stored.

        Raises:
            RunStateError: no run was started.
            TrackerConfigError: ``values`` is not a mapping (e.g. a list).
            ConfigTooLargeError: on MySQL/MariaDB, the config grew past what the server
                accepts in one statement.
        """
        run_id = self._require_run("update_config")
        added = to_json_value(values)
        if not isinstance(added, dict):
            raise TrackerConfigError(
                f"update_config takes a mapping, ADict, OmegaConf config or dataclass, got "
                f"{type(values).__name__}; give the values under names, e.g. {{'lr': 0.1}}"
            )
        config = {**self._run_config, **redact_db_password(added)}
        _check_config_size(self.engine, config)
        stmt = (
            update(_runs)
            .where(_runs.c.id == run_id)
            .values(config=config, structural_hash=structural_hash(config))
        )

        def write(conn: Connection) -> None:
            conn.execute(stmt)
            run_params.store(conn, run_id, config, replace=True)

        retry_disconnects(lambda: run_transaction(self.engine, write))
        self._run_config = config
        return config

    def add_tags(self, tags: Any, run_id: int | None = None) -> list[str]:
        """Add ``tags`` to an existing run (default: the run started last by this logger), also
        after it finished; tags it already has are not added again, so calling twice is
        harmless. ato-hyperopt tags the run holding a search's answer ``final`` this way.

        Args:
            tags: a list of labels (each stored as ``str``) or a single string, as for `run`.
            run_id: the run to tag (any run of the database), ``None`` for the current run.
                The order ``add_tags(run_id, tags)`` is accepted too.

        Returns:
            The run's tags afterwards, in order (old ones first, then the new ones).

        Raises:
            RunStateError: ``run_id`` is ``None`` and this logger started no run.
            RunNotFoundError: no run has id ``run_id``.
            TrackerConfigError: ``tags`` is not a string or a list of labels.
        """
        if isinstance(tags, int) and not isinstance(tags, bool) and not isinstance(run_id, int):
            tags, run_id = run_id, tags  # add_tags(run_id, tags)
        if tags is None or isinstance(tags, (int, float, Mapping)):
            raise TrackerConfigError(
                f"add_tags takes a tag string or a list of tags, got {tags!r}; "
                "e.g. logger.add_tags(['final'], run_id=12)"
            )
        target = self._require_run("add_tags") if run_id is None else int(run_id)
        new = _tag_list(tags)
        return run_transaction(self.engine, lambda conn: _merge_tags(conn, target, new))

    def start_search_run(self, facts: search_runs.SearchFacts, config: Any = None) -> int:
        """Start the run of one evaluation of a hyperparameter search (ato-hyperopt's
        ``SearchRunLogger`` protocol): the run is tagged as `ato.tracker.search_runs` stores
        ``facts`` (``search:<id>``, ``round:<rung>``, ``trial:<n>``, ...); otherwise as `run`.

        Args:
            facts: the evaluation's facts, e.g. an ``ato.hyperopt.SearchRunFacts``.
            config: the trial's config, or ``None`` for the logger's own (as for `run`).

        Returns:
            The new run's id.

        Raises:
            RunStateError: a run of this logger is still active.
        """
        return self.run(tags=search_runs.build_tags(facts), config=config)

    def mark_search_answer(self, run_id: int) -> list[str]:
        """Mark run ``run_id`` as holding its search's answer (the ``final`` tag of
        `ato.tracker.search_runs`), also after it finished; returns the run's tags.

        Raises:
            RunNotFoundError: no run has id ``run_id``.
        """
        return self.add_tags([search_runs.ANSWER_TAG], run_id=run_id)

    def mark_search_runs(self, facts: search_runs.SearchFacts, status: str) -> list[int]:
        """Store ``status`` for the runs of one search evaluation (``facts``: its search,
        trial and rung, as `start_search_run` tags them) that are still ``running``: what a
        search's driver does for an evaluation whose process it killed (a Ray task cancelled
        by force), which could not close its run. Returns their ids.

        Raises:
            InvalidStatusError: ``status`` is not ``'killed'``, ``'failed'`` or
                ``'completed'``.
        """
        keep = (search_runs.search_tag(""), "trial:", "rung:")  # the prefixes of these tags
        tags = [t for t in search_runs.build_tags(facts) if t.startswith(keep)]
        return run_transaction(
            self.engine, lambda conn: marks.mark_running_tagged(conn, tags, status)
        )

    @contextmanager
    def start_run(self, tags: Any = None, config: Any = None) -> Iterator[ActiveRun]:
        """Context manager around `run` (same arguments): yields an [`ActiveRun`][ato.tracker.ActiveRun];
        on exit the run is finished as ``'completed'``, or ``'failed'`` if an exception escapes
        (it propagates).

        Raises:
            RunStateError: a run of this logger is still active.
        """
        run_id = self.run(tags, config)
        try:
            yield ActiveRun(self, run_id)
        except BaseException:
            self.finish(FAILED)
            raise
        self.finish(COMPLETED)

    def update_status(self, status: str) -> None:
        """Set the status of the current run (e.g. ``'paused'``); flushes metrics first.

        Raises:
            RunStateError: no run was started with this logger.
            InvalidStatusError: ``status`` is empty or longer than 32 characters.
        """
        check_status(status)
        run_id = self._require_run("update_status")
        self.flush()
        stmt = update(_runs).where(_runs.c.id == run_id).values(status=stored(status))
        retry_disconnects(lambda: run_transaction(self.engine, lambda conn: conn.execute(stmt)))

    def finish(self, status: str = COMPLETED, *, end_time: datetime | None = None) -> None:
        """Flush, then mark the current run ``status`` with ``end_time`` (a ``datetime``,
        naive means UTC; default now), e.g. the recorded end of an imported run.

        Harmless when the run is already finished (by this logger or another process): the
        first status and end time are kept. Does nothing if no run was started. If the
        database cannot be reached (within the timeouts), the buffered metrics and the run's
        end are saved to the spool file and a warning names it; they are written by the next
        successful flush of this logger or by ``ato sync``.

        Raises:
            InvalidStatusError: ``status`` is empty or longer than 32 characters.
            MetricsNotStoredError: the spool file could not be written either (disk full,
                no permission): the metrics and the run's end stay in memory and the flush
                thread writes them when the database is reachable again (or the spool file
                writable); they are lost if the process ends first, and then its exit status
                is 1 (see ``ato.tracker.write.exits``).
        """
        check_status(status)
        self._finish(stored(status), end_time=None if end_time is None else _utc(end_time))

    def _finish(
        self,
        status: str,
        lock_timeout: float = -1,
        end_time: datetime | None = None,
        *,
        raising: bool = True,
    ) -> None:
        if self._run_id is None:
            return
        run_id = self._run_id
        if self._sampler is not None:  # its last sample goes in before the final flush
            self._sampler.stop()
            self._sampler = None
        signals.untrack(self)
        self._active = False
        self._buffer.stop_timer()
        if self._heartbeat is not None:
            self._heartbeat.stop()
        ended = time() if end_time is None else end_time.timestamp()
        try:
            self._buffer.flush(lock_timeout=lock_timeout)
            stmt = (
                update(_runs)
                .where(_runs.c.id == run_id, _runs.c.end_time.is_(None))
                .values(status=status, end_time=end_time or utcnow())
            )
            run_transaction(self.engine, lambda conn: conn.execute(stmt))
        except (*UNREACHABLE, TimeoutError) as error:
            _log.warning("ato.tracker: could not finish run %d: %s", run_id, error)
            try:
                self._buffer.spill((run_id, status, ended))
            except MetricsNotStoredError as lost:
                self._buffer.strand()
                if raising:
                    raise
                _log.error("ato.tracker: %s", lost)

    def stop_on_signal(self) -> None:
        """SIGTERM: flush and mark the active run ``'killed'`` (see ``ato.tracker.write.signals``);
        waits for a flush in progress at most the statement timeout. Rows no store can keep
        are logged, not raised into the interrupted code."""
        if self._active:
            bound = self.timeouts.statement + self.timeouts.connect
            self._finish(KILLED, lock_timeout=bound, raising=False)

    @property
    def rejected_metrics(self) -> list[RejectedMetric]:
        """Rows the database refused for their data (dropped, not retried), oldest first."""
        return list(self._buffer.rejected)

    def get_current_run_id(self) -> int | None:
        """Id of the run started last by this logger (also after it finished), or ``None``."""
        return self._run_id

    def get_current_run(self) -> Run | None:
        """The run started last by this logger, freshly loaded (after a flush), or ``None``."""
        if self._run_id is None:
            return None
        self.flush()
        with self.engine.connect() as conn:
            return queries.load_run(conn, self._run_id)

    # -- metrics ------------------------------------------------------------------------
    def log_metric(
        self, key: str, value: Any, step: int | None = None, *, timestamp: float | None = None
    ) -> None:
        """Buffer one metric value of the active run.

        Never waits on the database: the row is buffered and a background thread writes
        it, on every backend.
        Everything is checked here against what every backend stores (see
        ``ato.tracker.write.validation``), so a logged row is never refused later.

        Args:
            key: metric name, e.g. ``'val/accuracy'`` (at most 255 characters, no NUL, valid
                Unicode; other types are stored as ``str(key)``).
            value: anything ``float()`` accepts (numpy/torch scalars too) within the range of
                a 64-bit float. NaN, +inf and -inf are stored and read back exactly.
            step: training step/epoch (an integer from ``-2**63`` to ``2**63 - 1``) or ``None``.
            timestamp: when the value was recorded, in seconds since the Unix epoch (UTC, as
                ``time.time()``; stored to the microsecond, rounded), for values recorded
                after the fact, e.g. by ``ato.tracker.importers``; default now.

        Raises:
            RunStateError: no active run (call ``run`` first).
            MetricValueError: ``value`` is not a number or out of range, or ``step`` is out
                of range (a ``TypeError``).
            MetricKeyError: ``key`` is too long, contains NUL or is not valid Unicode (a
                ``ValueError``).
            TypeError: ``step`` is not an integer (``operator.index`` fails) or
                ``timestamp`` is not a number.
        """
        if not self._active:
            raise RunStateError("log_metric() needs an active run; call run() first")
        if key not in self._keys:
            key = check_key(key)
            self._keys.add(key)
        number = check_value(key, value) if value.__class__ is not float else value
        if step is not None and (step.__class__ is not int or not -(2**63) <= step < 2**63):
            step = check_step(key, step)
        now = time()
        if timestamp is not None:
            timestamp = check_timestamp(key, timestamp)
        buffer = self._buffer
        pending = buffer.pending  # inline MetricBuffer.append: this is the hot path
        stamp = now if timestamp is None else timestamp
        pending.append((self._run_id, key, number, step, stamp, buffer.next_seq()))  # type: ignore[arg-type]
        if len(pending) >= buffer.wake_at or monotonic() >= buffer.flush_due:
            buffer.flush_due_rows()

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """`log_metric` for each ``key: value`` of ``metrics`` (a mapping of metric name
        to number) at the same ``step``; raises what `log_metric` raises."""
        for key, value in metrics.items():
            self.log_metric(key, value, step)

    def flush(self) -> int:
        """Write all buffered metrics now (one transaction per batch of ``batch_size`` rows);
        return how many rows were written.

        Bounded in time by the timeouts (``experiment.sql.connect_timeout`` and
        ``statement_timeout``). Rows the database refuses for their data are dropped and
        listed in ``rejected_metrics``.

        Raises:
            sqlalchemy.exc.DBAPIError: a batch could not be written after the retries of
                ``ato.tracker.storage.engine.run_transaction``; its rows stay buffered (and go to
                the spool file once the database has been unreachable for ``spool_after``).
            DatabaseTimeoutError: the server did not answer within the statement timeout.
        """
        return self._buffer.flush()

    # -- artifacts and fingerprints ----------------------------------------------------
    def log_artifact(
        self,
        path: Any,
        *legacy: Any,
        data_type: str = "file",
        metadata: Any = None,
        name: str | None = None,
        copy: bool | None = None,
        run_id: int | None = None,
        max_files: int = artifacts.MAX_FILES,
    ) -> int:
        """Record a file or directory a run produced (e.g. a checkpoint) and return the id of
        its (first) row.

        ``log_artifact(path, data_type="file", metadata=None, *, name=None, copy=True,
        run_id=None)``: the file is hashed (SHA-256) and copied into the database's artifact
        store (``ato.tracker.storage.artifact_store``), so it survives the original; a
        directory is stored as its regular files, one row each, named
        ``<name>/<relative path>``. ``copy=False`` records a reference to ``path`` only (for
        big checkpoints), still with size and hash when the file is readable.

        ato 2.x's form ``log_artifact(run_id, path, data_type, metadata=None)`` (``run_id``
        an int or ``None`` for the current run) still works and records a reference, as it
        always did (``copy=True`` stores the file).

        Stored exactly once, also when the connection drops meanwhile (retried; an attempt
        whose COMMIT reply was lost is found again by its time stamp). Every file is read
        before a row is written: an error leaves the database as it was.

        Args:
            path: file or directory (``str``, ``bytes`` or ``os.PathLike``, decoded with
                ``os.fsdecode``); for references also a URI.
            data_type: free-form kind, e.g. ``'model'``, ``'image'``.
            metadata: optional JSON-like data (normalized like configs).
            name: the name to list and fetch it by (``ato runs get RUN NAME``): a relative
                POSIX path such as ``'ckpt/best.pt'``; default the file or directory name.
            copy: store a copy (default for the new form) or a reference (``False``). Without
                an artifact store (a server database and no ``artifact_root``), a reference
                is recorded and a warning says how to configure one.
            run_id: the run it belongs to; ``None`` means the current run.
            max_files: most files a directory may hold (default 10,000).

        Raises:
            RunStateError: ``run_id`` is ``None`` and no run was started.
            ArtifactPathError: ``path`` does not exist (when copying, or with the new form),
                cannot be read when copying, is a directory of more than ``max_files``
                files; ``name`` is empty, absolute or has ``..``; or ``path`` or
                ``data_type`` is not valid Unicode or contains NUL.
            TypeError: more positional arguments than either form takes.
        """
        seed = bool(legacy) and (path is None or (isinstance(path, int) and path is not True))
        if seed:
            if len(legacy) > 3:
                raise TypeError("log_artifact(run_id, path, data_type, metadata) takes 4 values")
            run_id, path = path, legacy[0]
            legacy = legacy[1:]
        elif len(legacy) > 2:
            raise TypeError("log_artifact(path, data_type, metadata) takes at most 3 values")
        if legacy:  # positional data_type (and metadata); keywords keep the rest
            data_type = legacy[0]
            metadata = legacy[1] if len(legacy) > 1 else metadata
        target = self._require_run("log_artifact") if run_id is None else int(run_id)
        kind = artifact_text(data_type, "data_type")
        wanted = not seed if copy is None else copy
        files = artifacts.prepare(
            path,
            name=name,
            copy=wanted and self._artifact_store_for_copy(),
            root=self._artifacts_at,
            max_files=max_files,
            must_exist=wanted,
            named_by_path=seed,
        )
        return artifacts.insert_rows(self.engine, target, files, kind, metadata)

    def _artifact_store_for_copy(self) -> bool:
        if self._artifacts_at is not None:
            return True
        _log.warning(
            "ato.tracker: no artifact store for %s (a server database needs one); the "
            "artifact is recorded as a reference only. Pass SQLLogger(artifact_root=DIR) or "
            "set $%s to a directory every reader can reach",
            self.database.shown_url,
            artifact_store.ARTIFACT_ROOT_ENV,
        )
        return False

    @property
    def artifact_root(self) -> Path | None:
        """The artifact store directory, ``None`` when none is configured (server database)."""
        return self._artifacts_at

    @property
    def run_dir(self) -> Path:
        """The current run's own directory, ``<run_root>/<project>/<run id>`` (see
        ``ato.tracker.write.run_dir``) for checkpoints and outputs: created on first use and
        recorded in the run's provenance under ``run_dir``.

        Raises:
            RunStateError: no run was started.
            OSError: the directory cannot be created.
        """
        run_id = self._require_run("run_dir")
        if self._run_dir is None:
            path = run_dirs.make_run_dir(self._run_root, self.project_name, run_id)
            self.add_provenance("run_dir", str(path))
            self._run_dir = path
        return self._run_dir

    def log_fingerprint(self, trace_id: str, fingerprint: str, trace_type: str = "static") -> None:
        """Record one code fingerprint for the current run (written at once, not buffered).

        Args:
            trace_id: name of the traced code, e.g. ``'model_forward'`` (at most 255 characters).
            fingerprint: the hash string (at most 128 characters).
            trace_type: ``'static'`` (hash of the source) or ``'runtime'`` (hash of the output).

        Raises:
            RunStateError: no run was started.
        """
        self._insert_fingerprints([(str(trace_id), str(trace_type), str(fingerprint))])

    def log_fingerprints(self, source: Any) -> int:
        """Record every fingerprint of ``source`` (a Scope or a mapping; shapes accepted: see
        `ato.tracker.write.fingerprints.iter_fingerprints`) for the current run; return the count.

        Raises:
            RunStateError: no run was started.
            FingerprintFormatError: ``source`` has an unsupported shape.
        """
        return self._insert_fingerprints(list(iter_fingerprints(source)))

    def _insert_fingerprints(self, triples: list[tuple[str, str, str]]) -> int:
        run_id = self._require_run("log_fingerprint")
        if not triples:
            return 0
        now = utcnow()
        rows = [
            {"run_id": run_id, "trace_id": t, "trace_type": k, "fingerprint": f, "timestamp": now}
            for t, k, f in triples
        ]
        run_transaction(self.engine, lambda conn: conn.execute(insert(FingerprintRecord), rows))
        return len(rows)

    def _require_run(self, operation: str) -> int:
        if self._run_id is None:
            raise RunStateError(f"{operation}() needs a run; call run() first")
        return self._run_id

    # -- ato 2.x ORM session -----------------------------------------------------------
    @property
    def session(self) -> Session:
        """ato 2.x's ORM session of the logger, for code that queries its database with the
        classes of ``ato.db_routers.sql.schema``:
        ``logger.session.query(Experiment).filter(Experiment.status == "completed")``.

        Made on first use; each query first writes the buffered metrics and sees the
        latest rows (see ``ato.db_routers.sql.session``). `close` closes it. New code
        reads through ``SQLFinder`` instead.
        """
        if self._session is None:
            from ato.db_routers.sql.session import logger_session

            self._session = logger_session(self)
        return self._session

    # -- lifetime -----------------------------------------------------------------------
    def close(self) -> None:
        """Flush and stop the background flusher, and close the `session` if one was made.
        The logger can still start new runs.

        Raises:
            sqlalchemy.exc.DBAPIError, DatabaseTimeoutError: as for ``flush``.
        """
        self._buffer.stop_timer()
        self.flush()
        if self._session is not None:
            self._session.close()

    def __enter__(self) -> SQLLogger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Flush; an active run is finished ``'completed'``, or ``'failed'`` on an exception.
        If the database cannot be reached, the metrics go to the spool file (a warning names
        it) instead of raising here; if that cannot be written either, `MetricsNotStoredError`
        is raised (see `finish`)."""
        if self._active:
            self.finish(FAILED if exc_type is not None else COMPLETED)
        self._buffer.close()

    def __repr__(self) -> str:
        return (
            f"SQLLogger(project={self.project_name!r}, db={self.database.shown_url!r}, "
            f"run={self._run_id})"
        )


class ActiveRun:
    """Handle yielded by [`SQLLogger.start_run`][ato.tracker.SQLLogger.start_run]: the run ``id`` and logging shortcuts."""

    def __init__(self, logger: SQLLogger, run_id: int) -> None:
        self.logger = logger
        self.id = run_id

    def log_metric(self, key: str, value: Any, step: int | None = None) -> None:
        """See [`SQLLogger.log_metric`][ato.tracker.SQLLogger.log_metric]."""
        self.logger.log_metric(key, value, step)

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """See [`SQLLogger.log_metrics`][ato.tracker.SQLLogger.log_metrics]."""
        self.logger.log_metrics(metrics, step)

    def log_artifact(
        self, path: Any, data_type: str = "file", metadata: Any = None, **options: Any
    ) -> int:
        """See [`SQLLogger.log_artifact`][ato.tracker.SQLLogger.log_artifact] (for this run).
        As in ato 2.x, a reference unless ``copy=True``; ``name=``, ``max_files=`` too."""
        options.setdefault("copy", False)
        return self.logger.log_artifact(
            path, data_type=data_type, metadata=metadata, run_id=self.id, **options
        )

    @property
    def run_dir(self) -> Path:
        """See [`SQLLogger.run_dir`][ato.tracker.SQLLogger.run_dir]."""
        return self.logger.run_dir

    def log_fingerprint(self, trace_id: str, fingerprint: str, trace_type: str = "static") -> None:
        """See [`SQLLogger.log_fingerprint`][ato.tracker.SQLLogger.log_fingerprint]."""
        self.logger.log_fingerprint(trace_id, fingerprint, trace_type)

    def __repr__(self) -> str:
        return f"ActiveRun(id={self.id})"


def check_status(status: str) -> None:
    """Raise [`InvalidStatusError`][ato.tracker.InvalidStatusError] unless ``status`` is a non-empty string of at most
    ``STATUS_LENGTH`` (32) characters."""
    if not isinstance(status, str) or not 0 < len(status) <= STATUS_LENGTH:
        raise InvalidStatusError(status)


def _utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC ``datetime`` (a naive one is taken to be UTC already).

    Raises:
        TypeError: ``moment`` is not a ``datetime``.
    """
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a datetime, got {type(moment).__name__}: {moment!r}")
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _tag_list(tags: Any) -> list[str]:
    if tags is None:
        return []
    if isinstance(tags, str):
        return [tags]
    return [str(to_json_value(tag)) for tag in tags]


def _merge_tags(conn: Connection, run_id: int, new: list[str]) -> list[str]:
    """Append the tags of ``new`` that run ``run_id`` lacks (row locked on servers)."""
    stmt = select(_runs.c.tags).where(_runs.c.id == run_id).with_for_update()
    row = conn.execute(stmt).first()
    if row is None:
        raise RunNotFoundError(f"add_tags: no run with id {run_id}")
    tags = list(row.tags or [])
    added = [tag for tag in dict.fromkeys(new) if tag not in tags]
    if added:
        tags += added
        conn.execute(update(_runs).where(_runs.c.id == run_id).values(tags=tags))
    return tags


def _insert_once(
    engine: Engine,
    table: Table,
    stmt: Insert,
    match: tuple[tuple[Any, Any], ...],
    then: Callable[[Connection, int], None],
) -> int:
    """Run the single-row INSERT ``stmt`` into ``table``, then ``then(conn, new id)`` in the
    same transaction, retried when the connection drops; before a retry, a row whose
    ``(column, value)`` pairs ``match`` (values unique to this insert, such as its
    microsecond time stamp) is taken as stored by the lost attempt. Returns the row's id."""
    attempts = 0

    def attempt(conn: Connection) -> int:
        if attempts > 1:
            found = conn.execute(
                select(table.c.id).where(*(column == value for column, value in match))
            ).scalar()
            if found is not None:
                return int(found)
        new = _new_id(conn, stmt)
        then(conn, new)
        return new

    def once() -> int:
        nonlocal attempts
        attempts += 1
        return run_transaction(engine, attempt)

    return retry_disconnects(once)


def _new_id(conn: Connection, stmt: Insert) -> int:
    """Execute the single-row INSERT ``stmt`` on ``conn``; the primary key it created."""
    key = conn.execute(stmt).inserted_primary_key
    if key is None:  # SQLAlchemy gives None only for executemany, which this never is
        raise RuntimeError(f"no primary key reported for {stmt}")
    return int(key[0])


def _check_config_size(engine: Engine, config: dict[str, Any]) -> None:
    """On MySQL/MariaDB, raise ``ConfigTooLargeError`` for a config the server would
    refuse as one packet (it answers by dropping the connection, "Lost connection")."""
    if engine.dialect.name not in ("mysql", "mariadb"):
        return
    size = len(json.dumps(config).encode("utf-8"))
    if size < 1_000_000:  # below the smallest max_allowed_packet default (MySQL 5.x: 1 MiB)
        return
    limit = _packet_limit(engine)
    if size + 64 * 1024 > limit:  # room for the rest of the INSERT
        raise ConfigTooLargeError(
            f"the run's config is {size:,} bytes as JSON, more than this MySQL/MariaDB server "
            f"accepts in one statement (max_allowed_packet = {limit:,} bytes); store large data "
            "as an artifact (log_artifact) instead of in the config, or raise max_allowed_packet"
            " on the server"
        )


def _packet_limit(engine: Engine) -> int:
    cached = engine.get_execution_options().get(_PACKET_LIMIT_OPTION)
    if cached is not None:
        return int(cached)
    try:
        with engine.connect() as conn:
            limit = int(conn.execute(text("SELECT @@max_allowed_packet")).scalar_one())
    except DBAPIError:
        return 1 << 62  # let the insert report what the server says
    engine.update_execution_options(**{_PACKET_LIMIT_OPTION: limit})
    return limit
