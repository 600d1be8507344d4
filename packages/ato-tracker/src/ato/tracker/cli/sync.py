"""``ato sync``: write the metrics waiting in the local spool into their database."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from ..storage.database import Database
from ..write import spool


def sync(db_url: str, spool_dir: Path, out: IO[str]) -> int:
    """Replay every spool file of ``db_url`` found in ``spool_dir`` (exactly once: rows
    already stored are skipped) and delete it; print one line per file and a total.

    Returns:
        The number of spool files replayed.

    Raises:
        sqlalchemy.exc.DBAPIError, DatabaseTimeoutError: the database cannot be written;
            the files not yet replayed stay.
    """
    database = Database.from_url(db_url)
    files = spool.pending_files(spool_dir, database)
    shown = database.shown_url
    if not files:
        out.write(f"nothing to sync: no spool files for {shown} in {spool_dir}\n")
        return 0
    engine = database.engine()
    total = 0
    for spooled in files:
        inserted, ended = spool.replay(engine, spooled)
        total += inserted
        out.write(
            f"{spooled.path.name}: {inserted} metrics stored (rows stored before were "
            f"skipped), {ended} run end(s) recorded\n"
        )
    out.write(f"synced {len(files)} spool file(s), {total} metrics, into {shown}\n")
    return len(files)
