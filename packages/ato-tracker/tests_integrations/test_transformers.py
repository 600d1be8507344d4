"""AtoCallback against a real transformers Trainer: a 2-layer BERT built from a config (no
download) trained a few steps on synthetic data, in one process and under
``torchrun --nproc_per_node 2`` (gloo)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import hf_helpers  # next to the tests: on pytest's pythonpath (pyproject.toml)
from transformers import TrainingArguments

from ato.tracker import SQLFinder
from ato.tracker.integrations.transformers import AtoCallback

HELPERS = Path(hf_helpers.__file__)


def _runs(url: str, project: str) -> list[Any]:
    return sorted(SQLFinder.from_url(url).get_runs_in_project(project), key=lambda r: r.id)


def _steps(run: Any, key: str) -> list[int | None]:
    return sorted(m.step for m in run.metrics if m.key == key)


def test_training_is_recorded_with_config_metrics_and_status(
    db_url: str, project: str, tmp_path: Path
) -> None:
    callback = AtoCallback(db_url, project, tags="hf")
    trainer = hf_helpers.make_trainer(tmp_path, callback, max_steps=4, eval_steps=2)
    trainer.train()
    (run,) = _runs(db_url, project)
    assert run.status == "completed"
    assert run.id == callback.run_id
    assert run.tags == ["hf"]
    assert run.config.training_args.max_steps == 4
    assert run.config.model_config.num_hidden_layers == 2
    assert _steps(run, "loss") == [1, 2, 3, 4]
    assert _steps(run, "learning_rate") == [1, 2, 3, 4]
    assert _steps(run, "eval_loss") == [2, 4]
    assert _steps(run, "train_runtime") == [4]
    assert set(Counter((m.key, m.step) for m in run.metrics).values()) == {1}
    assert not [m for m in run.metrics if isinstance(m.value, str)]


def test_checkpoints_are_artifacts_only_when_asked(
    sqlite_url: str, project: str, tmp_path: Path
) -> None:
    quiet = AtoCallback(sqlite_url, project)
    hf_helpers.make_trainer(tmp_path / "a", quiet, max_steps=2, save_steps=1).train()
    asked = AtoCallback(sqlite_url, project, log_checkpoints=True)
    hf_helpers.make_trainer(tmp_path / "b", asked, max_steps=2, save_steps=1).train()
    first, second = _runs(sqlite_url, project)
    assert first.artifacts == []
    # a checkpoint folder is recorded file by file, named <folder>/<file> (ato.tracker artifacts)
    assert sorted({a.name.split("/")[0] for a in second.artifacts}) == [
        "checkpoint-1",
        "checkpoint-2",
    ]
    assert {a.data_type for a in second.artifacts} == {"checkpoint"}
    assert all(Path(a.path).is_file() and a.sha256 for a in second.artifacts)


def test_evaluate_after_training_goes_to_a_new_run(
    sqlite_url: str, project: str, tmp_path: Path
) -> None:
    callback = AtoCallback(sqlite_url, project)
    trainer = hf_helpers.make_trainer(tmp_path, callback, max_steps=2, eval_steps=0)
    trainer.train()
    trainer.evaluate()
    callback.finish()
    trained, evaluated = _runs(sqlite_url, project)
    assert _steps(trained, "loss") == [1, 2]
    assert _steps(evaluated, "eval_loss") == [2]
    assert evaluated.config.training_args.max_steps == 2
    assert trained.status == evaluated.status == "completed"


def test_a_training_that_raises_ends_failed(sqlite_url: str, project: str, tmp_path: Path) -> None:
    code = "import sys, hf_helpers\nhf_helpers.main_that_fails(*sys.argv[1:])"
    out = subprocess.run(
        [sys.executable, "-c", code, sqlite_url, project, str(tmp_path)],
        env={**os.environ, "PYTHONPATH": str(HELPERS.parent)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode != 0 and "broken on purpose" in out.stderr
    (run,) = _runs(sqlite_url, project)
    assert run.status == "failed"
    assert _steps(run, "loss") == [1]  # the error came before step 2 was logged


def test_torchrun_two_processes_log_once_from_the_main_process(
    sqlite_url: str, project: str, tmp_path: Path
) -> None:
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        str(hf_helpers.free_port()),
        str(HELPERS),
        sqlite_url,
        project,
        str(tmp_path),
    ]
    subprocess.run(command, check=True, timeout=300, capture_output=True)
    (run,) = _runs(sqlite_url, project)  # only the main process created a run
    counts = Counter((m.key, m.step) for m in run.metrics)
    assert set(counts.values()) == {1}  # nothing doubled
    assert _steps(run, "loss") == [1, 2, 3, 4]  # nothing lost
    assert _steps(run, "eval_loss") == [4]
    assert run.status == "completed"


def test_other_processes_write_nothing(sqlite_url: str, project: str, tmp_path: Path) -> None:
    callback = AtoCallback(sqlite_url, project)
    state = hf_helpers.state(is_world_process_zero=False)
    args = TrainingArguments(output_dir=str(tmp_path), report_to=[], use_cpu=True)
    callback.on_train_begin(args, state, None, model=None)
    callback.on_log(args, state, None, logs={"loss": 1.0})
    callback.on_train_end(args, state, None)
    assert callback.logger is None and callback.run_id is None
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists()  # never opened
