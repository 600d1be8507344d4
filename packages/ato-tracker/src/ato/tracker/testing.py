"""Database fixtures for tests that write to an ato tracker database: a pytest plugin.

Load it from a ``conftest.py`` at the top of a tests folder::

    pytest_plugins = ["ato.tracker.testing"]

It is not registered as a ``pytest11`` entry point on purpose: such a plugin would load into
every pytest run of every project that has ato-tracker installed (importing SQLAlchemy, and
adding fixtures named ``db_url`` to suites that never asked for them). Importing
``ato.tracker`` never imports this module, nor pytest.

Fixtures (each yields a SQLAlchemy URL string; every engine of the tracker is disposed after
the test):

- ``db_url``: parametrized over ``sqlite``, ``postgresql`` and ``mysql``: a fresh SQLite file
  in the test's ``tmp_path``, or a server database emptied of tracker tables (`reset_schema`).
- ``sqlite_url``: the SQLite variant alone (tests about SQLite itself: processes, crashes).
- ``postgres_url`` / ``mysql_url``: one emptied server alone (tests about that server).
- ``server_db_url``: parametrized over the two servers (tests that need a network link).

Server URLs come from the environment: ``ATO_TEST_POSTGRES_URL`` (PostgreSQL, e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/ato_test``) and ``ATO_TEST_MYSQL_URL``
(MySQL/MariaDB, e.g. ``mysql+pymysql://root@127.0.0.1:3306/ato_test``). Without one, the
tests that need that server are skipped; with ``ATO_REQUIRE_SERVICES=1`` they fail instead
(so CI cannot pass by skipping them). The databases named must be for tests only: every
tracker table in them is dropped before each test that uses them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from .storage.database import dispose_engines
from .storage.models import Base
from .storage.schema import version_table
from .write import buffer as _buffers
from .write.heartbeat import live_heartbeats

__all__ = [
    "REQUIRE_SERVICES_ENV_VAR",
    "SERVER_ENV_VARS",
    "db_url",
    "forget_buffers",
    "mysql_url",
    "postgres_url",
    "reset_schema",
    "server_db_url",
    "server_url",
    "sqlite_url",
]

SERVER_ENV_VARS = {"postgresql": "ATO_TEST_POSTGRES_URL", "mysql": "ATO_TEST_MYSQL_URL"}
"""The environment variable holding the URL of each test server, by backend name."""

REQUIRE_SERVICES_ENV_VAR = "ATO_REQUIRE_SERVICES"
"""Set to ``1``: a test whose server URL is unset fails instead of being skipped."""

SQLITE_FILE = "tracker.db"  # the file name of the SQLite variant, in the test's tmp_path


def server_url(backend: str) -> str:
    """The URL of the test server of ``backend`` (``'postgresql'`` or ``'mysql'``).

    Raises:
        KeyError: ``backend`` is not one of `SERVER_ENV_VARS`.
        pytest.skip.Exception: its variable is unset or empty (the test is skipped).
        pytest.fail.Exception: the same with ``ATO_REQUIRE_SERVICES=1`` (the test fails).
    """
    env_var = SERVER_ENV_VARS[backend]
    url = os.environ.get(env_var, "")
    if url:
        return url
    if os.environ.get(REQUIRE_SERVICES_ENV_VAR) == "1":
        pytest.fail(f"{env_var} is not set but ATO_REQUIRE_SERVICES=1 requires this server")
    pytest.skip(f"{env_var} is not set (ATO_REQUIRE_SERVICES=1 turns this skip into a failure)")


def reset_schema(url: str) -> None:
    """Empty the database at ``url`` of everything the tracker made: drop every tracker table
    and the schema version table (an empty database with a version row looks damaged).

    First `forget_buffers` runs, and every cached engine is disposed (a pooled connection
    would block ``DROP TABLE`` on MySQL). Tables of other tools are left alone.
    """
    forget_buffers()
    dispose_engines()
    engine = create_engine(url)
    try:
        Base.metadata.drop_all(engine)
        version_table.drop(engine, checkfirst=True)
    finally:
        engine.dispose()


def forget_buffers() -> None:
    """Stop the metric buffers earlier tests left behind in this process and drop their rows.

    A logger a test never closed (a fault test, a crash simulated in-process) keeps retrying
    until its rows are stored, and would write them into the fresh schema of the next test,
    under run ids that test reuses.
    """
    for buffer in _buffers.live_buffers():
        buffer.stop_timer()
        buffer.pending.clear()
        buffer.spooled = False
        buffer.run_ends = {}
    _buffers._stranded.clear()
    for beat in live_heartbeats():  # it would beat for a run id the next test reuses
        beat.stop()


def _emptied_server(backend: str) -> Iterator[str]:
    url = server_url(backend)
    reset_schema(url)
    yield url
    dispose_engines()


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL with no tracker data in it: a fresh SQLite file or an emptied server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / SQLITE_FILE}"
        dispose_engines()
    else:
        yield from _emptied_server(request.param)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    """A fresh SQLite file URL (for tests about SQLite itself: processes, crashes)."""
    yield f"sqlite:///{tmp_path / SQLITE_FILE}"
    dispose_engines()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The emptied PostgreSQL server alone (for tests about PostgreSQL itself)."""
    yield from _emptied_server("postgresql")


@pytest.fixture
def mysql_url() -> Iterator[str]:
    """The emptied MySQL/MariaDB server alone (for tests about MySQL/MariaDB itself)."""
    yield from _emptied_server("mysql")


@pytest.fixture(params=["postgresql", "mysql"])
def server_db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each real server in turn (emptied), for tests that need a network link."""
    yield from _emptied_server(request.param)
