"""Fixtures of the tracker's tests. The database URLs (``db_url`` on SQLite, PostgreSQL and
MariaDB, ``sqlite_url``, ``postgres_url``, ``mysql_url``, ``server_db_url``) come from the
plugin `ato.tracker.testing` (server URLs from ``ATO_TEST_POSTGRES_URL`` /
``ATO_TEST_MYSQL_URL``; ``ATO_REQUIRE_SERVICES=1`` turns their skips into failures); here:
configs, a fault proxy and outages. The helper modules next to the tests (``faultproxy``,
``outages``) are importable because pyproject.toml's pytest ``pythonpath`` names this folder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ato.adict import ADict
from ato.tracker.storage.database import dispose_engines

pytest_plugins = ["ato.tracker.testing"]


@pytest.fixture
def make_config(db_url: str) -> Callable[..., ADict]:
    """``make_config(project='proj', **config)`` -> an ADict config pointing at ``db_url``."""

    def make(project: str = "proj", **config: Any) -> ADict:
        cfg = ADict(config)
        cfg.experiment = ADict(project_name=project, sql=ADict(db_path=db_url))
        return cfg

    return make


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

    from ato.tracker.testing import forget_buffers  # loaded as a plugin, so not at the top

    forget_buffers()  # a stranded buffer of an earlier test must not share this outage
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
