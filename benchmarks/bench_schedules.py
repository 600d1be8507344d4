"""Scheduling cost per evaluation of ``ASHASchedule`` as the search grows (issue 30).

The schedule is driven directly (no trial code, no database): 8 workers, each finished job
reports a pseudo-random metric and asks for the next job, until the schedule ends. The time
per evaluation (``next_job`` + ``report``) is printed for 100 -> 10,000 trials; the goal is a
flat curve: the cost at 10,000 trials at most 2x the cost at 100 (it grew as the square of the
trials while every request re-sorted every rung: 0.15 / 0.34 / 1.07 ms at 300 / 1,000 / 3,000).

Usage: python benchmarks/bench_schedules.py [--quick]
"""

from __future__ import annotations

import argparse
import random
import time

from timing import record_goal

from ato.hyperopt import ASHASchedule
from ato.hyperopt.schedules import Job

WORKERS = 8
REPEATS = 5  # the fastest of these (other load on the machine only adds time)
GOAL_GROWTH = 2.0


class Counter:
    """An endless sampler that learns nothing: trial ids 0, 1, 2, ..."""

    def __init__(self) -> None:
        self.given = 0

    def new_trial(self) -> int:
        self.given += 1
        return self.given - 1

    def report(self, job: Job, metric: float, state: str) -> None:
        """Nothing to learn from."""


def per_evaluation_us(trials: int, seed: int = 0) -> float:
    """CPU microseconds (this process only: other load on the machine adds none) per
    evaluation of one whole ASHA search of ``trials`` trials."""
    rng = random.Random(seed)
    schedule = ASHASchedule(81, reduction_factor=3, max_trials=trials)
    schedule.start(Counter(), "max")
    running: list[Job] = []
    evaluations = 0
    start = time.process_time()
    while True:
        job = schedule.next_job()
        if isinstance(job, Job):
            running.append(job)
            if len(running) < WORKERS:
                continue
        elif job is None:
            break
        done = running.pop(rng.randrange(len(running)))
        schedule.report(done, rng.random())
        evaluations += 1
    return (time.process_time() - start) / evaluations * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 -> 1,000 trials")
    args = parser.parse_args()
    sizes = [100, 300, 1_000] if args.quick else [100, 300, 1_000, 3_000, 10_000]
    samples: dict[int, list[float]] = {n: [] for n in sizes}
    for seed in range(REPEATS):  # sizes interleaved: a spell of load weighs on each alike
        for n in sizes:
            samples[n].append(per_evaluation_us(n, seed))
    costs = {n: min(values) for n, values in samples.items()}
    print(f"ASHASchedule (R=81, eta=3, {WORKERS} workers): scheduling cost per evaluation")
    for n, cost in costs.items():
        print(f"  {n:>7,} trials: {cost:8.1f} us")
    growth = costs[sizes[-1]] / costs[sizes[0]]
    verdict = "met" if growth <= GOAL_GROWTH else "MISSED"
    record_goal(
        f"ASHA cost per evaluation, {sizes[-1]:,} / {sizes[0]:,} trials", growth, GOAL_GROWTH
    )
    print(
        f"  growth {sizes[0]:,} -> {sizes[-1]:,} trials: {growth:.2f}x "
        f"(goal <= {GOAL_GROWTH:.0f}x, {verdict})"
    )


if __name__ == "__main__":
    main()
