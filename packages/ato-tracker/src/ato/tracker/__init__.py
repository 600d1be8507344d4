"""ato.tracker: experiment tracking in SQL.

:class:`SQLLogger` records runs (config, tags, status), metrics, artifacts and code
fingerprints; :class:`SQLFinder` queries them. SQLite is the embedded default
(``sqlite:///experiments.db``); PostgreSQL and MySQL/MariaDB work by URL.
"""

from .errors import (
    BufferSettingsError,
    ConfigKeyCollisionError,
    DatabaseNotFoundError,
    FingerprintFormatError,
    InvalidModeError,
    InvalidStatusError,
    MetricKeyError,
    MetricValueError,
    NotATrackerDatabaseError,
    RunStateError,
    SchemaError,
    SchemaOutdatedError,
    SchemaTooNewError,
    SchemaUpgradeError,
    TrackerConfigError,
    TrackerError,
)
from .finder import SQLFinder
from .logger import ActiveRun, SQLLogger
from .normalize import normalize_config, structural_hash
from .results import Artifact, Fingerprint, Metric, MetricSummary, Project, Run

__all__ = [
    "ActiveRun",
    "Artifact",
    "BufferSettingsError",
    "ConfigKeyCollisionError",
    "DatabaseNotFoundError",
    "Fingerprint",
    "FingerprintFormatError",
    "InvalidModeError",
    "InvalidStatusError",
    "Metric",
    "MetricKeyError",
    "MetricSummary",
    "MetricValueError",
    "NotATrackerDatabaseError",
    "Project",
    "Run",
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
__version__ = "3.0.0"
