"""One function per ``ato`` subcommand: each reads its parsed arguments and runs the command.

A handler is ``handler(args, out) -> exit code``: ``args`` is the ``argparse.Namespace`` of
the command line, ``out`` the text stream for its output. Errors are raised, and turned into a
message and an exit code by the policy the command table gives the command
(`ato.tracker.cli.failures`). The command table (`ato.tracker.cli.registry`) says which
handler runs which subcommand.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import IO, TYPE_CHECKING

from rich.console import Console

from ..errors import UsageError
from ..read.finder import SQLFinder
from ..storage.settings import default_db_url, default_spool_dir
from . import artifacts, commands
from .failures import EXIT_OK
from .selection import split_names
from .sync import sync as sync_spool

if TYPE_CHECKING:
    from ..importers.report import ImportReport
    from .db import DbContext

PIPE_WIDTH = 160  # table width when stdout is not a terminal (COLUMNS overrides it)


def db_url_of(args: argparse.Namespace) -> str:
    """The database of the command line: ``--db``, else ``$ATO_DB``, else the default file."""
    return getattr(args, "db", None) or default_db_url()


def console(out: IO[str]) -> Console:
    """A rich console writing to ``out``: the terminal's width, else ``$COLUMNS``, else
    `PIPE_WIDTH` (so piped tables do not wrap at 80 columns)."""
    is_terminal = hasattr(out, "isatty") and out.isatty()
    columns = os.environ.get("COLUMNS", "")
    width = None if is_terminal else int(columns) if columns.isdigit() else PIPE_WIDTH
    return Console(file=out, width=width, highlight=False)


def _context(args: argparse.Namespace, out: IO[str]) -> commands.Context:
    """What the ``runs``/``projects`` commands read through; the database must exist."""
    return commands.Context(
        finder=SQLFinder(
            db_url_of(args), must_exist=True, artifact_root=getattr(args, "artifact_root", None)
        ),
        project=args.project,
        as_json=bool(args.json),
        console=console(out),
    )


def projects(args: argparse.Namespace, out: IO[str]) -> int:
    """``ato projects``."""
    commands.list_projects(_context(args, out))
    return EXIT_OK


def runs_list(args: argparse.Namespace, out: IO[str]) -> int:
    """``ato runs list``."""
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
    commands.list_runs(_context(args, out), options)
    return EXIT_OK


def runs_show(args: argparse.Namespace, out: IO[str]) -> int:
    """``ato runs show ID``."""
    ctx = _context(args, out)
    commands.show_run(ctx, args.run_id, args.keys, args.max_keys, args.all_keys)
    return EXIT_OK


def runs_best(args: argparse.Namespace, out: IO[str]) -> int:
    """``ato runs best``."""
    commands.best_run(_context(args, out), args.metric, args.mode, args.search, args.by)
    return EXIT_OK


def runs_compare(args: argparse.Namespace, out: IO[str]) -> int:
    """``ato runs compare ID ID [ID ...]``.

    Raises:
        UsageError: fewer than two run ids (checked before the database is opened).
    """
    if len(args.run_ids) < 2:
        raise UsageError("compare needs at least two run ids")
    commands.compare_runs(_context(args, out), args.run_ids, args.mode)
    return EXIT_OK


def runs_metrics(args: argparse.Namespace, out: IO[str]) -> int:
    """``ato runs metrics RUN``; the format defaults to JSON with ``--json``, else a table."""
    ctx = _context(args, out)
    fmt = args.format or ("json" if ctx.as_json else "table")
    commands.export_metrics(ctx, args.run_id, split_names(args.keys), fmt)
    return EXIT_OK


def runs_explain(args: argparse.Namespace, out: IO[str]) -> int:
    """``ato runs explain RUN KEY``."""
    commands.explain_key(_context(args, out), args.run_id, args.key)
    return EXIT_OK


def runs_artifacts(args: argparse.Namespace, out: IO[str]) -> int:
    """``ato runs artifacts RUN``."""
    artifacts.list_artifacts(_context(args, out), args.run_id)
    return EXIT_OK


def runs_get(args: argparse.Namespace, out: IO[str]) -> int:
    """``ato runs get RUN NAME [-o PATH]``."""
    artifacts.get_artifact(
        _context(args, out), args.run_id, args.name, args.output, force=args.force
    )
    return EXIT_OK


def runs_mark(args: argparse.Namespace, out: IO[str]) -> int:
    """``ato runs mark RUN --status S``."""
    commands.mark(_context(args, out), args.run_id, args.new_status)
    return EXIT_OK


def runs_export(args: argparse.Namespace, out: IO[str]) -> int:
    """``ato runs export [PROJECT]``."""
    ctx = _context(args, out)
    commands.export_runs(ctx, args.export_project, args.format, split_names(args.params))
    return EXIT_OK


def _db_context(args: argparse.Namespace, out: IO[str]) -> DbContext:
    from .db import DbContext  # loads Alembic only for the ``ato db`` commands

    return DbContext(db_url=db_url_of(args), as_json=bool(args.json), console=console(out))


def db_upgrade(args: argparse.Namespace, out: IO[str]) -> int:
    """``ato db upgrade``."""
    from .db import upgrade

    upgrade(_db_context(args, out))
    return EXIT_OK


def db_current(args: argparse.Namespace, out: IO[str]) -> int:
    """``ato db current``."""
    from .db import current

    current(_db_context(args, out))
    return EXIT_OK


def db_history(args: argparse.Namespace, out: IO[str]) -> int:
    """``ato db history``."""
    from .db import history

    history(_db_context(args, out))
    return EXIT_OK


def sync(args: argparse.Namespace, out: IO[str]) -> int:
    """``ato sync``: replay the spool files of ``--db`` (see `ato.tracker.cli.sync.sync`)."""
    sync_spool(db_url_of(args), args.spool_dir or default_spool_dir(), out)
    return EXIT_OK


def _report(report: ImportReport, args: argparse.Namespace, out: IO[str]) -> int:
    """Print an import's counts (and what it skipped), or with ``--json`` its fields."""
    if args.json:
        out.write(json.dumps(vars(report)) + "\n")
        return EXIT_OK
    out.write(report.summary() + "\n")
    for source_id, reason in report.skipped:
        out.write(f"  skipped {source_id}: {reason}\n")
    return EXIT_OK


def _progress(args: argparse.Namespace) -> bool | None:
    """``show_progress`` of the importers: off with ``--no-progress``, else on a terminal."""
    return False if args.no_progress else None


def import_optuna(args: argparse.Namespace, out: IO[str]) -> int:
    """``ato import optuna``: an Optuna study as a search (see `ato.tracker.importers`).

    Raises:
        ImportSourceError: the study cannot be read (nothing written).
        MissingDependencyError: the ``optuna`` extra is not installed.
    """
    from ..importers import from_optuna

    report = from_optuna(
        args.storage,
        args.study,
        db_url_of(args),
        project=args.project,
        metric_key=args.metric_key,
        show_progress=_progress(args),
    )
    return _report(report, args, out)


def import_mlflow(args: argparse.Namespace, out: IO[str]) -> int:
    """``ato import mlflow``: MLflow experiments and runs (see `ato.tracker.importers`).

    Raises:
        ImportSourceError: the tracking store cannot be read (nothing written).
        MissingDependencyError: the ``mlflow`` extra is not installed.
    """
    from ..importers import from_mlflow

    report = from_mlflow(
        args.uri,
        db_url_of(args),
        experiments=args.experiments,
        show_progress=_progress(args),
        via_client=args.via_client,
    )
    return _report(report, args, out)


def import_tensorboard(args: argparse.Namespace, out: IO[str]) -> int:
    """``ato import tensorboard DIR``: each run directory a run (see `ato.tracker.importers`).

    Raises:
        ImportSourceError: the log directory cannot be read (nothing written).
        MissingDependencyError: the ``tensorboard`` extra is not installed.
    """
    from ..importers import from_tensorboard

    report = from_tensorboard(
        args.logdir, db_url_of(args), project=args.project, show_progress=_progress(args)
    )
    return _report(report, args, out)


def search_status(args: argparse.Namespace, out: IO[str]) -> int:
    """``ato search status ID``."""
    from .searches import show_status

    show_status(db_url_of(args), args.search_id, bool(args.json), console(out), out)
    return EXIT_OK


def search_workers(args: argparse.Namespace, out: IO[str]) -> int:
    """``ato search workers N -- COMMAND``."""
    from .searches import run_workers

    command = list(args.worker_command)
    if command[:1] == ["--"]:
        command = command[1:]
    return run_workers(args.count, command, console(out))
