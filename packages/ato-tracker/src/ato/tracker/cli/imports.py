"""``ato import optuna|mlflow|tensorboard``: bring runs of another tool into the tracker."""

from __future__ import annotations

import argparse
import json
from typing import IO, Any

from ..errors import TrackerError
from ..storage.settings import default_db_url


def add_import_commands(groups: Any, common: argparse.ArgumentParser) -> None:
    """Register ``ato import`` and its sources under the subcommand ``groups``."""
    group = groups.add_parser(
        "import", help="import Optuna studies, MLflow runs or TensorBoard logs into --db"
    )
    sources = group.add_subparsers(dest="source", required=True, metavar="SOURCE")
    optuna = sources.add_parser("optuna", parents=[common], help="an Optuna study, as a search")
    optuna.add_argument("--storage", required=True, metavar="URL", help="Optuna storage URL")
    optuna.add_argument("--study", required=True, metavar="NAME", help="the study's name")
    optuna.add_argument("--metric-key", metavar="KEY", help="objective's key (default: value)")
    mlflow = sources.add_parser("mlflow", parents=[common], help="MLflow experiments and runs")
    mlflow.add_argument(
        "--from", required=True, dest="uri", metavar="URI", help="mlruns folder or tracking URI"
    )
    mlflow.add_argument(
        "--experiment",
        action="append",
        dest="experiments",
        metavar="NAME",
        help="only this experiment (repeat; default: all)",
    )
    tensorboard = sources.add_parser(
        "tensorboard", parents=[common], help="TensorBoard logs: each run directory a run"
    )
    tensorboard.add_argument("logdir", metavar="DIR", help="the log directory")
    for parser in (optuna, mlflow, tensorboard):
        parser.add_argument(
            "--no-progress", action="store_true", help="no progress bar, even on a terminal"
        )


def run_import(args: argparse.Namespace, out: IO[str]) -> None:
    """Run the ``ato import`` command ``args`` describes; print its counts to ``out``.

    Raises:
        ImportSourceError: the source cannot be read (nothing written).
        MissingDependencyError: the source's extra is not installed.
    """
    from .. import importers

    db = args.db or default_db_url()
    show = False if args.no_progress else None
    if args.source == "optuna":
        report = importers.from_optuna(
            args.storage,
            args.study,
            db,
            project=args.project,
            metric_key=args.metric_key,
            show_progress=show,
        )
    elif args.source == "mlflow":
        report = importers.from_mlflow(
            args.uri, db, experiments=args.experiments, show_progress=show
        )
    elif args.source == "tensorboard":
        report = importers.from_tensorboard(
            args.logdir, db, project=args.project, show_progress=show
        )
    else:  # argparse allows no other value
        raise TrackerError(f"unknown import source {args.source!r}")
    if args.json:
        out.write(json.dumps(vars(report)) + "\n")
        return
    out.write(report.summary() + "\n")
    for source_id, reason in report.skipped:
        out.write(f"  skipped {source_id}: {reason}\n")
