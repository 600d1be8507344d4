"""The ``ato runs ...`` commands: each reads runs through [`SQLFinder`][ato.tracker.SQLFinder] and
prints a rich table, or JSON with ``--json``."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from ato.adict import ADict

from ..errors import NameNotFoundError, ProjectNotFoundError, RunNotFoundError, UsageError
from ..read.answers import SearchAnswer, search_answer
from ..read.finder import SQLFinder
from ..read.frames import param_keys, run_rows
from ..read.modes import Modes
from ..read.names import hint
from ..read.overview import RunRow
from ..read.results import MetricSummary, ProjectSummary, Run
from ..storage.engine import run_transaction
from ..storage.search_runs import SEARCH_PREFIX, is_answer, search_id_of, search_tag
from ..write.marks import mark_run
from . import export, listing
from .records import (
    MISSING,
    all_metric_keys,
    config_diff,
    flatten_config,
    json_number,
    run_record,
    summary_record,
)
from .selection import SortSpec, check_names, differing_params, sort_runs
from .tables import (
    ANSWER_MARK,
    best_run_id,
    command_line,
    explanation_text,
    format_number,
    format_time,
    format_value,
    literal,
    render_comparison,
    render_run,
    render_runs_table,
    status_text,
)


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
        return [self.require_project(self.project)]

    def require_project(self, name: str) -> str:
        """``name`` if such a project exists.

        Raises:
            ProjectNotFoundError: it does not; the message suggests close names.
        """
        if self.finder.find_project(name) is None:
            known = [p.name for p in self.finder.list_projects()]
            raise ProjectNotFoundError(
                f"no project named {name!r} in {self.finder.database.shown_url}; "
                f"known projects: {self._known()}.{hint(name, known, 'projects')}"
            )
        return name

    def single_project(self) -> str:
        """``--project``, or the database's only project.

        Raises:
            UsageError: ``--project`` is missing and the database has several projects.
            ProjectNotFoundError: the project does not exist, or there is none.
        """
        names = self.project_names()
        if not names:
            raise ProjectNotFoundError(
                f"the database {self.finder.database.shown_url} has no projects yet"
            )
        if len(names) > 1:
            raise UsageError(f"the database has several projects ({self._known()}); pass --project")
        return names[0]

    def load_run(self, run_id: int) -> Run:
        """Run ``run_id`` (in ``--project`` if given) with its metrics.

        Raises:
            RunNotFoundError: no such run, or it belongs to another project.
        """
        run = self.finder.find_run(run_id, with_metrics=False)
        if run is None:
            raise RunNotFoundError(
                f"no run with id {run_id} in {self.finder.database.shown_url}; "
                f"{self._id_range()} ('ato runs list' shows them)"
            )
        if self.project is not None and run.project_name != self.project:
            raise RunNotFoundError(
                f"run {run_id} belongs to project {run.project_name!r}, not {self.project!r}"
            )
        return run

    def _id_range(self) -> str:
        ids = self.finder.run_id_range()
        if ids is None:
            return "the database has no runs"
        return f"run ids go from {ids[0]} to {ids[1]}"

    def _known(self) -> str:
        return ", ".join(repr(p.name) for p in self.finder.list_projects()) or "none"


def list_projects(ctx: Context) -> None:
    """``ato projects``: every project with its number of runs and last activity."""
    projects = ctx.finder.list_project_summaries()
    data = [_project_record(p) for p in projects]
    table = Table(title=f"Projects in {ctx.finder.database.shown_url}")
    for name, justify in (("Project", "left"), ("Runs", "right"), ("Last activity (UTC)", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for p in projects:
        table.add_row(p.name, str(p.runs), format_time(p.last_activity))
    ctx.emit(data, table)


def _project_record(project: ProjectSummary) -> dict[str, Any]:
    last = project.last_activity
    return {
        "name": project.name,
        "runs": project.runs,
        "created_at": project.created_at.isoformat(),
        "last_activity": None if last is None else last.isoformat(),
    }


DEFAULT_PAGE = 20
"""How many runs the ``ato runs list`` table shows without ``--limit``/``--all``."""


@dataclass
class ListOptions:
    """The options of ``ato runs list`` (see ``list_runs``). ``limit`` ``None`` shows the
    default page: `DEFAULT_PAGE` runs in the table, every run with ``--json``;
    ``show_all`` shows every run in either."""

    status: str | None = None
    tags: Sequence[str] = ()
    metrics: Sequence[str] | None = None
    limit: int | None = None
    params: Sequence[str] | None = None
    sort: str | None = None
    search: str | None = None
    modes: Modes = field(default_factory=Modes)
    show_all: bool = False


def list_runs(ctx: Context, options: ListOptions) -> None:
    """``ato runs list``: runs of ``--project`` (or of every project) by id, optionally only
    those with ``status``, all of ``tags`` and of one ``search``; with param columns
    (``--params``, else the few params that differ most between the shown runs), sorted by
    ``--sort``. One page is shown: the newest runs, or the first ones of the sort order
    (``--limit``, else `DEFAULT_PAGE` in the table; ``--all``: every run); a caption counts
    the runs left out. Only the shown runs are loaded in full and rendered; the configs of
    the others are read only to sort by a param or to check an unknown ``--params`` name."""
    listed = _Listed(ctx, options)
    answers: list[int] = []
    if options.search is not None:  # by the rule of ato.tracker.answers, over the whole search
        answer = _answer_of(ctx, search_runs(ctx, options.search), None, None)
        answers = [answer.run_id] if answer.run_id is not None else []
    if options.metrics:
        check_names(options.metrics, listed.known_metrics, "metrics")
    page = listed.page()
    order = {row.id: index for index, row in enumerate(page)}
    runs = sorted(ctx.finder.find_runs(list(order), with_metrics=False), key=lambda r: order[r.id])
    summaries = ctx.finder.get_metric_summaries(list(order))
    flats = [flatten_config(run.config) for run in runs]
    if options.params:
        shown = {key for flat in flats for key in flat}
        if any(name not in shown for name in options.params):
            check_names(options.params, listed.known_params(), "params")
    params = list(options.params) if options.params is not None else differing_params(flats)
    keys = list(options.metrics) if options.metrics else listed.known_metrics
    data = []
    for run in runs:
        record = run_record(run, summaries.get(run.id, {}))
        if options.search is not None:
            record["final"] = is_answer(run.tags)
            record["answer"] = run.id in answers  # by the rule of ato.tracker.answers
        data.append(record)
    table = render_runs_table(runs, keys, summaries, params=params, marked=answers)
    notes: list[str] = []
    if any(run.id in answers for run in runs):
        notes.append(
            f"{ANSWER_MARK} the search's answer "
            "(the best completed evaluation at the largest budget reached; with several "
            "objectives, the member of its Pareto front nearest the ideal point)"
        )
    if len(page) < len(listed.rows):
        notes.append(_hidden_note(len(page), len(listed.rows), options.sort))
    table.caption = "\n".join(notes) or None
    ctx.emit(data, table)


class _Listed:
    """The runs ``ato runs list`` matches, as light rows by id (configs read on demand)."""

    def __init__(self, ctx: Context, options: ListOptions) -> None:
        self.ctx, self.options = ctx, options
        self.rows = self._read(with_config=False)
        self.known_metrics = listing.metric_keys(ctx.finder, [row.id for row in self.rows])
        self._configs_read = False

    def _read(self, *, with_config: bool) -> list[RunRow]:
        ctx, options = self.ctx, self.options
        if options.search is not None:
            tag = search_tag(options.search)
            projects = None if ctx.project is None else [ctx.require_project(ctx.project)]
            where = listing.matching(projects, tag)
            rows = listing.run_rows(ctx.finder, where, with_config=with_config)
            rows = [row for row in rows if tag in row.tags]
            if not rows:
                search_runs(ctx, options.search)  # raises, naming the known searches
        else:
            where = listing.matching(ctx.project_names())
            rows = listing.run_rows(ctx.finder, where, with_config=with_config)
        return [
            row
            for row in rows
            if (options.status is None or row.status == options.status)
            and all(tag in row.tags for tag in options.tags)
        ]

    def known_params(self) -> list[str]:
        """Every dotted config key of the matching runs, in order of first appearance."""
        if not self._configs_read:
            self.rows = self._read(with_config=True)
            self._configs_read = True
        return list({key: None for row in self.rows for key in flatten_config(row.config)})

    def page(self) -> list[RunRow]:
        """The rows shown: the first ``limit`` of the sort order, or the newest ``limit``."""
        options, limit = self.options, self.options.limit
        if limit is None and not options.show_all and not self.ctx.as_json:
            limit = DEFAULT_PAGE
        if options.sort is None:
            if limit is None:
                return self.rows
            return self.rows[-limit:] if limit > 0 else []
        spec = self._sort_spec(options.sort)
        ids = [row.id for row in self.rows] if spec.kind == "metric" else []
        summaries = self.ctx.finder.get_metric_summaries(ids)
        rows = sort_runs(self.rows, spec, summaries, options.modes)
        return rows if limit is None else rows[:limit]

    def _sort_spec(self, text: str) -> SortSpec:
        """``--sort`` parsed; the configs are read unless it names a metric."""
        with contextlib.suppress(NameNotFoundError):
            spec = SortSpec.parse(text, self.known_metrics, ())
            if spec.kind == "metric":
                return spec
        return SortSpec.parse(text, self.known_metrics, self.known_params())


def _hidden_note(shown: int, total: int, sort: str | None) -> str:
    which = "the first by --sort" if sort is not None else "the newest"
    return f"{shown:,} of {total:,} runs shown ({which}); --limit N or --all shows more"


def search_runs(ctx: Context, search_id: str) -> list[Run]:
    """The runs of search ``search_id`` (in ``--project`` if given).

    Raises:
        NameNotFoundError: no run belongs to that search; suggests known search ids.
    """
    project = None if ctx.project is None else ctx.require_project(ctx.project)
    runs = ctx.finder.get_search_runs(search_id, project)
    if runs:
        return runs
    found = (
        search_id_of(run.tags)
        for name in ([project] if project else ctx.project_names())
        for run in ctx.finder.get_runs_in_project(name, with_metrics=False)
    )
    known = [search_id for search_id in found if search_id is not None]
    raise NameNotFoundError(
        f"no runs of search {search_id!r} in {ctx.finder.database.shown_url}."
        + hint(search_id, known, "searches")
    )


DEFAULT_KEYS = 50
"""How many metric keys the ``ato runs show`` table shows without ``--max-keys``/``--all-keys``."""


def show_run(
    ctx: Context,
    run_id: int,
    pattern: str | None = None,
    max_keys: int | None = None,
    all_keys: bool = False,
) -> None:
    """``ato runs show ID``: one run with config, metric summaries, artifacts, fingerprints.

    Only the metric keys matching ``pattern`` (``--keys``: a glob, or a key prefix) are
    shown, the first ``max_keys`` of them in key order (default: `DEFAULT_KEYS` in the table,
    every one with ``--json``; ``all_keys``: every one in either); a caption (``--json``:
    ``metric_keys``) counts the matching keys. Only the shown summaries are read."""
    run = ctx.load_run(run_id)
    if max_keys is None and not all_keys and not ctx.as_json:
        max_keys = DEFAULT_KEYS
    summaries, total = ctx.finder.get_metric_summary_page(run.id, pattern, max_keys)
    data = run_record(run, summaries, details=True)
    data["metric_keys"] = total
    renderable = render_run(run, summaries)
    note = _keys_note(len(summaries), total, pattern)
    ctx.emit(data, Group(renderable, literal(note)) if note else renderable)


def _keys_note(shown: int, total: int, pattern: str | None) -> str:
    matching = "" if pattern is None else f" matching {pattern!r}"
    if shown < total:
        return (
            f"{shown} of {total:,} metric keys{matching} shown; "
            "--all-keys shows every one, --keys PATTERN filters (e.g. 'val/' or '*loss*')"
        )
    if pattern is not None and not total:
        return f"no metric key matches {pattern!r}"
    return ""


def best_run(
    ctx: Context, metric: str | None, modes: Modes, search: str | None = None, by: str = "last"
) -> None:
    """``ato runs best --metric KEY``: the run of the project with the best value of
    ``metric``, comparing each run's ``by`` value (``'last'``: the value logged last, as the
    runs table shows; ``'best'``: its best value ever logged); with ``--search ID``: the
    search's answer (see ``ato.tracker.answers``), ranked by the last value of ``metric``
    (default: the search's own) of each evaluation at the largest budget.

    Raises:
        UsageError: neither ``--metric`` nor ``--search``, or ``--by best`` with ``--search``.
        NameNotFoundError: ``metric`` was never logged in the project (did-you-mean).
        RunNotFoundError: no run logged ``metric``, or the search has no answer (no
            evaluation completed with a finite value).
    """
    if search is not None:
        if by != "last":
            raise UsageError(
                f"runs best --search ranks each evaluation's last value (the answer rule), "
                f"not --by {by}; drop --by, or use `ato runs best --metric KEY --by {by}` "
                "without --search for the run with the best value ever logged"
            )
        _best_of_search(ctx, search, metric, modes)
        return
    if metric is None:
        raise UsageError("runs best needs --metric KEY (or --search ID for a search's answer)")
    project = ctx.single_project()
    mode = modes.mode_for(metric)
    run = ctx.finder.find_best_run(project, metric, mode, by)
    if run is None:
        ids = [r.id for r in ctx.finder.get_runs_in_project(project, with_metrics=False)]
        known = ctx.finder.get_metric_keys(ids)
        if known and metric not in known:
            raise NameNotFoundError(
                f"no run of project {project!r} logged metric {metric!r}."
                + hint(metric, known, "metrics")
            )
        raise RunNotFoundError(f"no run of project {project!r} logged metric {metric!r}")
    title = f"Best run of project {project!r} by the {by} value of {metric} ({mode})"
    _print_best(ctx, run, metric, mode, title, by=by)


def _answer_of(
    ctx: Context, runs: Sequence[Run], metric: str | None, modes: Modes | None
) -> SearchAnswer:
    summaries = ctx.finder.get_metric_summaries([run.id for run in runs])
    mode = None
    if modes is not None:
        mode = modes.per_key.get(metric, modes.default) if metric else modes.default
    return search_answer(runs, summaries, metric, mode)


def _best_of_search(ctx: Context, search: str, metric: str | None, modes: Modes) -> None:
    runs = search_runs(ctx, search)
    answer = _answer_of(ctx, runs, metric, modes)
    if answer.run_id is None:
        if metric is not None and all(e.value is None for e in answer.evaluations):
            known = all_metric_keys(ctx.finder.get_metric_summaries([r.id for r in runs]).values())
            raise NameNotFoundError(
                f"no trial of search {search!r} logged metric {metric!r}."
                + hint(metric, known, "metrics")
            )
        raise RunNotFoundError(f"search {search!r} has no answer: {answer.reason}")
    if answer.front:
        _print_front(ctx, search, runs, answer)
        return
    run = next(r for r in runs if r.id == answer.run_id)
    where = [f"budget {format_number(answer.budget)}" if answer.budget is not None else ""]
    where.append(f"bracket {answer.bracket}" if answer.bracket is not None else "")
    detail = ", ".join(part for part in [answer.mode, *where] if part)
    title = f"Answer of search {search!r} by {answer.key} ({detail})"
    _print_best(ctx, run, answer.key, answer.mode, title, by="last", answer=answer)


def _print_front(ctx: Context, search: str, runs: Sequence[Run], answer: SearchAnswer) -> None:
    """The Pareto front of a search with several objectives or constraints: one row per
    member (objective and constraint values), the picked answer marked."""
    members = [next(r for r in runs if r.id == e.run_id) for e in answer.front]
    summaries = ctx.finder.get_metric_summaries([r.id for r in members])
    keys = [SEARCH_PREFIX + key for _, key in answer.objectives]
    keys += [SEARCH_PREFIX + key for key in answer.constraint_keys]
    directions = ", ".join(f"{key} {mode}" for mode, key in answer.objectives)
    budget = f" at budget {format_number(answer.budget)}" if answer.budget is not None else ""
    title = (
        f"Pareto front of search {search!r} ({directions}){budget}: {len(members)} runs; "
        f"answer (nearest the ideal point)"
    )
    data = {
        "search": search,
        "objectives": [{"key": key, "mode": mode} for mode, key in answer.objectives],
        "constraints": list(answer.constraint_keys),
        "answer": answer.run_id,
        "budget": json_number(answer.budget),
        "front": [
            {
                "trial": e.trial,
                "final": e.final,
                "values": dict(zip(keys, (json_number(v) for v in e.values), strict=True)),
                "run": run_record(run, summaries.get(run.id, {})),
            }
            for e, run in zip(answer.front, members, strict=True)
        ],
    }
    table = render_runs_table(members, keys, summaries, marked=[answer.run_id or 0])
    if not ctx.as_json:
        headline = Text.assemble(literal(f"{title}: "), (f"run {answer.run_id}", "bold"))
        ctx.console.print(headline, soft_wrap=True)
    ctx.emit(data, table)


def _print_best(
    ctx: Context,
    run: Run,
    metric: str | None,
    mode: str,
    title: str,
    *,
    by: str,
    answer: SearchAnswer | None = None,
) -> None:
    summaries = ctx.finder.get_metric_summaries([run.id]).get(run.id, {})
    value = None
    if metric is not None and metric in summaries:
        summary: MetricSummary = summaries[metric]
        value = summary.best(mode) if by == "best" else summary.last
    data = {
        "project": run.project_name,
        "metric": metric,
        "mode": mode,
        "by": by,
        "value": json_number(value),
        "run": run_record(run, summaries),
    }
    if answer is not None:
        data["search"] = {
            "budget": json_number(answer.budget),
            "bracket": answer.bracket,
            "rung": answer.rung,
            "trial": answer.trial,
            "final": answer.tagged_final,
        }
    parts: list[Any] = [literal(f"{title}: "), (f"run {run.id}", "bold")]
    if metric is not None:
        parts.append(literal(f" with {metric} = {format_number(value)}"))
    headline = Text.assemble(*parts)
    columns = [metric] if metric else None
    table = render_runs_table([run], columns, {run.id: summaries})
    if not ctx.as_json:  # the headline stays one line whatever the width (grep, scripts)
        ctx.console.print(headline, soft_wrap=True)
    ctx.emit(data, table)


def compare_runs(
    ctx: Context,
    run_ids: Sequence[int],
    modes: Modes,
    pattern: str | None = None,
    max_keys: int | None = None,
    all_keys: bool = False,
) -> None:
    """``ato runs compare ID ID [ID ...]``: config differences and, per metric, last and best
    values in the metric's own direction, with the best run marked. The metric keys shown are
    chosen as by `show_run` among every key the runs logged (``--json``: ``metric_keys``
    counts the matching keys)."""
    runs = [ctx.load_run(run_id) for run_id in run_ids]
    if max_keys is None and not all_keys and not ctx.as_json:
        max_keys = DEFAULT_KEYS
    summaries, total = ctx.finder.get_metric_summary_pages(
        [run.id for run in runs], pattern, max_keys
    )
    diff = config_diff(runs)
    keys = all_metric_keys(summaries.get(run.id, {}) for run in runs)
    data = {
        "runs": [run.id for run in runs],
        "modes": {key: modes.mode_for(key) for key in keys},
        "best_runs": {key: best_run_id(runs, summaries, key, modes.mode_for(key)) for key in keys},
        "config_diff": {
            key: {str(run.id): v for run, v in zip(runs, values, strict=True) if v is not MISSING}
            for key, values in diff.items()
        },
        "metrics": {
            key: {
                str(run.id): {
                    "last": summary_record(s)["last"],
                    "best": json_number(s.best(modes.mode_for(key))),
                }
                for run in runs
                if (s := summaries.get(run.id, {}).get(key)) is not None
            }
            for key in keys
        },
        "metric_keys": total,
    }
    renderable = render_comparison(runs, summaries, modes)
    note = _keys_note(len(keys), total, pattern)
    ctx.emit(data, Group(renderable, literal(note)) if note else renderable)


def export_metrics(ctx: Context, run_id: int, keys: Sequence[str] | None, fmt: str) -> None:
    """``ato runs metrics RUN``: every logged (step, key, value, timestamp) of a run, streamed.

    Raises:
        NameNotFoundError: a ``--key`` the run never logged (did-you-mean).
    """
    run = ctx.load_run(run_id)
    if keys:
        check_names(keys, ctx.finder.get_metric_keys([run.id]), "metrics")
    metrics = ctx.finder.iter_metrics(run.id, keys or None)
    export.write_metrics(ctx.console.file, metrics, fmt)


def export_runs(ctx: Context, project: str | None, fmt: str, params: Sequence[str] | None) -> None:
    """``ato runs export PROJECT``: one row per run with ``params.*`` and ``metrics.*``
    columns (``metrics.K`` the last value, ``metrics.K.min`` / ``.max``)."""
    name = ctx.require_project(project) if project is not None else ctx.single_project()
    runs = ctx.finder.get_runs_in_project(name, with_metrics=False)
    if params:
        check_names(params, param_keys(runs), "params")
    summaries = ctx.finder.get_metric_summaries([run.id for run in runs])
    columns, rows = run_rows(runs, summaries, params, None, stats=("last", "min", "max"))
    out = ctx.console.file
    if fmt == "json":
        export.write_json_array(out, rows)
    else:
        export.write_csv(out, columns, ([row[c] for c in columns] for row in rows))


def explain_key(ctx: Context, run_id: int, key: str) -> None:
    """``ato runs explain RUN KEY``: where run ``RUN``'s value of ``KEY`` (and of the keys
    below it) came from, as recorded from its Scope: each write, newest first.

    Raises:
        RunNotFoundError: no such run, or it recorded no Scope provenance.
        NameNotFoundError: no recorded key is ``KEY`` or below it (did-you-mean).
    """
    run = ctx.load_run(run_id)
    scope = run.provenance.get("scope") if run.provenance else None
    hydra = run.provenance.get("hydra") if run.provenance else None
    if not scope and hydra:
        _explain_hydra(ctx, run, key, hydra)
        return
    if not scope:
        launched = command_line(run.provenance.get("argv")) if run.provenance else "unknown"
        raise RunNotFoundError(
            f"run {run_id} recorded no Scope provenance (it was not launched under an ato "
            f"Scope, or by an older version); its command line: {launched}"
        )
    writes: dict[str, Any] = dict(scope.get("keys", {}))
    selected = {k: v for k, v in writes.items() if k == key or k.startswith(key + ".")}
    if not selected:
        raise NameNotFoundError(
            f"run {run_id} recorded no key {key!r}." + hint(key, list(writes), "keys")
        )
    data = {"run": run.id, "key": key, "scope": scope.get("name"), "views": scope.get("views")}
    data["keys"] = {
        k: [ADict.to_dict(w) if isinstance(w, ADict) else w for w in v] for k, v in selected.items()
    }
    ctx.emit(data, explanation_text(run.id, scope, selected))


def _explain_hydra(ctx: Context, run: Run, key: str, hydra: Any) -> None:
    """``ato runs explain`` for a run recorded by the Hydra callback: Hydra does not record
    which file set each key, so a key is explained by the command-line override that set it,
    else by the composed config (primary config and the option chosen per config group)."""
    flat = flatten_config(run.config)
    selected = {k: v for k, v in flat.items() if k == key or k.startswith(key + ".")}
    if not selected:
        raise NameNotFoundError(
            f"run {run.id} has no config key {key!r}." + hint(key, list(flat), "keys")
        )
    overrides = [str(o) for o in hydra.get("overrides", [])]
    choices = dict(hydra.get("choices", {}))
    groups = ", ".join(f"{group}={option}" for group, option in choices.items()) or "none"
    composed = f"composed config {hydra.get('config_name')!r} (config groups: {groups})"
    sources = {}
    for name in selected:
        token = next((o for o in reversed(overrides) if _override_key(o) == name), None)
        sources[name] = f"CLI override {token}" if token else composed
    lines = [
        f"Run {run.id}, Hydra config {hydra.get('config_name')!r}",
        f"Config groups: {groups}",
        "",
    ]
    lines += [
        f"{name} = {format_value(value)} ← {sources[name]}" for name, value in selected.items()
    ]
    data = {"run": run.id, "key": key, "hydra": ADict.to_dict(ADict(hydra)), "sources": sources}
    ctx.emit(data, Text("\n".join(lines)))


def _override_key(token: str) -> str:
    """The dotted key a Hydra override sets: ``+a.b=1``, ``++a.b=1``, ``~a.b`` -> ``a.b``."""
    return token.lstrip("+~").split("=", 1)[0].split("@", 1)[0]


def mark(ctx: Context, run_id: int, new_status: str) -> None:
    """``ato runs mark RUN --status S``: store a final status (e.g. ``killed``) for a run.

    Raises:
        RunNotFoundError: no such run (in ``--project``).
    """
    run = ctx.load_run(run_id)
    writer = ctx.finder.database.engine(create_schema=False)  # readers open SQLite read-only
    run_transaction(writer, lambda conn: mark_run(conn, run.id, new_status))
    updated = ctx.load_run(run_id)
    text = Text.assemble(
        f"run {run_id}: {run.status} → ",
        status_text(updated.status),
        f" (ended {format_time(updated.end_time)} UTC)",
    )
    ctx.emit({"id": run_id, "previous_status": run.status, "status": updated.status}, text)
