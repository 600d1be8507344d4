"""Fixtures of the integration tests (real frameworks, ``nox -s integrations``): the tracker
tests' database fixtures (``db_url`` on SQLite, PostgreSQL and MariaDB, ``sqlite_url``), and
Keras on its torch backend (set before Keras is first imported)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

_spec = importlib.util.spec_from_file_location(
    "ato_tracker_test_fixtures", Path(__file__).parent.parent / "tests" / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)
db_url = _fixtures.db_url
sqlite_url = _fixtures.sqlite_url
