"""ato-tracker benchmarks, measured side by side in one run.

1. Write throughput: ``SQLLogger.log_metric`` into SQLite, timed until the rows are durable
   (``flush()`` returned), against raw ``sqlite3`` ``executemany`` of the same rows into the same
   schema with the same pragmas and batch size. Target: >= 100,000 metrics/s and >= 50 % of raw.
   The same on PostgreSQL (``ATO_BENCH_POSTGRES_URL``, else ``ATO_TEST_POSTGRES_URL``; skipped
   without either): ato against raw psycopg ``executemany`` and ``COPY`` of the same rows into
   the same table, one committed transaction per 5,000 rows (the server's own durability,
   ``synchronous_commit`` as configured, for both). Goal: >= 0.8x raw on each backend.
2. ``find_best_run`` over 1,000,000 metric rows in 1,000 runs (target <= 50 ms), next to the
   same query in raw SQL.
3. ``get_runs_in_project`` for 1,000 runs (target <= 200 ms).
4. Peer: MLflow tracking into a local SQLite backend (``sqlite:///<tmp>/mlflow.db``).
   Writes: ``MlflowClient.log_metric`` per row (on a smaller N, since each call is one
   committed transaction; the rate is reported as measured, not extrapolated) and ``log_batch``
   in chunks of 1,000 metrics (MLflow's maximum) on the same N as ato; ratio ato / MLflow.
   Best-run query: ``search_runs(order_by=["metrics.acc DESC"], max_results=1)`` against
   ``find_best_run`` on a smaller dataset populated identically for both (MLflow ranks by each
   run's latest value, ato by the best value in the history).
5. Peers Trackio, Aim and W&B (offline), each where it installs (see ``tracker_peers``): the
   same rows logged until durable, on a smaller N (each peer spends 0.1-1 ms a call) with ato
   on the same N, interleaved; the rate, ato / peer, and how long each log call blocks the
   caller (mean, p50, p99, max). Goal: ato's durable rate at least each peer's.

Usage: python benchmarks/bench_tracker.py [--quick] [--writes | --peers]
"""

from __future__ import annotations

import argparse
import logging
import os
import sqlite3
import statistics
import tempfile
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from sqlalchemy import create_engine
from timing import median_ms, record_goal
from tracker_peers import PEERS, close_wandb, timed
from tracker_peers import ato as ato_writer

from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.storage.database import dispose_engines
from ato.tracker.storage.models import Base

MLFLOW_MAX_BATCH = 1000  # metrics per log_batch call, MLflow's documented maximum


def config(db: Path, project: str = "bench") -> dict:
    return {"experiment": {"project_name": project, "sql": {"db_path": f"sqlite:///{db}"}}}


def ato_write(db: Path, n: int) -> float:
    """Seconds for ``SQLLogger.log_metric`` of ``n`` values into the SQLite file ``db``."""
    return ato_write_url(f"sqlite:///{db}", n)


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


def bench_write(tmp: Path, n: int, repeats: int) -> float:
    ato_times, raw_times = [], []
    for i in range(repeats):
        ato_times.append(ato_write(tmp / f"ato{i}.db", n))
        raw_times.append(raw_write(tmp / f"raw{i}.db", n))
    ato_rate = n / statistics.median(ato_times)
    raw_rate = n / statistics.median(raw_times)
    print(f"write {n:,} metrics into SQLite, until durable (median of {repeats}):")
    print(f"  ato SQLLogger.log_metric + flush : {ato_rate:12,.0f} metrics/s")
    print(f"  raw sqlite3 executemany          : {raw_rate:12,.0f} metrics/s")
    print(f"  ratio ato / raw                  : {ato_rate / raw_rate:12.2f}  (goal >= 0.80)")
    record_goal("raw sqlite3 rate / ato durable write rate", raw_rate / ato_rate, 1 / 0.8)
    return ato_rate


def ato_write_url(url: str, n: int) -> float:
    """Seconds for ``SQLLogger.log_metric`` of ``n`` values into ``url`` until flushed."""
    logger = SQLLogger({"experiment": {"project_name": "bench-write", "sql": {"db_path": url}}})
    logger.run()
    start = time.perf_counter()
    for step in range(n):
        logger.log_metric("loss", step * 0.5, step)
    logger.flush()
    elapsed = time.perf_counter() - start
    logger.finish()
    return elapsed


def _raw_rows(url: str, n: int) -> tuple[str, list[tuple[object, ...]]]:
    """A run made by ato (untimed; the rows need one) and ``n`` rows of it for a raw insert;
    returns the driver's connection URL and the rows."""
    logger = SQLLogger({"experiment": {"project_name": "bench-write", "sql": {"db_path": url}}})
    run_id = logger.run()
    logger.finish()
    stamp = datetime.now(timezone.utc)
    return url.replace("+psycopg", ""), [(run_id, "loss", s * 0.5, s, stamp) for s in range(n)]


def raw_pg_executemany(url: str, n: int, batch: int = 5000) -> float:
    import psycopg

    dsn, rows = _raw_rows(url, n)
    sql = (
        "INSERT INTO metrics (run_id, key, value, value_class, step, timestamp) "
        "VALUES (%s, %s, %s, 0, %s, %s)"
    )
    with psycopg.connect(dsn) as con:
        start = time.perf_counter()
        for offset in range(0, n, batch):
            with con.transaction(), con.cursor() as cur:
                cur.executemany(sql, rows[offset : offset + batch])
        return time.perf_counter() - start


def raw_pg_copy(url: str, n: int, batch: int = 5000) -> float:
    import psycopg

    dsn, rows = _raw_rows(url, n)
    sql = "COPY metrics (run_id, key, value, value_class, step, timestamp) FROM STDIN"
    with psycopg.connect(dsn) as con:
        start = time.perf_counter()
        for offset in range(0, n, batch):
            with con.transaction(), con.cursor() as cur, cur.copy(sql) as copy:
                for run_id, key, value, step, stamp in rows[offset : offset + batch]:
                    copy.write_row((run_id, key, value, 0, step, stamp))
        return time.perf_counter() - start


def bench_write_postgres(n: int, repeats: int) -> None:
    url = os.environ.get("ATO_BENCH_POSTGRES_URL") or os.environ.get("ATO_TEST_POSTGRES_URL")
    if not url:
        print("\nPostgreSQL writes: skipped (no ATO_BENCH_POSTGRES_URL in the environment)")
        return
    times: dict[str, list[float]] = {"ato": [], "executemany": [], "copy": []}
    for _ in range(repeats):  # interleaved, so that a growing table weighs on each alike
        times["ato"].append(ato_write_url(url, n))
        times["executemany"].append(raw_pg_executemany(url, n))
        times["copy"].append(raw_pg_copy(url, n))
    dispose_engines()
    rate = {name: n / statistics.median(seconds) for name, seconds in times.items()}
    print(f"\nwrite {n:,} metrics into PostgreSQL, until committed (median of {repeats}):")
    print(f"  ato SQLLogger.log_metric + flush : {rate['ato']:12,.0f} metrics/s")
    print(f"  raw psycopg executemany          : {rate['executemany']:12,.0f} metrics/s")
    print(f"  raw psycopg COPY                 : {rate['copy']:12,.0f} metrics/s")
    for raw in ("executemany", "copy"):
        ratio = rate["ato"] / rate[raw]
        print(f"  ratio ato / raw {raw:<17}: {ratio:12.2f}  (goal >= 0.80)")
        record_goal(f"raw psycopg {raw} rate / ato durable write rate", 1 / ratio, 1 / 0.8)


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
    for mode, ms in (("max", best_max), ("min", best_min)):
        record_goal(f"find_best_run mode={mode}, {runs * per_run:,} rows", ms, 50, "ms")
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
    record_goal(f"get_runs_in_project, {runs:,} runs x 20 metrics", full, 200, "ms")
    read_all = median_ms(lambda: [run.config for run in finder.get_runs_in_project("bench")], 5)
    print(
        f"  the same, then reading every run's config (ADicts built on first read): "
        f"{read_all:8.1f} ms"
    )
    frame = median_ms(lambda: finder.runs_frame("bench"), 5)
    print(f"runs_frame, {runs:,} runs x 20 metrics: {frame:8.1f} ms (target <= 200 ms)")
    record_goal(f"runs_frame, {runs:,} runs x 20 metrics", frame, 200, "ms")


def _mlflow_client(db: Path, tmp: Path):
    """An ``MlflowClient`` on a fresh SQLite store and one experiment (schema set-up untimed)."""
    from mlflow.tracking import MlflowClient

    logging.getLogger("mlflow").setLevel(logging.WARNING)  # importing mlflow set it to INFO
    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    experiment_id = client.create_experiment("bench", artifact_location=str(tmp / "artifacts"))
    return client, experiment_id


def mlflow_per_row(db: Path, tmp: Path, n: int) -> float:
    client, experiment_id = _mlflow_client(db, tmp)
    run_id = client.create_run(experiment_id).info.run_id
    start = time.perf_counter()
    for step in range(n):
        client.log_metric(run_id, "loss", step * 0.5, step=step)
    return time.perf_counter() - start


def mlflow_batch(db: Path, tmp: Path, n: int, chunk: int = MLFLOW_MAX_BATCH) -> float:
    from mlflow.entities import Metric

    client, experiment_id = _mlflow_client(db, tmp)
    run_id = client.create_run(experiment_id).info.run_id
    stamp = int(time.time() * 1000)
    start = time.perf_counter()
    for offset in range(0, n, chunk):
        metrics = [Metric("loss", s * 0.5, stamp, s) for s in range(offset, min(n, offset + chunk))]
        client.log_batch(run_id, metrics=metrics)
    return time.perf_counter() - start


def bench_mlflow_write(tmp: Path, n: int, n_per_row: int, repeats: int, ato_rate: float) -> None:
    per_row = n_per_row / mlflow_per_row(tmp / "mlflow-row.db", tmp, n_per_row)
    batch_times = [mlflow_batch(tmp / f"mlflow-batch{i}.db", tmp, n) for i in range(repeats)]
    batch = n / statistics.median(batch_times)
    print("peer: MLflow (MlflowClient, SQLite backend), until the call returned (committed):")
    print(f"  {f'log_metric per row, {n_per_row:,} rows':<33}: {per_row:12,.0f} metrics/s")
    print(f"  {f'log_batch x {MLFLOW_MAX_BATCH:,}, {n:,} rows':<33}: {batch:12,.0f} metrics/s")
    print(f"  ratio ato / MLflow log_metric    : {ato_rate / per_row:12.1f}")
    print(f"  ratio ato / MLflow log_batch     : {ato_rate / batch:12.1f}")
    record_goal("MLflow log_batch rate / ato durable write rate", batch / ato_rate, 1.0)


def _peer_runs(
    tmp: Path, n: int, repeats: int
) -> tuple[dict[str, list[float]], dict[str, list[int]]]:
    """Seconds until durable per repetition and every call's nanoseconds, per tracker that
    ran (ato first, then each peer, interleaved); a peer that fails is left out, saying why."""
    seconds: dict[str, list[float]] = {"ato": []}
    calls: dict[str, list[int]] = {"ato": []}
    left_out: set[str] = set()
    for index in range(repeats):
        for name, make in (("ato", ato_writer), *PEERS.items()):
            if name in left_out:
                continue
            try:
                took, each = timed(make(tmp, index), n)
            except Exception as error:  # a peer not installed, not importable, or failing
                if name == "ato":
                    raise
                print(f"  peer {name}: left out ({type(error).__name__}: {error})")
                left_out.add(name)
                continue
            seconds.setdefault(name, []).append(took)
            calls.setdefault(name, []).extend(each)
    close_wandb()
    return seconds, calls


def _version(name: str) -> str:
    return "" if name == "ato" else metadata.version(name)


def bench_peer_writes(tmp: Path, n: int, repeats: int) -> None:
    print(f"\npeers: write {n:,} metrics until durable (median of {repeats}, interleaved),")
    print("and how long each log call blocks the caller (microseconds):")
    seconds, calls = _peer_runs(tmp, n, repeats)
    rates = {name: n / statistics.median(values) for name, values in seconds.items()}
    print(
        f"  {'tracker':<16}{'metrics/s':>11}{'ato/peer':>10}"
        f"{'mean':>9}{'p50':>9}{'p99':>9}{'max':>10}"
    )
    for name, rate in rates.items():
        ordered = sorted(calls[name])
        mean, p50 = statistics.fmean(ordered) / 1e3, ordered[len(ordered) // 2] / 1e3
        p99, worst = ordered[int(0.99 * len(ordered))] / 1e3, ordered[-1] / 1e3
        label = f"{name} {_version(name)}".strip()
        print(
            f"  {label:<16}{rate:>11,.0f}{rates['ato'] / rate:>10.1f}"
            f"{mean:>9.1f}{p50:>9.1f}{p99:>9.1f}{worst:>10.1f}"
        )
        if name != "ato":
            record_goal(
                f"{name} durable write rate / ato's ({n:,} metrics)", rate / rates["ato"], 1.0
            )


def mlflow_populate(tmp: Path, runs: int, per_run: int):
    from mlflow.entities import Metric

    client, experiment_id = _mlflow_client(tmp / "mlflow-search.db", tmp)
    stamp = int(time.time() * 1000)
    for r in range(runs):
        run_id = client.create_run(experiment_id, tags={"r": f"r{r}"}).info.run_id
        metrics = []
        for step in range(per_run // 2):
            acc = ((r * 7919 + step * 104729) % 100_003) / 100_003
            metrics += [
                Metric("acc", acc, stamp, step),
                Metric("loss", 1.0 / (step + r + 1), stamp, step),
            ]
        for offset in range(0, len(metrics), MLFLOW_MAX_BATCH):
            client.log_batch(run_id, metrics=metrics[offset : offset + MLFLOW_MAX_BATCH])
        client.set_terminated(run_id)
    return client, experiment_id


def bench_mlflow_search(tmp: Path, runs: int, per_run: int) -> None:
    start = time.perf_counter()
    client, experiment_id = mlflow_populate(tmp, runs, per_run)
    mlflow_s = time.perf_counter() - start
    ato_db = tmp / "peer.db"
    start = time.perf_counter()
    populate(ato_db, runs, per_run)
    ato_s = time.perf_counter() - start
    finder = SQLFinder(config(ato_db))
    ato_ms = median_ms(lambda: finder.find_best_run("bench", "acc", "max"))
    mlflow_ms = median_ms(
        lambda: client.search_runs([experiment_id], order_by=["metrics.acc DESC"], max_results=1)
    )
    rows = runs * per_run
    print(
        f"\nbest run over {runs:,} runs x {per_run:,} metrics ({rows:,} rows, same data in both):"
    )
    print(f"  populate: ato {ato_s:.1f} s, MLflow log_batch {mlflow_s:.1f} s")
    print(f"  ato find_best_run (max over history) : {ato_ms:8.2f} ms")
    print(f"  MLflow search_runs (latest acc DESC) : {mlflow_ms:8.2f} ms")
    print(
        f"  ratio ato / MLflow                   : {ato_ms / mlflow_ms:8.2f}  (lower = ato faster)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--writes", action="store_true", help="only the write rates (section 1)")
    only.add_argument("--peers", action="store_true", help="only the peers' writes (section 5)")
    args = parser.parse_args()
    n, repeats, runs, per_run = (20_000, 1, 100, 1000) if args.quick else (200_000, 3, 1000, 1000)
    n_per_row, peer_runs = (200, 20) if args.quick else (2_000, 100)
    peer_n = 2_000 if args.quick else 20_000
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="ato-bench-tracker-") as tmp:
        if args.peers:
            bench_peer_writes(Path(tmp), peer_n, repeats)
            return
        ato_rate = bench_write(Path(tmp), n, repeats)
        bench_write_postgres(n, repeats)
        if args.writes:
            return
        bench_mlflow_write(Path(tmp), n, n_per_row, repeats, ato_rate)
        bench_peer_writes(Path(tmp), peer_n, repeats)
        bench_queries(Path(tmp), runs, per_run)
        bench_mlflow_search(Path(tmp), peer_runs, per_run)
        dispose_engines()


if __name__ == "__main__":
    main()
