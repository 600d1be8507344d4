"""Record every Hydra job as a tracker run.

Add the callback to the Hydra config of an app::

    hydra:
      callbacks:
        ato:
          _target_: ato.tracker.hydra.AtoTrackerCallback
          db_url: sqlite:///experiments.db
          project: my_project

Each job - the one job of a single run, or every job of a ``--multirun`` sweep launched
in-process by Hydra's basic launcher - becomes a run holding the job's resolved config. The run
is tagged with the job name, the override strings and (in a sweep) the sweep directory and job
number; it is finished ``'completed'`` or ``'failed'`` from the job's return status, and a
numeric return value of the task function is logged as a metric. Inside the task function,
`current_logger` gives the [`SQLLogger`][ato.tracker.SQLLogger] of the running job (None
outside a job, the same contract as ``ato.hyperopt.current_logger``).

This module imports ``hydra`` and ``omegaconf`` (install ``ato-tracker[hydra]``); nothing else in
[`ato.tracker`][ato.tracker] imports it.
"""

from __future__ import annotations

import contextvars
import copy
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn, JobStatus
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf, open_dict, read_write
from sqlalchemy.engine import make_url

from ato.adict.interop import to_plain

from .errors import MetricValueError
from .storage.database import Database
from .storage.settings import default_db_url
from .write.logger import COMPLETED, FAILED, SQLLogger

__all__ = ["AtoTrackerCallback", "current_logger"]


_log = logging.getLogger(__name__)
_CURRENT: contextvars.ContextVar[SQLLogger | None] = contextvars.ContextVar(
    "ato_tracker_hydra_logger", default=None
)


def current_logger() -> SQLLogger | None:
    """The [`SQLLogger`][ato.tracker.SQLLogger] whose run records the Hydra job running in
    this context, or None (no job is running under `AtoTrackerCallback`: the callback is not
    configured in ``hydra.callbacks``, or this is called outside the task function).

    The contract of every ``current_logger`` in ato (``ato.hyperopt.current_logger`` too): a
    context variable, None when unset, never raising. Inside a task function::

        logger = current_logger()
        if logger is not None:
            logger.log_metric("val/loss", loss, step=epoch)
    """
    return _CURRENT.get()


class AtoTrackerCallback(Callback):
    """Hydra callback that records each job as a run.

    Args:
        db_url: SQLAlchemy URL of the tracker database. ``None`` takes the job config's
            ``experiment.sql.db_path``, else the ``ATO_DB`` environment variable, else
            ``sqlite:///experiments.db``. A relative SQLite path is relative to the directory
            Hydra was started from (not the job's output directory, even with
            ``hydra.job.chdir=true``), so all jobs of a sweep share one database.
        project: project name. ``None`` takes the job config's ``experiment.project_name``, else
            the Hydra job name (by default the script's name).
        metric_key: metric key under which the task function's return value is logged.
        tags: extra tags added to every run.

    A return value is logged when it is a number (``int``, ``float``, numpy/torch scalars);
    other return values (``None``, dicts, ...) are not recorded.
    """

    def __init__(
        self,
        db_url: str | None = None,
        project: str | None = None,
        metric_key: str = "return",
        tags: Sequence[str] | None = None,
    ) -> None:
        self.db_url = db_url
        self.project = project
        self.metric_key = metric_key
        self.tags = [str(tag) for tag in tags or ()]
        self._logger: SQLLogger | None = None
        self._token: contextvars.Token[SQLLogger | None] | None = None

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Start a run for the job: resolved task config (``hydra`` node removed) and tags.

        Args:
            config: the job's full config, as Hydra passes it (with the ``hydra`` node).

        Raises:
            sqlalchemy.exc.ArgumentError: the database URL is not a valid SQLAlchemy URL.
            sqlalchemy.exc.DBAPIError: the database cannot be reached; Hydra then fails the job.
        """
        task_config = _task_config(config)
        hydra_node = config.hydra
        db_url = _absolute_sqlite(
            self.db_url or _select_str(task_config, "experiment.sql.db_path") or default_db_url(),
            base=str(hydra_node.runtime.cwd),
        )
        project = (
            self.project
            or _select_str(task_config, "experiment.project_name")
            or str(hydra_node.job.name)
        )
        logger = SQLLogger.from_url(db_url, project)
        logger.run(tags=[*self.tags, *_job_tags(hydra_node)], config=task_config)
        logger.add_provenance("hydra", _hydra_provenance(hydra_node))
        self._logger = logger
        self._token = _CURRENT.set(logger)

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs: Any) -> None:
        """Log a numeric return value, then finish the run ``'completed'`` or ``'failed'``."""
        logger, self._logger = self._logger, None
        if self._token is not None:
            _CURRENT.reset(self._token)
            self._token = None
        if logger is None:  # no run was started for this job
            return
        try:
            if job_return.status == JobStatus.COMPLETED:
                _log_return_value(logger, self.metric_key, job_return.return_value)
                logger.finish(COMPLETED)
            else:
                logger.finish(FAILED)
        finally:
            logger.close()


def _task_config(config: DictConfig) -> dict[str, Any]:
    """The job's config without the ``hydra`` node, interpolations resolved when possible
    (an unresolvable one keeps its text: `ato.adict.interop.to_plain`, the same path as
    every config the tracker stores)."""
    task = copy.deepcopy(config)
    with read_write(task), open_dict(task):
        task.pop("hydra", None)
    data = to_plain(task)
    assert isinstance(data, dict)  # noqa: S101 - invariant, narrows the type
    return data


def _select_str(data: dict[str, Any], dotted: str) -> str | None:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node if isinstance(node, str) and node else None


def _absolute_sqlite(url: str, base: str) -> str:
    """Make the file path of a SQLite URL absolute, relative to ``base``; other URLs unchanged."""
    database = Database.from_url(url)
    path = database.sqlite_path
    if path is None or str(path).startswith("file:") or path.is_absolute():
        return url
    absolute = str(Path(base) / path)
    return make_url(database.url).set(database=absolute).render_as_string(hide_password=False)


def _hydra_provenance(hydra_node: DictConfig) -> dict[str, Any]:
    """How Hydra composed the job's config: primary config name, the option chosen in each
    config group (Hydra's ``runtime.choices``, in defaults-list order), the command-line
    overrides of the task, and the job's output directory."""
    choices = OmegaConf.to_container(hydra_node.runtime.choices, resolve=False)
    groups = choices if isinstance(choices, dict) else {}
    return {
        "config_name": _opt_str(hydra_node.job, "config_name"),
        "choices": {str(k): v for k, v in groups.items() if not str(k).startswith("hydra/")},
        "overrides": [str(o) for o in hydra_node.overrides.task],
        "output_dir": _opt_str(hydra_node.runtime, "output_dir"),
    }


def _opt_str(node: DictConfig, key: str) -> str | None:
    value = node.get(key)
    return None if value is None else str(value)


def _job_tags(hydra_node: DictConfig) -> list[str]:
    """``job:<name>``, one ``override:<key=value>`` per override, and in a sweep
    ``sweep:<dir>`` and ``job_num:<n>``."""
    tags = [f"job:{hydra_node.job.name}"]
    tags += [f"override:{override}" for override in hydra_node.overrides.task]
    if hydra_node.mode == RunMode.MULTIRUN:
        tags += [f"sweep:{hydra_node.sweep.dir}", f"job_num:{hydra_node.job.num}"]
    return tags


def _log_return_value(logger: SQLLogger, key: str, value: Any) -> None:
    if value is None or isinstance(value, (str, bytes, bool)):
        return
    try:
        logger.log_metric(key, value)
    except MetricValueError:
        _log.debug("ato tracker: return value of type %s is not a number", type(value).__name__)
