"""MLflow tracking stores → the tracker: experiments → projects, runs → runs.

Read through MLflow's own client (``mlflow.tracking.MlflowClient``), so every store MLflow
reads works: a local ``mlruns`` folder, an MLflow SQLite/PostgreSQL/MySQL database
(``sqlite:///mlflow.db``) or a tracking server (``http://host:5000``). For each run:

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
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from ..storage.statuses import RunStatus
from .dependencies import require
from .errors import ImportSourceError
from .params import nested_config
from .progress import progress_bar
from .report import ImportReport
from .source import ArtifactRef, MetricPoint, SourceRun
from .target import import_runs

SOURCE = "mlflow"
PAGE = 1000
STATUSES = {
    "FINISHED": RunStatus.COMPLETED.value,
    "FAILED": RunStatus.FAILED.value,
    "KILLED": RunStatus.KILLED.value,
}
_FILE_STORE_ENV = "MLFLOW_ALLOW_FILE_STORE"


def from_mlflow(
    uri: str,
    db: str,
    *,
    experiments: list[str] | None = None,
    show_progress: bool | None = None,
) -> ImportReport:
    """Import the runs of an MLflow tracking store into the tracker database ``db`` (the
    mapping is in the module docstring): each experiment becomes the project of its name.

    Args:
        uri: the MLflow tracking URI: a local ``mlruns`` folder (path or ``file://`` URI),
            an MLflow database (``sqlite:///mlflow.db``, ``postgresql://...``) or a tracking
            server (``http://host:5000``).
        db: the tracker database: a SQLAlchemy URL or a SQLite file path.
        experiments: names of the experiments to import (default: all, deleted ones too).
        show_progress: show a progress bar (default: when standard error is a terminal).

    Returns:
        The counts: runs, metric values, artifacts; runs skipped with why.

    Raises:
        MissingDependencyError: MLflow is not installed (``pip install 'ato-tracker[mlflow]'``).
        ImportSourceError: the folder or SQLite file does not exist, the folder is not an
            MLflow store, the store cannot be read, or a named experiment does not exist (the
            message lists those that do). Nothing is written then.
        sqlalchemy.exc.DBAPIError: the tracker database cannot be written (runs imported
            completely so far are kept; importing again goes on from there).

    Memory: runs are read a page of ``PAGE`` at a time and written one at a time; a run's
    metric history is read one key at a time (MLflow's client returns a key's whole history).
    """
    require("mlflow", "mlflow", "ato import mlflow")
    uri = _checked_uri(uri)
    with _file_store_allowed():
        client = _client(uri)
        chosen = _experiments(client, uri, experiments)
        total = sum(_count_runs(client, experiment) for experiment in chosen)
        runs = (_source_run(client, run, exp.name) for exp in chosen for run in _runs(client, exp))
        report = ImportReport(SOURCE)
        bar = progress_bar("mlflow runs", total, show_progress)
        from mlflow.exceptions import MlflowException

        return import_runs(db, report, runs, (MlflowException, OSError), _source_error(uri), bar)


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


def _experiments(client: Any, uri: str, names: list[str] | None) -> list[Any]:
    from mlflow.entities import ViewType

    found: list[Any] = []
    token = None
    while True:
        page = client.search_experiments(view_type=ViewType.ALL, max_results=PAGE, page_token=token)
        found.extend(page)
        token = page.token
        if not token:
            break
    if names is None:
        return found
    by_name = {exp.name: exp for exp in found}
    missing = [name for name in names if name not in by_name]
    if missing:
        raise ImportSourceError(
            f"no MLflow experiment named {', '.join(map(repr, missing))} in {uri!r}; "
            f"experiments there: {', '.join(map(repr, sorted(by_name))) or 'none'}"
        )
    return [by_name[name] for name in names]


def _runs(client: Any, experiment: Any) -> Iterator[Any]:
    from mlflow.entities import ViewType

    token = None
    while True:
        page = client.search_runs(
            [experiment.experiment_id],
            run_view_type=ViewType.ALL,
            max_results=PAGE,
            order_by=["attributes.start_time ASC"],
            page_token=token,
        )
        yield from page
        token = page.token
        if not token:
            return


def _count_runs(client: Any, experiment: Any) -> int:
    return sum(1 for _ in _runs(client, experiment))


def _source_run(client: Any, run: Any, experiment: str) -> SourceRun:
    info, data = run.info, run.data
    user_tags = {k: v for k, v in data.tags.items() if not k.startswith("mlflow.")}
    source = SourceRun(
        source=SOURCE,
        source_id=info.run_id,
        project=experiment,
        start_time=_from_ms(info.start_time or 0),
        end_time=_from_ms(info.end_time) if info.end_time else None,
        status=STATUSES.get(info.status, RunStatus.COMPLETED.value),
        tags=[f"{k}:{v}" if v else k for k, v in sorted(user_tags.items())],
        config=nested_config(data.params),
        details={
            "experiment": experiment,
            "name": info.run_name,
            "status": info.status,
            "tags": dict(data.tags),
            "artifact_uri": info.artifact_uri,
        },
        metrics=lambda: _history(client, info.run_id, sorted(data.metrics)),
        artifacts=lambda: _artifacts(client, info.run_id, info.artifact_uri),
    )
    if info.status not in STATUSES:
        source.skip = f"MLflow run {info.run_id} is {info.status.lower()}, not finished"
    return source


def _history(client: Any, run_id: str, keys: list[str]) -> Iterator[MetricPoint]:
    for key in keys:
        for metric in client.get_metric_history(run_id, key):
            yield key, metric.value, metric.step, metric.timestamp / 1000


def _artifacts(
    client: Any, run_id: str, root: str, path: str | None = None
) -> Iterator[ArtifactRef]:
    for item in client.list_artifacts(run_id, path):
        if item.is_dir:
            yield from _artifacts(client, run_id, root, item.path)
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
