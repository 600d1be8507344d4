"""Keras 3: a ``keras.callbacks.Callback`` recording ``Model.fit`` as an ato run.

``model.fit(..., callbacks=[AtoCallback(...)])`` on any Keras 3 backend (tested with
``KERAS_BACKEND=torch``). At the end of each epoch it logs the epoch's logs at ``step`` = the
epoch (0-based) with the dataset in the key: ``train/<metric>`` for the training metrics and
``validation/<metric>`` for Keras's ``val_<metric>`` (``loss`` → ``train/loss``,
``val_accuracy`` → ``validation/accuracy``). The run's config holds, under ``keras``, the fit
parameters Keras gives callbacks (``epochs``, ``steps``), the model's name and parameter
count, and the optimizer's config. When training ends it logs ``best_iteration`` (the best
epoch, 0-based) and ``best/<key>`` for the monitored metric (``val_loss`` when validating,
else ``loss``). The interface is Keras's documented ``Callback`` (``on_train_begin``,
``on_epoch_end``, ``on_train_end``). Keras does not call ``on_train_end`` when ``fit`` raises:
such a run stays ``running`` and readers show it ``crashed`` once its heartbeat stops.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ato.tracker import SQLLogger

from .frameworks import import_framework
from .trainrun import TrainingRun

if TYPE_CHECKING:
    import keras
else:
    keras = import_framework("keras", extra="keras", integration=__name__)

__all__ = ["AtoCallback", "metric_key"]

VALIDATION_PREFIX = "val_"
_MAXIMISED = ("acc", "auc", "precision", "recall", "f1", "iou")


def metric_key(name: str) -> str:
    """The ato key of the Keras log entry ``name``: ``val_<m>`` → ``validation/<m>``, any
    other → ``train/<name>``."""
    if name.startswith(VALIDATION_PREFIX):
        return "validation/" + name[len(VALIDATION_PREFIX) :]
    return "train/" + name


class AtoCallback(keras.callbacks.Callback):
    """Record ``Model.fit`` as an ato run (see the module docstring).

    Args:
        logger: an `SQLLogger`; when its run is running the metrics go there (the run stays
            open), else a run is started at ``on_train_begin`` and finished at
            ``on_train_end``. ``None``: a logger for ``project`` in ``db``.
        db: SQLAlchemy URL or SQLite path (default ``sqlite:///experiments.db``), without
            ``logger``.
        project: project name (default ``'keras'``), without ``logger``.
        config: your own config, stored with the run beside ``keras``.
        tags: tags of the run started here.
        monitor: the Keras log name whose best epoch is recorded (``'val_loss'``...);
            default ``val_loss`` when validating, else ``loss``.
        mode: ``'min'``/``'max'`` for ``monitor``; default ``max`` for accuracy, AUC,
            precision, recall, F1 and IoU metrics (as Keras's ``EarlyStopping`` guesses),
            else ``min``.
        system_metrics: sample CPU, memory, disk, network (and GPU) metrics under
            ``system/`` while the run is active: ``True`` (every 10 s), seconds between
            samples, ``False``; ``None``: the ``ATO_SYSTEM_METRICS`` environment variable
            decides. Without ``logger`` only (a logger has its own setting).

    Raises:
        TrackerConfigError: ``logger`` given together with ``db``/``project`` or
            ``system_metrics``, or a bad ``mode``.
        MissingDependencyError: (at import) Keras is not installed.
    """

    def __init__(
        self,
        logger: SQLLogger | None = None,
        *,
        db: str | None = None,
        project: str | None = None,
        config: Any = None,
        tags: Any = None,
        monitor: str | None = None,
        mode: str | None = None,
        system_metrics: bool | float | None = None,
    ) -> None:
        super().__init__()
        self.run = TrainingRun(
            "keras", logger, db, project, tags, config, system_metrics, None, mode
        )
        self.monitor = monitor

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        """Start the run with the fit parameters, model and optimizer."""
        self.run.start(self._params())

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        """Log the epoch's logs at ``step=epoch``."""
        if not logs:
            return
        log = self.run.logger.log_metric
        keys = self.run.keys
        for name, value in logs.items():
            key = keys.get(name)
            if key is None:
                key = keys[name] = metric_key(name)
            log(key, float(value), epoch)
        monitor = self.monitor or ("val_loss" if "val_loss" in logs else "loss")
        if monitor in logs:
            higher = any(part in monitor for part in _MAXIMISED)
            self.run.best.offer(keys[monitor], float(logs[monitor]), epoch, higher)

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        """Log the best epoch and finish the run."""
        self.run.finish()

    def _params(self) -> dict[str, Any]:
        model = self.model
        params: dict[str, Any] = {"fit": _plain(dict(self.params or {}))}
        params["model"] = {"name": model.name, "params": int(model.count_params())}
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None:
            params["optimizer"] = {"class": type(optimizer).__name__}
            params["optimizer"].update(_plain(optimizer.get_config()))
        return params


def _plain(value: Any) -> Any:
    """``value`` with only JSON types: numbers as float/int, unknown objects as text."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return number if math.isfinite(number) else str(number)
