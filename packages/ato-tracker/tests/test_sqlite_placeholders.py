"""Every statement the tracker sends to SQLite binds its values with nameless ``?`` placeholders.

Python 3.12.0-3.12.3 warn once per bound value when numbered (``?1``) or named (``:name``)
placeholders get a sequence of values, and the warning said Python 3.14 would refuse them; a
metric write used ``?1``..``?6``. The statements are read where SQLAlchemy hands them to the
driver, so the check holds on every Python, not only those that warn.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.storage.database import dispose_engines, get_engine
from ato.tracker.write.spool import SpoolFile, replay

QUOTED = re.compile(r"'(?:[^']|'')*'")  # SQL string literals ('%H:%M:%S' is not a parameter)
NOT_QMARK = re.compile(r"\?\d+|[:@$][A-Za-z_]\w*")


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """The SQL of every statement any engine of this process executes meanwhile."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    yield seen
    event.remove(Engine, "before_cursor_execute", record)
    dispose_engines()


def _not_qmark(statements: list[str]) -> list[tuple[str, list[str]]]:
    found = [(s, NOT_QMARK.findall(QUOTED.sub("", s))) for s in statements]
    return [(s, names) for s, names in found if names]


def _log_values(logger: SQLLogger, url: str) -> None:
    for step, value in enumerate([0.5, float("nan"), float("inf"), -float("inf"), 3, -1e308]):
        logger.log_metric("loss", value, step)
    logger.log_metrics({"acc": 0.9, "lr": 1e-3})  # no step


def _log_everything(logger: SQLLogger, url: str) -> None:
    _log_values(logger, url)
    logger.flush()
    logger.log_artifact(None, "ckpt/model.pt", "model", {"epoch": 3})
    logger.log_fingerprints({"forward": ("static", "abc")})


def _find(logger: SQLLogger, url: str) -> None:
    finder = SQLFinder.from_url(url)
    finder.find_best_run("proj", "loss", mode="min")
    finder.get_runs_in_project("proj")


def _replay_spooled(logger: SQLLogger, url: str) -> None:
    run_id = logger.get_current_run_id()
    rows: list[Any] = [(run_id, "loss", 1.0 * i, i, 1.7e9 + i, i + 1) for i in range(5)]
    replay(get_engine(url), SpoolFile(path=Path("never-written.jsonl"), db="", writer=7, rows=rows))


@pytest.mark.parametrize(
    "work",
    [_log_values, _log_everything, _find, _replay_spooled],
    ids=["metrics", "metrics-artifacts-fingerprints", "finder", "spool-replay"],
)
def test_sqlite_gets_only_nameless_placeholders(
    make_sqlite_logger: Callable[..., SQLLogger],
    tmp_path: Path,
    statements: list[str],
    work: Callable[[SQLLogger, str], None],
) -> None:
    logger = make_sqlite_logger()
    work(logger, f"sqlite:///{tmp_path / 'tracker.db'}")
    logger.finish()
    assert any("INSERT INTO metrics" in s for s in statements) or work is _find
    assert _not_qmark(statements) == []


@pytest.fixture
def make_sqlite_logger(tmp_path: Path) -> Iterator[Callable[..., SQLLogger]]:
    """``make_sqlite_logger(**options)``: a logger with a started run on a fresh SQLite file."""

    def make(**options: Any) -> SQLLogger:
        url = f"sqlite:///{tmp_path / 'tracker.db'}"
        logger = SQLLogger.from_url(url, "proj", spool_dir=str(tmp_path / "spool"), **options)
        logger.run(tags=["t"], config={"lr": 0.1})
        return logger

    yield make
    dispose_engines()
