"""A writer while a dashboard polls the same SQLite file (issue 30).

A run logs ``N`` values (two keys) until they are durable, once alone and once while another
process serves the dashboard and asks for the run and its ``loss`` series every 0.1 s (what
some twenty open run pages polling every 2 s would ask), sending ``If-None-Match`` with the
last ``ETag`` as a browser does (``--plain``: without). Printed: both times, their ratio
(goal <= 1.3x) and the size of the write-ahead log at the end of each. Medians of interleaved
repeats.

Usage: python benchmarks/bench_polling.py [--quick]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import record_goal

from ato.tracker import SQLLogger

GOAL_RATIO = 1.3
POLL_S = 0.1
POLLER_CPU: list[tuple[float, float]] = []  # (dashboard CPU s, writer s) of each polled write


def poll(db: str, run_id: int, conditional: bool) -> None:
    """Ask the dashboard for run ``run_id`` and its ``loss`` series every `POLL_S` until
    killed (run in a child process). With ``conditional``, as a browser does with an answer
    that carries an ``ETag``: ask again with ``If-None-Match``."""
    from starlette.testclient import TestClient

    from ato.dashboard import create_app

    tags: dict[str, str] = {}
    with TestClient(create_app(db)) as client:
        while True:
            for url in (f"/api/runs/{run_id}", f"/api/runs/{run_id}/metrics/loss"):
                headers = {"If-None-Match": tags[url]} if url in tags and conditional else {}
                response = client.get(url, headers=headers)
                if response.status_code not in (200, 304):
                    response.raise_for_status()
                if "etag" in response.headers:
                    tags[url] = response.headers["etag"]
            time.sleep(POLL_S)


def _cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` used so far (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def write(db: Path, n: int, polled: bool, conditional: bool = True) -> tuple[float, int]:
    """Seconds to log ``n`` values until durable, and the WAL's size in bytes at the end
    (the dashboard's CPU seconds are added to `POLLER_CPU`)."""
    logger = SQLLogger({"experiment": {"project_name": "bench", "sql": {"db_path": str(db)}}})
    run_id = logger.run()
    logger.log_metric("loss", 1.0, 0)
    logger.flush()
    poller = None
    if polled:
        argv = [sys.executable, __file__, "--poll", str(db), str(run_id)]
        argv += [] if conditional else ["--plain"]
        poller = subprocess.Popen(argv, stderr=subprocess.DEVNULL)
        time.sleep(3)  # the server is up and polling
    poller_cpu = 0.0 if poller is None else _cpu_seconds(poller.pid)
    start = time.perf_counter()
    for step in range(1, n // 2):
        logger.log_metric("loss", 1.0 / step, step)
        logger.log_metric("acc", step / n, step)
    logger.flush()
    elapsed = time.perf_counter() - start
    if poller is not None:
        POLLER_CPU.append((_cpu_seconds(poller.pid) - poller_cpu, elapsed))
        poller.kill()
        poller.wait()
    wal = db.with_name(db.name + "-wal")
    size = wal.stat().st_size if wal.exists() else 0
    logger.finish()
    logger.close()
    return elapsed, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60,000 values, 1 repeat")
    parser.add_argument(
        "--plain", action="store_true", help="poll without If-None-Match (no conditional requests)"
    )
    parser.add_argument("--poll", nargs=2, metavar=("DB", "RUN"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.poll:
        poll(args.poll[0], int(args.poll[1]), conditional=not args.plain)
        return
    n, repeats = (60_000, 1) if args.quick else (300_000, 3)
    logging.disable(logging.WARNING)
    times: dict[bool, list[float]] = {False: [], True: []}
    wal: dict[bool, int] = {}
    with tempfile.TemporaryDirectory(prefix="ato-bench-polling-") as name:
        for i in range(repeats):
            for polled in (False, True):
                db = Path(name) / f"w{i}{int(polled)}.db"
                seconds, wal[polled] = write(db, n, polled, conditional=not args.plain)
                times[polled].append(seconds)
    alone, polled = statistics.median(times[False]), statistics.median(times[True])
    ratio = polled / alone
    verdict = "met" if ratio <= GOAL_RATIO else "MISSED"
    print(f"writer of {n:,} values into SQLite, until durable (median of {repeats}):")
    print(
        f"  alone                       : {alone:7.2f} s   WAL at the end {wal[False] / 2**20:6.1f} MiB"
    )
    print(
        f"  dashboard polling every {POLL_S:g} s: {polled:7.2f} s   WAL at the end {wal[True] / 2**20:6.1f} MiB"
    )
    print(f"  ratio polled / alone        : {ratio:7.2f}   (goal <= {GOAL_RATIO}x, {verdict})")
    cpu, seconds = map(sum, zip(*POLLER_CPU, strict=True))
    print(
        f"  dashboard CPU while polling : {cpu / seconds:7.2f} s per second of the writer "
        "(less sensitive to the machine's load than the ratio)"
    )
    record_goal("writer under a polling dashboard / alone (SQLite)", ratio, GOAL_RATIO)


if __name__ == "__main__":
    main()
