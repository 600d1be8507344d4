"""Several objectives and constraints: NSGA-II ranking, exact Pareto fronts, promotions,
constraints, resume and the tracker records."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from helpers import FakeLogger

from ato.adict import ADict
from ato.hyperopt import (
    ANSWER_TAG,
    ASHASchedule,
    GridSampler,
    HyperbandSchedule,
    Objectives,
    RandomSampler,
    Score,
    Search,
    SearchRunFacts,
    SearchSettingError,
    SuccessiveHalvingSchedule,
    TrialResultError,
)
from ato.hyperopt.objectives import (
    crowding_distance,
    dominates,
    nondominated_sort,
    pareto_front,
    pick_from_front,
    rank_scores,
)

#: Schaffer's problem N.1 on a grid: both objectives minimised, Pareto-optimal for 0 <= x <= 1.
GRID = [-1.0, -0.5, 0.0, 0.2, 0.5, 0.8, 1.0, 1.5, 2.0]
X_SPACE = {"x": dict(param_type="CATEGORY", categories=GRID)}
TWO = {"f1": "min", "f2": "min"}


def schaffer(config: Any) -> dict[str, float]:
    return {"f1": config.x**2, "f2": (config.x - 1) ** 2}


def schaffer_constrained(config: Any) -> dict[str, float]:
    return {**schaffer(config), "c": 0.1 - config.x}  # feasible when x >= 0.1


def _min(*values: float, constraints: tuple[float, ...] = ()) -> Score:
    return Score(tuple(values), ("min",) * len(values), constraints)


def _search(schedule: Any, sampler: Any = None, **options: Any) -> Search:
    options.setdefault("progress", False)
    options.setdefault("mode", TWO)
    return Search(
        ADict(x=0.0), X_SPACE, sampler=sampler or GridSampler(), schedule=schedule, **options
    )


def _xs(front: list) -> list[float]:
    return [entry.config.x for entry in front]


# -- the ranking rule -------------------------------------------------------------------------
def test_constrained_domination_follows_deb() -> None:
    assert dominates(_min(1, 2), _min(2, 2)) and not dominates(_min(2, 2), _min(1, 2))
    assert not dominates(_min(1, 3), _min(2, 2)) and not dominates(_min(2, 2), _min(1, 3))
    assert not dominates(_min(1, 1), _min(1, 1))
    feasible, infeasible = _min(9, 9, constraints=(0.0,)), _min(0, 0, constraints=(0.5,))
    assert dominates(feasible, infeasible) and not dominates(infeasible, feasible)
    assert dominates(_min(9, 9, constraints=(0.2, -1)), _min(0, 0, constraints=(0.1, 0.2)))
    assert dominates(_min(9, 9), _min(math.nan, 0)) and not dominates(_min(math.nan, 0), _min(9, 9))


def test_nondominated_sort_and_crowding_distance_are_nsga2s() -> None:
    scores = [_min(1, 5), _min(2, 3), _min(4, 1), _min(3, 4), _min(5, 5), _min(math.nan, 1)]
    assert nondominated_sort(scores) == [[0, 1, 2], [3], [4], [5]]
    front = [_min(0, 1), _min(0.04, 0.64), _min(0.25, 0.25), _min(0.64, 0.04), _min(1, 0)]
    assert crowding_distance(front) == pytest.approx([math.inf, 1.0, 1.2, 1.0, math.inf])
    ranked = rank_scores(list(enumerate(front)))
    assert [trial for trial, _ in ranked] == [0, 4, 2, 1, 3]


@pytest.mark.parametrize("num_objectives", [1, 2])
def test_the_sort_for_one_or_two_objectives_equals_the_general_one(num_objectives: int) -> None:
    from ato.hyperopt.objectives import _sort_any

    rng = random.Random(num_objectives)
    for _ in range(200):
        scores = []
        for _ in range(rng.randint(0, 25)):
            values = tuple(float(rng.randint(0, 4)) for _ in range(num_objectives))
            if rng.random() < 0.1:
                values = (math.nan, *values[1:])
            constraint = rng.choice([-1.0, 0.0, 0.0, 0.5, 1.0, math.nan])
            modes = tuple(rng.choice(["min", "max"]) for _ in range(num_objectives))
            scores.append(Score(values, modes, (constraint,)))
        assert nondominated_sort(scores) == _sort_any(scores)


def test_the_pick_is_the_member_nearest_the_ideal_point() -> None:
    front = [_min(0, 1), _min(0.04, 0.64), _min(0.25, 0.25), _min(0.64, 0.04), _min(1, 0)]
    assert pick_from_front(front) == 2
    assert pick_from_front([_min(3, 1), _min(1, 3)]) == 0  # a tie: the first
    items = [("a", _min(1, 1)), ("b", _min(2, 2)), ("c", _min(0, 0, constraints=(1,)))]
    assert pareto_front(items) == [items[0]]


# -- settings and results ---------------------------------------------------------------------
def test_objectives_are_parsed_from_metric_key_and_mode() -> None:
    assert Objectives.parse(["acc", "ms"], ["max", "min"]) == Objectives(
        ("acc", "ms"), ("max", "min")
    )
    assert Objectives.parse("metric", {"acc": "max", "ms": "min"}, "mem") == Objectives(
        ("acc", "ms"), ("max", "min"), ("mem",)
    )
    assert Objectives.parse(("a", "b"), "min").modes == ("min", "min")
    with pytest.raises(SearchSettingError, match="gives 1 directions for 2 metric keys"):
        Objectives.parse(["a", "b"], ["max"])
    with pytest.raises(SearchSettingError, match="repeat a key"):
        Objectives.parse(["a", "b"], "max", ["a"])
    with pytest.raises(SearchSettingError, match="mode must be 'max' or 'min'"):
        Objectives.parse(["a", "b"], ["max", "up"])
    with pytest.raises(SearchSettingError, match="disagrees"):
        Objectives.parse("acc", {"a": "max", "b": "min"})


def test_a_trial_must_return_every_objective_and_constraint() -> None:
    objectives = Objectives(("f1", "f2"), ("min", "max"), ("c",))
    score = objectives.score_of({"f1": 1, "f2": 2.5, "c": -1}, "trial 0")
    assert score == Score((1.0, 2.5), ("min", "max"), (-1.0,))
    with pytest.raises(TrialResultError, match="missing \\['c'\\]"):
        objectives.score_of({"f1": 1, "f2": 2}, "trial 0")
    with pytest.raises(TrialResultError, match="returns \\{key: number\\}"):
        objectives.score_of((1, 2), "trial 0")
    assert Objectives(("f1", "f2"), ("min", "min")).score_of([1, 2], "t").values == (1.0, 2.0)


def test_a_trial_returning_one_number_is_fatal_in_a_multi_objective_search() -> None:
    with pytest.raises(TrialResultError, match="returns \\{key: number\\} for \\['f1', 'f2'\\]"):
        _search(ASHASchedule(1, max_trials=2)).main(lambda config: 1.0)()


# -- exact fronts -----------------------------------------------------------------------------
def test_the_answer_is_the_exact_pareto_front_and_its_ideal_point_member() -> None:
    result = _search(ASHASchedule(1, max_trials=len(GRID))).main(schaffer)()
    assert _xs(result.front) == [0.0, 0.2, 0.5, 0.8, 1.0]
    assert [entry.trial_id for entry in result.front] == [2, 3, 4, 5, 6]
    assert result.front[2].metric == {"f1": 0.25, "f2": 0.25}
    assert result.config.x == 0.5 and result.trial_id == 4
    assert result.metric == {"f1": 0.25, "f2": 0.25}


def test_objectives_with_opposite_directions() -> None:
    def train(config: Any) -> dict[str, float]:
        return {"gain": -(config.x**2), "f2": (config.x - 1) ** 2}

    mode = {"gain": "max", "f2": "min"}
    result = _search(ASHASchedule(1, max_trials=len(GRID)), mode=mode).main(train)()
    assert _xs(result.front) == [0.0, 0.2, 0.5, 0.8, 1.0]
    assert result.config.x == 0.5


def test_failed_and_nan_trials_are_never_in_the_front() -> None:
    def train(config: Any) -> dict[str, float]:
        if config.x == 0.5:
            raise RuntimeError("diverged")
        return {"f1": math.nan if config.x == 0.2 else config.x**2, "f2": (config.x - 1) ** 2}

    result = _search(ASHASchedule(1, max_trials=len(GRID))).main(train)()
    assert _xs(result.front) == [0.0, 0.8, 1.0]


# -- promotions -------------------------------------------------------------------------------
def _rungs(result: Any) -> list[list[float]]:
    return [[entry.x for entry in log] for log in result.logs]


def test_successive_halving_promotes_in_nsga2_order() -> None:
    schedule = SuccessiveHalvingSchedule(reduction_factor=3, num_configs=9, max_budget=9)
    result = _search(schedule).main(schaffer)()
    # rung 0: front {0, .2, .5, .8, 1}; the two ends (infinite crowding), then 0.5 (1.2)
    assert _rungs(result) == [GRID, [0.0, 1.0, 0.5], [0.0]]  # in rank order
    assert _xs(result.front) == [0.0] and result.budget == 9


def test_asha_promotes_the_top_third_in_nsga2_order() -> None:
    result = _search(ASHASchedule(3, 3, max_trials=len(GRID))).main(schaffer)()
    # results arrive one by one: after 3, x = 0 tops {-1, -.5, 0}; after 6 the top 2 of the
    # front {0, .2, .5, .8} are its ends 0 and .8; after 9 the top 3 are 0, 1 (ends) and .5
    assert [entry.x for entry in result.logs[1]] == [0.0, 0.5, 0.8, 1.0]
    assert _xs(result.front) == [0.0, 0.5, 0.8, 1.0] and result.config.x == 0.5


def test_hyperband_with_several_objectives_answers_at_the_largest_budget() -> None:
    result = _search(HyperbandSchedule(9, 3), RandomSampler(seed=5)).main(
        lambda config: {"f1": config.x**2, "f2": (config.x - 1) ** 2 + 1 / config.__budget__}
    )
    result = result()
    assert result.budget == 9
    assert all(entry.budget == 9 for entry in result.front)
    top = [e for log in result.logs for e in log if e.__budget__ == 9]
    values = {e.x: schaffer(e) for e in top}
    front = {
        x
        for x, v in values.items()
        if not any(w["f1"] <= v["f1"] and w["f2"] <= v["f2"] and w != v for w in values.values())
    }
    assert set(_xs(result.front)) == front


# -- constraints ------------------------------------------------------------------------------
def test_infeasible_trials_are_never_the_answer() -> None:
    result = _search(ASHASchedule(1, max_trials=len(GRID)), constraint_keys=["c"]).main(
        schaffer_constrained
    )()
    assert _xs(result.front) == [0.2, 0.5, 0.8, 1.0]
    assert result.front[0].metric == pytest.approx({"f1": 0.04, "f2": 0.64, "c": -0.1})


def test_infeasible_trials_are_demoted_in_promotions() -> None:
    schedule = SuccessiveHalvingSchedule(reduction_factor=3, num_configs=9, max_budget=9)
    result = _search(schedule, constraint_keys=["c"]).main(schaffer_constrained)()
    # x = 0 would be promoted without the constraint; feasible ends 0.2 and 1, then 0.5
    assert _rungs(result) == [GRID, [0.2, 1.0, 0.5], [0.2]]


def test_one_objective_with_a_constraint() -> None:
    def train(config: Any) -> dict[str, float]:
        return {"loss": (config.x - 2) ** 2, "c": config.x - 1}  # feasible when x <= 1

    result = _search(
        ASHASchedule(1, max_trials=len(GRID)), mode="min", metric_key="loss", constraint_keys="c"
    ).main(train)()
    assert result.config.x == 1.0 and result.metric == {"loss": 1.0, "c": 0.0}
    assert _xs(result.front) == [1.0]


def test_a_search_without_feasible_trials_has_no_answer() -> None:
    from ato.hyperopt import NoAnswerError

    match = "none of its 3 evaluations completed feasible with finite values \\(0 failed, 3 were"
    with pytest.raises(NoAnswerError, match=match):
        _search(ASHASchedule(1, max_trials=3), constraint_keys=["c"]).main(
            lambda config: {"f1": 0, "f2": 0, "c": 1}
        )()


# -- records and resume -----------------------------------------------------------------------
def test_runs_record_the_objectives_and_constraints() -> None:
    logger = FakeLogger()
    result = _search(
        ASHASchedule(1, max_trials=len(GRID)),
        constraint_keys=["c"],
        tracker=logger,
        search_id="mo1",
    ).main(schaffer_constrained)()
    run = logger.runs[result.run_id]
    assert run["tags"][-4:] == ["objective:min:f1", "objective:min:f2", "constraint:c", "final"]
    assert not any(t.startswith(("mode:", "metric_key:")) for t in run["tags"])
    assert [(k, v) for k, v, _ in run["metrics"]] == [
        ("search/f1", 0.25),
        ("search/f2", 0.25),
        ("search/c", -0.4),
    ]
    assert [i for i, r in logger.runs.items() if ANSWER_TAG in r["tags"]] == [result.run_id]
    facts = SearchRunFacts.from_tags(run["tags"])
    assert facts is not None and facts.objectives == (("min", "f1"), ("min", "f2"))
    assert facts.constraint_keys == ("c",) and facts.mode is None


def test_a_resumed_multi_objective_search_answers_as_an_uninterrupted_one() -> None:
    def train(config: Any) -> dict[str, float]:
        calls.append((config.__trial_id__, config.__num_halved__))
        if len(calls) == stop_after:
            raise KeyboardInterrupt
        return {
            "f1": config.x**2 + 1 / config.__budget__,
            "f2": (config.x - 1) ** 2,
            "c": 0.1 - config.x,
        }

    def run(logger: FakeLogger, **options: Any) -> Any:
        return _search(
            HyperbandSchedule(9, 3),
            RandomSampler(seed=2),
            constraint_keys=["c"],
            tracker=logger,
            **options,
        ).main(train)()

    calls: list = []
    stop_after = -1
    reference = run(FakeLogger())
    logger = FakeLogger()
    calls, stop_after = [], 14
    with pytest.raises(KeyboardInterrupt):
        run(logger, search_id="r-mo")
    first = list(calls[:-1])
    calls, stop_after = [], -1
    resumed = run(logger, search_id="r-mo", resume=True)
    assert not set(first) & set(calls)
    assert [(e.trial_id, e.metric) for e in resumed.front] == [
        (e.trial_id, e.metric) for e in reference.front
    ]
    assert resumed.trial_id == reference.trial_id and resumed.metric == reference.metric
