"""The JSON documents behind every page, read through ato-tracker's query layer.

Each function takes an open (read-only) connection and returns JSON-ready data; unknown
projects, runs or metric keys raise ``ato.dashboard.errors.NotFoundError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from ato.tracker.read import queries
from ato.tracker.read.overview import RunRow, project_activity, project_run_rows
from ato.tracker.read.params import is_bookkeeping
from ato.tracker.read.results import Run
from ato.tracker.read.series import downsampled_series
from ato.tracker.read.summaries import project_summary_rows
from ato.tracker.storage.models import ProjectRecord, RunRecord
from ato.tracker.storage.values import NAN, NEG_INF, POS_INF

from . import records
from .admission import MAX_POINTS_LIMIT, is_run_id
from .errors import BadRequestError, NotFoundError

DEFAULT_MAX_POINTS = 2000
_LAST_TEXT = {NAN: "nan", POS_INF: "inf", NEG_INF: "-inf"}  # a non-finite last value
MAX_COMPARE = 12

_projects = ProjectRecord.__table__
_runs = RunRecord.__table__


def projects(conn: Connection) -> dict[str, Any]:
    """``/api/projects``: ``{'projects': [{'name', 'created_at', 'run_count',
    'last_activity'}]}`` ordered by creation."""
    return {
        "projects": [
            {
                "name": item.project.name,
                "created_at": records.iso(item.project.created_at),
                "run_count": item.run_count,
                "last_activity": records.iso(item.last_activity),
            }
            for item in project_activity(conn)
        ]
    }


def project_runs(
    conn: Connection, name: str, *, status: str | None = None, tag: str | None = None
) -> dict[str, Any]:
    """``/api/projects/{name}/runs``: every run of the project, oldest first, as columns (one
    list per field, entry ``i`` of each belongs to run ``i``): run fields in ``runs``, the flat
    config in ``params`` (one list per dotted key; runs that lack a key are listed in
    ``params_missing``) and per metric key its ``last`` value and ``best`` in the direction of
    ``metric_modes`` (see ``docs/dashboard.md``).

    Raises:
        NotFoundError: no project called ``name``.
    """
    if queries.find_project(conn, name) is None:
        raise NotFoundError(f"no project named {name!r}")
    runs = project_run_rows(conn, name)
    if status:
        runs = [run for run in runs if run.status == status]
    if tag:
        runs = [run for run in runs if tag in run.tags]
    params, missing = records.config_columns([run.config for run in runs])
    metrics = _metric_columns(project_summary_rows(conn, name), runs)
    return {
        "project": name,
        "count": len(runs),
        "param_keys": sorted(params),
        "differing_param_keys": [
            key for key in records.differing_columns(params, missing) if not is_bookkeeping(key)
        ],
        "max_compare": MAX_COMPARE,
        "metric_keys": sorted(metrics),
        "metric_modes": {key: records.guess_mode(key) for key in sorted(metrics)},
        "statuses": sorted({run.status for run in runs}),
        "runs": _run_columns(runs),
        "params": params,
        "params_missing": missing,
        "metrics": metrics,
    }


def _run_columns(runs: list[RunRow]) -> dict[str, list[Any]]:
    ends = [run.end_time for run in runs]
    return {
        "id": [run.id for run in runs],
        "status": [run.status for run in runs],
        "start_time": [run.start_time.isoformat() for run in runs],
        "end_time": [None if end is None else end.isoformat() for end in ends],
        "duration_s": [
            None if end is None else (end - run.start_time).total_seconds()
            for run, end in zip(runs, ends, strict=True)
        ],
        "tags": [run.tags for run in runs],
        "search_id": [
            next((tag[7:] for tag in run.tags if tag.startswith("search:")), None) for run in runs
        ],
    }


def _metric_columns(rows: Sequence[Any], runs: list[RunRow]) -> dict[str, dict[str, list[Any]]]:
    """Per metric key: ``last`` and ``best`` (by `records.guess_mode`) per run, ``None``
    where the run did not log the key; NaN and infinities as the texts of
    `records.json_value`. ``rows`` are `ato.tracker.read.summaries.project_summary_rows`."""
    index = {run.id: i for i, run in enumerate(runs)}
    columns: dict[str, dict[str, list[Any]]] = {}
    lower_is_better: dict[str, bool] = {}
    for run_id, key, last, low, high, last_class, low_inf, high_inf in rows:
        i = index.get(run_id)
        if i is None:  # filtered out
            continue
        column = columns.get(key)
        if column is None:
            column = columns[key] = {"last": [None] * len(runs), "best": [None] * len(runs)}
            lower_is_better[key] = records.guess_mode(key) == "min"
        best, best_inf = (low, low_inf) if lower_is_better[key] else (high, high_inf)
        column["last"][i] = last if last is not None else _LAST_TEXT.get(last_class)
        column["best"][i] = best if not best_inf else ("inf" if best_inf > 0 else "-inf")
    return columns


def run_detail(conn: Connection, run_id: int) -> dict[str, Any]:
    """``/api/runs/{id}``: the run's status, times, tags, config tree, provenance (how it was
    launched; ``{}`` for runs that did not record it), artifacts (paths only), fingerprints
    and metric summaries.

    Raises:
        NotFoundError: no run ``run_id``.
    """
    run = _load_run(conn, run_id)
    summaries = queries.metric_summaries(conn, [run.id]).get(run.id, {})
    tags = records.tag_values(run.tags)
    return {
        "id": run.id,
        "project": run.project_name,
        "status": run.status,
        "live": run.status == "running",
        "start_time": records.iso(run.start_time),
        "end_time": records.iso(run.end_time),
        "duration_s": records.duration_s(run),
        "tags": run.tags,
        "search_id": tags.get("search"),
        "structural_hash": run.structural_hash,
        "config": records.plain_config(run),
        "provenance": records.plain_provenance(run),
        "metric_keys": sorted(summaries),
        "metrics": {key: records.summary(s) for key, s in sorted(summaries.items())},
        "artifacts": [
            {
                "path": a.path,
                "data_type": a.data_type,
                "metadata": a.metadata,
                "timestamp": records.iso(a.timestamp),
            }
            for a in run.artifacts
        ],
        "fingerprints": [
            {
                "trace_id": f.trace_id,
                "trace_type": f.trace_type,
                "fingerprint": f.fingerprint,
                "timestamp": records.iso(f.timestamp),
            }
            for f in run.fingerprints
        ],
    }


def _load_run(conn: Connection, run_id: int) -> Run:
    run = queries.load_run(conn, run_id, with_metrics=False)
    if run is None:
        raise NotFoundError(f"no run with id {run_id}")
    return run


def series(
    conn: Connection, run_id: int, key: str, max_points: int = DEFAULT_MAX_POINTS
) -> dict[str, Any]:
    """``/api/runs/{id}/metrics/{key}``: the series as columns ``step``, ``value`` and
    ``time`` (seconds since the Unix epoch), downsampled to at most ``max_points`` keeping the
    first and last point, every bucket's extremes and its first NaN; ``total`` counts the
    logged values. NaN and infinities are ``null`` in ``value`` (gaps in a chart), counted by
    kind in ``non_finite`` (``{'nan': n, 'inf': n, '-inf': n}``).

    Raises:
        NotFoundError: no run ``run_id``, or it never logged ``key``.
        BadRequestError: ``max_points`` below 4 or above ``MAX_POINTS_LIMIT``.
    """
    if not 4 <= max_points <= MAX_POINTS_LIMIT:
        raise BadRequestError(
            f"max_points must be at least 4 and at most {MAX_POINTS_LIMIT:,}, got {max_points}"
        )
    run = queries.load_run(conn, run_id, with_metrics=False)
    if run is None:
        raise NotFoundError(f"no run with id {run_id}")
    points, total = downsampled_series(conn, run_id, key, max_points)
    if not points:
        raise NotFoundError(f"run {run_id} has no metric {key!r}")
    return {
        "run_id": run_id,
        "key": key,
        "status": run.status,
        "total": total,
        "downsampled": total > len(points),
        "step": [p.step for p in points],
        "value": [records.json_number(p.value) for p in points],
        "non_finite": records.non_finite_counts(p.value for p in points),
        "time": [p.timestamp.timestamp() for p in points],
    }


def parse_run_ids(text: str | None) -> list[int]:
    """``'3,1,2'`` -> ``[3, 1, 2]`` (order kept, duplicates dropped).

    Raises:
        BadRequestError: empty, not comma-separated run ids (ASCII digits below 2^31), or
            more than 12 ids.
    """
    parts = [part.strip() for part in (text or "").split(",") if part.strip()]
    if not parts:
        raise BadRequestError("pass the runs to compare as ?runs=1,2,3")
    ids: list[int] = []
    for part in parts:
        if not is_run_id(part):
            raise BadRequestError(
                f"run ids must be whole numbers below 2^31, got {part[:40]!r} in ?runs"
            )
        if int(part) not in ids:
            ids.append(int(part))
        if len(ids) > MAX_COMPARE:
            raise BadRequestError(f"compare at most {MAX_COMPARE} runs at once")
    return ids


def compare(conn: Connection, run_ids: Sequence[int], *, all_keys: bool = False) -> dict[str, Any]:
    """``/api/compare?runs=...``: the runs' summaries, the union of their metric keys and a
    config table (only keys whose values differ, without ato's bookkeeping keys - see
    `ato.tracker.read.params.is_bookkeeping` - unless ``all_keys``).

    Raises:
        NotFoundError: one of the runs does not exist.
    """
    where = _runs.c.id.in_(list(run_ids))
    loaded = {run.id: run for run in queries.load_runs(conn, where, with_metrics=False)}
    unknown = [run_id for run_id in run_ids if run_id not in loaded]
    if unknown:
        raise NotFoundError(f"no run with id {', '.join(map(str, unknown))}")
    runs = [loaded[run_id] for run_id in run_ids]
    summaries = queries.metric_summaries(conn, list(run_ids))
    flats = [records.flatten(records.plain_config(run)) for run in runs]
    if all_keys:
        keys = sorted(set().union(*flats))
    else:
        keys = [key for key in records.differing_keys(flats) if not is_bookkeeping(key)]
    marker = {"missing": True}
    return {
        "runs": [
            {
                "id": run.id,
                "project": run.project_name,
                "status": run.status,
                "live": run.status == "running",
                "tags": run.tags,
                "start_time": records.iso(run.start_time),
                "duration_s": records.duration_s(run),
                "metrics": {
                    key: records.summary(s) for key, s in summaries.get(run.id, {}).items()
                },
            }
            for run in runs
        ],
        "metric_keys": sorted({key for per_run in summaries.values() for key in per_run}),
        "config_keys": keys,
        "config": {key: [flat.get(key, marker) for flat in flats] for key in keys},
        "all_keys": all_keys,
    }
