"""The ``ato runs ...`` commands: each reads runs through [`SQLFinder`][ato.tracker.SQLFinder] and
prints a rich table, or JSON with ``--json``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.text import Text

from ..errors import ProjectNotFoundError, RunNotFoundError, UsageError
from ..finder import SQLFinder
from ..results import Run
from ..settings import hide_password as display_url
from .records import MISSING, all_metric_keys, config_diff, json_number, run_record, summary_record
from .tables import format_number, literal, render_comparison, render_run, render_runs_table


@dataclass
class Context:
    """What every command needs: the finder, the ``--project`` filter and the output mode."""

    finder: SQLFinder
    project: str | None
    as_json: bool
    console: Console

    def emit(self, data: Any, renderable: RenderableType) -> None:
        """Print ``data`` as JSON with ``--json``, else ``renderable``."""
        if self.as_json:
            self.console.file.write(json.dumps(data, indent=2, allow_nan=False) + "\n")
        else:
            self.console.print(renderable)

    def project_names(self) -> list[str]:
        """``[--project]`` (checked to exist) or every project of the database."""
        if self.project is None:
            return [project.name for project in self.finder.list_projects()]
        if self.finder.find_project(self.project) is None:
            raise ProjectNotFoundError(
                f"no project named {self.project!r} in {display_url(self.finder.db_url)}; "
                f"known projects: {self._known()}"
            )
        return [self.project]

    def single_project(self) -> str:
        """``--project``, or the database's only project.

        Raises:
            UsageError: ``--project`` is missing and the database has several projects.
            ProjectNotFoundError: the project does not exist, or there is none.
        """
        names = self.project_names()
        if not names:
            raise ProjectNotFoundError(
                f"the database {display_url(self.finder.db_url)} has no projects yet"
            )
        if len(names) > 1:
            raise UsageError(f"the database has several projects ({self._known()}); pass --project")
        return names[0]

    def load_run(self, run_id: int) -> Run:
        """Run ``run_id`` (in ``--project`` if given) with its metrics.

        Raises:
            RunNotFoundError: no such run, or it belongs to another project.
        """
        run = self.finder.find_run(run_id)
        if run is None:
            raise RunNotFoundError(f"no run with id {run_id} in {display_url(self.finder.db_url)}")
        if self.project is not None and run.project_name != self.project:
            raise RunNotFoundError(
                f"run {run_id} belongs to project {run.project_name!r}, not {self.project!r}"
            )
        return run

    def _known(self) -> str:
        return ", ".join(repr(p.name) for p in self.finder.list_projects()) or "none"


def list_runs(
    ctx: Context,
    *,
    status: str | None,
    tags: Sequence[str],
    metrics: Sequence[str] | None,
    limit: int | None,
) -> None:
    """``ato runs list``: runs of ``--project`` (or of every project) by id, optionally only
    those with ``status`` and all of ``tags``; ``limit`` keeps the newest ``limit`` runs."""
    runs = [
        run
        for name in ctx.project_names()
        for run in ctx.finder.get_runs_in_project(name, with_metrics=False)
        if (status is None or run.status == status) and all(tag in run.tags for tag in tags)
    ]
    runs.sort(key=lambda run: run.id)
    if limit is not None:
        runs = runs[-limit:] if limit > 0 else []
    summaries = ctx.finder.get_metric_summaries([run.id for run in runs])
    keys = list(metrics) if metrics else all_metric_keys(summaries.values())
    data = [run_record(run, summaries.get(run.id, {})) for run in runs]
    ctx.emit(data, render_runs_table(runs, keys, summaries))


def show_run(ctx: Context, run_id: int) -> None:
    """``ato runs show ID``: one run with config, metric summaries, artifacts, fingerprints."""
    run = ctx.load_run(run_id)
    summaries = ctx.finder.get_metric_summaries([run.id]).get(run.id, {})
    ctx.emit(run_record(run, summaries, details=True), render_run(run, summaries))


def best_run(ctx: Context, metric: str, mode: str) -> None:
    """``ato runs best --metric KEY``: the run of the project with the best value of ``metric``.

    Raises:
        RunNotFoundError: no run of the project logged ``metric``.
    """
    project = ctx.single_project()
    run = ctx.finder.find_best_run(project, metric, mode)
    if run is None:
        raise RunNotFoundError(f"no run of project {project!r} logged metric {metric!r}")
    summaries = ctx.finder.get_metric_summaries([run.id]).get(run.id, {})
    value = summaries[metric].best(mode)
    data = {
        "project": project,
        "metric": metric,
        "mode": mode,
        "value": json_number(value),
        "run": run_record(run, summaries),
    }
    headline = Text.assemble(
        literal(f"Best run of project {project!r} by {metric} ({mode}): "),
        (f"run {run.id}", "bold"),
        literal(f" with {metric} = {format_number(value)}"),
    )
    ctx.emit(data, Group(headline, render_runs_table([run], [metric], {run.id: summaries})))


def compare_runs(ctx: Context, run_ids: Sequence[int], mode: str) -> None:
    """``ato runs compare ID ID [ID ...]``: config differences and last/best metric values."""
    runs = [ctx.load_run(run_id) for run_id in run_ids]
    summaries = ctx.finder.get_metric_summaries([run.id for run in runs])
    diff = config_diff(runs)
    data = {
        "runs": [run.id for run in runs],
        "mode": mode,
        "config_diff": {
            key: {str(run.id): v for run, v in zip(runs, values, strict=True) if v is not MISSING}
            for key, values in diff.items()
        },
        "metrics": {
            key: {
                str(run.id): {
                    "last": summary_record(s)["last"],
                    "best": json_number(s.best(mode)),
                }
                for run in runs
                if (s := summaries.get(run.id, {}).get(key)) is not None
            }
            for key in all_metric_keys(summaries.get(run.id, {}) for run in runs)
        },
    }
    ctx.emit(data, render_comparison(runs, summaries, mode))
