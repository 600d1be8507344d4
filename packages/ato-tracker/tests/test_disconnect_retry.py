"""A connection dropped outside metric batches - during ``SQLLogger()``'s schema check,
``run()`` or ``log_artifact()`` - is retried like a metric batch, and what these calls
insert is stored exactly once also when the reply to COMMIT was lost (the row is found again
before a retry inserts it)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from ato.tracker import SQLLogger
from ato.tracker.storage.database import dispose_engines, get_engine
from ato.tracker.storage.models import ArtifactRecord, ProjectRecord, RunRecord


def _count(url: str, table: Any) -> int:
    with get_engine(url).connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _logger_through(fault_proxy: Any, server_db_url: str) -> SQLLogger:
    """A logger whose connections go through the proxy, on a database whose schema and
    project exist already (so that the statements armed below are the next ones sent)."""
    first = SQLLogger.from_url(server_db_url, "p")
    first.run()
    first.finish()
    dispose_engines()
    return SQLLogger.from_url(fault_proxy.url(server_db_url), "p")


@pytest.mark.parametrize("pattern", [b"ato_schema_version", b"<catalog>", b"SELECT"])
def test_a_connection_dropped_during_the_schema_check_is_retried(
    fault_proxy: Any, server_db_url: str, pattern: bytes
):
    SQLLogger.from_url(server_db_url, "p")  # the schema exists: opening only checks it
    dispose_engines()
    if pattern == b"<catalog>":  # the listing of the tables
        postgres = server_db_url.startswith("postgresql")
        pattern = b"pg_catalog" if postgres else b"SHOW FULL TABLES"
    fault_proxy.drop_reply_to(pattern)
    logger = SQLLogger.from_url(fault_proxy.url(server_db_url), "p")
    assert fault_proxy.replies_dropped == 1
    assert logger.run() > 0
    logger.finish()


@pytest.mark.parametrize(
    "pattern", [b"INSERT INTO experiments", b"COMMIT", b"SELECT projects"], ids=str
)
def test_a_connection_dropped_while_a_run_starts_stores_the_run_once(
    fault_proxy: Any, server_db_url: str, pattern: bytes
):
    logger = _logger_through(fault_proxy, server_db_url)
    fault_proxy.drop_reply_to(pattern)
    run_id = logger.run(tags=["second"])
    logger.finish()
    assert fault_proxy.replies_dropped == 1
    assert _count(server_db_url, RunRecord.__table__) == 2  # the first run and this one
    assert _count(server_db_url, ProjectRecord.__table__) == 1
    with get_engine(server_db_url).connect() as conn:
        stored = conn.execute(select(RunRecord.__table__.c.tags).where(RunRecord.id == run_id))
        assert stored.scalar_one() == ["second"]


@pytest.mark.parametrize("pattern", [b"INSERT INTO artifacts", b"COMMIT"], ids=str)
@pytest.mark.parametrize("times", [1, 2])
def test_a_connection_dropped_while_logging_an_artifact_stores_it_once(
    fault_proxy: Any, server_db_url: str, pattern: bytes, times: int
):
    logger = _logger_through(fault_proxy, server_db_url)
    run_id = logger.run()
    fault_proxy.drop_reply_to(pattern, times)
    artifact_id = logger.log_artifact(None, "/ckpt/model.pt", "model", {"epoch": 3})
    assert fault_proxy.replies_dropped == times
    logger.finish()
    artifacts = ArtifactRecord.__table__
    with get_engine(server_db_url).connect() as conn:
        rows = conn.execute(select(artifacts.c.id, artifacts.c.run_id)).all()
    assert [tuple(row) for row in rows] == [(artifact_id, run_id)]


def test_a_server_that_stays_away_still_fails_the_call(fault_proxy: Any, server_db_url: str):
    logger = _logger_through(fault_proxy, server_db_url)
    logger.run()
    fault_proxy.drop_reply_to(b"INSERT INTO artifacts", 10)
    with pytest.raises(OperationalError, match=r"(?i)lost connection|closed|consuming input"):
        logger.log_artifact(None, "/ckpt/model.pt", "model")
    assert fault_proxy.replies_dropped == 4  # DISCONNECT_ATTEMPTS, then the error
    assert _count(server_db_url, ArtifactRecord.__table__) == 0
