"""Rich renderables for runs: the runs table, one run in detail, and a comparison of runs."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..read.modes import Modes
from ..read.results import MetricSummary, Run
from ..storage.statuses import RunStatus
from .records import (
    MISSING,
    all_metric_keys,
    config_diff,
    duration_seconds,
    flatten_config,
    summarize,
)
from .selection import compact_tags

NO_VALUE = "-"
STATUS_STYLES: dict[str, str] = {
    RunStatus.COMPLETED: "green",
    RunStatus.FAILED: "red",
    RunStatus.RUNNING: "yellow",
    RunStatus.CRASHED: "bold red",
    RunStatus.KILLED: "red",
}
ANSWER_MARK = "★"
PARAM_WIDTH = 24


def render_runs_table(
    runs: Sequence[Run],
    metric_keys: Sequence[str] | None = None,
    summaries: Mapping[int, Mapping[str, MetricSummary]] | None = None,
    *,
    title: str | None = None,
    params: Sequence[str] = (),
    marked: Sequence[int] = (),
) -> Table:
    """The table ``ato runs list`` prints: one row per run with id, project (when the runs
    span several projects), status, start time (UTC), duration, tags (at most three, then
    ``+N``), the value of each config param in ``params`` and the last value of each metric.

    Args:
        runs: runs as returned by [`SQLFinder`][ato.tracker.SQLFinder].
        metric_keys: metric columns, in order; ``None`` shows every key any run logged, sorted.
        summaries: per run id, per key, as from
            [`get_metric_summaries`][ato.tracker.SQLFinder.get_metric_summaries]; ``None`` computes them from
            ``run.metrics`` (so the runs must have been loaded with their metrics).
        title: optional table title.
        params: dotted config keys shown as columns after the tags (e.g. ``['optim.lr']``).
        marked: ids of runs whose id gets a ``★`` (a search's answer).

    Returns:
        A `rich.table.Table`; print it with ``rich.print(table)`` or a
        `rich.console.Console`.
    """
    if summaries is None:
        summaries = {run.id: summarize(run.metrics) for run in runs}
    keys = list(metric_keys) if metric_keys is not None else all_metric_keys(summaries.values())
    several_projects = len({run.project_name for run in runs}) > 1
    table = Table(title=title)
    table.add_column("ID", justify="right", style="bold")
    if several_projects:
        table.add_column("Project")
    # One line per run where the terminal allows: the tags column gives way first (its cells
    # are cut with an ellipsis, never wrapped).
    table.add_column("Status")
    table.add_column("Started (UTC)", no_wrap=True)
    table.add_column("Duration")
    table.add_column("Tags", min_width=8)
    for param in params:
        table.add_column(literal(param), justify="right", header_style="bold cyan")
    for key in keys:
        table.add_column(literal(key), justify="right")
    for run in runs:
        per_key = summaries.get(run.id, {})
        mark = f" {ANSWER_MARK}" if run.id in marked else ""
        cells: list[RenderableType] = [f"{run.id}{mark}"]
        if several_projects:
            cells.append(literal(run.project_name))
        cells += [status_text(run.status), format_time(run.start_time), format_duration(run)]
        tags = literal(compact_tags(run.tags) or NO_VALUE)
        tags.no_wrap, tags.overflow = True, "ellipsis"
        cells.append(tags)
        flat = flatten_config(run.config) if params else {}
        cells += [literal(format_param(flat[p])) if p in flat else NO_VALUE for p in params]
        cells += [format_number(per_key[k].last) if k in per_key else NO_VALUE for k in keys]
        table.add_row(*cells)
    return table


def render_run(run: Run, summaries: Mapping[str, MetricSummary]) -> Group:
    """Everything recorded for one run (``ato runs show``): overview, config (dotted keys),
    metric summaries, artifacts and fingerprints (the last two only when present)."""
    overview = Table(title=f"Run {run.id}", show_header=False)
    overview.add_column("Field", style="bold")
    overview.add_column("Value")
    overview.add_row("Project", literal(run.project_name))
    overview.add_row("Status", status_text(run.status))
    overview.add_row("Started (UTC)", format_time(run.start_time))
    overview.add_row("Ended (UTC)", format_time(run.end_time))
    overview.add_row("Duration", format_duration(run))
    overview.add_row("Tags", literal(", ".join(run.tags) or NO_VALUE))
    overview.add_row("Structural hash", literal(run.structural_hash))
    if run.heartbeat is not None and run.end_time is None:
        overview.add_row("Last heartbeat (UTC)", format_time(run.heartbeat))
    provenance = run.provenance
    if provenance:
        overview.add_row("Command", literal(command_line(provenance.get("argv"))))
        overview.add_row("Directory", literal(str(provenance.get("cwd", NO_VALUE))))
        overview.add_row("Host", literal(str(provenance.get("host", NO_VALUE))))
        overview.add_row("Python", str(provenance.get("python", {}).get("version", NO_VALUE)))
        overview.add_row("Git", literal(format_git(provenance.get("git"))))
        scope = provenance.get("scope")
        if scope:
            overview.add_row("Scope views", literal(" → ".join(scope.get("views", [])) or NO_VALUE))
            overview.add_row("Overrides", literal(" ".join(scope.get("overrides", [])) or NO_VALUE))
    parts: list[RenderableType] = [overview, _config_table(run), _metrics_table(summaries)]
    if run.artifacts:
        artifacts = Table("Path", "Type", "Metadata", title="Artifacts")
        for artifact in run.artifacts:
            artifacts.add_row(
                literal(artifact.path),
                literal(artifact.data_type),
                literal(format_value(artifact.metadata)),
            )
        parts.append(artifacts)
    if run.fingerprints:
        fingerprints = Table("Trace", "Type", "Fingerprint", title="Fingerprints")
        for fp in run.fingerprints:
            fingerprints.add_row(
                literal(fp.trace_id), literal(fp.trace_type), literal(fp.fingerprint)
            )
        parts.append(fingerprints)
    return Group(*parts)


# ato's own __x__ keys (a search's __budget__, ...) are never compared; say so, since they differ.
IDENTICAL_CONFIGS = "(identical configs; ato's __x__ keys such as __budget__ are not compared)"


def render_comparison(
    runs: Sequence[Run],
    summaries: Mapping[int, Mapping[str, MetricSummary]],
    mode: str | Modes | None = None,
) -> Group:
    """``ato runs compare``: the config keys that differ between ``runs`` and, per metric key,
    each run's last value and best value in the key's own direction (see
    ``ato.tracker.read.modes.Modes``: ``mode`` is a bare ``'max'``/``'min'``, a spec such as
    ``'loss=min,acc=max'`` or ``None`` for per-key defaults). The run with the best value of
    each metric is marked ``★``."""
    modes = Modes.of(mode)
    header = [f"run {run.id}" for run in runs]
    diff = config_diff(runs)
    config = Table("Config key", *header, title="Config differences")
    for key, values in diff.items():
        config.add_row(
            literal(key), *[literal(NO_VALUE if v is MISSING else format_value(v)) for v in values]
        )
    if not diff:
        config.add_row(Text(IDENTICAL_CONFIGS, style="dim"), *["" for _ in runs])
    metrics = Table("Metric", "Best", title=f"Metrics (last / best; {ANSWER_MARK} = best run)")
    for name in header:
        metrics.add_column(f"{name} last", justify="right")
        metrics.add_column(f"{name} best", justify="right")
    for key in all_metric_keys(summaries.get(run.id, {}) for run in runs):
        direction = modes.mode_for(key)
        winner = best_run_id(runs, summaries, key, direction)
        cells: list[RenderableType] = [literal(key), direction]
        for run in runs:
            summary = summaries.get(run.id, {}).get(key)
            if summary is None:
                cells += [NO_VALUE, NO_VALUE]
            else:
                mark = f" {ANSWER_MARK}" if run.id == winner else ""
                cells += [
                    format_number(summary.last),
                    format_number(summary.best(direction)) + mark,
                ]
        metrics.add_row(*cells)
    return Group(config, metrics)


def best_run_id(
    runs: Sequence[Run],
    summaries: Mapping[int, Mapping[str, MetricSummary]],
    key: str,
    mode: str,
) -> int | None:
    """Id of the run among ``runs`` with the best finite value of ``key`` in direction
    ``mode`` (ties: the first run); ``None`` if none logged a finite value."""
    best: tuple[float, int] | None = None
    for run in runs:
        summary = summaries.get(run.id, {}).get(key)
        value = None if summary is None else summary.best(mode)
        if value is None:
            continue
        if best is None or (value > best[0] if mode == "max" else value < best[0]):
            best = (value, run.id)
    return None if best is None else best[1]


def _config_table(run: Run) -> Table:
    table = Table("Key", "Value", title="Config")
    for key, value in flatten_config(run.config).items():
        table.add_row(literal(key), literal(format_value(value)))
    return table


def _metrics_table(summaries: Mapping[str, MetricSummary]) -> Table:
    table = Table("Metric", title="Metrics")
    for name in ("Last", "Last step", "Min", "Max", "Count"):
        table.add_column(name, justify="right")
    for key, s in sorted(summaries.items()):
        step = NO_VALUE if s.last_step is None else str(s.last_step)
        table.add_row(
            literal(key),
            format_number(s.last),
            step,
            format_number(s.min),
            format_number(s.max),
            str(s.count),
        )
    return table


def explanation_text(run_id: int, scope: Mapping[str, Any], writes: Mapping[str, Any]) -> Text:
    """``ato runs explain``: the views a run's Scope applied, then per key its final value
    and source, and the earlier writes it overrode (newest first)."""
    lines = [
        f'Run {run_id}, Scope "{scope.get("name", "")}"',
        "Views applied: " + " → ".join(scope.get("views", [])),
        "",
    ]
    for key, history in writes.items():
        final, earlier = history[-1], list(history[:-1])
        lines.append(f"{key} = {_shown(final)} ← {final.get('source', '?')}")
        lines += [f"    overrode {_shown(w)} ← {w.get('source', '?')}" for w in reversed(earlier)]
    return Text("\n".join(lines))


def _shown(write: Mapping[str, Any]) -> str:
    if write.get("deleted"):
        return "<deleted>"
    text = format_value(write.get("value"))
    return text if len(text) <= 60 else text[:57] + "..."


def command_line(argv: Any) -> str:
    """A stored ``argv`` list as one shell-quoted line; ``-`` when none was recorded."""
    import shlex

    if not isinstance(argv, list) or not argv:
        return NO_VALUE
    return shlex.join(str(arg) for arg in argv)


def format_git(git: Any) -> str:
    """``abc1234 (main, uncommitted changes)`` from a stored git record; ``-`` without one."""
    if not isinstance(git, Mapping) or not git.get("commit"):
        return NO_VALUE
    notes = [str(git["branch"])] if git.get("branch") else []
    if git.get("dirty"):
        notes.append("uncommitted changes")
    suffix = f" ({', '.join(notes)})" if notes else ""
    return f"{str(git['commit'])[:12]}{suffix}"


def status_text(status: str) -> Text:
    """``status`` coloured: completed green, failed red, running yellow."""
    return literal(status, style=STATUS_STYLES.get(status, ""))


# C0/C1 controls, DEL, and the bidirectional overrides/isolates that reorder what follows.
_INVISIBLE = {
    code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    for code in [
        *range(0x00, 0x20),
        *range(0x7F, 0xA0),
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
        0x200E,
        0x200F,
        0x061C,
    ]
}


def literal(text: str, style: str = "") -> Text:
    """Stored text (a name, tag, config value...) for the terminal exactly as stored: never
    read as rich markup (``[bold]`` stays ``[bold]``, ``[/]`` cannot break a table) and with
    control characters shown as escapes (``\\x1b``, ``\\n``, ``\\u202e``), so no ANSI or
    OSC sequence stored in a database reaches the terminal."""
    return Text(text.translate(_INVISIBLE), style=style)


def format_number(value: float | None) -> str:
    """Up to 6 significant digits (``0.123457``, ``1.5e+06``); ``nan``, ``inf``, ``-inf`` as
    such; ``-`` for ``None`` (no value)."""
    if value is None:
        return NO_VALUE
    return f"{value:.6g}"


def format_param(value: Any) -> str:
    """A config value in a column: floats like ``format_number``, long text cut to
    ``PARAM_WIDTH`` characters."""
    if isinstance(value, float):
        return format_number(value) if not math.isnan(value) else "nan"
    text = format_value(value)
    return text if len(text) <= PARAM_WIDTH else text[: PARAM_WIDTH - 1] + "…"


def format_value(value: Any) -> str:
    """A config or metadata value: strings as they are, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(", ", ": "), default=str)


def format_time(moment: datetime | None) -> str:
    """``YYYY-MM-DD HH:MM:SS`` (the stored UTC time) or ``-``."""
    return NO_VALUE if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")


def format_duration(run: Run) -> str:
    """``2h05m09s``, ``5m09s`` or ``9.3s``; ``-`` while the run has no end time."""
    seconds = duration_seconds(run)
    if seconds is None:
        return NO_VALUE
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"
