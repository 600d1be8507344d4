"""Every exception raised by ato.dashboard (each also derives from a fitting builtin)."""

from __future__ import annotations


class DashboardError(Exception):
    """Base class of every ato.dashboard error. ``status`` is the HTTP status it maps to."""

    status = 500


class NotFoundError(DashboardError, LookupError):
    """An unknown project, run, metric key or search was asked for (HTTP 404)."""

    status = 404


class BadRequestError(DashboardError, ValueError):
    """A request parameter is malformed, e.g. ``runs=1,x`` or ``max_points=0`` (HTTP 400)."""

    status = 400


class FilterError(BadRequestError):
    """A run filter that does not parse (HTTP 400); ``position`` is the 0-based offset of the
    offending token in the filter text (``None`` when not at one place)."""

    def __init__(self, message: str, position: int | None) -> None:
        super().__init__(message)
        self.position = position


class DatabaseUnavailableError(DashboardError, RuntimeError):
    """The database file does not exist, cannot be read, or is not a tracker database
    (HTTP 409: the request is fine, the database is not)."""

    status = 409


class ReadOnlyViolationError(DashboardError, PermissionError):
    """A statement other than a read was about to be sent to the database; the dashboard
    never writes, so this is a bug, and the statement is not sent."""


class ForbiddenError(DashboardError, PermissionError):
    """A request the dashboard refuses to answer whatever its parameters: one sent by a page
    of another site (HTTP 403)."""

    status = 403


class FeatureUnavailableError(DashboardError, RuntimeError):
    """A view needs an optional extra that is not installed, e.g. parameter importance
    without Optuna (HTTP 501); the message names the ``pip install`` to run."""

    status = 501
