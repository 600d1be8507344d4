"""XGBoost: an ``xgboost.callback.TrainingCallback`` recording a training as an ato run.

Pass it to ``xgboost.train(..., callbacks=[AtoCallback(...)])`` or to the scikit-learn
estimators (``XGBClassifier(callbacks=[...])``). After each boosting round it logs every
evaluation result under ``<dataset>/<metric>`` (the names given in ``evals``, e.g.
``validation_0/logloss``) at ``step`` = the round (0-based); the training parameters are the
run's config (under ``xgboost``); at the end it logs ``best_iteration`` and
``best/<dataset>/<metric>`` - XGBoost's own when early stopping set them, else the best round
of the monitored metric (by default the last metric of the last dataset, the one XGBoost's
early stopping watches). The interface is XGBoost's documented ``TrainingCallback``
(``before_training``, ``after_iteration``, ``after_training``). With ``xgboost.cv`` the model
passed is not a ``Booster``: only the metrics are recorded, not the parameters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ato.tracker import SQLLogger
from ato.tracker.importers.params import typed

from .frameworks import import_framework
from .trainrun import TrainingRun

if TYPE_CHECKING:
    import xgboost
else:
    xgboost = import_framework("xgboost", extra="xgboost", integration=__name__)

__all__ = ["AtoCallback"]

# Sections of ``Booster.save_config()`` holding the parameters a user sets.
_PARAM_SECTIONS = (
    ("learner", "generic_param"),
    ("learner", "learner_train_param"),
    ("learner", "gradient_booster", "gbtree_train_param"),
    ("learner", "gradient_booster", "tree_train_param"),
    ("learner", "gradient_booster", "gblinear_train_param"),
    ("learner", "gradient_booster", "updater", "linear_train_param"),
)


class AtoCallback(xgboost.callback.TrainingCallback):
    """Record an XGBoost training as an ato run (see the module docstring).

    Args:
        logger: an `SQLLogger`; when its run is running the metrics go there (the run stays
            open), else a run is started and finished here. ``None``: a logger for
            ``project`` in ``db``.
        db: SQLAlchemy URL or SQLite path (default ``sqlite:///experiments.db``), without
            ``logger``.
        project: project name (default ``'xgboost'``), without ``logger``.
        params: the parameters given to ``xgboost.train``, stored exactly as given; ``None``:
            read back from the booster (``Booster.save_config()``; XGBoost keeps floats in
            single precision there, e.g. ``eta`` 0.3 reads back as 0.300000012).
        config: your own config, stored with the run beside ``xgboost``.
        tags: tags of the run started here.
        monitor: ``'<dataset>/<metric>'`` whose best round is recorded when early stopping
            did not set one; default the last metric of the last dataset.
        mode: ``'min'``/``'max'`` for ``monitor``; default from the metric's name (``auc``,
            ``map``, ``ndcg``, ``aucpr``, ``pre`` are maximised, others minimised).
        system_metrics: sample CPU, memory, disk, network (and GPU) metrics under
            ``system/`` while the run is active: ``True`` (every 10 s), seconds between
            samples, ``False``; ``None``: the ``ATO_SYSTEM_METRICS`` environment variable
            decides. Without ``logger`` only (a logger has its own setting).

    Raises:
        TrackerConfigError: ``logger`` given together with ``db``/``project`` or
            ``system_metrics``, or a bad ``mode``.
        MissingDependencyError: (at import) XGBoost is not installed.
    """

    def __init__(
        self,
        logger: SQLLogger | None = None,
        *,
        db: str | None = None,
        project: str | None = None,
        params: Mapping[str, Any] | None = None,
        config: Any = None,
        tags: Any = None,
        monitor: str | None = None,
        mode: str | None = None,
        system_metrics: bool | float | None = None,
    ) -> None:
        super().__init__()
        self.run = TrainingRun(
            "xgboost", logger, db, project, tags, config, system_metrics, monitor, mode
        )
        self.params = None if params is None else dict(params)

    def before_training(self, model: Any) -> Any:
        """Start the run with the training parameters; returns ``model`` unchanged."""
        params = self.params if self.params is not None else booster_params(model)
        self.run.start(params)
        return model

    def after_iteration(self, model: Any, epoch: int, evals_log: Mapping[str, Any]) -> bool:
        """Log round ``epoch``'s latest evaluation results; never asks to stop (False)."""
        log = self.run.logger.log_metric
        keys = self.run.keys
        watched = self.run.monitor
        latest: tuple[str, str, float] | None = None
        for dataset, metrics in evals_log.items():
            for metric, history in metrics.items():
                value = history[-1]
                if isinstance(value, tuple):  # xgboost.cv: (mean, std)
                    value = value[0]
                key = keys.get((dataset, metric))
                if key is None:
                    key = keys[(dataset, metric)] = f"{dataset}/{metric}"
                log(key, value, epoch)
                if watched is None or key == watched:
                    latest = (key, metric, value)
        if latest is not None:  # the monitored metric, by default the last one logged
            key, metric, value = latest
            self.run.best.offer(key, float(value), epoch, _maximised(metric))
        return False

    def after_training(self, model: Any) -> Any:
        """Log the best round and finish the run; returns ``model`` unchanged."""
        step, value = _early_stopping_best(model)
        self.run.finish("completed", step, value)
        return model


def booster_params(model: Any) -> dict[str, Any]:
    """The user-settable parameters of ``model`` (an ``xgboost.Booster``) from its saved
    config, typed (``'2'`` → 2), flat; ``{}`` for anything else (e.g. ``xgboost.cv``'s)."""
    if not isinstance(model, xgboost.Booster):
        return {}
    saved = json.loads(model.save_config())
    params: dict[str, Any] = {}
    for path in _PARAM_SECTIONS:
        section: Any = saved
        for part in path:
            section = section.get(part, {}) if isinstance(section, Mapping) else {}
        if isinstance(section, list):  # the updaters: a list of sections
            section = {}
        params.update({k: typed(v) if isinstance(v, str) else v for k, v in section.items()})
    metrics = saved.get("learner", {}).get("metrics", [])
    params["eval_metric"] = [m.get("name") for m in metrics]
    return params


def _maximised(metric: str) -> bool:
    """XGBoost's own rule (its EarlyStopping): these metrics are maximised."""
    name = metric.split("@", 1)[0]
    return name in ("auc", "aucpr", "map", "ndcg", "pre") or name.startswith("auc")


def _early_stopping_best(model: Any) -> tuple[int | None, float | None]:
    attr = getattr(model, "attr", None)
    if not callable(attr) or attr("best_iteration") is None:
        return None, None
    score = attr("best_score")
    return int(attr("best_iteration")), None if score is None else float(score)
