"""Several processes logging into one database at once (installed ato-tracker wheel).

SQLite always; PostgreSQL and MariaDB when ``ATO_TEST_POSTGRES_URL`` / ``ATO_TEST_MYSQL_URL`` are
set (with ``ATO_REQUIRE_SERVICES=1`` a missing URL fails instead of skipping).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid

import pytest

from ato import tracker

PROCESSES = 4
METRICS_PER_PROCESS = 5_000

WRITER = textwrap.dedent(
    """
    import sys
    from ato.tracker import SQLLogger
    url, project, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    cfg = {"experiment": {"project_name": project, "sql": {"db_path": url}}}
    with SQLLogger(cfg, batch_size=500) as logger:
        with logger.start_run(tags=["worker"]) as run:
            for step in range(count):
                run.log_metric("loss", 1.0 / (step + 1), step)
    """
)


def _url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    env = {"postgresql": "ATO_TEST_POSTGRES_URL", "mysql": "ATO_TEST_MYSQL_URL"}[request.param]
    url = os.environ.get(env, "")
    if not url:
        if os.environ.get("ATO_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{env} is not set but ATO_REQUIRE_SERVICES=1 requires this server")
        pytest.skip(f"{env} is not set (ATO_REQUIRE_SERVICES=1 turns this skip into a failure)")
    _reset_schema(url)
    return url


def _reset_schema(url: str) -> None:
    """Start from an empty server database: earlier sessions may leave tables of any revision."""
    from sqlalchemy import create_engine

    from ato.tracker.storage.database import dispose_engines
    from ato.tracker.storage.models import Base
    from ato.tracker.storage.schema import version_table

    dispose_engines()
    engine = create_engine(url)
    try:
        Base.metadata.drop_all(engine)
        version_table.drop(engine, checkfirst=True)
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def shared_db(request, tmp_path) -> str:
    return _url(request, tmp_path)


def test_four_writers_lose_nothing_and_all_runs_complete(shared_db):
    project = f"concurrency-{uuid.uuid4().hex[:12]}"
    # Create the schema once first, so the writers race only on rows.
    tracker.SQLFinder(shared_db)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, shared_db, project, str(METRICS_PER_PROCESS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=600)
        assert worker.returncode == 0, err
        assert "database is locked" not in err
    runs = tracker.SQLFinder(shared_db).get_runs_in_project(project)
    assert len(runs) == PROCESSES
    assert all(run.status == "completed" and run.end_time is not None for run in runs)
    assert sum(len(run.metrics) for run in runs) == PROCESSES * METRICS_PER_PROCESS
    for run in runs:
        assert [m.step for m in run.metrics] == list(range(METRICS_PER_PROCESS))


def test_schema_creation_races_between_processes(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    code = "import sys; from ato.tracker import SQLFinder; SQLFinder(sys.argv[1])"
    workers = [
        subprocess.Popen([sys.executable, "-c", code, url], stderr=subprocess.PIPE, text=True)
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
    assert tracker.SQLFinder(url).list_projects() == []
