"""Timing helper shared by the benchmark scripts (imported as ``timing`` from this folder)."""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable


def median_ms(fn: Callable[[], object], repeats: int = 20, budget_s: float | None = None) -> float:
    """Median wall time of ``fn()`` in milliseconds over ``repeats`` calls, after one warm-up.

    ``budget_s`` (seconds) bounds a slow peer: once the calls so far have taken that long, no
    more are made (the median is of the samples taken; when the warm-up alone takes longer, its
    time is the answer), so one slow peer cannot hold a whole ``nox -s bench`` for an hour.
    """
    began = time.perf_counter()
    fn()
    warm_up = time.perf_counter() - began
    if budget_s is not None and warm_up > budget_s:
        return warm_up * 1000
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
        if budget_s is not None and time.perf_counter() - began > budget_s:
            break
    return statistics.median(samples)


RESULTS_ENV = "ATO_BENCH_RESULTS"
"""Environment variable naming a JSON-lines file each script appends its goal rows to
(``nox -s bench`` sets it and prints them as one table at the end, see ``bench_summary.py``)."""


def record_goal(goal: str, value: float, limit: float, unit: str = "x") -> None:
    """Note one goal's measured ``value`` beside its ``limit`` (met when ``value <= limit``;
    ``unit``: ``'x'`` for a ratio to a peer or baseline, else e.g. ``'ms'``) in the file named
    by `RESULTS_ENV`; nothing when it is unset (a script run by hand prints its own lines)."""
    path = os.environ.get(RESULTS_ENV)
    if not path:
        return
    row = {"goal": goal, "value": value, "limit": limit, "unit": unit}
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(row) + "\n")
