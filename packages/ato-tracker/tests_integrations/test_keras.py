"""ato.tracker.integrations.keras.AtoCallback with real Keras 3 (the torch backend, set in
conftest.py before Keras is imported)."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from ato.tracker import SQLFinder, SQLLogger
from ato.tracker.integrations.keras import AtoCallback, metric_key

EPOCHS = 3


def _model() -> Any:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ],
        name="tiny",
    )
    model.compile(optimizer=keras.optimizers.SGD(0.125), loss="mse", metrics=["accuracy"])
    return model


def _data() -> tuple[Any, Any]:
    rng = np.random.RandomState(0)
    x = rng.rand(48, 3).astype("float32")
    return x, (x[:, 0] > 0.5).astype("float32")


def _stored(url: str, project: str) -> tuple[Any, dict[str, list[tuple[int | None, float]]]]:
    runs = SQLFinder(url).get_runs_in_project(project)
    assert len(runs) == 1
    found: dict[str, list[tuple[int | None, float]]] = {}
    for metric in runs[0].metrics:
        found.setdefault(metric.key, []).append((metric.step, metric.value))
    return runs[0], found


def test_keras_log_names_become_dataset_keys() -> None:
    assert metric_key("loss") == "train/loss"
    assert metric_key("val_accuracy") == "validation/accuracy"
    assert metric_key("learning_rate") == "train/learning_rate"


def test_every_epoch_is_logged_with_fit_params_and_optimizer_as_config(db_url: str) -> None:
    x, y = _data()
    model = _model()
    history = model.fit(
        x[:32],
        y[:32],
        validation_data=(x[32:], y[32:]),
        epochs=EPOCHS,
        batch_size=16,
        verbose=0,
        callbacks=[AtoCallback(db=db_url, project="keras", config={"seed": 0}, tags="k")],
    ).history
    run, stored = _stored(db_url, "keras")
    for name, values in history.items():
        assert stored[metric_key(name)] == list(enumerate(values))
    best = int(np.argmin(history["val_loss"]))
    assert stored["best_iteration"] == [(None, best)]
    assert stored["best/validation/loss"] == [(None, history["val_loss"][best])]
    assert len(stored) == 6
    config = run.config.to_dict()
    assert config["seed"] == 0
    assert config["keras"]["fit"] == {"verbose": 0, "epochs": EPOCHS, "steps": 2}
    assert config["keras"]["model"] == {"name": "tiny", "params": 21}
    assert config["keras"]["optimizer"]["class"] == "SGD"
    assert config["keras"]["optimizer"]["learning_rate"] == 0.125
    assert (run.status, run.tags) == ("completed", ["k"])


def test_a_maximised_monitor_picks_its_best_epoch(sqlite_url: str) -> None:
    x, y = _data()
    model = _model()
    history = model.fit(
        x,
        y,
        epochs=EPOCHS,
        verbose=0,
        callbacks=[AtoCallback(db=sqlite_url, project="keras", monitor="accuracy")],
    ).history
    _, stored = _stored(sqlite_url, "keras")
    best = int(np.argmax(history["accuracy"]))  # ties: the earliest epoch, as np.argmax
    assert stored["best_iteration"] == [(None, best)]
    assert sorted(stored) == [
        "best/train/accuracy",
        "best_iteration",
        "train/accuracy",
        "train/loss",
    ]


def test_a_logger_with_a_running_run_keeps_it_open(sqlite_url: str) -> None:
    x, y = _data()
    logger = SQLLogger.from_url(sqlite_url, "mine")
    run_id = logger.run()
    _model().fit(x, y, epochs=2, verbose=0, callbacks=[AtoCallback(logger)])
    run = logger.get_current_run()
    assert run is not None and (run.id, run.status) == (run_id, "running")
    assert run.provenance["keras"]["fit"]["epochs"] == 2
    assert [(m.key, m.step) for m in run.metrics if m.step is not None] == [
        ("train/accuracy", 0),
        ("train/loss", 0),
        ("train/accuracy", 1),
        ("train/loss", 1),
    ]
    logger.finish()
