"""Fixtures of the importer tests: the tracker tests' database fixtures (``db_url`` on SQLite,
PostgreSQL and MariaDB), an MLflow store on PostgreSQL; helpers reading back an import are in
``stored.py``."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

_spec = importlib.util.spec_from_file_location(
    "ato_tracker_test_fixtures", Path(__file__).parent.parent / "tests" / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)
db_url = _fixtures.db_url
sys.path.insert(0, str(Path(__file__).parent))  # stored.py
MLFLOW_SCHEMA = "mlflow_source"


@pytest.fixture
def postgres_mlflow_uri() -> Iterator[str]:
    """An empty PostgreSQL schema of the test database (``ATO_TEST_POSTGRES_URL``) as an
    MLflow tracking URI: MLflow's tables would clash with the tracker's in the default one."""
    url = _fixtures.server_url("ATO_TEST_POSTGRES_URL")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"drop schema if exists {MLFLOW_SCHEMA} cascade"))
        conn.execute(text(f"create schema {MLFLOW_SCHEMA}"))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{MLFLOW_SCHEMA}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"drop schema if exists {MLFLOW_SCHEMA} cascade"))
        engine.dispose()
