"""schema of ato-tracker 3.0.0

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

From the ato 2.x schema to the one ato-tracker 3.0.0 creates:

- ``projects``: ``description`` (never settable in ato 2.x) dropped; ``name`` at most 255
  characters; ``created_at`` required (old empty ones: the project's first run start, else now);
  the unique index on ``name`` becomes a unique constraint.
- ``experiments``: ``structural_hash`` recomputed with ato 3's algorithm (SHA-256, see
  ``ADict.get_structural_hash``) so that old and new runs of one config shape match; a database
  password in a stored ``experiment.sql.db_path`` is replaced by ``***``; ``tags`` (default
  ``[]``), ``status`` (``running``/``completed`` from ``end_time``; at most 32 characters) and
  ``start_time`` required; the index on ``status`` dropped.
- ``metrics``: ``value`` double precision and nullable (non-finite values), ``step`` 64-bit and
  nullable, ``timestamp`` required (old empty ones: the run's start); one index on
  ``(run_id, key, value)`` replaces those on ``key`` and ``run_id``.
- ``artifacts``: ``data_info`` renamed ``metadata``; ``path`` unlimited text; ``data_type``
  required (``unknown`` where empty); new ``timestamp`` = the run's end (else start).
- ``fingerprints``: new ``timestamp`` = the run's start; one index on ``(trace_id, trace_type)``
  replaces those on ``fingerprint``, ``trace_type`` and ``trace_id``.
- Timestamps: UTC with time zone on PostgreSQL (the old naive values are UTC), microseconds on
  MySQL/MariaDB.

Every step checks whether it is already done, so that rerunning after an interruption on
MySQL/MariaDB (where DDL commits at once) finishes the job.
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ato.adict import ADict

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
KEY = sa.String(255)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Bring an ato 2.x schema to the ato-tracker 3.0 schema (details in the module docstring)."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    if _dialect() == "postgresql":  # naive <-> aware conversions below are in UTC
        op.execute("SET LOCAL TIME ZONE 'UTC'")
    _projects(now)
    _experiments(now)
    _metrics(now)
    _artifacts(now)
    _fingerprints(now)


def downgrade() -> None:
    """Back to the ato 2.x shape (timestamps of artifacts and fingerprints are dropped; the ato 3
    structural hashes are kept)."""
    with op.batch_alter_table("fingerprints") as batch:
        batch.drop_index("ix_fingerprints_trace")
        batch.drop_column("timestamp")
        for column in ("fingerprint", "trace_type", "trace_id"):
            batch.create_index(f"ix_fingerprints_{column}", [column])
    with op.batch_alter_table("artifacts") as batch:
        batch.drop_column("timestamp")
        batch.alter_column("metadata", new_column_name="data_info", existing_type=sa.JSON)
    with op.batch_alter_table("metrics") as batch:
        batch.create_index("ix_metrics_key", ["key"])
        batch.create_index("ix_metrics_run_id", ["run_id"])
        batch.drop_index("ix_metrics_run_key_value")
    with op.batch_alter_table("experiments") as batch:
        batch.create_index("ix_experiments_status", ["status"])
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("description", sa.Text))


# -- helpers ---------------------------------------------------------------------------------


def _dialect() -> str:
    return op.get_bind().dialect.name


def _columns(table: str) -> set[str]:
    return {column["name"] for column in sa.inspect(op.get_bind()).get_columns(table)}


def _indexes(table: str) -> set[str]:
    return {str(index["name"]) for index in sa.inspect(op.get_bind()).get_indexes(table)}


def _timestamp(column: str, *, nullable: bool = False) -> dict[str, Any]:
    """alter_column arguments turning a naive UTC ``DATETIME`` into the 3.0 timestamp type."""
    kwargs: dict[str, Any] = {
        "type_": TIMESTAMP,
        "existing_type": sa.DateTime(),
        "nullable": nullable,
    }
    if _dialect() == "postgresql":
        kwargs["postgresql_using"] = f"{column} AT TIME ZONE 'UTC'"
    return kwargs


def _fill(sql: str, now: datetime) -> None:
    """Run ``sql`` with ``:now`` bound as a ``DateTime``: SQLAlchemy writes the text, not the
    sqlite3 default datetime adapter (deprecated since Python 3.12)."""
    statement = sa.text(sql)
    if ":now" in sql:
        statement = statement.bindparams(sa.bindparam("now", now, type_=sa.DateTime()))
    op.get_bind().execute(statement)


def _run_time(column: str) -> str:
    """SQL for a column of the owning run (``<table>.run_id``), for correlated updates."""
    return f"(SELECT e.{column} FROM experiments e WHERE e.id = run_id)"


# -- tables ----------------------------------------------------------------------------------


def _projects(now: datetime) -> None:
    _fill(
        "UPDATE projects SET created_at = COALESCE((SELECT MIN(e.start_time) FROM experiments e "
        "WHERE e.project_id = projects.id), :now) WHERE created_at IS NULL",
        now,
    )
    columns, indexes = _columns("projects"), _indexes("projects")
    unique = any(
        constraint["column_names"] == ["name"] and constraint["name"] != "ix_projects_name"
        for constraint in sa.inspect(op.get_bind()).get_unique_constraints("projects")
    )
    # SQLite copies the table anyway: give the copy the same unnamed UNIQUE as create_all.
    sqlite_unique = (sa.UniqueConstraint("name"),) if _dialect() == "sqlite" and not unique else ()
    with op.batch_alter_table("projects", table_args=sqlite_unique) as batch:
        if "description" in columns:
            batch.drop_column("description")
        batch.alter_column("name", type_=KEY, existing_nullable=False)
        batch.alter_column("created_at", **_timestamp("created_at"))
        if "ix_projects_name" in indexes:
            batch.drop_index("ix_projects_name")
        if not unique and not sqlite_unique:
            batch.create_unique_constraint(None, ["name"])  # type: ignore[arg-type]


def _experiments(now: datetime) -> None:
    _fill("UPDATE experiments SET tags = '[]' WHERE tags IS NULL", now)
    _fill(
        "UPDATE experiments SET status = CASE WHEN end_time IS NULL THEN 'running' "
        "ELSE 'completed' END WHERE status IS NULL OR status = ''",
        now,
    )
    _fill("UPDATE experiments SET status = SUBSTR(status, 1, 32) WHERE LENGTH(status) > 32", now)
    _fill(
        "UPDATE experiments SET start_time = COALESCE(end_time, :now) WHERE start_time IS NULL", now
    )
    _recompute_hashes()
    indexes = _indexes("experiments")
    with op.batch_alter_table("experiments") as batch:
        batch.alter_column("structural_hash", type_=sa.String(128), nullable=False)
        batch.alter_column("tags", existing_type=sa.JSON, nullable=False)
        batch.alter_column("status", type_=sa.String(32), nullable=False)
        batch.alter_column("start_time", **_timestamp("start_time"))
        batch.alter_column("end_time", **_timestamp("end_time", nullable=True))
        if "ix_experiments_status" in indexes:
            batch.drop_index("ix_experiments_status")


def _recompute_hashes() -> None:
    runs = sa.table(
        "experiments",
        sa.column("id", sa.Integer),
        sa.column("config", sa.JSON),
        sa.column("structural_hash", sa.String),
    )
    bind = op.get_bind()
    changed = []
    for run_id, config, old_hash in bind.execute(
        sa.select(runs.c.id, runs.c.config, runs.c.structural_hash)
    ):
        stored = json.loads(config) if isinstance(config, str) else config
        if not isinstance(stored, dict):
            stored = {"value": stored}
        stored = _redact_password(stored)
        new_hash = ADict.get_structural_hash(ADict(stored))
        if new_hash != old_hash or stored != config:
            changed.append({"run": run_id, "config": stored, "hash": new_hash})
    if changed:
        bind.execute(
            runs.update()
            .where(runs.c.id == sa.bindparam("run"))
            .values(config=sa.bindparam("config"), structural_hash=sa.bindparam("hash")),
            changed,
        )


def _redact_password(config: dict[str, Any]) -> dict[str, Any]:
    experiment = config.get("experiment")
    sql = experiment.get("sql") if isinstance(experiment, dict) else None
    url = sql.get("db_path") if isinstance(sql, dict) else None
    if isinstance(sql, dict) and isinstance(url, str) and "://" in url:
        with contextlib.suppress(ArgumentError):
            sql["db_path"] = make_url(url).render_as_string(hide_password=True)
    return config


def _metrics(now: datetime) -> None:
    _fill(
        f"UPDATE metrics SET timestamp = COALESCE({_run_time('start_time')}, :now) "
        "WHERE timestamp IS NULL",
        now,
    )
    indexes = _indexes("metrics")
    if "ix_metrics_run_key_value" not in indexes:  # first: MySQL keeps an index on run_id (FK)
        op.create_index("ix_metrics_run_key_value", "metrics", ["run_id", "key", "value"])
    with op.batch_alter_table("metrics") as batch:
        mysql_only: dict[str, Any] = (
            {"autoincrement": True} if _dialect() in ("mysql", "mariadb") else {}
        )
        batch.alter_column(
            "id", type_=BIG_ID, existing_nullable=False, existing_type=sa.Integer, **mysql_only
        )
        batch.alter_column("key", type_=KEY, existing_nullable=False)
        batch.alter_column("value", type_=sa.Double(), nullable=True, existing_type=sa.Float())
        batch.alter_column("step", type_=sa.BigInteger(), nullable=True, existing_type=sa.Integer())
        batch.alter_column("timestamp", **_timestamp("timestamp"))
        for name in ("ix_metrics_key", "ix_metrics_run_id"):
            if name in indexes:
                batch.drop_index(name)
    if _dialect() == "postgresql":
        op.execute("ALTER SEQUENCE IF EXISTS metrics_id_seq AS BIGINT")


def _artifacts(now: datetime) -> None:
    _fill("UPDATE artifacts SET data_type = 'unknown' WHERE data_type IS NULL", now)
    columns = _columns("artifacts")
    if "timestamp" not in columns:
        op.add_column("artifacts", sa.Column("timestamp", TIMESTAMP, nullable=True))
    _fill(
        f"UPDATE artifacts SET timestamp = COALESCE({_run_time('end_time')}, "
        f"{_run_time('start_time')}, :now) WHERE timestamp IS NULL",
        now,
    )
    with op.batch_alter_table("artifacts") as batch:
        batch.alter_column("path", type_=sa.Text(), existing_nullable=False)
        batch.alter_column("data_type", type_=KEY, nullable=False)
        if "data_info" in columns:
            batch.alter_column("data_info", new_column_name="metadata", existing_type=sa.JSON)
        batch.alter_column("timestamp", existing_type=TIMESTAMP, nullable=False)


def _fingerprints(now: datetime) -> None:
    if "timestamp" not in _columns("fingerprints"):
        op.add_column("fingerprints", sa.Column("timestamp", TIMESTAMP, nullable=True))
    _fill(
        f"UPDATE fingerprints SET timestamp = COALESCE({_run_time('start_time')}, :now) "
        "WHERE timestamp IS NULL",
        now,
    )
    indexes = _indexes("fingerprints")
    if "ix_fingerprints_trace" not in indexes:
        op.create_index("ix_fingerprints_trace", "fingerprints", ["trace_id", "trace_type"])
    with op.batch_alter_table("fingerprints") as batch:
        batch.alter_column("trace_id", type_=KEY, existing_nullable=False)
        batch.alter_column("timestamp", existing_type=TIMESTAMP, nullable=False)
        for name in (
            "ix_fingerprints_fingerprint",
            "ix_fingerprints_trace_type",
            "ix_fingerprints_trace_id",
        ):
            if name in indexes:
                batch.drop_index(name)
