"""runs keep a summary of each metric (count, extremes, last value)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

- New table ``metric_summaries``, one row per run and metric key: ``value_count``,
  ``min_value``/``max_value`` (stored values: an infinity's stand-in is the largest double of
  its sign, NaN skipped), ``has_pos_inf``/``has_neg_inf``, and the ``last_value``,
  ``last_class``, ``last_step``, ``last_timestamp`` of the row written last. Every metric
  write keeps it up to date in the same transaction; run tables (``ato runs list``, the
  dashboard) read it instead of aggregating the ``metrics`` rows.
- Old runs get their summaries computed from their ``metrics`` rows ("last" is the row with
  the highest id, the order rows were written in).

Each step checks whether it is already done, so that rerunning after an interruption on
MySQL/MariaDB finishes the job (the table is refilled from scratch).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLE = "metric_summaries"
TIMESTAMP = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
POS_INF, NEG_INF = 2, 3  # value classes (ato.tracker.storage.values)

SUMMARY_COLUMNS = (
    "run_id", "key", "value_count", "min_value", "max_value", "has_pos_inf", "has_neg_inf",
    "last_value", "last_class", "last_step", "last_timestamp",
)  # fmt: skip


def upgrade() -> None:
    """Create ``metric_summaries`` and fill it from the existing ``metrics`` rows."""
    if not sa.inspect(op.get_bind()).has_table(TABLE):
        op.create_table(
            TABLE,
            sa.Column("run_id", sa.Integer(), sa.ForeignKey("experiments.id"), nullable=False),
            sa.Column("key", _name_type(), nullable=False),
            sa.Column("value_count", sa.BigInteger(), nullable=False),
            sa.Column("min_value", sa.Double(), nullable=True),
            sa.Column("max_value", sa.Double(), nullable=True),
            sa.Column("has_pos_inf", sa.SmallInteger(), nullable=False),
            sa.Column("has_neg_inf", sa.SmallInteger(), nullable=False),
            sa.Column("last_value", sa.Double(), nullable=True),
            sa.Column("last_class", sa.SmallInteger(), nullable=False),
            sa.Column("last_step", sa.BigInteger(), nullable=True),
            sa.Column("last_timestamp", TIMESTAMP, nullable=False),
            sa.PrimaryKeyConstraint("run_id", "key"),
            sqlite_with_rowid=False,
        )
    summaries = sa.table(TABLE, *map(sa.column, SUMMARY_COLUMNS))
    op.execute(summaries.delete())
    op.execute(summaries.insert().from_select(list(SUMMARY_COLUMNS), _backfill()))


def downgrade() -> None:
    """Drop ``metric_summaries`` (readers of older versions aggregate ``metrics``)."""
    op.drop_table(TABLE)


def _backfill() -> sa.Select[tuple[object, ...]]:
    """Per run and key of ``metrics``: the summary columns, "last" being the highest id."""
    names = ("id", "run_id", "key", "value", "value_class", "step", "timestamp")
    m = sa.table("metrics", *map(sa.column, names)).c
    agg = (
        sa.select(
            m.run_id,
            m.key,
            sa.func.count().label("n"),
            sa.func.min(m.value).label("lo"),
            sa.func.max(m.value).label("hi"),
            sa.func.max(sa.case((m.value_class == POS_INF, 1), else_=0)).label("pos_inf"),
            sa.func.max(sa.case((m.value_class == NEG_INF, 1), else_=0)).label("neg_inf"),
            sa.func.max(m.id).label("last_id"),
        )
        .group_by(m.run_id, m.key)
        .subquery()
    )
    last = sa.table("metrics", *map(sa.column, names)).alias("last_row")
    a, lr = agg.c, last.c
    return sa.select(
        a.run_id, a.key, a.n, a.lo, a.hi, a.pos_inf, a.neg_inf,
        lr.value, lr.value_class, lr.step, lr.timestamp,
    ).join_from(agg, last, lr.id == a.last_id)  # fmt: skip


def _name_type() -> sa.types.TypeEngine[str]:
    """``VARCHAR(255)``, with the exact collation of revision 0003 on MySQL/MariaDB."""
    bind = op.get_bind()
    if bind.dialect.name in ("mysql", "mariadb"):
        mariadb = bool(getattr(bind.dialect, "is_mariadb", False))
        return mysql.VARCHAR(255, collation="utf8mb4_nopad_bin" if mariadb else "utf8mb4_0900_bin")
    return sa.String(255)
