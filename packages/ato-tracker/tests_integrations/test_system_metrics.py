"""Every integration passes ``system_metrics=`` (and the ``ATO_SYSTEM_METRICS`` switch) to the
logger it makes: its runs get ``system/...`` keys when asked, and none when not. Each training
is slowed down (a sleep per step) so that it lasts several sampling intervals."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hf_helpers  # next to the tests: on pytest's pythonpath (pyproject.toml)
import keras
import lightgbm
import lightning.pytorch as pl
import numpy as np
import optuna
import pytest
import xgboost
from lightning.pytorch.demos.boring_classes import BoringModel
from transformers import TrainerCallback

from ato.tracker import SQLFinder, SQLLogger, TrackerConfigError
from ato.tracker.integrations import keras as ato_keras
from ato.tracker.integrations import lightgbm as ato_lightgbm
from ato.tracker.integrations import lightning as ato_lightning
from ato.tracker.integrations import optuna as ato_optuna
from ato.tracker.integrations import transformers as ato_transformers
from ato.tracker.integrations import xgboost as ato_xgboost

INTERVAL = 0.02  # seconds between samples
PAUSE = 0.06  # seconds slept per step: three intervals
STEPS = 5
HOST_KEYS = {"system/cpu_percent", "system/memory_percent", "system/process_memory_rss_bytes"}

optuna.logging.set_verbosity(optuna.logging.ERROR)


def _pause(*_args: Any, **_kwargs: Any) -> bool:
    time.sleep(PAUSE)
    return False


def _lightning(url: str, project: str, folder: Path, **options: Any) -> None:
    class Slow(pl.Callback):
        def on_train_batch_end(self, *args: Any, **kwargs: Any) -> None:
            _pause()

    logger = ato_lightning.AtoLogger(url, project, **options)
    pl.Trainer(
        logger=logger,
        callbacks=[Slow()],
        default_root_dir=folder,
        max_steps=STEPS,
        limit_val_batches=0,
        log_every_n_steps=1,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        devices=1,
    ).fit(BoringModel())
    logger.finish()


def _transformers(url: str, project: str, folder: Path, **options: Any) -> None:
    class Slow(TrainerCallback):
        def on_step_end(self, *args: Any, **kwargs: Any) -> None:
            _pause()

    callback = ato_transformers.AtoCallback(url, project, **options)
    trainer = hf_helpers.make_trainer(folder, callback, max_steps=STEPS, eval_steps=STEPS)
    trainer.add_callback(Slow())
    trainer.train()


def _keras(url: str, project: str, folder: Path, **options: Any) -> None:
    class Slow(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            _pause()

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.RandomState(0).rand(16, 3).astype("float32")
    callback = ato_keras.AtoCallback(db=url, project=project, **options)
    model.fit(x, x[:, 0], epochs=STEPS, verbose=0, callbacks=[Slow(), callback])


def _xgboost(url: str, project: str, folder: Path, **options: Any) -> None:
    class Slow(xgboost.callback.TrainingCallback):
        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            return _pause()

    x = np.random.RandomState(0).rand(40, 3)
    data = xgboost.DMatrix(x, label=x[:, 0])
    callback = ato_xgboost.AtoCallback(db=url, project=project, **options)
    xgboost.train(
        {"max_depth": 2}, data, STEPS, evals=[(data, "train")], callbacks=[Slow(), callback]
    )


def _lightgbm(url: str, project: str, folder: Path, **options: Any) -> None:
    x = np.random.RandomState(0).rand(60, 3)
    train = lightgbm.Dataset(x, x[:, 0], params={"verbose": -1})
    callback = ato_lightgbm.ato_callback(db=url, project=project, **options)
    params = {"objective": "regression", "num_leaves": 4, "verbose": -1}
    lightgbm.train(params, train, STEPS, valid_sets=[train], callbacks=[_pause, callback])


def _optuna(url: str, project: str, folder: Path, **options: Any) -> None:
    def objective(trial: optuna.Trial) -> float:
        time.sleep(PAUSE * STEPS)
        return trial.suggest_float("x", 0.0, 1.0)

    callback = ato_optuna.AtoCallback(url, project=project, **options)
    optuna.create_study(study_name=project).optimize(objective, n_trials=2, callbacks=[callback])
    callback.close()


TRAININGS: dict[str, Callable[..., None]] = {
    "lightning": _lightning,
    "transformers": _transformers,
    "keras": _keras,
    "xgboost": _xgboost,
    "lightgbm": _lightgbm,
    "optuna": _optuna,
}


def _system_keys(url: str, project: str) -> list[set[str]]:
    runs = sorted(SQLFinder.from_url(url).get_runs_in_project(project), key=lambda r: r.id)
    assert runs, "the training recorded no run"
    return [{m.key for m in run.metrics if m.key.startswith("system/")} for run in runs]


# (ATO_SYSTEM_METRICS, the system_metrics= argument (None: not given), system keys expected)
SETTINGS = {
    "an interval given": (None, INTERVAL, True),
    "the environment switch": (str(INTERVAL), None, True),
    "False over the environment": (str(INTERVAL), False, False),
}


@pytest.mark.parametrize("setting", sorted(SETTINGS))
@pytest.mark.parametrize("framework", sorted(TRAININGS))
def test_system_metrics_are_recorded_when_asked_and_only_then(
    framework: str, setting: str, sqlite_url: str, project: str, tmp_path: Path, monkeypatch: Any
) -> None:
    environment, argument, expected = SETTINGS[setting]
    if environment is None:
        monkeypatch.delenv("ATO_SYSTEM_METRICS", raising=False)
    else:
        monkeypatch.setenv("ATO_SYSTEM_METRICS", environment)
    options = {} if argument is None else {"system_metrics": argument}
    TRAININGS[framework](sqlite_url, project, tmp_path, **options)
    for keys in _system_keys(sqlite_url, project):
        if expected:
            assert keys >= HOST_KEYS
        else:
            assert keys == set()


def test_optuna_gives_each_trial_the_samples_of_its_own_time(
    sqlite_url: str, project: str, monkeypatch: Any
) -> None:
    monkeypatch.delenv("ATO_SYSTEM_METRICS", raising=False)
    callback = ato_optuna.AtoCallback(sqlite_url, project=project, system_metrics=INTERVAL)
    study = optuna.create_study(study_name=project)

    def objective(trial: optuna.Trial) -> float:
        time.sleep(PAUSE * 3)
        return trial.suggest_float("x", 0.0, 1.0)

    study.optimize(objective, n_trials=3, callbacks=[callback])
    callback.close()
    runs = sorted(SQLFinder.from_url(sqlite_url).get_runs_in_project(project), key=lambda r: r.id)
    assert len(runs) == 3
    for run, trial in zip(runs, study.trials, strict=True):
        start, end = trial.datetime_start.timestamp(), trial.datetime_complete.timestamp()
        samples = [m for m in run.metrics if m.key == "system/cpu_percent"]
        assert samples, f"trial {trial.number} got no sample"
        assert all(start <= m.timestamp.timestamp() <= end for m in samples)
        assert [m.step for m in sorted(samples, key=lambda m: m.step)] == list(range(len(samples)))


@pytest.mark.parametrize("framework", ["keras", "xgboost", "lightgbm"])
def test_system_metrics_with_a_logger_of_ones_own_is_refused(
    framework: str, sqlite_url: str, project: str
) -> None:
    logger = SQLLogger.from_url(sqlite_url, project)
    make = {
        "keras": ato_keras.AtoCallback,
        "xgboost": ato_xgboost.AtoCallback,
        "lightgbm": ato_lightgbm.ato_callback,
    }[framework]
    with pytest.raises(TrackerConfigError, match="system_metrics"):
        make(logger, system_metrics=True)
    logger.close()
