"""Several processes opening a new database at once create its schema exactly once."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from sqlalchemy import create_engine, func, select

from ato.tracker import SQLFinder
from ato.tracker.storage.schema import HEAD_REVISION, version_table

PROCESSES = 12

FIRST_USE = textwrap.dedent(
    """
    import sys
    from ato.tracker import SQLLogger
    cfg = {"experiment": {"project_name": "race", "sql": {"db_path": sys.argv[1]}}}
    with SQLLogger(cfg) as logger, logger.start_run(tags=[sys.argv[2]]) as run:
        run.log_metric("acc", float(sys.argv[2]), 0)
    """
)


def test_twelve_processes_create_a_new_database_once_and_all_log(db_url):
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", FIRST_USE, db_url, str(index)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(PROCESSES)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
    runs = SQLFinder(db_url, must_exist=True).get_runs_in_project("race")
    assert sorted(run.tags[0] for run in runs) == sorted(str(i) for i in range(PROCESSES))
    assert all(run.status == "completed" and len(run.metrics) == 1 for run in runs)
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(version_table.c.version_num)).scalars().all() == [
                HEAD_REVISION
            ]
            assert conn.execute(select(func.count()).select_from(version_table)).scalar() == 1
    finally:
        engine.dispose()
