"""A Hugging Face ``Trainer`` callback that records a training as an ato run.

Usage::

    from transformers import Trainer
    from ato.tracker.integrations.transformers import AtoCallback

    trainer = Trainer(model=model, args=args, train_dataset=train,
                      callbacks=[AtoCallback("sqlite:///experiments.db", project="bert")])
    trainer.train()

Implements the documented ``transformers.TrainerCallback`` events ``on_train_begin``,
``on_log``, ``on_save`` and ``on_train_end``. Imports ``transformers`` (install
``ato-tracker[transformers]``); nothing else in [`ato.tracker`][ato.tracker] imports this
module. Only the world's main process (``state.is_world_process_zero``) opens the database
and writes; under ``torchrun`` the other processes' callbacks do nothing.
"""

from __future__ import annotations

import atexit
import numbers
import os
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ato.tracker import SQLLogger

from .frameworks import import_framework

if TYPE_CHECKING:
    from transformers import TrainerCallback
else:
    TrainerCallback = import_framework(
        "transformers", extra="transformers", integration=__name__
    ).TrainerCallback

__all__ = ["AtoCallback"]

_OPEN: weakref.WeakSet[AtoCallback] = weakref.WeakSet()  # callbacks with a run still running


class AtoCallback(TrainerCallback):
    """Record a ``Trainer``'s training as an ato run: config, logged metrics, checkpoints.

    Args:
        db_url: the tracker database, a SQLAlchemy URL (``sqlite:///experiments.db``,
            ``postgresql+psycopg://user@host/db``, ``mysql+pymysql://user@host/db``) or a
            SQLite file path.
        project: the project name.
        tags: labels stored with the run (a string or a list of strings).
        log_checkpoints: record each checkpoint folder the Trainer saves
            (``output_dir/checkpoint-<step>``) as it is saved, file by file, as artifacts of
            type ``'checkpoint'`` named ``checkpoint-<step>/<file>``.
        copy_checkpoints: ``True`` (default) stores the recorded files: copied into the
            database's artifact store (SHA-256 addressed; they survive the Trainer's
            ``save_total_limit`` deleting the folder, and ``ato runs get RUN NAME`` fetches
            them). ``False`` references them: path, size and SHA-256 only. A server database
            without an artifact store (``artifact_root=``/``$ATO_ARTIFACT_ROOT``) can only
            reference; a warning says so.
        system_metrics: sample CPU, memory, disk, network (and GPU) metrics under
            ``system/`` while the run is active: ``True`` (every 10 s), seconds between
            samples, ``False``; ``None``: the ``ATO_SYSTEM_METRICS`` environment variable
            decides.
        **logger_options: passed to `ato.tracker.SQLLogger.from_url` (``batch_size``,
            ``flush_interval``, timeouts, ``artifact_root``...).

    The run starts at ``on_train_begin`` (or at the first ``on_log``, for an
    ``evaluate()`` without training) with the config ``{"training_args": ...,
    "model_config": ...}`` (``TrainingArguments.to_sanitized_dict()`` and the model's
    ``config.to_dict()``). Every number of ``on_log`` (the training loss, learning rate,
    gradient norm, and the ``eval_``-prefixed metrics of each evaluation) is stored at
    ``state.global_step``; text values are skipped, and so is a value logged again for the
    same key and step (the ``epoch`` the Trainer repeats with each evaluation). ``on_train_end`` finishes the run
    ``'completed'``; a training that raises never reaches it, and its run is finished
    ``'failed'`` at interpreter exit (``'killed'`` on SIGTERM, by the tracker). Metrics
    logged after the run finished (``trainer.evaluate()`` after ``train()``) start a new run
    with the same config, as MLflow's callback for transformers does.

    Attributes:
        logger: the [`SQLLogger`][ato.tracker.SQLLogger] of the current run on the main
            process, else ``None``.
        run_id: the id of the last run started (``None`` before, and on other processes).
    """

    def __init__(
        self,
        db_url: str = "sqlite:///experiments.db",
        project: str = "transformers",
        *,
        tags: Any = None,
        log_checkpoints: bool = False,
        copy_checkpoints: bool = True,
        system_metrics: bool | float | None = None,
        **logger_options: Any,
    ) -> None:
        self._db_url = str(db_url)
        self._project = project
        self._tags = tags
        self._log_checkpoints = bool(log_checkpoints)
        self._copy_checkpoints = bool(copy_checkpoints)
        self._options = {**logger_options, "system_metrics": system_metrics}
        self._config: dict[str, Any] | None = None
        self._last: dict[str, tuple[int, Any]] = {}  # key -> (step, value) stored last
        self.logger: SQLLogger | None = None
        self.run_id: int | None = None

    # -- events ----------------------------------------------------------------------
    def on_train_begin(
        self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any
    ) -> None:
        """Start the run (main process only) with the training arguments and model config."""
        if state.is_world_process_zero:
            self._config = _config(args, model)
            self._start()

    def on_log(
        self,
        args: Any,
        state: Any,
        control: Any,
        logs: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Store the numbers of ``logs`` at ``state.global_step`` (main process only)."""
        if not state.is_world_process_zero or not logs:
            return
        if self._config is None:
            self._config = _config(args, kwargs.get("model"))
        logger = self._start()
        step = state.global_step
        for key, value in logs.items():
            if not isinstance(value, numbers.Real) or isinstance(value, bool):
                continue
            if self._last.get(key) == (step, value):
                continue  # ``epoch`` comes again with the evaluation of the same step
            self._last[key] = (step, value)
            logger.log_metric(key, value, step)

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Record the checkpoint folder just saved, with ``log_checkpoints=True``."""
        if not (self._log_checkpoints and state.is_world_process_zero):
            return
        folder = os.path.join(args.output_dir, f"checkpoint-{state.global_step}")
        if os.path.isdir(folder):
            metadata = {"step": state.global_step, "best": state.best_model_checkpoint == folder}
            self._start().log_artifact(
                folder, data_type="checkpoint", metadata=metadata, copy=self._copy_checkpoints
            )

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Finish the run ``'completed'`` (main process only)."""
        if state.is_world_process_zero:
            self.finish("completed")

    # -- the run ---------------------------------------------------------------------
    def finish(self, status: str = "completed") -> None:
        """Finish the current run with ``status`` and close its connection; harmless when
        no run is open.

        Raises:
            InvalidStatusError: ``status`` is empty or longer than 32 characters.
        """
        logger, self.logger = self.logger, None
        _OPEN.discard(self)
        if logger is not None:
            logger.finish(status)
            logger.close()

    def _start(self) -> SQLLogger:
        if self.logger is None:
            logger = SQLLogger.from_url(self._db_url, self._project, **self._options)
            self.run_id = logger.run(tags=self._tags, config=self._config)
            self.logger = logger
            self._last = {}
            _OPEN.add(self)
        return self.logger


def _config(args: Any, model: Any) -> dict[str, Any]:
    """The run's config: the training arguments and, when the model has one, its config."""
    config: dict[str, Any] = {"training_args": args.to_sanitized_dict()}
    model_config = getattr(model, "config", None)
    if model_config is not None and hasattr(model_config, "to_dict"):
        config["model_config"] = model_config.to_dict()
    return config


@atexit.register
def _fail_open_runs() -> None:
    """At interpreter exit: a run whose training never ended (it raised) is ``'failed'``."""
    for callback in list(_OPEN):
        callback.finish("failed")
