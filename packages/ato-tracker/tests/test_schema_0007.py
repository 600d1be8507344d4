"""Revision 0007 (artifact name, size, SHA-256, stored flag): a database at 0006 with
artifacts upgrades on every backend; its artifacts read back as references named by path."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect

from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.storage import migrate
from ato.tracker.storage.database import dispose_engines


def _columns(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return {str(c["name"]) for c in inspect(engine).get_columns("artifacts")}
    finally:
        engine.dispose()


def test_a_0006_database_with_artifacts_upgrades_and_reads_back(db_url: str):
    logger = SQLLogger.from_url(db_url, "p")
    run_id = logger.run()
    logger.log_artifact(None, "ckpt/model.pt", "model", {"epoch": 3})
    logger.finish()
    dispose_engines()
    engine = create_engine(db_url)
    with engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "0006")
    engine.dispose()
    assert "sha256" not in _columns(db_url) and migrate.current(db_url).revision == "0006"

    assert migrate.upgrade(db_url).applied == ["0007", "0008", "0009", "0010"]
    assert {"name", "size", "sha256", "stored"} <= _columns(db_url)
    (artifact,) = SQLFinder(db_url).get_artifacts(run_id)
    assert (artifact.name, artifact.path, artifact.metadata) == (
        "ckpt/model.pt",
        "ckpt/model.pt",
        {"epoch": 3},
    )
    assert (artifact.size, artifact.sha256, artifact.stored) == (None, None, False)
