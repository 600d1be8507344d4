"""Revision 0005 (series index on metrics): a database at 0004 holding a long series is
upgraded on every backend, gains the index, and its series reads back, downsampled, the same
as before the upgrade."""

from __future__ import annotations

import math

from alembic import command
from sqlalchemy import create_engine, inspect

from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.read.series import downsampled_series
from ato.tracker.storage import migrate
from ato.tracker.storage.database import dispose_engines, get_engine

INDEX = "ix_metrics_run_key_step_value"


def _indexes(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return {str(i["name"]) for i in inspect(engine).get_indexes("metrics")}
    finally:
        engine.dispose()


def test_a_0004_database_with_a_series_upgrades_and_reads_back(db_url: str):
    values = [math.sin(i / 13.0) + (9.0 if i == 421 else 0.0) for i in range(1500)]
    logger = SQLLogger({"experiment": {"project_name": "p", "sql": {"db_path": db_url}}})
    run_id = logger.run()
    for step, value in enumerate(values):
        logger.log_metric("loss", value, step)
        logger.log_metric("acc", -value, step)
    logger.finish()
    with get_engine(db_url).connect() as conn:
        before = downsampled_series(conn, run_id, "loss", 100)
    dispose_engines()
    engine = create_engine(db_url)
    with engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "0004")
    engine.dispose()
    assert INDEX not in _indexes(db_url) and migrate.current(db_url).revision == "0004"

    result = migrate.upgrade(db_url)
    assert result.applied == ["0005", "0006", "0007", "0008", "0009", "0010"]
    assert INDEX in _indexes(db_url)
    with get_engine(db_url).connect() as conn:
        after = downsampled_series(conn, run_id, "loss", 100)
    assert after == before and after.total == 1500
    assert 421 in [p.step for p in after.points]
    (run,) = SQLFinder(db_url).get_runs_in_project("p")
    assert run.metric_values("loss") == values
