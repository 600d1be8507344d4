"""A PyTorch Lightning logger that records a training as an ato run.

Usage::

    from lightning.pytorch import Trainer
    from ato.tracker.integrations.lightning import AtoLogger

    logger = AtoLogger("sqlite:///experiments.db", project="mnist", log_model=True)
    Trainer(logger=logger, max_epochs=3).fit(model)

Implements Lightning's documented logger interface (``lightning.pytorch.loggers.logger.Logger``:
``name``, ``version``, ``save_dir``, ``experiment``, ``log_metrics``, ``log_hyperparams``,
``after_save_checkpoint``, ``finalize``). Works with ``lightning`` 2.x and, when only that is
installed, ``pytorch_lightning`` 2.x. Imports the framework (install ``ato-tracker[lightning]``);
nothing else in [`ato.tracker`][ato.tracker] imports this module.

Under DDP only global rank 0 opens the database and creates the run; the other ranks' calls do
nothing and their ``experiment`` is an object whose every method does nothing (the contract of
Lightning's ``rank_zero_experiment``). The rank is read from the ``rank_zero_only.rank`` that
Lightning sets in each process, of both ``lightning`` and ``pytorch_lightning``.
"""

from __future__ import annotations

import atexit
import os
import sys
import uuid
from argparse import Namespace
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from ato.tracker import RunStateError, SQLLogger, TrackerConfigError

from .frameworks import import_framework

if TYPE_CHECKING:
    from lightning.pytorch.loggers.logger import Logger as _LightningLogger
else:
    _LightningLogger = import_framework(
        "lightning.pytorch.loggers.logger",
        "pytorch_lightning.loggers.logger",
        extra="lightning",
        integration=__name__,
    ).Logger

__all__ = ["AtoLogger"]

_RANK_MODULES = ("lightning.fabric.utilities.rank_zero", "lightning_fabric.utilities.rank_zero")
_STATUS = {"success": "completed", "failed": "failed", "finished": "killed"}
_LIVE: dict[str, SQLLogger] = {}  # AtoLogger token -> the SQLLogger holding its run (this process)


def _global_rank() -> int:
    """The process's global rank as Lightning set it (0 outside distributed training)."""
    ranks = [
        getattr(sys.modules[name].rank_zero_only, "rank", 0)
        for name in _RANK_MODULES
        if name in sys.modules
    ]
    return max([0, *[int(rank or 0) for rank in ranks]])


class _NoExperiment:
    """The ``experiment`` of ranks other than 0: every attribute is a method doing nothing."""

    def __getattr__(self, _name: str) -> Any:
        return self._nothing

    def _nothing(self, *_args: Any, **_kwargs: Any) -> None:
        return None


class AtoLogger(_LightningLogger):
    """Record Lightning's metrics, hyperparameters and checkpoints in one ato run.

    Args:
        db_url: the tracker database, a SQLAlchemy URL (``sqlite:///experiments.db``,
            ``postgresql+psycopg://user@host/db``, ``mysql+pymysql://user@host/db``) or a
            SQLite file path.
        project: the project name (the logger's ``name``).
        tags: labels stored with the run (a string or a list of strings).
        prefix: put before every metric name, joined by ``-`` (Lightning's convention):
            ``prefix="fold1"`` logs ``train_loss`` as ``fold1-train_loss``.
        log_model: which checkpoints of ``ModelCheckpoint`` become artifacts of the run
            (type ``'checkpoint'``, metadata: the monitor, its score and whether it is the
            best), as MLflow's Lightning logger does: ``False`` none; ``True`` the ones
            ``ModelCheckpoint`` kept, when training ends (with ``save_top_k == -1`` every one
            as it is saved, since all are kept); ``'all'`` every one as it is saved (a file
            saved again under the same name, e.g. ``last.ckpt``, is recorded again).
        copy_checkpoints: ``True`` (default) stores each recorded checkpoint: the file is
            copied into the database's artifact store (SHA-256 addressed; it survives deleting
            the checkpoint folder and ``ato runs get RUN NAME`` fetches it). ``False``
            references it: only its path, size and SHA-256 are recorded (for big checkpoints
            on shared storage). A server database without an artifact store
            (``artifact_root=``/``$ATO_ARTIFACT_ROOT``) can only reference; a warning says so.
        save_dir: the root of the checkpoint folder ``save_dir/project/version_<run id>``;
            ``None`` uses the Trainer's ``default_root_dir``.
        system_metrics: sample CPU, memory, disk, network (and GPU) metrics under
            ``system/`` while the run is active: ``True`` (every 10 s), seconds between
            samples, ``False``; ``None``: the ``ATO_SYSTEM_METRICS`` environment variable
            decides.
        **logger_options: passed to `ato.tracker.SQLLogger.from_url` (``batch_size``,
            ``flush_interval``, timeouts, ``artifact_root``...).

    The run is created on first use (``experiment``, ``version``, the first metrics), once.
    Metrics are stored at Lightning's global step. Hyperparameters are the run's config:
    those given before the run starts are stored when it starts, those given after (Lightning
    asks for ``version`` when ``ModelCheckpoint`` sets up, before it logs hyperparameters)
    are added to it with `ato.tracker.SQLLogger.update_config` (top-level keys replace).
    ``finalize("success")`` only flushes, so that ``trainer.test`` after
    ``trainer.fit`` adds to the same run; the run is finished ``'completed'`` by `finish`, at
    interpreter exit, or at once in a multiprocessing child (whose exit skips exit handlers).
    ``finalize("failed")`` finishes it ``'failed'``; a SIGTERM (``"finished"``) ``'killed'``.

    The logger and a Trainer holding it can be pickled; a copy unpickled in the same process
    keeps logging into the same run. A copy unpickled in another process before its run was
    created creates the run there (``strategy="ddp_spawn"``: the run is made by rank 0 of the
    spawned processes).

    Raises:
        TrackerConfigError: ``prefix`` is not a string, ``log_model`` is not True, False or
            ``'all'``, or ``system_metrics`` is not a sampling setting (when the run starts).
        MissingDependencyError: (at import) neither ``lightning`` nor ``pytorch_lightning``
            is installed; (when the run starts) system metrics are asked for without psutil.
    """

    LOGGER_JOIN_CHAR = "-"

    def __init__(
        self,
        db_url: str = "sqlite:///experiments.db",
        project: str = "lightning",
        *,
        tags: Any = None,
        prefix: str = "",
        log_model: bool | Literal["all"] = False,
        copy_checkpoints: bool = True,
        save_dir: str | os.PathLike[str] | None = None,
        system_metrics: bool | float | None = None,
        **logger_options: Any,
    ) -> None:
        super().__init__()
        if not isinstance(prefix, str):
            raise TrackerConfigError(f"AtoLogger(prefix=...) takes a string, got {prefix!r}")
        if log_model not in (True, False, "all"):
            raise TrackerConfigError(
                f"AtoLogger(log_model=...) takes True, False or 'all', got {log_model!r}"
            )
        self._db_url = str(db_url)
        self._project = project
        self._tags = tags
        self._prefix = prefix
        self._log_model = log_model
        self._save_dir = None if save_dir is None else os.fspath(save_dir)
        self._copy_checkpoints = bool(copy_checkpoints)
        self._options = {**logger_options, "system_metrics": system_metrics}
        self._hparams: dict[str, Any] = {}
        self._run_id: int | None = None
        self._pid: int | None = None  # the process that started the run
        self._token = uuid.uuid4().hex  # finds this logger's SQLLogger in copies (pickling)
        self._logged_checkpoints: dict[str, float] = {}  # path -> modification time recorded
        self._checkpoint_callback: Any = None

    # -- what Lightning reads ------------------------------------------------------------
    @property
    def name(self) -> str:
        """The project name."""
        return self._project

    @property
    def version(self) -> int | None:
        """The run id (on rank 0, creating the run if needed); ``None`` on other ranks."""
        if _global_rank() > 0:
            return None
        if self._run_id is None:
            self.experiment  # noqa: B018 - creates the run
        return self._run_id

    @property
    def save_dir(self) -> str | None:
        """Where checkpoints go (``save_dir/name/version_<run id>``), or ``None``: the
        Trainer's ``default_root_dir``."""
        return self._save_dir

    @property
    def experiment(self) -> SQLLogger | _NoExperiment:
        """The [`SQLLogger`][ato.tracker.SQLLogger] holding the run (created once, lazily) on
        rank 0; on other ranks an object whose every method does nothing.

        Raises:
            RunStateError: the run was finished (`finish`, a failed ``finalize``), or it was
                started in another process (the logger was pickled after its run started and
                unpickled elsewhere): start the run in the training process instead (do not
                touch ``experiment``/``version`` before ``fit`` with ``strategy="ddp_spawn"``).
        """
        if _global_rank() > 0:
            return _NoExperiment()
        logger = _LIVE.get(self._token)
        if logger is not None:
            return logger
        if self._run_id is not None and self._pid == os.getpid():
            raise RunStateError(
                f"AtoLogger's run {self._run_id} is finished; make a new AtoLogger for a new run"
            )
        if self._run_id is not None:
            raise RunStateError(
                f"AtoLogger's run {self._run_id} was started in another process and cannot be "
                "continued here; let the training process start the run (do not use "
                "logger.experiment or logger.version before trainer.fit with ddp_spawn)"
            )
        logger = SQLLogger.from_url(self._db_url, self._project, **self._options)
        self._run_id = logger.run(tags=self._tags, config=self._hparams or None)
        self._pid = os.getpid()
        _LIVE[self._token] = logger
        return logger

    # -- what Lightning calls ------------------------------------------------------------
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Store ``metrics`` (name -> number or one-element tensor) at ``step`` (Lightning's
        global step), each name behind ``prefix``. Raises what
        `ato.tracker.SQLLogger.log_metric` raises for a bad name or value."""
        if _global_rank() > 0:
            return
        logger = _LIVE.get(self._token) or self.experiment
        join = self.LOGGER_JOIN_CHAR
        for key, value in metrics.items():
            name = f"{self._prefix}{join}{key}" if self._prefix else key
            logger.log_metric(name, value.item() if hasattr(value, "item") else value, step)

    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        """Store ``params`` (a dict, ``argparse.Namespace``, dataclass or OmegaConf config;
        nested values stay nested, other objects are stored as text) in the run's config:
        kept until the run starts, added to it (`ato.tracker.SQLLogger.update_config`) once
        it has."""
        if _global_rank() > 0:
            return
        new = _plain(params)
        self._hparams = {**self._hparams, **new}
        if self._run_id is not None or self._token in _LIVE:
            self.experiment.update_config(new)

    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        """Record the checkpoints of ``checkpoint_callback`` (a ``ModelCheckpoint``) as
        artifacts now or when training ends, as ``log_model`` says."""
        if _global_rank() > 0 or not self._log_model:
            return
        if self._log_model == "all" or checkpoint_callback.save_top_k == -1:
            self._record_checkpoints(checkpoint_callback)
        else:
            self._checkpoint_callback = checkpoint_callback

    def save(self) -> None:
        """Write the buffered metrics (on rank 0, if the run exists)."""
        logger = _LIVE.get(self._token)
        if logger is not None and _global_rank() == 0:
            logger.flush()

    def finalize(self, status: str) -> None:
        """End of a Trainer stage: ``'success'`` flushes (the run stays open for a later
        ``test``/``validate``; see the class notes), ``'failed'`` finishes the run
        ``'failed'``, ``'finished'`` (a signal) ``'killed'``; another status is stored as
        given. Checkpoints kept for ``log_model=True`` are recorded first."""
        logger = _LIVE.get(self._token)
        if logger is None or _global_rank() > 0:
            return
        if self._checkpoint_callback is not None:
            self._record_checkpoints(self._checkpoint_callback)
            self._checkpoint_callback = None
        if status == "success" and not _in_multiprocessing_child():
            logger.flush()
            return
        self.finish(_STATUS.get(status, status))

    def finish(self, status: str = "completed") -> None:
        """Finish the run with ``status`` (e.g. ``'completed'``) and close its database
        connection; later metrics start no new run. Harmless when there is no run or it has
        finished already.

        Raises:
            InvalidStatusError: ``status`` is empty or longer than 32 characters.
        """
        logger = _LIVE.pop(self._token, None)
        if logger is not None:
            logger.finish(status)
            logger.close()

    # -- pickling ------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_checkpoint_callback"] = None  # holds the Trainer; found again at the next save
        return state

    def _record_checkpoints(self, checkpoint_callback: Any) -> None:
        logger = self.experiment
        scores = {str(path): score for path, score in checkpoint_callback.best_k_models.items()}
        best = str(checkpoint_callback.best_model_path or "")
        paths = [*scores, best, str(checkpoint_callback.last_model_path or "")]
        for path in dict.fromkeys(p for p in paths if p and os.path.isfile(p)):
            modified = os.path.getmtime(path)
            if self._logged_checkpoints.get(path) == modified:
                continue
            score = scores.get(path)
            metadata = {
                "monitor": checkpoint_callback.monitor,
                "score": None if score is None else float(score),
                "best": path == best,
            }
            logger.log_artifact(
                path, data_type="checkpoint", metadata=metadata, copy=self._copy_checkpoints
            )
            self._logged_checkpoints[path] = modified


def _plain(params: Any) -> dict[str, Any]:
    """``params`` as a dict for the run's config (Namespaces and dataclasses opened up;
    `ato.tracker.normalize_config` does the rest when the run is stored)."""
    if isinstance(params, Namespace):
        params = vars(params)
    if isinstance(params, Mapping):
        return {str(key): _plain_value(value) for key, value in params.items()}
    from ato.tracker import normalize_config

    return normalize_config(params)


def _plain_value(value: Any) -> Any:
    if isinstance(value, Namespace):
        return _plain(value)
    if isinstance(value, Mapping):
        return {str(key): _plain_value(item) for key, item in value.items()}
    return value


def _in_multiprocessing_child() -> bool:
    """True in a process started by ``multiprocessing`` (spawn): it exits without running
    exit handlers, so its run must be finished before."""
    import multiprocessing

    return multiprocessing.parent_process() is not None


@atexit.register
def _finish_open_runs() -> None:
    """At interpreter exit: runs still open after a successful ``finalize`` are completed."""
    for token in list(_LIVE):
        logger = _LIVE.pop(token)
        logger.finish("completed")
