"""artifacts gain a name, size, SHA-256 digest and a stored flag (the artifact store)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

- ``artifacts.name`` (text): the name a run's artifact is listed and fetched by
  (``ato runs get RUN NAME``); ``NULL`` for rows written before, which readers name by their
  ``path``.
- ``artifacts.size`` (bytes) and ``artifacts.sha256`` (64 hex digits): recorded when the file
  was readable at logging time, ``NULL`` otherwise and for older rows.
- ``artifacts.stored``: true when a copy of the file is in the database's artifact store
  (``ato.tracker.storage.artifact_store``); older rows are references (false).

Each column is added only if missing, so rerunning after an interruption on MySQL/MariaDB
(whose DDL commits at once) finishes the job.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

COLUMNS = ("name", "size", "sha256", "stored")


def upgrade() -> None:
    """Add the four columns to ``artifacts`` (existing rows: references, no name/size/hash)."""
    present = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("artifacts")}
    new: dict[str, sa.Column[Any]] = {
        "name": sa.Column("name", sa.Text(), nullable=True),
        "size": sa.Column("size", sa.BigInteger(), nullable=True),
        "sha256": sa.Column("sha256", sa.String(64), nullable=True),
        "stored": sa.Column("stored", sa.Boolean(), nullable=False, server_default=sa.false()),
    }
    for name in COLUMNS:
        if name not in present:
            op.add_column("artifacts", new[name])


def downgrade() -> None:
    """Drop the four columns (stored files stay in the store; older versions ignore them)."""
    with op.batch_alter_table("artifacts") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
