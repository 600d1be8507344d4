"""The series' level of detail (``metric_series_lod``, revision 0009) on every backend.

Kept at write time: after any mix of batch sizes, NaN and infinities, steps and no steps,
retried and partly stored batches and concurrent writers, every block equals what the metric
rows say. Read: a long series downsampled from its blocks gives exactly the points of the
index pass (and of a reference computed in Python), and falls back to the index pass when the
blocks disagree with the rows."""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, create_engine, select, text
from test_metric_summaries import MERGE_DIALECTS, _assigned_columns, _fold
from test_series_ties import _work

from ato.tracker import SQLLogger
from ato.tracker.read import series_lod
from ato.tracker.read.series import downsampled_series
from ato.tracker.storage import migrate
from ato.tracker.storage.database import dispose_engines, get_engine
from ato.tracker.storage.models import LOD_WIDTH, SeriesBlockRecord
from ato.tracker.write import series_blocks
from ato.tracker.write.buffer import new_writer_id
from ato.tracker.write.inserts import MetricWriter, write_isolating

BIG = 1.7976931348623157e308
_blocks = SeriesBlockRecord.__table__


def _config(url: str) -> dict[str, Any]:
    return {"experiment": {"project_name": "p", "sql": {"db_path": url}}}


def _stored(url: str) -> list[tuple[Any, ...]]:
    c = _blocks.c
    with get_engine(url).connect() as conn:
        rows = conn.execute(
            select(c.run_id, c.key, c.block, c.value_count, c.nan_count, c.min_value, c.max_value)
        )
        return sorted(tuple(row) for row in rows)


def _from_rows(url: str) -> list[tuple[Any, ...]]:
    """The blocks computed afresh from the ``metrics`` rows."""
    engine = get_engine(url)
    with engine.connect() as conn:
        stmt = series_blocks.aggregated(conn.dialect, series_blocks._metrics.c.id.is_not(None))
        return sorted(
            tuple(int(v) if i in (2, 3, 4) else v for i, v in enumerate(row))
            for row in conn.execute(stmt)
        )


def _expected(values: dict[int, list[float]]) -> list[tuple[Any, ...]]:
    """Blocks of one run's key ``loss`` from ``{step: [values logged at it]}``, in Python."""
    blocks: dict[int, list[float]] = {}
    for step, logged in values.items():
        blocks.setdefault(step // LOD_WIDTH, []).extend(logged)
    out = []
    for block, logged in sorted(blocks.items()):
        finite = [max(-BIG, min(v, BIG)) for v in logged if not math.isnan(v)]
        nans = len(logged) - len(finite)
        out.append((block, len(logged), nans, min(finite, default=None), max(finite, default=None)))
    return out


@pytest.mark.parametrize("batch_size", [7, 1000])
def test_blocks_kept_at_write_time_equal_the_rows(db_url: str, batch_size: int):
    rng = random.Random(5)
    logger = SQLLogger(_config(db_url), batch_size=batch_size)
    run_id = logger.run()
    logged: dict[int, list[float]] = {}
    for i in range(700):
        step = rng.randrange(-130, 400)  # late, repeated and negative steps
        value = rng.choice([rng.uniform(-5, 5), math.nan, math.inf, -math.inf, 2.5])
        logger.log_metric("loss", value, step)
        logged.setdefault(step, []).append(value)
        if i % 3 == 0:
            logger.log_metric("other", float(i), i)  # interleaved key
        if i % 50 == 0:
            logger.log_metric("loss", 1.0)  # no step: no block
    logger.finish()
    stored = _stored(db_url)
    assert [row[2:] for row in stored if row[1] == "loss"] == _expected(logged)
    assert stored == _from_rows(db_url)
    assert all(row[0] == run_id for row in stored)


@pytest.mark.parametrize("stored_first", [0, 3, 100])
def test_a_retried_or_partly_stored_batch_counts_once(db_url: str, stored_first: int):
    logger = SQLLogger(_config(db_url))
    run_id = logger.run()
    engine = get_engine(db_url)
    writer, writer_id = MetricWriter(engine.dialect), new_writer_id()
    rows = [
        (run_id, "loss", math.nan if s % 17 == 0 else math.sin(s), s * 5, 1.7e9 + s, s + 1)
        for s in range(100)
    ]
    if stored_first:
        write_isolating(engine, writer, rows[:stored_first], writer_id)
    write_isolating(engine, writer, rows, writer_id)  # the retry: some or all stored before
    write_isolating(engine, writer, rows, writer_id)  # and again: nothing new
    logger.finish()
    logged = {s * 5: [math.nan if s % 17 == 0 else math.sin(s)] for s in range(100)}
    assert [row[2:] for row in _stored(db_url)] == _expected(logged)


def test_concurrent_writers_to_one_series_add_up(server_db_url: str):
    logger = SQLLogger(_config(server_db_url))
    run_id = logger.run()
    engine = get_engine(server_db_url)

    def write(offset: int) -> None:
        writer, writer_id = MetricWriter(engine.dialect), new_writer_id()
        rows = [(run_id, "loss", float(offset + s), s, 1.7e9, s + 1) for s in range(300)]
        for start in range(0, 300, 40):  # batches straddle blocks
            write_isolating(engine, writer, rows[start : start + 40], writer_id)

    threads = [threading.Thread(target=write, args=(1000 * t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    logger.finish()
    logged = {s: [float(1000 * t + s) for t in range(4)] for s in range(300)}
    assert [row[2:] for row in _stored(server_db_url)] == _expected(logged)


def _reference(steps: list[int], values: list[float], max_points: int) -> list[int]:
    """Indexes of the points the downsampling promises (steps increasing, one value each):
    first, last, and per bucket of equal step width the first minimum, maximum and NaN."""
    buckets = (max_points - 2) // 2
    first, width = steps[0], steps[-1] - steps[0] + 1
    groups: dict[int, list[int]] = {}
    for i, step in enumerate(steps):
        groups.setdefault((step - first) * buckets // width, []).append(i)
    keep = {0, len(steps) - 1}
    for members in groups.values():
        finite = [i for i in members if not math.isnan(values[i])]
        if finite:
            keep.add(min(finite, key=lambda i: (values[i], i)))
            keep.add(min(finite, key=lambda i: (-values[i], i)))
        nans = [i for i in members if math.isnan(values[i])]
        if nans:
            keep.add(nans[0])
    return sorted(keep)


def _long_series(url: str, steps: list[int], values: list[float]) -> int:
    logger = SQLLogger(_config(url), batch_size=5000)
    run_id = logger.run()
    for step, value in zip(steps, values, strict=True):
        logger.log_metric("loss", value, step)
    logger.finish()
    return run_id


def _same(a: Any, b: Any) -> bool:
    """Two series equal, NaN equal to NaN."""

    def shown(series: Any) -> Any:
        return series.total, [(p.key, p.step, repr(p.value), p.timestamp) for p in series.points]

    return bool(shown(a) == shown(b))


def _both(url: str, run_id: int, max_points: int, monkeypatch: Any) -> tuple[Any, Any]:
    """The series read from its blocks (checked that they were read) and by the index pass."""
    read: list[int] = []
    real = series_lod.extreme_ids
    monkeypatch.setattr(series_lod, "extreme_ids", lambda *a: read.append(1) or real(*a))
    with get_engine(url).connect() as conn:
        lod = downsampled_series(conn, run_id, "loss", max_points)
        assert read, "the level of detail was not read"
        monkeypatch.setattr(series_lod, "worth_it", lambda *a: 0)
        rows = downsampled_series(conn, run_id, "loss", max_points)
    return lod, rows


@pytest.mark.parametrize("max_points", [4, 22, 60])
def test_a_long_series_from_its_blocks_equals_the_index_pass(
    db_url: str, max_points: int, monkeypatch: pytest.MonkeyPatch
):
    rng = random.Random(max_points)
    steps = list(range(-3001, 12_000))  # starts mid-block, negative steps
    values = [math.sin(s / 300) + rng.uniform(-0.1, 0.1) for s in steps]
    for i in rng.sample(range(len(steps)), 40):
        values[i] = rng.choice([math.nan, math.inf, -math.inf, 9.0, -9.0])
    for i in range(5000, 5400):
        values[i] = 0.25  # a flat stretch: ties across blocks
    run_id = _long_series(db_url, steps, values)
    lod, rows = _both(db_url, run_id, max_points, monkeypatch)
    assert _same(lod, rows) and lod.total == len(steps)
    assert len(lod.points) <= 2 + 3 * ((max_points - 2) // 2)  # a bucket's NaN is kept too
    kept = [p.step for p in lod.points]
    assert kept == [steps[i] for i in _reference(steps, values, max_points)]
    assert all(
        p.value == values[p.step + 3001] or math.isnan(values[p.step + 3001]) for p in lod.points
    )


def test_a_flat_long_series_keeps_first_and_last_of_every_bucket(
    db_url: str, monkeypatch: pytest.MonkeyPatch
):
    steps = list(range(20_000))
    run_id = _long_series(db_url, steps, [1.5] * len(steps))
    lod, rows = _both(db_url, run_id, 40, monkeypatch)
    assert lod == rows and {p.value for p in lod.points} == {1.5}
    assert [p.step for p in lod.points] == [steps[i] for i in _reference(steps, [1.5] * 20_000, 40)]


# Index entries and table rows of ``metrics`` and ``metric_series_lod`` read so far in this
# transaction (see test_series_ties).
_PG_TUPLES_READ = (
    "SELECT sum(pg_stat_get_xact_tuples_returned(c.oid)) FROM pg_class c WHERE c.relname IN "
    "('metrics', 'metric_series_lod') OR c.oid IN (SELECT indexrelid FROM pg_index i "
    "JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname IN ('metrics', 'metric_series_lod'))"
)


@contextmanager
def _all_work(conn: Connection) -> Iterator[list[int]]:
    """test_series_ties's count of the database's work, on PostgreSQL counting both tables."""
    if conn.dialect.name != "postgresql":
        with _work(conn) as result:
            yield result
        return
    result: list[int] = []
    with conn.begin():
        before = int(conn.execute(text(_PG_TUPLES_READ)).scalar_one())
        yield result
        result.append(int(conn.execute(text(_PG_TUPLES_READ)).scalar_one()) - before)


def test_reading_the_blocks_reads_a_fraction_of_the_series(
    db_url: str, monkeypatch: pytest.MonkeyPatch
):
    steps = list(range(40_000))
    run_id = _long_series(db_url, steps, [math.sin(s / 700) + s * 1e-5 for s in steps])
    if db_url.startswith("postgresql"):  # statistics that know the run, as autovacuum's will
        with get_engine(db_url).connect() as conn:
            conn.execute(text("ANALYZE metrics"))
            conn.execute(text("ANALYZE metric_series_lod"))
            conn.commit()
    work = []
    for shipped in (True, False):
        if not shipped:
            monkeypatch.setattr(series_lod, "worth_it", lambda *a: 0)
        with get_engine(db_url).connect() as conn, _all_work(conn) as done:
            assert downsampled_series(conn, run_id, "loss", 42).total == len(steps)
        work.append(done[0])
    assert work[0] * 4 < work[1], work  # blocks: ~700 rows and ~2,500 entries, not 40,000


def test_blocks_that_disagree_with_the_rows_are_not_trusted(sqlite_url: str):
    steps = list(range(10_000))
    values = [math.cos(s / 50) for s in steps]
    run_id = _long_series(sqlite_url, steps, values)
    engine = get_engine(sqlite_url)
    with engine.connect() as conn:
        good = downsampled_series(conn, run_id, "loss", 20)
    damage = [  # as if a writer had bypassed the fold
        _blocks.update().where(_blocks.c.block == 7).values(min_value=-5.0),  # no such row
        _blocks.delete().where(_blocks.c.block == 3),  # the count falls short
        _blocks.delete(),
    ]
    for statement in damage:
        with engine.begin() as conn:
            conn.execute(statement)
        with engine.connect() as conn:
            assert downsampled_series(conn, run_id, "loss", 20) == good


def test_since_step_downsamples_only_the_later_values(db_url: str):
    steps = list(range(3000))
    values = [float(s % 97) for s in steps]
    run_id = _long_series(db_url, steps, values)
    with get_engine(db_url).connect() as conn:
        later = downsampled_series(conn, run_id, "loss", None, since_step=2990)
        assert [p.step for p in later.points] == list(range(2991, 3000)) and later.total == 9
        small = downsampled_series(conn, run_id, "loss", 10, since_step=999)
        assert downsampled_series(conn, run_id, "loss", 10, since_step=2999) == ([], 0)
    assert small.total == 2000 and len(small.points) <= 10
    tail_steps, tail = steps[1000:], values[1000:]
    assert [p.step for p in small.points] == [
        tail_steps[i] for i in _reference(tail_steps, tail, 10)
    ]


def test_revision_0009_computes_the_blocks_of_old_rows(db_url: str):
    logger = SQLLogger(_config(db_url), batch_size=13)
    run_id = logger.run()
    for s in range(-70, 300):
        logger.log_metric("loss", math.nan if s % 11 == 0 else math.inf if s == 5 else s * 0.5, s)
        logger.log_metric("loss", 2.0)  # no step
    logger.finish()
    before = _stored(db_url)
    dispose_engines()
    engine = create_engine(db_url)
    with engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "0008")
        assert "metric_series_lod" not in conn.dialect.get_table_names(conn)
    engine.dispose()
    assert migrate.upgrade(db_url).applied == ["0009", "0010"]
    assert _stored(db_url) == before and len(before) == 7 and before[0][0] == run_id


@pytest.mark.parametrize("staged", [False, True], ids=["python-fold", "sql-fold"])
def test_both_folds_keep_blocks_equal_to_the_logged_values_across_merged_batches(
    sqlite_url: str, staged: bool
):
    """Two batches of two runs and two keys: NaN, infinities, no step, negative and late
    steps; the second batch lowers one block's minimum, raises another's maximum and gives a
    block of NaN only its first finite value. Both folds keep exactly the blocks the values
    say (the mutation run has no servers, so the Python fold is checked on SQLite)."""
    logger = SQLLogger(_config(sqlite_url))
    runs = []
    for _ in range(2):
        runs.append(logger.run())
        logger.finish()
    nan, inf = math.nan, math.inf
    first = [  # (key, step, value)
        ("loss", 0, nan), ("loss", 1, 2.0), ("loss", 2, 5.0), ("loss", None, 9.0),
        ("loss", 3, 3.0), ("loss", 70, 7.0), ("loss", 71, 1.0), ("loss", 72, 4.0),
        ("loss", -3, -inf), ("loss", -2, 0.5), ("loss", 130, inf), ("loss", 131, -1.0),
        ("acc", 200, nan), ("acc", 201, nan), ("acc", 5, 0.25),
    ]  # fmt: skip
    second = [
        ("loss", 4, 0.5), ("loss", 5, 3.5), ("loss", 6, nan), ("loss", 73, 8.0),
        ("loss", 74, 4.0), ("acc", 202, 4.0), ("acc", None, -7.0), ("acc", 203, nan),
    ]  # fmt: skip
    logged: dict[tuple[int, str], dict[int, list[float]]] = {}
    seq = 0
    for batch in (first, second):
        rows = []
        for sign, run_id in zip((1.0, -2.0), runs, strict=True):
            for key, step, value in batch:
                seq += 1
                rows.append((run_id, key, sign * value, step, 1.7e9 + seq, seq))
                if step is not None:
                    logged.setdefault((run_id, key), {}).setdefault(step, []).append(sign * value)
        _fold(sqlite_url, rows, staged)
    expected = sorted(
        (run_id, key, *block)
        for (run_id, key), values in logged.items()
        for block in _expected(values)
    )
    assert _stored(sqlite_url) == expected


def test_a_recomputed_series_leaves_the_blocks_of_other_runs_and_keys_alone(
    db_url: str, monkeypatch: pytest.MonkeyPatch
):
    """A retry stored only in part rebuilds the blocks of its own run and key from the rows,
    in the retry's one transaction (not split as if its data were refused); the same key of
    another run and another key of the same run keep theirs."""
    logger = SQLLogger(_config(db_url))
    runs = []
    for sign in (1.0, -1.0):
        runs.append(logger.run())
        for step in range(0, 200, 3):
            logger.log_metric("loss", sign * step, step)
            logger.log_metric("acc", sign * step / 2, step + 1)
        logger.log_metric("loss", 1.0)  # no step: no block
        logger.finish()
    engine = get_engine(db_url)
    writer, writer_id = MetricWriter(engine.dialect), new_writer_id()
    batches: list[int] = []
    real = MetricWriter.write
    monkeypatch.setattr(
        MetricWriter,
        "write",
        lambda self, c, rows, w: (batches.append(len(rows)), real(self, c, rows, w)),
    )
    retried = {300 + s: math.nan if s % 7 == 0 else 0.5 * s for s in range(100)}
    rows = [(runs[0], "loss", v, step, 1.7e9 + step, step) for step, v in retried.items()]
    write_isolating(engine, writer, rows[:30], writer_id)
    before = [row for row in _stored(db_url) if (row[0], row[1]) != (runs[0], "loss")]
    assert write_isolating(engine, writer, rows, writer_id) == 100  # 70 new: recomputed
    assert batches == [30, 100]
    after = _stored(db_url)
    assert after == _from_rows(db_url)
    assert [row for row in after if (row[0], row[1]) != (runs[0], "loss")] == before
    loss = [row[2:] for row in after if (row[0], row[1]) == (runs[0], "loss")]
    logged = {s: [float(s)] for s in range(0, 200, 3)}
    assert loss == _expected({**logged, **{step: [v] for step, v in retried.items()}})


@pytest.mark.parametrize("backend", ["mysql", "mariadb"])
def test_the_block_of_a_step_is_a_floor_division_on_mysql_and_mariadb(backend: str):
    """MySQL's ``>>`` shifts unsigned (a negative step would land in a huge block), so its
    blocks are ``floor(step / LOD_WIDTH)``; the other backends shift by `LOD_SHIFT`."""
    from sqlalchemy.dialects import postgresql, sqlite

    step = series_blocks._metrics.c.step
    dialect = create_engine(f"{backend}+pymysql://u@h/db").dialect
    assert dialect.name == backend
    shown = str(series_blocks.block_of(step, dialect).compile(dialect=dialect))
    assert shown == f"floor(metrics.step / {LOD_WIDTH})"
    for other in (sqlite.dialect(), postgresql.dialect()):
        assert str(series_blocks.block_of(step, other).compile(dialect=other)) == (
            "metrics.step >> 6"
        )


@MERGE_DIALECTS
def test_the_block_merge_of_each_backend_updates_every_block_column(make_dialect, marker):
    """Each backend's upsert of a block adds counts and merges extremes into the stored block,
    keyed by run, key and block (PostgreSQL quotes no name, so each must be a column's)."""
    dialect = make_dialect()
    sql = str(series_blocks._merge_statement(dialect).compile(dialect=dialect))
    marker = marker.replace(") DO UPDATE SET", ", block) DO UPDATE SET")  # no-op on MySQL
    assert marker in sql
    expected = ["value_count", "nan_count", "min_value", "max_value"]
    assert _assigned_columns(sql, marker) == expected


def test_sqlites_block_merge_clause_binds_no_parameters():
    """`sqlite_batch.blocks_sql` appends the clause to hand-written SQL: it must be the ON
    CONFLICT part of SQLite's block merge and bind nothing."""
    from sqlalchemy.dialects import sqlite

    from ato.tracker.write import upserts

    clause = series_blocks.blocks_on_conflict(sqlite.dialect())
    assert (
        clause.startswith('ON CONFLICT (run_id, "key", block) DO UPDATE SET') and "?" not in clause
    )
    merge = series_blocks._merge_statement(sqlite.dialect())
    assert upserts.on_conflict(merge, sqlite.dialect()) == clause
