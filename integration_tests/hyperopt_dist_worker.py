"""One rank of a DistributedHyperBand search over gloo (launched by test_hyperopt_distributed.py).

Usage: torchrun --standalone --nproc-per-node=2 hyperopt_dist_worker.py OUT_DIR
(torchrun sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT); each rank writes
OUT_DIR/rank<RANK>.json.

Writes the search result, the trials this rank evaluated and whether the process group was
still usable after the search.
"""

from __future__ import annotations

import json
import math
import os
import sys

import torch.distributed as dist

from ato.adict import ADict
from ato.hyperopt.hyperband import DistributedHyperBand

SPACES = ADict(
    x=ADict(param_type="INTEGER", param_range=(0, 10), num_samples=11),
    opt=ADict(param_type="CATEGORY", categories=["sgd", "adam", "lamb"]),
)


def main(out_dir: str) -> None:
    rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    out_path = os.path.join(out_dir, f"rank{rank}.json")
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    evaluated = []

    hb = DistributedHyperBand(
        ADict(x=0, opt="sgd", epochs=1),
        SPACES,
        halving_rate=0.3,
        num_min_samples=2,
        mode="max",
        rank=rank,
        world_size=world_size,
        progress=False,
    )

    @hb.main
    def train(config):
        evaluated.append([config.__num_halved__, config.x, config.opt])
        if config.x == 7 and config.opt == "lamb":
            raise RuntimeError("simulated divergence")
        bonus = {"sgd": 0.0, "adam": 0.5, "lamb": 0.25}[config.opt]
        return -abs(config.x - 6) + bonus + 0.01 * config.__num_halved__

    result = train()
    alive = dist.is_initialized()
    check = [rank]
    dist.all_gather_object([None] * world_size, check)  # the group still works after the search
    payload = {
        "rank": rank,
        "result": _plain(result.to_dict()),
        "evaluated": evaluated,
        "group_alive_after_search": alive,
        "round_sizes": hb.round_sizes(),
    }
    with open(out_path, "w", encoding="utf-8") as fh:
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
    main(sys.argv[1])
