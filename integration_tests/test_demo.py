"""The digits demo runs end to end and reaches the accuracy the README promises."""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest
import sklearn  # noqa: F401 - the demo trains with it (installed by the integration session)

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "examples" / "digits" / "train.py"


def _run(args: list[str], cwd: pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> pathlib.Path:
    return tmp_path_factory.mktemp("demo")


@pytest.fixture(scope="module")
def demo_run(demo_dir) -> subprocess.CompletedProcess:
    return _run([], demo_dir)


def test_demo_reaches_095_held_out_accuracy(demo_run) -> None:
    assert demo_run.returncode == 0, demo_run.stderr
    match = re.search(r"held-out test accuracy (\d\.\d+)", demo_run.stdout)
    assert match, demo_run.stdout
    assert float(match.group(1)) >= 0.95
    assert "best configuration:" in demo_run.stdout
    assert "val_accuracy" in demo_run.stdout  # the table of top runs


def test_ato_command_answers_from_the_demo_database(demo_run, demo_dir) -> None:
    assert (demo_dir / "experiments.db").exists()
    ato = shutil.which("ato") or str(pathlib.Path(sys.executable).parent / "ato")
    proc = subprocess.run(
        [ato, "runs", "best", "--metric", "val_accuracy", "--json"],
        cwd=demo_dir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert '"val_accuracy"' in proc.stdout


def test_demo_manual_and_explain(demo_dir) -> None:
    manual = _run(["manual"], demo_dir)
    assert manual.returncode == 0, manual.stderr
    assert "defaults → (CLI Inputs)\n" in manual.stdout and "quick, small_batches" in manual.stdout
    manual = _run(["quick", "small_batches", "manual"], demo_dir)
    assert "defaults → quick → small_batches → (CLI Inputs)" in manual.stdout
    assert "optim.lr: initial learning rate" in manual.stdout

    explain = _run(["explain", "optim.batch_size", "small_batches"], demo_dir)
    assert explain.returncode == 0, explain.stderr
    assert "optim.batch_size = 32 ← small_batches" in explain.stdout


def test_demo_rejects_a_misspelt_view(demo_dir) -> None:
    proc = _run(["quikc"], demo_dir)
    assert proc.returncode != 0
    assert "quick" in proc.stderr


def _ato(demo_dir: pathlib.Path, *argv: str) -> subprocess.CompletedProcess:
    ato = shutil.which("ato") or str(pathlib.Path(sys.executable).parent / "ato")
    env = {**os.environ, "COLUMNS": "400"}  # one line per row, however many columns
    return subprocess.run(
        [ato, *argv], cwd=demo_dir, capture_output=True, text=True, timeout=120, env=env
    )


def test_demo_runs_list_has_searched_params_and_sorts_by_accuracy(demo_run, demo_dir) -> None:
    proc = _ato(demo_dir, "runs", "list", "--project", "digits", "--sort", "val_accuracy")
    assert proc.returncode == 0, proc.stderr
    header = next(line for line in proc.stdout.splitlines() if line.startswith("┃"))
    for param in ("optim.lr", "model.alpha", "model.hidden"):
        assert param in header
    runs = json.loads(
        _ato(
            demo_dir, "runs", "list", "--project", "digits", "--sort", "val_accuracy", "--json"
        ).stdout
    )
    accuracies = [
        r["metrics"]["val_accuracy"]["last"] for r in runs if "val_accuracy" in r["metrics"]
    ]
    assert accuracies == sorted(accuracies, reverse=True) and len(accuracies) > 10


def test_demo_answer_trained_each_epoch_once_and_explains(demo_run, demo_dir) -> None:
    match = re.search(
        r"the answer: run (\d+) \(trial (\d+), [^)]*\); search (\w+)", demo_run.stdout
    )
    assert match, demo_run.stdout
    run_id, trial_id, search_id = match.groups()
    best = json.loads(_ato(demo_dir, "runs", "best", "--search", search_id, "--json").stdout)
    assert str(best["run"]["id"]) == run_id
    listed = _ato(demo_dir, "runs", "list", "--project", "digits", "--search", search_id, "--json")
    rungs = [
        r["id"]
        for r in json.loads(listed.stdout)
        if f"trial:{trial_id}" in r["tags"] and "train_loss" in r["metrics"]
    ]
    epochs = []
    for rung_run in rungs:
        curve = _ato(
            demo_dir, "runs", "metrics", str(rung_run), "--key", "train_loss", "--format", "csv"
        )
        assert curve.returncode == 0, curve.stderr
        assert curve.stdout.splitlines()[0] == "step,key,value,timestamp"
        epochs += [int(line.split(",")[0]) for line in curve.stdout.splitlines()[1:]]
    # promoted from rung to rung, the answer's trial trained each of the 27 epochs once
    assert sorted(epochs) == list(range(27))
    explain = _ato(demo_dir, "runs", "explain", run_id, "optim.lr")
    assert explain.returncode == 0, explain.stderr
    assert "optim.lr = " in explain.stdout and "← search" in explain.stdout
    assert "overrode" in explain.stdout
