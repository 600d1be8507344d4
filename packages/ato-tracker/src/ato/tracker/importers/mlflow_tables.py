"""MLflow's own tracking tables, read directly with SQLAlchemy Core (no MLflow code).

MLflow's SQL tracking store (``sqlite:///mlflow.db``, ``postgresql+psycopg://...``) keeps runs in the tables ``experiments``, ``runs``, ``params``,
``tags``, ``latest_metrics`` and ``metrics`` (defined in MLflow's
``mlflow/store/tracking/dbmodels/models.py``; migrated by Alembic, the revision is in
``alembic_version``). Reading them directly, a run's metric history is one streamed query
per key instead of MLflow's client building one Python object per value.

Only the columns read here are declared; they are unchanged over every revision in
`SUPPORTED_REVISIONS`: from ``bd07f7e963c5`` (MLflow 1.25, which added the ``run_uuid``
indexes these reads use) to ``f4a9b2c7d1e6`` (the newest of MLflow 3.18). A database at
any other revision is refused (`check_revision`); MLflow's client reads it instead.

What MLflow's client makes of a row is reproduced exactly: a metric row with ``is_nan`` set
is NaN (MLflow stores 0 in ``value`` then), ±inf is read back as MLflow stored it
(±1.7976931348623157e308), a run without ``name`` is named by its ``mlflow.runName`` tag,
a key's values are ordered by timestamp, step and value.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    func,
    select,
)

# Every Alembic revision of MLflow's tracking schema from MLflow 1.25 to 3.18, oldest first
# (the chain of mlflow/store/db_migrations/versions). Add a revision only after checking
# that it changes none of the columns below (and the round-trip test passes on it).
SUPPORTED_REVISIONS = (
    "bd07f7e963c5",  # MLflow 1.25: index on run_uuid of metrics, params, tags
    "0c779009ac13",
    "cc1f77228345",
    "97727af70f4d",
    "3500859a5d39",
    "7f2a7d5fae7d",
    "2d6e25af4d3e",
    "acf3f17fdcc7",
    "867495a8f9d4",
    "5b0e9adcef9c",
    "4465047574b1",
    "f5a4f2784254",
    "0584bdc529eb",
    "400f98739977",
    "6953534de441",
    "bda7b8c39065",
    "cbc13b556ace",
    "770bee3ae1dd",
    "a1b2c3d4e5f6",
    "de4033877273",
    "1a0cddfcaa16",
    "534353b11cbc",
    "71994744cf8e",
    "3da73c924c2f",
    "bf29a5ff90ea",
    "1bd49d398cd23",
    "b7c8d9e0f1a2",
    "5d2d30f0abce",
    "c9d4e5f6a7b8",
    "2c33131f4dae",
    "d3e4f5a6b7c8",
    "d0e1f2a3b4c5",
    "c8d9e0f1a2b3",
    "1b5f0d9ad7c1",
    "e1f2a3b4c5d6",
    "76601a5f987d",
    "c3d6457b6d8a",
    "a5b4c3d2e1f0",
    "ae8bbe7743c9",
    "7d34483879f0",
    "da6fb0208061",
    "89d3d66ed43f",
    "b7e4c1a90f23",
    "a8b9c0d1e2f3",
    "c1d2e3f4a5b6",
    "c3d9e7f1a2b4",
    "6f8d9c3b2a1e",
    "1971f2d9a75b",
    "17e22815139b",
    "b7e2c1a4d9f3",
    "75868b020152",
    "dc11669786a5",
    "e7d1f4b2a9c6",
    "8b6ad64cb8f5",
    "f4a9b2c7d1e6",  # MLflow 3.18
)

_meta = MetaData()
alembic_version = Table("alembic_version", _meta, Column("version_num", String(32)))
experiments = Table(
    "experiments", _meta, Column("experiment_id", Integer), Column("name", String(256))
)
runs = Table(
    "runs",
    _meta,
    Column("run_uuid", String(32)),
    Column("name", String(250)),
    Column("status", String(20)),
    Column("start_time", BigInteger),
    Column("end_time", BigInteger),
    Column("artifact_uri", String(200)),
    Column("experiment_id", Integer),
)
_pairs = {
    name: Table(
        name, _meta, Column("key", String(250)), Column("value"), Column("run_uuid", String(32))
    )
    for name in ("params", "tags")
}
latest_metrics = Table(
    "latest_metrics", _meta, Column("key", String(250)), Column("run_uuid", String(32))
)
metrics = Table(
    "metrics",
    _meta,
    Column("key", String(250)),
    Column("value", Float(precision=53)),
    Column("timestamp", BigInteger),
    Column("step", BigInteger),
    Column("is_nan", Boolean),
    Column("run_uuid", String(32)),
)
_RUN_NAME_TAG = "mlflow.runName"
_BINARY_COLLATION = {"sqlite": "BINARY", "postgresql": "C"}


class UnsupportedSchemaError(Exception):
    """The database is not an MLflow tracking store at a revision in `SUPPORTED_REVISIONS`;
    ``str()`` says which revision it has (or that it has none)."""


def check_revision(conn: Connection) -> str:
    """The Alembic revision of the MLflow database on ``conn``.

    Raises:
        UnsupportedSchemaError: the database has no ``alembic_version`` or its revision is
            not in `SUPPORTED_REVISIONS`.
    """
    try:
        found = [row[0] for row in conn.execute(select(alembic_version.c.version_num))]
    except Exception as error:  # no such table: not an MLflow (or any Alembic) database
        conn.rollback()
        raise UnsupportedSchemaError("it has no alembic_version table") from error
    if len(found) != 1 or found[0] not in SUPPORTED_REVISIONS:
        shown = ", ".join(found) or "none"
        raise UnsupportedSchemaError(f"its MLflow schema revision is {shown}")
    return str(found[0])


def experiment_rows(conn: Connection) -> list[tuple[int, str]]:
    """``(experiment id, name)`` of every experiment, deleted ones too, by id."""
    stmt = select(experiments.c.experiment_id, experiments.c.name)
    return [(row[0], row[1]) for row in conn.execute(stmt.order_by(experiments.c.experiment_id))]


def count_runs(conn: Connection, experiment_id: int) -> int:
    """How many runs (deleted ones too) experiment ``experiment_id`` has."""
    stmt = select(func.count()).select_from(runs).where(runs.c.experiment_id == experiment_id)
    return int(conn.execute(stmt).scalar_one())


def run_pages(conn: Connection, experiment_id: int, page: int) -> Iterator[list[dict[str, Any]]]:
    """The runs of experiment ``experiment_id`` (deleted ones too) oldest first, ``page`` at
    a time, each a dict of the ``runs`` columns plus ``params`` and ``tags`` (dicts) and
    ``metric_keys`` (sorted); a keyset page query each, so memory is bounded by ``page``."""
    after: tuple[int, str] | None = None
    start = func.coalesce(runs.c.start_time, 0)  # a run without one: at 0, as the client has it
    order = (start, runs.c.run_uuid)
    while True:
        stmt = select(*runs.c).where(runs.c.experiment_id == experiment_id)
        if after is not None:
            stmt = stmt.where(
                (start > after[0]) | ((start == after[0]) & (runs.c.run_uuid > after[1]))
            )
        rows = [dict(row._mapping) for row in conn.execute(stmt.order_by(*order).limit(page))]
        if not rows:
            return
        for row in rows:
            row["start_time"] = row["start_time"] or 0
        _attach_details(conn, rows)
        yield rows
        last = rows[-1]
        after = (last["start_time"], last["run_uuid"])


def _attach_details(conn: Connection, rows: list[dict[str, Any]]) -> None:
    ids = [row["run_uuid"] for row in rows]
    found = {name: _by_run(conn, table, ids) for name, table in _pairs.items()}
    keys: dict[str, list[str]] = defaultdict(list)
    stmt = select(latest_metrics.c.run_uuid, latest_metrics.c.key)
    for run_id, key in conn.execute(stmt.where(latest_metrics.c.run_uuid.in_(ids))):
        keys[run_id].append(key)
    for row in rows:
        run_id = row["run_uuid"]
        row["params"] = found["params"].get(run_id, {})
        row["tags"] = found["tags"].get(run_id, {})
        row["metric_keys"] = sorted(keys.get(run_id, ()))
        if not row["name"]:
            row["name"] = row["tags"].get(_RUN_NAME_TAG, row["name"])


def _by_run(conn: Connection, table: Table, ids: Sequence[str]) -> dict[str, dict[str, str]]:
    stmt = select(table.c.run_uuid, table.c.key, table.c.value).where(table.c.run_uuid.in_(ids))
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for run_id, key, value in conn.execute(stmt):
        found[run_id][key] = value
    return found


def metric_history(
    conn: Connection, run_id: str, keys: Sequence[str], batch: int
) -> Iterator[tuple[str, float, int, int]]:
    """``(key, value, step, timestamp in ms)`` of every value of run ``run_id`` for each of
    ``keys`` (sorted), each key's values in MLflow's order (timestamp, step, value): what
    MLflow's ``get_metric_history`` returns for each key in turn.

    One query per run, by the ``run_uuid`` index: a query per key would use MLflow's primary
    key (it starts with ``key``) and scan that key's values of every run. Keys are ordered by
    code point (SQLite's ``BINARY``, PostgreSQL's ``"C"`` collation), as Python sorts them.
    Streamed: a server-side cursor (PostgreSQL) or SQLite's own stepping, fetched ``batch``
    rows at a time, so memory does not grow with the length of a history.
    """
    wanted = set(keys)
    binary = _BINARY_COLLATION.get(conn.dialect.name)
    key = metrics.c.key.collate(binary) if binary else metrics.c.key
    stmt = (
        select(
            metrics.c.key, metrics.c.value, metrics.c.step, metrics.c.timestamp, metrics.c.is_nan
        )
        .where(metrics.c.run_uuid == run_id)
        .order_by(key, metrics.c.timestamp, metrics.c.step, metrics.c.value)
        .execution_options(yield_per=batch)
    )
    for name, value, step, timestamp, is_nan in conn.execute(stmt):
        if name in wanted:  # MLflow's client reads the keys of latest_metrics only
            yield name, float("nan") if is_nan else value, step, timestamp
