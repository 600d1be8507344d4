from __future__ import annotations

import itertools
import math
from collections import Counter

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ato.adict import ADict
from ato.hyperopt import HyperBand, SearchSettingError, TrialResultError

X = dict(param_type="INTEGER", param_range=(0, 9), num_samples=10)


def _score(config) -> float:
    """Stand-in training: best at lr=1e-3, batch 64, resnet101; improves with the round."""
    lr_term = -abs(math.log10(config.lr) + 3)
    bs_term = -abs(math.log2(config.batch_size) - 6) / 10
    model_term = 0.5 if config.model == "resnet101" else 0.0
    return lr_term + bs_term + model_term + 0.01 * config.__num_halved__


def test_seed_example_finds_the_best_config(seed_spaces: ADict) -> None:
    hb = HyperBand(
        ADict(lr=0.1, batch_size=32, model="x"),
        seed_spaces,
        halving_rate=0.3,
        num_min_samples=3,
        mode="max",
    )

    @hb.main
    def train(config):
        return _score(config)

    result = train()
    assert isinstance(result, ADict)
    assert (result.config.lr, result.config.batch_size, result.config.model) == (
        1e-3,
        64,
        "resnet101",
    )
    assert result.metric == pytest.approx(0.5 + 0.03)
    assert [len(r) for r in result.logs] == [40, 12, 3, 1]
    for k, round_log in enumerate(result.logs):
        assert all(entry.__num_halved__ == k for entry in round_log)
        assert all("__metric__" in entry for entry in round_log)
    assert result.config.__num_halved__ == 3
    assert "__metric__" not in result.config


def test_each_round_keeps_the_top_fraction_of_the_previous_one() -> None:
    hb = HyperBand(ADict(x=0), {"x": X}, halving_rate=0.5, num_min_samples=2)
    result = hb.main(lambda config: config.x)()
    rounds = [[e.x for e in r] for r in result.logs]
    assert rounds == [list(range(10)), [9, 8, 7, 6, 5], [9, 8], [9]]
    assert result.metric == 9


def test_min_mode_and_schedule_helpers() -> None:
    hb = HyperBand({"x": 0}, {"x": X}, halving_rate=0.3, num_min_samples=3, mode="min")
    assert hb.round_sizes() == [10, 3, 1]
    assert hb.num_generations() == 3
    result = hb.main(lambda config: (config["x"] - 4) ** 2)()
    assert result.config.x == 4 and result.metric == 0
    assert [len(r) for r in result.logs] == [10, 3, 1]


def test_training_steps_grow_geometrically_and_end_at_max_steps(seed_spaces: ADict) -> None:
    hb = HyperBand(ADict(), seed_spaces, halving_rate=0.3, num_min_samples=3)
    steps = hb.compute_optimized_initial_training_steps(100_000)
    assert steps == [2700, 9000, 30000, 100000]
    assert len(steps) == hb.num_generations()
    small = hb.compute_optimized_initial_training_steps(3)
    assert small[-1] == 3 and all(s >= 1 for s in small) and small == sorted(small)
    with pytest.raises(SearchSettingError, match=r"^max_steps must be an int >= 1, got 0$"):
        hb.compute_optimized_initial_training_steps(0)


@settings(max_examples=200, deadline=None)
@given(
    rate=st.floats(0.05, 0.95),
    grid=st.integers(1, 200),
    min_samples=st.integers(1, 10),
    max_steps=st.integers(1, 10**7),
)
def test_budgets_are_positive_geometric_and_end_at_max_steps(
    rate: float, grid: int, min_samples: int, max_steps: int
) -> None:
    assume(min_samples <= grid)
    spaces = {"x": dict(param_type="INTEGER", param_range=(1, grid), num_samples=grid)}
    hb = HyperBand(ADict(), spaces, halving_rate=rate, num_min_samples=min_samples)
    steps = hb.compute_optimized_initial_training_steps(max_steps)
    assert len(steps) == hb.num_generations() == len(hb.round_sizes())
    assert steps[-1] == max_steps
    assert all(type(s) is int and s >= 1 for s in steps)
    assert steps == sorted(steps)
    for k, s in enumerate(steps):
        exact = max_steps * rate ** (len(steps) - 1 - k)
        assert exact - 1e-6 * max_steps <= s <= max(1, exact + 1)


@settings(max_examples=200, deadline=None)
@given(rate=st.floats(0.05, 0.95), grid=st.integers(1, 300), min_samples=st.integers(1, 10))
def test_round_sizes_follow_the_halving_rules(rate: float, grid: int, min_samples: int) -> None:
    assume(min_samples <= grid)
    spaces = {"x": dict(param_type="INTEGER", param_range=(1, grid), num_samples=grid)}
    hb = HyperBand(ADict(), spaces, halving_rate=rate, num_min_samples=min_samples)
    sizes = hb.round_sizes()
    assert sizes[-1] == 1  # the final re-evaluation
    halving = sizes[:-1]
    assert not halving or halving[0] == grid
    for n, nxt in itertools.pairwise(halving):
        assert n >= min_samples and n > 1  # a round runs only with enough configs
        assert nxt == max(1, math.floor(n * rate + 1e-9))  # top fraction, at least one
    if halving:
        after_last = max(1, math.floor(halving[-1] * rate + 1e-9))
        assert after_last < min_samples or after_last == 1  # stop: too few remain
    else:
        assert grid < min_samples or grid == 1


def test_budget_indexed_by_num_halved_in_a_trial(seed_spaces: ADict) -> None:
    hb = HyperBand(ADict(), seed_spaces, halving_rate=0.3, num_min_samples=3)
    steps = hb.compute_optimized_initial_training_steps(1000)
    seen = Counter()

    @hb.main
    def train(config):
        seen[steps[config.__num_halved__]] += 1
        return _score(config)

    train()
    assert seen == Counter({steps[0]: 40, steps[1]: 12, steps[2]: 3, steps[3]: 1})


def test_launcher_passes_its_arguments_to_every_trial() -> None:
    hb = HyperBand(ADict(), {"x": X}, halving_rate=0.5, num_min_samples=2)
    calls = []

    @hb.main
    def train(config, scale, offset=0):
        calls.append((scale, offset))
        return config.x * scale + offset

    result = train(2, offset=1)
    assert result.metric == 19
    assert set(calls) == {(2, 1)}


def test_ties_keep_grid_order() -> None:
    hb = HyperBand(ADict(), {"x": X}, halving_rate=0.5, num_min_samples=2)
    result = hb.main(lambda config: 1.0)()
    assert [e.x for e in result.logs[1]] == [0, 1, 2, 3, 4]
    assert result.config.x == 0


def test_ties_in_later_rounds_also_go_to_the_first_config_on_the_grid() -> None:
    hb = HyperBand(ADict(), {"x": X}, halving_rate=0.5, num_min_samples=2)
    result = hb.main(lambda config: config.x if config.__num_halved__ == 0 else 1.0)()
    assert [e.x for e in result.logs[1]] == [9, 8, 7, 6, 5]
    assert sorted(e.x for e in result.logs[2]) == [5, 6]
    assert result.config.x == 5


def test_nan_ranks_last_in_both_modes() -> None:
    for mode in ("max", "min"):
        hb = HyperBand(ADict(), {"x": X}, halving_rate=0.5, num_min_samples=2, mode=mode)
        result = hb.main(lambda config: math.nan if config.x < 9 else 5.0)()
        assert result.config.x == 9 and result.metric == 5.0
        assert math.isnan(result.logs[0][0].__metric__)


def test_failing_trials_get_the_worst_metric_and_the_search_goes_on(caplog) -> None:
    hb = HyperBand(ADict(), {"x": X}, halving_rate=0.5, num_min_samples=2)

    @hb.main
    def train(config):
        if config.x % 2:
            raise RuntimeError(f"diverged at x={config.x}")
        return config.x

    result = train()
    assert result.config.x == 8
    failed = [e for e in result.logs[0] if "__error__" in e]
    assert [e.x for e in failed] == [1, 3, 5, 7, 9]
    assert failed[0].__metric__ == -math.inf
    assert failed[0].__error__ == "RuntimeError: diverged at x=1"
    assert "failed; recorded with the worst metric" in caplog.text


def test_failure_in_min_mode_is_plus_infinity() -> None:
    hb = HyperBand(ADict(), {"x": X}, halving_rate=0.5, num_min_samples=2, mode="min")
    result = hb.main(lambda config: 1 / config.x)()
    assert result.logs[0][0].__metric__ == math.inf
    assert result.config.x == 9


def test_on_error_raise_stops_the_search() -> None:
    hb = HyperBand(ADict(), {"x": X}, halving_rate=0.5, num_min_samples=2, on_error="raise")
    seen = []

    def train(config):
        seen.append(config.x)
        if config.x == 3:
            raise KeyError("boom")
        return 0.0

    with pytest.raises(KeyError, match="boom"):
        hb.main(train)()
    assert seen == [0, 1, 2, 3]


@pytest.mark.parametrize("value", [None, "0.9", True, {"acc": 1.0}, [1.0]])
def test_trial_returning_a_non_number_is_an_error(value) -> None:
    hb = HyperBand(ADict(), {"x": X}, halving_rate=0.5, num_min_samples=2)
    with pytest.raises(TrialResultError, match="must return its metric as a real number") as info:
        hb.main(lambda config: value)()
    assert "'x': 0" in str(info.value)


def test_number_like_results_are_accepted() -> None:
    class Scalar:
        def __init__(self, v: float) -> None:
            self.v = v

        def item(self) -> float:
            return self.v

    hb = HyperBand(ADict(), {"x": X}, halving_rate=0.5, num_min_samples=2)
    result = hb.main(lambda config: Scalar(config.x / 2))()
    assert result.metric == 4.5 and type(result.metric) is float


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"halving_rate": 0}, "halving_rate"),
        ({"halving_rate": 1}, "halving_rate"),
        ({"halving_rate": 1.5}, "halving_rate"),
        ({"halving_rate": "0.5"}, "halving_rate"),
        ({"num_min_samples": 0}, "num_min_samples"),
        ({"num_min_samples": 2.0}, "num_min_samples"),
        ({"mode": "maximize"}, "mode must be 'max' or 'min'"),
        ({"on_error": "ignore"}, "on_error"),
        ({"num_min_samples": 11}, "the grid has 10 configs, fewer than num_min_samples=11"),
    ],
)
def test_bad_settings_raise_naming_the_setting(kwargs: dict, fragment: str) -> None:
    settings = {"halving_rate": 0.5, "num_min_samples": 2, **kwargs}
    with pytest.raises(SearchSettingError, match=fragment):
        HyperBand(ADict(), {"x": X}, **settings)


def test_single_config_grid_runs_only_the_final_evaluation() -> None:
    hb = HyperBand(
        ADict(),
        {"x": dict(param_type="CATEGORY", categories=[7])},
        halving_rate=0.5,
        num_min_samples=1,
    )
    assert hb.round_sizes() == [1]
    result = hb.main(lambda config: config.x)()
    assert result.metric == 7 and len(result.logs) == 1


def test_trial_mutations_do_not_leak_into_other_trials() -> None:
    base = ADict(model=ADict(layers=[1, 2]))
    hb = HyperBand(base, {"x": X}, halving_rate=0.5, num_min_samples=2)

    @hb.main
    def train(config):
        assert config.model.layers == [1, 2]
        config.model.layers.append(3)
        return config.x

    result = train()
    assert base.model.layers == [1, 2]
    assert result.logs[0][0].model.layers == [1, 2]


def test_dataclass_config_search() -> None:
    import dataclasses

    @dataclasses.dataclass
    class Config:
        x: int = 0
        name: str = "run"

    hb = HyperBand(Config(), {"x": X}, halving_rate=0.5, num_min_samples=2)
    seen_types = set()

    @hb.main
    def train(config):
        seen_types.add(type(config))
        return config.x + config.__num_halved__

    result = train()
    assert seen_types == {Config}
    assert result.config == ADict(x=9, name="run", __num_halved__=3)


def test_search_spaces_may_be_plain_dicts_and_config_source_is_kept() -> None:
    spaces = {"optimizer": {"lr": dict(param_type="FLOAT", param_range=(0.1, 0.3), num_samples=3)}}
    base = {"optimizer": {"lr": 1.0, "momentum": 0.9}}
    hb = HyperBand(base, spaces, halving_rate=0.5, num_min_samples=2)
    assert hb.config is base

    @hb.main
    def train(config):
        assert type(config) is dict
        return -abs(config["optimizer"]["lr"] - 0.2)

    result = train()
    assert result.config.optimizer == {"lr": 0.2, "momentum": 0.9}


def test_parameters_named_like_adict_methods(caplog) -> None:
    import logging

    caplog.set_level(logging.INFO, logger="ato.hyperopt")
    spaces = ADict(
        items=ADict(param_type="INTEGER", param_range=(1, 4), num_samples=4),
        get_path=ADict(param_type="CATEGORY", categories=["a"]),
        optim=ADict(values=ADict(param_type="CATEGORY", categories=[1, 2])),
    )
    base = ADict(items=0, get_path="", optim=ADict(values=0))
    hb = HyperBand(base, spaces, halving_rate=0.5, num_min_samples=2)
    result = hb.main(lambda config: config["items"] * config["optim"]["values"])()
    assert result.config["items"] == 4 and result.config["optim"]["values"] == 2
    assert "'items': 4" in caplog.text


@pytest.mark.parametrize(
    ("grid", "sizes", "rounds"),
    [
        # 10 configs, rate 0.5, at least 6 for another round: round 0 keeps 5 and stops there
        (10, [10, 1], [list(range(10)), [6]]),
        # 20 configs: 20 -> 10 -> 5 (< 6): the last halving round leaves 5 configs
        (20, [20, 10, 1], [list(range(20)), [6, 5, 7, 4, 8, 3, 9, 2, 10, 1], [6]]),
    ],
)
@pytest.mark.parametrize("mode", ["max", "min"])
def test_a_last_halving_round_that_keeps_several_configs_reevaluates_only_the_best(
    grid: int, sizes: list[int], rounds: list[list[int]], mode: str
) -> None:
    space = {"x": dict(param_type="INTEGER", param_range=(0, grid - 1), num_samples=grid)}
    hb = HyperBand(ADict(x=0), space, halving_rate=0.5, num_min_samples=6, mode=mode)
    assert hb.round_sizes() == sizes and hb.num_generations() == len(sizes)
    sign = 1 if mode == "max" else -1
    calls: list[tuple[int, int]] = []

    def trial(config) -> float:
        calls.append((config.__num_halved__, config.x))
        return sign * (-abs(config.x - 6) + 0.25 * config.__num_halved__)

    result = hb.main(trial)()
    assert [[e.x for e in r] for r in result.logs] == rounds
    assert calls == [(k, x) for k, r in enumerate(rounds) for x in r]
    assert [e.__num_halved__ for r in result.logs for e in r] == [
        k for k, r in enumerate(rounds) for _ in r
    ]
    final = len(sizes) - 1
    assert result.config.x == 6 and result.config.__num_halved__ == final
    assert result.metric == sign * 0.25 * final
    assert result.logs[-1][0].__metric__ == result.metric


def test_the_halving_settings_are_kept_on_the_search() -> None:
    hb = HyperBand(ADict(x=0), {"x": X}, halving_rate=0.25, num_min_samples=3)
    assert (hb.halving_rate, hb.num_min_samples) == (0.25, 3)


@pytest.mark.parametrize(
    ("rate", "n", "kept"), [(0.5, 10, 5), (0.5, 3, 1), (0.5, 1, 1), (0.3, 40, 12), (0.3, 3, 1)]
)
def test_num_kept_is_the_floor_of_the_fraction_and_at_least_one(
    rate: float, n: int, kept: int
) -> None:
    hb = HyperBand(ADict(x=0), {"x": X}, halving_rate=rate, num_min_samples=2)
    assert hb.num_kept(n) == kept and type(hb.num_kept(n)) is int
