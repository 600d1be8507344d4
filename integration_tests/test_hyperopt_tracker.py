"""HyperBand recording every trial with the real ato-tracker SQLLogger (SQLite file)."""

from __future__ import annotations

import pytest

from ato import tracker
from ato.adict import ADict
from ato.hyperopt import HyperBand


def test_each_trial_is_a_tracked_run_and_the_result_names_the_best(tmp_path) -> None:
    db = f"sqlite:///{tmp_path / 'runs.db'}"
    base = ADict(x=0, experiment=ADict(project_name="search", sql=ADict(db_path=db)))
    spaces = {"x": dict(param_type="INTEGER", param_range=(0, 7), num_samples=8)}
    hb = HyperBand(base, spaces, halving_rate=0.5, num_min_samples=2, tracker=tracker.SQLLogger)

    @hb.main
    def train(config):
        if config.x == 2:
            raise RuntimeError("diverged")
        return config.x / 10

    result = train()
    finder = tracker.SQLFinder(base)
    runs = finder.get_runs_in_project("search")
    assert len(runs) == sum(len(r) for r in result.logs) == 8 + 4 + 2 + 1
    by_id = {run.id: run for run in runs}
    final = by_id[result.run_id]
    assert final.config.x == 7 and final.status == "completed"
    assert (
        f"search:{result.search_id}" in final.tags and f"round:{len(result.logs) - 1}" in final.tags
    )
    assert [(m.key, m.value, m.step) for m in final.metrics] == [
        ("search/metric", 0.7, len(result.logs) - 1)
    ]
    failed = [run for run in runs if run.status == "failed"]
    assert [run.config.x for run in failed] == [2]
    best = finder.find_best_run("search", "search/metric", "max")
    assert best.config.x == 7


def test_trials_log_their_own_curves_through_current_logger(tmp_path) -> None:
    from ato.hyperopt import current_logger

    db = f"sqlite:///{tmp_path / 'curves.db'}"
    base = ADict(lr=0.0, experiment=ADict(project_name="curves", sql=ADict(db_path=db)))
    spaces = {"lr": dict(param_type="FLOAT", param_range=(0.1, 0.4), num_samples=4)}
    hb = HyperBand(base, spaces, halving_rate=0.5, num_min_samples=2, tracker=tracker.SQLLogger)

    @hb.main
    def train(config):
        loss = 1.0
        for epoch in range(2 + config.__num_halved__):
            loss *= 1 - config.lr
            current_logger().log_metric("loss", loss, epoch)
        return -loss

    result = train()
    assert current_logger() is None
    runs = tracker.SQLFinder(base).get_runs_in_project("curves")
    assert len(runs) == sum(len(r) for r in result.logs)
    for run in runs:
        k = int(next(t for t in run.tags if t.startswith("round:")).split(":")[1])
        losses = [(m.value, m.step) for m in run.metrics if m.key == "loss"]
        assert [step for _, step in losses] == list(range(2 + k))
        assert losses[-1][0] == pytest.approx((1 - run.config.lr) ** (2 + k))
        assert [m.step for m in run.metrics if m.key == "search/metric"] == [k]


def test_runtime_fingerprints_taken_during_a_trial_are_stored_with_its_run(
    tmp_path, monkeypatch
) -> None:
    import sys

    from ato import scope as scope_mod

    monkeypatch.setattr(sys, "argv", ["train.py"])
    db = f"sqlite:///{tmp_path / 'fp.db'}"
    scope = scope_mod.Scope()

    @scope.observe(default=True)
    def defaults(config):
        config.width = 1
        config.experiment = ADict(project_name="fp", sql=ADict(db_path=db))

    @scope.runtime_trace(trace_id="head")
    def head(width):
        return [0.5] * width

    spaces = {"width": dict(param_type="INTEGER", param_range=(1, 4), num_samples=4)}
    hb = HyperBand(scope, spaces, halving_rate=0.5, num_min_samples=2, tracker=tracker.SQLLogger)
    result = hb.main(lambda config: sum(head(config.width)))()

    finder = tracker.SQLFinder(ADict(experiment=ADict(project_name="fp", sql=ADict(db_path=db))))
    runs = finder.get_runs_in_project("fp")
    assert len(runs) == sum(len(r) for r in result.logs)
    assert all({fp.trace_id for fp in run.fingerprints} == {"head"} for run in runs)
    round0 = [run for run in runs if "round:0" in run.tags]
    assert len({fp.fingerprint for run in round0 for fp in run.fingerprints}) == 4
    same_output = finder.find_similar_runs_by_trace(result.run_id, "head", "runtime")
    assert {run.config.width for run in same_output} == {4}


def test_a_timed_out_trial_is_a_failed_run_with_a_timeout_metric_not_left_running(
    tmp_path,
) -> None:
    import time

    from ato.hyperopt import GridSampler, Search, SuccessiveHalvingSchedule

    db = f"sqlite:///{tmp_path / 'timeout.db'}"
    base = ADict(x=0, experiment=ADict(project_name="timeouts", sql=ADict(db_path=db)))
    spaces = {"x": dict(param_type="INTEGER", param_range=(0, 3), num_samples=4)}
    search = Search(
        base,
        spaces,
        sampler=GridSampler(),
        schedule=SuccessiveHalvingSchedule(0.5, 2, max_budget=2),
        tracker=tracker.SQLLogger,
        trial_timeout=2.0,  # room for each trial's SQLLogger to open on a loaded machine
        progress=False,
    )

    @search.main
    def train(config):
        if config.x == 1:
            time.sleep(8)  # hangs past trial_timeout (and its grace period)
        return float(config.x)

    result = train()
    runs = tracker.SQLFinder(base).get_runs_in_project("timeouts")
    assert len(runs) == 4 + 2 + 1 and result.config.x == 3
    assert sorted(run.status for run in runs) == ["completed"] * 6 + ["failed"]
    (failed,) = [run for run in runs if run.status == "failed"]
    assert failed.config.x == 1
    assert [(m.key, m.value, m.step) for m in failed.metrics] == [("timeout", 2.0, 0)]
