"""Shared fixtures of the integration tests: the database URLs of the plugin
`ato.tracker.testing` (``db_url``: a SQLite file, or the PostgreSQL / MariaDB server named by
``ATO_TEST_POSTGRES_URL`` / ``ATO_TEST_MYSQL_URL``, emptied of tracker tables first; skipped
when unset, failed instead with ``ATO_REQUIRE_SERVICES=1``)."""

pytest_plugins = ["ato.tracker.testing"]
