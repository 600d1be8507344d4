"""Argument parsing and the ``ato`` entry point (exit codes, error messages)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from ..errors import (
    DatabaseNotFoundError,
    InvalidModeError,
    NameNotFoundError,
    NotATrackerDatabaseError,
    ProjectNotFoundError,
    RunNotFoundError,
    SchemaError,
    TrackerError,
    UsageError,
)
from ..read.finder import SQLFinder
from ..read.modes import Modes
from ..storage.settings import (
    DB_ENV_VAR,
    DEFAULT_DB_URL,
    SPOOL_ENV_VAR,
    default_db_url,
    default_spool_dir,
    hide_password,
)
from ..storage.statuses import MARKABLE
from ..storage.versions import ato_versions
from . import commands
from .export import FORMATS
from .imports import add_import_commands, run_import
from .selection import split_names
from .sync import sync

EXIT_OK, EXIT_NOT_FOUND, EXIT_USAGE = 0, 1, 2
PIPE_WIDTH = 160  # table width when stdout is not a terminal (COLUMNS overrides it)

_EPILOG = f"""\
exit codes: 0 success, {EXIT_NOT_FOUND} unknown run/project/metric/param or no run logged the
metric, {EXIT_USAGE} usage error or unusable database (e.g. a SQLite file that does not exist, a
database of an older schema revision: run `ato db upgrade`, or a failed upgrade)."""
_MODE_HELP = (
    "metric directions: KEY=max|min items separated by commas (e.g. loss=min,acc=max), or a "
    "bare max/min for every key; other keys: min for names like loss/error, else max"
)


class _ShowVersions(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Raised by ``--version`` so that ``main`` prints to its own output stream."""


class _VersionAction(argparse.Action):
    def __call__(self, *args: object, **kwargs: object) -> None:
        raise _ShowVersions


def build_parser() -> argparse.ArgumentParser:
    """The ``ato`` argument parser. Global options (``--db``, ``--project``, ``--json``) are
    accepted before or after the subcommand."""
    common = argparse.ArgumentParser(add_help=False)
    _add_global_options(common, default=argparse.SUPPRESS)

    parser = argparse.ArgumentParser(
        prog="ato",
        description="Inspect runs recorded by ato.tracker; check and upgrade the database schema.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_global_options(parser, default=None)
    parser.add_argument(
        "--version", nargs=0, action=_VersionAction, help="print every installed ato package"
    )
    groups = parser.add_subparsers(
        dest="group", required=True, metavar="{runs,projects,db,sync,import,dashboard}"
    )
    projects = groups.add_parser("projects", parents=[common], help="projects with run counts")
    projects.set_defaults(action="projects")
    runs = groups.add_parser("runs", help="list, show, compare, export runs; find the best run")
    actions = runs.add_subparsers(dest="action", required=True, metavar="ACTION")

    listing = actions.add_parser("list", parents=[common], help="table of runs")
    listing.add_argument("--status", help="only runs with this status, e.g. failed")
    listing.add_argument(
        "--tag", action="append", default=[], dest="tags", help="only runs with this tag (repeat)"
    )
    listing.add_argument(
        "--metric",
        action="append",
        dest="metrics",
        help="metric column to show (repeat; default: every logged key)",
    )
    page = listing.add_mutually_exclusive_group()
    page.add_argument(
        "--limit",
        type=_count,
        help="show only the newest N runs (with --sort: the first N); default: "
        f"{commands.DEFAULT_PAGE} in the table, every run with --json",
    )
    page.add_argument("--all", action="store_true", dest="show_all", help="show every matching run")
    listing.add_argument(
        "--params",
        action="append",
        metavar="KEY[,KEY...]",
        help="config values to show as columns, by dotted path (repeat or comma-separate; "
        "default: the few that differ most between the listed runs)",
    )
    listing.add_argument(
        "--sort",
        metavar="COLUMN[:asc|desc]",
        help="sort by a metric (best first), a param, start, duration, status or id",
    )
    listing.add_argument("--search", metavar="ID", help="only the trials of this search")
    listing.add_argument("--mode", type=_modes, default=Modes(), help=_MODE_HELP)

    show = actions.add_parser("show", parents=[common], help="everything recorded for a run")
    show.add_argument("run_id", type=int, metavar="ID")
    show.add_argument(
        "--keys",
        metavar="PATTERN",
        help="only the metric keys matching this glob (* and ?), or starting with it if it "
        "has no wildcard, e.g. 'val/' or '*loss*'",
    )
    shown = show.add_mutually_exclusive_group()
    shown.add_argument(
        "--max-keys",
        type=_count,
        help="show only the first N metric keys (in key order); default: "
        f"{commands.DEFAULT_KEYS} in the table, every key with --json",
    )
    shown.add_argument("--all-keys", action="store_true", help="show every metric key")

    best = actions.add_parser("best", parents=[common], help="the run with the best metric value")
    best.add_argument("--metric", help="metric key, e.g. val/accuracy")
    best.add_argument("--mode", type=_modes, default=Modes(), help=_MODE_HELP)
    best.add_argument(
        "--search",
        metavar="ID",
        help="the answer of this search: its best completed evaluation at the largest budget "
        "reached (ties: the earlier trial)",
    )
    best.add_argument(
        "--by",
        choices=("last", "best"),
        default="last",
        help="with --metric: compare each run's last logged value (default, as `runs list` "
        "shows) or its best value ever logged; not with --search (its answer ranks last values)",
    )

    compare = actions.add_parser(
        "compare", parents=[common], help="config differences and metrics of two or more runs"
    )
    compare.add_argument("run_ids", type=int, nargs="+", metavar="ID")
    compare.add_argument("--mode", type=_modes, default=Modes(), help=_MODE_HELP)

    metrics = actions.add_parser(
        "metrics", parents=[common], help="every logged value of a run (streamed)"
    )
    metrics.add_argument("run_id", type=int, metavar="RUN")
    metrics.add_argument(
        "--key", action="append", dest="keys", help="only this metric key (repeat)"
    )
    metrics.add_argument("--format", choices=FORMATS, default=None, help="default: table")

    explain = actions.add_parser(
        "explain", parents=[common], help="where a run's value of a config key came from"
    )
    explain.add_argument("run_id", type=int, metavar="RUN")
    explain.add_argument("key", metavar="KEY", help="dotted config key, e.g. optim.lr")

    marking = actions.add_parser(
        "mark", parents=[common], help="store a final status, e.g. for a crashed run"
    )
    marking.add_argument("run_id", type=int, metavar="RUN")
    marking.add_argument("--status", required=True, choices=MARKABLE, dest="new_status")

    exporting = actions.add_parser(
        "export", parents=[common], help="one row per run with params.* and metrics.* columns"
    )
    exporting.add_argument("export_project", nargs="?", metavar="PROJECT")
    exporting.add_argument("--format", choices=("csv", "json"), default="csv")
    exporting.add_argument(
        "--params", action="append", metavar="KEY[,KEY...]", help="only these params"
    )
    _add_db_commands(groups, common)
    sync = groups.add_parser(
        "sync",
        parents=[common],
        help="write metrics saved in the local spool (database was unreachable) into --db",
    )
    sync.add_argument(
        "--spool-dir",
        type=Path,
        default=None,
        help=f"spool directory (default: ${SPOOL_ENV_VAR}, else ~/.local/share/ato/spool)",
    )
    add_import_commands(groups, common)
    _add_dashboard(groups)
    return parser


def _modes(text: str) -> Modes:
    """argparse type: a metric direction spec (see ``ato.tracker.read.modes.Modes``)."""
    try:
        return Modes.parse(text)
    except InvalidModeError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _add_db_commands(groups: Any, common: argparse.ArgumentParser) -> None:
    db = groups.add_parser("db", help="schema revision of the database; upgrade it")
    actions = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser(
        "upgrade",
        parents=[common],
        help="upgrade the database to the newest schema revision (SQLite: backup copy first)",
    )
    actions.add_parser(
        "current", parents=[common], help="the database's schema revision, and if it is current"
    )
    actions.add_parser("history", parents=[common], help="every schema revision, oldest first")


def _add_dashboard(groups: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``ato dashboard``: its options come from ato-dashboard, a separate package."""
    dashboard = groups.add_parser(
        "dashboard", help="serve a read-only web dashboard (package ato-dashboard)"
    )
    try:
        from ato.dashboard.cli import add_arguments
    except ImportError:  # accept its options, then say which package to install
        for flag in ("--db", "--host", "--port"):
            dashboard.add_argument(flag, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        dashboard.add_argument("--open", action="store_true", help=argparse.SUPPRESS)
        dashboard.set_defaults(dashboard_missing=True)
        return
    add_arguments(dashboard, db_default=argparse.SUPPRESS)


def _count(text: str) -> int:
    """argparse type: an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value


def _add_global_options(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--db",
        default=default,
        metavar="URL",
        help=f"SQLAlchemy URL or SQLite file (default: ${DB_ENV_VAR}, else {DEFAULT_DB_URL})",
    )
    parser.add_argument(
        "--project", default=default, metavar="NAME", help="project (default: all, or the only one)"
    )
    parser.add_argument(
        "--json", action="store_true", default=default, help="machine-readable JSON output"
    )


def main(argv: Sequence[str] | None = None, *, stdout: IO[str] | None = None) -> int:
    """Run ``ato`` with ``argv`` (default ``sys.argv[1:]``) and return the exit code.

    Output goes to ``stdout`` (default ``sys.stdout``), errors to ``sys.stderr`` as
    ``ato: error: <message>``. Exit codes: 0 success; 1 unknown run or project, or no run
    logged the metric; 2 usage error, missing SQLite file, or a database that cannot be read.
    """
    parser = build_parser()
    out = stdout or sys.stdout
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a usage error (2)
        return int(exit_.code or 0)
    except _ShowVersions:
        versions = ato_versions()
        out.write("".join(f"{name} {version}\n" for name, version in versions.items()))
        return EXIT_OK
    if args.group == "dashboard":
        return _dashboard(parser, args)
    if args.group == "sync":
        return _sync(parser, args, stdout or sys.stdout)
    if args.group == "import":
        return _import(parser, args, out)
    if args.action == "compare" and len(args.run_ids) < 2:
        return _fail(parser, "compare needs at least two run ids", EXIT_USAGE)
    db_url = args.db or default_db_url()
    try:
        if args.group == "db":
            _dispatch_db(db_url, bool(args.json), out, args.action)
            return EXIT_OK
        ctx = commands.Context(
            finder=SQLFinder(db_url, must_exist=True),
            project=args.project,
            as_json=bool(args.json),
            console=_console(out),
        )
        _dispatch(ctx, args)
    except (RunNotFoundError, ProjectNotFoundError, NameNotFoundError) as error:
        return _fail(parser, str(error), EXIT_NOT_FOUND)
    except (UsageError, DatabaseNotFoundError, NotATrackerDatabaseError, SchemaError) as error:
        return _fail(parser, str(error), EXIT_USAGE)
    except ArgumentError as error:
        shown = hide_password(db_url)
        return _fail(parser, f"--db {shown!r} is not a database URL: {error}", EXIT_USAGE)
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        return _fail(parser, f"cannot read {hide_password(db_url)}: {reason}", EXIT_USAGE)
    return EXIT_OK


def _sync(parser: argparse.ArgumentParser, args: argparse.Namespace, out: IO[str]) -> int:
    db_url = args.db or default_db_url()
    try:
        sync(db_url, args.spool_dir or default_spool_dir(), out)
    except (ArgumentError, SQLAlchemyError, TrackerError, OSError) as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        return _fail(parser, f"cannot sync into {hide_password(db_url)}: {reason}", EXIT_USAGE)
    return EXIT_OK


def _import(parser: argparse.ArgumentParser, args: argparse.Namespace, out: IO[str]) -> int:
    try:
        run_import(args, out)
    except (ArgumentError, SQLAlchemyError, TrackerError, OSError) as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        return _fail(parser, f"import failed: {reason}", EXIT_USAGE)
    return EXIT_OK


def _dispatch_db(db_url: str, as_json: bool, out: IO[str], action: str) -> None:
    from . import db  # loads Alembic only for these commands

    ctx = db.DbContext(db_url=db_url, as_json=as_json, console=_console(out))
    {"upgrade": db.upgrade, "current": db.current, "history": db.history}[action](ctx)


def _dashboard(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if getattr(args, "dashboard_missing", False):
        return _fail(
            parser,
            "the dashboard is a separate package; install it with: pip install ato-dashboard "
            "(or pip install 'ato[dashboard]')",
            EXIT_USAGE,
        )
    from ato.dashboard.cli import serve

    return serve(args)


def _dispatch(ctx: commands.Context, args: argparse.Namespace) -> None:
    if args.group == "projects":
        commands.list_projects(ctx)
    elif args.action == "list":
        options = commands.ListOptions(
            status=args.status,
            tags=args.tags,
            metrics=split_names(args.metrics),
            limit=args.limit,
            params=split_names(args.params),
            sort=args.sort,
            search=args.search,
            modes=args.mode,
            show_all=args.show_all,
        )
        commands.list_runs(ctx, options)
    elif args.action == "show":
        commands.show_run(ctx, args.run_id, args.keys, args.max_keys, args.all_keys)
    elif args.action == "best":
        commands.best_run(ctx, args.metric, args.mode, args.search, args.by)
    elif args.action == "compare":
        commands.compare_runs(ctx, args.run_ids, args.mode)
    elif args.action == "metrics":
        fmt = args.format or ("json" if ctx.as_json else "table")
        commands.export_metrics(ctx, args.run_id, split_names(args.keys), fmt)
    elif args.action == "explain":
        commands.explain_key(ctx, args.run_id, args.key)
    elif args.action == "mark":
        commands.mark(ctx, args.run_id, args.new_status)
    elif args.action == "export":
        commands.export_runs(ctx, args.export_project, args.format, split_names(args.params))


def _console(out: IO[str]) -> Console:
    is_terminal = hasattr(out, "isatty") and out.isatty()
    columns = os.environ.get("COLUMNS", "")
    width = None if is_terminal else int(columns) if columns.isdigit() else PIPE_WIDTH
    return Console(file=out, width=width, highlight=False)


def _fail(parser: argparse.ArgumentParser, message: str, code: int) -> int:
    sys.stderr.write(f"{parser.prog}: error: {message}\n")
    return code
