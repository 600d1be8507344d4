"""How the errors of an ``ato`` subcommand become a message and an exit code.

Each entry of the command table (`ato.tracker.cli.registry`) names one of these policies.
A policy turns an exception into ``(message, exit code)``, or returns ``None`` for an
exception it does not expect (which then propagates: a bug, not a usage problem).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from ..errors import (
    ArtifactIntegrityError,
    ArtifactNotFoundError,
    DatabaseNotFoundError,
    NameNotFoundError,
    NotATrackerDatabaseError,
    ProjectNotFoundError,
    RunNotFoundError,
    SchemaError,
    TrackerError,
    UsageError,
)
from ..storage.settings import hide_password

EXIT_OK, EXIT_NOT_FOUND, EXIT_USAGE = 0, 1, 2

Failure = tuple[str, int]
"""``(message, exit code)``: what ``ato`` prints after ``ato: error:`` and returns."""

Policy = Callable[[Exception, str], "Failure | None"]
"""``policy(error, db_url) -> Failure | None``; ``db_url`` is the ``--db`` in effect."""

_NOT_FOUND = (RunNotFoundError, ProjectNotFoundError, NameNotFoundError, ArtifactNotFoundError)
_UNUSABLE = (
    UsageError,
    DatabaseNotFoundError,
    NotATrackerDatabaseError,
    SchemaError,
    ArtifactIntegrityError,
)
_WRITING = (ArgumentError, SQLAlchemyError, TrackerError, OSError)


def _reason(error: Exception) -> str:
    """The first line of the driver's message (``error.orig``), else of ``error`` itself."""
    return str(getattr(error, "orig", None) or error).strip().splitlines()[0]


def reading(error: Exception, db_url: str) -> Failure | None:
    """Commands that read (or mark, or upgrade) runs: an unknown run, project, metric,
    param or artifact exits 1; a usage error, a damaged stored artifact or an unusable
    database (missing SQLite file, not a tracker database, old schema, bad URL, driver
    error) exits 2."""
    if isinstance(error, _NOT_FOUND):
        return str(error), EXIT_NOT_FOUND
    if isinstance(error, _UNUSABLE):
        return str(error), EXIT_USAGE
    if isinstance(error, ArgumentError):
        return f"--db {hide_password(db_url)!r} is not a database URL: {error}", EXIT_USAGE
    if isinstance(error, SQLAlchemyError):
        return f"cannot read {hide_password(db_url)}: {_reason(error)}", EXIT_USAGE
    return None


def syncing(error: Exception, db_url: str) -> Failure | None:
    """``ato sync``: any database, tracker or file error exits 2, naming the database."""
    if isinstance(error, _WRITING):
        return f"cannot sync into {hide_password(db_url)}: {_reason(error)}", EXIT_USAGE
    return None


def importing(error: Exception, db_url: str) -> Failure | None:
    """``ato import ...``: any database, tracker or file error exits 2."""
    if isinstance(error, _WRITING):
        return f"import failed: {_reason(error)}", EXIT_USAGE
    return None
