"""Metric summaries kept at write time (``metric_summaries``, revision 0006): after any mix of
values, batch sizes, retried and partly stored batches and concurrent writers, each run and
key's summary equals what its logged values say; revision 0006 fills them for old rows."""

from __future__ import annotations

import math
import random
import re
import sys
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, select, text
from sqlalchemy.dialects import mysql, postgresql, sqlite

from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.read import queries, summaries
from ato.tracker.read.results import MetricSummary
from ato.tracker.storage import migrate
from ato.tracker.storage.database import dispose_engines, get_engine
from ato.tracker.storage.models import MetricSummaryRecord
from ato.tracker.storage.values import store_value
from ato.tracker.write import fold, sqlite_batch, upserts
from ato.tracker.write.buffer import new_writer_id
from ato.tracker.write.inserts import MetricWriter, write_isolating

BIG = sys.float_info.max
LMM = ("last", "min", "max")
INF, NAN = math.inf, math.nan
SERIES: dict[str, list[float]] = {
    "plain": [0.5, 0.25, 0.75, 0.125],
    "one": [3.0],
    "nan_only": [NAN, NAN],
    "nan_last": [1.0, -2.0, NAN],
    "nan_first": [NAN, 4.0, -1.5],
    "infinities": [1.0, INF, -INF, 2.0],
    "pos_inf_last": [-3.0, INF],
    "doubles_and_inf": [BIG, -BIG, 0.0],
    "big_then_inf": [BIG, INF, -BIG],
    "negative_zero": [-0.0, 0.0, -1e-300],
    "all_pos_inf": [INF, INF],
    "neg_inf_and_finite": [-INF, 3.0],
    "pos_inf_and_finite": [INF, -3.0],
}


def _config(url: str) -> dict[str, Any]:
    return {"experiment": {"project_name": "p", "sql": {"db_path": url}}}


def _expected(values: list[float], steps: list[int | None]) -> dict[str, Any]:
    """What the summary must say, computed from the logged values alone."""
    ranked = [v for v in values if not math.isnan(v)]
    return {
        "count": len(values),
        "min": min(ranked) if ranked else None,
        "max": max(ranked) if ranked else None,
        "last": values[-1],
        "last_step": steps[-1],
    }


def _as_dict(summary: MetricSummary) -> dict[str, Any]:
    return {
        "count": summary.count,
        "min": summary.min,
        "max": summary.max,
        "last": summary.last,
        "last_step": summary.last_step,
    }


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    def eq(x: Any, y: Any) -> bool:
        if isinstance(x, float) and isinstance(y, float) and math.isnan(x):
            return math.isnan(y)
        return bool(x == y)

    return a.keys() == b.keys() and all(eq(a[k], b[k]) for k in a)


def _summaries(url: str, run_ids: list[int]) -> dict[int, dict[str, MetricSummary]]:
    with get_engine(url).connect() as conn:
        return queries.metric_summaries(conn, run_ids)


def _recomputed(url: str, run_id: int) -> dict[str, dict[str, Any]]:
    """The summaries built from the metrics rows alone (what revision 0006 computes)."""
    engine = get_engine(url)
    with engine.begin() as conn:
        keys = [k for (k,) in conn.execute(text("SELECT DISTINCT m.key FROM metrics m"))]
        fold.recompute(conn, {(run_id, key) for key in keys})
    return {k: _as_dict(s) for k, s in _summaries(url, [run_id])[run_id].items()}


@pytest.mark.parametrize("batch_size", [1, 3, 1000])
def test_summaries_match_the_logged_values_for_every_kind_of_value(
    make_config, db_url: str, batch_size: int
):
    logger = SQLLogger(make_config(), batch_size=batch_size, flush_interval=3600)
    run_id = logger.run()
    steps: dict[str, list[int | None]] = {}
    for key, values in SERIES.items():
        steps[key] = [None if key == "one" else 10 * i for i in range(len(values))]
    for i in range(max(map(len, SERIES.values()))):  # keys interleaved, as training logs them
        for key, values in SERIES.items():
            if i < len(values):
                logger.log_metric(key, values[i], steps[key][i])
    logger.finish()

    got = _summaries(db_url, [run_id])[run_id]
    assert set(got) == set(SERIES)
    for key, values in SERIES.items():
        assert _same(_as_dict(got[key]), _expected(values, steps[key])), key


def test_summaries_of_random_series_in_several_runs_equal_a_recomputation(make_config, db_url):
    rng = random.Random(20261130)
    logger = SQLLogger(make_config(), batch_size=37, flush_interval=3600)
    logged: dict[tuple[int, str], list[float]] = {}
    for _ in range(3):
        run_id = logger.run()
        for step in range(200):
            key = rng.choice(["loss", "acc", "lr"])
            value = rng.choice([rng.uniform(-5, 5), rng.uniform(-5, 5), NAN, INF, -INF])
            logger.log_metric(key, value, step)
            logged.setdefault((run_id, key), []).append(value)
        logger.finish()
    run_ids = sorted({run for run, _ in logged})
    got = _summaries(db_url, run_ids)
    for (run_id, key), values in logged.items():
        assert got[run_id][key].count == len(values)
        ranked = [v for v in values if not math.isnan(v)]
        assert (got[run_id][key].min, got[run_id][key].max) == (min(ranked), max(ranked))
    for run_id in run_ids:
        folded = {k: _as_dict(s) for k, s in got[run_id].items()}
        recomputed = _recomputed(db_url, run_id)
        assert all(_same(folded[k], recomputed[k]) for k in folded)


def _rows(run_id: int, key: str, values: list[float], first_seq: int = 1) -> list[Any]:
    return [
        (run_id, key, v, step, 1_700_000_000.25 + step, first_seq + step)
        for step, v in enumerate(values)
    ]


@pytest.mark.parametrize("stored_first", [0, 4, 10])
def test_a_retried_batch_is_counted_once_whatever_part_was_stored_before(
    make_config, db_url: str, stored_first: int
):
    logger = SQLLogger(make_config())
    run_id = logger.run()
    engine = get_engine(db_url)
    writer, writer_id = MetricWriter(engine.dialect), new_writer_id()
    values = [float(v) for v in [5, 3, 9, 1, 7, 2, 8, 6, 4, 0]]
    rows = _rows(run_id, "loss", values)
    if stored_first:  # an earlier attempt whose COMMIT went through (its reply was lost)
        assert write_isolating(engine, writer, rows[:stored_first], writer_id) == stored_first
    assert write_isolating(engine, writer, rows, writer_id) == len(rows)
    assert write_isolating(engine, writer, rows, writer_id) == len(rows)  # a replay: no-op
    logger.finish()
    summary = _summaries(db_url, [run_id])[run_id]["loss"]
    assert _as_dict(summary) == {"count": 10, "min": 0.0, "max": 9.0, "last": 0.0, "last_step": 9}


def test_concurrent_writers_to_one_run_and_key_add_up(server_db_url: str):
    logger = SQLLogger(_config(server_db_url), batch_size=50)
    run_id = logger.run()
    engine = get_engine(server_db_url)
    per_writer = 400

    def write(offset: float) -> None:
        writer, writer_id = MetricWriter(engine.dialect), new_writer_id()
        rows = _rows(run_id, "loss", [offset + i for i in range(per_writer)])
        for start in range(0, per_writer, 50):
            write_isolating(engine, writer, rows[start : start + 50], writer_id)

    threads = [threading.Thread(target=write, args=(1000.0 * t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    logger.finish()
    summary = _summaries(server_db_url, [run_id])[run_id]["loss"]
    assert (summary.count, summary.min, summary.max) == (4 * per_writer, 0.0, 3000.0 + 399)


def test_revision_0006_computes_the_summaries_of_old_rows(db_url: str):
    logger = SQLLogger(_config(db_url))
    run_ids = []
    for offset in (0, 1):
        run_ids.append(logger.run())
        for key, values in SERIES.items():
            for step, value in enumerate(values):
                logger.log_metric(key, value if not offset else -value, step)
        logger.finish()
    before = _summaries(db_url, run_ids)
    dispose_engines()
    engine = create_engine(db_url)
    with engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "0005")
        assert "metric_summaries" not in conn.dialect.get_table_names(conn)
    engine.dispose()

    result = migrate.upgrade(db_url)
    assert result.applied == ["0006", "0007", "0008", "0009", "0010"]
    after = _summaries(db_url, run_ids)
    for run_id in run_ids:
        assert set(after[run_id]) == set(SERIES)
        for key in SERIES:
            assert _same(_as_dict(after[run_id][key]), _as_dict(before[run_id][key])), key


@pytest.mark.parametrize("batch_size", [1, 1000])
def test_project_summary_rows_give_finite_values_and_none_for_nan_and_infinities(
    db_url: str, batch_size: int
):
    logger = SQLLogger(_config(db_url), batch_size=batch_size)
    run_id = logger.run()
    for key, values in SERIES.items():
        for step, value in enumerate(values):
            logger.log_metric(key, value, step)
    logger.finish()
    other = SQLLogger({"experiment": {"project_name": "other", "sql": {"db_path": db_url}}})
    other.run()
    other.log_metric("plain", 1.0, 0)
    other.finish()

    def finite(value: float | None) -> float | None:
        return value if value is not None and math.isfinite(value) else None

    with get_engine(db_url).connect() as conn:
        rows = summaries.project_summary_rows(conn, "p")
        assert summaries.project_summary_rows(conn, "nope") == []
    assert {row.run_id for row in rows} == {run_id}
    got = {row.key: row for row in rows}
    assert set(got) == set(SERIES)

    def infinity(value: float | None) -> int:
        return 0 if value is None or not math.isinf(value) else (1 if value > 0 else -1)

    for key, values in SERIES.items():
        want = _expected(values, [None] * len(values))
        row = got[key]
        assert (row.last, row.min, row.max) == tuple(map(finite, [want[k] for k in LMM])), key
        assert (row.min_inf, row.max_inf) == (infinity(want["min"]), infinity(want["max"])), key
        assert row.last_class == store_value(want["last"])[1], key


def _assigned_columns(sql: str, marker: str) -> list[str]:
    """The columns an upsert's update part assigns (top-level ``name = ...`` after ``marker``)."""
    return re.findall(r", [`\"]?(\w+)[`\"]? = ", ", " + sql.split(marker, 1)[1].strip())


#: Each backend's dialect, made afresh by each test (the merge statement is built once per
#: dialect object), and the clause its upserts merge with.
MERGE_DIALECTS = pytest.mark.parametrize(
    ("make_dialect", "marker"),
    [
        (sqlite.dialect, 'ON CONFLICT (run_id, "key") DO UPDATE SET'),
        (postgresql.dialect, "ON CONFLICT (run_id, key) DO UPDATE SET"),
        (mysql.dialect, "ON DUPLICATE KEY UPDATE"),
        (lambda: mysql.dialect(is_mariadb=True), "ON DUPLICATE KEY UPDATE"),
        (lambda: create_engine("mariadb+pymysql://u@h/db").dialect, "ON DUPLICATE KEY UPDATE"),
    ],
    ids=["sqlite", "postgresql", "mysql", "mariadb-as-mysql", "mariadb"],
)


@MERGE_DIALECTS
def test_the_merge_statement_of_each_backend_updates_every_summary_column(make_dialect, marker):
    dialect = make_dialect()
    sql = str(fold._merge_statement(dialect).compile(dialect=dialect))
    assert marker in sql
    expected = [c.name for c in MetricSummaryRecord.__table__.columns][2:]  # not the key
    assert _assigned_columns(sql, marker) == expected


def test_one_batch_of_several_runs_sharing_a_key_keeps_their_summaries_apart():
    rows = [
        (1, "loss", 3.0, 0, 10.5, 1),
        (2, "loss", -1.0, 0, 11.5, 2),
        (1, "loss", 5.0, 1, 12.5, 3),
    ]
    got = {(r["run_id"], r["key"]): r for r in fold.batch_summaries(rows)}
    assert set(got) == {(1, "loss"), (2, "loss")}
    assert (got[1, "loss"]["value_count"], got[1, "loss"]["min_value"]) == (2, 3.0)
    assert (got[1, "loss"]["max_value"], got[1, "loss"]["last_value"]) == (5.0, 5.0)
    assert (got[2, "loss"]["value_count"], got[2, "loss"]["last_step"]) == (1, 0)


def test_a_partly_stored_batch_is_recomputed_in_its_own_transaction(db_url: str, monkeypatch):
    logger = SQLLogger(_config(db_url))
    run_id = logger.run()
    engine = get_engine(db_url)
    writer, writer_id = MetricWriter(engine.dialect), new_writer_id()
    logger.log_metric("acc", 0.5, 0)  # another key of the run, stored and summarised before
    logger.flush()
    rows = _rows(run_id, "loss", [4.0, 2.0, 8.0, 6.0])
    write_isolating(engine, writer, rows[:2], writer_id)
    calls: list[int] = []
    real = MetricWriter.write
    monkeypatch.setattr(
        MetricWriter, "write", lambda self, c, r, w: (calls.append(len(r)), real(self, c, r, w))
    )
    assert write_isolating(engine, writer, rows, writer_id) == 4
    assert calls == [4]  # one transaction: the recomputation did not fail into a bisection
    logger.finish()
    both = _summaries(db_url, [run_id])[run_id]
    summary = both["loss"]
    assert (summary.count, summary.min, summary.max, summary.last) == (4, 2.0, 8.0, 6.0)
    assert (both["acc"].key, both["acc"].count, both["acc"].last) == ("acc", 1, 0.5)


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata"])
def test_the_last_timestamp_is_the_last_rows_time_in_utc_whatever_the_local_zone(
    db_url: str, monkeypatch: pytest.MonkeyPatch, zone: str
):
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        logger = SQLLogger(_config(db_url))
        run_id = logger.run()
        for step in range(3):
            logger.log_metric("loss", 1.0 / (step + 1), step)
        logger.finish()
        stored = SQLFinder(db_url).find_run(run_id).metrics[-1].timestamp
        table = MetricSummaryRecord.__table__
        with get_engine(db_url).connect() as conn:
            last = conn.execute(select(table.c.last_timestamp)).scalar_one()
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    # SQLite's insert truncates the time to the microsecond, the summary rounds it
    assert abs(last - stored) <= timedelta(microseconds=1) and last.utcoffset() == timedelta(0)


def test_recomputing_from_the_metric_rows_gives_the_summaries_kept_at_write_time(db_url: str):
    logger = SQLLogger(_config(db_url), batch_size=2)
    run_ids = []
    for sign in (1.0, -1.0):  # two runs logging the same keys
        run_ids.append(logger.run())
        for key, values in SERIES.items():
            for step, value in enumerate(values):
                logger.log_metric(key, sign * value, step)
        logger.finish()
    engine = get_engine(db_url)
    with engine.connect() as conn:
        kept = summaries.read(conn, run_ids)
        kept_rows = sorted(map(tuple, summaries.project_summary_rows(conn, "p")))
    with engine.begin() as conn:
        fold.recompute(conn, {(run, key) for run in run_ids for key in SERIES})
    with engine.connect() as conn:
        again = summaries.read(conn, run_ids)
        assert sorted(map(tuple, summaries.project_summary_rows(conn, "p"))) == kept_rows
    for run_id in run_ids:
        assert {k: s.key for k, s in again[run_id].items()} == {k: k for k in SERIES}
        for key in SERIES:
            assert _same(_as_dict(again[run_id][key]), _as_dict(kept[run_id][key])), key


def test_reading_the_summaries_of_many_run_ids_reads_each_batch_of_them(sqlite_url: str):
    """Run ids are read in batches of 5,000: a run past the first batch is found too."""
    logger = SQLLogger(_config(sqlite_url))
    run_id = logger.run()
    logger.log_metric("loss", 0.5, 0)
    logger.finish()
    ids = [run_id + 1 + i for i in range(5200)]  # no such runs
    for at in (5000, 5199):
        wanted = [*ids[:at], run_id, *ids[at:]]
        with get_engine(sqlite_url).connect() as conn:
            read = summaries.read(conn, wanted)
        assert list(read) == [run_id] and read[run_id]["loss"].last == 0.5, at


@pytest.mark.parametrize("keys", [1, 2, 5])
def test_a_batch_is_written_by_a_few_statements_whatever_its_keys(db_url: str, keys: int):
    """One flush of a batch (rows of several keys, whose summaries are merged by one upsert)
    runs a bounded number of statements, not one per row (SQLite: one per 166 rows staged): a bound parameter in MySQL's
    ON DUPLICATE KEY UPDATE once made PyMySQL refuse the batch, which was then written row
    by row (60,009 statements for 10,000 rows of two keys)."""
    from sqlalchemy import event

    logger = SQLLogger(_config(db_url), batch_size=100_000, flush_interval=3600)
    run_id = logger.run()
    statements: list[str] = []
    counter = lambda *args: statements.append(args[2])  # noqa: E731 - a listener
    event.listen(logger.engine, "before_cursor_execute", counter)
    try:
        for step in range(300):
            for k in range(keys):
                logger.log_metric(f"key{k}", float(step * (k + 1)), step)
        assert logger.flush() == 300 * keys
    finally:
        event.remove(logger.engine, "before_cursor_execute", counter)
    logger.finish()
    staging = 0  # SQLite stages the rows with one multi-row insert per 166 rows
    if db_url.startswith("sqlite"):
        staging = math.ceil(300 * keys / sqlite_batch.ROWS_PER_STATEMENT)
    assert len(statements) <= 12 + staging, statements[:20]
    stored = _summaries(db_url, [run_id])[run_id]
    assert sorted(stored) == [f"key{k}" for k in range(keys)]
    assert all(stored[f"key{k}"].count == 300 for k in range(keys))


def test_sqlites_fold_in_sql_equals_the_fold_in_python_of_the_other_backends(sqlite_url: str):
    """SQLite folds a staged batch by one statement (`fold.fold_staged`); PostgreSQL and
    MariaDB merge the rows of `fold.batch_summaries`: both give the same summary columns, for
    every kind of value, two runs sharing keys, rows interleaved as training logs them."""
    run_ids = []
    for _ in range(2):
        logger = SQLLogger(_config(sqlite_url))
        run_ids.append(logger.run())
        logger.finish()
    rows: list[Any] = []
    for i in range(max(map(len, SERIES.values()))):
        for key, values in SERIES.items():
            for sign, run_id in zip((1.0, -1.0), run_ids, strict=True):
                if i < len(values):
                    step = None if key == "one" else i
                    seq = len(rows) + 1
                    rows.append((run_id, key, sign * values[i], step, 1_700_000_000.5 + i, seq))
    engine = get_engine(sqlite_url)
    writer = MetricWriter(engine.dialect)
    assert write_isolating(engine, writer, rows, new_writer_id()) == len(rows)
    table = MetricSummaryRecord.__table__
    with engine.connect() as conn:
        stored = {(r.run_id, r.key): r._asdict() for r in conn.execute(select(table))}
    expected = {(r["run_id"], r["key"]): r for r in fold.batch_summaries(rows)}
    assert stored.keys() == expected.keys()
    for pair, want in expected.items():
        got = stored[pair]
        for column, value in want.items():
            assert got[column] == value or (value != value and got[column] != got[column]), (
                pair,
                column,
            )


#: Per key, two batches: the second lowers the minimum, raises the maximum, neither, gives a
#: NaN-only key its first finite values, logs NaN only, brings infinities, or none after them.
MERGED: dict[str, tuple[list[float], list[float]]] = {
    "lower_min": ([2.0, 5.0], [1.0, 3.0]),
    "higher_max": ([2.0, 5.0], [6.0, 3.0]),
    "inside": ([1.0, 9.0], [4.0]),
    "nan_then_finite": ([NAN], [3.0, -1.0]),
    "finite_then_nan": ([3.0, -1.0], [NAN]),
    "infinities_later": ([1.0], [INF, -INF, 2.0]),
    "infinities_first": ([INF, -INF], [1.0]),
}


def _fold(url: str, rows: list[Any], staged: bool) -> None:
    """Fold ``rows`` (all newly stored) into the summaries and blocks the way SQLite's writes
    do (one statement over the staged rows) or the way PostgreSQL's and MariaDB's do (computed in
    Python and merged by an upsert), on SQLite itself."""
    with get_engine(url).begin() as conn:
        if staged:
            conn.exec_driver_sql(sqlite_batch.STAGING)
            sqlite_batch.stage(conn, rows)
            fold.fold_staged(conn, rows, len(rows), MetricWriter(conn.dialect).staged_folds)
            conn.exec_driver_sql(sqlite_batch.CLEAR_STAGED)
        else:
            fold.fold(conn, rows, len(rows))


@pytest.mark.parametrize("staged", [False, True], ids=["python-fold", "sql-fold"])
def test_both_folds_merge_a_later_batch_into_the_kept_summaries(sqlite_url: str, staged: bool):
    """A second batch merged into the summaries the first one left: count, extremes (and
    the infinities among them) and last value equal what all the logged values say, for two
    runs. Run on SQLite for both folds (the mutation run has no servers)."""
    run_ids = []
    for _ in range(2):
        logger = SQLLogger(_config(sqlite_url))
        run_ids.append(logger.run())
        logger.finish()
    seq = 0
    for batch in (0, 1):
        rows: list[Any] = []
        for key, batches in MERGED.items():
            for sign, run_id in zip((1.0, -1.0), run_ids, strict=True):
                for value in batches[batch]:
                    seq += 1
                    rows.append((run_id, key, sign * value, seq, 1_700_000_000.0 + seq, seq))
        _fold(sqlite_url, rows, staged)
    kept = _summaries(sqlite_url, run_ids)
    seq = 0
    steps: dict[tuple[int, str], list[int]] = {}
    for batch in (0, 1):
        for key, batches in MERGED.items():
            for run_id in run_ids:
                for _ in batches[batch]:
                    seq += 1
                    steps.setdefault((run_id, key), []).append(seq)
    for sign, run_id in zip((1.0, -1.0), run_ids, strict=True):
        for key, (first, second) in MERGED.items():
            values = [sign * v for v in first + second]
            want = _expected(values, steps[run_id, key])
            assert _same(_as_dict(kept[run_id][key]), want), (run_id, key)


def test_sqlites_merge_clause_binds_no_parameters():
    clause = fold.on_conflict(sqlite.dialect())
    assert clause.startswith("ON CONFLICT") and "?" not in clause
    # the ON CONFLICT part of SQLite's merge statement, whatever dialect object built it
    assert upserts.on_conflict(fold._merge_statement(sqlite.dialect()), sqlite.dialect()) == clause
    assert (
        _assigned_columns(clause, "DO UPDATE SET")
        == [c.name for c in MetricSummaryRecord.__table__.columns][2:]
    )


@pytest.mark.parametrize("staged", [False, True], ids=["python-fold", "sql-fold"])
@pytest.mark.parametrize("stored", [0, 2, 4])
def test_a_fold_merges_a_fully_stored_batch_recomputes_a_partial_one_and_skips_a_stored_one(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, staged: bool, stored: int
):
    """Both folds on SQLite itself (the mutation run has no servers): all rows new -> merged
    into the kept summary; some -> the keys recomputed from the metric rows; none -> nothing."""
    logger = SQLLogger(_config(sqlite_url))
    run_id = logger.run()
    logger.log_metric("loss", 10.0, 0)  # the kept summary the batch merges into
    logger.finish()
    rows = _rows(run_id, "loss", [4.0, 2.0, 8.0, 6.0], first_seq=100)
    recomputed: list[set[tuple[int, str]]] = []
    real = fold.recompute
    monkeypatch.setattr(fold, "recompute", lambda c, p: (recomputed.append(set(p)), real(c, p)))
    engine = get_engine(sqlite_url)
    with engine.begin() as conn:
        if staged:
            conn.exec_driver_sql(sqlite_batch.STAGING)
            sqlite_batch.stage(conn, rows)
            fold.fold_staged(conn, rows, stored, MetricWriter(conn.dialect).staged_folds)
            conn.exec_driver_sql(sqlite_batch.CLEAR_STAGED)
        else:
            fold.fold(conn, rows, stored)
    summary = _summaries(sqlite_url, [run_id])[run_id]["loss"]
    assert recomputed == ([{(run_id, "loss")}] if stored == 2 else [])
    if stored == 4:
        assert _as_dict(summary) == {
            "count": 5,
            "min": 2.0,
            "max": 10.0,
            "last": 6.0,
            "last_step": 3,
        }
    else:  # nothing merged; a recomputation reads the metric rows, which hold only the first
        assert (summary.count, summary.last) == (1, 10.0)
