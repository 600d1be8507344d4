"""Writing source runs into the tracker: idempotent, resumable, in bounded memory.

Every imported run carries ``provenance["import"] = {"source": ..., "id": <source id>,
"complete": ...}``. ``complete`` becomes true only after the run's last metric value,
artifact, status and end time are stored. Importing again therefore skips each source run
with a complete copy, and replaces an incomplete copy (left by an interrupted import) by a
new one: an import can simply be run again after an interruption.

Metric values go through `SQLLogger.log_metric` with their recorded ``timestamp``; the
logger is flushed every ``batch_size`` values, so at most one batch is held in memory
whatever the length of a history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

from sqlalchemy import Engine, Table, delete, select

from ..read import queries
from ..storage.models import (
    ArtifactRecord,
    FingerprintRecord,
    MetricRecord,
    MetricSummaryRecord,
    ProjectRecord,
    RunParamRecord,
    RunRecord,
    SeriesBlockRecord,
)
from ..storage.statuses import RunStatus
from ..write.logger import SQLLogger
from .report import ImportReport
from .source import SourceRun

BATCH_SIZE = 5000
SECTION = "import"

_runs = cast(Table, RunRecord.__table__)
_projects = cast(Table, ProjectRecord.__table__)
_RUN_TABLES = [
    cast(Table, record.__table__)
    for record in (
        MetricRecord,
        MetricSummaryRecord,
        ArtifactRecord,
        FingerprintRecord,
        RunParamRecord,
        SeriesBlockRecord,
    )
]


class ImportTarget:
    """The database an import writes to, with one `SQLLogger` per project (made on first use).

    Args:
        db_url: SQLAlchemy URL (or SQLite file path) of the tracker database.
        report: counts are added to it.
        batch_size: metric values per write transaction (and per flush).
    """

    def __init__(self, db_url: str, report: ImportReport, batch_size: int = BATCH_SIZE) -> None:
        self.db_url = db_url
        self.report = report
        self.batch_size = batch_size
        self._loggers: dict[str, SQLLogger] = {}
        self._imported: dict[str, dict[str, tuple[int, bool]]] = {}  # project -> id -> run
        self._new_projects: list[int] = []

    def write(self, run: SourceRun) -> None:
        """Import ``run`` unless it is to be skipped or has a complete copy already."""
        if run.skip is not None:
            self.report.skipped.append((run.source_id, run.skip))
            return
        logger = self._logger(run.project)
        known = self._imported[run.project].get(run.source_id)
        if known is not None and known[1]:
            self.report.skipped.append((run.source_id, f"already imported as run {known[0]}"))
            return
        if known is not None:
            delete_runs(logger.engine, [known[0]])
        run_id = logger.run(tags=run.tags, config=run.config, start_time=run.start_time)
        self.report.run_ids.append(run_id)
        marker = {"source": run.source, "id": run.source_id, **run.details}
        logger.add_provenance(SECTION, {**marker, "complete": False})
        try:
            self._write_metrics(logger, run.metrics())
            for path, data_type, meta in run.artifacts():
                logger.log_artifact(run_id, path, data_type, meta)
                self.report.artifacts += 1
        except BaseException:
            logger.finish(RunStatus.FAILED)
            raise
        logger.finish(run.status, end_time=run.end_time or run.start_time)
        logger.add_provenance(SECTION, {**marker, "complete": True})
        self._imported[run.project][run.source_id] = (run_id, True)
        self.report.runs += 1

    def _write_metrics(self, logger: SQLLogger, points: Iterable[Any]) -> None:
        log, batch, count = logger.log_metric, self.batch_size, 0
        for key, value, step, timestamp in points:
            log(key, value, step, timestamp=timestamp)
            count += 1
            if count % batch == 0:
                logger.flush()
        logger.flush()
        self.report.metrics += count

    def _logger(self, project: str) -> SQLLogger:
        logger = self._loggers.get(project)
        if logger is None:
            logger = SQLLogger.from_url(self.db_url, project, batch_size=self.batch_size)
            with logger.engine.connect() as conn:
                existed = queries.find_project(conn, project)
            project_id = logger.get_or_create_project().id
            if existed is None:
                self._new_projects.append(project_id)
            self._imported[project] = imported_runs(logger.engine, project_id)
            self._loggers[project] = logger
        return logger

    def undo(self) -> None:
        """Remove every run (and project) this import wrote: the database is as before."""
        for logger in self._loggers.values():
            logger.close()
        engine = next(iter(self._loggers.values())).engine if self._loggers else None
        if engine is None:
            return
        delete_runs(engine, self.report.run_ids)
        with engine.begin() as conn:
            if self._new_projects:
                conn.execute(delete(_projects).where(_projects.c.id.in_(self._new_projects)))
        self.report.run_ids.clear()

    def close(self) -> None:
        """Flush and close every logger."""
        for logger in self._loggers.values():
            logger.close()


def imported_runs(engine: Engine, project_id: int) -> dict[str, tuple[int, bool]]:
    """``{source id: (run id, complete)}`` of the runs of ``project_id`` made by an import
    (for several copies of one id: the complete one, else the newest)."""
    found: dict[str, tuple[int, bool]] = {}
    stmt = (
        select(_runs.c.id, _runs.c.provenance)
        .where(_runs.c.project_id == project_id)
        .order_by(_runs.c.id)
    )
    with engine.connect() as conn:
        for run_id, provenance in conn.execute(stmt):
            section = (provenance or {}).get(SECTION) if isinstance(provenance, dict) else None
            if not isinstance(section, dict) or "id" not in section:
                continue
            source_id, complete = str(section["id"]), bool(section.get("complete"))
            if not found.get(source_id, (0, False))[1]:
                found[source_id] = (run_id, complete)
    return found


def delete_runs(engine: Engine, run_ids: list[int]) -> None:
    """Delete the runs ``run_ids`` with their metrics, summaries, series blocks, artifacts,
    fingerprints and config rows (``run_params``), in one transaction."""
    if not run_ids:
        return
    with engine.begin() as conn:
        for table in _RUN_TABLES:
            conn.execute(delete(table).where(table.c.run_id.in_(run_ids)))
        conn.execute(delete(_runs).where(_runs.c.id.in_(run_ids)))


def import_runs(
    db_url: str,
    report: ImportReport,
    runs: Iterable[SourceRun],
    source_errors: tuple[type[BaseException], ...],
    describe: Callable[[BaseException], BaseException],
    progress: Callable[[Iterable[SourceRun]], Iterable[SourceRun]],
) -> ImportReport:
    """Write ``runs`` into ``db_url``; on one of ``source_errors`` (the source turned out
    unreadable while streaming), remove what was written and raise ``describe(error)``.

    An interruption (``KeyboardInterrupt``, a database error) keeps the runs complete so far:
    running the import again goes on from there.
    """
    target = ImportTarget(db_url, report)
    try:
        for run in progress(runs):
            target.write(run)
    except source_errors as error:
        target.undo()
        raise describe(error) from error
    finally:
        target.close()
    return report
