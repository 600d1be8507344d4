"""MLflow tracking stores → the tracker: experiments → projects, runs → runs.

Two readers give the same runs: MLflow's own client (``mlflow.tracking.MlflowClient``) reads
every store MLflow reads: a local ``mlruns`` folder, an MLflow database or a tracking server
(``http://host:5000``). An MLflow SQLite or PostgreSQL database (``sqlite:///mlflow.db``,
``postgresql+psycopg://...``) is read directly with SQLAlchemy instead (``ato.tracker.importers.mlflow_tables``: several times
faster, and a metric history is streamed rather than loaded whole), when its schema revision
is one that reader knows; ``via_client=True`` makes the client read it. For each run:

- status ``FINISHED`` → ``completed``, ``FAILED`` → ``failed``, ``KILLED`` → ``killed``;
  ``RUNNING``/``SCHEDULED`` runs are skipped (not finished);
- start and end times (milliseconds) as the run's times;
- params as the config, each value typed back from the string MLflow stored and nested by
  ``.`` or ``/`` (see ``ato.tracker.importers.params``);
- tags not set by MLflow itself (``mlflow.*``) as ``key:value`` tags; every tag, the run
  name and the experiment in ``provenance.import``;
- every metric's full history with its steps and timestamps (milliseconds, stored exactly);
- artifacts as references (their URI, ``data_type`` ``'mlflow'``, ``size`` in bytes and, for
  local files, ``sha256``).

The MLflow run id is kept in ``provenance.import.id``: importing again skips imported runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse
from urllib.request import url2pathname

from sqlalchemy import Connection, create_engine
from sqlalchemy.exc import SQLAlchemyError

from ..storage.statuses import RunStatus
from . import mlflow_tables as tables
from .dependencies import require
from .errors import ImportSourceError
from .params import nested_config
from .progress import progress_bar
from .report import ImportReport
from .source import ArtifactRef, MetricPoint, SourceRun
from .target import BATCH_SIZE, import_runs

SOURCE = "mlflow"
PAGE = 1000
STATUSES = {
    "FINISHED": RunStatus.COMPLETED.value,
    "FAILED": RunStatus.FAILED.value,
    "KILLED": RunStatus.KILLED.value,
}
_FILE_STORE_ENV = "MLFLOW_ALLOW_FILE_STORE"
# MLflow databases read directly (the URL's dialect; the ones the tests cover); other
# schemes (MySQL, SQL Server, folders, servers) go through MLflow's client
DATABASE_SCHEMES = ("sqlite", "postgresql")
T = TypeVar("T")


def from_mlflow(
    uri: str,
    db: str,
    *,
    experiments: list[str] | None = None,
    show_progress: bool | None = None,
    via_client: bool = False,
) -> ImportReport:
    """Import the runs of an MLflow tracking store into the tracker database ``db`` (the
    mapping is in the module docstring): each experiment becomes the project of its name.

    Args:
        uri: the MLflow tracking URI: a local ``mlruns`` folder (path or ``file://`` URI),
            an MLflow database (``sqlite:///mlflow.db``, ``postgresql+psycopg://...``,
            read directly; ``mysql+pymysql://...`` through the client) or a tracking server
            (``http://host:5000``).
        db: the tracker database: a SQLAlchemy URL or a SQLite file path.
        experiments: names of the experiments to import (default: all, deleted ones too).
        show_progress: show a progress bar (default: when standard error is a terminal).
        via_client: read an MLflow database through MLflow's client too, not directly
            (for a schema revision the direct reader does not know; see
            ``ato.tracker.importers.mlflow_tables.SUPPORTED_REVISIONS``).

    Returns:
        The counts: runs, metric values, artifacts; runs skipped with why.

    Raises:
        MissingDependencyError: MLflow is not installed (``pip install 'ato-tracker[mlflow]'``).
        ImportSourceError: the folder or SQLite file does not exist, the folder is not an
            MLflow store, the store cannot be read, a named experiment does not exist (the
            message lists those that do), or an MLflow database has a schema revision the
            direct reader does not know (the message says to pass ``via_client=True``, CLI
            ``--via-client``). Nothing is written then.
        sqlalchemy.exc.DBAPIError: the tracker database cannot be written (runs imported
            completely so far are kept; importing again goes on from there).

    Memory: runs are read a page of ``PAGE`` at a time and written one at a time. Read
    directly, a metric history is streamed ``BATCH_SIZE`` values at a time, so memory does not
    grow with its length; MLflow's client returns a key's whole history at once instead.
    """
    require("mlflow", "mlflow", "ato import mlflow")
    uri = _checked_uri(uri)
    report = ImportReport(SOURCE)
    if not via_client and _is_database(uri):
        return _import_tables(uri, db, experiments, show_progress, report)
    with _file_store_allowed():
        client = _client(uri)
        chosen = _chosen(_experiments(client), uri, experiments)
        total = sum(_count_runs(client, exp_id) for exp_id, _ in chosen)
        runs = (
            _client_run(client, run, name)
            for exp_id, name in chosen
            for run in _runs(client, exp_id)
        )
        bar = progress_bar("mlflow runs", total, show_progress)
        from mlflow.exceptions import MlflowException

        return import_runs(db, report, runs, (MlflowException, OSError), _source_error(uri), bar)


def _is_database(uri: str) -> bool:
    return urlparse(uri).scheme.split("+")[0] in DATABASE_SCHEMES


def _import_tables(
    uri: str, db: str, names: list[str] | None, show_progress: bool | None, report: ImportReport
) -> ImportReport:
    """`from_mlflow` reading MLflow's tables directly (``ato.tracker.importers.mlflow_tables``)."""
    conn = _source_connection(uri)
    try:
        chosen = _chosen(_read(uri, tables.experiment_rows, conn), uri, names)
        total = sum(_read(uri, tables.count_runs, conn, exp_id) for exp_id, _ in chosen)
        runs = _table_runs(conn, chosen)
        bar = progress_bar("mlflow runs", total, show_progress)
        from mlflow.exceptions import MlflowException  # listing a run's artifacts

        errors = (_SourceReadError, MlflowException, OSError)
        return import_runs(db, report, runs, errors, _source_error(uri), bar)
    finally:
        conn.close()
        conn.engine.dispose()


class _SourceReadError(Exception):
    """Reading MLflow's tables failed (a `SQLAlchemyError` there, told apart from one of the
    tracker database, which keeps the runs written so far)."""


def _source_connection(uri: str) -> Connection:
    try:
        conn = create_engine(uri).connect()
    except (SQLAlchemyError, ImportError) as error:  # unreachable, no driver for the URL
        raise _source_error(uri)(error) from error
    try:
        tables.check_revision(conn)
    except tables.UnsupportedSchemaError as error:
        conn.close()
        conn.engine.dispose()
        raise ImportSourceError(
            f"cannot read the MLflow database {uri!r} directly: {error}; this importer reads "
            f"MLflow schema revisions {tables.SUPPORTED_REVISIONS[0]} (MLflow 1.25) to "
            f"{tables.SUPPORTED_REVISIONS[-1]} (MLflow 3.18). Import through MLflow's client "
            "instead: `ato import mlflow --via-client ...` or from_mlflow(..., via_client=True)"
        ) from error
    return conn


def _read(uri: str, function: Callable[..., T], *args: Any) -> T:
    try:
        return function(*args)
    except SQLAlchemyError as error:
        raise _source_error(uri)(error) from error


def _table_runs(conn: Connection, chosen: list[tuple[Any, str]]) -> Iterator[SourceRun]:
    for exp_id, name in chosen:
        for page in _reading(tables.run_pages(conn, exp_id, PAGE)):
            for row in page:
                yield _source_run(
                    row,
                    name,
                    metrics=partial(_table_history, conn, row["run_uuid"], row["metric_keys"]),
                    artifacts=partial(_repository_artifacts, row["artifact_uri"]),
                )


def _table_history(conn: Connection, run_id: str, keys: list[str]) -> Iterator[MetricPoint]:
    history = tables.metric_history(conn, run_id, keys, BATCH_SIZE)
    for key, value, step, timestamp in _reading(history):
        yield key, value, step, timestamp / 1000


def _reading(items: Iterator[T]) -> Iterator[T]:
    """``items`` (read from MLflow's tables) with a `SQLAlchemyError` raised while reading
    them turned into `_SourceReadError`; errors of the consumer pass untouched."""
    while True:
        try:
            item = next(items)
        except StopIteration:
            return
        except SQLAlchemyError as error:
            raise _SourceReadError(str(error).splitlines()[0]) from error
        yield item


def _repository_artifacts(root: str | None, path: str | None = None) -> Iterator[ArtifactRef]:
    """The artifacts under ``root`` (a run's artifact URI), as MLflow's client lists them."""
    if not root:
        return
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    repository = get_artifact_repository(root)
    yield from _listed(lambda sub: repository.list_artifacts(sub), root, path)


def _checked_uri(uri: str) -> str:
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        path = Path(url2pathname(parsed.path) if parsed.scheme == "file" else uri)
        if not path.is_dir():
            raise ImportSourceError(
                f"the MLflow store {uri!r} is not a directory; give an mlruns folder"
            )
        if not any((child / "meta.yaml").is_file() for child in path.iterdir()):
            raise ImportSourceError(
                f"{uri!r} is not an MLflow store: no experiment folder (with a meta.yaml) in it"
            )
        return path.resolve().as_uri()
    if parsed.scheme == "sqlite" and not Path(uri[len("sqlite:///") :]).is_file():
        raise ImportSourceError(f"the MLflow database {uri!r} does not exist")
    return uri


@contextlib.contextmanager
def _file_store_allowed() -> Iterator[None]:
    """MLflow 3 refuses local folders unless this variable is set; reading them is safe."""
    before = os.environ.get(_FILE_STORE_ENV)
    os.environ[_FILE_STORE_ENV] = "true"
    try:
        yield
    finally:
        if before is None:
            del os.environ[_FILE_STORE_ENV]
        else:
            os.environ[_FILE_STORE_ENV] = before


def _client(uri: str) -> Any:
    from mlflow.tracking import MlflowClient

    try:
        client = MlflowClient(tracking_uri=uri)
        client.search_experiments(max_results=1)
    except Exception as error:  # an unknown scheme, an unreachable server, not MLflow's
        raise _source_error(uri)(error) from error
    return client


def _experiments(client: Any) -> list[tuple[Any, str]]:
    from mlflow.entities import ViewType

    found: list[tuple[Any, str]] = []
    token = None
    while True:
        page = client.search_experiments(view_type=ViewType.ALL, max_results=PAGE, page_token=token)
        found.extend((exp.experiment_id, exp.name) for exp in page)
        token = page.token
        if not token:
            return found


def _chosen(
    found: list[tuple[Any, str]], uri: str, names: list[str] | None
) -> list[tuple[Any, str]]:
    """The ``(id, name)`` of the experiments named ``names`` (all for ``None``).

    Raises:
        ImportSourceError: a name is not among them (the message lists those there are).
    """
    if names is None:
        return found
    by_name = {name: (exp_id, name) for exp_id, name in found}
    missing = [name for name in names if name not in by_name]
    if missing:
        raise ImportSourceError(
            f"no MLflow experiment named {', '.join(map(repr, missing))} in {uri!r}; "
            f"experiments there: {', '.join(map(repr, sorted(by_name))) or 'none'}"
        )
    return [by_name[name] for name in names]


def _runs(client: Any, experiment_id: Any) -> Iterator[Any]:
    from mlflow.entities import ViewType

    token = None
    while True:
        page = client.search_runs(
            [experiment_id],
            run_view_type=ViewType.ALL,
            max_results=PAGE,
            order_by=["attributes.start_time ASC"],
            page_token=token,
        )
        yield from page
        token = page.token
        if not token:
            return


def _count_runs(client: Any, experiment_id: Any) -> int:
    return sum(1 for _ in _runs(client, experiment_id))


def _client_run(client: Any, run: Any, experiment: str) -> SourceRun:
    info, data = run.info, run.data
    row = {
        "run_uuid": info.run_id,
        "name": info.run_name,
        "status": info.status,
        "start_time": info.start_time or 0,
        "end_time": info.end_time,
        "artifact_uri": info.artifact_uri,
        "params": data.params,
        "tags": data.tags,
    }
    return _source_run(
        row,
        experiment,
        metrics=partial(_history, client, info.run_id, sorted(data.metrics)),
        artifacts=partial(_client_artifacts, client, info.run_id, info.artifact_uri),
    )


def _source_run(
    row: dict[str, Any],
    experiment: str,
    metrics: Callable[[], Iterable[MetricPoint]],
    artifacts: Callable[[], Iterable[ArtifactRef]],
) -> SourceRun:
    """The run ``row`` (columns of MLflow's ``runs`` table, ``params`` and ``tags``) of
    ``experiment`` mapped as the module docstring says."""
    run_id, status, tags = row["run_uuid"], row["status"], row["tags"]
    user_tags = {k: v for k, v in tags.items() if not k.startswith("mlflow.")}
    source = SourceRun(
        source=SOURCE,
        source_id=run_id,
        project=experiment,
        start_time=_from_ms(row["start_time"]),
        end_time=_from_ms(row["end_time"]) if row["end_time"] else None,
        status=STATUSES.get(status, RunStatus.COMPLETED.value),
        tags=[f"{k}:{v}" if v else k for k, v in sorted(user_tags.items())],
        config=nested_config(row["params"]),
        details={
            "experiment": experiment,
            "name": row["name"],
            "status": status,
            "tags": dict(tags),
            "artifact_uri": row["artifact_uri"],
        },
        metrics=metrics,
        artifacts=artifacts,
    )
    if status not in STATUSES:
        source.skip = f"MLflow run {run_id} is {status.lower()}, not finished"
    return source


def _history(client: Any, run_id: str, keys: list[str]) -> Iterator[MetricPoint]:
    for key in keys:
        for metric in client.get_metric_history(run_id, key):
            yield key, metric.value, metric.step, metric.timestamp / 1000


def _client_artifacts(client: Any, run_id: str, root: str) -> Iterator[ArtifactRef]:
    yield from _listed(lambda sub: client.list_artifacts(run_id, sub), root, None)


def _listed(
    list_dir: Callable[[str | None], Iterable[Any]], root: str, path: str | None
) -> Iterator[ArtifactRef]:
    """Every file under ``path`` of the artifact root ``root``, recursively; ``list_dir``
    lists one folder (MLflow ``FileInfo`` objects)."""
    for item in list_dir(path):
        if item.is_dir:
            yield from _listed(list_dir, root, item.path)
            continue
        uri = f"{root.rstrip('/')}/{item.path}"
        meta: dict[str, Any] = {"size": item.file_size}
        local = _local_file(uri)
        if local is not None:
            meta["sha256"] = _sha256(local)
        yield uri, SOURCE, meta


def _local_file(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme not in ("", "file"):
        return None
    path = Path(url2pathname(parsed.path))
    return path if path.is_file() else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _from_ms(millis: int) -> datetime:
    return datetime.fromtimestamp(millis / 1000, timezone.utc)


def _source_error(uri: str) -> Any:
    def describe(error: BaseException) -> ImportSourceError:
        text = str(getattr(error, "message", None) or error).strip()
        reason = text.splitlines()[0] if text else type(error).__name__
        return ImportSourceError(f"cannot read the MLflow store {uri!r}: {reason}")

    return describe
