"""Upgrading tracker databases with Alembic (``ato db upgrade / current / history``).

The migration scripts live in ``ato/tracker/migrations/versions`` (shipped in the wheel); each
revision's docstring says what it changes. See ``ato/tracker/migrations/README.md`` for adding one.
"""

from .storage.migrate import CurrentRevision, UpgradeResult, current, upgrade
from .storage.revisions import Revision, history

__all__ = ["CurrentRevision", "Revision", "UpgradeResult", "current", "history", "upgrade"]
