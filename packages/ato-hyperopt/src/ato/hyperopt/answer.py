"""The answer of a search: one rule for the search's return value, ato-tracker's
``ato runs best --search`` and the dashboard.

**The answer is the best completed evaluation at the largest budget that any completed
evaluation reached**; ties go to the earlier trial (lower trial id, then lower run id). An
evaluation is *completed* when it returned a finite metric: failed, killed, timed-out and NaN
evaluations are never the answer. Without a budget (a successive-halving schedule without
``max_budget``) the rung stands for it; under ASHA the budget is the rung's. A search without a
completed evaluation has no answer ([`NoAnswerError`][ato.hyperopt.NoAnswerError]).

With several objectives or constraints (evaluations carry a [`Score`][ato.hyperopt.Score]) the
answer is the Pareto front at the largest budget reached by a feasible completed evaluation,
and one member picked from it by the ideal-point rule (`find_front`, see
``ato.hyperopt.objectives``); infeasible evaluations are never the answer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .metric import rank_key
from .objectives import Score, pareto_front, pick_from_front, rank_scores

__all__ = ["Evaluation", "find_answer", "find_front", "rank_trials"]


@dataclass(frozen=True)
class Evaluation:
    """One evaluation (a trial at one rung) as the answer rule sees it.

    Attributes:
        trial_id: the trial (configuration) id.
        rung: the rung index.
        budget: the evaluation's budget, None when the schedule has no budgets.
        metric: what the trial returned (the worst value for its mode if it failed).
        failed: True if the trial raised, timed out or was not run to its end.
        run_id: its tracker run, None without a tracker.
        score: its objective and constraint values in a search with several objectives or
            constraints, else None.
    """

    trial_id: int
    rung: int
    budget: Any
    metric: float
    failed: bool
    run_id: Any = None
    score: Score | None = None

    @property
    def completed(self) -> bool:
        """Not failed and a finite metric (every value finite and every constraint satisfied,
        with a score): only such an evaluation can be the answer."""
        if self.score is not None:
            return not self.failed and self.score.feasible
        return not self.failed and math.isfinite(self.metric)

    @property
    def level(self) -> float:
        """How far the evaluation went: its budget, else its rung."""
        return float(self.budget if self.budget is not None else self.rung)


def _order(evaluation: Evaluation, mode: str) -> tuple[float, float, int, int]:
    run = evaluation.run_id if isinstance(evaluation.run_id, int) else 0
    return (-evaluation.level, rank_key(evaluation.metric, mode), evaluation.trial_id, run)


def find_answer(evaluations: Iterable[Evaluation], mode: str) -> Evaluation | None:
    """The answer among ``evaluations`` by the rule of this module; None if none completed.

    Args:
        evaluations: every evaluation of the search.
        mode: ``'max'`` or ``'min'``.
    """
    completed = [e for e in evaluations if e.completed]
    if not completed:
        return None
    if completed[0].score is not None:
        front = find_front(completed)
        return front[pick_from_front([e.score for e in front if e.score is not None])]
    return min(completed, key=lambda e: _order(e, mode))


def find_front(evaluations: Iterable[Evaluation]) -> list[Evaluation]:
    """The Pareto front of a search with scores: the feasible completed evaluations at the
    largest level (budget, else rung) any of them reached that no other one there dominates,
    by trial id then run id; empty when none is feasible and completed."""
    completed = [e for e in evaluations if e.completed and e.score is not None]
    if not completed:
        return []
    top = max(e.level for e in completed)
    at_top = sorted(
        (e for e in completed if e.level == top),
        key=lambda e: (e.trial_id, e.run_id if isinstance(e.run_id, int) else 0),
    )
    return [e for e, _ in pareto_front([(e, e.score) for e in at_top if e.score is not None])]


def rank_trials(evaluations: Iterable[Evaluation], mode: str) -> list[int]:
    """Trial ids, best first: each trial by its best completed evaluation under the answer
    rule (so the answer's trial comes first); trials that never completed come last, in id
    order."""
    best: dict[int, Evaluation] = {}
    others: set[int] = set()
    for evaluation in evaluations:
        others.add(evaluation.trial_id)
        known = best.get(evaluation.trial_id)
        if evaluation.completed and (
            known is None or _order(evaluation, mode) < _order(known, mode)
        ):
            best[evaluation.trial_id] = evaluation
    ranked = sorted(best.values(), key=lambda e: _order(e, mode))
    if any(e.score is not None for e in ranked):
        ranked = _by_level_then_front(ranked)
    return [e.trial_id for e in ranked] + sorted(others - best.keys())


def _by_level_then_front(evaluations: list[Evaluation]) -> list[Evaluation]:
    """Evaluations by level (highest first), each level in NSGA-II order."""
    ordered: list[Evaluation] = []
    for level in sorted({e.level for e in evaluations}, reverse=True):
        items = [(i, e) for i, e in enumerate(evaluations) if e.level == level]
        ranked = rank_scores([(i, e.score) for i, e in items if e.score is not None])
        ordered += [evaluations[i] for i, _ in ranked]
    return ordered
