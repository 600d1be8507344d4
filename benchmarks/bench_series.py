"""Long metric series downsampled to 2,000 points: 100k -> 1M -> 10M points, SQLite and PostgreSQL.

Each size is one series ``loss`` of one run (one value per step, a slow sine plus a trend, a
spike and a dip), filled by bulk SQL (``executemany`` on SQLite, ``COPY`` on PostgreSQL) with
its summary and its level of detail computed from the rows as ``ato db upgrade`` does for old
runs. Measured through ``SQLFinder.get_metric_series(run, "loss", 2000)``:

- ``lod``: the shipped path (blocks of 64 steps kept at write time, ``metric_series_lod``).
- ``rows``: the same downsampling from the ``metrics`` index alone (the path before revision
  0009), in the same process, side by side: the ratio shows what the level of detail buys.

Both give the same points (checked). Goals: 10M points -> 2,000 in <= 1 s on SQLite and on
PostgreSQL (``ATO_BENCH_POSTGRES_URL``; a skip line is printed when it is unset); also the
flat series of issue #29 (200k equal values) stays fast. SQLite files are cached in
``$TMPDIR/ato-bench-series`` between runs (``--fresh`` rebuilds them); the PostgreSQL database
is reused when it holds the same series.

Usage: python benchmarks/bench_series.py [--quick] [--fresh]
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import math
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import create_engine, insert
from timing import median_ms, record_goal

from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.read import series_lod
from ato.tracker.storage.database import dispose_engines
from ato.tracker.storage.models import MetricSummaryRecord, SeriesBlockRecord
from ato.tracker.storage.schema import HEAD_REVISION
from ato.tracker.write import fold, series_blocks

MAX_POINTS = 2_000
GOAL_MS = 1_000.0
SIZES = (100_000, 1_000_000, 10_000_000)
FLAT = 200_000
STAMP = "2024-01-01 00:00:00.000000"


def values(n: int) -> Iterator[float]:
    for step in range(n):
        spike = 50.0 if step == n // 3 else -40.0 if step == 2 * n // 3 else 0.0
        yield math.sin(step / 5000) + step * 1e-7 + spike


def _new_run(url: str, name: str) -> int:
    """A run made by the tracker (so the schema is its own, at the head revision)."""
    logger = SQLLogger({"experiment": {"project_name": name, "sql": {"db_path": url}}})
    run_id = logger.run()
    logger.finish()
    return run_id


def _derived(url: str, run_id: int) -> None:
    """The run's summaries and series blocks, computed from its rows in SQL."""
    engine = create_engine(url)
    with engine.begin() as conn:
        where = MetricSummaryRecord.__table__.c.run_id == run_id  # type: ignore[attr-defined]
        conn.execute(MetricSummaryRecord.__table__.delete().where(where))  # type: ignore[attr-defined]
        mine = fold.aggregated(fold._metrics.c.run_id == run_id)
        columns = [c.name for c in MetricSummaryRecord.__table__.columns]  # type: ignore[attr-defined]
        conn.execute(insert(MetricSummaryRecord.__table__).from_select(columns, mine))  # type: ignore[attr-defined]
        blocks = series_blocks.aggregated(conn.dialect, fold._metrics.c.run_id == run_id)
        columns = [c.name for c in SeriesBlockRecord.__table__.columns]  # type: ignore[attr-defined]
        conn.execute(insert(SeriesBlockRecord.__table__).from_select(columns, blocks))  # type: ignore[attr-defined]
    engine.dispose()


def sqlite_series(folder: Path, n: int, flat: bool, fresh: bool) -> tuple[str, int]:
    """A SQLite file holding one ``n``-point series (cached by size, shape and revision)."""
    path = folder / f"series-{n}-{'flat' if flat else 'wave'}-r{HEAD_REVISION}.db"
    if path.exists() and not fresh:
        return f"sqlite:///{path}", 1
    building = path.with_suffix(".building")  # renamed once complete
    building.unlink(missing_ok=True)
    url = f"sqlite:///{building}"
    run_id = _new_run(url, "series")
    con = sqlite3.connect(building)
    with con:
        con.executemany(
            "INSERT INTO metrics (run_id, key, value, value_class, step, timestamp) "
            "VALUES (?, 'loss', ?, 0, ?, ?)",
            ((run_id, 1.5 if flat else v, s, STAMP) for s, v in enumerate(values(n))),
        )
    con.close()
    _derived(url, run_id)
    dispose_engines()
    building.rename(path)
    return f"sqlite:///{path}", run_id


def postgres_series(url: str, n: int) -> int:
    """The run of project ``series-<n>`` in the PostgreSQL database ``url``, filled with
    ``COPY`` unless it holds the ``n`` values already."""
    finder = SQLFinder(url)
    name = f"series-{n}"
    runs = (
        finder.get_runs_in_project(name, with_metrics=False)
        if name in {p.name for p in finder.list_projects()}
        else []
    )
    for run in runs:
        summary = finder.get_metric_summaries([run.id]).get(run.id, {}).get("loss")
        if summary is not None and summary.count == n:
            return run.id
    run_id = _new_run(url, name)
    import psycopg

    raw = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(raw) as con, con.cursor() as cur:
        copy = "COPY metrics (run_id, key, value, value_class, step, timestamp) FROM STDIN"
        with cur.copy(copy) as out:
            for s, v in enumerate(values(n)):
                out.write_row((run_id, "loss", v, 0, s, "2024-01-01 00:00:00+00"))
        cur.execute("ANALYZE metrics")
    _derived(url, run_id)
    return run_id


def timed(finder: SQLFinder, run_id: int, n: int, repeats: int) -> tuple[float, float]:
    """Median ms of the level-of-detail path and of the row path, interleaved."""
    shipped = series_lod.worth_it

    def lod() -> object:
        return finder.get_metric_series(run_id, "loss", MAX_POINTS)

    def rows() -> object:
        series_lod.worth_it = lambda *args: 0  # type: ignore[assignment]
        try:
            return finder.get_metric_series(run_id, "loss", MAX_POINTS)
        finally:
            series_lod.worth_it = shipped

    got, reference = lod(), rows()
    assert got == reference, "the level of detail changed the points"
    assert got.total == n and len(got.points) <= MAX_POINTS  # type: ignore[attr-defined]
    lod_ms: list[float] = []
    rows_ms: list[float] = []
    for _ in range(repeats):
        lod_ms.append(median_ms(lod, 1))
        rows_ms.append(median_ms(rows, 1))
    return sorted(lod_ms)[repeats // 2], sorted(rows_ms)[repeats // 2]


def table(
    backend: str, build: Callable[[int], tuple[SQLFinder, int]], sizes: tuple[int, ...]
) -> None:
    print(f"{backend}: {'points':>11} {'lod ms':>9} {'rows ms':>9} {'rows/lod':>9}")
    for n in sizes:
        start = time.perf_counter()
        finder, run_id = build(n)
        built = time.perf_counter() - start
        repeats = 3 if n >= 10_000_000 else 5
        lod_ms, rows_ms = timed(finder, run_id, n, repeats)
        print(
            f"{backend}: {n:>11,} {lod_ms:>9.1f} {rows_ms:>9.1f} {rows_ms / lod_ms:>8.1f}x"
            f"   (built in {built:.0f} s)",
            flush=True,
        )
        if n == 10_000_000:
            record_goal(f"10M-point series -> 2,000 points, {backend} (ms)", lod_ms, GOAL_MS, "ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="100k and 1M points only")
    parser.add_argument("--fresh", action="store_true", help="rebuild the cached SQLite files")
    args, _ = parser.parse_known_args()  # nox passes every script the same arguments
    logging.disable(logging.WARNING)
    sizes = SIZES[:2] if args.quick else SIZES
    folder = Path(tempfile.gettempdir()) / "ato-bench-series"
    folder.mkdir(exist_ok=True)
    print(f"load average: {os.getloadavg()[0]:.2f}", flush=True)

    def on_sqlite(n: int) -> tuple[SQLFinder, int]:
        url, run_id = sqlite_series(folder, n, False, args.fresh)
        return SQLFinder(url, read_only=True), run_id

    table("SQLite", on_sqlite, sizes)
    url, run_id = sqlite_series(folder, FLAT, True, args.fresh)
    finder = SQLFinder(url, read_only=True)
    flat_ms = median_ms(lambda: finder.get_metric_series(run_id, "loss", MAX_POINTS), 5)
    print(f"SQLite: flat series of {FLAT:,} equal values -> 2,000 points: {flat_ms:.1f} ms")
    record_goal(
        f"flat {FLAT // 1000}k-point series -> 2,000 points, SQLite (ms)", flat_ms, 200.0, "ms"
    )
    postgres = os.environ.get("ATO_BENCH_POSTGRES_URL")
    if not postgres:
        print("PostgreSQL: skipped (set ATO_BENCH_POSTGRES_URL to a database it may fill)")
    elif importlib.util.find_spec("psycopg") is None:
        print("PostgreSQL: skipped (psycopg is not installed)")
    else:
        table("PostgreSQL", lambda n: (SQLFinder(postgres), postgres_series(postgres, n)), sizes)
    print(f"load average: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
