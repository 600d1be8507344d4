"""The tracker's migration scripts as Alembic sees them: their folder, the revisions in order
and their one-line descriptions (read by `ato.tracker.migrate` and to describe a schema
mismatch)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

MIGRATIONS_DIR = Path(__file__).parent.parent / "migrations"


@dataclass(frozen=True)
class Revision:
    """One schema revision: ``revision`` id, the one it follows (``down_revision``, ``None`` for
    the first), its one-line ``description`` and whether it is the ``head`` (newest)."""

    revision: str
    down_revision: str | None
    description: str
    head: bool


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic ``Config`` for the tracker's migrations, running on ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "r%%(rev)s_%%(slug)s")  # importable module names
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def script_directory() -> ScriptDirectory:
    """The tracker's migration scripts (loaded once per process)."""
    return ScriptDirectory.from_config(alembic_config())


def history() -> list[Revision]:
    """Every schema revision, oldest first."""
    script = script_directory()
    heads = set(script.get_heads())
    revisions = [
        Revision(
            revision=str(rev.revision),
            down_revision=_single(rev.down_revision),
            description=_first_line(rev.doc),
            head=rev.revision in heads,
        )
        for rev in script.walk_revisions()
    ]
    return revisions[::-1]


def describe_revision(revision: str) -> str | None:
    """The one-line description of ``revision``, or ``None`` if no migration script has it
    (a revision written by a newer ato)."""
    for known in history():
        if known.revision == revision:
            return known.description
    return None


def _first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0] if lines else ""


def _single(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, (tuple, list)):
        return ", ".join(map(str, value))
    return str(value)
