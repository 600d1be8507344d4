"""Importers: runs of MLflow, TensorBoard and Optuna into the tracker, losslessly.

[`from_optuna`][ato.tracker.importers.from_optuna],
[`from_mlflow`][ato.tracker.importers.from_mlflow] and
[`from_tensorboard`][ato.tracker.importers.from_tensorboard] (CLI: ``ato import ...``) read a
source through its own library (installed with the extras ``optuna``, ``mlflow`` and
``tensorboard``, imported only when its importer runs) and write through ``SQLLogger`` with
the recorded times. Each is idempotent and resumable (see ``ato.tracker.importers.target``)
and returns an [`ImportReport`][ato.tracker.importers.ImportReport].
"""

from .errors import ImportSourceError
from .mlflow_store import from_mlflow
from .optuna_study import from_optuna
from .report import ImportReport
from .tensorboard_logs import from_tensorboard

__all__ = ["ImportReport", "ImportSourceError", "from_mlflow", "from_optuna", "from_tensorboard"]
