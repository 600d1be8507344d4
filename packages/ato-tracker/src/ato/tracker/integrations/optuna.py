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
"""

from __future__ import annotations

from collections.abc import Sequence

import optuna

from ato.tracker import SQLLogger
from ato.tracker.importers import ImportReport
from ato.tracker.importers.optuna_study import metric_keys, study_mode, trial_run
from ato.tracker.importers.target import ImportTarget

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

    Attributes:
        report: counts of what was written (runs, metric values) and trials skipped.

    Raises:
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
    ) -> None:
        if isinstance(db, SQLLogger):
            project = project or db.project_name
            db = db.db_url
        self.db = db or DEFAULT_DB
        self.project = project
        self.metric_key = metric_key
        self.report = ImportReport("optuna")
        self._target: ImportTarget | None = None

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        """Write ``trial`` (finished) of ``study`` as a run."""
        keys = metric_keys(study, self.metric_key)
        project = self.project or study.study_name
        run = trial_run(optuna, trial, study.study_name, project, keys, study_mode(optuna, study))
        if self._target is None:
            self._target = ImportTarget(self.db, self.report)
        self._target.write(run)

    def close(self) -> None:
        """Flush and close the loggers (also done at interpreter exit)."""
        if self._target is not None:
            self._target.close()
            self._target = None
