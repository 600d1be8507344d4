"""The local spool: metrics (and run endings) that could not reach their database.

When a database stays unreachable past ``spool_after`` seconds, or at exit, a buffer appends
its rows to one JSON-lines file per writer in the spool directory (see
`ato.tracker.settings.default_spool_dir`)::

    {"ato_spool": 1, "db": "<URL, password hidden>", "writer": <writer id>}
    {"m": [run_id, key, value, step, unix_time, seq]}
    {"finish": [run_id, status, unix_time]}

Each line is written whole and the file is ``fsync``-ed, so a crash loses at most the line
being written (a truncated last line is skipped when read). `replay` writes a file into
its database and deletes it; rows keep their writer id and sequence number, so replaying a
file twice, or replaying rows a flush already wrote, stores each row once. Replays happen
automatically on the next successful flush of the same logger, or with ``ato sync``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine, Table, update
from sqlalchemy.engine import make_url

from .engine import normalize_url, run_transaction, sqlite_file
from .models import RunRecord
from .settings import hide_password

_log = logging.getLogger("ato.tracker")
_write_lock = threading.Lock()
_runs = cast(Table, RunRecord.__table__)

SPOOL_FORMAT = 1
# (run_id, key, value, step, unix time, seq), as buffered (see ato.tracker.buffer)
SpoolRow = tuple[int, str, float, "int | None", float, int]


def spool_identity(db_url: str) -> str:
    """The database as a spool file names it: the URL with the password hidden and a SQLite
    path made absolute (``ato sync`` may run from another directory)."""
    url = normalize_url(db_url)
    path = sqlite_file(url)
    if path is not None:
        url = make_url(url).set(database=str(path.resolve())).render_as_string(False)
    return hide_password(url)


def spool_path(directory: Path, db_url: str, writer: int) -> Path:
    """The spool file of ``writer`` for ``db_url`` in ``directory``."""
    digest = hashlib.sha256(spool_identity(db_url).encode()).hexdigest()[:12]
    return directory / f"{digest}-{writer:016x}.jsonl"


def save(
    path: Path,
    db_url: str,
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
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as out:
            if out.tell() == 0:
                header = {"ato_spool": SPOOL_FORMAT, "db": spool_identity(db_url), "writer": writer}
                out.write(json.dumps(header) + "\n")
            out.write("\n".join(lines) + "\n")
            out.flush()
            os.fsync(out.fileno())
    return count


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


def pending_files(directory: Path, db_url: str) -> list[SpoolFile]:
    """The spool files in ``directory`` that belong to the database ``db_url``, oldest first."""
    if not directory.is_dir():
        return []
    identity = spool_identity(db_url)
    files = sorted(directory.glob("*.jsonl"), key=lambda p: p.stat().st_mtime)
    return [s for p in files if (s := read(p)) is not None and s.db == identity]


def replay(engine: Engine, spooled: SpoolFile, batch_size: int = 5000) -> tuple[int, int]:
    """Write a spool file into ``engine``'s database exactly once, then delete the file.

    Returns:
        ``(metric rows now stored - some may have been stored before and were skipped,
        runs whose end was recorded now)``.

    Raises:
        sqlalchemy.exc.DBAPIError, DatabaseTimeoutError: the database cannot be written; the
            file stays for the next attempt.
    """
    from .buffer import MetricWriter, write_isolating  # the buffer imports this module

    writer = MetricWriter(engine.dialect)
    inserted = 0
    rows = spooled.rows
    for start in range(0, len(rows), batch_size):
        inserted += write_isolating(
            engine, writer, rows[start : start + batch_size], spooled.writer
        )
    ended = sum(_record_end(engine, *finish) for finish in spooled.finishes)
    spooled.path.unlink(missing_ok=True)
    return inserted, ended


def _record_end(engine: Engine, run_id: int, status: str, unix_time: float) -> int:
    end = datetime.fromtimestamp(unix_time, timezone.utc)
    stmt = (
        update(_runs)
        .where(_runs.c.id == run_id, _runs.c.end_time.is_(None))
        .values(status=status, end_time=end)
    )
    return int(run_transaction(engine, lambda conn: conn.execute(stmt).rowcount))
