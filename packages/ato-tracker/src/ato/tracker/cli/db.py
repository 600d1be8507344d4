"""The ``ato db ...`` commands: the schema revision of a tracker database and upgrading it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from ..storage import migrate


@dataclass
class DbContext:
    """What the ``ato db`` commands need: the database URL, the output mode and the console."""

    db_url: str
    as_json: bool
    console: Console

    def emit(self, data: Any, text: str | Table) -> None:
        """Print ``data`` as JSON with ``--json``, else ``text``."""
        if self.as_json:
            self.console.file.write(json.dumps(data, indent=2) + "\n")
        else:
            self.console.print(text)


def _label(revision: str | None) -> str:
    if revision is None:
        return "none"
    description = migrate.describe_revision(revision)
    return f"{revision} ({description})" if description else f"{revision} (unknown to this ato)"


def upgrade(ctx: DbContext) -> None:
    """``ato db upgrade``: bring the database to the newest schema revision (see
    `ato.tracker.migrate.upgrade`); says what was applied and where the backup is."""
    result = migrate.upgrade(ctx.db_url)
    data = {
        "database": result.url,
        "before": result.before,
        "after": result.after,
        "applied": result.applied,
        "backup": str(result.backup) if result.backup else None,
        "recorded": result.recorded,
    }
    if result.applied:
        lines = [
            f"Upgraded {result.url} from schema revision {_label(result.before)} "
            f"to {_label(result.after)}.",
            *(f"  applied {rev}: {migrate.describe_revision(rev)}" for rev in result.applied),
        ]
        if result.backup:
            lines.append(f"Backup of the database before the upgrade: {result.backup}")
    elif result.recorded:
        lines = [
            f"{result.url} is at schema revision {_label(result.after)}; recorded the revision "
            "in the database (it was written before revisions were recorded)."
        ]
    else:
        lines = [
            f"{result.url} is already at schema revision {_label(result.after)}; nothing to do."
        ]
    ctx.emit(data, "\n".join(lines))


def current(ctx: DbContext) -> None:
    """``ato db current``: the database's schema revision and whether it is up to date."""
    state = migrate.current(ctx.db_url)
    data = {
        "database": state.url,
        "revision": state.revision,
        "recorded": state.versioned,
        "head": state.head,
        "up_to_date": state.up_to_date,
    }
    lines = [f"{state.url}: schema revision {_label(state.revision)}"]
    if not state.versioned:
        lines.append("  (not recorded in the database yet: recognised by its tables)")
    if state.up_to_date:
        lines.append("Up to date.")
    elif migrate.describe_revision(state.revision or "") is None:
        lines.append(
            f"Newer than this ato-tracker (which knows up to {state.head}): upgrade ato, "
            "pip install -U ato-tracker"
        )
    else:
        lines.append(
            f"Out of date: this ato-tracker needs {state.head}; run: ato db upgrade --db "
            f"'{state.url}'"
        )
    ctx.emit(data, "\n".join(lines))


def history(ctx: DbContext) -> None:
    """``ato db history``: every schema revision, oldest first (no database needed)."""
    revisions = migrate.history()
    table = Table("revision", "follows", "description", box=None, header_style="bold")
    for rev in revisions:
        label = f"{rev.revision} (head)" if rev.head else rev.revision
        table.add_row(label, rev.down_revision or "-", rev.description)
    data = [
        {
            "revision": rev.revision,
            "down_revision": rev.down_revision,
            "description": rev.description,
            "head": rev.head,
        }
        for rev in revisions
    ]
    ctx.emit(data, table)
