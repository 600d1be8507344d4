"""Outages for tests of the write path: a small disk that can be filled (a size-limited tmpfs,
which needs root to mount: CI runs the tests as root) and one switchable outage per backend.

- SQLite: the database file lives on a `SmallDisk`; ``down`` fills the disk (every write fails
  with "database or disk is full"), ``up`` frees it;
- PostgreSQL, MariaDB: the logger connects through a `faultproxy.FaultProxy`; ``down`` makes it
  refuse every connection, ``up`` accepts again. ``direct_url`` reads past the proxy.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text


def require_root() -> None:
    """Fail unless root, who can mount a tmpfs: CI runs the tests as root, and a skip here would
    leave the full-disk and read-only-spool members of the fault kinds untested."""
    if os.geteuid() != 0:
        pytest.fail("this test mounts a size-limited tmpfs, which needs root: run it as root")


class SmallDisk:
    """A tmpfs of ``size`` mounted at ``path`` (unmounted by `close`)."""

    def __init__(self, path: Path, size: str = "32m") -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True
        )
        self._filler = path / f"filler-{uuid.uuid4().hex}"

    def fill(self) -> None:
        """Write zeros until the disk is full."""
        chunk = bytes(64 * 1024)
        with open(self._filler, "ab", buffering=0) as out:
            for size in (len(chunk), 4096, 1):
                with contextlib.suppress(OSError):
                    while True:
                        out.write(chunk[:size])

    def free(self) -> None:
        self._filler.unlink(missing_ok=True)

    def read_only(self) -> None:
        subprocess.run(["mount", "-o", "remount,ro", str(self.path)], check=True)

    def close(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False)


@dataclass
class Outage:
    """A database that ``down`` makes unreachable for ``url`` and ``up`` brings back;
    ``direct_url`` always reaches it (for checking what was stored)."""

    backend: str
    url: str
    direct_url: str
    down: Callable[[], None]
    up: Callable[[], None]


def stored_steps(url: str, run_id: int) -> list[int]:
    """The steps of every metric row of ``run_id`` stored at ``url``, ascending (read directly,
    past any proxy)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT step FROM metrics WHERE run_id = :r ORDER BY step"), {"r": run_id}
            )
            return [row[0] for row in rows]
    finally:
        engine.dispose()
