"""Peer trackers for bench_tracker's durable-write comparison (imported as ``tracker_peers``).

Each peer logs the same rows as ato (one metric ``loss`` = ``step * 0.5`` per step) into a
local store under a temporary folder, with no network: Trackio into its local SQLite store
(``TRACKIO_DIR``), Aim into a repository folder, W&B in offline mode (``WANDB_MODE=offline``,
no login, its run file under ``dir``). The timed part is every log call plus the call after
which the rows are on disk: ``trackio.finish()`` (joins its sender thread), Aim's
``Run.close()``, W&B's ``Run.finish()`` (waits for its service to write the run file), ato's
``flush()`` + ``finish()``. A peer that is not installed or fails is left out with the reason.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ato.tracker import SQLLogger


@dataclass
class Writer:
    """A run opened (untimed) in a peer: ``log(step)`` logs one row, ``finish()`` returns once
    every row is stored."""

    log: Callable[[int], object]
    finish: Callable[[], object]


def ato(tmp: Path, index: int) -> Writer:
    """ato's SQLLogger into a fresh SQLite file."""
    db = tmp / f"peer-ato{index}.db"
    logger = SQLLogger({"experiment": {"project_name": "bench", "sql": {"db_path": str(db)}}})
    logger.run()

    def finish() -> None:
        logger.flush()
        logger.finish()

    return Writer(lambda step: logger.log_metric("loss", step * 0.5, step), finish)


def trackio(tmp: Path, index: int) -> Writer:
    """Trackio's local mode: rows queued by ``log``, written to SQLite by its sender thread."""
    os.environ["TRACKIO_DIR"] = str(tmp / "trackio")  # read once, when trackio is imported
    os.environ.update(HF_HUB_OFFLINE="1", HF_HUB_DISABLE_TELEMETRY="1")
    import trackio

    quiet = contextlib.redirect_stdout(io.StringIO())  # it prints where the dashboard is
    with quiet:
        trackio.init(
            project=f"bench{index}", name="run", embed=False, auto_log_cpu=False, auto_log_gpu=False
        )

    def finish() -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            trackio.finish()

    return Writer(lambda step: trackio.log({"loss": step * 0.5}, step=step), finish)


def aim(tmp: Path, index: int) -> Writer:
    """Aim's ``Run.track`` into a repository of its own (no system metrics, no terminal capture)."""
    from aim import Run

    run = Run(
        repo=str(tmp / f"aim{index}"),
        experiment="bench",
        system_tracking_interval=None,
        log_system_params=False,
        capture_terminal_logs=False,
    )
    return Writer(lambda step: run.track(step * 0.5, name="loss", step=step), run.close)


def wandb(tmp: Path, index: int) -> Writer:
    """W&B offline: ``Run.log`` hands each row to its local service, which writes the run file."""
    os.environ["WANDB_MODE"] = "offline"
    os.environ["WANDB_SILENT"] = "true"
    import wandb as wandb_sdk

    folder = tmp / f"wandb{index}"
    folder.mkdir()
    settings = wandb_sdk.Settings(
        console="off",
        save_code=False,
        disable_git=True,
        x_disable_stats=True,
        x_disable_meta=True,
        x_disable_machine_info=True,
        x_save_requirements=False,
    )
    run = wandb_sdk.init(project="bench", dir=str(folder), mode="offline", settings=settings)
    return Writer(lambda step: run.log({"loss": step * 0.5}, step=step), run.finish)


def close_wandb() -> None:
    """Stop W&B's service process, if W&B was used."""
    import sys

    if "wandb" in sys.modules:
        sys.modules["wandb"].teardown()


PEERS: dict[str, Callable[[Path, int], Writer]] = {"trackio": trackio, "aim": aim, "wandb": wandb}


def timed(writer: Writer, n: int) -> tuple[float, list[int]]:
    """Seconds from the first log call until ``finish()`` returned, and nanoseconds of each
    of the ``n`` log calls."""
    clock = time.perf_counter_ns
    calls: list[int] = []
    start = time.perf_counter()
    for step in range(n):
        before = clock()
        writer.log(step)
        calls.append(clock() - before)
    writer.finish()
    return time.perf_counter() - start, calls
