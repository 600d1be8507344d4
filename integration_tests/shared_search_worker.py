"""One worker of a shared-database search, run as a process by test_shared_search.py.

Usage: ``python shared_search_worker.py SETTINGS_JSON``. Settings: ``url``, ``search_id``,
``schedule`` (``asha``/``hyperband``/``sh``), ``trials``, ``seconds`` (``[low, high]``: each
evaluation sleeps a length drawn from its (trial, rung)), ``heartbeat_timeout``, ``root``
(checkpoint root), ``calls`` (a file each evaluation appends ``start``/``done`` lines to),
``out`` (where this worker writes its answer as JSON). Optional: ``sampler`` (``random``,
seeded; ``tpe``, Optuna's TPE unseeded; ``cmaes``, Optuna's CMA-ES unseeded, over ``x`` and
a second parameter ``y`` (CMA-ES needs two or more), pruned trials counted, population 4;
``nsga2``, Optuna's NSGA-II unseeded, population 4; ``bohb``, BOHB unseeded), ``objectives`` (``one``;
``two``: ``acc`` max and ``ms`` min with the constraint ``c``), ``timeout`` (the search's),
``resume``, ``max_attempts``. The answer JSON also holds the answer's front and what this
worker's sampler was told (``seen``).
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
    BOHBSampler,
    DatabaseExecutor,
    HyperbandSchedule,
    OptunaSampler,
    RandomSampler,
    Search,
    SuccessiveHalvingSchedule,
    check_trial_time,
    trial_context,
)
from ato.tracker import SQLLogger
from ato.tracker.search_jobs import SearchJobQueue

SPACES = {"x": dict(param_type="FLOAT", param_range=(0.0, 1.0))}
#: CMA-ES samples two or more parameters jointly (one alone falls back to random sampling)
SPACES_2D = {**SPACES, "y": dict(param_type="FLOAT", param_range=(0.0, 1.0))}


def value(x: float, budget: float) -> float:
    """The metric: best near x = 0.3, a little better with more budget."""
    return round(-((x - 0.3) ** 2) + 0.001 * budget, 12)


def values(x: float, budget: float) -> dict[str, float]:
    """Two objectives (``acc`` max, best near x = 0.3; ``ms`` min, smaller x) and a
    constraint ``c`` (feasible when x >= 0.05)."""
    return {"acc": value(x, budget), "ms": round(10 * x, 12), "c": round(0.05 - x, 12)}


def make_sampler(kind: str) -> Any:
    if kind == "tpe":
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        return OptunaSampler(optuna.samplers.TPESampler(n_startup_trials=4))  # unseeded
    if kind == "cmaes":
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        cma = optuna.samplers.CmaEsSampler(popsize=4, consider_pruned_trials=True)
        return OptunaSampler(cma)  # unseeded
    if kind == "nsga2":
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        return OptunaSampler(optuna.samplers.NSGAIISampler(population_size=4))  # unseeded
    if kind == "bohb":
        return BOHBSampler()  # unseeded
    return RandomSampler(seed=7)


def seen(sampler: Any) -> Any:
    """What the sampler of this worker was told, as JSON."""
    if isinstance(sampler, OptunaSampler):
        return [
            {
                "x": t.params["x"],
                "state": t.state.name,
                "steps": {str(k): v for k, v in sorted(t.intermediate_values.items())},
                "values": t.values,
                "generation": _generation(t.system_attrs),
            }
            for t in sampler.study.trials
        ]
    if isinstance(sampler, BOHBSampler):
        return {
            "observations": {str(b): sorted(o) for b, o in sampler.observations.items()},
            "modelled": sum(b is not None for b in sampler.proposed_from.values()),
        }
    return None


def _generation(attrs: dict[str, Any]) -> int | None:
    """The CMA-ES or NSGA-II generation Optuna's sampler gave a trial (None: it gave none)."""
    found = [v for k, v in attrs.items() if k.endswith(":generation")]
    return int(found[0]) if found else None


def main(settings: dict[str, Any]) -> None:
    low, high = settings.get("seconds", [0.0, 0.0])
    calls = settings["calls"]

    def trial(config: Any) -> Any:
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
        if settings.get("objectives", "one") == "two":
            return values(config.x, ctx.budget)
        return value(config.x, ctx.budget)

    queue = SearchJobQueue(
        settings["url"],
        heartbeat_timeout=settings["heartbeat_timeout"],
        max_attempts=settings.get("max_attempts", 3),
    )
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
    objectives: dict[str, Any] = {}
    if settings.get("objectives", "one") == "two":
        objectives = {"mode": {"acc": "max", "ms": "min"}, "constraint_keys": ["c"]}
    sampler = make_sampler(settings.get("sampler", "random"))
    search = Search(
        config,
        SPACES_2D if settings.get("sampler") == "cmaes" else SPACES,
        sampler=sampler,
        schedule=schedule,
        tracker=SQLLogger,
        executor=DatabaseExecutor(queue),
        search_id=settings["search_id"],
        checkpoint_root=settings["root"],
        progress=False,
        timeout=settings.get("timeout"),
        resume=settings.get("resume", False),
        **objectives,
    )
    result = search.main(trial)()
    answer: dict[str, Any] = {
        "trial_id": result.trial_id,
        "metric": result.metric,
        "budget": result.budget,
        "run_id": result.run_id,
        "x": result.config.x,
        "evaluations": sum(len(rung) for rung in result.logs),
        "timed_out": result.timed_out,
        "front": [[m.trial_id, m.run_id, dict(m.metric)] for m in result.get("front", [])],
        "seen": seen(sampler),
    }
    with open(f"{settings['out']}.{os.getpid()}.json", "w") as f:
        json.dump(answer, f)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
