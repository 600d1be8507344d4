"""TensorBoard log directories → the tracker: each run directory becomes a run.

A run directory is the log directory or any folder below it holding event files
(``*tfevents*``), as TensorBoard itself lists runs. Event files are read record by record with
TensorBoard's own reader (``tensorboard.compat.tensorflow_stub``), which checks every
record's CRC: a corrupt or truncated file is an error, never silently cut short (TensorBoard's
viewer stops at such a record without a word). For each run:

- every scalar series (``add_scalar``; TensorBoard's ``scalars`` plugin) as a metric with its
  steps and wall times (seconds; stored to the microsecond). Values are TensorBoard's 32-bit
  floats, read back exactly as TensorBoard shows them. Images, histograms and text are not
  imported;
- hyperparameters of the HParams plugin (``add_hparams``) as the config;
- start and end time: the first and the last wall time in its files; status ``completed``;
- the tag ``run:<directory relative to the log directory>``.

The run directory's absolute path is kept in ``provenance.import.id``: importing again skips
imported runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .dependencies import require
from .errors import ImportSourceError
from .progress import progress_bar
from .report import ImportReport
from .source import MetricPoint, SourceRun
from .target import import_runs

SOURCE = "tensorboard"
_HPARAMS = "hparams"


def from_tensorboard(
    logdir: str | os.PathLike[str],
    db: str,
    *,
    project: str | None = None,
    show_progress: bool | None = None,
) -> ImportReport:
    """Import every run directory below ``logdir`` into the tracker database ``db`` (the
    mapping is in the module docstring).

    Args:
        logdir: the TensorBoard log directory (what ``tensorboard --logdir`` takes).
        db: the tracker database: a SQLAlchemy URL or a SQLite file path.
        project: the tracker project (default: the log directory's name).
        show_progress: show a progress bar (default: when standard error is a terminal).

    Returns:
        The counts: runs, metric values; runs skipped with why.

    Raises:
        MissingDependencyError: TensorBoard is not installed
            (``pip install 'ato-tracker[tensorboard]'``).
        ImportSourceError: ``logdir`` is not a directory, holds no event file, or an event
            file is corrupt or truncated (the message names it). The target database is left
            as it was (runs written by this call before the bad file are removed).
        sqlalchemy.exc.DBAPIError: the tracker database cannot be written (runs imported
            completely so far are kept; importing again goes on from there).
    """
    require("tensorboard", "tensorboard", "ato import tensorboard")
    from tensorboard.compat.tensorflow_stub import errors

    root = Path(logdir)
    if not root.is_dir():
        raise ImportSourceError(f"the TensorBoard log directory {str(root)!r} does not exist")
    run_dirs = _run_dirs(root)
    if not run_dirs:
        raise ImportSourceError(
            f"no TensorBoard event file (*tfevents*) in {str(root)!r} or below it"
        )
    name = project or root.resolve().name
    try:  # every record is read and checked before anything is written
        runs = [_source_run(root, path, name) for path in run_dirs]
    except (errors.DataLossError, OSError) as error:
        raise _corrupt(error) from error
    report = ImportReport(SOURCE)
    bar = progress_bar(f"tensorboard runs of {root}", len(run_dirs), show_progress)
    return import_runs(db, report, runs, (errors.DataLossError, OSError), _corrupt, bar)


def _run_dirs(root: Path) -> list[Path]:
    found = []
    for folder, _, files in sorted(os.walk(root)):
        if any("tfevents" in name for name in files):
            found.append(Path(folder))
    return found


def _event_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and "tfevents" in p.name)


def _source_run(root: Path, folder: Path, project: str) -> SourceRun:
    first, last, config = _scan(folder)
    relative = folder.relative_to(root).as_posix()
    return SourceRun(
        source=SOURCE,
        source_id=f"tensorboard:{folder.resolve().as_posix()}",
        project=project,
        start_time=datetime.fromtimestamp(first, timezone.utc),
        end_time=datetime.fromtimestamp(last, timezone.utc),
        tags=[f"run:{relative}"],
        config=config,
        details={"directory": relative, "logdir": str(root.resolve())},
        metrics=lambda: _scalars(folder),
    )


def _scan(folder: Path) -> tuple[float, float, dict[str, Any]]:
    """First and last wall time and the HParams of ``folder``'s events (checks every record).

    Raises:
        tensorboard.compat.tensorflow_stub.errors.DataLossError: a record is corrupt or cut.
    """
    first, last, config = float("inf"), float("-inf"), {}
    for event in _events(folder):
        first, last = min(first, event.wall_time), max(last, event.wall_time)
        for value in event.summary.value:
            if value.metadata.plugin_data.plugin_name == _HPARAMS:
                config.update(_hparams(value.metadata.plugin_data.content))
    return first, last, config


def _events(folder: Path) -> Iterator[Any]:
    from tensorboard.compat.proto import event_pb2
    from tensorboard.compat.tensorflow_stub import errors, pywrap_tensorflow

    for path in _event_files(folder):
        reader = pywrap_tensorflow.PyRecordReader_New(str(path), 0, None, None)
        while True:
            try:
                reader.GetNext()
            except errors.OutOfRangeError:
                break
            yield event_pb2.Event.FromString(reader.record())


def _scalars(folder: Path) -> Iterator[MetricPoint]:
    from tensorboard.util import tensor_util

    for event in _events(folder):
        for value in event.summary.value:
            kind = value.WhichOneof("value")
            if kind == "simple_value":
                yield value.tag, value.simple_value, event.step, event.wall_time
            elif kind == "tensor" and value.metadata.plugin_data.plugin_name == "scalars":
                number = tensor_util.make_ndarray(value.tensor).item()
                yield value.tag, number, event.step, event.wall_time


def _hparams(content: bytes) -> dict[str, Any]:
    from tensorboard.plugins.hparams import plugin_data_pb2

    data = plugin_data_pb2.HParamsPluginData.FromString(content)
    if not data.HasField("session_start_info"):
        return {}
    return {
        name: getattr(value, value.WhichOneof("kind"))
        for name, value in data.session_start_info.hparams.items()
        if value.WhichOneof("kind") in ("number_value", "string_value", "bool_value")
    }


def _corrupt(error: BaseException) -> ImportSourceError:
    message = getattr(error, "message", None) or str(error)
    return ImportSourceError(f"a TensorBoard event file is corrupt or unreadable: {message}")
