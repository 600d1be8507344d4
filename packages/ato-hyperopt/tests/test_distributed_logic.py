"""DistributedHyperBand without torch: world_size=1, argument checks, and the sharding and
merging logic with two ranks simulated by threads (a real gloo run is in integration_tests)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from helpers import ThreadGroup as _ThreadGroup

from ato.adict import ADict
from ato.hyperopt import (
    DistributedHyperBand,
    DistributedSetupError,
    HyperBand,
    SearchSettingError,
    TrialFailedError,
)

X = dict(param_type="INTEGER", param_range=(0, 10), num_samples=11)


def test_world_size_one_needs_no_process_group() -> None:
    hb = DistributedHyperBand(
        ADict(), {"x": X}, halving_rate=0.5, num_min_samples=2, rank=0, world_size=1
    )
    result = hb.main(lambda config: config.x)()
    plain = HyperBand(ADict(), {"x": X}, halving_rate=0.5, num_min_samples=2).main(
        lambda config: config.x
    )()
    assert result.config == plain.config and result.metric == plain.metric
    assert [len(r) for r in result.logs] == [len(r) for r in plain.logs]


def test_world_size_two_without_a_process_group_is_a_clear_error() -> None:
    hb = DistributedHyperBand(
        ADict(), {"x": X}, halving_rate=0.5, num_min_samples=2, rank=1, world_size=2
    )
    with pytest.raises(DistributedSetupError, match="torch"):
        hb.main(lambda config: config.x)()


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"rank": 2, "world_size": 2}, "rank must be an int in"),
        ({"rank": -1, "world_size": 2}, "rank must be an int in"),
        ({"world_size": 0}, "world_size must be an int >= 1"),
        ({"backend": "mpi"}, "backend must be one of pytorch"),
    ],
)
def test_bad_distribution_settings(kwargs: dict, fragment: str) -> None:
    with pytest.raises(SearchSettingError, match=fragment):
        DistributedHyperBand(ADict(), {"x": X}, halving_rate=0.5, num_min_samples=2, **kwargs)


def _run_ranks(
    size: int, trial, spaces_for=lambda rank: {"x": X}, num_min_samples: int = 2, **options
):
    group = _ThreadGroup(size)
    results: dict[int, object] = {}
    evaluated: list[tuple[int, int, int]] = []
    lock = threading.Lock()

    class ThreadHyperBand(DistributedHyperBand):
        def all_gather_object(self, obj):
            return group.gather(self.rank, obj)

    def worker(rank: int) -> None:
        hb = ThreadHyperBand(
            ADict(),
            spaces_for(rank),
            halving_rate=0.5,
            num_min_samples=num_min_samples,
            rank=rank,
            world_size=size,
            **options,
        )

        def recorded(config):
            with lock:
                evaluated.append((rank, config.__num_halved__, config.x))
            return trial(config)

        try:
            results[rank] = hb.main(recorded)()
        except Exception as exc:
            results[rank] = exc

    threads = [threading.Thread(target=worker, args=(r,)) for r in range(size)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results, evaluated


@pytest.mark.parametrize("size", [2, 3])
def test_ranks_split_each_round_and_agree_on_the_result(size: int) -> None:
    results, evaluated = _run_ranks(size, lambda config: -abs(config.x - 6))
    first = results[0]
    assert isinstance(first, ADict)
    assert all(results[r] == first for r in range(size))
    assert first.config.x == 6
    per_round = Counter((k, x) for _, k, x in evaluated)
    assert all(count == 1 for count in per_round.values())
    for k, round_log in enumerate(first.logs):
        assert sorted(x for (kk, x) in per_round if kk == k) == sorted(e.x for e in round_log)
    ranks_in_round0 = Counter(rank for rank, k, _ in evaluated if k == 0)
    assert max(ranks_in_round0.values()) - min(ranks_in_round0.values()) <= 1
    assert [rank for rank, k, _ in evaluated if k == len(first.logs) - 1] == [0]


def test_fatal_trial_on_one_rank_stops_every_rank() -> None:
    def trial(config):
        if config.x == 3:
            raise RuntimeError("rank-local crash")
        return config.x

    results, _ = _run_ranks(2, trial, on_error="raise")
    raised = {type(e) for e in results.values()}
    assert raised == {RuntimeError, TrialFailedError}
    failed = next(e for e in results.values() if isinstance(e, TrialFailedError))
    assert "rank-local crash" in str(failed)


def test_ranks_with_different_grids_all_stop_with_a_clear_error() -> None:
    def spaces_for(rank: int) -> dict:
        return {"x": {**X, "num_samples": 11 - rank}}

    results, evaluated = _run_ranks(2, lambda config: config.x, spaces_for)
    assert all(isinstance(e, DistributedSetupError) for e in results.values())
    assert "ranks disagree on the search grid" in str(results[0])
    assert evaluated == []


def test_function_categories_match_across_ranks_despite_different_addresses() -> None:
    def make_activation(rank: int):
        def relu(v):
            return max(v, 0.0) + 0 * rank

        return relu

    def spaces_for(rank: int) -> dict:
        # each rank builds its own function object, as separate processes would
        return {"x": X, "act": {"param_type": "CATEGORY", "categories": [make_activation(rank)]}}

    results, _ = _run_ranks(2, lambda config: -abs(config.x - 6), spaces_for)
    assert all(isinstance(r, ADict) for r in results.values())
    assert results[0].config.x == results[1].config.x == 6


@pytest.mark.parametrize(
    "spaces_for",
    [
        lambda rank: {"x": {**X, "param_range": (rank, 10 + rank)}},
        lambda rank: {"x": {"param_type": "CATEGORY", "categories": [0, 1, 2 + rank]}},
        lambda rank: {"y" if rank else "x": X},
    ],
    ids=["shifted-range", "one-category", "renamed"],
)
def test_ranks_whose_grids_have_the_same_size_but_other_values_disagree(spaces_for) -> None:
    results, evaluated = _run_ranks(2, lambda config: 0.0, spaces_for)
    assert all(isinstance(e, DistributedSetupError) for e in results.values())
    assert all("ranks disagree on the search grid" in str(e) for e in results.values())
    assert evaluated == []


def test_default_distribution_is_a_single_rank_zero_process() -> None:
    hb = DistributedHyperBand(ADict(), {"x": X}, halving_rate=0.5, num_min_samples=2)
    assert (hb.rank, hb.world_size, hb.backend) == (0, 1, "pytorch")
    assert list(hb.shard(5)) == [0, 1, 2, 3, 4]
    result = hb.main(lambda config: config.x)()
    assert result.config.x == 10 and [len(r) for r in result.logs] == [11, 5, 2, 1]


@pytest.mark.parametrize("size", [2, 3])
def test_ranks_agree_when_the_last_halving_round_keeps_several_configs(size: int) -> None:
    results, evaluated = _run_ranks(size, lambda config: -abs(config.x - 6), num_min_samples=6)
    first = results[0]
    assert isinstance(first, ADict) and all(results[r] == first for r in range(size))
    assert [[e.x for e in r] for r in first.logs] == [list(range(11)), [6]]
    assert sorted((k, x) for _, k, x in evaluated) == [(0, x) for x in range(11)] + [(1, 6)]
    assert [rank for rank, k, _ in evaluated if k == 1] == [0]


def test_tracker_and_mode_reach_the_distributed_search() -> None:
    runs: list[dict] = []

    class Tracker:
        def run(self, tags=None):  # type: ignore[no-untyped-def]
            runs.append({"tags": list(tags or [])})
            return len(runs)

        def log_metric(self, key, value, step=None):  # type: ignore[no-untyped-def]
            runs[-1][key] = value

        def finish(self, status="completed"):  # type: ignore[no-untyped-def]
            runs[-1]["status"] = status

    tracker = Tracker()
    hb = DistributedHyperBand(ADict(), {"x": X}, 0.5, 2, tracker, "min")
    assert hb.tracker is tracker and hb.mode == "min"
    result = hb.main(lambda config: config.x)()
    assert result.config.x == 0 and result.metric == 0
    assert len(runs) == 11 + 5 + 2 + 1 and all(r["status"] == "completed" for r in runs)
