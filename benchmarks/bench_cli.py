"""The ``ato`` command as a user waits for it: ``ato runs list`` as a whole process.

A project of 10,000 runs (20 config params, 5 metrics of 10 steps each; filled in bulk like
bench_dashboard) is listed by ``ato runs list --project bench`` (its default page) and by
``ato runs list --project bench --json`` (every run), each started as a fresh process, next to
``mlflow runs list --experiment-id ID`` over an MLflow SQLite store holding the same runs.
Goal: ato's default table <= 0.5x MLflow's list. A scaling row (100 -> 10,000 runs) shows that
the default page costs the same whatever the project's size. Medians of interleaved repeats.

``ato runs show`` on a run that logged 100,000 metric keys (one value each; per-layer
statistics do this), as a whole process: goal <= 1 s (it shows the first 50 keys and reads only
their summaries); and ``ato runs compare`` of two such runs, with the same goal.

Usage: python benchmarks/bench_cli.py [--quick]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_dashboard import fill_ato, fill_mlflow
from timing import record_goal

GOAL_RATIO = 0.5
GOAL_SHOW_S = 1.0
WIDE_KEYS = 100_000


def _command(name: str) -> str:
    return shutil.which(name) or str(Path(sys.executable).parent / name)


def wall_s(argv: list[str], env: dict[str, str] | None = None) -> float:
    """Seconds from starting ``argv`` to its exit (output discarded); fails if it fails."""
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def interleaved(commands: dict[str, tuple[list[str], dict[str, str] | None]], repeats: int):
    """Median seconds per command name, the commands run in turn ``repeats`` times (after a
    warm-up each), so that machine noise hits all of them alike."""
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for argv, env in commands.values():
        wall_s(argv, env)
    for _ in range(repeats):
        for name, (argv, env) in commands.items():
            samples[name].append(wall_s(argv, env))
    return {name: statistics.median(values) for name, values in samples.items()}


def mlflow_cli(tmp: Path, n_runs: int) -> tuple[list[str], dict[str, str]] | None:
    """``mlflow runs list`` over an MLflow store of the same runs, or None without MLflow."""
    try:
        _, experiment = fill_mlflow(tmp / "mlflow.db", n_runs)
    except ImportError as error:
        print(f"note: MLflow is not installed ({error}); no peer")
        return None
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp / 'mlflow.db'}"}
    argv = [_command("mlflow"), "runs", "list", "--experiment-id", str(experiment)]
    try:
        subprocess.run(argv, check=True, capture_output=True, env=env)
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"note: `mlflow runs list` does not run here ({error}); no peer")
        return None
    return argv, env


def ato_list(db: Path, *options: str) -> tuple[list[str], None]:
    return [_command("ato"), "runs", "list", "--db", str(db), "--project", "bench", *options], None


def fill_wide(db: Path, keys: int) -> int:
    """A run of project ``wide`` that logged ``keys`` metric keys, one value each, written by
    ``SQLLogger`` (untimed); its id."""
    from ato.tracker import SQLLogger

    logger = SQLLogger(
        {"experiment": {"project_name": "wide", "sql": {"db_path": f"sqlite:///{db}"}}}
    )
    run_id = logger.run()
    for k in range(keys):
        logger.log_metric(f"layer{k:06d}/grad_norm", k * 1e-3, 0)
    logger.finish()
    return int(run_id)


def show_wide(tmp: Path, keys: int, repeats: int) -> None:
    """``ato runs show`` on a run of ``keys`` metric keys and ``ato runs compare`` of two such
    runs, whole processes, against their goal."""
    db = tmp / "wide.db"
    first, second = fill_wide(db, keys), fill_wide(db, keys)
    ato = [_command("ato"), "runs"]
    commands = {
        "show": ([*ato, "show", str(first), "--db", str(db)], None),
        "compare": ([*ato, "compare", str(first), str(second), "--db", str(db)], None),
    }
    for name, seconds in interleaved(commands, repeats).items():
        verdict = "met" if seconds <= GOAL_SHOW_S else "MISSED"
        runs = "a run" if name == "show" else "two runs"
        print(f"ato runs {name}, {runs} of {keys:,} metric keys, whole process: {seconds:6.2f} s")
        print(f"  (goal <= {GOAL_SHOW_S} s, {verdict})")
        record_goal(f"ato runs {name}, {keys:,} metric keys (s)", seconds, GOAL_SHOW_S, "s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 runs, 3 repeats")
    args = parser.parse_args()
    n_runs, repeats = (1_000, 3) if args.quick else (10_000, 5)
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="ato-bench-cli-") as name:
        tmp = Path(name)
        sizes = sorted({100, n_runs // 10, n_runs})
        for size in sizes:
            fill_ato(tmp / f"ato{size}.db", size, 0)
        commands = {
            "ato runs list (default page)": ato_list(tmp / f"ato{n_runs}.db"),
            "ato runs list --all": ato_list(tmp / f"ato{n_runs}.db", "--all"),
            "ato runs list --json (every run)": ato_list(tmp / f"ato{n_runs}.db", "--json"),
        }
        peer = mlflow_cli(tmp, n_runs)
        if peer is not None:
            commands["mlflow runs list"] = peer
        seconds = interleaved(commands, repeats)
        scaling = interleaved({str(s): ato_list(tmp / f"ato{s}.db") for s in sizes}, repeats)
    print(f"{n_runs:,} runs x 20 params x 5 metrics, whole process, median of {repeats}:")
    for label, value in seconds.items():
        print(f"  {label:<34}: {value:7.2f} s")
    if peer is not None:
        ratio = seconds["ato runs list (default page)"] / seconds["mlflow runs list"]
        verdict = "met" if ratio <= GOAL_RATIO else "MISSED"
        record_goal(f"ato runs list / mlflow runs list ({n_runs:,} runs)", ratio, GOAL_RATIO)
        print(
            f"  ratio ato / mlflow runs list      : {ratio:7.2f}  (goal <= {GOAL_RATIO}, {verdict})"
        )
    print("ato runs list (default page) by project size:")
    for size, value in scaling.items():
        print(f"  {int(size):>7,} runs: {value:6.2f} s")
    with tempfile.TemporaryDirectory(prefix="ato-bench-cli-") as name:
        show_wide(Path(name), WIDE_KEYS // 10 if args.quick else WIDE_KEYS, repeats)


if __name__ == "__main__":
    main()
