"""Several objectives and constraints: what a trial returns, how evaluations are ranked, and
the Pareto answer.

A search with several objectives (``metric_key=("accuracy", "latency"), mode=("max",
"min")``) or with constraints (``constraint_keys=("memory_excess",)``) gets from each trial a
mapping ``{key: number}`` holding every objective and constraint key (several objectives may
also come as a sequence of numbers in ``metric_key`` order, without constraints). One
evaluation's values become a [`Score`][ato.hyperopt.Score].

A constraint value ``c`` is satisfied when ``c <= 0`` (as in Optuna); an evaluation is
*feasible* when all its constraints are. **Ranking** (promotions in successive halving,
Hyperband and ASHA) is NSGA-II's: non-dominated sorting under Deb's constrained domination,
then crowding distance within each front (Deb, Pratap, Agarwal & Meyarivan, "A fast and elitist
multiobjective genetic algorithm: NSGA-II", IEEE TEC 6(2), 2002, sections III and VI). Under
constrained domination a feasible evaluation beats every infeasible one and of two infeasible
ones the smaller total violation ``sum(max(0, c))`` wins; so infeasible trials are promoted
only when too few feasible ones are left. Applying this ranking to ASHA's rungs is MO-ASHA's
NSGA-II selection (Schmucker, Donini, Zafar, Salinas & Archambeau, "Multi-objective
Asynchronous Successive Halving", arXiv:2106.12639, 2021).

**The answer** of such a search is the Pareto front at the largest budget: the feasible
completed evaluations at the largest budget (else rung) that any feasible completed evaluation
reached, keeping those no other one there dominates. Infeasible evaluations are never in it.
**One of them is picked** (the search's ``config``/``metric``, the run tagged ``final``) by the
ideal-point rule: each objective is scaled to ``[0, 1]`` over the front (0 the front's best, 1
its worst; an objective equal on the whole front scales to 0) and the member nearest to the
ideal point ``(0, ..., 0)`` in Euclidean distance is picked, ties to the lower trial id, then
run id (compromise programming, Zeleny, "Compromise programming", 1973). With one objective
and constraints the front is the best feasible evaluation, as with no constraints.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import SearchSettingError, TrialResultError
from .metric import as_metric, check_mode

__all__ = [
    "Metric",
    "Objectives",
    "Score",
    "crowding_distance",
    "dominates",
    "nondominated_sort",
    "pareto_front",
    "pick_from_front",
    "rank_scores",
]

T = TypeVar("T")


@dataclass(frozen=True)
class Score:
    """The values of one evaluation of a search with several objectives or constraints.

    Attributes:
        values: the objective values, in the search's ``metric_key`` order (NaN when the
            evaluation failed).
        modes: ``'max'``/``'min'`` per objective.
        constraints: the constraint values (feasible when every one is ``<= 0``).
    """

    values: tuple[float, ...]
    modes: tuple[str, ...]
    constraints: tuple[float, ...] = ()

    @functools.cached_property
    def completed(self) -> bool:
        """Every objective and constraint value is finite."""
        return all(math.isfinite(v) for v in (*self.values, *self.constraints))

    @functools.cached_property
    def feasible(self) -> bool:
        """Completed and every constraint value ``<= 0``."""
        return self.completed and all(c <= 0 for c in self.constraints)

    @functools.cached_property
    def violation(self) -> float:
        """``sum(max(0, c))`` over the constraints (0 for a feasible score)."""
        return sum(max(0.0, c) for c in self.constraints)

    @functools.cached_property
    def minimized(self) -> tuple[float, ...]:
        """The values turned so that smaller is better in every objective."""
        return tuple(-v if m == "max" else v for v, m in zip(self.values, self.modes, strict=True))


@dataclass(frozen=True)
class Objectives:
    """The objectives of a search (keys and directions) and its constraint keys.

    Args:
        keys: objective metric keys, in order (at least one, distinct).
        modes: ``'max'``/``'min'`` per key.
        constraint_keys: keys of the constraint values a trial returns (may be empty).

    Raises:
        SearchSettingError: keys repeat, are empty or are not strings, or modes and keys
            differ in length.
    """

    keys: tuple[str, ...]
    modes: tuple[str, ...]
    constraint_keys: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        names = (*self.keys, *self.constraint_keys)
        if not self.keys or any(not isinstance(k, str) or not k for k in names):
            raise SearchSettingError(
                f"metric_key and constraint_keys must be non-empty strings, got {names!r}"
            )
        if len(set(names)) != len(names):
            raise SearchSettingError(
                f"metric_key and constraint_keys repeat a key: {names!r}; name each once"
            )
        if len(self.modes) != len(self.keys):
            raise SearchSettingError(
                f"mode gives {len(self.modes)} directions for {len(self.keys)} metric keys "
                f"{self.keys!r}; give one 'max'/'min' per key"
            )
        for mode in self.modes:
            check_mode(mode)

    @classmethod
    def parse(cls, metric_key: Any, mode: Any, constraint_keys: Any = ()) -> Objectives:
        """The objectives of ``Search(metric_key=, mode=, constraint_keys=)``: a key or a
        sequence of keys; a mode, a sequence of modes, or ``{key: mode}`` (then its keys are
        the objectives and ``metric_key`` must be the default or the same keys).

        Raises:
            SearchSettingError: a bad combination (see the class).
        """
        if isinstance(mode, Mapping):
            keys = tuple(mode)
            if metric_key not in ("metric", keys, list(keys)):
                raise SearchSettingError(
                    f"mode={dict(mode)!r} names the objectives; metric_key={metric_key!r} "
                    f"disagrees (leave it out)"
                )
            modes = tuple(mode.values())
        else:
            keys = (metric_key,) if isinstance(metric_key, str) else tuple(metric_key)
            modes = (mode,) * len(keys) if isinstance(mode, str) else tuple(mode)
        if isinstance(constraint_keys, str):
            constraint_keys = (constraint_keys,)
        return cls(keys, modes, tuple(constraint_keys or ()))

    @property
    def several(self) -> bool:
        """True when results are `Score` objects (several objectives or any constraint)."""
        return len(self.keys) > 1 or bool(self.constraint_keys)

    @property
    def stored_keys(self) -> tuple[str, ...]:
        """Objective keys then constraint keys: what each evaluation records."""
        return (*self.keys, *self.constraint_keys)

    def failed(self) -> Score:
        """The score of a failed evaluation (NaN everywhere: ranked last)."""
        return Score(
            (math.nan,) * len(self.keys), self.modes, (math.nan,) * len(self.constraint_keys)
        )

    def score_of(self, result: Any, where: str) -> Score:
        """The `Score` of what a trial returned (see the module docstring).

        Raises:
            TrialResultError: a key is missing, a value is not a real number, or a sequence
                has the wrong length (the message names ``where``).
        """
        if isinstance(result, Mapping):
            missing = [k for k in self.stored_keys if k not in result]
            if missing:
                raise TrialResultError(
                    f"{where} returned {sorted(map(str, result))}, missing {missing}; a trial "
                    f"of this search returns {{key: number}} for {list(self.stored_keys)}"
                )
            numbers_ = [as_metric(result[k], f"{where} ({k})") for k in self.stored_keys]
        elif (
            not self.constraint_keys
            and isinstance(result, Sequence)
            and not isinstance(result, str)
            and len(result) == len(self.keys)
        ):
            numbers_ = [
                as_metric(v, f"{where} ({k})") for k, v in zip(self.keys, result, strict=True)
            ]
        else:
            raise TrialResultError(
                f"{where} returned {type(result).__name__} {result!r:.80}; a trial of this "
                f"search returns {{key: number}} for {list(self.stored_keys)}"
                + ("" if self.constraint_keys else " or a sequence in that order")
            )
        n = len(self.keys)
        return Score(tuple(numbers_[:n]), self.modes, tuple(numbers_[n:]))

    def from_values(self, values: Mapping[str, float]) -> Score:
        """The score stored as ``{key: value}`` (missing keys are NaN)."""
        get = [float(values.get(k, math.nan)) for k in self.stored_keys]
        n = len(self.keys)
        return Score(tuple(get[:n]), self.modes, tuple(get[n:]))


#: What constrained domination reads of a score: (completed, feasible, violation, minimized).
_Key = tuple[bool, bool, float, tuple[float, ...]]


def _key(score: Score) -> _Key:
    return (score.completed, score.feasible, score.violation, score.minimized)


#: A metric as schedules and samplers see it: a float, or a `Score` in a search with several
#: objectives or constraints.
Metric = float | Score


def dominates(a: Score, b: Score) -> bool:
    """Deb's constrained domination (NSGA-II, section VI): ``a`` is feasible and ``b`` is not;
    or both are infeasible and ``a`` violates less; or both are feasible and ``a`` is no worse
    in every objective and better in one. Scores that did not complete dominate nothing."""
    return _dominates(_key(a), _key(b))


def _dominates(a: _Key, b: _Key) -> bool:
    if not a[0]:
        return False
    if not b[0]:
        return True
    if a[1] != b[1]:
        return a[1]
    if not a[1]:
        return a[2] < b[2]
    better = False
    for x, y in zip(a[3], b[3], strict=True):
        if x > y:
            return False
        better = better or x < y
    return better


def nondominated_sort(scores: Sequence[Score]) -> list[list[int]]:
    """Positions of ``scores`` by front (front 0 first; each front in position order), by
    constrained domination. Scores that did not complete form the last front. With one or two
    objectives the feasible fronts come from one sort and a sweep (O(N log N + N F) for F
    fronts; Jensen, "Reducing the run-time complexity of multiobjective EAs: the NSGA-II and
    other algorithms", IEEE TEC 7(5), 2003); otherwise NSGA-II's fast non-dominated sort,
    O(M N^2)."""
    if all(len(score.values) <= 2 for score in scores):
        return _sort_two(scores)
    return _sort_any(scores)


def _sort_two(scores: Sequence[Score]) -> list[list[int]]:
    feasible: list[tuple[tuple[float, float], int]] = []
    infeasible: dict[float, list[int]] = {}
    incomplete: list[int] = []
    for pos, score in enumerate(scores):
        if not score.completed:
            incomplete.append(pos)
        elif not score.feasible:
            infeasible.setdefault(score.violation, []).append(pos)
        else:
            point = score.minimized
            feasible.append(((point[0], point[1] if len(point) > 1 else 0.0), pos))
    feasible.sort()
    fronts: list[list[int]] = []
    last: list[tuple[float, float]] = []  # per front, its point with the smallest second value
    for point, pos in feasible:
        # a front's last point (largest first value so far, smallest second) dominates
        # ``point`` exactly when one of the front's points does; and a point dominated by
        # front k is dominated by every front before it: binary search for the first that
        # does not dominate it
        low, high = 0, len(last)
        while low < high:
            middle = (low + high) // 2
            if _beats(last[middle], point):
                low = middle + 1
            else:
                high = middle
        k = low
        if k == len(last):
            fronts.append([])
            last.append(point)
        fronts[k].append(pos)
        last[k] = point
    fronts += [infeasible[v] for v in sorted(infeasible)]
    fronts += [incomplete] if incomplete else []
    return [sorted(front) for front in fronts]


def _beats(q: tuple[float, float], p: tuple[float, float]) -> bool:
    return q[0] <= p[0] and q[1] <= p[1] and q != p


def _sort_any(scores: Sequence[Score]) -> list[list[int]]:
    size = len(scores)
    keys = [_key(score) for score in scores]
    beaten_by = [0] * size
    beats: list[list[int]] = [[] for _ in range(size)]
    for i in range(size):
        for j in range(i + 1, size):
            if _dominates(keys[i], keys[j]):
                beats[i].append(j)
                beaten_by[j] += 1
            elif _dominates(keys[j], keys[i]):
                beats[j].append(i)
                beaten_by[i] += 1
    fronts: list[list[int]] = []
    current = [i for i in range(size) if beaten_by[i] == 0]
    while current:
        fronts.append(current)
        following = []
        for i in current:
            for j in beats[i]:
                beaten_by[j] -= 1
                if beaten_by[j] == 0:
                    following.append(j)
        current = sorted(following)
    return fronts


def crowding_distance(scores: Sequence[Score]) -> list[float]:
    """NSGA-II's crowding distance of each score within one front (section III-B): per
    objective, the boundary scores get ``inf`` and the others the gap between their
    neighbours divided by the objective's range; summed over objectives."""
    size = len(scores)
    distance = [0.0] * size
    if size == 0:
        return distance
    points = [s.minimized for s in scores]
    for m in range(len(points[0])):
        order = sorted(range(size), key=lambda i: (points[i][m], i))
        low, high = points[order[0]][m], points[order[-1]][m]
        distance[order[0]] = distance[order[-1]] = math.inf
        if high == low or not math.isfinite(high - low):
            continue
        for pos in range(1, size - 1):
            gap = points[order[pos + 1]][m] - points[order[pos - 1]][m]
            distance[order[pos]] += gap / (high - low)
    return distance


def rank_scores(items: Sequence[tuple[int, Score]]) -> list[tuple[int, Score]]:
    """``(trial id, score)`` pairs best first: by front (constrained domination), then larger
    crowding distance, then lower trial id (NSGA-II's crowded-comparison order)."""
    scores = [score for _, score in items]
    ranked: list[tuple[int, Score]] = []
    for front in nondominated_sort(scores):
        crowd = crowding_distance([scores[i] for i in front])
        order = sorted(range(len(front)), key=lambda p: (-crowd[p], items[front[p]][0]))
        ranked += [items[front[p]] for p in order]
    return ranked


def pareto_front(items: Sequence[tuple[T, Score]]) -> list[tuple[T, Score]]:
    """The feasible completed items no other one dominates, in the order given."""
    feasible = [(item, score) for item, score in items if score.feasible]
    return [
        (item, score)
        for item, score in feasible
        if not any(dominates(other, score) for _, other in feasible)
    ]


def pick_from_front(front: Sequence[Score]) -> int:
    """Position of the member of ``front`` nearest the ideal point after scaling each
    objective to ``[0, 1]`` over the front (module docstring); the first such on ties.

    Raises:
        ValueError: ``front`` is empty.
    """
    if not front:
        raise ValueError("an empty front has no member to pick")
    points = [s.minimized for s in front]
    lows = [min(col) for col in zip(*points, strict=True)]
    highs = [max(col) for col in zip(*points, strict=True)]

    def distance(point: tuple[float, ...]) -> float:
        scaled = [
            (x - lo) / (hi - lo) if hi > lo else 0.0
            for x, lo, hi in zip(point, lows, highs, strict=True)
        ]
        return math.sqrt(sum(v * v for v in scaled))

    return min(range(len(points)), key=lambda i: (distance(points[i]), i))
