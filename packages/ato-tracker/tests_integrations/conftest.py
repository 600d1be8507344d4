"""Fixtures of the framework integration tests (real frameworks, ``nox -s integrations``).

The database URLs come from the plugin `ato.tracker.testing`: ``db_url`` on SQLite, PostgreSQL
and MariaDB (server URLs from ``ATO_TEST_POSTGRES_URL`` / ``ATO_TEST_MYSQL_URL``;
``ATO_REQUIRE_SERVICES=1`` turns their skips into failures), ``sqlite_url`` the SQLite variant
alone. Here: ``project``, a project name of the test's own, Keras on its torch backend (set
before Keras is first imported), and the Hugging Face libraries kept offline.
"""

from __future__ import annotations

import os
import uuid

import pytest

pytest_plugins = ["ato.tracker.testing"]

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture
def project() -> str:
    """A project name no other test uses (the runs of a test are found by it)."""
    return f"it-{uuid.uuid4().hex[:12]}"
