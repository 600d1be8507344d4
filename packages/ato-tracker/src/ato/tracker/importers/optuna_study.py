"""Optuna studies → ato searches: each finished trial becomes a run of the search.

The mapping follows what ato-hyperopt writes, so the dashboard's search page shows the study:
each trial's run is tagged ``search:<study name>``, ``trial:<number>``, ``mode:max|min`` and
``metric_key:<key>`` (built by `trial_tags`, the one place these tags are made); its params
are the run's config; its value is logged as ``search/<key>`` and its intermediate values as
the ``<key>`` series at their steps. States (`trial_status`): ``COMPLETE`` → ``completed``;
``PRUNED`` → ``pruned`` (also tagged ``pruned``); ``FAIL`` → ``failed``; ``RUNNING`` and
``WAITING`` trials are skipped (not finished). Only ``completed`` runs can be a search's answer
(`ato.tracker.answers`), so the answer is Optuna's own ``study.best_trial``: a pruned trial's
value (Optuna keeps its last intermediate value) never wins.

The same mapping records trials as they finish: `ato.tracker.integrations.optuna.AtoCallback`
calls `trial_run` for each, so a study recorded live and one imported later look alike (and
importing it afterwards skips the trials the callback recorded).

Optuna records no time per intermediate value: every value of a trial gets the trial's
completion time (its start time when it has none). Optuna's ``datetime_start`` and
``datetime_complete`` are naive local times; they are read as such and stored in UTC.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from ..storage.normalize import to_json_value
from ..storage.search_runs import SEARCH_PREFIX, SearchRun, build_tags
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
    keys = metric_keys(loaded, metric_key)
    mode = study_mode(optuna, loaded)
    trials = loaded.get_trials(deepcopy=False)
    runs = (trial_run(optuna, trial, study, project or study, keys, mode) for trial in trials)
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


def metric_keys(study: Any, metric_key: str | Sequence[str] | None = None) -> list[str]:
    """The metric key of each objective of ``study`` (an ``optuna.Study``): ``metric_key``
    (a string for one objective, a sequence of strings for several) if given, else the
    study's ``metric_names`` when it set them, else ``'value'`` (one objective) or
    ``'value_0'``, ``'value_1'``... (several).

    Raises:
        ImportSourceError: ``metric_key`` names another number of keys than the study has
            objectives.
    """
    count = len(study.directions)
    if metric_key is not None:
        keys = [metric_key] if isinstance(metric_key, str) else [str(k) for k in metric_key]
        if len(keys) != count:
            raise ImportSourceError(
                f"metric_key names {len(keys)} key(s) but study {study.study_name!r} has "
                f"{count} objective(s); give one key per objective"
            )
        return keys
    names = getattr(study, "metric_names", None)
    if names and all(names):
        return [str(name) for name in names]
    if count == 1:
        return [DEFAULT_METRIC_KEY]
    return [f"{DEFAULT_METRIC_KEY}_{i}" for i in range(count)]


def study_mode(optuna: Any, study: Any) -> str:
    """``'max'`` or ``'min'``: the direction of ``study``'s first objective."""
    maximize = study.directions[0] == optuna.study.StudyDirection.MAXIMIZE
    return "max" if maximize else "min"


def trial_tags(study: str, number: int, mode: str, key: str) -> list[str]:
    """The tags of the run of trial ``number`` of ``study``: those by which the dashboard's
    search page and ``ato runs best --search`` read a search (see ``ato.tracker.answers``).

    Args:
        study: the study's name (the search id).
        number: the trial's number in the study.
        mode: ``'max'`` or ``'min'``, the direction of the ranked objective.
        key: the metric key of the ranked objective (its value is ``search/<key>``).
    """
    facts = SearchRun(search_id=study, trial_id=str(number), mode=mode, metric_key=key)
    return build_tags(facts)


def trial_status(optuna: Any, state: Any) -> str | None:
    """The run status of a trial in ``state`` (an ``optuna.trial.TrialState``): ``completed``,
    ``pruned`` or ``failed``; ``None`` for a trial not finished (running or waiting)."""
    states = optuna.trial.TrialState
    statuses = {
        states.COMPLETE: RunStatus.COMPLETED,
        states.PRUNED: RunStatus.PRUNED,
        states.FAIL: RunStatus.FAILED,
    }
    status = statuses.get(state)
    return None if status is None else status.value


def trial_run(
    optuna: Any, trial: Any, study: str, project: str, keys: Sequence[str], mode: str
) -> SourceRun:
    """Trial ``trial`` (an ``optuna.trial.FrozenTrial``) of study ``study`` as a run of
    ``project``, mapped as the module docstring says.

    Args:
        optuna: the ``optuna`` module.
        keys: the metric key of each objective (see `metric_keys`); intermediate values go
            to the first.
        mode: the first objective's direction (see `study_mode`).

    A trial not finished comes back with ``skip`` set (and nothing to write).
    """
    started = _utc(trial.datetime_start or trial.datetime_complete or datetime.now())
    ended = _utc(trial.datetime_complete) if trial.datetime_complete else None
    run = SourceRun(
        source=SOURCE,
        source_id=f"optuna:{study}/{trial.number}",
        project=project,
        start_time=started,
        end_time=ended,
        tags=trial_tags(study, trial.number, mode, keys[0]),
        config=dict(trial.params),
        details={
            "study": study,
            "trial": trial.number,
            "state": trial.state.name,
            "user_attrs": to_json_value(trial.user_attrs),
            "system_attrs": to_json_value(trial.system_attrs),
        },
    )
    status = trial_status(optuna, trial.state)
    if status is None:
        run.skip = f"trial {trial.number} is {trial.state.name.lower()}, not finished"
        return run
    run.status = status
    if status == RunStatus.PRUNED:
        run.tags.append("pruned")
    moment = (ended or started).timestamp()
    run.metrics = lambda: _points(trial, keys, moment)
    return run


def _points(trial: Any, keys: Sequence[str], moment: float) -> Iterator[MetricPoint]:
    for step, value in sorted(trial.intermediate_values.items()):
        yield keys[0], value, step, moment
    for key, value in zip(keys, trial.values or (), strict=False):
        if value is not None:
            yield SEARCH_PREFIX + key, value, None, moment


def _utc(moment: datetime) -> datetime:
    """Optuna's naive local time as an aware UTC one."""
    return moment.astimezone() if moment.tzinfo is None else moment


def _no_error(error: BaseException) -> BaseException:
    return error


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__
