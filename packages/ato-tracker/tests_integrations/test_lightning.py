"""AtoLogger against real Lightning (CPU), with Lightning's own BoringModel: the checks
Lightning runs on its built-in loggers (keys and steps of fit + test, pickling, ddp_spawn,
prefixes, tuners), plus hyperparameters, checkpoints and statuses."""

from __future__ import annotations

import hashlib
import pickle
import shutil
import subprocess
import sys
import textwrap
from argparse import Namespace
from collections import Counter
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import pytest
import torch
from lightning.pytorch.demos.boring_classes import BoringModel
from lightning.pytorch.tuner import Tuner

from ato.tracker import SQLFinder, SQLLogger, TrackerConfigError, structural_hash
from ato.tracker.integrations.lightning import AtoLogger


def _trainer(tmp_path: Path, logger: Any, **options: Any) -> pl.Trainer:
    settings: dict[str, Any] = {
        "default_root_dir": tmp_path,
        "max_epochs": 1,
        "limit_train_batches": 4,
        "limit_val_batches": 2,
        "limit_test_batches": 2,
        "log_every_n_steps": 1,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "accelerator": "cpu",
        "devices": 1,
    }
    return pl.Trainer(logger=logger, **{**settings, **options})


def _runs(url: str, project: str) -> list[Any]:
    return SQLFinder.from_url(url).get_runs_in_project(project)


def _series(run: Any) -> list[tuple[str, int | None]]:
    return sorted((m.key, m.step) for m in run.metrics)


class LoggingModel(BoringModel):
    """BoringModel that logs its loss each step (train), per epoch (val) and on test."""

    def __init__(self, lr: float = 0.1, hidden: int = 32) -> None:
        super().__init__()
        self.save_hyperparameters()

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        out = super().training_step(batch, batch_idx)
        self.log("train_loss", out["loss"])
        return out

    def validation_step(self, batch: Any, batch_idx: int) -> Any:
        out = super().validation_step(batch, batch_idx)
        self.log("val_loss", out["x"])
        return out

    def test_step(self, batch: Any, batch_idx: int) -> Any:
        out = super().test_step(batch, batch_idx)
        self.log("test_loss", out["y"])
        return out


def test_fit_and_test_log_the_expected_keys_at_the_expected_steps(
    db_url: str, project: str, tmp_path: Path
) -> None:
    logger = AtoLogger(db_url, project)
    trainer = _trainer(tmp_path, logger, max_epochs=2)
    trainer.fit(LoggingModel())
    trainer.test(LoggingModel())
    logger.finish()
    (run,) = _runs(db_url, project)
    series = _series(run)
    train = [(k, s) for k, s in series if k == "train_loss"]
    assert train == [("train_loss", step) for step in range(8)]  # 2 epochs x 4 batches
    assert [s for k, s in series if k == "val_loss"] == [3, 7]  # end of each epoch
    assert [s for k, s in series if k == "epoch"] == [0, 1, 2, 3, 3, 4, 5, 6, 7, 7, 8]
    assert [(k, s) for k, s in series if k == "test_loss"] == [("test_loss", 8)]
    assert run.status == "completed"
    assert run.id == logger.version
    assert logger.name == project


def test_hyperparameters_are_the_run_s_config_before_and_after_it_started(
    sqlite_url: str, project: str, tmp_path: Path
) -> None:
    early = AtoLogger(sqlite_url, project)
    early.log_hyperparams(Namespace(lr=0.1, model=Namespace(depth=2)))
    early.log_hyperparams({"optimizer": {"name": "sgd"}, "device": torch.device("cpu")})
    early.log_metrics({"x": 1.0}, step=0)
    early.finish()
    late = AtoLogger(sqlite_url, project)
    _trainer(tmp_path, late).fit(LoggingModel(lr=0.5, hidden=8))
    late.finish()
    first, second = sorted(_runs(sqlite_url, project), key=lambda r: r.id)
    assert first.config.to_dict() == {
        "lr": 0.1,
        "model": {"depth": 2},
        "optimizer": {"name": "sgd"},
        "device": "device(type='cpu')",  # other objects as text
    }
    assert second.config.to_dict() == {"lr": 0.5, "hidden": 8}
    assert "hyperparams" not in second.provenance


def test_logger_and_trainer_survive_pickling_and_keep_logging(
    sqlite_url: str, project: str, tmp_path: Path
) -> None:
    logger = AtoLogger(sqlite_url, project)
    trainer = _trainer(tmp_path, logger)
    trainer.fit(LoggingModel())
    copy = pickle.loads(pickle.dumps(logger))
    copy.log_metrics({"after_pickle": 1.0}, step=100)
    trainer_copy = pickle.loads(pickle.dumps(trainer))
    trainer_copy.logger.log_metrics({"after_trainer_pickle": 2.0}, step=101)
    assert copy.version == trainer_copy.logger.version == logger.version
    logger.finish()
    (run,) = _runs(sqlite_url, project)
    assert ("after_pickle", 100) in _series(run)
    assert ("after_trainer_pickle", 101) in _series(run)


def test_a_copy_of_a_started_run_in_another_process_says_what_to_do(
    sqlite_url: str, project: str, tmp_path: Path
) -> None:
    logger = AtoLogger(sqlite_url, project)
    logger.log_metrics({"x": 1.0}, step=0)
    blob = tmp_path / "logger.pkl"
    blob.write_bytes(pickle.dumps(logger))
    script = textwrap.dedent(
        f"""
        import pickle
        from ato.tracker import RunStateError
        logger = pickle.loads(open({str(blob)!r}, "rb").read())
        try:
            logger.log_metrics({{"x": 2.0}}, step=1)
        except RunStateError as error:
            print("refused:", error)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "refused:" in out.stdout and "ddp_spawn" in out.stdout
    logger.finish()
    (run,) = _runs(sqlite_url, project)
    assert _series(run) == [("x", 0)]


def test_metric_names_get_the_prefix(sqlite_url: str, project: str) -> None:
    logger = AtoLogger(sqlite_url, project, prefix="fold1")
    logger.log_metrics({"loss": 1.0, "acc": torch.tensor(0.5)}, step=3)
    logger.finish()
    (run,) = _runs(sqlite_url, project)
    assert {(m.key, m.step, m.value) for m in run.metrics} == {
        ("fold1-loss", 3, 1.0),
        ("fold1-acc", 3, 0.5),
    }


def test_bad_arguments_are_refused_with_the_argument_named() -> None:
    with pytest.raises(TrackerConfigError, match="log_model"):
        AtoLogger(log_model="best")  # type: ignore[arg-type]
    with pytest.raises(TrackerConfigError, match="prefix"):
        AtoLogger(prefix=3)  # type: ignore[arg-type]


def test_tuners_leave_the_logger_in_place(sqlite_url: str, project: str, tmp_path: Path) -> None:
    logger = AtoLogger(sqlite_url, project)
    model = LoggingModel()
    trainer = _trainer(tmp_path, logger, max_epochs=1)
    tuner = Tuner(trainer)
    tuner.lr_find(model, min_lr=1e-3, max_lr=1e-1, num_training=5, update_attr=False)
    assert trainer.logger is logger
    model.batch_size = 2
    tuner.scale_batch_size(model, mode="power", steps_per_trial=1, max_trials=2)
    assert trainer.logger is logger
    trainer.fit(model)
    logger.finish()
    runs = _runs(sqlite_url, project)
    assert [r.id for r in runs] == [logger.version]
    assert ("train_loss", 0) in _series(runs[0])


def test_hyperparameters_logged_after_model_checkpoint_started_the_run_are_its_config(
    db_url: str, project: str, tmp_path: Path
) -> None:
    """ModelCheckpoint asks for ``version`` (which starts the run) before Lightning logs the
    hyperparameters: they still land in the run's config, exactly, and only there."""
    logger = AtoLogger(db_url, project)
    checkpoint = pl.callbacks.ModelCheckpoint(monitor="val_loss", save_top_k=1)
    _trainer(tmp_path, logger, callbacks=[checkpoint]).fit(LoggingModel(lr=0.25, hidden=16))
    logger.finish()
    (run,) = _runs(db_url, project)
    assert run.config.to_dict() == {"lr": 0.25, "hidden": 16}
    assert run.structural_hash == structural_hash({"lr": 0.25, "hidden": 16})
    assert "hyperparams" not in run.provenance
    assert Path(checkpoint.best_model_path).parent.parent.name == f"version_{run.id}"


class _ArtifactsSeen(pl.Callback):
    """How many artifacts the run has at the end of each training epoch."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.counts: list[int] = []

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: Any) -> None:
        run_id = trainer.logger.version
        self.counts.append(len(SQLFinder.from_url(self.url).get_artifacts(run_id)))


def _fit_with_log_model(
    url: str, project: str, folder: Path, log_model: Any, **options: Any
) -> tuple[Any, _ArtifactsSeen, Any]:
    logger = AtoLogger(url, project, log_model=log_model, **options)
    seen = _ArtifactsSeen(url)
    checkpoint = pl.callbacks.ModelCheckpoint(monitor="val_loss", save_top_k=1)
    _trainer(folder, logger, max_epochs=3, callbacks=[checkpoint, seen]).fit(LoggingModel())
    logger.finish()
    (run,) = [r for r in _runs(url, project) if r.id == logger.version]
    return run, seen, checkpoint


def test_log_model_false_records_no_checkpoint(
    sqlite_url: str, project: str, tmp_path: Path
) -> None:
    run, seen, _ = _fit_with_log_model(sqlite_url, project, tmp_path, False)
    assert (run.artifacts, seen.counts) == ([], [0, 0, 0])


def test_log_model_true_records_the_kept_checkpoint_when_training_ends(
    sqlite_url: str, project: str, tmp_path: Path
) -> None:
    run, seen, checkpoint = _fit_with_log_model(sqlite_url, project, tmp_path, True)
    assert seen.counts == [0, 0, 0]  # none while training
    (artifact,) = run.artifacts
    kept = sorted(p.name for p in (tmp_path / project / f"version_{run.id}").rglob("*.ckpt"))
    assert [artifact.name] == kept
    assert artifact.metadata == {
        "monitor": "val_loss",
        "score": float(checkpoint.best_model_score),
        "best": True,
    }


def test_log_model_all_records_every_checkpoint_as_it_is_saved(
    sqlite_url: str, project: str, tmp_path: Path
) -> None:
    run, seen, _ = _fit_with_log_model(sqlite_url, project, tmp_path, "all")
    # ModelCheckpoint saves after validation, which ends each epoch after on_train_epoch_end
    assert seen.counts == [0, 1, 2]
    names = [a.name for a in sorted(run.artifacts, key=lambda a: a.id)]
    assert names == [f"epoch={e}-step={4 * (e + 1)}.ckpt" for e in range(3)]


def test_checkpoints_are_stored_in_the_artifact_store_unless_referenced(
    sqlite_url: str, project: str, tmp_path: Path
) -> None:
    stored, _, _ = _fit_with_log_model(sqlite_url, project, tmp_path / "a", True)
    referenced, _, _ = _fit_with_log_model(
        sqlite_url, project, tmp_path / "b", True, copy_checkpoints=False
    )
    finder = SQLFinder.from_url(sqlite_url)
    (copy,) = stored.artifacts
    (reference,) = referenced.artifacts
    original = Path(copy.path).read_bytes()
    assert (copy.stored, reference.stored) == (True, False)
    assert copy.sha256 == hashlib.sha256(original).hexdigest()
    assert copy.size == len(original)
    assert reference.sha256 == hashlib.sha256(Path(reference.path).read_bytes()).hexdigest()
    shutil.rmtree(tmp_path / "a")  # the checkpoint folder is gone; the stored copy is not
    assert finder.artifact_file(stored.id, copy.name).read_bytes() == original


def test_checkpoints_are_recorded_as_artifacts(
    sqlite_url: str, project: str, tmp_path: Path
) -> None:
    every = AtoLogger(sqlite_url, project, log_model="all")
    _trainer(tmp_path / "all", every, max_epochs=2).fit(LoggingModel())
    every.finish()
    kept = AtoLogger(sqlite_url, project, log_model=True)
    _trainer(tmp_path / "kept", kept, max_epochs=2).fit(LoggingModel())
    kept.finish()
    first, second = sorted(_runs(sqlite_url, project), key=lambda r: r.id)
    assert len(first.artifacts) == 2  # one per epoch (the file is replaced, recorded anew)
    assert len(second.artifacts) == 1  # the kept one, at the end
    artifact = second.artifacts[0]
    assert artifact.data_type == "checkpoint"
    assert Path(artifact.path).is_file()
    assert Path(artifact.path).parent.parent.name == f"version_{second.id}"
    assert artifact.metadata["best"] is True


def test_a_failed_fit_finishes_the_run_failed(
    sqlite_url: str, project: str, tmp_path: Path
) -> None:
    class Broken(LoggingModel):
        def training_step(self, batch: Any, batch_idx: int) -> Any:
            if batch_idx == 2:
                raise ValueError("broken on purpose")
            return super().training_step(batch, batch_idx)

    logger = AtoLogger(sqlite_url, project)
    with pytest.raises(ValueError, match="on purpose"):
        _trainer(tmp_path, logger).fit(Broken())
    (run,) = _runs(sqlite_url, project)
    assert run.status == "failed"
    assert [s for k, s in _series(run) if k == "train_loss"] == [0, 1]


DDP_SCRIPT = """
import sys
import lightning.pytorch as pl
from lightning.pytorch.demos.boring_classes import BoringModel
from ato.tracker.integrations.lightning import AtoLogger

class Model(BoringModel):
    def training_step(self, batch, batch_idx):
        out = super().training_step(batch, batch_idx)
        self.log("train_loss", out["loss"])
        self.log("rank_seen", float(self.global_rank), reduce_fx="max", sync_dist=True)
        return out

if __name__ == "__main__":
    logger = AtoLogger(sys.argv[1], sys.argv[2])
    trainer = pl.Trainer(
        logger=logger, strategy="ddp_spawn", accelerator="cpu", devices=2, max_epochs=2,
        limit_train_batches=3, limit_val_batches=1, log_every_n_steps=1,
        enable_progress_bar=False, enable_model_summary=False, default_root_dir=sys.argv[3],
    )
    trainer.fit(Model())
"""


def test_ddp_spawn_on_two_processes_logs_once_from_rank_zero(
    sqlite_url: str, project: str, tmp_path: Path
) -> None:
    script = tmp_path / "ddp.py"
    script.write_text(DDP_SCRIPT)
    subprocess.run(
        [sys.executable, str(script), sqlite_url, project, str(tmp_path)],
        check=True,
        timeout=300,
        capture_output=True,
    )
    (run,) = _runs(sqlite_url, project)  # only rank 0 created a run
    counts = Counter(_series(run))
    assert set(counts.values()) == {1}  # nothing doubled
    assert [s for k, s in sorted(counts) if k == "train_loss"] == list(range(6))  # none lost
    assert [s for k, s in sorted(counts) if k == "rank_seen"] == list(range(6))
    assert {m.value for m in run.metrics if m.key == "rank_seen"} == {1.0}  # synced across ranks
    assert run.status == "completed"


def test_rows_written_through_the_logger_match_a_plain_sqllogger(db_url: str, project: str) -> None:
    logger = AtoLogger(db_url, project, tags=["lightning"], batch_size=7)
    for step in range(25):
        logger.log_metrics({"loss": 1.0 / (step + 1), "lr": 0.1}, step=step)
    assert isinstance(logger.experiment, SQLLogger)
    logger.finish()
    (run,) = _runs(db_url, project)
    assert run.tags == ["lightning"]
    assert len(run.metrics) == 50
    assert [m.value for m in run.metrics if m.key == "loss"] == [1.0 / (s + 1) for s in range(25)]


def test_a_pytorch_lightning_trainer_takes_the_logger_too(sqlite_url: str, project: str) -> None:
    import pytorch_lightning  # the standalone distribution (installed with lightning 2.x)
    from pytorch_lightning.demos.boring_classes import BoringModel as PlainBoringModel

    class Model(PlainBoringModel):
        def training_step(self, batch: Any, batch_idx: int) -> Any:
            out = super().training_step(batch, batch_idx)
            self.log("loss", out["loss"])
            return out

    logger = AtoLogger(sqlite_url, project)
    trainer = pytorch_lightning.Trainer(
        logger=logger,
        max_steps=3,
        limit_val_batches=0,
        log_every_n_steps=1,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
    )
    trainer.fit(Model())
    logger.finish()
    (run,) = _runs(sqlite_url, project)
    assert [s for k, s in _series(run) if k == "loss"] == [0, 1, 2]
    assert run.status == "completed"
