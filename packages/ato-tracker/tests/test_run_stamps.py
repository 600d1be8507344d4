"""`SQLFinder.get_run_stamp`: the same while nothing readers see of a run changed (heartbeats
included), a new one after each kind of write to the run, ``None`` for no such run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.storage.database import get_engine
from ato.tracker.storage.models import RunRecord, utcnow
from ato.tracker.write.heartbeat import Heartbeat


def _writes(logger: SQLLogger) -> list[tuple[str, Callable[[], Any]]]:
    """Each kind of write a running run gets, as ``(name, write)``."""

    def artifact() -> None:
        logger.log_artifact(None, "ckpt/last.pt", data_type="model")

    return [
        ("a value of a logged key", lambda: (logger.log_metric("loss", 0.5, 1), logger.flush())),
        ("a new key", lambda: (logger.log_metric("acc", 0.25, 1), logger.flush())),
        (
            "a NaN (same count of keys)",
            lambda: (logger.log_metric("acc", float("nan")), logger.flush()),
        ),
        ("tags", lambda: logger.add_tags(["seen"])),
        ("config", lambda: logger.update_config({"lr": 0.1})),
        ("provenance", lambda: logger.add_provenance("launcher", {"host": "x"})),
        ("an artifact", artifact),
        ("a fingerprint", lambda: logger.log_fingerprint("forward", "abc")),
        ("the status", lambda: logger.finish("failed")),
    ]


def test_the_stamp_changes_with_every_write_and_only_then(db_url: str):
    config = {"experiment": {"project_name": "p", "sql": {"db_path": db_url}}}
    logger = SQLLogger(config)
    run_id = logger.run()
    logger.log_metric("loss", 1.0, 0)
    logger.flush()
    other_logger = SQLLogger(config)
    other = other_logger.run()
    finder = SQLFinder.from_url(db_url, read_only=True)
    seen = {finder.get_run_stamp(run_id)}
    other_logger.log_metric("loss", 1.0, 0)  # writes to another run change nothing of this one
    other_logger.finish()
    assert finder.get_run_stamp(run_id) in seen
    for name, write in _writes(logger):
        before = finder.get_run_stamp(run_id)
        assert finder.get_run_stamp(run_id) == before, f"unchanged before {name}"
        write()
        after = finder.get_run_stamp(run_id)
        assert after not in seen, f"{name} left the stamp as it was"
        seen.add(after)
    assert finder.get_run_stamp(other) not in seen
    assert finder.get_run_stamp(10**6) is None
    assert finder.get_run_stamp(10**30) is None  # no database holds such an id


def test_a_heartbeat_keeps_the_stamp_and_a_stopped_one_changes_it(db_url: str):
    logger = SQLLogger({"experiment": {"project_name": "p", "sql": {"db_path": db_url}}})
    run_id = logger.run()
    finder = SQLFinder.from_url(db_url, read_only=True, crash_timeout=60)
    alive = finder.get_run_stamp(run_id)
    Heartbeat(logger.engine, run_id, 15.0).beat()
    assert finder.get_run_stamp(run_id) == alive
    runs = RunRecord.__table__
    with get_engine(db_url).begin() as conn:  # the writer died two minutes ago
        old = utcnow() - timedelta(minutes=2)
        conn.execute(update(runs).where(runs.c.id == run_id).values(heartbeat=old))
    assert finder.find_run(run_id).status == "crashed"
    assert finder.get_run_stamp(run_id) != alive
    logger.finish()
