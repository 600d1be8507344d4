"""Samplers and search spaces: reproducibility, distribution shapes, conditions, grid limits and
number-range edge cases (issue 15, items 7 and 8)."""

from __future__ import annotations

import math
import random
from typing import Any

import optuna
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ato.adict import ADict
from ato.hyperopt import (
    GridSampler,
    HyperBand,
    OptunaSampler,
    RandomSampler,
    SearchSettingError,
    SearchSpace,
    SearchSpaceError,
)
from ato.hyperopt.space import grid_values

SPACES = {
    "lr": dict(param_type="FLOAT", param_range=(1e-5, 1e-1), space_type="LOG"),
    "width": dict(param_type="INTEGER", param_range=(8, 512), space_type="LOG"),
    "depth": dict(param_type="INTEGER", param_range=(1, 6)),
    "dropout": dict(param_type="FLOAT", param_range=(0.0, 0.5)),
    "optim": dict(param_type="CATEGORY", categories=["sgd", "adam", "lamb"]),
}


def _draw(sampler: RandomSampler, spaces: dict, n: int) -> list[dict]:
    sampler.setup(SearchSpace(spaces), "max")
    return [sampler.ask(i) for i in range(n)]


def test_random_sampler_with_a_seed_repeats_and_other_seeds_differ() -> None:
    first = _draw(RandomSampler(seed=7), SPACES, 50)
    again = _draw(RandomSampler(seed=7), SPACES, 50)
    other = _draw(RandomSampler(seed=8), SPACES, 50)
    assert first == again
    assert first != other
    sampler = RandomSampler(seed=7)
    assert _draw(sampler, SPACES, 50) == _draw(sampler, SPACES, 50)  # setup restarts the stream


def test_random_values_are_continuous_typed_and_inside_their_ranges() -> None:
    points = _draw(RandomSampler(seed=1), SPACES, 2000)
    assert all(1e-5 <= p["lr"] <= 1e-1 and type(p["lr"]) is float for p in points)
    assert all(8 <= p["width"] <= 512 and type(p["width"]) is int for p in points)
    assert {p["depth"] for p in points} == set(range(1, 7))
    assert {p["optim"] for p in points} == {"sgd", "adam", "lamb"}
    assert len({p["lr"] for p in points}) == 2000  # not grid points
    assert list(points[0]) == list(SPACES)


def test_log_uniform_float_puts_equal_mass_in_each_decade() -> None:
    spaces = {"lr": dict(param_type="FLOAT", param_range=(1e-4, 1.0), space_type="LOG")}
    values = [p["lr"] for p in _draw(RandomSampler(seed=0), spaces, 20000)]
    for decade in range(-4, 0):
        share = sum(10**decade <= v < 10 ** (decade + 1) for v in values) / len(values)
        assert share == pytest.approx(0.25, abs=0.02), decade
    linear = {"x": dict(param_type="FLOAT", param_range=(1e-4, 1.0))}
    xs = [p["x"] for p in _draw(RandomSampler(seed=0), linear, 20000)]
    assert sum(x < 0.1 for x in xs) / len(xs) == pytest.approx(0.1, abs=0.015)


def test_log_integer_weights_follow_the_log_axis() -> None:
    spaces = {"n": dict(param_type="INTEGER", param_range=(1, 1024), space_type="LOG")}
    values = [p["n"] for p in _draw(RandomSampler(seed=3), spaces, 20000)]
    expected = math.log(32.5 / 0.5) / math.log(1024.5 / 0.5)  # P(n <= 32)
    assert sum(v <= 32 for v in values) / len(values) == pytest.approx(expected, abs=0.02)
    assert min(values) == 1 and max(values) <= 1024


def test_grid_sampler_walks_the_grid_then_stops(seed_spaces: ADict) -> None:
    sampler = GridSampler()
    sampler.setup(SearchSpace(seed_spaces), "max")
    points = [sampler.ask(i) for i in range(sampler.size())]
    assert points == HyperBand.grid_points(seed_spaces) and len(points) == 40
    assert sampler.ask(40) is None


# -- conditions ---------------------------------------------------------------------------
COND = {
    "optim.name": dict(param_type="CATEGORY", categories=["sgd", "adam", "rmsprop"]),
    "optim.momentum": dict(
        param_type="FLOAT", param_range=(0.0, 0.9), num_samples=3, condition={"optim.name": "sgd"}
    ),
    "optim.nesterov": dict(
        param_type="CATEGORY", categories=[True, False], condition={"optim.momentum": [0.45, 0.9]}
    ),
    "optim.beta2": dict(
        param_type="FLOAT",
        param_range=(0.9, 0.999),
        num_samples=2,
        condition={"optim.name": ["adam", "rmsprop"]},
    ),
}


def test_grid_is_not_multiplied_by_inactive_parameters() -> None:
    points = SearchSpace(COND).grid_points()
    # sgd: momentum 0 (no nesterov) + momentum 0.45/0.9 x nesterov 2 = 5; adam, rmsprop: 2 each
    assert len(points) == 5 + 2 + 2 == SearchSpace(COND).grid_size()
    for point in points:
        assert ("optim.momentum" in point) == (point["optim.name"] == "sgd")
        assert ("optim.beta2" in point) == (point["optim.name"] != "sgd")
        assert ("optim.nesterov" in point) == (point.get("optim.momentum") in (0.45, 0.9))
    assert len({tuple(sorted(p.items())) for p in points}) == len(points)


def test_random_points_hold_exactly_the_active_parameters() -> None:
    sampler = RandomSampler(seed=2)
    for point in _draw(sampler, COND, 300):
        assert ("optim.momentum" in point) == (point["optim.name"] == "sgd")
        assert ("optim.beta2" in point) == (point["optim.name"] in ("adam", "rmsprop"))
        assert "optim.nesterov" not in point  # a continuous momentum never equals 0.45/0.9


def test_inactive_parameters_keep_the_base_config_value() -> None:
    from ato.hyperopt import Search, SuccessiveHalvingSchedule

    seen = []
    search = Search(
        ADict(optim=ADict(name="sgd", momentum=0.5, beta2=0.99)),
        COND,
        sampler=GridSampler(),
        schedule=SuccessiveHalvingSchedule(0.5, 2),
        progress=False,
    )
    search.main(lambda config: seen.append(config.optim.to_dict()) or 0.0)()
    adam = [c for c in seen if c["name"] == "adam"]
    assert adam and all(c["momentum"] == 0.5 for c in adam)
    assert {c["beta2"] for c in adam} == {0.9, 0.999}


@pytest.mark.parametrize(
    ("spaces", "fragment"),
    [
        (
            {
                "a": dict(param_type="CATEGORY", categories=[1, 2], condition={"b": 1}),
                "b": dict(param_type="CATEGORY", categories=[1, 2], condition={"a": 1}),
            },
            "cycle: a -> b -> a",
        ),
        (
            {
                "a": dict(param_type="CATEGORY", categories=[1], condition={"c": 1}),
                "b": dict(param_type="CATEGORY", categories=[1], condition={"a": 1}),
                "c": dict(param_type="CATEGORY", categories=[1], condition={"b": 1}),
            },
            "cycle",
        ),
        (
            {"a": dict(param_type="CATEGORY", categories=[1], condition={"a": 1})},
            "cannot name itself",
        ),
        (
            {
                "optim.name": dict(param_type="CATEGORY", categories=["sgd"]),
                "m": dict(param_type="CATEGORY", categories=[1], condition={"optim.nmae": "sgd"}),
            },
            "'optim.nmae', which is not a parameter of the search space. Did you mean 'optim.name'",
        ),
        (
            {
                "optim.name": dict(param_type="CATEGORY", categories=["sgd"]),
                "m": dict(param_type="CATEGORY", categories=[1], condition={"optim.name": "adam"}),
            },
            "can never hold",
        ),
        (
            {"m": dict(param_type="CATEGORY", categories=[1], condition="optim.name=sgd")},
            "condition must be a non-empty mapping",
        ),
    ],
)
def test_bad_conditions_are_search_space_errors(spaces: dict, fragment: str) -> None:
    with pytest.raises(SearchSpaceError, match=fragment.replace("(", r"\(").replace(".", r"\.")):
        SearchSpace(spaces)


# -- number ranges and grid size (issue 15, items 7 and 8) ------------------------------------
def test_huge_integer_ranges_are_exact_on_the_grid_and_when_sampled() -> None:
    spec = {"param_type": "INTEGER", "param_range": (0, 10**400), "num_samples": 3}
    assert grid_values("n", spec) == [0, 5 * 10**399, 10**400]
    values = [p["n"] for p in _draw(RandomSampler(seed=0), {"n": spec}, 50)]
    assert all(type(v) is int and 0 <= v <= 10**400 for v in values)
    assert len(set(values)) == 50
    neg = {"param_type": "INTEGER", "param_range": (-(10**30), 10**30), "num_samples": 5}
    assert grid_values("n", neg) == [-(10**30), -(5 * 10**29), 0, 5 * 10**29, 10**30]


def test_huge_log_integer_range_is_a_clear_error() -> None:
    spec = {"param_type": "INTEGER", "param_range": (1, 10**400), "space_type": "LOG"}
    with pytest.raises(SearchSpaceError, match=r"'n'.*LOG INTEGER bounds"):
        SearchSpace({"n": spec})
    with pytest.raises(SearchSpaceError, match=r"'n'.*LOG INTEGER bounds"):
        grid_values("n", {**spec, "num_samples": 3})


@pytest.mark.parametrize("num", [2, 3, 5, 11])
def test_float_range_wider_than_a_float_gives_distinct_points(num: int) -> None:
    spec = {"param_type": "FLOAT", "param_range": (-1e308, 1e308), "num_samples": num}
    values = grid_values("x", spec)
    assert len(set(values)) == num and values == sorted(values)
    assert all(math.isfinite(v) for v in values)
    for _ in range(3):
        (point,) = _draw(RandomSampler(seed=_), {"x": spec}, 1)
        assert math.isfinite(point["x"])


@pytest.mark.parametrize(
    "spec",
    [
        {"param_type": "FLOAT", "param_range": (0.3, 0.3), "num_samples": 5},
        {"param_type": "INTEGER", "param_range": (7, 7), "num_samples": 9},
        {"param_type": "CATEGORY", "categories": ["a", "a", "a"]},
        {"param_type": "FLOAT", "param_range": (2.0, 2.0), "num_samples": 3, "space_type": "LOG"},
    ],
)
def test_degenerate_axes_give_one_grid_point_not_repeated_trials(spec: dict) -> None:
    points = SearchSpace({"x": spec, "y": {"param_type": "CATEGORY", "categories": [1, 2]}})
    assert len(points.grid_points()) == 2
    calls = []
    HyperBand(ADict(), {"x": spec}, halving_rate=0.5, num_min_samples=1, progress=False).main(
        lambda config: calls.append(config.x) or 1.0
    )()
    assert len(set(map(repr, calls))) == 1 and len(calls) == 1


def test_points_that_coincide_after_rounding_count_once() -> None:
    spec = {"param_type": "FLOAT", "param_range": (1.0, 1.0 + 1e-15), "num_samples": 4}
    assert SearchSpace({"x": spec}).grid_axes() == {"x": [1.0, 1.0 + 1e-15]}


def test_a_category_equal_but_of_another_type_is_kept_apart() -> None:
    spec = {"param_type": "CATEGORY", "categories": [1, 1.0, True, "1"]}
    assert len(SearchSpace({"x": spec}).grid_points()) == 4


@pytest.mark.parametrize(
    "spaces",
    [
        {k: dict(param_type="FLOAT", param_range=(0, 1), num_samples=1000) for k in "abc"},
        {"x": dict(param_type="FLOAT", param_range=(0, 1), num_samples=10**12)},
        {k: dict(param_type="CATEGORY", categories=list(range(100))) for k in "abc"},
        {
            "kind": dict(param_type="CATEGORY", categories=["a", "b"]),
            **{
                k: dict(param_type="CATEGORY", categories=list(range(60)), condition={"kind": "a"})
                for k in "xyz"
            },
        },
    ],
)
def test_grid_above_the_limit_is_refused_before_expansion(spaces: dict) -> None:
    with pytest.raises(SearchSettingError, match=r"above the limit of 100,000.*RandomSampler"):
        HyperBand(ADict(), spaces, halving_rate=0.5, num_min_samples=2)
    with pytest.raises(SearchSettingError, match="RandomSampler"):
        GridSampler().setup(SearchSpace(spaces), "max")


def test_grid_limit_can_be_raised_and_integer_axes_count_their_distinct_values() -> None:
    spaces = {k: dict(param_type="CATEGORY", categories=list(range(50))) for k in "abc"}
    sampler = GridSampler(max_size=200_000)
    sampler.setup(SearchSpace(spaces), "max")
    assert sampler.size() == 125_000
    narrow = {"n": dict(param_type="INTEGER", param_range=(0, 9), num_samples=10**9)}
    assert SearchSpace(narrow).grid_size() == 10
    with pytest.raises(SearchSettingError, match="max_size"):
        GridSampler(max_size=0)


@given(
    low=st.integers(-(10**60), 10**60),
    span=st.integers(0, 10**80),
    num=st.integers(1, 30),
)
def test_integer_grids_of_any_size_are_distinct_sorted_and_in_range(
    low: int, span: int, num: int
) -> None:
    values = grid_values(
        "n", dict(param_type="INTEGER", param_range=(low, low + span), num_samples=num)
    )
    assert values == sorted(set(values)) and values[0] == low
    assert all(type(v) is int and low <= v <= low + span for v in values)
    assert len(values) == min(num, span + 1) or len(values) <= num


@given(st.integers(0, 2**32))
def test_random_points_of_a_seed_stay_in_range(seed: int) -> None:
    rng = random.Random(seed)
    space = SearchSpace(SPACES)
    point = space.sample(rng)
    assert 1e-5 <= point["lr"] <= 1e-1 and 8 <= point["width"] <= 512


# -- sampler contracts ------------------------------------------------------------------------------
def test_a_random_sampler_is_replicable_only_with_a_seed() -> None:
    assert RandomSampler(seed=0).replicable is True
    assert RandomSampler().replicable is False


@pytest.mark.parametrize("name", ["RandomSampler", "OptunaSampler"])
def test_asking_before_setup_says_to_pass_the_sampler_to_a_search(name: str) -> None:
    if name == "OptunaSampler":
        sampler = OptunaSampler(optuna.samplers.RandomSampler(seed=0))
    else:
        sampler = RandomSampler(seed=0)
    with pytest.raises(SearchSettingError) as info:
        sampler.ask(0)
    assert str(info.value) == f"{name}.ask() before setup(); pass it to a Search"


def test_optuna_study_learns_direction_params_rungs_and_final_states() -> None:
    from ato.hyperopt import Search, SuccessiveHalvingSchedule

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    spaces = {
        "lr": {"param_type": "FLOAT", "param_range": (1e-4, 1e-1), "space_type": "LOG"},
        "width": {"param_type": "INTEGER", "param_range": (8, 64), "space_type": "LOG"},
        "depth": {"param_type": "INTEGER", "param_range": (1, 4)},
        "act": {"param_type": "CATEGORY", "categories": ["relu", "gelu"]},
        "norm": {"param_type": "CATEGORY", "categories": [{"kind": "bn"}, {"kind": "ln"}]},
    }
    sampler = OptunaSampler(optuna.samplers.RandomSampler(seed=1))
    schedule = SuccessiveHalvingSchedule(0.5, 2, num_configs=8)
    seen: list[int] = []

    def trial(config) -> float:
        seen.append(config.depth)
        if len(seen) == 2:
            raise RuntimeError("diverged")
        return abs(config.lr - 1e-2) + config.__num_halved__

    search = Search(
        ADict(lr=0.0, width=0, depth=0, act="", norm={}),
        spaces,
        sampler=sampler,
        schedule=schedule,
        mode="min",
        on_error="continue",
    )
    result = search.main(trial)()
    study = sampler.study
    assert study.direction == optuna.study.StudyDirection.MINIMIZE
    dists = study.trials[0].distributions
    assert dists["lr"].log is True and dists["width"].log is True and dists["depth"].log is False
    assert list(dists["act"].choices) == ["relu", "gelu"] and list(dists["norm"].choices) == [0, 1]
    assert isinstance(result.config.norm.kind, str)
    states = [t.state.name for t in study.trials]
    assert states.count("FAIL") == 1 and states[1] == "FAIL"
    completed = [t for t in study.trials if t.state.name == "COMPLETE"]
    # rungs of 8, 4, 2 and 1 (the top rung, run by the schedule): one trial completes
    assert len(completed) == 1 and states.count("PRUNED") == 6
    for t in completed:
        assert sorted(t.intermediate_values) == [0, 1, 2, 3]
        assert t.value == t.intermediate_values[3]
    for t in study.trials:
        if t.state.name == "PRUNED":
            assert sorted(t.intermediate_values) in ([0], [0, 1], [0, 1, 2])
    assert sampler._trials == {}


# -- grid construction does work linear in the categories (issue 29, item 11) ---------------
class _Counted:
    """A category value that counts the equality comparisons made between such values."""

    comparisons = 0

    def __init__(self, tag: Any) -> None:
        self.tag = tag

    def __eq__(self, other: object) -> bool:
        type(self).comparisons += 1
        return isinstance(other, _Counted) and self.tag == other.tag

    def __hash__(self) -> int:
        return hash(self.tag)


def _category(values: list[Any]) -> dict[str, Any]:
    return {"param_type": "CATEGORY", "categories": values}


@pytest.mark.parametrize(
    ("values", "distinct"),
    [
        ([_Counted(i) for i in range(3000)], 3000),  # hashable, all distinct
        ([_Counted(i % 7) for i in range(3000)], 7),  # hashable, repeated
        ([[_Counted(i)] for i in range(3000)], 3000),  # lists (unhashable) of them
        ([{"k": _Counted(i % 11)} for i in range(3000)], 11),  # dicts, repeated
        ([(_Counted(i), [i % 5]) for i in range(3000)], 3000),  # tuples holding a list
    ],
)
def test_categories_are_deduplicated_with_linear_work(values: list[Any], distinct: int) -> None:
    _Counted.comparisons = 0
    axes = SearchSpace({"x": _category(values)}).grid_axes()
    assert len(axes["x"]) == distinct
    assert _Counted.comparisons <= len(values)  # pairwise would be ~4.5 million


def test_values_without_a_hashable_key_are_still_deduplicated() -> None:
    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

        def __init__(self, tag: int) -> None:
            self.tag = tag

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Unhashable) and self.tag == other.tag

    values = [Unhashable(i % 3) for i in range(30)] + [1, 1, "a"]
    assert len(SearchSpace({"x": _category(values)}).grid_axes()["x"]) == 3 + 2


@pytest.mark.parametrize(
    "spaces",
    [
        {k: _category([_Counted((k, i)) for i in range(40_000)]) for k in "abc"},  # 6.4e13
        {"x": _category([_Counted(i) for i in range(200_001)])},  # one axis over the limit
        {
            "x": _category([_Counted(i) for i in range(50_000)]),
            "y": dict(param_type="FLOAT", param_range=(0, 1), num_samples=1000),
        },
    ],
)
def test_a_huge_category_grid_is_refused_from_counts_with_linear_work(spaces: dict) -> None:
    _Counted.comparisons = 0
    with pytest.raises(SearchSettingError, match="above the limit of 100,000"):
        GridSampler().setup(SearchSpace(spaces), "max")
    assert _Counted.comparisons <= 3 * 200_001
