"""Fixtures of the framework integration tests (``nox -s integrations``).

``db_url`` is a fresh SQLite file; ``server_db_url`` runs a test on PostgreSQL and MariaDB too,
from ``ATO_TEST_POSTGRES_URL`` and ``ATO_TEST_MYSQL_URL``. Without those variables the server
variants skip, unless ``ATO_REQUIRE_SERVICES=1`` turns the skip into a failure. Server tests
write into a project of their own (``project``), so they need no emptied database. Only the
public API of ``ato.tracker`` is used. Hugging Face libraries are kept offline.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SERVERS = {"postgresql": "ATO_TEST_POSTGRES_URL", "mysql": "ATO_TEST_MYSQL_URL"}


def _server_url(env_var: str) -> str:
    url = os.environ.get(env_var, "")
    if url:
        return url
    if os.environ.get("ATO_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{env_var} is not set but ATO_REQUIRE_SERVICES=1 requires this server")
    pytest.skip(f"{env_var} is not set (ATO_REQUIRE_SERVICES=1 turns this skip into a failure)")


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A fresh SQLite database file."""
    return f"sqlite:///{tmp_path / 'tracker.db'}"


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def server_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh SQLite file, or a PostgreSQL / MariaDB server from the environment."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tracker.db'}"
    return _server_url(SERVERS[request.param])


@pytest.fixture
def project() -> str:
    """A project name no other test uses (the runs of a test are found by it)."""
    return f"it-{uuid.uuid4().hex[:12]}"
