"""ato-tracker benchmarks, measured side by side in one run.

1. Write throughput: ``SQLLogger.log_metric`` into SQLite, timed until the rows are durable
   (``flush()`` returned), against raw ``sqlite3`` ``executemany`` of the same rows into the same
   schema with the same pragmas and batch size. Target: >= 100,000 metrics/s and >= 50 % of raw.
2. ``find_best_run`` over 1,000,000 metric rows in 1,000 runs (target <= 50 ms), next to the
   same query in raw SQL.
3. ``get_runs_in_project`` for 1,000 runs (target <= 200 ms).

Usage: python benchmarks/bench_tracker.py [--quick]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine
from timing import median_ms

from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.engine import dispose_engines
from ato.tracker.models import Base


def config(db: Path, project: str = "bench") -> dict:
    return {"experiment": {"project_name": project, "sql": {"db_path": f"sqlite:///{db}"}}}


def ato_write(db: Path, n: int) -> float:
    logger = SQLLogger(config(db))
    logger.run()
    start = time.perf_counter()
    for step in range(n):
        logger.log_metric("loss", step * 0.5, step)
    logger.flush()
    elapsed = time.perf_counter() - start
    logger.finish()
    return elapsed


def raw_write(db: Path, n: int, batch: int = 5000) -> float:
    engine = create_engine(f"sqlite:///{db}")
    Base.metadata.create_all(engine)
    engine.dispose()
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    rows = [(1, "loss", step * 0.5, step, stamp) for step in range(n)]
    sql = "INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)"
    start = time.perf_counter()
    for offset in range(0, n, batch):
        with con:
            con.executemany(sql, rows[offset : offset + batch])
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed


def bench_write(tmp: Path, n: int, repeats: int) -> None:
    ato_times, raw_times = [], []
    for i in range(repeats):
        ato_times.append(ato_write(tmp / f"ato{i}.db", n))
        raw_times.append(raw_write(tmp / f"raw{i}.db", n))
    ato_rate = n / statistics.median(ato_times)
    raw_rate = n / statistics.median(raw_times)
    print(f"write {n:,} metrics into SQLite, until durable (median of {repeats}):")
    print(f"  ato SQLLogger.log_metric + flush : {ato_rate:12,.0f} metrics/s")
    print(f"  raw sqlite3 executemany          : {raw_rate:12,.0f} metrics/s")
    print(f"  ratio ato / raw                  : {ato_rate / raw_rate:12.2f}  (target >= 0.50)")


def populate(db: Path, runs: int, per_run: int, project: str = "bench") -> None:
    for r in range(runs):
        logger = SQLLogger(config(db, project), batch_size=10_000)
        logger.run(tags=[f"r{r}"])
        for step in range(per_run // 2):
            logger.log_metric("acc", ((r * 7919 + step * 104729) % 100_003) / 100_003, step)
            logger.log_metric("loss", 1.0 / (step + r + 1), step)
        logger.log_artifact(None, f"ckpt/{r}.pt", "model")
        logger.log_fingerprints({"forward": ("static", f"v{r % 3}")})
        logger.finish()


def bench_queries(tmp: Path, runs: int, per_run: int) -> None:
    big = tmp / "big.db"
    start = time.perf_counter()
    populate(big, runs, per_run)
    print(f"\npopulated {runs:,} runs x {per_run:,} metrics in {time.perf_counter() - start:.1f} s")
    finder = SQLFinder(config(big))
    con = sqlite3.connect(big)
    raw_sql = (
        "SELECT MAX(m.value) FROM metrics m JOIN experiments e ON e.id = m.run_id "
        "JOIN projects p ON p.id = e.project_id WHERE p.name = 'bench' AND m.key = 'acc'"
    )
    best_run = finder.find_best_run("bench", "acc")
    assert best_run.best_metric("acc") == con.execute(raw_sql).fetchone()[0]
    best_max = median_ms(lambda: finder.find_best_run("bench", "acc", "max"))
    best_min = median_ms(lambda: finder.find_best_run("bench", "loss", "min"))
    raw = median_ms(lambda: con.execute(raw_sql).fetchone())
    print(f"find_best_run over {runs * per_run:,} rows (median, incl. loading the run):")
    print(f"  mode=max : {best_max:8.2f} ms   mode=min : {best_min:8.2f} ms   (target <= 50 ms)")
    print(f"  raw SQL MAX over the project (value only): {raw:8.3f} ms")
    light = median_ms(lambda: finder.get_runs_in_project("bench", with_metrics=False), 5)
    print(f"get_runs_in_project, {runs:,} runs, with_metrics=False: {light:8.1f} ms")
    con.close()

    small = tmp / "small.db"
    populate(small, runs, 20)
    finder = SQLFinder(config(small))
    full = median_ms(lambda: finder.get_runs_in_project("bench"), 5)
    raw_rows = median_ms(
        lambda: sqlite3.connect(small).execute("SELECT * FROM metrics").fetchall(), 5
    )
    print(
        f"get_runs_in_project, {runs:,} runs x 20 metrics, fully loaded: {full:8.1f} ms "
        f"(target <= 200 ms); raw fetch of the metric rows alone: {raw_rows:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args()
    n, repeats, runs, per_run = (20_000, 1, 100, 1000) if args.quick else (200_000, 3, 1000, 1000)
    with tempfile.TemporaryDirectory(prefix="ato-bench-tracker-") as tmp:
        bench_write(Path(tmp), n, repeats)
        bench_queries(Path(tmp), runs, per_run)
        dispose_engines()


if __name__ == "__main__":
    main()
