"""schema of ato 2.x

Revision ID: 0001
Revises:
Create Date: 2026-11-29

Databases written by ato 2.x have no version table and are recognised by their shape (the
``artifacts.data_info`` column). This revision creates the tables as ato 2.2.1 did, so that
the chain starts from an empty database. ato 2.x declared strings without a length;
MySQL/MariaDB need one, 255 is used there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _text() -> sa.types.TypeEngine[str]:
    return sa.String().with_variant(sa.String(255), "mysql", "mariadb")


def _run_id() -> sa.Column[int]:
    return sa.Column("run_id", sa.Integer, sa.ForeignKey("experiments.id"), nullable=False)


def upgrade() -> None:
    """Create the five ato 2.x tables and their indexes."""
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", _text(), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("created_at", sa.DateTime),
    )
    op.create_index("ix_projects_name", "projects", ["name"], unique=True)
    op.create_table(
        "experiments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("structural_hash", sa.String(64)),
        sa.Column("tags", sa.JSON),
        sa.Column("status", _text()),
        sa.Column("start_time", sa.DateTime),
        sa.Column("end_time", sa.DateTime),
    )
    for column in ("structural_hash", "status", "project_id"):
        op.create_index(f"ix_experiments_{column}", "experiments", [column])
    op.create_table(
        "metrics",
        sa.Column("id", sa.Integer, primary_key=True),
        _run_id(),
        sa.Column("key", _text(), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("timestamp", sa.DateTime),
    )
    op.create_index("ix_metrics_key", "metrics", ["key"])
    op.create_index("ix_metrics_run_id", "metrics", ["run_id"])
    op.create_table(
        "artifacts",
        sa.Column("id", sa.Integer, primary_key=True),
        _run_id(),
        sa.Column("path", _text(), nullable=False),
        sa.Column("data_type", _text()),
        sa.Column("data_info", sa.JSON),
    )
    op.create_index("ix_artifacts_run_id", "artifacts", ["run_id"])
    op.create_table(
        "fingerprints",
        sa.Column("id", sa.Integer, primary_key=True),
        _run_id(),
        sa.Column("trace_id", _text(), nullable=False),
        sa.Column("trace_type", sa.String(32), nullable=False),
        sa.Column("fingerprint", sa.String(128), nullable=False),
    )
    for column in ("fingerprint", "trace_type", "trace_id", "run_id"):
        op.create_index(f"ix_fingerprints_{column}", "fingerprints", [column])


def downgrade() -> None:
    """Drop the five tables."""
    for table in ("fingerprints", "artifacts", "metrics", "experiments", "projects"):
        op.drop_table(table)
