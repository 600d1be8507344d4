"""LightGBM: a callback (LightGBM's callable interface) recording a training as an ato run.

``lightgbm.train(..., callbacks=[ato_callback(...)])`` (or ``LGBMModel.fit(callbacks=...)``):
LightGBM calls it after each boosting round with a ``CallbackEnv``; it logs every evaluation
result under ``<dataset>/<metric>`` (the ``valid_names``, e.g. ``valid_0/l2``) at ``step`` =
the round (0-based); LightGBM's parameters are the run's config (under ``lightgbm``).

LightGBM tells a callback neither that training started nor that it ended, so the run starts
at the first round and ends at the last round scheduled, logging ``best_iteration`` (0-based,
like the steps) and ``best/<dataset>/<metric>``: the best round of the monitored metric (by
default the first metric of the first validation set, in LightGBM's own direction for it).
When early stopping ends training sooner, the run ends when `AtoLightGBMCallback.finish` is
called, when a ``with`` block around the training exits, or when the next training with the
same callback starts, whichever comes first; `finish` reads LightGBM's own
``booster.best_iteration`` then. The callback runs with ``order = 25``: after LightGBM's
``record_evaluation`` (20), before ``early_stopping`` (30), so the round at which early
stopping stops is logged too.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

from ato.tracker import SQLLogger

from .frameworks import require_installed
from .trainrun import TrainingRun

require_installed("lightgbm", "lightgbm", __name__)  # checked, not imported: no base class

__all__ = ["AtoLightGBMCallback", "ato_callback"]

#: Position among LightGBM's callbacks (record_evaluation: 20, early_stopping: 30).
ORDER = 25


class AtoLightGBMCallback:
    """A LightGBM callback recording each training as an ato run (see the module docstring);
    `ato_callback` is its short name.

    Args:
        logger: an `SQLLogger`; when its run is running the metrics go there (the run stays
            open), else a run is started and finished by the callback. ``None``: a logger for
            ``project`` in ``db``.
        db: SQLAlchemy URL or SQLite path (default ``sqlite:///experiments.db``), without
            ``logger``.
        project: project name (default ``'lightgbm'``), without ``logger``.
        config: your own config, stored with the run beside ``lightgbm``.
        tags: tags of the runs started by the callback.
        monitor: ``'<dataset>/<metric>'`` whose best round is recorded; default the first
            metric of the first validation set.
        mode: ``'min'``/``'max'`` for ``monitor``; default LightGBM's direction for it.
        system_metrics: sample CPU, memory, disk, network (and GPU) metrics under
            ``system/`` while the run is active: ``True`` (every 10 s), seconds between
            samples, ``False``; ``None``: the ``ATO_SYSTEM_METRICS`` environment variable
            decides. Without ``logger`` only (a logger has its own setting).

    The callback is a callable for ``callbacks=[...]`` and a context manager (its exit
    finishes the run: ``failed`` when an exception escapes).

    Raises:
        TrackerConfigError: ``logger`` given together with ``db``/``project`` or
            ``system_metrics``, or a bad ``mode``.
        MissingDependencyError: (at import) LightGBM is not installed.
    """

    order = ORDER
    before_iteration = False

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
        self.run = TrainingRun(
            "lightgbm", logger, db, project, tags, config, system_metrics, monitor, mode
        )
        self._booster: Any = None
        self._train_name = "training"

    def __call__(self, env: Any) -> None:
        """Log round ``env.iteration``'s evaluation results (start the run at the first
        round; finish it at the last one scheduled)."""
        if env.iteration == env.begin_iteration or self.run.run_id is None:
            self._begin(env)
        log = self.run.logger.log_metric
        step = env.iteration
        keys = self.run.keys
        best = self.run.best
        for result in env.evaluation_result_list or ():
            dataset, metric, value = result[0], result[1], result[2]
            key = keys.get((dataset, metric))
            if key is None:
                key = keys[(dataset, metric)] = f"{dataset}/{metric}"
            log(key, value, step)
            if key == best.key or (best.key is None and dataset != self._train_name):
                best.offer(key, float(value), step, bool(result[3]))
        if env.iteration == env.end_iteration - 1:
            self.finish()

    def _begin(self, env: Any) -> None:
        if self.run.run_id is not None:  # the previous training stopped early
            self.finish()
        self._booster = env.model
        self._train_name = getattr(env.model, "_train_data_name", "training")
        self.run.start(_json_params(env.params))

    def finish(self, status: str = "completed") -> None:
        """Log the best round and finish the run as ``status`` (harmless when finished).
        After ``lightgbm.train`` returned, LightGBM's own ``best_iteration`` (set by early
        stopping) is the one recorded."""
        if self.run.run_id is None:
            return
        step, value = self._booster_best()
        self.run.finish(status, step, value)
        self._booster = None

    def _booster_best(self) -> tuple[int | None, float | None]:
        booster = self._booster
        best = getattr(booster, "best_iteration", 0) or 0
        key = self.run.best.key
        if best <= 0 or key is None:
            return None, None
        dataset, _, metric = key.rpartition("/")
        score = getattr(booster, "best_score", {}).get(dataset, {}).get(metric)
        return best - 1, None if score is None else float(score)

    def __enter__(self) -> AtoLightGBMCallback:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.finish("completed" if kind is None else "failed")


#: ``ato_callback(...)``: the callback (arguments at `AtoLightGBMCallback`), by its short name.
ato_callback = AtoLightGBMCallback


def _json_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """LightGBM's parameters, callables (a custom objective) as their names."""
    return {
        str(k): getattr(v, "__name__", repr(v)) if callable(v) else v for k, v in params.items()
    }
