"""PostgreSQL through psycopg 3 copies a metric batch into a staging table and stores and folds
it in SQL (`ato.tracker.write.postgres_batch`); the same batches through the generic
executemany path give the same metric rows, summaries and series blocks, exactly once."""

from __future__ import annotations

import contextlib
import math
import random
import sys
import types
from datetime import datetime, timezone
from typing import Any

import pytest
from sqlalchemy import Connection, select
from sqlalchemy.exc import DataError, DBAPIError

from ato.tracker import SQLLogger
from ato.tracker.storage.database import get_engine
from ato.tracker.storage.models import MetricRecord, MetricSummaryRecord, SeriesBlockRecord
from ato.tracker.write import postgres_batch
from ato.tracker.write.buffer import new_writer_id
from ato.tracker.write.inserts import MetricWriter, write_isolating

BIG = sys.float_info.max
INF, NAN = math.inf, math.nan
T0 = 1_700_000_000
# Whole seconds, fractions that are exact ties in microseconds (1/128 s = 7812.5 us: half to
# even gives 7812, 3/128 s gives 23438), one that rounds up into the next second, and others.
TIMES = [T0, T0 + 1 / 128, T0 + 3 / 128, T0 + 0.9999996, T0 + 0.123, -1.5, T0 + 0.5, 1.0]
VALUES = [0.5, NAN, INF, -INF, BIG, -BIG, -0.0, 1e-300, 3.25, -7.0, NAN, 2.0]
STEPS = [None, 0, 63, 64, -1, -64, -65, 127, 128, 2**40, None, 5]
KEYS = ["loss", "acc", "nan_only", "inf_only", "no_step"]


def _config(url: str) -> dict[str, Any]:
    return {"experiment": {"project_name": "p", "sql": {"db_path": url}}}


def _new_run(url: str) -> int:
    logger = SQLLogger(_config(url))
    run_id = logger.run()
    logger.finish()
    return run_id


def _rows(run_id: int, count: int, first_seq: int, seed: int) -> list[Any]:
    """``count`` rows of ``run_id`` over every key; seqs fall in write order except for a
    swapped pair (two threads logging at once), so "last" must follow the write order."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        key = KEYS[i % len(KEYS)]
        value = {"nan_only": NAN, "inf_only": INF}.get(key, VALUES[rng.randrange(len(VALUES))])
        step = None if key == "no_step" else STEPS[rng.randrange(len(STEPS))]
        rows.append((run_id, key, value, step, TIMES[i % len(TIMES)], first_seq + i))
    if count > 3:
        rows[-1], rows[-2] = rows[-2], rows[-1]
    return rows


def _batches(run_id: int) -> list[list[Any]]:
    """A first batch, a second one, its retry (all stored before), one half stored before
    and one with new rows only."""
    first, second = _rows(run_id, 40, 1, seed=1), _rows(run_id, 37, 41, seed=2)
    return [
        first,
        second,
        second,
        second[20:] + _rows(run_id, 15, 78, seed=3),
        _rows(run_id, 9, 93, 4),
    ]


def _write(url: str, run_id: int, *, copy: bool) -> int:
    engine = get_engine(url)
    writer = MetricWriter(engine.dialect)
    assert writer.copy  # the engine runs on psycopg 3
    writer.copy = copy
    writer_id = new_writer_id()
    for batch in _batches(run_id):
        assert write_isolating(engine, writer, batch, writer_id) == len(batch)
    return writer_id


def _select(conn: Connection, table: Any, run_id: int, *order: str) -> list[tuple[Any, ...]]:
    """The rows of ``run_id`` in ``table`` without their run id (nor metric id and writer)."""
    c = table.c
    skipped = ("run_id", "id", "writer")
    columns = [column for column in c if column.name not in skipped]
    query = select(*columns).where(c.run_id == run_id).order_by(*(c[name] for name in order))
    return [tuple(row) for row in conn.execute(query)]


def _stored(url: str, run_id: int) -> dict[str, list[tuple[Any, ...]]]:
    with get_engine(url).connect() as conn:
        return {
            "metrics": _select(conn, MetricRecord.__table__, run_id, "id"),
            "summaries": _select(conn, MetricSummaryRecord.__table__, run_id, "key"),
            "blocks": _select(conn, SeriesBlockRecord.__table__, run_id, "key", "block"),
        }


def test_copied_batches_store_and_fold_as_the_executemany_path_does(postgres_url: str):
    copied, generic = _new_run(postgres_url), _new_run(postgres_url)
    _write(postgres_url, copied, copy=True)
    _write(postgres_url, generic, copy=False)
    got, want = _stored(postgres_url, copied), _stored(postgres_url, generic)
    assert len(got["metrics"]) == 101  # 40 + 37 + 15 + 9, each once
    assert [row[-1] for row in got["metrics"]] == [row[-1] for row in want["metrics"]]
    assert got == want
    assert len(got["summaries"]) == len(KEYS) and len(got["blocks"]) > len(KEYS)


def test_a_copied_batch_stores_the_values_classes_and_times_of_the_value_encoding(
    postgres_url: str,
):
    run_id = _new_run(postgres_url)
    values = [0.5, NAN, INF, -INF, BIG, -BIG, -0.0, 1e-300]
    rows = [(run_id, "v", v, i, TIMES[i], i + 1) for i, v in enumerate(values)]
    engine = get_engine(postgres_url)
    assert write_isolating(engine, MetricWriter(engine.dialect), rows, new_writer_id()) == 8
    stored = _stored(postgres_url, run_id)["metrics"]
    assert [row[1:3] for row in stored] == [
        (0.5, 0),
        (None, 1),
        (BIG, 2),
        (-BIG, 3),
        (BIG, 0),
        (-BIG, 0),
        (-0.0, 0),
        (1e-300, 0),
    ]
    assert [row[4] for row in stored] == [
        datetime.fromtimestamp(t, timezone.utc) for t in TIMES[: len(values)]
    ]
    assert stored[1][4].microsecond == 7812 and stored[2][4].microsecond == 23438  # ties
    assert stored[3][4] == datetime.fromtimestamp(T0 + 1, timezone.utc)  # rounded up


def test_summary_and_blocks_of_a_copied_batch(postgres_url: str):
    """Boundaries the generic path shares: +-DBL_MAX logged as numbers are no infinities;
    blocks split at multiples of 64, negative steps floor; "last" is the last row written."""
    run_id = _new_run(postgres_url)
    logged = [(BIG, 63), (-BIG, 64), (NAN, -1), (INF, -64), (1.0, -65), (2.0, None)]
    rows = [(run_id, "k", v, s, T0 + i, 10 - i) for i, (v, s) in enumerate(logged)]
    engine = get_engine(postgres_url)
    assert write_isolating(engine, MetricWriter(engine.dialect), rows, new_writer_id()) == 6
    stored = _stored(postgres_url, run_id)
    when = datetime.fromtimestamp(T0 + 5, timezone.utc)
    # key, count, min, max, +inf, -inf, last value, class, step, time
    assert stored["summaries"] == [("k", 6, -BIG, BIG, 1, 0, 2.0, 0, None, when)]
    assert stored["blocks"] == [  # key, block, count, NaN count, min, max
        ("k", -2, 1, 0, 1.0, 1.0),
        ("k", -1, 2, 1, BIG, BIG),
        ("k", 0, 1, 0, BIG, BIG),
        ("k", 1, 1, 0, -BIG, -BIG),
    ]


def test_only_nan_and_only_infinities_fold_to_null_extremes_and_flags(postgres_url: str):
    run_id = _new_run(postgres_url)
    rows = [(run_id, "nan", NAN, 0, T0, 1), (run_id, "nan", NAN, 1, T0, 2)]
    rows += [(run_id, "neg", -INF, 0, T0, 3), (run_id, "neg", -INF, 1, T0, 4)]
    engine = get_engine(postgres_url)
    assert write_isolating(engine, MetricWriter(engine.dialect), rows, new_writer_id()) == 4
    stored = _stored(postgres_url, run_id)
    moment = datetime.fromtimestamp(T0, timezone.utc)
    assert stored["summaries"] == [
        ("nan", 2, None, None, 0, 0, None, 1, 1, moment),
        ("neg", 2, -BIG, -BIG, 0, 1, -BIG, 3, 1, moment),
    ]
    assert stored["blocks"] == [("nan", 0, 2, 2, None, None), ("neg", 0, 2, 0, -BIG, -BIG)]


def test_the_staging_table_is_empty_after_a_commit(postgres_url: str):
    run_id = _new_run(postgres_url)
    rows = [(run_id, "loss", 1.0, i, T0, i + 1) for i in range(3)]
    engine = get_engine(postgres_url)
    count = f"SELECT count(*) FROM {postgres_batch.STAGED}"
    with engine.connect() as conn:
        for _ in range(2):
            with conn.begin():
                conn.exec_driver_sql(postgres_batch.STAGING)  # once made, kept: a no-op
                postgres_batch.stage(conn, rows)
                postgres_batch.stage(conn, rows[:1])
                assert conn.exec_driver_sql(count).scalar() == 4
            assert conn.exec_driver_sql(count).scalar() == 0
            conn.rollback()


def test_a_row_the_server_refuses_in_the_copy_is_isolated_and_the_rest_stored(
    postgres_url: str,
):
    run_id = _new_run(postgres_url)
    rows = [(run_id, "loss", float(i), i, T0, i + 1) for i in range(5)]
    rows[3] = (run_id, "bad\x00key", 3.0, 3, T0, 4)  # text holds no NUL
    refused: list[tuple[Any, BaseException]] = []
    engine = get_engine(postgres_url)
    writer = MetricWriter(engine.dialect)
    stored = write_isolating(
        engine, writer, rows, new_writer_id(), lambda r, e: refused.append((r, e))
    )
    assert stored == 4
    [(row, error)] = refused
    assert row == rows[3] and isinstance(error, DataError)
    assert [m[0] for m in _stored(postgres_url, run_id)["metrics"]] == ["loss"] * 4


def test_a_connection_lost_before_the_copy_is_invalidated_and_the_batch_written_once(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
):
    run_id = _new_run(postgres_url)
    rows = [(run_id, "loss", float(i), i, T0, i + 1) for i in range(4)]
    real, calls = postgres_batch.stage, []

    def stage_on_a_lost_connection(conn: Connection, batch: Any) -> None:
        calls.append(len(batch))
        if len(calls) == 1:
            conn.connection.driver_connection.close()  # type: ignore[union-attr]
        real(conn, batch)

    monkeypatch.setattr(postgres_batch, "stage", stage_on_a_lost_connection)
    engine = get_engine(postgres_url)
    assert write_isolating(engine, MetricWriter(engine.dialect), rows, new_writer_id()) == 4
    assert calls == [4, 4]  # retried once, whole, on a fresh connection
    stored = _stored(postgres_url, run_id)
    assert [m[1] for m in stored["metrics"]] == [0.0, 1.0, 2.0, 3.0]
    assert stored["summaries"][0][1] == 4


def test_a_copy_on_a_lost_connection_raises_a_dbapi_error_and_invalidates_it(postgres_url: str):
    """As SQLAlchemy does for its own statements, so that the retry takes a fresh
    connection and the pool never hands the dead one out again."""
    run_id = _new_run(postgres_url)
    with get_engine(postgres_url).connect() as conn:
        conn.exec_driver_sql(postgres_batch.STAGING)
        conn.connection.driver_connection.close()  # type: ignore[union-attr]
        with pytest.raises(DBAPIError) as caught:
            postgres_batch.stage(conn, [(run_id, "loss", 1.0, 0, T0, 1)])
        assert caught.value.connection_invalidated and conn.invalidated
        assert caught.value.statement == postgres_batch.COPY


# Without a server (the mutation run has none): what `stage` hands psycopg, and the SQL text.


class _Copy:
    def __init__(self, fail: BaseException | None) -> None:
        self.types: Any = None
        self.rows: list[Any] = []
        self.fail = fail

    def set_types(self, types: Any) -> None:
        self.types = types

    def write_row(self, row: Any) -> None:
        if self.fail is not None:
            raise self.fail
        self.rows.append(row)


class _Driver:
    """A psycopg connection's part `stage` uses: ``cursor().copy(sql)``, context managers."""

    def __init__(self, fail: BaseException | None = None) -> None:
        self.copies: list[tuple[str, _Copy]] = []
        self.fail = fail

    def cursor(self) -> Any:
        return contextlib.nullcontext(self)

    def copy(self, sql: str) -> Any:
        self.copies.append((sql, _Copy(self.fail)))
        return contextlib.nullcontext(self.copies[-1][1])


class _DriverError(Exception):
    pass


class _Conn:
    def __init__(self, driver: _Driver, disconnect: bool) -> None:
        self.connection = types.SimpleNamespace(driver_connection=driver)
        self.dialect = types.SimpleNamespace(
            loaded_dbapi=types.SimpleNamespace(Error=_DriverError),
            dbapi_exception_translation_map={},
            is_disconnect=lambda error, connection, cursor: (
                disconnect and connection is driver and cursor is None
            ),
        )
        self.invalidated_by: list[BaseException] = []

    def invalidate(self, error: BaseException) -> None:
        self.invalidated_by.append(error)


def test_stage_copies_the_buffered_tuples_as_they_are_in_binary_with_their_types():
    rows = [(1, "loss", NAN, None, 1.5, 7), (2, "acc", -INF, -3, 2.5, 8)]
    driver = _Driver()
    conn = _Conn(driver, disconnect=False)
    postgres_batch.stage(conn, rows)  # type: ignore[arg-type]
    [(sql, copy)] = driver.copies
    assert sql == (
        "COPY pg_temp.ato_staged_metrics (run_id, key, value, step, unix_time, seq) "
        "FROM STDIN (FORMAT BINARY)"
    )
    assert copy.types == ("int8", "text", "float8", "int8", "float8", "int8")
    assert copy.rows == rows and all(a is b for a, b in zip(copy.rows, rows, strict=True))
    assert conn.invalidated_by == []


@pytest.mark.parametrize("disconnect", [False, True])
def test_a_driver_error_in_the_copy_becomes_sqlalchemys_and_a_lost_connection_invalid(
    disconnect: bool,
):
    failure = _DriverError("boom")
    conn = _Conn(_Driver(fail=failure), disconnect=disconnect)
    with pytest.raises(DBAPIError) as caught:
        postgres_batch.stage(conn, [(1, "loss", 1.0, 0, 1.0, 1)])  # type: ignore[arg-type]
    assert caught.value.orig is failure and caught.value.__cause__ is failure
    assert caught.value.statement == postgres_batch.COPY and caught.value.params is None
    assert caught.value.connection_invalidated is disconnect
    assert conn.invalidated_by == ([failure] if disconnect else [])


def test_an_error_outside_the_driver_passes_through_stage_unchanged():
    conn = _Conn(_Driver(fail=OverflowError("int too big")), disconnect=True)
    with pytest.raises(OverflowError):
        postgres_batch.stage(conn, [(1, "loss", 1.0, 0, 1.0, 1)])  # type: ignore[arg-type]
    assert conn.invalidated_by == []


BIG_SQL = "CAST(1.7976931348623157e+308 AS DOUBLE PRECISION)"
NAN_SQL = "CAST('NaN' AS DOUBLE PRECISION)"


def test_the_value_encoding_in_sql_tests_nan_first_then_beyond_the_largest_double():
    """PostgreSQL's NaN equals NaN and ranks above every number: it must be tested first."""
    assert postgres_batch.stored_value("v") == (
        f"CASE WHEN v = {NAN_SQL} THEN NULL WHEN v > {BIG_SQL} THEN {BIG_SQL} "
        f"WHEN v < -{BIG_SQL} THEN -{BIG_SQL} ELSE v END"
    )
    assert postgres_batch.value_class("v") == (
        f"CASE WHEN v = {NAN_SQL} THEN 1 WHEN v > {BIG_SQL} THEN 2 "
        f"WHEN v < -{BIG_SQL} THEN 3 ELSE 0 END"
    )


def test_the_time_in_sql_is_whole_seconds_plus_microseconds_rounded_like_python():
    assert postgres_batch.timestamp("t") == (
        "(to_timestamp(trunc(t)) + round((t - trunc(t)) * 1000000) * INTERVAL '1 microsecond')"
    )


def test_the_move_into_metrics_keeps_write_order_and_skips_stored_rows():
    sql = postgres_batch.insert_sql(42)
    assert sql.startswith(
        "INSERT INTO metrics (run_id, key, value, value_class, step, timestamp, writer, seq) "
        f"SELECT run_id, key, {postgres_batch.stored_value('value')}, "
        f"{postgres_batch.value_class('value')}, step, {postgres_batch.timestamp('unix_time')}"
        ", 42, seq FROM pg_temp.ato_staged_metrics ORDER BY ord "
    )
    assert sql.endswith("ON CONFLICT (run_id, writer, seq) DO NOTHING")


def test_the_folds_group_the_staged_rows_and_end_with_their_merge_clause():
    fold_sql = postgres_batch.fold_sql("ON CONFLICT (x) DO NOTHING")
    assert fold_sql.endswith(
        "max(ord) AS last_row FROM pg_temp.ato_staged_metrics GROUP BY run_id, key) AS g "
        "JOIN pg_temp.ato_staged_metrics AS s ON s.ord = g.last_row ON CONFLICT (x) DO NOTHING"
    )
    kind = postgres_batch.value_class("value")
    assert f"max(CASE WHEN {kind} = 2 THEN 1 ELSE 0 END) AS pos_inf, " in fold_sql
    assert f"max(CASE WHEN {kind} = 3 THEN 1 ELSE 0 END) AS neg_inf, " in fold_sql
    blocks_sql = postgres_batch.blocks_sql("ON CONFLICT (y) DO NOTHING")
    value = postgres_batch.stored_value("value")
    assert blocks_sql == (
        "INSERT INTO metric_series_lod (run_id, key, block, value_count, nan_count, "
        f"min_value, max_value) SELECT run_id, key, step >> 6, count(*), count(*) - "
        f"count({value}), min({value}), max({value}) FROM pg_temp.ato_staged_metrics "
        "WHERE step IS NOT NULL GROUP BY run_id, key, step >> 6 ON CONFLICT (y) DO NOTHING"
    )


def test_the_staging_table_empties_at_commit_and_orders_rows_as_copied():
    assert postgres_batch.STAGING.startswith("CREATE TEMP TABLE IF NOT EXISTS ato_staged_metrics ")
    assert "ord BIGINT GENERATED ALWAYS AS IDENTITY, " in postgres_batch.STAGING
    assert postgres_batch.STAGING.endswith(" ON COMMIT DELETE ROWS")


def test_only_psycopg_3_copies_and_its_folds_use_postgresqls_merge_clauses():
    from sqlalchemy.engine import make_url

    writer = MetricWriter(make_url("postgresql+psycopg://").get_dialect()())
    assert writer.copy
    fold_sql, blocks_sql = writer.staged_folds
    assert fold_sql.startswith("INSERT INTO metric_summaries ") and "pg_temp." in fold_sql
    assert fold_sql.endswith("last_timestamp = excluded.last_timestamp")
    assert blocks_sql.startswith("INSERT INTO metric_series_lod ") and "pg_temp." in blocks_sql
    assert "ON CONFLICT (run_id, key, block) DO UPDATE SET value_count = " in blocks_sql
