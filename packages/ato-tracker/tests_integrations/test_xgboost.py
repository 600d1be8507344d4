"""ato.tracker.integrations.xgboost.AtoCallback with real XGBoost training."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import xgboost

from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.integrations.xgboost import AtoCallback

PARAMS = {"objective": "binary:logistic", "max_depth": 2, "eta": 0.3, "seed": 0}
ROUNDS = 4


def _data() -> tuple[Any, Any]:
    rng = np.random.RandomState(0)
    x = rng.rand(80, 3)
    y = (x[:, 0] + 0.3 * rng.rand(80) > 0.6).astype(int)
    return xgboost.DMatrix(x[:60], label=y[:60]), xgboost.DMatrix(x[60:], label=y[60:])


def _metrics(url: str, run_id: int) -> dict[str, list[tuple[int | None, float]]]:
    run = SQLFinder(url).find_run(run_id)
    assert run is not None
    found: dict[str, list[tuple[int | None, float]]] = {}
    for metric in run.metrics:
        found.setdefault(metric.key, []).append((metric.step, metric.value))
    return found


def _only_run(url: str, project: str) -> Any:
    runs = SQLFinder(url).get_runs_in_project(project)
    assert len(runs) == 1
    return runs[0]


def test_every_round_of_every_dataset_is_logged_with_the_params_as_config(db_url: str) -> None:
    train, valid = _data()
    history: dict[str, Any] = {}
    params = {**PARAMS, "eval_metric": ["logloss", "error"]}
    xgboost.train(
        params,
        train,
        ROUNDS,
        evals=[(train, "train"), (valid, "validation_0")],
        evals_result=history,
        verbose_eval=False,
        callbacks=[AtoCallback(db=db_url, project="xgb", params=params, tags=["boost"])],
    )
    run = _only_run(db_url, "xgb")
    stored = _metrics(db_url, run.id)
    for dataset, metrics in history.items():
        for metric, values in metrics.items():
            assert stored[f"{dataset}/{metric}"] == list(enumerate(values))
    best = int(np.argmin(history["validation_0"]["error"]))  # the last metric, minimised
    assert stored["best_iteration"] == [(None, best)]
    assert stored["best/validation_0/error"] == [(None, history["validation_0"]["error"][best])]
    assert len(stored) == 6
    assert run.config.to_dict() == {"xgboost": params}
    assert (run.status, run.tags) == ("completed", ["boost"])


def test_early_stopping_s_best_iteration_is_the_one_recorded(db_url: str) -> None:
    train, valid = _data()
    booster = xgboost.train(
        {**PARAMS, "eta": 1.0, "eval_metric": "logloss"},
        train,
        50,
        evals=[(valid, "valid")],
        early_stopping_rounds=2,
        verbose_eval=False,
        callbacks=[AtoCallback(db=db_url, project="xgb")],
    )
    stored = _metrics(db_url, _only_run(db_url, "xgb").id)
    assert booster.num_boosted_rounds() < 50  # it did stop early
    assert stored["best_iteration"] == [(None, booster.best_iteration)]
    assert stored["best/valid/logloss"] == [(None, pytest.approx(booster.best_score))]
    assert len(stored["valid/logloss"]) == booster.num_boosted_rounds()


def test_without_params_the_boosters_own_config_is_stored(db_url: str) -> None:
    train, _ = _data()
    xgboost.train(PARAMS, train, 2, callbacks=[AtoCallback(db=db_url, project="xgb")])
    config = _only_run(db_url, "xgb").config["xgboost"]
    assert (config["objective"], config["max_depth"], config["seed"]) == (
        "binary:logistic",
        2,
        0,
    )
    assert config["eta"] == pytest.approx(0.3)  # XGBoost keeps it in single precision


def test_the_scikit_learn_estimator_logs_its_eval_sets_by_xgboost_s_names(db_url: str) -> None:
    rng = np.random.RandomState(1)
    x, y = rng.rand(60, 2), rng.randint(0, 2, 60)
    model = xgboost.XGBClassifier(
        n_estimators=3, max_depth=2, callbacks=[AtoCallback(db=db_url, project="sk")]
    )
    model.fit(x, y, eval_set=[(x[:30], y[:30]), (x[30:], y[30:])], verbose=False)
    stored = _metrics(db_url, _only_run(db_url, "sk").id)
    history = model.evals_result()
    assert sorted(stored) == [
        "best/validation_1/logloss",
        "best_iteration",
        "validation_0/logloss",
        "validation_1/logloss",
    ]
    assert stored["validation_1/logloss"] == list(enumerate(history["validation_1"]["logloss"]))


def test_a_logger_with_a_running_run_gets_the_metrics_and_keeps_its_run_open(
    sqlite_url: str,
) -> None:
    train, valid = _data()
    logger = SQLLogger.from_url(sqlite_url, "mine")
    run_id = logger.run(config={"lr": 0.1})
    logger.log_metric("before", 1.0, 0)
    xgboost.train(PARAMS, train, 2, evals=[(valid, "v")], callbacks=[AtoCallback(logger)])
    run = logger.get_current_run()
    assert run is not None and run.id == run_id
    assert run.status == "running"
    params = run.provenance["xgboost"]  # a run's config is fixed when it starts
    assert (params["max_depth"], params["objective"]) == (2, "binary:logistic")
    assert run.config.to_dict() == {"lr": 0.1}
    assert [(m.key, m.step) for m in run.metrics] == [
        ("before", 0),
        ("v/logloss", 0),
        ("v/logloss", 1),
        ("best_iteration", None),
        ("best/v/logloss", None),
    ]
    logger.finish()
    assert logger.get_current_run().status == "completed"  # type: ignore[union-attr]


def test_logger_and_db_together_are_refused(sqlite_url: str) -> None:
    from ato.tracker import TrackerConfigError

    logger = SQLLogger.from_url(sqlite_url, "p")
    with pytest.raises(TrackerConfigError, match="either logger= or db="):
        AtoCallback(logger, db=sqlite_url)
