"""Shared-database search (issue 25): the cost of a claim, next to Optuna's RDB storage.

- **Claim overhead.** ``--workers`` processes (default 16) run one ASHA search (R = 9,
  eta = 3) of trivial trials (they return at once) through ``DatabaseExecutor`` on PostgreSQL
  and on MariaDB. Printed: wall time per evaluation and worker-seconds per evaluation (the
  overhead each job costs the workers: claim, decision, heartbeat, result), for ``--small``
  (100) and ``--trials`` (2,000) trials; their ratio must stay near 1 (flat, not growing with
  the search). The same workers then run Optuna (``RDBStorage`` on the same server,
  ``HyperbandPruner(1, 9, 3)``, each trial reporting steps 1..9 and asking ``should_prune``)
  for the same number of trials: the ratio of worker-seconds per trial, ato / Optuna.
- **Busy fraction.** 4 workers, ASHA, trials that sleep 20-80 ms (uniform, drawn per
  evaluation), ``--busy-trials`` (200) trials: the time each worker spent inside trials over
  its time in the search, summed over the workers (goal >= 0.9).
- Correctness on the way: every job done exactly once, all workers return one answer.

Servers: ``ATO_BENCH_POSTGRES_URL`` / ``ATO_BENCH_MYSQL_URL`` (else ``ATO_TEST_POSTGRES_URL``
/ ``ATO_TEST_MYSQL_URL``); every tracker table there is dropped first.

Run: ``python benchmarks/bench_shared_search.py [--workers N] [--trials N] [--small N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from typing import Any

ETA, MAX_BUDGET = 3, 9


def _ato_worker(settings: dict[str, Any]) -> None:
    from ato.adict import ADict
    from ato.hyperopt import ASHASchedule, DatabaseExecutor, RandomSampler, Search, trial_context
    from ato.tracker.search_jobs import SearchJobQueue

    low, high = settings["seconds"]
    busy = [0.0]

    def trial(config: Any) -> float:
        ctx = trial_context()
        if high:
            start = time.perf_counter()
            time.sleep(random.Random(ctx.trial_id * 100 + ctx.rung).uniform(low, high))
            busy[0] += time.perf_counter() - start
        return -((config.x - 0.3) ** 2) + 0.001 * ctx.budget

    search = Search(
        ADict(x=0.0),
        {"x": {"param_type": "FLOAT", "param_range": (0.0, 1.0)}},
        sampler=RandomSampler(seed=1),
        schedule=ASHASchedule(MAX_BUDGET, ETA, 1, max_trials=settings["trials"]),
        executor=DatabaseExecutor(SearchJobQueue(settings["url"])),
        search_id=settings["search_id"],
        checkpoint_root=settings["root"],
        progress=False,
    )
    start = time.perf_counter()
    result = search.main(trial)()
    print(
        json.dumps(
            {"trial": result.trial_id, "busy": busy[0], "seconds": time.perf_counter() - start}
        )
    )


def _optuna_worker(settings: dict[str, Any]) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(settings["url"])
    study = optuna.load_study(
        study_name=settings["search_id"],
        storage=storage,
        pruner=optuna.pruners.HyperbandPruner(1, MAX_BUDGET, ETA),
    )

    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        value = 0.0
        for step in range(1, MAX_BUDGET + 1):
            value = -((x - 0.3) ** 2) + 0.001 * step
            trial.report(value, step)
            if trial.should_prune():
                raise optuna.TrialPruned
        return value

    start = time.perf_counter()
    study.optimize(objective, n_trials=settings["trials"])
    print(json.dumps({"seconds": time.perf_counter() - start}))


def _spawn(kind: str, settings: dict[str, Any], workers: int) -> tuple[float, list[dict[str, Any]]]:
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", kind, json.dumps(settings)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    outs = [p.communicate()[0] for p in procs]
    wall = time.perf_counter() - start
    if any(p.returncode for p in procs):
        raise SystemExit(f"a {kind} worker failed")
    return wall, [json.loads(out.strip().splitlines()[-1]) for out in outs]


def _reset(url: str) -> None:
    from ato.tracker.testing import reset_schema

    reset_schema(url)


def _jobs(url: str, search_id: str) -> list[dict[str, Any]]:
    from ato.tracker.search_jobs import SearchJobQueue

    return SearchJobQueue(url).jobs(search_id)


def _ato(
    url: str, trials: int, workers: int, seconds: tuple[float, float] = (0.0, 0.0)
) -> dict[str, Any]:
    _reset(url)
    search_id = f"bench-{uuid.uuid4().hex[:8]}"
    settings = {
        "url": url,
        "search_id": search_id,
        "trials": trials,
        "seconds": list(seconds),
        "root": tempfile.mkdtemp(),
    }
    wall, outs = _spawn("ato", settings, workers)
    jobs = _jobs(url, search_id)
    assert Counter(j["state"] for j in jobs) == {"done": len(jobs)}, "a job was not done"
    assert len({j["job_key"] for j in jobs}) == len(jobs)
    assert len({o["trial"] for o in outs}) == 1, "workers disagree on the answer"
    assert sum(j["rung"] == 0 for j in jobs) == trials
    return {
        "wall": wall,
        "evaluations": len(jobs),
        "busy": sum(o["busy"] for o in outs) / sum(o["seconds"] for o in outs),
        "worker_s": sum(o["seconds"] for o in outs),
    }


def _optuna(url: str, trials: int, workers: int) -> dict[str, Any]:
    import optuna

    name = f"bench-{uuid.uuid4().hex[:8]}"
    optuna.create_study(study_name=name, storage=url, direction="maximize")
    per = trials // workers
    wall, outs = _spawn("optuna", {"url": url, "search_id": name, "trials": per}, workers)
    study = optuna.load_study(study_name=name, storage=url)
    return {
        "wall": wall,
        "trials": len(study.trials),
        "worker_s": sum(o["seconds"] for o in outs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--busy-trials", type=int, default=200)
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, settings = args.worker
        (_ato_worker if kind == "ato" else _optuna_worker)(json.loads(settings))
        return
    servers = {
        "PostgreSQL": os.environ.get("ATO_BENCH_POSTGRES_URL")
        or os.environ.get("ATO_TEST_POSTGRES_URL"),
        "MariaDB": os.environ.get("ATO_BENCH_MYSQL_URL") or os.environ.get("ATO_TEST_MYSQL_URL"),
    }
    print(f"shared-database search: {args.workers} workers, ASHA R={MAX_BUDGET} eta={ETA}")
    for name, url in servers.items():
        if not url:
            print(f"{name}: skipped (no URL in the environment)")
            continue
        small = _ato(url, args.small, args.workers)
        large = _ato(url, args.trials, args.workers)
        peer = _optuna(url, args.trials, args.workers)
        per_small = small["worker_s"] / small["evaluations"] * 1000
        per_large = large["worker_s"] / large["evaluations"] * 1000
        per_optuna = peer["worker_s"] / peer["trials"] * 1000
        print(
            f"{name}: ato {args.small} trials: {small['evaluations']} evaluations, "
            f"{small['wall'] / small['evaluations'] * 1000:.2f} ms wall and {per_small:.1f} "
            f"worker-ms per evaluation"
        )
        print(
            f"{name}: ato {args.trials} trials: {large['evaluations']} evaluations, "
            f"{large['wall'] / large['evaluations'] * 1000:.2f} ms wall and {per_large:.1f} "
            f"worker-ms per evaluation; growth {args.small} -> {args.trials}: "
            f"x{per_large / per_small:.2f} (flat is ~1)"
        )
        print(
            f"{name}: Optuna RDBStorage + HyperbandPruner, {peer['trials']} trials: "
            f"{peer['wall'] / peer['trials'] * 1000:.2f} ms wall and {per_optuna:.1f} worker-ms "
            f"per trial; ato / Optuna worker-ms per trial: {per_large / per_optuna:.2f}"
        )
        busy = _ato(url, args.busy_trials, 4, (0.02, 0.08))
        print(f"{name}: busy fraction of 4 workers, 20-80 ms trials, ASHA: {busy['busy']:.3f}")


if __name__ == "__main__":
    main()
