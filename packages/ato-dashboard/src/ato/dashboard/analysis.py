"""``/api/searches/{search_id}/analysis/{view}``: why a search found what it found.

Every view reads the search once, lightly, through
[`SQLFinder.get_search_rows`][ato.tracker.SQLFinder.get_search_rows] (its runs' configs, tags
and statuses, their metric summaries and the answer by the tracker's rule,
``ato.tracker.answers``; no metric rows, artifacts or fingerprints) and is budget-aware: values measured at different budgets (epochs, samples) are never mixed in
one ranking. A search's *levels* are its budgets, or its rungs when it recorded no budget.

Views (query parameters in brackets; ``metric`` and ``mode`` as for the search page):

- ``history``: every evaluation in run order with the best value so far at each level, the
  cumulative budget spent, and the answer the search had after each evaluation (the tracker's
  rule applied to the evaluations up to it).
- ``parallel`` [``budget``]: the completed evaluations at one level as columns of parameters
  and the metric (parallel coordinates).
- ``slice`` [``budget``, ``param``]: the metric against one parameter.
- ``contour`` [``budget``, ``x``, ``y``]: the metric over a pair of parameters, interpolated on
  a grid by inverse distance weighting (Shepard, "A two-dimensional interpolation function
  for irregularly-spaced data", ACM 1968).
- ``importance`` [``budget``, ``method``]: see `ato.dashboard.importance`.
- ``curves`` [``key``, ``max_points``]: the learning curve of every evaluation, with its
  outcome (promoted to a larger budget, stopped, failed, running).
- ``front`` [``x``, ``y``, ``budget``]: for a search with two or more objectives, two of them
  against each other, the search's Pareto front and its pick (see `front`).

With a `ato.dashboard.search_cache.ViewCache` (the app keeps one), a document is computed once per
search state (`SQLFinder.get_search_state`): asking again for an unchanged search costs one
aggregate query.

Bad parameters raise `BadRequestError` (HTTP 400) naming the allowed values.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ato.adict.modes import check_mode
from ato.tracker import SearchAnswer, SearchRows, SearchState, SQLFinder, search_runs
from ato.tracker.answers import running_answers

from . import admission, importance, records, search
from .errors import BadRequestError, NotFoundError
from .search_cache import ViewCache

#: Cells per numeric axis of the contour grid.
GRID = 24
#: Default and largest number of points per learning curve.
CURVE_POINTS, MAX_CURVE_POINTS = 200, 10_000
_STOPPED = frozenset({"completed", "pruned"})
Query = Mapping[str, str]


@dataclass(frozen=True)
class SearchData:
    """A search as the views read it: ``trials`` as from `ato.dashboard.search.trial_records`
    (one per run, by run id, each with its ``level``), the searched ``params``, the answer and
    whether levels are budgets (``'budget'``) or rungs (``'rung'``)."""

    search_id: str
    found: SearchRows
    trials: list[dict[str, Any]]
    params: list[str]
    level_kind: str

    @property
    def answer(self) -> SearchAnswer:
        """The search's answer by the tracker's rule."""
        return self.found.answer

    @property
    def levels(self) -> list[float]:
        """The distinct levels, ascending."""
        return sorted({t["level"] for t in self.trials})

    def completed_at(self, level: float) -> list[dict[str, Any]]:
        """The completed evaluations with a finite value at ``level``, by run id."""
        return [t for t in self.trials if t["level"] == level and _completed(t)]


def _completed(trial: Mapping[str, Any]) -> bool:
    return trial["status"] == "completed" and trial["metric"] is not None


def ranking(query: Query) -> tuple[str | None, str | None]:
    """The ``metric`` and ``mode`` of ``query`` (``None`` when absent or empty).

    Raises:
        BadRequestError: ``mode`` is not ``'max'``/``'min'``.
    """
    metric, mode = query.get("metric") or None, query.get("mode") or None
    if mode is not None:
        check_mode(mode, BadRequestError)
    return metric, mode


def load(finder: SQLFinder, search_id: str, query: Query) -> SearchData:
    """The search ``search_id`` ranked by ``query``'s ``metric`` and ``mode``.

    Raises:
        NotFoundError: no run carries the search's tag, or no trial logged ``metric``.
        BadRequestError: ``mode`` is not ``'max'``/``'min'``.
    """
    metric, mode = ranking(query)
    found = finder.get_search_rows(search_id, metric=metric, mode=mode)
    if found is None:
        raise search.no_search(search_id)
    if metric is not None and metric not in found.metric_keys:
        raise NotFoundError(f"no trial of search {search_id} logged a metric {metric!r}")
    trials, params = search.trial_records(found)
    kind = "budget" if all(t["budget"] is not None for t in trials) else "rung"
    for trial in trials:
        trial["level"] = trial["budget"] if kind == "budget" else trial["rung"]
    return SearchData(search_id, found, trials, params, kind)


def view(
    finder: SQLFinder,
    search_id: str,
    name: str,
    query: Query,
    cache: ViewCache | None = None,
) -> dict[str, Any]:
    """The JSON document of analysis view ``name`` (see the module docstring), from ``cache``
    when the search has not changed since it was computed.

    Raises:
        NotFoundError: no such view, search or metric.
        BadRequestError: a query parameter is out of its allowed values.
    """
    handler = VIEWS.get(name)
    if handler is None:
        raise NotFoundError(f"no analysis view {name!r}: the views are {', '.join(VIEWS)}")

    def render(data: SearchData) -> dict[str, Any]:
        return _document(finder, data, name, query)

    if cache is None:
        return render(load(finder, search_id, query))
    return cache.document(
        finder,
        search_id,
        ranking(query),
        (name, tuple(sorted(query.items()))),
        lambda: _with_state(load(finder, search_id, query)),
        render,
    )


def _with_state(data: SearchData) -> tuple[SearchState, SearchData]:
    return data.found.state, data


def _document(finder: SQLFinder, data: SearchData, name: str, query: Query) -> dict[str, Any]:
    answer = data.answer
    return {
        "search_id": data.search_id,
        "view": name,
        "metric": answer.key,
        "mode": answer.mode,
        "metric_keys": data.found.metric_keys,
        "level_kind": data.level_kind,
        "levels": _level_counts(data),
        "params": data.params,
        "answer": _answer(answer),
        "objectives": max(1, len(answer.objectives)),
        **VIEWS[name](finder, data, query),
    }


def _answer(answer: SearchAnswer) -> dict[str, Any] | None:
    if answer.run_id is None:
        return None
    return {
        "run_id": answer.run_id,
        "value": answer.value,
        "budget": answer.budget,
        "rung": answer.rung,
        "trial": answer.trial,
    }


def _level_counts(data: SearchData) -> list[dict[str, Any]]:
    runs = Counter(t["level"] for t in data.trials)
    done = Counter(t["level"] for t in data.trials if _completed(t))
    return [{"level": lv, "runs": runs[lv], "completed": done[lv]} for lv in data.levels]


# ---- history ------------------------------------------------------------------------


def history(finder: SQLFinder, data: SearchData, query: Query) -> dict[str, Any]:
    """Evaluations in run-id order (``number`` 1, 2, ...), per level the best value so far
    after each completed evaluation there, and the answer after each evaluation: the
    tracker's rule over the evaluations up to it (``null`` before the first completed one;
    ``null`` throughout for a search with several objectives, whose answer is picked from a
    Pareto front, not by a running best). ``cumulative_budget`` adds up the budgets evaluated
    so far (``null`` for rung levels)."""
    trials, answer = data.trials, data.answer
    several = len(answer.objectives) > 1 or bool(answer.constraint_keys)
    sign = 1.0 if answer.mode == "max" else -1.0
    best: dict[float, dict[str, list[Any]]] = defaultdict(lambda: {"number": [], "best": []})
    spent, cumulative = 0.0, []
    by_run = {t["run_id"]: t for t in trials}
    path: dict[str, list[Any]] = {"run_id": [], "value": [], "level": []}
    for number, (trial, held) in enumerate(zip(trials, running_answers(answer), strict=True), 1):
        spent += trial["budget"] or 0.0
        cumulative.append(spent if data.level_kind == "budget" else None)
        if _completed(trial):
            line = best[trial["level"]]
            value = trial["metric"]
            if line["best"] and sign * line["best"][-1] >= sign * value:
                value = line["best"][-1]
            line["number"].append(number)
            line["best"].append(value)
        holder = by_run[held] if held is not None and not several else None
        held = None if several else held
        path["run_id"].append(held)
        path["value"].append(None if holder is None else holder["metric"])
        path["level"].append(None if holder is None else holder["level"])
    return {
        "evaluations": {
            "number": list(range(1, len(trials) + 1)),
            "run_id": [t["run_id"] for t in trials],
            "trial": [t["trial"] for t in trials],
            "level": [t["level"] for t in trials],
            "status": [t["status"] for t in trials],
            "value": [t["metric"] for t in trials],
            "cumulative_budget": cumulative,
        },
        "best_by_level": [{"level": lv, **best[lv]} for lv in sorted(best)],
        "answer_path": path,
    }


# ---- one level: parallel coordinates, slice, contour ---------------------------------


def chosen_level(data: SearchData, query: Query) -> float:
    """The ``budget`` of ``query`` (a rung for searches without budgets), by default the level
    with the most completed evaluations (the larger one on a tie).

    Raises:
        BadRequestError: not one of the search's levels.
    """
    levels = data.levels
    text = query.get("budget") or ""
    if not text:
        done = Counter(t["level"] for t in data.trials if _completed(t))
        return max(levels, key=lambda lv: (done[lv], lv)) if levels else 0.0
    number = records.as_number(text)
    if number is None or number not in levels:
        shown = ", ".join(f"{lv:g}" for lv in levels)
        raise BadRequestError(
            f"budget must be one of this search's {data.level_kind}s ({shown}), got {text[:40]!r}"
        )
    return next(lv for lv in levels if lv == number)


def _axis(key: str, values: list[Any]) -> dict[str, Any]:
    """How to draw parameter ``key``: numeric (``log`` when positive over a wide range) or
    categorical (``categories``: the distinct values as text, sorted)."""
    present = [v for v in values if v is not None]
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in present)
    if numeric and present:
        low, high = min(present), max(present)
        return {
            "key": key,
            "kind": "numeric",
            "low": low,
            "high": high,
            "log": low > 0 and high / low >= records.LOG_RATIO,
        }
    return {"key": key, "kind": "categorical", "categories": sorted({_text(v) for v in present})}


def _text(value: Any) -> str:
    """A category's text: a string as is, anything else as compact JSON (as the page's
    ``JSON.stringify`` writes it)."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def parallel(finder: SQLFinder, data: SearchData, query: Query) -> dict[str, Any]:
    """The completed evaluations at the chosen level: ``run_id``, ``trial`` and ``value``
    columns, each parameter's column in ``columns`` and its ``axes`` entry (see `_axis`)."""
    level = chosen_level(data, query)
    rows = data.completed_at(level)
    columns = {key: [t["params"].get(key) for t in rows] for key in data.params}
    return {
        "budget": level,
        "count": len(rows),
        "run_id": [t["run_id"] for t in rows],
        "trial": [t["trial"] for t in rows],
        "value": [t["metric"] for t in rows],
        "columns": columns,
        "axes": [_axis(key, columns[key]) for key in data.params],
    }


def _param(data: SearchData, query: Query, name: str, default: int) -> str:
    key = query.get(name) or ""
    if not key:
        if len(data.params) <= default:
            raise BadRequestError(
                f"this search varies {len(data.params)} parameter(s): nothing to draw for {name}"
            )
        return data.params[default]
    if key not in data.params:
        raise BadRequestError(
            f"{name} must be one of the searched parameters ({', '.join(data.params)}), "
            f"got {key[:60]!r}"
        )
    return key


def slice_view(finder: SQLFinder, data: SearchData, query: Query) -> dict[str, Any]:
    """The metric against parameter ``param`` (default: the first) at the chosen level: one
    point per completed evaluation that has the parameter (``x``, ``value``, ``run_id``,
    ``number``: its place in run order)."""
    level = chosen_level(data, query)
    key = _param(data, query, "param", 0)
    numbers = {t["run_id"]: n for n, t in enumerate(data.trials, 1)}
    rows = [t for t in data.completed_at(level) if t["params"].get(key) is not None]
    xs = [t["params"][key] for t in rows]
    return {
        "budget": level,
        "param": key,
        "axis": _axis(key, xs),
        "x": xs,
        "value": [t["metric"] for t in rows],
        "run_id": [t["run_id"] for t in rows],
        "number": [numbers[t["run_id"]] for t in rows],
    }


def contour(finder: SQLFinder, data: SearchData, query: Query) -> dict[str, Any]:
    """The metric over parameters ``x`` and ``y`` (default: the first two) at the chosen level:
    the evaluations as points and a ``grid`` of values interpolated at cell centres by inverse
    distance weighting (power 2, distances in axis units: log10 on log axes, category index
    over the number of categories on categorical ones).

    Raises:
        BadRequestError: ``x`` equals ``y``, or the search varies fewer than two parameters.
    """
    level = chosen_level(data, query)
    kx, ky = _param(data, query, "x", 0), _param(data, query, "y", 1)
    if kx == ky:
        raise BadRequestError(f"x and y must be two different parameters, got {kx!r} twice")
    rows = [
        t
        for t in data.completed_at(level)
        if t["params"].get(kx) is not None and t["params"].get(ky) is not None
    ]
    xs, ys = [t["params"][kx] for t in rows], [t["params"][ky] for t in rows]
    ax, ay = _axis(kx, xs), _axis(ky, ys)
    values = [t["metric"] for t in rows]
    gx, fx = _cells(ax)
    gy, fy = _cells(ay)
    known = [(fx(x), fy(y), v) for x, y, v in zip(xs, ys, values, strict=True)]
    grid = [[_idw(known, fx(x), fy(y)) for x in gx] for y in gy] if known else []
    return {
        "budget": level,
        "x_param": kx,
        "y_param": ky,
        "x_axis": ax,
        "y_axis": ay,
        "x": xs,
        "y": ys,
        "value": values,
        "run_id": [t["run_id"] for t in rows],
        "grid": {"x": gx, "y": gy, "value": grid},
    }


def _cells(axis: Mapping[str, Any]) -> tuple[list[Any], Callable[[Any], float]]:
    """The grid positions along ``axis`` (data values) and the map to unit coordinates."""
    if axis["kind"] == "categorical":
        cats = axis["categories"]
        index = {c: i for i, c in enumerate(cats)}
        return list(cats), lambda v: (index[_text(v)] + 0.5) / len(cats)
    low, high, log = axis["low"], axis["high"], axis["log"]
    t: Callable[[float], float] = math.log10 if log else float
    a, b = t(low), t(high)
    span = (b - a) or 1.0
    centres = [a + (b - a) * (i + 0.5) / GRID for i in range(GRID)]
    return [10**c if log else c for c in centres], lambda v: (t(v) - a) / span


def _idw(known: list[tuple[float, float, float]], x: float, y: float) -> float:
    total = weight = 0.0
    for px, py, value in known:
        d2 = (px - x) ** 2 + (py - y) ** 2
        if d2 == 0.0:
            return value
        total += value / d2
        weight += 1.0 / d2
    return total / weight


# ---- importance -------------------------------------------------------------------


def importance_view(finder: SQLFinder, data: SearchData, query: Query) -> dict[str, Any]:
    """Parameter importance at the chosen level (see `ato.dashboard.importance.evaluate`)."""
    level = chosen_level(data, query)
    method = importance.check_method(query.get("method") or importance.DEFAULT_METHOD)
    rows = data.completed_at(level)
    found = importance.evaluate(
        [t["params"] for t in rows],
        [t["metric"] for t in rows],
        data.params,
        data.answer.mode,
        method,
    )
    return {"budget": level, **found}


# ---- learning curves ----------------------------------------------------------------


def curves(finder: SQLFinder, data: SearchData, query: Query) -> dict[str, Any]:
    """The learning curve (metric ``key`` against step) of every evaluation that logged it:
    by default the search's own key as the trials logged it (``metric_key:`` tag), else the
    ranked key. Each curve names its run, trial, level, status and ``outcome``: ``promoted``
    (the trial was evaluated again at a larger level), ``stopped`` (completed or pruned, not
    promoted), ``failed`` (failed, killed, crashed) or ``running``; ``answer`` marks the
    answer's run. At most ``max_points`` points per curve (first, last, evenly between)."""
    key = query.get("key") or _own_key(data)
    if key not in data.found.metric_keys:
        raise NotFoundError(f"no trial of search {data.search_id} logged a metric {key!r}")
    limit = admission.int_param(
        query.get("max_points"), "max_points", CURVE_POINTS, 2, MAX_CURVE_POINTS
    )
    found = finder.get_metric_curves([t["run_id"] for t in data.trials], key, limit)
    promoted = _promoted(data.trials)
    out = []
    for trial in data.trials:
        series = found.get(trial["run_id"])
        if series is None:
            continue
        out.append(
            {
                "run_id": trial["run_id"],
                "trial": trial["trial"],
                "level": trial["level"],
                "status": trial["status"],
                "outcome": _outcome(trial, promoted),
                "answer": trial["run_id"] == data.answer.run_id,
                "total": series.total,
                "step": [p.step for p in series.points],
                "value": [records.json_number(p.value) for p in series.points],
            }
        )
    return {
        "key": key,
        "max_points": limit,
        "outcomes": dict(Counter(c["outcome"] for c in out)),
        "curves": out,
    }


def _own_key(data: SearchData) -> str:
    keys = data.found.metric_keys
    for run in data.found.runs:
        own = search_runs.parse_tags(run.tags).metric_key
        if own and own in keys:
            return own
    return data.answer.key or (keys[0] if keys else "")


def _promoted(trials: list[dict[str, Any]]) -> set[int]:
    """Run ids of evaluations whose trial was evaluated again at a larger level."""
    top: dict[Any, float] = {}
    for t in trials:
        top[t["trial"]] = max(top.get(t["trial"], t["level"]), t["level"])
    return {t["run_id"] for t in trials if top[t["trial"]] > t["level"]}


def _outcome(trial: Mapping[str, Any], promoted: set[int]) -> str:
    if trial["run_id"] in promoted:
        return "promoted"
    if trial["status"] == "running":
        return "running"
    return "stopped" if trial["status"] in _STOPPED else "failed"


# ---- Pareto front --------------------------------------------------------------------


def front(finder: SQLFinder, data: SearchData, query: Query) -> dict[str, Any]:
    """Two objectives ``x`` and ``y`` (objective keys, default the first two) of a search with
    several, at one level (``budget``, default the level of the search's front): one point per
    completed evaluation there with finite values of both (``run_id``, ``trial``, ``x``,
    ``y``, ``feasible``: every value finite and every constraint ``<= 0``, ``front``: a member
    of the search's Pareto front, and each constraint's value in ``constraints``), the front's
    members sorted by ``x`` then ``y`` (``front_line``, the line joining them), and the
    search's pick (``answer``). Front and pick are the tracker's (``ato.tracker.answers``, as
    ``ato runs best --search`` prints them): the non-dominated feasible completed evaluations
    at the largest level one reached, over all objectives (with more than two, the chart shows
    their projection), and the member nearest the ideal point.

    Raises:
        NotFoundError: the search has fewer than two objectives.
        BadRequestError: ``metric`` or ``mode`` given (the front ranks by the search's own
            objectives), ``x``/``y`` not two different objective keys, or an unknown budget.
    """
    if query.get("metric") or query.get("mode"):
        raise BadRequestError(
            "the front view ranks by the search's own objectives: leave out metric and mode"
        )
    answer = data.answer
    keys = [key for _, key in answer.objectives]
    if len(keys) < 2:
        raise NotFoundError(f"search {data.search_id} has one objective: no Pareto front to draw")
    kx, ky = _objective(query, "x", keys, 0), _objective(query, "y", keys, 1)
    if kx == ky:
        raise BadRequestError(f"x and y must be two different objectives, got {kx!r} twice")
    members = {e.run_id for e in answer.front}
    front_level = next((t["level"] for t in data.trials if t["run_id"] in members), None)
    level = chosen_level(data, query) if query.get("budget") or front_level is None else front_level
    ix, iy = keys.index(kx), keys.index(ky)
    size = len(keys)
    by_run = {e.run_id: e for e in answer.evaluations}
    rows = []
    for trial in data.trials:
        e = by_run[trial["run_id"]]
        if trial["level"] != level or not e.completed:
            continue
        vx, vy = records.json_number(e.values[ix]), records.json_number(e.values[iy])
        if vx is None or vy is None:
            continue
        rows.append((trial, e, vx, vy))
    on_front = sorted(
        ((vx, vy, t["run_id"]) for t, _, vx, vy in rows if t["run_id"] in members),
    )
    return {
        "objective_keys": keys,
        "modes": {key: mode for mode, key in answer.objectives},
        "constraint_keys": list(answer.constraint_keys),
        "x": kx,
        "y": ky,
        "budget": level,
        "front_budget": front_level,
        "count": len(rows),
        "points": {
            "run_id": [t["run_id"] for t, _, _, _ in rows],
            "trial": [t["trial"] for t, _, _, _ in rows],
            "x": [vx for _, _, vx, _ in rows],
            "y": [vy for _, _, _, vy in rows],
            "feasible": [e.feasible(size) for _, e, _, _ in rows],
            "front": [t["run_id"] in members for t, _, _, _ in rows],
            "constraints": {
                key: [records.json_number(e.values[size + j]) for _, e, _, _ in rows]
                for j, key in enumerate(answer.constraint_keys)
            },
        },
        "front_line": {
            "run_id": [run_id for _, _, run_id in on_front],
            "x": [vx for vx, _, _ in on_front],
            "y": [vy for _, vy, _ in on_front],
        },
        "front_size": len(members),
    }


def _objective(query: Query, name: str, keys: list[str], default: int) -> str:
    key = query.get(name) or keys[default]
    if key not in keys:
        raise BadRequestError(
            f"{name} must be one of the search's objectives ({', '.join(keys)}), got {key[:60]!r}"
        )
    return key


VIEWS: dict[str, Callable[[SQLFinder, SearchData, Query], dict[str, Any]]] = {
    "history": history,
    "parallel": parallel,
    "slice": slice_view,
    "contour": contour,
    "importance": importance_view,
    "curves": curves,
    "front": front,
}
