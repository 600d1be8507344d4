"""Optuna: a study callback recording each finished trial as a run of an ato search.

``study.optimize(objective, callbacks=[AtoCallback(db)])``: Optuna calls it after every trial
(``callback(study, frozen_trial)``, its documented study-callback interface), and the trial is
written as `ato import optuna` would write it - the same mapping,
`ato.tracker.importers.optuna_study.trial_run`: the params are the run's config, the value as
``search/<key>``, the intermediate values as the ``<key>`` series at their steps, the state as
the run's status (``completed``, ``pruned``, ``failed``), and the tags ``search:<study name>``,
``trial:<number>``, ``mode:`` and ``metric_key:`` by which the dashboard's search page and
``ato runs best --search <study name>`` read the study; the answer they name is Optuna's
``study.best_trial``. Each run keeps the importer's ``import`` provenance section, so running
``ato import optuna`` on the same study later adds only the trials not recorded here.

Studies with several objectives log each value as ``search/<key>`` (keys from the study's
``metric_names``, else ``value_0``, ``value_1``...); the runs' ``mode:``/``metric_key:`` tags
are the first objective's, which is the one ato's answer ranks by (Optuna has a Pareto front,
``study.best_trials``, there). A trial whose objective raised without ``catch`` reaches no
callback (Optuna re-raises first) and is not recorded.

System metrics (``system_metrics=``): the callback samples the machine from its creation
until `AtoCallback.close`, on a background thread, and gives each trial's run the samples taken
between the trial's start and end (``system/...`` keys, steps 0, 1, ... within the trial,
the sample's wall-clock time as timestamp). Trials running at the same time (``n_jobs > 1``)
share the samples of the time they overlap: the readings are of the whole machine and this
process. A trial shorter than the sampling interval may get no sample.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ato.tracker import SQLLogger
from ato.tracker.importers import ImportReport
from ato.tracker.importers.optuna_study import metric_keys, study_mode, trial_run
from ato.tracker.importers.target import ImportTarget
from ato.tracker.write.system_metrics import SystemSampler, sampling_interval, start_sampler

from .frameworks import import_framework

if TYPE_CHECKING:
    import optuna
else:
    optuna = import_framework("optuna", extra="optuna", integration=__name__)

__all__ = ["AtoCallback"]

DEFAULT_DB = "sqlite:///experiments.db"


class AtoCallback:
    """Record every finished trial of the studies it is given to as runs (module docstring).

    Args:
        db: the tracker database: a SQLAlchemy URL, a SQLite file path, or an `SQLLogger`
            (its database and, unless ``project`` is given, its project); default
            ``sqlite:///experiments.db``.
        project: the project of the runs; default the logger's, else the study's name.
        metric_key: the key of the objective (a sequence of keys, one per objective, for
            several); default the study's ``metric_names``, else ``'value'``.
        system_metrics: record CPU, memory, disk, network (and GPU) metrics of each trial
            under ``system/`` (module docstring): ``True`` (every 10 s), seconds between
            samples, ``False``; ``None``: the ``ATO_SYSTEM_METRICS`` environment variable
            decides.

    Attributes:
        report: counts of what was written (runs, metric values) and trials skipped.

    Raises:
        TrackerConfigError: ``system_metrics`` is not a sampling setting.
        MissingDependencyError: system metrics are asked for and psutil is not installed;
            (at import) Optuna is not installed.
        ImportSourceError (when called): ``metric_key`` names another number of keys than the
            study has objectives.
        sqlalchemy.exc.DBAPIError (when called): the database cannot be written; the trial
            is then not recorded and Optuna stops the study with that error.
    """

    def __init__(
        self,
        db: str | SQLLogger | None = None,
        *,
        project: str | None = None,
        metric_key: str | Sequence[str] | None = None,
        system_metrics: bool | float | None = None,
    ) -> None:
        if isinstance(db, SQLLogger):
            project = project or db.project_name
            db = db.db_url
        self.db = db or DEFAULT_DB
        self.project = project
        self.metric_key = metric_key
        self.report = ImportReport("optuna")
        self._target: ImportTarget | None = None
        self._samples: list[tuple[str, float, float]] = []  # (key, value, timestamp)
        self._samples_lock = threading.Lock()
        self._sampler: SystemSampler | None = start_sampler(
            sampling_interval(system_metrics), self._keep_sample, 0
        )

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        """Write ``trial`` (finished) of ``study`` as a run."""
        keys = metric_keys(study, self.metric_key)
        project = self.project or study.study_name
        run = trial_run(optuna, trial, study.study_name, project, keys, study_mode(optuna, study))
        if self._sampler is not None and run.skip is None:
            trial_points, system = run.metrics, self._samples_of(run.start_time, run.end_time)
            run.metrics = lambda: [*trial_points(), *system]
            self._forget_samples_before(study)
        if self._target is None:
            self._target = ImportTarget(self.db, self.report)
        self._target.write(run)

    def close(self) -> None:
        """Stop sampling system metrics; flush and close the loggers (also done at
        interpreter exit)."""
        if self._sampler is not None:
            self._sampler.stop()
            self._sampler = None
        if self._target is not None:
            self._target.close()
            self._target = None

    # -- system metrics --------------------------------------------------------------------
    def _keep_sample(self, key: str, value: float, step: int, *, timestamp: float) -> None:
        with self._samples_lock:
            self._samples.append((key, value, timestamp))

    def _samples_of(self, start: Any, end: Any) -> list[tuple[str, float, int, float]]:
        """The samples taken from ``start`` to ``end`` (aware datetimes; ``None``: now), as
        metric points numbered 0, 1, ... by sample."""
        first = start.timestamp()
        last = float("inf") if end is None else end.timestamp()
        with self._samples_lock:
            taken = [sample for sample in self._samples if first <= sample[2] <= last]
        moments = sorted({timestamp for _, _, timestamp in taken})
        step_of = {moment: step for step, moment in enumerate(moments)}
        return [(key, value, step_of[moment], moment) for key, value, moment in taken]

    def _forget_samples_before(self, study: Any) -> None:
        """Drop the samples no trial still running can need."""
        running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
        starts = [t.datetime_start.timestamp() for t in running if t.datetime_start]
        with self._samples_lock:
            if not starts:
                self._samples.clear()
            else:
                oldest = min(starts)
                self._samples = [s for s in self._samples if s[2] >= oldest]
