"""The digits demo runs end to end and reaches the accuracy the README promises."""

from __future__ import annotations

import pathlib
import re
import shutil
import subprocess
import sys

import pytest

pytest.importorskip("sklearn")
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
    assert "defaults → quick → small_batches → (CLI Inputs)" in manual.stdout
    assert "optim.lr: initial learning rate" in manual.stdout

    explain = _run(["explain", "optim.batch_size", "small_batches"], demo_dir)
    assert explain.returncode == 0, explain.stderr
    assert "optim.batch_size = 32 ← small_batches" in explain.stdout


def test_demo_rejects_a_misspelt_view(demo_dir) -> None:
    proc = _run(["quikc"], demo_dir)
    assert proc.returncode != 0
    assert "quick" in proc.stderr
