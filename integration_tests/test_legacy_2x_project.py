"""A project written for ato 2.x (``legacy_2x_project/``: the seed README's examples and the
2.x module paths) runs unchanged on 3.0: each script is run with 2.x command lines."""

from __future__ import annotations

import shutil
import subprocess
import sys
from ast import literal_eval
from pathlib import Path

import pytest

PROJECT = Path(__file__).parent / "legacy_2x_project"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    target = tmp_path / "project"
    shutil.copytree(PROJECT, target)
    return target


def run(project: Path, script: str, *args: str, code: int = 0, with_stderr: bool = False) -> str:
    proc = subprocess.run(
        [sys.executable, script, *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == code, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr if code or with_stderr else proc.stdout


def test_quickstart_with_2x_command_lines(project: Path) -> None:
    assert run(project, "quickstart.py") == "Training resnet50 with lr=0.001\n"
    out = run(project, "quickstart.py", "lr=0.01", "model=%resnet101%")
    assert out == "Training resnet101 with lr=0.01\n"
    out = run(project, "quickstart.py", "model=%resnet 101%", "batch_size=64")
    assert out == "Training resnet 101 with lr=0.001\n"


def test_priorities_lazy_views_and_manual(project: Path) -> None:
    config = literal_eval(run(project, "priorities.py", "high_lr", "long_training"))
    assert config["lr"] == 0.01 and config["epochs"] == 300
    config = literal_eval(
        run(project, "priorities.py", "base_config", "dataset=%cifar10%", "computed_config")
    )
    assert (config["num_classes"], config["image_size"]) == (10, 32)
    config = literal_eval(run(project, "priorities.py", "base_config", "model=%resnet101%"))
    assert config["num_layers"] == 101
    config = literal_eval(run(project, "priorities.py", "batch_size=128", "adaptive_lr"))
    assert config["lr"] == 0.002
    manual = run(project, "priorities.py", "manual")
    assert "(The Applying Order of Views)" in manual and "lr: Learning rate for optimizer" in manual
    assert "defaults → (CLI Inputs)\n" in manual  # only the views that apply, in order
    views = ["base_config", "high_lr", "long_training", "computed_config", "adaptive_lr"]
    assert ", ".join(views) in manual  # listed apart: they apply only when named
    manual = run(project, "priorities.py", *views, "manual")
    order = "defaults → base_config → high_lr → long_training → (CLI Inputs) → computed_config"
    assert order + " → adaptive_lr" in manual


def test_multiscope(project: Path) -> None:
    out = run(project, "multi.py")
    assert "Model LR: 0.1, Data LR: 0.001" in out and "resnet50 on cifar10" in out
    out = run(project, "multi.py", "model.backbone=%resnet101%", "data.dataset=%imagenet%")
    assert "resnet101 on imagenet" in out
    out = run(project, "multi.py", "resnet101", "imagenet")
    assert "Model LR: 0.05" in out and "resnet101 on imagenet" in out


def test_argparse_integration(project: Path) -> None:
    out = run(project, "argparse_app.py", "--gpu", "1", "lr=0.01")
    assert out == "GPU: 1, LR: 0.01, seed: 42\n"


def test_files_groups_and_xyz_module(project: Path) -> None:
    out = run(project, "files_and_groups.py", with_stderr=True)
    lines = [line for line in out.splitlines() if "Warning" not in line and "import" not in line]
    assert lines == ["True", "False", "[64, 128, 256]", "resnet50 101 imagenet 1"]
    assert "DeprecationWarning: ato.xyz is the ato 2.x module path" in out


def test_tracking_search_and_2x_module_paths(project: Path) -> None:
    assert "backbone=resnet50" in run(project, "train.py")
    assert "lr=0.01" in run(project, "train.py", "high_lr")
    assert "lr=0.5" in run(project, "train.py", "train.lr=0.5", "model.backbone=%vit%")
    out = run(project, "search.py")
    assert "Best config: lr=0.01 batch_size=64" in out
    out = run(project, "legacy_modules.py", "extra.flag=true")
    assert "['train.py', 'layers=[64, 128]', 'name=%my run%', 'train.lr=0.5']" in out
    assert "{'layers': [64, 128], 'name': 'my run', 'train': {'lr': 0.5}}" in out
    assert "{'extra': {'flag': True}}" in out and "['legacy']" in out
    runs = {"1": "0.001", "2": "0.01", "3": "0.5"}
    for run_id, lr in runs.items():
        assert f"{run_id} completed {lr} 0.7 [{{'epochs': 3}}] 0" in out
    best_id, best_lr = out.split("best run ")[1].split()
    assert runs[best_id] == best_lr


def test_the_projects_own_tests_reset_the_registry(project: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "registry_cases.py"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0 and "3 passed" in proc.stdout, proc.stdout + proc.stderr


def test_help_flag_and_2x_raw_text(project: Path) -> None:
    assert '[Scope "config"]' in run(project, "quickstart.py", "--help")
    assert "Training a b with" in run(project, "quickstart.py", 'model:="a b"')
    err = run(project, "quickstart.py", "--local-rank=0", code=2)
    assert "is a flag" in err and "use_external_parser=True" in err


def test_assign_then_apply(project: Path) -> None:
    lines = run(project, "two_step.py", "lr=0.5", "high_lr").splitlines()
    assert lines[:2] == ["0.01 64 0.02", "vit b 0.001 cifar10"]
    assert literal_eval(lines[2]) == {"lr": 0.5, "batch_size": 32, "model": "resnet50"}
    lines = run(project, "two_step.py", "scaled", "batch_size=128").splitlines()
    assert literal_eval(lines[2])["effective_lr"] == 0.004
    err = run(project, "two_step.py", "hihg_lr", code=1)
    assert "high_lr" in err and "UnknownViewError" in err


def test_default_factory_auto_nesting(project: Path) -> None:
    lines = run(project, "auto_nesting.py").splitlines()
    assert literal_eval(lines[0]) == {
        "training": {"optimizer": {"name": "AdamW", "lr": 0.001}},
        "model": {"encoder": {"num_layers": 12}},
    }
    assert literal_eval(lines[1]) == {"loss": [0.9, 0.5, 0.3], "epoch": [0, 1, 2]}
    assert literal_eval(lines[2]) == {"cnn": 2, "vit": 1}
    assert lines[3] == "frozen: ConfigKeyError"


def test_xyz_documents_and_trees(project: Path) -> None:
    out = run(project, "xyz_documents.py")
    assert "[64, 128, 256] -> 0) 64 | 1) 128 | 2) 256" in out
    assert "[[1, 2], [3, [4, 5]]] -> 0) |   0) 1 |   1) 2 | 1) |   0) 3 |" in out
    assert "0.001 -> 0.001" in out and "'resnet50' -> resnet50" in out and "None -> None" in out
    assert "[[0.1, 0.2], [0.3]]" in out
    assert "dict [('model', 'dict'), ('lr', 'item')]" in out and "layers [0, 1]" in out
    assert "model: |   layers: |     0) 64 |     1) 128 | lr: 0.1" in out
    assert "format_dict: " in out and "drop the argument" in out


def test_backtick_strings(project: Path) -> None:
    out = run(project, "backticks.py")
    assert out.splitlines() == ["'%my first run%' 28", "'%100%% sure%' 46"]
    out = run(project, "backticks.py", "a=%x%", "b=%y", code=1)
    assert "'%x%' 5" in out and "CLIParseError" in out and "never closes" in out


def test_tracker_session_best_run_and_trace_statistics(project: Path) -> None:
    lines = run(project, "tracker_queries.py").splitlines()
    assert lines[:6] == [
        "1 completed 0.1 0.62 [{'lr': 0.1}]",
        "2 completed 0.01 0.74 [{'lr': 0.01}]",
        "3 running 0.001 0.4 [{'lr': 0.001}]",
        "running [3]",
        "above 0.6 2",
        "running after finish 0",
    ]
    assert lines[6] == "best 2 1 0.01 completed True ['sweep'] True [{'lr': 0.01}]"
    assert literal_eval(lines[7]) == {
        "project_name": "queries",
        "trace_id": "model.forward",
        "static_trace_versions": 2,
        "runtime_trace_versions": 0,
        "runs": 3,
    }
