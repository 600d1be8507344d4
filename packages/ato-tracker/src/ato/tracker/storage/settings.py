"""Read the tracker's settings (project name, database URL) from a user config."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ..errors import TrackerConfigError
from .normalize import to_json_value

DEFAULT_DB_URL = "sqlite:///experiments.db"
#: Environment variable the ``ato`` command and the Hydra callback read the database URL from.
DB_ENV_VAR = "ATO_DB"
#: Environment variable naming the spool directory (see ``default_spool_dir``).
SPOOL_ENV_VAR = "ATO_SPOOL_DIR"

DEFAULT_CONNECT_TIMEOUT_S = 10.0
DEFAULT_STATEMENT_TIMEOUT_S = 30.0
DEFAULT_SPOOL_AFTER_S = 60.0

# Query parameters of a database URL that hold secrets (libpq, PyMySQL, mysqlclient, ...).
_SECRET_PARAMS = frozenset({"password", "passwd", "pwd", "sslpassword", "ssl_password"})
_USERINFO_PASSWORD = re.compile(r"(?P<head>://[^/@:?#]*:)(?P<password>[^/?#]*)@")
_QUERY_SECRET = re.compile(
    r"(?P<head>[?&](?:" + "|".join(sorted(_SECRET_PARAMS)) + r")=)(?P<secret>[^&#]*)", re.I
)


def default_spool_dir() -> Path:
    """Where metrics wait while their database is unreachable: ``$ATO_SPOOL_DIR`` if set, else
    ``$XDG_DATA_HOME/ato/spool`` (by default ``~/.local/share/ato/spool``)."""
    configured = os.environ.get(SPOOL_ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "ato" / "spool"


@dataclass(frozen=True)
class Timeouts:
    """Time bounds of database work, in seconds.

    ``connect``: opening a connection to a server. ``statement``: one transaction (statements
    and the COMMIT) on a server; past it the connection is aborted and the work fails with
    ``ato.tracker.errors.DatabaseTimeoutError``. ``spool_after``: how long buffered
    metrics wait for an unreachable database before they are saved to the spool file.
    """

    connect: float = DEFAULT_CONNECT_TIMEOUT_S
    statement: float = DEFAULT_STATEMENT_TIMEOUT_S
    spool_after: float = DEFAULT_SPOOL_AFTER_S

    def connect_seconds(self) -> int:
        """``connect`` rounded up to whole seconds (what libpq and PyMySQL take), at least 1."""
        return max(1, math.ceil(self.connect))


def default_db_url() -> str:
    """``$ATO_DB`` if set, else `DEFAULT_DB_URL`."""
    return os.environ.get(DB_ENV_VAR) or DEFAULT_DB_URL


@dataclass(frozen=True)
class TrackerSettings:
    """Where runs are stored: ``db_url`` (a SQLAlchemy URL) and, for loggers, ``project_name``."""

    db_url: str
    project_name: str | None
    timeouts: Timeouts = field(default_factory=Timeouts)
    spool_dir: Path = field(default_factory=default_spool_dir)


def read_settings(config: Any, *, need_project: bool) -> TrackerSettings:
    """Extract ``experiment.project_name`` and ``experiment.sql.db_path`` from ``config``.

    Args:
        config: an ADict, mapping, OmegaConf ``DictConfig`` or dataclass instance shaped like
            ``{'experiment': {'project_name': str, 'sql': {'db_path': str}}}``; a bare ``str`` is
            taken as the database URL. ``db_path`` defaults to ``$ATO_DB`` if set, else
            ``sqlite:///experiments.db`` - the same default as the ``ato`` command.
            Optional, under ``experiment.sql``: ``connect_timeout``, ``statement_timeout`` and
            ``spool_after`` (seconds, > 0; see ``Timeouts``) and ``spool_dir`` (a path;
            see ``default_spool_dir``).
        need_project: raise when ``project_name`` is missing (loggers need it, finders do not).

    Raises:
        TrackerConfigError: ``experiment`` or (when needed) ``experiment.project_name`` is
            missing, or a setting is not a string (a timeout not a positive number).
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
    sql = sql if isinstance(sql, Mapping) else {}
    return settings_for(url, project, sql)


def settings_for(
    url: Any, project: str | None, options: Mapping[str, Any] | None = None
) -> TrackerSettings:
    """Settings from a database URL, a project name (None for finders) and the optional
    ``experiment.sql`` options (``connect_timeout``, ``statement_timeout``, ``spool_after``
    in seconds, ``spool_dir``); what `read_settings` and ``SQLLogger.from_url`` share.

    Raises:
        TrackerConfigError: the URL is not a string, the project is not a non-empty string,
            a timeout is not a positive number or ``spool_dir`` not a path.
    """
    if not isinstance(url, str):
        raise TrackerConfigError(f"'experiment.sql.db_path' must be a URL string, got {url!r}")
    if project is not None and (not isinstance(project, str) or not project):
        raise TrackerConfigError(f"the project name must be a non-empty string, got {project!r}")
    sql = options or {}
    timeouts = Timeouts(
        connect=_seconds(sql, "connect_timeout", DEFAULT_CONNECT_TIMEOUT_S),
        statement=_seconds(sql, "statement_timeout", DEFAULT_STATEMENT_TIMEOUT_S),
        spool_after=_seconds(sql, "spool_after", DEFAULT_SPOOL_AFTER_S),
    )
    spool_dir = sql.get("spool_dir")
    if spool_dir is not None and not isinstance(spool_dir, str):
        raise TrackerConfigError(f"'experiment.sql.spool_dir' must be a path, got {spool_dir!r}")
    return TrackerSettings(
        db_url=url,
        project_name=project,
        timeouts=timeouts,
        spool_dir=Path(spool_dir).expanduser() if spool_dir else default_spool_dir(),
    )


def _seconds(sql: Mapping[str, Any], name: str, default: float) -> float:
    value = sql.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1e9:
        raise TrackerConfigError(
            f"'experiment.sql.{name}' must be a number of seconds > 0, got {value!r}"
        )
    return float(value)


def hide_password(url: str) -> str:
    """``url`` with every password replaced by ``***`` (for messages, logs and stored configs).

    Covers the ``user:password@`` part and query parameters that carry one (``?password=``,
    ``passwd``, ``pwd``, ``sslpassword``). Text SQLAlchemy cannot parse is redacted by
    pattern, so a malformed URL is never echoed with its password either.
    """
    if "://" not in url:
        return url
    try:
        rendered = make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # e.g. a port that is not a number
        rendered = _USERINFO_PASSWORD.sub(r"\g<head>***@", url)
    return _QUERY_SECRET.sub(r"\g<head>***", rendered)


def redact_text(text: str, url: str) -> str:
    """``text`` (e.g. a driver's error message) with the passwords of ``url`` replaced by
    ``***``."""
    for secret in _url_secrets(url):
        text = text.replace(secret, "***")
    return hide_password(text) if "://" in text else text


def _url_secrets(url: str) -> list[str]:
    secrets = [m.group("password") for m in _USERINFO_PASSWORD.finditer(url)]
    if "?" in url:
        query = url.split("?", 1)[1]
        secrets += [v for k, v in parse_qsl(query) if k.lower() in _SECRET_PARAMS]
        secrets += [m.group("secret") for m in _QUERY_SECRET.finditer(url)]
    return sorted({s for s in secrets if s and s != "***"}, key=len, reverse=True)


def redact_db_password(normalized: dict[str, Any]) -> dict[str, Any]:
    """Replace the password in ``experiment.sql.db_path`` of a normalized config with ``***``
    (the config is stored with every run; credentials must not be). Changes it in place."""
    experiment = normalized.get("experiment")
    sql = experiment.get("sql") if isinstance(experiment, dict) else None
    url = sql.get("db_path") if isinstance(sql, dict) else None
    if isinstance(sql, dict) and isinstance(url, str):
        sql["db_path"] = hide_password(url)
    return normalized
