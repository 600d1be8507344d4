"""The local spool: metrics (and run endings) that could not reach their database.

When a database stays unreachable past ``spool_after`` seconds, or at exit, a buffer appends
its rows to one JSON-lines file per writer in the spool directory (see
`ato.tracker.storage.settings.default_spool_dir`)::

    {"ato_spool": 1, "db": "<URL, password hidden>", "writer": <writer id>}
    {"m": [run_id, key, value, step, unix_time, seq]}
    {"finish": [run_id, status, unix_time]}

Each line is written whole and the file is ``fsync``-ed, so a crash loses at most the line
being written (a truncated last line is skipped when read). `replay` writes a file into
its database and deletes it; rows keep their writer id and sequence number, so replaying a
file twice, or replaying rows a flush already wrote, stores each row once. Replays happen
automatically on the next successful flush of the same logger, or with ``ato sync``.

A logger may append to its file while ``ato sync`` (another process) or its own flush thread
replays it. So a replay first claims the file: under an exclusive ``flock`` it renames the file
to ``<name>.<random>.jsonl`` and then reads, writes and deletes that claimed file only. A
writer appends under the same lock and, once it holds it, checks that its open file is still
the one at the path; if a replayer renamed it away meanwhile it opens a new file. Rows appended
after a replay read the file are therefore never deleted with it. Both sides hold the lock only
for an append or a rename, and wait for it at most `LOCK_WAIT_S` seconds. (Without ``fcntl``,
on Windows, only writers of one process are serialized.)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine, Table, update

from ..storage.database import Database
from ..storage.engine import run_transaction
from ..storage.models import RunRecord
from .inserts import MetricWriter, write_isolating

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

_log = logging.getLogger("ato.tracker")
_write_lock = threading.Lock()
_runs = cast(Table, RunRecord.__table__)

SPOOL_FORMAT = 1
LOCK_WAIT_S = 30.0  # at most this long for another process's append or rename of a file
# (run_id, key, value, step, unix time, seq), as buffered (see ato.tracker.write.buffer)
SpoolRow = tuple[int, str, float, "int | None", float, int]


def spool_identity(db: Database | str) -> str:
    """The database as a spool file names it: the URL with the password hidden and a SQLite
    path made absolute (``ato sync`` may run from another directory); see
    `ato.tracker.storage.database.Database.identity`. ``db``: a `Database`, or a URL string
    made into one."""
    return _database(db).identity


def _database(db: Database | str) -> Database:
    return db if isinstance(db, Database) else Database.from_url(db)


def spool_path(directory: Path, db: Database | str, writer: int) -> Path:
    """The spool file of ``writer`` for the database ``db`` in ``directory``."""
    digest = hashlib.sha256(spool_identity(db).encode()).hexdigest()[:12]
    return directory / f"{digest}-{writer:016x}.jsonl"


def save(
    path: Path,
    db: Database | str,
    writer: int,
    rows: Iterable[SpoolRow],
    finishes: Iterable[tuple[int, str, float]] = (),
) -> int:
    """Append ``rows`` and run endings ``(run_id, status, unix_time)`` to the spool file
    ``path`` (created with its header, mode 0600); return the number of rows appended.

    Raises:
        OSError: the file cannot be written (the caller reports the rows as lost).
    """
    lines = [json.dumps({"m": list(row)}) for row in rows]
    count = len(lines)
    lines += [json.dumps({"finish": list(finish)}) for finish in finishes]
    if not lines:
        return 0
    with _write_lock:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with os.fdopen(_open_current(path), "a", encoding="utf-8") as out:
            if out.tell() == 0:
                header = {"ato_spool": SPOOL_FORMAT, "db": spool_identity(db), "writer": writer}
                out.write(json.dumps(header) + "\n")
            out.write("\n".join(lines) + "\n")
            out.flush()
            os.fsync(out.fileno())
    return count


def _new_write_lock_in_child() -> None:
    """A forked child's copy of the lock may be held by a parent thread that is not there."""
    global _write_lock
    _write_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_write_lock_in_child)


def _open_current(path: Path) -> int:
    """A descriptor appending to ``path``, locked (closing it unlocks), of the file that is
    at ``path`` now: a file a replayer claimed before the lock was ours is left alone.

    Raises:
        OSError: the file cannot be opened; TimeoutError: it stayed locked `LOCK_WAIT_S`.
    """
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            _lock(fd, path, deadline)
            if _is_at(fd, path):
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)


def _lock(fd: int, path: Path, deadline: float) -> None:
    """Take the exclusive ``flock`` of ``fd``, polling until ``deadline`` (monotonic).

    Raises:
        TimeoutError: another process held it past the deadline.
    """
    if fcntl is None:
        return
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"the spool file {path} stayed locked by another process for {LOCK_WAIT_S:g} s"
                ) from None
            time.sleep(0.002)


def _is_at(fd: int, path: Path) -> bool:
    try:
        at_path = os.stat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (at_path.st_dev, at_path.st_ino) == (opened.st_dev, opened.st_ino)


@contextmanager
def _claimed(path: Path) -> Iterator[Path | None]:
    """Rename the spool file ``path`` (under its lock) to a name of this replay's own and
    yield that name, or ``None`` when the file is gone (another replay claimed it); the
    claimed file is deleted when the block completes, and named ``path`` again if it fails."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        yield None
        return
    try:
        _lock(fd, path, time.monotonic() + LOCK_WAIT_S)
        if not _is_at(fd, path):
            claimed = None
        else:
            claimed = path.with_name(f"{path.name.split('.')[0]}.{os.urandom(4).hex()}.jsonl")
            os.rename(path, claimed)
    finally:
        os.close(fd)
    try:
        yield claimed
    except BaseException:
        if claimed is not None:
            _unclaim(claimed, path)
        raise
    if claimed is not None:
        claimed.unlink(missing_ok=True)


def _unclaim(claimed: Path, path: Path) -> None:
    """Give a claimed file whose replay failed its name back, unless a writer made a new file
    there meanwhile (then the claimed file stays, see `writer_files`)."""
    try:
        os.link(claimed, path)
    except OSError:
        return
    claimed.unlink(missing_ok=True)


def writer_files(path: Path) -> list[Path]:
    """The spool file ``path`` of one writer and the files claimed from it by replays that
    did not finish (their rows were not all written): the claimed ones first."""
    claimed = sorted(path.parent.glob(f"{path.name.split('.')[0]}.*.jsonl"))
    return [*claimed, path] if path.exists() else claimed


@dataclass
class SpoolFile:
    """A parsed spool file: its ``db`` (password hidden), ``writer`` id, metric ``rows`` and
    run endings ``finishes`` (``(run_id, status, unix_time)``)."""

    path: Path
    db: str
    writer: int
    rows: list[SpoolRow] = field(default_factory=list)
    finishes: list[tuple[int, str, float]] = field(default_factory=list)


def read(path: Path) -> SpoolFile | None:
    """Parse a spool file; ``None`` if it is not one (no valid header)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    header = _parse(lines[0]) if lines else None
    if not isinstance(header, dict) or header.get("ato_spool") != SPOOL_FORMAT:
        return None
    spooled = SpoolFile(path, str(header.get("db")), int(header.get("writer", 0)))
    for number, line in enumerate(lines[1:], start=2):
        entry = _parse(line)
        if isinstance(entry, dict) and "m" in entry:
            spooled.rows.append(cast(SpoolRow, tuple(entry["m"])))
        elif isinstance(entry, dict) and "finish" in entry:
            spooled.finishes.append(cast(tuple[int, str, float], tuple(entry["finish"])))
        elif number != len(lines):  # only the last line may be cut short by a crash
            _log.warning("ato.tracker: %s line %d is not a spool entry; skipped", path, number)
    return spooled


def _parse(line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return None


def pending_files(directory: Path, db: Database | str) -> list[SpoolFile]:
    """The spool files in ``directory`` that belong to the database ``db`` (a `Database` or a
    URL string), oldest first."""
    if not directory.is_dir():
        return []
    identity = spool_identity(db)
    files = sorted((m, p) for p in directory.glob("*.jsonl") if (m := _mtime(p)) is not None)
    return [s for _, p in files if (s := read(p)) is not None and s.db == identity]


def _mtime(path: Path) -> float | None:
    """``path``'s modification time, or ``None`` if it vanished (a replay took it)."""
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return None


def replay(engine: Engine, spooled: SpoolFile, batch_size: int = 5000) -> tuple[int, int]:
    """Write a spool file into ``engine``'s database exactly once, then delete the file.

    The file is claimed first (see the module docstring) and read again, so rows a logger
    appended after ``spooled`` was read are written too, and rows it appends later go to a
    new file. If the file is gone (another replay took it), the rows of ``spooled`` are
    written (each stored once).

    Returns:
        ``(metric rows now stored - some may have been stored before and were skipped,
        runs whose end was recorded now)``.

    Raises:
        sqlalchemy.exc.DBAPIError, DatabaseTimeoutError: the database cannot be written; the
            (claimed) file stays for the next attempt.
        TimeoutError: another process held the file's lock for `LOCK_WAIT_S` seconds.
    """
    with _claimed(spooled.path) as claimed:
        if claimed is not None:
            spooled = read(claimed) or SpoolFile(claimed, spooled.db, spooled.writer)
        writer = MetricWriter(engine.dialect)
        inserted = 0
        rows = spooled.rows
        for start in range(0, len(rows), batch_size):
            inserted += write_isolating(
                engine, writer, rows[start : start + batch_size], spooled.writer
            )
        ended = sum(record_end(engine, *finish) for finish in spooled.finishes)
    return inserted, ended


def record_end(engine: Engine, run_id: int, status: str, unix_time: float) -> int:
    """Record the end of run ``run_id`` (``status`` at ``unix_time``, seconds) unless its end
    is recorded already; return 1 if it was recorded now, else 0.

    Raises:
        sqlalchemy.exc.DBAPIError, DatabaseTimeoutError: the database cannot be written.
    """
    end = datetime.fromtimestamp(unix_time, timezone.utc)
    stmt = (
        update(_runs)
        .where(_runs.c.id == run_id, _runs.c.end_time.is_(None))
        .values(status=status, end_time=end)
    )
    return int(run_transaction(engine, lambda conn: conn.execute(stmt).rowcount))
