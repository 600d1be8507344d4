"""Fixtures of the importer tests: the database URLs (``db_url`` on SQLite, PostgreSQL and
MariaDB) of the plugin `ato.tracker.testing`, and an MLflow store on PostgreSQL; helpers reading
back an import are in ``stored.py`` (importable by name: pyproject.toml's pytest ``pythonpath``
names this folder)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from ato.tracker.testing import server_url

pytest_plugins = ["ato.tracker.testing"]
MLFLOW_SCHEMA = "mlflow_source"


@pytest.fixture
def postgres_mlflow_uri() -> Iterator[str]:
    """An empty PostgreSQL schema of the test database (``ATO_TEST_POSTGRES_URL``) as an
    MLflow tracking URI: MLflow's tables would clash with the tracker's in the default one."""
    url = server_url("postgresql")
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
