"""How loading a project's runs grows with the number of runs (issue 30): a scaling table.

For projects of 100, 1,000, 10,000 and 100,000 runs (20 config params and 5 metrics of 4 steps
each: 20 metric rows per run; filled in bulk like bench_dashboard), one SQLite file per size:

- ``SQLFinder.get_runs_in_project`` (every run with its config ADict and metric rows),
- ``SQLFinder.runs_frame`` (one pandas row per run: params and the metrics' last values),
- ``ato runs list --project bench`` as a whole process (its default page).

Each cell is the median of a few repeats (fewer for the larger sizes) and the time per run, so
that growth is visible: flat per-run times mean linear total time, a default page that costs
the same at every size means the command reads only what it shows. The goal row (1,000 runs x
20 metrics <= 200 ms for both finder calls) is recorded by bench_tracker on runs logged through
``SQLLogger``; here the 1,000-run row is printed beside the goal for comparison only.

Usage: python benchmarks/bench_runs_scaling.py [--quick] [--max-runs N]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_cli import ato_list
from bench_dashboard import fill_ato

from ato.tracker import SQLFinder
from ato.tracker.storage.database import dispose_engines

SIZES = (100, 1_000, 10_000, 100_000)
STEPS = 4  # x 5 metric keys = 20 metric rows per run
GOAL_MS = 200  # get_runs_in_project / runs_frame at 1,000 runs x 20 metrics (bench_tracker)


def repeats_for(size: int) -> int:
    """Fewer repeats for larger projects, so that the table stays within a few minutes."""
    return 5 if size <= 1_000 else 3 if size <= 10_000 else 1


def median_s(fn: Callable[[], object], repeats: int) -> float:
    """Median seconds of ``fn()`` over ``repeats`` calls, after one warm-up call when there
    are several (a single call at the largest size is timed cold, to keep the table short)."""
    if repeats > 1:
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def process_s(argv: list[str], repeats: int) -> float:
    """Median seconds from starting ``argv`` to its exit (output discarded)."""
    return median_s(lambda: subprocess.run(argv, check=True, stdout=subprocess.DEVNULL), repeats)


def measure(db: Path, size: int) -> dict[str, float]:
    """Seconds per operation on the project ``bench`` of ``db`` (``size`` runs)."""
    finder = SQLFinder(
        {"experiment": {"project_name": "bench", "sql": {"db_path": f"sqlite:///{db}"}}}
    )
    repeats = repeats_for(size)

    def load_all() -> None:
        runs = finder.get_runs_in_project("bench")
        assert len(runs) == size and len(runs[-1].metrics) == 5 * STEPS, (len(runs), size)

    result = {
        "get_runs_in_project": median_s(load_all, repeats),
        "runs_frame": median_s(lambda: finder.runs_frame("bench"), repeats),
        "ato runs list": process_s(ato_list(db)[0], repeats),
    }
    dispose_engines()
    return result


def print_table(table: dict[int, dict[str, float]]) -> None:
    print(f"runs of one project (20 params, {5 * STEPS} metric rows each); median of a few calls:")
    print(f"{'runs':>9}{'get_runs_in_project':>30}{'runs_frame':>30}{'ato runs list':>16}")
    for size, row in table.items():
        cells = "".join(
            f"{row[name] * 1e3:>14,.1f} ms {row[name] * 1e6 / size:>7,.1f} us/run"
            for name in ("get_runs_in_project", "runs_frame")
        )
        print(f"{size:>9,}{cells}{row['ato runs list']:>14.2f} s")
    print("(the finder calls read every run: flat us/run is linear growth; `ato runs list`")
    print(" shows its default page, which should cost the same at every size)")
    if 1_000 in table:
        at_1k = table[1_000]
        print(
            f"1,000 runs: get_runs_in_project {at_1k['get_runs_in_project'] * 1e3:.0f} ms, "
            f"runs_frame {at_1k['runs_frame'] * 1e3:.0f} ms (bench_tracker's goal <= {GOAL_MS} ms "
            "is measured on runs logged through SQLLogger)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 and 1,000 runs only")
    parser.add_argument("--max-runs", type=int, default=SIZES[-1], help="largest project size")
    args = parser.parse_args()
    sizes = [s for s in SIZES if s <= (1_000 if args.quick else args.max_runs)]
    logging.disable(logging.WARNING)
    table: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="ato-bench-scaling-") as name:
        for size in sizes:
            db = Path(name) / f"runs{size}.db"
            start = time.perf_counter()
            fill_ato(db, size, 0, steps=STEPS)
            filled = time.perf_counter() - start
            table[size] = measure(db, size)
            print(f"  {size:,} runs: filled in {filled:.1f} s, measured", flush=True)
            db.unlink()
    print_table(table)


if __name__ == "__main__":
    main()
