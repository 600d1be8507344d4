"""Read the tracker's settings (project name, database URL) from a user config."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from .errors import TrackerConfigError
from .normalize import to_json_value

DEFAULT_DB_URL = "sqlite:///experiments.db"
#: Environment variable the ``ato`` command and the Hydra callback read the database URL from.
DB_ENV_VAR = "ATO_DB"


def default_db_url() -> str:
    """``$ATO_DB`` if set, else :data:`DEFAULT_DB_URL`."""
    return os.environ.get(DB_ENV_VAR) or DEFAULT_DB_URL


@dataclass(frozen=True)
class TrackerSettings:
    """Where runs are stored: ``db_url`` (a SQLAlchemy URL) and, for loggers, ``project_name``."""

    db_url: str
    project_name: str | None


def read_settings(config: Any, *, need_project: bool) -> TrackerSettings:
    """Extract ``experiment.project_name`` and ``experiment.sql.db_path`` from ``config``.

    Args:
        config: an ADict, mapping, OmegaConf ``DictConfig`` or dataclass instance shaped like
            ``{'experiment': {'project_name': str, 'sql': {'db_path': str}}}``; a bare ``str`` is
            taken as the database URL. ``db_path`` defaults to ``$ATO_DB`` if set, else
            ``sqlite:///experiments.db`` - the same default as the ``ato`` command.
        need_project: raise when ``project_name`` is missing (loggers need it, finders do not).

    Raises:
        TrackerConfigError: ``experiment`` or (when needed) ``experiment.project_name`` is
            missing, or a setting is not a string.
    """
    if isinstance(config, str):
        if need_project:
            raise TrackerConfigError("got a bare database URL but a logger needs a project name")
        return TrackerSettings(db_url=config, project_name=None)
    data = to_json_value(config)
    experiment = data.get("experiment") if isinstance(data, Mapping) else None
    if not isinstance(experiment, Mapping):
        raise TrackerConfigError(
            f"config has no 'experiment' section (got {type(config).__name__})"
        )
    project = experiment.get("project_name")
    if project is None and need_project:
        raise TrackerConfigError("config is missing 'experiment.project_name'")
    if project is not None and not isinstance(project, str):
        raise TrackerConfigError(f"'experiment.project_name' must be a string, got {project!r}")
    sql = experiment.get("sql") or {}
    fallback = default_db_url()
    url = sql.get("db_path", fallback) if isinstance(sql, Mapping) else fallback
    if not isinstance(url, str):
        raise TrackerConfigError(f"'experiment.sql.db_path' must be a URL string, got {url!r}")
    return TrackerSettings(db_url=url, project_name=project)


def hide_password(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages and stored configs); text
    that is not a URL SQLAlchemy can parse is returned unchanged."""
    if "://" not in url:
        return url
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url  # creating the engine reports the bad URL


def redact_db_password(normalized: dict[str, Any]) -> dict[str, Any]:
    """Replace the password in ``experiment.sql.db_path`` of a normalized config with ``***``
    (the config is stored with every run; credentials must not be). Changes it in place."""
    experiment = normalized.get("experiment")
    sql = experiment.get("sql") if isinstance(experiment, dict) else None
    url = sql.get("db_path") if isinstance(sql, dict) else None
    if isinstance(url, str):
        sql["db_path"] = hide_password(url)  # type: ignore[index]
    return normalized
