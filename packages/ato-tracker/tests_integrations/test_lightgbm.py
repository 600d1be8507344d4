"""ato.tracker.integrations.lightgbm.ato_callback with real LightGBM training."""

from __future__ import annotations

from typing import Any

import lightgbm
import numpy as np
import pytest

from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.integrations.lightgbm import ato_callback

PARAMS = {"objective": "regression", "num_leaves": 4, "learning_rate": 0.2, "verbose": -1}
ROUNDS = 5


def _data() -> tuple[Any, Any]:
    rng = np.random.RandomState(0)
    x = rng.rand(200, 3)
    y = 2 * x[:, 0] + 0.5 * rng.rand(200)
    train = lightgbm.Dataset(x[:150], y[:150], params={"verbose": -1})
    return train, lightgbm.Dataset(x[150:], y[150:], reference=train)


def _metrics(url: str, project: str) -> tuple[Any, dict[str, list[tuple[int | None, float]]]]:
    runs = SQLFinder(url).get_runs_in_project(project)
    assert len(runs) == 1
    found: dict[str, list[tuple[int | None, float]]] = {}
    for metric in runs[0].metrics:
        found.setdefault(metric.key, []).append((metric.step, metric.value))
    return runs[0], found


def test_every_round_of_every_dataset_is_logged_with_the_params_as_config(db_url: str) -> None:
    train, valid = _data()
    history: dict[str, Any] = {}
    params = {**PARAMS, "metric": ["l2", "l1"]}
    lightgbm.train(
        params,
        train,
        ROUNDS,
        valid_sets=[train, valid],
        valid_names=["train", "valid_0"],
        callbacks=[lightgbm.record_evaluation(history), ato_callback(db=db_url, project="gbm")],
    )
    run, stored = _metrics(db_url, "gbm")
    for dataset, metrics in history.items():
        for metric, values in metrics.items():
            assert stored[f"{dataset}/{metric}"] == list(enumerate(values))
    best = int(np.argmin(history["valid_0"]["l2"]))  # first metric of the first validation set
    assert stored["best_iteration"] == [(None, best)]
    assert stored["best/valid_0/l2"] == [(None, history["valid_0"]["l2"][best])]
    assert len(stored) == 6
    assert run.config.to_dict() == {"lightgbm": {**params, "num_iterations": ROUNDS}}
    assert run.status == "completed"


def _stop_at(round_: int, best: int) -> Any:
    """A callback doing what LightGBM's early stopping does: raise at ``round_``."""

    def stop(env: Any) -> None:
        if env.iteration == round_:
            raise lightgbm.EarlyStopException(best, env.evaluation_result_list)

    stop.order = 30  # type: ignore[attr-defined]  # early_stopping's place
    return stop


def test_after_early_stopping_the_with_block_finishes_the_run_with_lightgbm_s_best(
    db_url: str,
) -> None:
    train, valid = _data()
    with ato_callback(db=db_url, project="gbm") as callback:
        booster = lightgbm.train(
            PARAMS, train, 50, valid_sets=[valid], callbacks=[callback, _stop_at(3, 1)]
        )
        assert SQLFinder(db_url).get_runs_in_project("gbm")[0].status == "running"
    run, stored = _metrics(db_url, "gbm")
    assert booster.best_iteration == 2  # LightGBM's count: the 2nd round, i.e. step 1
    assert stored["best_iteration"] == [(None, 1)]
    assert stored["best/valid_0/l2"] == [(None, booster.best_score["valid_0"]["l2"])]
    assert [step for step, _ in stored["valid_0/l2"]] == [0, 1, 2, 3]  # the stopping round too
    assert run.status == "completed"


def test_the_next_training_finishes_a_run_early_stopping_left_open(sqlite_url: str) -> None:
    train, valid = _data()
    callback = ato_callback(db=sqlite_url, project="gbm")
    lightgbm.train(PARAMS, train, 50, valid_sets=[valid], callbacks=[callback, _stop_at(2, 2)])
    lightgbm.train(PARAMS, train, 2, valid_sets=[valid], callbacks=[callback])
    first, second = SQLFinder(sqlite_url).get_runs_in_project("gbm")
    assert (first.status, second.status) == ("completed", "completed")
    assert [(m.key, m.step) for m in first.metrics if m.key.startswith("best")] == [
        ("best_iteration", None),
        ("best/valid_0/l2", None),
    ]
    assert len([m for m in second.metrics if m.key == "valid_0/l2"]) == 2


def test_an_error_inside_the_with_block_fails_the_run(sqlite_url: str) -> None:
    train, valid = _data()

    def explode(env: Any) -> None:
        if env.iteration == 1:
            raise RuntimeError("diverged")

    callback = ato_callback(db=sqlite_url, project="gbm")
    with pytest.raises(RuntimeError, match="diverged"), callback:
        lightgbm.train(PARAMS, train, 5, valid_sets=[valid], callbacks=[callback, explode])
    run, stored = _metrics(sqlite_url, "gbm")
    assert run.status == "failed"
    assert [step for step, _ in stored["valid_0/l2"]] == [0, 1]


def test_a_monitored_metric_and_mode_choose_the_best_round(sqlite_url: str) -> None:
    train, valid = _data()
    logger = SQLLogger.from_url(sqlite_url, "gbm")
    callback = ato_callback(logger, monitor="valid_0/l2", mode="max", tags=["t"])
    history: dict[str, Any] = {}
    lightgbm.train(
        PARAMS,
        train,
        ROUNDS,
        valid_sets=[valid],
        callbacks=[lightgbm.record_evaluation(history), callback],
    )
    run, stored = _metrics(sqlite_url, "gbm")
    worst = int(np.argmax(history["valid_0"]["l2"]))
    assert stored["best_iteration"] == [(None, worst)]
    assert run.tags == ["t"]
