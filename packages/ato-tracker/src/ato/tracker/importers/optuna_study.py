"""Optuna studies → ato searches: each finished trial becomes a run of the search.

The mapping follows what ato-hyperopt writes, so the dashboard's search page shows the study:
each trial's run is tagged ``search:<study name>``, ``trial:<number>``, ``mode:max|min`` and
``metric_key:<key>``; its params are the run's config; its value is logged as
``search/<key>`` and its intermediate values as the ``<key>`` series at their steps. States:
``COMPLETE`` → ``completed``; ``PRUNED`` → ``completed`` with the tag ``pruned`` (the tracker
has no status of its own for a stopped trial; ato-hyperopt counts such trials as finished);
``FAIL`` → ``failed``; ``RUNNING`` and ``WAITING`` trials are skipped (not finished).

Optuna records no time per intermediate value: every value of a trial gets the trial's
completion time (its start time when it has none). Optuna's ``datetime_start`` and
``datetime_complete`` are naive local times; they are read as such and stored in UTC.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from ..storage.normalize import to_json_value
from ..storage.statuses import RunStatus
from .dependencies import require
from .errors import ImportSourceError
from .progress import progress_bar
from .report import ImportReport
from .source import MetricPoint, SourceRun
from .target import import_runs

SOURCE = "optuna"
DEFAULT_METRIC_KEY = "value"


def from_optuna(
    storage: str,
    study: str,
    db: str,
    *,
    project: str | None = None,
    metric_key: str | None = None,
    show_progress: bool | None = None,
) -> ImportReport:
    """Import the Optuna study ``study`` of ``storage`` into the tracker database ``db`` as an
    ato search (the mapping is in the module docstring).

    Args:
        storage: Optuna storage URL, e.g. ``'sqlite:///optuna.db'`` or
            ``'postgresql+psycopg://user@host/optuna'`` (what ``optuna.load_study`` takes).
        study: the study's name.
        db: the tracker database: a SQLAlchemy URL or a SQLite file path.
        project: the tracker project (default: the study's name).
        metric_key: the key the study's objective is logged under (default: the study's
            metric name if it set one with ``set_metric_names``, else ``'value'``).
        show_progress: show a progress bar (default: when standard error is a terminal).

    Returns:
        The counts: runs (one per finished trial), metric values, skipped trials with why.

    Raises:
        MissingDependencyError: Optuna is not installed (``pip install 'ato-tracker[optuna]'``).
        ImportSourceError: the storage cannot be opened, the SQLite file does not exist, the
            study does not exist (the message lists those that do), or it has several
            objectives. Nothing is written then.
        sqlalchemy.exc.DBAPIError: the tracker database cannot be written (runs imported
            completely so far are kept; importing again goes on from there).

    Importing the same study again writes only trials not imported before (each run keeps
    ``optuna:<study>/<trial number>`` in ``provenance.import.id``).
    """
    optuna = _optuna()
    loaded = _load_study(optuna, storage, study)
    if len(loaded.directions) != 1:
        raise ImportSourceError(
            f"Optuna study {study!r} has {len(loaded.directions)} objectives; only "
            "single-objective studies map to an ato search"
        )
    names = getattr(loaded, "metric_names", None)
    key = metric_key or (names[0] if names and names[0] else DEFAULT_METRIC_KEY)
    mode = "max" if loaded.direction == optuna.study.StudyDirection.MAXIMIZE else "min"
    trials = loaded.get_trials(deepcopy=False)
    runs = (_trial_run(optuna, trial, study, project or study, key, mode) for trial in trials)
    report = ImportReport(SOURCE)
    bar = progress_bar(f"optuna trials of {study}", len(trials), show_progress)
    return import_runs(db, report, runs, (), _no_error, bar)


def _optuna() -> Any:
    return require("optuna", "optuna", "ato import optuna")


def _load_study(optuna: Any, storage: str, study: str) -> Any:
    _check_sqlite_file(storage)
    try:
        return optuna.load_study(study_name=study, storage=storage)
    except KeyError:
        names = _study_names(optuna, storage)
        raise ImportSourceError(
            f"no Optuna study named {study!r} in {storage!r}; studies there: "
            f"{', '.join(map(repr, names)) or 'none'}"
        ) from None
    except Exception as error:  # a bad URL, an unreachable server, not an Optuna database
        raise ImportSourceError(
            f"cannot open the Optuna storage {storage!r}: {_first_line(error)}"
        ) from error


def _check_sqlite_file(storage: str) -> None:
    """Optuna would create a missing SQLite file: refuse that instead."""
    prefix = "sqlite:///"
    if storage.startswith(prefix) and storage != prefix + ":memory:":
        path = storage[len(prefix) :].split("?", 1)[0]
        if not os.path.isfile(path):
            raise ImportSourceError(
                f"the Optuna storage {storage!r} names the SQLite file {path!r}, which does "
                "not exist; check the path (sqlite:////abs/path for an absolute one)"
            )


def _study_names(optuna: Any, storage: str) -> list[str]:
    return sorted(s.study_name for s in optuna.get_all_study_summaries(storage))


def _trial_run(optuna: Any, trial: Any, study: str, project: str, key: str, mode: str) -> SourceRun:
    states = optuna.trial.TrialState
    state = trial.state
    started = _utc(trial.datetime_start or trial.datetime_complete or datetime.now())
    ended = _utc(trial.datetime_complete) if trial.datetime_complete else None
    tags = [f"search:{study}", f"trial:{trial.number}", f"mode:{mode}", f"metric_key:{key}"]
    run = SourceRun(
        source=SOURCE,
        source_id=f"optuna:{study}/{trial.number}",
        project=project,
        start_time=started,
        end_time=ended,
        tags=tags,
        config=dict(trial.params),
        details={
            "study": study,
            "trial": trial.number,
            "state": state.name,
            "user_attrs": to_json_value(trial.user_attrs),
            "system_attrs": to_json_value(trial.system_attrs),
        },
    )
    if state in (states.RUNNING, states.WAITING):
        run.skip = f"trial {trial.number} is {state.name.lower()}, not finished"
        return run
    run.status = (RunStatus.FAILED if state == states.FAIL else RunStatus.COMPLETED).value
    if state == states.PRUNED:
        run.tags.append("pruned")
    moment = (ended or started).timestamp()
    run.metrics = lambda: _points(trial, key, moment)
    return run


def _points(trial: Any, key: str, moment: float) -> Iterator[MetricPoint]:
    for step, value in sorted(trial.intermediate_values.items()):
        yield key, value, step, moment
    if trial.value is not None:
        yield f"search/{key}", trial.value, None, moment


def _utc(moment: datetime) -> datetime:
    """Optuna's naive local time as an aware UTC one."""
    return moment.astimezone() if moment.tzinfo is None else moment


def _no_error(error: BaseException) -> BaseException:
    return error


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__
