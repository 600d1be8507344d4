"""The upsert both write-time folds use (metric summaries, `ato.tracker.write.fold`; the
series' blocks, `ato.tracker.write.series_blocks`): insert a row, or merge it into the stored
row with the same key, in each backend's own syntax."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Dialect


def merge_statement(
    table: Table, dialect: Dialect, keys: Sequence[str], merged: Callable[[Any], dict[str, Any]]
) -> Any:
    """``INSERT`` into ``table`` that merges a row whose ``keys`` (column names of its primary
    key) are stored already: ``ON DUPLICATE KEY UPDATE`` on MySQL/MariaDB, ``ON CONFLICT (keys)
    DO UPDATE`` on PostgreSQL and SQLite. ``merged(new)`` gives the SET clauses from ``new``,
    the row being inserted (``inserted`` / ``excluded``)."""
    if dialect.name in ("mysql", "mariadb"):
        stmt = mysql.insert(table)
        return stmt.on_duplicate_key_update(merged(stmt.inserted))
    module = postgresql if dialect.name == "postgresql" else sqlite
    stmt = module.insert(table)
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=merged(stmt.excluded))


def on_conflict(statement: Any, dialect: Dialect) -> str:
    """The ``ON CONFLICT ... DO UPDATE SET ...`` clause of a SQLite or PostgreSQL
    `merge_statement` as SQL text of ``dialect``, for an ``INSERT ... SELECT`` written by hand
    (its SET clauses must bind no parameters)."""
    upsert = str(statement.compile(dialect=dialect))
    return upsert[upsert.index("ON CONFLICT") :]
