"""Overhead of system metrics on the training loop: ``log_metric`` with sampling on
(``system_metrics=0.1``, a sample every 0.1 s, 100x MLflow's default rate) against off.

Run: ``python benchmarks/bench_system_metrics.py [CALLS] [DB_URL]`` (or ``nox -s bench``;
defaults 200,000 calls into a new SQLite file per round). Each round starts a run, times
``CALLS`` calls of ``log_metric`` (the loop the training thread runs, including the batches
SQLite writes on the calling thread) and then ``finish`` (the final flush, the sampler
stopped), with sampling on and off alternately, 5 rounds each; prints the median microseconds
per call, the ratio on/off, the samples taken and the cost of one sample on the sampler thread.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from ato.tracker import SQLLogger
from ato.tracker.write.system_metrics import HostReader, require_psutil

ROUNDS = 5
INTERVAL_S = 0.1


def _round(url: str, calls: int, sampling: bool) -> tuple[float, float, int]:
    """Seconds in the ``log_metric`` loop, seconds in ``finish``, samples taken."""
    logger = SQLLogger.from_url(url, "bench", system_metrics=INTERVAL_S if sampling else False)
    logger.run()
    sampler = logger._sampler
    log = logger.log_metric
    start = time.perf_counter()
    for step in range(calls):
        log("loss", 1.0 / (step + 1), step)
    looped = time.perf_counter()
    logger.finish()
    finished = time.perf_counter()
    logger.close()
    samples = 0 if sampler is None else sampler.samples
    return looped - start, finished - looped, samples


def _sample_cost_us() -> float:
    reader = HostReader(require_psutil())
    times = []
    for _ in range(200):
        start = time.perf_counter()
        list(reader.read())
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    with tempfile.TemporaryDirectory() as folder:
        url = sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{Path(folder) / 'bench.db'}"
        _round(url, 1000, True)  # warm-up: schema, engine, psutil import
        results: dict[bool, list[tuple[float, float, int]]] = {True: [], False: []}
        for _ in range(ROUNDS):
            for sampling in (False, True):
                results[sampling].append(_round(url, calls, sampling))
    loop = {s: statistics.median(r[0] for r in rs) / calls * 1e6 for s, rs in results.items()}
    total = {
        s: statistics.median(r[0] + r[1] for r in rs) / calls * 1e6 for s, rs in results.items()
    }
    samples = statistics.median(r[2] for r in results[True])
    print(f"system metrics: {calls:,} log_metric calls per round, median of {ROUNDS} rounds")
    print(f"  log_metric loop, sampling off: {loop[False]:.3f} us/call")
    print(f"  log_metric loop, sampling on ({INTERVAL_S:g} s): {loop[True]:.3f} us/call")
    print(f"  ratio on/off (loop): {loop[True] / loop[False]:.3f}x")
    print(f"  loop + finish, off: {total[False]:.3f} us/call, on: {total[True]:.3f} us/call")
    print(f"  ratio on/off (loop + finish): {total[True] / total[False]:.3f}x")
    print(f"  samples per round with sampling on: {samples:g}")
    print(f"  one host sample on the sampler thread: {_sample_cost_us():.0f} us")


if __name__ == "__main__":
    main()
