"""Every exception raised by ato.tracker.

Each derives from the builtin that fits, so existing ``except ValueError`` / ``except
RuntimeError`` clauses keep working, and from :class:`TrackerError` so callers can catch all
tracker errors at once.
"""

from __future__ import annotations


class TrackerError(Exception):
    """Base class of every ato.tracker error."""


_EXPECTED_SHAPE = (
    "expected a config shaped like\n"
    "    experiment:\n"
    "      project_name: my_project\n"
    "      sql:\n"
    "        db_path: sqlite:///experiments.db   # optional, any SQLAlchemy URL"
)


class TrackerConfigError(TrackerError, ValueError):
    """The config lacks a setting the tracker needs, or a setting has the wrong type."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"{problem}; {_EXPECTED_SHAPE}")


class BufferSettingsError(TrackerError, ValueError):
    """``batch_size`` or ``flush_interval`` of a logger is out of range."""

    def __init__(self, batch_size: object, flush_interval: object) -> None:
        super().__init__(
            f"SQLLogger needs batch_size >= 1 and flush_interval > 0 seconds, got "
            f"batch_size={batch_size!r}, flush_interval={flush_interval!r}"
        )


class RunStateError(TrackerError, RuntimeError):
    """An operation needs an active run (or no active run) and the logger is in the other state."""


class InvalidModeError(TrackerError, ValueError):
    """``mode`` is neither ``'max'`` nor ``'min'``."""

    def __init__(self, mode: object) -> None:
        super().__init__(f"mode must be 'max' or 'min', got {mode!r}")


class InvalidStatusError(TrackerError, ValueError):
    """A run status is not a non-empty string of at most 32 characters."""

    def __init__(self, status: object) -> None:
        super().__init__(
            f"run status must be a non-empty string of at most 32 characters, got {status!r}; "
            "common values: 'running', 'completed', 'failed'"
        )


class MetricValueError(TrackerError, TypeError):
    """A metric value cannot be converted to a float."""

    def __init__(self, key: str, value: object) -> None:
        super().__init__(
            f"metric {key!r}: value {value!r} of type {type(value).__name__} is not a number; "
            "pass an int, a float, or an object with __float__ (numpy/torch scalars work)"
        )


class FingerprintFormatError(TrackerError, TypeError):
    """A fingerprint entry is not one of the accepted shapes."""


class DatabaseNotFoundError(TrackerError, FileNotFoundError):
    """A SQLite database file that must already exist does not."""

    def __init__(self, url: str, path: object) -> None:
        super().__init__(
            f"no tracker database at {path} (from URL {url!r}); check the path or the "
            "current directory, or log a run first to create it"
        )


class RunNotFoundError(TrackerError, LookupError):
    """No run has the requested id (in the selected project)."""


class ProjectNotFoundError(TrackerError, LookupError):
    """No project has the requested name."""
