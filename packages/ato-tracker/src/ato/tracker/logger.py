"""SQLLogger: record runs, metrics, artifacts and code fingerprints into a SQL database."""

from __future__ import annotations

import operator
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from time import time
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, insert, update
from sqlalchemy.exc import IntegrityError

from . import queries
from .buffer import MetricBuffer
from .engine import get_engine, run_transaction
from .errors import (
    BufferSettingsError,
    InvalidStatusError,
    MetricKeyError,
    MetricValueError,
    RunStateError,
)
from .fingerprints import iter_fingerprints
from .heartbeat import Heartbeat
from .models import (
    KEY_LENGTH,
    STATUS_LENGTH,
    ArtifactRecord,
    FingerprintRecord,
    ProjectRecord,
    RunRecord,
    utcnow,
)
from .normalize import normalize_config, structural_hash, to_json_value
from .provenance import collect_provenance, scope_provenance
from .results import Project, Run
from .settings import read_settings, redact_db_password
from .status import HEARTBEAT_INTERVAL_S

RUNNING = "running"
COMPLETED = "completed"
FAILED = "failed"

_runs = RunRecord.__table__
_projects = ProjectRecord.__table__


class SQLLogger:
    """Record runs of one project into the database named by the config.

    Args:
        config: an ADict, mapping, OmegaConf ``DictConfig`` or dataclass instance with
            ``experiment.project_name`` (str) and optionally ``experiment.sql.db_path`` (a
            SQLAlchemy URL such as ``sqlite:///experiments.db`` - the default -,
            ``postgresql+psycopg://user@host/db`` or ``mysql+pymysql://user@host/db``; a bare
            file path means SQLite). The whole config is stored with each run, unless
            :meth:`run` is given another one (``run(config=trial_config)``).
        batch_size: metrics per write transaction; reaching it triggers a flush.
        flush_interval: seconds after which buffered metrics are flushed even if the batch is
            not full.
        heartbeat_interval: seconds between the heartbeats an active run stores, by which
            readers tell a live run from a dead process's (see ``ato.tracker.status``).
        scope: the ato ``Scope`` that built ``config`` (any object with ``applied_views``
            and ``provenance``): each run's provenance then also holds the views applied, the
            command-line overrides and where every key's value came from.

    Raises:
        TrackerConfigError: the config has no ``experiment.project_name``.
        BufferSettingsError: ``batch_size < 1``, ``flush_interval <= 0`` or
            ``heartbeat_interval <= 0``.

    Metrics are buffered (see :mod:`ato.tracker.buffer`); they are durable after
    :meth:`flush`, :meth:`finish`, leaving ``with`` blocks, at interpreter exit, or at the
    latest ``flush_interval`` seconds after being logged.
    """

    def __init__(
        self,
        config: Any,
        *,
        batch_size: int = 5000,
        flush_interval: float = 1.0,
        heartbeat_interval: float = HEARTBEAT_INTERVAL_S,
        scope: Any = None,
    ) -> None:
        if not heartbeat_interval > 0:
            raise BufferSettingsError(batch_size, flush_interval, heartbeat_interval)
        settings = read_settings(config, need_project=True)
        self.config = config
        self.project_name: str = settings.project_name or ""
        self.db_url = settings.db_url
        self.engine = get_engine(settings.db_url)
        self._buffer = MetricBuffer(self.engine, batch_size, flush_interval)
        self._finalizer = weakref.finalize(self, self._buffer.close)
        self._run_id: int | None = None
        self._active = False
        self.scope = scope
        self.heartbeat_interval = heartbeat_interval
        self._heartbeat: Heartbeat | None = None
        self._provenance: dict[str, Any] = {}

    # -- runs ---------------------------------------------------------------------------
    def get_or_create_project(self) -> Project:
        """The project named by ``experiment.project_name``, created if missing
        (safe when several processes create it at once).

        Raises:
            RunStateError: the project row could neither be found nor inserted.
            sqlalchemy.exc.DBAPIError: the database cannot be reached or written.
        """
        project = self._find_project()
        if project is not None:
            return project
        try:
            run_transaction(self.engine, self._insert_project)
        except IntegrityError:  # another process inserted the same name first
            pass
        project = self._find_project()
        if project is None:
            raise RunStateError(
                f"project {self.project_name!r} could not be created in "
                f"{self.engine.url!r}; check that the database is writable"
            )
        return project

    def _find_project(self) -> Project | None:
        with self.engine.connect() as conn:
            return queries.find_project(conn, self.project_name)

    def _insert_project(self, conn: Connection) -> None:
        conn.execute(insert(_projects).values(name=self.project_name, created_at=utcnow()))

    def run(self, tags: Any = None, config: Any = None) -> int:
        """Start a new run with status ``'running'`` and return its id.

        Args:
            tags: a list of labels (each stored as ``str``), a single string, or ``None``.
            config: the config to store with this run, of any type the logger accepts (ADict,
                mapping, OmegaConf ``DictConfig``, dataclass instance), e.g. the config of one
                trial of a search, so that one logger records many trials with their own
                configs. ``None`` stores the logger's own config. The project and database
                always come from the logger's config.

        Raises:
            RunStateError: a run of this logger is still active; call :meth:`finish` first.
        """
        if self._active:
            raise RunStateError(
                f"run {self._run_id} is still active; call finish() before starting another run"
            )
        project = self.get_or_create_project()
        stored = redact_db_password(normalize_config(self.config if config is None else config))
        self._provenance = collect_provenance(self.scope)
        now = utcnow()
        values = {
            "project_id": project.id,
            "config": stored,
            "structural_hash": structural_hash(stored),
            "tags": _tag_list(tags),
            "status": RUNNING,
            "start_time": now,
            "end_time": None,
            "provenance": self._provenance,
            "heartbeat": now,
        }
        self._run_id = run_transaction(
            self.engine,
            lambda conn: conn.execute(insert(_runs).values(**values)).inserted_primary_key[0],
        )
        self._active = True
        self._buffer.start_timer()
        self._heartbeat = Heartbeat(self.engine, self._run_id, self.heartbeat_interval)
        self._heartbeat.start()
        return self._run_id

    def log_scope(self, scope: Any) -> None:
        """Store the provenance of ``scope``'s latest build (views applied, command-line
        overrides, per-key writes; see ``ato.tracker.provenance.scope_provenance``) with
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
        run_transaction(self.engine, lambda conn: conn.execute(stmt))

    @contextmanager
    def start_run(self, tags: Any = None, config: Any = None) -> Iterator[ActiveRun]:
        """Context manager around :meth:`run` (same arguments): yields an :class:`ActiveRun`;
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
        run_transaction(
            self.engine,
            lambda conn: conn.execute(
                update(_runs).where(_runs.c.id == run_id).values(status=status)
            ),
        )

    def finish(self, status: str = COMPLETED) -> None:
        """Flush, then mark the current run ``status`` with ``end_time`` = now (UTC).

        Harmless when the run is already finished (by this logger or another process): the
        first status and end time are kept. Does nothing if no run was started.

        Raises:
            InvalidStatusError: ``status`` is empty or longer than 32 characters.
        """
        check_status(status)
        if self._run_id is None:
            return
        try:
            self.flush()
        finally:
            self._active = False
            self._buffer.stop_timer()
            if self._heartbeat is not None:
                self._heartbeat.stop()
        run_id = self._run_id
        stmt = (
            update(_runs)
            .where(_runs.c.id == run_id, _runs.c.end_time.is_(None))
            .values(status=status, end_time=utcnow())
        )
        run_transaction(self.engine, lambda conn: conn.execute(stmt))

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
    def log_metric(self, key: str, value: Any, step: int | None = None) -> None:
        """Buffer one metric value of the active run.

        Args:
            key: metric name, e.g. ``'val/accuracy'`` (at most 255 characters; other types
                are stored as ``str(key)``).
            value: anything ``float()`` accepts (numpy/torch scalars too). NaN and +-inf are
                stored as NULL and read back as ``nan``.
            step: training step/epoch (an integer) or ``None``.

        Raises:
            RunStateError: no active run (call :meth:`run` first).
            MetricValueError: ``value`` is not a number (a ``TypeError``).
            MetricKeyError: ``key`` is longer than 255 characters (a ``ValueError``).
            TypeError: ``step`` is not an integer (``operator.index`` fails).
            sqlalchemy.exc.DBAPIError: this call triggered a flush that failed (the rows stay
                buffered for the next flush).
        """
        if not self._active:
            raise RunStateError("log_metric() needs an active run; call run() first")
        try:
            number: float | None = float(value)
        except (TypeError, ValueError):
            raise MetricValueError(key, value) from None
        if number - number != 0:  # nan or +-inf
            number = None
        if key.__class__ is not str:
            key = str(key)
        if len(key) > KEY_LENGTH:  # checked now: a server would reject the whole batch later
            raise MetricKeyError(key, KEY_LENGTH)
        if step is not None and step.__class__ is not int:
            step = operator.index(step)
        now = time()
        buffer = self._buffer
        buffer.pending.append((self._run_id, key, number, step, now))  # type: ignore[arg-type]
        if len(buffer.pending) >= buffer.batch_size or now >= buffer.flush_due:
            buffer.flush()

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """:meth:`log_metric` for each ``key: value`` of ``metrics`` (a mapping of metric name
        to number) at the same ``step``; raises what :meth:`log_metric` raises."""
        for key, value in metrics.items():
            self.log_metric(key, value, step)

    def flush(self) -> int:
        """Write all buffered metrics now (one transaction per batch of ``batch_size`` rows);
        return how many rows were written.

        Raises:
            sqlalchemy.exc.DBAPIError: a batch could not be written after the retries of
                :func:`~ato.tracker.engine.run_transaction`; its rows stay buffered.
        """
        return self._buffer.flush()

    # -- artifacts and fingerprints ----------------------------------------------------
    def log_artifact(
        self, run_id: int | None, path: Any, data_type: str, metadata: Any = None
    ) -> int:
        """Record an artifact (e.g. a checkpoint file) of run ``run_id`` and return its id.

        Args:
            run_id: the run it belongs to; ``None`` means the current run.
            path: file path or URI (stored as ``str``).
            data_type: free-form kind, e.g. ``'model'``, ``'image'``.
            metadata: optional JSON-like data (normalized like configs).

        Raises:
            RunStateError: ``run_id`` is ``None`` and no run was started.
        """
        target = self._require_run("log_artifact") if run_id is None else run_id
        values = {
            "run_id": target,
            "path": str(path),
            "data_type": str(data_type),
            "meta": None if metadata is None else to_json_value(metadata),
            "timestamp": utcnow(),
        }
        stmt = insert(ArtifactRecord).values(**values)
        return run_transaction(self.engine, lambda conn: conn.execute(stmt).inserted_primary_key[0])

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
        :func:`ato.tracker.fingerprints.iter_fingerprints`) for the current run; return the count.

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

    # -- lifetime -----------------------------------------------------------------------
    def close(self) -> None:
        """Flush and stop the background flusher. The logger can still start new runs."""
        self._buffer.stop_timer()
        self.flush()

    def __enter__(self) -> SQLLogger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Flush; an active run is finished ``'completed'``, or ``'failed'`` on an exception."""
        if self._active:
            self.finish(FAILED if exc_type is not None else COMPLETED)
        self.close()

    def __repr__(self) -> str:
        return (
            f"SQLLogger(project={self.project_name!r}, db={self.engine.url!r}, run={self._run_id})"
        )


class ActiveRun:
    """Handle yielded by :meth:`SQLLogger.start_run`: the run ``id`` and logging shortcuts."""

    def __init__(self, logger: SQLLogger, run_id: int) -> None:
        self.logger = logger
        self.id = run_id

    def log_metric(self, key: str, value: Any, step: int | None = None) -> None:
        """See :meth:`SQLLogger.log_metric`."""
        self.logger.log_metric(key, value, step)

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """See :meth:`SQLLogger.log_metrics`."""
        self.logger.log_metrics(metrics, step)

    def log_artifact(self, path: Any, data_type: str, metadata: Any = None) -> int:
        """See :meth:`SQLLogger.log_artifact` (for this run)."""
        return self.logger.log_artifact(self.id, path, data_type, metadata)

    def log_fingerprint(self, trace_id: str, fingerprint: str, trace_type: str = "static") -> None:
        """See :meth:`SQLLogger.log_fingerprint`."""
        self.logger.log_fingerprint(trace_id, fingerprint, trace_type)

    def __repr__(self) -> str:
        return f"ActiveRun(id={self.id})"


def check_status(status: str) -> None:
    """Raise :class:`InvalidStatusError` unless ``status`` is a non-empty string of at most
    ``STATUS_LENGTH`` (32) characters."""
    if not isinstance(status, str) or not 0 < len(status) <= STATUS_LENGTH:
        raise InvalidStatusError(status)


def _tag_list(tags: Any) -> list[str]:
    if tags is None:
        return []
    if isinstance(tags, str):
        return [tags]
    return [str(to_json_value(tag)) for tag in tags]
