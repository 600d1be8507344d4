"""MLflow import rate against the tracker's own bulk write rate (issue 28's target: >= 0.5),
and the importer's memory on one long metric series.

Run: ``python benchmarks/bench_importers.py [RUNS] [STEPS] [--client] [--memory POINTS]
[--store FILE]``
(or ``nox -s bench``). The issue's size is ``1000 1000`` (1,000 runs x 5 metrics x 1,000
steps); the default ``20 1000`` keeps the run short.

Rate: an MLflow SQLite store is made by MLflow (``MlflowClient.create_run`` and
``set_terminated`` for every run, so the database, its schema and its run rows are MLflow's);
the metric rows are inserted into MLflow's ``metrics`` and ``latest_metrics`` tables as
MLflow's SQL store writes them (``log_batch`` through MLflow itself fills 5 million points
at ~1,500 points/s here, an hour). ``from_mlflow`` then imports it into a new SQLite tracker
database in a child process: read directly (the default for an MLflow database) and, with
``--client``, through MLflow's client (``via_client=True``). The baseline writes the same
points, with their timestamps, through ``SQLLogger.log_metric`` into another new database.
Prints points per second and the ratios.

Memory (``--memory POINTS``): one run with one series of POINTS values (and, to compare,
one of POINTS / 10) imported directly (and with ``--client`` through MLflow's client, which
returns a key's whole history at once), each in a fresh child process; prints the growth of
the child's peak resident memory (``ru_maxrss``) during the import. Bounded memory means
the two are about equal: the reader holds one batch (``target.BATCH_SIZE``) of rows.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

KEYS = ("loss", "acc", "lr", "grad_norm", "val_loss")
T0_MS = 1_700_000_000_000
INSERT_ROWS = 20_000


def make_runs(uri: str, runs: int) -> list[str]:
    """``runs`` finished runs in a new MLflow store at ``uri`` (by MLflow); their ids."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    experiment = client.create_experiment("bench")
    ids = []
    for _ in range(runs):
        run_id = client.create_run(experiment).info.run_id
        client.set_terminated(run_id)
        ids.append(run_id)
    return ids


def insert_metrics(uri: str, run_ids: list[str], keys: tuple[str, ...], steps: int) -> None:
    """Each run's ``keys`` x ``steps`` values into MLflow's metric tables, as its SQL store
    writes them (``value``, ``timestamp`` ms, ``step``, ``is_nan``; the last per key in
    ``latest_metrics``)."""
    from sqlalchemy import column, create_engine, insert, table

    names = ("key", "value", "timestamp", "step", "is_nan", "run_uuid")
    metrics, latest = (table(name, *map(column, names)) for name in ("metrics", "latest_metrics"))
    engine = create_engine(uri)
    for run_id in run_ids:
        rows = (
            {
                "key": key,
                "value": step / (k + 1),
                "timestamp": T0_MS + step * 10,
                "step": step,
                "is_nan": False,
                "run_uuid": run_id,
            }
            for step in range(steps)
            for k, key in enumerate(keys)
        )
        with engine.begin() as conn:
            chunk: list[dict[str, Any]] = []
            for row in rows:
                chunk.append(row)
                if len(chunk) == INSERT_ROWS:
                    conn.execute(insert(metrics), chunk)
                    chunk = []
            if chunk:
                conn.execute(insert(metrics), chunk)
            last = [dict(row, run_uuid=run_id) for row in _last(keys, steps)]
            conn.execute(insert(latest), last)
    engine.dispose()


def _last(keys: tuple[str, ...], steps: int) -> list[dict[str, Any]]:
    step = steps - 1
    return [
        {
            "key": key,
            "value": step / (k + 1),
            "timestamp": T0_MS + step * 10,
            "step": step,
            "is_nan": False,
        }
        for k, key in enumerate(keys)
    ]


def import_child(uri: str, db: str, via_client: bool, queue: Any) -> None:
    from ato.tracker.importers import from_mlflow

    before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    report = from_mlflow(uri, db, show_progress=False, via_client=via_client)
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put((report.metrics, seconds, peak_kb / 1024, (peak_kb - before_kb) / 1024))


def run_import(uri: str, db: str, via_client: bool = False) -> tuple[int, float, float, float]:
    """``(points, seconds, peak RSS MB, growth of the peak during the import MB)``."""
    import mlflow  # noqa: F401  (imported before the child forks: its memory is not counted)
    import sqlalchemy  # noqa: F401

    queue: Any = multiprocessing.Queue()
    child = multiprocessing.Process(target=import_child, args=(uri, db, via_client, queue))
    child.start()
    result = queue.get()
    child.join()
    return result  # type: ignore[no-any-return]


def tracker_write(db: str, runs: int, steps: int) -> float:
    from ato.tracker import SQLLogger

    logger = SQLLogger.from_url(db, "bench")
    start = time.perf_counter()
    for _ in range(runs):
        logger.run()
        for step in range(steps):
            for k, key in enumerate(KEYS):
                logger.log_metric(key, step / (k + 1), step, timestamp=(T0_MS + step * 10) / 1000)
        logger.finish()
    logger.flush()
    logger.close()
    return time.perf_counter() - start


def rate(runs: int, steps: int, with_client: bool, store: str | None, tmp: Path) -> None:
    if store:
        uri = f"sqlite:///{Path(store).resolve()}"
    else:
        uri = f"sqlite:///{tmp / 'mlflow.db'}"
        start = time.perf_counter()
        insert_metrics(uri, make_runs(uri, runs), KEYS, steps)
        print(f"(MLflow store {uri} filled in {time.perf_counter() - start:.0f} s)", flush=True)
    points, direct_s, peak_mb, _ = run_import(uri, f"sqlite:///{tmp / 'direct.db'}")
    client_s = None
    if with_client:
        client_s = run_import(uri, f"sqlite:///{tmp / 'client.db'}", via_client=True)[1]
    bulk_s = tracker_write(f"sqlite:///{tmp / 'bulk.db'}", runs, steps)
    bulk_rate = points / bulk_s
    print(f"MLflow import: {runs} runs x {len(KEYS)} metrics x {steps} steps = {points:,} points")
    print(f"  SQLLogger bulk write     : {bulk_rate:12,.0f} points/s ({bulk_s:.1f} s)")
    print(f"  from_mlflow, direct      : {points / direct_s:12,.0f} points/s ({direct_s:.1f} s)")
    if client_s is not None:
        print(
            f"  from_mlflow, via client  : {points / client_s:12,.0f} points/s ({client_s:.1f} s)"
        )
    print(f"  ratio direct / bulk      : {bulk_s / direct_s:12.2f}  (target >= 0.5)")
    if client_s is not None:
        print(f"  ratio via client / bulk  : {bulk_s / client_s:12.2f}")
    print(f"  import peak RSS (direct) : {peak_mb:12.0f} MB")


def memory(points: int, with_client: bool, tmp: Path) -> None:
    from ato.tracker.importers.target import BATCH_SIZE

    print(f"One run, one series; read batch {BATCH_SIZE:,} rows; peak RSS growth of the import:")
    ways = [("direct", False), ("via client", True)] if with_client else [("direct", False)]
    for length in (points // 10, points):
        uri = f"sqlite:///{tmp / f'mlflow-{length}.db'}"
        insert_metrics(uri, make_runs(uri, 1), ("loss",), length)
        for way, via_client in ways:
            db = f"sqlite:///{tmp / f'tracker-{length}-{via_client}.db'}"
            stored, seconds, peak_mb, growth_mb = run_import(uri, db, via_client)
            print(
                f"  {stored:>10,} points, {way:10}: +{growth_mb:6.1f} MB during the import "
                f"(peak RSS {peak_mb:.0f} MB, {stored / seconds:,.0f} points/s)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="?", type=int, default=20)
    parser.add_argument("steps", nargs="?", type=int, default=1000)
    parser.add_argument("--client", action="store_true", help="also via MLflow's client")
    parser.add_argument("--memory", type=int, metavar="POINTS", help="the memory check instead")
    parser.add_argument(
        "--store",
        metavar="FILE",
        help="an MLflow SQLite file an earlier run with the same RUNS and STEPS filled "
        "(filling 1,000 runs takes ~20 minutes)",
    )
    args, _ = parser.parse_known_args()  # nox -s bench passes its posargs to every script
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="ato-bench-import-"))
    os.chdir(tmp)  # MLflow's default artifact folder ./mlruns goes there
    if args.memory:
        memory(args.memory, args.client, tmp)
    else:
        rate(args.runs, args.steps, args.client, args.store, tmp)


if __name__ == "__main__":
    main()
