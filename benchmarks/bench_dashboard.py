"""ato-dashboard benchmarks, measured side by side in one run.

1. Runs table JSON (``GET /api/projects/{name}/runs`` on a live server, request to parsed JSON)
   for a project of 10,000 runs with 20 config parameters and 5 metrics (10 steps each).
   Target <= 300 ms. Peer: MLflow's ``MlflowClient.search_runs`` (SQLite backend) returning the
   same runs with their 20 params and 5 latest metrics, on the same data; ratio ato / MLflow.
2. One metric series of 1,000,000 points downsampled to 2,000
   (``GET /api/runs/{id}/metrics/loss?max_points=2000``). Target <= 200 ms.
3. Server ready: from starting ``python -m ato.dashboard`` to the first answered request.
   Target <= 1.5 s.
4. Search analysis (``GET /api/searches/{id}/analysis/{view}``) of a 2,000-trial successive
   halving search (budgets 1, 3, 9, 27: 2,963 runs, 4 parameters, a learning curve per run):
   every view <= 500 ms; parameter importance (PED-ANOVA, computed afresh) <= 2 s, and
   again from its cache.

Both databases are filled with bulk SQL inserts (MLflow's through its own schema, created by
MLflow), since logging 10,000 runs call by call would take many minutes in either tool.

Usage: python benchmarks/bench_dashboard.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import create_engine, insert, true
from timing import median_ms

from ato.dashboard import analysis, create_app, importance
from ato.tracker.storage.models import Base, MetricSummaryRecord
from ato.tracker.write import fold

PARAMS = 20
METRICS = 5
STEPS = 10
STAMP = "2024-01-01 00:00:00.000000"
SEARCH_TRIALS = 2_000
BUDGETS = (1, 3, 9, 27)


def _config(i: int) -> dict:
    model = {f"p{k}": (i * (k + 1)) % 97 / 10 for k in range(PARAMS // 2)}
    optim = {f"p{k}": f"choice{(i + k) % 5}" for k in range(PARAMS // 2, PARAMS)}
    return {"model": model, "optim": optim}


def fill_ato(path: Path, n_runs: int, series_points: int) -> int:
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    engine.dispose()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    with con:
        con.executemany(
            "INSERT INTO projects (id, name, created_at) VALUES (?, ?, ?)",
            [(1, "bench", STAMP), (2, "series", STAMP)],
        )
        con.executemany(
            "INSERT INTO experiments (id, project_id, config, structural_hash, tags, status, "
            "start_time, end_time) VALUES (?, 1, ?, 'h', '[\"bench\"]', 'completed', ?, ?)",
            [(i, json.dumps(_config(i)), STAMP, STAMP) for i in range(1, n_runs + 1)],
        )
        con.executemany(
            "INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)",
            (
                (i, f"m{k}", 1.0 / (step + 1 + k + i % 7), step, STAMP)
                for i in range(1, n_runs + 1)
                for step in range(STEPS)
                for k in range(METRICS)
            ),
        )
        series_run = n_runs + 1
        con.execute(
            "INSERT INTO experiments (id, project_id, config, structural_hash, tags, status, "
            "start_time) VALUES (?, 2, '{}', 'h', '[]', 'running', ?)",
            (series_run, STAMP),
        )
        con.executemany(
            "INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES (?, 'loss', ?, ?, ?)",
            ((series_run, math.sin(s / 5000) + s * 1e-6, s, STAMP) for s in range(series_points)),
        )
        _fill_search(con, series_run + 1)
    con.close()
    _fill_summaries(path)
    return series_run


def _fill_search(con: sqlite3.Connection, first_id: int) -> None:
    """Project ``search``: successive halving over ``SEARCH_TRIALS`` trials as ato-hyperopt
    records it (one run per trial and rung, contract tags, ``acc`` per epoch continuing from
    the previous rung, the ranked value under ``search/acc``); the best third is promoted."""
    rng = random.Random(0)
    con.execute("INSERT INTO projects (id, name, created_at) VALUES (3, 'search', ?)", (STAMP,))
    configs = [
        {
            "lr": 10 ** rng.uniform(-4, -1),
            "wd": 10 ** rng.uniform(-6, -2),
            "depth": rng.randint(2, 12),
            "act": rng.choice(["relu", "gelu", "tanh"]),
        }
        for _ in range(SEARCH_TRIALS)
    ]
    quality = [-abs(math.log10(c["lr"]) + 2.5) - 0.1 * abs(c["depth"] - 6) for c in configs]
    alive, run_id, previous = list(range(SEARCH_TRIALS)), first_id, 0
    for rung, budget in enumerate(BUDGETS):
        scores = {}
        for trial in alive:
            tags = [
                "search:bench",
                f"trial_id:{trial}",
                f"rung:{rung}",
                f"budget:{budget}",
                "bracket:0",
                "mode:max",
                "metric_key:acc",
            ]
            con.execute(
                "INSERT INTO experiments (id, project_id, config, structural_hash, tags, status, "
                "start_time, end_time) VALUES (?, 3, ?, 'h', ?, 'completed', ?, ?)",
                (run_id, json.dumps(configs[trial]), json.dumps(tags), STAMP, STAMP),
            )
            curve = [1 - math.exp(-(e + 1) / 5) + 0.05 * quality[trial] for e in range(budget)]
            con.executemany(
                "INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES (?, 'acc', ?, ?, ?)",
                [(run_id, curve[e], e, STAMP) for e in range(previous, budget)],
            )
            con.execute(
                "INSERT INTO metrics (run_id, key, value, step, timestamp) "
                "VALUES (?, 'search/acc', ?, ?, ?)",
                (run_id, curve[-1], rung, STAMP),
            )
            scores[trial] = curve[-1]
            run_id += 1
        alive = sorted(alive, key=lambda t: -scores[t])[: max(1, len(alive) // 3)]
        previous = budget


def _fill_summaries(path: Path) -> None:
    """The per run and key summaries a logger keeps at write time, computed at once from the
    bulk-inserted rows (as ``ato db upgrade`` does for old rows)."""
    engine = create_engine(f"sqlite:///{path}")
    table = MetricSummaryRecord.__table__
    with engine.begin() as conn:
        columns = [column.name for column in table.columns]
        conn.execute(insert(table).from_select(columns, fold.aggregated(true())))
    engine.dispose()


def fill_mlflow(path: Path, n_runs: int) -> tuple[object, str]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{path}")
    experiment = client.create_experiment("bench", artifact_location=str(path.parent / "art"))
    con = sqlite3.connect(path)
    now = int(time.time() * 1000)
    uuids = [uuid.uuid4().hex for _ in range(n_runs)]
    with con:
        con.executemany(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, "
            "user_id, status, start_time, end_time, source_version, lifecycle_stage, "
            "artifact_uri, experiment_id) VALUES (?, ?, 'LOCAL', '', '', 'bench', 'FINISHED', "
            "?, ?, '', 'active', '', ?)",
            [(u, f"run{i}", now + i, now + i + 1, int(experiment)) for i, u in enumerate(uuids)],
        )
        con.executemany(
            "INSERT INTO tags (key, value, run_uuid) VALUES ('mlflow.runName', ?, ?)",
            [(f"run{i}", u) for i, u in enumerate(uuids)],
        )
        con.executemany(
            "INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)",
            (
                (f"{section}.{key}", str(value), u)
                for i, u in enumerate(uuids, start=1)
                for section, values in _config(i).items()
                for key, value in values.items()
            ),
        )
        con.executemany(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
            "VALUES (?, ?, ?, ?, ?, 0)",
            (
                (f"m{k}", 1.0 / (step + 1 + k + i % 7), now + step, u, step)
                for i, u in enumerate(uuids, start=1)
                for step in range(STEPS)
                for k in range(METRICS)
            ),
        )
        con.executemany(
            "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
            "VALUES (?, ?, ?, ?, 0, ?)",
            (
                (f"m{k}", 1.0 / (STEPS + k + i % 7), now + STEPS - 1, STEPS - 1, u)
                for i, u in enumerate(uuids, start=1)
                for k in range(METRICS)
            ),
        )
    con.close()
    return client, experiment


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(db: Path) -> tuple[uvicorn.Server, str]:
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(str(db)), port=port, log_level="warning", access_log=False)
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return server, f"http://127.0.0.1:{port}"


def startup_s(db: Path, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        port = _free_port()
        start = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "ato.dashboard", "--db", str(db), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/api/projects").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.01)
            samples.append(time.perf_counter() - start)
        finally:
            process.terminate()
            process.wait()
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1,000 runs and 100,000 points")
    args = parser.parse_args()
    n_runs, points = (1_000, 100_000) if args.quick else (10_000, 1_000_000)
    logging.disable(logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    print(
        f"filling databases: {n_runs} runs x {PARAMS} params x {METRICS} metrics, {points} points"
    )
    series_run = fill_ato(tmp / "ato.db", n_runs, points)
    client, experiment = fill_mlflow(tmp / "mlflow.db", n_runs)
    server, base = serve(tmp / "ato.db")
    http = httpx.Client(timeout=60)

    def ato_runs() -> None:
        body = http.get(f"{base}/api/projects/bench/runs").json()
        assert body["count"] == n_runs and len(body["params"]) == PARAMS
        assert all(len(column) == n_runs for column in body["params"].values())

    def mlflow_runs() -> None:
        runs = client.search_runs([experiment], max_results=n_runs)
        assert len(runs) == n_runs and len(runs[0].data.params) == PARAMS

    def series() -> None:
        body = http.get(f"{base}/api/runs/{series_run}/metrics/loss?max_points=2000").json()
        assert body["total"] == points and len(body["step"]) <= 2000

    def analysis_view(view: str) -> Callable[[], None]:
        def get() -> None:
            response = http.get(f"{base}/api/searches/bench/analysis/{view}")
            assert response.status_code == 200, response.text

        return get

    def importance_cold() -> None:
        importance._cache.clear()
        body = http.get(f"{base}/api/searches/bench/analysis/importance").json()
        assert body["n_trials"] == SEARCH_TRIALS and not body["cached"]

    views = {view: median_ms(analysis_view(view), 5) for view in analysis.VIEWS}
    cold_ms = median_ms(importance_cold, 3)
    ato_ms = median_ms(ato_runs, 5)
    mlflow_ms = median_ms(mlflow_runs, 3)
    series_ms = median_ms(series, 5)
    server.should_exit = True
    ready = startup_s(tmp / "ato.db", 3)
    print(
        f"runs table JSON, {n_runs} runs: ato {ato_ms:8.1f} ms   MLflow search_runs "
        f"{mlflow_ms:8.1f} ms   ratio ato/MLflow {ato_ms / mlflow_ms:.2f}   (target <= 300 ms)"
    )
    print(f"{points:,}-point series to 2,000 points: {series_ms:8.1f} ms   (target <= 200 ms)")
    print(f"server ready after start: {ready:.2f} s   (target <= 1.5 s)")
    print(f"analysis of a {SEARCH_TRIALS:,}-trial search (2,963 runs):")
    for view, ms in views.items():
        note = "cached; " if view == "importance" else ""
        print(f"  {view:<11} {ms:8.1f} ms   ({note}target <= 500 ms)")
    print(f"  importance afresh (PED-ANOVA) {cold_ms:8.1f} ms   (target <= 2,000 ms)")


if __name__ == "__main__":
    main()
