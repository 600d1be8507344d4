"""MLflow import rate against the tracker's own bulk write rate (issue 28's target: >= 0.5).

Run: ``python benchmarks/bench_importers.py [RUNS] [STEPS]`` (or ``nox -s bench``); the
issue's size is ``1000 1000`` (1,000 runs x 5 metrics x 1,000 steps), the default ``20 1000``
keeps the run short. An MLflow SQLite store is filled with ``log_batch``, then imported with
``ato.tracker.importers.from_mlflow`` into a new SQLite tracker database, in a child process
whose peak resident memory is reported. The baseline writes the same points, with their
timestamps, through ``SQLLogger.log_metric`` into another new database. Prints points per
second of both and their ratio.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

KEYS = ("loss", "acc", "lr", "grad_norm", "val_loss")
T0_MS = 1_700_000_000_000


def fill_mlflow(uri: str, runs: int, steps: int) -> None:
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    experiment = client.create_experiment("bench")
    for _ in range(runs):
        run_id = client.create_run(experiment).info.run_id
        points = [
            Metric(key, step / (k + 1), T0_MS + step * 10, step)
            for step in range(steps)
            for k, key in enumerate(KEYS)
        ]
        for start in range(0, len(points), 1000):
            client.log_batch(run_id, metrics=points[start : start + 1000])
        client.set_terminated(run_id)


def import_child(uri: str, db: str, queue: multiprocessing.Queue) -> None:
    from ato.tracker.importers import from_mlflow

    start = time.perf_counter()
    report = from_mlflow(uri, db, show_progress=False)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((report.metrics, seconds, peak_mb))


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
    return time.perf_counter() - start


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="ato-bench-import-"))
    uri = f"sqlite:///{tmp / 'mlflow.db'}"
    os.chdir(tmp)  # MLflow's default artifact folder ./mlruns goes there
    fill_mlflow(uri, runs, steps)
    queue: multiprocessing.Queue = multiprocessing.Queue()
    child = multiprocessing.Process(
        target=import_child, args=(uri, f"sqlite:///{tmp / 'imported.db'}", queue)
    )
    child.start()
    points, import_s, peak_mb = queue.get()
    child.join()
    bulk_s = tracker_write(f"sqlite:///{tmp / 'bulk.db'}", runs, steps)
    import_rate, bulk_rate = points / import_s, points / bulk_s
    print(f"MLflow import: {runs} runs x {len(KEYS)} metrics x {steps} steps = {points:,} points")
    print(f"  from_mlflow          : {import_rate:12,.0f} points/s ({import_s:.1f} s)")
    print(f"  SQLLogger bulk write : {bulk_rate:12,.0f} points/s ({bulk_s:.1f} s)")
    print(f"  ratio import / bulk  : {import_rate / bulk_rate:12.2f}  (target >= 0.5)")
    print(f"  import peak RSS      : {peak_mb:12.0f} MB")


if __name__ == "__main__":
    main()
