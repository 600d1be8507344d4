"""SQLAlchemy 2.0 declarative schema: projects, experiments (runs), metrics, metric summaries,
series blocks (a coarse level of detail of each series), run parameters, artifacts,
fingerprints, and the job queues of searches shared by several workers.

Every timestamp column uses `UTCDateTime`: values are written as UTC and always read
back as timezone-aware UTC ``datetime`` objects, also on SQLite and MySQL, which store no
time zone. Timestamps are passed in explicitly at write time (see `utcnow`); there are
no column defaults evaluated at import or at table creation.

String columns that take part in an index have explicit lengths, which MySQL requires.
Names and keys (``Name``) compare exactly on every backend: MySQL/MariaDB get a binary,
no-pad collation instead of their case- and trailing-space-insensitive default.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    false,
)
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

from .values import FINITE

KEY_LENGTH = 255
TEXT_PREFIX_LENGTH = 200
STATUS_LENGTH = 32
HASH_LENGTH = 128
SHA256_LENGTH = 64

MARIADB_NAME_COLLATION = "utf8mb4_nopad_bin"
MYSQL_NAME_COLLATION = "utf8mb4_0900_bin"

# SQLite only auto-increments an INTEGER PRIMARY KEY, never a BIGINT one.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    """The current time as a timezone-aware UTC ``datetime`` (called at write time)."""
    return datetime.now(timezone.utc)


_UTC = timezone.utc


def as_utc(value: datetime | None) -> datetime | None:
    """``value`` as an aware UTC ``datetime``: a naive one is taken to be UTC already, an aware
    one is converted; ``None`` stays ``None``."""
    if value is None:
        return None
    zone = value.tzinfo
    if zone is _UTC:
        return value
    if zone is None:
        return value.replace(tzinfo=_UTC)
    return value.astimezone(_UTC)


class _SQLiteDateTime(sqlite.DATETIME):
    """SQLite ``DATETIME`` text read with the C-level ``datetime.fromisoformat`` (several times
    faster than SQLAlchemy's regular expression), falling back to it for other text shapes.
    Reads aware UTC: the text is naive UTC."""

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """SQLAlchemy hook: the function turning stored text into an aware UTC ``datetime``."""
        fallback = super().result_processor(dialect, coltype)
        parse = datetime.fromisoformat

        def process(value: Any) -> datetime | None:
            if value is None:
                return None
            try:
                return parse(value + "+00:00")  # stored as naive UTC text
            except (TypeError, ValueError):
                return as_utc(fallback(value) if fallback else value)

        return process


class UTCDateTime(TypeDecorator[datetime]):
    """A ``DateTime`` that stores UTC and reads back aware UTC on every backend.

    PostgreSQL keeps the offset (``TIMESTAMP WITH TIME ZONE``); SQLite and MySQL store a naive
    UTC value (MySQL with microseconds, ``DATETIME(6)``), which is marked UTC again on read.
    Naive values passed in are taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """SQLAlchemy hook: the column type used on ``dialect`` (see the class docstring)."""
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        if dialect.name == "sqlite":
            # SQLAlchemy leaves sqlite.DATETIME.__init__ unannotated.
            return dialect.type_descriptor(_SQLiteDateTime())  # type: ignore[no-untyped-call]
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """SQLAlchemy hook: ``value`` as UTC, aware for PostgreSQL and naive elsewhere."""
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
            if dialect.name != "postgresql":
                value = value.replace(tzinfo=None)
        elif dialect.name == "postgresql":
            value = value.replace(tzinfo=timezone.utc)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """SQLAlchemy hook: a stored value as an aware UTC ``datetime`` (see `as_utc`)."""
        return as_utc(value)

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """SQLAlchemy hook: one function from the driver's value to aware UTC.

        It does what the column type's own processor followed by `process_result_value` does,
        in one Python call per value instead of three (a table of runs reads tens of
        thousands of timestamps). On SQLite the text parser already reads aware UTC.
        """
        inner = self.impl_instance.result_processor(dialect, coltype)
        if isinstance(self.impl_instance, _SQLiteDateTime):
            return inner
        if inner is None:
            return as_utc

        def process(value: Any) -> datetime | None:
            return as_utc(inner(value))

        return process


class Name(TypeDecorator[str]):
    """A ``VARCHAR(255)`` name or key compared byte for byte on every backend.

    SQLite (``BINARY``) and PostgreSQL (deterministic collations) already compare exactly;
    MySQL and MariaDB default to collations where ``'Loss' = 'loss' = 'loss '``, so there the
    column gets a binary collation without trailing-space padding (``utf8mb4_nopad_bin`` on
    MariaDB, ``utf8mb4_0900_bin`` on MySQL 8).
    """

    impl = String(KEY_LENGTH)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """SQLAlchemy hook: a binary no-pad ``VARCHAR`` on MySQL/MariaDB."""
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(
                mysql.VARCHAR(KEY_LENGTH, collation=name_collation(dialect))
            )
        return dialect.type_descriptor(String(KEY_LENGTH))


class TextPrefix(Name):
    """A ``VARCHAR(200)`` compared byte for byte, as `Name` is: the indexed first
    `TEXT_PREFIX_LENGTH` characters of a longer text (short enough for every backend's index
    entry limit: PostgreSQL's B-tree refuses entries over about 2.7 kB)."""

    impl = String(TEXT_PREFIX_LENGTH)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """SQLAlchemy hook: a binary no-pad ``VARCHAR(200)`` on MySQL/MariaDB."""
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(
                mysql.VARCHAR(TEXT_PREFIX_LENGTH, collation=name_collation(dialect))
            )
        return dialect.type_descriptor(String(TEXT_PREFIX_LENGTH))


class ExactText(TypeDecorator[str]):
    """A text of any length compared byte for byte on every backend, as `Name` is: MySQL and
    MariaDB get a ``LONGTEXT`` in the binary no-pad collation (their ``TEXT`` holds 64 KiB)."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """SQLAlchemy hook: a binary no-pad ``LONGTEXT`` on MySQL/MariaDB."""
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.LONGTEXT(collation=name_collation(dialect)))
        return self.impl_instance


def name_collation(dialect: Dialect) -> str:
    """The exact (binary, no-pad) collation for names on a MySQL or MariaDB ``dialect``."""
    return MARIADB_NAME_COLLATION if getattr(dialect, "is_mariadb", False) else MYSQL_NAME_COLLATION


class Base(DeclarativeBase):
    """Declarative base of the tracker schema (``Base.metadata`` holds all nine tables)."""


class ProjectRecord(Base):
    """A named project grouping runs."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Name(), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RunRecord(Base):
    """One run (an execution of an experiment) with its config, tags and status."""

    __tablename__ = "experiments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    config: Mapped[Any] = mapped_column(JSON)
    structural_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    tags: Mapped[Any] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(STATUS_LENGTH))
    start_time: Mapped[datetime] = mapped_column(UTCDateTime())
    end_time: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # How the run was launched (argv, host, versions, git, Scope views/overrides/per-key
    # writes) and the writer's latest sign of life; NULL for runs of older versions.
    provenance: Mapped[Any] = mapped_column(JSON, nullable=True)
    heartbeat: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_experiments_project_id", "project_id"),
        Index("ix_experiments_structural_hash", "structural_hash"),
    )


class MetricRecord(Base):
    """One metric value of a run at a step.

    ``value_class`` tells finite values from NaN, +inf and -inf (see
    ``ato.tracker.storage.values``): NaN is stored with ``value`` NULL, +-inf with ``value`` the
    largest finite double of the same sign, so that SQL ``MAX``/``MIN``/``ORDER BY`` over
    ``value`` rank infinities beyond every finite value on every backend (MLflow stores
    infinities the same way). ``writer``/``seq`` identify a row for exactly-once delivery: each
    buffer has a random writer id and numbers its rows; the unique index on
    ``(run_id, writer, seq)`` makes a retried insert of an already committed row a no-op.
    Rows written before these columns existed have ``writer``/``seq`` NULL.
    """

    __tablename__ = "metrics"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"))
    key: Mapped[str] = mapped_column(Name())
    value: Mapped[float | None] = mapped_column(Double, nullable=True)
    value_class: Mapped[int] = mapped_column(
        SmallInteger, nullable=False, default=FINITE, server_default=str(FINITE)
    )
    step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime())
    writer: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    # One index serves loading a run's metrics and the per-run MAX/MIN of a key used by
    # find_best_run; new rows land at the end of it (run ids grow), which keeps writes fast.
    # The second serves downsampled series (ato.tracker.read.series): step range and per-bucket
    # extremes without reading table rows.
    __table_args__ = (
        Index("ix_metrics_run_key_value", "run_id", "key", "value"),
        Index("ix_metrics_run_key_step_value", "run_id", "key", "step", "value"),
        Index("uq_metrics_run_writer_seq", "run_id", "writer", "seq", unique=True),
    )


class MetricSummaryRecord(Base):
    """Per run and metric key: how many values were logged, their extremes and the last one.

    Kept up to date inside the transaction of every metric write (see
    ``ato.tracker.read.summaries``), so that run tables need not read the ``metrics`` rows (the same
    idea as MLflow's ``latest_metrics``). ``min_value``/``max_value`` are stored values (an
    infinity's stand-in is the largest double of its sign, NaN is skipped; NULL when the key
    logged only NaN); ``has_pos_inf``/``has_neg_inf`` say whether a stand-in is an infinity.
    The ``last_*`` columns hold the value, class, step and time of the row written last.
    """

    __tablename__ = "metric_summaries"

    run_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"), primary_key=True)
    key: Mapped[str] = mapped_column(Name(), primary_key=True)
    value_count: Mapped[int] = mapped_column(BigInteger)
    min_value: Mapped[float | None] = mapped_column(Double, nullable=True)
    max_value: Mapped[float | None] = mapped_column(Double, nullable=True)
    has_pos_inf: Mapped[int] = mapped_column(SmallInteger)
    has_neg_inf: Mapped[int] = mapped_column(SmallInteger)
    last_value: Mapped[float | None] = mapped_column(Double, nullable=True)
    last_class: Mapped[int] = mapped_column(SmallInteger)
    last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_timestamp: Mapped[datetime] = mapped_column(UTCDateTime())

    # SQLite: the table is its primary key's B-tree (one lookup per row, not two).
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012 - SQLAlchemy's own attribute


#: A level-of-detail block of a metric series holds the steps ``block * LOD_WIDTH`` up to, not
#: including, ``(block + 1) * LOD_WIDTH``: ``block = step >> LOD_SHIFT`` (floor division, also
#: for negative steps).
LOD_SHIFT = 6
LOD_WIDTH = 1 << LOD_SHIFT


class SeriesBlockRecord(Base):
    """Per run, metric key and block of `LOD_WIDTH` steps: how many values were logged in it,
    how many of them are NaN and their extremes (stored values, as in ``metric_summaries``;
    NULL when the block logged only NaN). Values logged without a step have no block.

    Kept inside the transaction of every metric write, exactly once like the summaries (see
    ``ato.tracker.write.fold``), so that a long series is downsampled from one row per block
    instead of every logged value (``ato.tracker.read.series``). Added by revision 0009.
    """

    __tablename__ = "metric_series_lod"

    run_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"), primary_key=True)
    key: Mapped[str] = mapped_column(Name(), primary_key=True)
    block: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    value_count: Mapped[int] = mapped_column(BigInteger)
    nan_count: Mapped[int] = mapped_column(BigInteger)
    min_value: Mapped[float | None] = mapped_column(Double, nullable=True)
    max_value: Mapped[float | None] = mapped_column(Double, nullable=True)

    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012 - SQLAlchemy's own attribute


class RunParamRecord(Base):
    """One entry of a run's config (revision 0010): its dotted ``key``, ``kind`` (number,
    string, bool, other) and value as a double or a text (with the text's first 200
    characters, ``text_prefix``), so that runs tables filter and sort by a parameter through
    the ``(key, kind, num_value)`` and ``(key, text_prefix)`` indexes and the primary key
    instead of reading every run's JSON. Written with the config in the same transaction; the layout is
    `ato.tracker.storage.run_params`'s."""

    __tablename__ = "run_params"

    run_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"), primary_key=True)
    key: Mapped[str] = mapped_column(Name(), primary_key=True)
    kind: Mapped[int] = mapped_column(SmallInteger)
    num_value: Mapped[float | None] = mapped_column(Double, nullable=True)
    text_value: Mapped[str | None] = mapped_column(ExactText(), nullable=True)
    text_prefix: Mapped[str | None] = mapped_column(TextPrefix(), nullable=True)

    __table_args__ = (
        Index("ix_run_params_key_number", "key", "kind", "num_value", "run_id"),
        Index("ix_run_params_key_text", "key", "text_prefix", "run_id"),
        {"sqlite_with_rowid": False},
    )


class ArtifactRecord(Base):
    """A file (or other output) a run produced: its source ``path``, and since revision 0007
    the ``name`` it is listed and fetched by, its ``size`` in bytes and ``sha256`` digest
    (when the file was readable) and whether a copy is ``stored`` in the database's artifact
    store (`ato.tracker.storage.artifact_store`) or the row is a reference only."""

    __tablename__ = "artifacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"))
    path: Mapped[str] = mapped_column(Text)
    data_type: Mapped[str] = mapped_column(String(KEY_LENGTH))
    # "metadata" is reserved on declarative classes, so the attribute is named meta.
    meta: Mapped[Any] = mapped_column("metadata", JSON, nullable=True)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime())
    name: Mapped[str | None] = mapped_column(Text, nullable=True)
    size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(SHA256_LENGTH), nullable=True)
    stored: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())

    __table_args__ = (Index("ix_artifacts_run_id", "run_id"),)


class FingerprintRecord(Base):
    """A code fingerprint (hash of a traced function's source or output) recorded by a run."""

    __tablename__ = "fingerprints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"))
    trace_id: Mapped[str] = mapped_column(Name())
    trace_type: Mapped[str] = mapped_column(String(STATUS_LENGTH))
    fingerprint: Mapped[str] = mapped_column(String(HASH_LENGTH))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_fingerprints_trace", "trace_id", "trace_type"),
        Index("ix_fingerprints_run_id", "run_id"),
    )


class SearchQueueRecord(Base):
    """One search run by workers that share this database (revision 0008): ``seq`` is the
    stamp of its latest scheduling event (a job created or finished), taken under a lock of
    this row, so every worker replays the events in one order; ``answer_run`` is the run the
    first worker to see the search end tagged as its answer."""

    __tablename__ = "search_queues"

    search_id: Mapped[str] = mapped_column(Name(), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    answer_run: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class SearchJobRecord(Base):
    """One job of a shared search (revision 0008): trial ``trial_id`` at ``rung``.

    ``state`` is ``queued``, ``claimed`` (by worker ``claimed_by``, alive while its
    ``heartbeat``, in the database's clock, is recent), ``done`` or ``failed``; ``attempts``
    counts claims. ``payload`` holds what the search needs to run and replay the job (the
    trial's values, budgets, batch); ``result`` its metric, error and run id.
    ``created_seq``/``done_seq`` are the search's event stamps of its creation and its end.
    """

    __tablename__ = "search_jobs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    search_id: Mapped[str] = mapped_column(Name())
    job_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    trial_id: Mapped[int] = mapped_column(Integer)
    rung: Mapped[int] = mapped_column(Integer)
    bracket: Mapped[int] = mapped_column(Integer)
    payload: Mapped[Any] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(STATUS_LENGTH))
    claimed_by: Mapped[str | None] = mapped_column(String(KEY_LENGTH), nullable=True)
    heartbeat: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer)
    result: Mapped[Any] = mapped_column(JSON, nullable=True)
    created_seq: Mapped[int] = mapped_column(BigInteger)
    done_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index("uq_search_jobs_key", "search_id", "job_key", unique=True),
        Index("ix_search_jobs_state", "search_id", "state", "id"),
        Index("ix_search_jobs_created", "search_id", "created_seq"),
        Index("ix_search_jobs_done", "search_id", "done_seq"),
    )
