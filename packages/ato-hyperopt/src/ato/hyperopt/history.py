"""Reading a search's finished (trial, rung) runs back from the tracker, to resume it.

Each run of a search made by [`Search`][ato.hyperopt.Search] carries the tags
``search:<id>``, ``trial:<id>`` and ``rung:<k>``. A run with status ``completed`` (its metric is
the last value logged under ``search/<metric_key>``, or, for runs of searches made before that
key existed (no ``metric_key:`` tag), under the metric key itself) or ``failed`` (the worst
metric) counts as finished and is not run again; ``running``, ``killed`` and other statuses are
run again.

Where the runs come from (duck-typed, no import of ato-tracker unless it is used):

1. a tracker with a ``search_runs(search_id)`` method returning run objects (``id``,
   ``tags``, ``status``, ``metrics`` as ``(key, value, step)`` items or objects with those
   attributes);
2. otherwise ato-tracker: ``SQLFinder`` on the logger's database (``db_url``) or, for a
   logger factory such as the ``SQLLogger`` class, on the search's base config
   (``experiment.sql.db_path``), runs of ``experiment.project_name``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .errors import SearchSettingError
from .facts import SEARCH_KEY_PREFIX, SearchRunFacts


@dataclass(frozen=True)
class PastRun:
    """A finished (trial, rung) run of an earlier, interrupted execution of the search."""

    run_id: Any
    metric: float
    failed: bool
    #: ``{stored key: last value}`` of the keys of a search with several objectives or
    #: constraints (its ``score_keys`` without the ``search/`` prefix); empty otherwise.
    values: dict[str, float] = field(default_factory=dict)


def load_history(
    tracker: Any,
    base_config: Any,
    search_id: str,
    metric_key: str,
    worst: float,
    score_keys: tuple[str, ...] = (),
) -> dict[tuple[int, int], PastRun]:
    """``{(trial id, rung): PastRun}`` of the finished runs of search ``search_id``; with
    ``score_keys`` (``search/<key>`` of each objective and constraint) a completed run's
    ``values`` hold the last value of each, and its ``metric`` is the first objective's.

    Raises:
        SearchSettingError: no tracker, or runs cannot be read back from it.
    """
    if tracker is None:
        raise SearchSettingError(
            "resume=True needs the tracker the search recorded its trials in; pass tracker="
        )
    history: dict[tuple[int, int], PastRun] = {}
    for run in _runs(tracker, base_config, search_id):
        facts = SearchRunFacts.from_tags(getattr(run, "tags", None) or [])
        if facts is None or facts.search_id != search_id or facts.trial_id is None:
            continue
        key = (facts.trial_id, facts.rung)
        status = getattr(run, "status", None)
        if status == "completed":
            values = [_metric(m) for m in getattr(run, "metrics", None) or []]
            own = facts.metric_key is not None
            stored = SEARCH_KEY_PREFIX + metric_key if own else metric_key
            if score_keys:
                last = {k: v for k, v, _ in values if k in score_keys}
                named = {k[len(SEARCH_KEY_PREFIX) :]: v for k, v in last.items()}
                metric = last.get(score_keys[0], math.nan)
                history[key] = PastRun(getattr(run, "id", None), metric, False, named)
                continue
            mine = [v for k, v, _ in values if k == stored]
            metric = mine[-1] if mine else math.nan
            history[key] = PastRun(getattr(run, "id", None), metric, False)
        elif status == "failed":
            history[key] = PastRun(getattr(run, "id", None), worst, True)
    return history


def _metric(item: Any) -> tuple[str, float, Any]:
    if isinstance(item, (tuple, list)):
        key, value, step = item[:3]
        return str(key), float(value), step
    return str(item.key), float(item.value), getattr(item, "step", None)


def _runs(tracker: Any, base_config: Any, search_id: str) -> list[Any]:
    if callable(getattr(tracker, "search_runs", None)):
        return list(tracker.search_runs(search_id))
    try:
        from ato.tracker import SQLFinder
    except ImportError as exc:
        raise SearchSettingError(
            "resume=True reads finished trials back from the tracker: give a tracker with a "
            "search_runs(search_id) method, or install ato-tracker"
        ) from exc
    db_url = getattr(tracker, "db_url", None)
    project = getattr(tracker, "project_name", None)
    if db_url is None or project is None:  # a factory (the SQLLogger class): the base config
        from ato.adict import ADict

        from .configs import to_adict

        config = to_adict(base_config)
        project = ADict.get_path(config, "experiment.project_name", None)
        if project is None:
            raise SearchSettingError(
                "resume=True with a logger factory needs experiment.project_name in the config"
            )
        finder = SQLFinder(config)
    else:
        finder = SQLFinder(db_url)
    return [
        run
        for run in finder.get_runs_in_project(project)
        if (facts := SearchRunFacts.from_tags(run.tags)) is not None
        and facts.search_id == search_id
    ]
