"""``ato search status ID`` and ``ato search workers N -- COMMAND``: watch a search shared
through the database, and start several local worker processes of it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Sequence
from typing import IO, Any

from rich.console import Console
from rich.table import Table

from ..errors import UsageError
from ..write.search_jobs import JOB_STATES, SearchJobQueue

#: Environment variables each worker started by ``ato search workers`` gets.
WORKER_INDEX_ENV, WORKER_COUNT_ENV = "ATO_SEARCH_WORKER", "ATO_SEARCH_WORKERS"


def show_status(db_url: str, search_id: str, as_json: bool, console: Console, out: IO[str]) -> None:
    """Print the job counts by state and one line per worker of ``search_id``.

    Raises:
        UsageError: the database holds no shared search ``search_id``.
    """
    try:
        status = SearchJobQueue(db_url).status(search_id)
    except KeyError:
        raise UsageError(
            f"no shared search {search_id!r} in {db_url} (searches run with a DatabaseExecutor "
            f"are listed; see `ato runs list --search ID` for the others)"
        ) from None
    if as_json:
        json.dump(status.to_dict(), out, indent=2, default=str)
        out.write("\n")
        return
    counts = ", ".join(f"{status.counts[s]} {s}" for s in JOB_STATES)
    state = "finished" if status.finished else "running"
    answer = f", answer in run {status.answer_run}" if status.answer_run is not None else ""
    console.print(f"search {search_id}: {state}; jobs: {counts}{answer}")
    table = Table("worker", "done", "failed", "running job", "heartbeat (UTC)")
    for w in status.workers:
        beat = "" if w.heartbeat is None else w.heartbeat.strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(w.worker, str(w.done), str(w.failed), w.running or "", beat)
    console.print(table)


def run_workers(count: int, command: Sequence[str], console: Console) -> int:
    """Start ``count`` copies of ``command`` (each gets ``ATO_SEARCH_WORKER`` = 0..count-1 and
    ``ATO_SEARCH_WORKERS`` = count), pass SIGINT/SIGTERM/SIGUSR1 on to them, wait for all;
    the exit code is the largest of theirs.

    Raises:
        UsageError: ``count`` is below 1 or ``command`` is empty.
    """
    if count < 1:
        raise UsageError(f"ato search workers needs N >= 1, got {count}")
    if not command:
        raise UsageError("ato search workers N -- COMMAND [ARGS...]: give the command to run")
    children = []
    for index in range(count):
        env = {**os.environ, WORKER_INDEX_ENV: str(index), WORKER_COUNT_ENV: str(count)}
        children.append(subprocess.Popen(list(command), env=env))  # noqa: S603 - the user's command
    console.print(f"started {count} workers: {' '.join(command)}")

    def forward(signum: int, _frame: Any) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    names = ("SIGINT", "SIGTERM", "SIGUSR1")
    signals = [getattr(signal, name) for name in names if hasattr(signal, name)]
    previous = {s: signal.signal(s, forward) for s in signals}
    try:
        codes = [child.wait() for child in children]
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    failed = sum(code != 0 for code in codes)
    console.print(f"{count} workers ended, {failed} with an error")
    return max(codes, key=abs)
