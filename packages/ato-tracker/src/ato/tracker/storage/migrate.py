"""Upgrading tracker databases with Alembic (``ato db upgrade / current / history``).

The migration scripts live in ``ato/tracker/migrations/versions`` (shipped in the wheel); each
revision's docstring says what it changes. See ``ato/tracker/migrations/README.md`` for adding one.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from alembic import command
from sqlalchemy import Connection

from ..errors import NotATrackerDatabaseError, SchemaTooNewError, SchemaUpgradeError, TrackerError
from .database import Database
from .revisions import Revision, alembic_config, describe_revision, history, script_directory
from .schema import HEAD_REVISION, SchemaState, read_state, schema_lock, stamp
from .versions import __version__

__all__ = [
    "CurrentRevision",
    "Revision",
    "UpgradeResult",
    "alembic_config",
    "current",
    "describe_revision",
    "history",
    "script_directory",
    "upgrade",
]


@dataclass(frozen=True)
class CurrentRevision:
    """The schema revision of a database.

    Attributes:
        url: the database URL, password hidden.
        revision: its revision.
        versioned: read from the version table (``False``: recognised by the tables' shape).
        head: the revision this ato-tracker needs.
    """

    url: str
    revision: str
    versioned: bool
    head: str

    @property
    def up_to_date(self) -> bool:
        """True if the database is at the head revision."""
        return self.revision == self.head


@dataclass(frozen=True)
class UpgradeResult:
    """What `upgrade` did: the revision ``before`` and ``after``, the revisions
    ``applied`` (oldest first; empty when already up to date), the SQLite ``backup`` copy
    made first (``None`` for servers and when nothing was applied) and whether the revision
    was ``recorded`` for the first time (a database from before versioning)."""

    url: str
    before: str
    after: str
    applied: list[str]
    backup: Path | None
    recorded: bool = False


def current(url: str) -> CurrentRevision:
    """The schema revision of the database at ``url``, read without changing anything.

    Raises:
        DatabaseNotFoundError: a SQLite file that does not exist.
        NotATrackerDatabaseError: no tracker tables, or incomplete ones or of an unknown shape.
        sqlalchemy.exc.DBAPIError: the database cannot be opened or read.
    """
    database = Database.from_url(url)
    database.require_exists()
    state = database.schema_state()
    shown = database.shown_sqlalchemy_url
    if state.revision is None:
        raise NotATrackerDatabaseError(shown, "has no tracker tables")
    return CurrentRevision(shown, state.revision, state.versioned, HEAD_REVISION)


def upgrade(url: str) -> UpgradeResult:
    """Upgrade the tracker database at ``url`` to the head revision.

    Idempotent: an up-to-date database is left as it is (a database written before versions
    were recorded gets its revision recorded). One process at a time (the schema lock). On
    PostgreSQL and MySQL/MariaDB each revision runs in its own transaction and records itself
    when done, so an interrupted upgrade resumes where it stopped (MySQL/MariaDB commit DDL at
    once; the revisions check what is already done). On SQLite a backup copy
    ``<file>.<revision>-<UTC time>.bak`` is made first (written under a temporary name, synced
    and checked, then renamed) and the whole upgrade is one transaction.

    Raises:
        DatabaseNotFoundError: a SQLite file that does not exist.
        NotATrackerDatabaseError: no tracker tables, or tables of an unknown shape.
        SchemaTooNewError: the database was upgraded by a newer ato.
        SchemaUpgradeError: a revision failed (the cause is chained; rerun after fixing it),
            or the SQLite backup copy could not be written (nothing was changed then).
    """
    database = Database.from_url(url)
    database.require_exists()
    shown = database.shown_sqlalchemy_url
    _check_upgradable(database.schema_state(), shown)  # before connecting changes anything
    engine = database.engine(create_schema=False)
    try:
        with schema_lock(engine) as conn:
            return _upgrade_locked(conn, database)
    except TrackerError:
        raise
    except Exception as error:  # any failure inside a migration script
        raise SchemaUpgradeError(f"upgrading {shown!r} failed: {error}") from error
    finally:
        engine.dispose()  # no connection that saw the old schema stays pooled


def _upgrade_locked(conn: Connection, database: Database) -> UpgradeResult:
    if conn.dialect.name == "sqlite":
        with conn.begin():  # BEGIN IMMEDIATE: the whole upgrade is one transaction
            return _upgrade_steps(conn, database, sqlite=True)
    return _upgrade_steps(conn, database, sqlite=False)


def _upgrade_steps(conn: Connection, database: Database, *, sqlite: bool) -> UpgradeResult:
    shown = database.shown_sqlalchemy_url
    state = read_state(conn, shown)
    before = _check_upgradable(state, shown)
    pending = _pending(before)
    backup = _backup(database, before) if sqlite and pending else None
    if not state.versioned:
        stamp(conn, before)
    if not sqlite:
        conn.commit()  # Alembic then runs each revision in a transaction of its own
    if pending:
        command.upgrade(alembic_config(conn), "head")
        if not sqlite:
            conn.commit()
    return UpgradeResult(shown, before, HEAD_REVISION, pending, backup, not state.versioned)


def _check_upgradable(state: SchemaState, shown: str) -> str:
    """The revision of a database in ``state``; raise if it has none or one newer than ours."""
    if state.revision is None:
        raise NotATrackerDatabaseError(shown, "has no tracker tables")
    if describe_revision(state.revision) is None:
        raise SchemaTooNewError(shown, state.revision, HEAD_REVISION, __version__)
    return state.revision


def _pending(revision: str) -> list[str]:
    """Revisions after ``revision`` up to the head, oldest first."""
    script = script_directory()
    newer = [str(rev.revision) for rev in script.iterate_revisions("head", revision)]
    return [rev for rev in reversed(newer) if rev != revision]


def _backup(database: Database, revision: str) -> Path:
    """Copy the SQLite file of ``database`` (with its WAL contents) next to it, via SQLite's backup
    API so the copy is consistent; return the copy's path.

    The copy is written under a temporary name, synced to disk and checked (SQLite's
    ``quick_check`` and the page count) before it is renamed to its final name, so a file named
    like a backup is always a whole one.

    Raises:
        SchemaUpgradeError: the copy could not be written or did not check out (a full disk,
            say); the partial copy is removed and nothing was upgraded.
    """
    path = database.sqlite_path
    assert path is not None  # noqa: S101 - invariant, narrows the type
    stamp_text = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = path.resolve().with_name(f"{path.name}.{revision}-{stamp_text}.bak")
    partial = target.with_name(target.name + ".partial")
    try:
        _copy_checked(path, partial)
        os.replace(partial, target)
        _sync_directory(target.parent)
    except (OSError, sqlite3.Error) as error:
        for leftover in (partial, partial.with_name(partial.name + "-journal")):
            leftover.unlink(missing_ok=True)
        raise SchemaUpgradeError(
            f"could not write the backup copy {target} before upgrading {database.shown_sqlalchemy_url!r} "
            f"({error}); the partial copy was removed and the database was not changed. Free "
            f"disk space in {target.parent} (the copy needs about {path.stat().st_size:,} "
            "bytes) and run `ato db upgrade` again"
        ) from error
    return target


def _copy_checked(path: Path, copy_path: Path) -> None:
    """Back ``path`` up into ``copy_path``, fsync it and check it is a whole copy."""
    source = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True)
    copy = sqlite3.connect(copy_path)
    try:
        source.backup(copy)
        pages = source.execute("PRAGMA page_count").fetchone()[0]
        check = copy.execute("PRAGMA quick_check").fetchone()[0]
        copied = copy.execute("PRAGMA page_count").fetchone()[0]
        if check != "ok" or copied != pages:
            raise sqlite3.DatabaseError(
                f"the copy does not check out ({check}; {copied} of {pages} pages)"
            )
    finally:
        copy.close()
        source.close()
    with open(copy_path, "rb+") as written:
        os.fsync(written.fileno())


def _sync_directory(directory: Path) -> None:
    """fsync ``directory`` so that a rename in it survives a crash (where supported)."""
    if os.name != "posix":
        return
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
