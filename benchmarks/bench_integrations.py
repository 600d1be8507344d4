"""Overhead per logged step of every ato-tracker framework integration, measured side by side
in one run of this script (issue 24's closing numbers).

1. Lightning and transformers, logger calls alone (no training), N steps of two metrics each,
   timed until durable: ``SQLLogger.log_metric`` called directly; Lightning
   ``AtoLogger.log_metrics``; transformers ``AtoCallback.on_log``; Lightning's
   ``MLFlowLogger.log_metrics`` into a local MLflow SQLite store (``sqlite:///<tmp>/mlflow.db``;
   each call is one committed MLflow batch, so it runs on a smaller N and its rate is reported
   as measured, not extrapolated).
2. The same Lightning training (BoringModel, CPU, the same steps, two metrics logged per step)
   logging nothing (the baseline), calling ``SQLLogger.log_metric`` directly in the step, and
   logging through ``self.log`` into ``AtoLogger`` or ``MLFlowLogger`` (so those include
   Lightning's own logging machinery): the overhead per step is the wall time minus the
   baseline's, divided by the steps (median of a few repeats).
3. Keras, XGBoost and LightGBM callbacks, each driven the way its framework drives it, without
   the training itself (whose cost would hide the callback's): XGBoost's
   ``after_iteration(model, epoch, evals_log)`` with its growing history, LightGBM's
   ``callback(env)`` with a ``CallbackEnv``, Keras's ``on_epoch_end(epoch, logs)``; 4 metric
   values per step (2 datasets x 2 metrics), into a new SQLite file, timed from the run's start
   to its end (flushed; rows are written in one batch at the end, see ``_batched_logger``); the
   database file and project are made before the clock starts. The baseline logs the same
   values with ``log_metric`` into another new file, between ``run()`` and ``finish()``; best
   of REPEATS.
4. The Optuna callback, timed per finished trial (3 intermediate values and the value) against
   writing that run by hand (``run``, 4 ``log_metric``, ``finish``).

Ratios printed: AtoLogger / direct ``log_metric``, AtoCallback / direct, MLFlowLogger /
AtoLogger, each callback / direct, Optuna callback / by hand.

Usage: ``python benchmarks/bench_integrations.py [--quick] [STEPS] [TRIALS]`` (or
``nox -s bench``); STEPS and TRIALS size parts 3 and 4 (defaults 5000 steps, 200 trials;
``--quick`` makes every part smaller).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.demos.boring_classes import BoringModel
from lightning.pytorch.loggers import MLFlowLogger
from transformers import TrainingArguments

from ato.tracker import SQLLogger
from ato.tracker.integrations.lightning import AtoLogger
from ato.tracker.integrations.transformers import AtoCallback

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("KERAS_BACKEND", "torch")  # before Keras is first imported (part 3)


def _us_per_step(seconds: float, steps: int) -> float:
    return seconds / steps * 1e6


# -- 1. logger calls alone ---------------------------------------------------------------
def direct_calls(folder: Path, steps: int) -> float:
    logger = SQLLogger.from_url(f"sqlite:///{folder / 'direct.db'}", "bench")
    logger.run()
    start = time.perf_counter()
    for step in range(steps):
        logger.log_metric("loss", 1.0 / (step + 1), step)
        logger.log_metric("acc", step * 1e-6, step)
    logger.flush()
    elapsed = time.perf_counter() - start
    logger.finish()
    return elapsed


def ato_logger_calls(folder: Path, steps: int) -> float:
    logger = AtoLogger(f"sqlite:///{folder / 'lightning.db'}", "bench")
    logger.experiment  # noqa: B018 - the run exists before timing, as in the other cases
    start = time.perf_counter()
    for step in range(steps):
        logger.log_metrics({"loss": 1.0 / (step + 1), "acc": step * 1e-6}, step)
    logger.save()
    elapsed = time.perf_counter() - start
    logger.finish()
    return elapsed


def ato_callback_calls(folder: Path, steps: int) -> float:
    callback = AtoCallback(f"sqlite:///{folder / 'hf.db'}", "bench")
    args = TrainingArguments(output_dir=str(folder / "hf"), report_to=[], use_cpu=True)
    state = SimpleNamespace(is_world_process_zero=True, global_step=0)
    callback.on_train_begin(args, state, None)
    start = time.perf_counter()
    for step in range(steps):
        state.global_step = step
        callback.on_log(args, state, None, logs={"loss": 1.0 / (step + 1), "acc": step * 1e-6})
    callback.logger.flush()
    elapsed = time.perf_counter() - start
    callback.on_train_end(args, state, None)
    return elapsed


def mlflow_logger_calls(folder: Path, steps: int) -> float:
    logger = MLFlowLogger(experiment_name="bench", tracking_uri=f"sqlite:///{folder / 'ml.db'}")
    logger.experiment  # noqa: B018
    start = time.perf_counter()
    for step in range(steps):
        logger.log_metrics({"loss": 1.0 / (step + 1), "acc": step * 1e-6}, step)
    elapsed = time.perf_counter() - start
    logger.finalize("success")
    return elapsed


# -- 2. the same Lightning training --------------------------------------------------------
class TwoMetrics(BoringModel):
    """BoringModel logging two metrics each step through Lightning's ``self.log``
    (``mode="lightning"``), straight to an ato ``SQLLogger`` (``"direct"``) or not at all
    (``"silent"``, the baseline)."""

    def __init__(self, mode: str, direct: SQLLogger | None = None) -> None:
        super().__init__()
        self.mode = mode
        self.direct = direct

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        out = super().training_step(batch, batch_idx)
        loss = out["loss"]
        if self.mode == "direct" and self.direct is not None:
            value = loss.item()
            self.direct.log_metric("loss", value, self.global_step)
            self.direct.log_metric("acc", value * 0.5, self.global_step)
        elif self.mode == "lightning":
            self.log("loss", loss)
            self.log("acc", loss * 0.5)
        return out


def fit_seconds(
    folder: Path, steps: int, logger: Any, mode: str, direct: SQLLogger | None = None
) -> float:
    trainer = pl.Trainer(
        logger=logger,
        max_steps=steps,
        limit_val_batches=0,
        log_every_n_steps=1,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        accelerator="cpu",
        devices=1,
        default_root_dir=folder,
    )
    model = TwoMetrics(mode, direct)
    start = time.perf_counter()
    trainer.fit(model)
    if direct is not None:
        direct.flush()
    return time.perf_counter() - start


def fit_case(folder: Path, steps: int, case: str, index: int) -> float:
    if case == "none":
        return fit_seconds(folder, steps, False, "silent")
    if case == "direct":
        logger = SQLLogger.from_url(f"sqlite:///{folder / f'fit-direct-{index}.db'}", "bench")
        logger.run()
        elapsed = fit_seconds(folder, steps, False, "direct", direct=logger)
        logger.finish()
        return elapsed
    if case == "ato":
        ato = AtoLogger(f"sqlite:///{folder / f'fit-ato-{index}.db'}", "bench")
        elapsed = fit_seconds(folder, steps, ato, "lightning")
        ato.finish()
        return elapsed
    uri = f"sqlite:///{folder / f'fit-mlflow-{index}.db'}"
    mlflow = MLFlowLogger(experiment_name="bench", tracking_uri=uri)
    return fit_seconds(folder, steps, mlflow, "lightning")


# -- 3. Keras, XGBoost and LightGBM callbacks -------------------------------------------
DATASETS = ("train", "valid")
METRICS = ("loss", "error")
REPEATS = 5


def _value(step: int, k: int) -> float:
    return 1.0 / (step + 1 + k)


def _batched_logger(db: str) -> Any:
    """A logger that writes its rows at ``finish`` only (one batch), so that the times
    compare the work per logged value of each call path; the SQLite write itself, the same
    rows for every path, is included once, at the end."""
    return SQLLogger.from_url(db, "bench", batch_size=10**7, flush_interval=3600.0)


def direct_values(db: str, steps: int) -> None:
    logger = _batched_logger(db)
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

    callback = AtoCallback(_batched_logger(db), params={"max_depth": 2})
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

    callback = ato_callback(_batched_logger(db))
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
    callback = AtoCallback(_batched_logger(db))
    callback.set_model(model)
    callback.set_params({"epochs": steps, "steps": 1, "verbose": 0})
    callback.on_train_begin()
    names = ("loss", "error", "val_loss", "val_error")
    for step in range(steps):
        callback.on_epoch_end(step, {name: _value(step, k) for k, name in enumerate(names)})
    callback.on_train_end()


def _prepare(db: str) -> None:
    """Create the database and its project first: that one-off cost is no callback's."""
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


# -- 4. Optuna ------------------------------------------------------------------------------
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
    logger = SQLLogger.from_url(db, "bench")  # the callback's project: the study's name
    start = time.perf_counter()
    for trial in trials:
        logger.run(tags=[f"trial:{trial.number}"], config=trial.params)
        for step, value in trial.intermediate_values.items():
            logger.log_metric("value", value, step)
        logger.log_metric("search/value", trial.value)
        logger.finish()
    return time.perf_counter() - start


def lightning_and_transformers(quick: bool) -> None:
    """Parts 1 and 2."""
    calls, mlflow_calls = (5_000, 200) if quick else (50_000, 1_000)
    fit_steps, repeats = (100, 2) if quick else (300, 3)
    with tempfile.TemporaryDirectory(prefix="ato-bench-integrations-") as tmp:
        folder = Path(tmp)
        print("1. logger calls alone, 2 metrics per step, until durable (SQLite files)")
        direct = _us_per_step(direct_calls(folder, calls), calls)
        ato = _us_per_step(ato_logger_calls(folder, calls), calls)
        hf = _us_per_step(ato_callback_calls(folder, calls), calls)
        mlflow = _us_per_step(mlflow_logger_calls(folder, mlflow_calls), mlflow_calls)
        print(f"   SQLLogger.log_metric x2 (direct)   {direct:10.1f} us/step  ({calls} steps)")
        print(
            f"   AtoLogger.log_metrics (Lightning)  {ato:10.1f} us/step  ratio to direct {ato / direct:.2f}x"
        )
        print(
            f"   AtoCallback.on_log (transformers)  {hf:10.1f} us/step  ratio to direct {hf / direct:.2f}x"
        )
        print(
            f"   MLFlowLogger.log_metrics           {mlflow:10.1f} us/step  ({mlflow_calls} steps) ratio to AtoLogger {mlflow / ato:.0f}x"
        )
        print(
            f"2. Lightning fit, BoringModel on CPU, {fit_steps} steps, 2 metrics per step, median of {repeats}"
        )
        fit_case(folder, fit_steps, "none", -1)  # warm-up: imports, first-call compilation
        seconds: dict[str, list[float]] = {c: [] for c in ("none", "direct", "ato", "mlflow")}
        for index in range(repeats):
            for case, samples in seconds.items():  # interleaved: load drifts hit all alike
                samples.append(fit_case(folder, fit_steps, case, index))
        base = statistics.median(seconds["none"])
        over = {c: (statistics.median(s) - base) / fit_steps * 1e6 for c, s in seconds.items()}
        print(
            f"   no metrics logged                  {base / fit_steps * 1e6:10.1f} us/step (training itself)"
        )
        for case, label in (
            ("direct", "SQLLogger.log_metric in the step"),
            ("ato", "AtoLogger"),
            ("mlflow", "MLFlowLogger"),
        ):
            print(f"   + {label:33s}{over[case]:10.1f} us/step overhead")
        spread = (max(seconds["none"]) - min(seconds["none"])) / fit_steps * 1e6
        print(f"   noise: the baseline runs spread over {spread:.1f} us/step")
        if over["direct"] > spread:
            print(f"   ratio AtoLogger / direct log_metric: {over['ato'] / over['direct']:.1f}x")
        else:
            print("   direct log_metric: overhead below the noise (part 1 gives the ratio)")
        print(
            f"   ratio MLFlowLogger / AtoLogger: {over['mlflow'] / max(over['ato'], spread, 1.0):.1f}x"
        )


def callbacks_and_optuna(steps: int, n_trials: int) -> None:
    """Parts 3 and 4."""
    folder = Path(tempfile.mkdtemp(prefix="ato-bench-integrations-"))
    values = steps * len(DATASETS) * len(METRICS)
    best = _best_times(
        {
            "direct": direct_values,
            "xgboost": xgboost_callback,
            "lightgbm": lightgbm_callback,
            "keras": keras_callback,
        },
        steps,
        folder,
    )
    base = best.pop("direct")
    print(f"3. Callback overhead: {steps} steps x 4 values, SQLite, best of {REPEATS}")
    print(f"  log_metric directly : {base / values * 1e6:8.2f} us/value")
    for name, seconds in best.items():
        print(f"  {name:<19} : {seconds / values * 1e6:8.2f} us/value  ratio {seconds / base:5.2f}")
    study, trials = _finished_trials(n_trials)
    dbs = {f"{kind}{i}": f"sqlite:///{folder / f'{kind}{i}.db'}" for kind in "cd" for i in (0, 1)}
    for db in dbs.values():
        _prepare(db)
    cb = min(optuna_callback(dbs[f"c{i}"], study, trials) for i in range(2))
    by_hand = min(optuna_direct(dbs[f"d{i}"], trials) for i in range(2))
    print(f"4. Optuna: {n_trials} finished trials (3 intermediate values + the value each)")
    print(f"  runs by hand        : {by_hand / n_trials * 1e3:8.2f} ms/trial")
    print(f"  optuna AtoCallback  : {cb / n_trials * 1e3:8.2f} ms/trial  ratio {cb / by_hand:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Overhead of ato's framework integrations.")
    parser.add_argument("--quick", action="store_true", help="every part smaller")
    parser.add_argument("steps", nargs="?", type=int, help="steps of part 3 (default 5000)")
    parser.add_argument("trials", nargs="?", type=int, help="trials of part 4 (default 200)")
    args = parser.parse_known_args()[0]
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    lightning_and_transformers(args.quick)
    steps = args.steps or (1000 if args.quick else 5000)
    trials = args.trials or (50 if args.quick else 200)
    callbacks_and_optuna(steps, trials)


if __name__ == "__main__":
    main()
