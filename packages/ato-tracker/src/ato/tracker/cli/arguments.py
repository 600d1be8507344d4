"""The options of each ``ato`` subcommand: one function per subcommand that takes options.

Each function adds its subcommand's own options to the ``argparse`` parser the command table
(`ato.tracker.cli.registry`) made for it; the global options (``--db``, ``--project``,
``--json``) come from `global_options`, accepted before or after the subcommand.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import InvalidModeError
from ..read.modes import Modes
from ..storage.settings import DB_ENV_VAR, DEFAULT_DB_URL, SPOOL_ENV_VAR
from ..storage.statuses import MARKABLE
from .commands import DEFAULT_KEYS, DEFAULT_PAGE
from .export import FORMATS

_MODE_HELP = (
    "metric directions: KEY=max|min items separated by commas (e.g. loss=min,acc=max), or a "
    "bare max/min for every key; other keys: min for names like loss/error, else max"
)


def global_options(parser: argparse.ArgumentParser, default: object) -> None:
    """``--db URL``, ``--project NAME`` and ``--json``, with ``default`` as their default
    (``argparse.SUPPRESS`` on a subcommand, so a value given before it is kept)."""
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


def modes(text: str) -> Modes:
    """argparse type: a metric direction spec (see ``ato.tracker.modes.Modes``)."""
    try:
        return Modes.parse(text)
    except InvalidModeError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def count(text: str) -> int:
    """argparse type: an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value


def runs_list(parser: argparse.ArgumentParser) -> None:
    """``ato runs list``: filters, columns, paging and sorting of the runs table."""
    parser.add_argument("--status", help="only runs with this status, e.g. failed")
    parser.add_argument(
        "--tag", action="append", default=[], dest="tags", help="only runs with this tag (repeat)"
    )
    parser.add_argument(
        "--metric",
        action="append",
        dest="metrics",
        help="metric column to show (repeat; default: every logged key)",
    )
    page = parser.add_mutually_exclusive_group()
    page.add_argument(
        "--limit",
        type=count,
        help="show only the newest N runs (with --sort: the first N); default: "
        f"{DEFAULT_PAGE} in the table, every run with --json",
    )
    page.add_argument("--all", action="store_true", dest="show_all", help="show every matching run")
    parser.add_argument(
        "--params",
        action="append",
        metavar="KEY[,KEY...]",
        help="config values to show as columns, by dotted path (repeat or comma-separate; "
        "default: the few that differ most between the listed runs)",
    )
    parser.add_argument(
        "--sort",
        metavar="COLUMN[:asc|desc]",
        help="sort by a metric (best first), a param, start, duration, status or id",
    )
    parser.add_argument("--search", metavar="ID", help="only the trials of this search")
    parser.add_argument("--mode", type=modes, default=Modes(), help=_MODE_HELP)


def runs_show(parser: argparse.ArgumentParser) -> None:
    """``ato runs show ID``: which metric keys to show."""
    parser.add_argument("run_id", type=int, metavar="ID")
    parser.add_argument(
        "--keys",
        metavar="PATTERN",
        help="only the metric keys matching this glob (* and ?), or starting with it if it "
        "has no wildcard, e.g. 'val/' or '*loss*'",
    )
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument(
        "--max-keys",
        type=count,
        help="show only the first N metric keys (in key order); default: "
        f"{DEFAULT_KEYS} in the table, every key with --json",
    )
    shown.add_argument("--all-keys", action="store_true", help="show every metric key")


def runs_best(parser: argparse.ArgumentParser) -> None:
    """``ato runs best``: the metric and its direction, or the search whose answer to show."""
    parser.add_argument("--metric", help="metric key, e.g. val/accuracy")
    parser.add_argument("--mode", type=modes, default=Modes(), help=_MODE_HELP)
    parser.add_argument(
        "--search",
        metavar="ID",
        help="the answer of this search: its best completed evaluation at the largest budget "
        "reached (ties: the earlier trial)",
    )
    parser.add_argument(
        "--by",
        choices=("last", "best"),
        default="last",
        help="with --metric: compare each run's last logged value (default, as `runs list` "
        "shows) or its best value ever logged; not with --search (its answer ranks last values)",
    )


def runs_compare(parser: argparse.ArgumentParser) -> None:
    """``ato runs compare ID ID [ID ...]``."""
    parser.add_argument("run_ids", type=int, nargs="+", metavar="ID")
    parser.add_argument("--mode", type=modes, default=Modes(), help=_MODE_HELP)


def runs_metrics(parser: argparse.ArgumentParser) -> None:
    """``ato runs metrics RUN``: which keys, in which format."""
    parser.add_argument("run_id", type=int, metavar="RUN")
    parser.add_argument("--key", action="append", dest="keys", help="only this metric key (repeat)")
    parser.add_argument("--format", choices=FORMATS, default=None, help="default: table")


def runs_explain(parser: argparse.ArgumentParser) -> None:
    """``ato runs explain RUN KEY``."""
    parser.add_argument("run_id", type=int, metavar="RUN")
    parser.add_argument("key", metavar="KEY", help="dotted config key, e.g. optim.lr")


def _artifact_root(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--artifact-root",
        metavar="DIR",
        help="the database's artifact store (default: $ATO_ARTIFACT_ROOT, else <file>.artifacts "
        "next to a SQLite file)",
    )


def runs_artifacts(parser: argparse.ArgumentParser) -> None:
    """``ato runs artifacts RUN``."""
    parser.add_argument("run_id", type=int, metavar="RUN")
    _artifact_root(parser)


def runs_get(parser: argparse.ArgumentParser) -> None:
    """``ato runs get RUN NAME [-o PATH] [--force]``."""
    parser.add_argument("run_id", type=int, metavar="RUN")
    parser.add_argument("name", metavar="NAME", help="the artifact's name (ato runs artifacts)")
    parser.add_argument(
        "-o", "--output", metavar="PATH", help="file or directory to write (default: ./NAME's base)"
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    _artifact_root(parser)


def runs_mark(parser: argparse.ArgumentParser) -> None:
    """``ato runs mark RUN --status S``."""
    parser.add_argument("run_id", type=int, metavar="RUN")
    parser.add_argument("--status", required=True, choices=MARKABLE, dest="new_status")


def runs_export(parser: argparse.ArgumentParser) -> None:
    """``ato runs export [PROJECT]``: format and param columns."""
    parser.add_argument("export_project", nargs="?", metavar="PROJECT")
    parser.add_argument("--format", choices=("csv", "json"), default="csv")
    parser.add_argument(
        "--params", action="append", metavar="KEY[,KEY...]", help="only these params"
    )


def sync(parser: argparse.ArgumentParser) -> None:
    """``ato sync``: where the spool files are."""
    parser.add_argument(
        "--spool-dir",
        type=Path,
        default=None,
        help=f"spool directory (default: ${SPOOL_ENV_VAR}, else ~/.local/share/ato/spool)",
    )


def _progress(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar, even on a terminal"
    )


def import_optuna(parser: argparse.ArgumentParser) -> None:
    """``ato import optuna``: the storage and study to read."""
    parser.add_argument("--storage", required=True, metavar="URL", help="Optuna storage URL")
    parser.add_argument("--study", required=True, metavar="NAME", help="the study's name")
    parser.add_argument("--metric-key", metavar="KEY", help="objective's key (default: value)")
    _progress(parser)


def import_mlflow(parser: argparse.ArgumentParser) -> None:
    """``ato import mlflow``: the tracking URI and which experiments."""
    parser.add_argument(
        "--from", required=True, dest="uri", metavar="URI", help="mlruns folder or tracking URI"
    )
    parser.add_argument(
        "--experiment",
        action="append",
        dest="experiments",
        metavar="NAME",
        help="only this experiment (repeat; default: all)",
    )
    parser.add_argument(
        "--via-client",
        action="store_true",
        help="read an MLflow database through MLflow's client, not its tables directly "
        "(for a schema revision the direct reader does not know)",
    )
    _progress(parser)


def import_tensorboard(parser: argparse.ArgumentParser) -> None:
    """``ato import tensorboard DIR``."""
    parser.add_argument("logdir", metavar="DIR", help="the log directory")
    _progress(parser)


def search_status(parser: argparse.ArgumentParser) -> None:
    """``ato search status ID``."""
    parser.add_argument("search_id", metavar="ID", help="the search id (Search(search_id=...))")


def search_workers(parser: argparse.ArgumentParser) -> None:
    """``ato search workers N -- COMMAND [ARGS...]``."""
    parser.add_argument("count", type=int, metavar="N", help="number of worker processes")
    parser.add_argument(
        "worker_command",
        nargs=argparse.REMAINDER,
        metavar="-- COMMAND",
        help="the script that runs the search (the same search_id in every worker)",
    )
