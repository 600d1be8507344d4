"""series keep a coarse level of detail (count, NaN count and extremes per 64 steps)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

- New table ``metric_series_lod``, one row per run, metric key and block of 64 steps
  (``block = step >> 6``, floor division): ``value_count``, ``nan_count`` and
  ``min_value``/``max_value`` (stored values as in ``metric_summaries``; NULL when the block
  logged only NaN). Every metric write keeps it up to date in the same transaction; the
  downsampling of long series (``ato.tracker.read.series``) reads it instead of every value.
- Old runs get their blocks computed from their ``metrics`` rows (values without a step have
  no block).

Each step checks whether it is already done, so that rerunning after an interruption on
MySQL/MariaDB finishes the job (the table is refilled from scratch).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLE = "metric_series_lod"
SHIFT = 6
COLUMNS = ("run_id", "key", "block", "value_count", "nan_count", "min_value", "max_value")


def upgrade() -> None:
    """Create ``metric_series_lod`` and fill it from the existing ``metrics`` rows."""
    if not sa.inspect(op.get_bind()).has_table(TABLE):
        op.create_table(
            TABLE,
            sa.Column("run_id", sa.Integer(), sa.ForeignKey("experiments.id"), nullable=False),
            sa.Column("key", _name_type(), nullable=False),
            sa.Column("block", sa.BigInteger(), nullable=False, autoincrement=False),
            sa.Column("value_count", sa.BigInteger(), nullable=False),
            sa.Column("nan_count", sa.BigInteger(), nullable=False),
            sa.Column("min_value", sa.Double(), nullable=True),
            sa.Column("max_value", sa.Double(), nullable=True),
            sa.PrimaryKeyConstraint("run_id", "key", "block"),
            sqlite_with_rowid=False,
        )
    blocks = sa.table(TABLE, *map(sa.column, COLUMNS))
    op.execute(blocks.delete())
    op.execute(blocks.insert().from_select(list(COLUMNS), _backfill()))


def downgrade() -> None:
    """Drop ``metric_series_lod`` (readers of older versions read every value)."""
    op.drop_table(TABLE)


def _backfill() -> sa.Select[tuple[object, ...]]:
    """Per run, key and block of ``metrics`` rows with a step: the block's columns."""
    m = sa.table("metrics", *map(sa.column, ("run_id", "key", "value", "step"))).c
    # Inlined, not bound: PostgreSQL has no bigint >> bigint, and GROUP BY must repeat it.
    block: sa.ColumnElement[object]
    if op.get_bind().dialect.name in ("mysql", "mariadb"):  # >> is unsigned there
        block = sa.func.floor(m.step / sa.literal_column(str(1 << SHIFT), sa.Integer()))
    else:
        block = m.step.op(">>")(sa.literal_column(str(SHIFT), sa.Integer()))
    return (
        sa.select(
            m.run_id,
            m.key,
            block,
            sa.func.count(),
            sa.func.count() - sa.func.count(m.value),
            sa.func.min(m.value),
            sa.func.max(m.value),
        )
        .where(m.step.is_not(None))
        .group_by(m.run_id, m.key, block)
    )


def _name_type() -> sa.types.TypeEngine[str]:
    """``VARCHAR(255)``, with the exact collation of revision 0003 on MySQL/MariaDB."""
    bind = op.get_bind()
    if bind.dialect.name in ("mysql", "mariadb"):
        mariadb = bool(getattr(bind.dialect, "is_mariadb", False))
        return mysql.VARCHAR(255, collation="utf8mb4_nopad_bin" if mariadb else "utf8mb4_0900_bin")
    return sa.String(255)
