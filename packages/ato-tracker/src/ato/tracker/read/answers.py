"""The search-answer rule (public as ``ato.tracker.answers``, which documents it)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

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
from .results import MetricSummary, Run

__all__ = ["Evaluation", "SearchAnswer", "guess_search_metric", "search_answer"]

COMPLETED = RunStatus.COMPLETED
_BUDGET_KEYS = ("__budget__",)
_RUNG_KEYS = ("__num_halved__", "__rung__")

Summaries = Mapping[int, Mapping[str, MetricSummary]]


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
    """

    run_id: int
    status: str
    trial: str | None
    bracket: int | None
    rung: int
    budget: float | None
    value: float | None
    final: bool

    @property
    def completed(self) -> bool:
        """Status ``completed`` and a finite value: the only evaluations that can be the answer."""
        return self.status == COMPLETED and self.value is not None and math.isfinite(self.value)

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

    @property
    def found(self) -> bool:
        """Whether the search has an answer."""
        return self.run_id is not None


def search_answer(
    runs: Sequence[Run],
    summaries: Summaries,
    metric: str | None = None,
    mode: str | None = None,
) -> SearchAnswer:
    """The answer of the search whose runs are ``runs`` (see the module docstring).

    Args:
        runs: the search's runs (``Run`` objects; metrics need not be loaded).
        summaries: ``{run_id: {key: MetricSummary}}`` of those runs, as from
            `SQLFinder.get_metric_summaries`.
        metric: key to rank by, each evaluation's last value of it. ``None``: the search's own
            (``search/<metric_key>`` of a contract search, else the guessed key). The user's
            key of a contract search (e.g. ``val/acc`` for ``metric_key:val/acc``) is ranked
            as logged by the trials, and means ``search/val/acc`` only when no trial logged it.
        mode: ``'max'`` or ``'min'``; ``None``: the ``mode:`` tag of a contract search when
            ranking by its own key (``search/<key>`` or ``<key>``), else guessed from the key
            (`ato.tracker.read.modes.default_mode`).

    Returns:
        A `SearchAnswer`; ``run_id`` is ``None`` when no evaluation completed with a finite
        value of the key (or no key is known), with the reason in ``reason``.

    Raises:
        InvalidModeError: ``mode`` is not ``'max'``/``'min'``.
    """
    if mode is not None:
        check_mode(mode, InvalidModeError)
    contract = any(parse_tags(run.tags).contract for run in runs)
    key, own_mode = _ranked_key(runs, summaries, metric, contract)
    mode = mode or own_mode or (default_mode(key) if key else "max")
    evaluations = tuple(_evaluation(run, summaries.get(run.id, {}), key) for run in runs)
    pick = _pick(evaluations, mode, contract)
    if pick is None:
        return _no_answer(evaluations, key, mode, contract)
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


def guess_search_metric(runs: Sequence[Run], summaries: Summaries) -> str | None:
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
    runs: Sequence[Run], summaries: Summaries, metric: str | None, contract: bool
) -> tuple[str | None, str | None]:
    """The key to rank by and, when it is the search's own key, the search's direction."""
    if not contract:
        return metric or guess_search_metric(runs, summaries), None
    facts = [parse_tags(run.tags) for run in runs]
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


def _evaluation(run: Run, summaries: Mapping[str, MetricSummary], key: str | None) -> Evaluation:
    facts = parse_tags(run.tags)
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
        counts: dict[str, int] = defaultdict(int)
        for e in evaluations:
            counts[_state(e)] += 1
        listed = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        reason = (
            f"no evaluation completed with a finite value of {key!r} "
            f"({len(evaluations)} runs: {listed or 'none'})"
        )
    return SearchAnswer(
        None, None, key, mode, None, None, None, None, False, contract, reason, tuple(evaluations)
    )


def _state(evaluation: Evaluation) -> str:
    """The run's status, telling a completed run without a finite value apart."""
    if evaluation.status != COMPLETED:
        return evaluation.status
    return "completed without a value" if evaluation.value is None else "completed with NaN/inf"


def _rung(run: Run, facts: SearchRun) -> int:
    rung = facts.rung
    if rung is None:
        rung = whole_number(_config_value(run, _RUNG_KEYS))
    return rung if rung is not None else 0


def _budget(run: Run, facts: SearchRun) -> float | None:
    budget = facts.budget
    if budget is None:
        budget = finite_number(_config_value(run, _BUDGET_KEYS))
    return budget


def _config_value(run: Run, keys: Iterable[str]) -> str | None:
    for key in keys:
        value = run.config.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
    return None


def _first(values: Iterable[str | None]) -> str | None:
    return next((value for value in values if value), None)
