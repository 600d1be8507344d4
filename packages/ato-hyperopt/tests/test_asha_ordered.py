"""ASHA ranks each rung's results incrementally (heaps split at the top 1 / eta, issue 30): its
decisions are those of the straightforward rule of Li et al. (MLSys 2020, Algorithm 2) that
re-sorts every rung on every request, over many random runs of jobs, workers and metrics."""

from __future__ import annotations

import math
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from ato.hyperopt import ASHASchedule
from ato.hyperopt.metric import rank_key
from ato.hyperopt.schedules import WAIT, Job

SPECIAL = [math.nan, math.inf, -math.inf, 0.0, 0.5, 1.0]


def _metric(rng: random.Random) -> float:
    """A special value (NaN, infinities, ties) half the time, else a float in [-10, 10]."""
    return rng.choice(SPECIAL) if rng.random() < 0.5 else rng.uniform(-10, 10)


class Counter:
    """An endless sampler: trial ids 0, 1, 2, ..."""

    def __init__(self) -> None:
        self.given = 0

    def new_trial(self) -> int:
        self.given += 1
        return self.given - 1

    def report(self, job: Job, metric: float, state: str) -> None:
        """Nothing to learn from."""


class ReferenceASHA:
    """Algorithm 2 as written: every request re-sorts each rung's results and promotes the
    best not-yet-promoted trial (finite metric) within the top ``floor(n / eta)``."""

    def __init__(self, schedule: ASHASchedule, mode: str) -> None:
        self.eta, self.top, self.mode = schedule.eta, schedule.top_rung, mode
        self.budgets, self.max_trials = schedule.rung_budgets, schedule.max_trials
        self.results: list[dict[int, float]] = [{} for _ in self.budgets]
        self.promoted: list[set[int]] = [set() for _ in self.budgets]
        self.running: set[tuple[int, int]] = set()
        self.source, self.started = Counter(), 0

    def _ranked(self, rung: int) -> list[tuple[int, float]]:
        items = self.results[rung].items()
        return sorted(items, key=lambda r: (rank_key(r[1], self.mode), r[0]))

    def next_job(self) -> Job | str | None:
        for k in range(self.top - 1, -1, -1):
            ranked = self._ranked(k)
            for trial, metric in ranked[: len(ranked) // self.eta]:
                if trial not in self.promoted[k] and not math.isinf(metric):
                    self.promoted[k].add(trial)
                    self.running.add((trial, k + 1))
                    return Job(trial, k + 1, self.budgets[k + 1], self.budgets[k])
        if self.started < self.max_trials:
            self.started += 1
            trial = self.source.new_trial()
            self.running.add((trial, 0))
            return Job(trial, 0, self.budgets[0])
        return WAIT if self.running else None

    def report(self, job: Job, metric: float) -> None:
        self.running.discard((job.trial_id, job.rung))
        self.results[job.rung][job.trial_id] = metric

    def answer(self) -> tuple[int, int, object]:
        for k in range(self.top, -1, -1):
            if self.results[k]:
                return self._ranked(k)[0][0], k, self.budgets[k]
        return 0, -1, None


@settings(max_examples=150, deadline=None)
@given(
    eta=st.integers(2, 4),
    max_budget=st.sampled_from([4, 9, 27, 64]),
    max_trials=st.integers(1, 60),
    workers=st.integers(1, 6),
    mode=st.sampled_from(["max", "min"]),
    rng=st.randoms(use_true_random=True),  # a seeded Random: long runs without draining entropy
)
def test_asha_decides_as_the_resorting_reference(
    eta: int, max_budget: int, max_trials: int, workers: int, mode: str, rng: random.Random
) -> None:
    schedule = ASHASchedule(max_budget, reduction_factor=eta, max_trials=max_trials)
    reference = ReferenceASHA(schedule, mode)
    schedule.start(Counter(), mode)
    running: list[Job] = []
    finished: list[Job] = []
    while True:
        if len(running) < workers:
            job = schedule.next_job()
            assert job == reference.next_job()
            if job is None:
                break
            if isinstance(job, Job):
                running.append(job)
                continue
        if finished and rng.randrange(10) == 0:
            done = rng.choice(finished)  # reported again
        else:
            done = running.pop(rng.randrange(len(running)))
            finished.append(done)
        metric = _metric(rng)
        schedule.report(done, metric)
        reference.report(done, metric)
        assert schedule.answer() == reference.answer()
    assert schedule.answer() == reference.answer()
    assert schedule.results == reference.results and schedule.promoted == reference.promoted
