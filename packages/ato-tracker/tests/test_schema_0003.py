"""Revision 0003 (exactly-once columns, value classes, exact name collation) upgrades a
database at revision 0002 holding data, on every backend, without losing a row."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone

from sqlalchemy import MetaData, create_engine, insert, select

from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.storage import migrate
from ato.tracker.storage.migrate import alembic_config


def _database_at_0002_with_rows(url: str) -> None:
    """Tables as revision 0002 makes them, with a project, a run and metrics written the 3.0
    way: finite values, and NULL for NaN/+-inf."""
    from alembic import command

    engine = create_engine(url)
    now = datetime.now(timezone.utc)
    try:
        with engine.connect() as conn:
            command.upgrade(alembic_config(conn), "0002")
            conn.commit()
        tables = MetaData()
        tables.reflect(engine)
        with engine.begin() as conn:
            conn.execute(
                insert(tables.tables["projects"]), [{"name": "MNIST_x", "created_at": now}]
            )
            project_id = conn.execute(select(tables.tables["projects"].c.id)).scalar_one()
            conn.execute(
                insert(tables.tables["experiments"]),
                [
                    {
                        "project_id": project_id,
                        "config": _json(url, {"lr": 0.1}),
                        "structural_hash": "h",
                        "tags": _json(url, ["old"]),
                        "status": "completed",
                        "start_time": now,
                        "end_time": now,
                    }
                ],
            )
            run_id = conn.execute(select(tables.tables["experiments"].c.id)).scalar_one()
            rows = [
                {"run_id": run_id, "key": key, "value": value, "step": step, "timestamp": now}
                for step, (key, value) in enumerate(
                    [("Loss", 0.5), ("Loss", None), ("Loss", -1.25), ("acc", 1e300)]
                )
            ]
            conn.execute(insert(tables.tables["metrics"]), rows)
    finally:
        engine.dispose()


def _json(url: str, value: object) -> object:
    """MariaDB's JSON columns reflect as text: pass JSON text there."""
    return json.dumps(value) if url.startswith("mysql") else value


def test_a_0002_database_with_data_upgrades_to_0003_without_loss(db_url):
    _database_at_0002_with_rows(db_url)
    assert migrate.current(db_url).revision == "0002"
    result = migrate.upgrade(db_url)
    assert result.applied == ["0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010"]
    (old,) = SQLFinder(db_url).get_runs_in_project("MNIST_x")
    values = old.metric_values("Loss")
    assert values[0] == 0.5 and math.isnan(values[1]) and values[2] == -1.25
    assert old.metric_values("acc") == [1e300]
    assert [m.step for m in old.metrics] == [0, 1, 2, 3]
    assert old.config.lr == 0.1 and old.tags == ["old"] and old.status == "completed"
    # the upgraded database takes the new features: exact names, exact values, exactly once
    logger = SQLLogger({"experiment": {"project_name": "mnist_x", "sql": {"db_path": db_url}}})
    with logger.start_run() as run:
        run.log_metric("loss", math.inf, 0)
        run.log_metric("Loss", -math.inf, 0)
    finder = SQLFinder(db_url)
    assert [p.name for p in finder.list_projects()] == ["MNIST_x", "mnist_x"]
    (new,) = finder.get_runs_in_project("mnist_x")
    assert new.metric_values("loss") == [math.inf] and new.metric_values("Loss") == [-math.inf]
    assert finder.find_best_run("MNIST_x", "Loss", "min").id == old.id
