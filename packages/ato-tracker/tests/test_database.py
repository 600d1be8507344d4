"""The Database handle: a URL parsed once, the shown forms hide the password, engines are
cached per process and mode, per-engine state rides on the engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.exc import ArgumentError

from ato.tracker import Database, DatabaseNotFoundError, SQLFinder, SQLLogger
from ato.tracker.storage.database import dispose_engines
from ato.tracker.storage.engine import STATEMENT_TIMEOUT_OPTION
from ato.tracker.storage.settings import Timeouts


def test_a_server_url_is_parsed_once_with_its_password_hidden_where_shown() -> None:
    db = Database.from_url("postgresql+psycopg://ato:s3cret@db.example:5432/exp?sslmode=require")
    assert db.backend == "postgresql"
    assert db.sqlite_path is None
    assert db.url == "postgresql+psycopg://ato:s3cret@db.example:5432/exp?sslmode=require"
    assert db.shown_url == "postgresql+psycopg://ato:***@db.example:5432/exp?sslmode=require"
    assert db.shown_sqlalchemy_url == db.shown_url
    assert "s3cret" not in repr(db)
    assert db.timeouts == Timeouts()


def test_a_bare_path_is_sqlite_and_messages_show_it_as_given(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    db = Database.from_url(str(path), Timeouts(statement=5.0))
    assert (db.backend, db.sqlite_path, db.url) == ("sqlite", path, f"sqlite:///{path}")
    assert db.shown_url == str(path)
    assert db.shown_sqlalchemy_url == f"sqlite:///{path}"
    assert db.identity == f"sqlite:///{path.resolve()}"
    assert db.timeouts.statement == 5.0


def test_in_memory_sqlite_has_no_file() -> None:
    assert Database.from_url("sqlite://").sqlite_path is None
    assert Database.from_url("sqlite:///:memory:").sqlite_path is None


def test_an_unparsable_url_fails_without_echoing_its_password() -> None:
    with pytest.raises(ArgumentError) as caught:
        Database.from_url("postgresql://ato:s3cret@host:notaport/exp")
    assert "s3cret" not in str(caught.value)
    assert "***" in str(caught.value)


def test_a_missing_sqlite_file_is_reported_with_the_url_as_given(tmp_path: Path) -> None:
    path = tmp_path / "missing.db"
    with pytest.raises(DatabaseNotFoundError, match=r"from URL '.*missing\.db'"):
        Database.from_url(str(path)).require_exists()
    assert not path.exists()


def test_engines_are_cached_per_mode_and_carry_their_statement_timeout(tmp_path: Path) -> None:
    db = Database.from_url(str(tmp_path / "t.db"), Timeouts(statement=7.0))
    try:
        writer = db.engine()
        assert Database.from_url(str(tmp_path / "t.db"), Timeouts(statement=7.0)).engine() is writer
        reader = db.read_engine()
        assert reader is not writer
        assert db.read_engine() is reader
        assert writer.get_execution_options()[STATEMENT_TIMEOUT_OPTION] == 7.0
        assert db.with_timeouts(Timeouts(statement=8.0)).engine() is not writer
    finally:
        dispose_engines()


def test_loggers_and_finders_hold_their_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    logger = SQLLogger.from_url(url, "p")
    try:
        assert isinstance(logger, SQLLogger)
        assert logger.config is None
        assert logger.database.url == url
        run_id = logger.run()
        logger.finish()
        finder = SQLFinder.from_url(url)
        assert finder.database.sqlite_path == tmp_path / "h.db"
        run = finder.find_run(run_id)
        assert run is not None and run.status == "completed"
    finally:
        dispose_engines()
