"""runs record their provenance and a heartbeat

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

- ``experiments``: new nullable ``provenance`` (JSON: how the run was launched - argv, working
  directory, host, Python and ato versions, git state, Scope views/overrides/per-key writes)
  and nullable ``heartbeat`` (timestamp of the writer's latest sign of life). Old runs get
  ``NULL`` for both: their provenance was never recorded, and readers judge a ``running`` run
  without a heartbeat by its start time (so a run whose process died before the upgrade reads
  as ``crashed``).

Adding nullable columns needs no table copy on any backend; each step checks whether it is
already done, so that rerunning after an interruption on MySQL/MariaDB finishes the job.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    """Add ``experiments.provenance`` and ``experiments.heartbeat`` (both NULL for old runs)."""
    columns = _columns("experiments")
    if "provenance" not in columns:
        op.add_column("experiments", sa.Column("provenance", sa.JSON(), nullable=True))
    if "heartbeat" not in columns:
        op.add_column("experiments", sa.Column("heartbeat", TIMESTAMP, nullable=True))


def downgrade() -> None:
    """Drop both columns again (the recorded provenance and heartbeats are lost)."""
    columns = _columns("experiments")
    with op.batch_alter_table("experiments") as batch:
        for column in ("heartbeat", "provenance"):
            if column in columns:
                batch.drop_column(column)


def _columns(table: str) -> set[str]:
    return {column["name"] for column in sa.inspect(op.get_bind()).get_columns(table)}
