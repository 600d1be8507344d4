"""Shared-database search (issue 25): the cost of a claim, next to Optuna's RDB storage.

- **Claim overhead.** ``--workers`` processes (default 16) run one ASHA search (R = 9,
  eta = 3) of trivial trials (they return at once) through ``DatabaseExecutor`` on PostgreSQL
  and on MariaDB, once per size of the curve ``--small`` (100) .. ``--trials`` (default 500;
  ``--trials 2000`` for the issue's run). Printed per size: wall time per evaluation and
  worker-milliseconds per evaluation (the overhead each job costs the workers: claim,
  decision, heartbeat, result), also counted from each worker's first job on (without the
  worker's start: driver import, schema check); the growth of the latter from the smallest
  to the largest size must stay near 1 (flat, not growing with the search). Checked on the way: no job lost, no
  evaluation run twice (each worker lists what it ran), every promotion valid under ASHA's
  rule (Li et al., MLSys 2020, Algorithm 2: a trial promoted from rung k was, when the
  promotion was stamped, in the top ``floor(n_k / eta)`` of the ``n_k`` results of rung k
  recorded before it, and not promoted before), one answer in every worker.
- **Next to Optuna.** The same workers then run Optuna (``RDBStorage`` on the same server,
  ``HyperbandPruner(1, 9, 3)``, each trial reporting steps 1..9 and asking ``should_prune``)
  for ``--optuna-trials`` trials (default: the largest size): the ratio of worker-seconds
  per trial, ato / Optuna.
- **Busy fraction.** 4 workers, ASHA, trials that sleep 20-80 ms (uniform, drawn per
  evaluation), ``--busy-trials`` (300) trials, on SQLite, PostgreSQL and MariaDB: the time
  the workers spent inside trials over their time in the search (from calling the search to
  its answer), summed over the workers (goal >= 0.9, recorded as its inverse <= 1/0.9).

Servers: ``ATO_BENCH_POSTGRES_URL`` / ``ATO_BENCH_MYSQL_URL`` (else ``ATO_TEST_POSTGRES_URL``
/ ``ATO_TEST_MYSQL_URL``); every tracker table there is dropped first, and Optuna creates its
own tables there (they stay: give databases that serve benchmarks only, or drop them after).

Run: ``python benchmarks/bench_shared_search.py [--workers N] [--trials N] [--small N]
[--optuna-trials N] [--busy-trials N]``.
"""

from __future__ import annotations

import argparse
import bisect
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

from timing import record_goal

ETA, MAX_BUDGET = 3, 9
GOAL_BUSY = 0.9
GOAL_GROWTH = 1.5
GOAL_OPTUNA = 1.0


def _ato_worker(settings: dict[str, Any]) -> None:
    from ato.adict import ADict
    from ato.hyperopt import ASHASchedule, DatabaseExecutor, RandomSampler, Search, trial_context
    from ato.tracker.search_jobs import SearchJobQueue

    low, high = settings["seconds"]
    busy = [0.0]
    first: list[float] = []
    ran: list[tuple[int, int]] = []

    def trial(config: Any) -> float:
        ctx = trial_context()
        if not first:
            first.append(time.perf_counter())
        ran.append((ctx.trial_id, ctx.rung))
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
    end = time.perf_counter()
    steady = end - first[0] if first else 0.0  # from this worker's first trial on
    out = {"trial": result.trial_id, "busy": busy[0], "seconds": end - start, "steady": steady}
    print(json.dumps({**out, "ran": ran}))


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
    from sqlalchemy import create_engine

    from ato.tracker.storage.database import Database, dispose_engines
    from ato.tracker.storage.models import Base
    from ato.tracker.storage.schema import version_table

    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    else:  # drop every tracker table (as ato.tracker.testing.reset_schema, without pytest)
        dispose_engines()
        engine = create_engine(url)
        Base.metadata.drop_all(engine)
        version_table.drop(engine, checkfirst=True)
        engine.dispose()
    Database.from_url(url).engine()  # the schema, made once before the workers start


def _jobs(url: str, search_id: str) -> list[dict[str, Any]]:
    from ato.tracker.search_jobs import SearchJobQueue

    return SearchJobQueue(url).jobs(search_id)


def check_promotions(jobs: list[dict[str, Any]], eta: int = ETA) -> int:
    """Check every promotion against ASHA's rule (Li et al., MLSys 2020, Algorithm 2) by
    replaying the stamped events: a job of trial t at rung k + 1, created with stamp s, needs
    t in the top ``floor(n / eta)`` of the ``n`` results of rung k finished before s (larger
    metric first, ties to the lower trial id) and t not promoted from rung k before. Returns
    the number of promotions checked.

    Raises:
        AssertionError: a promotion broke the rule.
    """
    events = [(j["created_seq"], 1, j) for j in jobs if j["rung"] > 0]
    events += [(j["done_seq"], 0, j) for j in jobs if j["done_seq"] is not None]
    ranked: dict[int, list[tuple[float, int]]] = {}
    promoted: set[tuple[int, int]] = set()
    for _, kind, job in sorted(events, key=lambda e: e[0]):
        rung, trial = job["rung"], job["trial_id"]
        if kind == 0:
            metric = float((job["result"] or {}).get("metric") or "nan")
            key = -metric if metric == metric else float("inf")
            bisect.insort(ranked.setdefault(rung, []), (key, trial))
            continue
        below = ranked.get(rung - 1, [])
        top = {t for _, t in below[: len(below) // eta]}
        assert trial in top, f"trial {trial} promoted to rung {rung} from outside the top 1/eta"
        assert (trial, rung) not in promoted, f"trial {trial} promoted to rung {rung} twice"
        promoted.add((trial, rung))
    return len(promoted)


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
    ran = Counter(tuple(key) for out in outs for key in out["ran"])
    assert Counter(j["state"] for j in jobs) == {"done": len(jobs)}, "a job was not done"
    assert len({j["job_key"] for j in jobs}) == len(jobs)
    assert set(ran) == {(j["trial_id"], j["rung"]) for j in jobs}, "a job was lost"
    assert max(ran.values()) == 1, "a job was evaluated twice"
    assert len({o["trial"] for o in outs}) == 1, "workers disagree on the answer"
    assert sum(j["rung"] == 0 for j in jobs) == trials
    promotions = check_promotions(jobs)
    return {
        "wall": wall,
        "evaluations": len(jobs),
        "promotions": promotions,
        "busy": sum(o["busy"] for o in outs) / sum(o["seconds"] for o in outs),
        "worker_s": sum(o["seconds"] for o in outs),
        "steady_s": sum(o["steady"] for o in outs),
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


def _sizes(small: int, large: int) -> list[int]:
    """The curve's sizes: ``small``, then about doubling, up to ``large``."""
    sizes = [small]
    while sizes[-1] * 2.5 <= large:
        sizes.append(sizes[-1] * 2 if str(sizes[-1])[0] != "2" else sizes[-1] * 5 // 2)
    return sorted({*sizes, large})


def _load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def _curve(name: str, url: str, args: argparse.Namespace) -> None:
    print(f"{name}: {args.workers} workers, ASHA R={MAX_BUDGET} eta={ETA}, trivial trials")
    per_eval: dict[int, float] = {}
    per_trial: dict[int, float] = {}
    for n in _sizes(args.small, args.trials):
        run = _ato(url, n, args.workers)
        per_eval[n] = run["steady_s"] / run["evaluations"] * 1000
        per_trial[n] = run["worker_s"] / n * 1000
        print(
            f"  {n:>6,} trials: {run['evaluations']:>6,} evaluations ({run['promotions']:,} "
            f"promotions, all valid), {run['wall'] / run['evaluations'] * 1000:6.2f} ms wall, "
            f"{run['worker_s'] / run['evaluations'] * 1000:6.1f} worker-ms per evaluation "
            f"({per_eval[n]:5.1f} from each worker's first job on); {_load()}"
        )
    first, last = min(per_eval), max(per_eval)
    growth = per_eval[last] / per_eval[first]
    print(
        f"  growth {first:,} -> {last:,} trials of the worker-ms per evaluation from each "
        f"worker's first job on (claims, decisions, results): x{growth:.2f} (flat is ~1)"
    )
    record_goal(
        f"shared ASHA, {args.workers} workers ({name}): claim overhead per evaluation, "
        f"{last:,} / {first:,} trials",
        growth,
        GOAL_GROWTH,
    )
    optuna_trials = args.optuna_trials or last
    if optuna_trials <= 0:
        return
    peer = _optuna(url, optuna_trials, args.workers)
    per_optuna = peer["worker_s"] / peer["trials"] * 1000
    ato_trial = per_trial[min(per_trial, key=lambda n: abs(n - optuna_trials))]
    ratio = ato_trial / per_optuna
    print(
        f"  Optuna RDBStorage + HyperbandPruner, {peer['trials']:,} trials: "
        f"{peer['wall'] / peer['trials'] * 1000:.2f} ms wall and {per_optuna:.1f} worker-ms per "
        f"trial; ato / Optuna worker-ms per trial: {ratio:.3f}; {_load()}"
    )
    record_goal(
        f"shared ASHA, {args.workers} workers ({name}): worker-ms per trial / Optuna RDB",
        ratio,
        GOAL_OPTUNA,
    )


def _busy(name: str, url: str, trials: int) -> None:
    run = _ato(url, trials, 4, (0.02, 0.08))
    print(
        f"{name}: busy fraction of 4 workers, 20-80 ms trials, ASHA, {trials} trials "
        f"({run['evaluations']} evaluations): {run['busy']:.3f}; {_load()}"
    )
    record_goal(
        f"shared ASHA, 4 workers, 20-80 ms trials ({name}): worker time / time in trials",
        1 / run["busy"],
        1 / GOAL_BUSY,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--trials", type=int, default=500, help="largest size of the curve")
    parser.add_argument("--small", type=int, default=100, help="smallest size of the curve")
    parser.add_argument(
        "--optuna-trials", type=int, default=None, help="Optuna's trials (0: skip Optuna)"
    )
    parser.add_argument("--busy-trials", type=int, default=300)
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
    print(f"shared-database search; {_load()}")
    with tempfile.TemporaryDirectory() as folder:
        _busy("SQLite", f"sqlite:///{folder}/busy.db", args.busy_trials)
    for name, url in servers.items():
        if not url:
            print(f"{name}: skipped (no URL in the environment)")
            continue
        _busy(name, url, args.busy_trials)
        _curve(name, url, args)


if __name__ == "__main__":
    main()
