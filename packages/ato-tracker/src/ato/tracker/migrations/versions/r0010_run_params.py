"""runs keep their config flattened into run_params, for filters and sorts by a parameter

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

- New table ``run_params``, one row per run and dotted config key a filter can name:
  ``kind`` (0 number, 1 string, 2 bool, 3 other), ``num_value`` (numbers; 1/0 for bools)
  and ``text_value`` (strings) with its first 200 characters ``text_prefix``, primary key
  ``(run_id, key)``, indexes on ``(key, kind, num_value)`` and ``(key, text_prefix)``
  (layout: ``ato.tracker.storage.run_params``). Every run written from now on gets its
  rows in the transaction that stores its config; runs tables (``SQLFinder.query_runs``,
  the dashboard) filter and sort by parameters through it instead of reading each run's
  JSON.
- Old runs get their rows from their stored config, read in chunks of ids.

Each step checks whether it is already done, so that rerunning after an interruption on
MySQL/MariaDB finishes the job (the table is refilled from scratch).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from ato.tracker.storage import run_params

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLE = "run_params"
CHUNK = 2_000  # runs read (and their rows written) at a time


def upgrade() -> None:
    """Create ``run_params`` (with its index) and fill it from the stored configs."""
    bind = op.get_bind()
    if not sa.inspect(bind).has_table(TABLE):
        op.create_table(
            TABLE,
            sa.Column("run_id", sa.Integer(), sa.ForeignKey("experiments.id"), nullable=False),
            sa.Column("key", _name_type(255), nullable=False),
            sa.Column("kind", sa.SmallInteger(), nullable=False),
            sa.Column("num_value", sa.Double(), nullable=True),
            sa.Column("text_value", _text_type(), nullable=True),
            sa.Column("text_prefix", _name_type(200), nullable=True),
            sa.PrimaryKeyConstraint("run_id", "key"),
            sqlite_with_rowid=False,
        )
        op.create_index("ix_run_params_key_number", TABLE, ["key", "kind", "num_value", "run_id"])
        op.create_index("ix_run_params_key_text", TABLE, ["key", "text_prefix", "run_id"])
    params = sa.table(TABLE, *map(sa.column, run_params.COLUMNS))
    op.execute(params.delete())
    _backfill(bind, params)


def downgrade() -> None:
    """Drop ``run_params`` (readers of older versions read the configs' JSON)."""
    op.drop_table(TABLE)


def _backfill(bind: sa.Connection, params: Any) -> None:
    """Every run's rows, from its ``config``, ``CHUNK`` runs at a time in id order."""
    runs = sa.table("experiments", sa.column("id", sa.Integer()), sa.column("config", sa.JSON()))
    last = -1
    while True:
        chunk = bind.execute(
            sa.select(runs.c.id, runs.c.config)
            .where(runs.c.id > last)
            .order_by(runs.c.id)
            .limit(CHUNK)
        ).all()
        if not chunk:
            return
        rows = [row for run_id, config in chunk for row in run_params.rows(run_id, config)]
        if rows:
            bind.execute(params.insert(), rows)
        last = chunk[-1][0]


def _name_type(length: int) -> sa.types.TypeEngine[str]:
    """``VARCHAR(length)``, with the exact collation of revision 0003 on MySQL/MariaDB."""
    collation = _exact_collation()
    return sa.String(length) if collation is None else mysql.VARCHAR(length, collation=collation)


def _text_type() -> sa.types.TypeEngine[str]:
    """``TEXT``; on MySQL/MariaDB ``LONGTEXT`` with the exact collation of revision 0003."""
    collation = _exact_collation()
    return sa.Text() if collation is None else mysql.LONGTEXT(collation=collation)


def _exact_collation() -> str | None:
    """The binary no-pad collation on MySQL/MariaDB, else ``None``."""
    bind = op.get_bind()
    if bind.dialect.name not in ("mysql", "mariadb"):
        return None
    mariadb = bool(getattr(bind.dialect, "is_mariadb", False))
    return "utf8mb4_nopad_bin" if mariadb else "utf8mb4_0900_bin"
