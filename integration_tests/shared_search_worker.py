"""One worker of a shared-database search, run as a process by test_shared_search.py.

Usage: ``python shared_search_worker.py SETTINGS_JSON``. Settings: ``url``, ``search_id``,
``schedule`` (``asha``/``hyperband``/``sh``), ``trials``, ``seconds`` (``[low, high]``: each
evaluation sleeps a length drawn from its (trial, rung)), ``heartbeat_timeout``, ``root``
(checkpoint root), ``calls`` (a file each evaluation appends ``start``/``done`` lines to),
``out`` (where this worker writes its answer as JSON).
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from typing import Any

from ato.adict import ADict
from ato.hyperopt import (
    ASHASchedule,
    DatabaseExecutor,
    HyperbandSchedule,
    RandomSampler,
    Search,
    SuccessiveHalvingSchedule,
    check_trial_time,
    trial_context,
)
from ato.tracker import SQLLogger
from ato.tracker.search_jobs import SearchJobQueue

SPACES = {"x": dict(param_type="FLOAT", param_range=(0.0, 1.0))}


def value(x: float, budget: float) -> float:
    """The metric: best near x = 0.3, a little better with more budget."""
    return round(-((x - 0.3) ** 2) + 0.001 * budget, 12)


def main(settings: dict[str, Any]) -> None:
    low, high = settings.get("seconds", [0.0, 0.0])
    calls = settings["calls"]

    def trial(config: Any) -> float:
        ctx = trial_context()
        with open(calls, "a") as f:
            f.write(f"{ctx.trial_id} {ctx.rung} {os.getpid()} start\n")
        seconds = random.Random(ctx.trial_id * 1000 + ctx.rung).uniform(low, high)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(min(0.01, seconds))
            check_trial_time()  # where SIGTERM/SIGUSR1 stop the trial
        with open(calls, "a") as f:
            f.write(f"{ctx.trial_id} {ctx.rung} {os.getpid()} done\n")
        return value(config.x, ctx.budget)

    queue = SearchJobQueue(settings["url"], heartbeat_timeout=settings["heartbeat_timeout"])
    kind = settings["schedule"]
    if kind == "asha":
        schedule: Any = ASHASchedule(9, 3, 1, max_trials=settings["trials"])
    elif kind == "hyperband":
        schedule = HyperbandSchedule(9, 3, 1)
    else:
        schedule = SuccessiveHalvingSchedule(
            reduction_factor=3, num_configs=settings["trials"], max_budget=9
        )
    config = ADict(
        x=0.0, experiment=ADict(project_name="shared", sql=ADict(db_path=settings["url"]))
    )
    search = Search(
        config,
        SPACES,
        sampler=RandomSampler(seed=7),
        schedule=schedule,
        tracker=SQLLogger,
        executor=DatabaseExecutor(queue),
        search_id=settings["search_id"],
        checkpoint_root=settings["root"],
        progress=False,
    )
    result = search.main(trial)()
    answer = {
        "trial_id": result.trial_id,
        "metric": result.metric,
        "budget": result.budget,
        "run_id": result.run_id,
        "x": result.config.x,
        "evaluations": sum(len(rung) for rung in result.logs),
    }
    with open(f"{settings['out']}.{os.getpid()}.json", "w") as f:
        json.dump(answer, f)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
