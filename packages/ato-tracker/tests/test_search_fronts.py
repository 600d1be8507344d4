"""The Pareto front of a search with several objectives or constraints (``objective:`` and
``constraint:`` tags of the search-run contract) through ``SQLFinder.find_search_answer`` and
``ato runs best --search`` - on SQLite and both servers."""

from __future__ import annotations

import json
from typing import NamedTuple

import pytest

from ato.adict import ADict
from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.cli import main
from ato.tracker.search_runs import SearchRun, build_tags, parse_tags


class Ev(NamedTuple):
    """One evaluation: trial, rung, budget, (f1, f2, c) values, status."""

    trial: int
    rung: int
    budget: float
    values: tuple[float, float, float]
    status: str = "completed"


OBJECTIVES = (("min", "f1"), ("max", "gain"))

#: At budget 9: trials 2, 3, 4 are non-dominated and feasible; 5 is dominated by 3; 6 has the
#: best values but is infeasible (c > 0); 7 failed. Budget 3 evaluations are below the top.
EVALUATIONS = [
    Ev(0, 0, 3, (0.0, 9.0, -1)),
    Ev(1, 0, 3, (0.1, 9.0, -1)),
    Ev(2, 1, 9, (0.0, 1.0, -1)),
    Ev(3, 1, 9, (0.3, 3.0, 0)),
    Ev(4, 1, 9, (1.0, 4.0, -2)),
    Ev(5, 1, 9, (0.4, 2.0, -1)),
    Ev(6, 1, 9, (0.0, 5.0, 0.5)),
    Ev(7, 1, 9, (0.0, 9.0, -1), "failed"),
]


def write_front_search(db: str, evaluations: list[Ev], *, search: str = "mo") -> dict[int, int]:
    """``evaluations`` as ato-hyperopt writes a search with two objectives and a constraint;
    ``{trial: run_id}`` of the last run of each trial."""
    logger = SQLLogger(ADict(experiment=ADict(project_name="mo", sql=ADict(db_path=db))))
    ids = {}
    for ev in evaluations:
        facts = SearchRun(
            search_id=search,
            rung=ev.rung,
            trial_id=str(ev.trial),
            bracket=0,
            budget=ev.budget,
            objectives=OBJECTIVES,
            constraint_keys=("c",),
        )
        ids[ev.trial] = logger.start_search_run(facts, {"x": ev.trial})
        if ev.status == "completed":
            for key, value in zip(("f1", "gain", "c"), ev.values, strict=True):
                logger.log_metric(f"search/{key}", value, ev.rung)
        logger.finish(ev.status)
    logger.close()
    return ids


def test_the_contract_stores_objectives_and_constraints_as_tags() -> None:
    facts = SearchRun(
        search_id="mo", rung=1, trial_id="3", objectives=OBJECTIVES, constraint_keys=("c",)
    )
    tags = build_tags(facts)
    assert tags == [
        "search:mo",
        "round:1",
        "trial:3",
        "rung:1",
        "objective:min:f1",
        "objective:max:gain",
        "constraint:c",
    ]
    read = parse_tags(tags)
    assert read.objectives == OBJECTIVES and read.constraint_keys == ("c",) and read.contract
    assert parse_tags(["objective:max:val:acc"]).objectives == (("max", "val:acc"),)


def test_the_answer_of_a_multi_objective_search_is_its_front(db_url: str) -> None:
    ids = write_front_search(db_url, EVALUATIONS)
    answer = SQLFinder(db_url).find_search_answer("mo")
    assert [e.trial for e in answer.front] == ["2", "3", "4"]
    assert [e.values for e in answer.front] == [(0.0, 1.0, -1.0), (0.3, 3.0, 0.0), (1.0, 4.0, -2.0)]
    # scaled over the front: trial 3 is at (0.3, 1/3) from the ideal point, 2 at (0, 1), 4 at (1, 0)
    assert answer.run_id == ids[3] and answer.trial == "3" and answer.budget == 9
    assert answer.objectives == OBJECTIVES and answer.constraint_keys == ("c",)
    assert answer.key == "search/f1" and answer.mode == "min" and answer.value == 0.3


def test_a_search_without_feasible_evaluations_has_no_front(db_url: str) -> None:
    write_front_search(db_url, [Ev(0, 0, 3, (0.0, 1.0, 0.5)), Ev(1, 0, 3, (0.0, 1.0, 0), "failed")])
    answer = SQLFinder(db_url).find_search_answer("mo")
    assert answer.run_id is None and answer.front == ()
    assert answer.reason == (
        "no evaluation completed feasible with finite values of search/f1, search/gain, "
        "search/c (2 runs: 1 completed infeasible, 1 failed)"
    )


def _ato(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_runs_best_search_shows_the_front(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    ids = write_front_search(db_url, EVALUATIONS)
    code, out = _ato(capsys, "--db", db_url, "--json", "runs", "best", "--search", "mo")
    assert code == 0
    data = json.loads(out)
    assert data["answer"] == ids[3] and data["budget"] == 9
    assert data["objectives"] == [{"key": "f1", "mode": "min"}, {"key": "gain", "mode": "max"}]
    assert data["constraints"] == ["c"]
    assert [m["trial"] for m in data["front"]] == ["2", "3", "4"]
    assert data["front"][1]["values"] == {"search/f1": 0.3, "search/gain": 3.0, "search/c": 0.0}
    assert [m["run"]["id"] for m in data["front"]] == [ids[2], ids[3], ids[4]]

    code, out = _ato(capsys, "--db", db_url, "runs", "best", "--search", "mo")
    assert code == 0
    headline = out.splitlines()[0]
    assert headline == (
        "Pareto front of search 'mo' (f1 min, gain max) at budget 9: 3 runs; answer (nearest "
        f"the ideal point): run {ids[3]}"
    )
    assert f"{ids[3]} ★" in out and "search/gain" in out
