"""metrics written exactly once, NaN and infinities stored exactly, names compared exactly

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

- ``metrics``: new ``writer`` and ``seq`` (64-bit, nullable; old rows keep NULL) with a unique
  index on ``(run_id, writer, seq)``: each buffer numbers its rows, and a retried insert skips
  rows already stored (exactly-once delivery). New ``value_class`` (required, default 0):
  0 finite, 1 NaN (``value`` NULL), 2 +inf and 3 -inf (``value`` the largest finite double of
  that sign). Old rows: NULL values - the 3.0 way of storing every non-finite value - become
  NaN (whether they were NaN or an infinity was not stored); infinities and NaN that a backend
  kept as such (SQLite and PostgreSQL under ato 2.x) get their exact class.
- MySQL/MariaDB: ``projects.name``, ``metrics.key`` and ``fingerprints.trace_id`` get a
  binary no-pad collation (``utf8mb4_nopad_bin`` on MariaDB, ``utf8mb4_0900_bin`` on MySQL), so
  ``Loss``, ``loss`` and ``loss `` are three names as on SQLite and PostgreSQL. Existing names
  stay distinct (the old collation was coarser).

Every step checks whether it is already done (MySQL/MariaDB commit DDL at once).
"""

from __future__ import annotations

import sys

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

DBL_MAX = repr(sys.float_info.max)
NAME_COLUMNS = [("projects", "name", False), ("metrics", "key", False)]
NAME_COLUMNS.append(("fingerprints", "trace_id", False))


def upgrade() -> None:
    """Add the exactly-once and value-class columns; exact collation on MySQL/MariaDB."""
    columns = _columns("metrics")
    with op.batch_alter_table("metrics") as batch:
        if "value_class" not in columns:
            batch.add_column(
                sa.Column("value_class", sa.SmallInteger(), nullable=False, server_default="0")
            )
        if "writer" not in columns:
            batch.add_column(sa.Column("writer", sa.BigInteger(), nullable=True))
        if "seq" not in columns:
            batch.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
    if "uq_metrics_run_writer_seq" not in _indexes("metrics"):
        op.create_index(
            "uq_metrics_run_writer_seq", "metrics", ["run_id", "writer", "seq"], unique=True
        )
    _classify_old_values()
    if _dialect() in ("mysql", "mariadb"):
        collation = "utf8mb4_nopad_bin" if _is_mariadb() else "utf8mb4_0900_bin"
        for table, column, nullable in NAME_COLUMNS:
            op.alter_column(
                table,
                column,
                type_=mysql.VARCHAR(255, collation=collation),
                existing_type=sa.String(255),
                existing_nullable=nullable,
            )


def downgrade() -> None:
    """Drop the new columns and index (infinities read back as the largest double); back to
    the server's default collation on MySQL/MariaDB."""
    op.execute("UPDATE metrics SET value = NULL WHERE value_class <> 0")
    op.drop_index("uq_metrics_run_writer_seq", table_name="metrics")
    with op.batch_alter_table("metrics") as batch:
        batch.drop_column("seq")
        batch.drop_column("writer")
        batch.drop_column("value_class")
    if _dialect() in ("mysql", "mariadb"):
        for table, column, nullable in NAME_COLUMNS:
            op.alter_column(
                table,
                column,
                type_=mysql.VARCHAR(255),
                existing_type=sa.String(255),
                existing_nullable=nullable,
            )


def _classify_old_values() -> None:
    """Value classes of rows written before this revision (see the module docstring)."""
    if _dialect() == "postgresql":
        op.execute("UPDATE metrics SET value = NULL, value_class = 1 WHERE value = 'NaN'::float8")
    op.execute(f"UPDATE metrics SET value = {DBL_MAX}, value_class = 2 WHERE value > {DBL_MAX}")
    op.execute(f"UPDATE metrics SET value = -{DBL_MAX}, value_class = 3 WHERE value < -{DBL_MAX}")
    op.execute("UPDATE metrics SET value_class = 1 WHERE value IS NULL AND value_class = 0")


def _dialect() -> str:
    return op.get_bind().dialect.name


def _is_mariadb() -> bool:
    return bool(getattr(op.get_bind().dialect, "is_mariadb", False))


def _columns(table: str) -> set[str]:
    return {column["name"] for column in sa.inspect(op.get_bind()).get_columns(table)}


def _indexes(table: str) -> set[str]:
    return {str(index["name"]) for index in sa.inspect(op.get_bind()).get_indexes(table)}
