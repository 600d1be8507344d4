"""The run a training callback (Keras, XGBoost, LightGBM) logs into, and its best step.

Shared by `ato.tracker.integrations.keras`, `ato.tracker.integrations.xgboost` and
`ato.tracker.integrations.lightgbm`; uses only the tracker's public API (`SQLLogger`).

A callback either starts a run of its own when training starts (and finishes it when training
ends) or, given a logger whose run is still running, logs into that run and leaves it open;
the framework's parameters are then stored in the run's provenance under the framework's name
instead of its config (a run's config is fixed when it starts).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ato.tracker import SQLLogger, TrackerConfigError, normalize_config

DEFAULT_DB = "sqlite:///experiments.db"
RUNNING = "running"
#: Metric key of the step at which the monitored metric was best (no step of its own).
BEST_STEP_KEY = "best_iteration"
#: Prefix of the monitored metric's best value (``best/<key>``).
BEST_PREFIX = "best/"


class TrainingRun:
    """The run one training callback writes, and the best step of its monitored metric.

    Args:
        framework: the framework's name (``'keras'``...), for provenance and messages.
        logger: an `SQLLogger` to write with; ``None``: one made from ``db`` and ``project``.
        db: SQLAlchemy URL (or SQLite file path) when no logger is given; default
            ``sqlite:///experiments.db``.
        project: project name when no logger is given; default ``framework``.
        tags: tags of a run this callback starts (a list of strings or one string).
        config: the user's config (mapping, ADict, dataclass...) stored with a run this
            callback starts, with the framework's parameters added under ``framework``.
        system_metrics: for the logger made here: ``True`` (every 10 s), seconds between
            samples, ``False``, or ``None`` (the ``ATO_SYSTEM_METRICS`` environment variable
            decides); see `ato.tracker.SQLLogger`.
        monitor: the metric key whose best step is recorded (``None``: the first key
            `BestStep.offer` is given).
        mode: ``'min'``/``'max'`` for ``monitor``; ``None``: the framework's direction.

    Attributes:
        best: the `BestStep` of the current training (new at each `start`).
        keys: the callback's cache of metric keys by framework name (its own to fill).

    Raises:
        TrackerConfigError: ``logger`` is given together with ``db``/``project`` or
            ``system_metrics`` (the logger has its own), or ``mode`` is not min/max.
    """

    def __init__(
        self,
        framework: str,
        logger: SQLLogger | None = None,
        db: str | None = None,
        project: str | None = None,
        tags: Any = None,
        config: Any = None,
        system_metrics: bool | float | None = None,
        monitor: str | None = None,
        mode: str | None = None,
    ) -> None:
        if logger is not None and (db is not None or project is not None):
            raise TrackerConfigError(
                f"the {framework} callback takes either logger= or db=/project=, not both; "
                "the logger already names its database and project"
            )
        if logger is not None and system_metrics is not None:
            raise TrackerConfigError(
                f"the {framework} callback takes system_metrics= only without logger=; give "
                "it to the logger instead: SQLLogger(..., system_metrics=True)"
            )
        self.framework = framework
        self._logger = logger
        self._db = db or DEFAULT_DB
        self._project = project or framework
        self._system_metrics = system_metrics
        self.tags = tags
        self.config = config
        self.monitor = monitor
        self.mode = mode
        self.best = BestStep(monitor, mode)
        self.keys: dict[Any, str] = {}
        self.owns_run = False
        self.run_id: int | None = None

    @property
    def logger(self) -> SQLLogger:
        """The `SQLLogger` written with (made on first use when none was given)."""
        if self._logger is None:
            self._logger = SQLLogger.from_url(
                self._db, self._project, system_metrics=self._system_metrics
            )
        return self._logger

    def start(self, params: Mapping[str, Any]) -> int:
        """Start the run (or join the logger's running run) with the framework's ``params``
        (JSON-like); the best step starts anew. Returns the run id."""
        self.best = BestStep(self.monitor, self.mode)
        logger = self.logger
        current = logger.get_current_run() if logger.get_current_run_id() is not None else None
        if current is not None and current.status == RUNNING:
            self.owns_run = False
            self.run_id = current.id
            logger.add_provenance(self.framework, dict(params))
            return current.id
        config = _as_dict(self.config)
        config[self.framework] = dict(params)
        self.run_id = logger.run(tags=self.tags, config=config)
        self.owns_run = True
        return self.run_id

    def finish(
        self, status: str = "completed", best_step: int | None = None, best: float | None = None
    ) -> None:
        """Log the best step (``best_step``/``best`` when the framework reported them, e.g.
        its early stopping, else the best seen), then flush, and finish the run as
        ``status`` if this callback started it. Harmless when no run is open."""
        if self.run_id is None:
            return
        self.best.log(self.logger, best_step, best)
        if self.owns_run:
            self.logger.finish(status)
        else:
            self.logger.flush()
        self.run_id = None


class BestStep:
    """The step with the best value of one monitored metric key.

    Args:
        key: the metric key to watch (``None``: the first key `offer` sees with a direction).
        mode: ``'min'`` or ``'max'``; ``None``: from the framework (`offer`'s ``higher``).
    """

    def __init__(self, key: str | None = None, mode: str | None = None) -> None:
        if mode not in (None, "min", "max"):
            raise TrackerConfigError(f"mode must be 'min' or 'max', got {mode!r}")
        self.key = key
        self.mode = mode
        self.step: int | None = None
        self.value: float | None = None

    def offer(self, key: str, value: float, step: int, higher: bool | None = None) -> None:
        """Consider ``value`` of ``key`` at ``step``; ``higher`` says whether higher is better
        when the framework knows (used unless ``mode`` was given). Earlier steps win ties;
        NaN never wins."""
        if self.key is None:
            self.key = key
        if key != self.key or math.isnan(value):
            return
        if self.mode is None:
            self.mode = "max" if higher else "min"
        better = self.value is None or (
            value > self.value if self.mode == "max" else value < self.value
        )
        if better:
            self.step, self.value = step, value

    def log(self, logger: SQLLogger, step: int | None = None, value: float | None = None) -> None:
        """Log ``best_iteration`` and ``best/<key>`` (no step): ``step``/``value`` when the
        framework reported them (e.g. its early stopping), else the best seen."""
        step = self.step if step is None else step
        value = self.value if value is None else value
        if step is None:
            return
        logger.log_metric(BEST_STEP_KEY, step)
        if value is not None and self.key is not None:
            logger.log_metric(BEST_PREFIX + self.key, value)


def _as_dict(config: Any) -> dict[str, Any]:
    """The user's config as a plain dict (empty for ``None``)."""
    if config is None:
        return {}
    normalized = normalize_config(config)
    if not isinstance(normalized, dict):
        raise TrackerConfigError(
            f"config must be a mapping, ADict, OmegaConf config or dataclass, got "
            f"{type(config).__name__}"
        )
    return dict(normalized)
