from __future__ import annotations

import math

from ato.adict import ADict
from ato.hyperopt import HyperBand

X = dict(param_type="INTEGER", param_range=(0, 5), num_samples=6)


def _search(tracker, **options):
    hb = HyperBand(
        ADict(name="exp"), {"x": X}, halving_rate=0.5, num_min_samples=2, tracker=tracker, **options
    )

    @hb.main
    def train(config):
        if config.x == 1:
            raise ValueError("bad x")
        return config.x * 1.5

    return train()


def test_every_trial_is_a_tagged_run_with_its_config_and_metric(fake_logger) -> None:
    result = _search(fake_logger, search_id="s1")
    runs = fake_logger.runs
    assert len(runs) == sum(len(r) for r in result.logs) == 6 + 3 + 1
    for k, round_log in enumerate(result.logs):
        for entry in round_log:
            run = runs[entry.__run_id__]
            final = ["final"] if k == len(result.logs) - 1 else []  # the search's answer
            contract = [
                f"trial:{entry.x}",
                f"rung:{k}",
                "bracket:0",
                "mode:max",
                "metric_key:metric",
            ]
            assert run["tags"] == ["search:s1", f"round:{k}", *contract, *final]
            assert run["config"].x == entry.x and run["config"].name == "exp"
            assert run["config"].__num_halved__ == k
            if "__error__" in entry:
                assert run["status"] == "failed" and run["metrics"] == []
            else:
                assert run["status"] == "completed"
                assert run["metrics"] == [("search/metric", entry.__metric__, k)]
    assert result.search_id == "s1"
    assert runs[result.run_id]["metrics"] == [("search/metric", 7.5, 2)]
    assert result.logs[-1][0].__run_id__ == result.run_id


def test_logger_without_config_keyword_still_records_runs(fake_logger_cls) -> None:
    logger = fake_logger_cls(accept_config=False)
    result = _search(logger, metric_key="val_acc")
    assert len(logger.runs) == 10
    tags = {t for run in logger.runs.values() for t in run["tags"]}
    assert f"search:{result.search_id}" in tags and len(result.search_id) == 12
    assert logger.runs[result.run_id]["metrics"] == [("search/val_acc", 7.5, 2)]


def test_factory_tracker_gets_each_trial_config(fake_logger_cls) -> None:
    created = []

    class PerTrialLogger(fake_logger_cls):
        def __init__(self, config):
            super().__init__(config)
            created.append(self)

    result = _search(PerTrialLogger)
    assert len(created) == 10 + 1  # one per trial, and one to tag the answer's run
    assert [c.config.x for c in created[:6]] == list(range(6))
    assert created[-2].config.__num_halved__ == 2 and created[-1].config == created[-2].config
    final = created[-2].runs[result.run_id]
    assert final["status"] == "completed" and created[-1].runs == {}


def test_nan_metric_is_not_logged_but_the_run_completes(fake_logger) -> None:
    hb = HyperBand(ADict(), {"x": X}, halving_rate=0.5, num_min_samples=2, tracker=fake_logger)
    hb.main(lambda config: math.nan if config.x == 0 else config.x)()
    nan_runs = [r for r in fake_logger.runs.values() if r["config"].x == 0]
    assert nan_runs[0]["status"] == "completed" and nan_runs[0]["metrics"] == []


def test_interrupt_closes_the_run_as_failed_and_propagates(fake_logger) -> None:
    import pytest

    hb = HyperBand(ADict(), {"x": X}, halving_rate=0.5, num_min_samples=2, tracker=fake_logger)

    def train(config):
        if config.x == 2:
            raise KeyboardInterrupt
        return config.x

    with pytest.raises(KeyboardInterrupt):
        hb.main(train)()
    statuses = [run["status"] for run in fake_logger.runs.values()]
    assert statuses == ["completed", "completed", "failed"]


def test_current_logger_is_the_trial_run_logger_only_inside_trials(fake_logger) -> None:
    from ato.hyperopt import current_logger

    spaces = {"x": {"param_type": "INTEGER", "param_range": (0, 3), "num_samples": 4}}
    search = HyperBand(ADict(x=0), spaces, halving_rate=0.5, num_min_samples=2, tracker=fake_logger)
    seen = []

    @search.main
    def train(config):
        logger = current_logger()
        seen.append(logger)
        logger.log_metric("loss", 1.0 / (config.x + 1), 0)
        return config.x

    assert current_logger() is None
    train()
    assert current_logger() is None
    assert seen and None not in seen  # a view that checks the stop flags, then logs here:
    assert all(
        ("loss", 1.0 / (r["config"].x + 1), 0) in r["metrics"] for r in fake_logger.runs.values()
    )


def test_a_search_inside_a_trial_restores_the_outer_trial_logger(fake_logger_cls) -> None:
    from ato.hyperopt import current_logger

    outer_logger, inner_logger = fake_logger_cls(), fake_logger_cls()
    small = {"x": {"param_type": "INTEGER", "param_range": (0, 1), "num_samples": 2}}
    seen_after_inner = []

    def outer_trial(config):
        inner = HyperBand(ADict(), small, halving_rate=0.5, num_min_samples=2, tracker=inner_logger)
        inner.main(lambda c: c.x)()
        seen_after_inner.append(current_logger())
        current_logger().log_metric("after_inner", 1.0, 0)
        return config.x

    outer = HyperBand(ADict(), small, halving_rate=0.5, num_min_samples=2, tracker=outer_logger)
    outer.main(outer_trial)()
    assert seen_after_inner and None not in seen_after_inner
    logged = [m[0] for r in outer_logger.runs.values() for m in r["metrics"]]
    assert logged.count("after_inner") == len(seen_after_inner)
    assert not [m for r in inner_logger.runs.values() for m in r["metrics"] if "after" in m[0]]
    assert current_logger() is None
