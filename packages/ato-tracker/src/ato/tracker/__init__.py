"""ato.tracker: experiment tracking in SQL.

[`SQLLogger`][ato.tracker.SQLLogger] records runs (config, tags, status), metrics, artifacts and code
fingerprints; [`SQLFinder`][ato.tracker.SQLFinder] queries them. SQLite is the embedded default
(``sqlite:///experiments.db``); PostgreSQL and MySQL/MariaDB work by URL.
"""

from . import search_runs
from .answers import Evaluation, SearchAnswer
from .errors import (
    ArtifactIntegrityError,
    ArtifactNotFoundError,
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
    RunFilterError,
    RunStateError,
    SchemaError,
    SchemaOutdatedError,
    SchemaTooNewError,
    SchemaUpgradeError,
    TrackerConfigError,
    TrackerError,
)
from .read.finder import RunsPage, SearchTrials, SQLFinder
from .read.modes import Modes
from .read.overview import RunRow
from .read.params import is_bookkeeping
from .read.results import (
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
from .read.searchrows import SearchRows, SearchState
from .search_runs import search_id_of
from .storage.artifact_store import check_name as check_artifact_name
from .storage.database import Database
from .storage.normalize import normalize_config, structural_hash
from .storage.settings import default_db_url, hide_password
from .storage.statuses import RunStatus
from .storage.versions import __version__ as __version__
from .write.logger import ActiveRun, SQLLogger

__all__ = [
    "ActiveRun",
    "Artifact",
    "Database",
    "ArtifactIntegrityError",
    "ArtifactNotFoundError",
    "ArtifactPathError",
    "check_artifact_name",
    "BufferSettingsError",
    "ConfigKeyCollisionError",
    "ConfigTooLargeError",
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
    "RunStatus",
    "RunFilterError",
    "RunStateError",
    "RunsPage",
    "SchemaError",
    "SchemaOutdatedError",
    "SchemaTooNewError",
    "SchemaUpgradeError",
    "SearchAnswer",
    "SearchInfo",
    "SearchRows",
    "SearchState",
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
