"""ato.dashboard: a read-only local web dashboard over an ato tracker database.

Start it with ``ato dashboard [--db URL]`` or ``python -m ato.dashboard``; embed it with
[`create_app`][ato.dashboard.create_app] (an ASGI app for any ASGI server).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    BadRequestError,
    DashboardError,
    DatabaseUnavailableError,
    NotFoundError,
    ReadOnlyViolationError,
)
from .version import __version__ as __version__

__all__ = [
    "BadRequestError",
    "DashboardError",
    "DatabaseUnavailableError",
    "NotFoundError",
    "ReadOnlyViolationError",
    "create_app",
]

if TYPE_CHECKING:
    from .app import create_app


def __getattr__(name: str) -> Any:
    if name == "create_app":  # loaded on first use: the CLI's --help stays fast
        from .app import create_app

        return create_app
    raise AttributeError(f"module 'ato.dashboard' has no attribute {name!r}")
