"""Overhead of ato-tracker's framework callbacks per logged value, against calling
``SQLLogger.log_metric`` directly for the same values (issue 24's closing numbers).

Run: ``python benchmarks/bench_integrations.py [STEPS] [TRIALS]`` (or ``nox -s bench``;
defaults 5000 steps, 200 Optuna trials). Each training callback is driven the way its
framework drives it, without the training itself (whose cost would hide the callback's):
XGBoost's ``after_iteration(model, epoch, evals_log)`` with its growing history, LightGBM's
``callback(env)`` with a ``CallbackEnv``, Keras's ``on_epoch_end(epoch, logs)``; 4 metric values
per step (2 datasets x 2 metrics), into a new SQLite file, timed from the run's start to its
end (flushed; rows are written in one batch at the end, see ``_logger``); the database file and project are made before the clock starts. The baseline logs the same values with ``log_metric`` into another new file,
between ``run()`` and ``finish()``. The Optuna callback is timed per finished trial (3
intermediate values and the value) against writing that run by hand (``run``, 4
``log_metric``, ``finish``). Prints microseconds per value (per trial for Optuna) and the ratio.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")

DATASETS = ("train", "valid")
METRICS = ("loss", "error")
REPEATS = 5


def _value(step: int, k: int) -> float:
    return 1.0 / (step + 1 + k)


def _logger(db: str) -> Any:
    """A logger that writes its rows at ``finish`` only (one batch), so that the times
    compare the work per logged value of each call path; the SQLite write itself, the same
    rows for every path, is included once, at the end."""
    from ato.tracker import SQLLogger

    return SQLLogger.from_url(db, "bench", batch_size=10**7, flush_interval=3600.0)


def direct(db: str, steps: int) -> None:
    logger = _logger(db)
    logger.run(config={"max_depth": 2})
    for step in range(steps):
        k = 0
        for dataset in DATASETS:
            for metric in METRICS:
                logger.log_metric(f"{dataset}/{metric}", _value(step, k), step)
                k += 1
    logger.finish()


def xgboost_callback(db: str, steps: int) -> None:
    from ato.tracker.integrations.xgboost import AtoCallback

    callback = AtoCallback(_logger(db), params={"max_depth": 2})
    history: dict[str, dict[str, list[float]]] = {d: {m: [] for m in METRICS} for d in DATASETS}
    callback.before_training(None)
    for step in range(steps):
        k = 0
        for dataset in DATASETS:
            for metric in METRICS:
                history[dataset][metric].append(_value(step, k))
                k += 1
        callback.after_iteration(None, step, history)
    callback.after_training(None)


def lightgbm_callback(db: str, steps: int) -> None:
    from lightgbm.callback import CallbackEnv

    from ato.tracker.integrations.lightgbm import ato_callback

    callback = ato_callback(_logger(db))
    params = {"max_depth": 2}
    for step in range(steps):
        results = []
        k = 0
        for dataset in DATASETS:
            for metric in METRICS:
                results.append((dataset, metric, _value(step, k), False))
                k += 1
        callback(CallbackEnv(None, params, step, 0, steps, results))


def keras_callback(db: str, steps: int) -> None:
    import keras

    from ato.tracker.integrations.keras import AtoCallback

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    callback = AtoCallback(_logger(db))
    callback.set_model(model)
    callback.set_params({"epochs": steps, "steps": 1, "verbose": 0})
    callback.on_train_begin()
    names = ("loss", "error", "val_loss", "val_error")
    for step in range(steps):
        callback.on_epoch_end(step, {name: _value(step, k) for k, name in enumerate(names)})
    callback.on_train_end()


def _prepare(db: str) -> None:
    """Create the database and its project first: that one-off cost is no callback's."""
    from ato.tracker import SQLLogger

    SQLLogger.from_url(db, "bench").get_or_create_project()


def _best_times(fns: dict[str, Callable[[str, int], None]], steps: int, folder: Path) -> dict:
    """Best time of each of ``fns`` over REPEATS rounds, the functions taking turns in each
    round (so a slow spell of the machine hits all of them alike)."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for i in range(REPEATS):
        for name, fn in fns.items():
            db = f"sqlite:///{folder / f'{name}-{i}.db'}"
            _prepare(db)
            start = time.perf_counter()
            fn(db, steps)
            times[name].append(time.perf_counter() - start)
    return {name: min(values) for name, values in times.items()}


def _finished_trials(n: int) -> list[Any]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="bench")

    def objective(trial: Any) -> float:
        x = trial.suggest_float("x", -1, 1)
        for step in range(3):
            trial.report(x * x + step, step)
        return x * x

    study.optimize(objective, n_trials=n)
    return [study, study.trials]


def optuna_callback(db: str, study: Any, trials: list[Any]) -> float:
    from ato.tracker.integrations.optuna import AtoCallback

    callback = AtoCallback(db)
    start = time.perf_counter()
    for trial in trials:
        callback(study, trial)
    seconds = time.perf_counter() - start
    callback.close()
    return seconds


def optuna_direct(db: str, trials: list[Any]) -> float:
    from ato.tracker import SQLLogger

    logger = SQLLogger.from_url(db, "bench")  # the callback's project: the study's name
    start = time.perf_counter()
    for trial in trials:
        logger.run(tags=[f"trial:{trial.number}"], config=trial.params)
        for step, value in trial.intermediate_values.items():
            logger.log_metric("value", value, step)
        logger.log_metric("search/value", trial.value)
        logger.finish()
    return time.perf_counter() - start


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    n_trials = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    folder = Path(tempfile.mkdtemp(prefix="ato-bench-integrations-"))
    values = steps * len(DATASETS) * len(METRICS)
    best = _best_times(
        {
            "direct": direct,
            "xgboost": xgboost_callback,
            "lightgbm": lightgbm_callback,
            "keras": keras_callback,
        },
        steps,
        folder,
    )
    base = best.pop("direct")
    print(f"Callback overhead: {steps} steps x 4 values, SQLite, best of {REPEATS}")
    print(f"  log_metric directly : {base / values * 1e6:8.2f} us/value")
    for name, seconds in best.items():
        print(f"  {name:<19} : {seconds / values * 1e6:8.2f} us/value  ratio {seconds / base:5.2f}")
    study, trials = _finished_trials(n_trials)
    dbs = {f"{kind}{i}": f"sqlite:///{folder / f'{kind}{i}.db'}" for kind in "cd" for i in (0, 1)}
    for db in dbs.values():
        _prepare(db)
    cb = min(optuna_callback(dbs[f"c{i}"], study, trials) for i in range(2))
    by_hand = min(optuna_direct(dbs[f"d{i}"], trials) for i in range(2))
    print(f"Optuna: {n_trials} finished trials (3 intermediate values + the value each)")
    print(f"  runs by hand        : {by_hand / n_trials * 1e3:8.2f} ms/trial")
    print(f"  optuna AtoCallback  : {cb / n_trials * 1e3:8.2f} ms/trial  ratio {cb / by_hand:5.2f}")


if __name__ == "__main__":
    main()
