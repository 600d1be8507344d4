"""Argument parsing and the ``ato`` entry point (exit codes, error messages)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import IO, Any

from rich.console import Console
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from ..errors import (
    DatabaseNotFoundError,
    NotATrackerDatabaseError,
    ProjectNotFoundError,
    RunNotFoundError,
    SchemaError,
    UsageError,
)
from ..finder import SQLFinder
from ..settings import DB_ENV_VAR, DEFAULT_DB_URL, default_db_url
from . import commands

EXIT_OK, EXIT_NOT_FOUND, EXIT_USAGE = 0, 1, 2
PIPE_WIDTH = 160  # table width when stdout is not a terminal (COLUMNS overrides it)

_EPILOG = f"""\
exit codes: 0 success, {EXIT_NOT_FOUND} unknown run/project or no run logged the metric,
{EXIT_USAGE} usage error or unusable database (e.g. a SQLite file that does not exist, a
database of an older schema revision: run `ato db upgrade`, or a failed upgrade)."""


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
    groups = parser.add_subparsers(dest="group", required=True, metavar="{runs,db}")
    runs = groups.add_parser("runs", help="list, show, compare runs; find the best run")
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
    listing.add_argument("--limit", type=_count, help="show only the newest N runs")

    show = actions.add_parser("show", parents=[common], help="everything recorded for a run")
    show.add_argument("run_id", type=int, metavar="ID")

    best = actions.add_parser("best", parents=[common], help="the run with the best metric value")
    best.add_argument("--metric", required=True, help="metric key, e.g. val/accuracy")
    best.add_argument("--mode", choices=("max", "min"), default="max", help="default: max")

    compare = actions.add_parser(
        "compare", parents=[common], help="config differences and metrics of two or more runs"
    )
    compare.add_argument("run_ids", type=int, nargs="+", metavar="ID")
    compare.add_argument(
        "--mode", choices=("max", "min"), default="max", help="which value is best (default: max)"
    )
    _add_db_commands(groups, common)
    return parser


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
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a usage error (2)
        return int(exit_.code or 0)
    if args.action == "compare" and len(args.run_ids) < 2:
        return _fail(parser, "compare needs at least two run ids", EXIT_USAGE)
    db_url = args.db or default_db_url()
    out = stdout or sys.stdout
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
    except (RunNotFoundError, ProjectNotFoundError) as error:
        return _fail(parser, str(error), EXIT_NOT_FOUND)
    except (UsageError, DatabaseNotFoundError, NotATrackerDatabaseError, SchemaError) as error:
        return _fail(parser, str(error), EXIT_USAGE)
    except ArgumentError as error:
        return _fail(parser, f"--db {db_url!r} is not a database URL: {error}", EXIT_USAGE)
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        return _fail(parser, f"cannot read {commands.display_url(db_url)}: {reason}", EXIT_USAGE)
    return EXIT_OK


def _dispatch_db(db_url: str, as_json: bool, out: IO[str], action: str) -> None:
    from . import db  # loads Alembic only for these commands

    ctx = db.DbContext(db_url=db_url, as_json=as_json, console=_console(out))
    {"upgrade": db.upgrade, "current": db.current, "history": db.history}[action](ctx)


def _dispatch(ctx: commands.Context, args: argparse.Namespace) -> None:
    if args.action == "list":
        commands.list_runs(
            ctx, status=args.status, tags=args.tags, metrics=args.metrics, limit=args.limit
        )
    elif args.action == "show":
        commands.show_run(ctx, args.run_id)
    elif args.action == "best":
        commands.best_run(ctx, args.metric, args.mode)
    else:
        commands.compare_runs(ctx, args.run_ids, args.mode)


def _console(out: IO[str]) -> Console:
    is_terminal = hasattr(out, "isatty") and out.isatty()
    columns = os.environ.get("COLUMNS", "")
    width = None if is_terminal else int(columns) if columns.isdigit() else PIPE_WIDTH
    return Console(file=out, width=width, highlight=False)


def _fail(parser: argparse.ArgumentParser, message: str, code: int) -> int:
    sys.stderr.write(f"{parser.prog}: error: {message}\n")
    return code
