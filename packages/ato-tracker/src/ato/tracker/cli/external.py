"""``ato`` subcommands that other distributions provide, found by entry point.

ato-dashboard depends on ato-tracker, so ato-tracker never imports it by name. ato-dashboard
declares the module of its command instead, in its ``pyproject.toml``::

    [project.entry-points."ato.commands"]
    dashboard = "ato.dashboard.cli"

and `find` loads the module an installed distribution registered under that name in the
group `GROUP` (read with `importlib.metadata`), only when ``ato`` parses a command line that
uses the subcommand. The module is an `ExternalCommand`.
"""

from __future__ import annotations

import argparse
from importlib import metadata
from typing import Protocol, cast

from ..errors import UsageError

GROUP = "ato.commands"
"""The entry point group whose names are ``ato`` subcommands provided by other packages."""


class ExternalCommand(Protocol):
    """What the object an ``ato.commands`` entry point names offers (a module will do)."""

    def add_arguments(self, parser: argparse.ArgumentParser, *, db_default: object = None) -> None:
        """Add the subcommand's options to ``parser``; ``--db`` gets ``db_default`` as its
        default (``argparse.SUPPRESS`` under ``ato``, whose global ``--db`` may come first)."""

    def run(self, args: argparse.Namespace) -> int:
        """Run the subcommand for the parsed ``args``; return the exit code."""


class MissingCommandError(UsageError):
    """The distribution that provides an ``ato`` subcommand is not installed (or cannot be
    loaded, or registers no such entry point); the message says what to install."""


def find(name: str, distribution: str, extra: str) -> ExternalCommand:
    """The command registered as ``name`` in the `GROUP` entry points.

    Args:
        name: the subcommand, e.g. ``'dashboard'``.
        distribution: the distribution that provides it, e.g. ``'ato-dashboard'`` (named in
            the error message).
        extra: the extra of the ``ato`` meta-package that installs it, e.g. ``'dashboard'``.

    Raises:
        MissingCommandError: no installed distribution registers ``name``, or loading the
            module it names fails (e.g. a dependency of it is missing). The message names
            the ``pip install`` command to run.
    """
    install = f"pip install {distribution} (or pip install 'ato[{extra}]')"
    found = metadata.entry_points(group=GROUP).select(name=name)
    if not found:
        raise MissingCommandError(_not_registered(name, distribution, install))
    entry_point = next(iter(found))
    try:
        return cast(ExternalCommand, entry_point.load())
    except ImportError as error:
        raise MissingCommandError(
            f"`ato {name}` comes from the package {distribution}, whose module "
            f"{entry_point.value} cannot be imported ({error}); install it with: {install}"
        ) from None


def _not_registered(name: str, distribution: str, install: str) -> str:
    try:
        version = metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return (
            f"`ato {name}` comes from a separate package that is not installed; "
            f"install it with: {install}"
        )
    return (
        f"{distribution} {version} is installed but registers no {GROUP!r} entry point "
        f"{name!r} (an older version, or an editable install made before it was added); "
        f"reinstall it: {install}"
    )
