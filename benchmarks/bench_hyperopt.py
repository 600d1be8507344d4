"""ato.hyperopt benchmarks (design targets in DESIGN.md section 6).

1. Scheduling overhead per trial: HyperBand over a 1,000-config grid of no-op trials,
   against a bare loop that calls the same no-op on pre-built configs. Target: <= 1 ms/trial.
   Peer: Optuna's ``GridSampler`` over the same 1,000-value grid (in-memory storage, logging
   silenced), plain and with ``SuccessiveHalvingPruner``; ratio ato / Optuna in ms per trial.
   GridSampler re-scans the grid for every finished trial, so its per-trial cost grows with the
   number of finished trials (1,000 trials take minutes); it is timed on the first
   ``OPTUNA_TRIALS`` trials of the grid, which favours Optuna.
2. Parallel speed-up: DistributedHyperBand on 2 gloo processes (CPU) with equal-cost trials
   (50 ms sleeps) against the same search in one process.
   Target: wall(2 processes) <= 1.15 x wall(serial) / 2.

Run: ``python benchmarks/bench_hyperopt.py`` (needs torch==2.13.0 for part 2; without torch
part 2 is reported as not run).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

from ato.adict import ADict
from ato.hyperopt import HyperBand
from ato.hyperopt.hyperband import DistributedHyperBand

SLEEP_S = 0.05
WORLD_SIZE = 2
SPEEDUP_GRID = {"x": dict(param_type="INTEGER", param_range=(0, 15), num_samples=16)}
OVERHEAD_GRID = {"x": dict(param_type="INTEGER", param_range=(0, 999), num_samples=1000)}
OPTUNA_TRIALS = 100
OPTUNA_RUNGS = 8


def _realistic_config() -> ADict:
    """A config of the size a training script has (about 40 keys, 3 levels)."""
    return ADict(
        x=0,
        data=ADict(name="cifar10", batch_size=128, workers=4, augment=ADict(flip=True, crop=32)),
        model=ADict(
            name="resnet50", depth=50, width=64, dropout=0.1, norm="bn", blocks=[3, 4, 6, 3]
        ),
        optim=ADict(name="adamw", lr=1e-3, betas=(0.9, 0.999), weight_decay=0.05, warmup=500),
        train=ADict(epochs=90, precision="bf16", grad_clip=1.0, ema=ADict(decay=0.999, every=1)),
        experiment=ADict(
            project_name="bench", sql=ADict(db_path="sqlite:///bench.db"), tags=["a", "b"]
        ),
    )


def _noop(config) -> float:
    return float(config["x"])


def bench_overhead(base: ADict, label: str) -> float:
    hb = HyperBand(base, OVERHEAD_GRID, halving_rate=0.5, num_min_samples=2, progress=False)
    trials = sum(hb.round_sizes())
    start = time.perf_counter()
    hb.main(_noop)()
    search_s = time.perf_counter() - start

    configs = hb.prepare_distributions(base, OVERHEAD_GRID)
    start = time.perf_counter()
    for _ in range(trials // len(configs) + 1):
        for config in configs:
            _noop(config)
    bare_s = (time.perf_counter() - start) * trials / (len(configs) * (trials // len(configs) + 1))

    per_trial_ms = search_s / trials * 1e3
    overhead_ms = (search_s - bare_s) / trials * 1e3
    verdict = "OK" if per_trial_ms <= 1.0 else "OVER TARGET"
    print(
        f"  {label:<22} {trials} trials  {per_trial_ms:.3f} ms/trial total, "
        f"{overhead_ms:.3f} ms/trial scheduling  (ratio to 1 ms target: {per_trial_ms / 1.0:.2f})  {verdict}"
    )
    return per_trial_ms


def _optuna_noop(trial) -> float:
    return float(trial.suggest_int("x", 0, 999))


def _optuna_noop_pruned(trial) -> float:
    import optuna

    x = float(trial.suggest_int("x", 0, 999))
    for step in range(1, OPTUNA_RUNGS + 1):
        trial.report(x, step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return x


def bench_optuna(pruned: bool) -> float | None:
    """Milliseconds per trial of an Optuna grid search over the same 1,000 values."""
    try:
        import optuna
    except ImportError:
        return None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.GridSampler({"x": list(range(1000))}, seed=0),
        pruner=optuna.pruners.SuccessiveHalvingPruner() if pruned else optuna.pruners.NopPruner(),
    )
    objective = _optuna_noop_pruned if pruned else _optuna_noop
    start = time.perf_counter()
    study.optimize(objective, n_trials=OPTUNA_TRIALS)
    return (time.perf_counter() - start) / len(study.trials) * 1e3


def compare_optuna(ato_ms: float) -> None:
    for pruned, label in ((False, "GridSampler"), (True, "GridSampler+SHPruner")):
        optuna_ms = bench_optuna(pruned)
        if optuna_ms is None:
            print("  optuna is not installed: peer comparison not run")
            return
        print(
            f"  Optuna {label:<22} {OPTUNA_TRIALS} trials  {optuna_ms:.3f} ms/trial;  "
            f"ratio ato / Optuna = {ato_ms / optuna_ms:.4f}  (lower = ato faster)"
        )


def _sleep_trial(config) -> float:
    time.sleep(SLEEP_S)
    return -abs(config["x"] - 11)


def bench_serial() -> float:
    hb = HyperBand(ADict(x=0), SPEEDUP_GRID, halving_rate=0.5, num_min_samples=2, progress=False)
    start = time.perf_counter()
    hb.main(_sleep_trial)()
    return time.perf_counter() - start


def worker(rank: int, port: int) -> None:
    import torch.distributed as dist

    dist.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD_SIZE
    )
    hb = DistributedHyperBand(
        ADict(x=0),
        SPEEDUP_GRID,
        halving_rate=0.5,
        num_min_samples=2,
        rank=rank,
        world_size=WORLD_SIZE,
        progress=False,
    )
    dist.barrier()
    start = time.perf_counter()
    result = hb.main(_sleep_trial)()
    elapsed = time.perf_counter() - start
    dist.barrier()
    print(json.dumps({"rank": rank, "wall": elapsed, "best": result.config.x}))
    dist.destroy_process_group()


def bench_distributed() -> float | None:
    try:
        import torch.distributed  # noqa: F401
    except ImportError:
        return None
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", str(rank), str(port)],
            stdout=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )
        for rank in range(WORLD_SIZE)
    ]
    outputs = [json.loads(p.communicate(timeout=300)[0].strip().splitlines()[-1]) for p in procs]
    if any(p.returncode for p in procs):
        raise RuntimeError("a distributed benchmark worker failed")
    assert len({o["best"] for o in outputs}) == 1, "ranks disagree on the best config"
    return max(o["wall"] for o in outputs)


def main() -> None:
    print("ato.hyperopt: scheduling overhead on a 1,000-config grid of no-op trials")
    ato_ms = bench_overhead(ADict(x=0), "one-key config")
    bench_overhead(_realistic_config(), "40-key nested config")
    print(f"  peer: Optuna on the first {OPTUNA_TRIALS} trials of the same grid (in-memory, no-op)")
    compare_optuna(ato_ms)

    print(
        f"ato.hyperopt: {WORLD_SIZE} gloo processes vs serial, equal-cost trials ({SLEEP_S * 1e3:.0f} ms)"
    )
    serial = bench_serial()
    parallel = bench_distributed()
    if parallel is None:
        print("  torch is not installed: distributed part not run")
        return
    ratio = parallel / (serial / WORLD_SIZE)
    verdict = "OK" if ratio <= 1.15 else "OVER TARGET"
    print(
        f"  serial {serial:.3f} s, {WORLD_SIZE} processes {parallel:.3f} s; "
        f"speed-up {serial / parallel:.2f}x; wall / (serial/{WORLD_SIZE}) = {ratio:.3f} "
        f"(target <= 1.15)  {verdict}"
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(int(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
