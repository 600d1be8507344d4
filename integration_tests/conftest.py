"""Shared fixtures of the integration tests."""

from __future__ import annotations

import os

import pytest

SERVER_URLS = {"postgresql": "ATO_TEST_POSTGRES_URL", "mysql": "ATO_TEST_MYSQL_URL"}


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A tracker database: a SQLite file, or the PostgreSQL / MariaDB server named by
    ``ATO_TEST_POSTGRES_URL`` / ``ATO_TEST_MYSQL_URL`` (skipped when unset, failed instead with
    ``ATO_REQUIRE_SERVICES=1``). Tests keep apart on a server by their own project names."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.db'}"
    env = SERVER_URLS[request.param]
    url = os.environ.get(env, "")
    if not url:
        if os.environ.get("ATO_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{env} is not set but ATO_REQUIRE_SERVICES=1 requires this server")
        pytest.skip(f"{env} is not set (ATO_REQUIRE_SERVICES=1 turns this skip into a failure)")
    return url
