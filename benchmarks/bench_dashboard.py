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
   halving search (budgets 1, 3, 9, 27: 2,963 runs, 4 parameters, a learning curve per run),
   and the Pareto-front view of a 2,000-trial search with two objectives and a constraint:
   every view computed afresh (the app's per-state cache emptied before each request)
   <= 500 ms; parameter importance (PED-ANOVA, computed afresh) <= 2 s; and each view again
   for an unchanged search (answered from the cache after one state query).
6. A 100-run compare (``GET /compare``, ``/api/compare`` and ``/api/compare/series`` for each
   of 3 metric keys, in sequence) over 100 runs x 3 keys x 5,000 steps (1,000 with
   ``--quick``): target <= 1 s.
5. The server-side runs table at 100,000 runs x 20 params x 5 metric keys
   (``GET /api/projects/{name}/table``, a ``python -m ato.dashboard`` process) on SQLite and
   PostgreSQL (``--postgres URL`` or ``$ATO_BENCH_POSTGRES_URL``; skipped with a printed line
   when neither is set): the first page (target <= 300 ms), a sort by a metric, a sort by a
   param, a filter on a metric, on a param, on a param and a metric (sorted), on two params
   (each target <= 500 ms), and the server's peak resident memory (target <= 1 GB). Peer:
   MLflow's ``search_runs`` for the same page (``max_results=50``, same ``order_by`` and an
   equivalent ``filter_string`` where MLflow has one) on the same data (SQLite); ratios
   ato / MLflow.
6. fasttrackml#860's realistic large set (50 experiments x 1,500 runs x 1,500 metric keys, a
   few points each), scaled to what a run of this script can build (default 50 x 150 x 150,
   3 points: ``--large-scale E,R,K``), written through the tracker's bulk path. Project ``e0``
   is built first and measured alone, then the other projects are added and it is measured
   again: its page and a 100-run compare as the browser loads them (the compare JSON, then the
   curves of each of the 12 metric keys it shows), each target <= 1 s, with the ratio
   "with the others / alone" (the cost should follow the project's size, not the database's).
   ``--large-full`` builds ``e0`` at the full 1,500 runs x 1,500 keys (6.75 M metric rows and
   2.25 M summaries: many minutes to build, longer on PostgreSQL) and the others at
   ``--large-scale``'s size. The scale used is printed.

Goals are recorded with ``timing.record_goal``.

Both databases are filled with bulk SQL inserts (MLflow's through its own schema, created by
MLflow), since logging 10,000 runs call by call would take many minutes in either tool.

Usage: python benchmarks/bench_dashboard.py [--quick] [--table-runs N] [--postgres URL]
       [--only-table | --only-large] [--large-scale E,R,K] [--large-full]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
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
from datetime import datetime, timezone
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import create_engine, insert, true
from timing import median_ms, record_goal

from ato.dashboard import analysis, create_app, importance
from ato.tracker.storage import run_params
from ato.tracker.storage.models import Base, MetricSummaryRecord
from ato.tracker.write import fold
from ato.tracker.write.inserts import MetricWriter
from ato.tracker.write.rows import MetricRow

PARAMS = 20
METRICS = 5
STEPS = 10
STAMP = "2024-01-01 00:00:00.000000"
SEARCH_TRIALS = 2_000
BUDGETS = (1, 3, 9, 27)
COMPARE_RUNS, COMPARE_KEYS = 100, ("loss", "acc", "lr")


def _config(i: int) -> dict:
    model = {f"p{k}": (i * (k + 1)) % 97 / 10 for k in range(PARAMS // 2)}
    optim = {f"p{k}": f"choice{(i + k) % 5}" for k in range(PARAMS // 2, PARAMS)}
    return {"model": model, "optim": optim}


def fill_ato(path: Path, n_runs: int, series_points: int, steps: int = STEPS) -> int:
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
                for step in range(steps)
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
        _fill_front_search(con)
        _fill_params(con)
    con.close()
    _fill_summaries(path)
    return series_run


def _fill_params(con: sqlite3.Connection) -> None:
    """The ``run_params`` rows of every run (revision 0010), from the configs just inserted,
    as `SQLLogger.run` writes them (``ato.tracker.storage.run_params``)."""
    con.executemany(
        "INSERT INTO run_params (run_id, key, kind, num_value, text_value, text_prefix) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            tuple(row.values())
            for run_id, config in con.execute("SELECT id, config FROM experiments").fetchall()
            for row in run_params.rows(run_id, json.loads(config))
        ),
    )


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


def _fill_front_search(con: sqlite3.Connection) -> None:
    """Project ``front``: a 2,000-trial search with objectives ``err`` (min) and ``cost``
    (min) and constraint ``mem`` (<= 0), one rung (budget 9), as ato-hyperopt records it."""
    rng = random.Random(1)
    con.execute("INSERT INTO projects (id, name, created_at) VALUES (4, 'front', ?)", (STAMP,))
    first = con.execute("SELECT max(id) FROM experiments").fetchone()[0] + 1
    tags = [
        "search:bench-mo",
        "rung:0",
        "budget:9",
        "bracket:0",
        "objective:min:err",
        "objective:min:cost",
        "constraint:mem",
    ]
    for trial in range(SEARCH_TRIALS):
        width, depth = rng.uniform(0.1, 1.0), rng.randint(2, 12)
        run_id = first + trial
        con.execute(
            "INSERT INTO experiments (id, project_id, config, structural_hash, tags, status, "
            "start_time, end_time) VALUES (?, 4, ?, 'h', ?, 'completed', ?, ?)",
            (
                run_id,
                json.dumps({"width": width, "depth": depth}),
                json.dumps([*tags, f"trial_id:{trial}"]),
                STAMP,
                STAMP,
            ),
        )
        err = 1 / (1 + width * depth) + rng.uniform(0, 0.05)
        values = {"err": err, "cost": width * depth, "mem": width * depth - 9}
        con.executemany(
            "INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, 0, ?)",
            [(run_id, f"search/{key}", value, STAMP) for key, value in values.items()],
        )


def fill_compare(path: Path, steps: int) -> list[int]:
    """Project ``compare``: ``COMPARE_RUNS`` runs logging each of ``COMPARE_KEYS`` at
    ``steps`` steps; their ids."""
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    engine.dispose()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    ids = list(range(1, COMPARE_RUNS + 1))
    with con:
        con.execute(
            "INSERT INTO projects (id, name, created_at) VALUES (1, 'compare', ?)", (STAMP,)
        )
        con.executemany(
            "INSERT INTO experiments (id, project_id, config, structural_hash, tags, status, "
            "start_time, end_time) VALUES (?, 1, ?, 'h', '[]', 'completed', ?, ?)",
            [(i, json.dumps({"lr": 10 ** -(1 + i % 4), "seed": i}), STAMP, STAMP) for i in ids],
        )
        con.executemany(
            "INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)",
            (
                (i, key, math.exp(-s / (500 + i)) + 0.01 * math.sin(s * (k + 1) + i), s, STAMP)
                for i in ids
                for s in range(steps)
                for k, key in enumerate(COMPARE_KEYS)
            ),
        )
    con.close()
    _fill_summaries(path)
    return ids


def _fill_summaries(path: Path) -> None:
    """The per run and key summaries a logger keeps at write time, computed at once from the
    bulk-inserted rows (as ``ato db upgrade`` does for old rows)."""
    engine = create_engine(f"sqlite:///{path}")
    table = MetricSummaryRecord.__table__
    with engine.begin() as conn:
        columns = [column.name for column in table.columns]
        conn.execute(insert(table).from_select(columns, fold.aggregated(true())))
    engine.dispose()


def fill_mlflow(path: Path, n_runs: int, steps: int = STEPS) -> tuple[object, str]:
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
                for step in range(steps)
                for k in range(METRICS)
            ),
        )
        con.executemany(
            "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
            "VALUES (?, ?, ?, ?, 0, ?)",
            (
                (f"m{k}", 1.0 / (steps + k + i % 7), now + steps - 1, steps - 1, u)
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


def start_process(db: str) -> tuple[subprocess.Popen[bytes], str]:
    """``python -m ato.dashboard`` over ``db`` on a free port, once it answers."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ato.dashboard", "--db", db, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    while True:
        try:
            if httpx.get(f"{base}/api/projects").status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.05)


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (``VmHWM``, Linux) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return math.nan


#: (name, table request parameters, MLflow search_runs arguments or None when it has no equal).
TABLE_VIEWS = [
    ("first page", {}, {}),
    ("sort by a metric", {"sort": "metrics.m0", "desc": "0"}, {"order_by": ["metrics.m0 ASC"]}),
    ("sort by a param", {"sort": "params.model.p3"}, {"order_by": ["params.`model.p3` DESC"]}),
    ("filter on a metric", {"filter": "metrics.m2 > 0.1"}, {"filter_string": "metrics.m2 > 0.1"}),
    (
        "filter on a param",
        {"filter": "params.optim.p12 = 'choice3'"},
        {"filter_string": "params.`optim.p12` = 'choice3'"},
    ),
    (
        "filter param+metric, sorted",
        {"filter": "params.optim.p12 = 'choice3' and metrics.m1 < 0.12", "sort": "metrics.m1"},
        {
            "filter_string": "params.`optim.p12` = 'choice3' and metrics.m1 < 0.12",
            "order_by": ["metrics.m1 DESC"],
        },
    ),
    (
        "two-param filter",
        {"filter": "params.optim.p11 = 'choice1' and params.optim.p13 = 'choice3'"},
        {"filter_string": "params.`optim.p11` = 'choice1' and params.`optim.p13` = 'choice3'"},
    ),
    ("two numeric params filter", {"filter": "params.model.p1 < 3 and params.model.p4 >= 5"}, None),
]
PG_ENV = "ATO_BENCH_POSTGRES_URL"


def table_bench(tmp: Path, n_runs: int, postgres: str | None, reuse: bool = False) -> None:
    """Section 5: the server-side runs table at ``n_runs`` runs, against MLflow (ato's views
    are timed and printed first, then MLflow's, then the ratios)."""
    if not reuse:
        print(f"filling databases: {n_runs:,} runs x {PARAMS} params x {METRICS} metric keys")
        fill_ato(tmp / "table.db", n_runs, 10, steps=2)
        fill_mlflow(tmp / "table-mlflow.db", n_runs, steps=2)
    targets = [("SQLite", str(tmp / "table.db"))]
    if postgres:
        copy_to_server(tmp / "table.db", postgres)
        targets.append(("PostgreSQL", postgres))
    else:
        print(f"PostgreSQL: skipped (set {PG_ENV} or pass --postgres URL)")
    ato_ms: dict[tuple[str, str], float] = {}
    for backend, db in targets:
        process, base = start_process(db)
        http = httpx.Client(timeout=120)
        try:
            for name, params, _ in TABLE_VIEWS:

                def view(
                    params: dict[str, str] = params, http: httpx.Client = http, base: str = base
                ) -> None:
                    response = http.get(f"{base}/api/projects/bench/table", params=params)
                    assert response.status_code == 200, response.text
                    assert len(response.json()["runs"]["id"]) == 50

                ms = ato_ms[backend, name] = median_ms(view, 5)
                target = 300 if name == "first page" else 500
                print(f"{backend:10} {name:28} ato {ms:7.1f} ms (target <= {target})", flush=True)
                record_goal(f"runs table {name}, {n_runs:,} runs ({backend})", ms, target, "ms")
            peak = peak_rss_mb(process.pid)
            print(f"{backend:10} server peak memory: {peak:.0f} MiB (target <= 1024)", flush=True)
            record_goal(f"runs table server peak memory ({backend})", peak, 1024, "MiB")
        finally:
            process.terminate()
            process.wait()
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp / 'table-mlflow.db'}")
    experiment = client.get_experiment_by_name("bench").experiment_id
    for name, _, peer in TABLE_VIEWS:
        if peer is None:
            print(f"MLflow     {name:28} (no equal: MLflow params are texts)")
            continue
        ms = median_ms(
            lambda peer=peer: client.search_runs([experiment], max_results=50, **peer),
            3,
            budget_s=30,
        )
        ratios = "   ".join(
            f"{backend} ato/MLflow {ato_ms[backend, name] / ms:.3f}" for backend, _ in targets
        )
        print(f"MLflow     {name:28} search_runs {ms:8.1f} ms   {ratios}", flush=True)
        for backend, _ in targets:
            ratio = ato_ms[backend, name] / ms
            record_goal(f"runs table {name} ({backend}) / MLflow search_runs (SQLite)", ratio, 1.0)


#: fasttrackml#860's realistic large set: experiments x runs each x metric keys (few points).
LARGE_FULL = (50, 1_500, 1_500)
LARGE_POINTS = 3
#: The keys a compare page shows at once (``ato.dashboard.data.COMPARE_KEYS``).
SHOWN_KEYS = 12


def _large_config(r: int) -> dict[str, object]:
    extra = {f"h{k}": k * r % 11 for k in range(6)}
    return {"lr": 10 ** -(1 + r % 4), "seed": r % 5, "model": {"depth": r % 7},
            "opt": ("adam", "sgd")[r % 2], **extra}  # fmt: skip


def build_experiment(url: str, name: str, runs: int, keys: int, points: int) -> list[int]:
    """Project ``name`` of ``runs`` runs, every run with a 10-key config and ``keys`` metric
    keys of ``points`` points, written through the tracker's bulk path into the (existing)
    database ``url``: runs (with their ``run_params`` rows) in one transaction, metrics through
    `MetricWriter` (the buffer's exactly-once insert with the summary and level-of-detail folds
    in the same transaction), 50,000 rows per transaction. Returns the runs' ids."""
    engine = create_engine(url)
    runs_table = Base.metadata.tables["experiments"]
    writer = MetricWriter(engine.dialect)
    stamp = datetime(2024, 1, 1, tzinfo=timezone.utc)
    with engine.begin() as conn:
        project = conn.execute(
            insert(Base.metadata.tables["projects"]).values(name=name, created_at=stamp)
        ).inserted_primary_key[0]
        ids = []
        for r in range(runs):
            config = _large_config(r)
            run_id = conn.execute(
                insert(runs_table).values(
                    project_id=project,
                    config=config,
                    structural_hash=str(r % 5),
                    tags=[],
                    status="completed",
                    start_time=stamp,
                    end_time=stamp,
                )
            ).inserted_primary_key[0]
            run_params.store(conn, run_id, config)
            ids.append(run_id)
    batch: list[MetricRow] = []
    seq = 0
    for run_id in ids:
        for k in range(keys):
            for step in range(points):
                seq += 1
                value = 1.0 / (1 + step + k % 13 + run_id % 7)
                batch.append((run_id, f"k{k}", value, step, 1.7e9 + step, seq))
        if len(batch) >= 50_000 or run_id == ids[-1]:
            with engine.begin() as conn:
                writer.write(conn, batch, project)
            batch = []
    engine.dispose()
    return ids


def _empty(url: str) -> None:
    engine = create_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    engine.dispose()


def _large_views(base: str, ids: list[int], keys: int) -> dict[str, Callable[[], None]]:
    """Project ``e0``'s page and a compare of its first 100 runs, each as the browser loads
    it: the page's HTML, then its API requests in sequence (the runs table's first page; the
    compare JSON, then the curves of each metric key it shows)."""
    http = httpx.Client(timeout=300)
    compared = ",".join(map(str, ids[:100]))

    def project_page() -> None:
        assert http.get(f"{base}/projects/e0").status_code == 200
        table = http.get(f"{base}/api/projects/e0/table")
        assert table.status_code == 200 and len(table.json()["runs"]["id"]) == 50

    def compare() -> None:
        assert http.get(f"{base}/compare", params={"runs": compared}).status_code == 200
        body = http.get(f"{base}/api/compare", params={"runs": compared}).json()
        assert len(body["runs"]) == 100 and body["metric_key_count"] == keys
        assert len(body["metric_keys"]) == min(keys, SHOWN_KEYS)
        for key in body["metric_keys"]:
            series = http.get(f"{base}/api/compare/series", params={"runs": compared, "key": key})
            assert series.status_code == 200 and len(series.json()["runs"]) == 100

    return {"project page": project_page, "100-run compare": compare}


def large_bench(
    tmp: Path, scale: tuple[int, int, int], postgres: str | None, full: bool = False
) -> None:
    """Section 6: fasttrackml's large set on SQLite and PostgreSQL. Project ``e0`` is built
    first, alone, and measured: its page and a 100-run compare (each target <= 1 s); then
    the other ``experiments - 1`` projects are added and the same views measured again, to show
    that their cost follows the project's size, not the database's. ``scale``: experiments,
    runs each, metric keys; with ``full`` project ``e0`` has the full set's 1,500 runs x 1,500
    keys (6.75 M metric rows; building it takes several minutes) and the others ``scale``'s
    size."""
    experiments, runs, keys = scale
    first = (LARGE_FULL[1], LARGE_FULL[2]) if full else (runs, keys)
    full_set = LARGE_FULL
    rows = (first[0] * first[1] + (experiments - 1) * runs * keys) * LARGE_POINTS
    print(
        f"large set: project e0 {first[0]:,} runs x {first[1]:,} metric keys, then "
        f"{experiments - 1} more of {runs:,} runs x {keys:,} keys, {LARGE_POINTS} points each "
        f"({rows:,} metric rows; fasttrackml#860's full set is {full_set[0]} x "
        f"{full_set[1]:,} x {full_set[2]:,})",
        flush=True,
    )
    targets = [("SQLite", f"sqlite:///{tmp / 'large.db'}")]
    if postgres:
        targets.append(("PostgreSQL", postgres))
    for backend, url in targets:
        _empty(url)
        start = time.perf_counter()
        ids = build_experiment(url, "e0", *first, LARGE_POINTS)
        print(f"{backend:10} e0 built in {time.perf_counter() - start:.0f} s", flush=True)
        alone = _large_timings(url, ids, first[1])
        start = time.perf_counter()
        for e in range(1, experiments):
            build_experiment(url, f"e{e}", runs, keys, LARGE_POINTS)
        print(
            f"{backend:10} {experiments - 1} more built in {time.perf_counter() - start:.0f} s",
            flush=True,
        )
        among = _large_timings(url, ids, first[1])
        size = f"{first[0]}x{first[1]}"
        for name, ms in among.items():
            print(
                f"{backend:10} e0 ({size}) {name:16} alone {alone[name]:7.1f} ms   with "
                f"{experiments - 1} other projects {ms:7.1f} ms   ratio "
                f"{ms / alone[name]:.2f}   (target <= 1000 ms)",
                flush=True,
            )
            record_goal(f"large set, project of {size}, {name} ({backend})", ms, 1000, "ms")


def _large_timings(url: str, ids: list[int], keys: int) -> dict[str, float]:
    """Median times (ms) of `_large_views` on a fresh dashboard process over ``url``."""
    process, base = start_process(url.removeprefix("sqlite:///"))
    try:
        return {name: median_ms(fn, 5) for name, fn in _large_views(base, ids, keys).items()}
    finally:
        process.terminate()
        process.wait()


def copy_to_server(path: Path, url: str) -> None:
    """The SQLite benchmark database's rows copied into the (emptied) server database ``url``."""
    from sqlalchemy import delete

    source = create_engine(f"sqlite:///{path}")
    target = create_engine(url)
    Base.metadata.drop_all(target)
    Base.metadata.create_all(target)
    with source.connect() as read, target.begin() as write:
        for table in Base.metadata.sorted_tables:
            write.execute(delete(table))
            rows = read.execute(table.select()).mappings()
            batch: list[dict[str, object]] = []
            for row in rows:
                batch.append(dict(row))
                if len(batch) == 20_000:
                    write.execute(insert(table), batch)
                    batch = []
            if batch:
                write.execute(insert(table), batch)
    source.dispose()
    target.dispose()


def compare_bench(tmp: Path, steps: int) -> None:
    """Section 6: the compare page of 100 runs, as the browser loads it (in sequence)."""
    path = tmp / "compare.db"
    ids = fill_compare(path, steps)
    server, base = serve(path)
    http = httpx.Client(timeout=60)
    runs = ",".join(map(str, ids))

    def load() -> None:
        assert http.get(f"{base}/compare", params={"runs": runs}).status_code == 200
        body = http.get(f"{base}/api/compare", params={"runs": runs}).json()
        assert body["metric_keys"] == sorted(COMPARE_KEYS)
        for key in COMPARE_KEYS:
            series = http.get(f"{base}/api/compare/series", params={"runs": runs, "key": key})
            assert len(series.json()["runs"]) == COMPARE_RUNS

    ms = median_ms(load, 5)
    server.should_exit = True
    label = f"{COMPARE_RUNS}-run compare ({len(COMPARE_KEYS)} keys x {steps:,} steps)"
    print(f"{label}: {ms:8.1f} ms   (target <= 1,000 ms)")
    record_goal(label, ms, 1000, "ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1,000 runs and 100,000 points")
    parser.add_argument("--table-runs", type=int, default=None, help="runs of section 4")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(PG_ENV),
        help=f"also run sections 5 and 6 on this (emptied) database; default ${PG_ENV}",
    )
    parser.add_argument("--only-table", action="store_true", help="run section 5 only")
    parser.add_argument("--only-large", action="store_true", help="run section 6 only")
    parser.add_argument(
        "--large-full",
        action="store_true",
        help="section 6's project e0 at the full 1,500 runs x 1,500 keys (takes many minutes)",
    )
    parser.add_argument("--reuse", default=None, help="section 5 on the databases in this folder")
    parser.add_argument(
        "--large-scale",
        default=None,
        help="section 6's experiments,runs,keys (default 50,150,150; --quick 10,100,100)",
    )
    args = parser.parse_args()
    default_scale = "10,100,100" if args.quick else "50,150,150"
    experiments, runs, keys = (int(n) for n in (args.large_scale or default_scale).split(","))
    table_runs = args.table_runs or (10_000 if args.quick else 100_000)
    n_runs, points = (1_000, 100_000) if args.quick else (10_000, 1_000_000)
    logging.disable(logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    if args.only_large:
        large_bench(tmp, (experiments, runs, keys), args.postgres, args.large_full)
        return
    if args.only_table or args.reuse:
        table_bench(
            Path(args.reuse) if args.reuse else tmp, table_runs, args.postgres, bool(args.reuse)
        )
        return
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

    def analysis_view(view: str, afresh: bool) -> Callable[[], None]:
        search = "bench-mo" if view == "front" else "bench"

        def get() -> None:
            if afresh:
                server.config.app.state.views.clear()
            response = http.get(f"{base}/api/searches/{search}/analysis/{view}")
            assert response.status_code == 200, response.text

        return get

    def importance_cold() -> None:
        importance._cache.clear()
        server.config.app.state.views.clear()
        body = http.get(f"{base}/api/searches/bench/analysis/importance").json()
        assert body["n_trials"] == SEARCH_TRIALS and not body["cached"]

    http.get(f"{base}/api/searches/bench/analysis/importance")  # computed once: kept below
    views = {view: median_ms(analysis_view(view, True), 5) for view in analysis.VIEWS}
    kept = {view: median_ms(analysis_view(view, False), 5) for view in analysis.VIEWS}
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
    record_goal(f"runs table JSON (/api/projects/.../runs), {n_runs:,} runs", ato_ms, 300, "ms")
    record_goal(f"{points:,}-point series -> 2,000 points (HTTP)", series_ms, 200, "ms")
    record_goal("dashboard server ready after start", ready, 1.5, "s")
    print(f"analysis of a {SEARCH_TRIALS:,}-trial search (2,963 runs; front: 2,000 runs):")
    for view, ms in views.items():
        note = "importance kept per input; " if view == "importance" else ""
        print(
            f"  {view:<11} afresh {ms:8.1f} ms   unchanged search {kept[view]:7.1f} ms   "
            f"({note}target <= 500 ms)"
        )
        record_goal(f"analysis {view}, {SEARCH_TRIALS:,}-trial search", ms, 500, "ms")
    print(f"  importance afresh (PED-ANOVA) {cold_ms:8.1f} ms   (target <= 2,000 ms)")
    record_goal(f"analysis importance afresh, {SEARCH_TRIALS:,} trials", cold_ms, 2000, "ms")
    compare_bench(tmp, 1_000 if args.quick else 5_000)
    table_bench(tmp, table_runs, args.postgres)
    large_bench(tmp, (experiments, runs, keys), args.postgres, args.large_full)


if __name__ == "__main__":
    main()
