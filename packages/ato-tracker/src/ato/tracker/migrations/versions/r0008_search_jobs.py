"""the job queues of searches shared by several workers (search_queues, search_jobs)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

- ``search_queues``: one row per shared search (``search_id``), holding the stamp of its
  latest scheduling event (``seq``), when the first worker saw it end (``finished_at``) and
  the run that holds its answer (``answer_run``).
- ``search_jobs``: one row per (trial, rung) job of a shared search: its state
  (queued/claimed/done/failed), the worker that claimed it and that worker's heartbeat (in the
  database's clock), the number of claims, the job's payload and result, and the event stamps
  of its creation and end.

Each table is created only if missing, so rerunning after an interruption on MySQL/MariaDB
(whose DDL commits at once) finishes the job. Existing tables are not touched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

QUEUES, JOBS = "search_queues", "search_jobs"
TIMESTAMP = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the two tables (and the job table's indexes) when they are missing."""
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table(QUEUES):
        op.create_table(
            QUEUES,
            sa.Column("search_id", _name_type(), primary_key=True),
            sa.Column("seq", sa.BigInteger(), nullable=False),
            sa.Column("created_at", TIMESTAMP, nullable=False),
            sa.Column("finished_at", TIMESTAMP, nullable=True),
            sa.Column("answer_run", sa.BigInteger(), nullable=True),
        )
    if not inspector.has_table(JOBS):
        op.create_table(
            JOBS,
            sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
            sa.Column("search_id", _name_type(), nullable=False),
            sa.Column("job_key", sa.String(255), nullable=False),
            sa.Column("trial_id", sa.Integer(), nullable=False),
            sa.Column("rung", sa.Integer(), nullable=False),
            sa.Column("bracket", sa.Integer(), nullable=False),
            sa.Column("payload", sa.JSON(), nullable=False),
            sa.Column("state", sa.String(32), nullable=False),
            sa.Column("claimed_by", sa.String(255), nullable=True),
            sa.Column("heartbeat", TIMESTAMP, nullable=True),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("result", sa.JSON(), nullable=True),
            sa.Column("created_seq", sa.BigInteger(), nullable=False),
            sa.Column("done_seq", sa.BigInteger(), nullable=True),
            sa.Column("created_at", TIMESTAMP, nullable=False),
            sa.Column("finished_at", TIMESTAMP, nullable=True),
        )
        op.create_index("uq_search_jobs_key", JOBS, ["search_id", "job_key"], unique=True)
        op.create_index("ix_search_jobs_state", JOBS, ["search_id", "state", "id"])
        op.create_index("ix_search_jobs_created", JOBS, ["search_id", "created_seq"])
        op.create_index("ix_search_jobs_done", JOBS, ["search_id", "done_seq"])


def downgrade() -> None:
    """Drop the two tables (the searches' runs stay in ``experiments``)."""
    op.drop_table(JOBS)
    op.drop_table(QUEUES)


def _name_type() -> sa.types.TypeEngine[str]:
    """``VARCHAR(255)``, with the exact collation of revision 0003 on MySQL/MariaDB."""
    bind = op.get_bind()
    if bind.dialect.name in ("mysql", "mariadb"):
        mariadb = bool(getattr(bind.dialect, "is_mariadb", False))
        return mysql.VARCHAR(255, collation="utf8mb4_nopad_bin" if mariadb else "utf8mb4_0900_bin")
    return sa.String(255)
