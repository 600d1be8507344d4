"""Optuna's multi-objective samplers through `OptunaSampler`: one study direction per
objective, values and constraints told, and the search's front equal to the study's."""

from __future__ import annotations

import math
from typing import Any

import optuna
import pytest

from ato.adict import ADict
from ato.hyperopt import (
    ASHASchedule,
    HyperbandSchedule,
    OptunaSampler,
    Search,
    optuna_constraints,
)

optuna.logging.set_verbosity(optuna.logging.WARNING)

SPACE = {
    "x": dict(param_type="FLOAT", param_range=(0.0, 1.0)),
    "y": dict(param_type="FLOAT", param_range=(0.0, 1.0)),
}
MODE = {"f1": "min", "f2": "max"}


def train(config: Any) -> dict[str, float]:
    g = 1 + config.y
    return {"f1": config.x, "f2": -g * (1 - math.sqrt(config.x / g)), "c": config.y - 0.5}


def _search(sampler: Any, schedule: Any, **options: Any) -> Search:
    return Search(
        ADict(x=0.0, y=0.0),
        SPACE,
        sampler=OptunaSampler(sampler),
        schedule=schedule,
        mode=MODE,
        progress=False,
        **options,
    )


@pytest.mark.parametrize(
    "make_sampler",
    [
        lambda: optuna.samplers.NSGAIISampler(population_size=6, seed=0),
        lambda: optuna.samplers.NSGAIIISampler(population_size=6, seed=0),
        lambda: optuna.samplers.TPESampler(seed=0, n_startup_trials=5),
    ],
    ids=["nsga2", "nsga3", "tpe"],
)
def test_optuna_multi_objective_samplers_answer_with_the_studys_front(make_sampler: Any) -> None:
    search = _search(make_sampler(), ASHASchedule(1, max_trials=20))
    result = search.main(train)()
    study = search.sampler.study  # type: ignore[attr-defined]
    assert study.directions == [
        optuna.study.StudyDirection.MINIMIZE,
        optuna.study.StudyDirection.MAXIMIZE,
    ]
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == 20 and all(t.state.name == "COMPLETE" for t in trials)
    for trial, log_entry in zip(trials, result.logs[0], strict=True):
        assert trial.params == {"x": log_entry.x, "y": log_entry.y}
        assert trial.values == [log_entry.__metric__, train(log_entry)["f2"]]
    front = sorted((t.values[0], t.values[1]) for t in study.best_trials)
    assert sorted((m.metric.f1, m.metric.f2) for m in result.front) == front


#: Optuna >= 5.0 takes constraints with Trial.set_constraint; before, with constraints_func.
SET_CONSTRAINT = hasattr(optuna.trial.Trial, "set_constraint")


def test_constraints_reach_optunas_constrained_samplers() -> None:
    options = {} if SET_CONSTRAINT else {"constraints_func": optuna_constraints}
    sampler = optuna.samplers.NSGAIISampler(population_size=6, seed=1, **options)
    search = _search(sampler, ASHASchedule(1, max_trials=18), constraint_keys=["c"])
    result = search.main(train)()
    study = search.sampler.study  # type: ignore[attr-defined]
    trials = study.get_trials(deepcopy=False)
    for trial in trials:
        expected = trial.params["y"] - 0.5
        assert optuna_constraints(trial) == [expected]
        if SET_CONSTRAINT:
            assert trial.constraints == {"c": expected}  # what Optuna's samplers read
        else:
            assert trial.system_attrs["constraints"] == (expected,)
    feasible = {t.number for t in trials if t.params["y"] <= 0.5}
    assert {m.trial_id for m in result.front} == {
        t.number for t in study.best_trials if t.number in feasible
    }
    assert all(m.metric.c <= 0 for m in result.front)


def test_stopped_trials_are_pruned_and_top_rung_trials_complete() -> None:
    search = _search(optuna.samplers.NSGAIISampler(seed=2), HyperbandSchedule(9, 3))
    result = search.main(train)()
    trials = search.sampler.study.get_trials(deepcopy=False)  # type: ignore[attr-defined]
    reached = {}
    for log in result.logs:
        for entry in log:
            reached[entry.__trial_id__] = max(reached.get(entry.__trial_id__, 0), entry.__budget__)
    states = {t.number: t.state.name for t in trials}
    assert states == {
        trial: "COMPLETE" if budget == 9 else "PRUNED" for trial, budget in reached.items()
    }
    assert all(t.intermediate_values == {} for t in trials)  # none for multi-objective studies
