"""Scope + HyperBand + SQLLogger together, checked afterwards through SQLFinder."""

from __future__ import annotations

import sys

import pytest

from ato import hyperopt, tracker
from ato import scope as scope_module
from ato.adict import ADict

SPACES = {
    "optim.lr": {
        "param_type": "FLOAT",
        "param_range": (1e-4, 1e-1),
        "num_samples": 4,
        "space_type": "LOG",
    },
    "model.width": {"param_type": "INTEGER", "param_range": (8, 64), "num_samples": 4},
}


@pytest.fixture(autouse=True)
def _plain_command_line(monkeypatch):
    """The scope reads sys.argv; give it a script's command line, not pytest's."""
    monkeypatch.setattr(sys, "argv", ["train.py"])


def _scope(db_url: str, forward_scale: int):
    """A scope with defaults, a traced forward function, and the tracker settings."""
    scope = scope_module.Scope()

    @scope.observe(default=True)
    def defaults(config):
        config.optim = ADict(lr=0.5, momentum=0.9)
        config.model = ADict(width=1)
        config.experiment = ADict(project_name="e2e", sql=ADict(db_path=db_url))

    if forward_scale == 1:

        @scope.trace(trace_id="forward")
        def forward(x):
            return x * 1

    else:

        @scope.trace(trace_id="forward")
        def forward(x):
            return sum([x] * 2)

    return scope


def _search(scope):
    search = hyperopt.HyperBand(
        scope,
        SPACES,
        halving_rate=0.5,
        num_min_samples=2,
        tracker=tracker.SQLLogger,
        metric_key="score",
        mode="max",
    )

    @search.main
    def train(config):
        return -abs(config.optim.lr - 1e-2) * 10 - abs(config.model.width - 40) / 100

    return train()


def test_search_results_are_found_in_the_database(tmp_path) -> None:
    db_url = f"sqlite:///{tmp_path / 'e2e.db'}"
    result = _search(_scope(db_url, forward_scale=1))

    finder = tracker.SQLFinder(
        ADict(experiment=ADict(project_name="e2e", sql=ADict(db_path=db_url)))
    )
    best = finder.find_best_run("e2e", "search/score", mode="max")  # the ranked value
    assert best is not None
    assert best.config.optim.lr == result.config.optim.lr == 1e-2
    assert best.config.model.width == result.config.model.width
    ranked = [m.value for m in best.metrics if m.key == "search/score"]
    assert max(ranked) == pytest.approx(result.metric)
    assert f"search:{result.search_id}" in best.tags
    assert best.status == "completed"

    runs = finder.get_runs_in_project("e2e")
    assert len(runs) == sum(len(round_) for round_ in result.logs)
    assert all(f"search:{result.search_id}" in run.tags for run in runs)
    final = finder.find_run(result.run_id)
    assert final is not None and final.config.optim.lr == result.config.optim.lr
    assert {fp.trace_id for fp in final.fingerprints} == {"forward"}


def test_trace_statistics_count_code_versions_across_searches(tmp_path) -> None:
    db_url = f"sqlite:///{tmp_path / 'e2e.db'}"
    first = _search(_scope(db_url, forward_scale=1))
    second = _search(_scope(db_url, forward_scale=2))

    finder = tracker.SQLFinder(
        ADict(experiment=ADict(project_name="e2e", sql=ADict(db_path=db_url)))
    )
    stats = finder.get_trace_statistics("e2e", "forward")
    assert stats["static_trace_versions"] == 2

    same_code = finder.find_similar_runs_by_trace(first.run_id, "forward", "static")
    same_ids = {run.id for run in same_code}
    first_search_runs = {
        run.id
        for run in finder.get_runs_in_project("e2e")
        if f"search:{first.search_id}" in run.tags
    }
    assert same_ids == first_search_runs - {first.run_id}
    assert second.run_id not in same_ids
