"""DistributedHyperBand for real: two processes on the CPU with the gloo backend."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
from collections import Counter

import pytest

WORKER = pathlib.Path(__file__).with_name("hyperopt_dist_worker.py")
WORLD_SIZE = 2


@pytest.fixture(scope="module")
def rank_outputs(tmp_path_factory) -> list[dict]:
    """Launch the worker with torchrun: WORLD_SIZE processes, gloo on the CPU."""
    out_dir = tmp_path_factory.mktemp("hyperopt-dist")
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={WORLD_SIZE}",
        str(WORKER),
        str(out_dir),
    ]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"torchrun failed:\n{proc.stdout}\n{proc.stderr}"
    return [json.loads((out_dir / f"rank{r}.json").read_text()) for r in range(WORLD_SIZE)]


def test_every_rank_returns_the_identical_result(rank_outputs: list[dict]) -> None:
    first = rank_outputs[0]["result"]
    assert all(out["result"] == first for out in rank_outputs[1:])
    assert (first["config"]["x"], first["config"]["opt"]) == (6, "adam")
    assert first["metric"] == pytest.approx(0.5 + 0.01 * (len(first["logs"]) - 1))


def test_round_sizes_do_not_all_divide_by_the_world_size(rank_outputs: list[dict]) -> None:
    sizes = rank_outputs[0]["round_sizes"]
    assert sizes[0] == 33 and any(s % WORLD_SIZE for s in sizes)
    assert [len(r) for r in rank_outputs[0]["result"]["logs"]] == sizes


def test_every_config_of_each_round_is_evaluated_exactly_once(rank_outputs: list[dict]) -> None:
    counts = Counter((k, x, opt) for out in rank_outputs for k, x, opt in out["evaluated"])
    assert set(counts.values()) == {1}
    logs = rank_outputs[0]["result"]["logs"]
    for k, round_log in enumerate(logs):
        logged = sorted((e["x"], e["opt"]) for e in round_log)
        done = sorted((x, opt) for kk, x, opt in counts if kk == k)
        assert logged == done
    for k, round_log in enumerate(logs):
        shares = [sum(1 for kk, *_ in out["evaluated"] if kk == k) for out in rank_outputs]
        assert sum(shares) == len(round_log)
        assert max(shares) - min(shares) <= 1, f"round {k} split unevenly: {shares}"


def test_failed_trial_is_recorded_once_and_the_search_goes_on(rank_outputs: list[dict]) -> None:
    round0 = rank_outputs[0]["result"]["logs"][0]
    failed = [e for e in round0 if "__error__" in e]
    assert [(e["x"], e["opt"]) for e in failed] == [(7, "lamb")]
    assert failed[0]["__metric__"] == "-inf"


def test_process_group_survives_the_search(rank_outputs: list[dict]) -> None:
    assert all(out["group_alive_after_search"] for out in rank_outputs)


def test_world_size_one_runs_with_torch_installed_but_no_process_group() -> None:
    import torch.distributed as dist

    from ato.adict import ADict
    from ato.hyperopt import HyperBand
    from ato.hyperopt.hyperband import DistributedHyperBand

    assert not dist.is_initialized()
    spaces = {"x": dict(param_type="INTEGER", param_range=(0, 10), num_samples=11)}
    single = DistributedHyperBand(
        ADict(), spaces, halving_rate=0.3, num_min_samples=2, rank=0, world_size=1
    ).main(lambda config: -abs(config.x - 4))()
    plain = HyperBand(ADict(), spaces, halving_rate=0.3, num_min_samples=2).main(
        lambda config: -abs(config.x - 4)
    )()
    assert not dist.is_initialized()
    assert single.config == plain.config and single.config.x == 4
    assert [[e.x for e in r] for r in single.logs] == [[e.x for e in r] for r in plain.logs]


def test_setup_errors_name_the_problem(tmp_path) -> None:
    import torch.distributed as dist

    from ato.adict import ADict
    from ato.hyperopt import DistributedSetupError
    from ato.hyperopt.hyperband import DistributedHyperBand

    spaces = {"x": dict(param_type="INTEGER", param_range=(0, 3), num_samples=4)}

    def search(world_size: int):
        hb = DistributedHyperBand(
            ADict(), spaces, halving_rate=0.5, num_min_samples=2, rank=0, world_size=world_size
        )
        return hb.main(lambda config: config.x)

    with pytest.raises(DistributedSetupError, match=r"not initialized; call torch\.distributed"):
        search(2)()
    dist.init_process_group(
        "gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1
    )
    try:
        with pytest.raises(DistributedSetupError, match="process group has rank=0, world_size=1"):
            search(2)()
        assert search(1)().config.x == 3
        assert dist.is_initialized()
    finally:
        dist.destroy_process_group()
