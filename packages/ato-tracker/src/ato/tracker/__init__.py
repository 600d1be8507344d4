"""ato.tracker: experiment tracking in SQL.

[`SQLLogger`][ato.tracker.SQLLogger] records runs (config, tags, status), metrics, artifacts and code
fingerprints; [`SQLFinder`][ato.tracker.SQLFinder] queries them. SQLite is the embedded default
(``sqlite:///experiments.db``); PostgreSQL and MySQL/MariaDB work by URL.
"""

from . import search_runs
from .answers import Evaluation, SearchAnswer
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
from .finder import DatabaseLocation, RunsPage, SearchTrials, SQLFinder
from .logger import ActiveRun, SQLLogger
from .modes import Modes
from .normalize import normalize_config, structural_hash
from .overview import RunRow
from .params import is_bookkeeping
from .results import (
    Artifact,
    Fingerprint,
    Metric,
    MetricColumns,
    MetricKeyPage,
    MetricSeries,
    MetricSummary,
    Project,
    ProjectSummary,
    Run,
    SearchInfo,
)
from .search_runs import search_id_of
from .settings import default_db_url, hide_password

__all__ = [
    "ActiveRun",
    "Artifact",
    "ArtifactPathError",
    "BufferSettingsError",
    "ConfigKeyCollisionError",
    "ConfigTooLargeError",
    "DatabaseLocation",
    "DatabaseNotFoundError",
    "DatabaseTimeoutError",
    "Evaluation",
    "Fingerprint",
    "FingerprintFormatError",
    "InvalidModeError",
    "InvalidStatusError",
    "Metric",
    "Modes",
    "MetricColumns",
    "MetricKeyError",
    "MetricKeyPage",
    "MetricSeries",
    "MetricSummary",
    "MetricValueError",
    "MetricsNotStoredError",
    "MissingDependencyError",
    "NameNotFoundError",
    "NotATrackerDatabaseError",
    "Project",
    "ProjectSummary",
    "Run",
    "RunRow",
    "RunStateError",
    "RunsPage",
    "SchemaError",
    "SchemaOutdatedError",
    "SchemaTooNewError",
    "SchemaUpgradeError",
    "SearchAnswer",
    "SearchInfo",
    "SearchTrials",
    "SQLFinder",
    "SQLLogger",
    "TrackerConfigError",
    "TrackerError",
    "default_db_url",
    "hide_password",
    "is_bookkeeping",
    "normalize_config",
    "search_id_of",
    "search_runs",
    "structural_hash",
]
__version__ = "3.0.0"
