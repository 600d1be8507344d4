"""``ato.tracker.testing``, the pytest plugin of database fixtures: its skip/fail rule for
unset server URLs, its schema reset, and that importing the tracker never imports pytest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect

from ato.tracker import SQLLogger
from ato.tracker.storage.database import dispose_engines
from ato.tracker.testing import SERVER_ENV_VARS, reset_schema, server_url


@pytest.mark.parametrize("backend", sorted(SERVER_ENV_VARS))
def test_an_unset_server_url_skips(backend: str, monkeypatch: Any):
    monkeypatch.delenv(SERVER_ENV_VARS[backend], raising=False)
    monkeypatch.delenv("ATO_REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception, match=f"{SERVER_ENV_VARS[backend]} is not set"):
        server_url(backend)


@pytest.mark.parametrize("backend", sorted(SERVER_ENV_VARS))
def test_an_unset_server_url_fails_when_services_are_required(backend: str, monkeypatch: Any):
    monkeypatch.setenv(SERVER_ENV_VARS[backend], "")
    monkeypatch.setenv("ATO_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="ATO_REQUIRE_SERVICES=1 requires"):
        server_url(backend)


def test_a_set_server_url_is_returned(monkeypatch: Any):
    monkeypatch.setenv("ATO_TEST_MYSQL_URL", "mysql+pymysql://u@h/db")
    assert server_url("mysql") == "mysql+pymysql://u@h/db"


def test_an_unknown_backend_is_a_key_error():
    with pytest.raises(KeyError):
        server_url("oracle")


def test_reset_schema_drops_the_tracker_tables_and_keeps_others(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'reset.db'}"
    logger = SQLLogger({"experiment": {"project_name": "p", "sql": {"db_path": url}}})
    logger.run()
    logger.log_metric("loss", 1.0, 0)
    logger.finish()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE other_tool (x INTEGER)")
    assert len(inspect(engine).get_table_names()) > 2
    reset_schema(url)
    assert inspect(engine).get_table_names() == ["other_tool"]
    engine.dispose()
    dispose_engines()


def test_importing_the_tracker_does_not_import_pytest():
    probe = (
        "import sys, ato.tracker, ato.tracker.cli; "
        "print(sorted(m for m in ('pytest', 'ato.tracker.testing') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr
