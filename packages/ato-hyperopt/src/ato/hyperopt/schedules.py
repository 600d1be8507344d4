"""Schedules: which trial runs next, with how much budget, and which trials are promoted.

*Budget* is the resource a trial spends, in units the trial chooses (epochs, steps, samples);
the trial reads it from ``config.__budget__`` or [`trial_context()`][ato.hyperopt.trial_context].
A *rung* is one level of budget; ``config.__num_halved__`` is the rung index.

- [`SuccessiveHalvingSchedule`][ato.hyperopt.SuccessiveHalvingSchedule]: one bracket of
  synchronous successive halving (Jamieson & Talwalkar, AISTATS 2016) - the seed's
  ``HyperBand`` behaviour.
- [`HyperbandSchedule`][ato.hyperopt.HyperbandSchedule]: every bracket of Hyperband (Li et al.,
  JMLR 18(185), 2018, Algorithm 1).
- [`ASHASchedule`][ato.hyperopt.ASHASchedule]: asynchronous successive halving (Li et al.,
  "A System for Massively Parallel Hyperparameter Tuning", MLSys 2020, Algorithm 2).

Synchronous schedules hand out a whole rung at a time (a barrier between rungs); ASHA hands
out one job whenever a worker is free. Every schedule ranks by metric (NaN and failures
last), ties going to the trial sampled first. In a search with several objectives or
constraints the metrics are [`Score`][ato.hyperopt.Score] values, ranked in NSGA-II's
order (non-dominated sorting under constrained domination, then crowding distance; see
``ato.hyperopt.objectives``): the rung's top ``1 / eta`` in that order is promoted, as in
MO-ASHA (Schmucker et al., 2021).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal, Protocol, runtime_checkable

from .checks import check_positive_int
from .errors import SearchSettingError
from .metric import rank_key
from .objectives import Metric, Score, rank_scores
from .rung_ranking import RungRanking
from .samplers import COMPLETED, CONTINUE, STOPPED

__all__ = [
    "ASHASchedule",
    "AsyncSchedule",
    "HyperbandSchedule",
    "Job",
    "Schedule",
    "SuccessiveHalvingSchedule",
    "SyncSchedule",
    "TrialSource",
    "WAIT",
]

#: Returned by an asynchronous schedule when no job can start until a running one finishes.
WAIT = "wait"


@dataclass(frozen=True)
class Job:
    """One evaluation: trial ``trial_id`` at ``rung`` with ``budget`` (its previous rung had
    ``previous_budget``; None on its first rung), in Hyperband bracket ``bracket``."""

    trial_id: int
    rung: int
    budget: Any
    previous_budget: Any = None
    bracket: int = 0


class TrialSource(Protocol):
    """What a schedule gets from the search: new trials and a channel to the sampler."""

    def new_trial(self) -> int | None:
        """Sample a new configuration; its trial id, or None when the sampler is exhausted."""

    def report(self, job: Job, metric: Metric, state: str) -> None:
        """Pass a result on to the sampler (``state`` as in ``Sampler.tell``)."""


Batches = Generator[list[Job], list[Metric], None]


@runtime_checkable
class SyncSchedule(Protocol):
    """A schedule that hands out one rung batch at a time (a barrier between rungs), such as
    [`SuccessiveHalvingSchedule`][ato.hyperopt.SuccessiveHalvingSchedule] and
    [`HyperbandSchedule`][ato.hyperopt.HyperbandSchedule]."""

    synchronous: Literal[True]

    @property
    def final_budget(self) -> Any:
        """Budget of the top rung (None without budgets)."""
        ...

    def batches(self, source: TrialSource, mode: str) -> Batches:
        """Yield each rung's jobs and receive their metrics (same order) through ``send``."""
        ...

    def answer(self) -> tuple[int, int, Any]:
        """``(trial id, rung, budget)`` of the schedule's best evaluation."""
        ...


@runtime_checkable
class AsyncSchedule(Protocol):
    """A schedule that hands out one job whenever a worker is free, such as
    [`ASHASchedule`][ato.hyperopt.ASHASchedule]."""

    synchronous: Literal[False]
    #: Number of configurations the schedule starts at most.
    max_trials: int

    @property
    def final_budget(self) -> Any:
        """Budget of the top rung."""
        ...

    def start(self, source: TrialSource, mode: str) -> None:
        """Begin a search drawing new trials from ``source``."""
        ...

    def next_job(self) -> Job | str | None:
        """A job for a free worker, ``WAIT``, or None when the search is over."""
        ...

    def report(self, job: Job, metric: Metric) -> None:
        """Record the metric of a finished job."""
        ...

    def answer(self) -> tuple[int, int, Any]:
        """``(trial id, rung, budget)`` of the schedule's best evaluation."""
        ...


#: What a [`Search`][ato.hyperopt.Search] accepts as its schedule.
Schedule = SyncSchedule | AsyncSchedule


def _order(results: list[tuple[int, Metric]], mode: str) -> list[tuple[int, Metric]]:
    """Best first: by metric for floats, in NSGA-II order for scores; ties to the lower id."""
    scores = [(trial, m) for trial, m in results if isinstance(m, Score)]
    if scores:
        return list(rank_scores(scores))
    plain: list[tuple[int, float]] = [(t, m) for t, m in results if not isinstance(m, Score)]
    plain.sort(key=lambda r: (rank_key(r[1], mode), r[0]))
    return [(trial, metric) for trial, metric in plain]


def _budget(value: Fraction) -> int | float:
    return int(value) if value.denominator == 1 else float(value)


def _check_eta(reduction_factor: Any) -> int:
    if (
        isinstance(reduction_factor, bool)
        or not isinstance(reduction_factor, int)
        or reduction_factor < 2
    ):
        raise SearchSettingError(f"reduction_factor must be an int >= 2, got {reduction_factor!r}")
    return reduction_factor


def _check_budget(name: str, value: Any) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise SearchSettingError(f"{name} must be a positive finite number, got {value!r}")
    return Fraction(value)


def _rate_of(reduction_factor: Any) -> float:
    if (
        isinstance(reduction_factor, bool)
        or not isinstance(reduction_factor, (int, float))
        or not 1 < reduction_factor < math.inf
    ):
        raise SearchSettingError(
            f"reduction_factor must be a number > 1 (a rung keeps 1 / reduction_factor of its "
            f"configs), got {reduction_factor!r}"
        )
    return 1 / reduction_factor


def num_rungs_above(max_budget: Fraction, min_budget: Fraction, eta: int) -> int:
    """``s_max = floor(log_eta(max_budget / min_budget))``, computed exactly."""
    if min_budget > max_budget:
        raise SearchSettingError(
            f"min_budget {float(min_budget):g} is above max_budget {float(max_budget):g}"
        )
    s = 0
    while min_budget * eta ** (s + 1) <= max_budget:
        s += 1
    return s


class SuccessiveHalvingSchedule:
    """One synchronous successive-halving bracket: the seed's ``HyperBand`` schedule.

    Rung 0 evaluates ``num_configs`` new configurations. After each rung the configs are ranked
    and the top ``floor(n / reduction_factor)`` (at least 1) survive to the next rung; rungs go
    on while at least ``num_min_samples`` (and more than one) configs remain. The last rung then
    trains the best survivor alone at the top budget (``max_budget``): with ``reduction_factor
    = eta`` and ``eta**s`` configs this is Hyperband's bracket ``s`` (Li et al., JMLR 2018,
    Table 1: 81@1, 27@3, 9@9, 3@27, 1@81 for 81 configs, ``eta = 3``). The seed's
    ``halving_rate`` (the fraction kept, ``1 / reduction_factor``) is accepted instead.

    Args:
        halving_rate: fraction kept per rung, ``0 < halving_rate < 1``; give it or
            ``reduction_factor``.
        num_min_samples: another rung runs while at least this many configs remain (int >= 1).
        num_configs: configurations sampled for rung 0; None = every point of a finite
            sampler (the grid).
        max_budget: if given, rung ``k`` of ``G`` rungs (the last one included) has
            budget ``ceil(max_budget * halving_rate ** (G - 1 - k))`` (at least 1); if None the
            trial picks its own budget from ``__num_halved__`` and ``__budget__`` is not set.
        reduction_factor: ``eta``, a number > 1: a rung keeps ``1 / eta`` of its configs
            (Hyperband's and ASHA's name for it); give it or ``halving_rate``.

    Raises:
        SearchSettingError: a setting is out of range, or neither or both of
            ``halving_rate`` and ``reduction_factor`` are given.
    """

    synchronous: Literal[True] = True

    def __init__(
        self,
        halving_rate: float | None = None,
        num_min_samples: int = 1,
        num_configs: int | None = None,
        max_budget: int | None = None,
        *,
        reduction_factor: float | None = None,
    ) -> None:
        if (halving_rate is None) == (reduction_factor is None):
            raise SearchSettingError(
                "give SuccessiveHalvingSchedule either reduction_factor (eta > 1) or the "
                "seed's halving_rate (the fraction kept, 1 / eta), not both or neither"
            )
        if reduction_factor is not None:
            halving_rate = _rate_of(reduction_factor)
        if (
            isinstance(halving_rate, bool)
            or not isinstance(halving_rate, (int, float))
            or not 0 < halving_rate < 1
        ):
            raise SearchSettingError(
                f"halving_rate must be a number with 0 < halving_rate < 1 (the fraction of "
                f"configs kept per round), got {halving_rate!r}"
            )
        self.halving_rate = float(halving_rate)
        #: ``eta``: a rung keeps ``1 / eta`` of its configs.
        self.reduction_factor = (
            reduction_factor if reduction_factor is not None else 1 / self.halving_rate
        )
        self.num_min_samples = check_positive_int("num_min_samples", num_min_samples)
        self.num_configs = (
            None if num_configs is None else check_positive_int("num_configs", num_configs)
        )
        self.max_budget = (
            None if max_budget is None else check_positive_int("max_budget", max_budget)
        )
        self._answer: tuple[int, int, Any] = (0, -1, None)

    def num_kept(self, num_configs: int) -> int:
        """How many of ``num_configs`` survive a rung: ``floor(n * halving_rate)``, at least 1."""
        return max(1, math.floor(num_configs * self.halving_rate + 1e-9))

    def round_sizes(self, num_configs: int) -> list[int]:
        """Configs evaluated per rung for ``num_configs`` at rung 0, the last rung (the best
        survivor alone, at the top budget) included."""
        sizes, n = [], num_configs
        while n >= self.num_min_samples and n > 1:
            sizes.append(n)
            n = self.num_kept(n)
        return [*sizes, 1]

    def budgets(self, num_generations: int, max_budget: int) -> list[int]:
        """Budget per rung: ``ceil(max_budget * halving_rate ** (G - 1 - k))``, at least 1."""
        last = num_generations - 1
        return [
            max(1, math.ceil(float(f"{max_budget * self.halving_rate ** (last - k):.12g}")))
            for k in range(last + 1)
        ]

    @property
    def final_budget(self) -> Any:
        """Budget of the top rung (``max_budget``, or None)."""
        return self.max_budget

    def batches(self, source: TrialSource, mode: str) -> Batches:
        """Yield each rung's jobs; receive their metrics (same order) through ``send``."""
        trials: list[int] = []
        while self.num_configs is None or len(trials) < self.num_configs:
            trial = source.new_trial()
            if trial is None:  # a finite sampler ran out: the bracket starts with what it gave
                break
            trials.append(trial)
        self._answer = (trials[0] if trials else 0, -1, None)
        if not trials:
            return
        sizes = self.round_sizes(len(trials))
        budgets = self.budgets(len(sizes), self.max_budget) if self.max_budget else None
        survivors = trials
        for k in range(len(sizes)):
            budget = budgets[k] if budgets else None
            previous = budgets[k - 1] if budgets and k else None
            jobs = [Job(t, k, budget, previous) for t in survivors]
            metrics = yield jobs
            ranked = _order(list(zip(survivors, metrics, strict=True)), mode)
            kept = sizes[k + 1] if k + 1 < len(sizes) else 0
            for i, (trial, metric) in enumerate(ranked):
                state = COMPLETED if not kept else (CONTINUE if i < kept else STOPPED)
                source.report(Job(trial, k, budget, previous), metric, state)
            survivors = [trial for trial, _ in ranked[:kept]]
            self._answer = (ranked[0][0], k, budget)

    def answer(self) -> tuple[int, int, Any]:
        """``(trial id, rung, budget)`` of the best trial at the last rung (rung -1 if none ran)."""
        return self._answer


class HyperbandSchedule:
    """Hyperband: successive-halving brackets from aggressive to none (Li et al., JMLR 2018,
    Algorithm 1), run one after another.

    With ``eta = reduction_factor``, ``R = max_budget`` and ``r = min_budget``:
    ``s_max = floor(log_eta(R / r))`` (computed exactly with integer powers). Bracket
    ``s = s_max, ..., 0`` samples ``n = ceil((s_max + 1) / (s + 1) * eta**s)`` new configs
    (exact rational arithmetic, then ceiling) and runs rungs ``i = 0..s``: ``n_i = floor(n /
    eta**i)`` configs with budget ``R * eta**(i - s)`` each; after rung ``i`` the top
    ``floor(n_i / eta)`` go on. Budgets are exact fractions, given as ``int`` when whole and as
    ``float`` otherwise (``R = 81, eta = 3``: 1, 3, 9, 27, 81). For ``R = 81, eta = 3``:

    | bracket s | rungs (configs @ budget)          |
    |-----------|-----------------------------------|
    | 4         | 81@1, 27@3, 9@9, 3@27, 1@81       |
    | 3         | 34@3, 11@9, 3@27, 1@81            |
    | 2         | 15@9, 5@27, 1@81                  |
    | 1         | 8@27, 2@81                        |
    | 0         | 5@81                              |

    If a finite sampler (a grid) runs out, a bracket starts with the configs it got and keeps
    ``max(1, floor(n_i / eta))`` per rung. The answer is the best result at budget ``R`` over all
    brackets (ties: the earlier trial).

    Args:
        max_budget: ``R``, the largest budget one trial gets (> 0).
        reduction_factor: ``eta``, int >= 2.
        min_budget: ``r``, the smallest budget (> 0, <= ``max_budget``).

    Raises:
        SearchSettingError: a setting is out of range.
    """

    synchronous: Literal[True] = True

    def __init__(self, max_budget: float, reduction_factor: int = 3, min_budget: float = 1) -> None:
        self.eta = _check_eta(reduction_factor)
        self._max = _check_budget("max_budget", max_budget)
        self._min = _check_budget("min_budget", min_budget)
        self.s_max = num_rungs_above(self._max, self._min, self.eta)
        self.max_budget = _budget(self._max)
        self.reduction_factor = self.eta
        self.min_budget = min_budget
        self._best: tuple[float, int, int, Any] | None = None
        self._fallback: tuple[int, int, Any] = (0, -1, None)

    def brackets(self) -> list[list[tuple[int, int | float]]]:
        """Per bracket (``s = s_max .. 0``), the rungs as ``(configs, budget)``."""
        return [self._bracket_rungs(s) for s in range(self.s_max, -1, -1)]

    def _bracket_rungs(self, s: int) -> list[tuple[int, int | float]]:
        n = math.ceil(Fraction(self.s_max + 1, s + 1) * self.eta**s)
        return [
            (n // self.eta**i, _budget(self._max * Fraction(self.eta) ** (i - s)))
            for i in range(s + 1)
        ]

    @property
    def final_budget(self) -> Any:
        return self.max_budget

    def batches(self, source: TrialSource, mode: str) -> Batches:
        self._best, self._fallback = None, (0, -1, None)
        for s in range(self.s_max, -1, -1):
            if not (yield from self.bracket_batches(s, source, mode)):
                return

    def bracket_batches(
        self, s: int, source: TrialSource, mode: str
    ) -> Generator[list[Job], list[Metric], bool]:
        """Bracket ``s`` alone: yield each of its rungs' jobs and receive their metrics
        (brackets are independent, so a shared search may run several at once); returns
        False when the sampler gave no configuration for it."""
        rungs = self._bracket_rungs(s)
        survivors: list[int] = []
        for _ in range(rungs[0][0]):
            trial = source.new_trial()
            if trial is None:
                break
            survivors.append(trial)
        if not survivors:
            return False
        previous = None
        for i, (_, budget) in enumerate(rungs):
            jobs = [Job(t, i, budget, previous, bracket=s) for t in survivors]
            metrics = yield jobs
            ranked = _order(list(zip(survivors, metrics, strict=True)), mode)
            top = i == len(rungs) - 1
            kept = max(1, len(ranked) // self.eta)
            for j, (trial, metric) in enumerate(ranked):
                state = COMPLETED if top else (CONTINUE if j < kept else STOPPED)
                source.report(Job(trial, i, budget, previous, s), metric, state)
            self._fallback = (ranked[0][0], i, budget)
            if top:
                self._consider(ranked[0], i, budget, mode)
            survivors = [trial for trial, _ in ranked[:kept]]
            previous = budget
        return True

    def _consider(self, best: tuple[int, Metric], rung: int, budget: Any, mode: str) -> None:
        # scores have no total order across brackets: the first bracket's best stands
        key = 0.0 if isinstance(best[1], Score) else rank_key(best[1], mode)
        if self._best is None or key < self._best[0]:
            self._best = (key, best[0], rung, budget)

    def answer(self) -> tuple[int, int, Any]:
        if self._best is None:
            return self._fallback
        return self._best[1], self._best[2], self._best[3]


class ASHASchedule:
    """Asynchronous successive halving (Li et al., MLSys 2020, Algorithm 2).

    Rungs ``k = 0..K`` with ``K = floor(log_eta(R / r))`` have budgets ``R * eta**(k - K)`` (the
    top rung gets exactly ``R``; the bottom one at least ``r``). Whenever a worker is free:
    going from the highest rung below the top downwards, the best trial of rung ``k`` that is in
    the top ``floor(n_k / eta)`` of the ``n_k`` results recorded at rung ``k`` and not yet
    promoted is promoted to rung ``k + 1``; if there is none, a new trial starts at rung 0 while
    fewer than ``max_trials`` have been started; otherwise the worker waits for running jobs,
    and the search ends when nothing is running. There is no barrier between rungs.

    Args:
        max_budget: ``R`` (> 0).
        reduction_factor: ``eta``, int >= 2.
        min_budget: ``r`` (> 0, <= ``max_budget``).
        max_trials: number of configurations started (int >= 1).

    Raises:
        SearchSettingError: a setting is out of range.
    """

    synchronous: Literal[False] = False

    def __init__(
        self,
        max_budget: float,
        reduction_factor: int = 3,
        min_budget: float = 1,
        max_trials: int = 100,
    ) -> None:
        self.eta = _check_eta(reduction_factor)
        self._max = _check_budget("max_budget", max_budget)
        self._min = _check_budget("min_budget", min_budget)
        self.top_rung = num_rungs_above(self._max, self._min, self.eta)
        self.max_trials = check_positive_int("max_trials", max_trials)
        self.max_budget = _budget(self._max)
        self.reduction_factor = self.eta
        self.min_budget = min_budget
        self.rung_budgets = [
            _budget(self._max * Fraction(self.eta) ** (k - self.top_rung))
            for k in range(self.top_rung + 1)
        ]
        self.reset()

    def reset(self) -> None:
        """Forget every result (the search calls it when it starts)."""
        self.results: list[dict[int, Metric]] = [{} for _ in self.rung_budgets]
        self.promoted: list[set[int]] = [set() for _ in self.rung_budgets]
        self._ranking = [RungRanking(self.eta) for _ in self.rung_budgets]
        # Per rung, with several objectives: the scores in NSGA-II order (None: stale).
        self._score_order: list[list[tuple[int, Score]] | None] = [None for _ in self.rung_budgets]
        self.started = 0
        self.running: set[tuple[int, int]] = set()
        self._source: TrialSource | None = None
        self._mode = "max"

    @property
    def final_budget(self) -> Any:
        return self.max_budget

    def start(self, source: TrialSource, mode: str) -> None:
        """Begin a search drawing new trials from ``source``."""
        self.reset()
        self._source, self._mode = source, mode

    def promotable(self, rung: int) -> int | None:
        """The best not-yet-promoted trial of ``rung`` within its top ``floor(n / eta)``
        (never one with an infinite metric): the best waiting trial, if its rank among the
        ``n`` results is below ``floor(n / eta)``; O(1). With scores, the first trial in
        NSGA-II order that is among the top ``floor(n / eta)``, completed and not promoted
        (MO-ASHA's NSGA-II selection); O(n^2)."""
        scored = self._scored(rung)
        if scored:
            top = scored[: len(scored) // self.eta]
            waiting_ = [t for t, m in top if t not in self.promoted[rung] and m.completed]
            return waiting_[0] if waiting_ else None
        return self._ranking[rung].promotable()

    def _scored(self, rung: int) -> list[tuple[int, Score]]:
        """The scores of ``rung`` in NSGA-II order (computed once per new result)."""
        cached = self._score_order[rung]
        if cached is None:
            scores = [(t, m) for t, m in self.results[rung].items() if isinstance(m, Score)]
            cached = self._score_order[rung] = rank_scores(scores)
        return cached

    def _started(self, method: str) -> TrialSource:
        if self._source is None:
            raise SearchSettingError(
                f"ASHASchedule.{method}() before start(); pass the schedule to a Search"
            )
        return self._source

    def next_job(self) -> Job | str | None:
        """A job for a free worker, ``WAIT``, or None when the search is over.

        Raises:
            SearchSettingError: ``start()`` was not called.
        """
        source = self._started("next_job")
        for k in range(self.top_rung - 1, -1, -1):
            trial = self.promotable(k)
            if trial is not None:
                self.promoted[k].add(trial)
                self._ranking[k].promote(trial)
                return self._launch(
                    Job(trial, k + 1, self.rung_budgets[k + 1], self.rung_budgets[k])
                )
        if self.started < self.max_trials:
            trial = source.new_trial()
            if trial is not None:
                self.started += 1
                return self._launch(Job(trial, 0, self.rung_budgets[0]))
            self.max_trials = self.started  # a finite sampler ran out
        return WAIT if self.running else None

    def _launch(self, job: Job) -> Job:
        self.running.add((job.trial_id, job.rung))
        return job

    def report(self, job: Job, metric: Metric) -> None:
        """Record the metric of a finished job.

        Raises:
            SearchSettingError: ``start()`` was not called.
        """
        source = self._started("report")
        self.running.discard((job.trial_id, job.rung))
        self._record(job.rung, job.trial_id, metric)
        top = job.rung == self.top_rung
        source.report(job, metric, COMPLETED if top else CONTINUE)

    def _record(self, rung: int, trial: int, metric: Metric) -> None:
        """Store ``metric`` as ``trial``'s result at ``rung`` (replacing an earlier one)."""
        if isinstance(metric, Score):  # ranked when asked (promotable)
            self.results[rung][trial] = metric
            self._score_order[rung] = None
            return
        results, ranking = self.results[rung], self._ranking[rung]
        earlier = results.get(trial)
        if earlier is not None and not isinstance(earlier, Score):
            ranking.discard((rank_key(earlier, self._mode), trial))
        results[trial] = metric
        waiting = trial not in self.promoted[rung] and not math.isinf(metric)
        ranking.add((rank_key(metric, self._mode), trial), waiting)

    def open_trials(self) -> dict[int, tuple[int, Metric]]:
        """``{trial id: (rung, metric)}`` of trials that never finished the top rung."""
        last: dict[int, tuple[int, Metric]] = {}
        for k, results in enumerate(self.results[: self.top_rung]):
            for trial, metric in results.items():
                last[trial] = (k, metric)
        return {t: v for t, v in last.items() if t not in self.results[self.top_rung]}

    def answer(self) -> tuple[int, int, Any]:
        """Best trial at the highest rung that has results (ties: the earlier trial)."""
        for k in range(self.top_rung, -1, -1):
            scored = self._scored(k)
            if scored:
                return scored[0][0], k, self.rung_budgets[k]
            best = self._ranking[k].best()
            if best is not None:
                return best[1], k, self.rung_budgets[k]
        return 0, -1, None
