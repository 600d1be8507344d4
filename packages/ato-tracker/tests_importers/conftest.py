"""Fixtures of the importer tests: the tracker tests' database fixtures (``db_url`` on SQLite,
PostgreSQL and MariaDB); helpers reading back an import are in ``stored.py``."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "ato_tracker_test_fixtures", Path(__file__).parent.parent / "tests" / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)
db_url = _fixtures.db_url
sys.path.insert(0, str(Path(__file__).parent))  # stored.py
