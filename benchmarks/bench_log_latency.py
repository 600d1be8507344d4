"""How long one ``SQLLogger.log_metric`` call blocks the training loop (issue 30).

A loop logs ``N`` values into a healthy SQLite file (default settings: batches of 5,000 rows)
and times every call on its own. Printed: p50, p99 and the worst call, next to two floors: the
same loop appending to a plain list, and appending to a list while a plain thread writes each
5,000 rows to SQLite with ``sqlite3.executemany`` (what any in-process background writer costs
the loop: the thread's turns holding the GIL). On a loaded machine the floors' own worst calls
show how long the scheduler alone stalls a thread. Also the rate until the rows are durable.
Goal: the worst call <= 1 ms while the database is healthy (the batch is written by the flush
thread, never by the caller).

Usage: python benchmarks/bench_log_latency.py [--quick]
"""

from __future__ import annotations

import argparse
import logging
import queue
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

from timing import record_goal

from ato.tracker import SQLLogger

GOAL_WORST_MS = 1.0
BATCH = 5_000  # rows per batch, as SQLLogger's default


def latencies(n: int, db: Path) -> tuple[list[int], float]:
    """Nanoseconds of each of ``n`` ``log_metric`` calls, and seconds until all are stored."""
    logger = SQLLogger({"experiment": {"project_name": "bench", "sql": {"db_path": str(db)}}})
    logger.run()
    clock = time.perf_counter_ns
    calls: list[int] = []
    start = time.perf_counter()
    for step in range(n):
        before = clock()
        logger.log_metric("loss", step * 0.5, step)
        calls.append(clock() - before)
    logger.flush()
    elapsed = time.perf_counter() - start
    logger.finish()
    logger.close()
    return calls, elapsed


def floor(n: int, batches: queue.Queue[list[tuple[str, float, int]]] | None = None) -> list[int]:
    """The same loop appending to a list: what timing a call costs by itself. With
    ``batches``, every 5,000 rows are handed to it (a writer thread's queue)."""
    clock = time.perf_counter_ns
    sink: list[tuple[str, float, int]] = []
    calls: list[int] = []
    for step in range(n):
        before = clock()
        sink.append(("loss", step * 0.5, step))
        if batches is not None and len(sink) == BATCH:
            batches.put(sink)
            sink = []
        calls.append(clock() - before)
    if batches is not None and sink:
        batches.put(sink)
    return calls


def thread_floor(n: int, db: Path) -> list[int]:
    """The list-append loop while a plain thread stores every ``BATCH`` rows with
    ``executemany`` and a commit: the stalls a background writer thread causes by itself."""
    batches: queue.Queue[list[tuple[str, float, int]]] = queue.Queue()

    def write() -> None:
        con = sqlite3.connect(db)
        con.execute("CREATE TABLE m (key TEXT, value REAL, step INTEGER)")
        while rows := batches.get():
            con.executemany("INSERT INTO m VALUES (?, ?, ?)", rows)
            con.commit()
        con.close()

    writer = threading.Thread(target=write)
    writer.start()
    calls = floor(n, batches)
    batches.put([])  # an empty batch: the writer ends
    writer.join()
    return calls


def _quantile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50,000 calls instead of 300,000")
    args = parser.parse_args()
    n = 50_000 if args.quick else 300_000
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="ato-bench-latency-") as name:
        calls, elapsed = latencies(n, Path(name) / "latency.db")
        threaded = thread_floor(n, Path(name) / "floor.db")
    base = floor(n)
    print(f"log_metric into SQLite, {n:,} calls, each timed (microseconds):")
    print(f"  {'':<22}{'p50':>10}{'p99':>10}{'p99.99':>10}{'max':>12}{'> 1 ms':>8}")
    rows = (
        ("log_metric", calls),
        ("list.append (floor)", base),
        ("+ sqlite3 thread", threaded),
    )
    for label, values in rows:
        cells = [_quantile(values, q) for q in (0.5, 0.99, 0.9999)]
        slow = sum(value > 1_000_000 for value in values)
        print(
            f"  {label:<22}{cells[0]:>10.2f}{cells[1]:>10.2f}{cells[2]:>10.1f}"
            f"{max(values) / 1e3:>12.1f}{slow:>8}"
        )
    worst_ms = max(calls) / 1e6
    verdict = "met" if worst_ms <= GOAL_WORST_MS else "MISSED"
    record_goal("worst log_metric call (SQLite)", worst_ms, GOAL_WORST_MS, "ms")
    print(f"  worst call {worst_ms:.2f} ms (goal <= {GOAL_WORST_MS} ms, {verdict})")
    print(f"  durable rate: {n / elapsed:,.0f} metrics/s")


if __name__ == "__main__":
    main()
