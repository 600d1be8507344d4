"""``/api/searches/{search_id}``: a hyperparameter search reconstructed from its trials' runs.

ato-hyperopt records each trial as a run tagged ``search:<id>`` and ``round:<k>`` and logs the
search metric once, at ``step=k``. Newer searches also tag ``trial_id:<id>``, ``rung:<k>`` and
``budget:<b>``; both forms are read. A trial that survives a round appears again in the next
one: it is recognised by its ``trial_id`` tag or, without one, by its config minus the keys the
search sets itself (``__num_halved__``, ``__budget__``...).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from typing import Any

from sqlalchemy import Connection

from ato.tracker import queries
from ato.tracker.overview import runs_with_tag
from ato.tracker.results import MetricSummary, Run

from . import records
from .errors import BadRequestError, NotFoundError


def search_detail(
    conn: Connection, search_id: str, *, metric: str | None = None, mode: str | None = None
) -> dict[str, Any]:
    """The search's trials per round, survivor links, searched parameters and best trial.

    Args:
        search_id: the id in the runs' ``search:<id>`` tag.
        metric: the metric key to rank by (default: the key each trial logged once, at the
            step of its round, as ato-hyperopt does).
        mode: ``'max'`` or ``'min'`` (default: guessed from the key, see
            [`guess_mode`][ato.dashboard.records.guess_mode]).

    Raises:
        NotFoundError: no run carries the tag, or ``metric`` was never logged by a trial.
        BadRequestError: ``mode`` is not ``'max'``/``'min'``.
    """
    if mode not in (None, "max", "min"):
        raise BadRequestError(f"mode must be 'max' or 'min', got {mode!r}")
    runs = runs_with_tag(conn, f"search:{search_id}")
    if not runs:
        raise NotFoundError(f"no run is tagged search:{search_id}")
    summaries = queries.metric_summaries(conn, [run.id for run in runs])
    trials = [_trial(run, summaries.get(run.id, {})) for run in runs]
    keys = sorted({key for per_run in summaries.values() for key in per_run})
    metric = metric or _search_metric(trials, summaries)
    if metric is not None and metric not in keys:
        raise NotFoundError(f"no trial of search {search_id} logged a metric {metric!r}")
    mode = mode or (records.guess_mode(metric) if metric else "max")
    for trial in trials:
        summary = summaries.get(trial["run_id"], {}).get(metric or "")
        trial["metric"] = records.json_number(summary.last) if summary else None
    flats = [trial.pop("_flat") for trial in trials]
    params = [key for key in records.differing_keys(flats) if key not in records.SEARCH_KEYS]
    for trial, flat in zip(trials, flats, strict=True):
        trial["params"] = {key: flat.get(key) for key in params}
    return {
        "search_id": search_id,
        "projects": sorted({run.project_name for run in runs}),
        "metric": metric,
        "mode": mode,
        "metric_keys": keys,
        "params": params,
        "x_axis": "budget" if all(t["budget"] is not None for t in trials) else "round",
        "rounds": _rounds(trials),
        "links": _links(trials),
        "best": _best(trials, mode),
        "status_counts": _count(trial["status"] for trial in trials),
    }


def _trial(run: Run, summaries: dict[str, MetricSummary]) -> dict[str, Any]:
    tags = records.tag_values(run.tags)
    config = records.plain_config(run)
    flat = records.flatten(config)
    rung = records.as_number(tags.get("rung", tags.get("round")))
    if rung is None:
        rung = records.as_number(str(flat.get("__num_halved__", "")))
    budget = records.as_number(tags.get("budget"))
    if budget is None and isinstance(flat.get("__budget__"), (int, float)):
        budget = float(flat["__budget__"])
    identity = tags.get("trial_id") or tags.get("trial")
    if identity is None:
        searched = {k: v for k, v in flat.items() if k not in records.SEARCH_KEYS}
        text = json.dumps(searched, sort_keys=True, default=str)
        identity = "config:" + hashlib.sha256(text.encode()).hexdigest()[:12]
    return {
        "run_id": run.id,
        "status": run.status,
        "round": int(rung) if rung is not None else 0,
        "budget": budget,
        "trial": identity,
        "_flat": flat,
    }


def _search_metric(
    trials: list[dict[str, Any]], summaries: dict[int, dict[str, MetricSummary]]
) -> str | None:
    """The key most trials logged at the step of their round, fewest values per trial first."""
    scores: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for trial in trials:
        for key, summary in summaries.get(trial["run_id"], {}).items():
            scores[key][0] += summary.last_step == trial["round"]
            scores[key][1] -= summary.count
    if not scores:
        return None
    return max(sorted(scores), key=lambda key: tuple(scores[key]))


def _rounds(trials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_round: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for trial in trials:
        by_round[trial["round"]].append(trial)
    return [
        {"round": index, "budget": by_round[index][0]["budget"], "trials": by_round[index]}
        for index in sorted(by_round)
    ]


def _links(trials: list[dict[str, Any]]) -> list[list[int]]:
    """``[from_run, to_run]`` for each trial seen again in a later round (its next one)."""
    seen: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for trial in trials:
        seen[trial["trial"]].append(trial)
    links = []
    for chain in seen.values():
        chain.sort(key=lambda trial: (trial["round"], trial["run_id"]))
        links += [[a["run_id"], b["run_id"]] for a, b in zip(chain, chain[1:], strict=False)]
    return sorted(links)


def _best(trials: list[dict[str, Any]], mode: str) -> dict[str, Any] | None:
    """The best-scoring trial of the highest round that has a score."""
    scored = [trial for trial in trials if trial["metric"] is not None]
    if not scored:
        return None
    last_round = max(trial["round"] for trial in scored)
    finalists = [trial for trial in scored if trial["round"] == last_round]
    pick = max if mode == "max" else min
    best = pick(finalists, key=lambda trial: trial["metric"])
    return {key: best[key] for key in ("run_id", "round", "metric", "params")}


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for value in values:
        counts[value] += 1
    return dict(counts)
