from __future__ import annotations

import subprocess
import sys
import threading

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from ato.tracker.storage import engine as engine_module
from ato.tracker.storage.database import get_engine


def _failing(messages):
    calls = []

    def work(conn):
        calls.append(conn)
        if len(calls) <= len(messages):
            raise OperationalError("INSERT ...", {}, Exception(messages[len(calls) - 1]))
        return "done"

    return work, calls


@pytest.fixture
def memory_engine(monkeypatch):
    monkeypatch.setattr(engine_module, "FIRST_BACKOFF_S", 0.0)
    engine = create_engine("sqlite://")
    yield engine
    engine.dispose()


def test_lock_errors_are_retried(memory_engine):
    work, calls = _failing(["database is locked", "database is locked"])
    assert engine_module.run_transaction(memory_engine, work) == "done"
    assert len(calls) == 3


def test_lock_errors_give_up_after_max_attempts(memory_engine):
    work, calls = _failing(["database is locked"] * engine_module.MAX_ATTEMPTS)
    with pytest.raises(OperationalError, match="locked"):
        engine_module.run_transaction(memory_engine, work)
    assert len(calls) == engine_module.MAX_ATTEMPTS


def test_other_errors_are_not_retried(memory_engine):
    work, calls = _failing(["no such table: metrics"])
    with pytest.raises(OperationalError, match="no such table"):
        engine_module.run_transaction(memory_engine, work)
    assert len(calls) == 1


def test_already_exists_errors_are_not_retried(memory_engine):
    work, calls = _failing(["table projects already exists"])
    with pytest.raises(OperationalError, match="already exists"):
        engine_module.run_transaction(memory_engine, work)
    assert len(calls) == 1


def test_engines_are_cached_per_url(sqlite_url):
    assert get_engine(sqlite_url) is get_engine(sqlite_url)


def test_importing_the_tracker_does_not_import_omegaconf_or_numpy():
    code = (
        "import sys, ato.tracker; print(sorted({'omegaconf', 'numpy', 'torch'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_logger_creates_missing_folders_of_a_sqlite_path(tmp_path):
    from ato.adict import ADict
    from ato.tracker import SQLFinder, SQLLogger

    db = tmp_path / "runs" / "2026" / "exp.db"
    config = ADict(experiment=ADict(project_name="p", sql=ADict(db_path=f"sqlite:///{db}")))
    logger = SQLLogger(config)
    run_id = logger.run()
    logger.log_metric("loss", 0.5, 0)
    logger.finish()
    assert db.exists()
    assert [m.value for m in SQLFinder(config).find_run(run_id).metrics] == [0.5]


def test_a_read_only_finder_does_not_create_folders(tmp_path):
    from ato.tracker import SQLFinder
    from ato.tracker.errors import DatabaseNotFoundError

    db = tmp_path / "missing" / "exp.db"
    with pytest.raises(DatabaseNotFoundError):
        SQLFinder(f"sqlite:///{db}", must_exist=True)
    assert not db.parent.exists()


class _Blocked:
    """A DB-API connection stand-in: ``interrupt()`` (how the watchdog aborts sqlite3) is
    recorded and wakes the block waiting on it."""

    def __init__(self) -> None:
        self.aborted = threading.Event()

    def interrupt(self) -> None:
        self.aborted.set()


def test_one_watchdog_thread_aborts_only_the_blocks_past_their_deadline():
    watchdog = engine_module._WATCHDOG
    slow, quick = _Blocked(), _Blocked()
    finished = watchdog.arm(quick, 60.0)
    late = watchdog.arm(slow, 0.0)  # nearer than the armed one: the thread wakes for it
    assert slow.aborted.wait(30)  # the thread's own deadline, not this test's
    watchdog.disarm(late)
    watchdog.disarm(finished)
    assert late.fired and not finished.fired and not quick.aborted.is_set()
    names = [t.name for t in threading.enumerate()]
    assert names.count("ato-tracker-watchdog") == 1


def test_the_json_loader_of_readers_is_no_closure_and_reads_what_orjson_refuses(monkeypatch):
    """psycopg caches a JSON loader by its code and, for a closure, logs "may cause a resource
    leak" on every connection and caches nothing; the loader is a module-level function."""
    import json
    import math
    import sys
    import types

    from ato.tracker.storage import engine as engine_module

    class RefusedError(ValueError):
        pass

    def strict_loads(text: str) -> object:
        if "NaN" in text or "Infinity" in text:
            raise RefusedError(text)
        return json.loads(text)

    fake = types.SimpleNamespace(loads=strict_loads, JSONDecodeError=RefusedError)
    monkeypatch.setitem(sys.modules, "orjson", fake)
    loader = engine_module._json_loader()
    assert loader is not json.loads and not getattr(loader, "__closure__", None)
    assert loader('{"a": [1, 2]}') == {"a": [1, 2]}
    assert math.isnan(loader('{"a": NaN}')["a"]) and loader("[Infinity]") == [math.inf]
    monkeypatch.setitem(sys.modules, "orjson", None)  # not installed: the standard library
    assert engine_module._json_loader() is json.loads
