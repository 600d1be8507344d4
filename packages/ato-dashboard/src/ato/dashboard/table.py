"""The server-side runs table and run groups: ``/api/projects/{name}/table`` (one page of
runs, filtered, sorted and paged by the database through
[`SQLFinder.query_runs`][ato.tracker.SQLFinder.query_runs]) and
``/api/projects/{name}/groups`` (runs grouped by config keys with aggregated metrics)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from ato.tracker import RunFilterError, RunRow, RunsPage, SQLFinder, is_bookkeeping, search_runs

from . import records
from .errors import BadRequestError, FilterError, NotFoundError

#: Rows of one table page: at most this many.
MAX_PAGE = 1000
DEFAULT_PAGE = 50
#: Config keys the default grouping leaves out: the seed (groups are "the same run, other seeds").
SEED_KEY = re.compile(r"(^|\.)(seed|random_seed|seed_value|rng_seed)$", re.I)
#: Runs per group listed in a groups answer (the counts and aggregates cover all of them).
MAX_MEMBERS = 200


def _query(
    finder: SQLFinder,
    name: str,
    filter_text: str | None,
    *,
    sort_by: str = "id",
    descending: bool = False,
    offset: int = 0,
    limit: int | None = None,
) -> RunsPage:
    """`SQLFinder.query_runs` with its errors as HTTP errors."""
    try:
        page = finder.query_runs(
            name, filter_text, sort_by=sort_by, descending=descending, offset=offset, limit=limit
        )
    except RunFilterError as error:
        raise FilterError(str(error), error.position) from None
    except ValueError as error:
        raise BadRequestError(str(error)) from None
    if page is None:
        raise NotFoundError(f"no project named {name!r}")
    return page


def table_page(
    finder: SQLFinder,
    name: str,
    *,
    filter_text: str | None = None,
    sort_by: str = "id",
    descending: bool = True,
    offset: int = 0,
    limit: int = DEFAULT_PAGE,
) -> dict[str, Any]:
    """``/api/projects/{name}/table``: one page of the runs matching ``filter_text``, as
    columns (entry ``i`` of each list belongs to run ``i``): ``runs`` (``id``, ``status``,
    ``start_time``, ``duration_s``, ``tags``, ``search_id``, ``search_tag``), ``params`` (one
    list per dotted config key any run of the page has, ``None`` where a run lacks it),
    ``metrics`` (per key ``{'last', 'min', 'max'}``, non-finite values as texts), and
    ``total`` (all matching runs), ``offset``, ``limit``, ``sort``, ``descending``.

    Raises:
        NotFoundError: no project ``name``.
        FilterError: the filter does not parse (with its ``position``).
        BadRequestError: ``sort_by`` names no field; ``limit`` outside 1..``MAX_PAGE``.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequestError(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
    page = _query(
        finder, name, filter_text, sort_by=sort_by, descending=descending, offset=offset,
        limit=limit,
    )  # fmt: skip
    rows = page.runs
    params, _ = records.config_columns([row.config for row in rows])
    return {
        "project": name,
        "total": page.total,
        "offset": offset,
        "limit": limit,
        "sort": sort_by,
        "descending": descending,
        "filter": filter_text or "",
        "runs": _run_columns(rows),
        "param_keys": [key for key in params if not is_bookkeeping(key)],
        "params": {key: column for key, column in params.items() if not is_bookkeeping(key)},
        "metric_keys": sorted(page.metrics),
        "metrics": {
            key: {
                "last": [records.json_value(v) for v in column.last],
                "min": [records.json_value(v) for v in column.min],
                "max": [records.json_value(v) for v in column.max],
            }
            for key, column in sorted(page.metrics.items())
        },
    }


def _run_columns(rows: Sequence[RunRow]) -> dict[str, list[Any]]:
    search_ids = [search_runs.search_id_of(row.tags) for row in rows]
    return {
        "id": [row.id for row in rows],
        "status": [row.status for row in rows],
        "start_time": [records.iso(row.start_time) for row in rows],
        "duration_s": [
            None if row.end_time is None else (row.end_time - row.start_time).total_seconds()
            for row in rows
        ],
        "tags": [row.tags for row in rows],
        "search_id": search_ids,
        "search_tag": [None if s is None else search_runs.search_tag(s) for s in search_ids],
    }


# ---- groups -----------------------------------------------------------------------------


def group_keys(flats: Sequence[dict[str, Any]]) -> list[str]:
    """The default grouping: every config key whose value differs between the runs (``flats``:
    their flat configs), except seeds (``seed``, ``*.seed``, ``random_seed``...) and ato's
    bookkeeping keys."""
    return [
        key
        for key in records.differing_keys(flats)
        if not is_bookkeeping(key) and not SEED_KEY.search(key)
    ]


def grouped_runs(
    finder: SQLFinder, name: str, filter_text: str | None, by: Sequence[str] | None
) -> tuple[list[str], list[str], dict[tuple[str, ...], list[int]], RunsPage]:
    """Every run matching ``filter_text`` grouped by config keys ``by`` (``None``: the
    default of `group_keys`): ``(by, candidate keys, {group value texts: row indexes}, page)``,
    groups in order of their first run."""
    page = _query(finder, name, filter_text)
    flats = [records.flatten(row.config) for row in page.runs]
    candidates = [key for key in records.differing_keys(flats) if not is_bookkeeping(key)]
    keys = group_keys(flats) if by is None else list(by)
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, flat in enumerate(flats):
        label = tuple(records.group_label(flat.get(key, records.MISSING)) for key in keys)
        groups.setdefault(label, []).append(i)
    return keys, candidates, groups, page


def groups(
    finder: SQLFinder, name: str, *, filter_text: str | None = None, by: Sequence[str] | None = None
) -> dict[str, Any]:
    """``/api/projects/{name}/groups``: the runs matching ``filter_text`` grouped by the config
    keys ``by`` (``None``: every key that differs except the seed, see `group_keys`).

    Returns:
        ``{'by': [keys], 'candidate_keys': [every differing key], 'total': runs,
        'metric_keys': [...], 'groups': [{'values': {key: text}, 'count': n, 'runs': [{'id',
        'status', 'metrics': {key: last}}] (the first ``MAX_MEMBERS``), 'metrics': {key:
        {'n', 'mean', 'std', 'min', 'max'}}}]}`` - aggregates over the finite last values of
        the group's runs; ``std`` is the sample standard deviation (``None`` below 2 values).

    Raises:
        NotFoundError, FilterError: as for `table_page`.
    """
    keys, candidates, grouped, page = grouped_runs(finder, name, filter_text, by)
    metric_keys = sorted(page.metrics)
    result = []
    for label, members in grouped.items():
        metrics = {}
        for key in metric_keys:
            last = page.metrics[key].last
            stats = aggregate([last[i] for i in members])
            if stats["n"]:
                metrics[key] = stats
        result.append(
            {
                "values": dict(zip(keys, label, strict=True)),
                "count": len(members),
                "runs": [
                    {
                        "id": page.runs[i].id,
                        "status": page.runs[i].status,
                        "metrics": {
                            key: records.json_value(page.metrics[key].last[i])
                            for key in metric_keys
                        },
                    }
                    for i in members[:MAX_MEMBERS]
                ],
                "metrics": metrics,
            }
        )
    return {
        "project": name,
        "filter": filter_text or "",
        "by": keys,
        "candidate_keys": candidates,
        "total": len(page.runs),
        "metric_keys": metric_keys,
        "groups": result,
    }


def aggregate(values: Sequence[float | None]) -> dict[str, Any]:
    """``{'n', 'mean', 'std', 'min', 'max'}`` of the finite numbers among ``values`` (``std``:
    sample standard deviation, ``None`` below two values; all ``None`` for none)."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    n = len(finite)
    if not n:
        return {"n": 0, "mean": None, "std": None, "min": None, "max": None}
    mean = math.fsum(finite) / n
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in finite) / (n - 1)) if n > 1 else None
    return {"n": n, "mean": mean, "std": std, "min": min(finite), "max": max(finite)}


def group_series(
    finder: SQLFinder,
    name: str,
    key: str,
    *,
    filter_text: str | None = None,
    by: Sequence[str] | None = None,
    max_runs: int = 50,
    max_points: int = 500,
) -> dict[str, Any]:
    """``/api/projects/{name}/groups/series``: per group (as `groups` makes them) the curve
    of metric ``key`` across its runs: at every step any of them logged, ``mean``, ``std``
    (sample), ``min``, ``max`` and ``n`` (how many runs had a finite value there). Each run's
    series is first downsampled to ``max_points``; at most ``max_runs`` runs of a group are
    read (``used`` says how many).

    Raises:
        NotFoundError, FilterError: as for `groups`.
    """
    keys, _, grouped, page = grouped_runs(finder, name, filter_text, by)
    curves = []
    for label, members in grouped.items():
        logged = page.metrics.get(key)
        ids = [page.runs[i].id for i in members if logged is not None and _has(logged, i)]
        per_step: dict[int, list[float]] = {}
        for run_id in ids[:max_runs]:
            for point in finder.get_metric_series(run_id, key, max_points).points:
                if point.step is not None and math.isfinite(point.value):
                    per_step.setdefault(point.step, []).append(point.value)
        steps = sorted(per_step)
        stats = [aggregate(per_step[step]) for step in steps]
        curves.append(
            {
                "values": dict(zip(keys, label, strict=True)),
                "count": len(members),
                "used": min(len(ids), max_runs),
                "step": steps,
                **{
                    field: [s[field] for s in stats] for field in ("mean", "std", "min", "max", "n")
                },
            }
        )
    return {"project": name, "key": key, "by": keys, "groups": curves}


def _has(column: Any, i: int) -> bool:
    return column.last[i] is not None or column.min[i] is not None
