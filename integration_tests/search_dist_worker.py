"""One rank of a Search over gloo (launched by test_search_distributed.py with torchrun).

Usage:
    torchrun --standalone --nproc-per-node=2 search_dist_worker.py asha OUT_DIR [bohb]
    torchrun ... search_dist_worker.py hyperband OUT_DIR DB_FILE SEARCH_ID STOP_AT [resume] [bohb]
    torchrun ... search_dist_worker.py objectives OUT_DIR

``asha``: random sampling + ASHA over the ranks; each rank writes the jobs it ran with start/end
times and the result. ``hyperband``: random sampling + Hyperband tracked in the SQLite file
DB_FILE; with STOP_AT >= 0 a rank raises KeyboardInterrupt when it reaches a trial with id >=
STOP_AT at rung 0 (both ranks then stop inside the same rung, as on Ctrl-C) and writes
``interrupted``; with ``resume`` the search resumes SEARCH_ID. With ``bohb`` the sampler is
``BOHBSampler`` instead of ``RandomSampler`` (same seed). ``objectives``: two objectives
and a constraint (`objectives_search`), random sampling + Hyperband, rank 0 drawing the points.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time

import torch.distributed as dist

from ato.adict import ADict
from ato.hyperopt import (
    ASHASchedule,
    BOHBSampler,
    HyperbandSchedule,
    RandomSampler,
    Search,
    TorchDistributedExecutor,
    trial_context,
)

SPACES = {
    "lr": dict(param_type="FLOAT", param_range=(1e-4, 1e-1), space_type="LOG"),
    "optim": dict(param_type="CATEGORY", categories=["sgd", "adam"]),
    "momentum": dict(param_type="FLOAT", param_range=(0.0, 0.99), condition={"optim": "sgd"}),
}


def objective(config) -> float:
    bonus = 0.3 if config.optim == "adam" else 0.3 * config.get("momentum", 0.0)
    return -abs(math.log10(config.lr) + 2) + bonus + 0.05 * math.log(config.__budget__)


def _sampler(seed: int, bohb: bool) -> RandomSampler | BOHBSampler:
    return BOHBSampler(seed=seed) if bohb else RandomSampler(seed=seed)


def asha(out_dir: str, rank: int, bohb: bool = False) -> dict:
    jobs = []

    def train(config) -> float:
        ctx = trial_context()
        start = time.time()
        time.sleep(0.01 + 0.04 * ((ctx.trial_id * 7919) % 10) / 10)  # uneven 10-50 ms trials
        jobs.append([ctx.trial_id, ctx.rung, start, time.time(), ctx.is_answer])
        return objective(config)

    search = Search(
        ADict(lr=0.1, optim="sgd"),
        SPACES,
        sampler=_sampler(0, bohb),
        schedule=ASHASchedule(max_budget=27, reduction_factor=3, max_trials=40),
        executor=TorchDistributedExecutor(),
        progress=False,
        checkpoint_root=os.path.join(out_dir, "checkpoints"),
    )
    result = search.main(train)()
    return {"jobs": jobs, "result": _plain(result.to_dict())}


def hyperband(
    out_dir: str,
    rank: int,
    db_file: str,
    search_id: str,
    stop_at: int,
    resume: bool,
    bohb: bool = False,
) -> dict:
    from ato.tracker import SQLLogger

    calls = []

    def train(config) -> float:
        if 0 <= stop_at <= config.__trial_id__ and config.__num_halved__ == 0:
            raise KeyboardInterrupt
        calls.append([config.__trial_id__, config.__num_halved__])
        return objective(config)

    config = ADict(
        lr=0.1,
        optim="sgd",
        experiment=ADict(project_name="dist-resume", sql=ADict(db_path=f"sqlite:///{db_file}")),
    )
    sampler = _sampler(4, bohb)
    # the reference run lets every rank draw the same seeded points itself; the interrupted
    # and resumed runs have rank 0 draw them and send each rung to the other rank (BOHB, which
    # learns, always runs on rank 0 only)
    sampler.replicable = search_id == "reference" and not bohb
    search = Search(
        config,
        SPACES,
        sampler=sampler,
        schedule=HyperbandSchedule(max_budget=9, reduction_factor=3),
        tracker=SQLLogger,
        executor=TorchDistributedExecutor(),
        search_id=search_id,
        resume=resume,
        progress=False,
    )
    try:
        result = search.main(train)()
    except KeyboardInterrupt:
        return {"interrupted": True, "calls": calls}
    return {"interrupted": False, "calls": calls, "result": _plain(result.to_dict())}


def objectives_train(config) -> dict:
    """Two objectives (loss down, cost down) and a constraint (lr <= 0.03), budget-dependent."""
    loss = abs(math.log10(config.lr) + 2) + (0.1 if config.optim == "sgd" else 0.0)
    return {
        "loss": loss + 1 / config.__budget__,
        "cost": config.lr * 10 + (0.5 if config.optim == "adam" else 0.0),
        "over": config.lr - 0.03,
    }


def objectives_search(executor=None) -> Search:
    """The search of the ``objectives`` mode (also run in one process by the test)."""
    sampler = RandomSampler(seed=6)
    sampler.replicable = False  # rank 0 draws and sends each rung
    return Search(
        ADict(lr=0.1, optim="sgd"),
        SPACES,
        sampler=sampler,
        schedule=HyperbandSchedule(max_budget=9, reduction_factor=3),
        mode={"loss": "min", "cost": "min"},
        constraint_keys=["over"],
        executor=executor,
        progress=False,
        checkpoint_root=os.path.join(os.environ.get("TMPDIR", "/tmp"), "ato-objectives"),
    )


def objectives(rank: int) -> dict:
    result = objectives_search(TorchDistributedExecutor()).main(objectives_train)()
    return {"result": _plain(result.to_dict())}


def main() -> None:
    mode, out_dir = sys.argv[1], sys.argv[2]
    rank = int(os.environ["RANK"])
    dist.init_process_group("gloo")
    bohb = "bohb" in sys.argv[3:]
    if mode == "asha":
        payload = asha(out_dir, rank, bohb)
    elif mode == "objectives":
        payload = objectives(rank)
    else:
        db_file, search_id, stop_at = sys.argv[3], sys.argv[4], int(sys.argv[5])
        resume = "resume" in sys.argv[6:]
        payload = hyperband(out_dir, rank, db_file, search_id, stop_at, resume, bohb)
    with open(os.path.join(out_dir, f"{mode}-rank{rank}.json"), "w", encoding="utf-8") as fh:
        json.dump(payload, fh)
    dist.destroy_process_group()


def _plain(value):
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


if __name__ == "__main__":
    main()
