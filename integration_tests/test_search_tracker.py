"""Search with ato-tracker's SQLLogger in one process: one run per (trial, rung) with its tags,
the answer tagged, and a search interrupted mid-rung resumed from the database."""

from __future__ import annotations

import math

import pytest

from ato.adict import ADict
from ato.hyperopt import ASHASchedule, HyperbandSchedule, RandomSampler, Search
from ato.tracker import SQLFinder, SQLLogger

SPACES = {
    "lr": dict(param_type="FLOAT", param_range=(1e-4, 1e-1), space_type="LOG"),
    "width": dict(param_type="INTEGER", param_range=(8, 256), space_type="LOG"),
}


def _config(tmp_path) -> ADict:
    return ADict(
        lr=0.1,
        width=8,
        experiment=ADict(project_name="search", sql=ADict(db_path=f"sqlite:///{tmp_path}/r.db")),
    )


def _train(stop_at: int = -1, calls: list | None = None):
    def train(config) -> float:
        if stop_at >= 0 and config.__trial_id__ == stop_at:
            raise KeyboardInterrupt
        if calls is not None:
            calls.append((config.__trial_id__, config.__num_halved__))
        return (
            -abs(math.log10(config.lr) + 2) + math.log2(config.width) / 10 + config.__budget__ / 100
        )

    return train


def _tags(run) -> dict[str, str]:
    return dict(tag.split(":", 1) for tag in run.tags if ":" in tag)


@pytest.mark.parametrize("tracker_kind", ["factory", "instance"])
def test_each_trial_rung_is_a_run_and_a_resumed_search_skips_finished_ones(
    tmp_path, tracker_kind: str, capsys
) -> None:
    config = _config(tmp_path)

    def search(search_id: str, resume: bool = False) -> Search:
        tracker = SQLLogger if tracker_kind == "factory" else SQLLogger(config)
        return Search(
            config,
            SPACES,
            sampler=RandomSampler(seed=2),
            schedule=HyperbandSchedule(max_budget=9, reduction_factor=3),
            tracker=tracker,
            search_id=search_id,
            resume=resume,
            progress=False,
            checkpoint_root=tmp_path / "ckpt",
        )

    reference_calls: list = []
    reference = search("ref").main(_train(calls=reference_calls))()
    runs = [r for r in SQLFinder(config).get_runs_in_project("search") if "search:ref" in r.tags]
    assert len(runs) == len(reference_calls)  # the answer's re-evaluation included
    keys = {(_tags(r)["trial"], _tags(r)["rung"]) for r in runs}
    assert len(keys) == len(runs)
    for run in runs:
        tags = _tags(run)
        assert float(tags["budget"]) in (1, 3, 9) and run.status == "completed"
        assert [(m.key, m.step) for m in run.metrics] == [("search/metric", int(tags["rung"]))]
    answer = next(r for r in runs if r.id == reference.run_id)
    assert _tags(answer)["trial"] == str(reference.trial_id) and answer.status == "completed"
    assert answer.config["__trial_id__"] == reference.trial_id
    # ato-tracker's SQLLogger.add_tags tags the answer's run; a tracker without it, nothing
    tagged = [r.id for r in runs if "final" in r.tags]
    assert tagged == [answer.id]

    first_calls: list = []
    with pytest.raises(KeyboardInterrupt):
        search("cut").main(_train(stop_at=11, calls=first_calls))()
    assert "search_id='cut', resume=True" in capsys.readouterr().err
    resumed_calls: list = []
    resumed = search("cut", resume=True).main(_train(calls=resumed_calls))()
    assert (resumed.config, resumed.metric) == (reference.config, reference.metric)
    assert not set(first_calls) & set(resumed_calls)
    assert sorted(first_calls + resumed_calls) == sorted(reference_calls)
    cut = [r for r in SQLFinder(config).get_runs_in_project("search") if "search:cut" in r.tags]
    assert [r.status for r in cut].count("killed") == 1


def test_asha_search_is_tracked_with_budgets_per_rung(tmp_path) -> None:
    config = _config(tmp_path)
    result = Search(
        config,
        SPACES,
        sampler=RandomSampler(seed=0),
        schedule=ASHASchedule(max_budget=9, reduction_factor=3, max_trials=12),
        tracker=SQLLogger,
        progress=False,
        checkpoint_root=tmp_path / "ckpt",
    ).main(_train())()
    runs = list(SQLFinder(config).get_runs_in_project("search"))
    by_rung: dict[str, set[str]] = {}
    for run in runs:
        tags = _tags(run)
        by_rung.setdefault(tags["rung"], set()).add(tags["budget"])
    assert by_rung["0"] == {"1"} and by_rung["1"] == {"3"} and "9" in by_rung["2"]
    assert len([r for r in runs if _tags(r)["rung"] == "0"]) == 12
    assert result.budget == 9
