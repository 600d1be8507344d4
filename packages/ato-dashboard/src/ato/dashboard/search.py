"""``/api/searches/{search_id}``: a hyperparameter search reconstructed from its trials' runs.

The tags are read through `ato.tracker.search_runs` (the search-run contract's owner) and the
tracker's read API; this module only shapes them for the page. ato-hyperopt records each evaluation of a trial as a run tagged ``search:<id>``, ``trial:<n>``,
``rung:<k>``, ``budget:<b>``, ``bracket:<i>``, ``mode:`` and ``metric_key:<key>``, and logs the value
it ranks by under ``search/<key>``. Older searches tagged ``round:<k>`` and logged the metric
itself at ``step=k``; both forms are read. A trial that survives a rung appears again in the next
one: it is recognised by its ``trial_id`` tag or, without one, by its config minus the keys the
search sets itself (``__num_halved__``, ``__budget__``...). The answer is the one
``ato runs best --search`` names; the search is read lightly, through
[`SQLFinder.get_search_rows`][ato.tracker.SQLFinder.get_search_rows].
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import defaultdict
from typing import Any

from ato.adict.modes import check_mode
from ato.tracker import Evaluation, RunRow, SearchAnswer, SearchRows, SQLFinder, search_runs

from . import records
from .errors import BadRequestError, NotFoundError


def no_search(search_id: str) -> NotFoundError:
    """The 404 for a search id that no run carries (``search:<id>``)."""
    return NotFoundError(f"no run is tagged {search_runs.search_tag(search_id)}")


def search_detail(
    finder: SQLFinder, search_id: str, *, metric: str | None = None, mode: str | None = None
) -> dict[str, Any]:
    """The search's trials per bracket and rung, survivor links, searched parameters and answer.

    Args:
        search_id: the id in the runs' ``search:<id>`` tag.
        metric: the metric key to rank by (default: the search's own, ``search/<key>``, or for
            older searches the key each trial logged once, at the step of its round).
        mode: ``'max'`` or ``'min'`` (default: the search's ``mode:`` tag, else guessed from
            the key).

    Raises:
        NotFoundError: no run carries the tag, or ``metric`` was never logged by a trial.
        BadRequestError: ``mode`` is not ``'max'``/``'min'``.
    """
    if mode is not None:
        check_mode(mode, BadRequestError)
    found = finder.get_search_rows(search_id, metric=metric, mode=mode)
    if found is None:
        raise no_search(search_id)
    runs, keys, answer = found.runs, found.metric_keys, found.answer
    if metric is not None and metric not in keys:
        raise NotFoundError(f"no trial of search {search_id} logged a metric {metric!r}")
    trials, params = trial_records(found)
    return {
        "search_id": search_id,
        "projects": sorted({run.project_name for run in runs}),
        "metric": answer.key,
        "mode": answer.mode,
        "metric_keys": keys,
        "params": params,
        "x_axis": "budget" if all(t["budget"] is not None for t in trials) else "round",
        "brackets": sorted({t["bracket"] for t in trials if t["bracket"] is not None}),
        "budgets": sorted({t["budget"] for t in trials if t["budget"] is not None}),
        "rounds": _rounds(trials),
        "links": _links(trials),
        "best": _best(trials, answer),
        "no_answer": answer.reason,
        "contract": answer.contract,
        "status_counts": _count(trial["status"] for trial in trials),
    }


def trial_records(found: SearchRows) -> tuple[list[dict[str, Any]], list[str]]:
    """One record per run of ``found`` (``run_id``, ``status``, ``bracket``, ``round``,
    ``rung``, ``budget``, ``trial``, ``final``, ``metric``: the ranked value or ``None``, and
    ``params``) and the searched parameters: the dotted config keys whose values differ
    between the runs, without the keys a search sets itself."""
    runs, answer = found.runs, found.answer
    columns, missing = records.config_columns([run.config for run in runs])  # one pass
    params = [
        key for key in records.differing_columns(columns, missing) if key not in records.SEARCH_KEYS
    ]
    trials = []
    for i, (run, evaluation) in enumerate(zip(runs, answer.evaluations, strict=True)):
        trial = _trial(run, evaluation)
        trial["params"] = {key: columns[key][i] for key in params}
        trials.append(trial)
    return trials, params


def _trial(run: RunRow, evaluation: Evaluation) -> dict[str, Any]:
    identity = evaluation.trial
    if identity is None:  # an older search: the trial is its config minus the search's keys
        flat = records.flatten(run.config)
        searched = {k: v for k, v in flat.items() if k not in records.SEARCH_KEYS}
        text = json.dumps(searched, sort_keys=True, default=str)
        identity = "config:" + hashlib.sha256(text.encode()).hexdigest()[:12]
    return {
        "run_id": run.id,
        "status": run.status,
        "bracket": evaluation.bracket,
        "round": evaluation.rung,
        "rung": evaluation.rung,
        "budget": evaluation.budget,
        "trial": identity,
        "final": evaluation.final,
        "metric": None if evaluation.value is None else records.json_number(evaluation.value),
    }


def _rounds(trials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The trials grouped by (bracket, rung): one group per budget of each bracket."""
    groups: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    for trial in trials:
        groups[(trial["bracket"] if trial["bracket"] is not None else -1, trial["round"])].append(
            trial
        )
    return [
        {
            "bracket": groups[key][0]["bracket"],
            "round": key[1],
            "budget": groups[key][0]["budget"],
            "trials": groups[key],
        }
        for key in sorted(groups)
    ]


def _links(trials: list[dict[str, Any]]) -> list[list[int]]:
    """``[from_run, to_run]`` for each trial seen again at a later rung (its next one)."""
    seen: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for trial in trials:
        seen[trial["trial"]].append(trial)
    links = []
    for chain in seen.values():
        chain.sort(key=lambda trial: (trial["bracket"] or 0, trial["round"], trial["run_id"]))
        links += [[a["run_id"], b["run_id"]] for a, b in itertools.pairwise(chain)]
    return sorted(links)


def _best(trials: list[dict[str, Any]], answer: SearchAnswer) -> dict[str, Any] | None:
    """The search's answer (see [`SearchAnswer`][ato.tracker.SearchAnswer]), ``None``
    without one."""
    if answer.run_id is None:
        return None
    trial = next(t for t in trials if t["run_id"] == answer.run_id)
    keys = ("run_id", "bracket", "round", "budget", "metric", "final", "params")
    return {key: trial[key] for key in keys}


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for value in values:
        counts[value] += 1
    return dict(counts)


def search_workers(finder: SQLFinder, search_id: str) -> dict[str, Any]:
    """``/api/searches/{search_id}/workers``: the live progress of a search shared through the
    database (ato-hyperopt's ``DatabaseExecutor``): ``shared`` (False, and nothing else, for a
    search run in one process or over torch.distributed), ``finished``, ``answer_run``,
    ``counts`` (jobs by state) and ``workers``: one entry per worker with ``worker``,
    ``done``, ``failed``, ``running`` (the job it holds, or None) and ``heartbeat`` (ISO 8601,
    the database's clock, or None).

    Raises:
        NotFoundError: no worker shared the search and no run carries its tag.
    """
    status = finder.get_search_status(search_id)
    if status is None:
        if not finder.get_search_runs(search_id):
            raise no_search(search_id)
        return {"search_id": search_id, "shared": False}
    return {"shared": True, **status.to_dict()}
