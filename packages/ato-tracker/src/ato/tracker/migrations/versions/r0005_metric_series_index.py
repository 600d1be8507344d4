"""metrics get an index along each series' steps

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

- ``metrics``: new index ``ix_metrics_run_key_step_value`` on ``(run_id, key, step, value)``.
  A downsampled series (``ato.tracker.read.series``, the dashboard's charts) reads its step range
  with two seeks and each bucket's extremes from this index alone, without reading table rows.
  Old rows need no new values; building the index reads the table once.

Each step checks whether it is already done, so that rerunning after an interruption on
MySQL/MariaDB finishes the job.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INDEX = "ix_metrics_run_key_step_value"


def upgrade() -> None:
    """Create the series index (nothing else changes)."""
    if INDEX not in _indexes("metrics"):
        op.create_index(INDEX, "metrics", ["run_id", "key", "step", "value"])


def downgrade() -> None:
    """Drop the series index (downsampling falls back to reading table rows)."""
    if INDEX in _indexes("metrics"):
        op.drop_index(INDEX, table_name="metrics")


def _indexes(table: str) -> set[str]:
    return {str(index["name"]) for index in sa.inspect(op.get_bind()).get_indexes(table)}
