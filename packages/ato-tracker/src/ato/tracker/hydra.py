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
`current_logger` gives the [`SQLLogger`][ato.tracker.SQLLogger] of the running job.

This module imports ``hydra`` and ``omegaconf`` (install ``ato-tracker[hydra]``); nothing else in
[`ato.tracker`][ato.tracker] imports it.
"""

from __future__ import annotations

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

from .engine import normalize_url
from .errors import MetricValueError, RunStateError
from .logger import COMPLETED, FAILED, SQLLogger
from .normalize import omegaconf_container
from .settings import default_db_url

__all__ = ["AtoTrackerCallback", "current_logger"]


_log = logging.getLogger(__name__)
_current: SQLLogger | None = None


def current_logger() -> SQLLogger:
    """The [`SQLLogger`][ato.tracker.SQLLogger] whose run records the Hydra job running now.

    Call it inside a task function to log metrics of the job's run::

        current_logger().log_metric("val/loss", loss, step=epoch)

    Raises:
        RunStateError: no job is running under `AtoTrackerCallback` (the callback is not
            configured in ``hydra.callbacks``, or this is called outside the task function).
    """
    if _current is None:
        raise RunStateError(
            "current_logger() is only available inside a Hydra task function whose app lists "
            "ato.tracker.hydra.AtoTrackerCallback under hydra.callbacks"
        )
    return _current


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

    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Start a run for the job: resolved task config (``hydra`` node removed) and tags.

        Args:
            config: the job's full config, as Hydra passes it (with the ``hydra`` node).

        Raises:
            sqlalchemy.exc.ArgumentError: the database URL is not a valid SQLAlchemy URL.
            sqlalchemy.exc.DBAPIError: the database cannot be reached; Hydra then fails the job.
        """
        global _current
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
        settings = {"experiment": {"project_name": project, "sql": {"db_path": db_url}}}
        logger = SQLLogger(settings)
        logger.run(tags=[*self.tags, *_job_tags(hydra_node)], config=task_config)
        logger.add_provenance("hydra", _hydra_provenance(hydra_node))
        self._logger = _current = logger

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs: Any) -> None:
        """Log a numeric return value, then finish the run ``'completed'`` or ``'failed'``."""
        global _current
        logger, self._logger, _current = self._logger, None, None
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
    (an unresolvable one keeps its text: the same path as every config the tracker stores,
    ``ato.tracker.normalize.omegaconf_container``)."""
    task = copy.deepcopy(config)
    with read_write(task), open_dict(task):
        task.pop("hydra", None)
    data = omegaconf_container(task)
    assert isinstance(data, dict)
    # OmegaConf types keys as str | bytes | int | Enum | float | bool; a Hydra task config's
    # top-level keys are str
    return data  # type: ignore[return-value]


def _select_str(data: dict[str, Any], dotted: str) -> str | None:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node if isinstance(node, str) and node else None


def _absolute_sqlite(url: str, base: str) -> str:
    """Make the file path of a SQLite URL absolute, relative to ``base``; other URLs unchanged."""
    parsed = make_url(normalize_url(url))
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or database in (None, "", ":memory:"):
        return url
    if database.startswith("file:") or Path(database).is_absolute():
        return url
    absolute = str(Path(base) / database)
    return parsed.set(database=absolute).render_as_string(hide_password=False)


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
