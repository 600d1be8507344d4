"""Overhead per logged step of ato's framework integrations, measured side by side in one run.

1. Logger calls alone (no training), N steps of two metrics each, timed until durable:
   ``SQLLogger.log_metric`` called directly; Lightning ``AtoLogger.log_metrics``; transformers
   ``AtoCallback.on_log``; Lightning's ``MLFlowLogger.log_metrics`` into a local MLflow SQLite
   store (``sqlite:///<tmp>/mlflow.db``; each call is one committed MLflow batch, so it runs on
   a smaller N and its rate is reported as measured, not extrapolated).
2. The same Lightning training (BoringModel, CPU, the same steps, two metrics logged per step)
   logging nothing (the baseline), calling ``SQLLogger.log_metric`` directly in the step, and
   logging through ``self.log`` into ``AtoLogger`` or ``MLFlowLogger`` (so those include
   Lightning's own logging machinery): the overhead per step is the wall time minus the
   baseline's, divided by the steps (median of a few repeats).

Ratios printed: AtoLogger / direct ``log_metric``, AtoCallback / direct, MLFlowLogger /
AtoLogger. Usage: python benchmarks/bench_integrations.py [--quick]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
import warnings
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_known_args()[0].quick
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
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


if __name__ == "__main__":
    main()
