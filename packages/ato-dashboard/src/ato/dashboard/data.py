"""The JSON documents behind every page, read through ato-tracker's public read API
([`SQLFinder`][ato.tracker.SQLFinder]).

Each function takes a (read-only) finder and returns JSON-ready data; unknown projects, runs or
metric keys raise ``ato.dashboard.errors.NotFoundError``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ato.tracker import (
    Artifact,
    ArtifactNotFoundError,
    ArtifactPathError,
    MetricColumns,
    Run,
    RunRow,
    SQLFinder,
    check_artifact_name,
    is_bookkeeping,
    search_runs,
)

from . import records
from .admission import MAX_POINTS_LIMIT, is_run_id
from .errors import BadRequestError, NotFoundError

DEFAULT_MAX_POINTS = 2000
MAX_COMPARE = 100
#: Points per run of a compare chart: at most 500, fewer for many runs so that a chart holds
#: about `COMPARE_POINT_BUDGET` points (100 runs: 200 points each), at least 100.
COMPARE_MAX_POINTS, COMPARE_MIN_POINTS, COMPARE_POINT_BUDGET = 500, 100, 20_000


#: Metric keys a compare page shows at once (summary columns and charts), the first in key
#: order among those matching its filter; at most `MAX_COMPARE_KEYS`.
COMPARE_KEYS, MAX_COMPARE_KEYS = 12, 100


def compare_points(runs: int) -> int:
    """Default points per run of a compare chart of ``runs`` runs (see `COMPARE_MAX_POINTS`)."""
    return max(COMPARE_MIN_POINTS, min(COMPARE_MAX_POINTS, COMPARE_POINT_BUDGET // max(1, runs)))


def projects(finder: SQLFinder) -> dict[str, Any]:
    """``/api/projects``: ``{'projects': [{'name', 'created_at', 'run_count',
    'last_activity'}]}`` ordered by creation."""
    return {
        "projects": [
            {
                "name": item.name,
                "created_at": records.iso(item.created_at),
                "run_count": item.runs,
                "last_activity": records.iso(item.last_activity),
            }
            for item in finder.list_project_summaries()
        ]
    }


def project_runs(
    finder: SQLFinder, name: str, *, status: str | None = None, tag: str | None = None
) -> dict[str, Any]:
    """``/api/projects/{name}/runs``: every run of the project, oldest first, as columns (one
    list per field, entry ``i`` of each belongs to run ``i``): run fields in ``runs``, the flat
    config in ``params`` (one list per dotted key; runs that lack a key are listed in
    ``params_missing``) and per metric key its ``last`` value and ``best`` in the direction of
    ``metric_modes`` (see ``docs/dashboard.md``).

    Raises:
        NotFoundError: no project called ``name``.
    """
    page = finder.get_runs_page(name, status=status or None, tag=tag or None)
    if page is None:
        raise NotFoundError(f"no project named {name!r}")
    runs = page.runs
    params, missing = records.config_columns([run.config for run in runs])
    metrics = _metric_columns(page.metrics)
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
        **_search_columns(runs),
    }


def _search_columns(runs: list[RunRow]) -> dict[str, list[Any]]:
    """The search-run contract facts of each run (`ato.tracker.search_runs`): ``search_id``,
    ``search_tag`` (the tag to link to the search page), ``contract_tags`` (the tags the
    search wrote, not the user's labels), ``rung``, ``budget`` and ``trial``; ``None`` (``[]``)
    for runs outside a search."""
    facts = [search_runs.parse_tags(run.tags) for run in runs]
    return {
        "search_id": [f.search_id for f in facts],
        "search_tag": [_search_tag(f.search_id) for f in facts],
        "contract_tags": [search_runs.contract_tags(run.tags) for run in runs],
        "rung": [f.rung for f in facts],
        "budget": [records.json_number(f.budget) for f in facts],
        "trial": [f.trial_id for f in facts],
    }


def _search_tag(search_id: str | None) -> str | None:
    return None if search_id is None else search_runs.search_tag(search_id)


def _metric_columns(metrics: Mapping[str, MetricColumns]) -> dict[str, dict[str, list[Any]]]:
    """Per metric key: ``last`` and ``best`` (by `records.guess_mode`) per run, ``None``
    where the run did not log the key; NaN and infinities as the texts of
    `records.json_value`."""
    return {
        key: {
            "last": _json_values(column.last),
            "best": _json_values(column.min if records.guess_mode(key) == "min" else column.max),
        }
        for key, column in metrics.items()
    }


def _json_values(values: list[float | None]) -> list[float | str | None]:
    """`records.json_value` of each of ``values``, inlined (one value per run and key)."""
    text = records.NON_FINITE_TEXT
    return [v if v is None or v - v == 0 else text[v != v, v > 0] for v in values]


def run_detail(finder: SQLFinder, run_id: int) -> dict[str, Any]:
    """``/api/runs/{id}``: the run's status, times, tags, config tree, provenance (how it was
    launched; ``{}`` for runs that did not record it), artifacts (name, size, SHA-256, stored
    or reference, and for stored files the ``download`` URL), fingerprints and metric
    summaries.

    Raises:
        NotFoundError: no run ``run_id``.
    """
    run = _load_run(finder, run_id)
    summaries = finder.get_metric_summaries([run.id]).get(run.id, {})
    facts = search_runs.parse_tags(run.tags)
    return {
        "id": run.id,
        "project": run.project_name,
        "status": run.status,
        "live": run.status == "running",
        "start_time": records.iso(run.start_time),
        "end_time": records.iso(run.end_time),
        "duration_s": records.duration_s(run),
        "tags": run.tags,
        "search_id": facts.search_id,
        "search_tag": _search_tag(facts.search_id),
        "contract_tags": search_runs.contract_tags(run.tags),
        "rung": facts.rung,
        "budget": records.json_number(facts.budget),
        "trial": facts.trial_id,
        "structural_hash": run.structural_hash,
        "config": records.plain_config(run),
        "provenance": records.plain_provenance(run),
        "metric_keys": sorted(summaries),
        "metrics": {key: records.summary(s) for key, s in sorted(summaries.items())},
        "artifacts": [artifact_record(run.id, a) for a in run.artifacts],
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


def artifact_record(run_id: int, artifact: Artifact) -> dict[str, Any]:
    """One artifact of ``/api/runs/{id}``: ``name``, ``path`` (where it was logged from),
    ``data_type``, ``metadata``, ``timestamp``, ``size`` (bytes) and ``sha256`` (``None`` when
    unknown), ``stored``, and ``download``: the URL serving a stored file (``None`` for a
    reference)."""
    download = None
    if artifact.stored:
        download = f"/api/runs/{run_id}/artifacts/{quote(artifact.name, safe='/')}"
    return {
        "name": artifact.name,
        "path": artifact.path,
        "data_type": artifact.data_type,
        "metadata": artifact.metadata,
        "timestamp": records.iso(artifact.timestamp),
        "size": artifact.size,
        "sha256": artifact.sha256,
        "stored": artifact.stored,
        "download": download,
    }


def artifact_file(finder: SQLFinder, run_id: int, name: str) -> Path:
    """``/api/runs/{id}/artifacts/{name}``: the stored file of run ``run_id``'s artifact
    ``name``, inside the artifact store (never a path outside it; see
    `ato.tracker.SQLFinder.artifact_file`).

    Raises:
        BadRequestError: ``name`` is not a safe relative name (absolute, ``..``, ...).
        NotFoundError: no run ``run_id``, no such artifact, a reference only, no store
            configured, or the file is missing from the store.
    """
    try:
        check_artifact_name(name)
    except ArtifactPathError as error:
        raise BadRequestError(str(error)) from None
    _load_run(finder, run_id)
    try:
        return finder.artifact_file(run_id, name)
    except ArtifactNotFoundError as error:
        raise NotFoundError(str(error)) from None


def _load_run(finder: SQLFinder, run_id: int) -> Run:
    run = finder.find_run(run_id, with_metrics=False)
    if run is None:
        raise NotFoundError(f"no run with id {run_id}")
    return run


def series(
    finder: SQLFinder,
    run_id: int,
    key: str,
    max_points: int = DEFAULT_MAX_POINTS,
    *,
    since_step: int | None = None,
) -> dict[str, Any]:
    """``/api/runs/{id}/metrics/{key}``: the series as columns ``step``, ``value`` and
    ``time`` (seconds since the Unix epoch), downsampled to at most ``max_points`` keeping the
    first and last point, every bucket's extremes and its first NaN; ``total`` counts the
    logged values. NaN and infinities are ``null`` in ``value`` (gaps in a chart), counted by
    kind in ``non_finite`` (``{'nan': n, 'inf': n, '-inf': n}``).

    With ``since_step`` (an int), only the values logged at a step greater than it (empty
    columns and ``total`` 0 when there is none yet): what a live chart holding the series up
    to that step lacks. ``since_step`` is echoed (``null`` without it).

    Raises:
        NotFoundError: no run ``run_id``, or it never logged ``key``.
        BadRequestError: ``max_points`` below 4 or above ``MAX_POINTS_LIMIT``.
    """
    if not 4 <= max_points <= MAX_POINTS_LIMIT:
        raise BadRequestError(
            f"max_points must be at least 4 and at most {MAX_POINTS_LIMIT:,}, got {max_points}"
        )
    run = _load_run(finder, run_id)
    found = finder.get_metric_series(run_id, key, max_points, since_step=since_step)
    points, total = found.points, found.total
    if not points and (
        since_step is None or key not in finder.get_metric_summaries([run_id]).get(run_id, {})
    ):
        raise NotFoundError(f"run {run_id} has no metric {key!r}")
    return {
        "run_id": run_id,
        "key": key,
        "status": run.status,
        "since_step": since_step,
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
            more than ``MAX_COMPARE`` (100) ids.
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


def compare(
    finder: SQLFinder,
    run_ids: Sequence[int],
    *,
    all_keys: bool = False,
    metric_pattern: str | None = None,
    metric_limit: int = COMPARE_KEYS,
) -> dict[str, Any]:
    """``/api/compare?runs=...``: the runs' summaries of the metric keys shown, those keys,
    how many keys match in all, and a config table (only keys whose values differ, without
    ato's bookkeeping keys - see `ato.tracker.is_bookkeeping` - unless ``all_keys``).

    The keys shown are the first ``metric_limit`` (in key order) of the runs' keys matching
    ``metric_pattern`` (a glob with ``*``/``?``, else a key prefix; ``None``: every key), so
    the page reads a few rows per run however many keys the runs logged
    (`SQLFinder.get_metric_summary_pages`): ``metric_keys`` and ``metric_key_count``.

    Raises:
        NotFoundError: one of the runs does not exist.
    """
    loaded = {run.id: run for run in finder.find_runs(run_ids, with_metrics=False)}
    unknown = [run_id for run_id in run_ids if run_id not in loaded]
    if unknown:
        raise NotFoundError(f"no run with id {', '.join(map(str, unknown))}")
    runs = [loaded[run_id] for run_id in run_ids]
    summaries, key_count = finder.get_metric_summary_pages(
        list(run_ids), metric_pattern, metric_limit
    )
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
        "metric_key_count": key_count,
        "metric_pattern": metric_pattern or "",
        "config_keys": keys,
        "config": {key: [flat.get(key, marker) for flat in flats] for key in keys},
        "all_keys": all_keys,
    }


def compare_series(
    finder: SQLFinder, run_ids: Sequence[int], key: str, max_points: int | None = None
) -> dict[str, Any]:
    """``/api/compare/series?runs=...&key=...``: metric ``key`` of every run of ``run_ids``
    that logged it, each downsampled as `series` does (read for all runs at once,
    [`SQLFinder.get_metric_series_many`][ato.tracker.SQLFinder.get_metric_series_many]): ``{'key', 'runs': [{'run_id',
    'total', 'downsampled', 'step', 'value', 'time'}]}`` in the order of ``run_ids``; runs
    that never logged ``key`` are left out. ``max_points`` per run: by default
    `compare_points` of the number of runs.

    Raises:
        NotFoundError: one of the runs does not exist.
    """
    max_points = max_points or compare_points(len(run_ids))
    many = finder.get_metric_series_many(run_ids, key, max_points)
    without = [run_id for run_id in run_ids if run_id not in many]  # or unknown: loaded
    if without:
        found = {run.id for run in finder.find_runs(without, with_metrics=False)}
        unknown = [run_id for run_id in without if run_id not in found]
        if unknown:
            raise NotFoundError(f"no run with id {', '.join(map(str, unknown))}")
    curves = []
    for run_id, got in many.items():
        curves.append(
            {
                "run_id": run_id,
                "total": got.total,
                "downsampled": got.total > len(got.points),
                "step": [p.step for p in got.points],
                "value": [records.json_number(p.value) for p in got.points],
                "time": [p.timestamp.timestamp() for p in got.points],
            }
        )
    return {"key": key, "runs": curves}
