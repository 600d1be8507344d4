"""`OptunaSampler` told a `Score` (several objectives, or one with constraints): what each
Optuna trial records, and which stored points `adopt` takes (the shared search's path)."""

from __future__ import annotations

import math
import warnings

import optuna
import pytest

from ato.hyperopt import OptunaSampler, SearchSettingError, SearchSpace, optuna_constraints
from ato.hyperopt.objectives import Objectives, Score
from ato.hyperopt.samplers import COMPLETED, CONTINUE, STOPPED

optuna.logging.set_verbosity(optuna.logging.WARNING)

LR = {"lr": {"param_type": "FLOAT", "param_range": (1e-3, 1.0), "space_type": "LOG"}}
MIXED = {
    "lr": {"param_type": "FLOAT", "param_range": (1e-3, 1.0)},
    "layers": {"param_type": "INTEGER", "param_range": (1, 4)},
    "act": {"param_type": "CATEGORY", "categories": ["relu", "tanh"]},
    "shape": {"param_type": "CATEGORY", "categories": [(8, 8), (16, 4)]},
}


def _scored(objectives: Objectives, spaces: dict = LR) -> OptunaSampler:
    sampler = OptunaSampler(optuna.samplers.RandomSampler(seed=0))
    sampler.use_objectives(objectives)
    sampler.setup(SearchSpace(spaces), objectives.modes[0])
    return sampler


def _told(sampler: OptunaSampler, *tells: tuple[int, Score, str]) -> optuna.trial.FrozenTrial:
    sampler.ask(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Optuna warns when it must guess a value or state
        for rung, score, state in tells:
            sampler.tell(0, rung, 3**rung, score, state)
    (trial,) = sampler.study.trials
    return trial


def test_one_objective_with_constraints_reports_each_rung_once_and_completes() -> None:
    objectives = Objectives(("loss",), ("min",), ("mem", "time"))
    trial = _told(
        _scored(objectives),
        (0, Score((0.5,), ("min",), (1.0, 2.0)), CONTINUE),
        (0, Score((0.4,), ("min",), (1.0, 2.0)), CONTINUE),  # the same rung again: not reported
        (1, Score((0.3,), ("min",), (-2.0, 0.0)), COMPLETED),
    )
    assert trial.state.name == "COMPLETE" and trial.value == 0.3
    assert trial.intermediate_values == {0: 0.5, 1: 0.3}
    assert trial.user_attrs["constraints"] == [-2.0, 0.0]
    assert optuna_constraints(trial) == [-2.0, 0.0]
    assert trial.system_attrs["constraints:mem"] == -2.0
    assert trial.system_attrs["constraints:time"] == 0.0


def test_two_objectives_complete_with_both_values_and_report_nothing_midway() -> None:
    objectives = Objectives(("acc", "ms"), ("max", "min"))
    trial = _told(
        _scored(objectives),
        (0, Score((0.5, 9.0), ("max", "min")), CONTINUE),
        (1, Score((0.7, 8.0), ("max", "min")), COMPLETED),
    )
    assert trial.state.name == "COMPLETE" and trial.values == [0.7, 8.0]
    assert trial.intermediate_values == {}  # Optuna takes none for several objectives
    assert optuna_constraints(trial) == []


def test_a_stopped_scored_trial_is_pruned_and_an_unfinished_score_fails() -> None:
    objectives = Objectives(("loss",), ("min",), ("mem",))
    pruned = _told(
        _scored(objectives),
        (0, Score((0.5,), ("min",), (1.0,)), CONTINUE),
        (1, Score((0.6,), ("min",), (-1.0,)), STOPPED),
    )
    assert pruned.state.name == "PRUNED" and pruned.intermediate_values == {0: 0.5, 1: 0.6}
    assert pruned.user_attrs["constraints"] == [-1.0]
    failed = _told(_scored(objectives), (0, Score((math.nan,), ("min",), (1.0,)), COMPLETED))
    assert failed.state.name == "FAIL" and failed.intermediate_values == {}
    assert "constraints" not in failed.user_attrs


def test_constraints_beyond_the_named_keys_are_named_by_their_position() -> None:
    sampler = _scored(Objectives(("loss",), ("min",), ("mem",)))
    sampler.ask(0)
    sampler.tell(0, 0, 1, Score((0.5,), ("min",), (1.0, -3.0)), COMPLETED)
    (trial,) = sampler.study.trials
    assert trial.system_attrs["constraints:mem"] == 1.0
    assert trial.system_attrs["constraints:1"] == -3.0


@pytest.mark.parametrize(
    "point",
    [
        {"lr": 0.5, "layers": 2, "act": "tanh", "shape": (16, 4)},
        {"lr": 1e-3, "layers": 4, "act": "relu", "shape": [8, 8]},  # a tuple stored as a list
        {"lr": 1.0, "layers": 1, "act": "relu", "shape": [16, 4]},
    ],
)
def test_adopt_takes_every_point_of_the_space(point: dict) -> None:
    sampler = _scored(Objectives(("loss",), ("min",)), MIXED)
    sampler.adopt(7, point)
    (trial,) = sampler.study.trials
    assert trial.params["lr"] == point["lr"] and trial.params["layers"] == point["layers"]
    assert trial.params["act"] == point["act"]


@pytest.mark.parametrize(
    ("point", "unfit"),
    [
        ({"lr": 0.5, "layers": 2.0, "act": "relu", "shape": [8, 8]}, "layers"),  # not an int
        ({"lr": 0.5, "layers": 9, "act": "relu", "shape": [8, 8]}, "layers"),  # outside
        ({"lr": True, "layers": 2, "act": "relu", "shape": [8, 8]}, "lr"),  # a bool
        ({"lr": "0.5", "layers": 2, "act": "relu", "shape": [8, 8]}, "lr"),  # a text
        ({"lr": 0.5, "layers": 2, "act": "gelu", "shape": [8, 8]}, "act"),  # not a category
        ({"lr": 0.5, "layers": 2, "act": "relu", "shape": [8, 4]}, "shape"),
        ({"lr": 0.5, "layers": 2, "act": "relu", "shape": "relu"}, "shape"),
    ],
)
def test_adopt_refuses_a_point_outside_the_space_naming_trial_and_keys(
    point: dict, unfit: str
) -> None:
    sampler = _scored(Objectives(("loss",), ("min",)), MIXED)
    with pytest.raises(SearchSettingError) as caught:
        sampler.adopt(11, point)
    message = str(caught.value)
    assert message.startswith(f"trial 11 of the shared search has the configuration {point!r}")
    assert f"(['{unfit}'] are not in it)" in message
    assert sampler.study.trials == []
