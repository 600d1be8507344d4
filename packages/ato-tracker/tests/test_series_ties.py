"""Downsampling series whose values tie a lot (constant, two-valued flags, long plateaus) does
work proportional to the series on every backend, and keeps the right points.

The work is counted, not timed: SQLite's virtual-machine steps (a progress handler),
PostgreSQL's index and table tuples read in the transaction (``pg_stat_xact_user_*``),
MariaDB's handler reads (``Handler_read_%`` session counters). A lookup of each bucket's
extreme through the ``(run_id, key, value)`` index reads every row holding the extreme, so a
tied series used to cost about ``buckets`` times a varying one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, text
from test_series import _reference

from ato.tracker import SQLLogger
from ato.tracker.read.series import downsampled_series
from ato.tracker.storage.database import get_engine

N = 3000
MAX_POINTS = 202  # 100 buckets of 30 points
SHAPES: dict[str, Callable[[int], float]] = {
    "varying": lambda i: math.sin(i / 7.0) + i / N,
    "constant": lambda i: 0.001,
    "stuck_at_one": lambda i: 1.0 if i > 50 else i / 50,
    "flag": lambda i: float((i // 3) % 2),
    "sparse_flag": lambda i: float(i % 997 == 0),
    "plateaus": lambda i: float(i // 750),
}


def _log(url: str, *, steps: bool) -> int:
    logger = SQLLogger({"experiment": {"project_name": "p", "sql": {"db_path": url}}})
    run_id = logger.run()
    for i in range(N):
        for key, shape in SHAPES.items():
            logger.log_metric(key, shape(i), i if steps else None)
    logger.finish()
    return run_id


@contextmanager
def _work(conn: Connection) -> Iterator[list[int]]:
    """Count the database's work in the block: ``[count]`` once it has left the block."""
    result: list[int] = []
    dialect = conn.dialect.name
    if dialect == "sqlite":
        steps = [0]

        def tick() -> int:
            steps[0] += 1
            return 0

        raw = conn.connection.dbapi_connection
        raw.set_progress_handler(tick, 100)  # type: ignore[union-attr]
        try:
            yield result
        finally:
            raw.set_progress_handler(None, 0)  # type: ignore[union-attr]
        result.append(steps[0])
    elif dialect == "postgresql":
        with conn.begin():  # counts not yet reported stay pending across transactions
            before = int(conn.execute(text(_PG_TUPLES_READ)).scalar_one())
            yield result
            result.append(int(conn.execute(text(_PG_TUPLES_READ)).scalar_one()) - before)
    else:
        before = _handler_reads(conn)
        yield result
        result.append(_handler_reads(conn) - before)


# Index entries and table rows of ``metrics`` read so far in this transaction (its indexes'
# idx_tup_read and its seq_tup_read).
_PG_TUPLES_READ = (
    "SELECT sum(pg_stat_get_xact_tuples_returned(oid)) FROM pg_class WHERE oid = 'metrics'::regclass"
    " OR oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'metrics'::regclass)"
)


def _handler_reads(conn: Connection) -> int:
    rows = conn.execute(text("SHOW SESSION STATUS LIKE 'Handler_read%'")).all()
    return sum(int(value) for _, value in rows)


def _downsampling_work(url: str, run_id: int, key: str) -> int:
    with get_engine(url).connect() as conn, _work(conn) as work:
        _, total = downsampled_series(conn, run_id, key, MAX_POINTS)
    assert total == N
    return work[0]


@pytest.mark.parametrize("steps", [True, False], ids=["by_step", "without_steps"])
def test_tied_series_cost_about_what_a_varying_one_costs(db_url: str, steps: bool):
    run_id = _log(db_url, steps=steps)
    varying = _downsampling_work(db_url, run_id, "varying")
    for key in SHAPES:
        work = _downsampling_work(db_url, run_id, key)
        assert work <= 3 * varying, (key, work, varying)


def test_tied_series_keep_every_bucket_extreme_in_step_order(db_url: str):
    run_id = _log(db_url, steps=True)
    for key, shape in SHAPES.items():
        values = [shape(i) for i in range(N)]
        with get_engine(db_url).connect() as conn:
            points, total = downsampled_series(conn, run_id, key, MAX_POINTS)
        steps = [p.step for p in points]
        assert total == N and len(points) <= MAX_POINTS
        assert steps == _reference(values, MAX_POINTS), key  # each extreme's first holder
        assert [p.value for p in points] == [values[s] for s in steps]
        if len(set(values)) <= 4:  # both flag values, every plateau
            assert {p.value for p in points} == set(values)
