"""``ato db upgrade`` on SQLite never leaves a partial backup named like a good one: the copy is
written under a temporary name, synced and checked, then renamed; when writing it fails (a full
disk), it is removed, the database is left unchanged and the error says so."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli_db import DATA, ato

from ato.tracker.storage import migrate
from ato.tracker.storage.database import Database, dispose_engines

# Run ``ato db upgrade`` with the file size limited to LIMIT bytes: writes past it fail with
# EFBIG, as they would with ENOSPC on a full disk (SIGXFSZ ignored so that write() fails).
_LIMITED_UPGRADE = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from ato.tracker.cli import main
sys.exit(main(["db", "upgrade", "--db", sys.argv[2]]))
"""


def _database(tmp_path: Path, name: str) -> Path:
    path = tmp_path / "old.db"
    shutil.copy(DATA / name, path)
    return path


def _left_over(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name != path.name)


@pytest.mark.parametrize("name", ["ato-2.2.1-sqlite.db", "ato-3.0.0-sqlite.db"])
@pytest.mark.parametrize("fraction", [0.65, 0.8, 0.95])  # above the 32 KiB -shm file
def test_a_backup_cut_short_by_a_full_disk_is_removed_and_nothing_upgraded(
    tmp_path: Path, name: str, fraction: float
):
    path = _database(tmp_path, name)
    before = Database.from_url(str(path)).schema_state().revision
    limit = int(path.stat().st_size * fraction)
    done = subprocess.run(
        [sys.executable, "-c", _LIMITED_UPGRADE, str(limit), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "could not write the backup copy" in done.stderr
    assert "the partial copy was removed and the database was not changed" in done.stderr
    assert [n for n in _left_over(path) if ".bak" in n] == []  # no truncated backup
    assert Database.from_url(str(path)).schema_state().revision == before


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_backup_that_cannot_be_synced_or_renamed_is_removed(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    failing: str,
):
    path = _database(tmp_path, "ato-2.2.1-sqlite.db")

    def full(*_args: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(migrate.os, failing, full)
    code, _, err = ato(capsys, "db", "upgrade", "--db", str(path))
    monkeypatch.undo()
    dispose_engines()
    assert code != 0
    assert "could not write the backup copy" in err and "No space left on device" in err
    assert [n for n in _left_over(path) if ".bak" in n] == []
    assert Database.from_url(str(path)).schema_state().revision == "0001"


def test_a_good_backup_is_whole_and_no_temporary_file_stays(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
):
    path = _database(tmp_path, "ato-2.2.1-sqlite.db")
    code, _, err = ato(capsys, "db", "upgrade", "--db", str(path))
    dispose_engines()
    assert code == 0, err
    backups = [n for n in _left_over(path) if ".bak" in n]
    assert len(backups) == 1 and backups[0].endswith(".bak")
    copy = sqlite3.connect(path.parent / backups[0])
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        copy.close()
    assert Database.from_url(str(path.parent / backups[0])).schema_state().revision == "0001"
