"""Every exception raised by ato.tracker.

Each derives from the builtin that fits, so existing ``except ValueError`` / ``except
RuntimeError`` clauses keep working, and from [`TrackerError`][ato.tracker.TrackerError] so callers can catch all
tracker errors at once.
"""

from __future__ import annotations

import os


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

    def __init__(
        self, batch_size: object, flush_interval: object, heartbeat_interval: object = None
    ) -> None:
        heartbeat = (
            "" if heartbeat_interval is None else f", heartbeat_interval={heartbeat_interval!r}"
        )
        super().__init__(
            f"SQLLogger needs batch_size >= 1, flush_interval > 0 and heartbeat_interval > 0 "
            f"seconds, got batch_size={batch_size!r}, flush_interval={flush_interval!r}{heartbeat}"
        )


class RunStateError(TrackerError, RuntimeError):
    """An operation needs an active run (or no active run) and the logger is in the other state."""


class InvalidModeError(TrackerError, ValueError):
    """``mode`` is neither ``'max'`` nor ``'min'``; the message (built by
    `ato.adict.modes.check_mode`) names the value and suggests a near miss."""


class InvalidStatusError(TrackerError, ValueError):
    """A run status is not a non-empty string of at most 32 characters."""

    def __init__(self, status: object) -> None:
        super().__init__(
            f"run status must be a non-empty string of at most 32 characters, got {status!r}; "
            "common values: 'running', 'completed', 'failed'"
        )


class MetricValueError(TrackerError, TypeError):
    """A metric value, or its step, cannot be stored: not a number, a number outside the range
    of a 64-bit float, or a step outside the 64-bit integer range."""

    def __init__(self, key: str, value: object, problem: str | None = None) -> None:
        shown = repr(value)
        shown = shown if len(shown) <= 60 else f"{shown[:40]}...({len(shown)} characters)"
        problem = problem or (
            f"of type {type(value).__name__} is not a number; pass an int, a float, or an "
            "object with __float__ (numpy/torch scalars work)"
        )
        super().__init__(f"metric {key!r}: {shown} {problem}")


class MetricKeyError(TrackerError, ValueError):
    """A metric key cannot be stored on every backend: too long, or with a NUL character or a
    lone surrogate (text that is not valid Unicode)."""

    def __init__(self, key: str, limit: int, problem: str | None = None) -> None:
        shown = repr(key[:40]) + ("..." if len(key) > 40 else "")
        problem = problem or (
            f"has {len(key)} characters, more than the {limit} a key may have; use a shorter name"
        )
        super().__init__(f"metric key {shown} {problem}")


class ArtifactPathError(TrackerError, ValueError):
    """An artifact's path or data type cannot be stored as text: it is not valid Unicode (a
    file name in another encoding than the file system's) or contains a NUL character."""

    def __init__(self, what: str, text: str, problem: str) -> None:
        shown = repr(text[:80]) + ("..." if len(text) > 80 else "")
        super().__init__(f"artifact {what} {shown} {problem}")


class RunFilterError(TrackerError, ValueError):
    """A run filter (``params.lr < 0.01 and metrics.acc > 0.9``) that cannot be parsed or
    asks for something no run can have; ``position`` is the 0-based character offset of the
    offending token in the filter text (``None`` when the problem is not at one place)."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


class DatabaseTimeoutError(TrackerError, TimeoutError):
    """The database server did not answer within the statement timeout; the connection was
    aborted (the work is retried later or saved to the spool, see ``docs/tracker.md``)."""

    def __init__(self, url: str, seconds: float) -> None:
        super().__init__(
            f"no answer from {url} within {seconds:g} s; the connection was aborted. Raise "
            "experiment.sql.statement_timeout if the server is just slow"
        )
        self.seconds = seconds


class MetricsNotStoredError(TrackerError, RuntimeError):
    """Buffered metrics could be kept neither in the database (unreachable) nor in the spool
    file (``error``: disk full, no permission...). The rows stay in memory and the flush thread
    keeps retrying while the process lives; ``count`` is how many, ``run_end`` the run end
    ``(run_id, status, unix_time)`` waiting with them, if any."""

    def __init__(
        self, count: int, run_end: tuple[int, str, float] | None, path: object, error: object
    ) -> None:
        end = f" and the end of run {run_end[0]} ({run_end[1]!r})" if run_end else ""
        super().__init__(
            f"{count} buffered metrics{end} could be kept neither in the database (unreachable) "
            f"nor in the spool file {path} ({error}). They stay in memory and are written when "
            "the database is reachable again (the flush thread retries; flush() or finish() "
            "again does too), but are lost if this process ends first: free space there or set "
            "experiment.sql.spool_dir to a writable directory"
        )
        self.count = count
        self.run_end = run_end


class ConfigTooLargeError(TrackerError, ValueError):
    """A run's config is larger than the database server accepts in one statement."""


class FingerprintFormatError(TrackerError, TypeError):
    """A fingerprint entry is not one of the accepted shapes."""


class DatabaseNotFoundError(TrackerError, FileNotFoundError):
    """A SQLite database file that must already exist does not."""

    def __init__(self, url: str, path: object) -> None:
        super().__init__(
            f"no tracker database at {os.path.abspath(str(path))} (from URL {url!r}); check the path or the "
            "current directory, or log a run first to create it"
        )


class NotATrackerDatabaseError(TrackerError, ValueError):
    """A database lacks the tracker's tables or holds tables of another shape (it is another
    program's database, or - when opened for reading - no run was ever logged to it); nothing
    was changed in it."""

    def __init__(self, url: str, problem: str, *, hint: str | None = None) -> None:
        advice = hint or "check --db / the URL, or log a run with SQLLogger first"
        #: What is wrong with the database, e.g. ``'has no tracker tables'``.
        self.problem = problem
        super().__init__(
            f"the database {url!r} {problem}, so it is not an ato.tracker database; "
            f"{advice} (nothing was written to it)"
        )


def _upgrade_command(url: str) -> str:
    command = f"ato db upgrade --db '{url}'"
    if "***" in url:
        command += " (with the real password in place of ***, or the URL in $ATO_DB)"
    return command


class SchemaError(TrackerError, RuntimeError):
    """Base class of the schema-version errors: the database's tracker schema revision is not
    the one this ato-tracker works with."""


class SchemaOutdatedError(SchemaError):
    """The database was written by an older ato (an older schema revision); it must be upgraded
    with ``ato db upgrade`` before this version can use it."""

    def __init__(self, url: str, revision: str, expected: str, described: str) -> None:
        self.url, self.revision, self.expected = url, revision, expected
        super().__init__(
            f"the tracker database {url!r} has schema revision {revision} ({described}), but "
            f"this ato-tracker needs revision {expected}; nothing was written to it. Upgrade it "
            f"once with: {_upgrade_command(url)}"
        )


class SchemaTooNewError(SchemaError):
    """The database was upgraded by a newer ato than the one installed."""

    def __init__(self, url: str, revision: str, expected: str, version: str) -> None:
        self.url, self.revision, self.expected = url, revision, expected
        super().__init__(
            f"the tracker database {url!r} has schema revision {revision}, which is newer than "
            f"this ato-tracker {version} knows (its newest is {expected}); the database was "
            "upgraded by a newer ato. Upgrade ato: pip install -U ato-tracker"
        )


class SchemaUpgradeError(SchemaError):
    """``ato db upgrade`` could not upgrade the database (the cause is chained); the revisions
    applied before the failure stay applied and the command can be run again."""


class UsageError(TrackerError, ValueError):
    """A command-line usage problem found after parsing (``ato`` reports it like argparse
    errors, exit code 2)."""


class RunNotFoundError(TrackerError, LookupError):
    """No run has the requested id (in the selected project)."""


class ProjectNotFoundError(TrackerError, LookupError):
    """No project has the requested name."""


class ConfigKeyCollisionError(TrackerError, ValueError):
    """Two keys of one config mapping become the same JSON key (``1`` and ``"1"``): storing
    the config would lose a value, so it is refused; the message names both keys."""


class ModeSpecError(InvalidModeError):
    """A ``--mode`` spec is malformed (expected ``max``, ``min`` or ``KEY=max|min,...``)."""

    def __init__(self, spec: str, item: str) -> None:
        Exception.__init__(
            self,
            f"bad metric direction {item!r} in {spec!r}: expected 'max', 'min' or "
            "'KEY=max|min' items separated by commas, e.g. 'loss=min,acc=max'",
        )


class MissingDependencyError(TrackerError, ImportError):
    """An optional dependency (an extra of ato-tracker) is not installed."""

    def __init__(self, package: str, extra: str, feature: str) -> None:
        super().__init__(
            f"{feature} needs {package}, which is not installed; "
            f"install it with: pip install 'ato-tracker[{extra}]'"
        )


class NameNotFoundError(TrackerError, LookupError):
    """A project, metric or param name matches nothing; the message suggests close names."""


class ArtifactNotFoundError(TrackerError, LookupError):
    """A run has no artifact of the name asked for, or its stored file is not in the store."""


class ArtifactIntegrityError(TrackerError, ValueError):
    """A stored artifact's file no longer has the SHA-256 digest recorded when it was logged."""
