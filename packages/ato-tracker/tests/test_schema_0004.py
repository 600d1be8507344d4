"""Revision 0004 (run provenance and heartbeat): a database at revision 0002 holding runs -
the ato-tracker 3.0.0 fixture file, and the same shape built on PostgreSQL and MariaDB - is
upgraded, its runs read back unchanged with empty provenance, and new runs record theirs."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.errors import SchemaOutdatedError
from ato.tracker.storage import migrate
from ato.tracker.storage.database import dispose_engines

ATO30 = Path(__file__).parent / "data" / "ato-3.0.0-sqlite.db"


def _config(url: str, project: str) -> dict:
    return {"experiment": {"project_name": project, "sql": {"db_path": url}}}


def _check_upgraded(url: str, project: str, run_ids: list[int]) -> None:
    columns = {c["name"] for c in inspect(create_engine(url)).get_columns("experiments")}
    assert {"provenance", "heartbeat"} <= columns
    finder = SQLFinder(url, must_exist=True)
    runs = finder.get_runs_in_project(project)
    assert [run.id for run in runs] == run_ids
    for run in runs:
        assert run.provenance == {} and run.heartbeat is None
        assert run.status in ("completed", "failed", "crashed")  # old 'running' rows: crashed
    logger = SQLLogger(_config(url, project))
    with logger.start_run() as new:
        new.log_metric("acc", 0.5, 0)
    fresh = SQLFinder(url).find_run(new.id)
    assert fresh.provenance.argv and fresh.heartbeat is not None and fresh.status == "completed"


def test_the_3_0_fixture_file_upgrades_to_0004(tmp_path):
    path = tmp_path / ATO30.name
    shutil.copy(ATO30, path)
    url = f"sqlite:///{path}"
    with pytest.raises(SchemaOutdatedError):
        SQLFinder(url, must_exist=True).list_projects()
    result = migrate.upgrade(url)
    assert (result.before, result.applied) == (
        "0002",
        ["0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010"],
    )
    ids = [
        run_id
        for (run_id,) in create_engine(url)
        .connect()
        .execute(
            text(
                "SELECT id FROM experiments WHERE project_id = (SELECT id FROM projects WHERE name = 'cls30') ORDER BY id"
            )
        )
    ]
    assert ids
    _check_upgraded(url, "cls30", ids)
    assert migrate.upgrade(url).applied == []  # idempotent
    dispose_engines()


@pytest.mark.parametrize("server", ["postgresql", "mysql"])
def test_a_server_database_at_0002_with_runs_upgrades(server, request):
    url = request.getfixturevalue("postgres_url" if server == "postgresql" else "mysql_url")
    engine = create_engine(url)
    started = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    try:
        with engine.begin() as conn:
            command.upgrade(migrate.alembic_config(conn), "0002")
            conn.execute(
                text("INSERT INTO projects (name, created_at) VALUES ('old', :t)"), {"t": started}
            )
            for status in ("completed", "running"):
                conn.execute(
                    text(
                        "INSERT INTO experiments (project_id, config, structural_hash, tags,"
                        " status, start_time) SELECT id, :c, 'h', '[]', :s, :t FROM projects"
                    ),
                    {"c": '{"lr": 0.1}', "s": status, "t": started + timedelta(seconds=1)},
                )
        assert migrate.current(url).revision == "0002"
    finally:
        engine.dispose()
    result = migrate.upgrade(url)
    assert (result.before, result.applied) == (
        "0002",
        ["0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010"],
    )
    runs = SQLFinder(url, must_exist=True).get_runs_in_project("old")
    assert [run.status for run in runs] == ["completed", "crashed"]  # silent since January
    assert runs[0].config.lr == 0.1
    _check_upgraded(url, "old", [runs[0].id, runs[1].id])
    dispose_engines()
