"""HyperBand recording every trial with the real ato-tracker SQLLogger (SQLite file)."""

from __future__ import annotations

import pytest

tracker = pytest.importorskip("ato.tracker")

from ato.adict import ADict  # noqa: E402
from ato.hyperopt import HyperBand  # noqa: E402


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
        ("metric", 0.7, len(result.logs) - 1)
    ]
    failed = [run for run in runs if run.status == "failed"]
    assert [run.config.x for run in failed] == [2]
    best = finder.find_best_run("search", "metric", "max")
    assert best.config.x == 7
