"""``ato db upgrade / current / history`` (in-process through ``main(argv)``, and once as the
installed ``ato`` command)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from ato.tracker import SQLFinder
from ato.tracker.cli import main
from ato.tracker.storage.database import dispose_engines
from ato.tracker.storage.schema import HEAD_REVISION, version_table

DATA = Path(__file__).parent / "data"


def ato(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def old_db(tmp_path: Path) -> Path:
    """A copy of the database file written by ato 2.2.1."""
    path = tmp_path / "old.db"
    shutil.copy(DATA / "ato-2.2.1-sqlite.db", path)
    return path


def test_history_lists_the_revisions_oldest_first(capsys):
    code, out, _ = ato(capsys, "db", "history")
    assert code == 0
    lines = [line.split() for line in out.strip().splitlines()]
    assert lines[1][:2] == ["0001", "-"] and "2.x" in out
    assert lines[-1][:2] == [HEAD_REVISION, "(head)"]
    code, out, _ = ato(capsys, "db", "history", "--json")
    data = json.loads(out)
    assert [row["revision"] for row in data][:2] == ["0001", "0002"]
    assert [row["head"] for row in data][-1] is True


def test_current_says_an_ato2_file_is_out_of_date_and_what_to_run(capsys, old_db):
    code, out, _ = ato(capsys, "db", "current", "--db", str(old_db))
    assert code == 0
    assert "schema revision 0001 (schema of ato 2.x)" in out
    assert "not recorded in the database" in out
    assert f"ato db upgrade --db 'sqlite:///{old_db}'" in out
    code, out, _ = ato(capsys, "--json", "db", "current", "--db", str(old_db))
    assert json.loads(out) == {
        "database": f"sqlite:///{old_db}",
        "revision": "0001",
        "recorded": False,
        "head": HEAD_REVISION,
        "up_to_date": False,
    }


def test_runs_commands_on_an_ato2_file_give_the_upgrade_error(capsys, old_db):
    before = old_db.read_bytes()
    for argv in (["runs", "list"], ["runs", "show", "1"], ["runs", "best", "--metric", "acc"]):
        code, out, err = ato(capsys, "--db", str(old_db), *argv)
        assert code == 2 and out == ""
        assert "has schema revision 0001" in err and f"needs revision {HEAD_REVISION}" in err
        assert f"ato db upgrade --db 'sqlite:///{old_db}'" in err
    assert old_db.read_bytes() == before


def test_upgrade_via_ato_db_then_the_runs_read_back(capsys, old_db, monkeypatch):
    monkeypatch.setenv("ATO_DB", f"sqlite:///{old_db}")
    code, out, err = ato(capsys, "db", "upgrade")
    assert code == 0, err
    assert f"Upgraded sqlite:///{old_db} from schema revision 0001" in out
    backups = list(old_db.parent.glob("old.db.0001-*.bak"))
    assert len(backups) == 1 and f"before the upgrade: {backups[0]}" in out
    code, out, _ = ato(capsys, "db", "current")
    assert code == 0 and "Up to date." in out
    code, out, _ = ato(capsys, "runs", "best", "--metric", "acc", "--json")
    assert code == 0 and json.loads(out)["run"]["id"] == 1
    code, out, _ = ato(capsys, "db", "upgrade", "--json")
    assert code == 0
    assert json.loads(out) == {
        "database": f"sqlite:///{old_db}",
        "before": HEAD_REVISION,
        "after": HEAD_REVISION,
        "applied": [],
        "backup": None,
        "recorded": False,
    }
    code, out, _ = ato(capsys, "db", "upgrade")
    assert "already at schema revision" in out and "nothing to do" in out
    assert len(list(old_db.parent.glob("*.bak"))) == 1


def test_upgrading_a_3_0_file_applies_the_later_revisions(capsys, tmp_path):
    path = tmp_path / "v30.db"
    shutil.copy(DATA / "ato-3.0.0-sqlite.db", path)
    code, out, _ = ato(capsys, "db", "upgrade", "--db", str(path))
    # 3.0.0 stored no revision: recognised as 0002 by its tables, then 0003 applied
    assert code == 0 and "from schema revision 0002" in out and "applied 0003" in out
    assert len(list(tmp_path.glob("v30.db.0002-*.bak"))) == 1
    code, out, _ = ato(capsys, "db", "current", "--db", str(path))
    assert "not recorded" not in out and "Up to date." in out


@pytest.mark.parametrize("action", ["upgrade", "current"])
def test_db_commands_refuse_missing_and_foreign_files(capsys, tmp_path, action):
    missing = tmp_path / "missing.db"
    code, _, err = ato(capsys, "db", action, "--db", str(missing))
    assert code == 2 and "no tracker database at" in err
    assert not missing.exists()
    notes = tmp_path / "notes.db"
    with sqlite3.connect(notes) as con:
        con.execute("CREATE TABLE notes (text TEXT)")
    before = notes.read_bytes()
    code, _, err = ato(capsys, "db", action, "--db", str(notes))
    assert code == 2 and "has no tracker tables" in err
    assert notes.read_bytes() == before


def test_a_database_of_a_newer_ato_says_to_upgrade_ato(capsys, db_url):
    SQLFinder(db_url).list_projects()
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(version_table.update().values(version_num="0999"))
    finally:
        engine.dispose()
    dispose_engines()
    code, out, _ = ato(capsys, "db", "current", "--db", db_url)
    assert code == 0 and "0999 (unknown to this ato)" in out and "pip install -U" in out
    for argv in (["db", "upgrade"], ["runs", "list"]):
        code, _, err = ato(capsys, *argv, "--db", db_url)
        assert code == 2 and "newer than this ato-tracker" in err and "pip install -U" in err


def test_the_installed_command_upgrades(old_db):
    def run(*argv: str) -> Any:
        return subprocess.run(
            [sys.executable, "-m", "ato.tracker.cli", *argv, "--db", str(old_db)],
            capture_output=True,
            text=True,
        )

    result = run("db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "Backup of the database before the upgrade" in result.stdout
    assert run("db", "current").stdout.rstrip().endswith("Up to date.")
