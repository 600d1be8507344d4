"""The Hydra callback with real hydra-core: a tiny app (hydra_app/train.py) run as a subprocess."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import hydra as hydra_core  # noqa: F401 - the callback under test runs inside Hydra
import pytest

from ato import tracker

APP = pathlib.Path(__file__).parent / "hydra_app" / "train.py"
PROJECT = "hydra_demo"  # set in hydra_app/conf/config.yaml


def run_app(cwd: pathlib.Path, db_url: str, *overrides: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ATO_DB": db_url, "HYDRA_FULL_ERROR": "1"}
    return subprocess.run(
        [sys.executable, str(APP), *overrides],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def runs_of(db_url: str) -> list:
    return tracker.SQLFinder(db_url).get_runs_in_project(PROJECT)


@pytest.fixture
def db_url(tmp_path: pathlib.Path) -> str:
    return f"sqlite:///{tmp_path / 'hydra.db'}"


def test_single_run_records_resolved_config_status_and_return(tmp_path, db_url):
    proc = run_app(tmp_path, db_url, "lr=0.5", "model.depth=3")
    assert proc.returncode == 0, proc.stderr

    (run,) = runs_of(db_url)
    assert run.status == "completed"
    assert run.end_time is not None
    assert run.config.to_dict() == {
        "lr": 0.5,
        "epochs": 3,
        "model": {"depth": 3, "width": "30"},  # ${model.depth}0 resolved
        "fail": False,
    }
    assert "hydra" not in run.config
    assert run.tags == ["integration", "job:train", "override:lr=0.5", "override:model.depth=3"]
    assert run.metric_values("return") == [pytest.approx(1.5)]
    assert run.metric_values("loss") == pytest.approx([1.0, 1 / 1.5, 0.5])
    assert [m.step for m in run.metrics if m.key == "loss"] == [0, 1, 2]


def test_multirun_records_one_run_per_job(tmp_path, db_url):
    proc = run_app(tmp_path, db_url, "--multirun", "lr=0.1,0.2")
    assert proc.returncode == 0, proc.stderr

    runs = runs_of(db_url)
    assert [run.config.lr for run in runs] == [0.1, 0.2]
    assert [run.status for run in runs] == ["completed", "completed"]
    assert [run.metric_values("return") for run in runs] == [
        [pytest.approx(0.2)],
        [pytest.approx(0.4)],
    ]
    for num, run in enumerate(runs):
        assert f"override:lr={run.config.lr}" in run.tags
        assert f"job_num:{num}" in run.tags
        assert any(tag.startswith("sweep:") for tag in run.tags)
    best = tracker.SQLFinder(db_url).find_best_run(PROJECT, "return", mode="max")
    assert best is not None and best.id == runs[1].id


def test_failing_job_is_marked_failed_and_keeps_its_metrics(tmp_path, db_url):
    proc = run_app(tmp_path, db_url, "fail=true")
    assert proc.returncode != 0
    assert "the config asked this job to fail" in proc.stderr

    (run,) = runs_of(db_url)
    assert run.status == "failed"
    assert run.end_time is not None
    assert run.config.fail is True
    assert run.metric_values("return") == []
    assert len(run.metric_values("loss")) == 3  # logged before the failure, flushed by finish


def test_relative_sqlite_path_is_relative_to_the_launch_directory(tmp_path):
    # With chdir=true each job runs in its own output directory; the database must not follow.
    proc = run_app(
        tmp_path,
        "unused",
        "hydra.job.chdir=true",
        "hydra.callbacks.ato.db_url=sqlite:///relative.db",
        "hydra.callbacks.ato.project=other",
        "+hydra.callbacks.ato.metric_key=score",
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "relative.db").exists()

    (run,) = tracker.SQLFinder(f"sqlite:///{tmp_path / 'relative.db'}").get_runs_in_project("other")
    assert run.metric_values("score") == [pytest.approx(0.2)]


def test_current_logger_has_one_contract_none_outside_a_run():
    """ato.tracker.hydra.current_logger and ato.hyperopt.current_logger: context variables,
    None when no job/trial runs in this context (inside one, the app above logs through it)."""
    import contextvars

    from ato.hyperopt import current_logger as trial_logger
    from ato.tracker import hydra as hydra_module

    assert hydra_module.current_logger() is None and trial_logger() is None
    logger = tracker.SQLLogger.from_url("sqlite://", "contract")
    token = hydra_module._CURRENT.set(logger)
    try:
        assert hydra_module.current_logger() is logger
        assert contextvars.Context().run(hydra_module.current_logger) is None  # per context
    finally:
        hydra_module._CURRENT.reset(token)
        logger.close()
    assert hydra_module.current_logger() is None


def test_hydra_runs_record_their_composition_and_can_be_explained(tmp_path, db_url, capsys):
    from ato.tracker.cli import main

    proc = run_app(tmp_path, db_url, "lr=0.5")
    assert proc.returncode == 0, proc.stderr
    (run,) = runs_of(db_url)
    hydra = run.provenance.hydra
    assert hydra.overrides == ["lr=0.5"] and hydra.config_name
    assert run.provenance.argv and run.provenance.python.version
    assert main(["--db", db_url, "runs", "explain", str(run.id), "lr"]) == 0
    assert "lr = 0.5 ← CLI override lr=0.5" in capsys.readouterr().out
    assert main(["--db", db_url, "runs", "explain", str(run.id), "model"]) == 0
    out = capsys.readouterr().out
    assert "model.depth = 2 ← composed config" in out
