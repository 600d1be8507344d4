"""Shared fixtures: ``db_url`` runs a test against SQLite and, when configured, real servers.

Server URLs come from ``ATO_TEST_POSTGRES_URL`` and ``ATO_TEST_MYSQL_URL``. Without them the
server variants skip, unless ``ATO_REQUIRE_SERVICES=1``, which turns the skip into a failure.
Each server test starts from an empty schema (all tracker tables and the schema version table dropped first).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from ato.adict import ADict
from ato.tracker.storage.database import dispose_engines
from ato.tracker.storage.models import Base
from ato.tracker.storage.schema import version_table
from ato.tracker.write import buffer as metric_buffers

SERVERS = {"postgresql": "ATO_TEST_POSTGRES_URL", "mysql": "ATO_TEST_MYSQL_URL"}

sys.path.insert(0, str(Path(__file__).parent))  # helper modules next to the tests (faultproxy)


def server_url(env_var: str) -> str:
    """The URL in ``env_var``; skip (or fail with ATO_REQUIRE_SERVICES=1) when unset."""
    url = os.environ.get(env_var, "")
    if url:
        return url
    if os.environ.get("ATO_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{env_var} is not set but ATO_REQUIRE_SERVICES=1 requires this server")
    pytest.skip(f"{env_var} is not set (ATO_REQUIRE_SERVICES=1 turns this skip into a failure)")


def _forget_earlier_buffers() -> None:
    """Stop the metric buffers earlier tests left behind (a logger a fault test never closed,
    rows no store could take): each keeps retrying until its rows are stored, and would write
    them into the fresh schema of the next test, under run ids that test reuses."""
    for buffer in metric_buffers.live_buffers():
        buffer.stop_timer()
        buffer.pending.clear()
        buffer.spooled = False
        buffer.run_ends = {}
    metric_buffers._stranded.clear()


def _reset_schema(url: str) -> None:
    _forget_earlier_buffers()
    dispose_engines()  # pooled connections would block DROP TABLE on MySQL
    engine = create_engine(url)
    try:
        Base.metadata.drop_all(engine)
        version_table.drop(engine, checkfirst=True)
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A database URL with no tracker data in it: a fresh SQLite file or an emptied server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
    else:
        url = server_url(SERVERS[request.param])
        _reset_schema(url)
        yield url
    dispose_engines()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The emptied PostgreSQL server alone (for tests about PostgreSQL itself)."""
    url = server_url(SERVERS["postgresql"])
    _reset_schema(url)
    yield url
    dispose_engines()


@pytest.fixture
def mysql_url() -> Iterator[str]:
    """The emptied MySQL/MariaDB server alone (for tests about MySQL/MariaDB itself)."""
    url = server_url(SERVERS["mysql"])
    _reset_schema(url)
    yield url
    dispose_engines()


@pytest.fixture
def sqlite_url(tmp_path: Any) -> Iterator[str]:
    """A fresh SQLite file URL (for tests about SQLite itself: processes, crashes)."""
    yield f"sqlite:///{tmp_path / 'tracker.db'}"
    dispose_engines()


@pytest.fixture
def make_config(db_url: str) -> Callable[..., ADict]:
    """``make_config(project='proj', **config)`` -> an ADict config pointing at ``db_url``."""

    def make(project: str = "proj", **config: Any) -> ADict:
        cfg = ADict(config)
        cfg.experiment = ADict(project_name=project, sql=ADict(db_path=db_url))
        return cfg

    return make


@pytest.fixture(params=["postgresql", "mysql"])
def server_db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each real server in turn (emptied), for fault tests that need a network link."""
    url = server_url(SERVERS[request.param])
    _reset_schema(url)
    yield url
    dispose_engines()


@pytest.fixture
def fault_proxy(server_db_url: str) -> Iterator[Any]:
    """A :class:`faultproxy.FaultProxy` in front of ``server_db_url``'s server."""
    from faultproxy import FaultProxy

    proxy = FaultProxy.for_url(server_db_url)
    yield proxy
    proxy.close()
    dispose_engines()


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def outage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """An :class:`outages.Outage` of each backend: SQLite on a small disk that ``down`` fills
    (needs root), a server behind a proxy that ``down`` makes refuse connections."""
    from faultproxy import FaultProxy
    from outages import Outage, SmallDisk, require_root

    _forget_earlier_buffers()  # a stranded buffer of an earlier test must not share this outage
    dispose_engines()
    if request.param == "sqlite":
        require_root()
        disk = SmallDisk(tmp_path / "db-disk")
        url = f"sqlite:///{disk.path / 'tracker.db'}"
        yield Outage("sqlite", url, url, disk.fill, disk.free)
        dispose_engines()
        disk.close()
        return
    url = request.getfixturevalue(f"{request.param.replace('postgresql', 'postgres')}_url")
    proxy = FaultProxy.for_url(url)
    yield Outage(request.param, proxy.url(url), url, proxy.refuse, proxy.accept)
    proxy.close()
    dispose_engines()
