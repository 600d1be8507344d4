"""The search-answer rule (public as ``ato.tracker.answers``, which documents it)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from ato.adict.modes import check_mode

from ..errors import InvalidModeError
from ..storage.search_runs import (
    SEARCH_PREFIX,
    SearchRun,
    finite_number,
    parse_tags,
    whole_number,
)
from ..storage.statuses import RunStatus
from .modes import default_mode
from .results import MetricSummary

__all__ = [
    "Evaluation",
    "SearchAnswer",
    "SearchRunRecord",
    "guess_search_metric",
    "running_answers",
    "search_answer",
]

COMPLETED = RunStatus.COMPLETED
_BUDGET_KEYS = ("__budget__",)
_RUNG_KEYS = ("__num_halved__", "__rung__")

Summaries = Mapping[int, Mapping[str, MetricSummary]]


class SearchRunRecord(Protocol):
    """What the rule reads of a run: its id, status, tags and config. A full
    [`Run`][ato.tracker.Run] and a light [`RunRow`][ato.tracker.RunRow] both fit."""

    @property
    def id(self) -> int:
        """The run's id."""
        ...

    @property
    def status(self) -> str:
        """The run's status as readers see it (``crashed`` derived)."""
        ...

    @property
    def tags(self) -> Sequence[str]:
        """The run's tags."""
        ...

    @property
    def config(self) -> Mapping[str, Any]:
        """The run's config (only its top-level ``__budget__``/``__num_halved__``/``__rung__``
        are read, for older searches)."""
        ...


@dataclass(frozen=True)
class Evaluation:
    """One run of a search as the answer rule sees it.

    Attributes:
        run_id: the run's id.
        status: the run's status (``completed``, ``failed``, ``killed``, ``crashed``...).
        trial: the ``trial_id`` (or older ``trial``) tag, ``None`` without one.
        bracket: the Hyperband bracket (``bracket:`` tag), ``None`` for older searches.
        rung: the ``rung:`` tag, else the ``round:`` tag, else the config's
            ``__num_halved__``; ``0`` when none is recorded.
        budget: the ``budget:`` tag, else the config's ``__budget__``, else ``None``.
        value: the ranked value (last one logged under the ranked key), ``None`` if not logged.
        final: whether the run carries the ``final`` tag.
        values: in a search with several objectives or constraints, the last value of each
            objective then each constraint (``search/<key>``), ``None`` where not logged;
            empty otherwise.
    """

    run_id: int
    status: str
    trial: str | None
    bracket: int | None
    rung: int
    budget: float | None
    value: float | None
    final: bool
    values: tuple[float | None, ...] = ()

    @property
    def completed(self) -> bool:
        """Status ``completed`` and a finite value: the only evaluations that can be the answer."""
        return self.status == COMPLETED and self.value is not None and math.isfinite(self.value)

    def feasible(self, num_objectives: int) -> bool:
        """Completed, every value finite and every constraint value (the values after the
        first ``num_objectives``) ``<= 0``."""
        numbers = [v for v in self.values if v is not None and math.isfinite(v)]
        return (
            self.completed
            and len(numbers) == len(self.values)
            and all(c <= 0 for c in numbers[num_objectives:])
        )

    @property
    def level(self) -> float:
        """How far the evaluation went: its budget, else its rung."""
        return self.budget if self.budget is not None else float(self.rung)


@dataclass(frozen=True)
class SearchAnswer:
    """The answer of a search by the rule of this module.

    Attributes:
        run_id: the answer's run, ``None`` when the search has no answer.
        value: its ranked value (finite), ``None`` without an answer.
        key: the metric key ranked by (``search/<key>`` for contract searches).
        mode: ``'max'`` or ``'min'``.
        budget, bracket, rung, trial: those of the answer's evaluation (``None`` without one).
        tagged_final: whether the answer's run carries the ``final`` tag.
        contract: whether the runs carry the ``bracket:``/``mode:`` tags of ato-hyperopt's
            current layout (else the older layout's fallback was used).
        reason: why there is no answer (``''`` when there is one).
        evaluations: every run of the search as read.
        objectives: ``((mode, key), ...)`` of a search with several objectives or constraints
            (from its ``objective:`` or ``mode:``/``metric_key:`` tags); empty otherwise.
        constraint_keys: its constraint keys.
        front: the Pareto front of such a search (the answer is one of its members); empty
            otherwise.
    """

    run_id: int | None
    value: float | None
    key: str | None
    mode: str
    budget: float | None
    bracket: int | None
    rung: int | None
    trial: str | None
    tagged_final: bool
    contract: bool
    reason: str
    evaluations: tuple[Evaluation, ...]
    objectives: tuple[tuple[str, str], ...] = ()
    constraint_keys: tuple[str, ...] = ()
    front: tuple[Evaluation, ...] = ()

    @property
    def found(self) -> bool:
        """Whether the search has an answer."""
        return self.run_id is not None


def search_answer(
    runs: Sequence[SearchRunRecord],
    summaries: Summaries,
    metric: str | None = None,
    mode: str | None = None,
) -> SearchAnswer:
    """The answer of the search whose runs are ``runs`` (see the module docstring).

    Args:
        runs: the search's runs (``Run`` objects, metrics need not be loaded, or light
            ``RunRow`` objects: any `SearchRunRecord`).
        summaries: ``{run_id: {key: MetricSummary}}`` of those runs, as from
            `SQLFinder.get_metric_summaries`.
        metric: key to rank by, each evaluation's last value of it. ``None``: the search's own
            (``search/<metric_key>`` of a contract search, else the guessed key). The user's
            key of a contract search (e.g. ``val/acc`` for ``metric_key:val/acc``) is ranked
            as logged by the trials, and means ``search/val/acc`` only when no trial logged it.
        mode: ``'max'`` or ``'min'``; ``None``: the ``mode:`` tag of a contract search when
            ranking by its own key (``search/<key>`` or ``<key>``), else guessed from the key
            (`ato.tracker.read.modes.default_mode`).

    With several objectives or constraints (and neither ``metric`` nor ``mode`` given) the
    answer is a Pareto front and its picked member, by the rule of ato-hyperopt's
    ``ato.hyperopt.objectives`` (see `ato.tracker.answers`).

    Returns:
        A `SearchAnswer`; ``run_id`` is ``None`` when no evaluation completed with a finite
        value of the key (or no key is known), with the reason in ``reason``.

    Raises:
        InvalidModeError: ``mode`` is not ``'max'``/``'min'``.
    """
    if mode is not None:
        check_mode(mode, InvalidModeError)
    facts = [parse_tags(run.tags) for run in runs]  # once per run: the costly part
    objectives, constraints = _declared(facts)
    if metric is None and mode is None and (len(objectives) > 1 or constraints):
        return _front_answer(runs, facts, summaries, objectives, constraints)
    contract = any(f.contract for f in facts)
    key, own_mode = _ranked_key(runs, facts, summaries, metric, contract)
    mode = mode or own_mode or (default_mode(key) if key else "max")
    evaluations = tuple(
        _evaluation(run, f, summaries.get(run.id, {}), key)
        for run, f in zip(runs, facts, strict=True)
    )
    pick = _pick(evaluations, mode, contract)
    if pick is None:
        return _no_answer(evaluations, key, mode, contract)
    return _found(pick, key, mode, contract, evaluations)


def _found(
    pick: Evaluation,
    key: str | None,
    mode: str,
    contract: bool,
    evaluations: tuple[Evaluation, ...],
) -> SearchAnswer:
    """The answer held by ``pick``."""
    return SearchAnswer(
        run_id=pick.run_id,
        value=pick.value,
        key=key,
        mode=mode,
        budget=pick.budget,
        bracket=pick.bracket,
        rung=pick.rung,
        trial=pick.trial,
        tagged_final=pick.final,
        contract=contract,
        reason="",
        evaluations=evaluations,
    )


def running_answers(answer: SearchAnswer) -> list[int | None]:
    """The answer the search had after each of ``answer.evaluations`` (in their order): this
    module's rule applied to the first 1, 2, ... evaluations, as run ids (``None`` while no
    evaluation has completed). The rule picks the first of one total order (largest budget,
    best value, earlier trial, lower run id), so each step compares only the previous answer
    with the new evaluation: linear in the number of evaluations."""
    held: Evaluation | None = None
    path: list[int | None] = []
    for evaluation in answer.evaluations:
        pick = _pick(
            [evaluation] if held is None else [held, evaluation], answer.mode, answer.contract
        )
        held = pick if pick is not None else held
        path.append(None if held is None else held.run_id)
    return path


def guess_search_metric(runs: Sequence[SearchRunRecord], summaries: Summaries) -> str | None:
    """The metric key of an older search: the key most runs logged at the step of their
    round (ato-hyperopt logged it once, at ``step=round``), fewest values per run first;
    ``None`` when the runs logged nothing."""
    scores: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for run in runs:
        rung = _rung(run, parse_tags(run.tags))
        for key, summary in summaries.get(run.id, {}).items():
            scores[key][0] += summary.last_step == rung
            scores[key][1] -= summary.count
    if not scores:
        return None
    return max(sorted(scores), key=lambda key: tuple(scores[key]))


def _ranked_key(
    runs: Sequence[SearchRunRecord],
    facts: Sequence[SearchRun],
    summaries: Summaries,
    metric: str | None,
    contract: bool,
) -> tuple[str | None, str | None]:
    """The key to rank by and, when it is the search's own key, the search's direction."""
    if not contract:
        return metric or guess_search_metric(runs, summaries), None
    own = _first(f.metric_key for f in facts)
    own_mode = _first(f.mode for f in facts if f.mode in ("max", "min"))
    if metric is None:
        metric = SEARCH_PREFIX + own if own else _logged_search_key(summaries)
    elif metric == own and not _logged(summaries, metric):
        metric = SEARCH_PREFIX + own
    is_own = metric is not None and (metric == own or metric == SEARCH_PREFIX + (own or ""))
    return metric, own_mode if is_own else None


def _logged(summaries: Summaries, key: str) -> bool:
    return any(key in per_run for per_run in summaries.values())


def _logged_search_key(summaries: Summaries) -> str | None:
    keys = sorted({k for per in summaries.values() for k in per if k.startswith(SEARCH_PREFIX)})
    return keys[0] if keys else None


def _evaluation(
    run: SearchRunRecord,
    facts: SearchRun,
    summaries: Mapping[str, MetricSummary],
    key: str | None,
) -> Evaluation:
    summary = summaries.get(key) if key else None
    return Evaluation(
        run_id=run.id,
        status=run.status,
        trial=facts.trial_id,
        bracket=facts.bracket,
        rung=_rung(run, facts),
        budget=_budget(run, facts),
        value=None if summary is None else float(summary.last),
        final=facts.answer,
    )


def _pick(evaluations: Sequence[Evaluation], mode: str, contract: bool) -> Evaluation | None:
    completed = [e for e in evaluations if e.completed]
    if not completed:
        return None
    if not contract:
        finals = [e for e in completed if e.final]
        if finals:
            return max(finals, key=lambda e: e.run_id)  # a resumed older search: its latest
    top = max(e.level for e in completed)
    sign = 1.0 if mode == "max" else -1.0
    at_top = [e for e in completed if e.level == top]
    return min(at_top, key=lambda e: (-sign * (e.value or 0.0), _trial_order(e), e.run_id))


def _trial_order(evaluation: Evaluation) -> tuple[int, float | str]:
    """Numeric trial ids in number order, before other ids; no trial id last."""
    if evaluation.trial is None:
        return (2, "")
    number = finite_number(evaluation.trial)
    return (0, number) if number is not None else (1, evaluation.trial)


def _no_answer(
    evaluations: Sequence[Evaluation], key: str | None, mode: str, contract: bool
) -> SearchAnswer:
    if key is None:
        reason = "its runs logged no metric to rank by; pass the metric key"
    else:
        reason = (
            f"no evaluation completed with a finite value of {key!r} "
            f"{_counted(evaluations, _state)}"
        )
    return SearchAnswer(
        None, None, key, mode, None, None, None, None, False, contract, reason, tuple(evaluations)
    )


def _counted(evaluations: Sequence[Evaluation], state: Callable[[Evaluation], str]) -> str:
    """``(N runs: 2 completed, 1 failed)``: the evaluations counted by ``state``."""
    counts: dict[str, int] = defaultdict(int)
    for evaluation in evaluations:
        counts[state(evaluation)] += 1
    listed = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    return f"({len(evaluations)} runs: {listed or 'none'})"


def _state(evaluation: Evaluation) -> str:
    """The run's status, telling a completed run without a finite value apart."""
    if evaluation.status != COMPLETED:
        return evaluation.status
    return "completed without a value" if evaluation.value is None else "completed with NaN/inf"


def _rung(run: SearchRunRecord, facts: SearchRun) -> int:
    rung = facts.rung
    if rung is None:
        rung = whole_number(_config_value(run, _RUNG_KEYS))
    return rung if rung is not None else 0


def _budget(run: SearchRunRecord, facts: SearchRun) -> float | None:
    budget = facts.budget
    if budget is None:
        budget = finite_number(_config_value(run, _BUDGET_KEYS))
    return budget


def _config_value(run: SearchRunRecord, keys: Iterable[str]) -> str | None:
    for key in keys:
        value = run.config.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
    return None


def _first(values: Iterable[str | None]) -> str | None:
    return next((value for value in values if value), None)


def _declared(
    parsed: Sequence[SearchRun],
) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """The objectives and constraint keys the runs' tags declare (the first run that has
    them); one objective from ``mode:``/``metric_key:`` when only constraints are declared."""
    for facts in parsed:
        if facts.objectives:
            return facts.objectives, facts.constraint_keys
        if facts.constraint_keys and facts.mode and facts.metric_key:
            return ((facts.mode, facts.metric_key),), facts.constraint_keys
    return (), ()


def _front_answer(
    runs: Sequence[SearchRunRecord],
    facts: Sequence[SearchRun],
    summaries: Summaries,
    objectives: tuple[tuple[str, str], ...],
    constraints: tuple[str, ...],
) -> SearchAnswer:
    """The Pareto front at the largest level a feasible completed evaluation reached, and the
    member nearest the ideal point after scaling each objective to [0, 1] over the front
    (ties: trial order, then run id)."""
    keys = [SEARCH_PREFIX + key for _, key in objectives] + [SEARCH_PREFIX + k for k in constraints]
    evaluations = tuple(
        _scored(run, f, summaries.get(run.id, {}), keys) for run, f in zip(runs, facts, strict=True)
    )
    size = len(objectives)
    feasible = [e for e in evaluations if e.feasible(size)]
    mode = objectives[0][0]
    if not feasible:
        reason = (
            f"no evaluation completed feasible with finite values of {', '.join(keys)} "
            f"{_counted(evaluations, _front_state)}"
        )
        none = _no_answer(evaluations, keys[0], mode, True)
        return replace(none, reason=reason, objectives=objectives, constraint_keys=constraints)
    top = max(e.level for e in feasible)
    at_top = sorted(
        (e for e in feasible if e.level == top), key=lambda e: (_trial_order(e), e.run_id)
    )
    signs = [1.0 if m == "min" else -1.0 for m, _ in objectives]
    points = [
        tuple(s * float(v or 0.0) for s, v in zip(signs, e.values[:size], strict=True))
        for e in at_top
    ]
    members = _non_dominated(points)
    front = [at_top[i] for i in members]
    pick = front[_nearest_ideal([points[i] for i in members])]
    found = _found(pick, keys[0], mode, True, evaluations)
    return replace(found, objectives=objectives, constraint_keys=constraints, front=tuple(front))


def _front_state(evaluation: Evaluation) -> str:
    """The run's status, telling completed runs without finite values or infeasible apart."""
    if evaluation.status != COMPLETED:
        return evaluation.status
    if any(v is None or not math.isfinite(v) for v in evaluation.values):
        return "completed without finite values"
    return "completed infeasible"


def _scored(
    run: SearchRunRecord,
    facts: SearchRun,
    summaries: Mapping[str, MetricSummary],
    keys: Sequence[str],
) -> Evaluation:
    base = _evaluation(run, facts, summaries, keys[0])
    values = tuple(float(summaries[k].last) if k in summaries else None for k in keys)
    return Evaluation(
        base.run_id,
        base.status,
        base.trial,
        base.bracket,
        base.rung,
        base.budget,
        base.value,
        base.final,
        values,
    )


def _non_dominated(points: Sequence[tuple[float, ...]]) -> list[int]:
    """Positions (ascending) of the points no other point dominates (smaller is better).

    A point can only be dominated by one before it in lexicographic order, and then also by
    a non-dominated one before it (dominance is transitive), so after sorting each point is
    checked against the non-dominated points found so far only: about ``n * front size``
    comparisons instead of ``n * n`` (Kung, Luccio and Preparata, "On finding the maxima of a
    set of vectors", JACM 22(4), 1975)."""
    order = sorted(range(len(points)), key=lambda i: points[i])
    if points and len(points[0]) == 2:
        return _non_dominated_2d(points, order)
    kept: list[int] = []
    for i in order:
        if not any(_dominates(points[j], points[i]) for j in kept):
            kept.append(i)
    return sorted(kept)


def _non_dominated_2d(points: Sequence[tuple[float, ...]], order: list[int]) -> list[int]:
    """`_non_dominated` for two coordinates, in one pass over the sorted points: every point
    kept so far has a smaller or equal first coordinate, so a point is dominated exactly when
    a kept one has a smaller second coordinate, or an equal one and a smaller first."""
    kept: list[int] = []
    best: tuple[float, ...] | None = None  # the kept point with the smallest second coordinate
    for i in order:
        x, y = points[i]
        if best is not None and (best[1] < y or (best[1] == y and best[0] < x)):
            continue
        kept.append(i)
        if best is None or y < best[1]:
            best = points[i]
    return sorted(kept)


def _dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """``a`` is no worse than ``b`` everywhere and better somewhere (smaller is better)."""
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(
        x < y for x, y in zip(a, b, strict=True)
    )


def _nearest_ideal(points: Sequence[Sequence[float]]) -> int:
    """Position of the point nearest (0, ..., 0) after scaling each coordinate to [0, 1]
    over ``points`` (a coordinate equal everywhere scales to 0); the first on ties."""
    lows = [min(col) for col in zip(*points, strict=True)]
    highs = [max(col) for col in zip(*points, strict=True)]

    def distance(point: Sequence[float]) -> float:
        return math.sqrt(
            sum(
                ((x - lo) / (hi - lo) if hi > lo else 0.0) ** 2
                for x, lo, hi in zip(point, lows, highs, strict=True)
            )
        )

    return min(range(len(points)), key=lambda i: (distance(points[i]), i))
