"""ato.tracker: experiment tracking in SQL.

[`SQLLogger`][ato.tracker.SQLLogger] records runs (config, tags, status), metrics, artifacts and code
fingerprints; [`SQLFinder`][ato.tracker.SQLFinder] queries them. SQLite is the embedded default
(``sqlite:///experiments.db``); PostgreSQL and MySQL/MariaDB work by URL.
"""

from .errors import (
    ArtifactPathError,
    BufferSettingsError,
    ConfigKeyCollisionError,
    ConfigTooLargeError,
    DatabaseNotFoundError,
    DatabaseTimeoutError,
    FingerprintFormatError,
    InvalidModeError,
    InvalidStatusError,
    MetricKeyError,
    MetricsNotStoredError,
    MetricValueError,
    MissingDependencyError,
    NameNotFoundError,
    NotATrackerDatabaseError,
    RunStateError,
    SchemaError,
    SchemaOutdatedError,
    SchemaTooNewError,
    SchemaUpgradeError,
    TrackerConfigError,
    TrackerError,
)
from .read.finder import SQLFinder
from .read.modes import Modes
from .read.results import Artifact, Fingerprint, Metric, MetricSummary, Project, ProjectSummary, Run
from .storage.database import Database
from .storage.normalize import normalize_config, structural_hash
from .storage.statuses import RunStatus
from .storage.versions import __version__ as __version__
from .write.logger import ActiveRun, SQLLogger

__all__ = [
    "ActiveRun",
    "Artifact",
    "Database",
    "ArtifactPathError",
    "BufferSettingsError",
    "ConfigKeyCollisionError",
    "ConfigTooLargeError",
    "DatabaseNotFoundError",
    "DatabaseTimeoutError",
    "Fingerprint",
    "FingerprintFormatError",
    "InvalidModeError",
    "InvalidStatusError",
    "Metric",
    "Modes",
    "MetricKeyError",
    "MetricSummary",
    "MetricValueError",
    "MetricsNotStoredError",
    "MissingDependencyError",
    "NameNotFoundError",
    "NotATrackerDatabaseError",
    "Project",
    "ProjectSummary",
    "Run",
    "RunStatus",
    "RunStateError",
    "SchemaError",
    "SchemaOutdatedError",
    "SchemaTooNewError",
    "SchemaUpgradeError",
    "SQLFinder",
    "SQLLogger",
    "TrackerConfigError",
    "TrackerError",
    "normalize_config",
    "structural_hash",
]
