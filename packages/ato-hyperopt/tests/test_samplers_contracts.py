"""Sampler contracts through the Sampler protocol (setup / ask / tell): the grid sampler's size
limit, and what the Optuna adapter tells its study (direction, intermediate values, final
states, no Optuna warnings); issue 17, mutation testing."""

from __future__ import annotations

import sys
import warnings

import optuna
import pytest

from ato.hyperopt import GridSampler, OptunaSampler, SearchSettingError, SearchSpace
from ato.hyperopt.samplers import COMPLETED, CONTINUE, STOPPED

optuna.logging.set_verbosity(optuna.logging.WARNING)

PAIR = {"x": {"param_type": "CATEGORY", "categories": ["a", "b"]}}
ONE = {"x": {"param_type": "CATEGORY", "categories": ["a"]}}
LR = {"lr": {"param_type": "FLOAT", "param_range": (1e-3, 1.0), "space_type": "LOG"}}


# -- GridSampler ------------------------------------------------------------------------------
@pytest.mark.parametrize("max_size", [0, -3, True, False, 2.0, "10", None])
def test_grid_max_size_must_be_an_int_of_at_least_one(max_size: object) -> None:
    with pytest.raises(SearchSettingError) as info:
        GridSampler(max_size=max_size)  # type: ignore[arg-type]
    assert str(info.value) == f"max_size must be an int >= 1, got {max_size!r}"


def test_a_grid_of_exactly_max_size_points_is_accepted_and_one_more_is_refused() -> None:
    one = GridSampler(max_size=1)
    one.setup(SearchSpace(ONE), "max")
    assert one.size() == 1 and one.ask(0) == {"x": "a"} and one.ask(1) is None
    with pytest.raises(SearchSettingError, match="has 2 points, above the limit of 1;"):
        one.setup(SearchSpace(PAIR), "max")
    two = GridSampler(max_size=2)
    two.setup(SearchSpace(PAIR), "max")
    assert [two.ask(i) for i in range(3)] == [{"x": "a"}, {"x": "b"}, None]


def test_a_grid_sampler_proposes_nothing_before_setup() -> None:
    sampler = GridSampler()
    assert sampler.size() == 0 and sampler.ask(0) is None


def test_grid_points_handed_out_are_copies() -> None:
    sampler = GridSampler()
    sampler.setup(SearchSpace(PAIR), "max")
    sampler.ask(0)["x"] = "changed"  # type: ignore[index]
    assert sampler.ask(0) == {"x": "a"}


# -- OptunaSampler ----------------------------------------------------------------------------
def _optuna(spaces: dict = LR, mode: str = "max") -> OptunaSampler:
    sampler = OptunaSampler(optuna.samplers.RandomSampler(seed=0))
    sampler.setup(SearchSpace(spaces), mode)
    return sampler


def test_without_optuna_the_adapter_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "optuna", None)  # makes `import optuna` fail
    with pytest.raises(SearchSettingError) as info:
        OptunaSampler(object())
    assert str(info.value) == (
        'OptunaSampler needs optuna; install it with pip install "ato-hyperopt[optuna]"'
    )
    assert isinstance(info.value.__cause__, ImportError)


@pytest.mark.parametrize(("mode", "direction"), [("max", "MAXIMIZE"), ("min", "MINIMIZE")])
def test_the_study_follows_the_search_direction(mode: str, direction: str) -> None:
    unset = OptunaSampler(optuna.samplers.RandomSampler(seed=0))
    assert unset.study is None
    assert _optuna(mode=mode).study.direction == optuna.study.StudyDirection[direction]


def test_setup_starts_a_new_study_and_forgets_open_trials() -> None:
    sampler = _optuna()
    first = sampler.study
    sampler.ask(0)
    sampler.setup(SearchSpace(LR), "max")
    assert sampler.study is not first and sampler.study.trials == []
    sampler.tell(0, 0, 1, 0.5, COMPLETED)  # trial 0 belonged to the old study: ignored
    assert first.trials[0].state.name == "RUNNING" and sampler.study.trials == []


def test_tells_for_trials_it_did_not_propose_are_ignored() -> None:
    fresh = OptunaSampler(optuna.samplers.RandomSampler(seed=0))
    fresh.tell(0, 0, 1, 0.5, COMPLETED)  # before setup
    sampler = _optuna()
    sampler.tell(5, 0, 1, 0.5, STOPPED)
    sampler.ask(0)
    sampler.tell(0, 0, 1, 0.5, COMPLETED)
    sampler.tell(0, 1, 3, 0.9, COMPLETED)  # already closed
    (trial,) = sampler.study.trials
    assert trial.state.name == "COMPLETE" and trial.value == 0.5
    assert trial.intermediate_values == {0: 0.5}


def test_each_rung_is_reported_once_and_a_stopped_trial_is_pruned_without_warnings() -> None:
    sampler = _optuna()
    sampler.ask(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Optuna warns when a step is reported twice
        sampler.tell(0, 0, 1, 0.25, CONTINUE)
        sampler.tell(0, 1, 3, 0.5, CONTINUE)
        sampler.tell(0, 1, 3, 0.5, STOPPED)  # the search closes a trial still open at its end
    (trial,) = sampler.study.trials
    assert trial.state.name == "PRUNED"
    assert trial.intermediate_values == {0: 0.25, 1: 0.5}


@pytest.mark.parametrize("metric", [float("-inf"), float("inf"), float("nan")])
def test_a_failed_trial_is_told_fail_without_warnings_or_its_failed_value(metric: float) -> None:
    sampler = _optuna()
    sampler.ask(0)
    sampler.ask(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Optuna warns when it has to guess a state
        sampler.tell(0, 0, 1, 0.75, CONTINUE)
        sampler.tell(0, 1, 3, metric, STOPPED)
        sampler.tell(1, 0, 1, metric, COMPLETED)
    first, second = sampler.study.trials
    assert first.state.name == "FAIL" and first.intermediate_values == {0: 0.75}
    assert second.state.name == "FAIL" and second.intermediate_values == {}


def test_a_completed_trial_gets_its_metric_as_the_value() -> None:
    sampler = _optuna(mode="min")
    sampler.ask(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sampler.tell(0, 0, 1, 0.3, CONTINUE)
        sampler.tell(0, 1, 3, 0.2, COMPLETED)
    (trial,) = sampler.study.trials
    assert trial.state.name == "COMPLETE" and trial.value == 0.2
    assert trial.intermediate_values == {0: 0.3, 1: 0.2}
    assert sampler.study.best_value == 0.2


# -- adopting another worker's trial (shared searches) ------------------------------------------
MIXED = {
    "lr": {"param_type": "FLOAT", "param_range": (1e-3, 1.0), "space_type": "LOG"},
    "layers": {"param_type": "INTEGER", "param_range": (1, 4)},
    "shape": {"param_type": "CATEGORY", "categories": [(8, 8), (16, 4)]},  # Optuna holds indices
}


def test_an_adopted_point_is_the_optuna_trial_and_is_told_like_an_own_one() -> None:
    sampler = OptunaSampler(optuna.samplers.TPESampler(seed=0))
    sampler.setup(SearchSpace(MIXED), "max")
    stored = {"lr": 0.0123456789, "layers": 3, "shape": [16, 4]}  # as JSON gives it back
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sampler.adopt(5, stored)
    (trial,) = sampler.study.trials
    assert trial.params == {"lr": 0.0123456789, "layers": 3, "shape": 1}
    sampler.tell(5, 0, 1, 0.5, COMPLETED)
    assert sampler.study.trials[0].value == 0.5
    assert sampler.ask(6) is not None and len(sampler.study.trials) == 2


def test_a_point_outside_this_workers_space_is_refused() -> None:
    sampler = OptunaSampler(optuna.samplers.RandomSampler(seed=0))
    sampler.setup(SearchSpace(LR), "max")
    with pytest.raises(SearchSettingError, match="must run the same search space"):
        sampler.adopt(0, {"lr": 5.0})  # outside (1e-3, 1): Optuna would draw another
    with pytest.raises(SearchSettingError, match="must run the same search space"):
        sampler.adopt(1, {"lr": 0.1, "momentum": 0.9})
    with pytest.raises(SearchSettingError, match="adopt\\(\\) before setup"):
        OptunaSampler(optuna.samplers.RandomSampler()).adopt(0, {"lr": 0.1})


def test_bohb_observes_an_adopted_point_but_does_not_count_it_as_its_proposal() -> None:
    from ato.hyperopt import BOHBSampler
    from ato.hyperopt.bohb import encode

    sampler = BOHBSampler(seed=0)
    with pytest.raises(SearchSettingError, match="adopt\\(\\) before setup"):
        sampler.adopt(0, {"lr": 0.1})
    space = SearchSpace(LR)
    sampler.setup(space, "max")
    sampler.adopt(3, {"lr": 0.1})
    sampler.tell(3, 0, 1, 0.7, CONTINUE)
    assert sampler.observations == {1: {3: (encode(space, {"lr": 0.1}), 0.7)}}
    assert sampler.proposed_from == {}
