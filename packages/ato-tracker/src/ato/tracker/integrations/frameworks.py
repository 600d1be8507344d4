"""How every integration imports its framework: when the integration module is imported, never
before, and a framework that is not installed becomes `ato.tracker.MissingDependencyError`
naming the ``ato-tracker`` extra that installs it.

A framework that is installed but fails to import (one of its own dependencies is missing or
broken) raises its own error unchanged, so the message names the real cause.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from ato.tracker import MissingDependencyError


def import_framework(*modules: str, extra: str, integration: str) -> ModuleType:
    """The first of ``modules`` that is installed, imported.

    Args:
        modules: dotted module names tried in order, e.g. ``'lightning.pytorch.loggers.logger'``
            then ``'pytorch_lightning.loggers.logger'``; at least one.
        extra: the ``ato-tracker`` extra that installs the framework (``'lightning'``...).
        integration: the integration module asking (``__name__``), for the message.

    Raises:
        MissingDependencyError: none of ``modules`` is installed (the message names the first
            one's package and ``pip install 'ato-tracker[<extra>]'``).
        ImportError: a module is installed but fails to import for another reason.
    """
    for module in modules:
        try:
            return importlib.import_module(module)
        except ModuleNotFoundError as error:
            if not _is_part_of(error.name, module):
                raise  # installed, but a dependency of it is missing: say which
    raise MissingDependencyError(_package(modules[0]), extra, integration)


def require_installed(package: str, extra: str, integration: str) -> None:
    """Check that ``package`` (a top-level import name) is installed, without importing it.

    Raises:
        MissingDependencyError: it is not installed (or its import is blocked).
    """
    if _spec_or_none(package) is None:
        raise MissingDependencyError(package, extra, integration)


def _spec_or_none(package: str) -> object:
    try:
        return importlib.util.find_spec(package)
    except (ImportError, ValueError):  # blocked (None in sys.modules) or a broken entry
        return None


def _is_part_of(missing: str | None, module: str) -> bool:
    """Whether the module named missing is ``module`` or one of its parent packages."""
    return missing is not None and (module == missing or module.startswith(missing + "."))


def _package(module: str) -> str:
    return module.split(".", 1)[0]
