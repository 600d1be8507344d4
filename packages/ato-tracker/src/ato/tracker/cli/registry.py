"""The table of ``ato`` subcommands: `COMMANDS`, and `add_commands`, which builds the
``argparse`` subparsers from it.

Each `Command` names its words (``("runs", "list")``), its one-line help, the function that
adds its options (`ato.tracker.cli.arguments`), the handler that runs it
(`ato.tracker.cli.handlers`) and the policy that turns its errors into an exit code
(`ato.tracker.cli.failures`). A new subcommand is one more row here, one options function
and one handler; the package docstring of `ato.tracker.cli` lists every row (a test checks).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import IO

from . import arguments, handlers
from .external import MissingCommandError, find
from .failures import Policy, importing, reading, syncing

Handler = Callable[[argparse.Namespace, IO[str]], int]
"""``handler(args, out) -> exit code``; errors are raised (see `Command.failure`)."""


def _no_options(parser: argparse.ArgumentParser) -> None:
    """For subcommands with only the global options."""


@dataclass(frozen=True)
class Command:
    """One ``ato`` subcommand.

    Attributes:
        words: the command's words after ``ato``, e.g. ``("runs", "list")``; a second word
            puts it under the group (`GROUPS`) named by the first.
        help: one line for ``--help``.
        handler: runs it (`Handler`).
        options: adds its own options to its parser.
        failure: maps its errors to ``(message, exit code)``.
        global_options: whether it takes ``--db``, ``--project``, ``--json``.
    """

    words: tuple[str, ...]
    help: str
    handler: Handler
    options: Callable[[argparse.ArgumentParser], None] = _no_options
    failure: Policy = reading
    global_options: bool = True

    @property
    def name(self) -> str:
        """The words joined by spaces, e.g. ``'runs list'``."""
        return " ".join(self.words)


@dataclass(frozen=True)
class Group:
    """A first word whose commands are its second words (``ato runs list``)."""

    help: str
    dest: str  # the Namespace attribute that holds the second word
    metavar: str


GROUPS: dict[str, Group] = {
    "runs": Group("list, show, compare, export runs; find the best run", "action", "ACTION"),
    "db": Group("schema revision of the database; upgrade it", "action", "ACTION"),
    "search": Group("shared-database searches: watch one, start local workers", "action", "ACTION"),
    "import": Group(
        "import Optuna studies, MLflow runs or TensorBoard logs into --db", "source", "SOURCE"
    ),
}


@dataclass(frozen=True)
class External:
    """A subcommand that another distribution provides (see `ato.tracker.cli.external`)."""

    distribution: str
    extra: str  # the ``ato`` meta-package's extra that installs it


EXTERNAL: dict[str, External] = {"dashboard": External("ato-dashboard", "dashboard")}


def _external_options(name: str) -> Callable[[argparse.ArgumentParser], None]:
    """Options of an external command: its own when its distribution is installed; else
    its usual options are accepted (hidden) so that running it says what to install."""
    provider = EXTERNAL[name]

    def options(parser: argparse.ArgumentParser) -> None:
        try:
            command = find(name, provider.distribution, provider.extra)
        except MissingCommandError as error:
            for flag in ("--db", "--host", "--port", "--allow-host", "--artifact-root"):
                parser.add_argument(flag, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
            parser.add_argument("--open", action="store_true", help=argparse.SUPPRESS)
            parser.set_defaults(external=None, missing=str(error))
            return
        command.add_arguments(parser, db_default=argparse.SUPPRESS)
        parser.set_defaults(external=command)

    return options


def _run_external(args: argparse.Namespace, out: IO[str]) -> int:
    """Run an external command found by `_external_options`, or say what to install."""
    if args.external is None:
        raise MissingCommandError(args.missing)
    return int(args.external.run(args))


COMMANDS: tuple[Command, ...] = (
    Command(("runs", "list"), "table of runs", handlers.runs_list, arguments.runs_list),
    Command(
        ("runs", "show"), "everything recorded for a run", handlers.runs_show, arguments.runs_show
    ),
    Command(
        ("runs", "best"),
        "the run with the best metric value",
        handlers.runs_best,
        arguments.runs_best,
    ),
    Command(
        ("runs", "compare"),
        "config differences and metrics of two or more runs",
        handlers.runs_compare,
        arguments.runs_compare,
    ),
    Command(
        ("runs", "metrics"),
        "every logged value of a run (streamed)",
        handlers.runs_metrics,
        arguments.runs_metrics,
    ),
    Command(
        ("runs", "explain"),
        "where a run's value of a config key came from",
        handlers.runs_explain,
        arguments.runs_explain,
    ),
    Command(
        ("runs", "artifacts"),
        "a run's artifacts: name, size, SHA-256, stored or reference",
        handlers.runs_artifacts,
        arguments.runs_artifacts,
    ),
    Command(
        ("runs", "get"),
        "copy a stored artifact out of the artifact store (hash checked)",
        handlers.runs_get,
        arguments.runs_get,
    ),
    Command(
        ("runs", "mark"),
        "store a final status, e.g. for a crashed run",
        handlers.runs_mark,
        arguments.runs_mark,
    ),
    Command(
        ("runs", "export"),
        "one row per run with params.* and metrics.* columns",
        handlers.runs_export,
        arguments.runs_export,
    ),
    Command(("projects",), "projects with run counts", handlers.projects),
    Command(
        ("search", "status"),
        "a shared search: jobs by state, each worker's progress",
        handlers.search_status,
        arguments.search_status,
    ),
    Command(
        ("search", "workers"),
        "start N local worker processes of a shared search's script",
        handlers.search_workers,
        arguments.search_workers,
    ),
    Command(
        ("db", "upgrade"),
        "upgrade the database to the newest schema revision (SQLite: backup copy first)",
        handlers.db_upgrade,
    ),
    Command(
        ("db", "current"),
        "the database's schema revision, and if it is current",
        handlers.db_current,
    ),
    Command(("db", "history"), "every schema revision, oldest first", handlers.db_history),
    Command(
        ("sync",),
        "write metrics saved in the local spool (database was unreachable) into --db",
        handlers.sync,
        arguments.sync,
        failure=syncing,
    ),
    Command(
        ("import", "optuna"),
        "an Optuna study, as a search",
        handlers.import_optuna,
        arguments.import_optuna,
        failure=importing,
    ),
    Command(
        ("import", "mlflow"),
        "MLflow experiments and runs",
        handlers.import_mlflow,
        arguments.import_mlflow,
        failure=importing,
    ),
    Command(
        ("import", "tensorboard"),
        "TensorBoard logs: each run directory a run",
        handlers.import_tensorboard,
        arguments.import_tensorboard,
        failure=importing,
    ),
    Command(
        ("dashboard",),
        "serve a read-only web dashboard (package ato-dashboard)",
        _run_external,
        _external_options("dashboard"),
        global_options=False,
    ),
)
"""Every ``ato`` subcommand, in the order ``ato --help`` lists them."""


def first_words() -> list[str]:
    """The distinct first words of `COMMANDS`, in table order."""
    return list(dict.fromkeys(command.words[0] for command in COMMANDS))


def add_commands(
    parser: argparse.ArgumentParser,
    common: argparse.ArgumentParser,
    externals: Collection[str] | None = None,
) -> None:
    """Add a subparser per row of `COMMANDS` to ``parser``; each parser's defaults hold its
    `Command` (``args.command``). ``common`` holds the global options of the subcommands;
    ``externals``: which external commands to look up (default: all), the others get the
    options of a missing one (so ``ato runs list`` never scans the installed packages)."""
    names = first_words()
    top = parser.add_subparsers(dest="group", required=True, metavar="{" + ",".join(names) + "}")
    groups: dict[str, argparse._SubParsersAction[argparse.ArgumentParser]] = {}
    for command in COMMANDS:
        first, *rest = command.words
        where = top
        if rest:
            if first not in groups:
                group = GROUPS[first]
                holder = top.add_parser(first, help=group.help)
                groups[first] = holder.add_subparsers(
                    dest=group.dest, required=True, metavar=group.metavar
                )
            where = groups[first]
        parents: Sequence[argparse.ArgumentParser] = [common] if command.global_options else []
        sub = where.add_parser(command.words[-1], parents=parents, help=command.help)
        _add_options(sub, command, externals)
        sub.set_defaults(command=command)


def _add_options(
    parser: argparse.ArgumentParser, command: Command, externals: Collection[str] | None
) -> None:
    external = command.name in EXTERNAL
    if external and externals is not None and command.name not in externals:
        parser.set_defaults(external=None, missing=f"`ato {command.name}` was not looked up")
        return
    command.options(parser)
