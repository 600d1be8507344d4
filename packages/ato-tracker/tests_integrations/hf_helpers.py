"""A tiny BERT (2 layers, hidden size 16, vocabulary of 64; built from a config, no download),
synthetic data and a Trainer for the transformers tests; run as a script (by ``torchrun``)
it trains 4 steps with AtoCallback on every process: ``hf_helpers.py DB_URL PROJECT DIR``."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import torch
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)

from ato.tracker.integrations.transformers import AtoCallback

SEQUENCE = 8


def tiny_config(layers: int = 2) -> BertConfig:
    return BertConfig(
        vocab_size=64,
        hidden_size=16,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=SEQUENCE,
        num_labels=2,
    )


class SyntheticData(torch.utils.data.Dataset[dict[str, torch.Tensor]]):
    """``size`` random token sequences; the label is whether the first token is even."""

    def __init__(self, size: int, seed: int = 0) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(0, 64, (size, SEQUENCE), generator=generator)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        ids = self.ids[index]
        return {
            "input_ids": ids,
            "attention_mask": torch.ones_like(ids),
            "labels": (ids[0] % 2).long(),
        }


def make_trainer(
    folder: Path,
    callback: TrainerCallback,
    *,
    max_steps: int,
    eval_steps: int = 0,
    save_steps: int = 0,
    **options: Any,
) -> Trainer:
    """A Trainer over the tiny model logging every step (evaluating / saving every
    ``eval_steps`` / ``save_steps`` steps when > 0), with no reporter but ``callback``."""
    torch.manual_seed(0)
    args = TrainingArguments(
        output_dir=str(folder),
        max_steps=max_steps,
        per_device_train_batch_size=4,
        per_device_eval_batch_size=4,
        learning_rate=1e-3,
        logging_steps=1,
        eval_strategy="steps" if eval_steps else "no",
        eval_steps=eval_steps or None,
        save_strategy="steps" if save_steps else "no",
        save_steps=save_steps or 500,
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
        dataloader_num_workers=0,
        **options,
    )
    model = BertForSequenceClassification(tiny_config())
    return Trainer(
        model=model,
        args=args,
        train_dataset=SyntheticData(32),
        eval_dataset=SyntheticData(8, seed=1),
        callbacks=[callback],
    )


class _Breaks(TrainerCallback):
    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.global_step == 2:
            raise RuntimeError("broken on purpose")


def main_that_fails(db_url: str, project: str, folder: str) -> None:
    """Train 2 steps, then raise from a callback (the process ends with the error)."""
    trainer = make_trainer(Path(folder), AtoCallback(db_url, project), max_steps=6)
    trainer.add_callback(_Breaks())
    trainer.train()


def state(**values: Any) -> SimpleNamespace:
    """A stand-in for TrainerState holding only ``values``."""
    return SimpleNamespace(global_step=0, **values)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":
    db, name, out = sys.argv[1:4]
    trainer = make_trainer(
        Path(out), AtoCallback(db, name), max_steps=4, eval_steps=4, ddp_backend="gloo"
    )
    trainer.train()
