"""Importing a source's framework only when its importer runs."""

from __future__ import annotations

import importlib
from typing import Any

from ..errors import MissingDependencyError


def require(module: str, extra: str, feature: str) -> Any:
    """The module ``module``, imported now.

    Raises:
        MissingDependencyError: it is not installed; the message names the ato-tracker
            ``extra`` that installs it.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(module, extra, feature) from None
