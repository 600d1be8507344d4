"""Fixtures of the importer tests: the database URLs (``db_url`` on SQLite, PostgreSQL and
MariaDB) of the plugin `ato.tracker.testing`; helpers reading back an import are in
``stored.py`` (importable by name: pyproject.toml's pytest ``pythonpath`` names this folder)."""

pytest_plugins = ["ato.tracker.testing"]
